/**
 * The trust paper's off-chain trust model (§IV.B-D), as pure functions named after their equation
 * numbers. Every input is validated; every factor returns a number in [0, 1] unless the paper's
 * own formula is unbounded (kept callable, marked `paper`).
 *
 * Where the paper contradicts itself (docs/specs/trust.md §2):
 * - Eq. 10 measures *erratic* behaviour (higher = less predictable) yet enters Eq. 8 with a
 *   positive weight, so erratic entities would gain trust. `eq10BehaviourChange` is the paper's
 *   value; `behaviourConsistency` = 1 - Eq. 10 is what the model uses.
 * - Eq. 20 adds a Gaussian density 1/sqrt(2 pi sigma) exp(...) to (P^2 + P)/2: the density is
 *   unbounded as sigma -> 0 and peaks at mu, so a lower score can earn more trust. `eq20Paper` is
 *   the formula as printed; `eq20DegreeOfTrust` (the default) is the weighted mean of
 *   (P^2 + P)/2 scaled by a confidence term exp(-sigma^2/2) in (0, 1]: bounded in [0, 1] and
 *   monotone in every P_k.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { sha3_256 } from "@noble/hashes/sha3.js";
import { concat, toBytes } from "../crypto/bytes";
import { InvalidParameterError } from "../errors";

function check01(fn: string, xs: number[], name = "value"): void {
  for (const x of xs) if (!(x >= 0 && x <= 1)) throw new InvalidParameterError(`${fn}: every ${name} must be in [0, 1], got ${x}`);
}

function weightedMean(fn: string, values: number[], weights: number[]): number {
  if (values.length === 0) throw new InvalidParameterError(`${fn}: needs at least one value`);
  if (values.length !== weights.length) throw new InvalidParameterError(`${fn}: ${values.length} values but ${weights.length} weights`);
  check01(fn, values);
  if (weights.some((w) => !(w >= 0) || !Number.isFinite(w)))
    throw new InvalidParameterError(`${fn}: weights must be finite and non-negative`);
  const sw = weights.reduce((a, b) => a + b, 0);
  if (sw === 0) throw new InvalidParameterError(`${fn}: the weights sum to zero`);
  return values.reduce((a, v, i) => a + v * weights[i], 0) / sw;
}

function mean(fn: string, values: number[]): number {
  if (values.length === 0) throw new InvalidParameterError(`${fn}: needs at least one value`);
  check01(fn, values);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Eq. 1 / Eq. 40 / Algorithm 1 line 3: T = sum_k w_k f_k(C). */
export function eq1Trust(weights: number[], featureScores: number[]): number {
  if (weights.length !== featureScores.length || weights.length === 0)
    throw new InvalidParameterError("eq1Trust: one weight per feature score");
  check01("eq1Trust", featureScores, "feature score");
  return weights.reduce((a, w, k) => a + w * featureScores[k], 0);
}

/** Eq. 6: R_i = sum_j w_j f_j(TA_ij), with f_j(TA) the agreement's trust value, weights normalized. */
export function eq6Reputation(agreementTrust: number[], weights?: number[]): number {
  return weightedMean("eq6Reputation", agreementTrust, weights ?? agreementTrust.map(() => 1));
}

/** Eq. 9: R_ij = mean of the trust T_kj others gave j. */
export function eq9Reputation(trustFromOthers: number[]): number {
  return mean("eq9Reputation", trustFromOthers);
}

/**
 * Eq. 10 as printed: the mean distance between consecutive behaviour observations of j (higher =
 * more erratic). Observations are vectors in [0,1]^d; the distance is the normalized L1 distance.
 */
export function eq10BehaviourChange(observations: number[][]): number {
  if (observations.length < 2) throw new InvalidParameterError("eq10BehaviourChange: needs at least two observations");
  const d = observations[0].length;
  if (d === 0 || observations.some((o) => o.length !== d))
    throw new InvalidParameterError("eq10BehaviourChange: observations must share one non-zero dimension");
  observations.forEach((o) => check01("eq10BehaviourChange", o, "observation component"));
  let sum = 0;
  for (let k = 1; k < observations.length; k++) sum += observations[k].reduce((a, x, i) => a + Math.abs(x - observations[k - 1][i]), 0) / d;
  return sum / (observations.length - 1);
}

/** The behaviour factor the model uses: 1 - Eq. 10 (consistent = trustworthy). */
export function behaviourConsistency(observations: number[][]): number {
  return 1 - eq10BehaviourChange(observations);
}

/** Eq. 11: history H_ij = mean of the ratings i gave j. */
export function eq11History(ratings: number[]): number {
  return mean("eq11History", ratings);
}

/** Eq. 12: performance P_ij = mean of the service scores. */
export function eq12Performance(scores: number[]): number {
  return mean("eq12Performance", scores);
}

/** Eq. 13: identity I_ij = 1 if j is verified. */
export function eq13Identity(verified: boolean): 0 | 1 {
  return verified ? 1 : 0;
}

/**
 * Eq. 14: context C_ij = 1 / (1 + e^(-beta (F - theta))) with F the weighted feature sum.
 * @param features - context features in [0, 1]
 * @param weights - their weights
 */
export function eq14Context(features: number[], weights: number[], beta: number, theta: number): number {
  if (!Number.isFinite(beta) || beta <= 0) throw new InvalidParameterError("eq14Context: beta must be positive");
  if (!Number.isFinite(theta)) throw new InvalidParameterError("eq14Context: theta must be finite");
  const F = weightedMean("eq14Context", features, weights);
  return 1 / (1 + Math.exp(-beta * (F - theta)));
}

/** Eq. 15: vulnerability V_ij = weighted mean of the harms. */
export function eq15Vulnerability(harms: number[], weights: number[]): number {
  return weightedMean("eq15Vulnerability", harms, weights);
}

/** Eq. 16: credibility Cr_ij = A_j / P_j (positive over total feedback); 0 with no feedback. */
export function eq16Credibility(positive: number, total: number): number {
  if (!Number.isInteger(positive) || !Number.isInteger(total) || positive < 0 || total < 0 || positive > total) {
    throw new InvalidParameterError(`eq16Credibility: need integers 0 <= positive <= total, got ${positive}/${total}`);
  }
  return total === 0 ? 0 : positive / total;
}

/** Eq. 17: benevolence = weighted mean of per-action benevolence. */
export function eq17Benevolence(values: number[], weights: number[]): number {
  return weightedMean("eq17Benevolence", values, weights);
}

/** Eq. 18: integrity = weighted mean of per-behaviour integrity. */
export function eq18Integrity(values: number[], weights: number[]): number {
  return weightedMean("eq18Integrity", values, weights);
}

/** Eq. 19: competence = sum w_jk R_k / sum w_jk (expertise levels R_k in [0, 1]). */
export function eq19Competence(expertise: number[], weights: number[]): number {
  return weightedMean("eq19Competence", expertise, weights);
}

/**
 * Social relations S_ij (Algorithm 3 line 6; the paper gives no formula): the Jaccard overlap of
 * the entities i and j each trust, so shared trusted contacts raise trust.
 */
export function socialRelations(neighboursOfI: Iterable<string>, neighboursOfJ: Iterable<string>): number {
  const a = new Set(neighboursOfI);
  const b = new Set(neighboursOfJ);
  const union = new Set([...a, ...b]);
  if (union.size === 0) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / union.size;
}

/**
 * Domain expertise E_ij (Algorithm 3 line 7; no formula in the paper): j's mean score on tasks of
 * the domain i needs, shrunk toward 0 with few tasks (n / (n + 5)).
 */
export function domainExpertise(scoresInDomain: number[]): number {
  if (scoresInDomain.length === 0) return 0;
  const n = scoresInDomain.length;
  return mean("domainExpertise", scoresInDomain) * (n / (n + 5));
}

/** Similarity M_ij (Algorithm 3 line 9): cosine similarity of non-negative preference vectors. */
export function similarity(a: number[], b: number[]): number {
  if (a.length !== b.length || a.length === 0) throw new InvalidParameterError("similarity: vectors of one non-zero length");
  if ([...a, ...b].some((x) => !(x >= 0) || !Number.isFinite(x)))
    throw new InvalidParameterError("similarity: components must be finite and non-negative");
  const dot = a.reduce((s, x, i) => s + x * b[i], 0);
  const na = Math.hypot(...a);
  const nb = Math.hypot(...b);
  return na === 0 || nb === 0 ? 0 : dot / (na * nb);
}

/** The six factors of Eq. 8. */
export type SixFactors = { reputation: number; behaviour: number; history: number; performance: number; social: number; expertise: number };
/** The ten parameters of Algorithm 3. */
export type TenParameters = SixFactors & { reliability: number; similarity: number; transparency: number; risk: number };

export const SIX_FACTOR_ORDER = ["reputation", "behaviour", "history", "performance", "social", "expertise"] as const;
export const TEN_PARAMETER_ORDER = [...SIX_FACTOR_ORDER, "reliability", "similarity", "transparency", "risk"] as const;

/** Eq. 8: T_ij = w1 R + w2 B + w3 H + w4 P + w5 S + w6 E (weights normalized to sum 1). */
export function eq8Trust(f: SixFactors, weights: number[] = [1, 1, 1, 1, 1, 1]): number {
  return weightedMean(
    "eq8Trust",
    SIX_FACTOR_ORDER.map((k) => f[k]),
    weights,
  );
}

/**
 * Algorithm 3 line 12 with its ten parameters. Risk K enters as (1 - K) so that a riskier
 * counterpart earns less trust (the paper adds w10 K, which rewards risk).
 */
export function algorithm3Trust(p: TenParameters, weights: number[] = Array(10).fill(1)): number {
  return weightedMean(
    "algorithm3Trust",
    TEN_PARAMETER_ORDER.map((k) => (k === "risk" ? 1 - p.risk : p[k])),
    weights,
  );
}

/** Eq. 20 as printed (unbounded; not monotone). */
export function eq20Paper(P: number[], weights: number[], mu: number[], sigma: number[]): number {
  if (![weights, mu, sigma].every((v) => v.length === P.length))
    throw new InvalidParameterError("eq20Paper: one weight, mu and sigma per parameter");
  if (sigma.some((s) => !(s > 0))) throw new InvalidParameterError("eq20Paper: sigma must be positive");
  return P.reduce(
    (a, p, k) =>
      a + weights[k] * ((p * p + p) / 2 + (1 / Math.sqrt(2 * Math.PI * sigma[k])) * Math.exp(-((p - mu[k]) ** 2) / (2 * sigma[k] ** 2))),
    0,
  );
}

/**
 * Eq. 20, bounded and monotone (the default): sum_k w_k c_k (P_k^2 + P_k)/2 / sum_k w_k with
 * confidence c_k = exp(-sigma_k^2 / 2) in (0, 1] (more uncertainty, less trust).
 */
export function eq20DegreeOfTrust(P: number[], weights: number[], sigma: number[] = P.map(() => 0)): number {
  if (sigma.length !== P.length || sigma.some((s) => !(s >= 0) || !Number.isFinite(s)))
    throw new InvalidParameterError("eq20DegreeOfTrust: one finite sigma >= 0 per parameter");
  return weightedMean(
    "eq20DegreeOfTrust",
    P.map((p, k) => (Math.exp(-(sigma[k] ** 2) / 2) * (p * p + p)) / 2),
    weights,
  );
}

/**
 * The paper's composite hash of SHA-256 and SHA-3 (§IV.B): H(x) = SHA-256(x) || SHA3-256(x), a
 * robust combiner: collision resistant if either function is.
 */
export function compositeHash(...parts: (Uint8Array | string)[]): Uint8Array {
  const x = concat(...parts.map((p) => toBytes(p)));
  return concat(sha256(x), sha3_256(x));
}

/** One step of Algorithm 1 (Eqs. 2-4). */
export type ChainState = { P: Uint8Array; B: Uint8Array; T: Uint8Array };

/** Algorithm 1 line 1: P_0 and B_0. */
export function genesis(): ChainState {
  const P = compositeHash("METATRUST-V1-TRUST-P0");
  const B = compositeHash("METATRUST-V1-TRUST-B0");
  return { P, B, T: compositeHash(P, B) };
}

/**
 * Algorithm 1 lines 2-6: P_t = H(P_{t-1} || v_1 || T_v1 || ... ), B_t = H(B_{t-1} || b_t),
 * T_t = H(P_t || B_t). Trust values are encoded as 8-byte big-endian millionths.
 * @param prev - the state at t-1
 * @param values - (entity id, trust in [0, 1]) in the order they are hashed
 * @param block - the new block's bytes (e.g. its hash)
 */
export function algorithm1Step(prev: ChainState, values: [string, number][], block: Uint8Array): ChainState {
  const enc = (t: number) => {
    check01("algorithm1Step", [t], "trust");
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(Math.round(t * 1e6)));
    return b;
  };
  const P = compositeHash(prev.P, ...values.flatMap(([v, t]) => [toBytes(v), enc(t)]));
  const B = compositeHash(prev.B, block);
  return { P, B, T: compositeHash(P, B) };
}
