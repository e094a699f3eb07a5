/**
 * The avatar paper's protocols (§V, Appendix B) over CPS, with the MIT registry on-chain:
 * MIT issuance, login, delegation, mutual authentication with a session key, and tracing.
 * Each step is a function of the party that runs it, over the message it received; every
 * message has a versioned byte encoding (avatars/wire.ts). Every check that fails throws
 * AvatarProtocolError with a reason, and nothing is recorded on-chain.
 *
 * Bindings (docs/specs/avatars.md, "What each message binds"): every field the server records is
 * under a signature; fresh iris samples are sealed to the challenge, the protocol step and the
 * warrant's h; the two directions of mutual authentication use distinct labels and refuse an
 * avatar talking to itself; the transcript names the platform and the avatar each hello is
 * addressed to, and one hello makes one session (session 17); times that decide tracing after a revocation come from platform
 * receipts, never from the signer.
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { randomBytes } from "@noble/hashes/utils.js";
import type { MITRegistry } from "../../typechain-types";
import { concat, equalBytes, fromHex, toBytes, toHex } from "../crypto/bytes";
import { G1Point, G2Point } from "../crypto/bls";
import {
  OriginalSignature,
  ProxyMessage,
  Scope,
  Warrant,
  cpsOSign,
  cpsOVerify,
  cpsPSign,
  cpsPVerify,
  encodePk,
  keyId,
} from "../crypto/cps";
import { decodePoint, encodePoint, mul, mulBase, randomScalar } from "../crypto/group";
import type { ContentStore } from "../storage/content-store";
import { AvatarParty, AvatarProtocolError, IdentityProvider, Receipt, VerdictOpening, uidOf, verdictCommitmentOf } from "./agents";
import type { SimulatedEye } from "./iris";
import { encodeAuthReply, encodeEvidence } from "./wire";
import { DeploymentNotFoundError } from "../chain/deployments";
import { minedReceipt } from "../chain/mined";
import { contractRevert } from "../chain/reverts";
import type { ContractTransactionResponse, Provider } from "ethers";

/** What the protocols need. */
export type AvatarContext = {
  registry: MITRegistry;
  idp: IdentityProvider;
  store: ContentStore;
  now: () => number;
  /**
   * The platform this side's sessions are held on ({@link platformId}); when absent, the one of
   * `idp`'s receipt key on `registry` ({@link platformOf}). Mutual authentication binds it into
   * the transcript, and the platform stamps and traces only evidence of its own sessions.
   */
  platform?: Uint8Array;
  /**
   * Called after the agents' state changed and before the transaction that records it is sent
   * (an MIT's issuance, a trace verdict): a caller that keeps the agents in a keystore persists
   * them here, so that a process killed after the transaction never loses the keys or the salt the
   * chain now refers to; a service records its write-ahead intent here (a verified login or
   * delegation, offchain/services/avatars/idp-service.ts). Throwing stops before anything is sent.
   */
  beforeSend?: (
    step:
      | { kind: "issueMIT"; serial: Uint8Array; cid: string }
      | { kind: "recordVerdict"; caseId: bigint }
      | { kind: "recordLogin"; avatarId: Uint8Array; serial: Uint8Array; h: Uint8Array; vidCommitment: Uint8Array }
      | { kind: "recordDelegation"; avatarId: Uint8Array; proxySerial: Uint8Array; h: Uint8Array },
  ) => void | Promise<void>;
  /**
   * Called once a trace verdict's write is settled: `mined`, or `refused` by the chain (after the
   * agent dropped what {@link AvatarContext.beforeSend} persisted for it): a caller that keeps the
   * agent in a keystore saves it again here (s24-rta R3). Not called when the outcome is unknown.
   */
  afterSend?: (step: { kind: "recordVerdict"; caseId: bigint }, outcome: "mined" | "refused") => void | Promise<void>;
};

/**
 * The avatar protocols' clock (unix seconds): the latest block's timestamp + 1, the earliest time
 * the next block can have (a block's timestamp is strictly greater than its parent's). The
 * platform stamps receipts with it, and every side checks warrants, freshness and challenges
 * against it (docs/specs/avatars.md, "The platform's clock"). s24-rta R2: with the latest block's
 * own timestamp, a receipt made after a revocation was mined, before the next block, carried the
 * revocation block's time and dated its evidence as made before the end (`receiptBy`'s
 * `time <= end`). With +1, a receipt made before the revocation was mined has time <= its block's
 * timestamp, and one made once it could be seen has time >= that + 1: `time <= end` splits them.
 * @param provider - the chain's provider
 * @returns latest block's timestamp + 1
 */
export async function platformNow(provider: Provider): Promise<number> {
  const b = await provider.getBlock("latest");
  if (!b) throw new AvatarProtocolError("NO_CHAIN", "platformNow: the node returned no latest block");
  return b.timestamp + 1;
}

/** Whether a transaction's failure is the chain's refusal (a revert), so that nothing of it was recorded. */
function refusedByChain(e: unknown): boolean {
  return contractRevert(e) !== undefined || (e as { code?: string } | undefined)?.code === "CALL_EXCEPTION";
}

/** A driver's credential for an avatar: the warrant it signs under and the original signature. */
export type AvatarCredential = { avatarId: Uint8Array; owner: AvatarParty; driver: AvatarParty; warrant: Warrant; o: OriginalSignature };

const DAY = 86_400;
/** Seconds a challenge stays open, and the most a signed time may differ from the verifier's clock. */
export const CHALLENGE_TTL = 120;
/**
 * The longest a login warrant may run (seconds after the signed time): a day. The chain keeps the
 * login warrant's notAfter and the avatar stops verifying after it (h9-red F4), so a login that
 * asked for a longer warrant would stretch the owner's verification; the server refuses it.
 */
export const LOGIN_VALIDITY = DAY;

/** What a fresh iris sample authorizes (sealed with it as associated data). */
export const SamplePurpose = { login: 1, delegation: 2 } as const;

/**
 * The binding of a sealed iris sample: the protocol step and the h of the warrant it authorizes.
 * A sample captured for one step (say alice's login) cannot authorize another (a thief's delegation).
 */
export function sampleBinding(purpose: number, h: Uint8Array): Uint8Array {
  return keccak_256(concat(toBytes("METATRUST-V1-AVATAR-SAMPLE"), Uint8Array.of(purpose), h));
}

/** Bytes of an avatar id that name its owner (the rest names the avatar among the owner's). */
export const AVATAR_OWNER_TAG_BYTES = 16;

/**
 * The owner tag that opens every avatar id of an MIT serial: the first 16 bytes of
 * keccak256("METATRUST-V1-AVATAR-OWNER" || serial).
 */
export function avatarOwnerTag(ownerSerial: Uint8Array): Uint8Array {
  return keccak_256(concat(toBytes("METATRUST-V1-AVATAR-OWNER"), ownerSerial)).subarray(0, AVATAR_OWNER_TAG_BYTES);
}

/**
 * The id of the avatar an owner calls `name`: her owner tag (16 bytes), then the first 16 bytes
 * of keccak256("METATRUST-V1-AVATAR-NAME" || serial || name). Names are per owner (h9-red F7:
 * ids were keccak256("metatrust:avatar:" || name), so the first login of a name owned it and
 * anybody could squat anybody's name). The server records a first login only for an id that opens
 * with the user's own tag (verifyLogin), so nobody else can take one of her names, and two owners
 * may use the same name. Everybody who knows the owner's serial (public on-chain) and the name
 * computes the id.
 * @param ownerSerial - the owner's MIT serial (32 bytes)
 * @param name - the avatar's name, 1 to 255 bytes of UTF-8
 * @returns the 32-byte avatar id
 * @throws AvatarProtocolError(BAD_WARRANT) for a serial that is not 32 bytes or an empty or overlong name
 */
export function avatarIdOf(ownerSerial: Uint8Array, name: string): Uint8Array {
  const n = toBytes(name);
  if (ownerSerial.length !== 32 || n.length < 1 || n.length > 255)
    throw new AvatarProtocolError("BAD_WARRANT", "avatarIdOf: a 32-byte owner serial and a name of 1 to 255 bytes");
  const local = keccak_256(concat(toBytes("METATRUST-V1-AVATAR-NAME"), ownerSerial, n)).subarray(0, 32 - AVATAR_OWNER_TAG_BYTES);
  return concat(avatarOwnerTag(ownerSerial), local);
}

/** Whether an avatar id lies in an owner's namespace (opens with her owner tag). */
export function isAvatarIdOf(avatarId: Uint8Array, ownerSerial: Uint8Array): boolean {
  return avatarId.length === 32 && equalBytes(avatarId.subarray(0, AVATAR_OWNER_TAG_BYTES), avatarOwnerTag(ownerSerial));
}

/** The login message body the user signs: challenge || owner serial || avatar id || VID commitment (128 bytes). */
export function loginBody(challenge: Uint8Array, ownerSerial: Uint8Array, avatarId: Uint8Array, vidCommitment: Uint8Array): Uint8Array {
  return concat(challenge, ownerSerial, avatarId, vidCommitment);
}

/** The delegation message body the proxy signs: challenge || owner serial || proxy serial || avatar id (128 bytes). */
export function delegationBody(challenge: Uint8Array, ownerSerial: Uint8Array, proxySerial: Uint8Array, avatarId: Uint8Array): Uint8Array {
  return concat(challenge, ownerSerial, proxySerial, avatarId);
}

function requireFresh(fn: string, time: number, now: number): void {
  if (!Number.isSafeInteger(time) || Math.abs(time - now) > CHALLENGE_TTL)
    throw new AvatarProtocolError(
      "STALE_TIME",
      `${fn}: the signed time ${time} is more than ${CHALLENGE_TTL} s from the verifier's clock ${now}`,
    );
}

/**
 * The platform server's one-time challenges (a replayed response finds its challenge consumed).
 * A response is checked against its challenge first (`check`, which spends nothing) and spends it
 * (`consume`) only once its signatures verify (h16-red R2: a refused response used to spend the
 * challenge it named, so anyone who saw a challenge on the wire could burn it).
 */
export class ChallengeBook {
  private readonly open = new Map<string, number>();
  issue(now: number): Uint8Array {
    const c = randomBytes(32);
    this.open.set(toHex(c), now + CHALLENGE_TTL);
    return c;
  }
  /** @throws AvatarProtocolError(STALE_CHALLENGE) unless the challenge is open; changes nothing */
  check(c: Uint8Array, now: number): void {
    const exp = this.open.get(toHex(c));
    if (exp === undefined || now > exp)
      throw new AvatarProtocolError("STALE_CHALLENGE", "the challenge is unknown, used or expired (replayed response?)");
  }
  consume(c: Uint8Array, now: number): void {
    const exp = this.open.get(toHex(c));
    this.open.delete(toHex(c));
    if (exp === undefined || now > exp)
      throw new AvatarProtocolError("STALE_CHALLENGE", "the challenge is unknown, used or expired (replayed response?)");
  }
}

async function mined(p: Promise<ContractTransactionResponse>): Promise<bigint> {
  return (await minedReceipt(p)).gasUsed;
}

/**
 * MIT issuance for a user: enrollment (SIMULATED iris), proof of possession, record on-chain with
 * the public parameters on IPFS. `popContext`: what the proof of possession must name (the IdP
 * service's request, wire.possessionContext); empty in-process.
 */
export async function issueUserMit(
  ctx: AvatarContext,
  user: AvatarParty,
  realId: string,
  eye: Pick<SimulatedEye, "capture">,
  popContext: Uint8Array = new Uint8Array(),
): Promise<{ gas: bigint; cid: string }> {
  const { mit, commitment } = ctx.idp.issueUser(realId, user.keys.pk, user.possession(popContext), eye.capture(), popContext);
  user.mit = mit;
  user.irisCommitment = commitment;
  const cid = await ctx.store.putJson({
    kind: "user",
    serial: toHex(mit.serial),
    pk: toHex(encodePk(mit.pk)),
    description: mit.description,
  });
  await ctx.beforeSend?.({ kind: "issueMIT", serial: mit.serial, cid });
  return { gas: await mined(ctx.registry.issueMIT(toHex(mit.serial), toHex(user.keyId), cid)), cid };
}

/** MIT issuance for an AI proxy (`popContext`: as for {@link issueUserMit}). */
export async function issueProxyMit(
  ctx: AvatarContext,
  proxy: AvatarParty,
  operator: string,
  popContext: Uint8Array = new Uint8Array(),
): Promise<{ gas: bigint; cid: string }> {
  proxy.mit = ctx.idp.issueProxy(operator, proxy.keys.pk, proxy.possession(popContext), popContext);
  const cid = await ctx.store.putJson({
    kind: "proxy",
    serial: toHex(proxy.mit.serial),
    pk: toHex(encodePk(proxy.mit.pk)),
    description: proxy.mit.description,
  });
  await ctx.beforeSend?.({ kind: "issueMIT", serial: proxy.mit.serial, cid });
  return { gas: await mined(ctx.registry.issueMIT(toHex(proxy.mit.serial), toHex(proxy.keyId), cid)), cid };
}

async function requireActive(ctx: Pick<AvatarContext, "registry">, serial: Uint8Array, pk: G2Point, who: string): Promise<void> {
  activeMit(await ctx.registry.mit(toHex(serial)), pk, who);
}

/** An MIT as read from the chain (its status and key id) must be active and issued for `pk`. */
function activeMit(m: { status: bigint | number; keyId: string }, pk: G2Point, who: string): void {
  if (Number(m.status) !== 1)
    throw new AvatarProtocolError(
      Number(m.status) === 2 ? "MIT_REVOKED" : "UNKNOWN_MIT",
      `${who}'s MIT is ${Number(m.status) === 2 ? "revoked" : "unknown"}`,
    );
  if (!equalBytes(fromHex(m.keyId, 32), keyId(pk)))
    throw new AvatarProtocolError("KEY_MISMATCH", `${who}'s key is not the one its MIT was issued for`);
}

/**
 * Login (Appendix B-A): claim, challenge, response with a fresh iris sample, verify; the user
 * becomes its avatar's own proxy (self-delegation warrant).
 */
export async function login(
  ctx: AvatarContext,
  server: ChallengeBook,
  user: AvatarParty,
  eye: SimulatedEye,
  a: { avatarId: Uint8Array; appearance: string; sampleFrom?: SimulatedEye },
): Promise<{ credential: AvatarCredential; gas: bigint; response: LoginResponse }> {
  if (!user.mit || !user.irisCommitment) throw new AvatarProtocolError("UNKNOWN_MIT", "login: the user has no MIT");
  const now = ctx.now();
  // (1) claim; (2) challenge
  const challenge = server.issue(now);
  // (3) response: a fresh iris capture sealed to the IdP, the self-delegation warrant, its signatures
  const vidCommitment = keccak_256(toBytes(`VID:${a.appearance}`));
  const response = buildLoginResponse(ctx, user, (a.sampleFrom ?? eye).capture(), challenge, a.avatarId, vidCommitment, now);
  const v = await verifyLogin(ctx, server, user.mit.serial, user.keys.pk, response);
  return { credential: { avatarId: a.avatarId, owner: user, driver: user, warrant: v.warrant, o: v.o }, gas: v.gas, response };
}

/** The user's login response (step 3). */
export type LoginResponse = {
  challenge: Uint8Array;
  sealedSample: Uint8Array;
  warrant: Warrant;
  o: OriginalSignature;
  message: ProxyMessage;
  proxySig: G1Point;
  avatarId: Uint8Array;
  vidCommitment: Uint8Array;
};

/**
 * The user's side of login step 3: the self-delegation warrant and its original signature, a
 * proxy signature on loginBody(challenge, serial, avatar, VID commitment), and the fresh iris
 * capture sealed to the IdP under the challenge and the warrant's h.
 */
export function buildLoginResponse(
  ctx: { idp: Pick<IdentityProvider, "channelKey"> },
  user: AvatarParty,
  sample: Uint8Array,
  challenge: Uint8Array,
  avatarId: Uint8Array,
  vidCommitment: Uint8Array,
  now: number,
): LoginResponse {
  if (!user.mit || !user.irisCommitment) throw new AvatarProtocolError("UNKNOWN_MIT", "buildLoginResponse: the user has no MIT");
  const warrant: Warrant = {
    irisCommitment: user.irisCommitment,
    proxy: user.keys.pk,
    avatarId,
    scope: Scope.all,
    notBefore: now,
    notAfter: now + LOGIN_VALIDITY,
  };
  const o = cpsOSign(user.keys, warrant);
  const message: ProxyMessage = { type: Scope.login, time: now, body: loginBody(challenge, user.mit.serial, avatarId, vidCommitment) };
  return {
    challenge,
    sealedSample: user.sealSample(ctx.idp.channelKey, sample, challenge, sampleBinding(SamplePurpose.login, o.h)),
    warrant,
    o,
    message,
    proxySig: cpsPSign(user.keys, warrant, o, message),
    avatarId,
    vidCommitment,
  };
}

/**
 * Step 4: the server verifies and records the login. Every field it records (avatar, owner
 * serial, h, VID commitment) is under the user's signature: the message body must be exactly
 * loginBody(challenge, serial, avatar, VID commitment) and the warrant must name this avatar.
 */
export async function verifyLogin(
  ctx: AvatarContext,
  server: ChallengeBook,
  serial: Uint8Array,
  pk: G2Point,
  r: LoginResponse,
): Promise<{ warrant: Warrant; o: OriginalSignature; gas: bigint }> {
  const now = ctx.now();
  // the challenge is spent only by a response whose signatures verify (h16-red R2), below
  server.check(r.challenge, now);
  await requireActive(ctx, serial, pk, "the user");
  // the first login of an avatar makes its user the owner; another user's login is refused here,
  // as the client's fault, rather than by the chain's revert (a 500 the client would retry)
  const owner = fromHex((await ctx.registry.avatar(toHex(r.avatarId))).owner, 32);
  const unowned = owner.every((b) => b === 0);
  if (!unowned && !equalBytes(owner, serial)) throw new AvatarProtocolError("NOT_OWNER", "login: another user owns this avatar");
  // names are per owner: a user claims only ids in her own namespace (h9-red F7, avatarIdOf); an
  // avatar she already owns (one claimed before ids were per owner) stays hers to log in to
  if (unowned && !isAvatarIdOf(r.avatarId, serial))
    throw new AvatarProtocolError("NOT_OWNER", "login: the avatar id is not one of the user's (avatarIdOf(her serial, name))");
  if (!equalBytes(r.warrant.irisCommitment, ctx.idp.commitmentOf(serial)))
    throw new AvatarProtocolError("IRIS_MISMATCH", "login: the warrant's iris commitment is not the user's");
  if (
    !r.warrant.proxy.equals(pk) ||
    r.message.type !== Scope.login ||
    !equalBytes(r.message.body, loginBody(r.challenge, serial, r.avatarId, r.vidCommitment))
  )
    throw new AvatarProtocolError("BAD_RESPONSE", "login: the response is not a self-delegation bound to the challenge");
  if (!equalBytes(r.warrant.avatarId, r.avatarId))
    throw new AvatarProtocolError("BAD_WARRANT", "login: the warrant is for another avatar than the one claimed");
  requireFresh("login", r.message.time, now);
  // the chain keeps the warrant's notAfter (the avatar verifies until then): not already past
  // (recordLogin would revert, a 500 the client retries), and not beyond a day from now
  if (r.warrant.notAfter < now || r.warrant.notAfter > now + LOGIN_VALIDITY + CHALLENGE_TTL)
    throw new AvatarProtocolError(
      "BAD_WARRANT",
      `login: the warrant's notAfter ${r.warrant.notAfter} is not between now (${now}) and ${LOGIN_VALIDITY} s after it`,
    );
  if (!cpsPVerify(pk, r.warrant, r.o, r.message, r.proxySig))
    throw new AvatarProtocolError("BAD_SIGNATURE", "login: the chameleon proxy signature does not verify");
  // signed by the user's key: spent now, before the iris match, so that a thief holding the key
  // has one iris attempt per challenge (a refused match spends it; nothing else refused does)
  server.consume(r.challenge, now);
  ctx.idp.matchSample(serial, r.sealedSample, r.challenge, sampleBinding(SamplePurpose.login, r.o.h));
  await ctx.beforeSend?.({ kind: "recordLogin", avatarId: r.avatarId, serial, h: r.o.h, vidCommitment: r.vidCommitment });
  const gas = await mined(
    ctx.registry.recordLogin(toHex(r.avatarId), toHex(serial), toHex(r.o.h), toHex(r.vidCommitment), r.warrant.notAfter),
  );
  return { warrant: r.warrant, o: r.o, gas };
}

/** Delegation step 4: what the proxy submits to the server (the owner's part and its own). */
export type DelegationResponse = {
  challenge: Uint8Array;
  avatarId: Uint8Array;
  ownerSerial: Uint8Array;
  proxySerial: Uint8Array;
  /** the owner's fresh iris capture, sealed to the IdP under the challenge and the warrant's h */
  sealedSample: Uint8Array;
  warrant: Warrant;
  o: OriginalSignature;
  message: ProxyMessage;
  proxySig: G1Point;
};

/**
 * Delegation steps 3-4 (Appendix B-B): the owner samples her iris and signs the warrant for the
 * proxy's key (OSign); the proxy signs delegationBody(challenge, owner, proxy, avatar) under it.
 * @param sample - the owner's fresh capture (B-B (3)(ii)): a thief with her key but not her eye cannot delegate
 */
export function buildDelegationResponse(
  ctx: { idp: Pick<IdentityProvider, "channelKey"> },
  user: AvatarParty,
  sample: Uint8Array,
  proxy: AvatarParty,
  challenge: Uint8Array,
  a: { avatarId: Uint8Array; ttl?: number; scope?: number },
  now: number,
): DelegationResponse {
  if (!user.mit || !user.irisCommitment || !proxy.mit) throw new AvatarProtocolError("UNKNOWN_MIT", "delegate: both parties need an MIT");
  const warrant: Warrant = {
    irisCommitment: user.irisCommitment,
    proxy: proxy.keys.pk,
    avatarId: a.avatarId,
    scope: a.scope ?? Scope.challenge | Scope.interaction,
    notBefore: now,
    notAfter: now + (a.ttl ?? 30 * DAY),
  };
  const o = cpsOSign(user.keys, warrant);
  const message: ProxyMessage = {
    type: Scope.challenge,
    time: now,
    body: delegationBody(challenge, user.mit.serial, proxy.mit.serial, a.avatarId),
  };
  return {
    challenge,
    avatarId: a.avatarId,
    ownerSerial: user.mit.serial,
    proxySerial: proxy.mit.serial,
    sealedSample: user.sealSample(ctx.idp.channelKey, sample, challenge, sampleBinding(SamplePurpose.delegation, o.h)),
    warrant,
    o,
    message,
    proxySig: cpsPSign(proxy.keys, warrant, o, message),
  };
}

/**
 * Delegation step 5: the server verifies and records. The owner's key is the one the IdP
 * registered for the owner serial; the owner's fresh iris sample must match her template; every
 * recorded field (avatar, proxy serial, h) is signed.
 */
export async function verifyDelegation(
  ctx: AvatarContext,
  server: ChallengeBook,
  r: DelegationResponse,
): Promise<{ gas: bigint; delegationId: bigint }> {
  const now = ctx.now();
  server.check(r.challenge, now); // spent only once the signatures verify (h16-red R2), below
  const ownerPk = ctx.idp.keyOf(r.ownerSerial);
  await requireActive(ctx, r.ownerSerial, ownerPk, "the user");
  await requireActive(ctx, r.proxySerial, r.warrant.proxy, "the proxy");
  const av = await ctx.registry.avatar(toHex(r.avatarId));
  if (!equalBytes(fromHex(av.owner, 32), r.ownerSerial))
    throw new AvatarProtocolError("NOT_OWNER", "delegate: the user does not own this avatar");
  // what recordDelegation would revert on, refused here as the client's fault (a revert is a 500
  // that the client retries): the owner as her own proxy, a warrant already expired
  if (equalBytes(r.proxySerial, r.ownerSerial))
    throw new AvatarProtocolError("BAD_RESPONSE", "delegate: the proxy is the owner's own MIT (she drives by logging in)");
  if (r.warrant.notAfter < now) throw new AvatarProtocolError("BAD_WARRANT", "delegate: the warrant has already expired");
  if (!equalBytes(r.warrant.irisCommitment, ctx.idp.commitmentOf(r.ownerSerial)))
    throw new AvatarProtocolError("IRIS_MISMATCH", "delegate: the warrant's iris commitment is not the owner's");
  if (!equalBytes(r.warrant.avatarId, r.avatarId))
    throw new AvatarProtocolError("BAD_WARRANT", "delegate: the warrant is for another avatar than the one delegated");
  if (
    r.message.type !== Scope.challenge ||
    !equalBytes(r.message.body, delegationBody(r.challenge, r.ownerSerial, r.proxySerial, r.avatarId))
  )
    throw new AvatarProtocolError("BAD_RESPONSE", "delegate: the proxy's signature is not on this challenge, owner, proxy and avatar");
  requireFresh("delegate", r.message.time, now);
  if (!cpsPVerify(ownerPk, r.warrant, r.o, r.message, r.proxySig))
    throw new AvatarProtocolError("BAD_SIGNATURE", "delegate: the chameleon proxy signature does not verify");
  // the owner's warrant and the proxy's signature verify: spent now, before the iris match (one
  // iris attempt per challenge for a thief holding both keys)
  server.consume(r.challenge, now);
  ctx.idp.matchSample(r.ownerSerial, r.sealedSample, r.challenge, sampleBinding(SamplePurpose.delegation, r.o.h));
  await ctx.beforeSend?.({ kind: "recordDelegation", avatarId: r.avatarId, proxySerial: r.proxySerial, h: r.o.h });
  // the proxy drives, the user is forced offline
  const tx = await minedReceipt(ctx.registry.recordDelegation(toHex(r.avatarId), toHex(r.proxySerial), toHex(r.o.h), r.warrant.notAfter));
  const ev = tx!.logs.map((l) => ctx.registry.interface.parseLog(l)).find((l) => l?.name === "AvatarDelegated");
  return { gas: tx!.gasUsed, delegationId: ev!.args.delegationId as bigint };
}

/**
 * Delegation (Appendix B-B): the server's challenge; the owner samples her iris (sealed to the
 * IdP) and signs a warrant for the proxy's key (OSign); the proxy answers the challenge under it
 * (PSign); the server verifies and records. The avatar is then driven by the proxy and the
 * user's own session ends.
 */
export async function delegate(
  ctx: AvatarContext,
  server: ChallengeBook,
  user: AvatarParty,
  eye: SimulatedEye,
  proxy: AvatarParty,
  a: { avatarId: Uint8Array; ttl?: number; scope?: number },
): Promise<{ credential: AvatarCredential; gas: bigint; delegationId: bigint; response: DelegationResponse }> {
  if (!user.mit || !user.irisCommitment || !proxy.mit) throw new AvatarProtocolError("UNKNOWN_MIT", "delegate: both parties need an MIT");
  const now = ctx.now();
  const challenge = server.issue(now);
  const response = buildDelegationResponse(ctx, user, eye.capture(), proxy, challenge, a, now);
  if (!equalBytes(ctx.idp.keyOf(user.mit.serial).toBytes(), user.keys.pk.toBytes()))
    throw new AvatarProtocolError("KEY_MISMATCH", "the user's key is not the one its MIT was issued for");
  const v = await verifyDelegation(ctx, server, response);
  return {
    credential: { avatarId: a.avatarId, owner: user, driver: proxy, warrant: response.warrant, o: response.o },
    gas: v.gas,
    delegationId: v.delegationId,
    response,
  };
}

/** What one side shows the other in mutual authentication. */
export type Hello = {
  avatarId: Uint8Array;
  ownerSerial: Uint8Array;
  ownerPk: G2Point;
  driverSerial: Uint8Array;
  warrant: Warrant;
  o: OriginalSignature;
  ephemeral: Uint8Array;
  nonce: Uint8Array;
  /** the platform the session is held on ({@link platformId}): the same in both hellos */
  platform: Uint8Array;
  /** the avatar this hello is addressed to: the responder's for message 1, the initiator's in message 2 */
  peer: Uint8Array;
};

/** What a side needs to know which platform it is on (see {@link platformOf}). */
export type PlatformContext = Partial<Pick<AvatarContext, "registry">> & {
  platform?: Uint8Array;
  idp?: Pick<IdentityProvider, "receiptKey">;
};
/** What mutual authentication reads: the chain, this side's clock and its platform. */
export type AuthContext = Pick<AvatarContext, "registry" | "now"> & PlatformContext;

/**
 * A platform's id (32 bytes): keccak256("METATRUST-V1-AVATAR-PLATFORM" || MIT registry address
 * (20 bytes) || the platform's receipt key (x-only, 32 bytes)). The platform is whoever stamps
 * evidence with that key for avatars recorded on that registry (today the IdP: the platform
 * server and the IdP are one party). Two platforms relying on one registry have two receipt keys,
 * so two ids (session 17: a handshake relayed between them is refused).
 * @param registry - the MIT registry's address (0x hex)
 * @param receiptKey - the platform's receipt key (IdentityProvider.receiptKey, IdpInfo.receiptKey)
 */
export function platformId(registry: string, receiptKey: Uint8Array): Uint8Array {
  if (!/^0x[0-9a-fA-F]{40}$/.test(registry))
    throw new AvatarProtocolError("BAD_PLATFORM", `platformId: the registry ${registry} is not a 20-byte address`);
  if (!(receiptKey instanceof Uint8Array) || receiptKey.length !== 32)
    throw new AvatarProtocolError("BAD_PLATFORM", "platformId: a receipt key is 32 bytes (x-only)");
  return keccak_256(concat(toBytes("METATRUST-V1-AVATAR-PLATFORM"), fromHex(registry, 20), receiptKey));
}

/**
 * The platform a side is on: `ctx.platform` if given, else the platform of `ctx.idp`'s receipt
 * key on `ctx.registry` ({@link platformId}).
 * @throws AvatarProtocolError(NO_PLATFORM) when the context names neither
 */
export function platformOf(ctx: PlatformContext): Uint8Array {
  if (ctx.platform) {
    if (ctx.platform.length !== 32) throw new AvatarProtocolError("BAD_PLATFORM", "platformOf: a platform id is 32 bytes");
    return ctx.platform;
  }
  if (!ctx.idp || !ctx.registry)
    throw new AvatarProtocolError("NO_PLATFORM", "platformOf: the context names no platform (give `platform`, or `idp` and `registry`)");
  return platformId(String(ctx.registry.target), ctx.idp.receiptKey);
}

const short = (b: Uint8Array) => toHex(b).slice(0, 12) + "…";

/**
 * Evidence is stamped and traced only by the platform its session was held on: the platform its
 * handshake names (the reporter's hello; both hellos name the same one, under both signatures).
 * @throws AvatarProtocolError(WRONG_PLATFORM) when the evidence's handshake names another platform
 */
export function requireOwnPlatform(fn: string, e: Evidence, platform: Uint8Array): void {
  if (e.handshake && !equalBytes(e.handshake.reporter.platform, platform))
    throw new AvatarProtocolError(
      "WRONG_PLATFORM",
      `${fn}: the evidence's session was held on platform ${short(e.handshake.reporter.platform)}, not on this platform ${short(platform)}`,
    );
}

/** An avatar's side in mutual authentication: its credential and its driver's keys. */
export type Side = { credential: AvatarCredential; driver: AvatarParty };

function ownerOf(c: AvatarCredential): { serial: Uint8Array; pk: G2Point } {
  if (!c.owner.mit) throw new AvatarProtocolError("UNKNOWN_MIT", "the avatar's owner has no MIT");
  return { serial: c.owner.mit.serial, pk: c.owner.keys.pk };
}

/**
 * MITRegistry.avatarStanding of an avatar. A registry deployed before the view existed (session 29)
 * reverts with no data: that is said in one line, with the command that deploys the current contracts.
 * @throws DeploymentNotFoundError for such a registry; the node's error otherwise
 */
async function standingOf(registry: MITRegistry, avatarId: Uint8Array) {
  try {
    return await registry.avatarStanding(toHex(avatarId));
  } catch (e) {
    const x = e as { code?: string; data?: string | null };
    // a revert with no data: ethers' CALL_EXCEPTION over JSON-RPC (data "0x" or none), Hardhat's in-process error (data "0x")
    if (x.data === "0x" || (x.code === "CALL_EXCEPTION" && x.data == null))
      throw new DeploymentNotFoundError(
        `the MITRegistry at ${String(registry.target)} has no avatarStanding (deployed before session 29's contracts): \`npx hardhat deploy --fresh\` deploys the current ones`,
      );
    throw e;
  }
}

/**
 * Verifies the other side's hello against the chain (avatar record, MITs) and its warrant's
 * binding, and that the chain verifies the avatar now: its recorded notAfter is not past by the
 * verifier's own clock, and `isVerified` holds (h16-red R1: the peer chooses the time it signs,
 * so PVerify's check of that time against the warrant lets a proxy whose delegation ended answer
 * with a backdated time; only the chain's record against this side's clock says it has ended).
 * Every acceptance of a peer runs it: the responder on message 1, the initiator on message 2, the
 * responder again on message 3 (authComplete). The original signature s_o is not checked here:
 * the one randomized PVerify on the peer's transcript signature (verifyPeer) checks s_o and s_p
 * together before any key or evidence is accepted (docs/specs/avatars.md, "One randomized check").
 */
async function checkHello(
  ctx: Pick<AvatarContext, "registry" | "now">,
  h: Pick<Hello, "avatarId" | "ownerSerial" | "ownerPk" | "driverSerial" | "warrant" | "o">,
): Promise<void> {
  // one call at one block (issue 20: four before): the record, both MITs and isVerified
  const st = await standingOf(ctx.registry, h.avatarId);
  const av = st.avatar;
  if (Number(av.driver) === 0) throw new AvatarProtocolError("NO_DRIVER", "the avatar has no driver on-chain");
  if (!equalBytes(fromHex(av.owner, 32), h.ownerSerial) || !equalBytes(fromHex(av.driverSerial, 32), h.driverSerial))
    throw new AvatarProtocolError("NOT_DRIVER", "the presented owner or driver is not the avatar's on-chain");
  if (!equalBytes(fromHex(av.warrantHash, 32), h.o.h))
    throw new AvatarProtocolError("STALE_WARRANT", "the presented warrant is not the avatar's current one (revoked or replaced)");
  // the MITs of the recorded owner and driver: the hello's serials, checked equal above
  activeMit({ status: st.ownerStatus, keyId: st.ownerKeyId }, h.ownerPk, "the owner");
  activeMit({ status: st.driverStatus, keyId: st.driverKeyId }, h.warrant.proxy, "the driver");
  // the binding again: a warrant signed for another avatar would authenticate here and then be
  // refused by tracing (an untraceable avatar)
  if (!equalBytes(h.warrant.avatarId, h.avatarId))
    throw new AvatarProtocolError("BAD_WARRANT", "the presented warrant is for another avatar");
  const now = ctx.now();
  if (now > Number(av.notAfter))
    throw new AvatarProtocolError("EXPIRED", `the avatar's warrant ended at ${Number(av.notAfter)}, before this side's clock ${now}`);
  // the chain's own view (its block time, the driver, both MITs): what a contract relying on the avatar reads
  if (!st.verified)
    throw new AvatarProtocolError("NOT_VERIFIED", "the chain does not verify the avatar now (its session or delegation has ended)");
}

/**
 * The peer's warrant, original signature and transcript signature in one randomized 3-pairing
 * product (cpsPVerify). Only on failure does OVerify run, to say which signature failed.
 */
function verifyPeer(peer: Hello, msg: ProxyMessage, proxySig: G1Point, who: "A" | "B"): void {
  if (cpsPVerify(peer.ownerPk, peer.warrant, peer.o, msg, proxySig)) return;
  if (!cpsOVerify(peer.ownerPk, peer.warrant, peer.o))
    throw new AvatarProtocolError("BAD_SIGNATURE", "the original signature on the warrant does not verify");
  throw new AvatarProtocolError("BAD_SIGNATURE", `${who}'s proxy signature on the transcript does not verify`);
}

/**
 * The handshake transcript t of two hellos, the initiator's first (what both sides sign, type
 * challenge): keccak256("METATRUST-V2-AVATAR-AUTH" || platform || for each hello: avatar, the
 * avatar it is addressed to, ephemeral key, nonce, warrant hash h). Session 17 added the platform
 * (a handshake relayed to another platform) and the addressees (a hello delivered to an avatar it
 * was not meant for); the tag's V2 keeps a V1 transcript from ever equalling one. h = CHash(X_o, w)
 * binds each side's owner key and warrant (its proxy key, iris commitment, avatar, scope, validity).
 * @throws AvatarProtocolError(WRONG_PLATFORM) if the two hellos name different platforms
 */
export function handshakeTranscript(a: Hello, b: Hello): Uint8Array {
  if (!equalBytes(a.platform, b.platform) || a.platform.length !== 32)
    throw new AvatarProtocolError("WRONG_PLATFORM", "handshakeTranscript: the two hellos name different platforms");
  return keccak_256(
    concat(
      toBytes("METATRUST-V2-AVATAR-AUTH"),
      a.platform,
      a.avatarId,
      a.peer,
      a.ephemeral,
      a.nonce,
      a.o.h,
      b.avatarId,
      b.peer,
      b.ephemeral,
      b.nonce,
      b.o.h,
    ),
  );
}

/** Key-confirmation labels: one per direction, so that a tag cannot be reflected back to its sender. */
export const CONFIRM_LABEL = {
  responder: "METATRUST-V1-AVATAR-CONFIRM-RESPONDER",
  initiator: "METATRUST-V1-AVATAR-CONFIRM-INITIATOR",
} as const;

const sessionKey = (z: Uint8Array, t: Uint8Array) => hkdf(sha256, z, t, toBytes("METATRUST-V1-AVATAR-SESSION"), 32);
const confirmTag = (k: Uint8Array, label: string, t: Uint8Array) => hmac(sha256, k, concat(toBytes(label), t));

/** Mutual authentication, message 2 (responder -> initiator). */
export type AuthReply = { hello: Hello; time: number; proxySig: G1Point; confirm: Uint8Array };
/** Mutual authentication, message 3 (initiator -> responder). */
export type AuthFinish = { proxySig: G1Point; confirm: Uint8Array };

/** One side's state between messages. */
export type AuthState = {
  side: Side;
  e: bigint;
  hello: Hello;
  peer?: Hello;
  t?: Uint8Array;
  key?: Uint8Array;
  msg?: ProxyMessage;
  /** the responder's own signature on the transcript (message 2): its part of the evidence it keeps */
  ownSig?: G1Point;
  /**
   * The initiator's hello is spent by the first reply it finishes (session 17: one hello, one
   * session): that reply and the answer, which a retry of the same reply (the same wire bytes)
   * gets again. A copy of the reply is kept (its byte arrays copied: no caller can change it) and
   * encoded only when a second reply comes (issue 20: the encoding was about 1.4 ms of the
   * initiator's step).
   */
  finished?: { reply: AuthReply; result: { key: Uint8Array; finish: AuthFinish; evidenceAboutPeer: Evidence } };
};

function makeHello(s: Side, platform: Uint8Array, peer: Uint8Array): { e: bigint; hello: Hello } {
  if (!s.driver.mit) throw new AvatarProtocolError("UNKNOWN_MIT", "the avatar's driver has no MIT");
  const e = randomScalar();
  const owner = ownerOf(s.credential);
  return {
    e,
    hello: {
      avatarId: s.credential.avatarId,
      ownerSerial: owner.serial,
      ownerPk: owner.pk,
      driverSerial: s.driver.mit.serial,
      warrant: s.credential.warrant,
      o: s.credential.o,
      ephemeral: encodePoint(mulBase(e)),
      nonce: randomBytes(32),
      platform,
      peer,
    },
  };
}

/**
 * A hello must be for this platform and this avatar (session 17): the responder refuses message 1
 * and the initiator message 2 that name another platform, or another avatar than this side's.
 * @throws AvatarProtocolError(WRONG_PLATFORM), (WRONG_PEER)
 */
function requireAddressed(fn: string, peer: Hello, platform: Uint8Array, own: Uint8Array): void {
  if (!equalBytes(peer.platform, platform))
    throw new AvatarProtocolError(
      "WRONG_PLATFORM",
      `${fn}: the peer's hello is for platform ${short(peer.platform)}, this side is on platform ${short(platform)} (relayed?)`,
    );
  if (!equalBytes(peer.peer, own))
    throw new AvatarProtocolError(
      "WRONG_PEER",
      `${fn}: the peer's hello is addressed to avatar ${short(peer.peer)}, not to this avatar ${short(own)} (misdelivered?)`,
    );
}

function refuseSelf(own: Pick<Hello, "avatarId">, peer: Pick<Hello, "avatarId">): void {
  if (equalBytes(own.avatarId, peer.avatarId))
    throw new AvatarProtocolError("REFLECTION", "the peer is this avatar itself (a reflected hello)");
}

/** A side signs only if its driver holds the warrant's proxy key. */
function requireSigner(s: Side): void {
  if (!s.driver.keys.pk.equals(s.credential.warrant.proxy))
    throw new AvatarProtocolError("NOT_DRIVER", "the presented owner or driver is not the avatar's on-chain");
}

function ecdh(e: bigint, peerEphemeral: Uint8Array): Uint8Array {
  try {
    return encodePoint(mul(decodePoint(peerEphemeral), e));
  } catch {
    throw new AvatarProtocolError("BAD_RESPONSE", "the peer's ephemeral key is not a valid point");
  }
}

/**
 * Message 1: the initiator's hello (its avatar, owner, driver, warrant, ephemeral key, nonce, the
 * platform it is on and the avatar it is addressed to).
 * @param ctx - names this side's platform ({@link platformOf})
 * @param peer - the avatar id of the responder this side means to authenticate: any other is refused
 */
export function authHello(ctx: PlatformContext, side: Side, peer: Uint8Array): { state: AuthState; hello: Hello } {
  if (!(peer instanceof Uint8Array) || peer.length !== 32)
    throw new AvatarProtocolError("WRONG_PEER", "authHello: the responder's avatar id must be 32 bytes");
  const { e, hello } = makeHello(side, platformOf(ctx), peer);
  refuseSelf(hello, { avatarId: peer });
  return { state: { side, e, hello }, hello };
}

/**
 * The responder checks the initiator's hello and answers with its own hello, its driver's proxy
 * signature on the transcript and its key-confirmation tag (responder label).
 */
export async function authRespond(ctx: AuthContext, side: Side, peer: Hello): Promise<{ state: AuthState; reply: AuthReply }> {
  const platform = platformOf(ctx);
  requireAddressed("authRespond", peer, platform, side.credential.avatarId);
  const { e, hello } = makeHello(side, platform, peer.avatarId);
  await checkHello(ctx, peer);
  refuseSelf(hello, peer);
  requireSigner(side);
  const t = handshakeTranscript(peer, hello);
  const msg: ProxyMessage = { type: Scope.challenge, time: ctx.now(), body: t };
  const key = sessionKey(ecdh(e, peer.ephemeral), t);
  const proxySig = cpsPSign(side.driver.keys, side.credential.warrant, side.credential.o, msg);
  return {
    state: { side, e, hello, peer, t, key, msg, ownSig: proxySig },
    reply: { hello, time: msg.time, proxySig, confirm: confirmTag(key, CONFIRM_LABEL.responder, t) },
  };
}

function evidenceOf(h: Hello, message: ProxyMessage, proxySig: G1Point, handshake: Handshake): Evidence {
  return {
    avatarId: h.avatarId,
    ownerSerial: h.ownerSerial,
    ownerPk: h.ownerPk,
    driverSerial: h.driverSerial,
    warrant: h.warrant,
    o: h.o,
    message,
    proxySig,
    handshake,
  };
}

/** The reporter's side of the handshake, for evidence about `peer` (see {@link Handshake}). */
function handshakeOf(peer: Hello, peerInitiated: boolean, own: Hello, ownSig: G1Point): Handshake {
  return {
    accusedInitiated: peerInitiated,
    accusedEphemeral: peer.ephemeral,
    accusedNonce: peer.nonce,
    reporter: own,
    reporterSig: ownSig,
  };
}

/**
 * The initiator checks the reply (the responder's hello, its signature on the transcript, its
 * confirmation tag) and finishes with its own signature and tag (initiator label).
 * @returns the session key, message 3, and the evidence about the responder
 */
export async function authFinish(
  ctx: AuthContext,
  state: AuthState,
  reply: AuthReply,
): Promise<{ key: Uint8Array; finish: AuthFinish; evidenceAboutPeer: Evidence }> {
  // one hello, one session: a hello a relay delivered twice has two replies; only the first is
  // finished (a retry of it gets the same answer, nothing signed again), any other is refused
  if (state.finished) {
    const k = replyKey(reply);
    if (k !== "" && k === replyKey(state.finished.reply)) return state.finished.result;
    throw new AvatarProtocolError(
      "INVALID_STATE",
      "authFinish: this hello was finished already with another reply (one hello, one session)",
    );
  }
  const peer = reply.hello;
  // this side's own platform, and the responder it addressed: a reply from any other is refused
  if (!equalBytes(state.hello.platform, platformOf(ctx)))
    throw new AvatarProtocolError("WRONG_PLATFORM", "authFinish: this hello was made for another platform than this side's");
  requireAddressed("authFinish", peer, state.hello.platform, state.hello.avatarId);
  if (!equalBytes(peer.avatarId, state.hello.peer))
    throw new AvatarProtocolError(
      "WRONG_PEER",
      `authFinish: the reply comes from avatar ${short(peer.avatarId)}, not from ${short(state.hello.peer)}, the avatar this hello was addressed to`,
    );
  await checkHello(ctx, peer);
  refuseSelf(state.hello, peer);
  requireFresh("authFinish", reply.time, ctx.now());
  const t = handshakeTranscript(state.hello, peer);
  const msg: ProxyMessage = { type: Scope.challenge, time: reply.time, body: t };
  verifyPeer(peer, msg, reply.proxySig, "B");
  const key = sessionKey(ecdh(state.e, peer.ephemeral), t);
  if (!equalBytes(reply.confirm, confirmTag(key, CONFIRM_LABEL.responder, t)))
    throw new AvatarProtocolError("KEY_CONFIRMATION", "the responder's key confirmation does not verify");
  const s = state.side;
  requireSigner(s);
  const proxySig = cpsPSign(s.driver.keys, s.credential.warrant, s.credential.o, msg);
  const result = {
    key,
    finish: { proxySig, confirm: confirmTag(key, CONFIRM_LABEL.initiator, t) },
    evidenceAboutPeer: evidenceOf(peer, msg, reply.proxySig, handshakeOf(peer, false, state.hello, proxySig)),
  };
  state.finished = { reply: snapshot(reply), result };
  return result;
}

/** A copy of plain data no caller holds (byte arrays copied, Buffers included; points and numbers shared: immutable). */
function snapshot<T>(x: T): T {
  if (x instanceof Uint8Array) return Uint8Array.from(x) as T;
  if (Array.isArray(x)) return x.map(snapshot) as T;
  if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype)
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, snapshot(v)])) as T;
  return x;
}

/** A reply's identity for {@link AuthState.finished}: its wire bytes, or "" for one that has none (never equal to a finished one). */
function replyKey(reply: AuthReply): string {
  try {
    return toHex(encodeAuthReply(reply));
  } catch {
    return "";
  }
}

/**
 * The responder checks message 3. The initiator signs the responder's message 2 (its time t0), so
 * a finish held back would verify whenever it came (h16-red R3): the responder accepts it only
 * while message 2 is fresh by its own clock (CHALLENGE_TTL) and the chain still verifies the
 * initiator's avatar now (checkHello again: not expired, revoked or replaced since message 1).
 * @returns the session key and the evidence about the initiator
 * @throws AvatarProtocolError(STALE_TIME) for a finish more than CHALLENGE_TTL after message 2, or
 *   checkHello's reasons (EXPIRED, NOT_VERIFIED, NO_DRIVER, STALE_WARRANT, MIT_REVOKED...)
 */
export async function authComplete(
  ctx: AuthContext,
  state: AuthState,
  finish: AuthFinish,
): Promise<{ key: Uint8Array; evidenceAboutPeer: Evidence }> {
  const { peer, t, key, msg, ownSig } = state;
  if (!peer || !t || !key || !msg || !ownSig) throw new AvatarProtocolError("INVALID_STATE", "authComplete: this side has not responded");
  requireFresh("authComplete", msg.time, ctx.now());
  await checkHello(ctx, peer);
  verifyPeer(peer, msg, finish.proxySig, "A");
  if (!equalBytes(finish.confirm, confirmTag(key, CONFIRM_LABEL.initiator, t)))
    throw new AvatarProtocolError("KEY_CONFIRMATION", "the initiator's key confirmation does not verify");
  return { key, evidenceAboutPeer: evidenceOf(peer, msg, finish.proxySig, handshakeOf(peer, true, state.hello, ownSig)) };
}

/**
 * Mutual authentication (Appendix B-C) between two avatars, human- or AI-driven, A the initiator
 * and B the responder: hello, reply,
 * finish (authHello, authRespond, authFinish, authComplete). Each side verifies the other's
 * driver, warrant (PhID) and a proxy signature on the transcript (VID), then both hold an ECDH
 * session key confirmed in both directions. Each side has the platform stamp the evidence it
 * keeps (a receipt: the time tracing relies on after a revocation).
 * @returns the session key (same on both sides), and what each side keeps as evidence for tracing
 */
export async function mutualAuth(
  ctx: AvatarContext,
  A: Side,
  B: Side,
): Promise<{ key: Uint8Array; evidenceAboutA: Evidence; evidenceAboutB: Evidence }> {
  const a = authHello(ctx, A, B.credential.avatarId);
  const b = await authRespond(ctx, B, a.hello);
  const f = await authFinish(ctx, a.state, b.reply);
  const c = await authComplete(ctx, b.state, f.finish);
  if (!equalBytes(f.key, c.key)) throw new AvatarProtocolError("KEY_CONFIRMATION", "the session keys differ");
  return { key: f.key, evidenceAboutA: stampEvidence(ctx, c.evidenceAboutPeer), evidenceAboutB: stampEvidence(ctx, f.evidenceAboutPeer) };
}

/** Evidence about an avatar: its identity parameters and its driver's signature on an interaction. */
export type Evidence = {
  avatarId: Uint8Array;
  ownerSerial: Uint8Array;
  ownerPk: G2Point;
  driverSerial: Uint8Array;
  warrant: Warrant;
  o: OriginalSignature;
  message: ProxyMessage;
  proxySig: G1Point;
  /**
   * The handshake a transcript signature (type challenge) comes from, and the reporter's side of
   * it: required for such evidence (h11-red2 V1, see {@link Handshake}).
   */
  handshake?: Handshake;
  /** the platform's receipt: when the platform saw this evidence (its clock, not the signer's) */
  receipt?: Receipt;
};

/**
 * The reporter's part of mutual-authentication evidence: what the IdP needs to rebuild the
 * transcript t the accused signed (the accused's ephemeral key and nonce, which side began) and
 * the reporter's own hello and its driver's proxy signature on the same message (type challenge,
 * same time, body t). Someone who replays a hello seen on the wire gets the responder's signature
 * on t but cannot sign t as the replayed avatar, so a half-open handshake is no evidence.
 */
export type Handshake = {
  /** true if the accused sent message 1 (its hello comes first in t) */
  accusedInitiated: boolean;
  accusedEphemeral: Uint8Array;
  accusedNonce: Uint8Array;
  reporter: Hello;
  reporterSig: G1Point;
  /**
   * For interaction evidence only (a message of type interaction, body t || payload): the time of
   * the transcript message both sides signed in the handshake, and the accused's own signature on
   * it (type challenge, that time, body t). The reporter's signature is on the same message.
   */
  session?: { time: number; accusedSig: G1Point };
};

/** Bytes of a handshake transcript t (keccak256), the prefix of every interaction message's body. */
export const TRANSCRIPT_BYTES = 32;

/**
 * A side signs an interaction message inside its authenticated session with a peer (h11-red2 V1):
 * body = t || payload, t the session's transcript (the body of `session`, the evidence about the
 * peer that mutual authentication gave this side). Bound to t, the message is evidence only with
 * that handshake and the peer's signature on t: whoever else holds it cannot have it traced.
 * @throws AvatarProtocolError(BAD_EVIDENCE) if `session` is not a handshake's evidence, (NOT_DRIVER) if this side's driver is not its warrant's proxy
 */
export function signInteraction(
  side: Side,
  session: Evidence,
  payload: Uint8Array,
  time: number,
): { message: ProxyMessage; proxySig: G1Point } {
  const t = sessionTranscript("signInteraction", session);
  requireSigner(side);
  const message: ProxyMessage = { type: Scope.interaction, time, body: concat(t, payload) };
  return { message, proxySig: cpsPSign(side.driver.keys, side.credential.warrant, side.credential.o, message) };
}

function sessionTranscript(fn: string, session: Evidence): Uint8Array {
  if (
    session.message.type !== Scope.challenge ||
    !session.handshake ||
    session.handshake.session ||
    session.message.body.length !== TRANSCRIPT_BYTES
  )
    throw new AvatarProtocolError("BAD_EVIDENCE", `${fn}: the session evidence is not a handshake's transcript evidence`);
  return session.message.body;
}

/**
 * The receiver's evidence of an interaction message its peer signed in their session: the
 * session's transcript evidence about the peer (from mutual authentication) with the message and
 * the peer's signature on it; the peer's signature on t moves into the handshake's session part.
 * Unstamped: the holder has the platform stamp it ({@link stampEvidence}). The message's time is
 * the peer's: it must be within CHALLENGE_TTL of this side's clock, and the chain must still
 * verify the peer's avatar (checkHello), or a proxy whose delegation ended mid-session would sign
 * backdated messages that trace nobody once stamped.
 * @throws AvatarProtocolError(BAD_EVIDENCE) if the message is not an interaction of this session, (BAD_SIGNATURE) if the peer's signature does not verify, (STALE_TIME) if its time is not fresh, or checkHello's reasons (EXPIRED, NO_DRIVER...)
 */
export async function interactionEvidence(
  ctx: Pick<AvatarContext, "registry" | "now">,
  session: Evidence,
  message: ProxyMessage,
  proxySig: G1Point,
): Promise<Evidence> {
  const t = sessionTranscript("interactionEvidence", session);
  if (message.type !== Scope.interaction || message.body.length < t.length || !equalBytes(message.body.subarray(0, t.length), t))
    throw new AvatarProtocolError("BAD_EVIDENCE", "interactionEvidence: the message is not an interaction of this session");
  if (message.time < session.message.time)
    throw new AvatarProtocolError("BAD_EVIDENCE", "interactionEvidence: the message predates its session");
  if (!cpsPVerify(session.ownerPk, session.warrant, session.o, message, proxySig))
    throw new AvatarProtocolError("BAD_SIGNATURE", "interactionEvidence: the peer's signature on the message does not verify");
  // the peer chose the message's time (h16-red R1/R3's class): accepted only if it is fresh by this
  // side's clock and the chain still verifies the peer's avatar now (not expired, revoked or replaced)
  requireFresh("interactionEvidence", message.time, ctx.now());
  await checkHello(ctx, session);
  return {
    avatarId: session.avatarId,
    ownerSerial: session.ownerSerial,
    ownerPk: session.ownerPk,
    driverSerial: session.driverSerial,
    warrant: session.warrant,
    o: session.o,
    message,
    proxySig,
    handshake: { ...session.handshake!, session: { time: session.message.time, accusedSig: session.proxySig } },
  };
}

/**
 * The hash of evidence without its receipt: keccak256 of its canonical encoding (avatar, owner
 * serial and key, driver serial, every warrant field, the original signature, the message's type,
 * time and body, the proxy signature). The platform's receipt signs this hash, so it cannot be in it.
 */
export function evidenceHash(e: Evidence): Uint8Array {
  return keccak_256(encodeEvidence({ ...e, receipt: undefined }));
}

/**
 * The hash a trace case is filed with (on-chain `TraceCase.evidenceHash`): keccak256 of the whole
 * encoded evidence, receipt included, so the case commits to everything its verdict reads
 * (h7-audit finding T1). Only the evidence filed opens the case.
 */
export function caseHash(e: Evidence): Uint8Array {
  return keccak_256(encodeEvidence(e));
}

/** The holder of evidence shows it to the platform, which stamps it with its own clock. */
export function stampEvidence(ctx: Pick<AvatarContext, "idp" | "now"> & PlatformContext, e: Evidence): Evidence {
  requireOwnPlatform("stampEvidence", e, platformOf(ctx));
  return { ...e, receipt: ctx.idp.stamp(evidenceHash(e), ctx.now()) };
}

/**
 * Tracing (§V-B1): the reporter files evidence on-chain; the IdP verifies it — the owner's MIT
 * and key, the original signature on the warrant, the driver's proxy signature on the interaction,
 * and that the driver held the avatar under that warrant at that time (a platform receipt, not
 * the signer's clock, when the delegation has since ended) — then maps the warrant's iris
 * commitment to the manipulator and records a verdict commitment (never the identity). The salt
 * stays in the IdP's keystore: auditVerdict opens it.
 * @returns the traced user (for the IdP), the case id and the verdict commitment
 * @throws AvatarProtocolError when the evidence does not verify (the verdict "rejected" is recorded)
 */
export async function trace(
  ctx: AvatarContext,
  reporterRegistry: MITRegistry,
  e: Evidence,
): Promise<{ caseId: bigint; uid: string; realId: string; gas: bigint; verdictCommitment: Uint8Array }> {
  const { caseId, gas } = await requestTrace(reporterRegistry, e);
  const t = await judgeTrace(ctx, caseId, e);
  return { ...t, gas: gas + t.gas };
}

/**
 * A trace case's on-chain status (`IMITRegistry.TraceStatus`). A reporter's own case (V-B1) is
 * `Open` until the IdP judges it: `InteractionTraced` (an authentic interaction, traced: no verdict
 * of misbehaviour) or `Rejected`. A case an avatar dispute claimed (`openAvatarDispute`) is
 * `AwaitingCourt` until the dispute's final verdict: upheld it becomes `CourtUpheld` and the IdP
 * judges it (`CourtTraced` or `Rejected`); otherwise `Dismissed`, closed untraced.
 */
export const TraceStatus = {
  None: 0,
  Open: 1,
  InteractionTraced: 2,
  Rejected: 3,
  AwaitingCourt: 4,
  CourtUpheld: 5,
  CourtTraced: 6,
  Dismissed: 7,
} as const;

/** How a trace case's status reads in a message; keyed by TraceStatus, so a status added there without a name fails to compile. */
const TRACE_STATUS_NAMES: { [K in keyof typeof TraceStatus]: string } = {
  None: "none",
  Open: "open",
  InteractionTraced: "interaction traced",
  Rejected: "rejected",
  AwaitingCourt: "awaiting a court",
  CourtUpheld: "upheld by a court",
  CourtTraced: "traced by a court",
  Dismissed: "dismissed",
};

/** A trace case's status (the registry's number) as words, e.g. 4 -> "awaiting a court"; an unknown number as "status N". */
export function traceStatusName(status: number | bigint): string {
  const key = (Object.keys(TraceStatus) as (keyof typeof TraceStatus)[]).find((k) => TraceStatus[k] === Number(status));
  return key ? TRACE_STATUS_NAMES[key] : `status ${status}`;
}

/** True iff the status is a trace on-chain (a reporter's `InteractionTraced` or a court's `CourtTraced`). */
export const isTraced = (status: bigint | number) =>
  Number(status) === TraceStatus.InteractionTraced || Number(status) === TraceStatus.CourtTraced;

/**
 * The reporter's step of tracing: files the evidence's case hash ({@link caseHash}) on-chain.
 * @param overrides - the transaction's nonce, when the caller pinned it (a journalled filing: clients.fileTraceOnce)
 * @returns the case id
 */
export async function requestTrace(
  reporterRegistry: MITRegistry,
  e: Evidence,
  overrides: { nonce?: number } = {},
): Promise<{ caseId: bigint; gas: bigint }> {
  const tx = await minedReceipt(reporterRegistry.requestTrace(toHex(e.avatarId), toHex(caseHash(e)), overrides));
  const ev = tx!.logs.map((l) => reporterRegistry.interface.parseLog(l)).find((l) => l?.name === "TraceRequested");
  return { caseId: ev!.args.caseId as bigint, gas: tx!.gasUsed };
}

/**
 * The IdP's step of tracing (see {@link trace}) for an open case whose on-chain hash is this
 * evidence's {@link caseHash}: verify, map to the user, record the verdict. Any other evidence
 * (a copy with one field or the receipt changed) is refused before anything is recorded, so a
 * Rejected verdict only ever comes from judging the evidence the reporter filed.
 * @throws AvatarProtocolError(UNKNOWN_CASE) if the case is not open or names other evidence (nothing recorded)
 */
export async function judgeTrace(
  ctx: AvatarContext,
  caseId: bigint,
  e: Evidence,
): Promise<{ caseId: bigint; uid: string; realId: string; gas: bigint; verdictCommitment: Uint8Array }> {
  const c = await ctx.registry.traceCase(caseId);
  const status = Number(c.status);
  // A case an avatar dispute claimed waits for the court's final verdict (nothing is recorded):
  // tracing it before would answer a claim the jurors may still reject; a dismissed one never is.
  if (status === TraceStatus.AwaitingCourt)
    throw new AvatarProtocolError("AWAITING_COURT", `judgeTrace: case ${caseId} awaits the final verdict of dispute #${c.disputeId}`);
  if (status === TraceStatus.Dismissed)
    throw new AvatarProtocolError("DISMISSED", `judgeTrace: case ${caseId} was closed untraced by dispute #${c.disputeId}`);
  const courtUpheld = status === TraceStatus.CourtUpheld;
  if (
    (status !== TraceStatus.Open && !courtUpheld) ||
    !equalBytes(fromHex(c.evidenceHash, 32), caseHash(e)) ||
    !equalBytes(fromHex(c.avatarId, 32), e.avatarId)
  )
    throw new AvatarProtocolError("UNKNOWN_CASE", `judgeTrace: case ${caseId} is not open for this evidence`);
  // evidence of a session held on another platform is that platform's to judge: refused with
  // nothing recorded (a Rejected verdict here would close the case for the platform it belongs to)
  requireOwnPlatform("judgeTrace", e, platformOf(ctx));
  const reject = async (reason: string, message: string): Promise<never> => {
    await minedReceipt(ctx.registry.recordVerdict(caseId, false, "0x" + "00".repeat(32)));
    throw new AvatarProtocolError(reason, `trace: ${message}`);
  };
  const ownerMit = await ctx.registry.mit(toHex(e.ownerSerial));
  if (Number(ownerMit.status) === 0 || !equalBytes(fromHex(ownerMit.keyId, 32), keyId(e.ownerPk)))
    return reject("KEY_MISMATCH", "the owner key is not the owner MIT's");
  if (!equalBytes(e.warrant.avatarId, e.avatarId)) return reject("BAD_EVIDENCE", "the warrant is for another avatar");
  if (!cpsPVerify(e.ownerPk, e.warrant, e.o, e.message, e.proxySig))
    return reject("BAD_SIGNATURE", "the evidence's signatures do not verify");
  // The driver must have held the avatar under this warrant when it signed.
  const driverMit = await ctx.registry.mit(toHex(e.driverSerial));
  if (!equalBytes(fromHex(driverMit.keyId, 32), keyId(e.warrant.proxy)))
    return reject("KEY_MISMATCH", "the warrant's proxy is not the driver's key");
  const held = await heldUnderWarrant(ctx, e);
  if (!held) return reject("NOT_DRIVER", "the driver did not hold the avatar under this warrant at that time");
  // evidence the reporter could hold without an authenticated interaction traces nobody (h11-red2
  // V1): a transcript signature, or an interaction message inside that session, with the
  // reporter's side of the handshake; any other type (a login, a combined type) is no evidence
  if (e.message.type === Scope.login)
    return reject("BAD_EVIDENCE", "a login signature (made to the platform) is no evidence of an interaction");
  if (e.message.type !== Scope.challenge && e.message.type !== Scope.interaction)
    return reject(
      "BAD_EVIDENCE",
      `a message of type ${e.message.type} is no evidence of an interaction (only a transcript or an interaction)`,
    );
  const why = await handshakeFault(ctx, e);
  if (why) return reject(why[0], why[1]);
  // one interaction, one trace (h11-red2 V2): verified evidence of a signed message of this
  // avatar that a case traced already is refused, naming that case. The same case again (a retry
  // after a crash between the keystore and the chain) is judged again. The keystore keeps one slot
  // per kind of trace (no chain read): a reporter's case and a court's.
  const key = tracedEvidenceKey(e);
  const slots = ctx.idp.tracedCasesOf(key);
  // A keystore written before the slots kept one case per key of either kind: its status says which.
  if (slots.legacy !== undefined && slots.legacy !== caseId) {
    const s = Number((await ctx.registry.traceCase(slots.legacy)).status);
    if (s === TraceStatus.Open || s === TraceStatus.InteractionTraced) slots.reporter ??= slots.legacy;
    else slots.court ??= slots.legacy;
  }
  // A keystore written before s24-fxa made the slot final before the write: a slot of another case
  // that the chain does not show traced was never mined (refused, or a crash): it is pending, and
  // decided as such below (one chain read, only when the evidence has a slot of another case).
  for (const by of ["reporter", "court"] as const) {
    const p = slots[by];
    if (p === undefined || p === caseId || isTraced((await ctx.registry.traceCase(p)).status)) continue;
    ctx.idp.unrecordTraced(key, p, by);
    ctx.idp.beginTrace(key, p, by);
    slots[by] = undefined;
  }
  // A trace of another case on this evidence whose verdict was sent but not seen mined (a crash
  // between the keystore and the chain): the chain's status decides it (s24-rta R3). Mined: it is
  // final. Still judgeable: its write may yet land, so this case waits (rerun that case first).
  // Anything else: its write can never be mined, and the slot goes.
  const tracing = ctx.idp.tracingCasesOf(key);
  for (const by of ["reporter", "court"] as const) {
    const p = tracing[by];
    if (p === undefined || p === caseId) continue;
    const s = Number((await ctx.registry.traceCase(p)).status);
    if (isTraced(s)) {
      ctx.idp.settleTrace(key, p, by);
      slots[by] ??= p;
    } else if (s === (by === "court" ? TraceStatus.CourtUpheld : TraceStatus.Open))
      throw new AvatarProtocolError(
        "DUPLICATE_EVIDENCE",
        `judgeTrace: this evidence is being traced in case #${p}, whose verdict is not on-chain yet: judge case #${p} again first`,
      );
    else ctx.idp.dropTrace(key, p, by);
  }
  const other = (c: bigint | undefined) => (c !== undefined && c !== caseId ? c : undefined);
  if (courtUpheld) {
    // A court's upheld verdict on evidence already traced as a reporter's case (the accused, who
    // holds the evidence too, can have it judged between the claimant's filing and the dispute's
    // opening) is traced: the verdict is a new statement, and no new identity is revealed. Evidence
    // a court traced already is one verdict, never a second (h14-red2 G2): the IdP rejects the case
    // on-chain (Rejected, naming the earlier case here), so that it does not stay CourtUpheld for
    // ever (session 15; docs/specs/disputes.md, "One interaction, one court verdict").
    const earlier = other(slots.court);
    if (earlier !== undefined)
      return reject("DUPLICATE_EVIDENCE", `this evidence was traced already as a court's verdict in case #${earlier}`);
  } else {
    // A reporter's case on evidence traced already (by a reporter or a court) records nothing: the
    // case stays Open (a court may still hear it; upheld, the rule above closes it).
    const earlier = other(slots.court) ?? other(slots.reporter);
    if (earlier !== undefined)
      throw new AvatarProtocolError("DUPLICATE_EVIDENCE", `judgeTrace: this evidence was traced already in case #${earlier}`);
  }
  let t: ReturnType<IdentityProvider["traceCommitment"]>;
  try {
    t = ctx.idp.traceCommitment(e.warrant.irisCommitment);
  } catch {
    return reject("UNTRACEABLE", "no enrolled user behind this warrant");
  }
  // pending until mined (s24-rta R3: the slot was final before the write, so a write the chain
  // refused, a dispute's bindCase mined in between, left "traced in case #N" for a case never traced)
  const by = courtUpheld ? "court" : "reporter";
  ctx.idp.beginTrace(key, caseId, by);
  await ctx.beforeSend?.({ kind: "recordVerdict", caseId }); // the verdict's salt and the pending slot are in ctx.idp now
  let gas: bigint;
  try {
    gas = await mined(ctx.registry.recordVerdict(caseId, true, toHex(t.verdictCommitment)));
  } catch (err) {
    // refused by the chain: nothing of this attempt stays. Any other failure (the node unreachable,
    // the transaction dropped) keeps the pending slot: the write may have landed, and a rerun of
    // the case, or another case on this evidence, reads the chain's status.
    if (refusedByChain(err)) {
      // this attempt's verdict is not on-chain; but the refusal may be this attempt's only: an earlier
      // send for this case whose outcome was unknown (its slot kept pending) may have been mined since
      // (CaseClosed for this one). The chain decides: traced, the slot is final (s24-review M).
      ctx.idp.forgetVerdict(t.verdictCommitment);
      if (isTraced((await ctx.registry.traceCase(caseId)).status)) ctx.idp.settleTrace(key, caseId, by);
      else ctx.idp.dropTrace(key, caseId, by);
      await ctx.afterSend?.({ kind: "recordVerdict", caseId }, "refused");
    }
    throw err;
  }
  ctx.idp.settleTrace(key, caseId, by);
  await ctx.afterSend?.({ kind: "recordVerdict", caseId }, "mined");
  return { caseId, uid: t.uid, realId: t.realId, gas, verdictCommitment: t.verdictCommitment };
}

/**
 * What makes one piece of evidence the same as another for tracing (h11-red2 V2): keccak256 of a
 * tag, the accused avatar, the warrant's h, the driver's serial and the message the driver signed
 * (type u8, time u64, body). The signature, the receipt and the reporter's part are left out: a
 * re-stamped copy, or the same signed message filed by someone else, is the same evidence.
 */
export function tracedEvidenceKey(e: Evidence): Uint8Array {
  const time = new Uint8Array(8);
  new DataView(time.buffer).setBigUint64(0, BigInt(e.message.time));
  return keccak_256(
    concat(toBytes("METATRUST-V1-TRACE-KEY"), e.avatarId, e.o.h, e.driverSerial, Uint8Array.of(e.message.type), time, e.message.body),
  );
}

/**
 * Why mutual-authentication evidence (a transcript signature) does not show a handshake the
 * reporter took part in, or undefined if it does (h11-red2 V1). The IdP rebuilds t from the
 * accused's hello (avatar, ephemeral key, nonce, warrant hash) and the reporter's, checks that the
 * accused signed t, and verifies the reporter's own signature on the same message like the
 * accused's: the reporter's owner MIT and key, its warrant for its avatar, its driver's key, and
 * that warrant recorded on-chain for that avatar and driver (a login or a delegation). A replayed
 * hello gets the responder's signature on t, but only the replayed avatar's driver can sign t.
 * Interaction evidence (h11-red2 V1 residual): the message's body must open with that t, be no
 * older than the session, and the handshake's session part must hold the accused's signature on
 * the transcript message (type challenge, the session's time, body t), which the reporter's
 * signature must also be on: a message signed outside a session, or in a session with someone
 * else, traces nobody.
 */
async function handshakeFault(ctx: AvatarContext, e: Evidence): Promise<[string, string] | undefined> {
  const hs = e.handshake;
  const interaction = e.message.type === Scope.interaction;
  if (!hs)
    return interaction
      ? ["BAD_EVIDENCE", "an interaction message without the handshake of its session is no evidence of an interaction"]
      : ["BAD_EVIDENCE", "a transcript signature without the reporter's side of the handshake is no evidence of an interaction"];
  const r = hs.reporter;
  // the accused's hello was addressed to the reporter, on the reporter's platform (both under t)
  const accused = {
    avatarId: e.avatarId,
    ephemeral: hs.accusedEphemeral,
    nonce: hs.accusedNonce,
    o: e.o,
    platform: r.platform,
    peer: r.avatarId,
  } as Hello;
  if (!equalBytes(r.peer, e.avatarId)) return ["BAD_EVIDENCE", "the reporter's hello is addressed to another avatar than the accused"];
  const t = hs.accusedInitiated ? handshakeTranscript(accused, r) : handshakeTranscript(r, accused);
  // the message both sides signed in the handshake: the evidence's own (a transcript signature),
  // or, for an interaction message (body t || payload), the session's, which the accused signed too
  let session: ProxyMessage = e.message;
  if (interaction) {
    if (!hs.session)
      return ["BAD_EVIDENCE", "an interaction message without the accused's signature on its session's transcript is no evidence"];
    if (e.message.body.length < t.length || !equalBytes(e.message.body.subarray(0, t.length), t))
      return ["BAD_EVIDENCE", "the interaction message is not in the session of the handshake shown"];
    if (e.message.time < hs.session.time) return ["BAD_EVIDENCE", "the interaction message predates its session"];
    session = { type: Scope.challenge, time: hs.session.time, body: t };
  } else {
    if (hs.session) return ["BAD_EVIDENCE", "a transcript signature's handshake carries a session part (interaction evidence only)"];
    if (!equalBytes(e.message.body, t)) return ["BAD_EVIDENCE", "the signed message is not the transcript of the handshake shown"];
  }
  if (equalBytes(r.avatarId, e.avatarId)) return ["BAD_EVIDENCE", "the reporter's avatar is the accused avatar"];
  if (interaction && !cpsPVerify(e.ownerPk, e.warrant, e.o, session, hs.session!.accusedSig))
    return ["BAD_SIGNATURE", "the accused's signature on its session's transcript does not verify"];
  const ownerMit = await ctx.registry.mit(toHex(r.ownerSerial));
  if (Number(ownerMit.status) === 0 || !equalBytes(fromHex(ownerMit.keyId, 32), keyId(r.ownerPk)))
    return ["KEY_MISMATCH", "the reporter's owner key is not its owner MIT's"];
  if (!equalBytes(r.warrant.avatarId, r.avatarId)) return ["BAD_EVIDENCE", "the reporter's warrant is for another avatar"];
  if (!cpsPVerify(r.ownerPk, r.warrant, r.o, session, hs.reporterSig))
    return ["BAD_SIGNATURE", "the reporter's signature on the transcript does not verify"];
  const driverMit = await ctx.registry.mit(toHex(r.driverSerial));
  if (!equalBytes(fromHex(driverMit.keyId, 32), keyId(r.warrant.proxy)))
    return ["KEY_MISMATCH", "the reporter's warrant's proxy is not its driver's key"];
  if (!(await warrantRecorded(ctx, r.avatarId, r.o.h, r.driverSerial)))
    return ["NOT_DRIVER", "the reporter's warrant was never recorded on-chain for its avatar and driver"];
  return undefined;
}

/** True iff a login or a delegation recorded this warrant (by its hash) for this avatar and driver. */
async function warrantRecorded(
  ctx: AvatarContext,
  avatarId: Uint8Array,
  warrantHash: Uint8Array,
  driverSerial: Uint8Array,
): Promise<boolean> {
  const logins = await ctx.registry.queryFilter(ctx.registry.filters.AvatarLoggedIn(toHex(avatarId)));
  if (logins.some((l) => l.args.warrantHash === toHex(warrantHash) && equalBytes(fromHex(l.args.owner, 32), driverSerial))) return true;
  const dels = await ctx.registry.queryFilter(ctx.registry.filters.AvatarDelegated(undefined, toHex(avatarId)));
  return dels.some((l) => l.args.warrantHash === toHex(warrantHash) && equalBytes(fromHex(l.args.proxySerial, 32), driverSerial));
}

/**
 * When the driver's MIT was revoked (unix seconds, the block of its MitRevoked event), or
 * undefined while it is active. A revoked MIT says the key may be in other hands from then on.
 */
async function mitRevokedAt(ctx: Pick<AvatarContext, "registry">, serial: Uint8Array): Promise<number | undefined> {
  if (Number((await ctx.registry.mit(toHex(serial))).status) !== 2) return undefined;
  const logs = await ctx.registry.queryFilter(ctx.registry.filters.MitRevoked(toHex(serial)));
  if (logs.length === 0) return undefined;
  return (await logs[0].getBlock()).timestamp;
}

/**
 * True iff the evidence carries the platform's receipt, dated no later than `end`, and the
 * message's own time is no later than CHALLENGE_TTL after the receipt. The signer chooses its
 * time and every verifier accepts one up to CHALLENGE_TTL ahead of its clock (requireFresh), so
 * evidence accepted and stamped at once may be dated ahead of its receipt (s21-reda F1: with
 * `message.time <= receipt.time`, a driver that answered 100 s ahead and then had its authority
 * end was traced by nobody). The receipt proves the signature existed by its time.
 */
function receiptBy(ctx: AvatarContext, e: Evidence, end: number): boolean {
  if (!e.receipt || !ctx.idp.checkReceipt(evidenceHash(e), e.receipt)) return false;
  return e.receipt.time <= end && e.message.time <= e.receipt.time + CHALLENGE_TTL;
}

/**
 * Whether the driver held the avatar under the evidence's warrant when it signed. The message
 * time is the signer's own claim (a colluding or stolen key would backdate it), so once the
 * driver's authority has ended only a platform receipt no later than the end dates the evidence.
 * - Login warrant (the owner drives herself): she answers for everything signed with her key
 *   until her MIT is revoked (a key reported stolen); after that, only with a receipt before it.
 * - Delegation: the owner answers for her proxy while the delegation runs: not revoked or
 *   replaced (`revokedAt`), not past the warrant's `notAfter`, the proxy's MIT not revoked
 *   (h9-red: an expired delegation or a stolen proxy key used to trace to the owner), and the
 *   owner's MIT not revoked (s21-reda F2). After the earliest of these ends, only a receipt no
 *   later than it counts (and one up to CHALLENGE_TTL before the message's time, see receiptBy).
 */
async function heldUnderWarrant(ctx: AvatarContext, e: Evidence): Promise<boolean> {
  const now = ctx.now();
  const driverRevoked = await mitRevokedAt(ctx, e.driverSerial);
  const logins = await ctx.registry.queryFilter(ctx.registry.filters.AvatarLoggedIn(toHex(e.avatarId)));
  if (logins.some((l) => l.args.warrantHash === toHex(e.o.h) && equalBytes(fromHex(l.args.owner, 32), e.driverSerial)))
    return driverRevoked === undefined || receiptBy(ctx, e, driverRevoked);
  const dels = await ctx.registry.queryFilter(ctx.registry.filters.AvatarDelegated(undefined, toHex(e.avatarId)));
  for (const l of dels) {
    if (l.args.warrantHash !== toHex(e.o.h) || !equalBytes(fromHex(l.args.proxySerial, 32), e.driverSerial)) continue;
    const d = await ctx.registry.delegation(l.args.delegationId);
    // the owner's MIT revocation ends her answerability too (s21-reda F2): the chain stops
    // verifying the avatar then (isVerified), although revokeMIT leaves the delegation recorded
    const ownerRevoked = await mitRevokedAt(ctx, fromHex(d.originalSerial, 32));
    const ends = [Number(d.notAfter)];
    if (Number(d.revokedAt) !== 0) ends.push(Number(d.revokedAt));
    if (driverRevoked !== undefined) ends.push(driverRevoked);
    if (ownerRevoked !== undefined) ends.push(ownerRevoked);
    const end = Math.min(...ends);
    if (Number(d.revokedAt) === 0 && driverRevoked === undefined && ownerRevoked === undefined && now <= Number(d.notAfter)) return true;
    // ended: only the platform's receipt dates the evidence, and it must precede the end
    if (receiptBy(ctx, e, end)) return true;
  }
  return false;
}

/**
 * The audit path of a verdict: the IdP opens the commitment of a traced case to (UID, salt) from
 * its keystore, and the opening is checked against the chain: it opens the case's commitment, and
 * its UID is the traced avatar's owner's, keccak256("UID" || owner serial) with the serial the
 * chain records for the case's avatar (h14-red F3: a verdict naming another MIT holder passed an
 * audit that checked the commitment only). What the audit proves is which MIT the verdict names;
 * that this MIT is a given person rests on the IdP's word alone (docs/specs/avatars.md).
 * @throws AvatarProtocolError(UNKNOWN_CASE) if the case is not traced, (BAD_OPENING) if the opening
 *   does not match, (FOREIGN_UID) if it names someone other than the avatar's owner
 */
export async function auditVerdict(ctx: Pick<AvatarContext, "registry" | "idp">, caseId: bigint): Promise<VerdictOpening> {
  const c = await ctx.registry.traceCase(caseId);
  if (!isTraced(c.status)) throw new AvatarProtocolError("UNKNOWN_CASE", `auditVerdict: case ${caseId} is not a traced case`);
  const commitment = fromHex(c.verdictCommitment, 32);
  const opening = ctx.idp.openVerdict(commitment);
  const owner = fromHex((await ctx.registry.avatar(c.avatarId)).owner, 32);
  const fault = verdictOpeningFault(commitment, owner, opening);
  if (fault === "bad-opening")
    throw new AvatarProtocolError("BAD_OPENING", `auditVerdict: the opening does not match case ${caseId}'s commitment`);
  if (fault === "foreign-uid")
    throw new AvatarProtocolError(
      "FOREIGN_UID",
      `auditVerdict: case ${caseId}'s verdict names UID ${opening.uid}, not ${uidOf(owner)} of avatar ${c.avatarId}'s owner`,
    );
  return opening;
}

/**
 * Why an opening fails, if it does: `bad-opening` unless (UID, salt) opens the verdict commitment
 * (checked first), `foreign-uid` unless the UID is that of the traced avatar's owner; undefined
 * when it holds. The one check behind {@link verdictOpens} and {@link auditVerdict}.
 * @param verdictCommitment - the case's on-chain commitment
 * @param ownerSerial - the owner serial the chain records for the case's avatar
 * @param o - the opening
 */
export function verdictOpeningFault(
  verdictCommitment: Uint8Array,
  ownerSerial: Uint8Array,
  o: VerdictOpening,
): "bad-opening" | "foreign-uid" | undefined {
  if (o.salt.length !== 32 || !equalBytes(verdictCommitmentOf(o.uid, o.salt), verdictCommitment)) return "bad-opening";
  if (o.uid.toLowerCase() !== uidOf(ownerSerial)) return "foreign-uid";
  return undefined;
}

/**
 * True iff (UID, salt) opens the verdict commitment and the UID is that of the traced avatar's
 * owner (anyone can check an opening shown to them: the owner serial is the case's avatar's
 * on-chain `owner`).
 * @param verdictCommitment - the case's on-chain commitment
 * @param ownerSerial - the owner serial the chain records for the case's avatar
 * @param o - the opening
 */
export function verdictOpens(verdictCommitment: Uint8Array, ownerSerial: Uint8Array, o: VerdictOpening): boolean {
  return verdictOpeningFault(verdictCommitment, ownerSerial, o) === undefined;
}

export { AvatarParty, IdentityProvider, AvatarProtocolError };
