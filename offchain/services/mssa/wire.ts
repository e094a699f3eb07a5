/**
 * MSSA registration across the network (issue 19): the messages between a user and the place's
 * authority services, and between the verifying authority and the others. The paper's quantum
 * channel stays SIMULATED (offchain/mssa/quantum.ts) at the sending service; what crosses the
 * network is the classical part, and every one-time key and every identity document is sealed.
 *
 * | message        | from -> to              | fields                                                        | bytes |
 * |----------------|-------------------------|---------------------------------------------------------------|------:|
 * | KeyRequest     | user -> authority       | session 32 \| user 20 \| key bits u16 \| transport PK 33     | 87 |
 * | SealedKey      | authority -> user/verifier | Enc_T(key, packed)                                         | 50 + bits/8 |
 * | ReleaseRequest | authority -> authority  | scoped session 32 \| transport PK 33 \| the user's VerifyRequest envelope to the requester | 65 + envelope |
 * | VerifyRequest  | user -> each authority of S | session 32 \| user 20 \| bits u16 \| En \| U12 \| tag 32 \| salt 32 \| elector u8 \| \|S\| u8 \| S 20 each \| key digests 32 each \| Enc_A(documents) | 120 + 2 bits/8 + 52 \|S\| + 50 + docs |
 * | VerifyReply    | authority -> user       | commitment 32 \| salt 32 \| nullifier 32 \| registration id 32 \| election nullifier 32 | 160 |
 * | ProposeRequest | user -> verifier        | session 32 \| consent deadline u64 \| EIP-712 consent signature 65 | 105 |
 * | Outcome        | verifier/authority -> * | registration id 32 \| approvals u8 \| granted u8             | 34 |
 * | ApproveRequest | proposer -> authority   | scoped session 32 \| registration id 32                       | 64 |
 *
 * Between authorities a session is named by its scoped id, `scopedSession(session, user)`
 * (authority-service.ts): an authority keeps every session under it, so a session id another
 * account asks for first is another session (h9-red finding F5).
 *
 * Enc_T is ECIES (offchain/crypto/ecies.ts) to a one-time transport key of the receiver, its
 * associated data naming the message, the session and the sending authority, so a key cannot be
 * replayed into another session or passed off as another authority's. Enc_A is ECIES to the
 * channel key of the authority it goes to (published in its signed `/v1/info`), bound to the
 * session and the user: the documents (INFO_0..INFO_n, the last one the identity the nullifier is
 * computed from) are what an authority checks out of band in the paper (SIMULATED: it checks the
 * request against them). Every authority of the user's set S gets the request and checks it itself
 * (h7-audit finding M4): the salt is the user's, so they all compute the same commitment, id and
 * nullifier, and each approves only the registration it computed. `elector` (1) asks that this
 * registration make the user an elector: each authority then also computes her election nullifier
 * (docs/specs/mssa.md §1.8) from the documents with the deployment's election key, zero otherwise.
 *
 * The set S (h15-red2 R1): the user names the authorities of the place she registers with, at least
 * k of them, all sitting; the pad is the XOR of their keys only, the request goes to them only, and
 * each of them collects the keys of S's other members only. With every key of S the request carries
 * its digest ({@link keyDigest}: what the user received from that authority at Step 1), so an
 * authority whose release to a peer differs from its key to the user is named, not XORed in.
 */
import { concat, toBytes } from "../../crypto/bytes";
import { POINT_BYTES, Point, decodePoint, encodePoint } from "../../crypto/group";
import { ECIES_OVERHEAD, eciesDecrypt, eciesEncrypt } from "../../crypto/ecies";
import { Bits } from "../../mssa/bits";
import { RegistrationError } from "../../mssa/registration";
import { EnvelopeError } from "../envelope";
import { getAddress } from "ethers";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

const bad = (fn: string, what: string) => new EnvelopeError("MALFORMED", `${fn}: ${what}`);
const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");
const bytes32 = (fn: string, h: string): Uint8Array => {
  if (!/^0x[0-9a-fA-F]{64}$/.test(h)) throw bad(fn, `${h} is not 32 bytes of hex`);
  return Uint8Array.from(Buffer.from(h.slice(2), "hex"));
};
const address = (fn: string, a: string): Uint8Array => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(a)) throw bad(fn, `${a} is not an address`);
  return Uint8Array.from(Buffer.from(a.slice(2), "hex"));
};
const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
/** Largest credential accepted, in bits (a few kilobytes of documents). */
export const MAX_BITS = 32_768;

function take(fn: string, b: Uint8Array) {
  let off = 0;
  return {
    n(k: number): Uint8Array {
      if (off + k > b.length) throw bad(fn, "truncated");
      return b.slice(off, (off += k));
    },
    u16(): number {
      const x = this.n(2);
      return (x[0] << 8) | x[1];
    },
    point(): Point {
      const raw = this.n(POINT_BYTES);
      try {
        return decodePoint(raw);
      } catch {
        throw bad(fn, "invalid transport key");
      }
    },
    rest(): Uint8Array {
      return b.slice(off);
    },
    end(): void {
      if (off !== b.length) throw bad(fn, `${b.length - off} trailing bytes`);
    },
  };
}
function bitsLen(fn: string, n: number): number {
  if (n < 2 || n > MAX_BITS || n % 2 !== 0) throw bad(fn, `a credential of ${n} bits (even, 2 to ${MAX_BITS})`);
  return n;
}

/** A key request: one authority's one-time key for a session. */
export type KeyRequest = { session: string; user: string; bits: number; transport: Point };
export function encodeKeyRequest(m: KeyRequest): Uint8Array {
  return concat(bytes32("encodeKeyRequest", m.session), address("encodeKeyRequest", m.user), u16(m.bits), encodePoint(m.transport));
}
export function decodeKeyRequest(b: Uint8Array): KeyRequest {
  const r = take("decodeKeyRequest", b);
  const m = { session: hex(r.n(32)), user: hex(r.n(20)), bits: bitsLen("decodeKeyRequest", r.u16()), transport: r.point() };
  r.end();
  return m;
}

const keyAad = (what: string, session: string, authority: string) =>
  toBytes(`METATRUST-V1-MSSA-${what}/${session.toLowerCase()}/${authority.toLowerCase()}`);

/** Seals a one-time key to a transport key (for the user: "KEY"; for the verifier: "RELEASE"). */
export function sealKey(what: "KEY" | "RELEASE", to: Point, session: string, authority: string, key: Bits): Uint8Array {
  return concat(u16(key.length), eciesEncrypt(to, key.bytes, keyAad(what, session, authority)));
}
/** Opens a sealed one-time key. @throws RegistrationError("bad-tag") when it does not open */
export function openKey(what: "KEY" | "RELEASE", sk: bigint, session: string, authority: string, b: Uint8Array): Bits {
  const r = take("openKey", b);
  const n = bitsLen("openKey", r.u16());
  const sealed = r.rest();
  if (sealed.length !== ECIES_OVERHEAD + Math.ceil(n / 8)) throw bad("openKey", "the sealed key has the wrong length");
  try {
    return Bits.fromBytes(eciesDecrypt(sk, sealed, keyAad(what, session, authority)), n);
  } catch {
    throw new RegistrationError("bad-tag", `openKey: the key of ${authority} does not open for session ${session}`);
  }
}

/**
 * The verifier's request for another authority's key of a session. `request`: the user's signed
 * VerifyRequest envelope to the requesting authority (h15-red2 R2, R10): the releasing authority
 * releases only a session a user asked the requester to verify, and takes the key's length from it
 * (2 |En|), not from the requester, so a peer can neither choose the length of the key the user's
 * request is checked with nor make it keep state for sessions no user opened.
 */
export type ReleaseRequest = { session: string; transport: Point; request: Uint8Array };
export function encodeReleaseRequest(m: ReleaseRequest): Uint8Array {
  if (m.request.length === 0) throw bad("encodeReleaseRequest", "the user's verify request is missing");
  return concat(bytes32("encodeReleaseRequest", m.session), encodePoint(m.transport), m.request);
}
export function decodeReleaseRequest(b: Uint8Array): ReleaseRequest {
  const r = take("decodeReleaseRequest", b);
  const m = { session: hex(r.n(32)), transport: r.point(), request: r.rest() };
  if (m.request.length === 0) throw bad("decodeReleaseRequest", "the user's verify request is missing");
  return m;
}

const docsAad = (session: string, user: string) => toBytes(`METATRUST-V1-MSSA-DOCUMENTS/${session.toLowerCase()}/${user.toLowerCase()}`);

/**
 * The user's registration request (Step 4) with its documents sealed to one authority, and the
 * salt of the commitment (the user's: every authority computes the same commitment from it).
 */
export type VerifyRequest = {
  session: string;
  /** S: the authorities the user registers with (checksummed addresses, distinct, in the order of the pad's keys) */
  set: string[];
  /** for each member of S, the digest of the key the user received from it ({@link keyDigest}) */
  keyDigests: Uint8Array[];
  user: string;
  En: Bits;
  U12: Bits;
  tag: Uint8Array;
  salt: string;
  /** whether this registration is to make the user an elector (it then carries her election nullifier) */
  elector: boolean;
  sealedDocs: Uint8Array;
};
export function encodeVerifyRequest(m: Omit<VerifyRequest, "sealedDocs">, docs: readonly string[], authorityKey: Point): Uint8Array {
  const fn = "encodeVerifyRequest";
  if (m.En.length !== m.U12.length) throw bad(fn, "En and U12 differ in length");
  if (m.tag.length !== 32) throw bad(fn, "the tag must be 32 bytes");
  checkSet(fn, m.set, m.keyDigests);
  const sealed = eciesEncrypt(authorityKey, toBytes(docs.join("\n")), docsAad(m.session, m.user));
  return concat(
    bytes32(fn, m.session),
    address(fn, m.user),
    u16(bitsLen(fn, m.En.length)),
    m.En.bytes,
    m.U12.bytes,
    m.tag,
    bytes32(fn, m.salt),
    Uint8Array.of(m.elector ? 1 : 0),
    Uint8Array.of(m.set.length),
    ...m.set.map((a) => address(fn, a)),
    ...m.keyDigests,
    sealed,
  );
}

/** Largest set S a request names (the CredentialLedger's MAX_PLACE_AUTHORITIES). */
export const MAX_SET = 32;
function checkSet(fn: string, set: readonly string[], digests: readonly Uint8Array[]): void {
  if (set.length < 1 || set.length > MAX_SET) throw bad(fn, `a set of ${set.length} authorities (1 to ${MAX_SET})`);
  if (new Set(set.map((a) => a.toLowerCase())).size !== set.length) throw bad(fn, "the set names an authority twice");
  if (digests.length !== set.length || digests.some((d) => d.length !== 32)) throw bad(fn, "one 32-byte key digest per member of the set");
}

/**
 * The digest of the one-time key `authority` gave for a scoped session: HMAC-SHA256 keyed with the
 * key (its length first), over the session and the authority. The user computes it from the key she
 * received (Step 1), each authority of S from the key it collected (or its own): a release that
 * differs from the key the user got is caught and its sender named. Like the request tag, it hides
 * the key computationally (a credential has hundreds of bits), not information-theoretically.
 */
export function keyDigest(key: Bits, scopedSession: string, authority: string): Uint8Array {
  return hmac(
    sha256,
    concat(u16(key.length), key.bytes),
    toBytes(`METATRUST-V1-MSSA-KEY-DIGEST/${scopedSession.toLowerCase()}/${authority.toLowerCase()}`),
  );
}
export function decodeVerifyRequest(b: Uint8Array): VerifyRequest {
  const fn = "decodeVerifyRequest";
  const r = take(fn, b);
  const session = hex(r.n(32));
  const user = hex(r.n(20));
  const n = bitsLen(fn, r.u16());
  const En = Bits.fromBytes(r.n(Math.ceil(n / 8)), n);
  const U12 = Bits.fromBytes(r.n(Math.ceil(n / 8)), n);
  const tag = r.n(32);
  const salt = hex(r.n(32));
  const flag = r.n(1)[0];
  if (flag > 1) throw bad(fn, "the elector flag must be 0 or 1");
  const count = r.n(1)[0];
  const set: string[] = [];
  for (let i = 0; i < count; i++) set.push(getAddress(hex(r.n(20))));
  const keyDigests: Uint8Array[] = [];
  for (let i = 0; i < count; i++) keyDigests.push(r.n(32));
  checkSet(fn, set, keyDigests);
  const sealedDocs = r.rest();
  if (sealedDocs.length <= ECIES_OVERHEAD || sealedDocs.length > ECIES_OVERHEAD + 4096)
    throw bad(fn, "the sealed documents have a bad length");
  return { session, set, keyDigests, user, En, U12, tag, salt, elector: flag === 1, sealedDocs };
}
/** An authority opens the documents sealed to it. @throws EnvelopeError(MALFORMED) when they do not open */
export function openDocs(sk: bigint, m: VerifyRequest): string[] {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(eciesDecrypt(sk, m.sealedDocs, docsAad(m.session, m.user))).split("\n");
  } catch {
    throw bad("openDocs", "the documents do not open for this authority, session and user");
  }
}

/**
 * What an authority found: the commitment and its opening salt, the nullifier, the registration id,
 * and the election nullifier (zero when the user did not ask to be an elector through it).
 */
export type VerifyReply = { commitment: string; salt: string; nullifier: string; id: string; electorNullifier: string };
export function encodeVerifyReply(m: VerifyReply): Uint8Array {
  const fn = "encodeVerifyReply";
  return concat(
    bytes32(fn, m.commitment),
    bytes32(fn, m.salt),
    bytes32(fn, m.nullifier),
    bytes32(fn, m.id),
    bytes32(fn, m.electorNullifier),
  );
}
export function decodeVerifyReply(b: Uint8Array): VerifyReply {
  const r = take("decodeVerifyReply", b);
  const m = { commitment: hex(r.n(32)), salt: hex(r.n(32)), nullifier: hex(r.n(32)), id: hex(r.n(32)), electorNullifier: hex(r.n(32)) };
  r.end();
  return m;
}

/**
 * The user's consent, sent to the verifier to propose: the session, the deadline she signed in it
 * (unix seconds, chain time; the ledger refuses the consent proposed later), and her signature.
 */
export type ProposeRequest = { session: string; deadline: bigint; signature: string };
export function encodeProposeRequest(m: ProposeRequest): Uint8Array {
  if (!/^0x[0-9a-fA-F]{130}$/.test(m.signature)) throw bad("encodeProposeRequest", "the signature must be 65 bytes");
  if (typeof m.deadline !== "bigint" || m.deadline < 0n || m.deadline >= 1n << 64n)
    throw bad("encodeProposeRequest", `the deadline must be a u64 (unix seconds), got ${m.deadline}`);
  const deadline = new Uint8Array(8);
  new DataView(deadline.buffer).setBigUint64(0, m.deadline);
  return concat(bytes32("encodeProposeRequest", m.session), deadline, Uint8Array.from(Buffer.from(m.signature.slice(2), "hex")));
}
export function decodeProposeRequest(b: Uint8Array): ProposeRequest {
  const r = take("decodeProposeRequest", b);
  const session = hex(r.n(32));
  const d = r.n(8); // a view at its own offset: a Buffer's slice shares its pool (s21-review2 L3)
  const deadline = new DataView(d.buffer, d.byteOffset, 8).getBigUint64(0);
  const m = { session, deadline, signature: hex(r.n(65)) };
  r.end();
  return m;
}

/** Where a registration stands on-chain. */
export type Outcome = { id: string; approvals: number; granted: boolean };
export function encodeOutcome(m: Outcome): Uint8Array {
  return concat(bytes32("encodeOutcome", m.id), Uint8Array.of(m.approvals, m.granted ? 1 : 0));
}
export function decodeOutcome(b: Uint8Array): Outcome {
  const r = take("decodeOutcome", b);
  const m = { id: hex(r.n(32)), approvals: r.n(1)[0], granted: r.n(1)[0] === 1 };
  r.end();
  return m;
}

/** The proposer asks another authority to approve the registration of a session that authority checked. */
export type ApproveRequest = { session: string; id: string };
export function encodeApproveRequest(m: ApproveRequest): Uint8Array {
  return concat(bytes32("encodeApproveRequest", m.session), bytes32("encodeApproveRequest", m.id));
}
export function decodeApproveRequest(b: Uint8Array): ApproveRequest {
  const r = take("decodeApproveRequest", b);
  const m = { session: hex(r.n(32)), id: hex(r.n(32)) };
  r.end();
  return m;
}
