/**
 * A contract's logs of one event, folded into a caller's state from a kept cursor: each
 * {@link LogCursor.sync} is one `eth_blockNumber` and one `eth_getLogs` over the blocks since the
 * last read, a query that names no id (h12-red L1, h14-red F4: the node learns nothing of which
 * ids the reader cares about).
 *
 * Each read goes back {@link LOG_OVERLAP} blocks below the cursor, so a log a shallow
 * reorganisation moved is read again. The fold must be idempotent (a log may be folded twice) and
 * it only adds: what a reorganisation removed stays (a superset of the chain's state, which each
 * user documents). A provider with a block-range limit on `eth_getLogs` would need the read paged:
 * {@link LogCursor} is the one place to add it.
 *
 * Concurrent callers are coalesced: while a read runs, every caller that arrives waits for the one
 * next read, started once the running one ends (it must start after the caller arrived, since the
 * running read may have taken its latest block before), so N concurrent callers cost at most two
 * reads, not N.
 */

/** Blocks a cursor reads again below where it stopped (a shallow reorganisation may replace them). */
export const LOG_OVERLAP = 12;

/** Where a cursor reads: the latest block, and the logs of its event in a range of blocks. */
export type LogSource<T> = {
  latest(): Promise<number>;
  logs(fromBlock: number, toBlock: number): Promise<T[]>;
};

/** The logs of one event from a kept cursor, folded by the caller. */
export class LogCursor<T> {
  private next = 0;
  private running?: Promise<void>;
  private queued?: Promise<void>;

  /**
   * @param source - where the logs are read
   * @param fold - takes one log into the caller's state (idempotent: a log in the overlap is folded again)
   */
  constructor(
    private readonly source: LogSource<T>,
    private readonly fold: (log: T) => void,
  ) {}

  /**
   * Reads the logs up to the latest block, by a read that starts after this call (a caller that
   * arrives while a read runs shares the next one).
   * @throws what the source throws (the cursor does not move; the next call reads again)
   */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    const queued = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    this.queued = queued;
    return queued;
  }

  private start(): Promise<void> {
    const p = this.read().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async read(): Promise<void> {
    const latest = await this.source.latest();
    const from = Math.max(0, this.next - LOG_OVERLAP);
    if (latest < from) return;
    for (const l of await this.source.logs(from, latest)) this.fold(l);
    this.next = Math.max(this.next, latest + 1);
  }
}
