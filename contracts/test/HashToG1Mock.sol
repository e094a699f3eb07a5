// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {HashToG1} from "../libraries/HashToG1.sol";

/// @dev Exposes HashToG1 to the differential test against noble-curves.
contract HashToG1Mock {
    function hash(bytes32 message, bytes calldata dst) external view returns (bytes memory) {
        return HashToG1.hash(message, dst);
    }

    function hashToField(bytes32 message, bytes calldata dst) external view returns (bytes memory, bytes memory) {
        return HashToG1.hashToField(message, dst);
    }
}
