// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SgrHandler, SgrSetup} from "./ServiceGroupRegistry.t.sol";
import {CurvePoints} from "./CurvePoints.sol";
import {IServiceGroupRegistry as ISGR} from "../../contracts/interfaces/IServiceGroupRegistry.sol";

/// @notice FINDING (ServiceGroupRegistry.rekey): a PID listed in both `evict` and `add` of one rekey
/// is evicted and re-admitted in the same call, so it is a member of the new epoch and is owed its
/// key, although MemberEvicted(gid, pid, epoch) was emitted for that very epoch. rekey evicts first
/// and then only checks that an added PID is "not a current member", which the eviction just made
/// true. Counterexample: group {A, B} at epoch 0; rekey(gid, 1, evict = [A], add = [A], Q1, C1)
/// succeeds and isMember(gid, A) is true at epoch 1. Forward security (docs/specs/rsms-group.md §1:
/// an evicted member learns nothing of the new key) then rests on the MSRP agent alone; the
/// registry, which rejects replays itself "so even a faulty MSRP agent cannot" record them, does
/// not reject this. Expected: the call reverts (e.g. AlreadyMember or a dedicated error).
contract ServiceGroupRegistryFindingsTest is SgrSetup {
    function test_aPidEvictedAndReAddedInOneRekeyIsNotAMemberOfThatEpoch() public {
        _deploy(4);
        bytes32 gid = keccak256("group-1");
        bytes32 a = keccak256(abi.encode("rn-pid", uint256(0)));
        bytes32 b = keccak256(abi.encode("rn-pid", uint256(1)));
        bytes32[] memory ab = new bytes32[](2);
        ab[0] = a;
        ab[1] = b;
        bytes32[] memory onlyA = new bytes32[](1);
        onlyA[0] = a;
        bytes memory q0 = CurvePoints.point(keccak256("q0"), false);
        bytes memory q1 = CurvePoints.point(keccak256("q1"), true);
        vm.prank(MSRP_ACCOUNT);
        groups.formGroup(gid, keccak256("user"), ab, q0, keccak256("c0"));

        vm.prank(MSRP_ACCOUNT);
        try groups.rekey(gid, 1, onlyA, onlyA, q1, keccak256("c1")) {
            assertFalse(groups.isMember(gid, a), "evicted at epoch 1, yet a member of epoch 1");
        } catch {
            assertEq(groups.group(gid).epoch, 0, "rejected, state unchanged");
        }
    }
}

/// @notice The same property under random sequences, with a handler that sometimes lists a PID in
/// both `evict` and `add` (the main suite's handler never does).
/// forge-config: default.invariant.runs = 32
/// forge-config: default.invariant.depth = 64
/// forge-config: ci.invariant.runs = 32
/// forge-config: ci.invariant.depth = 64
contract ServiceGroupRegistryEvictionFindingsInvariantTest is SgrSetup {
    SgrHandler internal handler;

    function setUp() public {
        _deploy(8);
        handler = new SgrHandler(pools, groups, MSRP_ACCOUNT, true);
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    /// A PID evicted at a group's current epoch is not a member of it.
    function invariant_aPidEvictedAtTheCurrentEpochIsNotAMember() public view {
        for (uint256 gi = 1; gi < handler.N_GROUPS(); ++gi) {
            bytes32 gid = handler.gidAt(gi);
            ISGR.Group memory g = groups.group(gid);
            for (uint256 i; i < handler.N_PIDS(); ++i) {
                if (handler.evictedAtPlus1(gid, i) == uint256(g.epoch) + 1) {
                    assertFalse(groups.isMember(gid, handler.pidAt(i)), "evicted at this epoch, yet a member");
                }
            }
        }
    }
}
