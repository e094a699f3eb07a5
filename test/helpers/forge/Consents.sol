// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TrustManager} from "../../../contracts/trust/TrustManager.sol";

/// @notice The digest an avatar's controller signs to consent to an agreement of `tm`
/// (TrustManager.proposeAgreement): EIP-712, domain "TrustManager" version "1" on this chain.
library Consents {
    function digest(
        TrustManager tm,
        bytes32 org,
        bytes32[] memory a,
        uint64[] memory t,
        bytes32 terms,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("TrustManager"),
                keccak256("1"),
                block.chainid,
                address(tm)
            )
        );
        bytes32 structHash = keccak256(
            abi.encode(
                tm.CONSENT_TYPEHASH(),
                org,
                keccak256(abi.encodePacked(a)),
                keccak256(abi.encodePacked(t)),
                terms,
                nonce,
                deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }
}
