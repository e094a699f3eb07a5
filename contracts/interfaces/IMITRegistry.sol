// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IMITRegistry
/// @notice The avatar paper's on-chain records (§III, Appendix B): metaverse identity tokens (MIT)
/// issued and revoked by the identity provider (IdP), avatars with their driver (the human owner or
/// an AI proxy), delegations, and trace requests with their verdicts.
/// @dev Nothing here names a person: an MIT holds the keccak256 of its owner's CPS public key
/// (EIP-2537 encoding) and the CID of its public parameters; an avatar holds serials and the hash h
/// of the warrant that binds its physical identity (the iris commitment stays with the IdP and in
/// the signed warrant, never in the clear on-chain); a verdict is keccak256(UID || salt), opened
/// only to whoever the IdP chooses.
interface IMITRegistry {
    enum MitStatus {
        None,
        Active,
        Revoked
    }
    enum Driver {
        None,
        Human,
        AI
    }
    /// @notice A trace case's life (docs/specs/disputes.md, "The court files the trace").
    /// Reporter-initiated (`requestTrace` alone, the paper's V-B1): Open -> InteractionTraced or
    /// Rejected; `InteractionTraced` says the evidence shows an authentic interaction and who did
    /// it (committed), never that anyone misbehaved. Court-bound (a dispute of nature avatar
    /// claimed the case): Open -> AwaitingCourt -> CourtUpheld (the court's final verdict upheld
    /// the claim) -> CourtTraced or Rejected by the IdP; or AwaitingCourt -> Dismissed (the claim
    /// rejected, the dispute void, or the court cut off), closed untraced.
    enum TraceStatus {
        None,
        Open,
        InteractionTraced,
        Rejected,
        AwaitingCourt,
        CourtUpheld,
        CourtTraced,
        Dismissed
    }

    /// @param keyId keccak256 of the holder's CPS public key (EIP-2537 G2 encoding)
    struct MIT {
        bytes32 keyId;
        MitStatus status;
        uint40 issuedAt;
        string paramsCid;
    }

    /// @param owner the owner's MIT serial (the human manipulator)
    /// @param driverSerial who drives it now (the owner, or an AI proxy's MIT serial)
    /// @param warrantHash h of the warrant under which the driver signs (CPS)
    /// @param vidCommitment keccak256 of the avatar's virtual identity (appearance description)
    /// @param notAfter the last second (unix time) of the current driver's warrant: the login
    /// warrant's when the owner drives (h9-red F4: a login used to verify the avatar for ever), the
    /// delegation's when an AI proxy does; the avatar stops verifying after it
    struct Avatar {
        bytes32 owner;
        bytes32 driverSerial;
        Driver driver;
        uint40 updatedAt;
        uint64 notAfter;
        bytes32 warrantHash;
        bytes32 vidCommitment;
    }

    /// @param notAfter the last second (unix time) of the warrant's validity: the proxy drives, and
    /// the avatar verifies, until then (the warrant's own notAfter, which its hash h covers)
    struct Delegation {
        bytes32 avatarId;
        bytes32 originalSerial;
        bytes32 proxySerial;
        bytes32 warrantHash;
        uint40 createdAt;
        uint40 revokedAt;
        uint64 notAfter;
    }

    /// @param court the court that claimed the case for a dispute (0: reporter-initiated)
    /// @param disputeId that court's dispute (0: none)
    struct TraceCase {
        bytes32 avatarId;
        address reporter;
        TraceStatus status;
        uint40 openedAt;
        bytes32 evidenceHash;
        bytes32 verdictCommitment;
        address court;
        uint64 disputeId;
    }

    /// @notice An avatar as a party checking its hello reads it (mutual authentication), at one block.
    /// @param avatar the avatar's record
    /// @param ownerStatus the status of its owner's MIT (`avatar.owner`)
    /// @param ownerKeyId that MIT's keyId
    /// @param driverStatus the status of its driver's MIT (`avatar.driverSerial`: the owner's own when the owner drives)
    /// @param driverKeyId that MIT's keyId
    /// @param verified `isVerified(avatarId)` at the same block
    struct AvatarStanding {
        Avatar avatar;
        MitStatus ownerStatus;
        bytes32 ownerKeyId;
        MitStatus driverStatus;
        bytes32 driverKeyId;
        bool verified;
    }

    error MITRegistry__MitExists(bytes32 serial);
    error MITRegistry__MitNotActive(bytes32 serial);
    error MITRegistry__InvalidInput();
    error MITRegistry__UnknownAvatar(bytes32 avatarId);
    error MITRegistry__NotOwner(bytes32 avatarId, bytes32 serial);
    error MITRegistry__UnknownDelegation(uint256 id);
    error MITRegistry__AlreadyRevoked(uint256 id);
    error MITRegistry__UnknownCase(uint256 id);
    error MITRegistry__CaseClosed(uint256 id);
    error MITRegistry__InvalidEndpoint(uint256 length);
    /// @notice The case is not open (`status`): it was judged, or a dispute claimed it already.
    error MITRegistry__CaseNotOpen(uint256 caseId, TraceStatus status);
    /// @notice Only the case's reporter (`reporter`) may bring it before the court.
    error MITRegistry__NotReporter(uint256 caseId, address reporter);
    /// @notice The case reports avatar `avatarId`, not the dispute's respondent.
    error MITRegistry__CaseAvatarMismatch(uint256 caseId, bytes32 avatarId);
    /// @notice The case waits for its court's final verdict; the IdP may not judge it yet.
    error MITRegistry__AwaitingCourt(uint256 caseId, address court, uint256 disputeId);
    /// @notice The case is not awaiting a court (`status`).
    error MITRegistry__NotAwaitingCourt(uint256 caseId, TraceStatus status);
    /// @notice Only a case awaiting a court that no longer holds COURT_ROLE may be released.
    error MITRegistry__CourtStillBound(uint256 caseId, address court);
    /// @notice COURT_ROLE goes to a contract (the dispute court), never to an account a key controls.
    error MITRegistry__CourtNotAContract(address account);
    /// @notice COURT_ROLE is bound to `court`, its first holder; no other account may take it.
    error MITRegistry__CourtAlreadyBound(address court, address account);
    /// @notice The court holds no other role, and the IdP or the admin is never the court.
    error MITRegistry__RoleHoldersNotDistinct(bytes32 role, address account);
    /// @notice A login or delegation whose warrant has already expired (`notAfter` before the block's time).
    error MITRegistry__WarrantExpired(uint256 notAfter, uint256 time);

    event MitIssued(bytes32 indexed serial, bytes32 keyId, string paramsCid);
    event MitRevoked(bytes32 indexed serial);
    /// @notice The owner drives the avatar under the login warrant `warrantHash` until `notAfter`.
    event AvatarLoggedIn(
        bytes32 indexed avatarId,
        bytes32 indexed owner,
        bytes32 warrantHash,
        bytes32 vidCommitment,
        uint64 notAfter
    );
    event AvatarDelegated(
        uint256 indexed delegationId,
        bytes32 indexed avatarId,
        bytes32 indexed proxySerial,
        bytes32 warrantHash,
        uint64 notAfter
    );
    event DelegationRevoked(uint256 indexed delegationId, bytes32 indexed avatarId);
    event TraceRequested(
        uint256 indexed caseId,
        bytes32 indexed avatarId,
        address indexed reporter,
        bytes32 evidenceHash
    );
    /// @notice The IdP's verdict: `status` InteractionTraced (a reporter-initiated case: the
    /// evidence shows an authentic interaction, which is no verdict of misbehaviour), CourtTraced
    /// (a case the court upheld first) or Rejected.
    event TraceVerdict(uint256 indexed caseId, TraceStatus status, bytes32 verdictCommitment);
    /// @notice Court `court` claimed case `caseId` for its dispute `disputeId`: the IdP may not judge
    /// it before the dispute's final verdict upholds the claim.
    event TraceCaseBound(uint256 indexed caseId, address indexed court, uint256 indexed disputeId);
    /// @notice The court's final verdict on the case: `upheld` (the IdP may now judge it) or not
    /// (closed untraced: `Dismissed`). `byIdp`: the IdP released a case whose court lost COURT_ROLE.
    event TraceCaseRuled(uint256 indexed caseId, uint256 indexed disputeId, bool upheld, bool byIdp);
    /// @notice An IdP account announced the endpoint of its service (replacing `oldEndpoint`).
    event IdpEndpointSet(address indexed idp, string oldEndpoint, string endpoint);

    /// @notice Issues an MIT (IDP_ROLE) after the IdP verified the key's proof of possession.
    function issueMIT(bytes32 serial, bytes32 keyId, string calldata paramsCid) external;
    /// @notice Revokes an MIT (IDP_ROLE); avatars it drives stop verifying.
    function revokeMIT(bytes32 serial) external;
    /// @notice Records a verified login (IDP_ROLE as the platform server): the owner drives the
    /// avatar until the login warrant's `notAfter`, after which it no longer verifies (`isVerified`)
    /// until she logs in again or delegates. The first login of an avatar makes its user the owner.
    /// @param notAfter the login warrant's notAfter (unix seconds), which its hash h covers;
    /// reverts WarrantExpired if it is before the block's time
    function recordLogin(
        bytes32 avatarId,
        bytes32 ownerSerial,
        bytes32 warrantHash,
        bytes32 vidCommitment,
        uint64 notAfter
    ) external;
    /// @notice Records a verified delegation (IDP_ROLE): the proxy drives the avatar; the owner is forced offline.
    /// @param notAfter the warrant's notAfter (unix seconds): after it the avatar no longer verifies
    /// (`isVerified`) until its owner logs in again or delegates anew; reverts WarrantExpired if past
    function recordDelegation(
        bytes32 avatarId,
        bytes32 proxySerial,
        bytes32 warrantHash,
        uint64 notAfter
    ) external returns (uint256 delegationId);
    /// @notice Revokes a delegation (IDP_ROLE): the avatar has no driver until its owner logs in again.
    function revokeDelegation(uint256 delegationId) external;
    /// @notice Anyone reports an avatar with the hash of the evidence they give the IdP off-chain:
    /// the IdP may judge it at once (reporter-initiated, V-B1), unless a dispute claims it first
    /// (`bindCase`), in which case only the court's upheld verdict lets the IdP judge it.
    function requestTrace(bytes32 avatarId, bytes32 evidenceHash) external returns (uint256 caseId);
    /// @notice The IdP's verdict (IDP_ROLE): traced (with keccak256(UID || salt)) or rejected, on
    /// an Open case (traced: InteractionTraced) or a CourtUpheld one (traced: CourtTraced). Refuses
    /// a case awaiting its court (`AwaitingCourt`) and a closed one (`CaseClosed`).
    function recordVerdict(uint256 caseId, bool traced, bytes32 verdictCommitment) external;
    /// @notice COURT_ROLE: the court claims an Open case for its dispute `disputeId` (from
    /// `openAvatarDispute`). Refuses an unknown case, one not Open (judged, or claimed by a
    /// dispute already: `CaseNotOpen`), one whose reporter is not `reporter` (the claimant's
    /// controller, `NotReporter`) or that reports another avatar than `avatarId` (the respondent,
    /// `CaseAvatarMismatch`), and a dispute id beyond 64 bits (`InvalidInput`).
    function bindCase(uint256 caseId, uint256 disputeId, address reporter, bytes32 avatarId) external;
    /// @notice COURT_ROLE, from the court's final `resolve`: the claim of dispute `disputeId` is
    /// upheld (`upheld`: the case becomes CourtUpheld and the IdP may judge it) or not (Dismissed,
    /// closed untraced). Only the court that bound the case, for that dispute, moves it; anything
    /// else (another court, another dispute, a second ruling) changes nothing and returns false,
    /// so that no state of the registry can block a court's resolution.
    /// @return applied whether the case moved
    function courtRuling(uint256 caseId, uint256 disputeId, bool upheld) external returns (bool applied);
    /// @notice IDP_ROLE: dismisses (untraced) a case awaiting a court that no longer holds
    /// COURT_ROLE (the admin cut it off), which could otherwise never rule on it.
    function releaseCase(uint256 caseId) external;
    /// @notice Announces the endpoint (a URL such as `https://idp.example.org`) at which the IdP
    /// service answers issuance, login and delegation: service discovery for users and proxies.
    /// IDP_ROLE only, so the endpoint is as trustworthy as that account; a client still checks
    /// that the service's signed description names an account holding IDP_ROLE, and every reply
    /// is signed by it, so a wrong endpoint can deny service but cannot impersonate the IdP.
    /// @param endpoint 1 to MAX_ENDPOINT_BYTES bytes (not interpreted on-chain)
    function setIdpEndpoint(string calldata endpoint) external;
    /// @notice The IdP's announced endpoint and the account that announced it ("" and 0 if none).
    function idpEndpoint() external view returns (address idp, string memory endpoint);

    function mit(bytes32 serial) external view returns (MIT memory);
    function avatar(bytes32 avatarId) external view returns (Avatar memory);
    /// @notice Everything a party reads to check an avatar's hello, in one call and at one block
    /// (issue 20: four calls before, `avatar`, `mit` twice and `isVerified`, each a round trip to
    /// the node): the record, its owner's and its driver's MIT, and whether it verifies now.
    /// For an unknown avatar: an empty record, both MITs `None`, not verified.
    function avatarStanding(bytes32 avatarId) external view returns (AvatarStanding memory);
    function delegation(uint256 id) external view returns (Delegation memory);
    function traceCase(uint256 id) external view returns (TraceCase memory);
    /// @notice True iff the MIT is active.
    function isActive(bytes32 serial) external view returns (bool);

    /// @notice The court COURT_ROLE is bound to (its first holder, h15-red3 H1); 0 before.
    function boundCourt() external view returns (address);
}
