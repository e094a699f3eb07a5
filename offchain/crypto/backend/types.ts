/**
 * The curve-operation interfaces behind offchain/crypto's group.ts (secp256k1, the RSMS group)
 * and bls.ts (BLS12-381, the avatars' chameleon proxy signature), with one implementation per
 * backend. Every backend takes and returns @noble/curves points, so the protocols and the other
 * modules see one point type whichever backend runs; a fast backend converts at its boundary and
 * caches what it converted.
 *
 * noble is the reference: test/crypto/backends.test.ts runs every protocol operation on every
 * backend and asserts byte-identical outputs. Selection and fallback: ./index.ts.
 */
import type { secp256k1 } from "@noble/curves/secp256k1.js";
import type { bls12_381 } from "@noble/curves/bls12-381.js";

/** A secp256k1 point (noble's class, whatever backend computed it). */
export type SecpPoint = InstanceType<typeof secp256k1.Point>;
/** A BLS12-381 G1 point. */
export type G1Point = InstanceType<typeof bls12_381.G1.Point>;
/** A BLS12-381 G2 point. */
export type G2Point = InstanceType<typeof bls12_381.G2.Point>;
/** One (G1, G2) term of a pairing product. */
export type PairingTerm = { g1: G1Point; g2: G2Point };

/**
 * secp256k1 group operations. Inputs are validated by group.ts before they get here (scalars in
 * [1, q) unless said otherwise, points not the identity); a backend only computes.
 */
export interface GroupBackend {
  /** "noble" (reference) or "native" (libsecp256k1 through N-API). */
  readonly name: "noble" | "native";
  /** k*P for the generator P (constant-time). */
  mulBase(k: bigint): SecpPoint;
  /** k*X (constant-time in k). */
  mul(X: SecpPoint, k: bigint): SecpPoint;
  /** sum_i k_i X_i for public points and scalars in [0, q); may be the identity. */
  msmPublic(points: SecpPoint[], scalars: bigint[]): SecpPoint;
  /** X + Y; the identity when Y = -X. */
  add(X: SecpPoint, Y: SecpPoint): SecpPoint;
  /** A point equal to X that later `mul` calls multiply faster (a fixed-base table in noble). */
  precompute(X: SecpPoint, windowBits: number): SecpPoint;
  /** Decodes a 33-byte SEC1 compressed point (prefix already checked); throws on an x with no point. */
  decode(b: Uint8Array): SecpPoint;
  /** The 33-byte SEC1 compressed encoding of a non-identity point. */
  encode(X: SecpPoint): Uint8Array;
  /**
   * ECDSA over a 32-byte digest (no hashing here) with a secret key in [1, q): RFC 6979
   * deterministic nonce (no extra entropy), s normalized to the low half, and the recovery bit of
   * R.y (flipped with s). Every backend gives the same bytes as ethers' SigningKey.sign.
   * @returns r || s (64 bytes) and the recovery bit
   */
  ecdsaSign(digest: Uint8Array, secretKey: Uint8Array): { signature: Uint8Array; recovery: number };
}

/** BLS12-381 operations. Hashing to the curve is RFC 9380 in every backend. */
export interface PairingBackend {
  /** "noble" (reference) or "mcl" (mcl-wasm). */
  readonly name: "noble" | "mcl";
  /** RFC 9380 hash_to_curve to G1 (SSWU_RO_ with SHA-256 XMD) under `dst`. */
  hashToG1(msg: Uint8Array, dst: string): G1Point;
  /** RFC 9380 hash_to_curve to G2 under `dst`. */
  hashToG2(msg: Uint8Array, dst: string): G2Point;
  /** k*A in G1 for k in [1, r). */
  g1Mul(A: G1Point, k: bigint): G1Point;
  /** k*g2 for the G2 generator and k in [1, r). */
  g2MulBase(k: bigint): G2Point;
  /** prod_i e(g1_i, g2_i) == 1, one batched Miller loop and one final exponentiation; throws for an identity term, as noble does. */
  pairingProductIsOne(terms: PairingTerm[]): boolean;
  /**
   * Marks a G2 point as long-lived (a registered key, the generator): a backend may keep its
   * Miller-loop lines so later products with it are cheaper. Never changes a result.
   */
  retainG2(Q: G2Point): void;
}
