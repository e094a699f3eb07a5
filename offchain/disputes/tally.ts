/**
 * The dispute tally of DisputeResolution.sol, in TypeScript (the differential test checks them
 * against each other on random electorates), and the trust paper's Eqs. 21-22:
 *
 *   w_i = v_i / sum_j v_j                          (Eq. 21)
 *   r_final = argmax_r sum_{i voted r} w_i          (Eq. 22)
 *
 * Normalization does not move the argmax, so the outcome compares raw weight sums exactly as the
 * contract does. Below the quorum of revealed weight the dispute is void; option 0 ("upheld")
 * needs a strict majority of the revealed weight, and a tie among the others goes to the
 * lowest-numbered (docs/specs/disputes.md).
 *
 * The reputation feedback (`voterFeedback`, DisputeResolution.settle) is bounded: scaled by the
 * margin m = max(0, 2 W_win - (1 + b) E) / ((1 - b) E) beyond the noise band b (`marginBand`) over
 * half of the electorate E, the total reputation of every entity at the snapshot
 * (TrustManager.totalReputationAt, fixed when the dispute opens), so that a side holding at most
 * (1 + b) / 2 of all reputation moves nobody whatever the turnout, and capped per dispute (the winners share at most `voterReward`,
 * the revealed losers at most `voterPenalty`, in proportion to their weights). The winners are
 * paid only when some revealed weight went against them (voterReward <= voterPenalty: from the losers).
 *
 * Appeals: round r needs `quorum * 2^r` revealed weight (`roundQuorum`); in an appeal round a tie
 * leaves the appealed verdict standing if it is among the tied options.
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
 * The quorum of round `round`: `quorum * 2^round` (each appeal asks for a panel twice as heavy).
 * @param quorum - the deployment's quorum (WAD)
 * @param round - the round, 0 for the first
 * @returns the least revealed weight for a decision in that round
 */
export function roundQuorum(quorum: bigint, round: number): bigint {
  return quorum << BigInt(round);
}

/**
 * Eq. 22 with the contract's quorum, majority and tie rules (DisputeResolution._decide): below
 * `quorum` revealed weight the round is void; option 0 ("upheld") wins only with a strict majority
 * of the revealed weight (every other option rejects the claim: s23-rtt R5), or, in an appeal
 * round of an upheld verdict, with exactly half (the appellant needs a strict majority);
 * otherwise the heaviest other option wins, a tie going to the lowest-numbered, or in an appeal
 * round to the appealed verdict if it is among the tied. `tieBroken`: another option holds the
 * outcome's weight.
 * @param id - the dispute id (unused by the rule; kept for callers)
 * @param options - number of options
 * @param votes - the votes
 * @param quorum - the least revealed weight for a decision in this round (WAD; see `roundQuorum`)
 * @param appealed - in an appeal round, the verdict under appeal (the previous round's outcome)
 */
export function tallyOutcome(id: bigint, options: number, votes: TallyVote[], quorum = 0n, appealed?: number): TallyOutcome {
  void id;
  const sums = Array.from({ length: options }, () => 0n);
  for (const v of votes) if (v.revealed) sums[v.choice] += v.weight;
  const total = sums.reduce((a, b) => a + b, 0n);
  if (total === 0n || total < quorum) return { outcome: 0, winningWeight: 0n, totalWeight: total, tieBroken: false, void: true, sums };
  // the heaviest option other than 0, the lowest-numbered among the tied
  let best = 0n;
  let winner = 1;
  let tied = 0;
  for (let c = 1; c < options; c++) {
    if (sums[c] > best) [best, winner, tied] = [sums[c], c, 1];
    else if (sums[c] === best && sums[c] !== 0n) tied++;
  }
  // in an appeal round a tie among the rejections leaves the appealed one standing
  if (appealed !== undefined && appealed !== 0 && tied > 1 && sums[appealed] === best) winner = appealed;
  const upheld = sums[0];
  if (upheld * 2n > total || (appealed === 0 && upheld * 2n === total))
    return { outcome: 0, winningWeight: upheld, totalWeight: total, tieBroken: upheld === best, void: false, sums };
  if (upheld === best) tied++;
  return { outcome: winner, winningWeight: best, totalWeight: total, tieBroken: tied > 1, void: false, sums };
}

const WAD = 10n ** 18n;

/**
 * The outcome's margin m (WAD): max(0, 2 W_win - (1 + b) B) / ((1 - b) B), with (1 + b) B and
 * (1 - b) B rounded as the contract does (b B = floor(B * b / 1e18)).
 * @param out - the outcome
 * @param electorate - B = E, the total reputation at the snapshot (`Dispute.electorate`): the
 *   contract's rule. Omitted, B is the revealed weight W: the rule before the electorate view
 *   (the simulation compares them). Must be >= out.winningWeight.
 * @param band - b, the noise band (`marginBand`, WAD, < 1e18); 0 is the rule before the band
 */
export function marginOf(out: TallyOutcome, electorate?: bigint, band = 0n): bigint {
  const base = electorate ?? out.totalWeight;
  const noise = (base * band) / WAD;
  const bar = base + noise;
  if (out.void || out.winningWeight * 2n <= bar) return 0n;
  return ((out.winningWeight * 2n - bar) * WAD) / (base - noise);
}

/**
 * The per-dispute caps of the voters' feedback (WAD), and the noise band of the margin (WAD;
 * omitted: 0, the rule before the band). The band applies with an electorate only.
 */
export type FeedbackParams = { voterReward: bigint; voterPenalty: bigint; marginBand?: bigint };

/**
 * One voter's reputation change, as DisputeResolution.settle computes it (to the last WAD unit).
 * @param out - the dispute's outcome (`tallyOutcome`)
 * @param vote - the voter's weight, choice and whether it revealed
 * @param eligible - for an unrevealed vote: whether the voter could have revealed ({@link couldHaveRevealed})
 * @param p - the caps
 * @param electorate - see `marginOf` (the contract passes E; omitted: the margin of the revealed weight)
 * @returns the change (WAD): + for the outcome's voters, - for the others, - voterPenalty for an eligible non-revealer
 */
export function voterFeedback(
  out: TallyOutcome,
  vote: { weight: bigint; choice: number; revealed: boolean },
  eligible: boolean,
  p: FeedbackParams,
  electorate?: bigint,
): bigint {
  if (!vote.revealed) return eligible ? -p.voterPenalty : 0n;
  const m = marginOf(out, electorate, electorate === undefined ? 0n : (p.marginBand ?? 0n));
  if (out.void || m === 0n) return 0n;
  const scaled = m * vote.weight;
  const losing = out.totalWeight - out.winningWeight;
  // the winners are paid from what the revealed losers lose: nothing if nobody voted against
  if (vote.choice === out.outcome) return losing === 0n ? 0n : (p.voterReward * scaled) / (WAD * out.winningWeight);
  return -((p.voterPenalty * scaled) / (WAD * losing));
}

/**
 * Whether a committed vote left unrevealed is penalized at settlement, as DisputeResolution._feedback
 * decides it: the voter could have revealed, i.e. it was eligible at the snapshot (not a party's,
 * enough reputation, old enough) and is not barred now by the flag-run rule (`barredNow`: it holds
 * an attack flag held since a detector run at or before the dispute's opening, `_flagBars`, the rule
 * of commit and reveal in every nature since s25-rtt R3; h11-red2 D2). A flag set after the opening
 * bars nobody, so it neither refuses the reveal nor spares the penalty (a flag that bars was held
 * at the opening and would have refused the commit: the check holds the rule, docs/specs/disputes.md).
 * Nor could a voter whose identity was withdrawn at or before the snapshot
 * (`revokedAtSnapshot`: TrustManager.hasIdentityStandingAsOf(voter, snapshot) false, a revoked MIT,
 * a marked PID or an admin's unverification in force since then; any nature: h11-red2 D1 as s26-rtx
 * left it). Such a voter could not have committed either, so the term holds the rule; a withdrawal
 * after the snapshot spares nothing (the voter could reveal). A lapsed avatar session is not a
 * revocation: that voter could reveal.
 */
export function couldHaveRevealed(a: { eligibleAtSnapshot: boolean; barredNow: boolean; revokedAtSnapshot?: boolean }): boolean {
  return a.eligibleAtSnapshot && !a.barredNow && !a.revokedAtSnapshot;
}

/** Eq. 23: A_D = N_C / N_T (as a fraction). */
export function eq23Accuracy(correct: number, total: number): number {
  return total === 0 ? 0 : correct / total;
}
