// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TrustManagerFixture} from "./TrustManager.t.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";

/// @notice One person, one verified avatar entity (session 11, the avatar side of red-team finding
/// A1): `registerAttested` accepts one avatar per owner tag (an avatar id's first 16 bytes), for
/// any ids; other tags and resource nodes are free. The hardhat suite
/// (test/trust/one-avatar-per-person.test.ts) runs the same rule through the MIT registry.
contract TrustManagerOneAvatarTest is TrustManagerFixture {
    uint256 internal constant REGISTRAR_KEY = 0xA77E57;
    bytes32 internal constant IDP_ROLE = keccak256("IDP_ROLE");
    bytes32 internal constant MSRP_ROLE = keccak256("MSRP_ROLE");
    uint256 internal t0;

    function setUp() public {
        vm.roll(100);
        t0 = 1_700_000_000;
        vm.warp(t0);
        _deploy();
        stubAvatar.grant(IDP_ROLE, vm.addr(REGISTRAR_KEY));
        stubNode.grant(MSRP_ROLE, vm.addr(REGISTRAR_KEY));
        vm.prank(actors[ADMIN]);
        tm.setVerifier(ITrustManager.Kind.ResourceNode, stubNode);
        vm.roll(101);
    }

    function _idOf(bytes16 tag, bytes16 local) internal pure returns (bytes32) {
        return bytes32(tag) | bytes32(uint256(uint128(local)));
    }

    function _attest(bytes32 id, ITrustManager.Kind kind, address controller) internal view returns (bytes memory) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("TrustManager"),
                keccak256("1"),
                block.chainid,
                address(tm)
            )
        );
        bytes32 structHash = keccak256(abi.encode(tm.REGISTRATION_TYPEHASH(), id, kind, controller, t0 + 1 days));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(
            REGISTRAR_KEY,
            keccak256(abi.encodePacked("\x19\x01", domain, structHash))
        );
        return abi.encodePacked(r, s, v);
    }

    function _register(bytes32 id, ITrustManager.Kind kind, address controller) internal {
        (kind == ITrustManager.Kind.Avatar ? stubAvatar : stubNode).set(id, true);
        bytes memory a = _attest(id, kind, controller);
        vm.prank(controller);
        tm.registerAttested(id, kind, t0 + 1 days, a);
    }

    /// Two avatars with one owner tag: the first is attested and bound, the second is refused
    /// naming the tag and the first, and nothing changes (entity, history, binding, total).
    function testFuzz_registerAttested_oneAvatarPerOwnerTag(bytes16 tag, bytes16 first, bytes16 second) public {
        vm.assume(first != second && (tag != 0 || (first != 0 && second != 0)));
        (bytes32 a, bytes32 b) = (_idOf(tag, first), _idOf(tag, second));
        _register(a, ITrustManager.Kind.Avatar, actors[USER_A]);
        assertEq(tm.attestedAvatarOf(tag), a, "binding");
        assertTrue(tm.isIdentityVerified(a), "first not verified");

        stubAvatar.set(b, true);
        bytes memory att = _attest(b, ITrustManager.Kind.Avatar, actors[USER_B]);
        ITrustManager.Entity memory before = tm.entity(b);
        uint256 bornBefore = tm.registeredAt(b);
        vm.roll(102);
        uint256 totalBefore = tm.totalReputationAt(101);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__OwnerHasAttestedAvatar.selector, tag, a));
        vm.prank(actors[USER_B]);
        tm.registerAttested(b, ITrustManager.Kind.Avatar, t0 + 1 days, att);
        ITrustManager.Entity memory afterwards = tm.entity(b);
        assertEq(keccak256(abi.encode(afterwards)), keccak256(abi.encode(before)), "entity changed");
        assertEq(tm.registeredAt(b), bornBefore, "history changed");
        assertFalse(tm.isIdentityVerified(b), "second verified");
        assertEq(tm.attestedAvatarOf(tag), a, "binding moved");
        vm.roll(103);
        assertEq(tm.totalReputationAt(102), totalBefore, "total changed");

        // the binding outlives the first avatar's verification (login expired, MIT revoked)
        stubAvatar.set(a, false);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__OwnerHasAttestedAvatar.selector, tag, a));
        vm.prank(actors[USER_B]);
        tm.registerAttested(b, ITrustManager.Kind.Avatar, t0 + 1 days, att);
    }

    /// Avatars of two owner tags are both attested; a resource node whose PID opens with a bound
    /// tag is attested too, and binds nothing.
    function testFuzz_registerAttested_otherTagsAndResourceNodesAreFree(
        bytes16 tagA,
        bytes16 tagB,
        bytes16 local,
        bytes16 nodeLocal
    ) public {
        vm.assume(tagA != tagB && tagA != 0 && tagB != 0 && local != nodeLocal);
        (bytes32 a, bytes32 b, bytes32 node) = (_idOf(tagA, local), _idOf(tagB, local), _idOf(tagA, nodeLocal));
        _register(a, ITrustManager.Kind.Avatar, actors[USER_A]);
        _register(b, ITrustManager.Kind.Avatar, actors[USER_B]);
        _register(node, ITrustManager.Kind.ResourceNode, actors[STRANGER]);
        assertEq(tm.attestedAvatarOf(tagA), a, "binding A");
        assertEq(tm.attestedAvatarOf(tagB), b, "binding B");
        assertTrue(tm.isIdentityVerified(a) && tm.isIdentityVerified(b) && tm.isIdentityVerified(node), "verified");
    }
}
