/** Errors of the RSMS protocols: rejected protocol runs, malformed messages, bad agent state. */
import { MetatrustError } from "../errors";

/** Why a protocol run was rejected. */
export type RsmsRejectReason =
  /** H4(a') is already on-chain: the one-time secret was used (a replayed join). */
  | "REPLAYED_SECRET"
  /** a' is in none of the pool's published Bloom filters (unregistered RN, wrong pool, or tampered c). */
  | "NOT_IN_FILTER"
  /** A published filter's bytes do not hash to its on-chain root. */
  | "FILTER_ROOT_MISMATCH"
  /** A published filter's bytes hash to its root but are no filter this RPM can read (bad magic, version or size). */
  | "FILTER_MALFORMED"
  /** The MSRP's exact check failed (e.g. a Bloom false positive, paper Game 4). */
  | "MSRP_REJECTED"
  /** The RN's check a*P = A failed: the responder does not hold the RPM's key. */
  | "RPM_AUTHENTICATION_FAILED"
  /** Re-authentication: PID_{k+1} already has an on-chain record. */
  | "NEXT_PID_RECORDED"
  /** Re-authentication: H4(a_k) is not on-chain with PID_k. */
  | "TAG_NOT_RECORDED"
  /** The pool does not exist on-chain. */
  | "UNKNOWN_POOL"
  /** A reply for a step this RN already took, or for a state it is no longer in (replayed or reordered reply). */
  | "REPLAYED_REPLY"
  /** The one-time secret a_{i,0} is past the filter TTL: the RN renews it (Msrp.renewRn) before joining. */
  | "SECRET_EXPIRED"
  /** The RN is in S_RN, the MSRP's set of suspicious RNs: it may not rotate to a fresh pseudonym (whitewashing). */
  | "SUSPICIOUS"
  /** The RN used up its budget of recorded rotations for this window (the MSRP pays for each: s17-redB B13); it rotates again in the next window. */
  | "ROTATION_BUDGET"
  /** The RPM answered a step the chain does not hold (yet): the RN keeps its request and runs it again (s17-redB B3). */
  | "NOT_RECORDED"
  /**
   * The chain holds the RN's step at another pool than the one it asked (a pool's RPM sealed the
   * request again to another pool's key: s21-redr F1); the RN took the step from the chain.
   */
  | "RECORDED_ELSEWHERE"
  /** The agent is not in a state to run this step (e.g. re-authenticating before joining). */
  | "INVALID_STATE";

/** A protocol run was rejected; nothing was recorded. */
export class RsmsRejectedError extends MetatrustError {
  /** Machine-readable reason. */
  readonly reason: RsmsRejectReason;

  constructor(reason: RsmsRejectReason, message: string, options?: { cause?: unknown }) {
    super("PROTOCOL_REJECTED", message, options);
    this.reason = reason;
  }
}

/** A message that does not parse (type, version, length or field encoding). */
export class MalformedMessageError extends MetatrustError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("MESSAGE_MALFORMED", message, options);
  }
}

/** Agent state that is missing or inconsistent (unknown RN name, unknown pool...). */
export class AgentStateError extends MetatrustError {
  constructor(message: string) {
    super("AGENT_STATE", message);
  }
}
