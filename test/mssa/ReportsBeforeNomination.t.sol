// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {AuthorityElection} from "../../contracts/mssa/AuthorityElection.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice Red team h15-red2, finding R8 (fixed): incumbent nominees frame a rival before it is
/// nominated, and the arbiter's dismissal no longer helps it once voting opens.
/// @dev Finding 1's defences are (i) the conflict-of-interest rule: a nominee of the open round may
/// not attest a report about *another nominee* of it; (ii) ratios frozen at `closeNomination`;
/// (iii) the contest. (i) is a test of the moment: two sitting authorities that are nominees attest
/// reports against a rival before the rival's nomination is mined (or before the round opens), and
/// the rule does not apply. (ii) then freezes the invented ratio at `closeNomination`, and (iii)
/// cannot undo it: the arbiter dismisses every report (R back to 0) before the vote ends, yet
/// `elect` weighs the rival's Borda score with the frozen ratio. The voters' unanimous favourite
/// is kept out of the seats by reports the arbiter has thrown out.
/// Fixed: `elect` weighs each candidate with min(frozen ratio, ratio now): reports made during the
/// vote still cannot lower it, dismissals reach it.
contract ReportsBeforeNominationTest is Test {
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

    function test_reportsDismissedBeforeElectDoNotKeepTheFavouriteOut() public {
        e.openRound();
        vm.prank(v[0]);
        e.nominate(A);
        vm.prank(v[1]);
        e.nominate(B);
        // A and B, nominees and the report quorum, frame v[6] before its nomination: 5 f_d + 3 m_b
        bytes32[] memory ids = new bytes32[](8);
        for (uint256 i; i < 8; ++i) {
            uint8 f = i < 5 ? 0 : 3;
            bytes32 ev = keccak256(abi.encode("invented", i));
            vm.prank(A);
            ids[i] = e.report(v[6], f, ev);
            vm.prank(B);
            e.report(v[6], f, ev);
        }
        (, uint256 framed) = e.misbehaviour(v[6]);
        assertEq(framed, 7e17, "set-up: R = 0.7, no ConflictOfInterest");
        for (uint256 i = 2; i < 6; ++i) {
            vm.prank(v[i]);
            e.nominate(v[i + 4]);
        }
        vm.warp(e.round(1).nominationEnd);
        e.closeNomination();
        address[] memory cands = e.round(1).candidates;
        // v[6] contests every report and the arbiter dismisses them all during the vote
        for (uint256 i; i < 8; ++i) {
            vm.prank(v[6]);
            e.contest(ids[i]);
            vm.prank(ADMIN);
            e.resolveContest(ids[i], false);
        }
        (, uint256 cleared) = e.misbehaviour(v[6]);
        assertEq(cleared, 0, "set-up: every report dismissed");
        // every voter ranks v[6] first
        uint8[] memory ranking = new uint8[](6);
        for (uint256 i; i < 4; ++i) ranking[i] = _index(cands, v[6 + i]);
        ranking[4] = _index(cands, A);
        ranking[5] = _index(cands, B);
        for (uint256 i; i < 10; ++i) {
            vm.prank(v[i]);
            e.vote(ranking);
        }
        vm.warp(e.round(1).votingEnd);
        e.elect();
        assertTrue(
            _contains(e.authorities(), v[6]),
            "every voter's first choice, every report against it dismissed, is not seated"
        );
    }
}
