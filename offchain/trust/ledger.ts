/**
 * The TrustManager as the trust agents use it: registration, ratings checked against the
 * off-chain model (Algorithm 5 step 3), agreements with their terms on IPFS (Eqs. 5-7, 55-59),
 * flags, and the rating history for the detectors.
 */
import type { ContractTransactionReceipt, ContractTransactionResponse, Signer } from "ethers";
import { Contract, ZeroHash } from "ethers";
import { sha256 } from "@noble/hashes/sha2.js";
import type { TrustManager } from "../../typechain-types";
import { minedReceipt } from "../chain/mined";
import { onChainReset } from "../chain/reset";
import { direct, eventCodecOf, lastBlockSeen, type DirectContract } from "../chain/direct";
import { isNonceError } from "../chain/sender";
import { abiParams } from "../chain/fastpath";
import { fromHex, toHex } from "../crypto/bytes";
import { keccak256 } from "../crypto/hash";
import { InvalidParameterError, MetatrustError } from "../errors";
import type { ContentStore } from "../storage/content-store";
import { encodeJson, cidOf, FetchDeferredError, ForeignFetcher, FETCH_BUDGET_MS } from "../storage/content-store";
import { ContentNotFoundError } from "../storage/errors";
import { TrustModel, PairState, ratedTrust, fromWad, optimizedTrust } from "./fixed";
import { EvidenceError, type RatingContext, type RatingEvidence, cidOfEvidenceDigest, verifyEvidence } from "./evidence";
import { ratingContextOf } from "./rater";
import type { RatingEvent } from "./detectors";

/** An attached evidence digest the detectors do not count (see {@link TrustLedger.ratings}). */
export type RefusedEvidence = { from: string; to: string; index: number; digest: string; reason: string };

/**
 * The eras (generations, `TrustManager.generationOf`) of a rating's two ids that it was built for:
 * `TrustManager.rate` refuses it (`TrustManager__StaleEra`) once either id was reclaimed since.
 */
export type Eras = { from: bigint; to: bigint };

/** Entity kinds, as the contract numbers them. */
export const EntityKind = { avatar: 1, organization: 2, "resource-node": 3, authority: 4 } as const;
export type EntityKindName = keyof typeof EntityKind;

/** The value stored on-chain differs from the model's (Algorithm 5's integrity check failed). */
export class TrustIntegrityError extends MetatrustError {
  constructor(message: string) {
    super("PROTOCOL_REJECTED", message);
  }
}

/** entityId's results by name (a rating asks for each of its two ids several times). */
const entityIds = new Map<string, string>();

/**
 * The entity id of a name: 0x-prefixed 32-byte hex is taken as is (e.g. an RN's PID), anything
 * else is keccak256("metatrust:entity:" + name).
 */
export function entityId(nameOrId: string): string {
  if (/^0x[0-9a-fA-F]{64}$/.test(nameOrId)) return nameOrId.toLowerCase();
  let id = entityIds.get(nameOrId);
  if (id === undefined) {
    id = toHex(keccak256(new TextEncoder().encode(`metatrust:entity:${nameOrId}`)));
    if (entityIds.size >= 4096) entityIds.clear(); // bounded: a long-running service names many entities
    entityIds.set(nameOrId, id);
  }
  return id;
}

/** Kinds whose ids an identity registry verifies (avatars: MITRegistry; resource nodes: ResourcePoolRegistry). */
const VERIFIABLE: readonly EntityKindName[] = ["avatar", "resource-node"];

/**
 * A registrar's attestation that `controller` owns identity `id` (the EIP-712 message
 * Registration(bytes32 id, uint8 kind, address controller, uint256 deadline) under the domain
 * ("TrustManager", "1", chainId, TrustManager)). The registrar is a writer of the kind's identity
 * registry, who authenticated the owner: the IdP for avatars, the MSRP for resource nodes.
 * @param registrar - the IdP's or the MSRP's signer
 * @param tm - the TrustManager
 * @param id - the avatar id or PID (0x, 32 bytes)
 * @param kind - "avatar" or "resource-node"
 * @param controller - the owner's account, which will call registerAttested
 * @param deadline - unix time after which the attestation is refused
 * @returns the 65-byte signature, 0x hex
 * @throws Error if the kind is not verifiable
 */
export async function attestRegistration(
  registrar: Signer,
  tm: TrustManager,
  id: string,
  kind: EntityKindName,
  controller: string,
  deadline: bigint,
): Promise<string> {
  if (!VERIFIABLE.includes(kind)) throw new Error(`attestRegistration: kind ${kind} has no identity registry`);
  if (!registrar.provider) throw new Error("attestRegistration: the registrar's signer has no provider");
  const { chainId } = await registrar.provider.getNetwork();
  return registrar.signTypedData(
    { name: "TrustManager", version: "1", chainId, verifyingContract: await tm.getAddress() },
    {
      Registration: [
        { name: "id", type: "bytes32" },
        { name: "kind", type: "uint8" },
        { name: "controller", type: "address" },
        { name: "deadline", type: "uint256" },
      ],
    },
    { id, kind: EntityKind[kind], controller, deadline },
  );
}

/**
 * The IdP's attestation that `controller` owns avatar `id` and takes it over at the id's
 * generation `generation` (`TrustManager.reclaimAvatar`): the EIP-712 message
 * AvatarReclaim(bytes32 id, address controller, uint256 generation, uint256 deadline) under the
 * domain ("TrustManager", "1", chainId, TrustManager). Every reclaim of a registered id moves its
 * generation on, so the attestation serves one reclaim (h14-red F5): sign the generation read from
 * the chain (`generationOf(id)`) when attesting.
 * @param registrar - the IdP's signer (IDP_ROLE of the avatar registry)
 * @param tm - the TrustManager
 * @param id - the avatar id (0x, 32 bytes)
 * @param controller - the owner's account, which will call reclaimAvatar
 * @param generation - the id's generation now (`generationOf(id)`)
 * @param deadline - unix time after which the attestation is refused
 * @returns the 65-byte signature, 0x hex
 */
export async function attestReclaim(
  registrar: Signer,
  tm: TrustManager,
  id: string,
  controller: string,
  generation: bigint,
  deadline: bigint,
): Promise<string> {
  if (!registrar.provider) throw new Error("attestReclaim: the registrar's signer has no provider");
  const { chainId } = await registrar.provider.getNetwork();
  return registrar.signTypedData(
    { name: "TrustManager", version: "1", chainId, verifyingContract: await tm.getAddress() },
    {
      AvatarReclaim: [
        { name: "id", type: "bytes32" },
        { name: "controller", type: "address" },
        { name: "generation", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    { id, controller, generation, deadline },
  );
}

/**
 * The CID of an agreement's terms: CIDv1, dag-json, sha2-256 of its `termsHash` (H(P), the digest
 * the avatars consented to; docs/specs/trust.md §3, §8.3's convention).
 * @param termsHash - 0x 32-byte hex, `agreement(id).termsHash` or `AgreementFormed`'s
 */
export function cidOfAgreementTerms(termsHash: string): string {
  return cidOfEvidenceDigest(termsHash);
}

/**
 * An agreement's terms as its avatars consented to them: fetched by the CID derived from the
 * on-chain `termsHash` (the store re-hashes the block against its CID, so other bytes cannot come back).
 * The CID is the organization's choice and may name a block nobody serves: one call waits at most
 * the store's timeout (a person asking once gets that wait as the answer); a caller that reads
 * terms on every pass (a service) passes its `fetcher`, which bounds the wait and skips a CID
 * within its miss backoff (s26-fxl L2).
 * @param store - the content store holding the terms
 * @param termsHash - the agreement's `termsHash`
 * @param o.fetcher - fetch through it (bounded wait, miss backoff) instead of the store directly
 * @param o.budget - the pass's time left for fetches that find nothing (with `fetcher`)
 * @throws ContentNotFoundError (FetchDeferredError when the fetcher did not try), ContentCorruptedError
 */
export async function agreementTerms(
  store: ContentStore,
  termsHash: string,
  o: { fetcher?: ForeignFetcher; budget?: { left: number } } = {},
): Promise<AgreementTerms> {
  const cid = cidOfAgreementTerms(termsHash);
  return (await (o.fetcher ? o.fetcher.getJson(store, cid, o.budget) : store.getJson(cid))) as AgreementTerms;
}

/** What each avatar named in an agreement signs (EIP-712, domain ("TrustManager", "1", chainId, TrustManager)). */
export type AgreementConsent = {
  org: string;
  avatars: string[];
  thresholds: bigint[];
  termsHash: string;
  nonce: bigint;
  deadline: bigint;
};

/**
 * An avatar controller's consent to an agreement: the EIP-712 message
 * AgreementConsent(bytes32 org, bytes32[] avatars, uint64[] thresholds, bytes32 termsHash,
 * uint256 nonce, uint256 deadline), nonce = TrustManager.agreementNonce(org).
 * @param signer - the controller of an avatar the agreement names
 * @param tm - the TrustManager
 * @param c - the agreement as proposed (avatars strictly increasing, one threshold each)
 * @returns the 65-byte signature, 0x hex
 */
export async function signAgreementConsent(signer: Signer, tm: TrustManager, c: AgreementConsent): Promise<string> {
  if (!signer.provider) throw new Error("signAgreementConsent: the signer has no provider");
  const { chainId } = await signer.provider.getNetwork();
  return signer.signTypedData(
    { name: "TrustManager", version: "1", chainId, verifyingContract: await tm.getAddress() },
    {
      AgreementConsent: [
        { name: "org", type: "bytes32" },
        { name: "avatars", type: "bytes32[]" },
        { name: "thresholds", type: "uint64[]" },
        { name: "termsHash", type: "bytes32" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    c,
  );
}

/** The rating digest's encoding: abi.encode(bytes32 from, bytes32 to, uint64 trust, uint256 updatedAt). */
const DIGEST_PARAMS = abiParams(["bytes32", "bytes32", "uint64", "uint256"]);

/**
 * The model of each TrustManager, per provider (see TrustLedger.getModel); dropped when the chain
 * is reset under this process (a redeployment at the same address may hold other parameters:
 * s27-review L3).
 */
let models = new WeakMap<object, Map<string, Promise<TrustModel>>>();
onChainReset(() => {
  models = new WeakMap();
});

/** A mined transaction. */
export type TxInfo = { hash: string; gasUsed: bigint; block: number };

async function mined(tx: Promise<ContractTransactionResponse>): Promise<{ info: TxInfo; receipt: ContractTransactionReceipt }> {
  const r = await minedReceipt(tx);
  return { info: { hash: r.hash, gasUsed: r.gasUsed, block: r.blockNumber }, receipt: r };
}

/**
 * An agreement an organization proposed, journaled before it is sent (trust:agree keeps it in the
 * keystore, s17-redA F16): the terms' createdAt (so a retry stores the same terms, the same H(P)),
 * the block before the first send (its AgreementFormed is looked for from there) and the account
 * nonce of the last send (a resend takes it while it is not mined: one of them at most is mined).
 */
export type AgreementIntent = { createdAt: string; fromBlock: number; nonce?: number };

/** Where an agreement intent is kept; `save` runs before each send. */
export type AgreementJournal = { load(): AgreementIntent | undefined; save(i: AgreementIntent): void };

/** The terms P_ij of a trust agreement (Eq. 5), stored on IPFS as dag-json. */
export type AgreementTerms = {
  org: string;
  avatars: string[];
  durationDays: number;
  termination: string[];
  penalties: string[];
  createdAt: string;
};

/** Evidence fetches (s25-rte K1): a record set not found is asked for again after MISS_RETRY_MS, doubling per miss up to MISS_RETRY_MAX_MS; one `ratings` call spends at most FETCH_BUDGET_MS on fetches that find nothing, and starts none with less than MIN_FETCH_WAIT_MS of it left (content-store.ts, ForeignFetcher). */
export { MISS_RETRY_MS, MISS_RETRY_MAX_MS, FETCH_BUDGET_MS } from "../storage/content-store";
/** The longest one evidence fetch may look for its block (ms). */
export const FETCH_TIMEOUT_MS = 10_000;

export class TrustLedger {
  readonly tm: TrustManager;
  private model?: TrustModel;
  /** The TrustManager's fast path (offchain/chain/direct.ts), when the runner allows it. */
  private fastPath?: DirectContract | null;
  /**
   * Verdicts on attached record sets (E4), in this object's memory only: a cache, never a source of
   * truth. Keyed by (digest, pair, rating index, block hash): the set is content-addressed and the
   * chain up to a block hash does not change, so a verdict stays true (a reorg changes the hash).
   * Only verdicts are kept: "not on IPFS" and node errors are retried on the next read.
   */
  private readonly verdicts = new Map<string, true | string>();
  /**
   * Fetches of blocks others chose (record sets, s25-rte K1; cleared flags' reports, s26-fxl L2):
   * each waits at most FETCH_TIMEOUT_MS, a CID not found waits out a backoff doubling from
   * MISS_RETRY_MS up to MISS_RETRY_MAX_MS (meanwhile its rating counts as unevidenced without a
   * fetch, so a CID nobody serves costs one timeout per backoff step, not one per run), and
   * `lastInputChange` names how many such retries have come due (s26-fxl L1).
   */
  readonly fetcher = new ForeignFetcher({ timeoutMs: FETCH_TIMEOUT_MS });
  /** the seed set's hash `lastInputChange` read last, and its block */
  private seedKey?: { block: number; hash: string };

  constructor(tm: TrustManager) {
    this.tm = tm;
  }

  /** The deployed model parameters (immutable: cached per provider and contract, one eth_call per process). */
  async getModel(): Promise<TrustModel> {
    if (!this.model) {
      const provider = this.tm.runner?.provider ?? undefined;
      const key = (await this.tm.getAddress()).toLowerCase();
      let byAddress = provider ? models.get(provider) : undefined;
      if (provider && !byAddress) models.set(provider, (byAddress = new Map()));
      let m = byAddress?.get(key);
      if (!m) {
        m = this.tm.model().then((x) => ({
          factorCount: Number(x.factorCount),
          weights: x.weights,
          delta: x.delta,
          rho: x.rho,
          epochLength: x.epochLength,
          baseline: x.baseline,
          gamma: x.gamma,
          unverifiedFactor: x.unverifiedFactor,
          flaggedFactor: x.flaggedFactor,
          initialReputation: x.initialReputation,
          agreementWeight: x.agreementWeight,
        }));
        byAddress?.set(key, m);
        m.catch(() => byAddress?.delete(key));
      }
      this.model = await m;
    }
    return this.model;
  }

  /**
   * Registers `id`, controlled by this ledger's account. An avatar or resource node that its
   * identity registry verifies is registered with the registrar's attestation (registerAttested):
   * the contract refuses it otherwise.
   * @param registrar - the IdP (avatars) or MSRP (resource nodes) signer that attests the owner
   * @throws Error if the registry verifies the id and no registrar is given
   */
  async register(id: string, kind: EntityKindName, registrar?: Signer): Promise<TxInfo> {
    if (VERIFIABLE.includes(kind)) {
      const v = await this.tm.verifierOf(EntityKind[kind]);
      const runner = this.tm.runner;
      const verified =
        v !== "0x" + "00".repeat(20) &&
        (await new Contract(v, ["function isVerified(bytes32) view returns (bool)"], runner).getFunction("isVerified")(id));
      if (verified) {
        if (!registrar) throw new Error(`register: ${id} is a verified ${kind}: its registrar must attest the owner`);
        // One person, one verified avatar: the contract refuses a second avatar of the same owner tag.
        if (kind === "avatar") {
          const { tag, bound } = await this.boundAvatar(v, id);
          if (bound !== ZeroHash && bound.toLowerCase() !== id.toLowerCase())
            throw new Error(
              `register: avatar ${id}'s owner (tag ${tag}) already has the attested avatar ${bound}: one person, one verified avatar; register this one unverified while it is not logged in, or take it back with reclaimAvatar`,
            );
        }
        if (!runner || !("getAddress" in runner)) throw new Error("register: the ledger has no signer");
        const controller = await (runner as Signer).getAddress();
        const block = await (runner as Signer).provider!.getBlock("latest");
        const deadline = BigInt(block!.timestamp) + 3600n;
        const a = await attestRegistration(registrar, this.tm, id, kind, controller, deadline);
        return (await mined(this.tm.registerAttested(id, EntityKind[kind], deadline, a))).info;
      }
    }
    return (await mined(this.tm.register(id, EntityKind[kind]))).info;
  }

  /** The owner tag of an avatar as its registry derives it (`ownerTagOf`), and the avatar bound to it. */
  private async boundAvatar(verifier: string, id: string): Promise<{ tag: string; bound: string }> {
    const reg = new Contract(verifier, ["function ownerTagOf(bytes32) view returns (bytes16)"], this.tm.runner);
    const tag = String(await reg.getFunction("ownerTagOf")(id));
    return { tag, bound: await this.tm.attestedAvatarOf(tag) };
  }

  /**
   * Registers or takes back a further avatar of a person who has her attested avatar
   * (`TrustManager.reclaimAvatar`): controlled by this ledger's account, unverified, reputation 0.
   * Everything the contract would refuse for the caller's input is refused first, in one line,
   * sending nothing: an avatar its registry does not verify (not logged in), an owner without an
   * attested avatar, the attested avatar itself, one this account controls already. The IdP's
   * attestation names the id's generation now (`attestReclaim`), so it serves this reclaim only.
   * @param registrar - the IdP signer that attests the owner
   */
  async reclaimAvatar(id: string, registrar: Signer): Promise<TxInfo> {
    const v = await this.tm.verifierOf(EntityKind.avatar);
    const runner = this.tm.runner;
    if (!runner || !("getAddress" in runner)) throw new Error("reclaimAvatar: the ledger has no signer");
    const controller = await (runner as Signer).getAddress();
    const verified =
      v !== "0x" + "00".repeat(20) &&
      (await new Contract(v, ["function isVerified(bytes32) view returns (bool)"], runner).getFunction("isVerified")(id));
    if (!verified) throw new Error(`reclaimAvatar: avatar ${id} is not logged in (its registry does not verify it): log it in first`);
    const { tag, bound } = await this.boundAvatar(v, id);
    if (bound === ZeroHash)
      throw new Error(`reclaimAvatar: avatar ${id}'s owner (tag ${tag}) has no attested avatar yet: register it (registerAttested)`);
    const e = await this.tm.entity(id);
    if (bound.toLowerCase() === id.toLowerCase() || e.attested)
      throw new Error(`reclaimAvatar: avatar ${id} is attested: nothing to take back`);
    if (e.controller.toLowerCase() === controller.toLowerCase())
      throw new Error(`reclaimAvatar: avatar ${id} is controlled by this account already`);
    const block = await (runner as Signer).provider!.getBlock("latest");
    const deadline = BigInt(block!.timestamp) + 3600n;
    const generation = await this.tm.generationOf(id);
    const a = await attestReclaim(registrar, this.tm, id, controller, generation, deadline);
    return (await mined(this.tm.reclaimAvatar(id, generation, deadline, a))).info;
  }

  /**
   * Registers a verified identity with an attestation its registrar gave the caller elsewhere (an
   * RN's PID: the MSRP service's `/v1/trust/attest`, offchain/services/rsms/attest.ts).
   * @param attestation - the registrar's 65-byte EIP-712 signature naming the caller and `deadline`
   */
  async registerWithAttestation(id: string, kind: EntityKindName, deadline: bigint, attestation: string): Promise<TxInfo> {
    if (!VERIFIABLE.includes(kind)) throw new Error(`registerWithAttestation: kind ${kind} has no identity registry`);
    return (await mined(this.tm.registerAttested(id, EntityKind[kind], deadline, attestation))).info;
  }

  /** The pair's stored state, now or as of the end of block `blockTag`. */
  async pair(from: string, to: string, blockTag?: number): Promise<PairState> {
    const d = this.fast();
    if (d) {
      const [[trust, updatedAt, ratings, oracle]] = (await d.call("pairOf", [from, to], blockTag)) as [[bigint, bigint, bigint, bigint]];
      return { trust, updatedAt, ratings: Number(ratings), oracle };
    }
    const p = await (blockTag === undefined ? this.tm.pairOf(from, to) : this.tm.pairOf(from, to, { blockTag }));
    return { trust: p.trust, updatedAt: p.updatedAt, ratings: Number(p.ratings), oracle: p.oracle };
  }

  /**
   * The generations of `from` and `to` now, or as of the end of block `blockTag`: the eras a rating
   * of the pair built there names (`rate`). On the fast path both reads go in one JSON-RPC batch.
   */
  async eras(from: string, to: string, blockTag?: number): Promise<Eras> {
    const d = this.fast();
    const of = (id: string): Promise<bigint> =>
      d
        ? d.call("generationOf", [id], blockTag).then((r) => (r as [bigint])[0])
        : blockTag === undefined
          ? this.tm.generationOf(id)
          : this.tm.generationOf(id, { blockTag });
    const [f, t] = await Promise.all([of(from), of(to)]);
    return { from: f, to: t };
  }

  /** The fast path of the TrustManager (reads; writes when the signer is a ChainWallet), or undefined. */
  private fast(): DirectContract | undefined {
    if (this.fastPath === undefined) this.fastPath = direct(this.tm as never, "TrustManager") ?? null;
    return this.fastPath ?? undefined;
  }

  /**
   * Rates `to` on behalf of `from`, then checks the stored value against the off-chain model at
   * the block's timestamp (Algorithm 5 step 3).
   *
   * The check needs the pair as the rating found it (`before`) and as it left it. On the fast path
   * (a ChainWallet signs) with a block this process has seen mined (lastBlockSeen) and no `before`
   * given, the pair before is read at that block, after the transaction, in one JSON-RPC batch with
   * the receipt and the pair after: two round trips, as a bare transaction's, plus one before the
   * transaction for the eras when `eras` is not given. This is the
   * pair the rating found: a pair changes only by a rating of it, which adds one to its `ratings`;
   * the block seen was mined before the transaction was sent; so when the pair after has exactly one
   * rating more than the pair at that block, no other rating of the pair came between, and the
   * state at that block is the state the rating found. Otherwise (or if the node cannot read that
   * block's state), both are read again at the receipt's block and the one before it (one
   * rating per pair per epoch: nothing else rates the pair in the rating's block).
   * @param factors - packed factor scores (fixed.packFactors)
   * @param evidence - sha2-256 digest of the evidence block, or undefined
   * @param before - the pair's state, read by the caller before the rating (with its own reads:
   *   one round trip less); read here if not given (see above)
   * @param eras - the generations of `from` and `to` the rating was built for (an evidenced
   *   rating: those `buildEvidence` read with its context); read here, before sending, if not given
   *   (one round trip, with `before` when that is read here too). The contract refuses the rating
   *   (`TrustManager__StaleEra`, nothing stored) if either id was reclaimed since (h16-red2 R6).
   * @throws TrustIntegrityError if the chain stored another value
   */
  async rate(
    from: string,
    to: string,
    factors: bigint,
    evidence?: Uint8Array,
    before?: Promise<PairState>,
    eras?: Eras | Promise<Eras>,
  ): Promise<{ tx: TxInfo; stored: bigint; rating: bigint; digest: string }> {
    const model = this.getModel(); // cached after the first use: no call
    model.catch(() => undefined); // awaited below; a failed send must not leave it unhandled
    const d = this.fast();
    // A block mined before this rating is sent, whose pair is read after it (see above).
    const seen = d?.wallet && before === undefined ? lastBlockSeen(d.provider) : undefined;
    // The pair as the rating will find it: read before sending (by the caller, with its own reads,
    // or here), unless it is read at the block seen. One rating per pair per decay epoch: nothing
    // else changes its trust meanwhile.
    let beforeP: Promise<PairState> | undefined = seen === undefined ? (before ?? this.pair(from, to)) : undefined;
    beforeP?.catch(() => undefined);
    // The eras the rating is for, read with the pair before (one batch) when the caller names none.
    const erasP = Promise.resolve(eras ?? this.eras(from, to));
    erasP.catch(() => undefined);
    await beforeP;
    const g = await erasP;
    const zero = "0x" + "00".repeat(32);
    const args = [from, to, factors, evidence ? toHex(evidence) : zero, zero, g.from, g.to] as const;
    // The pair as the rating left it, read together with the receipt: at the latest block, which
    // holds the rating when the node mined it before answering (a development node; else the
    // rating count has not moved, and it is read again at the receipt's block).
    let latest: Promise<PairState>;
    let info: TxInfo;
    let ev: { args: { rating: bigint; newTrust: bigint } };
    let early = false;
    if (d?.wallet) {
      // the fast path (offchain/chain/direct.ts): the same calls, without ethers' Contract machinery
      // issued together (one JSON-RPC batch over HTTP): the receipt, the pair after, the pair at the block seen
      const reads = () => {
        latest = this.pair(from, to);
        latest.catch(() => undefined);
        if (seen !== undefined) {
          beforeP = this.pair(from, to, seen);
          beforeP.catch(() => undefined);
        }
      };
      // Signed first, and its receipt and the two reads asked for two turns after the send, while the
      // node mines it (DirectContract.prepare), not once the send's answer is in: a node that takes
      // requests in order (`hardhat node`, automine) answers them after the rating, one round trip
      // earlier (issue 20). A node that answers them before it has mined the rating gives no receipt
      // (asked again at once) and a pair after whose count has not moved (read again below). A nonce
      // the node refuses (another process used it) is counted again and the rating sent as before.
      // the receipt must carry the TrustManager's TrustStored of the pair (a receipt without it is no
      // rating: the TrustManager's code is gone, a chain reset under the process; s27-fxc)
      const trustStored = { event: "TrustStored", match: ([f, t]: unknown[]) => f === from.toLowerCase() && t === to.toLowerCase() };
      let sent: Awaited<ReturnType<typeof d.send>>;
      try {
        sent = await (await d.prepare("rate", args, trustStored)).send(reads);
        early = true;
      } catch (e) {
        if (!isNonceError(e)) throw e;
        sent = await d.send("rate", args, trustStored);
        reads();
      }
      const r = await sent.wait();
      info = { hash: r.hash, gasUsed: r.gasUsed, block: r.blockNumber };
      const stored = eventCodecOf(this.tm.interface, "TrustStored");
      const log = r.logs.find((l) => l.topics[0] === stored.topic && l.address === d.address.toLowerCase());
      if (!log) throw new TrustIntegrityError("rate: no TrustStored event");
      const [, , rating, newTrust] = stored.decode(log.topics, log.data) as [string, string, bigint, bigint];
      ev = { args: { rating, newTrust } };
    } else {
      const sent = await this.tm.rate(...args);
      latest = this.pair(from, to);
      latest.catch(() => undefined);
      const m = await mined(Promise.resolve(sent));
      info = m.info;
      const receipt = m.receipt;
      const storedEvent = this.tm.interface.getEvent("TrustStored");
      // the event by its topic (parseLog on every log would hash every event signature of the ABI)
      const log = receipt.logs.find((l) => l.topics[0] === storedEvent.topicHash && l.address.toLowerCase() === receipt.to?.toLowerCase());
      if (!log) throw new TrustIntegrityError("rate: no TrustStored event");
      ev = { args: this.tm.interface.decodeEventLog(storedEvent, log.data, log.topics) as unknown as { rating: bigint; newTrust: bigint } };
    }
    const m = await model;
    let b = await beforeP!.catch((e) => {
      if (seen === undefined) throw e;
      return undefined; // the block seen's state is gone (a pruned node): read again below
    });
    let stored = await latest!;
    // (a block seen at or after the rating's, after a chain reverted and grew again, is no block before it;
    // a pair after read while the rating was under way holds it only if it holds the value its event names)
    if (
      b === undefined ||
      stored.ratings !== b.ratings + 1 ||
      (seen !== undefined && seen >= info.block) ||
      (early && stored.trust !== ev.args.newTrust)
    ) {
      if (b !== undefined && seen === undefined) stored = await this.pair(from, to, info.block);
      else [stored, b] = await Promise.all([this.pair(from, to, info.block), this.pair(from, to, info.block - 1)]);
    }
    // A pair starts afresh when either id is reclaimed (TrustManager keeps pairs per generation,
    // docs/specs/trust.md §6): a reclaim in the rating's block, or since the pair before was read,
    // leaves the earlier generation's pair there. A pair's count moves only by one per rating, so a
    // rating that left one found the pair empty.
    if (stored.ratings === 1 && b.ratings !== 0) b = { trust: 0n, updatedAt: 0n, ratings: 0, oracle: stored.oracle };
    // Algorithm 5 step 3: the digest of what the model computes must equal the digest of what the
    // chain stored (read back from storage, not only from the event); the stored pair's updatedAt
    // is the rating block's timestamp.
    const expected = ratedTrust(m, b, factors, stored.updatedAt);
    const digestOf = (t: bigint) => toHex(keccak256(fromHex(DIGEST_PARAMS.encode([from, to, t, stored.updatedAt]))));
    // The two digests encode the same (from, to, updatedAt) and differ only in the trust value:
    // they are equal iff the values are, so the values are compared and one digest is computed.
    const digest = digestOf(expected);
    if (ev.args.newTrust !== expected || stored.trust !== expected) {
      throw new TrustIntegrityError(`rate: the chain stored ${stored.trust}, the model computes ${expected}`);
    }
    return { tx: info, stored: expected, rating: ev.args.rating, digest };
  }

  /**
   * Algorithm 2 with its terms on IPFS: P_ij as dag-json, H(P) = the sha2-256 digest of that
   * block, whose CID (CIDv1, dag-json, sha2-256: `cidOfAgreementTerms`) is derived from H(P), so
   * the terms the avatars consent to and the document the agreement points to are one. Every
   * avatar named consents: its controller signs the agreement (signAgreementConsent), unless it
   * is this ledger's own account.
   * @param signerOf - the signer of an avatar controller's account (its controller, the avatar id); called for
   *   every avatar before the terms are stored, the intent journaled or anything sent, so a throw
   *   there leaves nothing behind
   * @returns the agreement id, mode, mean trust, CID and transaction
   */
  async proposeAgreement(
    store: ContentStore,
    org: string,
    avatars: string[],
    thresholds: bigint[],
    terms: Omit<AgreementTerms, "org" | "avatars" | "createdAt">,
    signerOf: (controller: string, avatar: string) => Promise<Signer>,
    journal?: AgreementJournal,
  ) {
    const order = avatars.map((a, i) => ({ a, t: thresholds[i] })).sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : 0));
    // a retry keeps the journaled terms (their createdAt): the same document, the same H(P)
    const earlier = journal?.load();
    const doc: AgreementTerms = {
      org,
      avatars: order.map((o) => o.a),
      ...terms,
      createdAt: earlier?.createdAt ?? new Date().toISOString(),
    };
    const termsHash = sha256(encodeJson(doc));
    const cid = cidOfAgreementTerms(toHex(termsHash));
    const formed = async (fromBlock: number) => {
      const logs = await this.tm.queryFilter(this.tm.filters.AgreementFormed(undefined, org), fromBlock);
      const l = logs.find((x) => x.args.termsHash.toLowerCase() === toHex(termsHash).toLowerCase());
      return l
        ? {
            id: Number(l.args.id),
            mode: (["direct", "smart-contract", "intermediary"] as const)[Number(l.args.mode)],
            meanTrust: fromWad(l.args.meanTrust),
            cid,
            termsHash,
            tx: undefined as TxInfo | undefined,
            existing: true,
          }
        : undefined;
    };
    if (earlier) {
      // the earlier attempt's agreement, if it was formed (its reply lost): nothing is sent
      const found = await formed(earlier.fromBlock);
      if (found) return found;
    }
    const me = await (this.tm.runner as Signer).getAddress();
    const provider = (this.tm.runner as Signer).provider!;
    const block = await provider.getBlock("latest");
    // Every consent is collected before the first effect (the terms' put, the journal, the send):
    // an avatar whose controller's key this machine does not hold is refused by `signerOf` with
    // nothing stored, journaled or sent (s23-fxops; the reads and signatures change nothing).
    const consent: AgreementConsent = {
      org,
      avatars: order.map((o) => o.a),
      thresholds: order.map((o) => o.t),
      termsHash: toHex(termsHash),
      nonce: await this.tm.agreementNonce(org),
      deadline: BigInt(block!.timestamp) + 3600n,
    };
    const consents: string[] = [];
    for (const a of consent.avatars) {
      const controller = (await this.tm.entity(a)).controller;
      consents.push(controller === me ? "0x" : await signAgreementConsent(await signerOf(controller, a), this.tm, consent));
    }
    const stored = await store.putJson(doc);
    if (stored !== cid) throw new TrustIntegrityError(`proposeAgreement: the store computed ${stored}, expected ${cid}`);
    // The intent is journaled before the send. A resend takes the earlier send's account nonce while
    // that nonce is not mined (the earlier transaction may be pending): at most one of them is mined.
    const minedCount = await provider.getTransactionCount(me, "latest");
    const nonce =
      earlier?.nonce !== undefined && earlier.nonce >= minedCount ? earlier.nonce : await provider.getTransactionCount(me, "pending");
    journal?.save({ createdAt: doc.createdAt, fromBlock: earlier?.fromBlock ?? block!.number, nonce });
    let sent: Awaited<ReturnType<typeof mined>>;
    try {
      sent = await mined(
        this.tm.proposeAgreement(
          org,
          consent.avatars,
          consent.thresholds,
          consent.termsHash,
          { deadline: consent.deadline, signatures: consents },
          journal ? { nonce } : {},
        ),
      );
    } catch (e) {
      // the reply was lost but the agreement may be formed (or an earlier send was mined first)
      const found = journal ? await formed(journal.load()!.fromBlock).catch(() => undefined) : undefined;
      if (found) return found;
      throw e;
    }
    const { info, receipt } = sent;
    const ev = receipt.logs.map((l) => this.tm.interface.parseLog(l)).find((l) => l?.name === "AgreementFormed");
    if (!ev) throw new TrustIntegrityError("proposeAgreement: no AgreementFormed event");
    return {
      id: Number(ev.args.id),
      mode: (["direct", "smart-contract", "intermediary"] as const)[Number(ev.args.mode)],
      meanTrust: fromWad(ev.args.meanTrust),
      cid,
      termsHash,
      tx: info as TxInfo | undefined,
      existing: false,
    };
  }

  /**
   * Every rating so far, for the detectors (value = the rating's T_opt), of each id's present era:
   * a rating given or received by an id before its last registration (`EntityRegistered`, which a
   * reclaim emits again after `EntityReclaimed`) is an earlier controller's and is left out, as the
   * contract leaves it out of the pairs (docs/specs/trust.md §6); ordered by block and log index,
   * so a rating in the reclaim's block counts only after it. Without a store,
   * `evidence` says only that an `EvidenceAttached` for the same pair is in the rating's
   * transaction: the contract emits one for any non-zero bytes32, so it proves nothing. With a
   * store (what the detection pipeline passes), a rating counts as evidenced only when its record
   * set is on IPFS under the digest's CID and checks against the chain exactly as `verifyRating`
   * checks it (pair, chain and contract, rating index and time window, the rater's and the
   * provider's signatures, the identity factor, and Eq. 41 over the records equal to the stored
   * rating); every other attached digest is reported in `refused` and its rating counts as
   * unevidenced. Each verdict is computed once per ledger object and cached in its memory (see
   * `verdicts`): a detector that reuses its ledger verifies a set once, not on every run.
   * @param fromBlock - the first block read (must be 0 when verifying: a set names its rating's index)
   * @param o.store - the content store to verify attached record sets against
   * @param o.refused - receives each refused digest with the reason (one line)
   * @param o.toBlock - the last block read (default: latest): the ratings as of that block
   * @throws InvalidParameterError when asked to verify from a later block
   */
  async ratings(
    fromBlock = 0,
    o: {
      store?: ContentStore;
      refused?: RefusedEvidence[];
      label?: (id: string) => string;
      toBlock?: number;
      /** the time this call may spend on fetches that find nothing (ms; default FETCH_BUDGET_MS) */
      fetchBudgetMs?: number;
      /** a budget shared with the caller's other fetches (a detector run's: s26-fxl L2); overrides fetchBudgetMs */
      budget?: { left: number };
    } = {},
  ): Promise<RatingEvent[]> {
    const budget = o.budget ?? { left: o.fetchBudgetMs ?? FETCH_BUDGET_MS };
    const toBlock = o.toBlock; // the last block read (a pinned view, h16-red2 R2); undefined: latest
    if (o.store && fromBlock !== 0)
      throw new InvalidParameterError(`ratings: evidence is verified over the whole history (fromBlock 0), not from block ${fromBlock}`);
    // Where each id's present era starts: its last EntityRegistered (block, log index).
    const eras = new Map<string, { block: number; index: number }>();
    for (const l of await this.tm.queryFilter(this.tm.filters.EntityRegistered(), fromBlock, toBlock))
      eras.set(l.args.id.toLowerCase(), { block: l.blockNumber, index: l.index });
    const earlier = (id: string, l: { blockNumber: number; index: number }) => {
      const e = eras.get(id.toLowerCase());
      return e !== undefined && (l.blockNumber < e.block || (l.blockNumber === e.block && l.index < e.index));
    };
    const logs = (await this.tm.queryFilter(this.tm.filters.TrustStored(), fromBlock, toBlock)).filter(
      (l) => !earlier(l.args.from, l) && !earlier(l.args.to, l),
    );
    const attached = new Map(
      (await this.tm.queryFilter(this.tm.filters.EvidenceAttached(), fromBlock, toBlock)).map(
        (l) => [`${l.transactionHash}:${l.args.from}:${l.args.to}`, l.args.evidence] as const,
      ),
    );
    const times = new Map<number, number>();
    const out: RatingEvent[] = [];
    // per pair: ratings so far and the time of the latest (a record set names both)
    const pairs = new Map<string, { n: number; last: number }>();
    const ctx = o.store ? await this.chainContext() : undefined;
    for (const l of logs) {
      if (!times.has(l.blockNumber)) times.set(l.blockNumber, (await l.getBlock()).timestamp);
      const time = times.get(l.blockNumber)!;
      const key = `${l.args.from}:${l.args.to}`;
      const p = pairs.get(key) ?? { n: 0, last: 0 };
      const digest = attached.get(`${l.transactionHash}:${l.args.from}:${l.args.to}`);
      let evidence = digest !== undefined;
      if (digest !== undefined && o.store && ctx) {
        // E4: a verdict is a fact about immutable data (the set, by its digest; the chain up to the
        // rating's block, by its hash): it is computed once per ledger and looked up after.
        const key = `${digest}|${l.args.from}|${l.args.to}|${p.n}|${l.blockHash}`;
        let reason: string | undefined;
        const cached = this.verdicts.get(key);
        if (cached !== undefined) reason = cached === true ? undefined : cached;
        else {
          const v = await this.checkAttached(o.store, ctx, {
            from: l.args.from,
            to: l.args.to,
            block: l.blockNumber,
            rating: l.args.rating,
            nonce: p.n,
            after: p.last,
            time,
            digest,
            label: o.label,
            budget,
          });
          reason = v.reason;
          if (v.final) this.verdicts.set(key, reason ?? true);
        }
        if (reason !== undefined) {
          evidence = false;
          o.refused?.push({ from: l.args.from, to: l.args.to, index: p.n, digest, reason });
        }
      }
      pairs.set(key, { n: p.n + 1, last: time });
      out.push({ from: l.args.from, to: l.args.to, value: fromWad(l.args.rating), time, evidence });
    }
    return out;
  }

  /**
   * Where the detectors' input last moved (s25-rte D1, s26-fxl L1), at one block: the (block, log
   * index) of the latest TrustManager event that changes what they read (a rating or its evidence,
   * a registration, attestation or reclaim, an identity verification or a verifier set, a flag
   * cleared), as "block:index:blockHash" or "none"; then the identity seeds the run would read at
   * that block (`seeds:` the sha2-256 of the sorted ids {@link seeds} returns: a seed moves with an
   * MIT login or revocation, events of another contract, and with a login's `notAfter` passing,
   * no event at all); then how many deferred fetches have come due (`due:`, {@link fetcher}: a
   * record set or report not found is asked for again without any other change). A run reads
   * nothing else that moves (the model is fixed; generations move with registrations). A count of
   * ratings is not such a key: a reclaim drops an era's ratings and as many new ones leave the
   * count as it was; a reorg changes the hash. The detector's own flags and flag runs are left out
   * (they do not change what it would detect). Cost: the run's seed reads (one `isIdentityVerified`
   * per registered entity, sent together) once per block.
   * @param toBlock - the last block read (default: latest)
   */
  async lastInputChange(toBlock?: number): Promise<string> {
    const names = [
      "TrustStored",
      "EvidenceAttached",
      "EntityRegistered",
      "EntityAttested",
      "EntityReclaimed",
      "IdentityVerificationSet",
      "VerifierSet",
      "EntityUnflagged",
    ] as const;
    const topics = names.map((n) => this.tm.interface.getEvent(n)!.topicHash);
    const block = toBlock ?? (await this.tm.runner!.provider!.getBlockNumber());
    const logs = await this.tm.runner!.provider!.getLogs({
      address: await this.tm.getAddress(),
      topics: [topics],
      fromBlock: 0,
      toBlock: block,
    });
    let last: { blockNumber: number; index: number; blockHash: string } | undefined;
    for (const l of logs)
      if (!last || l.blockNumber > last.blockNumber || (l.blockNumber === last.blockNumber && l.index > last.index)) last = l;
    // the seeds at a block do not change: read once per block (a stream of /v1/detect requests in
    // one block costs one scan; a reorg at the same height is seen at the next block)
    if (this.seedKey?.block !== block) {
      const seeds = await this.seeds(
        (await this.entities(block)).map((e) => e.id),
        block,
      );
      this.seedKey = { block, hash: toHex(sha256(new TextEncoder().encode(seeds.join(",")))) };
    }
    const seedHash = this.seedKey.hash;
    return `${last ? `${last.blockNumber}:${last.index}:${last.blockHash}` : "none"}|seeds:${seedHash}|due:${this.fetcher.due()}`;
  }

  /**
   * The identity seeds among `ids` at a block: those `isIdentityVerified` holds for at it, sorted
   * (what the detectors' SybilRank starts from; `runDetectors` and `lastInputChange` both read them here).
   * @param ids - entity ids
   * @param blockTag - the block read
   */
  async seeds(ids: readonly string[], blockTag: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += 256) {
      const part = ids.slice(i, i + 256);
      const bits = await Promise.all(part.map((x) => this.tm.isIdentityVerified(x, { blockTag })));
      part.forEach((x, k) => bits[k] && out.push(x));
    }
    return out.sort();
  }

  /** The chain id, the contract's address and the model, for checking record sets. */
  private async chainContext(): Promise<{ chainId: number; address: string; model: TrustModel }> {
    const [net, address, model] = await Promise.all([this.tm.runner!.provider!.getNetwork(), this.tm.getAddress(), this.getModel()]);
    return { chainId: Number(net.chainId), address, model };
  }

  /**
   * Checks one attached digest: its record set is on IPFS and verifies against the rating.
   * @returns reason: undefined when it does, else why not (one line); final: whether this is a
   *   verdict about the set and the chain (cacheable), not a store or node failure that may pass
   */
  private async checkAttached(
    store: ContentStore,
    c: { chainId: number; address: string; model: TrustModel },
    r: {
      from: string;
      to: string;
      block: number;
      rating: bigint;
      nonce: number;
      after: number;
      time: number;
      digest: string;
      label?: (id: string) => string;
      budget: { left: number };
    },
  ): Promise<{ reason: string | undefined; final: boolean }> {
    let doc: RatingEvidence;
    let cid: string;
    try {
      cid = cidOfEvidenceDigest(r.digest);
    } catch (x) {
      return { reason: (x as Error).message, final: false };
    }
    // fetched through the store (kubo: its repo, else the IPFS network), not gated on `has` (the
    // local repo only: s25-rte K1); a CID not found waits out its backoff, and the fetches that
    // find nothing share the call's budget: an unfetchable set counts as unevidenced meanwhile
    try {
      doc = await this.fetcher.getJson<RatingEvidence>(store, cid, r.budget); // re-hashed against the CID
    } catch (x) {
      if (x instanceof FetchDeferredError)
        return {
          reason:
            x.why === "backoff"
              ? `its evidence ${cid} is not on IPFS (not found ${x.misses} time(s); asked again after ${new Date(x.retryAt).toISOString()})`
              : `its evidence ${cid} was not fetched: this read's time for unfetchable evidence is spent`,
          final: false,
        };
      if (x instanceof ContentNotFoundError) return { reason: `its evidence ${cid} is not on IPFS`, final: false };
      return { reason: (x as Error).message, final: false }; // the store may answer later
    }
    let ctx: RatingContext;
    try {
      ctx = await ratingContextOf(this.tm, doc, {
        chainId: c.chainId,
        trustManager: c.address,
        from: r.from,
        to: r.to,
        nonce: r.nonce,
        after: r.after,
        time: r.time,
        block: r.block,
        ratingBlock: r.block,
        label: r.label,
      });
    } catch (x) {
      // a refusal of the set against the chain is a verdict (s25-rte E2: an identity block before
      // the TrustManager existed); anything else is a node error, retried
      return { reason: (x as Error).message, final: x instanceof EvidenceError };
    }
    try {
      const scores = verifyEvidence(doc, ctx);
      const expected = optimizedTrust(scores.packed, c.model.weights, c.model.factorCount);
      if (expected !== r.rating)
        return { reason: `the chain stored rating ${r.rating}, the records give ${expected} (Eq. 41)`, final: true };
      return { reason: undefined, final: true };
    } catch (x) {
      return { reason: (x as Error).message, final: true };
    }
  }

  /**
   * Every registered entity id, once, with its kind (a reclaimed id's as registered last).
   * @param toBlock - the last block read (default: latest)
   */
  async entities(toBlock?: number): Promise<{ id: string; kind: number }[]> {
    const logs = await this.tm.queryFilter(this.tm.filters.EntityRegistered(), 0, toBlock);
    const kinds = new Map<string, number>();
    for (const l of logs) kinds.set(l.args.id, Number(l.args.kind));
    return [...kinds].map(([id, kind]) => ({ id, kind }));
  }

  /**
   * Flags an entity (DETECTOR_ROLE) with the CID digest of its detection report.
   * @param generation - the id's generation the detection read (`generationOf` at the report's
   *   block): the contract refuses the flag (TrustManager__StaleEra) once a reclaim moved it on
   */
  async flag(id: string, kind: number, evidence: Uint8Array, generation: bigint | number): Promise<TxInfo> {
    return (await mined(this.tm.flag(id, kind, toHex(evidence), generation))).info;
  }

  /**
   * Begins a flag run (DETECTOR_ROLE) on the run's report: until `endFlagRun` (or FLAG_RUN_MAX after
   * it began) every flag joins it and no flag contest opens, so a ring the run detects is flagged
   * whole before any member can open one. The contract refuses it (TrustManager__FlagRunTooSoon)
   * within FLAG_RUN_SPACING of the previous run's start.
   */
  async beginFlagRun(report: Uint8Array): Promise<TxInfo> {
    return (await mined(this.tm.beginFlagRun(toHex(report)))).info;
  }

  /** Ends the flag run in flight (DETECTOR_ROLE). */
  async endFlagRun(): Promise<TxInfo> {
    return (await mined(this.tm.endFlagRun())).info;
  }

  /**
   * Flags a batch of a run's detections in one transaction, in the run in flight (DETECTOR_ROLE), all
   * on the run's report; at most FLAG_BATCH_MAX entries. All or nothing: one refused entry
   * (TrustManager__StaleEra of a reclaimed id) refuses the batch.
   */
  async flagBatch(entries: readonly { id: string; kind: number; generation: bigint | number }[], evidence: Uint8Array): Promise<TxInfo> {
    return (
      await mined(
        this.tm.flagBatch(
          entries.map((e) => e.id),
          entries.map((e) => e.kind),
          toHex(evidence),
          entries.map((e) => e.generation),
        ),
      )
    ).info;
  }
}

/**
 * Puts an evidence document on IPFS (raw block) and returns its CID and the digest that goes
 * on-chain (dispute evidence; ratings carry record sets, offchain/trust/rater.ts).
 */
export async function putEvidence(store: ContentStore, bytes: Uint8Array): Promise<{ cid: string; digest: Uint8Array }> {
  const cid = await store.putBytes(bytes);
  const c = await cidOf(bytes, "raw");
  return { cid, digest: c.multihash.digest };
}

/**
 * The raw CIDv1 of a digest stored by {@link putEvidence} (dispute evidence). A rating's evidence
 * is a dag-json record set: its CID is `evidence.cidOfEvidenceDigest`.
 */
export async function evidenceCid(digest: string): Promise<string> {
  const { CID } = await import("multiformats/cid");
  const Digest = await import("multiformats/hashes/digest");
  return CID.createV1(0x55, Digest.create(0x12, fromHex(digest, 32))).toString();
}
