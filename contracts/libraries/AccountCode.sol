// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title AccountCode
/// @notice Tells a contract from an account a key controls, for the roles bound "to a contract"
/// (the TrustManager's FEEDBACK_ROLE, the MITRegistry's COURT_ROLE): what such a role does is then
/// the contract's public code, never a key's choice.
/// @dev Under EIP-7702 (prague) an externally owned account that delegated its code carries the
/// 23-byte designator 0xef0100 || delegate, so `code.length != 0` alone lets it through while its
/// key still sends transactions (h15-red3 H3). EIP-3541 forbids deploying code that starts with
/// 0xef, so 23 bytes starting 0xef0100 are always a designator, never a contract's code.
library AccountCode {
    /// @return true when `account` has code and that code is not an EIP-7702 delegation designator
    function isContract(address account) internal view returns (bool) {
        uint256 size = account.code.length;
        if (size != 23) return size != 0;
        bytes memory code = account.code;
        return !(code[0] == 0xef && code[1] == 0x01 && code[2] == 0x00);
    }
}
