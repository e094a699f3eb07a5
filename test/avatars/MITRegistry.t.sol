// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {MITRegistry} from "../../contracts/avatars/MITRegistry.sol";
import {IMITRegistry} from "../../contracts/interfaces/IMITRegistry.sol";

/// @notice Drives an MITRegistry from seven accounts (the IdP, five actors, an outsider) over six
/// MIT serials and four avatars, with a model of every record. Disagreements are counted per
/// property; the invariants require zero.
contract MITRegistryHandler is Test {
    address public constant IDP = address(0x1D9);
    address public constant OUTSIDER = address(0x0B5E);
    uint256 public constant SERIALS = 6;
    uint256 public constant AVATARS = 4;
    bytes32 public constant ADMIN_ROLE = 0x00;
    bytes32 public constant IDP_ROLE = keccak256("IDP_ROLE");
    bytes32 public constant OTHER_ROLE = keccak256("OTHER_ROLE");

    uint256 public constant ONCE = 0; // an MIT issued twice, an avatar that changed owner
    uint256 public constant WRITER = 1; // an IdP-only write by an account without IDP_ROLE
    uint256 public constant DELEGATION = 2; // a revocation time that moved, a second live delegation
    uint256 public constant TRACE = 3; // a trace case that moved backwards or was decided twice
    uint256 public constant ROLES = 4; // a role change by an account without the admin role
    uint256 public constant MODEL = 5; // a call the rules accept was refused, or accepted one they reject
    uint256 public constant KINDS = 6;

    MITRegistry public immutable registry;
    address[] internal _accounts;

    uint256[KINDS] public violations;
    string[KINDS] public lastViolation;
    uint256 public time;

    mapping(bytes32 role => mapping(address => bool)) public ghostRole;
    mapping(bytes32 serial => IMITRegistry.MIT) internal _mit;
    mapping(bytes32 avatarId => IMITRegistry.Avatar) internal _avatar;
    mapping(uint256 id => IMITRegistry.Delegation) internal _delegation;
    mapping(bytes32 avatarId => uint256) public ghostActive;
    uint256 public delegationCount;
    mapping(uint256 id => IMITRegistry.TraceCase) internal _case;
    uint256 public caseCount;

    mapping(bytes32 action => uint256) public calls;

    constructor() {
        _accounts.push(IDP);
        for (uint256 i; i < 5; ++i) _accounts.push(address(uint160(0xC000 + i)));
        _accounts.push(OUTSIDER);
        registry = new MITRegistry(IDP);
        ghostRole[ADMIN_ROLE][IDP] = true;
        ghostRole[IDP_ROLE][IDP] = true;
        time = block.timestamp + 1000;
    }

    // ------------------------------------------------------------------ actions

    function issueMIT(uint256 callerSeed, uint256 serialSeed, uint256 keySeed, uint256 cidSeed) external {
        _sync();
        address caller = _caller(callerSeed);
        bytes32 serial = _serial(serialSeed);
        bytes32 keyId = keySeed % 16 == 15 ? bytes32(0) : keccak256(abi.encode("key", keySeed));
        string memory cid = cidSeed % 4 == 0 ? "" : string(abi.encodePacked("bafy", keccak256(abi.encode(cidSeed))));
        bool idp = ghostRole[IDP_ROLE][caller];
        bool ok = idp && serial != 0 && keyId != 0 && _mit[serial].status == IMITRegistry.MitStatus.None;
        vm.prank(caller);
        try registry.issueMIT(serial, keyId, cid) {
            ++calls["issueMIT"];
            if (!idp) _violate(WRITER, "issueMIT without IDP_ROLE");
            if (_mit[serial].status != IMITRegistry.MitStatus.None) _violate(ONCE, "MIT issued twice");
            if (!ok) _violate(MODEL, "issueMIT accepted");
            _mit[serial] = IMITRegistry.MIT(keyId, IMITRegistry.MitStatus.Active, uint40(time), cid);
        } catch {
            if (ok) _violate(MODEL, "issueMIT refused");
        }
    }

    function revokeMIT(uint256 callerSeed, uint256 serialSeed) external {
        _sync();
        if (serialSeed % 3 != 0) return; // one call in three: MITs live long enough to drive avatars
        serialSeed /= 3;
        address caller = _caller(callerSeed);
        bytes32 serial = _serial(serialSeed);
        bool idp = ghostRole[IDP_ROLE][caller];
        bool ok = idp && _mit[serial].status == IMITRegistry.MitStatus.Active;
        vm.prank(caller);
        try registry.revokeMIT(serial) {
            ++calls["revokeMIT"];
            if (!idp) _violate(WRITER, "revokeMIT without IDP_ROLE");
            if (!ok) _violate(MODEL, "revokeMIT accepted");
            _mit[serial].status = IMITRegistry.MitStatus.Revoked;
        } catch {
            if (ok) _violate(MODEL, "revokeMIT refused");
        }
    }

    function recordLogin(uint256 callerSeed, uint256 avatarSeed, uint256 ownerSeed, uint256 warrantSeed) external {
        _sync();
        address caller = _caller(callerSeed);
        bytes32 avatarId = _avatarId(avatarSeed);
        bytes32 owner = _serial(ownerSeed);
        // mostly the avatar's own owner once it has one, before that mostly an active MIT
        if (ownerSeed % 4 != 0) {
            owner = _avatar[avatarId].owner != 0 ? _avatar[avatarId].owner : _activeSerial(ownerSeed, 0, owner);
        }
        bytes32 warrant = warrantSeed % 16 == 15 ? bytes32(0) : keccak256(abi.encode("w", warrantSeed));
        bytes32 vid = keccak256(abi.encode("vid", warrantSeed % 3));
        // mostly a login warrant valid for up to two days (the handler's warps reach past it), sometimes expired
        uint64 notAfter = warrantSeed % 16 == 14 ? uint64(time - 1) : uint64(time + ((warrantSeed >> 8) % 2 days));
        bool idp = ghostRole[IDP_ROLE][caller];
        bytes32 prevOwner = _avatar[avatarId].owner;
        bool ok =
            idp &&
                avatarId != 0 &&
                warrant != 0 &&
                notAfter >= time &&
                _mit[owner].status == IMITRegistry.MitStatus.Active &&
                (prevOwner == 0 || prevOwner == owner);
        vm.prank(caller);
        try registry.recordLogin(avatarId, owner, warrant, vid, notAfter) {
            ++calls["recordLogin"];
            if (!idp) _violate(WRITER, "recordLogin without IDP_ROLE");
            if (prevOwner != 0 && prevOwner != owner) _violate(ONCE, "avatar changed owner");
            if (!ok) _violate(MODEL, "recordLogin accepted");
            _endGhostDelegation(avatarId);
            _avatar[avatarId] = IMITRegistry.Avatar(
                owner,
                owner,
                IMITRegistry.Driver.Human,
                uint40(time),
                notAfter,
                warrant,
                vid
            );
        } catch {
            if (ok) _violate(MODEL, "recordLogin refused");
        }
    }

    function recordDelegation(uint256 callerSeed, uint256 avatarSeed, uint256 proxySeed, uint256 warrantSeed) external {
        _sync();
        address caller = _caller(callerSeed);
        bytes32 avatarId = _avatarId(avatarSeed);
        bytes32 proxy = _serial(proxySeed);
        bytes32 warrant = warrantSeed % 16 == 15 ? bytes32(0) : keccak256(abi.encode("w", warrantSeed));
        // mostly a warrant valid for up to two days (the handler's warps reach past it), sometimes expired
        uint64 notAfter = warrantSeed % 16 == 14 ? uint64(time - 1) : uint64(time + ((warrantSeed >> 8) % 2 days));
        IMITRegistry.Avatar storage a = _avatar[avatarId];
        // mostly an active MIT other than the owner's
        if (proxySeed % 4 != 0) proxy = _activeSerial(proxySeed, a.owner, proxy);
        bool idp = ghostRole[IDP_ROLE][caller];
        bool ok =
            idp &&
                a.owner != 0 &&
                warrant != 0 &&
                proxy != a.owner &&
                notAfter >= time &&
                _mit[a.owner].status == IMITRegistry.MitStatus.Active &&
                _mit[proxy].status == IMITRegistry.MitStatus.Active;
        vm.prank(caller);
        try registry.recordDelegation(avatarId, proxy, warrant, notAfter) returns (uint256 id) {
            ++calls["recordDelegation"];
            if (!idp) _violate(WRITER, "recordDelegation without IDP_ROLE");
            if (!ok) _violate(MODEL, "recordDelegation accepted");
            _endGhostDelegation(avatarId);
            ++delegationCount;
            if (id != delegationCount) _violate(MODEL, "delegation id");
            _delegation[id] = IMITRegistry.Delegation(avatarId, a.owner, proxy, warrant, uint40(time), 0, notAfter);
            ghostActive[avatarId] = id;
            (a.driverSerial, a.driver, a.warrantHash, a.updatedAt, a.notAfter) = (
                proxy,
                IMITRegistry.Driver.AI,
                warrant,
                uint40(time),
                notAfter
            );
        } catch {
            if (ok) _violate(MODEL, "recordDelegation refused");
        }
    }

    function revokeDelegation(uint256 callerSeed, uint256 idSeed) external {
        _sync();
        address caller = _caller(callerSeed);
        // mostly a live delegation; else any id, 0 and count + 1 included (they do not exist)
        uint256 id = idSeed % (delegationCount + 2);
        if (idSeed % 4 != 0) {
            for (uint256 i; i < AVATARS; ++i) {
                uint256 live = ghostActive[_avatarId((idSeed / 4) + i)];
                if (live != 0) {
                    id = live;
                    break;
                }
            }
        }
        bool idp = ghostRole[IDP_ROLE][caller];
        IMITRegistry.Delegation storage d = _delegation[id];
        bool ok = idp && d.avatarId != 0 && d.revokedAt == 0;
        uint40 before = d.revokedAt;
        vm.prank(caller);
        try registry.revokeDelegation(id) {
            ++calls["revokeDelegation"];
            if (!idp) _violate(WRITER, "revokeDelegation without IDP_ROLE");
            if (before != 0) _violate(DELEGATION, "a revoked delegation was revoked again");
            if (!ok) _violate(MODEL, "revokeDelegation accepted");
            d.revokedAt = uint40(time);
            if (ghostActive[d.avatarId] == id) {
                ghostActive[d.avatarId] = 0;
                IMITRegistry.Avatar storage a = _avatar[d.avatarId];
                (a.driver, a.driverSerial, a.updatedAt) = (IMITRegistry.Driver.None, bytes32(0), uint40(time));
            }
        } catch {
            if (ok) _violate(MODEL, "revokeDelegation refused");
        }
    }

    /// Anyone asks for a trace.
    function requestTrace(uint256 callerSeed, uint256 avatarSeed, uint256 evidenceSeed) external {
        _sync();
        address caller = _pick(callerSeed);
        bytes32 avatarId = _avatarId(avatarSeed);
        bytes32 evidence = evidenceSeed % 16 == 15 ? bytes32(0) : keccak256(abi.encode("e", evidenceSeed));
        bool ok = _avatar[avatarId].owner != 0 && evidence != 0;
        vm.prank(caller);
        try registry.requestTrace(avatarId, evidence) returns (uint256 id) {
            ++calls["requestTrace"];
            if (!ok) _violate(MODEL, "requestTrace accepted");
            ++caseCount;
            if (id != caseCount) _violate(MODEL, "case id");
            _case[id] = IMITRegistry.TraceCase(
                avatarId,
                caller,
                IMITRegistry.TraceStatus.Open,
                uint40(time),
                evidence,
                bytes32(0),
                address(0),
                0
            );
        } catch {
            if (ok) _violate(MODEL, "requestTrace refused");
        }
    }

    function recordVerdict(uint256 callerSeed, uint256 caseSeed, bool traced, uint256 commitSeed) external {
        _sync();
        address caller = _caller(callerSeed);
        uint256 id = caseSeed % (caseCount + 2);
        bytes32 commitment = commitSeed % 8 == 7 ? bytes32(0) : keccak256(abi.encode("uid", commitSeed));
        bool idp = ghostRole[IDP_ROLE][caller];
        IMITRegistry.TraceCase storage c = _case[id];
        IMITRegistry.TraceStatus before = c.status;
        bool ok = idp && before == IMITRegistry.TraceStatus.Open && !(traced && commitment == 0);
        vm.prank(caller);
        try registry.recordVerdict(id, traced, commitment) {
            ++calls["recordVerdict"];
            if (!idp) _violate(WRITER, "recordVerdict without IDP_ROLE");
            if (before != IMITRegistry.TraceStatus.Open) _violate(TRACE, "verdict on a case that is not open");
            if (!ok) _violate(MODEL, "recordVerdict accepted");
            c.status = traced ? IMITRegistry.TraceStatus.InteractionTraced : IMITRegistry.TraceStatus.Rejected;
            c.verdictCommitment = commitment;
        } catch {
            if (ok) _violate(MODEL, "recordVerdict refused");
        }
    }

    /// Grants, revokes or renounces one of three roles, as an admin or anyone; the IdP keeps its own.
    function roles(uint256 op, uint256 callerSeed, uint256 roleSeed, uint256 targetSeed) external {
        _sync();
        bytes32 role =
            roleSeed % 3 == 0
                ? ADMIN_ROLE
                : roleSeed % 3 == 1
                    ? IDP_ROLE
                    : OTHER_ROLE;
        address target = _pick(targetSeed);
        if (target == IDP) return;
        // anyone, an admin, or a holder of the role itself (the escalation attempt)
        address caller =
            callerSeed % 3 == 0 ? _pick(callerSeed / 3) : _holder(callerSeed, callerSeed % 3 == 1 ? ADMIN_ROLE : role);
        bool isAdmin = ghostRole[ADMIN_ROLE][caller];
        vm.prank(caller);
        if (op % 3 == 0) {
            try registry.grantRole(role, target) {
                if (!isAdmin) _violate(ROLES, "grantRole without the admin role");
                ghostRole[role][target] = true;
            } catch {
                if (isAdmin) _violate(MODEL, "grantRole refused");
            }
        } else if (op % 3 == 1) {
            try registry.revokeRole(role, target) {
                if (!isAdmin) _violate(ROLES, "revokeRole without the admin role");
                ghostRole[role][target] = false;
            } catch {
                if (isAdmin) _violate(MODEL, "revokeRole refused");
            }
        } else {
            try registry.renounceRole(role, target) {
                if (target != caller) _violate(ROLES, "renounced someone else's role");
                ghostRole[role][caller] = false;
            } catch {
                if (target == caller && caller != IDP) _violate(MODEL, "renounceRole refused");
            }
        }
    }

    function warp(uint256 dt) external {
        time += bound(dt, 0, 1 days);
        _sync();
    }

    // ------------------------------------------------------------------ views for the invariants

    function accounts() external view returns (address[] memory) {
        return _accounts;
    }

    function serial(uint256 i) external pure returns (bytes32) {
        return _serial(i);
    }

    function avatarId(uint256 i) external pure returns (bytes32) {
        return _avatarId(i);
    }

    function ghostMit(bytes32 s) external view returns (IMITRegistry.MIT memory) {
        return _mit[s];
    }

    function ghostAvatar(bytes32 a) external view returns (IMITRegistry.Avatar memory) {
        return _avatar[a];
    }

    function ghostDelegation(uint256 id) external view returns (IMITRegistry.Delegation memory) {
        return _delegation[id];
    }

    function ghostCase(uint256 id) external view returns (IMITRegistry.TraceCase memory) {
        return _case[id];
    }

    // ------------------------------------------------------------------ helpers

    function _endGhostDelegation(bytes32 avatarId_) internal {
        uint256 id = ghostActive[avatarId_];
        if (id == 0) return;
        if (_delegation[id].revokedAt != 0) _violate(DELEGATION, "the active delegation was already revoked");
        _delegation[id].revokedAt = uint40(time);
        ghostActive[avatarId_] = 0;
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

    /// Mostly an IDP_ROLE holder, one time in four anyone.
    function _caller(uint256 seed) internal view returns (address) {
        return seed % 4 == 0 ? _pick(seed / 4) : _holder(seed, IDP_ROLE);
    }

    function _holder(uint256 seed, bytes32 role) internal view returns (address) {
        for (uint256 i; i < _accounts.length; ++i) {
            address a = _accounts[((seed % _accounts.length) + i) % _accounts.length];
            if (ghostRole[role][a]) return a;
        }
        return _pick(seed);
    }

    /// An active serial other than `exclude`, from a seeded start; `fallback_` if none.
    function _activeSerial(uint256 seed, bytes32 exclude, bytes32 fallback_) internal view returns (bytes32) {
        for (uint256 i; i < SERIALS; ++i) {
            bytes32 s = keccak256(abi.encode("serial", ((seed % SERIALS) + i) % SERIALS));
            if (s != exclude && _mit[s].status == IMITRegistry.MitStatus.Active) return s;
        }
        return fallback_;
    }

    /// Six serials and, one time in sixteen, zero.
    function _serial(uint256 seed) internal pure returns (bytes32) {
        return seed % 16 == 15 ? bytes32(0) : keccak256(abi.encode("serial", seed % SERIALS));
    }

    /// Four avatars and, one time in sixteen, zero.
    function _avatarId(uint256 seed) internal pure returns (bytes32) {
        return seed % 16 == 15 ? bytes32(0) : keccak256(abi.encode("avatar", seed % AVATARS));
    }
}

/// @notice Invariants of the MIT registry under random IdP, actor and outsider calls.
/// forge-config: default.invariant.runs = 32
/// forge-config: default.invariant.depth = 128
/// forge-config: default.invariant.check_interval = 8
/// forge-config: ci.invariant.runs = 64
/// forge-config: ci.invariant.depth = 128
/// forge-config: ci.invariant.check_interval = 8
contract MITRegistryInvariantTest is Test {
    MITRegistryHandler internal handler;
    MITRegistry internal registry;

    function setUp() public {
        handler = new MITRegistryHandler();
        registry = handler.registry();
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    function _noViolation(uint256 kind) internal view {
        assertEq(handler.violations(kind), 0, handler.lastViolation(kind));
    }

    /// An MIT is issued once and never rewritten (key, time, CID fixed; status None -> Active ->
    /// Revoked); an avatar's owner is set once.
    function invariant_mitsAndAvatarsRecordedOnce() public view {
        _noViolation(handler.ONCE());
        for (uint256 i; i < handler.SERIALS(); ++i) {
            bytes32 s = handler.serial(i);
            IMITRegistry.MIT memory m = registry.mit(s);
            IMITRegistry.MIT memory g = handler.ghostMit(s);
            assertEq(m.keyId, g.keyId, "keyId");
            assertEq(uint256(m.status), uint256(g.status), "MIT status");
            assertEq(m.issuedAt, g.issuedAt, "issuedAt");
            assertEq(bytes(m.paramsCid), bytes(g.paramsCid), "paramsCid");
            assertTrue(registry.isActive(s) == (g.status == IMITRegistry.MitStatus.Active), "isActive");
        }
        assertEq(uint256(registry.mit(bytes32(0)).status), 0, "MIT zero");
        for (uint256 i; i < handler.AVATARS(); ++i) {
            bytes32 a = handler.avatarId(i);
            assertEq(registry.avatar(a).owner, handler.ghostAvatar(a).owner, "avatar owner");
        }
    }

    /// `avatarStanding` (a hello's check in one read, issue 20) is, in every state the handler
    /// reaches, the separate reads it replaces: the avatar's record, its owner's and its driver's
    /// MIT, and `isVerified` (the unknown avatar 0 included).
    function invariant_avatarStandingIsTheSeparateReads() public view {
        for (uint256 i; i <= handler.AVATARS(); ++i) {
            bytes32 a = i < handler.AVATARS() ? handler.avatarId(i) : bytes32(0);
            IMITRegistry.AvatarStanding memory s = registry.avatarStanding(a);
            IMITRegistry.Avatar memory av = registry.avatar(a);
            assertEq(keccak256(abi.encode(s.avatar)), keccak256(abi.encode(av)), "standing: the record");
            IMITRegistry.MIT memory owner = registry.mit(av.owner);
            IMITRegistry.MIT memory driver = registry.mit(av.driverSerial);
            assertEq(uint256(s.ownerStatus), uint256(owner.status), "standing: owner's status");
            assertEq(s.ownerKeyId, owner.keyId, "standing: owner's key");
            assertEq(uint256(s.driverStatus), uint256(driver.status), "standing: driver's status");
            assertEq(s.driverKeyId, driver.keyId, "standing: driver's key");
            assertTrue(s.verified == registry.isVerified(a), "standing: isVerified");
            // and from the definition, not through the contract's own _verifies (which both share)
            bool expected =
                av.driver != IMITRegistry.Driver.None &&
                    block.timestamp <= av.notAfter &&
                    owner.status == IMITRegistry.MitStatus.Active &&
                    driver.status == IMITRegistry.MitStatus.Active;
            assertTrue(s.verified == expected, "standing: verified by its definition");
        }
    }

    /// Every record is exactly what the IdP wrote: no write by anyone else shows up anywhere.
    function invariant_onlyTheIdpWrites() public view {
        _noViolation(handler.WRITER());
        _noViolation(handler.MODEL());
        for (uint256 i; i < handler.AVATARS(); ++i) {
            bytes32 a = handler.avatarId(i);
            assertEq(
                keccak256(abi.encode(registry.avatar(a))),
                keccak256(abi.encode(handler.ghostAvatar(a))),
                "avatar record"
            );
            IMITRegistry.Avatar memory g = handler.ghostAvatar(a);
            // a driver only while its warrant lasts: an AI's delegation (h7-audit: it stayed verified
            // after notAfter) and the owner's login (h9-red F4: a login verified for ever)
            uint64 end =
                g.driver == IMITRegistry.Driver.AI
                    ? handler.ghostDelegation(handler.ghostActive(a)).notAfter
                    : g.notAfter;
            bool verified =
                g.driver != IMITRegistry.Driver.None &&
                    block.timestamp <= end &&
                    registry.isActive(g.driverSerial) &&
                    registry.isActive(g.owner);
            assertTrue(registry.isVerified(a) == verified, "isVerified");
        }
        assertTrue(!registry.isVerified(bytes32(0)), "avatar zero verified");
    }

    /// A delegation's revocation time is set once and never moves, never before its creation; an
    /// avatar has at most one live delegation, the active one, and then an AI driver.
    function invariant_delegationRevocationTimesMonotone() public view {
        _noViolation(handler.DELEGATION());
        uint256 n = handler.delegationCount();
        uint256[] memory live = new uint256[](handler.AVATARS());
        for (uint256 id = 1; id <= n + 1; ++id) {
            IMITRegistry.Delegation memory d = registry.delegation(id);
            IMITRegistry.Delegation memory g = handler.ghostDelegation(id);
            assertEq(keccak256(abi.encode(d)), keccak256(abi.encode(g)), "delegation record");
            if (d.revokedAt != 0) assertGe(d.revokedAt, d.createdAt, "revoked before created");
            if (d.avatarId != 0 && d.revokedAt == 0) {
                for (uint256 i; i < handler.AVATARS(); ++i) if (handler.avatarId(i) == d.avatarId) ++live[i];
                assertEq(registry.activeDelegation(d.avatarId), id, "the live delegation is the active one");
            }
        }
        for (uint256 i; i < handler.AVATARS(); ++i) {
            bytes32 a = handler.avatarId(i);
            assertLe(live[i], 1, "two live delegations");
            uint256 active = registry.activeDelegation(a);
            assertEq(active, handler.ghostActive(a), "activeDelegation");
            IMITRegistry.Avatar memory av = registry.avatar(a);
            assertTrue((active != 0) == (av.driver == IMITRegistry.Driver.AI), "AI driver iff active delegation");
            if (active != 0) assertEq(av.driverSerial, registry.delegation(active).proxySerial, "driver = proxy");
        }
    }

    /// A trace case moves None -> Open -> Traced | Rejected and is decided at most once; a traced
    /// case has a verdict commitment.
    function invariant_traceCasesOnlyMoveForward() public view {
        _noViolation(handler.TRACE());
        uint256 n = handler.caseCount();
        for (uint256 id; id <= n + 1; ++id) {
            IMITRegistry.TraceCase memory c = registry.traceCase(id);
            assertEq(keccak256(abi.encode(c)), keccak256(abi.encode(handler.ghostCase(id))), "trace case");
            if (c.status == IMITRegistry.TraceStatus.InteractionTraced)
                assertTrue(c.verdictCommitment != 0, "traced, no verdict");
            assertTrue((id >= 1 && id <= n) == (c.status != IMITRegistry.TraceStatus.None), "case ids");
        }
    }

    /// Roles change only by the admin (or by renouncing one's own).
    function invariant_rolesNotEscalated() public view {
        _noViolation(handler.ROLES());
        address[] memory a = handler.accounts();
        bytes32[3] memory roles = [handler.ADMIN_ROLE(), handler.IDP_ROLE(), handler.OTHER_ROLE()];
        for (uint256 i; i < a.length; ++i)
            for (uint256 k; k < 3; ++k)
                assertTrue(registry.hasRole(roles[k], a[i]) == handler.ghostRole(roles[k], a[i]), "hasRole");
        for (uint256 k; k < 3; ++k) assertTrue(!registry.hasRole(roles[k], address(handler)), "handler has a role");
    }
}

/// @notice Malformed input and outsiders, one external function at a time: each call is rejected
/// with its error and leaves every record as it was.
contract MITRegistryMalformedInputTest is Test {
    address internal constant IDP = address(0x1D9);
    bytes32 internal constant ALICE = keccak256("alice");
    bytes32 internal constant PROXY = keccak256("proxy");
    bytes32 internal constant AV = keccak256("av");
    MITRegistry internal registry;

    function setUp() public {
        registry = new MITRegistry(IDP);
        vm.startPrank(IDP);
        registry.issueMIT(ALICE, keccak256("key-a"), "bafy-a");
        registry.issueMIT(PROXY, keccak256("key-p"), "bafy-p");
        registry.recordLogin(AV, ALICE, keccak256("h1"), keccak256("vid"), uint64(block.timestamp + 1 days));
        registry.recordDelegation(AV, PROXY, keccak256("h2"), uint64(block.timestamp + 1 days));
        registry.requestTrace(AV, keccak256("evidence"));
        vm.stopPrank();
    }

    function _state() internal view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    registry.mit(ALICE),
                    registry.mit(PROXY),
                    registry.avatar(AV),
                    registry.delegation(1),
                    registry.delegation(2),
                    registry.traceCase(1),
                    registry.traceCase(2),
                    registry.activeDelegation(AV)
                )
            );
    }

    function _unauthorized(address who) internal pure returns (bytes memory) {
        return abi.encodeWithSignature("AccessControlUnauthorizedAccount(address,bytes32)", who, keccak256("IDP_ROLE"));
    }

    /// An outsider (any account without IDP_ROLE) cannot issue, revoke, log in, delegate, revoke a
    /// delegation or record a verdict, whatever the arguments.
    function testFuzz_anOutsiderWritesNothing(address who, bytes32 a, bytes32 b, bytes32 c, uint256 id) public {
        vm.assume(who != IDP);
        bytes32 before = _state();
        bytes[6] memory data = [
            abi.encodeCall(registry.issueMIT, (a, b, "x")),
            abi.encodeCall(registry.revokeMIT, (ALICE)),
            abi.encodeCall(registry.recordLogin, (AV, ALICE, a, b, uint64(block.timestamp + 1))),
            abi.encodeCall(registry.recordDelegation, (AV, PROXY, c, uint64(block.timestamp + 1))),
            abi.encodeCall(registry.revokeDelegation, (bound(id, 0, 2))),
            abi.encodeCall(registry.recordVerdict, (1, true, c))
        ];
        for (uint256 i; i < data.length; ++i) {
            vm.prank(who);
            (bool ok, bytes memory ret) = address(registry).call(data[i]);
            assertFalse(ok, "an outsider wrote");
            assertEq(ret, _unauthorized(who), "error");
        }
        assertEq(_state(), before, "state changed");
    }

    /// issueMIT: a zero serial or key is InvalidInput; an issued serial is MitExists, whatever key
    /// and CID (of any length) come with it.
    function testFuzz_issueMIT_malformed(bytes32 serial, bytes32 keyId, string calldata cid, uint8 which) public {
        bytes32 before = _state();
        if (which % 3 == 0) serial = 0;
        else if (which % 3 == 1) keyId = 0;
        else {
            serial = which % 2 == 0 ? ALICE : PROXY;
            if (keyId == 0) keyId = bytes32(uint256(1));
        }
        bytes memory err =
            serial == 0 || keyId == 0
                ? abi.encodeWithSelector(IMITRegistry.MITRegistry__InvalidInput.selector)
                : abi.encodeWithSelector(IMITRegistry.MITRegistry__MitExists.selector, serial);
        vm.prank(IDP);
        vm.expectRevert(err);
        registry.issueMIT(serial, keyId, cid);
        assertEq(_state(), before, "state changed");
    }

    /// A CID of any length is stored byte for byte.
    function testFuzz_issueMIT_storesTheCid(bytes32 serial, bytes32 keyId, string calldata cid) public {
        vm.assume(serial != 0 && keyId != 0 && serial != ALICE && serial != PROXY);
        vm.prank(IDP);
        registry.issueMIT(serial, keyId, cid);
        assertEq(bytes(registry.mit(serial).paramsCid), bytes(cid), "cid");
        assertEq(registry.mit(serial).keyId, keyId, "keyId");
    }

    /// recordLogin: zero avatar or warrant, an unknown or revoked owner, another owner's avatar, an
    /// expired login warrant.
    function testFuzz_recordLogin_malformed(bytes32 avatarId, bytes32 owner, bytes32 warrant, uint8 which) public {
        bytes32 before = _state();
        bytes memory err;
        uint256 w = which % 5;
        uint64 notAfter = uint64(block.timestamp + 1 days);
        if (w == 4) {
            vm.assume(warrant != 0);
            (avatarId, owner) = (AV, ALICE);
            vm.warp(1_000_000);
            notAfter = uint64(block.timestamp - 1 - (uint256(warrant) % 1000));
            err = abi.encodeWithSelector(IMITRegistry.MITRegistry__WarrantExpired.selector, notAfter, block.timestamp);
        } else if (w == 0) {
            (avatarId, warrant) = (which % 8 == 0 ? bytes32(0) : AV, which % 8 == 0 ? warrant : bytes32(0));
            owner = ALICE;
            err = abi.encodeWithSelector(IMITRegistry.MITRegistry__InvalidInput.selector);
        } else if (w == 1) {
            vm.assume(owner != ALICE && owner != PROXY && avatarId != 0 && warrant != 0);
            err = abi.encodeWithSelector(IMITRegistry.MITRegistry__MitNotActive.selector, owner);
        } else if (w == 2) {
            vm.assume(avatarId != 0 && warrant != 0);
            vm.prank(IDP);
            registry.revokeMIT(PROXY);
            before = _state();
            owner = PROXY;
            err = abi.encodeWithSelector(IMITRegistry.MITRegistry__MitNotActive.selector, owner);
        } else {
            vm.assume(warrant != 0);
            (avatarId, owner) = (AV, PROXY); // PROXY's MIT is active, but AV is ALICE's
            err = abi.encodeWithSelector(IMITRegistry.MITRegistry__NotOwner.selector, AV, PROXY);
        }
        vm.prank(IDP);
        vm.expectRevert(err);
        registry.recordLogin(avatarId, owner, warrant, keccak256("vid"), notAfter);
        assertEq(_state(), before, "state changed");
    }

    /// recordDelegation: an unknown avatar, a zero warrant, the owner as its own proxy, an unknown
    /// proxy, an expired warrant.
    function testFuzz_recordDelegation_malformed(bytes32 avatarId, bytes32 proxy, bytes32 warrant, uint8 which) public {
        bytes32 before = _state();
        bytes memory err;
        uint256 w = which % 5;
        uint64 notAfter = uint64(block.timestamp + 1 days);
        if (w == 4) {
            (avatarId, proxy) = (AV, PROXY);
            vm.assume(warrant != 0);
            vm.warp(1_000_000);
            notAfter = uint64(block.timestamp - 1 - (uint256(warrant) % 1000));
            err = abi.encodeWithSelector(IMITRegistry.MITRegistry__WarrantExpired.selector, notAfter, block.timestamp);
        } else if (w == 0) {
            vm.assume(avatarId != AV);
            err = abi.encodeWithSelector(IMITRegistry.MITRegistry__UnknownAvatar.selector, avatarId);
        } else if (w == 1) {
            (avatarId, proxy, warrant) = (AV, which % 8 == 1 ? ALICE : PROXY, which % 8 == 1 ? warrant : bytes32(0));
            err = abi.encodeWithSelector(IMITRegistry.MITRegistry__InvalidInput.selector);
        } else {
            vm.assume(proxy != ALICE && proxy != PROXY && warrant != 0);
            avatarId = AV;
            err = abi.encodeWithSelector(IMITRegistry.MITRegistry__MitNotActive.selector, proxy);
        }
        vm.prank(IDP);
        vm.expectRevert(err);
        registry.recordDelegation(avatarId, proxy, warrant, notAfter);
        assertEq(_state(), before, "state changed");
    }

    /// A delegated avatar verifies until its warrant's notAfter (inclusive) and not a second later;
    /// the owner's next login makes it verify again (h7-audit: it stayed verified after expiry).
    function testFuzz_delegatedAvatarStopsVerifyingAtWarrantExpiry(uint32 ttl, uint32 late) public {
        uint64 notAfter = uint64(block.timestamp + bound(ttl, 0, 365 days));
        vm.prank(IDP);
        registry.recordDelegation(AV, PROXY, keccak256("h3"), notAfter);
        assertEq(registry.delegation(2).notAfter, notAfter, "notAfter recorded");
        assertTrue(registry.isVerified(AV), "verified while the warrant lasts");
        vm.warp(notAfter);
        assertTrue(registry.isVerified(AV), "verified at notAfter");
        vm.warp(uint256(notAfter) + 1 + bound(late, 0, 365 days));
        assertTrue(!registry.isVerified(AV), "verified after the warrant expired");
        vm.prank(IDP);
        registry.recordLogin(AV, ALICE, keccak256("h4"), keccak256("vid"), uint64(block.timestamp + 1 days));
        assertTrue(registry.isVerified(AV), "the owner's login");
    }

    /// A human login verifies its avatar until the login warrant's notAfter (inclusive) and not a
    /// second later (h9-red F4: recordLogin did not take notAfter, so one login verified the avatar,
    /// and TrustManager.isIdentityVerified with it, for ever); the next login verifies it again.
    function testFuzz_loggedInAvatarStopsVerifyingAtLoginWarrantExpiry(uint32 ttl, uint32 late) public {
        uint64 notAfter = uint64(block.timestamp + bound(ttl, 0, 2 days));
        vm.prank(IDP);
        vm.expectEmit();
        emit IMITRegistry.AvatarLoggedIn(AV, ALICE, keccak256("h5"), keccak256("vid"), notAfter);
        registry.recordLogin(AV, ALICE, keccak256("h5"), keccak256("vid"), notAfter);
        assertEq(registry.avatar(AV).notAfter, notAfter, "notAfter recorded");
        assertTrue(registry.isVerified(AV), "verified right after the login");
        vm.warp(notAfter);
        assertTrue(registry.isVerified(AV), "verified at notAfter");
        vm.warp(uint256(notAfter) + 1 + bound(late, 0, 365 days));
        assertFalse(registry.isVerified(AV), "a login verified its avatar after the login warrant expired");
        vm.prank(IDP);
        registry.recordLogin(AV, ALICE, keccak256("h6"), keccak256("vid"), uint64(block.timestamp + 1 days));
        assertTrue(registry.isVerified(AV), "the owner's next login");
    }

    /// revokeDelegation: id 0 or beyond the count is unknown; a revoked one is AlreadyRevoked, and
    /// its revocation time does not move.
    function testFuzz_revokeDelegation_malformed(uint256 id, uint32 later) public {
        if (id != 0) id = bound(id, 2, type(uint256).max);
        bytes32 before = _state();
        vm.prank(IDP);
        vm.expectRevert(abi.encodeWithSelector(IMITRegistry.MITRegistry__UnknownDelegation.selector, id));
        registry.revokeDelegation(id);
        assertEq(_state(), before, "state changed");
        vm.prank(IDP);
        registry.revokeDelegation(1);
        uint40 at = registry.delegation(1).revokedAt;
        vm.warp(block.timestamp + later);
        bytes32 revoked = _state();
        vm.prank(IDP);
        vm.expectRevert(abi.encodeWithSelector(IMITRegistry.MITRegistry__AlreadyRevoked.selector, 1));
        registry.revokeDelegation(1);
        assertEq(registry.delegation(1).revokedAt, at, "revocation time moved");
        assertEq(_state(), revoked, "state changed");
    }

    /// requestTrace: an unknown avatar or a zero evidence hash, from anyone.
    function testFuzz_requestTrace_malformed(address who, bytes32 avatarId, bytes32 evidence, bool unknown) public {
        bytes32 before = _state();
        bytes memory err;
        if (unknown && avatarId != AV) {
            err = abi.encodeWithSelector(IMITRegistry.MITRegistry__UnknownAvatar.selector, avatarId);
        } else {
            (avatarId, evidence) = (AV, 0);
            err = abi.encodeWithSelector(IMITRegistry.MITRegistry__InvalidInput.selector);
        }
        vm.prank(who);
        vm.expectRevert(err);
        registry.requestTrace(avatarId, evidence);
        assertEq(_state(), before, "state changed");
    }

    /// recordVerdict: an unknown case, a traced verdict without commitment, a second verdict.
    function testFuzz_recordVerdict_malformed(uint256 id, bool traced, bytes32 commitment) public {
        bytes32 before = _state();
        if (id != 1) {
            vm.prank(IDP);
            vm.expectRevert(abi.encodeWithSelector(IMITRegistry.MITRegistry__UnknownCase.selector, id));
            registry.recordVerdict(id, traced, commitment);
        } else {
            vm.prank(IDP);
            vm.expectRevert(abi.encodeWithSelector(IMITRegistry.MITRegistry__InvalidInput.selector));
            registry.recordVerdict(1, true, bytes32(0));
        }
        assertEq(_state(), before, "state changed");
        vm.assume(!traced || commitment != 0);
        vm.prank(IDP);
        registry.recordVerdict(1, traced, commitment);
        bytes32 decided = _state();
        vm.prank(IDP);
        vm.expectRevert(abi.encodeWithSelector(IMITRegistry.MITRegistry__CaseClosed.selector, 1));
        registry.recordVerdict(1, !traced, keccak256("other"));
        assertEq(_state(), decided, "a decided case moved");
    }
}
