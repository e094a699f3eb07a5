// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {TrustManager} from "../../contracts/trust/TrustManager.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";
import {DisputeResolution} from "../../contracts/disputes/DisputeResolution.sol";
import {IDisputeResolution} from "../../contracts/interfaces/IDisputeResolution.sol";
import {IMITRegistry} from "../../contracts/interfaces/IMITRegistry.sol";

/// @dev The two log cheatcodes this suite needs (declared here to leave the shared Vm interface alone).
interface VmDisputeLogs {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;

    function getRecordedLogs() external returns (Log[] memory);
}

/// @dev The mock cheatcode one test needs (declared here to leave the shared Vm interface alone).
interface VmMockCall {
    function mockCall(address callee, bytes calldata data, bytes calldata returnData) external;
}

/// @notice The deployment the DisputeResolution suites share: a TrustManager with twelve entities
/// (ten registered with chosen reputations, two left for later), five controllers holding two or
/// three entities each, a stranger, and the dispute contract with a non-zero deposit. Every
/// registered entity's identity is verified (by the admin).
abstract contract DisputeFixture is Test {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant N_ENT = 12; // index N_ENT is an id that is never registered
    uint256 internal constant N_REGISTERED = 10;
    uint256 internal constant N_CONTROLLERS = 5;
    uint256 internal constant N_ACTORS = 7; // controllers 0..4, admin 5, stranger 6
    uint256 internal constant ADMIN = 5;
    uint256 internal constant STRANGER = 6;

    uint64 internal constant MIN_REP = 0.3e18;
    uint48 internal constant MIN_AGE = 1; // blocks between registration and a snapshot that counts it
    uint64 internal constant QUORUM = 0.5e18;
    uint40 internal constant COMMIT = 3600;
    uint40 internal constant REVEAL = 3600;
    uint128 internal constant DEPOSIT = 0.01 ether;
    uint64 internal constant REWARD = 0.02e18;
    uint64 internal constant PENALTY = 0.02e18;
    uint64 internal constant LOSER = 0.1e18;
    uint256 internal constant FUNDS = 100 ether;
    uint64 internal constant BAND = 0.3e18; // the deployed noise band of the margin (offchain/disputes/params.ts)

    TrustManager internal tm;
    DisputeResolution internal dr;
    address[N_ACTORS] internal actors;
    bytes32[N_ENT + 1] internal ents;

    VmDisputeLogs internal constant vmLogs = VmDisputeLogs(address(uint160(uint256(keccak256("hevm cheat code")))));
    bytes32 internal constant VOTER_SETTLED = keccak256("VoterSettled(uint256,bytes32,int256)");

    /// The margin of a verdict whose voters hold `winning` of the electorate E: beyond the noise
    /// band b over half of E, m = max(0, 2 W - (1 + b) E) / ((1 - b) E), with b E rounded down.
    function _marginModel(uint256 winning, uint256 electorate, uint256 band) internal pure returns (uint64) {
        uint256 noise = (electorate * band) / WAD;
        if (winning * 2 <= electorate + noise) return 0;
        return uint64(((winning * 2 - electorate - noise) * WAD) / (electorate - noise));
    }

    /// The reputation change settle applies (IDisputeResolution.settle), computed plainly: the
    /// margin is measured against the electorate E (all reputation at the snapshot) beyond the
    /// band, not against the revealed weight `total`.
    function _feedbackModel(
        bool void_,
        uint8 outcome,
        uint256 winning,
        uint256 total,
        uint256 electorate,
        uint256 weight,
        uint8 choice,
        bool revealed,
        bool eligible
    ) internal pure returns (int256) {
        if (!revealed) return eligible ? -int256(uint256(PENALTY)) : int256(0);
        uint256 m = _marginModel(winning, electorate, BAND);
        if (void_ || m == 0) return 0;
        if (choice == outcome) return total == winning ? int256(0) : int256((REWARD * m * weight) / (WAD * winning));
        return -int256((PENALTY * m * weight) / (WAD * (total - winning)));
    }

    /// Whether a voter that committed could have revealed as far as flags and identity go: `reveal`
    /// refuses a voter holding a flag held since a detector run at or before the opening
    /// (`runsAtOpening`), in every nature (s25-rtt R3), and a voter whose identity no longer stands
    /// (revoked) in any dispute, so its withheld vote costs nothing at settlement (h11-red2 D2, D1).
    /// The handlers flag and revoke no voter, so a voter barred by flag run holds a flag now (the
    /// converse needs a flag set after the opening, which no handler sets): this keeps the model
    /// true to the rule; the rule's own cases are the unit tests' (test/trust/s25-rtt.test.ts).
    function _couldRevealFlags(bytes32 voter) internal view returns (bool) {
        return tm.entity(voter).flags & 0x7f == 0 && tm.hasIdentityStanding(voter);
    }

    function _reps() internal pure returns (uint64[N_REGISTERED] memory) {
        return [uint64(0.5e18), 0.9e18, 0.25e18, 1e18, 0.35e18, 0.6e18, 0.3e18, 0.8e18, 0.45e18, 0.7e18];
    }

    /// The court's parameters: appeals off (maxRounds 1) unless a suite overrides it.
    function _params() internal pure virtual returns (IDisputeResolution.Params memory) {
        return
            IDisputeResolution.Params(
                MIN_REP,
                MIN_AGE,
                QUORUM,
                COMMIT,
                REVEAL,
                DEPOSIT,
                REWARD,
                PENALTY,
                LOSER,
                0,
                0,
                1,
                BAND
            );
    }

    function _deploy() internal {
        for (uint256 i; i < N_ACTORS; ++i) {
            actors[i] = address(uint160(uint256(keccak256(abi.encode("dispute actor", i)))));
            vm.deal(actors[i], FUNDS);
        }
        for (uint256 i; i <= N_ENT; ++i) ents[i] = keccak256(abi.encode("dispute entity", i));
        ITrustManager.Model memory m = ITrustManager.Model(
            6,
            10000 | (10000 << 16) | (10000 << 32) | (10000 << 48) | (10000 << 64) | (10000 << 80),
            0.3e18,
            0.98e18,
            1 days,
            0.5e18,
            0.1e18,
            0.5e18,
            0.2e18,
            0.5e18,
            0.2e18
        );
        tm = new TrustManager(actors[ADMIN], m, 0.5e18, 0.8e18);
        dr = new DisputeResolution(tm, IMITRegistry(address(0)), _params());
        vm.startPrank(actors[ADMIN]);
        tm.grantRole(tm.FEEDBACK_ROLE(), address(dr));
        vm.stopPrank();
        uint64[N_REGISTERED] memory reps = _reps();
        for (uint256 i; i < N_REGISTERED; ++i) {
            vm.prank(_controllerOf(i));
            tm.register(ents[i], ITrustManager.Kind.Avatar);
            vm.prank(actors[ADMIN]);
            tm.setIdentityVerified(ents[i], true); // jurors' identities are verified (reputation 0 -> 0.5)
            vm.prank(address(dr)); // the feedback role is the court's alone
            tm.adjustReputation(ents[i], int256(uint256(reps[i])) - 0.5e18);
        }
    }

    /// Spreads a fuzzed selector seed: the fuzzer's dictionary favours 0 and small values, which
    /// would otherwise always pick the same (rare, failing) branch.
    function _mix(uint256 x, uint256 salt) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(x, salt)));
    }

    function _controllerOf(uint256 i) internal view returns (address) {
        return actors[i % N_CONTROLLERS];
    }

    function _commitment(uint256 id, bytes32 voter, uint8 choice, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(abi.encode(id, voter, choice, salt));
    }

    function _e(bytes4 sel, uint256 id) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(sel, id);
    }

    /// Eq. 22 with the court's majority rule, stated plainly (s23-rtt R5): option 0 ("upheld")
    /// wins with more than half of the revealed weight, or with exactly half in an appeal round of
    /// an upheld verdict; otherwise the heaviest other option, the first of the tied, or the
    /// appealed one if it is among them. `tied`: the options holding the outcome's weight.
    function _decideModel(
        uint256[8] memory t,
        uint8 options,
        bool appealRound,
        uint8 appealed
    ) internal pure returns (uint256 total, uint256 best, uint8 winner, uint8 tied) {
        for (uint8 c; c < options; ++c) total += t[c];
        if (t[0] * 2 > total || (appealRound && appealed == 0 && t[0] * 2 == total)) winner = 0;
        else {
            winner = 1;
            for (uint8 c = 2; c < options; ++c) if (t[c] > t[winner]) winner = c;
            if (appealRound && appealed != 0 && t[appealed] == t[winner]) winner = appealed;
        }
        best = t[winner];
        for (uint8 c; c < options; ++c) if (best != 0 && t[c] == best) ++tied;
    }

    uint256 private _evidenceCount;

    /// A fresh evidence digest: a dispute names its evidence, heard once against its respondent
    /// (s23-rtt R1), so unrelated disputes each get their own.
    function _nextEvidence() internal returns (bytes32) {
        return keccak256(abi.encode("forge evidence", ++_evidenceCount));
    }

    function _e(bytes4 sel, uint256 id, bytes32 voter) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(sel, id, voter);
    }
}

/// @notice The flag-contest suites' fixture: `DisputeFixture`'s world, a detector holding
/// DETECTOR_ROLE (roles are separated: the admin is not a detector), and the chain past the
/// registrations' minimum age.
abstract contract FlagContestFixture is DisputeFixture {
    address internal detector;

    function setUp() public virtual {
        _deploy();
        detector = address(uint160(uint256(keccak256("red detector"))));
        vm.startPrank(actors[ADMIN]);
        tm.grantRole(tm.DETECTOR_ROLE(), detector);
        vm.stopPrank();
        vm.roll(block.number + MIN_AGE + 1);
    }
}

/// @notice Drives every state-changing DisputeResolution function (open, commit, reveal, resolve,
/// settle) from the controllers and a stranger with bounded, mostly valid arguments, plus the
/// reputation changes and registrations around it, with time moving forward between calls. A
/// ghost model predicts each call's exact outcome and keeps what the contract should hold: the
/// tally, who voted, every salt, the reputation history, every balance.
contract DisputeHandler is DisputeFixture {
    uint256 internal constant MAX_DISPUTES = 6;

    struct GDispute {
        bytes32 claimant;
        bytes32 respondent;
        uint8 nature;
        uint8 options;
        uint48 snapshot;
        uint40 commitDeadline;
        uint40 revealDeadline;
        address depositor;
        bool resolved;
        bool void_;
        bool tieBroken;
        uint8 outcome;
        uint64 margin;
        uint256 winningWeight;
        uint256 totalWeight;
        uint256[8] tally;
        uint256 electorate; // every entity's ghost reputation at the snapshot
    }

    struct GVote {
        bytes32 commitment;
        uint64 weight; // set at reveal
        uint8 choice; // the choice the voter meant (may be out of range)
        bytes32 salt;
        bool revealed;
        bool settled;
    }

    uint256 public gCount;
    mapping(uint256 id => GDispute) internal gd;
    mapping(uint256 id => mapping(bytes32 voter => GVote)) internal gv;
    mapping(uint256 id => bytes32[]) internal gVoters;
    mapping(uint256 id => mapping(uint8 choice => bytes32[])) internal gByChoice;
    mapping(bytes32 entity => address) internal gController;
    /// Disputes open with the entity as claimant (each holds LOSER of its reputation: s23-rtt R4).
    mapping(bytes32 entity => uint256) internal gOpenClaims;
    mapping(bytes32 entity => uint256) internal gBorn;
    mapping(bytes32 entity => uint64) internal gRep;
    mapping(bytes32 entity => uint256[]) internal histBlock;
    mapping(bytes32 entity => uint256[]) internal histValue;
    mapping(address account => uint256) internal gBalance;
    mapping(address account => uint256) public gOwed;
    mapping(uint256 id => mapping(bytes32 voter => uint256)) public settledEvents;
    mapping(uint256 id => uint8) internal lastPhase;
    mapping(uint256 id => IDisputeResolution.Dispute) internal lastSeen;

    uint256 public calls;
    uint256 public modelMismatches;
    bytes public lastModelMismatch;
    uint256 public paidTwice;
    uint256 public stageViolations;
    string public lastStageViolation;
    mapping(bytes4 selector => uint256) public succeeded;
    /// Balances (actual and model) at the start of the current handler call: every call must move
    /// each actor's ether exactly as the model says (forge may touch balances between calls).
    uint256[N_ACTORS] internal balSnap;
    uint256[N_ACTORS] internal ghostSnap;
    uint256 public balanceMismatches;

    constructor() {
        _deploy();
        for (uint256 i; i <= N_ENT; ++i) {
            ITrustManager.Entity memory e = tm.entity(ents[i]);
            gController[ents[i]] = e.controller;
            gRep[ents[i]] = e.reputation;
            if (e.kind != ITrustManager.Kind.None) {
                _pushRep(ents[i], e.reputation);
                gBorn[ents[i]] = block.number;
            }
        }
        for (uint256 a; a < N_ACTORS; ++a) gBalance[actors[a]] = actors[a].balance;
        vm.roll(block.number + MIN_AGE + 1); // the fixture's entities may vote in disputes opened now
    }

    // ================================================================== actions

    function openDispute(
        uint256 actorSeed,
        uint256 claimantSeed,
        uint256 respondentSeed,
        uint256 optionsSeed,
        uint256 modeSeed,
        uint256 time
    ) external {
        _tick(time);
        if (gCount >= MAX_DISPUTES) return;
        (actorSeed, claimantSeed, respondentSeed) = (
            _mix(actorSeed, 1),
            _mix(claimantSeed, 2),
            _mix(respondentSeed, 3)
        );
        (optionsSeed, modeSeed) = (_mix(optionsSeed, 4), _mix(modeSeed, 5));
        bytes32 claimant = _pickEntity(claimantSeed);
        bytes32 respondent = _pickEntity(respondentSeed);
        address caller =
            modeSeed % 4 == 0 || gController[claimant] == address(0) ? _actor(actorSeed) : gController[claimant];
        uint8 options = uint8(optionsSeed % 5 == 0 ? optionsSeed % 10 : 2 + ((optionsSeed >> 8) % 7));
        uint8 nature = uint8((modeSeed >> 8) % 3);
        uint256 value = (modeSeed >> 16) % 8 == 0 ? ((modeSeed >> 24) % 2 == 0 ? 0 : DEPOSIT + 1) : DEPOSIT;
        bytes memory err;
        bool fail = true;
        // nature 1 (avatar) opens with openAvatarDispute and a trace case only (session 14); this
        // court has no registry, so it hears none (TraceUnavailable, session 15)
        if (nature == 1) err = abi.encodeWithSelector(IDisputeResolution.DisputeResolution__TraceUnavailable.selector);
        else if (gController[claimant] != caller)
            err = _e2(IDisputeResolution.DisputeResolution__NotController.selector, claimant, caller);
        else if (claimant == respondent)
            err = abi.encodeWithSelector(IDisputeResolution.DisputeResolution__SelfDispute.selector, claimant);
        else if (options < 2 || options > 8)
            err = abi.encodeWithSelector(IDisputeResolution.DisputeResolution__InvalidOptions.selector, options);
        else if (!tm.hasIdentityStanding(claimant))
            err = abi.encodeWithSelector(
                IDisputeResolution.DisputeResolution__ClaimantWithoutStanding.selector,
                claimant
            );
        else if (tm.entity(claimant).reputation < (gOpenClaims[claimant] + 1) * LOSER)
            err = abi.encodeWithSelector(
                IDisputeResolution.DisputeResolution__ClaimantStakeTooLow.selector,
                claimant,
                tm.entity(claimant).reputation,
                (gOpenClaims[claimant] + 1) * LOSER
            );
        else if (gController[respondent] == address(0))
            err = abi.encodeWithSelector(IDisputeResolution.DisputeResolution__UnknownRespondent.selector, respondent);
        else if (value != DEPOSIT)
            err = abi.encodeWithSelector(IDisputeResolution.DisputeResolution__WrongDeposit.selector, DEPOSIT, value);
        else fail = false;
        // each opening its own evidence (a digest heard once per respondent: s23-rtt R1)
        bytes memory data = abi.encodeCall(
            IDisputeResolution.openDispute,
            (claimant, respondent, nature, options, bytes32(_mix(modeSeed, gCount)), "bafkrei-evidence", 0)
        );
        (bool ok, ) = _exec(caller, value, data, !fail, err);
        uint8 before = 0;
        if (ok) {
            uint256 id = ++gCount;
            ++gOpenClaims[claimant];
            GDispute storage d = gd[id];
            d.claimant = claimant;
            d.respondent = respondent;
            d.nature = nature;
            d.options = options;
            d.snapshot = uint48(block.number - 1);
            for (uint256 i; i < N_ENT; ++i) d.electorate += repAt(ents[i], d.snapshot);
            d.commitDeadline = uint40(block.timestamp + COMMIT);
            d.revealDeadline = uint40(block.timestamp + COMMIT + REVEAL);
            d.depositor = caller;
            gBalance[caller] -= value;
        }
        _afterCall(IDisputeResolution.openDispute.selector, 0, ok, before);
    }

    function commit(
        uint256 actorSeed,
        uint256 disputeSeed,
        uint256 voterSeed,
        uint256 choiceSeed,
        uint256 saltSeed,
        uint256 modeSeed,
        uint256 time
    ) external {
        _tick(time);
        (actorSeed, disputeSeed, voterSeed) = (_mix(actorSeed, 1), _mix(disputeSeed, 2), _mix(voterSeed, 3));
        (choiceSeed, modeSeed) = (_mix(choiceSeed, 4), _mix(modeSeed, 5));
        uint256 id = _pickDispute(disputeSeed, IDisputeResolution.Phase.Commit);
        bytes32 voter = _pickNewVoter(id, voterSeed);
        address caller = modeSeed % 6 == 0 || gController[voter] == address(0) ? _actor(actorSeed) : gController[voter];
        GDispute storage d = gd[id];
        uint256 range =
            d.options == 0
                ? 2
                : choiceSeed % 6 == 0
                    ? uint256(d.options) + 2
                    : d.options; // sometimes out of range
        uint8 choice = uint8((choiceSeed >> 8) % range);
        bytes32 salt = keccak256(abi.encode("salt", saltSeed));
        bytes32 commitment = _commitment(id, voter, choice, salt);
        uint256 shape = (modeSeed >> 8) % 10;
        if (shape == 0) commitment = bytes32(0);
        else if (shape == 1 && gVoters[id].length != 0)
            commitment = gv[id][gVoters[id][saltSeed % gVoters[id].length]].commitment; // copied
        else if (shape == 2) commitment = _commitment(id, ents[(voterSeed + 1) % N_ENT], choice, salt); // bound to someone else
        bytes memory err = _predictCommit(id, voter, caller, commitment);
        bytes memory data = abi.encodeCall(IDisputeResolution.commit, (id, voter, commitment));
        uint8 before = _observe(id);
        (bool ok, ) = _exec(caller, 0, data, err.length == 0, err);
        if (ok) {
            gv[id][voter] = GVote(commitment, 0, choice, salt, false, false);
            gVoters[id].push(voter);
        }
        _afterCall(IDisputeResolution.commit.selector, id, ok, before);
    }

    function reveal(
        uint256 actorSeed,
        uint256 disputeSeed,
        uint256 voterSeed,
        uint256 modeSeed,
        uint256 time
    ) external {
        _tick(time);
        (actorSeed, disputeSeed, voterSeed, modeSeed) = (
            _mix(actorSeed, 1),
            _mix(disputeSeed, 2),
            _mix(voterSeed, 3),
            _mix(modeSeed, 5)
        );
        uint256 id = _pickForReveal(disputeSeed);
        _maybeWarpInto(id, IDisputeResolution.Phase.Reveal, modeSeed >> 64);
        bytes32 voter = _pickRevealer(id, voterSeed);
        address caller = modeSeed % 6 == 0 || gController[voter] == address(0) ? _actor(actorSeed) : gController[voter];
        GVote memory v = gv[id][voter];
        uint8 choice = v.choice;
        bytes32 salt = v.salt;
        uint256 shape = (modeSeed >> 8) % 8;
        if (shape == 0)
            salt = keccak256(abi.encode(salt, modeSeed)); // wrong salt
        else if (shape == 1) choice = uint8(uint256(choice) + 1 + ((modeSeed >> 16) % 8)); // wrong choice
        GDispute storage d = gd[id];
        bytes memory err;
        if (id > gCount) err = _e(IDisputeResolution.DisputeResolution__UnknownDispute.selector, id);
        else if (block.timestamp <= d.commitDeadline || block.timestamp > d.revealDeadline)
            err = _e(IDisputeResolution.DisputeResolution__NotInRevealPhase.selector, id);
        else if (gController[voter] != caller)
            err = _e2(IDisputeResolution.DisputeResolution__NotController.selector, voter, caller);
        else if (v.commitment == bytes32(0))
            err = _e(IDisputeResolution.DisputeResolution__NoCommitment.selector, id, voter);
        else if (v.revealed) err = _e(IDisputeResolution.DisputeResolution__AlreadyRevealed.selector, id, voter);
        else if (bytes20(_commitment(id, voter, choice, salt)) != bytes20(v.commitment))
            err = _e(IDisputeResolution.DisputeResolution__CommitmentMismatch.selector, id, voter);
        else if (choice >= d.options)
            err = abi.encodeWithSelector(IDisputeResolution.DisputeResolution__InvalidChoice.selector, id, choice);
        else if (caller == d.depositor || caller == gController[d.respondent])
            err = _e(IDisputeResolution.DisputeResolution__PartyCannotVote.selector, id, voter);
        else if (!_eligibleModel(d, voter))
            err = abi.encodeWithSelector(
                IDisputeResolution.DisputeResolution__NotEligible.selector,
                id,
                voter,
                repAt(voter, d.snapshot)
            );
        bytes memory data = abi.encodeCall(IDisputeResolution.reveal, (id, voter, choice, salt));
        uint8 before = _observe(id);
        (bool ok, ) = _exec(caller, 0, data, err.length == 0, err);
        if (ok) {
            uint64 w = uint64(repAt(voter, d.snapshot));
            gv[id][voter].revealed = true;
            gv[id][voter].weight = w;
            d.tally[choice] += w;
            gByChoice[id][choice].push(voter);
        }
        _afterCall(IDisputeResolution.reveal.selector, id, ok, before);
    }

    function resolve(uint256 actorSeed, uint256 disputeSeed, uint256 time) external {
        _tick(time);
        (actorSeed, disputeSeed) = (_mix(actorSeed, 1), _mix(disputeSeed, 2));
        uint256 id = _pickDispute(disputeSeed, IDisputeResolution.Phase.Resolvable);
        _maybeWarpInto(id, IDisputeResolution.Phase.Resolvable, disputeSeed >> 64);
        address caller = _actor(actorSeed);
        GDispute storage d = gd[id];
        bytes memory err;
        if (id > gCount) err = _e(IDisputeResolution.DisputeResolution__UnknownDispute.selector, id);
        else if (d.resolved) err = _e(IDisputeResolution.DisputeResolution__AlreadyResolved.selector, id);
        else if (block.timestamp <= d.revealDeadline)
            err = abi.encodeWithSelector(
                IDisputeResolution.DisputeResolution__TooEarly.selector,
                id,
                uint256(d.revealDeadline)
            );
        uint8 before = _observe(id);
        (bool ok, ) = _exec(caller, 0, abi.encodeCall(IDisputeResolution.resolve, (id)), err.length == 0, err);
        if (ok) _applyResolve(id);
        _afterCall(IDisputeResolution.resolve.selector, id, ok, before);
    }

    function settle(uint256 actorSeed, uint256 disputeSeed, uint256 voterSeed, uint256 time) external {
        _tick(time);
        (actorSeed, disputeSeed, voterSeed) = (_mix(actorSeed, 1), _mix(disputeSeed, 2), _mix(voterSeed, 3));
        uint256 id = _pickDispute(disputeSeed, IDisputeResolution.Phase.Resolved);
        address caller = _actor(actorSeed);
        bytes32 voter = _pickToSettle(id, voterSeed);
        GDispute storage d = gd[id];
        GVote storage v = gv[id][voter];
        bytes memory err;
        if (id > gCount) err = _e(IDisputeResolution.DisputeResolution__UnknownDispute.selector, id);
        else if (!d.resolved) err = _e(IDisputeResolution.DisputeResolution__NotResolved.selector, id);
        else if (v.commitment == bytes32(0))
            err = _e(IDisputeResolution.DisputeResolution__NoCommitment.selector, id, voter);
        else if (v.settled) err = _e(IDisputeResolution.DisputeResolution__AlreadySettled.selector, id, voter);
        uint8 before = _observe(id);
        vmLogs.recordLogs();
        (bool ok, bytes memory ret) = _exec(
            caller,
            0,
            abi.encodeCall(IDisputeResolution.settle, (id, voter)),
            err.length == 0,
            err
        );
        VmDisputeLogs.Log[] memory logs = vmLogs.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(dr) || logs[i].topics[0] != VOTER_SETTLED) continue;
            if (++settledEvents[uint256(logs[i].topics[1])][logs[i].topics[2]] > 1) ++paidTwice;
        }
        if (ok) {
            v.settled = true;
            bool party = gController[voter] == d.depositor || gController[voter] == gController[d.respondent];
            int256 change = _feedbackModel(
                d.void_,
                d.outcome,
                d.winningWeight,
                d.totalWeight,
                d.electorate,
                v.weight,
                v.choice,
                v.revealed,
                !party && _eligibleModel(d, voter) && _couldRevealFlags(voter)
            );
            if (abi.decode(ret, (int256)) != change) _mismatch(abi.encode("settle's change", change));
            if (change != 0) _adjust(voter, change);
        }
        _afterCall(IDisputeResolution.settle.selector, id, ok, before);
    }

    /// An actor withdraws what the court owes it (deposits credited at resolve).
    function withdraw(uint256 actorSeed, uint256 time) external {
        _tick(time);
        address caller = _actor(_mix(actorSeed, 1));
        uint256 owedNow = gOwed[caller];
        bytes memory err =
            owedNow == 0
                ? abi.encodeWithSelector(IDisputeResolution.DisputeResolution__NothingToWithdraw.selector, caller)
                : bytes("");
        (bool ok, ) = _exec(caller, 0, abi.encodeCall(IDisputeResolution.withdraw, ()), owedNow != 0, err);
        if (ok) {
            gOwed[caller] = 0;
            gBalance[caller] += owedNow;
        }
        _afterCall(bytes4(0), 0, ok, 0);
    }

    /// The feedback role moves a reputation (what other disputes and agreements do), so that snapshots matter.
    function adjustReputation(uint256 entitySeed, uint256 amountSeed, uint256 time) external {
        _tick(time);
        bytes32 e = ents[_mix(entitySeed, 1) % N_ENT];
        if (gController[e] == address(0)) return;
        int256 amount = int256(amountSeed % 0.6e18) - 0.3e18;
        vm.prank(address(dr)); // the feedback role is the court's alone
        tm.adjustReputation(e, amount);
        _adjust(e, amount);
        _afterCall(bytes4(0), 0, true, 0);
    }

    /// Someone registers one of the two spare entities (which can vote in disputes opened later).
    function registerEntity(uint256 actorSeed, uint256 which, uint256 time) external {
        _tick(time);
        bytes32 e = ents[N_REGISTERED + (_mix(which, 2) % (N_ENT - N_REGISTERED))];
        if (gController[e] != address(0)) return;
        address caller = _actor(_mix(actorSeed, 1));
        vm.prank(caller);
        tm.register(e, ITrustManager.Kind.Avatar);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(e, true);
        gController[e] = caller;
        gBorn[e] = block.number;
        gRep[e] = 0.5e18;
        _pushRep(e, 0.5e18);
        _afterCall(bytes4(0), 0, true, 0);
    }

    /// Time passes (up to half an hour).
    function wait(uint256 time) external {
        _snap();
        vm.warp(block.timestamp + (time % 30 minutes));
        vm.roll(block.number + 1);
        _afterCall(bytes4(0), 0, true, 0);
    }

    // ================================================================== model views

    /// The model's reputation of `e` at the end of block `b`.
    function repAt(bytes32 e, uint256 b) public view returns (uint256 r) {
        uint256[] storage bs = histBlock[e];
        for (uint256 k; k < bs.length && bs[k] <= b; ++k) r = histValue[e][k];
    }

    function ghostDispute(uint256 id) external view returns (GDispute memory) {
        return gd[id];
    }

    function ghostVote(uint256 id, bytes32 voter) external view returns (GVote memory) {
        return gv[id][voter];
    }

    function ghostVoters(uint256 id) external view returns (bytes32[] memory) {
        return gVoters[id];
    }

    function ghostRep(bytes32 e) external view returns (uint64) {
        return gRep[e];
    }

    function ghostBalance(address a) external view returns (uint256) {
        return gBalance[a];
    }

    function entities() external view returns (bytes32[N_ENT + 1] memory) {
        return ents;
    }

    function allActors() external view returns (address[N_ACTORS] memory) {
        return actors;
    }

    function contracts() external view returns (TrustManager, DisputeResolution) {
        return (tm, dr);
    }

    // ================================================================== internals

    function _snap() internal {
        for (uint256 a; a < N_ACTORS; ++a) (balSnap[a], ghostSnap[a]) = (actors[a].balance, gBalance[actors[a]]);
    }

    function _tick(uint256 time) internal {
        _snap();
        vm.warp(block.timestamp + (time % 3 minutes));
        if (_mix(time, 9) % 5 != 0) vm.roll(block.number + 1);
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % N_ACTORS];
    }

    /// A dispute for an action: one time in eight the next (unknown) id; else usually one the
    /// model says is in phase `want`, if any; else any known one.
    function _pickDispute(uint256 seed, IDisputeResolution.Phase want) internal view returns (uint256) {
        if (gCount == 0 || seed % 8 == 0) return gCount + 1;
        uint256 start = (seed >> 8) % gCount;
        if ((seed >> 4) % 4 != 0) {
            for (uint256 k; k < gCount; ++k) {
                uint256 id = 1 + ((start + k) % gCount);
                if (_modelPhase(id) == want) return id;
            }
        }
        return 1 + start;
    }

    /// Usually (three times in four), when dispute `id` is still before phase `want`, time jumps
    /// (forward) into it.
    function _maybeWarpInto(uint256 id, IDisputeResolution.Phase want, uint256 seed) internal {
        if (id > gCount || seed % 4 == 0 || uint8(_modelPhase(id)) >= uint8(want)) return;
        uint256 start = want == IDisputeResolution.Phase.Reveal ? gd[id].commitDeadline : gd[id].revealDeadline;
        uint256 target = start + 1 + ((seed >> 8) % 20 minutes);
        if (target > block.timestamp) vm.warp(target);
    }

    /// A dispute to reveal in: one time in eight the next (unknown) id; else usually one with an
    /// unrevealed voter, in its reveal phase if possible (else in its commit phase, and time may
    /// jump); else any known one.
    function _pickForReveal(uint256 seed) internal view returns (uint256) {
        if (gCount == 0 || seed % 8 == 0) return gCount + 1;
        uint256 start = (seed >> 8) % gCount;
        if ((seed >> 4) % 4 != 0) {
            for (uint256 pass; pass < 2; ++pass) {
                IDisputeResolution.Phase want =
                    pass == 0 ? IDisputeResolution.Phase.Reveal : IDisputeResolution.Phase.Commit;
                for (uint256 k; k < gCount; ++k) {
                    uint256 id = 1 + ((start + k) % gCount);
                    if (_modelPhase(id) == want && _hasUnrevealed(id)) return id;
                }
            }
        }
        return 1 + start;
    }

    function _hasUnrevealed(uint256 id) internal view returns (bool) {
        bytes32[] storage vs = gVoters[id];
        for (uint256 i; i < vs.length; ++i) if (!gv[id][vs[i]].revealed) return true;
        return false;
    }

    function _modelPhase(uint256 id) internal view returns (IDisputeResolution.Phase) {
        GDispute storage d = gd[id];
        if (d.resolved) return IDisputeResolution.Phase.Resolved;
        if (block.timestamp <= d.commitDeadline) return IDisputeResolution.Phase.Commit;
        if (block.timestamp <= d.revealDeadline) return IDisputeResolution.Phase.Reveal;
        return IDisputeResolution.Phase.Resolvable;
    }

    /// Usually a registered entity; one time in six any id (spare, unregistered or unknown).
    function _pickEntity(uint256 seed) internal view returns (bytes32) {
        if (seed % 6 == 0) return ents[(seed >> 8) % (N_ENT + 1)];
        for (uint256 k; k < N_ENT; ++k) {
            bytes32 e = ents[((seed >> 8) + k) % N_ENT];
            if (gController[e] != address(0)) return e;
        }
        return ents[0];
    }

    /// Usually a registered non-party that has not voted in `id` yet; one time in ten a voter who
    /// already did (a second vote); one time in ten any id.
    function _pickNewVoter(uint256 id, uint256 seed) internal view returns (bytes32) {
        uint256 pick = seed % 10;
        if (pick == 1 && gVoters[id].length != 0) return gVoters[id][(seed >> 8) % gVoters[id].length];
        if (pick != 0) {
            for (uint256 k; k < N_ENT; ++k) {
                bytes32 e = ents[((seed >> 8) + k) % N_ENT];
                if (
                    gController[e] != address(0) &&
                    e != gd[id].claimant &&
                    e != gd[id].respondent &&
                    gv[id][e].commitment == bytes32(0)
                ) return e;
            }
        }
        return ents[(seed >> 8) % (N_ENT + 1)];
    }

    /// Usually a voter of `id` that has not revealed yet; one time in five any id.
    function _pickRevealer(uint256 id, uint256 seed) internal view returns (bytes32) {
        bytes32[] storage vs = gVoters[id];
        if (seed % 5 != 0 && vs.length != 0) {
            for (uint256 k; k < vs.length; ++k) {
                bytes32 e = vs[((seed >> 8) + k) % vs.length];
                if (!gv[id][e].revealed) return e;
            }
        }
        return ents[(seed >> 8) % (N_ENT + 1)];
    }

    /// Usually a voter of `id` not settled yet; one time in five any id.
    function _pickToSettle(uint256 id, uint256 seed) internal view returns (bytes32) {
        bytes32[] storage vs = gVoters[id];
        if (seed % 5 != 0 && vs.length != 0) {
            for (uint256 k; k < vs.length; ++k) {
                bytes32 e = vs[((seed >> 8) + k) % vs.length];
                if (!gv[id][e].settled) return e;
            }
        }
        return ents[(seed >> 8) % (N_ENT + 1)];
    }

    /// Reputation and age at the snapshot (the party rule is checked apart).
    function _eligibleModel(GDispute storage d, bytes32 voter) internal view returns (bool) {
        uint256 rep = repAt(voter, d.snapshot);
        return rep != 0 && rep >= MIN_REP && gBorn[voter] + MIN_AGE <= d.snapshot;
    }

    function _e2(bytes4 sel, bytes32 entity, address caller) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(sel, entity, caller);
    }

    function _predictCommit(
        uint256 id,
        bytes32 voter,
        address caller,
        bytes32 commitment
    ) internal view returns (bytes memory) {
        GDispute storage d = gd[id];
        if (id > gCount) return _e(IDisputeResolution.DisputeResolution__UnknownDispute.selector, id);
        if (block.timestamp > d.commitDeadline)
            return _e(IDisputeResolution.DisputeResolution__NotInCommitPhase.selector, id);
        if (gController[voter] != caller)
            return _e2(IDisputeResolution.DisputeResolution__NotController.selector, voter, caller);
        // (every registered entity is verified and none is flagged here: see the fuzz tests)
        if (gv[id][voter].commitment != bytes32(0))
            return _e(IDisputeResolution.DisputeResolution__AlreadyVoted.selector, id, voter);
        if (bytes20(commitment) == bytes20(0))
            return _e(IDisputeResolution.DisputeResolution__EmptyCommitment.selector, id, voter);
        return "";
    }

    /// Step 3 in the model: Eq. 22's argmax over raw weights, the quorum, the tie rule, the
    /// loser's penalty and the deposit's payee.
    function _applyResolve(uint256 id) internal {
        GDispute storage d = gd[id];
        d.resolved = true;
        --gOpenClaims[d.claimant];
        uint256[8] memory t;
        for (uint8 c; c < d.options; ++c) t[c] = d.tally[c];
        (uint256 total, uint256 best, uint8 winner, uint8 tied) = _decideModel(t, d.options, false, 0);
        d.totalWeight = total;
        if (total == 0 || total < QUORUM) {
            d.void_ = true;
            gOwed[d.depositor] += DEPOSIT;
            return;
        }
        d.tieBroken = tied > 1;
        d.outcome = winner;
        d.winningWeight = best;
        // the margin against the electorate: all reputation at the snapshot
        d.margin = _marginModel(best, d.electorate, BAND);
        _adjust(winner == 0 ? d.respondent : d.claimant, -int256(uint256(LOSER)));
        gOwed[winner == 0 ? d.depositor : gController[d.respondent]] += DEPOSIT;
    }

    function _adjust(bytes32 e, int256 amount) internal {
        int256 r = int256(uint256(gRep[e])) + amount;
        uint256 updated =
            r <= 0
                ? 0
                : r >= int256(WAD)
                    ? WAD
                    : uint256(r);
        gRep[e] = uint64(updated);
        _pushRep(e, updated);
    }

    function _pushRep(bytes32 e, uint256 value) internal {
        uint256[] storage bs = histBlock[e];
        if (bs.length != 0 && bs[bs.length - 1] == block.number) histValue[e][bs.length - 1] = value;
        else {
            bs.push(block.number);
            histValue[e].push(value);
        }
    }

    /// A call rejected exactly as predicted: the handler call reverts so that forge's table counts
    /// it (calls vs. reverts per action), and there is nothing to record.
    error DisputeHandler__RejectedAsPredicted();

    function _exec(
        address caller,
        uint256 value,
        bytes memory data,
        bool expectOk,
        bytes memory expectErr
    ) internal returns (bool ok, bytes memory ret) {
        vm.prank(caller);
        (ok, ret) = address(dr).call{value: value}(data);
        ++calls;
        bool matched = ok == expectOk && (ok || keccak256(ret) == keccak256(expectErr));
        if (!matched) _mismatch(abi.encode(bytes4(data), caller, ok, ret, expectOk, expectErr));
        if (ok) ++succeeded[bytes4(data)];
        else if (matched) revert DisputeHandler__RejectedAsPredicted();
    }

    function _mismatch(bytes memory what) internal {
        ++modelMismatches;
        lastModelMismatch = what;
    }

    /// The phase the contract reports for `id` just before a call (None for an unknown id).
    function _observe(uint256 id) internal view returns (uint8) {
        return id <= dr.disputeCount() ? uint8(dr.phase(id)) : 0;
    }

    /// The stage machine: an action succeeds only in its own phase (observed just before the call),
    /// and every dispute's phase and counters only move forward.
    function _afterCall(bytes4 sel, uint256 id, bool ok, uint8 before) internal {
        if (ok && id != 0) {
            IDisputeResolution.Phase want =
                sel == IDisputeResolution.commit.selector
                    ? IDisputeResolution.Phase.Commit
                    : sel == IDisputeResolution.reveal.selector
                        ? IDisputeResolution.Phase.Reveal
                        : sel == IDisputeResolution.resolve.selector
                            ? IDisputeResolution.Phase.Resolvable
                            : IDisputeResolution.Phase.Resolved;
            if (before != uint8(want)) {
                ++stageViolations;
                lastStageViolation = "an action succeeded outside its phase";
            }
        }
        for (uint256 a; a < N_ACTORS; ++a) {
            if (actors[a].balance + ghostSnap[a] != gBalance[actors[a]] + balSnap[a]) ++balanceMismatches;
        }
        uint256 n = dr.disputeCount();
        for (uint256 i = 1; i <= n; ++i) {
            uint8 p = uint8(dr.phase(i));
            IDisputeResolution.Dispute memory d = dr.dispute(i);
            IDisputeResolution.Dispute memory s = lastSeen[i];
            if (p < lastPhase[i] || (s.resolved && !d.resolved)) {
                ++stageViolations;
                lastStageViolation = "a dispute went back a stage";
            }
            lastPhase[i] = p;
            lastSeen[i] = d;
        }
    }
}

/// @notice Invariants of DisputeResolution under random sequences of opens, commits, reveals,
/// resolves and settles, with reputations moving and entities registering in between.
contract DisputeResolutionInvariantTest is Test {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    uint256 internal constant WAD = 1e18;
    uint64 internal constant MIN_REP = 0.3e18;
    uint128 internal constant DEPOSIT = 0.01 ether;

    DisputeHandler internal h;
    TrustManager internal tm;
    DisputeResolution internal dr;
    bytes32[13] internal ents;
    address[7] internal actors;

    function setUp() public {
        vm.roll(100);
        vm.warp(1_700_000_000);
        h = new DisputeHandler();
        (tm, dr) = h.contracts();
        ents = h.entities();
        actors = h.allActors();
    }

    function targetContracts() public view returns (address[] memory a) {
        a = new address[](1);
        a[0] = address(h);
    }

    /// The handler picks its actors itself; forge must not call it from them (nor touch their balances).
    function excludeSenders() public view returns (address[] memory a) {
        a = new address[](actors.length);
        for (uint256 i; i < actors.length; ++i) a[i] = actors[i];
    }

    function targetSelectors() public view returns (FuzzSelector[] memory s) {
        bytes4[] memory sel = new bytes4[](17);
        sel[0] = DisputeHandler.openDispute.selector;
        sel[1] = DisputeHandler.openDispute.selector;
        sel[2] = DisputeHandler.commit.selector;
        sel[3] = DisputeHandler.commit.selector;
        sel[4] = DisputeHandler.commit.selector;
        sel[5] = DisputeHandler.commit.selector;
        sel[6] = DisputeHandler.commit.selector;
        sel[7] = DisputeHandler.reveal.selector;
        sel[8] = DisputeHandler.reveal.selector;
        sel[9] = DisputeHandler.reveal.selector;
        sel[10] = DisputeHandler.resolve.selector;
        sel[11] = DisputeHandler.settle.selector;
        sel[12] = DisputeHandler.settle.selector;
        sel[13] = DisputeHandler.adjustReputation.selector;
        sel[14] = DisputeHandler.registerEntity.selector;
        sel[15] = DisputeHandler.wait.selector;
        sel[16] = DisputeHandler.withdraw.selector;
        s = new FuzzSelector[](1);
        s[0] = FuzzSelector(address(h), sel);
    }

    /// A dispute's tally always equals the sum of its revealed weights, per option (and the model's).
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 64
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 96
    function invariant_tallyEqualsSumOfRevealedWeights() public view {
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            uint256[8] memory t = dr.tally(id);
            uint256[8] memory sum;
            bytes32[] memory vs = h.ghostVoters(id);
            for (uint256 i; i < vs.length; ++i) {
                IDisputeResolution.Vote memory v = dr.voteOf(id, vs[i]);
                if (v.revealed) sum[v.choice] += v.weight;
            }
            DisputeHandler.GDispute memory g = h.ghostDispute(id);
            for (uint256 c; c < 8; ++c) {
                assertEq(t[c], sum[c], "tally differs from the sum of revealed weights");
                assertEq(t[c], g.tally[c], "tally differs from the model");
            }
        }
    }

    /// No voter counts twice: every entity's vote is the model's (one slot per voter and dispute:
    /// committed once, revealed once, settled once), and the model's voter list has no duplicates.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 64
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 96
    function invariant_noVoterCountsTwice() public view {
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            bytes32[] memory gvs = h.ghostVoters(id);
            for (uint256 i; i < gvs.length; ++i)
                for (uint256 j; j < i; ++j) assertTrue(gvs[i] != gvs[j], "a voter is listed twice");
            for (uint256 e; e < ents.length; ++e) {
                IDisputeResolution.Vote memory v = dr.voteOf(id, ents[e]);
                DisputeHandler.GVote memory g = h.ghostVote(id, ents[e]);
                assertEq(v.commitment, bytes20(g.commitment), "commitment differs from the model");
                assertTrue(v.revealed == g.revealed && v.settled == g.settled, "revealed or settled differs");
                assertEq(v.weight, g.weight, "weight differs from the model");
            }
        }
    }

    /// A reveal matches its commitment: every revealed vote opens its stored commitment with the
    /// voter's own salt and choice, and unrevealed votes show no choice.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 64
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 96
    function invariant_revealMatchesCommitment() public view {
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            bytes32[] memory vs = h.ghostVoters(id);
            for (uint256 i; i < vs.length; ++i) {
                IDisputeResolution.Vote memory v = dr.voteOf(id, vs[i]);
                DisputeHandler.GVote memory g = h.ghostVote(id, vs[i]);
                assertEq(v.commitment, bytes20(g.commitment), "commitment differs from the model");
                if (v.revealed) {
                    assertEq(
                        v.commitment,
                        bytes20(dr.commitmentFor(id, vs[i], v.choice, g.salt)),
                        "revealed vote does not open its commitment"
                    );
                    assertEq(v.choice, g.choice, "revealed choice is not the committed one");
                    assertLt(v.choice, dr.dispute(id).options, "revealed choice out of range");
                } else {
                    assertEq(v.choice, 0, "an unrevealed vote shows a choice");
                }
            }
        }
    }

    /// The stage machine only moves forward: phases and counters never go back, each action
    /// succeeded only in its phase, and phase() is what the deadlines and the resolve say.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 64
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 96
    function invariant_stagesOnlyMoveForward() public view {
        assertEq(h.stageViolations(), 0, h.lastStageViolation());
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            IDisputeResolution.Dispute memory d = dr.dispute(id);
            IDisputeResolution.Phase want =
                d.resolved
                    ? IDisputeResolution.Phase.Resolved
                    : block.timestamp <= d.commitDeadline
                        ? IDisputeResolution.Phase.Commit
                        : block.timestamp <= d.revealDeadline
                            ? IDisputeResolution.Phase.Reveal
                            : IDisputeResolution.Phase.Resolvable;
            assertEq(uint256(dr.phase(id)), uint256(want), "phase");
            assertTrue(d.resolved == h.ghostDispute(id).resolved, "resolved differs from the model");
        }
        assertEq(
            uint256(dr.phase(dr.disputeCount() + 1)),
            uint256(IDisputeResolution.Phase.None),
            "unknown dispute has a phase"
        );
    }

    /// Liveness: after its deadlines every dispute can be resolved by anyone, then every voter
    /// settled by anyone, and every payee can withdraw (checked on a copy of the state that is
    /// thrown away): no ether is left.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 64
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 96
    function invariant_resolveReachableAfterDeadlines() public {
        uint256 snap = vm.snapshotState();
        address stranger = actors[6];
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            IDisputeResolution.Dispute memory d = dr.dispute(id);
            if (!d.resolved) {
                if (block.timestamp <= d.revealDeadline) vm.warp(uint256(d.revealDeadline) + 1);
                vm.prank(stranger);
                (bool ok, ) = address(dr).call(abi.encodeCall(IDisputeResolution.resolve, (id)));
                assertTrue(ok, "resolve is not reachable after the deadlines");
            }
            bytes32[] memory vs = h.ghostVoters(id);
            for (uint256 i; i < vs.length; ++i) {
                if (dr.voteOf(id, vs[i]).settled) continue;
                vm.prank(stranger);
                (bool done, ) = address(dr).call(abi.encodeCall(IDisputeResolution.settle, (id, vs[i])));
                assertTrue(done, "settle is not reachable after resolve");
            }
        }
        for (uint256 a; a < actors.length; ++a) {
            if (dr.owed(actors[a]) == 0) continue;
            vm.prank(actors[a]);
            dr.withdraw();
        }
        assertEq(address(dr).balance, 0, "a deposit is stuck after every dispute resolved");
        vm.revertToState(snap);
    }

    /// Settle never pays twice: at most one VoterSettled per (dispute, voter) ever, exactly the
    /// settled voters were paid, reputations are the model's (each feedback applied once), the
    /// ether held is exactly the deposits of unresolved disputes plus what is owed, what is owed is
    /// the model's, and every call moved each actor's ether exactly as the model says.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 64
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 96
    function invariant_settleNeverPaysTwice() public view {
        assertEq(h.paidTwice(), 0, "a voter was settled twice");
        uint256 held;
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            IDisputeResolution.Dispute memory d = dr.dispute(id);
            bytes32[] memory vs = h.ghostVoters(id);
            for (uint256 i; i < vs.length; ++i) {
                assertEq(h.settledEvents(id, vs[i]), dr.voteOf(id, vs[i]).settled ? 1 : 0, "settlement events");
            }
            if (!d.resolved) held += d.deposit;
        }
        for (uint256 a; a < actors.length; ++a) {
            assertEq(dr.owed(actors[a]), h.gOwed(actors[a]), "owed differs from the model");
            held += dr.owed(actors[a]);
        }
        assertEq(address(dr).balance, held, "ether held != deposits of unresolved disputes + owed");
        for (uint256 e; e < ents.length; ++e) {
            assertEq(tm.entity(ents[e]).reputation, h.ghostRep(ents[e]), "reputation differs from the model");
        }
        assertEq(h.balanceMismatches(), 0, "a call moved an actor's ether other than the model says");
    }

    /// Weights come from the snapshot: every vote weighs the voter's reputation at the block before
    /// its dispute opened (the model's history and the TrustManager's checkpoints agree), never less
    /// than the eligibility threshold.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 64
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 96
    function invariant_weightsComeFromSnapshot() public view {
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            uint48 snapshot = dr.dispute(id).snapshot;
            bytes32[] memory vs = h.ghostVoters(id);
            for (uint256 i; i < vs.length; ++i) {
                if (!dr.voteOf(id, vs[i]).revealed) continue;
                uint256 w = dr.voteOf(id, vs[i]).weight;
                assertEq(w, h.repAt(vs[i], snapshot), "weight is not the model's snapshot reputation");
                assertEq(w, tm.reputationAt(vs[i], snapshot), "weight is not the checkpointed reputation");
                assertGe(w, MIN_REP, "an ineligible voter weighs");
            }
        }
    }

    /// Every call had the predicted outcome (success, or that exact custom error) and every
    /// dispute record is the model's. (Session 6: the model's settle measured the margin against
    /// the revealed weight, not the electorate; with the ci profile it disagreed with the contract.)
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 64
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 96
    function invariant_everyCallMatchesTheModel() public view {
        assertEq(h.modelMismatches(), 0, "a call's outcome differed from the model");
        assertEq(dr.disputeCount(), h.gCount(), "dispute count");
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            IDisputeResolution.Dispute memory d = dr.dispute(id);
            DisputeHandler.GDispute memory g = h.ghostDispute(id);
            assertEq(d.claimant, g.claimant, "claimant");
            assertEq(d.respondent, g.respondent, "respondent");
            assertEq(d.nature, g.nature, "nature");
            assertEq(d.options, g.options, "options");
            assertEq(d.snapshot, g.snapshot, "snapshot");
            assertEq(d.commitDeadline, g.commitDeadline, "commit deadline");
            assertEq(d.revealDeadline, g.revealDeadline, "reveal deadline");
            assertEq(d.depositor, g.depositor, "depositor");
            assertEq(d.deposit, DEPOSIT, "deposit");
            assertTrue(d.void_ == g.void_ && d.tieBroken == g.tieBroken, "void or tie-break differs");
            assertEq(d.outcome, g.outcome, "outcome");
            assertEq(d.margin, g.margin, "margin");
            assertEq(d.electorate, g.electorate, "electorate");
            assertEq(d.winningWeight, g.winningWeight, "winning weight");
            assertEq(d.totalWeight, g.totalWeight, "total weight");
        }
    }
}

/// @notice Malformed commits, reveals and calls in the wrong phase: the exact custom error, and no change.
/// forge-config: ci.fuzz.runs = 300
contract DisputeResolutionMalformedInputTest is DisputeFixture {
    uint256 internal constant ID = 1;
    bytes32 internal constant SALT = keccak256("salt of e3");
    uint8 internal constant CHOICE = 1;
    uint40 internal commitDeadline;
    uint40 internal revealDeadline;

    function setUp() public {
        vm.roll(100);
        vm.warp(1_700_000_000);
        _deploy();
        vm.roll(100 + MIN_AGE + 1);
        vm.prank(_controllerOf(0));
        dr.openDispute{value: DEPOSIT}(ents[0], ents[1], 0, 3, bytes32("evidence"), "bafkrei-evidence", 0);
        vm.prank(_controllerOf(3));
        dr.commit(ID, ents[3], _commitment(ID, ents[3], CHOICE, SALT));
        IDisputeResolution.Dispute memory d = dr.dispute(ID);
        (commitDeadline, revealDeadline) = (d.commitDeadline, d.revealDeadline);
    }

    /// Everything a dispute call could change: the dispute, its tally, every vote, every
    /// reputation, the ether held and owed.
    function _fp() internal view returns (bytes32 h) {
        uint256 n = dr.disputeCount();
        h = keccak256(abi.encode(n, address(dr).balance));
        for (uint256 id = 1; id <= n; ++id) h = keccak256(abi.encode(h, dr.dispute(id), dr.tally(id)));
        for (uint256 a; a < N_ACTORS; ++a) h = keccak256(abi.encode(h, dr.owed(actors[a])));
        for (uint256 e; e <= N_ENT; ++e) {
            h = keccak256(abi.encode(h, dr.voteOf(ID, ents[e]), tm.entity(ents[e]).reputation));
        }
    }

    function _toReveal(uint256 t) internal {
        vm.warp(bound(t, uint256(commitDeadline) + 1, revealDeadline));
    }

    // ------------------------------------------------------------------ reveal

    function testFuzz_reveal_rejectsWrongSalt(bytes32 salt, uint256 t) public {
        vm.assume(salt != SALT);
        _toReveal(t);
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__CommitmentMismatch.selector, ID, ents[3]));
        vm.prank(_controllerOf(3));
        dr.reveal(ID, ents[3], CHOICE, salt);
        assertEq(_fp(), before, "state changed");
    }

    function testFuzz_reveal_rejectsWrongChoice(uint8 choice, uint256 t) public {
        vm.assume(choice != CHOICE);
        _toReveal(t);
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__CommitmentMismatch.selector, ID, ents[3]));
        vm.prank(_controllerOf(3));
        dr.reveal(ID, ents[3], choice, SALT);
        assertEq(_fp(), before, "state changed");
    }

    /// A commitment to a choice the dispute does not offer opens, but is refused: it never counts.
    function testFuzz_reveal_rejectsChoiceOutOfRange(uint8 choice, bytes32 salt, uint256 t) public {
        choice = uint8(bound(choice, 3, 255));
        vm.prank(_controllerOf(9));
        dr.commit(ID, ents[9], _commitment(ID, ents[9], choice, salt));
        _toReveal(t);
        bytes32 before = _fp();
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeResolution.DisputeResolution__InvalidChoice.selector, ID, choice)
        );
        vm.prank(_controllerOf(9));
        dr.reveal(ID, ents[9], choice, salt);
        assertEq(_fp(), before, "state changed");
    }

    function testFuzz_reveal_rejectsOutsideRevealPhase(uint256 t, bool early) public {
        if (early) vm.warp(bound(t, block.timestamp, commitDeadline));
        else vm.warp(bound(t, uint256(revealDeadline) + 1, uint256(revealDeadline) + 365 days));
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__NotInRevealPhase.selector, ID));
        vm.prank(_controllerOf(3));
        dr.reveal(ID, ents[3], CHOICE, SALT);
        assertEq(_fp(), before, "state changed");
    }

    function testFuzz_reveal_rejectsWithoutCommitment(uint256 which, uint8 choice, bytes32 salt, uint256 t) public {
        uint256 i = bound(which, 2, N_REGISTERED - 1);
        vm.assume(i != 3);
        _toReveal(t);
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__NoCommitment.selector, ID, ents[i]));
        vm.prank(_controllerOf(i));
        dr.reveal(ID, ents[i], choice, salt);
        assertEq(_fp(), before, "state changed");
    }

    function testFuzz_reveal_rejectsSecondReveal(uint256 t, uint8 choice, bytes32 salt) public {
        _toReveal(t);
        vm.prank(_controllerOf(3));
        dr.reveal(ID, ents[3], CHOICE, SALT);
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__AlreadyRevealed.selector, ID, ents[3]));
        vm.prank(_controllerOf(3));
        dr.reveal(ID, ents[3], choice, salt);
        assertEq(_fp(), before, "state changed");
        assertEq(dr.tally(ID)[CHOICE], 1e18, "counted once");
    }

    function testFuzz_reveal_rejectsNonController(address caller, uint256 t) public {
        vm.assume(caller != _controllerOf(3));
        _toReveal(t);
        bytes32 before = _fp();
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeResolution.DisputeResolution__NotController.selector, ents[3], caller)
        );
        vm.prank(caller);
        dr.reveal(ID, ents[3], CHOICE, SALT);
        assertEq(_fp(), before, "state changed");
    }

    function testFuzz_revealAndCommit_rejectUnknownDispute(uint256 id, bytes32 c, uint256 t) public {
        vm.assume(id != ID);
        vm.warp(bound(t, block.timestamp, uint256(revealDeadline) + 1 days));
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__UnknownDispute.selector, id));
        vm.prank(_controllerOf(3));
        dr.reveal(id, ents[3], CHOICE, SALT);
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__UnknownDispute.selector, id));
        vm.prank(_controllerOf(9));
        dr.commit(id, ents[9], c);
        assertEq(_fp(), before, "state changed");
    }

    /// The positive path, for contrast: a revealed vote adds its snapshot weight to its option, once.
    function testFuzz_reveal_addsTheSnapshotWeightOnce(uint8 choice, bytes32 salt, uint256 t) public {
        choice = uint8(bound(choice, 0, 2));
        vm.prank(_controllerOf(9));
        dr.commit(ID, ents[9], _commitment(ID, ents[9], choice, salt));
        vm.prank(address(dr)); // the feedback role is the court's alone
        tm.adjustReputation(ents[9], 0.3e18); // after the snapshot: does not count
        _toReveal(t);
        uint256 before = dr.tally(ID)[choice];
        vm.prank(_controllerOf(9));
        dr.reveal(ID, ents[9], choice, salt);
        assertEq(dr.tally(ID)[choice], before + 0.7e18, "tally += snapshot weight");
    }

    // ------------------------------------------------------------------ commit

    function testFuzz_commit_rejectsAfterDeadline(uint256 t, bytes32 c) public {
        vm.warp(bound(t, uint256(commitDeadline) + 1, uint256(commitDeadline) + 365 days));
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__NotInCommitPhase.selector, ID));
        vm.prank(_controllerOf(9));
        dr.commit(ID, ents[9], c);
        assertEq(_fp(), before, "state changed");
    }

    function testFuzz_commit_rejectsZeroCommitment() public {
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__EmptyCommitment.selector, ID, ents[9]));
        vm.prank(_controllerOf(9));
        dr.commit(ID, ents[9], bytes32(0));
        assertEq(_fp(), before, "state changed");
    }

    /// A copy of e3's commitment is accepted from e9 (commitments are not globally unique, so a
    /// copier cannot censor e3) but e9 can never reveal it: it binds e3.
    function testFuzz_commit_copiedCommitmentIsUnrevealable(uint8 choice, bytes32 salt, uint256 t) public {
        bytes32 c = _commitment(ID, ents[3], CHOICE, SALT);
        vm.prank(_controllerOf(9));
        dr.commit(ID, ents[9], c);
        assertEq(dr.voteOf(ID, ents[9]).commitment, bytes20(c), "the copy is stored");
        _toReveal(t);
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__CommitmentMismatch.selector, ID, ents[9]));
        vm.prank(_controllerOf(9));
        dr.reveal(ID, ents[9], choice, salt);
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__CommitmentMismatch.selector, ID, ents[9]));
        vm.prank(_controllerOf(9));
        dr.reveal(ID, ents[9], CHOICE, SALT);
    }

    /// A party may seal a vote (commit checks only what the voter is now) but never reveal it.
    function testFuzz_reveal_rejectsParty(bool claimant, bytes32 salt, uint256 t) public {
        uint256 i = claimant ? 0 : 1;
        vm.prank(_controllerOf(i));
        dr.commit(ID, ents[i], _commitment(ID, ents[i], 0, salt));
        _toReveal(t);
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__PartyCannotVote.selector, ID, ents[i]));
        vm.prank(_controllerOf(i));
        dr.reveal(ID, ents[i], 0, salt);
        assertEq(_fp(), before, "state changed");
    }

    function testFuzz_commit_rejectsSecondCommit(bytes32 c) public {
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__AlreadyVoted.selector, ID, ents[3]));
        vm.prank(_controllerOf(3));
        dr.commit(ID, ents[3], c);
        assertEq(_fp(), before, "state changed");
    }

    /// Below the threshold at the snapshot (raising it afterwards does not help), or registered
    /// after the snapshot (weight 0): the sealed vote is refused at reveal.
    function testFuzz_reveal_rejectsIneligible(bool late, bytes32 salt, uint256 raise, uint256 t) public {
        bytes32 voter = late ? ents[N_REGISTERED] : ents[2];
        uint256 rep = late ? 0 : 0.25e18;
        if (late) {
            vm.prank(_controllerOf(2));
            tm.register(voter, ITrustManager.Kind.Avatar);
            vm.prank(actors[ADMIN]);
            tm.setIdentityVerified(voter, true);
        } else {
            vm.prank(address(dr)); // the feedback role is the court's alone
            tm.adjustReputation(ents[2], int256(bound(raise, 0, 1e18)));
        }
        vm.roll(block.number + 1);
        vm.prank(_controllerOf(2));
        dr.commit(ID, voter, _commitment(ID, voter, 1, salt));
        assertEq(dr.eligibleWeight(ID, voter), 0, "eligibleWeight");
        _toReveal(t);
        bytes32 before = _fp();
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeResolution.DisputeResolution__NotEligible.selector, ID, voter, rep)
        );
        vm.prank(_controllerOf(2));
        dr.reveal(ID, voter, 1, salt);
        assertEq(_fp(), before, "state changed");
    }

    /// Another entity of a party's controller does not vote (e5 is the claimant's controller's, e6
    /// the respondent's): refused at reveal.
    function testFuzz_reveal_rejectsEntityOfAPartysController(bool claimantSide, bytes32 salt, uint256 t) public {
        uint256 i = claimantSide ? 5 : 6;
        vm.prank(_controllerOf(i));
        dr.commit(ID, ents[i], _commitment(ID, ents[i], 2, salt));
        assertEq(dr.eligibleWeight(ID, ents[i]), 0, "eligibleWeight");
        _toReveal(t);
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__PartyCannotVote.selector, ID, ents[i]));
        vm.prank(_controllerOf(i));
        dr.reveal(ID, ents[i], 2, salt);
        assertEq(_fp(), before, "state changed");
    }

    /// An identity not verified through the registries (nor by the admin) has no vote: vote
    /// farming from a second account needs a verified identity on it. Judged as of the snapshot
    /// (s26-rtx): unverified at or before it, no vote; in a dispute opened before, it commits.
    function testFuzz_commit_rejectsUnverified(uint256 who, bytes32 c) public {
        vm.assume(bytes20(c) != bytes20(0));
        uint256 i = bound(who, 2, N_REGISTERED - 1);
        vm.assume(i != 3 && i != 5 && i != 6);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(ents[i], false);
        vm.roll(block.number + 1); // the next dispute's snapshot is the unverification's block
        vm.prank(_controllerOf(0));
        uint256 later = dr.openDispute{value: DEPOSIT}(ents[0], ents[1], 0, 2, _nextEvidence(), "", 0);
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__NotVerified.selector, later, ents[i]));
        vm.prank(_controllerOf(i));
        dr.commit(later, ents[i], c);
        assertEq(_fp(), before, "state changed");
        assertEq(dr.eligibleWeight(later, ents[i]), 0, "the view agrees");
        // in the dispute opened before the unverification, it commits
        vm.prank(_controllerOf(i));
        dr.commit(ID, ents[i], c);
        assertTrue(dr.voteOf(ID, ents[i]).commitment == bytes20(c), "a withdrawal after the snapshot bars nothing");
    }

    /// An entity a detector flagged (any attack kind) before a dispute opened does not vote in it;
    /// in a dispute opened before the flag it does (the flag-run rule in every nature, s25-rtt R3:
    /// a flag set after the opening picks no vote).
    function testFuzz_commit_rejectsFlagged(uint8 kind, bytes32 c) public {
        vm.assume(bytes20(c) != bytes20(0));
        kind = uint8(bound(kind, 0, 6));
        address detector = address(0xD37EC7); // roles are separated: the admin is not a detector
        bytes32 detectorRole = tm.DETECTOR_ROLE();
        vm.prank(actors[ADMIN]);
        tm.grantRole(detectorRole, detector);
        vm.prank(detector);
        tm.flag(ents[9], kind, bytes32(0), 0);
        vm.prank(_controllerOf(0));
        uint256 later = dr.openDispute{value: DEPOSIT}(ents[0], ents[1], 0, 2, _nextEvidence(), "", 0);
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__Flagged.selector, later, ents[9]));
        vm.prank(_controllerOf(9));
        dr.commit(later, ents[9], c);
        assertEq(_fp(), before, "state changed");
        assertEq(dr.eligibleWeight(later, ents[9]), 0, "the view agrees");
        // in the dispute opened before the flag, it commits
        vm.prank(_controllerOf(9));
        dr.commit(ID, ents[9], c);
        assertTrue(dr.voteOf(ID, ents[9]).commitment == bytes20(c), "a flag set after the opening bars nothing");
    }

    /// Minimum age: an entity registered and verified in block B is counted at snapshot B
    /// (reputation 0.5 >= 0.3) but votes only in disputes whose snapshot is >= B + MIN_AGE (the
    /// 13-Sybils attack).
    function testFuzz_reveal_rejectsEntityYoungerThanMinAge(bytes32 salt) public {
        uint256 born = block.number + 1;
        vm.roll(born);
        vm.prank(_controllerOf(2));
        tm.register(ents[N_REGISTERED], ITrustManager.Kind.Avatar);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(ents[N_REGISTERED], true);
        vm.roll(born + MIN_AGE); // snapshot born + MIN_AGE - 1: too young
        vm.prank(_controllerOf(0));
        uint256 young = dr.openDispute{value: DEPOSIT}(ents[0], ents[1], 0, 2, _nextEvidence(), "", 0);
        vm.roll(born + MIN_AGE + 1); // snapshot born + MIN_AGE: old enough
        vm.prank(_controllerOf(0));
        uint256 old = dr.openDispute{value: DEPOSIT}(ents[0], ents[1], 0, 2, _nextEvidence(), "", 0);
        vm.roll(born + MIN_AGE + 2);
        vm.startPrank(_controllerOf(2));
        dr.commit(young, ents[N_REGISTERED], _commitment(young, ents[N_REGISTERED], 1, salt));
        dr.commit(old, ents[N_REGISTERED], _commitment(old, ents[N_REGISTERED], 1, salt));
        vm.warp(dr.dispute(old).commitDeadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeResolution.DisputeResolution__NotEligible.selector,
                young,
                ents[N_REGISTERED],
                0.5e18
            )
        );
        dr.reveal(young, ents[N_REGISTERED], 1, salt);
        dr.reveal(old, ents[N_REGISTERED], 1, salt);
        vm.stopPrank();
        assertEq(dr.voteOf(old, ents[N_REGISTERED]).weight, 0.5e18, "old enough, full weight");
    }

    /// Minimum age of the standing, not of the id (h13-red D3): an entity registered plainly (no
    /// standing, reputation 0) `dormant` blocks before the admin verifies it in block G votes only
    /// in disputes whose snapshot is >= G + MIN_AGE, however long it lay dormant; `eligibleWeight`
    /// and `reveal` agree, and `registeredAt` still names the first registration.
    function testFuzz_reveal_ageCountsFromTheStandingNotTheRegistration(
        uint256 dormant,
        uint256 gap,
        bytes32 salt
    ) public {
        bytes32 e = ents[N_REGISTERED];
        uint256 born = block.number + 1;
        vm.roll(born);
        vm.prank(_controllerOf(2));
        tm.register(e, ITrustManager.Kind.Avatar);
        uint256 granted = born + bound(dormant, 0, 100_000);
        vm.roll(granted);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(e, true);
        uint256 snapshot = granted + bound(gap, 0, 3 * MIN_AGE);
        vm.roll(snapshot + 1); // openDispute's snapshot is the block before it
        vm.prank(_controllerOf(0));
        uint256 id = dr.openDispute{value: DEPOSIT}(ents[0], ents[1], 0, 2, _nextEvidence(), "", 0);
        vm.roll(snapshot + 2);
        (uint256 rep, uint256 since) = tm.standingAt(e, uint48(snapshot));
        assertEq(rep, 0.5e18, "the granted reputation at the snapshot");
        assertEq(since, granted, "standing granted by the admin's first verification");
        assertEq(tm.registeredAt(e), born, "the id's first registration is kept");
        bool oldEnough = snapshot >= granted + MIN_AGE;
        assertEq(dr.eligibleWeight(id, e), oldEnough ? 0.5e18 : 0, "eligibleWeight");
        vm.startPrank(_controllerOf(2));
        dr.commit(id, e, _commitment(id, e, 1, salt));
        vm.warp(dr.dispute(id).commitDeadline + 1);
        if (!oldEnough)
            vm.expectRevert(
                abi.encodeWithSelector(IDisputeResolution.DisputeResolution__NotEligible.selector, id, e, 0.5e18)
            );
        dr.reveal(id, e, 1, salt);
        vm.stopPrank();
        assertEq(dr.voteOf(id, e).weight, oldEnough ? 0.5e18 : 0, "weight");
    }

    function testFuzz_commit_rejectsNonController(address caller, bytes32 c) public {
        vm.assume(caller != _controllerOf(9));
        bytes32 before = _fp();
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeResolution.DisputeResolution__NotController.selector, ents[9], caller)
        );
        vm.prank(caller);
        dr.commit(ID, ents[9], c);
        assertEq(_fp(), before, "state changed");
    }

    // ------------------------------------------------------------------ open, resolve, settle

    function testFuzz_openDispute_rejectsMalformed(
        uint8 options,
        uint256 respondentSeed,
        uint256 value,
        uint8 mode
    ) public {
        bytes32 claimant = ents[0];
        bytes32 respondent = ents[2];
        address caller = _controllerOf(0);
        bytes memory err;
        mode %= 5;
        if (mode == 0) {
            options = uint8(options % 2 == 0 ? bound(options, 0, 1) : bound(options, 9, 255));
            err = abi.encodeWithSelector(IDisputeResolution.DisputeResolution__InvalidOptions.selector, options);
        } else if (mode == 1) {
            respondent = claimant;
            options = 2;
            err = abi.encodeWithSelector(IDisputeResolution.DisputeResolution__SelfDispute.selector, claimant);
        } else if (mode == 2) {
            respondent = keccak256(abi.encode("nobody", respondentSeed));
            options = 2;
            err = abi.encodeWithSelector(IDisputeResolution.DisputeResolution__UnknownRespondent.selector, respondent);
        } else if (mode == 3) {
            options = 2;
            value = bound(value, 0, 1 ether);
            vm.assume(value != DEPOSIT);
            err = abi.encodeWithSelector(IDisputeResolution.DisputeResolution__WrongDeposit.selector, DEPOSIT, value);
        } else {
            caller = address(uint160(bound(value, 1, type(uint160).max)));
            vm.assume(caller != _controllerOf(0));
            err = abi.encodeWithSelector(
                IDisputeResolution.DisputeResolution__NotController.selector,
                claimant,
                caller
            );
        }
        if (mode != 3) value = DEPOSIT;
        vm.deal(caller, 2 ether);
        bytes32 before = _fp();
        vm.expectRevert(err);
        vm.prank(caller);
        dr.openDispute{value: value}(claimant, respondent, 0, options, _nextEvidence(), "", 0);
        assertEq(_fp(), before, "state changed");
        assertEq(dr.disputeCount(), 1, "opened");
    }

    /// An electorate wider than Dispute.electorate (2^96) is refused by name (the TrustManager's
    /// total is mocked: 7.9e10 entities at reputation 1 are out of reach of a test).
    function testFuzz_openDispute_rejectsAnElectorateBeyond96Bits(uint256 electorate) public {
        electorate = bound(electorate, uint256(type(uint96).max) + 1, type(uint256).max);
        VmMockCall(address(vm)).mockCall(
            address(tm),
            abi.encodeCall(ITrustManager.totalReputationAt, (uint48(block.number - 1))),
            abi.encode(electorate)
        );
        bytes32 before = _fp();
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeResolution.DisputeResolution__ElectorateTooLarge.selector, electorate)
        );
        vm.prank(_controllerOf(0));
        dr.openDispute{value: DEPOSIT}(ents[0], ents[2], 0, 2, _nextEvidence(), "", 0);
        assertEq(_fp(), before, "state changed");
    }

    function testFuzz_resolve_rejectsTooEarly(uint256 t, address caller) public {
        vm.warp(bound(t, block.timestamp, revealDeadline));
        bytes32 before = _fp();
        vm.expectRevert(
            abi.encodeWithSelector(IDisputeResolution.DisputeResolution__TooEarly.selector, ID, uint256(revealDeadline))
        );
        vm.prank(caller);
        dr.resolve(ID);
        assertEq(_fp(), before, "state changed");
    }

    function testFuzz_resolve_rejectsSecondResolve(uint256 t, address caller) public {
        vm.warp(bound(t, uint256(revealDeadline) + 1, uint256(revealDeadline) + 365 days));
        dr.resolve(ID);
        bytes32 before = _fp();
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__AlreadyResolved.selector, ID));
        vm.prank(caller);
        dr.resolve(ID);
        assertEq(_fp(), before, "state changed");
    }

    function testFuzz_settle_rejectsBeforeResolveOrUnknown(uint256 t, uint256 id) public {
        vm.warp(bound(t, block.timestamp, uint256(revealDeadline) + 365 days));
        bool unknown = id % 2 == 0 && id != ID;
        if (!unknown) id = ID;
        bytes32 before = _fp();
        vm.expectRevert(
            _e(
                unknown
                    ? IDisputeResolution.DisputeResolution__UnknownDispute.selector
                    : IDisputeResolution.DisputeResolution__NotResolved.selector,
                id
            )
        );
        dr.settle(id, ents[3]);
        assertEq(_fp(), before, "state changed");
    }

    // ------------------------------------------------------------------ quorum and ties

    /// Opens a 3-option dispute e0 vs e1 after setting e7 and e9 to the same weight 0.7.
    function _openTied() internal returns (uint256 id) {
        vm.prank(address(dr)); // the feedback role is the court's alone
        tm.adjustReputation(ents[7], -0.1e18);
        vm.roll(block.number + 1);
        vm.prank(_controllerOf(0));
        id = dr.openDispute{value: DEPOSIT}(ents[0], ents[1], 0, 3, _nextEvidence(), "", 0);
    }

    function _voteAndReveal(uint256 id, uint256 i, uint8 choice) internal {
        vm.prank(_controllerOf(i));
        dr.commit(id, ents[i], _commitment(id, ents[i], choice, bytes32(i)));
    }

    function _revealAll(uint256 id, uint256[] memory who, uint8[] memory choices) internal {
        vm.warp(dr.dispute(id).commitDeadline + 1);
        for (uint256 k; k < who.length; ++k) {
            vm.prank(_controllerOf(who[k]));
            dr.reveal(id, ents[who[k]], choices[k], bytes32(who[k]));
        }
        vm.warp(dr.dispute(id).revealDeadline + 1);
        dr.resolve(id);
    }

    /// A tie between two options goes to the lowest-numbered tied option other than 0: never to
    /// "upheld" and never to a draw anyone in the dispute could steer.
    function testFuzz_resolve_tieGoesToLowestOptionOtherThanUpheld(uint8 a, uint8 b) public {
        a = uint8(bound(a, 0, 2));
        b = uint8(bound(b, 0, 2));
        vm.assume(a != b);
        uint256 id = _openTied();
        _voteAndReveal(id, 7, a);
        _voteAndReveal(id, 9, b);
        uint256[] memory who = new uint256[](2);
        (who[0], who[1]) = (7, 9);
        uint8[] memory choices = new uint8[](2);
        (choices[0], choices[1]) = (a, b);
        uint256 respondentRep = tm.entity(ents[1]).reputation;
        _revealAll(id, who, choices);
        IDisputeResolution.Dispute memory d = dr.dispute(id);
        uint8 expected =
            a == 0
                ? b
                : b == 0
                    ? a
                    : (a < b ? a : b);
        assertEq(d.outcome, expected, "tie rule");
        assertTrue(d.tieBroken && !d.void_, "a tie, decided");
        assertEq(tm.entity(ents[1]).reputation, respondentRep, "a tie never penalizes the respondent");
    }

    /// Below quorum the dispute is void: e4 (0.35 < QUORUM 0.5) alone reveals "upheld"; no party
    /// is penalized and the deposit returns. e9 (0.7) alone decides.
    function testFuzz_resolve_voidBelowQuorum(bool enough) public {
        uint256 i = enough ? 9 : 4;
        vm.roll(block.number + 1);
        vm.prank(_controllerOf(0));
        uint256 id = dr.openDispute{value: DEPOSIT}(ents[0], ents[1], 0, 2, _nextEvidence(), "", 0);
        _voteAndReveal(id, i, 0);
        uint256[] memory who = new uint256[](1);
        who[0] = i;
        uint8[] memory choices = new uint8[](1);
        uint256 respondentRep = tm.entity(ents[1]).reputation;
        uint256 owedBefore = dr.owed(_controllerOf(0));
        _revealAll(id, who, choices);
        IDisputeResolution.Dispute memory d = dr.dispute(id);
        assertTrue(d.void_ != enough, "void iff below quorum");
        assertEq(dr.owed(_controllerOf(0)), owedBefore + DEPOSIT, "deposit owed back (void, or upheld)");
        assertEq(
            tm.entity(ents[1]).reputation,
            enough ? respondentRep - LOSER : respondentRep,
            "the respondent loses only a decided dispute"
        );
    }
}

/// @dev A controller account that refuses ether (a contract wallet without a payable fallback).
contract EtherRefusingController {}

/// @notice Red-team findings of issue 16 that are fixed (moved here from
/// DisputeResolution.findings.t.sol); each would fail on the contract before the fix.
contract DisputeResolutionFixedFindingsTest is DisputeFixture {
    function setUp() public {
        vm.roll(100);
        vm.warp(1_700_000_000);
        _deploy();
        vm.roll(100 + MIN_AGE + 1);
    }

    function _open(bytes32 claimant, bytes32 respondent, address caller) internal returns (uint256 id) {
        vm.deal(caller, 1 ether);
        vm.prank(caller);
        id = dr.openDispute{value: DEPOSIT}(claimant, respondent, 0, 2, _nextEvidence(), "", 0);
    }

    /// Sybil voting: an entity registered and verified one block before a dispute opens
    /// (reputation 0.5 >= 0.3 at the snapshot) has no vote: it is younger than MIN_AGE at the snapshot.
    function test_aFreshlyRegisteredEntityHasNoVote() public {
        vm.prank(actors[STRANGER]);
        tm.register(ents[N_REGISTERED], ITrustManager.Kind.Avatar);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(ents[N_REGISTERED], true); // even a verified one
        vm.roll(block.number + 1);
        uint256 id = _open(ents[0], ents[1], _controllerOf(0));
        vm.prank(actors[STRANGER]);
        dr.commit(id, ents[N_REGISTERED], _commitment(id, ents[N_REGISTERED], 1, bytes32("s")));
        vm.warp(block.timestamp + COMMIT + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDisputeResolution.DisputeResolution__NotEligible.selector,
                id,
                ents[N_REGISTERED],
                0.5e18
            )
        );
        vm.prank(actors[STRANGER]);
        dr.reveal(id, ents[N_REGISTERED], 1, bytes32("s"));
    }

    /// Commitment censorship: e9's controller copies e3's pending commitment and lands first; e3's
    /// commit still succeeds (uniqueness is per voter, not global).
    function test_aVoterCanAlwaysCommitItsOwnCommitment() public {
        uint256 id = _open(ents[0], ents[1], _controllerOf(0));
        bytes32 c = _commitment(id, ents[3], 1, bytes32("e3's salt"));
        vm.prank(_controllerOf(9));
        dr.commit(id, ents[9], c); // the copy, from the mempool
        vm.prank(_controllerOf(3));
        dr.commit(id, ents[3], c);
        assertEq(dr.voteOf(id, ents[3]).commitment, bytes20(c), "e3 was censored");
    }

    /// Push payment (moved from the findings): resolve credits the deposit; a payee that refuses
    /// ether cannot freeze the outcome, the penalties or the settlements.
    function test_resolveIsReachableWhateverThePayeeIs() public {
        EtherRefusingController wallet = new EtherRefusingController();
        vm.prank(address(wallet));
        tm.register(ents[N_REGISTERED + 1], ITrustManager.Kind.Avatar);
        vm.roll(block.number + 1);
        uint256 id = _open(ents[0], ents[N_REGISTERED + 1], _controllerOf(0));
        vm.prank(_controllerOf(3));
        dr.commit(id, ents[3], _commitment(id, ents[3], 1, bytes32("3")));
        vm.warp(block.timestamp + COMMIT + 1);
        vm.prank(_controllerOf(3));
        dr.reveal(id, ents[3], 1, bytes32("3"));
        vm.warp(block.timestamp + REVEAL + 1);
        dr.resolve(id);
        assertTrue(dr.dispute(id).resolved, "not resolved");
        assertEq(dr.owed(address(wallet)), DEPOSIT, "the deposit is owed to the payee");
        vm.expectRevert(IDisputeResolution.DisputeResolution__TransferFailed.selector);
        vm.prank(address(wallet));
        dr.withdraw(); // its own refusal blocks only its own withdrawal
        dr.settle(id, ents[3]);
        assertTrue(dr.voteOf(id, ents[3]).settled, "settled");
    }

    /// Each voter is settled once, whoever calls (the batch cursor of the earlier settle is gone).
    function test_eachVoterIsSettledOnce() public {
        uint256 id = _open(ents[0], ents[1], _controllerOf(0));
        vm.prank(_controllerOf(3));
        dr.commit(id, ents[3], _commitment(id, ents[3], 0, bytes32("3")));
        vm.prank(_controllerOf(9));
        dr.commit(id, ents[9], _commitment(id, ents[9], 0, bytes32("9")));
        vm.warp(block.timestamp + COMMIT + 1);
        vm.prank(_controllerOf(3));
        dr.reveal(id, ents[3], 0, bytes32("3"));
        vm.warp(block.timestamp + REVEAL + 1);
        dr.resolve(id);
        uint256 rep9 = tm.entity(ents[9]).reputation;
        vm.prank(actors[STRANGER]);
        assertTrue(dr.settle(id, ents[9]) == -int256(uint256(PENALTY)), "the non-revealer pays");
        vm.expectRevert(_e(IDisputeResolution.DisputeResolution__AlreadySettled.selector, id, ents[9]));
        dr.settle(id, ents[9]);
        assertEq(tm.entity(ents[9]).reputation, rep9 - PENALTY, "paid once");
        assertTrue(dr.settle(id, ents[3]) == 0, "unanimous: nobody lost, nobody is paid");
    }

    /// Vote farming (moved from the findings, rewritten with a second account): one account opens
    /// 4 disputes (25 before s23-rtt R4 bounded a claimant's open claims by its stake) between its own claimant and respondent in one block; a second account (an
    /// accomplice, or the farmer's other wallet) holds a verified, old-enough voter that reveals the
    /// same option in all of them. Before issue 16 each revealed majority vote earned +0.02 (the
    /// voter reached 1.0 from 0.5, and every deposit came back). Now the winners are paid only from
    /// what revealed losers lose: a dispute nobody votes against pays nothing.
    function test_aControllerGainsNoReputationFromDisputesAgainstItself() public {
        address farmer = actors[STRANGER];
        address accomplice = address(uint160(uint256(keccak256("farm accomplice"))));
        bytes32 claimant = keccak256("farm claimant");
        bytes32 respondent = keccak256("farm respondent");
        bytes32 voter = keccak256("farm voter");
        vm.startPrank(farmer);
        tm.register(claimant, ITrustManager.Kind.Avatar);
        tm.register(respondent, ITrustManager.Kind.Avatar);
        vm.stopPrank();
        vm.prank(accomplice);
        tm.register(voter, ITrustManager.Kind.Avatar);
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(voter, true); // the accomplice holds one verified identity
        // a claim needs standing and a stake covering every open claim's penalty (s23-rtt R4): the farmer's
        // claimant is verified and holds as many disputes open at once as its stake allows (4 at 0.5)
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(claimant, true);
        vm.roll(block.number + MIN_AGE + 1);
        vm.deal(farmer, 10 ether);
        uint256[] memory disputes = new uint256[](4);
        for (uint256 i; i < disputes.length; ++i) {
            vm.prank(farmer);
            disputes[i] = dr.openDispute{value: DEPOSIT}(claimant, respondent, 0, 2, _nextEvidence(), "", 0);
            vm.prank(accomplice);
            dr.commit(disputes[i], voter, _commitment(disputes[i], voter, 0, bytes32(i)));
        }
        vm.warp(block.timestamp + COMMIT + 1);
        for (uint256 i; i < disputes.length; ++i) {
            vm.prank(accomplice);
            dr.reveal(disputes[i], voter, 0, bytes32(i));
        }
        vm.warp(block.timestamp + REVEAL + 1);
        for (uint256 i; i < disputes.length; ++i) {
            dr.resolve(disputes[i]);
            dr.settle(disputes[i], voter);
        }
        vm.prank(farmer);
        dr.withdraw();
        assertEq(farmer.balance, 10 ether, "(the deposits all came back)");
        assertLe(tm.entity(voter).reputation, 0.5e18, "the voter farmed reputation from its accomplice's disputes");
    }
}

/// @notice Drives the court with appeals on (maxRounds 3, appeal fee doubling per round) through
/// opens, commits, reveals, appeals, resolves, settles and withdrawals, with reputations moving in
/// between. A ghost model keeps, per round, every vote and the tally; it predicts whether each call
/// succeeds, the verdict that stands, every reputation change and every wei owed.
contract AppealHandler is DisputeFixture {
    uint256 internal constant MAX_DISPUTES = 5;
    uint8 internal constant MAX_ROUNDS = 3;
    uint40 internal constant APPEAL_PERIOD = 1800;
    uint96 internal constant APPEAL_FEE = 0.004 ether;
    /// A narrower band than the deployed one (both values are exercised): a verdict moves votes
    /// beyond 55% of all reputation.
    uint64 internal constant APPEAL_BAND = 0.1e18;

    struct GDispute {
        bytes32 claimant;
        bytes32 respondent;
        address claimantController;
        address respondentController;
        uint8 options;
        uint48 snapshot;
        uint8 round;
        uint40 commitDeadline;
        uint40 revealDeadline;
        bool resolved;
        bool void_;
        uint8 verdictRound;
        uint8 outcome;
        uint64 margin;
        uint256 winningWeight;
        uint256 totalWeight;
        uint256 electorate;
        uint256 appealFees;
    }

    struct GVote {
        bytes32 commitment;
        uint8 choice;
        bytes32 salt;
        uint64 weight;
        bool revealed;
    }

    uint256 public gCount;
    mapping(uint256 id => GDispute) internal gd;
    mapping(uint256 id => mapping(uint8 round => mapping(bytes32 voter => GVote))) internal gv;
    mapping(uint256 id => mapping(uint8 round => uint256[8])) internal gTally;
    mapping(uint256 id => mapping(uint8 round => bytes32[])) internal gVoters;
    mapping(uint256 id => mapping(bytes32 voter => bool)) internal gSettled;
    mapping(bytes32 entity => address) internal gController;
    /// Disputes open with the entity as claimant (each holds LOSER of its reputation: s23-rtt R4).
    mapping(bytes32 entity => uint256) internal gOpenClaims;
    mapping(bytes32 entity => uint256) internal gBorn;
    mapping(bytes32 entity => uint64) internal gRep;
    mapping(bytes32 entity => uint256[]) internal histBlock;
    mapping(bytes32 entity => uint256[]) internal histValue;
    mapping(address account => uint256) public gOwed;

    uint256 public mismatches;
    string public lastMismatch;
    /// A commitment accepted from a voter that already had one in the same round.
    uint256 public doubleVotes;
    /// Coverage: appeals accepted, disputes whose standing verdict came from a round above 0.
    uint256 public appeals;
    uint256 public laterRoundVerdicts;
    /// Coverage: voters settled with a reputation change; voters settled that revealed in a
    /// superseded round of a dispute whose standing verdict moves reputation (margin above 0).
    uint256 public movingSettlements;
    uint256 public supersededRevealsSettled;
    /// Coverage: panels that committed together (see `commitPanel`).
    uint256 public panels;
    mapping(bytes4 selector => uint256) public succeeded;

    /// @param openFirst a random campaign starts with one dispute open (steering: no calls are
    /// spent waiting for the first `openDispute`); the scripted campaign opens its own.
    constructor(bool openFirst) {
        _deploy();
        // Two outside parties of the stranger, unverified (reputation 0): with them as the parties
        // every fixture entity may vote, so that a side can hold more than half of all reputation
        // and the feedback moves (a margin above 0).
        for (uint256 i = N_REGISTERED; i < N_ENT; ++i) {
            vm.prank(actors[STRANGER]);
            tm.register(ents[i], ITrustManager.Kind.Avatar);
        }
        for (uint256 i; i < N_ENT; ++i) {
            ITrustManager.Entity memory e = tm.entity(ents[i]);
            gController[ents[i]] = e.controller;
            gRep[ents[i]] = e.reputation;
            if (e.kind != ITrustManager.Kind.None) {
                _pushRep(ents[i], e.reputation);
                gBorn[ents[i]] = block.number;
            }
        }
        vm.roll(block.number + MIN_AGE + 1);
        if (openFirst) _open(uint256(keccak256("first dispute")), 0, 0);
    }

    function _params() internal pure override returns (IDisputeResolution.Params memory) {
        return
            IDisputeResolution.Params(
                MIN_REP,
                MIN_AGE,
                QUORUM,
                COMMIT,
                REVEAL,
                DEPOSIT,
                REWARD,
                PENALTY,
                LOSER,
                APPEAL_PERIOD,
                APPEAL_FEE,
                MAX_ROUNDS,
                APPEAL_BAND
            );
    }

    // ================================================================== actions

    function openDispute(uint256 claimantSeed, uint256 respondentSeed, uint256 optionsSeed, uint256 time) external {
        _tick(time);
        _open(claimantSeed, respondentSeed, optionsSeed);
    }

    function _open(uint256 claimantSeed, uint256 respondentSeed, uint256 optionsSeed) internal {
        if (gCount >= MAX_DISPUTES) return;
        // three times in four the outside parties (in either order), else two fixture entities
        uint256 ci = _mix(claimantSeed, 1) % N_REGISTERED;
        uint256 ri = _mix(respondentSeed, 2) % N_REGISTERED;
        if (ri == ci) ri = (ci + 1) % N_REGISTERED;
        if (_mix(claimantSeed, 4) % 4 != 0) {
            // a fixture entity claims (an outside party, unverified at reputation 0, has no stake to
            // claim with: s23-rtt R4) against an outside party
            ri = N_REGISTERED + (_mix(claimantSeed, 5) % 2);
        }
        (bytes32 claimant, bytes32 respondent) = (ents[ci], ents[ri]);
        uint8 options = uint8(2 + (_mix(optionsSeed, 3) % 3));
        address caller = gController[claimant];
        // a claimant answers for each open claim with LOSER of its reputation (s23-rtt R4)
        bool staked =
            tm.hasIdentityStanding(claimant) && tm.entity(claimant).reputation >= (gOpenClaims[claimant] + 1) * LOSER;
        bytes32 evidence = _nextEvidence();
        vm.prank(caller);
        (bool ok, ) = address(dr).call{value: DEPOSIT}(
            abi.encodeCall(IDisputeResolution.openDispute, (claimant, respondent, 0, options, evidence, "", 0))
        );
        _expect(ok, staked, "openDispute");
        if (!ok) return;
        ++succeeded[IDisputeResolution.openDispute.selector];
        ++gOpenClaims[claimant];
        GDispute storage d = gd[++gCount];
        d.claimant = claimant;
        d.respondent = respondent;
        d.claimantController = caller;
        d.respondentController = gController[respondent];
        d.options = options;
        d.snapshot = uint48(block.number - 1);
        for (uint256 i; i < N_ENT; ++i) d.electorate += repAt(ents[i], d.snapshot);
        d.commitDeadline = uint40(block.timestamp + COMMIT);
        d.revealDeadline = uint40(block.timestamp + COMMIT + REVEAL);
    }

    function commit(
        uint256 disputeSeed,
        uint256 voterSeed,
        uint256 choiceSeed,
        uint256 saltSeed,
        uint256 time
    ) external {
        _tick(time);
        if (gCount == 0) return;
        uint256 id = _pick(disputeSeed, IDisputeResolution.Phase.Commit);
        GDispute storage d = gd[id];
        uint8 r = d.round;
        bytes32 voter = ents[_mix(voterSeed, 1) % N_REGISTERED];
        bytes32[] storage vs = gVoters[id][r];
        // one time in eight, a voter that already committed in this round tries again
        if (_mix(voterSeed, 2) % 8 == 0 && vs.length != 0) voter = vs[_mix(voterSeed, 3) % vs.length];
        uint256 range = _mix(choiceSeed, 1) % 6 == 0 ? uint256(d.options) + 2 : d.options; // sometimes out of range
        uint8 choice = uint8(_mix(choiceSeed, 2) % range);
        // usually the round's favourite option, so that one side often holds a majority of all reputation
        if (_mix(choiceSeed, 3) % 4 != 0) choice = _favourite(id, r, d.options);
        _commitOne(id, voter, choice, saltSeed);
    }

    /// A panel commits at once (steering: a round with most of the reputation behind one option,
    /// so that verdicts move reputation and appeals follow): each fixture entity commits with
    /// probability 7/8, fifteen times in sixteen for the round's favourite option.
    function commitPanel(uint256 disputeSeed, uint256 seed, uint256 time) external {
        _tick(time);
        if (gCount == 0) return;
        uint256 id = _pick(disputeSeed, IDisputeResolution.Phase.Commit);
        GDispute storage d = gd[id];
        if (d.resolved || block.timestamp > d.commitDeadline) return;
        ++panels;
        uint8 r = d.round;
        for (uint256 i; i < N_REGISTERED; ++i) {
            uint256 x = _mix(seed, 100 + i);
            if (x % 8 == 0 || gv[id][r][ents[i]].commitment != bytes32(0)) continue;
            uint8 choice = (x >> 8) % 16 == 0 ? uint8((x >> 16) % d.options) : _favourite(id, r, d.options);
            _commitOne(id, ents[i], choice, x >> 24);
        }
    }

    function _favourite(uint256 id, uint8 r, uint8 options) internal pure returns (uint8) {
        return uint8(uint256(keccak256(abi.encode(id, r))) % options);
    }

    function _commitOne(uint256 id, bytes32 voter, uint8 choice, uint256 saltSeed) internal {
        GDispute storage d = gd[id];
        uint8 r = d.round;
        bytes32 salt = keccak256(abi.encode("appeal salt", saltSeed, id, r));
        bytes32 c = _commitment(id, voter, choice, salt);
        bool want = !d.resolved && block.timestamp <= d.commitDeadline && gv[id][r][voter].commitment == bytes32(0);
        vm.prank(gController[voter]);
        (bool ok, ) = address(dr).call(abi.encodeCall(IDisputeResolution.commit, (id, voter, c)));
        _expect(ok, want, "commit");
        if (!ok) return;
        ++succeeded[IDisputeResolution.commit.selector];
        if (gv[id][r][voter].commitment != bytes32(0)) ++doubleVotes;
        else gVoters[id][r].push(voter);
        gv[id][r][voter] = GVote(c, choice, salt, 0, false);
    }

    function reveal(uint256 disputeSeed, uint256 voterSeed, uint256 modeSeed, uint256 time) external {
        _tick(time);
        if (gCount == 0) return;
        uint256 id = _pick2(disputeSeed, IDisputeResolution.Phase.Reveal, IDisputeResolution.Phase.Commit);
        GDispute storage d = gd[id];
        bytes32[] storage vs = gVoters[id][d.round];
        if (vs.length == 0) return;
        if (!d.resolved && block.timestamp <= d.commitDeadline && _mix(modeSeed, 1) % 4 != 0)
            vm.warp(uint256(d.commitDeadline) + 1 + (_mix(modeSeed, 2) % 20 minutes));
        _revealOne(id, vs[_mix(voterSeed, 1) % vs.length]);
    }

    /// The panel reveals at once (steering, see `commitPanel`): time moves into the reveal phase
    /// if it is still before it, and each committed voter reveals with probability 7/8.
    function revealPanel(uint256 disputeSeed, uint256 seed, uint256 time) external {
        _tick(time);
        if (gCount == 0) return;
        uint256 id = _pick2(disputeSeed, IDisputeResolution.Phase.Reveal, IDisputeResolution.Phase.Commit);
        GDispute storage d = gd[id];
        bytes32[] storage vs = gVoters[id][d.round];
        // a round moves on to its reveals once a panel has committed (three voters or more)
        if (d.resolved || block.timestamp > d.revealDeadline || vs.length < 3) return;
        if (block.timestamp <= d.commitDeadline) vm.warp(uint256(d.commitDeadline) + 1 + (_mix(seed, 1) % 20 minutes));
        for (uint256 i; i < vs.length; ++i) {
            if (_mix(seed, 200 + i) % 8 == 0 || gv[id][d.round][vs[i]].revealed) continue;
            _revealOne(id, vs[i]);
        }
    }

    function _revealOne(uint256 id, bytes32 voter) internal {
        GDispute storage d = gd[id];
        uint8 r = d.round;
        GVote storage v = gv[id][r][voter];
        bool party = gController[voter] == d.claimantController || gController[voter] == d.respondentController;
        bool want =
            !d.resolved &&
                block.timestamp > d.commitDeadline &&
                block.timestamp <= d.revealDeadline &&
                !v.revealed &&
                v.choice < d.options &&
                !party &&
                _eligible(d, voter);
        vm.prank(gController[voter]);
        (bool ok, ) = address(dr).call(abi.encodeCall(IDisputeResolution.reveal, (id, voter, v.choice, v.salt)));
        _expect(ok, want, "reveal");
        if (!ok) return;
        ++succeeded[IDisputeResolution.reveal.selector];
        v.revealed = true;
        v.weight = uint64(repAt(voter, d.snapshot));
        gTally[id][r][v.choice] += v.weight;
    }

    /// The losing side's controller appeals (sometimes someone else, or with the wrong fee).
    function appeal(uint256 disputeSeed, uint256 modeSeed, uint256 time) external {
        _tick(time);
        if (gCount == 0) return;
        uint256 id = _pick2(disputeSeed, IDisputeResolution.Phase.Appeal, IDisputeResolution.Phase.Reveal);
        GDispute storage d = gd[id];
        // time jumps into the appeal window of a round whose reveals are in (one time in eight of
        // any round: an appeal of a void round is refused)
        if (!d.resolved && block.timestamp <= d.revealDeadline && (_roundDecided(id) || _mix(modeSeed, 1) % 8 == 0))
            vm.warp(uint256(d.revealDeadline) + 1 + (_mix(modeSeed, 2) % APPEAL_PERIOD));
        (uint256 total, uint256 best, uint8 winner, ) = _decide(id, d.round, d.options, d.outcome);
        address loser = winner == 0 ? d.respondentController : d.claimantController;
        address caller = _mix(modeSeed, 3) % 6 == 0 ? actors[_mix(modeSeed, 4) % N_ACTORS] : loser;
        uint256 fee = uint256(APPEAL_FEE) << d.round;
        uint256 value = _mix(modeSeed, 5) % 8 == 0 ? fee / 2 : fee;
        bool want =
            !d.resolved &&
                block.timestamp > d.revealDeadline &&
                block.timestamp <= uint256(d.revealDeadline) + APPEAL_PERIOD &&
                d.round + 1 < MAX_ROUNDS &&
                !_void(total, d.round) &&
                caller == loser &&
                value == fee;
        vm.prank(caller);
        (bool ok, ) = address(dr).call{value: value}(abi.encodeCall(IDisputeResolution.appeal, (id)));
        _expect(ok, want, "appeal");
        if (!ok) return;
        ++succeeded[IDisputeResolution.appeal.selector];
        ++appeals;
        _record(d, total, best, winner);
        d.appealFees += value;
        d.round += 1;
        d.commitDeadline = uint40(block.timestamp + COMMIT);
        d.revealDeadline = uint40(block.timestamp + COMMIT + REVEAL);
    }

    function resolve(uint256 disputeSeed, uint256 modeSeed, uint256 time) external {
        _tick(time);
        if (gCount == 0) return;
        uint256 id = _pick2(disputeSeed, IDisputeResolution.Phase.Resolvable, IDisputeResolution.Phase.Appeal);
        GDispute storage d = gd[id];
        // time jumps past the deadlines of a round whose reveals are in, or whose reveal deadline
        // passed (one time in eight of any round: it ends void)
        if (
            !d.resolved &&
            _mix(modeSeed, 1) % 4 != 0 &&
            (block.timestamp > d.revealDeadline || _roundDecided(id) || _mix(modeSeed, 3) % 8 == 0)
        ) {
            // past the appeal window one time in four in round 0 (appeals first), else one in two
            uint256 skip = _mix(modeSeed, 2) % (d.round == 0 ? 4 : 2) == 0 ? APPEAL_PERIOD : 0;
            uint256 target = uint256(d.revealDeadline) + 1 + skip;
            if (target > block.timestamp) vm.warp(target);
        }
        (uint256 total, uint256 best, uint8 winner, ) = _decide(id, d.round, d.options, d.outcome);
        bool void_ = _void(total, d.round);
        bool want =
            !d.resolved &&
                block.timestamp > d.revealDeadline &&
                (void_ || d.round + 1 >= MAX_ROUNDS || block.timestamp > uint256(d.revealDeadline) + APPEAL_PERIOD);
        vm.prank(actors[STRANGER]);
        (bool ok, ) = address(dr).call(abi.encodeCall(IDisputeResolution.resolve, (id)));
        _expect(ok, want, "resolve");
        if (!ok) return;
        ++succeeded[IDisputeResolution.resolve.selector];
        d.resolved = true;
        --gOpenClaims[d.claimant];
        if (void_ && d.round > 0) {
            // the appeal round missed its quorum: the appealed verdict (recorded at appeal) stands
            d.verdictRound = d.round - 1;
        } else {
            d.verdictRound = d.round;
            if (void_) {
                d.void_ = true;
                d.totalWeight = total;
                gOwed[d.claimantController] += DEPOSIT;
                return;
            }
            _record(d, total, best, winner);
        }
        if (d.verdictRound > 0) ++laterRoundVerdicts;
        bool upheld = d.outcome == 0;
        _adjust(upheld ? d.respondent : d.claimant, -int256(uint256(LOSER)));
        gOwed[upheld ? d.claimantController : d.respondentController] += DEPOSIT + d.appealFees;
    }

    /// Anyone settles a voter: every round it committed in at once.
    function settle(uint256 disputeSeed, uint256 voterSeed, uint256 time) external {
        _tick(time);
        if (gCount == 0) return;
        uint256 id = _pick(disputeSeed, IDisputeResolution.Phase.Resolved);
        _settleOne(id, ents[_mix(voterSeed, 1) % N_REGISTERED]);
    }

    /// Every fixture entity of a dispute is settled (steering: the voters of superseded rounds are
    /// reached); those that never committed, or were settled already, are refused as the model says.
    function settleAll(uint256 disputeSeed, uint256 time) external {
        _tick(time);
        if (gCount == 0) return;
        uint256 id = _pick(disputeSeed, IDisputeResolution.Phase.Resolved);
        for (uint256 i; i < N_REGISTERED; ++i) _settleOne(id, ents[i]);
    }

    function _settleOne(uint256 id, bytes32 voter) internal {
        GDispute storage d = gd[id];
        bool committed;
        bool superseded;
        int256 change;
        for (uint8 r; r <= d.round; ++r) {
            GVote storage v = gv[id][r][voter];
            if (v.commitment == bytes32(0)) continue;
            committed = true;
            if (r != d.verdictRound && v.revealed && d.margin != 0) superseded = true;
            change += _feedback(d, v, voter, r == d.verdictRound);
        }
        bool want = d.resolved && committed && !gSettled[id][voter];
        vm.prank(actors[STRANGER]);
        (bool ok, bytes memory ret) = address(dr).call(abi.encodeCall(IDisputeResolution.settle, (id, voter)));
        _expect(ok, want, "settle");
        if (!ok) return;
        ++succeeded[IDisputeResolution.settle.selector];
        gSettled[id][voter] = true;
        if (change != 0) ++movingSettlements;
        if (superseded) ++supersededRevealsSettled;
        if (abi.decode(ret, (int256)) != change) _mismatch("settle's reputation change");
        if (change != 0) _adjust(voter, change);
    }

    function withdraw(uint256 actorSeed, uint256 time) external {
        _tick(time);
        address caller = actors[_mix(actorSeed, 1) % N_ACTORS];
        uint256 owedNow = gOwed[caller];
        uint256 before = caller.balance;
        vm.prank(caller);
        (bool ok, ) = address(dr).call(abi.encodeCall(IDisputeResolution.withdraw, ()));
        _expect(ok, owedNow != 0, "withdraw");
        if (!ok) return;
        ++succeeded[IDisputeResolution.withdraw.selector];
        if (caller.balance - before != owedNow) _mismatch("withdraw paid other than owed");
        gOwed[caller] = 0;
    }

    /// The feedback role moves a reputation (other disputes, agreements), so that snapshots matter.
    function adjustReputation(uint256 entitySeed, uint256 amountSeed, uint256 time) external {
        _tick(time);
        bytes32 e = ents[_mix(entitySeed, 1) % N_REGISTERED];
        int256 amount = int256(amountSeed % 0.6e18) - 0.3e18;
        vm.prank(address(dr)); // the feedback role is the court's alone
        tm.adjustReputation(e, amount);
        _adjust(e, amount);
    }

    /// Time passes (up to an hour).
    function wait(uint256 time) external {
        vm.warp(block.timestamp + (time % 1 hours));
        vm.roll(block.number + 1);
    }

    /// The actions a random campaign draws from, weighted by repetition (see the invariant suite).
    function actions() external pure returns (bytes4[] memory sel) {
        sel = new bytes4[](24);
        sel[0] = AppealHandler.openDispute.selector;
        sel[1] = AppealHandler.commit.selector;
        sel[2] = AppealHandler.commitPanel.selector;
        sel[3] = AppealHandler.commitPanel.selector;
        sel[4] = AppealHandler.commitPanel.selector;
        sel[5] = AppealHandler.commitPanel.selector;
        sel[6] = AppealHandler.reveal.selector;
        sel[7] = AppealHandler.revealPanel.selector;
        sel[8] = AppealHandler.revealPanel.selector;
        sel[9] = AppealHandler.revealPanel.selector;
        sel[10] = AppealHandler.revealPanel.selector;
        sel[11] = AppealHandler.appeal.selector;
        sel[12] = AppealHandler.appeal.selector;
        sel[13] = AppealHandler.appeal.selector;
        sel[14] = AppealHandler.resolve.selector;
        sel[15] = AppealHandler.resolve.selector;
        sel[16] = AppealHandler.resolve.selector;
        sel[17] = AppealHandler.settle.selector;
        sel[18] = AppealHandler.settleAll.selector;
        sel[19] = AppealHandler.settleAll.selector;
        sel[20] = AppealHandler.settleAll.selector;
        sel[21] = AppealHandler.withdraw.selector;
        sel[22] = AppealHandler.adjustReputation.selector;
        sel[23] = AppealHandler.wait.selector;
    }

    // ================================================================== model views

    function repAt(bytes32 e, uint256 b) public view returns (uint256 r) {
        uint256[] storage bs = histBlock[e];
        for (uint256 k; k < bs.length && bs[k] <= b; ++k) r = histValue[e][k];
    }

    function ghostDispute(uint256 id) external view returns (GDispute memory) {
        return gd[id];
    }

    function ghostVote(uint256 id, uint8 round, bytes32 voter) external view returns (GVote memory) {
        return gv[id][round][voter];
    }

    function ghostVoters(uint256 id, uint8 round) external view returns (bytes32[] memory) {
        return gVoters[id][round];
    }

    function ghostTally(uint256 id, uint8 round) external view returns (uint256[8] memory) {
        return gTally[id][round];
    }

    function ghostSettled(uint256 id, bytes32 voter) external view returns (bool) {
        return gSettled[id][voter];
    }

    function ghostRep(bytes32 e) external view returns (uint64) {
        return gRep[e];
    }

    /// The phase the model expects (IDisputeResolution.Phase).
    function ghostPhase(uint256 id) public view returns (IDisputeResolution.Phase) {
        GDispute storage d = gd[id];
        if (d.resolved) return IDisputeResolution.Phase.Resolved;
        if (block.timestamp <= d.commitDeadline) return IDisputeResolution.Phase.Commit;
        if (block.timestamp <= d.revealDeadline) return IDisputeResolution.Phase.Reveal;
        (uint256 total, , , ) = _decide(id, d.round, d.options, d.outcome);
        if (
            d.round + 1 < MAX_ROUNDS &&
            !_void(total, d.round) &&
            block.timestamp <= uint256(d.revealDeadline) + APPEAL_PERIOD
        ) return IDisputeResolution.Phase.Appeal;
        return IDisputeResolution.Phase.Resolvable;
    }

    function entities() external view returns (bytes32[N_ENT + 1] memory) {
        return ents;
    }

    function allActors() external view returns (address[N_ACTORS] memory) {
        return actors;
    }

    function contracts() external view returns (TrustManager, DisputeResolution) {
        return (tm, dr);
    }

    // ================================================================== internals

    /// Eq. 22 over the model's tally of one round, with the contract's majority and tie rules.
    function _decide(
        uint256 id,
        uint8 round,
        uint8 options,
        uint8 appealed
    ) internal view returns (uint256 total, uint256 best, uint8 winner, uint8 tied) {
        return _decideModel(gTally[id][round], options, round > 0, appealed);
    }

    /// Each appeal round needs twice the previous quorum.
    function _void(uint256 total, uint8 round) internal pure returns (bool) {
        return total == 0 || total < uint256(QUORUM) << round;
    }

    function _record(GDispute storage d, uint256 total, uint256 best, uint8 winner) internal {
        d.outcome = winner;
        d.winningWeight = best;
        d.totalWeight = total;
        d.margin = _marginModel(best, d.electorate, APPEAL_BAND);
    }

    /// One round's part of a voter's settlement: revealed votes count in the verdict round only;
    /// a withheld vote costs the penalty in any round (if the voter was eligible).
    function _feedback(
        GDispute storage d,
        GVote storage v,
        bytes32 voter,
        bool verdictRound
    ) internal view returns (int256) {
        if (v.revealed) {
            if (!verdictRound || d.void_ || d.margin == 0) return 0;
            uint256 scaled = uint256(d.margin) * v.weight;
            uint256 losing = d.totalWeight - d.winningWeight;
            if (v.choice == d.outcome)
                return losing == 0 ? int256(0) : int256((uint256(REWARD) * scaled) / (WAD * d.winningWeight));
            return -int256((uint256(PENALTY) * scaled) / (WAD * losing));
        }
        bool party = gController[voter] == d.claimantController || gController[voter] == d.respondentController;
        return !party && _eligible(d, voter) && _couldRevealFlags(voter) ? -int256(uint256(PENALTY)) : int256(0);
    }

    function _eligible(GDispute storage d, bytes32 voter) internal view returns (bool) {
        uint256 rep = repAt(voter, d.snapshot);
        return rep != 0 && rep >= MIN_REP && gBorn[voter] + MIN_AGE <= d.snapshot;
    }

    /// The model's tally of the current round reaches its quorum (its verdict stands if the round ends now).
    function _roundDecided(uint256 id) internal view returns (bool) {
        (uint256 total, , , ) = _decide(id, gd[id].round, gd[id].options, gd[id].outcome);
        return !_void(total, gd[id].round);
    }

    /// Usually a dispute the model says is in phase `want`, else one in phase `otherwise`; one time
    /// in eight any known one.
    function _pick2(
        uint256 seed,
        IDisputeResolution.Phase want,
        IDisputeResolution.Phase otherwise
    ) internal view returns (uint256) {
        uint256 id = _pick(seed, want);
        if (ghostPhase(id) == want || _mix(seed, 8) % 8 == 0) return id;
        uint256 start = (_mix(seed, 9) >> 8) % gCount;
        for (uint256 k; k < gCount; ++k) {
            uint256 other = 1 + ((start + k) % gCount);
            if (ghostPhase(other) == otherwise) return other;
        }
        return id;
    }

    /// Usually a dispute the model says is in phase `want`; one time in eight any known one.
    function _pick(uint256 seed, IDisputeResolution.Phase want) internal view returns (uint256) {
        seed = _mix(seed, 7);
        uint256 start = (seed >> 8) % gCount;
        if (seed % 8 != 0) {
            for (uint256 k; k < gCount; ++k) {
                uint256 id = 1 + ((start + k) % gCount);
                if (ghostPhase(id) == want) return id;
            }
        }
        return 1 + start;
    }

    function _tick(uint256 time) internal {
        vm.warp(block.timestamp + (time % 3 minutes));
        if (_mix(time, 9) % 5 != 0) vm.roll(block.number + 1);
    }

    function _adjust(bytes32 e, int256 amount) internal {
        int256 r = int256(uint256(gRep[e])) + amount;
        uint256 updated =
            r <= 0
                ? 0
                : r >= int256(WAD)
                    ? WAD
                    : uint256(r);
        gRep[e] = uint64(updated);
        _pushRep(e, updated);
    }

    function _pushRep(bytes32 e, uint256 value) internal {
        uint256[] storage bs = histBlock[e];
        if (bs.length != 0 && bs[bs.length - 1] == block.number) histValue[e][bs.length - 1] = value;
        else {
            bs.push(block.number);
            histValue[e].push(value);
        }
    }

    function _expect(bool ok, bool want, string memory what) internal {
        if (ok != want)
            _mismatch(
                string.concat(
                    what,
                    ok ? ": succeeded, the model says it reverts" : ": reverted, the model says it succeeds"
                )
            );
    }

    function _mismatch(string memory what) internal {
        ++mismatches;
        lastMismatch = what;
    }
}

/// @notice Invariants of the court with appeals on, across rounds: each round's tally is the sum
/// of its revealed weights, nobody votes twice in a round, ether is conserved (the court holds
/// exactly what it owes), only the standing verdict's round moves reputation, and every dispute ends.
contract DisputeResolutionAppealInvariantTest is Test {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    uint8 internal constant MAX_ROUNDS = 3;

    AppealHandler internal h;
    TrustManager internal tm;
    DisputeResolution internal dr;
    bytes32[13] internal ents;
    address[7] internal actors;

    function setUp() public {
        vm.roll(100);
        vm.warp(1_700_000_000);
        h = new AppealHandler(true);
        (tm, dr) = h.contracts();
        ents = h.entities();
        actors = h.allActors();
    }

    function targetContracts() public view returns (address[] memory a) {
        a = new address[](1);
        a[0] = address(h);
    }

    function excludeSenders() public view returns (address[] memory a) {
        a = new address[](actors.length);
        for (uint256 i; i < actors.length; ++i) a[i] = actors[i];
    }

    /// The actions, weighted by repetition (forge draws uniformly from this list): the panel
    /// actions, appeals and resolves are frequent enough that random campaigns reach appeals,
    /// verdicts from later rounds and superseded voters under a moving verdict (measured by
    /// `DisputeResolutionAppealCoverageTest.test_randomCampaignsReachTheAppealStates`).
    function targetSelectors() public view returns (FuzzSelector[] memory s) {
        s = new FuzzSelector[](1);
        s[0] = FuzzSelector(address(h), h.actions());
    }

    /// Every call succeeded or reverted as the model predicted, and the contract's phase is the model's.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 128
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 128
    function invariant_appealsEveryCallMatchesTheModel() public view {
        assertEq(h.mismatches(), 0, h.lastMismatch());
        for (uint256 id = 1; id <= dr.disputeCount(); ++id)
            assertEq(uint256(dr.phase(id)), uint256(h.ghostPhase(id)), "phase differs from the model");
    }

    /// In every round of every dispute, the tally is the sum of that round's revealed weights (read
    /// from the contract's votes) and the model's.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 128
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 128
    function invariant_appealsTallyPerRoundIsTheSumOfRevealedWeights() public view {
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            uint8 last = dr.dispute(id).round;
            for (uint8 r; r <= last; ++r) {
                uint256[8] memory t = dr.tallyIn(id, r);
                uint256[8] memory g = h.ghostTally(id, r);
                uint256[8] memory sum;
                bytes32[] memory vs = h.ghostVoters(id, r);
                for (uint256 i; i < vs.length; ++i) {
                    IDisputeResolution.Vote memory v = dr.voteIn(id, r, vs[i]);
                    if (v.revealed) sum[v.choice] += v.weight;
                }
                for (uint256 c; c < 8; ++c) {
                    assertEq(t[c], sum[c], "a round's tally differs from its revealed weights");
                    assertEq(t[c], g[c], "a round's tally differs from the model");
                }
            }
        }
    }

    /// Nobody votes twice in a round: no second commitment was ever accepted in a round, and every
    /// entity's vote in every round is the model's (one slot per dispute, round and voter).
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 128
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 128
    function invariant_appealsNoDoubleVoteInARound() public view {
        assertEq(h.doubleVotes(), 0, "a second commitment in one round was accepted");
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            uint8 last = dr.dispute(id).round;
            for (uint8 r; r <= last; ++r) {
                for (uint256 e; e < ents.length; ++e) {
                    IDisputeResolution.Vote memory v = dr.voteIn(id, r, ents[e]);
                    AppealHandler.GVote memory g = h.ghostVote(id, r, ents[e]);
                    assertEq(v.commitment, bytes20(g.commitment), "commitment differs from the model");
                    assertTrue(v.revealed == g.revealed, "revealed differs from the model");
                    assertEq(v.weight, g.weight, "weight differs from the model");
                    if (v.commitment != bytes20(0))
                        assertTrue(v.settled == h.ghostSettled(id, ents[e]), "settled differs from the model");
                }
            }
        }
    }

    /// Ether is conserved: the court holds exactly the deposits and appeal fees of unresolved
    /// disputes plus what it owes; fees and what is owed are the model's.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 128
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 128
    function invariant_appealsFeesAndDepositsConserved() public view {
        uint256 held;
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            IDisputeResolution.Dispute memory d = dr.dispute(id);
            assertEq(d.appealFees, h.ghostDispute(id).appealFees, "appeal fees differ from the model");
            if (!d.resolved) held += uint256(d.deposit) + d.appealFees;
        }
        for (uint256 a; a < actors.length; ++a) {
            assertEq(dr.owed(actors[a]), h.gOwed(actors[a]), "owed differs from the model");
            held += dr.owed(actors[a]);
        }
        assertEq(address(dr).balance, held, "ether held != deposits and fees of unresolved disputes + owed");
    }

    /// Only the standing verdict's round moves reputation: every reputation is the model's, which
    /// applies the loser's penalty of the standing verdict, the feedback of that verdict's round,
    /// and the penalty for a vote withheld in any round; the standing verdict is the model's.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 128
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 128
    function invariant_appealsOnlyTheStandingVerdictMovesReputation() public view {
        for (uint256 e; e < ents.length; ++e)
            assertEq(tm.entity(ents[e]).reputation, h.ghostRep(ents[e]), "reputation differs from the model");
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            IDisputeResolution.Dispute memory d = dr.dispute(id);
            AppealHandler.GDispute memory g = h.ghostDispute(id);
            assertEq(d.round, g.round, "round");
            assertEq(d.electorate, g.electorate, "electorate");
            assertTrue(d.resolved == g.resolved && d.void_ == g.void_, "resolved or void differs");
            if (!d.resolved) continue;
            assertEq(d.verdictRound, g.verdictRound, "verdict round");
            assertEq(d.outcome, g.outcome, "outcome");
            assertEq(d.margin, g.margin, "margin");
            assertEq(d.winningWeight, g.winningWeight, "winning weight");
            assertEq(d.totalWeight, g.totalWeight, "total weight");
        }
    }

    /// Every dispute ends: fewer than maxRounds rounds, and after its last deadlines anyone resolves
    /// it, settles every voter of every round and every payee withdraws, leaving no ether behind
    /// (checked on a copy of the state that is thrown away).
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 128
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 128
    function invariant_appealsEveryDisputeEnds() public {
        uint256 snap = vm.snapshotState();
        address stranger = actors[6];
        for (uint256 id = 1; id <= dr.disputeCount(); ++id) {
            IDisputeResolution.Dispute memory d = dr.dispute(id);
            assertLt(d.round, MAX_ROUNDS, "more rounds than maxRounds");
            if (!d.resolved) {
                uint256 end = uint256(d.revealDeadline) + dr.params().appealPeriod + 1;
                if (block.timestamp < end) vm.warp(end);
                vm.prank(stranger);
                (bool ok, ) = address(dr).call(abi.encodeCall(IDisputeResolution.resolve, (id)));
                assertTrue(ok, "resolve is not reachable after the last deadlines");
            }
            for (uint256 e; e < ents.length; ++e) {
                bool committed;
                bool settled;
                for (uint8 r; r <= d.round; ++r) {
                    IDisputeResolution.Vote memory v = dr.voteIn(id, r, ents[e]);
                    if (v.commitment != bytes20(0)) (committed, settled) = (true, v.settled);
                }
                if (!committed || settled) continue;
                vm.prank(stranger);
                (bool done, ) = address(dr).call(abi.encodeCall(IDisputeResolution.settle, (id, ents[e])));
                assertTrue(done, "settle is not reachable after resolve");
            }
        }
        for (uint256 a; a < actors.length; ++a) {
            if (dr.owed(actors[a]) == 0) continue;
            vm.prank(actors[a]);
            dr.withdraw();
        }
        assertEq(address(dr).balance, 0, "ether is stuck after every dispute ended");
        vm.revertToState(snap);
    }
}

/// @notice The appeal handler reaches what the appeal invariants are about (appeals accepted, a
/// verdict standing from a round above 0, settlements), on the model all the way: a scripted
/// campaign of five disputes, each voted, appealed, voted again, resolved, settled and paid out.
contract DisputeResolutionAppealCoverageTest is Test {
    function test_appealHandlerReachesLaterRoundsOnTheModel() public {
        vm.roll(100);
        vm.warp(1_700_000_000);
        AppealHandler h = new AppealHandler(false);
        for (uint256 d; d < 5; ++d) {
            uint256 s = uint256(keccak256(abi.encode("appeal coverage", d)));
            h.openDispute(s, s >> 8, s >> 16, 0);
            for (uint256 round; round < 3; ++round) {
                for (uint256 k; k < 24; ++k) {
                    uint256 c = uint256(keccak256(abi.encode(s, round, k, "commit")));
                    h.commit(c, c >> 8, c >> 16, c >> 24, 0);
                }
                for (uint256 k; k < 24; ++k) {
                    uint256 r = uint256(keccak256(abi.encode(s, round, k, "reveal")));
                    h.reveal(r, r >> 8, r >> 16, 0);
                }
                for (uint256 k; k < 3; ++k) {
                    uint256 a = uint256(keccak256(abi.encode(s, round, k, "appeal")));
                    h.appeal(a, a >> 8, 0);
                }
            }
            for (uint256 k; k < 2; ++k) h.resolve(s >> (k * 8), uint256(keccak256(abi.encode(s, k))), 0);
            for (uint256 k; k < 30; ++k) {
                uint256 t = uint256(keccak256(abi.encode(s, k, "settle")));
                h.settle(t, t >> 8, 0);
            }
            for (uint256 k; k < 7; ++k) h.withdraw(k, 0);
        }
        assertEq(h.mismatches(), 0, h.lastMismatch());
        assertGe(h.appeals(), 2, "fewer than two appeals");
        assertGe(h.laterRoundVerdicts(), 1, "no verdict stood from a round above 0");
        assertGe(h.succeeded(IDisputeResolution.settle.selector), 5, "fewer than five settlements");
        assertGe(h.movingSettlements(), 1, "no settlement moved a reputation");
        // A superseded round's voter settled under a moving verdict: since s23-rtt R4 the parties of most
        // disputes are a fixture entity (it cannot vote) and an outside party, and this script's five disputes
        // no longer reach that state; test_randomCampaignsReachTheAppealStates asserts it (one campaign in eight).
    }

    event log_named_uint(string key, uint256 val);

    /// The random campaigns of the invariant suite reach the appeal states, measured: 32 campaigns
    /// of 128 calls (the suite's depth), each call an action drawn uniformly from
    /// `AppealHandler.actions()` (as forge draws from `targetSelectors`) with random arguments (the
    /// handler mixes every seed). At least one campaign in eight must settle a voter of a
    /// superseded round under a verdict that moves reputation (what a planted bug, superseded
    /// rounds moving reputation, needs in order to show; the invariants are checked after every
    /// call of 16 to 24 campaigns per invariant), at least half must accept an appeal, at least
    /// one in eight must end with a verdict from a later round, and every call stays on the model.
    function test_randomCampaignsReachTheAppealStates() public {
        uint256 runs = 32;
        uint256 withAppeal;
        uint256 withLaterVerdict;
        uint256 withSuperseded;
        uint256 withMoving;
        for (uint256 run; run < runs; ++run) {
            vm.roll(100);
            vm.warp(1_700_000_000);
            AppealHandler h = new AppealHandler(true);
            bytes4[] memory sel = h.actions();
            for (uint256 k; k < 128; ++k) {
                uint256 x = uint256(keccak256(abi.encode("random campaign", run, k)));
                (bool ok, ) = address(h).call(
                    abi.encodeWithSelector(sel[x % sel.length], x >> 8, x >> 40, x >> 72, x >> 104, x >> 136)
                );
                assertTrue(ok, "a handler action reverted");
            }
            assertEq(h.mismatches(), 0, h.lastMismatch());
            if (h.appeals() != 0) ++withAppeal;
            if (h.laterRoundVerdicts() != 0) ++withLaterVerdict;
            if (h.supersededRevealsSettled() != 0) ++withSuperseded;
            if (h.movingSettlements() != 0) ++withMoving;
        }
        emit log_named_uint("campaigns", runs);
        emit log_named_uint("with an appeal", withAppeal);
        emit log_named_uint("with a verdict from a round above 0", withLaterVerdict);
        emit log_named_uint("with a settlement that moved a reputation", withMoving);
        emit log_named_uint("with a superseded voter settled under a moving verdict", withSuperseded);
        assertGe(withAppeal * 2, runs, "fewer than half the campaigns appealed");
        assertGe(withLaterVerdict * 8, runs, "fewer than one campaign in eight ended with a later round's verdict");
        assertGe(
            withSuperseded * 8,
            runs,
            "fewer than one campaign in eight settled a superseded voter under a moving verdict"
        );
    }
}
