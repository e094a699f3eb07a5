// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MssaWiredBase} from "./MssaRedTeam.t.sol";

/// @notice Open findings of an outside red team (h7-audit, session 7) on the MSSA contracts as
/// deployed together (the ledger holds the election's REGISTRAR_ROLE). Each test states the
/// property that should hold and fails today because of the vulnerability in its comment.
/// Excluded from `npm test`; run with `npx forge test --match-path test/mssa/MssaRedTeam.findings.t.sol`.
/// (Finding M2, a removed member keeping its seat, is fixed: test/mssa/MssaRedTeam.t.sol.)
contract MssaRedTeamFindingsTest is MssaWiredBase {
    // ------------------------------------------------------------------ M1

    /// Finding M1 (report poisoning): a report is keyed on its evidence alone (reportIdOf(evidence)),
    /// and the first report for an evidence fixes its node and behaviour. The evidence is
    /// predictable (`mssa:report` defaults to keccak256("<node>:<type>:round <r>")) or visible in the
    /// mempool, so authority A files it first against another member (one attestation, below quorum,
    /// harmless to that member). Every honest attestation of A's misbehaviour with that evidence then
    /// reverts ReportMismatch: A shields itself from Eq. 1 for the round, for all four behaviours at
    /// the cost of four transactions. Fix: key the report on (node, evidence) (or node, behaviour and
    /// evidence), so that a report about another node cannot occupy the id of a report about A.
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
}
