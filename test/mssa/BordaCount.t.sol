// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {BordaCount} from "../../contracts/libraries/BordaCount.sol";

/// @dev External entry points over BordaCount, so that reverts can be caught with `vm.expectRevert`
/// and `ballotPoints` gets the calldata ranking it takes.
contract BordaCountHarness {
    function ballotPoints(uint8[] calldata ranking, uint256 n) external pure returns (uint256[] memory) {
        return BordaCount.ballotPoints(ranking, n);
    }

    function misbehaviourRatio(
        uint16[4] memory counts,
        uint16[4] memory caps,
        uint64[4] memory weights
    ) external pure returns (uint256) {
        return BordaCount.misbehaviourRatio(counts, caps, weights);
    }

    function weigh(uint256 score, uint256 ratio) external pure returns (uint256) {
        return BordaCount.weigh(score, ratio);
    }
}

/// @notice Fuzz tests of the Borda arithmetic (MSSA Eqs. 1-4) against plain reference loops.
contract BordaCountFuzzTest is Test {
    BordaCountHarness internal h;

    function setUp() public {
        h = new BordaCountHarness();
    }

    // ------------------------------------------------------------------ references

    /// @dev A uniformly shuffled permutation of 0..n-1 (Fisher-Yates over a keccak stream).
    function _permutation(uint256 seed, uint256 n) internal pure returns (uint8[] memory p) {
        p = new uint8[](n);
        for (uint256 i; i < n; ++i) p[i] = uint8(i);
        for (uint256 i = n; i > 1; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, i))) % i;
            (p[i - 1], p[j]) = (p[j], p[i - 1]);
        }
    }

    /// @dev Eqs. 3-4 written out: f^k_ij = 1 iff i is ranked above j; f^k_i = sum_j f^k_ij.
    function _pairwisePoints(uint8[] memory ranking, uint256 n) internal pure returns (uint256[] memory f) {
        uint256[] memory pos = new uint256[](n);
        for (uint256 p; p < n; ++p) pos[ranking[p]] = p;
        f = new uint256[](n);
        for (uint256 i; i < n; ++i) for (uint256 j; j < n; ++j) if (i != j && pos[i] < pos[j]) f[i] += 1;
    }

    /// @dev The lane by division instead of shifts and masks.
    function _laneRef(uint256[] memory packed, uint256 i) internal pure returns (uint256) {
        uint256 word = packed[i / 8];
        for (uint256 k; k < i % 8; ++k) word /= 2 ** 32;
        return word % 2 ** 32;
    }

    // ------------------------------------------------------------------ Eq. 1

    /// Eq. 1: R = sum_f floor(t_f * W_f / A_f), term by term, for any counts, caps > 0 and weights.
    function testFuzz_misbehaviourRatio_equalsReference(
        uint16[4] memory counts,
        uint16[4] memory caps,
        uint64[4] memory weights
    ) public view {
        uint256 expected;
        for (uint256 f; f < 4; ++f) {
            caps[f] = uint16(bound(caps[f], 1, type(uint16).max));
            expected += (uint256(counts[f]) * uint256(weights[f])) / uint256(caps[f]);
        }
        assertEq(h.misbehaviourRatio(counts, caps, weights), expected, "ratio");
    }

    /// Eq. 1 with the paper's weights and capped counts: R is in [0, 1.2] and monotone in each count.
    function testFuzz_misbehaviourRatio_paperWeightsBoundedAndMonotone(
        uint16[4] memory counts,
        uint16[4] memory caps,
        uint8 which
    ) public view {
        uint64[4] memory w = [uint64(4e17), 3e17, 2e17, 3e17];
        for (uint256 f; f < 4; ++f) {
            caps[f] = uint16(bound(caps[f], 1, 1000));
            counts[f] = uint16(bound(counts[f], 0, caps[f]));
        }
        uint256 r = h.misbehaviourRatio(counts, caps, w);
        assertLe(r, 12e17, "R <= 1.2");
        if (counts[0] == caps[0] && counts[1] == caps[1] && counts[2] == caps[2] && counts[3] == caps[3])
            assertEq(r, 12e17, "all at cap");
        uint256 g = which % 4;
        if (counts[g] < caps[g]) {
            counts[g] += 1;
            assertGe(h.misbehaviourRatio(counts, caps, w), r, "monotone");
        }
    }

    /// A zero cap is a division by zero (the constructor of AuthorityElection rejects it).
    function testFuzz_misbehaviourRatio_zeroCapReverts(uint16[4] memory counts, uint8 which) public {
        uint16[4] memory caps = [uint16(1), 1, 1, 1];
        caps[which % 4] = 0;
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x12));
        h.misbehaviourRatio(counts, caps, [uint64(1), 1, 1, 1]);
    }

    // ------------------------------------------------------------------ Eq. 2

    /// Eq. 2's factor: zero at or above 1.0, score * (1 - r) below it.
    function testFuzz_weigh(uint128 score, uint256 ratio) public pure {
        uint256 got = BordaCount.weigh(score, ratio);
        if (ratio >= 1e18) assertEq(got, 0, "weigh at ratio >= 1");
        else assertEq(got, uint256(score) * (1e18 - ratio), "weigh below 1");
    }

    /// The weighting preserves the order of scores at one ratio, and of ratios at one score.
    function testFuzz_weigh_monotone(uint128 a, uint128 b, uint256 r1, uint256 r2) public pure {
        r1 = bound(r1, 0, 2e18);
        r2 = bound(r2, 0, 2e18);
        if (a <= b) assertLe(BordaCount.weigh(a, r1), BordaCount.weigh(b, r1), "score order");
        if (r1 <= r2) assertGe(BordaCount.weigh(a, r1), BordaCount.weigh(a, r2), "ratio order");
    }

    /// A score too large for the WAD product reverts (checked arithmetic), never wraps.
    function testFuzz_weigh_overflowReverts(uint256 score, uint256 ratio) public {
        ratio = bound(ratio, 0, 1e18 - 1);
        score = bound(score, type(uint256).max / (1e18 - ratio) + 1, type(uint256).max);
        vm.expectRevert(abi.encodeWithSignature("Panic(uint256)", 0x11));
        h.weigh(score, ratio);
    }

    // ------------------------------------------------------------------ packing

    /// words(n) is the least w with 8w >= n.
    function testFuzz_words(uint16 n) public pure {
        uint256 w;
        while (w * 8 < n) ++w;
        assertEq(BordaCount.words(n), w, "words");
    }

    /// lane(packed, i) is the i-th 32-bit lane, little-end first, eight per word.
    function testFuzz_lane(uint256[8] memory raw, uint8 i) public pure {
        uint256[] memory packed = new uint256[](8);
        for (uint256 k; k < 8; ++k) packed[k] = raw[k];
        i = uint8(bound(i, 0, 63));
        assertEq(BordaCount.lane(packed, i), _laneRef(packed, i), "lane");
    }

    // ------------------------------------------------------------------ Eqs. 3-4

    /// One ballot: the packed points of a random full ranking are the pairwise-preference sums of
    /// Eqs. 3-4, in words(n) words, with every lane above n - 1 empty.
    function testFuzz_ballotPoints_equalsPairwiseReference(uint256 seed, uint8 n) public view {
        n = uint8(bound(n, 1, 64));
        uint8[] memory ranking = _permutation(seed, n);
        uint256[] memory delta = h.ballotPoints(ranking, n);
        assertEq(delta.length, BordaCount.words(n), "words");
        uint256[] memory f = _pairwisePoints(ranking, n);
        uint256 total;
        for (uint256 i; i < n; ++i) {
            assertEq(BordaCount.lane(delta, i), f[i], "f_i");
            assertEq(_laneRef(delta, i), f[i], "f_i (reference lane)");
            total += f[i];
        }
        assertEq(total, (uint256(n) * (n - 1)) / 2, "sum of points is n(n-1)/2");
        for (uint256 i = n; i < delta.length * 8; ++i) assertEq(BordaCount.lane(delta, i), 0, "empty lane");
    }

    /// A tally of several ballots (word-wise addition, as AuthorityElection does) is the column sum
    /// of the voters' pairwise points: lanes never carry into each other.
    function testFuzz_ballotPoints_tallyIsColumnSum(uint256 seed, uint8 n, uint8 voters) public view {
        n = uint8(bound(n, 1, 64));
        voters = uint8(bound(voters, 1, 12));
        uint256[] memory tally = new uint256[](BordaCount.words(n));
        uint256[] memory ref = new uint256[](n);
        for (uint256 k; k < voters; ++k) {
            uint8[] memory ranking = _permutation(uint256(keccak256(abi.encode(seed, k))), n);
            uint256[] memory delta = h.ballotPoints(ranking, n);
            for (uint256 w; w < delta.length; ++w) tally[w] += delta[w];
            uint256[] memory f = _pairwisePoints(ranking, n);
            for (uint256 i; i < n; ++i) ref[i] += f[i];
        }
        for (uint256 i; i < n; ++i) assertEq(BordaCount.lane(tally, i), ref[i], "column sum");
    }

    /// Lanes hold the documented worst case: (2^26 - 1) voters all ranking candidate i first.
    function test_ballotPoints_laneHeadroom() public view {
        uint8[] memory r = _permutation(7, 64);
        uint256[] memory delta = h.ballotPoints(r, 64);
        uint256 voters = 2 ** 26 - 1;
        uint256 top = r[0];
        uint256 lane0 = BordaCount.lane(delta, top) * voters;
        assertLt(lane0, 2 ** 32, "lane below 2^32");
    }

    // ------------------------------------------------------------------ invalid rankings

    /// n = 0 or n > 64: InvalidSize(n), whatever the ranking.
    function testFuzz_ballotPoints_invalidSize(uint256 n, uint8[] memory ranking) public {
        if (n != 0) n = bound(n, 65, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(BordaCount.BordaCount__InvalidSize.selector, n));
        h.ballotPoints(ranking, n);
    }

    /// A ranking of the wrong length: InvalidRanking(n, length).
    function testFuzz_ballotPoints_wrongLength(uint256 seed, uint8 n, uint8 len) public {
        n = uint8(bound(n, 1, 64));
        len = uint8(bound(len, 0, 80));
        vm.assume(len != n);
        uint8[] memory ranking = _permutation(seed, len);
        vm.expectRevert(
            abi.encodeWithSelector(BordaCount.BordaCount__InvalidRanking.selector, uint256(n), uint256(len))
        );
        h.ballotPoints(ranking, n);
    }

    /// A full-length ranking with a repeated or out-of-range entry: InvalidRanking(n, p) at the first
    /// position p whose entry is >= n or was already seen.
    function testFuzz_ballotPoints_notAPermutation(uint256 seed, uint8 n, uint8 at, uint8 value) public {
        n = uint8(bound(n, 1, 64));
        uint8[] memory ranking = _permutation(seed, n);
        at = uint8(bound(at, 0, n - 1));
        vm.assume(ranking[at] != value);
        ranking[at] = value; // now a duplicate (value < n) or out of range (value >= n)
        uint256 bad = type(uint256).max;
        uint256 seen;
        for (uint256 p; p < n; ++p) {
            uint256 c = ranking[p];
            if (c >= n || (seen >> c) & 1 == 1) {
                bad = p;
                break;
            }
            seen |= 1 << c;
        }
        assertLt(bad, n, "the mutation broke the permutation");
        vm.expectRevert(abi.encodeWithSelector(BordaCount.BordaCount__InvalidRanking.selector, uint256(n), bad));
        h.ballotPoints(ranking, n);
    }
}
