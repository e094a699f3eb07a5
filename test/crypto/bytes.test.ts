import { expect } from "chai";
import fc from "fast-check";
import * as b from "../../offchain/crypto/bytes";
import { InvalidLengthError, InvalidParameterError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";

const hex = (u: Uint8Array) => Buffer.from(u).toString("hex");

describe("crypto/bytes", () => {
  describe("# toBytes, concat", () => {
    it("big-endian integers (eight bytes at a time) agree with a byte-at-a-time reference, at every length", () => {
      const ref = (x: Uint8Array) => x.reduce((n, v) => (n << 8n) | BigInt(v), 0n);
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 70 }), fc.nat({ max: 7 }), (x, off) => {
          const shifted = new Uint8Array(x.length + off);
          shifted.set(x, off);
          const view = shifted.subarray(off); // not aligned to its buffer
          const n = b.bytesToNumberBE(view);
          return n === ref(x) && Buffer.from(b.numberToBytesBE(n, x.length)).equals(Buffer.from(x));
        }),
        { numRuns: 300 },
      );
    });

    it("UTF-8 encodes strings and returns bytes unchanged", () => {
      expect(hex(b.toBytes("aé€"))).to.equal("61c3a9e282ac");
      expect(b.toBytes("")).to.have.length(0);
      const u = Uint8Array.of(1, 2);
      expect(b.toBytes(u)).to.equal(u);
    });

    it("concatenates in order, any number of parts", () => {
      expect(hex(b.concat(Uint8Array.of(1, 2), new Uint8Array(), Uint8Array.of(3), Uint8Array.of(4, 5, 6)))).to.equal("010203040506");
      expect(b.concat()).to.have.length(0);
      fc.assert(
        fc.property(
          fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 6 }),
          (parts) => hex(b.concat(...parts)) === parts.map(hex).join(""),
        ),
        { numRuns: 50 },
      );
    });
  });

  describe("# encodeTuple", () => {
    it("is len32(p1) || p1 || len32(p2) || p2 ... (known answer)", () => {
      expect(hex(b.encodeTuple(["ab", Uint8Array.of(0xff), ""]))).to.equal("00000002" + "6162" + "00000001" + "ff" + "00000000");
      expect(b.encodeTuple([])).to.have.length(0);
      const long = new Uint8Array(300).fill(7);
      expect(hex(b.encodeTuple([long]).subarray(0, 5))).to.equal("0000012c07");
    });

    it("is injective: different tuples never encode the same (property)", () => {
      const tuple = fc.array(fc.uint8Array({ maxLength: 6 }), { maxLength: 4 });
      fc.assert(
        fc.property(tuple, tuple, (x, y) => {
          const same = x.length === y.length && x.every((p, i) => hex(p) === hex(y[i]));
          return (hex(b.encodeTuple(x)) === hex(b.encodeTuple(y))) === same;
        }),
        { numRuns: 300 },
      );
    });
  });

  describe("# big-endian integers", () => {
    it("numberToBytesBE encodes in exactly len bytes (known answers)", () => {
      expect(hex(b.numberToBytesBE(0x0102n, 4))).to.equal("00000102");
      expect(hex(b.numberToBytesBE(0n, 2))).to.equal("0000");
      expect(hex(b.numberToBytesBE(0xffn, 1))).to.equal("ff");
      expect(hex(b.numberToBytesBE(2n ** 256n - 1n, 32))).to.equal("ff".repeat(32));
      expect(hex(b.numberToBytesBE(0x8000000000000001n, 8))).to.equal("8000000000000001");
    });

    it("numberToBytesBE refuses negative integers and integers of 256^len or more", () => {
      expectThrows(
        () => b.numberToBytesBE(-1n, 4),
        InvalidParameterError,
        "INVALID_PARAMETER",
        /^numberToBytesBE: -1 does not fit in 4 bytes$/,
      );
      expectThrows(
        () => b.numberToBytesBE(256n, 1),
        InvalidParameterError,
        "INVALID_PARAMETER",
        /^numberToBytesBE: 256 does not fit in 1 bytes$/,
      );
      expectThrows(() => b.numberToBytesBE(2n ** 256n, 32), InvalidParameterError, "INVALID_PARAMETER", /^numberToBytesBE:/);
    });

    it("bytesToNumberBE inverts numberToBytesBE (property) and reads the empty string as 0", () => {
      expect(b.bytesToNumberBE(Uint8Array.of(1, 0, 2))).to.equal(0x010002n);
      expect(b.bytesToNumberBE(new Uint8Array())).to.equal(0n);
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), (n) => b.bytesToNumberBE(b.numberToBytesBE(n, 16)) === n),
        { numRuns: 100 },
      );
    });
  });

  describe("# hex", () => {
    it("toHex is lower case with a 0x prefix, of the view only", () => {
      expect(b.toHex(Uint8Array.of(0xab, 0x01))).to.equal("0xab01");
      expect(b.toHex(new Uint8Array())).to.equal("0x");
      expect(b.toHex(Uint8Array.of(1, 2, 3, 4).subarray(1, 3))).to.equal("0x0203");
    });

    it("fromHex takes 0x, 0X or no prefix, and both cases of every hex digit", () => {
      for (const h of ["0x0123456789abcdef", "0X0123456789ABCDEF", "0123456789aBcDeF"])
        expect(hex(b.fromHex(h))).to.equal("0123456789abcdef");
      expect(b.fromHex("0x")).to.have.length(0);
      expect(b.fromHex("")).to.have.length(0);
      expect(hex(b.fromHex("0x00ff", 2))).to.equal("00ff");
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 40 }), (u) => hex(b.fromHex(b.toHex(u), u.length)) === hex(u)),
        { numRuns: 50 },
      );
    });

    it("fromHex refuses odd lengths and non-hex characters anywhere, naming the first 20 characters", () => {
      expectThrows(
        () => b.fromHex("0xabc"),
        InvalidLengthError,
        "INVALID_LENGTH",
        /^fromHex: not a hex string of whole bytes: 0xabc\.\.\.$/,
      );
      for (const h of ["0xzz", "zz00", "00zz", "0x0g", "0x 0", "x0", "0x0x00"]) {
        expectThrows(() => b.fromHex(h), InvalidLengthError, "INVALID_LENGTH", /^fromHex: not a hex string/);
      }
      const long = "0x" + "q".repeat(40);
      expectThrows(
        () => b.fromHex(long),
        InvalidLengthError,
        "INVALID_LENGTH",
        /^fromHex: not a hex string of whole bytes: 0xqqqqqqqqqqqqqqqqqq\.\.\.$/,
      );
    });

    it("fromHex checks the expected length when given", () => {
      expectThrows(() => b.fromHex("0x0102", 3), InvalidLengthError, "INVALID_LENGTH", /^fromHex: expected 3 bytes, got 2$/);
      expectThrows(() => b.fromHex("0x0102", 1), InvalidLengthError, "INVALID_LENGTH", /^fromHex: expected 1 bytes, got 2$/);
      expectThrows(() => b.fromHex("0x", 1), InvalidLengthError, "INVALID_LENGTH", /got 0$/);
      expect(b.fromHex("0x", 0)).to.have.length(0);
    });
  });

  describe("# assertLength, xor, equalBytes", () => {
    it("assertLength accepts exactly a Uint8Array of the length", () => {
      expect(() => b.assertLength("f", new Uint8Array(3), 3)).to.not.throw();
      expectThrows(() => b.assertLength("f", [1, 2, 3], 3), InvalidLengthError, "INVALID_LENGTH", /^f: expected Uint8Array$/);
      expectThrows(() => b.assertLength("g", "abc", 3), InvalidLengthError, "INVALID_LENGTH", /^g: expected Uint8Array$/);
      expectThrows(() => b.assertLength("f", new Uint8Array(2), 3), InvalidLengthError, "INVALID_LENGTH", /^f: expected 3 bytes, got 2$/);
      expectThrows(() => b.assertLength("f", new Uint8Array(4), 3), InvalidLengthError, "INVALID_LENGTH", /^f: expected 3 bytes, got 4$/);
    });

    it("xor is byte-wise (known answer), an involution, and refuses different lengths", () => {
      expect(hex(b.xor(Uint8Array.of(0x0f, 0xf0, 0xaa), Uint8Array.of(0xff, 0xff, 0x55)))).to.equal("f00fff");
      expect(b.xor(new Uint8Array(), new Uint8Array())).to.have.length(0);
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), (x, y) => {
          const z = b.xor(x, y);
          return z.length === 8 && hex(b.xor(z, y)) === hex(x);
        }),
        { numRuns: 50 },
      );
      expectThrows(
        () => b.xor(new Uint8Array(2), new Uint8Array(3)),
        InvalidLengthError,
        "INVALID_LENGTH",
        /^xor: lengths differ \(2 vs 3\)$/,
      );
    });

    it("equalBytes compares every byte and the lengths", () => {
      expect(b.equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).to.equal(true);
      expect(b.equalBytes(new Uint8Array(), new Uint8Array())).to.equal(true);
      expect(b.equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).to.equal(false);
      expect(b.equalBytes(Uint8Array.of(9, 2, 3), Uint8Array.of(1, 2, 3))).to.equal(false);
      expect(b.equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).to.equal(false);
      expect(b.equalBytes(Uint8Array.of(1, 2, 0), Uint8Array.of(1, 2))).to.equal(false);
    });
  });
});
