// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FlagContestFixture} from "./DisputeResolution.t.sol";
import {IDisputeResolution} from "../../contracts/interfaces/IDisputeResolution.sol";

/// @notice A flag contest judges the flags its claimant held when it opened: an upheld verdict
/// clears those and no other (red team h8-redtrust, finding F3).
contract DisputeResolutionFlagContestTest is FlagContestFixture {
    /// Red team h8-redtrust, F3 (medium, fixed): a flag contest cleared flags it never judged. A flagged entity contests its
    /// flag (nature 3); after the commit deadline, with every juror's vote sealed, the detector
    /// flags it again for a new attack with new evidence. The upheld contest then clears *every*
    /// flag the entity holds at resolution, the new one included, which no juror ever saw.
    /// Now only the flags held when the contest opened are cleared.
    function test_F3_anUpheldFlagContestKeepsAFlagSetAfterItOpened() public {
        bytes32 flagged = ents[0];
        vm.prank(detector);
        tm.flag(flagged, 0, keccak256("sybil report"), 0);
        vm.prank(_controllerOf(0));
        uint256 id = dr.openDispute{value: DEPOSIT}(flagged, bytes32(0), 3, 2, keccak256("contest"), "", 0);
        uint8[3] memory jurors = [1, 3, 7];
        for (uint256 k; k < 3; ++k) {
            vm.prank(_controllerOf(jurors[k]));
            dr.commit(id, ents[jurors[k]], _commitment(id, ents[jurors[k]], 0, bytes32(k + 1)));
        }
        vm.warp(vm.getBlockTimestamp() + COMMIT + 1);
        // the votes are sealed: a new detection, with its own evidence
        vm.prank(detector);
        tm.flag(flagged, 1, keccak256("on-off report"), 0);
        for (uint256 k; k < 3; ++k) {
            vm.prank(_controllerOf(jurors[k]));
            dr.reveal(id, ents[jurors[k]], 0, bytes32(k + 1));
        }
        vm.warp(vm.getBlockTimestamp() + REVEAL + 1);
        vm.expectEmit();
        emit IDisputeResolution.FlagContestUpheld(id, flagged, 1, true);
        dr.resolve(id);
        assertEq(dr.dispute(id).contestedFlags, 1, "the contest's subject");
        uint8 flags = tm.entity(flagged).flags & 0x7f;
        assertEq(flags & 1, 0, "the contested flag is cleared");
        assertEq(flags & 2, 2, "the on-off flag set after the contest opened stays");
    }

    /// Red team h8-redtrust, F4 (medium, fixed): the detector steered the contest of its own flag. An entity contests the
    /// detector's flag; two jurors holding 1.9 of reputation commit "upheld", one holding 0.8
    /// commits "rejected". In the reveal phase the detector (the other side of a flag contest, with
    /// no entity and so no party check) flags the two upholding jurors, or front-runs their reveal
    /// transactions with the flags: `reveal` refuses a flagged voter, so their sealed votes never
    /// count, the contest was rejected, the claimant lost its deposit and `loserPenalty`, and
    /// `settle` then penalized the two jurors as non-revealers. Now a vote committed before the
    /// flag still counts in a flag contest (in other disputes a flagged voter still cannot reveal).
    function test_F4_theDetectorCannotSuppressSealedVotesAgainstItsFlag() public {
        address detector_ = detector;
        bytes32 flagged = ents[0];
        vm.prank(detector_);
        tm.flag(flagged, 0, keccak256("sybil report"), 0);
        vm.prank(_controllerOf(0));
        uint256 id = dr.openDispute{value: DEPOSIT}(flagged, bytes32(0), 3, 2, keccak256("contest"), "", 0);
        uint8[3] memory jurors = [1, 3, 7];
        uint8[3] memory choice = [0, 0, 1];
        for (uint256 k; k < 3; ++k) {
            vm.prank(_controllerOf(jurors[k]));
            dr.commit(id, ents[jurors[k]], _commitment(id, ents[jurors[k]], choice[k], bytes32(k + 1)));
        }
        vm.warp(vm.getBlockTimestamp() + COMMIT + 1);
        // the detector sees the jurors' reveal transactions and front-runs them with flags
        vm.startPrank(detector_);
        tm.flag(ents[1], 2, keccak256("good-mouthing?"), 0);
        tm.flag(ents[3], 2, keccak256("good-mouthing?"), 0);
        vm.stopPrank();
        for (uint256 k; k < 3; ++k) {
            vm.prank(_controllerOf(jurors[k]));
            dr.reveal(id, ents[jurors[k]], choice[k], bytes32(k + 1));
        }
        vm.warp(vm.getBlockTimestamp() + REVEAL + 1);
        dr.resolve(id);
        assertEq(dr.dispute(id).outcome, 0, "the sealed majority for 'upheld' counts");
    }
}
