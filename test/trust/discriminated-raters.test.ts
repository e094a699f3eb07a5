/**
 * The sparse liars' mirror (session 18). The world of test/trust/sparse-liar.findings.test.ts (rt-clean, 500
 * nodes, seeds 1-2; 25 non-seed raters meet 5 providers of quality >= 0.9 in one round of three), but the 25
 * are honest and the 5 providers serve them, and only them, at quality 0.1 (the same interactions and noise
 * draws; the seeds and everyone else are served at the providers' own quality): a discriminating provider
 * (Dellarocas, EC 2000). The ratings have the sparse liars' shape: 25 raters, each under every per-rater
 * threshold, who together are the majority of the very low ratings of 5 targets that the seeds and the
 * other raters find good. A continuous liar that draws its lies as clip(0.1 + noise) instead of 0-0.2
 * writes exactly this history, so no detector that reads ratings can flag those liars without flagging
 * these honest raters (docs/specs/trust.md §4, point 2d (d)).
 *
 * What the detectors do, and what this test keeps: point 2d does not read a disputed target (the other
 * raters' very low ratings beyond what the seeds' share allows), so the honest complainants are not flagged
 * for telling the truth; and point 3c reads the providers' aimed service (two levels within epochs, as it
 * does for rt-sybil-seed-court's Sybils) and flags them. Measured with session 17's detectors, seed 1 /
 * seed 2: 0 / 0 of 25 complainants flagged, 5 / 5 providers flagged (the sparse liars' victims: 5 / 5 too). With
 * 2d's disputed-target rule removed (session 15's first 2d, the last attempt at the sparse-liar finding): 24 / 19
 * of 25 complainants flagged and 0 / 4 providers, as the same change flags 23 / 19 of the 25 sparse liars. With
 * 3c off: 2 / 3 providers flagged (point 3 alone). Any fix of the sparse-liar finding
 * that reads only ratings has to pass this test too; session 18's report (notes/s18/s18-sparse.md) says why
 * that takes evidence the ratings do not carry.
 */
import { expect } from "chai";
import { attackWorld } from "../helpers/binary-liar-world";

describe("trust/robust: honest raters whom a provider serves badly while it serves the seeds well (the sparse liars' mirror)", function () {
  this.timeout(600_000);
  for (const seed of [1, 2])
    it(`seed ${seed}: the 25 complainants are not flagged for their ratings, the 5 discriminating providers are`, () => {
      const w = attackWorld(seed, 3);
      const r = w.run("discriminated");
      expect(r.attackersFlagged, "honest complainants flagged, of 25").to.be.at.most(2);
      expect(r.victimsFlagged, "discriminating providers flagged, of 5").to.be.at.least(4);
    });
});
