// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ICPSVerifier
/// @notice On-chain PVerify of chameleon proxy signatures (avatar paper §IV, reconstructed in
/// docs/specs/cps.md) through the EIP-2537 BLS12-381 precompiles.
/// @dev Points use EIP-2537 encodings: G1 128 bytes, G2 256 bytes. PVerify takes the warrant itself,
/// never a bare hash: it recomputes the warrant digest D(w) and the chameleon hash
/// h = CHash(X_o, D(w); r), so the proxy key, avatar, scope and validity it checks are the ones the
/// original signer signed. Both signatures are then checked together with one randomized product
///   e(-(s_o + rho s_p), g2) e(H_W(h), X_o) e(rho H_P(d), X_p) = 1,
/// d = keccak256(abi.encode(h, type, time, bodyHash)), rho a 128-bit weight derived by hashing every
/// input. With the weight, the product holds only if each signature is valid on its own (except with
/// probability about 2^-128 per hash evaluation), so (s_o + T, s_p - T) is refused: a plain aggregate
/// s_o + s_p would accept it.
interface ICPSVerifier {
    /// @notice The warrant (the avatar's physical identity, PhID) that the original signer signs.
    /// @param irisCommitment commitment to the manipulator's enrolled iris template
    /// @param proxyPk the proxy's G2 key, EIP-2537 encoded (256 bytes)
    /// @param avatarId the avatar
    /// @param scope the message types the proxy may sign, a mask of MSG_LOGIN | MSG_CHALLENGE | MSG_INTERACTION
    /// @param notBefore unix seconds: the first second the proxy may sign
    /// @param notAfter unix seconds: the last second the proxy may sign
    struct Warrant {
        bytes32 irisCommitment;
        bytes proxyPk;
        bytes32 avatarId;
        uint8 scope;
        uint64 notBefore;
        uint64 notAfter;
    }

    /// @notice A message signed by the proxy under a warrant.
    /// @param msgType one or more defined message types; must be a subset of the warrant's scope
    /// @param time unix seconds at which the proxy signed (inside the warrant's validity)
    /// @param bodyHash keccak256 of the message body
    struct ProxyMessage {
        uint8 msgType;
        uint64 time;
        bytes32 bodyHash;
    }

    /// @notice A key or signature has the wrong length.
    /// @param what which input: 0 original key, 1 proxy key, 2 original signature, 3 proxy signature
    /// @param length its length in bytes
    error CPSVerifier__InvalidEncoding(uint8 what, uint256 length);

    /// @notice keccak256 of a warrant, as the off-chain `warrantDigest` computes it.
    function warrantDigest(Warrant calldata w) external pure returns (bytes32);

    /// @notice CHash(X_o, D; r) = keccak256("CPS-CHASH-V1" || keccak256(X_o) || keccak256(D) || r).
    function chameleonHash(
        bytes calldata originalPk,
        bytes32 warrantDigest_,
        bytes32 r
    ) external pure returns (bytes32);

    /// @notice The digest a proxy signs: keccak256(abi.encode(h, type, time, bodyHash)).
    function messageDigest(bytes32 h, uint8 msgType, uint64 time, bytes32 bodyHash) external pure returns (bytes32);

    /// @notice PVerify: the warrant binds h and the proxy key, the message is within the warrant's
    /// scope (a subset test over defined types) and validity, no key or signature is the identity,
    /// and both signatures are valid (one randomized 3-pair check).
    /// @param originalPk X_o, the original signer's G2 key (256 bytes)
    /// @param w the warrant
    /// @param m the proxy's message
    /// @param r the chameleon hash's check parameter
    /// @param originalSig s_o, the original signature on H_W(h) (G1, 128 bytes)
    /// @param proxySig s_p, the proxy's signature on H_P(d) (G1, 128 bytes)
    /// @return true iff every check passes; false for any failed check on well-formed input. The
    /// checks are the signature's and the warrant's own; revocation is the MITRegistry's (see {verifyNow}).
    /// @dev Reverts with CPSVerifier__InvalidEncoding on a wrong length, and with
    /// BLS12381__PrecompileFailed for a non-canonical field element or a point that is not on the
    /// curve or not in the subgroup (the precompiles refuse them).
    function verify(
        bytes calldata originalPk,
        Warrant calldata w,
        ProxyMessage calldata m,
        bytes32 r,
        bytes calldata originalSig,
        bytes calldata proxySig
    ) external view returns (bool);

    /// @notice {verify} for a use on-chain now: also requires m.time <= block.timestamp <= w.notAfter,
    /// so a message dated in the future or a warrant that has expired is refused.
    /// @dev A signature check only, NOT a delegation check: it never reads the MITRegistry, so it
    /// still answers true for a signature under a delegation the IdP has revoked or replaced, or whose
    /// owner or proxy MIT is revoked, until the warrant's notAfter (h9-red finding F10). A contract
    /// that lets a proxy act on its signature must also require, from the MITRegistry,
    /// `isVerified(w.avatarId)`, `avatar(w.avatarId).driver == Driver.AI` and
    /// `avatar(w.avatarId).warrantHash == chameleonHash(originalPk, warrantDigest(w), r)` (the
    /// avatar's current warrant is this one); the IdP's tracing does the same off-chain.
    function verifyNow(
        bytes calldata originalPk,
        Warrant calldata w,
        ProxyMessage calldata m,
        bytes32 r,
        bytes calldata originalSig,
        bytes calldata proxySig
    ) external view returns (bool);
}
