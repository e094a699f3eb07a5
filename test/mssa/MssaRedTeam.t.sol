// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {AuthorityElection} from "../../contracts/mssa/AuthorityElection.sol";
import {CredentialLedger} from "../../contracts/mssa/CredentialLedger.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";
import {ICredentialLedger} from "../../contracts/interfaces/ICredentialLedger.sol";

/// @notice The MSSA contracts wired as deployed (the ledger holds the election's REGISTRAR_ROLE):
/// genesis authorities A, B, C (m = 3, report quorum 2), also the authorities of place PL (k = 2),
/// and eight more members. Shared by the red-team tests (h7-audit, session 7; its findings M1-M3
/// are fixed and tested below).
abstract contract MssaWiredBase is Test {
    address internal constant ADMIN = address(0xAD);
    address internal constant A = address(0xA1);
    address internal constant B = address(0xA2);
    address internal constant C = address(0xA3);
    bytes32 internal constant PL = keccak256("PL1");
    uint256 internal constant VICTIM_KEY = 0xB0B;
    uint256 internal constant SYBIL_KEY = 0x5B11;

    AuthorityElection internal e;
    CredentialLedger internal ledger;
    address[8] internal v;

    function setUp() public {
        address[] memory genesis = new address[](3);
        (genesis[0], genesis[1], genesis[2]) = (A, B, C);
        uint16[4] memory caps = [uint16(5), 10, 10, 3];
        uint64[4] memory weights = [uint64(4e17), 3e17, 2e17, 3e17];
        e = new AuthorityElection(ADMIN, IAuthorityElection.Params(3, 2, 100, 100, caps, weights), genesis);
        ledger = new CredentialLedger(ADMIN, e);
        vm.startPrank(ADMIN);
        e.grantRole(e.REGISTRAR_ROLE(), address(ledger));
        for (uint256 i; i < 8; ++i) {
            v[i] = address(uint160(0xB00 + i));
            e.enrol(v[i]);
        }
        address[] memory auths = new address[](3);
        (auths[0], auths[1], auths[2]) = (A, B, C);
        ledger.setPlace(PL, auths, 2);
        vm.stopPrank();
    }

    /// The user's EIP-712 consent (call it before vm.prank: a prank applies to the next external call).
    function _consent(uint256 key, bytes32 commitment, bytes32 nullifier) internal view returns (bytes memory) {
        bytes32 digest = ledger.registrationDigest(PL, vm.addr(key), commitment, nullifier, commitment);
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, sv);
    }
}

/// @notice Attacks of the h7-audit red team that the contracts refuse. Each failed on the code
/// before the fix it names.
contract MssaRedTeamTest is MssaWiredBase {
    /// Finding M2 (fixed: `isAuthority` requires membership). A sitting authority that the
    /// registrar removes (or whose last registration is revoked) stops at once: it neither
    /// proposes nor approves registrations nor attests reports. Before the fix it kept its seat
    /// for the rest of the term, and could not even be reported (a removed node is not a member).
    function test_removedMemberNoLongerApprovesRegistrationsOrAttests() public {
        vm.prank(ADMIN);
        e.remove(A);
        assertTrue(!e.isAuthority(A), "a removed member is a sitting authority");
        bytes32 commitment = keccak256("victim-commitment");
        bytes32 nullifier = keccak256("victim-nullifier");
        address u = vm.addr(VICTIM_KEY);
        bytes memory sig = _consent(VICTIM_KEY, commitment, nullifier);
        vm.prank(A);
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__NotSitting.selector, A));
        ledger.propose(PL, u, commitment, nullifier, commitment, sig);
        // B proposes; A's approval is refused; access needs C
        vm.prank(B);
        bytes32 id = ledger.propose(PL, u, commitment, nullifier, commitment, sig);
        vm.prank(A);
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__NotSitting.selector, A));
        ledger.approve(id);
        (bool granted, ) = ledger.access(u, PL);
        assertTrue(!granted, "access granted with the approval of a removed member");
        vm.prank(C);
        ledger.approve(id);
        (granted, ) = ledger.access(u, PL);
        assertTrue(granted, "B and C grant it");
        // nor does A attest reports
        vm.prank(A);
        vm.expectRevert(abi.encodeWithSelector(IAuthorityElection.AuthorityElection__NotAuthority.selector, A));
        e.report(v[0], 1, keccak256("A's report"));
    }

    /// An approval given while sitting stops counting once the approver is removed (the ledger
    /// re-checks every approver at k through isAuthority).
    function test_approvalOfAMemberRemovedSinceDoesNotCountAtK() public {
        bytes32 commitment = keccak256("c2");
        bytes32 nullifier = keccak256("n2");
        address u = vm.addr(VICTIM_KEY);
        bytes memory sig = _consent(VICTIM_KEY, commitment, nullifier);
        vm.prank(A);
        bytes32 id = ledger.propose(PL, u, commitment, nullifier, commitment, sig);
        vm.prank(ADMIN);
        e.remove(A);
        vm.prank(B);
        ledger.approve(id); // the 2nd approval: A's no longer counts
        (bool granted, ) = ledger.access(u, PL);
        assertTrue(!granted, "a removed member's approval counted at k");
        assertEq(uint256(ledger.registration(id).status), uint256(ICredentialLedger.Status.Pending), "still pending");
        vm.prank(C);
        ledger.approve(id);
        (granted, ) = ledger.access(u, PL);
        assertTrue(granted, "B and C grant it");
    }

    /// Finding M1 (fixed: a report is keyed on (node, behaviour, evidence)). A report used to be
    /// keyed on its evidence alone, and the first report for an evidence fixed its node and
    /// behaviour. The evidence is predictable (`mssa:report` defaults to
    /// keccak256("<node>:<type>:round <r>")) or visible in the mempool, so authority A filed it
    /// first against another member (one attestation, below quorum, harmless to that member) and
    /// every honest attestation of A's misbehaviour with that evidence reverted ReportMismatch:
    /// A shielded itself from Eq. 1 for the round.
    function test_twoHonestAuthoritiesCountAMisbehaviourOfAWhateverAFiledFirst() public {
        // the evidence `mssa:report --node A --type other` uses in round 0
        bytes32 ev = keccak256(bytes("0x00000000000000000000000000000000000000A1:other:round 0"));
        vm.prank(A);
        e.report(v[0], 0, ev); // A files it first, about someone else
        vm.prank(B);
        try e.report(A, 3, ev) {} catch {}
        vm.prank(C);
        try e.report(A, 3, ev) {} catch {}
        (uint16[4] memory counts, ) = e.misbehaviour(A);
        assertEq(counts[3], 1, "B and C (a quorum) attested A's misbehaviour: it counts");
    }

    /// Finding M3 (fixed: only an approved registration holds its nullifier). A pending proposal
    /// used to hold its identity nullifier against every other proposal at the place for
    /// PENDING_TTL, and one place authority alone can make a proposal (for a Sybil account it
    /// controls). The victim's nullifier is in the calldata of the honest `propose`, so a single
    /// malicious authority front-ran it and the honest proposal reverted DuplicateIdentity: one
    /// authority denied a registration that needs k.
    function test_oneAuthorityCannotDenyAPersonsRegistration() public {
        bytes32 nullifier = keccak256("victim's document at PL");
        // A front-runs B's proposal for the victim with a Sybil of its own and the same nullifier
        bytes32 sc = keccak256("sybil-commitment");
        bytes memory sybilSig = _consent(SYBIL_KEY, sc, nullifier);
        bytes32 vc = keccak256("victim-commitment");
        address u = vm.addr(VICTIM_KEY);
        bytes memory victimSig = _consent(VICTIM_KEY, vc, nullifier);
        bytes32 id = ledger.registrationId(PL, u, vc);
        vm.prank(A);
        ledger.propose(PL, vm.addr(SYBIL_KEY), sc, nullifier, sc, sybilSig);
        vm.prank(B);
        try ledger.propose(PL, u, vc, nullifier, vc, victimSig) {} catch {}
        vm.prank(C);
        try ledger.approve(id) {} catch {}
        (bool granted, ) = ledger.access(u, PL);
        assertTrue(granted, "B and C (k = 2) approved the victim, yet A alone denied the registration");
    }

    /// The other side of M3's fix: the re-check at the k-th approval. Two pending proposals of one
    /// nullifier coexist; the first to reach k holds it, and the k-th approval of the other is
    /// refused (DuplicateIdentity) and changes nothing.
    function test_theFirstProposalApprovedByKHoldsTheNullifier() public {
        bytes32 nullifier = keccak256("one person at PL");
        bytes32 sc = keccak256("sybil-commitment");
        bytes memory sybilSig = _consent(SYBIL_KEY, sc, nullifier);
        bytes32 vc = keccak256("victim-commitment");
        address u = vm.addr(VICTIM_KEY);
        bytes memory victimSig = _consent(VICTIM_KEY, vc, nullifier);
        vm.prank(A);
        bytes32 sybilId = ledger.propose(PL, vm.addr(SYBIL_KEY), sc, nullifier, sc, sybilSig);
        assertEq(ledger.nullifierHolder(PL, nullifier), bytes32(0), "a pending proposal holds no nullifier");
        vm.prank(B);
        bytes32 id = ledger.propose(PL, u, vc, nullifier, vc, victimSig);
        vm.prank(C);
        ledger.approve(id);
        assertEq(ledger.nullifierHolder(PL, nullifier), id, "the approved registration holds it");
        vm.prank(B);
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialLedger.CredentialLedger__DuplicateIdentity.selector, PL, nullifier, id)
        );
        ledger.approve(sybilId);
        ICredentialLedger.Registration memory r = ledger.registration(sybilId);
        assertEq(uint256(r.status), uint256(ICredentialLedger.Status.Pending), "the refused approval changed nothing");
        assertEq(r.approvals, 1, "still A's approval only");
        assertTrue(!ledger.approvedBy(sybilId, B), "B's refused approval is not recorded");
        (bool granted, ) = ledger.access(vm.addr(SYBIL_KEY), PL);
        assertTrue(!granted, "one person, one registration per place");
    }
}
