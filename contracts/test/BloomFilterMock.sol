// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BloomFilter} from "../libraries/BloomFilter.sol";

/// @dev Exposes the BloomFilter library to tests (differential test against bloom.ts).
contract BloomFilterMock {
    function positions(bytes32 key, uint256 m, uint256 lambda) external pure returns (uint256[] memory) {
        return BloomFilter.positions(key, m, lambda);
    }

    function check(bytes calldata bits, uint256 m, uint256 lambda, bytes32 key) external pure returns (bool) {
        return BloomFilter.check(bits, m, lambda, key);
    }

    function checkSerialized(bytes calldata filter, bytes32 key) external pure returns (bool) {
        return BloomFilter.checkSerialized(filter, key);
    }

    function parseHeader(bytes calldata filter) external pure returns (uint256, uint256, uint256, uint256) {
        return BloomFilter.parseHeader(filter);
    }
}
