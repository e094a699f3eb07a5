// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title BloomFilter
/// @notice Membership checks against a metatrust Bloom filter (RSMS paper, Definition 2),
/// computing the same bit positions as `offchain/crypto/bloom.ts`.
/// @dev Positions (version 2, docs/specs/crypto.md §6): key = keccak256(item); the stream of 64-bit
/// words w_{4t+c} = bytes 8c..8c+7 of keccak256(key || uint32(t)) (t = 0, 1, ..., c = 0..3), each
/// taken mod m, a value already taken skipped: the first lambda distinct values, so every key has
/// lambda distinct positions (m >= lambda). Version 1 (double hashing, h1 + j*h2 mod m, whose
/// positions collapse for keys whose h2 has a small additive order mod m: s17-redB B9) is not read
/// here; `offchain/crypto/bloom.ts` still checks the version-1 epochs published before session 18.
/// Bit i of the bit array lives in byte i >> 3 under mask 1 << (i & 7).
/// Serialized filter: "MTBF" | version u8 (2) | lambda u8 | N u32 | m u32 | count u32 | bits,
/// big-endian, 18-byte header; its keccak256 is the root published on-chain.
library BloomFilter {
    /// @notice The parameters are out of range (lambda in [1, 64], m >= lambda).
    error BloomFilter__InvalidParameters(uint256 m, uint256 lambda);
    /// @notice The bit array is shorter than ceil(m / 8) bytes.
    error BloomFilter__BitsTooShort(uint256 length, uint256 m);
    /// @notice The serialized filter is malformed (bad magic, version or length).
    error BloomFilter__MalformedFilter();
    /// @notice The header's N is outside [1, 2^26], or its m is not Init's size ceil(1.44 * lambda * N)
    /// (what `offchain/crypto/bloom.ts` and docs/specs/crypto.md §6 require of a filter).
    error BloomFilter__InvalidCapacity(uint256 capacity, uint256 m, uint256 lambda);

    /// @notice Serialized header length in bytes.
    uint256 internal constant HEADER_BYTES = 18;
    /// @notice Largest supported number of positions.
    uint256 internal constant MAX_LAMBDA = 64;
    /// @notice Largest supported capacity N.
    uint256 internal constant MAX_CAPACITY = 1 << 26;

    /// @notice Pos(x): every bit position of a key.
    /// @param key keccak256 of the item
    /// @param m bit length of the filter (>= lambda)
    /// @param lambda number of positions
    /// @return pos the positions, in order j = 0 .. lambda-1, all distinct
    function positions(bytes32 key, uint256 m, uint256 lambda) internal pure returns (uint256[] memory pos) {
        _checkParams(m, lambda);
        pos = new uint256[](lambda);
        uint256 n;
        for (uint256 t; n < lambda; ++t) {
            uint256 block_ = _block(key, t);
            for (uint256 c; c < 4 && n < lambda; ++c) {
                uint256 p = uint64(block_ >> (192 - 64 * c)) % m;
                if (!_taken(pos, n, p)) pos[n++] = p;
            }
        }
    }

    /// @notice Check(x) on a bare bit array: false means the item is certainly not in the set.
    /// @param bits the bit array (at least ceil(m / 8) bytes)
    /// @param m bit length
    /// @param lambda number of positions
    /// @param key keccak256 of the item
    /// @return true if every position is set
    function check(bytes memory bits, uint256 m, uint256 lambda, bytes32 key) internal pure returns (bool) {
        _checkParams(m, lambda);
        if (bits.length < (m + 7) / 8) revert BloomFilter__BitsTooShort(bits.length, m);
        return _check(bits, 0, m, lambda, key);
    }

    /// @notice Check(x) on a serialized filter (header + bits), as published by the MSRP.
    /// @param filter the serialized filter
    /// @param key keccak256 of the item
    /// @return true if every position is set
    function checkSerialized(bytes memory filter, bytes32 key) internal pure returns (bool) {
        (uint256 lambda, , uint256 m, ) = parseHeader(filter);
        return _check(filter, HEADER_BYTES, m, lambda, key);
    }

    /// @notice Parses and validates the header of a serialized filter.
    /// @param filter the serialized filter
    /// @return lambda number of positions
    /// @return capacity N the filter was sized for
    /// @return m bit length
    /// @return count number of inserted items
    function parseHeader(
        bytes memory filter
    ) internal pure returns (uint256 lambda, uint256 capacity, uint256 m, uint256 count) {
        if (filter.length < HEADER_BYTES) revert BloomFilter__MalformedFilter();
        bytes32 word;
        assembly ("memory-safe") {
            word := mload(add(filter, 32))
        }
        // "MTBF" followed by version 2.
        if (bytes5(word) != 0x4d54424602) revert BloomFilter__MalformedFilter();
        lambda = uint8(word[5]);
        capacity = uint32(bytes4(word << 48));
        m = uint32(bytes4(word << 80));
        count = uint32(bytes4(word << 112));
        _checkParams(m, lambda);
        if (capacity == 0 || capacity > MAX_CAPACITY || m != (144 * lambda * capacity + 99) / 100) {
            revert BloomFilter__InvalidCapacity(capacity, m, lambda);
        }
        if (filter.length != HEADER_BYTES + (m + 7) / 8) revert BloomFilter__MalformedFilter();
    }

    function _check(
        bytes memory data,
        uint256 offset,
        uint256 m,
        uint256 lambda,
        bytes32 key
    ) private pure returns (bool) {
        // the positions in order, each read as soon as it is drawn: the first clear bit answers
        uint256[] memory pos = new uint256[](lambda);
        uint256 n;
        for (uint256 t; n < lambda; ++t) {
            uint256 block_ = _block(key, t);
            for (uint256 c; c < 4 && n < lambda; ++c) {
                uint256 p = uint64(block_ >> (192 - 64 * c)) % m;
                if (_taken(pos, n, p)) continue;
                if (uint8(data[offset + (p >> 3)]) & (1 << (p & 7)) == 0) return false;
                pos[n++] = p;
            }
        }
        return true;
    }

    /// keccak256(key || uint32(t)), 36 bytes, as a word.
    function _block(bytes32 key, uint256 t) private pure returns (uint256 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, key)
            mstore(add(ptr, 32), shl(224, t))
            h := keccak256(ptr, 36)
        }
    }

    /// Whether p is among the first n positions.
    function _taken(uint256[] memory pos, uint256 n, uint256 p) private pure returns (bool) {
        for (uint256 i; i < n; ++i) if (pos[i] == p) return true;
        return false;
    }

    function _checkParams(uint256 m, uint256 lambda) private pure {
        if (lambda == 0 || lambda > MAX_LAMBDA || m < lambda) revert BloomFilter__InvalidParameters(m, lambda);
    }
}
