// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FlagContestFixture} from "./DisputeResolution.t.sol";
import {IDisputeResolution} from "../../contracts/interfaces/IDisputeResolution.sol";

/// @notice The court's hearing invariants of session 23 (red team s23-rtt R1, R2, R5;
/// docs/specs/disputes.md "One hearing per evidence" and "Ties"), fuzzed: one hearing per
/// (respondent, evidence digest) across the natures, one contest per flag instance, and "upheld"
/// only with a strict majority of the revealed weight, against the plain reference `_decideModel`.
contract DisputeResolutionClaimsTest is FlagContestFixture {
    /// Jurors whose controllers are neither party's (claimant ents[0] and respondent ents[1] belong
    /// to actors 0 and 1): entities 3, 4, 7, 8, 9, weights 1.0, 0.35, 0.8, 0.45, 0.7.
    uint8[5] internal jurors = [3, 4, 7, 8, 9];

    /// Every juror votes `choices[k]` (>= options: does not commit), then the dispute is resolved.
    function _judge(uint256 id, uint8 options, uint8[5] memory choices) internal {
        for (uint256 k; k < 5; ++k) {
            if (choices[k] >= options) continue;
            vm.prank(_controllerOf(jurors[k]));
            dr.commit(id, ents[jurors[k]], _commitment(id, ents[jurors[k]], choices[k], bytes32(k + 1)));
        }
        vm.warp(vm.getBlockTimestamp() + COMMIT + 1);
        for (uint256 k; k < 5; ++k) {
            if (choices[k] >= options) continue;
            vm.prank(_controllerOf(jurors[k]));
            dr.reveal(id, ents[jurors[k]], choices[k], bytes32(k + 1));
        }
        vm.warp(vm.getBlockTimestamp() + REVEAL + 1);
        dr.resolve(id);
    }

    function _open(uint8 nature, bytes32 evidence) internal returns (uint256) {
        return _open(nature, evidence, 2);
    }

    function _open(uint8 nature, bytes32 evidence, uint8 options) internal returns (uint256) {
        vm.prank(_controllerOf(0));
        return dr.openDispute{value: DEPOSIT}(ents[0], ents[1], nature, options, evidence, "", 0);
    }

    /// R1: while a dispute over (respondent, evidence) is open, and after it ended with a decision
    /// (upheld or rejected), no dispute of any nature over the same digest opens against that
    /// respondent; a void one frees it; another respondent is another claim.
    function testFuzz_oneHearingPerEvidence(bytes32 evidence, uint8 verdictSeed, bool otherNature) public {
        vm.assume(evidence != bytes32(0));
        uint8 nature = otherNature ? 2 : 0;
        uint256 first = _open(0, evidence);
        bytes memory heard = abi.encodeWithSelector(
            IDisputeResolution.DisputeResolution__EvidenceHeard.selector,
            ents[1],
            evidence,
            first
        );
        vm.prank(_controllerOf(0));
        vm.expectRevert(heard);
        dr.openDispute{value: DEPOSIT}(ents[0], ents[1], nature, 2, evidence, "", 0);
        // another respondent: another claim
        vm.prank(_controllerOf(0));
        dr.openDispute{value: DEPOSIT}(ents[0], ents[2], nature, 2, evidence, "", 0);
        // verdict 0 upheld, 1 rejected, 2 void (nobody votes)
        uint8 verdict = verdictSeed % 3;
        uint8 c = verdict == 2 ? 2 : verdict;
        _judge(first, 2, [c, c, c, c, c]);
        assertTrue(dr.dispute(first).void_ == (verdict == 2), "void iff nobody voted");
        if (verdict != 2) {
            vm.prank(_controllerOf(0));
            vm.expectRevert(heard);
            dr.openDispute{value: DEPOSIT}(ents[0], ents[1], nature, 2, evidence, "", 0);
        } else {
            uint256 again = _open(nature, evidence);
            assertEq(dr.dispute(again).evidence, evidence, "the freed hearing opens");
        }
    }

    /// R2: a flag instance is contested by one contest at a time, and never again after a verdict
    /// on it (a rejection keeps the flag: refused; an upheld verdict clears it: nothing held to
    /// contest); a void contest frees it; a re-asserted instance (new serial) is contested anew.
    function testFuzz_oneContestPerInstance(uint8 kindSeed, uint8 verdictSeed) public {
        uint8 kind = kindSeed % 7;
        bytes32 flagged = ents[0];
        vm.prank(detector);
        tm.flag(flagged, kind, keccak256("report"), 0);
        uint32 serial = tm.flagMarks(flagged)[kind];
        vm.prank(_controllerOf(0));
        uint256 first = dr.openDispute{value: DEPOSIT}(flagged, bytes32(0), 3, 2, bytes32(0), "", 0);
        bytes memory heard = abi.encodeWithSelector(
            IDisputeResolution.DisputeResolution__FlagInstanceHeard.selector,
            flagged,
            kind,
            serial,
            first
        );
        vm.prank(_controllerOf(0));
        vm.expectRevert(heard);
        dr.openDispute{value: DEPOSIT}(flagged, bytes32(0), 3, 2, bytes32(0), "", 0);
        uint8 verdict = verdictSeed % 3;
        uint8 c = verdict == 2 ? 2 : verdict;
        _judge(first, 2, [c, c, c, c, c]);
        if (verdict == 1) {
            vm.prank(_controllerOf(0));
            vm.expectRevert(heard);
            dr.openDispute{value: DEPOSIT}(flagged, bytes32(0), 3, 2, bytes32(0), "", 0);
        } else if (verdict == 2) {
            vm.prank(_controllerOf(0));
            uint256 again = dr.openDispute{value: DEPOSIT}(flagged, bytes32(0), 3, 2, bytes32(0), "", 0);
            assertEq(dr.dispute(again).contestedFlags, uint256(1) << kind, "a void contest frees its instance");
            return;
        } else assertEq(tm.entity(flagged).flags & (uint8(1) << kind), 0, "upheld: the instance is cleared");
        // the detector flags the kind again (new conduct): a new instance, contestable
        vm.warp(vm.getBlockTimestamp() + 2 hours);
        vm.prank(detector);
        tm.flag(flagged, kind, keccak256("new report"), 0);
        vm.prank(_controllerOf(0));
        uint256 next = dr.openDispute{value: DEPOSIT}(flagged, bytes32(0), 3, 2, bytes32(0), "", 0);
        assertEq(dr.dispute(next).contestedSerials[kind], uint256(serial) + 1, "the new instance");
    }

    /// R5: the outcome is `_decideModel`'s, and option 0 wins iff it holds more than half of the
    /// revealed weight, whatever the number of options and how the rest split.
    function testFuzz_upheldOnlyByAStrictMajority(uint8 optionsSeed, uint8[5] memory choices) public {
        uint8 options = 2 + (optionsSeed % 7);
        for (uint256 k; k < 5; ++k) choices[k] = choices[k] % (options + 1); // == options: abstains
        uint256 id = _open(0, keccak256("split"), options);
        _judge(id, options, choices);
        IDisputeResolution.Dispute memory d = dr.dispute(id);
        uint256[8] memory t = dr.tally(id);
        (uint256 total, uint256 best, uint8 winner, uint8 tied) = _decideModel(t, options, false, 0);
        if (d.void_) {
            assertLt(total, QUORUM, "void only below the quorum");
            return;
        }
        assertEq(d.outcome, winner, "the model's outcome");
        assertEq(d.winningWeight, best, "the model's winning weight");
        assertTrue(d.tieBroken == (tied > 1), "the model's tie");
        assertTrue((d.outcome == 0) == (t[0] * 2 > total), "upheld iff a strict majority");
    }

    /// R5: a flag contest has two options.
    function test_aFlagContestHasTwoOptions() public {
        vm.prank(detector);
        tm.flag(ents[0], 0, keccak256("report"), 0);
        vm.prank(_controllerOf(0));
        vm.expectRevert(abi.encodeWithSelector(IDisputeResolution.DisputeResolution__InvalidOptions.selector, 3));
        dr.openDispute{value: DEPOSIT}(ents[0], bytes32(0), 3, 3, bytes32(0), "", 0);
    }
}
