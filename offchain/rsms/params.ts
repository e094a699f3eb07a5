/**
 * RSMS public parameters (§IV.A.1 MSRP Setup step 5): params = {q, p, G, P, PK_pub, H1..H6}.
 * The curve, generator and hash functions are fixed by offchain/crypto; the only per-deployment
 * value is PK_pub = msk * P.
 */
import { Point, add, decodePoint, encodePoint, encodeScalar, mul, precompute } from "../crypto/group";
import { H2, H4, hashToScalar } from "../crypto/hash";
import { concat, numberToBytesBE, toHex } from "../crypto/bytes";

/** The public parameters every RSMS agent holds. */
export type RsmsParams = {
  /** PK_pub = msk * P, with its fixed-base table built. */
  pkPub: Point;
};

/**
 * Builds the parameters from PK_pub's encoding.
 * @param pkPub - 33-byte PK_pub
 */
export function paramsFromPkPub(pkPub: Uint8Array): RsmsParams {
  return { pkPub: precompute(decodePoint(pkPub)) };
}

/** 33-byte hex of a point, for records. */
export function pointHex(X: Point): string {
  return toHex(encodePoint(X));
}

/**
 * The RN-side key of pool X: Z = PK_RPM + H2(PID_RPM) * PK_pub, so that c1 = u * Z and the RPM
 * recovers U = c1 * sk_RPM^-1 (the paper's derivation after Remark 1).
 */
export function poolEncryptionKey(params: RsmsParams, pkRpm: Point, pidRpm: Uint8Array): Point {
  // Z depends on the pool only: an RN joining (or an MSRP checking) the same pool again reuses it.
  let cache = poolKeys.get(params);
  if (!cache) poolKeys.set(params, (cache = new Map()));
  const id = toHex(pidRpm) + toHex(encodePoint(pkRpm)).slice(2);
  let Z = cache.get(id);
  if (!Z) {
    Z = add(pkRpm, mul(params.pkPub, H2(pidRpm)));
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: a memory bound only: clearing the cache earlier or never changes no key
    if (cache.size >= 1024) cache.clear();
    cache.set(id, Z);
  }
  return Z;
}

/** Z per (PID_RPM, PK_RPM), per parameter set. */
const poolKeys = new WeakMap<RsmsParams, Map<string, Point>>();

/**
 * The on-chain tag of a one-time secret: H4(a) as a bytes32.
 * @param a - the secret a_{i,k}
 * @returns 32 bytes
 */
export function tagOf(a: bigint): Uint8Array {
  return numberToBytesBE(H4(a), 32);
}

/** Domain of an RN's per-pseudonym service-group key. */
export const GROUP_KEY_DST = "METATRUST-V1-RSMS-RN-GROUP-KEY";

/**
 * An RN's service-group secret under one pseudonym: sk_G = hash_to_scalar(sk_RN || PID). Service
 * groups list each party as (PID, PK) and sign with that key; were it PK_RN, the same under every
 * PID, anyone who saw two rosters or the channel's signatures would link the RN's pseudonyms
 * (red-team F2). The MSRP, which holds sk_RN, derives the same key for the rosters it deals.
 * @param skRn - the RN's long-term secret
 * @param pid - the pseudonym it takes part in groups under
 * @returns sk_G in [1, q)
 */
export function rnGroupSecret(skRn: bigint, pid: Uint8Array): bigint {
  return hashToScalar(GROUP_KEY_DST, concat(encodeScalar(skRn), pid));
}
