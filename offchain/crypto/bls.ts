/**
 * BLS12-381 helpers: scalars, hash-to-curve with metatrust's own DSTs, pairing-product checks and
 * the EIP-2537 encodings that the on-chain verifiers feed to the precompiles (0x0b..0x11).
 *
 * - Hash-to-curve is RFC 9380 (suites BLS12381G1_XMD:SHA-256_SSWU_RO_ and
 *   BLS12381G2_XMD:SHA-256_SSWU_RO_) as implemented by noble; callers always pass a metatrust DST.
 * - A pairing-product check prod_i e(A_i, B_i) == 1 runs as one batched Miller loop and a single
 *   final exponentiation, the same computation as the EIP-2537 PAIRING precompile.
 * - EIP-2537 encodes an Fp element in 64 bytes (16 zero bytes, then 48 big-endian bytes), a G1
 *   point as x || y (128 bytes), a G2 point as x.c0 || x.c1 || y.c0 || y.c1 (256 bytes), and the
 *   point at infinity as all zeros.
 *
 * Hashing, scalar multiplication and pairing products run on a pluggable backend (./backend:
 * mcl-wasm by default, @noble/curves as the reference and the fallback); points are noble points
 * either way, and decoding (with its subgroup checks) is always noble's.
 */
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { bytesToNumberBE, concat, numberToBytesBE } from "./bytes";
import { pairingBackend } from "./backend";
import type { G1Point, G2Point, PairingTerm } from "./backend/types";
import { InvalidLengthError, InvalidPointError, InvalidScalarError } from "../errors";

export type { G1Point, G2Point, PairingTerm };

export const G1 = bls12_381.G1.Point;
export const G2 = bls12_381.G2.Point;
/** The prime order r of G1, G2 and GT. */
export const BLS_ORDER: bigint = G1.Fn.ORDER;
/** The base field modulus p. */
export const BLS_P: bigint = bls12_381.fields.Fp.ORDER;

/** metatrust's hash-to-curve DSTs (RFC 9380 §3.1: one per use). */
export const BLS_DST = {
  /** Generic G1 hash for tests and the self-check. */
  G1: "METATRUST-V1-BLS12381G1_XMD:SHA-256_SSWU_RO_",
  /** Generic G2 hash for tests and the self-check. */
  G2: "METATRUST-V1-BLS12381G2_XMD:SHA-256_SSWU_RO_",
} as const;

/** EIP-2537 byte sizes. */
export const EIP2537 = { FP: 64, G1: 128, G2: 256, PAIR: 384 } as const;

/**
 * Checks that k is a scalar in [1, r).
 * @throws InvalidScalarError
 */
export function assertBlsScalar(fn: string, k: unknown, name = "scalar"): asserts k is bigint {
  if (typeof k !== "bigint" || k <= 0n || k >= BLS_ORDER) {
    throw new InvalidScalarError(`${fn}: ${name} must be a bigint in [1, r)`);
  }
}

/**
 * Draws a uniform scalar in [1, r) from the CSPRNG.
 * @returns the scalar
 */
export function randomBlsScalar(): bigint {
  return bytesToNumberBE(bls12_381.utils.randomSecretKey());
}

/**
 * RFC 9380 hash to G1.
 * @param msg - the message
 * @param dst - the domain-separation tag (never empty)
 * @returns a G1 point
 */
export function hashToG1(msg: Uint8Array, dst: string): G1Point {
  return pairingBackend().hashToG1(msg, dst);
}

/**
 * RFC 9380 hash to G2.
 * @param msg - the message
 * @param dst - the domain-separation tag (never empty)
 * @returns a G2 point
 */
export function hashToG2(msg: Uint8Array, dst: string): G2Point {
  return pairingBackend().hashToG2(msg, dst);
}

/**
 * k*A in G1.
 * @param A - a G1 point
 * @param k - scalar in [1, r)
 * @returns k*A
 * @throws InvalidScalarError for k outside [1, r)
 */
export function g1Mul(A: G1Point, k: bigint): G1Point {
  assertBlsScalar("g1Mul", k);
  return pairingBackend().g1Mul(A, k);
}

/**
 * k*g2 for the G2 generator (a CPS public key).
 * @param k - scalar in [1, r)
 * @returns k*g2
 * @throws InvalidScalarError for k outside [1, r)
 */
export function g2MulBase(k: bigint): G2Point {
  assertBlsScalar("g2MulBase", k);
  return pairingBackend().g2MulBase(k);
}

/**
 * Declares a G2 point long-lived (a registered key): the backend may keep its Miller-loop lines
 * so that later pairing products with it are cheaper. Never changes a result.
 * @param Q - the point
 */
// Stryker disable next-line BlockStatement: a cache hint that by contract never changes a result (the backends' differential tests hold this); emptying it only costs speed
export function retainG2(Q: G2Point): void {
  pairingBackend().retainG2(Q);
}

/**
 * Checks prod_i e(g1_i, g2_i) == 1 in GT with one batched Miller loop and one final
 * exponentiation (what the EIP-2537 PAIRING precompile computes).
 * @param terms - the (G1, G2) pairs; an empty product is 1
 * @returns true iff the product is the identity
 */
export function pairingProductIsOne(terms: PairingTerm[]): boolean {
  // Stryker disable next-line ConditionalExpression: a shortcut: `if (false)` hands the empty list to noble's pairingBatch, whose empty product is Fp12.ONE, so the answer is the same true (the `if (true)` variant answers true for every product and is killed)
  if (terms.length === 0) return true;
  return pairingBackend().pairingProductIsOne(terms);
}

/**
 * One pairing e(A, B), for benchmarks and tests.
 * @returns the GT element
 */
export function pairing(A: G1Point, B: G2Point) {
  return bls12_381.pairing(A, B);
}

function encodeFp(x: bigint): Uint8Array {
  return numberToBytesBE(x, EIP2537.FP);
}

function decodeFp(fn: string, b: Uint8Array): bigint {
  for (let i = 0; i < 16; i++) {
    if (b[i] !== 0) throw new InvalidPointError(`${fn}: field element has non-zero top 16 bytes`);
  }
  const x = bytesToNumberBE(b);
  if (x >= BLS_P) throw new InvalidPointError(`${fn}: field element not below p`);
  return x;
}

/**
 * EIP-2537 encoding of a G1 point (128 bytes; all zeros for the identity).
 * @param p - the point
 * @returns the encoding
 */
export function encodeG1Eip2537(p: G1Point): Uint8Array {
  // Stryker disable next-line ConditionalExpression: a shortcut: `if (false)` encodes noble's affine form of the identity, (0, 0), which is the same 128 zero bytes (the `if (true)` variant encodes every point as zeros and is killed)
  if (p.is0()) return new Uint8Array(EIP2537.G1);
  const a = p.toAffine();
  return concat(encodeFp(a.x), encodeFp(a.y));
}

/**
 * EIP-2537 encoding of a G2 point (256 bytes: x.c0 || x.c1 || y.c0 || y.c1).
 * @param p - the point
 * @returns the encoding
 */
export function encodeG2Eip2537(p: G2Point): Uint8Array {
  // Stryker disable next-line ConditionalExpression: a shortcut: `if (false)` encodes noble's affine form of the identity, (0, 0), which is the same 256 zero bytes (the `if (true)` variant encodes every point as zeros and is killed)
  if (p.is0()) return new Uint8Array(EIP2537.G2);
  const a = p.toAffine();
  return concat(encodeFp(a.x.c0), encodeFp(a.x.c1), encodeFp(a.y.c0), encodeFp(a.y.c1));
}

/**
 * Decodes an EIP-2537 G1 point with the precompile's checks (canonical field elements, on the
 * curve) plus the subgroup check.
 * @param b - 128 bytes
 * @returns the point (the identity for all zeros)
 * @throws InvalidLengthError, InvalidPointError
 */
export function decodeG1Eip2537(b: Uint8Array): G1Point {
  if (!(b instanceof Uint8Array) || b.length !== EIP2537.G1) throw new InvalidLengthError(`decodeG1Eip2537: expected ${EIP2537.G1} bytes`);
  // Stryker disable next-line ConditionalExpression,ArrowFunction: a shortcut: without it (`if (false)`, or a predicate returning undefined) all zeros decode as the field elements (0, 0), which noble's fromAffine maps to the identity and assertValidity accepts, so the result is the same G1.ZERO (the `if (true)`, `some` and `!== 0` variants are killed)
  if (b.every((x) => x === 0)) return G1.ZERO;
  const x = decodeFp("decodeG1Eip2537", b.subarray(0, 64));
  const y = decodeFp("decodeG1Eip2537", b.subarray(64, 128));
  return checked("decodeG1Eip2537", () => G1.fromAffine({ x, y }));
}

/**
 * Decodes an EIP-2537 G2 point with on-curve and subgroup checks.
 * @param b - 256 bytes
 * @returns the point
 * @throws InvalidLengthError, InvalidPointError
 */
export function decodeG2Eip2537(b: Uint8Array): G2Point {
  if (!(b instanceof Uint8Array) || b.length !== EIP2537.G2) throw new InvalidLengthError(`decodeG2Eip2537: expected ${EIP2537.G2} bytes`);
  // Stryker disable next-line ConditionalExpression,ArrowFunction: a shortcut: without it all zeros decode as (0, 0) in Fp2, which noble's fromAffine maps to the identity and assertValidity accepts, so the result is the same G2.ZERO (the `if (true)`, `some` and `!== 0` variants are killed)
  if (b.every((x) => x === 0)) return G2.ZERO;
  const f = (i: number) => decodeFp("decodeG2Eip2537", b.subarray(64 * i, 64 * i + 64));
  const Fp2 = bls12_381.fields.Fp2;
  return checked("decodeG2Eip2537", () => G2.fromAffine({ x: Fp2.create({ c0: f(0), c1: f(1) }), y: Fp2.create({ c0: f(2), c1: f(3) }) }));
}

function checked<T extends G1Point | G2Point>(fn: string, make: () => T): T {
  let p: T;
  try {
    p = make();
    p.assertValidity();
  } catch (e) {
    // noble's validity check covers both the curve equation and the subgroup; say which failed.
    // Stryker disable next-line OptionalChaining,StringLiteral: what reaches this catch is always an Error with a string message (noble's errors and decodeFp's InvalidPointError), so `?.` and the "" fallback are never used
    const sub = /subgroup/i.test((e as Error)?.message ?? "");
    throw new InvalidPointError(sub ? `${fn}: point is not in the prime-order subgroup` : `${fn}: not a point on the curve`, { cause: e });
  }
  return p;
}

/**
 * Input of the EIP-2537 PAIRING precompile (0x0f) for prod e(g1_i, g2_i) == 1.
 * @param terms - the pairs
 * @returns 384 * k bytes
 */
export function encodePairingInput(terms: PairingTerm[]): Uint8Array {
  return concat(...terms.flatMap((t) => [encodeG1Eip2537(t.g1), encodeG2Eip2537(t.g2)]));
}

/**
 * Compressed (ZCash) G1 decoding with on-curve, subgroup and non-identity checks.
 * @param b - 48 bytes
 * @returns the point
 */
export function decodeG1(b: Uint8Array): G1Point {
  if (!(b instanceof Uint8Array) || b.length !== 48) throw new InvalidLengthError("decodeG1: expected 48 bytes");
  const p = checked("decodeG1", () => G1.fromBytes(b) as G1Point);
  if (p.is0()) throw new InvalidPointError("decodeG1: the identity is not allowed");
  return p;
}

/**
 * Compressed (ZCash) G2 decoding with on-curve, subgroup and non-identity checks.
 * @param b - 96 bytes
 * @returns the point
 */
export function decodeG2(b: Uint8Array): G2Point {
  if (!(b instanceof Uint8Array) || b.length !== 96) throw new InvalidLengthError("decodeG2: expected 96 bytes");
  const p = checked("decodeG2", () => G2.fromBytes(b) as G2Point);
  if (p.is0()) throw new InvalidPointError("decodeG2: the identity is not allowed");
  return p;
}
