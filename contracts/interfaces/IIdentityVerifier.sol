// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IIdentityVerifier
/// @notice A registry that can say whether an entity id was verified (the trust paper's identity
/// factor I_ij, Eq. 13): the ResourcePoolRegistry for resource nodes (a PID with a join record was
/// authenticated by a pool), and the avatar registry for avatars.
interface IIdentityVerifier {
    /// @notice True iff `id` was verified by this registry.
    function isVerified(bytes32 id) external view returns (bool);
}
