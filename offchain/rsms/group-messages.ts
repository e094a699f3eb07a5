/**
 * Wire formats of the RSMS service-group protocols (§IV.B.2, Fig. 4). Same framing as
 * messages.ts: `type u8 | version u8 | fixed fields`.
 *
 * | message        | from -> to            | fields                                                        | bytes |
 * |----------------|-----------------------|---------------------------------------------------------------|------:|
 * | Allocation     | MSRP -> Party_i       | gid, epoch, n, PIDs (n x 32), PKs (n x 33), Feldman A_0..A_{n-1} (n x 33), Enc_PK_i(f(x_i)) (82) | 122 + 98n |
 * | Membership     | Party_i -> all        | gid, epoch, i, Y_i = f(x_i)P, Schnorr proof (R, z)            | 138 |
 * | KeyShare       | Party_i -> Party_j    | gid, epoch, i, j, f(x_i) xor KDF(f(x_i) f(x_j) P), Schnorr sig_i (65) | 139 |
 * | Rekey          | MSRP -> Party_i       | gid, epoch, Enc_PK_i(s_epoch) (82)                            | 120 |
 * | Channel        | member -> members     | gid, epoch, sender PID, seq u64, nonce (24), XChaCha20-Poly1305 ct, Schnorr sig (65) | 167 + |m| + 16 |
 *
 * The PKs in an Allocation are the roster the channel signatures are checked against; the sealed
 * share's associated data binds them (only the MSRP, which knows f, can seal a share consistent
 * with the on-chain commitments), so a relay cannot substitute a key.
 */
import { concat } from "../crypto/bytes";
import { POINT_BYTES, Point, decodePoint, encodePoint } from "../crypto/group";
import { ECIES_OVERHEAD } from "../crypto/ecies";
import { MalformedMessageError } from "./errors";
import { RSMS_WIRE_VERSION } from "./messages";

/** Group message type bytes (disjoint from the join messages'). */
export const GroupMsgType = { Allocation: 0x10, Membership: 0x11, KeyShare: 0x12, Rekey: 0x13, Channel: 0x14 } as const;

export type Allocation = {
  groupId: Uint8Array;
  epoch: number;
  pids: Uint8Array[];
  pks: Point[];
  commitments: Point[];
  sealed: Uint8Array;
};
export type Membership = { groupId: Uint8Array; epoch: number; index: number; Y: Point; R: Point; z: Uint8Array };
export type KeyShare = { groupId: Uint8Array; epoch: number; from: number; to: number; masked: Uint8Array; sig: Uint8Array };
export type Rekey = { groupId: Uint8Array; epoch: number; sealed: Uint8Array };
export type Channel = {
  groupId: Uint8Array;
  epoch: number;
  sender: Uint8Array;
  /** the sender's sequence number in this epoch, from 1, strictly increasing */
  seq: bigint;
  nonce: Uint8Array;
  ct: Uint8Array;
  /** the sender's Schnorr signature over header || ct */
  sig: Uint8Array;
};

/** The framing of a group message up to (not including) its type-specific fields. */
function head(type: number, groupId: Uint8Array, epoch: number): Uint8Array {
  if (groupId.length !== 32) throw new MalformedMessageError("group message: group id must be 32 bytes");
  const e = new Uint8Array(4);
  new DataView(e.buffer).setUint32(0, epoch);
  return concat(Uint8Array.of(type, RSMS_WIRE_VERSION), groupId, e);
}

function u16(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new MalformedMessageError(`group message: ${n} is not a u16`);
  return Uint8Array.of(n >> 8, n & 0xff);
}

/**
 * A bounds-checked reader of a message's bytes: every read past the end, bad point or trailing byte
 * is a MalformedMessageError naming the decoder. Shared by the group messages and their service
 * wire (offchain/services/rsms/group-wire.ts).
 */
export class ByteReader {
  off = 0;
  constructor(
    readonly b: Uint8Array,
    readonly name: string,
  ) {
    if (!(b instanceof Uint8Array)) throw new MalformedMessageError(`${name}: not bytes`);
  }
  take(n: number): Uint8Array {
    if (this.off + n > this.b.length) throw new MalformedMessageError(`${this.name}: truncated`);
    return this.b.slice(this.off, (this.off += n));
  }
  u8(): number {
    return this.take(1)[0];
  }
  u16(): number {
    const x = this.take(2);
    return (x[0] << 8) | x[1];
  }
  u32(): number {
    return new DataView(this.take(4).buffer).getUint32(0);
  }
  point(): Point {
    try {
      return decodePoint(this.take(POINT_BYTES));
    } catch (e) {
      throw new MalformedMessageError(`${this.name}: invalid point`, { cause: e });
    }
  }
  end(): void {
    if (this.off !== this.b.length) throw new MalformedMessageError(`${this.name}: ${this.b.length - this.off} trailing bytes`);
  }
}

/** A group message's reader: its header (type, version, group id) checked first. */
class Cursor extends ByteReader {
  constructor(b: Uint8Array, name: string, type: number) {
    if (!(b instanceof Uint8Array) || b.length < 38) throw new MalformedMessageError(`${name}: too short`);
    super(b, name);
    if (b[0] !== type) throw new MalformedMessageError(`${name}: wrong type 0x${b[0].toString(16)}`);
    if (b[1] !== RSMS_WIRE_VERSION) throw new MalformedMessageError(`${name}: unsupported version ${b[1]}`);
    this.off = 2;
  }
}

export function encodeAllocation(m: Allocation): Uint8Array {
  if (m.pids.length !== m.commitments.length)
    throw new MalformedMessageError("encodeAllocation: one commitment per party is needed (degree N for N+1 parties)");
  if (m.pids.length !== m.pks.length) throw new MalformedMessageError("encodeAllocation: one public key per party is needed");
  return concat(
    head(GroupMsgType.Allocation, m.groupId, m.epoch),
    u16(m.pids.length),
    ...m.pids,
    ...m.pks.map(encodePoint),
    ...m.commitments.map(encodePoint),
    m.sealed,
  );
}
export function decodeAllocation(b: Uint8Array): Allocation {
  const c = new Cursor(b, "decodeAllocation", GroupMsgType.Allocation);
  const groupId = c.take(32);
  const epoch = c.u32();
  const n = c.u16();
  if (n < 2) throw new MalformedMessageError("decodeAllocation: a group has at least two parties");
  const pids = Array.from({ length: n }, () => c.take(32));
  const pks = Array.from({ length: n }, () => c.point());
  const commitments = Array.from({ length: n }, () => c.point());
  const sealed = c.take(32 + ECIES_OVERHEAD);
  c.end();
  return { groupId, epoch, pids, pks, commitments, sealed };
}

export function encodeMembership(m: Membership): Uint8Array {
  return concat(head(GroupMsgType.Membership, m.groupId, m.epoch), u16(m.index), encodePoint(m.Y), encodePoint(m.R), m.z);
}
export function decodeMembership(b: Uint8Array): Membership {
  const c = new Cursor(b, "decodeMembership", GroupMsgType.Membership);
  const m = { groupId: c.take(32), epoch: c.u32(), index: c.u16(), Y: c.point(), R: c.point(), z: c.take(32) };
  c.end();
  return m;
}

/** What the sender of a KeyShare signs: every byte before the signature. */
export function keyShareSigned(m: Omit<KeyShare, "sig">): Uint8Array {
  return concat(head(GroupMsgType.KeyShare, m.groupId, m.epoch), u16(m.from), u16(m.to), m.masked);
}
export function encodeKeyShare(m: KeyShare): Uint8Array {
  if (m.sig.length !== POINT_BYTES + 32) throw new MalformedMessageError(`encodeKeyShare: the signature must be ${POINT_BYTES + 32} bytes`);
  return concat(keyShareSigned(m), m.sig);
}
export function decodeKeyShare(b: Uint8Array): KeyShare {
  const c = new Cursor(b, "decodeKeyShare", GroupMsgType.KeyShare);
  const m = { groupId: c.take(32), epoch: c.u32(), from: c.u16(), to: c.u16(), masked: c.take(32), sig: c.take(POINT_BYTES + 32) };
  c.end();
  return m;
}

export function encodeRekey(m: Rekey): Uint8Array {
  return concat(head(GroupMsgType.Rekey, m.groupId, m.epoch), m.sealed);
}
export function decodeRekey(b: Uint8Array): Rekey {
  const c = new Cursor(b, "decodeRekey", GroupMsgType.Rekey);
  const m = { groupId: c.take(32), epoch: c.u32(), sealed: c.take(32 + ECIES_OVERHEAD) };
  c.end();
  return m;
}

function u64(n: bigint): Uint8Array {
  if (typeof n !== "bigint" || n < 0n || n >= 1n << 64n) throw new MalformedMessageError(`channel: ${n} is not a u64`);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n);
  return b;
}

/** Byte length of a channel signature (Schnorr R || z). */
export const CHANNEL_SIG_BYTES = POINT_BYTES + 32;

/** The AEAD-authenticated header of a channel message (everything before the ciphertext). */
export function channelHeader(m: Omit<Channel, "ct" | "sig">): Uint8Array {
  if (m.sender.length !== 32 || m.nonce.length !== 24) throw new MalformedMessageError("channel: sender must be 32 bytes and nonce 24");
  return concat(head(GroupMsgType.Channel, m.groupId, m.epoch), m.sender, u64(m.seq), m.nonce);
}
/** What the sender signs: header || ct. */
export function channelSigned(m: Omit<Channel, "sig">): Uint8Array {
  return concat(channelHeader(m), m.ct);
}
export function encodeChannel(m: Channel): Uint8Array {
  if (m.sig.length !== CHANNEL_SIG_BYTES) throw new MalformedMessageError(`channel: signature must be ${CHANNEL_SIG_BYTES} bytes`);
  return concat(channelSigned(m), m.sig);
}
export function decodeChannel(b: Uint8Array): Channel {
  const c = new Cursor(b, "decodeChannel", GroupMsgType.Channel);
  const m = {
    groupId: c.take(32),
    epoch: c.u32(),
    sender: c.take(32),
    seq: new DataView(c.take(8).buffer).getBigUint64(0),
    nonce: c.take(24),
  };
  if (b.length - c.off < 16 + CHANNEL_SIG_BYTES) throw new MalformedMessageError("decodeChannel: ciphertext shorter than its tag");
  const ct = c.take(b.length - c.off - CHANNEL_SIG_BYTES);
  return { ...m, ct, sig: c.take(CHANNEL_SIG_BYTES) };
}

/** Byte sizes, for Table III. */
export const GROUP_SIZES = {
  allocation: (parties: number) => 2 + 32 + 4 + 2 + parties * (32 + 2 * POINT_BYTES) + 32 + ECIES_OVERHEAD,
  membership: 2 + 32 + 4 + 2 + 2 * POINT_BYTES + 32,
  keyShare: 2 + 32 + 4 + 2 + 2 + 32 + POINT_BYTES + 32,
  rekey: 2 + 32 + 4 + 32 + ECIES_OVERHEAD,
} as const;
