import { expect } from "chai";
import fc from "fast-check";
import { keccak256 as ethersKeccak, AbiCoder, solidityPackedKeccak256 } from "ethers";
import { sha3_256 } from "@noble/hashes/sha3.js";
import { expand_message_xmd } from "@noble/curves/abstract/hash-to-curve.js";
import { sha256 } from "@noble/hashes/sha2.js";
import * as h from "../../offchain/crypto/hash";
import { ORDER, mulBase } from "../../offchain/crypto/group";
import { encodeTuple, toHex } from "../../offchain/crypto/bytes";
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
