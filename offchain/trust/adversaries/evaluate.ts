/**
 * The evaluation harness of the adversary suite (issue 15). Runs any detector over a generated
 * network, at checkpoints and at the end, and measures, against the ground truth:
 * - detection: the share of attacker identities flagged (any kind);
 * - FPR: the share of trustworthy honest identities flagged, without and with the victims;
 * - victims flagged: the share of bad-mouthed or flooded honest identities flagged;
 * - time to detect: median rounds from an attacker's first misbehaviour to its first flag;
 * - damage: each trustworthy honest identity's effective trust against the same seed without
 *   attackers (mean absolute move; the victims' mean move), and the share of boosted bad
 *   providers whose trust is above the median trustworthy honest identity;
 * - where the attackers end: the share of attacker identities (a whitewasher's every identity)
 *   whose trust is above the median trustworthy honest identity, the median of their trust minus
 *   that median, and the share at or above Trust_min (0.5, the least mean trust of an agreement not
 *   routed to an intermediary), beside the share of trustworthy honest identities at or above it.
 */
import { generateNetwork, type Family, type Network, type Rating } from "./generate";

/** What a detector under test returns: the flagged identities and, if it has one, the trust each ends with. */
export type Verdict = { flagged: Set<string>; trust?: Map<string, number> };
/** A detector under test. */
export type DetectorUnderTest = { name: string; run: (ratings: Rating[], nodes: string[], seeds: Set<string>, net: Network) => Verdict };

export type Metrics = {
  detection: number;
  fpr: number;
  fprWithVictims: number;
  victimsFlagged: number;
  honestBadFlagged: number;
  /** median rounds from attack start to the first flag (detected attackers only) */
  ttdRounds: number;
  /** mean |trust - clean trust| over trustworthy honest identities */
  damage: number;
  /** mean (trust - clean trust) over victims */
  victimMove: number;
  /** share of boosted bad providers above the median trustworthy honest identity */
  boostedAboveMedian: number;
  /** share of attacker identities whose trust is above the median trustworthy honest identity */
  attackersAboveMedian: number;
  /** median over attacker identities of (trust - the median trustworthy honest identity's trust) */
  attackerGap: number;
  /** share of attacker identities whose trust is at least TRUST_MIN */
  attackersAboveTrustMin: number;
  /** share of trustworthy honest identities whose trust is at least TRUST_MIN (what a trust rule costs the honest) */
  honestAboveTrustMin: number;
  /** the detector's time on the whole history, and the history's size */
  ms: number;
  ratings: number;
};

/** Trust_min of Algorithm 2 (TrustManager's deployed threshold): below it an agreement goes through an intermediary. */
export const TRUST_MIN = 0.5;

const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const share = (set: Set<string>, flagged: Set<string>) => {
  if (!set.size) return NaN;
  let n = 0;
  for (const x of set) if (flagged.has(x)) n++;
  return n / set.size;
};

/**
 * Evaluates detectors on one network.
 * @param net - the network with attackers
 * @param clean - the same seed without attackers (for damage), or undefined
 * @param detectors - the detectors to compare
 * @param checkpointRounds - run the detectors on every prefix of this many rounds (0: only at the end)
 * @returns one Metrics per detector name
 */
export function evaluate(
  net: Network,
  clean: Network | undefined,
  detectors: DetectorUnderTest[],
  checkpointRounds = 0,
): Record<string, Metrics> {
  const out: Record<string, Metrics> = {};
  const t = net.truth;
  const trustworthyNotVictim = new Set([...t.trustworthy].filter((x) => !t.victims.has(x)));
  for (const d of detectors) {
    const first = new Map<string, number>();
    if (checkpointRounds > 0) {
      let k = 0;
      for (let r = checkpointRounds; r < net.rounds; r += checkpointRounds) {
        const until = r * net.roundSeconds;
        while (k < net.ratings.length && net.ratings[k].time < until) k++;
        for (const x of d.run(net.ratings.slice(0, k), net.nodes, net.seeds, net).flagged)
          if (t.attackers.has(x) && !first.has(x)) first.set(x, until);
      }
    }
    const t0 = performance.now();
    const v = d.run(net.ratings, net.nodes, net.seeds, net);
    const ms = performance.now() - t0;
    const end = net.rounds * net.roundSeconds;
    const ttd = [...t.attackers]
      .filter((x) => v.flagged.has(x))
      .map((x) => Math.max(0, (first.get(x) ?? end) - (t.attackStart.get(x) ?? 0)) / net.roundSeconds);
    let damage = NaN;
    let victimMove = NaN;
    let boostedAboveMedian = NaN;
    let attackersAboveMedian = NaN;
    let attackerGap = NaN;
    let attackersAboveTrustMin = NaN;
    let honestAboveTrustMin = NaN;
    if (v.trust) {
      const honestTrust = [...t.trustworthy].map((x) => v.trust!.get(x) ?? 0);
      const med = median(honestTrust);
      if (honestTrust.length) honestAboveTrustMin = honestTrust.filter((x) => x >= TRUST_MIN).length / honestTrust.length;
      if (t.boosted.size) boostedAboveMedian = [...t.boosted].filter((x) => (v.trust!.get(x) ?? 0) > med).length / t.boosted.size;
      if (t.attackers.size) {
        const at = [...t.attackers].map((x) => v.trust!.get(x) ?? 0);
        attackersAboveMedian = at.filter((x) => x > med).length / at.length;
        attackerGap = median(at.map((x) => x - med));
        attackersAboveTrustMin = at.filter((x) => x >= TRUST_MIN).length / at.length;
      }
      if (clean) {
        const c = d.run(clean.ratings, clean.nodes, clean.seeds, clean).trust!;
        const moves = [...t.trustworthy].map((x) => (v.trust!.get(x) ?? 0) - (c.get(x) ?? 0));
        damage = moves.reduce((s, m) => s + Math.abs(m), 0) / Math.max(1, moves.length);
        const vm = [...t.victims].map((x) => (v.trust!.get(x) ?? 0) - (c.get(x) ?? 0));
        victimMove = vm.length ? vm.reduce((s, m) => s + m, 0) / vm.length : NaN;
      }
    }
    out[d.name] = {
      detection: share(t.attackers, v.flagged),
      fpr: share(trustworthyNotVictim, v.flagged),
      fprWithVictims: share(t.trustworthy, v.flagged),
      victimsFlagged: share(t.victims, v.flagged),
      honestBadFlagged: share(t.honestBad, v.flagged),
      ttdRounds: median(ttd),
      damage,
      victimMove,
      boostedAboveMedian,
      attackersAboveMedian,
      attackerGap,
      attackersAboveTrustMin,
      honestAboveTrustMin,
      ms,
      ratings: net.ratings.length,
    };
  }
  return out;
}

/** Mean and 95% interval half-width (normal approximation over seeds) of each metric. */
export type Summary = { mean: Metrics; ci95: Metrics; runs: number };

/**
 * Runs one family over several seeds and summarizes.
 * @param o.family, o.nodes, o.rounds - the networks
 * @param o.seeds - the seeds (report on {@link SPLIT}.reportSeeds only)
 * @returns per detector, the mean and 95% half-width of each metric over the seeds
 */
export function evaluateFamily(
  o: { family: Family; nodes: number; rounds?: number; seeds: number[]; checkpointRounds?: number; damage?: boolean },
  detectors: DetectorUnderTest[],
): Record<string, Summary> {
  const runs: Record<string, Metrics[]> = {};
  for (const seed of o.seeds) {
    const net = generateNetwork({ family: o.family, nodes: o.nodes, seed, rounds: o.rounds });
    const clean = o.damage === false ? undefined : generateNetwork({ family: "honest-noisy", nodes: o.nodes, seed, rounds: o.rounds });
    const m = evaluate(net, clean, detectors, o.checkpointRounds ?? 0);
    for (const [k, v] of Object.entries(m)) (runs[k] ??= []).push(v);
  }
  const out: Record<string, Summary> = {};
  for (const [k, ms] of Object.entries(runs)) {
    const keys = Object.keys(ms[0]) as (keyof Metrics)[];
    const mean = {} as Metrics;
    const ci95 = {} as Metrics;
    for (const key of keys) {
      const xs = ms.map((m) => m[key]).filter((x) => Number.isFinite(x));
      const mu = xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
      const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mu) ** 2, 0) / (xs.length - 1)) : 0;
      mean[key] = mu;
      // Student t for n - 1 degrees of freedom (n = 2..6), else 1.96
      const tq = [NaN, 12.71, 4.3, 3.18, 2.78, 2.57][xs.length - 1] ?? 1.96;
      ci95[key] = xs.length > 1 ? (tq * sd) / Math.sqrt(xs.length) : NaN;
    }
    out[k] = { mean, ci95, runs: ms.length };
  }
  return out;
}
