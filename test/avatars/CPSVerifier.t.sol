// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {CPSVerifier} from "../../contracts/avatars/CPSVerifier.sol";
import {ICPSVerifier} from "../../contracts/interfaces/ICPSVerifier.sol";
import {BLS12381} from "../../contracts/libraries/BLS12381.sol";
import {BlsRef} from "./HashToG1.t.sol";

/// @notice Builds chameleon proxy signatures on-chain (docs/specs/cps.md) with the test's own
/// BLS arithmetic: keys X = x g2, h = CHash(X_o, D(w); r), s_o = x_o H_W(h), s_p = x_p H_P(M(h, m)).
abstract contract CpsFixture is Test {
    bytes internal constant DST_WARRANT = "METATRUST-V1-CPS-WARRANT-BLS12381G1_XMD:SHA-256_SSWU_RO_";
    bytes internal constant DST_MESSAGE = "METATRUST-V1-CPS-MESSAGE-BLS12381G1_XMD:SHA-256_SSWU_RO_";
    uint64 internal constant NOT_BEFORE = 1_000;
    uint64 internal constant NOT_AFTER = 2_000;

    CPSVerifier internal v;

    struct Sig {
        bytes xo; // original key, G2
        ICPSVerifier.Warrant w;
        ICPSVerifier.ProxyMessage m;
        bytes32 r;
        bytes so; // original signature on H_W(h), G1
        bytes sp; // proxy signature on H_P(M(h, m)), G1
    }

    function setUp() public virtual {
        v = new CPSVerifier();
    }

    function _key(uint256 sk) internal view returns (bytes memory) {
        return BlsRef.g2Mul(BlsRef.G2, sk);
    }

    function _hw(bytes32 h) internal view returns (bytes memory) {
        return BlsRef.hashToCurve(abi.encodePacked(h), DST_WARRANT);
    }

    function _hp(bytes32 h, ICPSVerifier.ProxyMessage memory m) internal view returns (bytes memory) {
        return
            BlsRef.hashToCurve(abi.encodePacked(keccak256(abi.encode(h, m.msgType, m.time, m.bodyHash))), DST_MESSAGE);
    }

    function _h(Sig memory s) internal view returns (bytes32) {
        return v.chameleonHash(s.xo, v.warrantDigest(s.w), s.r);
    }

    /// An honest original signature on a warrant (scope `scope`) naming the proxy key, and the
    /// proxy's signature on a message of type `msgType` at `time` (signed whatever the scope says,
    /// as a cheating proxy would).
    function _sign(
        uint256 so,
        uint256 sp,
        bytes32 seed,
        uint8 scope,
        uint8 msgType,
        uint64 time,
        bytes32 bodyHash
    ) internal view returns (Sig memory s) {
        so = bound(so, 1, BlsRef.R - 1);
        sp = bound(sp, 1, BlsRef.R - 1);
        s.xo = _key(so);
        s.w = ICPSVerifier.Warrant({
            irisCommitment: keccak256(abi.encode(seed, "iris")),
            proxyPk: _key(sp),
            avatarId: keccak256(abi.encode(seed, "avatar")),
            scope: scope,
            notBefore: NOT_BEFORE,
            notAfter: NOT_AFTER
        });
        s.r = keccak256(abi.encode(seed, "r"));
        bytes32 h = _h(s);
        s.so = BlsRef.g1Mul(_hw(h), so);
        s.m = ICPSVerifier.ProxyMessage({msgType: msgType, time: time, bodyHash: bodyHash});
        s.sp = BlsRef.g1Mul(_hp(h, s.m), sp);
    }

    function _honest(uint256 so, uint256 sp, bytes32 seed) internal view returns (Sig memory) {
        return _sign(so, sp, seed, 7, 2, 1_500, keccak256(abi.encode(seed, "body")));
    }

    function _verify(Sig memory s) internal view returns (bool) {
        return v.verify(s.xo, s.w, s.m, s.r, s.so, s.sp);
    }

    /// Calls verify and returns the revert selector (0 if it did not revert).
    function _revertSelector(Sig memory s) internal view returns (bytes4 sel, address arg) {
        try v.verify(s.xo, s.w, s.m, s.r, s.so, s.sp) returns (bool) {
            return (bytes4(0), address(0));
        } catch (bytes memory err) {
            sel = bytes4(err);
            if (err.length >= 36) arg = address(uint160(uint256(bytes32(_slice(err, 4)))));
        }
    }

    function _slice(bytes memory b, uint256 from) private pure returns (bytes memory out) {
        out = new bytes(b.length - from);
        for (uint256 i; i < out.length; ++i) out[i] = b[from + i];
    }
}

/// @notice CPSVerifier: PVerify with the warrant (issue 14 items 1-3). Honest signatures verify;
/// every perturbation fails; scope is a subset test and time a window; identity encodings, forged
/// proxies and malleated pairs never verify; malformed encodings revert with named errors.
contract CPSVerifierTest is CpsFixture {
    /// An honest proxy signature verifies.
    function testFuzz_verify_acceptsHonestSignatures(uint256 so, uint256 sp, bytes32 seed) public view {
        assertTrue(_verify(_honest(so, sp, seed)), "honest signature rejected");
    }

    /// Changing any one input makes verification fail: a warrant field, r, the message, a signature,
    /// a key, or swapping the keys.
    function testFuzz_verify_rejectsPerturbations(
        uint256 so,
        uint256 sp,
        bytes32 seed,
        uint8 which,
        uint256 k
    ) public view {
        Sig memory s = _honest(so, sp, seed);
        k = bound(k, 2, BlsRef.R - 1);
        uint256 w = which % 13;
        if (w == 0) s.r = keccak256(abi.encode(s.r));
        else if (w == 1) s.w.irisCommitment = keccak256(abi.encode(s.w.irisCommitment));
        else if (w == 2) s.w.avatarId = keccak256(abi.encode(s.w.avatarId));
        else if (w == 3) s.w.scope = 3;
        else if (w == 4) s.w.notBefore -= 1;
        else if (w == 5) s.w.notAfter += 1;
        else if (w == 6) s.m.time += 1;
        else if (w == 7) s.m.bodyHash = keccak256(abi.encode(s.m.bodyHash));
        else if (w == 8) s.so = BlsRef.g1Add(s.so, BlsRef.g1Mul(BlsRef.G1, k));
        else if (w == 9) s.sp = BlsRef.g1Add(s.sp, BlsRef.g1Mul(BlsRef.G1, k));
        else if (w == 10) s.xo = BlsRef.g2Mul(s.xo, k);
        else if (w == 11) s.w.proxyPk = BlsRef.g2Mul(s.w.proxyPk, k);
        else (s.xo, s.w.proxyPk) = (s.w.proxyPk, s.xo);
        vm.assume(w != 12 || keccak256(s.xo) != keccak256(s.w.proxyPk));
        assertFalse(_verify(s), "a perturbed signature verified");
    }

    /// Item 1: a stranger holding a victim's public (warrant, r, s_o) signs with its own key, whether
    /// it names itself as the proxy or keeps the warrant's proxy: never verifies.
    function testFuzz_verify_onlyTheWarrantsProxySigns(
        uint256 so,
        uint256 sp,
        uint256 mallory,
        bytes32 seed
    ) public view {
        Sig memory s = _honest(so, sp, seed);
        mallory = bound(mallory, 1, BlsRef.R - 1);
        vm.assume(mallory != bound(sp, 1, BlsRef.R - 1));
        bytes32 h = _h(s);
        s.m.bodyHash = keccak256("mallory's message");
        s.sp = BlsRef.g1Mul(_hp(h, s.m), mallory);
        assertFalse(_verify(s), "a key the warrant does not name signed");
        s.w.proxyPk = _key(mallory);
        assertFalse(_verify(s), "a warrant with a swapped proxy key verified");
    }

    /// Item 1: identity encodings never verify: all of them, or any one key or signature.
    function testFuzz_verify_identityNeverVerifies(uint256 so, uint256 sp, bytes32 seed, uint8 which) public view {
        Sig memory s = _honest(so, sp, seed);
        uint256 w = which % 5;
        if (w == 0) {
            s.xo = new bytes(256);
            s.w.proxyPk = new bytes(256);
            s.so = new bytes(128);
            s.sp = new bytes(128);
        } else if (w == 1) s.xo = new bytes(256);
        else if (w == 2) s.w.proxyPk = new bytes(256);
        else if (w == 3) s.so = new bytes(128);
        else s.sp = new bytes(128);
        assertFalse(_verify(s), "an identity encoding verified");
    }

    /// Item 3: each signature must be valid on its own. (s_o + T, s_p - T) keeps the plain aggregate
    /// s_o + s_p, and s_p = -s_o makes it the identity: both fail.
    function testFuzz_verify_refusesMalleatedPairs(uint256 so, uint256 sp, bytes32 seed, uint256 t) public view {
        Sig memory s = _honest(so, sp, seed);
        t = bound(t, 1, BlsRef.R - 1);
        bytes memory T = BlsRef.g1Mul(BlsRef.G1, t);
        Sig memory m = _honest(so, sp, seed);
        m.so = BlsRef.g1Add(s.so, T);
        m.sp = BlsRef.g1Add(s.sp, BlsRef.neg(T));
        assertEq(BlsRef.g1Add(m.so, m.sp), BlsRef.g1Add(s.so, s.sp), "same aggregate");
        assertFalse(_verify(m), "a malleated pair verified");
        m.so = s.so;
        m.sp = BlsRef.neg(s.so);
        assertFalse(_verify(m), "s_p = -s_o verified");
    }

    /// Item 2: for every scope and type, an honestly signed message verifies iff its type is a
    /// non-empty subset of the defined types (7) and of the scope.
    function testFuzz_verify_scopeIsASubsetTest(
        uint256 so,
        uint256 sp,
        bytes32 seed,
        uint8 scope,
        uint8 t
    ) public view {
        Sig memory s = _sign(so, sp, seed, scope, t, 1_500, bytes32(0));
        bool expected = t != 0 && t & ~uint8(7) == 0 && t & scope == t;
        assertEq(_verify(s) ? 1 : 0, expected ? 1 : 0, "scope decision");
    }

    /// Item 2: a message verifies iff its time is within [notBefore, notAfter].
    function testFuzz_verify_timeIsAWindow(uint256 so, uint256 sp, bytes32 seed, uint64 time) public view {
        time = uint64(bound(time, 0, 3_000));
        Sig memory s = _sign(so, sp, seed, 7, 4, time, bytes32(0));
        bool expected = time >= NOT_BEFORE && time <= NOT_AFTER;
        assertEq(_verify(s) ? 1 : 0, expected ? 1 : 0, "window decision");
    }

    /// verifyNow: also m.time <= block.timestamp <= notAfter.
    function testFuzz_verifyNow_checksBlockTime(uint256 so, uint256 sp, bytes32 seed, uint64 time, uint64 now_) public {
        time = uint64(bound(time, NOT_BEFORE, NOT_AFTER));
        now_ = uint64(bound(now_, 0, 3_000));
        Sig memory s = _sign(so, sp, seed, 7, 4, time, bytes32(0));
        vm.warp(now_);
        bool expected = time <= now_ && now_ <= NOT_AFTER;
        assertEq(v.verifyNow(s.xo, s.w, s.m, s.r, s.so, s.sp) ? 1 : 0, expected ? 1 : 0, "verifyNow decision");
    }

    /// Wrong lengths revert with CPSVerifier__InvalidEncoding(which, length).
    function testFuzz_wrongLengthsRevert(bytes memory a, uint8 which) public {
        Sig memory s = _honest(2, 3, bytes32(0));
        uint8 w = which % 4;
        vm.assume(a.length != (w < 2 ? 256 : 128));
        if (w == 0) s.xo = a;
        else if (w == 1) s.w.proxyPk = a;
        else if (w == 2) s.so = a;
        else s.sp = a;
        vm.expectRevert(abi.encodeWithSelector(ICPSVerifier.CPSVerifier__InvalidEncoding.selector, w, a.length));
        v.verify(s.xo, s.w, s.m, s.r, s.so, s.sp);
    }

    /// A non-canonical (>= p) or padded coordinate in a signature or a key: the precompile refuses
    /// it, named PrecompileFailed; never true.
    function testFuzz_nonCanonicalPointsRevert(
        uint256 so,
        uint256 sp,
        bytes32 seed,
        uint8 which,
        bool padding
    ) public view {
        Sig memory s = _honest(so, sp, seed);
        uint256 w = which % 4;
        bytes memory pt =
            w == 0
                ? s.so
                : w == 1
                    ? s.sp
                    : w == 2
                        ? s.xo
                        : s.w.proxyPk;
        uint256 off = 64 * (uint256(which / 4) % (pt.length / 64));
        if (padding) pt[off + (which % 16)] = 0x01;
        else {
            bytes memory c = BlsRef.add48(BlsRef.slice48(pt, off), BlsRef.P_HI, BlsRef.P_LO);
            for (uint256 i; i < 48; ++i) pt[off + 16 + i] = c[i];
        }
        (bytes4 sel, ) = _revertSelector(s);
        assertEq(uint256(uint32(sel)), uint256(uint32(BLS12381.BLS12381__PrecompileFailed.selector)), "named failure");
    }

    /// Points on the curve but outside the subgroup, or off the curve, revert with PrecompileFailed.
    function testFuzz_invalidPointsRevert(uint256 seed, bytes32[8] memory w, uint8 which) public view {
        Sig memory s = _honest(5, 6, bytes32(seed));
        uint256 k = which % 4;
        if (k < 2) {
            bytes memory pt = BlsRef.curvePointFrom(seed); // on the curve, not in G1
            vm.assume(pt.length == 128);
            if (k == 0) s.so = pt;
            else s.sp = pt;
        } else {
            bytes memory g2 = new bytes(256);
            for (uint256 c; c < 4; ++c) {
                bytes memory e = BlsRef.modexp(abi.encodePacked(bytes16(w[2 * c]), w[2 * c + 1]), hex"01");
                for (uint256 i; i < 48; ++i) g2[64 * c + 16 + i] = e[i];
            }
            if (k == 2) s.xo = g2;
            else s.w.proxyPk = g2;
        }
        (bytes4 sel, ) = _revertSelector(s);
        assertEq(uint256(uint32(sel)), uint256(uint32(BLS12381.BLS12381__PrecompileFailed.selector)), "named failure");
    }

    /// Garbage points of the right lengths never verify: revert or false.
    function testFuzz_garbageNeverVerifies(bytes32[24] memory w, bytes32 r) public view {
        Sig memory s = _honest(7, 8, r);
        s.r = r;
        bytes memory xo = new bytes(256);
        bytes memory xp = new bytes(256);
        bytes memory so = new bytes(128);
        bytes memory sp = new bytes(128);
        for (uint256 c; c < 12; ++c) {
            bytes memory dst =
                c < 4
                    ? xo
                    : c < 8
                        ? xp
                        : c < 10
                            ? so
                            : sp;
            uint256 off =
                64 *
                    (
                        c < 4
                            ? c
                            : c < 8
                                ? c - 4
                                : c < 10
                                    ? c - 8
                                    : c - 10
                    );
            for (uint256 i; i < 16; ++i) dst[off + 16 + i] = w[2 * c][i];
            for (uint256 i; i < 32; ++i) dst[off + 32 + i] = w[2 * c + 1][i];
        }
        (s.xo, s.w.proxyPk, s.so, s.sp) = (xo, xp, so, sp);
        try v.verify(s.xo, s.w, s.m, s.r, s.so, s.sp) returns (bool ok) {
            assertFalse(ok, "garbage verified");
        } catch {}
    }

    /// The digests are the documented ABI encodings.
    function testFuzz_digestsAreTheDocumentedEncodings(
        ICPSVerifier.Warrant memory w,
        bytes32 r,
        bytes32 h,
        uint8 t,
        uint64 time,
        bytes32 body
    ) public view {
        bytes memory pk = BlsRef.g2Mul(BlsRef.G2, (uint256(w.irisCommitment) % (BlsRef.R - 1)) + 1);
        w.proxyPk = pk;
        bytes32 wd = v.warrantDigest(w);
        assertEq(
            wd,
            keccak256(
                abi.encode(
                    "CPS-WARRANT-V1",
                    w.irisCommitment,
                    keccak256(pk),
                    w.avatarId,
                    w.scope,
                    w.notBefore,
                    w.notAfter
                )
            ),
            "D(w)"
        );
        assertEq(
            v.chameleonHash(pk, wd, r),
            keccak256(bytes.concat("CPS-CHASH-V1", keccak256(pk), keccak256(abi.encodePacked(wd)), r)),
            "CHash"
        );
        assertEq(v.messageDigest(h, t, time, body), keccak256(abi.encode(h, t, time, body)), "M(h, m)");
    }
}
