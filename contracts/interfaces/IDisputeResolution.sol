// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IDisputeResolution
/// @notice Reputation-weighted dispute resolution (trust paper §IV.E, Steps 1-3, Eqs. 21-22) with
/// commit-reveal voting, in the manner of deployed courts (Kleros, Aragon Court).
/// @dev Eligibility and vote weight come from the TrustManager's reputation *at the block before
/// the dispute opened* (checkpoints), so no reputation gained later counts. A vote is a commitment
/// keccak256(abi.encode(disputeId, voter, choice, salt)) revealed after the commit deadline; the
/// tally is kept running at each reveal, and the reputation feedback is settled in bounded
/// batches, so no transaction loops over an unbounded set of voters. w_i = v_i / sum_j v_j
/// (Eq. 21) and r_final = argmax_r sum_{i voted r} w_i (Eq. 22): normalizing does not move the
/// argmax, so the contract compares raw weight sums. A tie goes to the lowest-numbered tied option
/// other than 0 (the claim is not upheld without a majority), a rule nobody in the dispute can
/// steer (docs/specs/disputes.md). An entity votes only if registered at least `minAge` blocks
/// before the snapshot, not flagged, and not controlled by a party's controller; a dispute whose
/// revealed weight is below `quorum` is void.
interface IDisputeResolution {
    /// @notice The life of a dispute, by time.
    enum Phase {
        None,
        Commit,
        Reveal,
        Resolvable,
        Resolved
    }

    /// @notice A dispute (Step 1's request).
    struct Dispute {
        bytes32 claimant;
        bytes32 respondent;
        uint8 nature;
        uint8 options;
        bool resolved;
        uint8 outcome;
        bool tieBroken;
        bool void_;
        uint48 snapshot;
        uint40 commitDeadline;
        uint40 revealDeadline;
        uint32 committed;
        uint32 revealed;
        uint32 settled;
        uint128 deposit;
        address depositor;
        bytes32 evidence;
        string cid;
    }

    /// @notice One voter's vote.
    struct Vote {
        bytes32 commitment;
        uint64 weight;
        uint8 choice;
        bool revealed;
    }

    /// @notice Parameters fixed at deployment.
    /// @param minReputation the least snapshot reputation that votes (WAD)
    /// @param minAge blocks an entity must have been registered before the snapshot to vote (>= 1)
    /// @param quorum the least revealed weight (WAD) for a decision; below it the dispute is void
    struct Params {
        uint64 minReputation;
        uint48 minAge;
        uint64 quorum;
        uint40 commitPeriod;
        uint40 revealPeriod;
        uint128 deposit;
        uint64 voterReward;
        uint64 voterPenalty;
        uint64 loserPenalty;
    }

    error DisputeResolution__UnknownDispute(uint256 id);
    error DisputeResolution__NotController(bytes32 entity, address caller);
    error DisputeResolution__InvalidDispute();
    error DisputeResolution__WrongDeposit(uint256 expected, uint256 sent);
    error DisputeResolution__NotInCommitPhase(uint256 id);
    error DisputeResolution__NotInRevealPhase(uint256 id);
    error DisputeResolution__PartyCannotVote(uint256 id, bytes32 voter);
    error DisputeResolution__NotEligible(uint256 id, bytes32 voter, uint256 reputation);
    error DisputeResolution__AlreadyVoted(uint256 id, bytes32 voter);
    error DisputeResolution__EmptyCommitment(uint256 id, bytes32 voter);
    error DisputeResolution__Flagged(uint256 id, bytes32 voter);
    error DisputeResolution__NoCommitment(uint256 id, bytes32 voter);
    error DisputeResolution__AlreadyRevealed(uint256 id, bytes32 voter);
    error DisputeResolution__CommitmentMismatch(uint256 id, bytes32 voter);
    error DisputeResolution__InvalidChoice(uint256 id, uint8 choice);
    error DisputeResolution__TooEarly(uint256 id, uint256 revealDeadline);
    error DisputeResolution__AlreadyResolved(uint256 id);
    error DisputeResolution__NotResolved(uint256 id);
    error DisputeResolution__TransferFailed();

    event DisputeOpened(
        uint256 indexed id,
        bytes32 indexed claimant,
        bytes32 indexed respondent,
        uint8 nature,
        uint8 options,
        uint48 snapshot,
        uint40 commitDeadline,
        uint40 revealDeadline,
        string cid
    );
    event VoteCommitted(uint256 indexed id, bytes32 indexed voter, uint64 weight);
    event VoteRevealed(uint256 indexed id, bytes32 indexed voter, uint8 choice, uint64 weight);
    /// @notice The outcome: `winningWeight` of `totalWeight` revealed weight (Eq. 21 share = winningWeight / totalWeight).
    event DisputeResolved(
        uint256 indexed id,
        uint8 outcome,
        uint256 winningWeight,
        uint256 totalWeight,
        bool tieBroken,
        bool void_
    );
    event VoterSettled(uint256 indexed id, bytes32 indexed voter, int256 reputationChange);
    /// @notice A dispute over an avatar (nature 1) upheld against it: the identity provider traces it.
    event TraceRequested(uint256 indexed id, bytes32 indexed avatar, bytes32 evidence);

    /// @notice Step 1: opens a dispute. The caller controls `claimant`; msg.value is the deposit.
    /// @param options number of proposed resolutions (2..8); option 0 means "claim upheld"
    function openDispute(
        bytes32 claimant,
        bytes32 respondent,
        uint8 nature,
        uint8 options,
        bytes32 evidence,
        string calldata cid
    ) external payable returns (uint256 id);

    /// @notice Step 2: commits a vote. The caller controls `voter`, which must be eligible: snapshot
    /// reputation >= minReputation, registered >= minAge blocks before the snapshot, no attack flag,
    /// and neither a party nor controlled by a party's controller.
    function commit(uint256 id, bytes32 voter, bytes32 commitment) external;

    /// @notice Step 2: reveals a committed vote and adds its weight to the running tally.
    function reveal(uint256 id, bytes32 voter, uint8 choice, bytes32 salt) external;

    /// @notice Step 3: decides the outcome after the reveal deadline; once.
    function resolve(uint256 id) external;

    /// @notice Feeds reputation back for up to `max` voters (in commit order); callable by anyone after resolve.
    /// @return done the number of voters settled so far
    function settle(uint256 id, uint256 max) external returns (uint256 done);

    function dispute(uint256 id) external view returns (Dispute memory);
    function voteOf(uint256 id, bytes32 voter) external view returns (Vote memory);
    function tally(uint256 id) external view returns (uint256[8] memory);
    function phase(uint256 id) external view returns (Phase);
    function commitmentFor(uint256 id, bytes32 voter, uint8 choice, bytes32 salt) external pure returns (bytes32);
}
