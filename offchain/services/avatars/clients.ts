/**
 * The client side of the IdP service (issue 19): a user or an AI proxy getting its MIT, a user
 * logging in, a user and her proxy delegating, each from its own machine with its own keystore.
 * The CPS keys are drawn on the client and never leave it; the enrollment, the real identity and
 * every fresh iris sample travel sealed to the IdP's channel key (./wire.ts, "Confidentiality").
 *
 * Every reply must be signed by the account the IdP's signed description names, that account
 * must hold IDP_ROLE on the MIT registry, and the reply must answer this request (inReplyTo).
 * An issuance keeps its keys and its request in the keystore before it is sent, so a crash or a
 * lost reply is retried with the same bytes (the IdP answers a retry from its reply cache, never
 * with a second MIT). A login or a delegation is retried with the same bytes too (the IdP spends
 * a challenge by the hash of the request that used it); if the IdP refuses the challenge as
 * stale (it had expired when a restarted IdP saw the retry), the step starts over once with a new one.
 */
import { abandonPending } from "../pending";
import { faultPoint } from "../faults";
import { forgetNonceOf } from "../../chain/sender";
import type { Provider } from "ethers";
import { checkEndpoint } from "../endpoint";
import { recoverAddress, hexlify } from "ethers";
import type { MITRegistry } from "../../../typechain-types";
import { equalBytes, fromHex, toBytes, toHex } from "../../crypto/bytes";
import { decodePoint, type Point } from "../../crypto/group";
import type { Keystore } from "../../storage/keystore";
import { AvatarParty, AvatarProtocolError, mitDescription } from "../../avatars/agents";
import {
  authComplete,
  authFinish,
  authHello,
  authRespond,
  buildDelegationResponse,
  buildLoginResponse,
  evidenceHash,
  platformId,
  requestTrace,
  isTraced,
  caseHash,
  TraceStatus,
  type AvatarCredential,
  type Evidence,
  type Side,
} from "../../avatars/protocols";
import { receiptDigest } from "../../avatars/agents";
import { encodeDelegationResponse, encodeEvidence, encodeLoginResponse } from "../../avatars/wire";
import { schnorr } from "@noble/curves/secp256k1.js";
import { keccak256 } from "../../crypto/hash";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope, verifyEnvelope, EnvelopeError } from "../envelope";
import { NO_TOKEN, parseEnrolmentToken, tokenSigner } from "../enrolment";
import { fromAccount, freshId } from "../common";
import { getJson, postEnvelope, settlePending, DEFAULT_RETRY, ServiceError, type RetryPolicy } from "../client";
import { idpInfoDigest } from "./idp-service";
import {
  ChallengePurpose,
  IssueKind,
  decodeChallengeReply,
  decodeDelegationAck,
  decodeIssueReply,
  decodeLoginAck,
  decodeReceipt,
  decodeTraceAck,
  encodeChallengeRequest,
  encodeIssueRequest,
  encodeTraceRequest,
  possessionContext,
  type TraceAck,
  type DelegationAck,
  type LoginAck,
} from "./wire";

/** The deployment a client talks in: chain id and the MIT registry (read-only is enough). */
export type IdpDeployment = { chainId: bigint; registry: MITRegistry };

/** The IdP's public description, checked. */
export type IdpInfo = { url: string; account: string; channelKey: Point; receiptKey: Uint8Array };

/**
 * Fetches and checks the IdP's description: signed by its account, for this deployment, and the
 * account holds IDP_ROLE on the MIT registry.
 */
export async function idpInfo(url: string, dep: IdpDeployment): Promise<IdpInfo> {
  const registry = String(dep.registry.target);
  const i = await getJson<{ account: string; channelKey: string; receiptKey: string; registry: string; chainId: string; sig: string }>(
    url,
    "/v1/info",
  );
  if (BigInt(i.chainId) !== dep.chainId || i.registry.toLowerCase() !== registry.toLowerCase())
    throw new EnvelopeError("WRONG_AUDIENCE", `idpInfo: ${url} serves chain ${i.chainId} registry ${i.registry}, not this deployment`);
  const digest = idpInfoDigest(dep.chainId, registry, i.channelKey, i.receiptKey, i.account);
  if (recoverAddress(hexlify(digest), i.sig).toLowerCase() !== i.account.toLowerCase())
    throw new EnvelopeError("BAD_SIGNATURE", `idpInfo: ${url}'s description is not signed by ${i.account}`);
  if (!(await dep.registry.hasRole(await dep.registry.IDP_ROLE(), i.account)))
    throw new EnvelopeError("BAD_SIGNATURE", `idpInfo: ${i.account} does not hold IDP_ROLE on the MIT registry`);
  return { url, account: i.account, channelKey: decodePoint(fromHex(i.channelKey, 33)), receiptKey: fromHex(i.receiptKey, 32) };
}

/** The IdP endpoint announced on-chain, checked (offchain/services/endpoint.ts). */
export async function discoverIdp(dep: IdpDeployment): Promise<string> {
  const [, url] = await dep.registry.idpEndpoint();
  if (!url)
    throw new AvatarProtocolError(
      "UNKNOWN_IDP",
      "discoverIdp: the MIT registry has no IdP endpoint (is `idp:serve` running?); give --idp <url>",
    );
  return checkEndpoint(url, "discoverIdp: the endpoint the IdP announced", dep.chainId);
}

function request(route: number, audience: Uint8Array, body: Uint8Array, session = freshId(), requestId = freshId()) {
  return { kind: Kind.Request, route, audience, session, requestId, issuedAt: Date.now(), inReplyTo: new Uint8Array(32), body };
}

/** The keystore record of a party and of its issuance in flight. */
export const partyRecord = (name: string) => `avatar-party-${name}`;
/** The keystore record of an issuance in flight. */
export const pendingIssue = (name: string) => `avatar-party-${name}-issue`;

/**
 * `idp:issue --abandon`: drops the kept issuance (its keys and request) once the chain shows no MIT
 * for its key and the IdP refuses the kept request (offchain/services/pending.ts).
 * @returns what was done (one line)
 * @throws AbandonRefusedError when it took effect or nothing could be confirmed
 */
export async function abandonIssue(a: Parameters<typeof issueRemote>[0]): Promise<string> {
  const pend = pendingIssue(a.name);
  return abandonPending({
    task: `idp:issue ${a.kind === "user" ? "--user" : "--proxy"} ${a.name}`,
    keystore: a.keystore,
    pending: pend,
    resend: () => issueRemote(a),
    onChain: async () => {
      if (!a.keystore.exists(pend)) return undefined;
      const keyId = toHex(AvatarParty.fromRecord((a.keystore.load(pend) as { party: Record<string, unknown> }).party).keyId);
      const r = a.dep.registry;
      const issued = (await r.queryFilter(r.filters.MitIssued())).find((e) => e.args.keyId.toLowerCase() === keyId.toLowerCase());
      return issued ? `MIT ${issued.args.serial} is on-chain for this key` : undefined;
    },
  });
}

/**
 * Gets an MIT from the IdP service for a new party whose keys are drawn here.
 * @param a.kind - "user" (with its SIMULATED eye's enrollment capture) or "proxy"
 * @param a.label - the user's real identity or the proxy's operator (sealed to the IdP)
 * @returns the party (with its MIT) and the parameters' CID
 */
export async function issueRemote(a: {
  idp: IdpInfo;
  dep: IdpDeployment;
  keystore: Keystore;
  name: string;
  kind: "user" | "proxy";
  label: string;
  enrollment?: Uint8Array;
  /** the enrolment token the IdP's operator issued for this label (`idp:enrol-token`); its key signs the request */
  token?: string;
  retry?: RetryPolicy;
}): Promise<{ party: AvatarParty; cid: string; resumed: boolean }> {
  const audience = audienceOf(a.dep.chainId, String(a.dep.registry.target), "idp");
  const rec = partyRecord(a.name);
  const pend = pendingIssue(a.name);
  if (a.keystore.exists(rec))
    throw new AvatarProtocolError("INVALID_STATE", `issueRemote: "${a.name}" already holds an MIT here; one party, one MIT`);
  let p = a.keystore.exists(pend) ? (a.keystore.load(pend) as { party: Record<string, unknown>; envelope: string }) : undefined;
  const resumed = p !== undefined;
  if (!p) {
    const party = new AvatarParty(a.name);
    const kind = a.kind === "user" ? IssueKind.user : IssueKind.proxy;
    const requestId = freshId();
    const tokenId = a.token ? parseEnrolmentToken(a.token).id : NO_TOKEN;
    const body = encodeIssueRequest({
      kind,
      pk: party.keys.pk,
      // bound to this request: its kind, token, id and IdP
      possession: party.possession(possessionContext(kind, tokenId, requestId, audience)),
      label: a.label,
      enrollment: a.enrollment,
      channelKey: a.idp.channelKey,
      requestId,
      tokenId,
    });
    const signer = a.token ? tokenSigner(a.token, "idp") : { scheme: Scheme.None };
    const env = sealEnvelope(request(Route.IdpIssue, audience, body, freshId(), requestId), signer);
    p = { party: party.toRecord(), envelope: toHex(env) };
    a.keystore.create(pend, p); // the keys before the request: a lost reply is retried, never re-keyed
  }
  const env = fromHex(p.envelope);
  const replyBytes = await postEnvelope(a.idp.url, "/v1/mit/issue", env, a.retry ?? DEFAULT_RETRY).catch((e) => {
    throw settlePending(e, () => a.keystore.remove(pend), `${pend}; run the issuance again to resend it`);
  });
  const reply = openEnvelope(replyBytes);
  verifyEnvelope(reply, { kind: Kind.Reply, route: Route.IdpIssue, audience, sender: fromAccount(a.idp.account), request: env });
  const r = decodeIssueReply(reply.body);
  const party = AvatarParty.fromRecord(p.party);
  // the MIT on-chain must carry this key
  const m = await a.dep.registry.mit(toHex(r.serial));
  if (Number(m.status) !== 1 || !equalBytes(fromHex(m.keyId, 32), party.keyId))
    throw new AvatarProtocolError("KEY_MISMATCH", `issueRemote: MIT ${toHex(r.serial)} on-chain is not active for this key`);
  party.mit = {
    serial: r.serial,
    pk: party.keys.pk,
    kind: a.kind,
    description: mitDescription(a.kind, r.serial),
  };
  if (a.kind === "user") party.irisCommitment = r.commitment;
  a.keystore.create(rec, { ...party.toRecord(), idp: a.idp.url });
  a.keystore.remove(pend);
  return { party, cid: r.cid, resumed };
}

/** Asks for a challenge (a new session); returns it with the IdP's clock. */
async function challenge(a: { idp: IdpInfo; audience: Uint8Array; purpose: number; retry?: RetryPolicy }) {
  const env = sealEnvelope(request(Route.IdpChallenge, a.audience, encodeChallengeRequest(a.purpose)), { scheme: Scheme.None });
  const reply = openEnvelope(await postEnvelope(a.idp.url, "/v1/challenge", env, a.retry ?? DEFAULT_RETRY));
  verifyEnvelope(reply, {
    kind: Kind.Reply,
    route: Route.IdpChallenge,
    audience: a.audience,
    sender: fromAccount(a.idp.account),
    request: env,
  });
  const c = decodeChallengeReply(reply.body);
  if (c.purpose !== a.purpose) throw new EnvelopeError("NOT_A_REPLY_TO_THIS", "challenge: issued for another step");
  return { ...c, session: openEnvelope(env).session };
}

/** Runs a challenge-response step, starting over once if the IdP finds the challenge stale. */
async function withChallenge<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ServiceError && e.reason === "STALE_CHALLENGE") return run();
    throw e;
  }
}

/**
 * Login over the network (Appendix B-A): challenge, response with a fresh SIMULATED iris sample
 * sealed to the IdP, acknowledgement of what went on-chain.
 * @returns the credential (self-delegation warrant), the IdP's acknowledgement and the exchanged bytes
 */
export async function loginRemote(a: {
  idp: IdpInfo;
  dep: IdpDeployment;
  user: AvatarParty;
  sample: () => Uint8Array;
  avatarId: Uint8Array;
  appearance: string;
  retry?: RetryPolicy;
}): Promise<{ credential: AvatarCredential; ack: LoginAck; request: Uint8Array; reply: Uint8Array }> {
  const audience = audienceOf(a.dep.chainId, String(a.dep.registry.target), "idp");
  if (!a.user.mit) throw new AvatarProtocolError("UNKNOWN_MIT", "loginRemote: the user has no MIT");
  return withChallenge(async () => {
    const c = await challenge({ idp: a.idp, audience, purpose: ChallengePurpose.login, retry: a.retry });
    const vid = keccak256(toBytes(`VID:${a.appearance}`));
    const r = buildLoginResponse({ idp: a.idp }, a.user, a.sample(), c.challenge, a.avatarId, vid, c.time);
    const env = sealEnvelope(request(Route.IdpLogin, audience, encodeLoginResponse(r), c.session), { scheme: Scheme.None });
    const replyBytes = await postEnvelope(a.idp.url, "/v1/login", env, a.retry ?? DEFAULT_RETRY);
    const reply = openEnvelope(replyBytes);
    verifyEnvelope(reply, { kind: Kind.Reply, route: Route.IdpLogin, audience, sender: fromAccount(a.idp.account), request: env });
    const ack = decodeLoginAck(reply.body);
    if (!equalBytes(ack.avatarId, a.avatarId) || !equalBytes(ack.serial, a.user.mit!.serial) || !equalBytes(ack.h, r.o.h))
      throw new EnvelopeError("NOT_A_REPLY_TO_THIS", "loginRemote: the IdP acknowledged another login");
    return {
      credential: { avatarId: a.avatarId, owner: a.user, driver: a.user, warrant: r.warrant, o: r.o },
      ack,
      request: env,
      reply: replyBytes,
    };
  });
}

/**
 * Delegation over the network (Appendix B-B): the proxy's challenge, the owner's fresh SIMULATED
 * iris sample and warrant, the proxy's signature under it; the IdP records the delegation.
 */
export async function delegateRemote(a: {
  idp: IdpInfo;
  dep: IdpDeployment;
  user: AvatarParty;
  sample: () => Uint8Array;
  proxy: AvatarParty;
  avatarId: Uint8Array;
  retry?: RetryPolicy;
}): Promise<{ credential: AvatarCredential; ack: DelegationAck }> {
  const audience = audienceOf(a.dep.chainId, String(a.dep.registry.target), "idp");
  return withChallenge(async () => {
    const c = await challenge({ idp: a.idp, audience, purpose: ChallengePurpose.delegation, retry: a.retry });
    const r = buildDelegationResponse({ idp: a.idp }, a.user, a.sample(), a.proxy, c.challenge, { avatarId: a.avatarId }, c.time);
    const env = sealEnvelope(request(Route.IdpDelegate, audience, encodeDelegationResponse(r), c.session), { scheme: Scheme.None });
    const reply = openEnvelope(await postEnvelope(a.idp.url, "/v1/delegate", env, a.retry ?? DEFAULT_RETRY));
    verifyEnvelope(reply, { kind: Kind.Reply, route: Route.IdpDelegate, audience, sender: fromAccount(a.idp.account), request: env });
    const ack = decodeDelegationAck(reply.body);
    if (!equalBytes(ack.avatarId, a.avatarId) || !equalBytes(ack.proxySerial, a.proxy.mit!.serial) || !equalBytes(ack.h, r.o.h))
      throw new EnvelopeError("NOT_A_REPLY_TO_THIS", "delegateRemote: the IdP acknowledged another delegation");
    return { credential: { avatarId: a.avatarId, owner: a.user, driver: a.proxy, warrant: r.warrant, o: r.o }, ack };
  });
}

/** Shows evidence to the platform (the IdP) and gets its receipt, checked against the IdP's receipt key. */
export async function stampRemote(a: { idp: IdpInfo; dep: IdpDeployment; evidence: Evidence; retry?: RetryPolicy }): Promise<Evidence> {
  const audience = audienceOf(a.dep.chainId, String(a.dep.registry.target), "idp");
  const body = encodeEvidence({ ...a.evidence, receipt: undefined });
  const env = sealEnvelope(request(Route.IdpStamp, audience, body), { scheme: Scheme.None });
  const reply = openEnvelope(await postEnvelope(a.idp.url, "/v1/stamp", env, a.retry ?? DEFAULT_RETRY));
  verifyEnvelope(reply, { kind: Kind.Reply, route: Route.IdpStamp, audience, sender: fromAccount(a.idp.account), request: env });
  const receipt = decodeReceipt(reply.body);
  if (!schnorr.verify(receipt.sig, receiptDigest(evidenceHash(a.evidence), receipt.time), a.idp.receiptKey))
    throw new EnvelopeError("BAD_SIGNATURE", "stampRemote: the receipt is not the platform's on this evidence");
  return { ...a.evidence, receipt };
}

/**
 * Mutual authentication (Appendix B-C) between two avatars whose drivers' keys are here; the
 * chain is read directly, the session is held on the IdP service's platform (its receipt key on
 * this registry: platformId), and each side's evidence is stamped by that platform.
 */
export async function mutualAuthRemote(a: {
  idp: IdpInfo;
  dep: IdpDeployment;
  A: Side;
  B: Side;
  now: () => number;
  retry?: RetryPolicy;
}): Promise<{ key: Uint8Array; evidenceAboutA: Evidence; evidenceAboutB: Evidence }> {
  // the platform is the IdP service's: its receipt key (checked by idpInfo) on this registry
  const ctx = { registry: a.dep.registry, now: a.now, platform: platformId(String(a.dep.registry.target), a.idp.receiptKey) };
  const h = authHello(ctx, a.A, a.B.credential.avatarId);
  const r = await authRespond(ctx, a.B, h.hello);
  const f = await authFinish(ctx, h.state, r.reply);
  const c = await authComplete(ctx, r.state, f.finish);
  if (!equalBytes(f.key, c.key)) throw new AvatarProtocolError("KEY_CONFIRMATION", "the session keys differ");
  return {
    key: f.key,
    evidenceAboutA: await stampRemote({ idp: a.idp, dep: a.dep, evidence: c.evidenceAboutPeer, retry: a.retry }),
    evidenceAboutB: await stampRemote({ idp: a.idp, dep: a.dep, evidence: f.evidenceAboutPeer, retry: a.retry }),
  };
}

/**
 * The reporter's keystore record of a trace case being filed for this evidence (keyed by its
 * {@link caseHash}): written before the filing is sent, so that a run killed after the filing was
 * mined finds its case instead of filing a second ({@link fileTraceOnce}).
 */
export const traceFiling = (e: Evidence) => `avatar-trace-filing-${toHex(caseHash(e)).slice(2)}`;

/** What {@link traceFiling} keeps: the filing's case hash, avatar, account and pinned nonce, and the block after which it was sent. */
type Filing = { caseHash: string; avatarId: string; reporter: string; nonce: number; fromBlock: number; caseId?: string };

/** The case this account filed for this evidence since the journal's block, if the chain has it. */
async function filedCase(reporter: MITRegistry, f: Filing): Promise<bigint | undefined> {
  const logs = await reporter.queryFilter(reporter.filters.TraceRequested(undefined, f.avatarId, f.reporter), f.fromBlock);
  const l = logs.find((x) => x.args.evidenceHash.toLowerCase() === f.caseHash.toLowerCase());
  return l ? (l.args.caseId as bigint) : undefined;
}

/**
 * Files a trace case for evidence at most once per run and its reruns (a retry never files a
 * second case): the filing is journalled in `keystore` ({@link traceFiling}: the case hash, the
 * account, the nonce the transaction is pinned to, the block) before it is sent. A rerun finds the
 * case from the journal, or from the chain (the account's TraceRequested for this case hash since
 * the journal's block) when the run was killed before it could write the id; if the chain has
 * none yet and the pinned nonce is unused, the filing is sent again under that nonce, so that a
 * first one still in the node's pool and this one cannot both be mined. The caller removes the
 * record once the case is judged or closed ({@link settleFiling}).
 * @param reporter - the registry connected with the reporter's account
 * @returns the case id, and whether it was found rather than filed now
 */
export async function fileTraceOnce(reporter: MITRegistry, e: Evidence, keystore: Keystore): Promise<{ caseId: bigint; resumed: boolean }> {
  const name = traceFiling(e);
  const signer = reporter.runner as {
    getAddress?: () => Promise<string>;
    provider?: { getTransactionCount(a: string, t: string): Promise<number>; getBlockNumber(): Promise<number> } | null;
  };
  if (!signer?.getAddress || !signer.provider)
    throw new AvatarProtocolError("INVALID_STATE", "fileTraceOnce: the registry must be connected with the reporter's account");
  const account = (await signer.getAddress()).toLowerCase();
  const provider = signer.provider;
  const kept = keystore.exists(name) ? (keystore.load(name) as Filing) : undefined;
  let nonce: number | undefined;
  if (kept && kept.reporter === account) {
    if (kept.caseId !== undefined) return { caseId: BigInt(kept.caseId), resumed: true };
    const found = await filedCase(reporter, kept);
    if (found !== undefined) {
      keystore.update(name, { ...kept, caseId: found.toString() });
      return { caseId: found, resumed: true };
    }
    // not on-chain: the pinned nonce unused (nothing mined under it) means the first filing was
    // never mined; sending under the same nonce again can land once at most
    if ((await provider.getTransactionCount(account, "latest")) <= kept.nonce) nonce = kept.nonce;
  }
  const f: Filing = {
    caseHash: toHex(caseHash(e)),
    avatarId: toHex(e.avatarId),
    reporter: account,
    nonce: nonce ?? (await provider.getTransactionCount(account, "pending")),
    fromBlock: (await provider.getBlockNumber()) + 1,
  };
  if (kept && nonce !== undefined) f.fromBlock = kept.fromBlock;
  (keystore.exists(name) ? keystore.update : keystore.create).call(keystore, name, f);
  let caseId: bigint;
  try {
    caseId = (await requestTrace(reporter, e, { nonce: f.nonce })).caseId;
  } catch (err) {
    forgetNonceOf(provider as unknown as Provider, account);
    // the node refused the pinned nonce: a first filing under it was mined (or is still pending) meanwhile
    const found = await filedCase(reporter, f);
    if (found === undefined) throw err;
    caseId = found;
  }
  // the nonce was chosen here: a ChainWallet's count of this account is read again for its next one
  forgetNonceOf(provider as unknown as Provider, account);
  faultPoint("avatar:after-trace-filed");
  keystore.update(name, { ...f, caseId: caseId.toString() });
  return { caseId, resumed: false };
}

/**
 * Removes the filing journal of this evidence once its case is no longer open (traced, rejected,
 * claimed by a dispute, dismissed): a later run on the same evidence is a new report. An open case
 * keeps it, so that a rerun resumes that case rather than file another.
 */
export async function settleFiling(registry: MITRegistry, e: Evidence, keystore: Keystore, caseId: bigint): Promise<void> {
  const name = traceFiling(e);
  if (!keystore.exists(name)) return;
  if (Number((await registry.traceCase(caseId)).status) !== TraceStatus.Open) keystore.remove(name);
}

/**
 * Tracing over the network (§V-B1): the reporter opens the case on-chain from its own account
 * (`reporter`: the registry connected with it) with the evidence's hash, then shows the evidence
 * to the IdP service, which records the verdict. The reporter learns the verdict commitment,
 * never the identity. With `journal` (the reporter's keystore), the filing is journalled
 * ({@link fileTraceOnce}): a run killed after filing is rerun onto the same case, never a second.
 */
export async function traceRemote(a: {
  idp: IdpInfo;
  dep: IdpDeployment;
  reporter: MITRegistry;
  evidence: Evidence;
  caseId?: bigint;
  journal?: Keystore;
  retry?: RetryPolicy;
}): Promise<TraceAck> {
  const audience = audienceOf(a.dep.chainId, String(a.dep.registry.target), "idp");
  const caseId =
    a.caseId ??
    (a.journal ? (await fileTraceOnce(a.reporter, a.evidence, a.journal)).caseId : (await requestTrace(a.reporter, a.evidence)).caseId);
  try {
    const env = sealEnvelope(request(Route.IdpTrace, audience, encodeTraceRequest(caseId, encodeEvidence(a.evidence))), {
      scheme: Scheme.None,
    });
    const reply = openEnvelope(await postEnvelope(a.idp.url, "/v1/trace", env, a.retry ?? DEFAULT_RETRY));
    verifyEnvelope(reply, { kind: Kind.Reply, route: Route.IdpTrace, audience, sender: fromAccount(a.idp.account), request: env });
    const ack = decodeTraceAck(reply.body);
    const onChain = await a.dep.registry.traceCase(caseId);
    if (ack.caseId !== caseId || !isTraced(onChain.status) || onChain.verdictCommitment !== toHex(ack.verdictCommitment))
      throw new EnvelopeError("NOT_A_REPLY_TO_THIS", `traceRemote: the IdP's answer is not case ${caseId}'s verdict on-chain`);
    return ack;
  } finally {
    if (a.journal && a.caseId === undefined) await settleFiling(a.dep.registry, a.evidence, a.journal, caseId);
  }
}
