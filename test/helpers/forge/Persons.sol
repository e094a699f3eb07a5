// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice A test person's election nullifier: a stand-in for HMAC(electionKey, "metatrust MSSA
/// elector" || identity), one person per account unless a test says otherwise. Every member of the
/// election holds one (s20-redm F5: the genesis list and every enrolment carry it).
function personOf(address account) pure returns (bytes32) {
    return keccak256(abi.encode("metatrust test person", account));
}

/// @notice The election nullifiers of `accounts` (personOf each), e.g. for the genesis authorities.
function personsOf(address[] memory accounts) pure returns (bytes32[] memory e) {
    e = new bytes32[](accounts.length);
    for (uint256 i; i < accounts.length; ++i) e[i] = personOf(accounts[i]);
}
