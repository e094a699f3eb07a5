// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MssaWiredBase} from "./MssaRedTeam.t.sol";
import {ICredentialLedger} from "../../contracts/interfaces/ICredentialLedger.sol";

/// @notice Red team h15-red2, finding R7 (fixed): a registration whose k-th approval came while an
/// earlier approver did not sit (`ApprovalsStale`) can never be granted once every approver has
/// approved, even when they all sit again.
/// @dev `_approve` re-checks the approvers only when an approval arrives, and `approve` refuses a
/// second approval of the same authority (`AlreadyApproved`). At a place of n authorities with
/// k = n (the paper's rule, which `mssa:place` takes by default), or whose other authorities are
/// down, a registration approved by all while one of them was briefly out of its seat (a report
/// later dismissed on contest, or a term it lost and won back) stays pending with k approvals from
/// k sitting authorities until it expires (7 days). The user's network client resends her consent
/// to the verifier while the verifier is an authority of the place and gets "pending" each time;
/// she must notice and `cancel`, then start a new session (n keys, n checks again).
/// Fixed: an approver that approved already re-runs the k check with `approve` (granted when k of
/// the approvers sit; otherwise AlreadyApproved, nothing changes).
contract StaleApprovalsStrandTest is MssaWiredBase {
    bytes32 internal constant PL2 = keccak256("PL2");

    function test_aRegistrationApprovedByAllWhileOneWasOutIsGrantedOnceTheySitAgain() public {
        vm.startPrank(ADMIN);
        e.grantRole(e.DETECTOR_ROLE(), ADMIN);
        address[] memory auths = new address[](2);
        (auths[0], auths[1]) = (A, B);
        ledger.setPlace(PL2, auths, 2);
        vm.stopPrank();
        bytes32 commitment = keccak256("strand-commitment");
        bytes32 nullifier = keccak256("strand-nullifier");
        address u = vm.addr(VICTIM_KEY);
        bytes memory sig = _consent(PL2, VICTIM_KEY, commitment, nullifier, bytes32(0));
        vm.prank(A);
        bytes32 id = ledger.propose(PL2, u, commitment, nullifier, bytes32(0), commitment, _deadline(), sig);
        // A is reported to R = 1 (0.4 + 0.3 + 0.3): out of its seat for now
        vm.startPrank(ADMIN);
        for (uint256 i; i < 5; ++i) e.report(A, 0, keccak256(abi.encode("f_d", i)));
        for (uint256 i; i < 10; ++i) e.report(A, 1, keccak256(abi.encode("f_c", i)));
        bytes32 last;
        for (uint256 i; i < 3; ++i) last = e.report(A, 3, keccak256(abi.encode("m_b", i)));
        vm.stopPrank();
        assertTrue(!e.isAuthority(A), "set-up: A does not sit");
        vm.prank(B);
        ledger.approve(id); // the k-th approval: A's does not count now (ApprovalsStale)
        assertEq(uint256(ledger.registration(id).status), uint256(ICredentialLedger.Status.Pending), "set-up: pending");
        // A contests one report, the arbiter dismisses it: A sits again
        vm.prank(A);
        e.contest(last);
        vm.prank(ADMIN);
        e.resolveContest(last, false);
        assertTrue(e.isAuthority(A) && e.isAuthority(B), "set-up: both sit again");
        // both have approved; the only calls there are: each approver approves again
        vm.prank(A);
        try ledger.approve(id) {} catch {}
        vm.prank(B);
        try ledger.approve(id) {} catch {}
        (bool granted, ) = ledger.access(u, PL2);
        assertTrue(granted, "k approvals from k sitting authorities of the place, and no way to grant it");
    }
}
