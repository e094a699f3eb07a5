/**
 * Replays the CSPRNG: while `f` runs, crypto.getRandomValues (what noble's randomBytes, the
 * group's randomScalar and Shamir's coefficients draw from) returns a seeded stream, so that two
 * runs of one protocol on two crypto backends draw the same "random" values and must produce the
 * same bytes. Tests only.
 *
 * noble blinds its constant-time scalar multiplications with fresh random bytes (drawn in
 * @noble/curves/abstract/curve.js); a blinding draw changes no result, and libsecp256k1 and mcl
 * draw none, so those draws are served from the real CSPRNG and do not shift the seeded stream.
 */
import { Prng } from "../../offchain/util/prng";

/**
 * Runs `f` with crypto.getRandomValues replaced by a seeded stream, then restores it.
 * @param seed - the stream's seed
 * @param f - the code to run (may be async)
 * @returns what f returns
 */
export async function withSeededRandom<T>(seed: number, f: () => T | Promise<T>): Promise<T> {
  const c = globalThis.crypto;
  const prng = new Prng(seed);
  const own = Object.getOwnPropertyDescriptor(c, "getRandomValues");
  const real = c.getRandomValues.bind(c);
  Object.defineProperty(c, "getRandomValues", {
    configurable: true,
    value: (a: Uint8Array) => {
      if (/[\\/]@noble[\\/]curves[\\/]abstract[\\/]curve\.js/.test(new Error().stack ?? "")) return real(a);
      const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      for (let i = 0; i < b.length; i++) b[i] = prng.nextU32() & 0xff;
      return a;
    },
  });
  try {
    return await f();
  } finally {
    if (own) Object.defineProperty(c, "getRandomValues", own);
    else delete (c as unknown as Record<string, unknown>).getRandomValues;
  }
}
