// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IAvatarEvidenceReader
/// @notice What the court reads of encoded avatar evidence (`offchain/avatars/wire.ts`,
/// `encodeEvidence`). The DisputeResolution deploys its reader in its constructor and calls it
/// for `openAvatarDispute`, `interactionOf` and `hearingOf` (docs/specs/disputes.md, "One
/// interaction, one court case"): a contract apart only to keep the court's code under the
/// 24,576-byte limit.
interface IAvatarEvidenceReader {
    /// @notice Reads encoded avatar evidence as the IdP's decoder does, on its structure.
    /// @dev False for bytes `decodeEvidence` refuses on their structure (s19-redd F3): no header
    /// (type 0x26, version 2), a length other than the encoding's fields say (trailing bytes
    /// included), a time at or above 2^53, a warrant without a scope or with notBefore after
    /// notAfter, a flag out of range, an ephemeral key off secp256k1, a BLS point whose encoding
    /// is not compressed, is the identity or has a coordinate >= p. A BLS point's curve and
    /// subgroup are not checked (the IdP does).
    /// @param b the encoded evidence
    /// @return parsed whether the bytes are evidence as above
    /// @return about the avatar the evidence is about (0 if not parsed)
    /// @return key the interaction's trace key, the IdP's `tracedEvidenceKey` (0 if not parsed)
    /// @return counterparty the reporter avatar the handshake names, 0 without a handshake
    function read(
        bytes calldata b
    ) external view returns (bool parsed, bytes32 about, bytes32 key, bytes32 counterparty);
}
