// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CurvePoints} from "./CurvePoints.sol";

/// @notice Inputs shared by the RSMS suites: SEC1 compressed points, valid or malformed.
library RsmsInputs {
    /// A point from a seed: 4 in 8 a valid 33-byte 0x02/0x03 point, 1 in 8 a 0x02/0x03 encoding whose
    /// x is off the curve or not below p, 1 in 8 a wrong prefix, 1 in 8 a wrong length (0..65
    /// bytes, never 33), 1 in 8 a 65-byte uncompressed 0x04 point.
    function point(uint256 seed) internal pure returns (bytes memory p) {
        bytes32 x = keccak256(abi.encode("point-x", seed));
        uint256 mode = seed % 8;
        if (mode < 4) return validPoint(seed);
        if (mode == 4) {
            bytes32 bad = (seed >> 9) & 1 == 0 ? CurvePoints.offCurveX(x) : CurvePoints.nonCanonicalX(x);
            return abi.encodePacked(bytes1(uint8(2 + ((seed >> 8) & 1))), bad);
        }
        if (mode == 5) {
            uint8 prefix = uint8(seed >> 8);
            if (prefix == 2 || prefix == 3) prefix = 4;
            return abi.encodePacked(bytes1(prefix), x);
        }
        if (mode == 6) {
            uint256 len = (seed >> 8) % 66;
            if (len == 33) len = 34;
            p = new bytes(len);
            for (uint256 i; i < len; ++i) p[i] = i == 0 ? bytes1(0x02) : x[i % 32];
            return p;
        }
        return abi.encodePacked(bytes1(0x04), x, keccak256(abi.encode(x)));
    }

    /// A valid 33-byte 0x02/0x03 point (its x on the curve).
    function validPoint(uint256 seed) internal pure returns (bytes memory) {
        return CurvePoints.point(keccak256(abi.encode("point-x", seed)), seed & 1 == 1);
    }

    /// The registries' rule, restated (CurvePoints.isPoint): 33 bytes, 0x02/0x03, x on the curve.
    function isValidPoint(bytes memory p) internal pure returns (bool) {
        return CurvePoints.isPoint(p);
    }

    /// Bytes 1..32 of a point of at least 33 bytes.
    function xOf(bytes memory p) internal pure returns (bytes32 x) {
        require(p.length >= 33, "xOf: short point");
        assembly ("memory-safe") {
            x := mload(add(p, 33))
        }
    }
}
