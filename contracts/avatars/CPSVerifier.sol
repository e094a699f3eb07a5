// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICPSVerifier} from "../interfaces/ICPSVerifier.sol";
import {BLS12381} from "../libraries/BLS12381.sol";
import {HashToG1} from "../libraries/HashToG1.sol";

/// @title CPSVerifier
/// @notice Chameleon proxy signature PVerify with the EIP-2537 precompiles.
contract CPSVerifier is ICPSVerifier {
    bytes private constant DST_WARRANT = "METATRUST-V1-CPS-WARRANT-BLS12381G1_XMD:SHA-256_SSWU_RO_";
    bytes private constant DST_MESSAGE = "METATRUST-V1-CPS-MESSAGE-BLS12381G1_XMD:SHA-256_SSWU_RO_";

    /// @notice The defined message types (login 1, challenge 2, interaction 4).
    uint8 public constant MSG_TYPES = 7;

    /// @dev -g2 (the negated G2 generator), EIP-2537 encoded.
    bytes private constant NEG_G2 =
        hex"00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb80000000000000000000000000000000013e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e000000000000000000000000000000000d1b3cc2c7027888be51d9ef691d77bcb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa0000000000000000000000000000000013fa4d4a0ad8b1ce186ed5061789213d993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed";

    /// @inheritdoc ICPSVerifier
    function warrantDigest(Warrant calldata w) public pure returns (bytes32) {
        if (w.proxyPk.length != BLS12381.G2_BYTES) revert CPSVerifier__InvalidEncoding(1, w.proxyPk.length);
        return
            keccak256(
                abi.encode(
                    "CPS-WARRANT-V1",
                    w.irisCommitment,
                    keccak256(w.proxyPk),
                    w.avatarId,
                    w.scope,
                    w.notBefore,
                    w.notAfter
                )
            );
    }

    /// @inheritdoc ICPSVerifier
    function chameleonHash(bytes calldata originalPk, bytes32 warrantDigest_, bytes32 r) public pure returns (bytes32) {
        if (originalPk.length != BLS12381.G2_BYTES) revert CPSVerifier__InvalidEncoding(0, originalPk.length);
        return
            keccak256(
                abi.encodePacked("CPS-CHASH-V1", keccak256(originalPk), keccak256(abi.encodePacked(warrantDigest_)), r)
            );
    }

    /// @inheritdoc ICPSVerifier
    function messageDigest(bytes32 h, uint8 msgType, uint64 time, bytes32 bodyHash) public pure returns (bytes32) {
        return keccak256(abi.encode(h, msgType, time, bodyHash));
    }

    /// @inheritdoc ICPSVerifier
    function verify(
        bytes calldata originalPk,
        Warrant calldata w,
        ProxyMessage calldata m,
        bytes32 r,
        bytes calldata originalSig,
        bytes calldata proxySig
    ) external view returns (bool) {
        return _verify(originalPk, w, m, r, originalSig, proxySig);
    }

    /// @inheritdoc ICPSVerifier
    function verifyNow(
        bytes calldata originalPk,
        Warrant calldata w,
        ProxyMessage calldata m,
        bytes32 r,
        bytes calldata originalSig,
        bytes calldata proxySig
    ) external view returns (bool) {
        if (m.time > block.timestamp || block.timestamp > w.notAfter) return false;
        return _verify(originalPk, w, m, r, originalSig, proxySig);
    }

    function _verify(
        bytes calldata originalPk,
        Warrant calldata w,
        ProxyMessage calldata m,
        bytes32 r,
        bytes calldata originalSig,
        bytes calldata proxySig
    ) private view returns (bool) {
        if (originalSig.length != BLS12381.G1_BYTES) revert CPSVerifier__InvalidEncoding(2, originalSig.length);
        if (proxySig.length != BLS12381.G1_BYTES) revert CPSVerifier__InvalidEncoding(3, proxySig.length);
        // h binds the original key, the proxy key and every warrant field (lengths checked there).
        bytes32 h = chameleonHash(originalPk, warrantDigest(w), r);
        // Scope is a subset test over defined types: every bit of the type must be granted.
        uint8 t = m.msgType;
        if (t == 0 || t & ~MSG_TYPES != 0 || t & w.scope != t) return false;
        if (m.time < w.notBefore || m.time > w.notAfter) return false;
        if (_isZero(originalPk) || _isZero(w.proxyPk) || _isZero(originalSig) || _isZero(proxySig)) return false;
        bytes32 d = messageDigest(h, t, m.time, m.bodyHash);
        // rho: 128 bits fixed by every input, so no input can be chosen after it (Fiat-Shamir).
        uint256 rho =
            (uint256(keccak256(abi.encode("CPS-BATCH-V1", h, d, keccak256(originalSig), keccak256(proxySig)))) >> 128) |
                1;
        bytes memory sum = BLS12381.g1Add(originalSig, BLS12381.g1Mul(proxySig, rho));
        bytes memory hw = HashToG1.hash(h, DST_WARRANT);
        bytes memory hp = BLS12381.g1Mul(HashToG1.hash(d, DST_MESSAGE), rho);
        return BLS12381.pairingCheck(bytes.concat(sum, NEG_G2, hw, originalPk, hp, w.proxyPk));
    }

    /// @dev The all-zero encoding is the point at infinity, which EIP-2537 accepts as valid.
    function _isZero(bytes calldata b) private pure returns (bool zero) {
        zero = true;
        for (uint256 i; i < b.length; i += 32) {
            if (bytes32(b[i:i + 32]) != bytes32(0)) return false;
        }
    }
}
