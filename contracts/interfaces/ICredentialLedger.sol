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
interface ICredentialLedger {
    /// @notice Where a registration is.
    enum Status {
        None,
        Pending,
        Approved,
        Revoked
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

    /// @notice Creates or updates a place with its authorities and approval threshold k. PLACE_ADMIN_ROLE.
    function setPlace(bytes32 place, address[] calldata authorities, uint8 threshold) external;

    /// @notice A place authority that has verified a registration off-chain (S = 0, decoy error
    /// rate under the threshold) proposes it; the proposal is its approval.
    function propose(bytes32 place, address user, bytes32 commitment) external returns (bytes32 id);

    /// @notice Another place authority approves; at k approvals access is granted.
    function approve(bytes32 id) external;

    /// @notice Revokes an approved registration. PLACE_ADMIN_ROLE.
    function revoke(bytes32 id) external;

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
