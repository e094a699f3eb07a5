// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TrustManagerFixture} from "./TrustManager.t.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";

/// @notice Attacks on TrustManager that succeed on the current contract (`npm run test:findings`;
/// excluded from CI). Each test states the property the system should have and FAILS today; the
/// comment names the counterexample.
contract TrustManagerFindingsTest is TrustManagerFixture {
    bytes32 internal alice; // avatar, USER_A
    bytes32 internal bob; // avatar, USER_B
    bytes32 internal org; // organization, USER_B
    bytes32 internal node; // resource node, USER_A

    function setUp() public {
        vm.roll(100);
        vm.warp(1_700_000_000);
        _deploy();
        (alice, bob, org, node) = (ids[0], ids[1], ids[2], ids[3]);
        vm.roll(101);
    }

    function _all(uint256 bps) internal pure returns (uint256 f) {
        for (uint256 k; k < FACTORS; ++k) f |= bps << (16 * k);
    }

    /// FINDING (new, medium): proposeAgreement credits (Eq. 6) every listed avatar without its
    /// consent, any number of times per block. The controller of an identity-verified organization
    /// lists an avatar that rated it badly next to an allied avatar (another account) that rated it
    /// well; the mean clears Trust_min, thresholds of 0 make every "agreement" SmartContract mode,
    /// and each one blends the critic's reputation toward its low trust in the organization.
    /// Counterexample: alice rates org 3x at 1,000 bps a day apart, the ally (STRANGER's) 5x at
    /// 10,000 bps; 7 agreements by USER_B in one block take alice's reputation below 0.3, so she
    /// can no longer vote in any dispute opened later.
    function test_anAgreementDoesNotMoveTheReputationOfAnAvatarThatDidNotSignIt() public {
        bytes32 ally = ids[4];
        vm.prank(actors[STRANGER]);
        tm.register(ally, ITrustManager.Kind.Avatar);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(org, true);
        uint256 t = block.timestamp; // (via-IR may reuse block.timestamp across warps in one frame)
        for (uint256 i; i < 5; ++i) {
            if (i < 3) {
                vm.prank(actors[USER_A]);
                tm.rate(alice, org, _all(1_000), bytes32(0), bytes32(0));
            }
            vm.prank(actors[STRANGER]);
            tm.rate(ally, org, _all(BPS), bytes32(0), bytes32(0));
            vm.warp(t += 1 days);
        }
        bytes32[] memory avatars = new bytes32[](2);
        (avatars[0], avatars[1]) = alice < ally ? (alice, ally) : (ally, alice);
        uint64[] memory thresholds = new uint64[](2);
        vm.startPrank(actors[USER_B]);
        for (uint256 i; i < 7; ++i)
            tm.proposeAgreement(org, avatars, thresholds, keccak256(abi.encode("terms", i)), "");
        vm.stopPrank();
        uint256 rep = tm.entity(alice).reputation;
        assertGe(rep, 0.3e18, "alice was pushed below the dispute eligibility threshold");
        assertEq(rep, INITIAL_REP, "an agreement alice never signed changed her reputation");
    }
}
