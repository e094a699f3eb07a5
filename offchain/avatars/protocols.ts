/**
 * The avatar paper's protocols (§V, Appendix B) over CPS, with the MIT registry on-chain:
 * MIT issuance, login, delegation, mutual authentication with a session key, and tracing.
 * Messages between parties are plain objects here (each step's checks are what matter); every
 * check that fails throws AvatarProtocolError with a reason, and nothing is recorded on-chain.
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
  encodeSig,
  keyId,
} from "../crypto/cps";
import { encodePoint, mul, mulBase, randomScalar } from "../crypto/group";
import type { ContentStore } from "../storage/content-store";
import { AvatarParty, AvatarProtocolError, IdentityProvider } from "./agents";
import type { SimulatedEye } from "./iris";

/** What the protocols need. */
export type AvatarContext = { registry: MITRegistry; idp: IdentityProvider; store: ContentStore; now: () => number };

/** A driver's credential for an avatar: the warrant it signs under and the original signature. */
export type AvatarCredential = { avatarId: Uint8Array; owner: AvatarParty; driver: AvatarParty; warrant: Warrant; o: OriginalSignature };

const DAY = 86_400;
const CHALLENGE_TTL = 120;

/** The platform server's one-time challenges (a replayed response finds its challenge consumed). */
export class ChallengeBook {
  private readonly open = new Map<string, number>();
  issue(now: number): Uint8Array {
    const c = randomBytes(32);
    this.open.set(toHex(c), now + CHALLENGE_TTL);
    return c;
  }
  consume(c: Uint8Array, now: number): void {
    const exp = this.open.get(toHex(c));
    this.open.delete(toHex(c));
    if (exp === undefined || now > exp)
      throw new AvatarProtocolError("STALE_CHALLENGE", "the challenge is unknown, used or expired (replayed response?)");
  }
}

async function mined(p: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<bigint> {
  return (await (await p).wait())!.gasUsed;
}

/** MIT issuance for a user: enrollment (SIMULATED iris), proof of possession, record on-chain with the public parameters on IPFS. */
export async function issueUserMit(
  ctx: AvatarContext,
  user: AvatarParty,
  realId: string,
  eye: SimulatedEye,
): Promise<{ gas: bigint; cid: string }> {
  const { mit, commitment } = ctx.idp.issueUser(realId, user.keys.pk, user.possession(), eye.capture());
  user.mit = mit;
  user.irisCommitment = commitment;
  const cid = await ctx.store.putJson({
    kind: "user",
    serial: toHex(mit.serial),
    pk: toHex(encodePk(mit.pk)),
    description: mit.description,
  });
  return { gas: await mined(ctx.registry.issueMIT(toHex(mit.serial), toHex(user.keyId), cid)), cid };
}

/** MIT issuance for an AI proxy. */
export async function issueProxyMit(ctx: AvatarContext, proxy: AvatarParty, operator: string): Promise<{ gas: bigint; cid: string }> {
  proxy.mit = ctx.idp.issueProxy(operator, proxy.keys.pk, proxy.possession());
  const cid = await ctx.store.putJson({
    kind: "proxy",
    serial: toHex(proxy.mit.serial),
    pk: toHex(encodePk(proxy.mit.pk)),
    description: proxy.mit.description,
  });
  return { gas: await mined(ctx.registry.issueMIT(toHex(proxy.mit.serial), toHex(proxy.keyId), cid)), cid };
}

async function requireActive(ctx: AvatarContext, serial: Uint8Array, pk: G2Point, who: string): Promise<void> {
  const m = await ctx.registry.mit(toHex(serial));
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
 * @param tamper - test hook to alter the response before the server sees it
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

function buildLoginResponse(
  ctx: AvatarContext,
  user: AvatarParty,
  sample: Uint8Array,
  challenge: Uint8Array,
  avatarId: Uint8Array,
  vidCommitment: Uint8Array,
  now: number,
): LoginResponse {
  const warrant: Warrant = {
    irisCommitment: user.irisCommitment!,
    proxy: user.keys.pk,
    avatarId,
    scope: Scope.all,
    notBefore: now,
    notAfter: now + DAY,
  };
  const o = cpsOSign(user.keys, warrant);
  const message: ProxyMessage = { type: Scope.login, time: now, body: concat(challenge, vidCommitment) };
  return {
    challenge,
    sealedSample: user.sealSample(ctx.idp.channelKey, sample, challenge),
    warrant,
    o,
    message,
    proxySig: cpsPSign(user.keys, warrant, o, message),
    avatarId,
    vidCommitment,
  };
}

/** Step 4: the server verifies and records the login. */
export async function verifyLogin(
  ctx: AvatarContext,
  server: ChallengeBook,
  serial: Uint8Array,
  pk: G2Point,
  r: LoginResponse,
): Promise<{ warrant: Warrant; o: OriginalSignature; gas: bigint }> {
  const now = ctx.now();
  server.consume(r.challenge, now);
  await requireActive(ctx, serial, pk, "the user");
  ctx.idp.matchSample(serial, r.sealedSample, r.challenge);
  if (!equalBytes(r.warrant.irisCommitment, ctx.idp.commitmentOf(serial)))
    throw new AvatarProtocolError("IRIS_MISMATCH", "login: the warrant's iris commitment is not the user's");
  if (!r.warrant.proxy.equals(pk) || !equalBytes(r.message.body.subarray(0, 32), r.challenge))
    throw new AvatarProtocolError("BAD_RESPONSE", "login: the response is not a self-delegation bound to the challenge");
  if (!cpsPVerify(pk, r.warrant, r.o, r.message, r.proxySig))
    throw new AvatarProtocolError("BAD_SIGNATURE", "login: the chameleon proxy signature does not verify");
  const gas = await mined(ctx.registry.recordLogin(toHex(r.avatarId), toHex(serial), toHex(r.o.h), toHex(r.vidCommitment)));
  return { warrant: r.warrant, o: r.o, gas };
}

/**
 * Delegation (Appendix B-B): the user signs a warrant for the proxy's key (OSign), the proxy
 * answers the server's challenge under it (PSign), the server verifies and records; the avatar is
 * now driven by the proxy and the user's own session ends.
 */
export async function delegate(
  ctx: AvatarContext,
  server: ChallengeBook,
  user: AvatarParty,
  proxy: AvatarParty,
  a: { avatarId: Uint8Array; ttl?: number; scope?: number },
): Promise<{ credential: AvatarCredential; gas: bigint; delegationId: bigint }> {
  if (!user.mit || !user.irisCommitment || !proxy.mit) throw new AvatarProtocolError("UNKNOWN_MIT", "delegate: both parties need an MIT");
  const now = ctx.now();
  const challenge = server.issue(now);
  // (3) the original signature on the warrant (iris commitment + proxy key), the proxy's answer
  const warrant: Warrant = {
    irisCommitment: user.irisCommitment,
    proxy: proxy.keys.pk,
    avatarId: a.avatarId,
    scope: a.scope ?? Scope.challenge | Scope.interaction,
    notBefore: now,
    notAfter: now + (a.ttl ?? 30 * DAY),
  };
  const o = cpsOSign(user.keys, warrant);
  const message: ProxyMessage = { type: Scope.challenge, time: now, body: challenge };
  const proxySig = cpsPSign(proxy.keys, warrant, o, message);
  // (4) the server verifies
  server.consume(challenge, ctx.now());
  await requireActive(ctx, user.mit.serial, user.keys.pk, "the user");
  await requireActive(ctx, proxy.mit.serial, proxy.keys.pk, "the proxy");
  const av = await ctx.registry.avatar(toHex(a.avatarId));
  if (!equalBytes(fromHex(av.owner, 32), user.mit.serial))
    throw new AvatarProtocolError("NOT_OWNER", "delegate: the user does not own this avatar");
  if (!equalBytes(warrant.irisCommitment, ctx.idp.commitmentOf(user.mit.serial)))
    throw new AvatarProtocolError("IRIS_MISMATCH", "delegate: the warrant's iris commitment is not the owner's");
  if (!cpsPVerify(user.keys.pk, warrant, o, message, proxySig))
    throw new AvatarProtocolError("BAD_SIGNATURE", "delegate: the chameleon proxy signature does not verify");
  // (5) record: the proxy drives, the user is forced offline
  const tx = await (await ctx.registry.recordDelegation(toHex(a.avatarId), toHex(proxy.mit.serial), toHex(o.h))).wait();
  const ev = tx!.logs.map((l) => ctx.registry.interface.parseLog(l)).find((l) => l?.name === "AvatarDelegated");
  return {
    credential: { avatarId: a.avatarId, owner: user, driver: proxy, warrant, o },
    gas: tx!.gasUsed,
    delegationId: ev!.args.delegationId as bigint,
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
};

/** An avatar's side in mutual authentication: its credential and its driver's keys. */
export type Side = { credential: AvatarCredential; driver: AvatarParty };

function ownerOf(c: AvatarCredential): { serial: Uint8Array; pk: G2Point } {
  if (!c.owner.mit) throw new AvatarProtocolError("UNKNOWN_MIT", "the avatar's owner has no MIT");
  return { serial: c.owner.mit.serial, pk: c.owner.keys.pk };
}

/** Verifies the other side's hello against the chain (avatar record, MITs) and its warrant. */
async function checkHello(ctx: AvatarContext, h: Hello): Promise<void> {
  const av = await ctx.registry.avatar(toHex(h.avatarId));
  if (Number(av.driver) === 0) throw new AvatarProtocolError("NO_DRIVER", "the avatar has no driver on-chain");
  if (!equalBytes(fromHex(av.owner, 32), h.ownerSerial) || !equalBytes(fromHex(av.driverSerial, 32), h.driverSerial))
    throw new AvatarProtocolError("NOT_DRIVER", "the presented owner or driver is not the avatar's on-chain");
  if (!equalBytes(fromHex(av.warrantHash, 32), h.o.h))
    throw new AvatarProtocolError("STALE_WARRANT", "the presented warrant is not the avatar's current one (revoked or replaced)");
  await requireActive(ctx, h.ownerSerial, h.ownerPk, "the owner");
  await requireActive(ctx, h.driverSerial, h.warrant.proxy, "the driver");
  if (!cpsOVerify(h.ownerPk, h.warrant, h.o))
    throw new AvatarProtocolError("BAD_SIGNATURE", "the original signature on the warrant does not verify");
}

const transcript = (a: Hello, b: Hello) =>
  keccak_256(concat(toBytes("METATRUST-V1-AVATAR-AUTH"), a.avatarId, a.ephemeral, a.nonce, a.o.h, b.avatarId, b.ephemeral, b.nonce, b.o.h));

/**
 * Mutual authentication (Appendix B-C) between two avatars, human- or AI-driven: each verifies
 * the other's driver, warrant (PhID) and a proxy signature on the transcript (VID), then both
 * derive an ECDH session key and confirm it.
 * @returns the session key (same on both sides), and what each side keeps as evidence for tracing
 */
export async function mutualAuth(
  ctx: AvatarContext,
  A: Side,
  B: Side,
): Promise<{ key: Uint8Array; evidenceAboutA: Evidence; evidenceAboutB: Evidence }> {
  const now = ctx.now();
  const mk = (s: Side) => {
    const e = randomScalar();
    const owner = ownerOf(s.credential);
    return {
      e,
      hello: {
        avatarId: s.credential.avatarId,
        ownerSerial: owner.serial,
        ownerPk: owner.pk,
        driverSerial: s.driver.mit!.serial,
        warrant: s.credential.warrant,
        o: s.credential.o,
        ephemeral: encodePoint(mulBase(e)),
        nonce: randomBytes(32),
      } as Hello,
    };
  };
  const a = mk(A);
  const b = mk(B);
  await checkHello(ctx, b.hello);
  await checkHello(ctx, a.hello);
  const t = transcript(a.hello, b.hello);
  const msg: ProxyMessage = { type: Scope.challenge, time: now, body: t };
  const sigA = cpsPSign(A.driver.keys, A.credential.warrant, A.credential.o, msg);
  const sigB = cpsPSign(B.driver.keys, B.credential.warrant, B.credential.o, msg);
  if (!cpsPVerify(a.hello.ownerPk, a.hello.warrant, a.hello.o, msg, sigA))
    throw new AvatarProtocolError("BAD_SIGNATURE", "A's proxy signature on the transcript does not verify");
  if (!cpsPVerify(b.hello.ownerPk, b.hello.warrant, b.hello.o, msg, sigB))
    throw new AvatarProtocolError("BAD_SIGNATURE", "B's proxy signature on the transcript does not verify");
  const { decodePoint } = await import("../crypto/group");
  const zA = mul(decodePoint(b.hello.ephemeral), a.e);
  const zB = mul(decodePoint(a.hello.ephemeral), b.e);
  const kA = hkdf(sha256, encodePoint(zA), t, toBytes("METATRUST-V1-AVATAR-SESSION"), 32);
  const kB = hkdf(sha256, encodePoint(zB), t, toBytes("METATRUST-V1-AVATAR-SESSION"), 32);
  // key confirmation
  if (!equalBytes(hmac(sha256, kA, toBytes("confirm-A")), hmac(sha256, kB, toBytes("confirm-A"))))
    throw new AvatarProtocolError("KEY_CONFIRMATION", "the session keys differ");
  const ev = (h: Hello, sig: G1Point): Evidence => ({
    avatarId: h.avatarId,
    ownerSerial: h.ownerSerial,
    ownerPk: h.ownerPk,
    driverSerial: h.driverSerial,
    warrant: h.warrant,
    o: h.o,
    message: msg,
    proxySig: sig,
  });
  return { key: kA, evidenceAboutA: ev(a.hello, sigA), evidenceAboutB: ev(b.hello, sigB) };
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
};

/** The hash of evidence that goes on-chain with the trace request. */
export function evidenceHash(e: Evidence): Uint8Array {
  return keccak_256(
    concat(e.avatarId, e.ownerSerial, e.driverSerial, e.o.h, e.o.r, encodeSig(e.o.sig), keccak_256(e.message.body), encodeSig(e.proxySig)),
  );
}

/**
 * Tracing (§V-B1): the reporter files evidence on-chain; the IdP verifies it — the owner's MIT
 * and key, the original signature on the warrant, the driver's proxy signature on the interaction,
 * and that the driver held the avatar under that warrant at that time — then maps the warrant's
 * iris commitment to the manipulator and records a verdict commitment (never the identity).
 * @returns the traced user (for the IdP) and the case id
 * @throws AvatarProtocolError when the evidence does not verify (the verdict "rejected" is recorded)
 */
export async function trace(
  ctx: AvatarContext,
  reporterRegistry: MITRegistry,
  e: Evidence,
): Promise<{ caseId: bigint; uid: string; realId: string; gas: bigint }> {
  const tx = await (await reporterRegistry.requestTrace(toHex(e.avatarId), toHex(evidenceHash(e)))).wait();
  const ev = tx!.logs.map((l) => ctx.registry.interface.parseLog(l)).find((l) => l?.name === "TraceRequested");
  const caseId = ev!.args.caseId as bigint;
  const reject = async (reason: string, message: string): Promise<never> => {
    await (await ctx.registry.recordVerdict(caseId, false, "0x" + "00".repeat(32))).wait();
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
  let t: ReturnType<IdentityProvider["traceCommitment"]>;
  try {
    t = ctx.idp.traceCommitment(e.warrant.irisCommitment);
  } catch {
    return reject("UNTRACEABLE", "no enrolled user behind this warrant");
  }
  const gas = await mined(ctx.registry.recordVerdict(caseId, true, toHex(t.verdictCommitment)));
  return { caseId, uid: t.uid, realId: t.realId, gas: tx!.gasUsed + gas };
}

async function heldUnderWarrant(ctx: AvatarContext, e: Evidence): Promise<boolean> {
  // A login warrant (self-delegation) or a delegation record with this h, not revoked before the message.
  const logins = await ctx.registry.queryFilter(ctx.registry.filters.AvatarLoggedIn(toHex(e.avatarId)));
  if (logins.some((l) => l.args.warrantHash === toHex(e.o.h) && equalBytes(fromHex(l.args.owner, 32), e.driverSerial))) return true;
  const dels = await ctx.registry.queryFilter(ctx.registry.filters.AvatarDelegated(undefined, toHex(e.avatarId)));
  for (const l of dels) {
    if (l.args.warrantHash !== toHex(e.o.h) || !equalBytes(fromHex(l.args.proxySerial, 32), e.driverSerial)) continue;
    const d = await ctx.registry.delegation(l.args.delegationId);
    if (Number(d.revokedAt) === 0 || e.message.time <= Number(d.revokedAt)) return true;
  }
  return false;
}

export { AvatarParty, IdentityProvider, AvatarProtocolError };
