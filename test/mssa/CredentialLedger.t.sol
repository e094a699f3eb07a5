// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {CredentialLedger} from "../../contracts/mssa/CredentialLedger.sol";
import {ICredentialLedger} from "../../contracts/interfaces/ICredentialLedger.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice The calls CredentialLedger makes on its election, with the sitting set in the test's
/// hands: `reseat` stands for the outcome of an election (AuthorityElection.t.sol tests how
/// elections choose). Wired like the deployment: the ledger holds REGISTRAR_ROLE, so each grant
/// that carries an election nullifier enrols the user as that person's elector (at most one account
/// per nullifier, as AuthorityElection: h11-red2 M1) and revoking the last one removes it.
contract SittingAuthoritiesStub {
    mapping(address account => bool) public isAuthority;
    mapping(address member => uint256) public enrolments;
    mapping(address member => bool) public isMember;
    mapping(bytes32 e => address) public electorOf;
    mapping(address member => bytes32) public electorNullifierOf;
    address public ledger;

    function setLedger(address l) external {
        ledger = l;
    }

    function reseat(address account, bool sits) external {
        isAuthority[account] = sits;
    }

    function hasRole(bytes32 role, address account) external view returns (bool) {
        return role == keccak256("REGISTRAR_ROLE") && account == ledger;
    }

    function enrolElector(address member, bytes32 e) external {
        require(msg.sender == ledger, "stub: only the ledger enrols");
        address holder = electorOf[e];
        if (holder != address(0) && holder != member)
            revert IAuthorityElection.AuthorityElection__ElectorNullifierTaken(e, holder);
        bytes32 held = electorNullifierOf[member];
        if (held != bytes32(0) && held != e)
            revert IAuthorityElection.AuthorityElection__ElectorNullifierMismatch(member, held, e);
        (electorOf[e], electorNullifierOf[member]) = (member, e);
        ++enrolments[member];
        isMember[member] = true;
    }

    function remove(address member) external {
        require(msg.sender == ledger, "stub: only the ledger removes");
        require(isMember[member], "stub: not a member");
        isMember[member] = false;
        delete electorOf[electorNullifierOf[member]];
        delete electorNullifierOf[member];
    }
}

/// @notice Drives a CredentialLedger from twelve accounts (six authority candidates, four users, the
/// operator and an outsider) over two places, with a model of who may approve what. Disagreements
/// are counted per property; the invariants require zero.
contract CredentialLedgerHandler is Test {
    // ------------------------------------------------------------------ setup

    address public constant ADMIN = address(0xAD);
    address public constant OUTSIDER = address(0x0B5E);
    uint256 public constant AUTHORITIES = 6;
    uint256 public constant USERS = 4;
    bytes32 public constant PL1 = keccak256("PL1");
    bytes32 public constant PL2 = keccak256("PL2");
    bytes32 public constant ADMIN_ROLE = 0x00;
    bytes32 public constant PLACE_ADMIN_ROLE = keccak256("PLACE_ADMIN_ROLE");
    bytes32 public constant OTHER_ROLE = keccak256("OTHER_ROLE");

    uint256 public constant APPROVER = 0; // an approval by a non-authority of the place or a non-sitting one
    uint256 public constant ONCE = 1; // a second live registration of a user at a place
    uint256 public constant THRESHOLD = 2; // access granted below k approvals, or not granted at k
    uint256 public constant ROLES = 3; // a role-gated call by an account without the role
    uint256 public constant MODEL = 4; // a call the rules accept was refused, or a wrong id/state
    uint256 public constant STALE = 5; // access granted with fewer than k approvers still sitting
    uint256 public constant IDENTITY = 6; // two approved registrations of one identity nullifier at a place
    uint256 public constant ELECTOR = 7; // two accounts enrolled under one election nullifier (M1)
    uint256 public constant KINDS = 8;
    uint256 public constant TTL = 7 days;
    uint256 public constant CONSENT_TTL = 7 days; // the ledger's bound on a consent's deadline

    CredentialLedger public immutable ledger;
    SittingAuthoritiesStub public immutable stub;
    address[] internal _accounts;

    // ------------------------------------------------------------------ ghost state

    struct GhostRegistration {
        bytes32 place;
        address user;
        bytes32 commitment;
        ICredentialLedger.Status status;
        uint256 approvals;
        uint256 thresholdAtGrant;
        uint256 proposedAt;
        bytes32 nullifier;
        bytes32 electorNullifier;
        /// @dev the deadline the user signed: the registration expires after it too (s23-rtm F5)
        uint256 deadline;
    }

    uint256[KINDS] public violations;
    string[KINDS] public lastViolation;
    uint256 public time;

    mapping(bytes32 role => mapping(address => bool)) public ghostRole;
    mapping(bytes32 place => uint8) public ghostThreshold;
    mapping(bytes32 place => mapping(address => bool)) public ghostPlaceAuthority;
    mapping(bytes32 place => address[]) internal _ghostPlaceAuthorities;
    mapping(address => bool) public ghostSitting;
    bytes32[] internal _ids;
    mapping(bytes32 id => GhostRegistration) internal _reg;
    mapping(bytes32 id => mapping(address => bool)) public ghostApprovedBy;
    mapping(bytes32 id => address[]) internal _approvers;
    mapping(address user => mapping(bytes32 place => bytes32 id)) public ghostLatest;
    bytes32[] internal _chain;
    bytes32 public ghostHead;
    /// approved registrations that carry an election nullifier, ever and still approved
    mapping(address user => uint256) public ghostGrants;
    mapping(address user => uint256) public ghostLive;
    mapping(bytes32 e => address) public ghostElectorOf;
    mapping(address user => bytes32) public ghostElectorNullifierOf;
    mapping(bytes32 place => mapping(bytes32 nullifier => bytes32 id)) public ghostHolder;
    mapping(address user => uint256) internal _keys;

    mapping(bytes32 action => uint256) public calls;

    constructor() {
        for (uint256 i; i < AUTHORITIES; ++i) _accounts.push(address(uint160(0xA000 + i)));
        for (uint256 i; i < USERS; ++i) {
            address u = vm.addr(0xB000 + i);
            _keys[u] = 0xB000 + i;
            _accounts.push(u);
        }
        _accounts.push(ADMIN);
        _accounts.push(OUTSIDER);
        stub = new SittingAuthoritiesStub();
        ledger = new CredentialLedger(ADMIN, IAuthorityElection(address(stub)));
        stub.setLedger(address(ledger));
        ghostRole[ADMIN_ROLE][ADMIN] = true;
        ghostRole[PLACE_ADMIN_ROLE][ADMIN] = true;
        for (uint256 i; i < 4; ++i) {
            stub.reseat(_accounts[i], true);
            ghostSitting[_accounts[i]] = true;
        }
        address[] memory a = new address[](3);
        (a[0], a[1], a[2]) = (_accounts[0], _accounts[1], _accounts[2]);
        vm.prank(ADMIN);
        ledger.setPlace(PL1, a, 2);
        _ghostSetPlace(PL1, a, 2);
        address[] memory b = new address[](2);
        (b[0], b[1]) = (_accounts[2], _accounts[3]);
        vm.prank(ADMIN);
        ledger.setPlace(PL2, b, 1);
        _ghostSetPlace(PL2, b, 1);
        time = block.timestamp + 1000;
    }

    // ------------------------------------------------------------------ actions

    /// The operator (or anyone) sets a place's authorities (a subset of the six candidates, with
    /// address(0) or a repeat now and then) and its threshold k in [0, n + 1].
    function setPlace(uint256 callerSeed, uint256 placeSeed, uint8 mask, uint8 threshold) external {
        _sync();
        address caller = callerSeed % 4 == 0 ? _pick(callerSeed / 4) : _holder(callerSeed, PLACE_ADMIN_ROLE);
        bytes32 place = _place(placeSeed);
        uint256 n;
        for (uint256 i; i < AUTHORITIES; ++i) if ((mask >> i) & 1 == 1) ++n;
        bool withZero = (mask >> 6) & 1 == 1 && placeSeed % 3 == 0;
        bool withRepeat = (mask >> 7) & 1 == 1 && n > 0 && placeSeed % 3 == 1;
        address[] memory a = new address[](n + (withZero ? 1 : 0) + (withRepeat ? 1 : 0));
        uint256 j;
        for (uint256 i; i < AUTHORITIES; ++i) if ((mask >> i) & 1 == 1) a[j++] = _accounts[i];
        if (withRepeat) a[j++] = a[0];
        if (withZero) a[j++] = address(0);
        threshold = uint8(bound(threshold, 0, a.length + 1));
        bool valid = place != bytes32(0) && threshold != 0 && threshold <= a.length && !withZero && !withRepeat;
        vm.prank(caller);
        try ledger.setPlace(place, a, threshold) {
            ++calls["setPlace"];
            if (!ghostRole[PLACE_ADMIN_ROLE][caller]) _violate(ROLES, "setPlace without PLACE_ADMIN_ROLE");
            if (!valid) _violate(MODEL, "invalid place accepted");
            _ghostSetPlace(place, a, threshold);
        } catch {
            if (ghostRole[PLACE_ADMIN_ROLE][caller] && valid) _violate(MODEL, "setPlace refused");
        }
    }

    /// A place authority (mostly a sitting one) proposes a user's registration, with the user's
    /// consent (mostly; sometimes signed by another user), and an identity nullifier (mostly the
    /// user's own; sometimes another user's: a second address of one person), with the person's
    /// election nullifier (two times in three) or none (access only).
    function propose(uint256 callerSeed, uint256 placeSeed, uint256 userSeed, uint256 commitmentSeed) external {
        _sync();
        bytes32 place = _place(placeSeed);
        address caller = callerSeed % 4 == 0 ? _pick(callerSeed / 4) : _approverFor(place, callerSeed);
        address user = userSeed % 16 == 15 ? address(0) : _accounts[AUTHORITIES + (userSeed % USERS)];
        bytes32 commitment = commitmentSeed % 16 == 15 ? bytes32(0) : keccak256(abi.encode("c", commitmentSeed % 8));
        // the identity: mostly the user's own, one time in eight another user's
        address person = (userSeed / 16) % 8 == 0 ? _accounts[AUTHORITIES + ((userSeed / 128) % USERS)] : user;
        bytes32 nullifier = keccak256(abi.encode("identity", person));
        address signer =
            (commitmentSeed / 16) % 8 == 0 ? _accounts[AUTHORITIES + ((commitmentSeed / 128) % USERS)] : user;
        bytes32 e = (commitmentSeed / 1024) % 3 == 0 ? bytes32(0) : keccak256(abi.encode("elector", person));
        // the consent's deadline: mostly within what the ledger takes (now .. now + 7 days), one time
        // in sixteen expired a second ago, one in sixteen a second too far ahead (s21-cdl)
        uint256 dSeed = commitmentSeed / 4096;
        uint256 deadline =
            dSeed % 16 == 0
                ? time - 1
                : dSeed % 16 == 1
                    ? time + CONSENT_TTL + 1
                    : time + ((dSeed / 16) % (CONSENT_TTL + 1));
        bytes memory sig = _consent(signer, place, user, commitment, nullifier, e, bytes32(commitmentSeed), deadline);
        bytes32 id = keccak256(abi.encode(place, user, commitment));
        bytes32 latest = ghostLatest[user][place];
        bool live = latest != bytes32(0) && _live(latest);
        // only an approved registration holds a nullifier (h7-audit finding M3)
        bool duplicate = _held(place, nullifier);
        bool mayApprove = _mayApprove(place, caller);
        bool ok =
            mayApprove &&
                user != address(0) &&
                commitment != bytes32(0) &&
                !live &&
                !duplicate &&
                signer == user &&
                deadline >= time &&
                deadline <= time + CONSENT_TTL &&
                _electorFree(user, e) &&
                _reg[id].status == ICredentialLedger.Status.None;
        vm.prank(caller);
        try ledger.propose(place, user, commitment, nullifier, e, bytes32(commitmentSeed), deadline, sig) returns (
            bytes32 got
        ) {
            ++calls["propose"];
            if (got != id) _violate(MODEL, "registration id");
            if (!mayApprove) _violate(APPROVER, "proposal by an account that may not approve");
            if (live) _violate(ONCE, "second live registration of a user at a place");
            if (duplicate) _violate(IDENTITY, "proposal of an identity approved at the place");
            if (signer != user) _violate(ROLES, "registration without the user's consent");
            if (deadline < time || deadline > time + CONSENT_TTL)
                _violate(ROLES, "registration under a consent past its deadline (or beyond CONSENT_TTL)");
            if (!_electorFree(user, e)) _violate(ELECTOR, "proposal under an election nullifier held elsewhere");
            if (!ok) _violate(MODEL, "proposal accepted");
            _ids.push(id);
            GhostRegistration storage r = _reg[id];
            (r.place, r.user, r.commitment, r.status) = (place, user, commitment, ICredentialLedger.Status.Pending);
            (r.proposedAt, r.nullifier, r.electorNullifier) = (time, nullifier, e);
            r.deadline = deadline;
            ghostLatest[user][place] = id;
            _ghostApprove(id, caller, true);
        } catch {
            if (ok) _violate(MODEL, "proposal refused");
        }
    }

    /// The user, the operator or anyone cancels a registration.
    function cancel(uint256 callerSeed, uint256 idSeed) external {
        _sync();
        if (_ids.length == 0) return;
        bytes32 id = _ids[idSeed % _ids.length];
        GhostRegistration storage r = _reg[id];
        address caller =
            callerSeed % 3 == 0
                ? _pick(callerSeed / 3)
                : callerSeed % 3 == 1
                    ? r.user
                    : ADMIN;
        bool ok =
            r.status == ICredentialLedger.Status.Pending &&
                (caller == r.user || ghostRole[PLACE_ADMIN_ROLE][caller] || !_live(id));
        vm.prank(caller);
        try ledger.cancel(id) {
            ++calls["cancel"];
            if (!ok) _violate(MODEL, "cancellation accepted");
            r.status = ICredentialLedger.Status.Cancelled;
        } catch {
            if (ok) _violate(MODEL, "cancellation refused");
        }
    }

    /// A place authority (mostly a sitting one) approves a known registration.
    function approve(uint256 callerSeed, uint256 idSeed) external {
        _sync();
        bytes32 id = _ids.length == 0 || idSeed % 16 == 15 ? keccak256(abi.encode(idSeed)) : _ids[idSeed % _ids.length];
        // mostly a pending registration, when there is one
        if (idSeed % 4 != 0) {
            for (uint256 i; i < _ids.length; ++i) {
                bytes32 x = _ids[((idSeed % _ids.length) + i) % _ids.length];
                if (_reg[x].status == ICredentialLedger.Status.Pending) {
                    id = x;
                    break;
                }
            }
        }
        GhostRegistration storage r = _reg[id];
        address caller = callerSeed % 4 == 0 ? _pick(callerSeed / 4) : _approverFor(r.place, callerSeed);
        bool mayApprove = r.status != ICredentialLedger.Status.None && _mayApprove(r.place, caller);
        // the approval that grants access is refused if the identity was approved since (finding M3)
        // an approver that approved already re-runs the check, accepted only when it grants (h15-red2 R7)
        bool again = ghostApprovedBy[id][caller];
        bool granting = mayApprove && _sittingApprovers(id) + (again ? 0 : 1) >= ghostThreshold[r.place];
        bool ok =
            mayApprove &&
                r.status == ICredentialLedger.Status.Pending &&
                time < _expiry(r) &&
                (!again || granting) &&
                !(granting && _held(r.place, r.nullifier)) &&
                !(granting && !_electorFree(r.user, r.electorNullifier));
        vm.prank(caller);
        try ledger.approve(id) {
            ++calls["approve"];
            if (!mayApprove) _violate(APPROVER, "approval by an account that may not approve");
            if (again && !granting) _violate(APPROVER, "second approval by one authority that grants nothing");
            if (!ok) _violate(MODEL, "approval accepted");
            if (again) ++calls["approveAgain"];
            _ghostApprove(id, caller, !again);
        } catch {
            if (ok) _violate(MODEL, "approval refused");
        }
    }

    /// The operator (or anyone) revokes a registration.
    function revoke(uint256 callerSeed, uint256 idSeed) external {
        _sync();
        if (_ids.length == 0) return;
        bytes32 id = _ids[idSeed % _ids.length];
        address caller = callerSeed % 4 == 0 ? _pick(callerSeed / 4) : _holder(callerSeed, PLACE_ADMIN_ROLE);
        bool ok = ghostRole[PLACE_ADMIN_ROLE][caller] && _reg[id].status == ICredentialLedger.Status.Approved;
        vm.prank(caller);
        try ledger.revoke(id) {
            ++calls["revoke"];
            if (!ghostRole[PLACE_ADMIN_ROLE][caller]) _violate(ROLES, "revoke without PLACE_ADMIN_ROLE");
            if (!ok) _violate(MODEL, "revocation accepted");
            _reg[id].status = ICredentialLedger.Status.Revoked;
            address u = _reg[id].user;
            // the user's last registration carrying e gone: out of the electorate (issue 17,
            // finding 6), e freed; an access-only one leaves the electorate alone (h11-red2 M1)
            if (_reg[id].electorNullifier != bytes32(0) && --ghostLive[u] == 0) {
                if (stub.isMember(u)) _violate(MODEL, "revoked user still a member");
                delete ghostElectorOf[ghostElectorNullifierOf[u]];
                delete ghostElectorNullifierOf[u];
            }
        } catch {
            if (ok) _violate(MODEL, "revocation refused");
        }
    }

    /// An election outcome: one candidate takes or loses a seat.
    function reseat(uint256 who, bool sits) external {
        address a = _accounts[who % AUTHORITIES];
        stub.reseat(a, sits);
        ghostSitting[a] = sits;
    }

    /// Grants, revokes or renounces one of three roles, as an admin or anyone.
    function roles(uint256 op, uint256 callerSeed, uint256 roleSeed, uint256 targetSeed) external {
        _sync();
        bytes32 role =
            roleSeed % 3 == 0
                ? ADMIN_ROLE
                : roleSeed % 3 == 1
                    ? PLACE_ADMIN_ROLE
                    : OTHER_ROLE;
        address target = _pick(targetSeed);
        if (target == ADMIN) return; // the operator keeps its roles
        // anyone, an admin, or a holder of the role itself (the escalation attempt)
        address caller =
            callerSeed % 3 == 0 ? _pick(callerSeed / 3) : _holder(callerSeed, callerSeed % 3 == 1 ? ADMIN_ROLE : role);
        bool isAdmin = ghostRole[ADMIN_ROLE][caller];
        if (op % 3 == 0) {
            vm.prank(caller);
            try ledger.grantRole(role, target) {
                if (!isAdmin) _violate(ROLES, "grantRole without the admin role");
                ghostRole[role][target] = true;
            } catch {
                if (isAdmin) _violate(MODEL, "grantRole refused");
            }
        } else if (op % 3 == 1) {
            vm.prank(caller);
            try ledger.revokeRole(role, target) {
                if (!isAdmin) _violate(ROLES, "revokeRole without the admin role");
                ghostRole[role][target] = false;
            } catch {
                if (isAdmin) _violate(MODEL, "revokeRole refused");
            }
        } else {
            if (caller == ADMIN) return;
            vm.prank(caller);
            try ledger.renounceRole(role, target) {
                if (target != caller) _violate(ROLES, "renounced someone else's role");
                ghostRole[role][caller] = false;
            } catch {
                if (target == caller) _violate(MODEL, "renounceRole refused");
            }
        }
    }

    function warp(uint256 dt) external {
        time += bound(dt, 0, 2 days);
        _sync();
    }

    // ------------------------------------------------------------------ views for the invariants

    function accounts() external view returns (address[] memory) {
        return _accounts;
    }

    function ids() external view returns (bytes32[] memory) {
        return _ids;
    }

    function chain() external view returns (bytes32[] memory) {
        return _chain;
    }

    function ghostRegistration(bytes32 id) external view returns (GhostRegistration memory) {
        return _reg[id];
    }

    function approvers(bytes32 id) external view returns (address[] memory) {
        return _approvers[id];
    }

    function placeAuthorities(bytes32 place) external view returns (address[] memory) {
        return _ghostPlaceAuthorities[place];
    }

    // ------------------------------------------------------------------ model

    /// Approved, or pending and not expired.
    function _live(bytes32 id) internal view returns (bool) {
        GhostRegistration storage r = _reg[id];
        if (r.status == ICredentialLedger.Status.Approved) return true;
        return r.status == ICredentialLedger.Status.Pending && time < _expiry(r);
    }

    /// The first second a pending registration cannot be approved: TTL after its proposal or the
    /// second after its user's deadline, whichever comes first (s23-rtm F5).
    function _expiry(GhostRegistration storage r) internal view returns (uint256) {
        uint256 ttl = r.proposedAt + TTL;
        return r.deadline + 1 < ttl ? r.deadline + 1 : ttl;
    }

    function _consent(
        address signer,
        bytes32 place,
        address user,
        bytes32 commitment,
        bytes32 nullifier,
        bytes32 e,
        bytes32 session,
        uint256 deadline
    ) internal view returns (bytes memory) {
        bytes32 digest = ledger.registrationDigest(place, user, commitment, nullifier, e, session, deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keys[signer] == 0 ? 1 : _keys[signer], digest);
        return abi.encodePacked(r, s, v);
    }

    function _mayApprove(bytes32 place, address a) internal view returns (bool) {
        return ghostThreshold[place] != 0 && ghostPlaceAuthority[place][a] && ghostSitting[a];
    }

    function _ghostSetPlace(bytes32 place, address[] memory a, uint8 threshold) internal {
        address[] storage old = _ghostPlaceAuthorities[place];
        for (uint256 i; i < old.length; ++i) ghostPlaceAuthority[place][old[i]] = false;
        delete _ghostPlaceAuthorities[place];
        for (uint256 i; i < a.length; ++i) {
            ghostPlaceAuthority[place][a[i]] = true;
            _ghostPlaceAuthorities[place].push(a[i]);
        }
        ghostThreshold[place] = threshold;
    }

    /// One approval (`record`), or an approver's check again (h15-red2 R7); at k sitting approvers
    /// the block is appended to the chain and the user enrolled.
    function _ghostApprove(bytes32 id, address by, bool record) internal {
        GhostRegistration storage r = _reg[id];
        if (record) {
            ghostApprovedBy[id][by] = true;
            _approvers[id].push(by);
            ++r.approvals;
        }
        ICredentialLedger.Registration memory got = ledger.registration(id);
        // every approver is re-checked when k is reached (issue 17, finding 5)
        uint256 current;
        address[] storage ap = _approvers[id];
        for (uint256 i; i < ap.length; ++i) if (_mayApprove(r.place, ap[i])) ++current;
        bool granted = current >= ghostThreshold[r.place];
        if (got.status == ICredentialLedger.Status.Approved && current < ghostThreshold[r.place])
            _violate(STALE, "access granted with fewer than k sitting approvers");
        if (got.approvals != r.approvals) _violate(THRESHOLD, "approval count");
        if (granted != (got.status == ICredentialLedger.Status.Approved))
            _violate(THRESHOLD, granted ? "k approvals without access" : "access below k approvals");
        if (!granted) return;
        if (_held(r.place, r.nullifier)) _violate(IDENTITY, "second approved registration of one identity at a place");
        ghostHolder[r.place][r.nullifier] = id;
        ++calls["granted"];
        r.status = ICredentialLedger.Status.Approved;
        r.thresholdAtGrant = ghostThreshold[r.place];
        ghostHead = keccak256(abi.encode(ghostHead, id, r.commitment));
        _chain.push(id);
        bytes32 e = r.electorNullifier;
        if (e == bytes32(0)) return; // access only: no elector
        if (!_electorFree(r.user, e)) _violate(ELECTOR, "a second account under a held election nullifier");
        (ghostElectorOf[e], ghostElectorNullifierOf[r.user]) = (r.user, e);
        ++ghostGrants[r.user];
        ++ghostLive[r.user];
    }

    /// Whether `user` may become the elector of `e` (zero: nothing to check).
    function _electorFree(address user, bytes32 e) internal view returns (bool) {
        if (e == bytes32(0)) return true;
        address holder = ghostElectorOf[e];
        bytes32 held = ghostElectorNullifierOf[user];
        return (holder == address(0) || holder == user) && (held == bytes32(0) || held == e);
    }

    // ------------------------------------------------------------------ helpers

    /// Whether an approved registration at `place` holds `nullifier`.
    function _held(bytes32 place, bytes32 nullifier) internal view returns (bool) {
        bytes32 holder = ghostHolder[place][nullifier];
        return holder != bytes32(0) && _reg[holder].status == ICredentialLedger.Status.Approved;
    }

    /// How many of `id`'s approvers may approve now.
    function _sittingApprovers(bytes32 id) internal view returns (uint256 n) {
        address[] storage ap = _approvers[id];
        for (uint256 i; i < ap.length; ++i) if (_mayApprove(_reg[id].place, ap[i])) ++n;
    }

    function _sync() internal {
        vm.warp(time);
    }

    function _violate(uint256 kind, string memory what) internal {
        ++violations[kind];
        lastViolation[kind] = what;
    }

    function _pick(uint256 seed) internal view returns (address) {
        return _accounts[seed % _accounts.length];
    }

    function _place(uint256 seed) internal pure returns (bytes32) {
        uint256 k = seed % 8;
        return
            k == 7
                ? bytes32(0)
                : k == 6
                    ? keccak256("PL3")
                    : k % 2 == 0
                        ? PL1
                        : PL2;
    }

    function _holder(uint256 seed, bytes32 role) internal view returns (address) {
        for (uint256 i; i < _accounts.length; ++i) {
            address a = _accounts[((seed % _accounts.length) + i) % _accounts.length];
            if (ghostRole[role][a]) return a;
        }
        return _pick(seed);
    }

    /// Mostly a sitting authority of `place`; one time in three any authority of the place.
    function _approverFor(bytes32 place, uint256 seed) internal view returns (address) {
        address[] storage a = _ghostPlaceAuthorities[place];
        if (a.length == 0) return _pick(seed);
        uint256 start = seed % a.length;
        if (seed % 3 != 0) {
            for (uint256 i; i < a.length; ++i) {
                address x = a[(start + i) % a.length];
                if (ghostSitting[x]) return x;
            }
        }
        return a[start];
    }
}

/// @notice The invariants of the credential ledger, shared with the findings suite.
abstract contract CredentialLedgerHarness is Test {
    CredentialLedgerHandler internal handler;
    CredentialLedger internal ledger;

    function setUp() public {
        handler = new CredentialLedgerHandler();
        ledger = handler.ledger();
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    function _noViolation(uint256 kind) internal view {
        assertEq(handler.violations(kind), 0, handler.lastViolation(kind));
    }
}

/// @notice Invariants: only sitting place authorities approve, one live registration per user and
/// place, a consistent block chain, access only at k approvals, no role escalation.
/// forge-config: default.invariant.runs = 32
/// forge-config: default.invariant.depth = 128
/// forge-config: default.invariant.check_interval = 8
/// forge-config: ci.invariant.runs = 64
/// forge-config: ci.invariant.depth = 128
/// forge-config: ci.invariant.check_interval = 8
contract CredentialLedgerInvariantTest is CredentialLedgerHarness {
    /// Only accounts that are authorities of the registration's place *and* sitting at the time
    /// approve (or propose) it, each once; approvedBy is exactly the set of those approvals.
    function invariant_onlySittingPlaceAuthoritiesApprove() public view {
        _noViolation(handler.APPROVER());
        bytes32[] memory ids = handler.ids();
        address[] memory a = handler.accounts();
        for (uint256 i; i < ids.length; ++i)
            for (uint256 j; j < a.length; ++j)
                assertTrue(ledger.approvedBy(ids[i], a[j]) == handler.ghostApprovedBy(ids[i], a[j]), "approvedBy");
    }

    /// A user has at most one approved registration per place, and `access` names it.
    function invariant_userRegisteredAtMostOncePerPlace() public view {
        _noViolation(handler.ONCE());
        bytes32[] memory ids = handler.ids();
        address[] memory a = handler.accounts();
        bytes32[2] memory places = [handler.PL1(), handler.PL2()];
        for (uint256 u = handler.AUTHORITIES(); u < handler.AUTHORITIES() + handler.USERS(); ++u) {
            for (uint256 p; p < 2; ++p) {
                uint256 approved;
                bytes32 approvedId;
                for (uint256 i; i < ids.length; ++i) {
                    ICredentialLedger.Registration memory r = ledger.registration(ids[i]);
                    if (r.user == a[u] && r.place == places[p] && r.status == ICredentialLedger.Status.Approved) {
                        ++approved;
                        approvedId = ids[i];
                    }
                }
                assertLe(approved, 1, "two approved registrations of one user at one place");
                (bool granted, bytes32 id) = ledger.access(a[u], places[p]);
                assertTrue(granted == (approved == 1), "access");
                if (granted) assertEq(id, approvedId, "access names the approved registration");
            }
        }
    }

    /// The approved blocks form one hash chain: block i has index i and links to block i - 1,
    /// link_i = keccak256(abi.encode(link_{i-1}, id, commitment)); the head is the last link.
    function invariant_blockChainLinksToPrevious() public view {
        bytes32[] memory chain = handler.chain();
        (bytes32 head, uint64 count) = ledger.head();
        assertEq(count, chain.length, "block count");
        bytes32 prev;
        uint256 prevTime;
        for (uint256 i; i < chain.length; ++i) {
            ICredentialLedger.Registration memory r = ledger.registration(chain[i]);
            assertEq(r.index, i, "index");
            bytes32 link = keccak256(abi.encode(prev, chain[i], r.commitment));
            assertEq(r.link, link, "link to the previous block");
            assertEq(ledger.registrationId(r.place, r.user, r.commitment), chain[i], "id commits to the block");
            assertGe(r.approvedAt, prevTime, "blocks in time order");
            (prev, prevTime) = (link, r.approvedAt);
        }
        assertEq(head, prev, "head");
        assertEq(head, handler.ghostHead(), "head (model)");
        // pending registrations are not in the chain
        bytes32[] memory ids = handler.ids();
        for (uint256 i; i < ids.length; ++i) {
            ICredentialLedger.Registration memory r = ledger.registration(ids[i]);
            if (r.status == ICredentialLedger.Status.Pending) assertEq(r.link, bytes32(0), "pending block linked");
        }
    }

    /// Access (status Approved) comes only at k approvals, with k the place's threshold at that
    /// moment; the approval count equals the approvers; each grant that carries an election
    /// nullifier enrols the user once, an access-only grant never.
    function invariant_accessOnlyAfterKApprovals() public view {
        _noViolation(handler.THRESHOLD());
        bytes32[] memory ids = handler.ids();
        address[] memory a = handler.accounts();
        for (uint256 i; i < ids.length; ++i) {
            ICredentialLedger.Registration memory r = ledger.registration(ids[i]);
            CredentialLedgerHandler.GhostRegistration memory g = handler.ghostRegistration(ids[i]);
            assertEq(uint256(r.status), uint256(g.status), "status");
            assertEq(r.approvals, handler.approvers(ids[i]).length, "approvals = approvers");
            if (r.status == ICredentialLedger.Status.Approved || r.status == ICredentialLedger.Status.Revoked)
                assertGe(r.approvals, g.thresholdAtGrant, "access below k");
        }
        for (uint256 u = handler.AUTHORITIES(); u < handler.AUTHORITIES() + handler.USERS(); ++u)
            assertEq(handler.stub().enrolments(a[u]), handler.ghostGrants(a[u]), "one enrolment per elector grant");
    }

    /// One person, one elector (h11-red2 M1): the ledger enrols at most one account under each
    /// election nullifier; the election's holders are the model's.
    function invariant_oneElectorPerElectionNullifier() public view {
        _noViolation(handler.ELECTOR());
        address[] memory a = handler.accounts();
        for (uint256 p = handler.AUTHORITIES(); p < handler.AUTHORITIES() + handler.USERS(); ++p) {
            bytes32 e = keccak256(abi.encode("elector", a[p]));
            assertEq(handler.stub().electorOf(e), handler.ghostElectorOf(e), "electorOf");
            uint256 under;
            for (uint256 u = handler.AUTHORITIES(); u < handler.AUTHORITIES() + handler.USERS(); ++u)
                if (handler.stub().isMember(a[u]) && handler.stub().electorNullifierOf(a[u]) == e) ++under;
            assertLe(under, 1, "two members under one election nullifier");
        }
    }

    /// When access is granted, k of the approvers are still authorities of the place and sitting
    /// (issue 17, finding 5).
    function invariant_accessGrantedByKSittingAuthorities() public view {
        _noViolation(handler.STALE());
    }

    /// One identity nullifier holds at most one approved registration per place (issue 17, finding
    /// 2; a pending proposal holds none, h7-audit finding M3), and no registration is made without
    /// its user's signature.
    function invariant_oneLiveRegistrationPerIdentity() public view {
        _noViolation(handler.IDENTITY());
        bytes32[] memory ids = handler.ids();
        for (uint256 i; i < ids.length; ++i) {
            ICredentialLedger.Registration memory r = ledger.registration(ids[i]);
            bytes32 holder = ledger.nullifierHolder(r.place, r.nullifier);
            if (r.status == ICredentialLedger.Status.Approved)
                assertEq(holder, ids[i], "the approved registration holds its nullifier");
            else assertTrue(holder != ids[i], "only an approved registration holds a nullifier");
        }
    }

    /// Roles change only by the admin (or by renouncing one's own); every call the rules accept
    /// was accepted.
    function invariant_rolesNotEscalated() public view {
        _noViolation(handler.ROLES());
        _noViolation(handler.MODEL());
        address[] memory a = handler.accounts();
        bytes32[3] memory roles = [handler.ADMIN_ROLE(), handler.PLACE_ADMIN_ROLE(), handler.OTHER_ROLE()];
        for (uint256 i; i < a.length; ++i)
            for (uint256 k; k < 3; ++k)
                assertTrue(ledger.hasRole(roles[k], a[i]) == handler.ghostRole(roles[k], a[i]), "hasRole");
        for (uint256 k; k < 3; ++k) assertTrue(!ledger.hasRole(roles[k], address(handler)), "handler has a role");
    }
}

/// @notice Unit tests of the ledger's fixes (issue 17): each was a failing property first.
contract CredentialLedgerIssue17Test is CredentialLedgerHarness {
    address internal constant ADMIN = address(0xAD);
    address internal constant A = address(0xA000);
    address internal constant B = address(0xA001);
    address internal constant C = address(0xA002);
    uint256 internal constant U_KEY = 0xB0B;
    bytes32 internal constant PL = keccak256("PL");

    function _fresh(address[] memory auths, uint8 k) internal returns (CredentialLedger l, SittingAuthoritiesStub s) {
        s = new SittingAuthoritiesStub();
        l = new CredentialLedger(ADMIN, IAuthorityElection(address(s)));
        s.setLedger(address(l));
        for (uint256 i; i < auths.length; ++i) s.reseat(auths[i], true);
        vm.prank(ADMIN);
        l.setPlace(PL, auths, k);
    }

    function _propose(CredentialLedger l, address au, bytes32 commitment) internal returns (bytes32) {
        address u = vm.addr(U_KEY);
        bytes32 nullifier = keccak256("identity");
        bytes32 e = keccak256("elector");
        uint256 deadline = block.timestamp + 1 days;
        bytes32 digest = l.registrationDigest(PL, u, commitment, nullifier, e, commitment, deadline);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(U_KEY, digest);
        vm.prank(au);
        return l.propose(PL, u, commitment, nullifier, e, commitment, deadline, abi.encodePacked(r, s, v));
    }

    /// Finding 5: an unseated authority's earlier approval does not count towards k.
    function test_anUnseatedAuthorityNoLongerCountsTowardsK() public {
        address[] memory auths = new address[](3);
        (auths[0], auths[1], auths[2]) = (A, B, C);
        (CredentialLedger l, SittingAuthoritiesStub s) = _fresh(auths, 2);
        bytes32 id = _propose(l, A, keccak256("commitment"));
        s.reseat(A, false); // the next election unseats A
        vm.prank(B);
        l.approve(id);
        (bool granted, ) = l.access(vm.addr(U_KEY), PL);
        assertFalse(granted, "access granted with one sitting approver, k = 2");
        assertEq(uint256(l.registration(id).status), uint256(ICredentialLedger.Status.Pending), "still pending");
        vm.prank(C);
        l.approve(id); // B and C sit: k = 2 current approvers
        (granted, ) = l.access(vm.addr(U_KEY), PL);
        assertTrue(granted, "two sitting approvers grant access");
    }

    /// A pending registration with k stale approvals is not stuck: the operator cancels it and the
    /// user proposes again (before issue 17 nothing could decide it).
    function test_aPendingRegistrationWithKApprovalsCanBeCancelled() public {
        address[] memory auths = new address[](2);
        (auths[0], auths[1]) = (A, B);
        (CredentialLedger l, ) = _fresh(auths, 2);
        bytes32 id = _propose(l, A, keccak256("commitment"));
        address[] memory only = new address[](1);
        only[0] = A;
        vm.prank(ADMIN);
        l.setPlace(PL, only, 1);
        vm.prank(ADMIN);
        l.cancel(id);
        assertEq(uint256(l.registration(id).status), uint256(ICredentialLedger.Status.Cancelled), "cancelled");
        _propose(l, A, keccak256("another"));
        (bool granted, ) = l.access(vm.addr(U_KEY), PL);
        assertTrue(granted, "the user registers again");
    }

    /// Finding 7: a pending proposal expires after PENDING_TTL; only its user or the operator may
    /// cancel it before.
    function test_aPendingProposalExpiresAndOnlyItsUserOrTheOperatorCancelsIt() public {
        address[] memory auths = new address[](2);
        (auths[0], auths[1]) = (A, B);
        (CredentialLedger l, ) = _fresh(auths, 2);
        bytes32 id = _propose(l, A, keccak256("commitment"));
        vm.prank(C);
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__NotCancellable.selector, id, C));
        l.cancel(id);
        // the user's deadline (a day) comes before PENDING_TTL: it is the expiry (s23-rtm F5)
        uint256 expiry = l.registration(id).consentDeadline + 1;
        assertLt(expiry, block.timestamp + l.PENDING_TTL(), "the deadline first");
        vm.warp(block.timestamp + l.PENDING_TTL());
        vm.prank(B);
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__Expired.selector, id, expiry));
        l.approve(id);
        // expired: a new proposal is accepted without a cancellation
        _propose(l, A, keccak256("again"));
    }
}
