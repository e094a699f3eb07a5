/**
 * Finding (session 13): bad-mouthers who lie rarely. The world of test/trust/binary-liar.test.ts (rt-clean,
 * 500 nodes, seeds 1-2; 25 non-seed raters, 5%, against 5 victims of quality >= 0.9), but each attacker
 * redirects an interaction to a victim only in every third round: 8 lies each over 24 rounds, 200 in all,
 * against about as many honest observations of the victims. Each liar's lies are too few for point 2
 * (z >= 4) or the tail test, on either scale; together they are the victims' majority.
 *
 * Measured with session 13's detectors, seed 1 / seed 2: continuous liars (0-0.2 on the victims) 0 / 0 of
 * 25 flagged, victims' trust lowered by 0.387 / 0.542; binary liars (0.1 / 0.9) 0 / 5 of 25, 0.363 /
 * 0.519; honest harsh thumbs raters (redirected alike) cost the victims 0.021 / 0.026. Before session 13 the binary liars
 * were 9 / 11 of 25 flagged (0.156 / 0.255): their 0.1s were read on the continuous scale, where the
 * honest harsh raters' were too (24 / 24 of 25 flagged). What is missing is not a per-rater test but a
 * bound on what raters who are each under every threshold can do together to one target (effective trust
 * anchored on the seeds' view of the target, as the reference already is; docs/specs/trust.md §4, point 2a).
 *
 * Session 15 (point 2d, rare extreme lies): unchanged, 0 / 0 and 0 / 5 of 25, the same losses. Before 2d
 * had its disputed-target rule it flagged most of the continuous liars (at level 0.01: seed 1 within both
 * bounds, seed 2 22 of 25 with a victims' loss of 0.064 against 0.542; at 0.001, seed 2: 19 of 25), and few
 * binary ones (4 / 6 of 25: their lies raise their own bar), but the same reading flagged honest raters of a
 * provider that serves the seeds well and everyone else badly (rt-sybil-seed-court: FPR 26% at 500 nodes).
 * The liars are their victims' majority: what the seeds see there is disputed by most other raters, honest
 * or not, and 2d does not read disputed targets (docs/specs/trust.md §4, point 2d (d)).
 *
 * Session 18 (session 17's detectors, 3c on by default): worse than above. Point 3c reads the victims' two levels
 * within epochs (the liars' lows beside everyone else's highs) as aimed service and flags them on-off: continuous
 * liars 0 / 0 of 25 flagged, victims flagged 5 / 5, their trust 0.125 / 0.104 against 0.829 / 0.825 without the
 * liars (loss 0.70 / 0.72); binary liars 0 / 5 of 25, victims flagged 4 / 5, loss 0.59 / 0.71; honest harsh raters
 * 0.022 / 0.026. Why flags cannot close it on ratings alone: test/trust/discriminated-raters.test.ts gives the
 * same 25 raters the same interactions as honest clients whom the 5 providers serve at quality 0.1 (a
 * discriminating provider), and every detector result is the same to within a rater or two (2d without its
 * disputed-target rule: 23 / 19 liars flagged, 24 / 19 honest complainants flagged). Telling the two apart takes
 * evidence the ratings do not carry (what the service to the complaining rater was, observed by someone other
 * than that rater); notes/s18/s18-sparse.md.
 *
 * Fails while the finding is open: at least 20 of 25 liars flagged and no more harm than twice the honest
 * harsh raters', on each scale.
 */
import { expect } from "chai";
import { attackWorld } from "../helpers/binary-liar-world";

describe("trust/robust (finding): bad-mouthers who lie in one round of three", function () {
  this.timeout(600_000);
  for (const seed of [1, 2])
    for (const mode of ["continuousLiar", "binaryLiar"] as const)
      it(`seed ${seed}, ${mode === "binaryLiar" ? "binary" : "continuous"} scale: at least 20 of 25 flagged, and at most twice the honest harsh raters' harm`, () => {
        const w = attackWorld(seed, 3);
        const honest = w.run("honest");
        const harsh = w.run("harsh");
        const liars = w.run(mode);
        const loss = honest.victimTrust - liars.victimTrust;
        const msg = `victims' loss ${loss.toFixed(3)} (harsh raters' ${(honest.victimTrust - harsh.victimTrust).toFixed(3)}), ${liars.attackersFlagged}/25 flagged`;
        expect(liars.attackersFlagged, msg).to.be.at.least(20);
        expect(loss, msg).to.be.at.most(2 * Math.max(0.01, honest.victimTrust - harsh.victimTrust));
      });
});
