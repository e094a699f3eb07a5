// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ICredentialLedger} from "../interfaces/ICredentialLedger.sol";
import {IAuthorityElection} from "../interfaces/IAuthorityElection.sol";

/// @title CredentialLedger
/// @notice MSSA credential blocks approved by k of a place's authorities. See ICredentialLedger.
contract CredentialLedger is ICredentialLedger, AccessControl {
    /// @notice Creates places and revokes access (the operator).
    bytes32 public constant PLACE_ADMIN_ROLE = keccak256("PLACE_ADMIN_ROLE");
    /// @dev AuthorityElection.REGISTRAR_ROLE
    bytes32 private constant _REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Most authorities of one place.
    uint256 public constant MAX_PLACE_AUTHORITIES = 32;

    /// @notice The election whose sitting authorities may approve.
    IAuthorityElection public immutable election;

    mapping(bytes32 place => Place) private _places;
    mapping(bytes32 place => mapping(address account => bool)) private _isPlaceAuthority;
    mapping(bytes32 id => Registration) private _registrations;
    mapping(bytes32 id => mapping(address authority => bool)) private _approvedBy;
    mapping(address user => mapping(bytes32 place => bytes32 id)) private _latest;
    bytes32 private _head;
    uint64 private _count;

    /// @param admin the operator (admin, PLACE_ADMIN_ROLE)
    /// @param election_ the authority election
    constructor(address admin, IAuthorityElection election_) {
        election = election_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PLACE_ADMIN_ROLE, admin);
    }

    /// @inheritdoc ICredentialLedger
    function setPlace(
        bytes32 placeId,
        address[] calldata authorities,
        uint8 threshold
    ) external onlyRole(PLACE_ADMIN_ROLE) {
        uint256 n = authorities.length;
        if (placeId == bytes32(0) || threshold == 0 || threshold > n || n > MAX_PLACE_AUTHORITIES)
            revert CredentialLedger__InvalidPlace(placeId);
        Place storage p = _places[placeId];
        for (uint256 i; i < p.authorities.length; ++i) _isPlaceAuthority[placeId][p.authorities[i]] = false;
        delete p.authorities;
        for (uint256 i; i < n; ++i) {
            address a = authorities[i];
            if (a == address(0) || _isPlaceAuthority[placeId][a]) revert CredentialLedger__InvalidPlace(placeId);
            _isPlaceAuthority[placeId][a] = true;
            p.authorities.push(a);
        }
        p.threshold = threshold;
        emit PlaceSet(placeId, authorities, threshold);
    }

    /// @inheritdoc ICredentialLedger
    function propose(bytes32 placeId, address user, bytes32 commitment) external returns (bytes32 id) {
        _checkApprover(placeId);
        if (user == address(0) || commitment == bytes32(0)) revert CredentialLedger__InvalidInput();
        bytes32 latest = _latest[user][placeId];
        if (latest != bytes32(0)) {
            Status s = _registrations[latest].status;
            if (s == Status.Approved) revert CredentialLedger__AlreadyRegistered(user, placeId);
            if (s == Status.Pending) revert CredentialLedger__PendingExists(user, placeId, latest);
        }
        id = registrationId(placeId, user, commitment);
        // A commitment carries a fresh 256-bit salt: the same id again is a replay.
        if (_registrations[id].status != Status.None) revert CredentialLedger__InvalidInput();
        Registration storage r = _registrations[id];
        r.place = placeId;
        r.user = user;
        r.commitment = commitment;
        r.status = Status.Pending;
        _latest[user][placeId] = id;
        emit RegistrationProposed(id, placeId, user, commitment, msg.sender);
        _approve(id, r);
    }

    /// @inheritdoc ICredentialLedger
    function approve(bytes32 id) external {
        Registration storage r = _registrations[id];
        if (r.status == Status.None) revert CredentialLedger__UnknownRegistration(id);
        _checkApprover(r.place);
        if (r.status != Status.Pending) revert CredentialLedger__NotPending(id);
        _approve(id, r);
    }

    /// @inheritdoc ICredentialLedger
    function revoke(bytes32 id) external onlyRole(PLACE_ADMIN_ROLE) {
        Registration storage r = _registrations[id];
        if (r.status != Status.Approved) revert CredentialLedger__NotPending(id);
        r.status = Status.Revoked;
        emit AccessRevoked(id, r.place, r.user);
    }

    /// @inheritdoc ICredentialLedger
    function registrationId(bytes32 placeId, address user, bytes32 commitment) public pure returns (bytes32) {
        return keccak256(abi.encode(placeId, user, commitment));
    }

    /// @inheritdoc ICredentialLedger
    function registration(bytes32 id) external view returns (Registration memory) {
        return _registrations[id];
    }

    /// @inheritdoc ICredentialLedger
    function place(bytes32 placeId) external view returns (Place memory) {
        return _places[placeId];
    }

    /// @inheritdoc ICredentialLedger
    function access(address user, bytes32 placeId) external view returns (bool granted, bytes32 id) {
        id = _latest[user][placeId];
        granted = id != bytes32(0) && _registrations[id].status == Status.Approved;
    }

    /// @inheritdoc ICredentialLedger
    function approvedBy(bytes32 id, address authority) external view returns (bool) {
        return _approvedBy[id][authority];
    }

    /// @inheritdoc ICredentialLedger
    function head() external view returns (bytes32 link, uint64 count) {
        return (_head, _count);
    }

    function _checkApprover(bytes32 placeId) private view {
        if (_places[placeId].threshold == 0) revert CredentialLedger__UnknownPlace(placeId);
        if (!_isPlaceAuthority[placeId][msg.sender]) revert CredentialLedger__NotPlaceAuthority(placeId, msg.sender);
        if (!election.isAuthority(msg.sender)) revert CredentialLedger__NotSitting(msg.sender);
    }

    function _approve(bytes32 id, Registration storage r) private {
        if (_approvedBy[id][msg.sender]) revert CredentialLedger__AlreadyApproved(id, msg.sender);
        _approvedBy[id][msg.sender] = true;
        uint8 n = ++r.approvals;
        emit RegistrationApproved(id, msg.sender, n);
        if (n < _places[r.place].threshold) return;
        r.status = Status.Approved;
        r.approvedAt = uint40(block.timestamp);
        r.index = _count;
        bytes32 link = keccak256(abi.encode(_head, id, r.commitment));
        r.link = link;
        _head = link;
        ++_count;
        emit AccessGranted(id, r.place, r.user, r.index, link);
        // An approved user becomes one of the M active members of the election, when wired.
        if (IAccessControl(address(election)).hasRole(_REGISTRAR_ROLE, address(this))) election.enrol(r.user);
    }
}
