/**
 * SIMULATED iris sensor. No real biometrics: every person gets a random 2048-bit iris code (as in
 * Daugman's IrisCode), and each capture flips each bit independently with a noise rate p, so that
 * two captures of one eye differ in 2p(1-p) = 10% of their bits (genuine Hamming distance ~0.1)
 * and two different eyes in about 50% (impostors ~0.5). Matching uses Daugman's threshold 0.32.
 *
 * Templates are secrets: they stay in the identity provider's keystore; only a salted commitment
 * keccak256("METATRUST-V1-IRIS" || template || salt) appears in warrants.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { concat, toBytes } from "../crypto/bytes";
import { InvalidParameterError } from "../errors";
import { Prng } from "../util/prng";

/** Bits per iris code. */
export const IRIS_BITS = 2048;
/** Daugman's decision threshold on the fractional Hamming distance. */
export const MATCH_THRESHOLD = 0.32;
/** Per-bit capture noise p: two captures differ in 2p(1-p) = 0.1 of their bits. */
export const CAPTURE_NOISE = 0.0528;

/** The simulated eye of one person: its true code, known only to the simulation. */
export class SimulatedEye {
  private readonly code: Uint8Array;
  private readonly rng: Prng;

  /** @param seed - identifies the person in the simulation */
  constructor(seed: number) {
    this.rng = new Prng(seed);
    this.code = new Uint8Array(IRIS_BITS / 8);
    for (let i = 0; i < this.code.length; i++) this.code[i] = this.rng.nextU32() & 0xff;
  }

  /** A capture: the code with each bit flipped with probability `noise` (SIMULATED sensor). */
  capture(noise = CAPTURE_NOISE): Uint8Array {
    const out = Uint8Array.from(this.code);
    for (let i = 0; i < IRIS_BITS; i++) if (this.rng.chance(noise)) out[i >> 3] ^= 1 << (i & 7);
    return out;
  }
}

/**
 * Fractional Hamming distance of two iris codes.
 * @throws InvalidParameterError for codes of the wrong length
 */
export function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== IRIS_BITS / 8 || b.length !== IRIS_BITS / 8)
    throw new InvalidParameterError(`hammingDistance: iris codes are ${IRIS_BITS / 8} bytes`);
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i] ^ b[i];
    while (x) {
      d += x & 1;
      x >>= 1;
    }
  }
  return d / IRIS_BITS;
}

/** True iff two codes come from the same eye by Daugman's rule. */
export function irisMatch(template: Uint8Array, sample: Uint8Array): boolean {
  return hammingDistance(template, sample) < MATCH_THRESHOLD;
}

/** The salted commitment to a template that warrants carry. */
export function irisCommitment(template: Uint8Array, salt: Uint8Array): Uint8Array {
  return keccak_256(concat(toBytes("METATRUST-V1-IRIS"), template, salt));
}
