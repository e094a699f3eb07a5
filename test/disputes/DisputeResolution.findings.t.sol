// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DisputeFixture} from "./DisputeResolution.t.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";
import {IDisputeResolution} from "../../contracts/interfaces/IDisputeResolution.sol";

/// @dev A controller account that refuses ether (a contract wallet without a payable fallback).
contract EtherRefusingDisputeController {
    function call(address target, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: msg.value}(data);
        require(ok, "call failed");
        return ret;
    }
}

/// @notice Attacks on DisputeResolution that succeed on the current contracts (`npm run
/// test:findings`; excluded from CI). Each test states the property the system should have and
/// FAILS today; the comment names the counterexample.
contract DisputeResolutionFindingsTest is DisputeFixture {
    function setUp() public {
        vm.roll(100);
        vm.warp(1_700_000_000);
        _deploy();
        vm.roll(100 + MIN_AGE + 1);
    }

    function _open(bytes32 claimant, bytes32 respondent, address caller) internal returns (uint256 id) {
        vm.deal(caller, 1 ether);
        vm.prank(caller);
        id = dr.openDispute{value: DEPOSIT}(claimant, respondent, 1, 2, bytes32(0), "");
    }

    function _vote(uint256 id, uint256 i, uint8 choice) internal {
        vm.prank(_controllerOf(i));
        dr.commit(id, ents[i], _commitment(id, ents[i], choice, keccak256(abi.encode(id, i))));
    }

    function _revealVote(uint256 id, uint256 i, uint8 choice) internal {
        vm.prank(_controllerOf(i));
        dr.reveal(id, ents[i], choice, keccak256(abi.encode(id, i)));
    }

    /// FINDING (new, medium when deposit > 0): resolve pushes the deposit to the winner inside the
    /// same transaction, so a controller that refuses ether makes resolve revert forever
    /// (TransferFailed): the outcome, the loser's penalty, every voter's settlement and the deposit
    /// are frozen. (The default deployment has deposit 0, where _pay returns early.)
    /// Counterexample: e11's controller is a contract without a payable fallback; e0 claims against
    /// e11, the voters reject the claim (option 1), and resolve reverts after the deadlines.
    function test_resolveIsReachableWhateverThePayeeIs() public {
        EtherRefusingDisputeController wallet = new EtherRefusingDisputeController();
        vm.prank(address(wallet));
        tm.register(ents[N_REGISTERED + 1], ITrustManager.Kind.Avatar);
        vm.roll(102);
        uint256 id = _open(ents[0], ents[N_REGISTERED + 1], _controllerOf(0));
        _vote(id, 3, 1);
        vm.warp(block.timestamp + COMMIT + 1);
        _revealVote(id, 3, 1);
        vm.warp(block.timestamp + REVEAL + 1);
        dr.resolve(id); // reverts DisputeResolution__TransferFailed today
        assertTrue(dr.dispute(id).resolved, "not resolved");
    }

    /// FINDING (new, medium): voting rewards can be farmed. One controller registers a claimant, a
    /// respondent and voters, opens many disputes between its own two entities in one block, and
    /// its voters reveal the same option in all of them: each revealed majority vote earns +0.02
    /// (the deposit comes back when the claim is upheld, and is 0 by default). Counterexample: a
    /// stranger registers a claimant, a respondent and a voter; after 25 disputes between the first
    /// two, opened in one block, the voter's reputation is 1.0 (from 0.5), the maximum weight in
    /// every later dispute, and all 25 deposits came back.
    /// PARTLY MITIGATED (issue 16): the voter of the parties' own controller is now refused
    /// (PartyCannotVote), which is why this test now reverts at commit; the farm still works with
    /// the voter on a second account (registered minAge blocks ahead) while rewards are not scaled
    /// to the margin nor capped. Rewrite with a second account when bounded feedback lands.
    function test_aControllerGainsNoReputationFromDisputesAgainstItself() public {
        address farmer = actors[STRANGER];
        bytes32 claimant = keccak256("farm claimant");
        bytes32 respondent = keccak256("farm respondent");
        bytes32 voter = keccak256("farm voter");
        vm.startPrank(farmer);
        tm.register(claimant, ITrustManager.Kind.Avatar);
        tm.register(respondent, ITrustManager.Kind.Avatar);
        tm.register(voter, ITrustManager.Kind.Avatar);
        vm.stopPrank();
        vm.roll(102);
        vm.deal(farmer, 10 ether);
        uint256[] memory disputes = new uint256[](25);
        for (uint256 i; i < disputes.length; ++i) {
            vm.startPrank(farmer);
            disputes[i] = dr.openDispute{value: DEPOSIT}(claimant, respondent, 0, 2, bytes32(0), "");
            dr.commit(disputes[i], voter, _commitment(disputes[i], voter, 0, bytes32(i)));
            vm.stopPrank();
        }
        vm.warp(block.timestamp + COMMIT + 1);
        for (uint256 i; i < disputes.length; ++i) {
            vm.prank(farmer);
            dr.reveal(disputes[i], voter, 0, bytes32(i));
        }
        vm.warp(block.timestamp + REVEAL + 1);
        for (uint256 i; i < disputes.length; ++i) {
            dr.resolve(disputes[i]);
            dr.settle(disputes[i], 10);
        }
        assertEq(farmer.balance, 10 ether, "(the deposits all came back)");
        assertLe(tm.entity(voter).reputation, 0.5e18, "the voter farmed reputation from its controller's own disputes");
    }
}
