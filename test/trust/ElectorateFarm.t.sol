// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeFixture} from "../disputes/DisputeResolution.t.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";
import {Consents} from "../helpers/forge/Consents.sol";

/// s20-redt F1 (M), fixed. Attack: the controller of ONE admin-verified organization (a day old,
/// standing 0.5) registers k plain, unverified avatars (free, reputation 0), has each rate the
/// organization at full marks and forms one agreement with all of them (64 per agreement, all
/// consents are its own keys). Before the fix `_credit` gave each +0.05 (CREDIT_CAP) and
/// `_moveTotal` added every credit to the court's electorate E (`totalReputationAt`): E grew by
/// 0.05 per free registration (measured: 6.35 -> 9.55 with 64), and a unanimous full turnout of
/// every verified identity got margin m = 0 (no dispute moved any juror). The rule (class: every
/// reputation that enters the electorate comes from verified standing): `_credit` credits only an
/// avatar with a verified identity (`isIdentityVerified`, what the court's `commit` requires), and
/// records nothing for one it skips, so an avatar verified later is credited by the pair's next
/// agreement, never retroactively for an agreement it was unverified in.
contract ElectorateFarmTest is DisputeFixture {
    uint256 internal constant ALL_ONES =
        10000 | (10000 << 16) | (10000 << 32) | (10000 << 48) | (10000 << 64) | (10000 << 80);
    uint256 internal constant K = 64; // MAX_AVATARS: one agreement
    uint256 internal bn;
    bytes32 internal org = keccak256("one verified organization");
    address internal orgCtl = address(uint160(uint256(keccak256("one verified organization"))));

    function setUp() public {
        _deploy();
        bn = block.number;
        _roll(MIN_AGE + 1);
        vm.prank(orgCtl);
        tm.register(org, ITrustManager.Kind.Organization);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(org, true); // the admin's one decision: standing 0.5
        _roll(tm.CREDIT_MATURITY() + 1);
    }

    function _roll(uint256 blocks) internal {
        bn += blocks;
        vm.roll(bn);
    }

    /// A plain avatar (free, unverified, reputation 0) that rates the organization at full marks.
    function _sock(uint256 key, bytes32 id) internal {
        vm.prank(vm.addr(key));
        tm.register(id, ITrustManager.Kind.Avatar);
        vm.prank(vm.addr(key));
        tm.rate(id, org, ALL_ONES, bytes32(0), bytes32(0), 0, 0);
    }

    function _agree(bytes32[] memory av, uint256[] memory keys) internal {
        uint64[] memory th = new uint64[](av.length);
        uint256 deadline = vm.getBlockTimestamp() + 1 hours;
        bytes32 terms = keccak256("terms");
        bytes32 digest = Consents.digest(tm, org, av, th, terms, tm.agreementNonce(org), deadline);
        bytes[] memory sigs = new bytes[](av.length);
        for (uint256 i; i < av.length; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
        vm.prank(orgCtl);
        tm.proposeAgreement(org, av, th, terms, ITrustManager.Consents(deadline, sigs));
    }

    function _one(bytes32 id, uint256 key) internal pure returns (bytes32[] memory av, uint256[] memory keys) {
        av = new bytes32[](1);
        keys = new uint256[](1);
        (av[0], keys[0]) = (id, key);
    }

    /// The red team's farm: 64 sock avatars in one agreement are credited nothing and E does not
    /// move; a verified control avatar's agreement with the same organization right after is
    /// credited (the organization has standing) and E moves by that credit exactly.
    function test_F1_unverifiedSockAvatarsDoNotInflateTheElectorate() public {
        // k free, unverified avatars, ids sorted ascending (as _settle requires), each its own key
        bytes32[] memory av = new bytes32[](K);
        uint256[] memory keys = new uint256[](K);
        for (uint256 i; i < K; ++i) {
            keys[i] = 0x50C000 + i;
            av[i] = bytes32(i + 1);
            _sock(keys[i], av[i]);
        }
        // the control: a verified avatar (reputation 0.5) that rates the organization the same way
        (bytes32[] memory ctl, uint256[] memory ctlKey) = _one(bytes32(K + 1), 0x50D000);
        _sock(ctlKey[0], ctl[0]);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(ctl[0], true);
        uint256 controlStart = tm.entity(ctl[0]).reputation;
        _roll(1);
        uint256 before = tm.totalReputationAt(uint48(bn - 1)); // every verified identity, the control's R0 too

        _agree(av, keys);
        _roll(1);
        uint256 afterFarm = tm.totalReputationAt(uint48(bn - 1));
        for (uint256 i; i < K; ++i) {
            assertFalse(tm.isIdentityVerified(av[i]), "a sock avatar is unverified");
            assertEq(tm.entity(av[i]).reputation, 0, "an unverified sock avatar was credited");
            assertEq(tm.creditOf(org, av[i]).at, 0, "a credit was recorded for an unverified avatar");
        }
        assertEq(afterFarm, before, "unverified avatars' agreement credits entered the court's electorate");
        // every verified identity of the fixture votes one way: the most any verdict can gather
        assertEq(_marginModel(before, afterFarm, BAND), WAD, "a unanimous full turnout no longer moves every juror");

        _agree(ctl, ctlKey);
        _roll(1);
        uint256 gained = tm.entity(ctl[0]).reputation - controlStart;
        assertLt(0, gained, "the verified control avatar was not credited (the organization has standing)");
        assertEq(tm.creditOf(org, ctl[0]).total, gained, "the control's credit is recorded");
        assertEq(tm.totalReputationAt(uint48(bn - 1)), afterFarm + gained, "a verified avatar's credit enters E");
    }

    /// An avatar in an agreement while unverified gets nothing for it, then or later; verified, the
    /// pair's next agreement credits it in the same epoch (the skipped one used up no epoch), once.
    function test_anAvatarVerifiedLaterIsCreditedByTheNextAgreementNotRetroactively() public {
        (bytes32[] memory av, uint256[] memory keys) = _one(bytes32(uint256(7)), 0xA11CE);
        _sock(keys[0], av[0]);
        _agree(av, keys);
        assertEq(tm.entity(av[0]).reputation, 0, "credited while unverified");
        assertEq(tm.creditOf(org, av[0]).at, 0, "a skipped avatar recorded a credit time");

        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(av[0], true);
        uint256 r0 = tm.entity(av[0]).reputation;
        assertEq(r0, 0.5e18, "verification grants R0 only: no retroactive credit for the earlier agreement");

        _roll(1); // same epoch (blocks, not time, moved)
        _agree(av, keys);
        uint256 gained = tm.entity(av[0]).reputation - r0;
        assertLt(0, gained, "the next agreement does not credit the now verified avatar");
        assertLe(gained, tm.CREDIT_CAP(), "above the per-pair cap");
        assertEq(tm.creditOf(org, av[0]).total, gained, "credit recorded");

        _roll(1);
        _agree(av, keys); // same epoch: once per pair and epoch still holds
        assertEq(tm.entity(av[0]).reputation, r0 + gained, "credited twice in one epoch");
    }

    /// Verified standing is read at the agreement: an avatar the admin unverified (it can no longer
    /// commit a vote) is credited nothing, though it keeps the reputation it had.
    function test_anAvatarUnverifiedByTheAdminIsNotCredited() public {
        (bytes32[] memory av, uint256[] memory keys) = _one(bytes32(uint256(9)), 0xB0B);
        _sock(keys[0], av[0]);
        vm.startPrank(actors[ADMIN]);
        tm.setIdentityVerified(av[0], true);
        tm.setIdentityVerified(av[0], false);
        vm.stopPrank();
        uint256 r = tm.entity(av[0]).reputation;
        _roll(1);
        uint256 e0 = tm.totalReputationAt(uint48(bn - 1));
        _agree(av, keys);
        _roll(1);
        assertEq(tm.entity(av[0]).reputation, r, "an unverified avatar was credited");
        assertEq(tm.totalReputationAt(uint48(bn - 1)), e0, "E moved");
    }
}
