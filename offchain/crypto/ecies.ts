/**
 * ECIES: the papers' Enc_PK(m) and Dec_sk(c) (RSMS §IV.A.1 "Enc_PKpub(RID)", §IV.B.2 "Enc_PK_i(f(x_i))").
 *
 *   Enc_PK(m; aad):  r <-$ Z_q*,  R = r*P,  Z = r*PK
 *                    (key || nonce) = HKDF-SHA256(ikm = x(Z), salt = R || PK, info = DST || aad, 44)
 *                    c = 0x01 || R || ChaCha20-Poly1305_key,nonce(m, aad)
 *   Dec_sk(c; aad):  Z = sk*R, the same HKDF, open the AEAD; any failure -> DecryptionError.
 *
 * The ephemeral key is fresh per message, so the derived nonce is never reused under a key.
 * Binding R and PK into the salt makes a ciphertext meaningless to any other recipient; the
 * optional `aad` binds a protocol context (message type, session id) so that a ciphertext cannot
 * be replayed into another protocol step. Overhead: 1 + 33 + 16 = 50 bytes.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concat, toBytes } from "./bytes";
import { POINT_BYTES, Point, assertPoint, assertScalar, decodePoint, encodePoint, mul, mulBase, randomScalar } from "./group";
import { DecryptionError, InvalidLengthError } from "../errors";
import type { EphemeralStock } from "./ephemeral";

/** Version byte of the ciphertext format. */
export const ECIES_VERSION = 0x01;
/** Domain-separation tag of the KDF. */
export const ECIES_DST = "METATRUST-V1-ECIES-SECP256K1-HKDF-SHA256-CHACHA20POLY1305";
/** Bytes a ciphertext adds to its plaintext. */
export const ECIES_OVERHEAD = 1 + POINT_BYTES + 16;

const DST_BYTES = toBytes(ECIES_DST);

// ChaCha20-Poly1305 (RFC 8439) runs on Node's native crypto: the same bytes as @noble/ciphers'
// chacha20poly1305 (the reference: test/crypto/ecies.test.ts compares them), in about 60% of its
// time for these short messages. HKDF stays on @noble/hashes: for 44 bytes it is faster than
// node:crypto's hkdfSync, whose key objects cost more than the hashing (measured: 22 us and 34 us).
function deriveKeys(R: Uint8Array, PK: Uint8Array, Z: Point, aad: Uint8Array) {
  const ikm = encodePoint(Z).subarray(1);
  const okm = hkdf(sha256, ikm, concat(R, PK), concat(DST_BYTES, aad), 44);
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32, 44) };
}

/** ChaCha20-Poly1305 sealing: ciphertext || 16-byte tag. */
function seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  return concat(c.update(plaintext), c.final(), c.getAuthTag());
}

/** ChaCha20-Poly1305 opening. @throws Error ("invalid tag") when the tag does not verify */
function open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.length < 16) throw new Error("chacha20-poly1305: shorter than its tag");
  const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  d.setAAD(aad, { plaintextLength: sealed.length - 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  const pt = d.update(sealed.subarray(0, sealed.length - 16));
  try {
    return concat(pt, d.final());
  } catch (e) {
    throw new Error("chacha20-poly1305: invalid tag", { cause: e });
  }
}

/**
 * Encrypts to a public key.
 * @param recipient - the recipient's public key (a point, or its 33-byte encoding)
 * @param plaintext - the message
 * @param aad - optional context bound to the ciphertext (must be given again to decrypt)
 * @param stock - single-use ephemerals computed ahead (./ephemeral.ts): for a recipient given as
 *   a point, the ephemeral key and its shared point are taken from the stock kept for that very
 *   point object when it holds one (removed from it: never used twice); else drawn here
 * @returns the ciphertext, `plaintext.length + 50` bytes
 * @throws InvalidPointError for an invalid recipient key
 */
export function eciesEncrypt(
  recipient: Point | Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = new Uint8Array(),
  stock?: EphemeralStock,
): Uint8Array {
  const PKp = recipient instanceof Uint8Array ? decodePoint(recipient) : recipient;
  assertPoint("eciesEncrypt", PKp);
  const e = recipient instanceof Uint8Array ? undefined : stock?.take(PKp);
  const r = e?.k ?? randomScalar();
  const R = encodePoint(e?.K ?? mulBase(r));
  const PK = encodePoint(PKp);
  const { key, nonce } = deriveKeys(R, PK, e?.kB ?? mul(PKp, r), aad);
  const ct = seal(key, nonce, aad, plaintext);
  return concat(Uint8Array.of(ECIES_VERSION), R, ct);
}

/**
 * Decrypts with a secret key.
 * @param sk - the recipient's secret scalar
 * @param ciphertext - output of {@link eciesEncrypt}
 * @param aad - the context given at encryption
 * @param recipientPk - sk*P encoded, if the caller has it cached (saves a scalar multiplication)
 * @returns the plaintext
 * @throws InvalidLengthError for a too-short input; DecryptionError for a wrong version, an
 *   invalid ephemeral point, a wrong key, a wrong aad or any tampering
 */
export function eciesDecrypt(sk: bigint, ciphertext: Uint8Array, aad: Uint8Array = new Uint8Array(), recipientPk?: Uint8Array): Uint8Array {
  assertScalar("eciesDecrypt", sk, "secret key");
  if (!(ciphertext instanceof Uint8Array) || ciphertext.length < ECIES_OVERHEAD) {
    throw new InvalidLengthError(`eciesDecrypt: ciphertext shorter than ${ECIES_OVERHEAD} bytes`);
  }
  if (ciphertext[0] !== ECIES_VERSION) {
    throw new DecryptionError(`eciesDecrypt: unknown version 0x${ciphertext[0].toString(16)}`);
  }
  const R = ciphertext.subarray(1, 1 + POINT_BYTES);
  let Rp: Point;
  try {
    Rp = decodePoint(R);
  } catch (e) {
    throw new DecryptionError("eciesDecrypt: invalid ephemeral point", { cause: e });
  }
  const PK = recipientPk ?? encodePoint(mulBase(sk));
  const { key, nonce } = deriveKeys(R, PK, mul(Rp, sk), aad);
  try {
    return open(key, nonce, aad, ciphertext.subarray(1 + POINT_BYTES));
  } catch (e) {
    throw new DecryptionError("eciesDecrypt: authentication failed (wrong key, wrong context or tampered)", { cause: e });
  }
}
