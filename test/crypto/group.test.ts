import { expect } from "chai";
import fc from "fast-check";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import * as g from "../../offchain/crypto/group";
import { InvalidLengthError, InvalidPointError, InvalidScalarError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";

const scalarArb = fc.bigInt({ min: 1n, max: g.ORDER - 1n });

describe("crypto/group (secp256k1)", () => {
  describe("# scalars", () => {
    it("randomScalar is in [1, q) and not repeated", () => {
      const seen = new Set<bigint>();
      for (let i = 0; i < 200; i++) {
        const k = g.randomScalar();
        expect(k > 0n && k < g.ORDER).to.equal(true);
        seen.add(k);
      }
      expect(seen.size).to.equal(200);
    });

    it("rejects zero, negative and out-of-range scalars with a typed error", () => {
      for (const k of [0n, -1n, g.ORDER, g.ORDER + 5n]) {
        expectThrows(() => g.mulBase(k), InvalidScalarError, "INVALID_SCALAR", /^mulBase: scalar must be in \[1, q\)/);
      }
      expectThrows(() => g.invert(0n), InvalidScalarError, "INVALID_SCALAR", /^invert:/);
      expectThrows(() => g.mulBase(5 as unknown as bigint), InvalidScalarError, "INVALID_SCALAR", /bigint/);
    });

    it("scalar encoding round-trips and checks range", () => {
      fc.assert(fc.property(scalarArb, (k) => g.decodeScalar(g.encodeScalar(k)) === k));
      expectThrows(() => g.decodeScalar(new Uint8Array(32)), InvalidScalarError, "INVALID_SCALAR");
      expectThrows(() => g.decodeScalar(new Uint8Array(31)), InvalidLengthError, "INVALID_LENGTH");
    });

    it("invert gives k * k^-1 = 1", () => {
      fc.assert(
        fc.property(scalarArb, (k) => g.mulMod(k, g.invert(k)) === 1n),
        { numRuns: 50 },
      );
    });
  });

  describe("# points", () => {
    it("matches noble's secp256k1 public keys (external reference)", () => {
      const sk = secp256k1.utils.randomSecretKey();
      const k = BigInt("0x" + Buffer.from(sk).toString("hex"));
      expect(Buffer.from(g.encodePoint(g.mulBase(k)))).to.deep.equal(Buffer.from(secp256k1.getPublicKey(sk, true)));
    });

    it("the generator is the SEC 2 secp256k1 G", () => {
      expect(Buffer.from(g.encodePoint(g.GENERATOR)).toString("hex")).to.equal(
        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
      );
    });

    it("encode/decode round-trips; scalar multiplication distributes", () => {
      fc.assert(
        fc.property(scalarArb, scalarArb, (a, b) => {
          fc.pre(g.addMod(a, b) !== 0n);
          const A = g.decodePoint(g.encodePoint(g.mulBase(a)));
          return g.add(A, g.mulBase(b)).equals(g.mulBase(g.addMod(a, b))) && g.mul(A, b).equals(g.mulBase(g.mulMod(a, b)));
        }),
        { numRuns: 20 },
      );
    });

    it("msmPublic equals the naive sum and rejects mismatched input", () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(scalarArb, fc.bigInt({ min: 0n, max: g.ORDER - 1n })), { minLength: 1, maxLength: 8 }), (pairs) => {
          const pts = pairs.map(([p]) => g.mulBase(p));
          const naive = pairs.reduce((acc, [, k], i) => acc.add(pts[i].multiplyUnsafe(k)), secp256k1.Point.ZERO);
          return g
            .msmPublic(
              pts,
              pairs.map(([, k]) => k),
            )
            .equals(naive);
        }),
        { numRuns: 15 },
      );
      expectThrows(() => g.msmPublic([g.GENERATOR], []), InvalidScalarError, "INVALID_SCALAR", /^msmPublic/);
      expectThrows(() => g.msmPublic([g.GENERATOR], [g.ORDER]), InvalidScalarError, "INVALID_SCALAR");
    });

    it("precompute gives the same products", () => {
      const X = g.mulBase(g.randomScalar());
      const Y = g.precompute(X);
      const k = g.randomScalar();
      expect(g.mul(Y, k).equals(g.mul(X, k))).to.equal(true);
    });

    it("rejects wrong lengths, bad prefixes, off-curve x and the identity", () => {
      const good = g.encodePoint(g.mulBase(7n));
      expectThrows(() => g.decodePoint(good.subarray(0, 32)), InvalidLengthError, "INVALID_LENGTH", /^decodePoint: expected 33 bytes/);
      const badPrefix = Uint8Array.from(good);
      badPrefix[0] = 0x04;
      expectThrows(() => g.decodePoint(badPrefix), InvalidPointError, "INVALID_POINT", /prefix/);
      // x = 5 has no point on secp256k1 (5^3 + 7 = 132 is a non-residue mod p).
      const offCurve = new Uint8Array(33);
      offCurve[0] = 0x02;
      offCurve[32] = 5;
      expectThrows(() => g.decodePoint(offCurve), InvalidPointError, "INVALID_POINT", /not a point/);
      // x = p (not a field element)
      const bigX = Uint8Array.from(Buffer.from("02fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f", "hex"));
      expectThrows(() => g.decodePoint(bigX), InvalidPointError, "INVALID_POINT");
      expectThrows(() => g.encodePoint(secp256k1.Point.ZERO), InvalidPointError, "INVALID_POINT", /identity/);
      expectThrows(() => g.mul(secp256k1.Point.ZERO, 3n), InvalidPointError, "INVALID_POINT");
    });
  });
});
