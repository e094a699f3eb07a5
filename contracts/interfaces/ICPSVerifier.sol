// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ICPSVerifier
/// @notice On-chain verification of chameleon proxy signatures (avatar paper §IV, reconstructed in
/// docs/specs/cps.md) through the EIP-2537 BLS12-381 precompiles.
/// @dev Points use EIP-2537 encodings: G1 128 bytes, G2 256 bytes. A proxy signature is checked
/// from the aggregate S = s_o + s_p of the original signature on the warrant and the proxy's
/// signature on the message: e(S, -g2) e(H_W(h), X_o) e(H_P(d), X_p) = 1 with
/// d = keccak256(abi.encode(h, type, time, bodyHash)) — one 3-pair pairing check.
interface ICPSVerifier {
    /// @notice A key or signature encoding has the wrong length.
    error CPSVerifier__InvalidEncoding();

    /// @notice keccak256 of a warrant, as the off-chain `warrantDigest` computes it.
    function warrantDigest(
        bytes32 irisCommitment,
        bytes calldata proxyPk,
        bytes32 avatarId,
        uint8 scope,
        uint64 notBefore,
        uint64 notAfter
    ) external pure returns (bytes32);

    /// @notice CHash(X_o, warrant; r) = keccak256("CPS-CHASH-V1" || keccak256(X_o) || keccak256(warrantDigest) || r).
    function chameleonHash(
        bytes calldata originalPk,
        bytes32 warrantDigest_,
        bytes32 r
    ) external pure returns (bytes32);

    /// @notice The digest a proxy signs: keccak256(abi.encode(h, type, time, bodyHash)).
    function messageDigest(bytes32 h, uint8 msgType, uint64 time, bytes32 bodyHash) external pure returns (bytes32);

    /// @notice PVerify's pairing check for a warrant hash h and a proxy message.
    /// @return true iff e(S, -g2) e(H_W(h), X_o) e(H_P(d), X_p) = 1
    function verify(
        bytes calldata originalPk,
        bytes calldata proxyPk,
        bytes32 h,
        uint8 msgType,
        uint64 time,
        bytes32 bodyHash,
        bytes calldata aggregateSig
    ) external view returns (bool);
}
