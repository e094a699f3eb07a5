/**
 * MSSA authority election (MSSA paper, "Voting for authority node", Eqs. 1-4, Algorithm 1), the
 * off-chain mirror of `contracts/libraries/BordaCount.sol` and `AuthorityElection.sol`, equal to
 * them to the last unit (differential tests). Pure functions; WAD fixed point (1e18 = 1.0).
 */
import { AbiCoder, keccak256 } from "ethers";
import { MetatrustError } from "../errors";

/** 1.0 in WAD. */
export const WAD = 10n ** 18n;
/** Most candidates in one ballot (the contract's packed tally holds 64). */
export const MAX_CANDIDATES = 64;

/** The paper's four behaviour types f. */
export enum Behaviour {
  /** f = 1 (f_d): failure in block detection, W_1 = 0.4 */
  BlockDetection = 0,
  /** f = 2 (f_c): failure in node-to-node communication, W_2 = 0.3 */
  Communication = 1,
  /** f = 3 (f_r): no response, W_3 = 0.2 */
  NoResponse = 2,
  /** f = 4 (m_b): other malicious behaviour, W_4 = 0.3 */
  Other = 3,
}

/** Behaviour names as the tasks accept them. */
export const BEHAVIOUR_NAMES: Record<string, Behaviour> = {
  "block-detection": Behaviour.BlockDetection,
  communication: Behaviour.Communication,
  "no-response": Behaviour.NoResponse,
  other: Behaviour.Other,
};

/** The contract's parameters (IAuthorityElection.Params). */
export type ElectionParams = {
  /** m, authorities per round; 2m candidates */
  seats: number;
  /** sitting authorities that must attest one report */
  reportQuorum: number;
  nominationPeriod: number;
  votingPeriod: number;
  /** A_f, the largest count of each behaviour taken into account (the paper's Max_f) */
  caps: [number, number, number, number];
  /** W_f in WAD */
  weights: [bigint, bigint, bigint, bigint];
};

/**
 * Defaults: the paper's weights (0.4, 0.3, 0.2, 0.3); the paper leaves Max_f open, we take
 * A = (5, 10, 10, 3): a few missed blocks or other malicious acts weigh as much as many dropped
 * messages. With these weights a node reaches ratio 1 (and cannot be nominated) before every type
 * is at its cap, since sum W_f = 1.2.
 */
export const DEFAULT_ELECTION_PARAMS: ElectionParams = {
  seats: 3,
  reportQuorum: 2,
  nominationPeriod: 3600,
  votingPeriod: 3600,
  caps: [5, 10, 10, 3],
  weights: [4n * 10n ** 17n, 3n * 10n ** 17n, 2n * 10n ** 17n, 3n * 10n ** 17n],
};

/** A ranking or tally input is malformed. */
export class ElectionError extends MetatrustError {
  constructor(message: string) {
    super("INVALID_PARAMETER", message);
  }
}

/** Eq. 1: R_bw = sum_f floor(t_f * W_f / A_f), in WAD. */
export function misbehaviourRatio(counts: readonly number[], params: Pick<ElectionParams, "caps" | "weights">): bigint {
  if (counts.length !== 4) throw new ElectionError(`expected 4 behaviour counts, got ${counts.length}`);
  let r = 0n;
  for (let f = 0; f < 4; f++) {
    const t = counts[f];
    if (!Number.isInteger(t) || t < 0 || t > params.caps[f]) throw new ElectionError(`count t_${f} = ${t} outside [0, ${params.caps[f]}]`);
    r += (BigInt(t) * params.weights[f]) / BigInt(params.caps[f]);
  }
  return r;
}

/** Eq. 2's factor applied to a score: score * max(0, 1 - ratio), in WAD units. */
export function weigh(score: bigint, ratio: bigint): bigint {
  return ratio >= WAD ? 0n : score * (WAD - ratio);
}

/** Checks that `ranking` is a full preference order (a permutation of 0..n-1). */
export function validateRanking(ranking: readonly number[], n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CANDIDATES)
    throw new ElectionError(`number of candidates ${n} outside [1, ${MAX_CANDIDATES}]`);
  if (ranking.length !== n) throw new ElectionError(`a ballot ranks all ${n} candidates; got ${ranking.length}`);
  const seen = new Set<number>();
  ranking.forEach((c, p) => {
    if (!Number.isInteger(c) || c < 0 || c >= n || seen.has(c))
      throw new ElectionError(`position ${p}: candidate ${c} is not a new index in [0, ${n})`);
    seen.add(c);
  });
}

/** Eq. 3: voter k's preference matrix, f^k_ij = 1 iff k ranks candidate i above candidate j. */
export function preferenceMatrix(ranking: readonly number[], n: number): number[][] {
  validateRanking(ranking, n);
  // Stryker disable next-line ArrayDeclaration: `new Array()` starts empty instead of with n holes, and the next line writes pos[c] for every c in 0..n-1 (validateRanking checked that ranking is a permutation), so pos ends the same
  const pos = new Array<number>(n);
  ranking.forEach((c, p) => (pos[c] = p));
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (pos[i] < pos[j] ? 1 : 0)));
}

/** f^k_i = sum_j f^k_ij: voter k's Borda points for each candidate (row sums of Eq. 3). */
export function voterScores(ranking: readonly number[], n: number): number[] {
  return preferenceMatrix(ranking, n).map((row) => row.reduce((a, b) => a + b, 0));
}

/** Eq. 4 and f_i = sum_k f^k_i: the Borda score matrix (candidates x voters) and its row sums. */
export function bordaScores(ballots: readonly (readonly number[])[], n: number): { matrix: number[][]; scores: number[] } {
  const perVoter = ballots.map((b) => voterScores(b, n));
  const matrix = Array.from({ length: n }, (_, i) => perVoter.map((v) => v[i]));
  return { matrix, scores: matrix.map((row) => row.reduce((a, b) => a + b, 0)) };
}

/** An entry of a selection: an address, its score (already weighted) and ratio. */
export type Ranked = { id: string; score: bigint; ratio: bigint };

/**
 * The contract's tie key: keccak256(abi.encode(seed, id)) as a number. The round's seeds are a
 * commitment from `block.prevrandao` at openRound XOR the hash of each nomination
 * (`Round.nominationSeed`, for the candidate cut) or ballot (`electionSeed`, for the seats):
 * docs/specs/mssa.md §1.4.
 * @param seed - 32-byte hex
 * @param id - an address
 */
export function tieKey(seed: string, id: string): bigint {
  return BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "address"], [seed, id])));
}

/**
 * Orders entries as the contract does: score desc, ratio asc, then the tie key asc under `seed`
 * (without a seed: the address as a number, the rule before issue 17).
 */
export function compareRanked(a: Ranked, b: Ranked, seed?: string): number {
  if (a.score !== b.score) return a.score > b.score ? -1 : 1;
  if (a.ratio !== b.ratio) return a.ratio < b.ratio ? -1 : 1;
  const x = seed === undefined ? BigInt(a.id) : tieKey(seed, a.id);
  const y = seed === undefined ? BigInt(b.id) : tieKey(seed, b.id);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The k best entries in order (ties by the seed's keys when given). */
export function top(entries: readonly Ranked[], k: number, seed?: string): Ranked[] {
  return [...entries].sort((a, b) => compareRanked(a, b, seed)).slice(0, k);
}

/** What one round needs to be computed off-chain. */
export type RoundInput = {
  params: Pick<ElectionParams, "seats" | "caps" | "weights">;
  /** nominee address -> number of nominations V (Eq. 2's sum_j V_j) */
  nominations: ReadonlyMap<string, number>;
  /** node address -> behaviour counts t_if */
  counts: (node: string) => readonly number[];
  /** ballots over the candidates (indices into the returned candidate list) */
  ballots: (candidates: readonly string[]) => readonly (readonly number[])[];
  /** the round's tie-break seeds (Round.nominationSeed, Round.electionSeed); addresses without */
  seeds?: { nomination: string; election: string };
};

/** A computed round (the contract's closeNomination and elect). */
export type RoundResult = {
  candidates: Ranked[];
  scores: number[];
  authorities: Ranked[];
};

/**
 * Algorithm 1, computed off-chain: candidates are the top 2m nominees by Eq. 2 (nominees with
 * factor 0 are dropped), then the top m candidates by Borda score times (1 - R_bw), the ratio
 * being the one at the close of the nomination (frozen for the vote).
 * @throws ElectionError when at most m nominees are eligible (the contract aborts the round)
 */
export function runRound(input: RoundInput): RoundResult {
  const { seats } = input.params;
  const eligible = [...input.nominations]
    .map(([id, v]) => {
      const ratio = misbehaviourRatio(input.counts(id), input.params);
      return { id, ratio, score: weigh(BigInt(v), ratio) };
    })
    .filter((e) => e.score > 0n);
  if (eligible.length <= seats) throw new ElectionError(`${eligible.length} eligible nominees; an election of ${seats} needs more`);
  const candidates = top(eligible, Math.min(eligible.length, 2 * seats), input.seeds?.nomination);
  const { scores } = bordaScores(input.ballots(candidates.map((c) => c.id)), candidates.length);
  const final = candidates.map((c, i) => ({ id: c.id, ratio: c.ratio, score: weigh(BigInt(scores[i]), c.ratio) }));
  return { candidates, scores, authorities: top(final, seats, input.seeds?.election) };
}
