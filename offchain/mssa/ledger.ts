/**
 * The CredentialLedger as the place's authorities use it: the verifying authority proposes a
 * registration it has verified off-chain (its approval), then the others approve until k.
 */
import type { Signer } from "ethers";
import type { CredentialLedger } from "../../typechain-types";

/** What recording a registration cost, per transaction in approval order. */
export type Recorded = { id: string; gas: bigint[] };

/**
 * Records a verified registration: `approvers[0]` proposes, the others approve.
 * @param approvers - the place authorities that sign, the verifier first (k of them for access)
 */
export async function recordRegistration(
  ledger: CredentialLedger,
  place: string,
  user: string,
  commitment: string,
  approvers: readonly Signer[],
): Promise<Recorded> {
  if (approvers.length === 0) throw new RangeError("recordRegistration: at least the verifying authority signs");
  const id = await ledger.registrationId(place, user, commitment);
  const gas = [(await (await ledger.connect(approvers[0]).propose(place, user, commitment)).wait())!.gasUsed];
  for (const a of approvers.slice(1)) gas.push((await (await ledger.connect(a).approve(id)).wait())!.gasUsed);
  return { id, gas };
}
