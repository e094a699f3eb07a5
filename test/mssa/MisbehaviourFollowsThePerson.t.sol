// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MssaWiredBase} from "./MssaRedTeam.t.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice s20-redm F2 (fixed in s20-fixperson): Eq. 1's misbehaviour record follows the person
/// (her election nullifier E), as electorship does, not the account.
///
/// The attack (red team): alice's account X (elector under E) is punished to R = 1; her
/// registration is revoked (for cause, or at her request: "new wallet"), which frees E; she
/// registers account Y with the same passport and Y was her elector with an empty record, R = 0,
/// nominable again. Fixed: the counts are kept per election nullifier, which every member holds
/// (s20-f5: genesis and the registrar's enrolments too), so Y starts at X's R = 1; a report about X
/// (no member any more) still reaches alice's record; alice's current account may contest it.
/// Residual (docs/specs/mssa.md §1.5): access-only users are no members and have no record.
contract MisbehaviourFollowsThePersonTest is MssaWiredBase {
    address internal constant DETECTOR = address(0xDE7EC7);
    bytes32 internal constant E = keccak256("alice's election nullifier");
    bytes32 internal constant N = keccak256("alice's place nullifier at PL");
    uint256 internal constant X_KEY = 0xA11CE;
    uint256 internal constant Y_KEY = 0xA11CF;

    function _register(uint256 key, bytes32 salt) internal returns (bytes32 id) {
        bytes32 c = keccak256(abi.encode("commitment", key, salt));
        bytes memory sig = _consent(PL, key, c, N, E);
        vm.prank(A);
        id = ledger.propose(PL, vm.addr(key), c, N, E, c, _deadline(), sig);
        vm.prank(B);
        ledger.approve(id);
    }

    function test_aPunishedElectorComesBackCleanUnderANewAccount() public {
        bytes32 detectorRole = e.DETECTOR_ROLE();
        vm.prank(ADMIN);
        e.grantRole(detectorRole, DETECTOR);
        address x = vm.addr(X_KEY);
        bytes32 idX = _register(X_KEY, "x");
        assertEq(e.electorOf(E), x, "X is alice's elector");
        for (uint256 k; k < 18; ++k) {
            vm.prank(DETECTOR);
            e.report(x, k < 5 ? 0 : (k < 15 ? 1 : 3), keccak256(abi.encode("x misbehaved", k)));
        }
        (, uint256 ratioX) = e.misbehaviour(x);
        assertEq(ratioX, 1e18, "X punished: R = 1");

        vm.prank(ADMIN);
        ledger.revoke(idX);
        address y = vm.addr(Y_KEY);
        _register(Y_KEY, "y");
        assertEq(e.electorOf(E), y, "Y is alice's elector now, under the same E");

        uint256 r = rnd = e.openRound();
        assertTrue(e.isElector(r, y), "Y is an elector of the next round");
        (, uint256 ratioY) = e.misbehaviour(y);
        assertGe(ratioY, 1e18, "alice's record stayed with X: Y starts at R = 0");
        vm.prank(v[0]);
        vm.expectRevert(abi.encodeWithSelector(IAuthorityElection.AuthorityElection__Ineligible.selector, y, ratioY));
        e.nominate(rnd, y);
    }

    function _grantDetector() internal {
        bytes32 detectorRole = e.DETECTOR_ROLE();
        vm.prank(ADMIN);
        e.grantRole(detectorRole, DETECTOR);
    }

    /// A report about alice's former account X, filed after X left, raises the record Y inherits;
    /// before the fix `report` refused X (NotMember) and Y's record stayed empty.
    function test_aReportAboutAFormerAccountReachesThePerson() public {
        address x = vm.addr(X_KEY);
        bytes32 idX = _register(X_KEY, "x");
        vm.prank(ADMIN);
        ledger.revoke(idX);
        assertTrue(!e.isMember(x), "X left");
        address y = vm.addr(Y_KEY);
        _register(Y_KEY, "y");
        // the quorum of sitting authorities (2) attests a report about X, seen before X left
        vm.prank(A);
        bytes32 id = e.report(x, 1, "x spammed");
        vm.prank(B);
        e.report(x, 1, "x spammed");
        assertEq(uint8(e.reportOf(id).state), uint8(IAuthorityElection.ReportState.Applied), "applied");
        (uint16[4] memory cy, uint256 ry) = e.misbehaviour(y);
        assertEq(cy[1], 1, "alice's record (Y) carries the report about X");
        assertTrue(ry > 0, "Y's ratio rose");
        // alice contests through the account she holds now; nobody else may; dismissed: the count goes
        vm.prank(C);
        vm.expectRevert(abi.encodeWithSelector(IAuthorityElection.AuthorityElection__NotReportedNode.selector, id, C));
        e.contest(id);
        vm.prank(y);
        e.contest(id);
        vm.prank(ADMIN);
        e.resolveContest(id, false);
        (cy, ry) = e.misbehaviour(y);
        assertEq(cy[1], 0, "dismissed: taken back from the person's record");
        assertEq(ry, 0, "R = 0 again");
    }

    /// A member the registrar enrolled holds her person's e (s20-redm F5), so her record is the
    /// person's from the first day: removed and enrolled again under another account, she keeps it.
    /// (Before F5's fix such a member had an account record only, shed by a new account.)
    function test_aRegistrarEnrolledMembersRecordFollowsThePerson() public {
        _grantDetector();
        address m = address(0xCAFE);
        address m2 = address(0xCAFF);
        vm.prank(ADMIN);
        e.enrolElector(m, E);
        for (uint256 k; k < 3; ++k) {
            vm.prank(DETECTOR);
            e.report(m, 3, keccak256(abi.encode("m misbehaved", k)));
        }
        (uint16[4] memory before, uint256 rBefore) = e.misbehaviour(m);
        assertEq(before[3], 3, "m's record: 3");
        vm.startPrank(ADMIN);
        e.remove(m);
        e.enrolElector(m2, E);
        vm.stopPrank();
        (uint16[4] memory after_, uint256 rAfter) = e.misbehaviour(m2);
        assertEq(after_[3], 3, "the person's record went with her to m2");
        assertEq(rAfter, rBefore, "same ratio");
        // a dismissal of a report about m, contested by her account now, takes its count back
        bytes32 id0 = e.reportIdOf(m, 3, keccak256(abi.encode("m misbehaved", uint256(0))));
        vm.prank(m2);
        e.contest(id0);
        vm.prank(ADMIN);
        e.resolveContest(id0, false);
        (after_, ) = e.misbehaviour(m2);
        assertEq(after_[3], 2, "dismissed: one count less");
    }

    /// Only accounts that were members are reportable: an outsider still is not.
    function test_anOutsiderIsStillNotReportable() public {
        address outsider = address(0x0DD);
        vm.prank(A);
        vm.expectRevert(abi.encodeWithSelector(IAuthorityElection.AuthorityElection__NotMember.selector, outsider));
        e.report(outsider, 1, "nothing");
    }
}
