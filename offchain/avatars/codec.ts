/** JSON encodings of warrants, original signatures, credentials and evidence (hex, compressed points). */
import { fromHex, toHex } from "../crypto/bytes";
import { OriginalSignature, Warrant, decodePk, decodeSig, encodePk, encodeSig } from "../crypto/cps";
import type { Evidence, Hello } from "./protocols";
import { AvatarProtocolError } from "./agents";

export type WarrantJson = { irisCommitment: string; proxy: string; avatarId: string; scope: number; notBefore: number; notAfter: number };
export type OriginalJson = { h: string; r: string; sig: string };

export const warrantToJson = (w: Warrant): WarrantJson => ({
  irisCommitment: toHex(w.irisCommitment),
  proxy: toHex(encodePk(w.proxy)),
  avatarId: toHex(w.avatarId),
  scope: w.scope,
  notBefore: w.notBefore,
  notAfter: w.notAfter,
});
export const warrantFromJson = (j: WarrantJson): Warrant => ({
  irisCommitment: fromHex(j.irisCommitment, 32),
  proxy: decodePk(fromHex(j.proxy, 96)),
  avatarId: fromHex(j.avatarId, 32),
  scope: j.scope,
  notBefore: j.notBefore,
  notAfter: j.notAfter,
});
export const originalToJson = (o: OriginalSignature): OriginalJson => ({ h: toHex(o.h), r: toHex(o.r), sig: toHex(encodeSig(o.sig)) });
export const originalFromJson = (j: OriginalJson): OriginalSignature => ({
  h: fromHex(j.h, 32),
  r: fromHex(j.r, 32),
  sig: decodeSig(fromHex(j.sig, 48)),
});

/**
 * The version of the JSON evidence: 2 since session 17 (the reporter's hello names the platform
 * and the avatar it is addressed to, both in the transcript). Version 1 is refused (OLD_VERSION).
 */
export const EVIDENCE_JSON_VERSION = 2;

export function evidenceToJson(e: Evidence): Record<string, unknown> {
  return {
    version: EVIDENCE_JSON_VERSION,
    avatarId: toHex(e.avatarId),
    ownerSerial: toHex(e.ownerSerial),
    ownerPk: toHex(encodePk(e.ownerPk)),
    driverSerial: toHex(e.driverSerial),
    warrant: warrantToJson(e.warrant),
    o: originalToJson(e.o),
    message: { type: e.message.type, time: e.message.time, body: toHex(e.message.body) },
    proxySig: toHex(encodeSig(e.proxySig)),
    ...(e.handshake
      ? {
          handshake: {
            accusedInitiated: e.handshake.accusedInitiated,
            accusedEphemeral: toHex(e.handshake.accusedEphemeral),
            accusedNonce: toHex(e.handshake.accusedNonce),
            reporter: helloToJson(e.handshake.reporter),
            reporterSig: toHex(encodeSig(e.handshake.reporterSig)),
            ...(e.handshake.session
              ? { session: { time: e.handshake.session.time, accusedSig: toHex(encodeSig(e.handshake.session.accusedSig)) } }
              : {}),
          },
        }
      : {}),
    ...(e.receipt ? { receipt: { time: e.receipt.time, sig: toHex(e.receipt.sig) } } : {}),
  };
}

/**
 * Reads JSON evidence (as written by {@link evidenceToJson}).
 * @throws AvatarProtocolError(OLD_VERSION) for version-1 evidence (a handshake that names no platform), (MALFORMED) for an unknown version
 */
export function evidenceFromJson(j: Record<string, unknown>): Evidence {
  if (j.version !== EVIDENCE_JSON_VERSION)
    throw j.version === 1
      ? new AvatarProtocolError(
          "OLD_VERSION",
          `evidenceFromJson: version 1 evidence is no longer accepted (version ${EVIDENCE_JSON_VERSION} since session 17: its handshake names no platform); authenticate again for new evidence`,
        )
      : new AvatarProtocolError("MALFORMED", `evidenceFromJson: unsupported version ${String(j.version)}`);
  const m = j.message as { type: number; time: number; body: string };
  return {
    avatarId: fromHex(String(j.avatarId), 32),
    ownerSerial: fromHex(String(j.ownerSerial), 32),
    ownerPk: decodePk(fromHex(String(j.ownerPk), 96)),
    driverSerial: fromHex(String(j.driverSerial), 32),
    warrant: warrantFromJson(j.warrant as WarrantJson),
    o: originalFromJson(j.o as OriginalJson),
    message: { type: m.type, time: m.time, body: fromHex(m.body) },
    proxySig: decodeSig(fromHex(String(j.proxySig), 48)),
    ...(j.handshake ? { handshake: handshakeFromJson(j.handshake as Record<string, unknown>) } : {}),
    ...(j.receipt
      ? { receipt: { time: Number((j.receipt as { time: number }).time), sig: fromHex((j.receipt as { sig: string }).sig, 64) } }
      : {}),
  };
}

function helloToJson(h: Hello): Record<string, unknown> {
  return {
    avatarId: toHex(h.avatarId),
    ownerSerial: toHex(h.ownerSerial),
    ownerPk: toHex(encodePk(h.ownerPk)),
    driverSerial: toHex(h.driverSerial),
    warrant: warrantToJson(h.warrant),
    o: originalToJson(h.o),
    ephemeral: toHex(h.ephemeral),
    nonce: toHex(h.nonce),
    platform: toHex(h.platform),
    peer: toHex(h.peer),
  };
}

function handshakeFromJson(j: Record<string, unknown>): NonNullable<Evidence["handshake"]> {
  const r = j.reporter as Record<string, unknown>;
  return {
    accusedInitiated: j.accusedInitiated === true,
    accusedEphemeral: fromHex(String(j.accusedEphemeral), 33),
    accusedNonce: fromHex(String(j.accusedNonce), 32),
    reporter: {
      avatarId: fromHex(String(r.avatarId), 32),
      ownerSerial: fromHex(String(r.ownerSerial), 32),
      ownerPk: decodePk(fromHex(String(r.ownerPk), 96)),
      driverSerial: fromHex(String(r.driverSerial), 32),
      warrant: warrantFromJson(r.warrant as WarrantJson),
      o: originalFromJson(r.o as OriginalJson),
      ephemeral: fromHex(String(r.ephemeral), 33),
      nonce: fromHex(String(r.nonce), 32),
      platform: fromHex(String(r.platform), 32),
      peer: fromHex(String(r.peer), 32),
    },
    reporterSig: decodeSig(fromHex(String(j.reporterSig), 48)),
    ...(j.session
      ? {
          session: {
            time: Number((j.session as { time: number }).time),
            accusedSig: decodeSig(fromHex(String((j.session as { accusedSig: string }).accusedSig), 48)),
          },
        }
      : {}),
  };
}
