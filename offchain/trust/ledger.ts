/**
 * The TrustManager as the trust agents use it: registration, ratings checked against the
 * off-chain model (Algorithm 5 step 3), agreements with their terms on IPFS (Eqs. 5-7, 55-59),
 * flags, and the rating history for the detectors.
 */
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { AbiCoder, keccak256 as ethersKeccak } from "ethers";
import type { TrustManager } from "../../typechain-types";
import { fromHex, toHex } from "../crypto/bytes";
import { keccak256 } from "../crypto/hash";
import { MetatrustError } from "../errors";
import type { ContentStore } from "../storage/content-store";
import { encodeJson, cidOf } from "../storage/content-store";
import { TrustModel, PairState, ratedTrust, fromWad } from "./fixed";
import type { RatingEvent } from "./detectors";

/** Entity kinds, as the contract numbers them. */
export const EntityKind = { avatar: 1, organization: 2, "resource-node": 3, authority: 4 } as const;
export type EntityKindName = keyof typeof EntityKind;

/** The value stored on-chain differs from the model's (Algorithm 5's integrity check failed). */
export class TrustIntegrityError extends MetatrustError {
  constructor(message: string) {
    super("PROTOCOL_REJECTED", message);
  }
}

/**
 * The entity id of a name: 0x-prefixed 32-byte hex is taken as is (e.g. an RN's PID), anything
 * else is keccak256("metatrust:entity:" + name).
 */
export function entityId(nameOrId: string): string {
  if (/^0x[0-9a-fA-F]{64}$/.test(nameOrId)) return nameOrId.toLowerCase();
  return toHex(keccak256(new TextEncoder().encode(`metatrust:entity:${nameOrId}`)));
}

/** A mined transaction. */
export type TxInfo = { hash: string; gasUsed: bigint; block: number };

async function mined(tx: Promise<ContractTransactionResponse>): Promise<{ info: TxInfo; receipt: ContractTransactionReceipt }> {
  const r = await (await tx).wait();
  if (!r) throw new Error("transaction was not mined");
  return { info: { hash: r.hash, gasUsed: r.gasUsed, block: r.blockNumber }, receipt: r };
}

/** The terms P_ij of a trust agreement (Eq. 5), stored on IPFS as dag-json. */
export type AgreementTerms = {
  org: string;
  avatars: string[];
  durationDays: number;
  termination: string[];
  penalties: string[];
  createdAt: string;
};

export class TrustLedger {
  readonly tm: TrustManager;
  private model?: TrustModel;

  constructor(tm: TrustManager) {
    this.tm = tm;
  }

  /** The deployed model parameters (immutable, cached). */
  async getModel(): Promise<TrustModel> {
    if (!this.model) {
      const m = await this.tm.model();
      this.model = {
        factorCount: Number(m.factorCount),
        weights: m.weights,
        delta: m.delta,
        rho: m.rho,
        epochLength: m.epochLength,
        baseline: m.baseline,
        gamma: m.gamma,
        unverifiedFactor: m.unverifiedFactor,
        flaggedFactor: m.flaggedFactor,
        initialReputation: m.initialReputation,
        agreementWeight: m.agreementWeight,
      };
    }
    return this.model;
  }

  async register(id: string, kind: EntityKindName): Promise<TxInfo> {
    return (await mined(this.tm.register(id, EntityKind[kind]))).info;
  }

  async pair(from: string, to: string): Promise<PairState> {
    const p = await this.tm.pairOf(from, to);
    return { trust: p.trust, updatedAt: p.updatedAt, ratings: Number(p.ratings), oracle: p.oracle };
  }

  /**
   * Rates `to` on behalf of `from`, then checks the stored value against the off-chain model at
   * the block's timestamp (Algorithm 5 step 3).
   * @param factors - packed factor scores (fixed.packFactors)
   * @param evidence - sha2-256 digest of the evidence block, or undefined
   * @throws TrustIntegrityError if the chain stored another value
   */
  async rate(
    from: string,
    to: string,
    factors: bigint,
    evidence?: Uint8Array,
  ): Promise<{ tx: TxInfo; stored: bigint; rating: bigint; digest: string }> {
    const m = await this.getModel();
    const before = await this.pair(from, to);
    const { info, receipt } = await mined(
      this.tm.rate(from, to, factors, evidence ? toHex(evidence) : "0x" + "00".repeat(32), "0x" + "00".repeat(32)),
    );
    const block = await receipt.getBlock();
    const ev = receipt.logs.map((l) => this.tm.interface.parseLog(l)).find((l) => l?.name === "TrustStored");
    if (!ev) throw new TrustIntegrityError("rate: no TrustStored event");
    // Algorithm 5 step 3: the digest of what the model computes must equal the digest of what the
    // chain stored (read back from storage, not only from the event).
    const expected = ratedTrust(m, before, factors, BigInt(block.timestamp));
    const stored = await this.pair(from, to);
    const digestOf = (t: bigint) =>
      ethersKeccak(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32", "uint64", "uint256"], [from, to, t, block.timestamp]));
    if (ev.args.newTrust !== expected || digestOf(stored.trust) !== digestOf(expected)) {
      throw new TrustIntegrityError(`rate: the chain stored ${stored.trust}, the model computes ${expected}`);
    }
    return { tx: info, stored: expected, rating: ev.args.rating, digest: digestOf(expected) };
  }

  /**
   * Algorithm 2 with its terms on IPFS: P_ij as dag-json, H(P) = keccak256 of its bytes.
   * @returns the agreement id, mode, mean trust, CID and transaction
   */
  async proposeAgreement(
    store: ContentStore,
    org: string,
    avatars: string[],
    thresholds: bigint[],
    terms: Omit<AgreementTerms, "org" | "avatars" | "createdAt">,
  ) {
    const order = avatars.map((a, i) => ({ a, t: thresholds[i] })).sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : 0));
    const doc: AgreementTerms = { org, avatars: order.map((o) => o.a), ...terms, createdAt: new Date().toISOString() };
    const cid = await store.putJson(doc);
    const termsHash = keccak256(encodeJson(doc));
    const { info, receipt } = await mined(
      this.tm.proposeAgreement(
        org,
        order.map((o) => o.a),
        order.map((o) => o.t),
        toHex(termsHash),
        cid,
      ),
    );
    const ev = receipt.logs.map((l) => this.tm.interface.parseLog(l)).find((l) => l?.name === "AgreementFormed");
    if (!ev) throw new TrustIntegrityError("proposeAgreement: no AgreementFormed event");
    return {
      id: Number(ev.args.id),
      mode: (["direct", "smart-contract", "intermediary"] as const)[Number(ev.args.mode)],
      meanTrust: fromWad(ev.args.meanTrust),
      cid,
      termsHash,
      tx: info,
    };
  }

  /** Every rating so far, for the detectors (value = the rating's T_opt). */
  async ratings(fromBlock = 0): Promise<RatingEvent[]> {
    const logs = await this.tm.queryFilter(this.tm.filters.TrustStored(), fromBlock);
    const times = new Map<number, number>();
    const out: RatingEvent[] = [];
    for (const l of logs) {
      if (!times.has(l.blockNumber)) times.set(l.blockNumber, (await l.getBlock()).timestamp);
      out.push({ from: l.args.from, to: l.args.to, value: fromWad(l.args.rating), time: times.get(l.blockNumber)! });
    }
    return out;
  }

  /** Every registered entity id with its kind. */
  async entities(): Promise<{ id: string; kind: number }[]> {
    const logs = await this.tm.queryFilter(this.tm.filters.EntityRegistered());
    return logs.map((l) => ({ id: l.args.id, kind: Number(l.args.kind) }));
  }

  /** Flags an entity (DETECTOR_ROLE) with the CID digest of its detection report. */
  async flag(id: string, kind: number, evidence: Uint8Array): Promise<TxInfo> {
    return (await mined(this.tm.flag(id, kind, toHex(evidence)))).info;
  }
}

/**
 * Puts an evidence document on IPFS (raw block) and returns its CID and the digest that goes
 * on-chain with the rating.
 */
export async function putEvidence(store: ContentStore, bytes: Uint8Array): Promise<{ cid: string; digest: Uint8Array }> {
  const cid = await store.putBytes(bytes);
  const c = await cidOf(bytes, "raw");
  return { cid, digest: c.multihash.digest };
}

/** The raw CIDv1 of an on-chain evidence digest. */
export async function evidenceCid(digest: string): Promise<string> {
  const { CID } = await import("multiformats/cid");
  const Digest = await import("multiformats/hashes/digest");
  return CID.createV1(0x55, Digest.create(0x12, fromHex(digest, 32))).toString();
}
