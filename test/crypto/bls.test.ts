import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import * as bls from "../../offchain/crypto/bls";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { InvalidLengthError, InvalidPointError } from "../../offchain/errors";
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
