// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CourtDeployment} from "../helpers/forge/CourtDeployment.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";
import {IMITRegistry} from "../../contracts/interfaces/IMITRegistry.sol";
import {IDisputeResolution} from "../../contracts/interfaces/IDisputeResolution.sol";
import {EncodedEvidence} from "../helpers/forge/EncodedEvidence.sol";

/// @notice One interaction, one court case (s19-redd F1, decided in session 21; docs/specs/disputes.md):
/// the court keys a hearing on (trace key, the counterparty's owner tag), the counterparty being the
/// reporter avatar the evidence's handshake names (every avatar of one owner shares a hearing,
/// s21-review2 M2: test/disputes/hearing-per-person.test.ts); evidence with a handshake is claimed
/// only by that avatar's owner's account (the controller of its owner's attested avatar:
/// `NotCounterparty`); evidence without one is refused (`EvidenceWithoutHandshake`, session 22); a
/// hearing is held while its dispute is open and after it ends with a decision (`InteractionHeard`),
/// and freed by a void one; an appeal is the same hearing. Evidence is simulated
/// (EncodedEvidence: parsed like the IdP's, no signature verifies). The same story with the IdP and
/// real evidence: test/disputes/interaction-heard-twice.test.ts.
contract DisputeResolutionHearingTest is CourtDeployment {
    address internal admin = address(0xAD);
    address internal bob = address(0xB0B); // the victim: his avatar B is the counterparty
    address internal mallory = address(0x3A1); // a copier, or the accused's sock
    bytes32 internal constant A = keccak256("accused avatar A");
    bytes32 internal constant B = keccak256("bob's avatar B");
    bytes32 internal constant MALLORY_CLAIMS = keccak256("mallory claims");
    bytes32[3] internal jurors;

    function setUp() public {
        vm.warp(1_700_000_000);
        _deployCourt(admin);
        vm.startPrank(idp);
        registry.issueMIT(keccak256("alice's MIT"), keccak256("alice's key"), "");
        registry.recordLogin(A, keccak256("alice's MIT"), keccak256("wA"), bytes32(0), type(uint64).max);
        vm.stopPrank();
        // bob's account is B's owner's: B attested to him (the IdP's registrar signs); B is his claimant
        _attestCounterparty(bob, B, keccak256("bob's MIT"), true);
        vm.prank(mallory);
        tm.register(MALLORY_CLAIMS, ITrustManager.Kind.Organization);
        for (uint256 i; i < 3; ++i) {
            jurors[i] = keccak256(abi.encode("juror", i));
            vm.prank(_jurorAccount(i));
            tm.register(jurors[i], ITrustManager.Kind.Avatar);
            vm.prank(admin);
            tm.setIdentityVerified(jurors[i], true);
        }
        vm.deal(bob, 10 ether);
        vm.deal(mallory, 10 ether);
        vm.roll(block.number + 10);
    }

    // ------------------------------------------------------------------ helpers

    function _jurorAccount(uint256 i) internal pure returns (address) {
        return address(uint160(0x7000 + i));
    }

    function _file(address by, bytes memory ev) internal returns (uint256 c) {
        vm.prank(by);
        c = registry.requestTrace(A, keccak256(ev));
    }

    function _open(address by, bytes32 claimant, bytes memory ev, uint256 c) internal returns (uint256) {
        vm.prank(by);
        return dr.openAvatarDispute{value: DEPOSIT}(claimant, A, 2, ev, c);
    }

    /// Files `ev` and expects its opening refused with `err`, nothing written.
    function _refused(address by, bytes32 claimant, bytes memory ev, bytes memory err) internal returns (uint256 c) {
        c = _file(by, ev);
        uint256 count = dr.disputeCount();
        vm.expectRevert(err);
        _open(by, claimant, ev, c);
        assertEq(dr.disputeCount(), count, "a dispute was written");
        assertEq(uint8(registry.traceCase(c).status), uint8(IMITRegistry.TraceStatus.Open), "the case moved");
    }

    function _heard(uint256 c, uint256 earlier) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IDisputeResolution.DisputeResolution__InteractionHeard.selector, c, earlier);
    }

    /// The three jurors vote `choice` in dispute `id`'s current round; then past its reveal period.
    function _vote(uint256 id, uint8 choice) internal {
        for (uint256 i; i < 3; ++i) {
            vm.prank(_jurorAccount(i));
            dr.commit(id, jurors[i], keccak256(abi.encode(id, jurors[i], choice, bytes32(i))));
        }
        vm.warp(block.timestamp + PERIOD + 1);
        for (uint256 i; i < 3; ++i) {
            vm.prank(_jurorAccount(i));
            dr.reveal(id, jurors[i], choice, bytes32(i));
        }
        vm.warp(block.timestamp + PERIOD);
    }

    // ------------------------------------------------------------------ tests

    /// Only B's owner's account claims evidence whose handshake names B, whatever the copy; a copy
    /// without the handshake (counterparty none, the same trace key) nobody may claim, not even B's
    /// owner (session 22), and it holds no hearing.
    function testFuzz_counterpartyClaims_strippedCopyRefused(uint256 seed, uint64 stamp) public {
        stamp = uint64(bound(stamp, 1_750_000_000, 2 ** 53 - 1));
        bytes memory real = EncodedEvidence.between(A, B, seed);
        bytes memory restamped = EncodedEvidence.stamped(A, B, seed, stamp);
        bytes memory stripped = EncodedEvidence.withoutHandshake(A, seed, 0);
        (bool parsed, , bytes32 key) = dr.interactionOf(real);
        assertTrue(parsed, "not parsed");
        assertEq(_key(restamped), key, "re-stamped: another trace key");
        assertEq(_key(stripped), key, "stripped: another trace key");
        (bytes32 cp, address account, uint256 heardBy) = dr.hearingOf(restamped);
        assertEq(abi.encode(cp, account, heardBy), abi.encode(B, bob, uint256(0)), "hearingOf");
        // a copier (or the accused's sock) cannot take B's seat, with the bytes as they are or re-stamped
        for (uint256 k; k < 2; ++k) {
            bytes memory copy = k == 0 ? real : restamped;
            uint256 c = _file(mallory, copy);
            vm.expectRevert(
                abi.encodeWithSelector(IDisputeResolution.DisputeResolution__NotCounterparty.selector, c, B, mallory)
            );
            _open(mallory, MALLORY_CLAIMS, copy, c);
        }
        // nor open a case over the stripped copy (counterparty none), and neither can bob
        _refused(mallory, MALLORY_CLAIMS, stripped, _withoutHandshake(3));
        _refused(bob, B, stripped, _withoutHandshake(4));
        assertEq(dr.disputeCount(), 0, "a copier opened");
        (cp, account, heardBy) = dr.hearingOf(stripped);
        assertEq(
            abi.encode(cp, account, heardBy),
            abi.encode(bytes32(0), address(0), uint256(0)),
            "hearingOf stripped"
        );
        uint256 mine = _open(bob, B, real, _file(bob, real));
        (, , heardBy) = dr.hearingOf(restamped);
        assertEq(heardBy, mine, "B's hearing");
        (, , heardBy) = dr.hearingOf(stripped);
        assertEq(heardBy, 0, "the stripped copy names B's hearing");
        // with B's hearing held, the stripped copy is still refused for what it is
        _refused(bob, B, stripped, _withoutHandshake(6));
    }

    function _withoutHandshake(uint256 c) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IDisputeResolution.DisputeResolution__EvidenceWithoutHandshake.selector, c);
    }

    /// An avatar whose owner has no attested avatar, or that the registry does not know, names a
    /// counterparty nobody may claim for.
    function test_counterpartyWithoutOwnerAccount_nobodyClaims() public {
        bytes32 unknown = keccak256("an avatar nobody knows");
        bytes memory ev = EncodedEvidence.between(A, unknown, 1);
        (bytes32 cp, address account, ) = dr.hearingOf(ev);
        assertEq(abi.encode(cp, account), abi.encode(unknown, address(0)), "hearingOf");
        _refused(
            bob,
            B,
            ev,
            abi.encodeWithSelector(IDisputeResolution.DisputeResolution__NotCounterparty.selector, 1, unknown, bob)
        );
        // A's owner (alice) has no attested avatar: evidence naming A as the reporter is nobody's
        bytes memory selfNamed = EncodedEvidence.between(A, A, 2);
        _refused(
            mallory,
            MALLORY_CLAIMS,
            selfNamed,
            abi.encodeWithSelector(IDisputeResolution.DisputeResolution__NotCounterparty.selector, 2, A, mallory)
        );
    }

    /// Parallel disputes are refused; a void dispute frees the hearing; a rejection holds it, also
    /// through an appeal (the same hearing) whose round ends void (the rejection stands).
    function test_heardWhileOpen_voidFrees_rejectedHoldsThroughAppeal() public {
        bytes memory real = EncodedEvidence.between(A, B, 7);
        uint256 d1 = _open(bob, B, real, _file(bob, real));
        bytes memory copy = EncodedEvidence.stamped(A, B, 7, 1_750_000_100);
        uint256 c2 = _refused(bob, B, copy, _heard(2, d1));
        // nobody votes: void, no decision, the hearing is free
        vm.warp(block.timestamp + 2 * PERIOD + 1);
        dr.resolve(d1);
        assertTrue(dr.dispute(d1).void_, "not void");
        (, , uint256 heardBy) = dr.hearingOf(real);
        assertEq(heardBy, 0, "a void dispute holds the hearing");
        uint256 d2 = _open(bob, B, copy, c2);
        // the jurors reject; bob appeals (the same dispute, no second hearing); the appeal round is void
        _vote(d2, 1);
        (address appellant, uint256 fee, ) = dr.appealTerms(d2);
        assertEq(appellant, bob, "appellant");
        vm.prank(bob);
        dr.appeal{value: fee}(d2);
        bytes memory third = EncodedEvidence.stamped(A, B, 7, 1_750_000_200);
        _refused(bob, B, third, _heard(3, d2));
        vm.warp(block.timestamp + 2 * PERIOD + 1);
        dr.resolve(d2);
        IDisputeResolution.Dispute memory d = dr.dispute(d2);
        assertEq(abi.encode(d.void_, d.outcome), abi.encode(false, uint8(1)), "the rejection stands");
        _refused(bob, B, real, _heard(4, d2));
        (, , heardBy) = dr.hearingOf(third);
        assertEq(heardBy, d2, "hearingOf after the rejection");
    }

    /// An upheld verdict holds the hearing too.
    function test_upheldHolds() public {
        bytes memory real = EncodedEvidence.between(A, B, 9);
        uint256 d1 = _open(bob, B, real, _file(bob, real));
        _vote(d1, 0);
        dr.resolve(d1); // nobody may appeal for A's owner (no account): final at once
        assertEq(uint8(registry.traceCase(1).status), uint8(IMITRegistry.TraceStatus.CourtUpheld), "not upheld");
        _refused(bob, B, EncodedEvidence.stamped(A, B, 9, 1_750_000_100), _heard(2, d1));
    }

    function _key(bytes memory ev) internal view returns (bytes32 key) {
        (, , key) = dr.interactionOf(ev);
    }
}
