// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice secp256k1 x-coordinates and SEC1 compressed points for the RSMS suites, with a plain
/// reference of the registries' point rule. The reference finds y = (x^3 + 7)^((p+1)/4) by
/// square-and-multiply in Solidity and checks y^2 = x^3 + 7; the registries use Euler's criterion
/// through the modexp precompile, so the two share no code.
library CurvePoints {
    uint256 internal constant P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;

    /// True iff x < p and x^3 + 7 has a square root mod p (x is the abscissa of two curve points).
    function isCurveX(uint256 x) internal pure returns (bool) {
        if (x >= P) return false;
        uint256 rhs = addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
        uint256 y = _pow(rhs, (P + 1) / 4);
        return mulmod(y, y, P) == rhs;
    }

    /// The first curve abscissa at or after seed mod p (about two tries).
    function curveX(bytes32 seed) internal pure returns (bytes32) {
        uint256 x = uint256(seed) % P;
        while (!isCurveX(x)) x = (x + 1) % P;
        return bytes32(x);
    }

    /// The first x < p at or after seed mod p that is not a curve abscissa (about two tries).
    function offCurveX(bytes32 seed) internal pure returns (bytes32) {
        uint256 x = uint256(seed) % P;
        while (isCurveX(x)) x = (x + 1) % P;
        return bytes32(x);
    }

    /// A non-canonical abscissa: p <= x < 2^256 (x mod p may well be on the curve).
    function nonCanonicalX(bytes32 seed) internal pure returns (bytes32) {
        return bytes32(P + (uint256(seed) % (type(uint256).max - P + 1)));
    }

    /// The registries' rule, restated: 33 bytes, prefix 0x02 or 0x03, x a curve abscissa.
    function isPoint(bytes memory p) internal pure returns (bool) {
        if (p.length != 33 || (uint8(p[0]) != 2 && uint8(p[0]) != 3)) return false;
        bytes32 x;
        assembly ("memory-safe") {
            x := mload(add(p, 33))
        }
        return isCurveX(uint256(x));
    }

    /// A valid compressed point from a seed (either parity).
    function point(bytes32 seed, bool odd) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes1(odd ? 0x03 : 0x02), curveX(seed));
    }

    function _pow(uint256 b, uint256 e) private pure returns (uint256 r) {
        r = 1;
        b %= P;
        while (e != 0) {
            if (e & 1 == 1) r = mulmod(r, b, P);
            b = mulmod(b, b, P);
            e >>= 1;
        }
    }
}
