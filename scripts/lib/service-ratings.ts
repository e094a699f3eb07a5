/**
 * Raters who use providers for a number of days and rate them from evidence, as clients of the
 * chain with keys of their own (the services demo, scripts/demo-services.ts): each day every rater
 * uses every provider twice, the provider's controller signs a receipt for each service, and the
 * rater's agent turns the records into the factor scores, puts the signed record set on IPFS and
 * its digest on-chain (offchain/trust/rater.ts rateWithEvidence, as `trust:interact` and
 * `trust:rate` do). Nothing here decides who is bad: a provider's services fail on the days its
 * `bad` says, and the detectors read only the chain's ratings and the records on IPFS.
 */
import { keccak256, toUtf8Bytes, type Signer } from "ethers";
import type { TrustManager } from "../../typechain-types";
import type { ContentStore } from "../../offchain/storage/content-store";
import type { EvidenceTerms, InteractionRecord } from "../../offchain/trust/evidence";
import { TrustLedger, entityId } from "../../offchain/trust/ledger";
import { rateWithEvidence, signReceipt } from "../../offchain/trust/rater";

/** The agreement every rater has with every provider: latency within 50 ms, availability and correct results. */
export const SERVICE_TERMS: EvidenceTerms = {
  latencyBoundMs: 50,
  terms: [
    { id: "availability", weight: 2 },
    { id: "correct-results", weight: 1 },
  ],
};

/** What {@link rateDays} needs. */
export type RatingDays = {
  /** the TrustManager, connected to a provider of the node */
  tm: TrustManager;
  store: ContentStore;
  /** the raters: entity names, each with its controller's signer (never a provider's controller) */
  raters: { name: string; signer: Signer }[];
  /** the providers: entity ids (0x, e.g. an RN's PID) and whether its services fail on a day */
  providers: { id: string; bad: (day: number) => boolean }[];
  /** the providers' controller, which signs the receipts */
  controller: Signer;
  days: number;
  /** moves the chain's clock forward (a pair is rated at most once a decay epoch) */
  advance: (seconds: number) => Promise<void>;
};

/**
 * Rates every provider by every rater once a day for `days` days, from signed interaction records.
 * @returns the number of ratings sent and their gas
 * @throws whatever the chain or the evidence check refuses (a rating too early, a bad record set)
 */
export async function rateDays(o: RatingDays): Promise<{ ratings: number; gas: bigint }> {
  const provider = o.tm.runner!.provider!;
  const chainId = Number((await provider.getNetwork()).chainId);
  const trustManager = await o.tm.getAddress();
  const epoch = Number((await new TrustLedger(o.tm).getModel()).epochLength);
  let ratings = 0;
  let gas = 0n;
  for (let day = 0; day < o.days; day++) {
    if (day > 0) await o.advance(epoch);
    const at = (await provider.getBlock("latest"))!.timestamp + 1;
    for (const [i, r] of o.raters.entries()) {
      const ledger = new TrustLedger(o.tm.connect(r.signer));
      for (const p of o.providers) {
        const bad = p.bad(day);
        const records: InteractionRecord[] = [];
        for (let k = 0; k < 2; k++) {
          // a good provider is now and then slow (one service in three over the bound); a bad one fails
          const slow = (day + i + k + ratings) % 3 === 0;
          const rec = { seq: k, request: keccak256(toUtf8Bytes(`${r.name}/${p.id}/${day}/${k}`)), at };
          records.push({
            ...rec,
            outcome: bad ? "failure" : "success",
            latencyMs: bad ? 400 : slow ? 80 : 20,
            kept: bad ? [false, false] : [true, true],
            receipt: await signReceipt(o.controller, {
              chainId,
              trustManager,
              from: entityId(r.name),
              to: p.id,
              ...rec,
              terms: SERVICE_TERMS,
            }),
          });
        }
        const res = await rateWithEvidence(ledger, o.store, entityId(r.name), p.id, SERVICE_TERMS, records);
        gas += res.tx.gasUsed;
        ratings++;
      }
    }
  }
  return { ratings, gas };
}
