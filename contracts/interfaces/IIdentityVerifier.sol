// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IIdentityVerifier
/// @notice A registry that can say whether an entity id was verified (the trust paper's identity
/// factor I_ij, Eq. 13): the ResourcePoolRegistry for resource nodes (a PID with a join record was
/// authenticated by a pool), and the avatar registry for avatars.
interface IIdentityVerifier {
    /// @notice True iff `id` was verified by this registry.
    function isVerified(bytes32 id) external view returns (bool);

    /// @notice True iff `id`'s verification was withdrawn by an authority (an avatar whose owner's
    /// MIT is revoked, for good; a resource node the MSRP holds suspicious, until the MSRP lifts
    /// it): nothing its holder does makes it verified again. A verification that lapsed (an
    /// avatar's login or delegation ended: its owner logs in again) is not revoked.
    function isRevoked(bytes32 id) external view returns (bool);

    /// @notice The block at which the revocation of `id` in force now was made (0: not revoked): a
    /// revocation lifted and made again counts from the later block. The court judges a juror's
    /// standing as of its dispute's snapshot (s26-rtx): a revocation made after it does not count.
    function revokedSince(bytes32 id) external view returns (uint256);

    /// @notice True iff `id` is verified now, not counting a revocation made after block
    /// `blockNumber` (an MIT revoked, or a PID marked, later is taken as still in force): what the
    /// court's `commit` asks as of the dispute's snapshot. A lapse (an ended session) still counts.
    function isVerifiedAsOf(bytes32 id, uint256 blockNumber) external view returns (bool);

    /// @notice The 16-byte tag of the person who owns `id` (zero if this registry knows no owner, or
    /// tags none): what "one person, one verified avatar" is keyed on. The MITRegistry derives it
    /// from the avatar's recorded owner serial, so an avatar whose id carries no tag (claimed before
    /// ids were per owner) gets its owner's tag too.
    function ownerTagOf(bytes32 id) external view returns (bytes16);
}
