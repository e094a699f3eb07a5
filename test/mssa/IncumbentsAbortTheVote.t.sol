// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ElectionFixture} from "./ElectionFixture.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice s20-redm F1 (severity M; fixed in s21-mf1): sitting authorities that are not nominees of
/// the open round decided it by reports made during the vote, and could keep their own seats for ever.
///
/// Attack: the report quorum (2) of sitting authorities that nobody nominated (so the
/// conflict-of-interest rule, which looks at nominees only, does not apply) attest invented reports
/// against candidates after the ballots are cast and before `elect` (18 reports per candidate,
/// 36 transactions, reach R = 1). `elect` weighed with the frozen ratio but still *excluded* a
/// candidate whose ratio now reached 1 (finding 9), and aborted when fewer than m candidates were
/// eligible, and an aborted round keeps the sitting authorities (finding 3).
///
/// What broke: (a) excluding m + 1 of the 2m candidates aborted the round: the incumbents, whom
/// nobody nominated, sat on; they could do it again every round (nothing limits a term);
/// (b) excluding only the voters' favourite reordered the vote (the spec says reports made during
/// the vote cannot reorder it) and seated the incumbents' pick. The same worked during the
/// nomination stage (framed nominees excluded at `closeNomination`, or an abort there).
///
/// The fix (the lead's decision, docs/specs/mssa.md §1.5): a report about a person who is a
/// nominee of the open round, applied after her nomination, is recorded (attestations, quorum,
/// contest as before) but counts from the round's end (elect or abort) on: `MisbehaviourDeferred`,
/// `Report.deferredTo`, `deferredMisbehaviour`. `elect` reads eligibility with the ratio frozen at
/// `closeNomination` (or a lower one now), as it reads the weights. Not immunity: the deferred
/// reports count at the round's end (an elected nominee framed to R = 1 is elected and then does
/// not sit until the arbiter dismisses them), and a dismissal before then takes a report out.
contract IncumbentsAbortTheVoteTest is ElectionFixture {
    // (nobody nominates the genesis authorities A, B, C)

    /// Round 1: v0..v5 nominate themselves (six candidates, A, B, C are no nominees); every voter
    /// ranks v0 > v1 > ... > v5.
    function _voteCast() internal returns (address[] memory cands) {
        _nominateSix();
        _closeAndVote();
        cands = e.round(1).candidates;
    }

    function _nominateSix() internal {
        rnd = e.openRound();
        for (uint256 i; i < 6; ++i) {
            vm.prank(v[i]);
            e.nominate(rnd, v[i]);
        }
    }

    function _closeAndVote() internal {
        vm.warp(e.round(e.currentRound()).nominationEnd);
        e.closeNomination();
        address[] memory cands = e.round(1).candidates;
        assertEq(cands.length, 6, "six candidates");
        uint8[] memory ranking = new uint8[](6);
        for (uint256 i; i < 6; ++i) ranking[i] = _index(cands, v[i]);
        for (uint256 i; i < 10; ++i) {
            vm.prank(v[i]);
            e.vote(rnd, ranking);
        }
    }

    function _ratioOf(address node) internal view returns (uint256 ratio) {
        (, ratio) = e.misbehaviour(node);
    }

    /// The detector's report of behaviour 3 ("other"; A_4 = 3, W_4 = 0.3: 0.1 each) about `node`.
    function _detect(address node, uint256 k) internal returns (bytes32 id) {
        vm.prank(DETECTOR);
        id = e.report(node, 3, keccak256(abi.encode("detected", node, k)));
    }

    /// A and B attest the 18 reports (5 of f = 0, 10 of f = 1, 3 of f = 3: R = 0.4 + 0.3 + 0.3)
    /// that take `node` to R = 1. A refused attestation is what the fix may do: it is passed by.
    function _frame(address node) internal {
        for (uint256 k; k < 18; ++k) {
            uint8 f = k < 5 ? 0 : (k < 15 ? 1 : 3);
            bytes32 ev = keccak256(abi.encode("invented", node, k));
            vm.prank(A);
            try e.report(node, f, ev) {} catch {}
            vm.prank(B);
            try e.report(node, f, ev) {} catch {}
        }
    }

    function _index(address[] memory xs, address x) internal pure returns (uint8) {
        for (uint256 i; i < xs.length; ++i) if (xs[i] == x) return uint8(i);
        revert("not a candidate");
    }

    function _contains(address[] memory xs, address x) internal pure returns (bool) {
        for (uint256 i; i < xs.length; ++i) if (xs[i] == x) return true;
        return false;
    }

    /// (a) Four of six candidates framed after the ballots: the round aborts and A, B, C sit on.
    function test_incumbentsNobodyNominatedAbortTheVoteAndKeepTheirSeats() public {
        _voteCast();
        for (uint256 i; i < 4; ++i) _frame(v[i]);
        vm.warp(e.round(e.currentRound()).votingEnd);
        e.elect();
        assertEq(uint256(e.round(1).stage), uint256(IAuthorityElection.Stage.Elected), "the vote was aborted");
        assertTrue(!e.isAuthority(A), "A, nominated by nobody, still sits after the election");
        address[] memory seated = e.authorities();
        for (uint256 i; i < 3; ++i) assertTrue(_contains(seated, v[i]), "the voters' top three sit");
    }

    /// (b) Only the voters' favourite framed after the ballots: the fourth takes its seat.
    function test_incumbentsNobodyNominatedReorderTheVote() public {
        _voteCast();
        _frame(v[0]);
        vm.warp(e.round(e.currentRound()).votingEnd);
        e.elect();
        address[] memory seated = e.authorities();
        assertTrue(_contains(seated, v[0]), "the voters' favourite was excluded by reports made during the vote");
        assertTrue(!_contains(seated, v[3]), "the voters' fourth sits");
    }

    // ------------------------------------------------------------------ the class (s21-mf1)

    /// The nomination-stage variant: four of six nominees framed to R = 1 after their nomination,
    /// during the nomination stage. Before the fix `closeNomination` saw two eligible nominees and
    /// aborted (the incumbents sat on); now the reports wait for the round's end, the six are the
    /// candidates and the voters' top three sit.
    function test_reportsDuringNominationCannotExcludeANomineeAtCloseOrElect() public {
        _nominateSix();
        for (uint256 i; i < 4; ++i) _frame(v[i]);
        _closeAndVote(); // "six candidates": none of the four excluded, no abort at the close
        for (uint256 i; i < 6; ++i) assertEq(e.round(1).candidateRatios[i], 0, "a frozen ratio includes the framing");
        bytes32 id = e.reportIdOf(v[0], 3, keccak256(abi.encode("invented", v[0], uint256(17))));
        assertEq(uint256(e.reportOf(id).state), uint256(IAuthorityElection.ReportState.Applied), "recorded");
        assertEq(e.reportOf(id).deferredTo, 1, "deferred to the end of round 1");
        assertEq(_ratioOf(v[0]), 0, "a report during the round raised a nominee's ratio");
        (uint16[4] memory waiting, uint256 until) = e.deferredMisbehaviour(v[0]);
        assertEq(until, 1, "waits for round 1");
        assertEq(uint256(waiting[0]) + waiting[1] + waiting[3], 18, "all 18 reports wait");
        vm.warp(e.round(e.currentRound()).votingEnd);
        e.elect();
        assertEq(uint256(e.round(1).stage), uint256(IAuthorityElection.Stage.Elected), "the vote was aborted");
        address[] memory seated = e.authorities();
        for (uint256 i; i < 3; ++i) assertTrue(_contains(seated, v[i]), "the voters' top three are elected");
        assertTrue(!e.isAuthority(A), "A still sits");
    }

    /// A deferred report counts from the round's end on: the ratio after `elect` includes it, the
    /// next round weighs the nominee with it; a report made during the vote reaches no weight in it.
    function test_aDeferredReportCountsWhenTheRoundEnds() public {
        _voteCast();
        for (uint256 k; k < 3; ++k) {
            vm.expectEmit();
            emit IAuthorityElection.MisbehaviourDeferred(
                e.reportIdOf(v[1], 3, keccak256(abi.encode("detected", v[1], k))),
                v[1],
                3,
                1
            );
            _detect(v[1], k);
        }
        assertEq(_ratioOf(v[1]), 0, "R during the round");
        vm.warp(e.round(e.currentRound()).votingEnd);
        e.elect();
        assertTrue(e.isAuthority(v[1]), "v1 elected and sitting");
        (uint16[4] memory c, uint256 ratio) = e.misbehaviour(v[1]);
        assertEq(c[3], 3, "the three deferred reports count after the round");
        assertEq(ratio, 3e17, "R = 0.3 after the round");
        (uint16[4] memory waiting, uint256 until) = e.deferredMisbehaviour(v[1]);
        assertEq(until, 0, "nothing waits");
        assertEq(waiting[3], 0, "nothing waits");
        // judged from the next round on: nominated again, it is weighed with R = 0.3
        rnd = e.openRound();
        for (uint256 i; i < 6; ++i) {
            vm.prank(v[i]);
            e.nominate(rnd, v[i]);
        }
        vm.warp(e.round(e.currentRound()).nominationEnd);
        e.closeNomination();
        IAuthorityElection.Round memory r2 = e.round(2);
        assertEq(r2.candidateRatios[_index(r2.candidates, v[1])], 3e17, "round 2 freezes R = 0.3");
    }

    /// An abort also ends the round: the reports deferred during it count then.
    function test_aDeferredReportCountsWhenTheRoundAborts() public {
        rnd = e.openRound();
        _stand(v[1]);
        vm.prank(v[0]);
        e.nominate(rnd, v[1]); // one nominee, m = 3: the round will abort
        _detect(v[1], 0);
        assertEq(_ratioOf(v[1]), 0, "R during the round");
        vm.warp(e.round(e.currentRound()).nominationEnd);
        e.closeNomination();
        assertEq(uint256(e.round(1).stage), uint256(IAuthorityElection.Stage.Aborted), "aborted");
        assertEq(_ratioOf(v[1]), 1e17, "R = 0.1 after the abort");
    }

    /// The arbiter dismisses a deferred report before the round ends: it never counts. A deferred
    /// report dismissed after the round's end is taken back as any applied report.
    function test_aDismissedDeferredReportNeverCounts() public {
        _voteCast();
        bytes32 early = _detect(v[0], 0);
        bytes32 late = _detect(v[0], 1);
        vm.prank(v[0]);
        e.contest(early);
        vm.prank(ADMIN);
        e.resolveContest(early, false);
        (uint16[4] memory waiting, ) = e.deferredMisbehaviour(v[0]);
        assertEq(waiting[3], 1, "the dismissed report was not taken out");
        vm.warp(e.round(e.currentRound()).votingEnd);
        e.elect();
        (uint16[4] memory c, uint256 ratio) = e.misbehaviour(v[0]);
        assertEq(c[3], 1, "a report dismissed before the round's end counted at it");
        assertEq(ratio, 1e17, "R = 0.1");
        vm.prank(v[0]);
        e.contest(late);
        vm.prank(ADMIN);
        e.resolveContest(late, false);
        assertEq(_ratioOf(v[0]), 0, "dismissed after the round's end: taken back");
    }

    /// A report about a member that is no nominee of the open round counts at once, during the
    /// nomination stage and the vote, as before; so does one about a nominee made before her
    /// nomination (its ratio is then the nominee's at the close).
    function test_aReportAboutANonNomineeCountsAtOnce() public {
        rnd = e.openRound();
        bytes32 id = _detect(v[5], 0); // v5 is not nominated yet
        assertEq(e.reportOf(id).deferredTo, 0, "before the nomination: not deferred");
        assertEq(_ratioOf(v[5]), 1e17, "before the nomination: counts at once");
        for (uint256 i; i < 6; ++i) {
            vm.prank(v[i]);
            e.nominate(rnd, v[i]);
        }
        vm.expectEmit();
        emit IAuthorityElection.MisbehaviourRecorded(
            e.reportIdOf(v[8], 3, keccak256(abi.encode("detected", v[8], uint256(0)))),
            v[8],
            3,
            1,
            1e17
        );
        _detect(v[8], 0); // v8 nominated nobody and is no nominee
        assertEq(_ratioOf(v[8]), 1e17, "a non-nominee's report waits");
        _detect(A, 0); // a sitting authority nobody nominated
        assertEq(_ratioOf(A), 1e17, "a sitting non-nominee's report waits");
        vm.warp(e.round(e.currentRound()).nominationEnd);
        e.closeNomination();
        IAuthorityElection.Round memory r = e.round(1);
        assertEq(r.candidateRatios[_index(r.candidates, v[5])], 1e17, "v5 frozen with its earlier report");
        _detect(v[9], 0); // during the vote
        assertEq(_ratioOf(v[9]), 1e17, "a non-nominee's report waits during the vote");
    }

    /// The person, not the account: a report about a former account of a nominee's person (same
    /// election nullifier) during the round is deferred too, or it would raise the nominee's ratio.
    function test_aReportAboutANomineesFormerAccountIsDeferred() public {
        address x = address(0x0A11CE);
        address y = address(0x0A11CF);
        bytes32 alice = keccak256("alice");
        vm.startPrank(ADMIN);
        e.enrolElector(x, alice);
        e.remove(x);
        e.enrolElector(y, alice);
        vm.stopPrank();
        _nominateSix();
        _stand(y);
        vm.prank(v[6]);
        e.nominate(rnd, y);
        _stand(y);
        vm.prank(v[7]);
        e.nominate(rnd, y); // two nominations: a candidate whatever the tie-break of the six others
        for (uint256 k; k < 18; ++k) {
            vm.prank(DETECTOR);
            e.report(x, k < 5 ? 0 : (k < 15 ? 1 : 3), keccak256(abi.encode("x, before it left", k)));
        }
        assertEq(_ratioOf(y), 0, "a report about her former account excluded the nominee");
        vm.warp(e.round(e.currentRound()).nominationEnd);
        e.closeNomination();
        assertTrue(_contains(e.round(1).candidates, y), "alice's account is a candidate");
        vm.warp(e.round(e.currentRound()).votingEnd);
        e.elect();
        assertEq(_ratioOf(y), 1e18, "the reports count after the round");
    }

    /// An abort caused by real ineligibility at the close (three of six nominees removed by the
    /// registrar: three eligible, m = 3) still keeps the sitting authorities; reports made during
    /// the round do not add to it.
    function test_anAbortByRealIneligibilityKeepsTheIncumbents() public {
        _nominateSix();
        vm.startPrank(ADMIN);
        for (uint256 i; i < 3; ++i) e.remove(v[i]);
        vm.stopPrank();
        _frame(v[3]);
        vm.warp(e.round(e.currentRound()).nominationEnd);
        e.closeNomination();
        assertEq(uint256(e.round(1).stage), uint256(IAuthorityElection.Stage.Aborted), "not aborted");
        assertEq(e.sittingRound(), 0, "the genesis authorities' round sits");
        assertTrue(e.isAuthority(A) && e.isAuthority(B) && e.isAuthority(C), "the incumbents sit");
        assertEq(_ratioOf(v[3]), 1e18, "the framing counts after the abort");
        assertEq(rnd = e.openRound(), 2, "the next round opens");
    }

    /// s21-review2 M1 (fixed in s21-m1fix): the round defers what it decides, not the seat's powers.
    /// A sitting authority caught misbehaving opens a round (anyone may) and nominates itself (an
    /// elector may): the detector's reports that take it to R = 1 wait for the round's end as for any
    /// nominee, yet it stops sitting at once (`isAuthority` reads the deferred counts: no attesting
    /// here, no approving in the CredentialLedger), and its candidacy is untouched.
    function test_aSelfNominatedIncumbentReportedToROneStopsSittingAtOnce() public {
        vm.prank(A);
        rnd = e.openRound();
        vm.prank(A);
        e.nominate(rnd, A);
        for (uint256 i; i < 5; ++i) {
            vm.prank(v[i]);
            e.nominate(rnd, v[i]);
        }
        for (uint256 k; k < 18; ++k) {
            vm.prank(DETECTOR);
            e.report(A, k < 5 ? 0 : (k < 15 ? 1 : 3), keccak256(abi.encode("caught", k)));
        }
        assertEq(_ratioOf(A), 0, "the round read A's deferred reports");
        assertTrue(!e.isAuthority(A), "A's own nomination shields its seat");
        vm.expectRevert(abi.encodeWithSelector(IAuthorityElection.AuthorityElection__NotAuthority.selector, A));
        vm.prank(A);
        e.report(v[9], 0, keccak256("attested by A"));
        vm.warp(e.round(1).nominationEnd);
        e.closeNomination();
        IAuthorityElection.Round memory r = e.round(1);
        assertEq(r.candidateRatios[_index(r.candidates, A)], 0, "A's candidacy read the deferred reports");
    }
}
