// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ElectionFixture} from "./ElectionFixture.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice s23-rtm F1, F2 (fixed in s23-fxmssa), fuzzed: the vote runs a full voting period from the
/// actual close, whenever it comes; a round without a ballot elects nobody; a ballot counts only in
/// the round it names. The invariant model (AuthorityElection.t.sol) checks the same on every
/// random sequence; these pin each property on its own.
contract ElectionTimingTest is ElectionFixture {
    /// Opens a round and has v0..v5 nominate themselves; returns at nominationEnd.
    function _six() internal {
        rnd = e.openRound();
        for (uint256 i; i < 6; ++i) {
            vm.prank(v[i]);
            e.nominate(rnd, v[i]);
        }
        vm.warp(e.round(rnd).nominationEnd);
    }

    function _ranking() internal pure returns (uint8[] memory r) {
        r = new uint8[](6);
        for (uint256 i; i < 6; ++i) r[i] = uint8(i);
    }

    /// Whenever the nomination is closed (at its end or up to 100 periods later), every elector
    /// can vote for a full period from the close, and nobody can elect before it is over.
    function testFuzz_theVoteIsAFullPeriodFromTheClose(uint32 delay) public {
        _six();
        vm.warp(block.timestamp + bound(delay, 0, 100 * PERIOD));
        uint256 closedAt = block.timestamp;
        e.closeNomination();
        IAuthorityElection.Round memory r = e.round(rnd);
        assertEq(uint256(r.stage), uint256(IAuthorityElection.Stage.Voting), "voting");
        assertEq(r.votingEnd, closedAt + PERIOD, "votingEnd = close + votingPeriod");
        vm.warp(closedAt + PERIOD - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAuthorityElection.AuthorityElection__TooEarly.selector, rnd, closedAt + PERIOD)
        );
        e.elect();
        vm.prank(v[9]);
        e.vote(rnd, _ranking()); // the last second of the vote is still in time
        assertEq(e.round(rnd).ballots, 1, "counted");
    }

    /// No ballot, no outcome: the round aborts and the sitting authorities stay, however late the
    /// close and the elect come.
    function testFuzz_noBallotNoOutcome(uint32 delay) public {
        _six();
        vm.warp(block.timestamp + bound(delay, 0, 100 * PERIOD));
        e.closeNomination();
        vm.warp(e.round(rnd).votingEnd + bound(delay, 0, 100 * PERIOD));
        vm.expectEmit();
        emit IAuthorityElection.RoundAborted(rnd, IAuthorityElection.Stage.Voting, 0);
        e.elect();
        assertEq(uint256(e.round(rnd).stage), uint256(IAuthorityElection.Stage.Aborted), "aborted");
        assertEq(e.sittingRound(), 0, "the genesis authorities sit");
        assertEq(e.round(rnd).authorities.length, 0, "nobody seated");
    }

    /// A ballot naming any round but the current one is refused and changes nothing.
    function testFuzz_aBallotCountsOnlyInItsRound(uint256 named) public {
        _six();
        e.closeNomination();
        vm.assume(named != rnd);
        vm.prank(v[7]);
        vm.expectRevert(
            abi.encodeWithSelector(IAuthorityElection.AuthorityElection__NotCurrentRound.selector, named, rnd)
        );
        e.vote(named, _ranking());
        assertEq(e.round(rnd).ballots, 0, "no ballot");
        assertTrue(!e.hasVoted(rnd, v[7]), "she can still vote");
        uint256[] memory t = e.tally(rnd);
        for (uint256 i; i < t.length; ++i) assertEq(t[i], 0, "tally unchanged");
        vm.prank(v[7]);
        e.vote(rnd, _ranking());
        assertEq(e.round(rnd).ballots, 1, "her ballot for this round counts");
    }

    /// Nor does a nomination naming another round.
    function testFuzz_aNominationCountsOnlyInItsRound(uint256 named) public {
        rnd = e.openRound();
        vm.assume(named != rnd);
        vm.prank(v[0]);
        vm.expectRevert(
            abi.encodeWithSelector(IAuthorityElection.AuthorityElection__NotCurrentRound.selector, named, rnd)
        );
        e.nominate(named, v[0]);
        assertEq(e.nominations(rnd, v[0]), 0, "no nomination");
        assertTrue(!e.hasNominated(rnd, v[0]), "she can still nominate");
    }
}
