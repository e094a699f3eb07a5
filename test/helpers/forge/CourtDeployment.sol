// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "./Test.sol";
import {TrustManager} from "../../../contracts/trust/TrustManager.sol";
import {ITrustManager} from "../../../contracts/interfaces/ITrustManager.sol";
import {MITRegistry} from "../../../contracts/avatars/MITRegistry.sol";
import {IIdentityVerifier} from "../../../contracts/interfaces/IIdentityVerifier.sol";
import {DisputeResolution} from "../../../contracts/disputes/DisputeResolution.sol";
import {IDisputeResolution} from "../../../contracts/interfaces/IDisputeResolution.sol";

/// @notice The court of the avatar-dispute campaigns (DisputeResolution.trace.t.sol and
/// DisputeResolution.hearing.t.sol): a TrustManager whose avatars the MIT registry verifies, the
/// registry (its admin the IdP, whose key signs registration attestations), and a court holding the
/// TrustManager's FEEDBACK_ROLE and the registry's COURT_ROLE (one-hour periods, two rounds). And
/// what an avatar dispute's claimant needs since session 22 (evidence with a handshake only): an
/// attested counterparty avatar whose owner's account opens the dispute (`_attestCounterparty`).
abstract contract CourtDeployment is Test {
    uint256 internal constant IDP_KEY = 0x1D9;
    uint40 internal constant PERIOD = 3600;
    uint128 internal constant DEPOSIT = 0.01 ether;
    uint96 internal constant APPEAL_FEE = 0.01 ether;

    TrustManager public tm;
    MITRegistry public registry;
    DisputeResolution public dr;
    address public idp;

    /// Deploys the three contracts, `admin` the TrustManager's admin.
    function _deployCourt(address admin) internal {
        idp = vm.addr(IDP_KEY);
        ITrustManager.Model memory m = ITrustManager.Model(
            6,
            10000 | (10000 << 16) | (10000 << 32) | (10000 << 48) | (10000 << 64) | (10000 << 80),
            0.3e18,
            0.98e18,
            1 days,
            0.5e18,
            0.1e18,
            0.5e18,
            0.2e18,
            0.5e18,
            0.2e18
        );
        tm = new TrustManager(admin, m, 0.5e18, 0.8e18);
        registry = new MITRegistry(idp);
        dr = new DisputeResolution(
            tm,
            registry,
            IDisputeResolution.Params(
                0.3e18,
                1,
                0.5e18,
                PERIOD,
                PERIOD,
                DEPOSIT,
                0.02e18,
                0.02e18,
                0.1e18,
                PERIOD,
                APPEAL_FEE,
                2,
                0.3e18
            )
        );
        vm.startPrank(admin);
        tm.grantRole(tm.FEEDBACK_ROLE(), address(dr));
        tm.setVerifier(ITrustManager.Kind.Avatar, IIdentityVerifier(address(registry)));
        vm.stopPrank();
        vm.startPrank(idp);
        registry.grantRole(registry.COURT_ROLE(), address(dr));
        vm.stopPrank();
    }

    /// The IdP's attestation that `controller` registers avatar `id` (TrustManager's EIP-712).
    function _attest(bytes32 id, address controller, uint256 deadline) internal view returns (bytes memory) {
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
            abi.encode(tm.REGISTRATION_TYPEHASH(), id, ITrustManager.Kind.Avatar, controller, deadline)
        );
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(IDP_KEY, keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
        return abi.encodePacked(r, s, v);
    }

    /// Makes `account` the owner's account of avatar `avatar` (the counterparty an avatar dispute's
    /// evidence names): `avatar` logged in under an MIT `serial` of its own (issued here unless
    /// `issue` is false: the MIT exists already) and attested to `account`, its owner's one attested
    /// avatar.
    function _attestCounterparty(address account, bytes32 avatar, bytes32 serial, bool issue) internal {
        vm.startPrank(idp);
        if (issue) registry.issueMIT(serial, keccak256(abi.encode(serial, "key")), "");
        registry.recordLogin(avatar, serial, keccak256(abi.encode(avatar, "warrant")), bytes32(0), type(uint64).max);
        vm.stopPrank();
        bytes memory att = _attest(avatar, account, block.timestamp + 1 days);
        vm.prank(account);
        tm.registerAttested(avatar, ITrustManager.Kind.Avatar, block.timestamp + 1 days, att);
    }
}
