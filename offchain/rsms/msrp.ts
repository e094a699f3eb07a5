/**
 * The Metaverse service resource provider (MSRP) agent of RSMS §IV.A.1 and §IV.B.1: system
 * setup, RPM / RN / User registration, the per-pool Bloom filters, the exact check of every
 * forwarded join, the a/PID rotation and tracing. Pure: the chain and IPFS are the caller's.
 *
 *   Setup:      msk <-$ Z_q*, PK_pub = msk * P
 *   RPM setup:  d <-$ Z_q*, PK_RPM = d*P, PID_RPM = H1(PK_pub, RID, rho), sk_RPM = d + msk*H2(PID_RPM)
 *   RN setup:   sk_RN <-$ Z_q*, PK_RN = sk_RN*P, a_{i,0} <-$ Z_q*, PID_{i,0} = H1(PK_pub, RID, rho),
 *               Insert(a_{i,0}) into the pool's filter
 *   Join check: a' must be the secret the MSRP issued for PID (and for that pool), then
 *               record (PID_k, H4(a_k)) and expect a_{k+1} = H4(a_k, sk_RN), PID_{k+1} = H6(PID_k, a_{k+1})
 *
 * rho is a random 32-byte salt per registration (a metatrust addition, docs/specs/rsms-join.md:
 * without it PID_{i,0} = H1(PK_pub, RID) is computable by anyone who knows the RID).
 */
import { randomBytes } from "@noble/hashes/utils.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { BLOOM_VERSION, BloomFilter } from "../crypto/bloom";
import { bytesToNumberBE, concat, equalBytes, fromHex, toHex } from "../crypto/bytes";
import { eciesDecrypt, eciesEncrypt } from "../crypto/ecies";
import {
  Point,
  addMod,
  decodePoint,
  decodeScalar,
  encodePoint,
  encodeScalar,
  mulBase,
  mulMod,
  precompute,
  randomScalar,
} from "../crypto/group";
import { H1, H2, H4, H6 } from "../crypto/hash";
import { DecryptionError } from "../errors";
import { AgentStateError, MalformedMessageError, RsmsRejectedError } from "./errors";
import {
  AAD,
  Role,
  decodeJoinForward,
  decodeReauthForward,
  decodeRegistration,
  encodeRegistration,
  joinForwardSigned,
  reauthForwardSigned,
} from "./messages";
import { RsmsParams, poolEncryptionKey, rnGroupSecret, tagOf } from "./params";
import { schnorrVerify } from "../crypto/schnorr";
import { FORWARD_DST } from "./rpm";
import { RENEW_DST, RenewalRequest } from "./rn";
import { Dealing, GroupPartyInfo, dealGroup, rekeyMessage } from "./group";

/**
 * Bloom filter settings for new pool filters. `ttlSec` is how long an issued a_{i,0} (and the
 * filter epoch that lists it) serves initial joins: the MSRP refuses a secret issued longer ago
 * (SECRET_EXPIRED) and RPMs drop epochs published longer ago, so that a join checks a bounded
 * number of filters. An RN whose secret expired before it joined renews it ({@link Msrp.renewRn}).
 * Absent in records written before it existed: {@link DEFAULT_FILTER_TTL_SEC}.
 */
export type FilterPolicy = { capacity: number; lambda: number; intervalSec: number; ttlSec?: number };
/** Seven days. */
/**
 * Most RNs in a group, formed or updated: the mailbox carries 256 parties with the user
 * (group-wire.ts MAX_PARTIES), so 255 RNs; the registry (MAX_MEMBERS 256) never sees more (h15-red H4).
 */
export const MAX_GROUP_RNS = 255;
export const DEFAULT_FILTER_TTL_SEC = 7 * 24 * 3600;
export const DEFAULT_FILTER_POLICY: FilterPolicy = { capacity: 1024, lambda: 20, intervalSec: 3600, ttlSec: DEFAULT_FILTER_TTL_SEC };

/** The filter TTL of a policy. */
export function filterTtl(policy: FilterPolicy): number {
  return policy.ttlSec ?? DEFAULT_FILTER_TTL_SEC;
}

/** Credentials the MSRP issues to an RPM. */
export type RpmCredentials = { poolId: number; sk: bigint; pkRpm: Point; pid: Uint8Array };
/** Credentials the MSRP issues to an RN. */
export type RnCredentials = { poolId: number; sk: bigint; pk: Point; a: bigint; pid: Uint8Array };
/** Credentials the MSRP issues to a User. */
export type UserCredentials = { sk: bigint; pk: Point; pid: Uint8Array };

/** A verified join, ready to be written on-chain by the MSRP. */
export type JoinRecord = { pid: Uint8Array; tag: Uint8Array; poolId: number; kind: 1 | 2 };
/**
 * A verified join with what the MSRP commits once the chain accepted it: the secret now recorded
 * (a_k for a join, a_{k+1} for a re-authentication).
 */
export type VerifiedJoin = { record: JoinRecord; rn: string; recordedA: bigint; at?: number };

/**
 * The MSRP's limit on recorded rotations (s17-redB B13): each re-authentication is a recordJoin the
 * MSRP pays for (about 90,000 gas), and nothing else bounds how often one RN rotates. At most
 * `perRn` rotations of one RN are recorded per window of `windowSec` seconds (window k is
 * [k·windowSec, (k+1)·windowSec)); one more is refused ROTATION_BUDGET before anything is recorded.
 */
export type RotationBudget = { perRn: number; windowSec: number };
/** The MSRP service's default (`rsms:serve msrp --rotation-budget`, `--rotation-window`): 12 rotations per RN per hour. */
export const DEFAULT_ROTATION_BUDGET: RotationBudget = { perRn: 12, windowSec: 3600 };

/**
 * issuedAt: when a_{i,0} was issued (unix s; absent in old records: never expires).
 * next: once joined, the next pseudonym the MSRP accepts, H6(PID_k, H4(a_k, sk_RN)), kept so that
 * loading the record hashes nothing per RN (absent in records written before it: computed at load
 * and kept from then on).
 */
type RnEntry = {
  rid: string;
  sk: string;
  homePool: number;
  pool: number;
  a: string;
  pids: string[];
  used: boolean;
  issuedAt?: number;
  next?: string;
  /** the tag H4(a_0) of the secret the last renewal replaced: a retry of that renewal is answered again */
  renewedFrom?: string;
  /** rotations recorded in the window `window` (of the rotation budget's windowSec): s17-redB B13 */
  rotations?: { window: number; count: number };
};
type RpmEntry = { rid: string; poolId: number; pid: string; pk: string };
type UserEntry = { rid: string; sk: string; pid: string };
type PendingFilter = { bits: string; openedAt: number };
type GroupEntry = {
  user: string;
  members: { name: string; pid: string }[];
  epoch: number;
  /** the last key update the MSRP's flag sync made by itself (GroupDesk.evictFlaggedMembers): its epoch and the RNs it evicted */
  lastAuto?: { epoch: number; evicted: string[] };
  /** the flag sync's automatic update of this group failing: its back-off (GroupDesk.evictFlaggedMembers); gone once an update of the group is committed */
  autoRetry?: AutoRetry;
};

/**
 * The back-off of a group's automatic update that failed (rsms-group.md §8 "automatic update",
 * session 20): how many syncs in a row failed, the last error (one line), when the next sync may
 * try again (ms, the MSRP service's clock), and whether the chain refused it with a custom error
 * that trying again will not change (`refused`: then the next try is at the cap).
 */
export type AutoRetry = { failures: number; error: string; next: number; refused?: true };

/** What the MSRP agent persists. */
export type MsrpRecord = {
  msk: string;
  policy: FilterPolicy;
  rpms: Record<string, RpmEntry>;
  rns: Record<string, RnEntry>;
  users: Record<string, UserEntry>;
  pending: Record<string, PendingFilter>;
  groups?: Record<string, GroupEntry>;
  /** S_RN, the paper's set of suspicious RNs (by name): never allocated to a group again */
  suspicious?: string[];
  /**
   * The RNs of S_RN that are there only because the trust layer flags them (the MSRP service's
   * flag sync put them there, {@link Msrp.applyTrustFlags}): they leave S_RN when the flag is lifted
   * (a flag contest upheld, the detector's withdrawal). An eviction *for the flag* keeps an RN on
   * this list (s22-redx F1: the flag is still the only reason it is held; {@link Msrp.commitRekey});
   * the operator's `flagRn`, or an eviction for another reason, takes it off: it then stays in S_RN
   * until the operator's `clearSuspicious`.
   */
  flagHeld?: string[];
  /**
   * The trust identities (PIDs, see `trustIds`) this MSRP has marked revoked on the
   * ResourcePoolRegistry (`revokePid`), as far as it recorded (s22-redx F2): the revocation sync
   * ({@link Msrp.revocationChanges}, offchain/rsms/revocations.ts) makes the chain's marks follow
   * S_RN, and records each change after the chain shows it.
   */
  revokedIds?: string[];
  /**
   * RN name -> the one PID the MSRP attested for its trust registration (`POST /v1/trust/attest`):
   * its trust identity for life, whatever pseudonym it rotates to (red-team finding A1; rsms-join.md
   * "Trust registration over the network")
   */
  trustIds?: Record<string, string>;
};

/** The MSRP agent. */
export class Msrp {
  readonly params: RsmsParams;
  private readonly msk: bigint;
  private r: MsrpRecord;
  private pidIndex = new Map<string, { kind: "rn" | "rpm" | "user"; name: string; k: number }>();
  private nextPidIndex = new Map<string, string>();
  /** name -> the key it holds in nextPidIndex, so that a rotation replaces it in O(1). */
  private nextPidOf = new Map<string, string>();
  /** poolId -> the RPM's effective public key sk_RPM * P, derived once. */
  private rpmKeys = new Map<number, Point>();
  private pendingFilters = new Map<number, { filter: BloomFilter; openedAt: number }>();
  private readonly pkPubEncoded: Uint8Array;
  /** name -> PK_RN, derived once (requestGroup and rekeyGroup need only the members' keys). */
  private pkCache = new Map<string, Point>();
  /** name -> number of groups it is a member of. */
  private load = new Map<string, number>();
  /**
   * The RNs a group may be dealt (joined, not in S_RN), by load, each list sorted by name: a
   * request reads only what it deals, so its cost does not grow with the number of RNs (issue 13).
   */
  private eligible = new Map<number, string[]>();
  private eligibleCount = 0;
  /** the limit on recorded rotations per RN, if any (the MSRP service sets one; in-process: none) */
  private budget: RotationBudget | undefined;
  /** real identity -> the names registered under it (s17-redB B6: S_RN binds the RID, not the name). */
  private ridNames = new Map<string, string[]>();
  /** the real identities of the RNs in S_RN: every RN of one of them is revoked, under any name. */
  private revokedRids = new Set<string>();

  private constructor(msk: bigint, record: MsrpRecord) {
    this.msk = msk;
    this.params = { pkPub: precompute(mulBase(msk)) };
    this.pkPubEncoded = encodePoint(this.params.pkPub);
    this.r = record;
    this.reindex();
  }

  /**
   * MSRP Setup: draws msk and derives PK_pub.
   * @param policy - Bloom filter policy for the pools
   */
  static setup(policy: FilterPolicy = DEFAULT_FILTER_POLICY): Msrp {
    return new Msrp(randomScalar(), { msk: "", policy, rpms: {}, rns: {}, users: {}, pending: {} });
  }

  /** Restores the agent from its keystore record. */
  static fromRecord(rec: MsrpRecord): Msrp {
    return new Msrp(decodeScalar(fromHex(rec.msk, 32)), structuredClone(rec));
  }

  /** The keystore record (contains msk: keystore only, never on-chain or IPFS). */
  toRecord(): MsrpRecord {
    const pending: Record<string, PendingFilter> = {};
    for (const [poolId, p] of this.pendingFilters) pending[poolId] = { bits: toHex(p.filter.serialize()), openedAt: p.openedAt };
    return { ...structuredClone(this.r), msk: toHex(encodeScalar(this.msk)), pending };
  }

  /**
   * One RN's entry of {@link toRecord}'s `rns`, as toRecord gives it (a copy): what a join changes
   * in the record (commitJoin), journaled as a patch on its own (rsms-join.md change 20).
   * @throws AgentStateError for an RN this MSRP does not know
   */
  rnEntryRecord(name: string): RnEntry {
    const e = this.r.rns[name];
    if (!e) throw new AgentStateError(`rnEntryRecord: unknown RN ${name}`);
    return structuredClone(e);
  }

  /**
   * Sets (or, with undefined, lifts) the limit on recorded rotations per RN ({@link RotationBudget}).
   * @throws AgentStateError for a limit or window that is not a positive whole number
   */
  setRotationBudget(b: RotationBudget | undefined): void {
    if (b && !(Number.isSafeInteger(b.perRn) && b.perRn >= 1 && Number.isSafeInteger(b.windowSec) && b.windowSec >= 1))
      throw new AgentStateError(`setRotationBudget: perRn ${b.perRn} and windowSec ${b.windowSec} must be positive whole numbers`);
    this.budget = b ? { ...b } : undefined;
  }

  /** The limit on recorded rotations per RN, if any. */
  get rotationBudget(): RotationBudget | undefined {
    return this.budget ? { ...this.budget } : undefined;
  }

  /** PK_pub as 33 bytes. */
  get pkPubBytes(): Uint8Array {
    return Uint8Array.from(this.pkPubEncoded);
  }

  /** The filter policy. */
  get policy(): FilterPolicy {
    return { ...this.r.policy };
  }

  private reindex(): void {
    this.pidIndex.clear();
    this.nextPidIndex.clear();
    this.nextPidOf.clear();
    for (const [name, e] of Object.entries(this.r.rns)) {
      e.pids.forEach((p, k) => this.pidIndex.set(p, { kind: "rn", name, k }));
      if (!e.used) continue;
      if (typeof e.next === "string") this.indexNext(name, e.next);
      else this.expectNext(name, fromHex(e.pids[e.pids.length - 1]), bytesToNumberBE(fromHex(e.a)), decodeScalar(fromHex(e.sk)));
    }
    for (const [name, e] of Object.entries(this.r.rpms)) this.pidIndex.set(e.pid, { kind: "rpm", name, k: 0 });
    for (const [name, e] of Object.entries(this.r.users)) this.pidIndex.set(e.pid, { kind: "user", name, k: 0 });
    for (const [poolId, p] of Object.entries(this.r.pending)) {
      this.pendingFilters.set(Number(poolId), {
        filter: this.upgrade(Number(poolId), BloomFilter.deserialize(fromHex(p.bits))),
        openedAt: p.openedAt,
      });
    }
    this.r.pending = {};
    this.load.clear();
    for (const g of Object.values(this.r.groups ?? {})) for (const m of g.members) this.load.set(m.name, (this.load.get(m.name) ?? 0) + 1);
    this.ridNames.clear();
    for (const [name, e] of Object.entries(this.r.rns)) this.ridNames.set(e.rid, [...(this.ridNames.get(e.rid) ?? []), name]);
    this.revokedRids = this.ridsOf(this.r.suspicious ?? []);
    this.eligible.clear();
    this.eligibleCount = 0;
    for (const [name, e] of Object.entries(this.r.rns)) if (e.used) this.makeEligible(name);
  }

  private ridsOf(names: readonly string[]): Set<string> {
    const out = new Set<string>();
    for (const n of names) {
      const rid = this.r.rns[n]?.rid;
      if (rid !== undefined) out.add(rid);
    }
    return out;
  }

  /** Whether the RN itself (by name) is in S_RN. */
  private inSrn(name: string): boolean {
    return this.r.suspicious?.includes(name) ?? false;
  }

  /**
   * Whether an RN is revoked: it, or another RN registered under the same real identity, is in
   * S_RN (s17-redB B6: a fresh name does not undo a revocation).
   */
  /**
   * A pending filter of an older position scheme (a record written before session 18: version 1,
   * whose positions collapse for some keys, s17-redB B9) rebuilt in the current one from the
   * secrets it holds: those of the pool's RNs that have not joined and that it lists (a false
   * positive only lists a secret twice, harmlessly). Filters already published stay as they are.
   */
  private upgrade(poolId: number, f: BloomFilter): BloomFilter {
    if (f.version === BLOOM_VERSION) return f;
    const g = BloomFilter.init(f.capacity, f.lambda);
    for (const e of Object.values(this.r.rns)) {
      const a = fromHex(e.a);
      if (!e.used && e.homePool === poolId && f.check(a)) g.insert(a);
    }
    return g;
  }

  private isSuspicious(name: string): boolean {
    const rid = this.r.rns[name]?.rid;
    return rid !== undefined ? this.revokedRids.has(rid) : this.inSrn(name);
  }

  /**
   * Sets S_RN and moves every RN whose real identity became (or stopped being) revoked in or out of
   * the eligible lists, under every name of that identity.
   */
  private setSuspicious(next: string[]): void {
    const before = this.revokedRids;
    this.r.suspicious = next;
    this.revokedRids = this.ridsOf(next);
    for (const rid of new Set([...before, ...this.revokedRids])) {
      if (before.has(rid) === this.revokedRids.has(rid)) continue;
      for (const n of this.ridNames.get(rid) ?? []) {
        if (this.revokedRids.has(rid)) this.makeIneligible(n);
        else this.makeEligible(n);
      }
    }
  }

  /** Binary search of name in a list sorted by localeCompare: its index, or where it goes. */
  private static slot(list: string[], name: string): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].localeCompare(name) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Puts a joined RN that is not in S_RN in the eligible lists (no-op otherwise or if there). */
  private makeEligible(name: string): void {
    if (!this.r.rns[name]?.used || this.isSuspicious(name)) return;
    const l = this.load.get(name) ?? 0;
    const list = this.eligible.get(l) ?? [];
    const i = Msrp.slot(list, name);
    if (list[i] === name) return;
    list.splice(i, 0, name);
    this.eligible.set(l, list);
    this.eligibleCount++;
  }

  /** Takes an RN out of the eligible lists (no-op if absent). */
  private makeIneligible(name: string): void {
    const l = this.load.get(name) ?? 0;
    const list = this.eligible.get(l);
    if (!list) return;
    const i = Msrp.slot(list, name);
    if (list[i] !== name) return;
    list.splice(i, 1);
    if (list.length === 0) this.eligible.delete(l);
    this.eligibleCount--;
  }

  /** Changes an RN's load, moving it between eligible lists. */
  private addLoad(name: string, delta: number): void {
    this.makeIneligible(name);
    const l = (this.load.get(name) ?? 0) + delta;
    if (l === 0) this.load.delete(name);
    else this.load.set(name, l);
    this.makeEligible(name);
  }

  /**
   * What a registrant sends: Enc_PKpub(RID) with its role and pool (step 1 of RPM/RN Setup).
   * @param pkPub - PK_pub
   * @param role - Role.RPM, Role.RN or Role.User
   * @param poolId - the pool (0 for a User)
   * @param rid - the real identity (never leaves in the clear)
   * @param bind - over the network, what the request must carry with it (the hash of the name or
   *   account and the transport key the keys come back sealed to): the MSRP opens the RID only
   *   under the same binding, so a relay cannot re-send it with its own transport key
   */
  static registrationRequest(pkPub: Point, role: number, poolId: number, rid: string, bind?: Uint8Array): Uint8Array {
    const sealed = eciesEncrypt(pkPub, new TextEncoder().encode(rid), AAD.registration(role, poolId, bind));
    return encodeRegistration({ role, poolId, sealed });
  }

  private openRegistration(request: Uint8Array, role: number, bind?: Uint8Array): { poolId: number; rid: string } {
    const m = decodeRegistration(request);
    if (m.role !== role) throw new MalformedMessageError(`registration: expected role ${role}, got ${m.role}`);
    let rid: string;
    try {
      rid = new TextDecoder("utf-8", { fatal: true }).decode(
        eciesDecrypt(this.msk, m.sealed, AAD.registration(role, m.poolId, bind), this.pkPubEncoded),
      );
    } catch (e) {
      if (e instanceof DecryptionError) throw e;
      throw new MalformedMessageError("registration: the identity is not UTF-8", { cause: e });
    }
    if (rid.length === 0) throw new MalformedMessageError("registration: empty identity");
    return { poolId: m.poolId, rid };
  }

  private freshPid(rid: string): Uint8Array {
    for (;;) {
      const pid = H1(this.params.pkPub, rid, randomBytes(32));
      if (!this.pidIndex.has(toHex(pid))) return pid;
    }
  }

  /**
   * RPM Setup (step 2): issues (sk_RPM, PK_RPM, PID_RPM) for a pool.
   * @param name - the RPM's local name
   * @param request - its registration request
   * @param bind - the binding the request was sealed under ({@link Msrp.registrationRequest})
   * @throws AgentStateError if the pool already has an RPM here
   */
  registerRpm(name: string, request: Uint8Array, bind?: Uint8Array): RpmCredentials {
    const { poolId, rid } = this.openRegistration(request, Role.RPM, bind);
    if (poolId === 0) throw new AgentStateError("registerRpm: pool id 0 is reserved");
    if (this.r.rpms[name]) throw new AgentStateError(`registerRpm: an RPM named "${name}" is already registered`);
    if (Object.values(this.r.rpms).some((e) => e.poolId === poolId))
      throw new AgentStateError(`registerRpm: pool ${poolId} already has an RPM`);
    const d = randomScalar();
    const pkRpm = mulBase(d);
    const pid = this.freshPid(rid);
    const sk = addMod(d, mulMod(this.msk, H2(pid)));
    this.r.rpms[name] = { rid, poolId, pid: toHex(pid), pk: toHex(encodePoint(pkRpm)) };
    this.pidIndex.set(toHex(pid), { kind: "rpm", name, k: 0 });
    return { poolId, sk, pkRpm, pid };
  }

  /**
   * RN Setup (step 2): issues (sk_RN, PK_RN, a_{i,0}, PID_{i,0}) and inserts a_{i,0} into the
   * pool's pending filter.
   * @param name - the RN's local name
   * @param request - its registration request
   * @param now - unix seconds (opens the filter's interval)
   * @param bind - the binding the request was sealed under ({@link Msrp.registrationRequest})
   * @param expectRid - the real identity the request must open to (over the network: the one the
   *   RN's enrolment token names), or undefined to take the one it opens to
   * @throws RsmsRejectedError(SUSPICIOUS) for a real identity an RN of which is in S_RN (revoked
   *   under any name, s17-redB B6); RsmsRejectedError(MSRP_REJECTED) for another identity than
   *   expectRid; AgentStateError for a name taken or a pool without RPM. Nothing changes then.
   */
  registerRn(name: string, request: Uint8Array, now = Math.floor(Date.now() / 1000), bind?: Uint8Array, expectRid?: string): RnCredentials {
    const { poolId, rid } = this.openRegistration(request, Role.RN, bind);
    if (expectRid !== undefined && rid !== expectRid)
      throw new RsmsRejectedError(
        "MSRP_REJECTED",
        `registerRn: the request for "${name}" is not sealed for the real identity its enrolment names`,
      );
    if (this.r.rns[name]) throw new AgentStateError(`registerRn: an RN named "${name}" is already registered`);
    // "never allocated again" (§IV.B.2.c) and "its joining ... will be revoked" (§I) bind the device,
    // not the name it registered under (s17-redB B6)
    if (this.revokedRids.has(rid))
      throw new RsmsRejectedError(
        "SUSPICIOUS",
        `registerRn: the real identity "${name}" registers under is revoked (an RN of it is in S_RN)`,
      );
    if (!Object.values(this.r.rpms).some((e) => e.poolId === poolId)) throw new AgentStateError(`registerRn: pool ${poolId} has no RPM`);
    const sk = randomScalar();
    const a = randomScalar();
    const pid = this.freshPid(rid);
    if (!this.pendingFilters.has(poolId)) this.openFilter(poolId, now);
    this.pendingFilters.get(poolId)!.filter.insert(encodeScalar(a));
    this.r.rns[name] = {
      rid,
      sk: toHex(encodeScalar(sk)),
      homePool: poolId,
      pool: 0,
      a: toHex(encodeScalar(a)),
      pids: [toHex(pid)],
      used: false,
      issuedAt: now,
    };
    this.ridNames.set(rid, [...(this.ridNames.get(rid) ?? []), name]);
    this.pidIndex.set(toHex(pid), { kind: "rn", name, k: 0 });
    return { poolId, sk, pk: mulBase(sk), a, pid };
  }

  /**
   * User Register (§IV.B.1): issues (sk_User, PK_User, PID_User); the MSRP keeps them.
   * @param bind - the binding the request was sealed under ({@link Msrp.registrationRequest})
   */
  registerUser(name: string, request: Uint8Array, bind?: Uint8Array): UserCredentials {
    const { rid } = this.openRegistration(request, Role.User, bind);
    if (this.r.users[name]) throw new AgentStateError(`registerUser: a user named "${name}" is already registered`);
    const sk = randomScalar();
    const pid = this.freshPid(rid);
    this.r.users[name] = { rid, sk: toHex(encodeScalar(sk)), pid: toHex(pid) };
    this.pidIndex.set(toHex(pid), { kind: "user", name, k: 0 });
    return { sk, pk: mulBase(sk), pid };
  }

  private openFilter(poolId: number, now: number): void {
    this.pendingFilters.set(poolId, { filter: BloomFilter.init(this.r.policy.capacity, this.r.policy.lambda), openedAt: now });
  }

  /**
   * True when the pool's pending filter should be published: full, or its interval passed with
   * at least one RN in it ("when enough RNs have been registered, or a certain interval of time
   * has passed").
   */
  filterDue(poolId: number, now = Math.floor(Date.now() / 1000)): boolean {
    const p = this.pendingFilters.get(poolId);
    if (!p || p.filter.count === 0) return false;
    return p.filter.count >= p.filter.capacity || now - p.openedAt >= this.r.policy.intervalSec;
  }

  /**
   * Whether a one-time secret is in the pool's pending filter, the one not published yet (a Bloom
   * filter: never a false negative; a false positive, at the filter's low rate, only costs an early
   * publication).
   * @param poolId - the pool
   * @param a - the RN's one-time secret
   * @returns true when the secret waits for the next publication
   */
  awaitsPublication(poolId: number, a: bigint): boolean {
    return this.pendingFilters.get(poolId)?.filter.check(encodeScalar(a)) ?? false;
  }

  /** Number of RNs waiting in a pool's unpublished filter. */
  pendingCount(poolId: number): number {
    return this.pendingFilters.get(poolId)?.filter.count ?? 0;
  }

  /**
   * Takes the pool's pending filter for publication; the next RN registered opens a new one
   * (and its publication interval).
   * @returns the filter and when it was opened (serialize it, put it on IPFS, publish its root)
   * @throws AgentStateError if nothing is pending
   */
  takeFilter(poolId: number): { filter: BloomFilter; openedAt: number } {
    const p = this.pendingFilters.get(poolId);
    if (!p || p.filter.count === 0) throw new AgentStateError(`takeFilter: pool ${poolId} has no registered RN waiting for publication`);
    this.pendingFilters.delete(poolId);
    return p;
  }

  /**
   * Puts a filter back as pending (the publication failed).
   */
  restoreFilter(poolId: number, taken: BloomFilter, openedAt: number): void {
    const filter = this.upgrade(poolId, taken);
    const cur = this.pendingFilters.get(poolId);
    if (cur && cur.filter.count > 0) {
      // RNs registered meanwhile: merge them (same parameters), counting both (a count short of the
      // secrets held lets the filter fill past its capacity before it is due: s17-redB B5), and the
      // interval runs from the older filter's opening
      cur.filter.unionWith(filter);
      cur.openedAt = Math.min(cur.openedAt, openedAt);
      return;
    }
    this.pendingFilters.set(poolId, { filter, openedAt });
  }

  /**
   * The exact check of an initial authentication forwarded by an RPM (the MSRP's side of
   * step 2). Does not change state: {@link commitJoin} does, once the chain accepted the record.
   * @param forward - the JoinForward message
   * @param now - unix seconds: a secret issued more than the policy's ttlSec ago is refused
   * @param opts - recorded: the chain already holds this very join (a retry of a step whose
   *   commit was lost): the record stands, so neither the TTL nor S_RN is checked again
   * @returns the record to write and the rotation to commit
   * @throws RsmsRejectedError(MSRP_REJECTED) for anything but the secret issued for that PID and
   * pool; RsmsRejectedError(SECRET_EXPIRED) for that secret past its TTL (the RN renews it);
   * RsmsRejectedError(SUSPICIOUS) for an RN in S_RN (revoked before it joined: s17-redB B2)
   */
  verifyJoin(forward: Uint8Array, now = Math.floor(Date.now() / 1000), opts: { recorded?: boolean } = {}): VerifiedJoin {
    const m = decodeJoinForward(forward);
    const { poolId, sealed } = m;
    this.checkForwarder("verifyJoin", poolId, joinForwardSigned(m), m.sig);
    let plain: Uint8Array;
    try {
      plain = eciesDecrypt(this.msk, sealed, AAD.joinForward(poolId), this.pkPubEncoded);
    } catch (e) {
      throw new RsmsRejectedError("MSRP_REJECTED", "verifyJoin: the forwarded secret does not open (not sealed to PK_pub for this pool)", {
        cause: e,
      });
    }
    if (plain.length !== 64) throw new RsmsRejectedError("MSRP_REJECTED", "verifyJoin: bad forwarded payload length");
    const a = bytesToNumberBE(plain.subarray(0, 32));
    const pid = plain.slice(32);
    const who = this.pidIndex.get(toHex(pid));
    const e = who?.kind === "rn" ? this.r.rns[who.name] : undefined;
    if (!who || !e || e.pids[e.pids.length - 1] !== toHex(pid))
      throw new RsmsRejectedError("MSRP_REJECTED", `verifyJoin: ${toHex(pid)} is not a current RN pseudonym`);
    if (e.used) throw new RsmsRejectedError("MSRP_REJECTED", `verifyJoin: the secret of ${toHex(pid)} was already used`);
    if (!equalBytes(encodeScalar(a), fromHex(e.a)))
      throw new RsmsRejectedError(
        "MSRP_REJECTED",
        "verifyJoin: a' is not the secret issued for this PID (Bloom false positive or forgery)",
      );
    if (e.homePool !== poolId)
      throw new RsmsRejectedError("MSRP_REJECTED", `verifyJoin: this RN was registered for pool ${e.homePool}, not ${poolId}`);
    const ttl = filterTtl(this.r.policy);
    if (!opts.recorded && e.issuedAt !== undefined && now - e.issuedAt > ttl)
      throw new RsmsRejectedError(
        "SECRET_EXPIRED",
        `verifyJoin: the secret of ${toHex(pid)} was issued at ${e.issuedAt}, more than ${ttl} s before ${now}: renew it`,
      );
    // "its joining a Metaverse service resource pool will be revoked" (§I): an RN put in S_RN before
    // its first join does not join (s17-redB B2); checked after the exact check, like verifyReauth's
    if (!opts.recorded && this.isSuspicious(who.name))
      throw new RsmsRejectedError("SUSPICIOUS", `verifyJoin: the RN of ${toHex(pid)} is in S_RN: its joining is revoked`);
    return { record: { pid, tag: tagOf(a), poolId, kind: 1 }, rn: who.name, recordedA: a };
  }

  /**
   * The exact check of a re-authentication forwarded by RPM_Y: a'_{k+1} must equal
   * H4(a_k, sk_RN) for the RN whose next pseudonym is PID_{k+1}.
   * @param opts - recorded: the chain already holds this very rotation (a retry of a step whose
   *   commit was lost, s17-redB B1): the record stands, so neither S_RN nor the rotation budget is
   *   checked again; now: unix seconds (the rotation budget's window; default the wall clock)
   * @throws RsmsRejectedError(MSRP_REJECTED); RsmsRejectedError(SUSPICIOUS) for an RN in S_RN;
   *   RsmsRejectedError(ROTATION_BUDGET) for an RN that used up its recorded rotations in this
   *   window ({@link setRotationBudget}; s17-redB B13)
   */
  verifyReauth(forward: Uint8Array, opts: { recorded?: boolean; now?: number } = {}): VerifiedJoin {
    const now = opts.now ?? Math.floor(Date.now() / 1000);
    const m = decodeReauthForward(forward);
    const { poolId, nextPid, sealed } = m;
    this.checkForwarder("verifyReauth", poolId, reauthForwardSigned(m), m.sig);
    let plain: Uint8Array;
    try {
      plain = eciesDecrypt(this.msk, sealed, AAD.reauthForward(poolId), this.pkPubEncoded);
    } catch (e) {
      throw new RsmsRejectedError("MSRP_REJECTED", "verifyReauth: the forwarded secret does not open", { cause: e });
    }
    if (!Object.values(this.r.rpms).some((r) => r.poolId === poolId))
      throw new RsmsRejectedError("MSRP_REJECTED", `verifyReauth: unknown pool ${poolId}`);
    const name = this.nextPidIndex.get(toHex(nextPid));
    const e = name ? this.r.rns[name] : undefined;
    if (!name || !e)
      throw new RsmsRejectedError("MSRP_REJECTED", `verifyReauth: ${toHex(nextPid)} is not the next pseudonym of any joined RN`);
    const ak = bytesToNumberBE(fromHex(e.a));
    const expected = H4(ak, decodeScalar(fromHex(e.sk)));
    const got = bytesToNumberBE(plain);
    if (plain.length !== 32 || got !== expected) throw new RsmsRejectedError("MSRP_REJECTED", "verifyReauth: a'_{k+1} != H4(a_k, sk_RN)");
    // Whitewashing (issue 13 item 11): an RN in S_RN keeps the pseudonym it was flagged under.
    if (!opts.recorded && this.isSuspicious(name))
      throw new RsmsRejectedError(
        "SUSPICIOUS",
        `verifyReauth: the RN whose next pseudonym is ${toHex(nextPid)} is in S_RN: it may not rotate`,
      );
    // the MSRP pays for every rotation it records: a budget per RN and window (s17-redB B13); a retry
    // of a rotation the chain holds is not refused (the record stands)
    if (!opts.recorded && this.budget) {
      const window = Math.floor(now / this.budget.windowSec);
      const used = e.rotations?.window === window ? e.rotations.count : 0;
      if (used >= this.budget.perRn)
        throw new RsmsRejectedError(
          "ROTATION_BUDGET",
          `verifyReauth: the RN whose next pseudonym is ${toHex(nextPid)} rotated ${used} times in this ${this.budget.windowSec} s window (at most ${this.budget.perRn}): it rotates again from ${(window + 1) * this.budget.windowSec}`,
        );
    }
    return { record: { pid: nextPid, tag: tagOf(expected), poolId, kind: 2 }, rn: name, recordedA: expected, at: now };
  }

  /**
   * The forward must be signed by the RPM of the pool it names, under sk_RPM, whose public key
   * PK_RPM + H2(PID_RPM) * PK_pub the MSRP derives from what it issued.
   * @throws RsmsRejectedError(MSRP_REJECTED)
   */
  private checkForwarder(fn: string, poolId: number, signed: Uint8Array, sig: Uint8Array): void {
    let key = this.rpmKeys.get(poolId);
    if (!key) {
      const e = Object.values(this.r.rpms).find((r) => r.poolId === poolId);
      if (!e) throw new RsmsRejectedError("MSRP_REJECTED", `${fn}: unknown pool ${poolId}`);
      key = poolEncryptionKey(this.params, decodePoint(fromHex(e.pk)), fromHex(e.pid));
      this.rpmKeys.set(poolId, key);
    }
    if (!schnorrVerify(key, FORWARD_DST, signed, sig))
      throw new RsmsRejectedError("MSRP_REJECTED", `${fn}: the forward is not signed by the RPM of pool ${poolId}`);
  }

  /**
   * Commits a verified join after its record is on-chain: marks the secret used and rotates
   * the RN's expected (a, PID).
   */
  commitJoin(v: VerifiedJoin): void {
    const e = this.r.rns[v.rn];
    if (!e) throw new AgentStateError(`commitJoin: unknown RN ${v.rn}`);
    // A verification is committed once, from the state it was made in (a duplicate would push the
    // PID twice or move a rotated RN back).
    const pid = toHex(v.record.pid);
    const fresh = v.record.kind === 1 ? !e.used && e.pids[e.pids.length - 1] === pid : this.nextPidIndex.get(pid) === v.rn;
    if (!fresh)
      throw new RsmsRejectedError("REPLAYED_SECRET", `commitJoin: ${toHex(v.record.pid)} is already committed or not ${v.rn}'s next step`);
    if (v.record.kind === 2) {
      // counted against the budget's window of its verification (any window when no budget is set)
      const window = Math.floor((v.at ?? Math.floor(Date.now() / 1000)) / (this.budget?.windowSec ?? DEFAULT_ROTATION_BUDGET.windowSec));
      e.rotations = { window, count: e.rotations?.window === window ? e.rotations.count + 1 : 1 };
      e.pids.push(toHex(v.record.pid));
      this.pidIndex.set(toHex(v.record.pid), { kind: "rn", name: v.rn, k: e.pids.length - 1 });
    }
    e.a = toHex(encodeScalar(v.recordedA));
    e.used = true;
    e.pool = v.record.poolId;
    this.makeEligible(v.rn);
    // "MSRP updates a and PID": the next pseudonym it will accept is PID_{k+1} = H6(PID_k, a_{k+1}).
    this.expectNext(v.rn, v.record.pid, v.recordedA, decodeScalar(fromHex(e.sk)));
  }

  /** Indexes the RN's next pseudonym H6(PID_k, H4(a_k, sk_RN)), replacing its previous one. */
  private expectNext(name: string, pid: Uint8Array, a: bigint, sk: bigint): void {
    const next = toHex(H6(pid, H4(a, sk)));
    this.r.rns[name].next = next;
    this.indexNext(name, next);
  }

  /** Indexes `next` as the RN's next pseudonym, replacing its previous one. */
  private indexNext(name: string, next: string): void {
    const old = this.nextPidOf.get(name);
    if (old !== undefined) this.nextPidIndex.delete(old);
    this.nextPidIndex.set(next, name);
    this.nextPidOf.set(name, next);
  }

  /**
   * Tracing (§III.D.2 traceability): the real identity behind any pseudonym the MSRP issued or
   * recorded, for the MSRP alone.
   * @param pid - a PID_RPM, PID_User or any PID_{i,k} in an RN's chain
   * @returns who it is, and for an RN which pseudonym of its chain (k)
   * @throws AgentStateError if the MSRP never issued it
   */
  trace(pid: Uint8Array): { kind: "rn" | "rpm" | "user"; name: string; rid: string; k: number } {
    const who = this.pidIndex.get(toHex(pid));
    if (!who) throw new AgentStateError(`trace: ${toHex(pid)} is not a pseudonym this MSRP issued`);
    const rid = who.kind === "rn" ? this.r.rns[who.name].rid : who.kind === "rpm" ? this.r.rpms[who.name].rid : this.r.users[who.name].rid;
    return { ...who, rid };
  }

  /**
   * The RN a pseudonym belongs to, with its long-term public key PK_RN = sk_RN*P: what an RN's
   * request about its PID is checked against (the RN signs with sk_RN, which only it and the MSRP
   * hold; not with a_k, which the pool's RPM also learns at the join).
   * @param pid - any PID_{i,k} this MSRP issued to an RN
   * @returns the RN's name, PK_RN, k, and whether the PID is its current one
   * @throws AgentStateError if the PID is not an RN pseudonym of this MSRP
   */
  rnOfPid(pid: Uint8Array): { name: string; pk: Point; k: number; current: boolean } {
    const who = this.pidIndex.get(toHex(pid));
    if (!who || who.kind !== "rn") throw new AgentStateError(`rnOfPid: ${toHex(pid)} is not an RN pseudonym this MSRP issued`);
    const e = this.r.rns[who.name];
    return { name: who.name, pk: mulBase(decodeScalar(fromHex(e.sk, 32))), k: who.k, current: e.pids[e.pids.length - 1] === toHex(pid) };
  }

  /**
   * The PID an RN holds as its trust identity: the one the MSRP attested for its TrustManager
   * registration, or undefined before its first attestation.
   * @param name - the RN's name
   */
  trustIdOf(name: string): string | undefined {
    return this.r.trustIds?.[name];
  }

  /**
   * Binds an RN's trust identity to one of its PIDs, once: the MSRP attests that PID only, for
   * life (one RN, one verified trust identity; a rotated pseudonym gets none). Idempotent for the
   * PID already bound (a retry); the caller checks the rules (current PID, not in S_RN) first.
   * @throws AgentStateError for a PID not the RN's, or an RN already bound to another PID
   */
  bindTrustId(name: string, pid: Uint8Array): void {
    const who = this.pidIndex.get(toHex(pid));
    if (who?.kind !== "rn" || who.name !== name) throw new AgentStateError(`bindTrustId: ${toHex(pid)} is not a PID of RN "${name}"`);
    const bound = this.r.trustIds?.[name];
    if (bound === toHex(pid)) return;
    if (bound !== undefined) throw new AgentStateError(`bindTrustId: RN "${name}" already holds the trust identity ${bound}`);
    this.r.trustIds = { ...(this.r.trustIds ?? {}), [name]: toHex(pid) };
  }

  /** Public summary for status output (no secrets, no real identities). */
  summary(): {
    rpms: { name: string; poolId: number; pid: string }[];
    rns: { name: string; homePool: number; pool: number; k: number; pid: string; joined: boolean }[];
    users: { name: string; pid: string }[];
    pending: Record<number, number>;
  } {
    return {
      rpms: Object.entries(this.r.rpms).map(([name, e]) => ({ name, poolId: e.poolId, pid: e.pid })),
      rns: Object.entries(this.r.rns).map(([name, e]) => ({
        name,
        homePool: e.homePool,
        pool: e.pool,
        k: e.pids.length - 1,
        pid: e.pids[e.pids.length - 1],
        joined: e.used,
      })),
      users: Object.entries(this.r.users).map(([name, e]) => ({ name, pid: e.pid })),
      pending: Object.fromEntries([...this.pendingFilters].map(([p, f]) => [p, f.filter.count])),
    };
  }

  /** The RPM public values the MSRP issued for a pool (what it publishes on-chain). */
  rpmOfPool(poolId: number): { name: string; pid: Uint8Array; pk: Uint8Array } | undefined {
    const e = Object.entries(this.r.rpms).find(([, r]) => r.poolId === poolId);
    return e ? { name: e[0], pid: fromHex(e[1].pid), pk: fromHex(e[1].pk) } : undefined;
  }

  /**
   * Every pseudonym the MSRP issued to an RN, oldest first (the trust layer may know it by any of
   * them: its trust identity is its first attested PID, a group lists the PID it was allocated under).
   * @throws AgentStateError for an unknown RN
   */
  rnPids(name: string): Uint8Array[] {
    const e = this.r.rns[name];
    if (!e) throw new AgentStateError(`rnPids: unknown RN ${name}`);
    return e.pids.map((p) => fromHex(p));
  }

  /** Joined RNs (their current secret is on-chain) with their current PID and public key. */
  joinedRns(): { name: string; pid: Uint8Array; pk: Point; pool: number }[] {
    return Object.entries(this.r.rns)
      .filter(([, e]) => e.used)
      .map(([name, e]) => ({
        name,
        pid: fromHex(e.pids[e.pids.length - 1]),
        pk: this.rnGroupKey(name, fromHex(e.pids[e.pids.length - 1])),
        pool: e.pool,
      }));
  }

  /**
   * Service request (§IV.B.2.a steps 1-2): allocates `size` joined RNs (from any pool; the least
   * busy first) and deals the group's sharing.
   * @param user - a registered user
   * @param size - N, the number of RNs
   * @param groupId - 32-byte id (random by default)
   * @returns the dealing (to record on-chain and deliver) and the members
   * @throws AgentStateError for an unknown user or too few joined RNs
   */
  requestGroup(
    user: string,
    size: number,
    groupId: Uint8Array = randomBytes(32),
    skip: ReadonlySet<string> = new Set(),
  ): { dealing: Dealing; parties: (GroupPartyInfo & { name: string })[] } {
    if (!Number.isInteger(size) || size < 1) throw new AgentStateError(`requestGroup: size must be a positive integer, got ${size}`);
    const u = this.userCredentials(user);
    // The roster (GroupFormed on chain, every allocation) lists the RNs by PID, not in the
    // allocation's order (load, then the MSRP's name for the RN), which a rotation does not change:
    // two rosters in that order matched position by position linked every RN's pseudonyms (h14-red
    // F2). Sorted, so that a journal replay deals and records the same bytes.
    const picked = this.allocate(size, skip)
      .map((name) => {
        const e = this.r.rns[name];
        return { name, hex: e.pids[e.pids.length - 1].toLowerCase() };
      })
      .sort((x, y) => (x.hex < y.hex ? -1 : x.hex > y.hex ? 1 : 0))
      .map(({ name, hex }) => ({ name, pid: fromHex(hex) }));
    const parties = [
      { name: user, pid: u.pid, pk: u.pk },
      ...picked.map(({ name, pid }) => ({ name, pid, pk: this.rnGroupKey(name, pid) })),
    ];
    const dealing = dealGroup(this.msk, groupId, 0, parties);
    return { dealing, parties };
  }

  /**
   * The RNs a group of `size` would be dealt (joined, not in S_RN, not in `skip`; the least loaded
   * first, by name within a load), without dealing: what the service checks against the trust
   * layer before {@link requestGroup} with the same `skip`. Read from the eligible lists, so that
   * the cost is O(size + |skip| + distinct loads), not O(RNs) point multiplications and a sort (issue 13).
   * @param skip - names not to pick (RNs the trust layer flags that are not in S_RN yet)
   * @throws AgentStateError for a bad size or too few RNs
   */
  allocate(size: number, skip: ReadonlySet<string> = new Set()): string[] {
    if (!Number.isInteger(size) || size < 1) throw new AgentStateError(`requestGroup: size must be a positive integer, got ${size}`);
    if (size > MAX_GROUP_RNS) throw new AgentStateError(`requestGroup: size ${size} (at most ${MAX_GROUP_RNS} RNs)`);
    const picked: string[] = [];
    // an RN whose PID the registry still marks revoked is refused as a member on chain
    // (ServiceGroupRegistry__PidRevoked): never picked, by any caller (s24 open list: the desk skipped
    // them, the in-process group:request did not)
    const marked = this.markedPids();
    let barred = 0;
    for (const l of [...this.eligible.keys()].sort((x, y) => x - y)) {
      for (const name of this.eligible.get(l)!) {
        if (skip.has(name)) continue;
        if (marked.size && marked.has(this.currentPid(name))) {
          barred++;
          continue;
        }
        picked.push(name);
        if (picked.length === size) return picked;
      }
    }
    const flagged =
      (skip.size ? ` (${picked.length} once the ${skip.size} the trust layer flags are left out)` : "") +
      (barred ? ` (${barred} of them still marked revoked on the registry until the revocation sync lifts the mark)` : "");
    throw new AgentStateError(
      `requestGroup: ${size} RNs requested, only ${this.eligibleCount} have joined a pool and are not suspicious${flagged}`,
    );
  }

  /** Records a group once its formation is on-chain. */
  commitGroup(groupId: Uint8Array, user: string, members: { name: string; pid: Uint8Array }[]): void {
    this.r.groups ??= {};
    for (const m of this.r.groups[toHex(groupId)]?.members ?? []) this.addLoad(m.name, -1);
    this.r.groups[toHex(groupId)] = { user, members: members.map((m) => ({ name: m.name, pid: toHex(m.pid) })), epoch: 0 };
    for (const m of members) this.addLoad(m.name, 1);
  }

  /** The ids of the groups the MSRP has recorded, in the record's order. */
  groupIds(): Uint8Array[] {
    return Object.keys(this.r.groups ?? {}).map((g) => fromHex(g, 32));
  }

  /** A group's members (RNs, not the user) and epoch, as the MSRP knows them. */
  groupInfo(groupId: Uint8Array): {
    user: string;
    members: { name: string; pid: Uint8Array }[];
    epoch: number;
    lastAuto?: { epoch: number; evicted: string[] };
    autoRetry?: AutoRetry;
  } {
    const g = this.r.groups?.[toHex(groupId)];
    if (!g) throw new AgentStateError(`groupInfo: unknown group ${toHex(groupId)}`);
    return {
      user: g.user,
      members: g.members.map((m) => ({ name: m.name, pid: fromHex(m.pid) })),
      epoch: g.epoch,
      ...(g.lastAuto ? { lastAuto: { epoch: g.lastAuto.epoch, evicted: [...g.lastAuto.evicted] } } : {}),
      ...(g.autoRetry ? { autoRetry: { ...g.autoRetry } } : {}),
    };
  }

  /**
   * Sets (or, undefined, clears) the back-off of a group's automatic update (GroupDesk.evictFlaggedMembers).
   * A committed update of the group ({@link commitRekey}: the flag sync's own or its user's) clears it too.
   */
  setAutoRetry(groupId: Uint8Array, r: AutoRetry | undefined): void {
    const g = this.r.groups?.[toHex(groupId)];
    if (!g) throw new AgentStateError(`setAutoRetry: unknown group ${toHex(groupId)}`);
    if (r) g.autoRetry = { ...r };
    else delete g.autoRetry;
  }

  /**
   * Group session key update (§IV.B.2.c): evicts suspicious members, adds joined RNs, draws a
   * fresh key s' (never derived from the old key or msk: see group.ts) and seals it to the user
   * and every remaining and added member.
   * @param evict - PIDs of current members to evict
   * @param add - names of joined RNs to add
   * @returns the new epoch, s', Q' = s'P, the update message per party (by PID hex) and the new membership
   * @throws AgentStateError for a non-member, an RN that has not joined, or a duplicate
   */
  rekeyGroup(
    groupId: Uint8Array,
    evict: Uint8Array[],
    add: string[],
  ): {
    epoch: number;
    s: bigint;
    Q: Point;
    commitmentsHash: Uint8Array;
    messages: Map<string, Uint8Array>;
    members: { name: string; pid: Uint8Array }[];
    /** the new epoch's PIDs and PKs, the user first: what every party checks channel signatures against */
    roster: GroupPartyInfo[];
    evicted: Uint8Array[];
    added: { name: string; pid: Uint8Array }[];
  } {
    const g = this.groupInfo(groupId);
    const evictHex = new Set(evict.map(toHex));
    for (const e of evictHex) if (!g.members.some((m) => toHex(m.pid) === e)) throw new AgentStateError(`rekeyGroup: ${e} is not a member`);
    // the paper's update evicts the suspicious parties first: a member in S_RN is sealed no new key
    // (h15-red H1). The MSRP service re-forms the group instead when evicting one alone would link
    // its pseudonyms (GroupDesk.suspects, h14-red F1)
    const evicting = [...evict];
    for (const m of g.members)
      if (this.isSuspicious(m.name) && !evictHex.has(toHex(m.pid))) {
        evictHex.add(toHex(m.pid));
        evicting.push(m.pid);
      }
    const added = add.map((name) => {
      const r = this.r.rns[name];
      if (!r?.used) throw new AgentStateError(`rekeyGroup: RN "${name}" has not joined a pool`);
      if (this.isSuspicious(name)) throw new AgentStateError(`rekeyGroup: RN "${name}" is in the set of suspicious RNs`);
      if (this.markedPids().has(this.currentPid(name)))
        throw new AgentStateError(
          `rekeyGroup: RN "${name}" is still marked revoked on the registry (the revocation sync lifts the mark): the chain would refuse it`,
        );
      if (g.members.some((m) => m.name === name && !evictHex.has(toHex(m.pid))))
        throw new AgentStateError(`rekeyGroup: RN "${name}" is already a member`);
      // An RN this update evicts is not re-added to it, under a rotated PID either: the new key is
      // what the eviction keeps from it (forward security; h11-red2 G1)
      if (g.members.some((m) => m.name === name)) throw new AgentStateError(`rekeyGroup: RN "${name}" is evicted by this update`);
      return { name, pid: fromHex(r.pids[r.pids.length - 1]) };
    });
    // the added RNs by PID too (MemberAdded events in order), not in the caller's order (h14-red F2)
    added.sort((x, y) => (toHex(x.pid) < toHex(y.pid) ? -1 : toHex(x.pid) > toHex(y.pid) ? 1 : 0));
    const members = [...g.members.filter((m) => !evictHex.has(toHex(m.pid))), ...added];
    if (members.length === 0) throw new AgentStateError("rekeyGroup: the group would have no RN left");
    // the bound of a formation: more would be an update no party's mailbox decodes, or one the
    // registry refuses after it is journaled (h15-red H4)
    if (members.length > MAX_GROUP_RNS)
      throw new AgentStateError(`rekeyGroup: the group would have ${members.length} RNs (at most ${MAX_GROUP_RNS})`);
    const epoch = g.epoch + 1;
    const s = randomScalar();
    const Q = mulBase(s);
    const u = this.userCredentials(g.user);
    const roster: GroupPartyInfo[] = [
      { pid: u.pid, pk: u.pk },
      ...members.map((m) => ({ pid: m.pid, pk: this.rnGroupKey(m.name, m.pid) })),
    ];
    const messages = new Map<string, Uint8Array>();
    for (const p of roster) messages.set(toHex(p.pid), rekeyMessage(groupId, epoch, s, p, roster));
    return { epoch, s, Q, commitmentsHash: keccak_256(encodePoint(Q)), messages, members, roster, evicted: evicting, added };
  }

  /**
   * Records a rekey once it is on-chain. The RNs it evicted join S_RN, the set of suspicious RNs
   * (§IV.B.2.c: the MSRP evicts suspicious RNs), so that they are not allocated again.
   * @param suspicious - the evicted RNs that join S_RN (default: every evicted RN); the others were
   *   evicted only to hide a flagged one among them (rsms-group.md §8, h14-red F1) and stay eligible
   * @param auto - for the flag sync's own update (rsms-group.md §8 "the automatic update"): the RNs it
   *   evicted, kept as the group's `lastAuto` (what `group:status` shows)
   * @param byFlag - the evicted RNs the caller evicted because the trust layer flags them (s22-redx
   *   F1): with every evicted RN that was flag-held, they stay (or become) flag-held in S_RN, so
   *   that the flag sync lifts them once the flag is lifted; one in S_RN for another reason (the
   *   operator's `flagRn`, an earlier eviction) stays the operator's. They are not re-added to the
   *   group: a fresh allocation is the way back.
   */
  commitRekey(
    groupId: Uint8Array,
    epoch: number,
    members: { name: string; pid: Uint8Array }[],
    suspicious?: readonly string[],
    auto?: readonly string[],
    byFlag?: readonly string[],
  ): void {
    const g = this.r.groups?.[toHex(groupId)];
    if (!g) throw new AgentStateError(`commitRekey: unknown group ${toHex(groupId)}`);
    const staying = new Set(members.map((m) => m.name));
    const evicted = g.members
      .filter((m) => !staying.has(m.name))
      .map((m) => m.name)
      .filter((n) => !suspicious || suspicious.includes(n));
    for (const m of g.members) this.addLoad(m.name, -1);
    if (evicted.length > 0) {
      for (const n of evicted) this.makeIneligible(n);
      // held by the flag: evicted while flag-held, or evicted for a flag the sync had not mirrored yet
      // (not in S_RN for another reason); the flag sync lifts them with the flag (s22-redx F1)
      const held = evicted.filter((n) => this.r.flagHeld?.includes(n) || (byFlag?.includes(n) && !this.inSrn(n)));
      this.setSuspicious([...new Set([...(this.r.suspicious ?? []), ...evicted])]);
      // evicted for another reason: in S_RN until the operator clears it, whatever the flag does
      this.unhold(evicted.filter((n) => !held.includes(n)));
      const kept = new Set([...(this.r.flagHeld ?? []), ...held]);
      if (kept.size) this.r.flagHeld = [...kept];
    }
    g.epoch = epoch;
    g.members = members.map((m) => ({ name: m.name, pid: toHex(m.pid) }));
    if (auto) g.lastAuto = { epoch, evicted: [...auto] };
    // the group moved on: a back-off of its automatic update is over (the update made, or the user's own)
    delete g.autoRetry;
    for (const m of members) this.addLoad(m.name, 1);
  }

  /** An RN's service-group key under one of its pseudonyms (params.ts rnGroupSecret), cached. */
  private rnGroupKey(name: string, pid: Uint8Array): Point {
    const id = `${name}/${toHex(pid)}`;
    let pk = this.pkCache.get(id);
    if (!pk) {
      const e = this.r.rns[name];
      if (!e) throw new AgentStateError(`unknown RN ${name}`);
      pk = mulBase(rnGroupSecret(decodeScalar(fromHex(e.sk)), pid));
      this.pkCache.set(id, pk);
    }
    return pk;
  }

  private rnKey(name: string): Point {
    let pk = this.pkCache.get(name);
    if (!pk) {
      const e = this.r.rns[name];
      if (!e) throw new AgentStateError(`unknown RN ${name}`);
      pk = mulBase(decodeScalar(fromHex(e.sk)));
      this.pkCache.set(name, pk);
    }
    return pk;
  }

  /**
   * Flags the RN behind any of its pseudonyms, past or current (a trust flag, a report, an
   * eviction decided elsewhere): the RN joins S_RN under its name, so that the flag follows it to
   * every later pseudonym. It is not allocated, and it may not re-authenticate to a fresh PID,
   * until {@link clearSuspicious}. Nothing public links the pseudonyms: only the MSRP resolves them.
   * @param pid - any PID_{i,k} the MSRP recorded for the RN
   * @returns the RN's name
   * @throws AgentStateError for a PID that is not an RN's
   */
  flagRn(pid: Uint8Array): string {
    const who = this.pidIndex.get(toHex(pid));
    if (who?.kind !== "rn") throw new AgentStateError(`flagRn: ${toHex(pid)} is not an RN pseudonym this MSRP issued`);
    if (!this.inSrn(who.name)) this.setSuspicious([...(this.r.suspicious ?? []), who.name]);
    this.unhold([who.name]); // the operator's (or an eviction's) decision: not lifted with a trust flag
    return who.name;
  }

  private unhold(names: string[]): void {
    if (!this.r.flagHeld?.some((n) => names.includes(n))) return;
    this.r.flagHeld = this.r.flagHeld.filter((n) => !names.includes(n));
    if (this.r.flagHeld.length === 0) delete this.r.flagHeld;
  }

  /**
   * Mirrors the trust layer's flags into S_RN (h11-red2 G3): an RN the trust layer flags under any
   * of its pseudonyms joins S_RN (not allocated, not added to a group, may not rotate), held by the
   * flag; an RN held by the flag alone leaves S_RN once no pseudonym of it is flagged (the court
   * upheld a flag contest, or the detector withdrew its flag), also one a key update evicted for
   * the flag (it stays out of that group: s22-redx F1). RNs in S_RN for another reason (the
   * operator's `flagRn`, an eviction for another reason) are untouched. Idempotent: the same call again changes nothing.
   * @param flagged - RNs the trust layer flags now
   * @param unflagged - RNs no pseudonym of which the trust layer flags now
   * @returns the RNs that joined S_RN and the ones that left it
   * @throws AgentStateError for an unknown RN (nothing changed)
   */
  applyTrustFlags(flagged: string[], unflagged: string[]): { added: string[]; lifted: string[] } {
    for (const n of [...flagged, ...unflagged]) if (!this.r.rns[n]) throw new AgentStateError(`applyTrustFlags: unknown RN ${n}`);
    const added = [...new Set(flagged)].filter((n) => !this.inSrn(n)).sort();
    const lifted = [...new Set(unflagged)].filter((n) => this.r.flagHeld?.includes(n) && !flagged.includes(n)).sort();
    this.setSuspicious([...(this.r.suspicious ?? []).filter((n) => !lifted.includes(n)), ...added]);
    const held = [...(this.r.flagHeld ?? []).filter((n) => !lifted.includes(n)), ...added];
    if (held.length) this.r.flagHeld = held;
    else delete this.r.flagHeld;
    return { added, lifted };
  }

  /** The RNs in S_RN only because the trust layer flags them (they leave it when the flag is lifted), sorted. */
  flagHeldRns(): string[] {
    return [...(this.r.flagHeld ?? [])].sort();
  }

  /**
   * Whether the RN behind a pseudonym (any k) is in S_RN: what the MSRP answers a service that
   * asks about a PID (issue 15's trust side asks this instead of a per-PID flag).
   * @throws AgentStateError for a PID that is not an RN's
   */
  isSuspiciousPid(pid: Uint8Array): boolean {
    const who = this.pidIndex.get(toHex(pid));
    if (who?.kind !== "rn") throw new AgentStateError(`isSuspiciousPid: ${toHex(pid)} is not an RN pseudonym this MSRP issued`);
    return this.isSuspicious(who.name);
  }

  /**
   * Whether a party's PID is an RN pseudonym (any k) whose RN is in S_RN; false for a user's PID or
   * one this MSRP never issued (the group desk's channel asks it of every reader and sender, s18-redg G1).
   */
  inSuspiciousRn(pid: Uint8Array): boolean {
    const who = this.pidIndex.get(toHex(pid));
    return who?.kind === "rn" && this.isSuspicious(who.name);
  }

  /**
   * Renews the a_{i,0} of an RN that has not joined (its secret expired, or its filter epoch was
   * quarantined): draws a fresh secret, inserts it into the home pool's pending filter and seals
   * it to PK_RN, bound to the PID and the secret it replaces. The old secret is refused from now on
   * (the exact check compares with the new one).
   * @param req - the RN's signed request
   * @param now - unix seconds (the new secret's issue time)
   * A retry of the renewal that drew the current secret (its reply was lost: the request is signed
   * over the secret that renewal replaced) gets the current secret again, sealed as before, and
   * nothing is drawn (s17-redB B10). A renewal while the current secret still waits for its filter's
   * publication is refused: it could not serve a join yet, and each renewal fills the pool's filter
   * (s17-redB B4).
   * @returns the sealed secret for the RN (ResourceNode.acceptRenewal)
   * @throws RsmsRejectedError(MSRP_REJECTED) for an unknown or old PID or a bad signature;
   * RsmsRejectedError(INVALID_STATE) for an RN that already joined, or whose secret awaits publication;
   * RsmsRejectedError(SUSPICIOUS) for a revoked RN (in S_RN, or its real identity revoked)
   */
  renewRn(req: RenewalRequest, now = Math.floor(Date.now() / 1000)): Uint8Array {
    const who = this.pidIndex.get(toHex(req.pid));
    const e = who?.kind === "rn" ? this.r.rns[who.name] : undefined;
    if (!who || !e || e.pids[e.pids.length - 1] !== toHex(req.pid))
      throw new RsmsRejectedError("MSRP_REJECTED", `renewRn: ${toHex(req.pid)} is not a current RN pseudonym`);
    if (e.used) throw new RsmsRejectedError("INVALID_STATE", `renewRn: ${toHex(req.pid)} already joined: it re-authenticates instead`);
    // a revoked RN (in S_RN, or another name of a revoked real identity) gets no fresh secret: it could
    // not join with it, and each renewal fills its pool's filter (s18-review2)
    if (this.isSuspicious(who.name))
      throw new RsmsRejectedError("SUSPICIOUS", `renewRn: the RN of ${toHex(req.pid)} is revoked (in S_RN): it gets no fresh secret`);
    const current = bytesToNumberBE(fromHex(e.a));
    const oldTag = tagOf(current);
    const pk = this.rnKey(who.name);
    if (!schnorrVerify(pk, RENEW_DST, concat(req.pid, oldTag), req.sig)) {
      const replaced = e.renewedFrom === undefined ? undefined : fromHex(e.renewedFrom, 32);
      if (replaced && schnorrVerify(pk, RENEW_DST, concat(req.pid, replaced), req.sig))
        return eciesEncrypt(pk, encodeScalar(current), AAD.renewal(req.pid, replaced));
      throw new RsmsRejectedError(
        "MSRP_REJECTED",
        `renewRn: the request is not signed by the RN of ${toHex(req.pid)} for its current secret`,
      );
    }
    if (this.awaitsPublication(e.homePool, current))
      throw new RsmsRejectedError(
        "INVALID_STATE",
        `renewRn: the secret of ${toHex(req.pid)} waits for pool ${e.homePool}'s next filter: join once it is published`,
      );
    const a = randomScalar();
    if (!this.pendingFilters.has(e.homePool)) this.openFilter(e.homePool, now);
    this.pendingFilters.get(e.homePool)!.filter.insert(encodeScalar(a));
    e.a = toHex(encodeScalar(a));
    e.issuedAt = now;
    e.renewedFrom = toHex(oldTag);
    return eciesEncrypt(pk, encodeScalar(a), AAD.renewal(req.pid, oldTag));
  }

  /**
   * What the revocation sync (offchain/rsms/revocations.ts, s22-redx F2) is to change on the
   * ResourcePoolRegistry: the trust identities (attested PIDs, `trustIdOf`) of the revoked RNs
   * ({@link revokedRns}: S_RN and every RN of a revoked real identity) not recorded as marked, and
   * the marked ones whose RN is no longer revoked. Only trust identities: they are public already
   * (the TrustManager's registration names them); an RN that never got one has no trust entity to
   * withdraw. Sorted; O(|S_RN| + marked).
   */
  revocationChanges(): { revoke: string[]; reinstate: string[] } {
    const want = new Set<string>();
    for (const n of this.revokedRns()) {
      const id = this.r.trustIds?.[n];
      if (id !== undefined) want.add(id);
    }
    const marked = new Set(this.r.revokedIds ?? []);
    return { revoke: [...want].filter((p) => !marked.has(p)).sort(), reinstate: [...marked].filter((p) => !want.has(p)).sort() };
  }

  /**
   * Records that the chain shows a trust identity revoked (or no longer revoked): called once the
   * registry's `isRevoked` answers it (after the write, or a read that found it done).
   * @throws AgentStateError for a PID that is no RN's trust identity
   */
  noteRevocation(pid: string, revoked: boolean): void {
    if (!Object.values(this.r.trustIds ?? {}).includes(pid)) throw new AgentStateError(`noteRevocation: ${pid} is no RN's trust identity`);
    const rest = (this.r.revokedIds ?? []).filter((p) => p !== pid);
    const next = revoked ? [...rest, pid] : rest;
    if (next.length) this.r.revokedIds = next;
    else delete this.r.revokedIds;
  }

  /** An RN's current PID, lower-case hex. */
  private currentPid(name: string): string {
    const e = this.r.rns[name];
    return e.pids[e.pids.length - 1].toLowerCase();
  }

  /** The PIDs recorded as marked revoked on the ResourcePoolRegistry ({@link noteRevocation}), lower-case hex. */
  private markedPids(): Set<string> {
    return new Set((this.r.revokedIds ?? []).map((p) => p.toLowerCase()));
  }

  /**
   * The joined RNs whose current PID the ResourcePoolRegistry still marks revoked, by the record of
   * the marks ({@link noteRevocation}, no chain read): an RN that left S_RN keeps its mark until the
   * revocation sync lifts it, and until then the registry refuses it as a member
   * (`ServiceGroupRegistry__PidRevoked`, s24-rtr R1). {@link allocate} never picks them, and
   * {@link rekeyGroup} refuses to add them.
   */
  markedRns(): Set<string> {
    const marked = this.markedPids();
    if (marked.size === 0) return new Set();
    return new Set(
      this.joinedRns()
        .filter((c) => marked.has(toHex(c.pid).toLowerCase()))
        .map((c) => c.name),
    );
  }

  /** The trust identities recorded as revoked on the ResourcePoolRegistry ({@link noteRevocation}), sorted. */
  revokedTrustIds(): string[] {
    return [...(this.r.revokedIds ?? [])].sort();
  }

  /** S_RN: the RNs the MSRP holds suspicious (evicted from a group), sorted by name. */
  suspiciousRns(): string[] {
    return [...(this.r.suspicious ?? [])].sort();
  }

  /**
   * The RNs revoked: those in S_RN and every other RN registered under the real identity of one of
   * them (s17-redB B6), sorted by name. What a caller that allocates, evicts or rotates checks.
   */
  revokedRns(): string[] {
    const out = new Set(this.r.suspicious ?? []);
    for (const rid of this.revokedRids) for (const n of this.ridNames.get(rid) ?? []) out.add(n);
    return [...out].sort();
  }

  /**
   * Whether the RN's real identity is revoked through another of its names in S_RN: it stays revoked
   * whatever happens to its own place in S_RN (a flag of its own lifted, say).
   */
  revokedThroughOther(name: string): boolean {
    const rid = this.r.rns[name]?.rid;
    if (rid === undefined) return false;
    return (this.ridNames.get(rid) ?? []).some((n) => n !== name && this.inSrn(n));
  }

  /**
   * Takes an RN out of S_RN (an operator's decision after review, §IV.B.2.c leaves it open).
   * @throws AgentStateError if the RN is not in S_RN
   */
  clearSuspicious(name: string): void {
    if (!this.r.suspicious?.includes(name)) throw new AgentStateError(`clearSuspicious: RN "${name}" is not in the set of suspicious RNs`);
    this.setSuspicious(this.r.suspicious.filter((n) => n !== name));
    this.unhold([name]);
  }

  /**
   * The keys an RN was issued, while it has neither joined nor rotated (so they are still the
   * ones it needs): what the MSRP service sends again to the holder of the same registration
   * request whose first reply was lost.
   * @returns the credentials, or undefined for an unknown RN or one that already used them
   */
  issuedRnCredentials(name: string): RnCredentials | undefined {
    const e = this.r.rns[name];
    if (!e || e.used || e.pids.length !== 1) return undefined;
    const sk = decodeScalar(fromHex(e.sk));
    return { poolId: e.homePool, sk, pk: mulBase(sk), a: bytesToNumberBE(fromHex(e.a)), pid: fromHex(e.pids[0]) };
  }

  /** The MSRP's copy of a user's keys (the paper: "MSRP also maintains User's keys"). */
  userCredentials(name: string): UserCredentials {
    const e = this.r.users[name];
    if (!e) throw new AgentStateError(`userCredentials: unknown user ${name}`);
    const sk = decodeScalar(fromHex(e.sk));
    return { sk, pk: mulBase(sk), pid: fromHex(e.pid) };
  }
}
