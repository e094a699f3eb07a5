// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IDisputeResolution
/// @notice Reputation-weighted dispute resolution (trust paper §IV.E, Steps 1-3, Eqs. 21-23) with
/// commit-reveal voting, in the manner of deployed courts (Kleros, Aragon Court).
/// @dev Vote weight is the TrustManager's reputation *at the block before the dispute opened*
/// (checkpoints), so no reputation gained later counts. A vote is a commitment
/// keccak256(abi.encode(disputeId, voter, choice, salt)), of which the first 20 bytes are kept,
/// revealed after the commit deadline. Commit checks what the voter is now (its controller calls,
/// no detector flag, an identity verified through the registries); reveal checks that it is still
/// unflagged (except in a flag contest, where the detector is the other side) and what it was at
/// the snapshot (reputation >= `minReputation`, its standing granted `minAge` blocks before, not
/// a party's controller) and adds its weight to a running tally. `resolve` compares at most 8 sums; each
/// voter's reputation feedback is applied by its own `settle(id, voter)`, and payments are
/// credited and withdrawn by their owners: no transaction loops over the voters, and no payee
/// can block a resolution. w_i = v_i / sum_j v_j (Eq. 21) and r_final = argmax_r sum w_i
/// (Eq. 22): normalizing does not move the argmax, so the contract compares raw weight sums.
/// Option 0 ("upheld") wins only with a strict majority of the revealed weight (every other option
/// rejects the claim); otherwise the heaviest other option wins, a tie going to the lowest-numbered.
/// The feedback is bounded: it is scaled
/// by the margin m = max(0, 2 W_win - (1 + b) E) / ((1 - b) E) beyond a noise band b
/// (`marginBand`) over half of the electorate E, the total reputation of every entity at the
/// snapshot (`ITrustManager.totalReputationAt`, fixed at opening), so that a side below
/// (1 + b) / 2 of all reputation moves nobody whatever the turnout; it is capped per dispute,
/// and the winners are paid only from what the revealed losers lose (docs/specs/disputes.md).
///
/// Appeals (Kleros' appeal rounds, without juror draws): after a decided round's reveal deadline,
/// during `appealPeriod`, the losing side's controller may `appeal`, paying `appealFee * 2^round`;
/// a new commit-reveal round opens on the same snapshot with a quorum of `quorum * 2^round`. Up
/// to `maxRounds` rounds. Only the last round counts: the parties' penalty, the ruling on the trace case,
/// flag clearing, every payment and the voters' feedback wait for `resolve`, which is final. A
/// round that misses its larger quorum leaves the appealed verdict standing; in an appeal round a
/// tie also leaves it standing (the appellant needs a strict majority). All deposits and appeal
/// fees go to the side the final verdict favours, credited and withdrawn.
interface IDisputeResolution {
    /// @notice The life of a dispute, by time.
    enum Phase {
        None,
        Commit,
        Reveal,
        Appeal,
        Resolvable,
        Resolved
    }

    /// @notice A dispute (Step 1's request), packed so that commit reads one slot and reveal
    /// three (the third is `runsAtOpening`'s, for `otherAccount`).
    /// @param claimantController the claimant's controller when the dispute opened (it appeals for
    /// the claimant and is paid the claimant's side)
    /// @param snapshot the block whose reputations weigh the votes, in every round
    /// @param commitDeadline the current round's commit deadline
    /// @param round the current round (0 = the first; each appeal adds one)
    /// @param respondentController the respondent's party account when the dispute opened: in an
    /// ordinary dispute the controller of its trust entry (s25-review H1); in an avatar dispute
    /// (with or without a trust entry, h14-red2 G5) its owner's account where the chain knows it
    /// (the controller of the owner's attested avatar, s25-rtt R4), else 0: then nobody appeals for
    /// the respondent and a rejected claim's deposit stays with the court; 0 in a flag contest
    /// @param revealDeadline the current round's reveal deadline
    /// @param resolved the verdict is final and applied (`resolve`)
    /// @param outcome the final verdict once resolved; before, the verdict under appeal (if any)
    /// @param verdictRound the round whose votes the final verdict is (its voters are settled)
    /// @param contestedFlags a flag contest's subject: the claimant's attack flags when it opened, the
    /// only ones an upheld contest clears (a flag set later was never before its jurors)
    /// @param margin the outcome's margin m (WAD): max(0, 2 winningWeight - (1 + b) electorate) /
    /// ((1 - b) electorate), b = `marginBand`
    /// @param deposit the claimant's deposit (wei)
    /// @param electorate the total reputation of every entity at the snapshot (WAD), fixed at opening
    /// @param winningWeight the revealed weight of the outcome (in `verdictRound`)
    /// @param totalWeight the revealed weight of all options (in `verdictRound`)
    /// @param appealFees the appeal fees paid, credited with the deposit to the final winner's side
    /// @param traceCase for a dispute of nature avatar, the MITRegistry trace case it claimed
    /// (`openAvatarDispute`); the final verdict lets the IdP judge it (upheld) or closes it untraced
    /// @param contestedSerials a flag contest's instances: per kind k, the serial of the claimant's
    /// flag k when it opened (`TrustManager.flagMarks`); the verdict clears a contested kind only if
    /// its serial is unchanged (s20-redt F2); the `FlagInstance` event of that serial names the
    /// `EntityFlagged` (and so the report) the jurors judge
    /// @param runsAtOpening the dispute's snapshot of the detector's flag runs, in every nature
    /// (`TrustManager.flagRunState` when it opened, never inside a run): a juror is refused only
    /// for a flag held since a run at or before it (s20-redt F3, s25-rtt R3)
    /// @param otherAccount a party entity's second account, kept off the jury and given no other
    /// right (s25-rtt R4): where the registry knows the entity as an avatar and the account holding
    /// its trust entry is not its owner's (the controller of the owner's attested avatar), the one
    /// of the two that is not the party: in an ordinary dispute the respondent's owner's account,
    /// in an avatar dispute the respondent entry's controller, in a flag contest the claimant's
    /// owner's account; else 0. In `runsAtOpening`'s slot: the opening writes that slot anyway
    struct Dispute {
        bytes32 claimant;
        bytes32 respondent;
        address claimantController;
        uint40 snapshot;
        uint40 commitDeadline;
        uint8 options;
        uint8 round;
        address respondentController;
        uint40 revealDeadline;
        uint8 nature;
        bool resolved;
        uint8 outcome;
        bool tieBroken;
        bool void_;
        uint8 verdictRound;
        uint8 contestedFlags;
        uint64 margin;
        uint96 deposit;
        uint96 electorate;
        uint128 winningWeight;
        uint128 totalWeight;
        address depositor;
        uint96 appealFees;
        bytes32 evidence;
        string cid;
        uint256 traceCase;
        uint32[7] contestedSerials;
        uint32 runsAtOpening;
        address otherAccount;
    }

    /// @notice One voter's vote, in one storage slot.
    /// @param commitment the first 20 bytes of the commitment
    /// @param weight the voter's snapshot reputation, set when it reveals
    /// @param generation the voter entity's generation at commit (`TrustManager.generationOf`): a
    /// vote cast before the entity was reclaimed settles to nothing on its owner
    struct Vote {
        bytes20 commitment;
        uint64 weight;
        uint8 choice;
        bool revealed;
        bool settled;
        uint8 generation;
    }

    /// @notice Parameters fixed at deployment.
    /// @param minReputation the least snapshot reputation that votes (WAD)
    /// @param minAge blocks an entity's standing (its attestation, or the admin's first verification;
    /// `ITrustManager.standingAt`) must have been granted before the snapshot to vote (>= 1)
    /// @param quorum the least revealed weight (WAD) for a decision; below it the dispute is void
    /// @param voterReward the most reputation (WAD) a dispute pays to the voters of its outcome,
    /// all together: each gets voterReward * m * weight / winningWeight, and nothing when no
    /// revealed vote went against the outcome (<= voterPenalty: the winners are paid from the losers)
    /// @param voterPenalty the most reputation (WAD) a dispute takes from the voters who revealed
    /// another option, all together (each loses voterPenalty * m * weight / losing weight); also
    /// what each eligible voter that committed and did not reveal loses
    /// @param loserPenalty the reputation the losing party loses
    /// @param appealPeriod seconds after a round's reveal deadline during which its loser may appeal
    /// (> 0 when maxRounds > 1)
    /// @param appealFee the fee (wei) of the first appeal; the appeal opening round r costs appealFee * 2^(r-1)
    /// @param maxRounds the most rounds a dispute has (1 = no appeals; at most 4)
    /// @param marginBand the noise band b (WAD, < 1e18) of the bounded feedback: a verdict moves
    /// revealed votes only if its voters hold more than (1 + b) / 2 of all reputation E, so that a
    /// coalition below half of E is paid by winning only where honest voters who erred joined it
    /// with more than b / 2 of E (docs/specs/disputes.md, "Bounded feedback")
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
        uint40 appealPeriod;
        uint96 appealFee;
        uint8 maxRounds;
        uint64 marginBand;
    }

    error DisputeResolution__UnknownDispute(uint256 id);
    error DisputeResolution__NotController(bytes32 entity, address caller);
    /// @notice A deployment parameter is out of range (see `Params`): `name` is the field.
    error DisputeResolution__InvalidParam(string name);
    /// @notice A dispute needs two parties: `entity` is both the claimant and the respondent.
    error DisputeResolution__SelfDispute(bytes32 entity);
    /// @notice A dispute proposes 2 to 8 resolutions; `options` is outside that range.
    error DisputeResolution__InvalidOptions(uint8 options);
    /// @notice The respondent `respondent` is not a registered entity of the TrustManager.
    error DisputeResolution__UnknownRespondent(bytes32 respondent);
    /// @notice A flag contest (nature 3) has no respondent; `respondent` must be 0.
    error DisputeResolution__FlagContestHasRespondent(bytes32 respondent);
    /// @notice A flag contest needs a claimant with an attack flag; `claimant` has none.
    error DisputeResolution__NotFlagged(bytes32 claimant);
    /// @notice No dispute opens while a detector flag run is in flight (until `until` at the
    /// latest): the run's flags must all precede the dispute or all follow it (its jurors are
    /// barred by flag run, s20-redt F3, s25-rtt R3).
    error DisputeResolution__FlagRunInFlight(uint256 until);
    /// @notice All reputation at the snapshot (`electorate`, WAD) exceeds 2^96, the width of
    /// `Dispute.electorate` (about 7.9e10 entities at reputation 1).
    error DisputeResolution__ElectorateTooLarge(uint256 electorate);
    error DisputeResolution__WrongDeposit(uint256 expected, uint256 sent);
    error DisputeResolution__NotInCommitPhase(uint256 id);
    error DisputeResolution__NotInRevealPhase(uint256 id);
    error DisputeResolution__PartyCannotVote(uint256 id, bytes32 voter);
    error DisputeResolution__NotEligible(uint256 id, bytes32 voter, uint256 reputation);
    /// @notice The voter's identity is not verified through the identity registries, not counting a
    /// withdrawal made after the dispute's snapshot (`ITrustManager.isIdentityVerifiedAsOf`, s26-rtx).
    error DisputeResolution__NotVerified(uint256 id, bytes32 voter);
    /// @notice The voter's identity standing was withdrawn at or before the dispute's snapshot
    /// (`ITrustManager.hasIdentityStandingAsOf`, s26-rtx): a later revocation takes no vote away.
    error DisputeResolution__IdentityRevoked(uint256 id, bytes32 voter);
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
    error DisputeResolution__AlreadySettled(uint256 id, bytes32 voter);
    error DisputeResolution__NothingToWithdraw(address account);
    error DisputeResolution__TransferFailed();
    /// @notice A flag contest needs this court to be the TrustManager's bound court (its feedback holder).
    error DisputeResolution__FlagContestUnavailable();
    /// @notice An ordinary or avatar dispute needs this court to be the TrustManager's bound court
    /// (its feedback holder): its verdict moves reputation, and a court that cannot would never
    /// resolve it and keep the deposit (s25-rtt R2). Refused before anything is taken.
    error DisputeResolution__ReputationUnavailable();
    /// @notice Nothing to appeal now: the round is not decided yet, it is void, it is the last
    /// round (`maxRounds`), or the dispute is resolved.
    error DisputeResolution__NotAppealable(uint256 id);
    /// @notice The appeal window of the current round closed at `appealDeadline`.
    error DisputeResolution__AppealPeriodOver(uint256 id, uint256 appealDeadline);
    /// @notice Only the controller of the side the current round went against may appeal.
    error DisputeResolution__NotLosingParty(uint256 id, address caller);
    /// @notice The evidence sent to `openAvatarDispute` is not trace case `caseId`'s (its keccak256
    /// is not the case's `evidenceHash`): the jurors would judge other evidence than the IdP traces.
    error DisputeResolution__CaseEvidenceMismatch(uint256 caseId, bytes32 caseHash);
    /// @notice The evidence of trace case `caseId` is about avatar `about`, not the respondent: a
    /// case names its avatar freely, so the court reads the avatar the evidence itself is about
    /// (s19-redd F2).
    error DisputeResolution__EvidenceNotAboutRespondent(uint256 caseId, bytes32 about);
    /// @notice The evidence of trace case `caseId` is not evidence as the IdP decodes it
    /// (`interactionOf` answers parsed = false: no evidence header, a length its fields do not
    /// say, trailing bytes, a field out of range): upheld, a case over it could never be judged
    /// (s19-redd F3).
    error DisputeResolution__EvidenceNotEncoded(uint256 caseId);
    /// @notice The evidence of trace case `caseId` carries no handshake (session 22): it names no
    /// counterparty and can never trace anyone (the IdP rejects it: handshakeFault), so a dispute
    /// over it could only move the loser penalty and the deposit, claimed by whoever copied its
    /// bytes first. Only evidence with a handshake opens an avatar dispute, claimed by the account
    /// of the owner of the reporter avatar it names (`NotCounterparty`).
    error DisputeResolution__EvidenceWithoutHandshake(uint256 caseId);
    /// @notice The evidence of trace case `caseId` carries a handshake whose reporter avatar is
    /// `counterparty`, and the caller is not that avatar's owner's account (the controller of the
    /// owner's attested avatar, as for an avatar dispute's party): an interaction with a handshake is
    /// claimed by its counterparty only ("One interaction, one court case").
    error DisputeResolution__NotCounterparty(uint256 caseId, bytes32 counterparty, address caller);
    /// @notice The interaction of trace case `caseId` (its trace key and its counterparty's owner
    /// tag: every avatar of one owner names one hearing, s21-review2 M2) is heard by
    /// dispute `earlier`: open, or ended with a decision (upheld or rejected). Only a void dispute
    /// (no decision) frees it; an appeal is the same hearing, not a second one.
    error DisputeResolution__InteractionHeard(uint256 caseId, uint256 earlier);
    /// @notice Avatar dispute `id` has no final verdict waiting to be applied to its trace case.
    error DisputeResolution__NoPendingRuling(uint256 id);
    /// @notice A dispute of nature avatar opens with `openAvatarDispute` and names the trace case
    /// its claimant filed (`MITRegistry.requestTrace`); `openDispute` refuses nature 1, and
    /// `openAvatarDispute` a case id 0. (A court without a registry refuses nature 1 with
    /// `TraceUnavailable` instead, in both: no case id would help there.)
    error DisputeResolution__TraceCaseRequired();
    /// @notice This court was deployed without an MIT registry: it hears no avatar disputes
    /// (`openDispute` or `openAvatarDispute` of nature 1: deploy a court with a registry); or
    /// (`applyCaseRuling`) it does not hold the registry's COURT_ROLE now.
    error DisputeResolution__TraceUnavailable();
    /// @notice An appeal must pay exactly `expected` wei.
    error DisputeResolution__WrongAppealFee(uint256 id, uint256 expected, uint256 sent);
    /// @notice A dispute other than a flag contest names its evidence: a zero digest would be a
    /// claim no hearing can be keyed on (s23-rtt R1, docs/specs/disputes.md "One hearing per evidence").
    error DisputeResolution__EvidenceRequired();
    /// @notice Evidence digest `evidence` against `respondent` is heard by dispute `earlier` (any
    /// nature but a flag contest, avatar disputes included): open, or ended with a decision (upheld
    /// or rejected). Only a void dispute (no decision) frees it (s23-rtt R1).
    error DisputeResolution__EvidenceHeard(bytes32 respondent, bytes32 evidence, uint256 earlier);
    /// @notice Every attack flag `claimant` holds is an instance another contest holds (open, or
    /// ended with a decision): its flag of kind `kind`, instance `serial`, by contest `earlier`. A
    /// void contest frees an instance; a flag re-asserted since (a new serial) is contested anew (s23-rtt R2).
    error DisputeResolution__FlagInstanceHeard(bytes32 claimant, uint8 kind, uint32 serial, uint256 earlier);
    /// @notice `openDispute` was built against era `generation` of `id` (`TrustManager.generationOf`),
    /// which is at `current`: a reclaim mined since gave the id to its owner, who answers for
    /// nothing built against another era (s23-rtt R3; as `TrustManager__StaleEra`).
    error DisputeResolution__StaleEra(bytes32 id, uint256 generation, uint256 current);
    /// @notice `claimant` has no identity standing (`TrustManager.hasIdentityStanding`): a claim is
    /// answered for by an identity some registry (or the admin) vouches for (s23-rtt R4).
    error DisputeResolution__ClaimantWithoutStanding(bytes32 claimant);
    /// @notice `claimant`'s reputation `reputation` is below `required`: `loserPenalty` for this
    /// claim and for each of its claims still open, what their rejections would cost (s23-rtt R4).
    error DisputeResolution__ClaimantStakeTooLow(bytes32 claimant, uint256 reputation, uint256 required);

    /// @notice A dispute was opened; votes count reputations as of block `snapshot`.
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
    /// @notice `voter`'s controller committed a vote in round `round`.
    event VoteCommitted(uint256 indexed id, bytes32 indexed voter, uint8 round);
    /// @notice `voter` revealed `choice` with its snapshot weight in round `round`.
    event VoteRevealed(uint256 indexed id, bytes32 indexed voter, uint8 choice, uint64 weight, uint8 round);
    /// @notice `appellant` appealed verdict `appealed` of round `round - 1`, paying `fee`; round
    /// `round` takes votes until the deadlines.
    event DisputeAppealed(
        uint256 indexed id,
        uint8 round,
        address indexed appellant,
        uint8 appealed,
        uint256 fee,
        uint40 commitDeadline,
        uint40 revealDeadline
    );
    /// @notice Appeal round `round` revealed `totalWeight`, below its quorum: the appealed verdict stands.
    event AppealRoundVoid(uint256 indexed id, uint8 round, uint256 totalWeight);
    /// @notice The dispute was decided (or voided below the quorum); `margin` scales the feedback.
    event DisputeResolved(
        uint256 indexed id,
        uint8 outcome,
        uint256 winningWeight,
        uint256 totalWeight,
        bool tieBroken,
        bool void_,
        uint64 margin
    );
    /// @notice `voter`'s reputation moved by `reputationChange` for its vote in dispute `id`.
    event VoterSettled(uint256 indexed id, bytes32 indexed voter, int256 reputationChange);
    /// @notice The final verdict of avatar dispute `id` on its trace case `caseId`: `upheld` (the
    /// IdP may now judge the case: `MITRegistry` status CourtUpheld) or not (the case is closed
    /// untraced: Dismissed). `applied` false: the registry did not move the case (this court no
    /// longer holds its COURT_ROLE; the IdP may then release the case, untraced, or, once the role
    /// is back, anyone may apply the verdict with `applyCaseRuling`, which emits this again).
    /// Named apart from the registry's `TraceCaseRuled(caseId, disputeId, upheld, byIdp)`: until
    /// session 15 both were `TraceCaseRuled(uint256,uint256,bool,bool)`, one topic with the ids in
    /// opposite order, emitted side by side by one resolve.
    event AvatarCaseRuled(uint256 indexed id, uint256 indexed caseId, bool upheld, bool applied);
    /// @notice A flag contest (nature 3) was upheld: the contested attack flags `flags` of `entity`
    /// (those it held when the contest opened and still holds, each the same instance: its serial
    /// unchanged) were cleared (`unflagged` false if the court had lost the feedback role
    /// meanwhile). A flag set after the contest opened, of another kind or of a contested kind
    /// anew, stays (`FlagContestFlaggedAgain`).
    event FlagContestUpheld(uint256 indexed id, bytes32 indexed entity, uint8 flags, bool unflagged);
    /// @notice An upheld flag contest did not clear the contested kinds `kinds` (bit k: kind k):
    /// each was flagged again since the contest opened (its `TrustManager.flagMarks` serial is not
    /// the one the contest recorded), a detection its jurors never judged, which stays.
    event FlagContestFlaggedAgain(uint256 indexed id, bytes32 indexed entity, uint8 kinds);
    /// @notice `amount` wei of dispute `id` is owed to `account` (withdraw it with `withdraw`).
    event PaymentCredited(uint256 indexed id, address indexed account, uint256 amount);
    /// @notice `account` withdrew `amount` wei.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice Step 1: opens a dispute between two registered entities.
    /// @dev The caller must control `claimant` (`NotController`) and send exactly the deposit
    /// (`WrongDeposit`). Refuses a claimant that is also the respondent (`SelfDispute`), an option
    /// count outside 2..8, or other than 2 in a flag contest (`InvalidOptions`), a claimant without
    /// identity standing (`ClaimantWithoutStanding`) or whose reputation is below `loserPenalty`
    /// times its open claims plus this one (`ClaimantStakeTooLow`: each claim puts at stake what its
    /// rejection costs; a flag contest counts among the open claims but is not refused so), an
    /// unregistered respondent (`UnknownRespondent`), a court that is not the TrustManager's
    /// feedback holder (`ReputationUnavailable`; `FlagContestUnavailable` for a flag contest), an
    /// opening while a detector flag run is in flight (`FlagRunInFlight`, every nature), a
    /// flag contest with a respondent (`FlagContestHasRespondent`) or for an unflagged claimant
    /// (`NotFlagged`), or one whose every flag instance another contest holds (`FlagInstanceHeard`:
    /// open, or ended with a decision; the contest takes the held instances no other holds), an
    /// electorate beyond 2^96 (`ElectorateTooLarge`), and nature 1, avatar,
    /// which opens with `openAvatarDispute` (`TraceCaseRequired`; `TraceUnavailable` in a court
    /// deployed without a registry, which hears no avatar dispute at all). Outside a flag contest it
    /// refuses a zero evidence digest (`EvidenceRequired`) and evidence heard already against the
    /// respondent (`EvidenceHeard`: a dispute over it is open or ended with a decision, whatever its
    /// nature; a void one frees it), and a respondent whose era moved (`StaleEra`). Fixes the
    /// snapshot block (the previous one), both parties' accounts (a respondent avatar the registry
    /// knows is its owner's: the controller of its attested avatar, else none; s25-rtt R4), the
    /// detector's run count (`runsAtOpening`) and the deadlines.
    /// @param claimant the entity that claims
    /// @param respondent the entity claimed against
    /// @param nature 0 service, 3 flag
    /// contest: a flagged claimant contests its detector flags, `respondent` is 0; upheld, its attack
    /// flags are cleared (the court must be the TrustManager's feedback holder, else `FlagContestUnavailable`);
    /// rejected, the claimant loses `loserPenalty` and its deposit stays with the court
    /// @param options the number of proposed resolutions (2..8; 2 in a flag contest); option 0 means
    /// "claim upheld", and needs a strict majority of the revealed weight
    /// @param evidence the raw digest of the evidence's CID (not 0 outside a flag contest)
    /// @param cid the evidence's CID
    /// @param respondentGeneration `TrustManager.generationOf(respondent)` when the claim was built
    /// (0 for a flag contest, whose respondent is 0)
    /// @return id the new dispute's id
    function openDispute(
        bytes32 claimant,
        bytes32 respondent,
        uint8 nature,
        uint8 options,
        bytes32 evidence,
        string calldata cid,
        uint256 respondentGeneration
    ) external payable returns (uint256 id);

    /// @notice Step 1 for a dispute of nature avatar (1) against the avatar `respondent` (an
    /// MITRegistry avatar id, registered in the TrustManager or not): the claim is that the avatar
    /// misbehaved in the interaction whose evidence the claimant filed as trace case `traceCase`
    /// (`MITRegistry.requestTrace`). The case must be Open, filed by the caller (the claimant's
    /// controller) and report `respondent`; the registry refuses otherwise (`UnknownCase`,
    /// `CaseNotOpen`: judged already or claimed by another dispute, `NotReporter`,
    /// `CaseAvatarMismatch`) and the dispute does not open. The case then awaits the final verdict:
    /// upheld, the IdP may trace it (CourtTraced); rejected or void, it is closed untraced.
    /// The jurors judge exactly the case's evidence (h14-red2 G3): the caller sends the case's
    /// encoded evidence `caseEvidence`, whose keccak256 must be the case's `evidenceHash`
    /// (`CaseEvidenceMismatch` otherwise, checked before anything is written); the dispute's
    /// `evidence` is its sha256, the digest of its raw CIDv1, which is where the jurors read it
    /// (the dispute's `cid` stays empty: it is derived from `evidence`, so no other document can
    /// be named). A narrative, if any, is no part of what the jurors rule on.
    /// The evidence must be in the wire encoding as the IdP decodes it (`interactionOf`:
    /// `EvidenceNotEncoded` otherwise, s19-redd F3), about `respondent`
    /// (`EvidenceNotAboutRespondent`, s19-redd F2) and carry a handshake
    /// (`EvidenceWithoutHandshake`, session 22: evidence without one never traces); the caller must
    /// be the account of the owner of the reporter avatar the handshake names (`NotCounterparty`),
    /// and the interaction not heard already (`InteractionHeard`).
    /// A respondent without a trust entry (h14-red2 G5: an avatar used only with other avatars,
    /// kept logged in, which nobody but its owner may register) is heard too: the trace is the
    /// consequence; its party account is its owner's where the chain knows it (the controller of
    /// the owner's attested avatar: that account's voters are excluded, it may appeal and is paid
    /// a rejected claim's deposit), else none (nobody appeals for it, the deposit of a rejected
    /// claim stays with the court); upheld, the loser penalty falls on the owner's attested avatar
    /// (the person's court weight, which that account holds; s25-rtt R1), as in an ordinary dispute
    /// against an avatar the registry knows. See docs/specs/disputes.md, "A respondent without a
    /// trust entry" and "One party per person".
    /// @dev Every check of `openDispute` applies (the claimant's standing and stake, s23-rtt R4;
    /// the evidence digest heard once against the respondent across the natures, `EvidenceHeard`,
    /// checked after `InteractionHeard`, s23-rtt R1), except that the respondent may lack a trust
    /// entry if the registry knows the avatar (`UnknownRespondent` otherwise), and that it names no
    /// era: its party is the avatar's owner (the owner tag's attested account), whichever era the
    /// avatar's entry is in (docs/specs/disputes.md, "The respondent's era"). Refuses a case id 0
    /// (`TraceCaseRequired`) and a court deployed without a registry (`TraceUnavailable`).
    function openAvatarDispute(
        bytes32 claimant,
        bytes32 respondent,
        uint8 options,
        bytes calldata caseEvidence,
        uint256 traceCase
    ) external payable returns (uint256 id);

    /// @notice Applies the final verdict of avatar dispute `id` to its trace case when `resolve`
    /// could not (this court lacked the registry's COURT_ROLE then) and the role is back: without
    /// it a role revoked and granted again would strand the case (h14-red2 G1). Anyone may call
    /// it, once: `NoPendingRuling` if nothing waits, `TraceUnavailable` while the role is still
    /// missing (the IdP may then release the case). If the IdP released the case meanwhile, the
    /// registry moves nothing and the pending ruling is dropped (`AvatarCaseRuled` applied false).
    function applyCaseRuling(uint256 id) external;

    /// @notice The MIT registry whose trace cases avatar disputes claim (0: none).
    function traceRegistry() external view returns (address);

    /// @notice What the court reads of encoded avatar evidence (`offchain/avatars/wire.ts`,
    /// `encodeEvidence`): whether the bytes carry the evidence header (type 0x26, version 2) and
    /// its message in full, the avatar the evidence is about, and the interaction's trace key, the
    /// IdP's `tracedEvidenceKey` (keccak256 of "METATRUST-V1-TRACE-KEY", the avatar, the warrant's
    /// h, the driver's serial and the signed message's type, time and body: no receipt, no
    /// reporter's part). False for bytes the IdP's decoder refuses on their structure (s19-redd F3):
    /// no header (type 0x26, version 2), a length other than the encoding's fields say (trailing
    /// bytes included), a time at or above 2^53, a warrant without a scope or with notBefore after
    /// notAfter, a flag out of range, an ephemeral key off secp256k1, a BLS point whose encoding is
    /// not compressed, is the identity or has a coordinate >= p. A BLS point's curve and subgroup
    /// are not checked here (the IdP does).
    function interactionOf(bytes calldata caseEvidence) external view returns (bool parsed, bytes32 about, bytes32 key);

    /// @notice Who may claim the interaction of encoded avatar evidence, and whether it is heard
    /// (docs/specs/disputes.md, "One interaction, one court case"): `counterparty` is the reporter
    /// avatar named in the evidence's handshake (the hello's avatar), 0 for evidence without one;
    /// `account` the only account that may open an avatar dispute over it (the counterparty's
    /// owner's account: the controller of its owner's attested avatar; 0 if there is none, and 0
    /// if `counterparty` is 0: evidence without a handshake opens no dispute,
    /// `EvidenceWithoutHandshake`); `heardBy` the dispute that holds the interaction's hearing,
    /// keyed on (trace key, the counterparty's owner tag: every avatar of one owner names one
    /// hearing): open, or ended with a decision; 0 if none does (never heard, or only by disputes
    /// that ended void) and for a counterparty nobody may claim for (none included).
    /// All 0 for bytes `interactionOf` does not parse.
    function hearingOf(
        bytes calldata caseEvidence
    ) external view returns (bytes32 counterparty, address account, uint256 heardBy);

    /// @notice Step 2: the controller of `voter` commits a sealed vote.
    /// @dev Refuses a caller that does not control `voter`, a flagged voter (in every nature, one
    /// holding an attack flag held since a run at or before `runsAtOpening`,
    /// `TrustManager.flagsHeldSince`: a flag the detector sets later must not pick who votes,
    /// s20-redt F3, s25-rtt R3), a voter whose identity is not verified (as of the snapshot: a
    /// withdrawal made later does not count, one at or before it does, s26-rtx), a second commit and an empty commitment. Eligibility at the snapshot is checked when the vote
    /// is revealed (see `eligibleWeight`).
    /// @param id the dispute
    /// @param voter the voting entity
    /// @param commitment keccak256(abi.encode(id, voter, choice, salt)) (`commitmentFor`)
    function commit(uint256 id, bytes32 voter, bytes32 commitment) external;

    /// @notice Step 2: reveals a committed vote and adds the voter's snapshot weight to the tally.
    /// @dev Refuses a voter that was not eligible at the snapshot (`NotEligible`), an entity of a
    /// party's account or of its second account (`Dispute.otherAccount`; `PartyCannotVote`; in a
    /// flag contest also of a DETECTOR_ROLE holder, the flag's side: s27-rtd D1), a
    /// voter `commit` would refuse as flagged (the same flag-run rule, every nature: a flag set after
    /// the opening does not take the vote), one whose identity standing was withdrawn at or before
    /// the snapshot (`IdentityRevoked`; a revocation after it does not take the vote either,
    /// s26-rtx), a mismatch, a double reveal.
    /// @param id the dispute
    /// @param voter the voting entity
    /// @param choice the option voted (< options)
    /// @param salt the salt of the commitment
    function reveal(uint256 id, bytes32 voter, uint8 choice, bytes32 salt) external;

    /// @notice Step 3: decides the dispute for good (anyone may call): O(1) in the number of
    /// voters. Callable after the current round's reveal deadline, and, if the round is decided and
    /// may still be appealed, after its appeal window. Penalizes the losing party, credits the
    /// deposit and the appeal fees to the winning side. An appeal round below its quorum leaves the
    /// appealed verdict (and its round's votes) as the final verdict.
    /// @param id the dispute
    function resolve(uint256 id) external;

    /// @notice Appeals the current round's verdict to a new round (larger quorum, same snapshot).
    /// @dev Only after the round's reveal deadline and within `appealPeriod`; only the controller of
    /// the side the round went against (the respondent's if option 0, "upheld", leads, else the
    /// claimant's); exactly `appealFee * 2^round` wei; not a void round, not the last round. The
    /// round's votes stay in storage but never count again; every voter commits anew.
    /// @param id the dispute
    function appeal(uint256 id) external payable;

    /// @notice Step 3: applies one voter's reputation feedback, once (anyone may call), for every
    /// round it committed in: a revealed vote moves reputation only in the final verdict's round
    /// (`verdictRound`; earlier rounds were superseded, a void last round decided nothing), and a
    /// vote committed and not revealed in any round loses voterPenalty (if eligible at the snapshot
    /// and not barred now by the flag-run rule of `commit`: a barred voter could not reveal).
    /// @dev m is the margin against the electorate (see the contract's description).
    /// A voter of the outcome gains voterReward * m * weight / winningWeight (if some revealed
    /// weight went against the outcome; otherwise nothing), a voter of
    /// another option loses voterPenalty * m * weight / (totalWeight - winningWeight), a voter
    /// eligible at the snapshot, not barred now by the flag-run rule, that committed and did
    /// not reveal loses voterPenalty; in a void
    /// dispute revealed votes move nothing.
    /// @param id the dispute
    /// @param voter the voting entity
    /// @return change the reputation change applied (WAD)
    function settle(uint256 id, bytes32 voter) external returns (int256 change);

    /// @notice Sends the caller everything the court owes it (deposits).
    function withdraw() external;

    /// @notice The wei the court owes `account`.
    function owed(address account) external view returns (uint256);

    /// @notice The weight `voter` would reveal with in dispute `id` (0 if it could not reveal:
    /// below the minimum reputation or age at the snapshot, or an entity of a party's account or of
    /// its second account, `Dispute.otherAccount`, or in a flag contest of a DETECTOR_ROLE holder),
    /// or 0 if `commit` refuses it as flagged (the same
    /// rule: by flag run, in every nature), or 0 if its identity standing was withdrawn at or before
    /// the snapshot (s26-rtx R3; a lapsed avatar session is not counted here: `commit` refuses it
    /// until its owner logs in again).
    function eligibleWeight(uint256 id, bytes32 voter) external view returns (uint256);

    /// @notice A dispute's record.
    function dispute(uint256 id) external view returns (Dispute memory);

    /// @notice The vote of `voter` in dispute `id`'s current round.
    function voteOf(uint256 id, bytes32 voter) external view returns (Vote memory);

    /// @notice The vote of `voter` in round `round` of dispute `id`.
    function voteIn(uint256 id, uint8 round, bytes32 voter) external view returns (Vote memory);

    /// @notice The revealed weight per option in the current round.
    function tally(uint256 id) external view returns (uint256[8] memory);

    /// @notice The revealed weight per option in round `round`.
    function tallyIn(uint256 id, uint8 round) external view returns (uint256[8] memory);

    /// @notice Who may appeal dispute `id` now, for how much, until when (`appellant` 0: nobody).
    function appealTerms(uint256 id) external view returns (address appellant, uint256 fee, uint256 deadline);

    /// @notice The phase of dispute `id` now.
    function phase(uint256 id) external view returns (Phase);

    /// @notice keccak256(abi.encode(id, voter, choice, salt)): the commitment to send.
    function commitmentFor(uint256 id, bytes32 voter, uint8 choice, bytes32 salt) external pure returns (bytes32);
}
