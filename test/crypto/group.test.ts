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

describe("crypto/group: input checks and known answers", () => {
  const notPoint = { x: 1n } as unknown as g.Point;
  const notBig = 5 as unknown as bigint;

  it("assertScalar names the caller and the parameter, and takes exactly [1, q)", () => {
    expectThrows(() => g.assertScalar("f", notBig), InvalidScalarError, "INVALID_SCALAR", /^f: scalar must be a bigint$/);
    expectThrows(() => g.assertScalar("f", 0n, "k"), InvalidScalarError, "INVALID_SCALAR", /^f: k must be in \[1, q\), got 0$/);
    expectThrows(
      () => g.assertScalar("f", g.ORDER),
      InvalidScalarError,
      "INVALID_SCALAR",
      new RegExp(`^f: scalar must be in \\[1, q\\), got ${g.ORDER}$`),
    );
    expect(() => g.assertScalar("f", 1n)).to.not.throw();
    expect(() => g.assertScalar("f", g.ORDER - 1n)).to.not.throw();
    expect(g.mulBase(1n).equals(g.GENERATOR)).to.equal(true);
    expect(g.mulBase(g.ORDER - 1n).equals(g.GENERATOR.negate())).to.equal(true);
    expect(g.CURVE_NAME).to.equal("secp256k1");
    expect(g.ORDER).to.equal(0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n);
  });

  it("mul, precompute and encodePoint refuse non-points and the identity, naming themselves", () => {
    expectThrows(() => g.mul(g.GENERATOR, 0n), InvalidScalarError, "INVALID_SCALAR", /^mul: scalar must be in/);
    expectThrows(() => g.mul(notPoint, 2n), InvalidPointError, "INVALID_POINT", /^mul: expected a secp256k1 point$/);
    expectThrows(() => g.mul(secp256k1.Point.ZERO, 2n), InvalidPointError, "INVALID_POINT", /^mul: the identity is not allowed$/);
    expectThrows(() => g.precompute(secp256k1.Point.ZERO), InvalidPointError, "INVALID_POINT", /^precompute: the identity is not allowed$/);
    expectThrows(() => g.encodePoint(notPoint), InvalidPointError, "INVALID_POINT", /^encodePoint: expected a secp256k1 point$/);
    expectThrows(
      () => g.encodePoint(secp256k1.Point.ZERO),
      InvalidPointError,
      "INVALID_POINT",
      /^encodePoint: the identity is not allowed$/,
    );
    expectThrows(() => g.encodeScalar(0n), InvalidScalarError, "INVALID_SCALAR", /^encodeScalar: scalar must be in/);
    expectThrows(() => g.invert(g.ORDER), InvalidScalarError, "INVALID_SCALAR", /^invert: scalar must be in/);
    expect(g.mul(g.GENERATOR, 3n).equals(g.mulBase(3n))).to.equal(true);
    expect(g.precompute(g.mulBase(5n)).equals(g.mulBase(5n))).to.equal(true);
    expect(g.add(g.mulBase(2n), g.mulBase(3n)).equals(g.mulBase(5n))).to.equal(true);
  });

  it("msmPublic takes scalars in [0, q) on non-identity points, one per point, below and above the Pippenger threshold", () => {
    for (const n of [1, 8, 9, 12]) {
      const pts = Array.from({ length: n }, (_, i) => g.mulBase(BigInt(i + 2)));
      const ks = Array.from({ length: n }, (_, i) => (i === 1 ? 0n : i === 2 ? g.ORDER - 1n : BigInt(3 * i + 1)));
      // sum (i + 2) k_i, computed in Z_q
      const expected = ks.reduce((acc, k, i) => g.addMod(acc, g.mulMod(k, BigInt(i + 2))), 0n);
      expect(g.msmPublic(pts, ks).equals(g.mulBase(expected)), `n = ${n}`).to.equal(true);
    }
    expect(g.msmPublic([g.GENERATOR], [0n]).is0()).to.equal(true);
    const msg = /^msmPublic: need as many scalars as points \(got (\d) and (\d)\)$/;
    expectThrows(() => g.msmPublic([], []), InvalidScalarError, "INVALID_SCALAR", /\(got 0 and 0\)$/);
    expectThrows(() => g.msmPublic([g.GENERATOR, g.GENERATOR], [1n]), InvalidScalarError, "INVALID_SCALAR", msg);
    expectThrows(() => g.msmPublic([g.GENERATOR], [1n, 2n]), InvalidScalarError, "INVALID_SCALAR", /\(got 1 and 2\)$/);
    expectThrows(
      () => g.msmPublic([g.GENERATOR, secp256k1.Point.ZERO], [1n, 1n]),
      InvalidPointError,
      "INVALID_POINT",
      /^msmPublic: the identity is not allowed$/,
    );
    for (const k of [-1n, g.ORDER, notBig]) {
      expectThrows(() => g.msmPublic([g.GENERATOR], [k]), InvalidScalarError, "INVALID_SCALAR", /^msmPublic: scalars must be in \[0, q\)$/);
    }
  });

  it("decodePoint names the length or type it got and the prefix it refused", () => {
    expectThrows(() => g.decodePoint(new Uint8Array(34)), InvalidLengthError, "INVALID_LENGTH", /^decodePoint: expected 33 bytes, got 34$/);
    const str = "x".repeat(33) as unknown as Uint8Array;
    expectThrows(() => g.decodePoint(str), InvalidLengthError, "INVALID_LENGTH", /^decodePoint: expected 33 bytes, got string$/);
    const good = g.encodePoint(g.mulBase(7n));
    for (const prefix of [0x00, 0x01, 0x04, 0x05]) {
      const b = Uint8Array.from(good);
      b[0] = prefix;
      expectThrows(
        () => g.decodePoint(b),
        InvalidPointError,
        "INVALID_POINT",
        new RegExp(`^decodePoint: prefix must be 0x02 or 0x03, got 0x${prefix.toString(16)}$`),
      );
    }
    const odd = Uint8Array.from(good);
    odd[0] = good[0] ^ 1;
    expect(g.decodePoint(odd).equals(g.mulBase(7n).negate())).to.equal(true);
    const offCurve = new Uint8Array(33);
    offCurve[0] = 0x03;
    offCurve[32] = 5;
    expectThrows(() => g.decodePoint(offCurve), InvalidPointError, "INVALID_POINT", /^decodePoint: not a point on secp256k1$/);
    expect(g.encodePoint(g.GENERATOR)).to.have.length(33);
  });

  it("an x with no point on the curve keeps the backend's reason as the error's cause", () => {
    const offCurve = new Uint8Array(33);
    offCurve[0] = 0x02;
    offCurve[32] = 5; // x = 5: x^3 + 7 = 132 is not a square mod p
    let err: unknown;
    try {
      g.decodePoint(offCurve);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InvalidPointError);
    expect((err as Error).cause, "the backend's own error").to.be.instanceOf(Error);
    expect((err as Error).cause).to.not.be.instanceOf(InvalidPointError);
  });

  it("scalar encoding is 32-byte big-endian and decoding takes exactly [1, q)", () => {
    expect(Buffer.from(g.encodeScalar(0x0102n)).toString("hex")).to.equal("00".repeat(30) + "0102");
    expect(g.decodeScalar(g.encodeScalar(g.ORDER - 1n))).to.equal(g.ORDER - 1n);
    expect(g.decodeScalar(g.encodeScalar(1n))).to.equal(1n);
    const q = Uint8Array.from(Buffer.from(g.ORDER.toString(16), "hex"));
    expectThrows(() => g.decodeScalar(q), InvalidScalarError, "INVALID_SCALAR", /^decodeScalar: scalar must be in \[1, q\)/);
    expectThrows(() => g.decodeScalar(new Uint8Array(33)), InvalidLengthError, "INVALID_LENGTH", /^decodeScalar: expected 32 bytes$/);
    const arr = Array.from({ length: 32 }, () => 1) as unknown as Uint8Array;
    expectThrows(() => g.decodeScalar(arr), InvalidLengthError, "INVALID_LENGTH", /^decodeScalar: expected 32 bytes$/);
  });

  it("modular arithmetic reduces into [0, q) (known answers)", () => {
    const q = g.ORDER;
    expect(g.addMod(q - 1n, 2n)).to.equal(1n);
    expect(g.addMod(-1n, 0n)).to.equal(q - 1n);
    expect(g.subMod(1n, 2n)).to.equal(q - 1n);
    expect(g.subMod(5n, 3n)).to.equal(2n);
    expect(g.mulMod(q - 1n, q - 1n)).to.equal(1n);
    expect(g.mulMod(-2n, 3n)).to.equal(q - 6n);
    expect(g.mod(-1n)).to.equal(q - 1n);
    expect(g.mod(q + 3n)).to.equal(3n);
    expect(g.invert(2n)).to.equal((q + 1n) / 2n);
  });
});
