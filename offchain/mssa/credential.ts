/**
 * MSSA multi-authority XOR credentials (MSSA paper, "Block creation" and "Block sign and
 * verification", Steps 1-4, 8, 9, Eqs. 5-15). Pure functions over bit strings.
 *
 * Reading of the equations (docs/specs/mssa.md):
 * - Eqs. 5-6: K_r = K_r^{AU1} xor ... xor K_r^{AUk}, every key as long as CR.
 * - Odd lengths (Step 1): a string of odd length has its last bit replaced by two copies of it,
 *   so that it splits into two halves; keys are drawn at the padded length.
 * - Eqs. 7-8: U1 = K_r^1 xor CR_1, U2 = K_r^2 xor CR_2 (first and second halves).
 * - U12 = U1 xor U2 (Eq. 15); the bit rule gives U1', U12' (Eqs. 11-13): where U1 and U12 agree
 *   both are flipped, elsewhere both are kept.
 * - Eq. 14: En = U1 xor U1' (its expansion; the heading "U1 xor U2'" names a U2' defined nowhere).
 *   Bit b of En is 1 iff U1_b = U12_b iff U2_b = 0, so En = not U2.
 * - Steps 8-9: S1 = En xor EN_auth, S2 = U12 xor Z12. The paper accepts iff S = S1 xor S2 = 0;
 *   but S1 xor S2 = U1 xor Z1, which checks only the first half of CR. `verify` therefore requires
 *   S1 = 0 *and* S2 = 0 (which together mean U = Z on both halves); `paperS` keeps the literal S.
 * - The one-time pad is malleable: flipping a bit of En and U12 flips a bit of the credential the
 *   verifier reconstructs. A request is therefore bound to its context by a tag
 *   HMAC-SHA256(HKDF(K_r), context || En || U12), which only holders of K_r can compute.
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { AbiCoder } from "ethers";
import { Bits, BitsError } from "./bits";
import { MetatrustError } from "../errors";

/** Domain of the on-chain commitment. */
export const COMMITMENT_DOMAIN = "METATRUST-V1-MSSA-CREDENTIAL";
/** HKDF info of the request tag key. */
export const TAG_DST = "METATRUST-V1-MSSA-REQUEST-TAG";

/** A credential, key or request is malformed. */
export class CredentialError extends MetatrustError {
  constructor(message: string) {
    super("INVALID_PARAMETER", message);
  }
}

/**
 * CR = INFO_0 | INFO_1 | ... | INFO_n | as UTF-8 bits, each field terminated by '|'. A field may
 * not contain '|', so the encoding is unambiguous.
 */
export function encodeCredential(infos: readonly string[]): Bits {
  if (infos.length === 0) throw new CredentialError("a credential needs at least one INFO field");
  for (const [i, f] of infos.entries()) {
    if (f.length === 0) throw new CredentialError(`INFO_${i} is empty`);
    if (f.includes("|")) throw new CredentialError(`INFO_${i} contains the separator '|'`);
  }
  return Bits.fromBytes(utf8ToBytes(infos.map((f) => f + "|").join("")));
}

/** Step 1's odd-length rule: an odd-length string gets its last bit replaced by two copies. */
export function evenLength(b: Bits): Bits {
  if (b.length === 0) throw new CredentialError("empty bit string");
  return b.length % 2 === 0 ? b : b.concat(Bits.fromArray([b.get(b.length - 1)]));
}

/** Eqs. 5-6: K_r as the xor of every authority's key, each as long as the (padded) credential. */
export function combineKeys(keys: readonly Bits[], credentialLength: number): Bits {
  if (keys.length === 0) throw new CredentialError("no authority keys");
  for (const [i, k] of keys.entries())
    if (k.length !== credentialLength) throw new CredentialError(`key ${i} has ${k.length} bits, the credential ${credentialLength}`);
  return keys.slice(1).reduce((a, k) => a.xor(k), keys[0]);
}

/** Everything Eqs. 7-15 derive from CR and K_r. */
export type Encoded = {
  U1: Bits;
  U2: Bits;
  U12: Bits;
  U1p: Bits;
  U12p: Bits;
  /** Eq. 14 */
  En: Bits;
};

/**
 * Eqs. 7-15 (Alice's side; the verifying authority runs the same on its copy to get EN_auth and
 * Z12).
 * @param cr - the credential, already of even length
 * @param kr - K_r, as long as cr
 */
export function encode(cr: Bits, kr: Bits): Encoded {
  if (cr.length % 2 !== 0) throw new CredentialError("apply evenLength to the credential first");
  if (kr.length !== cr.length) throw new CredentialError(`K_r has ${kr.length} bits, CR ${cr.length}`);
  const h = cr.length / 2;
  const U1 = kr.slice(0, h).xor(cr.slice(0, h));
  const U2 = kr.slice(h, cr.length).xor(cr.slice(h, cr.length));
  const U12 = U1.xor(U2);
  const u1 = U1.toArray();
  const u12 = U12.toArray();
  const agree = u1.map((b, i) => b === u12[i]);
  const U1p = Bits.fromArray(u1.map((b, i) => (agree[i] ? 1 - b : b)));
  const U12p = Bits.fromArray(u12.map((b, i) => (agree[i] ? 1 - b : b)));
  return { U1, U2, U12, U1p, U12p, En: U1.xor(U1p) };
}

/** The outcome of Steps 8-9. */
export type Verdict = {
  S1: Bits;
  S2: Bits;
  /** the paper's S = S1 xor S2 */
  S: Bits;
  /** S1 = 0 and S2 = 0 */
  accepted: boolean;
  /** S = 0 (the paper's literal rule, which sees only the first half) */
  acceptedByPaperRule: boolean;
};

/** Steps 8-9: compares Alice's (En, U12) with the authority's (EN_auth, Z12). */
export function verify(alice: { En: Bits; U12: Bits }, authority: { En: Bits; U12: Bits }): Verdict {
  if (alice.En.length !== authority.En.length || alice.U12.length !== authority.U12.length)
    throw new CredentialError("the request's lengths differ from the expected credential's");
  const S1 = alice.En.xor(authority.En);
  const S2 = alice.U12.xor(authority.U12);
  const S = S1.xor(S2);
  return { S1, S2, S, accepted: S1.isZero() && S2.isZero(), acceptedByPaperRule: S.isZero() };
}

function tagKey(kr: Bits): Uint8Array {
  return hkdf(sha256, kr.bytes, utf8ToBytes(String(kr.length)), utf8ToBytes(TAG_DST), 32);
}

function lenPrefixed(b: Bits): Uint8Array {
  const out = new Uint8Array(4 + b.bytes.length);
  new DataView(out.buffer).setUint32(0, b.length);
  out.set(b.bytes, 4);
  return out;
}

/** The request tag binding (context, En, U12) to K_r. */
export function requestTag(kr: Bits, context: Uint8Array, En: Bits, U12: Bits): Uint8Array {
  const msg = new Uint8Array([...lenPrefixed(Bits.fromBytes(context)), ...lenPrefixed(En), ...lenPrefixed(U12)]);
  return hmac(sha256, tagKey(kr), msg);
}

/** Constant-time comparison of two tags. */
export function tagsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** keccak256(abi.encode(uint256 length, bytes packed)) of a bit string. */
export function bitsHash(b: Bits): string {
  return (
    "0x" + bytesToHex(keccak_256(Buffer.from(AbiCoder.defaultAbiCoder().encode(["uint256", "bytes"], [b.length, b.bytes]).slice(2), "hex")))
  );
}

/** The on-chain commitment to a credential block: never CR, K_r or U12 themselves. */
export function commitment(place: string, user: string, U12: Bits, salt: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(salt)) throw new CredentialError("the salt must be 32 bytes of hex");
  const enc = AbiCoder.defaultAbiCoder().encode(
    ["string", "bytes32", "address", "bytes32", "bytes32"],
    [COMMITMENT_DOMAIN, place, user, bitsHash(U12), salt],
  );
  return "0x" + bytesToHex(keccak_256(Buffer.from(enc.slice(2), "hex")));
}

export { Bits, BitsError };
