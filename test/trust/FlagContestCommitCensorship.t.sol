// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FlagContestFixture} from "../disputes/DisputeResolution.t.sol";
import {IDisputeResolution} from "../../contracts/interfaces/IDisputeResolution.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";

/// Severity M (s20-redt F3; fixed in session 22 by flag runs). Attack: the detector, the other side
/// of every flag contest, keeps an honest node flagged by keeping jurors out of the contest: it
/// front-runs each juror's `commit` with a flag, no commit lands, the contest is void and the flag
/// stays. The fix: the detector flags in runs (`TrustManager.beginFlagRun` .. `endFlagRun`, at most
/// FLAG_RUN_MAX long, begun at least FLAG_RUN_SPACING apart; a `flag` outside a run is a run of its
/// own), no flag contest opens while a run is in flight, the contest records the run count when it
/// opens (`runsAtOpening`), and in it a juror is refused (commit, `eligibleWeight`, the task
/// `dispute:commit`) only for an attack flag held since a run at or before that count
/// (`TrustManager.flagsHeldSince`; a re-assertion does not move it). The tests below are the attacks
/// the withdrawn builds let through (s20-f3, s20-f3b: doors 1-3 of session 21's final read) and the
/// rule's edges: a run held open, runs chained, transaction order within one block, re-assertion.
contract FlagContestCommitCensorshipTest is FlagContestFixture {
    /// Flags `who` (kind `kind`) as one run of the detector: begin, one batch, end.
    function _run(bytes32[] memory who, uint8 kind, bytes32 report) internal {
        uint256 n = who.length;
        uint8[] memory kinds = new uint8[](n);
        uint256[] memory gens = new uint256[](n);
        for (uint256 i; i < n; ++i) kinds[i] = kind;
        vm.startPrank(detector);
        tm.beginFlagRun(report);
        tm.flagBatch(who, kinds, report, gens);
        tm.endFlagRun();
        vm.stopPrank();
    }

    function _one(bytes32 a) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](1);
        out[0] = a;
    }

    function _two(bytes32 a, bytes32 b) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](2);
        out[0] = a;
        out[1] = b;
    }

    function _open(uint256 claimant) internal returns (uint256) {
        vm.prank(_controllerOf(claimant));
        return dr.openDispute{value: DEPOSIT}(ents[claimant], bytes32(0), 3, 2, keccak256("contest"), "", 0);
    }

    /// Whether juror `j` may commit in `id` (and the view agrees with the commit).
    function _mayCommit(uint256 id, uint256 j, bytes32 salt) internal returns (bool ok) {
        bytes32 voter = ents[j];
        uint256 weight = dr.eligibleWeight(id, voter);
        vm.prank(_controllerOf(j));
        try dr.commit(id, voter, _commitment(id, voter, 0, salt)) {
            ok = true;
        } catch (bytes memory why) {
            assertEq(
                bytes32(bytes4(why)),
                bytes32(IDisputeResolution.DisputeResolution__Flagged.selector),
                "refused as flagged, nothing else"
            );
        }
        // ONE rule: the view gives weight exactly to the voters the commit accepts
        assertTrue((weight != 0) == ok, "eligibleWeight and commit disagree");
    }

    /// The original finding: flags set after the opening (each juror's commit front-run) do not bar.
    function test_F3_theDetectorFrontRunsJurorsCommitsAndTheFlagStays() public {
        bytes32 honest = ents[0];
        vm.prank(detector);
        tm.flag(honest, 0, keccak256("a mistaken sybil report"), 0);
        uint256 id = _open(0);
        uint8[3] memory jurors = [1, 3, 7];
        uint256 committed;
        for (uint256 k; k < 3; ++k) {
            bytes32 j = ents[jurors[k]];
            // the detector front-runs the juror's commit with a flag of its own (a run of its own)
            vm.prank(detector);
            tm.flag(j, 2, keccak256("good-mouthing?"), 0);
            if (_mayCommit(id, jurors[k], bytes32(k + 1))) ++committed;
        }
        assertEq(committed, 3, "jurors flagged by the contest's adversary after it opened could not commit");
        // the same front-run inside a proper run changes nothing either
        _run(_one(ents[8]), 2, keccak256("run after the opening"));
        assertTrue(_mayCommit(id, 8, bytes32(uint256(9))), "a juror flagged by a later run may commit");
    }

    /// Door 1: a run's flags are not split around an opening. While a run is in flight (between
    /// two of its batches) no flag contest opens; after it, the ring's other members are barred.
    function test_door1_noOpeningBetweenTwoBatchesOfARun() public {
        bytes32 report = keccak256("ring report");
        uint8[] memory k1 = new uint8[](1);
        uint256[] memory g1 = new uint256[](1);
        vm.startPrank(detector);
        tm.beginFlagRun(report);
        tm.flagBatch(_one(ents[0]), k1, report, g1);
        vm.stopPrank();
        (uint256 runs, uint256 until) = tm.flagRunState();
        assertEq(runs, 1, "run 1");
        assertEq(until, vm.getBlockTimestamp() + tm.FLAG_RUN_MAX(), "in flight for FLAG_RUN_MAX at most");
        vm.prank(_controllerOf(0));
        vm.expectRevert(abi.encodeWithSelector(IDisputeResolution.DisputeResolution__FlagRunInFlight.selector, until));
        dr.openDispute{value: DEPOSIT}(ents[0], bytes32(0), 3, 2, keccak256("contest"), "", 0);
        vm.roll(block.number + 1);
        vm.warp(vm.getBlockTimestamp() + 12);
        vm.startPrank(detector);
        tm.flagBatch(_two(ents[1], ents[3]), new uint8[](2), report, new uint256[](2));
        tm.endFlagRun();
        vm.stopPrank();
        uint256 id = _open(0);
        assertEq(dr.dispute(id).runsAtOpening, 1, "the contest's snapshot of the runs");
        assertFalse(_mayCommit(id, 1, bytes32(uint256(1))), "a ring member of the same run is barred");
        assertFalse(_mayCommit(id, 3, bytes32(uint256(2))), "so is the other");
        assertTrue(_mayCommit(id, 7, bytes32(uint256(3))), "an unflagged juror votes");
    }

    /// A run the detector does not end stops being in flight FLAG_RUN_MAX after it began: openings
    /// are held off no longer, and the expired run takes no more batches.
    function test_aRunHeldOpenExpiresAfterMax() public {
        vm.prank(detector);
        tm.flag(ents[0], 0, keccak256("earlier"), 0);
        uint256 begun = vm.getBlockTimestamp();
        vm.prank(detector);
        tm.beginFlagRun(keccak256("held open"));
        uint256 max = tm.FLAG_RUN_MAX();
        vm.warp(begun + max - 1);
        vm.prank(_controllerOf(0));
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeResolution.DisputeResolution__FlagRunInFlight.selector, begun + max)
        );
        dr.openDispute{value: DEPOSIT}(ents[0], bytes32(0), 3, 2, keccak256("contest"), "", 0);
        vm.warp(begun + max);
        (uint256 runs, uint256 until) = tm.flagRunState();
        assertEq(until, 0, "no longer in flight");
        uint256 id = _open(0);
        assertEq(dr.dispute(id).runsAtOpening, runs, "opened after run 2");
        vm.startPrank(detector);
        vm.expectRevert(ITrustManager.TrustManager__NoFlagRun.selector);
        tm.flagBatch(_one(ents[1]), new uint8[](1), keccak256("late"), new uint256[](1));
        vm.expectRevert(ITrustManager.TrustManager__NoFlagRun.selector);
        tm.endFlagRun();
        // a single flag now is a run of its own (3): after the opening, it bars nobody there
        tm.flag(ents[1], 0, keccak256("late"), 0);
        vm.stopPrank();
        (runs, ) = tm.flagRunState();
        assertEq(runs, 3, "a flag outside a run counts as one");
        assertTrue(_mayCommit(id, 1, bytes32(uint256(1))), "flagged after the opening: votes");
    }

    /// Runs cannot be chained: a run begins FLAG_RUN_SPACING after the previous one began, so
    /// openings are blocked at most FLAG_RUN_MAX of every FLAG_RUN_SPACING.
    function test_runsCannotBeChained() public {
        uint256 t0 = vm.getBlockTimestamp();
        vm.startPrank(detector);
        tm.beginFlagRun(keccak256("run 1"));
        uint256 from = t0 + tm.FLAG_RUN_SPACING();
        // not while in flight
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__FlagRunTooSoon.selector, from));
        tm.beginFlagRun(keccak256("run 2"));
        tm.endFlagRun();
        // nor right after its end, nor after it expired
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__FlagRunTooSoon.selector, from));
        tm.beginFlagRun(keccak256("run 2"));
        vm.warp(from - 1);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__FlagRunTooSoon.selector, from));
        tm.beginFlagRun(keccak256("run 2"));
        vm.warp(from);
        tm.beginFlagRun(keccak256("run 2"));
        vm.stopPrank();
        (uint256 runs, uint256 until) = tm.flagRunState();
        assertEq(runs, 2, "run 2 began");
        assertEq(until, from + tm.FLAG_RUN_MAX(), "in flight");
    }

    /// One block, transaction order decides: an opening before a run's begin snapshots the runs
    /// before it (the run's flags do not bar), one after its end snapshots them after (they bar).
    function test_sameBlockTransactionOrderDecides() public {
        vm.startPrank(detector);
        tm.flag(ents[0], 0, keccak256("claimant, run 1"), 0);
        tm.flag(ents[2], 0, keccak256("claimant 2, run 2"), 0);
        vm.stopPrank();
        // opening, then the run, all in this block
        uint256 before = _open(0);
        _run(_two(ents[1], ents[3]), 3, keccak256("run 3, same block"));
        // the run, then an opening, in the same block
        uint256 afterRun = _open(2);
        assertEq(dr.dispute(before).runsAtOpening, 2, "before run 3");
        assertEq(dr.dispute(afterRun).runsAtOpening, 3, "after run 3");
        assertTrue(_mayCommit(before, 1, bytes32(uint256(1))), "run 3 followed the opening: its flag does not bar");
        assertTrue(_mayCommit(before, 3, bytes32(uint256(2))), "nor this one");
        assertFalse(_mayCommit(afterRun, 1, bytes32(uint256(3))), "run 3 preceded this opening: it bars");
        assertFalse(_mayCommit(afterRun, 3, bytes32(uint256(4))), "both");
    }

    /// Door 2: a ring member flagged in an earlier run opens its contest just before the run that
    /// flags the rest of the ring. The others vote in it (their flags follow the opening), but the
    /// run re-asserts the member's own flag (the pipeline re-sends every held flag it detects
    /// again), so the verdict cannot clear it (the F2 serial rule); and in the others' contests
    /// the member is barred (held since run 1).
    function test_door2_aRingMemberOpensBeforeTheRunThatFlagsTheRest() public {
        vm.prank(detector);
        tm.flag(ents[0], 0, keccak256("run 1: member A"), 0);
        uint256 idA = _open(0);
        // run 2 detects the ring again: A (re-asserted), B = ents[1], C = ents[3]
        bytes32[] memory ring = new bytes32[](3);
        (ring[0], ring[1], ring[2]) = (ents[0], ents[1], ents[3]);
        _run(ring, 0, keccak256("run 2: ring A B C"));
        assertEq(tm.flagsHeldSince(ents[0], 1) & 1, 1, "A held since run 1: the re-assertion does not move it");
        assertEq(tm.flagsHeldSince(ents[1], 1) & 1, 0, "B not since run 1");
        assertEq(tm.flagsHeldSince(ents[1], 2) & 1, 1, "B since run 2");
        // B, C and an honest juror vote to uphold A's contest
        uint8[3] memory jurors = [1, 3, 7];
        for (uint256 k; k < 3; ++k)
            assertTrue(_mayCommit(idA, jurors[k], bytes32(k + 1)), "flags after the opening do not bar");
        vm.warp(vm.getBlockTimestamp() + COMMIT + 1);
        for (uint256 k; k < 3; ++k) {
            vm.prank(_controllerOf(jurors[k]));
            dr.reveal(idA, ents[jurors[k]], 0, bytes32(k + 1));
        }
        vm.warp(vm.getBlockTimestamp() + REVEAL + 1);
        vm.expectEmit();
        emit IDisputeResolution.FlagContestFlaggedAgain(idA, ents[0], 1);
        dr.resolve(idA);
        assertEq(tm.entity(ents[0]).flags & 1, 1, "the instance run 2 re-asserted stays");
        // B's own contest, opened after run 2: A and C are barred
        uint256 idB = _open(1);
        assertFalse(_mayCommit(idB, 0, bytes32(uint256(7))), "A, held since run 1, is barred");
        assertFalse(_mayCommit(idB, 3, bytes32(uint256(8))), "C, flagged in run 2 with B, is barred");
    }

    /// A re-assertion after the opening does not make a juror flagged before it look new.
    function test_aReassertedJurorFlaggedBeforeTheOpeningStaysBarred() public {
        vm.startPrank(detector);
        tm.flag(ents[1], 2, keccak256("run 1: juror J"), 0);
        tm.flag(ents[0], 0, keccak256("run 2: claimant"), 0);
        vm.stopPrank();
        uint256 id = _open(0);
        _run(_one(ents[1]), 2, keccak256("run 3: J detected again"));
        assertEq(tm.flagMarks(ents[1])[2], 2, "a new instance");
        assertFalse(_mayCommit(id, 1, bytes32(uint256(1))), "J has held its flag since run 1");
        // withdrawn and set anew after the opening, it is a new flag: J votes
        vm.startPrank(detector);
        tm.unflag(ents[1], 2, 0, 2); // the current instance (serial 2, the run-3 re-assertion)
        tm.flag(ents[1], 2, keccak256("run 4: set anew"), 0);
        vm.stopPrank();
        assertEq(tm.flagsHeldSince(ents[1], 3) & 4, 0, "not held since run 3");
        assertEq(tm.flagsHeldSince(ents[1], 4) & 4, 4, "held since run 4");
        assertTrue(_mayCommit(id, 1, bytes32(uint256(2))), "a flag set after the opening does not bar");
    }

    /// Door 3 (the residual): a detector that sees an opening in the mempool and front-runs it with
    /// flags on jurors sets them in a run completed BEFORE the opening, publicly, on a report, each
    /// contestable; they bar those jurors (the rule cannot tell this from an honest detection).
    function test_door3_flagsFrontRunningTheOpeningBar_theResidual() public {
        vm.startPrank(detector);
        tm.flag(ents[0], 0, keccak256("claimant"), 0);
        tm.flag(ents[2], 0, keccak256("another claimant"), 0);
        vm.stopPrank();
        // the front-run: a run ended before the opening transaction
        _run(_one(ents[1]), 2, keccak256("a lying report on a juror"));
        uint256 id = _open(0);
        assertFalse(_mayCommit(id, 1, bytes32(uint256(1))), "barred: flagged before the opening");
        // and a run begun (not ended) before the opening makes the opening wait, not the juror
        uint256 t = vm.getBlockTimestamp() + tm.FLAG_RUN_SPACING();
        uint256 until = t + tm.FLAG_RUN_MAX();
        vm.warp(t);
        vm.prank(detector);
        tm.beginFlagRun(keccak256("another"));
        vm.prank(_controllerOf(2));
        vm.expectRevert(abi.encodeWithSelector(IDisputeResolution.DisputeResolution__FlagRunInFlight.selector, until));
        dr.openDispute{value: DEPOSIT}(ents[2], bytes32(0), 3, 2, keccak256("contest"), "", 0);
    }

    /// A single flag inside a run joins it; batches are bounded and need a run.
    function test_flagInsideARunJoinsItAndBatchesAreBounded() public {
        vm.startPrank(detector);
        tm.beginFlagRun(keccak256("run 1"));
        tm.flag(ents[1], 0, keccak256("single, inside"), 0);
        tm.flag(ents[3], 0, keccak256("single, inside"), 0);
        (uint256 runs, ) = tm.flagRunState();
        assertEq(runs, 1, "both joined run 1");
        assertEq(tm.flagsHeldSince(ents[3], 1) & 1, 1, "held since run 1");
        uint256 max = tm.FLAG_BATCH_MAX();
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__InvalidBatch.selector, max + 1, max + 1, max + 1)
        );
        tm.flagBatch(new bytes32[](max + 1), new uint8[](max + 1), bytes32(0), new uint256[](max + 1));
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__InvalidBatch.selector, 0, 0, 0));
        tm.flagBatch(new bytes32[](0), new uint8[](0), bytes32(0), new uint256[](0));
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__InvalidBatch.selector, 1, 2, 1));
        tm.flagBatch(_one(ents[7]), new uint8[](2), bytes32(0), new uint256[](1));
        tm.endFlagRun();
        vm.expectRevert(ITrustManager.TrustManager__NoFlagRun.selector);
        tm.flagBatch(_one(ents[7]), new uint8[](1), bytes32(0), new uint256[](1));
        vm.stopPrank();
        // only the detector runs
        bytes32 role = tm.DETECTOR_ROLE();
        vm.prank(_controllerOf(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                bytes4(keccak256("AccessControlUnauthorizedAccount(address,bytes32)")),
                _controllerOf(0),
                role
            )
        );
        tm.beginFlagRun(keccak256("not a detector"));
    }
}
