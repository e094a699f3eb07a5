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
import fs from "fs";
import path from "path";
import { Prng } from "../util/prng";
import { lineChart, writeFigure } from "../util/plot";
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

/** One point of the accuracy sweep, averaged over three seeds. */
export type AccuracyPoint = { share: number; weighted: number; unweighted: number; malWeight: number };

/** The shares of malicious voters the figure sweeps. */
export const ACCURACY_SHARES = [0, 0.1, 0.2, 0.3, 0.4, 0.45];

/**
 * Eq. 23 accuracy against the share of malicious voters (100 voters, 300 disputes, three seeds
 * per point): the data of `reports/disputes-accuracy.{csv,svg}`.
 */
export function accuracySweep(seedBase = 1000, onPoint?: (done: number) => void): AccuracyPoint[] {
  return ACCURACY_SHARES.map((m, k) => {
    const runs = [1, 2, 3].map((s) =>
      simulateAccuracy({ voters: 100, maliciousShare: m, disputes: 300 }, seedBase * s + Math.round(m * 100)),
    );
    onPoint?.((k + 1) / ACCURACY_SHARES.length);
    const avg = (key: "weighted" | "unweighted" | "finalMaliciousWeight") => runs.reduce((x, r) => x + r[key], 0) / runs.length;
    return { share: m, weighted: avg("weighted"), unweighted: avg("unweighted"), malWeight: avg("finalMaliciousWeight") };
  });
}

/** Writes `reports/disputes-accuracy.csv` and `.svg` under `dir`. */
export async function writeAccuracyFigure(dir: string, acc: readonly AccuracyPoint[]): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "disputes-accuracy.csv"),
    "malicious_share,weighted_accuracy,unweighted_accuracy,final_malicious_weight\n" +
      acc.map((r) => `${r.share},${r.weighted.toFixed(4)},${r.unweighted.toFixed(4)},${r.malWeight.toFixed(4)}`).join("\n") +
      "\n",
  );
  writeFigure(
    path.join(dir, "disputes-accuracy.svg"),
    await lineChart({
      title: "Dispute resolution accuracy (Eq. 23), 100 voters, 300 disputes",
      xLabel: "share of malicious (colluding) voters",
      yLabel: "accuracy",
      yMin: 0,
      yMax: 1,
      series: [
        { name: "reputation-weighted", points: acc.map((r) => [r.share, r.weighted]) },
        { name: "unweighted majority", points: acc.map((r) => [r.share, r.unweighted]) },
        { name: "paper (96%)", points: acc.map((r) => [r.share, 0.96]) },
      ],
    }),
  );
}
