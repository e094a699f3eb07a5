// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TrustManagerFixture} from "./TrustManager.t.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";

/// @dev An account as a contract: registers entities through `call`, and consents (ERC-1271) to
/// exactly the digests it approved.
contract ConsentingController {
    mapping(bytes32 digest => bool) public approved;

    function call(address to, bytes calldata data) external {
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok)
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
    }

    function approve(bytes32 digest) external {
        approved[digest] = true;
    }

    function isValidSignature(bytes32 digest, bytes calldata) external view returns (bytes4) {
        return approved[digest] ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}

/// @notice Red team s19-reds: an avatar controller's EIP-712 consent to an agreement
/// (`proposeAgreement`), computed here from the documented type string. What holds: the consent
/// binds the organization, the avatars (and their order), the thresholds, the terms, the
/// organization's nonce and the deadline; it counts for one agreement; a contract controller
/// consents by its ERC-1271 answer for exactly this digest. A refused agreement moves no nonce,
/// stores no agreement and credits nothing.
contract TrustManagerConsentTest is TrustManagerFixture {
    uint256 internal constant KEY = 0xC0FFEE;
    bytes32 internal constant CONSENT_TYPE = keccak256(
        "AgreementConsent(bytes32 org,bytes32[] avatars,uint64[] thresholds,bytes32 termsHash,uint256 nonce,uint256 deadline)"
    );
    address internal orgCtl;
    address internal ctl;
    bytes32 internal org = keccak256("org one");
    bytes32 internal org2 = keccak256("org two");
    bytes32[3] internal av;
    uint256 internal t0;

    function setUp() public {
        vm.roll(100);
        t0 = 1_700_000_000;
        vm.warp(t0);
        _deploy();
        orgCtl = actors[USER_A];
        ctl = vm.addr(KEY);
        vm.startPrank(orgCtl);
        tm.register(org, ITrustManager.Kind.Organization);
        tm.register(org2, ITrustManager.Kind.Organization);
        vm.stopPrank();
        // three avatars of one controller, in ascending order
        av = [bytes32(uint256(0xA1)), bytes32(uint256(0xA2)), bytes32(uint256(0xA3))];
        vm.startPrank(ctl);
        for (uint256 i; i < 3; ++i) tm.register(av[i], ITrustManager.Kind.Avatar);
        vm.stopPrank();
        vm.roll(101);
    }

    function _domain() internal view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                    keccak256("TrustManager"),
                    keccak256("1"),
                    block.chainid,
                    address(tm)
                )
            );
    }

    struct Terms {
        bytes32 org;
        bytes32[] avatars;
        uint64[] thresholds;
        bytes32 termsHash;
        uint256 nonce;
        uint256 deadline;
    }

    function _digest(Terms memory x) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                CONSENT_TYPE,
                x.org,
                keccak256(abi.encodePacked(x.avatars)),
                keccak256(abi.encodePacked(x.thresholds)),
                x.termsHash,
                x.nonce,
                x.deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", _domain(), structHash));
    }

    function _terms(uint64 th) internal view returns (Terms memory x) {
        x.org = org;
        x.avatars = new bytes32[](2);
        (x.avatars[0], x.avatars[1]) = (av[0], av[1]);
        x.thresholds = new uint64[](2);
        (x.thresholds[0], x.thresholds[1]) = (th, th);
        x.termsHash = keccak256("terms");
        x.deadline = t0 + 1 hours;
    }

    function _sigs(uint256 n, bytes memory one) internal pure returns (bytes[] memory s) {
        s = new bytes[](n);
        for (uint256 i; i < n; ++i) s[i] = one;
    }

    function _signed(Terms memory x) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(KEY, _digest(x));
        return abi.encodePacked(r, s, v);
    }

    function _propose(Terms memory x, bytes memory sig) internal returns (uint256 id) {
        vm.prank(orgCtl);
        (id, ) = tm.proposeAgreement(
            x.org,
            x.avatars,
            x.thresholds,
            x.termsHash,
            ITrustManager.Consents(x.deadline, _sigs(x.avatars.length, sig))
        );
    }

    function _assertNothingMoved() internal view {
        assertEq(tm.agreementNonce(org), 0, "org nonce");
        assertEq(tm.agreementNonce(org2), 0, "org2 nonce");
        assertEq(tm.agreementCount(), 0, "agreements");
    }

    /// The organization's controller proposes the agreement the avatars' controller signed with one
    /// term changed: the organization (another of its own), an avatar (a third one of the same
    /// controller), a threshold, the terms, the deadline, or a consent signed for the next nonce.
    /// Each is refused as a missing consent and nothing moves; the agreement as signed is then formed.
    function testFuzz_proposeAgreement_theConsentBindsEveryTerm(
        uint8 which,
        uint64 th,
        uint64 other,
        uint256 late
    ) public {
        th = uint64(bound(th, 0, 1e18));
        Terms memory signed = _terms(th);
        bytes memory sig;
        Terms memory sent = _terms(th);
        which = uint8(bound(which, 0, 5));
        if (which == 0) sent.org = org2;
        else if (which == 1) sent.avatars[1] = av[2];
        else if (which == 2) {
            other = uint64(bound(other, 0, 1e18));
            vm.assume(other != th);
            sent.thresholds[1] = other;
        } else if (which == 3) sent.termsHash = keccak256("other terms");
        else if (which == 4) sent.deadline = signed.deadline + 1 + bound(late, 0, 365 days);
        if (which == 5) {
            // signed for the organization's next agreement, presented for this one
            signed.nonce = 1;
            sig = _signed(signed);
            signed.nonce = 0;
        } else sig = _signed(signed);
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__ConsentMissing.selector, sent.avatars[0], ctl)
        );
        _propose(sent, sig);
        _assertNothingMoved();
        if (which == 5) sig = _signed(signed);
        _propose(signed, sig);
        assertEq(tm.agreementCount(), 1, "the agreement as signed");
        assertEq(tm.agreementNonce(org), 1, "nonce");
    }

    /// A consent counts for one agreement: the same agreement proposed again with the same
    /// consents is refused (the nonce moved on), and nothing more is stored.
    function testFuzz_proposeAgreement_aConsentCountsOnce(uint64 th) public {
        Terms memory x = _terms(uint64(bound(th, 0, 1e18)));
        bytes memory sig = _signed(x);
        _propose(x, sig);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__ConsentMissing.selector, x.avatars[0], ctl));
        _propose(x, sig);
        assertEq(tm.agreementCount(), 1, "agreements");
        assertEq(tm.agreementNonce(org), 1, "nonce");
    }

    /// An avatar controlled by a contract consents through ERC-1271, for exactly the digest it
    /// approved: the same agreement with other terms is refused, the approved one formed.
    function testFuzz_proposeAgreement_aContractControllerConsentsByERC1271(bytes32 terms, bytes memory junk) public {
        vm.assume(terms != keccak256("terms") && terms != bytes32(0));
        ConsentingController w = new ConsentingController();
        bytes32 a = bytes32(uint256(0xB1));
        w.call(address(tm), abi.encodeCall(tm.register, (a, ITrustManager.Kind.Avatar)));
        Terms memory x = _terms(0);
        x.avatars = new bytes32[](1);
        x.avatars[0] = a;
        x.thresholds = new uint64[](1);
        w.approve(_digest(x));
        Terms memory y = _terms(0);
        (y.avatars, y.thresholds, y.termsHash) = (x.avatars, x.thresholds, terms);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__ConsentMissing.selector, a, address(w)));
        _propose(y, junk);
        _assertNothingMoved();
        _propose(x, junk);
        assertEq(tm.agreementCount(), 1, "the approved agreement");
    }
}
