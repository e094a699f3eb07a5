// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {TrustMath} from "../../contracts/libraries/TrustMath.sol";
import {TrustMathMock} from "../../contracts/test/TrustMathMock.sol";

/// @notice Properties TrustMath's own documentation states that the code does not keep
/// (`npm run test:findings`; excluded from CI). Each test FAILS on the current library.
contract TrustMathFindingsTest is Test {
    TrustMathMock internal mock;

    function setUp() public {
        mock = new TrustMathMock();
    }

    /// FINDING (low): checkWeights' NatSpec says "n lanes in (0, 65535]", but a zero lane passes
    /// as long as the sum is n * 10,000, so the TrustManager constructor accepts a model that
    /// silently ignores a factor. Counterexample: n = 2, lanes [0, 20000] (packed 20000 << 16) is
    /// accepted; factor 0 then has no effect on Eq. 41.
    function testFuzz_checkWeights_rejectsAZeroLane(uint256 n, uint256 k) public {
        n = bound(n, 2, 16);
        k = bound(k, 0, n - 1);
        uint256 j = (k + 1) % n;
        uint256 packed;
        for (uint256 i; i < n; ++i) {
            uint256 w =
                i == k
                    ? 0
                    : i == j
                        ? 20_000
                        : 10_000;
            packed |= w << (16 * i);
        }
        vm.expectRevert(abi.encodeWithSelector(TrustMath.TrustMath__InvalidVector.selector, packed, n));
        mock.checkWeights(packed, n);
    }
}
