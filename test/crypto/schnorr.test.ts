import { expect } from "chai";
import fc from "fast-check";
import { SCHNORR_BYTES, schnorrSign, schnorrVerify } from "../../offchain/crypto/schnorr";
import { ORDER, decodePoint, encodePoint, mulBase, randomScalar } from "../../offchain/crypto/group";
import { hashToScalar } from "../../offchain/crypto/hash";
import { concat, numberToBytesBE } from "../../offchain/crypto/bytes";
import { InvalidLengthError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";

describe("crypto/schnorr", () => {
  const sk = randomScalar();
  const PK = mulBase(sk);
  const DST = "TEST-SCHNORR";
  const msg = new TextEncoder().encode("message");

  it("a signature is R || z with z*P = R + H(dst; R || PK || m)*PK, and verifies", () => {
    const sig = schnorrSign(sk, DST, msg);
    expect(sig).to.have.length(SCHNORR_BYTES);
    const R = sig.subarray(0, 33);
    const z = BigInt("0x" + Buffer.from(sig.subarray(33)).toString("hex"));
    const c = hashToScalar(DST, concat(R, encodePoint(PK), msg));
    expect(mulBase(z).equals(decodePoint(R).add(PK.multiply(c)))).to.equal(true);
    expect(schnorrVerify(PK, DST, msg, sig)).to.equal(true);
  });

  it("refuses another key, another domain, another message, and any flipped bit", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.nat({ max: SCHNORR_BYTES * 8 - 1 }), (m, bit) => {
        const sig = schnorrSign(sk, DST, m);
        expect(schnorrVerify(mulBase(randomScalar()), DST, m, sig)).to.equal(false);
        expect(schnorrVerify(PK, DST + "-2", m, sig)).to.equal(false);
        expect(schnorrVerify(PK, DST, concat(m, Uint8Array.of(0)), sig)).to.equal(false);
        const t = Uint8Array.from(sig);
        t[bit >> 3] ^= 1 << (bit & 7);
        expect(schnorrVerify(PK, DST, m, t)).to.equal(false);
      }),
      { numRuns: 40, seed: 13 },
    );
  });

  it("a malformed R, z = 0 or z >= q is false; a signature of the wrong length throws a typed error", () => {
    const sig = schnorrSign(sk, DST, msg);
    const badR = Uint8Array.from(sig);
    badR[0] = 0x04;
    expect(schnorrVerify(PK, DST, msg, badR)).to.equal(false);
    for (const z of [0n, ORDER, ORDER + 1n])
      expect(schnorrVerify(PK, DST, msg, concat(sig.subarray(0, 33), numberToBytesBE(z, 32)))).to.equal(false);
    for (const n of [64, 66])
      expectThrows(
        () => schnorrVerify(PK, DST, msg, new Uint8Array(n)),
        InvalidLengthError,
        "INVALID_LENGTH",
        /^schnorrVerify: expected a 65-byte signature$/,
      );
  });
});
