/**
 * The client side of the RSMS services (issue 19): an RPM enrolling with the MSRP, an RN
 * registering with the MSRP and joining its pool through the pool's RPM, each from its own
 * machine with its own keystore. Every step keeps what it sent in the keystore before it sends
 * it, so that a crash or a lost reply is retried with the same bytes and the same request id
 * (the server answers a retry from its reply cache, never twice).
 */
import { abandonPending } from "../pending";
import { checkEndpoint } from "../endpoint";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { recoverAddress, hexlify, type Wallet } from "ethers";
import { fromHex, toBytes, toHex, equalBytes } from "../../crypto/bytes";
import { decodePoint, encodeScalar, mulBase, randomScalar } from "../../crypto/group";
import type { Keystore } from "../../storage/keystore";
import { Msrp } from "../../rsms/msrp";
import { Role } from "../../rsms/messages";
import { ResourceNode, type PendingJoin } from "../../rsms/rn";
import { paramsFromPkPub, poolEncryptionKey, tagOf } from "../../rsms/params";
import { JoinLog } from "../../rsms/join-log";
import { RsmsRejectedError } from "../../rsms/errors";
import type { RsmsLedger } from "../../rsms/ledger";
import {
  Kind,
  Route,
  Scheme,
  audienceOf,
  openEnvelope,
  sealEnvelope,
  verifyEnvelope,
  EnvelopeError,
  type EnvelopeSigner,
} from "../envelope";
import { NO_TOKEN, parseEnrolmentToken, tokenSigner } from "../enrolment";
import { DEFAULT_WINDOW_MS } from "../replies";
import { accountSigner, fromAccount, freshId } from "../common";
import { getJson, postEnvelope, refusedForGood, settlePending, DEFAULT_RETRY, ServiceError, type RetryPolicy } from "../client";
import { encodeRenewal, encodeRnRegister, encodeRpmEnrol, openRnCreds, openRpmCreds, registrationBinding } from "./wire";
import { rpmServiceRecord, type RpmServiceRecord } from "./rpm-service";

/** The deployment a client talks in: chain id and registry address (the audiences derive from them). */
export type Deployment = { chainId: bigint; registry: string; ledger: RsmsLedger };

/** The MSRP's public description, checked: signed by an account that holds MSRP_ROLE on the registry. */
export async function msrpInfo(url: string, dep: Deployment): Promise<{ pkPub: Uint8Array; account: string }> {
  const i = await getJson<{ pkPub: string; account: string; registry: string; chainId: string; sig: string }>(url, "/v1/info");
  if (BigInt(i.chainId) !== dep.chainId || i.registry.toLowerCase() !== dep.registry.toLowerCase())
    throw new EnvelopeError("WRONG_AUDIENCE", `msrpInfo: ${url} serves chain ${i.chainId} registry ${i.registry}, not this deployment`);
  const digest = keccak_256(
    toBytes(`metatrust-msrp-info|${dep.chainId}|${dep.registry.toLowerCase()}|${i.pkPub}|${i.account.toLowerCase()}`),
  );
  if (recoverAddress(hexlify(digest), i.sig).toLowerCase() !== i.account.toLowerCase())
    throw new EnvelopeError("BAD_SIGNATURE", `msrpInfo: ${url}'s description is not signed by ${i.account}`);
  const reg = dep.ledger.registry;
  if (!(await reg.hasRole(await reg.MSRP_ROLE(), i.account)))
    throw new EnvelopeError("BAD_SIGNATURE", `msrpInfo: ${i.account} does not hold MSRP_ROLE on the registry`);
  return { pkPub: fromHex(i.pkPub, 33), account: i.account };
}

/** How a registration is signed: by its enrolment token's key (MSRP), or not at all (open registration). */
export function enrolSigner(token: string | undefined): EnvelopeSigner {
  return token ? tokenSigner(token, "msrp") : { scheme: Scheme.None };
}

function request(route: number, audience: Uint8Array, body: Uint8Array, session = freshId()) {
  return { kind: Kind.Request, route, audience, session, requestId: freshId(), issuedAt: Date.now(), inReplyTo: new Uint8Array(32), body };
}

// ------------------------------------------------------------------ RPM enrolment

/** The keystore record of an RPM enrolment in flight. */
export const rpmEnrolPending = (poolId: number) => `${rpmServiceRecord(poolId)}-enrol`;

/**
 * `rsms:rpm:enrol --abandon`: drops the kept enrolment once the chain shows no pool with this
 * account and the MSRP refuses the kept request (offchain/services/pending.ts).
 * @returns what was done (one line)
 * @throws AbandonRefusedError when it took effect or nothing could be confirmed
 */
export async function abandonRpmEnrol(a: Parameters<typeof enrolRpm>[0]): Promise<string> {
  return abandonPending({
    task: `rsms:rpm:enrol --pool ${a.poolId}`,
    keystore: a.keystore,
    pending: rpmEnrolPending(a.poolId),
    resend: () => enrolRpm(a),
    onChain: async () => {
      const p = await a.dep.ledger.pool(a.poolId);
      return p && p.rpm.toLowerCase() === a.wallet.address.toLowerCase() ? `pool ${a.poolId} is on-chain with this account` : undefined;
    },
  });
}

/**
 * Enrols this machine's account as the RPM of a pool: the MSRP creates the pool on-chain with
 * the account and returns sk_RPM sealed to a one-time transport key. Writes the RPM service's
 * keystore record.
 */
export async function enrolRpm(a: {
  msrpUrl: string;
  poolId: number;
  rid: string;
  wallet: Wallet;
  keystore: Keystore;
  dep: Deployment;
  retry?: RetryPolicy;
}): Promise<RpmServiceRecord> {
  const recName = rpmServiceRecord(a.poolId);
  const pendingName = rpmEnrolPending(a.poolId);
  const info = await msrpInfo(a.msrpUrl, a.dep);
  const audience = audienceOf(a.dep.chainId, a.dep.registry, "msrp");
  let p = a.keystore.exists(pendingName) ? (a.keystore.load(pendingName) as { transportSk: string; envelope: string }) : undefined;
  if (!p) {
    const t = randomScalar();
    const bind = registrationBinding("RPM", a.wallet.address.toLowerCase(), mulBase(t));
    const registration = Msrp.registrationRequest(decodePoint(info.pkPub), Role.RPM, a.poolId, a.rid, bind);
    const body = encodeRpmEnrol({ registration, account: a.wallet.address, transport: mulBase(t) });
    const env = sealEnvelope(request(Route.RpmRegister, audience, body), accountSigner(a.wallet));
    p = { transportSk: toHex(encodeScalar(t)), envelope: toHex(env) };
    a.keystore.create(pendingName, p);
  }
  const env = fromHex(p.envelope);
  const sent = openEnvelope(env);
  const replyBytes = await postEnvelope(a.msrpUrl, "/v1/rpm/enrol", env, a.retry ?? DEFAULT_RETRY).catch((e) => {
    throw settlePending(e, () => a.keystore.remove(pendingName), `${pendingName}; run the enrolment again to resend it`);
  });
  const reply = openEnvelope(replyBytes);
  verifyEnvelope(reply, { kind: Kind.Reply, route: Route.RpmRegister, audience, sender: fromAccount(info.account), request: env });
  const { pkPub, secrets } = openRpmCreds(reply.body, BigInt(p.transportSk), a.poolId, sent.requestId);
  if (!equalBytes(pkPub, info.pkPub)) throw new EnvelopeError("BAD_SIGNATURE", "enrolRpm: the credentials are for another PK_pub");
  const rec: RpmServiceRecord = {
    poolId: a.poolId,
    sk: toHex(encodeScalar(secrets.sk)),
    pid: toHex(secrets.pid),
    filterTtlSec: secrets.filterTtlSec,
    pkPub: toHex(pkPub),
    msrpUrl: a.msrpUrl,
    msrpAccount: info.account,
  };
  // the keys the RPM will use must be the ones the chain names for the pool
  const onChain = await a.dep.ledger.pool(a.poolId);
  if (!onChain || !equalBytes(onChain.pidRpm, secrets.pid) || !onChain.pkRpm.equals(secrets.pkRpm))
    throw new RsmsRejectedError("INVALID_STATE", `enrolRpm: pool ${a.poolId} on-chain does not carry the keys the MSRP sent`);
  if (!mulBase(secrets.sk).equals(poolEncryptionKey(paramsFromPkPub(pkPub), secrets.pkRpm, secrets.pid)))
    throw new RsmsRejectedError("INVALID_STATE", "enrolRpm: sk_RPM does not match PK_RPM + H2(PID_RPM) * PK_pub");
  if (a.keystore.exists(recName)) a.keystore.update(recName, rec);
  else a.keystore.create(recName, rec);
  a.keystore.remove(pendingName);
  return rec;
}

// ------------------------------------------------------------------ RN registration and join

/** An RN's keystore record on its own machine: the agent's record and PK_pub. */
export const rnClientRecord = (name: string) => `rsms-rn-${name}`;
const pendingJoinRecord = (name: string) => `rsms-rn-${name}-join`;

/** The keystore record of an RN registration in flight. */
export const rnRegisterPending = (name: string) => `rsms-rn-${name}-register`;

/**
 * `rsms:rn:register --abandon`: drops the kept registration once the MSRP refuses the kept request
 * (a registration leaves nothing on-chain: the MSRP's word, which answers a registration it made
 * with the same keys; offchain/services/pending.ts).
 * @returns what was done (one line)
 * @throws AbandonRefusedError when it took effect or nothing could be confirmed
 */
export async function abandonRnRegister(a: Parameters<typeof registerRnRemote>[0]): Promise<string> {
  return abandonPending({
    task: `rsms:rn:register --name ${a.name}`,
    keystore: a.keystore,
    pending: rnRegisterPending(a.name),
    resend: () => registerRnRemote(a),
  });
}

/**
 * Registers an RN with the MSRP over the network; writes its keystore record.
 * @param a - token: the enrolment token the MSRP's operator issued for this name
 *   (`rsms:enrol-token --rn <name>`); its key signs the request, the token itself is never sent.
 *   Without one, only an MSRP running with open registration (development) answers.
 */
export async function registerRnRemote(a: {
  msrpUrl: string;
  name: string;
  poolId: number;
  rid: string;
  token?: string;
  keystore: Keystore;
  dep: Deployment;
  retry?: RetryPolicy;
}): Promise<ResourceNode> {
  const pendingName = rnRegisterPending(a.name);
  const info = await msrpInfo(a.msrpUrl, a.dep);
  const audience = audienceOf(a.dep.chainId, a.dep.registry, "msrp");
  let p = a.keystore.exists(pendingName)
    ? (a.keystore.load(pendingName) as { transportSk: string; envelope: string; token?: string })
    : undefined;
  if (!p) {
    if (a.keystore.exists(rnClientRecord(a.name)))
      throw new RsmsRejectedError("INVALID_STATE", `registerRn: "${a.name}" is already registered here`);
    const t = randomScalar();
    const bind = registrationBinding("RN", a.name, mulBase(t));
    const registration = Msrp.registrationRequest(decodePoint(info.pkPub), Role.RN, a.poolId, a.rid, bind);
    const body = encodeRnRegister({
      tokenId: a.token ? parseEnrolmentToken(a.token).id : NO_TOKEN,
      name: a.name,
      registration,
      transport: mulBase(t),
    });
    p = {
      transportSk: toHex(encodeScalar(t)),
      envelope: toHex(sealEnvelope(request(Route.RnRegister, audience, body), enrolSigner(a.token))),
      // kept (on this machine only) until the registration completes: a late retry re-signs with it
      ...(a.token ? { token: a.token } : {}),
    };
    a.keystore.create(pendingName, p);
  }
  let env = fromHex(p.envelope);
  const send = () => postEnvelope(a.msrpUrl, "/v1/rn/register", env, a.retry ?? DEFAULT_RETRY);
  const replyBytes = await send()
    .catch(async (e) => {
      // too old for the MSRP's window (its reply was lost, and this retry comes late): the same
      // request in a fresh envelope; the MSRP answers a registration it already made with the same keys
      if (!(e instanceof ServiceError && e.reason === "STALE")) throw e;
      env = sealEnvelope(request(Route.RnRegister, audience, openEnvelope(env).body, openEnvelope(env).session), enrolSigner(p!.token));
      a.keystore.update(pendingName, { ...p, envelope: toHex(env) });
      return send();
    })
    .catch((e) => {
      throw settlePending(e, () => a.keystore.remove(pendingName), `${pendingName}; run the registration again to resend it`);
    });
  const reply = openEnvelope(replyBytes);
  verifyEnvelope(reply, { kind: Kind.Reply, route: Route.RnRegister, audience, sender: fromAccount(info.account), request: env });
  const { pkPub, secrets } = openRnCreds(reply.body, BigInt(p.transportSk), a.poolId, openEnvelope(env).requestId);
  if (!equalBytes(pkPub, info.pkPub)) throw new EnvelopeError("BAD_SIGNATURE", "registerRn: the credentials are for another PK_pub");
  const rn = new ResourceNode(paramsFromPkPub(pkPub), {
    name: a.name,
    sk: secrets.sk,
    a: secrets.a,
    pid: secrets.pid,
    k: 0,
    joined: false,
    homePool: secrets.poolId,
    pool: 0,
  });
  a.keystore.create(rnClientRecord(a.name), { ...rn.toRecord(), pkPub: toHex(pkPub), msrpUrl: a.msrpUrl });
  a.keystore.remove(pendingName);
  return rn;
}

/**
 * Renews the one-time secret of an RN registered over the network that has not joined (its secret
 * expired: SECRET_EXPIRED; or its filter epoch expired: NOT_IN_FILTER), through the MSRP service
 * (`POST /v1/rn/renew`, s17-redB B11): the request is the in-process one (signed by sk_RN over the
 * PID and the current secret's tag), in an envelope signed by sk_RN; the reply, signed by the MSRP's
 * account, is the fresh secret sealed to PK_RN for that request. The RN keeps it (its keystore
 * record) and joins once the MSRP published the pool's next filter. Nothing is kept before the
 * reply: a lost reply is recovered by running this again (the MSRP answers a renewal it already
 * made with the same secret, and draws nothing).
 * @param a - the RN's name, its keystore and deployment; msrpUrl (default: the one it registered with)
 * @returns the RN, holding its new secret
 * @throws RsmsRejectedError(INVALID_STATE) for an RN that joined or whose secret still waits for
 *   its filter; RsmsRejectedError(MSRP_REJECTED) for a PID or signature the MSRP does not take
 */
export async function renewRemote(a: {
  name: string;
  keystore: Keystore;
  dep: Deployment;
  msrpUrl?: string;
  retry?: RetryPolicy;
}): Promise<ResourceNode> {
  const rn = loadRemoteRn(a.keystore, a.name);
  if (!rn) throw new RsmsRejectedError("INVALID_STATE", `renewRemote: "${a.name}" was not registered over the network here`);
  const rec = a.keystore.load(rnClientRecord(a.name)) as Record<string, unknown>;
  const msrpUrl = a.msrpUrl ?? String(rec.msrpUrl ?? "");
  if (!msrpUrl) throw new RsmsRejectedError("INVALID_STATE", `renewRemote: no MSRP URL for "${a.name}" (give --msrp)`);
  const info = await msrpInfo(msrpUrl, a.dep);
  const audience = audienceOf(a.dep.chainId, a.dep.registry, "msrp");
  const env = sealEnvelope(request(Route.RnRenew, audience, encodeRenewal(rn.renewalRequest())), {
    scheme: Scheme.Schnorr,
    sk: rn.state.sk,
  });
  const reply = openEnvelope(await postEnvelope(msrpUrl, "/v1/rn/renew", env, a.retry ?? DEFAULT_RETRY));
  verifyEnvelope(reply, { kind: Kind.Reply, route: Route.RnRenew, audience, sender: fromAccount(info.account), request: env });
  rn.acceptRenewal(reply.body);
  a.keystore.update(rnClientRecord(a.name), { ...rec, ...rn.toRecord() });
  return rn;
}

/** Loads an RN registered over the network (its record carries PK_pub). */
export function loadRemoteRn(keystore: Keystore, name: string): ResourceNode | undefined {
  const r = keystore.load(rnClientRecord(name)) as Record<string, unknown>;
  if (typeof r.pkPub !== "string") return undefined;
  return ResourceNode.fromRecord(paramsFromPkPub(fromHex(r.pkPub, 33)), r);
}

/**
 * The RPM endpoint of a pool, as its RPM announced it on-chain, checked (offchain/services/endpoint.ts).
 * @throws EndpointError for an endpoint of another scheme, with credentials, or private off a development chain
 */
export async function discoverRpm(dep: Deployment, poolId: number): Promise<string> {
  const url = await dep.ledger.registry.poolEndpoint(poolId);
  if (!url)
    throw new RsmsRejectedError(
      "UNKNOWN_POOL",
      `discoverRpm: pool ${poolId} has no endpoint on-chain (is its RPM service running?); give --rpm <url>`,
    );
  return checkEndpoint(url, `discoverRpm: the endpoint pool ${poolId}'s RPM announced`, dep.chainId);
}

type PendingJoinRecord = { envelope: string; poolId: number; a: string; pid: string; rpmUrl: string; kind?: "join" | "reauth" };

/**
 * What an RN's step over the network returns: `adopted` when the step was taken from the chain's
 * record of the kept request (its reply was lost; no RPM was asked: rsms-join.md item 9, s17-redB B7), and
 * then no reply.
 */
export type RemoteStep = { rn: ResourceNode; resumed: boolean; request: Uint8Array; reply?: Uint8Array; adopted?: boolean };

/** How long the RN waits for the chain to show the record of a step its RPM answered (its node may lag the MSRP's). */
export const RECORD_WAIT_MS = 3_000;

/**
 * Whether the chain holds the record of a pending step: PID with H4(a) and the step's kind. Read
 * from the registry's `JoinRecorded` logs (a query that names no id, offchain/rsms/join-log.ts), not
 * `recordOf(PID)`: the RN's node would see the RN ask for PID_k at its join and PID_{k+1} now, and
 * link them (h14-red F4). Up to `waitMs`, re-read every 250 ms (a node behind the MSRP's).
 */
async function stepRecorded(dep: Deployment, pending: PendingJoin, waitMs = 0): Promise<{ poolId: number; tag: Uint8Array } | undefined> {
  const log = new JoinLog(dep.ledger.registry);
  const until = Date.now() + waitMs;
  for (;;) {
    await log.sync();
    const rec = log.recordOf(pending.pid);
    if (rec.kind === (pending.kind === "join" ? 1 : 2) && equalBytes(rec.tag, tagOf(pending.a))) return rec;
    if (Date.now() >= until) return undefined;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Where an RN's step goes, and who answers it. */
type StepArgs = {
  name: string;
  poolId: number;
  keystore: Keystore;
  dep: Deployment;
  rpmUrl?: string;
  retry?: RetryPolicy;
  windowMs?: number;
  /** how long to wait for the chain to show an answered step's record (default {@link RECORD_WAIT_MS}) */
  recordWaitMs?: number;
};

/**
 * Initial authentication of an RN over the network: the request and what the RN must remember
 * are kept in its keystore before they are sent; a retry (after a crash of the RN, the RPM or
 * the MSRP, or a lost reply) resends the same request. The reply must be signed by sk_RPM of the
 * pool (read from the chain), answer this request, and carry A = a*P.
 * @returns the RN (joined) and whether the answer came from a retry
 */
export function joinRemote(a: StepArgs): Promise<RemoteStep> {
  return stepRemote(a, "join");
}

/**
 * Re-authentication of a joined RN at another pool over the network (§IV.A.2.b): as
 * {@link joinRemote}, with a ReauthRequest to the pool's RPM (`/v1/reauth`); the RN moves to
 * PID_{k+1} once the reply, signed by that pool's sk_RPM, carries A = a'_{k+1}*P.
 * @returns the RN (at the new pool, PID_{k+1}) and whether the answer came from a retry
 */
export function reauthRemote(a: StepArgs): Promise<RemoteStep> {
  return stepRemote(a, "reauth");
}

/**
 * `rsms:join --abandon` / `rsms:reauth --abandon`: drops the RN's kept join or re-authentication
 * once the chain shows no join record for its PID and the RPM refuses the kept request
 * (offchain/services/pending.ts).
 * @returns what was done (one line)
 * @throws AbandonRefusedError when it took effect or nothing could be confirmed
 */
export async function abandonStep(a: StepArgs, kind: "join" | "reauth"): Promise<string> {
  const pend = pendingJoinRecord(a.name);
  return abandonPending({
    task: kind === "join" ? `rsms:join --rn ${a.name}` : `rsms:reauth --rn ${a.name}`,
    keystore: a.keystore,
    pending: pend,
    resend: () => stepRemote(a, kind),
    onChain: async () => {
      if (!a.keystore.exists(pend)) return undefined;
      const pid = fromHex((a.keystore.load(pend) as PendingJoinRecord).pid, 32);
      // from the registry's JoinRecorded logs, as stepRecorded: a query naming the PID would show the
      // RN's node PID_{k+1} after PID_k (h14-red F4's class; session 17's final read)
      const log = new JoinLog(a.dep.ledger.registry);
      await log.sync();
      return log.recordOf(pid).kind !== 0 ? `PID ${toHex(pid)} is recorded on-chain` : undefined;
    },
  });
}

async function stepRemote(a: StepArgs, kind: "join" | "reauth"): Promise<RemoteStep> {
  const fn = kind === "join" ? "joinRemote" : "reauthRemote";
  const rn = loadRemoteRn(a.keystore, a.name);
  if (!rn) throw new RsmsRejectedError("INVALID_STATE", `${fn}: "${a.name}" was not registered over the network (no PK_pub in its record)`);
  const pool = await a.dep.ledger.pool(a.poolId);
  if (!pool) throw new RsmsRejectedError("UNKNOWN_POOL", `${fn}: pool ${a.poolId} is not on-chain`);
  const route = kind === "join" ? Route.Join : Route.Reauth;
  const audience = audienceOf(a.dep.chainId, a.dep.registry, `rpm:${a.poolId}`);
  const pendName = pendingJoinRecord(a.name);
  let p = a.keystore.exists(pendName) ? (a.keystore.load(pendName) as PendingJoinRecord) : undefined;
  const resumed = p !== undefined;
  const save = () => a.keystore.update(rnClientRecord(a.name), { ...a.keystore.load(rnClientRecord(a.name)), ...rn.toRecord() });
  if (p) {
    // Before anything is resent: the chain may hold the kept step already (the MSRP recorded it and
    // the reply was lost). Then the RN takes it from the chain, as the in-process resyncRn does
    // (rsms-join.md item 9, s17-redB B7): no RPM is needed, so one that went away strands no one. The record
    // is the MSRP's (only it writes), made after its exact check of a forward signed by the pool's RPM.
    const kept: PendingJoin = { poolId: p.poolId, a: BigInt(p.a), pid: fromHex(p.pid, 32), kind: p.kind ?? "join" };
    const rec = await stepRecorded(a.dep, kept);
    if (rec) {
      const moved = rn.adoptRecorded(kept, rec);
      // (not moved: the RN's record already holds the step; only the pending record was left behind)
      if (moved || (rn.state.joined && rn.hasPid(kept.pid))) {
        if (moved) save();
        a.keystore.remove(pendName);
        if (rec.poolId !== kept.poolId) throw recordedElsewhere(fn, a.name, kept, rec.poolId);
        if (p.poolId === a.poolId && kept.kind === kind) return { rn, resumed, request: fromHex(p.envelope), adopted: true };
        p = undefined; // the step asked for now is another one: built below, from the adopted state
      }
    }
  }
  if (p && (p.poolId !== a.poolId || (p.kind ?? "join") !== kind))
    throw new RsmsRejectedError(
      "INVALID_STATE",
      `${fn}: "${a.name}" has a ${p.kind === "reauth" ? "re-authentication" : "join"} to pool ${p.poolId} in flight`,
    );
  if (!p) {
    if (kind === "reauth" && rn.state.joined && rn.state.pool === a.poolId)
      throw new RsmsRejectedError("INVALID_STATE", `${fn}: "${a.name}" is already at pool ${a.poolId}`);
    // a_{i,0} is sealed only to the RPM of the pool the RN registered for, the one pool whose join the
    // MSRP records: another pool's RPM would open it and could re-seal it to the home pool (s21-redr F1)
    if (kind === "join" && !rn.state.joined && rn.state.homePool !== a.poolId)
      throw new RsmsRejectedError(
        "INVALID_STATE",
        `${fn}: --pool ${a.poolId}: "${a.name}" registered for pool ${rn.state.homePool}; it joins there first`,
      );
    const rpmUrl = a.rpmUrl ?? (await discoverRpm(a.dep, a.poolId));
    const info = { poolId: a.poolId, pkRpm: pool.pkRpm, pidRpm: pool.pidRpm };
    const { request: body, pending } = kind === "join" ? rn.buildJoinRequest(info) : rn.buildReauthRequest(info);
    const env = sealEnvelope(request(route, audience, body), { scheme: Scheme.None });
    p = { envelope: toHex(env), poolId: a.poolId, a: toHex(encodeScalar(pending.a)), pid: toHex(pending.pid), rpmUrl, kind };
    a.keystore.create(pendName, p);
  }
  const pending: PendingJoin = { poolId: p.poolId, a: BigInt(p.a), pid: fromHex(p.pid, 32), kind };
  let env = fromHex(p.envelope);
  // an envelope too old for the RPM's window: the same protocol request in a fresh envelope
  if (Date.now() - openEnvelope(env).issuedAt > (a.windowMs ?? DEFAULT_WINDOW_MS) / 2) {
    const old = openEnvelope(env);
    env = sealEnvelope(request(route, audience, old.body, old.session), { scheme: Scheme.None });
    p = { ...p, envelope: toHex(env) };
    a.keystore.update(pendName, p);
  }
  const rpmUrl = a.rpmUrl ?? p.rpmUrl;
  let replyBytes: Uint8Array;
  try {
    replyBytes = await postEnvelope(rpmUrl, kind === "join" ? "/v1/join" : "/v1/reauth", env, a.retry ?? DEFAULT_RETRY);
  } catch (e) {
    // A refusal for good can come for a step the chain holds all the same (an RPM that opened the
    // request, refused it, and had it recorded by another pool's RPM: s21-redr F3; or a request
    // built again from PID_k after such a step, NEXT_PID_RECORDED): before it drops its request the
    // RN takes the step from the chain, at the chain's pool, as it does for a kept request
    if (refusedForGood(e)) {
      const rec = await stepRecorded(a.dep, pending);
      if (rec) {
        rn.adoptRecorded(pending, rec);
        save();
        a.keystore.remove(pendName);
        if (rec.poolId !== pending.poolId) throw recordedElsewhere(fn, a.name, pending, rec.poolId);
        return { rn, resumed, request: env, adopted: true };
      }
    }
    throw settlePending(
      e,
      () => a.keystore.remove(pendName),
      `${pendName}; run the ${kind === "join" ? "join" : "re-authentication"} again to resend it`,
    );
  }
  const reply = openEnvelope(replyBytes);
  const pk = poolEncryptionKey(rn.params, pool.pkRpm, pool.pidRpm);
  verifyEnvelope(reply, { kind: Kind.Reply, route, audience, sender: { scheme: Scheme.Schnorr, pk }, request: env });
  // A = a*P proves the RPM opened the request, not that the MSRP recorded the step: an RPM that
  // answers before its forward is recorded (the paper's Remark 1), whose forward was lost, or that
  // lies would leave the RN joined (or at PID_{k+1}) with nothing on-chain, for good. The reply
  // counts only once the chain holds the step (rsms-join.md item 9, s17-redB B3); until then the request is
  // kept, re-sealed under a fresh request id so that the next run is decided again by the RPM (from
  // the chain), not answered from its reply cache.
  const rec = await stepRecorded(a.dep, pending, a.recordWaitMs ?? RECORD_WAIT_MS);
  if (!rec) {
    const old = openEnvelope(env);
    a.keystore.update(pendName, {
      ...p,
      envelope: toHex(sealEnvelope(request(route, audience, old.body, old.session), { scheme: Scheme.None })),
    });
    throw new RsmsRejectedError(
      "NOT_RECORDED",
      `${fn}: pool ${p.poolId}'s RPM answered, but the chain holds no record of PID ${toHex(pending.pid)}; the request is kept (${pendName}): run the ${kind === "join" ? "join" : "re-authentication"} again`,
    );
  }
  // The record must be at the pool the RN asked: RPM_Y, which opens a_{k+1} as any RPM does, can seal
  // the request again to pool Z's public key and send it there as the RN; RPM_Z forwards it, the
  // MSRP's exact check passes, and RPM_Y answers A itself (s21-redr F1). The chain's record is the
  // step the RN took (no request can undo it): the RN takes it from there, at the chain's pool, and
  // the run fails naming both pools instead of reporting a move to the pool it asked.
  if (rec.poolId !== pending.poolId) {
    rn.adoptRecorded(pending, rec);
    save();
    a.keystore.remove(pendName);
    throw recordedElsewhere(fn, a.name, pending, rec.poolId);
  }
  if (kind === "join") rn.acceptJoinReply(reply.body, pending);
  else rn.acceptReauthReply(reply.body, pending);
  save();
  a.keystore.remove(pendName);
  return { rn, resumed, request: env, reply: replyBytes };
}

/** The run's error when the chain holds the RN's step at another pool than the one it asked (s21-redr F1). */
function recordedElsewhere(fn: string, name: string, asked: PendingJoin, at: number): RsmsRejectedError {
  return new RsmsRejectedError(
    "RECORDED_ELSEWHERE",
    `${fn}: the chain records PID ${toHex(asked.pid)} at pool ${at}, not at pool ${asked.poolId}, which "${name}" asked: pool ${asked.poolId}'s RPM did not forward the step itself; "${name}" is at pool ${at} now (taken from the chain)`,
  );
}
