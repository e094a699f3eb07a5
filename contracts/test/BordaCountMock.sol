// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BordaCount} from "../libraries/BordaCount.sol";

/// @dev Exposes BordaCount for tests and benchmarks.
contract BordaCountMock {
    function ballotPoints(uint8[] calldata ranking, uint256 n) external pure returns (uint256[] memory) {
        return BordaCount.ballotPoints(ranking, n);
    }

    function lane(uint256[] memory packed, uint256 i) external pure returns (uint256) {
        return BordaCount.lane(packed, i);
    }

    function misbehaviourRatio(
        uint16[4] memory counts,
        uint16[4] memory caps,
        uint64[4] memory weights
    ) external pure returns (uint256) {
        return BordaCount.misbehaviourRatio(counts, caps, weights);
    }
}
