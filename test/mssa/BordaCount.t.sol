// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {BordaCount} from "../../contracts/libraries/BordaCount.sol";

/// @notice Fuzz tests of the Borda arithmetic (MSSA Eqs. 1-4) against plain reference loops.
contract BordaCountFuzzTest is Test {
    /// Eq. 2's factor: zero at or above 1.0, score * (1 - r) below it.
    function testFuzz_weigh(uint128 score, uint256 ratio) public pure {
        uint256 got = BordaCount.weigh(score, ratio);
        if (ratio >= 1e18) assertEq(got, 0, "weigh at ratio >= 1");
        else assertEq(got, uint256(score) * (1e18 - ratio), "weigh below 1");
    }
}
