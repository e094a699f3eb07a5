/**
 * Open findings (issue 15's goals, read from the committed results; nothing is run here): per-attack
 * detection of at least 90% in every family of the adversary suite, FPR with victims of at most 5% in
 * every population (the suite's and the red team's), honest damage of at most 0.05 and no boosted bad
 * provider above the honest median where measured. A case fails while its family misses the goal in
 * `bench/results/trust-detection.json` or `trust-redteam{,-r2}.json` (refresh them with `sim:attacks`
 * and `sim:redteam`); docs/specs/trust.md §4 says why each open one is open.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";

type Mean = { detection: number; fprWithVictims: number; damage: number; boostedAboveMedian: number };
type Row = { family: string; nodes: number; honestOnly?: boolean; results: Record<string, { mean: Mean }> };
const read = (file: string): Row[] =>
  JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "bench", "results", file), "utf8"), (_k, v) => (v === null ? NaN : v)).rows;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

describe("trust detection: issue 15's goals on the committed results (open findings)", () => {
  for (const r of read("trust-detection.json")) {
    const m = r.results.metatrust.mean;
    const at = `${r.family} at ${r.nodes.toLocaleString("en-US")} nodes`;
    if (r.family !== "honest-noisy") it(`${at}: detection >= 90% (${pct(m.detection)})`, () => expect(m.detection).to.be.at.least(0.9));
    it(`${at}: FPR with victims <= 5% (${pct(m.fprWithVictims)})`, () => expect(m.fprWithVictims).to.be.at.most(0.05));
    if (Number.isFinite(m.damage)) it(`${at}: honest damage <= 0.05 (${m.damage.toFixed(3)})`, () => expect(m.damage).to.be.at.most(0.05));
    if (Number.isFinite(m.boostedAboveMedian))
      it(`${at}: no boosted bad provider above the honest median (${pct(m.boostedAboveMedian)})`, () =>
        expect(m.boostedAboveMedian).to.equal(0));
  }
  for (const r of [...read("trust-redteam.json"), ...read("trust-redteam-r2.json")]) {
    const m = r.results.metatrust.mean;
    it(`red team ${r.family} at ${r.nodes.toLocaleString("en-US")} nodes: FPR with victims <= 5% (${pct(m.fprWithVictims)})`, () =>
      expect(m.fprWithVictims).to.be.at.most(0.05));
  }
});
