// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title BordaCount
/// @notice The MSSA election arithmetic (Eqs. 1-4), shared bit-for-bit with
/// `offchain/mssa/election.ts` (a differential test keeps them equal).
/// @dev
/// - Eq. 1: R_bw_i = sum_f (t_if / A_f) * W_f, in WAD (1e18 = 1.0), each term rounded down.
/// - Eq. 2: vote_i = sum_j V_j * (1 - R_bw_i); the factor (1 - R_bw_i) is clamped at 0 because
///   the paper's weights sum to 1.2.
/// - Eqs. 3-4: voter k's preference f^k_ij = 1 iff k ranks i above j, so f^k_i = sum_j f^k_ij is
///   (n - 1 - position of i in k's ranking): the Borda points. Candidate i's score is the column
///   sum f_i = sum_k f^k_i.
/// - A tally is packed: 32-bit lanes, 8 candidates per word, so a ballot costs one storage write
///   per 8 candidates. A lane holds at most voters * (n - 1) < 2^32 for fewer than 2^26 voters.
library BordaCount {
    /// @notice 1.0 in WAD.
    uint256 internal constant WAD = 1e18;
    /// @notice Most candidates in one ballot (8 words of 8 lanes).
    uint256 internal constant MAX_CANDIDATES = 64;
    /// @notice Lanes per packed word.
    uint256 internal constant LANES = 8;
    /// @notice The four behaviour types of the paper (f_d, f_c, f_r, m_b).
    uint256 internal constant BEHAVIOURS = 4;

    /// @notice The ranking is not a permutation of 0..n-1.
    error BordaCount__InvalidRanking(uint256 n, uint256 position);
    /// @notice The number of candidates is 0 or above MAX_CANDIDATES.
    error BordaCount__InvalidSize(uint256 n);

    /// @notice Eq. 1: the misbehaviour weight ratio in WAD.
    /// @param counts t_if for the four behaviour types (each already capped at A_f)
    /// @param caps A_f, each > 0
    /// @param weights W_f in WAD
    function misbehaviourRatio(
        uint16[4] memory counts,
        uint16[4] memory caps,
        uint64[4] memory weights
    ) internal pure returns (uint256 r) {
        for (uint256 f; f < BEHAVIOURS; ++f) r += (uint256(counts[f]) * weights[f]) / caps[f];
    }

    /// @notice Eq. 2's factor applied to a score: score * max(0, 1 - ratio), in WAD units.
    function weigh(uint256 score, uint256 ratio) internal pure returns (uint256) {
        return ratio >= WAD ? 0 : score * (WAD - ratio);
    }

    /// @notice Number of packed words for n candidates.
    function words(uint256 n) internal pure returns (uint256) {
        return (n + LANES - 1) / LANES;
    }

    /// @notice The lane of candidate i in a packed tally.
    function lane(uint256[] memory packed, uint256 i) internal pure returns (uint256) {
        return (packed[i / LANES] >> (32 * (i % LANES))) & 0xffffffff;
    }

    /// @notice Eqs. 3-4 for one ballot: the packed Borda points f^k_i of a full ranking.
    /// @param ranking candidate indices from most to least preferred; a permutation of 0..n-1
    /// @param n the number of candidates
    /// @return delta the packed points, words(n) words
    function ballotPoints(uint8[] calldata ranking, uint256 n) internal pure returns (uint256[] memory delta) {
        if (n == 0 || n > MAX_CANDIDATES) revert BordaCount__InvalidSize(n);
        if (ranking.length != n) revert BordaCount__InvalidRanking(n, ranking.length);
        delta = new uint256[](words(n));
        uint256 seen;
        for (uint256 p; p < n; ++p) {
            uint256 c = ranking[p];
            if (c >= n || (seen >> c) & 1 == 1) revert BordaCount__InvalidRanking(n, p);
            seen |= 1 << c;
            delta[c / LANES] += (n - 1 - p) << (32 * (c % LANES));
        }
    }
}
