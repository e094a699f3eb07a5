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
 * How long after signing a consent may be proposed, by default (seconds): the ledger's
 * CONSENT_TTL, and the authorities' own bound (CONSENT_TTL_MS in authority-service.ts).
 */
export const CONSENT_TTL_S = 7 * 24 * 3600;

/**
 * @throws RangeError (naming `who`) unless `ttl` is a whole number of seconds in 1..CONSENT_TTL_S
 */
export function checkConsentTtl(who: string, ttl: number): void {
  if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > CONSENT_TTL_S)
    throw new RangeError(`${who}: the consent's ttl must be 1 to ${CONSENT_TTL_S} seconds, got ${ttl}`);
}

/**
 * The user's consent to one registration, the place's identity nullifier, the election
 * nullifier (ZeroHash: access only, no elector), and the deadline she signed (unix seconds, chain time).
 */
export type Consent = { nullifier: string; electorNullifier: string; session: string; deadline: bigint; signature: string };

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
        { name: "deadline", type: "uint256" },
      ],
    },
  };
}

/**
 * The user signs its consent to a registration (place, itself, the commitment, the place's
 * nullifier, the election nullifier, the session, her current `consentNonce` at the place, and a
 * deadline). The election nullifier is signed so that no authority can attach it to another
 * account, nor add it to (or change it in) this registration. The nonce makes the consent
 * withdrawable: her cancel (or a revocation) bumps it on-chain, and every consent she signed before
 * is refused (s20-redm F3). The deadline bounds it in time: the ledger refuses it proposed later.
 * @param user - the registering user's signer
 * @param electorNullifier - her election nullifier if this registration is to make her an elector
 *   (ZeroHash, the default: access only)
 * @param ttl - seconds from the chain's latest block to the deadline, 1 to CONSENT_TTL_S (the
 *   default; the ledger refuses a deadline further than that past the block that proposes it)
 * @returns the consent to hand to the verifying authority
 * @throws RangeError for a ttl outside 1..CONSENT_TTL_S
 */
export async function consentToRegistration(
  ledger: CredentialLedger,
  user: Signer,
  place: string,
  commitment: string,
  nullifier: string,
  session: string,
  electorNullifier: string = ZeroHash,
  ttl: number = CONSENT_TTL_S,
): Promise<Consent> {
  checkConsentTtl("consentToRegistration", ttl);
  const { domain, types } = await registrationTypedData(ledger);
  const address = await user.getAddress();
  // chain time, which the ledger compares the deadline with (not this machine's clock)
  const deadline = BigInt((await ledger.runner!.provider!.getBlock("latest"))!.timestamp + ttl);
  const signature = await user.signTypedData(domain, types, {
    place,
    user: address,
    commitment,
    nullifier,
    electorNullifier,
    session,
    nonce: await ledger.consentNonce(address, place),
    deadline,
  });
  return { nullifier, electorNullifier, session, deadline, signature };
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
    .propose(place, user, commitment, consent.nullifier, consent.electorNullifier, consent.session, consent.deadline, consent.signature);
  const gas = [(await minedReceipt(tx)).gasUsed];
  for (const a of approvers.slice(1)) gas.push((await minedReceipt(ledger.connect(a).approve(id))).gasUsed);
  return { id, gas };
}
