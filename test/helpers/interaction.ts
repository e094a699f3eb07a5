/**
 * Interaction evidence for tests that date or attribute messages (receipts, revoked delegations,
 * stolen keys): since h11-red2 V1 an interaction message is evidence only inside a session with
 * the reporter (body t || payload, the handshake with both sides' signatures on t). The handshake's
 * signatures are made here by hand, without mutual authentication's chain checks, so that a
 * warrant no longer current (a revoked delegation, an earlier login) signs as it did while it
 * was; the IdP's checks of the evidence are the ones under test. The reporter's warrant must be
 * recorded on-chain (a login or a delegation), as the IdP requires.
 */
import { AvatarParty } from "../../offchain/avatars/agents";
import { AvatarCredential, Evidence, Side, authHello, handshakeTranscript } from "../../offchain/avatars/protocols";
import { ProxyMessage, Scope, cpsPSign } from "../../offchain/crypto/cps";
import { concat, toBytes } from "../../offchain/crypto/bytes";

/**
 * Evidence of `payload`, signed by `signer` for the avatar of `credential` at `time`, inside a
 * session the accused began with `reporter` at `sessionTime` (default `time`).
 * @param driverSerial - the driver the evidence names (default the signer's MIT)
 * @param platform - the platform the session is held on (the judging IdP's: `platformOf(ctx)`)
 */
export function signedInSession(
  a: { credential: AvatarCredential; signer: AvatarParty; driverSerial?: Uint8Array; platform: Uint8Array },
  reporter: Side,
  payload: Uint8Array | string,
  time: number,
  sessionTime = time,
): Evidence {
  const platform = a.platform;
  const c = a.credential;
  // the session is held on `platform` (the judging IdP's: platformOf its context)
  const accused = authHello({ platform }, { credential: c, driver: a.signer }, reporter.credential.avatarId).hello;
  const own = authHello({ platform }, reporter, c.avatarId).hello;
  const t = handshakeTranscript(accused, own);
  const session: ProxyMessage = { type: Scope.challenge, time: sessionTime, body: t };
  const message: ProxyMessage = {
    type: Scope.interaction,
    time,
    body: concat(t, typeof payload === "string" ? toBytes(payload) : payload),
  };
  return {
    avatarId: c.avatarId,
    ownerSerial: c.owner.mit!.serial,
    ownerPk: c.owner.keys.pk,
    driverSerial: a.driverSerial ?? a.signer.mit!.serial,
    warrant: c.warrant,
    o: c.o,
    message,
    proxySig: cpsPSign(a.signer.keys, c.warrant, c.o, message),
    handshake: {
      accusedInitiated: true,
      accusedEphemeral: accused.ephemeral,
      accusedNonce: accused.nonce,
      reporter: own,
      reporterSig: cpsPSign(reporter.driver.keys, reporter.credential.warrant, reporter.credential.o, session),
      session: { time: sessionTime, accusedSig: cpsPSign(a.signer.keys, c.warrant, c.o, session) },
    },
  };
}
