// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {AuthorityElection} from "../../contracts/mssa/AuthorityElection.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice Red team h15-red2, finding R3 (fixed): a candidate removed during the round and enrolled
/// again before `elect` is seated, although it is not an elector of the round.
/// @dev The electorate of round r is the members enrolled before r opened and still members
/// (`isElector(r, a)`, finding 4), and a removed member "stops at once" (finding 6). `elect` (and
/// `closeNomination`) test a candidate with `_members[c]` only, not `isElector(id, c)`. So a
/// candidate whose registration is revoked for cause during the vote (the ledger's `revoke` calls
/// `remove`, which also frees its election nullifier and vacates any seat) registers again (a
/// revocation blacklists nobody: the same documents pass every authority's check, and the freed
/// nullifier is hers again) or is enrolled again by the registrar, and `elect` seats it on the
/// strength of ballots cast and a ratio frozen before its removal. The revocation, the operator's
/// only answer to a candidate found out mid-round, is undone within the voting period.
/// Fixed: `elect`, `closeNomination` and `_evictWeakest` test `isElector(id, c)`, not membership.
contract RemovedCandidateSeatedTest is Test {
    address internal constant ADMIN = address(0xAD);
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
            genesis
        );
        vm.startPrank(ADMIN);
        for (uint256 i; i < 10; ++i) {
            v[i] = address(uint160(0xB00 + i));
            e.enrol(v[i]);
        }
        vm.stopPrank();
    }

    function _index(address[] memory xs, address x) internal pure returns (uint8 i) {
        while (xs[i] != x) ++i;
    }

    function _contains(address[] memory xs, address x) internal pure returns (bool) {
        for (uint256 i; i < xs.length; ++i) if (xs[i] == x) return true;
        return false;
    }

    function test_aCandidateRemovedAndEnrolledAgainMidRoundIsNotSeated() public {
        e.openRound();
        vm.prank(v[0]);
        e.nominate(A);
        vm.prank(v[1]);
        e.nominate(B);
        for (uint256 i = 2; i < 6; ++i) {
            vm.prank(v[i]);
            e.nominate(v[i + 4]);
        }
        vm.warp(e.round(1).nominationEnd);
        e.closeNomination();
        address[] memory cands = e.round(1).candidates;
        assertEq(cands.length, 6, "six candidates");
        // every voter ranks v[6] first
        uint8[] memory ranking = new uint8[](6);
        for (uint256 i; i < 4; ++i) ranking[i] = _index(cands, v[6 + i]);
        ranking[4] = _index(cands, A);
        ranking[5] = _index(cands, B);
        for (uint256 i; i < 10; ++i) {
            vm.prank(v[i]);
            e.vote(ranking);
        }
        // v[6] is found out and removed (its registration revoked), then registers again
        vm.startPrank(ADMIN);
        e.remove(v[6]);
        e.enrol(v[6]);
        vm.stopPrank();
        assertTrue(e.isMember(v[6]) && !e.isElector(1, v[6]), "set-up: a member again, not an elector of round 1");
        vm.warp(e.round(1).votingEnd);
        e.elect();
        assertTrue(
            !_contains(e.authorities(), v[6]) && !e.isAuthority(v[6]),
            "a candidate removed and enrolled again during the round is seated"
        );
    }
}
