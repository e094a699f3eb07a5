// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ITrustManager
/// @notice Multi-factor trust between virtual entities of the metaverse (trust paper §IV.B-D and
/// §VI): ratings folded into a stored trust value per ordered pair (trustStore[i][j], Algorithm 5)
/// with the optimized trust of Eq. 41, the blend of Eq. 43 and a lazy time decay; the oracle term
/// of Eq. 46; the identity factor I_ij (Eq. 13) read from identity registries; reputations
/// (Eq. 6) fed by trust agreements (Algorithm 2, Eqs. 5-7) and by dispute outcomes; attack flags
/// set by off-chain detectors.
/// @dev All trust, reputation and parameter values are WAD fixed point (1e18 = 1.0). The model's
/// parameters are immutable per deployment so that no one can re-weight scores after the fact;
/// only the agreement thresholds are governance parameters. Off-chain `offchain/trust/fixed.ts`
/// computes the same values to the last unit (differential test).
interface ITrustManager {
    /// @notice Entity kinds (the heterogeneous entities of Algorithm 3).
    enum Kind {
        None,
        Avatar,
        Organization,
        ResourceNode,
        Authority
    }

    /// @notice How Algorithm 2 settled an agreement.
    enum Mode {
        Direct,
        SmartContract,
        Intermediary
    }

    /// @notice A registered entity.
    /// @param controller the account that rates and agrees on the entity's behalf
    /// @param kind its kind
    /// @param flags bit k set = flagged for attack kind k (k < 7); bit 7 = identity verified by the admin
    /// @param reputation R_i (WAD)
    /// @param attested registered by its owner, on its identity registry's attestation
    /// (`registerAttested`); only then does the registry's answer make it identity-verified
    /// @param vouched its identity was verified once (attested registration, or the admin's flag):
    /// it received the initial reputation, which a plain registration does not give (whitewashing)
    struct Entity {
        address controller;
        Kind kind;
        uint8 flags;
        uint64 reputation;
        bool attested;
        bool vouched;
    }

    /// @notice trustStore[i][j].
    /// @param trust the last stored value (WAD), before decay
    /// @param updatedAt when it was stored
    /// @param ratings number of ratings folded in
    /// @param oracle O_ij in [-1e18, 1e18] (Eq. 46)
    struct Pair {
        uint64 trust;
        uint40 updatedAt;
        uint32 ratings;
        int64 oracle;
    }

    /// @notice What agreements of one organization credited one avatar's reputation (F2: court weight
    /// cannot be farmed by self-dealing).
    /// @param at when an agreement of the pair last moved the avatar's reputation (0: never); the
    /// next credit of the pair is accepted one decay epoch later
    /// @param total the reputation the pair's agreements added to the avatar so far (WAD, gains
    /// only; at most `CREDIT_CAP`)
    struct Credit {
        uint40 at;
        uint64 total;
    }

    /// @notice The immutable model parameters.
    struct Model {
        uint256 factorCount;
        uint256 weights;
        uint256 delta;
        uint256 rho;
        uint256 epochLength;
        uint256 baseline;
        uint256 gamma;
        uint256 unverifiedFactor;
        uint256 flaggedFactor;
        uint256 initialReputation;
        uint256 agreementWeight;
    }

    /// @notice A trust agreement (Eq. 5: TA = (T, P)).
    /// @param org the organization
    /// @param mode how Algorithm 2 settled it
    /// @param meanTrust the avatars' mean trust in the organization (WAD)
    /// @param createdAt block timestamp
    /// @param avatarsHash keccak256 of the avatar ids
    /// @param termsHash H(P): the sha2-256 digest of the terms' dag-json block, which is also the
    /// terms' CID on IPFS (CIDv1, dag-json, sha2-256 of this digest: docs/specs/trust.md §8.3), so
    /// the consented hash and the pointer to the terms cannot disagree
    /// @param agreementHash H(TA) = keccak256(H(P) || T) (Eq. 7)
    struct Agreement {
        bytes32 org;
        Mode mode;
        uint64 meanTrust;
        uint40 createdAt;
        bytes32 avatarsHash;
        bytes32 termsHash;
        bytes32 agreementHash;
    }

    /// @notice The avatars' consents to an agreement (see `proposeAgreement`).
    /// @param deadline the signatures are refused after this timestamp
    /// @param signatures one per avatar, in the avatars' order: its controller's EIP-712 signature of
    /// AgreementConsent, or empty for an avatar the proposer controls
    struct Consents {
        uint256 deadline;
        bytes[] signatures;
    }

    /// @notice The id is zero or taken.
    error TrustManager__EntityExists(bytes32 id);
    /// @notice The entity is not registered.
    error TrustManager__UnknownEntity(bytes32 id);
    /// @notice The kind is None or out of range.
    error TrustManager__InvalidKind(uint8 kind);
    /// @notice The caller does not control the entity.
    error TrustManager__NotController(bytes32 id, address caller);
    /// @notice An entity cannot rate itself.
    error TrustManager__SelfRating(bytes32 id);
    /// @notice The value computed on-chain differs from the one the caller computed (Algorithm 5 step 3).
    error TrustManager__IntegrityCheckFailed(bytes32 expected, bytes32 actual);
    /// @notice A parameter is out of range or thresholds are out of order.
    error TrustManager__InvalidParameter();
    /// @notice An agreement's inputs are malformed (lengths, kinds, order, size).
    error TrustManager__InvalidAgreement();
    /// @notice Attack kind out of range (0..6).
    error TrustManager__InvalidFlag(uint8 kind);
    /// @notice `flagBatch` got no entry, more than FLAG_BATCH_MAX, or ids, kinds and generations of
    /// different lengths.
    error TrustManager__InvalidBatch(uint256 ids, uint256 kinds, uint256 generations);
    /// @notice A flag run begins FLAG_RUN_SPACING after the previous one began: from `from`.
    error TrustManager__FlagRunTooSoon(uint256 from);
    /// @notice No flag run is in flight (none begun, ended, or FLAG_RUN_MAX past its start).
    error TrustManager__NoFlagRun();
    /// @notice A controller rated an entity it controls itself (through another of its entities).
    error TrustManager__OwnEntityRating(bytes32 from, bytes32 to, address controller);
    /// @notice The pair was already rated in this decay epoch; the next rating is accepted from `nextRatingAt`.
    error TrustManager__RatedThisEpoch(bytes32 from, bytes32 to, uint256 nextRatingAt);
    /// @notice The account already holds another of the roles admin, oracle, detector, feedback.
    error TrustManager__RoleHoldersNotDistinct(bytes32 role, address account);
    /// @notice FEEDBACK_ROLE was bound already (to the dispute court): it is granted once and never revoked.
    error TrustManager__FeedbackAlreadyBound(address account);
    /// @notice FEEDBACK_ROLE goes to a contract (the dispute court), never to an externally owned account.
    error TrustManager__FeedbackNotAContract(address account);
    /// @notice The id is verified by its identity registry: only its owner registers it, with `registerAttested`.
    error TrustManager__AttestationRequired(bytes32 id, Kind kind);
    /// @notice The attestation is not a registrar's signature over (id, kind, caller, deadline).
    error TrustManager__InvalidAttestation(bytes32 id, address signer);
    /// @notice The attestation's deadline has passed.
    error TrustManager__AttestationExpired(bytes32 id, uint256 deadline);
    /// @notice The kind has no identity registry, or the registry does not verify the id.
    error TrustManager__UnverifiedIdentity(bytes32 id, Kind kind);
    /// @notice The avatar's owner (the MIT whose tag opens the id) already has an attested avatar,
    /// `attested`: one person, one verified avatar entity. A further avatar of hers is registered
    /// with `register` (unverified, reputation 0) while it is not logged in.
    error TrustManager__OwnerHasAttestedAvatar(bytes16 ownerTag, bytes32 attested);
    /// @notice `reclaimAvatar` of an avatar whose owner has no attested avatar yet (use `registerAttested`).
    error TrustManager__NotAFurtherAvatar(bytes32 id, bytes16 ownerTag);
    /// @notice An avatar named in an agreement did not consent: no valid signature by its controller.
    error TrustManager__ConsentMissing(bytes32 avatar, address controller);
    /// @notice The consents' deadline has passed.
    error TrustManager__ConsentExpired(uint256 deadline);
    /// @notice A reputation lookup at the current or a future block.
    error TrustManager__FutureLookup(uint48 blockNumber);
    /// @notice The total reputation at `blockNumber` is no longer kept (only from `keptFrom` on).
    error TrustManager__TotalNotKept(uint48 blockNumber, uint48 keptFrom);
    /// @notice The id was reclaimed 255 times, the most its generation counts (only its owner reclaims it).
    error TrustManager__GenerationsExhausted(bytes32 id);
    /// @notice A `reclaimAvatar` attestation for `generation` of the id, which is at `current`: an
    /// attestation serves the one reclaim of the generation it names (h14-red F5).
    error TrustManager__StaleAttestation(bytes32 id, uint256 generation, uint256 current);
    /// @notice A write about the id computed for its era `generation`, while the id is at `current`:
    /// a reclaim mined since gave the id to another controller, and nothing judged of one era lands
    /// on the next (a rating, a flag or an oracle term in flight across the reclaim: h16-red2 R4-R6).
    /// `rate`, `flag` and `setOracle` name the generations they were computed for and revert with
    /// this, writing nothing, on a mismatch.
    error TrustManager__StaleEra(bytes32 id, uint256 generation, uint256 current);
    /// @notice `unflag` of attack kind `kind` on `id`, which does not hold that flag (never set,
    /// withdrawn or cleared already, or cleared by a reclaim): nothing to clear, nothing changed.
    /// A withdrawal retried after its first call landed gets this (its serial is still
    /// `flagMarks(id)[kind]`: the flag it named is the one cleared).
    error TrustManager__NotFlagged(bytes32 id, uint8 kind);
    /// @notice `unflag` named flag instance `serial` of kind `kind` on `id`, whose flag of that kind
    /// is now instance `current` (`flagMarks`): the kind was re-asserted, or withdrawn and set anew,
    /// since the instance was judged, and a verdict about one instance does not clear another
    /// (s22-redx F3).
    error TrustManager__StaleFlagInstance(bytes32 id, uint8 kind, uint32 serial, uint32 current);

    /// @notice An entity was registered.
    event EntityRegistered(bytes32 indexed id, Kind kind, address indexed controller);
    /// @notice The account that registered `id` plainly (`register`) attested it (`registerAttested`):
    /// the same entity, now attested; its pairs, credits and flags stay (not a reclaim: no new
    /// generation, no `EntityRegistered`).
    event EntityAttested(bytes32 indexed id, Kind kind, address indexed controller);
    /// @notice The owner of a verified identity took back an id a squatter had registered unattested.
    event EntityReclaimed(bytes32 indexed id, address indexed squatter, address indexed owner);
    /// @notice An avatar was registered with the IdP's attestation: it is its owner's one attested
    /// avatar, for good (`attestedAvatarOf`).
    event AvatarOwnerBound(bytes16 indexed ownerTag, bytes32 indexed avatar);
    /// @notice trustStore[from][to] was updated (Algorithm 5 step 4). `rating` is this rating's
    /// T_opt (Eq. 41) and `newTrust` the stored value; anyone can recompute the integrity digest
    /// keccak256(abi.encode(from, to, newTrust, block.timestamp)) from the event and its block.
    event TrustStored(bytes32 indexed from, bytes32 indexed to, uint64 rating, uint64 newTrust);
    /// @notice A rating came with evidence: the sha2-256 digest of its record set, a dag-json IPFS
    /// block (its CIDv1 is derived from the digest: dag-json, sha2-256; docs/specs/trust.md §8).
    /// Emitted only when evidence is given, to keep plain ratings cheap.
    event EvidenceAttached(bytes32 indexed from, bytes32 indexed to, bytes32 evidence);
    /// @notice The oracle term O_ij changed.
    event OracleUpdated(bytes32 indexed from, bytes32 indexed to, int64 oldValue, int64 newValue);
    /// @notice A reputation changed (by an agreement or by feedback).
    event ReputationUpdated(bytes32 indexed id, uint64 oldReputation, uint64 newReputation);
    /// @notice A detector flagged an entity for attack kind `kind`.
    event EntityFlagged(bytes32 indexed id, uint8 indexed kind, bytes32 evidence);
    /// @notice A flag was cleared.
    event EntityUnflagged(bytes32 indexed id, uint8 indexed kind);
    /// @notice The flag instance the preceding `EntityFlagged` set: its serial among the flags of
    /// `kind` on `id` (1, 2, ...; a re-assertion of a set flag is a new instance). A flag contest
    /// records the serials it contests (`IDisputeResolution.Dispute.contestedSerials`).
    event FlagInstance(bytes32 indexed id, uint8 indexed kind, uint32 serial);
    /// @notice The detector began flag run `run` (its report's digest), in flight until `until`
    /// (a timestamp) at the latest.
    event FlagRunBegun(uint256 indexed run, bytes32 report, uint256 until);
    /// @notice The detector ended flag run `run`.
    event FlagRunEnded(uint256 indexed run);
    /// @notice The admin set an entity's identity-verified flag.
    event IdentityVerificationSet(bytes32 indexed id, bool verified);
    /// @notice An identity registry was attached for an entity kind.
    event VerifierSet(Kind indexed kind, address oldVerifier, address newVerifier);
    /// @notice The agreement thresholds changed.
    event AgreementThresholdsUpdated(uint64 oldMin, uint64 oldMax, uint64 newMin, uint64 newMax);
    /// @notice A trust agreement was settled (Algorithm 2).
    event AgreementFormed(
        uint256 indexed id,
        bytes32 indexed org,
        Mode mode,
        uint64 meanTrust,
        bytes32 agreementHash,
        bytes32 termsHash
    );

    /// @notice Registers an entity controlled by the caller. An id that the Avatar or the
    /// ResourceNode identity registry already verifies is refused (`AttestationRequired`), whatever
    /// the kind asked: its owner registers it with `registerAttested`. Entities registered here are never identity-verified by a registry.
    /// A plain registration starts at reputation 0: standing is earned by verification (the
    /// admin's `setIdentityVerified` grants the initial reputation once), so a fresh identity never
    /// starts above what any attacker can lose (whitewashing, docs/specs/trust.md §6).
    function register(bytes32 id, Kind kind) external;

    /// @notice Registers a verified identity (avatar: an MIT avatar; resource node: a PID with a
    /// join record) for its owner, the caller. The kind's registry must verify `id`, and a writer
    /// of that registry (the IdP's IDP_ROLE for avatars, the MSRP's MSRP_ROLE for resource nodes),
    /// who authenticated the owner, signs the EIP-712 message
    /// Registration(bytes32 id, uint8 kind, address controller, uint256 deadline) with controller =
    /// the caller, under the domain ("TrustManager", "1", chainId, this contract). An id another
    /// account registered with `register` before its registry verified it is reclaimed
    /// (`EntityReclaimed`): new controller, initial reputation (a verified identity starts with
    /// it), no flags, a new generation (its pairs and credits restart). An id the caller itself
    /// registered with `register`, as the same kind, is attested in place (`EntityAttested`): its
    /// generation, pairs, credits and flags stay, and it gets the initial reputation (added, capped
    /// at 1) unless the admin's verification granted it before. An
    /// attested id cannot be registered again. One person, one verified avatar: an avatar id opens
    /// with its owner's 16-byte MIT tag (avatarIdOf, docs/specs/avatars.md) and the IdP issues one
    /// MIT per person (iris check), so an avatar is refused (`OwnerHasAttestedAvatar`) when an
    /// avatar with the same owner tag (the registry's `ownerTagOf`: from the avatar's recorded
    /// owner, whether or not the id opens with it) was attested before, whatever its state now (`AvatarOwnerBound`,
    /// `attestedAvatarOf`). Resource nodes have no tag: the MSRP attests one PID per RN (A1).
    /// @param id the identity (avatar id or PID)
    /// @param kind Avatar or ResourceNode
    /// @param deadline the attestation expires after this timestamp
    /// @param attestation the registrar's 65-byte ECDSA signature
    function registerAttested(bytes32 id, Kind kind, uint256 deadline, bytes calldata attestation) external;

    /// @notice A further avatar of a person who has her attested avatar (one person, one verified
    /// avatar): its owner, with the IdP's attestation while the avatar is logged in (verified),
    /// registers it or takes it back from whoever registered it with `register` (`EntityReclaimed`),
    /// as an honest newcomer: reputation 0, unverified, no flags (never attested: one verified avatar
    /// per owner tag). The IdP signs the EIP-712 message
    /// AvatarReclaim(bytes32 id, address controller, uint256 generation, uint256 deadline) with
    /// controller = the caller and generation = `generationOf(id)` when it attests, under the domain
    /// ("TrustManager", "1", chainId, this contract): every reclaim of a registered id moves its
    /// generation on, so an attestation serves one reclaim (h14-red F5: without the generation a
    /// former controller replayed its unexpired attestation and took the avatar back). Refused
    /// for an owner without an attested avatar (`NotAFurtherAvatar`: use `registerAttested`), an
    /// attested entity or one the caller controls already (`EntityExists`), an attestation for
    /// another generation (`StaleAttestation`).
    /// @param id the avatar id
    /// @param generation the id's generation the attestation names (`generationOf(id)` now)
    /// @param deadline the attestation expires after this timestamp
    /// @param attestation the IdP's 65-byte ECDSA signature
    function reclaimAvatar(bytes32 id, uint256 generation, uint256 deadline, bytes calldata attestation) external;

    /// @notice Folds a rating into trustStore[from][to]: T = delta * T_opt + (1 - delta) * T_prev(now).
    /// At most one rating per pair per decay epoch (`RatedThisEpoch`), and never of an entity the
    /// caller controls itself (`OwnEntityRating`). The rating names the eras it was built for:
    /// one of a squatter's entry mined after its owner reclaimed the id is refused (`StaleEra`),
    /// not stored on the owner's fresh pair (h16-red2 R6); the rater rebuilds it, or not.
    /// @param from the rater (caller must control it)
    /// @param to the rated entity (not controlled by the caller)
    /// @param factors the n factor scores f_k in basis points, 16 bits each (lane k = factor k)
    /// @param evidence sha2-256 digest of the evidence record set (dag-json CIDv1 on IPFS), or zero
    /// @param expected keccak256(abi.encode(from, to, newTrust, block.timestamp)) as computed off-chain, or zero to skip the check
    /// @param fromGeneration `generationOf(from)` when the rating was built
    /// @param toGeneration `generationOf(to)` when the rating was built (the era its evidence is about)
    /// @return newTrust the stored value
    function rate(
        bytes32 from,
        bytes32 to,
        uint256 factors,
        bytes32 evidence,
        bytes32 expected,
        uint256 fromGeneration,
        uint256 toGeneration
    ) external returns (uint64 newTrust);

    /// @notice Sets O_ij (Eq. 46) of the pair of the eras the oracle observed. ORACLE_ROLE.
    /// @param fromGeneration `generationOf(from)` when the observations were made
    /// @param toGeneration `generationOf(to)` when the observations were made: a term observed of
    /// one era is refused (`StaleEra`) once either id was reclaimed, rather than written to the
    /// owner's fresh pair (h16-red2 R4)
    function setOracle(bytes32 from, bytes32 to, int64 value, uint256 fromGeneration, uint256 toGeneration) external;

    /// @notice Flags an entity for an attack kind (0 Sybil, 1 on-off, 2 good-mouthing, 3 bad-mouthing, ...). DETECTOR_ROLE.
    /// @dev Reverts `TrustManager__StaleEra` unless `generation` is the id's generation now: a
    /// detection is about the era it read, and a reclaim mined since names another controller.
    /// Inside a flag run in flight it joins the run; outside one it is a run of its own.
    /// @param id the entity flagged
    /// @param kind the attack kind (0..6)
    /// @param evidence the sha2-256 digest of the detection report (dag-json CID) on IPFS
    /// @param generation the id's generation the detection read (`generationOf(id)` at its block)
    function flag(bytes32 id, uint8 kind, bytes32 evidence, uint256 generation) external;

    /// @notice Clears one flag instance. DETECTOR_ROLE, or FEEDBACK_ROLE (the court, when a flag
    /// contest is upheld).
    /// @dev Reverts, changing nothing and emitting nothing: `TrustManager__StaleEra` unless
    /// `generation` is the id's generation now (a withdrawal judged one era's flag, and after a
    /// reclaim a flag of that kind is the new era's); `TrustManager__NotFlagged` if the id does not
    /// hold flag `kind`; `TrustManager__StaleFlagInstance` if its flag of that kind is another
    /// instance than `serial` (re-asserted, or withdrawn and set anew, since it was judged: a
    /// retried withdrawal never clears a later detection).
    /// @param id the entity
    /// @param kind the attack kind (0..6)
    /// @param generation the id's generation whose flag is withdrawn (`generationOf(id)` when judged)
    /// @param serial the instance withdrawn: `flagMarks(id)[kind]` when it was judged (the
    /// `FlagInstance` serial of the `EntityFlagged` whose report was judged)
    function unflag(bytes32 id, uint8 kind, uint256 generation, uint32 serial) external;

    /// @notice Per attack kind k (index k < 7), the serial of the last flag of kind k set on `id`
    /// (0: never; it counts every `flag`, re-assertions included, and is never reset). A flag
    /// contest's verdict clears only the instances it judged (their serial unchanged since it opened).
    function flagMarks(bytes32 id) external view returns (uint32[7] memory serials);

    /// @notice The attack flags `id` holds that it has held since flag run `run` or an earlier
    /// one: each set by a `flag` while clear in such a run (a re-assertion of a held flag does not
    /// move its run; a withdrawal and a new flag do). A flag contest refuses a juror only for those
    /// held since a run at or before its opening (`Dispute.runsAtOpening`; s20-redt F3).
    function flagsHeldSince(bytes32 id, uint256 run) external view returns (uint8 flags);

    /// @notice Begins flag run `flagRunState().runs + 1` (DETECTOR_ROLE), on the run's report:
    /// every `flag` and `flagBatch` until `endFlagRun` (or FLAG_RUN_MAX after now) joins it, and
    /// no flag contest opens meanwhile, so a ring detected in the run is flagged whole before any
    /// member can open one. Reverts `TrustManager__FlagRunTooSoon` within FLAG_RUN_SPACING of the
    /// previous run's start (runs cannot be chained to hold contests off).
    function beginFlagRun(bytes32 report) external;

    /// @notice Ends the run in flight (DETECTOR_ROLE); `TrustManager__NoFlagRun` if none is.
    function endFlagRun() external;

    /// @notice How many flag runs there have been (a `flag` outside a run counts as one) and, if
    /// a run is in flight, when it stops being in flight at the latest (0: none is).
    function flagRunState() external view returns (uint256 runs, uint256 inFlightUntil);

    /// @notice Flags several entities, all on one report, in the run in flight (DETECTOR_ROLE;
    /// `TrustManager__NoFlagRun` outside one). Entry i is `flag(ids[i], kinds[i], evidence,
    /// generations[i])`; any entry refused refuses the batch. At most FLAG_BATCH_MAX entries.
    function flagBatch(
        bytes32[] calldata ids,
        uint8[] calldata kinds,
        bytes32 evidence,
        uint256[] calldata generations
    ) external;

    /// @notice Adds a signed amount to a reputation, clamped to [0, 1]. FEEDBACK_ROLE (the dispute contract).
    function adjustReputation(bytes32 id, int256 amount) external;

    /// @notice Algorithm 2: settles a trust agreement between an organization and avatars, each of
    /// which consents: its controller signs the EIP-712 message AgreementConsent(bytes32 org,
    /// bytes32[] avatars, uint64[] thresholds, bytes32 termsHash, uint256 nonce, uint256 deadline)
    /// under the domain ("TrustManager", "1", chainId, this contract), with nonce =
    /// agreementNonce(org) (ECDSA, or ERC-1271 for a contract controller). An avatar controlled by
    /// the caller needs no signature. The nonce moves on with every agreement of the organization,
    /// so a consent counts for one agreement only.
    /// Reputation credit (Eq. 6, bounded against self-dealing, docs/specs/trust.md §3.2): unless the
    /// agreement goes through an intermediary, each avatar's reputation R moves to
    /// R + a·s·(T − R), with a = `agreementWeight`, T the avatar's trust in the organization and s
    /// the organization's **standing**: the lower of its reputation now and `CREDIT_MATURITY`
    /// blocks ago, and 0 while it is flagged (a new, unverified or flagged organization credits
    /// nothing). Only an avatar whose identity is verified (`isIdentityVerified`, what the court's
    /// `commit` requires) is credited: a credit enters the court's electorate
    /// (`totalReputationAt`), so an unverified avatar gets none, and nothing is recorded for it
    /// (verified later, the pair's next agreement credits it; this one never does). Each
    /// (organization, avatar) pair credits at most once per decay epoch, never an avatar of the
    /// organization's own controller, and its gains add up to at most `CREDIT_CAP` over the pair's
    /// lifetime (`creditOf`). An agreement that would not move a reputation writes nothing for it.
    /// @param org the organization (caller must control it)
    /// @param avatars the avatars, ids strictly increasing
    /// @param thresholds Threshold_{i,j} per avatar (WAD)
    /// @param termsHash H(P): the sha2-256 digest of the terms' dag-json block; the terms' CID is
    /// derived from it (CIDv1, dag-json, sha2-256), so what the avatars sign names the document
    /// @param consents the deadline the consents expire after (`ConsentExpired`), and one signature
    /// per avatar in the avatars' order (empty for the caller's own avatars)
    function proposeAgreement(
        bytes32 org,
        bytes32[] calldata avatars,
        uint64[] calldata thresholds,
        bytes32 termsHash,
        Consents calldata consents
    ) external returns (uint256 agreementId, Mode mode);

    /// @notice What the agreements of `org` have credited `avatar` (see `proposeAgreement`).
    function creditOf(bytes32 org, bytes32 avatar) external view returns (Credit memory);

    /// @notice The nonce the next agreement of `org` is consented under.
    function agreementNonce(bytes32 org) external view returns (uint256);

    /// @notice The effective trust of `from` in `to` now: decayed, oracle-adjusted, times the identity and flag factors.
    /// An unverified entity that `from` never rated (a stranger) gets the flag factor too: a fresh
    /// identity starts no higher than a flagged one (whitewashing, docs/specs/trust.md §6).
    function trustOf(bytes32 from, bytes32 to) external view returns (uint256);

    /// @notice trustStore[from][to] as stored for both ids' current generations (`generationOf`):
    /// what either id rated or was rated as before it was last reclaimed is not returned.
    function pairOf(bytes32 from, bytes32 to) external view returns (Pair memory);

    /// @notice How many times `id` was taken from another controller (`reclaimAvatar`, or
    /// `registerAttested` reclaiming a squat; at most 255, `GenerationsExhausted`): its pairs (given
    /// and received) and its credits are kept per generation, so nothing of an earlier controller's
    /// era counts for the present one.
    function generationOf(bytes32 id) external view returns (uint256);

    /// @notice The entity record.
    function entity(bytes32 id) external view returns (Entity memory);

    /// @notice The attested avatar of an owner tag (the first 16 bytes of the owner's avatar ids;
    /// zero if none): the one avatar of that person that `registerAttested` accepted.
    function attestedAvatarOf(bytes16 ownerTag) external view returns (bytes32);

    /// @notice The block an entity was registered in (its first reputation checkpoint); 0 if unknown.
    /// Not the age the court counts: that is `standingAt`'s `grantedAt` (h13-red D3). A reclaim does not
    /// move it (docs/specs/trust.md §6).
    function registeredAt(bytes32 id) external view returns (uint256);

    /// @notice True iff the entity's identity is verified: the admin flag, or the kind's identity
    /// registry for an entity registered with its owner's attestation.
    function isIdentityVerified(bytes32 id) external view returns (bool);

    /// @notice True iff the entity's identity stands: it is verified, or it was registered with its
    /// owner's attestation and its registry has not revoked it (a lapsed avatar session keeps its
    /// standing; its owner logs in again). An admin-verified entity whose flag the admin cleared, or
    /// an attested avatar whose owner's MIT is revoked, has none (h11-red2 D1: the court's reveal).
    function hasIdentityStanding(bytes32 id) external view returns (bool);

    /// @notice `isIdentityVerified` as the court reads it for a dispute whose snapshot is block
    /// `blockNumber` (s26-rtx): a withdrawal made after that block (the admin's unverification, an
    /// MIT revoked, a PID marked revoked: `IIdentityVerifier.isVerifiedAsOf`) does not count; one
    /// made at or before it does, and so does a lapse (an avatar's ended session) at any time. An
    /// admin flag cleared since counts only if it was set at the end of that block (s27-fxl: one the
    /// admin set later, then cleared, gave no identity at the block). The registry answers only for
    /// an entry attested at or before that block (s27-rtd S1: a plain entry attested in place later
    /// had no registry identity at it). A take-over ends the replaced entry's admin flag at every
    /// block (s27-review H1). The admin flag set now counts at every earlier block (a known limit:
    /// disputes.md).
    function isIdentityVerifiedAsOf(bytes32 id, uint256 blockNumber) external view returns (bool);

    /// @notice `hasIdentityStanding` as the court reads it for a dispute whose snapshot is block
    /// `blockNumber` (s26-rtx): false if the entity never had identity standing, or if the
    /// withdrawal in force now (the admin's unverification, the registry's revocation:
    /// `IIdentityVerifier.revokedSince`) was made at or before that block. A revocation made later,
    /// or one lifted since, does not take standing away. An admin flag cleared since stands for the
    /// entity only if it was set at the end of that block (s27-fxl); the registry stands for it only
    /// if it was attested at or before that block (s27-rtd S1).
    function hasIdentityStandingAsOf(bytes32 id, uint256 blockNumber) external view returns (bool);

    /// @notice The reputation an entity had at the end of a past block (0 before it registered).
    /// For a reclaimed id it answers an earlier era's (the previous controller's) too; `standingAt`
    /// reads nothing of an earlier era.
    function reputationAt(bytes32 id, uint48 blockNumber) external view returns (uint256);

    /// @notice An entity's reputation at the end of a past block and the block in which the standing
    /// it had then was granted: `registerAttested`, or the admin's first `setIdentityVerified` (0:
    /// none, e.g. a plain `register` or a reclaimed further avatar). A plain registration attested
    /// later has the attestation's block, not its first registration's (h13-red D3); the court
    /// counts its minimum age from `grantedAt`. (0, 0) at any block before the id's current era
    /// began (its last reclaim by another controller): an era's standing is its own, so a reclaimed
    /// id never votes with its previous controller's (s21-review1 on h14-red2 G4).
    function standingAt(bytes32 id, uint48 blockNumber) external view returns (uint256 reputation, uint256 grantedAt);

    /// @notice What the court reads of a juror, in one call: `entity(id)`'s controller and flags,
    /// `hasIdentityStandingAsOf(id, blockNumber)` and `standingAt(id, blockNumber)`. One call instead of three keeps
    /// `DisputeResolution.reveal` within issue 16's 60,000 gas with the second party account it
    /// reads (s25-rtt R4, docs/specs/disputes.md).
    /// @param id the entity
    /// @param blockNumber a past block (the dispute's snapshot; `TrustManager__FutureLookup` otherwise)
    /// @return controller its controller now (0: not registered)
    /// @return flags its flags now (the attack flags and the admin's verified bit)
    /// @return standing whether its identity stood at `blockNumber`, no withdrawal made after it counted
    /// (`hasIdentityStandingAsOf`, s26-rtx)
    /// @return reputation its reputation at `blockNumber` (`standingAt`)
    /// @return grantedAt the block its standing at `blockNumber` was granted in (`standingAt`; 0: none)
    function jurorAt(
        bytes32 id,
        uint48 blockNumber
    ) external view returns (address controller, uint8 flags, bool standing, uint256 reputation, uint256 grantedAt);

    /// @notice The sum of every entity's reputation at the end of a past block: the electorate a
    /// dispute measures its margin against (docs/specs/disputes.md, bounded feedback).
    /// @dev Kept for the blocks from the one before the last block that changed a reputation on, so
    /// that `block.number - 1` is always answered (what a dispute reads when it opens); an older
    /// block reverts `TrustManager__TotalNotKept`. One slot, rewritten with each reputation change.
    /// @param blockNumber a block before the current one
    /// @return the total reputation (WAD)
    function totalReputationAt(uint48 blockNumber) external view returns (uint256);

    /// @notice An agreement.
    function agreement(uint256 id) external view returns (Agreement memory);

    /// @notice The immutable model parameters.
    function model() external view returns (Model memory);
}
