/**
 * The service-group messages that exist only because the parties run apart (issue 19): a user
 * registering with the MSRP over the network, a group request, and the MSRP's mailbox through
 * which the user and the RNs (clients, never servers) exchange the multi-round group messages of
 * RSMS §IV.B.2. The protocol messages themselves (Allocation, Membership, KeyShare, Rekey:
 * offchain/rsms/group-messages.ts) travel unchanged inside these, byte for byte.
 *
 * | message        | from -> to     | fields                                                                  | bytes |
 * |----------------|----------------|-------------------------------------------------------------------------|------:|
 * | UserRegister   | user -> MSRP   | as RnRegister (wire.ts): token id (16) \| name len u8 \| name \| transport PK \| Registration (role User) | 50 + name + reg |
 * | UserCreds      | MSRP -> user   | PK_pub (33) \| Enc_T(sk_User \| PID_User)                                | 33 + 64 + 50 |
 * | GroupRequest   | user -> MSRP   | gid (32) \| size u16 \| name len u8 \| name                              | 35 + name |
 * | GroupFormed    | MSRP -> user   | gid (32) \| n u16 \| PIDs (n x 32), the user first                   | 34 + 32n |
 * | GroupPost      | party -> MSRP  | gid (32) \| epoch u32 \| round u8 \| from u16 \| count u16 \| (len u16 \| msg)* | 41 + ... |
 * | GroupFetch     | party -> MSRP  | gid (32) \| PID (32) [\| epoch u32: a retired update epoch]            | 64 or 68 |
 * | GroupMailbox   | MSRP -> party  | epoch u32 \| kind u8 \| n u16 \| roster (n x (PID 32 \| PK 33)) \| mine (len u16 \| msg) \| memberships (count u16 \| (len u16 \| msg)*) \| key shares to me (idem) [\| 0x01 \| evicted count u16 \| PIDs: an update the MSRP's flag sync made by itself] | 11 + 65n + ... |
 * | RekeyRequest   | user -> MSRP   | gid (32) \| epoch u32 (the one to leave) \| count u16 \| PIDs to evict (count x 32) | 38 + 32c |
 * | RekeyDone      | MSRP -> user   | epoch u32 \| evicted count u16 \| PIDs \| added count u16 \| PIDs            | 8 + 32(e + a) |
 * | GroupAdd       | user -> MSRP   | gid (32) \| epoch u32 (the one to leave) \| count u16 (RNs to add)          | 38 |
 * | GroupSend      | party -> MSRP  | a Channel message (group-messages.ts), unchanged                         | 166 + ct |
 * | GroupSent      | MSRP -> party  | epoch u32 \| index u32 (its place in the epoch's log)                    | 8 |
 * | GroupRead      | party -> MSRP  | gid (32) \| PID (32) \| epoch u32 \| from u32 (first index wanted)        | 72 |
 * | GroupChannel   | MSRP -> party  | epoch u32 \| total u32 \| from u32 \| count u16 \| (len u16 \| Channel)*    | 14 + ... |
 *
 * Round 1 of a GroupPost carries one Membership, round 2 one KeyShare per other party. `mine` in a
 * mailbox is the party's Allocation at a formation epoch (kind 0) or its Rekey at an update epoch
 * (kind 1); an update epoch has no rounds. An add is an update epoch that evicts nobody (the reply
 * is a RekeyDone). Service traffic goes through the mailbox as the parties seal it: the MSRP, which
 * never holds an epoch key, keeps each epoch's Channel messages in order and hands them to the
 * parties of that epoch's roster.
 */
import { concat, toBytes, toHex } from "../../crypto/bytes";
import { POINT_BYTES, Point, decodePoint, decodeScalar, encodePoint, encodeScalar } from "../../crypto/group";
import { ECIES_OVERHEAD, eciesDecrypt, eciesEncrypt } from "../../crypto/ecies";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { MalformedMessageError } from "../../rsms/errors";
import { ByteReader } from "../../rsms/group-messages";

/** Largest group the mailbox carries, the user included: 255 RNs (the agent's MAX_GROUP_RNS; the registry's MAX_MEMBERS, 256, is never reached). */
export const MAX_PARTIES = 256;

class Reader extends ByteReader {
  bytes(): Uint8Array {
    return this.take(this.u16());
  }
  list(max = MAX_PARTIES): Uint8Array[] {
    const n = this.u16();
    if (n > max) throw new MalformedMessageError(`${this.name}: ${n} entries (at most ${max})`);
    return Array.from({ length: n }, () => this.bytes());
  }
  pids(): Uint8Array[] {
    const n = this.u16();
    if (n > MAX_PARTIES) throw new MalformedMessageError(`${this.name}: ${n} PIDs (at most ${MAX_PARTIES})`);
    return Array.from({ length: n }, () => this.take(32));
  }
}

function u16(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new MalformedMessageError(`group wire: ${n} is not a u16`);
  return Uint8Array.of(n >> 8, n & 0xff);
}
function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}
const lenPrefixed = (m: Uint8Array) => concat(u16(m.length), m);
const list = (ms: Uint8Array[]) => concat(u16(ms.length), ...ms.map(lenPrefixed));
function gid32(fn: string, g: Uint8Array): Uint8Array {
  if (!(g instanceof Uint8Array) || g.length !== 32) throw new MalformedMessageError(`${fn}: group id must be 32 bytes`);
  return g;
}
function name(fn: string, n: string): Uint8Array {
  const b = toBytes(n);
  if (b.length < 1 || b.length > 64 || !/^[A-Za-z0-9._-]+$/.test(n))
    throw new MalformedMessageError(`${fn}: name "${n}" (1 to 64 letters, digits, '.', '_', '-')`);
  return b;
}
function readName(r: Reader): string {
  const n = r.u8();
  let s: string;
  try {
    s = new TextDecoder("utf-8", { fatal: true }).decode(r.take(n));
  } catch (e) {
    if (e instanceof MalformedMessageError) throw e;
    throw new MalformedMessageError(`${r.name}: the name is not UTF-8`);
  }
  name(r.name, s);
  return s;
}

/**
 * The envelope session of a group's messages at an epoch: the first 16 bytes of
 * keccak256("metatrust-rsms-group" | gid | epoch). A round message signed for one group or epoch is
 * refused at another, even before its body is read.
 */
export function groupSession(groupId: Uint8Array, epoch: number): Uint8Array {
  return keccak_256(concat(toBytes("metatrust-rsms-group"), gid32("groupSession", groupId), u32(epoch))).slice(0, 16);
}

// ------------------------------------------------------------------ users

const USER_AAD = (requestId: Uint8Array) => toBytes(`RSMS-V1-SVC-USER-CREDS/${toHex(requestId)}`);
/** What the MSRP issues a user (and keeps a copy of: "MSRP also maintains User's keys"). */
export type UserSecrets = { sk: bigint; pid: Uint8Array };
export function sealUserCreds(pkPub: Uint8Array, to: Point, requestId: Uint8Array, s: UserSecrets): Uint8Array {
  return concat(pkPub, eciesEncrypt(to, concat(encodeScalar(s.sk), s.pid), USER_AAD(requestId)));
}
export function openUserCreds(b: Uint8Array, transportSk: bigint, requestId: Uint8Array): { pkPub: Uint8Array; secrets: UserSecrets } {
  if (!(b instanceof Uint8Array) || b.length !== POINT_BYTES + 64 + ECIES_OVERHEAD)
    throw new MalformedMessageError(`openUserCreds: expected ${POINT_BYTES + 64 + ECIES_OVERHEAD} bytes, got ${b?.length}`);
  const pkPub = b.slice(0, POINT_BYTES);
  decodePoint(pkPub);
  const plain = eciesDecrypt(transportSk, b.slice(POINT_BYTES), USER_AAD(requestId));
  return { pkPub, secrets: { sk: decodeScalar(plain.slice(0, 32)), pid: plain.slice(32, 64) } };
}

// ------------------------------------------------------------------ formation

export type GroupRequest = { groupId: Uint8Array; size: number; user: string };
export function encodeGroupRequest(m: GroupRequest): Uint8Array {
  const n = name("encodeGroupRequest", m.user);
  if (m.size < 1 || m.size > MAX_PARTIES - 1) throw new MalformedMessageError(`encodeGroupRequest: size ${m.size}`);
  return concat(gid32("encodeGroupRequest", m.groupId), u16(m.size), Uint8Array.of(n.length), n);
}
export function decodeGroupRequest(b: Uint8Array): GroupRequest {
  const r = new Reader(b, "decodeGroupRequest");
  const groupId = r.take(32);
  const size = r.u16();
  if (size < 1 || size > MAX_PARTIES - 1) throw new MalformedMessageError(`decodeGroupRequest: size ${size}`);
  const user = readName(r);
  r.end();
  return { groupId, size, user };
}

export type GroupFormed = { groupId: Uint8Array; pids: Uint8Array[] };
export function encodeGroupFormed(m: GroupFormed): Uint8Array {
  return concat(gid32("encodeGroupFormed", m.groupId), u16(m.pids.length), ...m.pids);
}
export function decodeGroupFormed(b: Uint8Array): GroupFormed {
  const r = new Reader(b, "decodeGroupFormed");
  const m = { groupId: r.take(32), pids: r.pids() };
  r.end();
  return m;
}

// ------------------------------------------------------------------ the mailbox

/** Round 1: membership broadcasts; round 2: key shares. */
export const Round = { Membership: 1, KeyShares: 2 } as const;

export type GroupPost = { groupId: Uint8Array; epoch: number; round: number; from: number; messages: Uint8Array[] };
export function encodeGroupPost(m: GroupPost): Uint8Array {
  return concat(gid32("encodeGroupPost", m.groupId), u32(m.epoch), Uint8Array.of(m.round), u16(m.from), list(m.messages));
}
export function decodeGroupPost(b: Uint8Array): GroupPost {
  const r = new Reader(b, "decodeGroupPost");
  const groupId = r.take(32);
  const epoch = r.u32();
  const round = r.u8();
  if (round !== Round.Membership && round !== Round.KeyShares) throw new MalformedMessageError(`decodeGroupPost: round ${round}`);
  const from = r.u16();
  const messages = r.list();
  r.end();
  return { groupId, epoch, round, from, messages };
}

/** `epoch`: a retired update epoch whose Rekey the party missed (s18-redg G3); none: the current epoch. */
export type GroupFetch = { groupId: Uint8Array; pid: Uint8Array; epoch?: number };
export function encodeGroupFetch(m: GroupFetch): Uint8Array {
  if (m.pid.length !== 32) throw new MalformedMessageError("encodeGroupFetch: PID must be 32 bytes");
  return concat(gid32("encodeGroupFetch", m.groupId), m.pid, ...(m.epoch === undefined ? [] : [u32(m.epoch)]));
}
export function decodeGroupFetch(b: Uint8Array): GroupFetch {
  const r = new Reader(b, "decodeGroupFetch");
  const m: GroupFetch = { groupId: r.take(32), pid: r.take(32) };
  if (b.length > 64) m.epoch = r.u32();
  r.end();
  return m;
}

/** What a party finds in the mailbox at the group's current epoch. */
export type GroupMailbox = {
  epoch: number;
  /** 0: a formation epoch (Allocation and rounds); 1: an update epoch (Rekey, no rounds) */
  kind: 0 | 1;
  roster: { pid: Uint8Array; pk: Point }[];
  /** this party's Allocation (kind 0) or Rekey (kind 1) */
  mine: Uint8Array;
  /** the other parties' Membership broadcasts posted so far */
  memberships: Uint8Array[];
  /** the KeyShares addressed to this party posted so far */
  keyShares: Uint8Array[];
  /**
   * an update epoch (kind 1) the MSRP's flag sync made by itself, not its user (rsms-group.md §8
   * "the automatic update"): the PIDs it evicted (the chain's MemberEvicted of the epoch); absent otherwise
   */
  auto?: Uint8Array[];
};
export function encodeGroupMailbox(m: GroupMailbox): Uint8Array {
  if (m.auto && m.kind !== 1) throw new MalformedMessageError("encodeGroupMailbox: an automatic update is an update epoch (kind 1)");
  return concat(
    u32(m.epoch),
    Uint8Array.of(m.kind),
    u16(m.roster.length),
    ...m.roster.flatMap((p) => [p.pid, encodePoint(p.pk)]),
    lenPrefixed(m.mine),
    list(m.memberships),
    list(m.keyShares),
    ...(m.auto ? [Uint8Array.of(1), u16(m.auto.length), ...m.auto] : []),
  );
}
export function decodeGroupMailbox(b: Uint8Array): GroupMailbox {
  const r = new Reader(b, "decodeGroupMailbox");
  const epoch = r.u32();
  const kind = r.u8();
  if (kind !== 0 && kind !== 1) throw new MalformedMessageError(`decodeGroupMailbox: kind ${kind}`);
  const n = r.u16();
  if (n < 2 || n > MAX_PARTIES) throw new MalformedMessageError(`decodeGroupMailbox: ${n} parties`);
  const roster = Array.from({ length: n }, () => ({ pid: r.take(32), pk: r.point() }));
  const m: GroupMailbox = { epoch, kind: kind as 0 | 1, roster, mine: r.bytes(), memberships: r.list(), keyShares: r.list() };
  if (r.off < b.length) {
    const tag = r.u8();
    if (tag !== 1 || m.kind !== 1) throw new MalformedMessageError(`decodeGroupMailbox: trailing section ${tag} at kind ${m.kind}`);
    m.auto = r.pids();
  }
  r.end();
  return m;
}

// ------------------------------------------------------------------ update

export type RekeyRequest = { groupId: Uint8Array; epoch: number; evict: Uint8Array[] };
export function encodeRekeyRequest(m: RekeyRequest): Uint8Array {
  return concat(gid32("encodeRekeyRequest", m.groupId), u32(m.epoch), u16(m.evict.length), ...m.evict);
}
export function decodeRekeyRequest(b: Uint8Array): RekeyRequest {
  const r = new Reader(b, "decodeRekeyRequest");
  const m = { groupId: r.take(32), epoch: r.u32(), evict: r.pids() };
  r.end();
  return m;
}

export type RekeyDone = { epoch: number; evicted: Uint8Array[]; added: Uint8Array[] };
export function encodeRekeyDone(m: RekeyDone): Uint8Array {
  return concat(u32(m.epoch), u16(m.evicted.length), ...m.evicted, u16(m.added.length), ...m.added);
}
export function decodeRekeyDone(b: Uint8Array): RekeyDone {
  const r = new Reader(b, "decodeRekeyDone");
  const m = { epoch: r.u32(), evicted: r.pids(), added: r.pids() };
  r.end();
  return m;
}

/** Most RNs one add asks for. */
export const MAX_ADD = 16;

export type GroupAdd = { groupId: Uint8Array; epoch: number; count: number };
export function encodeGroupAdd(m: GroupAdd): Uint8Array {
  if (!Number.isInteger(m.count) || m.count < 1 || m.count > MAX_ADD)
    throw new MalformedMessageError(`encodeGroupAdd: count ${m.count} (1 to ${MAX_ADD})`);
  return concat(gid32("encodeGroupAdd", m.groupId), u32(m.epoch), u16(m.count));
}
export function decodeGroupAdd(b: Uint8Array): GroupAdd {
  const r = new Reader(b, "decodeGroupAdd");
  const m = { groupId: r.take(32), epoch: r.u32(), count: r.u16() };
  r.end();
  if (m.count < 1 || m.count > MAX_ADD) throw new MalformedMessageError(`decodeGroupAdd: count ${m.count} (1 to ${MAX_ADD})`);
  return m;
}

// ------------------------------------------------------------------ the channel

/** Most Channel messages one read returns (a reader asks again from where it stopped). */
export const MAX_READ = 64;

export type GroupSent = { epoch: number; index: number };
export function encodeGroupSent(m: GroupSent): Uint8Array {
  return concat(u32(m.epoch), u32(m.index));
}
export function decodeGroupSent(b: Uint8Array): GroupSent {
  const r = new Reader(b, "decodeGroupSent");
  const m = { epoch: r.u32(), index: r.u32() };
  r.end();
  return m;
}

export type GroupRead = { groupId: Uint8Array; pid: Uint8Array; epoch: number; from: number };
export function encodeGroupRead(m: GroupRead): Uint8Array {
  if (m.pid.length !== 32) throw new MalformedMessageError("encodeGroupRead: PID must be 32 bytes");
  return concat(gid32("encodeGroupRead", m.groupId), m.pid, u32(m.epoch), u32(m.from));
}
export function decodeGroupRead(b: Uint8Array): GroupRead {
  const r = new Reader(b, "decodeGroupRead");
  const m = { groupId: r.take(32), pid: r.take(32), epoch: r.u32(), from: r.u32() };
  r.end();
  return m;
}

export type GroupChannel = { epoch: number; total: number; from: number; messages: Uint8Array[] };
export function encodeGroupChannel(m: GroupChannel): Uint8Array {
  if (m.messages.length > MAX_READ)
    throw new MalformedMessageError(`encodeGroupChannel: ${m.messages.length} messages (at most ${MAX_READ})`);
  return concat(u32(m.epoch), u32(m.total), u32(m.from), list(m.messages));
}
export function decodeGroupChannel(b: Uint8Array): GroupChannel {
  const r = new Reader(b, "decodeGroupChannel");
  const m = { epoch: r.u32(), total: r.u32(), from: r.u32(), messages: r.list(MAX_READ) };
  r.end();
  if (m.from + m.messages.length > m.total) throw new MalformedMessageError(`decodeGroupChannel: messages past the log's end`);
  return m;
}
