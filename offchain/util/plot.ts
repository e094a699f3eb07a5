/**
 * Figures through Vega-Lite (compiled by `vega-lite`, rendered to SVG in Node by `vega`; PNG through
 * `@resvg/resvg-js` so a figure can be looked at). Every simulation and benchmark figure goes through
 * here: round ticks ("nice" scales), optional 95% interval bands, a distinct colour, dash and point
 * shape per series so overlapping lines stay visible, and axis titles given by the caller.
 */
import fs from "fs";
import path from "path";

/** One point of a series; `lo`/`hi` bound its 95% interval when the data has one. */
export type Point = { x: number; y: number; lo?: number; hi?: number };
export type Series = { name: string; points: ([number, number] | Point)[] };

export type LineChart = {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  yMin?: number;
  yMax?: number;
  /** plot area in pixels */
  width?: number;
  height?: number;
  /** log-scaled x axis (e.g. node counts 500, 5,000, 50,000) */
  xLog?: boolean;
};

const DASHES = [
  [1, 0],
  [6, 3],
  [2, 2],
  [8, 3, 2, 3],
  [4, 4],
  [1, 3],
];

function rows(series: Series[]) {
  return series.flatMap((s, i) =>
    s.points.map((p) => {
      const q: Point = Array.isArray(p) ? { x: p[0], y: p[1] } : p;
      return { series: s.name, order: i, x: q.x, y: q.y, lo: q.lo ?? null, hi: q.hi ?? null };
    }),
  );
}

/** The Vega-Lite specification of a line chart (exported so a test can check what is drawn). */
export function lineChartSpec(o: LineChart): Record<string, unknown> {
  for (const s of o.series)
    for (const p of s.points) {
      const y = Array.isArray(p) ? p[1] : p.y;
      const x = Array.isArray(p) ? p[0] : p.x;
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`plot: series "${s.name}" has a non-finite point (${x}, ${y})`);
    }
  const names = o.series.map((s) => s.name);
  const yScale: Record<string, unknown> = { nice: true, zero: false };
  if (o.yMin !== undefined || o.yMax !== undefined) {
    const ys = rows(o.series).flatMap((r) => [r.y, r.lo ?? r.y, r.hi ?? r.y]);
    yScale.domain = [o.yMin ?? Math.min(...ys), o.yMax ?? Math.max(...ys)];
  }
  const color = { field: "series", type: "nominal", title: null, sort: names, legend: { orient: "right", labelLimit: 260 } };
  const x = { field: "x", type: "quantitative", title: o.xLabel, scale: { nice: true, ...(o.xLog ? { type: "log" } : { zero: false }) } };
  const hasBands = rows(o.series).some((r) => r.lo !== null && r.hi !== null);
  const layers: Record<string, unknown>[] = [];
  if (hasBands)
    layers.push({
      transform: [{ filter: "datum.lo !== null && datum.hi !== null" }],
      mark: { type: "errorband", opacity: 0.18 },
      encoding: { x, y: { field: "lo", type: "quantitative", title: o.yLabel, scale: yScale }, y2: { field: "hi" }, color },
    });
  layers.push({
    mark: { type: "line", point: { filled: false, size: 45 }, strokeWidth: 2 },
    encoding: {
      x,
      y: { field: "y", type: "quantitative", title: o.yLabel, scale: yScale },
      color,
      strokeDash: {
        field: "series",
        type: "nominal",
        sort: names,
        scale: { domain: names, range: names.map((_, i) => DASHES[i % DASHES.length]) },
        legend: null,
      },
      shape: { field: "series", type: "nominal", sort: names, legend: null },
      order: { field: "order" },
    },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: o.title,
    width: o.width ?? 480,
    height: o.height ?? 300,
    background: "white",
    data: { values: rows(o.series) },
    layer: layers,
    config: { font: "sans-serif", axis: { tickCount: 6 } },
  };
}

/** Renders any Vega-Lite specification to an SVG string. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vega = require("vega") as typeof import("vega");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vl = require("vega-lite") as typeof import("vega-lite");
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const compiled = vl.compile(spec as any).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** An SVG line chart (see `LineChart`). */
export async function lineChart(o: LineChart): Promise<string> {
  return renderSvg(lineChartSpec(o));
}

/** Rasterizes an SVG to PNG, for looking at a figure (`npx hardhat ...` writes the SVG; this the PNG). */
export function svgToPng(svg: string): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Resvg } = require("@resvg/resvg-js") as typeof import("@resvg/resvg-js");
  return Buffer.from(new Resvg(svg, { background: "white", fitTo: { mode: "zoom", value: 1.5 } }).render().asPng());
}

/** Writes `file` (.svg) and, when FIGURES_PNG=1, a PNG next to it. */
export function writeFigure(file: string, svg: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, svg);
  if (process.env.FIGURES_PNG === "1") fs.writeFileSync(file.replace(/\.svg$/, ".png"), svgToPng(svg));
}
