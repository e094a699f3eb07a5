/**
 * The resource pool manager (RPM) agent of RSMS §IV.A: opens join and re-authentication
 * requests, checks them against its pool's Bloom filters, seals what it forwards to the MSRP and
 * builds its reply. Pure: chain reads are done by the caller (flows.ts) and passed in.
 *
 *   Initial authentication, step 2:  U' = c1 * sk_RPM^-1,  a' = H3(U', PID) xor c2;
 *     reject if H4(a') is on-chain; check a' in BF_X; forward Enc_PKpub(a', PID) to the MSRP
 *   step 3:  A = a' * P
 *   Re-authentication, step 2:  W' = c1 * sk_RPM^-1,  (H4(a_k)' || a'_{k+1}) = H3(W', PID_k) xor c2;
 *     require PID_{k+1} not on-chain and H4(a_k)' on-chain with PID_k; forward Enc_PKpub(a'_{k+1}), PID_{k+1}
 *   step 3:  A = a'_{k+1} * P
 *
 * sk_RPM^-1 is computed once (Remark 1), so opening a request costs one scalar multiplication.
 */
import { bytesToNumberBE, concat, equalBytes, fromHex, toHex, xor } from "../crypto/bytes";
import { ORDER, Point, encodeScalar, decodeScalar, invert, mul, mulBase } from "../crypto/group";
import { H3 } from "../crypto/hash";
import { eciesEncrypt } from "../crypto/ecies";
import { BloomFilter, positionsOfKey } from "../crypto/bloom";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { AgentStateError, RsmsRejectedError } from "./errors";
import {
  AAD,
  decodeJoinRequest,
  decodeReauthRequest,
  encodeJoinForward,
  encodeJoinReply,
  encodeReauthForward,
  encodeReauthReply,
  joinForwardSigned,
  reauthForwardSigned,
} from "./messages";
import { schnorrSign } from "../crypto/schnorr";
import type { EphemeralStock } from "../crypto/ephemeral";

/** Domain of the RPM's signature on what it forwards to the MSRP (checked by Msrp.verifyJoin / verifyReauth). */
export const FORWARD_DST = "METATRUST-V1-RSMS-RPM-FORWARD";
import { RsmsParams, tagOf } from "./params";

/**
 * The RPM's persistent state. filterTtlSec: how long after its publication a filter epoch serves
 * joins (the MSRP's policy; default 7 days, DEFAULT_FILTER_TTL_SEC in msrp.ts).
 */
export type RpmState = { poolId: number; sk: bigint; pid: Uint8Array; filterTtlSec?: number };

/** Seven days: the MSRP's DEFAULT_FILTER_TTL_SEC (not imported: msrp.ts imports this module). */
const DEFAULT_TTL = 7 * 24 * 3600;
/**
 * A filter fetch whose bytes did not hash to the CID (a bad answer, not a bad epoch: s17-redB B12)
 * is tried this many times in one sync, then again at later syncs after a backoff that doubles from
 * {@link REFETCH_BACKOFF_SEC} up to {@link REFETCH_BACKOFF_MAX_SEC}, until it loads or the epoch expires.
 */
export const FETCH_ATTEMPTS = 3;
/** First wait (s) before an epoch whose fetches all came back corrupt is fetched again. */
export const REFETCH_BACKOFF_SEC = 5;
/** Longest wait (s) between the syncs that fetch such an epoch again. */
export const REFETCH_BACKOFF_MAX_SEC = 600;
/**
 * Longest wait (s) before an epoch whose content was not found is fetched again: a filter just
 * published may not have reached the RPM's IPFS node yet, and RNs listed only in it are refused
 * NOT_IN_FILTER meanwhile, so the wait stays short (s26-review L5).
 */
export const NOT_FOUND_BACKOFF_MAX_SEC = 60;

/**
 * Filter bytes whose keccak256 this process computed, by that root (at most HASHED_FILTERS_KEPT,
 * the oldest dropped first): addFilter compares bytes it is given with these instead of hashing
 * them again. A byte-for-byte copy of bytes that hashed to a root hashes to it.
 */
const hashedFilters = new Map<string, Uint8Array>();
const HASHED_FILTERS_KEPT = 16;

/** An opened initial-authentication request. */
export type OpenedJoin = { a: bigint; pid: Uint8Array; tag: Uint8Array };
/** An opened re-authentication request. */
export type OpenedReauth = { pid: Uint8Array; nextPid: Uint8Array; claimedTag: Uint8Array; nextA: bigint; nextTag: Uint8Array };

function scalarOrReject(fn: string, b: Uint8Array): bigint {
  const a = bytesToNumberBE(b);
  // A wrong key or tampered c2 gives a uniformly random 256-bit string; most are valid scalars,
  // the rest cannot be a registered secret.
  if (a === 0n || a >= ORDER)
    throw new RsmsRejectedError("NOT_IN_FILTER", `${fn}: the recovered secret is not in Z_q* (tampered or misdirected request)`);
  return a;
}

/** The resource pool manager agent. */
export class ResourcePoolManager {
  readonly params: RsmsParams;
  readonly poolId: number;
  readonly pid: Uint8Array;
  private readonly sk: bigint;
  private readonly skInv: bigint;
  /** sk*P, kept for the Schnorr signatures on forwards. */
  private readonly pk: Point;
  private readonly filters = new Map<number, BloomFilter>();
  private readonly publishedAt = new Map<number, number>();
  /** The root each loaded filter was checked against (0x hex): syncFilters compares it with the root a join read. */
  private readonly roots = new Map<number, string>();
  private readonly quarantined = new Map<number, string>();
  /** epochs whose last fetches came back corrupt: fetched again from `at` on (s17-redB B12) */
  private readonly refetch = new Map<number, { failures: number; at: number; reason: string; cid?: string }>();
  /** Epochs below this one have expired: never fetched or checked again. */
  private floor = 0;
  /** How long after its publication a filter epoch serves joins (seconds). */
  readonly filterTtlSec: number;

  constructor(params: RsmsParams, state: RpmState) {
    this.params = params;
    this.poolId = state.poolId;
    this.pid = Uint8Array.from(state.pid);
    this.sk = state.sk;
    this.skInv = invert(state.sk);
    this.pk = mulBase(state.sk);
    this.filterTtlSec = state.filterTtlSec ?? DEFAULT_TTL;
  }

  /** The first epoch that has not expired (syncFilters starts there). */
  get firstLiveEpoch(): number {
    return this.floor;
  }

  /**
   * True when an epoch published at `publishedAt` has expired at `now`. Epochs are published in
   * time order, so the expired epochs are always a prefix of the pool's epochs.
   */
  isExpired(publishedAt: number, now: number): boolean {
    return publishedAt + this.filterTtlSec < now;
  }

  /**
   * Drops every loaded epoch that expired at `now`, and marks every epoch up to `throughEpoch`
   * (when given: the caller read its publication time) expired. Expiry bounds the filters a join
   * checks to those published in the last filterTtlSec (issue 13).
   * @returns the epochs dropped
   */
  expire(now: number, throughEpoch?: number): number[] {
    const dropped: number[] = [];
    for (const [epoch, t] of this.publishedAt)
      if (this.isExpired(t, now)) {
        this.filters.delete(epoch);
        this.publishedAt.delete(epoch);
        this.roots.delete(epoch);
        dropped.push(epoch);
        this.floor = Math.max(this.floor, epoch + 1);
      }
    if (throughEpoch !== undefined) this.floor = Math.max(this.floor, throughEpoch + 1);
    for (const e of this.quarantined.keys()) if (e < this.floor) this.quarantined.delete(e);
    for (const e of this.refetch.keys()) if (e < this.floor) this.refetch.delete(e);
    return dropped.sort((x, y) => x - y);
  }

  /**
   * The RPM's effective public key sk_RPM * P = PK_RPM + H2(PID_RPM) * PK_pub: implicitly
   * certified by the MSRP, since only the holder of msk can issue a matching sk_RPM.
   */
  get effectivePublicKey(): Point {
    return mulBase(this.sk);
  }

  /**
   * Quarantines a filter epoch whose bytes do not match its on-chain root: it is not loaded or
   * fetched again, and the other epochs keep serving (docs/specs/rsms-join.md).
   * @param epoch - the epoch
   * @param reason - why (kept for status output)
   */
  quarantine(epoch: number, reason: string): void {
    if (this.filters.has(epoch)) throw new AgentStateError(`quarantine: pool ${this.poolId} epoch ${epoch} is loaded and intact`);
    this.quarantined.set(epoch, reason);
  }

  /**
   * Records that every fetch of an epoch in this sync came back corrupt (bytes that do not hash to
   * the CID): a bad answer from the store or the path to it, not a bad epoch, so the epoch is not
   * quarantined. It is fetched again from `now + backoff` on, the backoff doubling per failed sync
   * from REFETCH_BACKOFF_SEC up to `maxSec` (REFETCH_BACKOFF_MAX_SEC; NOT_FOUND_BACKOFF_MAX_SEC for
   * content not found); the CID and root on-chain stay the arbiters. The backoff is the CID's: a
   * failure of another CID for the epoch starts it again, and `fetchDue` of another CID ignores it.
   * @param cid - the CID that failed (the epoch's on-chain CID)
   * @returns when it is fetched again (unix s)
   */
  fetchFailed(epoch: number, now: number, reason: string, maxSec = REFETCH_BACKOFF_MAX_SEC, cid?: string): number {
    const before = this.refetch.get(epoch);
    const failures = (before !== undefined && before.cid === cid ? before.failures : 0) + 1;
    const at = now + Math.min(REFETCH_BACKOFF_SEC * 2 ** Math.min(failures - 1, 20), maxSec);
    this.refetch.set(epoch, { failures, at, reason, ...(cid === undefined ? {} : { cid }) });
    return at;
  }

  /** Whether an epoch may be fetched at `now` (not waiting out the backoff of corrupt fetches). */
  fetchDue(epoch: number, now: number, cid?: string): boolean {
    const r = this.refetch.get(epoch);
    // a backoff is the CID's that failed: the epoch naming another CID (a pool deployed anew under
    // the same id and epoch numbers, an agent kept across deployments) is fetched at once
    if (r === undefined || (cid !== undefined && r.cid !== undefined && r.cid !== cid)) return true;
    return r.at <= now;
  }

  /** The epochs waiting to be fetched again after corrupt fetches: failed syncs, when, and the last reason. */
  get refetchingEpochs(): Map<number, { failures: number; at: number; reason: string }> {
    return new Map([...this.refetch].map(([e, r]) => [e, { ...r }]));
  }

  /** The quarantined epochs and why. */
  get quarantinedEpochs(): Map<number, string> {
    return new Map(this.quarantined);
  }

  /** The root a loaded epoch's filter was checked against (0x hex), if it is loaded. */
  loadedRoot(epoch: number): string | undefined {
    return this.roots.get(epoch);
  }

  /**
   * Drops a loaded epoch (its filter no longer the chain's: the chain went back and the epoch was
   * published anew, or is gone; s27-rtc F4): the next sync loads the epoch the chain holds.
   */
  unload(epoch: number): void {
    this.filters.delete(epoch);
    this.publishedAt.delete(epoch);
    this.roots.delete(epoch);
  }

  /** The epochs of the filters loaded so far. */
  get loadedEpochs(): number[] {
    return [...this.filters.keys()].sort((x, y) => x - y);
  }

  /**
   * Loads a published filter after checking its bytes against the on-chain root.
   * @param epoch - the epoch
   * @param bytes - the serialized filter fetched by CID
   * @param root - keccak256 root read from the chain
   * @param publishedAt - its on-chain publication time (unix s); without it the epoch never expires
   * @throws RsmsRejectedError(FILTER_ROOT_MISMATCH | FILTER_MALFORMED): the bytes are not the root's,
   *   or are the root's but no filter (a faulty MSRP; the chain cannot check the content)
   */
  addFilter(epoch: number, bytes: Uint8Array, root: Uint8Array, publishedAt?: number): void {
    // bytes equal to bytes this process already hashed to this root need no second hash (keccak of
    // a filter takes about 0.2 ms; each command's new RPM agent checks its pool's filters again)
    const rootHex = toHex(root);
    const known = hashedFilters.get(rootHex);
    if (!(known && equalBytes(known, bytes)) && !equalBytes(keccak_256(bytes), root)) {
      throw new RsmsRejectedError(
        "FILTER_ROOT_MISMATCH",
        `addFilter: pool ${this.poolId} epoch ${epoch}: the filter's bytes do not hash to the published root ${toHex(root)}`,
      );
    }
    let filter: BloomFilter;
    try {
      filter = BloomFilter.deserialize(bytes);
    } catch (e) {
      throw new RsmsRejectedError(
        "FILTER_MALFORMED",
        `addFilter: pool ${this.poolId} epoch ${epoch}: not a filter: ${(e as Error).message}`,
        { cause: e },
      );
    }
    this.filters.set(epoch, filter);
    this.roots.set(epoch, rootHex);
    this.refetch.delete(epoch);
    if (publishedAt !== undefined) this.publishedAt.set(epoch, publishedAt);
    if (!known) {
      if (hashedFilters.size >= HASHED_FILTERS_KEPT) hashedFilters.delete(hashedFilters.keys().next().value!);
      hashedFilters.set(rootHex, Uint8Array.from(bytes));
    }
  }

  /**
   * Check(a) against every loaded filter of the pool.
   * @param a - the recovered secret
   */
  inFilters(a: bigint): boolean {
    const key = keccak_256(encodeScalar(a));
    // the positions once per filter shape (every epoch of a pool usually has the same policy)
    const shapes = new Map<string, number[]>();
    for (const f of this.filters.values()) {
      const shape = `${f.m}/${f.lambda}/${f.version}`;
      let pos = shapes.get(shape);
      if (!pos) shapes.set(shape, (pos = positionsOfKey(key, f.m, f.lambda, f.version)));
      if (f.checkPositions(pos)) return true;
    }
    return false;
  }

  /**
   * Initial authentication, step 2 (first half): recovers a' and its tag.
   * @throws MalformedMessageError; RsmsRejectedError(NOT_IN_FILTER) if a' is not a scalar
   */
  openJoinRequest(request: Uint8Array): OpenedJoin {
    const { c1, c2, pid } = decodeJoinRequest(request);
    const U = mul(c1, this.skInv);
    const a = scalarOrReject("openJoinRequest", xor(H3(32, U, pid), c2));
    return { a, pid, tag: tagOf(a) };
  }

  /**
   * Initial authentication, step 2 (second half), once the caller has checked the chain:
   * the filter check and the sealed forward to the MSRP.
   * @param opened - output of openJoinRequest
   * @param stock - single-use ephemerals computed ahead (crypto/ephemeral.ts) for the ECIES seal
   *   to PK_pub and the Schnorr nonce, taken when it holds them (never used twice); else drawn here
   * @returns Enc_PKpub(a', PID) as a JoinForward message
   * @throws RsmsRejectedError(NOT_IN_FILTER)
   */
  forwardJoin(opened: OpenedJoin, stock?: EphemeralStock): Uint8Array {
    if (!this.inFilters(opened.a)) {
      throw new RsmsRejectedError(
        "NOT_IN_FILTER",
        this.filters.size === 0
          ? `forwardJoin: pool ${this.poolId} has published no filter yet: an RN registered for it joins once the MSRP publishes the filter that holds its secret`
          : `forwardJoin: a' is in none of pool ${this.poolId}'s ${this.filters.size} published filters (unregistered RN, wrong pool, tampered request, or a secret still waiting for the next filter)`,
      );
    }
    const sealed = eciesEncrypt(this.params.pkPub, concat(encodeScalar(opened.a), opened.pid), AAD.joinForward(this.poolId), stock);
    const fields = { poolId: this.poolId, sealed };
    return encodeJoinForward({ ...fields, sig: schnorrSign(this.sk, FORWARD_DST, joinForwardSigned(fields), this.pk, stock) });
  }

  /** Step 3: A = a' * P. */
  joinReply(opened: OpenedJoin): Uint8Array {
    return encodeJoinReply({ A: mulBase(opened.a) });
  }

  /**
   * Re-authentication, step 2 (first half): recovers (H4(a_k)', a'_{k+1}).
   * @throws MalformedMessageError; RsmsRejectedError
   */
  openReauthRequest(request: Uint8Array): OpenedReauth {
    const { c1, c2, pid, nextPid } = decodeReauthRequest(request);
    const W = mul(c1, this.skInv);
    const plain = xor(H3(64, W, pid), c2);
    const nextA = scalarOrReject("openReauthRequest", plain.subarray(32));
    return { pid, nextPid, claimedTag: plain.slice(0, 32), nextA, nextTag: tagOf(nextA) };
  }

  /**
   * Re-authentication, step 2 (second half), given the chain's record of PID_k and whether
   * PID_{k+1} is recorded.
   * @param opened - output of openReauthRequest
   * @param recordedTagOfPid - the tag on-chain with PID_k (zero bytes if none)
   * @param nextPidRecorded - whether PID_{k+1} has a record
   * @returns the ReauthForward message
   * @throws RsmsRejectedError(NEXT_PID_RECORDED | TAG_NOT_RECORDED)
   */
  forwardReauth(opened: OpenedReauth, recordedTagOfPid: Uint8Array, nextPidRecorded: boolean): Uint8Array {
    if (nextPidRecorded)
      throw new RsmsRejectedError(
        "NEXT_PID_RECORDED",
        `forwardReauth: PID_{k+1} ${toHex(opened.nextPid)} is already on-chain (replayed re-authentication)`,
      );
    if (recordedTagOfPid.every((x) => x === 0) || !equalBytes(recordedTagOfPid, opened.claimedTag)) {
      throw new RsmsRejectedError("TAG_NOT_RECORDED", `forwardReauth: H4(a_k) is not on-chain with PID_k ${toHex(opened.pid)}`);
    }
    const sealed = eciesEncrypt(this.params.pkPub, encodeScalar(opened.nextA), AAD.reauthForward(this.poolId));
    const fields = { poolId: this.poolId, nextPid: opened.nextPid, sealed };
    return encodeReauthForward({ ...fields, sig: schnorrSign(this.sk, FORWARD_DST, reauthForwardSigned(fields), this.pk) });
  }

  /** Re-authentication step 3: A = a'_{k+1} * P. */
  reauthReply(opened: OpenedReauth): Uint8Array {
    return encodeReauthReply({ A: mulBase(opened.nextA) });
  }

  /** JSON record for the keystore (filters are re-read from the chain and IPFS). */
  toRecord(): Record<string, unknown> {
    return { poolId: this.poolId, sk: toHex(encodeScalar(this.sk)), pid: toHex(this.pid), filterTtlSec: this.filterTtlSec };
  }

  /** Restores an agent from its keystore record. */
  static fromRecord(params: RsmsParams, r: Record<string, unknown>): ResourcePoolManager {
    return new ResourcePoolManager(params, {
      poolId: Number(r.poolId),
      sk: decodeScalar(fromHex(String(r.sk), 32)),
      pid: fromHex(String(r.pid), 32),
      filterTtlSec: r.filterTtlSec === undefined ? undefined : Number(r.filterTtlSec),
    });
  }
}
