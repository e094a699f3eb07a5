/**
 * The user's side of an MSSA registration across the place's authority services (issue 19):
 * one-time keys from every authority (Step 1), the request built here (Steps 2-4:
 * offchain/mssa/registration.ts buildRequest) with the commitment's salt, sent to every authority
 * with the documents sealed to it (each checks it and computes the same commitment, nullifier and
 * id: h7-audit finding M4), the EIP-712 consent, and the proposal with its approvals collected by
 * the verifying authority. Every envelope is signed by the user's account.
 *
 * What the user keeps (`mssa-<place>-<user>`: id, commitment, salt, U12) is written before the
 * consent is sent, as `mssa:register` does in-process; a registration whose proposal is on-chain
 * and still pending is resumed by sending the consent again (the verifier proposes nothing twice).
 */
import { getAddress, hexlify, recoverAddress, type Wallet } from "ethers";
import type { CredentialLedger } from "../../../typechain-types";
import { fromHex } from "../../crypto/bytes";
import { decodePoint, mulBase, randomScalar } from "../../crypto/group";
import type { Keystore } from "../../storage/keystore";
import { commitment as commitmentOf, encodeCredential, evenLength } from "../../mssa/credential";
import { RegistrationError, buildRequest, fresh32, placeId } from "../../mssa/registration";
import { consentToRegistration } from "../../mssa/ledger";
import { Bits } from "../../mssa/bits";
import { Kind, Route, openEnvelope, sealEnvelope, verifyEnvelope, EnvelopeError } from "../envelope";
import { accountSigner, fromAccount, freshId } from "../common";
import { getJson, postEnvelope, DEFAULT_RETRY, type RetryPolicy } from "../client";
import { authorityAudience, authorityInfoDigest } from "./authority-service";
import {
  decodeOutcome,
  decodeVerifyReply,
  encodeKeyRequest,
  encodeProposeRequest,
  encodeVerifyRequest,
  openKey,
  type Outcome,
  type VerifyReply,
} from "./wire";

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

/**
 * Registers `user` at `place` through the place's authority services.
 * @param a.urls - every authority service of the place (any order; matched by account)
 * @param a.infos - INFO_0..INFO_n, the last one the identity document
 * @returns the verifier's findings and the on-chain outcome
 */
export async function registerRemote(a: {
  urls: string[];
  place: string;
  user: Wallet;
  infos: readonly string[];
  dep: MssaDeployment;
  keystore: Keystore;
  retry?: RetryPolicy;
}): Promise<{ verified: VerifyReply; outcome: Outcome; session: string }> {
  const place = placeId(a.place);
  const user = getAddress(a.user.address);
  const p = await a.dep.ledger.place(place);
  if (Number(p.threshold) === 0) throw new RegistrationError("unknown-session", `registerRemote: ${a.place} is not on-chain`);
  const infos = await Promise.all(a.urls.map((u) => authorityInfo(u, a.place, a.dep)));
  const byAccount = new Map(infos.map((i) => [i.account, i]));
  const authorities = p.authorities.map((x) => byAccount.get(getAddress(x)));
  const missing = p.authorities.filter((_, i) => !authorities[i]);
  if (missing.length)
    throw new RegistrationError("unknown-session", `registerRemote: no service given for the authorities ${missing.join(", ")}`);
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
  // Step 1: a one-time key from every authority, sealed to a transport key of this session
  const session = fresh32();
  const bits = evenLength(encodeCredential(a.infos)).length;
  const keys: Bits[] = [];
  for (const au of authorities as AuthorityInfo[]) {
    const t = randomScalar();
    const sealed = await send(au, Route.MssaKey, "/v1/mssa/key", encodeKeyRequest({ session, user, bits, transport: mulBase(t) }));
    keys.push(openKey("KEY", t, session, au.account, sealed));
  }
  // Steps 2-4: the request, the commitment's salt (the user's), and the documents sealed to each
  // authority: every authority checks the request itself and computes the same commitment,
  // nullifier and id; each approves only what it computed (h7-audit finding M4)
  const { request } = buildRequest(session, place, user, a.infos, keys);
  const salt = fresh32();
  const verifier = authorities[0]!;
  let verified: VerifyReply | undefined;
  for (const au of authorities as AuthorityInfo[]) {
    const r = decodeVerifyReply(
      await send(au, Route.MssaVerify, "/v1/mssa/verify", encodeVerifyRequest({ ...request, salt }, a.infos, au.channelKey)),
    );
    // the commitment must open to this user's U12 with this salt, and be this registration's
    if (r.salt !== salt || commitmentOf(place, user, request.U12, salt) !== r.commitment)
      throw new EnvelopeError("NOT_A_REPLY_TO_THIS", `registerRemote: ${au.account}'s commitment does not open to this request`);
    if ((await a.dep.ledger.registrationId(place, user, r.commitment)) !== r.id)
      throw new EnvelopeError("NOT_A_REPLY_TO_THIS", `registerRemote: ${au.account}'s registration id is not this registration's`);
    // the place's authorities share the place key: one identity, one nullifier at every authority
    if (verified && r.nullifier !== verified.nullifier)
      throw new RegistrationError(
        "credential-mismatch",
        `registerRemote: ${au.account} computed another identity nullifier than ${verifier.account}: the place's authorities do not hold the same place key`,
      );
    verified ??= r;
  }
  if (!verified) throw new RegistrationError("unknown-session", "registerRemote: the place has no authority");
  const rec = {
    place,
    user,
    id: verified.id,
    commitment: verified.commitment,
    salt: verified.salt,
    U12: request.U12.toString(),
    pending: true,
  };
  const name = userRecord(a.place, user);
  (a.keystore.exists(name) ? a.keystore.update : a.keystore.create).call(a.keystore, name, rec);
  const consent = await consentToRegistration(a.dep.ledger, a.user, place, verified.commitment, verified.nullifier, session);
  const outcome = decodeOutcome(
    await send(verifier, Route.MssaPropose, "/v1/mssa/propose", encodeProposeRequest({ session, signature: consent.signature })),
  );
  if (outcome.id !== verified.id) throw new EnvelopeError("NOT_A_REPLY_TO_THIS", "registerRemote: the outcome is another registration's");
  if (outcome.granted) a.keystore.update(name, { ...rec, pending: false });
  return { verified, outcome, session };
}
