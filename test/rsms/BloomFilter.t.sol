// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {BloomFilter} from "../../contracts/libraries/BloomFilter.sol";
import {BloomFilterMock} from "../../contracts/test/BloomFilterMock.sol";

/// @notice A plain Bloom filter (RSMS Definition 2, docs/specs/crypto.md §6), written from the
/// spec rather than from BloomFilter.sol: the key is keccak256 of the item; block t is
/// keccak256(abi.encodePacked(key, uint32(t))), cut into four 64-bit words by division, each taken
/// mod m; the first lambda distinct values are the positions (duplicates found by a second pass
/// over a bitmap of the values seen). Bits are read and written by division and powers of two.
library BloomRef {
    function positions(bytes32 key, uint256 m, uint256 lambda) internal pure returns (uint256[] memory pos) {
        pos = new uint256[](lambda);
        uint256 n;
        uint256 t;
        while (n < lambda) {
            uint256 b = uint256(keccak256(abi.encodePacked(key, uint32(t))));
            for (uint256 c; c < 4; ++c) {
                if (n == lambda) break;
                uint256 p = ((b / 2 ** (64 * (3 - c))) % 2 ** 64) % m;
                bool seen;
                for (uint256 i; i < n; ++i) seen = seen || pos[i] == p;
                if (!seen) {
                    pos[n] = p;
                    n += 1;
                }
            }
            t += 1;
        }
    }

    function isSet(bytes memory data, uint256 offset, uint256 bit) internal pure returns (bool) {
        return (uint8(data[offset + bit / 8]) / 2 ** (bit % 8)) % 2 == 1;
    }

    function set(bytes memory bits, uint256 bit) internal pure {
        if (!isSet(bits, 0, bit)) bits[bit / 8] = bytes1(uint8(bits[bit / 8]) + uint8(2 ** (bit % 8)));
    }

    function clear(bytes memory bits, uint256 bit) internal pure {
        if (isSet(bits, 0, bit)) bits[bit / 8] = bytes1(uint8(bits[bit / 8]) - uint8(2 ** (bit % 8)));
    }

    function insert(bytes memory bits, uint256 m, uint256 lambda, bytes32 key) internal pure {
        uint256[] memory pos = positions(key, m, lambda);
        for (uint256 j; j < lambda; ++j) set(bits, pos[j]);
    }

    function check(
        bytes memory data,
        uint256 offset,
        uint256 m,
        uint256 lambda,
        bytes32 key
    ) internal pure returns (bool) {
        uint256[] memory pos = positions(key, m, lambda);
        for (uint256 j; j < lambda; ++j) if (!isSet(data, offset, pos[j])) return false;
        return true;
    }

    /// "MTBF" | 2 | lambda | N u32 | m u32 | count u32 | bits, big-endian.
    function serialize(
        uint256 lambda,
        uint256 capacity,
        uint256 m,
        uint256 count,
        bytes memory bits
    ) internal pure returns (bytes memory) {
        return abi.encodePacked("MTBF", uint8(2), uint8(lambda), uint32(capacity), uint32(m), uint32(count), bits);
    }

    /// Init's size: m = ceil(1.44 * lambda * N).
    function bitsFor(uint256 capacity, uint256 lambda) internal pure returns (uint256) {
        return (144 * lambda * capacity + 99) / 100;
    }

    /// The N whose Init size is m for this lambda, or 0 when no N gives m (only the largest N with
    /// 1.44 * lambda * N <= m can).
    function capacityFor(uint256 m, uint256 lambda) internal pure returns (uint256) {
        uint256 n = (100 * m) / (144 * lambda);
        return n != 0 && bitsFor(n, lambda) == m ? n : 0;
    }
}

/// @notice Fuzz tests of BloomFilter.sol against BloomRef, and of its rejections (through
/// BloomFilterMock, the external wrapper the Hardhat differential test uses).
contract BloomFilterFuzzTest is Test {
    BloomFilterMock internal mock;

    function setUp() public {
        mock = new BloomFilterMock();
    }

    // ---------- positions ----------

    /// Pos(x) for key = keccak256(x): the library's positions equal the reference, each below m and
    /// all distinct, for every m >= lambda (not only m < 2^32) and lambda in [1, 64].
    function testFuzz_positionsMatchTheReference(bytes memory item, uint256 m, uint256 lambda) public pure {
        lambda = bound(lambda, 1, 64);
        m = bound(m, lambda, type(uint256).max);
        bytes32 key = keccak256(item);
        uint256[] memory got = BloomFilter.positions(key, m, lambda);
        uint256[] memory want = BloomRef.positions(key, m, lambda);
        assertEq(got.length, lambda, "lambda positions");
        for (uint256 j; j < lambda; ++j) {
            assertEq(got[j], want[j], "position differs from the reference");
            assertLt(got[j], m, "position out of range");
            for (uint256 i; i < j; ++i) assertTrue(got[i] != got[j], "two equal positions");
        }
    }

    /// The same on the sizes the protocol uses (m < 2^32, often small, down to m = lambda, where
    /// the positions are every bit), where the stream's values collide and are skipped.
    function testFuzz_positionsMatchTheReferenceOnFilterSizes(bytes32 key, uint32 m, uint8 lambda) public pure {
        uint256 l = bound(lambda, 1, 64);
        uint256 mm = bound(m, l, m % 2 == 0 ? 2 * l : type(uint32).max);
        uint256[] memory got = BloomFilter.positions(key, mm, l);
        uint256[] memory want = BloomRef.positions(key, mm, l);
        for (uint256 j; j < l; ++j) {
            assertEq(got[j], want[j], "position differs from the reference");
            for (uint256 i; i < j; ++i) assertTrue(got[i] != got[j], "two equal positions");
        }
    }

    /// s17-redB B9: the keys whose double-hashing step h2 is 0 mod m (one in m: h1 + j*h2 gave one
    /// position) get lambda distinct positions.
    function testFuzz_noKeyCollapses(uint128 h1, uint128 q, uint8 lambda) public pure {
        uint256 l = bound(lambda, 2, 64);
        uint256 m = 29_492; // the default filter's m (N = 1,024, lambda = 20)
        bytes32 key = bytes32((uint256(h1) << 128) | ((uint256(q) % (type(uint128).max / m)) * m));
        uint256[] memory got = BloomFilter.positions(key, m, l);
        for (uint256 j; j < l; ++j) for (uint256 i; i < j; ++i) assertTrue(got[i] != got[j], "collapsed");
    }

    // ---------- check ----------

    /// Every inserted item is found, by check() on the bits whether m is Init's ceil(1.44 * lambda * N)
    /// or any other size, and by checkSerialized() on a filter of Init's size.
    function testFuzz_insertedItemsAreAlwaysFound(
        bytes32 seed,
        uint8 n,
        uint8 lambda,
        uint16 mAny,
        bool initSize
    ) public pure {
        n = uint8(bound(n, 1, 40));
        uint256 l = bound(lambda, 1, 64);
        uint256 m = initSize ? BloomRef.bitsFor(n, l) : bound(mAny, l, 4096);
        bytes memory bits = new bytes((m + 7) / 8);
        for (uint256 i; i < n; ++i) BloomRef.insert(bits, m, l, keccak256(abi.encode(seed, i)));
        bytes memory filter = BloomRef.serialize(l, n, m, n, bits);
        for (uint256 i; i < n; ++i) {
            bytes32 key = keccak256(abi.encode(seed, i));
            assertTrue(BloomFilter.check(bits, m, l, key), "inserted item not found (check)");
            // a serialized filter has Init's size (parseHeader refuses any other m)
            if (initSize)
                assertTrue(BloomFilter.checkSerialized(filter, key), "inserted item not found (checkSerialized)");
        }
    }

    /// On arbitrary bit arrays (dense enough that both answers occur), check() and checkSerialized()
    /// give the reference's answer; longer bit arrays than ceil(m/8) are accepted by check().
    function testFuzz_checkAgreesWithTheReference(
        bytes32 seed,
        uint16 m,
        uint8 lambda,
        bytes32 key,
        uint8 extra
    ) public pure {
        uint256 l = bound(lambda, 1, 8);
        uint256 n = bound(m, 1, 170); // Init's size for N: m = ceil(1.44 * lambda * N) <= 1,959
        uint256 mm = BloomRef.bitsFor(n, l);
        bytes memory bits = new bytes((mm + 7) / 8);
        for (uint256 i; i < bits.length; ++i) {
            bytes32 r = keccak256(abi.encode(seed, i));
            bits[i] = r[0] | r[1] | r[2]; // about 7 bits in 8 set
        }
        bool want = BloomRef.check(bits, 0, mm, l, key);
        assertEq(BloomFilter.check(bits, mm, l, key) ? 1 : 0, want ? 1 : 0, "check differs from the reference");
        bytes memory filter = BloomRef.serialize(l, n, mm, 0, bits);
        assertEq(BloomFilter.checkSerialized(filter, key) ? 1 : 0, want ? 1 : 0, "checkSerialized differs");
        bytes memory longer = abi.encodePacked(bits, new bytes(extra % 4));
        assertEq(BloomFilter.check(longer, mm, l, key) ? 1 : 0, want ? 1 : 0, "check on a longer bit array");
    }

    /// With every other bit set, clearing any one of an item's positions makes it absent: check()
    /// reads every one of the lambda positions, at the documented byte and mask.
    function testFuzz_clearingAnyPositionMakesTheItemAbsent(
        bytes32 key,
        uint16 m,
        uint8 lambda,
        uint8 which
    ) public pure {
        uint256 l = bound(lambda, 1, 64);
        uint256 mm = bound(m, l, 2048);
        bytes memory bits = new bytes((mm + 7) / 8);
        for (uint256 i; i < bits.length; ++i) bits[i] = 0xff;
        assertTrue(BloomFilter.check(bits, mm, l, key), "all ones: present");
        uint256 p = BloomRef.positions(key, mm, l)[which % l];
        BloomRef.clear(bits, p);
        assertFalse(BloomFilter.check(bits, mm, l, key), "a cleared position went unnoticed");
        uint256 n = BloomRef.capacityFor(mm, l);
        if (n != 0) assertFalse(BloomFilter.checkSerialized(BloomRef.serialize(l, n, mm, 0, bits), key), "serialized");
    }

    /// Bits past m in the last byte are never read: setting them does not make an absent item present.
    function testFuzz_paddingBitsAreNeverRead(bytes32 key, uint16 m, uint8 lambda) public pure {
        uint256 l = bound(lambda, 1, 64);
        uint256 mm = bound(m, l, 2048);
        bytes memory bits = new bytes((mm + 7) / 8);
        for (uint256 b = mm; b < bits.length * 8; ++b) BloomRef.set(bits, b);
        assertFalse(BloomFilter.check(bits, mm, l, key), "padding bits read");
    }

    // ---------- serialized filters ----------

    function testFuzz_parseHeaderReadsEveryField(uint8 lambda, uint32 capacity, uint32 count) public view {
        uint256 l = bound(lambda, 1, 64);
        uint256 n = bound(capacity, 1, 2840 / l); // m = ceil(1.44 * lambda * N) <= 4,090
        uint256 mm = BloomRef.bitsFor(n, l);
        bytes memory filter = BloomRef.serialize(l, n, mm, count, new bytes((mm + 7) / 8));
        (uint256 gotL, uint256 gotN, uint256 gotM, uint256 gotCount) = mock.parseHeader(filter);
        assertEq(gotL, l, "lambda");
        assertEq(gotN, n, "N");
        assertEq(gotM, mm, "m");
        assertEq(gotCount, count, "count");
    }

    // ---------- malformed parameters ----------

    /// The boundaries: lambda 1 and 64 and m = lambda are accepted; lambda 0 and 65 and m < lambda
    /// (no lambda distinct positions) are not.
    function test_parameterBoundaries() public {
        bytes32 key = keccak256("k");
        assertEq(mock.positions(key, 64, 64).length, 64, "lambda 64");
        assertEq(mock.positions(key, 1, 1)[0], 0, "m = 1: the position is 0");
        assertTrue(mock.check(hex"ffffffffffffffff", 64, 64, key), "m = lambda = 64, every bit set");
        assertFalse(mock.check(hex"ffffffffffffff7f", 64, 64, key), "m = lambda = 64: bit 63 is one of the positions");
        uint256[4] memory m = [uint256(1), 65, 0, 63];
        uint256[4] memory l = [uint256(0), 65, 1, 64];
        for (uint256 i; i < 4; ++i) {
            bytes memory err = abi.encodeWithSelector(BloomFilter.BloomFilter__InvalidParameters.selector, m[i], l[i]);
            vm.expectRevert(err);
            mock.positions(key, m[i], l[i]);
            vm.expectRevert(err);
            mock.parseHeader(BloomRef.serialize(l[i], 1, m[i], 0, new bytes((m[i] + 7) / 8)));
        }
        (uint256 gotL, , uint256 gotM, ) = mock.parseHeader(BloomRef.serialize(64, 1, 93, 0, new bytes(12)));
        assertEq(gotL * 1000 + gotM, 64093, "lambda 64, N 1, m 93 parsed");
    }

    /// m < lambda, lambda = 0 or lambda > 64: positions and check revert InvalidParameters(m, lambda).
    function testFuzz_invalidParametersRevert(uint256 m, uint256 lambda, uint8 defect, bytes32 key) public {
        uint256 raw = lambda;
        lambda = bound(lambda, 1, 64);
        m = bound(m, lambda, type(uint256).max);
        defect %= 3;
        if (defect == 0) m = bound(m, 0, lambda - 1);
        else if (defect == 1) lambda = 0;
        else lambda = raw % 2 == 0 ? 65 : bound(raw, 66, type(uint256).max); // the boundary half the time
        bytes memory err = abi.encodeWithSelector(BloomFilter.BloomFilter__InvalidParameters.selector, m, lambda);
        vm.expectRevert(err);
        mock.positions(key, m, lambda);
        vm.expectRevert(err);
        mock.check(new bytes(64), m, lambda, key);
    }

    /// A bit array shorter than ceil(m/8) bytes: BitsTooShort(length, m).
    function testFuzz_shortBitArrayReverts(uint256 m, uint256 len, uint8 lambda, bytes32 key) public {
        m = bound(m, 64, 1 << 20);
        len = bound(len, 0, (m + 7) / 8 - 1);
        uint256 l = bound(lambda, 1, 64);
        vm.expectRevert(abi.encodeWithSelector(BloomFilter.BloomFilter__BitsTooShort.selector, len, m));
        mock.check(new bytes(len), m, l, key);
    }

    /// Shorter than the 18-byte header.
    function testFuzz_truncatedHeaderReverts(bytes memory data, bytes32 key) public {
        vm.assume(data.length < 18);
        bytes memory err = abi.encodeWithSelector(BloomFilter.BloomFilter__MalformedFilter.selector);
        vm.expectRevert(err);
        mock.parseHeader(data);
        vm.expectRevert(err);
        mock.checkSerialized(data, key);
    }

    /// Any change to the magic "MTBF" or the version byte.
    function testFuzz_badMagicOrVersionReverts(uint8 at, uint8 delta, uint16 m, bytes32 key) public {
        uint256 mm = bound(m, 1, 4096);
        bytes memory filter = BloomRef.serialize(8, 10, mm, 0, new bytes((mm + 7) / 8));
        at %= 5;
        delta = uint8(bound(delta, 1, 255));
        filter[at] = bytes1(uint8(filter[at]) ^ delta);
        bytes memory err = abi.encodeWithSelector(BloomFilter.BloomFilter__MalformedFilter.selector);
        vm.expectRevert(err);
        mock.parseHeader(filter);
        vm.expectRevert(err);
        mock.checkSerialized(filter, key);
    }

    /// A bit array that is not exactly ceil(m/8) bytes after the header (truncated or extended).
    function testFuzz_wrongFilterLengthReverts(uint16 m, uint8 change, bool extend, bytes32 key) public {
        uint256 n = bound(m, 1, 355);
        uint256 mm = BloomRef.bitsFor(n, 8);
        uint256 bytesLen = (mm + 7) / 8;
        uint256 d = extend ? bound(change, 1, 64) : bound(change, 1, bytesLen);
        bytes memory filter = BloomRef.serialize(8, n, mm, 0, new bytes(extend ? bytesLen + d : bytesLen - d));
        bytes memory err = abi.encodeWithSelector(BloomFilter.BloomFilter__MalformedFilter.selector);
        vm.expectRevert(err);
        mock.parseHeader(filter);
        vm.expectRevert(err);
        mock.checkSerialized(filter, key);
    }

    /// A header whose N is 0 or above 2^26, or whose m is not Init's ceil(1.44 * lambda * N):
    /// InvalidCapacity(N, m, lambda), as bloom.ts refuses it (a forge finding of session 5: the
    /// parser checked only magic, version, lambda, m >= 1 and the length).
    function testFuzz_headerWithAnotherSizeThanInitsReverts(
        uint8 lambda,
        uint32 capacity,
        uint8 defect,
        bytes32 key
    ) public {
        uint256 l = bound(lambda, 1, 8);
        uint256 n = bound(capacity, 1, 1000);
        uint256 m = BloomRef.bitsFor(n, l);
        defect %= 3;
        if (defect == 0) n = 0;
        else if (defect == 1) n = bound(capacity, (1 << 26) + 1, type(uint32).max);
        else m = m + 1 + (capacity % 64);
        bytes memory filter = BloomRef.serialize(l, n, m, 0, new bytes((m + 7) / 8));
        bytes memory err = abi.encodeWithSelector(BloomFilter.BloomFilter__InvalidCapacity.selector, n, m, l);
        vm.expectRevert(err);
        mock.parseHeader(filter);
        vm.expectRevert(err);
        mock.checkSerialized(filter, key);
    }

    /// A header with m = 0, lambda = 0 or lambda > 64: InvalidParameters(m, lambda).
    function testFuzz_headerWithInvalidParametersReverts(uint16 m, uint8 lambda, uint8 defect, bytes32 key) public {
        uint256 l = bound(lambda, 1, 64);
        uint256 mm = bound(m, l, 4096);
        defect %= 3;
        if (defect == 0) mm = bound(m, 0, l - 1);
        else if (defect == 1) l = 0;
        else l = lambda % 2 == 0 ? 65 : bound(lambda, 66, 255); // the boundary half the time
        bytes memory filter = BloomRef.serialize(l, 10, mm, 0, new bytes((mm + 7) / 8));
        bytes memory err = abi.encodeWithSelector(BloomFilter.BloomFilter__InvalidParameters.selector, mm, l);
        vm.expectRevert(err);
        mock.parseHeader(filter);
        vm.expectRevert(err);
        mock.checkSerialized(filter, key);
    }
}
