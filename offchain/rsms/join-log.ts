/**
 * The join records as the registry's `JoinRecorded` logs show them, kept by an RPM (h14-red F4).
 *
 * A re-authentication must know PID_k's record (its tag: the RN's claim H4(a_k)), whether PID_{k+1}
 * is recorded (a retry, or a record at another pool) and whether H4(a'_{k+1}) is used. Read with
 * `recordOf(PID_k)`, `recordOf(PID_{k+1})` and `isTagUsed(H4(a'_{k+1}))`, the node the RPM reads
 * through (a hosted RPC provider, a load balancer, anyone on a plain-HTTP path) saw both pseudonyms
 * of the RN asked together, for every rotation: the linkage rotation hides from everyone but the
 * MSRP (RSMS §III.D.2, Prop. 7). h12-red L1 took the MSRP's flag reads off the same path.
 *
 * Here the RPM reads `eth_getLogs` of `JoinRecorded` from a kept cursor (a query that names no id),
 * re-read over the last {@link LOG_OVERLAP} blocks for a shallow reorganisation (offchain/chain/log-cursor.ts,
 * which also coalesces concurrent re-authentications into one read), and answers the
 * three questions locally. Exact: a record is written once (`_record` refuses a PID or a tag that is
 * recorded) and every write emits `JoinRecorded(pid, tag, poolId, kind)`, so the logs up to block
 * b are the records at block b. Cost: the first read after a start covers the whole history and the
 * RPM keeps every record in memory (a few hundred bytes each in V8: estimated, not measured); later reads are one `eth_getLogs` per
 * re-authentication over the blocks since the last one. A record a reorganisation removed stays in
 * the map (a superset, as the flag log): a retry may then be refused as REPLAYED_SECRET, or a forward
 * carry a tag the chain no longer holds, which the MSRP's transaction does not record; never a
 * record accepted that the chain refuses.
 */
import type { ResourcePoolRegistry } from "../../typechain-types";
import { fromHex } from "../crypto/bytes";
import { LogCursor } from "../chain/log-cursor";

/** A PID's join record (tag all zero when none), as `recordOf` returns it (without `recordedAt`). */
export type LoggedRecord = { tag: Uint8Array; poolId: number; kind: number };

const NONE: LoggedRecord = { tag: new Uint8Array(32), poolId: 0, kind: 0 };

/** The registry's join records, from its logs. */
export class JoinLog {
  private readonly byPid = new Map<string, LoggedRecord>();
  private readonly tags = new Set<string>();
  private readonly cursor;

  constructor(registry: ResourcePoolRegistry) {
    this.cursor = new LogCursor(
      {
        latest: () => registry.runner!.provider!.getBlockNumber(),
        logs: (from, to) => registry.queryFilter(registry.filters.JoinRecorded(), from, to),
      },
      (l) => {
        const pid = String(l.args.pid).toLowerCase();
        const tag = String(l.args.tag).toLowerCase();
        this.byPid.set(pid, { tag: fromHex(tag, 32), poolId: Number(l.args.poolId), kind: Number(l.args.kind) });
        this.tags.add(tag);
      },
    );
  }

  /** A new log of `registry`, synced (the whole history: one `eth_getLogs` from block 0). */
  static async synced(registry: ResourcePoolRegistry): Promise<JoinLog> {
    const log = new JoinLog(registry);
    await log.sync();
    return log;
  }

  /** Reads the logs up to the latest block (concurrent callers share one read that starts after they came: LogCursor). */
  sync(): Promise<void> {
    return this.cursor.sync();
  }

  /** The record of a PID as of the last {@link sync} (tag all zero when none). */
  recordOf(pid: Uint8Array): LoggedRecord {
    return this.byPid.get(hex(pid)) ?? NONE;
  }

  /** Whether a tag is recorded, as of the last {@link sync}. */
  isTagUsed(tag: Uint8Array): boolean {
    return this.tags.has(hex(tag));
  }
}

const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");
