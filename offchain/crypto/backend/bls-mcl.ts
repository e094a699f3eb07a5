/**
 * The mcl-wasm BLS12-381 backend (herumi/mcl compiled to WebAssembly).
 *
 * - Hash to curve: RFC 9380 hash_to_field gives (u0, u1) (to G1: expand_message_xmd on Node's
 *   SHA-256, ../xmd.ts, each 64-byte half reduced mod p by mcl; to G2: noble's); mcl maps each with its
 *   IRTF SSWU + 3-/11-isogeny map and clears the cofactor, and we add the two. Cofactor clearing
 *   is a multiplication by h_eff, which is linear, so clear(Q0) + clear(Q1) = clear(Q0 + Q1): this
 *   is RFC 9380's hash_to_curve. test/crypto/backends.test.ts checks it on the RFC's vectors.
 * - Pairing products: one Miller loop per term, multiplied, one final exponentiation. G2 points
 *   seen a second time (a registered key, the generator) keep their precomputed line
 *   coefficients (PrecomputedG2, up to LINE_CACHE_SIZE of them, least recently used evicted and
 *   freed), which skips the G2 arithmetic of later Miller loops.
 * - Points enter mcl from noble's affine coordinates with mcl's order check off: every point
 *   here is either noble's (decoded by bls.ts with noble's subgroup and on-curve checks, or
 *   computed) or mcl's own output. Untrusted bytes are never parsed by mcl.
 */
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { hash_to_field } from "@noble/curves/abstract/hash-to-curve.js";
import type * as Mcl from "mcl-wasm";
import { expandXmd } from "../xmd";
import type { G1Point, G2Point, PairingBackend } from "./types";

const G1 = bls12_381.G1.Point;
const G2 = bls12_381.G2.Point;
const Fp2 = bls12_381.fields.Fp2;
/** How many G2 points keep their Miller-loop lines. */
export const LINE_CACHE_SIZE = 256;

const hex = (x: bigint) => x.toString(16);

/**
 * Builds the backend on an initialized mcl (`await mcl.init(mcl.BLS12_381)`), and checks it on a
 * known answer (the RFC 9380 G1 vector for "abc" and e(g1, g2) e(-g1, g2) = 1).
 * @param mcl - the mcl-wasm module, initialized for BLS12-381
 * @returns the backend
 * @throws Error if mcl is on another curve or computes a wrong answer
 */
export function mclPairing(mcl: typeof Mcl): PairingBackend {
  if (mcl.curveType !== mcl.BLS12_381) throw new Error("mcl-wasm is initialized for another curve than BLS12-381");
  mcl.setMapToMode(mcl.IRTF);
  mcl.verifyOrderG1(false);
  mcl.verifyOrderG2(false);

  const toM1 = new WeakMap<G1Point, Mcl.G1>();
  const fromM1 = (P: Mcl.G1): G1Point => {
    const s = mcl.normalize(P).getStr(16).split(" ");
    if (s[0] === "0") return G1.ZERO;
    const A = G1.fromAffine({ x: BigInt("0x" + s[1]), y: BigInt("0x" + s[2]) });
    toM1.set(A, P);
    return A;
  };
  const m1 = (A: G1Point): Mcl.G1 => {
    let P = toM1.get(A);
    if (P === undefined) {
      P = new mcl.G1();
      if (!A.is0()) {
        const { x, y } = A.toAffine();
        P.setStr(`1 ${hex(x)} ${hex(y)}`, 16);
      }
      toM1.set(A, P);
    }
    return P;
  };
  const g2Str = (B: G2Point): string => {
    const { x, y } = B.toAffine();
    return `1 ${hex(x.c0)} ${hex(x.c1)} ${hex(y.c0)} ${hex(y.c1)}`;
  };
  const m2 = (s: string): Mcl.G2 => {
    const Q = new mcl.G2();
    Q.setStr(s, 16);
    return Q;
  };
  const fromM2 = (Q: Mcl.G2): G2Point => {
    const s = mcl.normalize(Q).getStr(16).split(" ");
    if (s[0] === "0") return G2.ZERO;
    const n = s.slice(1).map((v) => BigInt("0x" + v));
    return G2.fromAffine({ x: Fp2.create({ c0: n[0], c1: n[1] }), y: Fp2.create({ c0: n[2], c1: n[3] }) });
  };
  const fr = (k: bigint): Mcl.Fr => {
    const r = new mcl.Fr();
    r.setStr(hex(k), 16);
    return r;
  };
  const fp2 = (u: bigint[]): Mcl.Fp2 => {
    const f = new mcl.Fp2();
    f.setStr(`${hex(u[0])} ${hex(u[1])}`, 16);
    return f;
  };

  // G2 line cache: key = affine coordinates; value = lines once seen twice.
  const lines = new Map<string, Mcl.PrecomputedG2>();
  const seen = new Map<string, true>();
  const retain = (key: string): Mcl.PrecomputedG2 => {
    let L = lines.get(key);
    if (L !== undefined) {
      lines.delete(key); // re-insert: most recently used last
    } else {
      L = new mcl.PrecomputedG2(m2(key));
      if (lines.size >= LINE_CACHE_SIZE) {
        const [oldKey, old] = lines.entries().next().value as [string, Mcl.PrecomputedG2];
        lines.delete(oldKey);
        old.destroy();
      }
    }
    lines.set(key, L);
    return L;
  };
  const g2Gen = m2(g2Str(G2.BASE));

  const backend: PairingBackend = {
    name: "mcl",
    hashToG1(msg, dst) {
      // hash_to_field(msg, 2) with m = 1, L = 64: u_i = OS2IP(uniform[64 i .. 64 i + 64]) mod p
      const uniform = expandXmd(msg, dst, 128);
      const u0 = new mcl.Fp();
      u0.setBigEndianMod(uniform.subarray(0, 64));
      const u1 = new mcl.Fp();
      u1.setBigEndianMod(uniform.subarray(64, 128));
      return fromM1(mcl.add(u0.mapToG1(), u1.mapToG1()));
    },
    hashToG2(msg, dst) {
      const [u0, u1] = hash_to_field(msg, 2, { ...bls12_381.G2.defaults, DST: dst });
      return fromM2(mcl.add(fp2(u0).mapToG2(), fp2(u1).mapToG2()));
    },
    g1Mul: (A, k) => fromM1(mcl.mul(m1(A), fr(k))),
    g2MulBase: (k) => fromM2(mcl.mul(g2Gen, fr(k))),
    pairingProductIsOne(terms) {
      let acc: Mcl.GT | undefined;
      for (const { g1, g2 } of terms) {
        // refused as noble refuses it (cps.ts relies on it behind its own identity check)
        if (g1.is0() || g2.is0()) throw new Error("pairing is not available for ZERO point");
        const key = g2Str(g2);
        let e: Mcl.GT;
        if (lines.has(key) || seen.has(key)) {
          e = mcl.precomputedMillerLoop(m1(g1), retain(key));
        } else {
          if (seen.size >= 4 * LINE_CACHE_SIZE) seen.clear();
          seen.set(key, true);
          e = mcl.millerLoop(m1(g1), m2(key));
        }
        acc = acc === undefined ? e : mcl.mul(acc, e);
      }
      return acc === undefined || mcl.finalExp(acc).isOne();
    },
    retainG2(Q) {
      if (!Q.is0()) retain(g2Str(Q));
    },
  };
  backend.retainG2(G2.BASE);

  // Known answers before use: RFC 9380 J.9.1 ("abc") and a pairing identity.
  const abc = backend.hashToG1(new TextEncoder().encode("abc"), "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_").toAffine();
  if (abc.x !== 0x03567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903n)
    throw new Error("mcl-wasm's hash to G1 differs from RFC 9380");
  const g1 = G1.BASE;
  if (
    !backend.pairingProductIsOne([
      { g1, g2: G2.BASE },
      { g1: g1.negate(), g2: G2.BASE },
    ])
  )
    throw new Error("mcl-wasm's pairing product is wrong");
  if (backend.pairingProductIsOne([{ g1, g2: G2.BASE }])) throw new Error("mcl-wasm's pairing product is wrong");
  return backend;
}
