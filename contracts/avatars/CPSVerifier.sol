// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICPSVerifier} from "../interfaces/ICPSVerifier.sol";
import {BLS12381} from "../libraries/BLS12381.sol";
import {HashToG1} from "../libraries/HashToG1.sol";

/// @title CPSVerifier
/// @notice Chameleon proxy signature verification with the EIP-2537 precompiles.
contract CPSVerifier is ICPSVerifier {
    bytes private constant DST_WARRANT = "METATRUST-V1-CPS-WARRANT-BLS12381G1_XMD:SHA-256_SSWU_RO_";
    bytes private constant DST_MESSAGE = "METATRUST-V1-CPS-MESSAGE-BLS12381G1_XMD:SHA-256_SSWU_RO_";

    /// @dev -g2 (the negated G2 generator), EIP-2537 encoded.
    bytes private constant NEG_G2 =
        hex"00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb80000000000000000000000000000000013e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e000000000000000000000000000000000d1b3cc2c7027888be51d9ef691d77bcb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa0000000000000000000000000000000013fa4d4a0ad8b1ce186ed5061789213d993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed";

    /// @inheritdoc ICPSVerifier
    function warrantDigest(
        bytes32 irisCommitment,
        bytes calldata proxyPk,
        bytes32 avatarId,
        uint8 scope,
        uint64 notBefore,
        uint64 notAfter
    ) external pure returns (bytes32) {
        if (proxyPk.length != BLS12381.G2_BYTES) revert CPSVerifier__InvalidEncoding();
        return
            keccak256(
                abi.encode("CPS-WARRANT-V1", irisCommitment, keccak256(proxyPk), avatarId, scope, notBefore, notAfter)
            );
    }

    /// @inheritdoc ICPSVerifier
    function chameleonHash(
        bytes calldata originalPk,
        bytes32 warrantDigest_,
        bytes32 r
    ) external pure returns (bytes32) {
        if (originalPk.length != BLS12381.G2_BYTES) revert CPSVerifier__InvalidEncoding();
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
        bytes calldata proxyPk,
        bytes32 h,
        uint8 msgType,
        uint64 time,
        bytes32 bodyHash,
        bytes calldata aggregateSig
    ) external view returns (bool) {
        if (
            originalPk.length != BLS12381.G2_BYTES ||
            proxyPk.length != BLS12381.G2_BYTES ||
            aggregateSig.length != BLS12381.G1_BYTES
        ) {
            revert CPSVerifier__InvalidEncoding();
        }
        bytes memory hw = HashToG1.hash(h, DST_WARRANT);
        bytes memory hp = HashToG1.hash(messageDigest(h, msgType, time, bodyHash), DST_MESSAGE);
        return BLS12381.pairingCheck(bytes.concat(aggregateSig, NEG_G2, hw, originalPk, hp, proxyPk));
    }
}
