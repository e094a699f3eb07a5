/**
 * The dispute tally of DisputeResolution.sol, in TypeScript (the differential test checks them
 * against each other on random electorates), and the trust paper's Eqs. 21-22:
 *
 *   w_i = v_i / sum_j v_j                          (Eq. 21)
 *   r_final = argmax_r sum_{i voted r} w_i          (Eq. 22)
 *
 * Normalization does not move the argmax, so the outcome compares raw weight sums exactly as the
 * contract does. Below the quorum of revealed weight the dispute is void; a tie goes to the
 * lowest-numbered tied option other than 0 (docs/specs/disputes.md).
 */
import { AbiCoder, keccak256 } from "ethers";

/** A revealed (or unrevealed) vote, in reveal order. */
export type TallyVote = { voter: string; weight: bigint; choice: number; revealed: boolean; salt: string };

/** keccak256(abi.encode(id, voter, choice, salt)): the commitment a voter sends. */
export function commitmentOf(id: bigint, voter: string, choice: number, salt: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "bytes32", "uint8", "bytes32"], [id, voter, choice, salt]));
}

/** Eq. 21: each voter's normalized weight. */
export function eq21Weights(weights: bigint[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0n);
  return weights.map((w) => (total === 0n ? 0 : Number((w * 10n ** 18n) / total) / 1e18));
}

/** The outcome, as DisputeResolution.resolve computes it. */
export type TallyOutcome = {
  outcome: number;
  winningWeight: bigint;
  totalWeight: bigint;
  tieBroken: boolean;
  void: boolean;
  sums: bigint[];
};

/**
 * Eq. 22 with the contract's quorum and tie rule: below `quorum` revealed weight the dispute is
 * void; a tie goes to the lowest-numbered tied option other than 0 (a tie does not uphold a claim).
 * @param id - the dispute id (unused by the rule; kept for callers)
 * @param options - number of options
 * @param votes - the votes
 * @param quorum - the least revealed weight for a decision (WAD)
 */
export function tallyOutcome(id: bigint, options: number, votes: TallyVote[], quorum = 0n): TallyOutcome {
  void id;
  const sums = Array.from({ length: options }, () => 0n);
  for (const v of votes) if (v.revealed) sums[v.choice] += v.weight;
  const total = sums.reduce((a, b) => a + b, 0n);
  if (total === 0n || total < quorum) return { outcome: 0, winningWeight: 0n, totalWeight: total, tieBroken: false, void: true, sums };
  let best = 0n;
  let winner = 0;
  let tied = 0;
  sums.forEach((w, c) => {
    if (w > best) {
      best = w;
      winner = c;
      tied = 1;
    } else if (w === best && w !== 0n) {
      tied++;
      if (winner === 0) winner = c;
    }
  });
  return { outcome: winner, winningWeight: best, totalWeight: total, tieBroken: tied > 1, void: false, sums };
}

/** Eq. 23: A_D = N_C / N_T (as a fraction). */
export function eq23Accuracy(correct: number, total: number): number {
  return total === 0 ? 0 : correct / total;
}
