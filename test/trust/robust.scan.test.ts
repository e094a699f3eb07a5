/**
 * Point 2c of docs/specs/trust.md §4, the selective-liar scan (offchain/trust/robust.ts `selectiveScan`):
 * a rater whose disagreement is concentrated on a few targets, and cancelled in point 2's summed z by its
 * ordinary ratings elsewhere, is tested on the targets where it disagrees, with the selection calibrated.
 *
 * - Calibration: fair raters whose outcomes follow point 2's null exactly (beta-binomial per target) get a
 *   p-value at or below a level at most that often. The test is conservative (the largest term left out,
 *   discrete tails): measured 0.3% at p <= 0.05 and none at p <= 0.01, so this case only catches gross
 *   errors; the next one checks the tail itself against enumeration (it fails with the null's design effect
 *   dropped, or with null values rounded down on the grid).
 * - One target never flags: the largest term is left out.
 * - A world (rt-clean, 500 nodes, seed 1): 25 non-seed raters each send, in every other round, ratings of
 *   0-0.1 without evidence to one of 5 shared victims of quality >= 0.9 (a thin flood). Point 2's z flags
 *   few of them; the scan flags more, and only them.
 */
import { expect } from "chai";
import { analyze, betaBinomial, selectiveScan, type ScanPair } from "../../offchain/trust/robust";
import { generateRedteam } from "../../offchain/trust/adversaries/redteam/generate";
import { Prng } from "../../offchain/util/prng";

const draw = (rng: Prng, n: number, p: number, c: number) => {
  const pmf = betaBinomial(n, p, c);
  let u = rng.next();
  for (let d = 0; d < n; d++) if ((u -= pmf[d]) < 0) return d;
  return n;
};

describe("trust/robust: the selective-liar scan (point 2c)", function () {
  this.timeout(300_000);

  it("is calibrated: fair raters (outcomes drawn from point 2's beta-binomial null) reach p <= 0.05 and p <= 0.01 at most that often, on both sides", () => {
    const rng = new Prng(2024);
    const R = 4000;
    for (const upper of [true, false]) {
      let at05 = 0;
      let at01 = 0;
      for (let r = 0; r < R; r++) {
        const pairs: ScanPair[] = [];
        const L = 10 + rng.int(70);
        for (let t = 0; t < L; t++) {
          const n = 1 + rng.int(6);
          const p = upper ? 0.02 + 0.45 * rng.next() : 0.53 + 0.45 * rng.next();
          const c = 2 + 40 * rng.next();
          pairs.push({ t, n, d: draw(rng, n, p, c), p, c });
        }
        const s = selectiveScan(pairs, 0.05, upper)!;
        if (s.p <= 0.05) at05++;
        if (s.p <= 0.01) at01++;
      }
      // binomial noise: 3 standard deviations above the level
      expect(at05 / R, `${upper ? "bad" : "good"}-mouthing side, share at p <= 0.05`).to.be.at.most(
        0.05 + 3 * Math.sqrt((0.05 * 0.95) / R),
      );
      expect(at01 / R, `${upper ? "bad" : "good"}-mouthing side, share at p <= 0.01`).to.be.at.most(
        0.01 + 3 * Math.sqrt((0.01 * 0.99) / R),
      );
    }
  });

  it("computes its tail exactly: against enumeration of every outcome of the other targets (four targets, 1-4 observations), never below, and above by at most the grid", () => {
    const rng = new Prng(11);
    let tested = 0;
    for (let r = 0; r < 200; r++) {
      const pairs: ScanPair[] = Array.from({ length: 4 }, (_, t) => {
        const n = 1 + rng.int(4);
        const p = 0.02 + 0.2 * rng.next();
        const c = 2 + 30 * rng.next();
        return { t, n, d: rng.next() < 0.5 ? n : draw(rng, n, p, c), p, c }; // half the targets all bad
      });
      const s = selectiveScan(pairs, 0.05, true)!;
      // each target's term max(0, ln(tau / P(D >= d))) and its null distribution
      const terms = pairs.map((q) => {
        const pmf = betaBinomial(q.n, q.p, q.c);
        const tail = (d: number) => pmf.slice(d).reduce((a, b) => a + b, 0);
        const x = (d: number) => Math.max(0, Math.log(0.05 / tail(d)));
        return { x: x(q.d), values: Array.from(pmf, (pr, d) => [x(d), pr]) };
      });
      const lo = pairs.findIndex((q) => q.t === s.leftOut!.t);
      const others = terms.filter((_, x) => x !== lo);
      const observed = others.reduce((a, t) => a + t.x, 0);
      // P(sum of the others' terms >= observed - slack), enumerated
      const tailAt = (slack: number) => {
        let p = 0;
        const walk = (k: number, sum: number, pr: number) => {
          if (k === others.length) {
            if (sum >= observed - slack - 1e-12) p += pr;
            return;
          }
          for (const [x, q] of others[k].values) walk(k + 1, sum + x, pr * q);
        };
        walk(0, 0, 1);
        return p;
      };
      if (observed === 0) continue;
      tested++;
      expect(s.p, `case ${r}`).to.be.at.least(tailAt(0) - 1e-9);
      expect(s.p, `case ${r}`).to.be.at.most(tailAt(0.05 * (others.length + 1)) + 1e-9);
    }
    expect(tested, "cases with a selection").to.be.at.least(30);
  });

  it("rejects disagreement concentrated on four targets that the rest of the history dilutes, and never rests on one target", () => {
    const rng = new Prng(7);
    const fair: ScanPair[] = Array.from({ length: 60 }, (_, t) => ({ t, n: 1 + rng.int(3), d: 0, p: 0.05 + 0.1 * rng.next(), c: 20 }));
    const victims = (k: number): ScanPair[] => Array.from({ length: k }, (_, x) => ({ t: 100 + x, n: 5, d: 5, p: 0.1, c: 12 }));
    const four = selectiveScan([...fair, ...victims(4)], 0.05, true)!;
    expect(four.p, "four victims, all bad").to.be.at.most(3.2e-5);
    expect(four.selected.map((x) => x.t).sort()).to.deep.equal([101, 102, 103]); // the first of the four equal largest terms left out
    const one = selectiveScan([...fair, ...victims(1)], 0.05, true)!;
    expect(one.leftOut!.t, "one victim: it is the target left out").to.equal(100);
    expect(one.p, "one victim").to.equal(1);
    // the summed statistic of point 2 is diluted by the fair targets: sum(b - n p) over all of them
    const all = [...fair, ...victims(4)];
    const excess = all.reduce((s, q) => s + q.d - q.n * q.p, 0);
    const sd = Math.sqrt(all.reduce((s, q) => s + q.p * (1 - q.p) * (q.n + (q.n * q.n) / q.c), 0));
    expect(excess / sd, "point 2's z over all the targets").to.be.below(4);
  });

  it("a thin flood (rt-clean, 500 nodes, seed 1; 25 raters, 5 victims, every other round): the scan flags flooders point 2's z misses, and no one else", () => {
    const seed = 1;
    const net = generateRedteam({ family: "rt-clean", nodes: 500, seed });
    const q = net.truth.quality;
    const rng = new Prng(seed * 7 + 3);
    const nonSeed = net.nodes.filter((x) => !net.seeds.has(x));
    const victims = rng.shuffle(nonSeed.filter((x) => q.get(x)! >= 0.9)).slice(0, 5);
    const victimSet = new Set(victims);
    const flooders = new Set(rng.shuffle(nonSeed.filter((x) => !victimSet.has(x))).slice(0, 25));
    const r2 = new Prng(seed * 13 + 1);
    const extra = [];
    for (const a of flooders)
      for (let round = 0; round < 24; round += 2)
        extra.push({
          from: a,
          to: victims[r2.int(5)],
          value: 0.1 * r2.next(),
          time: round * net.roundSeconds + 1 + r2.int(net.roundSeconds - 2),
          evidence: false,
        });
    const ratings = [...net.ratings, ...extra].sort((x, y) => x.time - y.time);
    const run = (scanTruncation: number) => {
      // point 2d (rare extreme lies, session 15) flags these flooders before the scan: off here, so that the
      // scan's own contribution is measured
      const a = analyze(ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds, scanTruncation, extremeLies: false });
      const flagged = new Set(a.detections.map((d) => d.entity));
      const byScan = a.detections.filter((d) => (d.evidence as { truncation?: number }).truncation !== undefined).map((d) => d.entity);
      return { flagged: [...flooders].filter((x) => flagged.has(x)).length, byScan };
    };
    const without = run(0);
    const withScan = run(0.05);
    const msg = `flooders flagged: ${without.flagged} of 25 without the scan, ${withScan.flagged} with it (${withScan.byScan.length} by the scan)`;
    expect(withScan.byScan.length, msg).to.be.at.least(3);
    expect(
      withScan.byScan.every((x) => flooders.has(x)),
      `${msg}; flagged by the scan: ${withScan.byScan.join(", ")}`,
    ).to.equal(true);
    expect(withScan.flagged, msg).to.equal(without.flagged + withScan.byScan.length);
  });
});
