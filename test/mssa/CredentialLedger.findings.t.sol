// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CredentialLedgerHarness, SittingAuthoritiesStub} from "./CredentialLedger.t.sol";
import {CredentialLedger} from "../../contracts/mssa/CredentialLedger.sol";
import {ICredentialLedger} from "../../contracts/interfaces/ICredentialLedger.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice FINDINGS: properties CredentialLedger fails today (run by `npm run test:findings`, not in CI).
///
/// 1. Stale approvals. ICredentialLedger says a registration is "approved by k of the place's
///    authorities" and "an approver must be one of the place's authorities *and* a sitting elected
///    authority". Approvals are counted, not re-checked: an approval given by an authority that has
///    since been voted out (or removed from the place by setPlace) still counts towards k, so access
///    can be granted with fewer than k approvers that are authorities when the block is made.
///    Counterexample: PL = {A, B, C}, k = 2; A proposes U; an election unseats A; B approves: U gets
///    access with one sitting approver.
/// 2. A pending registration can get stuck. Lowering k (or shrinking the authority set) does not
///    re-evaluate pending registrations: one that already has k approvals stays Pending, its approvers
///    cannot approve again, it cannot be revoked (revoke takes only Approved) and the user cannot
///    propose again (PendingExists) until the operator adds an authority that has not approved yet.
///    Counterexample: PL = {A, B}, k = 2; A proposes U; setPlace(PL, {A}, 1): U stays Pending with
///    1 >= k approvals and nobody at the place can decide it.
/// forge-config: default.invariant.runs = 32
/// forge-config: default.invariant.depth = 128
/// forge-config: ci.invariant.runs = 32
/// forge-config: ci.invariant.depth = 128
contract CredentialLedgerFindingsTest is CredentialLedgerHarness {
    address internal constant ADMIN = address(0xAD);
    address internal constant A = address(0xA000);
    address internal constant B = address(0xA001);
    address internal constant C = address(0xA002);
    address internal constant U = address(0xB000);
    bytes32 internal constant PL = keccak256("PL");

    /// FAILS (finding 1): when access is granted, k of the approvers are still sitting authorities
    /// of the place.
    function invariant_accessGrantedByKSittingAuthorities() public view {
        _noViolation(handler.STALE());
    }

    function _fresh(address[] memory auths, uint8 k) internal returns (CredentialLedger l, SittingAuthoritiesStub s) {
        s = new SittingAuthoritiesStub();
        l = new CredentialLedger(ADMIN, IAuthorityElection(address(s)));
        s.setLedger(address(l));
        for (uint256 i; i < auths.length; ++i) s.reseat(auths[i], true);
        vm.prank(ADMIN);
        l.setPlace(PL, auths, k);
    }

    /// FAILS (finding 1): an unseated authority's earlier approval counts towards k.
    function test_anUnseatedAuthorityStillCountsTowardsK() public {
        address[] memory auths = new address[](3);
        (auths[0], auths[1], auths[2]) = (A, B, C);
        (CredentialLedger l, SittingAuthoritiesStub s) = _fresh(auths, 2);
        vm.prank(A);
        bytes32 id = l.propose(PL, U, keccak256("commitment"));
        s.reseat(A, false); // the next election unseats A
        vm.prank(B);
        l.approve(id);
        (bool granted, ) = l.access(U, PL);
        uint256 sittingApprovers =
            (l.approvedBy(id, A) && s.isAuthority(A) ? 1 : 0) +
                (l.approvedBy(id, B) && s.isAuthority(B) ? 1 : 0) +
                (l.approvedBy(id, C) && s.isAuthority(C) ? 1 : 0);
        assertTrue(!granted || sittingApprovers >= 2, "access granted with one sitting approver, k = 2");
    }

    /// FAILS (finding 2): a pending registration can be decided by its place's authorities.
    function test_aPendingRegistrationWithKApprovalsIsStuck() public {
        address[] memory auths = new address[](2);
        (auths[0], auths[1]) = (A, B);
        (CredentialLedger l, ) = _fresh(auths, 2);
        vm.prank(A);
        bytes32 id = l.propose(PL, U, keccak256("commitment"));
        address[] memory only = new address[](1);
        only[0] = A;
        vm.prank(ADMIN);
        l.setPlace(PL, only, 1);
        ICredentialLedger.Registration memory r = l.registration(id);
        assertEq(r.approvals, 1, "one approval, k = 1");
        vm.prank(A);
        (bool decided, ) = address(l).call(abi.encodeCall(l.approve, (id)));
        vm.prank(A);
        (bool retried, ) = address(l).call(abi.encodeCall(l.propose, (PL, U, keccak256("another"))));
        vm.prank(ADMIN);
        (bool withdrawn, ) = address(l).call(abi.encodeCall(l.revoke, (id)));
        assertTrue(
            decided || retried || withdrawn || l.registration(id).status != ICredentialLedger.Status.Pending,
            "pending with k approvals: no approval, no new proposal, no revocation"
        );
    }
}
