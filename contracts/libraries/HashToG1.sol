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
/// The work is done in place in scratch memory (at most 896 bytes) that `hashTo` and `hashToField`
/// allocate at the free memory pointer and free again on return, so that memory-safe code run in
/// between (solidity-coverage's instrumentation allocates at every statement) cannot overwrite it;
/// `hashTo` leaves the free memory pointer as it found it for a DST of at most 255 bytes.
library HashToG1 {
    /// @notice The MODEXP precompile failed.
    error HashToG1__ModexpFailed();
    /// @notice RFC 9380 §3.1 requires a non-empty domain-separation tag.
    error HashToG1__EmptyDst();

    /// @dev p, the BLS12-381 base field modulus, as the two words of its 64-byte MODEXP operand:
    /// 16 zero bytes and the top 16 bytes of p, then the low 32 bytes of p.
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;

    /// @dev MODEXP of 64-byte operands with exponent 1 costs 200 gas under EIP-2565 (500 under EIP-7883).
    uint256 private constant MODEXP_GAS = 5_000;

    /// @notice H(msg) in G1, EIP-2537 encoded (128 bytes).
    function hash(bytes32 message, bytes memory dst) internal view returns (bytes memory point) {
        point = new bytes(BLS12381.G1_BYTES);
        uint256 out;
        assembly ("memory-safe") {
            out := add(point, 0x20)
        }
        hashTo(message, dst, out);
    }

    /// @notice H(msg) in G1, EIP-2537 encoded, written to the 128 bytes of memory at `out` (which
    /// the caller owns).
    function hashTo(bytes32 message, bytes memory dst, uint256 out) internal view {
        if (dst.length == 0) revert HashToG1__EmptyDst();
        if (dst.length > 255) dst = _oversizeDst(dst);
        unchecked {
            // Scratch at q: u0 at q and u1 at q + 128, each mapped in place to its 128-byte point,
            // so that Q0 || Q1 (256 bytes at q) is the G1ADD input; hash_to_field works past q + 256.
            uint256 q = _allocate(256 + _fieldScratchBytes(dst.length));
            _hashToField(message, dst, q, q + 128, q + 256);
            BLS12381.staticcallInto(BLS12381.MAP_FP_TO_G1, q, 64, q, 128, BLS12381.MAP_FP_TO_G1_GAS);
            BLS12381.staticcallInto(BLS12381.MAP_FP_TO_G1, q + 128, 64, q + 128, 128, BLS12381.MAP_FP_TO_G1_GAS);
            BLS12381.staticcallInto(BLS12381.G1_ADD, q, 256, out, 128, BLS12381.G1_ADD_GAS);
            _free(q);
        }
    }

    /// @notice hash_to_field(msg, 2): two Fp elements, EIP-2537 encoded (64 bytes each).
    function hashToField(bytes32 message, bytes memory dst) internal view returns (bytes memory u0, bytes memory u1) {
        if (dst.length == 0) revert HashToG1__EmptyDst();
        if (dst.length > 255) dst = _oversizeDst(dst);
        u0 = new bytes(64);
        u1 = new bytes(64);
        uint256 p0;
        uint256 p1;
        assembly ("memory-safe") {
            p0 := add(u0, 0x20)
            p1 := add(u1, 0x20)
        }
        uint256 scratch = _allocate(_fieldScratchBytes(dst.length));
        _hashToField(message, dst, p0, p1, scratch);
        _free(scratch);
    }

    /// @dev RFC 9380 §5.3.3: DST = SHA-256("H2C-OVERSIZE-DST-" || DST) for a DST over 255 bytes.
    function _oversizeDst(bytes memory dst) private pure returns (bytes memory) {
        return abi.encodePacked(sha256(abi.encodePacked("H2C-OVERSIZE-DST-", dst)));
    }

    /// @dev The scratch `_hashToField` needs for a DST of `dstLength` (1 to 255) bytes, rounded up
    /// to whole words: max(384, 356 + dstLength) bytes, so at most 640.
    function _fieldScratchBytes(uint256 dstLength) private pure returns (uint256) {
        unchecked {
            return (356 + dstLength + 31) & ~uint256(31);
        }
    }

    /// @dev Allocates `size` bytes (a multiple of 32) at the free memory pointer and returns them.
    function _allocate(uint256 size) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := mload(0x40)
            mstore(0x40, add(ptr, size))
        }
    }

    /// @dev Frees the scratch that `_allocate` returned as `ptr`, and everything allocated after it
    /// (nothing allocated after it is referenced once the caller returns).
    function _free(uint256 ptr) private pure {
        assembly ("memory-safe") {
            mstore(0x40, ptr)
        }
    }

    /// @dev hash_to_field(message, 2) for a DST of at most 255 bytes: expand_message_xmd(message,
    /// DST, 128) = b_1 || b_2 || b_3 || b_4, u0 = (b_1 || b_2) mod p written at `u0`, u1 = (b_3 || b_4)
    /// mod p written at `u1` (64 bytes each). Works in the max(384, 356 + len(DST)) bytes of memory at
    /// `scratch` (at most 611), which the caller allocates and which must not overlap `u0` or `u1`:
    /// the MODEXP input at `scratch`, the SHA-256 inputs at `scratch + 0x100`.
    function _hashToField(bytes32 message, bytes memory dst, uint256 u0, uint256 u1, uint256 scratch) private view {
        unchecked {
            bytes32 b0 = _xmdStart(message, dst, scratch, scratch + 0x100);
            // b_1 = H(b_0 || 1 || DST'), b_2; then b_3 = H((b_0 xor b_2) || 3 || DST'), b_4.
            _xmdPair(b0, 0, 1, scratch + 0x100, dst.length, scratch);
            _modP(scratch, u0);
            _xmdPair(b0, _wordAt(scratch + 0x80), 3, scratch + 0x100, dst.length, scratch);
            _modP(scratch, u1);
        }
    }

    /// @dev Writes the MODEXP input's fixed part at `mx` and the SHA-256 input of b_0 at `x`, and
    /// returns b_0.
    function _xmdStart(bytes32 message, bytes memory dst, uint256 mx, uint256 x) private view returns (bytes32 b0) {
        assembly ("memory-safe") {
            // MODEXP input at mx (225 bytes):
            //   mx + 0x00: 64 (base length) | mx + 0x20: 1 (exponent length) | mx + 0x40: 64 (modulus length)
            //   mx + 0x60: base, 64 bytes (b_1 || b_2, then b_3 || b_4, written there by _xmdPair)
            //   mx + 0xa0: exponent 0x01 | mx + 0xa1: p, 64 bytes (16 zero bytes + 48)
            mstore(mx, 64)
            mstore(add(mx, 0x20), 1)
            mstore(add(mx, 0x40), 64)
            mstore8(add(mx, 0xa0), 1)
            mstore(add(mx, 0xa1), P_HI)
            mstore(add(mx, 0xc1), P_LO)
            // b_0 = SHA-256 of the 100 + L bytes at x, with DST' = DST || L at x + 99:
            //   Z_pad (64 zero bytes) | message | 0x0080 (len_in_bytes) | 0x00 | DST'
            let len := mload(dst)
            mstore(x, 0)
            mstore(add(x, 0x20), 0)
            mstore(add(x, 0x40), message)
            mstore(add(x, 0x60), shl(240, 0x0080))
            mcopy(add(x, 99), add(dst, 0x20), len)
            mstore8(add(x, add(99, len)), len)
            if iszero(staticcall(gas(), 0x02, x, add(100, len), 0x00, 0x20)) {
                revert(0x00, 0x00)
            }
            b0 := mload(0x00)
        }
    }

    /// @dev b_i and b_(i+1) into the MODEXP base at mx + 0x60 and mx + 0x80, where b_(i-1) is `prev`
    /// (0 for i = 1, so that b_1's input starts with b_0 itself, as RFC 9380 has it).
    function _xmdPair(bytes32 b0, bytes32 prev, uint256 i, uint256 x, uint256 len, uint256 mx) private view {
        assembly ("memory-safe") {
            // b_i = SHA-256 of the 34 + L bytes at x + 66: (b_0 xor b_(i-1)) | i (at x + 98) | DST'
            // (DST' stays in place at x + 99 from b_0's input).
            let input := add(x, 66)
            let inputBytes := add(34, len)
            mstore(input, xor(b0, prev))
            mstore8(add(x, 98), i)
            let ok := staticcall(gas(), 0x02, input, inputBytes, add(mx, 0x60), 0x20)
            mstore(input, xor(b0, mload(add(mx, 0x60))))
            mstore8(add(x, 98), add(i, 1))
            ok := and(ok, staticcall(gas(), 0x02, input, inputBytes, add(mx, 0x80), 0x20))
            if iszero(ok) {
                revert(0x00, 0x00)
            }
        }
    }

    /// @dev The MODEXP input at `mx` with exponent 1: its base mod p, 64 bytes written at `out`.
    function _modP(uint256 mx, uint256 out) private view {
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(MODEXP_GAS, 0x05, mx, 225, out, 64)
            ok := and(ok, eq(returndatasize(), 64))
        }
        if (!ok) revert HashToG1__ModexpFailed();
    }

    /// @dev The word of memory at `ptr`.
    function _wordAt(uint256 ptr) private pure returns (bytes32 word) {
        assembly ("memory-safe") {
            word := mload(ptr)
        }
    }
}
