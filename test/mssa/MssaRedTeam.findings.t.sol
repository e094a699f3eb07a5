// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {AuthorityElection} from "../../contracts/mssa/AuthorityElection.sol";
import {CredentialLedger} from "../../contracts/mssa/CredentialLedger.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice Open findings of an outside red team (h7-audit, session 7) on the MSSA contracts as
/// deployed together (the ledger holds the election's REGISTRAR_ROLE). Each test states the
/// property that should hold and fails today because of the vulnerability in its comment.
/// Excluded from `npm test`; run with `npx forge test --match-path test/mssa/MssaRedTeam.findings.t.sol`.
contract MssaRedTeamFindingsTest is Test {
    address internal constant ADMIN = address(0xAD);
    // genesis authorities (m = 3, quorum 2); also the authorities of place PL (k = 2)
    address internal constant A = address(0xA1);
    address internal constant B = address(0xA2);
    address internal constant C = address(0xA3);
    bytes32 internal constant PL = keccak256("PL1");
    uint256 internal constant VICTIM_KEY = 0xB0B;
    uint256 internal constant SYBIL_KEY = 0x5B11;

    AuthorityElection internal e;
    CredentialLedger internal l;
    address[8] internal v; // eight more members

    function setUp() public {
        address[] memory genesis = new address[](3);
        (genesis[0], genesis[1], genesis[2]) = (A, B, C);
        uint16[4] memory caps = [uint16(5), 10, 10, 3];
        uint64[4] memory weights = [uint64(4e17), 3e17, 2e17, 3e17];
        e = new AuthorityElection(ADMIN, IAuthorityElection.Params(3, 2, 100, 100, caps, weights), genesis);
        l = new CredentialLedger(ADMIN, e);
        vm.startPrank(ADMIN);
        e.grantRole(e.REGISTRAR_ROLE(), address(l));
        for (uint256 i; i < 8; ++i) {
            v[i] = address(uint160(0xB00 + i));
            e.enrol(v[i]);
        }
        address[] memory auths = new address[](3);
        (auths[0], auths[1], auths[2]) = (A, B, C);
        l.setPlace(PL, auths, 2);
        vm.stopPrank();
    }

    function _consent(uint256 key, bytes32 commitment, bytes32 nullifier) internal view returns (bytes memory) {
        bytes32 digest = l.registrationDigest(PL, vm.addr(key), commitment, nullifier, commitment);
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, sv);
    }

    // ------------------------------------------------------------------ M1

    /// Finding M1 (report poisoning): a report is keyed on its evidence alone (reportIdOf(evidence)),
    /// and the first report for an evidence fixes its node and behaviour. The evidence is
    /// predictable (`mssa:report` defaults to keccak256("<node>:<type>:round <r>")) or visible in the
    /// mempool, so authority A files it first against another member (one attestation, below quorum,
    /// harmless to that member). Every honest attestation of A's misbehaviour with that evidence then
    /// reverts ReportMismatch: A shields itself from Eq. 1 for the round, for all four behaviours at
    /// the cost of four transactions. Fix: key the report on (node, evidence) (or node, behaviour and
    /// evidence), so that a report about another node cannot occupy the id of a report about A.
    function test_M1_twoHonestAuthoritiesCountAMisbehaviourOfAWhateverAFiledFirst() public {
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

    // ------------------------------------------------------------------ M2

    /// Finding M2 (a removed member keeps its seat): `isAuthority` checks the seat and R < 1 but not
    /// membership. A sitting authority that the registrar removes, or whose last registration the
    /// operator revokes (CredentialLedger.revoke -> election.remove), still approves registrations
    /// and attests reports until the next election seats someone else, although a candidate removed
    /// during the vote is not seated (finding 9 of issue 17). Fix: `_members[account] &&` in
    /// isAuthority (the ledger re-checks every approver at k through it).
    function test_M2_aRemovedMemberNoLongerApprovesRegistrations() public {
        vm.prank(ADMIN);
        e.remove(A);
        assertTrue(!e.isMember(A), "A removed");
        bytes32 commitment = keccak256("victim-commitment");
        bytes32 nullifier = keccak256("victim-nullifier");
        address u = vm.addr(VICTIM_KEY);
        // (each call before vm.prank: a prank applies to the next external call)
        bytes memory sig = _consent(VICTIM_KEY, commitment, nullifier);
        bytes32 id = l.registrationId(PL, u, commitment);
        vm.prank(A);
        try l.propose(PL, u, commitment, nullifier, commitment, sig) {} catch {}
        vm.prank(B);
        try l.approve(id) {} catch {}
        (bool granted, ) = l.access(u, PL);
        assertTrue(!granted, "access granted with the approval of a removed member");
        assertTrue(!e.isAuthority(A), "a removed member is a sitting authority");
    }

    // ------------------------------------------------------------------ M3

    /// Finding M3 (nullifier squatting by one authority): a *pending* proposal holds its identity
    /// nullifier against every other proposal at the place for PENDING_TTL (7 days), and one place
    /// authority alone can make a proposal (for a Sybil account it controls, with its signature).
    /// The victim's nullifier is in the calldata of the honest `propose` (mempool), or computable
    /// by any authority from the place key and the person's document, so a single malicious
    /// authority front-runs it: the honest proposal reverts DuplicateIdentity, and after an
    /// operator's `cancel` the squatter proposes again with a fresh commitment. Registration needs
    /// k authorities, but one can deny it to anyone. Fix: let only an *approved* registration hold
    /// the nullifier (check DuplicateIdentity at propose against approved holders, and again at the
    /// k-th approval), so that competing pending proposals coexist and k decide.
    function test_M3_oneAuthorityCannotDenyAPersonsRegistration() public {
        bytes32 nullifier = keccak256("victim's document at PL");
        // A front-runs B's proposal for the victim with a Sybil of its own and the same nullifier
        bytes32 sc = keccak256("sybil-commitment");
        bytes memory sybilSig = _consent(SYBIL_KEY, sc, nullifier);
        bytes32 vc = keccak256("victim-commitment");
        address u = vm.addr(VICTIM_KEY);
        bytes memory victimSig = _consent(VICTIM_KEY, vc, nullifier);
        bytes32 id = l.registrationId(PL, u, vc);
        vm.prank(A);
        l.propose(PL, vm.addr(SYBIL_KEY), sc, nullifier, sc, sybilSig);
        vm.prank(B);
        try l.propose(PL, u, vc, nullifier, vc, victimSig) {} catch {}
        vm.prank(C);
        try l.approve(id) {} catch {}
        (bool granted, ) = l.access(u, PL);
        assertTrue(granted, "B and C (k = 2) approved the victim, yet A alone denied the registration");
    }
}
