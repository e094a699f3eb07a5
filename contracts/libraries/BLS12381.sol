// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title BLS12381
/// @notice Thin wrappers over the EIP-2537 BLS12-381 precompiles (active from the Prague fork).
/// @dev Encodings follow EIP-2537: an Fp element is 64 bytes (16 zero bytes + 48-byte big-endian
/// value), a G1 point is x || y (128 bytes), a G2 point is x.c0 || x.c1 || y.c0 || y.c1 (256 bytes),
/// the point at infinity is all zeros. `offchain/crypto/bls.ts` produces the same bytes.
/// On a chain without EIP-2537 a call to these addresses succeeds with empty return data, so
/// every wrapper checks the return length and reverts with `BLS12381__PrecompileUnavailable`.
/// A precompile that refuses its input (a point not on the curve or not in the subgroup, a field
/// element that is not canonical) consumes all the gas it was given, so each call forwards twice
/// its EIP-2537 price and no more, and the refusal is reported as `BLS12381__PrecompileFailed`.
/// `staticcallInto` is the same call on raw memory, for callers that build their inputs in place.
library BLS12381 {
    /// @notice The precompile at `precompile` is not available on this chain (it returned no data).
    error BLS12381__PrecompileUnavailable(address precompile);
    /// @notice The precompile at `precompile` refused its input (invalid point or field element).
    error BLS12381__PrecompileFailed(address precompile);
    /// @notice An input has the wrong length for the called operation.
    error BLS12381__InvalidInputLength(uint256 length);

    address internal constant G1_ADD = address(0x0b);
    address internal constant G1_MSM = address(0x0c);
    address internal constant G2_ADD = address(0x0d);
    address internal constant G2_MSM = address(0x0e);
    address internal constant PAIRING = address(0x0f);
    address internal constant MAP_FP_TO_G1 = address(0x10);
    address internal constant MAP_FP2_TO_G2 = address(0x11);

    uint256 internal constant G1_BYTES = 128;
    uint256 internal constant G2_BYTES = 256;
    uint256 internal constant PAIR_BYTES = G1_BYTES + G2_BYTES;

    /// @dev EIP-2537 prices (gas); each call forwards twice its price.
    uint256 internal constant G1_ADD_GAS = 375;
    uint256 internal constant G1_MUL_GAS = 12_000;
    uint256 internal constant G2_ADD_GAS = 600;
    uint256 internal constant G2_MUL_GAS = 22_500;
    uint256 internal constant PAIRING_BASE_GAS = 37_700;
    uint256 internal constant PAIRING_PER_PAIR_GAS = 32_600;
    uint256 internal constant MAP_FP_TO_G1_GAS = 5_500;

    /// @notice prod_i e(g1_i, g2_i) == 1 for the concatenated (G1 || G2) pairs in `input`.
    /// @param input k * 384 bytes, k >= 1
    /// @return true iff the pairing product is the identity of GT
    function pairingCheck(bytes memory input) internal view returns (bool) {
        if (input.length == 0 || input.length % PAIR_BYTES != 0) revert BLS12381__InvalidInputLength(input.length);
        bytes memory out = _call(
            PAIRING,
            input,
            32,
            PAIRING_BASE_GAS + PAIRING_PER_PAIR_GAS * (input.length / PAIR_BYTES)
        );
        return uint256(bytes32(out)) == 1;
    }

    /// @notice a + b in G1.
    function g1Add(bytes memory a, bytes memory b) internal view returns (bytes memory) {
        if (a.length != G1_BYTES || b.length != G1_BYTES) revert BLS12381__InvalidInputLength(a.length + b.length);
        return _call(G1_ADD, bytes.concat(a, b), G1_BYTES, G1_ADD_GAS);
    }

    /// @notice k * p in G1 (the MSM precompile with one term).
    function g1Mul(bytes memory p, uint256 k) internal view returns (bytes memory) {
        if (p.length != G1_BYTES) revert BLS12381__InvalidInputLength(p.length);
        return _call(G1_MSM, bytes.concat(p, bytes32(k)), G1_BYTES, G1_MUL_GAS);
    }

    /// @notice a + b in G2.
    function g2Add(bytes memory a, bytes memory b) internal view returns (bytes memory) {
        if (a.length != G2_BYTES || b.length != G2_BYTES) revert BLS12381__InvalidInputLength(a.length + b.length);
        return _call(G2_ADD, bytes.concat(a, b), G2_BYTES, G2_ADD_GAS);
    }

    /// @notice k * p in G2 (the MSM precompile with one term).
    function g2Mul(bytes memory p, uint256 k) internal view returns (bytes memory) {
        if (p.length != G2_BYTES) revert BLS12381__InvalidInputLength(p.length);
        return _call(G2_MSM, bytes.concat(p, bytes32(k)), G2_BYTES, G2_MUL_GAS);
    }

    /// @notice The EIP-2537 map of one Fp element to G1 (the last step of RFC 9380 hash-to-G1).
    function mapFpToG1(bytes memory fp) internal view returns (bytes memory) {
        if (fp.length != 64) revert BLS12381__InvalidInputLength(fp.length);
        return _call(MAP_FP_TO_G1, fp, G1_BYTES, MAP_FP_TO_G1_GAS);
    }

    /// @notice Calls `precompile` on the `inputBytes` bytes of memory at `input`, forwarding twice
    /// `price`, and writes its `outputBytes`-byte result at `output` (which may overlap the input:
    /// the input is read before the result is written). No allocation.
    /// @dev The caller owns both memory ranges. Reverts as the wrappers above do.
    function staticcallInto(
        address precompile,
        uint256 input,
        uint256 inputBytes,
        uint256 output,
        uint256 outputBytes,
        uint256 price
    ) internal view {
        bool ok;
        uint256 returned;
        assembly ("memory-safe") {
            ok := staticcall(mul(2, price), precompile, input, inputBytes, output, outputBytes)
            returned := returndatasize()
        }
        if (!ok) revert BLS12381__PrecompileFailed(precompile);
        if (returned != outputBytes) revert BLS12381__PrecompileUnavailable(precompile);
    }

    function _call(
        address precompile,
        bytes memory input,
        uint256 outLen,
        uint256 price
    ) private view returns (bytes memory out) {
        out = new bytes(outLen);
        uint256 inPtr;
        uint256 outPtr;
        assembly ("memory-safe") {
            inPtr := add(input, 0x20)
            outPtr := add(out, 0x20)
        }
        staticcallInto(precompile, inPtr, input.length, outPtr, outLen, price);
    }
}
