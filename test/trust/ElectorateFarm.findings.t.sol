// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeFixture} from "../disputes/DisputeResolution.t.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";

/// Severity M (s20-redt F1). Attack: the controller of ONE admin-verified organization (a day old,
/// standing 0.5) registers k plain, unverified avatars (free, reputation 0), has each rate the
/// organization at full marks and forms one agreement with all of them (64 per agreement, all
/// consents are its own keys). `_credit` blends each avatar's trust into its reputation: +0.05
/// (CREDIT_CAP) per avatar, and `_moveTotal` adds every credit to the court's electorate E
/// (`totalReputationAt`). The per-avatar bound of trust.md §3.2 holds, the aggregate does not:
/// E grows by 0.05 per free registration, which is the registration farm trust.md §6 says is
/// closed ("now only verified identities count in E"). What breaks: the bounded feedback
/// m = max(0, 2W - (1+b)E)/((1-b)E) of every dispute: with 64 sock avatars (one agreement) a
/// unanimous full turnout of every verified identity of this fixture gets m = 0, so no dispute
/// moves any juror's reputation (liars are never penalized), for the gas of 64 registrations,
/// 64 ratings and one agreement. Expected when fixed: credits to avatars without a verified
/// identity do not enter E (or are not granted), so E after the farm equals E before it and a
/// unanimous full turnout keeps m = 1.
contract ElectorateFarmFindingsTest is DisputeFixture {
    uint256 internal constant ALL_ONES =
        10000 | (10000 << 16) | (10000 << 32) | (10000 << 48) | (10000 << 64) | (10000 << 80);
    uint256 internal constant K = 64; // MAX_AVATARS: one agreement
    uint256 internal bn;

    function setUp() public {
        _deploy();
        bn = block.number;
        _roll(MIN_AGE + 1);
    }

    function _roll(uint256 blocks) internal {
        bn += blocks;
        vm.roll(bn);
    }

    function test_F1_unverifiedSockAvatarsInflateTheElectorateThroughOneVerifiedOrganization() public {
        bytes32 org = keccak256("one verified organization");
        address orgCtl = address(uint160(uint256(org)));
        vm.prank(orgCtl);
        tm.register(org, ITrustManager.Kind.Organization);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(org, true); // the admin's one decision: standing 0.5
        _roll(tm.CREDIT_MATURITY() + 1);
        uint256 before = tm.totalReputationAt(uint48(bn - 1));

        // k free, unverified avatars, ids sorted ascending (as _settle requires), each its own key
        bytes32[] memory av = new bytes32[](K);
        uint256[] memory keys = new uint256[](K);
        for (uint256 i; i < K; ++i) {
            keys[i] = 0x50C000 + i;
            av[i] = bytes32(i + 1);
            vm.prank(vm.addr(keys[i]));
            tm.register(av[i], ITrustManager.Kind.Avatar);
            vm.prank(vm.addr(keys[i]));
            tm.rate(av[i], org, ALL_ONES, bytes32(0), bytes32(0), 0, 0);
            assertFalse(tm.isIdentityVerified(av[i]), "a sock avatar is unverified");
        }
        uint64[] memory th = new uint64[](K);
        uint256 deadline = vm.getBlockTimestamp() + 1 hours;
        bytes32 terms = keccak256("terms");
        bytes32 digest = _consentDigest(org, av, th, terms, tm.agreementNonce(org), deadline);
        bytes[] memory sigs = new bytes[](K);
        for (uint256 i; i < K; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
        vm.prank(orgCtl);
        tm.proposeAgreement(org, av, th, terms, ITrustManager.Consents(deadline, sigs));
        _roll(1);
        uint256 afterFarm = tm.totalReputationAt(uint48(bn - 1));

        // every verified identity of the fixture votes one way: the most any verdict can gather
        uint256 verified = before; // the fixture's ten verified avatars and the organization
        // before: every verified identity voting one way has m = 1; after: the same turnout has
        uint256 mBefore = _marginModel(verified, before, BAND);
        uint256 mAfter = _marginModel(verified, afterFarm, BAND);
        assertEq(mBefore, WAD, "the fixture's unanimous full turnout has margin 1 before the farm");
        assertEq(
            afterFarm,
            before + K * tm.CREDIT_CAP(),
            "each sock avatar added the cap to E (the finding, measured)"
        );
        assertEq(afterFarm, before, "unverified avatars' agreement credits entered the court's electorate");
        assertLt(0, mAfter, "a unanimous full turnout moves no juror");
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
