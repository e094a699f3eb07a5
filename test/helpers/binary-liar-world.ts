/**
 * The world of test/trust/binary-liar.test.ts (h12-red2 T1), shared with test/trust/sparse-liar.findings.test.ts.
 */
import { generateRedteam } from "../../offchain/trust/adversaries/redteam/generate";
import { analyze } from "../../offchain/trust/robust";
import { Prng } from "../../offchain/util/prng";

/**
 * How the 25 chosen raters rate (every other rating is the generator's): honest, harsh (honest thumbs at a bar of
 * 0.8), binaryLiar / continuousLiar (bad-mouthers of the 5 victims), or discriminated: honest, and the 5 "victims"
 * serve them badly (session 18: the sparse liars' mirror; a provider that serves the seeds and everyone else well
 * and these 25 at quality 0.1, Dellarocas 2000's discriminating seller)
 */
export type Mode = "honest" | "harsh" | "binaryLiar" | "continuousLiar" | "discriminated";

/**
 * The binary-liar world (see test/trust/binary-liar.test.ts): rt-clean at 500 nodes, 5 victims of quality
 * >= 0.9, 25 attackers who each replace their first interaction of a round by one with a random victim,
 * in every round, or (`every` = k) only in every k-th round.
 * @param seed - the rt-clean seed
 * @param every - redirect in one round of `every`
 * @returns run(mode): the victims' mean effective trust, the attackers (the 25 chosen raters) flagged and the
 *   victims flagged; ratings(mode), the
 *   network, the attackers and the victims (offchain/trust/adversaries/oracle-bound.ts's sparse-liar bound)
 */
export function attackWorld(seed: number, every = 1) {
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
      if (!redirected.has(key) && Math.floor(r.time / net.roundSeconds) % every === 0) {
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
      // simulated: the same interaction served at quality 0.1 instead of the victim's (the same noise draw, so
      // that every other mode's stream is unchanged)
      else if (mode === "discriminated") value = victimSet.has(to) ? Math.min(1, Math.max(0, honest - q.get(to)! + 0.1)) : honest;
      return { ...r, to, value };
    });
  };
  const run = (mode: Mode) => {
    const a = analyze(ratings(mode), net.nodes, net.seeds, { epochSeconds: net.roundSeconds });
    const flagged = new Set(a.detections.map((d) => d.entity));
    return {
      victimTrust: victims.reduce((s, x) => s + a.trust.get(x)!, 0) / victims.length,
      attackersFlagged: [...attackers].filter((x) => flagged.has(x)).length,
      victimsFlagged: victims.filter((x) => flagged.has(x)).length,
    };
  };
  return { run, ratings, net, attackers, victims: victimSet };
}
