// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {BlsRef, HashToG1Harness} from "./HashToG1.t.sol";
import {HashToG1} from "../../contracts/libraries/HashToG1.sol";

/// @notice RFC 9380 DST rules (issue 14 item 9; these failed before the fix).
/// Low severity: the contracts only pass their two constant 56-byte DSTs.
///
/// RFC 9380 §5.3.3 hashes a DST longer than 255 bytes to DST' = H("H2C-OVERSIZE-DST-" || DST), and
/// §3.1 requires a non-empty DST. HashToG1 used to write `uint8(dst.length)` into DST_prime, so a
/// 256-byte DST was silently taken as length 0 (and a 300-byte one as 44).
contract HashToG1OversizeDstTest is Test {
    HashToG1Harness internal h;

    function setUp() public {
        h = new HashToG1Harness();
    }

    /// A DST of 256 bytes or more either reverts or follows RFC 9380 §5.3.3.
    function testFuzz_oversizeDstRevertsOrFollowsRfc9380(bytes32 message, uint16 extra) public view {
        bytes memory dst = new bytes(256 + bound(extra, 0, 200));
        for (uint256 i; i < dst.length; ++i) dst[i] = bytes1(uint8(0x41 + (i % 26)));
        bytes memory dstPrime = abi.encodePacked(sha256(bytes.concat("H2C-OVERSIZE-DST-", dst)));
        assertEq(
            h.hash(message, dst),
            BlsRef.hashToCurve(abi.encodePacked(message), dstPrime),
            "oversize DST: not RFC 9380"
        );
    }

    /// An empty DST is rejected.
    function test_emptyDstReverts() public {
        vm.expectRevert(HashToG1.HashToG1__EmptyDst.selector);
        h.hash(bytes32(0), "");
    }
}
