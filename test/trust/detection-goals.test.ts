/**
 * Issue 15's goals, read from the committed results (nothing is run here; a closed finding since session 25): per-attack
 * detection of at least 90% in every family of the adversary suite but whitewash, FPR with victims of at most 5% in
 * every population (the suite's and the red team's), honest damage of at most 0.05 and no boosted bad
 * provider above the honest median where measured. A case fails while its family misses the goal in
 * `bench/results/trust-detection.json` or `trust-redteam{,-r2}.json` (refresh them with `sim:attacks`
 * and `sim:redteam`); docs/specs/trust.md §4 says why each open one is open.
 *
 * Whitewash is held to the goal issue 15 states for it, "answered together with the identity layer"
 * (docs/specs/trust.md §6), not to a behaviour flag: on behaviour alone no detector reaches 90% at
 * these parameters (the oracle bound, trust.md §4), and its behaviour-only detection stays reported in
 * trust-detection.md. Read from `trust-whitewash.json`'s study (`sim:whitewash`, offchain/sim/whitewash.ts:
 * the family with honest newcomers, half of them unverified), per seed, under the identity layer: a
 * fresh identity starts below what the whitewasher sheds, no fresh identity is ever in standing (trust
 * at or above Trust_min), whitewashing delivers fewer bad services in standing than the same seed
 * without whitewashing, and the FPR with the honest newcomers in it is at most 5%. A size the study did
 * not run fails. The same numbers under `behaviour only` (the layer removed) fail the first three.
 *
 * Session 18 (nothing changed in the detectors; rows re-run with session 17's, 3c/3d on): every row at 500 nodes;
 * at 5,000 nodes (3 seeds) every family; at 50,000 nodes (seed 101) onoff-under-window, onoff-random,
 * honest-noisy, collusive-ring, sybil-late, sybil-attack-edges, camouflage and flood.
 * The whitewash row at 50,000 is session 11's, as trust-detection.md says row by row. Every detection,
 * FPR, damage and boosted case passes at every size (on-off at 50,000: 92.4% and 96.1%); open is whitewash at
 * 50,000 nodes only (no study there: one seed would take about two hours on this machine).
 * Session 25: the whitewash study at 50,000 nodes (seed 101) finished (`sim:whitewash --scale 50000 --seeds 1
 * --jobs 2`, resumed over two sessions from its checkpoint: the study 9,717 s of compute over two runs, the whitewash
 * family's suite rows 797 s): identity layer, fresh identity starts at 0.05 against 0.18 shed, no fresh identity-round in
 * standing, 3.2 bad services in standing against 4.7 without whitewashing, FPR with newcomers 0.6%. Every case
 * passes, so this file is a regular test (a committed row that misses a goal fails `npm test`).
 * The cases are generated per committed row, so they stay in this one file.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";

type Mean = { detection: number; fprWithVictims: number; damage: number; boostedAboveMedian: number };
type Row = { family: string; nodes: number; honestOnly?: boolean; results: Record<string, { mean: Mean }> };
type Rule = {
  freshStart: number;
  shedEnd: number;
  freshInStanding: number;
  badInStandingWith: number;
  badInStandingWithout: number;
  paysInStanding: number;
};
type StudySeed = { nodes: number; seed: number; fpr: number; rules: Record<"identity layer" | "behaviour only", Rule> };
const read = (file: string): Row[] =>
  JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "bench", "results", file), "utf8"), (_k, v) => (v === null ? NaN : v)).rows;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const study: StudySeed[] =
  JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "bench", "results", "trust-whitewash.json"), "utf8")).study?.seeds ?? [];
/** the rule the whitewash goals are read under (the identity layer; "behaviour only" is the layer removed) */
const RULE = "identity layer" as const;

/** Whitewash's goals at one size (see the header). */
function whitewashGoals(at: string, nodes: number) {
  const ss = study.filter((x) => x.nodes === nodes);
  const list = (g: (x: StudySeed) => string) => ss.map(g).join(", ");
  it(`${at}: measured with the identity layer and honest newcomers (${ss.length} seeds)`, () => expect(ss.length).to.be.at.least(1));
  if (!ss.length) return;
  const r = (x: StudySeed) => x.rules[RULE];
  it(`${at}, identity layer: a fresh identity starts below what the whitewasher sheds (${list((x) => `${r(x).freshStart.toFixed(2)} < ${r(x).shedEnd.toFixed(2)}`)})`, () => {
    for (const x of ss) expect(r(x).freshStart, `seed ${x.seed}`).to.be.lessThan(r(x).shedEnd);
  });
  it(`${at}, identity layer: no fresh identity in standing (${list((x) => pct(r(x).freshInStanding))} of fresh identity-rounds at or above Trust_min)`, () => {
    for (const x of ss) expect(r(x).freshInStanding, `seed ${x.seed}`).to.equal(0);
  });
  it(`${at}, identity layer: whitewashing delivers fewer bad services in standing than keeping the identity (${list((x) => `${r(x).badInStandingWith.toFixed(1)} < ${r(x).badInStandingWithout.toFixed(1)}`)}; it pays ${list((x) => pct(r(x).paysInStanding))} of whitewashers)`, () => {
    for (const x of ss) expect(r(x).badInStandingWith, `seed ${x.seed}`).to.be.lessThan(r(x).badInStandingWithout);
  });
  it(`${at}: FPR with honest newcomers <= 5% (${list((x) => pct(x.fpr))})`, () => {
    for (const x of ss) expect(x.fpr, `seed ${x.seed}`).to.be.at.most(0.05);
  });
}

describe("trust detection: issue 15's goals on the committed results (open findings)", () => {
  for (const r of read("trust-detection.json")) {
    const m = r.results.metatrust.mean;
    const at = `${r.family} at ${r.nodes.toLocaleString("en-US")} nodes`;
    if (r.family === "whitewash") whitewashGoals(at, r.nodes);
    else if (r.family !== "honest-noisy")
      it(`${at}: detection >= 90% (${pct(m.detection)})`, () => expect(m.detection).to.be.at.least(0.9));
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
