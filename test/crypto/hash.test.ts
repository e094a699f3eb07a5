import { expect } from "chai";
import fc from "fast-check";
import { keccak256 as ethersKeccak, AbiCoder, solidityPackedKeccak256 } from "ethers";
import { sha3_256 } from "@noble/hashes/sha3.js";
import { expand_message_xmd } from "@noble/curves/abstract/hash-to-curve.js";
import { sha256 } from "@noble/hashes/sha2.js";
import * as h from "../../offchain/crypto/hash";
import { expandXmd } from "../../offchain/crypto/xmd";
import { ORDER, encodePoint, mulBase } from "../../offchain/crypto/group";
import { bytesToNumberBE, encodeTuple, numberToBytesBE, toHex } from "../../offchain/crypto/bytes";
import { InvalidParameterError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";
import kat from "../vectors/keccak-sha3.json";
import rfc from "../vectors/rfc9380-bls12381.json";

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("crypto/hash (H1..H6, keccak helpers)", () => {
  it("keccak256 and SHA3-256 match the published known answers", () => {
    for (const v of kat.keccak256) expect(toHex(h.keccak256(utf8(v.msg)))).to.equal("0x" + v.hash);
    for (const v of kat.sha3_256) expect(Buffer.from(sha3_256(utf8(v.msg))).toString("hex")).to.equal(v.hash);
  });

  it("expand_message_xmd (the base of every H) matches the RFC 9380 draft output", () => {
    const v = rfc.expand_message_xmd.vectors[0];
    expect(Buffer.from(expand_message_xmd(utf8(v.msg), v.dst, v.len, sha256)).toString("hex")).to.equal(v.out);
  });

  it("expandXmd (Node's SHA-256) gives the bytes of the reference, @noble/curves' expand_message_xmd", () => {
    const v = rfc.expand_message_xmd.vectors[0];
    expect(Buffer.from(expandXmd(utf8(v.msg), v.dst, v.len)).toString("hex")).to.equal(v.out);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ minLength: 1, maxLength: 300 }),
        fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(31, 32, 33, 48, 64, 65, 8160)),
        (msg, dst, len) => Buffer.from(expandXmd(msg, dst, len)).equals(Buffer.from(expand_message_xmd(msg, dst, len, sha256))),
      ),
      { numRuns: 200 },
    );
  });

  it("expandXmd gives the reference's answer at and beyond the ends of its range: 0 to 8160 bytes, more refused as the reference refuses, a DST of 255 bytes and an oversize one (hashed first)", () => {
    const msg = utf8("abc");
    const dst = "QUUX-V01-CS02-with-expander-SHA256-128";
    const ref = (d: string, len: number) => toHex(expand_message_xmd(msg, d, len, sha256));
    for (const len of [0, 1, 7, 8, 32, 33, 8129, 8160]) expect(toHex(expandXmd(msg, dst, len)), `len ${len}`).to.equal(ref(dst, len));
    expect(expandXmd(msg, dst, 0)).to.have.length(0);
    // 255 bytes is the largest DST used as it is; from 256 bytes on it is hashed first (RFC 9380 §5.3.3)
    for (const d of ["x".repeat(255), "x".repeat(256), "x".repeat(300)]) expect(toHex(expandXmd(msg, d, 64))).to.equal(ref(d, 64));
    for (const len of [8161, 65535, 65536])
      expect(() => expandXmd(msg, dst, len), `len ${len}`).to.throw("expand_message_xmd: invalid lenInBytes");
  });

  it("expandXmd refuses what the reference refuses: an empty DST, a non-ASCII one (under 256 bytes too)", () => {
    const msg = utf8("abc");
    for (const d of ["", "é", "DST-\u00fc-v1", "\u{1F600}", "x".repeat(100) + "\u0080"]) {
      let want: unknown;
      try {
        expand_message_xmd(msg, d, 32, sha256);
      } catch (e) {
        want = e;
      }
      expect(want, JSON.stringify(d)).to.be.instanceOf(Error);
      expect(() => expandXmd(msg, d, 32), JSON.stringify(d)).to.throw((want as Error).message);
    }
  });

  it("H1..H6 have the documented ranges", () => {
    const P = mulBase(12345n);
    expect(h.H1(P, "rid")).to.have.length(32);
    expect(h.H6(h.H1(P, "rid"), 5n)).to.have.length(32);
    expect(h.H3(64, P, "pid")).to.have.length(64);
    for (const s of [h.H2("pid"), h.H4(9n), h.H4(9n, 10n), h.H5(P, P)]) expect(s > 0n && s < ORDER).to.equal(true);
  });

  it("is deterministic and separates domains: same input, different function, different output", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (m) => {
        const outs = [h.H2(m), h.H4(m), h.H5(m)];
        return new Set(outs).size === 3 && h.H2(m) === h.H2(m) && toHex(h.H1(m)) !== toHex(h.H6(m));
      }),
      { numRuns: 50 },
    );
  });

  it("is a function of the tuple, not of the concatenation (no ambiguity)", () => {
    expect(h.H2("ab", "c")).to.not.equal(h.H2("a", "bc"));
    expect(toHex(encodeTuple(["ab", "c"]))).to.not.equal(toHex(encodeTuple(["a", "bc"])));
  });

  it("H3 masks are prefixes of each other only by length, and differ by input", () => {
    const P = mulBase(3n);
    expect(toHex(h.H3(32, P, "a"))).to.not.equal(toHex(h.H3(32, P, "b")));
  });

  it("rejects bad inputs with typed errors", () => {
    expectThrows(() => h.H2(), InvalidParameterError, "INVALID_PARAMETER", /^H2: needs at least one input/);
    expectThrows(() => h.H4(-1n), InvalidParameterError, "INVALID_PARAMETER", /integer input/);
    expectThrows(() => h.H3(0, "x"), InvalidParameterError, "INVALID_PARAMETER", /^hashToBytes/);
    expectThrows(() => h.H3(9000, "x"), InvalidParameterError, "INVALID_PARAMETER");
  });

  it("abiKeccak / packedKeccak equal Solidity's encodings (via ethers)", () => {
    const types = ["bytes32", "uint256", "address"];
    const vals = [toHex(h.H1("x")), 12345n, "0x000000000000000000000000000000000000dEaD"];
    expect(toHex(h.abiKeccak(types, vals))).to.equal(ethersKeccak(AbiCoder.defaultAbiCoder().encode(types, vals)));
    expect(toHex(h.packedKeccak(types, vals))).to.equal(solidityPackedKeccak256(types, vals));
  });
});

describe("crypto/hash: each H is the spec's construction under its own DST (reference computed here)", () => {
  const P = mulBase(777n);
  const Penc = encodePoint(P);
  // the tuple encoding the spec gives for the inputs (P, "rid", 5n, bytes)
  const inputs = [P, "rid", 5n, Uint8Array.of(1, 2)] as const;
  const tuple = encodeTuple([Penc, utf8("rid"), numberToBytesBE(5n, 32), Uint8Array.of(1, 2)]);
  const xmd = (dst: string, len: number, msg: Uint8Array = tuple) => toHex(expand_message_xmd(msg, dst, len, sha256));
  // RFC 9380 hash_to_field with p = q, m = 1, k = 128: L = 48 bytes, OS2IP, mod q
  const toField = (dst: string, msg: Uint8Array = tuple) => bytesToNumberBE(expand_message_xmd(msg, dst, 48, sha256)) % ORDER;

  it("the DSTs are the spec's (docs/specs/crypto.md §2)", () => {
    expect(h.DST).to.deep.equal({
      H1: "METATRUST-V1-RSMS-H1-PID",
      H2: "METATRUST-V1-RSMS-H2-ZQ",
      H3: "METATRUST-V1-RSMS-H3-MASK",
      H4: "METATRUST-V1-RSMS-H4-ZQ",
      H5: "METATRUST-V1-RSMS-H5-ZQ",
      H6: "METATRUST-V1-RSMS-H6-PID",
    });
    expect(h.PID_BYTES).to.equal(32);
  });

  it("H1, H3 and H6 are expand_message_xmd(SHA-256) of the tuple encoding", () => {
    expect(toHex(h.H1(...inputs))).to.equal(xmd("METATRUST-V1-RSMS-H1-PID", 32));
    expect(toHex(h.H6(...inputs))).to.equal(xmd("METATRUST-V1-RSMS-H6-PID", 32));
    expect(toHex(h.H3(64, ...inputs))).to.equal(xmd("METATRUST-V1-RSMS-H3-MASK", 64));
    expect(toHex(h.H3(1, ...inputs))).to.equal(xmd("METATRUST-V1-RSMS-H3-MASK", 1));
    expect(toHex(h.hashToBytes("any", utf8("m"), 8160))).to.equal(xmd("any", 8160, utf8("m")));
  });

  it("H2, H4 and H5 are RFC 9380 hash_to_field into Z_q (48 bytes, mod q)", () => {
    expect(h.H2(...inputs)).to.equal(toField("METATRUST-V1-RSMS-H2-ZQ"));
    expect(h.H4(...inputs)).to.equal(toField("METATRUST-V1-RSMS-H4-ZQ"));
    expect(h.H5(...inputs)).to.equal(toField("METATRUST-V1-RSMS-H5-ZQ"));
    expect(h.hashToScalar("d", new Uint8Array())).to.equal(toField("d", new Uint8Array()));
  });

  it("integer inputs are 32-byte big-endian, from 0 to 2^256 - 1", () => {
    const max = 2n ** 256n - 1n;
    expect(h.H4(0n)).to.equal(toField("METATRUST-V1-RSMS-H4-ZQ", encodeTuple([new Uint8Array(32)])));
    expect(h.H4(max)).to.equal(toField("METATRUST-V1-RSMS-H4-ZQ", encodeTuple([new Uint8Array(32).fill(0xff)])));
    for (const x of [-1n, 2n ** 256n]) {
      expectThrows(
        () => h.H4(x),
        InvalidParameterError,
        "INVALID_PARAMETER",
        new RegExp(`^hash: integer input out of \\[0, 2\\^256\\): ${x}$`),
      );
    }
    // strings and their UTF-8 bytes are the same input
    expect(h.H2("é")).to.equal(h.H2(Uint8Array.of(0xc3, 0xa9)));
  });

  it("every H refuses an empty input list, naming itself", () => {
    const cases: [string, () => unknown][] = [
      ["H1", () => h.H1()],
      ["H2", () => h.H2()],
      ["H3", () => h.H3(32)],
      ["H4", () => h.H4()],
      ["H5", () => h.H5()],
      ["H6", () => h.H6()],
    ];
    for (const [fn, f] of cases)
      expectThrows(f, InvalidParameterError, "INVALID_PARAMETER", new RegExp(`^${fn}: needs at least one input$`));
  });

  it("hashToBytes takes lengths 1..8160 only", () => {
    expect(h.hashToBytes("d", utf8("m"), 1)).to.have.length(1);
    expect(h.hashToBytes("d", utf8("m"), 8160)).to.have.length(8160);
    for (const len of [0, -1, 8161, 1.5, NaN]) {
      expectThrows(
        () => h.hashToBytes("d", utf8("m"), len),
        InvalidParameterError,
        "INVALID_PARAMETER",
        new RegExp(`^hashToBytes: length must be in \\[1, 8160\\], got ${len}$`),
      );
    }
  });

  it("keccak256 takes bytes or a 0x-hex string of them", () => {
    const abc = "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45";
    expect(toHex(h.keccak256("0x616263"))).to.equal(abc);
    expect(toHex(h.keccak256(utf8("abc")))).to.equal(abc);
    expect(toHex(h.keccak256("0x"))).to.equal("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  });
});
