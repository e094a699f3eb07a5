/**
 * Interaction records with their provider receipts, for the evidence tests (test/trust/evidence*.test.ts):
 * the provider's controller (or whichever key a test makes sign) signs each record's receipt for
 * one pair, as `InteractionLog.record` has it signed (offchain/trust/rater.ts, docs/specs/trust.md §8).
 */
import type { Signer } from "ethers";
import type { EvidenceTerms, InteractionRecord } from "../../offchain/trust/evidence";
import { signReceipt } from "../../offchain/trust/rater";

/** A record before its receipt. */
export type Unsigned = Omit<InteractionRecord, "receipt">;

/**
 * The records with a receipt each, signed by `signer` for the pair (from, to) of `trustManager`.
 * @param p.chainId - default 31337 (Hardhat)
 * @returns new records (the inputs are not changed)
 */
export async function withReceipts(
  signer: Signer,
  p: { trustManager: string; from: string; to: string; terms: EvidenceTerms; chainId?: number },
  records: Unsigned[],
): Promise<InteractionRecord[]> {
  const out: InteractionRecord[] = [];
  for (const r of records)
    out.push({
      ...r,
      receipt: await signReceipt(signer, {
        chainId: p.chainId ?? 31337,
        trustManager: p.trustManager,
        from: p.from,
        to: p.to,
        seq: r.seq,
        request: r.request,
        at: r.at,
        terms: p.terms,
      }),
    });
  return out;
}
