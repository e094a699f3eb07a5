// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ICredentialLedger
/// @notice MSSA credential blocks (MSSA paper, "Block sign and verification", Steps 4-9): a
/// registration verified off-chain by a place's authority (S = S1 xor S2 = 0) is proposed, approved
/// by k of the place's authorities, and then grants the user access to the place.
/// @dev Only a commitment is stored: keccak256(abi.encode("METATRUST-V1-MSSA-CREDENTIAL", place,
/// user, keccak256(U12), salt)) with a 256-bit salt; never the credential CR, the key K_r or U12.
/// An approver must be one of the place's authorities *and* a sitting elected authority. Approved
/// blocks are chained: link_i = keccak256(abi.encode(link_{i-1}, id, commitment)), the classical
/// record of the paper's quantum block linking (Eqs. 17-22), so a rewritten record breaks the chain.
/// A proposal carries the user's EIP-712 signature over (place, user, commitment, nullifier,
/// electorNullifier, session, nonce, deadline), so nobody registers an address without its owner. The
/// nonce is the user's current `consentNonce` at the place: her cancel (or the operator's) and a
/// revocation bump it, which withdraws every consent she signed before (s20-redm F3: an unused
/// consent held by an authority does not register her after she cancelled). The deadline (unix
/// seconds, at most CONSENT_TTL after the proposing block) bounds it in time: an unused consent she
/// never withdrew registers her no later than she said (F3's residual). The nullifier is
/// HMAC-SHA256(place key, place || identity) computed by the place's authorities from the identity
/// document they verified: equal for one person at one place, meaningless without the place key,
/// and at most one live registration per place holds it. Access is granted when k approvers are
/// still place authorities and sitting authorities at that moment (every approver is re-checked).
/// Electorship is separate from access (h11-red2 M1): the one registration the user chooses carries
/// her election nullifier e = HMAC(electionKey, "metatrust MSSA elector" || identity), one value per
/// person for the whole deployment; its approval enrols her account in the election under e
/// (`enrolElector`), which refuses a second account under a held e, and the approval then fails
/// and changes nothing. A registration with e = 0 grants access only and adds no elector.
/// A pending proposal expires after PENDING_TTL or after the deadline its user signed, whichever comes
/// first (s23-rtm F5: her deadline bounds the grant and her enrolment as an elector, not only the
/// proposal), and can be cancelled by the user or the operator.
/// Revoking a user's last approved registration that carries e removes the user from the
/// election's members (which frees e).
/// Service discovery (issue 19): each authority of a place announces the endpoint of its service
/// (`mssa:serve authority`), where users and the other authorities of the place reach it.
interface ICredentialLedger {
    /// @notice Where a registration is.
    enum Status {
        None,
        Pending,
        Approved,
        Revoked,
        Cancelled
    }

    /// @notice A place (PL1, ...) and its authorities.
    struct Place {
        uint8 threshold;
        address[] authorities;
    }

    /// @notice A credential block.
    struct Registration {
        bytes32 place;
        address user;
        bytes32 commitment;
        Status status;
        uint8 approvals;
        uint40 approvedAt;
        uint64 index;
        bytes32 link;
        uint40 proposedAt;
        /// @dev the deadline the user signed: no approval grants it after (s23-rtm F5)
        uint40 consentDeadline;
        bytes32 nullifier;
        /// @dev the election nullifier e (zero: access only, no elector)
        bytes32 electorNullifier;
    }

    error CredentialLedger__InvalidPlace(bytes32 place);
    error CredentialLedger__UnknownPlace(bytes32 place);
    error CredentialLedger__NotPlaceAuthority(bytes32 place, address account);
    error CredentialLedger__NotSitting(address account);
    error CredentialLedger__InvalidInput();
    error CredentialLedger__AlreadyRegistered(address user, bytes32 place);
    error CredentialLedger__PendingExists(address user, bytes32 place, bytes32 id);
    error CredentialLedger__UnknownRegistration(bytes32 id);
    error CredentialLedger__NotPending(bytes32 id);
    error CredentialLedger__AlreadyApproved(bytes32 id, address authority);
    error CredentialLedger__BadUserSignature(address user);
    /// @notice The user's consent to a registration at `place` expired at `deadline` (unix seconds).
    error CredentialLedger__ConsentExpired(address user, bytes32 place, uint256 deadline);
    /// @notice The consent's `deadline` lies beyond `latest` (this block + CONSENT_TTL).
    error CredentialLedger__ConsentDeadlineTooFar(address user, bytes32 place, uint256 deadline, uint256 latest);
    error CredentialLedger__DuplicateIdentity(bytes32 place, bytes32 nullifier, bytes32 holder);
    error CredentialLedger__Expired(bytes32 id, uint256 expiredAt);
    error CredentialLedger__NotCancellable(bytes32 id, address account);
    /// @notice The endpoint is empty or longer than MAX_ENDPOINT_BYTES (its length in bytes).
    error CredentialLedger__InvalidEndpoint(bytes32 place, uint256 length);

    event PlaceSet(bytes32 indexed place, address[] authorities, uint8 threshold);
    event RegistrationProposed(
        bytes32 indexed id,
        bytes32 indexed place,
        address indexed user,
        bytes32 commitment,
        address authority
    );
    event RegistrationApproved(bytes32 indexed id, address indexed authority, uint8 approvals);
    event AccessGranted(bytes32 indexed id, bytes32 indexed place, address indexed user, uint64 index, bytes32 link);
    event AccessRevoked(bytes32 indexed id, bytes32 indexed place, address indexed user);
    event RegistrationCancelled(bytes32 indexed id, address indexed by);
    /// @notice Every consent `user` signed for `place` under a lower nonce is void; `nonce` is the new one.
    event ConsentsWithdrawn(address indexed user, bytes32 indexed place, uint256 nonce);
    /// @notice k approvals reached, but fewer than k approvers are still authorities: still pending.
    event ApprovalsStale(bytes32 indexed id, uint8 approvals, uint8 current);
    /// @notice An authority of `place` announced the endpoint of its service (replacing `oldEndpoint`);
    /// `endpoint` is "" when `setPlace` removed the authority from the place and cleared it.
    event AuthorityEndpointSet(bytes32 indexed place, address indexed authority, string oldEndpoint, string endpoint);

    /// @notice Creates or updates a place with its authorities and approval threshold k. PLACE_ADMIN_ROLE.
    /// An authority that leaves the place loses its announced endpoint (AuthorityEndpointSet to "").
    function setPlace(bytes32 place, address[] calldata authorities, uint8 threshold) external;

    /// @notice A place authority that has verified a registration off-chain (S = 0, decoy error
    /// rate under the threshold, identity checked and its nullifier computed) proposes it; the
    /// proposal is its approval.
    /// @param nullifier the place's identity nullifier (non-zero; held by no approved registration here)
    /// @param electorNullifier the election nullifier e when the user chose this registration to
    /// make her an elector (held by no other account in the election: else the election's
    /// ElectorNullifierTaken, or ElectorNullifierMismatch when `user` holds another e); zero for
    /// access only
    /// @param session the registration session, signed by the user
    /// @param deadline the last second (unix, block time) at which the user's consent may be
    /// proposed, and the last at which the registration may be approved and granted, signed by
    /// her: later, ConsentExpired (and `approve` Expired); beyond this block + CONSENT_TTL,
    /// ConsentDeadlineTooFar (nothing is recorded either way)
    /// @param signature the user's EIP-712 `Registration` signature (or an ERC-1271 answer)
    function propose(
        bytes32 place,
        address user,
        bytes32 commitment,
        bytes32 nullifier,
        bytes32 electorNullifier,
        bytes32 session,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 id);

    /// @notice Another place authority approves; when k approvers are still authorities of the
    /// place and sitting, access is granted, unless another registration of the same nullifier was
    /// approved since the proposal (reverts DuplicateIdentity; nothing changes). A registration
    /// carrying an election nullifier then enrols its user as that person's elector; if another
    /// account holds that e by now, the approval reverts with the election's ElectorNullifierTaken
    /// and nothing changes (the registration stays pending; it succeeds once e is free again).
    /// An authority that approved already re-runs the check (h15-red2 R7: k approvals, some made
    /// while their authority was out of its seat, are granted once k approvers sit again); when it
    /// still fails, AlreadyApproved and nothing changes.
    function approve(bytes32 id) external;

    /// @notice Cancels a pending registration: its user, PLACE_ADMIN_ROLE, or anyone once expired.
    /// The user's or the operator's cancel also withdraws every consent the user signed for the
    /// place (`consentNonce` + 1, ConsentsWithdrawn); a third party's cancel of an expired one does not.
    function cancel(bytes32 id) external;

    /// @notice Revokes an approved registration; the user leaves the electorate (and its election
    /// nullifier is freed) with its last approved registration that carries one. PLACE_ADMIN_ROLE.
    /// Withdraws the user's consents for the place (`consentNonce` + 1, ConsentsWithdrawn).
    function revoke(bytes32 id) external;

    /// @notice Announces the endpoint (a URL such as `https://pl1-a.example.org`) of the caller's
    /// authority service for `place`: service discovery for users (Step 1's keys, the request, the
    /// consent) and for the place's other authorities (key releases, approvals). Only a current
    /// authority of the place, for itself; seated in the election or not, since every authority of
    /// the place contributes a one-time key to every registration there. The endpoint is as
    /// trustworthy as that account: a client still checks the service's signed description and the
    /// authority's signature on every reply, so a wrong endpoint can deny service but cannot
    /// impersonate the authority.
    /// @param place an existing place whose authorities include the caller
    /// @param endpoint 1 to MAX_ENDPOINT_BYTES bytes (not interpreted on-chain)
    function setAuthorityEndpoint(bytes32 place, string calldata endpoint) external;

    /// @notice The endpoint `authority` announced for `place` ("" if none, or if it is no longer
    /// an authority of the place).
    function authorityEndpoint(bytes32 place, address authority) external view returns (string memory);

    /// @notice The place's authorities, in order (the first verifies), with their announced
    /// endpoints ("" for one that announced none): what a client needs to reach them, in one call.
    function authorityEndpoints(
        bytes32 place
    ) external view returns (address[] memory authorities, string[] memory endpoints);

    /// @notice The EIP-712 digest the user signs for a registration, under her current
    /// `consentNonce(user, place)`: `Registration(bytes32 place,address user,bytes32 commitment,
    /// bytes32 nullifier,bytes32 electorNullifier,bytes32 session,uint256 nonce,uint256 deadline)`.
    function registrationDigest(
        bytes32 place,
        address user,
        bytes32 commitment,
        bytes32 nullifier,
        bytes32 electorNullifier,
        bytes32 session,
        uint256 deadline
    ) external view returns (bytes32);

    /// @notice The nonce the user's next consent for `place` must sign; a consent signed under a
    /// lower one is refused BadUserSignature.
    function consentNonce(address user, bytes32 place) external view returns (uint256);

    /// @notice The approved registration holding `nullifier` at `place` (zero if none). A pending
    /// proposal holds no nullifier: `propose` and the k-th `approve` revert DuplicateIdentity
    /// when an approved registration at the place holds it.
    function nullifierHolder(bytes32 place, bytes32 nullifier) external view returns (bytes32 id);

    /// @notice The registration id of (place, user, commitment).
    function registrationId(bytes32 place, address user, bytes32 commitment) external pure returns (bytes32);

    /// @notice One registration.
    function registration(bytes32 id) external view returns (Registration memory);

    /// @notice One place.
    function place(bytes32 place) external view returns (Place memory);

    /// @notice Whether `user` may access `place`, and through which registration.
    function access(address user, bytes32 place) external view returns (bool granted, bytes32 id);

    /// @notice Whether `authority` has approved registration `id`.
    function approvedBy(bytes32 id, address authority) external view returns (bool);

    /// @notice The head of the chain of approved blocks and their number.
    function head() external view returns (bytes32 link, uint64 count);
}
