import { expect } from "chai";
import { Bits, BitsError } from "../../offchain/mssa/bits";
import { expectThrows } from "../helpers/errors";

const bits = (s: string) => Bits.fromString(s);
const hex = (b: Bits) => Buffer.from(b.bytes).toString("hex");

/** Asserts a BitsError (code INVALID_LENGTH) with exactly this message. */
function rejects(f: () => unknown, message: string) {
  expectThrows(f, BitsError, "INVALID_LENGTH", new RegExp(`^${message.replace(/[[\]()]/g, "\\$&")}$`));
}

describe("mssa/bits", () => {
  describe("# fromBytes", () => {
    it("takes every bit by default and copies its input", () => {
      const src = Uint8Array.from([0xa5, 0x0f]);
      const b = Bits.fromBytes(src);
      expect(b.length).to.equal(16);
      expect(b.toString()).to.equal("1010010100001111");
      src[0] = 0;
      expect(hex(b)).to.equal("a50f");
      expect(Bits.fromBytes(new Uint8Array(0)).length).to.equal(0);
      expect(Bits.fromBytes(new Uint8Array(0), 0).toString()).to.equal("");
    });

    it("clears the unused trailing bits of the last byte, for every partial length", () => {
      for (let n = 1; n <= 8; n++) {
        const b = Bits.fromBytes(Uint8Array.from([0x5a, 0xff]), 8 + n);
        expect(b.length).to.equal(8 + n);
        expect(b.bytes[0]).to.equal(0x5a);
        expect(b.bytes[1], `${n} bits`).to.equal((0xff << (8 - n)) & 0xff);
        expect(b.toString()).to.equal("01011010" + "1".repeat(n));
      }
    });

    it("refuses a length the bytes do not hold exactly", () => {
      rejects(() => Bits.fromBytes(new Uint8Array(2), 7), "2 bytes cannot hold exactly 7 bits");
      rejects(() => Bits.fromBytes(new Uint8Array(2), 17), "2 bytes cannot hold exactly 17 bits");
      rejects(() => Bits.fromBytes(new Uint8Array(1), 9.5), "1 bytes cannot hold exactly 9.5 bits");
      rejects(() => Bits.fromBytes(new Uint8Array(1), 7.5), "1 bytes cannot hold exactly 7.5 bits");
      rejects(() => Bits.fromBytes(new Uint8Array(0), -1), "0 bytes cannot hold exactly -1 bits");
      rejects(() => Bits.fromBytes(new Uint8Array(0), 1), "0 bytes cannot hold exactly 1 bits");
    });
  });

  describe("# fromString, fromArray, toString, toArray", () => {
    it("packs bits most significant first", () => {
      expect(hex(bits("1"))).to.equal("80");
      expect(hex(bits("0000000110"))).to.equal("0180");
      expect(hex(bits("11111111" + "01"))).to.equal("ff40");
      expect(bits("").length).to.equal(0);
      expect(bits("").bytes).to.have.length(0);
      expect(bits("101").toArray()).to.deep.equal([1, 0, 1]);
      expect(Bits.fromArray([1, 0, 2, 0]).toString()).to.equal("1010"); // any non-zero number is a 1
      for (const s of ["0", "1", "0110100111", "1".repeat(17)]) expect(bits(s).toString()).to.equal(s);
    });

    it("refuses anything but 0 and 1", () => {
      for (const s of ["102", "2", "a01", "01a", " 01", "01\n"]) rejects(() => bits(s), "a bit string holds only 0 and 1");
    });
  });

  describe("# random", () => {
    it("draws the requested number of bits, trailing bits cleared", () => {
      for (const n of [1, 3, 8, 9]) {
        const b = Bits.random(n);
        expect(b.length).to.equal(n);
        expect(b.bytes).to.have.length(Math.ceil(n / 8));
      }
      let tail = 0;
      for (let i = 0; i < 64; i++) tail |= Bits.random(3).bytes[0] & 0x1f;
      expect(tail).to.equal(0);
    });

    it("draws uniform bits (about half are ones; two draws differ)", () => {
      const b = Bits.random(8192);
      expect(b.weight()).to.be.within(4096 - 4 * 45, 4096 + 4 * 45); // 4 sigma of Bin(8192, 1/2)
      expect(Bits.random(256).equals(Bits.random(256))).to.equal(false);
    });

    it("refuses lengths below 1 and fractions", () => {
      rejects(() => Bits.random(0), "cannot draw 0 random bits");
      rejects(() => Bits.random(-8), "cannot draw -8 random bits");
      rejects(() => Bits.random(2.5), "cannot draw 2.5 random bits");
    });
  });

  describe("# get and slice", () => {
    it("reads bit i from the left", () => {
      const b = bits("0110000011");
      expect([0, 1, 2, 3, 7, 8, 9].map((i) => b.get(i))).to.deep.equal([0, 1, 1, 0, 0, 1, 1]);
    });

    it("refuses an index outside [0, length)", () => {
      const b = bits("0110000011");
      rejects(() => b.get(10), "bit 10 outside [0, 10)");
      rejects(() => b.get(-1), "bit -1 outside [0, 10)");
      rejects(() => b.get(0.5), "bit 0.5 outside [0, 10)");
    });

    it("slices [start, end), the empty slice included", () => {
      const b = bits("0110000011");
      expect(b.slice(0, 10).toString()).to.equal("0110000011");
      expect(b.slice(1, 3).toString()).to.equal("11");
      expect(b.slice(8, 10).toString()).to.equal("11");
      expect(b.slice(4, 4).length).to.equal(0);
      rejects(() => b.slice(-1, 2), "slice [-1, 2) of 10 bits");
      rejects(() => b.slice(0, 11), "slice [0, 11) of 10 bits");
      rejects(() => b.slice(3, 2), "slice [3, 2) of 10 bits");
    });
  });

  describe("# xor, not, weight, isZero, equals, concat", () => {
    it("xors bit by bit and refuses different lengths", () => {
      expect(bits("1100101").xor(bits("1010011")).toString()).to.equal("0110110");
      expect(bits("1100101").xor(bits("1010011")).length).to.equal(7);
      rejects(() => bits("10").xor(bits("101")), "xor of 2 and 3 bits");
    });

    it("negates every bit but keeps the unused trailing bits at 0", () => {
      const n = bits("101").not();
      expect(n.toString()).to.equal("010");
      expect(hex(n)).to.equal("40");
      expect(hex(bits("00000000").not())).to.equal("ff");
    });

    it("counts ones and recognizes zero", () => {
      expect(bits("").weight()).to.equal(0);
      expect(bits("1011000011111111").weight()).to.equal(11);
      expect(bits("0000000000").isZero()).to.equal(true);
      expect(bits("0000000001").isZero()).to.equal(false);
      expect(bits("1").isZero()).to.equal(false);
    });

    it("compares length and bits, without throwing on different lengths", () => {
      expect(bits("0101").equals(bits("0101"))).to.equal(true);
      expect(bits("0101").equals(bits("0111"))).to.equal(false);
      expect(bits("0").equals(bits("00"))).to.equal(false);
      expect(bits("00").equals(bits("0"))).to.equal(false);
    });

    it("concatenates across byte boundaries", () => {
      const c = bits("10101").concat(bits("0111"));
      expect(c.toString()).to.equal("101010111");
      expect(c.length).to.equal(9);
      expect(bits("").concat(bits("1")).toString()).to.equal("1");
    });
  });
});
