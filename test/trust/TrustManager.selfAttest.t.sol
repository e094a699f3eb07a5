// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TrustManagerReclaimFixture} from "./TrustManager.reclaim.t.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";
import {Vm} from "../helpers/forge/Test.sol";

/// @notice An entry's own attestation is not a reclaim (session 14, docs/specs/trust.md §6): the
/// account that registered an avatar plainly and attests it with `registerAttested` keeps the id's
/// generation, so its pairs (values, counts, epoch markers, oracle terms, both ways), its credits
/// and its flags stay; only the attestation, the vouched bit and the initial reputation (granted
/// once, from this block) are added. Another account's attestation, or the same account attesting
/// it as another kind, is still a reclaim (TrustManager.reclaim.t.sol).
/// Uses the reclaim suites' set-up (owl, the registrar's key, `_attest`, `_factors`).
contract TrustManagerSelfAttestTest is TrustManagerReclaimFixture {
    event EntityAttested(bytes32 indexed id, ITrustManager.Kind kind, address indexed controller);
    event EntityRegistered(bytes32 indexed id, ITrustManager.Kind kind, address indexed controller);

    function _pairHash(bytes32 from, bytes32 to) internal view returns (bytes32) {
        return keccak256(abi.encode(tm.pairOf(from, to)));
    }

    /// USER_A registers owl plainly, rates and is rated for some epochs, gets oracle terms and a
    /// detector's flag; then attests it herself: every pair of owl reads as before, the flag stays,
    /// the epoch markers hold (no second rating this epoch), and the standing starts now.
    function testFuzz_selfAttest_keepsWhatTheEntryWrote(
        uint256 factorSeed,
        uint256 ratingsSeed,
        uint8 flagKind
    ) public {
        address owner = actors[USER_A];
        flagKind = uint8(bound(flagKind, 0, 6));
        uint256 rounds = bound(ratingsSeed, 1, 3);
        vm.prank(owner);
        tm.register(owl, ITrustManager.Kind.Avatar);
        bytes32[2] memory targets = [ids[1], ids[2]]; // USER_B's avatar and organization
        uint256 time = t0;
        for (uint256 r; r < rounds; ++r) {
            time += EPOCH;
            vm.warp(time);
            for (uint256 k; k < 2; ++k) {
                uint256 f = _factors(uint256(keccak256(abi.encode(factorSeed, r, k))));
                vm.prank(owner);
                tm.rate(owl, targets[k], f, bytes32(0), bytes32(0), 0, 0);
                vm.prank(actors[USER_B]);
                tm.rate(targets[k], owl, f, bytes32(0), bytes32(0), 0, 0);
            }
        }
        vm.startPrank(actors[ORACLE]);
        tm.setOracle(owl, targets[1], int64(int256(WAD / 4)), tm.generationOf(owl), tm.generationOf(targets[1]));
        tm.setOracle(targets[1], owl, -int64(int256(WAD / 4)), tm.generationOf(targets[1]), tm.generationOf(owl));
        vm.stopPrank();
        vm.prank(actors[DETECTOR]);
        tm.flag(owl, flagKind, keccak256("report"), 0);
        bytes32[4] memory before = [
            _pairHash(owl, targets[0]),
            _pairHash(owl, targets[1]),
            _pairHash(targets[0], owl),
            _pairHash(targets[1], owl)
        ];
        uint8 flags = tm.entity(owl).flags;
        vm.roll(150);

        stubAvatar.set(owl, true);
        bytes memory a = _attest(owl, owner);
        vm.expectEmit();
        emit EntityAttested(owl, ITrustManager.Kind.Avatar, owner);
        vm.recordLogs();
        vm.prank(owner);
        tm.registerAttested(owl, ITrustManager.Kind.Avatar, t0 + 400 days, a);
        // AvatarOwnerBound, ReputationUpdated, EntityAttested: no EntityReclaimed, and no
        // EntityRegistered (which starts a new era off chain: TrustLedger.ratings, verifyRating)
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3, "three events");
        for (uint256 i; i < logs.length; ++i) {
            assertTrue(logs[i].topics[0] != EntityRegistered.selector, "EntityRegistered");
            assertTrue(logs[i].topics[0] != ITrustManager.EntityReclaimed.selector, "EntityReclaimed");
        }

        assertEq(tm.generationOf(owl), 0, "generation: not a reclaim");
        ITrustManager.Entity memory e = tm.entity(owl);
        assertEq(e.controller, owner, "controller");
        assertEq(e.flags, flags, "a flag is not laundered by attesting");
        assertTrue(e.attested && e.vouched, "attested");
        assertEq(e.reputation, INITIAL_REP, "the initial reputation, once");
        vm.roll(151);
        (, uint256 grantedAt) = tm.standingAt(owl, 150);
        assertEq(grantedAt, 150, "the standing starts at the attestation (D3)");
        assertEq(_pairHash(owl, targets[0]), before[0], "owl's pair with USER_B's avatar");
        assertEq(_pairHash(owl, targets[1]), before[1], "owl's pair with USER_B's organization");
        assertEq(_pairHash(targets[0], owl), before[2], "the avatar's pair with owl");
        assertEq(_pairHash(targets[1], owl), before[3], "the organization's pair with owl");
        // the epoch markers are the same pairs': no second rating this epoch
        vm.expectRevert();
        vm.prank(actors[USER_B]);
        tm.rate(targets[0], owl, _factors(factorSeed), bytes32(0), bytes32(0), 0, 0);
        // and attested once: a second attestation is refused
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__EntityExists.selector, owl));
        vm.prank(owner);
        tm.registerAttested(owl, ITrustManager.Kind.Avatar, t0 + 400 days, a);
    }

    /// The admin's verification granted the plain entry its initial reputation already: the
    /// attestation does not grant it twice, and the standing keeps the block it was granted at.
    function test_selfAttest_vouchedBefore_noSecondGrant() public {
        address owner = actors[USER_A];
        vm.prank(owner);
        tm.register(owl, ITrustManager.Kind.Avatar);
        vm.roll(120);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(owl, true);
        vm.roll(150);
        stubAvatar.set(owl, true);
        bytes memory a = _attest(owl, owner);
        vm.prank(owner);
        tm.registerAttested(owl, ITrustManager.Kind.Avatar, t0 + 400 days, a);
        assertEq(tm.entity(owl).reputation, INITIAL_REP, "granted once");
        vm.roll(151);
        (, uint256 grantedAt) = tm.standingAt(owl, 150);
        assertEq(grantedAt, 120, "the standing from the admin's verification");
        assertEq(tm.generationOf(owl), 0, "generation");
    }

    /// The same account, attesting the id as another kind than it registered it: a reclaim (a new
    /// generation, the flags cleared), as before.
    function test_selfAttest_otherKind_isAReclaim() public {
        address owner = actors[USER_A];
        vm.prank(owner);
        tm.register(owl, ITrustManager.Kind.Organization);
        vm.prank(actors[DETECTOR]);
        tm.flag(owl, 1, keccak256("report"), 0);
        stubAvatar.set(owl, true);
        bytes memory a = _attest(owl, owner);
        vm.expectEmit();
        emit EntityRegistered(owl, ITrustManager.Kind.Avatar, owner);
        vm.prank(owner);
        tm.registerAttested(owl, ITrustManager.Kind.Avatar, t0 + 400 days, a);
        assertEq(tm.generationOf(owl), 1, "a new generation");
        assertEq(tm.entity(owl).flags, 0, "a reclaim starts afresh");
    }
}
