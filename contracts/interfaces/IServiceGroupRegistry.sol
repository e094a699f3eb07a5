// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IServiceGroupRegistry
/// @notice The on-chain half of RSMS §IV.B (Metaverse service groups): for each group of resource
/// nodes serving a user, the user's PID, the member PIDs, the commitment Q = s*P to the current
/// group key, a hash of the Feldman commitments to the sharing polynomial, and the key epoch.
/// @dev Only the MSRP writes (docs/specs/rsms-group.md). A member must hold an on-chain join
/// record in the ResourcePoolRegistry (it was authenticated by a pool) when it is added: that is
/// the "authenticated before it joins" half of backward security; a PID the registry marks revoked
/// (its RN in S_RN) is refused. Epochs increase by one per
/// rekey, so an old key commitment can never be made current again. No key, share or real
/// identity is ever stored here.
interface IServiceGroupRegistry {
    /// @notice A group's public state.
    /// @param userPid PID of the user the group serves
    /// @param epoch current key epoch (0 at formation, +1 per rekey)
    /// @param qParity 0x02/0x03 prefix of Q
    /// @param members number of current members (RNs; the user is not counted)
    /// @param qX x-coordinate of Q = s_epoch * P (secp256k1)
    /// @param commitments keccak256 of the Feldman commitments A_0..A_N of the current epoch
    struct Group {
        bytes32 userPid;
        uint32 epoch;
        uint8 qParity;
        uint16 members;
        bytes32 qX;
        bytes32 commitments;
    }

    /// @notice The group id is zero or taken.
    error ServiceGroupRegistry__GroupExists(bytes32 groupId);
    /// @notice No group with this id.
    error ServiceGroupRegistry__UnknownGroup(bytes32 groupId);
    /// @notice The PID has no join record in the ResourcePoolRegistry: it was never authenticated by a pool.
    error ServiceGroupRegistry__NotJoined(bytes32 pid);
    /// @notice The ResourcePoolRegistry marks the PID revoked (`isRevoked`: the MSRP holds the RN behind it
    /// in S_RN): a suspicious RN is never allocated to a group again (RSMS §IV.B.2.c), at formation or by an
    /// update's `add`, until the MSRP lifts the mark (`reinstatePid`).
    error ServiceGroupRegistry__PidRevoked(bytes32 pid);
    /// @notice The PID is not a member of the group.
    error ServiceGroupRegistry__NotMember(bytes32 groupId, bytes32 pid);
    /// @notice The PID is already a member of the group (or listed twice).
    error ServiceGroupRegistry__AlreadyMember(bytes32 groupId, bytes32 pid);
    /// @notice The epoch is not the current epoch + 1.
    error ServiceGroupRegistry__EpochNotNext(bytes32 groupId, uint32 expected, uint32 got);
    /// @notice Q is not a secp256k1 point in SEC1 compressed form (33 bytes, 0x02/0x03 prefix, x < p, on the
    /// curve), the user PID or commitments hash is zero, or the group would be empty.
    error ServiceGroupRegistry__InvalidGroup(bytes32 groupId);
    /// @notice More members than a group may have.
    error ServiceGroupRegistry__TooManyMembers(bytes32 groupId, uint256 count);

    /// @notice A group was formed for a user with its first key commitment (epoch 0).
    event GroupFormed(
        bytes32 indexed groupId,
        bytes32 indexed userPid,
        bytes32[] members,
        bytes q,
        bytes32 commitments
    );
    /// @notice A member was evicted at `epoch`.
    event MemberEvicted(bytes32 indexed groupId, bytes32 indexed pid, uint32 epoch);
    /// @notice A member was added at `epoch`.
    event MemberAdded(bytes32 indexed groupId, bytes32 indexed pid, uint32 epoch);
    /// @notice The group key was renewed: Q and the commitments hash of `epoch` replace the old ones.
    event GroupRekeyed(bytes32 indexed groupId, uint32 indexed epoch, bytes q, bytes32 commitments);

    /// @notice Forms a group. MSRP only. Every member must have an on-chain join record and not be
    /// marked revoked in the ResourcePoolRegistry (PidRevoked).
    /// @param groupId a new non-zero id
    /// @param userPid the user's PID
    /// @param members the RNs' current PIDs (distinct)
    /// @param q Q = s*P, 33-byte compressed
    /// @param commitments keccak256 of the Feldman commitments A_0..A_N (A_0 = Q)
    function formGroup(
        bytes32 groupId,
        bytes32 userPid,
        bytes32[] calldata members,
        bytes calldata q,
        bytes32 commitments
    ) external;

    /// @notice Evicts and adds members and commits the next epoch's key. MSRP only.
    /// @param epoch must be the current epoch + 1
    /// @param evict current members to remove
    /// @param add joined RNs to add, not marked revoked (PidRevoked), not current members (a member
    /// listed in `evict` too is refused with AlreadyMember, so an evicted PID is never owed the key of
    /// the epoch that evicts it)
    /// @param q the new key's commitment Q' = s'*P
    /// @param commitments keccak256 of the new epoch's commitments
    function rekey(
        bytes32 groupId,
        uint32 epoch,
        bytes32[] calldata evict,
        bytes32[] calldata add,
        bytes calldata q,
        bytes32 commitments
    ) external;

    /// @notice A group's state (userPid zero if none).
    function group(bytes32 groupId) external view returns (Group memory);

    /// @notice Q of the current epoch, 33-byte compressed.
    function groupKeyCommitment(bytes32 groupId) external view returns (bytes memory);

    /// @notice True iff the PID is a current member.
    function isMember(bytes32 groupId, bytes32 pid) external view returns (bool);

    /// @notice The ResourcePoolRegistry consulted for join records.
    function pools() external view returns (address);
}
