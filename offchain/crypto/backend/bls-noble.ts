/**
 * The reference BLS12-381 backend: @noble/curves. RFC 9380 hash-to-curve, batched Miller loop
 * with one final exponentiation.
 */
import { bls12_381 } from "@noble/curves/bls12-381.js";
import type { G1Point, G2Point, PairingBackend } from "./types";

/** The noble backend (always available). */
export const noblePairing: PairingBackend = {
  name: "noble",
  hashToG1: (msg, dst) => bls12_381.G1.hashToCurve(msg, { DST: dst }) as unknown as G1Point,
  hashToG2: (msg, dst) => bls12_381.G2.hashToCurve(msg, { DST: dst }) as unknown as G2Point,
  g1Mul: (A, k) => A.multiply(k),
  g2MulBase: (k) => bls12_381.G2.Point.BASE.multiply(k),
  pairingProductIsOne(terms) {
    const Fp12 = bls12_381.fields.Fp12;
    return Fp12.eql(bls12_381.pairingBatch(terms), Fp12.ONE);
  },
  // noble's pairingBatch has no per-key line cache to fill.
  retainG2: () => undefined,
};
