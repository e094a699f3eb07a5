/**
 * The RPM of one pool as a service (issue 19): a thin adapter around the pure
 * ResourcePoolManager agent (offchain/rsms/rpm.ts).
 *
 * `POST /v1/join` takes an RN's JoinRequest in an unsigned envelope (the RN stays anonymous: the
 * protocol authenticates it) and answers with the JoinReply A = a'*P in an envelope signed by
 * sk_RPM and bound to the request (inReplyTo), so that a relay cannot swap replies between RNs.
 * Between the two it does what flows.serveJoin does in-process, with the MSRP at the other end of
 * the network: a request whose record is already on-chain is answered from the chain (a retry);
 * otherwise the filters are synced, the forward is sealed, signed by sk_RPM, stored on disk
 * (`forwards/<tag>.bin`) and posted to the MSRP, whose acknowledgement must be signed by the
 * MSRP's account and answer that forward.
 *
 * Durability. The RPM's own state is its keys (keystore) and what it can re-read from the chain;
 * a join in flight is the stored forward. If the RPM dies after forwarding, the RN's retry either
 * finds the record on-chain (answered from the chain) or resends the stored forward with the same
 * request id (the MSRP answers from its reply cache, or serves it once). Replies are cached by
 * request id before they are sent.
 *
 * `POST /v1/reauth` is the same for an RN that joined elsewhere and moves to this pool
 * (§IV.A.2.b): the ReauthRequest is opened, a retry whose (PID_{k+1}, H4(a'_{k+1})) is on-chain at
 * this pool is answered from the chain (at another pool: NEXT_PID_RECORDED, the RN resynchronises),
 * otherwise the ReauthForward is stored, posted to the MSRP's `/v1/reauth/forward` and its
 * acknowledgement checked as for a join; the ReauthReply A = a'_{k+1}*P is signed by sk_RPM.
 */
import fs from "fs";
import path from "path";
import type { Wallet } from "ethers";
import { equalBytes, fromHex, toHex } from "../../crypto/bytes";
import type { ContentStore } from "../../storage/content-store";
import { writeFileAtomic } from "../../storage/fs-atomic";
import { ResourcePoolManager } from "../../rsms/rpm";
import { AgentStateError, RsmsRejectedError } from "../../rsms/errors";
import { paramsFromPkPub } from "../../rsms/params";
import { reauthStep, syncFilters } from "../../rsms/flows";
import type { RsmsLedger } from "../../rsms/ledger";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope, sealReply, verifyEnvelope, EnvelopeError } from "../envelope";
import { ReplyCache, DEFAULT_WINDOW_MS } from "../replies";
import { faultPoint } from "../faults";
import { fromAccount, freshId } from "../common";
import { ServiceError, postEnvelope, refusedForGood, type RetryPolicy } from "../client";
import { startService, type RunningService, type ServiceConfig } from "../server";
import { decodeJoinAck } from "./wire";
import { decodeReauthForward } from "../../rsms/messages";
import type { Keystore } from "../../storage/keystore";
import { minedReceipt } from "../../chain/mined";
import { JoinLog } from "../../rsms/join-log";
import { FolderHold } from "../folder-lock";

/** The RPM service's keystore record. */
export const rpmServiceRecord = (poolId: number) => `rsms-rpm-${poolId}`;

/** What the RPM service keeps in its keystore: the agent's record and where its MSRP is. */
export type RpmServiceRecord = {
  poolId: number;
  sk: string;
  pid: string;
  filterTtlSec: number;
  pkPub: string;
  msrpUrl: string;
  msrpAccount: string;
};

export type RpmServiceDeps = {
  keystore: Keystore;
  dir: string;
  poolId: number;
  ledger: RsmsLedger;
  store: ContentStore;
  /** the RPM's account (announces the endpoint on-chain) */
  wallet: Wallet;
  chainId: bigint;
  registry: string;
  windowMs?: number;
  msrpRetry?: RetryPolicy;
  log?: (line: string) => void;
};

/** The RPM service. */
export class RpmService {
  /** Its data folder's lock (one process per folder: folder-lock.ts). */
  private readonly folder = new FolderHold("rpm");
  readonly rpm: ResourcePoolManager;
  readonly audience: Uint8Array;
  private readonly msrpAudience: Uint8Array;
  private readonly rec: RpmServiceRecord;
  private readonly sk: bigint;
  private readonly cache: ReplyCache;
  private readonly byTag = new Map<string, Promise<Uint8Array>>();
  /** the join records from the registry's logs (what a re-authentication checks; h14-red F4) */
  private readonly joins: JoinLog;
  private syncing?: Promise<number>;
  private running?: RunningService;
  private pruner?: NodeJS.Timeout;

  constructor(private readonly d: RpmServiceDeps) {
    this.rec = d.keystore.load(rpmServiceRecord(d.poolId)) as RpmServiceRecord;
    this.rpm = ResourcePoolManager.fromRecord(paramsFromPkPub(fromHex(this.rec.pkPub, 33)), this.rec);
    this.sk = BigInt(this.rec.sk);
    this.audience = audienceOf(d.chainId, d.registry, `rpm:${d.poolId}`);
    this.msrpAudience = audienceOf(d.chainId, d.registry, "msrp");
    this.cache = new ReplyCache(path.join(d.dir, "replies"), d.windowMs ?? DEFAULT_WINDOW_MS).rebindWith({
      scheme: Scheme.Schnorr,
      sk: this.sk,
    });
    this.joins = new JoinLog(d.ledger.registry);
  }

  private log(s: string): void {
    (this.d.log ?? ((x: string) => process.stdout.write(x + "\n")))(s);
  }

  private forwardFile(tag: Uint8Array): string {
    return path.join(this.d.dir, "forwards", `${toHex(tag).slice(2)}.bin`);
  }

  /** POST /v1/join */
  async join(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    verifyEnvelope(env, { kind: Kind.Request, route: Route.Join, audience: this.audience, sender: { scheme: Scheme.None } });
    return this.cache.once(env.requestId, env.issuedAt, raw, async () => {
      const opened = this.rpm.openJoinRequest(env.body);
      return this.oneAtATime(opened.tag, () => this.serve(env, raw, opened));
    });
  }

  /** POST /v1/reauth: an RN joined at another pool moves here. */
  async reauth(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    verifyEnvelope(env, { kind: Kind.Request, route: Route.Reauth, audience: this.audience, sender: { scheme: Scheme.None } });
    return this.cache.once(env.requestId, env.issuedAt, raw, async () => {
      const opened = this.rpm.openReauthRequest(env.body);
      return this.oneAtATime(opened.nextTag, () => this.serveReauth(env, raw, opened));
    });
  }

  /** One request per secret at a time: a retry with another request id waits for the first. */
  private async oneAtATime(tag: Uint8Array, f: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const key = toHex(tag);
    while (this.byTag.has(key)) await this.byTag.get(key)!.catch(() => undefined);
    const p = f();
    this.byTag.set(key, p);
    try {
      return await p;
    } finally {
      this.byTag.delete(key);
    }
  }

  private async serve(
    env: ReturnType<typeof openEnvelope>,
    raw: Uint8Array,
    opened: ReturnType<ResourcePoolManager["openJoinRequest"]>,
  ): Promise<Uint8Array> {
    const ledger = this.d.ledger;
    if (await ledger.isTagUsed(opened.tag)) {
      const rec = await ledger.recordOf(opened.pid);
      if (rec.kind === 1 && rec.poolId === this.d.poolId && equalBytes(rec.tag, opened.tag)) {
        fs.rmSync(this.forwardFile(opened.tag), { force: true });
        return this.reply(env, raw, this.rpm.joinReply(opened));
      }
      throw new RsmsRejectedError("REPLAYED_SECRET", `join: H4(a') ${toHex(opened.tag)} is already on-chain: replayed join`);
    }
    await this.forward("join", env, opened.tag, { pid: opened.pid, kind: 1 }, () => this.rpm.forwardJoin(opened));
    const reply = this.reply(env, raw, this.rpm.joinReply(opened));
    fs.rmSync(this.forwardFile(opened.tag), { force: true });
    return reply;
  }

  private async serveReauth(
    env: ReturnType<typeof openEnvelope>,
    raw: Uint8Array,
    opened: ReturnType<ResourcePoolManager["openReauthRequest"]>,
  ): Promise<Uint8Array> {
    // from the registry's logs, read from a kept cursor (a query that names no id), not recordOf
    // of PID_k and PID_{k+1} together: the RPM's node would link the two (h14-red F4, join-log.ts)
    await this.joins.sync();
    const step = await reauthStep(this.joins, opened, this.d.poolId);
    if (step.retried) {
      fs.rmSync(this.forwardFile(opened.nextTag), { force: true });
      return this.reply(env, raw, this.rpm.reauthReply(opened));
    }
    await this.forward("reauth", env, opened.nextTag, { pid: opened.nextPid, kind: 2 }, () =>
      this.rpm.forwardReauth(opened, step.claimedRecordTag, step.nextRecorded),
    );
    const reply = this.reply(env, raw, this.rpm.reauthReply(opened));
    fs.rmSync(this.forwardFile(opened.nextTag), { force: true });
    return reply;
  }

  /**
   * Posts the stored (or a new) forward of a join or re-authentication to the MSRP and checks its
   * acknowledgement: signed by the MSRP's account, answering this forward, naming this record.
   */
  private async forward(
    what: "join" | "reauth",
    env: ReturnType<typeof openEnvelope>,
    tag: Uint8Array,
    want: { pid: Uint8Array; kind: 1 | 2 },
    build: () => Uint8Array,
  ): Promise<void> {
    const route = what === "join" ? Route.JoinForward : Route.ReauthForward;
    const fwd = await this.storedOrNewForward(env, tag, want.pid, route, build);
    let ackEnv: Uint8Array;
    try {
      ackEnv = await postEnvelope(this.rec.msrpUrl, what === "join" ? "/v1/join/forward" : "/v1/reauth/forward", fwd, this.d.msrpRetry);
    } catch (e) {
      // a final refusal: nothing was recorded. The next attempt builds a new forward only when the
      // refusal proves this one can never succeed (client.ts refusedForGood); after another 409 (the
      // MSRP's half-done state for this forward, its reply lost) the same forward is sent again
      if (e instanceof ServiceError && e.status >= 400 && e.status < 500 && e.status !== 429) {
        if (!refusedForGood(e))
          throw new AgentStateError(`${what}: the MSRP answered the forward ${e.message}; the forward is kept: retry the ${what}`);
        fs.rmSync(this.forwardFile(tag), { force: true });
        throw new RsmsRejectedError((e.reason as never) ?? "MSRP_REJECTED", `${what}: the MSRP refused the forward: ${e.message}`);
      }
      throw e;
    }
    const ack = openEnvelope(ackEnv);
    verifyEnvelope(ack, { kind: Kind.Reply, route, audience: this.msrpAudience, sender: fromAccount(this.rec.msrpAccount), request: fwd });
    const rec = decodeJoinAck(ack.body);
    if (!equalBytes(rec.pid, want.pid) || !equalBytes(rec.tag, tag) || rec.poolId !== this.d.poolId || rec.kind !== want.kind)
      throw new EnvelopeError("NOT_A_REPLY_TO_THIS", `${what}: the MSRP acknowledged another record`);
    faultPoint("rpm:after-forward");
  }

  /** The forward stored for this secret and PID (a retry resends the same bytes), or a new one, stored before it is sent. */
  private async storedOrNewForward(
    env: ReturnType<typeof openEnvelope>,
    tag: Uint8Array,
    pid: Uint8Array,
    route: number,
    build: () => Uint8Array,
  ): Promise<Uint8Array> {
    const file = this.forwardFile(tag);
    if (fs.existsSync(file)) {
      const stored = new Uint8Array(fs.readFileSync(file));
      // still inside the MSRP's freshness window: resend as is (half the window, for the trip)
      const o = openEnvelope(stored);
      // and kept for this very request only: a re-authentication whose PID_{k+1} a relay rewrote
      // (the one field c2 does not cover) opens to the same tag, and its forward, kept while the
      // MSRP could not be reached, must not be resent for the RN's own request (s21-redr F2)
      const same = o.route === route && (route !== Route.ReauthForward || equalBytes(decodeReauthForward(o.body).nextPid, pid));
      if (same && Date.now() - o.issuedAt < (this.d.windowMs ?? DEFAULT_WINDOW_MS) / 2) return stored;
    }
    await this.sync();
    const body = build();
    const fwd = sealEnvelope(
      {
        kind: Kind.Request,
        route,
        audience: this.msrpAudience,
        session: env.session,
        requestId: freshId(),
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body,
      },
      { scheme: Scheme.Schnorr, sk: this.sk },
    );
    writeFileAtomic(file, fwd, 0o600);
    return fwd;
  }

  /**
   * Loads new filter epochs (one sync at a time). A sync already running may have read the pool's
   * epochs before this request's filter was published (the RN waited for it): the request waits for
   * it, then shares the next one, which starts after the request arrived (a join right after a
   * publication was refused NOT_IN_FILTER while another request's sync was in flight).
   */
  private async sync(): Promise<number> {
    const running = this.syncing;
    if (running) await running.catch(() => undefined);
    this.syncing ??= syncFilters({ ledger: this.d.ledger, store: this.d.store }, this.rpm).finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private reply(req: ReturnType<typeof openEnvelope>, raw: Uint8Array, body: Uint8Array): Uint8Array {
    return sealReply(req, raw, this.audience, body, { scheme: Scheme.Schnorr, sk: this.sk });
  }

  /** Announces `url` as the pool's endpoint on-chain (from the RPM's account) unless it is already. */
  async announce(url: string): Promise<boolean> {
    const registry = this.d.ledger.registry.connect(this.d.wallet);
    if ((await registry.poolEndpoint(this.d.poolId)) === url) return false;
    await minedReceipt(registry.setPoolEndpoint(this.d.poolId, url));
    return true;
  }

  /** Syncs, listens, and announces the endpoint. */
  /** Takes the lock of its data folder (one process per folder: folder-lock.ts), then {@link startLocked}; the lock is released by stop, or at once if the start fails. */
  async start(cfg: Omit<ServiceConfig, "name">, publicUrl?: string): Promise<RunningService> {
    return this.folder.start(this.d.dir, () => this.startLocked(cfg, publicUrl));
  }

  private async startLocked(cfg: Omit<ServiceConfig, "name">, publicUrl?: string): Promise<RunningService> {
    await this.sync();
    this.running = await startService(
      { ...cfg, name: `rpm:${this.d.poolId}` },
      [
        { path: "/v1/join", handle: (b) => this.join(b) },
        { path: "/v1/reauth", handle: (b) => this.reauth(b) },
      ],
      async () => ({
        service: `rpm:${this.d.poolId}`,
        poolId: this.d.poolId,
        pid: this.rec.pid,
        loadedEpochs: this.rpm.loadedEpochs,
      }),
    );
    // replies older than twice the window answer only stale requests, which are refused anyway
    this.pruner = setInterval(() => this.cache.prune(), this.d.windowMs ?? DEFAULT_WINDOW_MS);
    this.pruner.unref();
    const url = publicUrl ?? this.running.url;
    if (await this.announce(url)) this.log(`pool ${this.d.poolId}: endpoint ${url} announced on-chain`);
    return this.running;
  }

  async stop(): Promise<void> {
    await this.folder.stop(async () => {
      if (this.pruner) clearInterval(this.pruner);
      await this.running?.close();
    });
  }
}
