/**
 * Wire formats of the avatar protocols (Appendix B). Every message is `type u8 | version u8 |
 * fields` (the version per message type: {@link AVATAR_MESSAGE_VERSION}), fields in a fixed order with fixed sizes except the two marked (u16 length prefix), so
 * a message can cross a network as is. Decoding checks type, version, every length, every point
 * (on the curve, in the subgroup, canonical), the warrant's scope and validity, and refuses
 * trailing bytes: anything else throws AvatarProtocolError("MALFORMED"). Encodings are canonical:
 * a byte string that decodes re-encodes to itself.
 *
 * Components:
 *
 * | component | fields | bytes |
 * |---|---|---:|
 * | warrant | iris commitment 32, proxy key 96 (compressed G2), avatar 32, scope u8 (1..255), notBefore u64, notAfter u64 (>= notBefore) | 177 |
 * | original signature | h 32, r 32, s_o 48 (compressed G1) | 112 |
 * | proxy message | type u8, time u64, body length u16, body | 11 + body |
 * | hello | avatar 32, owner serial 32, owner key 96, driver serial 32, warrant 177, original 112, ephemeral 33 (secp256k1), nonce 32, platform 32, addressee (avatar) 32 | 610 |
 * | receipt | time u64, BIP-340 signature 64 | 72 |
 * | handshake | accused initiated u8 (0/1), accused ephemeral 33, accused nonce 32, reporter's hello 610, reporter's s_p 48 | 724 |
 * | session part (interaction evidence) | transcript message time u64, accused's s_p on it 48 | 56 |
 *
 * | message (version) | from -> to | fields | bytes |
 * |---|---|---|---:|
 * | LoginResponse (0x21, v1) | user -> server | challenge 32, sealed sample 306, warrant, original, message (body 128), s_p 48, avatar 32, VID commitment 32 | 2 + 878 |
 * | DelegationResponse (0x22, v1) | proxy -> server | challenge 32, avatar 32, owner serial 32, proxy serial 32, sealed sample 306, warrant, original, message (body 128), s_p 48 | 2 + 910 |
 * | Hello (0x23, v2) | initiator -> responder | hello | 2 + 610 |
 * | AuthReply (0x24, v2) | responder -> initiator | hello, time u64, s_p 48, confirmation 32 | 2 + 698 |
 * | AuthFinish (0x25, v2) | initiator -> responder | s_p 48, confirmation 32 | 2 + 80 |
 * | Evidence (0x26, v2) | reporter -> IdP | avatar 32, owner serial 32, owner key 96, driver serial 32, warrant, original, message (body: any), s_p 48, handshake flag u8 (0 none, 1 handshake, 2 handshake and session part), [handshake], [session part], receipt flag u8 (0/1), [receipt] | 2 + 529 + 11 + body + 1 (+ 724 (+ 56)) + 1 (+ 72) |
 *
 * Version 2 (session 17) of the mutual-authentication messages and of evidence: a hello names the
 * platform and the avatar it is addressed to, and the transcript binds both (protocols.ts,
 * handshakeTranscript). A version-1 hello, reply, finish or evidence is refused with
 * AvatarProtocolError("OLD_VERSION"): its transcript names no platform, so it cannot be checked
 * against one (an AuthFinish keeps its layout, but its signature is on a version-2 transcript).
 */
import { concat } from "../crypto/bytes";
import { G1Point, G2Point } from "../crypto/bls";
import { OriginalSignature, ProxyMessage, Warrant, decodePk, decodeSig, encodePk, encodeSig } from "../crypto/cps";
import { ECIES_OVERHEAD } from "../crypto/ecies";
import { POINT_BYTES, decodePoint } from "../crypto/group";
import { AvatarProtocolError, Receipt } from "./agents";
import { IRIS_BITS } from "./iris";
import type { AuthFinish, AuthReply, DelegationResponse, Evidence, Hello, LoginResponse } from "./protocols";

/** The newest wire version of the avatar messages (mutual authentication and evidence). */
export const AVATAR_WIRE_VERSION = 2;

/** Message type bytes (0x2x: avatar protocols; RSMS uses 0x0x). */
export const AvatarMsgType = {
  LoginResponse: 0x21,
  DelegationResponse: 0x22,
  Hello: 0x23,
  AuthReply: 0x24,
  AuthFinish: 0x25,
  Evidence: 0x26,
} as const;

/**
 * The version each avatar message is written and read in. Login and delegation responses are
 * unchanged since version 1; the mutual-authentication messages and evidence are version 2.
 */
export const AVATAR_MESSAGE_VERSION: Record<number, number> = {
  [AvatarMsgType.LoginResponse]: 1,
  [AvatarMsgType.DelegationResponse]: 1,
  [AvatarMsgType.Hello]: 2,
  [AvatarMsgType.AuthReply]: 2,
  [AvatarMsgType.AuthFinish]: 2,
  [AvatarMsgType.Evidence]: 2,
};

/** Bytes of a sealed iris sample: ECIES over one 2048-bit capture. */
export const SEALED_SAMPLE_BYTES = ECIES_OVERHEAD + IRIS_BITS / 8;

/** Component and message sizes in bytes (message sizes include the 2-byte header). */
export const AVATAR_SIZES = {
  warrant: 32 + 96 + 32 + 1 + 8 + 8,
  original: 32 + 32 + 48,
  hello: 32 + 32 + 96 + 32 + 177 + 112 + POINT_BYTES + 32 + 32 + 32,
  receipt: 8 + 64,
  /** the reporter's side of a handshake in evidence, after its flag: initiated u8, ephemeral, nonce, hello, s_p */
  handshake: 1 + POINT_BYTES + 32 + (32 + 32 + 96 + 32 + 177 + 112 + POINT_BYTES + 32 + 32 + 32) + 48,
  /** the handshake's session part of interaction evidence (flag 2): transcript time u64, the accused's s_p */
  handshakeSession: 8 + 48,
  LoginResponse: 2 + 32 + SEALED_SAMPLE_BYTES + 177 + 112 + (11 + 128) + 48 + 32 + 32,
  DelegationResponse: 2 + 4 * 32 + SEALED_SAMPLE_BYTES + 177 + 112 + (11 + 128) + 48,
  Hello: 2 + 610,
  AuthReply: 2 + 610 + 8 + 48 + 32,
  AuthFinish: 2 + 48 + 32,
} as const;

const malformed = (fn: string, what: string) => new AvatarProtocolError("MALFORMED", `${fn}: ${what}`);

function u8(fn: string, n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw malformed(fn, `${n} is not a u8`);
  return Uint8Array.of(n);
}
function u16(fn: string, n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw malformed(fn, `${n} is not a u16`);
  return Uint8Array.of(n >> 8, n & 0xff);
}
function u64(fn: string, n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw malformed(fn, `${n} is not a u64 below 2^53`);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}
function fixed(fn: string, b: Uint8Array, n: number, name: string): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length !== n) throw malformed(fn, `${name} must be ${n} bytes`);
  return b;
}

/** A cursor that checks the header and reads fields; `end()` refuses trailing bytes. */
class Reader {
  private off = 2;
  constructor(
    private readonly b: Uint8Array,
    private readonly fn: string,
    type: number,
  ) {
    if (!(b instanceof Uint8Array) || b.length < 2) throw malformed(fn, "too short");
    if (b[0] !== type) throw malformed(fn, `wrong type 0x${b[0].toString(16)} (expected 0x${type.toString(16)})`);
    const version = AVATAR_MESSAGE_VERSION[type];
    if (b[1] >= 1 && b[1] < version)
      throw new AvatarProtocolError(
        "OLD_VERSION",
        `${fn}: version ${b[1]} of this message is no longer accepted (version ${version} since session 17: a handshake names its platform and the avatar it is addressed to); upgrade the sender`,
      );
    if (b[1] !== version) throw malformed(fn, `unsupported version ${b[1]}`);
  }
  bytes(n: number): Uint8Array {
    if (this.off + n > this.b.length) throw malformed(this.fn, "truncated");
    const out = this.b.slice(this.off, this.off + n);
    this.off += n;
    return out;
  }
  u8(): number {
    return this.bytes(1)[0];
  }
  u16(): number {
    const b = this.bytes(2);
    return (b[0] << 8) | b[1];
  }
  u64(): number {
    const v = new DataView(this.bytes(8).buffer).getBigUint64(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(this.fn, "a time above 2^53");
    return Number(v);
  }
  private point<T>(n: number, dec: (b: Uint8Array) => T, what: string): T {
    const raw = this.bytes(n);
    try {
      return dec(raw);
    } catch {
      throw malformed(this.fn, `invalid ${what}`);
    }
  }
  g1(): G1Point {
    return this.point(48, decodeSig, "G1 signature");
  }
  g2(): G2Point {
    return this.point(96, decodePk, "G2 public key");
  }
  ephemeral(): Uint8Array {
    const raw = this.bytes(POINT_BYTES);
    try {
      decodePoint(raw);
    } catch {
      throw malformed(this.fn, "invalid ephemeral key");
    }
    return raw;
  }
  warrant(): Warrant {
    const w = {
      irisCommitment: this.bytes(32),
      proxy: this.g2(),
      avatarId: this.bytes(32),
      scope: this.u8(),
      notBefore: this.u64(),
      notAfter: this.u64(),
    };
    if (w.scope === 0) throw malformed(this.fn, "a warrant with an empty scope");
    if (w.notBefore > w.notAfter) throw malformed(this.fn, "a warrant whose notBefore is after its notAfter");
    return w;
  }
  original(): OriginalSignature {
    return { h: this.bytes(32), r: this.bytes(32), sig: this.g1() };
  }
  message(): ProxyMessage {
    const type = this.u8();
    const time = this.u64();
    return { type, time, body: this.bytes(this.u16()) };
  }
  hello(): Hello {
    return {
      avatarId: this.bytes(32),
      ownerSerial: this.bytes(32),
      ownerPk: this.g2(),
      driverSerial: this.bytes(32),
      warrant: this.warrant(),
      o: this.original(),
      ephemeral: this.ephemeral(),
      nonce: this.bytes(32),
      platform: this.bytes(32),
      peer: this.bytes(32),
    };
  }
  end(): void {
    if (this.off !== this.b.length) throw malformed(this.fn, `${this.b.length - this.off} trailing bytes`);
  }
}

const header = (type: number) => Uint8Array.of(type, AVATAR_MESSAGE_VERSION[type]);

function encWarrant(fn: string, w: Warrant): Uint8Array {
  if (w.scope < 1) throw malformed(fn, "a warrant with an empty scope");
  if (w.notBefore > w.notAfter) throw malformed(fn, "a warrant whose notBefore is after its notAfter");
  return concat(
    fixed(fn, w.irisCommitment, 32, "iris commitment"),
    encodePk(w.proxy),
    fixed(fn, w.avatarId, 32, "avatar id"),
    u8(fn, w.scope),
    u64(fn, w.notBefore),
    u64(fn, w.notAfter),
  );
}
const encOriginal = (fn: string, o: OriginalSignature) => concat(fixed(fn, o.h, 32, "h"), fixed(fn, o.r, 32, "r"), encodeSig(o.sig));
const encMessage = (fn: string, m: ProxyMessage) => concat(u8(fn, m.type), u64(fn, m.time), u16(fn, m.body.length), m.body);
const encHello = (fn: string, h: Hello) =>
  concat(
    fixed(fn, h.avatarId, 32, "avatar id"),
    fixed(fn, h.ownerSerial, 32, "owner serial"),
    encodePk(h.ownerPk),
    fixed(fn, h.driverSerial, 32, "driver serial"),
    encWarrant(fn, h.warrant),
    encOriginal(fn, h.o),
    fixed(fn, h.ephemeral, POINT_BYTES, "ephemeral key"),
    fixed(fn, h.nonce, 32, "nonce"),
    fixed(fn, h.platform, 32, "platform"),
    fixed(fn, h.peer, 32, "addressee"),
  );

/** Encodes a login response (user -> server). */
export function encodeLoginResponse(r: LoginResponse): Uint8Array {
  const fn = "encodeLoginResponse";
  return concat(
    header(AvatarMsgType.LoginResponse),
    fixed(fn, r.challenge, 32, "challenge"),
    fixed(fn, r.sealedSample, SEALED_SAMPLE_BYTES, "sealed sample"),
    encWarrant(fn, r.warrant),
    encOriginal(fn, r.o),
    encMessage(fn, r.message),
    encodeSig(r.proxySig),
    fixed(fn, r.avatarId, 32, "avatar id"),
    fixed(fn, r.vidCommitment, 32, "VID commitment"),
  );
}
/** Decodes a login response. @throws AvatarProtocolError(MALFORMED) */
export function decodeLoginResponse(b: Uint8Array): LoginResponse {
  const r = new Reader(b, "decodeLoginResponse", AvatarMsgType.LoginResponse);
  const out: LoginResponse = {
    challenge: r.bytes(32),
    sealedSample: r.bytes(SEALED_SAMPLE_BYTES),
    warrant: r.warrant(),
    o: r.original(),
    message: r.message(),
    proxySig: r.g1(),
    avatarId: r.bytes(32),
    vidCommitment: r.bytes(32),
  };
  r.end();
  return out;
}

/** Encodes a delegation response (proxy -> server). */
export function encodeDelegationResponse(d: DelegationResponse): Uint8Array {
  const fn = "encodeDelegationResponse";
  return concat(
    header(AvatarMsgType.DelegationResponse),
    fixed(fn, d.challenge, 32, "challenge"),
    fixed(fn, d.avatarId, 32, "avatar id"),
    fixed(fn, d.ownerSerial, 32, "owner serial"),
    fixed(fn, d.proxySerial, 32, "proxy serial"),
    fixed(fn, d.sealedSample, SEALED_SAMPLE_BYTES, "sealed sample"),
    encWarrant(fn, d.warrant),
    encOriginal(fn, d.o),
    encMessage(fn, d.message),
    encodeSig(d.proxySig),
  );
}
/** Decodes a delegation response. @throws AvatarProtocolError(MALFORMED) */
export function decodeDelegationResponse(b: Uint8Array): DelegationResponse {
  const r = new Reader(b, "decodeDelegationResponse", AvatarMsgType.DelegationResponse);
  const out: DelegationResponse = {
    challenge: r.bytes(32),
    avatarId: r.bytes(32),
    ownerSerial: r.bytes(32),
    proxySerial: r.bytes(32),
    sealedSample: r.bytes(SEALED_SAMPLE_BYTES),
    warrant: r.warrant(),
    o: r.original(),
    message: r.message(),
    proxySig: r.g1(),
  };
  r.end();
  return out;
}

/** Encodes mutual authentication's message 1. */
export function encodeHello(h: Hello): Uint8Array {
  return concat(header(AvatarMsgType.Hello), encHello("encodeHello", h));
}
/** Decodes a hello. @throws AvatarProtocolError(MALFORMED) */
export function decodeHello(b: Uint8Array): Hello {
  const r = new Reader(b, "decodeHello", AvatarMsgType.Hello);
  const h = r.hello();
  r.end();
  return h;
}

/** Encodes mutual authentication's message 2. */
export function encodeAuthReply(m: AuthReply): Uint8Array {
  const fn = "encodeAuthReply";
  return concat(
    header(AvatarMsgType.AuthReply),
    encHello(fn, m.hello),
    u64(fn, m.time),
    encodeSig(m.proxySig),
    fixed(fn, m.confirm, 32, "confirmation"),
  );
}
/** Decodes message 2. @throws AvatarProtocolError(MALFORMED) */
export function decodeAuthReply(b: Uint8Array): AuthReply {
  const r = new Reader(b, "decodeAuthReply", AvatarMsgType.AuthReply);
  const out: AuthReply = { hello: r.hello(), time: r.u64(), proxySig: r.g1(), confirm: r.bytes(32) };
  r.end();
  return out;
}

/** Encodes mutual authentication's message 3. */
export function encodeAuthFinish(m: AuthFinish): Uint8Array {
  return concat(header(AvatarMsgType.AuthFinish), encodeSig(m.proxySig), fixed("encodeAuthFinish", m.confirm, 32, "confirmation"));
}
/** Decodes message 3. @throws AvatarProtocolError(MALFORMED) */
export function decodeAuthFinish(b: Uint8Array): AuthFinish {
  const r = new Reader(b, "decodeAuthFinish", AvatarMsgType.AuthFinish);
  const out: AuthFinish = { proxySig: r.g1(), confirm: r.bytes(32) };
  r.end();
  return out;
}

/** Encodes evidence (reporter -> IdP), with its platform receipt if it has one. */
export function encodeEvidence(e: Evidence): Uint8Array {
  const fn = "encodeEvidence";
  const receipt: Uint8Array = e.receipt
    ? concat(Uint8Array.of(1), u64(fn, e.receipt.time), fixed(fn, e.receipt.sig, 64, "receipt signature"))
    : Uint8Array.of(0);
  return concat(
    header(AvatarMsgType.Evidence),
    fixed(fn, e.avatarId, 32, "avatar id"),
    fixed(fn, e.ownerSerial, 32, "owner serial"),
    encodePk(e.ownerPk),
    fixed(fn, e.driverSerial, 32, "driver serial"),
    encWarrant(fn, e.warrant),
    encOriginal(fn, e.o),
    encMessage(fn, e.message),
    encodeSig(e.proxySig),
    e.handshake
      ? concat(
          Uint8Array.of(e.handshake.session ? 2 : 1, e.handshake.accusedInitiated ? 1 : 0),
          fixed(fn, e.handshake.accusedEphemeral, POINT_BYTES, "accused ephemeral key"),
          fixed(fn, e.handshake.accusedNonce, 32, "accused nonce"),
          encHello(fn, e.handshake.reporter),
          encodeSig(e.handshake.reporterSig),
          e.handshake.session ? concat(u64(fn, e.handshake.session.time), encodeSig(e.handshake.session.accusedSig)) : new Uint8Array(),
        )
      : Uint8Array.of(0),
    receipt,
  );
}
/** Decodes evidence. @throws AvatarProtocolError(MALFORMED) */
export function decodeEvidence(b: Uint8Array): Evidence {
  const fn = "decodeEvidence";
  const r = new Reader(b, fn, AvatarMsgType.Evidence);
  const e: Evidence = {
    avatarId: r.bytes(32),
    ownerSerial: r.bytes(32),
    ownerPk: r.g2(),
    driverSerial: r.bytes(32),
    warrant: r.warrant(),
    o: r.original(),
    message: r.message(),
    proxySig: r.g1(),
  };
  const hs = r.u8();
  if (hs > 2) throw malformed(fn, `handshake flag ${hs} (expected 0, 1 or 2)`);
  if (hs >= 1) {
    const initiated = r.u8();
    if (initiated > 1) throw malformed(fn, `initiator flag ${initiated} (expected 0 or 1)`);
    e.handshake = {
      accusedInitiated: initiated === 1,
      accusedEphemeral: r.ephemeral(),
      accusedNonce: r.bytes(32),
      reporter: r.hello(),
      reporterSig: r.g1(),
    };
    if (hs === 2) e.handshake.session = { time: r.u64(), accusedSig: r.g1() };
  }
  const flag = r.u8();
  if (flag > 1) throw malformed(fn, `receipt flag ${flag} (expected 0 or 1)`);
  if (flag === 1) e.receipt = { time: r.u64(), sig: r.bytes(64) } as Receipt;
  r.end();
  return e;
}
