import { expect } from "chai";
import { ethers } from "ethers";
import {
  Behaviour,
  BEHAVIOUR_NAMES,
  bordaScores,
  compareRanked,
  DEFAULT_ELECTION_PARAMS as P,
  ElectionError,
  MAX_CANDIDATES,
  misbehaviourRatio,
  preferenceMatrix,
  runRound,
  tieKey,
  top,
  validateRanking,
  voterScores,
  WAD,
  weigh,
} from "../../offchain/mssa/election";
import { expectThrows } from "../helpers/errors";

const w = (x: number) => (BigInt(Math.round(x * 1000)) * WAD) / 1000n;

/** Asserts an ElectionError (INVALID_PARAMETER) with exactly this message. */
const bad = (f: () => unknown, message: string) =>
  expectThrows(f, ElectionError, "INVALID_PARAMETER", new RegExp(`^${message.replace(/[[\]()]/g, "\\$&")}$`));

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

  describe("# constants and exact checks", () => {
    it("keeps the paper's weights, our caps and the contract's limits", () => {
      expect(WAD).to.equal(10n ** 18n);
      expect(MAX_CANDIDATES).to.equal(64);
      expect(P).to.deep.equal({
        seats: 3,
        reportQuorum: 2,
        nominationPeriod: 3600,
        votingPeriod: 3600,
        caps: [5, 10, 10, 3],
        weights: [w(0.4), w(0.3), w(0.2), w(0.3)],
      });
      expect(BEHAVIOUR_NAMES).to.deep.equal({ "block-detection": 0, communication: 1, "no-response": 2, other: 3 });
    });

    it("Eq. 1 rounds each term down and accepts counts up to the caps", () => {
      const p = { caps: [3, 3, 3, 3] as [number, number, number, number], weights: [1n, 2n, 4n, 5n] as [bigint, bigint, bigint, bigint] };
      expect(misbehaviourRatio([1, 0, 0, 0], p)).to.equal(0n); // floor(1/3)
      expect(misbehaviourRatio([0, 2, 0, 0], p)).to.equal(1n); // floor(4/3)
      expect(misbehaviourRatio([1, 1, 1, 1], p)).to.equal(0n + 0n + 1n + 1n);
      expect(misbehaviourRatio([3, 3, 3, 3], p)).to.equal(12n);
      expect(misbehaviourRatio([1, 0, 0, 0], P)).to.equal(w(0.08));
      expect(misbehaviourRatio([0, 0, 0, 3], P)).to.equal(w(0.3));
    });

    it("Eq. 1 names the offending count and range", () => {
      bad(() => misbehaviourRatio([0, 0, 0], P), "expected 4 behaviour counts, got 3");
      bad(() => misbehaviourRatio([0, 0, 0, 0, 0], P), "expected 4 behaviour counts, got 5");
      bad(() => misbehaviourRatio([6, 0, 0, 0], P), "count t_0 = 6 outside [0, 5]");
      bad(() => misbehaviourRatio([0, -1, 0, 0], P), "count t_1 = -1 outside [0, 10]");
      bad(() => misbehaviourRatio([0, 0, 0.5, 0], P), "count t_2 = 0.5 outside [0, 10]");
      bad(() => misbehaviourRatio([0, 0, 0, 4], P), "count t_3 = 4 outside [0, 3]");
    });

    it("validateRanking names the offending size, length or position", () => {
      bad(() => validateRanking([], 0), "number of candidates 0 outside [1, 64]");
      bad(() => validateRanking([0], 1.5), "number of candidates 1.5 outside [1, 64]");
      bad(() => validateRanking([0], 65), "number of candidates 65 outside [1, 64]");
      bad(() => validateRanking([0, 1], 3), "a ballot ranks all 3 candidates; got 2");
      bad(() => validateRanking([1, 1, 0], 3), "position 1: candidate 1 is not a new index in [0, 3)");
      bad(() => validateRanking([0, -1, 1], 3), "position 1: candidate -1 is not a new index in [0, 3)");
      bad(() => validateRanking([0, 1, 3], 3), "position 2: candidate 3 is not a new index in [0, 3)");
      bad(() => validateRanking([0.5, 1, 2], 3), "position 0: candidate 0.5 is not a new index in [0, 3)");
      expect(() => validateRanking([0], 1)).to.not.throw();
      expect(() => validateRanking([2, 0, 1], 3)).to.not.throw();
      const all = Array.from({ length: 64 }, (_, i) => 63 - i);
      expect(() => validateRanking(all, 64)).to.not.throw();
      expect(voterScores(all, 64)[0]).to.equal(0);
      expect(voterScores(all, 64)[63]).to.equal(63);
    });

    it("compareRanked: higher score first, then lower ratio, then lower address; equal entries tie", () => {
      const e = (id: number, score: bigint, ratio: bigint) => ({ id: "0x" + id.toString(16).padStart(40, "0"), score, ratio });
      expect(compareRanked(e(1, 6n, 9n), e(2, 5n, 0n))).to.equal(-1);
      expect(compareRanked(e(2, 5n, 0n), e(1, 6n, 9n))).to.equal(1);
      expect(compareRanked(e(9, 5n, 1n), e(1, 5n, 2n))).to.equal(-1);
      expect(compareRanked(e(1, 5n, 2n), e(9, 5n, 1n))).to.equal(1);
      expect(compareRanked(e(0x10, 5n, 1n), e(0x9, 5n, 1n))).to.equal(1); // as numbers, not strings
      expect(compareRanked(e(0x9, 5n, 1n), e(0x10, 5n, 1n))).to.equal(-1);
      expect(compareRanked(e(7, 5n, 1n), e(7, 5n, 1n))).to.equal(0);
      expect(top([e(1, 1n, 0n), e(2, 3n, 0n), e(3, 2n, 0n)], 2).map((x) => x.score)).to.deep.equal([3n, 2n]);
    });
  });

  describe("# tie keys (issue 17, finding 13)", () => {
    it("orders ties by keccak(seed, address), so the lower address does not win by rule", () => {
      const lo = "0x" + "1".repeat(40);
      const hi = "0x" + "f".repeat(40);
      const e = (id: string) => ({ id, score: 5n, ratio: 0n });
      const seeds = Array.from({ length: 16 }, (_, i) => ethers.zeroPadValue(ethers.toBeHex(i + 1), 32));
      const winners = seeds.map((seed) => top([e(lo), e(hi)], 1, seed)[0].id);
      expect(winners).to.include(hi);
      expect(winners).to.include(lo);
      for (const seed of seeds) {
        const expected = tieKey(seed, lo) < tieKey(seed, hi) ? lo : hi;
        expect(top([e(hi), e(lo)], 1, seed)[0].id).to.equal(expected);
        expect(tieKey(seed, lo)).to.equal(
          BigInt(ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "address"], [seed, lo]))),
        );
      }
      // score and ratio still come first
      expect(top([{ id: lo, score: 5n, ratio: 1n }, e(hi)], 1, seeds[0])[0].id).to.equal(hi);
    });
  });

  describe("# runRound", () => {
    const ids = Array.from({ length: 7 }, (_, i) => "0x" + String(i + 1).repeat(40));
    const byPreference = (prefs: string[][]) => (cands: readonly string[]) => prefs.map((p) => p.map((id) => cands.indexOf(id)));

    it("keeps the top 2m nominees by Eq. 2 as candidates, drops factor-0 nominees, elects the top m", () => {
      const [a, b, c, d, e, f, g] = ids;
      // f has the most nominations but a ratio of 1: not eligible. e has a zero vote count. g is fifth of five.
      const nominations = new Map([
        [a, 5],
        [b, 4],
        [c, 4],
        [d, 2],
        [e, 0],
        [f, 9],
        [g, 1],
      ]);
      const counts = (n: string) => (n === f ? [5, 10, 0, 3] : n === c ? [0, 0, 5, 0] : [0, 0, 0, 0]);
      let seen: readonly string[] = [];
      const r = runRound({
        params: { ...P, seats: 2 },
        nominations,
        counts,
        ballots: (cands) => {
          seen = cands;
          return byPreference([[d, c, b, a]])(cands);
        },
      });
      // b (4 x 1.0) before c (4 x 0.9); d fourth; g beyond 2m; e (0 votes) and f (ratio >= 1) dropped
      expect(r.candidates.map((x) => x.id)).to.deep.equal([a, b, c, d]);
      expect(seen).to.deep.equal([a, b, c, d]);
      expect(r.candidates.map((x) => x.score)).to.deep.equal([5n * WAD, 4n * WAD, 4n * w(0.9), 2n * WAD]);
      expect(r.candidates[2].ratio).to.equal(w(0.1));
      expect(r.scores).to.deep.equal([0, 1, 2, 3]);
      // d: 3 points; c: 2 x 0.9 = 1.8
      expect(r.authorities).to.deep.equal([
        { id: d, ratio: 0n, score: 3n * WAD },
        { id: c, ratio: w(0.1), score: 2n * w(0.9) },
      ]);
    });

    it("takes every eligible nominee when there are fewer than 2m, but needs more than m", () => {
      const [a, b, c] = ids;
      const r = runRound({
        params: { ...P, seats: 2 },
        nominations: new Map([
          [a, 1],
          [b, 2],
          [c, 3],
        ]),
        counts: () => [0, 0, 0, 0],
        ballots: byPreference([[a, b, c]]),
      });
      expect(r.candidates.map((x) => x.id)).to.deep.equal([c, b, a]);
      expect(r.authorities.map((x) => x.id)).to.deep.equal([a, b]);
      bad(
        () =>
          runRound({
            params: { ...P, seats: 2 },
            nominations: new Map([
              [a, 1],
              [b, 1],
              [c, 1],
            ]),
            counts: (n) => (n === c ? [5, 10, 0, 3] : [0, 0, 0, 0]),
            ballots: () => [],
          }),
        "2 eligible nominees; an election of 2 needs more",
      );
    });
  });

  it("keeps Behaviour in the paper's order", () => {
    expect([Behaviour.BlockDetection, Behaviour.Communication, Behaviour.NoResponse, Behaviour.Other]).to.deep.equal([0, 1, 2, 3]);
  });
});
