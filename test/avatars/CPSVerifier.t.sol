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

    CPSVerifier internal v;

    struct Sig {
        bytes xo; // original key, G2
        bytes xp; // proxy key, G2
        bytes32 h;
        bytes so; // original signature on h, G1
        bytes sp; // proxy signature on M(h, m), G1
        bytes agg; // so + sp
        uint8 msgType;
        uint64 time;
        bytes32 bodyHash;
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

    function _hp(bytes32 h, uint8 msgType, uint64 time, bytes32 bodyHash) internal view returns (bytes memory) {
        return BlsRef.hashToCurve(abi.encodePacked(keccak256(abi.encode(h, msgType, time, bodyHash))), DST_MESSAGE);
    }

    /// An honest original signature on a warrant naming the proxy key, and a proxy signature.
    function _sign(
        uint256 so,
        uint256 sp,
        bytes32 seed,
        uint8 msgType,
        uint64 time,
        bytes32 bodyHash
    ) internal view returns (Sig memory s) {
        so = bound(so, 1, BlsRef.R - 1);
        sp = bound(sp, 1, BlsRef.R - 1);
        s.xo = _key(so);
        s.xp = _key(sp);
        bytes32 wd = v.warrantDigest(
            keccak256(abi.encode(seed, "iris")),
            s.xp,
            keccak256(abi.encode(seed, "avatar")),
            7,
            1_000,
            2_000
        );
        s.h = v.chameleonHash(s.xo, wd, keccak256(abi.encode(seed, "r")));
        s.so = BlsRef.g1Mul(_hw(s.h), so);
        (s.msgType, s.time, s.bodyHash) = (msgType, time, bodyHash);
        s.sp = BlsRef.g1Mul(_hp(s.h, msgType, time, bodyHash), sp);
        s.agg = BlsRef.g1Add(s.so, s.sp);
    }

    function _verify(Sig memory s) internal view returns (bool) {
        return v.verify(s.xo, s.xp, s.h, s.msgType, s.time, s.bodyHash, s.agg);
    }
}

/// @notice CPSVerifier: honest signatures verify, every perturbation fails, malformed encodings
/// revert, and the digests are the documented ABI encodings.
contract CPSVerifierTest is CpsFixture {
    /// An honest proxy signature verifies.
    function testFuzz_verify_acceptsHonestSignatures(
        uint256 so,
        uint256 sp,
        bytes32 seed,
        uint8 t,
        uint64 time,
        bytes32 body
    ) public view {
        assertTrue(_verify(_sign(so, sp, seed, t, time, body)), "honest signature rejected");
    }

    /// Changing any one input — h, the message type, time or body, the aggregate, a key, or swapping
    /// the keys — makes verification fail.
    function testFuzz_verify_rejectsPerturbations(
        uint256 so,
        uint256 sp,
        bytes32 seed,
        uint8 which,
        uint256 k
    ) public view {
        Sig memory s = _sign(so, sp, seed, 3, 1_500, keccak256(abi.encode(seed)));
        k = bound(k, 1, BlsRef.R - 1);
        uint256 w = which % 8;
        if (w == 0) s.h = keccak256(abi.encode(s.h));
        else if (w == 1) s.msgType ^= uint8(bound(k, 1, 255));
        else if (w == 2) s.time += 1;
        else if (w == 3) s.bodyHash = keccak256(abi.encode(s.bodyHash));
        else if (w == 4) s.agg = BlsRef.g1Add(s.agg, BlsRef.g1Mul(BlsRef.G1, k));
        else if (w == 5) s.xo = BlsRef.g2Mul(s.xo, k == 1 ? 2 : k);
        else if (w == 6) s.xp = BlsRef.g2Mul(s.xp, k == 1 ? 2 : k);
        else (s.xo, s.xp) = (s.xp, s.xo);
        vm.assume(w != 7 || keccak256(s.xo) != keccak256(s.xp));
        assertFalse(_verify(s), "a perturbed signature verified");
    }

    /// The original signature alone, or the proxy's alone, does not verify.
    function testFuzz_verify_needsBothSignatures(uint256 so, uint256 sp, bytes32 seed) public view {
        Sig memory s = _sign(so, sp, seed, 1, 1_200, bytes32(0));
        bytes memory agg = s.agg;
        s.agg = s.so;
        assertFalse(_verify(s), "original signature alone");
        s.agg = s.sp;
        assertFalse(_verify(s), "proxy signature alone");
        s.agg = agg;
        assertTrue(_verify(s), "both");
    }

    /// Wrong lengths revert with CPSVerifier__InvalidEncoding, for verify and for the digests.
    function testFuzz_wrongLengthsRevert(bytes memory a, uint8 which) public {
        Sig memory s = _sign(2, 3, bytes32(0), 1, 1, bytes32(0));
        uint256 w = which % 3;
        if (w == 0) vm.assume(a.length != 256);
        else if (w == 1) vm.assume(a.length != 256);
        else vm.assume(a.length != 128);
        bytes memory err = abi.encodeWithSelector(ICPSVerifier.CPSVerifier__InvalidEncoding.selector);
        vm.expectRevert(err);
        v.verify(w == 0 ? a : s.xo, w == 1 ? a : s.xp, s.h, 1, 1, bytes32(0), w == 2 ? a : s.agg);
        if (w != 2) {
            vm.expectRevert(err);
            v.warrantDigest(bytes32(0), a, bytes32(0), 0, 0, 0);
            vm.expectRevert(err);
            v.chameleonHash(a, bytes32(0), bytes32(0));
        }
    }

    /// A non-canonical (>= p) or padded coordinate in the aggregate or a key: revert, never true.
    function testFuzz_nonCanonicalPointsRevert(uint256 so, uint256 sp, bytes32 seed, uint8 which, bool padding) public {
        Sig memory s = _sign(so, sp, seed, 1, 1, bytes32(0));
        uint256 w = which % 3;
        bytes memory pt =
            w == 0
                ? s.agg
                : w == 1
                    ? s.xo
                    : s.xp;
        uint256 off = 64 * (uint256(which / 3) % (pt.length / 64));
        if (padding) pt[off + (which % 16)] = 0x01;
        else {
            bytes memory c = BlsRef.add48(BlsRef.slice48(pt, off), BlsRef.P_HI, BlsRef.P_LO);
            for (uint256 i; i < 48; ++i) pt[off + 16 + i] = c[i];
        }
        vm.expectRevert(abi.encodeWithSelector(BLS12381.BLS12381__PrecompileUnavailable.selector, address(0x0f)));
        _verify(s);
    }

    /// Points off the curve, or on it but outside the subgroup, revert.
    function testFuzz_invalidPointsRevert(uint256 seed, bytes32[8] memory w, uint8 which) public {
        Sig memory s = _sign(5, 6, bytes32(seed), 1, 1, bytes32(0));
        uint256 k = which % 3;
        if (k == 0) {
            bytes memory pt = BlsRef.curvePointFrom(seed); // on the curve, not in G1
            vm.assume(pt.length == 128);
            s.agg = pt;
        } else {
            bytes memory g2 = new bytes(256);
            for (uint256 c; c < 4; ++c) {
                bytes memory e = BlsRef.modexp(abi.encodePacked(bytes16(w[2 * c]), w[2 * c + 1]), hex"01");
                for (uint256 i; i < 48; ++i) g2[64 * c + 16 + i] = e[i];
            }
            if (k == 1) s.xo = g2;
            else s.xp = g2;
        }
        vm.expectRevert(abi.encodeWithSelector(BLS12381.BLS12381__PrecompileUnavailable.selector, address(0x0f)));
        _verify(s);
    }

    /// Garbage points of the right lengths never verify: revert or false.
    function testFuzz_garbageNeverVerifies(bytes32[24] memory w, bytes32 h) public view {
        bytes memory xo = new bytes(256);
        bytes memory xp = new bytes(256);
        bytes memory agg = new bytes(128);
        for (uint256 c; c < 10; ++c) {
            bytes memory dst =
                c < 4
                    ? xo
                    : c < 8
                        ? xp
                        : agg;
            uint256 off =
                64 *
                    (
                        c < 4
                            ? c
                            : c < 8
                                ? c - 4
                                : c - 8
                    );
            for (uint256 i; i < 16; ++i) dst[off + 16 + i] = w[2 * c][i];
            for (uint256 i; i < 32; ++i) dst[off + 32 + i] = w[2 * c + 1][i];
        }
        try v.verify(xo, xp, h, 1, 1, bytes32(0), agg) returns (bool ok) {
            assertFalse(ok, "garbage verified");
        } catch {}
    }

    /// The digests are the documented ABI encodings.
    function testFuzz_digestsAreTheDocumentedEncodings(
        bytes32 iris,
        bytes32 avatar,
        uint8 scope,
        uint64 nb,
        uint64 na,
        bytes32 r,
        bytes32 h,
        uint8 t,
        uint64 time,
        bytes32 body
    ) public view {
        bytes memory pk = BlsRef.g2Mul(BlsRef.G2, (uint256(iris) % (BlsRef.R - 1)) + 1);
        bytes32 wd = v.warrantDigest(iris, pk, avatar, scope, nb, na);
        assertEq(wd, keccak256(abi.encode("CPS-WARRANT-V1", iris, keccak256(pk), avatar, scope, nb, na)), "D(w)");
        assertEq(
            v.chameleonHash(pk, wd, r),
            keccak256(bytes.concat("CPS-CHASH-V1", keccak256(pk), keccak256(abi.encodePacked(wd)), r)),
            "CHash"
        );
        assertEq(v.messageDigest(h, t, time, body), keccak256(abi.encode(h, t, time, body)), "M(h, m)");
    }
}
