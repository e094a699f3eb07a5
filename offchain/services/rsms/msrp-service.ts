/**
 * The MSRP as a service (issue 19): a thin adapter around the pure Msrp agent
 * (offchain/rsms/msrp.ts) that adds the network, persistence and the chain.
 *
 * Routes (envelopes, offchain/services/envelope.ts):
 * - `POST /v1/rpm/enrol` (RpmEnrol, signed by the RPM's account): an admitted account gets its
 *   pool created on-chain and its keys back sealed to its transport key;
 * - `POST /v1/rn/register` (RnRegister, signed by the key of a one-time enrolment token the
 *   operator issued for this RN's name out of band, `rsms:enrol-token`; offchain/services/enrolment.ts):
 *   keys and first secret back, sealed; unsigned only when the service runs with open registration;
 * - `POST /v1/join/forward` (JoinForward, signed by sk_RPM of the pool it names): the exact check,
 *   the on-chain record, an acknowledgement signed by the MSRP's account;
 * - `POST /v1/reauth/forward` (ReauthForward, signed likewise): the same for an RN moving to the
 *   pool (a'_{k+1} = H4(a_k, sk_RN) checked, PID_{k+1} recorded with kind 2);
 * - `POST /v1/rn/renew` (a RenewalRequest: PID ‖ sk_RN's signature over PID ‖ H4(a_{i,0}), in an
 *   envelope signed by sk_RN of the RN that owns the PID): a fresh a_{i,0} for an RN that has not
 *   joined, sealed to PK_RN, the same check as the in-process `Msrp.renewRn` (s17-redB B11);
 * - `POST /v1/trust/attest` (AttestRequest, signed by sk_RN of the RN that owns the PID it names,
 *   attest.ts): the EIP-712 Registration attestation the TrustManager takes for that PID (needs `trust`);
 * - `GET /v1/info`: PK_pub, the account and the registry, signed by the account (a client checks
 *   that the account holds MSRP_ROLE on the registry);
 * - with a ServiceGroupRegistry (`groups`): users and service groups, `POST /v1/user/register`,
 *   `/v1/group/request`, `/v1/group/post`, `/v1/group/fetch`, `/v1/group/rekey` (msrp-groups.ts);
 *   formations and adds are limited per user and in all per window (group-quota.ts: 429 QUOTA_EXCEEDED).
 * - Rotations: at most `rotationBudget.perRn` re-authentications of one RN are recorded per window
 *   (default 12 per hour, DEFAULT_ROTATION_BUDGET): one more is refused 422 ROTATION_BUDGET before
 *   anything is recorded (the MSRP pays for each record; s17-redB B13).
 * A background tick publishes each pool's filter when it is due (a publication that failed first:
 * its filter waits in its intent, not in the agent).
 *
 * Durability. Every state change runs under one mutex, in this order: the agent's record is
 * written (atomically, through the keystore) and a write-ahead intent is recorded before any
 * transaction; the reply is stored in the reply cache before it is sent; the intent is deleted
 * last. On start-up, before serving, each intent left by a crash is finished from what the chain
 * says ({@link MsrpService.recover}): a mined join is committed to the agent and its
 * acknowledgement cached, so the RPM's retry gets it; an unmined one is written then. An intent
 * whose recovery fails stays in the journal and is tried again in the background, and the service
 * starts: only what depends on it waits (a join's RN: 503, retried by the RPM; a publication's
 * pool: its next filter).
 *
 * Join batching (opt-in, `batch`, `rsms:serve msrp --batch-ms`): a forward is verified and its
 * intent journaled under the mutex as above, then it waits in the open batch; the batch closes
 * `ms` after its first forward or at `max` forwards, and one `recordJoins` transaction records
 * them all (under the mutex), after which each is committed and answered. Each join keeps its
 * own intent, so recovery is the same per-join check of the chain. A join the chain would refuse
 * (its PID or tag already recorded) is refused alone before the batch is sent; if the batch
 * transaction still reverts, its joins are written one by one.
 */
import fs from "fs";
import path from "path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { Wallet } from "ethers";
import { equalBytes, fromHex, toBytes, toHex } from "../../crypto/bytes";
import { decodePoint, encodeScalar } from "../../crypto/group";
import type { ContentStore } from "../../storage/content-store";
import type { Keystore } from "../../storage/keystore";
import { DEFAULT_ROTATION_BUDGET, Msrp, type JoinRecord, type RotationBudget, type VerifiedJoin } from "../../rsms/msrp";
import { RsmsRejectedError, AgentStateError } from "../../rsms/errors";
import { MetatrustError } from "../../errors";
import { Role, decodeJoinForward, decodeReauthForward, decodeRegistration } from "../../rsms/messages";
import { poolEncryptionKey } from "../../rsms/params";
import { MAX_JOINS_PER_TX, type RsmsLedger } from "../../rsms/ledger";
import { syncRevocations } from "../../rsms/revocations";
import { BloomFilter } from "../../crypto/bloom";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealReply, verifyEnvelope, EnvelopeError, type Envelope } from "../envelope";
import { ReplyCache, DEFAULT_WINDOW_MS } from "../replies";
import { Journal, Mutex, StalledIntents, type Intent, type StalledIntent } from "../journal";
import { writeFileAtomic } from "../../storage/fs-atomic";
import { faultPoint } from "../faults";
import { accountSigner, fromAccount } from "../common";
import { startService, type RunningService, type ServiceConfig } from "../server";
import { decodeRenewal, decodeRnRegister, decodeRpmEnrol, encodeJoinAck, registrationBinding, sealRnCreds, sealRpmCreds } from "./wire";
import type { GroupLedger } from "../../rsms/group-flows";
import type { TrustManager } from "../../../typechain-types";
import { GroupDesk, type AutoUpdate } from "./msrp-groups";
import type { GroupPolicy } from "./group-quota";
import { AttestationError, MAX_ATTEST_TTL_SEC, decodeAttestRequest, signRegistration } from "./attest";
import { EnrolmentBook, EnrolmentTokenError, loadEnrolmentToken, type EnrolKind, type TokenUse } from "../enrolment";
import { FolderHold } from "../folder-lock";

/** The MSRP's keystore record (the same one `rsms:setup` creates). */
export const MSRP_RECORD = "rsms-msrp";

/** Which accounts may enrol as the RPM of which pool: "any", or pool id -> address. */
export type Admission = "any" | Map<number, string>;

/** Parses `--admit-rpm`: "any" or "1=0xabc...,2=0xdef...". */
export function parseAdmission(s: string): Admission {
  if (s.trim() === "any") return "any";
  const m = new Map<number, string>();
  for (const part of s.split(",").filter((x) => x.trim())) {
    const [p, a] = part.split("=").map((x) => x.trim());
    if (!/^\d+$/.test(p ?? "") || Number(p) < 1 || !/^0x[0-9a-fA-F]{40}$/.test(a ?? ""))
      throw new AgentStateError(`--admit-rpm: "${part}" is not <pool>=<address>`);
    m.set(Number(p), a.toLowerCase());
  }
  return m;
}

/** Join batching: forwards within `ms` of a batch's first (at most `max`) share one recordJoins transaction. */
export type JoinBatching = { ms: number; max: number };

/** Default `--batch-max`. */
export const DEFAULT_BATCH_MAX = 32;
/** Bounds of `--batch-ms` (a forward waits at most this long for its batch) and `--batch-max` (the gas of one transaction: MAX_JOINS_PER_TX). */
export const BATCH_MS_MAX = 10_000;
export const BATCH_MAX_MAX = MAX_JOINS_PER_TX;

/**
 * Checks `--batch-ms` / `--batch-max`: undefined or 0 ms is off (every join its own recordJoin).
 * @throws AgentStateError naming the flag
 */
export function parseBatching(ms: number | undefined, max: number | undefined): JoinBatching | undefined {
  if (ms !== undefined && !(Number.isInteger(ms) && ms >= 0 && ms <= BATCH_MS_MAX))
    throw new AgentStateError(`--batch-ms: ${ms} is not a whole number of milliseconds in [0, ${BATCH_MS_MAX}]`);
  if (max !== undefined && !(Number.isInteger(max) && max >= 1 && max <= BATCH_MAX_MAX))
    throw new AgentStateError(`--batch-max: ${max} is not a whole number in [1, ${BATCH_MAX_MAX}]`);
  if (!ms) {
    if (max !== undefined) throw new AgentStateError("--batch-max: batching is off (give --batch-ms too)");
    return undefined;
  }
  return { ms, max: max ?? DEFAULT_BATCH_MAX };
}

/** A verified, journaled join waiting in the open batch for its transaction. */
type Queued = { v: VerifiedJoin; reply: Uint8Array; resolve: (r: Uint8Array) => void; reject: (e: unknown) => void };

/** What the MSRP service needs. */
export type MsrpServiceDeps = {
  keystore: Keystore;
  /** the service's folder for its journal and reply cache */
  dir: string;
  ledger: RsmsLedger;
  store: ContentStore;
  wallet: Wallet;
  chainId: bigint;
  registry: string;
  admission: Admission;
  /**
   * Development only: RNs and users register without an enrolment token (as before F5 was fixed).
   * Default false: every registration needs a token the operator issued (`rsms:enrol-token`).
   */
  openRegistration?: boolean;
  /** the ServiceGroupRegistry through the MSRP's account: serves users and service groups (msrp-groups.ts) when given */
  groups?: GroupLedger;
  /** the TrustManager (read): the members a rekey may evict are the ones it flags */
  trust?: TrustManager;
  /** with groups: the per-user quota and global budget of formations and adds (group-quota.ts; default DEFAULT_GROUP_POLICY) */
  groupPolicy?: GroupPolicy;
  /** the group quota's clock (ms; tests move it; default Date.now) */
  clock?: () => number;
  /**
   * the limit on recorded rotations per RN (s17-redB B13: the MSRP pays for each one; default
   * DEFAULT_ROTATION_BUDGET, 12 per RN per hour; `rsms:serve msrp --rotation-budget`, `--rotation-window`)
   */
  rotationBudget?: RotationBudget;
  /** filter publication tick (ms); 0: off */
  tickMs?: number;
  /**
   * flag sync tick (ms; with groups and trust): RNs the trust layer flags join S_RN, and leave it
   * when the flag is lifted (GroupDesk.syncTrustFlags, h11-red2 G3); 0 or undefined: off
   */
  flagSyncMs?: number;
  /**
   * with the flag sync: each sync also makes the key update of every group with a member in S_RN,
   * where the sync puts the RNs the trust layer flags (GroupDesk.evictFlaggedMembers: evicted, replaced, fresh key; the MSRP pays the
   * gas, the group quota does not count it); default true (rsms-group.md §8 "automatic update");
   * false: the flagged member is only cut off the mailbox until the user's `group:rekey`
   */
  autoEvict?: boolean;
  /** join batching (recordJoins); undefined: off, every join its own recordJoin (see {@link parseBatching}) */
  batch?: JoinBatching;
  /** how often an intent whose recovery failed at start-up is tried again (ms; default STALLED_RETRY_MS) */
  stalledRetryMs?: number;
  windowMs?: number;
  log?: (line: string) => void;
};

const nowSec = () => Math.floor(Date.now() / 1000);

/** A revocation sync with nothing to change. */
const NO_REVOCATIONS: Awaited<ReturnType<typeof syncRevocations>> = { revoked: [], reinstated: [], failed: [] };

/** A journaled intent whose recovery failed, with what it holds back (a join: its RN's joins). */
type Stalled = StalledIntent & { rn?: string };

/** The MSRP service. */
export class MsrpService {
  /** Its data folder's lock (one process per folder: folder-lock.ts). */
  private readonly folder = new FolderHold("msrp");
  /** the agent, from the record as it stands once the folder is held ({@link startLocked}) */
  private agent: Msrp;
  /** the enrolment tokens used (kept in the MSRP's record, written with the registrations) */
  private book: EnrolmentBook;
  readonly audience: Uint8Array;
  private readonly journal: Journal;
  private readonly cache: ReplyCache;
  private readonly mutex = new Mutex();
  private readonly signer;
  /** the service-group desk (when the deployment gave a ServiceGroupRegistry) */
  readonly desk?: GroupDesk;
  private timer?: NodeJS.Timeout;
  private flagTimer?: NodeJS.Timeout;
  /** the flag sync the tick started and that has not settled (the next tick skips while it runs) */
  private syncing?: Promise<void>;
  /** every flag sync not settled, the tick's or a caller's (stop() waits for them: s19-review1 R4) */
  private readonly syncs = new Set<Promise<unknown>>();
  private running?: RunningService;
  /** intents whose recovery failed at start-up, by id, tried again in the background ({@link finishStalled}) */
  private readonly stalled: StalledIntents<Stalled>;
  /** batching: the batch collecting forwards, and the RNs with a join in a batch not yet committed */
  private open?: { items: Queued[]; timer: NodeJS.Timeout };
  private readonly batched = new Set<string>();

  constructor(private readonly d: MsrpServiceDeps) {
    if (d.batch) parseBatching(d.batch.ms, d.batch.max);
    [this.agent, this.book] = this.load();
    this.audience = audienceOf(d.chainId, d.registry, "msrp");
    this.journal = new Journal(path.join(d.dir, "journal"));
    this.stalled = new StalledIntents<Stalled>(this.journal, (l) => this.log(l));
    this.cache = new ReplyCache(path.join(d.dir, "replies"), d.windowMs ?? DEFAULT_WINDOW_MS);
    this.signer = accountSigner(d.wallet);
    this.cache.rebindWith(this.signer);
    // the desk shares the agent: the one loaded again under the lock at the start is the desk's too
    const agent = () => this.agent;
    if (d.groups)
      this.desk = new GroupDesk({
        get msrp() {
          return agent();
        },
        groups: d.groups,
        trust: d.trust,
        dir: path.join(d.dir, "groups"),
        audience: this.audience,
        journal: this.journal,
        cache: this.cache,
        mutex: this.mutex,
        save: () => this.save(),
        admitToken: (env, kind, tokenId, name) => this.admitToken(env, kind, tokenId, name),
        reply: (req, raw, body) => this.reply(req, raw, body),
        log: (l) => this.log(l),
        ...(d.groupPolicy ? { policy: d.groupPolicy } : {}),
        ...(d.clock ? { clock: d.clock } : {}),
      });
  }

  private log(s: string): void {
    (this.d.log ?? ((x: string) => process.stdout.write(x + "\n")))(s);
  }

  /** The MSRP agent (shared with the group desk). */
  get msrp(): Msrp {
    return this.agent;
  }

  /** The agent and the used tokens, from the keystore. */
  private load(): [Msrp, EnrolmentBook] {
    const { enrolment, ...rec } = this.d.keystore.load(MSRP_RECORD) as { enrolment?: Record<string, TokenUse> };
    const m = Msrp.fromRecord(rec as never);
    m.setRotationBudget(this.d.rotationBudget ?? DEFAULT_ROTATION_BUDGET);
    return [m, new EnrolmentBook(enrolment ?? {})];
  }

  /** The agent's record and the used tokens, in one atomic write. */
  private save(): void {
    this.d.keystore.update(MSRP_RECORD, { ...this.msrp.toRecord(), enrolment: this.book.toRecord() });
  }

  /**
   * Checks a registration's envelope against its enrolment token (outside the mutex: a token's
   * record never changes), and returns what runs under the mutex: the single-use check, then,
   * once the registration succeeded, the consumption (written by the next save, with it).
   * With open registration, an envelope naming no token is unsigned and admitted.
   * @throws EnrolmentTokenError(TOKEN_REQUIRED | TOKEN_UNKNOWN), EnvelopeError(BAD_SIGNATURE)
   */
  private admitToken(
    env: ReturnType<typeof openEnvelope>,
    kind: EnrolKind,
    tokenId: Uint8Array,
    name: string,
  ): { check(): void; consume(): void; rid?: string } {
    const route = env.route;
    if (tokenId.every((x) => x === 0)) {
      if (!this.d.openRegistration)
        throw new EnrolmentTokenError(
          "TOKEN_REQUIRED",
          `register: ${kind} "${name}" presents no enrolment token (the operator issues one)`,
        );
      verifyEnvelope(env, { kind: Kind.Request, route, audience: this.audience, sender: { scheme: Scheme.None } });
      return { check: () => undefined, consume: () => undefined };
    }
    const rec = loadEnrolmentToken(this.d.keystore, tokenId);
    const want = { service: "msrp" as const, kind, identity: name };
    // unknown or another identity's token: refused before the signature is looked at
    const pk = this.book.admit(rec, tokenId, want, env.body, rec ? rec.issuedAt : 0);
    verifyEnvelope(env, { kind: Kind.Request, route, audience: this.audience, sender: { scheme: Scheme.Schnorr, pk } });
    // an RN's token names the real identity its registration must open to (s17-redB B6); one issued
    // before tokens did names none: the operator issues another
    if (kind === "rn" && !rec!.rid)
      throw new EnrolmentTokenError(
        "TOKEN_WRONG_IDENTITY",
        `register: the token of RN "${name}" names no real identity (issued before s18): the operator issues another (rsms:enrol-token --rid)`,
      );
    return {
      rid: rec!.rid,
      check: () => void this.book.admit(rec, tokenId, want, env.body, nowSec()),
      consume: () => this.book.consume(tokenId, env.body, nowSec()),
    };
  }

  private reply(req: Pick<Envelope, "route" | "session" | "requestId">, raw: Uint8Array, body: Uint8Array): Uint8Array {
    return sealReply(req, raw, this.audience, body, this.signer);
  }

  /** The signed public description (GET /v1/info). */
  async info(): Promise<Record<string, unknown>> {
    const pkPub = toHex(this.msrp.pkPubBytes);
    const account = this.d.wallet.address;
    const digest = keccak_256(
      toBytes(`metatrust-msrp-info|${this.d.chainId}|${this.d.registry.toLowerCase()}|${pkPub}|${account.toLowerCase()}`),
    );
    const sig = toHex(this.signer.scheme === Scheme.Ecdsa ? this.signer.sign(digest) : new Uint8Array());
    return { service: "msrp", pkPub, account, registry: this.d.registry, chainId: this.d.chainId.toString(), sig };
  }

  // ---------------------------------------------------------------- RPM enrolment

  private async enrolRpm(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeRpmEnrol(env.body);
    verifyEnvelope(env, { kind: Kind.Request, route: Route.RpmRegister, audience: this.audience, sender: fromAccount(m.account) });
    const reg = decodeRegistration(m.registration);
    if (reg.role !== Role.RPM) throw new EnvelopeError("MALFORMED", `enrolRpm: registration role ${reg.role} is not RPM`);
    const admitted = this.d.admission === "any" || this.d.admission.get(reg.poolId) === m.account.toLowerCase();
    if (!admitted)
      throw new RsmsRejectedError("MSRP_REJECTED", `enrolRpm: account ${m.account} is not admitted as the RPM of pool ${reg.poolId}`);
    return this.cache.once(
      env.requestId,
      env.issuedAt,
      raw,
      () =>
        this.mutex.run(async () => {
          // a retry of this very request whose chain write failed after its intent (h11-red R4):
          // finished from the intent. Run again, registerRpm would refuse the RPM it registered
          // (409), and the client, taking that for a final answer, would drop the key its reply is
          // sealed to: the pool's keys lost, its id burned once recovery created it
          const left = this.journal.pending().find((i) => i.id === `pool-${reg.poolId}` && i.data.request === toHex(raw));
          if (left) {
            if (!(await this.finishPool(left.data as Record<string, string & number>)))
              throw new RsmsRejectedError("INVALID_STATE", `enrolRpm: pool ${reg.poolId} is on-chain with another RPM`);
            this.journal.done(left.id);
            return fromHex(String(left.data.reply));
          }
          if (await this.d.ledger.pool(reg.poolId))
            throw new RsmsRejectedError("INVALID_STATE", `enrolRpm: pool ${reg.poolId} already exists on-chain`);
          const creds = this.msrp.registerRpm(
            `rpm-${reg.poolId}`,
            m.registration,
            registrationBinding("RPM", m.account.toLowerCase(), m.transport),
          );
          const body = sealRpmCreds(this.msrp.pkPubBytes, m.transport, reg.poolId, env.requestId, {
            sk: creds.sk,
            pid: creds.pid,
            pkRpm: creds.pkRpm,
            filterTtlSec: this.msrp.policy.ttlSec ?? 7 * 24 * 3600,
          });
          const reply = this.reply(env, raw, body);
          const id = `pool-${reg.poolId}`;
          this.journal.put(id, "createPool", {
            poolId: reg.poolId,
            account: m.account,
            pid: toHex(creds.pid),
            pkRpm: toHex(this.msrp.rpmOfPool(reg.poolId)!.pk),
            requestId: toHex(env.requestId),
            request: toHex(raw),
            reply: toHex(reply),
          });
          this.save();
          await this.d.ledger.createPool(reg.poolId, m.account, creds.pid, creds.pkRpm);
          faultPoint("msrp:after-chain-write");
          this.cache.store(env.requestId, raw, reply, true);
          this.journal.done(id);
          this.log(`pool ${reg.poolId}: created for RPM ${m.account}`);
          return reply;
        }),
      // kept for good: sk_RPM exists nowhere else, and the pool is on-chain
      true,
    );
  }

  /**
   * Finishes an RPM enrolment from its intent: createPool unless the pool is on-chain, then its
   * reply cached for good.
   * @returns false if the pool is on-chain with another RPM (nothing done)
   */
  private async finishPool(d: Record<string, string & number>): Promise<boolean> {
    const on = await this.d.ledger.pool(d.poolId);
    if (!on) await this.d.ledger.createPool(d.poolId, d.account, fromHex(d.pid, 32), decodePoint(fromHex(d.pkRpm, 33)));
    else if (!equalBytes(on.pidRpm, fromHex(d.pid, 32))) return false;
    this.cache.store(fromHex(d.requestId), fromHex(d.request), fromHex(d.reply), true);
    return true;
  }

  // ---------------------------------------------------------------- RN registration

  private async registerRn(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    if (env.route !== Route.RnRegister)
      throw new EnvelopeError(
        "WRONG_ROUTE",
        `registerRn: signed for route 0x${env.route.toString(16)}, not 0x${Route.RnRegister.toString(16)}`,
      );
    const m = decodeRnRegister(env.body);
    const token = this.admitToken(env, "rn", m.tokenId, m.name);
    const id = `rn-${toHex(env.requestId).slice(2)}`;
    const out = await this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        token.check();
        // the same registration again under another request id (its first reply was lost and the
        // retry came after the freshness window, or a relay delivered a copy first): the same keys,
        // sealed to the same transport key, and no second effect
        const again = this.sameRegistration(m.name, env.body) ? this.msrp.issuedRnCredentials(m.name) : undefined;
        if (again) return this.reply(env, raw, sealRnCreds(this.msrp.pkPubBytes, m.transport, env.requestId, again));
        const c = this.msrp.registerRn(m.name, m.registration, nowSec(), registrationBinding("RN", m.name, m.transport), token.rid);
        const reply = this.reply(env, raw, sealRnCreds(this.msrp.pkPubBytes, m.transport, env.requestId, c));
        // the reply in the journal before the record: a crash after the record and before the reply
        // is cached would leave a registered RN whose retry is refused (its name is taken) and whose
        // keys are lost; recovery caches the reply instead, so the retry gets it
        this.journal.put(id, "registerRn", {
          name: m.name,
          pid: toHex(c.pid),
          requestId: toHex(env.requestId),
          request: toHex(raw),
          reply: toHex(reply),
        });
        writeFileAtomic(this.registrationFile(m.name), toHex(keccak_256(env.body)), 0o600);
        token.consume();
        this.save();
        faultPoint("msrp:after-registration");
        return reply;
      }),
    );
    this.journal.done(id);
    return out;
  }

  /** `registrations/<name>.reg`: keccak256 of the RnRegister body the RN was registered by. */
  private registrationFile(name: string): string {
    return path.join(this.d.dir, "registrations", `${name}.reg`);
  }

  /** Whether `body` is the very registration request (name, transport key, sealed RID) the RN was registered by. */
  private sameRegistration(name: string, body: Uint8Array): boolean {
    try {
      return fs.readFileSync(this.registrationFile(name), "utf8") === toHex(keccak_256(body));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
  }

  // ---------------------------------------------------------------- joins

  private async forwardJoin(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const fwd = decodeJoinForward(env.body);
    this.checkForwarder("forwardJoin", env, Route.JoinForward, fwd.poolId);
    return this.commitForward(env, raw, () => this.msrp.verifyJoin(env.body, nowSec()));
  }

  private async forwardReauth(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const fwd = decodeReauthForward(env.body);
    this.checkForwarder("forwardReauth", env, Route.ReauthForward, fwd.poolId);
    return this.commitForward(env, raw, () => this.msrp.verifyReauth(env.body, { now: nowSec() }));
  }

  /** The envelope of a forward must be signed by sk_RPM of the pool its body names. */
  private checkForwarder(fn: string, env: ReturnType<typeof openEnvelope>, route: number, poolId: number): void {
    const rpm = this.msrp.rpmOfPool(poolId);
    if (!rpm) throw new RsmsRejectedError("MSRP_REJECTED", `${fn}: unknown pool ${poolId}`);
    const pk = poolEncryptionKey(this.msrp.params, decodePoint(rpm.pk), rpm.pid);
    verifyEnvelope(env, { kind: Kind.Request, route, audience: this.audience, sender: { scheme: Scheme.Schnorr, pk } });
  }

  /**
   * A verified join or re-authentication, once: the intent, the on-chain record, the agent's
   * commit, the acknowledgement (cached before it is sent).
   */
  private async commitForward(env: ReturnType<typeof openEnvelope>, raw: Uint8Array, verify: () => VerifiedJoin): Promise<Uint8Array> {
    if (this.d.batch) return this.batchForward(env, raw, verify);
    const out = await this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        const v = verify();
        this.holdBack(v);
        const reply = this.reply(env, raw, encodeJoinAck(v.record));
        const id = `join-${toHex(v.record.pid).slice(2)}`;
        this.journal.put(id, "join", { ...verifiedToJson(v), requestId: toHex(env.requestId), request: toHex(raw), reply: toHex(reply) });
        await this.writeJoin(v.record);
        faultPoint("msrp:after-chain-write");
        this.msrp.commitJoin(v);
        this.save();
        return reply;
      }),
    );
    this.journal.done(`join-${decodeAckPid(out)}`);
    return out;
  }

  /**
   * {@link commitForward} with batching: verified and journaled under the mutex, then queued; the
   * reply comes once the batch's transaction is mined and the join committed ({@link flush}).
   */
  private async batchForward(env: ReturnType<typeof openEnvelope>, raw: Uint8Array, verify: () => VerifiedJoin): Promise<Uint8Array> {
    const out = await this.cache.once(env.requestId, env.issuedAt, raw, async () => {
      const { wait } = await this.mutex.run(async () => {
        const v = verify();
        this.holdBack(v);
        // the agent's state changes only when a join is committed: a second forward for an RN whose
        // join waits in a batch would pass the check again
        if (this.batched.has(v.rn))
          throw new RsmsRejectedError("MSRP_REJECTED", `forward: a join of ${toHex(v.record.pid)}'s RN is already being recorded`);
        const reply = this.reply(env, raw, encodeJoinAck(v.record));
        const id = `join-${toHex(v.record.pid).slice(2)}`;
        this.journal.put(id, "join", { ...verifiedToJson(v), requestId: toHex(env.requestId), request: toHex(raw), reply: toHex(reply) });
        this.batched.add(v.rn);
        return { wait: this.enqueue(v, reply) };
      });
      return wait;
    });
    this.journal.done(`join-${decodeAckPid(out)}`);
    return out;
  }

  /**
   * Refuses, for now, a join that depends on an intent whose recovery failed (h11-fix3): its RN's
   * own join still being finished (the RPM's retry of that forward, or a new join of the RN).
   * SERVICE_UNREACHABLE (503): the RPM retries it, and the RN keeps its pending join; once the
   * intent is finished, the retry gets the journaled join's reply. (A pool whose creation is
   * stalled has no RPM that could forward yet: its enrolment reply is cached only once the pool is
   * created; its filter publication fails and is held back by publishDue's own rule.)
   */
  private holdBack(v: VerifiedJoin): void {
    for (const [id, st] of this.stalled.entries())
      if (st.kind === "join" && st.rn === v.rn)
        throw new MetatrustError(
          "SERVICE_UNREACHABLE",
          `forward: ${v.rn}'s join waits for intent ${id} (${st.kind}), whose recovery failed (${st.error}); retry later`,
        );
  }

  /** Puts a journaled join into the open batch (opening one), closing it when full. */
  private enqueue(v: VerifiedJoin, reply: Uint8Array): Promise<Uint8Array> {
    const { ms, max } = this.d.batch!;
    return new Promise((resolve, reject) => {
      const b = (this.open ??= { items: [], timer: setTimeout(() => this.closeBatch(), ms) });
      b.items.push({ v, reply, resolve, reject });
      if (b.items.length >= max) this.closeBatch();
    });
  }

  private closeBatch(): void {
    const b = this.open;
    if (!b) return;
    this.open = undefined;
    clearTimeout(b.timer);
    void this.mutex.run(() => this.flush(b.items));
  }

  /**
   * Records a closed batch (under the mutex): each join checked against the chain (already
   * recorded as it is: kept; its PID or tag taken: refused alone), one recordJoins for the rest
   * (one by one if it reverts), then the agent's commits, one save, and the replies.
   */
  private async flush(items: Queued[]): Promise<void> {
    const settled = new Set<Queued>();
    const fail = (q: Queued, e: unknown) => {
      settled.add(q);
      q.reject(e);
    };
    try {
      // S_RN was checked when each rotation was verified; an RN that joined it while its rotation
      // waited in this batch (a flag sync, an eviction, the operator) keeps the pseudonym it was
      // flagged under: its rotation, if not on-chain yet, is refused here before anything is written
      // (s17-redB B8). One the chain holds already (a resent batch whose first transaction was mined,
      // its receipt lost) is committed: the chain's record stands, as on serveReauth's retry path,
      // and the flag follows the RN by name (session 17's final read).
      const suspicious = new Set(this.msrp.revokedRns());
      const ok: Queued[] = [];
      const write: Queued[] = [];
      const states = await Promise.all(
        items.map(async ({ v: { record: r } }) => {
          const on = await this.d.ledger.recordOf(r.pid);
          if (equalBytes(on.tag, r.tag) && on.poolId === r.poolId) return "mine";
          return !on.tag.every((x) => x === 0) || (await this.d.ledger.isTagUsed(r.tag)) ? "taken" : "free";
        }),
      );
      items.forEach((q, i) => {
        if (states[i] === "mine") ok.push(q);
        else if (states[i] === "free" && !(q.v.record.kind === 2 && suspicious.has(q.v.rn))) write.push(q);
        else if (states[i] === "free") {
          this.journal.done(`join-${toHex(q.v.record.pid).slice(2)}`);
          fail(
            q,
            new RsmsRejectedError(
              "SUSPICIOUS",
              `forward: the RN whose next pseudonym is ${toHex(q.v.record.pid)} is in S_RN: it may not rotate`,
            ),
          );
        } else {
          // the chain would refuse it (the serial path's recordJoin reverts): refused, its intent dropped
          this.journal.done(`join-${toHex(q.v.record.pid).slice(2)}`);
          fail(q, new RsmsRejectedError("MSRP_REJECTED", `forward: ${toHex(q.v.record.pid)} or its tag is already recorded on-chain`));
        }
      });
      if (write.length === 1) {
        await this.d.ledger.recordJoin(write[0].v.record);
        ok.push(write[0]);
      } else if (write.length > 1) {
        try {
          await this.d.ledger.recordJoins(write.map((q) => q.v.record));
          ok.push(...write);
        } catch (e) {
          this.log(`batch of ${write.length} joins reverted (${(e as Error).message.split("\n")[0]}): writing them one by one`);
          for (const q of write)
            try {
              await this.writeJoin(q.v.record);
              ok.push(q);
            } catch (e1) {
              fail(q, e1);
            }
        }
      }
      faultPoint("msrp:after-chain-write");
      const committed: Queued[] = [];
      for (const q of ok)
        try {
          this.msrp.commitJoin(q.v);
          committed.push(q);
        } catch (e) {
          fail(q, e);
        }
      this.save();
      for (const q of committed) {
        settled.add(q);
        q.resolve(q.reply);
      }
      if (items.length > 1) this.log(`batch: ${committed.length} of ${items.length} joins recorded`);
    } catch (e) {
      for (const q of items) if (!settled.has(q)) fail(q, e);
    } finally {
      for (const q of items) this.batched.delete(q.v.rn);
    }
  }

  /** recordJoin unless the chain already holds exactly this record (a recovery path). */
  private async writeJoin(r: JoinRecord): Promise<void> {
    const on = await this.d.ledger.recordOf(r.pid);
    if (equalBytes(on.tag, r.tag) && on.poolId === r.poolId) return;
    await this.d.ledger.recordJoin(r);
  }

  // ---------------------------------------------------------------- trust registration

  /** The later of the wall clock and the latest block's timestamp (unix seconds). */
  private async chainNow(): Promise<number> {
    const block = await this.d.wallet.provider?.getBlock("latest");
    return Math.max(nowSec(), block ? Number(block.timestamp) : 0);
  }

  /**
   * An RN's PID attested for its trust registration: the envelope must be signed by sk_RN of the
   * RN this MSRP issued the PID to (not by a_k: the RPM learns it), the PID must be recorded
   * on-chain (the TrustManager's verifier), the deadline in (now, now + 1 day]. One verified
   * trust identity per RN (red-team finding A1): the first attestation binds the RN's current PID
   * as its trust identity for life, in the MSRP's record, before the reply leaves; later requests
   * are attested for that PID only (an old or a newer pseudonym is refused), and never for an RN
   * in S_RN. A retry, in the same envelope (reply cache) or a fresh one, gets the same bytes: the
   * binding is idempotent and the signature deterministic (RFC 6979).
   */
  private async attestTrust(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeAttestRequest(env.body);
    if (!this.d.trust) throw new AttestationError("NO_TRUST_MANAGER", "attestTrust: this MSRP serves no TrustManager");
    let owner: ReturnType<Msrp["rnOfPid"]>;
    try {
      owner = this.msrp.rnOfPid(m.pid);
    } catch {
      throw new AttestationError("UNKNOWN_PID", `attestTrust: ${toHex(m.pid)} is not an RN pseudonym this MSRP issued`);
    }
    verifyEnvelope(env, {
      kind: Kind.Request,
      route: Route.TrustAttest,
      audience: this.audience,
      sender: { scheme: Scheme.Schnorr, pk: owner.pk },
    });
    return this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        // the RN's own: only the owner of the PID (checked above) learns why it is refused
        const pid = toHex(m.pid);
        if (this.msrp.isSuspiciousPid(m.pid))
          throw new AttestationError("SUSPICIOUS_RN", `attestTrust: the RN behind ${pid} is in S_RN (suspicious): no trust identity`);
        const bound = this.msrp.trustIdOf(owner.name);
        if (bound !== undefined && bound !== pid)
          throw new AttestationError(
            "SECOND_IDENTITY",
            // names no second pseudonym (s24-rts F1): the reply is plain JSON on the wire, and the
            // RN's client knows which PID it asked first (attestTrustRemote keeps it)
            `attestTrust: the RN behind ${pid} already holds another trust identity (one per RN; its client keeps the PID it asked for first)`,
          );
        if (bound === undefined && !owner.current)
          throw new AttestationError("NOT_CURRENT_PID", `attestTrust: ${pid} is not the RN's current PID (PID_${owner.k})`);
        // the TrustManager compares the deadline with block.timestamp: the chain's clock, which a
        // development chain may have moved ahead of the wall clock (chain:advance)
        const now = await this.chainNow();
        if (m.deadline <= now)
          throw new AttestationError("DEADLINE_EXPIRED", `attestTrust: the deadline ${m.deadline} has passed (now ${now})`);
        if (m.deadline > now + MAX_ATTEST_TTL_SEC)
          throw new AttestationError(
            "DEADLINE_TOO_FAR",
            `attestTrust: the deadline ${m.deadline} is more than ${MAX_ATTEST_TTL_SEC} s ahead`,
          );
        const on = await this.d.ledger.recordOf(m.pid);
        if (on.tag.every((x) => x === 0))
          throw new AttestationError("NOT_JOINED", `attestTrust: ${pid} has no join record on-chain (the RN joins first)`);
        const sig = await signRegistration(this.d.wallet, this.d.chainId, String(this.d.trust!.target), m);
        if (bound === undefined) {
          this.msrp.bindTrustId(owner.name, m.pid);
          this.save(); // the binding is on disk before the attestation leaves
        }
        // no name, PID, controller or deadline (s24-rts F2): the chain's EntityRegistered names the
        // controller and the PID, so any of them beside the name links the two; the operator's trace
        // is its keystore (the record's trustIds)
        this.log(`trust attestation: issued`);
        return this.reply(env, raw, sig);
      }),
    );
  }

  /**
   * Renewal of an unjoined RN's one-time secret over the network (s17-redB B11: before, only the
   * in-process `rsms:rn:renew` could, and an RN registered over the network whose secret expired
   * was stranded). The envelope must be signed by sk_RN of the RN that owns the PID it names, and
   * the body is the RN's RenewalRequest, checked by {@link Msrp.renewRn} as in-process (signed by
   * sk_RN over the PID and the current secret's tag). A refused request changes nothing. A retry
   * has no second effect: the same envelope gets the cached reply, and a fresh request signed over
   * the secret the last renewal replaced (its reply was lost) gets the current secret again,
   * nothing drawn. The record is saved before the reply leaves.
   */
  private async renewRn(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const req = decodeRenewal(env.body);
    let owner: ReturnType<Msrp["rnOfPid"]>;
    try {
      owner = this.msrp.rnOfPid(req.pid);
    } catch {
      throw new RsmsRejectedError("MSRP_REJECTED", `renewRn: ${toHex(req.pid)} is not an RN pseudonym this MSRP issued`);
    }
    verifyEnvelope(env, {
      kind: Kind.Request,
      route: Route.RnRenew,
      audience: this.audience,
      sender: { scheme: Scheme.Schnorr, pk: owner.pk },
    });
    return this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        const sealed = this.msrp.renewRn(req, nowSec());
        this.save();
        // the name alone: its home pool beside it narrows the pool's on-chain joins to its own (s24-rts F2 class)
        this.log(`renewal: ${owner.name}'s one-time secret (its home pool's next filter)`);
        return this.reply(env, raw, sealed);
      }),
    );
  }

  // ---------------------------------------------------------------- filters

  /**
   * Publishes every pool filter that is due (the background tick), after the publications that
   * failed on an earlier tick (h11-red R6).
   * @returns the publications completed (a failed one finished here counts, unless the chain had it)
   */
  async publishDue(): Promise<number> {
    return this.mutex.run(async () => {
      let n = 0;
      // A failed publication's filter is no longer pending in the agent (taken), only in its
      // intent: finished first, by recovery's rule (not again if the chain has its root). Left for
      // a restart, its RNs could not join meanwhile, and the pool's next filter would have replaced
      // its intent (the same id): its RNs never published at all.
      // One that fails again holds back its own pool's next filter only (its intent must stay).
      const held = new Set<number>();
      let failed: unknown;
      for (const i of this.journal.pending()) {
        if (i.kind !== "publishFilter") continue;
        try {
          if (await this.recoverOne(i)) n++;
          this.journal.done(i.id);
          this.stalled.delete(i.id);
        } catch (e) {
          held.add(Number(i.data.poolId));
          failed ??= e;
        }
      }
      for (const { poolId } of this.msrp.summary().rpms) {
        if (held.has(poolId) || !this.msrp.filterDue(poolId, nowSec())) continue;
        const { filter, openedAt } = this.msrp.takeFilter(poolId);
        const bytes = filter.serialize();
        const id = `filter-${poolId}`;
        // intent first, then the record without the filter: a crash between them leaves the filter
        // pending in the record, and recovery sees it there and drops the intent
        this.journal.put(id, "publishFilter", { poolId, bits: toHex(bytes), openedAt, root: toHex(filter.root()) });
        this.save();
        await this.publish(poolId, filter);
        this.journal.done(id);
        n++;
      }
      if (failed) throw failed;
      return n;
    });
  }

  private async publish(poolId: number, filter: BloomFilter): Promise<void> {
    const cid = await this.d.store.putBytes(filter.serialize());
    const { epoch } = await this.d.ledger.publishFilter(poolId, filter.root(), cid, filter.capacity, filter.lambda);
    this.log(`pool ${poolId}: filter epoch ${epoch} published (${filter.count} RNs, CID ${cid})`);
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Finishes what a crash interrupted (called before serving). An intent whose recovery fails (the
   * node unreachable for a moment; a join whose batch transaction is still pending after the crash,
   * so that recovery's own recordJoin reverts) does not stop the service (h11-fix3): it stays in
   * the journal, is tried again in the background ({@link finishStalled}), and holds back only what
   * depends on it (its RN's joins: {@link holdBack}; a publication's pool's next filter: publishDue).
   * @returns the intents handled, by kind; `stalled`: those left for the background
   */
  async recover(): Promise<Record<string, number>> {
    const done: Record<string, number> = {};
    for (const i of this.journal.pending()) {
      try {
        await this.recoverOne(i);
      } catch (e) {
        this.stall(i, e);
        done.stalled = (done.stalled ?? 0) + 1;
        continue;
      }
      done[i.kind] = (done[i.kind] ?? 0) + 1;
      this.journal.done(i.id);
    }
    return done;
  }

  private stall(i: Intent, e: unknown): void {
    const error = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    const d = i.data as Record<string, unknown>;
    this.stalled.record(i.id, {
      kind: i.kind,
      at: i.at,
      ...(i.kind === "join" ? { rn: String(d.rn) } : {}),
      error,
    });
    this.log(`recovery: intent ${i.id} (${i.kind}) failed, tried again in the background: ${error}`);
  }

  /** The intents whose recovery failed and is not finished yet: id → kind and last error. */
  stalledIntents(): Record<string, { kind: string; error: string }> {
    return this.stalled.list();
  }

  /**
   * Tries again, under the mutex, each intent whose recovery failed at start-up (by recovery's
   * rule: nothing is done twice); one finished meanwhile (by a retry of its request, or the filter
   * tick) is forgotten.
   * @returns how many are left
   */
  async finishStalled(): Promise<number> {
    // a failure keeps the intent stalled, with its new error (StalledIntents.finish)
    return this.mutex.run(() =>
      this.stalled.finish(async (i) => {
        await this.recoverOne(i);
        return "finished";
      }),
    );
  }

  /** Finishes one intent; true when it published a filter (the other kinds: undefined). */
  private async recoverOne(i: Intent): Promise<boolean | void> {
    const d = i.data as Record<string, string & number>;
    if (i.kind === "join") {
      const v = verifiedFromJson(d);
      const mineOn = (on: { tag: Uint8Array; poolId: number }) => equalBytes(on.tag, v.record.tag) && on.poolId === v.record.poolId;
      const on = await this.d.ledger.recordOf(v.record.pid);
      if (!mineOn(on)) {
        if (!on.tag.every((x) => x === 0) || (await this.d.ledger.isTagUsed(v.record.tag))) {
          // The two reads are at two blocks: this join's own transaction (a batch still pending
          // at the crash) may have been mined between them. The record is read again, at a block
          // no older than the one where the tag was used, before the join is called a conflict.
          if (!mineOn(await this.d.ledger.recordOf(v.record.pid))) {
            this.log(`recovery: join of ${toHex(v.record.pid)} conflicts with the chain: dropped`);
            return;
          }
        } else if (v.record.kind === 2 && this.msrp.revokedRns().includes(v.rn)) {
          // in S_RN since it was verified (flagged while the service was down): not rotated (s17-redB B8)
          this.log(`recovery: rotation to ${toHex(v.record.pid)} of an RN now in S_RN: dropped`);
          return;
        } else await this.d.ledger.recordJoin(v.record); // verified before the crash: finish it
      }
      try {
        this.msrp.commitJoin(v);
        this.save();
      } catch (e) {
        if (!(e instanceof RsmsRejectedError && e.reason === "REPLAYED_SECRET")) throw e; // already committed
      }
      this.cache.store(fromHex(d.requestId), fromHex(d.request), fromHex(d.reply));
      this.log(`recovery: join of ${toHex(v.record.pid)} at pool ${v.record.poolId} completed`);
    } else if (i.kind === "createPool") {
      if (!(await this.finishPool(d))) {
        this.log(`recovery: pool ${d.poolId} is on-chain with another RPM: enrolment dropped`);
        return;
      }
      this.log(`recovery: pool ${d.poolId} enrolment completed`);
    } else if (i.kind === "registerRn") {
      // registered iff the record holds the RN under this PID (the record was written after the intent)
      const rn = this.msrp.summary().rns.find((r) => r.name === d.name);
      if (rn && rn.k === 0 && rn.pid === d.pid) this.cache.store(fromHex(d.requestId), fromHex(d.request), fromHex(d.reply));
    } else if (i.kind === "publishFilter") {
      const rec = this.msrp.toRecord();
      const pending = rec.pending[String(d.poolId)];
      if (pending && toHex(keccak_256(fromHex(pending.bits))) === d.root) return false; // never taken: the tick publishes it
      const pool = await this.d.ledger.pool(d.poolId);
      const last = pool && pool.epochs > 0 ? await this.d.ledger.filterAt(d.poolId, pool.epochs - 1) : undefined;
      if (last && toHex(last.root) === d.root) return false;
      await this.publish(d.poolId, BloomFilter.deserialize(fromHex(d.bits)));
      return true;
    } else if (!(await this.desk?.recoverOne(i.kind, i.data))) throw new AgentStateError(`recover: unknown intent kind ${i.kind}`);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Takes the lock of its data folder (one process per folder: folder-lock.ts), then {@link startLocked}; the lock is released by stop, or at once if the start fails. */
  async start(cfg: Omit<ServiceConfig, "name">): Promise<RunningService> {
    return this.folder.start(this.d.dir, () => this.startLocked(cfg));
  }

  /** Loads the record again (now that the folder is held), recovers, then listens. */
  private async startLocked(cfg: Omit<ServiceConfig, "name">): Promise<RunningService> {
    // the record as it stands now that the folder is held (s23-fxops): a command that held it
    // (rsms:rn:register, group:request ... in this folder: tasks/lib/msrp-record.ts) or a service
    // that served it may have written it since the constructor read it, and this agent is written
    // back whole at every save
    [this.agent, this.book] = this.load();
    const r = await this.recover();
    if (Object.keys(r).length) this.log(`recovered: ${JSON.stringify(r)}`);
    this.running = await startService(
      { ...cfg, name: "msrp" },
      [
        { path: "/v1/rpm/enrol", handle: (b) => this.enrolRpm(b) },
        { path: "/v1/rn/register", handle: (b) => this.registerRn(b) },
        { path: "/v1/join/forward", handle: (b) => this.forwardJoin(b) },
        { path: "/v1/reauth/forward", handle: (b) => this.forwardReauth(b) },
        { path: "/v1/trust/attest", handle: (b) => this.attestTrust(b) },
        { path: "/v1/rn/renew", handle: (b) => this.renewRn(b) },
        ...(this.desk?.routes() ?? []),
      ],
      () => this.info(),
    );
    this.stalled.start(() => this.finishStalled(), this.d.stalledRetryMs);
    if (this.d.tickMs)
      this.timer = setInterval(() => {
        this.publishDue().catch((e) => this.log(`filter publication failed (retried next tick): ${(e as Error).message}`));
        this.cache.prune();
      }, this.d.tickMs);
    const desk = this.desk;
    if (this.d.flagSyncMs && desk)
      this.flagTimer = setInterval(() => {
        if (this.syncing) return; // the previous sync is still reading the chain (or updating a group)
        this.syncing = this.flagSync()
          .then(
            () => undefined,
            (e) => this.log(`flag sync failed (retried next tick): ${(e as Error).message}`),
          )
          .finally(() => (this.syncing = undefined));
      }, this.d.flagSyncMs);
    return this.running;
  }

  /**
   * One flag sync (what the `flagSyncMs` tick runs): S_RN follows the trust layer's flags
   * (GroupDesk.syncTrustFlags), then, unless `autoEvict` is false, every group with a member in
   * S_RN gets its key update (GroupDesk.evictFlaggedMembers; a group whose update fails is logged
   * and tried again at a later sync, after its back-off: rsms-group.md §8), then the registry's
   * revocation marks follow S_RN ({@link syncRevocations}, s22-redx F2).
   * @returns the RNs that joined and left S_RN, the automatic updates made and failed, and the trust
   *   identities marked revoked or reinstated on-chain
   */
  async flagSync(): Promise<{
    added: string[];
    lifted: string[];
    updates: AutoUpdate[];
    failed: { groupId: string; error: string }[];
    revocations: Awaited<ReturnType<typeof syncRevocations>>;
  }> {
    const p = this.flagSyncOnce();
    this.syncs.add(p);
    try {
      return await p;
    } finally {
      this.syncs.delete(p);
    }
  }

  private async flagSyncOnce(): Promise<{
    added: string[];
    lifted: string[];
    updates: AutoUpdate[];
    failed: { groupId: string; error: string }[];
    revocations: Awaited<ReturnType<typeof syncRevocations>>;
  }> {
    if (!this.desk) return { added: [], lifted: [], updates: [], failed: [], revocations: NO_REVOCATIONS };
    const r = await this.desk.syncTrustFlags();
    const a = this.d.autoEvict === false ? { updates: [], failed: [] } : await this.desk.evictFlaggedMembers();
    return { ...r, ...a, revocations: await this.syncRevocations() };
  }

  /**
   * The registry's revocation marks follow S_RN (s22-redx F2, offchain/rsms/revocations.ts): the
   * trust identity of every RN in S_RN marked revoked, lifted when it leaves. Under the mutex; the
   * record is saved first (the chain never gets ahead of an S_RN the record could lose), and again
   * after any change. A failed write is logged and tried again at the next sync.
   */
  async syncRevocations(): Promise<Awaited<ReturnType<typeof syncRevocations>>> {
    return this.mutex.run(async () => {
      const { revoke, reinstate } = this.msrp.revocationChanges();
      if (revoke.length + reinstate.length === 0) return NO_REVOCATIONS;
      this.save();
      const r = await syncRevocations(this.d.ledger, this.msrp);
      if (r.revoked.length + r.reinstated.length) this.save();
      for (const p of r.revoked) this.log(`revocation sync: trust identity ${p} revoked on-chain (its RN is in S_RN)`);
      for (const p of r.reinstated) this.log(`revocation sync: trust identity ${p} reinstated on-chain (its RN left S_RN)`);
      for (const f of r.failed) this.log(`revocation sync: ${f.pid} failed (tried again at the next sync): ${f.error}`);
      return r;
    });
  }

  async stop(): Promise<void> {
    await this.folder.stop(async () => {
      this.stalled.stop();
      if (this.timer) clearInterval(this.timer);
      if (this.flagTimer) clearInterval(this.flagTimer);
      // a sync in flight may be making a group's key update: it ends (journaled, on-chain, in the
      // agent) before the folder is let go, so no stopped instance writes after a successor starts
      await Promise.allSettled([...this.syncs]);
      this.closeBatch();
      await this.running?.close();
    });
  }
}

function decodeAckPid(replyEnvelope: Uint8Array): string {
  return toHex(openEnvelope(replyEnvelope).body.subarray(0, 32)).slice(2);
}

function verifiedToJson(v: VerifiedJoin): Record<string, unknown> {
  return {
    pid: toHex(v.record.pid),
    tag: toHex(v.record.tag),
    poolId: v.record.poolId,
    kind: v.record.kind,
    rn: v.rn,
    recordedA: toHex(encodeScalar(v.recordedA)),
    ...(v.at !== undefined ? { at: v.at } : {}),
  };
}
function verifiedFromJson(d: Record<string, string & number>): VerifiedJoin {
  return {
    record: { pid: fromHex(d.pid, 32), tag: fromHex(d.tag, 32), poolId: d.poolId, kind: d.kind as 1 | 2 },
    rn: d.rn,
    recordedA: BigInt(d.recordedA),
    ...(typeof d.at === "number" ? { at: d.at } : {}),
  };
}
