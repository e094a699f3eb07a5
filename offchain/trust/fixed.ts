/**
 * The on-chain trust arithmetic (contracts/libraries/TrustMath.sol and TrustManager's pair
 * update), in bigint, bit for bit: WAD fixed point (1e18 = 1.0), every product rounded down.
 * The differential test (test/trust/differential.test.ts) checks both on random inputs.
 *
 *   Eq. 41  T_opt = (1/n) sum_k w_k f_k          (f_k, w_k in basis points, mean weight 1)
 *   decay   T(t) = b + (T - b) rho^floor(dt/epoch)
 *   Eq. 43  T = delta T_opt + (1 - delta) T_prev(t)
 *   Eq. 46  T_final = clamp(T + gamma O, 0, 1)
 */
import { InvalidParameterError } from "../errors";

export const WAD = 10n ** 18n;
export const BPS = 10_000n;
export const MAX_FACTORS = 16;

/** The model parameters, as the contract's immutables. */
export type TrustModel = {
  factorCount: number;
  weights: bigint;
  delta: bigint;
  rho: bigint;
  epochLength: bigint;
  baseline: bigint;
  gamma: bigint;
  unverifiedFactor: bigint;
  flaggedFactor: bigint;
  initialReputation: bigint;
  agreementWeight: bigint;
};

/** trustStore[i][j] as stored. */
export type PairState = { trust: bigint; updatedAt: bigint; ratings: number; oracle: bigint };

/** Converts a real in [0, 1] to WAD (rounding to the nearest unit). */
export function toWad(x: number): bigint {
  if (!(x >= 0 && x <= 1)) throw new InvalidParameterError(`toWad: ${x} is not in [0, 1]`);
  return BigInt(Math.round(x * 1e6)) * 10n ** 12n;
}

/** WAD to a JavaScript number. */
export function fromWad(x: bigint): number {
  return Number(x) / 1e18;
}

export const mulWad = (a: bigint, b: bigint): bigint => (a * b) / WAD;

/** x^n in WAD, by the same binary exponentiation as Solidity. */
export function powWad(x: bigint, n: bigint): bigint {
  let r = WAD;
  while (n !== 0n) {
    if ((n & 1n) === 1n) r = mulWad(r, x);
    x = mulWad(x, x);
    n >>= 1n;
  }
  return r;
}

/**
 * Packs up to 16 basis-point lanes (lane k = bits 16k..16k+15).
 * @throws InvalidParameterError for more than 16 lanes or a lane outside [0, 65535]
 */
export function packLanes(values: number[]): bigint {
  if (values.length > MAX_FACTORS) throw new InvalidParameterError(`packLanes: at most ${MAX_FACTORS} lanes`);
  return values.reduce((acc, v, k) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new InvalidParameterError(`packLanes: lane ${k} = ${v} is not a 16-bit integer`);
    return acc | (BigInt(v) << BigInt(16 * k));
  }, 0n);
}

/** Factor scores in [0, 1] to packed basis points. */
export function packFactors(scores: number[]): bigint {
  return packLanes(
    scores.map((s) => {
      if (!(s >= 0 && s <= 1)) throw new InvalidParameterError(`packFactors: factor ${s} is not in [0, 1]`);
      return Math.round(s * 10_000);
    }),
  );
}

const lane = (packed: bigint, k: number) => (packed >> BigInt(16 * k)) & 0xffffn;

/** Eq. 41 exactly as TrustMath.optimizedTrust. */
export function optimizedTrust(factors: bigint, weights: bigint, n: number): bigint {
  if (n < MAX_FACTORS && factors >> BigInt(16 * n) !== 0n) throw new InvalidParameterError("optimizedTrust: factors beyond n");
  let acc = 0n;
  for (let k = 0; k < n; k++) {
    const f = lane(factors, k);
    if (f > BPS) throw new InvalidParameterError(`optimizedTrust: factor ${k} exceeds 10,000 bps`);
    acc += lane(weights, k) * f;
  }
  return (acc * WAD) / (BigInt(n) * BPS * BPS);
}

/** The lazy time decay toward the baseline. */
export function decay(value: bigint, baseline: bigint, rho: bigint, epochs: bigint): bigint {
  if (epochs === 0n || value === baseline) return value;
  const p = powWad(rho, epochs);
  return value > baseline ? baseline + mulWad(value - baseline, p) : baseline - mulWad(baseline - value, p);
}

/** Eq. 43. */
export function blend(tOpt: bigint, prev: bigint, delta: bigint): bigint {
  return mulWad(delta, tOpt) + mulWad(WAD - delta, prev);
}

/** Eq. 46 with clamping. */
export function withOracle(t: bigint, o: bigint, gamma: bigint): bigint {
  if (o >= 0n) {
    const r = t + mulWad(gamma, o);
    return r > WAD ? WAD : r;
  }
  const d = mulWad(gamma, -o);
  return d >= t ? 0n : t - d;
}

/** The stored value before decay, decayed to `now` (the baseline for a pair never rated). */
export function currentTrust(m: TrustModel, p: PairState, now: bigint): bigint {
  return p.ratings === 0 ? m.baseline : decay(p.trust, m.baseline, m.rho, (now - p.updatedAt) / m.epochLength);
}

/** What TrustManager.rate stores for a rating at `now`. */
export function ratedTrust(m: TrustModel, p: PairState, factors: bigint, now: bigint): bigint {
  return blend(optimizedTrust(factors, m.weights, m.factorCount), currentTrust(m, p, now), m.delta);
}

/**
 * TrustManager's effective trust (trustOf): an unverified entity the rater never rated (a stranger)
 * gets the flag factor too, so that a fresh identity starts no higher than a flagged one
 * (whitewashing, docs/specs/trust.md §6).
 */
export function effectiveTrust(m: TrustModel, p: PairState, now: bigint, verified: boolean, flagged: boolean): bigint {
  let t = withOracle(currentTrust(m, p, now), p.oracle, m.gamma);
  if (!verified) t = mulWad(t, m.unverifiedFactor);
  if (flagged || (!verified && p.ratings === 0)) t = mulWad(t, m.flaggedFactor);
  return t;
}

/** The default model metatrust deploys (docs/specs/trust.md). */
export const DEFAULT_MODEL: TrustModel = {
  factorCount: 6,
  weights: packLanes([10_000, 10_000, 10_000, 10_000, 10_000, 10_000]),
  delta: toWad(0.3),
  rho: toWad(0.98),
  epochLength: 86_400n,
  baseline: toWad(0.5),
  gamma: toWad(0.1),
  unverifiedFactor: toWad(0.5),
  flaggedFactor: toWad(0.2),
  initialReputation: toWad(0.5),
  agreementWeight: toWad(0.2),
};

/** Default Trust_min and Trust_max of Algorithm 2. */
export const DEFAULT_THRESHOLDS = { trustMin: toWad(0.5), trustMax: toWad(0.8) };
