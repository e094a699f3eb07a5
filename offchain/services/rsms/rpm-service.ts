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
 */
import fs from "fs";
import path from "path";
import type { Wallet } from "ethers";
import { equalBytes, fromHex, toHex } from "../../crypto/bytes";
import type { ContentStore } from "../../storage/content-store";
import { writeFileAtomic } from "../../storage/fs-atomic";
import { ResourcePoolManager } from "../../rsms/rpm";
import { RsmsRejectedError } from "../../rsms/errors";
import { paramsFromPkPub } from "../../rsms/params";
import { syncFilters } from "../../rsms/flows";
import type { RsmsLedger } from "../../rsms/ledger";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope, sealReply, verifyEnvelope, EnvelopeError } from "../envelope";
import { ReplyCache, DEFAULT_WINDOW_MS } from "../replies";
import { faultPoint } from "../faults";
import { fromAccount, freshId } from "../common";
import { ServiceError, postEnvelope, type RetryPolicy } from "../client";
import { startService, type RunningService, type ServiceConfig } from "../server";
import { decodeJoinAck } from "./wire";
import type { Keystore } from "../../storage/keystore";

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
  readonly rpm: ResourcePoolManager;
  readonly audience: Uint8Array;
  private readonly msrpAudience: Uint8Array;
  private readonly rec: RpmServiceRecord;
  private readonly sk: bigint;
  private readonly cache: ReplyCache;
  private readonly byTag = new Map<string, Promise<Uint8Array>>();
  private syncing?: Promise<number>;
  private running?: RunningService;
  private pruner?: NodeJS.Timeout;

  constructor(private readonly d: RpmServiceDeps) {
    this.rec = d.keystore.load(rpmServiceRecord(d.poolId)) as RpmServiceRecord;
    this.rpm = ResourcePoolManager.fromRecord(paramsFromPkPub(fromHex(this.rec.pkPub, 33)), this.rec);
    this.sk = BigInt(this.rec.sk);
    this.audience = audienceOf(d.chainId, d.registry, `rpm:${d.poolId}`);
    this.msrpAudience = audienceOf(d.chainId, d.registry, "msrp");
    this.cache = new ReplyCache(path.join(d.dir, "replies"), d.windowMs ?? DEFAULT_WINDOW_MS);
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
      // one join per secret at a time: a retry with another request id waits for the first
      const key = toHex(opened.tag);
      while (this.byTag.has(key)) await this.byTag.get(key)!.catch(() => undefined);
      const p = this.serve(env, raw, opened);
      this.byTag.set(key, p);
      try {
        return await p;
      } finally {
        this.byTag.delete(key);
      }
    });
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
    const fwd = await this.storedOrNewForward(env, opened);
    let ackEnv: Uint8Array;
    try {
      ackEnv = await postEnvelope(this.rec.msrpUrl, "/v1/join/forward", fwd, this.d.msrpRetry);
    } catch (e) {
      // a final refusal: nothing was recorded, and the next attempt builds a new forward
      if (e instanceof ServiceError && e.status >= 400 && e.status < 500 && e.status !== 429) {
        fs.rmSync(this.forwardFile(opened.tag), { force: true });
        throw new RsmsRejectedError((e.reason as never) ?? "MSRP_REJECTED", `join: the MSRP refused the forward: ${e.message}`);
      }
      throw e;
    }
    const ack = openEnvelope(ackEnv);
    verifyEnvelope(ack, {
      kind: Kind.Reply,
      route: Route.JoinForward,
      audience: this.msrpAudience,
      sender: fromAccount(this.rec.msrpAccount),
      request: fwd,
    });
    const rec = decodeJoinAck(ack.body);
    if (!equalBytes(rec.pid, opened.pid) || !equalBytes(rec.tag, opened.tag) || rec.poolId !== this.d.poolId || rec.kind !== 1)
      throw new EnvelopeError("NOT_A_REPLY_TO_THIS", "join: the MSRP acknowledged another record");
    faultPoint("rpm:after-forward");
    const reply = this.reply(env, raw, this.rpm.joinReply(opened));
    fs.rmSync(this.forwardFile(opened.tag), { force: true });
    return reply;
  }

  /** The forward stored for this secret (a retry resends the same bytes), or a new one, stored before it is sent. */
  private async storedOrNewForward(
    env: ReturnType<typeof openEnvelope>,
    opened: ReturnType<ResourcePoolManager["openJoinRequest"]>,
  ): Promise<Uint8Array> {
    const file = this.forwardFile(opened.tag);
    if (fs.existsSync(file)) {
      const stored = new Uint8Array(fs.readFileSync(file));
      // still inside the MSRP's freshness window: resend as is (half the window, for the trip)
      if (Date.now() - openEnvelope(stored).issuedAt < (this.d.windowMs ?? DEFAULT_WINDOW_MS) / 2) return stored;
    }
    await this.sync();
    const body = this.rpm.forwardJoin(opened);
    const fwd = sealEnvelope(
      {
        kind: Kind.Request,
        route: Route.JoinForward,
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

  /** Loads new filter epochs (one sync at a time). */
  private async sync(): Promise<number> {
    this.syncing ??= syncFilters({ ledger: this.d.ledger, store: this.d.store }, this.rpm).finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private reply(req: ReturnType<typeof openEnvelope>, raw: Uint8Array, body: Uint8Array): Uint8Array {
    return sealReply({ ...req, route: Route.Join }, raw, this.audience, body, { scheme: Scheme.Schnorr, sk: this.sk });
  }

  /** Announces `url` as the pool's endpoint on-chain (from the RPM's account) unless it is already. */
  async announce(url: string): Promise<boolean> {
    const registry = this.d.ledger.registry.connect(this.d.wallet);
    if ((await registry.poolEndpoint(this.d.poolId)) === url) return false;
    await (await registry.setPoolEndpoint(this.d.poolId, url)).wait();
    return true;
  }

  /** Syncs, listens, and announces the endpoint. */
  async start(cfg: Omit<ServiceConfig, "name">, publicUrl?: string): Promise<RunningService> {
    await this.sync();
    this.running = await startService(
      { ...cfg, name: `rpm:${this.d.poolId}` },
      [{ path: "/v1/join", handle: (b) => this.join(b) }],
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
    if (this.pruner) clearInterval(this.pruner);
    await this.running?.close();
  }
}
