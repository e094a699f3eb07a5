// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MssaWiredBase} from "./MssaRedTeam.t.sol";
import {ICredentialLedger} from "../../contracts/interfaces/ICredentialLedger.sol";

/// @notice s20-redm F3 (severity L), fixed in s20-fixconsent: the consent signs the user's
/// `consentNonce` at the place, which her cancel, the operator's cancel and a revocation bump; the
/// authorities neither propose nor approve a consent proposed more than CONSENT_TTL_MS after they
/// verified it (offchain/services/mssa/authority-service.ts); and since s21-cdl the consent signs a
/// deadline the ledger enforces (ConsentDeadline.t.sol), so this one is refused twice over. Before the fix: the user's EIP-712 consent to a registration never expires, and
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
contract StaleConsentTest is MssaWiredBase {
    bytes32 internal constant E = keccak256("alice's election nullifier");
    bytes32 internal constant N = keccak256("alice's place nullifier at PL");
    uint256 internal constant ALICE_KEY = 0xA11CE;

    function test_aConsentSignedBeforeTheUserCancelledRegistersHerLater() public {
        address alice = vm.addr(ALICE_KEY);
        // s1: verified by C and B, consent signed and handed to C, which withholds it
        bytes32 c1 = keccak256("commitment of session s1");
        bytes memory consent1 = _consent(PL, ALICE_KEY, c1, N, E);
        uint256 deadline1 = _deadline(); // what she signed in it
        // s2: proposed by A, then cancelled by alice herself
        bytes32 c2 = keccak256("commitment of session s2");
        bytes memory consent2 = _consent(PL, ALICE_KEY, c2, N, E);
        vm.prank(A);
        bytes32 id2 = ledger.propose(PL, alice, c2, N, E, c2, _deadline(), consent2);
        vm.prank(alice);
        ledger.cancel(id2);
        assertEq(uint256(ledger.registration(id2).status), uint256(ICredentialLedger.Status.Cancelled), "cancelled");

        vm.warp(block.timestamp + 30 days);
        vm.prank(C);
        try ledger.propose(PL, alice, c1, N, E, c1, deadline1, consent1) returns (bytes32 id1) {
            vm.prank(B); // honest: it verified s1 and approves exactly that registration
            ledger.approve(id1);
        } catch {}
        (bool granted, ) = ledger.access(alice, PL);
        assertTrue(!granted, "a 30-day-old consent registered alice after she cancelled");
        assertEq(e.electorOf(E), address(0), "and made her an elector");
    }

    bytes32 internal constant PL_OTHER = keccak256("PL-other");

    function _expectBad(address user) internal {
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__BadUserSignature.selector, user));
    }

    /// The class: every way the user (or the operator) withdraws an intent voids the consents signed
    /// before it, and the refusal records nothing; a fresh consent under the new nonce still registers.
    function test_aRevocationVoidsTheConsentsSignedBeforeIt() public {
        address alice = vm.addr(ALICE_KEY);
        bytes32 c1 = keccak256("c1");
        bytes32 c2 = keccak256("c2 (withheld)");
        bytes memory consent1 = _consent(PL, ALICE_KEY, c1, N, bytes32(0));
        bytes memory consent2 = _consent(PL, ALICE_KEY, c2, keccak256("another nullifier"), bytes32(0));
        vm.prank(A);
        bytes32 id1 = ledger.propose(PL, alice, c1, N, bytes32(0), c1, _deadline(), consent1);
        vm.prank(B);
        ledger.approve(id1);
        (bool granted, ) = ledger.access(alice, PL);
        assertTrue(granted, "registered");
        vm.expectEmit();
        emit ICredentialLedger.ConsentsWithdrawn(alice, PL, 1);
        vm.prank(ADMIN);
        ledger.revoke(id1);
        assertEq(ledger.consentNonce(alice, PL), 1, "bumped");
        _expectBad(alice);
        vm.prank(C);
        ledger.propose(PL, alice, c2, keccak256("another nullifier"), bytes32(0), c2, _deadline(), consent2);
        bytes32 id2 = ledger.registrationId(PL, alice, c2);
        assertEq(uint256(ledger.registration(id2).status), uint256(ICredentialLedger.Status.None), "recorded");
    }

    /// The operator's cancel withdraws too; a third party's cancel of an expired proposal does not
    /// (else anyone could void the consent the user just signed for her next attempt); the nonce is
    /// per place (a cancel at one place leaves her consent for another valid).
    function test_whoseCancelWithdraws() public {
        address alice = vm.addr(ALICE_KEY);
        address[] memory auths = new address[](3);
        (auths[0], auths[1], auths[2]) = (A, B, C);
        vm.prank(ADMIN);
        ledger.setPlace(PL_OTHER, auths, 2);
        bytes32 c1 = keccak256("c1");
        bytes memory elsewhere = _consent(PL_OTHER, ALICE_KEY, keccak256("c at other"), N, bytes32(0));
        bytes memory first = _consent(PL, ALICE_KEY, c1, N, bytes32(0));
        vm.prank(A);
        bytes32 id1 = ledger.propose(PL, alice, c1, N, bytes32(0), c1, _deadline(), first);
        vm.prank(ADMIN);
        ledger.cancel(id1);
        assertEq(ledger.consentNonce(alice, PL), 1, "the operator's cancel withdraws");
        assertEq(ledger.consentNonce(alice, PL_OTHER), 0, "per place");
        vm.prank(A);
        ledger.propose(
            PL_OTHER,
            alice,
            keccak256("c at other"),
            N,
            bytes32(0),
            keccak256("c at other"),
            _deadline(),
            elsewhere
        );

        bytes32 c2 = keccak256("c2");
        bytes memory second = _consent(PL, ALICE_KEY, c2, N, bytes32(0)); // under nonce 1
        vm.prank(A);
        bytes32 id2 = ledger.propose(PL, alice, c2, N, bytes32(0), c2, _deadline(), second);
        vm.warp(block.timestamp + ledger.PENDING_TTL());
        bytes32 c3 = keccak256("c3");
        bytes memory next = _consent(PL, ALICE_KEY, c3, N, bytes32(0)); // signed for her next attempt
        vm.prank(address(0xBAD));
        ledger.cancel(id2);
        assertEq(ledger.consentNonce(alice, PL), 1, "a stranger's cancel withdrew her consent");
        vm.prank(A);
        bytes32 id3 = ledger.propose(PL, alice, c3, N, bytes32(0), c3, _deadline(), next);
        assertEq(
            uint256(ledger.registration(id3).status),
            uint256(ICredentialLedger.Status.Pending),
            "her next attempt"
        );
    }
}
