/**
 * The client side of service groups over the network (issue 19): a user registers with the MSRP
 * service and requests a group; the user and each RN take part from their own machines through
 * the MSRP's mailbox (offchain/services/rsms/msrp-groups.ts); the user asks for the key update
 * that evicts the members the trust layer flagged, or one that adds fresh RNs; every party sends
 * and reads the group's sealed service traffic through the mailbox. The GroupParty agent runs the protocol; this
 * module only carries its messages, signs them with the party's long-term key, and checks every
 * reply (signed by the MSRP's account, answering this request) and every dealing (against the chain).
 *
 * Each round message is kept in the party's keystore before it is posted, so that a party that
 * crashes and starts again posts the same bytes (the mailbox takes one message per party and
 * round, and refuses another).
 */
import { abandonPending } from "../pending";
import type { ResourceNode } from "../../rsms/rn";
import type { ServiceGroupRegistry } from "../../../typechain-types";
import { equalBytes, fromHex, toHex } from "../../crypto/bytes";
import { decodePoint, encodeScalar, decodeScalar, mulBase, randomScalar, type Point } from "../../crypto/group";
import { randomBytes } from "@noble/hashes/utils.js";
import type { Keystore } from "../../storage/keystore";
import { Msrp } from "../../rsms/msrp";
import { Role } from "../../rsms/messages";
import { GroupAuthenticationError, GroupParty } from "../../rsms/group";
import { rnGroupSecret } from "../../rsms/params";
import type { GroupLedger } from "../../rsms/group-flows";
import { AgentStateError, RsmsRejectedError } from "../../rsms/errors";
import { MetatrustError } from "../../errors";
import { decodeChannel } from "../../rsms/group-messages";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope, verifyEnvelope, EnvelopeError } from "../envelope";
import { fromAccount, freshId } from "../common";
import { postEnvelope, settlePending, DEFAULT_RETRY, ServiceError, type RetryPolicy } from "../client";
import { encodeRnRegister, registrationBinding } from "./wire";
import { enrolSigner, msrpInfo, loadRemoteRn, rnClientRecord, type Deployment } from "./clients";
import { NO_TOKEN, parseEnrolmentToken } from "../enrolment";
import {
  Round,
  decodeGroupFormed,
  decodeGroupMailbox,
  decodeGroupChannel,
  decodeGroupSent,
  decodeRekeyDone,
  encodeGroupAdd,
  decodeGroupAdd,
  encodeGroupFetch,
  encodeGroupRead,
  encodeGroupPost,
  encodeGroupRequest,
  decodeGroupRequest,
  encodeRekeyRequest,
  decodeRekeyRequest,
  groupSession,
  openUserCreds,
  type GroupMailbox,
} from "./group-wire";

/** A client's view of the deployment, with the ServiceGroupRegistry (read-only). */
export type GroupDeployment = Deployment & { groups: GroupLedger };

/** A user's keystore record on her own machine. */
export const userClientRecord = (name: string) => `rsms-user-${name}`;
/** A party's group keys (the same record `group:*` tasks keep). */
export const partyRecord = (name: string) => `rsms-party-${name}`;
const pendingRounds = (name: string, gid: Uint8Array) => `rsms-group-${name}-${toHex(gid).slice(2, 18)}`;

/** The keystore records of a user registration and of a group request in flight. */
export const userRegisterPending = (name: string) => `${userClientRecord(name)}-register`;
export const groupRequestPending = (user: string) => `${userClientRecord(user)}-group-request`;
/** The keystore record of a user's key update (`group:add` or `group:rekey`) in flight, per group. */
export const groupUpdatePending = (user: string, gid: Uint8Array) => `${userClientRecord(user)}-group-update-${toHex(gid).slice(2, 18)}`;

/**
 * `rsms:user:register --abandon`: drops the kept registration once the MSRP refuses the kept
 * request (nothing on-chain; offchain/services/pending.ts).
 * @returns what was done (one line)
 * @throws AbandonRefusedError when it took effect or nothing could be confirmed
 */
export async function abandonUserRegister(a: Parameters<typeof registerUserRemote>[0]): Promise<string> {
  return abandonPending({
    task: `rsms:user:register --name ${a.name}`,
    keystore: a.keystore,
    pending: userRegisterPending(a.name),
    resend: () => registerUserRemote(a),
  });
}

/**
 * `group:request --abandon`: drops the kept group request once the chain shows no group with its id
 * and the MSRP refuses the kept request (offchain/services/pending.ts).
 * @returns what was done (one line)
 * @throws AbandonRefusedError when it took effect or nothing could be confirmed
 */
export async function abandonGroupRequest(a: Parameters<typeof requestGroupRemote>[0]): Promise<string> {
  const pending = groupRequestPending(a.user);
  return abandonPending({
    task: `group:request --user ${a.user}`,
    keystore: a.keystore,
    pending,
    resend: () => requestGroupRemote(a),
    onChain: async () => {
      if (!a.keystore.exists(pending)) return undefined;
      const env = fromHex((a.keystore.load(pending) as { envelope: string }).envelope);
      const gid = decodeGroupRequest(openEnvelope(env).body).groupId;
      const on = await a.dep.groups.view(gid).catch(() => undefined);
      return on ? `group ${toHex(gid)} is on-chain` : undefined;
    },
  });
}

type UserRecord = { name: string; sk: string; pid: string; pkPub: string; msrpUrl: string };

const msrpAudience = (dep: Deployment) => audienceOf(dep.chainId, dep.registry, "msrp");
function request(route: number, dep: Deployment, body: Uint8Array, session: Uint8Array) {
  return {
    kind: Kind.Request,
    route,
    audience: msrpAudience(dep),
    session,
    requestId: freshId(),
    issuedAt: Date.now(),
    inReplyTo: new Uint8Array(32),
    body,
  };
}

/** Posts a signed envelope and returns the reply's body, checked: the MSRP's account signed it, for this request. */
async function call(url: string, path: string, route: number, env: Uint8Array, dep: Deployment, account: string, retry?: RetryPolicy) {
  const replyBytes = await postEnvelope(url, path, env, retry ?? DEFAULT_RETRY);
  const reply = openEnvelope(replyBytes);
  verifyEnvelope(reply, { kind: Kind.Reply, route, audience: msrpAudience(dep), sender: fromAccount(account), request: env });
  return reply.body;
}

// ------------------------------------------------------------------ users

/**
 * Registers a user with the MSRP service; writes her keystore record (sk_User, PID_User, PK_pub).
 * @param a - token: the enrolment token the MSRP's operator issued for this name
 *   (`rsms:enrol-token --user <name>`); without one, only an MSRP with open registration answers
 */
export async function registerUserRemote(a: {
  msrpUrl: string;
  name: string;
  rid: string;
  token?: string;
  keystore: Keystore;
  dep: Deployment;
  retry?: RetryPolicy;
}): Promise<{ pid: Uint8Array }> {
  const pendingName = userRegisterPending(a.name);
  const info = await msrpInfo(a.msrpUrl, a.dep);
  let p = a.keystore.exists(pendingName)
    ? (a.keystore.load(pendingName) as { transportSk: string; envelope: string; token?: string })
    : undefined;
  if (!p) {
    if (a.keystore.exists(userClientRecord(a.name)))
      throw new RsmsRejectedError("INVALID_STATE", `registerUser: "${a.name}" is already registered here`);
    const t = randomScalar();
    const registration = Msrp.registrationRequest(
      decodePoint(info.pkPub),
      Role.User,
      0,
      a.rid,
      registrationBinding("USER", a.name, mulBase(t)),
    );
    const body = encodeRnRegister({
      tokenId: a.token ? parseEnrolmentToken(a.token).id : NO_TOKEN,
      name: a.name,
      registration,
      transport: mulBase(t),
    });
    p = {
      transportSk: toHex(encodeScalar(t)),
      envelope: toHex(sealEnvelope(request(Route.UserRegister, a.dep, body, freshId()), enrolSigner(a.token))),
      ...(a.token ? { token: a.token } : {}),
    };
    a.keystore.create(pendingName, p);
  }
  let env = fromHex(p.envelope);
  const send = () => call(a.msrpUrl, "/v1/user/register", Route.UserRegister, env, a.dep, info.account, a.retry);
  const body = await send()
    .catch(async (e) => {
      // too old for the MSRP's window (its reply was lost, and this retry comes late): the same
      // request in a fresh envelope; the MSRP answers a registration it already made with the same keys
      if (!(e instanceof ServiceError && e.reason === "STALE")) throw e;
      env = sealEnvelope(request(Route.UserRegister, a.dep, openEnvelope(env).body, openEnvelope(env).session), enrolSigner(p!.token));
      a.keystore.update(pendingName, { ...p, envelope: toHex(env) });
      return send();
    })
    .catch((e) => {
      throw settlePending(e, () => a.keystore.remove(pendingName), `${pendingName}; run the registration again to resend it`);
    });
  const { pkPub, secrets } = openUserCreds(body, BigInt(p.transportSk), openEnvelope(env).requestId);
  if (!equalBytes(pkPub, info.pkPub)) throw new EnvelopeError("BAD_SIGNATURE", "registerUser: the credentials are for another PK_pub");
  const rec: UserRecord = {
    name: a.name,
    sk: toHex(encodeScalar(secrets.sk)),
    pid: toHex(secrets.pid),
    pkPub: toHex(pkPub),
    msrpUrl: a.msrpUrl,
  };
  a.keystore.create(userClientRecord(a.name), rec);
  a.keystore.remove(pendingName);
  return { pid: secrets.pid };
}

/** A party on this machine: its group key (a user's long-term key, an RN's key for the PID it takes part under), that PID, its group agent. */
export type LocalParty = { name: string; sk: bigint; pk: Point; pid: Uint8Array; party: GroupParty; msrpUrl?: string };

/**
 * The group keys an RN holds under a pseudonym it left (`rsms-party-<name>` holds those of its
 * current one): one record per (RN, PID), so that a re-authentication loses no group (red-team
 * finding H6). Local only: nothing sent names two PIDs of one RN.
 */
export const pastPartyRecord = (name: string, pid: Uint8Array) => `${partyRecord(name)}.pid-${toHex(pid).slice(2, 18)}`;
/** True for the name of a past-PID party record (not a party's own record). */
export const isPastPartyRecord = (record: string) => /\.pid-[0-9a-f]{16}$/.test(record);

/**
 * A party's group agent under `pid`, from its keystore records: the record of its current PID if
 * it is that PID's, else the past-PID record, else a new agent (sk_G derived for `pid`).
 */
export function loadPartyAgent(keystore: Keystore, name: string, pid: Uint8Array, sk: bigint): GroupParty {
  for (const rec of [partyRecord(name), pastPartyRecord(name, pid)])
    if (keystore.exists(rec)) {
      const p = GroupParty.fromRecord(keystore.load(rec));
      if (equalBytes(p.pid, pid)) return p;
    }
  return new GroupParty(name, pid, sk);
}

/**
 * Saves a party's group agent where `loadPartyAgent` finds it: a PID's groups live in one record,
 * `rsms-party-<name>` while that record holds the PID, else the PID's past record. The agent of
 * the party's current PID takes `rsms-party-<name>`; the record there under another PID (the RN
 * moved since) is moved to that PID's past record first: no PID's groups are ever overwritten by
 * another's.
 */
export function savePartyAgent(keystore: Keystore, party: GroupParty, currentPid: Uint8Array): void {
  const put = (rec: string, r: Record<string, unknown>) =>
    (keystore.exists(rec) ? keystore.update : keystore.create).call(keystore, rec, r);
  const cur = partyRecord(party.name);
  const held = keystore.exists(cur) ? GroupParty.fromRecord(keystore.load(cur)) : undefined;
  if (held && equalBytes(held.pid, party.pid)) return put(cur, party.toRecord());
  if (!equalBytes(party.pid, currentPid)) return put(pastPartyRecord(party.name, party.pid), party.toRecord());
  if (held) put(pastPartyRecord(party.name, held.pid), held.toRecord());
  put(cur, party.toRecord());
  if (keystore.exists(pastPartyRecord(party.name, party.pid))) keystore.remove(pastPartyRecord(party.name, party.pid));
}

/**
 * Every PID an RN held, oldest first, the current one last: those its record keeps, and those of
 * its party records (a record written before the RN kept its past PIDs).
 */
function rnPids(keystore: Keystore, name: string, rn: ResourceNode): Uint8Array[] {
  const out = rn.pids();
  const prefix = `${partyRecord(name)}.pid-`;
  for (const rec of keystore.list().filter((r) => r === partyRecord(name) || (r.startsWith(prefix) && isPastPartyRecord(r)))) {
    const pid = fromHex(String((keystore.load(rec) as { pid?: unknown }).pid), 32);
    if (!out.some((p) => equalBytes(p, pid))) out.unshift(pid);
  }
  return out;
}

/**
 * The user or RN `name` as this machine holds it: a user registered over the network
 * (rsms-user-<name>) or an RN (rsms-rn-<name>), with its group keys (rsms-party-<name>, and
 * rsms-party-<name>.pid-<…> for the PIDs an RN left). An RN takes part under `pid` (one of its
 * PIDs: the one a group's roster lists, see `groupParty`), by default under its current one.
 * @throws AgentStateError when this machine holds neither, or `pid` is not one of the RN's PIDs
 */
export function localParty(keystore: Keystore, name: string, pid?: Uint8Array): LocalParty {
  let sk: bigint, me: Uint8Array, msrpUrl: string | undefined;
  if (keystore.exists(userClientRecord(name))) {
    const u = keystore.load(userClientRecord(name)) as UserRecord;
    sk = decodeScalar(fromHex(u.sk, 32));
    me = fromHex(u.pid, 32);
    msrpUrl = u.msrpUrl;
  } else if (keystore.exists(rnClientRecord(name))) {
    const rn = loadRemoteRn(keystore, name);
    if (!rn) throw new AgentStateError(`localParty: "${name}" was not registered over the network (no PK_pub in its record)`);
    me = pid ?? rn.state.pid;
    if (!rnPids(keystore, name, rn).some((p) => equalBytes(p, me)))
      throw new AgentStateError(`localParty: ${toHex(me)} is not a PID of "${name}"`);
    sk = rnGroupSecret(rn.state.sk, me); // its group key under this PID (PK_RN would link its PIDs)
    msrpUrl = (keystore.load(rnClientRecord(name)) as { msrpUrl?: string }).msrpUrl;
  } else throw new AgentStateError(`localParty: no user or RN named "${name}" in this data folder`);
  return { name, sk, pk: mulBase(sk), pid: me, party: loadPartyAgent(keystore, name, me, sk), msrpUrl };
}

/**
 * The PIDs the chain lists as a group's members now (formed and added, less evicted), read from the
 * group's events by its id alone: the query names no PID.
 */
export async function rosterOf(registry: ServiceGroupRegistry, groupId: Uint8Array): Promise<Set<string>> {
  const gid = toHex(groupId);
  const out = new Set<string>();
  for (const e of await registry.queryFilter(registry.filters.GroupFormed(gid)))
    for (const m of e.args.members as string[]) out.add(m.toLowerCase());
  const moves = [
    ...(await registry.queryFilter(registry.filters.MemberAdded(gid))).map((e) => ({ e, add: true })),
    ...(await registry.queryFilter(registry.filters.MemberEvicted(gid))).map((e) => ({ e, add: false })),
  ].sort((x, y) => x.e.blockNumber - y.e.blockNumber || x.e.index - y.e.index);
  for (const { e, add } of moves) {
    if (add) out.add(e.args.pid.toLowerCase());
    else out.delete(e.args.pid.toLowerCase());
  }
  return out;
}

/**
 * The party `name` as it takes part in `groupId`: a user as herself; an RN under the PID the
 * group's roster lists (it may have re-authenticated since it was allocated: red-team finding H6),
 * newest first; under its current PID when the roster lists none of them (the MSRP then refuses it
 * as NOT_A_MEMBER). The roster is read by the group's id only: nothing links the RN's PIDs.
 */
export async function groupParty(keystore: Keystore, name: string, groupId: Uint8Array, dep: GroupDeployment): Promise<LocalParty> {
  if (keystore.exists(userClientRecord(name)) || !keystore.exists(rnClientRecord(name))) return localParty(keystore, name);
  const rn = loadRemoteRn(keystore, name);
  const pids = rn ? rnPids(keystore, name, rn) : [];
  if (pids.length <= 1) return localParty(keystore, name);
  const roster = await rosterOf(dep.groups.registry, groupId);
  const pid = pids.reverse().find((p) => roster.has(toHex(p).toLowerCase()));
  return localParty(keystore, name, pid);
}

/** The key a party holds for a group's epoch (from its record). */
export function heldKey(party: GroupParty, groupId: Uint8Array, epoch: number): Uint8Array {
  const g = (party.toRecord().groups as Record<string, { keys: Record<string, string> }>)[toHex(groupId)];
  const k = g?.keys[String(epoch)];
  if (!k) throw new RsmsRejectedError("INVALID_STATE", `${party.name} holds no key for epoch ${epoch} of group ${toHex(groupId)}`);
  return fromHex(k, 32);
}

function saveParty(keystore: Keystore, p: LocalParty): void {
  const current = keystore.exists(userClientRecord(p.name)) ? p.pid : (loadRemoteRn(keystore, p.name)?.state.pid ?? p.pid);
  savePartyAgent(keystore, p.party, current);
}

// ------------------------------------------------------------------ formation

/**
 * A user asks the MSRP service for a group of `size` RNs; the MSRP records it on-chain.
 * @returns the group id and the parties' PIDs (the user first)
 */
export async function requestGroupRemote(a: {
  msrpUrl: string;
  user: string;
  size: number;
  keystore: Keystore;
  dep: GroupDeployment;
  retry?: RetryPolicy;
}): Promise<{ groupId: Uint8Array; pids: Uint8Array[] }> {
  const me = localParty(a.keystore, a.user);
  if (!a.keystore.exists(userClientRecord(a.user)))
    throw new RsmsRejectedError("INVALID_STATE", `requestGroup: "${a.user}" is not a user here`);
  const info = await msrpInfo(a.msrpUrl, a.dep);
  const pendingName = groupRequestPending(a.user);
  let env: Uint8Array;
  if (a.keystore.exists(pendingName)) env = fromHex((a.keystore.load(pendingName) as { envelope: string }).envelope);
  else {
    const groupId = randomBytes(32);
    const body = encodeGroupRequest({ groupId, size: a.size, user: a.user });
    env = sealEnvelope(request(Route.GroupRequest, a.dep, body, groupSession(groupId, 0)), { scheme: Scheme.Schnorr, sk: me.sk });
    a.keystore.create(pendingName, { envelope: toHex(env) });
  }
  const body = await call(a.msrpUrl, "/v1/group/request", Route.GroupRequest, env, a.dep, info.account, a.retry).catch((e) => {
    throw settlePending(e, () => a.keystore.remove(pendingName), `${pendingName}; run the group request again to resend it`);
  });
  const g = decodeGroupFormed(body);
  const on = await a.dep.groups.view(g.groupId);
  if (!equalBytes(on.userPid, me.pid) || on.members !== g.pids.length - 1)
    throw new RsmsRejectedError("INVALID_STATE", `requestGroup: group ${toHex(g.groupId)} on-chain is not the one the MSRP described`);
  a.keystore.remove(pendingName);
  return g;
}

/**
 * The groups the chain lists a PID in (GroupFormed members and MemberAdded), newest last: how an
 * RN learns of a group it was allocated to.
 */
export async function groupsOf(registry: ServiceGroupRegistry, pid: Uint8Array): Promise<Uint8Array[]> {
  const out: string[] = [];
  for (const e of await registry.queryFilter(registry.filters.GroupFormed()))
    if (e.args.members.some((m: string) => m.toLowerCase() === toHex(pid).toLowerCase())) out.push(e.args.groupId);
  for (const e of await registry.queryFilter(registry.filters.MemberAdded(undefined, toHex(pid)))) out.push(e.args.groupId);
  return [...new Set(out)].map((g) => fromHex(g, 32));
}

/**
 * The groups the chain lists the party `name` in now, under any of its PIDs (an RN keeps its
 * groups across re-authentications: red-team finding H6). Every group event is read unfiltered and
 * matched here: the queries name no PID, so they link none of the RN's PIDs.
 */
export async function currentGroupsOf(keystore: Keystore, name: string, registry: ServiceGroupRegistry): Promise<Uint8Array[]> {
  const rn = keystore.exists(userClientRecord(name)) ? undefined : loadRemoteRn(keystore, name);
  const mine = new Set((rn ? rnPids(keystore, name, rn) : [localParty(keystore, name).pid]).map((p) => toHex(p).toLowerCase()));
  const rosters = new Map<string, Set<string>>();
  const roster = (g: string) => rosters.get(g.toLowerCase()) ?? rosters.set(g.toLowerCase(), new Set()).get(g.toLowerCase())!;
  for (const e of await registry.queryFilter(registry.filters.GroupFormed()))
    for (const m of e.args.members as string[]) roster(e.args.groupId).add(m.toLowerCase());
  const moves = [
    ...(await registry.queryFilter(registry.filters.MemberAdded())).map((e) => ({ e, add: true })),
    ...(await registry.queryFilter(registry.filters.MemberEvicted())).map((e) => ({ e, add: false })),
  ].sort((x, y) => x.e.blockNumber - y.e.blockNumber || x.e.index - y.e.index);
  for (const { e, add } of moves) {
    if (add) roster(e.args.groupId).add(e.args.pid.toLowerCase());
    else roster(e.args.groupId).delete(e.args.pid.toLowerCase());
  }
  return [...rosters].filter(([, r]) => [...r].some((p) => mine.has(p))).map(([g]) => fromHex(g, 32));
}

type Session = { url: string; dep: GroupDeployment; account: string; me: LocalParty; groupId: Uint8Array; retry?: RetryPolicy };

async function fetchBox(s: Session): Promise<GroupMailbox> {
  const body = encodeGroupFetch({ groupId: s.groupId, pid: s.me.pid });
  const env = sealEnvelope(request(Route.GroupFetch, s.dep, body, groupSession(s.groupId, 0)), { scheme: Scheme.Schnorr, sk: s.me.sk });
  return decodeGroupMailbox(await call(s.url, "/v1/group/fetch", Route.GroupFetch, env, s.dep, s.account, s.retry));
}

async function postRound(s: Session, epoch: number, round: number, from: number, messages: Uint8Array[]): Promise<void> {
  const body = encodeGroupPost({ groupId: s.groupId, epoch, round, from, messages });
  const env = sealEnvelope(request(Route.GroupPost, s.dep, body, groupSession(s.groupId, epoch)), { scheme: Scheme.Schnorr, sk: s.me.sk });
  await call(s.url, "/v1/group/post", Route.GroupPost, env, s.dep, s.account, s.retry);
}

/** Polls the mailbox until `ready` holds (every `pollMs`, at most `timeoutMs`). */
async function until(
  s: Session,
  ready: (b: GroupMailbox) => boolean,
  what: string,
  pollMs: number,
  timeoutMs: number,
): Promise<GroupMailbox> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const b = await fetchBox(s);
    if (ready(b)) return b;
    if (Date.now() > deadline)
      throw new ServiceError("PROTOCOL_REJECTED", 0, `group ${toHex(s.groupId).slice(0, 10)}…: ${what} did not arrive in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * A party takes part in a group through the MSRP's mailbox: at a formation epoch, it checks its
 * allocation against the chain, posts its membership broadcast, checks everyone's, posts its key
 * shares and recovers the key; at an update epoch, it opens the key the MSRP sealed to it and
 * checks it against Q on-chain. A party that already holds the current epoch's key does nothing.
 * @returns the epoch, its key (secret: print only a fingerprint), whether the party already held
 *   it, the number of parties, and for an update the MSRP's flag sync made by itself the PIDs it
 *   evicted (`auto`, as the mailbox says; rsms-group.md §8)
 * @throws ServiceError(NOT_A_MEMBER) for a party not in the group's current epoch (an evicted one)
 */
export async function takePart(a: {
  msrpUrl: string;
  name: string;
  groupId: Uint8Array;
  keystore: Keystore;
  dep: GroupDeployment;
  pollMs?: number;
  timeoutMs?: number;
  retry?: RetryPolicy;
}): Promise<{ epoch: number; key: Uint8Array; already: boolean; parties: number; auto?: Uint8Array[] }> {
  const info = await msrpInfo(a.msrpUrl, a.dep);
  const me = await groupParty(a.keystore, a.name, a.groupId, a.dep);
  const s: Session = { url: a.msrpUrl, dep: a.dep, account: info.account, me, groupId: a.groupId, retry: a.retry };
  const poll = a.pollMs ?? 300;
  const timeout = a.timeoutMs ?? 300_000;
  let box = await fetchBox(s);
  // the MSRP's word that its flag sync made this update by itself, and whom it evicted (rsms-group.md §8)
  const auto = box.kind === 1 && box.auto ? { auto: box.auto } : {};
  const held = me.party.epochsOf(a.groupId);
  if (held.includes(box.epoch))
    return { epoch: box.epoch, key: heldKey(me.party, a.groupId, box.epoch), already: true, parties: box.roster.length, ...auto };
  const view = await a.dep.groups.view(a.groupId);
  if (view.epoch !== box.epoch)
    throw new RsmsRejectedError("INVALID_STATE", `takePart: the MSRP's mailbox is at epoch ${box.epoch}, the chain at ${view.epoch}`);
  let key: Uint8Array;
  if (box.kind === 1) key = me.party.acceptRekey(box.mine, view, box.roster);
  else {
    const n = box.roster.length;
    const index = box.roster.findIndex((p) => equalBytes(p.pid, me.pid));
    const pendName = pendingRounds(a.name, a.groupId);
    const pend = (a.keystore.exists(pendName) ? a.keystore.load(pendName) : {}) as { epoch?: number; r1?: string; r2?: string[] };
    const keep = (patch: Record<string, unknown>) =>
      (a.keystore.exists(pendName) ? a.keystore.update : a.keystore.create).call(a.keystore, pendName, {
        ...pend,
        ...patch,
        epoch: box.epoch,
      });
    const fresh = me.party.acceptAllocation(box.mine, view);
    const r1 = pend.epoch === box.epoch && pend.r1 ? fromHex(pend.r1) : fresh;
    if (r1 === fresh) keep({ r1: toHex(r1) });
    pend.r1 = toHex(r1);
    await postRound(s, box.epoch, Round.Membership, index, [r1]);
    box = await until(s, (b) => b.memberships.length === n - 1, "the others' membership broadcasts", poll, timeout);
    me.party.verifyMembership(a.groupId, box.memberships);
    const freshShares = [...me.party.keyShares(a.groupId).values()];
    const r2 = pend.epoch === box.epoch && pend.r2 ? pend.r2.map((x) => fromHex(x)) : freshShares;
    if (r2 === freshShares) keep({ r2: r2.map(toHex) });
    await postRound(s, box.epoch, Round.KeyShares, index, r2);
    box = await until(s, (b) => b.keyShares.length === n - 1, "the key shares addressed to me", poll, timeout);
    key = me.party.acceptKeyShares(a.groupId, box.keyShares);
    saveParty(a.keystore, me);
    a.keystore.remove(pendName);
    return { epoch: box.epoch, key, already: false, parties: n };
  }
  saveParty(a.keystore, me);
  return { epoch: box.epoch, key, already: false, parties: box.roster.length, ...auto };
}

// ------------------------------------------------------------------ update

/**
 * Sends a user's key update (an add or a rekey) so that a lost reply has no second effect
 * (s18-redg G4): the sealed request is kept in the user's keystore before it leaves and dropped
 * once answered or refused for good; a run that finds one kept for this group resends those bytes
 * first (the MSRP answers a request it served from its reply cache, kept for good), so the next run
 * of a command whose reply was lost finishes that update instead of making another.
 * @param fresh - the route and the body of this run's request, for the chain's current epoch
 * @returns the reply's body, the route and body of the request it answers, and whether that was a
 *   kept request of an earlier run (then the caller's own request, if of the same kind, is not sent);
 *   a kept request of the other kind is finished first, its answer checked against the chain and
 *   returned in `earlier` (s18-review1 M2: it was discarded unread)
 * @throws RsmsRejectedError(INVALID_STATE) when the kept request's answer names another epoch than the chain's
 */
async function sendUpdate(
  a: { msrpUrl: string; user: string; groupId: Uint8Array; keystore: Keystore; dep: GroupDeployment; retry?: RetryPolicy },
  route: number,
  fresh: (epoch: number) => Uint8Array,
): Promise<{ reply: Uint8Array; route: number; body: Uint8Array; resumed: boolean; earlier?: KeptUpdate }> {
  const me = localParty(a.keystore, a.user);
  const info = await msrpInfo(a.msrpUrl, a.dep);
  const pending = groupUpdatePending(a.user, a.groupId);
  const pathOf = (r: number) => (r === Route.GroupAdd ? "/v1/group/add" : "/v1/group/rekey");
  const send = async (env: Uint8Array, r: number) =>
    call(a.msrpUrl, pathOf(r), r, env, a.dep, info.account, a.retry).catch((e) => {
      throw settlePending(e, () => a.keystore.remove(pending), `${pending}; run the command again to resend it`);
    });
  let earlier: KeptUpdate | undefined;
  if (a.keystore.exists(pending)) {
    const kept = a.keystore.load(pending) as { envelope: string; route: number };
    const env = fromHex(kept.envelope);
    const reply = await send(env, kept.route);
    a.keystore.remove(pending);
    const body = openEnvelope(env).body;
    if (kept.route === route) return { reply, route, body, resumed: true };
    const done = decodeRekeyDone(reply);
    const on = await a.dep.groups.view(a.groupId);
    const kind = kept.route === Route.GroupAdd ? "add" : "rekey";
    if (Number(on.epoch) !== done.epoch)
      throw new RsmsRejectedError(
        "INVALID_STATE",
        `${kind}: the MSRP says the kept ${kind} made epoch ${done.epoch}, the chain is at ${on.epoch}`,
      );
    earlier =
      kind === "add" ? { kind, count: decodeGroupAdd(body).count, ...done } : { kind, evict: decodeRekeyRequest(body).evict, ...done };
  }
  const { epoch } = await a.dep.groups.view(a.groupId);
  const body = fresh(epoch);
  const env = sealEnvelope(request(route, a.dep, body, groupSession(a.groupId, epoch)), { scheme: Scheme.Schnorr, sk: me.sk });
  a.keystore.create(pending, { envelope: toHex(env), route });
  const reply = await send(env, route).catch((e) => {
    // the kept update did land: the error of this run's request does not hide it
    if (earlier && e instanceof Error)
      e.message += ` (the kept ${earlier.kind} of an earlier run was finished first: epoch ${earlier.epoch})`;
    throw e;
  });
  a.keystore.remove(pending);
  return { reply, route, body, resumed: false, ...(earlier ? { earlier } : {}) };
}

/**
 * A key update kept from an earlier run whose reply was lost, of the other kind than this run's,
 * finished before this run's request: what it asked (`count` RNs, or the PIDs to `evict`) and what
 * it made.
 */
export type KeptUpdate =
  | { kind: "add"; count: number; epoch: number; evicted: Uint8Array[]; added: Uint8Array[] }
  | { kind: "rekey"; evict: Uint8Array[]; epoch: number; evicted: Uint8Array[]; added: Uint8Array[] };

/**
 * The user asks the MSRP to evict the members the trust layer flagged (all of them, or the PIDs
 * given) and renew the key; the MSRP records the new epoch on-chain. A rekey kept from an earlier
 * run whose reply was lost is finished instead ({@link sendUpdate}: `resumed`, and `evict` names
 * what that request asked); a kept add is finished first (`earlier`).
 * @returns the new epoch, the evicted and the added PIDs, whether this answers a kept request, the
 *   PIDs the answered request named, and the kept add finished before it, if any
 */
export async function rekeyRemote(a: {
  msrpUrl: string;
  user: string;
  groupId: Uint8Array;
  evict?: Uint8Array[];
  keystore: Keystore;
  dep: GroupDeployment;
  retry?: RetryPolicy;
}): Promise<{ epoch: number; evicted: Uint8Array[]; added: Uint8Array[]; resumed: boolean; evict: Uint8Array[]; earlier?: KeptUpdate }> {
  const sent = await sendUpdate(a, Route.GroupRekey, (epoch) => encodeRekeyRequest({ groupId: a.groupId, epoch, evict: a.evict ?? [] }));
  const done = decodeRekeyDone(sent.reply);
  const on = await a.dep.groups.view(a.groupId);
  if (on.epoch !== done.epoch)
    throw new RsmsRejectedError("INVALID_STATE", `rekey: the MSRP says epoch ${done.epoch}, the chain ${on.epoch}`);
  const evict = decodeRekeyRequest(sent.body).evict;
  return { ...done, resumed: sent.resumed, evict, ...(sent.earlier ? { earlier: sent.earlier } : {}) };
}

/**
 * The user asks the MSRP to add `count` fresh joined RNs to her group (evicting the members in S_RN); the MSRP
 * records the new epoch on-chain and seals the new key to every party (`takePart` opens it). An add
 * kept from an earlier run whose reply was lost is finished instead, with the count it asked
 * ({@link sendUpdate}: `resumed`, and `count` is what that request asked; s18-redg G4: the next
 * run used to add again); a kept rekey is finished first (`earlier`).
 * @returns the new epoch, the evicted PIDs (members flagged or in S_RN, replaced by as many fresh
 *   RNs, or the whole group when evicting them alone would link pseudonyms), the added PIDs, whether
 *   this answers a kept request, the count the answered request asked, and the kept rekey finished
 *   before it, if any
 * @throws ServiceError(NO_FRESH_RN) when fewer RNs can join than asked (nothing changes)
 */
export async function addRemote(a: {
  msrpUrl: string;
  user: string;
  groupId: Uint8Array;
  count: number;
  keystore: Keystore;
  dep: GroupDeployment;
  retry?: RetryPolicy;
}): Promise<{ epoch: number; evicted: Uint8Array[]; added: Uint8Array[]; resumed: boolean; count: number; earlier?: KeptUpdate }> {
  const sent = await sendUpdate(a, Route.GroupAdd, (epoch) => encodeGroupAdd({ groupId: a.groupId, epoch, count: a.count }));
  const count = decodeGroupAdd(sent.body).count;
  const done = decodeRekeyDone(sent.reply);
  const on = await a.dep.groups.view(a.groupId);
  // members flagged or in S_RN are evicted by the same update, and replaced (h15-red H1)
  if (on.epoch !== done.epoch || done.added.length !== count + done.evicted.length)
    throw new RsmsRejectedError(
      "INVALID_STATE",
      `add: the MSRP says epoch ${done.epoch} with ${done.added.length} added, the chain epoch ${on.epoch}`,
    );
  return { ...done, resumed: sent.resumed, count, ...(sent.earlier ? { earlier: sent.earlier } : {}) };
}

// ------------------------------------------------------------------ the channel

const pendingSend = (name: string, gid: Uint8Array) => `rsms-send-${name}-${toHex(gid).slice(2, 18)}`;
const readCursor = (name: string, gid: Uint8Array) => `rsms-read-${name}-${toHex(gid).slice(2, 18)}`;

/**
 * A party seals a service message under the group's current key and sends it through the MSRP's
 * mailbox. The sealed message (with its sequence number) is kept in the party's keystore before it
 * is sent: a send that failed is sent again, the same bytes, before the next one (the mailbox
 * stores a message once and answers a copy with its place).
 * A message left pending that can no longer be delivered (the group moved to a new epoch, or the
 * sender left it, since) is not sent under the new key (its readers may differ) and is reported in
 * `dropped`, never lost silently.
 * @returns the epoch and the message's index in the epoch's log, its size in bytes, and the
 *   pending message dropped before it (its epoch and why), if any
 * @throws ServiceError (NOT_A_MEMBER for a party evicted since, STALE_EPOCH when the group moved on)
 */
export async function sendRemote(a: {
  msrpUrl: string;
  name: string;
  groupId: Uint8Array;
  message: Uint8Array;
  keystore: Keystore;
  dep: GroupDeployment;
  retry?: RetryPolicy;
}): Promise<{ epoch: number; index: number; bytes: number; dropped?: { epoch: number; reason: string } }> {
  const info = await msrpInfo(a.msrpUrl, a.dep);
  const me = await groupParty(a.keystore, a.name, a.groupId, a.dep);
  const pend = pendingSend(a.name, a.groupId);
  let dropped: { epoch: number; reason: string } | undefined;
  const post = async (ct: Uint8Array, epoch: number) => {
    const env = sealEnvelope(request(Route.GroupSend, a.dep, ct, groupSession(a.groupId, epoch)), { scheme: Scheme.Schnorr, sk: me.sk });
    return decodeGroupSent(await call(a.msrpUrl, "/v1/group/send", Route.GroupSend, env, a.dep, info.account, a.retry));
  };
  if (a.keystore.exists(pend)) {
    const p = a.keystore.load(pend) as { ct: string; epoch: number };
    await post(fromHex(p.ct), p.epoch).catch((e) => {
      // the group moved on, or the sender left it: that message can no longer be delivered (reported)
      if (!(e instanceof ServiceError && (e.reason === "STALE_EPOCH" || e.reason === "NOT_A_MEMBER"))) throw e;
      dropped = { epoch: p.epoch, reason: e.reason };
    });
    a.keystore.remove(pend);
  }
  const epoch = me.party.currentEpoch(a.groupId);
  const ct = me.party.seal(a.groupId, a.message);
  saveParty(a.keystore, me); // the sequence number is spent before the message leaves
  a.keystore.create(pend, { ct: toHex(ct), epoch });
  const sent = await post(ct, epoch);
  a.keystore.remove(pend);
  return { ...sent, bytes: ct.length, ...(dropped ? { dropped } : {}) };
}

/**
 * A party reads the group's service traffic it has not read yet, through the MSRP's mailbox, and
 * opens each message with its epoch's key (the sender's signature, the sequence number and the
 * AEAD are checked by the GroupParty agent). Where it stopped is kept in its keystore with the
 * agent's record.
 *
 * A key update does not drop unread traffic (red-team finding C1): before the current epoch, the
 * party drains every retired epoch it holds the key of, from where its cursor stopped (from 0 for
 * an epoch it never read), with `openArchived`. A retired epoch's log is closed (the MSRP takes no
 * send for an epoch the group left) and at most MAX_CHANNEL_LOG long, so the drain is bounded by
 * the epochs whose keys the party holds. Within a drained epoch a sender's sequence numbers must
 * rise (REPLAYED otherwise); messages read before the update were checked by `open` then.
 * An epoch the party was a party of but whose key it never took (it was away through two updates)
 * is taken first: the MSRP's mailbox keeps the newest MAX_RETIRED_UPDATES updates, each sealed to
 * its parties, and the key is checked against that epoch's Q on chain (`acceptRetiredRekey`). One
 * the mailbox no longer keeps cannot be opened: its messages come back in `refused` as NO_KEY, so
 * the loss is reported, never silent (s18-redg G3).
 * @returns the current epoch and the messages opened (epoch, index, sender PID, sequence number,
 *   plaintext) and refused (epoch, index, reason), retired epochs first
 */
export async function readRemote(a: {
  msrpUrl: string;
  name: string;
  groupId: Uint8Array;
  keystore: Keystore;
  dep: GroupDeployment;
  retry?: RetryPolicy;
}): Promise<{
  epoch: number;
  messages: { epoch: number; index: number; sender: string; seq: bigint; plaintext: Uint8Array }[];
  refused: { epoch: number; index: number; reason: string }[];
}> {
  const info = await msrpInfo(a.msrpUrl, a.dep);
  const me = await groupParty(a.keystore, a.name, a.groupId, a.dep);
  const epoch = me.party.currentEpoch(a.groupId);
  const cur = readCursor(a.name, a.groupId);
  const saved = a.keystore.exists(cur) ? (a.keystore.load(cur) as { epoch: number; next: number }) : undefined;
  const messages: { epoch: number; index: number; sender: string; seq: bigint; plaintext: Uint8Array }[] = [];
  const refused: { epoch: number; index: number; reason: string }[] = [];

  /**
   * Reads one epoch's log from `from` on; live: the current epoch (open), else a retired one
   * (openArchived); `missed`: a retired epoch whose key the party never took (s18-redg G3), each
   * message reported as refused.
   */
  const readEpoch = async (e: number, from: number, live: boolean, missed?: string): Promise<number> => {
    let next = from;
    const last = new Map<string, bigint>(); // a retired epoch's sequence numbers, per sender
    for (;;) {
      const body = encodeGroupRead({ groupId: a.groupId, pid: me.pid, epoch: e, from: next });
      const env = sealEnvelope(request(Route.GroupRead, a.dep, body, groupSession(a.groupId, e)), { scheme: Scheme.Schnorr, sk: me.sk });
      let page: ReturnType<typeof decodeGroupChannel>;
      try {
        page = decodeGroupChannel(await call(a.msrpUrl, "/v1/group/read", Route.GroupRead, env, a.dep, info.account, a.retry));
      } catch (x) {
        // a retired epoch nobody wrote in has no log at the MSRP: nothing to drain
        if (!live && x instanceof ServiceError && x.reason === "STALE_EPOCH") return next;
        // an epoch missed because the party was not one of its parties (evicted, then cleared and added again)
        if (missed && x instanceof ServiceError && x.reason === "NOT_A_MEMBER") return next;
        throw x;
      }
      if (page.epoch !== e || page.from !== next)
        throw new RsmsRejectedError(
          "INVALID_STATE",
          `read: asked epoch ${e} from ${next}, the MSRP answered epoch ${page.epoch} from ${page.from}`,
        );
      for (const [i, m] of page.messages.entries()) {
        if (equalBytes(decodeChannel(m).sender, me.pid)) continue; // its own message
        if (missed) {
          refused.push({ epoch: e, index: next + i, reason: `NO_KEY: ${a.name} never took the key of epoch ${e} (${missed})` });
          continue;
        }
        try {
          const o = live ? me.party.open(m) : me.party.openArchived(m);
          if (!live) {
            if (o.seq <= (last.get(o.sender) ?? 0n))
              throw new GroupAuthenticationError(
                "REPLAYED",
                `${a.name}: sequence number ${o.seq} from ${o.sender} is not above its last in epoch ${e}`,
              );
            last.set(o.sender, o.seq);
          }
          messages.push({ epoch: e, index: next + i, sender: o.sender, seq: o.seq, plaintext: o.plaintext });
        } catch (x) {
          refused.push({ epoch: e, index: next + i, reason: (x as { failure?: string }).failure ?? (x as Error).message });
        }
      }
      next += page.messages.length;
      if (page.messages.length === 0 || next >= page.total) return next;
    }
  };

  /**
   * The key of a retired epoch the party missed (s18-redg G3), from the MSRP's mailbox (it keeps
   * the newest MAX_RETIRED_UPDATES updates) and checked against that epoch's Q on chain.
   * @returns undefined once the party holds it, else why not (the mailbox keeps no update of that
   *   epoch, the party was not one of its parties, or the update was refused: a bad retired update
   *   costs that epoch's traffic, reported, never the reads of the others)
   */
  const takeRetired = async (e: number): Promise<string | undefined> => {
    const body = encodeGroupFetch({ groupId: a.groupId, pid: me.pid, epoch: e });
    const env = sealEnvelope(request(Route.GroupFetch, a.dep, body, groupSession(a.groupId, 0)), { scheme: Scheme.Schnorr, sk: me.sk });
    let box: GroupMailbox;
    try {
      box = decodeGroupMailbox(await call(a.msrpUrl, "/v1/group/fetch", Route.GroupFetch, env, a.dep, info.account, a.retry));
    } catch (x) {
      if (x instanceof ServiceError && (x.reason === "STALE_EPOCH" || x.reason === "NOT_A_MEMBER")) return "its update was missed";
      throw x;
    }
    // a faulty mailbox's answer costs that epoch only, reported (s18-review1 L1: it aborted the whole read)
    if (box.epoch !== e || box.kind !== 1) return `its update was refused: the MSRP answered epoch ${box.epoch} of kind ${box.kind}`;
    try {
      me.party.acceptRetiredRekey(box.mine, await a.dep.groups.keyAt(a.groupId, e), box.roster);
    } catch (x) {
      if (!(x instanceof MetatrustError)) throw x;
      return `its update was refused: ${x.message.split("\n")[0]}`;
    }
    return undefined;
  };

  // retired epochs first: from the cursor's epoch (all held epochs when the party never read). An
  // epoch between the first it holds and the current one whose key it never took (two updates
  // while it was away: the mailbox's current update is the newest only) is taken from the
  // mailbox's retired updates and read; when the mailbox no longer keeps it, its traffic is
  // reported as refused, NO_KEY: never dropped silently (s18-redg G3)
  const held = me.party.epochsOf(a.groupId);
  for (let e = held[0]; e < epoch; e++)
    if (saved === undefined || e >= saved.epoch) {
      const missed = held.includes(e) ? undefined : await takeRetired(e);
      await readEpoch(e, saved?.epoch === e ? saved.next : 0, false, missed);
    }
  const next = await readEpoch(epoch, saved?.epoch === epoch ? saved.next : 0, true);
  saveParty(a.keystore, me);
  (a.keystore.exists(cur) ? a.keystore.update : a.keystore.create).call(a.keystore, cur, { epoch, next });
  return { epoch, messages, refused };
}
