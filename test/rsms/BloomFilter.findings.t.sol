// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {BloomFilterMock} from "../../contracts/test/BloomFilterMock.sol";
import {BloomRef} from "./BloomFilter.t.sol";

/// @notice FINDING (BloomFilter.parseHeader, divergence from offchain/crypto/bloom.ts): the
/// Solidity parser "validates the header" but checks only the magic, the version, lambda in
/// [1, 64], m >= 1 and the length, whereas BloomFilter.deserialize in bloom.ts (and
/// docs/specs/crypto.md §6: N in [1, 2^26], m = ceil(1.44 * lambda * N)) also rejects N = 0,
/// N > 2^26 and an m that is not Init's size. Counterexample: "MTBF" 01 | lambda 1 | N 0 | m 8 |
/// count 0 | 0x00 is parsed as (1, 0, 8, 0) on-chain and rejected off-chain ("N must be an integer
/// in [1, ...]"). No production contract calls the library yet (only BloomFilterMock), so nothing
/// is exploitable today; a future on-chain consumer would accept filters the agents refuse.
contract BloomFilterFindingsTest is Test {
    BloomFilterMock internal mock;

    function setUp() public {
        mock = new BloomFilterMock();
    }

    function testFuzz_parseHeaderRejectsWhatBloomTsRejects(uint8 lambda, uint32 capacity, uint8 defect) public {
        uint256 l = bound(lambda, 1, 8);
        uint256 n = bound(capacity, 1, 1000);
        uint256 m = BloomRef.bitsFor(n, l);
        defect %= 3;
        if (defect == 0) n = 0;
        else if (defect == 1) n = bound(capacity, (1 << 26) + 1, type(uint32).max);
        else m = m + 1 + (capacity % 64);
        bytes memory filter = BloomRef.serialize(l, n, m, 0, new bytes((m + 7) / 8));
        vm.expectRevert();
        mock.parseHeader(filter);
    }
}
