// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {personOf, personsOf} from "../helpers/forge/Persons.sol";
import {AuthorityElection} from "../../contracts/mssa/AuthorityElection.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice s20-redm F1 (severity M): sitting authorities that are not nominees of the open round
/// decide it by reports made during the vote, and can keep their own seats for ever.
///
/// Attack: the report quorum (2) of sitting authorities that nobody nominated (so the
/// conflict-of-interest rule, which looks at nominees only, does not apply) attest invented reports
/// against candidates after the ballots are cast and before `elect` (18 reports per candidate,
/// 36 transactions, reach R = 1). `elect` weighs with the frozen ratio but still *excludes* a
/// candidate whose ratio now reaches 1 (finding 9), and aborts when fewer than m candidates are
/// eligible, and an aborted round keeps the sitting authorities (finding 3).
///
/// What breaks: (a) excluding m + 1 of the 2m candidates aborts the round: the incumbents, whom
/// nobody nominated, sit on; they do it again every round (nothing limits a term), for ever;
/// (b) excluding only the voters' favourite reorders the vote (the spec says reports made during
/// the vote cannot reorder it) and seats the incumbents' pick. The arbiter can dismiss the reports
/// only after a contest, and anyone calls `elect` at `votingEnd`.
///
/// When fixed, both tests pass: the attestations are refused (e.g. no sitting authority attests
/// about a nominee of an open round: each of them profits from an abort), or they do not change who
/// is eligible at `elect` (eligibility from the ratio frozen at `closeNomination`, as the weights);
/// the voters' top three sit.
contract IncumbentsAbortTheVoteFindingTest is Test {
    address internal constant ADMIN = address(0xAD);
    // genesis authorities (m = 3, quorum 2); nobody nominates them
    address internal constant A = address(0xA1);
    address internal constant B = address(0xA2);
    address internal constant C = address(0xA3);
    uint256 internal constant PERIOD = 100;

    AuthorityElection internal e;
    address[10] internal v;

    function setUp() public {
        address[] memory genesis = new address[](3);
        (genesis[0], genesis[1], genesis[2]) = (A, B, C);
        uint16[4] memory caps = [uint16(5), 10, 10, 3];
        uint64[4] memory weights = [uint64(4e17), 3e17, 2e17, 3e17];
        e = new AuthorityElection(
            ADMIN,
            IAuthorityElection.Params(3, 2, uint32(PERIOD), uint32(PERIOD), caps, weights),
            genesis,
            personsOf(genesis)
        );
        vm.startPrank(ADMIN);
        for (uint256 i; i < 10; ++i) {
            v[i] = address(uint160(0xB00 + i));
            e.enrolElector(v[i], personOf(v[i]));
        }
        vm.stopPrank();
    }

    /// Round 1: v0..v5 nominate themselves (six candidates, A, B, C are no nominees); every voter
    /// ranks v0 > v1 > ... > v5.
    function _voteCast() internal returns (address[] memory cands) {
        e.openRound();
        for (uint256 i; i < 6; ++i) {
            vm.prank(v[i]);
            e.nominate(v[i]);
        }
        vm.warp(block.timestamp + PERIOD);
        e.closeNomination();
        cands = e.round(1).candidates;
        assertEq(cands.length, 6, "six candidates");
        uint8[] memory ranking = new uint8[](6);
        for (uint256 i; i < 6; ++i) ranking[i] = _index(cands, v[i]);
        for (uint256 i; i < 10; ++i) {
            vm.prank(v[i]);
            e.vote(ranking);
        }
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
        vm.warp(block.timestamp + PERIOD);
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
        vm.warp(block.timestamp + PERIOD);
        e.elect();
        address[] memory seated = e.authorities();
        assertTrue(_contains(seated, v[0]), "the voters' favourite was excluded by reports made during the vote");
        assertTrue(!_contains(seated, v[3]), "the voters' fourth sits");
    }
}
