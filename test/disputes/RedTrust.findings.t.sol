// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeFixture} from "./DisputeResolution.t.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";

/// @notice Red team h8-redtrust: attacks on the trust store and the court that got through. Each
/// test passes when the attack is refused and fails while it gets through (CI skips *.findings.t.sol).
contract RedTrustFindingsTest is DisputeFixture {
    address internal detector;

    function setUp() public {
        _deploy();
        detector = address(uint160(uint256(keccak256("red detector"))));
        vm.startPrank(actors[ADMIN]);
        tm.grantRole(tm.DETECTOR_ROLE(), detector);
        vm.stopPrank();
        vm.roll(block.number + MIN_AGE + 1);
    }

    // ------------------------------------------------------------------ F2 (medium)

    /// F2 (MEDIUM) - an avatar sets its own court weight. Its controller rates an organization that
    /// a second account of its own (or a colluding organization) controls with every factor at 1,
    /// for a few epochs; the organization then proposes the same agreement with it many times in one
    /// block, each time with a fresh consent. Every agreement blends the avatar's *own* trust in
    /// the organization into its reputation (Eq. 6, agreementWeight 0.2), with no bound on how many
    /// agreements of one (organization, avatar) pair count: twenty agreements in one block move the
    /// avatar's reputation from 0.5 to its own rating, ~0.82, which is its vote weight in every
    /// dispute opened afterwards. Refused when a second agreement of the same pair within one decay
    /// epoch does not move the reputation again.
    function test_F2_repeatedAgreementsInOneBlockDoNotFarmReputation() public {
        uint256 avatarKey = 0xA11CE;
        address avatarCtl = vm.addr(avatarKey);
        address orgCtl = address(uint160(uint256(keccak256("sock-puppet org"))));
        bytes32 avatar = keccak256("farming avatar");
        bytes32 org = keccak256("sock-puppet org");
        vm.prank(avatarCtl);
        tm.register(avatar, ITrustManager.Kind.Avatar);
        vm.prank(orgCtl);
        tm.register(org, ITrustManager.Kind.Organization);
        vm.startPrank(actors[ADMIN]);
        tm.setIdentityVerified(avatar, true); // a real, verified avatar: reputation 0.5
        tm.setIdentityVerified(org, true); // a real, verified organization
        vm.stopPrank();
        uint256 all1 = 10000 | (10000 << 16) | (10000 << 32) | (10000 << 48) | (10000 << 64) | (10000 << 80);
        for (uint256 e; e < 3; ++e) {
            vm.prank(avatarCtl);
            tm.rate(avatar, org, all1, bytes32(0), bytes32(0));
            vm.warp(vm.getBlockTimestamp() + 1 days);
        }
        bytes32[] memory a = new bytes32[](1);
        a[0] = avatar;
        uint64[] memory t = new uint64[](1);
        uint256 deadline = vm.getBlockTimestamp() + 1 hours;
        _agree(avatarKey, orgCtl, org, a, t, deadline);
        uint256 once = tm.entity(avatar).reputation;
        for (uint256 k; k < 19; ++k) _agree(avatarKey, orgCtl, org, a, t, deadline);
        uint256 farmed = tm.entity(avatar).reputation;
        assertGe(once, 0.56e18, "one agreement credits the avatar");
        assertEq(farmed, once, "19 more agreements in the same block moved the avatar's reputation again");
    }

    function _agree(
        uint256 key,
        address orgCtl,
        bytes32 org,
        bytes32[] memory a,
        uint64[] memory t,
        uint256 deadline
    ) internal {
        bytes32 terms = keccak256("terms");
        bytes[] memory sigs = new bytes[](1);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(
            key,
            _consentDigest(org, a, t, terms, tm.agreementNonce(org), deadline)
        );
        sigs[0] = abi.encodePacked(r, s, v);
        vm.prank(orgCtl);
        tm.proposeAgreement(org, a, t, terms, "cid", ITrustManager.Consents(deadline, sigs));
    }

    function _consentDigest(
        bytes32 org,
        bytes32[] memory a,
        uint64[] memory t,
        bytes32 terms,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("TrustManager"),
                keccak256("1"),
                block.chainid,
                address(tm)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                tm.CONSENT_TYPEHASH(),
                org,
                keccak256(abi.encodePacked(a)),
                keccak256(abi.encodePacked(t)),
                terms,
                nonce,
                deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }
}
