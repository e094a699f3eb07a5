/**
 * The revocation sync (s22-redx F2; rsms-group.md §8 "S_RN on-chain"): the ResourcePoolRegistry's
 * revocation marks follow S_RN. An RN the MSRP holds suspicious (in S_RN, or another name of a
 * revoked real identity) has its trust identity, the one PID the MSRP attested for its TrustManager
 * registration, marked revoked (`revokePid`): `isRevoked` true and `isVerified` false, so its
 * attested trust entity loses the verified identity factor and its court standing (a juror neither
 * commits nor reveals). When the RN leaves S_RN (the operator's `rsms:rn:clear`, or the trust flag
 * that held it there lifted) the mark is lifted (`reinstatePid`).
 *
 * Level-triggered and idempotent: the changes come from the MSRP's record (S_RN against the marks
 * it recorded, {@link Msrp.revocationChanges}); each is read on the chain before it is written, and
 * recorded once the chain shows it. A retry, or a sync after a crash between a write and its
 * record, reads the mark there and writes nothing (no second transaction, no second event). The
 * caller saves S_RN before this runs (the chain never gets ahead of a decision the record could
 * lose) and saves the record after it.
 */
import type { Msrp } from "./msrp";

/** The part of RsmsLedger the sync uses. */
export type RevocationLedger = {
  isRevoked(pid: string): Promise<boolean>;
  revokePid(pid: string): Promise<unknown>;
  reinstatePid(pid: string): Promise<unknown>;
};

/**
 * Makes the registry's marks follow S_RN (see the file's comment).
 * @returns the trust identities marked and reinstated by this call (written, or found done on the
 *   chain), and those whose write failed (tried again at the next sync), each with its error
 */
export async function syncRevocations(
  ledger: RevocationLedger,
  msrp: Msrp,
): Promise<{ revoked: string[]; reinstated: string[]; failed: { pid: string; error: string }[] }> {
  const { revoke, reinstate } = msrp.revocationChanges();
  const out = { revoked: [] as string[], reinstated: [] as string[], failed: [] as { pid: string; error: string }[] };
  for (const [pids, want] of [
    [revoke, true],
    [reinstate, false],
  ] as const)
    for (const pid of pids) {
      try {
        if ((await ledger.isRevoked(pid)) !== want) await (want ? ledger.revokePid(pid) : ledger.reinstatePid(pid));
        msrp.noteRevocation(pid, want);
        (want ? out.revoked : out.reinstated).push(pid);
      } catch (e) {
        out.failed.push({ pid, error: (e as Error).message.split("\n")[0] });
      }
    }
  return out;
}
