// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeFixture} from "../disputes/DisputeResolution.t.sol";
import {IDisputeResolution} from "../../contracts/interfaces/IDisputeResolution.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";

/// Severity M (s20-redt F3; fixed by s20-f3b: in a flag contest `commit`, and the view
/// `eligibleWeight` with it, refuse only the flags a voter has held since the snapshot or before,
/// `TrustManager.flagMarks` blocks, which a re-assertion does not move; a detector run flags its
/// detections in one `flagBatch`, and a contest cannot open in its flag's block, so a ring detected
/// in one run is barred from its members' contests). Attack: the detector, the other side of every
/// flag contest, keeps an honest node flagged by keeping jurors out of the contest. The F4 fix
/// (h8-redtrust) lets a vote committed before a flag still be revealed in a flag contest, but
/// `commit` refused any voter flagged at the time of its commit. The detector sees each juror's
/// `commit` in the mempool (or simply flags the eligible jurors when the contest opens) and
/// front-runs it with a flag: no commit lands, the contest misses its quorum, resolves void, and the
/// honest node's flag stays. Expected when fixed: in a flag contest, a flag set on a voter after the
/// snapshot does not bar its commit (as it does not bar its reveal since F4). (Changed from the red
/// team's test: one block between the flag and the opening, which the fix requires.)
contract FlagContestCommitCensorshipTest is DisputeFixture {
    address internal detector;
    /// The block number now, kept here: via-IR may read `block.number` once per call frame, so a
    /// read after `vm.roll` in the same frame can be stale.
    uint256 internal blockNow;

    function setUp() public {
        _deploy();
        detector = address(uint160(uint256(keccak256("red detector"))));
        vm.startPrank(actors[ADMIN]);
        tm.grantRole(tm.DETECTOR_ROLE(), detector);
        vm.stopPrank();
        blockNow = block.number + MIN_AGE + 1;
        vm.roll(blockNow);
    }

    function _nextBlock() internal {
        vm.roll(++blockNow);
    }

    function test_F3_theDetectorFrontRunsJurorsCommitsAndTheFlagStays() public {
        bytes32 honest = ents[0];
        vm.prank(detector);
        tm.flag(honest, 0, keccak256("a mistaken sybil report"), 0);
        _nextBlock();
        vm.prank(_controllerOf(0));
        uint256 id = dr.openDispute{value: DEPOSIT}(honest, bytes32(0), 3, 2, keccak256("contest"), "");
        uint8[3] memory jurors = [1, 3, 7];
        uint256 committed;
        for (uint256 k; k < 3; ++k) {
            bytes32 j = ents[jurors[k]];
            // the detector front-runs the juror's commit with a flag of its own
            vm.prank(detector);
            tm.flag(j, 2, keccak256("good-mouthing?"), 0);
            vm.prank(_controllerOf(jurors[k]));
            try dr.commit(id, j, _commitment(id, j, 0, bytes32(k + 1))) {
                ++committed;
            } catch (bytes memory why) {
                // refused for the flag the adversary just set, nothing else
                assertEq(
                    bytes32(bytes4(why)),
                    bytes32(IDisputeResolution.DisputeResolution__Flagged.selector),
                    "refused as flagged"
                );
            }
        }
        assertEq(committed, 3, "jurors flagged by the contest's adversary after it opened could not commit");
        // and their votes count: the contest is upheld and the mistaken flag cleared
        vm.warp(vm.getBlockTimestamp() + COMMIT + 1);
        for (uint256 k; k < 3; ++k) {
            vm.prank(_controllerOf(jurors[k]));
            dr.reveal(id, ents[jurors[k]], 0, bytes32(k + 1));
        }
        vm.warp(vm.getBlockTimestamp() + REVEAL + 1);
        dr.resolve(id);
        assertEq(tm.entity(honest).flags & 1, 0, "the honest node's flag is cleared");
    }

    /// A flag on ents[0] (kind 0), then one block, then its contest: the snapshot is the flag's block.
    function _openContest(bytes32 flagged) internal returns (uint256 id) {
        vm.prank(detector);
        tm.flag(flagged, 0, keccak256("a sybil report"), 0);
        _nextBlock();
        vm.prank(_controllerOf(0));
        id = dr.openDispute{value: DEPOSIT}(flagged, bytes32(0), 3, 2, keccak256("contest"), "");
    }

    function _refused(uint256 id, uint256 i) internal {
        bytes32 j = ents[i];
        assertEq(dr.eligibleWeight(id, j), 0, "the view says it has no vote");
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__Flagged.selector, id, j));
        vm.prank(_controllerOf(i));
        dr.commit(id, j, _commitment(id, j, 0, bytes32(i)));
    }

    function _commits(uint256 id, uint256 i) internal {
        bytes32 j = ents[i];
        assertTrue(dr.eligibleWeight(id, j) > 0, "the view gives it a vote");
        vm.prank(_controllerOf(i));
        dr.commit(id, j, _commitment(id, j, 0, bytes32(i)));
        assertTrue(dr.voteOf(id, j).commitment != bytes20(0), "committed");
    }

    /// Control: a juror flagged before the contest opened still cannot commit.
    function test_aJurorFlaggedBeforeTheContestOpenedCannotCommit() public {
        vm.prank(detector);
        tm.flag(ents[1], 2, keccak256("good-mouthing"), 0);
        _nextBlock();
        _refused(_openContest(ents[0]), 1);
    }

    /// The boundary (`<=`, not `<`): a juror flagged in the snapshot block itself (the block before
    /// the opening) held the flag at the snapshot and is refused.
    function test_aJurorFlaggedInTheSnapshotBlockIsRefused() public {
        vm.startPrank(detector);
        tm.flag(ents[0], 0, keccak256("a sybil report"), 0);
        tm.flag(ents[1], 2, keccak256("good-mouthing"), 0);
        vm.stopPrank();
        uint256 flaggedAt = blockNow;
        _nextBlock();
        vm.prank(_controllerOf(0));
        uint256 id = dr.openDispute{value: DEPOSIT}(ents[0], bytes32(0), 3, 2, keccak256("contest"), "");
        assertEq(dr.dispute(id).snapshot, flaggedAt, "the snapshot is the juror's flag's block");
        _refused(id, 1);
    }

    /// A juror flagged at the snapshot and flagged with another kind after it is still refused:
    /// the later flag does not hide the earlier one.
    function test_aLaterFlagDoesNotHideAnEarlierOne() public {
        vm.prank(detector);
        tm.flag(ents[1], 2, keccak256("good-mouthing"), 0);
        _nextBlock();
        uint256 id = _openContest(ents[0]);
        vm.prank(detector);
        tm.flag(ents[1], 3, keccak256("bad-mouthing"), 0);
        _refused(id, 1);
    }

    /// A flag held since before the snapshot and re-asserted after it (new evidence, the same held
    /// bit) keeps its block: the juror is still refused. The re-assertion is still a new instance
    /// (its serial moves, for F2).
    function test_aReassertionAfterTheSnapshotKeepsTheFlagsBlock() public {
        vm.prank(detector);
        tm.flag(ents[1], 2, keccak256("good-mouthing"), 0);
        uint256 setAt = blockNow;
        _nextBlock();
        uint256 id = _openContest(ents[0]);
        _nextBlock();
        vm.prank(detector);
        tm.flag(ents[1], 2, keccak256("good-mouthing, re-asserted with new evidence"), 0);
        (uint32[7] memory serials, uint32[7] memory since) = tm.flagMarks(ents[1]);
        assertEq(serials[2], 2, "a new instance");
        assertEq(since[2], setAt, "held since its first flag");
        _refused(id, 1);
    }

    /// A flag withdrawn after the snapshot and set anew is a flag set after it (the detector's own
    /// choice): it does not bar.
    function test_aFlagWithdrawnAndSetAnewAfterTheSnapshotDoesNotBar() public {
        vm.prank(detector);
        tm.flag(ents[1], 2, keccak256("good-mouthing"), 0);
        _nextBlock();
        uint256 id = _openContest(ents[0]);
        _nextBlock();
        vm.startPrank(detector);
        tm.unflag(ents[1], 2, 0);
        tm.flag(ents[1], 2, keccak256("good-mouthing, again"), 0);
        vm.stopPrank();
        (, uint32[7] memory since) = tm.flagMarks(ents[1]);
        assertEq(since[2], blockNow, "held since the new flag");
        _commits(id, 1);
    }

    /// A flag set in the opening block itself is after the snapshot (block - 1): it does not bar.
    function test_aFlagInTheOpeningBlockDoesNotBar() public {
        uint256 id = _openContest(ents[0]);
        vm.prank(detector);
        tm.flag(ents[1], 2, keccak256("good-mouthing"), 0);
        _commits(id, 1);
    }

    /// s20-review M2: a detector run flags a ring of three (ents[0], ents[1], ents[3]) in one
    /// `flagBatch`; the first member opens its contest in the next block: the other two hold flags
    /// from the snapshot block and cannot commit in it; an unflagged juror can.
    function test_aRingFlaggedInOneBatchCannotVoteInItsMembersContest() public {
        bytes32[] memory ids = new bytes32[](3);
        (ids[0], ids[1], ids[2]) = (ents[0], ents[1], ents[3]);
        uint8[] memory kinds = new uint8[](3);
        (kinds[0], kinds[1], kinds[2]) = (2, 2, 2);
        uint256[] memory generations = new uint256[](3);
        vm.prank(detector);
        tm.flagBatch(ids, kinds, keccak256("one run's report"), generations);
        _nextBlock();
        vm.prank(_controllerOf(0));
        uint256 id = dr.openDispute{value: DEPOSIT}(ents[0], bytes32(0), 3, 2, keccak256("contest"), "");
        _refused(id, 1);
        _refused(id, 3);
        _commits(id, 7);
    }

    /// The same ring's first member cannot open its contest in the batch's block (after the batch,
    /// a back-run): the snapshot would be the block before the other members' flags.
    function test_aContestCannotOpenInItsFlagsBlock() public {
        bytes32[] memory ids = new bytes32[](2);
        (ids[0], ids[1]) = (ents[0], ents[1]);
        uint8[] memory kinds = new uint8[](2);
        uint256[] memory generations = new uint256[](2);
        vm.prank(detector);
        tm.flagBatch(ids, kinds, keccak256("one run's report"), generations);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeResolution.DisputeResolution__FlagContestTooEarly.selector,
                ents[0],
                uint8(0),
                blockNow + 1
            )
        );
        vm.prank(_controllerOf(0));
        dr.openDispute{value: DEPOSIT}(ents[0], bytes32(0), 3, 2, keccak256("contest"), "");
        assertEq(dr.disputeCount(), 0, "nothing opened");
    }

    /// `flagBatch` is all or nothing, for the detector only, and refuses malformed input.
    function test_flagBatchIsAtomicAndTheDetectorsOnly() public {
        bytes32[] memory ids = new bytes32[](2);
        (ids[0], ids[1]) = (ents[1], ents[N_ENT]); // the second is not registered
        uint8[] memory kinds = new uint8[](2);
        uint256[] memory generations = new uint256[](2);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__UnknownEntity.selector, ents[N_ENT]));
        vm.prank(detector);
        tm.flagBatch(ids, kinds, keccak256("r"), generations);
        assertEq(tm.entity(ents[1]).flags & 0x7f, 0, "nothing flagged");
        ids[1] = ents[3];
        vm.expectRevert(
            abi.encodeWithSelector(
                ITrustManager.TrustManager__InvalidBatch.selector,
                uint256(2),
                uint256(2),
                uint256(1)
            )
        );
        vm.prank(detector);
        tm.flagBatch(ids, kinds, keccak256("r"), new uint256[](1));
        vm.expectRevert(
            abi.encodeWithSelector(
                ITrustManager.TrustManager__InvalidBatch.selector,
                uint256(0),
                uint256(0),
                uint256(0)
            )
        );
        vm.prank(detector);
        tm.flagBatch(new bytes32[](0), new uint8[](0), keccak256("r"), new uint256[](0));
        vm.expectRevert(); // AccessControlUnauthorizedAccount
        vm.prank(_controllerOf(1));
        tm.flagBatch(ids, kinds, keccak256("r"), generations);
        vm.prank(detector);
        tm.flagBatch(ids, kinds, keccak256("r"), generations);
        assertEq(tm.entity(ents[1]).flags & 1, 1, "flagged");
        assertEq(tm.entity(ents[3]).flags & 1, 1, "flagged");
    }

    /// Outside a flag contest nothing changed: the detector is no party there, and a flag set after
    /// the opening still refuses a commit (disputes.md: eligibility at commit).
    function test_outsideAFlagContestALaterFlagStillBars() public {
        vm.prank(_controllerOf(0));
        uint256 id = dr.openDispute{value: DEPOSIT}(ents[0], ents[2], 0, 2, keccak256("a plain dispute"), "");
        _nextBlock();
        vm.prank(detector);
        tm.flag(ents[1], 2, keccak256("good-mouthing"), 0);
        _refused(id, 1);
    }
}
