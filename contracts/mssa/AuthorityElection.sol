// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAuthorityElection} from "../interfaces/IAuthorityElection.sol";
import {BordaCount} from "../libraries/BordaCount.sol";

/// @title AuthorityElection
/// @notice MSSA authority election: nomination weighted by Eq. 2, Borda count (Eqs. 3-4) weighted
/// by the misbehaviour ratio (Eq. 1). See IAuthorityElection for the rules.
// One mapping per rule of a round (electorate, nominators, reports, election nullifiers): 20 state variables.
// solhint-disable-next-line max-states-count
contract AuthorityElection is IAuthorityElection, AccessControl {
    /// @notice Enrols and removes members (the operator, and the CredentialLedger on approval and
    /// revocation). Trusted: it decides who is a member (see docs/specs/mssa.md, threat model).
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Applies misbehaviour reports alone (the trust layer's detectors). Trusted; its
    /// reports can be contested like any other.
    bytes32 public constant DETECTOR_ROLE = keccak256("DETECTOR_ROLE");
    /// @notice Rules on contested reports.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @notice Most nominees in one round (closeNomination's gas grows with nominees x 2m).
    uint256 public constant MAX_NOMINEES = 128;
    /// @notice Shortest nomination or voting period (s23-rtm F4: a zero period leaves a stage
    /// nobody can act in).
    uint256 public constant MIN_PERIOD = 10 minutes;
    /// @notice Longest nomination or voting period (a longer one freezes the sitting authorities).
    uint256 public constant MAX_PERIOD = 90 days;
    /// @dev the layout of a person's record word (`_records`)
    uint256 private constant _LANE = 0xffff;
    uint256 private constant _DEFERRED_SHIFT = 64;
    uint256 private constant _ROUND_SHIFT = 128;

    Params private _params;
    mapping(address member => bool) private _members;
    /// @dev the current round when the member was (last) enrolled: electors of round r have it < r
    mapping(address member => uint256) private _enrolledAt;
    uint256 private _memberCount;
    /// @dev Eq. 1's record per person (election nullifier): every account that held e shares it
    /// (s20 F2); every member holds an e (genesis and enrolElector both bind one, s20 F5), so there
    /// is no per-account record. One word: bits [16f, 16f + 16) the applied, not dismissed reports
    /// of behaviour f (uncapped; Eq. 1 caps them at A_f); bits [64 + 16f, 80 + 16f) the reports
    /// made while the person was a nominee of round d, deferred until d ends; bits [128, 192) d
    /// (0: none). Deferred counts are folded in lazily: read as applied once d has ended
    /// (`_settled`), written back by the next report or dismissal (s20-redm F1).
    mapping(bytes32 electorNullifier => uint256) private _records;
    /// @dev the last election nullifier an account held; kept after removal, so a former account
    /// still names its person (reports reach her, her next account inherits her record)
    mapping(address account => bytes32 electorNullifier) private _personOf;
    /// @dev the person whose record an applied report raised
    mapping(bytes32 reportId => bytes32 electorNullifier) private _reportPerson;
    mapping(uint256 id => Round) private _rounds;
    mapping(uint256 id => uint256[8]) private _tallies;
    mapping(uint256 id => mapping(address nominee => uint256)) private _nominations;
    mapping(uint256 id => mapping(address nominee => address[])) private _nominators;
    mapping(uint256 id => mapping(address member => bool)) private _nominated;
    mapping(uint256 id => mapping(address member => bool)) private _voted;
    /// @dev round + 1 of the last round in which the account was elected (0 = never)
    mapping(address account => uint256) private _seatRound;
    mapping(bytes32 reportId => Report) private _reports;
    /// @dev the attesters of a report in order (index < Report.attestations); a repeat is found by
    /// scanning them, so an attestation costs one new slot (h11-red2 M3)
    mapping(bytes32 reportId => mapping(uint256 index => address)) private _attesters;
    uint256 private _current;
    uint256 private _sitting;
    /// @dev one account per person (h11-red2 M1): the holder of each election nullifier, and back
    mapping(bytes32 electorNullifier => address member) private _electorOf;
    mapping(address member => bytes32 electorNullifier) private _electorNullifierOf;
    /// @dev the electors who stand in a round: accepted being nominated in it (s23-rtm F3)
    mapping(uint256 id => mapping(address member => bool)) private _standing;

    /// @param admin the operator (admin, REGISTRAR_ROLE, ARBITER_ROLE)
    /// @param p the parameters
    /// @param genesis round 0's authorities (members; at least reportQuorum, at most seats)
    /// @param genesisNullifiers their election nullifiers, in the same order (non-zero, distinct):
    /// computed by the operator with the election key from each authority's identity document, so
    /// a second account of a genesis authority's person is refused like any other (s20-redm F5)
    constructor(address admin, Params memory p, address[] memory genesis, bytes32[] memory genesisNullifiers) {
        if (
            p.seats == 0 ||
            2 * uint256(p.seats) > BordaCount.MAX_CANDIDATES ||
            p.reportQuorum == 0 ||
            p.reportQuorum > p.seats ||
            genesis.length < p.reportQuorum ||
            genesis.length > p.seats ||
            genesisNullifiers.length != genesis.length ||
            p.nominationPeriod < MIN_PERIOD ||
            p.nominationPeriod > MAX_PERIOD ||
            p.votingPeriod < MIN_PERIOD ||
            p.votingPeriod > MAX_PERIOD
        ) revert AuthorityElection__InvalidParams();
        // caps A_f > 0 (Eq. 1 divides by them); weights W_f at most 1 each (more adds nothing but
        // overflow room) and not all 0 (else no report ever makes anyone ineligible) (s23-rtm F4)
        uint256 weightSum;
        for (uint256 f; f < BordaCount.BEHAVIOURS; ++f) {
            if (p.caps[f] == 0 || p.weights[f] > BordaCount.WAD) revert AuthorityElection__InvalidParams();
            weightSum += p.weights[f];
        }
        if (weightSum == 0) revert AuthorityElection__InvalidParams();
        _params = p;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
        _grantRole(ARBITER_ROLE, admin);
        Round storage r0 = _rounds[0];
        r0.stage = Stage.Elected;
        for (uint256 i; i < genesis.length; ++i) {
            address a = genesis[i];
            if (a == address(0) || _seatRound[a] == 1) revert AuthorityElection__InvalidParams();
            _enrolPerson(a, genesisNullifiers[i]);
            _seatRound[a] = 1;
            r0.authorities.push(a);
        }
    }

    // ---------------------------------------------------------------- members

    /// @inheritdoc IAuthorityElection
    function enrolElector(address member, bytes32 e) external onlyRole(REGISTRAR_ROLE) {
        if (member == address(0)) revert AuthorityElection__NotMember(member);
        _enrolPerson(member, e);
    }

    /// @inheritdoc IAuthorityElection
    function remove(address member) external onlyRole(REGISTRAR_ROLE) {
        if (!_members[member]) revert AuthorityElection__NotMember(member);
        _members[member] = false;
        --_memberCount;
        emit MemberRemoved(member);
        // The person may enrol one account again (a later round's elector: _enrolledAt is set anew).
        bytes32 e = _electorNullifierOf[member];
        if (e != bytes32(0)) {
            delete _electorOf[e];
            delete _electorNullifierOf[member];
            emit ElectorNullifierReleased(member, e);
        }
        // The seat goes with the membership: enrolled again, it sits only if an election seats it
        // (h11-red2 M2).
        uint256 seat = _seatRound[member];
        if (seat != 0) {
            _seatRound[member] = 0;
            if (seat == _sitting + 1) emit SeatVacated(member, _sitting);
        }
    }

    // ---------------------------------------------------------------- rounds

    /// @inheritdoc IAuthorityElection
    function openRound() external returns (uint256 id) {
        Round storage prev = _rounds[_current];
        if (prev.stage != Stage.Elected && prev.stage != Stage.Aborted)
            revert AuthorityElection__WrongStage(_current, prev.stage);
        uint256 needed = 2 * uint256(_params.seats) + 1;
        if (_memberCount < needed) revert AuthorityElection__TooFewMembers(_memberCount, needed);
        id = ++_current;
        Round storage r = _rounds[id];
        r.stage = Stage.Nomination;
        r.nominationEnd = uint40(block.timestamp + _params.nominationPeriod);
        // the earliest the vote can end: closeNomination sets it to a full period from its own block
        r.votingEnd = uint40(uint256(r.nominationEnd) + _params.votingPeriod);
        // The seeds' commitments, fixed before any nomination or ballot exists; every nomination
        // (resp. ballot) is mixed into them, so the seed a tie-break reads is known only once the
        // last input is in, and no single call, least of all closeNomination or elect, fixes it
        // (s23-rtm F1; docs/specs/mssa.md §1.4).
        r.nominationSeed = keccak256(abi.encode(block.prevrandao, address(this), id, Stage.Nomination));
        r.electionSeed = keccak256(abi.encode(block.prevrandao, address(this), id, Stage.Voting));
        emit RoundOpened(id, r.nominationEnd, r.votingEnd);
    }

    /// @inheritdoc IAuthorityElection
    function stand(uint256 id) external {
        _nominationStage(id);
        if (!isElector(id, msg.sender)) revert AuthorityElection__NotElector(id, msg.sender);
        if (_standing[id][msg.sender]) return;
        _standing[id][msg.sender] = true;
        emit Standing(id, msg.sender);
    }

    /// @inheritdoc IAuthorityElection
    function nominate(uint256 id, address nominee) external {
        Round storage r = _nominationStage(id);
        if (!isElector(id, msg.sender)) revert AuthorityElection__NotElector(id, msg.sender);
        if (!isElector(id, nominee)) revert AuthorityElection__NotElector(id, nominee);
        if (_nominated[id][msg.sender]) revert AuthorityElection__AlreadyNominated(id, msg.sender);
        uint256 ratio = _ratio(nominee);
        if (ratio >= BordaCount.WAD) revert AuthorityElection__Ineligible(nominee, ratio);
        // only a nominee who accepted stands (s23-rtm F3); nominating oneself is accepting
        if (!_standing[id][nominee]) {
            if (nominee != msg.sender) revert AuthorityElection__NotStanding(id, nominee);
            _standing[id][nominee] = true;
            emit Standing(id, nominee);
        }
        if (_nominations[id][nominee] == 0) {
            if (r.nominees.length == MAX_NOMINEES) _evictWeakest(id, r, nominee, BordaCount.weigh(1, ratio));
            r.nominees.push(nominee);
        }
        _nominated[id][msg.sender] = true;
        ++_nominations[id][nominee];
        _nominators[id][nominee].push(msg.sender);
        r.nominationSeed ^= keccak256(abi.encode(msg.sender, nominee));
        emit Nominated(id, msg.sender, nominee);
    }

    /// @inheritdoc IAuthorityElection
    function closeNomination() external {
        uint256 id = _current;
        Round storage r = _rounds[id];
        if (r.stage != Stage.Nomination) revert AuthorityElection__WrongStage(id, r.stage);
        if (block.timestamp < r.nominationEnd) revert AuthorityElection__TooEarly(id, r.nominationEnd);
        address[] memory nominees = r.nominees;
        uint256 n = nominees.length;
        uint256[] memory eff = new uint256[](n);
        uint256[] memory ratios = new uint256[](n);
        uint256 excluded;
        uint256 eligible;
        for (uint256 i; i < n; ++i) {
            ratios[i] = _ratio(nominees[i]);
            // a nominee removed since its nomination (even if enrolled again) is out
            if (isElector(id, nominees[i])) eff[i] = BordaCount.weigh(_nominations[id][nominees[i]], ratios[i]);
            if (eff[i] != 0) ++eligible;
            else excluded |= 1 << i;
        }
        uint256 seats = _params.seats;
        if (eligible <= seats) {
            // Nothing can add a nominee any more: end the round, the sitting authorities stay.
            r.stage = Stage.Aborted;
            emit RoundAborted(id, Stage.Nomination, eligible);
            return;
        }
        uint256 k = eligible < 2 * seats ? eligible : 2 * seats;
        (uint256[] memory order, uint256[] memory top) = _top(nominees, eff, ratios, k, excluded, r.nominationSeed);
        for (uint256 i; i < k; ++i) {
            r.candidates.push(nominees[order[i]]);
            r.candidateRatios.push(ratios[order[i]]);
        }
        // A full voting period from the actual close, whoever closes and whenever (s23-rtm F1).
        uint40 votingEnd = uint40(block.timestamp + _params.votingPeriod);
        r.votingEnd = votingEnd;
        r.stage = Stage.Voting;
        emit CandidatesSelected(id, r.candidates, top);
        emit VotingOpened(id, votingEnd);
    }

    /// @inheritdoc IAuthorityElection
    function vote(uint256 id, uint8[] calldata ranking) external {
        if (id != _current) revert AuthorityElection__NotCurrentRound(id, _current);
        Round storage r = _rounds[id];
        if (r.stage != Stage.Voting) revert AuthorityElection__WrongStage(id, r.stage);
        if (block.timestamp >= r.votingEnd) revert AuthorityElection__TooLate(id, r.votingEnd);
        if (!isElector(id, msg.sender)) revert AuthorityElection__NotElector(id, msg.sender);
        if (_voted[id][msg.sender]) revert AuthorityElection__AlreadyVoted(id, msg.sender);
        uint256[] memory delta = BordaCount.ballotPoints(ranking, r.candidates.length);
        uint256[8] storage t = _tallies[id];
        // Lanes cannot carry: each lane stays below 2^32 (see BordaCount).
        unchecked {
            for (uint256 w; w < delta.length; ++w) t[w] += delta[w];
            ++r.ballots;
        }
        // mixed in whatever the order of the ballots (XOR), so whoever orders them cannot choose it
        r.electionSeed ^= keccak256(abi.encode(msg.sender, ranking));
        _voted[id][msg.sender] = true;
        emit BallotCast(id, msg.sender);
    }

    /// @inheritdoc IAuthorityElection
    function elect() external {
        uint256 id = _current;
        Round storage r = _rounds[id];
        if (r.stage != Stage.Voting) revert AuthorityElection__WrongStage(id, r.stage);
        if (block.timestamp < r.votingEnd) revert AuthorityElection__TooEarly(id, r.votingEnd);
        // No ballot, no outcome: the seats would go to the tie-break alone (s23-rtm F1).
        if (r.ballots == 0) {
            r.stage = Stage.Aborted;
            emit RoundAborted(id, Stage.Voting, 0);
            return;
        }
        address[] memory cands = r.candidates;
        uint256[] memory ratios = r.candidateRatios;
        uint256 n = cands.length;
        uint256[] memory scores = tally(id);
        uint256[] memory eff = new uint256[](n);
        uint256 excluded;
        uint256 eligible;
        for (uint256 i; i < n; ++i) {
            // weighed by the lower of the ratio frozen at closeNomination and the current one, so
            // reports made during the vote cannot lower it but dismissals of earlier reports reach it
            // (h15-red2 R8); eligible by the same ratio (s20-redm F1: a report made during the round
            // is deferred to its end anyway, so the ratio now cannot exceed the frozen one); a
            // candidate that left (even if enrolled again: it is no elector of the round, R3) is not
            // seated
            uint256 ratioNow = _ratio(cands[i]);
            if (ratioNow < ratios[i]) ratios[i] = ratioNow;
            eff[i] = BordaCount.weigh(scores[i], ratios[i]);
            if (isElector(id, cands[i]) && ratios[i] < BordaCount.WAD) ++eligible;
            else excluded |= 1 << i;
        }
        uint256 seats = _params.seats;
        if (eligible < seats) {
            r.stage = Stage.Aborted;
            emit RoundAborted(id, Stage.Voting, eligible);
            return;
        }
        (uint256[] memory order, uint256[] memory top) = _top(cands, eff, ratios, seats, excluded, r.electionSeed);
        for (uint256 i; i < seats; ++i) {
            address a = cands[order[i]];
            r.authorities.push(a);
            _seatRound[a] = id + 1;
        }
        r.stage = Stage.Elected;
        _sitting = id;
        emit AuthoritiesElected(id, r.authorities, top);
    }

    // ---------------------------------------------------------------- misbehaviour

    /// @inheritdoc IAuthorityElection
    function report(address node, uint8 behaviour, bytes32 evidence) external returns (bytes32 id) {
        if (behaviour >= BordaCount.BEHAVIOURS) revert AuthorityElection__InvalidBehaviour(behaviour);
        // every member holds an election nullifier (s20 F5), and a former account of a person stays
        // reportable: the report reaches the person's record, which her next account inherits (s20 F2)
        if (_personOf[node] == bytes32(0)) revert AuthorityElection__NotMember(node);
        // a person reports none of her accounts, former ones included (s23-rtm F6: persons, not accounts)
        if (node == msg.sender || _personOf[node] == _personOf[msg.sender]) revert AuthorityElection__SelfReport(node);
        // keyed on (node, behaviour, evidence): a report about another node cannot occupy the id of
        // a report about this one (h7-audit finding M1)
        id = reportIdOf(node, behaviour, evidence);
        Report storage rp = _reports[id];
        if (rp.state == ReportState.None) {
            (rp.node, rp.behaviour, rp.state) = (node, behaviour, ReportState.Attesting);
        } else if (rp.state != ReportState.Attesting) {
            revert AuthorityElection__ReportApplied(id);
        }
        if (hasRole(DETECTOR_ROLE, msg.sender)) {
            _apply(id, rp);
            return id;
        }
        if (!isAuthority(msg.sender)) revert AuthorityElection__NotAuthority(msg.sender);
        // A nominee of the open round may not help punish a rival of that round: the rival is a
        // person, reached through any account she held (s23-rtm F6), and a nominee is one who
        // accepted (s23-rtm F3: nobody is silenced by being nominated).
        Stage st = _rounds[_current].stage;
        if (
            (st == Stage.Nomination || st == Stage.Voting) &&
            _isNomineePerson(_current, msg.sender) &&
            _isNomineePerson(_current, node)
        ) revert AuthorityElection__ConflictOfInterest(msg.sender, node);
        uint16 n = rp.attestations;
        mapping(uint256 => address) storage attesters = _attesters[id];
        for (uint256 i; i < n; ++i)
            if (attesters[i] == msg.sender) revert AuthorityElection__AlreadyAttested(id, msg.sender);
        attesters[n] = msg.sender;
        rp.attestations = ++n;
        emit MisbehaviourAttested(id, node, behaviour, msg.sender, n);
        uint256 quorum = _params.reportQuorum;
        if (n < quorum) return id;
        // Only attesters who sit now count (h11-red2 M3), as the CredentialLedger re-checks its
        // approvers: the caller sits (checked above), the others are asked again.
        uint256 sitting = 1;
        for (uint256 i; i < n - 1; ++i) if (isAuthority(attesters[i])) ++sitting;
        if (sitting < quorum) {
            emit AttestationsStale(id, n, sitting);
            return id;
        }
        _apply(id, rp);
    }

    /// @inheritdoc IAuthorityElection
    function contest(bytes32 id) external {
        Report storage rp = _reports[id];
        if (rp.state != ReportState.Applied) revert AuthorityElection__NotContestable(id, rp.state);
        // the reported account, or the person's account now, if she has one (her record carries the count)
        address holder = _electorOf[_reportPerson[id]];
        if (msg.sender != rp.node && (holder == address(0) || holder != msg.sender))
            revert AuthorityElection__NotReportedNode(id, msg.sender);
        rp.state = ReportState.Contested;
        emit ReportContested(id, rp.node);
    }

    /// @inheritdoc IAuthorityElection
    function resolveContest(bytes32 id, bool uphold) external onlyRole(ARBITER_ROLE) {
        Report storage rp = _reports[id];
        if (rp.state != ReportState.Contested) revert AuthorityElection__NotContestable(id, rp.state);
        address node = rp.node;
        if (uphold) {
            rp.state = ReportState.Upheld;
        } else {
            rp.state = ReportState.Dismissed;
            // the record the report raised, even if the account holds another person's e since;
            // a report still deferred (its round has not ended) is taken out before it applies
            bytes32 e = _reportPerson[id];
            uint256 w = _settled(_records[e]);
            uint256 shift = 16 * uint256(rp.behaviour);
            if (rp.deferredTo != 0 && (w >> _ROUND_SHIFT) == rp.deferredTo) shift += _DEFERRED_SHIFT;
            if (((w >> shift) & _LANE) != 0) w -= 1 << shift;
            _records[e] = w;
        }
        emit ReportResolved(id, node, uphold, _capped(node, rp.behaviour), _ratio(node));
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAuthorityElection
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @inheritdoc IAuthorityElection
    function currentRound() external view returns (uint256) {
        return _current;
    }

    /// @inheritdoc IAuthorityElection
    function sittingRound() external view returns (uint256) {
        return _sitting;
    }

    /// @inheritdoc IAuthorityElection
    function round(uint256 id) external view returns (Round memory) {
        return _rounds[id];
    }

    /// @inheritdoc IAuthorityElection
    function authorities() external view returns (address[] memory) {
        return _rounds[_sitting].authorities;
    }

    /// @inheritdoc IAuthorityElection
    function isAuthority(address account) public view returns (bool) {
        // a member removed since its election (registrar, or a revoked registration) leaves its seat;
        // the seat's powers read R with the counts deferred to the open round's end (s21-review2 M1:
        // the round decides eligibility and weight, not who approves and attests during it)
        return _members[account] && _seatRound[account] == _sitting + 1 && _ratioWithDeferred(account) < BordaCount.WAD;
    }

    /// @inheritdoc IAuthorityElection
    function isMember(address account) external view returns (bool) {
        return _members[account];
    }

    /// @inheritdoc IAuthorityElection
    function isElector(uint256 id, address account) public view returns (bool) {
        return _members[account] && _enrolledAt[account] < id;
    }

    /// @inheritdoc IAuthorityElection
    function memberCount() external view returns (uint256) {
        return _memberCount;
    }

    /// @inheritdoc IAuthorityElection
    function electorOf(bytes32 e) external view returns (address) {
        return _electorOf[e];
    }

    /// @inheritdoc IAuthorityElection
    function electorNullifierOf(address member) external view returns (bytes32) {
        return _electorNullifierOf[member];
    }

    /// @inheritdoc IAuthorityElection
    function personOf(address account) external view returns (bytes32) {
        return _personOf[account];
    }

    /// @inheritdoc IAuthorityElection
    function reportPersonOf(bytes32 id) external view returns (bytes32) {
        return _reportPerson[id];
    }

    /// @inheritdoc IAuthorityElection
    function misbehaviour(address node) external view returns (uint16[4] memory counts, uint256 ratio) {
        for (uint256 f; f < BordaCount.BEHAVIOURS; ++f) counts[f] = _capped(node, f);
        ratio = _ratio(node);
    }

    /// @inheritdoc IAuthorityElection
    function deferredMisbehaviour(address node) external view returns (uint16[4] memory counts, uint256 until) {
        uint256 w = _records[_personOf[node]];
        until = w >> _ROUND_SHIFT;
        if (until == 0 || _ended(until)) return (counts, 0);
        for (uint256 f; f < BordaCount.BEHAVIOURS; ++f) counts[f] = uint16(w >> (_DEFERRED_SHIFT + 16 * f));
    }

    /// @inheritdoc IAuthorityElection
    function reportOf(bytes32 id) external view returns (Report memory) {
        return _reports[id];
    }

    /// @inheritdoc IAuthorityElection
    function reportIdOf(address node, uint8 behaviour, bytes32 evidence) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), node, behaviour, evidence));
    }

    /// @inheritdoc IAuthorityElection
    function nominations(uint256 id, address nominee) external view returns (uint256) {
        return _nominations[id][nominee];
    }

    /// @inheritdoc IAuthorityElection
    function tally(uint256 id) public view returns (uint256[] memory scores) {
        uint256 n = _rounds[id].candidates.length;
        scores = new uint256[](n);
        uint256[8] storage t = _tallies[id];
        for (uint256 i; i < n; ++i) scores[i] = (t[i / BordaCount.LANES] >> (32 * (i % BordaCount.LANES))) & 0xffffffff;
    }

    /// @inheritdoc IAuthorityElection
    function hasNominated(uint256 id, address member) external view returns (bool) {
        return _nominated[id][member];
    }

    /// @inheritdoc IAuthorityElection
    function hasVoted(uint256 id, address member) external view returns (bool) {
        return _voted[id][member];
    }

    /// @inheritdoc IAuthorityElection
    function isStanding(uint256 id, address member) external view returns (bool) {
        return _standing[id][member];
    }

    // ---------------------------------------------------------------- internals

    /// @dev Round `id`, which must be the current one, in its nomination stage and before its end.
    function _nominationStage(uint256 id) private view returns (Round storage r) {
        if (id != _current) revert AuthorityElection__NotCurrentRound(id, _current);
        r = _rounds[id];
        if (r.stage != Stage.Nomination) revert AuthorityElection__WrongStage(id, r.stage);
        if (block.timestamp >= r.nominationEnd) revert AuthorityElection__TooLate(id, r.nominationEnd);
    }

    /// @dev Whether the person behind `account` (the account itself, or the account that holds
    /// now the election nullifier it last held) is a nominee of round `id`: nominated, and
    /// standing, since nominations go only to those who stand.
    function _isNomineePerson(uint256 id, address account) private view returns (bool) {
        if (_nominations[id][account] != 0) return true;
        address holder = _electorOf[_personOf[account]];
        return holder != address(0) && holder != account && _nominations[id][holder] != 0;
    }

    /// @dev Enrols `member` as the elector of the person behind `e` (one account per e, one e per
    /// account; a no-op for a member that holds it): the one way in, for genesis and the registrar.
    function _enrolPerson(address member, bytes32 e) private {
        if (e == bytes32(0)) revert AuthorityElection__ZeroElectorNullifier(member);
        address holder = _electorOf[e];
        if (holder != address(0) && holder != member) revert AuthorityElection__ElectorNullifierTaken(e, holder);
        bytes32 held = _electorNullifierOf[member];
        if (held != bytes32(0) && held != e) revert AuthorityElection__ElectorNullifierMismatch(member, held, e);
        if (holder == address(0)) {
            _electorOf[e] = member;
            _electorNullifierOf[member] = e;
            _personOf[member] = e;
            emit ElectorNullifierBound(member, e);
        }
        if (_members[member]) return;
        _members[member] = true;
        _enrolledAt[member] = _current;
        ++_memberCount;
        emit MemberEnrolled(member);
    }

    /// @dev Eq. 1's applied counts of `node`: its person's (the last election nullifier it held; an
    /// account that never held one, i.e. never was a member, reads the empty record of e = 0, never
    /// written), with the deferred ones of a round that has ended
    function _counts(address node, uint256 f) private view returns (uint16) {
        return uint16(_settled(_records[_personOf[node]]) >> (16 * f));
    }

    /// @dev `w` with its deferred counts added to the applied ones (saturating) if their round has
    /// ended, and then no deferred counts; else `w`
    function _settled(uint256 w) private view returns (uint256) {
        uint256 d = w >> _ROUND_SHIFT;
        if (d == 0 || !_ended(d)) return w;
        return _folded(w);
    }

    /// @dev `w`'s applied counts plus its deferred ones (saturating), whether or not their round
    /// has ended; no deferred counts, no round
    function _folded(uint256 w) private pure returns (uint256 out) {
        for (uint256 f; f < BordaCount.BEHAVIOURS; ++f) {
            uint256 c = ((w >> (16 * f)) & _LANE) + ((w >> (_DEFERRED_SHIFT + 16 * f)) & _LANE);
            out |= (c < _LANE ? c : _LANE) << (16 * f);
        }
    }

    /// @dev Whether round `d` (<= the current one) has ended: elected or aborted
    function _ended(uint256 d) private view returns (bool) {
        return d != _current || _rounds[d].stage > Stage.Voting;
    }

    /// @dev Whether `node`'s person (`e`) is still in the race of the open round: the reported
    /// account or the account that holds e now (one person has one nominee account) is an elector
    /// of the round and, during the nomination stage, stands in it or is a nominee (s25-rtm F1: a
    /// stander waiting for her nominators could be made ineligible before the first nomination),
    /// during the vote, a candidate (s21-review2 L1: a nominee not selected or removed is in no
    /// race any more; an evicted one still stands and may be nominated again)
    function _inOpenRace(address node, bytes32 e) private view returns (uint256 cur, bool racing) {
        cur = _current;
        Round storage r = _rounds[cur];
        Stage st = r.stage;
        if (st != Stage.Nomination && st != Stage.Voting) return (cur, false);
        racing = _racing(cur, r, st, node);
        if (!racing) {
            address holder = _electorOf[e];
            if (holder != node) racing = _racing(cur, r, st, holder);
        }
    }

    /// @dev Whether `x` is in round `id`'s race at stage `st` (Nomination or Voting): see `_inOpenRace`
    function _racing(uint256 id, Round storage r, Stage st, address x) private view returns (bool) {
        // a nominee stands (`nominate` requires it or makes it so), and an evicted one still does
        if (st == Stage.Nomination) return _standing[id][x] && isElector(id, x);
        if (_nominations[id][x] == 0 || !isElector(id, x)) return false;
        // at most 2m <= 64 candidates, each one a nominee
        address[] storage cands = r.candidates;
        uint256 n = cands.length;
        for (uint256 i; i < n; ++i) if (cands[i] == x) return true;
        return false;
    }

    function _capped(address node, uint256 f) private view returns (uint16) {
        return _cap(_counts(node, f), f);
    }

    function _cap(uint16 c, uint256 f) private view returns (uint16) {
        uint16 cap = _params.caps[f];
        return c < cap ? c : cap;
    }

    /// @dev Eq. 1's R_bw of `node` as the round reads it: without the counts deferred to the open
    /// round's end (eligibility and weight at `nominate`, `closeNomination`, `elect`, eviction)
    function _ratio(address node) private view returns (uint256) {
        return _ratioOf(_settled(_records[_personOf[node]]));
    }

    /// @dev R_bw of `node` with its deferred counts, as the seat's powers read it (`isAuthority`)
    function _ratioWithDeferred(address node) private view returns (uint256) {
        uint256 w = _records[_personOf[node]];
        // no round named: no deferred counts (they are written with their round, folded away with it)
        return _ratioOf(w >> _ROUND_SHIFT == 0 ? w : _folded(w));
    }

    /// @dev Eq. 1 over a record word's applied counts (capped at A_f)
    function _ratioOf(uint256 w) private view returns (uint256) {
        uint16[4] memory c;
        for (uint256 f; f < BordaCount.BEHAVIOURS; ++f) c[f] = _cap(uint16(w >> (16 * f)), f);
        return BordaCount.misbehaviourRatio(c, _params.caps, _params.weights);
    }

    /// @dev A report reached its quorum (or came from the detector): it counts now, or, about a
    /// stander, nominee or candidate of the open round (`_inOpenRace`), when that round ends (s20-redm F1: whoever profits from the
    /// round's outcome, a rival or a sitting authority an abort keeps in its seat, cannot change a
    /// nominee's eligibility or weight during it)
    function _apply(bytes32 id, Report storage rp) private {
        rp.state = ReportState.Applied;
        address node = rp.node;
        uint8 f = rp.behaviour;
        bytes32 e = _personOf[node];
        _reportPerson[id] = e;
        uint256 w = _settled(_records[e]);
        (uint256 cur, bool nominee) = _inOpenRace(node, e);
        // deferred: w's round is none or `cur` (an earlier one has ended and was folded in above)
        uint256 shift = nominee ? _DEFERRED_SHIFT + 16 * uint256(f) : 16 * uint256(f);
        if (((w >> shift) & _LANE) < _LANE) w += 1 << shift;
        if (nominee) {
            w |= cur << _ROUND_SHIFT;
            rp.deferredTo = uint64(cur);
        }
        _records[e] = w;
        if (nominee) emit MisbehaviourDeferred(id, node, f, cur);
        else emit MisbehaviourRecorded(id, node, f, _capped(node, f), _ratio(node));
    }

    /// @dev Makes room for `newcomer` (one nomination, Eq. 2 votes `fresh`): the weakest nominee
    /// leaves if it is no stronger, and its nominators get their nomination back.
    function _evictWeakest(uint256 id, Round storage r, address newcomer, uint256 fresh) private {
        uint256 n = r.nominees.length;
        uint256 weakest;
        uint256 weakestVotes = type(uint256).max;
        for (uint256 i; i < n; ++i) {
            address x = r.nominees[i];
            uint256 v = isElector(id, x) ? BordaCount.weigh(_nominations[id][x], _ratio(x)) : 0;
            if (v < weakestVotes) (weakest, weakestVotes) = (i, v);
        }
        if (weakestVotes > fresh) revert AuthorityElection__TooManyNominees();
        address out = r.nominees[weakest];
        r.nominees[weakest] = r.nominees[n - 1];
        r.nominees.pop();
        address[] storage backers = _nominators[id][out];
        uint256 returned = backers.length;
        for (uint256 i; i < returned; ++i) _nominated[id][backers[i]] = false;
        delete _nominators[id][out];
        _nominations[id][out] = 0;
        emit NomineeEvicted(id, out, newcomer, returned);
    }

    /// @dev The k best entries not in `excluded`, by (score desc, ratio asc, keccak(seed, id) asc),
    /// in order, with their scores.
    function _top(
        address[] memory ids,
        uint256[] memory scores,
        uint256[] memory ratios,
        uint256 k,
        uint256 excluded,
        bytes32 seed
    ) private pure returns (uint256[] memory order, uint256[] memory top) {
        uint256 n = ids.length;
        uint256[] memory keys = new uint256[](n);
        for (uint256 i; i < n; ++i) keys[i] = uint256(keccak256(abi.encode(seed, ids[i])));
        order = new uint256[](k);
        top = new uint256[](k);
        uint256 taken = excluded;
        for (uint256 s; s < k; ++s) {
            uint256 best = type(uint256).max;
            for (uint256 i; i < n; ++i) {
                if ((taken >> i) & 1 == 1) continue;
                if (best == type(uint256).max || _better(i, best, scores, ratios, keys)) best = i;
            }
            taken |= 1 << best;
            order[s] = best;
            top[s] = scores[best];
        }
    }

    function _better(
        uint256 i,
        uint256 j,
        uint256[] memory scores,
        uint256[] memory ratios,
        uint256[] memory keys
    ) private pure returns (bool) {
        if (scores[i] != scores[j]) return scores[i] > scores[j];
        if (ratios[i] != ratios[j]) return ratios[i] < ratios[j];
        return keys[i] < keys[j];
    }
}
