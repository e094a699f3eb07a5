// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {HashToG1} from "../../contracts/libraries/HashToG1.sol";
import {BLS12381} from "../../contracts/libraries/BLS12381.sol";

/// @dev JSON cheatcodes beyond the shared `Vm` (same cheatcode address).
interface VmJson {
    function parseJsonString(string calldata json, string calldata key) external pure returns (string memory);
    function keyExistsJson(string calldata json, string calldata key) external view returns (bool);
}

/// @notice BLS12-381 arithmetic for the tests, written apart from the contracts under test: big
/// numbers as (hi 128 bits, lo 256 bits), the EIP-2537 precompiles and MODEXP called directly.
library BlsRef {
    uint256 internal constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 internal constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    /// the group order r
    uint256 internal constant R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001;
    bytes internal constant P48 =
        hex"1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";
    /// (p + 1) / 4: y = rhs^((p+1)/4) is a square root when one exists (p = 3 mod 4)
    bytes internal constant SQRT_EXP =
        hex"0680447a8e5ff9a692c6e9ed90d2eb35d91dd2e13ce144afd9cc34a83dac3d8907aaffffac54ffffee7fbfffffffeaab";

    bytes internal constant G1 =
        hex"0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb0000000000000000000000000000000008b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1";
    bytes internal constant G2 =
        hex"00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb80000000000000000000000000000000013e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e000000000000000000000000000000000ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801000000000000000000000000000000000606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be";

    // ------------------------------------------------------------------ precompiles, raw

    function call(address a, bytes memory input) internal view returns (bool ok, bytes memory out) {
        (ok, out) = a.staticcall(input);
    }

    function mustCall(address a, bytes memory input) internal view returns (bytes memory out) {
        bool ok;
        (ok, out) = a.staticcall(input);
        require(ok && out.length > 0, "BlsRef: precompile call failed");
    }

    function g1Add(bytes memory a, bytes memory b) internal view returns (bytes memory) {
        return mustCall(address(0x0b), bytes.concat(a, b));
    }

    function g1Mul(bytes memory a, uint256 k) internal view returns (bytes memory) {
        return mustCall(address(0x0c), bytes.concat(a, bytes32(k)));
    }

    function g2Mul(bytes memory a, uint256 k) internal view returns (bytes memory) {
        return mustCall(address(0x0e), bytes.concat(a, bytes32(k)));
    }

    function pairing(bytes memory input) internal view returns (bool) {
        bytes memory out = mustCall(address(0x0f), input);
        return uint256(bytes32(out)) == 1;
    }

    function neg(bytes memory p) internal view returns (bytes memory) {
        return g1Mul(p, R - 1);
    }

    // ------------------------------------------------------------------ Fp by MODEXP

    /// base^e mod p, as a 48-byte big-endian value
    function modexp(bytes memory base, bytes memory e) internal view returns (bytes memory) {
        return
            mustCall(
                address(0x05),
                abi.encodePacked(uint256(base.length), uint256(e.length), uint256(48), base, e, P48)
            );
    }

    /// a 64-byte EIP-2537 element from a 48-byte value
    function pad(bytes memory v48) internal pure returns (bytes memory) {
        require(v48.length == 48, "BlsRef: pad");
        return bytes.concat(bytes16(0), v48);
    }

    /// the 48-byte value of a 64-byte EIP-2537 element at `off` of `b`
    function slice48(bytes memory b, uint256 off) internal pure returns (bytes memory v) {
        v = new bytes(48);
        for (uint256 i; i < 48; ++i) v[i] = b[off + 16 + i];
    }

    function limbs(bytes memory v48) internal pure returns (uint256 hi, uint256 lo) {
        for (uint256 i; i < 16; ++i) hi = (hi << 8) | uint8(v48[i]);
        for (uint256 i = 16; i < 48; ++i) lo = (lo << 8) | uint8(v48[i]);
    }

    function fromLimbs(uint256 hi, uint256 lo) internal pure returns (bytes memory) {
        require(hi < 2 ** 128, "BlsRef: hi");
        return abi.encodePacked(uint128(hi), lo);
    }

    /// v < p for a 48-byte value
    function lessThanP(bytes memory v48) internal pure returns (bool) {
        (uint256 hi, uint256 lo) = limbs(v48);
        return hi < P_HI || (hi == P_HI && lo < P_LO);
    }

    /// (x^3 + 4) mod p and y^2 mod p for a G1 point in EIP-2537 encoding
    function curveSides(bytes memory pt) internal view returns (bytes memory lhs, bytes memory rhs) {
        bytes memory x = slice48(pt, 0);
        bytes memory y = slice48(pt, 64);
        lhs = modexp(y, hex"02");
        (uint256 hi, uint256 lo) = limbs(modexp(x, hex"03"));
        unchecked {
            uint256 lo4 = lo + 4;
            if (lo4 < lo) ++hi;
            lo = lo4;
        }
        rhs = modexp(fromLimbs(hi, lo), hex"01");
    }

    /// y^2 = x^3 + 4 over Fp, with canonical coordinates and zero padding
    function onCurveG1(bytes memory pt) internal view returns (bool) {
        if (pt.length != 128) return false;
        for (uint256 i; i < 16; ++i) if (pt[i] != 0 || pt[64 + i] != 0) return false;
        if (!lessThanP(slice48(pt, 0)) || !lessThanP(slice48(pt, 64))) return false;
        (bytes memory lhs, bytes memory rhs) = curveSides(pt);
        return keccak256(lhs) == keccak256(rhs);
    }

    /// A point on y^2 = x^3 + 4 with x derived from `seed`, found by a square root; outside the
    /// r-torsion with overwhelming probability (the cofactor is about 2^126). Empty if x^3 + 4
    /// is not a square (half the time).
    function curvePointFrom(uint256 seed) internal view returns (bytes memory pt) {
        bytes memory x = modexp(abi.encodePacked(keccak256(abi.encode(seed, 1)), keccak256(abi.encode(seed))), hex"01");
        (uint256 hi, uint256 lo) = limbs(modexp(x, hex"03"));
        unchecked {
            uint256 lo4 = lo + 4;
            if (lo4 < lo) ++hi;
            lo = lo4;
        }
        bytes memory rhs = modexp(fromLimbs(hi, lo), hex"01");
        bytes memory y = modexp(rhs, SQRT_EXP);
        if (keccak256(modexp(y, hex"02")) != keccak256(rhs)) return "";
        pt = bytes.concat(pad(x), pad(y));
    }

    /// v + d for a 48-byte v and d < 2^384 - v (no overflow past 384 bits)
    function add48(bytes memory v48, uint256 dHi, uint256 dLo) internal pure returns (bytes memory) {
        (uint256 hi, uint256 lo) = limbs(v48);
        unchecked {
            uint256 l = lo + dLo;
            if (l < lo) ++hi;
            return fromLimbs(hi + dHi, l);
        }
    }

    // ------------------------------------------------------------------ RFC 9380, written out

    /// expand_message_xmd with SHA-256 (RFC 9380 §5.3.1) for any message and DST < 256 bytes.
    function expandMessageXmd(
        bytes memory message,
        bytes memory dst,
        uint256 len
    ) internal pure returns (bytes memory out) {
        require(dst.length < 256 && len <= 255 * 32, "BlsRef: xmd");
        uint256 ell = (len + 31) / 32;
        bytes memory dstPrime = bytes.concat(dst, bytes1(uint8(dst.length)));
        bytes32 b0 = sha256(bytes.concat(new bytes(64), message, bytes2(uint16(len)), bytes1(0), dstPrime));
        bytes32 bi = sha256(bytes.concat(b0, bytes1(uint8(1)), dstPrime));
        bytes memory uniform = abi.encodePacked(bi);
        for (uint256 i = 2; i <= ell; ++i) {
            bi = sha256(bytes.concat(b0 ^ bi, bytes1(uint8(i)), dstPrime));
            uniform = bytes.concat(uniform, bi);
        }
        out = new bytes(len);
        for (uint256 i; i < len; ++i) out[i] = uniform[i];
    }

    /// hash_to_field(msg, 2) for BLS12-381 G1 (L = 64): two EIP-2537 Fp elements.
    function hashToField(
        bytes memory message,
        bytes memory dst
    ) internal view returns (bytes memory u0, bytes memory u1) {
        bytes memory uniform = expandMessageXmd(message, dst, 128);
        bytes memory a = new bytes(64);
        bytes memory b = new bytes(64);
        for (uint256 i; i < 64; ++i) (a[i], b[i]) = (uniform[i], uniform[64 + i]);
        u0 = pad(modexp(a, hex"01"));
        u1 = pad(modexp(b, hex"01"));
    }

    /// hash_to_curve: map each element (the precompile maps and clears the cofactor), then add.
    function hashToCurve(bytes memory message, bytes memory dst) internal view returns (bytes memory) {
        (bytes memory u0, bytes memory u1) = hashToField(message, dst);
        return g1Add(mustCall(address(0x10), u0), mustCall(address(0x10), u1));
    }

    // ------------------------------------------------------------------ hex

    function fromHex(string memory s) internal pure returns (bytes memory out) {
        bytes memory h = bytes(s);
        uint256 start = h.length >= 2 && h[0] == "0" && (h[1] == "x" || h[1] == "X") ? 2 : 0;
        require((h.length - start) % 2 == 0, "BlsRef: odd hex");
        out = new bytes((h.length - start) / 2);
        for (uint256 i; i < out.length; ++i)
            out[i] = bytes1((_nibble(h[start + 2 * i]) << 4) | _nibble(h[start + 2 * i + 1]));
    }

    function _nibble(bytes1 c) private pure returns (uint8) {
        uint8 x = uint8(c);
        if (x >= 48 && x <= 57) return x - 48;
        if (x >= 97 && x <= 102) return x - 87;
        if (x >= 65 && x <= 70) return x - 55;
        revert("BlsRef: not hex");
    }
}

/// @dev External entry points, so that reverts can be caught.
contract HashToG1Harness {
    function hash(bytes32 message, bytes calldata dst) external view returns (bytes memory) {
        return HashToG1.hash(message, dst);
    }

    function hashToField(bytes32 message, bytes calldata dst) external view returns (bytes memory, bytes memory) {
        return HashToG1.hashToField(message, dst);
    }
}

/// @dev External entry points over BLS12381.
contract BLS12381Harness {
    function pairingCheck(bytes calldata input) external view returns (bool) {
        return BLS12381.pairingCheck(input);
    }

    function g1Add(bytes calldata a, bytes calldata b) external view returns (bytes memory) {
        return BLS12381.g1Add(a, b);
    }

    function g1Mul(bytes calldata p, uint256 k) external view returns (bytes memory) {
        return BLS12381.g1Mul(p, k);
    }

    function g2Add(bytes calldata a, bytes calldata b) external view returns (bytes memory) {
        return BLS12381.g2Add(a, b);
    }

    function g2Mul(bytes calldata p, uint256 k) external view returns (bytes memory) {
        return BLS12381.g2Mul(p, k);
    }

    function mapFpToG1(bytes calldata fp) external view returns (bytes memory) {
        return BLS12381.mapFpToG1(fp);
    }
}

/// @notice HashToG1 (RFC 9380 BLS12381G1_XMD:SHA-256_SSWU_RO_ through EIP-2537) against the RFC's
/// vectors, and its outputs checked with the precompiles; the EVM is prague with EIP-2537 live.
contract HashToG1Test is Test {
    VmJson internal constant vmj = VmJson(address(uint160(uint256(keccak256("hevm cheat code")))));
    string internal constant VECTORS = "./test/vectors/rfc9380-bls12381.json";
    bytes internal constant DST_RFC = "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
    bytes internal constant DST_WARRANT = "METATRUST-V1-CPS-WARRANT-BLS12381G1_XMD:SHA-256_SSWU_RO_";
    bytes internal constant DST_MESSAGE = "METATRUST-V1-CPS-MESSAGE-BLS12381G1_XMD:SHA-256_SSWU_RO_";

    HashToG1Harness internal h;

    function setUp() public {
        h = new HashToG1Harness();
    }

    // ------------------------------------------------------------------ the EVM

    /// forge runs prague: the seven EIP-2537 precompiles answer (G1ADD of the generators' vector,
    /// a pairing, MAP_FP_TO_G1, G2 arithmetic), with EIP-2537's output sizes.
    function test_evmIsPragueWithEip2537() public view {
        bytes memory twoG1 = BlsRef.g1Add(BlsRef.G1, BlsRef.G1);
        assertEq(twoG1, BlsRef.g1Mul(BlsRef.G1, 2), "G1ADD = G1MSM");
        assertEq(
            twoG1,
            hex"000000000000000000000000000000000572cbea904d67468808c8eb50a9450c9721db309128012543902d0ac358a62ae28f75bb8f1c7c42c39a8c5529bf0f4e00000000000000000000000000000000166a9d8cabc673a322fda673779d8e3822ba3ecb8670e461f73bb9021d5fd76a4c56d9d4cd16bd1bba86881979749d28",
            "2 * G1 (go-ethereum vector)"
        );
        bytes memory twoG2 = BlsRef.mustCall(address(0x0d), bytes.concat(BlsRef.G2, BlsRef.G2));
        assertEq(twoG2, BlsRef.g2Mul(BlsRef.G2, 2), "G2ADD = G2MSM");
        assertEq(twoG2.length, 256, "G2 size");
        // e(2 G1, G2) e(-G1, 2 G2) = 1
        assertTrue(BlsRef.pairing(bytes.concat(twoG1, BlsRef.G2, BlsRef.neg(BlsRef.G1), twoG2)), "pairing");
        assertEq(BlsRef.mustCall(address(0x10), new bytes(64)).length, 128, "MAP_FP_TO_G1");
        assertEq(BlsRef.mustCall(address(0x11), new bytes(128)).length, 256, "MAP_FP2_TO_G2");
    }

    // ------------------------------------------------------------------ RFC 9380 vectors

    /// The written-out expand_message_xmd gives the vector's 128 bytes.
    function test_rfc9380_expandMessageXmd() public view {
        string memory json = vm.readFile(VECTORS);
        bytes memory message = bytes(vmj.parseJsonString(json, ".expand_message_xmd.vectors[0].msg"));
        bytes memory dst = bytes(vmj.parseJsonString(json, ".expand_message_xmd.vectors[0].dst"));
        uint256 len = vm.parseJsonUint(json, ".expand_message_xmd.vectors[0].len");
        bytes memory out = BlsRef.fromHex(vmj.parseJsonString(json, ".expand_message_xmd.vectors[0].out"));
        assertEq(BlsRef.expandMessageXmd(message, dst, len), out, "expand_message_xmd");
    }

    /// Every G1 vector of RFC 9380 J.9.1 (messages of 0, 3, 16 and 133 bytes) through the written-out
    /// hash_to_curve and the EIP-2537 map: the vector's (x, y).
    function test_rfc9380_G1Vectors() public view {
        string memory json = vm.readFile(VECTORS);
        bytes memory dst = bytes(vmj.parseJsonString(json, ".G1.dst"));
        assertEq(dst, DST_RFC, "dst");
        uint256 n;
        for (; vmj.keyExistsJson(json, string.concat(".G1.vectors[", vm.toString(n), "]")); ++n) {
            string memory k = string.concat(".G1.vectors[", vm.toString(n), "]");
            bytes memory message = bytes(vmj.parseJsonString(json, string.concat(k, ".msg")));
            bytes memory x = BlsRef.fromHex(vmj.parseJsonString(json, string.concat(k, ".x")));
            bytes memory y = BlsRef.fromHex(vmj.parseJsonString(json, string.concat(k, ".y")));
            assertEq(BlsRef.hashToCurve(message, dst), bytes.concat(BlsRef.pad(x), BlsRef.pad(y)), "RFC 9380 G1");
        }
        assertEq(n, 4, "four G1 vectors");
    }

    // ------------------------------------------------------------------ HashToG1 = RFC 9380

    /// hash_to_field of a 32-byte message equals the written-out RFC 9380 one, for any DST < 256 bytes.
    function testFuzz_hashToField_equalsRfc9380(bytes32 message, bytes memory dst) public view {
        vm.assume(dst.length > 0 && dst.length < 256);
        (bytes memory u0, bytes memory u1) = h.hashToField(message, dst);
        (bytes memory r0, bytes memory r1) = BlsRef.hashToField(abi.encodePacked(message), dst);
        assertEq(u0, r0, "u0");
        assertEq(u1, r1, "u1");
        assertTrue(BlsRef.lessThanP(BlsRef.slice48(u0, 0)) && BlsRef.lessThanP(BlsRef.slice48(u1, 0)), "u < p");
    }

    /// HashToG1.hash equals the written-out hash_to_curve (pinned by the RFC vectors above) for the
    /// RFC's DST, both CPS DSTs and random DSTs.
    function testFuzz_hash_equalsRfc9380(bytes32 message, uint8 which, bytes memory randomDst) public view {
        bytes memory dst =
            which % 4 == 0
                ? DST_RFC
                : which % 4 == 1
                    ? DST_WARRANT
                    : which % 4 == 2
                        ? DST_MESSAGE
                        : randomDst;
        vm.assume(dst.length > 0 && dst.length < 256); // an empty DST reverts (RFC 9380 §3.1)
        assertEq(h.hash(message, dst), BlsRef.hashToCurve(abi.encodePacked(message), dst), "hash_to_curve");
    }

    /// H(m) is a point of G1: canonical coordinates, zero padding, y^2 = x^3 + 4 (checked by MODEXP
    /// arithmetic), not the identity, r * H(m) = O through G1MSM (which rejects points outside the
    /// subgroup), and the pairing precompile (which checks the subgroup too) accepts e(H, g2) e(-H, g2).
    function testFuzz_hash_onCurveAndInSubgroup(bytes32 message, bool warrant) public view {
        bytes memory p = h.hash(message, warrant ? DST_WARRANT : DST_MESSAGE);
        assertEq(p.length, 128, "length");
        assertTrue(BlsRef.onCurveG1(p), "on the curve");
        assertTrue(keccak256(p) != keccak256(new bytes(128)), "not the identity");
        assertEq(BlsRef.g1Mul(p, BlsRef.R), new bytes(128), "r * H = O");
        (bool ok, ) = BlsRef.call(address(0x0c), bytes.concat(p, bytes32(uint256(1))));
        assertTrue(ok, "G1MSM accepts it (subgroup check)");
        assertTrue(BlsRef.pairing(bytes.concat(p, BlsRef.G2, BlsRef.neg(p), BlsRef.G2)), "pairing accepts it");
    }

    /// hashTo writes H(msg) at `out` and nothing else the caller owns, and keeps no memory: its
    /// scratch is allocated and freed again, so the free memory pointer ends where it started.
    /// hashToField keeps exactly its two 64-byte results. (That the scratch is allocated while in
    /// use, so that memory-safe code in between cannot overwrite it, is what `npm run
    /// coverage:check` shows: solidity-coverage allocates at every statement.)
    function testFuzz_hashTo_memory(bytes32 message, uint256 dstLength, bytes32 seed) public view {
        bytes memory dst = new bytes(bound(dstLength, 1, 255));
        for (uint256 i; i < dst.length; ++i) dst[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i)))));
        bytes memory below = abi.encode(seed, ~seed);
        bytes memory out = new bytes(128);
        bytes memory above = abi.encode(~seed, seed);
        uint256 start = _freeMemoryPointer();
        HashToG1.hashTo(message, dst, _dataOf(out));
        assertEq(_freeMemoryPointer(), start, "hashTo keeps no memory");
        assertEq(below, abi.encode(seed, ~seed), "memory below out untouched");
        assertEq(above, abi.encode(~seed, seed), "memory above out untouched");
        assertEq(out, BlsRef.hashToCurve(abi.encodePacked(message), dst), "H(msg) at out");

        start = _freeMemoryPointer();
        (bytes memory u0, bytes memory u1) = HashToG1.hashToField(message, dst);
        assertEq(_freeMemoryPointer(), start + 2 * (32 + 64), "hashToField keeps u0 and u1 only");
        (bytes memory r0, bytes memory r1) = BlsRef.hashToField(abi.encodePacked(message), dst);
        assertEq(u0, r0, "u0");
        assertEq(u1, r1, "u1");
    }

    function _freeMemoryPointer() private pure returns (uint256 fmp) {
        assembly ("memory-safe") {
            fmp := mload(0x40)
        }
    }

    function _dataOf(bytes memory b) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := add(b, 0x20)
        }
    }

    /// Deterministic, and separated by message and by DST.
    function testFuzz_hash_deterministicAndSeparated(bytes32 m1, bytes32 m2) public view {
        bytes memory a = h.hash(m1, DST_WARRANT);
        assertEq(h.hash(m1, DST_WARRANT), a, "deterministic");
        assertTrue(keccak256(h.hash(m1, DST_MESSAGE)) != keccak256(a), "DSTs separate");
        if (m1 != m2) assertTrue(keccak256(h.hash(m2, DST_WARRANT)) != keccak256(a), "messages separate");
    }
}

/// @notice Malformed input for the BLS12381 helpers: wrong lengths, non-canonical field elements
/// (>= p, or with padding bytes set), points off the curve or outside the subgroup. Each call
/// reverts or answers false; none answers true. The identity is a valid EIP-2537 encoding and
/// behaves as the identity (e(O, Q) = 1), which is what the helpers must do; rejecting it is the
/// caller's job (see CPSVerifier.findings.t.sol).
contract BLS12381MalformedInputTest is Test {
    BLS12381Harness internal b;

    function setUp() public {
        b = new BLS12381Harness();
    }

    function _lengthError(uint256 len) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(BLS12381.BLS12381__InvalidInputLength.selector, len);
    }

    function _refused(address a) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(BLS12381.BLS12381__PrecompileFailed.selector, a);
    }

    /// Every helper rejects an input of the wrong length with InvalidInputLength.
    function testFuzz_wrongLengths(bytes memory x, bytes memory y, uint256 k) public {
        if (x.length == 128) x = bytes.concat(x, hex"00");
        if (y.length == 128) y = bytes.concat(y, hex"00");
        vm.expectRevert(_lengthError(x.length + 128));
        b.g1Add(x, BlsRef.G1);
        vm.expectRevert(_lengthError(128 + y.length));
        b.g1Add(BlsRef.G1, y);
        vm.expectRevert(_lengthError(x.length));
        b.g1Mul(x, k);
        bytes memory z = x.length == 256 ? bytes.concat(x, hex"00") : x;
        vm.expectRevert(_lengthError(z.length + 256));
        b.g2Add(z, BlsRef.G2);
        vm.expectRevert(_lengthError(z.length));
        b.g2Mul(z, k);
        bytes memory f = x.length == 64 ? bytes.concat(x, hex"00") : x;
        vm.expectRevert(_lengthError(f.length));
        b.mapFpToG1(f);
        bytes memory pairs = x.length % 384 == 0 ? bytes.concat(x, hex"00") : x;
        vm.expectRevert(_lengthError(pairs.length));
        b.pairingCheck(pairs);
    }

    /// A coordinate >= p (x + d or y + d with x + d < 2^384) is rejected by every G1 operation.
    function testFuzz_nonCanonicalG1Coordinate(uint128 dHi, uint256 dLo, bool onY) public {
        bytes memory pt = BlsRef.g1Mul(BlsRef.G1, 5);
        uint256 off = onY ? 64 : 0;
        // the coordinate plus p, plus a random offset, below 2^384
        bytes memory c = BlsRef.add48(BlsRef.slice48(pt, off), BlsRef.P_HI, BlsRef.P_LO);
        (uint256 hi, ) = BlsRef.limbs(c);
        dHi = uint128(bound(dHi, 0, 2 ** 128 - 2 - hi));
        c = BlsRef.add48(c, dHi, dLo);
        assertTrue(!BlsRef.lessThanP(c), "non-canonical");
        for (uint256 i; i < 48; ++i) pt[off + 16 + i] = c[i];
        _rejectG1(pt);
    }

    /// Non-zero padding bytes in a coordinate are rejected.
    function testFuzz_g1PaddingBytesSet(uint8 at, uint8 value) public {
        vm.assume(value != 0);
        bytes memory pt = BlsRef.g1Mul(BlsRef.G1, 7);
        uint256 i = bound(at, 0, 31);
        pt[i < 16 ? i : 64 + (i - 16)] = bytes1(value);
        _rejectG1(pt);
    }

    /// Random canonical coordinates are (all but surely) off the curve: rejected everywhere.
    function testFuzz_g1OffCurve(bytes32 x1, bytes16 x0, bytes32 y1, bytes16 y0) public {
        bytes memory x = BlsRef.modexp(abi.encodePacked(x0, x1), hex"01");
        bytes memory y = BlsRef.modexp(abi.encodePacked(y0, y1), hex"01");
        bytes memory pt = bytes.concat(BlsRef.pad(x), BlsRef.pad(y));
        vm.assume(!BlsRef.onCurveG1(pt));
        _rejectG1(pt);
    }

    /// A point on the curve outside the r-order subgroup: G1ADD takes it (EIP-2537 checks only the
    /// curve there), G1MSM and the pairing reject it.
    function testFuzz_g1OutsideTheSubgroup(uint256 seed) public {
        bytes memory pt = BlsRef.curvePointFrom(seed);
        vm.assume(pt.length == 128);
        assertTrue(BlsRef.onCurveG1(pt), "on the curve");
        b.g1Add(pt, BlsRef.G1); // accepted by design
        vm.expectRevert(_refused(address(0x0c)));
        b.g1Mul(pt, 1);
        vm.expectRevert(_refused(address(0x0f)));
        b.pairingCheck(bytes.concat(pt, BlsRef.G2));
        // (0, 2) too: on y^2 = x^3 + 4, not in the subgroup
        bytes memory small = new bytes(128);
        small[127] = 0x02;
        vm.expectRevert(_refused(address(0x0c)));
        b.g1Mul(small, 3);
    }

    /// Random G2 encodings with canonical padding are off the twist: rejected by G2ADD, G2MSM and
    /// the pairing.
    function testFuzz_g2OffCurve(bytes32[8] memory w) public {
        bytes memory pt = new bytes(256);
        for (uint256 c; c < 4; ++c) {
            bytes memory v = BlsRef.modexp(abi.encodePacked(bytes16(w[2 * c]), w[2 * c + 1]), hex"01");
            for (uint256 i; i < 48; ++i) pt[64 * c + 16 + i] = v[i];
        }
        vm.expectRevert(_refused(address(0x0d)));
        b.g2Add(pt, BlsRef.G2);
        vm.expectRevert(_refused(address(0x0e)));
        b.g2Mul(pt, 2);
        vm.expectRevert(_refused(address(0x0f)));
        b.pairingCheck(bytes.concat(BlsRef.G1, pt));
    }

    /// A G2 coordinate part >= p is rejected.
    function testFuzz_nonCanonicalG2Coordinate(uint8 part) public {
        bytes memory pt = BlsRef.g2Mul(BlsRef.G2, 3);
        uint256 off = 64 * (part % 4);
        bytes memory c = BlsRef.add48(BlsRef.slice48(pt, off), BlsRef.P_HI, BlsRef.P_LO);
        for (uint256 i; i < 48; ++i) pt[off + 16 + i] = c[i];
        vm.expectRevert(_refused(address(0x0d)));
        b.g2Add(pt, BlsRef.G2);
        vm.expectRevert(_refused(address(0x0f)));
        b.pairingCheck(bytes.concat(BlsRef.G1, pt));
    }

    /// Garbage of the right length never makes the pairing check answer true.
    function testFuzz_pairingCheck_garbageNeverTrue(bytes32[12] memory w, uint8 pairs) public view {
        uint256 k = bound(pairs, 1, 2);
        bytes memory input;
        for (uint256 j; j < k; ++j) {
            for (uint256 c; c < 6; ++c) {
                bytes32 hi = keccak256(abi.encode(w[2 * c], j));
                input = bytes.concat(input, bytes16(0), bytes16(hi), w[2 * c + 1]);
            }
        }
        try b.pairingCheck(input) returns (bool ok) {
            assertFalse(ok, "garbage verified");
        } catch {}
    }

    /// The identity is neutral: G1ADD(P, O) = P, and a pair with O does not change the answer.
    function testFuzz_identityIsNeutral(uint256 a, uint256 c) public view {
        a = bound(a, 1, BlsRef.R - 1);
        c = bound(c, 1, BlsRef.R - 1);
        bytes memory p = BlsRef.g1Mul(BlsRef.G1, a);
        assertEq(b.g1Add(p, new bytes(128)), p, "P + O");
        bytes memory good = bytes.concat(p, BlsRef.G2, BlsRef.neg(p), BlsRef.G2);
        bytes memory bad = bytes.concat(p, BlsRef.G2, BlsRef.neg(BlsRef.g1Mul(BlsRef.G1, a + 1)), BlsRef.G2);
        bytes memory idPair = bytes.concat(new bytes(128), BlsRef.g2Mul(BlsRef.G2, c));
        assertTrue(b.pairingCheck(good), "e(P, g2) e(-P, g2) = 1");
        assertTrue(b.pairingCheck(bytes.concat(good, idPair)), "with an identity pair");
        assertFalse(b.pairingCheck(bad), "e(aG, g2) e(-(a+1)G, g2) != 1");
        assertFalse(b.pairingCheck(bytes.concat(bad, idPair)), "an identity pair does not fix it");
    }

    /// Bilinearity through the helper: e(aG1, cG2) e(-acG1, G2) = 1, and a perturbed product fails.
    function testFuzz_pairingCheck_bilinear(uint256 a, uint256 c, bool perturb) public view {
        a = bound(a, 1, BlsRef.R - 1);
        c = bound(c, 1, BlsRef.R - 1);
        uint256 ac = mulmod(a, c, BlsRef.R);
        if (perturb) ac = addmod(ac, 1, BlsRef.R);
        bytes memory input = bytes.concat(
            b.g1Mul(BlsRef.G1, a),
            b.g2Mul(BlsRef.G2, c),
            BlsRef.neg(b.g1Mul(BlsRef.G1, ac)),
            BlsRef.G2
        );
        assertTrue(b.pairingCheck(input) == !perturb, "bilinearity");
    }

    function _rejectG1(bytes memory pt) internal {
        vm.expectRevert(_refused(address(0x0b)));
        b.g1Add(pt, BlsRef.G1);
        vm.expectRevert(_refused(address(0x0b)));
        b.g1Add(BlsRef.G1, pt);
        vm.expectRevert(_refused(address(0x0c)));
        b.g1Mul(pt, 3);
        vm.expectRevert(_refused(address(0x0f)));
        b.pairingCheck(bytes.concat(pt, BlsRef.G2));
    }
}
