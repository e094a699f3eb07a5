/**
 * Schnorr signatures on secp256k1 with a domain-separation tag: the non-repudiation the RSMS paper
 * asks of group traffic (§III.D.2) and the RPM's authentication of what it forwards to the MSRP.
 * Not in the paper: a metatrust addition (docs/specs/rsms-group.md, docs/specs/rsms-join.md).
 *
 *   Sign(sk, dst, m):    k <-$ Z_q*, R = k*P, c = H(dst; R || PK || m), z = k + c*sk;  sig = R || z
 *   Verify(PK, dst, m):  z in [1, q), z*P = R + c*PK
 *
 * Binding PK into the challenge stops a signature from being re-attributed to another key.
 * Signature: 33 + 32 = 65 bytes.
 */
import { bytesToNumberBE, concat } from "./bytes";
import {
  ORDER,
  POINT_BYTES,
  Point,
  add,
  addMod,
  decodePoint,
  encodePoint,
  encodeScalar,
  mul,
  mulBase,
  mulMod,
  randomScalar,
} from "./group";
import { hashToScalar } from "./hash";
import { InvalidLengthError } from "../errors";
import type { EphemeralStock } from "./ephemeral";

/** Byte length of a signature. */
export const SCHNORR_BYTES = POINT_BYTES + 32;

function challenge(dst: string, R: Point, pk: Point, msg: Uint8Array): bigint {
  return hashToScalar(dst, concat(encodePoint(R), encodePoint(pk), msg));
}

/**
 * Signs `msg` under `sk` in the domain `dst`.
 * @param sk - the signer's secret scalar in [1, q)
 * @param dst - domain-separation tag naming the protocol step
 * @param msg - the bytes to sign
 * @param pk - sk*P, if the caller keeps it (saves a multiplication; it must be sk*P)
 * @param stock - single-use ephemerals computed ahead (./ephemeral.ts): the nonce k and k*P are
 *   taken from it when it holds one (removed from it: never used twice); else drawn here
 * @returns the 65-byte signature R || z
 */
export function schnorrSign(sk: bigint, dst: string, msg: Uint8Array, pk: Point = mulBase(sk), stock?: EphemeralStock): Uint8Array {
  let e = stock?.take();
  for (;;) {
    const k = e?.k ?? randomScalar();
    const R = e?.K ?? mulBase(k);
    e = undefined;
    const z = addMod(k, mulMod(challenge(dst, R, pk, msg), sk));
    // z = 0 has probability 2^-256 and no scalar encoding: draw another nonce.
    if (z !== 0n) return concat(encodePoint(R), encodeScalar(z));
  }
}

/**
 * Verifies a signature; never throws on a malformed signature (returns false).
 * @param pk - the signer's public key
 * @param dst - the domain it was signed in
 * @param msg - the signed bytes
 * @param sig - the 65-byte signature
 * @returns true iff z*P = R + c*PK
 * @throws InvalidLengthError if `sig` is not 65 bytes
 */
export function schnorrVerify(pk: Point, dst: string, msg: Uint8Array, sig: Uint8Array): boolean {
  if (!(sig instanceof Uint8Array) || sig.length !== SCHNORR_BYTES)
    throw new InvalidLengthError(`schnorrVerify: expected a ${SCHNORR_BYTES}-byte signature`);
  let R: Point;
  try {
    R = decodePoint(sig.subarray(0, POINT_BYTES));
  } catch {
    return false;
  }
  const z = bytesToNumberBE(sig.subarray(POINT_BYTES));
  if (z === 0n || z >= ORDER) return false;
  return mulBase(z).equals(add(R, mul(pk, challenge(dst, R, pk, msg))));
}
