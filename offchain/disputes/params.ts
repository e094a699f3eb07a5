/** Dispute parameters metatrust deploys (docs/specs/disputes.md). */
import { toWad } from "../trust/fixed";

/** The DisputeResolution constructor parameters. */
export type DisputeParams = {
  minReputation: bigint;
  commitPeriod: bigint;
  revealPeriod: bigint;
  deposit: bigint;
  voterReward: bigint;
  voterPenalty: bigint;
  loserPenalty: bigint;
};

export const DEFAULT_DISPUTE_PARAMS: DisputeParams = {
  minReputation: toWad(0.3),
  commitPeriod: 3_600n,
  revealPeriod: 3_600n,
  deposit: 0n,
  voterReward: toWad(0.02),
  voterPenalty: toWad(0.02),
  loserPenalty: toWad(0.1),
};
