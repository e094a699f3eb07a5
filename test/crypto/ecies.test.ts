import { expect } from "chai";
import fc from "fast-check";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ECIES_DST, ECIES_OVERHEAD, ECIES_VERSION, eciesDecrypt, eciesEncrypt } from "../../offchain/crypto/ecies";
import { decodePoint, encodePoint, mulBase, randomScalar } from "../../offchain/crypto/group";
import { DecryptionError, InvalidLengthError, InvalidPointError, InvalidScalarError } from "../../offchain/errors";
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

describe("crypto/ecies: the spec's construction (reference computed here) and every boundary", () => {
  const sk = 0x1234567890abcdefn;
  const PK = mulBase(sk);
  const PKenc = encodePoint(PK);
  const DST = "METATRUST-V1-ECIES-SECP256K1-HKDF-SHA256-CHACHA20POLY1305";
  // key || nonce = HKDF-SHA256(ikm = x(Z), salt = R || PK, info = DST || aad, 44)
  const kdf = (R: Uint8Array, Z: ReturnType<typeof mulBase>, aad: Uint8Array) => {
    const okm = hkdf(sha256, Z.toBytes(true).subarray(1), Buffer.concat([R, PKenc]), Buffer.concat([Buffer.from(DST, "utf8"), aad]), 44);
    return { key: okm.subarray(0, 32), nonce: okm.subarray(32) };
  };

  it("the constants are the spec's", () => {
    expect(ECIES_VERSION).to.equal(1);
    expect(ECIES_DST).to.equal(DST);
    expect(ECIES_OVERHEAD).to.equal(50);
  });

  it("decrypts a ciphertext built by the reference: 0x01 || R || ChaCha20-Poly1305(HKDF(x(rPK), R || PK, DST || aad))", () => {
    const r = 0xfeedn;
    const R = encodePoint(mulBase(r));
    const aad = Uint8Array.of(9, 9);
    const m = new TextEncoder().encode("Enc_PK(RID)");
    const { key, nonce } = kdf(R, PK.multiply(r), aad);
    const c = Buffer.concat([Uint8Array.of(1), R, chacha20poly1305(key, nonce, aad).encrypt(m)]);
    expect(Buffer.from(eciesDecrypt(sk, c, aad)).toString()).to.equal("Enc_PK(RID)");
    expect(Buffer.from(eciesDecrypt(sk, c, aad, PKenc)).toString()).to.equal("Enc_PK(RID)");
  });

  it("encrypts so that the reference decrypts: the ephemeral R follows the version byte", () => {
    const aad = Uint8Array.of(1);
    const c = eciesEncrypt(PK, Uint8Array.of(5, 6, 7), aad);
    expect(c[0]).to.equal(1);
    const R = c.subarray(1, 34);
    const { key, nonce } = kdf(R, decodePoint(R).multiply(sk), aad);
    expect(Array.from(chacha20poly1305(key, nonce, aad).decrypt(c.subarray(34)))).to.deep.equal([5, 6, 7]);
  });

  it("the recipient key is in the salt: a wrong cached recipientPk fails, the right one works", () => {
    const c = eciesEncrypt(PKenc, new Uint8Array(4));
    expect(eciesDecrypt(sk, c, new Uint8Array(), PKenc)).to.have.length(4);
    expectThrows(
      () => eciesDecrypt(sk, c, new Uint8Array(), encodePoint(mulBase(2n))),
      DecryptionError,
      "DECRYPTION_FAILED",
      /^eciesDecrypt: authentication failed/,
    );
  });

  it("an empty plaintext gives a 50-byte ciphertext that decrypts; 49 bytes are refused", () => {
    const c = eciesEncrypt(PK, new Uint8Array());
    expect(c).to.have.length(50);
    expect(eciesDecrypt(sk, c)).to.have.length(0);
    expectThrows(
      () => eciesDecrypt(sk, c.subarray(0, 49)),
      InvalidLengthError,
      "INVALID_LENGTH",
      /^eciesDecrypt: ciphertext shorter than 50 bytes$/,
    );
    const arr = Array.from(c) as unknown as Uint8Array;
    expectThrows(() => eciesDecrypt(sk, arr), InvalidLengthError, "INVALID_LENGTH", /^eciesDecrypt: ciphertext shorter than 50 bytes$/);
  });

  it("names the failure: secret key, version, ephemeral point, recipient", () => {
    const c = eciesEncrypt(PK, new Uint8Array(3));
    expectThrows(() => eciesDecrypt(0n, c), InvalidScalarError, "INVALID_SCALAR", /^eciesDecrypt: secret key must be in \[1, q\), got 0$/);
    const v = Uint8Array.from(c);
    v[0] = 0x02;
    expectThrows(() => eciesDecrypt(sk, v), DecryptionError, "DECRYPTION_FAILED", /^eciesDecrypt: unknown version 0x2$/);
    const badR = Uint8Array.from(c);
    badR[1] = 0x05;
    expectThrows(() => eciesDecrypt(sk, badR), DecryptionError, "DECRYPTION_FAILED", /^eciesDecrypt: invalid ephemeral point$/);
    const offR = Uint8Array.from(c);
    offR.set(Uint8Array.of(0x02, ...new Uint8Array(31), 5), 1);
    expectThrows(() => eciesDecrypt(sk, offR), DecryptionError, "DECRYPTION_FAILED", /^eciesDecrypt: invalid ephemeral point$/);
    expectThrows(
      () => eciesEncrypt(secp256k1.Point.ZERO, new Uint8Array()),
      InvalidPointError,
      "INVALID_POINT",
      /^eciesEncrypt: the identity is not allowed$/,
    );
  });

  it("keeps the underlying failure as the cause: the point decoder's error, the AEAD's error", () => {
    const c = eciesEncrypt(PK, new Uint8Array(3));
    const caught = (f: () => unknown): Error => {
      try {
        f();
      } catch (e) {
        return e as Error;
      }
      throw new Error("expected a throw");
    };
    const badR = Uint8Array.from(c);
    badR[1] = 0x05;
    const e1 = caught(() => eciesDecrypt(sk, badR));
    expect(e1).to.be.instanceOf(DecryptionError);
    expect(e1.cause).to.be.instanceOf(InvalidPointError);
    const e2 = caught(() => eciesDecrypt(sk, c, Uint8Array.of(1)));
    expect(e2).to.be.instanceOf(DecryptionError);
    expect(e2.cause).to.be.instanceOf(Error);
    expect((e2.cause as Error).message).to.match(/tag/i);
  });
});
