/**
 * The CredentialLedger as the place's authorities use it: the verifying authority proposes a
 * registration it has verified off-chain (its approval) with the user's EIP-712 consent, the place's
 * identity nullifier and, when the user chose this registration to make her an elector, her
 * election nullifier (docs/specs/mssa.md §1.8), then the others approve until k.
 */
import { ZeroHash, type Signer } from "ethers";
import type { CredentialLedger } from "../../typechain-types";
import { minedReceipt } from "../chain/mined";

/** What recording a registration cost, per transaction in approval order. */
export type Recorded = { id: string; gas: bigint[] };

/**
 * The user's consent to one registration, the place's identity nullifier, and the election
 * nullifier (ZeroHash: access only, no elector).
 */
export type Consent = { nullifier: string; electorNullifier: string; session: string; signature: string };

/** The EIP-712 domain and type of CredentialLedger's `Registration`. */
export async function registrationTypedData(ledger: CredentialLedger) {
  const { chainId } = await ledger.runner!.provider!.getNetwork();
  return {
    domain: { name: "metatrust MSSA CredentialLedger", version: "1", chainId, verifyingContract: await ledger.getAddress() },
    types: {
      Registration: [
        { name: "place", type: "bytes32" },
        { name: "user", type: "address" },
        { name: "commitment", type: "bytes32" },
        { name: "nullifier", type: "bytes32" },
        { name: "electorNullifier", type: "bytes32" },
        { name: "session", type: "bytes32" },
        { name: "nonce", type: "uint256" },
      ],
    },
  };
}

/**
 * The user signs its consent to a registration (place, itself, the commitment, the place's
 * nullifier, the election nullifier, the session, and her current `consentNonce` at the place). The
 * election nullifier is signed so that no authority can attach it to another account, nor add it to
 * (or change it in) this registration. The nonce makes the consent withdrawable: her cancel (or a
 * revocation) bumps it on-chain, and every consent she signed before is refused (s20-redm F3).
 * @param user - the registering user's signer
 * @param electorNullifier - her election nullifier if this registration is to make her an elector
 *   (ZeroHash, the default: access only)
 * @returns the consent to hand to the verifying authority
 */
export async function consentToRegistration(
  ledger: CredentialLedger,
  user: Signer,
  place: string,
  commitment: string,
  nullifier: string,
  session: string,
  electorNullifier: string = ZeroHash,
): Promise<Consent> {
  const { domain, types } = await registrationTypedData(ledger);
  const address = await user.getAddress();
  const signature = await user.signTypedData(domain, types, {
    place,
    user: address,
    commitment,
    nullifier,
    electorNullifier,
    session,
    nonce: await ledger.consentNonce(address, place),
  });
  return { nullifier, electorNullifier, session, signature };
}

/**
 * Records a verified registration: `approvers[0]` proposes, the others approve.
 * @param approvers - the place authorities that sign, the verifier first (k of them for access)
 * @param consent - the user's signed consent and the identity nullifier
 * @throws RangeError without a verifying authority
 */
export async function recordRegistration(
  ledger: CredentialLedger,
  place: string,
  user: string,
  commitment: string,
  approvers: readonly Signer[],
  consent: Consent,
): Promise<Recorded> {
  if (approvers.length === 0) throw new RangeError("recordRegistration: at least the verifying authority signs");
  const id = await ledger.registrationId(place, user, commitment);
  const tx = await ledger
    .connect(approvers[0])
    .propose(place, user, commitment, consent.nullifier, consent.electorNullifier, consent.session, consent.signature);
  const gas = [(await minedReceipt(tx)).gasUsed];
  for (const a of approvers.slice(1)) gas.push((await minedReceipt(ledger.connect(a).approve(id))).gasUsed);
  return { id, gas };
}
