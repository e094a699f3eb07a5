// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IResourcePoolRegistry
/// @notice The on-chain half of RSMS §IV.A (resource nodes joining Metaverse service resource
/// pools): the pools and their managers (RPMs), the Bloom-filter roots the provider (MSRP)
/// publishes for each pool, and the pseudonym records H4(a_{i,k}) -> PID_{i,k} written at every
/// successful join or re-authentication.
/// @dev Who writes what, and why (docs/specs/rsms-join.md):
/// - The MSRP (MSRP_ROLE) creates pools, publishes filter roots and records joins. The paper has
///   the MSRP verify a_{i,k} against what it issued before it "stores it in the blockchain"; the
///   MSRP is the only party that can tell a Bloom-filter false positive (paper Game 4) from a
///   real registration, so it is the only writer of join records.
/// - Each pool's RPM holds RPM_ROLE for its pool. RPMs read the chain (used tags, recorded PIDs,
///   filter roots) to decide; they do not write join records.
/// - The MSRP marks revoked the one PID it attested as an RN's trust identity while it holds the
///   RN suspicious (S_RN, RSMS §IV.B.2.c: an evicted or operator-flagged RN), and lifts the mark
///   when the RN leaves S_RN (revokePid, reinstatePid; rsms-group.md §8). That PID is public
///   already (the TrustManager's registration names it); no other pseudonym of the RN is marked.
/// - Nothing here links two pseudonyms of one RN: records are keyed by PID and by tag only, so
///   the chain alone cannot link an RN's successive PIDs (unlinkability, §III.D.2).
interface IResourcePoolRegistry {
    /// @notice A pool (a Metaverse service resource pool X and its manager RPM_X).
    /// @param rpm the RPM's account
    /// @param pkParity 0x02 or 0x03: the SEC1 prefix of PK_RPM
    /// @param epochs number of Bloom filters published for the pool
    /// @param pidRpm PID_RPM = H1(PK_pub, RID_RPM)
    /// @param pkX the x-coordinate of PK_RPM = d*P (secp256k1)
    struct Pool {
        address rpm;
        uint8 pkParity;
        uint32 epochs;
        bytes32 pidRpm;
        bytes32 pkX;
    }

    /// @notice One published Bloom filter of a pool.
    /// @param root keccak256 of the serialized filter (docs/specs/crypto.md §6)
    /// @param capacity N the filter was sized for
    /// @param lambda number of hash positions (false-positive rate about 2^-lambda)
    /// @param publishedAt block timestamp of publication
    /// @param cid CIDv1 of the serialized filter on IPFS (raw codec)
    struct FilterRoot {
        bytes32 root;
        uint32 capacity;
        uint8 lambda;
        uint64 publishedAt;
        string cid;
    }

    /// @notice A pseudonym record: the tag H4(a_{i,k}) stored with PID_{i,k}.
    /// @param tag H4(a_{i,k})
    /// @param poolId the pool joined
    /// @param kind 1 = initial authentication, 2 = re-authentication
    /// @param recordedAt block timestamp
    struct PidRecord {
        bytes32 tag;
        uint32 poolId;
        uint8 kind;
        uint64 recordedAt;
    }

    /// @notice One join to record (for batches).
    struct JoinInput {
        bytes32 pid;
        bytes32 tag;
        uint32 poolId;
        uint8 kind;
    }

    /// @notice The pool id is zero or already taken.
    error ResourcePoolRegistry__PoolExists(uint32 poolId);
    /// @notice No pool with this id.
    error ResourcePoolRegistry__UnknownPool(uint32 poolId);
    /// @notice The RPM account is zero, the PID is zero, or the public key is not a secp256k1 point in SEC1
    /// compressed form (33 bytes, 0x02/0x03 prefix, x < p, x^3 + 7 a square mod p).
    error ResourcePoolRegistry__InvalidPool(uint32 poolId);
    /// @notice The filter parameters are out of range (capacity >= 1, lambda in [1, 64], root and cid non-empty).
    error ResourcePoolRegistry__InvalidFilter(uint32 poolId);
    /// @notice The PID already has a record (a replayed or colliding pseudonym).
    error ResourcePoolRegistry__PidExists(bytes32 pid);
    /// @notice The tag H4(a) was already recorded (a replayed one-time secret).
    error ResourcePoolRegistry__TagUsed(bytes32 tag);
    /// @notice A zero PID or tag, or an unknown kind.
    error ResourcePoolRegistry__InvalidRecord(bytes32 pid, bytes32 tag, uint8 kind);
    /// @notice An empty batch.
    error ResourcePoolRegistry__EmptyBatch();
    /// @notice The caller is not the account of the pool's RPM (only it announces the pool's endpoint).
    error ResourcePoolRegistry__NotPoolRpm(uint32 poolId, address caller);
    /// @notice The endpoint is empty or longer than MAX_ENDPOINT_BYTES.
    error ResourcePoolRegistry__InvalidEndpoint(uint32 poolId);
    /// @notice The PID has no join record: no pool authenticated it, so there is nothing to revoke.
    error ResourcePoolRegistry__UnknownPid(bytes32 pid);
    /// @notice The PID is revoked already (a retry: nothing changes).
    error ResourcePoolRegistry__AlreadyRevoked(bytes32 pid);
    /// @notice The PID is not revoked (a retry of a reinstatement, or a PID never revoked: nothing changes).
    error ResourcePoolRegistry__NotRevoked(bytes32 pid);

    /// @notice A pool was created.
    event PoolCreated(uint32 indexed poolId, address indexed rpm, bytes32 pidRpm, bytes pkRpm);
    /// @notice A pool's RPM was replaced (RPM re-setup).
    event PoolUpdated(
        uint32 indexed poolId,
        address indexed oldRpm,
        address indexed newRpm,
        bytes32 pidRpm,
        bytes pkRpm
    );
    /// @notice The MSRP published a pool's Bloom filter for an epoch.
    event FilterPublished(
        uint32 indexed poolId,
        uint32 indexed epoch,
        bytes32 root,
        string cid,
        uint32 capacity,
        uint8 lambda
    );
    /// @notice A join (kind 1) or re-authentication (kind 2) was recorded.
    event JoinRecorded(bytes32 indexed pid, bytes32 indexed tag, uint32 indexed poolId, uint8 kind);
    /// @notice A pool's RPM announced (or replaced) the endpoint RNs reach it at.
    event PoolEndpointSet(uint32 indexed poolId, address indexed rpm, string endpoint);
    /// @notice The MSRP revoked a PID: the RN behind it is in S_RN (isRevoked true, isVerified false).
    event PidRevoked(bytes32 indexed pid);
    /// @notice The MSRP lifted a PID's revocation: the RN behind it left S_RN.
    event PidReinstated(bytes32 indexed pid);

    /// @notice Creates a pool and grants its RPM the RPM role. MSRP only.
    /// @param poolId a new non-zero id
    /// @param rpm the RPM's account
    /// @param pidRpm PID_RPM
    /// @param pkRpm PK_RPM, 33-byte compressed secp256k1 point
    function createPool(uint32 poolId, address rpm, bytes32 pidRpm, bytes calldata pkRpm) external;

    /// @notice Replaces a pool's RPM (new keys, new account). MSRP only.
    function updatePool(uint32 poolId, address rpm, bytes32 pidRpm, bytes calldata pkRpm) external;

    /// @notice Announces the endpoint (a URL such as `https://rpm-1.example.org`) at which the pool's
    /// RPM service answers joins: service discovery for RNs. The pool's RPM account only, so the
    /// endpoint is as trustworthy as that account; an RN still authenticates the RPM by the
    /// protocol (A = a*P) and by the RPM's signature on every reply, so a wrong endpoint can deny
    /// service but cannot impersonate the RPM. Cleared when the MSRP replaces the pool's RPM.
    /// @param poolId an existing pool
    /// @param endpoint 1 to MAX_ENDPOINT_BYTES bytes (not interpreted on-chain)
    function setPoolEndpoint(uint32 poolId, string calldata endpoint) external;

    /// @notice The endpoint the pool's RPM announced ("" if none).
    function poolEndpoint(uint32 poolId) external view returns (string memory);

    /// @notice Publishes the next epoch's Bloom filter of a pool. MSRP only; publication from
    /// the MSRP's account stands for the MSRP's signature on the filter in the paper.
    /// @return epoch the epoch number given to this filter (0, 1, ...)
    function publishFilter(
        uint32 poolId,
        bytes32 root,
        string calldata cid,
        uint32 capacity,
        uint8 lambda
    ) external returns (uint32 epoch);

    /// @notice Records H4(a_{i,k}) with PID_{i,k} after the MSRP verified a_{i,k}. MSRP only.
    /// @param pid PID_{i,k}
    /// @param tag H4(a_{i,k})
    /// @param poolId the pool the RN joined
    /// @param kind 1 = initial authentication, 2 = re-authentication
    function recordJoin(bytes32 pid, bytes32 tag, uint32 poolId, uint8 kind) external;

    /// @notice Records several joins in one transaction; all or nothing. MSRP only.
    function recordJoins(JoinInput[] calldata joins) external;

    /// @notice Marks a PID revoked: the MSRP holds the RN behind it suspicious (in S_RN: evicted from
    /// a service group, flagged by the operator or held by a trust flag; RSMS §I "its joining ... will
    /// be revoked"). From then on `isRevoked(pid)` is true and `isVerified(pid)` false, so the RN's
    /// attested trust entity loses its verified identity factor and its court standing
    /// (TrustManager.isIdentityVerified, hasIdentityStanding). MSRP only. The MSRP marks the one PID
    /// it attested as the RN's trust identity, which the TrustManager's registration made public
    /// already: the mark links no other pseudonym of the RN.
    /// @param pid a PID with a join record, not revoked
    function revokePid(bytes32 pid) external;

    /// @notice Lifts a PID's revocation: the RN behind it left S_RN (the operator's review, or the
    /// trust flag that held it there was lifted). MSRP only.
    /// @param pid a revoked PID
    function reinstatePid(bytes32 pid) external;

    /// @notice The pool with this id (rpm is zero if none).
    function pool(uint32 poolId) external view returns (Pool memory);

    /// @notice PK_RPM of a pool as a 33-byte compressed point.
    function poolPublicKey(uint32 poolId) external view returns (bytes memory);

    /// @notice A pool's filter for an epoch.
    function filterAt(uint32 poolId, uint32 epoch) external view returns (FilterRoot memory);

    /// @notice What an RSMS join reads before its transaction, in one call: the pool, whether the tag
    /// is used, and the pool's filters from `fromEpoch` on (at most `maxEpochs`, none past its last).
    /// @param poolId the pool
    /// @param tag H4(a) of the joining secret
    /// @param fromEpoch the first epoch whose filter is returned
    /// @param maxEpochs the most filters returned
    /// @return p the pool (rpm zero if none)
    /// @return tagUsed whether tag is recorded (isTagUsed)
    /// @return filters the filters of epochs fromEpoch, fromEpoch + 1, ... (filterAt)
    function joinView(
        uint32 poolId,
        bytes32 tag,
        uint32 fromEpoch,
        uint32 maxEpochs
    ) external view returns (Pool memory p, bool tagUsed, FilterRoot[] memory filters);

    /// @notice The record of a PID (tag zero if none).
    function recordOf(bytes32 pid) external view returns (PidRecord memory);

    /// @notice The PID recorded with a tag (zero if the tag is unused).
    function pidOfTag(bytes32 tag) external view returns (bytes32);

    /// @notice True iff the tag H4(a) was recorded.
    function isTagUsed(bytes32 tag) external view returns (bool);

    /// @notice Number of join records.
    function joinCount() external view returns (uint256);
}
