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

    /// FINDING (known, rating flood): a rater's repeated ratings of one pair in one block each
    /// count as a fresh observation, so one controller moves trust as far as it likes at once.
    /// Counterexample: 20 zero-score ratings alice -> bob in one block store 0.5 * 0.7^20 ~ 4e-4;
    /// one rating stores 0.35.
    function test_aRatingFloodInOneBlockCountsOnce() public {
        vm.startPrank(actors[USER_A]);
        uint64 once = tm.rate(alice, bob, _all(0), bytes32(0), bytes32(0));
        uint64 flooded = once;
        for (uint256 i; i < 19; ++i) flooded = tm.rate(alice, bob, _all(0), bytes32(0), bytes32(0));
        vm.stopPrank();
        assertEq(flooded, once, "20 ratings in one block moved trust more than one");
    }

    /// FINDING (known, self-rating through a second entity): rate refuses from == to, but one
    /// controller holding two entities rates one from the other. Counterexample: USER_A controls
    /// alice and node; rate(alice, node, all 10,000 bps) succeeds and lifts T(alice -> node) from
    /// the 0.5 baseline to 0.65.
    function test_aControllerCannotRateItsOwnEntity() public {
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__SelfRating.selector, alice));
        vm.prank(actors[USER_A]);
        tm.rate(alice, node, _all(BPS), bytes32(0), bytes32(0));
    }

    /// FINDING (new, medium): proposeAgreement credits (Eq. 6) every listed avatar without its
    /// consent, any number of times per block. The controller of an identity-verified organization
    /// lists an avatar that rated it badly next to its own avatar that rated it well; the mean
    /// clears Trust_min, thresholds of 0 make every "agreement" SmartContract mode, and each one
    /// blends the critic's reputation toward its low trust in the organization. Counterexample:
    /// alice rates org 3x at 1,000 bps (T = 0.237), bob (USER_B's) rates org 5x at 10,000 bps
    /// (T = 0.916), mean 0.577 >= 0.5; 7 agreements by USER_B in one block take alice's
    /// reputation from 0.5 to 0.292 < 0.3, so she can no longer vote in any dispute opened later.
    function test_anAgreementDoesNotMoveTheReputationOfAnAvatarThatDidNotSignIt() public {
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(org, true);
        vm.startPrank(actors[USER_A]);
        for (uint256 i; i < 3; ++i) tm.rate(alice, org, _all(1_000), bytes32(0), bytes32(0));
        vm.stopPrank();
        vm.startPrank(actors[USER_B]);
        for (uint256 i; i < 5; ++i) tm.rate(bob, org, _all(BPS), bytes32(0), bytes32(0));
        bytes32[] memory avatars = new bytes32[](2);
        (avatars[0], avatars[1]) = alice < bob ? (alice, bob) : (bob, alice);
        uint64[] memory thresholds = new uint64[](2);
        for (uint256 i; i < 7; ++i)
            tm.proposeAgreement(org, avatars, thresholds, keccak256(abi.encode("terms", i)), "");
        vm.stopPrank();
        uint256 rep = tm.entity(alice).reputation;
        assertGe(rep, 0.3e18, "alice was pushed below the dispute eligibility threshold");
        assertEq(rep, INITIAL_REP, "an agreement alice never signed changed her reputation");
    }

    /// FINDING (low): adjustReputation documents "adds a signed amount ... clamped to [0, 1]", but
    /// int256(old) + amount overflows for amounts near type(int256).max. Counterexample:
    /// adjustReputation(alice, type(int256).max) reverts with Panic(0x11) instead of setting 1e18.
    function testFuzz_adjustReputation_clampsAnyAmount(int256 amount) public {
        amount = int256(bound(uint256(amount), uint256(type(int256).max) - 1e18, uint256(type(int256).max)));
        vm.prank(actors[FEEDBACK]);
        tm.adjustReputation(alice, amount);
        assertEq(tm.entity(alice).reputation, WAD, "not clamped to 1");
    }
}
