// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeFixture} from "./DisputeResolution.t.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";
import {Consents} from "../helpers/forge/Consents.sol";

/// @notice Red-team finding F2 (h8-redtrust), now a regression suite: an avatar cannot buy its
/// court weight (its reputation, what every later dispute weighs its vote by) through
/// agreements with organizations it or an accomplice controls. The bound (docs/specs/trust.md
/// §3.2): an organization credits with its own standing (its reputation, the lower of now and
/// CREDIT_MATURITY blocks ago, 0 while flagged), once per (organization, avatar) pair per decay
/// epoch, never its controller's own avatars, and at most CREDIT_CAP per pair in all; so k
/// organizations add at most k * CREDIT_CAP to any avatar, and unverified or new ones nothing.
contract CourtWeightFarmingTest is DisputeFixture {
    uint256 internal constant AVATAR_KEY = 0xA11CE;
    uint256 internal constant ALL_ONES =
        10000 | (10000 << 16) | (10000 << 32) | (10000 << 48) | (10000 << 64) | (10000 << 80);
    uint256 internal constant POOR = 2000 | (2000 << 16) | (2000 << 32) | (2000 << 48) | (2000 << 64) | (2000 << 80);
    uint256 internal constant R0 = 0.5e18; // the initial reputation of a verified identity

    address internal avatarCtl;
    /// The current block, kept here: under via-IR a test function may read block.number only once
    /// (the value is reused across vm.roll), so every roll goes through `_roll`.
    uint256 internal bn;
    bytes32 internal avatar;
    uint256 internal cap;
    uint256 internal maturity;

    function setUp() public {
        _deploy();
        bn = block.number;
        _roll(MIN_AGE + 1);
        cap = tm.CREDIT_CAP();
        maturity = tm.CREDIT_MATURITY();
        avatarCtl = vm.addr(AVATAR_KEY);
        avatar = keccak256("farming avatar");
        vm.prank(avatarCtl);
        tm.register(avatar, ITrustManager.Kind.Avatar);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(avatar, true); // a real, verified avatar: reputation 0.5
    }

    // ------------------------------------------------------------------ F2

    /// F2: the avatar's controller rates a verified organization of a second account at full marks
    /// for three epochs; the organization then forms the same agreement 20 times in one block,
    /// each with a fresh consent. Before the fix the avatar went 0.5 -> 0.563 after one and to
    /// 0.813 after twenty. Now the first credits once (weighted by the organization's standing,
    /// 0.5) and the other 19 move nothing.
    function test_F2_repeatedAgreementsInOneBlockDoNotFarmReputation() public {
        (bytes32 org, address orgCtl) = _org("sock-puppet org", true);
        _rateFully(org, 3);
        _roll(maturity);
        _agree(orgCtl, org);
        uint256 once = tm.entity(avatar).reputation;
        for (uint256 k; k < 19; ++k) _agree(orgCtl, org);
        uint256 farmed = tm.entity(avatar).reputation;
        assertLt(R0, once, "one agreement credits the avatar");
        assertEq(farmed, once, "19 more agreements in the same block moved the avatar's reputation again");
        assertEq(tm.creditOf(org, avatar).total, once - R0, "the credit is recorded for the pair");
    }

    /// Patience does not lift the pair's cap: one agreement every epoch for 60 epochs adds at most
    /// CREDIT_CAP, and the court reads that reputation.
    function test_onePairAddsAtMostTheCapOverAnyNumberOfEpochs() public {
        (bytes32 org, address orgCtl) = _org("patient org", true);
        _roll(maturity);
        for (uint256 e; e < 60; ++e) {
            if (e % 7 == 0) {
                vm.prank(avatarCtl);
                tm.rate(avatar, org, ALL_ONES, bytes32(0), bytes32(0), 0, 0);
            }
            _agree(orgCtl, org);
            _agree(orgCtl, org);
            vm.warp(vm.getBlockTimestamp() + 1 days);
            _roll(1);
        }
        assertEq(tm.entity(avatar).reputation, R0 + cap, "the pair added exactly its cap");
        _roll(1);
        assertEq(tm.reputationAt(avatar, uint48(bn - 1)), R0 + cap, "the court's weight");
        assertEq(tm.creditOf(org, avatar).total, cap, "the pair's recorded credit");
    }

    /// An organization with no standing credits nothing: unverified (reputation 0), verified less
    /// than CREDIT_MATURITY blocks ago, or flagged. The avatar has lost a dispute (0.2) and the
    /// admin lowered Trust_min to 0, so that every one of these agreements settles by smart
    /// contract with the avatar's trust in the organization above its reputation.
    function test_anOrganizationWithoutStandingCreditsNothing() public {
        (bytes32 plain, address plainCtl) = _org("unverified org", false);
        (bytes32 flagged, address flaggedCtl) = _org("flagged org", true);
        _roll(maturity);
        (bytes32 young, address youngCtl) = _org("young org", true);
        _rateFully(plain, 1);
        _rateFully(flagged, 1);
        _rateFully(young, 1);
        address detector = address(uint160(uint256(keccak256("detector"))));
        vm.startPrank(actors[ADMIN]);
        tm.grantRole(tm.DETECTOR_ROLE(), detector);
        tm.setAgreementThresholds(0, 0.8e18);
        vm.stopPrank();
        vm.prank(address(dr));
        tm.adjustReputation(avatar, -0.3e18);
        uint256 low = tm.entity(avatar).reputation;
        assertEq(low, 0.2e18, "the avatar lost a dispute");
        assertLt(low, tm.trustOf(avatar, plain), "its trust in the unverified organization is above its reputation");
        assertLt(low, tm.trustOf(avatar, young), "its trust in the young organization is above its reputation");
        _agree(plainCtl, plain);
        _agree(youngCtl, young);
        assertEq(tm.entity(avatar).reputation, low, "an unverified or young organization credited");
        vm.prank(detector);
        tm.flag(flagged, 1, bytes32("report"), 0);
        _agree(flaggedCtl, flagged);
        assertEq(tm.entity(avatar).reputation, low, "a flagged organization credited");
        // The flag withdrawn, the mature organization credits again.
        vm.prank(detector);
        tm.unflag(flagged, 1, 0, 1);
        _agree(flaggedCtl, flagged);
        assertLt(low, tm.entity(avatar).reputation, "a mature, verified, unflagged organization credits");
    }

    /// One account's own avatar gains nothing from its own organization's agreements.
    function test_anOrganizationDoesNotCreditItsControllersOwnAvatar() public {
        bytes32 org = keccak256("own org");
        vm.prank(avatarCtl);
        tm.register(org, ITrustManager.Kind.Organization);
        address oracle = address(uint160(uint256(keccak256("oracle"))));
        vm.startPrank(actors[ADMIN]);
        tm.setIdentityVerified(org, true);
        tm.grantRole(tm.ORACLE_ROLE(), oracle);
        vm.stopPrank();
        // It cannot rate its own organization; the oracle term lifts its trust in it to 0.6 > R0.
        vm.prank(oracle);
        tm.setOracle(avatar, org, 1e18, 0, 0);
        _roll(maturity);
        assertEq(tm.trustOf(avatar, org), 0.6e18, "the oracle term lifts the trust");
        bytes32[] memory a = new bytes32[](1);
        a[0] = avatar;
        vm.prank(avatarCtl);
        tm.proposeAgreement(
            org,
            a,
            new uint64[](1),
            keccak256("terms"),
            ITrustManager.Consents(type(uint256).max, new bytes[](1))
        );
        assertEq(tm.entity(avatar).reputation, R0, "self-dealing within one account credited");
        assertEq(tm.creditOf(org, avatar).at, 0, "nothing recorded");
    }

    /// The bound, fuzzed: k verified, mature organizations (each of another account), any number of
    /// agreements at any times, any ratings: the avatar ends at most R0 + k * CREDIT_CAP, each pair's
    /// credit is at most CREDIT_CAP, and the reputation gained is the sum of the pairs' credits
    /// less what agreements with organizations it distrusts took away.
    function testFuzz_kOrganizationsAddAtMostKCaps(uint8 kSeed, uint256 seed) public {
        uint256 k = bound(kSeed, 1, 4);
        bytes32[] memory orgs = new bytes32[](k);
        address[] memory ctls = new address[](k);
        for (uint256 j; j < k; ++j) (orgs[j], ctls[j]) = _org(string(abi.encode("fuzz org", j)), true);
        _roll(maturity);
        uint256 steps = 10 + (seed % 40);
        uint256 lost;
        for (uint256 s; s < steps; ++s) {
            uint256 r = uint256(keccak256(abi.encode(seed, s)));
            uint256 j = r % k;
            if ((r >> 8) % 3 == 0) {
                // a rating, when the epoch allows it: full marks mostly, sometimes poor
                uint256 lanes = (r >> 16) % 4 == 0 ? POOR : ALL_ONES;
                vm.prank(avatarCtl);
                try tm.rate(avatar, orgs[j], lanes, bytes32(0), bytes32(0), 0, 0) {} catch {}
            }
            uint256 before = tm.entity(avatar).reputation;
            uint256 n = 1 + ((r >> 24) % 5);
            for (uint256 x; x < n; ++x) _agree(ctls[j], orgs[j]);
            uint256 afterAgree = tm.entity(avatar).reputation;
            if (afterAgree < before) lost += before - afterAgree;
            assertLe(afterAgree > before ? afterAgree - before : 0, cap, "one step added more than the cap");
            vm.warp(vm.getBlockTimestamp() + ((r >> 32) % 3 days));
            _roll(1);
        }
        uint256 credited;
        for (uint256 j; j < k; ++j) {
            ITrustManager.Credit memory c = tm.creditOf(orgs[j], avatar);
            assertLe(c.total, cap, "a pair above its cap");
            credited += c.total;
        }
        uint256 rep = tm.entity(avatar).reputation;
        assertLe(rep, R0 + k * cap, "k organizations added more than k caps");
        assertEq(rep + lost, R0 + credited, "reputation gained is the pairs' credits less what was lost");
    }

    // ------------------------------------------------------------------ helpers

    function _roll(uint256 blocks) internal {
        bn += blocks;
        vm.roll(bn);
    }

    function _org(string memory name, bool verified) internal returns (bytes32 org, address ctl) {
        org = keccak256(bytes(name));
        ctl = address(uint160(uint256(org)));
        vm.prank(ctl);
        tm.register(org, ITrustManager.Kind.Organization);
        if (verified) {
            vm.prank(actors[ADMIN]);
            tm.setIdentityVerified(org, true);
        }
    }

    function _rateFully(bytes32 org, uint256 epochs) internal {
        for (uint256 e; e < epochs; ++e) {
            vm.prank(avatarCtl);
            tm.rate(avatar, org, ALL_ONES, bytes32(0), bytes32(0), 0, 0);
            vm.warp(vm.getBlockTimestamp() + 1 days);
        }
    }

    /// The organization's controller proposes an agreement with the avatar, which consents.
    function _agree(address orgCtl, bytes32 org) internal {
        bytes32[] memory a = new bytes32[](1);
        a[0] = avatar;
        uint64[] memory t = new uint64[](1);
        uint256 deadline = vm.getBlockTimestamp() + 1 hours;
        bytes32 terms = keccak256("terms");
        bytes[] memory sigs = new bytes[](1);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(
            AVATAR_KEY,
            Consents.digest(tm, org, a, t, terms, tm.agreementNonce(org), deadline)
        );
        sigs[0] = abi.encodePacked(r, s, v);
        vm.prank(orgCtl);
        tm.proposeAgreement(org, a, t, terms, ITrustManager.Consents(deadline, sigs));
    }
}
