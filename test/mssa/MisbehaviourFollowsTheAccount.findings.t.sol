// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MssaWiredBase} from "./MssaRedTeam.t.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice s20-redm F2 (severity M): Eq. 1's misbehaviour record belongs to the account, the
/// electorship to the person, so a person sheds her record by coming back under a new account.
///
/// Attack: alice's account X is an elector (election nullifier E) and is punished to R = 1 (18
/// applied reports: not nominable, not seated, for ever, since counts never decay). Her registration
/// is then revoked: for cause (the place admin's stronger punishment), or because she asks for it
/// ("lost key", "new wallet"; nothing else changes an elector's account). A revocation frees E and
/// the place nullifier (by design: it blacklists nobody), so she registers account Y with the same
/// passport at the same place, k honest authorities approve (her documents are genuine), and Y is
/// her elector under the same E, with `_counts[Y]` empty: R = 0, nominable and electable in the
/// next round. The punishment the paper asks for ("ensure accountability ... and implement
/// punishment in cases of misconduct") lasts until the next account; the harsher sanction
/// (revocation) is the one that clears it.
///
/// What breaks: Eq. 1/Eq. 2 accountability across an account change of one person (the person is
/// who the election counts since h11-red2 M1); also open reports cannot reach Y (`report` needs the
/// node to be a member, X no longer is).
///
/// When fixed, this test passes: the record of an elector follows its election nullifier (e.g.
/// counts keyed on E while an account holds E, carried to the next account that takes E), so Y
/// starts at X's R = 1 and its nomination is refused `Ineligible`.
contract MisbehaviourFollowsTheAccountFindingTest is MssaWiredBase {
    address internal constant DETECTOR = address(0xDE7EC7);
    bytes32 internal constant E = keccak256("alice's election nullifier");
    bytes32 internal constant N = keccak256("alice's place nullifier at PL");
    uint256 internal constant X_KEY = 0xA11CE;
    uint256 internal constant Y_KEY = 0xA11CF;

    function _register(uint256 key, bytes32 salt) internal returns (bytes32 id) {
        bytes32 c = keccak256(abi.encode("commitment", key, salt));
        bytes memory sig = _consent(PL, key, c, N, E);
        vm.prank(A);
        id = ledger.propose(PL, vm.addr(key), c, N, E, c, sig);
        vm.prank(B);
        ledger.approve(id);
    }

    function test_aPunishedElectorComesBackCleanUnderANewAccount() public {
        bytes32 detectorRole = e.DETECTOR_ROLE();
        vm.prank(ADMIN);
        e.grantRole(detectorRole, DETECTOR);
        address x = vm.addr(X_KEY);
        bytes32 idX = _register(X_KEY, "x");
        assertEq(e.electorOf(E), x, "X is alice's elector");
        for (uint256 k; k < 18; ++k) {
            vm.prank(DETECTOR);
            e.report(x, k < 5 ? 0 : (k < 15 ? 1 : 3), keccak256(abi.encode("x misbehaved", k)));
        }
        (, uint256 ratioX) = e.misbehaviour(x);
        assertEq(ratioX, 1e18, "X punished: R = 1");

        vm.prank(ADMIN);
        ledger.revoke(idX);
        address y = vm.addr(Y_KEY);
        _register(Y_KEY, "y");
        assertEq(e.electorOf(E), y, "Y is alice's elector now, under the same E");

        uint256 r = e.openRound();
        assertTrue(e.isElector(r, y), "Y is an elector of the next round");
        (, uint256 ratioY) = e.misbehaviour(y);
        assertGe(ratioY, 1e18, "alice's record stayed with X: Y starts at R = 0");
        vm.prank(v[0]);
        vm.expectRevert(abi.encodeWithSelector(IAuthorityElection.AuthorityElection__Ineligible.selector, y, ratioY));
        e.nominate(y);
    }
}
