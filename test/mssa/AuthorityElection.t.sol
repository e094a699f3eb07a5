// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {AuthorityElection} from "../../contracts/mssa/AuthorityElection.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";
import {BordaCount} from "../../contracts/libraries/BordaCount.sol";

/// @notice Drives an AuthorityElection (m = 2 seats, quorum 2, 100 s stages, small caps) from eleven
/// accounts: eight actors (two of them the genesis authorities), the operator, a detector and an
/// outsider. Every action calls the contract as a random account with valid-looking arguments, and a
/// plain model (the ghost state) says what the contract must accept and what it must compute. A
/// disagreement is counted under its property; the invariants require every count to stay zero.
/// @dev `cautious` handlers mostly close a nomination stage only when it has enough eligible
/// nominees (in the same step as the last warp) and keep the operator's roles, so that rounds reach
/// the vote and keep turning; the free handler moves time at random and aborts rounds.
contract AuthorityElectionHandler is Test {
    // ------------------------------------------------------------------ setup

    uint8 public constant SEATS = 2;
    uint8 public constant QUORUM = 2;
    uint32 public constant NOMINATION = 600;
    uint32 public constant VOTING = 600;
    uint256 public constant ACTORS = 8;

    address public constant ADMIN = address(0xAD);
    address public constant DETECTOR = address(0xDE7EC7);
    address public constant OUTSIDER = address(0x0B5E);

    bytes32 public constant ADMIN_ROLE = 0x00;
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    bytes32 public constant DETECTOR_ROLE = keccak256("DETECTOR_ROLE");
    bytes32 public constant OTHER_ROLE = keccak256("OTHER_ROLE");

    /// Properties whose violations are counted.
    uint256 public constant DOUBLE = 0; // a second nomination or ballot in one round accepted
    uint256 public constant MEMBERS_ONLY = 1; // a non-member nominated, was nominated or voted
    uint256 public constant ATTEST = 2; // an attestation by a non-sitting or repeated authority
    uint256 public constant ROLES = 3; // a role-gated call by an account without the role
    uint256 public constant STAGE = 4; // a call accepted in the wrong stage or at the wrong time
    uint256 public constant ELECTION = 5; // candidates or authorities differ from Eqs. 1-4
    uint256 public constant REPORT = 6; // a report accepted that the rules reject, or a wrong id
    uint256 public constant BALLOT = 7; // a malformed ballot accepted
    uint256 public constant MODEL = 8; // a call the rules accept was refused
    uint256 public constant ELECTOR = 9; // a second account enrolled under a held election nullifier (M1)
    uint256 public constant KINDS = 10;
    /// persons whose election nullifiers the handler enrols (h11-red2 M1); the six first members
    /// are persons 0-5 (every member holds one, s20-redm F5)
    uint256 public constant PERSONS = 8;

    AuthorityElection public immutable election;
    bool public immutable cautious;
    address[] internal _accounts;
    uint16[4] internal _caps = [uint16(1), 2, 1, 1];
    uint64[4] internal _weights = [uint64(4e17), 3e17, 2e17, 3e17];

    // ------------------------------------------------------------------ ghost state

    uint256[KINDS] public violations;
    string[KINDS] public lastViolation;
    uint256 public time;

    mapping(address => bool) public ghostMember;
    mapping(address => uint256) public ghostEnrolledAt;
    uint256 public ghostMemberCount;
    /// one account per election nullifier, one election nullifier per account (h11-red2 M1)
    mapping(bytes32 e => address) public ghostElectorOf;
    mapping(address => bytes32) public ghostElectorNullifierOf;
    mapping(bytes32 role => mapping(address account => bool)) public ghostRole;

    uint256 public ghostRound;
    IAuthorityElection.Stage public ghostStage = IAuthorityElection.Stage.Elected;
    uint256 public nominationEnd;
    uint256 public votingEnd;
    mapping(uint256 round => mapping(address => bool)) public ghostNominated;
    /// @dev who stands in a round (stood, or nominated herself): in the race (s25-rtm F1)
    mapping(uint256 round => mapping(address => bool)) public ghostStanding;
    mapping(uint256 round => mapping(address => bool)) public ghostVoted;
    mapping(uint256 round => mapping(address => uint256)) public ghostNominations;
    mapping(uint256 round => address[]) internal _ghostNominees;
    mapping(uint256 round => uint256) public ghostNominationTotal;
    mapping(uint256 round => address[]) internal _ghostCandidates;
    mapping(uint256 round => mapping(uint256 index => uint256)) public ghostTally;
    mapping(uint256 round => uint256[]) internal _ghostFrozen;
    mapping(uint256 round => bytes32) public ghostNominationSeed;
    mapping(uint256 round => bytes32) public ghostElectionSeed;
    mapping(uint256 round => uint256) public ghostBallots;

    uint256 public ghostSittingRound;
    mapping(uint256 round => address[]) internal _ghostAuthorities;
    /// applied, not dismissed reports (uncapped) per person (s20-fixperson F2): an account shares
    /// the record of the last election nullifier it held, kept after removal
    mapping(bytes32 e => uint16[4]) internal _ghostPersonCounts;
    /// reports applied while the person was a nominee of the open round, added to her counts when
    /// the round ends (s20-redm F1): the model folds them eagerly, over every person, at each end
    mapping(bytes32 e => uint16[4]) internal _ghostDeferred;
    mapping(bytes32 id => uint256 round) public ghostDeferredTo;
    mapping(address => bytes32) public ghostPersonOf;
    mapping(bytes32 id => bytes32) public ghostReportPerson;
    mapping(bytes32 id => mapping(address => bool)) public ghostAttested;
    mapping(bytes32 id => uint256) public ghostAttestations;
    mapping(bytes32 id => address[]) internal _ghostAttesters;
    /// a member of the sitting round's authorities removed during its term: its seat is gone
    /// (h11-red2 M2), even if it is enrolled again
    mapping(uint256 round => mapping(address => bool)) public ghostUnseated;
    mapping(bytes32 id => bool) public ghostApplied;
    mapping(bytes32 id => IAuthorityElection.ReportState) public ghostReportState;
    mapping(bytes32 id => address) public ghostReportNode;
    mapping(bytes32 id => uint8) public ghostReportBehaviour;
    bytes32[] internal _reportIds;
    address internal _lastNode;
    uint8 internal _lastBehaviour;
    bytes32 internal _lastEvidence;

    /// Successful calls per action, to see that the runs reach every stage.
    mapping(bytes32 action => uint256) public calls;

    constructor(bool cautious_) {
        cautious = cautious_;
        for (uint256 i; i < ACTORS; ++i) _accounts.push(address(uint160(0x1000 + i)));
        _accounts.push(ADMIN);
        _accounts.push(DETECTOR);
        _accounts.push(OUTSIDER);
        address[] memory genesis = new address[](2);
        genesis[0] = _accounts[0];
        genesis[1] = _accounts[1];
        election = new AuthorityElection(
            ADMIN,
            IAuthorityElection.Params(SEATS, QUORUM, NOMINATION, VOTING, _caps, _weights),
            genesis,
            _genesisNullifiers()
        );
        ghostRole[ADMIN_ROLE][ADMIN] = true;
        ghostRole[REGISTRAR_ROLE][ADMIN] = true;
        vm.startPrank(ADMIN);
        election.grantRole(DETECTOR_ROLE, DETECTOR);
        ghostRole[DETECTOR_ROLE][DETECTOR] = true;
        for (uint256 i = 2; i < 6; ++i) election.enrolElector(_accounts[i], personNullifier(i));
        vm.stopPrank();
        for (uint256 i; i < 6; ++i) {
            ghostMember[_accounts[i]] = true;
            bytes32 e = personNullifier(i);
            (ghostElectorOf[e], ghostElectorNullifierOf[_accounts[i]], ghostPersonOf[_accounts[i]]) = (
                _accounts[i],
                e,
                e
            );
        }
        ghostMemberCount = 6;
        _ghostAuthorities[0] = genesis;
        time = block.timestamp + 1000;
    }

    function _genesisNullifiers() private pure returns (bytes32[] memory g) {
        g = new bytes32[](2);
        (g[0], g[1]) = (personNullifier(0), personNullifier(1));
    }

    // ------------------------------------------------------------------ actions: members

    /// Removes (op 1 mod 3) or enrols as the elector of a person (0, 2: the only way in, s20-redm
    /// F5) an account, as a registrar or anyone.
    function membership(uint256 op, uint256 callerSeed, uint256 whoSeed) external {
        if (op % 3 == 1) _remove(callerSeed, whoSeed);
        else _enrolElector(callerSeed, whoSeed, op / 3);
    }

    /// The election nullifier of person `i` (zero for i = PERSONS: the zero nullifier).
    function personNullifier(uint256 i) public pure returns (bytes32) {
        return i >= PERSONS ? bytes32(0) : keccak256(abi.encode("person", i));
    }

    /// The ledger's enrolment on an approval carrying an election nullifier: one of PERSONS
    /// persons (mostly), or zero; any account, as a registrar or anyone.
    function _enrolElector(uint256 callerSeed, uint256 whoSeed, uint256 personSeed) internal {
        _sync();
        address caller = _callerFor(callerSeed, REGISTRAR_ROLE);
        address who = whoSeed % 16 == 15 ? address(0) : _pick(whoSeed);
        bytes32 e = personNullifier(personSeed % (PERSONS + 1));
        address holder = ghostElectorOf[e];
        bytes32 held = ghostElectorNullifierOf[who];
        bool free = (holder == address(0) || holder == who) && (held == bytes32(0) || held == e);
        bool ok = ghostRole[REGISTRAR_ROLE][caller] && who != address(0) && e != bytes32(0) && free;
        vm.prank(caller);
        try election.enrolElector(who, e) {
            ++calls["enrolElector"];
            if (!ghostRole[REGISTRAR_ROLE][caller]) _violate(ROLES, "enrolElector without REGISTRAR_ROLE");
            if (!free) _violate(ELECTOR, "a second account under a held election nullifier");
            if (!ok) _violate(MODEL, "enrolElector accepted");
            if (holder == address(0)) ghostPersonOf[who] = e;
            ghostElectorOf[e] = who;
            ghostElectorNullifierOf[who] = e;
            if (!ghostMember[who]) {
                ghostMember[who] = true;
                ghostEnrolledAt[who] = ghostRound;
                ++ghostMemberCount;
            }
        } catch {
            if (ok) _violate(MODEL, "enrolElector refused");
        }
    }

    function _remove(uint256 callerSeed, uint256 whoSeed) internal {
        _sync();
        address caller = _callerFor(callerSeed, REGISTRAR_ROLE);
        address who = _pick(whoSeed);
        vm.prank(caller);
        try election.remove(who) {
            ++calls["remove"];
            if (!ghostRole[REGISTRAR_ROLE][caller]) _violate(ROLES, "remove without REGISTRAR_ROLE");
            if (!ghostMember[who]) _violate(MEMBERS_ONLY, "removed a non-member");
            ghostMember[who] = false;
            --ghostMemberCount;
            ghostUnseated[ghostSittingRound][who] = true;
            // its election nullifier is free again
            delete ghostElectorOf[ghostElectorNullifierOf[who]];
            delete ghostElectorNullifierOf[who];
        } catch {
            if (ghostRole[REGISTRAR_ROLE][caller] && ghostMember[who]) _violate(MODEL, "remove refused");
        }
    }

    // ------------------------------------------------------------------ actions: rounds

    function openRound(uint256 callerSeed) external {
        _sync();
        address caller = _pick(callerSeed);
        bool ok =
            (ghostStage == IAuthorityElection.Stage.Elected || ghostStage == IAuthorityElection.Stage.Aborted) &&
                ghostMemberCount > 2 * uint256(SEATS);
        vm.prank(caller);
        try election.openRound() returns (uint256 id) {
            ++calls["openRound"];
            if (!ok) _violate(STAGE, "openRound accepted");
            ghostRound = ghostRound + 1;
            if (id != ghostRound) _violate(STAGE, "round id");
            ghostNominationSeed[id] = keccak256(
                abi.encode(block.prevrandao, address(election), id, IAuthorityElection.Stage.Nomination)
            );
            if (election.round(id).nominationSeed != ghostNominationSeed[id]) _violate(ELECTION, "nomination seed");
            // the election seed's commitment, fixed here (s23-rtm F1)
            ghostElectionSeed[id] = keccak256(
                abi.encode(block.prevrandao, address(election), id, IAuthorityElection.Stage.Voting)
            );
            if (election.round(id).electionSeed != ghostElectionSeed[id])
                _violate(ELECTION, "election seed commitment");
            ghostStage = IAuthorityElection.Stage.Nomination;
            nominationEnd = time + NOMINATION;
            votingEnd = nominationEnd + VOTING;
        } catch {
            if (ok) _violate(MODEL, "openRound refused");
        }
    }

    function nominate(uint256 callerSeed, uint256 nomineeSeed) external {
        _sync();
        uint256 r = ghostRound;
        address caller = _pick(callerSeed);
        // mostly a member that has not nominated yet, so that rounds fill up
        if (callerSeed % 4 != 0) caller = _firstMember(callerSeed, ghostNominated[r], caller);
        address nominee = _pick(nomineeSeed);
        // mostly an eligible member nobody has nominated yet, so that enough nominees come forward
        if (nomineeSeed % 4 != 0) nominee = _freshNominee(nomineeSeed, r, nominee);
        bool open = ghostStage == IAuthorityElection.Stage.Nomination && time < nominationEnd;
        bool eligible = _ratio(nominee) < BordaCount.WAD;
        // the nominee accepts first (s23-rtm F3), but one time in eight she has not: then only a
        // self-nomination goes through; one time in eight the nomination names another round (F2)
        bool standing = nomineeSeed % 8 != 3 || election.isStanding(r, nominee) || nominee == caller;
        if (nomineeSeed % 8 != 3) {
            vm.prank(nominee);
            try election.stand(r) {
                ghostStanding[r][nominee] = true;
            } catch {}
        }
        uint256 named = nomineeSeed % 8 == 5 ? r + 1 : r;
        open = open && named == r && standing;
        vm.prank(caller);
        try election.nominate(named, nominee) {
            ++calls["nominate"];
            if (!open) _violate(STAGE, "nomination outside the nomination stage");
            if (!_elector(r, caller)) _violate(MEMBERS_ONLY, "nomination by a non-elector");
            if (!_elector(r, nominee)) _violate(MEMBERS_ONLY, "nomination of a non-elector");
            if (ghostNominated[r][caller]) _violate(DOUBLE, "second nomination");
            if (!eligible) _violate(ELECTION, "nomination of an ineligible node");
            if (named != r) _violate(ELECTION, "a nomination counted in a round it does not name");
            if (!standing) _violate(ELECTION, "a nomination of a member who does not stand");
            ghostNominated[r][caller] = true;
            ghostStanding[r][nominee] = true;
            ghostNominationSeed[r] ^= keccak256(abi.encode(caller, nominee));
            if (ghostNominations[r][nominee]++ == 0) _ghostNominees[r].push(nominee);
            ++ghostNominationTotal[r];
        } catch {
            if (open && _elector(r, caller) && _elector(r, nominee) && !ghostNominated[r][caller] && eligible)
                _violate(MODEL, "nomination refused");
        }
    }

    function closeNomination(uint256 seed) external {
        _sync();
        uint256 r = ghostRound;
        if (cautious && seed % 2 == 1 && ghostStage == IAuthorityElection.Stage.Nomination) {
            // one call in two closes, in the same step as the warp that ends the stage, and only when
            // it can succeed; the others come early (TooEarly)
            if (_eligibleNominees(r) <= SEATS) return;
            if (time < nominationEnd) time = nominationEnd;
            _sync();
        }
        bool ok = ghostStage == IAuthorityElection.Stage.Nomination && time >= nominationEnd;
        bool aborts = _eligibleNominees(r) <= SEATS;
        try election.closeNomination() {
            ++calls["closeNomination"];
            if (!ok) _violate(STAGE, "closeNomination accepted");
            IAuthorityElection.Round memory got = election.round(r);
            if (aborts) {
                ++calls["abortedAtNomination"];
                if (got.stage != IAuthorityElection.Stage.Aborted || got.candidates.length != 0)
                    _violate(ELECTION, "at most m eligible nominees: the round must abort");
                ghostStage = IAuthorityElection.Stage.Aborted;
                _foldDeferred();
                return;
            }
            (address[] memory expected, uint256[] memory ratios) = _referenceCandidates(r);
            if (keccak256(abi.encode(expected)) != keccak256(abi.encode(got.candidates)))
                _violate(ELECTION, "candidates are not the top 2m by Eq. 2");
            if (keccak256(abi.encode(ratios)) != keccak256(abi.encode(got.candidateRatios)))
                _violate(ELECTION, "candidate ratios not frozen at the close");
            // closing neither chooses the seed nor shortens the vote (s23-rtm F1)
            if (got.electionSeed != ghostElectionSeed[r])
                _violate(ELECTION, "closeNomination changed the election seed");
            votingEnd = time + VOTING;
            if (got.votingEnd != votingEnd) _violate(STAGE, "the vote is not a full period from the close");
            _ghostCandidates[r] = expected;
            _ghostFrozen[r] = ratios;
            ghostStage = IAuthorityElection.Stage.Voting;
        } catch {
            if (ok) _violate(MODEL, "closeNomination refused");
        }
    }

    function vote(uint256 callerSeed, uint256 rankingSeed, uint8 malform) external {
        _sync();
        uint256 r = ghostRound;
        address caller = _pick(callerSeed);
        if (callerSeed % 4 != 0) caller = _firstMember(callerSeed, ghostVoted[r], caller);
        uint256 n = _ghostCandidates[r].length;
        if (ghostStage != IAuthorityElection.Stage.Voting) n = 1 + (rankingSeed % 6);
        uint8[] memory ranking = _malformed(_permutation(rankingSeed, n), malform, rankingSeed);
        bool valid = _isPermutation(ranking, n);
        uint256 named = rankingSeed % 8 == 5 ? r + 1 : (rankingSeed % 8 == 6 && r > 0 ? r - 1 : r);
        bool open = ghostStage == IAuthorityElection.Stage.Voting && time < votingEnd && named == r;
        vm.prank(caller);
        try election.vote(named, ranking) {
            ++calls["vote"];
            if (named != r) _violate(BALLOT, "a ballot counted in a round it does not name");
            if (!open) _violate(STAGE, "ballot outside the voting stage");
            if (!_elector(r, caller)) _violate(MEMBERS_ONLY, "ballot by a non-elector");
            if (ghostVoted[r][caller]) _violate(DOUBLE, "second ballot");
            if (!valid) _violate(BALLOT, "malformed ballot accepted");
            ghostVoted[r][caller] = true;
            ++ghostBallots[r];
            ghostElectionSeed[r] ^= keccak256(abi.encode(caller, ranking));
            if (valid) {
                uint256[] memory f = _pairwisePoints(ranking, n);
                for (uint256 i; i < n; ++i) ghostTally[r][i] += f[i];
            }
        } catch {
            if (open && _elector(r, caller) && !ghostVoted[r][caller] && valid) _violate(MODEL, "ballot refused");
        }
    }

    function elect(uint256 seed) external {
        _sync();
        uint256 r = ghostRound;
        // a cautious handler lets the voting stage run for a while: one elect in four ends it
        if (cautious && seed % 4 == 1 && ghostStage == IAuthorityElection.Stage.Voting && time < votingEnd) {
            time = votingEnd;
            _sync();
        }
        bool ok = ghostStage == IAuthorityElection.Stage.Voting && time >= votingEnd;
        (address[] memory expected, bool aborts) = _referenceWinners(r);
        // no ballot, no outcome (s23-rtm F1)
        if (ghostBallots[r] == 0) aborts = true;
        try election.elect() {
            ++calls["elect"];
            if (!ok) _violate(STAGE, "elect accepted");
            if (aborts) {
                ++calls["abortedAtElect"];
                if (election.round(r).stage != IAuthorityElection.Stage.Aborted)
                    _violate(ELECTION, "no ballot or fewer than m eligible candidates: the round must abort");
                ghostStage = IAuthorityElection.Stage.Aborted;
                _foldDeferred();
                return;
            }
            if (keccak256(abi.encode(expected)) != keccak256(abi.encode(election.round(r).authorities)))
                _violate(ELECTION, "authorities are not the top m by weighted Borda score");
            _ghostAuthorities[r] = expected;
            ghostSittingRound = r;
            ghostStage = IAuthorityElection.Stage.Elected;
            _foldDeferred();
        } catch {
            if (ok) _violate(MODEL, "elect refused");
        }
    }

    /// Moves time forward by up to 30 s (a cautious handler stops one second before a stage ends).
    function warp(uint256 dt) external {
        uint256 t = time + bound(dt, 0, 30);
        if (cautious) {
            if (ghostStage == IAuthorityElection.Stage.Nomination && t >= nominationEnd) t = nominationEnd - 1;
            if (ghostStage == IAuthorityElection.Stage.Voting && t >= votingEnd) t = votingEnd - 1;
            if (t < time) t = time;
        }
        time = t;
        _sync();
    }

    // ------------------------------------------------------------------ actions: misbehaviour

    function report(uint256 callerSeed, uint256 nodeSeed, uint8 behaviour, uint256 evidenceSeed) external {
        _sync();
        address caller = _pick(callerSeed / 4);
        // mostly a sitting authority or the detector, and often the last report again, so that
        // quorums form and counts reach their caps
        address[] storage sitting = _ghostAuthorities[ghostSittingRound];
        if (callerSeed % 4 == 1) caller = DETECTOR;
        else if (callerSeed % 4 > 1) caller = sitting[(callerSeed / 4) % sitting.length];
        address node;
        bytes32 evidence;
        if (evidenceSeed % 2 == 0 && _lastNode != address(0)) {
            (node, behaviour, evidence) = (_lastNode, _lastBehaviour, _lastEvidence);
        } else {
            node = nodeSeed % 4 != 0 ? _accounts[2 + (nodeSeed % 2)] : _pick(nodeSeed / 4);
            behaviour = uint8(bound(behaviour, 0, 4));
            evidence = bytes32(1 + ((evidenceSeed / 2) % 64));
            (_lastNode, _lastBehaviour, _lastEvidence) = (node, behaviour, evidence);
        }
        // keyed on (node, behaviour, evidence): once across terms (issue 17, finding 11), and a
        // report about another node or behaviour never occupies the id (h7-audit finding M1)
        bytes32 id = keccak256(abi.encode(block.chainid, address(election), node, behaviour, evidence));
        bool detector = ghostRole[DETECTOR_ROLE][caller];
        bool sitting_ = _sits(caller);
        IAuthorityElection.ReportState st = ghostReportState[id];
        bool open = st == IAuthorityElection.ReportState.None || st == IAuthorityElection.ReportState.Attesting;
        bool conflict = _conflict(caller, node);
        bool ok =
            behaviour < 4 &&
                (ghostMember[node] || ghostPersonOf[node] != bytes32(0)) &&
                node != caller &&
                open &&
                (detector || (sitting_ && !conflict && !ghostAttested[id][caller]));
        vm.prank(caller);
        try election.report(node, behaviour, evidence) returns (bytes32 got) {
            ++calls["report"];
            if (got != id) _violate(REPORT, "report id");
            if (behaviour >= 4 || (!ghostMember[node] && ghostPersonOf[node] == bytes32(0)) || node == caller || !open)
                _violate(REPORT, "report accepted");
            if (st == IAuthorityElection.ReportState.None) {
                (ghostReportNode[id], ghostReportBehaviour[id]) = (node, behaviour);
                ghostReportState[id] = IAuthorityElection.ReportState.Attesting;
                _reportIds.push(id);
            }
            if (detector) {
                _applyGhost(id, node, behaviour);
            } else {
                if (!sitting_) _violate(ATTEST, "attestation by a non-sitting account");
                if (conflict) _violate(ATTEST, "a nominee attested a report about a rival nominee");
                if (ghostAttested[id][caller]) _violate(ATTEST, "second attestation");
                ghostAttested[id][caller] = true;
                _ghostAttesters[id].push(caller);
                // only attesters who sit now count towards the quorum (h11-red2 M3)
                if (++ghostAttestations[id] >= QUORUM && _sittingAttesters(id) >= QUORUM)
                    _applyGhost(id, node, behaviour);
            }
        } catch {
            if (ok) _violate(MODEL, "report refused");
        }
    }

    /// The reported node (or anyone) contests a report.
    function contest(uint256 idSeed, uint256 callerSeed) external {
        _sync();
        if (_reportIds.length == 0) return;
        bytes32 id = _reportIds[idSeed % _reportIds.length];
        bytes32 person = ghostReportPerson[id];
        address caller =
            callerSeed % 4 == 0
                ? _pick(callerSeed / 4)
                : (callerSeed % 4 == 1 && person != bytes32(0) ? ghostElectorOf[person] : ghostReportNode[id]);
        // the reported account, or its person's account now (s20-fixperson F2)
        bool byNode =
            caller == ghostReportNode[id] ||
                (person != bytes32(0) && caller != address(0) && caller == ghostElectorOf[person]);
        bool ok = ghostReportState[id] == IAuthorityElection.ReportState.Applied && byNode;
        vm.prank(caller);
        try election.contest(id) {
            ++calls["contest"];
            if (!ok) _violate(REPORT, "contest accepted");
            ghostReportState[id] = IAuthorityElection.ReportState.Contested;
        } catch {
            if (ok) _violate(MODEL, "contest refused");
        }
    }

    /// The arbiter (the operator) or anyone rules on a contested report.
    function resolveContest(uint256 idSeed, uint256 callerSeed, bool uphold) external {
        _sync();
        if (_reportIds.length == 0) return;
        bytes32 id = _reportIds[idSeed % _reportIds.length];
        address caller = callerSeed % 4 == 0 ? _pick(callerSeed / 4) : ADMIN;
        bool ok = ghostReportState[id] == IAuthorityElection.ReportState.Contested && caller == ADMIN;
        vm.prank(caller);
        try election.resolveContest(id, uphold) {
            ++calls["resolveContest"];
            if (!ok) _violate(REPORT, "ruling accepted");
            if (uphold) {
                ghostReportState[id] = IAuthorityElection.ReportState.Upheld;
            } else {
                ghostReportState[id] = IAuthorityElection.ReportState.Dismissed;
                // still deferred (its round has not ended): it never counts
                bool waiting = ghostDeferredTo[id] == ghostRound && _open();
                bytes32 person = ghostReportPerson[id];
                uint16[4] storage c = waiting ? _ghostDeferred[person] : _ghostPersonCounts[person];
                if (c[ghostReportBehaviour[id]] == 0) _violate(REPORT, "dismissed a count never added");
                else --c[ghostReportBehaviour[id]];
            }
        } catch {
            if (ok) _violate(MODEL, "ruling refused");
        }
    }

    // ------------------------------------------------------------------ actions: roles

    /// Grants, revokes or renounces one of four roles, as an admin or anyone.
    function roles(uint256 op, uint256 callerSeed, uint256 roleSeed, uint256 targetSeed) external {
        if (op % 3 == 0) _grantRole(callerSeed, roleSeed, targetSeed);
        else if (op % 3 == 1) _revokeRole(callerSeed, roleSeed, targetSeed);
        else _renounceRole(callerSeed, roleSeed, targetSeed);
    }

    function _grantRole(uint256 callerSeed, uint256 roleSeed, uint256 targetSeed) internal {
        _sync();
        bytes32 role = _role(roleSeed);
        // an admin, or a holder of the role itself (the escalation attempt), or anyone
        address caller = _callerFor(callerSeed, callerSeed % 2 == 0 ? ADMIN_ROLE : role);
        address target = _pick(targetSeed);
        if (cautious && target == ADMIN) return; // the operator keeps exactly its roles
        vm.prank(caller);
        try election.grantRole(role, target) {
            ++calls["grantRole"];
            if (!ghostRole[ADMIN_ROLE][caller]) _violate(ROLES, "grantRole without the admin role");
            ghostRole[role][target] = true;
        } catch {
            if (ghostRole[ADMIN_ROLE][caller]) _violate(MODEL, "grantRole refused");
        }
    }

    function _revokeRole(uint256 callerSeed, uint256 roleSeed, uint256 targetSeed) internal {
        _sync();
        bytes32 role = _role(roleSeed);
        // an admin, or a holder of the role itself (the escalation attempt), or anyone
        address caller = _callerFor(callerSeed, callerSeed % 2 == 0 ? ADMIN_ROLE : role);
        address target = _pick(targetSeed);
        if (cautious && target == ADMIN) return;
        vm.prank(caller);
        try election.revokeRole(role, target) {
            ++calls["revokeRole"];
            if (!ghostRole[ADMIN_ROLE][caller]) _violate(ROLES, "revokeRole without the admin role");
            ghostRole[role][target] = false;
        } catch {
            if (ghostRole[ADMIN_ROLE][caller]) _violate(MODEL, "revokeRole refused");
        }
    }

    function _renounceRole(uint256 callerSeed, uint256 roleSeed, uint256 confirmSeed) internal {
        _sync();
        address caller = _pick(callerSeed);
        bytes32 role = _role(roleSeed);
        address confirmation = confirmSeed % 4 == 0 ? _pick(confirmSeed / 4) : caller;
        if (cautious && caller == ADMIN) return;
        vm.prank(caller);
        try election.renounceRole(role, confirmation) {
            ++calls["renounceRole"];
            if (confirmation != caller) _violate(ROLES, "renounced someone else's role");
            ghostRole[role][caller] = false;
        } catch {
            if (confirmation == caller) _violate(MODEL, "renounceRole refused");
        }
    }

    // ------------------------------------------------------------------ views for the invariants

    function accounts() external view returns (address[] memory) {
        return _accounts;
    }

    function caps() external view returns (uint16[4] memory) {
        return _caps;
    }

    /// The capped counts t_if of Eq. 1.
    function ghostCounts(address node) external view returns (uint16[4] memory c) {
        for (uint256 f; f < 4; ++f) c[f] = _cappedCount(node, f);
    }

    function ghostCandidates(uint256 r) external view returns (address[] memory) {
        return _ghostCandidates[r];
    }

    function ghostAuthorities(uint256 r) external view returns (address[] memory) {
        return _ghostAuthorities[r];
    }

    function sits(address a) external view returns (bool) {
        return _sits(a);
    }

    function eligibleNominees(uint256 r) external view returns (uint256) {
        return _eligibleNominees(r);
    }

    function ratio(address node) external view returns (uint256) {
        return _ratio(node);
    }

    /// The counts of `node`'s person that wait for the open round's end (uncapped).
    function ghostDeferred(address node) external view returns (uint16[4] memory) {
        return _ghostDeferred[ghostPersonOf[node]];
    }

    // ------------------------------------------------------------------ the reference model

    /// Elected in the sitting round, not removed since (h11-red2 M2) and R_bw < 1 (issue 17,
    /// finding 9).
    /// A seat's powers read R with the counts deferred to the open round's end (s21-review2 M1).
    function _sits(address a) internal view returns (bool) {
        if (!ghostMember[a] || ghostUnseated[ghostSittingRound][a] || _ratioWithDeferred(a) >= 1e18) return false;
        address[] storage s = _ghostAuthorities[ghostSittingRound];
        for (uint256 i; i < s.length; ++i) if (s[i] == a) return true;
        return false;
    }

    function _sittingAttesters(bytes32 id) internal view returns (uint256 k) {
        address[] storage at = _ghostAttesters[id];
        for (uint256 i; i < at.length; ++i) if (_sits(at[i])) ++k;
    }

    /// A member enrolled before round r opened (issue 17, finding 4).
    function _elector(uint256 r, address a) internal view returns (bool) {
        return ghostMember[a] && ghostEnrolledAt[a] < r;
    }

    function _open() internal view returns (bool) {
        return ghostStage == IAuthorityElection.Stage.Nomination || ghostStage == IAuthorityElection.Stage.Voting;
    }

    /// A nominee of the open round attesting about another nominee of it (issue 17, finding 1).
    function _conflict(address reporter, address node) internal view returns (bool) {
        return _open() && ghostNominations[ghostRound][reporter] != 0 && ghostNominations[ghostRound][node] != 0;
    }

    /// `node`'s person is in the open round's race: the account, or her account now, is an elector of
    /// the round and stands or is a nominee (nomination stage: s25-rtm F1) or a candidate (vote)
    /// (s21-review2 L1).
    function _nomineePerson(address node) internal view returns (bool) {
        if (!_open()) return false;
        return _racing(node) || _racing(ghostElectorOf[ghostPersonOf[node]]);
    }

    function _racing(address x) internal view returns (bool) {
        uint256 r = ghostRound;
        if (x == address(0) || !_elector(r, x)) return false;
        if (ghostStage == IAuthorityElection.Stage.Nomination)
            return ghostStanding[r][x] || ghostNominations[r][x] != 0;
        address[] storage cs = _ghostCandidates[r];
        for (uint256 i; i < cs.length; ++i) if (cs[i] == x) return true;
        return false;
    }

    /// The round ended (elected or aborted): every deferred count now counts.
    function _foldDeferred() internal {
        for (uint256 i; i < PERSONS; ++i) {
            bytes32 e = personNullifier(i);
            for (uint256 f; f < 4; ++f) {
                _ghostPersonCounts[e][f] += _ghostDeferred[e][f];
                _ghostDeferred[e][f] = 0;
            }
        }
    }

    /// Eq. 1's record of `node`: its person's (s20-fixperson F2; every member holds an election
    /// nullifier, s20-redm F5)
    function _ghostRecord(address node) internal view returns (uint16[4] storage) {
        return _ghostPersonCounts[ghostPersonOf[node]];
    }

    function _cappedCount(address node, uint256 f) internal view returns (uint16) {
        uint16 c = _ghostRecord(node)[f];
        return c < _caps[f] ? c : _caps[f];
    }

    /// Eq. 1 written out.
    function _ratio(address node) internal view returns (uint256 r) {
        for (uint256 f; f < 4; ++f) r += (uint256(_cappedCount(node, f)) * _weights[f]) / _caps[f];
    }

    /// Eq. 1 with the deferred counts (what `isAuthority` reads, s21-review2 M1)
    function _ratioWithDeferred(address node) internal view returns (uint256 r) {
        bytes32 e = ghostPersonOf[node];
        for (uint256 f; f < 4; ++f) {
            uint256 c = uint256(_ghostPersonCounts[e][f]) + _ghostDeferred[e][f];
            r += ((c < _caps[f] ? c : _caps[f]) * _weights[f]) / _caps[f];
        }
    }

    /// Eq. 2: V * (1 - R), zero from R = 1 on.
    function _effective(uint256 votes, uint256 r) internal pure returns (uint256) {
        return r >= 1e18 ? 0 : votes * (1e18 - r);
    }

    function _eligibleNominees(uint256 r) internal view returns (uint256 k) {
        address[] storage ns = _ghostNominees[r];
        for (uint256 i; i < ns.length; ++i) if (_nominationVotes(r, ns[i]) != 0) ++k;
    }

    /// Eq. 2 at the close; a nominee removed since its nomination (even if enrolled again: it is
    /// no elector of the round, h15-red2 R3) has none.
    function _nominationVotes(uint256 r, address a) internal view returns (uint256) {
        return _elector(r, a) ? _effective(ghostNominations[r][a], _ratio(a)) : 0;
    }

    /// The nominees with effective votes, best first, cut at 2m, with their ratios at the close.
    function _referenceCandidates(uint256 r) internal view returns (address[] memory out, uint256[] memory ratios) {
        address[] memory ns = _ghostNominees[r];
        uint256 n = ns.length;
        uint256[] memory score = new uint256[](n);
        uint256[] memory rat = new uint256[](n);
        bool[] memory keep = new bool[](n);
        for (uint256 i; i < n; ++i) {
            (score[i], rat[i]) = (_nominationVotes(r, ns[i]), _ratio(ns[i]));
            keep[i] = score[i] != 0;
        }
        uint256[] memory order = _best(ns, score, rat, keep, ghostNominationSeed[r], 2 * uint256(SEATS));
        out = new address[](order.length);
        ratios = new uint256[](order.length);
        for (uint256 i; i < order.length; ++i) (out[i], ratios[i]) = (ns[order[i]], rat[order[i]]);
    }

    /// The candidates still electors of the round with min(frozen R_i, R_i now) < 1 (s20-redm F1), by
    /// f_i * (1 - min(frozen R_i, R_i now)) (h15-red2 R3, R8), best first, cut at m; or an abort when
    /// fewer than m are eligible.
    function _referenceWinners(uint256 r) internal view returns (address[] memory out, bool aborts) {
        address[] memory cs = _ghostCandidates[r];
        uint256 n = cs.length;
        uint256[] memory score = new uint256[](n);
        uint256[] memory frozen = _ghostFrozen[r];
        bool[] memory keep = new bool[](n);
        uint256 eligible;
        for (uint256 i; i < n; ++i) {
            uint256 ratioNow = _ratio(cs[i]);
            if (ratioNow < frozen[i]) frozen[i] = ratioNow;
            score[i] = _effective(ghostTally[r][i], frozen[i]);
            keep[i] = _elector(r, cs[i]) && frozen[i] < 1e18;
            if (keep[i]) ++eligible;
        }
        if (eligible < SEATS) return (out, true);
        uint256[] memory order = _best(cs, score, frozen, keep, ghostElectionSeed[r], SEATS);
        out = new address[](order.length);
        for (uint256 i; i < order.length; ++i) out[i] = cs[order[i]];
    }

    /// Indices of the k best kept entries by (score desc, rat asc, keccak(seed, id) asc): a
    /// selection sort written apart from the contract's.
    function _best(
        address[] memory ids,
        uint256[] memory score,
        uint256[] memory rat,
        bool[] memory keep,
        bytes32 seed,
        uint256 k
    ) internal pure returns (uint256[] memory order) {
        uint256 n = ids.length;
        uint256 kept;
        for (uint256 i; i < n; ++i) if (keep[i]) ++kept;
        if (kept < k) k = kept;
        order = new uint256[](k);
        bool[] memory used = new bool[](n);
        for (uint256 s; s < k; ++s) {
            uint256 b = type(uint256).max;
            for (uint256 i; i < n; ++i) {
                if (!keep[i] || used[i]) continue;
                if (b == type(uint256).max) b = i;
                else if (
                    score[i] != score[b]
                        ? score[i] > score[b]
                        : rat[i] != rat[b]
                            ? rat[i] < rat[b]
                            : _key(seed, ids[i]) < _key(seed, ids[b])
                ) b = i;
            }
            used[b] = true;
            order[s] = b;
        }
    }

    function _key(bytes32 seed, address a) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, a)));
    }

    function _applyGhost(bytes32 id, address node, uint8 behaviour) internal {
        if (ghostApplied[id]) _violate(REPORT, "report applied twice");
        ghostApplied[id] = true;
        ghostReportState[id] = IAuthorityElection.ReportState.Applied;
        bytes32 person = ghostPersonOf[node];
        ghostReportPerson[id] = person;
        if (_nomineePerson(node)) {
            // about a nominee of the open round: counts when it ends (s20-redm F1)
            ++_ghostDeferred[person][behaviour];
            ghostDeferredTo[id] = ghostRound;
            ++calls["deferred"];
        } else {
            ++_ghostRecord(node)[behaviour];
        }
        ++calls["applied"];
    }

    // ------------------------------------------------------------------ helpers

    function _sync() internal {
        vm.warp(time);
    }

    function _violate(uint256 kind, string memory what) internal {
        ++violations[kind];
        lastViolation[kind] = what;
    }

    function _pick(uint256 seed) internal view returns (address) {
        return _accounts[seed % _accounts.length];
    }

    /// Mostly an account that holds `role` (when there is one), sometimes anyone.
    function _callerFor(uint256 seed, bytes32 role) internal view returns (address) {
        if (seed % 3 == 0) return _pick(seed / 3);
        for (uint256 i; i < _accounts.length; ++i) {
            address a = _accounts[((seed % _accounts.length) + i) % _accounts.length];
            if (ghostRole[role][a]) return a;
        }
        return _pick(seed);
    }

    /// The first member, from a seeded start, for which `done` is false; `fallback_` if none.
    function _firstMember(
        uint256 seed,
        mapping(address => bool) storage done,
        address fallback_
    ) internal view returns (address) {
        for (uint256 i; i < _accounts.length; ++i) {
            address a = _accounts[((seed % _accounts.length) + i) % _accounts.length];
            if (ghostMember[a] && !done[a]) return a;
        }
        return fallback_;
    }

    function _freshNominee(uint256 seed, uint256 r, address fallback_) internal view returns (address) {
        for (uint256 i; i < _accounts.length; ++i) {
            address a = _accounts[((seed % _accounts.length) + i) % _accounts.length];
            if (ghostMember[a] && ghostNominations[r][a] == 0 && _ratio(a) < 1e18) return a;
        }
        return fallback_;
    }

    function _role(uint256 seed) internal pure returns (bytes32) {
        uint256 k = seed % 4;
        return
            k == 0
                ? ADMIN_ROLE
                : k == 1
                    ? REGISTRAR_ROLE
                    : k == 2
                        ? DETECTOR_ROLE
                        : OTHER_ROLE;
    }

    function _permutation(uint256 seed, uint256 n) internal pure returns (uint8[] memory p) {
        p = new uint8[](n);
        for (uint256 i; i < n; ++i) p[i] = uint8(i);
        for (uint256 i = n; i > 1; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, i))) % i;
            (p[i - 1], p[j]) = (p[j], p[i - 1]);
        }
    }

    /// One time in eight: a ballot one entry short, one too long, with a repeat, or out of range.
    function _malformed(uint8[] memory p, uint8 malform, uint256 seed) internal pure returns (uint8[] memory) {
        if (malform % 8 != 0) return p;
        uint256 n = p.length;
        uint256 how = (malform / 8) % 4;
        if (how == 0) {
            uint8[] memory q = new uint8[](n - 1);
            for (uint256 i; i + 1 < n; ++i) q[i] = p[i];
            return q;
        }
        if (how == 1) {
            uint8[] memory q = new uint8[](n + 1);
            for (uint256 i; i < n; ++i) q[i] = p[i];
            q[n] = p[0];
            return q;
        }
        if (how == 2 && n > 1) {
            p[seed % n] = p[(seed + 1) % n];
            return p;
        }
        p[seed % n] = uint8(n + (seed % 3));
        return p;
    }

    function _isPermutation(uint8[] memory p, uint256 n) internal pure returns (bool) {
        if (p.length != n || n == 0) return false;
        bool[] memory seen = new bool[](n);
        for (uint256 i; i < n; ++i) {
            if (p[i] >= n || seen[p[i]]) return false;
            seen[p[i]] = true;
        }
        return true;
    }

    /// Eqs. 3-4: f^k_i = #{j : k ranks i above j}.
    function _pairwisePoints(uint8[] memory ranking, uint256 n) internal pure returns (uint256[] memory f) {
        uint256[] memory pos = new uint256[](n);
        for (uint256 p; p < n; ++p) pos[ranking[p]] = p;
        f = new uint256[](n);
        for (uint256 i; i < n; ++i) for (uint256 j; j < n; ++j) if (i != j && pos[i] < pos[j]) ++f[i];
    }
}

/// @notice The handler's deployment and the liveness driver, shared with the findings suite.
abstract contract AuthorityElectionHarness is Test {
    AuthorityElectionHandler internal handler;
    AuthorityElection internal election;

    function _deploy(bool cautious) internal {
        handler = new AuthorityElectionHandler(cautious);
        election = handler.election();
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    // ------------------------------------------------------------------ liveness

    /// From the current state, brings the current round to an end with calls anyone can make once
    /// time passes (closeNomination, elect), then checks that the next round can open when there
    /// are more than 2m members, and reverts with the outcome so that nothing of it stays.
    function driveToEnd() external {
        vm.warp(handler.time());
        uint256 r = election.currentRound();
        IAuthorityElection.Round memory rd = election.round(r);
        if (rd.stage == IAuthorityElection.Stage.Nomination) {
            if (block.timestamp < rd.nominationEnd) vm.warp(rd.nominationEnd);
            try election.closeNomination() {} catch {
                _stop(false);
            }
            rd = election.round(r);
        }
        if (rd.stage == IAuthorityElection.Stage.Voting) {
            if (block.timestamp < rd.votingEnd) vm.warp(rd.votingEnd);
            try election.elect() {} catch {
                _stop(false);
            }
            rd = election.round(r);
        }
        bool ended = rd.stage == IAuthorityElection.Stage.Elected || rd.stage == IAuthorityElection.Stage.Aborted;
        if (ended && election.memberCount() > 2 * uint256(handler.SEATS())) {
            try election.openRound() {} catch {
                _stop(false);
            }
        }
        _stop(ended);
    }

    function _stop(bool ended) internal pure {
        revert(ended ? "ended" : "stuck");
    }

    function _canEnd() internal returns (bool ended) {
        uint256 t = handler.time();
        try this.driveToEnd() {} catch (bytes memory reason) {
            ended = keccak256(reason) == keccak256(abi.encodeWithSignature("Error(string)", "ended"));
        }
        vm.warp(t);
    }
}

/// @notice The invariants every reachable state satisfies.
abstract contract AuthorityElectionInvariantBase is AuthorityElectionHarness {
    function _noViolation(uint256 kind) internal view {
        assertEq(handler.violations(kind), 0, handler.lastViolation(kind));
    }

    /// No member nominates or votes twice in a round; the round's ballot count, the accounts that
    /// voted, the nominations received and the accounts that nominated all agree.
    function invariant_noDoubleBallotOrNomination() public view {
        _noViolation(handler.DOUBLE());
        uint256 r = election.currentRound();
        address[] memory a = handler.accounts();
        uint256 voted;
        uint256 nominated;
        uint256 received;
        for (uint256 i; i < a.length; ++i) {
            bool v = election.hasVoted(r, a[i]);
            bool n = election.hasNominated(r, a[i]);
            assertTrue(v == handler.ghostVoted(r, a[i]), "hasVoted");
            assertTrue(n == handler.ghostNominated(r, a[i]), "hasNominated");
            if (v) ++voted;
            if (n) ++nominated;
            received += election.nominations(r, a[i]);
            assertEq(election.nominations(r, a[i]), handler.ghostNominations(r, a[i]), "nominations");
        }
        assertEq(election.round(r).ballots, voted, "one ballot per voter");
        assertEq(received, nominated, "one nomination per nominator");
        assertEq(voted, handler.ghostBallots(r), "ballots");
        assertEq(nominated, handler.ghostNominationTotal(r), "nominators");
    }

    /// Each round's packed tally is the sum of its ballots' pairwise points (Eqs. 3-4).
    function invariant_tallyEqualsSumOfBallotPoints() public view {
        _noViolation(handler.BALLOT());
        uint256 cur = election.currentRound();
        for (uint256 r = 1; r <= cur; ++r) {
            uint256[] memory t = election.tally(r);
            assertEq(t.length, handler.ghostCandidates(r).length, "tally size");
            for (uint256 i; i < t.length; ++i) assertEq(t[i], handler.ghostTally(r, i), "f_i");
        }
    }

    /// Only members nominate, are nominated or vote; the member set is the one the registrars built.
    function invariant_onlyMembersVote() public view {
        _noViolation(handler.MEMBERS_ONLY());
        address[] memory a = handler.accounts();
        uint256 members;
        for (uint256 i; i < a.length; ++i) {
            bool m = election.isMember(a[i]);
            assertTrue(m == handler.ghostMember(a[i]), "isMember");
            if (m) ++members;
        }
        assertEq(election.memberCount(), members, "memberCount");
        assertTrue(!election.isMember(address(0)), "address(0) is no member");
    }

    /// One person, one elector (h11-red2 M1): each election nullifier is held by at most one
    /// account, which is a member and holds that nullifier back; no account holds two; a removed
    /// account holds none; and the holders are those of the model.
    function invariant_oneMemberPerElectorNullifier() public view {
        _noViolation(handler.ELECTOR());
        address[] memory a = handler.accounts();
        for (uint256 p; p < handler.PERSONS(); ++p) {
            bytes32 e = handler.personNullifier(p);
            address holder = election.electorOf(e);
            assertEq(holder, handler.ghostElectorOf(e), "electorOf");
            uint256 under;
            for (uint256 i; i < a.length; ++i) if (election.electorNullifierOf(a[i]) == e) ++under;
            assertEq(under, holder == address(0) ? 0 : 1, "one member per election nullifier");
            if (holder != address(0)) assertTrue(election.isMember(holder), "the holder is a member");
        }
        for (uint256 i; i < a.length; ++i) {
            bytes32 e = election.electorNullifierOf(a[i]);
            if (e != bytes32(0)) assertEq(election.electorOf(e), a[i], "the nullifier names its account");
            if (!election.isMember(a[i])) assertEq(e, bytes32(0), "a non-member holds no election nullifier");
            else assertTrue(e != bytes32(0), "every member holds an election nullifier (s20-redm F5)");
        }
        assertEq(election.electorOf(bytes32(0)), address(0), "nobody holds the zero nullifier");
    }

    /// Only sitting authorities attest, once per report; the sitting set is the last elected one.
    function invariant_onlySittingAuthoritiesAttest() public view {
        _noViolation(handler.ATTEST());
        _noViolation(handler.REPORT());
        assertEq(election.sittingRound(), handler.ghostSittingRound(), "sitting round");
        address[] memory a = handler.accounts();
        for (uint256 i; i < a.length; ++i) assertTrue(election.isAuthority(a[i]) == handler.sits(a[i]), "isAuthority");
        assertEq(
            keccak256(abi.encode(election.authorities())),
            keccak256(abi.encode(handler.ghostAuthorities(handler.ghostSittingRound()))),
            "authorities"
        );
    }

    /// Misbehaviour counts never exceed A_f and equal the applied reports (capped); R follows Eq. 1.
    function invariant_countsCappedAtAf() public view {
        address[] memory a = handler.accounts();
        uint16[4] memory caps = handler.caps();
        for (uint256 i; i < a.length; ++i) {
            (uint16[4] memory c, uint256 ratio) = election.misbehaviour(a[i]);
            uint16[4] memory g = handler.ghostCounts(a[i]);
            for (uint256 f; f < 4; ++f) {
                assertLe(c[f], caps[f], "t_if <= A_f");
                assertEq(c[f], g[f], "t_if");
            }
            assertEq(ratio, handler.ratio(a[i]), "R_bw");
            // the deferred counts wait for the open round's end, and only for it (s20-redm F1)
            (uint16[4] memory d, uint256 until) = election.deferredMisbehaviour(a[i]);
            uint16[4] memory gd = handler.ghostDeferred(a[i]);
            for (uint256 f; f < 4; ++f) {
                assertEq(d[f], gd[f], "deferred t_if");
                if (d[f] != 0) assertEq(until, handler.ghostRound(), "deferred until the open round ends");
            }
        }
    }

    /// Roles change only by the admin (or by renouncing one's own): nobody escalates.
    function invariant_rolesNotEscalated() public view {
        _noViolation(handler.ROLES());
        address[] memory a = handler.accounts();
        bytes32[4] memory roles = [
            handler.ADMIN_ROLE(),
            handler.REGISTRAR_ROLE(),
            handler.DETECTOR_ROLE(),
            handler.OTHER_ROLE()
        ];
        for (uint256 i; i < a.length; ++i)
            for (uint256 k; k < 4; ++k)
                assertTrue(election.hasRole(roles[k], a[i]) == handler.ghostRole(roles[k], a[i]), "hasRole");
        for (uint256 k; k < 4; ++k) {
            assertTrue(!election.hasRole(roles[k], address(handler)), "the handler holds no role");
            assertTrue(!election.hasRole(roles[k], address(this)), "the test holds no role");
        }
        assertEq(election.getRoleAdmin(handler.REGISTRAR_ROLE()), handler.ADMIN_ROLE(), "registrar's admin");
        assertEq(election.getRoleAdmin(handler.DETECTOR_ROLE()), handler.ADMIN_ROLE(), "detector's admin");
    }

    /// Liveness: from any reachable state the current round can be brought to an end (elected or
    /// aborted) and the next one opened (issue 17, finding 3).
    function invariant_anyRoundCanBeBroughtToAnEnd() public {
        assertTrue(_canEnd(), "the round cannot be brought to an end");
    }

    /// Calls succeed only in their stage and time window; candidates and authorities are those of
    /// Eq. 2 and the weighted Borda count; the contract accepts every call the rules accept.
    function invariant_stagesAndResultsFollowTheRules() public view {
        _noViolation(handler.STAGE());
        _noViolation(handler.ELECTION());
        _noViolation(handler.MODEL());
        uint256 r = election.currentRound();
        assertEq(r, handler.ghostRound(), "current round");
        assertEq(uint256(election.round(r).stage), uint256(handler.ghostStage()), "stage");
        if (r > 0) {
            assertEq(
                keccak256(abi.encode(election.round(r).candidates)),
                keccak256(abi.encode(handler.ghostCandidates(r))),
                "candidates"
            );
        }
    }
}

/// @notice The election under a cautious handler: every property, liveness included.
/// forge-config: default.invariant.runs = 32
/// forge-config: default.invariant.depth = 128
/// forge-config: default.invariant.check_interval = 8
/// forge-config: ci.invariant.runs = 64
/// forge-config: ci.invariant.depth = 128
/// forge-config: ci.invariant.check_interval = 8
contract AuthorityElectionInvariantTest is AuthorityElectionInvariantBase {
    function setUp() public {
        _deploy(true);
    }
}

/// @notice The election under a handler that moves time at random (stages run out, late and early
/// calls, rounds abort): every property still holds, liveness included (the state that froze the
/// election before issue 17 is reached here: a nomination stage ending with at most m nominees).
/// forge-config: default.invariant.runs = 32
/// forge-config: default.invariant.depth = 128
/// forge-config: default.invariant.check_interval = 8
/// forge-config: ci.invariant.runs = 64
/// forge-config: ci.invariant.depth = 128
/// forge-config: ci.invariant.check_interval = 8
contract AuthorityElectionFreeTimeInvariantTest is AuthorityElectionInvariantBase {
    function setUp() public {
        _deploy(false);
    }
}
