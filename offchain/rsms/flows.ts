/**
 * RSMS §IV.A end to end: the agents exchange serialized messages in-process (each message is the
 * bytes that would cross the network) and the chain and IPFS are real. Every flow either completes
 * or throws with nothing recorded and no agent state changed.
 */
import { equalBytes, fromHex, toHex } from "../crypto/bytes";
import { decodePoint, encodePoint } from "../crypto/group";
import { FOREIGN_FETCH_TIMEOUT_MS, MIN_FETCH_WAIT_MS, type ContentStore } from "../storage/content-store";
import type { Keystore, PendingCommit } from "../storage/keystore";
import { ContractCodeGoneError, ContractRevertError, TransactionDroppedError, waitReceipt, type RawProvider } from "../chain/direct";
import { onChainReset } from "../chain/reset";
import { NONCE_RETRIES, isNonceError } from "../chain/sender";
import { MetatrustError } from "../errors";
import { AgentStateError, RsmsRejectedError } from "./errors";
import { ContentCorruptedError, ContentNotFoundError, InvalidCidError, IpfsUnreachableError } from "../storage/errors";
import { FilterOnChain, PoolOnChain, RsmsLedger, TxInfo } from "./ledger";
import { Role } from "./messages";
import { JoinRecord, Msrp, VerifiedJoin } from "./msrp";
import { PendingJoin, PoolInfo, ResourceNode } from "./rn";
import { filterTtl } from "./msrp";
import { poolEncryptionKey, tagOf } from "./params";
import { EphemeralStock } from "../crypto/ephemeral";
import type { Point } from "../crypto/group";
import { FETCH_ATTEMPTS, NOT_FOUND_BACKOFF_MAX_SEC, ResourcePoolManager } from "./rpm";
import { JoinView } from "./join-view";
import { JoinLog, type LoggedRecord } from "./join-log";
import { mark } from "../util/spans";

/** What every flow needs. now: the clock (unix seconds; default the wall clock); nowMs: the clock fetch waits are timed by (ms; default Date.now). */
export type RsmsContext = { ledger: RsmsLedger; store: ContentStore; now?: () => number; nowMs?: () => number };

/** The bytes each party sent, for the Table III comparison. */
export type WireLog = Record<string, number>;

/**
 * The outcome of a join or re-authentication. `tx` is absent when the record was already on-chain
 * (a retry after a lost reply: nothing was written again).
 */
export type JoinResult = { record: JoinRecord; tx?: TxInfo; wire: WireLog; journaled?: boolean };

/**
 * What the RPM's side of a join returns: the reply and the record, and, unless the request was
 * a retry of one already recorded for the same RN (`retried`), the forward, the MSRP's
 * verification and the transaction.
 */
export type Served = {
  reply: Uint8Array;
  record: JoinRecord;
  retried: boolean;
  forward?: Uint8Array;
  verified?: VerifiedJoin;
  tx?: TxInfo;
};

const nowSec = (ctx: RsmsContext) => (ctx.now ? ctx.now() : Math.floor(Date.now() / 1000));
const nowMs = (ctx: RsmsContext) => (ctx.nowMs ? ctx.nowMs() : Date.now());

/**
 * RPM Setup and pool creation: the RPM registers with Enc_PKpub(RID), the MSRP issues its keys
 * and creates the pool on-chain with the RPM's account.
 */
export async function setupPool(
  ctx: RsmsContext,
  msrp: Msrp,
  a: { name: string; poolId: number; rid: string; account: string },
  journal?: PoolJournal,
): Promise<{ rpm: ResourcePoolManager; tx?: TxInfo; existing: boolean }> {
  const onChain = await ctx.ledger.pool(a.poolId);
  const earlier = journal?.load();
  if (earlier) {
    // a run that kept the RPM's keys pending and then died (or lost createPool's reply): s17-redA F4
    if (onChain) {
      if (!equalBytes(onChain.pidRpm, earlier.rpm.pid))
        throw new RsmsRejectedError(
          "INVALID_STATE",
          `setupPool: pool ${a.poolId} exists on-chain under another PID_RPM than the one kept here`,
        );
      return { rpm: earlier.rpm, existing: true };
    }
    if (earlier.account.toLowerCase() !== a.account.toLowerCase())
      throw new RsmsRejectedError(
        "INVALID_STATE",
        `setupPool: pool ${a.poolId}'s RPM is kept pending for account ${earlier.account}, not ${a.account}: run again with that --account`,
      );
    const tx = await ctx.ledger.createPool(a.poolId, earlier.account, earlier.rpm.pid, decodePoint(fromHex(earlier.pkRpm)));
    return { rpm: earlier.rpm, tx, existing: false };
  }
  if (onChain) throw new RsmsRejectedError("INVALID_STATE", `setupPool: pool ${a.poolId} already exists on-chain`);
  const req = Msrp.registrationRequest(msrp.params.pkPub, Role.RPM, a.poolId, a.rid);
  const creds = msrp.registerRpm(a.name, req);
  const rpm = new ResourcePoolManager(msrp.params, {
    poolId: a.poolId,
    sk: creds.sk,
    pid: creds.pid,
    filterTtlSec: filterTtl(msrp.policy),
  });
  // the RPM's keys and the MSRP's record are kept, marked pending, before the pool goes on-chain
  journal?.keep(rpm, a.account, toHex(encodePoint(creds.pkRpm)));
  const tx = await ctx.ledger.createPool(a.poolId, a.account, creds.pid, creds.pkRpm);
  return { rpm, tx, existing: false };
}

/**
 * Where a pool's setup is kept before createPool (rsms:rpm:register keeps it in the keystore):
 * `keep` writes the RPM's keys marked pending (with the account and PK_RPM createPool takes) and the
 * MSRP's record in one commit; `load` gives them back while pending. A rerun after a crash finds
 * the pool on-chain under the kept PID_RPM and completes, or sends createPool again with the same
 * keys if it is not on-chain (s17-redA F4).
 */
export type PoolJournal = {
  load(): { rpm: ResourcePoolManager; account: string; pkRpm: string } | undefined;
  keep(rpm: ResourcePoolManager, account: string, pkRpm: string): void;
};

/**
 * RN Setup; publishes the pool's filter when it becomes due (full, or its interval passed).
 */
export async function registerRn(
  ctx: RsmsContext,
  msrp: Msrp,
  a: { name: string; poolId: number; rid: string },
): Promise<{ rn: ResourceNode; published?: Awaited<ReturnType<typeof publishFilter>> }> {
  const req = Msrp.registrationRequest(msrp.params.pkPub, Role.RN, a.poolId, a.rid);
  const c = msrp.registerRn(a.name, req, nowSec(ctx));
  const rn = new ResourceNode(msrp.params, {
    name: a.name,
    sk: c.sk,
    a: c.a,
    pid: c.pid,
    k: 0,
    joined: false,
    homePool: a.poolId,
    pool: 0,
  });
  const published = msrp.filterDue(a.poolId, nowSec(ctx)) ? await publishFilter(ctx, msrp, a.poolId) : undefined;
  return { rn, published };
}

/**
 * Publishes a pool's pending Bloom filter: bytes to IPFS, (root, CID, N, lambda) on-chain.
 */
export async function publishFilter(
  ctx: RsmsContext,
  msrp: Msrp,
  poolId: number,
): Promise<{ epoch: number; cid: string; root: string; count: number; bytes: number; tx?: TxInfo; existing: boolean }> {
  const { filter, openedAt } = msrp.takeFilter(poolId);
  const root = filter.root();
  const summary = (epoch: number, cid: string, bytes: number) => ({ epoch, cid, root: toHex(root), count: filter.count, bytes });
  // A publication whose reply was lost (mined, the wait failed) left this filter pending: if the
  // pool's last epoch on-chain is this root, it is published and is taken as done, not published
  // again in a second epoch (s17-redA F25). Only the MSRP publishes, and a filter's root hashes its
  // RNs' fresh one-time secrets: another filter with this root is the same filter.
  const publishedAs = async (): Promise<number | undefined> => {
    const epochs = await ctx.ledger.poolEpochs(poolId);
    if (!epochs) return undefined;
    const last = await ctx.ledger.filterAt(poolId, epochs - 1);
    return toHex(last.root) === toHex(root) ? epochs - 1 : undefined;
  };
  try {
    const done = await publishedAs();
    if (done !== undefined) {
      const last = await ctx.ledger.filterAt(poolId, done);
      return { ...summary(done, last.cid, filter.serialize().length), existing: true };
    }
    const bytes = filter.serialize();
    const cid = await ctx.store.putBytes(bytes);
    try {
      const { epoch, tx } = await ctx.ledger.publishFilter(poolId, root, cid, filter.capacity, filter.lambda);
      await notePublished(ctx, poolId, epoch);
      return { ...summary(epoch, cid, bytes.length), tx, existing: false };
    } catch (e) {
      const done = await publishedAs().catch(() => undefined);
      if (done !== undefined) return { ...summary(done, cid, bytes.length), existing: true };
      throw e;
    }
  } catch (e) {
    msrp.restoreFilter(poolId, filter, openedAt);
    throw e;
  }
}

/**
 * A filter epoch this process published that its local view of the registry holds a root for: a
 * root from before the chain went back under the view, replaced at once (JoinView.notePublished;
 * s27-rtc F4). Read from the chain after the publication, off any join's path, and only then (a
 * publication of an epoch the view does not hold reads nothing more); a failed read leaves the view
 * as it was (its refresh corrects it).
 */
async function notePublished(ctx: RsmsContext, poolId: number, epoch: number): Promise<void> {
  const view = views.get(viewKey(ctx));
  if (!view?.holdsEpoch(poolId, epoch)) return;
  try {
    view.notePublished(poolId, epoch, await ctx.ledger.filterAt(poolId, epoch));
  } catch {
    // as it was
  }
}

/**
 * Loads the pool's published filters the RPM does not have yet, each checked against its root.
 *
 * Expiry: an epoch published more than rpm.filterTtlSec ago is dropped (or never fetched), and the
 * loop starts at the first live epoch, so a join reads and checks a bounded number of filters
 * however long the pool has existed. An RN listed only in an expired epoch gets NOT_IN_FILTER and
 * renews its secret ({@link renewSecret}).
 *
 * One bad epoch does not block the pool: an epoch whose bytes do not match its on-chain root (or
 * whose CID is invalid, or whose bytes are malformed) is quarantined (`rpm.quarantinedEpochs`, not
 * fetched again) and the other epochs are loaded; an epoch whose content cannot be fetched right
 * now (not found within its bound: the CID is the MSRP's choice) is skipped and retried at a later
 * sync after the doubling backoff below (s26-fxl L2: every sync, so every join request, waited the
 * store's timeout for it), and one sync spends at most FOREIGN_FETCH_TIMEOUT_MS on fetches that
 * find nothing: once less than MIN_FETCH_WAIT_MS of it is left, later epochs wait for the next sync,
 * with no backoff (s27-fxl: a fetch given the remnant, 10 ms after a 9.99 s miss, timed out on a
 * filter that exists and started its backoff). A fetch whose bytes do not hash to the CID
 * (ContentCorruptedError) is a bad answer, not a bad epoch (s17-redB B12): it is fetched again, up
 * to FETCH_ATTEMPTS times in this sync, then at later syncs after a doubling backoff
 * (`rpm.fetchFailed`, `rpm.refetchingEpochs`) until it loads or expires. RNs listed only in an
 * epoch not loaded get NOT_IN_FILTER meanwhile.
 *
 * `prefetched`: roots of the pool's epochs already read (a join's first read, {@link prefetchJoin}),
 * used instead of reading them again; any other epoch is read here.
 * @returns the number of filters loaded
 * @throws RsmsRejectedError(UNKNOWN_POOL); any other error of the chain or the store
 */
export async function syncFilters(
  ctx: RsmsContext,
  rpm: ResourcePoolManager,
  known?: Promise<number | undefined>,
  prefetched?: Promise<ReadonlyMap<number, FilterOnChain>>,
): Promise<number> {
  const epochs = await (known ?? ctx.ledger.poolEpochs(rpm.poolId));
  const roots = await prefetched;
  if (epochs === undefined) throw new RsmsRejectedError("UNKNOWN_POOL", `syncFilters: pool ${rpm.poolId} is not on-chain`);
  // A loaded epoch the chain no longer holds as it was loaded (the chain went back under it and it
  // was published anew with another root, or not yet again: s27-rtc F4) is dropped, and loaded
  // again below from the chain's root. Roots are compared with the roots the join read (prefetched:
  // the chain's, or the local view's): no request.
  for (const epoch of rpm.loadedEpochs) {
    const f = epoch < epochs ? roots?.get(epoch) : undefined;
    if (epoch >= epochs || (f && rpm.loadedRoot(epoch) !== toHex(f.root))) rpm.unload(epoch);
  }
  const now = nowSec(ctx);
  rpm.expire(now);
  const have = new Set([...rpm.loadedEpochs, ...rpm.quarantinedEpochs.keys()]);
  let n = 0;
  // the time this sync may spend on fetches that find nothing (s26-fxl L2): one fetch's bound
  const budget = { left: FOREIGN_FETCH_TIMEOUT_MS };
  for (let epoch = rpm.firstLiveEpoch; epoch < epochs; epoch++) {
    if (have.has(epoch)) continue;
    const f = roots?.get(epoch) ?? (await ctx.ledger.filterAt(rpm.poolId, epoch));
    if (rpm.isExpired(f.publishedAt, now)) {
      rpm.expire(now, epoch);
      continue;
    }
    if (!rpm.fetchDue(epoch, now, f.cid)) continue;
    // spent on blocks not found: the next sync fetches it (not a miss, no backoff)
    if (budget.left < MIN_FETCH_WAIT_MS) continue;
    try {
      let bytes: Uint8Array | undefined;
      for (let attempt = 1; bytes === undefined; attempt++) {
        const t0 = nowMs(ctx);
        try {
          bytes = await ctx.store.get(f.cid, { timeoutMs: Math.min(budget.left, FOREIGN_FETCH_TIMEOUT_MS) });
        } catch (e) {
          if (e instanceof ContentNotFoundError) budget.left -= nowMs(ctx) - t0;
          if (!(e instanceof ContentCorruptedError) || attempt >= FETCH_ATTEMPTS) throw e;
        }
      }
      rpm.addFilter(epoch, bytes, f.root, f.publishedAt);
      n++;
    } catch (e) {
      // the store checks every answer against the CID: bytes it returns are the CID's, so a root
      // mismatch or a malformed filter is the epoch's (the MSRP's), for good; a corrupt answer is not
      // a corrupt answer, or no answer (a CID the MSRP chose that no node serves now: s26-fxl L2),
      // is retried at a later sync after the doubling backoff, not waited for again on every sync
      // (content not found waits at most NOT_FOUND_BACKOFF_MAX_SEC: a filter just published may not
      // have reached this node yet, s26-review L5)
      if (e instanceof ContentCorruptedError) rpm.fetchFailed(epoch, now, e.message, undefined, f.cid);
      else if (e instanceof ContentNotFoundError) rpm.fetchFailed(epoch, now, e.message, NOT_FOUND_BACKOFF_MAX_SEC, f.cid);
      else if (
        (e instanceof RsmsRejectedError && (e.reason === "FILTER_ROOT_MISMATCH" || e.reason === "FILTER_MALFORMED")) ||
        e instanceof InvalidCidError
      )
        rpm.quarantine(epoch, (e as Error).message);
      else if (!(e instanceof IpfsUnreachableError)) throw e;
    }
  }
  return n;
}

/** The public values of a pool an RN needs, read from the chain. */
export async function poolInfo(ctx: RsmsContext, poolId: number): Promise<PoolInfo> {
  const p = await ctx.ledger.pool(poolId);
  if (!p) throw new RsmsRejectedError("UNKNOWN_POOL", `poolInfo: pool ${poolId} is not on-chain`);
  return { poolId, pkRpm: p.pkRpm, pidRpm: p.pidRpm };
}

/**
 * The RPM's and MSRP's side of an initial authentication: everything from the request to the
 * on-chain record and the reply. Nothing is written unless every check passed.
 *
 * Retries are safe: a request whose record (PID, H4(a')) is already on-chain at this pool is
 * answered again with A = a'*P and nothing is written (the reply was lost or dropped). Only the
 * holder of a' can build such a request, and A tells it nothing new.
 * @returns the reply for the RN, the record and (unless a retry) its transaction
 * @throws RsmsRejectedError(REPLAYED_SECRET | NOT_IN_FILTER | MSRP_REJECTED | ...), MalformedMessageError
 */
export async function serveJoin(
  ctx: RsmsContext,
  rpm: ResourcePoolManager,
  msrp: Msrp,
  request: Uint8Array,
  epochs?: Promise<number | undefined>,
  prefetched?: Pick<JoinPrefetch, "poolId" | "tag" | "tagUsed" | "filters">,
  write?: (verified: VerifiedJoin, reply: Uint8Array) => Promise<TxInfo>,
  stock?: EphemeralStock,
): Promise<Served> {
  if (prefetched && prefetched.poolId !== rpm.poolId)
    throw new AgentStateError(`serveJoin: the reads asked for are pool ${prefetched.poolId}'s, the RPM's pool is ${rpm.poolId}`);
  const opened = rpm.openJoinRequest(request);
  mark("rpm.open");
  // The replay check and the filter sync (the pool's filter count, then any filter the RPM has not
  // loaded) run together: the sync is awaited only if the request is not a replay. A replay check
  // already asked for (prefetchJoin) counts only for the very tag the RPM opened.
  const synced = syncFilters(ctx, rpm, epochs, prefetched?.filters);
  synced.catch(() => undefined);
  const used = prefetched && equalBytes(prefetched.tag, opened.tag) ? prefetched.tagUsed : ctx.ledger.isTagUsed(opened.tag);
  if (await used) {
    const rec = await ctx.ledger.recordOf(opened.pid);
    if (rec.kind === 1 && rec.poolId === rpm.poolId && equalBytes(rec.tag, opened.tag)) {
      // The chain holds this very join. An MSRP that has not committed it (a step that crashed
      // after its transaction was sent and before its records were durable: rsms-join.md change
      // 17) commits it now; one that has is left as it is (verifyJoin refuses a used secret). The
      // secret's TTL was checked before the transaction was sent: the chain's record stands.
      let verified: VerifiedJoin | undefined;
      try {
        verified = msrp.verifyJoin(rpm.forwardJoin(opened), nowSec(ctx), { recorded: true });
        msrp.commitJoin(verified);
      } catch (e) {
        if (!(e instanceof RsmsRejectedError)) throw e;
        verified = undefined;
      }
      return {
        reply: rpm.joinReply(opened),
        record: { pid: opened.pid, tag: opened.tag, poolId: rpm.poolId, kind: 1 },
        retried: true,
        ...(verified ? { verified } : {}),
      };
    }
    throw new RsmsRejectedError("REPLAYED_SECRET", `serveJoin: H4(a') ${toHex(opened.tag)} is already on-chain: replayed join`);
  }
  await synced;
  mark("rpm.synced");
  const forward = rpm.forwardJoin(opened, stock);
  mark("rpm.forward");
  const verified = msrp.verifyJoin(forward, nowSec(ctx));
  mark("msrp.verify");
  const reply = rpm.joinReply(opened);
  mark("rpm.reply");
  let tx: TxInfo;
  if (write)
    tx = await write(verified, reply); // it commits the MSRP's side itself
  else {
    tx = await ctx.ledger.recordJoin(verified.record);
    msrp.commitJoin(verified);
  }
  return { reply, record: verified.record, retried: false, forward, verified, tx };
}

/**
 * Renews an RN's unused a_{i,0} (its secret expired, SECRET_EXPIRED or NOT_IN_FILTER after its
 * epoch expired): the RN signs a request, the MSRP inserts a fresh secret into the home pool's
 * pending filter and seals it to PK_RN; the filter is published when due. The RN joins once it is.
 */
export async function renewSecret(
  ctx: RsmsContext,
  msrp: Msrp,
  rn: ResourceNode,
): Promise<{ published?: Awaited<ReturnType<typeof publishFilter>> }> {
  rn.acceptRenewal(msrp.renewRn(rn.renewalRequest(), nowSec(ctx)));
  const pool = rn.state.homePool;
  return { published: msrp.filterDue(pool, nowSec(ctx)) ? await publishFilter(ctx, msrp, pool) : undefined };
}

/**
 * What a join reads before its transaction, asked for at once in one call (the registry's
 * joinView, issue 20) before the RN's request is built:
 * - the pool: PK_RPM for the RN's request, the filter count for the RPM;
 * - the replay check of the tag the RN's secret gives, H4(a): the RPM's check of the tag it opens
 *   from the request, asked for before the RPM has opened it. serveJoin uses the answer only when
 *   the opened tag is that one (an honest request: always); else it asks for its own tag. The
 *   answer is read before the transaction, as the RPM's own read would be, so it proves as much:
 *   nothing recorded the tag before the check, and the registry refuses a tag recorded since
 *   (ResourcePoolRegistry__TagUsed). H4(a) tells the node nothing of a, and goes on-chain with the join;
 * - the pool's filter roots from the first epoch this process found live there at its last join
 *   (`firstLive`, else epoch 0), at most MAX_PREFETCHED_EPOCHS: read from the chain, not trusted
 *   from memory. An epoch past them (more live epochs than that) is read by syncFilters.
 * The answer is awaited by the join, or its error ignored if the join stops first.
 */
export type JoinPrefetch = {
  poolId: number;
  pool: Promise<PoolOnChain | undefined>;
  tag: Uint8Array;
  tagUsed: Promise<boolean>;
  /** The filter roots read, by epoch. */
  filters: Promise<ReadonlyMap<number, FilterOnChain>>;
  /** Taken from the process's local view (viewedJoin), not read for this join: a refusal it may cause is checked with the chain. */
  fromView?: true;
};

/** The most filter epochs a join's first read returns (prefetchJoin). */
export const MAX_PREFETCHED_EPOCHS = 8;

/** Per registry and pool: the first epoch this process found live there at its last join (prefetchJoin). */
const firstLive = new Map<string, number>();
const liveKey = (ctx: RsmsContext, poolId: number) => `${String(ctx.ledger.registry.target).toLowerCase()}:${poolId}`;

/**
 * Asks for a join's first reads at once (see {@link JoinPrefetch}): one eth_call.
 * @param tag - H4(a) of the joining RN's secret (tagOf)
 */
export function prefetchJoin(ctx: RsmsContext, poolId: number, tag: Uint8Array): JoinPrefetch {
  const from = firstLive.get(liveKey(ctx, poolId)) ?? 0;
  const view = ctx.ledger.joinView(poolId, tag, from, MAX_PREFETCHED_EPOCHS);
  view.catch(() => undefined);
  const part = <T>(f: (v: Awaited<typeof view>) => T) => {
    const p = view.then(f);
    p.catch(() => undefined);
    return p;
  };
  return {
    poolId,
    pool: part((v) => v.pool),
    tag: Uint8Array.from(tag),
    tagUsed: part((v) => v.tagUsed),
    filters: part((v) => new Map(v.filters.map((f, i) => [from + i, f]))),
  };
}

/** Per registry: the process's local view of what a join checks before the RPM answers (join-view.ts). */
const views = new Map<string, JoinView>();
const viewKey = (ctx: RsmsContext) => String(ctx.ledger.registry.target).toLowerCase();

// The chain went back or was reset under the process (offchain/chain/reset.ts: a write mined with
// no event from its contract, a view's cursor block replaced): the views forget what they hold
// (JoinView.reset: each answers nothing until read again from block 0) and the first live epochs
// are dropped; the next join reads the chain (s27-fxc).
onChainReset(() => {
  for (const v of views.values()) v.reset();
  firstLive.clear();
});

/**
 * A join's first reads from the process's local view (join-view.ts; rsms-join.md change 18), with
 * no chain read: when the view holds the pool and does not hold the tag. Undefined otherwise (no
 * view yet: the process's first join; the pool not in it; the tag recorded, a retry or a replay,
 * which the chain decides): the caller reads the chain ({@link prefetchJoin}).
 * @param tag - H4(a) of the joining RN's secret (tagOf)
 */
export function viewedJoin(ctx: RsmsContext, poolId: number, tag: Uint8Array): JoinPrefetch | undefined {
  const view = views.get(viewKey(ctx));
  const v = view?.pool(poolId);
  if (!view || !v || view.tagUsed(tag)) return undefined;
  return {
    poolId,
    pool: Promise.resolve(v.pool),
    tag: Uint8Array.from(tag),
    tagUsed: Promise.resolve(false),
    filters: Promise.resolve(v.filters),
    fromView: true,
  };
}

/**
 * Brings the process's local view of the registry (join-view.ts) up to date for a pool, off any
 * join's path: `rsms:join` starts it once a join has returned. Its errors are not the caller's (a
 * view that could not be read stays as it was).
 * @returns the refresh (awaited by tests and the bench, never by a join)
 */
export function refreshJoinView(ctx: RsmsContext, poolId: number): Promise<void> {
  const key = viewKey(ctx);
  let view = views.get(key);
  if (!view) views.set(key, (view = new JoinView(ctx.ledger)));
  const r = view.refresh([...new Set([poolId, ...view.poolIds()])], (p) => firstLive.get(liveKey(ctx, p)) ?? 0, MAX_PREFETCHED_EPOCHS);
  r.catch(() => undefined);
  return r;
}

/**
 * The single-use ephemerals of this process's joins (crypto/ephemeral.ts; issue 20, session 19):
 * the RN's u with u*Z for its pool's key Z, the RPM's ECIES key with its shared point for PK_pub,
 * its Schnorr nonce. initialJoin takes them from here when the stock holds them (each taken out
 * before it is used: never used twice) and notes the bases it used; only {@link restockJoinSoon}
 * fills the stock, off the joins' path (the `rsms:join` task asks for it as a join returns). A
 * process that never asks draws every ephemeral at the point of use, as before.
 */
const joinStock = new EphemeralStock();
/** The bases (Z, PK_pub: the objects the callers' caches hold) of the latest joins, for the next restock. */
const joinBases = new Set<Point>();
/** Restocks asked for and not done. */
const restocking = new Set<Promise<void>>();

function noteJoinBases(...bases: Point[]): void {
  // a memory bound only: a restock fills the bases of the joins since the one before it
  if (joinBases.size > 16) joinBases.clear();
  for (const b of bases) joinBases.add(b);
}

/**
 * Fills the join ephemeral stock for the bases the joins since the last restock used, once the
 * current turn of the event loop is over: between joins, off their path (a join that finds the
 * stock empty draws at the point of use). {@link joinViewsSettled} waits for it, like the view's refresh.
 */
export function restockJoinSoon(): void {
  const p = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
    joinStock.fill();
    for (const b of joinBases) joinStock.fill(b);
    joinBases.clear();
  });
  p.catch(() => undefined);
  restocking.add(p);
  void p.finally(() => restocking.delete(p)).catch(() => undefined);
}

/** Refreshes asked for with {@link refreshJoinViewSoon} and not started yet. */
const scheduled = new Set<Promise<void>>();

/**
 * {@link refreshJoinView} once the current turn of the event loop is over: what `rsms:join` asks
 * for as it returns (or fails), so that the refresh runs after the step, between joins.
 */
export function refreshJoinViewSoon(ctx: RsmsContext, poolId: number): void {
  const p = new Promise<void>((resolve) => setImmediate(resolve)).then(() => refreshJoinView(ctx, poolId)).catch(() => undefined);
  scheduled.add(p);
  void p.finally(() => scheduled.delete(p));
}

/** Once every refresh of the local views asked for so far is done (for the bench and tests: work off the steps' path). */
export async function joinViewsSettled(): Promise<void> {
  await Promise.all([...restocking]);
  await Promise.all([...scheduled]);
  await Promise.all([...views.values()].map((v) => v.settled.catch(() => undefined)));
}

/**
 * Initial authentication of an RN at its pool (Fig. 3, steps 1-4): its first reads in one batch
 * ({@link prefetchJoin}; the caller may have asked for them already, or taken them from the local
 * view, {@link viewedJoin}), then the transaction. A join from the view that the RPM refuses
 * before anything is forwarded (NOT_IN_FILTER: a filter epoch published, or the pool's key
 * rotated, since the view was read; UNKNOWN_POOL) reads the chain and runs again.
 */
export async function initialJoin(
  ctx: RsmsContext,
  rn: ResourceNode,
  rpm: ResourcePoolManager,
  msrp: Msrp,
  prefetched: JoinPrefetch = prefetchJoin(ctx, rpm.poolId, tagOf(rn.state.a)),
  journal?: JoinJournal,
): Promise<JoinResult> {
  if (prefetched.poolId !== rpm.poolId)
    throw new AgentStateError(`initialJoin: the reads asked for are pool ${prefetched.poolId}'s, the RPM's pool is ${rpm.poolId}`);
  // one read of the pool serves the RN (its key) and the RPM (its filter count)
  const p = await prefetched.pool;
  if (!p) throw new RsmsRejectedError("UNKNOWN_POOL", `poolInfo: pool ${rpm.poolId} is not on-chain`);
  mark("rn.pool");
  // the ephemerals of the RN's request, the RPM's seal to PK_pub and its Schnorr nonce: from the
  // stock a restock filled between joins (restockJoinSoon), else drawn at the point of use
  const info = { poolId: p.poolId, pkRpm: p.pkRpm, pidRpm: p.pidRpm };
  noteJoinBases(poolEncryptionKey(rn.params, p.pkRpm, p.pidRpm), rpm.params.pkPub);
  const { request, pending } = rn.buildJoinRequest(info, joinStock);
  mark("rn.request");
  let journaled = false;
  const write =
    journal &&
    (async (verified: VerifiedJoin, reply: Uint8Array) => {
      // the RN checks the reply before anything is sent: a reply it refuses sends nothing
      rn.acceptJoinReply(reply, pending);
      mark("rn.accept");
      const r = await sendJournaled(ctx, msrp, verified, journal);
      journaled = r.journaled;
      return r.tx;
    });
  let served: Served;
  try {
    served = await serveJoin(ctx, rpm, msrp, request, Promise.resolve(p.epochs), prefetched, write, joinStock);
  } catch (e) {
    // nothing was forwarded, verified or written: the RPM refused on the view's pool or roots
    if (prefetched.fromView && e instanceof RsmsRejectedError && (e.reason === "NOT_IN_FILTER" || e.reason === "UNKNOWN_POOL"))
      return initialJoin(ctx, rn, rpm, msrp, prefetchJoin(ctx, rpm.poolId, prefetched.tag), journal);
    throw e;
  }
  firstLive.set(liveKey(ctx, rpm.poolId), rpm.firstLiveEpoch);
  // the process's own record: in its view at once (the next refresh reads it from the logs too)
  views.get(viewKey(ctx))?.noteTag(served.record.tag);
  if (!write || served.retried) rn.acceptJoinReply(served.reply, pending);
  return {
    record: served.record,
    tx: served.tx,
    wire: { rnToRpm: request.length, rpmToMsrp: served.forward?.length ?? 0, rpmToRn: served.reply.length },
    journaled,
  };
}

/**
 * How the caller of {@link initialJoin} makes a join's records durable with its transaction (the
 * `rsms:join` task: Keystore.commitIntent of the MSRP's and the RN's records). Called once the
 * transaction is signed and sent, and the agents have taken the step (the MSRP's commitJoin, the
 * RN's accepted reply): it serializes their records and starts the intent's write, which runs
 * while the node mines and answers. The `data` it is given goes into the intent, for
 * {@link resolveJoinIntents}; `rn` is the MSRP's name of the RN whose entry the MSRP's commitJoin
 * changed, the only change the join made to the MSRP's record (rsms-join.md change 20).
 */
export type JoinJournal = (data: JoinIntentData, rn: string) => PendingCommit;

/** What a join's intent holds for its resolver: the record the transaction writes, and the transaction. */
export type JoinIntentData = {
  pid: string;
  tag: string;
  poolId: number;
  kind: number;
  tx: { hash: string; nonce: number; from: string };
};

/** The kind of a join's intent (Keystore.commitIntent). */
export const JOIN_INTENT = "rsms-join";

/**
 * Crash injection for test/e2e/join-crash.test.ts: with METATRUST_JOIN_CRASH=<point> the process
 * kills itself (SIGKILL) at that point of a journaled join.
 */
function joinCrash(point: "before-send" | "after-send" | "after-receipt" | "intent-lost"): boolean {
  return process.env.METATRUST_JOIN_CRASH === point;
}

/**
 * The journaled transaction of a join (rsms-join.md change 17, issue 20): recordJoin is signed
 * (its hash known), sent, and while the node mines it the MSRP commits the join in memory and the
 * intent (the new records, the record and the transaction) is written and fsync'd off the main
 * thread. The step goes on only when both the receipt and the intent's fsync are in; then the
 * records are this process's commit (the intent is their durable record). A transaction the node
 * refused, that reverted or that the node dropped drops the intent (nothing changes in the
 * keystore); any other failure leaves it for {@link resolveJoinIntents}. On failure the agents
 * have taken the step in memory: the caller reloads them (the task keeps an MSRP agent across joins
 * only once a join's records are committed, and checks the record's stamp before it reuses it:
 * tasks/rsms.ts msrpKept).
 * Without a ChainWallet (a node-managed signer) the join is sent as before and `journaled` is
 * false: the caller commits the records itself.
 */
async function sendJournaled(
  ctx: RsmsContext,
  msrp: Msrp,
  v: VerifiedJoin,
  journal: JoinJournal,
): Promise<{ tx: TxInfo; journaled: boolean }> {
  let prepared = await ctx.ledger.prepareRecordJoin(v.record);
  mark("tx.signed");
  if (!prepared) {
    const tx = await ctx.ledger.recordJoin(v.record);
    msrp.commitJoin(v);
    return { tx, journaled: false };
  }
  let committed = false;
  for (let attempt = 0; ; attempt++) {
    const data: JoinIntentData = {
      pid: toHex(v.record.pid),
      tag: toHex(v.record.tag),
      poolId: v.record.poolId,
      kind: v.record.kind,
      tx: { hash: prepared.hash, nonce: prepared.nonce, from: prepared.from },
    };
    if (joinCrash("before-send")) {
      // the state "intent durable, transaction never at the node" (a send lost with the process)
      msrp.commitJoin(v);
      await journal(data, v.rn).durable;
      process.kill(process.pid, "SIGKILL");
    }
    const sending = prepared.send();
    sending.catch(() => undefined);
    mark("tx.send");
    if (joinCrash("intent-lost")) {
      // the state "transaction sent, intent never durable" (the crash came before its fsync)
      await sending;
      process.kill(process.pid, "SIGKILL");
    }
    await transportTurns();
    mark("turns");
    // while the node mines: the records the intent holds (once: a resend journals the same records)
    if (!committed) msrp.commitJoin(v);
    committed = true;
    mark("msrp.commit");
    const intent = journal(data, v.rn);
    let phase: "send" | "wait" = "send";
    let tx: TxInfo;
    try {
      const sent = await sending;
      mark("tx.sent");
      phase = "wait";
      if (joinCrash("after-send")) {
        await intent.durable;
        process.kill(process.pid, "SIGKILL");
      }
      tx = await sent.wait();
      mark("tx.receipt");
    } catch (e) {
      if (neverMined(e, phase)) await intent.drop();
      else intent.leave();
      // The node refused the transaction for its nonce (another sender of the MSRP's key since this
      // process counted it: s27-rtc F3): it is not in the node's pool, and its intent is dropped.
      // The wallet counts again (ChainWallet.sendSigned), and recordJoin is signed anew with the
      // fresh count and journaled under its own hash, as sendCall retries (NONCE_RETRIES). One
      // record at most: the registry refuses a second record of the PID or the tag (PidExists,
      // TagUsed), so a first transaction mined after all makes the resend revert, and the join's
      // next try takes the retry path (change 17).
      if (phase === "send" && attempt < NONCE_RETRIES && isNonceError(e)) {
        prepared = (await ctx.ledger.prepareRecordJoin(v.record))!;
        mark("tx.signed");
        continue;
      }
      throw e;
    }
    try {
      await intent.durable;
      mark("intent.durable");
    } catch (e) {
      // the transaction is mined and the records are not durable: a retry of the join commits them
      // (serveJoin's retry path, change 17); the torn intent is deleted by the next recovery
      intent.leave();
      throw e;
    }
    if (joinCrash("after-receipt")) process.kill(process.pid, "SIGKILL");
    intent.apply();
    mark("intent.apply");
    return { tx, journaled: true };
  }
}

/**
 * Event-loop turns a join lets pass after its transaction is handed to the provider before it
 * serializes its records (issue 20). The batching transport sends what was asked for in a turn at
 * the start of the next one (offchain/chain/transport.ts), and DirectContract.prepare asks for the
 * early receipt two turns after the send: by the third turn both requests are on their way, and the
 * records' CPU (the MSRP's commit, the serialization, the intent's write) runs while the node mines,
 * not before the transaction leaves. A crash in these turns leaves the state a crash right after the
 * send always could (the transaction sent, no intent: join-crash.test.ts `intent-lost`): a retry of
 * the join commits the records from the chain's record (rsms-join.md change 17).
 */
const SEND_TURNS = 3;
async function transportTurns(): Promise<void> {
  for (let i = 0; i < SEND_TURNS; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Whether a failed transaction will never be mined: the node refused it when it was sent (a
 * JSON-RPC error: a revert the node simulated, a nonce it refused), or its receipt says it reverted
 * or shows no record (the registry's code gone: ContractCodeGoneError), or the node no longer knows
 * it (the usual finality rule, direct.ts waitReceipt). Anything else (the node unreachable, a
 * receipt that could not be read) leaves the outcome unknown.
 */
function neverMined(e: unknown, phase: "send" | "wait"): boolean {
  // (a receipt without the registry's JoinRecorded: the registry's code is gone, the transaction was
  // a plain transfer and is final: nothing of the join will ever be on-chain from it; s27-rtc F1)
  if (e instanceof TransactionDroppedError || e instanceof ContractRevertError || e instanceof ContractCodeGoneError) return true;
  if (e instanceof MetatrustError && e.code === "PROTOCOL_REJECTED") return true; // reverted on-chain
  if (phase !== "send") return false;
  return isNonceError(e) || typeof (e as { code?: unknown })?.code === "number";
}

/**
 * Resolves the join intents a crashed or failed `rsms:join` left in the keystore (Keystore.intents),
 * from the chain, before anything reads the records they name: an intent is applied iff the
 * registry holds its record (the PID with its tag, pool and kind: the effect of its transaction,
 * whichever transaction carried it), and dropped once its transaction will never be mined: its
 * receipt is in and the record is not, or the node no longer knows it (direct.ts waitReceipt, the
 * usual finality rule; a transaction still pending is waited for). The record is read again after
 * the receipt or the drop, so a transaction mined between the two reads is not missed.
 * @returns how many intents were applied and dropped
 */
export async function resolveJoinIntents(
  ks: Keystore,
  ledger: RsmsLedger,
  provider: RawProvider,
): Promise<{ applied: number; dropped: number }> {
  const out = { applied: 0, dropped: 0 };
  for (const i of ks.intents()) {
    if (i.kind !== JOIN_INTENT) continue;
    const d = i.data as JoinIntentData;
    const recorded = async () => {
      const on = await ledger.recordOf(fromHex(d.pid, 32));
      return equalBytes(on.tag, fromHex(d.tag, 32)) && on.poolId === d.poolId && on.kind === d.kind;
    };
    let apply = await recorded();
    if (!apply) {
      try {
        await waitReceipt(provider, d.tx.hash);
      } catch (e) {
        if (!(e instanceof TransactionDroppedError)) throw e;
      }
      apply = await recorded();
    }
    ks.resolveIntent(i.file, apply);
    out[apply ? "applied" : "dropped"]++;
  }
  return out;
}

/**
 * Where a re-authentication's decision reads the join records: the registry itself
 * ({@link RsmsLedger}: `recordOf` and `isTagUsed` are `eth_call`s that name the ids) or the
 * registry's `JoinRecorded` logs ({@link JoinLog}, synced first: a query that names no id).
 */
export type JoinRecords = {
  recordOf(pid: Uint8Array): LoggedRecord | Promise<LoggedRecord>;
  isTagUsed(tag: Uint8Array): boolean | Promise<boolean>;
};

/** What {@link reauthStep} decides: answer a retry again, or forward PID_k's recorded tag. */
export type ReauthStep = { retried: true } | { retried: false; claimedRecordTag: Uint8Array; nextRecorded: boolean };

/**
 * The RPM's decision on an opened re-authentication request, from a records source: the one body
 * the in-process flow ({@link serveReauth}) and the RPM service share.
 *
 * If H4(a'_{k+1}) is used and PID_{k+1} holds this RN's own re-authentication record (its tag, right
 * after PID_k holding the claimed tag) at this pool, the request is a retry: the reply is sent again
 * and nothing is written. At another pool: NEXT_PID_RECORDED (the RN resynchronises from the chain,
 * {@link resyncRn}). Otherwise a used tag is a replay.
 * @throws RsmsRejectedError(NEXT_PID_RECORDED | REPLAYED_SECRET)
 */
export async function reauthStep(
  records: JoinRecords,
  opened: ReturnType<ResourcePoolManager["openReauthRequest"]>,
  poolId: number,
): Promise<ReauthStep> {
  // one after the other, though both are local reads for a JoinLog: with the ledger as source
  // the node still sees both ids, which is why serveReauth reads the log (h14-red F4)
  const rec = await records.recordOf(opened.pid);
  const nextRec = await records.recordOf(opened.nextPid);
  const nextTagUsed = await records.isTagUsed(opened.nextTag);
  if (nextTagUsed) {
    const mine = nextRec.kind === 2 && equalBytes(nextRec.tag, opened.nextTag) && equalBytes(rec.tag, opened.claimedTag);
    if (mine && nextRec.poolId === poolId) return { retried: true };
    if (mine)
      throw new RsmsRejectedError(
        "NEXT_PID_RECORDED",
        `serveReauth: PID_{k+1} ${toHex(opened.nextPid)} is already recorded at pool ${nextRec.poolId}: resynchronise from the chain`,
      );
    throw new RsmsRejectedError("REPLAYED_SECRET", `serveReauth: H4(a'_{k+1}) is already on-chain: replayed re-authentication`);
  }
  return { retried: false, claimedRecordTag: rec.tag, nextRecorded: !nextRec.tag.every((x) => x === 0) };
}

/**
 * RPM_Y's and the MSRP's side of a re-authentication.
 *
 * The RPM decides from the registry's `JoinRecorded` logs ({@link JoinLog}, read from block 0 on
 * each call unless `records` is given), not from `recordOf(PID_k)` and `recordOf(PID_{k+1})`: the
 * node would see both pseudonyms of the RN asked together (h14-red F4; rsms-join.md "What the RPM's
 * node sees"). Retries are safe ({@link reauthStep}).
 * @param records where the decision reads the records (default: a fresh JoinLog of ctx's registry, synced)
 * @throws RsmsRejectedError(NEXT_PID_RECORDED | TAG_NOT_RECORDED | REPLAYED_SECRET | MSRP_REJECTED), MalformedMessageError
 */
export async function serveReauth(
  ctx: RsmsContext,
  rpm: ResourcePoolManager,
  msrp: Msrp,
  request: Uint8Array,
  records?: JoinRecords,
): Promise<Served> {
  const opened = rpm.openReauthRequest(request);
  const step = await reauthStep(records ?? (await JoinLog.synced(ctx.ledger.registry)), opened, rpm.poolId);
  if (step.retried) {
    // The chain holds this very rotation at this pool. An MSRP that has not committed it (the step
    // that wrote it failed or died before its records were kept: `rsms:reauth` is not journaled)
    // commits it now, as serveJoin does for a join; one that has is left as it is (verifyReauth
    // finds no RN whose next pseudonym is PID_{k+1}). Without this the RN moves to PID_{k+1} and
    // the MSRP never does: it cannot trace PID_{k+1}, and refuses the RN's next rotation for good
    // (s17-redB B1). reauthStep checked that PID_k holds the claimed tag.
    let verified: VerifiedJoin | undefined;
    try {
      verified = msrp.verifyReauth(rpm.forwardReauth(opened, opened.claimedTag, false), { recorded: true });
      msrp.commitJoin(verified);
    } catch (e) {
      if (!(e instanceof RsmsRejectedError)) throw e;
      verified = undefined;
    }
    return {
      reply: rpm.reauthReply(opened),
      record: { pid: opened.nextPid, tag: opened.nextTag, poolId: rpm.poolId, kind: 2 },
      retried: true,
      ...(verified ? { verified } : {}),
    };
  }
  const forward = rpm.forwardReauth(opened, step.claimedRecordTag, step.nextRecorded);
  const verified = msrp.verifyReauth(forward);
  const tx = await ctx.ledger.recordJoin(verified.record);
  msrp.commitJoin(verified);
  return { reply: rpm.reauthReply(opened), record: verified.record, retried: false, forward, verified, tx };
}

/**
 * Resynchronises an RN whose reply was lost: if the chain holds the record of its pending
 * request, the RN takes that step (join or rotation), without a new request.
 * @returns true if the RN moved, false if the chain does not hold the record (nothing changes)
 */
export async function resyncRn(ctx: RsmsContext, rn: ResourceNode, pending: PendingJoin): Promise<boolean> {
  return rn.adoptRecorded(pending, await ctx.ledger.recordOf(pending.pid));
}

/**
 * Re-authentication of a joined RN at another pool (§IV.A.2.b).
 */
export async function reauthenticate(ctx: RsmsContext, rn: ResourceNode, rpm: ResourcePoolManager, msrp: Msrp): Promise<JoinResult> {
  const { request, pending } = rn.buildReauthRequest(await poolInfo(ctx, rpm.poolId));
  const served = await serveReauth(ctx, rpm, msrp, request);
  rn.acceptReauthReply(served.reply, pending);
  return {
    record: served.record,
    tx: served.tx,
    wire: { rnToRpm: request.length, rpmToMsrp: served.forward?.length ?? 0, rpmToRn: served.reply.length },
  };
}

/**
 * Initial authentication of many RNs at one pool with one on-chain transaction (recordJoins).
 * All or nothing: if any request is rejected, nothing is recorded.
 */
export async function initialJoinBatch(
  ctx: RsmsContext,
  rns: ResourceNode[],
  rpm: ResourcePoolManager,
  msrp: Msrp,
): Promise<{ records: JoinRecord[]; tx: TxInfo }> {
  const info = await poolInfo(ctx, rpm.poolId);
  await syncFilters(ctx, rpm);
  const items: { rn: ResourceNode; pending: PendingJoin; reply: Uint8Array; verified: VerifiedJoin }[] = [];
  const seen = new Set<string>();
  for (const rn of rns) {
    const { request, pending } = rn.buildJoinRequest(info);
    const opened = rpm.openJoinRequest(request);
    if (seen.has(toHex(opened.tag)) || (await ctx.ledger.isTagUsed(opened.tag))) {
      throw new RsmsRejectedError("REPLAYED_SECRET", `initialJoinBatch: ${rn.state.name}'s secret is already used`);
    }
    seen.add(toHex(opened.tag));
    const verified = msrp.verifyJoin(rpm.forwardJoin(opened), nowSec(ctx));
    items.push({ rn, pending, reply: rpm.joinReply(opened), verified });
  }
  const tx = await ctx.ledger.recordJoins(items.map((i) => i.verified.record));
  for (const i of items) {
    msrp.commitJoin(i.verified);
    i.rn.acceptJoinReply(i.reply, i.pending);
  }
  return { records: items.map((i) => i.verified.record), tx };
}
