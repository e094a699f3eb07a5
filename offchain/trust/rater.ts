/**
 * The rating agent's I/O layer over `evidence.ts`: logs interactions with their provider receipts,
 * builds and signs the record set of a rating, stores it on IPFS (dag-json CIDv1 through the
 * content store: the same CID with the embedded store or kubo), rates with the CID's digest, and
 * recomputes any rating from its evidence (`verifyRating`).
 */
import type { Signer } from "ethers";
import type { TrustManager } from "../../typechain-types";
import type { ContentStore } from "../storage/content-store";
import type { Keystore } from "../storage/keystore";
import { toHex } from "../crypto/bytes";
import { keccak256 } from "../crypto/hash";
import { optimizedTrust, type PairState } from "./fixed";
import type { TrustLedger } from "./ledger";
import {
  EVIDENCE_TAG,
  EvidenceError,
  type EvidenceScores,
  type EvidenceTerms,
  type InteractionRecord,
  type RatingEvidence,
  cidOfEvidenceDigest,
  checkEvidenceShape,
  checkTerms,
  evidenceBlock,
  evidenceFactors,
  evidenceMessage,
  receiptMessage,
  verifyEvidence,
} from "./evidence";

const LOG = "trust-interactions";

/** An interaction the consumer observed, before the provider's receipt. */
export type Observation = {
  /** the request's hash, or any bytes whose keccak256 names it */
  request: string;
  at: number;
  outcome: "success" | "failure";
  latencyMs: number;
  kept: boolean[];
};

/** The agent's log of one pair: the agreement and the records not yet used in a rating. */
type PairLog = { agreement: EvidenceTerms; nextSeq: number; records: InteractionRecord[] };

/**
 * The provider's receipt of one interaction: its controller signs what it accepted.
 * @param provider - the signer of the provider's controller
 * @returns the EIP-191 signature, 0x hex
 */
export async function signReceipt(
  provider: Signer,
  f: { chainId: number; trustManager: string; from: string; to: string; seq: number; request: string; at: number; terms: EvidenceTerms },
): Promise<string> {
  return provider.signMessage(receiptMessage(f));
}

/** The interactions a rater's agent logged, kept in its keystore (public data: no secrets). */
export class InteractionLog {
  constructor(private readonly keystore: Keystore) {}

  private all(): Record<string, PairLog> {
    return this.keystore.exists(LOG) ? (this.keystore.load(LOG) as unknown as Record<string, PairLog>) : {};
  }

  private save(all: Record<string, PairLog>): void {
    (this.keystore.exists(LOG) ? this.keystore.update : this.keystore.create).call(this.keystore, LOG, all as never);
  }

  /** The pair's log, or undefined. */
  get(from: string, to: string): PairLog | undefined {
    return this.all()[`${from}:${to}`];
  }

  /**
   * Logs one interaction of (from, to) with the provider's receipt (the provider signs it here).
   * @param tm - the TrustManager (its chain and address are in the receipt)
   * @param provider - the provider controller's signer
   * @param terms - the agreement; must equal the pair's earlier records' agreement
   * @returns the record
   * @throws EvidenceError if the terms changed with records pending
   */
  async record(
    tm: TrustManager,
    provider: Signer,
    from: string,
    to: string,
    terms: EvidenceTerms,
    o: Observation,
  ): Promise<InteractionRecord> {
    checkTerms("InteractionLog.record", terms);
    const all = this.all();
    const key = `${from}:${to}`;
    const log = all[key] ?? { agreement: terms, nextSeq: 0, records: [] };
    if (log.records.length && JSON.stringify(log.agreement) !== JSON.stringify(terms))
      throw new EvidenceError(`InteractionLog.record: ${from} -> ${to} has records under other terms; rate them first`);
    log.agreement = terms;
    const request = /^0x[0-9a-f]{64}$/.test(o.request) ? o.request : toHex(keccak256(new TextEncoder().encode(o.request)));
    const chainId = Number((await tm.runner!.provider!.getNetwork()).chainId);
    const fields = { chainId, trustManager: await tm.getAddress(), from, to, seq: log.nextSeq, request, at: o.at, terms };
    const rec: InteractionRecord = {
      seq: log.nextSeq,
      request,
      at: o.at,
      outcome: o.outcome,
      latencyMs: o.latencyMs,
      kept: o.kept,
      receipt: await signReceipt(provider, fields),
    };
    log.nextSeq++;
    log.records.push(rec);
    all[key] = log;
    this.save(all);
    return rec;
  }

  /** Forgets the records a rating used (they cannot be used again: they predate it). */
  clear(from: string, to: string): void {
    const all = this.all();
    const log = all[`${from}:${to}`];
    if (!log) return;
    log.records = [];
    this.save(all);
  }
}

/**
 * Builds and signs the record set of the next rating of (from, to).
 * @param tm - the TrustManager, connected to a provider
 * @param rater - the signer of `from`'s controller (it will send the rating)
 * @param records - the interactions, receipts included, newer than the pair's last rating
 * @returns the signed document and its scores
 * @throws EvidenceError if the records do not make a valid set
 */
export async function buildEvidence(
  tm: TrustManager,
  rater: Signer,
  from: string,
  to: string,
  agreement: EvidenceTerms,
  records: InteractionRecord[],
): Promise<{ evidence: RatingEvidence; scores: EvidenceScores }> {
  const [net, pair, verified, address, raterAddr] = await Promise.all([
    tm.runner!.provider!.getNetwork(),
    tm.pairOf(from, to),
    tm.isIdentityVerified(to),
    tm.getAddress(),
    rater.getAddress(),
  ]);
  const unsigned = {
    type: EVIDENCE_TAG,
    chainId: Number(net.chainId),
    trustManager: address.toLowerCase(),
    from: from.toLowerCase(),
    to: to.toLowerCase(),
    nonce: Number(pair.ratings),
    after: Number(pair.updatedAt),
    agreement,
    identity: verified ? 1 : 0,
    records,
    rater: raterAddr.toLowerCase(),
  } as const;
  const evidence: RatingEvidence = { ...unsigned, signature: await rater.signMessage(evidenceMessage(unsigned)) };
  checkEvidenceShape(evidence);
  // The rating's block is at least one second past the latest: a record after that could be
  // after the rating, which every verifier refuses.
  const next = (await tm.runner!.provider!.getBlock("latest"))!.timestamp + 1;
  const future = records.findIndex((r) => r.at > next);
  if (future >= 0)
    throw new EvidenceError(`buildEvidence: record ${future} (time ${records[future].at}) is later than the chain's time (${next - 1})`);
  return { evidence, scores: evidenceFactors(records, agreement, verified) };
}

/**
 * Rates from evidence: stores the record set on IPFS and sends its digest with the factors the
 * records give (the ledger checks the stored value against the model, Algorithm 5 step 3).
 * @param ledger - a ledger connected to the rater controller's signer
 * @param before - the pair's state read beforehand (TrustLedger.rate)
 * @returns the rating, its CID and its scores
 */
export async function rateWithEvidence(
  ledger: TrustLedger,
  store: ContentStore,
  from: string,
  to: string,
  agreement: EvidenceTerms,
  records: InteractionRecord[],
  before?: Promise<PairState>,
) {
  const rater = ledger.tm.runner as Signer;
  const { evidence, scores } = await buildEvidence(ledger.tm, rater, from, to, agreement, records);
  const block = evidenceBlock(evidence);
  const cid = await store.putJson(evidence);
  if (cid !== block.cid) throw new EvidenceError(`rateWithEvidence: the store computed ${cid}, expected ${block.cid}`);
  const r = await ledger.rate(from, to, scores.packed, Uint8Array.from(Buffer.from(block.digest.slice(2), "hex")), before);
  return { ...r, cid, scores, evidence };
}

/** The result of {@link verifyRating}. */
export type Verification = {
  from: string;
  to: string;
  index: number;
  tx: string;
  block: number;
  cid: string;
  scores: EvidenceScores;
  /** the rating's T_opt as the event has it, WAD */
  rating: bigint;
};

/**
 * Recomputes a rating from its evidence: reads the pair's `TrustStored` events (of both ids' present
 * eras: none from before either id's last registration, a reclaim) and the rating's
 * `EvidenceAttached`, fetches the record set from IPFS by the CID of the digest, checks it
 * (evidence.verifyEvidence) and compares the recomputed factors with the transaction's and
 * Eq. 41 over them with the event's rating.
 * @param index - which of the pair's ratings (default: the latest)
 * @param label - names for messages
 * @throws EvidenceError (one line, naming the pair) when the rating has no evidence, the CID is not on IPFS, or anything differs
 */
export async function verifyRating(
  tm: TrustManager,
  store: ContentStore,
  from: string,
  to: string,
  o: { index?: number; label?: (id: string) => string } = {},
): Promise<Verification> {
  const name = o.label ?? ((id: string) => `${id.slice(0, 10)}…`);
  // The pair's ratings in both ids' present eras: a reclaim starts an id afresh (its last
  // EntityRegistered, docs/specs/trust.md §6), and the contract counts the pair's ratings, which a
  // record set names, from there.
  const starts = await Promise.all([from, to].map(async (x) => (await tm.queryFilter(tm.filters.EntityRegistered(x))).at(-1)));
  const inEra = (l: { blockNumber: number; index: number }) =>
    starts.every((s) => s === undefined || l.blockNumber > s.blockNumber || (l.blockNumber === s.blockNumber && l.index > s.index));
  const events = (await tm.queryFilter(tm.filters.TrustStored(from, to))).filter(inEra);
  if (events.length === 0) throw new EvidenceError(`verifyRating: ${name(from)} has never rated ${name(to)}`);
  const index = o.index ?? events.length - 1;
  if (!Number.isInteger(index) || index < 0 || index >= events.length)
    throw new EvidenceError(`verifyRating: ${name(from)} -> ${name(to)} has ratings #0..#${events.length - 1}, not #${index}`);
  const ev = events[index];
  const who = `${name(from)} -> ${name(to)} #${index}`;
  const receipt = await ev.getTransactionReceipt();
  const attached = receipt.logs
    .map((l) => (l.address.toLowerCase() === ev.address.toLowerCase() ? tm.interface.parseLog(l) : null))
    .find((l) => l?.name === "EvidenceAttached" && l.args.from === ev.args.from && l.args.to === ev.args.to);
  if (!attached) throw new EvidenceError(`verifyRating: rating ${who} has no evidence attached (a typed score: unverifiable)`);
  const cid = cidOfEvidenceDigest(attached.args.evidence);
  if (!(await store.has(cid))) throw new EvidenceError(`verifyRating: rating ${who}: its evidence ${cid} is not on IPFS`);
  const doc = await store.getJson<RatingEvidence>(cid); // re-hashed against the CID
  const [tx, block, prevBlock, m, net] = await Promise.all([
    ev.getTransaction(),
    ev.getBlock(),
    index > 0 ? events[index - 1].getBlock() : Promise.resolve(undefined),
    tm.model(),
    tm.runner!.provider!.getNetwork(),
  ]);
  const [fromEntity, toEntity, verified] = await Promise.all([
    tm.entity(from, { blockTag: ev.blockNumber }),
    tm.entity(to, { blockTag: ev.blockNumber }),
    tm.isIdentityVerified(to, { blockTag: ev.blockNumber }),
  ]);
  let factors: bigint | undefined;
  try {
    const call = tm.interface.parseTransaction({ data: tx.data });
    if (call?.name === "rate" && call.args.from === ev.args.from && call.args.to === ev.args.to) factors = call.args.factors as bigint;
  } catch {
    factors = undefined; // sent through a contract: the event's rating is still compared below
  }
  const scores = verifyEvidence(doc, {
    chainId: Number(net.chainId),
    trustManager: await tm.getAddress(),
    from,
    to,
    nonce: index,
    after: prevBlock ? prevBlock.timestamp : 0,
    time: block.timestamp,
    sender: fromEntity.controller, // the contract checked msg.sender against it
    providerController: toEntity.controller,
    identityVerified: verified,
    factors,
    label: name,
  });
  const expected = optimizedTrust(scores.packed, m.weights, Number(m.factorCount));
  if (expected !== ev.args.rating)
    throw new EvidenceError(
      `verifyEvidence: rating ${who}: the chain stored rating ${ev.args.rating}, the records give ${expected} (Eq. 41)`,
    );
  return { from, to, index, tx: ev.transactionHash, block: ev.blockNumber, cid, scores, rating: ev.args.rating };
}
