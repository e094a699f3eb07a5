// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {TrustRef} from "./TrustMath.t.sol";
import {TrustMath} from "../../contracts/libraries/TrustMath.sol";
import {TrustManager} from "../../contracts/trust/TrustManager.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";
import {IIdentityVerifier} from "../../contracts/interfaces/IIdentityVerifier.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @dev An identity registry whose answers the suites set (stands in for the pool and MIT registries).
contract TrustVerifierStub is IIdentityVerifier {
    mapping(bytes32 id => bool) public verified;
    mapping(bytes32 role => mapping(address account => bool)) public hasRole;

    function set(bytes32 id, bool v) external {
        verified[id] = v;
    }

    /// The registry's writer role (IDP_ROLE, MSRP_ROLE) that attests registrations.
    function grant(bytes32 role, address account) external {
        hasRole[role][account] = true;
    }

    function isVerified(bytes32 id) external view returns (bool) {
        return verified[id];
    }

    mapping(bytes32 id => bool) public isRevoked;

    mapping(bytes32 id => uint256) public revokedSince;

    function revoke(bytes32 id, bool r) external {
        isRevoked[id] = r;
        revokedSince[id] = r ? block.number : 0;
    }

    function isVerifiedAsOf(bytes32 id, uint256) external view returns (bool) {
        return verified[id];
    }

    /// The owner tag: the id's first 16 bytes (an id made by avatarIdOf), unless a suite sets another.
    mapping(bytes32 id => bytes16) public tagOverride;

    function setOwnerTag(bytes32 id, bytes16 tag) external {
        tagOverride[id] = tag;
    }

    function ownerTagOf(bytes32 id) external view returns (bytes16) {
        bytes16 t = tagOverride[id];
        return t != bytes16(0) ? t : bytes16(id);
    }
}

/// @dev The dispute court's stand-in: FEEDBACK_ROLE is bound to a contract only.
contract FeedbackCourtStub {}

/// @notice The deployment the TrustManager suites share: a small universe of actors (role holders,
/// two entity controllers, a stranger) and entity ids, the model parameters, and a fingerprint of
/// every piece of observable state, split by who may change it.
abstract contract TrustManagerFixture is Test {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant N_IDS = 5; // index N_IDS stands for the zero id
    uint256 internal constant N_ACTORS = 7;
    uint256 internal constant ADMIN = 0;
    uint256 internal constant ORACLE = 1;
    uint256 internal constant DETECTOR = 2;
    uint256 internal constant FEEDBACK = 3;
    uint256 internal constant USER_A = 4;
    uint256 internal constant USER_B = 5;
    uint256 internal constant STRANGER = 6;

    uint256 internal constant FACTORS = 6;
    /// Lanes 5,000 15,000 10,000 10,000 8,000 12,000 (mean 1, not uniform on purpose).
    uint256 internal constant WEIGHTS =
        5000 | (15000 << 16) | (10000 << 32) | (10000 << 48) | (8000 << 64) | (12000 << 80);
    uint256 internal constant DELTA = 0.3e18;
    uint256 internal constant RHO = 0.98e18;
    uint256 internal constant EPOCH = 1 days;
    uint256 internal constant BASELINE = 0.5e18;
    uint256 internal constant GAMMA = 0.1e18;
    uint256 internal constant UNVERIFIED = 0.5e18;
    uint256 internal constant FLAGGED = 0.2e18;
    uint256 internal constant INITIAL_REP = 0.5e18;
    uint256 internal constant AGREEMENT_WEIGHT = 0.2e18;
    uint256 internal constant CREDIT_CAP = 0.05e18;
    uint256 internal constant CREDIT_MATURITY = 7200;
    uint64 internal constant TRUST_MIN = 0.5e18;
    uint64 internal constant TRUST_MAX = 0.8e18;

    uint8 internal constant AVATAR = 1;
    uint8 internal constant ORGANIZATION = 2;
    uint8 internal constant RESOURCE_NODE = 3;

    TrustManager internal tm;
    TrustVerifierStub internal stubAvatar;
    TrustVerifierStub internal stubNode;
    address[N_ACTORS] internal actors;
    /// Ascending, non-zero.
    bytes32[N_IDS] internal ids;
    bytes32[4] internal roles;

    /// Observable state, split by the guard that protects each part.
    struct Fp {
        bytes32[N_IDS] trustFrom; // trust, updatedAt, ratings of the pairs from ids[i]: its controller
        bytes32 oracles; // O_ij: ORACLE_ROLE
        bytes32 flags; // attack bits: DETECTOR_ROLE
        bytes32 admin; // verified bits, verifiers, thresholds: admin
        bytes32 reps; // reputations: FEEDBACK_ROLE, or an agreement by the organization's controller
        bytes32 registry; // controllers and kinds: register
        bytes32[N_ACTORS] rolesOf; // each actor's roles: admin, or the actor renouncing
        bytes32 roleAdmins; // nobody
        bytes32 agreements; // count and last agreement: the organization's controller
    }

    function _model() internal pure returns (ITrustManager.Model memory m) {
        m = ITrustManager.Model(
            FACTORS,
            WEIGHTS,
            DELTA,
            RHO,
            EPOCH,
            BASELINE,
            GAMMA,
            UNVERIFIED,
            FLAGGED,
            INITIAL_REP,
            AGREEMENT_WEIGHT
        );
    }

    function _deploy() internal {
        for (uint256 i; i < N_ACTORS; ++i) actors[i] = vm.addr(_actorKey(i));
        actors[FEEDBACK] = address(new FeedbackCourtStub());
        for (uint256 i; i < N_IDS; ++i) ids[i] = keccak256(abi.encode("trust entity", i));
        for (uint256 i = 1; i < N_IDS; ++i)
            for (uint256 j = i; j > 0 && ids[j] < ids[j - 1]; --j) (ids[j], ids[j - 1]) = (ids[j - 1], ids[j]);
        tm = new TrustManager(actors[ADMIN], _model(), TRUST_MIN, TRUST_MAX);
        roles = [bytes32(0), tm.ORACLE_ROLE(), tm.DETECTOR_ROLE(), tm.FEEDBACK_ROLE()];
        stubAvatar = new TrustVerifierStub();
        stubNode = new TrustVerifierStub();
        vm.startPrank(actors[ADMIN]);
        tm.grantRole(roles[ORACLE], actors[ORACLE]);
        tm.grantRole(roles[DETECTOR], actors[DETECTOR]);
        tm.grantRole(roles[FEEDBACK], actors[FEEDBACK]);
        tm.setVerifier(ITrustManager.Kind.Avatar, stubAvatar);
        vm.stopPrank();
        vm.prank(actors[USER_A]);
        tm.register(ids[0], ITrustManager.Kind.Avatar);
        vm.prank(actors[USER_B]);
        tm.register(ids[1], ITrustManager.Kind.Avatar);
        vm.prank(actors[USER_B]);
        tm.register(ids[2], ITrustManager.Kind.Organization);
        vm.prank(actors[USER_A]);
        tm.register(ids[3], ITrustManager.Kind.ResourceNode);
    }

    /// Actor i's private key (actors sign agreement consents).
    function _actorKey(uint256 i) internal pure returns (uint256) {
        return (uint256(keccak256(abi.encode("trust actor", i))) % (SECP256K1_N - 1)) + 1;
    }

    /// The key of an actor account; 0 for the court stub (a contract) and strangers.
    function _keyOf(address a) internal view returns (uint256) {
        for (uint256 i; i < N_ACTORS; ++i) if (actors[i] == a && i != FEEDBACK) return _actorKey(i);
        return 0;
    }

    /// An EIP-712 signature of `structHash` under the TrustManager's domain.
    function _sign712(uint256 key, bytes32 structHash) internal view returns (bytes memory) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("TrustManager"),
                keccak256("1"),
                block.chainid,
                address(tm)
            )
        );
        (uint8 v, bytes32 r, bytes32 s_) = vm.sign(key, keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
        return abi.encodePacked(r, s_, v);
    }

    /// The consent struct hash of an agreement at `nonce`.
    function _consentHash(
        bytes32 org,
        bytes32[] memory avatars,
        uint64[] memory thresholds,
        bytes32 terms,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    tm.CONSENT_TYPEHASH(),
                    org,
                    keccak256(abi.encodePacked(avatars)),
                    keccak256(abi.encodePacked(thresholds)),
                    terms,
                    nonce,
                    deadline
                )
            );
    }

    /// Spreads a fuzzed selector seed: the fuzzer's dictionary favours 0 and small values, which
    /// would otherwise always pick the same (rare, failing) branch.
    function _mix(uint256 x, uint256 salt) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(x, salt)));
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % N_ACTORS];
    }

    function _id(uint256 seed) internal view returns (bytes32) {
        uint256 i = seed % (N_IDS + 1);
        return i == N_IDS ? bytes32(0) : ids[i];
    }

    function _fp() internal view returns (Fp memory f) {
        for (uint256 i; i < N_IDS; ++i) {
            bytes32 h;
            for (uint256 j; j < N_IDS; ++j) {
                ITrustManager.Pair memory p = tm.pairOf(ids[i], ids[j]);
                h = keccak256(abi.encode(h, p.trust, p.updatedAt, p.ratings));
                f.oracles = keccak256(abi.encode(f.oracles, p.oracle));
            }
            f.trustFrom[i] = h;
        }
        for (uint256 i; i <= N_IDS; ++i) {
            ITrustManager.Entity memory e = tm.entity(i < N_IDS ? ids[i] : bytes32(0));
            f.flags = keccak256(abi.encode(f.flags, e.flags & 0x7f));
            f.admin = keccak256(abi.encode(f.admin, e.flags & 0x80));
            f.reps = keccak256(abi.encode(f.reps, e.reputation));
            f.registry = keccak256(abi.encode(f.registry, e.controller, e.kind));
        }
        (uint64 lo, uint64 hi) = tm.agreementThresholds();
        f.admin = keccak256(abi.encode(f.admin, lo, hi));
        for (uint8 k = 1; k <= 4; ++k) f.admin = keccak256(abi.encode(f.admin, tm.verifierOf(ITrustManager.Kind(k))));
        for (uint256 a; a < N_ACTORS; ++a)
            for (uint256 r; r < 4; ++r)
                f.rolesOf[a] = keccak256(abi.encode(f.rolesOf[a], tm.hasRole(roles[r], actors[a])));
        for (uint256 r; r < 4; ++r) f.roleAdmins = keccak256(abi.encode(f.roleAdmins, tm.getRoleAdmin(roles[r])));
        uint256 n = tm.agreementCount();
        f.agreements = keccak256(abi.encode(n, n == 0 ? bytes("") : abi.encode(tm.agreement(n))));
    }

    function _fpEq(Fp memory a, Fp memory b) internal pure returns (bool) {
        return keccak256(abi.encode(a)) == keccak256(abi.encode(b));
    }

    function _fpHash() internal view returns (bytes32) {
        return keccak256(abi.encode(_fp()));
    }

    // ------------------------------------------------------------------ expected errors

    function _eUnknown(bytes32 id) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__UnknownEntity.selector, id);
    }

    function _eExists(bytes32 id) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__EntityExists.selector, id);
    }

    function _eKind(uint8 kind) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__InvalidKind.selector, kind);
    }

    function _eNotController(bytes32 id, address caller) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__NotController.selector, id, caller);
    }

    function _eSelf(bytes32 id) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__SelfRating.selector, id);
    }

    function _eIntegrity(bytes32 expected, bytes32 actual) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__IntegrityCheckFailed.selector, expected, actual);
    }

    function _eParam() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__InvalidParameter.selector);
    }

    function _eAgreement() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__InvalidAgreement.selector);
    }

    function _eFlag(uint8 kind) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__InvalidFlag.selector, kind);
    }

    function _eStaleEra(bytes32 id, uint256 generation, uint256 current) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__StaleEra.selector, id, generation, current);
    }

    function _eNotFlagged(bytes32 id, uint8 kind) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__NotFlagged.selector, id, kind);
    }

    function _eStaleInstance(
        bytes32 id,
        uint8 kind,
        uint32 serial,
        uint32 current
    ) internal pure returns (bytes memory) {
        return
            abi.encodeWithSelector(ITrustManager.TrustManager__StaleFlagInstance.selector, id, kind, serial, current);
    }

    function _eVector(uint256 packed) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(TrustMath.TrustMath__InvalidVector.selector, packed, FACTORS);
    }

    function _eOwnEntity(bytes32 from, bytes32 to, address caller) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__OwnEntityRating.selector, from, to, caller);
    }

    function _eEpoch(bytes32 from, bytes32 to, uint256 next) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__RatedThisEpoch.selector, from, to, next);
    }

    function _eDistinct(bytes32 role, address account) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__RoleHoldersNotDistinct.selector, role, account);
    }

    function _eBound(address account) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ITrustManager.TrustManager__FeedbackAlreadyBound.selector, account);
    }

    function _eRole(address caller, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, role);
    }

    // ------------------------------------------------------------------ reference arithmetic

    function _lane(uint256 packed, uint256 k) internal pure returns (uint256) {
        return TrustRef.laneOf(packed, k);
    }

    /// True iff `factors` is a valid 6-factor vector (lanes <= BPS, nothing beyond lane 5).
    function _validFactors(uint256 factors) internal pure returns (bool) {
        if (factors >> (16 * FACTORS) != 0) return false;
        for (uint256 k; k < FACTORS; ++k) if (_lane(factors, k) > BPS) return false;
        return true;
    }

    /// Eq. 41 through the reference mean (valid factors only).
    function _tOpt(uint256 factors) internal pure returns (uint256) {
        uint256[] memory f = new uint256[](FACTORS);
        uint256[] memory w = new uint256[](FACTORS);
        for (uint256 k; k < FACTORS; ++k) {
            f[k] = _lane(factors, k);
            w[k] = _lane(WEIGHTS, k);
        }
        return TrustRef.meanTrust(f, w);
    }

    /// The stored value relaxed to now (the exact rounding of rho^e is TrustMath's, tested on its own).
    function _current(uint64 stored, uint40 updatedAt, uint32 ratings) internal view returns (uint256) {
        if (ratings == 0) return BASELINE;
        return TrustMath.decay(stored, BASELINE, RHO, (block.timestamp - updatedAt) / EPOCH);
    }

    /// Eq. 43 with each product rounded down.
    function _blend(uint256 t, uint256 prev, uint256 delta) internal pure returns (uint256) {
        return (delta * t) / WAD + ((WAD - delta) * prev) / WAD;
    }

    /// Six factor lanes in [0, BPS] from a seed, with the edges 0 and BPS common.
    function _goodFactors(uint256 seed) internal pure returns (uint256 f) {
        for (uint256 k; k < FACTORS; ++k) {
            uint256 r = uint256(keccak256(abi.encode(seed, k)));
            uint256 v =
                r % 4 == 0
                    ? 0
                    : r % 4 == 1
                        ? BPS
                        : (r >> 8) % (BPS + 1);
            f |= v << (16 * k);
        }
    }
}

/// @notice Drives every state-changing TrustManager function (and the identity registries it
/// reads) from a small set of actors with bounded, mostly valid arguments, warping time between
/// calls. Each call is predicted by a ghost model first (the exact custom error, or the new
/// state); the handler records every disagreement, every rejected call that changed a
/// fingerprint, and every change of guarded state by a caller the model says may not make it.
contract TrustManagerHandler is TrustManagerFixture {
    struct GEntity {
        address controller;
        uint8 kind;
        uint8 flags;
        uint64 rep;
        bool vouched;
    }

    struct GPair {
        uint64 trust;
        uint40 updatedAt;
        uint32 ratings;
        int64 oracle;
    }

    mapping(bytes32 id => GEntity) internal gEntity;
    mapping(bytes32 from => mapping(bytes32 to => GPair)) internal gPair;
    mapping(bytes32 role => mapping(address account => bool)) internal gRole;
    mapping(uint256 kind => address) internal gVerifier;
    uint64 internal gMin;
    uint64 internal gMax;
    uint256 internal gAgreements;
    mapping(bytes32 org => uint256) internal gNonce;
    bytes32 internal gLastAgreement;
    mapping(bytes32 id => uint256[]) internal histBlock;
    mapping(bytes32 id => uint256[]) internal histValue;
    /// What each organization's agreements credited each avatar (ITrustManager.Credit).
    mapping(bytes32 org => mapping(bytes32 avatar => ITrustManager.Credit)) internal gCredit;
    /// Per id and kind, the serial of its last flag (`flagMarks`): `unflag` names it.
    mapping(bytes32 id => uint32[7]) internal gSerial;

    uint256 public calls;
    uint256 public rejectedCalls;
    uint256 public modelMismatches;
    bytes public lastModelMismatch;
    uint256 public rejectedButChanged;
    bytes4 public lastRejectedButChanged;
    uint256 public unauthorizedChanges;
    string public lastUnauthorizedChange;
    mapping(bytes4 selector => uint256) public succeeded;
    /// The fingerprint after the previous call: nothing touches the TrustManager between two
    /// handler calls (time does not change storage), so it is the next call's "before".
    Fp internal prevFp;
    /// Whether to fingerprint the state around every call (costly; only the guard campaigns need it).
    bool internal immutable fingerprints;

    constructor(bool withFingerprints) {
        fingerprints = withFingerprints;
        _deploy();
        if (fingerprints) prevFp = _fp();
        for (uint256 r; r < 4; ++r)
            for (uint256 a; a < N_ACTORS; ++a) gRole[roles[r]][actors[a]] = tm.hasRole(roles[r], actors[a]);
        for (uint256 i; i < N_IDS; ++i) {
            ITrustManager.Entity memory e = tm.entity(ids[i]);
            gEntity[ids[i]] = GEntity(e.controller, uint8(e.kind), e.flags, e.reputation, e.vouched);
            gSerial[ids[i]] = tm.flagMarks(ids[i]);
            if (e.kind != ITrustManager.Kind.None) _pushRep(ids[i], e.reputation);
        }
        for (uint8 k = 1; k <= 4; ++k) gVerifier[k] = tm.verifierOf(ITrustManager.Kind(k));
        (gMin, gMax) = tm.agreementThresholds();
    }

    // ================================================================== actions

    function register(uint256 actorSeed, uint256 idSeed, uint256 kindSeed, uint256 time) external {
        _tick(time);
        (actorSeed, idSeed, kindSeed) = (_mix(actorSeed, 1), _mix(idSeed, 2), _mix(kindSeed, 3));
        address caller = _actor(actorSeed);
        bytes32 id = _id(idSeed);
        uint256 kind = kindSeed % 6;
        bytes memory err;
        bool fail = true;
        if (kind > 4)
            err = ""; // the ABI decoder refuses an out-of-range enum before anything else
        else if (id == 0 || gEntity[id].kind != 0) err = _eExists(id);
        else if (kind == 0)
            err = _eKind(0);
            // an id either registry verifies is its owner's, whatever kind is asked (h15-red3 H2):
            // the avatar registry is asked first, and the error names the registry that verifies it
        else if (_verifiedBy(AVATAR, id))
            err = abi.encodeWithSelector(
                ITrustManager.TrustManager__AttestationRequired.selector,
                id,
                ITrustManager.Kind.Avatar
            );
        else if (_verifiedBy(RESOURCE_NODE, id))
            err = abi.encodeWithSelector(
                ITrustManager.TrustManager__AttestationRequired.selector,
                id,
                ITrustManager.Kind.ResourceNode
            );
        else fail = false;
        bytes memory data = abi.encodeWithSelector(ITrustManager.register.selector, id, kind);
        if (_exec(caller, data, !fail, err, id)) {
            // a newcomer starts at 0; verification grants the initial reputation (whitewashing)
            gEntity[id] = GEntity(caller, uint8(kind), 0, 0, false);
            _pushRep(id, 0);
        }
    }

    function _verifiedBy(uint8 kind, bytes32 id) private view returns (bool) {
        return gVerifier[kind] != address(0) && TrustVerifierStub(gVerifier[kind]).verified(id);
    }

    function rate(
        uint256 actorSeed,
        uint256 fromSeed,
        uint256 toSeed,
        uint256 factorSeed,
        bytes32 evidence,
        uint256 modeSeed,
        uint256 time
    ) external {
        _tick(time);
        (actorSeed, fromSeed, toSeed, modeSeed) = (
            _mix(actorSeed, 1),
            _mix(fromSeed, 2),
            _mix(toSeed, 3),
            _mix(modeSeed, 4)
        );
        bytes32 from = _knownId(fromSeed);
        bytes32 to = _knownId(toSeed);
        // Mostly the controller of `from`, sometimes anyone.
        address caller =
            modeSeed % 4 == 0 || gEntity[from].controller == address(0) ? _actor(actorSeed) : gEntity[from].controller;
        uint256 factors = _goodFactors(factorSeed);
        uint256 shape = (modeSeed >> 8) % 12;
        if (shape == 0) factors |= (BPS + 1 + (factorSeed % (65_535 - BPS))) << (16 * (factorSeed % FACTORS));
        else if (shape == 1) factors |= (1 + (factorSeed % 0xffff)) << (16 * (FACTORS + ((factorSeed >> 64) % 10)));

        GPair memory p = gPair[from][to];
        uint64 newTrust;
        bytes32 digest;
        if (_validFactors(factors)) {
            newTrust = uint64(_blend(_tOpt(factors), _current(p.trust, p.updatedAt, p.ratings), DELTA));
            digest = keccak256(abi.encode(from, to, newTrust, block.timestamp));
        }
        // the model reclaims nothing: every id is at generation 0; one rating in eight names another
        // era of its rater or of the rated (a rating in flight across a reclaim, h16-red2 R6)
        uint256 stale = (modeSeed >> 24) % 16;
        uint256 gFrom = stale == 0 ? 1 + ((factorSeed >> 200) % 255) : 0;
        uint256 gTo = stale == 1 ? 1 + ((factorSeed >> 208) % 255) : 0;
        uint256 check = (modeSeed >> 16) % 6; // 0-2 no check, 3-4 the right digest, 5 a wrong one
        bytes32 expected =
            check < 3
                ? bytes32(0)
                : check < 5
                    ? digest
                    : keccak256(abi.encode(modeSeed));

        bytes memory err;
        bool fail = true;
        if (from == to) err = _eSelf(from);
        else if (gEntity[from].controller != caller)
            err = gEntity[from].kind == 0 ? _eUnknown(from) : _eNotController(from, caller);
        else if (gEntity[to].kind == 0) err = _eUnknown(to);
        else if (gEntity[to].controller == caller) err = _eOwnEntity(from, to, caller);
        else if (gFrom != 0) err = _eStaleEra(from, gFrom, 0);
        else if (gTo != 0) err = _eStaleEra(to, gTo, 0);
        else if (p.ratings != 0 && block.timestamp - p.updatedAt < EPOCH)
            err = _eEpoch(from, to, uint256(p.updatedAt) + EPOCH);
        else if (!_validFactors(factors)) err = _eVector(factors);
        else if (expected != bytes32(0) && expected != digest) err = _eIntegrity(expected, digest);
        else fail = false;
        bytes memory data = abi.encodeCall(ITrustManager.rate, (from, to, factors, evidence, expected, gFrom, gTo));
        if (_exec(caller, data, !fail, err, from)) {
            gPair[from][to] = GPair(newTrust, uint40(block.timestamp), p.ratings + 1, p.oracle);
        }
    }

    function setOracle(uint256 actorSeed, uint256 fromSeed, uint256 toSeed, uint256 valueSeed, uint256 time) external {
        _tick(time);
        (actorSeed, fromSeed, toSeed) = (_mix(actorSeed, 1), _mix(fromSeed, 2), _mix(toSeed, 3));
        address caller = _callerFor(ORACLE, actorSeed);
        bytes32 from = _knownId(fromSeed);
        bytes32 to = _knownId(toSeed);
        int256 value = _signedWad(valueSeed, 1);
        bytes memory err;
        bool fail = true;
        // the model reclaims nothing: every id is at generation 0; one write in eight names another era
        uint256 gTo = (valueSeed >> 200) % 8 == 0 ? 1 : 0;
        if (!gRole[roles[ORACLE]][caller]) err = _eRole(caller, roles[ORACLE]);
        else if (gEntity[from].kind == 0) err = _eUnknown(from);
        else if (gEntity[to].kind == 0) err = _eUnknown(to);
        else if (gTo != 0) err = _eStaleEra(to, gTo, 0);
        else if (value > int256(WAD) || value < -int256(WAD)) err = _eParam();
        else fail = false;
        bytes memory data = abi.encodeCall(ITrustManager.setOracle, (from, to, int64(value), 0, gTo));
        if (_exec(caller, data, !fail, err, from)) gPair[from][to].oracle = int64(value);
    }

    function flag(uint256 actorSeed, uint256 idSeed, uint256 kindSeed, bytes32 evidence, uint256 time) external {
        _flagOrUnflag(actorSeed, idSeed, kindSeed, evidence, time, true);
    }

    /// @dev `eraSeed` picks the generation the withdrawal names as the evidence does for flag, and
    /// the instance it names: the current one, or (one in four) another serial.
    function unflag(uint256 actorSeed, uint256 idSeed, uint256 kindSeed, bytes32 eraSeed, uint256 time) external {
        _flagOrUnflag(actorSeed, idSeed, kindSeed, eraSeed, time, false);
    }

    function adjustReputation(uint256 actorSeed, uint256 idSeed, uint256 amountSeed, uint256 time) external {
        _tick(time);
        (actorSeed, idSeed) = (_mix(actorSeed, 1), _mix(idSeed, 2));
        address caller = _callerFor(FEEDBACK, actorSeed);
        bytes32 id = _knownId(idSeed);
        int256 amount = _signedWad(amountSeed, 3);
        bytes memory err;
        bool fail = true;
        if (!gRole[roles[FEEDBACK]][caller]) err = _eRole(caller, roles[FEEDBACK]);
        else if (gEntity[id].kind == 0) err = _eUnknown(id);
        else fail = false;
        bytes memory data = abi.encodeCall(ITrustManager.adjustReputation, (id, amount));
        if (_exec(caller, data, !fail, err, id)) {
            int256 r = int256(uint256(gEntity[id].rep)) + amount;
            uint256 updated =
                r <= 0
                    ? 0
                    : r >= int256(WAD)
                        ? WAD
                        : uint256(r);
            gEntity[id].rep = uint64(updated);
            _pushRep(id, updated);
        }
    }

    function setIdentityVerified(uint256 actorSeed, uint256 idSeed, bool verified, uint256 time) external {
        _tick(time);
        (actorSeed, idSeed) = (_mix(actorSeed, 1), _mix(idSeed, 2));
        address caller = _callerFor(ADMIN, actorSeed);
        bytes32 id = _knownId(idSeed);
        bytes memory err;
        bool fail = true;
        if (!gRole[roles[ADMIN]][caller]) err = _eRole(caller, roles[ADMIN]);
        else if (gEntity[id].kind == 0) err = _eUnknown(id);
        else fail = false;
        bytes memory data = abi.encodeCall(TrustManager.setIdentityVerified, (id, verified));
        if (_exec(caller, data, !fail, err, id)) {
            gEntity[id].flags = verified ? gEntity[id].flags | 0x80 : gEntity[id].flags & 0x7f;
            // the first verification grants the initial reputation, capped at 1, once
            if (verified && !gEntity[id].vouched) {
                gEntity[id].vouched = true;
                uint256 updated = gEntity[id].rep + INITIAL_REP > WAD ? WAD : gEntity[id].rep + INITIAL_REP;
                gEntity[id].rep = uint64(updated);
                _pushRep(id, updated);
            }
        }
    }

    function setVerifier(uint256 actorSeed, uint256 kindSeed, uint256 which, uint256 time) external {
        _tick(time);
        (actorSeed, kindSeed, which) = (_mix(actorSeed, 1), _mix(kindSeed, 2), _mix(which, 3));
        address caller = _callerFor(ADMIN, actorSeed);
        uint256 kind = kindSeed % 6;
        address v =
            which % 3 == 0
                ? address(stubAvatar)
                : which % 3 == 1
                    ? address(stubNode)
                    : address(0);
        bytes memory err;
        bool fail = true;
        if (kind > 4) err = "";
        else if (!gRole[roles[ADMIN]][caller]) err = _eRole(caller, roles[ADMIN]);
        else if (kind == 0) err = _eKind(0);
        else fail = false;
        bytes memory data = abi.encodeWithSelector(TrustManager.setVerifier.selector, kind, v);
        if (_exec(caller, data, !fail, err, bytes32(0))) gVerifier[kind] = v;
    }

    function setAgreementThresholds(uint256 actorSeed, uint256 minSeed, uint256 maxSeed, uint256 time) external {
        _tick(time);
        address caller = _callerFor(ADMIN, _mix(actorSeed, 1));
        uint64 lo = uint64(minSeed % (WAD + 2));
        uint64 hi = uint64(_mix(maxSeed, 2) % 8 == 0 ? WAD + 1 : maxSeed % (WAD + 1));
        bytes memory err;
        bool fail = true;
        if (!gRole[roles[ADMIN]][caller]) err = _eRole(caller, roles[ADMIN]);
        else if (lo > hi || hi > WAD) err = _eParam();
        else fail = false;
        bytes memory data = abi.encodeCall(TrustManager.setAgreementThresholds, (lo, hi));
        if (_exec(caller, data, !fail, err, bytes32(0))) (gMin, gMax) = (lo, hi);
    }

    function proposeAgreement(
        uint256 actorSeed,
        uint256 orgSeed,
        uint256 mask,
        uint256 thresholdSeed,
        uint256 modeSeed,
        uint256 time
    ) external {
        _tick(time);
        (actorSeed, orgSeed, mask, thresholdSeed, modeSeed) = (
            _mix(actorSeed, 1),
            _mix(orgSeed, 2),
            _mix(mask, 3),
            _mix(thresholdSeed, 4),
            _mix(modeSeed, 5)
        );
        bytes32 org = _idOfKind(ORGANIZATION, orgSeed);
        address caller =
            modeSeed % 5 == 0 || gEntity[org].controller == address(0) ? _actor(actorSeed) : gEntity[org].controller;
        (bytes32[] memory avatars, uint64[] memory thresholds) = _agreementInputs(mask, thresholdSeed, modeSeed);
        bytes32 terms = (modeSeed >> 16) % 8 == 0 ? bytes32(0) : keccak256(abi.encode("terms", modeSeed));

        (bool fail, bytes memory err, uint256[] memory t, uint64 mean, ITrustManager.Mode mode) = _predictAgreement(
            caller,
            org,
            avatars,
            thresholds,
            terms
        );
        (uint256 deadline, bytes[] memory consents, bytes memory consentErr) = _consents(
            caller,
            org,
            avatars,
            thresholds,
            terms,
            modeSeed
        );
        if (!fail && consentErr.length != 0) (fail, err) = (true, consentErr);
        bytes memory data = abi.encodeCall(
            ITrustManager.proposeAgreement,
            (org, avatars, thresholds, terms, ITrustManager.Consents(deadline, consents))
        );
        if (_exec(caller, data, !fail, err, org)) {
            ++gAgreements;
            ++gNonce[org];
            gLastAgreement = keccak256(
                abi.encode(
                    ITrustManager.Agreement(
                        org,
                        mode,
                        mean,
                        uint40(block.timestamp),
                        keccak256(abi.encodePacked(avatars)),
                        terms,
                        keccak256(abi.encodePacked(terms, mean))
                    )
                )
            );
            if (mode != ITrustManager.Mode.Intermediary) _gCredit(caller, org, avatars, t);
        }
    }

    function grantRole(uint256 actorSeed, uint256 roleSeed, uint256 targetSeed, uint256 time) external {
        _grantOrRevoke(actorSeed, roleSeed, targetSeed, time, true);
    }

    function revokeRole(uint256 actorSeed, uint256 roleSeed, uint256 targetSeed, uint256 time) external {
        _grantOrRevoke(actorSeed, roleSeed, targetSeed, time, false);
    }

    function renounceRole(uint256 actorSeed, uint256 roleSeed, uint256 confirmSeed, uint256 time) external {
        _tick(time);
        (actorSeed, roleSeed, confirmSeed) = (_mix(actorSeed, 1), _mix(roleSeed, 2), _mix(confirmSeed, 3));
        address caller = _actor(actorSeed);
        bytes32 role = roles[roleSeed % 4];
        address confirmation = confirmSeed % 4 == 0 ? _actor(confirmSeed >> 8) : caller;
        bytes memory err;
        bool fail = confirmation != caller;
        if (fail) err = abi.encodeWithSelector(IAccessControl.AccessControlBadConfirmation.selector);
        bytes memory data = abi.encodeCall(IAccessControl.renounceRole, (role, confirmation));
        if (_exec(caller, data, !fail, err, bytes32(0))) gRole[role][caller] = false;
    }

    /// The identity registries change their answers (outside the TrustManager).
    function setRegistryAnswer(uint256 which, uint256 idSeed, bool verified, uint256 time) external {
        _tick(time);
        (_mix(which, 1) % 2 == 0 ? stubAvatar : stubNode).set(_id(_mix(idSeed, 2)), verified);
    }

    /// Time passes without calls (up to 400 days), for long decays; one wait in two also lets
    /// CREDIT_MATURITY blocks pass, so that organizations gain the standing agreements credit with.
    function wait(uint256 time) external {
        vm.warp(block.timestamp + (time % 400 days));
        vm.roll(block.number + 1 + ((time >> 64) % 2 == 0 ? CREDIT_MATURITY : 0));
    }

    // ================================================================== checks (called by the invariants)

    /// Trust, reputation and oracle terms stay in range; trustOf is in [0, 1].
    function checkRanges() external view {
        for (uint256 i; i < N_IDS; ++i) {
            ITrustManager.Entity memory e = tm.entity(ids[i]);
            assertLe(e.reputation, WAD, "reputation <= 1");
            for (uint256 j; j < N_IDS; ++j) {
                ITrustManager.Pair memory p = tm.pairOf(ids[i], ids[j]);
                assertLe(p.trust, WAD, "stored trust <= 1");
                assertTrue(p.oracle >= -int64(int256(WAD)) && p.oracle <= int64(int256(WAD)), "oracle in [-1, 1]");
                if (e.kind != ITrustManager.Kind.None && gEntity[ids[j]].kind != 0) {
                    assertLe(tm.trustOf(ids[i], ids[j]), WAD, "effective trust <= 1");
                }
            }
        }
    }

    /// The identity and flag factors only lower trust: trustOf <= Eq. 46 of the decayed stored
    /// value, and lazy decay never lifts trust above max(stored, baseline) (plus the oracle's bonus).
    function checkEffectiveTrust() external view {
        for (uint256 i; i < N_IDS; ++i) {
            if (gEntity[ids[i]].kind == 0) continue;
            for (uint256 j; j < N_IDS; ++j) {
                if (gEntity[ids[j]].kind == 0) continue;
                ITrustManager.Pair memory p = tm.pairOf(ids[i], ids[j]);
                uint256 t = tm.trustOf(ids[i], ids[j]);
                uint256 decayed = _current(p.trust, p.updatedAt, p.ratings);
                uint256 stored = p.ratings == 0 ? BASELINE : p.trust;
                uint256 bonus = p.oracle > 0 ? (GAMMA * uint256(int256(p.oracle))) / WAD : 0;
                assertLe(t, TrustRef.oracle(decayed, p.oracle, GAMMA), "effective > stored after decay and oracle");
                assertLe(t, TrustRef.max(stored, BASELINE) + bonus, "effective > max(stored, baseline) + oracle bonus");
            }
        }
    }

    /// Reputation history: every value the model recorded at a past block is what reputationAt
    /// returns there, the value before it at the block before, and 0 before registration.
    function checkCheckpoints() external view {
        for (uint256 i; i < N_IDS; ++i) {
            bytes32 id = ids[i];
            uint256[] storage bs = histBlock[id];
            uint256[] storage vs = histValue[id];
            for (uint256 k; k < bs.length; ++k) {
                if (k > 0) assertLt(bs[k - 1], bs[k], "ghost history not increasing");
                if (bs[k] >= block.number) break;
                assertEq(tm.reputationAt(id, uint48(bs[k])), vs[k], "reputationAt at a checkpoint");
                uint256 prev = k == 0 ? 0 : vs[k - 1];
                assertEq(tm.reputationAt(id, uint48(bs[k] - 1)), prev, "reputationAt before a checkpoint");
            }
            if (bs.length != 0 && bs[bs.length - 1] < block.number) {
                assertEq(tm.reputationAt(id, uint48(block.number - 1)), vs[vs.length - 1], "latest past value");
            }
        }
        // The total reputation a dispute reads at opening (block.number - 1) is the sum of the
        // model's reputations at that block.
        uint256 sum;
        for (uint256 i; i < N_IDS; ++i) {
            uint256[] storage bs = histBlock[ids[i]];
            uint256 r;
            for (uint256 k; k < bs.length && bs[k] < block.number; ++k) r = histValue[ids[i]][k];
            sum += r;
        }
        assertEq(tm.totalReputationAt(uint48(block.number - 1)), sum, "total reputation at the previous block");
    }

    /// Roles are exactly the model's: only admin grants/revokes and self-renounce changed them;
    /// role admins never change; neither the handler nor the contract holds a role.
    function checkRoles() external view {
        for (uint256 r; r < 4; ++r) {
            assertEq(tm.getRoleAdmin(roles[r]), bytes32(0), "role admin changed");
            assertFalse(tm.hasRole(roles[r], address(this)), "handler holds a role");
            assertFalse(tm.hasRole(roles[r], address(tm)), "contract holds a role");
            for (uint256 a; a < N_ACTORS; ++a) {
                assertTrue(
                    tm.hasRole(roles[r], actors[a]) == gRole[roles[r]][actors[a]],
                    "role differs from the model"
                );
            }
        }
        // Separation: no account holds two roles, and the feedback role never left the court.
        for (uint256 a; a < N_ACTORS; ++a) {
            uint256 held;
            for (uint256 r; r < 4; ++r) if (tm.hasRole(roles[r], actors[a])) ++held;
            assertLe(held, 1, "an account holds two roles");
            if (a != FEEDBACK) assertFalse(tm.hasRole(roles[FEEDBACK], actors[a]), "feedback outside the court");
        }
    }

    /// The whole observable state equals the model.
    function checkModelState() external view {
        for (uint256 i; i <= N_IDS; ++i) {
            bytes32 id = i < N_IDS ? ids[i] : bytes32(0);
            ITrustManager.Entity memory e = tm.entity(id);
            GEntity memory g = gEntity[id];
            assertEq(e.controller, g.controller, "controller");
            assertEq(uint256(e.kind), g.kind, "kind");
            assertEq(e.flags, g.flags, "flags");
            assertEq(e.reputation, g.rep, "reputation");
            if (i == N_IDS) continue;
            uint32[7] memory serials = tm.flagMarks(id);
            for (uint256 k; k < 7; ++k) assertEq(serials[k], gSerial[id][k], "flag serial");
            for (uint256 j; j < N_IDS; ++j) {
                ITrustManager.Pair memory p = tm.pairOf(id, ids[j]);
                GPair memory q = gPair[id][ids[j]];
                assertEq(p.trust, q.trust, "pair trust");
                assertEq(p.updatedAt, q.updatedAt, "pair updatedAt");
                assertEq(p.ratings, q.ratings, "pair ratings");
                assertTrue(p.oracle == q.oracle, "pair oracle");
                ITrustManager.Credit memory c = tm.creditOf(id, ids[j]);
                assertEq(c.at, gCredit[id][ids[j]].at, "credit time");
                assertEq(c.total, gCredit[id][ids[j]].total, "credit total");
            }
        }
        for (uint256 i; i < N_IDS; ++i) {
            if (gEntity[ids[i]].kind == 0) continue;
            for (uint256 j; j < N_IDS; ++j) {
                if (gEntity[ids[j]].kind == 0) continue;
                assertEq(
                    tm.trustOf(ids[i], ids[j]),
                    gEffective(ids[i], ids[j]),
                    "effective trust differs from the model"
                );
            }
        }
        (uint64 lo, uint64 hi) = tm.agreementThresholds();
        assertEq(lo, gMin, "trustMin");
        assertEq(hi, gMax, "trustMax");
        for (uint8 k = 1; k <= 4; ++k) assertEq(tm.verifierOf(ITrustManager.Kind(k)), gVerifier[k], "verifier");
        assertEq(tm.agreementCount(), gAgreements, "agreement count");
        if (gAgreements != 0)
            assertEq(keccak256(abi.encode(tm.agreement(gAgreements))), gLastAgreement, "last agreement");
    }

    function allActors() external view returns (address[N_ACTORS] memory) {
        return actors;
    }

    /// The model's effective trust (Eq. 46 of the decayed value, identity factor, flag factor).
    function gEffective(bytes32 from, bytes32 to) public view returns (uint256 t) {
        GPair memory p = gPair[from][to];
        t = TrustRef.oracle(_current(p.trust, p.updatedAt, p.ratings), p.oracle, GAMMA);
        if (!_gVerified(to)) t = (t * UNVERIFIED) / WAD;
        // an unverified stranger (never rated by `from`) gets the flag factor too (whitewashing)
        if (gEntity[to].flags & 0x7f != 0 || (!_gVerified(to) && p.ratings == 0)) t = (t * FLAGGED) / WAD;
    }

    // ================================================================== internals

    /// Usually (two times in three) an actor holding `role` now, if any; else any actor.
    function _callerFor(uint256 role, uint256 seed) internal view returns (address) {
        if (seed % 3 != 0) {
            for (uint256 k; k < N_ACTORS; ++k) {
                address a = actors[((seed >> 8) + k) % N_ACTORS];
                if (gRole[roles[role]][a]) return a;
            }
        }
        return _actor(seed >> 8);
    }

    /// Usually (three times in four) an id of kind `kind` if there is one; else any id (or zero).
    function _idOfKind(uint8 kind, uint256 seed) internal view returns (bytes32) {
        if (seed % 4 != 0) {
            for (uint256 k; k < N_IDS; ++k) {
                bytes32 id = ids[((seed >> 8) + k) % N_IDS];
                if (gEntity[id].kind == kind) return id;
            }
        }
        return _id(seed >> 8);
    }

    /// Usually (three times in four) a registered id; else any id (or zero).
    function _knownId(uint256 seed) internal view returns (bytes32) {
        if (seed % 4 != 0) {
            for (uint256 k; k < N_IDS; ++k) {
                bytes32 id = ids[((seed >> 8) + k) % N_IDS];
                if (gEntity[id].kind != 0) return id;
            }
        }
        return _id(seed >> 8);
    }

    function _tick(uint256 time) internal {
        vm.warp(block.timestamp + (time % 3 days));
        if (_mix(time, 9) % 5 != 0) vm.roll(block.number + 1); // one call in five shares the previous block
    }

    /// A signed WAD amount in [-(scale WAD + 1), scale WAD + 1], edges common.
    function _signedWad(uint256 seed, uint256 scale) internal pure returns (int256) {
        int256 s = int256(scale * WAD);
        uint256 pick = seed % 8;
        if (pick == 0) return s + 1;
        if (pick == 1) return -s - 1;
        if (pick == 2) return s;
        if (pick == 3) return -s;
        if (pick == 4) return 0;
        return int256((seed >> 8) % uint256(2 * s + 3)) - s - 1;
    }

    /// The handler registers without attestations: only the admin flag verifies (the registry's
    /// answer counts for attested entities only; TrustManagerAttestationTest covers those).
    function _gVerified(bytes32 id) internal view returns (bool) {
        return gEntity[id].flags & 0x80 != 0;
    }

    /// Eq. 6 bounded against self-dealing (F2): weighted by the organization's standing, once per
    /// (organization, avatar) per epoch, never the caller's own avatars, only verified avatars
    /// (s20-redt F1), gains capped per pair.
    function _gCredit(address caller, bytes32 org, bytes32[] memory avatars, uint256[] memory t) internal {
        uint256 w = (AGREEMENT_WEIGHT * _gStanding(org)) / WAD;
        if (w == 0) return;
        for (uint256 i; i < avatars.length; ++i) {
            bytes32 a = avatars[i];
            if (gEntity[a].controller == caller) continue;
            if (!_gVerified(a)) continue; // s20-redt F1: only verified avatars enter the electorate
            ITrustManager.Credit memory c = gCredit[org][a];
            if (c.at != 0 && block.timestamp - c.at < EPOCH) continue;
            uint256 old = gEntity[a].rep;
            uint256 updated = _blend(t[i], old, w);
            if (updated > old) {
                if (updated - old > CREDIT_CAP - c.total) updated = old + CREDIT_CAP - c.total;
                c.total += uint64(updated - old);
            }
            if (updated == old) continue;
            c.at = uint40(block.timestamp);
            gCredit[org][a] = c;
            gEntity[a].rep = uint64(updated);
            _pushRep(a, updated);
        }
    }

    /// 0 while flagged or before CREDIT_MATURITY blocks exist; else the lower of the reputation now
    /// and CREDIT_MATURITY blocks ago, read from the model's own history.
    function _gStanding(bytes32 org) internal view returns (uint256 s) {
        if (gEntity[org].flags & 0x7f != 0 || block.number <= CREDIT_MATURITY) return 0;
        s = gEntity[org].rep;
        uint256 then;
        uint256[] storage bs = histBlock[org];
        for (uint256 k; k < bs.length && bs[k] <= block.number - CREDIT_MATURITY; ++k) then = histValue[org][k];
        if (then < s) s = then;
    }

    function _pushRep(bytes32 id, uint256 value) internal {
        uint256[] storage bs = histBlock[id];
        if (bs.length != 0 && bs[bs.length - 1] == block.number) histValue[id][bs.length - 1] = value;
        else {
            bs.push(block.number);
            histValue[id].push(value);
        }
    }

    /// How many of the four roles `account` holds in the model.
    function _rolesOf(address account) internal view returns (uint256 n) {
        for (uint256 r; r < 4; ++r) if (gRole[roles[r]][account]) ++n;
    }

    function _flagOrUnflag(
        uint256 actorSeed,
        uint256 idSeed,
        uint256 kindSeed,
        bytes32 evidence,
        uint256 time,
        bool set
    ) internal {
        _tick(time);
        (actorSeed, idSeed, kindSeed) = (_mix(actorSeed, 1), _mix(idSeed, 2), _mix(kindSeed, 3));
        address caller = _callerFor(DETECTOR, actorSeed);
        bytes32 id = _knownId(idSeed);
        uint8 kind = uint8(kindSeed % 9);
        // a withdrawal mostly names a kind the id holds (else nearly all would be NotFlagged)
        if (!set && (kindSeed >> 128) % 4 != 0)
            for (uint8 k; k < 7; ++k)
                if (gEntity[id].flags & (1 << k) != 0) {
                    kind = k;
                    break;
                }
        uint256 generation = uint256(evidence) % 5 == 0 ? 1 + ((uint256(evidence) >> 8) % 255) : 0;
        bytes memory err;
        bool fail = true;
        // unflag is also the bound court's (the feedback holder), when a flag contest is upheld
        bool may = gRole[roles[DETECTOR]][caller] || (!set && gRole[roles[FEEDBACK]][caller]);
        // the handler never reclaims, so every id stays at generation 0: a flag (or a withdrawal)
        // naming another generation (one in five, from the evidence's or the era seed's bits) is
        // about an era that is gone
        // a withdrawal names the instance it judged: the current one, or (one in four) another
        // (a retry after a re-assertion, or a serial never set), which it must not clear
        uint32 current = kind > 6 ? 0 : gSerial[id][kind];
        uint32 serial = (uint256(evidence) >> 16) % 4 == 0 ? uint32(uint256(evidence) >> 24) : current;
        if (!may) err = _eRole(caller, roles[DETECTOR]);
        else if (kind > 6) err = _eFlag(kind);
        else if (gEntity[id].kind == 0) err = _eUnknown(id);
        else if (generation != 0) err = _eStaleEra(id, generation, 0);
        else if (!set && gEntity[id].flags & (1 << kind) == 0) err = _eNotFlagged(id, kind);
        else if (!set && serial != current) err = _eStaleInstance(id, kind, serial, current);
        else fail = false;
        bytes memory data =
            set
                ? abi.encodeCall(ITrustManager.flag, (id, kind, evidence, generation))
                : abi.encodeCall(ITrustManager.unflag, (id, kind, generation, serial));
        if (_exec(caller, data, !fail, err, id)) {
            if (set) {
                gEntity[id].flags |= uint8(1 << kind);
                ++gSerial[id][kind];
            } else gEntity[id].flags &= ~uint8(1 << kind);
        }
    }

    function _grantOrRevoke(
        uint256 actorSeed,
        uint256 roleSeed,
        uint256 targetSeed,
        uint256 time,
        bool grant
    ) internal {
        _tick(time);
        (actorSeed, roleSeed, targetSeed) = (_mix(actorSeed, 1), _mix(roleSeed, 2), _mix(targetSeed, 3));
        address caller = _callerFor(ADMIN, actorSeed);
        bytes32 role = roles[roleSeed % 4];
        address target = _actor(targetSeed);
        bytes memory err;
        bool fail = true;
        if (!gRole[roles[ADMIN]][caller]) err = _eRole(caller, roles[ADMIN]);
        else if (grant && !gRole[role][target] && _rolesOf(target) != 0) err = _eDistinct(role, target);
        else if (grant && !gRole[role][target] && role == roles[FEEDBACK]) err = _eBound(target);
        else if (!grant && role == roles[FEEDBACK] && gRole[role][target] && target != caller) err = _eBound(target);
        else fail = false;
        bytes memory data =
            grant
                ? abi.encodeCall(IAccessControl.grantRole, (role, target))
                : abi.encodeCall(IAccessControl.revokeRole, (role, target));
        if (_exec(caller, data, !fail, err, bytes32(0))) gRole[role][target] = grant;
    }

    /// Avatars from a mask over [zero id, ids...] (ascending), sometimes reversed, duplicated, or
    /// with a threshold list of the wrong length.
    function _agreementInputs(
        uint256 mask,
        uint256 thresholdSeed,
        uint256 modeSeed
    ) internal view returns (bytes32[] memory avatars, uint64[] memory thresholds) {
        if ((modeSeed >> 32) % 4 != 0) {
            // Usually avatars only.
            uint256 avatarMask;
            for (uint256 i; i < N_IDS; ++i) if (gEntity[ids[i]].kind == AVATAR) avatarMask |= 1 << i;
            mask &= avatarMask;
        }
        uint256 n;
        for (uint256 i; i <= N_IDS; ++i) if ((mask >> i) & 1 == 1) ++n;
        uint256 shape = (modeSeed >> 8) % 8;
        uint256 extra = shape == 6 && n > 0 ? 1 : 0;
        avatars = new bytes32[](n + extra);
        uint256 m;
        if ((mask >> N_IDS) & 1 == 1) avatars[m++] = bytes32(0); // the zero id sorts first
        for (uint256 i; i < N_IDS; ++i) if ((mask >> i) & 1 == 1) avatars[m++] = ids[i];
        if (extra == 1) avatars[n] = avatars[n - 1]; // a duplicate
        if (shape == 5 && n >= 2) (avatars[0], avatars[n - 1]) = (avatars[n - 1], avatars[0]); // out of order
        uint256 len = avatars.length;
        if (shape == 7) len = (thresholdSeed % 2 == 0 || len == 0) ? len + 1 : len - 1;
        thresholds = new uint64[](len);
        for (uint256 i; i < len; ++i) {
            uint256 r = uint256(keccak256(abi.encode(thresholdSeed, i)));
            thresholds[i] = uint64(
                r % 16 == 0
                    ? WAD + 1
                    : r % 2 == 0
                        ? 0
                        : r % 4 == 1
                            ? 0.3e18
                            : (r >> 8) % (WAD + 1)
            );
        }
    }

    /// Consents for an agreement: signed by each avatar's controller other than the caller; one in
    /// eight proposals has an expired deadline, one in eight leaves a consent out (or, when the
    /// controller is the court stub, no key can sign). Returns the error the contract must give
    /// once every earlier check passed, or empty.
    function _consents(
        address caller,
        bytes32 org,
        bytes32[] memory avatars,
        uint64[] memory thresholds,
        bytes32 terms,
        uint256 modeSeed
    ) internal view returns (uint256 deadline, bytes[] memory consents, bytes memory err) {
        uint256 shape = (modeSeed >> 40) % 8;
        deadline = shape == 0 ? 1 : type(uint256).max; // long past, or never
        if (shape == 0) err = abi.encodeWithSelector(ITrustManager.TrustManager__ConsentExpired.selector, deadline);
        consents = new bytes[](avatars.length);
        if (thresholds.length != avatars.length) return (deadline, consents, err); // refused earlier
        bytes32 h = _consentHash(org, avatars, thresholds, terms, gNonce[org], deadline);
        for (uint256 i; i < avatars.length; ++i) {
            address c = gEntity[avatars[i]].controller;
            if (c == caller) continue;
            uint256 key = _keyOf(c);
            if (key != 0 && !(shape == 1 && err.length == 0)) consents[i] = _sign712(key, h);
            else if (err.length == 0)
                err = abi.encodeWithSelector(ITrustManager.TrustManager__ConsentMissing.selector, avatars[i], c);
        }
    }

    function _predictAgreement(
        address caller,
        bytes32 org,
        bytes32[] memory avatars,
        uint64[] memory thresholds,
        bytes32 terms
    ) internal view returns (bool fail, bytes memory err, uint256[] memory t, uint64 mean, ITrustManager.Mode mode) {
        fail = true;
        uint256 n = avatars.length;
        if (gEntity[org].kind == 0) return (true, _eUnknown(org), t, 0, mode);
        if (gEntity[org].controller != caller) return (true, _eNotController(org, caller), t, 0, mode);
        if (gEntity[org].kind != ORGANIZATION || n == 0 || n > 64 || thresholds.length != n || terms == bytes32(0))
            return (true, _eAgreement(), t, 0, mode);
        t = new uint256[](n);
        uint256 sum;
        bool allMeet = true;
        for (uint256 i; i < n; ++i) {
            if ((i > 0 && avatars[i] <= avatars[i - 1]) || thresholds[i] > WAD)
                return (true, _eAgreement(), t, 0, mode);
            if (gEntity[avatars[i]].kind == 0) return (true, _eUnknown(avatars[i]), t, 0, mode);
            if (gEntity[avatars[i]].kind != AVATAR) return (true, _eAgreement(), t, 0, mode);
            t[i] = gEffective(avatars[i], org);
            sum += t[i];
            if (t[i] < thresholds[i]) allMeet = false;
        }
        mean = uint64(sum / n);
        if (mean >= gMax) mode = ITrustManager.Mode.Direct;
        else if (mean >= gMin && allMeet) mode = ITrustManager.Mode.SmartContract;
        else mode = ITrustManager.Mode.Intermediary;
        fail = false;
    }

    /// Runs one call as `caller`, compares its outcome with the prediction, and checks the
    /// fingerprints: a rejected call changes nothing, and each guarded part of the state changes
    /// only through its guard. Returns whether the call succeeded.
    /// A call rejected exactly as predicted, with nothing changed: the handler call reverts so that
    /// forge's table counts it (calls vs. reverts per action), and there is nothing to record.
    error TrustHandler__RejectedAsPredicted();

    function _exec(
        address caller,
        bytes memory data,
        bool expectOk,
        bytes memory expectErr,
        bytes32 ctx
    ) internal returns (bool ok) {
        vm.prank(caller);
        bytes memory ret;
        (ok, ret) = address(tm).call(data);
        bytes4 sel = bytes4(data);
        ++calls;
        bool matched = ok == expectOk && (ok || keccak256(ret) == keccak256(expectErr));
        if (!matched) {
            ++modelMismatches;
            lastModelMismatch = abi.encode(sel, caller, ok, ret, expectOk, expectErr);
        }
        if (ok) ++succeeded[sel];
        else ++rejectedCalls;
        if (fingerprints) {
            Fp memory before = prevFp;
            Fp memory afterFp = _fp();
            prevFp = afterFp;
            // "Rejected" by the rules: the model predicts a rejection. If the contract let the call
            // through (a missing check), the state must still be as it was.
            if (!expectOk && !_fpEq(before, afterFp)) {
                ++rejectedButChanged;
                lastRejectedButChanged = sel;
                matched = false;
            }
            _checkGuards(sel, caller, before, afterFp, ctx);
        }
        if (!ok && matched) revert TrustHandler__RejectedAsPredicted();
    }

    function _checkGuards(bytes4 sel, address caller, Fp memory b, Fp memory a, bytes32 ctx) internal {
        for (uint256 i; i < N_IDS; ++i) {
            if (
                b.trustFrom[i] != a.trustFrom[i] &&
                !(sel == ITrustManager.rate.selector && ctx == ids[i] && caller == gEntity[ids[i]].controller)
            ) _unauthorized("trustStore of an entity the caller does not control");
        }
        if (b.oracles != a.oracles && !(sel == ITrustManager.setOracle.selector && gRole[roles[ORACLE]][caller]))
            _unauthorized("oracle term without ORACLE_ROLE");
        if (
            b.flags != a.flags &&
            !((sel == ITrustManager.flag.selector && gRole[roles[DETECTOR]][caller]) ||
                (sel == ITrustManager.unflag.selector &&
                    (gRole[roles[DETECTOR]][caller] || gRole[roles[FEEDBACK]][caller])))
        ) _unauthorized("attack flags without DETECTOR_ROLE (or, to clear one, the court's FEEDBACK_ROLE)");
        if (
            b.admin != a.admin &&
            !((sel == TrustManager.setIdentityVerified.selector ||
                sel == TrustManager.setVerifier.selector ||
                sel == TrustManager.setAgreementThresholds.selector) && gRole[roles[ADMIN]][caller])
        ) _unauthorized("admin state without the admin role");
        if (b.registry != a.registry && sel != ITrustManager.register.selector)
            _unauthorized("registry outside register");
        bool orgController =
            sel == ITrustManager.proposeAgreement.selector &&
                caller == gEntity[ctx].controller &&
                gEntity[ctx].kind != 0;
        if (
            b.reps != a.reps &&
            !((sel == ITrustManager.adjustReputation.selector && gRole[roles[FEEDBACK]][caller]) ||
                orgController ||
                sel == ITrustManager.register.selector ||
                (sel == TrustManager.setIdentityVerified.selector && gRole[roles[ADMIN]][caller]))
        ) _unauthorized("reputation without FEEDBACK_ROLE, an agreement or the admin's first verification");
        if (b.agreements != a.agreements && !orgController) _unauthorized("agreement by a non-controller");
        if (b.roleAdmins != a.roleAdmins) _unauthorized("role admin changed");
        for (uint256 k; k < N_ACTORS; ++k) {
            if (
                b.rolesOf[k] != a.rolesOf[k] &&
                !(((sel == IAccessControl.grantRole.selector || sel == IAccessControl.revokeRole.selector) &&
                    gRole[roles[ADMIN]][caller]) ||
                    (sel == IAccessControl.renounceRole.selector && actors[k] == caller))
            ) _unauthorized("roles without the admin role");
        }
    }

    function _unauthorized(string memory what) internal {
        ++unauthorizedChanges;
        lastUnauthorizedChange = what;
    }
}

/// @notice The target selection both invariant contracts use.
abstract contract TrustManagerInvariantBase is Test {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    TrustManagerHandler internal h;

    function _setUp(bool withFingerprints) internal {
        vm.roll(100);
        vm.warp(1_700_000_000);
        h = new TrustManagerHandler(withFingerprints);
    }

    function targetContracts() public view returns (address[] memory a) {
        a = new address[](1);
        a[0] = address(h);
    }

    /// The handler picks its actors itself; forge must not call it from them.
    function excludeSenders() public view returns (address[] memory a) {
        address[7] memory actors = h.allActors();
        a = new address[](actors.length);
        for (uint256 i; i < actors.length; ++i) a[i] = actors[i];
    }

    function targetSelectors() public view returns (FuzzSelector[] memory s) {
        bytes4[] memory sel = new bytes4[](16);
        sel[0] = TrustManagerHandler.register.selector;
        sel[1] = TrustManagerHandler.rate.selector;
        sel[2] = TrustManagerHandler.rate.selector; // ratings twice as often
        sel[3] = TrustManagerHandler.setOracle.selector;
        sel[4] = TrustManagerHandler.flag.selector;
        sel[5] = TrustManagerHandler.unflag.selector;
        sel[6] = TrustManagerHandler.adjustReputation.selector;
        sel[7] = TrustManagerHandler.setIdentityVerified.selector;
        sel[8] = TrustManagerHandler.setVerifier.selector;
        sel[9] = TrustManagerHandler.setAgreementThresholds.selector;
        sel[10] = TrustManagerHandler.proposeAgreement.selector;
        sel[11] = TrustManagerHandler.grantRole.selector;
        sel[12] = TrustManagerHandler.revokeRole.selector;
        sel[13] = TrustManagerHandler.renounceRole.selector;
        sel[14] = TrustManagerHandler.setRegistryAnswer.selector;
        sel[15] = TrustManagerHandler.wait.selector;
        s = new FuzzSelector[](1);
        s[0] = FuzzSelector(address(h), sel);
    }
}

/// @notice State invariants of TrustManager under random sequences of every state-changing function.
contract TrustManagerInvariantTest is TrustManagerInvariantBase {
    function setUp() public {
        _setUp(false);
    }

    /// Stored trust, reputations and effective trust stay in [0, 1e18]; oracle terms in [-1e18, 1e18].
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 48
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 64
    function invariant_trustAndReputationWithinUnitInterval() public view {
        h.checkRanges();
    }

    /// Effective trust never exceeds the stored value (decayed, with the oracle term): the identity
    /// and flag factors only lower it, and decay never lifts it above max(stored, baseline).
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 48
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 64
    function invariant_effectiveTrustNeverExceedsStored() public view {
        h.checkEffectiveTrust();
    }

    /// Reputation checkpoints are monotone in block number: history at past blocks never changes
    /// and matches the model's step function; the total reputation at the previous block is the
    /// sum of the model's reputations.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 48
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 64
    function invariant_reputationCheckpointsMonotoneInBlockNumber() public view {
        h.checkCheckpoints();
    }

    /// Roles cannot be escalated: they are exactly the model's (admin grants and revokes, self-renounce).
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 48
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 64
    function invariant_rolesCannotBeEscalated() public view {
        h.checkRoles();
    }

    /// Every call had the predicted outcome (success, or that exact custom error), and the state is the model's.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 48
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 64
    function invariant_everyCallMatchesTheModel() public view {
        assertEq(h.modelMismatches(), 0, "a call's outcome differed from the model");
        h.checkModelState();
    }
}

/// @notice Guard invariants: the state is fingerprinted around every call.
contract TrustManagerGuardInvariantTest is TrustManagerInvariantBase {
    function setUp() public {
        _setUp(true);
    }

    /// Only role holders (and entity controllers, for their own pairs and agreements) ever changed guarded state.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 48
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 64
    function invariant_onlyRoleHoldersChangedGuardedState() public view {
        assertEq(h.unauthorizedChanges(), 0, h.lastUnauthorizedChange());
    }

    /// A call the rules reject (the model predicts its rejection) changes nothing.
    /// forge-config: default.invariant.runs = 16
    /// forge-config: default.invariant.depth = 48
    /// forge-config: ci.invariant.runs = 24
    /// forge-config: ci.invariant.depth = 64
    function invariant_rejectedCallChangesNothing() public view {
        assertEq(h.rejectedButChanged(), 0, "a rejected call changed state");
    }
}

/// @notice Every external function under malformed input: the exact custom error, and no change.
/// forge-config: ci.fuzz.runs = 300
contract TrustManagerMalformedInputTest is TrustManagerFixture {
    bytes32 internal alice;
    bytes32 internal bob;
    bytes32 internal org;
    bytes32 internal node;
    bytes32 internal fresh;
    /// The state fingerprint after setUp: every rejected call must leave it as it is.
    bytes32 internal baseFp;

    function setUp() public {
        vm.roll(100);
        vm.warp(1_700_000_000);
        _deploy();
        (alice, bob, org, node, fresh) = (ids[0], ids[1], ids[2], ids[3], ids[4]);
        vm.prank(actors[USER_A]);
        tm.rate(alice, bob, _goodFactors(1), bytes32(0), bytes32(0), 0, 0);
        vm.prank(actors[ORACLE]);
        tm.setOracle(alice, bob, 0.5e18, 0, 0);
        vm.roll(101);
        vm.warp(1_700_000_000 + 3 days);
        baseFp = _fpHash();
    }

    function _assertUnchanged() internal view {
        assertEq(_fpHash(), baseFp, "a rejected call changed state");
    }

    function _known(bytes32 id) internal view returns (bool) {
        return tm.entity(id).kind != ITrustManager.Kind.None;
    }

    function _unknownId(bytes32 seed) internal view returns (bytes32 id) {
        id = keccak256(abi.encode("unknown", seed));
        vm.assume(!_known(id));
    }

    function _nonHolder(uint256 seed, uint256 role) internal view returns (address a) {
        a = address(uint160(bound(seed, 1, type(uint160).max)));
        vm.assume(!tm.hasRole(roles[role], a));
    }

    // ------------------------------------------------------------------ register

    function testFuzz_register_rejectsZeroOrTakenId(uint256 actorSeed, uint256 idSeed, uint8 kind) public {
        bytes32 id = idSeed % 5 == 4 ? bytes32(0) : ids[idSeed % 4]; // ids[0..3] are taken
        kind = uint8(bound(kind, 0, 4));
        vm.expectRevert(_eExists(id));
        vm.prank(_actor(actorSeed));
        tm.register(id, ITrustManager.Kind(kind));
        _assertUnchanged();
    }

    function testFuzz_register_rejectsKindNone(uint256 actorSeed, bytes32 seed) public {
        bytes32 id = _unknownId(seed);
        vm.expectRevert(_eKind(0));
        vm.prank(_actor(actorSeed));
        tm.register(id, ITrustManager.Kind.None);
        _assertUnchanged();
        assertFalse(_known(id), "registered");
    }

    function testFuzz_register_rejectsKindOutOfRange(uint256 actorSeed, bytes32 seed, uint256 kind) public {
        bytes32 id = _unknownId(seed);
        kind = bound(kind, 5, type(uint256).max);
        vm.prank(_actor(actorSeed));
        (bool ok, bytes memory ret) = address(tm).call(
            abi.encodeWithSelector(ITrustManager.register.selector, id, kind)
        );
        assertFalse(ok, "accepted an out-of-range kind");
        assertEq(ret.length, 0, "the ABI decoder reverts without data");
        _assertUnchanged();
        assertFalse(_known(id), "registered");
    }

    // ------------------------------------------------------------------ rate

    function testFuzz_rate_rejectsSelfRating(uint256 idSeed, bytes32 anyId, uint256 factors, bool useKnown) public {
        bytes32 id = useKnown ? ids[idSeed % 4] : anyId;
        address caller = useKnown ? tm.entity(id).controller : _actor(idSeed);
        vm.expectRevert(_eSelf(id));
        vm.prank(caller);
        tm.rate(id, id, factors, bytes32(0), bytes32(0), 0, 0);
        _assertUnchanged();
    }

    function testFuzz_rate_rejectsUnknownRater(bytes32 seed, uint256 actorSeed, uint256 factorSeed) public {
        bytes32 from = _unknownId(seed);
        vm.expectRevert(_eUnknown(from));
        vm.prank(_actor(actorSeed));
        tm.rate(from, bob, _goodFactors(factorSeed), bytes32(0), bytes32(0), 0, 0);
        _assertUnchanged();
    }

    function testFuzz_rate_rejectsUnknownOrZeroRatee(bytes32 seed, bool zero, uint256 factorSeed) public {
        bytes32 to = zero ? bytes32(0) : _unknownId(seed);
        vm.expectRevert(_eUnknown(to));
        vm.prank(actors[USER_A]);
        tm.rate(alice, to, _goodFactors(factorSeed), bytes32(0), bytes32(0), 0, 0);
        _assertUnchanged();
    }

    function testFuzz_rate_rejectsNonController(address caller, uint256 factorSeed) public {
        vm.assume(caller != actors[USER_A]);
        vm.expectRevert(_eNotController(alice, caller));
        vm.prank(caller);
        tm.rate(alice, bob, _goodFactors(factorSeed), bytes32(0), bytes32(0), 0, 0);
        _assertUnchanged();
    }

    /// h16-red2 R6: a rating built for another era of either id than its present one is refused,
    /// and writes nothing (the model's ids are at generation 0).
    function testFuzz_rate_rejectsAnotherEra(uint256 gFrom, uint256 gTo, uint256 factorSeed) public {
        vm.assume(gFrom != 0 || gTo != 0);
        vm.expectRevert(_eStaleEra(gFrom != 0 ? alice : bob, gFrom != 0 ? gFrom : gTo, 0));
        vm.prank(actors[USER_A]);
        tm.rate(alice, bob, _goodFactors(factorSeed), bytes32(0), bytes32(0), gFrom, gTo);
        _assertUnchanged();
    }

    function testFuzz_rate_rejectsBadFactorVector(uint256 factorSeed, uint256 k, uint256 v, bool beyond) public {
        uint256 factors = _goodFactors(factorSeed);
        if (beyond) {
            k = bound(k, FACTORS, 15);
            factors |= bound(v, 1, 0xffff) << (16 * k);
        } else {
            k = bound(k, 0, FACTORS - 1);
            factors = (factors & ~(uint256(0xffff) << (16 * k))) | (bound(v, BPS + 1, 0xffff) << (16 * k));
        }
        vm.expectRevert(_eVector(factors));
        vm.prank(actors[USER_A]);
        tm.rate(alice, bob, factors, bytes32(0), bytes32(0), 0, 0);
        _assertUnchanged();
    }

    function testFuzz_rate_rejectsWrongIntegrityDigest(uint256 factorSeed, bytes32 expected) public {
        uint256 factors = _goodFactors(factorSeed);
        ITrustManager.Pair memory p = tm.pairOf(alice, bob);
        uint64 newTrust = uint64(_blend(_tOpt(factors), _current(p.trust, p.updatedAt, p.ratings), DELTA));
        bytes32 digest = keccak256(abi.encode(alice, bob, newTrust, block.timestamp));
        vm.assume(expected != bytes32(0) && expected != digest);
        vm.expectRevert(_eIntegrity(expected, digest));
        vm.prank(actors[USER_A]);
        tm.rate(alice, bob, factors, bytes32(0), expected, 0, 0);
        _assertUnchanged();
    }

    /// The positive path, for contrast: the stored value is Eq. 43 of Eq. 41 and the decayed previous
    /// value, and the integrity digest computed off-chain is accepted.
    function testFuzz_rate_storesTheBlendOfTheRatingAndTheDecayedValue(uint256 factorSeed, uint256 dt) public {
        vm.warp(block.timestamp + bound(dt, 0, 1000 days));
        uint256 factors = _goodFactors(factorSeed);
        ITrustManager.Pair memory p = tm.pairOf(alice, bob);
        uint64 expected = uint64(_blend(_tOpt(factors), _current(p.trust, p.updatedAt, p.ratings), DELTA));
        bytes32 digest = keccak256(abi.encode(alice, bob, expected, block.timestamp));
        vm.prank(actors[USER_A]);
        assertEq(tm.rate(alice, bob, factors, bytes32(0), digest, 0, 0), expected, "returned trust");
        ITrustManager.Pair memory q = tm.pairOf(alice, bob);
        assertEq(q.trust, expected, "stored trust");
        assertEq(q.ratings, p.ratings + 1, "ratings");
        assertEq(q.updatedAt, block.timestamp, "updatedAt");
        assertTrue(q.oracle == p.oracle, "oracle kept");
    }

    // ------------------------------------------------------------------ oracle, flags, reputation

    function testFuzz_setOracle_rejectsOutOfRange(int64 value) public {
        vm.assume(value > int64(int256(WAD)) || value < -int64(int256(WAD)));
        vm.expectRevert(_eParam());
        vm.prank(actors[ORACLE]);
        tm.setOracle(alice, bob, value, 0, 0);
        _assertUnchanged();
    }

    function testFuzz_setOracle_rejectsUnknownEntities(bytes32 seed, bool unknownFrom, int64 value) public {
        bytes32 unknown = _unknownId(seed);
        vm.expectRevert(_eUnknown(unknown));
        vm.prank(actors[ORACLE]);
        if (unknownFrom) tm.setOracle(unknown, bob, value, 0, 0);
        else tm.setOracle(alice, unknown, value, 0, 0);
        _assertUnchanged();
    }

    /// h16-red2 R4: a term observed of another era of either id than its present one is refused.
    function testFuzz_setOracle_rejectsAnotherEra(uint256 gFrom, uint256 gTo, uint256 valueSeed) public {
        vm.assume(gFrom != 0 || gTo != 0);
        int64 value = int64(int256(valueSeed % (2 * WAD + 1)) - int256(WAD));
        vm.expectRevert(
            abi.encodeWithSelector(
                ITrustManager.TrustManager__StaleEra.selector,
                gFrom != 0 ? alice : bob,
                gFrom != 0 ? gFrom : gTo,
                0
            )
        );
        vm.prank(actors[ORACLE]);
        tm.setOracle(alice, bob, value, gFrom, gTo);
        _assertUnchanged();
    }

    function testFuzz_setOracle_rejectsNonOracle(uint256 seed, int64 value) public {
        address caller = _nonHolder(seed, ORACLE);
        vm.expectRevert(_eRole(caller, roles[ORACLE]));
        vm.prank(caller);
        tm.setOracle(alice, bob, value, 0, 0);
        _assertUnchanged();
    }

    function testFuzz_flag_rejectsKindAboveSix(uint8 kind, bool set, uint32 serial) public {
        kind = uint8(bound(kind, 7, 255));
        vm.expectRevert(_eFlag(kind));
        vm.prank(actors[DETECTOR]);
        if (set) tm.flag(alice, kind, bytes32(0), 0);
        else tm.unflag(alice, kind, 0, serial);
        _assertUnchanged();
    }

    function testFuzz_flag_rejectsUnknownOrZeroEntity(
        bytes32 seed,
        bool zero,
        uint8 kind,
        bool set,
        uint32 serial
    ) public {
        bytes32 id = zero ? bytes32(0) : _unknownId(seed);
        kind = uint8(bound(kind, 0, 6));
        vm.expectRevert(_eUnknown(id));
        vm.prank(actors[DETECTOR]);
        if (set) tm.flag(id, kind, bytes32(0), 0);
        else tm.unflag(id, kind, 0, serial);
        _assertUnchanged();
    }

    function testFuzz_flag_rejectsNonDetector(uint256 seed, uint8 kind, bool set, uint32 serial) public {
        address caller = _nonHolder(seed, DETECTOR);
        vm.assume(!tm.hasRole(roles[FEEDBACK], caller)); // the court may clear a flag (an upheld contest)
        vm.expectRevert(_eRole(caller, roles[DETECTOR]));
        vm.prank(caller);
        if (set) tm.flag(alice, kind, bytes32(0), 0);
        else tm.unflag(alice, kind, 0, serial);
        _assertUnchanged();
    }

    /// s22-redx F3a: `unflag` clears only the instance it names. Kind k of alice is flagged
    /// `instances` times (re-assertions, and one withdrawn and set anew); a withdrawal naming any
    /// other serial (an earlier instance's, retried after the re-assertion, or one never set) is
    /// refused with the current serial named, nothing changes and no event; the current serial
    /// clears it, and the same withdrawal again is `NotFlagged`. Detector and court alike.
    function testFuzz_unflag_clearsOnlyTheInstanceItNames(
        uint8 kind,
        uint8 instances,
        uint32 serial,
        bool court,
        bool withdrawnBetween
    ) public {
        kind = uint8(bound(kind, 0, 6));
        instances = uint8(bound(instances, 1, 5));
        vm.startPrank(actors[DETECTOR]);
        for (uint8 i; i < instances; ++i) {
            // a withdrawal of the instance before the last, and the last set anew
            if (withdrawnBetween && i == instances - 1 && i != 0) tm.unflag(alice, kind, 0, i);
            tm.flag(alice, kind, keccak256(abi.encode("report", i)), 0);
        }
        vm.stopPrank();
        uint32 current = tm.flagMarks(alice)[kind];
        assertEq(current, instances, "setup: one serial per flag");
        vm.assume(serial != current);
        address caller = court ? actors[FEEDBACK] : actors[DETECTOR];
        bytes32 before = _fpHash();
        vm.recordLogs();
        vm.expectRevert(_eStaleInstance(alice, kind, serial, current));
        vm.prank(caller);
        tm.unflag(alice, kind, 0, serial);
        assertEq(vm.getRecordedLogs().length, 0, "a refused unflag emitted");
        assertEq(_fpHash(), before, "a refused unflag changed state");
        assertEq(tm.entity(alice).flags & (1 << kind), 1 << kind, "an instance nobody judged was cleared");
        vm.expectEmit();
        emit ITrustManager.EntityUnflagged(alice, kind);
        vm.prank(caller);
        tm.unflag(alice, kind, 0, current);
        assertEq(tm.entity(alice).flags & (1 << kind), 0, "the named instance was not cleared");
        // its retry (the reply lost) has no second effect
        before = _fpHash();
        vm.expectRevert(_eNotFlagged(alice, kind));
        vm.prank(caller);
        tm.unflag(alice, kind, 0, current);
        assertEq(_fpHash(), before, "a retried unflag changed state");
    }

    /// s22-redx F3b: `unflag` of a kind the entity does not hold (never set, or set and withdrawn)
    /// names entity and kind, whatever serial it names; nothing changes and no event.
    function testFuzz_unflag_refusesAFlagNotHeld(uint8 kind, uint32 serial, bool court, bool setAndWithdrawn) public {
        kind = uint8(bound(kind, 0, 6));
        if (setAndWithdrawn) {
            vm.startPrank(actors[DETECTOR]);
            tm.flag(bob, kind, bytes32("report"), 0);
            tm.unflag(bob, kind, 0, 1);
            vm.stopPrank();
        }
        bytes32 before = _fpHash();
        vm.recordLogs();
        vm.expectRevert(_eNotFlagged(bob, kind));
        vm.prank(court ? actors[FEEDBACK] : actors[DETECTOR]);
        tm.unflag(bob, kind, 0, serial);
        assertEq(vm.getRecordedLogs().length, 0, "a refused unflag emitted");
        assertEq(_fpHash(), before, "a refused unflag changed state");
        if (!setAndWithdrawn) _assertUnchanged();
    }

    function testFuzz_adjustReputation_rejectsUnknownOrZeroEntity(bytes32 seed, bool zero, int256 amount) public {
        bytes32 id = zero ? bytes32(0) : _unknownId(seed);
        vm.expectRevert(_eUnknown(id));
        vm.prank(actors[FEEDBACK]);
        tm.adjustReputation(id, amount);
        _assertUnchanged();
    }

    function testFuzz_adjustReputation_rejectsNonFeedback(uint256 seed, int256 amount) public {
        address caller = _nonHolder(seed, FEEDBACK);
        vm.expectRevert(_eRole(caller, roles[FEEDBACK]));
        vm.prank(caller);
        tm.adjustReputation(alice, amount);
        _assertUnchanged();
    }

    /// The findings' fix: any amount, up to |2^255|, clamps to [0, 1] instead of overflowing.
    function testFuzz_adjustReputation_clampsAnyAmount(int256 amount, int256 first) public {
        first = int256(bound(uint256(first), 0, 2 * WAD)) - int256(WAD);
        vm.prank(actors[FEEDBACK]);
        tm.adjustReputation(alice, first);
        uint256 old = tm.entity(alice).reputation;
        uint256 expected;
        if (amount > int256(WAD)) expected = WAD;
        else if (amount < -int256(WAD)) expected = 0;
        else {
            int256 r = int256(old) + amount; // |amount| <= 1e18 here: no overflow in the reference
            expected =
                r < 0
                    ? 0
                    : r > int256(WAD)
                        ? WAD
                        : uint256(r);
        }
        vm.prank(actors[FEEDBACK]);
        tm.adjustReputation(alice, amount);
        assertEq(tm.entity(alice).reputation, expected, "not the clamped sum");
    }

    // ------------------------------------------------------------------ attacks on ratings

    /// A rater floods a pair within one decay epoch: the second rating is refused, naming the pair
    /// and when the next one is accepted, whatever the delay inside the epoch; the state is kept,
    /// and the first rating of the next epoch goes through.
    function testFuzz_rate_rejectsASecondRatingOfAPairInOneEpoch(uint256 dt, uint256 factorSeed) public {
        vm.prank(actors[USER_A]);
        tm.rate(alice, bob, _goodFactors(factorSeed), bytes32(0), bytes32(0), 0, 0); // 3 days after the last
        bytes32 fp = _fpHash();
        uint256 next = block.timestamp + EPOCH;
        vm.warp(block.timestamp + bound(dt, 0, EPOCH - 1));
        vm.expectRevert(_eEpoch(alice, bob, next));
        vm.prank(actors[USER_A]);
        tm.rate(alice, bob, _goodFactors(factorSeed >> 1), bytes32(0), bytes32(0), 0, 0);
        assertEq(_fpHash(), fp, "a refused rating changed state");
        vm.warp(next);
        vm.prank(actors[USER_A]);
        tm.rate(alice, bob, _goodFactors(factorSeed >> 1), bytes32(0), bytes32(0), 0, 0);
        assertEq(tm.pairOf(alice, bob).ratings, 3, "the next epoch's rating was not folded");
    }

    /// A controller holding two entities rates one from the other (in either direction, either
    /// controller): refused, naming both entities and the controller, and nothing changes.
    function testFuzz_rate_rejectsAnEntityOfTheCallersOwnController(uint256 factorSeed, uint8 which) public {
        which %= 4;
        (bytes32 from, bytes32 to) = which == 0
            ? (alice, node)
            : which == 1
                ? (node, alice)
                : which == 2
                    ? (bob, org)
                    : (org, bob);
        address c = actors[which < 2 ? USER_A : USER_B];
        vm.expectRevert(_eOwnEntity(from, to, c));
        vm.prank(c);
        tm.rate(from, to, _goodFactors(factorSeed), bytes32(0), bytes32(0), 0, 0);
        _assertUnchanged();
    }

    // ------------------------------------------------------------------ roles

    /// The admin tries to take a second role (or to give a role holder another): refused with the
    /// role and the account, and the roles stay as they were.
    function testFuzz_grantRole_keepsTheFourRoleHoldersDistinct(uint256 holderSeed, uint256 roleSeed) public {
        uint256 holder = holderSeed % 4;
        uint256 role = roleSeed % 4;
        vm.assume(role != holder);
        address account = actors[holder];
        vm.expectRevert(_eDistinct(roles[role], account));
        vm.prank(actors[ADMIN]);
        tm.grantRole(roles[role], account);
        _assertUnchanged();
    }

    /// The admin tries to bind the feedback role a second time (to a new account or contract), or
    /// to take it from the court: both refused.
    function testFuzz_feedbackRole_isBoundOnceAndKept(address account, bool revoke) public {
        vm.assume(account != address(0) && !tm.hasRole(roles[ADMIN], account));
        vm.assume(!tm.hasRole(roles[ORACLE], account) && !tm.hasRole(roles[DETECTOR], account));
        vm.assume(account != actors[FEEDBACK]);
        if (revoke) account = actors[FEEDBACK];
        vm.expectRevert(_eBound(account));
        vm.prank(actors[ADMIN]);
        if (revoke) tm.revokeRole(roles[FEEDBACK], account);
        else tm.grantRole(roles[FEEDBACK], account);
        _assertUnchanged();
    }

    /// On a fresh deployment the feedback role goes to a contract only.
    function testFuzz_feedbackRole_refusesAnAccountWithoutCode(uint256 keySeed) public {
        address eoa = vm.addr(bound(keySeed, 1, 1e30));
        TrustManager fresh = new TrustManager(actors[ADMIN], _model(), TRUST_MIN, TRUST_MAX);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__FeedbackNotAContract.selector, eoa));
        vm.prank(actors[ADMIN]);
        fresh.grantRole(roles[FEEDBACK], eoa);
        assertFalse(fresh.hasRole(roles[FEEDBACK], eoa), "bound to an account without code");
    }

    // ------------------------------------------------------------------ admin

    function testFuzz_admin_rejectsNonAdmin(uint256 seed, uint8 which, uint64 lo, uint64 hi) public {
        address caller = _nonHolder(seed, ADMIN);
        vm.expectRevert(_eRole(caller, roles[ADMIN]));
        vm.prank(caller);
        which %= 5;
        if (which == 0) tm.setIdentityVerified(alice, true);
        else if (which == 1) tm.setVerifier(ITrustManager.Kind.ResourceNode, stubNode);
        else if (which == 2) tm.setAgreementThresholds(lo, hi);
        else if (which == 3) tm.grantRole(roles[seed % 4], caller);
        else tm.revokeRole(roles[seed % 4], actors[seed % 4]);
        _assertUnchanged();
    }

    function testFuzz_renounceRole_rejectsAnotherAccountsConfirmation(
        uint256 actorSeed,
        address confirmation,
        uint256 role
    ) public {
        address caller = _actor(actorSeed);
        vm.assume(confirmation != caller);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlBadConfirmation.selector));
        vm.prank(caller);
        tm.renounceRole(roles[role % 4], confirmation);
        _assertUnchanged();
    }

    function testFuzz_setIdentityVerified_rejectsUnknownOrZeroEntity(bytes32 seed, bool zero, bool verified) public {
        bytes32 id = zero ? bytes32(0) : _unknownId(seed);
        vm.expectRevert(_eUnknown(id));
        vm.prank(actors[ADMIN]);
        tm.setIdentityVerified(id, verified);
        _assertUnchanged();
    }

    function testFuzz_setVerifier_rejectsKindNoneOrOutOfRange(uint256 kind, address verifier) public {
        kind = bound(kind, 0, 300);
        if (kind != 0) kind = bound(kind, 5, 300);
        vm.prank(actors[ADMIN]);
        (bool ok, bytes memory ret) = address(tm).call(
            abi.encodeWithSelector(TrustManager.setVerifier.selector, kind, verifier)
        );
        assertFalse(ok, "accepted");
        assertEq(ret, kind == 0 ? _eKind(0) : bytes(""), "error");
        _assertUnchanged();
    }

    function testFuzz_setAgreementThresholds_rejectsDisorderOrAboveOne(uint64 lo, uint64 hi) public {
        vm.assume(lo > hi || hi > WAD);
        vm.expectRevert(_eParam());
        vm.prank(actors[ADMIN]);
        tm.setAgreementThresholds(lo, hi);
        _assertUnchanged();
    }

    // ------------------------------------------------------------------ agreements

    function _two() internal view returns (bytes32[] memory a, uint64[] memory t) {
        a = new bytes32[](2);
        (a[0], a[1]) = alice < bob ? (alice, bob) : (bob, alice);
        t = new uint64[](2);
    }

    function _proposeExpecting(
        address caller,
        bytes32 o,
        bytes32[] memory a,
        uint64[] memory t,
        bytes32 terms,
        bytes memory err
    ) internal {
        vm.expectRevert(err);
        vm.prank(caller);
        tm.proposeAgreement(o, a, t, terms, ITrustManager.Consents(type(uint256).max, new bytes[](a.length)));
        _assertUnchanged();
    }

    /// The finding of issue 16: an organization's controller names an avatar of another controller
    /// that never signed: refused, naming the avatar and its controller; no reputation moves.
    function testFuzz_proposeAgreement_rejectsAnAvatarThatDidNotConsent(bytes32 terms, uint256 keySeed) public {
        vm.assume(terms != bytes32(0));
        (bytes32[] memory a, uint64[] memory t) = _two();
        bytes[] memory c = new bytes[](2);
        uint256 ia = a[0] == alice ? 0 : 1;
        // nothing, or a signature by a key that is not alice's controller's
        uint256 key = bound(keySeed, 1, 1e60);
        if (keySeed % 2 == 1 && key != _actorKey(USER_A))
            c[ia] = _sign712(key, _consentHash(org, a, t, terms, tm.agreementNonce(org), type(uint256).max));
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__ConsentMissing.selector, alice, actors[USER_A])
        );
        vm.prank(actors[USER_B]);
        tm.proposeAgreement(org, a, t, terms, ITrustManager.Consents(type(uint256).max, c));
        _assertUnchanged();
    }

    /// Alice's controller signs once: the agreement forms and credits her; the same consents
    /// replayed, for other thresholds, or past their deadline are refused.
    function testFuzz_proposeAgreement_aConsentCountsOnceForWhatWasSigned(bytes32 terms, uint64 other) public {
        vm.assume(terms != bytes32(0));
        (bytes32[] memory a, uint64[] memory t) = _two();
        uint256 ia = a[0] == alice ? 0 : 1;
        uint256 deadline = 1_700_000_000 + 3 days + 1 hours;
        bytes[] memory c = new bytes[](2);
        c[ia] = _sign712(_actorKey(USER_A), _consentHash(org, a, t, terms, 0, deadline));
        // other thresholds than those signed
        uint64[] memory t2 = new uint64[](2);
        t2[ia] = uint64(bound(other, 1, WAD));
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__ConsentMissing.selector, alice, actors[USER_A])
        );
        vm.prank(actors[USER_B]);
        tm.proposeAgreement(org, a, t2, terms, ITrustManager.Consents(deadline, c));
        // as signed
        vm.prank(actors[USER_B]);
        tm.proposeAgreement(org, a, t, terms, ITrustManager.Consents(deadline, c));
        assertEq(tm.agreementNonce(org), 1, "nonce");
        // replayed
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__ConsentMissing.selector, alice, actors[USER_A])
        );
        vm.prank(actors[USER_B]);
        tm.proposeAgreement(org, a, t, terms, ITrustManager.Consents(deadline, c));
        // past the deadline
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__ConsentExpired.selector, deadline));
        vm.prank(actors[USER_B]);
        tm.proposeAgreement(org, a, t, terms, ITrustManager.Consents(deadline, c));
        assertEq(tm.agreementCount(), 1, "agreements");
    }

    function testFuzz_proposeAgreement_rejectsUnknownOrZeroOrg(bytes32 seed, bool zero, bytes32 terms) public {
        vm.assume(terms != bytes32(0));
        bytes32 o = zero ? bytes32(0) : _unknownId(seed);
        (bytes32[] memory a, uint64[] memory t) = _two();
        _proposeExpecting(actors[USER_B], o, a, t, terms, _eUnknown(o));
    }

    function testFuzz_proposeAgreement_rejectsNonController(address caller, bytes32 terms) public {
        vm.assume(caller != actors[USER_B]);
        (bytes32[] memory a, uint64[] memory t) = _two();
        _proposeExpecting(caller, org, a, t, terms, _eNotController(org, caller));
    }

    function testFuzz_proposeAgreement_rejectsNonOrganization(bytes32 terms) public {
        vm.assume(terms != bytes32(0));
        (bytes32[] memory a, uint64[] memory t) = _two();
        _proposeExpecting(actors[USER_B], bob, a, t, terms, _eAgreement()); // bob is an avatar
    }

    function testFuzz_proposeAgreement_rejectsBadSizes(uint256 n, uint256 m, bytes32 terms, bool zeroTerms) public {
        n = bound(n, 0, 80);
        m = bound(m, 0, 80);
        if (zeroTerms) terms = bytes32(0);
        vm.assume(n == 0 || n > 64 || m != n || terms == bytes32(0));
        bytes32[] memory a = new bytes32[](n);
        for (uint256 i; i < n; ++i) a[i] = bytes32(i + 1);
        _proposeExpecting(actors[USER_B], org, a, new uint64[](m), terms, _eAgreement());
    }

    function testFuzz_proposeAgreement_rejectsUnsortedOrDuplicateAvatars(bool duplicate, bytes32 terms) public {
        vm.assume(terms != bytes32(0));
        (bytes32[] memory a, uint64[] memory t) = _two();
        if (duplicate) a[1] = a[0];
        else (a[0], a[1]) = (a[1], a[0]);
        _proposeExpecting(actors[USER_B], org, a, t, terms, _eAgreement());
    }

    function testFuzz_proposeAgreement_rejectsThresholdAboveOne(uint64 bad, uint256 i, bytes32 terms) public {
        vm.assume(terms != bytes32(0));
        (bytes32[] memory a, uint64[] memory t) = _two();
        t[i % 2] = uint64(bound(bad, WAD + 1, type(uint64).max));
        _proposeExpecting(actors[USER_B], org, a, t, terms, _eAgreement());
    }

    function testFuzz_proposeAgreement_rejectsUnknownOrNonAvatar(bytes32 seed, bool unknown, bytes32 terms) public {
        vm.assume(terms != bytes32(0));
        bytes32 other = unknown ? _unknownId(seed) : node;
        bytes32[] memory a = new bytes32[](2);
        (a[0], a[1]) = alice < other ? (alice, other) : (other, alice);
        _proposeExpecting(actors[USER_B], org, a, new uint64[](2), terms, unknown ? _eUnknown(other) : _eAgreement());
    }

    // ------------------------------------------------------------------ views and constructor

    function testFuzz_reputationAt_rejectsCurrentOrFutureBlock(uint48 b) public {
        b = uint48(bound(b, block.number, type(uint48).max));
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__FutureLookup.selector, b));
        tm.reputationAt(alice, b);
    }

    function testFuzz_trustOf_rejectsUnknownEntities(bytes32 seed, bool unknownFrom) public {
        bytes32 unknown = _unknownId(seed);
        vm.expectRevert(_eUnknown(unknown));
        if (unknownFrom) tm.trustOf(unknown, bob);
        else tm.trustOf(alice, unknown);
    }

    function testFuzz_constructor_rejectsParametersAboveOne(uint256 which, uint256 value) public {
        which = bound(which, 0, 8);
        value = bound(value, WAD + 1, type(uint128).max);
        ITrustManager.Model memory m = _model();
        if (which == 0) m.delta = value;
        else if (which == 1) m.rho = value;
        else if (which == 2) m.baseline = value;
        else if (which == 3) m.gamma = value;
        else if (which == 4) m.unverifiedFactor = value;
        else if (which == 5) m.flaggedFactor = value;
        else if (which == 6) m.initialReputation = value;
        else if (which == 7) m.agreementWeight = value;
        else m.epochLength = 0;
        vm.expectRevert(_eParam());
        new TrustManager(actors[ADMIN], m, TRUST_MIN, TRUST_MAX);
    }

    function testFuzz_constructor_rejectsBadWeightsOrThresholds(
        uint256 weights,
        uint256 n,
        uint64 lo,
        uint64 hi,
        bool badWeights
    ) public {
        ITrustManager.Model memory m = _model();
        if (badWeights) {
            n = bound(n, 0, 20);
            uint256 sum;
            for (uint256 k; k < 16 && k < n; ++k) sum += _lane(weights, k);
            vm.assume(n == 0 || n > 16 || sum != n * BPS || (n < 16 && weights >> (16 * n) != 0));
            (m.weights, m.factorCount) = (weights, n);
            vm.expectRevert(abi.encodeWithSelector(TrustMath.TrustMath__InvalidVector.selector, weights, n));
            new TrustManager(actors[ADMIN], m, TRUST_MIN, TRUST_MAX);
        } else {
            vm.assume(lo > hi || hi > WAD);
            vm.expectRevert(_eParam());
            new TrustManager(actors[ADMIN], m, lo, hi);
        }
    }
}

/// @notice Identity squatting (issue 16): an avatar or resource node its registry verifies is
/// registered by its owner only, on the attestation of the registry's writer; a squatter who came
/// first gains nothing and is evicted.
contract TrustManagerAttestationTest is TrustManagerFixture {
    uint256 internal constant REGISTRAR_KEY = 0xA77E57;
    bytes32 internal constant IDP_ROLE = keccak256("IDP_ROLE");
    bytes32 internal constant MSRP_ROLE = keccak256("MSRP_ROLE");
    address internal registrar;
    address internal owner;
    bytes32 internal fresh;
    uint256 internal t0;

    function setUp() public {
        vm.roll(100);
        t0 = 1_700_000_000;
        vm.warp(t0);
        _deploy();
        registrar = vm.addr(REGISTRAR_KEY);
        stubAvatar.grant(IDP_ROLE, registrar);
        stubNode.grant(MSRP_ROLE, registrar);
        vm.prank(actors[ADMIN]);
        tm.setVerifier(ITrustManager.Kind.ResourceNode, stubNode);
        owner = actors[USER_A];
        fresh = ids[4];
        vm.roll(101);
    }

    function _stub(bool node) internal view returns (TrustVerifierStub) {
        return node ? stubNode : stubAvatar;
    }

    function _kind(bool node) internal pure returns (ITrustManager.Kind) {
        return node ? ITrustManager.Kind.ResourceNode : ITrustManager.Kind.Avatar;
    }

    function _digest(
        bytes32 id,
        ITrustManager.Kind kind,
        address controller,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("TrustManager"),
                keccak256("1"),
                block.chainid,
                address(tm)
            )
        );
        bytes32 structHash = keccak256(abi.encode(tm.REGISTRATION_TYPEHASH(), id, kind, controller, deadline));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _attest(
        uint256 key,
        bytes32 id,
        ITrustManager.Kind kind,
        address controller,
        uint256 deadline
    ) internal view returns (bytes memory) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("TrustManager"),
                keccak256("1"),
                block.chainid,
                address(tm)
            )
        );
        bytes32 structHash = keccak256(abi.encode(tm.REGISTRATION_TYPEHASH(), id, kind, controller, deadline));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, keccak256(abi.encodePacked("\x19\x01", domain, structHash)));
        return abi.encodePacked(r, s, v);
    }

    /// Anyone (the owner included) registering a registry-verified identity without attestation is refused.
    function testFuzz_register_refusesAVerifiedIdentityWithoutAttestation(address caller, bool node) public {
        _stub(node).set(fresh, true);
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__AttestationRequired.selector, fresh, _kind(node))
        );
        vm.prank(caller);
        tm.register(fresh, _kind(node));
        assertEq(uint256(tm.entity(fresh).kind), 0, "registered");
    }

    /// The owner registers with the registrar's attestation naming it: identity verified (I = 1).
    function testFuzz_registerAttested_registersTheOwner(bool node, uint256 deadline) public {
        deadline = bound(deadline, t0, type(uint256).max);
        _stub(node).set(fresh, true);
        bytes memory a = _attest(REGISTRAR_KEY, fresh, _kind(node), owner, deadline);
        vm.prank(owner);
        tm.registerAttested(fresh, _kind(node), deadline, a);
        ITrustManager.Entity memory e = tm.entity(fresh);
        assertEq(e.controller, owner, "controller");
        assertEq(uint256(e.kind), uint256(_kind(node)), "kind");
        assertTrue(e.attested, "attested");
        assertEq(e.reputation, INITIAL_REP, "reputation");
        assertTrue(tm.isIdentityVerified(fresh), "not identity-verified");
        // and nobody registers it again, attested or not
        vm.expectRevert(_eExists(fresh));
        vm.prank(owner);
        tm.registerAttested(fresh, _kind(node), deadline, a);
    }

    /// A front-runner copies the owner's attestation: it recovers another signer, refused.
    function testFuzz_registerAttested_refusesACopyByAnotherCaller(address thief, bool node) public {
        vm.assume(thief != owner);
        _stub(node).set(fresh, true);
        (uint8 v, bytes32 r, bytes32 s_) = vm.sign(REGISTRAR_KEY, _digest(fresh, _kind(node), owner, t0 + 1 days));
        bytes memory a = abi.encodePacked(r, s_, v); // the owner's attestation, copied
        // what the contract recovers: that signature over the message that names the thief
        address recovered = ecrecover(_digest(fresh, _kind(node), thief, t0 + 1 days), v, r, s_);
        assertTrue(recovered != registrar, "the copy recovers the registrar");
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__InvalidAttestation.selector, fresh, recovered)
        );
        vm.prank(thief);
        tm.registerAttested(fresh, _kind(node), t0 + 1 days, a);
        assertEq(uint256(tm.entity(fresh).kind), 0, "registered by the thief");
    }

    /// A signature by anyone but the kind's registrar (or the other registry's role) is refused, naming the signer.
    function testFuzz_registerAttested_refusesANonRegistrar(uint256 key, bool node) public {
        key = bound(key, 1, 1e60);
        vm.assume(key != REGISTRAR_KEY);
        _stub(node).set(fresh, true);
        bytes memory a = _attest(key, fresh, _kind(node), owner, t0 + 1 days);
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__InvalidAttestation.selector, fresh, vm.addr(key))
        );
        vm.prank(owner);
        tm.registerAttested(fresh, _kind(node), t0 + 1 days, a);
        // the avatar registry's registrar is not the node registry's
        TrustVerifierStub other = new TrustVerifierStub();
        other.set(fresh, true);
        other.grant(node ? IDP_ROLE : MSRP_ROLE, registrar);
        vm.prank(actors[ADMIN]);
        tm.setVerifier(_kind(node), other);
        a = _attest(REGISTRAR_KEY, fresh, _kind(node), owner, t0 + 1 days);
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__InvalidAttestation.selector, fresh, registrar)
        );
        vm.prank(owner);
        tm.registerAttested(fresh, _kind(node), t0 + 1 days, a);
    }

    /// Expired attestations, unverified ids and other kinds are refused.
    function testFuzz_registerAttested_refusesExpiredUnverifiedOrOtherKinds(uint256 late, bool node) public {
        late = bound(late, 1, 1e12);
        _stub(node).set(fresh, true);
        bytes memory a = _attest(REGISTRAR_KEY, fresh, _kind(node), owner, t0);
        vm.warp(t0 + late);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__AttestationExpired.selector, fresh, t0));
        vm.prank(owner);
        tm.registerAttested(fresh, _kind(node), t0, a);
        _stub(node).set(fresh, false);
        a = _attest(REGISTRAR_KEY, fresh, _kind(node), owner, t0 + late);
        vm.expectRevert(
            abi.encodeWithSelector(ITrustManager.TrustManager__UnverifiedIdentity.selector, fresh, _kind(node))
        );
        vm.prank(owner);
        tm.registerAttested(fresh, _kind(node), t0 + late, a);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__InvalidKind.selector, ORGANIZATION));
        vm.prank(owner);
        tm.registerAttested(fresh, ITrustManager.Kind.Organization, t0 + late, a);
        assertEq(uint256(tm.entity(fresh).kind), 0, "registered");
    }

    /// A squatter registers the id before its registry verifies it: it never gets I = 1 (nor seed
    /// status), and the owner reclaims the id with a fresh record; the squatter's flags and
    /// reputation do not follow.
    function test_aSquatterWhoCameFirstIsEvictedByTheOwner() public {
        vm.prank(actors[STRANGER]);
        tm.register(fresh, ITrustManager.Kind.Avatar);
        vm.prank(actors[DETECTOR]);
        tm.flag(fresh, 0, bytes32(0), 0);
        vm.prank(actors[FEEDBACK]);
        tm.adjustReputation(fresh, 0.4e18);
        stubAvatar.set(fresh, true); // the owner's avatar logs in
        assertFalse(tm.isIdentityVerified(fresh), "the squatter inherits the identity factor");
        bytes memory a = _attest(REGISTRAR_KEY, fresh, ITrustManager.Kind.Avatar, owner, t0 + 1 days);
        vm.roll(102);
        vm.expectEmit();
        emit ITrustManager.EntityReclaimed(fresh, actors[STRANGER], owner);
        vm.prank(owner);
        tm.registerAttested(fresh, ITrustManager.Kind.Avatar, t0 + 1 days, a);
        ITrustManager.Entity memory e = tm.entity(fresh);
        assertEq(e.controller, owner, "controller");
        assertEq(e.flags, 0, "the squatter's flags");
        assertEq(e.reputation, INITIAL_REP, "reputation");
        assertTrue(tm.isIdentityVerified(fresh), "owner not verified");
        vm.roll(103);
        assertEq(tm.reputationAt(fresh, 102), INITIAL_REP, "checkpoint");
    }
}
