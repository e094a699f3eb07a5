// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {MITRegistry} from "../../contracts/avatars/MITRegistry.sol";

/// @notice Red team h9-red: on-chain delegation checks that let an ended authority through. Each
/// test passes when the attack is refused and fails while it gets through (CI skips *.findings.t.sol).
contract MITRegistryRedFindingsTest is Test {
    address internal constant IDP = address(0x1D9);
    MITRegistry internal registry;
    bytes32 internal constant ALICE = keccak256("alice serial");
    bytes32 internal constant AVATAR = keccak256("alice's avatar");

    function setUp() public {
        registry = new MITRegistry(IDP);
        vm.warp(1_800_000_000);
        vm.startPrank(IDP);
        registry.issueMIT(ALICE, keccak256("alice key"), "cid-alice");
        registry.recordLogin(AVATAR, ALICE, keccak256("login warrant h"), keccak256("vid"));
        vm.stopPrank();
    }

    /// F4 (LOW) - a login never expires on-chain. The login warrant is a self-delegation valid for a
    /// day (protocols.ts buildLoginResponse: notAfter = now + DAY), and the IdP, mutual
    /// authentication and CPSVerifier.verifyNow refuse it after that; but recordLogin does not take
    /// the warrant's notAfter, so isVerified answers true for a human-driven avatar for ever (until
    /// a delegation or MIT revocation), and TrustManager.isIdentityVerified with it. An AI driver's
    /// delegation, by contrast, stops verifying at its notAfter. Refused when isVerified is false
    /// after the login warrant's validity.
    function test_F4_aLoginIsNotVerifiedPastItsWarrant() public {
        assertTrue(registry.isVerified(AVATAR), "verified right after the login");
        vm.warp(block.timestamp + 30 days);
        assertFalse(
            registry.isVerified(AVATAR),
            "a login warrant valid for a day still verifies the avatar 30 days later"
        );
    }
}
