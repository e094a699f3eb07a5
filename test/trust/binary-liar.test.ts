/**
 * A bad-mouther on a binary scale (red team h12-red2, T1): it rates with exactly two values, 0.1 and 0.9,
 * puts every "down" on chosen victims and says "up" everywhere else it is satisfied at 0.5. Session 12
 * tried comparing binary raters at their own bar (docs/specs/trust.md §4, point 2a: the bar fitted to the
 * rater's total of downs); this attacker escaped it (1 of 25 flagged) and cut its victims' trust by
 * 0.14-0.17, five times what honest harsh thumbs raters cost them, so the rule was reverted before it
 * landed. This test keeps the attack: any treatment of binary raters must still flag such liars and
 * leave their victims no worse off than honest harsh raters would.
 *
 * The world: the suite's honest population (generateRedteam "rt-clean", 500 nodes, seeds 1-2, draw for
 * draw); 5 non-seed providers of quality >= 0.9 are the victims, 25 non-seed honest raters (5%) are the
 * attackers. In every attacked variant each attacker replaces its first interaction of a round by one with
 * a random victim (a real service, so it carries evidence; its satisfaction is simulated as the generator's:
 * the victim's quality plus noise of sd 0.2). The same interactions are rated four ways:
 * honest (their own continuous values), harsh (honest thumbs with a bar of 0.8 on their own scale),
 * binary liar (0.1 for every victim, else 0.9 when satisfied at 0.5), continuous liar (0-0.2 for every
 * victim, else honest).
 *
 * Session 13 brought the bar back behind a gate (trust.md §4 point 2a): a binary rater is compared at its
 * bar only when one bar explains its downs on every target (a likelihood-ratio test, target by target, at
 * alpha per rater). Measured, seed 1 / seed 2: victims' trust honest 0.837 / 0.830; loss with binary liars
 * 0.032 / 0.035 (25 of 25 flagged), with continuous liars 0.033 / 0.037 (25 of 25), with honest harsh raters
 * 0.033 / 0.030 (1 / 0 of 25 flagged, where they were 24-25 of 25 before session 13). Without the gate (the
 * bar granted to every binary rater, session 12's rule): binary liars 0.136 / 0.166, 1 / 1 of 25 flagged.
 */
import { expect } from "chai";
import { attackWorld } from "../helpers/binary-liar-world";

describe("trust/robust: a bad-mouther on a binary scale (h12-red2 T1) beside honest harsh thumbs raters", function () {
  this.timeout(300_000);
  for (const seed of [1, 2]) {
    it(`seed ${seed}: binary liars who put every "down" on 5 victims are flagged like continuous ones and do no more harm than honest harsh raters, who are not flagged`, () => {
      const w = attackWorld(seed);
      const honest = w.run("honest");
      const harsh = w.run("harsh");
      // honest harsh raters keep their bar (24-25 of 25 were flagged when every binary rater was tested at 0.5)
      expect(harsh.attackersFlagged, "honest harsh thumbs raters flagged, of 25").to.be.at.most(2);
      const cont = w.run("continuousLiar");
      const bin = w.run("binaryLiar");
      const loss = (x: { victimTrust: number }) => (honest.victimTrust - x.victimTrust).toFixed(3);
      const msg = `victims' trust honest ${honest.victimTrust.toFixed(3)}, loss: harsh ${loss(harsh)}, continuous liars ${loss(cont)} (${cont.attackersFlagged}/25 flagged), binary liars ${loss(bin)} (${bin.attackersFlagged}/25 flagged)`;
      // the world is an attack the detectors see when it is made on the continuous scale
      expect(cont.attackersFlagged, msg).to.be.at.least(20);
      // the attack
      expect(bin.attackersFlagged, `binary liars flagged, of 25: ${msg}`).to.be.at.least(20);
      expect(honest.victimTrust - bin.victimTrust, `binary liars' damage vs 2 x harsh raters': ${msg}`).to.be.at.most(
        2 * Math.max(0.01, honest.victimTrust - harsh.victimTrust),
      );
    });
  }
});
