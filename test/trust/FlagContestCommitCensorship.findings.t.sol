// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {FlagContestFixture} from "../disputes/DisputeResolution.t.sol";
import {IDisputeResolution} from "../../contracts/interfaces/IDisputeResolution.sol";

/// Severity M (s20-redt F3). Attack: the detector, the other side of every flag contest, keeps an
/// honest node flagged by keeping jurors out of the contest. The F4 fix (h8-redtrust) lets a vote
/// committed before a flag still be revealed in a flag contest, but `commit` still refuses any
/// voter flagged at the time of its commit. The detector sees each juror's `commit` in the mempool
/// (or simply flags the eligible jurors when the contest opens) and front-runs it with a flag: no
/// commit lands, the contest misses its quorum, resolves void, and the honest node's flag stays
/// (its deposit comes back, so it may try again, against the same censorship). What breaks: "a
/// flagged node can be kept flagged without merit" whenever the flag holder can flag; jurors'
/// eligibility in a flag contest is decided by the contest's adversary, not fixed at the snapshot.
/// Expected when fixed: in a flag contest, a flag set on a voter after the contest opened does not
/// bar its commit (as it does not bar its reveal since F4): eligibility is judged at the snapshot.
contract FlagContestCommitCensorshipFindingsTest is FlagContestFixture {
    function test_F3_theDetectorFrontRunsJurorsCommitsAndTheFlagStays() public {
        bytes32 honest = ents[0];
        vm.prank(detector);
        tm.flag(honest, 0, keccak256("a mistaken sybil report"), 0);
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
    }
}
