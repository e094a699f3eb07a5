/**
 * The avatar messages that exist only because the IdP runs apart from its users (issue 19):
 * MIT issuance over the network, the server's challenge, and the IdP's acknowledgements. The
 * protocol messages themselves (LoginResponse, DelegationResponse: offchain/avatars/wire.ts) travel
 * unchanged inside envelopes (offchain/services/envelope.ts).
 *
 * | message        | from -> to   | fields                                                              | bytes |
 * |----------------|--------------|---------------------------------------------------------------------|------:|
 * | IssueRequest   | user -> IdP  | token id 16 \| kind u8 (1 user, 2 proxy) \| pk 96 \| possession 48 (over possessionContext) \| Enc_C(label len u8 \| label \| [enrollment 256]) | 161 + 50 + 1 + label (+ 256) |
 * | IssueReply     | IdP -> user  | serial 32 \| iris commitment 32 (zeros for a proxy) \| cid len u8 \| cid | 65 + cid |
 * | ChallengeRequest | user -> IdP | purpose u8 (1 login, 2 delegation)                                 | 1 |
 * | ChallengeReply | IdP -> user  | challenge 32 \| purpose u8 \| IdP time u64                          | 41 |
 * | LoginAck       | IdP -> user  | avatar 32 \| owner serial 32 \| h 32 (what went on-chain)           | 96 |
 * | DelegationAck  | IdP -> proxy | avatar 32 \| proxy serial 32 \| h 32 \| delegation id u64           | 104 |
 * | Receipt        | IdP -> holder | time u64 \| BIP-340 signature 64 (the request: the Evidence as is) | 72 |
 * | TraceRequest   | reporter -> IdP | case id u64 \| Evidence                                          | 8 + evidence |
 * | TraceAck       | IdP -> reporter | case id u64 \| verdict commitment 32 (never the identity)        | 40 |
 *
 * Confidentiality. Enc_C is ECIES (offchain/crypto/ecies.ts) to the IdP's channel key, the key the
 * protocol already seals fresh iris samples to (IdentityProvider.channelKey, published in the
 * IdP's signed description). Its associated data names the message, the kind, the public key,
 * the request id and the enrolment token's id, so that nobody can move a victim's sealed enrollment
 * under another key (an MIT bound to the victim's eye for the thief's key), into another request,
 * or under another token (s24-rts F3: the IdP opened the box, then refused the thief's token with a
 * message that quoted the victim's identity). No refusal quotes what the box holds. The real identity (the
 * proxy's operator) travels in the same box. So iris templates, iris samples and real identities
 * never cross the network in the clear, with or without TLS; TLS (`--tls-key`, `--tls-cert`)
 * additionally hides which avatars log in and when.
 */
import { concat, toBytes, toHex } from "../../crypto/bytes";
import { G1Point, G2Point } from "../../crypto/bls";
import { decodePk, decodeSig, encodePk, encodeSig } from "../../crypto/cps";
import { ECIES_OVERHEAD, eciesEncrypt } from "../../crypto/ecies";
import type { Point } from "../../crypto/group";
import { AvatarProtocolError } from "../../avatars/agents";
import { IRIS_BITS } from "../../avatars/iris";
import { NO_TOKEN, TOKEN_ID_BYTES } from "../enrolment";

/** What an MIT is issued for. */
export const IssueKind = { user: 1, proxy: 2 } as const;
/** What a challenge is for (the same numbers as SamplePurpose). */
export const ChallengePurpose = { login: 1, delegation: 2 } as const;

const ENROL_BYTES = IRIS_BITS / 8;
const bad = (fn: string, what: string) => new AvatarProtocolError("MALFORMED", `${fn}: ${what}`);

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}
function readU64(fn: string, b: Uint8Array): number {
  const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(fn, "a number above 2^53");
  return Number(v);
}
function cut(fn: string, b: Uint8Array, sizes: number[]): Uint8Array[] {
  const total = sizes.reduce((x, y) => x + y, 0);
  if (!(b instanceof Uint8Array) || b.length !== total) throw bad(fn, `expected ${total} bytes, got ${b?.length}`);
  const out: Uint8Array[] = [];
  let off = 0;
  for (const n of sizes) out.push(b.slice(off, (off += n)));
  return out;
}

/**
 * The associated data of a sealed enrollment: message, kind, key, request id and token id. The
 * token id is in it (s24-rts F3) so that the box opens for the token it was sent with only: moved
 * under another token (Mallory's own, whose key signs her copy of the envelope) it does not open,
 * and the IdP never compares a victim's sealed identity with a token the victim did not present.
 */
export function enrolAad(kind: number, pk: Uint8Array, requestId: Uint8Array, tokenId: Uint8Array): Uint8Array {
  return concat(toBytes("METATRUST-V2-IDP-ENROL"), Uint8Array.of(kind), pk, requestId, tokenId);
}

/**
 * What an issuance request's proof of possession names (cpsProvePossession's context):
 * "METATRUST-V1-IDP-POP" || kind u8 || token id (16) || request id || audience. A proof seen in
 * one request does not verify in another: another token, request, kind or IdP (s24-rta
 * observation: the proof was over the bare key, so whoever saw it could have a proxy MIT minted
 * for someone else's key under a token of its own).
 */
export function possessionContext(kind: number, tokenId: Uint8Array, requestId: Uint8Array, audience: Uint8Array): Uint8Array {
  return concat(toBytes("METATRUST-V1-IDP-POP"), Uint8Array.of(kind), tokenId, requestId, audience);
}

/** An issuance request, decoded (the sealed part still sealed). */
/**
 * `tokenId` names the IdP operator's enrolment token for this label (offchain/services/enrolment.ts),
 * whose key signs the envelope; all zeros when the IdP runs with open registration.
 */
export type IssueRequest = { tokenId: Uint8Array; kind: number; pk: G2Point; possession: G1Point; sealed: Uint8Array };

/**
 * Builds an issuance request: the label (real identity or operator) and the enrollment are sealed
 * to the IdP's channel key under {@link enrolAad}.
 */
export function encodeIssueRequest(a: {
  kind: number;
  pk: G2Point;
  possession: G1Point;
  label: string;
  enrollment?: Uint8Array;
  channelKey: Point;
  requestId: Uint8Array;
  tokenId?: Uint8Array;
}): Uint8Array {
  const fn = "encodeIssueRequest";
  const tokenId = a.tokenId ?? NO_TOKEN;
  if (!(tokenId instanceof Uint8Array) || tokenId.length !== TOKEN_ID_BYTES) throw bad(fn, `the token id must be ${TOKEN_ID_BYTES} bytes`);
  if (a.kind !== IssueKind.user && a.kind !== IssueKind.proxy) throw bad(fn, `unknown kind ${a.kind}`);
  const label = toBytes(a.label);
  if (label.length < 1 || label.length > 255) throw bad(fn, "the label must be 1 to 255 bytes");
  if ((a.kind === IssueKind.user) !== (a.enrollment !== undefined)) throw bad(fn, "a user (and only a user) sends an enrollment");
  if (a.enrollment && a.enrollment.length !== ENROL_BYTES) throw bad(fn, `the enrollment must be ${ENROL_BYTES} bytes`);
  const pk = encodePk(a.pk);
  const plain = concat(Uint8Array.of(label.length), label, a.enrollment ?? new Uint8Array());
  return concat(
    tokenId,
    Uint8Array.of(a.kind),
    pk,
    encodeSig(a.possession),
    eciesEncrypt(a.channelKey, plain, enrolAad(a.kind, pk, a.requestId, tokenId)),
  );
}

/** Decodes an issuance request (the points checked, the sealed part not opened). */
export function decodeIssueRequest(whole: Uint8Array): IssueRequest {
  const fn = "decodeIssueRequest";
  if (!(whole instanceof Uint8Array) || whole.length < TOKEN_ID_BYTES + 1 + 96 + 48 + ECIES_OVERHEAD + 2) throw bad(fn, "too short");
  const tokenId = whole.slice(0, TOKEN_ID_BYTES);
  const b = whole.subarray(TOKEN_ID_BYTES);
  const kind = b[0];
  if (kind !== IssueKind.user && kind !== IssueKind.proxy) throw bad(fn, `unknown kind ${kind}`);
  const max = 1 + 96 + 48 + ECIES_OVERHEAD + 1 + 255 + (kind === IssueKind.user ? ENROL_BYTES : 0);
  if (b.length > max) throw bad(fn, `longer than ${max} bytes`);
  let pk: G2Point, possession: G1Point;
  try {
    pk = decodePk(b.slice(1, 97));
    possession = decodeSig(b.slice(97, 145));
  } catch {
    throw bad(fn, "invalid key or proof of possession");
  }
  return { tokenId, kind, pk, possession, sealed: b.slice(145) };
}

/** Splits an opened enrollment box into the label and (for a user) the enrollment. */
export function splitEnrolment(kind: number, plain: Uint8Array): { label: string; enrollment?: Uint8Array } {
  const fn = "splitEnrolment";
  const n = plain[0] ?? 0;
  const want = 1 + n + (kind === IssueKind.user ? ENROL_BYTES : 0);
  if (n < 1 || plain.length !== want) throw bad(fn, `expected ${want} bytes`);
  let label: string;
  try {
    label = new TextDecoder("utf-8", { fatal: true }).decode(plain.subarray(1, 1 + n));
  } catch {
    throw bad(fn, "the label is not UTF-8");
  }
  return { label, enrollment: kind === IssueKind.user ? plain.slice(1 + n) : undefined };
}

/** The IdP's answer to an issuance. */
export type IssueReply = { serial: Uint8Array; commitment: Uint8Array; cid: string };
export function encodeIssueReply(r: IssueReply): Uint8Array {
  const cid = toBytes(r.cid);
  if (cid.length < 1 || cid.length > 255) throw bad("encodeIssueReply", "the CID must be 1 to 255 bytes");
  return concat(r.serial, r.commitment, Uint8Array.of(cid.length), cid);
}
export function decodeIssueReply(b: Uint8Array): IssueReply {
  const fn = "decodeIssueReply";
  if (!(b instanceof Uint8Array) || b.length < 66) throw bad(fn, "too short");
  const [serial, commitment, n] = [b.slice(0, 32), b.slice(32, 64), b[64]];
  if (b.length !== 65 + n) throw bad(fn, `expected ${65 + n} bytes`);
  return { serial, commitment, cid: new TextDecoder().decode(b.subarray(65)) };
}

export function encodeChallengeRequest(purpose: number): Uint8Array {
  return Uint8Array.of(purpose);
}
export function decodeChallengeRequest(b: Uint8Array): number {
  const [p] = cut("decodeChallengeRequest", b, [1]);
  if (p[0] !== ChallengePurpose.login && p[0] !== ChallengePurpose.delegation)
    throw bad("decodeChallengeRequest", `unknown purpose ${p[0]}`);
  return p[0];
}

/** The server's challenge and its clock (the client signs with the IdP's time, so clock skew is the IdP's to judge). */
export type ChallengeReply = { challenge: Uint8Array; purpose: number; time: number };
export function encodeChallengeReply(r: ChallengeReply): Uint8Array {
  return concat(r.challenge, Uint8Array.of(r.purpose), u64(r.time));
}
export function decodeChallengeReply(b: Uint8Array): ChallengeReply {
  const [c, p, t] = cut("decodeChallengeReply", b, [32, 1, 8]);
  return { challenge: c, purpose: p[0], time: readU64("decodeChallengeReply", t) };
}

/** What the IdP recorded for a login. */
export type LoginAck = { avatarId: Uint8Array; serial: Uint8Array; h: Uint8Array };
export function encodeLoginAck(a: LoginAck): Uint8Array {
  return concat(a.avatarId, a.serial, a.h);
}
export function decodeLoginAck(b: Uint8Array): LoginAck {
  const [avatarId, serial, h] = cut("decodeLoginAck", b, [32, 32, 32]);
  return { avatarId, serial, h };
}

/** What the IdP recorded for a delegation. */
export type DelegationAck = { avatarId: Uint8Array; proxySerial: Uint8Array; h: Uint8Array; delegationId: bigint };
export function encodeDelegationAck(a: DelegationAck): Uint8Array {
  return concat(a.avatarId, a.proxySerial, a.h, u64(Number(a.delegationId)));
}
export function decodeDelegationAck(b: Uint8Array): DelegationAck {
  const [avatarId, proxySerial, h, id] = cut("decodeDelegationAck", b, [32, 32, 32, 8]);
  return { avatarId, proxySerial, h, delegationId: BigInt(readU64("decodeDelegationAck", id)) };
}

/** Hex of a serial, for logs. */
export const short = (b: Uint8Array) => toHex(b).slice(0, 12) + "…";

/** A platform receipt (the stamp route's reply). */
export function encodeReceipt(r: { time: number; sig: Uint8Array }): Uint8Array {
  if (r.sig.length !== 64) throw bad("encodeReceipt", "the signature must be 64 bytes");
  return concat(u64(r.time), r.sig);
}
export function decodeReceipt(b: Uint8Array): { time: number; sig: Uint8Array } {
  const [t, sig] = cut("decodeReceipt", b, [8, 64]);
  return { time: readU64("decodeReceipt", t), sig };
}

/** A trace request: the case the reporter opened on-chain and the evidence whose hash it filed. */
export function encodeTraceRequest(caseId: bigint, evidence: Uint8Array): Uint8Array {
  return concat(u64(Number(caseId)), evidence);
}
export function decodeTraceRequest(b: Uint8Array): { caseId: bigint; evidence: Uint8Array } {
  if (!(b instanceof Uint8Array) || b.length < 9) throw bad("decodeTraceRequest", "too short");
  return { caseId: BigInt(readU64("decodeTraceRequest", b.subarray(0, 8))), evidence: b.slice(8) };
}

/** The IdP's answer to a traced case: the case and its verdict commitment. */
export type TraceAck = { caseId: bigint; verdictCommitment: Uint8Array };
export function encodeTraceAck(a: TraceAck): Uint8Array {
  return concat(u64(Number(a.caseId)), a.verdictCommitment);
}
export function decodeTraceAck(b: Uint8Array): TraceAck {
  const [id, c] = cut("decodeTraceAck", b, [8, 32]);
  return { caseId: BigInt(readU64("decodeTraceAck", id)), verdictCommitment: c };
}
