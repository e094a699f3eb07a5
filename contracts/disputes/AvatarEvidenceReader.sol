// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAvatarEvidenceReader} from "../interfaces/IAvatarEvidenceReader.sol";
import {Secp256k1Point} from "../rsms/Secp256k1Point.sol";

/// @title AvatarEvidenceReader
/// @notice The court's reader of encoded avatar evidence (`offchain/avatars/wire.ts`,
/// `encodeEvidence`), deployed by the DisputeResolution's constructor: moved out of the court in
/// session 23 (s23-fxcourt) to keep the court under the 24,576-byte code limit; the rules are
/// unchanged (docs/specs/disputes.md, "One interaction, one court case").
contract AvatarEvidenceReader is IAvatarEvidenceReader {
    /// The wire encoding's times are u64 below 2^53 (`offchain/avatars/wire.ts`, Reader.u64).
    uint256 private constant MAX_WIRE_TIME = 2 ** 53 - 1;
    /// The BLS12-381 field prime p (381 bits) as its high 16 and low 32 bytes.
    uint256 private constant BLS_P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant BLS_P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;

    /// @inheritdoc IAvatarEvidenceReader
    /// @dev The counterparty: the reporter avatar named in the handshake (the
    /// avatar of its hello, 67 bytes after the handshake flag: initiator 1, ephemeral 33, nonce 32),
    /// 0 without a handshake.
    function read(
        bytes calldata b
    ) external view returns (bool parsed, bytes32 about, bytes32 key, bytes32 counterparty) {
        uint256 bodyEnd = _encodedEnd(b);
        if (bodyEnd == 0) return (false, bytes32(0), bytes32(0), bytes32(0));
        about = bytes32(b[2:34]);
        key = keccak256(
            abi.encodePacked("METATRUST-V1-TRACE-KEY", b[2:34], b[371:403], b[162:194], b[483:492], b[494:bodyEnd])
        );
        // the handshake flag follows s_p (48 bytes after the body); `_encodedEnd` checked the bounds
        uint256 flag = bodyEnd + 48;
        if (b[flag] != 0) counterparty = bytes32(b[flag + 67:flag + 99]);
        parsed = true;
    }

    /// @dev The end of the signed message's body if `b` is evidence as `decodeEvidence` reads it,
    /// else 0: header 0x26 version 2; every length as the encoding's own fields say, no trailing
    /// byte; times below 2^53; warrants with a scope and notBefore <= notAfter; flags in range
    /// (handshake 0..2, initiator 0..1, receipt 0..1); secp256k1 ephemeral keys on the curve; BLS
    /// points as compressed, non-identity encodings with coordinates below p. Whether a BLS point
    /// is on its curve and in its subgroup is left to the IdP (a square root in Fp or Fp2 and a
    /// subgroup check per point: docs/specs/disputes.md, "One interaction, one court case").
    function _encodedEnd(bytes calldata b) private view returns (uint256) {
        // the shortest evidence: 494 bytes to the body, s_p, the two flags
        if (b.length < 544 || b[0] != 0x26 || b[1] != 0x02) return 0;
        if (!_g2(b, 66) || !_warrant(b, 194) || !_g1(b, 435) || !_time(b, 484)) return 0;
        uint256 bodyEnd = 494 + ((uint256(uint8(b[492])) << 8) | uint8(b[493]));
        // s_p, then the handshake flag and the receipt flag at least
        if (bodyEnd + 50 > b.length || !_g1(b, bodyEnd)) return 0;
        uint256 o = bodyEnd + 48;
        uint256 handshake = uint8(b[o++]);
        if (handshake > 2) return 0;
        if (handshake != 0) {
            // initiator 1, accused ephemeral 33, accused nonce 32, the reporter's hello 610, s_p 48
            // (+ the session part: time 8, the accused's s_p 48), then the receipt flag
            if (o + (handshake == 2 ? 781 : 725) > b.length) return 0;
            if (uint8(b[o]) > 1 || !Secp256k1Point.isValidCompressed(b[o + 1:o + 34])) return 0;
            if (!_hello(b, o + 66) || !_g1(b, o + 676)) return 0;
            o += 724;
            if (handshake == 2) {
                if (!_time(b, o) || !_g1(b, o + 8)) return 0;
                o += 56;
            }
        }
        uint256 receipt = uint8(b[o++]);
        // no receipt, or one (time 8, BIP-340 signature 64); nothing after it
        if (receipt > 1 || b.length != o + 72 * receipt || (receipt == 1 && !_time(b, o))) return 0;
        return bodyEnd;
    }

    /// @dev A hello at `o` (610 bytes, in bounds): owner key, warrant, s_o, ephemeral key.
    function _hello(bytes calldata b, uint256 o) private view returns (bool) {
        return
            _g2(b, o + 64) &&
            _warrant(b, o + 192) &&
            _g1(b, o + 433) &&
            Secp256k1Point.isValidCompressed(b[o + 481:o + 514]);
    }

    /// @dev A warrant at `o` (177 bytes, in bounds): proxy key, scope >= 1, notBefore <= notAfter.
    function _warrant(bytes calldata b, uint256 o) private pure returns (bool) {
        uint256 notBefore = uint64(bytes8(b[o + 161:o + 169]));
        uint256 notAfter = uint64(bytes8(b[o + 169:o + 177]));
        return _g2(b, o + 32) && b[o + 160] != 0 && notAfter <= MAX_WIRE_TIME && notBefore <= notAfter;
    }

    /// @dev A u64 time at `o` (in bounds) below 2^53.
    function _time(bytes calldata b, uint256 o) private pure returns (bool) {
        return uint64(bytes8(b[o:o + 8])) <= MAX_WIRE_TIME;
    }

    /// @dev A compressed G1 point at `o` (48 bytes, in bounds): compression flag set, infinity flag
    /// clear (the decoder refuses the identity), x below p.
    function _g1(bytes calldata b, uint256 o) private pure returns (bool) {
        return uint8(b[o]) & 0xc0 == 0x80 && _belowP(uint128(bytes16(b[o:o + 16])) & (type(uint128).max >> 3), b, o);
    }

    /// @dev A compressed G2 point at `o` (96 bytes, in bounds): x.c1 with the flags as a G1 point's,
    /// then x.c0 below p.
    function _g2(bytes calldata b, uint256 o) private pure returns (bool) {
        return _g1(b, o) && _belowP(uint128(bytes16(b[o + 48:o + 64])), b, o + 48);
    }

    /// @dev The 48-byte field element at `o` (its high 16 bytes `hi`, flags cleared) is below p.
    function _belowP(uint256 hi, bytes calldata b, uint256 o) private pure returns (bool) {
        return hi < BLS_P_HI || (hi == BLS_P_HI && uint256(bytes32(b[o + 16:o + 48])) < BLS_P_LO);
    }
}
