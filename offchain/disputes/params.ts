/** Dispute parameters metatrust deploys (docs/specs/disputes.md). */
import { toWad } from "../trust/fixed";

/** The DisputeResolution constructor parameters. */
export type DisputeParams = {
  minReputation: bigint;
  /** Blocks an entity must be registered before a dispute's snapshot to vote. */
  minAge: bigint;
  /** Least revealed weight (WAD) for a decision; below it the dispute is void. */
  quorum: bigint;
  commitPeriod: bigint;
  revealPeriod: bigint;
  deposit: bigint;
  voterReward: bigint;
  voterPenalty: bigint;
  loserPenalty: bigint;
  /** Seconds after a round's reveal deadline during which its losing side may appeal. */
  appealPeriod: bigint;
  /** Wei of the first appeal; the appeal opening round r costs appealFee * 2^(r-1). */
  appealFee: bigint;
  /** Most rounds of a dispute (1: no appeals; at most 4). */
  maxRounds: bigint;
  /**
   * The noise band b of the bounded feedback (WAD, < 1): a verdict moves revealed votes only if its
   * voters hold more than (1 + b) / 2 of all reputation (docs/specs/disputes.md, "Bounded feedback").
   */
  marginBand: bigint;
};

export const DEFAULT_DISPUTE_PARAMS: DisputeParams = {
  minReputation: toWad(0.3),
  minAge: 7_200n, // about a day of 12 s blocks
  quorum: toWad(1),
  commitPeriod: 3_600n,
  revealPeriod: 3_600n,
  deposit: 10n ** 16n, // 0.01 ETH: opening a dispute costs something (returned if upheld or void)
  voterReward: toWad(0.02),
  voterPenalty: toWad(0.02),
  loserPenalty: toWad(0.1),
  appealPeriod: 3_600n,
  appealFee: 10n ** 16n, // 0.01 ETH, doubling per round (Kleros doubles the jury and the cost)
  maxRounds: 3n, // the first round and two appeals
  // a verdict pays only beyond 65% of all reputation: a coalition below half must borrow more
  // than 15% of all reputation from honest voters who err (sim:disputes: no growth at 0-45%)
  marginBand: toWad(0.3),
};
