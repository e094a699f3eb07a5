import { expect } from "chai";
import {
  Behaviour,
  bordaScores,
  DEFAULT_ELECTION_PARAMS as P,
  ElectionError,
  misbehaviourRatio,
  preferenceMatrix,
  runRound,
  top,
  validateRanking,
  voterScores,
  WAD,
  weigh,
} from "../../offchain/mssa/election";
import { expectThrows } from "../helpers/errors";

const w = (x: number) => (BigInt(Math.round(x * 1000)) * WAD) / 1000n;

describe("mssa/election (Eqs. 1-4, off-chain)", () => {
  describe("Eq. 1: misbehaviour ratio", () => {
    it("sums (t_f / A_f) W_f with the paper's weights", () => {
      expect(misbehaviourRatio([0, 0, 0, 0], P)).to.equal(0n);
      expect(misbehaviourRatio([5, 0, 0, 0], P)).to.equal(w(0.4)); // block detection at its cap: W_1
      expect(misbehaviourRatio([0, 5, 0, 0], P)).to.equal(w(0.15));
      expect(misbehaviourRatio([0, 0, 10, 1], P)).to.equal(w(0.2) + w(0.3) / 3n);
      expect(misbehaviourRatio([5, 10, 10, 3], P)).to.equal(w(1.2)); // the paper's weights sum to 1.2
    });

    it("rejects counts beyond A_f or of the wrong shape", () => {
      expectThrows(() => misbehaviourRatio([6, 0, 0, 0], P), ElectionError, "INVALID_PARAMETER", /outside/);
      expectThrows(() => misbehaviourRatio([0, 0, 0], P), ElectionError, "INVALID_PARAMETER");
      expectThrows(() => misbehaviourRatio([0, -1, 0, 0], P), ElectionError, "INVALID_PARAMETER");
    });

    it("Eq. 2's factor: 1 - R, clamped at 0", () => {
      expect(weigh(10n, 0n)).to.equal(10n * WAD);
      expect(weigh(10n, w(0.25))).to.equal(10n * w(0.75));
      expect(weigh(10n, WAD)).to.equal(0n);
      expect(weigh(10n, w(1.2))).to.equal(0n);
    });
  });

  describe("Eqs. 3-4: Borda count", () => {
    it("builds voter k's preference matrix f^k_ij and its row sums", () => {
      // ranking: candidate 2 first, then 0, then 1
      expect(preferenceMatrix([2, 0, 1], 3)).to.deep.equal([
        [0, 1, 0],
        [0, 0, 0],
        [1, 1, 0],
      ]);
      expect(voterScores([2, 0, 1], 3)).to.deep.equal([1, 0, 2]);
    });

    it("reproduces the Tennessee capital example (Wikipedia, 'Borda count')", () => {
      // Memphis 0, Nashville 1, Chattanooga 2, Knoxville 3; 42/26/15/17 voters per order.
      // Source: https://en.wikipedia.org/wiki/Borda_count#Example: M 126, N 194, C 173, K 107.
      const ballots = [
        ...Array(42).fill([0, 1, 2, 3]),
        ...Array(26).fill([1, 2, 3, 0]),
        ...Array(15).fill([2, 3, 1, 0]),
        ...Array(17).fill([3, 2, 1, 0]),
      ];
      const { matrix, scores } = bordaScores(ballots, 4);
      expect(scores).to.deep.equal([126, 194, 173, 107]);
      expect(matrix).to.have.length(4);
      expect(matrix[0]).to.have.length(100); // Eq. 4: candidates x voters
    });

    it("rejects rankings that are not full preference orders", () => {
      for (const bad of [
        [0, 0, 1],
        [0, 1],
        [0, 1, 3],
        [0, 1, 2, 3],
        [0, 1.5, 2],
      ])
        expectThrows(() => validateRanking(bad, 3), ElectionError, "INVALID_PARAMETER");
      expectThrows(() => validateRanking([], 0), ElectionError, "INVALID_PARAMETER");
      expectThrows(
        () =>
          validateRanking(
            Array.from({ length: 65 }, (_, i) => i),
            65,
          ),
        ElectionError,
        "INVALID_PARAMETER",
      );
    });
  });

  describe("Algorithm 1", () => {
    const A = "0x" + "a".repeat(40);
    const B = "0x" + "b".repeat(40);
    const C = "0x" + "c".repeat(40);
    const D = "0x" + "d".repeat(40);

    it("breaks ties by the lower ratio, then the lower address", () => {
      const t = top(
        [
          { id: B, score: 5n, ratio: 0n },
          { id: A, score: 5n, ratio: 1n },
          { id: C, score: 5n, ratio: 0n },
          { id: D, score: 6n, ratio: 9n },
        ],
        4,
      );
      expect(t.map((e) => e.id)).to.deep.equal([D, B, C, A]);
    });

    it("demotes a malicious candidate by its ratio", () => {
      const nominations = new Map([
        [A, 3],
        [B, 2],
        [C, 2],
        [D, 1],
      ]);
      // Every voter prefers A, then B, C, D (indices follow the candidate order of the round).
      const prefs = [
        [A, B, C, D],
        [A, C, B, D],
        [A, B, D, C],
      ];
      const ballots = (cands: readonly string[]) => prefs.map((p) => p.map((id) => cands.indexOf(id)));
      const params = { ...P, seats: 2 };
      const clean = runRound({ params, nominations, counts: () => [0, 0, 0, 0], ballots });
      expect(clean.authorities.map((a) => a.id)).to.deep.equal([A, B]);
      // A failed to detect blocks 5 times and acted maliciously 3 times: R = 0.4 + 0.3 = 0.7.
      const counts = (n: string) => (n === A ? [5, 0, 0, 3] : [0, 0, 0, 0]);
      const r = runRound({ params, nominations, counts, ballots });
      const a = r.candidates.findIndex((c) => c.id === A);
      expect(r.candidates[a].ratio).to.equal(w(0.7));
      // A's 9 Borda points * 0.3 = 2.7 < B's 5 and C's 3: A first in every ballot, and out.
      expect(r.scores[a]).to.equal(9);
      expect(r.authorities.map((a) => a.id)).to.deep.equal([B, C]);
    });

    it("refuses a round with too few eligible nominees", () => {
      expectThrows(
        () =>
          runRound({
            params: { ...P, seats: 2 },
            nominations: new Map([
              [A, 1],
              [B, 1],
            ]),
            counts: () => [0, 0, 0, 0],
            ballots: () => [],
          }),
        ElectionError,
        "INVALID_PARAMETER",
        /eligible/,
      );
    });
  });

  it("keeps Behaviour in the paper's order", () => {
    expect([Behaviour.BlockDetection, Behaviour.Communication, Behaviour.NoResponse, Behaviour.Other]).to.deep.equal([0, 1, 2, 3]);
  });
});
