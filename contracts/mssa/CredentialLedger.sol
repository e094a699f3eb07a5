// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ICredentialLedger} from "../interfaces/ICredentialLedger.sol";
import {IAuthorityElection} from "../interfaces/IAuthorityElection.sol";

/// @title CredentialLedger
/// @notice MSSA credential blocks approved by k of a place's authorities. See ICredentialLedger.
contract CredentialLedger is ICredentialLedger, AccessControl, EIP712 {
    /// @notice Creates places, revokes access and cancels proposals (the operator).
    bytes32 public constant PLACE_ADMIN_ROLE = keccak256("PLACE_ADMIN_ROLE");
    /// @dev AuthorityElection.REGISTRAR_ROLE
    bytes32 private constant _REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice The user's consent to one registration (EIP-712).
    bytes32 public constant REGISTRATION_TYPEHASH = keccak256(
        "Registration(bytes32 place,address user,bytes32 commitment,bytes32 nullifier,bytes32 electorNullifier,bytes32 session,uint256 nonce,uint256 deadline)"
    );
    /// @notice Most authorities of one place.
    uint256 public constant MAX_PLACE_AUTHORITIES = 32;
    /// @notice How long a proposal waits for its approvals.
    uint256 public constant PENDING_TTL = 7 days;
    /// @notice Furthest a consent's deadline may lie after the block that proposes it (the
    /// authorities' own bound, docs/specs/mssa.md §2.5): a client that signs a later one is refused at once.
    uint256 public constant CONSENT_TTL = 7 days;
    /// @notice Longest endpoint an authority may announce, in bytes.
    uint256 public constant MAX_ENDPOINT_BYTES = 256;

    /// @notice The election whose sitting authorities may approve.
    IAuthorityElection public immutable election;

    mapping(bytes32 place => Place) private _places;
    mapping(bytes32 place => mapping(address account => bool)) private _isPlaceAuthority;
    mapping(bytes32 id => Registration) private _registrations;
    mapping(bytes32 id => mapping(address authority => bool)) private _approvedBy;
    mapping(bytes32 id => address[]) private _approvers;
    mapping(address user => mapping(bytes32 place => bytes32 id)) private _latest;
    mapping(bytes32 place => mapping(bytes32 nullifier => bytes32 id)) private _nullifierHolder;
    /// @dev the user's approved registrations that carry an election nullifier
    mapping(address user => uint256) private _electorGrants;
    mapping(bytes32 place => mapping(address authority => string endpoint)) private _endpoints;
    /// @dev signed in every consent; bumped when the user (or the operator) cancels, and on revocation
    mapping(address user => mapping(bytes32 place => uint256)) private _consentNonce;
    bytes32 private _head;
    uint64 private _count;

    /// @param admin the operator (admin, PLACE_ADMIN_ROLE)
    /// @param election_ the authority election
    constructor(address admin, IAuthorityElection election_) EIP712("metatrust MSSA CredentialLedger", "1") {
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
        address[] memory former = p.authorities;
        for (uint256 i; i < former.length; ++i) _isPlaceAuthority[placeId][former[i]] = false;
        delete p.authorities;
        for (uint256 i; i < n; ++i) {
            address a = authorities[i];
            if (a == address(0) || _isPlaceAuthority[placeId][a]) revert CredentialLedger__InvalidPlace(placeId);
            _isPlaceAuthority[placeId][a] = true;
            p.authorities.push(a);
        }
        p.threshold = threshold;
        // An authority that left the place takes its endpoint with it: clients find current ones only.
        for (uint256 i; i < former.length; ++i) {
            address a = former[i];
            if (_isPlaceAuthority[placeId][a]) continue;
            string memory old = _endpoints[placeId][a];
            if (bytes(old).length == 0) continue;
            delete _endpoints[placeId][a];
            emit AuthorityEndpointSet(placeId, a, old, "");
        }
        emit PlaceSet(placeId, authorities, threshold);
    }

    /// @inheritdoc ICredentialLedger
    function propose(
        bytes32 placeId,
        address user,
        bytes32 commitment,
        bytes32 nullifier,
        bytes32 electorNullifier,
        bytes32 session,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 id) {
        _checkApprover(placeId);
        if (user == address(0) || commitment == bytes32(0) || nullifier == bytes32(0))
            revert CredentialLedger__InvalidInput();
        // The user's own bound in time (s20-redm F3's residual; CONSENT_TTL: docs/specs/mssa.md §2.5).
        if (block.timestamp > deadline) revert CredentialLedger__ConsentExpired(user, placeId, deadline);
        if (deadline > block.timestamp + CONSENT_TTL)
            revert CredentialLedger__ConsentDeadlineTooFar(user, placeId, deadline, block.timestamp + CONSENT_TTL);
        bytes32 latest = _latest[user][placeId];
        if (latest != bytes32(0)) {
            Status s = _registrations[latest].status;
            if (s == Status.Approved) revert CredentialLedger__AlreadyRegistered(user, placeId);
            if (_live(latest)) revert CredentialLedger__PendingExists(user, placeId, latest);
        }
        // Only an approved registration holds its nullifier (h7-audit finding M3): a pending
        // proposal reserves nothing, so one authority cannot squat a person's nullifier with a
        // Sybil; competing proposals coexist and the first with k approvals takes it.
        _checkNullifierFree(placeId, nullifier);
        // Like the place nullifier, e is reserved by nobody before approval; a proposal that
        // cannot succeed is refused here already.
        if (electorNullifier != bytes32(0) && _wired()) _checkElectorFree(user, electorNullifier);
        if (
            !SignatureChecker.isValidSignatureNow(
                user,
                registrationDigest(placeId, user, commitment, nullifier, electorNullifier, session, deadline),
                signature
            )
        ) revert CredentialLedger__BadUserSignature(user);
        id = registrationId(placeId, user, commitment);
        // A commitment carries a fresh 256-bit salt: the same id again is a replay.
        if (_registrations[id].status != Status.None) revert CredentialLedger__InvalidInput();
        Registration storage r = _registrations[id];
        r.place = placeId;
        r.user = user;
        r.commitment = commitment;
        r.status = Status.Pending;
        (r.proposedAt, r.consentDeadline) = (uint40(block.timestamp), uint40(deadline)); // deadline: checked above
        r.nullifier = nullifier;
        r.electorNullifier = electorNullifier;
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
        uint256 expiry = _expiry(r);
        if (block.timestamp >= expiry) revert CredentialLedger__Expired(id, expiry);
        _approve(id, r);
    }

    /// @inheritdoc ICredentialLedger
    function cancel(bytes32 id) external {
        Registration storage r = _registrations[id];
        if (r.status != Status.Pending) revert CredentialLedger__NotPending(id);
        if (msg.sender != r.user && !hasRole(PLACE_ADMIN_ROLE, msg.sender) && _live(id))
            revert CredentialLedger__NotCancellable(id, msg.sender);
        r.status = Status.Cancelled;
        emit RegistrationCancelled(id, msg.sender);
        // The user's (or the operator's) cancel withdraws every consent she signed for this place
        // (s20-redm F3); anyone's cancel of an expired proposal withdraws nothing of hers.
        if (msg.sender == r.user || hasRole(PLACE_ADMIN_ROLE, msg.sender)) _withdrawConsents(r.user, r.place);
    }

    /// @inheritdoc ICredentialLedger
    function revoke(bytes32 id) external onlyRole(PLACE_ADMIN_ROLE) {
        Registration storage r = _registrations[id];
        if (r.status != Status.Approved) revert CredentialLedger__NotPending(id);
        r.status = Status.Revoked;
        address user = r.user;
        emit AccessRevoked(id, r.place, user);
        // An unused consent signed before the revocation does not register the user again (F3).
        _withdrawConsents(user, r.place);
        // The user's last registration that made it an elector gone: it leaves the election's
        // members (which frees its election nullifier), when wired. Access-only ones never enrolled it.
        if (r.electorNullifier != bytes32(0) && --_electorGrants[user] == 0 && _wired() && election.isMember(user))
            election.remove(user);
    }

    /// @inheritdoc ICredentialLedger
    function setAuthorityEndpoint(bytes32 placeId, string calldata endpoint) external {
        if (_places[placeId].threshold == 0) revert CredentialLedger__UnknownPlace(placeId);
        if (!_isPlaceAuthority[placeId][msg.sender]) revert CredentialLedger__NotPlaceAuthority(placeId, msg.sender);
        uint256 n = bytes(endpoint).length;
        if (n == 0 || n > MAX_ENDPOINT_BYTES) revert CredentialLedger__InvalidEndpoint(placeId, n);
        string memory old = _endpoints[placeId][msg.sender];
        _endpoints[placeId][msg.sender] = endpoint;
        emit AuthorityEndpointSet(placeId, msg.sender, old, endpoint);
    }

    /// @inheritdoc ICredentialLedger
    function registrationId(bytes32 placeId, address user, bytes32 commitment) public pure returns (bytes32) {
        return keccak256(abi.encode(placeId, user, commitment));
    }

    /// @inheritdoc ICredentialLedger
    function registrationDigest(
        bytes32 placeId,
        address user,
        bytes32 commitment,
        bytes32 nullifier,
        bytes32 electorNullifier,
        bytes32 session,
        uint256 deadline
    ) public view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        REGISTRATION_TYPEHASH,
                        placeId,
                        user,
                        commitment,
                        nullifier,
                        electorNullifier,
                        session,
                        _consentNonce[user][placeId],
                        deadline
                    )
                )
            );
    }

    /// @inheritdoc ICredentialLedger
    function consentNonce(address user, bytes32 placeId) external view returns (uint256) {
        return _consentNonce[user][placeId];
    }

    /// @inheritdoc ICredentialLedger
    function nullifierHolder(bytes32 placeId, bytes32 nullifier) external view returns (bytes32 id) {
        id = _nullifierHolder[placeId][nullifier];
        if (id != bytes32(0) && _registrations[id].status != Status.Approved) id = bytes32(0);
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
    function authorityEndpoint(bytes32 placeId, address authority) external view returns (string memory) {
        return _endpoints[placeId][authority];
    }

    /// @inheritdoc ICredentialLedger
    function authorityEndpoints(
        bytes32 placeId
    ) external view returns (address[] memory authorities, string[] memory endpoints) {
        authorities = _places[placeId].authorities;
        endpoints = new string[](authorities.length);
        for (uint256 i; i < authorities.length; ++i) endpoints[i] = _endpoints[placeId][authorities[i]];
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

    /// @dev Reverts DuplicateIdentity if an approved registration at the place holds `nullifier`.
    function _checkNullifierFree(bytes32 placeId, bytes32 nullifier) private view {
        bytes32 holder = _nullifierHolder[placeId][nullifier];
        if (holder != bytes32(0) && _registrations[holder].status == Status.Approved)
            revert CredentialLedger__DuplicateIdentity(placeId, nullifier, holder);
    }

    /// @dev Reverts with the election's error if another account holds `e`, or `user` holds another e.
    function _checkElectorFree(address user, bytes32 e) private view {
        address holder = election.electorOf(e);
        if (holder != address(0) && holder != user)
            revert IAuthorityElection.AuthorityElection__ElectorNullifierTaken(e, holder);
        bytes32 held = election.electorNullifierOf(user);
        if (held != bytes32(0) && held != e)
            revert IAuthorityElection.AuthorityElection__ElectorNullifierMismatch(user, held, e);
    }

    /// @dev Approved, or pending and not expired.
    function _live(bytes32 id) private view returns (bool) {
        Registration storage r = _registrations[id];
        if (r.status == Status.Approved) return true;
        return r.status == Status.Pending && block.timestamp < _expiry(r);
    }

    /// @dev The first second at which pending `r` can no longer be approved: PENDING_TTL after its
    /// proposal, or the second after the deadline its user signed, whichever comes first (s23-rtm
    /// F5: her deadline bounds the grant, not only the proposal; at the deadline is in time, as
    /// for `propose`)
    function _expiry(Registration storage r) private view returns (uint256) {
        uint256 ttl = uint256(r.proposedAt) + PENDING_TTL;
        uint256 signed = uint256(r.consentDeadline) + 1;
        return signed < ttl ? signed : ttl;
    }

    function _withdrawConsents(address user, bytes32 placeId) private {
        uint256 nonce = ++_consentNonce[user][placeId];
        emit ConsentsWithdrawn(user, placeId, nonce);
    }

    function _wired() private view returns (bool) {
        return IAccessControl(address(election)).hasRole(_REGISTRAR_ROLE, address(this));
    }

    function _approve(bytes32 id, Registration storage r) private {
        if (_approvedBy[id][msg.sender]) {
            // An approver that approved already re-runs the k check (h15-red2 R7): a registration
            // whose k-th approval came while an approver was out of its seat is granted once k of
            // its approvers sit again. Nothing else changes: a check that still fails reverts.
            if (!_tryGrant(id, r)) revert CredentialLedger__AlreadyApproved(id, msg.sender);
            return;
        }
        _approvedBy[id][msg.sender] = true;
        _approvers[id].push(msg.sender);
        emit RegistrationApproved(id, msg.sender, ++r.approvals);
        _tryGrant(id, r);
    }

    /// @dev Grants `id` when k of its approvers are still authorities of the place and sitting;
    /// returns whether it did.
    function _tryGrant(bytes32 id, Registration storage r) private returns (bool) {
        uint8 n = r.approvals;
        bytes32 placeId = r.place;
        uint8 k = _places[placeId].threshold;
        if (n < k) return false;
        // Every approval is re-checked: one whose authority has since left the place or lost its
        // seat does not count.
        address[] storage approvers = _approvers[id];
        uint8 current;
        for (uint256 i; i < approvers.length; ++i) {
            address a = approvers[i];
            if (_isPlaceAuthority[placeId][a] && election.isAuthority(a)) ++current;
        }
        if (current < k) {
            emit ApprovalsStale(id, n, current);
            return false;
        }
        // Another registration of this identity approved since the proposal: refused, nothing changes.
        bytes32 nullifier = r.nullifier;
        _checkNullifierFree(placeId, nullifier);
        _nullifierHolder[placeId][nullifier] = id;
        r.status = Status.Approved;
        r.approvedAt = uint40(block.timestamp);
        r.index = _count;
        bytes32 link = keccak256(abi.encode(_head, id, r.commitment));
        r.link = link;
        _head = link;
        ++_count;
        emit AccessGranted(id, r.place, r.user, r.index, link);
        // One person, one elector (h11-red2 M1): only the registration the user chose, carrying her
        // election nullifier, makes her one of the M active members, when wired. The election
        // refuses a second account under a held e; this approval then reverts and changes nothing.
        bytes32 e = r.electorNullifier;
        if (e != bytes32(0)) {
            ++_electorGrants[r.user];
            if (_wired()) election.enrolElector(r.user, e);
        }
        return true;
    }
}
