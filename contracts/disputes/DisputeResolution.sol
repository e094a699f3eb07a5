// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDisputeResolution} from "../interfaces/IDisputeResolution.sol";
import {ITrustManager} from "../interfaces/ITrustManager.sol";

/// @title DisputeResolution
/// @notice Reputation-weighted commit-reveal dispute resolution over the TrustManager.
contract DisputeResolution is IDisputeResolution {
    uint8 private constant MAX_OPTIONS = 8;
    uint8 private constant NATURE_AVATAR = 1;
    uint8 private constant ATTACK_MASK = 0x7f;

    ITrustManager private immutable _trust;
    uint64 private immutable _minReputation;
    uint48 private immutable _minAge;
    uint64 private immutable _quorum;
    uint40 private immutable _commitPeriod;
    uint40 private immutable _revealPeriod;
    uint128 private immutable _deposit;
    uint64 private immutable _voterReward;
    uint64 private immutable _voterPenalty;
    uint64 private immutable _loserPenalty;

    uint256 private _count;
    mapping(uint256 id => Dispute) private _disputes;
    mapping(uint256 id => mapping(bytes32 voter => Vote)) private _votes;
    mapping(uint256 id => bytes32[]) private _voters;
    mapping(uint256 id => uint256[8]) private _tally;

    /// @param trust the TrustManager (this contract needs its FEEDBACK_ROLE)
    /// @param p the parameters (periods > 0, reputation amounts <= 1e18, minAge >= 1)
    constructor(ITrustManager trust, Params memory p) {
        if (
            p.commitPeriod == 0 ||
            p.revealPeriod == 0 ||
            p.minAge == 0 ||
            p.minReputation > 1e18 ||
            p.voterReward > 1e18 ||
            p.voterPenalty > 1e18 ||
            p.loserPenalty > 1e18
        ) {
            revert DisputeResolution__InvalidDispute();
        }
        _trust = trust;
        _minReputation = p.minReputation;
        _minAge = p.minAge;
        _quorum = p.quorum;
        _commitPeriod = p.commitPeriod;
        _revealPeriod = p.revealPeriod;
        _deposit = p.deposit;
        _voterReward = p.voterReward;
        _voterPenalty = p.voterPenalty;
        _loserPenalty = p.loserPenalty;
    }

    /// @inheritdoc IDisputeResolution
    function openDispute(
        bytes32 claimant,
        bytes32 respondent,
        uint8 nature,
        uint8 options,
        bytes32 evidence,
        string calldata cid
    ) external payable returns (uint256 id) {
        _requireController(claimant);
        if (claimant == respondent || options < 2 || options > MAX_OPTIONS) revert DisputeResolution__InvalidDispute();
        if (_trust.entity(respondent).kind == ITrustManager.Kind.None) revert DisputeResolution__InvalidDispute();
        if (msg.value != _deposit) revert DisputeResolution__WrongDeposit(_deposit, msg.value);
        id = ++_count;
        Dispute storage d = _disputes[id];
        d.claimant = claimant;
        d.respondent = respondent;
        d.nature = nature;
        d.options = options;
        // Reputation as of the previous block: nothing done from this block on changes a weight.
        d.snapshot = uint48(block.number - 1);
        d.commitDeadline = uint40(block.timestamp + _commitPeriod);
        d.revealDeadline = uint40(block.timestamp + _commitPeriod + _revealPeriod);
        d.deposit = uint128(msg.value);
        d.depositor = msg.sender;
        d.evidence = evidence;
        d.cid = cid;
        emit DisputeOpened(
            id,
            claimant,
            respondent,
            nature,
            options,
            d.snapshot,
            d.commitDeadline,
            d.revealDeadline,
            cid
        );
    }

    /// @inheritdoc IDisputeResolution
    function commit(uint256 id, bytes32 voter, bytes32 commitment) external {
        Dispute storage d = _known(id);
        if (block.timestamp > d.commitDeadline) revert DisputeResolution__NotInCommitPhase(id);
        ITrustManager.Entity memory e = _trust.entity(voter);
        if (e.controller != msg.sender) revert DisputeResolution__NotController(voter, msg.sender);
        // Neither party nor any other entity of a party's controller votes.
        if (
            voter == d.claimant ||
            voter == d.respondent ||
            e.controller == _trust.entity(d.claimant).controller ||
            e.controller == _trust.entity(d.respondent).controller
        ) revert DisputeResolution__PartyCannotVote(id, voter);
        if (e.flags & ATTACK_MASK != 0) revert DisputeResolution__Flagged(id, voter);
        Vote storage v = _votes[id][voter];
        if (v.commitment != bytes32(0)) revert DisputeResolution__AlreadyVoted(id, voter);
        // The commitment binds (id, voter, choice, salt): one copied from another voter can never
        // be revealed by the copier, and it does not stop the owner committing it (no global
        // uniqueness, so no censorship by front-running).
        if (commitment == bytes32(0)) revert DisputeResolution__EmptyCommitment(id, voter);
        uint256 rep = _trust.reputationAt(voter, d.snapshot);
        // Minimum age: registered at least minAge blocks before the snapshot.
        uint256 born = _trust.registeredAt(voter);
        if (rep == 0 || rep < _minReputation || born + _minAge > d.snapshot)
            revert DisputeResolution__NotEligible(id, voter, rep);
        v.commitment = commitment;
        v.weight = uint64(rep);
        _voters[id].push(voter);
        unchecked {
            d.committed += 1;
        }
        emit VoteCommitted(id, voter, uint64(rep));
    }

    /// @inheritdoc IDisputeResolution
    function reveal(uint256 id, bytes32 voter, uint8 choice, bytes32 salt) external {
        Dispute storage d = _known(id);
        if (block.timestamp <= d.commitDeadline || block.timestamp > d.revealDeadline)
            revert DisputeResolution__NotInRevealPhase(id);
        _requireController(voter);
        Vote storage v = _votes[id][voter];
        if (v.commitment == bytes32(0)) revert DisputeResolution__NoCommitment(id, voter);
        if (v.revealed) revert DisputeResolution__AlreadyRevealed(id, voter);
        if (keccak256(abi.encode(id, voter, choice, salt)) != v.commitment)
            revert DisputeResolution__CommitmentMismatch(id, voter);
        if (choice >= d.options) revert DisputeResolution__InvalidChoice(id, choice);
        v.revealed = true;
        v.choice = choice;
        _tally[id][choice] += v.weight;
        unchecked {
            d.revealed += 1;
        }
        emit VoteRevealed(id, voter, choice, v.weight);
    }

    /// @inheritdoc IDisputeResolution
    function resolve(uint256 id) external {
        Dispute storage d = _known(id);
        if (d.resolved) revert DisputeResolution__AlreadyResolved(id);
        if (block.timestamp <= d.revealDeadline) revert DisputeResolution__TooEarly(id, d.revealDeadline);
        d.resolved = true;
        uint256[8] storage t = _tally[id];
        uint256 total;
        uint256 best;
        uint8 winner;
        uint8 tiedCount;
        for (uint8 c; c < d.options; ++c) {
            uint256 w = t[c];
            total += w;
            if (w > best) {
                best = w;
                winner = c;
                tiedCount = 1;
            } else if (w == best && w != 0) {
                ++tiedCount;
                // A tie is no majority for the claim: the lowest-numbered tied option other than
                // 0 ("upheld") wins. Deterministic, so nobody can steer it (docs/specs/disputes.md).
                if (winner == 0) winner = c;
            }
        }
        if (total == 0 || total < _quorum) {
            // Below quorum (or nobody revealed): no decision. The deposit goes back; only
            // non-revealers are penalized.
            d.void_ = true;
            emit DisputeResolved(id, 0, 0, total, false, true);
            _pay(d.depositor, d.deposit);
            return;
        }
        d.outcome = winner;
        d.tieBroken = tiedCount > 1;
        emit DisputeResolved(id, winner, best, total, tiedCount > 1, false);
        bool upheld = winner == 0;
        _trust.adjustReputation(upheld ? d.respondent : d.claimant, -int256(uint256(_loserPenalty)));
        if (upheld && d.nature == NATURE_AVATAR) emit TraceRequested(id, d.respondent, d.evidence);
        // The deposit returns to the claimant if the claim is upheld, else it compensates the respondent.
        _pay(upheld ? d.depositor : _trust.entity(d.respondent).controller, d.deposit);
    }

    /// @inheritdoc IDisputeResolution
    function settle(uint256 id, uint256 max) external returns (uint256 done) {
        Dispute storage d = _known(id);
        if (!d.resolved) revert DisputeResolution__NotResolved(id);
        bytes32[] storage list = _voters[id];
        uint256 i = d.settled;
        uint256 end = max < list.length - i ? i + max : list.length;
        for (; i < end; ++i) {
            Vote storage v = _votes[id][list[i]];
            int256 change =
                !d.void_ && v.revealed && v.choice == d.outcome
                    ? int256(uint256(_voterReward))
                    : v.revealed && d.void_
                        ? int256(0)
                        : -int256(uint256(_voterPenalty));
            if (change != 0) _trust.adjustReputation(list[i], change);
            emit VoterSettled(id, list[i], change);
        }
        d.settled = uint32(end);
        return end;
    }

    /// @inheritdoc IDisputeResolution
    function dispute(uint256 id) external view returns (Dispute memory) {
        return _disputes[id];
    }

    /// @inheritdoc IDisputeResolution
    function voteOf(uint256 id, bytes32 voter) external view returns (Vote memory) {
        return _votes[id][voter];
    }

    /// @inheritdoc IDisputeResolution
    function tally(uint256 id) external view returns (uint256[8] memory) {
        return _tally[id];
    }

    /// @inheritdoc IDisputeResolution
    function phase(uint256 id) external view returns (Phase) {
        Dispute storage d = _disputes[id];
        if (d.options == 0) return Phase.None;
        if (d.resolved) return Phase.Resolved;
        if (block.timestamp <= d.commitDeadline) return Phase.Commit;
        if (block.timestamp <= d.revealDeadline) return Phase.Reveal;
        return Phase.Resolvable;
    }

    /// @inheritdoc IDisputeResolution
    function commitmentFor(uint256 id, bytes32 voter, uint8 choice, bytes32 salt) external pure returns (bytes32) {
        return keccak256(abi.encode(id, voter, choice, salt));
    }

    /// @notice Number of disputes opened.
    function disputeCount() external view returns (uint256) {
        return _count;
    }

    /// @notice The voters who committed, in order.
    function voters(uint256 id) external view returns (bytes32[] memory) {
        return _voters[id];
    }

    /// @notice The deployment parameters.
    function params() external view returns (Params memory) {
        return
            Params(
                _minReputation,
                _minAge,
                _quorum,
                _commitPeriod,
                _revealPeriod,
                _deposit,
                _voterReward,
                _voterPenalty,
                _loserPenalty
            );
    }

    function _pay(address to, uint256 amount) private {
        if (amount == 0) return;
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert DisputeResolution__TransferFailed();
    }

    function _known(uint256 id) private view returns (Dispute storage d) {
        d = _disputes[id];
        if (d.options == 0) revert DisputeResolution__UnknownDispute(id);
    }

    function _requireController(bytes32 entity) private view {
        if (_trust.entity(entity).controller != msg.sender) revert DisputeResolution__NotController(entity, msg.sender);
    }
}
