/**
 * The rating agent's I/O layer over `evidence.ts`: logs interactions with their provider receipts,
 * builds and signs the record set of a rating, stores it on IPFS (dag-json CIDv1 through the
 * content store: the same CID with the embedded store or kubo), rates with the CID's digest, and
 * recomputes any rating from its evidence (`verifyRating`).
 */
import { type Signer, getAddress, verifyMessage } from "ethers";
import type { TrustManager } from "../../typechain-types";
import type { ContentStore } from "../storage/content-store";
import type { Keystore } from "../storage/keystore";
import { ContentNotFoundError } from "../storage/errors";
import { toHex } from "../crypto/bytes";
import { keccak256 } from "../crypto/hash";
import { optimizedTrust, type PairState } from "./fixed";
import type { Eras, TrustLedger } from "./ledger";
import {
  EVIDENCE_TAG,
  EvidenceError,
  MAX_IDENTITY_LAG,
  type EvidenceScores,
  type EvidenceTerms,
  type InteractionRecord,
  type RatingContext,
  type RatingEvidence,
  cidOfEvidenceDigest,
  checkEvidenceShape,
  checkTerms,
  evidenceBlock,
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

/**
 * The agent's log of one pair: the agreement and the records not yet used in a rating, of one era
 * of the pair (`era`: the generations of from and to, "gFrom:gTo", as the chain saw them when the
 * records were logged; s25-rte L1) and of one TrustManager (`trustManager`, lower case: a deployment
 * made anew in the same data folder starts its generations again, s26-review L3). Records of an
 * earlier era, or of another TrustManager, are moved to `past` (kept for audit, never rated: the
 * chain refuses a rating of another era's service, and receipts name their TrustManager).
 */
type PairLog = {
  agreement: EvidenceTerms;
  nextSeq: number;
  records: InteractionRecord[];
  era?: string;
  trustManager?: string;
  past?: { era: string; agreement: EvidenceTerms; records: InteractionRecord[] }[];
};

/** The pair's era as the chain sees it at `blockTag`: "generationOf(from):generationOf(to)". */
async function eraOf(tm: TrustManager, from: string, to: string, blockTag: number): Promise<string> {
  const [gf, gt] = await Promise.all([tm.generationOf(from, { blockTag }), tm.generationOf(to, { blockTag })]);
  return `${gf}:${gt}`;
}

/** The generations an era names ("gFrom:gTo"), or undefined for a malformed one. */
function generationsOf(era: string): [bigint, bigint] | undefined {
  const m = /^(\d+):(\d+)$/.exec(era);
  return m ? [BigInt(m[1]), BigInt(m[2])] : undefined;
}

/**
 * Moves a log's records of another era than `era` to its `past`, and stamps the log with `era`. A
 * log written before logs had eras (no `era`) is taken as of `era` (its records are kept pending:
 * a verifier still refuses any of another era). A log only moves forward (s26-fxl L3): when the
 * log's era is later than `era` in either id's generation (generations only grow: the caller's
 * read predates a reclaim that another process has already logged under), nothing is changed and
 * `later` is set; the caller refuses. Mutates `log` only when `later` is unset.
 * @returns how many records were set aside, whether the log changed, and whether it is of a later era
 */
function setAsideOtherEra(log: PairLog, era: string, trustManager: string): { moved: number; changed: boolean; later?: boolean } {
  const tm = trustManager.toLowerCase();
  // a log of another TrustManager (a deployment made anew in this data folder): its generations
  // are another contract's, not comparable; its records are set aside whatever its era (s26-review L3)
  const otherDeployment = log.trustManager !== undefined && log.trustManager !== tm;
  if (log.era === era && !otherDeployment) {
    if (log.trustManager !== undefined) return { moved: 0, changed: false };
    log.trustManager = tm; // a log from before logs named their TrustManager: of this one
    return { moved: 0, changed: true };
  }
  const mine = generationsOf(era);
  const theirs = log.era === undefined ? undefined : generationsOf(log.era);
  if (!otherDeployment && mine && theirs && (theirs[0] > mine[0] || theirs[1] > mine[1])) return { moved: 0, changed: false, later: true };
  const n = log.era === undefined ? 0 : log.records.length;
  if (n > 0) (log.past ??= []).push({ era: log.era!, agreement: log.agreement, records: log.records });
  if (n > 0) log.records = [];
  log.era = era;
  log.trustManager = tm;
  return { moved: n, changed: true };
}

/** The one-line refusal of a caller whose era read is older than the log it would write (s26-fxl L3). */
function laterEraError(fn: string, log: PairLog, era: string, pair: string, what: string): EvidenceError {
  return new EvidenceError(
    `InteractionLog.${fn}: the log of ${pair} is of a later era (${log.era}) than the chain read (${era}); nothing ${what}: run again`,
  );
}

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

/**
 * What the chain says about one rating, read the same way by every verifier (`verifyRating`, the
 * detectors' `TrustLedger.ratings`) and by the rater's own check before it sends (`buildEvidence`):
 * the rater's controller and the provider's controller history up to the state block (receipts are
 * checked against the controller at each record's time), and the identity lane at the block the
 * set names (if it names one before the rating), else at the state block, and again at the state
 * block when the set's block is more than MAX_IDENTITY_LAG older than the rating.
 * @param doc - the record set as read (unchecked: only a well-formed `identityBlock` is used here)
 * @param r - the rating's fields as RatingContext names them, and:
 * @param r.block - the block whose state is read: the rating's, or the latest for a rating not yet sent
 * @param r.ratingBlock - the rating's block (the next block for a rating not yet sent)
 * @returns the context for evidence.verifyEvidence
 */
export async function ratingContextOf(
  tm: TrustManager,
  doc: unknown,
  r: Pick<RatingContext, "chainId" | "trustManager" | "from" | "to" | "nonce" | "after" | "time" | "factors" | "label"> & {
    block: number;
    ratingBlock: number;
  },
): Promise<RatingContext> {
  const ib = (doc as { identityBlock?: unknown } | null)?.identityBlock;
  const idBlock = typeof ib === "number" && Number.isSafeInteger(ib) && ib >= 0 && ib < r.ratingBlock ? ib : r.block;
  // A block before the TrustManager existed has no registry to read (the node's call fails to
  // decode): a one-line refusal naming the block, and a verdict, final (s25-rte E2). Other call
  // failures are the node's and propagate (retried).
  const identityAt = async (): Promise<boolean> => {
    try {
      return await tm.isIdentityVerified(r.to, { blockTag: idBlock });
    } catch (x) {
      if ((await tm.runner!.provider!.getCode(await tm.getAddress(), idBlock)) === "0x")
        throw new EvidenceError(
          `verifyEvidence: rating #${r.nonce}: the identity was read at block ${idBlock}, before the TrustManager existed`,
        );
      throw x;
    }
  };
  const [fromEntity, toEntity, registered, raterRegistered, verified, idBlockInfo] = await Promise.all([
    tm.entity(r.from, { blockTag: r.block }),
    tm.entity(r.to, { blockTag: r.block }),
    tm.queryFilter(tm.filters.EntityRegistered(r.to), 0, r.block),
    tm.queryFilter(tm.filters.EntityRegistered(r.from), 0, r.block),
    identityAt(),
    tm.runner!.provider!.getBlock(idBlock),
  ]);
  const times = new Map<number, number>();
  const timeOf = async (l: (typeof registered)[number]) => {
    if (!times.has(l.blockNumber)) times.set(l.blockNumber, (await l.getBlock()).timestamp);
    return times.get(l.blockNumber)!;
  };
  // E2's window: a lane read more than MAX_IDENTITY_LAG before the rating stands if the registry
  // still says the same at the state block (the rating's; one more read, only for such a set)
  const identityTime = idBlockInfo?.timestamp;
  const identityVerifiedAtRating =
    identityTime !== undefined && identityTime < r.time - MAX_IDENTITY_LAG && idBlock !== r.block
      ? await tm.isIdentityVerified(r.to, { blockTag: r.block })
      : undefined; // not read at the rating: undefined, not the set's value (evidence.ts, "read only then")
  const providerHistory: { since: number; controller: string }[] = [];
  for (const l of registered) providerHistory.push({ since: await timeOf(l), controller: l.args.controller });
  // The present era of both ids: a registration after an id's first is a reclaim (trust.md §6), and
  // nothing dated before it is the present controller's, receipts included.
  let eraStart = 0;
  for (const regs of [registered, raterRegistered]) if (regs.length > 1) eraStart = Math.max(eraStart, await timeOf(regs[regs.length - 1]));
  return {
    chainId: r.chainId,
    trustManager: r.trustManager,
    from: r.from,
    to: r.to,
    nonce: r.nonce,
    after: r.after,
    time: r.time,
    sender: fromEntity.controller, // the contract checks msg.sender against it
    providerController: toEntity.controller,
    providerHistory,
    eraStart,
    ratingBlock: r.ratingBlock,
    identityBlock: idBlock,
    identityTime,
    identityVerified: verified,
    identityVerifiedAtRating,
    factors: r.factors,
    label: r.label,
  };
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
   * @throws EvidenceError if the terms changed with records pending, or if the receipt is not
   *   signed by the provider's controller (nothing is logged: a receipt every verifier would refuse),
   *   or if the log is of a later era than the one read here (nothing logged: run again, s26-fxl L3)
   */
  async record(
    tm: TrustManager,
    provider: Signer,
    from: string,
    to: string,
    terms: EvidenceTerms,
    o: Observation,
    label: (id: string) => string = (x) => x,
  ): Promise<InteractionRecord> {
    checkTerms("InteractionLog.record", terms);
    const all = this.all();
    const key = `${from}:${to}`;
    const log: PairLog = all[key] ?? { agreement: terms, nextSeq: 0, records: [] };
    if (log.records.length && JSON.stringify(log.agreement) !== JSON.stringify(terms) && !(await this.otherEra(tm, log, from, to)))
      throw new EvidenceError(`InteractionLog.record: ${from} -> ${to} has records under other terms; rate them first`);
    log.agreement = terms;
    const request = /^0x[0-9a-f]{64}$/.test(o.request) ? o.request : toHex(keccak256(new TextEncoder().encode(o.request)));
    // a retry of a logged request would make the set unverifiable (requests must be distinct), and
    // every later rating of the pair with it (s17-redA F28): nothing is logged
    const logged = log.records.find((r) => r.request === request);
    if (logged)
      throw new EvidenceError(
        `InteractionLog.record: request ${o.request} is logged already for ${label(from)} -> ${label(to)} (receipt #${logged.seq}); nothing logged`,
      );
    // the controller and the era at one block: a receipt is of the era it is logged under
    const at = await tm.runner!.provider!.getBlockNumber();
    const [net, tmAddress, controller, era] = await Promise.all([
      tm.runner!.provider!.getNetwork(),
      tm.getAddress(),
      tm.entity(to, { blockTag: at }).then((e) => e.controller),
      eraOf(tm, from, to, at),
    ]);
    const fields = { chainId: Number(net.chainId), trustManager: tmAddress, from, to, seq: log.nextSeq, request, at: o.at, terms };
    const receipt = await signReceipt(provider, fields);
    // E1: check the receipt as every verifier will (against the provider's controller), on arrival
    let signer: string;
    try {
      signer = verifyMessage(receiptMessage(fields), receipt);
    } catch {
      throw new EvidenceError(`InteractionLog.record: ${label(to)}'s receipt is malformed; nothing logged`);
    }
    if (signer !== getAddress(controller))
      throw new EvidenceError(
        `InteractionLog.record: ${label(to)}'s receipt is signed by ${signer}, not by its controller ${controller}; nothing logged`,
      );
    const rec: InteractionRecord = {
      seq: log.nextSeq,
      request,
      at: o.at,
      outcome: o.outcome,
      latencyMs: o.latencyMs,
      kept: o.kept,
      receipt,
    };
    // over the log as it stands now, not as it was loaded before the awaits above (s22-fxidp: another
    // command in this folder may have logged meanwhile; no await between this read and the write):
    // other pairs' records are kept, and a record of this pair logged meanwhile refuses this one
    const now = this.all();
    const cur: PairLog = now[key] ?? { agreement: terms, nextSeq: 0, records: [] };
    // records of an earlier era than this receipt's are set aside (kept in `past`, never rated): the
    // chain would refuse them with this one (s25-rte L1). A log only moves forward: an era read
    // older than the log's (a reclaim this process's read predates and another process has logged
    // under) would set the new era's records aside for good (s26-fxl L3); refused, nothing written
    if (setAsideOtherEra(cur, era, tmAddress).later) throw laterEraError("record", cur, era, `${label(from)} -> ${label(to)}`, "logged");
    if (cur.nextSeq !== rec.seq || (cur.records.length > 0 && JSON.stringify(cur.agreement) !== JSON.stringify(terms)))
      throw new EvidenceError(
        `InteractionLog.record: ${label(from)} -> ${label(to)} was logged by another command meanwhile (receipt #${cur.nextSeq - 1}); nothing logged: run again`,
      );
    cur.agreement = terms;
    cur.nextSeq++;
    cur.records.push(rec);
    now[key] = cur;
    this.save(now);
    return rec;
  }

  /** Whether the log's records are of another era than the pair's now (then `settle` sets them aside). */
  private async otherEra(tm: TrustManager, log: PairLog, from: string, to: string): Promise<boolean> {
    if (log.trustManager !== undefined && log.trustManager !== (await tm.getAddress()).toLowerCase()) return true;
    return log.era !== undefined && log.era !== (await eraOf(tm, from, to, await tm.runner!.provider!.getBlockNumber()));
  }

  /**
   * Brings the pair's log to the chain, before logging or rating from it (what trust:interact and
   * trust:rate call; idempotent, derived from the chain): records of an earlier era of the pair
   * (either id reclaimed since they were logged: s25-rte L1) are set aside, kept for audit in the
   * log's `past` and never rated, with a one-line notice; then the records a mined rating used are
   * dropped ({@link prune}). A crash or a retry at any point strands nothing: the next call does
   * the same from the chain.
   * @param notice - receives the one-line notice when records are set aside
   * @returns the pair's pending log of the present era, or undefined when there is none
   * @throws EvidenceError when the log is of a later era than the chain read (a node behind a
   *   reclaim another process logged under): nothing changed, run again (s26-fxl L3)
   */
  async settle(tm: TrustManager, from: string, to: string, notice: (line: string) => void = () => undefined): Promise<PairLog | undefined> {
    const block = await tm.runner!.provider!.getBlockNumber();
    const [era, pair, tmAddress] = await Promise.all([
      eraOf(tm, from, to, block),
      tm.pairOf(from, to, { blockTag: block }),
      tm.getAddress(),
    ]);
    const all = this.all();
    const log = all[`${from}:${to}`];
    if (!log) return undefined;
    const { moved, changed, later } = setAsideOtherEra(log, era, tmAddress);
    if (later) throw laterEraError("settle", log, era, `${from} -> ${to}`, "changed");
    if (changed) this.save(all);
    if (moved > 0)
      notice(
        `${from} -> ${to}: ${moved} logged record(s) are of an earlier era of the pair (reclaimed since) or of another deployment's TrustManager: set aside (kept in the log, not rated)`,
      );
    this.prune(from, to, Number(pair.updatedAt));
    return this.get(from, to);
  }

  /**
   * Forgets the records a rating used: those at or before `upTo`, the time of the pair's latest
   * rating on-chain (they cannot be used again: the next set must be newer). Derived from the
   * chain, so it is idempotent: run before every rating, a crash between a mined rating and this
   * call strands nothing (the next run drops the spent records), and a retry drops nothing more.
   * @returns how many records were dropped
   */
  prune(from: string, to: string, upTo: number): number {
    const all = this.all();
    const log = all[`${from}:${to}`];
    if (!log) return 0;
    const keep = log.records.filter((r) => r.at > upTo);
    const dropped = log.records.length - keep.length;
    if (dropped === 0) return 0;
    log.records = keep;
    this.save(all);
    return dropped;
  }
}

/**
 * Builds and signs the record set of the next rating of (from, to).
 * @param tm - the TrustManager, connected to a provider
 * @param rater - the signer of `from`'s controller (it will send the rating)
 * @param records - the interactions, receipts included, newer than the pair's last rating
 * @returns the signed document, its scores, and the eras (generations of `from` and `to`) it was
 *   built and checked for, read at the same block: the rating names them (`TrustManager.rate`), so
 *   it is refused rather than stored on another era's pair if either id is reclaimed before it is
 *   mined (h16-red2 R6)
 * @throws EvidenceError if the records do not make a valid set
 */
export async function buildEvidence(
  tm: TrustManager,
  rater: Signer,
  from: string,
  to: string,
  agreement: EvidenceTerms,
  records: InteractionRecord[],
  o: { label?: (id: string) => string } = {},
): Promise<{ evidence: RatingEvidence; scores: EvidenceScores; eras: Eras }> {
  // one block's state: the identity lane is read there and the set names it (E2: verifiers read the same block)
  const latest = (await tm.runner!.provider!.getBlock("latest"))!;
  const [net, pair, verified, address, raterAddr, gFrom, gTo] = await Promise.all([
    tm.runner!.provider!.getNetwork(),
    tm.pairOf(from, to, { blockTag: latest.number }),
    tm.isIdentityVerified(to, { blockTag: latest.number }),
    tm.getAddress(),
    rater.getAddress(),
    tm.generationOf(from, { blockTag: latest.number }),
    tm.generationOf(to, { blockTag: latest.number }),
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
    identityBlock: latest.number,
    records,
    rater: raterAddr.toLowerCase(),
  } as const;
  checkEvidenceShape({ ...unsigned, signature: "" }); // before anything is encoded or signed
  const evidence: RatingEvidence = { ...unsigned, signature: await rater.signMessage(evidenceMessage(unsigned)) };
  // The rating's block is at least one second past the latest: a record after that could be
  // after the rating, which every verifier refuses.
  const next = latest.timestamp + 1;
  const future = records.findIndex((r) => r.at > next);
  if (future >= 0)
    throw new EvidenceError(`buildEvidence: record ${future} (time ${records[future].at}) is later than the chain's time (${next - 1})`);
  // E1: check the whole set exactly as a verifier will (the same function, the chain's view of a
  // rating in the next block) before anything is stored or sent: a receipt that is not the
  // provider's controller's would make the rating unverifiable for good.
  const ctx = await ratingContextOf(tm, evidence, {
    chainId: Number(net.chainId),
    trustManager: address,
    from,
    to,
    nonce: Number(pair.ratings),
    after: Number(pair.updatedAt),
    time: next,
    block: latest.number,
    ratingBlock: latest.number + 1,
    label: o.label,
  });
  let scores: EvidenceScores;
  try {
    scores = verifyEvidence(evidence, ctx);
  } catch (x) {
    throw new EvidenceError(`buildEvidence: nothing sent: ${(x as Error).message}`);
  }
  return { evidence, scores, eras: { from: gFrom, to: gTo } };
}

/**
 * Rates from evidence: stores the record set on IPFS and sends its digest with the factors the
 * records give (the ledger checks the stored value against the model, Algorithm 5 step 3).
 * @param ledger - a ledger connected to the rater controller's signer
 * @param before - the pair's state read beforehand (TrustLedger.rate)
 * @param label - names for messages
 * @returns the rating, its CID and its scores
 * @throws EvidenceError, before anything is stored or sent, if the set would not verify (buildEvidence)
 */
export async function rateWithEvidence(
  ledger: TrustLedger,
  store: ContentStore,
  from: string,
  to: string,
  agreement: EvidenceTerms,
  records: InteractionRecord[],
  before?: Promise<PairState>,
  label?: (id: string) => string,
) {
  const rater = ledger.tm.runner as Signer;
  const { evidence, scores, eras } = await buildEvidence(ledger.tm, rater, from, to, agreement, records, { label });
  const block = evidenceBlock(evidence);
  const cid = await store.putJson(evidence);
  if (cid !== block.cid) throw new EvidenceError(`rateWithEvidence: the store computed ${cid}, expected ${block.cid}`);
  const r = await ledger.rate(from, to, scores.packed, Uint8Array.from(Buffer.from(block.digest.slice(2), "hex")), before, eras);
  return { ...r, cid, scores, evidence, eras };
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
  // fetched through the store (kubo: its daemon's repo, else the IPFS network), not gated on `has`,
  // which sees the local repo only (s25-rte K1); re-hashed against the CID. One fetch per call,
  // within the store's timeout and no backoff (s26-fxl L2): `trust:verify-rating` asks about one
  // rating once, and the wait is its answer; the detectors' repeated reads go through
  // TrustLedger.fetcher
  let doc: RatingEvidence;
  try {
    doc = await store.getJson<RatingEvidence>(cid);
  } catch (e) {
    if (e instanceof ContentNotFoundError) throw new EvidenceError(`verifyRating: rating ${who}: its evidence ${cid} is not on IPFS`);
    throw e;
  }
  const [tx, block, prevBlock, m, net] = await Promise.all([
    ev.getTransaction(),
    ev.getBlock(),
    index > 0 ? events[index - 1].getBlock() : Promise.resolve(undefined),
    tm.model(),
    tm.runner!.provider!.getNetwork(),
  ]);
  let factors: bigint | undefined;
  try {
    const call = tm.interface.parseTransaction({ data: tx.data });
    if (call?.name === "rate" && call.args.from === ev.args.from && call.args.to === ev.args.to) factors = call.args.factors as bigint;
  } catch {
    factors = undefined; // sent through a contract: the event's rating is still compared below
  }
  const ctx = await ratingContextOf(tm, doc, {
    chainId: Number(net.chainId),
    trustManager: await tm.getAddress(),
    from,
    to,
    nonce: index,
    after: prevBlock ? prevBlock.timestamp : 0,
    time: block.timestamp,
    block: ev.blockNumber,
    ratingBlock: ev.blockNumber,
    factors,
    label: name,
  });
  const scores = verifyEvidence(doc, ctx);
  const expected = optimizedTrust(scores.packed, m.weights, Number(m.factorCount));
  if (expected !== ev.args.rating)
    throw new EvidenceError(
      `verifyEvidence: rating ${who}: the chain stored rating ${ev.args.rating}, the records give ${expected} (Eq. 41)`,
    );
  return { from, to, index, tx: ev.transactionHash, block: ev.blockNumber, cid, scores, rating: ev.args.rating };
}
