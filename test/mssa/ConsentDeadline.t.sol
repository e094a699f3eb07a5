// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MssaWiredBase} from "./MssaRedTeam.t.sol";
import {ICredentialLedger} from "../../contracts/interfaces/ICredentialLedger.sol";

/// @notice s20-redm F3's residual, closed in s21-cdl: the user's consent signs a deadline that
/// `propose` enforces. Before, the consent carried the user's `consentNonce` only (s20-fixconsent),
/// so an authority holding an unused consent the user never withdrew (no cancel, no revocation)
/// could propose it at any later time; only the honest authorities' off-chain 7-day bound kept it
/// from reaching k. Now a consent proposed after its deadline is refused ConsentExpired(user,
/// place, deadline) and nothing is recorded; one whose deadline lies more than CONSENT_TTL past the
/// proposing block is refused ConsentDeadlineTooFar, so a consent that can be proposed at once
/// lives at most CONSENT_TTL (docs/specs/mssa.md §2.5 says why).
/// Bites: with the `block.timestamp > deadline` check removed from `propose`, the expiry tests fail
/// (the late proposal is recorded); with `>=` instead of `>`, the at-the-deadline test fails; with
/// the CONSENT_TTL check removed, the too-far test fails.
contract ConsentDeadlineTest is MssaWiredBase {
    bytes32 internal constant E = keccak256("alice's election nullifier");
    bytes32 internal constant N = keccak256("alice's place nullifier at PL");
    uint256 internal constant ALICE_KEY = 0xA11CE;

    /// alice's consent to (PL, c, N, e) under her current nonce, with `deadline`
    function _signed(bytes32 c, bytes32 en, uint256 deadline) internal view returns (bytes memory) {
        bytes32 digest = ledger.registrationDigest(PL, vm.addr(ALICE_KEY), c, N, en, c, deadline);
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(ALICE_KEY, digest);
        return abi.encodePacked(r, s, sv);
    }

    /// Nothing recorded for alice's registration `c`: no proposal, no access, no approved block,
    /// her consent nonce where it was, no elector under E.
    function _assertNothingRecorded(bytes32 c) internal view {
        address alice = vm.addr(ALICE_KEY);
        bytes32 id = ledger.registrationId(PL, alice, c);
        assertEq(uint256(ledger.registration(id).status), uint256(ICredentialLedger.Status.None), "proposed");
        (bool granted, bytes32 latest) = ledger.access(alice, PL);
        assertTrue(!granted && latest == bytes32(0), "a registration of alice's is on record");
        (, uint64 count) = ledger.head();
        assertEq(count, 0, "a block was approved");
        assertEq(ledger.consentNonce(alice, PL), 0, "the refusal moved her consent nonce");
        assertEq(e.electorOf(E), address(0), "an elector under E");
    }

    /// The residual case: alice signed a consent with the default deadline (7 days) and never
    /// withdrew it (no cancel, no revocation: the nonce did not move); C withheld it and proposes it
    /// eight days later. Refused ConsentExpired naming alice, the place and her deadline; nothing
    /// is recorded and B has nothing to approve.
    function test_aWithheldConsentProposedAfterItsDeadlineRegistersNobody() public {
        address alice = vm.addr(ALICE_KEY);
        bytes32 c = keccak256("commitment of session s1");
        uint256 deadline = _deadline();
        bytes memory consent = _signed(c, E, deadline);
        vm.warp(block.timestamp + 8 days);
        assertEq(ledger.consentNonce(alice, PL), 0, "she withdrew nothing");
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialLedger.CredentialLedger__ConsentExpired.selector, alice, PL, deadline)
        );
        vm.prank(C);
        ledger.propose(PL, alice, c, N, E, c, deadline, consent);
        _assertNothingRecorded(c);
        bytes32 id = ledger.registrationId(PL, alice, c);
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__UnknownRegistration.selector, id));
        vm.prank(B);
        ledger.approve(id);
    }

    /// One second past the deadline is refused (nothing recorded); at the deadline itself the same
    /// consent is accepted: the deadline is the last second it may be proposed in.
    function test_aConsentIsProposedUpToItsDeadlineInclusive() public {
        address alice = vm.addr(ALICE_KEY);
        bytes32 c = keccak256("c");
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory consent = _signed(c, bytes32(0), deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialLedger.CredentialLedger__ConsentExpired.selector, alice, PL, deadline)
        );
        vm.prank(A);
        ledger.propose(PL, alice, c, N, bytes32(0), c, deadline, consent);
        _assertNothingRecorded(c);
        // the same consent at its deadline (as if proposed in time)
        vm.warp(deadline);
        vm.prank(A);
        bytes32 id = ledger.propose(PL, alice, c, N, bytes32(0), c, deadline, consent);
        assertEq(uint256(ledger.registration(id).status), uint256(ICredentialLedger.Status.Pending), "at its deadline");
        assertEq(ledger.registration(id).proposedAt, deadline, "proposed at the deadline");
    }

    /// A deadline more than CONSENT_TTL past the proposing block is refused ConsentDeadlineTooFar
    /// (naming the latest it takes), nothing recorded; exactly CONSENT_TTL ahead is accepted.
    function test_aDeadlineTooFarAheadIsRefused() public {
        address alice = vm.addr(ALICE_KEY);
        bytes32 c = keccak256("c");
        uint256 latest = block.timestamp + ledger.CONSENT_TTL();
        assertEq(latest, _deadline(), "the tests' CONSENT_TTL is the ledger's");
        bytes memory far = _signed(c, bytes32(0), latest + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ICredentialLedger.CredentialLedger__ConsentDeadlineTooFar.selector,
                alice,
                PL,
                latest + 1,
                latest
            )
        );
        vm.prank(A);
        ledger.propose(PL, alice, c, N, bytes32(0), c, latest + 1, far);
        _assertNothingRecorded(c);
        bytes memory edge = _signed(c, bytes32(0), latest);
        vm.prank(A);
        bytes32 id = ledger.propose(PL, alice, c, N, bytes32(0), c, latest, edge);
        assertEq(
            uint256(ledger.registration(id).status),
            uint256(ICredentialLedger.Status.Pending),
            "CONSENT_TTL ahead"
        );
    }

    /// Any deadline, any proposal time: accepted iff now <= deadline <= now + CONSENT_TTL;
    /// refused with the error that names it otherwise, and nothing recorded.
    function testFuzz_propose_theDeadlineWindow(uint256 deadline, uint256 dt) public {
        address alice = vm.addr(ALICE_KEY);
        bytes32 c = keccak256("c");
        deadline = bound(deadline, 0, block.timestamp + 30 days);
        bytes memory consent = _signed(c, bytes32(0), deadline);
        vm.warp(block.timestamp + bound(dt, 0, 30 days));
        uint256 ttl = ledger.CONSENT_TTL();
        if (block.timestamp > deadline)
            vm.expectRevert(
                abi.encodeWithSelector(ICredentialLedger.CredentialLedger__ConsentExpired.selector, alice, PL, deadline)
            );
        else if (deadline > block.timestamp + ttl)
            vm.expectRevert(
                abi.encodeWithSelector(
                    ICredentialLedger.CredentialLedger__ConsentDeadlineTooFar.selector,
                    alice,
                    PL,
                    deadline,
                    block.timestamp + ttl
                )
            );
        vm.prank(A);
        ledger.propose(PL, alice, c, N, bytes32(0), c, deadline, consent);
        bool ok = block.timestamp <= deadline && deadline <= block.timestamp + ttl;
        if (ok) {
            bytes32 id = ledger.registrationId(PL, alice, c);
            assertEq(uint256(ledger.registration(id).status), uint256(ICredentialLedger.Status.Pending), "accepted");
        } else {
            _assertNothingRecorded(c);
        }
    }
}
