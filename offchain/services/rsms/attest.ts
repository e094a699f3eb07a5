/**
 * An RN's trust registration over the network (issue 19): the MSRP attests that a pseudonym
 * PID_{i,k} belongs to a registered RN, so that the RN's operator can register it in the
 * TrustManager (`registerAttested`) from its own account, without the deployer's folder.
 *
 * The TrustManager accepts a resource node only on the EIP-712 message
 * Registration(bytes32 id, uint8 kind, address controller, uint256 deadline) signed by an
 * account with MSRP_ROLE on the ResourcePoolRegistry (contracts/trust/TrustManager.sol,
 * offchain/trust/ledger.ts `attestRegistration`). The MSRP signs it only for the RN that owns the
 * PID: the request (PID, controller, deadline) travels in an envelope signed by sk_RN (Schnorr),
 * the RN's long-term key, which only the RN and the MSRP hold. Not by a_k: the pool's RPM learns
 * a_k at the join (it decrypts c2), so a proof by a_k would let the RPM register the RN's PID
 * under an account of its own choosing.
 *
 * | message        | from -> to   | fields                                          | bytes |
 * |----------------|--------------|-------------------------------------------------|------:|
 * | AttestRequest  | RN -> MSRP   | PID (32) \| controller (20) \| deadline u64      | 60 |
 * | AttestReply    | MSRP -> RN   | the EIP-712 signature by the MSRP's account      | 65 |
 *
 * The envelope binds the request to this MSRP in this deployment, its route and its time; the
 * reply is bound to the request. Replay-safe: the attestation names the controller and a
 * deadline (at most {@link MAX_ATTEST_TTL_SEC} ahead) and the TrustManager registers a PID once;
 * a replayed request only gets the same attestation again (ECDSA with RFC 6979 nonces: the same
 * bytes), for the same controller.
 */
import { verifyTypedData, type Wallet } from "ethers";
import { concat, fromHex, toHex } from "../../crypto/bytes";
import { MetatrustError } from "../../errors";
import { MalformedMessageError } from "../../rsms/errors";
import type { Keystore } from "../../storage/keystore";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope, verifyEnvelope } from "../envelope";
import { fromAccount, freshId } from "../common";
import { postEnvelope, DEFAULT_RETRY, ServiceError, type RetryPolicy } from "../client";
import { loadRemoteRn, msrpInfo, rnClientRecord, type Deployment } from "./clients";

/** The furthest ahead an attestation's deadline may be (1 day). */
export const MAX_ATTEST_TTL_SEC = 24 * 3600;
/** The EIP-712 kind of a resource node in the TrustManager. */
export const RESOURCE_NODE_KIND = 3;

/**
 * Why the MSRP refuses to attest (422; nothing changes). After the envelope is checked against the
 * PID's owner only (so that nobody else learns them): SUSPICIOUS_RN (the RN is in S_RN),
 * SECOND_IDENTITY (the RN already holds another trust identity), NOT_CURRENT_PID (a first
 * attestation names an old pseudonym).
 */
export type AttestRefusal =
  | "UNKNOWN_PID"
  | "NOT_JOINED"
  | "DEADLINE_EXPIRED"
  | "DEADLINE_TOO_FAR"
  | "NO_TRUST_MANAGER"
  | "SUSPICIOUS_RN"
  | "SECOND_IDENTITY"
  | "NOT_CURRENT_PID";

/** A trust-registration attestation the MSRP refuses. */
export class AttestationError extends MetatrustError {
  readonly reason: AttestRefusal;
  constructor(reason: AttestRefusal, message: string) {
    super("PROTOCOL_REJECTED", message);
    this.reason = reason;
  }
}

/** What an RN asks the MSRP to attest. */
export type AttestRequest = { pid: Uint8Array; controller: string; deadline: number };

export function encodeAttestRequest(m: AttestRequest): Uint8Array {
  if (!(m.pid instanceof Uint8Array) || m.pid.length !== 32) throw new MalformedMessageError("encodeAttestRequest: PID must be 32 bytes");
  if (!/^0x[0-9a-fA-F]{40}$/.test(m.controller)) throw new MalformedMessageError(`encodeAttestRequest: ${m.controller} is not an address`);
  if (!Number.isSafeInteger(m.deadline) || m.deadline < 0) throw new MalformedMessageError("encodeAttestRequest: bad deadline");
  const d = new Uint8Array(8);
  new DataView(d.buffer).setBigUint64(0, BigInt(m.deadline));
  return concat(m.pid, fromHex(m.controller, 20), d);
}

export function decodeAttestRequest(b: Uint8Array): AttestRequest {
  if (!(b instanceof Uint8Array) || b.length !== 60)
    throw new MalformedMessageError(`decodeAttestRequest: expected 60 bytes, got ${b?.length}`);
  const deadline = new DataView(b.buffer, b.byteOffset + 52, 8).getBigUint64(0);
  if (deadline > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedMessageError("decodeAttestRequest: deadline out of range");
  return { pid: b.slice(0, 32), controller: toHex(b.slice(32, 52)), deadline: Number(deadline) };
}

/** The EIP-712 domain and types of the TrustManager's Registration message. */
export function registrationTypedData(chainId: bigint, trustManager: string, m: AttestRequest) {
  return {
    domain: { name: "TrustManager", version: "1", chainId, verifyingContract: trustManager },
    types: {
      Registration: [
        { name: "id", type: "bytes32" },
        { name: "kind", type: "uint8" },
        { name: "controller", type: "address" },
        { name: "deadline", type: "uint256" },
      ],
    },
    value: { id: toHex(m.pid), kind: RESOURCE_NODE_KIND, controller: m.controller, deadline: BigInt(m.deadline) },
  };
}

/**
 * The MSRP's signature (pure apart from the signer): the EIP-712 Registration for a resource node.
 * @param wallet - the MSRP's account (MSRP_ROLE)
 */
export async function signRegistration(wallet: Wallet, chainId: bigint, trustManager: string, m: AttestRequest): Promise<Uint8Array> {
  const t = registrationTypedData(chainId, trustManager, m);
  return fromHex(await wallet.signTypedData(t.domain, t.types, t.value), 65);
}

/**
 * On the RN's machine: asks the MSRP for the attestation that lets `controller` register the RN's
 * PID in the TrustManager. The request is signed by sk_RN; the answer is checked to be the MSRP's
 * EIP-712 signature for exactly this PID, controller and deadline.
 * The MSRP attests one PID per RN, for life (its trust identity, bound at the first attestation):
 * the PID attested is kept in the RN's record (`trustId`), and asked for again by default after
 * the RN rotated. The PID a first request asks for is kept before it is sent (`trustAsked`), so
 * that after a lost reply (the MSRP may have bound it) the next request asks for it again: the
 * MSRP's SECOND_IDENTITY refusal names no PID (s24-rts F1).
 * @param a - the RN's name and keystore; controller; deadline (unix s; default now + ttlSec, 1 h);
 *   pid (default the RN's trust identity, else its current PID); trustManager: the TrustManager's address
 * @returns what `registerAttested(pid, 3, deadline, attestation)` takes
 */
export async function attestTrustRemote(a: {
  name: string;
  keystore: Keystore;
  dep: Deployment;
  trustManager: string;
  controller: string;
  msrpUrl?: string;
  pid?: Uint8Array;
  deadline?: number;
  ttlSec?: number;
  /** the chain's time (latest block, unix seconds) the default deadline counts from; the wall clock without it */
  now?: number;
  retry?: RetryPolicy;
}): Promise<{ pid: string; controller: string; deadline: number; attestation: string }> {
  const rn = loadRemoteRn(a.keystore, a.name);
  if (!rn) throw new AttestationError("UNKNOWN_PID", `attestTrustRemote: "${a.name}" was not registered over the network here`);
  const msrpUrl = a.msrpUrl ?? String((a.keystore.load(rnClientRecord(a.name)) as { msrpUrl?: string }).msrpUrl ?? "");
  if (!msrpUrl) throw new AttestationError("UNKNOWN_PID", `attestTrustRemote: no MSRP URL for "${a.name}" (give --msrp)`);
  const info = await msrpInfo(msrpUrl, a.dep);
  const rec = a.keystore.load(rnClientRecord(a.name)) as { trustId?: string; trustAsked?: string };
  // the PID a first attestation asked for, kept before it is sent: its reply lost, the MSRP may have
  // bound it, and its SECOND_IDENTITY refusal names no other PID (s24-rts F1): the client asks for it again
  const asked = !a.pid && !rec.trustId && rec.trustAsked ? fromHex(rec.trustAsked, 32) : undefined;
  const m: AttestRequest = {
    pid: a.pid ?? (rec.trustId ? fromHex(rec.trustId, 32) : (asked ?? rn.state.pid)),
    controller: a.controller,
    deadline: a.deadline ?? (a.now ?? Math.floor(Date.now() / 1000)) + (a.ttlSec ?? 3600),
  };
  const audience = audienceOf(a.dep.chainId, a.dep.registry, "msrp");
  const env = sealEnvelope(
    {
      kind: Kind.Request,
      route: Route.TrustAttest,
      audience,
      session: freshId(),
      requestId: freshId(),
      issuedAt: Date.now(),
      inReplyTo: new Uint8Array(32),
      body: encodeAttestRequest(m),
    },
    { scheme: Scheme.Schnorr, sk: rn.state.sk },
  );
  if (!rec.trustId && rec.trustAsked !== toHex(m.pid))
    a.keystore.update(rnClientRecord(a.name), { ...a.keystore.load(rnClientRecord(a.name)), trustAsked: toHex(m.pid) });
  let answer: Uint8Array;
  try {
    answer = await postEnvelope(msrpUrl, "/v1/trust/attest", env, a.retry ?? DEFAULT_RETRY);
  } catch (e) {
    // the PID asked first was not bound (the MSRP binds the current PID only) and the RN rotated
    // since: forgotten, so that the next request asks for the current one. Not sent here at once:
    // two PIDs in one exchange would link them for a reader of the wire
    if (asked && e instanceof ServiceError && e.reason === "NOT_CURRENT_PID") {
      const left = a.keystore.load(rnClientRecord(a.name)) as Record<string, unknown>;
      delete left.trustAsked;
      a.keystore.update(rnClientRecord(a.name), left);
      throw new AttestationError(
        "NOT_CURRENT_PID",
        `attestTrustRemote: the MSRP bound no trust identity to ${toHex(m.pid)}, which "${a.name}" asked for first, and it rotated since: ask again (for its current PID)`,
      );
    }
    throw e;
  }
  const reply = openEnvelope(answer);
  verifyEnvelope(reply, { kind: Kind.Reply, route: Route.TrustAttest, audience, sender: fromAccount(info.account), request: env });
  const t = registrationTypedData(a.dep.chainId, a.trustManager, m);
  const signer = verifyTypedData(t.domain, t.types, t.value, toHex(reply.body));
  if (signer.toLowerCase() !== info.account.toLowerCase())
    throw new AttestationError(
      "NO_TRUST_MANAGER",
      `attestTrustRemote: the attestation is signed by ${signer}, not by the MSRP ${info.account}`,
    );
  // the MSRP bound this PID as the RN's trust identity: asked for by default from now on
  if (!rec.trustId) {
    const left = a.keystore.load(rnClientRecord(a.name)) as Record<string, unknown>;
    delete left.trustAsked;
    a.keystore.update(rnClientRecord(a.name), { ...left, trustId: toHex(m.pid) });
  }
  return { pid: toHex(m.pid), controller: m.controller, deadline: m.deadline, attestation: toHex(reply.body) };
}
