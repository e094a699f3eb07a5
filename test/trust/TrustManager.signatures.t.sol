// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TrustManagerFixture} from "./TrustManager.t.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";
import {TrustManager} from "../../contracts/trust/TrustManager.sol";

/// @dev The chain-id cheatcode (declared here to leave the shared Vm interface alone).
interface VmChainId {
    function chainId(uint256 newChainId) external;
}

/// @notice Red team h8-redtrust: forged, malleated and misdirected signatures on the TrustManager's
/// two EIP-712 checks (the registrar's attestation, an avatar's consent to an agreement). Each
/// attack names the attacker's capability; each asserts the refusal and that nothing changed.
contract TrustManagerSignatureAttacksTest is TrustManagerFixture {
    uint256 internal constant REGISTRAR_KEY = 0xA77E57;
    bytes32 internal constant IDP_ROLE = keccak256("IDP_ROLE");
    bytes32 internal constant MSRP_ROLE = keccak256("MSRP_ROLE");
    VmChainId internal constant vmChain = VmChainId(address(uint160(uint256(keccak256("hevm cheat code")))));
    address internal registrar;
    address internal owner;
    bytes32 internal fresh;
    uint256 internal t0;

    function setUp() public {
        vm.roll(100);
        t0 = 1_700_000_000;
        vm.warp(t0);
        _deploy();
        registrar = vm.addr(REGISTRAR_KEY);
        // the registrar writes both registries, and both verify the id: only the signed kind may count
        stubAvatar.grant(IDP_ROLE, registrar);
        stubNode.grant(MSRP_ROLE, registrar);
        vm.prank(actors[ADMIN]);
        tm.setVerifier(ITrustManager.Kind.ResourceNode, stubNode);
        owner = actors[USER_A];
        fresh = ids[4];
        stubAvatar.set(fresh, true);
        stubNode.set(fresh, true);
        vm.roll(101);
    }

    function _domain(uint256 chainId, address verifying) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                    keccak256("TrustManager"),
                    keccak256("1"),
                    chainId,
                    verifying
                )
            );
    }

    function _registration(
        bytes32 domain,
        ITrustManager.Kind kind,
        address controller,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(tm.REGISTRATION_TYPEHASH(), fresh, kind, controller, deadline));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _sig(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// The other signature of the same message: (r, n - s, v ^ 1) recovers the same signer.
    function _malleate(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    function _assertNotRegistered() internal view {
        ITrustManager.Entity memory e = tm.entity(fresh);
        assertEq(uint256(e.kind), 0, "registered");
        assertEq(e.controller, address(0), "controller");
        assertEq(tm.registeredAt(fresh), 0, "history");
    }

    /// A relay replaces the registrar's signature by its high-s twin (same signer by ecrecover):
    /// refused as no signer at all.
    function testFuzz_registerAttested_refusesAHighSTwin(bool node, uint256 deadline) public {
        deadline = bound(deadline, t0, type(uint256).max);
        ITrustManager.Kind kind = node ? ITrustManager.Kind.ResourceNode : ITrustManager.Kind.Avatar;
        bytes32 digest = _registration(_domain(block.chainid, address(tm)), kind, owner, deadline);
        bytes memory twin = _malleate(REGISTRAR_KEY, digest);
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__InvalidAttestation.selector, fresh, address(0))
        );
        vm.prank(owner);
        tm.registerAttested(fresh, kind, deadline, twin);
        _assertNotRegistered();
    }

    /// The registrar's attestation made for another chain, or for another TrustManager
    /// deployment (a test net, a previous version), is refused here; the signer it recovers is named.
    function testFuzz_registerAttested_refusesAnAttestationForAnotherDomain(
        uint256 otherChain,
        address otherContract,
        bool byChain
    ) public {
        otherChain = bound(otherChain, 1, type(uint64).max);
        vm.assume(otherChain != block.chainid && otherContract != address(tm));
        bytes32 domain = byChain ? _domain(otherChain, address(tm)) : _domain(block.chainid, otherContract);
        bytes memory a = _sig(REGISTRAR_KEY, _registration(domain, ITrustManager.Kind.Avatar, owner, t0 + 1 days));
        bytes32 here = _registration(
            _domain(block.chainid, address(tm)),
            ITrustManager.Kind.Avatar,
            owner,
            t0 + 1 days
        );
        (uint8 v, bytes32 r, bytes32 s) = (uint8(a[64]), bytes32(_slice(a, 0)), bytes32(_slice(a, 32)));
        address recovered = ecrecover(here, v, r, s);
        assertTrue(recovered != registrar, "recovers the registrar");
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__InvalidAttestation.selector, fresh, recovered)
        );
        vm.prank(owner);
        tm.registerAttested(fresh, ITrustManager.Kind.Avatar, t0 + 1 days, a);
        _assertNotRegistered();
    }

    /// After a fork changes the chain id, an attestation made before it no longer verifies (the
    /// domain separator follows block.chainid).
    function test_registerAttested_anAttestationDoesNotSurviveAChainIdChange() public {
        bytes memory a = _sig(
            REGISTRAR_KEY,
            _registration(_domain(block.chainid, address(tm)), ITrustManager.Kind.Avatar, owner, t0 + 1 days)
        );
        vmChain.chainId(block.chainid + 1);
        vm.expectRevert();
        vm.prank(owner);
        tm.registerAttested(fresh, ITrustManager.Kind.Avatar, t0 + 1 days, a);
        _assertNotRegistered();
    }

    /// The registrar attested the id as an avatar; its owner (or anyone it hands the signature
    /// to) presents it as a resource node, where the same registrar also writes: refused.
    function testFuzz_registerAttested_refusesAnAttestationOfTheOtherKind(bool node) public {
        ITrustManager.Kind signed = node ? ITrustManager.Kind.ResourceNode : ITrustManager.Kind.Avatar;
        ITrustManager.Kind claimed = node ? ITrustManager.Kind.Avatar : ITrustManager.Kind.ResourceNode;
        bytes memory a = _sig(
            REGISTRAR_KEY,
            _registration(_domain(block.chainid, address(tm)), signed, owner, t0 + 1 days)
        );
        vm.expectRevert();
        vm.prank(owner);
        tm.registerAttested(fresh, claimed, t0 + 1 days, a);
        _assertNotRegistered();
    }

    /// Wrong lengths (empty, 64-byte compact, 66 bytes) never recover a signer.
    function testFuzz_registerAttested_refusesASignatureOfAnotherLength(uint256 len) public {
        len = bound(len, 0, 130);
        vm.assume(len != 65);
        bytes memory good = _sig(
            REGISTRAR_KEY,
            _registration(_domain(block.chainid, address(tm)), ITrustManager.Kind.Avatar, owner, t0 + 1 days)
        );
        bytes memory a = new bytes(len);
        for (uint256 i; i < len && i < 65; ++i) a[i] = good[i];
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__InvalidAttestation.selector, fresh, address(0))
        );
        vm.prank(owner);
        tm.registerAttested(fresh, ITrustManager.Kind.Avatar, t0 + 1 days, a);
        _assertNotRegistered();
    }

    /// An avatar's consent replaced by its high-s twin is no consent: the agreement is refused and
    /// no reputation or nonce moves.
    function test_proposeAgreement_refusesAHighSConsent() public {
        uint256 key = 0xC0FFEE;
        address avatarCtl = vm.addr(key);
        bytes32 avatar = keccak256("consenting avatar");
        bytes32 org = keccak256("red org");
        vm.prank(avatarCtl);
        tm.register(avatar, ITrustManager.Kind.Avatar);
        vm.prank(owner);
        tm.register(org, ITrustManager.Kind.Organization);
        bytes32[] memory a = new bytes32[](1);
        a[0] = avatar;
        uint64[] memory t = new uint64[](1);
        bytes32 terms = keccak256("terms");
        uint256 deadline = t0 + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                tm.CONSENT_TYPEHASH(),
                org,
                keccak256(abi.encodePacked(a)),
                keccak256(abi.encodePacked(t)),
                terms,
                uint256(0),
                deadline
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", _domain(block.chainid, address(tm)), structHash));
        bytes[] memory sigs = new bytes[](1);
        sigs[0] = _malleate(key, digest);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__ConsentMissing.selector, avatar, avatarCtl));
        vm.prank(owner);
        tm.proposeAgreement(org, a, t, terms, ITrustManager.Consents(deadline, sigs));
        assertEq(tm.agreementNonce(org), 0, "nonce");
        assertEq(tm.agreementCount(), 0, "agreements");
        // the low-s original is accepted (the test bites on the twin, not on the setup)
        sigs[0] = _sig(key, digest);
        vm.prank(owner);
        tm.proposeAgreement(org, a, t, terms, ITrustManager.Consents(deadline, sigs));
        assertEq(tm.agreementCount(), 1, "agreements");
    }

    function _slice(bytes memory b, uint256 at) private pure returns (uint256 w) {
        assembly ("memory-safe") {
            w := mload(add(add(b, 0x20), at))
        }
    }
}
