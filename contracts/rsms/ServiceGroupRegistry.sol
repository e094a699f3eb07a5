// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IServiceGroupRegistry} from "../interfaces/IServiceGroupRegistry.sol";
import {IResourcePoolRegistry} from "../interfaces/IResourcePoolRegistry.sol";
import {IIdentityVerifier} from "../interfaces/IIdentityVerifier.sol";
import {Secp256k1Point} from "./Secp256k1Point.sol";

/// @title ServiceGroupRegistry
/// @notice RSMS §IV.B on-chain state: service groups, their members and key commitments.
contract ServiceGroupRegistry is IServiceGroupRegistry, AccessControl {
    /// @notice The Metaverse service resource provider: forms groups and rekeys them.
    bytes32 public constant MSRP_ROLE = keccak256("MSRP_ROLE");
    /// @notice Largest group (RNs) the registry accepts; bounds every loop here.
    uint256 public constant MAX_MEMBERS = 256;

    IResourcePoolRegistry private immutable _pools;
    mapping(bytes32 groupId => Group) private _groups;
    mapping(bytes32 groupId => mapping(bytes32 pid => bool)) private _isMember;

    /// @param msrp the MSRP's account
    /// @param pools_ the ResourcePoolRegistry whose join records admit members
    constructor(address msrp, IResourcePoolRegistry pools_) {
        _pools = pools_;
        _grantRole(DEFAULT_ADMIN_ROLE, msrp);
        _grantRole(MSRP_ROLE, msrp);
    }

    /// @inheritdoc IServiceGroupRegistry
    function formGroup(
        bytes32 groupId,
        bytes32 userPid,
        bytes32[] calldata members,
        bytes calldata q,
        bytes32 commitments
    ) external onlyRole(MSRP_ROLE) {
        if (groupId == bytes32(0) || _groups[groupId].userPid != bytes32(0))
            revert ServiceGroupRegistry__GroupExists(groupId);
        if (userPid == bytes32(0) || members.length == 0 || commitments == bytes32(0))
            revert ServiceGroupRegistry__InvalidGroup(groupId);
        if (members.length > MAX_MEMBERS) revert ServiceGroupRegistry__TooManyMembers(groupId, members.length);
        (uint8 parity, bytes32 qX) = _point(groupId, q);
        for (uint256 i; i < members.length; ++i) _admit(groupId, members[i]);
        _groups[groupId] = Group(userPid, 0, parity, uint16(members.length), qX, commitments);
        emit GroupFormed(groupId, userPid, members, q, commitments);
    }

    /// @inheritdoc IServiceGroupRegistry
    function rekey(
        bytes32 groupId,
        uint32 epoch,
        bytes32[] calldata evict,
        bytes32[] calldata add,
        bytes calldata q,
        bytes32 commitments
    ) external onlyRole(MSRP_ROLE) {
        Group storage g = _groups[groupId];
        if (g.userPid == bytes32(0)) revert ServiceGroupRegistry__UnknownGroup(groupId);
        if (epoch != g.epoch + 1) revert ServiceGroupRegistry__EpochNotNext(groupId, g.epoch + 1, epoch);
        if (commitments == bytes32(0)) revert ServiceGroupRegistry__InvalidGroup(groupId);
        (uint8 parity, bytes32 qX) = _point(groupId, q);
        // Adds first: a current member listed in both `evict` and `add` reverts AlreadyMember, instead of
        // being evicted and re-admitted to the epoch that evicts it (forward security, rsms-group.md §1).
        _addAll(groupId, add, epoch);
        _evictAll(groupId, evict, epoch);
        uint256 count = uint256(g.members) + add.length - evict.length;
        if (count == 0) revert ServiceGroupRegistry__InvalidGroup(groupId);
        if (count > MAX_MEMBERS) revert ServiceGroupRegistry__TooManyMembers(groupId, count);
        g.members = uint16(count);
        g.epoch = epoch;
        g.qParity = parity;
        g.qX = qX;
        g.commitments = commitments;
        emit GroupRekeyed(groupId, epoch, q, commitments);
    }

    /// @inheritdoc IServiceGroupRegistry
    function group(bytes32 groupId) external view returns (Group memory) {
        return _groups[groupId];
    }

    /// @inheritdoc IServiceGroupRegistry
    function groupKeyCommitment(bytes32 groupId) external view returns (bytes memory) {
        Group storage g = _groups[groupId];
        if (g.userPid == bytes32(0)) revert ServiceGroupRegistry__UnknownGroup(groupId);
        return abi.encodePacked(g.qParity, g.qX);
    }

    /// @inheritdoc IServiceGroupRegistry
    function isMember(bytes32 groupId, bytes32 pid) external view returns (bool) {
        return _isMember[groupId][pid];
    }

    /// @inheritdoc IServiceGroupRegistry
    function pools() external view returns (address) {
        return address(_pools);
    }

    function _evictAll(bytes32 groupId, bytes32[] calldata evict, uint32 epoch) private {
        for (uint256 i; i < evict.length; ++i) {
            bytes32 pid = evict[i];
            if (!_isMember[groupId][pid]) revert ServiceGroupRegistry__NotMember(groupId, pid);
            _isMember[groupId][pid] = false;
            emit MemberEvicted(groupId, pid, epoch);
        }
    }

    function _addAll(bytes32 groupId, bytes32[] calldata add, uint32 epoch) private {
        for (uint256 i; i < add.length; ++i) {
            _admit(groupId, add[i]);
            emit MemberAdded(groupId, add[i], epoch);
        }
    }

    function _admit(bytes32 groupId, bytes32 pid) private {
        if (_isMember[groupId][pid]) revert ServiceGroupRegistry__AlreadyMember(groupId, pid);
        // Backward security: only an RN that a pool authenticated (it has a join record) may join.
        if (_pools.recordOf(pid).tag == bytes32(0)) revert ServiceGroupRegistry__NotJoined(pid);
        // Never allocated again (RSMS §I): the MSRP's agent refuses an RN in S_RN off-chain; the chain
        // refuses the one PID the MSRP marked revoked too, whatever the caller holding MSRP_ROLE sends.
        if (IIdentityVerifier(address(_pools)).isRevoked(pid)) revert ServiceGroupRegistry__PidRevoked(pid);
        _isMember[groupId][pid] = true;
    }

    function _point(bytes32 groupId, bytes calldata q) private view returns (uint8, bytes32) {
        // A Q that is not a curve point would brick the group: no party could check its key against it.
        if (!Secp256k1Point.isValidCompressed(q)) revert ServiceGroupRegistry__InvalidGroup(groupId);
        return (uint8(q[0]), bytes32(q[1:33]));
    }
}
