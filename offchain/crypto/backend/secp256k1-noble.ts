/**
 * The reference secp256k1 backend: @noble/curves, pure TypeScript on bigints. Constant-time
 * ladder for secret scalars, Pippenger for public multi-scalar products, window tables for
 * long-lived bases.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { pippenger } from "@noble/curves/abstract/curve.js";
import type { GroupBackend, SecpPoint } from "./types";

/** The noble backend (always available). */
export const nobleGroup: GroupBackend = {
  name: "noble",
  mulBase: (k) => secp256k1.Point.BASE.multiply(k),
  mul: (X, k) => X.multiply(k),
  msmPublic(points, scalars) {
    // Pippenger's bucket set-up dominates below about 8 points (measured: bench/results/crypto.md).
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: a speed threshold only: the naive sum and noble's pippenger give the same point for every input (msmPublic is tested against Z_q arithmetic at 1, 8, 9 and 12 points), so moving or removing the threshold is not observable
    if (points.length <= 8) {
      let acc = secp256k1.Point.ZERO;
      // Stryker disable next-line ConditionalExpression: skipping zero scalars is a shortcut: `if (true)` multiplies by 0, and multiplyUnsafe(0) is the identity, so the sum is unchanged
      for (let i = 0; i < points.length; i++) if (scalars[i] !== 0n) acc = acc.add(points[i].multiplyUnsafe(scalars[i]));
      return acc;
    }
    return pippenger(secp256k1.Point, points, scalars);
  },
  add: (X, Y) => X.add(Y),
  precompute(X: SecpPoint, windowBits: number) {
    const Y = secp256k1.Point.fromAffine(X.toAffine());
    // Stryker disable next-line BooleanLiteral: isLazy = true builds the same table at the first multiplication instead of now; products are the same, only the timing moves
    Y.precompute(windowBits, false);
    return Y;
  },
  decode(b) {
    const X = secp256k1.Point.fromBytes(b);
    X.assertValidity();
    return X;
  },
  encode: (X) => X.toBytes(true),
  ecdsaSign(digest, secretKey) {
    const b = secp256k1.sign(digest, secretKey, { prehash: false, lowS: true, format: "recovered" });
    return { signature: b.slice(1), recovery: b[0] };
  },
};
