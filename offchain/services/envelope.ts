/**
 * The authenticated envelope every service message travels in (issue 19). The protocol messages
 * (offchain/rsms/messages.ts and the others) stay as they are; the envelope adds who
 * sent them, to whom, in which session, when, and in reply to what, and a signature over all of it.
 *
 * | field      | bytes | meaning                                                              |
 * |------------|------:|----------------------------------------------------------------------|
 * | version    |     1 | ENVELOPE_VERSION                                                     |
 * | kind       |     1 | 1 request, 2 reply                                                   |
 * | route      |     1 | which handler (Route): a request signed for one route is refused at another |
 * | audience   |    32 | keccak256 of the recipient's name in this deployment ({@link audienceOf}) |
 * | session    |    16 | the protocol run this message belongs to (chosen by the client)      |
 * | requestId  |    16 | idempotency key: a retry resends the same id and the same bytes      |
 * | issuedAt   |     8 | unix milliseconds (a request outside the freshness window is refused) |
 * | inReplyTo  |    32 | a reply: keccak256 of the request envelope it answers; a request: zeros |
 * | bodyLen    |     4 | length of the body                                                   |
 * | body       |     n | the protocol message, byte for byte                                  |
 * | scheme     |     1 | 0 none, 1 Schnorr by a protocol key, 2 ECDSA by an account key       |
 * | sig        | 0/65  | over keccak256(ENVELOPE_DST, every byte before it)                   |
 *
 * Binding: the signature covers the audience (a message for pool 1's RPM is refused by pool 2's),
 * the route, the session and, in a reply, the hash of the request. So a relay that swaps two
 * replies, or answers one session with another's reply, is detected by the client's check of
 * `inReplyTo`; and nobody without the key can make or change a message.
 *
 * Scheme 0 (no signature) is for the one sender that must stay anonymous: an RN's join request.
 * It is authenticated by the protocol itself (only the holder of the one-time secret a can build
 * a request whose reply A = a*P it accepts), and a signature by its long-term key would link its
 * pseudonyms, which the protocol exists to prevent.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { concat, equalBytes, toBytes } from "../crypto/bytes";
import { Point } from "../crypto/group";
import { SCHNORR_BYTES, schnorrSign, schnorrVerify } from "../crypto/schnorr";
import { MetatrustError } from "../errors";

/** Envelope format version. */
export const ENVELOPE_VERSION = 1;
/** Domain of envelope signatures. */
export const ENVELOPE_DST = "METATRUST-V1-SERVICE-ENVELOPE";

/** What a message is. */
export const Kind = { Request: 1, Reply: 2 } as const;
/** Signature schemes. */
export const Scheme = { None: 0, Schnorr: 1, Ecdsa: 2 } as const;
export type SchemeId = (typeof Scheme)[keyof typeof Scheme];

/** Routes (one byte each, signed): which handler a message is for. */
export const Route = {
  MsrpInfo: 0x10,
  RpmRegister: 0x11,
  RnRegister: 0x12,
  JoinForward: 0x13,
  UserRegister: 0x14,
  GroupRequest: 0x15,
  GroupPost: 0x16,
  GroupFetch: 0x17,
  GroupRekey: 0x18,
  ReauthForward: 0x19,
  TrustAttest: 0x1a,
  GroupAdd: 0x1b,
  GroupSend: 0x1c,
  GroupRead: 0x1d,
  RnRenew: 0x1e,
  Join: 0x20,
  Reauth: 0x21,
  IdpChallenge: 0x30,
  IdpIssue: 0x31,
  IdpLogin: 0x32,
  IdpDelegate: 0x33,
  IdpStamp: 0x34,
  IdpTrace: 0x35,
  MssaKey: 0x40,
  MssaRelease: 0x41,
  MssaVerify: 0x42,
  MssaPropose: 0x43,
  MssaApprove: 0x44,
  Detect: 0x50,
  OracleObserve: 0x51,
} as const;

/** Fixed header length (everything but body, scheme and signature). */
export const HEADER_BYTES = 1 + 1 + 1 + 32 + 16 + 16 + 8 + 32 + 4;
const SIG_BYTES = 65;
/** Half the order of secp256k1: an account signature's s is at most this (low s, as ethers and OpenZeppelin sign). */
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/**
 * Whether r || s || v is the one encoding an account signs (ethers' `serialized`): v 27 or 28, s in
 * [1, n/2]. ethers' `recoverAddress` also takes v 0/1 and every v from 35 up (EIP-155 style) for the
 * same signature, so without this a relay could re-send a request under other bytes that verify,
 * and the reply cache, which names a request by its bytes, would answer the copy and refuse the
 * sender's own request for good (red team s19-reds R1).
 */
function canonicalEcdsa(sig: Uint8Array): boolean {
  if (sig.length !== SIG_BYTES || (sig[64] !== 27 && sig[64] !== 28)) return false;
  let s = 0n;
  for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(sig[i]);
  return s !== 0n && s <= SECP256K1_HALF_N;
}

/** An envelope's fields. */
export type Envelope = {
  kind: number;
  route: number;
  audience: Uint8Array;
  session: Uint8Array;
  requestId: Uint8Array;
  issuedAt: number;
  inReplyTo: Uint8Array;
  body: Uint8Array;
  scheme: SchemeId;
  sig: Uint8Array;
};

/** An envelope that does not parse, or whose signature, audience, route or binding is wrong. */
export class EnvelopeError extends MetatrustError {
  /** Why (machine-readable): MALFORMED, BAD_SIGNATURE, WRONG_AUDIENCE, WRONG_ROUTE, WRONG_SESSION, STALE, NOT_A_REPLY_TO_THIS */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(reason === "MALFORMED" ? "MESSAGE_MALFORMED" : "PROTOCOL_REJECTED", message);
    this.reason = reason;
  }
}

/** keccak256 of a recipient's name ("msrp", "rpm:1") in one deployment (chain id and registry address). */
export function audienceOf(chainId: bigint | number, registry: string, name: string): Uint8Array {
  return keccak_256(toBytes(`metatrust-service|${chainId}|${registry.toLowerCase()}|${name}`));
}

/** keccak256 of an envelope's bytes: what a reply's inReplyTo holds. */
export function envelopeHash(bytes: Uint8Array): Uint8Array {
  return keccak_256(bytes);
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}
function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function unsigned(e: Omit<Envelope, "sig">): Uint8Array {
  for (const [f, v, n] of [
    ["audience", e.audience, 32],
    ["session", e.session, 16],
    ["requestId", e.requestId, 16],
    ["inReplyTo", e.inReplyTo, 32],
  ] as const)
    if (!(v instanceof Uint8Array) || v.length !== n) throw new EnvelopeError("MALFORMED", `encodeEnvelope: ${f} must be ${n} bytes`);
  return concat(
    Uint8Array.of(ENVELOPE_VERSION, e.kind, e.route),
    e.audience,
    e.session,
    e.requestId,
    u64(e.issuedAt),
    e.inReplyTo,
    u32(e.body.length),
    e.body,
    Uint8Array.of(e.scheme),
  );
}

/** The digest a signature covers. */
function digest(signedPart: Uint8Array): Uint8Array {
  return keccak_256(concat(toBytes(ENVELOPE_DST), signedPart));
}

/** How a sender signs: a protocol key (Schnorr, sk_RPM), an account key (ECDSA over the digest), or not at all. */
export type EnvelopeSigner =
  | { scheme: typeof Scheme.None }
  | { scheme: typeof Scheme.Schnorr; sk: bigint }
  | { scheme: typeof Scheme.Ecdsa; sign(digest: Uint8Array): Uint8Array };

/**
 * Builds and signs an envelope.
 * @param e - the fields (scheme comes from the signer)
 * @param signer - how to sign
 * @returns the envelope bytes
 */
export function sealEnvelope(e: Omit<Envelope, "sig" | "scheme">, signer: EnvelopeSigner): Uint8Array {
  const part = unsigned({ ...e, scheme: signer.scheme });
  if (signer.scheme === Scheme.None) return part;
  const sig = signer.scheme === Scheme.Schnorr ? schnorrSign(signer.sk, ENVELOPE_DST, digest(part)) : signer.sign(digest(part));
  if (sig.length !== SIG_BYTES) throw new EnvelopeError("MALFORMED", `sealEnvelope: signature must be ${SIG_BYTES} bytes`);
  return concat(part, sig);
}

/**
 * A service's signed reply to a request: same route, session and request id, bound to the request's
 * exact bytes (`inReplyTo` = keccak256 of them), so that a client can tell a reply to another request.
 * @param req - the opened request
 * @param raw - the request's bytes as received
 * @param audience - the replying service's audience ({@link audienceOf})
 * @param body - the reply's body
 * @param signer - the service's key
 * @returns the reply envelope's bytes
 */
export function sealReply(
  req: Pick<Envelope, "route" | "session" | "requestId">,
  raw: Uint8Array,
  audience: Uint8Array,
  body: Uint8Array,
  signer: EnvelopeSigner,
): Uint8Array {
  return sealEnvelope(
    {
      kind: Kind.Reply,
      route: req.route,
      audience,
      session: req.session,
      requestId: req.requestId,
      issuedAt: Date.now(),
      inReplyTo: keccak_256(raw),
      body,
    },
    signer,
  );
}

/**
 * Parses an envelope (no signature check: {@link verifyEnvelope}).
 * @throws EnvelopeError(MALFORMED)
 */
export function openEnvelope(b: Uint8Array): Envelope & { signedDigest: Uint8Array } {
  const bad = (m: string) => new EnvelopeError("MALFORMED", `openEnvelope: ${m}`);
  if (!(b instanceof Uint8Array) || b.length < HEADER_BYTES + 1) throw bad(`too short (${b?.length ?? 0} bytes)`);
  if (b[0] !== ENVELOPE_VERSION) throw bad(`unsupported version ${b[0]}`);
  const kind = b[1];
  if (kind !== Kind.Request && kind !== Kind.Reply) throw bad(`unknown kind ${kind}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let off = 3;
  const take = (n: number) => b.slice(off, (off += n));
  const audience = take(32);
  const session = take(16);
  const requestId = take(16);
  const issued = dv.getBigUint64(off);
  off += 8;
  if (issued > BigInt(Number.MAX_SAFE_INTEGER)) throw bad("issuedAt out of range");
  const inReplyTo = take(32);
  const len = dv.getUint32(off);
  off += 4;
  if (off + len + 1 > b.length) throw bad(`body length ${len} runs past the end`);
  const body = take(len);
  const scheme = b[off++];
  if (scheme !== Scheme.None && scheme !== Scheme.Schnorr && scheme !== Scheme.Ecdsa) throw bad(`unknown signature scheme ${scheme}`);
  const sigLen = scheme === Scheme.None ? 0 : SIG_BYTES;
  if (b.length !== off + sigLen) throw bad(`expected ${off + sigLen} bytes, got ${b.length}`);
  if (kind === Kind.Request && !inReplyTo.every((x) => x === 0)) throw bad("a request has a non-zero inReplyTo");
  return {
    kind,
    route: b[2],
    audience,
    session,
    requestId,
    issuedAt: Number(issued),
    inReplyTo,
    body,
    scheme: scheme as SchemeId,
    sig: b.slice(off),
    signedDigest: digest(b.subarray(0, off)),
  };
}

/** Who must have signed an envelope. */
export type ExpectedSender =
  | { scheme: typeof Scheme.None }
  | { scheme: typeof Scheme.Schnorr; pk: Point }
  | { scheme: typeof Scheme.Ecdsa; recover(digest: Uint8Array, sig: Uint8Array): string; address: string };

/**
 * Checks an envelope against what the recipient expects.
 * @param e - the parsed envelope
 * @param want - kind, route, audience, sender, and for a reply the request it must answer
 * @throws EnvelopeError(WRONG_AUDIENCE | WRONG_ROUTE | BAD_SIGNATURE | NOT_A_REPLY_TO_THIS | MALFORMED)
 */
export function verifyEnvelope(
  e: ReturnType<typeof openEnvelope>,
  want: { kind: number; route: number; audience: Uint8Array; sender: ExpectedSender; request?: Uint8Array },
): void {
  if (e.kind !== want.kind) throw new EnvelopeError("MALFORMED", `verifyEnvelope: expected kind ${want.kind}, got ${e.kind}`);
  if (e.route !== want.route)
    throw new EnvelopeError("WRONG_ROUTE", `verifyEnvelope: signed for route 0x${e.route.toString(16)}, not 0x${want.route.toString(16)}`);
  if (!equalBytes(e.audience, want.audience)) throw new EnvelopeError("WRONG_AUDIENCE", "verifyEnvelope: addressed to another service");
  if (e.scheme !== want.sender.scheme)
    throw new EnvelopeError("BAD_SIGNATURE", `verifyEnvelope: expected signature scheme ${want.sender.scheme}, got ${e.scheme}`);
  if (want.sender.scheme === Scheme.Schnorr) {
    if (e.sig.length !== SCHNORR_BYTES || !schnorrVerify(want.sender.pk, ENVELOPE_DST, e.signedDigest, e.sig))
      throw new EnvelopeError("BAD_SIGNATURE", "verifyEnvelope: not signed by the expected protocol key");
  } else if (want.sender.scheme === Scheme.Ecdsa) {
    if (!canonicalEcdsa(e.sig))
      throw new EnvelopeError("BAD_SIGNATURE", "verifyEnvelope: the account signature is not in its one encoding (v 27 or 28, low s)");
    let who: string;
    try {
      who = want.sender.recover(e.signedDigest, e.sig);
    } catch {
      throw new EnvelopeError("BAD_SIGNATURE", "verifyEnvelope: the account signature does not recover");
    }
    if (who.toLowerCase() !== want.sender.address.toLowerCase())
      throw new EnvelopeError("BAD_SIGNATURE", `verifyEnvelope: signed by ${who}, not by ${want.sender.address}`);
  }
  if (want.request && !equalBytes(e.inReplyTo, envelopeHash(want.request)))
    throw new EnvelopeError("NOT_A_REPLY_TO_THIS", "verifyEnvelope: this reply answers another request (relayed or swapped)");
}
