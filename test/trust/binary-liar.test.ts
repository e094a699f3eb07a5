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
 * Measured, seed 1 / seed 2: victims' trust honest 0.837 / 0.830; loss with binary liars 0.032 / 0.035
 * (25 of 25 flagged), with continuous liars 0.033 / 0.037 (25 of 25), with harsh raters 0.040 / 0.042. With
 * rule 2a: binary liars 0.136 / 0.166 (1 of 25 flagged). The honest harsh raters are themselves flagged
 * (24-25 of 25): that is the thumbs raters' FPR, an open goal of issue 15 tracked by
 * test/trust/detection-goals.findings.test.ts (rt-strict-cluster), not asserted here.
 */
import { expect } from "chai";
import { generateRedteam } from "../../offchain/trust/adversaries/redteam/generate";
import { analyze } from "../../offchain/trust/robust";
import { Prng } from "../../offchain/util/prng";

type Mode = "honest" | "harsh" | "binaryLiar" | "continuousLiar";

function attackWorld(seed: number) {
  const net = generateRedteam({ family: "rt-clean", nodes: 500, seed });
  const q = net.truth.quality;
  const rng = new Prng(seed * 7 + 3);
  const nonSeed = net.nodes.filter((x) => !net.seeds.has(x));
  const victims = rng.shuffle(nonSeed.filter((x) => q.get(x)! >= 0.9)).slice(0, 5);
  const victimSet = new Set(victims);
  const attackers = new Set(rng.shuffle(nonSeed.filter((x) => !victimSet.has(x))).slice(0, 25));
  const ratings = (mode: Mode) => {
    const r2 = new Prng(seed * 13 + 1); // the same redirections and draws in every mode
    const redirected = new Set<string>();
    return net.ratings.map((r) => {
      if (!attackers.has(r.from)) return r;
      let to = r.to;
      const key = `${r.from}/${Math.floor(r.time / net.roundSeconds)}`;
      if (!redirected.has(key)) {
        redirected.add(key);
        to = victims[r2.int(victims.length)];
      }
      // simulated satisfaction of a redirected interaction: quality plus noise (sd 0.2), clipped
      const honest = to === r.to ? r.value : Math.min(1, Math.max(0, q.get(to)! + 0.2 * r2.normal()));
      const lie = 0.2 * r2.next();
      let value = honest;
      if (mode === "harsh") value = honest >= 0.8 ? 0.9 : 0.1;
      else if (mode === "binaryLiar") value = victimSet.has(to) ? 0.1 : honest >= 0.5 ? 0.9 : 0.1;
      else if (mode === "continuousLiar") value = victimSet.has(to) ? lie : honest;
      return { ...r, to, value };
    });
  };
  const run = (mode: Mode) => {
    const a = analyze(ratings(mode), net.nodes, net.seeds, { epochSeconds: net.roundSeconds });
    const flagged = new Set(a.detections.map((d) => d.entity));
    return {
      victimTrust: victims.reduce((s, x) => s + a.trust.get(x)!, 0) / victims.length,
      attackersFlagged: [...attackers].filter((x) => flagged.has(x)).length,
    };
  };
  return { run };
}

describe("trust/robust: a bad-mouther on a binary scale (h12-red2 T1)", function () {
  this.timeout(300_000);
  for (const seed of [1, 2]) {
    it(`seed ${seed}: binary liars who put every "down" on 5 victims are flagged like continuous ones and do no more harm than honest harsh raters`, () => {
      const w = attackWorld(seed);
      const honest = w.run("honest");
      const harsh = w.run("harsh");
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
