// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Test} from "../helpers/forge/Test.sol";
import {CurvePoints} from "./CurvePoints.sol";
import {RsmsInputs} from "./RsmsInputs.sol";
import {ResourcePoolRegistry} from "../../contracts/rsms/ResourcePoolRegistry.sol";
import {IResourcePoolRegistry as IRPR} from "../../contracts/interfaces/IResourcePoolRegistry.sol";

/// @notice Drives every state-changing function of a ResourcePoolRegistry (the five MSRP writes and
/// AccessControl's grantRole / revokeRole / renounceRole) from a small set of actors with bounded,
/// valid-looking arguments. Before each call a plain reference model (the ghosts) predicts the
/// outcome: success, or the exact revert data. Each call's outcome is compared with it, rejected
/// calls are checked to leave the registry's observable state unchanged, and a success by a caller
/// that lacked the needed role (read from the chain before the call) is counted. Ghosts change only
/// on predicted successes, so the invariants compare the chain against a model that never wrote
/// anything twice. fail_on_revert is false, but the handler itself never reverts on a rejected call:
/// it catches and classifies them.
contract RprHandler is Test {
    ResourcePoolRegistry public immutable registry;

    bytes32 public constant ADMIN = 0x00;
    bytes32 public constant MSRP = keccak256("MSRP_ROLE");
    bytes32 public constant RPM = keccak256("RPM_ROLE");
    /// A role the registry never uses: only the admin may hand it out.
    bytes32 public constant OTHER = keccak256("OTHER_ROLE");

    uint256 public constant N_ACTORS = 5;
    uint256 public constant N_POOLS = 8;
    uint256 public constant N_KEYS = 12;
    uint256 public constant N_ROLES = 4;

    /// actors[0] is the MSRP (admin and MSRP role at deployment); the others start with no role.
    address[N_ACTORS] internal _actors;

    // ---- ghosts: the reference model ----
    mapping(uint32 poolId => IRPR.Pool) internal _gPool;
    mapping(uint32 poolId => mapping(uint32 epoch => bytes32)) internal _gFilter;
    mapping(bytes32 pid => IRPR.PidRecord) internal _gRecord;
    mapping(bytes32 tag => bytes32 pid) internal _gPidOfTag;
    mapping(bytes32 role => mapping(address account => bool)) internal _gRole;
    uint256 public gJoinCount;

    // ---- outcome counters ----
    uint256 public calls;
    uint256 public accepted;
    uint256 public rejected;
    /// calls whose outcome (success or revert data) differed from the model's prediction
    uint256 public mismatches;
    string public lastMismatch;
    bytes public lastMismatchData;
    /// per function (first 4 bytes of keccak of its name) and outcome (0 = success, else the error selector)
    mapping(bytes4 fn => mapping(bytes4 outcome => uint256)) public outcomes;
    /// successful writes by a caller that lacked the required role just before the call
    uint256 public unauthorizedWrites;
    /// rejected calls after which the registry's observable state differed
    uint256 public rejectedChanged;

    uint256 internal _now = 1_700_000_000;

    constructor(ResourcePoolRegistry registry_, address msrp) {
        registry = registry_;
        _actors[0] = msrp;
        _actors[1] = address(0xA11CE);
        _actors[2] = address(0xB0B);
        _actors[3] = address(0xCA401);
        _actors[4] = address(0xDA7E);
        _gRole[ADMIN][msrp] = true;
        _gRole[MSRP][msrp] = true;
    }

    // ================= handler entry points =================

    function createPool(
        uint256 actorSeed,
        uint256 poolSeed,
        uint256 rpmSeed,
        uint256 pidSeed,
        uint256 pkSeed
    ) external {
        _tick();
        actorSeed = _mix(actorSeed, 0);
        poolSeed = _mix(poolSeed, 1);
        rpmSeed = _mix(rpmSeed, 2);
        pidSeed = _mix(pidSeed, 3);
        pkSeed = _mix(pkSeed, 4);
        address caller = _actor(actorSeed);
        uint32 poolId = _poolId(poolSeed);
        address rpm = rpmSeed % 8 == 7 ? address(0) : _actors[(rpmSeed >> 8) % N_ACTORS];
        bytes32 pidRpm = pidSeed % 8 == 7 ? bytes32(0) : keccak256(abi.encode("pid-rpm", pidSeed));
        bytes memory pk = pkSeed % 4 == 0 ? RsmsInputs.point(pkSeed >> 2) : RsmsInputs.validPoint(pkSeed >> 2);

        bytes memory expected;
        if (!_gRole[MSRP][caller]) expected = _unauthorized(caller, MSRP);
        else if (poolId == 0 || _gPool[poolId].rpm != address(0))
            expected = _err1(IRPR.ResourcePoolRegistry__PoolExists.selector, poolId);
        else if (!_validPool(rpm, pidRpm, pk))
            expected = _err1(IRPR.ResourcePoolRegistry__InvalidPool.selector, poolId);

        bool authorized = registry.hasRole(MSRP, caller);
        (bool ok, ) = _exec(
            "createPool",
            caller,
            authorized,
            abi.encodeCall(IRPR.createPool, (poolId, rpm, pidRpm, pk)),
            expected,
            _probe(poolId, rpm)
        );
        if (ok && expected.length == 0) {
            _gPool[poolId] = IRPR.Pool(rpm, uint8(pk[0]), 0, pidRpm, RsmsInputs.xOf(pk));
            _gRole[RPM][rpm] = true;
        }
    }

    function updatePool(
        uint256 actorSeed,
        uint256 poolSeed,
        uint256 rpmSeed,
        uint256 pidSeed,
        uint256 pkSeed
    ) external {
        _tick();
        actorSeed = _mix(actorSeed, 0);
        poolSeed = _mix(poolSeed, 1);
        rpmSeed = _mix(rpmSeed, 2);
        pidSeed = _mix(pidSeed, 3);
        pkSeed = _mix(pkSeed, 4);
        address caller = _actor(actorSeed);
        uint32 poolId = _poolId(poolSeed);
        address rpm = rpmSeed % 8 == 7 ? address(0) : _actors[(rpmSeed >> 8) % N_ACTORS];
        bytes32 pidRpm = pidSeed % 8 == 7 ? bytes32(0) : keccak256(abi.encode("pid-rpm", pidSeed));
        bytes memory pk = pkSeed % 4 == 0 ? RsmsInputs.point(pkSeed >> 2) : RsmsInputs.validPoint(pkSeed >> 2);

        bytes memory expected;
        if (!_gRole[MSRP][caller]) expected = _unauthorized(caller, MSRP);
        else if (_gPool[poolId].rpm == address(0))
            expected = _err1(IRPR.ResourcePoolRegistry__UnknownPool.selector, poolId);
        else if (!_validPool(rpm, pidRpm, pk))
            expected = _err1(IRPR.ResourcePoolRegistry__InvalidPool.selector, poolId);

        bool authorized = registry.hasRole(MSRP, caller);
        (bool ok, ) = _exec(
            "updatePool",
            caller,
            authorized,
            abi.encodeCall(IRPR.updatePool, (poolId, rpm, pidRpm, pk)),
            expected,
            _probe(poolId, rpm)
        );
        if (ok && expected.length == 0) {
            // The epochs carry over; the old RPM keeps its role (revoked explicitly by the admin).
            _gPool[poolId] = IRPR.Pool(rpm, uint8(pk[0]), _gPool[poolId].epochs, pidRpm, RsmsInputs.xOf(pk));
            _gRole[RPM][rpm] = true;
        }
    }

    function publishFilter(
        uint256 actorSeed,
        uint256 poolSeed,
        uint256 rootSeed,
        uint256 cidSeed,
        uint256 capSeed,
        uint256 lambdaSeed
    ) external {
        _tick();
        actorSeed = _mix(actorSeed, 0);
        poolSeed = _mix(poolSeed, 1);
        rootSeed = _mix(rootSeed, 2);
        cidSeed = _mix(cidSeed, 3);
        capSeed = _mix(capSeed, 4);
        lambdaSeed = _mix(lambdaSeed, 5);
        address caller = _actor(actorSeed);
        uint32 poolId = _poolId(poolSeed);
        bytes32 root = rootSeed % 8 == 7 ? bytes32(0) : keccak256(abi.encode("root", rootSeed));
        string memory cid = _cid(cidSeed);
        uint32 capacity = capSeed % 8 == 7 ? 0 : uint32(bound(capSeed >> 8, 1, type(uint32).max));
        uint8 lambda = _lambda(lambdaSeed);

        bytes memory expected;
        if (!_gRole[MSRP][caller]) expected = _unauthorized(caller, MSRP);
        else if (_gPool[poolId].rpm == address(0))
            expected = _err1(IRPR.ResourcePoolRegistry__UnknownPool.selector, poolId);
        else if (root == 0 || bytes(cid).length == 0 || capacity == 0 || lambda == 0 || lambda > 64) {
            expected = _err1(IRPR.ResourcePoolRegistry__InvalidFilter.selector, poolId);
        }

        bool authorized = registry.hasRole(MSRP, caller);
        (bool ok, bytes memory ret) = _exec(
            "publishFilter",
            caller,
            authorized,
            abi.encodeCall(IRPR.publishFilter, (poolId, root, cid, capacity, lambda)),
            expected,
            _probe(poolId, address(0))
        );
        if (ok && expected.length == 0) {
            uint32 epoch = _gPool[poolId].epochs;
            if (abi.decode(ret, (uint32)) != epoch)
                _mismatch("publishFilter", "returned epoch is not the next one", ret);
            _gFilter[poolId][epoch] = keccak256(
                abi.encode(IRPR.FilterRoot(root, capacity, lambda, uint64(block.timestamp), cid))
            );
            _gPool[poolId].epochs = epoch + 1;
        }
    }

    function recordJoin(uint256 actorSeed, uint256 itemSeed) external {
        _tick();
        actorSeed = _mix(actorSeed, 0);
        itemSeed = _mix(itemSeed, 1);
        address caller = _actor(actorSeed);
        IRPR.JoinInput[] memory js = new IRPR.JoinInput[](1);
        js[0] = _item(itemSeed);

        bytes memory expected;
        if (!_gRole[MSRP][caller]) expected = _unauthorized(caller, MSRP);
        else expected = _expectItem(js, 0);

        bool authorized = registry.hasRole(MSRP, caller);
        IRPR.JoinInput memory j = js[0];
        (bool ok, ) = _exec(
            "recordJoin",
            caller,
            authorized,
            abi.encodeCall(IRPR.recordJoin, (j.pid, j.tag, j.poolId, j.kind)),
            expected,
            _probeItems(js)
        );
        if (ok && expected.length == 0) _applyItems(js);
    }

    function recordJoins(uint256 actorSeed, uint256 nSeed, uint256[4] calldata itemSeeds) external {
        _tick();
        actorSeed = _mix(actorSeed, 0);
        nSeed = _mix(nSeed, 1);
        address caller = _actor(actorSeed);
        IRPR.JoinInput[] memory js = new IRPR.JoinInput[](nSeed % 5);
        for (uint256 i; i < js.length; ++i) js[i] = _item(_mix(itemSeeds[i], 10 + i));

        bytes memory expected;
        if (!_gRole[MSRP][caller]) expected = _unauthorized(caller, MSRP);
        else if (js.length == 0) expected = abi.encodeWithSelector(IRPR.ResourcePoolRegistry__EmptyBatch.selector);
        else {
            for (uint256 i; i < js.length && expected.length == 0; ++i) expected = _expectItem(js, i);
        }

        bool authorized = registry.hasRole(MSRP, caller);
        (bool ok, ) = _exec(
            "recordJoins",
            caller,
            authorized,
            abi.encodeCall(IRPR.recordJoins, (js)),
            expected,
            _probeItems(js)
        );
        if (ok && expected.length == 0) _applyItems(js);
    }

    /// AccessControl, from the same actors: op 0 grantRole, 1 revokeRole, 2 renounceRole (one entry
    /// point, so that role changes are a quarter-to-a-sixth of the calls, not half).
    function changeRole(uint256 op, uint256 actorSeed, uint256 roleSeed, uint256 accountSeed) external {
        op %= 3;
        if (op == 0) _grantRole(actorSeed, roleSeed, accountSeed);
        else if (op == 1) _revokeRole(actorSeed, roleSeed, accountSeed);
        else _renounceRole(actorSeed, roleSeed, accountSeed);
    }

    function _grantRole(uint256 actorSeed, uint256 roleSeed, uint256 accountSeed) internal {
        _tick();
        actorSeed = _mix(actorSeed, 0);
        roleSeed = _mix(roleSeed, 1);
        accountSeed = _mix(accountSeed, 2);
        address caller = _actor(actorSeed);
        bytes32 role = roleAt(roleSeed % N_ROLES);
        address account = _actors[accountSeed % N_ACTORS];
        bytes memory expected;
        if (!_gRole[ADMIN][caller]) expected = _unauthorized(caller, ADMIN);
        bool authorized = registry.hasRole(ADMIN, caller);
        (bool ok, ) = _exec(
            "grantRole",
            caller,
            authorized,
            abi.encodeCall(IAccessControl.grantRole, (role, account)),
            expected,
            _probe(0, account)
        );
        if (ok && expected.length == 0) _gRole[role][account] = true;
    }

    function _revokeRole(uint256 actorSeed, uint256 roleSeed, uint256 accountSeed) internal {
        _tick();
        actorSeed = _mix(actorSeed, 0);
        roleSeed = _mix(roleSeed, 1);
        accountSeed = _mix(accountSeed, 2);
        address caller = _actor(actorSeed);
        bytes32 role = roleAt(roleSeed % N_ROLES);
        address account = _actors[accountSeed % N_ACTORS];
        // Keep most runs productive: the MSRP strips itself of ADMIN / MSRP only 1 time in 16.
        if (account == _actors[0] && (role == ADMIN || role == MSRP) && (accountSeed >> 8) % 16 != 0) {
            account = _actors[1 + ((accountSeed >> 16) % (N_ACTORS - 1))];
        }
        bytes memory expected;
        if (!_gRole[ADMIN][caller]) expected = _unauthorized(caller, ADMIN);
        bool authorized = registry.hasRole(ADMIN, caller);
        (bool ok, ) = _exec(
            "revokeRole",
            caller,
            authorized,
            abi.encodeCall(IAccessControl.revokeRole, (role, account)),
            expected,
            _probe(0, account)
        );
        if (ok && expected.length == 0) _gRole[role][account] = false;
    }

    function _renounceRole(uint256 actorSeed, uint256 roleSeed, uint256 confirmSeed) internal {
        _tick();
        actorSeed = _mix(actorSeed, 0);
        roleSeed = _mix(roleSeed, 1);
        confirmSeed = _mix(confirmSeed, 2);
        address caller = _actor(actorSeed);
        bytes32 role = roleAt(roleSeed % N_ROLES);
        address confirmation = confirmSeed % 4 == 3 ? _actors[(confirmSeed >> 8) % N_ACTORS] : caller;
        if (caller == _actors[0] && (role == ADMIN || role == MSRP) && (confirmSeed >> 16) % 16 != 0) {
            confirmation = _actors[1 + ((confirmSeed >> 24) % (N_ACTORS - 1))]; // a wrong confirmation
        }
        bytes memory expected;
        if (confirmation != caller)
            expected = abi.encodeWithSelector(IAccessControl.AccessControlBadConfirmation.selector);
        (bool ok, ) = _exec(
            "renounceRole",
            caller,
            confirmation == caller,
            abi.encodeCall(IAccessControl.renounceRole, (role, confirmation)),
            expected,
            _probe(0, confirmation)
        );
        if (ok && expected.length == 0) _gRole[role][caller] = false;
    }

    // ================= views for the invariants =================

    function actor(uint256 i) public view returns (address) {
        return _actors[i];
    }

    function poolIdAt(uint256 i) public pure returns (uint32) {
        return i == N_POOLS - 1 ? type(uint32).max : uint32(i); // 0 (never valid), 1, ..., 6, 2^32-1
    }

    function pidAt(uint256 i) public pure returns (bytes32) {
        return keccak256(abi.encode("pid", i));
    }

    function tagAt(uint256 i) public pure returns (bytes32) {
        return keccak256(abi.encode("tag", i));
    }

    function roleAt(uint256 i) public pure returns (bytes32) {
        return [ADMIN, MSRP, RPM, OTHER][i];
    }

    function ghostPool(uint32 poolId) external view returns (IRPR.Pool memory) {
        return _gPool[poolId];
    }

    function ghostFilter(uint32 poolId, uint32 epoch) external view returns (bytes32) {
        return _gFilter[poolId][epoch];
    }

    function ghostRecord(bytes32 pid) external view returns (IRPR.PidRecord memory) {
        return _gRecord[pid];
    }

    function ghostPidOfTag(bytes32 tag) external view returns (bytes32) {
        return _gPidOfTag[tag];
    }

    function ghostRole(bytes32 role, address account) external view returns (bool) {
        return _gRole[role][account];
    }

    // ================= internals =================

    /// The keys a call could touch: a rejected call must leave all of them (and joinCount) unchanged.
    struct Probe {
        uint32 poolId;
        address account;
        bytes32[] pids;
        bytes32[] tags;
    }

    /// Calls the registry as `caller` and classifies the outcome against `expected` (empty = success).
    function _exec(
        string memory what,
        address caller,
        bool authorized,
        bytes memory data,
        bytes memory expected,
        Probe memory probe
    ) internal returns (bool ok, bytes memory ret) {
        bytes32 before = expected.length != 0 ? _digest(caller, probe) : bytes32(0);
        vm.prank(caller);
        (ok, ret) = address(registry).call(data);
        ++calls;
        ++outcomes[bytes4(keccak256(bytes(what)))][ok ? bytes4(0) : bytes4(ret)];
        if (ok) {
            ++accepted;
            if (!authorized) ++unauthorizedWrites;
            if (expected.length != 0) _mismatch(what, "accepted a call the model rejects", expected);
        } else {
            ++rejected;
            if (expected.length == 0) {
                _mismatch(what, "rejected a call the model accepts", ret);
            } else {
                if (keccak256(ret) != keccak256(expected)) _mismatch(what, "wrong revert data", ret);
                if (_digest(caller, probe) != before) ++rejectedChanged;
            }
        }
    }

    function _mismatch(string memory what, string memory why, bytes memory data) internal {
        ++mismatches;
        lastMismatch = string.concat(what, ": ", why);
        lastMismatchData = data;
    }

    /// What a call with these keys could have changed: the pool and its next filter slot, the
    /// records and tags, the roles of the caller and the account, joinCount.
    function _digest(address caller, Probe memory p) internal view returns (bytes32 h) {
        IRPR.Pool memory pool = registry.pool(p.poolId);
        h = keccak256(abi.encode(registry.joinCount(), pool, registry.filterAt(p.poolId, pool.epochs)));
        for (uint256 i; i < p.pids.length; ++i) h = keccak256(abi.encode(h, registry.recordOf(p.pids[i])));
        for (uint256 i; i < p.tags.length; ++i) h = keccak256(abi.encode(h, registry.pidOfTag(p.tags[i])));
        for (uint256 r; r < N_ROLES; ++r) {
            h = keccak256(abi.encode(h, registry.hasRole(roleAt(r), caller), registry.hasRole(roleAt(r), p.account)));
        }
    }

    function _probe(uint32 poolId, address account) internal pure returns (Probe memory p) {
        p.poolId = poolId;
        p.account = account;
    }

    function _probeItems(IRPR.JoinInput[] memory js) internal pure returns (Probe memory p) {
        p.pids = new bytes32[](js.length);
        p.tags = new bytes32[](js.length);
        for (uint256 i; i < js.length; ++i) {
            p.pids[i] = js[i].pid;
            p.tags[i] = js[i].tag;
        }
        if (js.length != 0) p.poolId = js[0].poolId;
    }

    /// The prediction for batch item i, given the ghosts and the items before it (all valid).
    function _expectItem(IRPR.JoinInput[] memory js, uint256 i) internal view returns (bytes memory) {
        IRPR.JoinInput memory j = js[i];
        if (j.pid == 0 || j.tag == 0 || (j.kind != 1 && j.kind != 2)) {
            return abi.encodeWithSelector(IRPR.ResourcePoolRegistry__InvalidRecord.selector, j.pid, j.tag, j.kind);
        }
        if (_gPool[j.poolId].rpm == address(0)) return _err1(IRPR.ResourcePoolRegistry__UnknownPool.selector, j.poolId);
        bool pidTaken = _gRecord[j.pid].tag != 0;
        bool tagTaken = _gPidOfTag[j.tag] != 0;
        for (uint256 k; k < i; ++k) {
            if (js[k].pid == j.pid) pidTaken = true;
            if (js[k].tag == j.tag) tagTaken = true;
        }
        if (pidTaken) return abi.encodeWithSelector(IRPR.ResourcePoolRegistry__PidExists.selector, j.pid);
        if (tagTaken) return abi.encodeWithSelector(IRPR.ResourcePoolRegistry__TagUsed.selector, j.tag);
        return "";
    }

    function _applyItems(IRPR.JoinInput[] memory js) internal {
        for (uint256 i; i < js.length; ++i) {
            IRPR.JoinInput memory j = js[i];
            _gRecord[j.pid] = IRPR.PidRecord(j.tag, j.poolId, j.kind, uint64(block.timestamp));
            _gPidOfTag[j.tag] = j.pid;
            ++gJoinCount;
        }
    }

    function _item(uint256 seed) internal pure returns (IRPR.JoinInput memory j) {
        uint256 p = seed % (N_KEYS + 1);
        uint256 t = (seed >> 16) % (N_KEYS + 1);
        j.pid = p == N_KEYS ? bytes32(0) : pidAt(p);
        j.tag = t == N_KEYS ? bytes32(0) : tagAt(t);
        // 3 in 4 a pool that the handler's createPool calls are likely to have made
        j.poolId = (seed >> 32) % 4 != 0 ? uint32(1 + ((seed >> 34) % 3)) : _poolId(seed >> 34);
        uint256 k = seed >> 64;
        j.kind = k % 8 == 7 ? uint8(k >> 8) : uint8(1 + ((k >> 8) % 2));
    }

    function _validPool(address rpm, bytes32 pidRpm, bytes memory pk) internal pure returns (bool) {
        return rpm != address(0) && pidRpm != 0 && RsmsInputs.isValidPoint(pk);
    }

    /// lambda: 3 in 8 a boundary (0, 1, 64, 65), 1 in 8 any byte, else uniform in [1, 64].
    function _lambda(uint256 seed) internal pure returns (uint8) {
        uint256 mode = seed % 8;
        if (mode < 4) return [0, 1, 64, 65][mode];
        if (mode == 4) return uint8(seed >> 8);
        return uint8(1 + ((seed >> 8) % 64));
    }

    function _cid(uint256 seed) internal pure returns (string memory) {
        if (seed % 8 == 7) return "";
        bytes memory b = abi.encodePacked("bafkrei", keccak256(abi.encode(seed)), keccak256(abi.encode(seed, 1)));
        uint256 len = 1 + ((seed >> 8) % b.length);
        assembly ("memory-safe") {
            mstore(b, len)
        }
        return string(b);
    }

    /// Half the calls come from the MSRP, the rest from the other four actors.
    function _actor(uint256 seed) internal view returns (address) {
        uint256 s = seed % 8;
        return s < 4 ? _actors[0] : _actors[s - 3];
    }

    function _poolId(uint256 seed) internal pure returns (uint32) {
        return poolIdAt(seed % N_POOLS);
    }

    function _unauthorized(address caller, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, role);
    }

    function _err1(bytes4 selector, uint32 poolId) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, poolId);
    }

    /// forge's inputs are far from uniform (small values, dictionary words); every seed is hashed
    /// first so that each bounded choice below gets its intended frequency.
    function _mix(uint256 seed, uint256 salt) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    /// forge does not carry vm.warp across invariant calls, so the handler keeps its own clock.
    function _tick() internal {
        _now += 13;
        vm.warp(_now);
    }
}

/// @notice Invariants of the RSMS §IV.A registry under random sequences of the handler's calls.
/// Budget (2 shared cores): 4 campaigns of runs x depth calls; the state checks run every 4th call
/// and after the last one, which still catches any overwrite (a changed record or root stays changed).
/// forge-config: default.invariant.runs = 32
/// forge-config: default.invariant.depth = 64
/// forge-config: default.invariant.check_interval = 4
/// forge-config: ci.invariant.runs = 48
/// forge-config: ci.invariant.depth = 64
/// forge-config: ci.invariant.check_interval = 4
contract ResourcePoolRegistryInvariantTest is Test {
    address internal constant MSRP_ACCOUNT = address(0x4D535250);

    ResourcePoolRegistry internal registry;
    RprHandler internal handler;

    function setUp() public {
        registry = new ResourcePoolRegistry(MSRP_ACCOUNT);
        handler = new RprHandler(registry, MSRP_ACCOUNT);
        // The handler's role constants are restated, not read from the contract: check they agree.
        assertEq(handler.MSRP(), registry.MSRP_ROLE(), "MSRP role id");
        assertEq(handler.RPM(), registry.RPM_ROLE(), "RPM role id");
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    /// (1) No write (pool, filter, join record, role) ever succeeds for a caller without the role it
    /// needs, read from the chain just before the call: the ghost count of such writes stays 0.
    /// (2) Every call's outcome (success, or the exact custom error with its arguments) is the one
    /// the reference model predicted. (3) Every rejected call left the state it could touch unchanged.
    function invariant_onlyRoleHoldersWriteAndEveryCallMatchesTheModel() public view {
        assertEq(handler.unauthorizedWrites(), 0, "a caller without the role wrote");
        assertEq(handler.mismatches(), 0, handler.lastMismatch());
        assertEq(handler.rejectedChanged(), 0, "a rejected call changed the registry");
    }

    /// A PID record and its tag are written once and never change; PID -> tag -> PID both ways,
    /// isTagUsed / isVerified agree, kinds are 1 or 2 in an existing pool, and joinCount counts them.
    function invariant_recordsWrittenOnceAndLinkedBothWays() public view {
        uint256 n;
        for (uint256 i; i < handler.N_KEYS(); ++i) {
            bytes32 pid = handler.pidAt(i);
            IRPR.PidRecord memory r = registry.recordOf(pid);
            assertEq(abi.encode(r), abi.encode(handler.ghostRecord(pid)), "recordOf(pid) is not the first write");
            assertEq(registry.isVerified(pid) ? 1 : 0, r.tag != 0 ? 1 : 0, "isVerified(pid) vs record");
            if (r.tag != 0) {
                ++n;
                assertEq(registry.pidOfTag(r.tag), pid, "pidOfTag(recordOf(pid).tag) != pid");
                assertTrue(registry.isTagUsed(r.tag), "recorded tag not used");
                assertTrue(r.kind == 1 || r.kind == 2, "record kind");
                assertTrue(registry.pool(r.poolId).rpm != address(0), "record of a pool that does not exist");
            }
            bytes32 tag = handler.tagAt(i);
            bytes32 owner = registry.pidOfTag(tag);
            assertEq(owner, handler.ghostPidOfTag(tag), "pidOfTag(tag) is not the first write");
            assertEq(registry.isTagUsed(tag) ? 1 : 0, owner != 0 ? 1 : 0, "isTagUsed(tag) vs pidOfTag");
            if (owner != 0) assertEq(registry.recordOf(owner).tag, tag, "recordOf(pidOfTag(tag)).tag != tag");
        }
        assertEq(registry.joinCount(), n, "joinCount vs records");
        assertEq(n, handler.gJoinCount(), "joinCount vs successful joins");
        assertEq(registry.recordOf(0).tag, 0, "zero PID has a record");
        assertEq(registry.pidOfTag(0), 0, "zero tag is used");
    }

    /// Pools match the ghosts (pool 0 never exists, keys are 0x02/0x03 points, epochs count the
    /// publications and survive updatePool), and a filter root, once published for an epoch, never
    /// changes; nothing is stored beyond the last epoch.
    function invariant_poolsAndFilterRootsNeverChange() public view {
        for (uint256 i; i < handler.N_POOLS(); ++i) {
            uint32 id = handler.poolIdAt(i);
            IRPR.Pool memory p = registry.pool(id);
            IRPR.Pool memory g = handler.ghostPool(id);
            assertEq(abi.encode(p), abi.encode(g), "pool differs from the model");
            if (p.rpm == address(0)) {
                assertEq(p.epochs, 0, "absent pool with filters");
                try registry.poolPublicKey(id) {
                    revert AssertionFailed("poolPublicKey of an absent pool");
                } catch (bytes memory reason) {
                    assertEq(
                        reason,
                        abi.encodeWithSelector(IRPR.ResourcePoolRegistry__UnknownPool.selector, id),
                        "poolPublicKey(absent)"
                    );
                }
            } else {
                assertTrue(id != 0, "pool 0 exists");
                assertTrue(p.pkParity == 2 || p.pkParity == 3, "pool key parity");
                assertTrue(p.pidRpm != 0, "pool PID_RPM zero");
                assertEq(registry.poolPublicKey(id), abi.encodePacked(p.pkParity, p.pkX), "poolPublicKey");
            }
            for (uint32 e; e < p.epochs; ++e) {
                IRPR.FilterRoot memory f = registry.filterAt(id, e);
                assertEq(keccak256(abi.encode(f)), handler.ghostFilter(id, e), "filter root of an epoch changed");
                assertTrue(f.root != 0 && f.capacity != 0 && f.lambda >= 1 && f.lambda <= 64, "filter fields");
                assertTrue(bytes(f.cid).length != 0, "filter cid");
            }
            IRPR.FilterRoot memory next = registry.filterAt(id, p.epochs);
            assertEq(next.root, 0, "a filter beyond the last epoch");
            assertEq(next.publishedAt, 0, "a filter beyond the last epoch (time)");
        }
    }

    /// joinView (issue 20) is its parts read together: the pool, isTagUsed of the tag, and filterAt of
    /// each epoch in [from, min(from + max, epochs)), for windows from the first epoch, inside, and
    /// past the last.
    function invariant_joinViewIsItsParts() public view {
        for (uint256 i; i < handler.N_POOLS(); ++i) {
            uint32 id = handler.poolIdAt(i);
            IRPR.Pool memory p = registry.pool(id);
            bytes32 tag = handler.tagAt(i % handler.N_KEYS());
            uint32[3] memory froms = [uint32(0), 1, p.epochs];
            uint32[3] memory maxes = [uint32(8), 2, 3];
            for (uint256 w; w < 3; ++w) {
                (IRPR.Pool memory vp, bool used, IRPR.FilterRoot[] memory fs) = registry.joinView(
                    id,
                    tag,
                    froms[w],
                    maxes[w]
                );
                assertEq(abi.encode(vp), abi.encode(p), "joinView's pool");
                assertEq(used ? 1 : 0, registry.isTagUsed(tag) ? 1 : 0, "joinView's tagUsed");
                uint256 expected;
                for (uint256 e = froms[w]; e < p.epochs && expected < maxes[w]; ++e) ++expected;
                assertEq(fs.length, expected, "joinView's filter count");
                for (uint256 k; k < fs.length; ++k) {
                    IRPR.FilterRoot memory f = registry.filterAt(id, uint32(froms[w] + k));
                    assertEq(abi.encode(fs[k]), abi.encode(f), "joinView's filter");
                }
            }
        }
    }

    /// Roles never escalate: every (role, account) is exactly what the admin granted / revoked,
    /// createPool / updatePool appointed (RPM only) or the account renounced; role admins stay 0x00.
    function invariant_rolesOnlyFromAdminOrPoolAppointment() public view {
        address[] memory who = new address[](handler.N_ACTORS() + 3);
        for (uint256 a; a < handler.N_ACTORS(); ++a) who[a] = handler.actor(a);
        who[who.length - 3] = address(handler);
        who[who.length - 2] = address(this);
        who[who.length - 1] = address(registry);
        for (uint256 r; r < handler.N_ROLES(); ++r) {
            bytes32 role = handler.roleAt(r);
            assertEq(registry.getRoleAdmin(role), bytes32(0), "role admin changed");
            for (uint256 a; a < who.length; ++a) {
                bool held = registry.hasRole(role, who[a]);
                assertEq(held ? 1 : 0, handler.ghostRole(role, who[a]) ? 1 : 0, "role held without a grant");
            }
        }
    }
}

/// @notice A fixed 600-step pseudo-random drive of the handler: every entry point succeeds at
/// least once and every custom error is reached, so the invariant suite is not vacuous.
contract ResourcePoolRegistryHandlerCoverageTest is Test {
    function test_handlerReachesEveryOutcome() public {
        ResourcePoolRegistry registry = new ResourcePoolRegistry(address(0x4D535250));
        RprHandler h = new RprHandler(registry, address(0x4D535250));
        for (uint256 i; i < 600; ++i) {
            uint256 s = uint256(keccak256(abi.encode("drive", i)));
            uint256 fn = i < 450 ? s % 12 : s % 16; // role changes only at the end: the MSRP may renounce
            uint256[6] memory a;
            for (uint256 k; k < 6; ++k) a[k] = uint256(keccak256(abi.encode(s, k)));
            if (fn < 2) h.createPool(a[0], a[1], a[2], a[3], a[4]);
            else if (fn < 4) h.updatePool(a[0], a[1], a[2], a[3], a[4]);
            else if (fn < 6) h.publishFilter(a[0], a[1], a[2], a[3], a[4], a[5]);
            else if (fn < 9) h.recordJoin(a[0], a[1]);
            else if (fn < 12) h.recordJoins(a[0], a[1], [a[2], a[3], a[4], a[5]]);
            else if (fn == 12) h.changeRole(0, a[0], a[1], a[2]);
            else if (fn == 13) h.changeRole(1, a[0], a[1], a[2]);
            else h.changeRole(2, a[0], a[1], a[2]);
        }
        assertEq(h.mismatches(), 0, h.lastMismatch());
        string[8] memory fns = [
            "createPool",
            "updatePool",
            "publishFilter",
            "recordJoin",
            "recordJoins",
            "grantRole",
            "revokeRole",
            "renounceRole"
        ];
        bytes4 unauthorized = IAccessControl.AccessControlUnauthorizedAccount.selector;
        for (uint256 f; f < fns.length; ++f) {
            bytes4 fn = bytes4(keccak256(bytes(fns[f])));
            assertGe(h.outcomes(fn, 0), 1, string.concat(fns[f], " never succeeded"));
            if (f < 7) assertGe(h.outcomes(fn, unauthorized), 1, string.concat(fns[f], " never unauthorized"));
        }
        _seen(h, "createPool", IRPR.ResourcePoolRegistry__PoolExists.selector);
        _seen(h, "createPool", IRPR.ResourcePoolRegistry__InvalidPool.selector);
        _seen(h, "updatePool", IRPR.ResourcePoolRegistry__UnknownPool.selector);
        _seen(h, "updatePool", IRPR.ResourcePoolRegistry__InvalidPool.selector);
        _seen(h, "publishFilter", IRPR.ResourcePoolRegistry__UnknownPool.selector);
        _seen(h, "publishFilter", IRPR.ResourcePoolRegistry__InvalidFilter.selector);
        _seen(h, "recordJoin", IRPR.ResourcePoolRegistry__InvalidRecord.selector);
        _seen(h, "recordJoin", IRPR.ResourcePoolRegistry__UnknownPool.selector);
        _seen(h, "recordJoin", IRPR.ResourcePoolRegistry__PidExists.selector);
        _seen(h, "recordJoin", IRPR.ResourcePoolRegistry__TagUsed.selector);
        _seen(h, "recordJoins", IRPR.ResourcePoolRegistry__EmptyBatch.selector);
        _seen(h, "recordJoins", IRPR.ResourcePoolRegistry__PidExists.selector);
        _seen(h, "recordJoins", IRPR.ResourcePoolRegistry__TagUsed.selector);
        _seen(h, "renounceRole", IAccessControl.AccessControlBadConfirmation.selector);
    }

    function _seen(RprHandler h, string memory fn, bytes4 err) internal view {
        uint256 n = h.outcomes(bytes4(keccak256(bytes(fn))), err);
        assertGe(n, 1, string.concat(fn, ": never reached error ", vm.toString(uint256(uint32(err)))));
    }
}

/// @notice Each external function under malformed input: the exact custom error, and nothing changes.
contract ResourcePoolRegistryFuzzTest is Test {
    address internal constant MSRP_ACCOUNT = address(0x4D535250);
    address internal constant RPM_A = address(0xA11CE);
    bytes32 internal constant MSRP = keccak256("MSRP_ROLE");
    bytes32 internal constant RPM = keccak256("RPM_ROLE");
    bytes32 internal constant PID_RPM = keccak256("pid-rpm-A");
    bytes32 internal constant PID1 = keccak256("pid-1");
    bytes32 internal constant TAG1 = keccak256("tag-1");
    bytes32 internal constant ROOT0 = keccak256("root-0");

    ResourcePoolRegistry internal registry;
    bytes internal pkA;

    function setUp() public {
        registry = new ResourcePoolRegistry(MSRP_ACCOUNT);
        pkA = CurvePoints.point(keccak256("pk-A"), false);
        vm.startPrank(MSRP_ACCOUNT);
        registry.createPool(1, RPM_A, PID_RPM, pkA);
        registry.publishFilter(1, ROOT0, "bafkrei-root-0", 100, 8);
        registry.recordJoin(PID1, TAG1, 1, 1);
        vm.stopPrank();
    }

    // ---------- access control ----------

    /// Any account other than the MSRP (the RPM included) is rejected by all five writes.
    function testFuzz_everyWriteRejectsNonMsrp(address caller, uint256 seed) public {
        vm.assume(caller != MSRP_ACCOUNT && caller != address(vm));
        _assertEveryWriteRejected(caller, seed);
    }

    /// The pool's RPM holds RPM_ROLE but may not write (it only reads).
    function testFuzz_rpmCannotWrite(uint256 seed) public {
        assertTrue(registry.hasRole(RPM, RPM_A), "setup: RPM role");
        _assertEveryWriteRejected(RPM_A, seed);
    }

    /// Only the admin grants or revokes; the RPM and strangers cannot escalate, even to RPM_ROLE.
    function testFuzz_roleManagementRejectsNonAdmin(address caller, uint8 roleIx, address account) public {
        vm.assume(caller != MSRP_ACCOUNT && caller != address(vm));
        bytes32 role = [bytes32(0), MSRP, RPM, keccak256("OTHER")][roleIx % 4];
        bytes32 before = _state(0, 0, 0, account);
        bytes32 before2 = _state(0, 0, 0, caller);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, bytes32(0))
        );
        vm.prank(caller);
        registry.grantRole(role, account);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, bytes32(0))
        );
        vm.prank(caller);
        registry.revokeRole(role, MSRP_ACCOUNT);
        assertEq(_state(0, 0, 0, account), before, "state changed");
        assertEq(_state(0, 0, 0, caller), before2, "state changed (caller)");
        assertTrue(registry.hasRole(MSRP, MSRP_ACCOUNT), "MSRP lost its role");
    }

    /// renounceRole only for oneself: a wrong confirmation reverts and the role stays.
    function testFuzz_renounceRoleRejectsWrongConfirmation(address caller, address confirmation, uint8 roleIx) public {
        vm.assume(caller != confirmation && caller != address(vm));
        bytes32 role = [bytes32(0), MSRP, RPM][roleIx % 3];
        bytes32 before = _state(0, 0, 0, MSRP_ACCOUNT);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlBadConfirmation.selector));
        vm.prank(caller);
        registry.renounceRole(role, confirmation);
        assertEq(_state(0, 0, 0, MSRP_ACCOUNT), before, "state changed");
    }

    // ---------- createPool ----------

    function testFuzz_createPoolRejectsZeroOrTakenId(bool zero, address rpm, bytes32 pidRpm, uint256 pkSeed) public {
        uint32 id = zero ? 0 : 1;
        bytes memory pk = RsmsInputs.point(pkSeed);
        bytes32 before = _state(0, 0, id, rpm);
        vm.expectRevert(abi.encodeWithSelector(IRPR.ResourcePoolRegistry__PoolExists.selector, id));
        vm.prank(MSRP_ACCOUNT);
        registry.createPool(id, rpm, pidRpm, pk);
        assertEq(_state(0, 0, id, rpm), before, "state changed");
        assertEq(registry.poolPublicKey(1), pkA, "pool 1 key changed");
    }

    /// A zero RPM account, a zero PID_RPM, a key that is not 33 bytes, a prefix other than 0x02/0x03,
    /// an x off the curve or an x >= p.
    function testFuzz_createPoolRejectsInvalidPool(
        uint32 id,
        uint8 defect,
        address rpm,
        bytes32 pidRpm,
        bytes memory pk,
        uint8 prefix
    ) public {
        id = uint32(bound(id, 2, type(uint32).max));
        (rpm, pidRpm, pk) = _invalidPoolArgs(defect, rpm, pidRpm, pk, prefix);
        bytes32 before = _state(0, 0, id, rpm);
        vm.expectRevert(abi.encodeWithSelector(IRPR.ResourcePoolRegistry__InvalidPool.selector, id));
        vm.prank(MSRP_ACCOUNT);
        registry.createPool(id, rpm, pidRpm, pk);
        assertEq(_state(0, 0, id, rpm), before, "state changed");
    }

    function testFuzz_createPoolStoresPoolAndAppointsRpm(
        uint32 id,
        address rpm,
        bytes32 pidRpm,
        bool odd,
        bytes32 x
    ) public {
        id = uint32(bound(id, 2, type(uint32).max));
        vm.assume(rpm != address(0) && pidRpm != 0 && rpm != MSRP_ACCOUNT);
        x = CurvePoints.curveX(x);
        bytes memory pk = abi.encodePacked(bytes1(odd ? 0x03 : 0x02), x);
        vm.prank(MSRP_ACCOUNT);
        registry.createPool(id, rpm, pidRpm, pk);
        IRPR.Pool memory p = registry.pool(id);
        assertEq(abi.encode(p), abi.encode(IRPR.Pool(rpm, odd ? 3 : 2, 0, pidRpm, x)), "stored pool");
        assertEq(registry.poolPublicKey(id), pk, "poolPublicKey round trip");
        assertTrue(registry.hasRole(RPM, rpm), "RPM role");
        assertFalse(registry.hasRole(MSRP, rpm) || registry.hasRole(0x00, rpm), "RPM got more than RPM_ROLE");
        assertEq(registry.filterAt(id, 0).root, 0, "fresh pool has a filter");
    }

    /// Issue 13 item 12: for any 32-byte x, createPool and updatePool accept the key 0x02/0x03 || x
    /// exactly when x is a curve abscissa below p (the plain reference in CurvePoints); a rejected key
    /// changes nothing.
    function testFuzz_poolKeyAcceptedIffOnCurve(bytes32 x, bool odd, bool update, uint8 where) public {
        // half the runs take x from the curve, a quarter off it, a quarter at or above p
        if (where % 4 < 2) x = CurvePoints.curveX(x);
        else if (where % 4 == 2) x = CurvePoints.offCurveX(x);
        else x = CurvePoints.nonCanonicalX(x);
        bytes memory pk = abi.encodePacked(bytes1(odd ? 0x03 : 0x02), x);
        uint32 id = update ? 1 : 2;
        bytes32 before = _state(0, 0, id, address(0xBEEF));
        bool valid = CurvePoints.isCurveX(uint256(x));
        if (!valid) vm.expectRevert(abi.encodeWithSelector(IRPR.ResourcePoolRegistry__InvalidPool.selector, id));
        vm.prank(MSRP_ACCOUNT);
        if (update) registry.updatePool(id, address(0xBEEF), keccak256("pid"), pk);
        else registry.createPool(id, address(0xBEEF), keccak256("pid"), pk);
        if (valid) assertEq(registry.poolPublicKey(id), pk, "valid key stored");
        else {
            assertEq(_state(0, 0, id, address(0xBEEF)), before, "state changed");
            if (update) assertEq(registry.poolPublicKey(1), pkA, "pool 1 key changed");
        }
    }

    // ---------- updatePool ----------

    function testFuzz_updatePoolRejectsUnknownPool(uint32 id, address rpm, bytes32 pidRpm, uint256 pkSeed) public {
        vm.assume(id != 1);
        bytes memory pk = RsmsInputs.point(pkSeed);
        bytes32 before = _state(0, 0, id, rpm);
        vm.expectRevert(abi.encodeWithSelector(IRPR.ResourcePoolRegistry__UnknownPool.selector, id));
        vm.prank(MSRP_ACCOUNT);
        registry.updatePool(id, rpm, pidRpm, pk);
        assertEq(_state(0, 0, id, rpm), before, "state changed");
    }

    function testFuzz_updatePoolRejectsInvalidPool(
        uint8 defect,
        address rpm,
        bytes32 pidRpm,
        bytes memory pk,
        uint8 prefix
    ) public {
        (rpm, pidRpm, pk) = _invalidPoolArgs(defect, rpm, pidRpm, pk, prefix);
        bytes32 before = _state(0, 0, 1, rpm);
        vm.expectRevert(abi.encodeWithSelector(IRPR.ResourcePoolRegistry__InvalidPool.selector, uint32(1)));
        vm.prank(MSRP_ACCOUNT);
        registry.updatePool(1, rpm, pidRpm, pk);
        assertEq(_state(0, 0, 1, rpm), before, "state changed");
        assertEq(registry.poolPublicKey(1), pkA, "pool 1 key changed");
    }

    /// A valid update replaces the RPM and key, keeps the epochs and every published filter.
    function testFuzz_updatePoolKeepsEpochsAndFilters(address rpm, bytes32 pidRpm, bool odd, bytes32 x) public {
        vm.assume(rpm != address(0) && pidRpm != 0);
        bytes32 filter0 = keccak256(abi.encode(registry.filterAt(1, 0)));
        x = CurvePoints.curveX(x);
        bytes memory pk = abi.encodePacked(bytes1(odd ? 0x03 : 0x02), x);
        vm.prank(MSRP_ACCOUNT);
        registry.updatePool(1, rpm, pidRpm, pk);
        assertEq(abi.encode(registry.pool(1)), abi.encode(IRPR.Pool(rpm, odd ? 3 : 2, 1, pidRpm, x)), "updated pool");
        assertEq(keccak256(abi.encode(registry.filterAt(1, 0))), filter0, "epoch 0 filter changed");
        assertEq(registry.poolPublicKey(1), pk, "new key");
        assertTrue(registry.hasRole(RPM, rpm), "new RPM role");
        assertEq(registry.recordOf(PID1).tag, TAG1, "records untouched");
    }

    // ---------- publishFilter ----------

    function testFuzz_publishFilterRejectsUnknownPool(uint32 id, bytes32 root, uint32 capacity, uint8 lambda) public {
        vm.assume(id != 1);
        bytes32 before = _state(0, 0, id, address(0));
        vm.expectRevert(abi.encodeWithSelector(IRPR.ResourcePoolRegistry__UnknownPool.selector, id));
        vm.prank(MSRP_ACCOUNT);
        registry.publishFilter(id, root, "bafkrei-x", capacity, lambda);
        assertEq(_state(0, 0, id, address(0)), before, "state changed");
    }

    /// A zero root, an empty CID, capacity 0, lambda 0 or lambda above 64.
    function testFuzz_publishFilterRejectsInvalidFilter(
        uint8 defect,
        bytes32 root,
        string memory cid,
        uint32 capacity,
        uint8 lambda
    ) public {
        vm.assume(root != 0 && bytes(cid).length != 0);
        capacity = uint32(bound(capacity, 1, type(uint32).max));
        lambda = uint8(bound(lambda, 1, 64));
        defect %= 5;
        if (defect == 0) root = 0;
        else if (defect == 1) cid = "";
        else if (defect == 2) capacity = 0;
        else if (defect == 3) lambda = 0;
        else lambda = uint8(uint256(root) % 2 == 0 ? 65 : bound(uint256(keccak256(abi.encode(root))), 66, 255));
        bytes32 before = _state(0, 0, 1, address(0));
        vm.expectRevert(abi.encodeWithSelector(IRPR.ResourcePoolRegistry__InvalidFilter.selector, uint32(1)));
        vm.prank(MSRP_ACCOUNT);
        registry.publishFilter(1, root, cid, capacity, lambda);
        assertEq(_state(0, 0, 1, address(0)), before, "state changed");
        assertEq(registry.pool(1).epochs, 1, "epochs changed");
    }

    /// The boundaries: lambda 1 and 64 and capacity 1 are accepted, lambda 0 and 65 are not.
    function test_publishFilterBoundaries() public {
        vm.startPrank(MSRP_ACCOUNT);
        assertEq(registry.publishFilter(1, ROOT0, "c", 1, 1), 1, "lambda 1, capacity 1");
        assertEq(registry.publishFilter(1, ROOT0, "c", type(uint32).max, 64), 2, "lambda 64");
        for (uint256 i; i < 2; ++i) {
            uint8 lambda = i == 0 ? 0 : 65;
            vm.expectRevert(abi.encodeWithSelector(IRPR.ResourcePoolRegistry__InvalidFilter.selector, uint32(1)));
            registry.publishFilter(1, ROOT0, "c", 1, lambda);
        }
        vm.stopPrank();
        assertEq(registry.pool(1).epochs, 3, "epochs");
    }

    /// Valid publications get epochs 1, 2, ... in order; earlier epochs never change.
    function testFuzz_publishFilterAppendsTheNextEpoch(
        uint8 count,
        bytes32 seed,
        uint32 capacity,
        uint8 lambda
    ) public {
        count = uint8(bound(count, 1, 6));
        capacity = uint32(bound(capacity, 1, type(uint32).max));
        lambda = uint8(bound(lambda, 1, 64));
        bytes32 filter0 = keccak256(abi.encode(registry.filterAt(1, 0)));
        for (uint32 k = 1; k <= count; ++k) {
            bytes32 root = keccak256(abi.encode(seed, k));
            vm.warp(1_800_000_000 + k);
            vm.prank(MSRP_ACCOUNT);
            uint32 epoch = registry.publishFilter(1, root, "bafkrei-next", capacity, lambda);
            assertEq(epoch, k, "epoch number");
            IRPR.FilterRoot memory f = registry.filterAt(1, k);
            assertEq(
                abi.encode(f),
                abi.encode(IRPR.FilterRoot(root, capacity, lambda, uint64(1_800_000_000 + k), "bafkrei-next")),
                "stored filter"
            );
        }
        assertEq(registry.pool(1).epochs, uint256(count) + 1, "epochs");
        assertEq(keccak256(abi.encode(registry.filterAt(1, 0))), filter0, "epoch 0 changed");
        assertEq(registry.filterAt(1, uint32(count) + 1).root, 0, "beyond the last epoch");
    }

    // ---------- recordJoin ----------

    /// A zero PID, a zero tag or a kind other than 1 / 2: InvalidRecord with the three values.
    function testFuzz_recordJoinRejectsInvalidRecord(
        bytes32 pid,
        bytes32 tag,
        uint8 kind,
        uint8 defect,
        uint32 pool
    ) public {
        vm.assume(pid != 0 && tag != 0);
        kind = uint8(bound(kind, 1, 2));
        defect %= 3;
        if (defect == 0) pid = 0;
        else if (defect == 1) tag = 0;
        else kind = uint8(bound(uint256(keccak256(abi.encode(pid, kind))), 3, 256) % 256); // 0 or 3..255
        bytes32 before = _state(pid, tag, pool, address(0));
        vm.expectRevert(abi.encodeWithSelector(IRPR.ResourcePoolRegistry__InvalidRecord.selector, pid, tag, kind));
        vm.prank(MSRP_ACCOUNT);
        registry.recordJoin(pid, tag, pool, kind);
        assertEq(_state(pid, tag, pool, address(0)), before, "state changed");
    }

    function testFuzz_recordJoinRejectsUnknownPool(bytes32 pid, bytes32 tag, uint32 pool, bool reauth) public {
        vm.assume(pid != 0 && tag != 0 && pool != 1);
        bytes32 before = _state(pid, tag, pool, address(0));
        vm.expectRevert(abi.encodeWithSelector(IRPR.ResourcePoolRegistry__UnknownPool.selector, pool));
        vm.prank(MSRP_ACCOUNT);
        registry.recordJoin(pid, tag, pool, reauth ? 2 : 1);
        assertEq(_state(pid, tag, pool, address(0)), before, "state changed");
    }

    /// A recorded PID cannot be recorded again (any tag); a used tag cannot be reused (any new PID).
    function testFuzz_recordJoinRejectsReplays(bytes32 other, bool samePid, bool reauth) public {
        vm.assume(other != 0 && other != PID1 && other != TAG1);
        (bytes32 pid, bytes32 tag) = samePid ? (PID1, other) : (other, TAG1);
        bytes memory err =
            samePid
                ? abi.encodeWithSelector(IRPR.ResourcePoolRegistry__PidExists.selector, PID1)
                : abi.encodeWithSelector(IRPR.ResourcePoolRegistry__TagUsed.selector, TAG1);
        bytes32 before = _state(pid, tag, 1, address(0));
        vm.warp(1_900_000_000);
        vm.expectRevert(err);
        vm.prank(MSRP_ACCOUNT);
        registry.recordJoin(pid, tag, 1, reauth ? 2 : 1);
        assertEq(_state(pid, tag, 1, address(0)), before, "state changed");
        assertEq(registry.pidOfTag(TAG1), PID1, "tag owner changed");
    }

    function testFuzz_recordJoinStoresBothWays(bytes32 pid, bytes32 tag, bool reauth, uint64 time) public {
        vm.assume(pid != 0 && tag != 0 && pid != PID1 && tag != TAG1);
        vm.warp(time);
        vm.prank(MSRP_ACCOUNT);
        registry.recordJoin(pid, tag, 1, reauth ? 2 : 1);
        assertEq(
            abi.encode(registry.recordOf(pid)),
            abi.encode(IRPR.PidRecord(tag, 1, reauth ? 2 : 1, time)),
            "record"
        );
        assertEq(registry.pidOfTag(tag), pid, "pidOfTag");
        assertTrue(registry.isTagUsed(tag) && registry.isVerified(pid), "used / verified");
        assertEq(registry.joinCount(), 2, "joinCount");
    }

    // ---------- recordJoins ----------

    function testFuzz_recordJoinsRejectsEmptyBatch(address caller) public {
        vm.assume(caller != MSRP_ACCOUNT && caller != address(vm));
        IRPR.JoinInput[] memory none = new IRPR.JoinInput[](0);
        vm.expectRevert(abi.encodeWithSelector(IRPR.ResourcePoolRegistry__EmptyBatch.selector));
        vm.prank(MSRP_ACCOUNT);
        registry.recordJoins(none);
        // The role check comes first for anyone else.
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, MSRP));
        vm.prank(caller);
        registry.recordJoins(none);
        assertEq(registry.joinCount(), 1, "joinCount");
    }

    /// One bad entry anywhere in a batch (invalid, unknown pool, replayed PID or tag from the chain or
    /// from an earlier entry) reverts the whole batch with that entry's error: nothing is recorded.
    function testFuzz_recordJoinsIsAllOrNothing(uint8 n, uint8 badAt, uint8 defect, bytes32 seed) public {
        n = uint8(bound(n, 1, 8));
        badAt = uint8(badAt % n);
        defect %= 6;
        IRPR.JoinInput[] memory js = new IRPR.JoinInput[](n);
        for (uint256 i; i < n; ++i) {
            js[i] = IRPR.JoinInput(keccak256(abi.encode(seed, "p", i)), keccak256(abi.encode(seed, "t", i)), 1, 1);
        }
        IRPR.JoinInput memory b = js[badAt];
        bytes memory err;
        if (defect == 0) {
            b.pid = 0;
            err = abi.encodeWithSelector(
                IRPR.ResourcePoolRegistry__InvalidRecord.selector,
                bytes32(0),
                b.tag,
                uint8(1)
            );
        } else if (defect == 1) {
            b.kind = 0;
            err = abi.encodeWithSelector(IRPR.ResourcePoolRegistry__InvalidRecord.selector, b.pid, b.tag, uint8(0));
        } else if (defect == 2) {
            b.poolId = 2;
            err = abi.encodeWithSelector(IRPR.ResourcePoolRegistry__UnknownPool.selector, uint32(2));
        } else if (defect == 3) {
            b.pid = badAt == 0 ? PID1 : js[badAt - 1].pid; // recorded on-chain, or earlier in this batch
            err = abi.encodeWithSelector(IRPR.ResourcePoolRegistry__PidExists.selector, b.pid);
        } else if (defect == 4) {
            b.tag = badAt == 0 ? TAG1 : js[0].tag;
            err = abi.encodeWithSelector(IRPR.ResourcePoolRegistry__TagUsed.selector, b.tag);
        } else {
            b.tag = TAG1;
            err = abi.encodeWithSelector(IRPR.ResourcePoolRegistry__TagUsed.selector, TAG1);
        }
        vm.expectRevert(err);
        vm.prank(MSRP_ACCOUNT);
        registry.recordJoins(js);
        assertEq(registry.joinCount(), 1, "joinCount changed");
        for (uint256 i; i < n; ++i) {
            bytes32 pid = keccak256(abi.encode(seed, "p", i));
            assertEq(registry.recordOf(pid).tag, 0, "an entry of a rejected batch was recorded");
            assertEq(registry.pidOfTag(keccak256(abi.encode(seed, "t", i))), 0, "a tag of a rejected batch was used");
        }
        assertEq(registry.pidOfTag(TAG1), PID1, "existing record changed");
        assertEq(registry.recordOf(PID1).tag, TAG1, "existing record changed");
    }

    function testFuzz_recordJoinsRecordsEveryEntry(uint8 n, bytes32 seed) public {
        n = uint8(bound(n, 1, 8));
        IRPR.JoinInput[] memory js = new IRPR.JoinInput[](n);
        for (uint256 i; i < n; ++i) {
            js[i] = IRPR.JoinInput(keccak256(abi.encode(seed, "p", i)), keccak256(abi.encode(seed, "t", i)), 1, 2);
        }
        vm.prank(MSRP_ACCOUNT);
        registry.recordJoins(js);
        assertEq(registry.joinCount(), uint256(n) + 1, "joinCount");
        for (uint256 i; i < n; ++i) {
            assertEq(registry.recordOf(js[i].pid).tag, js[i].tag, "record");
            assertEq(registry.pidOfTag(js[i].tag), js[i].pid, "pidOfTag");
        }
    }

    // ---------- helpers ----------

    function _assertEveryWriteRejected(address caller, uint256 seed) internal {
        bytes memory err = abi.encodeWithSelector(
            IAccessControl.AccessControlUnauthorizedAccount.selector,
            caller,
            MSRP
        );
        bytes32 pid = keccak256(abi.encode(seed, "pid"));
        bytes32 tag = keccak256(abi.encode(seed, "tag"));
        uint32 newId = uint32(bound(seed, 2, type(uint32).max));
        bytes memory pk = CurvePoints.point(keccak256(abi.encode(seed)), true);
        IRPR.JoinInput[] memory js = new IRPR.JoinInput[](1);
        js[0] = IRPR.JoinInput(pid, tag, 1, 1);
        bytes32 before = _state(pid, tag, newId, caller);

        vm.expectRevert(err);
        vm.prank(caller);
        registry.createPool(newId, caller, pid, pk);
        vm.expectRevert(err);
        vm.prank(caller);
        registry.updatePool(1, caller, pid, pk);
        vm.expectRevert(err);
        vm.prank(caller);
        registry.publishFilter(1, tag, "bafkrei-evil", 10, 8);
        vm.expectRevert(err);
        vm.prank(caller);
        registry.recordJoin(pid, tag, 1, 1);
        vm.expectRevert(err);
        vm.prank(caller);
        registry.recordJoins(js);

        assertEq(_state(pid, tag, newId, caller), before, "state changed");
    }

    /// One of four pool defects, the rest valid (prefix for defect 3 is forced to a non-0x02/0x03 byte).
    function _invalidPoolArgs(
        uint8 defect,
        address rpm,
        bytes32 pidRpm,
        bytes memory pk,
        uint8 prefix
    ) internal pure returns (address, bytes32, bytes memory) {
        if (rpm == address(0)) rpm = address(0xBEEF);
        if (pidRpm == 0) pidRpm = keccak256("pid");
        defect %= 6;
        if (defect == 0) rpm = address(0);
        else if (defect == 1) pidRpm = 0;
        if (defect == 2) {
            if (pk.length == 33) pk = abi.encodePacked(pk, bytes1(0)); // 34 bytes
            if (pk.length != 0) pk[0] = 0x02;
        } else if (defect == 4) {
            // right length and prefix, x off the curve (issue 13 item 12)
            pk = abi.encodePacked(bytes1(prefix & 1 == 0 ? 0x02 : 0x03), CurvePoints.offCurveX(keccak256(pk)));
        } else if (defect == 5) {
            // right length and prefix, x >= p (not canonical)
            pk = abi.encodePacked(bytes1(prefix & 1 == 0 ? 0x02 : 0x03), CurvePoints.nonCanonicalX(keccak256(pk)));
        } else {
            if (prefix == 2 || prefix == 3) prefix ^= 0x80;
            bytes32 x = keccak256(pk);
            pk = abi.encodePacked(bytes1(defect == 3 ? prefix : 0x02), x);
        }
        return (rpm, pidRpm, pk);
    }

    /// The fixed state plus what a call with these keys could have touched.
    function _state(bytes32 pid, bytes32 tag, uint32 poolId, address who) internal view returns (bytes32) {
        bytes memory roles = abi.encode(
            registry.hasRole(0x00, who),
            registry.hasRole(MSRP, who),
            registry.hasRole(RPM, who),
            registry.hasRole(0x00, MSRP_ACCOUNT),
            registry.hasRole(MSRP, MSRP_ACCOUNT),
            registry.hasRole(RPM, RPM_A)
        );
        return
            keccak256(
                abi.encode(
                    roles,
                    registry.pool(1),
                    registry.pool(poolId),
                    registry.filterAt(1, 0),
                    registry.filterAt(1, 1),
                    registry.filterAt(poolId, 0),
                    registry.recordOf(PID1),
                    registry.recordOf(pid),
                    registry.pidOfTag(TAG1),
                    registry.pidOfTag(tag),
                    registry.joinCount()
                )
            );
    }
}
