// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IResourcePoolRegistry} from "../interfaces/IResourcePoolRegistry.sol";
import {IIdentityVerifier} from "../interfaces/IIdentityVerifier.sol";
import {Secp256k1Point} from "./Secp256k1Point.sol";

/// @title ResourcePoolRegistry
/// @notice RSMS §IV.A on-chain state: pools, Bloom-filter roots and pseudonym records.
contract ResourcePoolRegistry is IResourcePoolRegistry, IIdentityVerifier, AccessControl {
    /// @notice The Metaverse service resource provider: creates pools, publishes filters, records joins.
    bytes32 public constant MSRP_ROLE = keccak256("MSRP_ROLE");
    /// @notice A resource pool manager (one account per pool).
    bytes32 public constant RPM_ROLE = keccak256("RPM_ROLE");

    uint8 internal constant KIND_JOIN = 1;
    uint8 internal constant KIND_REAUTH = 2;
    uint8 internal constant MAX_LAMBDA = 64;
    /// @notice Longest endpoint a pool's RPM may announce, in bytes.
    uint256 public constant MAX_ENDPOINT_BYTES = 256;

    mapping(uint32 poolId => Pool) private _pools;
    mapping(uint32 poolId => mapping(uint32 epoch => FilterRoot)) private _filters;
    mapping(bytes32 pid => PidRecord) private _records;
    mapping(bytes32 tag => bytes32 pid) private _pidOfTag;
    uint256 private _joinCount;
    mapping(uint32 poolId => string endpoint) private _endpoints;
    /// The block at which the MSRP marked the PID revoked (0: not revoked; `revokedSince`).
    mapping(bytes32 pid => uint256 revokedAt) private _revoked;

    /// @param msrp the MSRP's account: admin and MSRP role
    constructor(address msrp) {
        _grantRole(DEFAULT_ADMIN_ROLE, msrp);
        _grantRole(MSRP_ROLE, msrp);
    }

    /// @inheritdoc IResourcePoolRegistry
    function createPool(uint32 poolId, address rpm, bytes32 pidRpm, bytes calldata pkRpm) external onlyRole(MSRP_ROLE) {
        if (poolId == 0 || _pools[poolId].rpm != address(0)) revert ResourcePoolRegistry__PoolExists(poolId);
        _pools[poolId] = _checkedPool(poolId, rpm, pidRpm, pkRpm, 0);
        _grantRole(RPM_ROLE, rpm);
        emit PoolCreated(poolId, rpm, pidRpm, pkRpm);
    }

    /// @inheritdoc IResourcePoolRegistry
    function updatePool(uint32 poolId, address rpm, bytes32 pidRpm, bytes calldata pkRpm) external onlyRole(MSRP_ROLE) {
        Pool storage p = _pools[poolId];
        address oldRpm = p.rpm;
        if (oldRpm == address(0)) revert ResourcePoolRegistry__UnknownPool(poolId);
        _pools[poolId] = _checkedPool(poolId, rpm, pidRpm, pkRpm, p.epochs);
        // The old RPM's endpoint is not the new RPM's: RNs wait for the new one to announce its own.
        if (rpm != oldRpm) delete _endpoints[poolId];
        // The old RPM keeps its role only if it still manages another pool; the registry does not
        // track that, so the MSRP revokes it explicitly with revokeRole when it retires an account.
        _grantRole(RPM_ROLE, rpm);
        emit PoolUpdated(poolId, oldRpm, rpm, pidRpm, pkRpm);
    }

    /// @inheritdoc IResourcePoolRegistry
    function setPoolEndpoint(uint32 poolId, string calldata endpoint) external {
        address rpm = _pools[poolId].rpm;
        if (rpm == address(0)) revert ResourcePoolRegistry__UnknownPool(poolId);
        if (msg.sender != rpm) revert ResourcePoolRegistry__NotPoolRpm(poolId, msg.sender);
        uint256 n = bytes(endpoint).length;
        if (n == 0 || n > MAX_ENDPOINT_BYTES) revert ResourcePoolRegistry__InvalidEndpoint(poolId);
        _endpoints[poolId] = endpoint;
        emit PoolEndpointSet(poolId, rpm, endpoint);
    }

    /// @inheritdoc IResourcePoolRegistry
    function poolEndpoint(uint32 poolId) external view returns (string memory) {
        return _endpoints[poolId];
    }

    /// @inheritdoc IResourcePoolRegistry
    function publishFilter(
        uint32 poolId,
        bytes32 root,
        string calldata cid,
        uint32 capacity,
        uint8 lambda
    ) external onlyRole(MSRP_ROLE) returns (uint32 epoch) {
        Pool storage p = _pools[poolId];
        if (p.rpm == address(0)) revert ResourcePoolRegistry__UnknownPool(poolId);
        if (root == bytes32(0) || bytes(cid).length == 0 || capacity == 0 || lambda == 0 || lambda > MAX_LAMBDA) {
            revert ResourcePoolRegistry__InvalidFilter(poolId);
        }
        epoch = p.epochs;
        _filters[poolId][epoch] = FilterRoot(root, capacity, lambda, uint64(block.timestamp), cid);
        p.epochs = epoch + 1;
        emit FilterPublished(poolId, epoch, root, cid, capacity, lambda);
    }

    /// @inheritdoc IResourcePoolRegistry
    function recordJoin(bytes32 pid, bytes32 tag, uint32 poolId, uint8 kind) external onlyRole(MSRP_ROLE) {
        _record(pid, tag, poolId, kind);
    }

    /// @inheritdoc IResourcePoolRegistry
    function recordJoins(JoinInput[] calldata joins) external onlyRole(MSRP_ROLE) {
        uint256 n = joins.length;
        if (n == 0) revert ResourcePoolRegistry__EmptyBatch();
        for (uint256 i; i < n; ++i) {
            JoinInput calldata j = joins[i];
            _record(j.pid, j.tag, j.poolId, j.kind);
        }
    }

    /// @inheritdoc IResourcePoolRegistry
    function pool(uint32 poolId) external view returns (Pool memory) {
        return _pools[poolId];
    }

    /// @inheritdoc IResourcePoolRegistry
    function poolPublicKey(uint32 poolId) external view returns (bytes memory) {
        Pool storage p = _pools[poolId];
        if (p.rpm == address(0)) revert ResourcePoolRegistry__UnknownPool(poolId);
        return abi.encodePacked(p.pkParity, p.pkX);
    }

    /// @inheritdoc IResourcePoolRegistry
    function filterAt(uint32 poolId, uint32 epoch) external view returns (FilterRoot memory) {
        return _filters[poolId][epoch];
    }

    /// @inheritdoc IResourcePoolRegistry
    function joinView(
        uint32 poolId,
        bytes32 tag,
        uint32 fromEpoch,
        uint32 maxEpochs
    ) external view returns (Pool memory p, bool tagUsed, FilterRoot[] memory filters) {
        p = _pools[poolId];
        tagUsed = _pidOfTag[tag] != bytes32(0);
        uint256 n = fromEpoch < p.epochs ? p.epochs - fromEpoch : 0;
        if (n > maxEpochs) n = maxEpochs;
        filters = new FilterRoot[](n);
        for (uint256 i = 0; i < n; ++i) filters[i] = _filters[poolId][uint32(fromEpoch + i)];
    }

    /// @inheritdoc IResourcePoolRegistry
    function recordOf(bytes32 pid) external view returns (PidRecord memory) {
        return _records[pid];
    }

    /// @inheritdoc IResourcePoolRegistry
    function pidOfTag(bytes32 tag) external view returns (bytes32) {
        return _pidOfTag[tag];
    }

    /// @inheritdoc IResourcePoolRegistry
    function isTagUsed(bytes32 tag) external view returns (bool) {
        return _pidOfTag[tag] != bytes32(0);
    }

    /// @inheritdoc IResourcePoolRegistry
    function revokePid(bytes32 pid) external onlyRole(MSRP_ROLE) {
        if (_records[pid].tag == bytes32(0)) revert ResourcePoolRegistry__UnknownPid(pid);
        if (_revoked[pid] != 0) revert ResourcePoolRegistry__AlreadyRevoked(pid);
        _revoked[pid] = block.number;
        emit PidRevoked(pid);
    }

    /// @inheritdoc IResourcePoolRegistry
    function reinstatePid(bytes32 pid) external onlyRole(MSRP_ROLE) {
        if (_revoked[pid] == 0) revert ResourcePoolRegistry__NotRevoked(pid);
        delete _revoked[pid];
        emit PidReinstated(pid);
    }

    /// @inheritdoc IIdentityVerifier
    /// @dev A PID is verified once a pool authenticated it (it has a join record), unless the MSRP
    /// revoked it (revokePid).
    function isVerified(bytes32 id) external view returns (bool) {
        return _records[id].tag != bytes32(0) && _revoked[id] == 0;
    }

    /// @inheritdoc IIdentityVerifier
    /// @dev True while the MSRP holds the RN behind the PID in S_RN (revokePid, until reinstatePid):
    /// only the MSRP undoes it, nothing the RN does.
    function isRevoked(bytes32 id) external view returns (bool) {
        return _revoked[id] != 0;
    }

    /// @inheritdoc IIdentityVerifier
    /// @dev The block of the `revokePid` in force (a `reinstatePid` clears it).
    function revokedSince(bytes32 id) external view returns (uint256) {
        return _revoked[id];
    }

    /// @inheritdoc IIdentityVerifier
    /// @dev A PID with a join record, unless a `revokePid` at or before `blockNumber` is in force.
    function isVerifiedAsOf(bytes32 id, uint256 blockNumber) external view returns (bool) {
        uint256 r = _revoked[id];
        return _records[id].tag != bytes32(0) && (r == 0 || r > blockNumber);
    }

    /// @inheritdoc IIdentityVerifier
    /// @dev PIDs carry no person's tag: the MSRP attests one PID per RN (docs/specs/rsms-join.md).
    function ownerTagOf(bytes32) external pure returns (bytes16) {
        return bytes16(0);
    }

    /// @inheritdoc IResourcePoolRegistry
    function joinCount() external view returns (uint256) {
        return _joinCount;
    }

    function _record(bytes32 pid, bytes32 tag, uint32 poolId, uint8 kind) private {
        if (pid == bytes32(0) || tag == bytes32(0) || (kind != KIND_JOIN && kind != KIND_REAUTH)) {
            revert ResourcePoolRegistry__InvalidRecord(pid, tag, kind);
        }
        if (_pools[poolId].rpm == address(0)) revert ResourcePoolRegistry__UnknownPool(poolId);
        if (_records[pid].tag != bytes32(0)) revert ResourcePoolRegistry__PidExists(pid);
        if (_pidOfTag[tag] != bytes32(0)) revert ResourcePoolRegistry__TagUsed(tag);
        _records[pid] = PidRecord(tag, poolId, kind, uint64(block.timestamp));
        _pidOfTag[tag] = pid;
        unchecked {
            ++_joinCount;
        }
        emit JoinRecorded(pid, tag, poolId, kind);
    }

    function _checkedPool(
        uint32 poolId,
        address rpm,
        bytes32 pidRpm,
        bytes calldata pkRpm,
        uint32 epochs
    ) private view returns (Pool memory) {
        // A key that is not a curve point would brick the pool: every RN's decodePoint of it fails.
        if (rpm == address(0) || pidRpm == bytes32(0) || !Secp256k1Point.isValidCompressed(pkRpm)) {
            revert ResourcePoolRegistry__InvalidPool(poolId);
        }
        return Pool(rpm, uint8(pkRpm[0]), epochs, pidRpm, bytes32(pkRpm[1:33]));
    }
}
