/**
 * `npm run figures`: draws the figures whose data is committed as CSV again, through the current
 * plotting code (offchain/util/plot.ts), without running a simulation or a benchmark: RSMS Figs. 5-7
 * (reports/throughput-fig{5,6,7}.csv, written by `sim:throughput`) and the MSSA detection figure
 * (reports/mssa-detection.csv, written by bench/mssa.bench.ts). FIGURES_PNG=1 also writes PNGs.
 */
import fs from "fs";
import path from "path";
import { lineChart, writeFigure } from "../offchain/util/plot";
import { THROUGHPUT_FIGURES, mssaDetectionChart, throughputChart, type ThroughputFigure } from "../offchain/sim/figures";

const REPORTS = path.resolve(__dirname, "..", "reports");

/** A CSV file's rows as numbers, by column name. */
function csv(file: string): Record<string, number>[] {
  const [head, ...lines] = fs.readFileSync(file, "utf8").trim().split("\n");
  const cols = head.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i], Number(v)])));
}

/**
 * The SVG of each figure drawn from its CSV file in `reports`.
 * @param reports - the reports folder
 * @returns SVG text by file name (`throughput-fig5.svg`, ...)
 */
export async function figuresFromCsv(reports = REPORTS): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const fig of Object.keys(THROUGHPUT_FIGURES) as ThroughputFigure[]) {
    const rows = csv(path.join(reports, `throughput-${fig}.csv`)).map((r) => ({
      x: r.x,
      without: r.tp_without_rsms,
      with: r.tp_with_rsms,
      ci: r.ci95,
    }));
    out[`throughput-${fig}.svg`] = await lineChart(throughputChart(fig, rows));
  }
  const det = csv(path.join(reports, "mssa-detection.csv")).map((r) => ({
    d: r.decoys,
    trials: r.trials,
    any: r.any_error_detection,
    theory: r.theory_1_minus_3_4_pow_d,
    threshold: r["threshold_0.11_detection"],
    thresholdTheory: r.threshold_theory,
  }));
  out["mssa-detection.svg"] = await lineChart(mssaDetectionChart(det));
  return out;
}

if (require.main === module)
  figuresFromCsv()
    .then((figs) => {
      for (const [name, svg] of Object.entries(figs)) writeFigure(path.join(REPORTS, name), svg);
      console.log(`wrote ${Object.keys(figs).join(", ")} in reports/ from their CSV files`);
    })
    .catch((e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    });
