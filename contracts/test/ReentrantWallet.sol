// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ReentrantWallet
/// @notice Test account: a contract wallet that forwards calls for its owner and, when it receives
/// ether, calls back into `reentryTarget` once with the armed calldata (a reentrancy attacker). It keeps
/// whether the re-entered call succeeded, so tests can assert that the defence refused it.
contract ReentrantWallet {
    address public reentryTarget;
    bytes public reentry;
    bool public reentered;
    bool public reentryOk;

    /// @notice Forwards `data` with `value` wei to `to`, bubbling up a revert.
    function exec(address to, uint256 value, bytes calldata data) external payable returns (bytes memory ret) {
        bool ok;
        (ok, ret) = to.call{value: value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    /// @notice Arms the reentry: the next ether received calls `to` with `data` once.
    function arm(address to, bytes calldata data) external {
        reentryTarget = to;
        reentry = data;
        reentered = false;
    }

    receive() external payable {
        if (reentryTarget == address(0) || reentered) return;
        reentered = true;
        (reentryOk, ) = reentryTarget.call(reentry);
    }
}
