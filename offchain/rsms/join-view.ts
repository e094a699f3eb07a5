/**
 * A process's local view of what a join checks before the RPM answers (issue 20, rsms-join.md
 * change 18): the pool (PK_RPM and PID_RPM for the RN's request, its filter count), the filter
 * roots of its live epochs, and the tags H4(a) the registry holds (the replay check). A join that
 * finds its pool here and its tag not among the tags builds, opens, checks and answers from the
 * view, with no chain read before its transaction; the registry's recordJoin stays the arbiter (a
 * tag or PID recorded since the view was read reverts, TagUsed / PidExists, and the journaled
 * join drops its intent: nothing changes anywhere).
 *
 * Kept current off the path: {@link JoinView.refresh} runs after each join of the process (between
 * requests), never during one. It reads the registry's `JoinRecorded` logs from a cursor (a query
 * that names no id) and each known pool's record and filter roots (joinView with a zero tag, which
 * names no RN either). A record is written once and every write emits `JoinRecorded` with its tag,
 * so the logs up to block b are the tags at block b. The cursor block's hash is kept: a chain that
 * went back under it (a reorganisation, a development node's evm_revert) resets the view: it answers
 * nothing until it is read again from block 0, and the process's other caches of chain state are
 * told (offchain/chain/reset.ts). A read that fails leaves the view answering nothing until one
 * succeeds (s27-rtc F2). The process's own joins are noted at their receipt.
 *
 * What the view may get wrong, and what that does (each arbitrated elsewhere):
 * - a tag recorded since its last refresh (another process, a replay inside the gap): taken as
 *   unused; the transaction reverts and the join changes nothing (attack test:
 *   test/rsms/join-view.test.ts);
 * - a tag it holds that the chain no longer does (a reorganisation): taken as used, and the join
 *   asks the chain as before (flows.viewedJoin returns nothing);
 * - a filter epoch published since (roots are append-only, so the roots it holds are exact while
 *   the chain does not go back; it can only lack later ones) or a pool key rotated since: the RPM's
 *   check refuses (NOT_IN_FILTER) before anything is forwarded or written, and the join reads the
 *   chain and runs again (flows.initialJoin). The request sealed to a stale key never leaves the
 *   process. An epoch published anew after the chain went back under the view (s27-rtc F4) replaces
 *   the view's old root at once when this process publishes it (notePublished); published by another process, the
 *   view holds its old root until its next refresh finds the cursor's block gone, and a join in that
 *   gap is checked against the old filter (an RN the MSRP registered, whose secret its verifyJoin
 *   still checks, may join once from an epoch the chain no longer holds).
 */
import { toHex } from "../crypto/bytes";
import { noteChainReset } from "../chain/reset";
import type { FilterOnChain, PoolOnChain, RsmsLedger } from "./ledger";

/** A pool as the view holds it: its record and the filter roots read with it, by epoch. */
export type ViewedPool = { pool: PoolOnChain; filters: ReadonlyMap<number, FilterOnChain> };

const ZERO_TAG = new Uint8Array(32);

/** The local view of one registry (see the file's comment). */
export class JoinView {
  /** The next block whose logs are read. */
  private next = 0;
  /** The hash of block next - 1 when it was read (a chain that went back changes it). */
  private cursorHash?: string;
  private readonly tags = new Set<string>();
  private readonly pools = new Map<number, ViewedPool>();
  private running?: Promise<void>;
  /** Counts the resets: a read under way when one happens takes nothing in. */
  private generation = 0;

  constructor(private readonly ledger: RsmsLedger) {}

  /** The pool as last read, if it was. */
  pool(poolId: number): ViewedPool | undefined {
    return this.pools.get(poolId);
  }

  /** The pools it holds. */
  poolIds(): number[] {
    return [...this.pools.keys()];
  }

  /** Whether the tag was recorded as of the last refresh (or by a join of this process). */
  tagUsed(tag: Uint8Array): boolean {
    return this.tags.has(toHex(tag));
  }

  /** A join of this process recorded this tag (its receipt is in). */
  noteTag(tag: Uint8Array): void {
    this.tags.add(toHex(tag));
  }

  /** Whether it holds a root for the pool's epoch (flows.publishFilter asks before it reads one). */
  holdsEpoch(poolId: number, epoch: number): boolean {
    return this.pools.get(poolId)?.filters.has(epoch) ?? false;
  }

  /**
   * A filter this process published (flows.publishFilter: its record as the chain holds it, read
   * after its transaction) for an epoch the view holds a root for: that root is from before the
   * chain went back under the view (s27-rtc F4; the next refresh finds the cursor's block gone and
   * reads all again), and is replaced at once. An epoch it does not hold stays out (the view's gap:
   * the RPM refuses, the join reads the chain).
   */
  notePublished(poolId: number, epoch: number, filter: FilterOnChain): void {
    const v = this.pools.get(poolId);
    if (!v?.filters.has(epoch)) return;
    const filters = new Map(v.filters);
    filters.set(epoch, filter);
    this.pools.set(poolId, { pool: v.pool, filters });
  }

  /**
   * Forgets everything it holds: it answers nothing until a read from block 0 succeeds, and a read
   * under way takes nothing in (the chain went back or was reset under the process:
   * offchain/chain/reset.ts).
   */
  reset(): void {
    this.generation++;
    this.next = 0;
    this.cursorHash = undefined;
    this.tags.clear();
    this.pools.clear();
  }

  /** The refresh under way, if any. */
  get settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /**
   * Reads the tags recorded since the cursor and the pools asked for (each with the roots from
   * `fromEpoch(pool)` on, at most `maxEpochs`). One refresh at a time: a call while one runs
   * waits for it and reads again.
   */
  refresh(poolIds: readonly number[], fromEpoch: (poolId: number) => number, maxEpochs: number): Promise<void> {
    const prev = this.running ?? Promise.resolve();
    const run = prev
      .catch(() => undefined)
      .then(() => this.read(poolIds, fromEpoch, maxEpochs))
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.running = run;
    return run;
  }

  private async read(poolIds: readonly number[], fromEpoch: (poolId: number) => number, maxEpochs: number): Promise<void> {
    try {
      await this.readAside(poolIds, fromEpoch, maxEpochs);
    } catch (e) {
      // a view that could not be read answers nothing (flows.viewedJoin: the join reads the chain)
      // until a refresh succeeds: what it held may be what the failed read would have replaced
      // (s27-rtc F2: a reset whose read from block 0 failed kept its pools with no tags)
      this.pools.clear();
      throw e;
    }
  }

  /**
   * The read: everything is asked for before anything held is changed, and the answers are taken
   * in at once when all are in (a failed read changes only what `read` drops).
   */
  private async readAside(poolIds: readonly number[], fromEpoch: (poolId: number) => number, maxEpochs: number): Promise<void> {
    const provider = this.ledger.registry.runner!.provider!;
    const [latest, cursor] = await Promise.all([
      provider.getBlock("latest"),
      this.next > 0 ? provider.getBlock(this.next - 1) : Promise.resolve(null),
    ]);
    if (!latest) throw new Error("JoinView: the node has no latest block");
    if (this.next > 0 && (!cursor || cursor.hash !== this.cursorHash)) {
      // the chain went back under the cursor: nothing held is answered any more (the pools'
      // roots and keys, the tags may all be gone), everything is read again from block 0, and the
      // process's other caches of chain state are told (offchain/chain/reset.ts: the kept RPM
      // agents' filters, the addresses found to hold code)
      const at = this.next - 1;
      this.reset();
      noteChainReset(`JoinView: block ${at} is not the block it read (the chain went back under it)`);
    }
    const generation = this.generation;
    const reg = this.ledger.registry;
    const froms = poolIds.map(fromEpoch);
    const [logs, views] = await Promise.all([
      this.next <= latest.number ? reg.queryFilter(reg.filters.JoinRecorded(), this.next, latest.number) : Promise.resolve([]),
      Promise.all(poolIds.map((p, i) => this.ledger.joinView(p, ZERO_TAG, froms[i], maxEpochs))),
    ]);
    if (generation !== this.generation) return; // reset meanwhile: the next refresh reads from block 0
    for (const l of logs) this.tags.add(String(l.args.tag).toLowerCase());
    this.next = latest.number + 1;
    this.cursorHash = latest.hash ?? undefined;
    poolIds.forEach((p, i) => {
      const v = views[i];
      if (!v.pool) this.pools.delete(p);
      else this.pools.set(p, { pool: v.pool, filters: new Map(v.filters.map((f, j) => [froms[i] + j, f])) });
    });
  }
}
