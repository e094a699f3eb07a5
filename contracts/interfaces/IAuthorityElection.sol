// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IAuthorityElection
/// @notice MSSA authority-node election (MSSA paper, "Voting for authority node", Eqs. 1-4,
/// Algorithm 1): a Borda count over the members' preference orders, weighted by each candidate's
/// malicious-behaviour ratio.
/// @dev A round has two stages, both timed by block timestamps:
/// 1. Nomination (Eq. 2): each elector nominates one elector; a nominee's effective nomination
///    votes are vote_i = (sum_j V_j) * (1 - R_bw_i), and the top 2m become the candidates.
/// 2. Voting (Eqs. 3-4): each elector submits a full preference order of the candidates; voter k
///    gives candidate i f^k_i = (number of candidates ranked below i) points; the column sums f_i
///    are kept as a packed running tally. At the end the final score is f_i * (1 - R_bw_i), with
///    R_bw_i frozen when voting opened, and the top m eligible candidates become the authorities.
/// The electors of round r are the members enrolled before r opened and still members. Every round
/// ends: with at most m eligible nominees `closeNomination` aborts it, with fewer than m eligible
/// candidates (still electors of the round; R_bw < 1 by the ratio frozen at closeNomination, or a
/// lower one now) `elect` aborts it; an aborted round keeps the sitting authorities and lets the
/// next round open. The vote runs a full voting period from the actual closeNomination, whoever
/// calls it and whenever; a round in which no ballot was cast elects nobody (`elect` aborts it,
/// s23-rtm F1). Ties are broken by the lower ratio, then by keccak256(seed, address), each seed a
/// commitment from `block.prevrandao` at openRound (before any nomination or ballot exists) XOR the
/// hash of every nomination (nomination seed) or ballot (election seed): no closing or electing call
/// chooses it, and no order of the inputs does. Every nomination and ballot names its round and
/// counts only in it (NotCurrentRound, s23-rtm F2). Only an elector who stands in a round (`stand`,
/// or by nominating herself) may be nominated in it (s23-rtm F3).
/// Misbehaviour counts t_if (Eq. 1, capped at A_f) are raised by a quorum of the sitting authorities
/// attesting the same evidence, or alone by an account with DETECTOR_ROLE; a report is keyed on its
/// evidence alone, so evidence counts once ever. An authority that is a nominee of the open round
/// cannot attest reports about another nominee of that round, the nominee taken as a person: any
/// account her election nullifier was held by (s23-rtm F6). A report about a stander or nominee of
/// the open round (a candidate during the vote), applied after she stood, is deferred: it counts
/// from the round's end (elect or abort) on, so no report made during a round changes the
/// eligibility or weight of anyone taking part in it (s20-redm F1, s25-rtm F1); a dismissal
/// before then takes it out. The reported node can contest an
/// applied report; ARBITER_ROLE upholds or dismisses it (dismissal takes the count back).
/// One person, one elector (h11-red2 M1, s20-redm F5): every member carries an election nullifier
/// e = HMAC(electionKey, "metatrust MSSA elector" || identity), computed off-chain from the identity
/// document checked, by the approving authorities for a registration and by the operator for the
/// genesis authorities and its own enrolments; the election holds at most one account per e
/// (`electorOf`), so one person registered at several places, with several accounts, is one
/// elector. `remove` frees e. There is no way in without one.
interface IAuthorityElection {
    /// @notice Where a round is.
    enum Stage {
        None,
        Nomination,
        Voting,
        Elected,
        Aborted
    }

    /// @notice Where a misbehaviour report is.
    enum ReportState {
        None,
        Attesting,
        Applied,
        Contested,
        Upheld,
        Dismissed
    }

    /// @notice A misbehaviour report, keyed on (node, behaviour, evidence).
    struct Report {
        address node;
        uint8 behaviour;
        ReportState state;
        uint16 attestations;
        /// @dev non-zero: the report was applied while `node`'s person was a nominee of this round,
        /// and counts from its end on (s20-redm F1)
        uint64 deferredTo;
    }

    /// @notice Parameters fixed at deployment.
    struct Params {
        /// @dev m, the authorities per round (2m candidates are drawn from the nominees)
        uint8 seats;
        /// @dev sitting authorities that must attest one misbehaviour report
        uint8 reportQuorum;
        /// @dev seconds of nomination, then seconds of voting (each in [MIN_PERIOD, MAX_PERIOD])
        uint32 nominationPeriod;
        uint32 votingPeriod;
        /// @dev A_f, the most occurrences of each behaviour counted (each > 0)
        uint16[4] caps;
        /// @dev W_f in WAD: 0.4, 0.3, 0.2, 0.3 in the paper (each at most 1, not all 0)
        uint64[4] weights;
    }

    /// @notice One election round.
    struct Round {
        Stage stage;
        uint40 nominationEnd;
        /// @dev the earliest end of the vote until closeNomination, then its block + votingPeriod
        uint40 votingEnd;
        uint32 ballots;
        /// @dev tie-break seed of the candidate cut: openRound's commitment XOR each nomination's
        /// keccak256(nominator, nominee); final at nominationEnd
        bytes32 nominationSeed;
        /// @dev tie-break seed of the election: openRound's commitment XOR each ballot's
        /// keccak256(voter, ranking); final at votingEnd
        bytes32 electionSeed;
        address[] nominees;
        address[] candidates;
        /// @dev the candidates' R_bw frozen when voting opened (Eq. 2's factor at elect)
        uint256[] candidateRatios;
        address[] authorities;
    }

    error AuthorityElection__InvalidParams();
    /// @notice A nomination, acceptance or ballot for `round`, which is not the current round (`current`).
    error AuthorityElection__NotCurrentRound(uint256 round, uint256 current);
    /// @notice `nominee` has not accepted to stand in `round` (`stand`).
    error AuthorityElection__NotStanding(uint256 round, address nominee);
    error AuthorityElection__NotMember(address account);
    error AuthorityElection__NotAuthority(address account);
    error AuthorityElection__WrongStage(uint256 round, Stage stage);
    error AuthorityElection__TooEarly(uint256 round, uint256 until);
    error AuthorityElection__TooLate(uint256 round, uint256 deadline);
    error AuthorityElection__TooFewMembers(uint256 members, uint256 needed);
    error AuthorityElection__TooFewNominees(uint256 nominees, uint256 needed);
    error AuthorityElection__TooManyNominees();
    error AuthorityElection__AlreadyNominated(uint256 round, address member);
    error AuthorityElection__AlreadyVoted(uint256 round, address member);
    error AuthorityElection__Ineligible(address node, uint256 ratio);
    error AuthorityElection__InvalidBehaviour(uint8 behaviour);
    error AuthorityElection__SelfReport(address node);
    error AuthorityElection__AlreadyAttested(bytes32 reportId, address authority);
    error AuthorityElection__ReportApplied(bytes32 reportId);
    error AuthorityElection__NotElector(uint256 round, address account);
    error AuthorityElection__ConflictOfInterest(address reporter, address node);
    error AuthorityElection__NotContestable(bytes32 reportId, ReportState state);
    error AuthorityElection__NotReportedNode(bytes32 reportId, address account);
    /// @notice Another account (`holder`) is the elector of the person behind `electorNullifier`.
    error AuthorityElection__ElectorNullifierTaken(bytes32 electorNullifier, address holder);
    /// @notice `member` is already the elector of another election nullifier (`held`): one account,
    /// one person.
    error AuthorityElection__ElectorNullifierMismatch(address member, bytes32 held, bytes32 given);
    /// @notice An elector enrolment without an election nullifier (zero).
    error AuthorityElection__ZeroElectorNullifier(address member);

    event MemberEnrolled(address indexed member);
    event MemberRemoved(address indexed member);
    /// @notice `member` became the elector of the person behind `electorNullifier` (it holds it).
    event ElectorNullifierBound(address indexed member, bytes32 indexed electorNullifier);
    /// @notice `member` was removed and `electorNullifier` is free again: the person may enrol one
    /// account again.
    event ElectorNullifierReleased(address indexed member, bytes32 indexed electorNullifier);
    /// @notice A sitting authority of round `round` was removed and lost its seat (only an
    /// election seats it again).
    event SeatVacated(address indexed member, uint256 indexed round);
    event RoundOpened(uint256 indexed round, uint40 nominationEnd, uint40 votingEnd);
    event Nominated(uint256 indexed round, address indexed nominator, address indexed nominee);
    /// @notice `member` stands in `round`: she accepts being nominated (s23-rtm F3).
    event Standing(uint256 indexed round, address indexed member);
    /// @notice The vote of `round` opened at closeNomination and runs until `votingEnd`.
    event VotingOpened(uint256 indexed round, uint40 votingEnd);
    event CandidatesSelected(uint256 indexed round, address[] candidates, uint256[] effectiveVotes);
    event BallotCast(uint256 indexed round, address indexed voter);
    event AuthoritiesElected(uint256 indexed round, address[] authorities, uint256[] finalScores);
    event RoundAborted(uint256 indexed round, Stage stage, uint256 eligible);
    event NomineeEvicted(
        uint256 indexed round,
        address indexed evicted,
        address indexed by,
        uint256 returnedNominations
    );
    event ReportContested(bytes32 indexed reportId, address indexed node);
    event ReportResolved(bytes32 indexed reportId, address indexed node, bool upheld, uint16 count, uint256 ratio);
    event MisbehaviourAttested(
        bytes32 indexed reportId,
        address indexed node,
        uint8 behaviour,
        address reporter,
        uint256 attestations
    );
    /// @notice A report has `attestations` attestations but only `sitting` of their authorities
    /// sit now (fewer than the quorum): it stays open for more attestations.
    event AttestationsStale(bytes32 indexed reportId, uint256 attestations, uint256 sitting);
    event MisbehaviourRecorded(
        bytes32 indexed reportId,
        address indexed node,
        uint8 behaviour,
        uint16 count,
        uint256 ratio
    );
    /// @notice A report reached its quorum (or came from the detector) while `node`'s person stands
    /// in, is a nominee of or is a candidate of `round`: it counts when the round ends (elect or abort), unless dismissed first.
    event MisbehaviourDeferred(bytes32 indexed reportId, address indexed node, uint8 behaviour, uint256 round);

    /// @notice Adds `member` (one of the M active users) as the elector of the person behind
    /// `electorNullifier`: the CredentialLedger, on the approval of a registration that carries it,
    /// or the operator, with e computed from the member's identity document with the election key
    /// (`mssa:enrol`). The only way to enrol a member after genesis (s20-redm F5). At most one
    /// account per election nullifier and one election nullifier per account: a no-op when `member`
    /// already holds it.
    /// REGISTRAR_ROLE.
    /// @param electorNullifier e = HMAC(electionKey, "metatrust MSSA elector" || identity), non-zero
    /// @dev Reverts ZeroElectorNullifier on zero, ElectorNullifierTaken when another account holds
    /// it, ElectorNullifierMismatch when `member` holds another one; nothing changes then.
    function enrolElector(address member, bytes32 electorNullifier) external;

    /// @notice Removes a member (it stops being an elector at once) and frees its election
    /// nullifier, if it holds one (ElectorNullifierReleased). A sitting authority also loses its
    /// seat for good (SeatVacated): enrolled again, it sits only if an election seats it.
    /// REGISTRAR_ROLE.
    function remove(address member) external;

    /// @notice Opens the next round once the previous one is elected or aborted; needs M > 2m
    /// members. The electorate is the members enrolled before this call.
    function openRound() external returns (uint256 round);

    /// @notice Nominates an elector for the current round (one nomination per elector). When
    /// MAX_NOMINEES are nominated, a new nominee evicts the weakest (lowest Eq. 2 votes, newcomer
    /// wins ties) and the evicted nominee's nominators may nominate again; if every nominee is
    /// stronger than one nomination, a new nominee is refused (TooManyNominees).
    /// @param round the current round (NotCurrentRound otherwise: a nomination held back never
    /// counts in a later round)
    /// @param nominee an elector of the round who stands in it (`stand`; NotStanding otherwise),
    /// or the caller herself, which makes her stand
    function nominate(uint256 round, address nominee) external;

    /// @notice The caller, an elector of `round` (the current round, in its nomination stage),
    /// accepts being nominated in it: until she does, nobody can nominate her and she is bound by
    /// none of a nominee's rules (s23-rtm F3). A repeat is a no-op.
    function stand(uint256 round) external;

    /// @notice After the nomination period: selects the top 2m eligible nominees by Eq. 2 as
    /// candidates and freezes their ratios, or aborts the round if at most m are eligible. The vote
    /// then runs for votingPeriod from this block (VotingOpened), whenever it is called.
    function closeNomination() external;

    /// @notice Casts a ballot for `round` (the current round; NotCurrentRound otherwise):
    /// candidate indices from most to least preferred, a full order.
    function vote(uint256 round, uint8[] calldata ranking) external;

    /// @notice After the voting period: the top m eligible candidates by Borda score times the
    /// frozen (1 - R_bw) sit; aborts the round if no ballot was cast (RoundAborted with eligible 0)
    /// or fewer than m candidates are eligible (still electors of the round, frozen R_bw < 1). Then the round's deferred reports count.
    function elect() external;

    /// @notice Reports misbehaviour of type `behaviour` (0 block detection, 1 communication,
    /// 2 no response, 3 other) by `node`, backed by `evidence` (a hash, e.g. of an IPFS record).
    /// The report id is keccak256(chainid, this, node, behaviour, evidence): one piece of evidence
    /// counts once ever against a node for a behaviour, and a report about another node or
    /// behaviour never occupies its id (so nobody can pre-empt a report by filing its evidence first).
    /// A sitting authority attests; the count rises when `reportQuorum` distinct authorities that
    /// sit at that moment have attested it: an attestation by an authority that has since been
    /// removed, voted out or reached R_bw = 1 does not count (AttestationsStale), though it still
    /// counts again if that authority sits again. A DETECTOR_ROLE account applies it alone.
    /// `node` is a member or a former member: the count goes to the record of the person behind the
    /// last election nullifier it held (shared by all her accounts, s20-redm F2). If that person is
    /// in the open round's race (the reported account or her account now is an elector of the round
    /// and, during the nomination stage, stands in it or is a nominee (s25-rtm F1), during the vote,
    /// a candidate: s21-review2 L1),
    /// the count is deferred to the round's end (MisbehaviourDeferred, `Report.deferredTo`): it
    /// changes neither her eligibility nor her weight in that round (s20-redm F1). It does count at
    /// once against her seat's powers: `isAuthority` reads it (s21-review2 M1).
    function report(address node, uint8 behaviour, bytes32 evidence) external returns (bytes32 reportId);

    /// @notice The reported node (or the account that now holds the election nullifier of the person
    /// whose record the report raised) contests an applied report; its count stands until ARBITER_ROLE rules.
    function contest(bytes32 reportId) external;

    /// @notice ARBITER_ROLE rules on a contested report: upheld (final) or dismissed (count taken
    /// back; a deferred count whose round has not ended yet never applies).
    function resolveContest(bytes32 reportId, bool uphold) external;

    /// @notice One report.
    function reportOf(bytes32 reportId) external view returns (Report memory);

    /// @notice The id of the report of `node`'s misbehaviour `behaviour` backed by `evidence`.
    function reportIdOf(address node, uint8 behaviour, bytes32 evidence) external view returns (bytes32);

    /// @notice Whether `account` may nominate, be nominated and vote in round `id`.
    function isElector(uint256 id, address account) external view returns (bool);

    /// @notice The parameters.
    function params() external view returns (Params memory);

    /// @notice The round being run (the last opened).
    function currentRound() external view returns (uint256);

    /// @notice The last elected round, whose authorities sit (0 = the genesis authorities).
    function sittingRound() external view returns (uint256);

    /// @notice One round.
    function round(uint256 id) external view returns (Round memory);

    /// @notice The authorities the sitting round elected, as elected: one removed since (SeatVacated)
    /// or at R_bw = 1 is still listed but does not sit. Ask `isAuthority` for who sits now.
    function authorities() external view returns (address[] memory);

    /// @notice Whether `account` is a sitting authority (elected in the sitting round, still a
    /// member, R_bw < 1): a member removed during its term stops approving and attesting at once.
    /// R_bw here includes the counts deferred to the open round's end (`deferredMisbehaviour`), which
    /// `misbehaviour` leaves out: a sitting authority in the round's race (it may nominate itself)
    /// stops approving and attesting at once when reports take it to R_bw = 1 (s21-review2 M1).
    function isAuthority(address account) external view returns (bool);

    /// @notice Whether `account` is a member.
    function isMember(address account) external view returns (bool);

    /// @notice Number of members (M).
    function memberCount() external view returns (uint256);

    /// @notice The account that is the elector of the person behind `electorNullifier` (zero if none).
    function electorOf(bytes32 electorNullifier) external view returns (address);

    /// @notice The election nullifier `member` holds (zero if none: not a member).
    function electorNullifierOf(address member) external view returns (bytes32);

    /// @notice The election nullifier `account` held last (zero if it never was a member). Kept
    /// after `remove`, unlike `electorNullifierOf`: a former account still names its person, so
    /// `report` accepts it (its report reaches her record) and `electorOf(personOf(a))` is her
    /// account now (s25-rtm F3).
    function personOf(address account) external view returns (bytes32);

    /// @notice The election nullifier of the person whose record applied report `id` raised (zero
    /// if it never applied). `contest` accepts the reported account and `electorOf` of this.
    function reportPersonOf(bytes32 id) external view returns (bytes32);

    /// @notice Eq. 1 for `node`: its counts t_if and its ratio R_bw in WAD. The record is the
    /// person's: every account that held her election nullifier shares it (zero for an account
    /// that never was a member).
    function misbehaviour(address node) external view returns (uint16[4] memory counts, uint256 ratio);

    /// @notice The counts of `node`'s person deferred until round `until` ends (uncapped; zero and
    /// `until` 0 if none wait): reports applied while she stands in, is a nominee of or is a candidate of the open round (s20-redm F1,
    /// s25-rtm F1).
    function deferredMisbehaviour(address node) external view returns (uint16[4] memory counts, uint256 until);

    /// @notice Nomination votes V received by `nominee` in `round`.
    function nominations(uint256 round, address nominee) external view returns (uint256);

    /// @notice The Borda scores f_i of `round`'s candidates (unweighted column sums).
    function tally(uint256 round) external view returns (uint256[] memory);

    /// @notice Whether `member` stands in `round` (accepted being nominated).
    function isStanding(uint256 round, address member) external view returns (bool);

    /// @notice Whether `member` has nominated / voted in `round`.
    function hasNominated(uint256 round, address member) external view returns (bool);
    function hasVoted(uint256 round, address member) external view returns (bool);
}
