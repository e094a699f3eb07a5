// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {personOf, personsOf} from "../helpers/forge/Persons.sol";
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
    /// @dev the round the test opened last (nominations and ballots name it, s23-rtm F2)
    uint256 internal rnd;
    CredentialLedger internal ledger;
    address[8] internal v;

    function setUp() public {
        address[] memory genesis = new address[](3);
        (genesis[0], genesis[1], genesis[2]) = (A, B, C);
        uint16[4] memory caps = [uint16(5), 10, 10, 3];
        uint64[4] memory weights = [uint64(4e17), 3e17, 2e17, 3e17];
        e = new AuthorityElection(
            ADMIN,
            IAuthorityElection.Params(3, 2, 600, 600, caps, weights),
            genesis,
            personsOf(genesis)
        );
        ledger = new CredentialLedger(ADMIN, e);
        vm.startPrank(ADMIN);
        e.grantRole(e.REGISTRAR_ROLE(), address(ledger));
        for (uint256 i; i < 8; ++i) {
            v[i] = address(uint160(0xB00 + i));
            e.enrolElector(v[i], personOf(v[i]));
        }
        address[] memory auths = new address[](3);
        (auths[0], auths[1], auths[2]) = (A, B, C);
        ledger.setPlace(PL, auths, 2);
        vm.stopPrank();
    }

    /// The ledger's CONSENT_TTL (a constant here: reading it would spend a pending vm.prank).
    uint256 internal constant CONSENT_TTL = 7 days;

    /// The deadline every consent below signs: the furthest the ledger takes from a proposal in this
    /// block. Pass `_deadline()` to `propose` in the block the consent was signed in.
    function _deadline() internal view returns (uint256) {
        return block.timestamp + CONSENT_TTL;
    }

    /// The user's EIP-712 consent (call it before vm.prank: a prank applies to the next external call).
    function _consent(uint256 key, bytes32 commitment, bytes32 nullifier) internal view returns (bytes memory) {
        return _consent(PL, key, commitment, nullifier, bytes32(0));
    }

    /// The user's consent to a registration at `place` carrying election nullifier `en` (the
    /// session is the commitment).
    function _consent(
        bytes32 place,
        uint256 key,
        bytes32 commitment,
        bytes32 nullifier,
        bytes32 en
    ) internal view returns (bytes memory) {
        bytes32 digest = ledger.registrationDigest(
            place,
            vm.addr(key),
            commitment,
            nullifier,
            en,
            commitment,
            _deadline()
        );
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, sv);
    }

    /// @dev `x` stands in round `rnd` (s23-rtm F3: only a member who stands can be nominated)
    function _stand(address x) internal {
        if (e.isStanding(rnd, x)) return;
        vm.prank(x);
        e.stand(rnd);
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
        ledger.propose(PL, u, commitment, nullifier, bytes32(0), commitment, _deadline(), sig);
        // B proposes; A's approval is refused; access needs C
        vm.prank(B);
        bytes32 id = ledger.propose(PL, u, commitment, nullifier, bytes32(0), commitment, _deadline(), sig);
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
        bytes32 id = ledger.propose(PL, u, commitment, nullifier, bytes32(0), commitment, _deadline(), sig);
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
        ledger.propose(PL, vm.addr(SYBIL_KEY), sc, nullifier, bytes32(0), sc, _deadline(), sybilSig);
        vm.prank(B);
        try ledger.propose(PL, u, vc, nullifier, bytes32(0), vc, _deadline(), victimSig) {} catch {}
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
        bytes32 sybilId = ledger.propose(PL, vm.addr(SYBIL_KEY), sc, nullifier, bytes32(0), sc, _deadline(), sybilSig);
        assertEq(ledger.nullifierHolder(PL, nullifier), bytes32(0), "a pending proposal holds no nullifier");
        vm.prank(B);
        bytes32 id = ledger.propose(PL, u, vc, nullifier, bytes32(0), vc, _deadline(), victimSig);
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

/// @notice h11-red2 M1 (fixed: one elector per election nullifier). One person registered at two
/// places, with an account at each, was two members of the one election. The registration the user
/// chooses carries her election nullifier `E`; the election holds one account under it. Place PL2
/// has authorities B and C (k = 2) and its own place nullifiers; PL's are A, B, C (k = 2).
contract MssaOneElectorPerPersonTest is MssaWiredBase {
    bytes32 internal constant PL2 = keccak256("PL2");
    /// the person's election nullifier, HMAC(electionKey, "metatrust MSSA elector" || identity)
    bytes32 internal constant E = keccak256("alice's election nullifier");
    uint256 internal constant X_KEY = 0xA11CE; // alice's account at PL
    uint256 internal constant Y_KEY = 0xA11CF; // alice's account at PL2

    function _setUpPL2() internal {
        address[] memory auths = new address[](2);
        (auths[0], auths[1]) = (B, C);
        vm.prank(ADMIN);
        ledger.setPlace(PL2, auths, 2);
    }

    /// Proposes (by `by`) the registration of account `key` at `place` carrying `en`.
    function _propose(address by, bytes32 place, uint256 key, bytes32 en) internal returns (bytes32) {
        bytes32 c = keccak256(abi.encode("commitment", place, key));
        bytes32 n = keccak256(abi.encode("place nullifier", place, key));
        bytes memory sig = _consent(place, key, c, n, en);
        vm.prank(by);
        return ledger.propose(place, vm.addr(key), c, n, en, c, _deadline(), sig);
    }

    /// The finding's scenario: the second place's k-th approval is refused with the election's
    /// ElectorNullifierTaken and changes nothing; one member, one nomination. With the holder check
    /// removed from `enrolElector`, Y becomes a second member and this test fails.
    function test_onePersonAtTwoPlacesIsOneElector() public {
        _setUpPL2();
        uint256 before = e.memberCount();
        bytes32 x = _propose(A, PL, X_KEY, E);
        vm.prank(B);
        ledger.approve(x);
        assertEq(e.electorOf(E), vm.addr(X_KEY), "X is alice's elector");
        bytes32 y = _propose(B, PL2, Y_KEY, bytes32(0)); // access only at PL2: fine
        vm.prank(C);
        ledger.approve(y);
        (bool granted, ) = ledger.access(vm.addr(Y_KEY), PL2);
        assertTrue(granted, "access at PL2 without electorship");
        assertTrue(!e.isMember(vm.addr(Y_KEY)), "an access-only registration adds no member");
        assertEq(e.memberCount(), before + 1, "one person, one member");
    }

    /// Two pending registrations of alice carrying E (two places, two accounts): the first to
    /// reach k enrols its account; the other's k-th approval reverts and changes nothing.
    function test_theSecondAccountUnderOneElectorNullifierIsRefusedAtK() public {
        _setUpPL2();
        bytes32 y = _propose(B, PL2, Y_KEY, E);
        bytes32 x = _propose(A, PL, X_KEY, E);
        vm.prank(C);
        ledger.approve(x); // X first
        uint256 members = e.memberCount();
        (bytes32 head, uint64 count) = ledger.head();
        vm.prank(C);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAuthorityElection.AuthorityElection__ElectorNullifierTaken.selector,
                E,
                vm.addr(X_KEY)
            )
        );
        ledger.approve(y);
        ICredentialLedger.Registration memory r = ledger.registration(y);
        assertEq(uint256(r.status), uint256(ICredentialLedger.Status.Pending), "still pending");
        assertEq(r.approvals, 1, "the refused approval is not recorded");
        assertTrue(!ledger.approvedBy(y, C), "C's approval not recorded");
        assertEq(e.memberCount(), members, "no second member");
        assertTrue(!e.isMember(vm.addr(Y_KEY)), "Y is no member");
        (bytes32 head2, uint64 count2) = ledger.head();
        assertEq(head2, head, "chain unchanged");
        assertEq(count2, count, "count unchanged");
        // and a new proposal under E for a third account is refused at once
        bytes32 c = keccak256("third");
        bytes memory sig = _consent(PL2, 0xA11D0, c, keccak256("n3"), E);
        vm.prank(B);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAuthorityElection.AuthorityElection__ElectorNullifierTaken.selector,
                E,
                vm.addr(X_KEY)
            )
        );
        ledger.propose(PL2, vm.addr(0xA11D0), c, keccak256("n3"), E, c, _deadline(), sig);
    }

    /// A rogue approver attaches alice's E to an account of its own: alice's consent names her
    /// account, so it does not sign the Sybil's registration; and it cannot add E to (or change it
    /// in) a registration alice signed without it.
    function test_aRogueApproverCannotAttachAPersonsElectorNullifierToAnotherAccount() public {
        bytes32 c = keccak256("alice");
        bytes32 n = keccak256("alice at PL");
        bytes memory aliceSig = _consent(PL, X_KEY, c, n, E);
        vm.prank(A);
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialLedger.CredentialLedger__BadUserSignature.selector, vm.addr(SYBIL_KEY))
        );
        ledger.propose(PL, vm.addr(SYBIL_KEY), c, n, E, c, _deadline(), aliceSig);
        // alice consented to access only: the rogue cannot make it carry E (or another e)
        bytes memory accessOnly = _consent(PL, X_KEY, c, n, bytes32(0));
        vm.prank(A);
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialLedger.CredentialLedger__BadUserSignature.selector, vm.addr(X_KEY))
        );
        ledger.propose(PL, vm.addr(X_KEY), c, n, keccak256("bob's e"), c, _deadline(), accessOnly);
        assertEq(e.electorOf(E), address(0), "nobody holds E");
        (, uint64 count) = ledger.head();
        assertEq(count, 0, "nothing recorded");
    }

    /// A consent carrying E, replayed for a second place (or by another account) is refused; the
    /// same registration again is a replay (InvalidInput).
    function test_aConsentWithElectorNullifierReplayedElsewhereIsRefused() public {
        _setUpPL2();
        bytes32 c = keccak256("alice");
        bytes32 n = keccak256("alice at PL");
        bytes memory sig = _consent(PL, X_KEY, c, n, E);
        vm.prank(A);
        bytes32 id = ledger.propose(PL, vm.addr(X_KEY), c, n, E, c, _deadline(), sig);
        vm.prank(B);
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialLedger.CredentialLedger__BadUserSignature.selector, vm.addr(X_KEY))
        );
        ledger.propose(PL2, vm.addr(X_KEY), c, n, E, c, _deadline(), sig);
        vm.prank(B);
        ledger.approve(id);
        vm.prank(C);
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialLedger.CredentialLedger__AlreadyRegistered.selector, vm.addr(X_KEY), PL)
        );
        ledger.propose(PL, vm.addr(X_KEY), c, n, E, c, _deadline(), sig);
        assertEq(e.electorOf(E), vm.addr(X_KEY), "one elector");
    }

    /// Front-running: one rogue authority (A) sees alice's registration with E in the mempool and
    /// proposes a Sybil of its own carrying E first (its own consent). A pending proposal holds
    /// nothing, so alice's registration still reaches k; the Sybil's, with one approver, never does.
    function test_oneRogueAuthorityCannotFrontRunAPersonsElectorship() public {
        bytes32 sybil = _propose(A, PL, SYBIL_KEY, E);
        bytes32 x = _propose(B, PL, X_KEY, E);
        vm.prank(C);
        ledger.approve(x);
        assertEq(e.electorOf(E), vm.addr(X_KEY), "alice is her elector");
        vm.prank(C);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAuthorityElection.AuthorityElection__ElectorNullifierTaken.selector,
                E,
                vm.addr(X_KEY)
            )
        );
        ledger.approve(sybil);
        assertTrue(!e.isMember(vm.addr(SYBIL_KEY)), "the Sybil is no member");
    }

    /// Re-enrolment after remove: alice's elector registration is revoked (E freed) in the middle
    /// of a round and her second account enrols under E at once, but it is not an elector of that
    /// round (one ballot per person per round); it is in the next.
    function test_reEnrolmentAfterRemoveWaitsForTheNextRound() public {
        _setUpPL2();
        bytes32 x = _propose(A, PL, X_KEY, E);
        vm.prank(B);
        ledger.approve(x);
        uint256 r = rnd = e.openRound();
        _stand(v[0]);
        vm.prank(vm.addr(X_KEY));
        e.nominate(rnd, v[0]);
        vm.prank(ADMIN);
        ledger.revoke(x);
        assertEq(e.electorOf(E), address(0), "E is free");
        assertEq(e.electorNullifierOf(vm.addr(X_KEY)), bytes32(0), "X holds none");
        bytes32 y = _propose(B, PL2, Y_KEY, E);
        vm.prank(C);
        ledger.approve(y);
        assertEq(e.electorOf(E), vm.addr(Y_KEY), "Y is alice's elector now");
        assertTrue(!e.isElector(r, vm.addr(Y_KEY)), "but not in the round X nominated in");
        vm.prank(vm.addr(Y_KEY));
        vm.expectRevert(
            abi.encodeWithSelector(IAuthorityElection.AuthorityElection__NotElector.selector, r, vm.addr(Y_KEY))
        );
        e.nominate(rnd, v[1]);
        assertTrue(e.isElector(r + 1, vm.addr(Y_KEY)), "an elector of the next round");
    }

    /// A registration whose approval failed (E held) is retried: the retry fails the same way
    /// and changes nothing; once E is free (the holder revoked) it succeeds, once; a further retry
    /// is refused (NotPending) and enrols nothing again.
    function test_aRetriedApprovalHasNoSecondEffect() public {
        _setUpPL2();
        bytes32 y = _propose(B, PL2, Y_KEY, E); // pending while X is approved
        bytes32 x = _propose(A, PL, X_KEY, E);
        vm.prank(B);
        ledger.approve(x);
        for (uint256 i; i < 2; ++i) {
            vm.prank(C);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAuthorityElection.AuthorityElection__ElectorNullifierTaken.selector,
                    E,
                    vm.addr(X_KEY)
                )
            );
            ledger.approve(y);
        }
        assertEq(ledger.registration(y).approvals, 1, "no approval recorded by the failures");
        vm.prank(ADMIN);
        ledger.revoke(x);
        uint256 members = e.memberCount();
        vm.prank(C);
        ledger.approve(y);
        assertEq(e.memberCount(), members + 1, "Y enrolled once");
        vm.prank(C);
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__NotPending.selector, y));
        ledger.approve(y);
        assertEq(e.memberCount(), members + 1, "no second effect");
        // revoking Y frees E; revoking it again is refused and removes nobody
        vm.prank(ADMIN);
        ledger.revoke(y);
        assertEq(e.electorOf(E), address(0), "E free again");
        vm.prank(ADMIN);
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__NotPending.selector, y));
        ledger.revoke(y);
    }

    /// An account holds one election nullifier: a registration of X carrying another person's e is
    /// refused (ElectorNullifierMismatch) at the proposal.
    function test_anAccountHoldsOneElectorNullifier() public {
        _setUpPL2();
        bytes32 x = _propose(A, PL, X_KEY, E);
        vm.prank(B);
        ledger.approve(x);
        bytes32 other = keccak256("bob's election nullifier");
        bytes32 c = keccak256("x at PL2");
        bytes memory sig = _consent(PL2, X_KEY, c, keccak256("n"), other);
        vm.prank(B);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAuthorityElection.AuthorityElection__ElectorNullifierMismatch.selector,
                vm.addr(X_KEY),
                E,
                other
            )
        );
        ledger.propose(PL2, vm.addr(X_KEY), c, keccak256("n"), other, c, _deadline(), sig);
        // the same E again with the same account is no second elector: access at PL2, one member
        uint256 members = e.memberCount();
        bytes32 x2 = _propose(B, PL2, X_KEY, E);
        vm.prank(C);
        ledger.approve(x2);
        assertEq(e.memberCount(), members, "the same account under the same E is one member");
        // revoking one of X's two elector registrations keeps it an elector; the last removes it
        vm.prank(ADMIN);
        ledger.revoke(x);
        assertTrue(e.isMember(vm.addr(X_KEY)), "still an elector through PL2");
        vm.prank(ADMIN);
        ledger.revoke(x2);
        assertTrue(!e.isMember(vm.addr(X_KEY)), "out with its last elector registration");
        assertEq(e.electorOf(E), address(0), "E freed");
    }

    /// The registrar's own enrolment carries an election nullifier like any other (s20-redm F5):
    /// without one it is refused, and only the registrar enrols.
    function test_theRegistrarEnrolsOnlyWithAnElectorNullifier() public {
        address m = address(0xCAFE);
        vm.prank(ADMIN);
        vm.expectRevert(abi.encodeWithSelector(IAuthorityElection.AuthorityElection__ZeroElectorNullifier.selector, m));
        e.enrolElector(m, bytes32(0));
        assertTrue(!e.isMember(m), "refused: no member");
        vm.prank(m);
        vm.expectRevert();
        e.enrolElector(m, E);
        vm.prank(ADMIN);
        e.enrolElector(m, personOf(m));
        assertEq(e.electorNullifierOf(m), personOf(m), "the registrar's member holds its nullifier");
    }
}
