// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAuthorityElection} from "../interfaces/IAuthorityElection.sol";
import {BordaCount} from "../libraries/BordaCount.sol";

/// @title AuthorityElection
/// @notice MSSA authority election: nomination weighted by Eq. 2, Borda count (Eqs. 3-4) weighted
/// by the misbehaviour ratio (Eq. 1). See IAuthorityElection for the rules.
contract AuthorityElection is IAuthorityElection, AccessControl {
    /// @notice Enrols and removes members (the operator, and the CredentialLedger on approval).
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Applies misbehaviour reports alone (the trust layer's detectors).
    bytes32 public constant DETECTOR_ROLE = keccak256("DETECTOR_ROLE");
    /// @notice Most nominees in one round.
    uint256 public constant MAX_NOMINEES = 128;

    Params private _params;
    mapping(address member => bool) private _members;
    uint256 private _memberCount;
    mapping(address node => uint16[4]) private _counts;
    mapping(uint256 id => Round) private _rounds;
    mapping(uint256 id => uint256[8]) private _tallies;
    mapping(uint256 id => mapping(address nominee => uint256)) private _nominations;
    mapping(uint256 id => mapping(address member => bool)) private _nominated;
    mapping(uint256 id => mapping(address member => bool)) private _voted;
    /// @dev round + 1 of the last round in which the account was elected (0 = never)
    mapping(address account => uint256) private _seatRound;
    mapping(bytes32 reportId => mapping(address authority => bool)) private _attested;
    mapping(bytes32 reportId => uint256) private _attestations;
    mapping(bytes32 reportId => bool) private _applied;
    uint256 private _current;
    uint256 private _sitting;

    /// @param admin the operator (admin, REGISTRAR_ROLE)
    /// @param p the parameters
    /// @param genesis round 0's authorities (members; at least reportQuorum, at most seats)
    constructor(address admin, Params memory p, address[] memory genesis) {
        if (
            p.seats == 0 ||
            2 * uint256(p.seats) > BordaCount.MAX_CANDIDATES ||
            p.reportQuorum == 0 ||
            p.reportQuorum > p.seats ||
            genesis.length < p.reportQuorum ||
            genesis.length > p.seats
        ) revert AuthorityElection__InvalidParams();
        for (uint256 f; f < BordaCount.BEHAVIOURS; ++f) if (p.caps[f] == 0) revert AuthorityElection__InvalidParams();
        _params = p;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
        Round storage r0 = _rounds[0];
        r0.stage = Stage.Elected;
        for (uint256 i; i < genesis.length; ++i) {
            address a = genesis[i];
            if (a == address(0) || _seatRound[a] == 1) revert AuthorityElection__InvalidParams();
            _enrol(a);
            _seatRound[a] = 1;
            r0.authorities.push(a);
        }
    }

    // ---------------------------------------------------------------- members

    /// @inheritdoc IAuthorityElection
    function enrol(address member) external onlyRole(REGISTRAR_ROLE) {
        if (member == address(0)) revert AuthorityElection__NotMember(member);
        _enrol(member);
    }

    /// @inheritdoc IAuthorityElection
    function remove(address member) external onlyRole(REGISTRAR_ROLE) {
        if (!_members[member]) revert AuthorityElection__NotMember(member);
        _members[member] = false;
        --_memberCount;
        emit MemberRemoved(member);
    }

    // ---------------------------------------------------------------- rounds

    /// @inheritdoc IAuthorityElection
    function openRound() external returns (uint256 id) {
        Round storage prev = _rounds[_current];
        if (prev.stage != Stage.Elected) revert AuthorityElection__WrongStage(_current, prev.stage);
        uint256 needed = 2 * uint256(_params.seats) + 1;
        if (_memberCount < needed) revert AuthorityElection__TooFewMembers(_memberCount, needed);
        id = ++_current;
        Round storage r = _rounds[id];
        r.stage = Stage.Nomination;
        r.nominationEnd = uint40(block.timestamp + _params.nominationPeriod);
        r.votingEnd = uint40(uint256(r.nominationEnd) + _params.votingPeriod);
        emit RoundOpened(id, r.nominationEnd, r.votingEnd);
    }

    /// @inheritdoc IAuthorityElection
    function nominate(address nominee) external {
        uint256 id = _current;
        Round storage r = _rounds[id];
        if (r.stage != Stage.Nomination) revert AuthorityElection__WrongStage(id, r.stage);
        if (block.timestamp >= r.nominationEnd) revert AuthorityElection__TooLate(id, r.nominationEnd);
        if (!_members[msg.sender]) revert AuthorityElection__NotMember(msg.sender);
        if (!_members[nominee]) revert AuthorityElection__NotMember(nominee);
        if (_nominated[id][msg.sender]) revert AuthorityElection__AlreadyNominated(id, msg.sender);
        uint256 ratio = _ratio(nominee);
        if (ratio >= BordaCount.WAD) revert AuthorityElection__Ineligible(nominee, ratio);
        if (_nominations[id][nominee] == 0) {
            if (r.nominees.length == MAX_NOMINEES) revert AuthorityElection__TooManyNominees();
            r.nominees.push(nominee);
        }
        _nominated[id][msg.sender] = true;
        ++_nominations[id][nominee];
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
        uint256 eligible;
        for (uint256 i; i < n; ++i) {
            ratios[i] = _ratio(nominees[i]);
            eff[i] = BordaCount.weigh(_nominations[id][nominees[i]], ratios[i]);
            if (eff[i] != 0) ++eligible;
        }
        uint256 seats = _params.seats;
        if (eligible <= seats) revert AuthorityElection__TooFewNominees(eligible, seats + 1);
        uint256 k = eligible < 2 * seats ? eligible : 2 * seats;
        (uint256[] memory order, uint256[] memory top) = _top(nominees, eff, ratios, k);
        for (uint256 i; i < k; ++i) r.candidates.push(nominees[order[i]]);
        r.stage = Stage.Voting;
        emit CandidatesSelected(id, r.candidates, top);
    }

    /// @inheritdoc IAuthorityElection
    function vote(uint8[] calldata ranking) external {
        uint256 id = _current;
        Round storage r = _rounds[id];
        if (r.stage != Stage.Voting) revert AuthorityElection__WrongStage(id, r.stage);
        if (block.timestamp >= r.votingEnd) revert AuthorityElection__TooLate(id, r.votingEnd);
        if (!_members[msg.sender]) revert AuthorityElection__NotMember(msg.sender);
        if (_voted[id][msg.sender]) revert AuthorityElection__AlreadyVoted(id, msg.sender);
        uint256[] memory delta = BordaCount.ballotPoints(ranking, r.candidates.length);
        uint256[8] storage t = _tallies[id];
        // Lanes cannot carry: each lane stays below 2^32 (see BordaCount).
        unchecked {
            for (uint256 w; w < delta.length; ++w) t[w] += delta[w];
            ++r.ballots;
        }
        _voted[id][msg.sender] = true;
        emit BallotCast(id, msg.sender);
    }

    /// @inheritdoc IAuthorityElection
    function elect() external {
        uint256 id = _current;
        Round storage r = _rounds[id];
        if (r.stage != Stage.Voting) revert AuthorityElection__WrongStage(id, r.stage);
        if (block.timestamp < r.votingEnd) revert AuthorityElection__TooEarly(id, r.votingEnd);
        address[] memory cands = r.candidates;
        uint256 n = cands.length;
        uint256[] memory scores = tally(id);
        uint256[] memory eff = new uint256[](n);
        uint256[] memory ratios = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            ratios[i] = _ratio(cands[i]);
            eff[i] = BordaCount.weigh(scores[i], ratios[i]);
        }
        uint256 seats = _params.seats;
        (uint256[] memory order, uint256[] memory top) = _top(cands, eff, ratios, seats);
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
    function report(address node, uint8 behaviour, bytes32 evidence) external returns (bytes32 reportId) {
        if (behaviour >= BordaCount.BEHAVIOURS) revert AuthorityElection__InvalidBehaviour(behaviour);
        if (!_members[node]) revert AuthorityElection__NotMember(node);
        if (node == msg.sender) revert AuthorityElection__SelfReport(node);
        reportId = keccak256(abi.encode(block.chainid, address(this), _sitting, node, behaviour, evidence));
        if (_applied[reportId]) revert AuthorityElection__ReportApplied(reportId);
        if (hasRole(DETECTOR_ROLE, msg.sender)) {
            _apply(reportId, node, behaviour);
            return reportId;
        }
        if (!isAuthority(msg.sender)) revert AuthorityElection__NotAuthority(msg.sender);
        if (_attested[reportId][msg.sender]) revert AuthorityElection__AlreadyAttested(reportId, msg.sender);
        _attested[reportId][msg.sender] = true;
        uint256 n = ++_attestations[reportId];
        emit MisbehaviourAttested(reportId, node, behaviour, msg.sender, n);
        if (n >= _params.reportQuorum) _apply(reportId, node, behaviour);
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
        return _seatRound[account] == _sitting + 1;
    }

    /// @inheritdoc IAuthorityElection
    function isMember(address account) external view returns (bool) {
        return _members[account];
    }

    /// @inheritdoc IAuthorityElection
    function memberCount() external view returns (uint256) {
        return _memberCount;
    }

    /// @inheritdoc IAuthorityElection
    function misbehaviour(address node) external view returns (uint16[4] memory counts, uint256 ratio) {
        counts = _counts[node];
        ratio = _ratio(node);
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

    // ---------------------------------------------------------------- internals

    function _enrol(address member) private {
        if (_members[member]) return;
        _members[member] = true;
        ++_memberCount;
        emit MemberEnrolled(member);
    }

    function _ratio(address node) private view returns (uint256) {
        return BordaCount.misbehaviourRatio(_counts[node], _params.caps, _params.weights);
    }

    function _apply(bytes32 reportId, address node, uint8 behaviour) private {
        _applied[reportId] = true;
        uint16 c = _counts[node][behaviour];
        if (c < _params.caps[behaviour]) _counts[node][behaviour] = ++c;
        emit MisbehaviourRecorded(reportId, node, behaviour, c, _ratio(node));
    }

    /// @dev The k best entries by (score desc, ratio asc, address asc), in order, with their scores.
    function _top(
        address[] memory ids,
        uint256[] memory scores,
        uint256[] memory ratios,
        uint256 k
    ) private pure returns (uint256[] memory order, uint256[] memory top) {
        uint256 n = ids.length;
        order = new uint256[](k);
        top = new uint256[](k);
        uint256 taken;
        for (uint256 s; s < k; ++s) {
            uint256 best = type(uint256).max;
            for (uint256 i; i < n; ++i) {
                if ((taken >> i) & 1 == 1) continue;
                if (best == type(uint256).max || _better(i, best, ids, scores, ratios)) best = i;
            }
            taken |= 1 << best;
            order[s] = best;
            top[s] = scores[best];
        }
    }

    function _better(
        uint256 i,
        uint256 j,
        address[] memory ids,
        uint256[] memory scores,
        uint256[] memory ratios
    ) private pure returns (bool) {
        if (scores[i] != scores[j]) return scores[i] > scores[j];
        if (ratios[i] != ratios[j]) return ratios[i] < ratios[j];
        return ids[i] < ids[j];
    }
}
