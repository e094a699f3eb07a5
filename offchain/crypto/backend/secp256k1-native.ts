/**
 * The native secp256k1 backend: libsecp256k1 (bitcoin-core) through the `secp256k1` npm
 * package's N-API binding, which ships prebuilt binaries (no compiler at install).
 *
 * The binding works on SEC1 encodings, so each point operation maps to one call:
 *
 *   k*P          publicKeyCreate(k)             (constant-time, ecmult_gen)
 *   k*X          publicKeyTweakMul(X, k)        (constant-time, ecmult_const)
 *   X + Y        publicKeyCombine([X, Y])       (throws for the identity: mapped to ZERO)
 *   decode       publicKeyConvert(X33 -> X65)   (square root and on-curve check in C)
 *   ECDSA sign   ecdsaSign(digest, sk)          (RFC 6979 nonce, low s: the same bytes as noble's)
 *
 * Points stay noble points (affine, Z = 1, so noble's toAffine is free) and each one the
 * backend produced or decoded carries its 65-byte uncompressed encoding in a WeakMap, so a chain
 * of operations never converts twice. We load `secp256k1/bindings`, not the package root: the
 * root silently falls back to a slow pure-JS `elliptic` when the addon cannot load, and we want
 * that failure to be seen (./index.ts then falls back to noble with a warning).
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToNumberBE, numberToBytesBE } from "../bytes";
import type { GroupBackend, SecpPoint } from "./types";

/** The part of the `secp256k1` package's API this backend uses. */
export type Secp256k1Api = {
  publicKeyCreate(seckey: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyTweakMul(pubkey: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyCombine(pubkeys: Uint8Array[], compressed?: boolean): Uint8Array;
  publicKeyConvert(pubkey: Uint8Array, compressed?: boolean): Uint8Array;
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
};

const Point = secp256k1.Point;
const ORDER = Point.Fn.ORDER;

/**
 * Builds the backend on a loaded binding and checks it on a known answer (2*P) before use.
 * @param api - the binding (`require("secp256k1/bindings")`)
 * @returns the backend
 * @throws Error if the binding computes a wrong 2*P
 */
export function nativeGroup(api: Secp256k1Api): GroupBackend {
  const enc = new WeakMap<SecpPoint, Uint8Array>();

  /** The 65-byte uncompressed encoding of X (cached). */
  const u65 = (X: SecpPoint): Uint8Array => {
    let b = enc.get(X);
    if (b === undefined) {
      const { x, y } = X.toAffine();
      b = new Uint8Array(65);
      b[0] = 4;
      b.set(numberToBytesBE(x, 32), 1);
      b.set(numberToBytesBE(y, 32), 33);
      enc.set(X, b);
    }
    return b;
  };
  /** A noble point from a 65-byte encoding the binding produced (so valid), remembered. */
  const fromU65 = (b: Uint8Array): SecpPoint => {
    const X = Point.fromAffine({ x: bytesToNumberBE(b.subarray(1, 33)), y: bytesToNumberBE(b.subarray(33, 65)) });
    enc.set(X, b);
    return X;
  };
  const s32 = (k: bigint) => numberToBytesBE(k, 32);

  const add = (X: SecpPoint, Y: SecpPoint): SecpPoint => {
    if (X.is0()) return Y;
    if (Y.is0()) return X;
    const a = u65(X);
    const b = u65(Y);
    // combine refuses a sum at infinity, which happens exactly when Y = -X
    if (a[0] === b[0] && a.subarray(1, 33).every((v, i) => v === b[1 + i]) && a[64] !== b[64]) return Point.ZERO;
    return fromU65(api.publicKeyCombine([a, b], false));
  };

  const backend: GroupBackend = {
    name: "native",
    mulBase: (k) => fromU65(api.publicKeyCreate(s32(k), false)),
    mul: (X, k) => fromU65(api.publicKeyTweakMul(u65(X), s32(k), false)),
    msmPublic(points, scalars) {
      const terms: Uint8Array[] = [];
      for (let i = 0; i < points.length; i++)
        if (scalars[i] !== 0n) terms.push(api.publicKeyTweakMul(u65(points[i]), s32(scalars[i]), false));
      if (terms.length === 0) return Point.ZERO;
      if (terms.length === 1) return fromU65(terms[0]);
      try {
        // one call sums in Jacobian coordinates; it refuses only a total at infinity
        return fromU65(api.publicKeyCombine(terms, false));
      } catch {
        // the total is the identity: fold pairwise, where add() decides it exactly
        return terms.reduce((acc: SecpPoint, t) => add(acc, fromU65(t)), Point.ZERO);
      }
    },
    add,
    // libsecp256k1 has no per-point tables; X itself is as fast as it gets.
    precompute: (X) => X,
    decode: (b) => fromU65(api.publicKeyConvert(b, false)),
    encode(X) {
      const b = u65(X);
      const out = new Uint8Array(33);
      out[0] = 2 | (b[64] & 1);
      out.set(b.subarray(1, 33), 1);
      return out;
    },
    ecdsaSign(digest, secretKey) {
      // libsecp256k1's default nonce is RFC 6979's HMAC-SHA256 DRBG and its signatures are always
      // low-s with the recovery bit adjusted: noble's { lowS: true }. But it seeds the DRBG with
      // the digest's bytes as given, where RFC 6979 (and noble) seed it with bits2octets(digest),
      // the digest mod q: so a digest >= q (about 2^-128 of them) is reduced here first. It signs
      // the same number either way.
      const h = bytesToNumberBE(digest);
      const { signature, recid } = api.ecdsaSign(h >= ORDER ? numberToBytesBE(h - ORDER, 32) : digest, secretKey);
      return { signature, recovery: recid };
    },
  };
  const two = backend.mulBase(2n);
  if (!two.equals(Point.BASE.double())) throw new Error("libsecp256k1 computed a wrong 2*P");
  return backend;
}
