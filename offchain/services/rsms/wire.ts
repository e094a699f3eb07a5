/**
 * The RSMS messages that exist only because the parties run apart (issue 19): enrolment of an
 * RPM and registration of an RN over the network (their keys come back sealed to a one-time
 * transport key, since the paper's "the MSRP sends the keys securely" now crosses a network), and
 * the MSRP's acknowledgement of a recorded join. The protocol messages themselves
 * (offchain/rsms/messages.ts) travel unchanged inside envelopes.
 *
 * | message        | from -> to   | fields                                                        | bytes |
 * |----------------|--------------|---------------------------------------------------------------|------:|
 * | RpmEnrol       | RPM -> MSRP  | Registration (role RPM) \| account (20) \| transport PK (33)  | 53 + reg |
 * | RpmCreds       | MSRP -> RPM  | PK_pub (33) \| Enc_T(sk_RPM \| PID_RPM \| PK_RPM \| ttl u32)  | 33 + 101 + 50 |
 * | RnRegister     | RN -> MSRP   | token id (16) \| name len u8 \| name \| transport PK (33) \| Registration (role RN) | 50 + name + reg |
 * | RnCreds        | MSRP -> RN   | PK_pub (33) \| Enc_T(sk_RN \| a_{i,0} \| PID_{i,0} \| pool u32) | 33 + 100 + 50 |
 * | JoinAck        | MSRP -> RPM  | PID (32) \| H4(a) (32) \| pool u32 \| kind u8                  | 69 |
 *
 * Enc_T is ECIES (offchain/crypto/ecies.ts) to the transport key, its associated data naming the
 * message, the pool and the request id, so a sealed answer cannot be moved to another request.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToNumberBE, concat, toBytes, toHex } from "../../crypto/bytes";
import { POINT_BYTES, Point, decodePoint, decodeScalar, encodePoint, encodeScalar } from "../../crypto/group";
import { ECIES_OVERHEAD, eciesDecrypt, eciesEncrypt } from "../../crypto/ecies";
import { MalformedMessageError } from "../../rsms/errors";
import { TOKEN_ID_BYTES } from "../enrolment";
import type { RenewalRequest } from "../../rsms/rn";

function cut(fn: string, b: Uint8Array, sizes: number[]): Uint8Array[] {
  const total = sizes.reduce((x, y) => x + y, 0);
  if (!(b instanceof Uint8Array) || b.length !== total) throw new MalformedMessageError(`${fn}: expected ${total} bytes, got ${b?.length}`);
  const out: Uint8Array[] = [];
  let off = 0;
  for (const n of sizes) out.push(b.slice(off, (off += n)));
  return out;
}
function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}
const readU32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
function point(fn: string, b: Uint8Array): Point {
  try {
    return decodePoint(b);
  } catch (e) {
    throw new MalformedMessageError(`${fn}: invalid point`, { cause: e });
  }
}

/**
 * What a registration over the network is sealed under (the `bind` of `Msrp.registrationRequest`):
 * keccak256 of the request's kind, the registrant's name (an RN or a user) or account (an RPM), and
 * the transport key its keys come back sealed to. The MSRP opens the RID only under the binding of
 * the request that carries it, so a relay that re-sends a captured Registration with its own
 * transport key, or under another name or account, is refused (DECRYPTION_FAILED) instead of
 * being issued the victim's keys.
 */
export function registrationBinding(kind: "RPM" | "RN" | "USER", who: string, transport: Point): Uint8Array {
  return keccak_256(concat(toBytes(`RSMS-V1-SVC-REG-BIND/${kind}/${who}/`), encodePoint(transport)));
}

const aad = (what: string, poolId: number, requestId: Uint8Array) => toBytes(`RSMS-V1-SVC-${what}/${poolId}/${toHex(requestId)}`);

/** RPM enrolment request. */
export type RpmEnrol = { registration: Uint8Array; account: string; transport: Point };
export function encodeRpmEnrol(m: RpmEnrol): Uint8Array {
  const acct = toBytesAddress(m.account);
  return concat(acct, encodePoint(m.transport), m.registration);
}
export function decodeRpmEnrol(b: Uint8Array): RpmEnrol {
  if (!(b instanceof Uint8Array) || b.length < 20 + POINT_BYTES + 8) throw new MalformedMessageError("decodeRpmEnrol: too short");
  return {
    account: "0x" + Buffer.from(b.subarray(0, 20)).toString("hex"),
    transport: point("decodeRpmEnrol", b.subarray(20, 20 + POINT_BYTES)),
    registration: b.slice(20 + POINT_BYTES),
  };
}
function toBytesAddress(a: string): Uint8Array {
  if (!/^0x[0-9a-fA-F]{40}$/.test(a)) throw new MalformedMessageError(`encodeRpmEnrol: ${a} is not an address`);
  return Uint8Array.from(Buffer.from(a.slice(2), "hex"));
}

/** What the MSRP issues an RPM. */
export type RpmSecrets = { sk: bigint; pid: Uint8Array; pkRpm: Point; filterTtlSec: number };
const RPM_PLAIN = [32, 32, POINT_BYTES, 4];
export function sealRpmCreds(pkPub: Uint8Array, to: Point, poolId: number, requestId: Uint8Array, s: RpmSecrets): Uint8Array {
  const plain = concat(encodeScalar(s.sk), s.pid, encodePoint(s.pkRpm), u32(s.filterTtlSec));
  return concat(pkPub, eciesEncrypt(to, plain, aad("RPM-CREDS", poolId, requestId)));
}
export function openRpmCreds(
  b: Uint8Array,
  transportSk: bigint,
  poolId: number,
  requestId: Uint8Array,
): { pkPub: Uint8Array; secrets: RpmSecrets } {
  const [pkPub, sealed] = cut("openRpmCreds", b, [POINT_BYTES, 101 + ECIES_OVERHEAD]);
  point("openRpmCreds", pkPub);
  const [sk, pid, pk, ttl] = cut("openRpmCreds", eciesDecrypt(transportSk, sealed, aad("RPM-CREDS", poolId, requestId)), RPM_PLAIN);
  return { pkPub, secrets: { sk: decodeScalar(sk), pid, pkRpm: point("openRpmCreds", pk), filterTtlSec: readU32(ttl) } };
}

/**
 * RN registration request (a user's, UserRegister, has the same layout). `tokenId` names the
 * operator's enrolment token (offchain/services/enrolment.ts) whose key signs the envelope; all
 * zeros when the service runs with open registration.
 */
export type RnRegister = { tokenId: Uint8Array; name: string; registration: Uint8Array; transport: Point };
export function encodeRnRegister(m: RnRegister): Uint8Array {
  const name = toBytes(m.name);
  if (name.length < 1 || name.length > 64) throw new MalformedMessageError("encodeRnRegister: the name must be 1 to 64 bytes");
  if (!(m.tokenId instanceof Uint8Array) || m.tokenId.length !== TOKEN_ID_BYTES)
    throw new MalformedMessageError(`encodeRnRegister: the token id must be ${TOKEN_ID_BYTES} bytes`);
  return concat(m.tokenId, Uint8Array.of(name.length), name, encodePoint(m.transport), m.registration);
}
export function decodeRnRegister(b: Uint8Array): RnRegister {
  if (!(b instanceof Uint8Array) || b.length < TOKEN_ID_BYTES + 1) throw new MalformedMessageError("decodeRnRegister: too short");
  const tokenId = b.slice(0, TOKEN_ID_BYTES);
  const off = TOKEN_ID_BYTES + 1;
  const n = b[TOKEN_ID_BYTES];
  if (n < 1 || n > 64 || b.length < off + n + POINT_BYTES + 8) throw new MalformedMessageError("decodeRnRegister: bad length");
  let name: string;
  try {
    name = new TextDecoder("utf-8", { fatal: true }).decode(b.subarray(off, off + n));
  } catch {
    throw new MalformedMessageError("decodeRnRegister: the name is not UTF-8");
  }
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new MalformedMessageError(`decodeRnRegister: name "${name}" (letters, digits, '.', '_', '-')`);
  return {
    tokenId,
    name,
    transport: point("decodeRnRegister", b.subarray(off + n, off + n + POINT_BYTES)),
    registration: b.slice(off + n + POINT_BYTES),
  };
}

/** What the MSRP issues an RN. */
export type RnSecrets = { sk: bigint; a: bigint; pid: Uint8Array; poolId: number };
export function sealRnCreds(pkPub: Uint8Array, to: Point, requestId: Uint8Array, s: RnSecrets): Uint8Array {
  const plain = concat(encodeScalar(s.sk), encodeScalar(s.a), s.pid, u32(s.poolId));
  return concat(pkPub, eciesEncrypt(to, plain, aad("RN-CREDS", s.poolId, requestId)));
}
export function openRnCreds(
  b: Uint8Array,
  transportSk: bigint,
  poolId: number,
  requestId: Uint8Array,
): { pkPub: Uint8Array; secrets: RnSecrets } {
  const [pkPub, sealed] = cut("openRnCreds", b, [POINT_BYTES, 100 + ECIES_OVERHEAD]);
  point("openRnCreds", pkPub);
  const [sk, a, pid, pool] = cut("openRnCreds", eciesDecrypt(transportSk, sealed, aad("RN-CREDS", poolId, requestId)), [32, 32, 32, 4]);
  return { pkPub, secrets: { sk: decodeScalar(sk), a: bytesToNumberBE(a), pid, poolId: readU32(pool) } };
}

/** The MSRP's acknowledgement of a recorded join. */
export type JoinAck = { pid: Uint8Array; tag: Uint8Array; poolId: number; kind: number };
export function encodeJoinAck(m: JoinAck): Uint8Array {
  return concat(m.pid, m.tag, u32(m.poolId), Uint8Array.of(m.kind));
}
export function decodeJoinAck(b: Uint8Array): JoinAck {
  const [pid, tag, pool, kind] = cut("decodeJoinAck", b, [32, 32, 4, 1]);
  return { pid, tag, poolId: readU32(pool), kind: kind[0] };
}

/** Bytes of an RN's renewal request on the wire: PID (32) ‖ Schnorr signature (65). */
export const RENEWAL_BYTES = 32 + 65;

/** An RN's renewal request (rn.ts RenewalRequest) as the body of `POST /v1/rn/renew`. */
export function encodeRenewal(r: RenewalRequest): Uint8Array {
  if (!(r.pid instanceof Uint8Array) || r.pid.length !== 32 || !(r.sig instanceof Uint8Array) || r.sig.length !== 65)
    throw new MalformedMessageError("encodeRenewal: a PID of 32 bytes and a signature of 65");
  return concat(r.pid, r.sig);
}

/** Parses {@link encodeRenewal}. @throws MalformedMessageError for another length */
export function decodeRenewal(b: Uint8Array): RenewalRequest {
  if (!(b instanceof Uint8Array) || b.length !== RENEWAL_BYTES)
    throw new MalformedMessageError(`decodeRenewal: expected ${RENEWAL_BYTES} bytes (PID ‖ signature), got ${b?.length}`);
  return { pid: b.slice(0, 32), sig: b.slice(32) };
}
