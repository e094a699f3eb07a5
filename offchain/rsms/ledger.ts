/**
 * The RSMS agents' view of the chain: the ResourcePoolRegistry contract through ethers, with
 * byte/bigint conversions and the gas of every write.
 */
import type { ContractTransactionResponse } from "ethers";
import type { ResourcePoolRegistry } from "../../typechain-types";
import { minedReceipt } from "../chain/mined";
import { fromHex, toHex } from "../crypto/bytes";
import { Point, decodePoint, encodePoint } from "../crypto/group";
import type { JoinRecord } from "./msrp";

/** A mined transaction. */
export type TxInfo = { hash: string; gasUsed: bigint; block: number };
/** A pool as the chain has it. */
export type PoolOnChain = { poolId: number; rpm: string; pidRpm: Uint8Array; pkRpm: Point; epochs: number };
/** A published filter root. */
export type FilterOnChain = { root: Uint8Array; cid: string; capacity: number; lambda: number; publishedAt: number };

const ZERO32 = new Uint8Array(32);

async function mined(tx: Promise<ContractTransactionResponse>): Promise<TxInfo> {
  const r = await minedReceipt(tx);
  return { hash: r.hash, gasUsed: r.gasUsed, block: r.blockNumber };
}

/** The ResourcePoolRegistry as the RSMS agents use it. Writes need the MSRP's signer. */
export class RsmsLedger {
  readonly registry: ResourcePoolRegistry;

  constructor(registry: ResourcePoolRegistry) {
    this.registry = registry;
  }

  /** The pool, or undefined if it does not exist. */
  async pool(poolId: number): Promise<PoolOnChain | undefined> {
    // both reads at once (one round trip); the key's read reverts for a pool that does not exist
    const [p, pk] = await Promise.all([
      this.registry.pool(poolId),
      this.registry.poolPublicKey(poolId).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
    ]);
    if (p.rpm === "0x0000000000000000000000000000000000000000") return undefined;
    if (pk instanceof Error) throw pk;
    return { poolId, rpm: p.rpm, pidRpm: fromHex(p.pidRpm, 32), pkRpm: decodePoint(fromHex(pk, 33)), epochs: Number(p.epochs) };
  }

  /** How many filters the pool has published (its epochs), or undefined if it does not exist: one read. */
  async poolEpochs(poolId: number): Promise<number | undefined> {
    const p = await this.registry.pool(poolId);
    return p.rpm === "0x0000000000000000000000000000000000000000" ? undefined : Number(p.epochs);
  }

  /** createPool (MSRP). */
  createPool(poolId: number, rpm: string, pidRpm: Uint8Array, pkRpm: Point): Promise<TxInfo> {
    return mined(this.registry.createPool(poolId, rpm, toHex(pidRpm), toHex(encodePoint(pkRpm))));
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
    const tx = await mined(this.registry.publishFilter(poolId, toHex(root), cid, capacity, lambda));
    return { epoch, tx };
  }

  /** A pool's filter root for an epoch. */
  async filterAt(poolId: number, epoch: number): Promise<FilterOnChain> {
    const f = await this.registry.filterAt(poolId, epoch);
    return {
      root: fromHex(f.root, 32),
      cid: f.cid,
      capacity: Number(f.capacity),
      lambda: Number(f.lambda),
      publishedAt: Number(f.publishedAt),
    };
  }

  /** True iff H4(a) = tag is on-chain. */
  isTagUsed(tag: Uint8Array): Promise<boolean> {
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
  recordJoin(r: JoinRecord): Promise<TxInfo> {
    return mined(this.registry.recordJoin(toHex(r.pid), toHex(r.tag), r.poolId, r.kind));
  }

  /** recordJoins (MSRP): all or nothing. */
  recordJoins(rs: JoinRecord[]): Promise<TxInfo> {
    return mined(this.registry.recordJoins(rs.map((r) => ({ pid: toHex(r.pid), tag: toHex(r.tag), poolId: r.poolId, kind: r.kind }))));
  }

  /** Number of join records. */
  async joinCount(): Promise<number> {
    return Number(await this.registry.joinCount());
  }
}
