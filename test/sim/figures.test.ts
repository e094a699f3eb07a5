import { expect } from "chai";
import fs from "fs";
import path from "path";
import { mssaDetectionChart, throughputChart } from "../../offchain/sim/figures";

const REPORTS = path.resolve(__dirname, "..", "..", "reports");

describe("sim/figures: the committed figures", () => {
  it("every reports/*.svg is a Vega rendering (offchain/util/plot.ts), none hand-drawn", () => {
    const svgs = fs.readdirSync(REPORTS).filter((f) => f.endsWith(".svg"));
    expect(svgs.length).to.be.greaterThanOrEqual(9);
    for (const f of svgs) expect(fs.readFileSync(path.join(REPORTS, f), "utf8").slice(0, 400), f).to.match(/<svg [^>]*class="marks"/);
  });

  it("throughput charts carry each series' 95% interval; the detection chart bounds its simulated rates in [0, 1]", () => {
    const t = throughputChart("fig5", [{ x: 1, without: 11.55, with: 11.34, ci: 0.13 }]);
    const [without, withRsms] = t.series.map((s) => s.points[0] as { x: number; y: number; lo: number; hi: number });
    expect([without.y, without.lo, without.hi]).to.deep.equal([11.55, 11.55 - 0.13, 11.55 + 0.13]);
    expect([withRsms.y, withRsms.lo, withRsms.hi]).to.deep.equal([11.34, 11.34 - 0.13, 11.34 + 0.13]);
    const d = mssaDetectionChart([{ d: 64, trials: 4000, any: 1, theory: 1, threshold: 0.5, thresholdTheory: 0.5 }]);
    expect(d.xLog).to.equal(true);
    expect(d.series[0].points[0]).to.deep.equal({ x: 64, y: 1, lo: 1, hi: 1 });
    const half = d.series[2].points[0] as { lo: number; hi: number };
    expect(half.hi - half.lo).to.be.closeTo(2 * 1.96 * Math.sqrt(0.25 / 4000), 1e-12);
  });

  it("throughput-fig{5,6,7}.svg and mssa-detection.svg are what `npm run figures` draws from the committed CSV files", async () => {
    const { figuresFromCsv } = await import("../../scripts/figures");
    const figs = await figuresFromCsv(REPORTS);
    expect(Object.keys(figs)).to.have.length(4);
    for (const [name, svg] of Object.entries(figs)) expect(fs.readFileSync(path.join(REPORTS, name), "utf8"), name).to.equal(svg);
  });
});
