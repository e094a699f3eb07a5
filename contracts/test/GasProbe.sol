// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @dev Measures the execution gas of a call made from a contract (no transaction base, no calldata fee).
contract GasProbe {
    function measure(
        address target,
        bytes calldata data
    ) external view returns (uint256 used, bool ok, bytes memory ret) {
        uint256 start = gasleft();
        (ok, ret) = target.staticcall(data);
        used = start - gasleft();
    }
}
