/**
 * The rating agent (issue 15, "trust computed from evidence"): factor scores computed from signed
 * interaction records instead of typed in, and the checks anyone runs to recompute a rating from
 * its evidence. Pure: no I/O (the chain and IPFS are read by `rater.ts`, which passes what it read).
 *
 * An interaction record is one service between the rater i (consumer, entity `from`) and the rated
 * entity j (provider, `to`): its outcome (success or failure), the latency the consumer measured,
 * and which of the agreed terms were kept. The provider's controller signs a **receipt** for each
 * record when it accepts the request: (chain, TrustManager, from, to, seq, request hash, time,
 * H(P)) with P the agreement terms (latency bound, weighted terms): the consumer cannot invent an
 * interaction, move one to another pair, or claim stricter terms than the provider accepted.
 *
 * Factor lanes (the deployed model's six lanes, folded on-chain by Eq. 41 with its weights):
 *   0 performance  P_ij  Eq. 12, s_l = 1 for a success, 0 for a failure
 *   1 timeliness         Eq. 12, s_l = 1 within the agreed latency bound, bound/latency beyond it, 0 on failure
 *   2 integrity    In_ij Eq. 18, sum_k w_k in_k / sum_k w_k, in_k = share of records keeping term k
 *   3 behaviour    B_ij  1 - Eq. 10 over b_k = (s_k, t_k, i_k) (consistent = trustworthy; 0.5 with one record)
 *   4 history      H_ij  Eq. 11, r_k = the mean of b_k
 *   5 identity     I_ij  Eq. 13, j verified by its identity registry (TrustManager.isIdentityVerified)
 * Each lane is rounded to basis points (Math.round(x * 10_000)) and packed as `rate` takes it.
 * Only + - * / on doubles: IEEE 754 rounds them identically everywhere, so anyone recomputes the
 * same basis points.
 *
 * The record set (dag-json on IPFS) names chain, contract, rater, rated entity, the pair's rating
 * index (`nonce`) and the time of the pair's previous rating (`after`): every record must be newer.
 * The rater's controller signs the composite hash SHA-256 || SHA3-256 (Algorithm 1) of the
 * document without its signature. On-chain, `evidence` is the sha2-256 digest of the dag-json block;
 * its CIDv1 is (dag-json, sha2-256, digest). See docs/specs/trust.md §8.
 */
import * as dagJson from "@ipld/dag-json";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { sha256 } from "@noble/hashes/sha2.js";
import { AbiCoder, getAddress, verifyMessage } from "ethers";
import { toHex } from "../crypto/bytes";
import { MetatrustError } from "../errors";
import { packLanes } from "./fixed";
import { compositeHash, eq10BehaviourChange, eq11History, eq12Performance, eq13Identity, eq18Integrity } from "./model";

/** The lanes an evidence-backed rating fills, in order. */
export const EVIDENCE_FACTORS = ["performance", "timeliness", "integrity", "behaviour", "history", "identity"] as const;
/** Domain tags of the two signed messages. */
export const RECEIPT_TAG = "metatrust/interaction-receipt/v1";
export const EVIDENCE_TAG = "metatrust/rating-evidence/v1";
/**
 * At most this many records in one set. Each record costs every verifier one signature recovery
 * (~6 ms here), and a set costs its rater one transaction whatever its size, so the cap bounds the
 * verification work an attacker buys with one rating (red team finding E4). Why 100: every lane is
 * a mean of per-record values in [0, 1] (or one minus their spread), whose standard error is at
 * most 1 / (2 sqrt(n)) = 0.05 at n = 100, half the spread of an honest rater's values the
 * detectors are tuned to (±0.1, §4): records past 100 refine a rating below that noise. An agent
 * with more pending records rates the newest 100 (trust:rate). See docs/specs/trust.md §8.1.
 */
export const MAX_RECORDS = 100;
/**
 * How much older than the rating the block the rater read the identity lane at may be, seconds.
 * The rater reads `isIdentityVerified(to)` before it sends, the rating is mined later: the set
 * names the block it read (verifiers read there), and a rater can choose among the blocks of the
 * last hour what it could already choose by sending its rating earlier. An older block is accepted
 * only if the lane has the same value at the rating's block (a late-mined rating then claims what
 * is true at it). See docs/specs/trust.md §8.5.
 */
export const MAX_IDENTITY_LAG = 3600;
const DAG_JSON = 0x0129;
const SHA2_256 = 0x12;

/** Evidence refused: malformed, bound to another pair or rater, replayed, or not matching the rating. */
export class EvidenceError extends MetatrustError {
  constructor(message: string) {
    super("PROTOCOL_REJECTED", message);
  }
}

/** The agreement terms P_ij the provider accepts with every receipt (public: no secrets). */
export type EvidenceTerms = {
  /** the agreed latency bound, milliseconds (> 0) */
  latencyBoundMs: number;
  /** the agreed terms and their weights (Eq. 18's w_k, positive integers) */
  terms: { id: string; weight: number }[];
};

/** One interaction, as the consumer recorded it, with the provider's receipt. */
export type InteractionRecord = {
  /** the provider's receipt counter for this pair (strictly increasing within a set) */
  seq: number;
  /** 0x 32-byte hash of the request (the request itself never leaves the consumer) */
  request: string;
  /** unix seconds the provider accepted the request (in the receipt) */
  at: number;
  outcome: "success" | "failure";
  /** the latency the consumer measured, milliseconds */
  latencyMs: number;
  /** one flag per agreement term, in the terms' order */
  kept: boolean[];
  /** the provider controller's EIP-191 signature of {@link receiptMessage} */
  receipt: string;
};

/** The record set of one rating, as stored on IPFS. */
export type RatingEvidence = {
  type: typeof EVIDENCE_TAG;
  chainId: number;
  trustManager: string;
  from: string;
  to: string;
  /** how many ratings of (from, to) the chain held before this one */
  nonce: number;
  /** unix seconds of the pair's previous rating (0 if none): every record is newer */
  after: number;
  agreement: EvidenceTerms;
  /** I_ij as the rater read it: isIdentityVerified(to) at block `identityBlock` (when absent, at the rating's block) */
  identity: 0 | 1;
  /** the block the rater read `identity` at: before the rating's block, at or after the latest record's time less one second, at most {@link MAX_IDENTITY_LAG} seconds older */
  identityBlock?: number;
  records: InteractionRecord[];
  /** the rater controller's address */
  rater: string;
  /** its EIP-191 signature of {@link evidenceMessage} */
  signature: string;
};

/** The scores the agent computes. */
export type EvidenceScores = {
  /** the six lanes in [0, 1], in {@link EVIDENCE_FACTORS} order */
  factors: number[];
  /** the same in basis points */
  bps: number[];
  /** packed as TrustManager.rate takes them */
  packed: bigint;
};

const isBytes32 = (s: unknown) => typeof s === "string" && /^0x[0-9a-f]{64}$/.test(s);
const isUint = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
const isAddress = (s: unknown) => typeof s === "string" && /^0x[0-9a-f]{40}$/.test(s);

/**
 * A value from a document, safe to put in a one-line message: numbers and booleans as they are,
 * strings quoted, at most 40 characters, every character outside printable ASCII escaped (no
 * second line, no terminal escape, no bidi override); anything else by its type only.
 */
export function show(x: unknown): string {
  if (typeof x === "number" || typeof x === "boolean" || typeof x === "bigint") return String(x);
  if (typeof x !== "string") return x === null ? "null" : `a ${Array.isArray(x) ? "list" : typeof x}`;
  const cut = x.length > 40 ? x.slice(0, 40) : x;
  const esc = cut.replace(/[^\x20-\x7e]|["\\]/g, (ch) =>
    ch === '"' || ch === "\\" ? `\\${ch}` : `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `"${esc}"${x.length > 40 ? "…" : ""}`;
}

function bad(fn: string, msg: string): never {
  throw new EvidenceError(`${fn}: ${msg}`);
}

/**
 * Checks the agreement terms.
 * @throws EvidenceError naming the field
 */
export function checkTerms(fn: string, p: EvidenceTerms): void {
  if (!p || typeof p !== "object") bad(fn, "agreement terms missing");
  if (!(typeof p.latencyBoundMs === "number" && Number.isFinite(p.latencyBoundMs) && p.latencyBoundMs > 0))
    bad(fn, `agreement latencyBoundMs must be a positive number, got ${show(p.latencyBoundMs)}`);
  if (!Array.isArray(p.terms) || p.terms.length > 32) bad(fn, "agreement terms must be a list of at most 32");
  const seen = new Set<string>();
  for (const t of p.terms) {
    if (typeof t?.id !== "string" || t.id.length === 0 || t.id.length > 64 || seen.has(t.id))
      bad(fn, `agreement term ids must be distinct strings of 1-64 characters, got ${show(t?.id)}`);
    seen.add(t.id);
    if (!(Number.isSafeInteger(t.weight) && t.weight > 0 && t.weight <= 1_000_000))
      bad(fn, `term ${show(t.id)}: weight must be an integer in [1, 1e6], got ${show(t.weight)}`);
  }
}

/**
 * H(P): the composite hash (Algorithm 1's SHA-256 || SHA3-256) of the terms' dag-json encoding,
 * as the provider signs it in every receipt (Eq. 7 hashes P with T; here T is recomputed from the
 * records, so the receipt hashes P alone, see docs/specs/trust.md §8).
 */
export function termsHash(p: EvidenceTerms): Uint8Array {
  checkTerms("termsHash", p);
  return compositeHash(dagJson.encode({ latencyBoundMs: p.latencyBoundMs, terms: p.terms.map((t) => ({ id: t.id, weight: t.weight })) }));
}

/** What a receipt binds: the provider accepted request `request` of `from` at `at`, under terms P. */
export type ReceiptFields = {
  chainId: number;
  trustManager: string;
  from: string;
  to: string;
  seq: number;
  request: string;
  at: number;
  terms: EvidenceTerms;
};

/**
 * The bytes the provider's controller signs (EIP-191) for one interaction: the composite hash of
 * the tag and the ABI encoding of (chainId, trustManager, from, to, seq, request, at, H(P)).
 * @returns 64 bytes
 */
export function receiptMessage(r: ReceiptFields): Uint8Array {
  const fn = "receiptMessage";
  if (!isUint(r.chainId)) bad(fn, "chainId must be a non-negative integer");
  if (!isBytes32(r.from) || !isBytes32(r.to)) bad(fn, "from and to must be lowercase 0x 32-byte entity ids");
  if (!isUint(r.seq) || !isUint(r.at)) bad(fn, `seq and at must be non-negative integers, got ${show(r.seq)}, ${show(r.at)}`);
  if (!isBytes32(r.request)) bad(fn, `request must be a lowercase 0x 32-byte hash, got ${show(r.request)}`);
  if (typeof r.trustManager !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(r.trustManager))
    bad(fn, "trustManager must be a 0x 20-byte address");
  const enc = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "address", "bytes32", "bytes32", "uint64", "bytes32", "uint64", "bytes"],
    [r.chainId, getAddress(r.trustManager), r.from, r.to, r.seq, r.request, r.at, termsHash(r.terms)],
  );
  return compositeHash(RECEIPT_TAG, enc);
}

/** The document without its signature, as the rater signs it. */
export function unsignedEvidence(e: RatingEvidence): Omit<RatingEvidence, "signature"> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { signature, ...rest } = e;
  return rest;
}

/**
 * The bytes the rater's controller signs (EIP-191): the composite hash of the tag and the dag-json
 * encoding of the document without its signature.
 * @returns 64 bytes
 */
export function evidenceMessage(e: Omit<RatingEvidence, "signature">): Uint8Array {
  return compositeHash(EVIDENCE_TAG, dagJson.encode(e));
}

/**
 * The dag-json block of a record set, its CIDv1 and the bytes32 that goes on-chain.
 * @returns the bytes, the CID string and the sha2-256 digest (0x hex)
 */
export function evidenceBlock(e: RatingEvidence): { bytes: Uint8Array; cid: string; digest: string } {
  const bytes = dagJson.encode(e);
  const d = sha256(bytes);
  return { bytes, cid: CID.createV1(DAG_JSON, Digest.create(SHA2_256, d)).toString(), digest: toHex(d) };
}

/**
 * The CID of an on-chain evidence digest: CIDv1, dag-json, sha2-256 (the convention of §8).
 * @param digest - 0x 32-byte hex from `EvidenceAttached`
 */
export function cidOfEvidenceDigest(digest: string): string {
  if (typeof digest !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(digest))
    bad("cidOfEvidenceDigest", `not a 32-byte digest: ${show(digest)}`);
  const d = Uint8Array.from(Buffer.from(digest.slice(2), "hex"));
  return CID.createV1(DAG_JSON, Digest.create(SHA2_256, d)).toString();
}

/**
 * Checks the shape of one record set (no chain context).
 * @throws EvidenceError naming the record and the field
 */
export function checkEvidenceShape(e: RatingEvidence): void {
  const fn = "checkEvidence";
  if (!e || typeof e !== "object" || e.type !== EVIDENCE_TAG) bad(fn, `not a ${EVIDENCE_TAG} document`);
  if (!isUint(e.chainId) || !isUint(e.nonce) || !isUint(e.after)) bad(fn, "chainId, nonce and after must be non-negative integers");
  if (!isBytes32(e.from) || !isBytes32(e.to)) bad(fn, "from and to must be lowercase 0x 32-byte entity ids");
  if (!isAddress(e.trustManager)) bad(fn, "trustManager must be a lowercase 0x 20-byte address");
  if (!isAddress(e.rater)) bad(fn, "rater must be a lowercase 0x 20-byte address");
  if (typeof e.signature !== "string") bad(fn, "signature must be a string");
  if (e.identity !== 0 && e.identity !== 1) bad(fn, "identity must be 0 or 1");
  if (e.identityBlock !== undefined && !isUint(e.identityBlock)) bad(fn, "identityBlock must be a non-negative integer");
  checkTerms(fn, e.agreement);
  if (!Array.isArray(e.records) || e.records.length === 0 || e.records.length > MAX_RECORDS)
    bad(fn, `needs 1 to ${MAX_RECORDS} records, got ${Array.isArray(e.records) ? e.records.length : "none"}`);
  let prevSeq = -1;
  const requests = new Set<string>();
  e.records.forEach((r, k) => {
    if (!r || typeof r !== "object") bad(fn, `record ${k}: not a record`);
    if (!isUint(r.seq) || r.seq <= prevSeq) bad(fn, `record ${k}: seq must increase strictly (got ${show(r.seq)} after ${prevSeq})`);
    prevSeq = r.seq;
    if (!isBytes32(r.request) || requests.has(r.request)) bad(fn, `record ${k}: request must be a distinct lowercase 0x 32-byte hash`);
    requests.add(r.request);
    if (!isUint(r.at) || r.at <= e.after) bad(fn, `record ${k}: time ${show(r.at)} is not after the pair's previous rating (${e.after})`);
    if (r.outcome !== "success" && r.outcome !== "failure") bad(fn, `record ${k}: outcome must be "success" or "failure"`);
    if (!(typeof r.latencyMs === "number" && Number.isFinite(r.latencyMs) && r.latencyMs >= 0))
      bad(fn, `record ${k}: latencyMs must be a finite number >= 0`);
    if (!Array.isArray(r.kept) || r.kept.length !== e.agreement.terms.length || r.kept.some((x) => typeof x !== "boolean"))
      bad(fn, `record ${k}: kept needs one boolean per agreement term (${e.agreement.terms.length})`);
    if (typeof r.receipt !== "string") bad(fn, `record ${k}: receipt missing`);
  });
}

/**
 * The six factor scores of the records (the lanes of {@link EVIDENCE_FACTORS}).
 * @param records - the interactions (shape checked by the caller)
 * @param p - the agreement terms
 * @param identityVerified - Eq. 13's input
 * @returns the factors, their basis points and the packed word
 */
export function evidenceFactors(records: readonly InteractionRecord[], p: EvidenceTerms, identityVerified: boolean): EvidenceScores {
  if (records.length === 0) bad("evidenceFactors", "needs at least one record");
  checkTerms("evidenceFactors", p);
  const s = records.map((r) => (r.outcome === "success" ? 1 : 0));
  const t = records.map((r, k) => (s[k] === 0 ? 0 : r.latencyMs <= p.latencyBoundMs ? 1 : p.latencyBoundMs / r.latencyMs));
  const W = p.terms.map((x) => x.weight);
  // per record, the weighted share of terms kept (Eq. 18 with in_k in {0, 1}); 1 when nothing was agreed
  const i = records.map((r) => (W.length === 0 ? 1 : eq18Integrity(r.kept.map(Number), W)));
  // Eq. 18 over the whole set: in_k = share of records keeping term k
  const integrity =
    W.length === 0
      ? 1
      : eq18Integrity(
          p.terms.map((_, k) => records.reduce((a, r) => a + (r.kept[k] ? 1 : 0), 0) / records.length),
          W,
        );
  const b = records.map((_, k) => [s[k], t[k], i[k]]);
  const behaviour = records.length < 2 ? 0.5 : 1 - eq10BehaviourChange(b);
  const factors = [
    eq12Performance(s),
    eq12Performance(t),
    integrity,
    behaviour,
    eq11History(b.map((x) => (x[0] + x[1] + x[2]) / 3)),
    eq13Identity(identityVerified),
  ];
  const bps = factors.map((x) => Math.round(x * 10_000));
  return { factors, bps, packed: packLanes(bps) };
}

/** What the chain says about one rating, as `rater.ts` read it. */
export type RatingContext = {
  chainId: number;
  trustManager: string;
  from: string;
  to: string;
  /** the rating's index among the pair's ratings */
  nonce: number;
  /** unix seconds of the pair's previous rating, 0 if none */
  after: number;
  /** the rating block's timestamp */
  time: number;
  /** the account that sent the rating (the rater's controller) */
  sender: string;
  /** the provider's controller at the rating's block */
  providerController: string;
  /**
   * the provider's controllers up to the rating's block, oldest first: each from the time of the
   * block that registered it (`EntityRegistered`). When given, each receipt is checked against the
   * controller at its record's time `at`, not at the rating's (a move does not void receipts);
   * a record older than the first registration is checked against the first controller.
   */
  providerHistory?: { since: number; controller: string }[];
  /**
   * unix seconds of the block of the last reclaim of either id (a registration after its first),
   * 0 if neither was reclaimed: every record must be newer (a squatter's interactions are not the
   * owner's, docs/specs/trust.md §6)
   */
  eraStart?: number;
  /** the rating's block number (for a rating not yet sent: the next block) */
  ratingBlock?: number;
  /** the block `identityVerified` was read at: the set's `identityBlock` when it names one, else the rating's */
  identityBlock?: number;
  /** that block's timestamp */
  identityTime?: number;
  /** TrustManager.isIdentityVerified(to) at `identityBlock` (else at the rating's block) */
  identityVerified: boolean;
  /**
   * TrustManager.isIdentityVerified(to) at the rating's block, when `identityTime` is more than
   * MAX_IDENTITY_LAG before the rating (read only then): a claim read earlier that the registry
   * still makes at the rating is the truth at the rating, whatever its age
   */
  identityVerifiedAtRating?: boolean;
  /** the factor word of the rate call, when the transaction's input could be decoded */
  factors?: bigint;
  /** names for messages */
  label?: (id: string) => string;
};

/**
 * Checks a record set against the rating it is attached to and recomputes the factors: the pair,
 * chain and contract; the rating's index (a set counts for one rating only) and time window
 * (every record newer than the pair's previous rating, none after the rating); the rater's
 * signature (by the account that sent the rating); every receipt (by the provider's controller at
 * the record's time when the history is given, naming this pair and the terms); the identity
 * factor (at the block the set names, before the rating, at or after the latest record (one second
 * of slack), and at most MAX_IDENTITY_LAG older unless the registry says the same at the rating); and,
 * when given, the factor word. Run by every verifier and by the rater before it sends (E1).
 * @param e - the document read from IPFS
 * @param c - the chain's view of the rating
 * @returns the recomputed scores
 * @throws EvidenceError naming the pair and what does not hold
 */
export function verifyEvidence(e: RatingEvidence, c: RatingContext): EvidenceScores {
  const name = c.label ?? ((id: string) => `${id.slice(0, 10)}…`);
  const who = `rating ${name(c.from)} -> ${name(c.to)} #${c.nonce}`;
  const fn = `verifyEvidence: ${who}`;
  try {
    checkEvidenceShape(e);
  } catch (x) {
    bad(fn, (x as Error).message.replace(/^checkEvidence: /, ""));
  }
  if (e.from !== c.from.toLowerCase() || e.to !== c.to.toLowerCase())
    bad(fn, `the records are for the pair ${name(e.from)} -> ${name(e.to)}`);
  if (e.chainId !== c.chainId || e.trustManager !== c.trustManager.toLowerCase())
    bad(fn, `the records are for chain ${e.chainId}, contract ${e.trustManager}`); // both shape-checked
  if (e.nonce !== c.nonce) bad(fn, `the records were made for rating #${e.nonce} of this pair (replayed evidence)`);
  if (e.after !== c.after) bad(fn, `the records start after ${e.after}, the pair's previous rating was at ${c.after}`);
  const early = c.eraStart ? e.records.findIndex((r) => r.at <= c.eraStart!) : -1;
  if (early >= 0)
    bad(fn, `record ${early} (time ${e.records[early].at}) is from before the reclaim at ${c.eraStart}: another controller's era`);
  const late = e.records.findIndex((r) => r.at > c.time);
  if (late >= 0) bad(fn, `record ${late} (time ${e.records[late].at}) is after the rating (${c.time})`);
  let signer: string;
  try {
    signer = verifyMessage(evidenceMessage(unsignedEvidence(e)), e.signature);
  } catch {
    bad(fn, "the rater's signature is malformed");
  }
  if (signer !== getAddress(c.sender) || getAddress(e.rater) !== signer)
    bad(fn, `the record set is signed by ${signer}, the rating was sent by ${getAddress(c.sender)} (evidence of another rater)`);
  const history = c.providerHistory;
  e.records.forEach((r, k) => {
    // the controller when the provider accepted the request (E6: a later move does not void it)
    let signerOf = c.providerController;
    if (history) {
      // before its first registration, the key that registered it first (no one else held the id)
      const h = history.filter((x) => x.since <= r.at).pop() ?? history[0];
      if (!h) bad(fn, `record ${k}: ${name(c.to)} is not registered`);
      signerOf = h.controller;
    }
    let p: string;
    try {
      p = verifyMessage(
        receiptMessage({
          chainId: e.chainId,
          trustManager: e.trustManager,
          from: e.from,
          to: e.to,
          seq: r.seq,
          request: r.request,
          at: r.at,
          terms: e.agreement,
        }),
        r.receipt,
      );
    } catch {
      bad(fn, `record ${k}: the provider's receipt is malformed`);
    }
    if (p !== getAddress(signerOf))
      bad(fn, `record ${k}: the receipt is not ${name(c.to)}'s (signed by ${p}): tampered record or another pair's`);
  });
  if (e.identityBlock !== undefined) {
    // E2: the lane as the rater read it, at the block it names (before the rating, not too old)
    if (c.identityBlock !== e.identityBlock || c.identityTime === undefined)
      bad(fn, `the identity was read at block ${e.identityBlock}, which is not before the rating`);
    if (c.ratingBlock !== undefined && e.identityBlock >= c.ratingBlock)
      bad(fn, `the identity was read at block ${e.identityBlock}, not before the rating's block ${c.ratingBlock}`);
    // ... and at or after the service it rates (s25-rte E1): a lane read before a record is not
    // the provider's standing when it served (a block before its verification would give lane 0
    // for service given verified). One second of slack: buildEvidence reads the latest block and
    // dates records up to one second past it (the next block's earliest time).
    const newest = e.records.reduce((k, r, i) => (r.at > e.records[k].at ? i : k), 0);
    if (e.records.length > 0 && c.identityTime + 1 < e.records[newest].at)
      bad(
        fn,
        `the identity was read at block ${e.identityBlock} (time ${c.identityTime}), before record ${newest} (time ${e.records[newest].at}): it must be read at or after the latest record`,
      );
    // Older than the window, the claim stands only if the registry still makes it at the rating
    // (the rater then claims what is true at the rating): a rating that waited in the mempool, or
    // one on a chain that mined nothing for an hour, is refused only if the lane moved meanwhile.
    if (c.identityTime < c.time - MAX_IDENTITY_LAG && c.identityVerifiedAtRating !== c.identityVerified)
      bad(
        fn,
        `the identity was read at block ${e.identityBlock} (time ${c.identityTime}), more than ${MAX_IDENTITY_LAG} s before the rating (${c.time}), and ${c.identityVerifiedAtRating === undefined ? "was not read at the rating" : "has changed since"}`,
      );
  }
  const at = e.identityBlock === undefined ? "at the rating" : `at block ${e.identityBlock}`;
  if (e.identity !== (c.identityVerified ? 1 : 0))
    bad(fn, `the records claim identity ${e.identity}, the registry says ${c.identityVerified ? 1 : 0} ${at}`);
  const scores = evidenceFactors(e.records, e.agreement, c.identityVerified);
  if (c.factors !== undefined && c.factors !== scores.packed)
    bad(fn, `the on-chain factors [${unpack(c.factors).join(", ")}] differ from the records' [${scores.bps.join(", ")}] (basis points)`);
  return scores;
}

function unpack(w: bigint): number[] {
  return Array.from({ length: EVIDENCE_FACTORS.length }, (_, k) => Number((w >> BigInt(16 * k)) & 0xffffn));
}
