/**
 * Whether the trust layer flags a resource node under one of its pseudonyms, as the MSRP judges it
 * (group formation, key-update eviction, the flag sync into S_RN).
 *
 * Only the RN's own entity counts: one registered with the MSRP's attestation as a resource node
 * (`registerAttested`, which only the RN's controller can use: the MSRP attests one PID per RN, to
 * the RN that proves sk_RN). Anyone may take an entity id with `register` under another kind, or as
 * an unattested resource node before the PID's join record lands, behave badly under it and get it
 * flagged for that: a flag there is the registrant's conduct, not the RN's (h12-red F1: otherwise
 * anyone could put any RN in S_RN by registering its public PID as an organization).
 */
import type { TrustManager } from "../../typechain-types";
import { toHex } from "../crypto/bytes";
import { EntityKind } from "./ledger";

/** Attack flags of the TrustManager (bits 0-6; bit 7 is the identity flag). */
export const ATTACK_MASK = 0x7f;

/**
 * The attack flags of the RN's own trust entity under `pid`, or 0 when the entity under that id is
 * not an attested resource node (none, or someone else's).
 * @param trust - the TrustManager (read)
 * @param pid - one of the RN's pseudonyms
 */
export async function rnTrustFlags(trust: TrustManager, pid: Uint8Array): Promise<number> {
  const e = await trust.entity(toHex(pid));
  if (Number(e.kind) !== EntityKind["resource-node"] || !e.attested) return 0;
  return Number(e.flags) & ATTACK_MASK;
}

/** Whether the RN's own trust entity under `pid` carries an attack flag ({@link rnTrustFlags}). */
export async function rnTrustFlagged(trust: TrustManager, pid: Uint8Array): Promise<boolean> {
  return (await rnTrustFlags(trust, pid)) !== 0;
}
