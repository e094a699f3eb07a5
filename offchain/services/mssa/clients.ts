/**
 * The user's side of an MSSA registration across the place's authority services (issue 19):
 * one-time keys from each authority of the set S the user registers with (k or more sitting
 * authorities of the place that answer: h15-red2 R1, docs/specs/mssa.md §2.6; a member that fails
 * is dropped and a fresh session goes to the others while k remain) (Step 1), the request built
 * here (Steps 2-4: offchain/mssa/registration.ts buildRequest) with the commitment's salt, S and
 * the digest of each key, sent to every member of S with the documents sealed to it (each checks it and computes the same commitment, nullifier and
 * id: h7-audit finding M4), the EIP-712 consent, and the proposal with its approvals collected by
 * the verifying authority. Every envelope is signed by the user's account.
 *
 * The services are found on-chain: each authority announces its endpoint on the CredentialLedger
 * ({@link discoverAuthorities}); URLs given by the caller (`mssa:register --authorities`) override.
 *
 * What the user keeps (`mssa-<place>-<user>`: id, commitment, salt, U12, and the session and its
 * verifier) is written before the consent is sent, as `mssa:register` does in-process. A retry
 * after a failure past that point (the verifier killed between its proposal and its reply, an
 * approving authority killed before its answer) resumes that registration: granted already, it is
 * only marked so; pending or not yet proposed, the consent to the same session goes to the same
 * verifier again, which proposes nothing twice and asks only for the approvals still missing (or,
 * when it does not answer, to the other members of the set; a session never proposed that none of
 * them can take is left for a fresh one). A
 * fresh session would be refused on-chain (PendingExists) while that one is live. When the verifier
 * has left the place or lost its seat in the election since (s20-redm F6: the ledger counts only
 * approvers listed and sitting), the place's current authorities that verified the same session take it
 * over (each approves the proposal it finds on-chain and asks the others); when they cannot
 * complete it, the user cancels it on-chain and a fresh session follows.
 * An account that
 * already has access (granted by another registration than the pending one kept here) is refused
 * before anything is sent or written: its kept opening stays the one that opens its commitment.
 */
import { checkEndpoint } from "../endpoint";
import { ZeroHash, getAddress, hexlify, recoverAddress, type Wallet } from "ethers";
import { AuthorityElection__factory, type CredentialLedger } from "../../../typechain-types";
import { fromHex } from "../../crypto/bytes";
import { decodePoint, mulBase, randomScalar } from "../../crypto/group";
import type { Keystore } from "../../storage/keystore";
import { commitment as commitmentOf, encodeCredential, evenLength } from "../../mssa/credential";
import { RegistrationError, buildRequest, fresh32, identityDocument, pendingLive, placeId } from "../../mssa/registration";
import { checkConsentTtl, consentToRegistration } from "../../mssa/ledger";
import { Bits } from "../../mssa/bits";
import { Kind, Route, openEnvelope, sealEnvelope, verifyEnvelope, EnvelopeError } from "../envelope";
import { accountSigner, fromAccount, freshId } from "../common";
import { getJson, postEnvelope, DEFAULT_RETRY, ServiceError, type RetryPolicy } from "../client";
import { authorityAudience, authorityInfoDigest, scopedSession } from "./authority-service";
import {
  decodeOutcome,
  decodeVerifyReply,
  encodeKeyRequest,
  encodeProposeRequest,
  encodeVerifyRequest,
  keyDigest,
  openKey,
  type Outcome,
  type VerifyReply,
} from "./wire";
import { minedReceipt } from "../../chain/mined";

/** A place authority service, checked: its description is signed by an authority of the place on-chain. */
export type AuthorityInfo = { url: string; account: string; channelKey: ReturnType<typeof decodePoint> };

/** The deployment: chain id and the CredentialLedger (read-only is enough). */
export type MssaDeployment = { chainId: bigint; ledger: CredentialLedger };

/** Fetches and checks an authority service's description. */
export async function authorityInfo(url: string, place: string, dep: MssaDeployment): Promise<AuthorityInfo> {
  const ledger = String(dep.ledger.target);
  const i = await getJson<{ place: string; account: string; channelKey: string; ledger: string; chainId: string; sig: string }>(
    url,
    "/v1/info",
  );
  if (BigInt(i.chainId) !== dep.chainId || i.ledger.toLowerCase() !== ledger.toLowerCase() || i.place !== placeId(place))
    throw new EnvelopeError("WRONG_AUDIENCE", `authorityInfo: ${url} serves another deployment or place`);
  const digest = authorityInfoDigest(dep.chainId, ledger, place, i.account, i.channelKey);
  if (recoverAddress(hexlify(digest), i.sig).toLowerCase() !== i.account.toLowerCase())
    throw new EnvelopeError("BAD_SIGNATURE", `authorityInfo: ${url}'s description is not signed by ${i.account}`);
  const p = await dep.ledger.place(placeId(place));
  if (!p.authorities.map((a) => a.toLowerCase()).includes(i.account.toLowerCase()))
    throw new EnvelopeError("BAD_SIGNATURE", `authorityInfo: ${i.account} is not an authority of ${place} on-chain`);
  return { url, account: getAddress(i.account), channelKey: decodePoint(fromHex(i.channelKey, 33)) };
}

/** The user's keystore record of a registration (the same one `mssa:register` writes). */
export const userRecord = (place: string, user: string) => `mssa-${placeId(place).slice(2, 18)}-${user.toLowerCase()}`;

/** The place's authorities and the endpoints they announced on-chain ("" for none), in the place's order. */
export async function authorityEndpoints(dep: MssaDeployment, place: string): Promise<{ account: string; url: string }[]> {
  const [accounts, urls] = await dep.ledger.authorityEndpoints(placeId(place));
  return accounts.map((a, i) => ({ account: getAddress(a), url: urls[i] }));
}

/**
 * The URLs of the authority services of `place`, as the authorities announced them on-chain, each
 * checked (offchain/services/endpoint.ts: http or https, no credentials, no private host off a
 * development chain). An authority without an endpoint, or with one the check refuses, is left out
 * while k others remain (h15-red2 R1: one authority is no veto); registerRemote picks its set among them.
 * @throws RegistrationError("unknown-session") when the place is not on-chain, or fewer than k of its
 *   authorities announced an endpoint (the message names those that did not, the place and
 *   `--authorities`); EndpointError naming the authority when a refused endpoint leaves fewer than k
 */
export async function discoverAuthorities(dep: MssaDeployment, place: string): Promise<string[]> {
  const all = await authorityEndpoints(dep, place);
  if (!all.length) throw new RegistrationError("unknown-session", `discoverAuthorities: the place ${place} is not on-chain`);
  const k = Number((await dep.ledger.place(placeId(place))).threshold);
  const missing = all.filter((x) => !x.url).map((x) => x.account);
  if (all.length - missing.length < k)
    throw new RegistrationError(
      "unknown-session",
      `discoverAuthorities: the authorit${missing.length === 1 ? "y" : "ies"} ${missing.join(", ")} of ${place} announced no endpoint on-chain (is \`mssa:serve authority --place ${place}\` running there?), and the place needs k = ${k}; give --authorities <url>,…`,
    );
  // every endpoint is an authority's choice: checked before anyone fetches it (endpoint.ts)
  const ok: string[] = [];
  let refused: unknown;
  for (const x of all.filter((y) => y.url))
    try {
      ok.push(
        await checkEndpoint(x.url, `discoverAuthorities: the endpoint the authority ${x.account} of ${place} announced`, dep.chainId),
      );
    } catch (e) {
      refused ??= e;
    }
  if (ok.length < k) throw refused;
  return ok;
}

/** What the user keeps of a registration in progress (and after). */
type UserRecord = {
  place: string;
  user: string;
  id: string;
  commitment: string;
  salt: string;
  U12: string;
  pending: boolean;
  /** the session, the authority that verified it and proposes, and the identity nullifier (to resume) */
  session?: string;
  verifier?: string;
  nullifier?: string;
  /** the election nullifier the registration carries (absent or zero: access only) */
  electorNullifier?: string;
  /** the set S the session was verified by (h15-red2 R1; absent in a record from before: every authority of the place) */
  set?: string[];
};

/**
 * The user cancels her pending registration on-chain (`CredentialLedger.cancel`, hers to cancel at
 * any time): what is left when its verifier has left the place and no current authority can
 * complete it. Nothing else changes; the registration stays in her record as it was (cancelled
 * on-chain, a later attempt starts a fresh session).
 * @throws RegistrationError naming the registration when the cancellation cannot be sent (no gas)
 */
async function cancelPending(user: Wallet, ledger: CredentialLedger, prior: UserRecord, place: string): Promise<void> {
  const provider = ledger.runner?.provider;
  const signer = user.provider || !provider ? user : user.connect(provider);
  try {
    await minedReceipt(ledger.connect(signer).cancel(prior.id));
  } catch (e) {
    // cancelled or expired meanwhile: nothing left to do
    if (Number((await ledger.registration(prior.id)).status) !== 1) return;
    throw new RegistrationError(
      "ledger-refused",
      `registerRemote: registration ${prior.id} at ${place} is pending under ${prior.verifier}, no longer a sitting authority of the place, and no current authority can complete it; its user's cancellation failed (${(e as Error).message.split("\n")[0].slice(0, 120)})`,
    );
  }
}

/**
 * Registers `user` at `place` through the place's authority services, or resumes the registration
 * this keystore holds in progress there (see the module's header).
 * @param a.urls - the authority services of the place to register with (any order; matched by
 *   account; S is those that sit and answer, at least k); default:
 *   the endpoints the authorities announced on-chain
 * @param a.infos - INFO_0..INFO_n, exactly one of them the identity document ("passport:<issuing
 *   state>:<number>", docs/specs/mssa.md §1.8), refused before anything is sent otherwise (unused when resuming)
 * @param a.elector - whether this registration is the one that makes the user an elector (her
 *   election nullifier, computed by every authority, enters her consent; h11-red2 M1); default false:
 *   access only. Unused when resuming (the registration keeps what it was verified with)
 * @param a.consentTtl - seconds from the chain's latest block to the deadline the user signs in her
 *   consent, 1 to CONSENT_TTL_S (the default, 7 days; offchain/mssa/ledger.ts)
 * @returns the verifier's findings, the on-chain outcome, and whether an earlier attempt was resumed
 * @throws RegistrationError when the place is not on-chain, the user already has access there
 *   (`ledger-refused`), or a service is missing; ServiceError
 *   when an authority refused or could not be reached
 */
export async function registerRemote(a: {
  urls?: string[];
  place: string;
  user: Wallet;
  infos: readonly string[];
  dep: MssaDeployment;
  keystore: Keystore;
  retry?: RetryPolicy;
  elector?: boolean;
  consentTtl?: number;
}): Promise<{ verified: VerifyReply; outcome: Outcome; session: string; resumed: boolean }> {
  // before anything is sent: the consent is signed only after the authorities verified
  if (a.consentTtl !== undefined) checkConsentTtl("registerRemote", a.consentTtl);
  const place = placeId(a.place);
  const user = getAddress(a.user.address);
  const p = await a.dep.ledger.place(place);
  if (Number(p.threshold) === 0) throw new RegistrationError("unknown-session", `registerRemote: ${a.place} is not on-chain`);
  const name = userRecord(a.place, user);
  const prior = a.keystore.exists(name) ? (a.keystore.load(name) as UserRecord) : undefined;
  // granted already (the last attempt failed after the k-th approval): nothing to send
  if (prior?.pending && prior.session) {
    const reg = await a.dep.ledger.registration(prior.id);
    if (Number(reg.status) === 2) {
      a.keystore.update(name, { ...prior, pending: false });
      return {
        verified: {
          commitment: prior.commitment,
          salt: prior.salt,
          nullifier: reg.nullifier,
          id: prior.id,
          electorNullifier: reg.electorNullifier,
        },
        outcome: { id: prior.id, approvals: Number(reg.approvals), granted: true },
        session: prior.session,
        resumed: true,
      };
    }
  }
  // granted already, and not by the pending registration above: refused before anything is sent
  // or written (h11-red R5). A fresh session would write its opening over the granted one's (the
  // salt and U12 that open the on-chain commitment), then be refused on-chain (AlreadyRegistered).
  const [granted] = await a.dep.ledger.access(user, place);
  if (granted) throw new RegistrationError("ledger-refused", `registerRemote: ${user} already has access to ${a.place}`);
  const urls = a.urls ?? (await discoverAuthorities(a.dep, a.place));
  const k = Number(p.threshold);
  const listed = p.authorities.map((x) => getAddress(x));
  // each service checked (its signed description, an authority of the place on-chain); one that
  // does not answer is left out and named, not a veto (h15-red2 R1)
  const left = new Map<string, string>();
  const byAccount = new Map<string, AuthorityInfo>();
  for (const [i, r] of (await Promise.allSettled(urls.map((u) => authorityInfo(u, a.place, a.dep)))).entries())
    if (r.status === "fulfilled") byAccount.set(r.value.account, r.value);
    else left.set(urls[i], firstLine(r.reason));
  const signer = accountSigner(a.user);
  const retry = a.retry ?? DEFAULT_RETRY;
  const send = async (to: AuthorityInfo, route: number, path: string, body: Uint8Array) => {
    const audience = authorityAudience(a.dep.chainId, String(a.dep.ledger.target), to.account, a.place);
    const env = sealEnvelope(
      {
        kind: Kind.Request,
        route,
        audience,
        session: freshId(),
        requestId: freshId(),
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body,
      },
      signer,
    );
    const reply = openEnvelope(await postEnvelope(to.url, path, env, retry));
    verifyEnvelope(reply, { kind: Kind.Reply, route, audience, sender: fromAccount(to.account), request: env });
    return reply.body;
  };
  /** Sends the consent to the verifier: it proposes (once) and collects the approvals. */
  const consentAndPropose = async (rec: UserRecord, verifier: AuthorityInfo, session: string) => {
    const consent = await consentToRegistration(
      a.dep.ledger,
      a.user,
      place,
      rec.commitment,
      rec.nullifier!,
      session,
      rec.electorNullifier ?? ZeroHash,
      a.consentTtl,
    );
    const outcome = decodeOutcome(
      await send(
        verifier,
        Route.MssaPropose,
        "/v1/mssa/propose",
        encodeProposeRequest({ session, deadline: consent.deadline, signature: consent.signature }),
      ),
    );
    if (outcome.id !== rec.id) throw new EnvelopeError("NOT_A_REPLY_TO_THIS", "registerRemote: the outcome is another registration's");
    if (outcome.granted) a.keystore.update(name, { ...rec, pending: false });
    return outcome;
  };
  /**
   * The consent to `session` to the first of `members` that answers (each verified it: the set the
   * user named): a verifier that fails (down, 5xx, a timeout) is passed by for the next member, which
   * finds the proposal on-chain or proposes it (h15-red2 R1, step 5). 4xx refusals pass on too.
   * @returns the outcome, or undefined with the errors met when no member answered
   */
  const proposeVia = async (rec: UserRecord, members: AuthorityInfo[], session: string) => {
    const errors: unknown[] = [];
    for (const au of members) {
      const r = { ...rec, verifier: au.account };
      try {
        const outcome = await consentAndPropose(r, au, session);
        if (au.account !== rec.verifier) a.keystore.update(name, { ...r, pending: !outcome.granted });
        return { outcome, verifier: au.account, errors };
      } catch (e) {
        errors.push(e);
      }
    }
    return { outcome: undefined, verifier: undefined, errors };
  };
  const el = AuthorityElection__factory.connect(await a.dep.ledger.election(), a.dep.ledger.runner);
  if (prior?.pending && prior.session && prior.verifier && prior.nullifier) {
    // the ledger's test of an approver (s20-redm F6): listed on the place *and* sitting in the
    // election; one listed but unseated (voted out, R = 1) counts no more than one that left
    const counts = async (x: string) => listed.includes(x) && (await el.isAuthority(x));
    const reg = await a.dep.ledger.registration(prior.id);
    const status = Number(reg.status);
    const verifier = byAccount.get(getAddress(prior.verifier));
    const block = await a.dep.ledger.runner?.provider?.getBlock("latest");
    const live = status === 1 && (!block || pendingLive(reg, BigInt(block.timestamp), await a.dep.ledger.PENDING_TTL()));
    // what the user's record says its verifier verified (a record from before h12 carries no election nullifier: access only)
    const verified = {
      commitment: prior.commitment,
      salt: prior.salt,
      nullifier: prior.nullifier,
      id: prior.id,
      electorNullifier: prior.electorNullifier ?? ZeroHash,
    };
    // the other members of the set the session was verified by, still authorities of the place (a
    // record from before sets: every authority of the place with a service)
    const others: AuthorityInfo[] = [];
    for (const x of (prior.set ?? listed).map((y) => getAddress(y))) {
      const info = byAccount.get(x);
      if (x !== getAddress(prior.verifier) && info && (await counts(x))) others.push(info);
    }
    // proposed and still pending, or not yet proposed: the consent to the same session goes to the
    // same verifier (it holds what it verified; the user's one-time keys are spent), and when it
    // fails (down, 5xx) to the other members of the set, which verified it too (h15-red2 R1)
    const stillCounts = await counts(getAddress(prior.verifier));
    if (stillCounts && (live || status === 0)) {
      let failure: unknown;
      if (!verifier)
        failure = new RegistrationError(
          "unknown-session",
          `registerRemote: registration ${prior.id} at ${a.place} waits on its verifier ${prior.verifier}, whose service did not answer`,
        );
      else
        try {
          return { verified, outcome: await consentAndPropose(prior, verifier, prior.session), session: prior.session, resumed: true };
        } catch (e) {
          // never proposed, and the verifier will not propose it now (it refused: a 4xx other than
          // 429): a fresh session below. A proposal on-chain is never abandoned here.
          const st = (e as ServiceError).status;
          const refused = e instanceof ServiceError && st >= 400 && st < 500 && st !== 429;
          if (refused && status !== 0) throw e;
          if (!refused) failure = e;
        }
      // the verifier is down or fails (5xx, a timeout): the other members of the set, which
      // verified the same session, take it over (h15-red2 R1); if none answers, a proposal on-chain
      // is never abandoned (the user hears the verifier's failure, nothing is cancelled), while one
      // never proposed holds nothing on-chain: a fresh session below (session 16's final read: it
      // threw, and the user was stuck for as long as that verifier stayed away)
      if (failure) {
        const h = await proposeVia(prior, others, prior.session);
        if (h.outcome) return { verified, outcome: h.outcome, session: prior.session, resumed: true };
        if (status !== 0) throw failure;
      }
    }
    // proposed and live, but its verifier has left the place or no longer sits (F6): a fresh session would be refused
    // (PendingExists) until this one expires. The place's current authorities that verified the
    // same session (the members of the set the user named then) take it over: each finds
    // the proposal on-chain, approves it and asks the others; approvals of authorities that left
    // do not count. If they cannot complete it, the user cancels it on-chain and starts afresh.
    if (!stillCounts && live) {
      for (const au of others) {
        const rec = { ...prior, verifier: au.account };
        try {
          const outcome = await consentAndPropose(rec, au, prior.session);
          if (outcome.granted) return { verified, outcome, session: prior.session, resumed: true };
        } catch (e) {
          // this authority did not verify that session (it joined the place since): the next one
          const st = (e as ServiceError).status;
          if (!(e instanceof ServiceError && st >= 400 && st < 500 && st !== 429)) throw e;
        }
      }
      await cancelPending(a.user, a.dep.ledger, prior, a.place);
    }
  }
  // the identity document: exactly one of the place's type, in (or mappable to) its canonical form
  // (mssa.md §1.8); refused here before any authority issues a key (each authority checks it again)
  identityDocument(a.infos);
  // The set S (h15-red2 R1): the place's authorities, in its order, that have a service here and sit
  // in the election (no other's approval counts at k); at least k of them. Each gets a key request,
  // the request and the documents; a member that fails is dropped and named, and a fresh session
  // goes to the others while at least k remain (its pads were seen by the one dropped).
  let set: AuthorityInfo[] = [];
  for (const x of listed) {
    const info = byAccount.get(x);
    if (!info) left.set(x, "no service given or found");
    else if (!(await el.isAuthority(x))) left.set(x, "does not sit in the election");
    else set.push(info);
  }
  const drop = (who: string, why: string) => {
    left.set(who, why);
    set = set.filter((x) => x.account !== who);
  };
  const tooFew = (why = "") =>
    new RegistrationError(
      "unknown-session",
      `registerRemote: ${a.place} needs k = ${k} sitting authorities that answer, ${set.length} left${why}${left.size ? ` (${[...left].map(([w, r]) => `${w}: ${r}`).join("; ")})` : ""}`,
    );
  const bits = evenLength(encodeCredential(a.infos)).length;
  for (;;) {
    if (set.length < k) throw tooFew();
    // Step 1: a one-time key from each member of S, sealed to a transport key of this session
    const session = fresh32();
    const sid = scopedSession(session, user);
    const keys = new Map<string, Bits>();
    for (const au of set) {
      const t = randomScalar();
      try {
        const sealed = await send(au, Route.MssaKey, "/v1/mssa/key", encodeKeyRequest({ session, user, bits, transport: mulBase(t) }));
        keys.set(au.account, openKey("KEY", t, session, au.account, sealed));
      } catch (e) {
        drop(au.account, `Step 1: ${firstLine(e)}`);
      }
    }
    if (set.length < k) throw tooFew();
    // Steps 2-4: the request padded with S's keys, the commitment's salt (the user's), S and the
    // digest of each key, and the documents sealed to each member: each checks the request itself and
    // computes the same commitment, nullifier and id; each approves only what it computed (h7-audit M4)
    const members = set.map((x) => x.account);
    const { request } = buildRequest(
      session,
      place,
      user,
      a.infos,
      members.map((m) => keys.get(m)!),
    );
    const keyDigests = members.map((m) => keyDigest(keys.get(m)!, sid, m));
    const salt = fresh32();
    const replies = new Map<string, VerifyReply>();
    const failed = new Map<string, string>();
    const accusers = new Map<string, string[]>();
    // one after the other: an authority collects the others' keys while it verifies
    for (const au of [...set]) {
      try {
        const r = decodeVerifyReply(
          await send(
            au,
            Route.MssaVerify,
            "/v1/mssa/verify",
            encodeVerifyRequest({ ...request, salt, elector: a.elector ?? false, set: members, keyDigests }, a.infos, au.channelKey),
          ),
        );
        // the commitment must open to this user's U12 with this salt, and be this registration's
        if (r.salt !== salt || commitmentOf(place, user, request.U12, salt) !== r.commitment)
          throw new EnvelopeError("NOT_A_REPLY_TO_THIS", `its commitment does not open to this request`);
        if ((await a.dep.ledger.registrationId(place, user, r.commitment)) !== r.id)
          throw new EnvelopeError("NOT_A_REPLY_TO_THIS", `its registration id is not this registration's`);
        // every authority computes the election nullifier from the same documents with the deployment's key
        if ((r.electorNullifier !== ZeroHash) !== (a.elector ?? false))
          throw new EnvelopeError(
            "NOT_A_REPLY_TO_THIS",
            a.elector ? "it computed no election nullifier" : "it computed an election nullifier unasked",
          );
        replies.set(au.account, r);
      } catch (e) {
        const msg = firstLine(e);
        // it names a member whose key did not come, or differed from the one the user received
        const peer = /\bpeer (0x[0-9a-fA-F]{40})\b/.exec(msg)?.[1];
        if (peer && members.includes(getAddress(peer)) && getAddress(peer) !== au.account)
          accusers.set(getAddress(peer), [...(accusers.get(getAddress(peer)) ?? []), au.account]);
        failed.set(au.account, msg);
      }
    }
    // the place's authorities share the place key and the election key: one identity, one pair of
    // nullifiers. The largest group of equal replies goes on if it holds k members
    const groups = new Map<string, string[]>();
    for (const [m, r] of replies)
      groups.set(`${r.nullifier}|${r.electorNullifier}`, [...(groups.get(`${r.nullifier}|${r.electorNullifier}`) ?? []), m]);
    const largest = [...groups.values()].sort((x, y) => y.length - x.length)[0] ?? [];
    if (largest.length >= k) {
      const verified = replies.get(largest[0])!;
      const agreed = set.filter((x) => largest.includes(x.account));
      const rec: UserRecord = {
        place,
        user,
        id: verified.id,
        commitment: verified.commitment,
        salt: verified.salt,
        U12: request.U12.toString(),
        pending: true,
        session,
        verifier: agreed[0].account,
        nullifier: verified.nullifier,
        electorNullifier: verified.electorNullifier,
        set: members,
      };
      (a.keystore.exists(name) ? a.keystore.update : a.keystore.create).call(a.keystore, name, rec);
      // the first member that verified proposes; should it fail, the user's retry resumes the same
      // session with it and, when it keeps failing, with the other members (above)
      return { verified, outcome: await consentAndPropose(rec, agreed[0], session), session, resumed: false };
    }
    if (groups.size > 1) {
      const [x, y] = [...groups.values()];
      const [rx, ry] = [replies.get(x[0])!, replies.get(y[0])!];
      throw new RegistrationError(
        "credential-mismatch",
        rx.nullifier !== ry.nullifier
          ? `registerRemote: ${y[0]} computed another identity nullifier than ${x[0]}: the place's authorities do not hold the same place key`
          : `registerRemote: ${y[0]} computed another election nullifier than ${x[0]}: the authorities do not hold the same election key`,
      );
    }
    // fewer than k agree: drop who failed, and start afresh with the others. A member named by one
    // accuser while it answered the user itself is word against word: both go (so one liar cannot
    // shrink S twice); named by two or more, or failing the user too, it goes alone
    const before = set.length;
    for (const [peer, by] of accusers) {
      drop(peer, `named by ${by.join(", ")}: ${failed.get(by[0])}`);
      if (by.length === 1 && !failed.has(peer)) drop(by[0], `its accusation of ${peer} (${failed.get(by[0])})`);
    }
    for (const [m, why] of failed) if (![...accusers.values()].some((by) => by.includes(m))) drop(m, `verify: ${why}`);
    if (set.length === before) throw tooFew();
  }
}

/** The first line of an error's message. */
function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}
