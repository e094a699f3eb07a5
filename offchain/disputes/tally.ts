/**
 * The dispute tally of DisputeResolution.sol, in TypeScript (the differential test checks them
 * against each other on random electorates), and the trust paper's Eqs. 21-22:
 *
 *   w_i = v_i / sum_j v_j                          (Eq. 21)
 *   r_final = argmax_r sum_{i voted r} w_i          (Eq. 22)
 *
 * Normalization does not move the argmax, so the outcome compares raw weight sums exactly as the
 * contract does. A tie is broken by one voter of the tied options, drawn with
 * keccak256(abi.encode(xor of revealed salts, disputeId)) modulo their number, in reveal order.
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
  drawnVoter?: string;
  void: boolean;
  sums: bigint[];
};

/**
 * Eq. 22 with the contract's tie-break.
 * @param id - the dispute id
 * @param options - number of options
 * @param votes - the votes, revealed ones in reveal order
 */
export function tallyOutcome(id: bigint, options: number, votes: TallyVote[]): TallyOutcome {
  const revealed = votes.filter((v) => v.revealed);
  const sums = Array.from({ length: options }, () => 0n);
  const byChoice: string[][] = Array.from({ length: options }, () => []);
  let saltXor = 0n;
  for (const v of revealed) {
    sums[v.choice] += v.weight;
    byChoice[v.choice].push(v.voter);
    saltXor ^= BigInt(v.salt);
  }
  const total = sums.reduce((a, b) => a + b, 0n);
  if (total === 0n) return { outcome: 0, winningWeight: 0n, totalWeight: 0n, tieBroken: false, void: true, sums };
  let best = 0n;
  let winner = 0;
  let tied = 0;
  sums.forEach((w, c) => {
    if (w > best) {
      best = w;
      winner = c;
      tied = 1;
    } else if (w === best && w !== 0n) tied++;
  });
  if (tied <= 1) return { outcome: winner, winningWeight: best, totalWeight: total, tieBroken: false, void: false, sums };
  const n = sums.reduce((a, w, c) => (w === best ? a + byChoice[c].length : a), 0);
  const seed = BigInt(
    keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], ["0x" + saltXor.toString(16).padStart(64, "0"), id])),
  );
  let r = Number(seed % BigInt(n));
  for (let c = 0; c < options; c++) {
    if (sums[c] !== best) continue;
    if (r < byChoice[c].length)
      return { outcome: c, winningWeight: best, totalWeight: total, tieBroken: true, drawnVoter: byChoice[c][r], void: false, sums };
    r -= byChoice[c].length;
  }
  throw new Error("tallyOutcome: unreachable");
}

/** Eq. 23: A_D = N_C / N_T (as a fraction). */
export function eq23Accuracy(correct: number, total: number): number {
  return total === 0 ? 0 : correct / total;
}
