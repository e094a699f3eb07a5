/**
 * The avatar paper's parties (§III-A): the identity provider (IdP, which also acts as the platform
 * server that records logins and delegations), users (human manipulators) and AI proxies. Pure
 * agents: the chain is reached through avatars/ledger.ts by the protocol flows.
 *
 * - IdP: issues MITs after checking a proof of possession of the CPS key, enrolls the iris template
 *   (kept secret, sealed in its keystore), matches fresh iris samples sent to it encrypted (ECIES),
 *   and traces avatars from verified evidence to a UID.
 * - User: a CPS key, an MIT, an eye (the simulated sensor).
 * - AI proxy: a CPS key and an MIT.
 */
import { schnorr } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { concat, equalBytes, fromHex, toBytes, toHex } from "../crypto/bytes";
import { G1Point, G2Point, encodeG2Eip2537 } from "../crypto/bls";
import { CpsKeyPair, cpsKeyGen, cpsProvePossession, cpsVerifyPossession, keyId, decodePk, encodePk } from "../crypto/cps";
import { eciesDecrypt, eciesEncrypt } from "../crypto/ecies";
import { decodeScalar, encodeScalar, mulBase, randomScalar, Point } from "../crypto/group";
import { InvalidParameterError, MetatrustError } from "../errors";
import { IRIS_BITS, irisCommitment, irisMatch } from "./iris";

/** A rejected avatar protocol step. */
export class AvatarProtocolError extends MetatrustError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super("PROTOCOL_REJECTED", message);
    this.reason = reason;
  }
}

/**
 * The IdP's refusal of an enrollment whose eye is enrolled already (one person, one MIT). Its
 * message names neither that MIT nor its iris commitment (s24-rta R1: it named both, so anyone
 * holding an enrolment token and a photograph of an iris learnt the person's serial, which names
 * all her avatars on-chain, and her commitment, which is in every warrant she signs). Which MIT it
 * is stays with the IdP's operator: `enrolledSerial`, for the service's log, never for a reply.
 */
export class DuplicateIdentityError extends AvatarProtocolError {
  /** the serial (0x hex) of the MIT the eye is enrolled for: the operator's, never the requester's */
  readonly enrolledSerial: string;
  constructor(message: string, enrolledSerial: string) {
    super("DUPLICATE_IDENTITY", message);
    this.enrolledSerial = enrolledSerial;
  }
}

/**
 * A user's UID: keccak256("UID" || serial), 0x hex. The serial is public (on-chain, each avatar's
 * owner), so anyone computes the UID of an avatar's owner; only the IdP maps a UID to a person.
 * @param serial - the MIT's serial (32 bytes)
 */
export function uidOf(serial: Uint8Array): string {
  return toHex(keccak_256(concat(toBytes("UID"), serial)));
}

/** The public part of an MIT (its IdP signature is the on-chain record made from the IdP's account). */
export type MitInfo = { serial: Uint8Array; pk: G2Point; kind: "user" | "proxy"; description: string };

/**
 * The anonymous description an MIT's public parameters carry (the paper's MIT: "anonymous
 * description"): its kind and the first bytes of UID = keccak256("UID" || serial). It names no
 * person and no operator; the IdP alone maps a serial to a real identity or a proxy's operator.
 * @param kind - a user's or an AI proxy's MIT
 * @param serial - the MIT's serial (32 bytes)
 * @returns "user 0x…" or "AI proxy 0x…" (10 characters of the UID)
 */
export function mitDescription(kind: "user" | "proxy", serial: Uint8Array): string {
  const uid = uidOf(serial).slice(0, 10);
  return kind === "user" ? `user ${uid}` : `AI proxy ${uid}`;
}

/**
 * A platform receipt: the platform's clock says it saw the evidence with this hash at `time`
 * (a BIP-340 Schnorr signature under the platform's receipt key). Evidence times that matter
 * after a revocation come from here, never from the signer of the evidence.
 */
export type Receipt = { time: number; sig: Uint8Array };

/** The opening of a verdict commitment keccak256(UID || salt). */
export type VerdictOpening = { uid: string; salt: Uint8Array };

/** The bytes a receipt signs: a tag, the evidence hash and the time (u64 big-endian). */
export function receiptDigest(evidenceHash: Uint8Array, time: number): Uint8Array {
  if (!Number.isSafeInteger(time) || time < 0) throw new InvalidParameterError(`receiptDigest: time ${time} is not a u64`);
  const t = new Uint8Array(8);
  new DataView(t.buffer).setBigUint64(0, BigInt(time));
  return keccak_256(concat(toBytes("METATRUST-V1-AVATAR-RECEIPT"), evidenceHash, t));
}

/** keccak256(UID || salt): the verdict commitment recorded on-chain. */
export function verdictCommitmentOf(uid: string, salt: Uint8Array): Uint8Array {
  return keccak_256(concat(fromHex(uid, 32), salt));
}

type EnrolledUser = { uid: string; realId: string; serial: string; template: string; salt: string; commitment: string; pk: string };

/** The identity provider. */
export class IdentityProvider {
  /** secp256k1 key for the ECIES channel that carries iris samples */
  private readonly channelSk: bigint;
  private readonly users = new Map<string, EnrolledUser>();
  private readonly proxies = new Map<string, { serial: string; pk: string; operator: string }>();
  /** secp256k1 key of the platform's receipts (BIP-340) */
  private readonly receiptSk: Uint8Array;
  /** verdict commitment -> its opening (UID, salt): sealed with the rest of the keystore */
  private readonly verdicts = new Map<string, { uid: string; salt: string }>();
  /**
   * evidence key (tracedEvidenceKey) -> the cases that traced it, one slot per kind of trace: a
   * reporter's (InteractionTraced) and a court's (CourtTraced). One interaction, one trace of each
   * kind (h11-red2 V2, h14-red2 G2); the slots make the rule a keystore read (no chain read).
   * `legacy`: a keystore written before session 15 kept one case per key without its kind.
   */
  private readonly traced = new Map<string, TracedSlots>();
  /**
   * evidence key -> the cases whose trace verdict is on its way to the chain, one per kind
   * (s24-rta R3): written before the verdict is sent (crash-safety), made final in `traced` once it
   * is mined ({@link settleTrace}), removed when the chain refuses it ({@link dropTrace}). A slot
   * left by a crash is decided by its case's status on-chain (judgeTrace).
   */
  private readonly tracing = new Map<string, { reporter?: string; court?: string }>();

  constructor(channelSk: bigint = randomScalar(), receiptSk: Uint8Array = schnorr.utils.randomSecretKey()) {
    this.channelSk = channelSk;
    this.receiptSk = Uint8Array.from(receiptSk); // its own copy: the key below is computed once from it
  }

  /** The receipt key, computed at its first use (a scalar multiplication in noble: about 0.6 ms, where every step of mutual authentication names its platform by it: issue 20). */
  #receiptKey?: Uint8Array;

  /** The platform's receipt key (x-only, 32 bytes): anyone can check a receipt with it. */
  get receiptKey(): Uint8Array {
    this.#receiptKey ??= schnorr.getPublicKey(this.receiptSk);
    return this.#receiptKey.slice();
  }

  /**
   * The platform stamps evidence with its own clock (the signer of the evidence does not choose it).
   * @param evidenceHash - evidenceHash(e) of the evidence shown to the platform
   * @param now - the platform's clock, unix seconds
   */
  stamp(evidenceHash: Uint8Array, now: number): Receipt {
    if (!(evidenceHash instanceof Uint8Array) || evidenceHash.length !== 32)
      throw new InvalidParameterError("stamp: the evidence hash must be 32 bytes");
    return { time: now, sig: schnorr.sign(receiptDigest(evidenceHash, now), this.receiptSk) };
  }

  /** True iff `r` is this platform's receipt for the evidence hash. */
  checkReceipt(evidenceHash: Uint8Array, r: Receipt): boolean {
    try {
      return schnorr.verify(r.sig, receiptDigest(evidenceHash, r.time), this.receiptKey);
    } catch {
      return false;
    }
  }

  /** The key users encrypt iris samples to. */
  get channelKey(): Point {
    return mulBase(this.channelSk);
  }

  /**
   * Opens a message sealed to the channel key (ECIES): an enrollment sent to the IdP service over
   * the network (offchain/services/avatars/wire.ts), bound by `aad` to what it is for.
   * @throws AvatarProtocolError(MALFORMED) when it does not open (wrong key, changed bytes, other `aad`)
   */
  openSealed(sealed: Uint8Array, aad: Uint8Array): Uint8Array {
    try {
      return eciesDecrypt(this.channelSk, sealed, aad);
    } catch {
      throw new AvatarProtocolError("MALFORMED", "openSealed: the sealed message does not open for this IdP and this request");
    }
  }

  /**
   * The enrolled user whose template the enrollment matches (login's rule: irisMatch, Daugman's
   * threshold), or undefined. Linear in the number of enrollments (SIMULATED sensor: a real
   * deployment would index templates, which this does not).
   */
  private enrolledEye(enrollment: Uint8Array): EnrolledUser | undefined {
    for (const u of this.users.values()) if (irisMatch(fromHex(u.template), enrollment)) return u;
    return undefined;
  }

  /**
   * Issues a user's MIT: checks the key's proof of possession, checks that the eye is not enrolled
   * already (one person, one MIT: issue 15's whitewashing), enrolls the iris template (kept
   * secret) and derives its salted commitment. The check runs over every enrollment the IdP holds,
   * those of revoked MITs included: a revoked identity is not replaced by a fresh one, which would
   * start again at a verified identity's initial reputation (docs/specs/trust.md §6).
   * @param popContext - what the proof of possession must name (the service's issuance request:
   *   wire.possessionContext); empty in-process
   * @returns the MIT and the iris commitment that the user's warrants carry
   * @throws AvatarProtocolError(POSSESSION) for a key without a valid proof of possession
   * @throws DuplicateIdentityError (an AvatarProtocolError, DUPLICATE_IDENTITY) when the eye is
   *   enrolled for an MIT already: the message says only that (s24-rta R1), the MIT's serial is in
   *   `enrolledSerial` for the operator; nothing changes
   */
  issueUser(
    realId: string,
    pk: G2Point,
    possession: G1Point,
    enrollment: Uint8Array,
    popContext: Uint8Array = new Uint8Array(),
  ): { mit: MitInfo; commitment: Uint8Array } {
    if (!cpsVerifyPossession(pk, possession, popContext))
      throw new AvatarProtocolError("POSSESSION", "issueUser: the key's proof of possession does not verify (rogue key?)");
    if (!(enrollment instanceof Uint8Array) || enrollment.length !== IRIS_BITS / 8)
      throw new InvalidParameterError(`issueUser: an enrollment is an iris code of ${IRIS_BITS / 8} bytes`);
    const same = this.enrolledEye(enrollment);
    if (same) throw new DuplicateIdentityError("issueUser: this iris is already enrolled for an MIT; one person, one MIT", same.serial);
    const serial = randomBytes(32);
    const salt = randomBytes(32);
    const commitment = irisCommitment(enrollment, salt);
    const uid = uidOf(serial);
    this.users.set(toHex(serial), {
      uid,
      realId,
      serial: toHex(serial),
      template: toHex(enrollment),
      salt: toHex(salt),
      commitment: toHex(commitment),
      pk: toHex(encodePk(pk)),
    });
    return { mit: { serial, pk, kind: "user", description: mitDescription("user", serial) }, commitment };
  }

  /**
   * Issues an AI proxy's MIT (proxies have no iris). The operator is recorded here, with the IdP,
   * and never published: the MIT's description names a UID derived from the serial, as a user's
   * does, so that the public parameters on IPFS do not lead from a delegated avatar to a person
   * (h9-red F6: they read "AI proxy of <operator>", which made tracing public).
   */
  issueProxy(operator: string, pk: G2Point, possession: G1Point, popContext: Uint8Array = new Uint8Array()): MitInfo {
    if (!cpsVerifyPossession(pk, possession, popContext))
      throw new AvatarProtocolError("POSSESSION", "issueProxy: the key's proof of possession does not verify");
    const serial = randomBytes(32);
    this.proxies.set(toHex(serial), { serial: toHex(serial), pk: toHex(encodePk(pk)), operator });
    return { serial, pk, kind: "proxy", description: mitDescription("proxy", serial) };
  }

  /** The public key the IdP registered for an MIT serial. */
  keyOf(serial: Uint8Array): G2Point {
    const u = this.users.get(toHex(serial)) ?? this.proxies.get(toHex(serial));
    if (!u) throw new AvatarProtocolError("UNKNOWN_MIT", "keyOf: unknown MIT serial");
    return decodePk(fromHex(u.pk));
  }

  /** The iris commitment enrolled for a user's serial. */
  commitmentOf(serial: Uint8Array): Uint8Array {
    const u = this.users.get(toHex(serial));
    if (!u) throw new AvatarProtocolError("UNKNOWN_MIT", "commitmentOf: not a user MIT");
    return fromHex(u.commitment);
  }

  /**
   * Matches a fresh iris sample, sent encrypted to the IdP and bound to the challenge and to
   * what it authorizes (`binding`: the protocol step and the warrant's h, see sampleBinding).
   * @throws AvatarProtocolError(IRIS_MISMATCH) when the sample is not from the enrolled eye
   */
  matchSample(serial: Uint8Array, sealedSample: Uint8Array, challenge: Uint8Array, binding: Uint8Array = new Uint8Array()): void {
    const u = this.users.get(toHex(serial));
    if (!u) throw new AvatarProtocolError("UNKNOWN_MIT", "matchSample: not a user MIT");
    let sample: Uint8Array;
    try {
      sample = eciesDecrypt(this.channelSk, sealedSample, concat(toBytes("IRIS-SAMPLE"), serial, challenge, binding));
    } catch {
      throw new AvatarProtocolError("STALE_CHALLENGE", "matchSample: the sealed sample does not open for this challenge (replayed?)");
    }
    if (!irisMatch(fromHex(u.template), sample))
      throw new AvatarProtocolError("IRIS_MISMATCH", "matchSample: the iris sample does not match the enrolled template");
  }

  /**
   * Tracing: maps an iris commitment found in verified evidence to the user, and returns a
   * commitment keccak256(UID || salt) for the chain.
   * @throws AvatarProtocolError(UNTRACEABLE) if no user has that commitment
   */
  traceCommitment(commitment: Uint8Array): {
    uid: string;
    realId: string;
    serial: Uint8Array;
    verdictCommitment: Uint8Array;
    salt: Uint8Array;
  } {
    for (const u of this.users.values()) {
      if (equalBytes(fromHex(u.commitment), commitment)) {
        const salt = randomBytes(32);
        const verdictCommitment = verdictCommitmentOf(u.uid, salt);
        // the salt stays sealed in the keystore so that the verdict can be opened to an auditor
        this.verdicts.set(toHex(verdictCommitment), { uid: u.uid, salt: toHex(salt) });
        return { uid: u.uid, realId: u.realId, serial: fromHex(u.serial), verdictCommitment, salt };
      }
    }
    throw new AvatarProtocolError("UNTRACEABLE", "traceCommitment: no enrolled user has this iris commitment");
  }

  /**
   * Opens a verdict commitment this IdP recorded: the UID and the salt with
   * keccak256(UID || salt) = verdictCommitment (for an auditor or a court).
   * @throws AvatarProtocolError(UNKNOWN_VERDICT) for a commitment this IdP never made
   */
  openVerdict(verdictCommitment: Uint8Array): VerdictOpening {
    const v = this.verdicts.get(toHex(verdictCommitment));
    if (!v) throw new AvatarProtocolError("UNKNOWN_VERDICT", "openVerdict: this IdP recorded no verdict with this commitment");
    return { uid: v.uid, salt: fromHex(v.salt, 32) };
  }

  /**
   * The cases this IdP traced evidence with this key in (tracedEvidenceKey): the reporter's case
   * and the court's case, each if any (`legacy`: one case of a keystore written before the slots,
   * of either kind).
   */
  tracedCasesOf(key: Uint8Array): { reporter?: bigint; court?: bigint; legacy?: bigint } {
    const t = this.traced.get(toHex(key)) ?? {};
    const big = (c: string | undefined) => (c === undefined ? undefined : BigInt(c));
    return { reporter: big(t.reporter), court: big(t.court), legacy: big(t.legacy) };
  }

  /**
   * Records that a case traced evidence with this key, in the slot of its kind (a reporter's case
   * or a court's), kept with the verdicts before the verdict goes on-chain. A retry of the same
   * case rewrites the same slot.
   */
  recordTraced(key: Uint8Array, caseId: bigint, by: TraceKind): void {
    const k = toHex(key);
    this.traced.set(k, { ...this.traced.get(k), [by]: caseId.toString() });
  }

  /** The cases whose trace of evidence with this key is sent but not known to be mined (see {@link beginTrace}). */
  tracingCasesOf(key: Uint8Array): { reporter?: bigint; court?: bigint } {
    const t = this.tracing.get(toHex(key)) ?? {};
    const big = (c: string | undefined) => (c === undefined ? undefined : BigInt(c));
    return { reporter: big(t.reporter), court: big(t.court) };
  }

  /**
   * Records, before a trace verdict is sent, that this case is tracing evidence with this key
   * (pending: it counts as traced only once {@link settleTrace} runs after the write is mined).
   */
  beginTrace(key: Uint8Array, caseId: bigint, by: TraceKind): void {
    const k = toHex(key);
    this.tracing.set(k, { ...this.tracing.get(k), [by]: caseId.toString() });
  }

  /** The case's verdict is mined: its pending slot becomes the key's traced slot of its kind. */
  settleTrace(key: Uint8Array, caseId: bigint, by: TraceKind): void {
    if (this.dropTrace(key, caseId, by)) this.recordTraced(key, caseId, by);
  }

  /**
   * The case's verdict was refused by the chain (or can never be mined): its pending slot goes,
   * and with it nothing of the attempt stays.
   * @returns whether the case held the pending slot
   */
  dropTrace(key: Uint8Array, caseId: bigint, by: TraceKind): boolean {
    const k = toHex(key);
    const t = this.tracing.get(k);
    if (t?.[by] !== caseId.toString()) return false;
    const rest = { ...t, [by]: undefined };
    if (rest.reporter === undefined && rest.court === undefined) this.tracing.delete(k);
    else this.tracing.set(k, rest);
    return true;
  }

  /** Removes a traced slot that holds this case (a slot the chain never saw traced: judgeTrace). */
  unrecordTraced(key: Uint8Array, caseId: bigint, by: TraceKind): void {
    const k = toHex(key);
    const t = this.traced.get(k);
    if (t?.[by] !== caseId.toString()) return;
    const rest = { ...t, [by]: undefined };
    if (rest.reporter === undefined && rest.court === undefined && rest.legacy === undefined) this.traced.delete(k);
    else this.traced.set(k, rest);
  }

  /** Forgets the opening of a verdict commitment that never went on-chain (its write was refused). */
  forgetVerdict(verdictCommitment: Uint8Array): void {
    this.verdicts.delete(toHex(verdictCommitment));
  }

  /** Keystore record (templates, real identities, receipt key and verdict openings: secret). */
  toRecord(): Record<string, unknown> {
    return {
      channelSk: toHex(encodeScalar(this.channelSk)),
      receiptSk: toHex(this.receiptSk),
      users: [...this.users.values()],
      proxies: [...this.proxies.values()],
      verdicts: [...this.verdicts.entries()].map(([commitment, v]) => ({ commitment, ...v })),
      traced: [...this.traced.entries()].flatMap(([key, t]) =>
        (["reporter", "court", "legacy"] as const).flatMap((by) =>
          t[by] === undefined ? [] : [by === "legacy" ? { key, caseId: t[by] } : { key, caseId: t[by], by }],
        ),
      ),
      tracing: [...this.tracing.entries()].flatMap(([key, t]) =>
        (["reporter", "court"] as const).flatMap((by) => (t[by] === undefined ? [] : [{ key, caseId: t[by], by }])),
      ),
    };
  }

  static fromRecord(r: Record<string, unknown>): IdentityProvider {
    const idp =
      r.receiptSk === undefined
        ? new IdentityProvider(decodeScalar(fromHex(String(r.channelSk), 32)))
        : new IdentityProvider(decodeScalar(fromHex(String(r.channelSk), 32)), fromHex(String(r.receiptSk), 32));
    for (const u of r.users as EnrolledUser[]) idp.users.set(u.serial, u);
    for (const p of r.proxies as { serial: string; pk: string; operator: string }[]) idp.proxies.set(p.serial, p);
    for (const v of (r.verdicts ?? []) as { commitment: string; uid: string; salt: string }[])
      idp.verdicts.set(v.commitment, { uid: v.uid, salt: v.salt });
    // an entry without `by` was written before the slots (session 15): its kind is unknown here
    for (const t of (r.traced ?? []) as { key: string; caseId: string; by?: TraceKind }[])
      idp.traced.set(t.key, {
        ...idp.traced.get(t.key),
        [t.by === "reporter" || t.by === "court" ? t.by : "legacy"]: String(t.caseId),
      });
    for (const t of (r.tracing ?? []) as { key: string; caseId: string; by: TraceKind }[])
      if (t.by === "reporter" || t.by === "court") idp.tracing.set(t.key, { ...idp.tracing.get(t.key), [t.by]: String(t.caseId) });
    return idp;
  }
}

/** The kind of a trace: a reporter's case (InteractionTraced) or a court-upheld case (CourtTraced). */
export type TraceKind = "reporter" | "court";
type TracedSlots = { reporter?: string; court?: string; legacy?: string };

/** A user or an AI proxy: a CPS key pair and its MIT. */
export class AvatarParty {
  readonly name: string;
  readonly keys: CpsKeyPair;
  mit?: MitInfo;
  /** a user's iris commitment (from the IdP at issuance) */
  irisCommitment?: Uint8Array;

  constructor(name: string, keys: CpsKeyPair = cpsKeyGen()) {
    this.name = name;
    this.keys = keys;
  }

  /** KeyGen's proof of possession, for MIT issuance, naming `context` (what it authorises; see cpsProvePossession). */
  possession(context: Uint8Array = new Uint8Array()): G1Point {
    return cpsProvePossession(this.keys, context);
  }

  /** keccak256 of the key's EIP-2537 encoding: the registry's key id. */
  get keyId(): Uint8Array {
    return keyId(this.keys.pk);
  }

  /** The key's EIP-2537 encoding (for the on-chain verifier). */
  get pkEip2537(): Uint8Array {
    return encodeG2Eip2537(this.keys.pk);
  }

  /**
   * Seals a fresh iris capture to the IdP, bound to the challenge and to what it authorizes
   * (`binding`: the protocol step and the warrant's h; SIMULATED sensor).
   */
  sealSample(idpKey: Point, sample: Uint8Array, challenge: Uint8Array, binding: Uint8Array = new Uint8Array()): Uint8Array {
    if (!this.mit) throw new InvalidParameterError("sealSample: no MIT");
    return eciesEncrypt(idpKey, sample, concat(toBytes("IRIS-SAMPLE"), this.mit.serial, challenge, binding));
  }

  toRecord(): Record<string, unknown> {
    return {
      name: this.name,
      sk: this.keys.sk.toString(16),
      mit: this.mit ? { serial: toHex(this.mit.serial), kind: this.mit.kind, description: this.mit.description } : undefined,
      irisCommitment: this.irisCommitment ? toHex(this.irisCommitment) : undefined,
    };
  }

  static fromRecord(r: Record<string, unknown>): AvatarParty {
    const sk = BigInt("0x" + String(r.sk));
    const p = new AvatarParty(String(r.name), { sk, pk: cpsKeyGen(sk).pk });
    const m = r.mit as { serial: string; kind: "user" | "proxy"; description: string } | undefined;
    if (m) p.mit = { serial: fromHex(m.serial), pk: p.keys.pk, kind: m.kind, description: m.description };
    if (r.irisCommitment) p.irisCommitment = fromHex(String(r.irisCommitment));
    return p;
  }
}
