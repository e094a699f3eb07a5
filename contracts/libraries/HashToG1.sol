// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BLS12381} from "./BLS12381.sol";

/// @title HashToG1
/// @notice RFC 9380 hash_to_curve for BLS12-381 G1 (suite BLS12381G1_XMD:SHA-256_SSWU_RO_) with
/// the EIP-2537 precompiles: expand_message_xmd with SHA-256, hash_to_field by the MODEXP
/// precompile (x mod p), MAP_FP_TO_G1 (which maps and clears the cofactor) twice, and one G1ADD.
/// @dev Equal to noble-curves' `bls12_381.G1.hashToCurve(msg, { DST })` (differential test with
/// RFC 9380 vectors). Messages here are 32-byte digests. A DST longer than 255 bytes is replaced
/// by SHA-256("H2C-OVERSIZE-DST-" || DST), as RFC 9380 §5.3.3 requires.
library HashToG1 {
    /// @notice The MODEXP precompile failed.
    error HashToG1__ModexpFailed();

    /// @dev p, the BLS12-381 base field modulus, as 64 bytes (16 zero bytes + 48).
    bytes private constant P_PADDED =
        hex"000000000000000000000000000000001a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";

    /// @notice H(msg) in G1, EIP-2537 encoded (128 bytes).
    function hash(bytes32 message, bytes memory dst) internal view returns (bytes memory) {
        (bytes memory u0, bytes memory u1) = hashToField(message, dst);
        return BLS12381.g1Add(BLS12381.mapFpToG1(u0), BLS12381.mapFpToG1(u1));
    }

    /// @notice hash_to_field(msg, 2): two Fp elements, EIP-2537 encoded (64 bytes each).
    function hashToField(bytes32 message, bytes memory dst) internal view returns (bytes memory u0, bytes memory u1) {
        if (dst.length > 255) dst = abi.encodePacked(sha256(abi.encodePacked("H2C-OVERSIZE-DST-", dst)));
        bytes memory dstPrime = abi.encodePacked(dst, uint8(dst.length));
        // expand_message_xmd(msg, DST, 128): b_0, then b_1..b_4.
        bytes32 b0 = sha256(abi.encodePacked(bytes32(0), bytes32(0), message, uint16(128), uint8(0), dstPrime));
        bytes32 b1 = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        bytes32 b2 = sha256(abi.encodePacked(b0 ^ b1, uint8(2), dstPrime));
        bytes32 b3 = sha256(abi.encodePacked(b0 ^ b2, uint8(3), dstPrime));
        bytes32 b4 = sha256(abi.encodePacked(b0 ^ b3, uint8(4), dstPrime));
        u0 = _modP(b1, b2);
        u1 = _modP(b3, b4);
    }

    /// @dev (hi || lo) mod p by MODEXP with exponent 1; the 64-byte result is an EIP-2537 Fp.
    function _modP(bytes32 hi, bytes32 lo) private view returns (bytes memory out) {
        bytes memory input = abi.encodePacked(uint256(64), uint256(1), uint256(64), hi, lo, uint8(1), P_PADDED);
        bool ok;
        // MODEXP of 64-byte operands with exponent 1 costs 200 gas under EIP-2565 (500 under EIP-7883).
        (ok, out) = address(0x05).staticcall{gas: 5_000}(input);
        if (!ok || out.length != 64) revert HashToG1__ModexpFailed();
    }
}
