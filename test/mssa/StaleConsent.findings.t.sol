// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MssaWiredBase} from "./MssaRedTeam.t.sol";
import {ICredentialLedger} from "../../contracts/interfaces/ICredentialLedger.sol";

/// @notice s20-redm F3 (severity L): the user's EIP-712 consent to a registration never expires, and
/// nothing she does on-chain withdraws it, so an authority that holds an unused consent registers her
/// (and makes her an elector) whenever it likes, after she cancelled.
///
/// Attack: alice's first attempt (session s1, S = {C, B}) was verified by C and B; she sent her signed
/// consent to C, which withheld it (and B was down), so nothing reached the chain and her client went
/// on with a fresh session s2 (docs/specs/mssa.md §2.6 step 7). s2 was proposed, and alice cancelled
/// it (`cancel`: she no longer wants the registration). Thirty days later C proposes s1's consent: the
/// ledger checks only the signature (`Registration(place, user, commitment, nullifier,
/// electorNullifier, session)` has no deadline and no nonce), and B, which verified s1 and keeps it
/// (`AuthorityService.approveChecked` approves any registration equal to one it verified, with no
/// age limit), approves: alice is registered and enrolled as an elector under E without her present
/// consent; E is then pinned to this account (her elector registration with another account is
/// refused `ElectorNullifierTaken` until the admin revokes this one). The same after a revocation.
///
/// What breaks: "a rejected input changes nothing" and "a retry never has a second effect" across
/// the user's own withdrawal: a cancelled intent takes effect later through an older signature.
///
/// When fixed, this test passes: a consent is bounded in time (a deadline in the signed struct, e.g.
/// the verify request's freshness or PENDING_TTL) or is withdrawn by `cancel` (a per-user nonce in
/// the struct that `cancel` bumps), and the authorities forget verified sessions past that bound;
/// the late proposal is refused and nothing changes.
contract StaleConsentFindingTest is MssaWiredBase {
    bytes32 internal constant E = keccak256("alice's election nullifier");
    bytes32 internal constant N = keccak256("alice's place nullifier at PL");
    uint256 internal constant ALICE_KEY = 0xA11CE;

    function test_aConsentSignedBeforeTheUserCancelledRegistersHerLater() public {
        address alice = vm.addr(ALICE_KEY);
        // s1: verified by C and B, consent signed and handed to C, which withholds it
        bytes32 c1 = keccak256("commitment of session s1");
        bytes memory consent1 = _consent(PL, ALICE_KEY, c1, N, E);
        // s2: proposed by A, then cancelled by alice herself
        bytes32 c2 = keccak256("commitment of session s2");
        bytes memory consent2 = _consent(PL, ALICE_KEY, c2, N, E);
        vm.prank(A);
        bytes32 id2 = ledger.propose(PL, alice, c2, N, E, c2, consent2);
        vm.prank(alice);
        ledger.cancel(id2);
        assertEq(uint256(ledger.registration(id2).status), uint256(ICredentialLedger.Status.Cancelled), "cancelled");

        vm.warp(block.timestamp + 30 days);
        vm.prank(C);
        try ledger.propose(PL, alice, c1, N, E, c1, consent1) returns (bytes32 id1) {
            vm.prank(B); // honest: it verified s1 and approves exactly that registration
            ledger.approve(id1);
        } catch {}
        (bool granted, ) = ledger.access(alice, PL);
        assertTrue(!granted, "a 30-day-old consent registered alice after she cancelled");
        assertEq(e.electorOf(E), address(0), "and made her an elector");
    }
}
