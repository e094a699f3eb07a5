import { expect } from "chai";
import fc from "fast-check";
import { eciesDecrypt, eciesEncrypt, ECIES_OVERHEAD } from "../../offchain/crypto/ecies";
import { encodePoint, mulBase, randomScalar } from "../../offchain/crypto/group";
import { DecryptionError, InvalidLengthError, InvalidPointError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";

describe("crypto/ecies", () => {
  const sk = randomScalar();
  const PK = mulBase(sk);

  it("round-trips any message, with or without context, to a point or its encoding", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), (m, aad) => {
        const c = eciesEncrypt(PK, m, aad);
        const c2 = eciesEncrypt(encodePoint(PK), m, aad);
        return (
          c.length === m.length + ECIES_OVERHEAD &&
          Buffer.from(eciesDecrypt(sk, c, aad)).equals(Buffer.from(m)) &&
          Buffer.from(eciesDecrypt(sk, c2, aad)).equals(Buffer.from(m))
        );
      }),
      { numRuns: 25 },
    );
  });

  it("is randomized: the same message encrypts differently", () => {
    const m = new Uint8Array(32);
    expect(Buffer.from(eciesEncrypt(PK, m)).equals(Buffer.from(eciesEncrypt(PK, m)))).to.equal(false);
  });

  it("detects any single-bit tampering", () => {
    const m = new TextEncoder().encode("a_{i,k} || PID_{i,k}");
    const c = eciesEncrypt(PK, m);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: c.length * 8 - 1 }), (bit) => {
        const t = Uint8Array.from(c);
        t[bit >> 3] ^= 1 << (bit & 7);
        try {
          eciesDecrypt(sk, t);
          return false;
        } catch (e) {
          return e instanceof DecryptionError;
        }
      }),
      { numRuns: 60 },
    );
  });

  it("rejects the wrong key, the wrong context, a wrong version and short input", () => {
    const c = eciesEncrypt(PK, new Uint8Array([1, 2, 3]), new Uint8Array([9]));
    expectThrows(
      () => eciesDecrypt(randomScalar(), c, new Uint8Array([9])),
      DecryptionError,
      "DECRYPTION_FAILED",
      /^eciesDecrypt: authentication failed/,
    );
    expectThrows(() => eciesDecrypt(sk, c, new Uint8Array([8])), DecryptionError, "DECRYPTION_FAILED");
    const v = Uint8Array.from(c);
    v[0] = 2;
    expectThrows(() => eciesDecrypt(sk, v), DecryptionError, "DECRYPTION_FAILED", /version/);
    expectThrows(() => eciesDecrypt(sk, c.subarray(0, 40)), InvalidLengthError, "INVALID_LENGTH");
    expectThrows(() => eciesEncrypt(new Uint8Array(33), new Uint8Array()), InvalidPointError, "INVALID_POINT", /prefix/);
    expectThrows(() => eciesEncrypt(new Uint8Array(32), new Uint8Array()), InvalidLengthError, "INVALID_LENGTH");
    const bad = new Uint8Array(33);
    bad[0] = 2;
    bad[32] = 5;
    expectThrows(() => eciesEncrypt(bad, new Uint8Array()), InvalidPointError, "INVALID_POINT");
  });
});
