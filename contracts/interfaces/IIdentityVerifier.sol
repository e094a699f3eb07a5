// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IIdentityVerifier
/// @notice A registry that can say whether an entity id was verified (the trust paper's identity
/// factor I_ij, Eq. 13): the ResourcePoolRegistry for resource nodes (a PID with a join record was
/// authenticated by a pool), and the avatar registry for avatars.
interface IIdentityVerifier {
    /// @notice True iff `id` was verified by this registry.
    function isVerified(bytes32 id) external view returns (bool);

    /// @notice True iff `id`'s verification was withdrawn for good by an authority (an avatar whose
    /// owner's MIT is revoked): nothing its holder does makes it verified again. A verification
    /// that lapsed (an avatar's login or delegation ended: its owner logs in again) is not revoked.
    function isRevoked(bytes32 id) external view returns (bool);
}
