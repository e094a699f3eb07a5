/**
 * The resource node (RN) agent of RSMS §IV.A: builds join and re-authentication requests and
 * authenticates the RPM from its reply. Pure: no I/O; state is exported for the keystore.
 *
 *   Initial authentication (Fig. 3):
 *     1. u <-$ Z_q*, U = u*P, c1 = u*(PK_RPM + H2(PID_RPM)*PK_pub), c2 = H3(U, PID_k) xor a_k
 *        RN -> RPM: (c1, c2, PID_k)
 *     4. accept the RPM iff a_k * P = A
 *   Re-authentication at pool Y (§IV.A.2.b):
 *     1. a_{k+1} = H4(a_k, sk_RN), PID_{k+1} = H6(PID_k, a_{k+1}), w <-$ Z_q*, W = w*P,
 *        c1 = w*(PK_RPM^Y + H2(PID_RPM^Y)*PK_pub), c2 = H3(W, PID_k) xor (H4(a_k) || a_{k+1})
 *        RN -> RPM_Y: (c1, c2, PID_k, PID_{k+1})
 *     4. accept RPM_Y iff a_{k+1} * P = A
 *
 *   PID_{k+1} takes a_{k+1}, as in all three places the paper states it (§IV.A.2.b and §V
 *   Propositions 5 and 7): the RPM that opened a_k cannot compute it, and RPM_Y, which learns
 *   a_{k+1}, cannot compute PID_{k+2} = H6(PID_{k+1}, H4(a_{k+1}, sk_RN)).
 *   A reply is accepted once, for the state the RN is in; a lost reply is recovered by retrying
 *   (the RPM answers from the chain) or by {@link ResourceNode.adoptRecorded} (docs/specs/rsms-join.md).
 */
import { concat, equalBytes, fromHex, toHex, xor } from "../crypto/bytes";
import { Point, decodeScalar, encodePoint, encodeScalar, mul, mulBase, randomScalar } from "../crypto/group";
import { eciesDecrypt } from "../crypto/ecies";
import { schnorrSign } from "../crypto/schnorr";
import { H3, H4, H6 } from "../crypto/hash";
import { RsmsRejectedError } from "./errors";
import { AAD, decodeJoinReply, decodeReauthReply, encodeJoinRequest, encodeReauthRequest } from "./messages";
import { RsmsParams, poolEncryptionKey, rnGroupSecret, tagOf } from "./params";
import { GroupParty } from "./group";
import type { EphemeralStock } from "../crypto/ephemeral";

/** What an RN knows of a pool: its id and RPM public values (read from the chain). */
export type PoolInfo = { poolId: number; pkRpm: Point; pidRpm: Uint8Array };

/** The RN's persistent state. */
export type RnState = {
  name: string;
  /** sk_RN */
  sk: bigint;
  /** current one-time secret a_{i,k} */
  a: bigint;
  /** current pseudonym PID_{i,k} */
  pid: Uint8Array;
  /** k */
  k: number;
  /** true once a_{i,k} is recorded on-chain (then only re-authentication moves the RN) */
  joined: boolean;
  /** the pool the RN registered for (its a_{i,0} is in that pool's filter) */
  homePool: number;
  /** the pool the RN is in, 0 if none */
  pool: number;
  /**
   * the pseudonyms it held before `pid`, oldest first (absent until the first re-authentication):
   * kept on its own machine only, so that it still takes part in the groups it was allocated to
   * under them (red-team finding H6); never sent
   */
  past?: Uint8Array[];
};

/**
 * An RN's request to renew its unused a_{i,0} (its filter epoch expired): its PID and a Schnorr
 * signature by sk_RN over (PID, H4(a_{i,0})), so that only the RN can ask and a request cannot be
 * replayed once the secret changed. Checked by Msrp.renewRn.
 */
export type RenewalRequest = { pid: Uint8Array; sig: Uint8Array };
/** Domain of the renewal signature (checked by Msrp.renewRn). */
export const RENEW_DST = "METATRUST-V1-RSMS-RN-RENEW";

/** A request in flight, kept by the RN until the reply arrives. */
export type PendingJoin = { poolId: number; a: bigint; pid: Uint8Array; kind: "join" | "reauth" };

/** The resource node agent. */
export class ResourceNode {
  readonly params: RsmsParams;
  private s: RnState;

  constructor(params: RsmsParams, state: RnState) {
    this.params = params;
    this.s = { ...state, pid: Uint8Array.from(state.pid), ...(state.past ? { past: state.past.map((p) => Uint8Array.from(p)) } : {}) };
  }

  /** A copy of the state. */
  get state(): RnState {
    return { ...this.s, pid: Uint8Array.from(this.s.pid), ...(this.s.past ? { past: this.s.past.map((p) => Uint8Array.from(p)) } : {}) };
  }

  /** Every pseudonym this RN held, oldest first, the current one last. */
  pids(): Uint8Array[] {
    return [...(this.s.past ?? []), this.s.pid].map((p) => Uint8Array.from(p));
  }

  /** The state after moving to `pid`: the current pseudonym joins `past`. */
  private moved(pid: Uint8Array): Pick<RnState, "pid" | "past"> {
    return { pid: Uint8Array.from(pid), past: [...(this.s.past ?? []), this.s.pid] };
  }

  /** PK_RN = sk_RN * P. */
  get publicKey(): Point {
    return mulBase(this.s.sk);
  }

  /**
   * Initial authentication, step 1.
   * @param pool - the pool's RPM public values
   * @param stock - single-use ephemerals computed ahead (crypto/ephemeral.ts): u, U = u*P and u*Z
   *   are taken from the stock kept for the pool's key Z (poolEncryptionKey's cached point) when
   *   it holds one (removed from it: never used twice); else drawn here
   * @returns the serialized request and what to keep until the reply
   * @throws RsmsRejectedError(INVALID_STATE) if a_{i,k} was already used
   */
  buildJoinRequest(pool: PoolInfo, stock?: EphemeralStock): { request: Uint8Array; pending: PendingJoin } {
    if (this.s.joined) {
      throw new RsmsRejectedError(
        "INVALID_STATE",
        `buildJoinRequest: ${this.s.name} already joined with PID_${this.s.k}; use re-authentication to move`,
      );
    }
    const Z = poolEncryptionKey(this.params, pool.pkRpm, pool.pidRpm);
    const e = stock?.take(Z);
    const u = e?.k ?? randomScalar();
    const U = e?.K ?? mulBase(u);
    const c1 = e?.kB ?? mul(Z, u);
    const c2 = xor(H3(32, U, this.s.pid), encodeScalar(this.s.a));
    return {
      request: encodeJoinRequest({ c1, c2, pid: this.s.pid }),
      pending: { poolId: pool.poolId, a: this.s.a, pid: Uint8Array.from(this.s.pid), kind: "join" },
    };
  }

  /**
   * Initial authentication, step 4: accepts the RPM iff a*P = A, then marks a_{i,k} used.
   * @throws RsmsRejectedError(RPM_AUTHENTICATION_FAILED); MalformedMessageError
   */
  acceptJoinReply(reply: Uint8Array, pending: PendingJoin): void {
    const { A } = decodeJoinReply(reply);
    if (this.s.joined || pending.kind !== "join" || pending.a !== this.s.a || !equalBytes(pending.pid, this.s.pid))
      throw new RsmsRejectedError(
        "REPLAYED_REPLY",
        `acceptJoinReply: ${this.s.name} is at PID_${this.s.k}${this.s.joined ? ", joined" : ""}: this reply is for a step it already took or never started`,
      );
    if (!mulBase(pending.a).equals(A)) {
      throw new RsmsRejectedError(
        "RPM_AUTHENTICATION_FAILED",
        `acceptJoinReply: A != a*P: the responder for pool ${pending.poolId} is not its RPM`,
      );
    }
    this.s.joined = true;
    this.s.pool = pending.poolId;
  }

  /**
   * Re-authentication at another pool, step 1.
   * @param pool - the target pool's RPM public values
   * @returns the request and the pending (a_{k+1}, PID_{k+1})
   * @throws RsmsRejectedError(INVALID_STATE) before the initial join
   */
  buildReauthRequest(pool: PoolInfo): { request: Uint8Array; pending: PendingJoin } {
    if (!this.s.joined)
      throw new RsmsRejectedError("INVALID_STATE", `buildReauthRequest: ${this.s.name} has not completed initial authentication`);
    const { a: nextA, pid: nextPid } = this.next();
    const w = randomScalar();
    const W = mulBase(w);
    const c1 = mul(poolEncryptionKey(this.params, pool.pkRpm, pool.pidRpm), w);
    const c2 = xor(H3(64, W, this.s.pid), concat(tagOf(this.s.a), encodeScalar(nextA)));
    return {
      request: encodeReauthRequest({ c1, c2, pid: this.s.pid, nextPid }),
      pending: { poolId: pool.poolId, a: nextA, pid: nextPid, kind: "reauth" },
    };
  }

  /**
   * Re-authentication, step 4: accepts RPM_Y iff a_{k+1}*P = A, then moves to (a_{k+1}, PID_{k+1}).
   * @throws RsmsRejectedError(RPM_AUTHENTICATION_FAILED); MalformedMessageError
   */
  acceptReauthReply(reply: Uint8Array, pending: PendingJoin): void {
    const { A } = decodeReauthReply(reply);
    if (!this.isNextStep(pending))
      throw new RsmsRejectedError(
        "REPLAYED_REPLY",
        `acceptReauthReply: ${this.s.name} is at PID_${this.s.k}: this reply is for a step it already took or never started`,
      );
    if (!mulBase(pending.a).equals(A)) {
      throw new RsmsRejectedError(
        "RPM_AUTHENTICATION_FAILED",
        `acceptReauthReply: A != a*P: the responder for pool ${pending.poolId} is not its RPM`,
      );
    }
    this.s = { ...this.s, a: pending.a, ...this.moved(pending.pid), k: this.s.k + 1, joined: true, pool: pending.poolId };
  }

  /** (a_{k+1}, PID_{k+1}) = (H4(a_k, sk_RN), H6(PID_k, a_{k+1})). */
  private next(): { a: bigint; pid: Uint8Array } {
    const a = H4(this.s.a, this.s.sk);
    return { a, pid: H6(this.s.pid, a) };
  }

  /** True iff `pending` is the re-authentication this RN would build now (joined, k -> k+1). */
  private isNextStep(pending: PendingJoin): boolean {
    if (!this.s.joined || pending.kind !== "reauth") return false;
    const n = this.next();
    return pending.a === n.a && equalBytes(pending.pid, n.pid);
  }

  /**
   * Recovery of a lost reply from the chain: if the record of `pending` (its PID with H4(a)) is
   * on-chain, the RN takes the step the reply would have completed. The RPM is not authenticated
   * this way; the chain, written by the MSRP only, stands in for it.
   * @param pending - the request whose reply was lost
   * @param onChain - recordOf(pending.pid) as read from the chain
   * @returns true if the state moved, false if the chain does not hold that record (nothing changes)
   */
  adoptRecorded(pending: PendingJoin, onChain: { tag: Uint8Array; poolId: number }): boolean {
    if (!equalBytes(onChain.tag, tagOf(pending.a))) return false;
    if (pending.kind === "join") {
      if (this.s.joined || pending.a !== this.s.a || !equalBytes(pending.pid, this.s.pid)) return false;
      this.s = { ...this.s, joined: true, pool: onChain.poolId };
      return true;
    }
    if (!this.isNextStep(pending)) return false;
    this.s = { ...this.s, a: pending.a, ...this.moved(pending.pid), k: this.s.k + 1, joined: true, pool: onChain.poolId };
    return true;
  }

  /**
   * Asks the MSRP for a fresh a_{i,0} (its secret expired before it joined, or its filter epoch
   * was quarantined).
   * @throws RsmsRejectedError(INVALID_STATE) once joined (re-authentication moves a joined RN)
   */
  renewalRequest(): RenewalRequest {
    if (this.s.joined)
      throw new RsmsRejectedError("INVALID_STATE", `renewalRequest: ${this.s.name} already joined; its secret no longer expires`);
    return { pid: Uint8Array.from(this.s.pid), sig: schnorrSign(this.s.sk, RENEW_DST, concat(this.s.pid, tagOf(this.s.a))) };
  }

  /**
   * Takes the renewed a_{i,0} the MSRP sealed to PK_RN for the current secret. A reply for an
   * older secret (replayed) does not open, and nothing changes.
   * @throws DecryptionError; RsmsRejectedError(INVALID_STATE) once joined
   */
  acceptRenewal(sealed: Uint8Array): void {
    if (this.s.joined) throw new RsmsRejectedError("INVALID_STATE", `acceptRenewal: ${this.s.name} already joined`);
    const plain = eciesDecrypt(this.s.sk, sealed, AAD.renewal(this.s.pid, tagOf(this.s.a)), encodePoint(this.publicKey));
    this.s = { ...this.s, a: decodeScalar(plain) };
  }

  /** JSON record for the keystore. */
  toRecord(): Record<string, unknown> {
    return {
      ...this.s,
      sk: toHex(encodeScalar(this.s.sk)),
      a: toHex(encodeScalar(this.s.a)),
      pid: toHex(this.s.pid),
      ...(this.s.past ? { past: this.s.past.map(toHex) } : {}),
    };
  }

  /** Restores an agent from its keystore record. */
  static fromRecord(params: RsmsParams, r: Record<string, unknown>): ResourceNode {
    return new ResourceNode(params, {
      name: String(r.name),
      sk: decodeScalar(fromHex(String(r.sk), 32)),
      a: decodeScalar(fromHex(String(r.a), 32)),
      pid: fromHex(String(r.pid), 32),
      k: Number(r.k),
      joined: Boolean(r.joined),
      homePool: Number(r.homePool),
      pool: Number(r.pool),
      ...(Array.isArray(r.past) ? { past: r.past.map((p) => fromHex(String(p), 32)) } : {}),
    });
  }

  /**
   * This RN as a service-group party: its current PID and the group key of that PID
   * (params.ts rnGroupSecret), not PK_RN, which would link its pseudonyms.
   */
  groupParty(): GroupParty {
    return new GroupParty(this.s.name, this.s.pid, rnGroupSecret(this.s.sk, this.s.pid));
  }

  /** True iff this RN's current pseudonym is `pid`. */
  hasPid(pid: Uint8Array): boolean {
    return equalBytes(pid, this.s.pid);
  }
}
