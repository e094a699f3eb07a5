import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import * as bls from "../../offchain/crypto/bls";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { hash_to_field } from "@noble/curves/abstract/hash-to-curve.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { InvalidLengthError, InvalidPointError, InvalidScalarError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";
import rfc from "../vectors/rfc9380-bls12381.json";
import geth from "../vectors/eip2537-go-ethereum.json";

const utf8 = (s: string) => new TextEncoder().encode(s);
const hex48 = (x: bigint) => x.toString(16).padStart(96, "0");

async function deployBlsFixture() {
  const mock = await (await ethers.getContractFactory("BLS12381Mock")).deploy();
  return { mock };
}

describe("crypto/bls (BLS12-381, EIP-2537)", () => {
  describe("# hash-to-curve: RFC 9380 vectors", () => {
    for (const v of rfc.G1.vectors) {
      it(`G1 "${v.msg.slice(0, 12)}"`, () => {
        const p = bls.hashToG1(utf8(v.msg), rfc.G1.dst).toAffine();
        expect([hex48(p.x), hex48(p.y)]).to.deep.equal([v.x, v.y]);
      });
    }
    for (const v of rfc.G2.vectors) {
      it(`G2 "${v.msg.slice(0, 12)}"`, () => {
        const p = bls.hashToG2(utf8(v.msg), rfc.G2.dst).toAffine();
        expect([hex48(p.x.c0), hex48(p.x.c1), hex48(p.y.c0), hex48(p.y.c1)]).to.deep.equal([v.x_c0, v.x_c1, v.y_c0, v.y_c1]);
      });
    }
  });

  describe("# EIP-2537 encodings: go-ethereum precompile vectors", () => {
    for (const v of geth.g1add) {
      it(`${v.name}: decode, add in noble, encode`, () => {
        const input = fromHex(v.input);
        const a = bls.decodeG1Eip2537(input.subarray(0, 128));
        const b = bls.decodeG1Eip2537(input.subarray(128, 256));
        expect(toHex(bls.encodeG1Eip2537(a.add(b)))).to.equal("0x" + v.expected);
      });
    }
    for (const v of geth.pairing) {
      it(`${v.name}: noble's pairing product agrees`, () => {
        const input = fromHex(v.input);
        const terms = [];
        for (let off = 0; off < input.length; off += 384) {
          terms.push({
            g1: bls.decodeG1Eip2537(input.subarray(off, off + 128)),
            g2: bls.decodeG2Eip2537(input.subarray(off + 128, off + 384)),
          });
        }
        expect(bls.pairingProductIsOne(terms)).to.equal(BigInt("0x" + v.expected) === 1n);
        expect(toHex(bls.encodePairingInput(terms))).to.equal("0x" + v.input);
      });
    }
  });

  describe("# differential: the EVM precompiles and noble agree", () => {
    it("vectors through BLS12381.sol", async () => {
      const { mock } = await loadFixture(deployBlsFixture);
      for (const v of geth.pairing) expect(await mock.pairingCheck("0x" + v.input)).to.equal(BigInt("0x" + v.expected) === 1n);
      const v = geth.g1add[0];
      expect(await mock.g1Add("0x" + v.input.slice(0, 256), "0x" + v.input.slice(256))).to.equal("0x" + v.expected);
    });

    it("random products e(aP, bQ) e(-abP, Q) = 1, and a perturbed one is not", async () => {
      const { mock } = await loadFixture(deployBlsFixture);
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 1n, max: bls.BLS_ORDER - 1n }),
          fc.bigInt({ min: 1n, max: bls.BLS_ORDER - 1n }),
          fc.boolean(),
          async (a, b, perturb) => {
            const ab = (a * b + (perturb ? 1n : 0n)) % bls.BLS_ORDER || 1n;
            const terms = [
              { g1: bls.G1.BASE.multiply(a), g2: bls.G2.BASE.multiply(b) },
              { g1: bls.G1.BASE.multiply(ab).negate(), g2: bls.G2.BASE },
            ];
            expect(await mock.pairingCheck(toHex(bls.encodePairingInput(terms)))).to.equal(bls.pairingProductIsOne(terms));
          },
        ),
        { numRuns: 6 },
      );
    });

    it("G1/G2 scalar multiplication and addition agree", async () => {
      const { mock } = await loadFixture(deployBlsFixture);
      const k = bls.randomBlsScalar();
      const P = bls.hashToG1(utf8("p"), bls.BLS_DST.G1);
      const Q = bls.hashToG2(utf8("q"), bls.BLS_DST.G2);
      expect(await mock.g1Mul(toHex(bls.encodeG1Eip2537(P)), k)).to.equal(toHex(bls.encodeG1Eip2537(P.multiply(k))));
      expect(await mock.g2Mul(toHex(bls.encodeG2Eip2537(Q)), k)).to.equal(toHex(bls.encodeG2Eip2537(Q.multiply(k))));
      expect(await mock.g2Add(toHex(bls.encodeG2Eip2537(Q)), toHex(bls.encodeG2Eip2537(Q)))).to.equal(
        toHex(bls.encodeG2Eip2537(Q.double())),
      );
    });

    it("rejects malformed input lengths and invalid points on-chain", async () => {
      const { mock } = await loadFixture(deployBlsFixture);
      await expect(mock.pairingCheck("0x")).to.be.revertedWithCustomError(mock, "BLS12381__InvalidInputLength").withArgs(0);
      const bad = new Uint8Array(384);
      bad[63] = 1; // x = 1, y = 0: not on the curve
      await expect(mock.pairingCheck(toHex(bad)))
        .to.be.revertedWithCustomError(mock, "BLS12381__PrecompileFailed")
        .withArgs("0x000000000000000000000000000000000000000F");
    });

    it("every wrapper checks its input lengths before calling the precompile", async () => {
      const { mock } = await loadFixture(deployBlsFixture);
      const g1 = toHex(bls.encodeG1Eip2537(bls.G1.BASE));
      const g2 = toHex(bls.encodeG2Eip2537(bls.G2.BASE));
      const short = (h: string) => h.slice(0, -2); // one byte less
      const err = "BLS12381__InvalidInputLength";
      await expect(mock.pairingCheck(short(g1 + g2.slice(2))))
        .to.be.revertedWithCustomError(mock, err)
        .withArgs(383);
      await expect(mock.g1Add(short(g1), g1))
        .to.be.revertedWithCustomError(mock, err)
        .withArgs(255);
      await expect(mock.g1Add(g1, g1 + "00"))
        .to.be.revertedWithCustomError(mock, err)
        .withArgs(257);
      await expect(mock.g1Mul(short(g1), 2))
        .to.be.revertedWithCustomError(mock, err)
        .withArgs(127);
      await expect(mock.g2Add(short(g2), g2))
        .to.be.revertedWithCustomError(mock, err)
        .withArgs(511);
      await expect(mock.g2Add(g2, short(g2)))
        .to.be.revertedWithCustomError(mock, err)
        .withArgs(511);
      await expect(mock.g2Mul(g2 + "00", 2))
        .to.be.revertedWithCustomError(mock, err)
        .withArgs(257);
      // the right lengths go through
      expect(await mock.g1Add(g1, g1)).to.equal(toHex(bls.encodeG1Eip2537(bls.G1.BASE.double())));
    });
  });

  describe("# map to G1: BLS12381.mapFpToG1 is RFC 9380 map_to_curve with the cofactor cleared", () => {
    it("maps each field element as noble does, and the two of hash_to_field add up to hash_to_curve", async () => {
      const { mock } = await loadFixture(deployBlsFixture);
      const fp = (u: bigint) => "0x" + "00".repeat(16) + hex48(u);
      // noble's type asks for bigint[], but for G1 (m = 1) it takes, and checks for, one bigint
      const mapToG1 = bls12_381.G1.mapToCurve as unknown as (u: bigint) => bls.G1Point;
      for (const [i, msg] of ["", "abc", "metatrust"].entries()) {
        const dst = bls.BLS_DST.G1.slice(0, 10 + 17 * i); // 10, 27 and 44 bytes
        const [[u0], [u1]] = hash_to_field(utf8(msg), 2, {
          DST: dst,
          p: bls.BLS_P,
          m: 1,
          k: 128,
          expand: "xmd",
          hash: sha256,
        });
        const q0 = await mock.mapFpToG1(fp(u0));
        const q1 = await mock.mapFpToG1(fp(u1));
        expect(q0).to.equal(toHex(bls.encodeG1Eip2537(mapToG1(u0))));
        expect(q1).to.equal(toHex(bls.encodeG1Eip2537(mapToG1(u1))));
        expect(await mock.g1Add(q0, q1)).to.equal(toHex(bls.encodeG1Eip2537(bls.hashToG1(utf8(msg), dst))));
      }
    });

    it("refuses an input that is not 64 bytes, and a field element that is not canonical (>= p)", async () => {
      const { mock } = await loadFixture(deployBlsFixture);
      await expect(mock.mapFpToG1("0x" + "00".repeat(63)))
        .to.be.revertedWithCustomError(mock, "BLS12381__InvalidInputLength")
        .withArgs(63);
      await expect(mock.mapFpToG1("0x" + "00".repeat(65)))
        .to.be.revertedWithCustomError(mock, "BLS12381__InvalidInputLength")
        .withArgs(65);
      await expect(mock.mapFpToG1("0x" + "00".repeat(16) + hex48(bls.BLS_P)))
        .to.be.revertedWithCustomError(mock, "BLS12381__PrecompileFailed")
        .withArgs("0x0000000000000000000000000000000000000010");
      // p - 1 is canonical: it maps
      expect(await mock.mapFpToG1("0x" + "00".repeat(16) + hex48(bls.BLS_P - 1n))).to.have.length(2 + 256);
    });
  });

  describe("# decoding checks", () => {
    it("round-trips G1 and G2, including the identity", () => {
      const P = bls.G1.BASE.multiply(bls.randomBlsScalar());
      const Q = bls.G2.BASE.multiply(bls.randomBlsScalar());
      expect(bls.decodeG1Eip2537(bls.encodeG1Eip2537(P)).equals(P)).to.equal(true);
      expect(bls.decodeG2Eip2537(bls.encodeG2Eip2537(Q)).equals(Q)).to.equal(true);
      expect(bls.decodeG1Eip2537(new Uint8Array(128)).is0()).to.equal(true);
      expect(bls.decodeG1(P.toBytes()).equals(P)).to.equal(true);
      expect(bls.decodeG2(Q.toBytes()).equals(Q)).to.equal(true);
    });

    it("rejects wrong lengths, non-canonical field elements, off-curve and non-subgroup points", () => {
      expectThrows(() => bls.decodeG1Eip2537(new Uint8Array(127)), InvalidLengthError, "INVALID_LENGTH");
      expectThrows(() => bls.decodeG2Eip2537(new Uint8Array(255)), InvalidLengthError, "INVALID_LENGTH");
      const e = bls.encodeG1Eip2537(bls.G1.BASE);
      const top = Uint8Array.from(e);
      top[0] = 1;
      expectThrows(() => bls.decodeG1Eip2537(top), InvalidPointError, "INVALID_POINT", /top 16 bytes/);
      const off = Uint8Array.from(e);
      off[127] ^= 1;
      expectThrows(() => bls.decodeG1Eip2537(off), InvalidPointError, "INVALID_POINT", /not a point/);
      // (x, y) = (0, 2) lies on y^2 = x^3 + 4 but not in the r-order subgroup
      const nonSub = new Uint8Array(128);
      nonSub[127] = 2;
      expectThrows(() => bls.decodeG1Eip2537(nonSub), InvalidPointError, "INVALID_POINT", /subgroup/);
      expectThrows(() => bls.decodeG1(bls.G1.ZERO.toBytes()), InvalidPointError, "INVALID_POINT", /identity/);
      expectThrows(() => bls.decodeG1(new Uint8Array(47)), InvalidLengthError, "INVALID_LENGTH");
    });
  });
});

describe("crypto/bls: constants, scalars, pairing products and decoding at every boundary", () => {
  const Fp2 = bls12_381.fields.Fp2;
  /** EIP-2537 encoding of raw coordinates (no validity check), for points noble would refuse to build. */
  const fp = (x: bigint) => fromHex(x.toString(16).padStart(128, "0"));
  const g2Raw = (x0: bigint, x1: bigint, y0: bigint, y1: bigint) => Uint8Array.from([...fp(x0), ...fp(x1), ...fp(y0), ...fp(y1)]);

  it("the constants are the curve's and the spec's", () => {
    expect(bls.BLS_ORDER).to.equal(0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n);
    expect(bls.BLS_P).to.equal(0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaabn);
    expect(bls.BLS_DST).to.deep.equal({
      G1: "METATRUST-V1-BLS12381G1_XMD:SHA-256_SSWU_RO_",
      G2: "METATRUST-V1-BLS12381G2_XMD:SHA-256_SSWU_RO_",
    });
    expect(bls.EIP2537).to.deep.equal({ FP: 64, G1: 128, G2: 256, PAIR: 384 });
  });

  it("assertBlsScalar takes exactly [1, r) bigints and names the caller and the parameter", () => {
    for (const k of [0n, -1n, bls.BLS_ORDER, 5 as unknown as bigint]) {
      expectThrows(() => bls.assertBlsScalar("f", k), InvalidScalarError, "INVALID_SCALAR", /^f: scalar must be a bigint in \[1, r\)$/);
    }
    expectThrows(() => bls.assertBlsScalar("g", 0n, "sk"), InvalidScalarError, "INVALID_SCALAR", /^g: sk must be a bigint in \[1, r\)$/);
    // the scalar multiplications name themselves in their refusals
    expectThrows(() => bls.g1Mul(bls.G1.BASE, 0n), InvalidScalarError, "INVALID_SCALAR", /^g1Mul: scalar must be/);
    expectThrows(() => bls.g2MulBase(bls.BLS_ORDER), InvalidScalarError, "INVALID_SCALAR", /^g2MulBase: scalar must be/);
    expect(() => bls.assertBlsScalar("f", 1n)).to.not.throw();
    expect(() => bls.assertBlsScalar("f", bls.BLS_ORDER - 1n)).to.not.throw();
    const k = bls.randomBlsScalar();
    expect(k > 0n && k < bls.BLS_ORDER).to.equal(true);
    expect(k).to.not.equal(bls.randomBlsScalar());
  });

  it("pairingProductIsOne: the empty product is 1, e(P, Q) alone is not, bilinearity holds", () => {
    const P = bls.G1.BASE.multiply(3n);
    const Q = bls.G2.BASE.multiply(5n);
    expect(bls.pairingProductIsOne([])).to.equal(true);
    expect(bls.pairingProductIsOne([{ g1: P, g2: Q }])).to.equal(false);
    expect(
      bls.pairingProductIsOne([
        { g1: P, g2: Q },
        { g1: bls.G1.BASE.multiply(15n).negate(), g2: bls.G2.BASE },
      ]),
    ).to.equal(true);
    expect(
      bls12_381.fields.Fp12.eql(bls.pairing(P, bls.G2.BASE.multiply(7n)), bls.pairing(bls.G1.BASE.multiply(21n), bls.G2.BASE)),
    ).to.equal(true);
    expect(bls12_381.fields.Fp12.eql(bls.pairing(P, Q), bls12_381.fields.Fp12.ONE)).to.equal(false);
  });

  it("encodes the identity as zeros and a pairing input as the concatenated pairs", () => {
    expect(toHex(bls.encodeG1Eip2537(bls.G1.ZERO))).to.equal("0x" + "00".repeat(128));
    expect(toHex(bls.encodeG2Eip2537(bls.G2.ZERO))).to.equal("0x" + "00".repeat(256));
    expect(bls.decodeG2Eip2537(new Uint8Array(256)).is0()).to.equal(true);
    const t = [
      { g1: bls.G1.BASE, g2: bls.G2.BASE },
      { g1: bls.G1.ZERO, g2: bls.G2.BASE.double() },
    ];
    const enc = bls.encodePairingInput(t);
    expect(toHex(enc)).to.equal(
      toHex(
        Uint8Array.from([
          ...bls.encodeG1Eip2537(t[0].g1),
          ...bls.encodeG2Eip2537(t[0].g2),
          ...bls.encodeG1Eip2537(t[1].g1),
          ...bls.encodeG2Eip2537(t[1].g2),
        ]),
      ),
    );
    expect(bls.encodePairingInput([])).to.have.length(0);
    // the G1 generator's x from the curve's definition, 16 zero bytes first
    expect(toHex(bls.encodeG1Eip2537(bls.G1.BASE).subarray(0, 64))).to.equal(
      "0x" + "00".repeat(16) + "17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb",
    );
  });

  it("decodeG1Eip2537 checks the length, each field element's top 16 bytes and range, the curve and the subgroup", () => {
    const E = "decodeG1Eip2537";
    for (const b of [new Uint8Array(129), Array.from({ length: 128 }, () => 0) as unknown as Uint8Array]) {
      expectThrows(() => bls.decodeG1Eip2537(b), InvalidLengthError, "INVALID_LENGTH", new RegExp(`^${E}: expected 128 bytes$`));
    }
    const good = bls.encodeG1Eip2537(bls.G1.BASE);
    for (const i of [0, 15, 64, 79]) {
      const b = Uint8Array.from(good);
      b[i] = 1;
      expectThrows(
        () => bls.decodeG1Eip2537(b),
        InvalidPointError,
        "INVALID_POINT",
        new RegExp(`^${E}: field element has non-zero top 16 bytes$`),
      );
    }
    expectThrows(() => bls.decodeG1Eip2537(new Uint8Array(128).fill(0xff)), InvalidPointError, "INVALID_POINT", /top 16 bytes$/);
    // x = p and y = p are not field elements (p - 1 is, and then the curve equation fails)
    const xp = Uint8Array.from([...fp(bls.BLS_P), ...good.subarray(64)]);
    expectThrows(() => bls.decodeG1Eip2537(xp), InvalidPointError, "INVALID_POINT", new RegExp(`^${E}: field element not below p$`));
    const yp = Uint8Array.from([...good.subarray(0, 64), ...fp(bls.BLS_P)]);
    expectThrows(() => bls.decodeG1Eip2537(yp), InvalidPointError, "INVALID_POINT", /not below p$/);
    const xp1 = Uint8Array.from([...fp(bls.BLS_P - 1n), ...good.subarray(64)]);
    expectThrows(() => bls.decodeG1Eip2537(xp1), InvalidPointError, "INVALID_POINT", new RegExp(`^${E}: not a point on the curve$`));
    const nonSub = new Uint8Array(128);
    nonSub[127] = 2;
    expectThrows(
      () => bls.decodeG1Eip2537(nonSub),
      InvalidPointError,
      "INVALID_POINT",
      new RegExp(`^${E}: point is not in the prime-order subgroup$`),
    );
  });

  it("decodeG2Eip2537 checks the length, the curve and the subgroup", () => {
    const E = "decodeG2Eip2537";
    expectThrows(
      () => bls.decodeG2Eip2537(new Uint8Array(257)),
      InvalidLengthError,
      "INVALID_LENGTH",
      new RegExp(`^${E}: expected 256 bytes$`),
    );
    const good = bls.encodeG2Eip2537(bls.G2.BASE);
    const off = Uint8Array.from(good);
    off[255] ^= 1;
    expectThrows(() => bls.decodeG2Eip2537(off), InvalidPointError, "INVALID_POINT", new RegExp(`^${E}: not a point on the curve$`));
    // x = 2 is on E2: y^2 = x^3 + 4(1 + u), but the point is not in the r-order subgroup
    const x = Fp2.create({ c0: 2n, c1: 0n });
    const y = Fp2.sqrt(Fp2.add(Fp2.mul(Fp2.sqr(x), x), Fp2.create({ c0: 4n, c1: 4n })));
    expectThrows(
      () => bls.decodeG2Eip2537(g2Raw(2n, 0n, y.c0, y.c1)),
      InvalidPointError,
      "INVALID_POINT",
      new RegExp(`^${E}: point is not in the prime-order subgroup$`),
    );
    expect(bls.decodeG2Eip2537(good).equals(bls.G2.BASE)).to.equal(true);
    // no byte zero at all: the all-zeros shortcut must not take it for the identity (the padding check refuses it)
    expectThrows(() => bls.decodeG2Eip2537(new Uint8Array(256).fill(0xff)), InvalidPointError, "INVALID_POINT", new RegExp(`^${E}: `));
  });

  it("decodeG2Eip2537 refuses non-canonical field elements (the field check's message is the cause)", () => {
    const good = bls.encodeG2Eip2537(bls.G2.BASE);
    for (const i of [0, 15, 64, 128, 192]) {
      const b = Uint8Array.from(good);
      b[i] = 1;
      let err: unknown;
      try {
        bls.decodeG2Eip2537(b);
      } catch (e) {
        err = e;
      }
      expect(err, `byte ${i}`).to.be.instanceOf(InvalidPointError);
      expect((err as Error).message).to.match(/^decodeG2Eip2537: /);
      expect(((err as Error).cause as Error).message).to.equal("decodeG2Eip2537: field element has non-zero top 16 bytes");
    }
    const big = Uint8Array.from(good);
    big.set(fp(bls.BLS_P), 64);
    expectThrows(() => bls.decodeG2Eip2537(big), InvalidPointError, "INVALID_POINT", /^decodeG2Eip2537: /);
  });

  it("compressed decoding checks the length, the curve, the subgroup and the identity", () => {
    for (const b of [new Uint8Array(49), Array.from({ length: 48 }, () => 0) as unknown as Uint8Array]) {
      expectThrows(() => bls.decodeG1(b), InvalidLengthError, "INVALID_LENGTH", /^decodeG1: expected 48 bytes$/);
    }
    for (const b of [new Uint8Array(95), Array.from({ length: 96 }, () => 0) as unknown as Uint8Array]) {
      expectThrows(() => bls.decodeG2(b), InvalidLengthError, "INVALID_LENGTH", /^decodeG2: expected 96 bytes$/);
    }
    const flip = (b: Uint8Array, i: number) => {
      const c = Uint8Array.from(b);
      c[c.length - 1] ^= i;
      return c;
    };
    expectThrows(
      () => bls.decodeG1(flip(bls.G1.BASE.toBytes(), 7)),
      InvalidPointError,
      "INVALID_POINT",
      /^decodeG1: not a point on the curve$/,
    );
    expectThrows(
      () => bls.decodeG1(flip(bls.G1.BASE.toBytes(), 1)),
      InvalidPointError,
      "INVALID_POINT",
      /^decodeG1: point is not in the prime-order subgroup$/,
    );
    expectThrows(() => bls.decodeG1(bls.G1.ZERO.toBytes()), InvalidPointError, "INVALID_POINT", /^decodeG1: the identity is not allowed$/);
    expectThrows(
      () => bls.decodeG2(flip(bls.G2.BASE.toBytes(), 3)),
      InvalidPointError,
      "INVALID_POINT",
      /^decodeG2: not a point on the curve$/,
    );
    expectThrows(
      () => bls.decodeG2(flip(bls.G2.BASE.toBytes(), 1)),
      InvalidPointError,
      "INVALID_POINT",
      /^decodeG2: point is not in the prime-order subgroup$/,
    );
    expectThrows(() => bls.decodeG2(bls.G2.ZERO.toBytes()), InvalidPointError, "INVALID_POINT", /^decodeG2: the identity is not allowed$/);
  });
});
