/**
 * Dispute-resolution accuracy (trust paper Eq. 23) in a simulation with honest and malicious
 * voters, through the real tally (tally.ts) and the real feedback rule (rewards and penalties as
 * DisputeResolution.settle applies them), seeded.
 *
 * Each dispute has a ground truth (the claim is valid or not). Honest voters vote for the truth
 * with probability `honestAccuracy`; malicious voters collude on the wrong answer. Reputations
 * start equal and move with the feedback after every dispute, so colluders lose weight over time.
 * The baseline is the unweighted majority over the same ballots.
 */
import { Prng } from "../util/prng";
import { eq23Accuracy, tallyOutcome, TallyVote } from "./tally";

export type AccuracyOptions = {
  voters: number;
  maliciousShare: number;
  disputes: number;
  honestAccuracy?: number;
  turnout?: number;
  reward?: number;
  penalty?: number;
  initial?: number;
  minReputation?: number;
};

export function simulateAccuracy(o: AccuracyOptions, seed: number): { weighted: number; unweighted: number; finalMaliciousWeight: number } {
  const rng = new Prng(seed);
  const hAcc = o.honestAccuracy ?? 0.8;
  const turnout = o.turnout ?? 0.8;
  const reward = o.reward ?? 0.02;
  const penalty = o.penalty ?? 0.02;
  const minRep = o.minReputation ?? 0.3;
  const rep = Array.from({ length: o.voters }, () => o.initial ?? 0.5);
  const malicious = new Set(rng.shuffle([...Array(o.voters).keys()]).slice(0, Math.round(o.maliciousShare * o.voters)));
  let correctW = 0;
  let correctU = 0;
  for (let d = 0; d < o.disputes; d++) {
    const truth = rng.chance(0.5) ? 0 : 1;
    const votes: (TallyVote & { i: number })[] = [];
    for (let i = 0; i < o.voters; i++) {
      if (rep[i] < minRep || !rng.chance(turnout)) continue;
      const choice = malicious.has(i) ? 1 - truth : rng.chance(hAcc) ? truth : 1 - truth;
      const salt = "0x" + [...Array(8)].map(() => rng.nextU32().toString(16).padStart(8, "0")).join("");
      votes.push({
        i,
        voter: "0x" + i.toString(16).padStart(64, "0"),
        weight: BigInt(Math.round(rep[i] * 1e18)),
        choice,
        revealed: true,
        salt,
      });
    }
    const out = tallyOutcome(BigInt(d + 1), 2, votes);
    if (!out.void && out.outcome === truth) correctW++;
    const yes = votes.filter((v) => v.choice === truth).length;
    if (yes * 2 > votes.length || (yes * 2 === votes.length && rng.chance(0.5))) correctU++;
    if (!out.void) for (const v of votes) rep[v.i] = Math.min(1, Math.max(0, rep[v.i] + (v.choice === out.outcome ? reward : -penalty)));
  }
  const totalRep = rep.reduce((a, b) => a + b, 0);
  const malRep = [...malicious].reduce((a, i) => a + rep[i], 0);
  return {
    weighted: eq23Accuracy(correctW, o.disputes),
    unweighted: eq23Accuracy(correctU, o.disputes),
    finalMaliciousWeight: totalRep === 0 ? 0 : malRep / totalRep,
  };
}
