// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MssaWiredBase} from "./MssaRedTeam.t.sol";

/// @notice s20-redm F5 (severity M): members enrolled without an election nullifier (the genesis
/// authorities, the registrar's `enrol`) are outside "one person, one elector": the person behind
/// one registers a second account as an elector, and holds two ballots, two nominations, and can
/// hold two seats, the report quorum (2) alone.
///
/// Attack: genesis authority A (a person, "a") registers her own account Y at place PL with her
/// genuine passport and `--elector`. Her election nullifier E_a is held by nobody (A was enrolled by
/// the constructor, which carries no e), so every check passes: the authorities' `electorOf(E_a)` is
/// zero, `propose` and `enrolElector` find E_a free, and honest B approves. Y becomes a member: a
/// second nomination and a second Borda ballot of one person in every round, and if both A and Y are
/// elected, one person supplies the report quorum (2) alone and punishes anyone (18 reports reach
/// R = 1), the thing the quorum is there to prevent. The registrar's `enrol(member)` (mssa:enrol)
/// makes such a member too. docs/specs/mssa.md §1.8 claims the members "count a person once".
///
/// When fixed, this test passes: every member holds an election nullifier (genesis authorities and
/// the registrar's enrolments are bound to theirs), so Y's elector registration under E_a is refused
/// (ElectorNullifierTaken(E_a, A)) and Y is no member.
contract GenesisSecondElectorFindingTest is MssaWiredBase {
    /// a's election nullifier, HMAC(electionKey, "metatrust MSSA elector" || a's passport)
    bytes32 internal constant E_A = keccak256("a's election nullifier");
    uint256 internal constant Y_KEY = 0xA1A1;

    function test_aGenesisAuthorityRegistersASecondElectorAccount() public {
        address y = vm.addr(Y_KEY);
        bytes32 c = keccak256("commitment of Y");
        bytes32 n = keccak256("a's place nullifier at PL");
        bytes memory sig = _consent(PL, Y_KEY, c, n, E_A);
        vm.prank(B); // an honest authority verified a's genuine documents
        try ledger.propose(PL, y, c, n, E_A, c, sig) returns (bytes32 id) {
            vm.prank(C);
            try ledger.approve(id) {} catch {}
        } catch {}
        assertTrue(e.isMember(A), "A is a member");
        assertTrue(!e.isMember(y), "one person, two members: A (genesis) and Y (elector registration)");
    }
}
