// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "../helpers/forge/Test.sol";
import {FlagContestFixture} from "../disputes/DisputeResolution.t.sol";
import {IDisputeResolution} from "../../contracts/interfaces/IDisputeResolution.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";

/// Severity M (s20-redt F2; fixed by s20-fixflag: `TrustManager.flagMarks` serials, recorded at
/// opening in `Dispute.contestedSerials`, compared by the court before it unflags). Attack: a flag contest binds the flag KINDS its claimant held when it
/// opened (`contestedFlags`, a bit mask), not the flags themselves (which detection, which
/// evidence). A flagged attacker contests flag k (report E1). While the contest runs (the votes
/// are sealed after the commit deadline), the detector detects a new attack of the same kind k with
/// new evidence E2: either it had withdrawn E1 and flags k anew (case a), or it re-asserts the set
/// bit with E2's `EntityFlagged` (case b). The upheld verdict, about E1, then clears k and with it
/// E2's detection, which no juror ever saw: exactly what the F3 rule ("a flag set after the contest
/// opened was never before its jurors and stays") is meant to stop, for another kind only. Worse
/// off-chain: the pipeline's R1 rule treats the court's unflag at block B as a verdict on the
/// entity's conduct up to B, so the conduct E2 reported (between the opening and B) is not flagged
/// again either: a contest launders whatever the attacker does while it is pending.
/// Expected when fixed: the verdict clears only the flag instance it judged; a flag of kind k set
/// or re-asserted after the contest opened stays (e.g. a per-kind flag serial or block recorded by
/// `flag`, captured at opening and compared by the court's `unflag`).
contract FlagContestInstanceTest is FlagContestFixture {
    /// Opens a contest of `flagged`'s flag 0 and seals three upholding votes; returns the id.
    function _contestSealed(bytes32 flagged) internal returns (uint256 id) {
        vm.prank(_controllerOf(0));
        id = dr.openDispute{value: DEPOSIT}(flagged, bytes32(0), 3, 2, keccak256("contest of E1"), "", 0);
        uint8[3] memory jurors = [1, 3, 7];
        for (uint256 k; k < 3; ++k) {
            vm.prank(_controllerOf(jurors[k]));
            dr.commit(id, ents[jurors[k]], _commitment(id, ents[jurors[k]], 0, bytes32(k + 1)));
        }
        vm.warp(vm.getBlockTimestamp() + COMMIT + 1);
    }

    function _revealAndResolve(uint256 id) internal {
        uint8[3] memory jurors = [1, 3, 7];
        for (uint256 k; k < 3; ++k) {
            vm.prank(_controllerOf(jurors[k]));
            dr.reveal(id, ents[jurors[k]], 0, bytes32(k + 1));
        }
        vm.warp(vm.getBlockTimestamp() + REVEAL + 1);
        dr.resolve(id);
    }

    /// (a) E1 withdrawn, a new flag of the same kind with E2 set after the contest opened.
    function test_F2a_aNewFlagOfTheContestedKindSetAfterTheOpeningIsCleared() public {
        bytes32 flagged = ents[0];
        vm.prank(detector);
        tm.flag(flagged, 0, keccak256("E1: sybil report, mistaken"), 0);
        uint256 id = _contestSealed(flagged);
        vm.startPrank(detector);
        tm.unflag(flagged, 0, 0, 1); // the detector withdraws E1 (instance 1)
        tm.flag(flagged, 0, keccak256("E2: a new sybil detection"), 0); // and flags a new detection
        vm.stopPrank();
        _revealAndResolve(id);
        assertEq(tm.entity(flagged).flags & 1, 1, "the verdict about E1 cleared E2's flag, set after it opened");
    }

    /// (b) E1 stands, the detector re-asserts kind k with a new detection E2 after the opening.
    function test_F2b_aReassertedFlagOfTheContestedKindIsCleared() public {
        bytes32 flagged = ents[0];
        vm.prank(detector);
        tm.flag(flagged, 0, keccak256("E1: sybil report"), 0);
        uint256 id = _contestSealed(flagged);
        vm.prank(detector);
        tm.flag(flagged, 0, keccak256("E2: new conduct, after the contest opened"), 0);
        _revealAndResolve(id);
        assertEq(tm.entity(flagged).flags & 1, 1, "the verdict about E1 cleared E2's detection too");
    }

    /// The instance is recorded at opening: the serial of each contested kind, which the flag's
    /// `FlagInstance` event names next to its `EntityFlagged` (the report the jurors judge).
    function test_theContestRecordsTheSerialsItJudges() public {
        bytes32 flagged = ents[0];
        vm.startPrank(detector);
        vm.expectEmit();
        emit ITrustManager.FlagInstance(flagged, 0, 1);
        tm.flag(flagged, 0, keccak256("E1"), 0);
        vm.expectEmit();
        emit ITrustManager.FlagInstance(flagged, 0, 2);
        tm.flag(flagged, 0, keccak256("E1 re-asserted"), 0);
        tm.flag(flagged, 3, keccak256("bad-mouthing"), 0);
        vm.stopPrank();
        uint256 id = _contestSealed(flagged);
        uint32[7] memory judged = dr.dispute(id).contestedSerials;
        assertEq(judged[0], 2, "kind 0: its second instance");
        assertEq(judged[3], 1, "kind 3: its first instance");
        uint32[7] memory serials = tm.flagMarks(flagged);
        assertEq(serials[0], 2, "serial of kind 0");
        assertEq(serials[1], 0, "never flagged: 0");
    }

    /// Control (the fix clears what it must): an unchanged instance is cleared and no "again" event.
    function test_anUnchangedInstanceIsCleared() public {
        bytes32 flagged = ents[0];
        vm.prank(detector);
        tm.flag(flagged, 0, keccak256("E1"), 0);
        uint256 id = _contestSealed(flagged);
        vm.recordLogs();
        _revealAndResolve(id);
        assertEq(tm.entity(flagged).flags & 0x7f, 0, "the judged flag is cleared");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i)
            assertTrue(
                logs[i].topics.length == 0 || logs[i].topics[0] != IDisputeResolution.FlagContestFlaggedAgain.selector,
                "nothing flagged again"
            );
    }

    /// Two contested kinds, one of them re-asserted after the opening: the other is cleared, the
    /// re-asserted one stays, and the event names it.
    function test_onlyTheReflaggedKindStays() public {
        bytes32 flagged = ents[0];
        vm.startPrank(detector);
        tm.flag(flagged, 0, keccak256("sybil E1"), 0);
        tm.flag(flagged, 3, keccak256("bad-mouthing B1"), 0);
        vm.stopPrank();
        uint256 id = _contestSealed(flagged);
        vm.roll(block.number + 1);
        vm.prank(detector);
        tm.flag(flagged, 3, keccak256("bad-mouthing B2, while the contest runs"), 0);
        uint8[3] memory jurors = [1, 3, 7];
        for (uint256 k; k < 3; ++k) {
            vm.prank(_controllerOf(jurors[k]));
            dr.reveal(id, ents[jurors[k]], 0, bytes32(k + 1));
        }
        vm.warp(vm.getBlockTimestamp() + REVEAL + 1);
        vm.expectEmit();
        emit IDisputeResolution.FlagContestFlaggedAgain(id, flagged, 1 << 3);
        vm.expectEmit();
        emit IDisputeResolution.FlagContestUpheld(id, flagged, 1, true);
        dr.resolve(id);
        uint8 flags = tm.entity(flagged).flags & 0x7f;
        assertEq(flags & 1, 0, "the unchanged sybil flag is cleared");
        assertEq(flags & (1 << 3), 1 << 3, "the bad-mouthing flag set anew stays");
    }
}
