// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BLS12381} from "../libraries/BLS12381.sol";

/// @dev Exposes the BLS12381 library to tests (differential test against bls.ts).
contract BLS12381Mock {
    function pairingCheck(bytes calldata input) external view returns (bool) {
        return BLS12381.pairingCheck(input);
    }

    function g1Add(bytes calldata a, bytes calldata b) external view returns (bytes memory) {
        return BLS12381.g1Add(a, b);
    }

    function g1Mul(bytes calldata p, uint256 k) external view returns (bytes memory) {
        return BLS12381.g1Mul(p, k);
    }

    function g2Add(bytes calldata a, bytes calldata b) external view returns (bytes memory) {
        return BLS12381.g2Add(a, b);
    }

    function g2Mul(bytes calldata p, uint256 k) external view returns (bytes memory) {
        return BLS12381.g2Mul(p, k);
    }

    function mapFpToG1(bytes calldata fp) external view returns (bytes memory) {
        return BLS12381.mapFpToG1(fp);
    }
}
