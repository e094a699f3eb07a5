/**
 * Dispute-resolution accuracy (trust paper Eq. 23) and capture by a colluding minority, in a seeded
 * simulation through the real tally (tally.ts: the contract's argmax, quorum and tie rule) and the
 * real feedback rule (`voterFeedback`, which the differential test checks against
 * DisputeResolution.settle to the last WAD unit).
 *
 * Each dispute has a ground truth (option 0 or 1). Colluders always turn out and vote the wrong
 * answer; honest voters turn out with probability `honestTurnout` and vote the truth with
 * probability `honestAccuracy`. Reputations (WAD bigints, clamped to [0, 1] as
 * TrustManager.adjustReputation does) move after every dispute with the chosen rule:
 *
 *  - `flat`: the rule before issue 16: +0.02 for every revealed vote of the outcome, -0.02 for every
 *    other revealed vote, whatever the margin (the winners' gain grows with their number);
 *  - `revealed`: the rule of issue 16's first half: scaled to the margin m = max(0, 2 W_win - W) / W
 *    of the revealed weight W, capped per dispute (winners share 0.02 * m, losers 0.02 * m, by
 *    weight), the winners paid only from the losers;
 *  - `electorate`: the rule of session 5: the same with m measured against the total reputation
 *    E of every entity at the snapshot (`TrustManager.totalReputationAt`, fixed when the dispute
 *    opens) instead of the revealed weight: a side below half of E is never paid, whatever the
 *    turnout; but honest voters who err can lend a colluding minority more than half of E;
 *  - `band`: the contract's rule now: the margin against E beyond the noise band b = `marginBand`
 *    (0.3): m = max(0, 2 W_win - (1 + b) E) / ((1 - b) E), so a verdict pays only if its voters
 *    hold more than (1 + b) / 2 of E, and a minority must borrow more than b / 2 of E from honest
 *    errors to be paid (docs/specs/disputes.md, "Bounded feedback").
 *
 * Results carry 95% intervals over the seeds (mean +- t * sd / sqrt(n)).
 */
import fs from "fs";
import path from "path";
import { Prng } from "../util/prng";
import { lineChart, writeFigure } from "../util/plot";
import { DEFAULT_DISPUTE_PARAMS as P } from "./params";
import { eq23Accuracy, tallyOutcome, TallyVote, voterFeedback } from "./tally";

const WAD = 10n ** 18n;

/** How reputations move after a dispute (see the module header). */
export type FeedbackRule = "flat" | "revealed" | "electorate" | "band";

export type AccuracyOptions = {
  voters: number;
  maliciousShare: number;
  disputes: number;
  rule?: FeedbackRule;
  honestAccuracy?: number;
  /** probability that an honest voter turns out (colluders always do) */
  honestTurnout?: number;
  /** initial reputation of every voter */
  initial?: number;
};

/** One simulation run's results. */
export type RunResult = { weighted: number; unweighted: number; finalMaliciousWeight: number };

/** The caps without the noise band: the `revealed` and `electorate` rules. */
const NO_BAND = { ...P, marginBand: 0n };

const clamp = (x: bigint) => (x < 0n ? 0n : x > WAD ? WAD : x);

/**
 * One seeded run: `disputes` disputes among `voters` voters of whom `maliciousShare` collude.
 * @returns Eq. 23 accuracy of the reputation-weighted court and of an unweighted majority over the
 *   same ballots, and the colluders' share of the reputation at the end
 * @throws if a share or probability is outside [0, 1] or voters/disputes are not positive
 */
export function simulateAccuracy(o: AccuracyOptions, seed: number): RunResult {
  const hAcc = o.honestAccuracy ?? 0.8;
  const turnout = o.honestTurnout ?? 0.7;
  for (const [k, v] of [
    ["maliciousShare", o.maliciousShare],
    ["honestAccuracy", hAcc],
    ["honestTurnout", turnout],
  ] as const)
    if (!(v >= 0 && v <= 1)) throw new Error(`simulateAccuracy: ${k} must be in [0, 1], got ${v}`);
  if (!(o.voters > 0 && o.disputes > 0)) throw new Error(`simulateAccuracy: voters and disputes must be positive`);
  const rule = o.rule ?? "band";
  const rng = new Prng(seed);
  const rep = Array.from({ length: o.voters }, () => BigInt(Math.round((o.initial ?? 0.5) * 1e18)));
  const malicious = new Set(rng.shuffle([...Array(o.voters).keys()]).slice(0, Math.round(o.maliciousShare * o.voters)));
  const flat = P.voterReward;
  let correctW = 0;
  let correctU = 0;
  for (let d = 0; d < o.disputes; d++) {
    const truth = rng.chance(0.5) ? 0 : 1;
    const votes: (TallyVote & { i: number })[] = [];
    // E: the total reputation of every entity at the snapshot, as TrustManager keeps it (the
    // voters below the minimum count too: they are entities)
    const electorate = rep.reduce((a, b) => a + b, 0n);
    for (let i = 0; i < o.voters; i++) {
      if (rep[i] < P.minReputation || rep[i] === 0n) continue;
      const mal = malicious.has(i);
      if (!mal && !rng.chance(turnout)) continue;
      const choice = mal ? 1 - truth : rng.chance(hAcc) ? truth : 1 - truth;
      votes.push({ i, voter: "", weight: rep[i], choice, revealed: true, salt: "" });
    }
    const out = tallyOutcome(BigInt(d + 1), 2, votes, P.quorum);
    if (!out.void && out.outcome === truth) correctW++;
    const yes = votes.filter((v) => v.choice === truth).length;
    if (yes * 2 > votes.length || (yes * 2 === votes.length && rng.chance(0.5))) correctU++;
    if (out.void) continue;
    const changes = votes.map((v) =>
      rule === "flat"
        ? v.choice === out.outcome
          ? flat
          : -flat
        : voterFeedback(out, v, true, rule === "band" ? P : NO_BAND, rule === "revealed" ? undefined : electorate),
    );
    votes.forEach((v, k) => (rep[v.i] = clamp(rep[v.i] + changes[k])));
  }
  const totalRep = rep.reduce((a, b) => a + b, 0n);
  const malRep = [...malicious].reduce((a, i) => a + rep[i], 0n);
  return {
    weighted: eq23Accuracy(correctW, o.disputes),
    unweighted: eq23Accuracy(correctU, o.disputes),
    finalMaliciousWeight: totalRep === 0n ? 0 : Number((malRep * 1_000_000n) / totalRep) / 1e6,
  };
}

/** A mean with its 95% interval. */
export type Estimate = { mean: number; lo: number; hi: number };

/** Two-sided 97.5% Student t quantiles for n - 1 = 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/**
 * Mean and 95% interval (Student t) of a sample.
 * @throws on an empty sample
 */
export function estimate(xs: readonly number[]): Estimate {
  if (xs.length === 0) throw new Error("estimate: empty sample");
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, lo: mean, hi: mean };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = (T975[Math.min(n - 1, T975.length) - 1] * sd) / Math.sqrt(n);
  return { mean, lo: mean - half, hi: mean + half };
}

/** One point of the sweep: a colluding share, a rule, and the estimates over the seeds. */
export type AccuracyPoint = {
  share: number;
  rule: FeedbackRule;
  honestTurnout: number;
  weighted: Estimate;
  unweighted: Estimate;
  malWeight: Estimate;
};

/** The colluding shares the figures sweep (0 to 45%). */
export const ACCURACY_SHARES = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45];

/**
 * The configurations compared: the old flat rule, the margin of the revealed weight, the margin of
 * E without a band (session 5), and the contract's rule (the margin of E beyond the noise band),
 * the last two at 70% and full honest turnout.
 */
export const SWEEP_CONFIGS: readonly { rule: FeedbackRule; honestTurnout: number }[] = [
  { rule: "flat", honestTurnout: 0.7 },
  { rule: "revealed", honestTurnout: 0.7 },
  { rule: "electorate", honestTurnout: 0.7 },
  { rule: "electorate", honestTurnout: 1 },
  { rule: "band", honestTurnout: 0.7 },
  { rule: "band", honestTurnout: 1 },
];

/**
 * Eq. 23 accuracy and the colluders' final share of reputation against the colluding share, for
 * each configuration (100 voters, 300 disputes, `seeds` seeds per point): the data of
 * `reports/disputes-{accuracy,capture}.{csv,svg}`.
 */
export function accuracySweep(seedBase = 1000, onPoint?: (done: number) => void, seeds = 10): AccuracyPoint[] {
  const out: AccuracyPoint[] = [];
  const total = ACCURACY_SHARES.length * SWEEP_CONFIGS.length;
  for (const c of SWEEP_CONFIGS)
    for (const m of ACCURACY_SHARES) {
      const runs = Array.from({ length: seeds }, (_, s) =>
        simulateAccuracy(
          { voters: 100, maliciousShare: m, disputes: 300, rule: c.rule, honestTurnout: c.honestTurnout },
          seedBase * (s + 1) + Math.round(m * 100),
        ),
      );
      out.push({
        share: m,
        rule: c.rule,
        honestTurnout: c.honestTurnout,
        weighted: estimate(runs.map((r) => r.weighted)),
        unweighted: estimate(runs.map((r) => r.unweighted)),
        malWeight: estimate(runs.map((r) => r.finalMaliciousWeight)),
      });
      onPoint?.(out.length / total);
    }
  return out;
}

/** Each rule's label: [long, for tables; short, for a figure's legend]. */
const RULE_LABELS: Record<FeedbackRule, [string, string]> = {
  flat: ["flat +-0.02 (before)", "flat (before)"],
  revealed: ["bounded vs. revealed weight (before)", "vs. W (before)"],
  electorate: ["bounded vs. total reputation, no band (before)", "vs. E (before)"],
  band: ["bounded vs. total reputation beyond the 0.3 band (contract)", "contract (vs. E, band)"],
};

/** A series' label. */
export function configName(p: { rule: FeedbackRule; honestTurnout: number }): string {
  return `${RULE_LABELS[p.rule][0]}, honest turnout ${Math.round(p.honestTurnout * 100)}%`;
}

/** A series' short label, for a figure's legend (the title says the turnout is the honest voters'). */
export function legendName(p: { rule: FeedbackRule; honestTurnout: number }): string {
  return `${RULE_LABELS[p.rule][1]}, ${Math.round(p.honestTurnout * 100)}%`;
}

/** Writes `reports/disputes-accuracy.{csv,svg}` and `reports/disputes-capture.svg` under `dir`. */
export async function writeAccuracyFigure(dir: string, acc: readonly AccuracyPoint[]): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const f = (x: number) => x.toFixed(4);
  fs.writeFileSync(
    path.join(dir, "disputes-accuracy.csv"),
    "rule,honest_turnout,malicious_share,weighted_accuracy,weighted_lo,weighted_hi,unweighted_accuracy,final_malicious_weight,malicious_lo,malicious_hi\n" +
      acc
        .map((r) =>
          [
            r.rule,
            r.honestTurnout,
            r.share,
            f(r.weighted.mean),
            f(r.weighted.lo),
            f(r.weighted.hi),
            f(r.unweighted.mean),
            f(r.malWeight.mean),
            f(r.malWeight.lo),
            f(r.malWeight.hi),
          ].join(","),
        )
        .join("\n") +
      "\n",
  );
  const series = (key: "weighted" | "malWeight") =>
    SWEEP_CONFIGS.map((c) => ({
      name: legendName(c),
      points: acc
        .filter((r) => r.rule === c.rule && r.honestTurnout === c.honestTurnout)
        .map((r) => ({ x: r.share, y: r[key].mean, lo: r[key].lo, hi: r[key].hi })),
    }));
  writeFigure(
    path.join(dir, "disputes-accuracy.svg"),
    await lineChart({
      title: "Dispute accuracy (Eq. 23) by feedback rule and honest turnout; 100 voters, 300 disputes, 95% intervals",
      xLabel: "share of colluding voters (they always turn out)",
      yLabel: "accuracy",
      yMin: 0,
      yMax: 1,
      series: [...series("weighted"), { name: "paper (96%)", points: ACCURACY_SHARES.map((m) => [m, 0.96] as [number, number]) }],
    }),
  );
  writeFigure(
    path.join(dir, "disputes-capture.svg"),
    await lineChart({
      title: "Colluders' share of reputation after 300 disputes, by feedback rule and honest turnout (95% intervals)",
      xLabel: "share of colluding voters (they always turn out)",
      yLabel: "colluders' share of reputation",
      yMin: 0,
      yMax: 1,
      series: [...series("malWeight"), { name: "initial share", points: ACCURACY_SHARES.map((m) => [m, m] as [number, number]) }],
    }),
  );
}
