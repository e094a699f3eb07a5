/**
 * What the red team knows: the rules and default thresholds of the detectors in
 * `offchain/trust/robust.ts`, read from its public source as a real attacker would (the options'
 * defaults of `analyze` and the pipeline's one-observation-per-epoch rule). Nothing here imports the
 * detectors: these are the attacker's notes, and the attacks plan from them with the formulas below
 * (the same statistics the detectors compute, evaluated on what the attacker expects to see).
 */

/** robust.ts defaults, as published. */
export const KNOWN = {
  /** an outcome is bad below this corrected value */
  badBelow: 0.5,
  /** a rater's strictness offset: median difference from the others, capped at +-0.3, needs >= 5 */
  strictnessCap: 0.3,
  /** unfair rater: flag at z >= 4 and excess >= 2.5; weight falls linearly from z = 2 (1) to z = 4 (0) */
  z: 4,
  minExcess: 2.5,
  /** SybilRank: flag below tau x median degree-normalized trust; weight = min(1, trust / median) */
  tau: 0.1,
  /** CUSUM: p1 = p0 + delta, alarm at h = ln(n / alpha); only observations of raters with weight >= 0.5 */
  delta: 0.3,
  alpha: 0.01,
  credibleWeight: 0.5,
  /** CUSUM and dispersion test only entities with at least this many credible observations */
  minObservations: 10,
  /** dispersion test window sizes, in epochs */
  windows: [1, 2, 4],
  /** flagged trust multiplier */
  penalty: 0.2,
  /**
   * Round 2 (added after session 6's detectors): the unfair-rater reference counts the verified
   * seeds' outcomes in full and the unverified crowd's consensus as at most `anchor` observations,
   * p = (seed bad + kappa x crowd bad share + 0.5) / (seed observations + kappa + 1), kappa = min(crowd, anchor)
   */
  anchor: 3,
  /** a second on-off change, outside the first episode, is tested at this level instead of alpha */
  recurrenceAlpha: 0.02,
  /** lockstep groups: a (rater, target) pair is tested for regularity only if seen in >= 3 epochs */
  lockstepMinEpochs: 3,
  /** lockstep groups: the (3 raters, 2 targets)-core of the regular pairs; the group's voice is the members' mean per epoch */
  lockstepRaters: 3,
  lockstepTargets: 2,
} as const;

/**
 * The unfair-rater z an attacker expects after `lies` bad outcomes on targets the others find good,
 * given `honest` honest observations on such targets where the others' bad share is about `p`:
 * z = (lies (1 - p) + honest * 0) / sqrt((lies + honest) p (1 - p) (1 + 1/(others + 1))).
 * (An honest observation's b - p has mean 0; its variance still counts.)
 * @param lies - bad outcomes given against the consensus
 * @param honest - other observations on good targets
 * @param p - the others' bad share on those targets
 * @param others - the other raters of a typical target (the variance's pseudo-count term)
 * @returns the expected z
 */
export function expectedZ(lies: number, honest: number, p: number, others = 20): number {
  const v = (lies + honest) * p * (1 - p) * (1 + 1 / (others + 1));
  return v > 0 ? (lies * (1 - p)) / Math.sqrt(v) : 0;
}

/**
 * The most lies that keep the expected z at or below `zMax` (and the excess below minExcess when
 * zMax is the flag threshold): the attacker's lie budget over its history.
 * @param honest - the attacker's honest observations on good targets over the run
 * @param p - the others' bad share on good targets
 * @param zMax - the z to stay under (KNOWN.z / 2 keeps full weight; KNOWN.z avoids the flag)
 * @returns the largest budget L with expectedZ(L) <= zMax
 */
export function lieBudget(honest: number, p: number, zMax: number): number {
  let l = 0;
  while (expectedZ(l + 1, honest, p) <= zMax) l++;
  return l;
}

/**
 * Consecutive bad credible observations a target can take before the CUSUM alarms, when it has `n`
 * credible observations in all with `nb` of them bad: the largest k with k ln(p1/p0) < ln(n/alpha).
 * @param n - the target's credible observations over the run
 * @param nb - of which bad (including the k)
 * @param alpha - the level (KNOWN.alpha for a first change, alpha = KNOWN.recurrenceAlpha for a second one)
 * @returns k such that k bad outcomes in a row stay under the alarm (k + 1 would reach it)
 */
export function cusumRunUnderAlarm(n: number, nb: number, alpha: number = KNOWN.alpha): number {
  const p0 = (nb + 0.5) / (n + 1);
  const p1 = Math.min(0.99, p0 + KNOWN.delta);
  const up = Math.log(p1 / p0);
  const h = Math.log(n / alpha);
  return Math.max(0, Math.ceil(h / up) - 1);
}

/**
 * The seed-anchored reference an attacker expects for a target (KNOWN.anchor): its bad share as the
 * unfair-rater test estimates it, from the seeds' observations (in full) and the unverified crowd's
 * (at most `anchor` of them count).
 * @param seedObs - the seeds' observations of the target
 * @param seedBad - of which bad
 * @param crowdObs - the other raters' observations
 * @param crowdBadShare - the crowd's bad share
 * @returns p, clamped to [0.02, 0.98] as the detector does
 */
export function anchoredReference(seedObs: number, seedBad: number, crowdObs: number, crowdBadShare: number): number {
  const kappa = Math.min(crowdObs, KNOWN.anchor);
  const p = (seedBad + kappa * crowdBadShare + 0.5) / (seedObs + kappa + 1);
  return Math.min(0.98, Math.max(0.02, p));
}

/**
 * The chance that an honest rater's (strictness-corrected) outcome is bad when served at quality q:
 * the public generator's satisfaction is q + 0.2 z, z = 2 (U1 + U2 + U3 - 1.5) (an Irwin-Hall sum),
 * and an outcome is bad below KNOWN.badBelow.
 * @param q - the service quality
 * @returns P(q + 0.4 (S - 1.5) < badBelow), S the sum of three uniforms
 */
export function pBad(q: number): number {
  const x = 1.5 + (KNOWN.badBelow - q) / 0.4;
  // Irwin-Hall CDF for n = 3
  if (x <= 0) return 0;
  if (x >= 3) return 1;
  if (x <= 1) return x ** 3 / 6;
  if (x <= 2) return (-2 * x ** 3 + 9 * x ** 2 - 9 * x + 3) / 6;
  return 1 - (3 - x) ** 3 / 6;
}
