// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ICPSVerifier} from "../interfaces/ICPSVerifier.sol";
import {BLS12381} from "../libraries/BLS12381.sol";
import {HashToG1} from "../libraries/HashToG1.sol";

/// @title CPSVerifier
/// @notice Chameleon proxy signature PVerify with the EIP-2537 precompiles.
/// @dev `verify` builds every precompile input in place in one 1,152-byte buffer, the pairing
/// input (layout in `_verify`), allocated at the free memory pointer: keys and signatures are
/// copied from calldata once and hashed and checked there. The digests are hashed from memory past
/// the free memory pointer, each within one assembly block, so no scratch outlives its block.
contract CPSVerifier is ICPSVerifier {
    bytes private constant DST_WARRANT = "METATRUST-V1-CPS-WARRANT-BLS12381G1_XMD:SHA-256_SSWU_RO_";
    bytes private constant DST_MESSAGE = "METATRUST-V1-CPS-MESSAGE-BLS12381G1_XMD:SHA-256_SSWU_RO_";

    /// @notice The defined message types (login 1, challenge 2, interaction 4).
    uint8 public constant MSG_TYPES = 7;

    /// @dev The pairing input's length: three (G1, G2) pairs of 384 bytes.
    uint256 private constant PAIRING_INPUT = 1152;

    /// @dev -g2 (the negated G2 generator), EIP-2537 encoded.
    bytes private constant NEG_G2 =
        hex"00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb80000000000000000000000000000000013e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e000000000000000000000000000000000d1b3cc2c7027888be51d9ef691d77bcb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa0000000000000000000000000000000013fa4d4a0ad8b1ce186ed5061789213d993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed";

    /// @inheritdoc ICPSVerifier
    function warrantDigest(Warrant calldata w) public pure returns (bytes32) {
        if (w.proxyPk.length != BLS12381.G2_BYTES) revert CPSVerifier__InvalidEncoding(1, w.proxyPk.length);
        return _warrantDigest(w.irisCommitment, keccak256(w.proxyPk), w.avatarId, w.scope, w.notBefore, w.notAfter);
    }

    /// @inheritdoc ICPSVerifier
    function chameleonHash(bytes calldata originalPk, bytes32 warrantDigest_, bytes32 r) public pure returns (bytes32) {
        if (originalPk.length != BLS12381.G2_BYTES) revert CPSVerifier__InvalidEncoding(0, originalPk.length);
        return _chameleonHash(keccak256(originalPk), warrantDigest_, r);
    }

    /// @inheritdoc ICPSVerifier
    function messageDigest(bytes32 h, uint8 msgType, uint64 time, bytes32 bodyHash) public pure returns (bytes32) {
        return _messageDigest(h, msgType, time, bodyHash);
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
        bytes calldata proxyPk = w.proxyPk;
        if (proxyPk.length != BLS12381.G2_BYTES) revert CPSVerifier__InvalidEncoding(1, proxyPk.length);
        // The pairing input (PAIRING_INPUT bytes at p) is built in place, and each key and signature
        // is copied from calldata once, into its place, and hashed and checked there:
        //   p +    0: s_o                     then s_o + rho s_p (the G1 of pair 1)
        //   p +  128: s_p | rho (160 bytes)   then rho s_p, then H_P(d) | rho, then -g2 (256 bytes)
        //   p +  384: H_W(h)                  p +  512: X_o
        //   p +  768: rho H_P(d)              p +  896: X_p
        uint256 p;
        assembly ("memory-safe") {
            p := mload(0x40)
            mstore(0x40, add(p, PAIRING_INPUT))
            calldatacopy(p, originalSig.offset, 128)
            calldatacopy(add(p, 128), proxySig.offset, 128)
            calldatacopy(add(p, 896), proxyPk.offset, 256)
        }
        // h binds the original key, the proxy key and every warrant field.
        uint8 scope = w.scope;
        uint64 notBefore = w.notBefore;
        uint64 notAfter = w.notAfter;
        bytes32 wd = _warrantDigest(w.irisCommitment, _hashAt(p + 896, 256), w.avatarId, scope, notBefore, notAfter);
        if (originalPk.length != BLS12381.G2_BYTES) revert CPSVerifier__InvalidEncoding(0, originalPk.length);
        assembly ("memory-safe") {
            calldatacopy(add(p, 512), originalPk.offset, 256)
        }
        bytes32 h = _chameleonHash(_hashAt(p + 512, 256), wd, r);
        // Scope is a subset test over defined types: every bit of the type must be granted.
        uint8 t = m.msgType;
        if (t == 0 || t & ~MSG_TYPES != 0 || t & scope != t) return false;
        uint64 time = m.time;
        if (time < notBefore || time > notAfter) return false;
        if (_anyIdentity(p)) return false;
        bytes32 d = _messageDigest(h, t, time, m.bodyHash);
        // rho: 128 bits fixed by every input, so no input can be chosen after it (Fiat-Shamir):
        // keccak256(abi.encode("CPS-BATCH-V1", h, d, keccak256(s_o), keccak256(s_p))) >> 128, or 1.
        uint256 rho = (uint256(_batchHash(h, d, _hashAt(p, 128), _hashAt(p + 128, 128))) >> 128) | 1;
        return _pairingCheck(p, h, d, rho);
    }

    /// @dev Completes the pairing input at p (s_o, s_p, X_o and X_p in place) and checks
    /// e(s_o + rho s_p, -g2) e(H_W(h), X_o) e(rho H_P(d), X_p) = 1, calling the precompiles in the
    /// order G1MSM, G1ADD, H_W, H_P, G1MSM, PAIRING.
    function _pairingCheck(uint256 p, bytes32 h, bytes32 d, uint256 rho) private view returns (bool valid) {
        unchecked {
            // rho s_p: G1MSM of s_p | rho (160 bytes at p + 128), in place.
            _storeAt(p + 256, rho);
            BLS12381.staticcallInto(BLS12381.G1_MSM, p + 128, 160, p + 128, 128, BLS12381.G1_MUL_GAS);
            // s_o + rho s_p: G1ADD of s_o | rho s_p (256 bytes at p), into p.
            BLS12381.staticcallInto(BLS12381.G1_ADD, p, 256, p, 128, BLS12381.G1_ADD_GAS);
            HashToG1.hashTo(h, DST_WARRANT, p + 384);
            // rho H_P(d): H_P(d) | rho at p + 128 (free again), G1MSM into p + 768.
            HashToG1.hashTo(d, DST_MESSAGE, p + 128);
            _storeAt(p + 256, rho);
            BLS12381.staticcallInto(BLS12381.G1_MSM, p + 128, 160, p + 768, 128, BLS12381.G1_MUL_GAS);
            // -g2 at p + 128 completes the three pairs; the PAIRING result (32 bytes) goes to p, in
            // the buffer (not the scratch space, which is not kept from one statement to the next).
            bytes memory negG2 = NEG_G2;
            assembly ("memory-safe") {
                mcopy(add(p, 128), add(negG2, 0x20), 256)
            }
            BLS12381.staticcallInto(
                BLS12381.PAIRING,
                p,
                PAIRING_INPUT,
                p,
                32,
                BLS12381.PAIRING_BASE_GAS + 3 * BLS12381.PAIRING_PER_PAIR_GAS
            );
            assembly ("memory-safe") {
                valid := eq(mload(p), 1)
            }
        }
    }

    /// @dev Whether s_o, s_p, X_o or X_p (in place at p) is the all-zero encoding, the point at
    /// infinity, which EIP-2537 accepts as valid.
    function _anyIdentity(uint256 p) private pure returns (bool anyIdentity) {
        assembly ("memory-safe") {
            // A point is the identity iff the OR of its words (4 for G1, 8 for G2) is zero.
            function words4(q) -> v {
                v := or(or(mload(q), mload(add(q, 0x20))), or(mload(add(q, 0x40)), mload(add(q, 0x60))))
            }
            anyIdentity := or(
                or(iszero(words4(p)), iszero(words4(add(p, 128)))),
                or(
                    iszero(or(words4(add(p, 512)), words4(add(p, 640)))),
                    iszero(or(words4(add(p, 896)), words4(add(p, 1024))))
                )
            )
        }
    }

    /// @dev keccak256(abi.encode("CPS-WARRANT-V1", irisCommitment, proxyPkHash, avatarId, scope, notBefore, notAfter)).
    function _warrantDigest(
        bytes32 irisCommitment,
        bytes32 proxyPkHash,
        bytes32 avatarId,
        uint8 scope,
        uint64 notBefore,
        uint64 notAfter
    ) private pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            // abi.encode at the free memory pointer (not kept): seven head words, the string's offset
            // (0xe0) first, then its tail: length 14 and one data word.
            let q := mload(0x40)
            mstore(q, 0xe0)
            mstore(add(q, 0x20), irisCommitment)
            mstore(add(q, 0x40), proxyPkHash)
            mstore(add(q, 0x60), avatarId)
            mstore(add(q, 0x80), and(scope, 0xff))
            mstore(add(q, 0xa0), and(notBefore, 0xffffffffffffffff))
            mstore(add(q, 0xc0), and(notAfter, 0xffffffffffffffff))
            mstore(add(q, 0xe0), 14)
            mstore(add(q, 0x100), "CPS-WARRANT-V1")
            digest := keccak256(q, 0x120)
        }
    }

    /// @dev keccak256(abi.encodePacked("CPS-CHASH-V1", originalPkHash, keccak256(abi.encodePacked(wd)), r)).
    function _chameleonHash(bytes32 originalPkHash, bytes32 wd, bytes32 r) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, wd)
            let wdHash := keccak256(0x00, 0x20)
            // The 108 packed bytes at the free memory pointer (not kept): 12 + 32 + 32 + 32.
            let q := mload(0x40)
            mstore(q, "CPS-CHASH-V1")
            mstore(add(q, 12), originalPkHash)
            mstore(add(q, 44), wdHash)
            mstore(add(q, 76), r)
            h := keccak256(q, 108)
        }
    }

    /// @dev keccak256(abi.encode(h, msgType, time, bodyHash)).
    function _messageDigest(bytes32 h, uint8 msgType, uint64 time, bytes32 bodyHash) private pure returns (bytes32 d) {
        assembly ("memory-safe") {
            // abi.encode at the free memory pointer (not kept): four head words.
            let q := mload(0x40)
            mstore(q, h)
            mstore(add(q, 0x20), and(msgType, 0xff))
            mstore(add(q, 0x40), and(time, 0xffffffffffffffff))
            mstore(add(q, 0x60), bodyHash)
            d := keccak256(q, 0x80)
        }
    }

    /// @dev keccak256(abi.encode("CPS-BATCH-V1", h, d, originalSigHash, proxySigHash)).
    function _batchHash(
        bytes32 h,
        bytes32 d,
        bytes32 originalSigHash,
        bytes32 proxySigHash
    ) private pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            // abi.encode at the free memory pointer (not kept): five head words, the string's offset
            // (0xa0) first, then its tail: length 12 and one data word.
            let q := mload(0x40)
            mstore(q, 0xa0)
            mstore(add(q, 0x20), h)
            mstore(add(q, 0x40), d)
            mstore(add(q, 0x60), originalSigHash)
            mstore(add(q, 0x80), proxySigHash)
            mstore(add(q, 0xa0), 12)
            mstore(add(q, 0xc0), "CPS-BATCH-V1")
            digest := keccak256(q, 0xe0)
        }
    }

    /// @dev keccak256 of `length` bytes of memory at `ptr`.
    function _hashAt(uint256 ptr, uint256 length) private pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            digest := keccak256(ptr, length)
        }
    }

    /// @dev Stores `value` in the word of memory at `ptr`.
    function _storeAt(uint256 ptr, uint256 value) private pure {
        assembly ("memory-safe") {
            mstore(ptr, value)
        }
    }
}
