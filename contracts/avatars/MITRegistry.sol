// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IMITRegistry} from "../interfaces/IMITRegistry.sol";
import {IIdentityVerifier} from "../interfaces/IIdentityVerifier.sol";
import {AccountCode} from "../libraries/AccountCode.sol";

/// @title MITRegistry
/// @notice MITs, avatars, delegations and trace cases of the avatar paper.
contract MITRegistry is IMITRegistry, IIdentityVerifier, AccessControl {
    /// @notice The identity provider (and the platform server that records logins and delegations).
    bytes32 public constant IDP_ROLE = keccak256("IDP_ROLE");
    /// @notice The dispute court, which claims trace cases for avatar disputes and rules on them.
    bytes32 public constant COURT_ROLE = keccak256("COURT_ROLE");
    /// @notice Longest endpoint the IdP may announce, in bytes.
    uint256 public constant MAX_ENDPOINT_BYTES = 256;

    mapping(bytes32 serial => MIT) private _mits;
    mapping(bytes32 avatarId => Avatar) private _avatars;
    mapping(uint256 id => Delegation) private _delegations;
    mapping(bytes32 avatarId => uint256 delegationId) private _activeDelegation;
    mapping(uint256 id => TraceCase) private _cases;
    /// The block at which each revoked MIT was revoked (`revokedSince`, `isVerifiedAsOf`).
    mapping(bytes32 serial => uint256 revokedAt) private _mitRevokedAt;
    uint256 private _delegationCount;
    uint256 private _caseCount;
    string private _idpEndpoint;
    address private _idpEndpointAccount;
    /// @dev The court COURT_ROLE is bound to (its first holder); 0 before it is bound.
    address private _court;

    /// @param idp the identity provider's account (admin and IDP_ROLE)
    constructor(address idp) {
        _grantRole(DEFAULT_ADMIN_ROLE, idp);
        _grantRole(IDP_ROLE, idp);
    }

    /// @inheritdoc IMITRegistry
    function issueMIT(bytes32 serial, bytes32 keyId, string calldata paramsCid) external onlyRole(IDP_ROLE) {
        if (serial == bytes32(0) || keyId == bytes32(0)) revert MITRegistry__InvalidInput();
        if (_mits[serial].status != MitStatus.None) revert MITRegistry__MitExists(serial);
        _mits[serial] = MIT(keyId, MitStatus.Active, uint40(block.timestamp), paramsCid);
        emit MitIssued(serial, keyId, paramsCid);
    }

    /// @inheritdoc IMITRegistry
    function revokeMIT(bytes32 serial) external onlyRole(IDP_ROLE) {
        if (_mits[serial].status != MitStatus.Active) revert MITRegistry__MitNotActive(serial);
        _mits[serial].status = MitStatus.Revoked;
        _mitRevokedAt[serial] = block.number;
        emit MitRevoked(serial);
    }

    /// @inheritdoc IMITRegistry
    function recordLogin(
        bytes32 avatarId,
        bytes32 ownerSerial,
        bytes32 warrantHash,
        bytes32 vidCommitment,
        uint64 notAfter
    ) external onlyRole(IDP_ROLE) {
        if (avatarId == bytes32(0) || warrantHash == bytes32(0)) revert MITRegistry__InvalidInput();
        if (notAfter < block.timestamp) revert MITRegistry__WarrantExpired(notAfter, block.timestamp);
        _requireActive(ownerSerial);
        Avatar storage a = _avatars[avatarId];
        if (a.owner != bytes32(0) && a.owner != ownerSerial) revert MITRegistry__NotOwner(avatarId, ownerSerial);
        _endDelegation(avatarId);
        _avatars[avatarId] = Avatar(
            ownerSerial,
            ownerSerial,
            Driver.Human,
            uint40(block.timestamp),
            notAfter,
            warrantHash,
            vidCommitment
        );
        emit AvatarLoggedIn(avatarId, ownerSerial, warrantHash, vidCommitment, notAfter);
    }

    /// @inheritdoc IMITRegistry
    function recordDelegation(
        bytes32 avatarId,
        bytes32 proxySerial,
        bytes32 warrantHash,
        uint64 notAfter
    ) external onlyRole(IDP_ROLE) returns (uint256 id) {
        Avatar storage a = _avatars[avatarId];
        if (a.owner == bytes32(0)) revert MITRegistry__UnknownAvatar(avatarId);
        if (warrantHash == bytes32(0) || proxySerial == a.owner) revert MITRegistry__InvalidInput();
        if (notAfter < block.timestamp) revert MITRegistry__WarrantExpired(notAfter, block.timestamp);
        _requireActive(a.owner);
        _requireActive(proxySerial);
        _endDelegation(avatarId);
        id = ++_delegationCount;
        _delegations[id] = Delegation(
            avatarId,
            a.owner,
            proxySerial,
            warrantHash,
            uint40(block.timestamp),
            0,
            notAfter
        );
        _activeDelegation[avatarId] = id;
        a.driverSerial = proxySerial;
        a.driver = Driver.AI;
        a.warrantHash = warrantHash;
        a.updatedAt = uint40(block.timestamp);
        a.notAfter = notAfter;
        emit AvatarDelegated(id, avatarId, proxySerial, warrantHash, notAfter);
    }

    /// @inheritdoc IMITRegistry
    function revokeDelegation(uint256 id) external onlyRole(IDP_ROLE) {
        Delegation storage d = _delegations[id];
        if (d.avatarId == bytes32(0)) revert MITRegistry__UnknownDelegation(id);
        if (d.revokedAt != 0) revert MITRegistry__AlreadyRevoked(id);
        d.revokedAt = uint40(block.timestamp);
        if (_activeDelegation[d.avatarId] == id) {
            _activeDelegation[d.avatarId] = 0;
            Avatar storage a = _avatars[d.avatarId];
            a.driver = Driver.None;
            a.driverSerial = bytes32(0);
            a.updatedAt = uint40(block.timestamp);
        }
        emit DelegationRevoked(id, d.avatarId);
    }

    /// @inheritdoc IMITRegistry
    function requestTrace(bytes32 avatarId, bytes32 evidenceHash) external returns (uint256 id) {
        if (_avatars[avatarId].owner == bytes32(0)) revert MITRegistry__UnknownAvatar(avatarId);
        if (evidenceHash == bytes32(0)) revert MITRegistry__InvalidInput();
        id = ++_caseCount;
        // Field by field: the verdict and the court's slot stay zero until written (no zero writes).
        TraceCase storage c = _cases[id];
        c.avatarId = avatarId;
        (c.reporter, c.status, c.openedAt) = (msg.sender, TraceStatus.Open, uint40(block.timestamp));
        c.evidenceHash = evidenceHash;
        emit TraceRequested(id, avatarId, msg.sender, evidenceHash);
    }

    /// @inheritdoc IMITRegistry
    function recordVerdict(uint256 id, bool traced, bytes32 verdictCommitment) external onlyRole(IDP_ROLE) {
        TraceCase storage c = _cases[id];
        TraceStatus s = c.status;
        if (s == TraceStatus.None) revert MITRegistry__UnknownCase(id);
        // A court-bound case waits for its court's final verdict: a trace before it would answer a
        // claim the jurors may still reject.
        if (s == TraceStatus.AwaitingCourt) revert MITRegistry__AwaitingCourt(id, c.court, c.disputeId);
        if (s != TraceStatus.Open && s != TraceStatus.CourtUpheld) revert MITRegistry__CaseClosed(id);
        if (traced && verdictCommitment == bytes32(0)) revert MITRegistry__InvalidInput();
        // What a trace says depends on how the case came: a reporter's case traces an authentic
        // interaction (no verdict of misbehaviour); an upheld court case traces a verdict.
        TraceStatus next =
            !traced
                ? TraceStatus.Rejected
                : (s == TraceStatus.CourtUpheld ? TraceStatus.CourtTraced : TraceStatus.InteractionTraced);
        c.status = next;
        c.verdictCommitment = verdictCommitment;
        emit TraceVerdict(id, next, verdictCommitment);
    }

    /// @inheritdoc IMITRegistry
    function bindCase(
        uint256 caseId,
        uint256 disputeId,
        address reporter,
        bytes32 avatarId
    ) external onlyRole(COURT_ROLE) {
        TraceCase storage c = _cases[caseId];
        TraceStatus s = c.status;
        if (s == TraceStatus.None) revert MITRegistry__UnknownCase(caseId);
        // Open only: a judged case has nothing left for the court, and a claimed one belongs to
        // the dispute that claimed it (a second dispute, a replay, cannot take it over).
        if (s != TraceStatus.Open) revert MITRegistry__CaseNotOpen(caseId, s);
        if (c.reporter != reporter) revert MITRegistry__NotReporter(caseId, c.reporter);
        if (c.avatarId != avatarId) revert MITRegistry__CaseAvatarMismatch(caseId, c.avatarId);
        if (disputeId == 0 || disputeId > type(uint64).max) revert MITRegistry__InvalidInput();
        c.status = TraceStatus.AwaitingCourt;
        c.court = msg.sender;
        c.disputeId = uint64(disputeId);
        emit TraceCaseBound(caseId, msg.sender, disputeId);
    }

    /// @inheritdoc IMITRegistry
    function courtRuling(uint256 caseId, uint256 disputeId, bool upheld) external onlyRole(COURT_ROLE) returns (bool) {
        TraceCase storage c = _cases[caseId];
        // Never reverts past the role: the court calls this from its final resolve, which no case
        // state may block (the deposit and the parties' penalties hang on it).
        if (c.status != TraceStatus.AwaitingCourt || c.court != msg.sender || c.disputeId != disputeId) return false;
        c.status = upheld ? TraceStatus.CourtUpheld : TraceStatus.Dismissed;
        emit TraceCaseRuled(caseId, disputeId, upheld, false);
        return true;
    }

    /// @inheritdoc IMITRegistry
    function releaseCase(uint256 caseId) external onlyRole(IDP_ROLE) {
        TraceCase storage c = _cases[caseId];
        if (c.status != TraceStatus.AwaitingCourt) revert MITRegistry__NotAwaitingCourt(caseId, c.status);
        // Only a court cut off from the registry, which can never rule: the IdP may not pre-empt
        // a court that still can.
        if (hasRole(COURT_ROLE, c.court)) revert MITRegistry__CourtStillBound(caseId, c.court);
        c.status = TraceStatus.Dismissed;
        emit TraceCaseRuled(caseId, c.disputeId, false, true);
    }

    /// @inheritdoc IMITRegistry
    function setIdpEndpoint(string calldata endpoint) external onlyRole(IDP_ROLE) {
        uint256 n = bytes(endpoint).length;
        if (n == 0 || n > MAX_ENDPOINT_BYTES) revert MITRegistry__InvalidEndpoint(n);
        string memory old = _idpEndpoint;
        _idpEndpoint = endpoint;
        _idpEndpointAccount = msg.sender;
        emit IdpEndpointSet(msg.sender, old, endpoint);
    }

    /// @inheritdoc IMITRegistry
    function idpEndpoint() external view returns (address idp, string memory endpoint) {
        return (_idpEndpointAccount, _idpEndpoint);
    }

    /// @inheritdoc IIdentityVerifier
    /// @dev An avatar is verified while it has a driver whose MIT is active (and its owner's too),
    /// and while the driver's warrant has not expired: the delegation's (h7-audit: it used to stay
    /// verified after the warrant's notAfter) or the login's (h9-red F4: a login verified for ever).
    function isVerified(bytes32 id) external view returns (bool) {
        return _verifies(_avatars[id]);
    }

    /// @dev `isVerified` of an avatar's record (`avatarStanding` reads the same).
    function _verifies(Avatar storage a) private view returns (bool) {
        if (a.driver == Driver.None || block.timestamp > a.notAfter) return false;
        return _mits[a.driverSerial].status == MitStatus.Active && _mits[a.owner].status == MitStatus.Active;
    }

    /// @inheritdoc IIdentityVerifier
    /// @dev Revoked iff its owner's MIT is: a revoked driver (a proxy) or an ended session lapses
    /// only, since the owner may log in again (recordLogin needs the owner's MIT active only).
    function isRevoked(bytes32 id) external view returns (bool) {
        bytes32 owner = _avatars[id].owner;
        return owner != bytes32(0) && _mits[owner].status == MitStatus.Revoked;
    }

    /// @inheritdoc IIdentityVerifier
    /// @dev The block its owner's MIT was revoked (an MIT is revoked for good).
    function revokedSince(bytes32 id) external view returns (uint256) {
        bytes32 owner = _avatars[id].owner;
        return owner != bytes32(0) && _mits[owner].status == MitStatus.Revoked ? _mitRevokedAt[owner] : 0;
    }

    /// @inheritdoc IIdentityVerifier
    /// @dev `isVerified`, with an MIT (its driver's or its owner's) revoked after `blockNumber`
    /// taken as active; the session itself must still run.
    function isVerifiedAsOf(bytes32 id, uint256 blockNumber) external view returns (bool) {
        Avatar storage a = _avatars[id];
        if (a.driver == Driver.None || block.timestamp > a.notAfter) return false;
        return _activeAsOf(a.driverSerial, blockNumber) && _activeAsOf(a.owner, blockNumber);
    }

    /// @dev The MIT is active, or was revoked after `blockNumber`.
    function _activeAsOf(bytes32 serial, uint256 blockNumber) private view returns (bool) {
        MitStatus st = _mits[serial].status;
        return st == MitStatus.Active || (st == MitStatus.Revoked && _mitRevokedAt[serial] > blockNumber);
    }

    /// @inheritdoc IIdentityVerifier
    /// @dev keccak256("METATRUST-V1-AVATAR-OWNER" ‖ owner serial)[0..16], the tag avatarIdOf puts at
    /// the head of every id of that owner (docs/specs/avatars.md "Avatar ids"); from the recorded
    /// owner, never from the id, so an id without the tag (claimed before F7) is its owner's too.
    function ownerTagOf(bytes32 id) external view returns (bytes16) {
        bytes32 owner = _avatars[id].owner;
        if (owner == bytes32(0)) return bytes16(0);
        return bytes16(keccak256(abi.encodePacked("METATRUST-V1-AVATAR-OWNER", owner)));
    }

    /// @inheritdoc IMITRegistry
    function mit(bytes32 serial) external view returns (MIT memory) {
        return _mits[serial];
    }

    /// @inheritdoc IMITRegistry
    function avatar(bytes32 avatarId) external view returns (Avatar memory) {
        return _avatars[avatarId];
    }

    /// @inheritdoc IMITRegistry
    function avatarStanding(bytes32 avatarId) external view returns (AvatarStanding memory s) {
        Avatar storage a = _avatars[avatarId];
        MIT storage owner = _mits[a.owner];
        MIT storage driver = _mits[a.driverSerial];
        s.avatar = a;
        s.ownerStatus = owner.status;
        s.ownerKeyId = owner.keyId;
        s.driverStatus = driver.status;
        s.driverKeyId = driver.keyId;
        s.verified = _verifies(a);
    }

    /// @inheritdoc IMITRegistry
    function delegation(uint256 id) external view returns (Delegation memory) {
        return _delegations[id];
    }

    /// @inheritdoc IMITRegistry
    function traceCase(uint256 id) external view returns (TraceCase memory) {
        return _cases[id];
    }

    /// @inheritdoc IMITRegistry
    function isActive(bytes32 serial) external view returns (bool) {
        return _mits[serial].status == MitStatus.Active;
    }

    /// @notice The delegation currently driving an avatar (0 if none).
    function activeDelegation(bytes32 avatarId) external view returns (uint256) {
        return _activeDelegation[avatarId];
    }

    function _endDelegation(bytes32 avatarId) private {
        uint256 id = _activeDelegation[avatarId];
        if (id != 0) {
            _delegations[id].revokedAt = uint40(block.timestamp);
            _activeDelegation[avatarId] = 0;
            emit DelegationRevoked(id, avatarId);
        }
    }

    function _requireActive(bytes32 serial) private view {
        if (_mits[serial].status != MitStatus.Active) revert MITRegistry__MitNotActive(serial);
    }

    /// @inheritdoc IMITRegistry
    function boundCourt() external view returns (address) {
        return _court;
    }

    /// @dev COURT_ROLE is bound to a court (h15-red3 H1): its first holder must be a contract (not an
    /// account a key controls, an EIP-7702 delegation included) that holds neither IDP_ROLE nor the
    /// admin role, and afterwards only that address may be granted it again (so the admin can cut
    /// the court off and restore it, h14-red2 G1, but never hand a court's verdicts to anyone
    /// else). The court never takes another role.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (hasRole(role, account)) return false;
        if (role == COURT_ROLE) {
            if (hasRole(IDP_ROLE, account) || hasRole(DEFAULT_ADMIN_ROLE, account))
                revert MITRegistry__RoleHoldersNotDistinct(role, account);
            if (_court == address(0)) {
                if (!AccountCode.isContract(account)) revert MITRegistry__CourtNotAContract(account);
                _court = account;
            } else if (account != _court) revert MITRegistry__CourtAlreadyBound(_court, account);
        } else if (account != address(0) && account == _court)
            revert MITRegistry__RoleHoldersNotDistinct(role, account);
        return super._grantRole(role, account);
    }
}
