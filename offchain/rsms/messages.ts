/**
 * Wire formats of the RSMS join protocols (§IV.A.2, Fig. 3). Every message is
 * `type u8 | version u8 | fields`, with fixed-length fields, so it can cross a network as is;
 * decoding checks type, version, exact length and every point and scalar.
 *
 * | message            | from -> to   | fields                                        | bytes |
 * |--------------------|--------------|-----------------------------------------------|------:|
 * | JoinRequest        | RN -> RPM    | c1 (33) c2 (32) PID_k (32)                    |    99 |
 * | JoinForward        | RPM -> MSRP  | poolId u32, Enc_PKpub(a' || PID_k) (64 + 50), sig_RPM (65) | 185 |
 * | JoinReply          | RPM -> RN    | A (33)                                        |    35 |
 * | ReauthRequest      | RN -> RPM_Y  | c1 (33) c2 (64) PID_k (32) PID_{k+1} (32)     |   163 |
 * | ReauthForward      | RPM_Y -> MSRP| poolId u32, PID_{k+1} (32), Enc_PKpub(a'_{k+1}) (32 + 50), sig_RPM (65) | 185 |
 * | ReauthReply        | RPM_Y -> RN  | A (33)                                        |    35 |
 * | Registration       | RN/RPM/User -> MSRP | role u8, poolId u32, Enc_PKpub(RID)    | 8 + |RID| + 50 |
 *
 * sig_RPM is a Schnorr signature (offchain/crypto/schnorr.ts) by sk_RPM over every byte before
 * it: the MSRP accepts a forward only from the RPM of the pool it names (issue 13, item 6).
 */
import { concat, toHex } from "../crypto/bytes";
import { POINT_BYTES, Point, decodePoint, encodePoint } from "../crypto/group";
import { ECIES_OVERHEAD } from "../crypto/ecies";
import { PID_BYTES } from "../crypto/hash";
import { SCHNORR_BYTES } from "../crypto/schnorr";
import { MalformedMessageError } from "./errors";

/** Wire version of every RSMS message. */
export const RSMS_WIRE_VERSION = 1;

/** Message type bytes. */
export const MsgType = {
  JoinRequest: 0x01,
  JoinForward: 0x02,
  JoinReply: 0x03,
  ReauthRequest: 0x04,
  ReauthForward: 0x05,
  ReauthReply: 0x06,
  Registration: 0x07,
} as const;

/** Associated-data labels binding each ECIES ciphertext to its protocol step. */
export const AAD = {
  joinForward: (poolId: number) => label(`RSMS-V1-JOIN-FWD/${poolId}`),
  reauthForward: (poolId: number) => label(`RSMS-V1-REAUTH-FWD/${poolId}`),
  /** `bind` (over the network: the hash of the registrant's name or account and transport key) ties the sealed RID to that request. */
  registration: (role: number, poolId: number, bind?: Uint8Array) => label(`RSMS-V1-REG/${role}/${poolId}${bind ? `/${toHex(bind)}` : ""}`),
  /** a renewed a_{i,0}, sealed to PK_RN and bound to the PID and the tag of the secret it replaces */
  renewal: (pid: Uint8Array, oldTag: Uint8Array) => label(`RSMS-V1-RENEW/${toHex(pid)}/${toHex(oldTag)}`),
};

function label(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export type JoinRequest = { c1: Point; c2: Uint8Array; pid: Uint8Array };
export type JoinForward = { poolId: number; sealed: Uint8Array; sig: Uint8Array };
export type Reply = { A: Point };
export type ReauthRequest = { c1: Point; c2: Uint8Array; pid: Uint8Array; nextPid: Uint8Array };
export type ReauthForward = { poolId: number; nextPid: Uint8Array; sealed: Uint8Array; sig: Uint8Array };
/** Registration roles. */
export const Role = { RPM: 1, RN: 2, User: 3 } as const;
export type Registration = { role: number; poolId: number; sealed: Uint8Array };

function header(type: number): Uint8Array {
  return Uint8Array.of(type, RSMS_WIRE_VERSION);
}

function u32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new MalformedMessageError(`encode: ${n} is not a u32`);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** A cursor over a message that checks its header and reads fixed fields. */
class Reader {
  private off = 2;
  constructor(
    private readonly b: Uint8Array,
    private readonly name: string,
    type: number,
    expectedLen?: number,
  ) {
    if (!(b instanceof Uint8Array) || b.length < 2) throw new MalformedMessageError(`${name}: too short`);
    if (b[0] !== type) throw new MalformedMessageError(`${name}: wrong type 0x${b[0].toString(16)} (expected 0x${type.toString(16)})`);
    if (b[1] !== RSMS_WIRE_VERSION) throw new MalformedMessageError(`${name}: unsupported version ${b[1]}`);
    if (expectedLen !== undefined && b.length !== expectedLen)
      throw new MalformedMessageError(`${name}: expected ${expectedLen} bytes, got ${b.length}`);
  }
  bytes(n: number): Uint8Array {
    if (this.off + n > this.b.length) throw new MalformedMessageError(`${this.name}: truncated`);
    const out = this.b.slice(this.off, this.off + n);
    this.off += n;
    return out;
  }
  rest(): Uint8Array {
    return this.bytes(this.b.length - this.off);
  }
  u8(): number {
    return this.bytes(1)[0];
  }
  u32(): number {
    return new DataView(this.bytes(4).buffer).getUint32(0);
  }
  point(): Point {
    const raw = this.bytes(POINT_BYTES);
    try {
      return decodePoint(raw);
    } catch (e) {
      throw new MalformedMessageError(`${this.name}: invalid point`, { cause: e });
    }
  }
}

/** Byte sizes of the fixed-length messages. */
export const SIZES = {
  JoinRequest: 2 + POINT_BYTES + 32 + PID_BYTES,
  JoinForward: 2 + 4 + 64 + ECIES_OVERHEAD + SCHNORR_BYTES,
  JoinReply: 2 + POINT_BYTES,
  ReauthRequest: 2 + POINT_BYTES + 64 + 2 * PID_BYTES,
  ReauthForward: 2 + 4 + PID_BYTES + 32 + ECIES_OVERHEAD + SCHNORR_BYTES,
  ReauthReply: 2 + POINT_BYTES,
} as const;

export function encodeJoinRequest(m: JoinRequest): Uint8Array {
  return concat(header(MsgType.JoinRequest), encodePoint(m.c1), m.c2, m.pid);
}
export function decodeJoinRequest(b: Uint8Array): JoinRequest {
  const r = new Reader(b, "decodeJoinRequest", MsgType.JoinRequest, SIZES.JoinRequest);
  return { c1: r.point(), c2: r.bytes(32), pid: r.bytes(PID_BYTES) };
}

/** What the RPM signs in a JoinForward: every byte before the signature. */
export function joinForwardSigned(m: Omit<JoinForward, "sig">): Uint8Array {
  return concat(header(MsgType.JoinForward), u32(m.poolId), m.sealed);
}
function checkSig(fn: string, sig: Uint8Array): Uint8Array {
  if (!(sig instanceof Uint8Array) || sig.length !== SCHNORR_BYTES)
    throw new MalformedMessageError(`${fn}: the RPM's signature must be ${SCHNORR_BYTES} bytes`);
  return sig;
}
export function encodeJoinForward(m: JoinForward): Uint8Array {
  return concat(joinForwardSigned(m), checkSig("encodeJoinForward", m.sig));
}
export function decodeJoinForward(b: Uint8Array): JoinForward {
  const r = new Reader(b, "decodeJoinForward", MsgType.JoinForward, SIZES.JoinForward);
  return { poolId: r.u32(), sealed: r.bytes(64 + ECIES_OVERHEAD), sig: r.rest() };
}

function encodeReply(type: number, m: Reply): Uint8Array {
  return concat(header(type), encodePoint(m.A));
}
export const encodeJoinReply = (m: Reply) => encodeReply(MsgType.JoinReply, m);
export const encodeReauthReply = (m: Reply) => encodeReply(MsgType.ReauthReply, m);
export function decodeJoinReply(b: Uint8Array): Reply {
  return { A: new Reader(b, "decodeJoinReply", MsgType.JoinReply, SIZES.JoinReply).point() };
}
export function decodeReauthReply(b: Uint8Array): Reply {
  return { A: new Reader(b, "decodeReauthReply", MsgType.ReauthReply, SIZES.ReauthReply).point() };
}

export function encodeReauthRequest(m: ReauthRequest): Uint8Array {
  return concat(header(MsgType.ReauthRequest), encodePoint(m.c1), m.c2, m.pid, m.nextPid);
}
export function decodeReauthRequest(b: Uint8Array): ReauthRequest {
  const r = new Reader(b, "decodeReauthRequest", MsgType.ReauthRequest, SIZES.ReauthRequest);
  return { c1: r.point(), c2: r.bytes(64), pid: r.bytes(PID_BYTES), nextPid: r.bytes(PID_BYTES) };
}

/** What the RPM signs in a ReauthForward: every byte before the signature. */
export function reauthForwardSigned(m: Omit<ReauthForward, "sig">): Uint8Array {
  return concat(header(MsgType.ReauthForward), u32(m.poolId), m.nextPid, m.sealed);
}
export function encodeReauthForward(m: ReauthForward): Uint8Array {
  return concat(reauthForwardSigned(m), checkSig("encodeReauthForward", m.sig));
}
export function decodeReauthForward(b: Uint8Array): ReauthForward {
  const r = new Reader(b, "decodeReauthForward", MsgType.ReauthForward, SIZES.ReauthForward);
  return { poolId: r.u32(), nextPid: r.bytes(PID_BYTES), sealed: r.bytes(32 + ECIES_OVERHEAD), sig: r.rest() };
}

export function encodeRegistration(m: Registration): Uint8Array {
  return concat(header(MsgType.Registration), Uint8Array.of(m.role), u32(m.poolId), m.sealed);
}
export function decodeRegistration(b: Uint8Array): Registration {
  const r = new Reader(b, "decodeRegistration", MsgType.Registration);
  const role = r.u8();
  if (role !== Role.RPM && role !== Role.RN && role !== Role.User)
    throw new MalformedMessageError(`decodeRegistration: unknown role ${role}`);
  const poolId = r.u32();
  const sealed = r.rest();
  if (sealed.length < ECIES_OVERHEAD) throw new MalformedMessageError("decodeRegistration: sealed identity too short");
  return { role, poolId, sealed };
}
