// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {CourtDeployment} from "../helpers/forge/CourtDeployment.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";
import {MITRegistry} from "../../contracts/avatars/MITRegistry.sol";
import {IMITRegistry} from "../../contracts/interfaces/IMITRegistry.sol";
import {DisputeResolution} from "../../contracts/disputes/DisputeResolution.sol";
import {IDisputeResolution} from "../../contracts/interfaces/IDisputeResolution.sol";
import {EncodedEvidence} from "../helpers/forge/EncodedEvidence.sol";

/// @notice Drives the court's trace cases (docs/specs/disputes.md, "The court files the trace")
/// with random campaigns: reporters file cases about random avatars, claimants open avatar disputes
/// naming random cases (theirs or not, open or not, claimed or not), jurors commit and reveal random
/// choices, time moves, the losing side appeals, anyone resolves, the IdP tries to judge random
/// cases at random moments, and a second court holding COURT_ROLE (another deployment) binds open
/// cases and rules on random cases and disputes. Two of the avatars have no trust entry (h14-red2
/// G5: logged in, never registered) and one respondent id is unknown to the registry. Each controller
/// owns an attested counterparty avatar (an MIT of its own), which the evidence of the cases it files
/// names in its handshake (session 22: evidence without a handshake opens no dispute). Ghosts: the
/// first binding of every case, and every IdP verdict the registry accepted on a case awaiting a court.
contract TraceHandler is CourtDeployment {
    uint256 internal constant N = 8; // entities, each an MIT avatar
    uint256 internal constant N_CTRL = 4;

    address public rival; // another court, refused COURT_ROLE (bound to dr, h15-red3 H1)
    address[N_CTRL] internal ctrl;
    bytes32[N] internal ents;
    /// the controllers' attested avatars: the counterparty each one's evidence names
    bytes32[N_CTRL] internal counterparties;
    /// two MIT avatars without a trust entry (h14-red2 G5), then an id the registry does not know
    bytes32[3] internal extra;

    mapping(uint256 caseId => address) public boundCourt;
    mapping(uint256 caseId => uint256) public boundDispute;
    /// verdicts the registry accepted on a case that was awaiting its court (must stay 0)
    uint256 public judgedWhileAwaiting;
    /// cases a court bound that were not Open, not the claimant's controller's, or about another avatar
    uint256 public badBindings;
    /// disputes opened against an avatar without a trust entry (reached by the campaigns)
    uint256 public entrylessDisputes;
    /// the last of them
    uint256 public entrylessId;
    /// such disputes with a party account (none is known: their owner has no attested avatar),
    /// and disputes opened against the id the registry does not know (both must stay 0)
    uint256 public badEntryless;
    mapping(uint256 id => mapping(uint8 round => mapping(uint256 voter => uint8 choicePlusOne))) internal _committed;
    uint256 public calls;

    constructor() {
        rival = address(uint160(uint256(keccak256("trace rival court"))));
        address admin = address(uint160(uint256(keccak256("trace admin"))));
        for (uint256 i; i < N_CTRL; ++i) {
            ctrl[i] = address(uint160(uint256(keccak256(abi.encode("trace controller", i)))));
            vm.deal(ctrl[i], 100 ether);
        }
        _deployCourt(admin);
        vm.startPrank(idp);
        // COURT_ROLE is bound to the first court (h15-red3 H1): the rival is an account without it
        bytes32 courtRole = registry.COURT_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IMITRegistry.MITRegistry__CourtAlreadyBound.selector, address(dr), rival)
        );
        registry.grantRole(courtRole, rival);
        registry.issueMIT(keccak256("owner serial"), keccak256("owner key"), "");
        vm.stopPrank();
        for (uint256 i; i < N; ++i) {
            ents[i] = keccak256(abi.encode("trace avatar", i));
            vm.prank(ctrl[i % N_CTRL]);
            tm.register(ents[i], ITrustManager.Kind.Avatar);
            vm.prank(admin);
            tm.setIdentityVerified(ents[i], true); // reputation 0.5: every entity may vote
            vm.prank(idp);
            registry.recordLogin(
                ents[i],
                keccak256("owner serial"),
                keccak256(abi.encode("w", i)),
                bytes32(0),
                type(uint64).max
            );
        }
        for (uint256 i; i < N_CTRL; ++i) {
            counterparties[i] = keccak256(abi.encode("trace counterparty", i));
            _attestCounterparty(ctrl[i], counterparties[i], keccak256(abi.encode("trace counterparty MIT", i)), true);
        }
        for (uint256 i; i < 3; ++i) extra[i] = keccak256(abi.encode("trace entryless avatar", i));
        for (uint256 i; i < 2; ++i) {
            vm.prank(idp);
            registry.recordLogin(
                extra[i],
                keccak256("owner serial"),
                keccak256(abi.encode("x", i)),
                bytes32(0),
                type(uint64).max
            );
        }
        vm.roll(block.number + 10);
    }

    /// An avatar by seed: the N entities, then (`k` > N) the entry-less avatars and the unknown id.
    function _avatar(uint256 seed, uint256 k) internal view returns (bytes32) {
        uint256 i = seed % k;
        return i < N ? ents[i] : extra[i - N];
    }

    mapping(uint256 caseId => bytes) internal caseEvidence;
    /// Cases the IdP released (dismissed untraced while this court lacked its role).
    mapping(uint256 caseId => bool) public released;

    // ------------------------------------------------------------------ actions

    /// A case's evidence is encoded evidence about the case's avatar, except one case in eight
    /// whose bytes are no encoded evidence (s19-redd F3), one in eight whose evidence is about
    /// another avatar (F2) and one in eight without a handshake (session 22): the court must refuse
    /// the three. Its handshake names the reporter's own attested avatar (so the reporter's
    /// controller is the counterparty's owner's account; each case its own interaction): the
    /// counterparty's and the hearing's rules are DisputeResolution.hearing.t.sol's.
    function fileCase(uint256 reporterSeed, uint256 avatarSeed, uint256 evidenceSeed) external {
        ++calls;
        bytes32 avatar = _avatar(avatarSeed, N + 2);
        bytes32 about = evidenceSeed % 8 == 1 ? _avatar(evidenceSeed >> 8, N + 2) : avatar;
        bytes memory ev =
            evidenceSeed % 8 == 0
                ? abi.encode("evidence", calls)
                : evidenceSeed % 8 == 7
                    ? EncodedEvidence.withoutHandshake(about, calls, 0)
                    : EncodedEvidence.between(about, counterparties[reporterSeed % N_CTRL], calls);
        vm.prank(ctrl[reporterSeed % N_CTRL]);
        uint256 c = registry.requestTrace(avatar, keccak256(ev));
        caseEvidence[c] = ev;
    }

    /// openings refused because the case's bytes are no encoded evidence (F3) or are about
    /// another avatar than the respondent (F2): reached by the campaigns
    uint256 public refusedNotEncoded;
    uint256 public refusedNotAbout;
    /// openings refused because the case's evidence has no handshake (session 22)
    uint256 public refusedWithoutHandshake;

    /// One opening in four shows the jurors other evidence than the case's (h14-red2 G3).
    function openAvatarDispute(
        uint256 claimantSeed,
        uint256 respondentSeed,
        uint256 caseSeed,
        uint256 evidenceSeed
    ) external {
        ++calls;
        uint256 c = bound(caseSeed, 0, _caseCount() + 1); // 0 and one past the last: refused
        bytes32 claimant = ents[claimantSeed % N];
        bytes32 respondent = _avatar(respondentSeed, N + 3);
        address caller = ctrl[(claimantSeed % N) % N_CTRL];
        IMITRegistry.TraceCase memory before = registry.traceCase(c);
        bytes memory ev = evidenceSeed % 4 == 0 ? abi.encode("other evidence", evidenceSeed) : caseEvidence[c];
        vm.prank(caller);
        try dr.openAvatarDispute{value: DEPOSIT}(claimant, respondent, 2, ev, c) returns (uint256 id) {
            if (
                before.status != IMITRegistry.TraceStatus.Open ||
                before.reporter != caller ||
                before.avatarId != respondent ||
                keccak256(ev) != before.evidenceHash ||
                dr.dispute(id).evidence != sha256(ev)
            ) ++badBindings;
            // the evidence the jurors judge is encoded evidence about the respondent (F2, F3)
            (bool parsed, bytes32 about, ) = dr.interactionOf(ev);
            if (!parsed || about != respondent) ++badBindings;
            if (boundCourt[c] != address(0)) ++badBindings; // bound twice
            if (tm.entity(respondent).kind == ITrustManager.Kind.None) {
                ++entrylessDisputes;
                entrylessId = id;
                if (respondent == extra[2] || dr.dispute(id).respondentController != address(0)) ++badEntryless;
            }
            boundCourt[c] = address(dr);
            boundDispute[c] = id;
        } catch (bytes memory err) {
            bytes4 why = bytes4(err);
            if (why == IDisputeResolution.DisputeResolution__EvidenceNotEncoded.selector) ++refusedNotEncoded;
            if (why == IDisputeResolution.DisputeResolution__EvidenceNotAboutRespondent.selector) ++refusedNotAbout;
            if (why == IDisputeResolution.DisputeResolution__EvidenceWithoutHandshake.selector)
                ++refusedWithoutHandshake;
        }
    }

    /// The jurors not controlled by a party commit random choices in the current round.
    function commitAll(uint256 disputeSeed, uint256 choices) external {
        ++calls;
        uint256 id = _dispute(disputeSeed);
        if (id == 0) return;
        IDisputeResolution.Dispute memory d = dr.dispute(id);
        for (uint256 i; i < N; ++i) {
            if (_committed[id][d.round][i] != 0) continue;
            uint8 choice = uint8((choices >> i) & 1);
            vm.prank(ctrl[i % N_CTRL]);
            try dr.commit(id, ents[i], keccak256(abi.encode(id, ents[i], choice, bytes32(uint256(i))))) {
                _committed[id][d.round][i] = choice + 1;
            } catch {}
        }
    }

    function revealAll(uint256 disputeSeed) external {
        ++calls;
        uint256 id = _dispute(disputeSeed);
        if (id == 0) return;
        uint8 round = dr.dispute(id).round;
        for (uint256 i; i < N; ++i) {
            uint8 c = _committed[id][round][i];
            if (c == 0) continue;
            vm.prank(ctrl[i % N_CTRL]);
            try dr.reveal(id, ents[i], c - 1, bytes32(uint256(i))) {} catch {}
        }
    }

    function wait(uint256 secs) external {
        ++calls;
        vm.warp(block.timestamp + bound(secs, 1, 3 * PERIOD));
        vm.roll(block.number + 1);
    }

    function resolve(uint256 disputeSeed) external {
        ++calls;
        uint256 id = _dispute(disputeSeed);
        if (id == 0) return;
        try dr.resolve(id) {} catch {}
    }

    function appeal(uint256 disputeSeed) external {
        ++calls;
        uint256 id = _dispute(disputeSeed);
        if (id == 0) return;
        (address appellant, uint256 fee, ) = dr.appealTerms(id);
        if (appellant == address(0)) return;
        vm.prank(appellant);
        try dr.appeal{value: fee}(id) {} catch {}
    }

    /// The IdP tries to judge a random case (a reporter's case, or one claimed by a court).
    function idpJudge(uint256 caseSeed, bool traced) external {
        ++calls;
        uint256 c = bound(caseSeed, 1, _caseCount() + 1);
        IMITRegistry.TraceStatus s = registry.traceCase(c).status;
        vm.prank(idp);
        try registry.recordVerdict(c, traced, traced ? keccak256(abi.encode("uid", c)) : bytes32(0)) {
            if (s == IMITRegistry.TraceStatus.AwaitingCourt) ++judgedWhileAwaiting;
        } catch {}
    }

    /// The other court binds an open case for a dispute of its own, as its reporter would allow.
    function rivalBind(uint256 caseSeed, uint256 disputeSeed) external {
        ++calls;
        uint256 c = bound(caseSeed, 1, _caseCount() + 1);
        IMITRegistry.TraceCase memory t = registry.traceCase(c);
        uint256 rivalDispute = bound(disputeSeed, 1, 1000);
        vm.prank(rival);
        try registry.bindCase(c, rivalDispute, t.reporter, t.avatarId) {
            if (t.status != IMITRegistry.TraceStatus.Open || boundCourt[c] != address(0)) ++badBindings;
            boundCourt[c] = rival;
            boundDispute[c] = rivalDispute;
        } catch {}
    }

    /// The registry's admin (the IdP) cuts this court off, or restores it (h14-red2 G1).
    function pauseCourt(bool restore) external {
        ++calls;
        bytes32 role = registry.COURT_ROLE();
        vm.prank(idp);
        if (restore) registry.grantRole(role, address(dr));
        else registry.revokeRole(role, address(dr));
    }

    /// The IdP releases a random case (refused unless it awaits a court cut off from the registry).
    function idpRelease(uint256 caseSeed) external {
        ++calls;
        uint256 c = bound(caseSeed, 1, _caseCount() + 1);
        vm.prank(idp);
        try registry.releaseCase(c) {
            released[c] = true;
        } catch {}
    }

    /// Anyone applies a kept ruling (refused unless one waits and the court holds its role).
    function applyRuling(uint256 disputeSeed) external {
        ++calls;
        uint256 id = _dispute(disputeSeed);
        if (id == 0) return;
        try dr.applyCaseRuling(id) {} catch {}
    }

    /// The other court rules on a random case for a random dispute id (this court's ids included).
    function rivalRule(uint256 caseSeed, uint256 disputeSeed, bool upheld) external {
        ++calls;
        uint256 c = bound(caseSeed, 1, _caseCount() + 1);
        vm.prank(rival);
        try registry.courtRuling(c, bound(disputeSeed, 0, 1000), upheld) {
            ++badBindings; // only the bound court holds the role
        } catch {}
    }

    // ------------------------------------------------------------------ views

    function caseCount() external view returns (uint256) {
        return _caseCount();
    }

    function _caseCount() internal view returns (uint256 n) {
        // the registry keeps no public counter: the last case is the first id with no status
        while (registry.traceCase(n + 1).status != IMITRegistry.TraceStatus.None) ++n;
    }

    function _dispute(uint256 seed) internal view returns (uint256) {
        uint256 n = dr.disputeCount();
        return n == 0 ? 0 : 1 + (seed % n);
    }
}

/// @notice Invariants of the court's trace cases over random campaigns (TraceHandler): a
/// court-bound case is never traced without its own dispute's upheld final verdict; its binding
/// never changes; a rejected or void dispute leaves it Dismissed; a reporter's own case never takes
/// a court's status, nor a court's case the reporter's InteractionTraced.
contract DisputeResolutionTraceInvariantTest is Test {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    TraceHandler internal h;
    DisputeResolution internal dr;
    MITRegistry internal registry;

    function setUp() public {
        vm.roll(100);
        vm.warp(1_700_000_000);
        h = new TraceHandler();
        (dr, registry) = (h.dr(), h.registry());
        vm.deal(address(h), 1000 ether);
    }

    function targetContracts() public view returns (address[] memory a) {
        a = new address[](1);
        a[0] = address(h);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory s) {
        bytes4[] memory sel = new bytes4[](17);
        sel[0] = TraceHandler.fileCase.selector;
        sel[1] = TraceHandler.fileCase.selector;
        sel[2] = TraceHandler.openAvatarDispute.selector;
        sel[3] = TraceHandler.openAvatarDispute.selector;
        sel[4] = TraceHandler.commitAll.selector;
        sel[5] = TraceHandler.commitAll.selector;
        sel[6] = TraceHandler.revealAll.selector;
        sel[7] = TraceHandler.wait.selector;
        sel[8] = TraceHandler.resolve.selector;
        sel[9] = TraceHandler.appeal.selector;
        sel[10] = TraceHandler.idpJudge.selector;
        sel[11] = TraceHandler.idpJudge.selector;
        sel[12] = TraceHandler.rivalBind.selector;
        sel[13] = TraceHandler.rivalRule.selector;
        sel[14] = TraceHandler.pauseCourt.selector;
        sel[15] = TraceHandler.idpRelease.selector;
        sel[16] = TraceHandler.applyRuling.selector;
        s = new FuzzSelector[](1);
        s[0] = FuzzSelector(address(h), sel);
    }

    /// The IdP never judged a case while it awaited its court, and no court claimed a case it may not.
    function invariant_noVerdictWhileAwaitingAndNoBadBinding() public view {
        assertEq(h.judgedWhileAwaiting(), 0, "a verdict on a case awaiting its court");
        assertEq(
            h.badBindings(),
            0,
            "a case claimed that was not open, not the reporter's, about another avatar, or twice"
        );
    }

    /// An avatar without a trust entry is heard with no party account (none is known here), the id
    /// the registry does not know never, and nothing is ever credited to the zero account (a
    /// rejected claim's deposit against such an avatar stays with the court); nothing gave the
    /// entry-less avatars an entry (resolve moved no reputation of theirs).
    function invariant_entrylessRespondents() public view {
        assertEq(h.badEntryless(), 0, "an entry-less respondent with a party account, or an unknown id heard");
        assertEq(dr.owed(address(0)), 0, "credited to the zero account");
        assertEq(
            uint256(h.tm().entity(keccak256(abi.encode("trace entryless avatar", 0))).kind),
            0,
            "an entry appeared"
        );
    }

    /// Each case's status agrees with its binding and with its dispute's final verdict.
    function invariant_courtBoundCasesFollowTheirOwnDispute() public view {
        uint256 n = h.caseCount();
        for (uint256 c = 1; c <= n; ++c) {
            IMITRegistry.TraceCase memory t = registry.traceCase(c);
            uint256 s = uint256(t.status);
            // the binding on-chain is the first (and only) one the handler saw
            assertEq(t.court, h.boundCourt(c), "court changed");
            assertEq(uint256(t.disputeId), h.boundDispute(c), "dispute changed");
            if (t.court == address(0)) {
                // a reporter's own case: Open, InteractionTraced or Rejected only
                assertEq(
                    s <= uint256(IMITRegistry.TraceStatus.Rejected) ? 1 : 0,
                    1,
                    "reporter case with a court status"
                );
                continue;
            }
            assertEq(
                s == uint256(IMITRegistry.TraceStatus.InteractionTraced) ? 1 : 0,
                0,
                "court case read as a reporter's trace"
            );
            assertEq(s == uint256(IMITRegistry.TraceStatus.Open) ? 1 : 0, 0, "court case open again");
            if (t.court != address(dr)) continue; // the other court's rulings are its own
            IDisputeResolution.Dispute memory d = dr.dispute(t.disputeId);
            bool upheld = d.resolved && !d.void_ && d.outcome == 0;
            if (
                s == uint256(IMITRegistry.TraceStatus.CourtUpheld) ||
                s == uint256(IMITRegistry.TraceStatus.CourtTraced) ||
                (s == uint256(IMITRegistry.TraceStatus.Rejected))
            ) assertEq(upheld ? 1 : 0, 1, "released to the IdP without an upheld verdict");
            if (s == uint256(IMITRegistry.TraceStatus.Dismissed) && !h.released(c)) {
                assertEq(d.resolved ? 1 : 0, 1, "dismissed before resolve");
                assertEq(upheld ? 1 : 0, 0, "dismissed though upheld");
            }
        }
    }

    /// No resolved dispute strands its case (h14-red2 G1), whatever the admin did with the court's
    /// role: a case still awaiting a resolved dispute's court leaves AwaitingCourt by the path open
    /// now, the IdP's release while the court lacks its role, `applyCaseRuling` (by anyone) once it
    /// holds it again, and lands where the verdict says (upheld: CourtUpheld; else Dismissed; the
    /// IdP's release dismisses). Each path is tried on a copy of the state, which is then restored.
    function invariant_noResolvedDisputeStrandsItsCase() public {
        uint256 n = dr.disputeCount();
        bool holds = registry.hasRole(registry.COURT_ROLE(), address(dr));
        for (uint256 id = 1; id <= n; ++id) {
            IDisputeResolution.Dispute memory d = dr.dispute(id);
            if (!d.resolved) continue;
            IMITRegistry.TraceCase memory t = registry.traceCase(d.traceCase);
            assertEq(t.disputeId, id, "the dispute's case is bound to another dispute");
            if (t.status != IMITRegistry.TraceStatus.AwaitingCourt) continue;
            uint256 snap = vm.snapshotState();
            bool upheld = !d.void_ && d.outcome == 0;
            if (holds) {
                vm.prank(address(0xbeef));
                dr.applyCaseRuling(id);
            } else {
                vm.prank(h.idp());
                registry.releaseCase(d.traceCase);
                upheld = false;
            }
            IMITRegistry.TraceStatus s = registry.traceCase(d.traceCase).status;
            assertEq(
                uint256(s),
                uint256(upheld ? IMITRegistry.TraceStatus.CourtUpheld : IMITRegistry.TraceStatus.Dismissed),
                "stranded case"
            );
            vm.revertToState(snap);
        }
    }

    /// The campaigns reach the states the invariants speak of (measured, with a floor).
    function test_campaignsReachTheCourtStates() public {
        uint256 upheld;
        uint256 dismissed;
        uint256 traced;
        uint256 entryless;
        uint256 entrylessRejected;
        uint256 notEncoded;
        uint256 notAbout;
        uint256 withoutHandshake;
        for (uint256 run; run < 8; ++run) {
            TraceHandler g = new TraceHandler();
            vm.deal(address(g), 1000 ether);
            for (uint256 k; k < 4; ++k) g.fileCase(k, k + 1, 2);
            for (uint256 k; k < 4; ++k) g.openAvatarDispute(k, k + 1, k + 1, 1);
            // case 5 about an entry-less avatar (index N), disputed by entity 0 (h14-red2 G5)
            g.fileCase(0, 8, 2);
            g.openAvatarDispute(0, 8, 5, 1);
            uint256 seed = uint256(keccak256(abi.encode(run)));
            for (uint256 k; k < 5; ++k) g.commitAll(k, seed >> (8 * k));
            g.wait(3601);
            for (uint256 k; k < 5; ++k) g.revealAll(k);
            g.wait(3 * 3600);
            for (uint256 k; k < 5; ++k) g.resolve(k);
            entryless += g.entrylessDisputes();
            if (g.registry().traceCase(5).status != IMITRegistry.TraceStatus.AwaitingCourt) ++entryless;
            IDisputeResolution.Dispute memory d = g.dr().dispute(g.entrylessId());
            if (d.resolved && !d.void_ && d.outcome != 0) ++entrylessRejected;
            // a rejected claim's deposit against an avatar without a known owner stays with the court
            assertEq(g.dr().owed(address(0)), 0, "credited to the zero account");
            for (uint256 c = 1; c <= 4; ++c) g.idpJudge(c, true);
            MITRegistry r = g.registry();
            for (uint256 c = 1; c <= 4; ++c) {
                IMITRegistry.TraceStatus s = r.traceCase(c).status;
                if (s == IMITRegistry.TraceStatus.CourtTraced) ++traced;
                if (s == IMITRegistry.TraceStatus.Dismissed) ++dismissed;
                if (s == IMITRegistry.TraceStatus.CourtUpheld || s == IMITRegistry.TraceStatus.CourtTraced) ++upheld;
            }
            // case 6: bytes that are no encoded evidence (F3); case 7: evidence about entity 3 filed
            // as a case about entity 2 (F2); entity 1 (its reporter's claimant) opens against entity 2
            g.fileCase(1, 2, 0);
            g.openAvatarDispute(1, 2, 6, 1);
            g.fileCase(1, 2, 1 + (3 << 8));
            g.openAvatarDispute(1, 2, 7, 1);
            assertEq(uint256(r.traceCase(6).status), uint256(IMITRegistry.TraceStatus.Open), "case 6 claimed");
            assertEq(uint256(r.traceCase(7).status), uint256(IMITRegistry.TraceStatus.Open), "case 7 claimed");
            // case 8: evidence about entity 2 without a handshake, opened by its reporter's claimant
            g.fileCase(1, 2, 7);
            g.openAvatarDispute(1, 2, 8, 1);
            assertEq(uint256(r.traceCase(8).status), uint256(IMITRegistry.TraceStatus.Open), "case 8 claimed");
            notEncoded += g.refusedNotEncoded();
            notAbout += g.refusedNotAbout();
            withoutHandshake += g.refusedWithoutHandshake();
        }
        assertEq(notEncoded, 8, "the court refuses bytes that are no encoded evidence (F3)");
        assertEq(notAbout, 8, "the court refuses evidence about another avatar (F2)");
        assertEq(withoutHandshake, 8, "the court refuses evidence without a handshake");
        assertEq(
            traced > 0 && dismissed > 0 && upheld > 0 ? 1 : 0,
            1,
            "campaigns reach upheld, traced and dismissed cases"
        );
        // 8 entry-less disputes opened, and each resolved off AwaitingCourt
        assertEq(entryless, 16, "campaigns open and resolve disputes against entry-less avatars");
        assertEq(entrylessRejected > 0 ? 1 : 0, 1, "campaigns reject a claim against an entry-less avatar");
    }
}
