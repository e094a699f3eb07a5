// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Secp256k1Point
/// @notice Validation of SEC1 compressed secp256k1 points (33 bytes: 0x02/0x03 then x), the
/// encoding of every RSMS key the registries store (PK_RPM, the group key commitment Q).
/// @dev A compressed encoding is valid iff its prefix is 0x02 or 0x03, x < p (canonical), and
/// x^3 + 7 is a square mod p (some y exists; the prefix picks its parity). The identity has no
/// 33-byte encoding, and secp256k1 has no point with y = 0 (its order is prime), so this is
/// exactly "a point of the group other than the identity". Checked with Euler's criterion
/// (x^3 + 7)^((p-1)/2) = 1 through the modexp precompile (0x05): about 1,400 gas.
library Secp256k1Point {
    /// @notice The field prime p of secp256k1.
    uint256 internal constant P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;

    /// @notice True iff `pt` is the SEC1 compressed encoding of a secp256k1 point.
    /// @param pt the candidate encoding
    function isValidCompressed(bytes calldata pt) internal view returns (bool) {
        if (pt.length != 33 || (pt[0] != 0x02 && pt[0] != 0x03)) return false;
        uint256 x = uint256(bytes32(pt[1:33]));
        if (x >= P) return false;
        uint256 rhs = addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
        return _powP(rhs, (P - 1) / 2) == 1;
    }

    /// @dev base^e mod p through the modexp precompile; it never fails for these lengths.
    function _powP(uint256 base, uint256 e) private view returns (uint256 r) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x20)
            mstore(add(m, 0x20), 0x20)
            mstore(add(m, 0x40), 0x20)
            mstore(add(m, 0x60), base)
            mstore(add(m, 0x80), e)
            mstore(add(m, 0xa0), P)
            if iszero(staticcall(gas(), 0x05, m, 0xc0, m, 0x20)) {
                revert(0, 0)
            }
            r := mload(m)
        }
    }
}
