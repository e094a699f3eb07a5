// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TrustMath} from "../libraries/TrustMath.sol";

/// @dev Exposes TrustMath to the differential tests.
contract TrustMathMock {
    function powWad(uint256 x, uint256 n) external pure returns (uint256) {
        return TrustMath.powWad(x, n);
    }

    function optimizedTrust(uint256 factors, uint256 weights, uint256 n) external pure returns (uint256) {
        return TrustMath.optimizedTrust(factors, weights, n);
    }

    function decay(uint256 value, uint256 baseline, uint256 rho, uint256 epochs) external pure returns (uint256) {
        return TrustMath.decay(value, baseline, rho, epochs);
    }

    function blend(uint256 tOpt, uint256 prev, uint256 delta) external pure returns (uint256) {
        return TrustMath.blend(tOpt, prev, delta);
    }

    function withOracle(uint256 t, int256 o, uint256 gamma) external pure returns (uint256) {
        return TrustMath.withOracle(t, o, gamma);
    }

    function checkWeights(uint256 packed, uint256 n) external pure {
        TrustMath.checkWeights(packed, n);
    }
}
