/**
 * The RSMS agents' view of the chain: the ResourcePoolRegistry contract through ethers, with
 * byte/bigint conversions and the gas of every write.
 */
import type { ContractTransactionResponse, Interface } from "ethers";
import type { ResourcePoolRegistry } from "../../typechain-types";
import { minedReceipt } from "../chain/mined";
import { codeGone, direct, type DirectContract, type ExpectedLog } from "../chain/direct";
import { recordJoinsGas } from "../chain/sender";
import { AgentStateError } from "./errors";
import { fromHex, toHex } from "../crypto/bytes";
import { Point, decodePoint, encodePoint } from "../crypto/group";
import type { JoinRecord } from "./msrp";

/**
 * The most joins one recordJoins transaction carries (the bound of the MSRP's `--batch-max`): the
 * static gas limit of that many, {@link recordJoinsGas}, stays under EIP-7825's cap per transaction
 * (TX_GAS_CAP, 2^24; about 14 M gas at about 72,000 a join with the headroom).
 */
export const MAX_JOINS_PER_TX = 128;

/** A mined transaction. */
export type TxInfo = { hash: string; gasUsed: bigint; block: number };
/** A pool as the chain has it. */
export type PoolOnChain = { poolId: number; rpm: string; pidRpm: Uint8Array; pkRpm: Point; epochs: number };
/** A published filter root. */
export type FilterOnChain = { root: Uint8Array; cid: string; capacity: number; lambda: number; publishedAt: number };

const ZERO32 = new Uint8Array(32);

/**
 * A write sent through ethers, once mined, checked to carry `count` of the event its call must emit
 * from the registry (s27-fxc: as the fast path's ExpectedLog; ethers estimates the gas of a call to
 * an address with no code as a transfer's, and a static gas limit sends it too: mined with status 1).
 * @throws ContractCodeGoneError for a receipt without them
 */
async function mined(
  tx: Promise<ContractTransactionResponse>,
  registry: ResourcePoolRegistry,
  fn: string,
  event: string,
  count = 1,
): Promise<TxInfo> {
  const r = await minedReceipt(tx);
  const at = String(registry.target).toLowerCase();
  const topic = (registry.interface as Interface).getEvent(event)!.topicHash;
  let n = 0;
  for (const l of r.logs) if (l.address.toLowerCase() === at && l.topics[0] === topic) n++;
  if (n < count)
    throw codeGone(`ResourcePoolRegistry.${fn}`, "ResourcePoolRegistry", String(registry.target), r.hash, r.blockNumber, event);
  return { hash: r.hash, gasUsed: r.gasUsed, block: r.blockNumber };
}

/** A Pool record as the agents use it (PK_RPM is its (pkParity, pkX)); undefined for no pool (rpm zero). */
function poolOf(
  poolId: number,
  p: { rpm: string; pkParity: bigint; epochs: bigint; pidRpm: string; pkX: string },
): PoolOnChain | undefined {
  if (p.rpm === "0x0000000000000000000000000000000000000000") return undefined;
  const pk = new Uint8Array(33);
  pk[0] = Number(p.pkParity);
  pk.set(fromHex(p.pkX, 32), 1);
  return { poolId, rpm: p.rpm, pidRpm: fromHex(p.pidRpm, 32), pkRpm: decodePoint(pk), epochs: Number(p.epochs) };
}

/** A FilterRoot record as the agents use it. */
function filterOf(f: { root: string; capacity: bigint; lambda: bigint; publishedAt: bigint; cid: string }): FilterOnChain {
  return {
    root: fromHex(f.root, 32),
    cid: f.cid,
    capacity: Number(f.capacity),
    lambda: Number(f.lambda),
    publishedAt: Number(f.publishedAt),
  };
}

/**
 * The log a recordJoin of `r` must leave (direct.ts ExpectedLog): the registry's JoinRecorded of
 * that PID, tag, pool and kind. A receipt without it is not the join's record (s27-rtc F1).
 */
function joinRecorded(r: JoinRecord): ExpectedLog {
  const pid = toHex(r.pid).toLowerCase();
  const tag = toHex(r.tag).toLowerCase();
  return {
    event: "JoinRecorded",
    match: ([p, t, pool, kind]) => p === pid && t === tag && Number(pool) === r.poolId && Number(kind) === r.kind,
  };
}

/** The ResourcePoolRegistry as the RSMS agents use it. Writes need the MSRP's signer. */
export class RsmsLedger {
  readonly registry: ResourcePoolRegistry;
  /** The registry's fast path (offchain/chain/direct.ts) when the runner allows it, else null. */
  private readonly fast: DirectContract | null;

  constructor(registry: ResourcePoolRegistry) {
    this.registry = registry;
    this.fast = direct(registry as never, "ResourcePoolRegistry") ?? null;
  }

  /** The registry's Pool record: (rpm, pkParity, epochs, pidRpm, pkX). */
  private async poolRecord(poolId: number): Promise<{ rpm: string; pkParity: bigint; epochs: bigint; pidRpm: string; pkX: string }> {
    if (!this.fast) return this.registry.pool(poolId);
    const [[rpm, pkParity, epochs, pidRpm, pkX]] = (await this.fast.call("pool", [poolId])) as [[string, bigint, bigint, string, string]];
    return { rpm, pkParity, epochs, pidRpm, pkX };
  }

  /**
   * The pool, or undefined if it does not exist: one read. PK_RPM is the record's (pkParity, pkX),
   * the compressed point the registry's poolPublicKey returns (abi.encodePacked(pkParity, pkX)).
   */
  async pool(poolId: number): Promise<PoolOnChain | undefined> {
    return poolOf(poolId, await this.poolRecord(poolId));
  }

  /** How many filters the pool has published (its epochs), or undefined if it does not exist: one read. */
  async poolEpochs(poolId: number): Promise<number | undefined> {
    const p = await this.poolRecord(poolId);
    return p.rpm === "0x0000000000000000000000000000000000000000" ? undefined : Number(p.epochs);
  }

  /** createPool (MSRP). */
  createPool(poolId: number, rpm: string, pidRpm: Uint8Array, pkRpm: Point): Promise<TxInfo> {
    return mined(
      this.registry.createPool(poolId, rpm, toHex(pidRpm), toHex(encodePoint(pkRpm))),
      this.registry,
      "createPool",
      "PoolCreated",
    );
  }

  /** publishFilter (MSRP); returns the epoch it got. */
  async publishFilter(
    poolId: number,
    root: Uint8Array,
    cid: string,
    capacity: number,
    lambda: number,
  ): Promise<{ epoch: number; tx: TxInfo }> {
    const epoch = Number((await this.registry.pool(poolId)).epochs);
    const tx = await mined(
      this.registry.publishFilter(poolId, toHex(root), cid, capacity, lambda),
      this.registry,
      "publishFilter",
      "FilterPublished",
    );
    return { epoch, tx };
  }

  /** A pool's filter root for an epoch. */
  async filterAt(poolId: number, epoch: number): Promise<FilterOnChain> {
    const f = this.fast
      ? (([[root, capacity, lambda, publishedAt, cid]]) => ({ root, capacity, lambda, publishedAt, cid }))(
          (await this.fast.call("filterAt", [poolId, epoch])) as [[string, bigint, bigint, bigint, string]],
        )
      : await this.registry.filterAt(poolId, epoch);
    return filterOf(f);
  }

  /**
   * What a join reads before its transaction, in one call (the registry's joinView): the pool
   * (undefined if it does not exist), whether the tag is used, and the pool's filters from
   * `fromEpoch` on, at most `maxEpochs` of them, none past its last.
   */
  async joinView(
    poolId: number,
    tag: Uint8Array,
    fromEpoch: number,
    maxEpochs: number,
  ): Promise<{ pool: PoolOnChain | undefined; tagUsed: boolean; filters: FilterOnChain[] }> {
    type P = { rpm: string; pkParity: bigint; epochs: bigint; pidRpm: string; pkX: string };
    type F = { root: string; capacity: bigint; lambda: bigint; publishedAt: bigint; cid: string };
    let p: P, used: boolean, fs: F[];
    if (this.fast) {
      const [[rpm, pkParity, epochs, pidRpm, pkX], u, rows] = (await this.fast.call("joinView", [
        poolId,
        toHex(tag),
        fromEpoch,
        maxEpochs,
      ])) as [[string, bigint, bigint, string, string], boolean, [string, bigint, bigint, bigint, string][]];
      p = { rpm, pkParity, epochs, pidRpm, pkX };
      used = u;
      fs = rows.map(([root, capacity, lambda, publishedAt, cid]) => ({ root, capacity, lambda, publishedAt, cid }));
    } else {
      const r = await this.registry.joinView(poolId, toHex(tag), fromEpoch, maxEpochs);
      p = r.p;
      used = r.tagUsed;
      fs = r.filters;
    }
    return { pool: poolOf(poolId, p), tagUsed: used, filters: fs.map(filterOf) };
  }

  /** True iff H4(a) = tag is on-chain. */
  async isTagUsed(tag: Uint8Array): Promise<boolean> {
    if (this.fast) return ((await this.fast.call("isTagUsed", [toHex(tag)])) as [boolean])[0];
    return this.registry.isTagUsed(toHex(tag));
  }

  /** The tag recorded with a PID (32 zero bytes if none), its pool and kind. */
  async recordOf(pid: Uint8Array): Promise<{ tag: Uint8Array; poolId: number; kind: number; recordedAt: number }> {
    const r = await this.registry.recordOf(toHex(pid));
    return { tag: fromHex(r.tag, 32), poolId: Number(r.poolId), kind: Number(r.kind), recordedAt: Number(r.recordedAt) };
  }

  /** True iff the PID has a record. */
  async isPidRecorded(pid: Uint8Array): Promise<boolean> {
    const { tag } = await this.recordOf(pid);
    return !tag.every((x, i) => x === ZERO32[i]);
  }

  /** recordJoin (MSRP). */
  async recordJoin(r: JoinRecord): Promise<TxInfo> {
    const args = [toHex(r.pid), toHex(r.tag), r.poolId, r.kind] as const;
    if (this.fast?.wallet) {
      const t = await (await this.fast.send("recordJoin", args, joinRecorded(r))).wait();
      return { hash: t.hash, gasUsed: t.gasUsed, block: t.blockNumber };
    }
    return mined(this.registry.recordJoin(...args), this.registry, "recordJoin", "JoinRecorded");
  }

  /**
   * recordJoin signed and not sent yet, when the MSRP signs on the fast path (a ChainWallet): its
   * hash is known before the node sees it, so a caller can journal it while it sends (flows.ts,
   * the join's intent). Undefined otherwise (a node-managed signer): the caller uses recordJoin.
   */
  async prepareRecordJoin(
    r: JoinRecord,
  ): Promise<{ hash: string; nonce: number; from: string; send(): Promise<{ wait(): Promise<TxInfo> }> } | undefined> {
    if (!this.fast?.wallet) return undefined;
    const p = await this.fast.prepare("recordJoin", [toHex(r.pid), toHex(r.tag), r.poolId, r.kind], joinRecorded(r));
    return {
      hash: p.hash,
      nonce: p.nonce,
      from: p.from,
      send: async () => {
        const sent = await p.send();
        return {
          wait: async () => {
            const t = await sent.wait();
            return { hash: t.hash, gasUsed: t.gasUsed, block: t.blockNumber };
          },
        };
      },
    };
  }

  /**
   * recordJoins (MSRP): all or nothing, sent with a static gas limit for its size
   * ({@link recordJoinsGas}: no eth_estimateGas, as recordJoin's fast path).
   * @throws AgentStateError for no joins or more than {@link MAX_JOINS_PER_TX}, before anything is sent
   */
  async recordJoins(rs: JoinRecord[]): Promise<TxInfo> {
    if (rs.length < 1 || rs.length > MAX_JOINS_PER_TX)
      throw new AgentStateError(`recordJoins: ${rs.length} joins in one transaction (1 to ${MAX_JOINS_PER_TX})`);
    return mined(
      this.registry.recordJoins(
        rs.map((r) => ({ pid: toHex(r.pid), tag: toHex(r.tag), poolId: r.poolId, kind: r.kind })),
        { gasLimit: recordJoinsGas(rs.length) },
      ),
      this.registry,
      "recordJoins",
      "JoinRecorded",
      rs.length,
    );
  }

  /** Whether the MSRP marked the PID revoked (its RN in S_RN: s22-redx F2). */
  async isRevoked(pid: string): Promise<boolean> {
    return this.registry.isRevoked(pid);
  }

  /** revokePid (MSRP): the PID's RN is in S_RN. */
  async revokePid(pid: string): Promise<TxInfo> {
    return mined(this.registry.revokePid(pid), this.registry, "revokePid", "PidRevoked");
  }

  /** reinstatePid (MSRP): the PID's RN left S_RN. */
  async reinstatePid(pid: string): Promise<TxInfo> {
    return mined(this.registry.reinstatePid(pid), this.registry, "reinstatePid", "PidReinstated");
  }

  /** Number of join records. */
  async joinCount(): Promise<number> {
    return Number(await this.registry.joinCount());
  }
}
