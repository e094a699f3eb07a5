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
 * @returns k such that k bad outcomes in a row stay under the alarm (k + 1 would reach it)
 */
export function cusumRunUnderAlarm(n: number, nb: number): number {
  const p0 = (nb + 0.5) / (n + 1);
  const p1 = Math.min(0.99, p0 + KNOWN.delta);
  const up = Math.log(p1 / p0);
  const h = Math.log(n / KNOWN.alpha);
  return Math.max(0, Math.ceil(h / up) - 1);
}
