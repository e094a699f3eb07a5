/**
 * The prime-order group G of the RSMS protocols (RSMS paper §III.A, Definition 1).
 *
 * The paper's prototype used the G1 group of BLS12-381 through Miracl Core, but the RSMS
 * protocols use no pairing: they only need a prime-order group where ECDLP and ECDHP are hard. We
 * use secp256k1 (docs/specs/crypto.md explains the choice):
 *
 * - prime order q (cofactor 1), so every on-curve non-identity point is in the group and no
 *   subgroup check or cofactor clearing is needed;
 * - 128-bit security, like BLS12-381 G1, with faster arithmetic (no pairing-friendly field) and
 *   33-byte compressed points instead of 48;
 * - Ethereum's own curve: points and scalars fit `bytes32`/`bytes33`, and `ecrecover` can check a
 *   scalar multiplication on-chain if a later protocol needs it.
 *
 * Scalars are bigints in [1, q) drawn from the platform CSPRNG (crypto.getRandomValues via
 * noble). Points travel as 33-byte SEC1 compressed encodings; decoding checks length, prefix,
 * that x is a field element on the curve, and that the point is not the identity.
 *
 * The operations run on a pluggable backend (./backend: libsecp256k1 through N-API by default,
 * @noble/curves as the reference and the fallback); this module validates every input first,
 * so both backends see only valid points and scalars, and points are noble points either way.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToNumberBE, numberToBytesBE } from "./bytes";
import { groupBackend } from "./backend";
import { InvalidLengthError, InvalidPointError, InvalidScalarError } from "../errors";

/** A point of G (a secp256k1 point). */
export type Point = InstanceType<typeof secp256k1.Point>;

/** Name of the curve, as written in specs and serialized parameters. */
export const CURVE_NAME = "secp256k1";
/** The prime group order q. */
export const ORDER: bigint = secp256k1.Point.Fn.ORDER;
/** The generator P. */
export const GENERATOR: Point = secp256k1.Point.BASE;
/** Byte length of an encoded scalar. */
export const SCALAR_BYTES = 32;
/** Byte length of an encoded (compressed) point. */
export const POINT_BYTES = 33;

const Fn = secp256k1.Point.Fn;

/**
 * Checks that `k` is a scalar in [1, q).
 * @param fn - caller name, for the message
 * @param k - the scalar
 * @param name - the parameter name, for the message
 * @throws InvalidScalarError when k is not a bigint in [1, q)
 */
export function assertScalar(fn: string, k: unknown, name = "scalar"): asserts k is bigint {
  if (typeof k !== "bigint") throw new InvalidScalarError(`${fn}: ${name} must be a bigint`);
  if (k <= 0n || k >= ORDER) throw new InvalidScalarError(`${fn}: ${name} must be in [1, q), got ${k}`);
}

/**
 * Draws a uniform scalar in [1, q) from the CSPRNG.
 * @returns the scalar
 */
export function randomScalar(): bigint {
  // randomSecretKey reduces 48 random bytes mod (q-1) and adds 1: uniform in [1, q) up to 2^-128.
  return bytesToNumberBE(secp256k1.utils.randomSecretKey());
}

/**
 * k*P for the generator P (libsecp256k1's ecmult_gen, or noble's window table for P).
 * @param k - scalar in [1, q)
 * @returns k*P
 * @throws InvalidScalarError for k outside [1, q)
 */
export function mulBase(k: bigint): Point {
  assertScalar("mulBase", k);
  return groupBackend().mulBase(k);
}

/**
 * k*X for an arbitrary point X (constant-time in k in both backends).
 * @param X - a point of G (not the identity)
 * @param k - scalar in [1, q)
 * @returns k*X
 * @throws InvalidScalarError, InvalidPointError
 */
export function mul(X: Point, k: bigint): Point {
  assertScalar("mul", k);
  assertPoint("mul", X);
  return groupBackend().mul(X, k);
}

/**
 * sum_i k_i * X_i by Pippenger's multi-scalar multiplication. Not constant-time: use it only on
 * public points and public scalars (Lagrange coefficients, exchanged shares), never on secrets.
 * @param points - non-identity points
 * @param scalars - scalars in [0, q), one per point
 * @returns the sum (may be the identity)
 * @throws InvalidPointError, InvalidScalarError
 */
export function msmPublic(points: Point[], scalars: bigint[]): Point {
  if (points.length !== scalars.length || points.length === 0) {
    throw new InvalidScalarError(`msmPublic: need as many scalars as points (got ${points.length} and ${scalars.length})`);
  }
  points.forEach((X) => assertPoint("msmPublic", X));
  for (const k of scalars) {
    if (typeof k !== "bigint" || k < 0n || k >= ORDER) throw new InvalidScalarError("msmPublic: scalars must be in [0, q)");
  }
  return groupBackend().msmPublic(points, scalars);
}

/**
 * X + Y. The result may be the identity only if Y = -X; callers that must exclude it check.
 * @param X - a point
 * @param Y - a point
 * @returns X + Y
 */
export function add(X: Point, Y: Point): Point {
  return groupBackend().add(X, Y);
}

/**
 * Builds the fixed-base precomputation table for a point that is multiplied many times (PK_pub,
 * an RPM's public key...). The returned point is equal to X; later `mul` calls on it are faster
 * (noble; libsecp256k1 has no per-point tables and returns X).
 * @param X - the point
 * @param windowBits - the window size (8 gives 2^7 * 33 cached points)
 * @returns X with its table cached
 */
export function precompute(X: Point, windowBits = 8): Point {
  assertPoint("precompute", X);
  return groupBackend().precompute(X, windowBits);
}

/**
 * Checks that X is a valid non-identity point of G.
 * @param fn - caller name
 * @param X - the value
 * @throws InvalidPointError otherwise
 */
export function assertPoint(fn: string, X: unknown): asserts X is Point {
  if (!(X instanceof secp256k1.Point)) throw new InvalidPointError(`${fn}: expected a ${CURVE_NAME} point`);
  if (X.is0()) throw new InvalidPointError(`${fn}: the identity is not allowed`);
}

/**
 * 33-byte SEC1 compressed encoding.
 * @param X - a non-identity point
 * @returns the encoding
 * @throws InvalidPointError for the identity
 */
export function encodePoint(X: Point): Uint8Array {
  assertPoint("encodePoint", X);
  return groupBackend().encode(X);
}

/**
 * Decodes a 33-byte compressed point, checking that it is on the curve and not the identity
 * (the group has cofactor 1, so on-curve implies in the prime-order group).
 * @param b - the encoding
 * @returns the point
 * @throws InvalidLengthError for a wrong length; InvalidPointError for a bad prefix or an x with
 *   no point on the curve
 */
export function decodePoint(b: Uint8Array): Point {
  if (!(b instanceof Uint8Array) || b.length !== POINT_BYTES) {
    throw new InvalidLengthError(`decodePoint: expected ${POINT_BYTES} bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`);
  }
  if (b[0] !== 0x02 && b[0] !== 0x03) {
    throw new InvalidPointError(`decodePoint: prefix must be 0x02 or 0x03, got 0x${b[0].toString(16)}`);
  }
  let X: Point;
  try {
    X = groupBackend().decode(b);
  } catch (e) {
    throw new InvalidPointError(`decodePoint: not a point on ${CURVE_NAME}`, { cause: e });
  }
  // Stryker disable next-line ConditionalExpression,StringLiteral: unreachable defence in depth: the identity has no 33-byte 0x02/0x03 encoding, and both backends build an affine point (x, sqrt(x^3 + 7)) that is never the identity
  if (X.is0()) throw new InvalidPointError("decodePoint: the identity is not allowed");
  return X;
}

/**
 * 32-byte big-endian scalar encoding.
 * @param k - scalar in [1, q)
 * @returns the encoding
 */
export function encodeScalar(k: bigint): Uint8Array {
  assertScalar("encodeScalar", k);
  return numberToBytesBE(k, SCALAR_BYTES);
}

/**
 * Decodes a 32-byte big-endian scalar and checks it is in [1, q).
 * @param b - the encoding
 * @returns the scalar
 * @throws InvalidLengthError, InvalidScalarError
 */
export function decodeScalar(b: Uint8Array): bigint {
  if (!(b instanceof Uint8Array) || b.length !== SCALAR_BYTES) {
    throw new InvalidLengthError(`decodeScalar: expected ${SCALAR_BYTES} bytes`);
  }
  const k = bytesToNumberBE(b);
  assertScalar("decodeScalar", k);
  return k;
}

/**
 * Modular inverse in Z_q (Table II's MI).
 * @param k - scalar in [1, q)
 * @returns k^-1 mod q
 */
export function invert(k: bigint): bigint {
  assertScalar("invert", k);
  return Fn.inv(k);
}

/** (a + b) mod q. */
export function addMod(a: bigint, b: bigint): bigint {
  return Fn.add(Fn.create(a), Fn.create(b));
}

/** (a - b) mod q. */
export function subMod(a: bigint, b: bigint): bigint {
  return Fn.sub(Fn.create(a), Fn.create(b));
}

/** (a * b) mod q (Table II's MM). */
export function mulMod(a: bigint, b: bigint): bigint {
  return Fn.mul(Fn.create(a), Fn.create(b));
}

/** a mod q, in [0, q). */
export function mod(a: bigint): bigint {
  return Fn.create(a);
}
