// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title TrustMath
/// @notice Fixed-point trust arithmetic of the trust paper's Ethereum implementation (§VI.A), shared
/// bit-for-bit with `offchain/trust/fixed.ts` (a differential test keeps them equal).
/// @dev All values are WAD fixed point (1e18 = 1.0) and every product rounds down.
/// - Eq. 41: T_opt = (1/n) * sum_k w_k f_k, with n factor scores f_k in basis points and weights
///   w_k in basis points whose mean is 1 (sum w_k = n * 10,000), so T_opt is in [0, 1].
/// - Time decay (the lazy reading of Eq. 43): a stored trust value relaxes toward a baseline b by a
///   retention factor rho per elapsed epoch: T(t) = b + (T - b) * rho^floor(dt / epoch).
/// - Eq. 43: T = delta * T_opt + (1 - delta) * T_prev(t).
/// - Eq. 46: T_final = clamp(T + gamma * O, 0, 1), O in [-1, 1].
library TrustMath {
    /// @notice 1.0 in WAD.
    uint256 internal constant WAD = 1e18;
    /// @notice 1.0 in basis points.
    uint256 internal constant BPS = 10_000;
    /// @notice Largest number of factors packed in one word (16 bits each).
    uint256 internal constant MAX_FACTORS = 16;

    /// @notice A packed factor or weight vector is malformed.
    error TrustMath__InvalidVector(uint256 packed, uint256 n);

    /// @notice a * b / WAD, rounded down.
    function mulWad(uint256 a, uint256 b) internal pure returns (uint256) {
        return (a * b) / WAD;
    }

    /// @notice x^n in WAD by binary exponentiation (x <= WAD), rounding down at every product.
    function powWad(uint256 x, uint256 n) internal pure returns (uint256 r) {
        r = WAD;
        while (n != 0) {
            if (n & 1 == 1) r = mulWad(r, x);
            x = mulWad(x, x);
            n >>= 1;
        }
    }

    /// @notice The k-th 16-bit lane of a packed vector.
    function lane(uint256 packed, uint256 k) internal pure returns (uint256) {
        return (packed >> (16 * k)) & 0xffff;
    }

    /// @notice Checks a packed weight vector: n lanes in (0, 65535], sum = n * BPS, unused lanes zero.
    function checkWeights(uint256 packed, uint256 n) internal pure {
        if (n == 0 || n > MAX_FACTORS) revert TrustMath__InvalidVector(packed, n);
        uint256 sum;
        for (uint256 k; k < n; ++k) {
            uint256 w = lane(packed, k);
            // A zero lane would silently drop its factor from Eq. 41.
            if (w == 0) revert TrustMath__InvalidVector(packed, n);
            sum += w;
        }
        if (sum != n * BPS || (n < MAX_FACTORS && packed >> (16 * n) != 0)) revert TrustMath__InvalidVector(packed, n);
    }

    /// @notice Eq. 41: T_opt = (1/n) sum_k w_k f_k in WAD, factors f_k in [0, BPS] basis points.
    function optimizedTrust(uint256 factors, uint256 weights, uint256 n) internal pure returns (uint256) {
        if (n < MAX_FACTORS && factors >> (16 * n) != 0) revert TrustMath__InvalidVector(factors, n);
        uint256 acc;
        // At most 16 lanes of 16-bit values: acc < 2^36, no overflow.
        unchecked {
            for (uint256 k; k < n; ++k) {
                uint256 f = lane(factors, k);
                if (f > BPS) revert TrustMath__InvalidVector(factors, n);
                acc += lane(weights, k) * f;
            }
        }
        // acc <= n * BPS * BPS; divide by n * BPS^2 and scale to WAD.
        return (acc * WAD) / (n * BPS * BPS);
    }

    /// @notice Relaxes a value toward a baseline after `epochs` epochs with retention rho (WAD).
    function decay(uint256 value, uint256 baseline, uint256 rho, uint256 epochs) internal pure returns (uint256) {
        if (epochs == 0 || value == baseline) return value;
        uint256 p = powWad(rho, epochs);
        return value > baseline ? baseline + mulWad(value - baseline, p) : baseline - mulWad(baseline - value, p);
    }

    /// @notice Eq. 43: delta * tOpt + (1 - delta) * prev.
    function blend(uint256 tOpt, uint256 prev, uint256 delta) internal pure returns (uint256) {
        return mulWad(delta, tOpt) + mulWad(WAD - delta, prev);
    }

    /// @notice Eq. 46: clamp(t + gamma * o, 0, WAD) with o a signed WAD in [-WAD, WAD].
    function withOracle(uint256 t, int256 o, uint256 gamma) internal pure returns (uint256) {
        if (o >= 0) {
            uint256 r = t + mulWad(gamma, uint256(o));
            return r > WAD ? WAD : r;
        }
        uint256 d = mulWad(gamma, uint256(-o));
        return d >= t ? 0 : t - d;
    }
}
