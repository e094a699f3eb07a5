// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Evidence in the wire encoding (`offchain/avatars/wire.ts`, `encodeEvidence`) for forge
/// campaigns, as `test/helpers/encoded-evidence.ts` builds it for the Hardhat tests. SIMULATED:
/// every field is derived from a seed, the BLS points are the generators and the ephemeral keys
/// secp256k1's generator, so that the IdP's decoder accepts the bytes (the court refuses anything it
/// would refuse, s19-redd F3) but no signature verifies. A transcript signature's evidence with its
/// handshake and a 40-byte body: 1,308 bytes.
library EncodedEvidence {
    bytes internal constant G1_GEN =
        hex"97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb";
    bytes internal constant G2_GEN =
        hex"93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"
        hex"024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8";
    bytes internal constant SECP_GEN = hex"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

    /// @notice Encoded evidence about `avatar`, its other fields derived from `seed`; the handshake's
    /// reporter avatar (the counterparty) is derived from `seed` too.
    function about(bytes32 avatar, uint256 seed) internal pure returns (bytes memory) {
        return between(avatar, _word(seed, "reporter"), seed);
    }

    /// @notice `about` with the handshake's reporter avatar (the interaction's counterparty) `reporter`.
    function between(bytes32 avatar, bytes32 reporter, uint256 seed) internal pure returns (bytes memory) {
        return
            bytes.concat(
                _signed(avatar, seed),
                // handshake flag 1, the accused initiated, its ephemeral key and nonce
                bytes.concat(hex"0101", SECP_GEN, _word(seed, "accused-nonce")),
                _hello(seed, avatar, reporter),
                G1_GEN,
                hex"00" // no receipt
            );
    }

    /// @notice `about`'s signed message without the handshake (counterparty none: the same trace
    /// key), with a receipt at `receiptTime` if it is not 0.
    function withoutHandshake(bytes32 avatar, uint256 seed, uint64 receiptTime) internal pure returns (bytes memory) {
        return
            bytes.concat(
                _signed(avatar, seed),
                hex"00", // no handshake
                receiptTime == 0
                    ? bytes(hex"00")
                    : bytes.concat(hex"01", bytes8(receiptTime), _word(seed, "receipt-r"), _word(seed, "receipt-s"))
            );
    }

    /// @notice `between` with a receipt at `receiptTime` (a re-stamped copy: the same interaction).
    function stamped(
        bytes32 avatar,
        bytes32 reporter,
        uint256 seed,
        uint64 receiptTime
    ) internal pure returns (bytes memory) {
        bytes memory b = between(avatar, reporter, seed);
        // drop the "no receipt" flag, append the receipt
        assembly {
            mstore(b, sub(mload(b), 1))
        }
        return bytes.concat(b, hex"01", bytes8(receiptTime), _word(seed, "receipt-r"), _word(seed, "receipt-s"));
    }

    /// header, the accused's avatar, owner serial and key, driver serial, warrant, original
    /// signature, the signed message (type 2, a transcript), s_p
    function _signed(bytes32 avatar, uint256 seed) private pure returns (bytes memory) {
        return
            bytes.concat(
                hex"2602",
                avatar,
                _word(seed, "owner-serial"),
                G2_GEN,
                _word(seed, "driver-serial"),
                _warrant(seed, avatar),
                _word(seed, "h"),
                _word(seed, "r"),
                G1_GEN,
                // the message: type 2 (a transcript), time, body length 40, body
                bytes.concat(
                    bytes1(0x02),
                    bytes8(uint64(1_750_000_000)),
                    bytes2(uint16(40)),
                    _word(seed, "body"),
                    bytes8(0)
                ),
                G1_GEN
            );
    }

    function _hello(uint256 seed, bytes32 accused, bytes32 reporter) private pure returns (bytes memory) {
        return
            bytes.concat(
                reporter,
                _word(seed, "reporter-owner-serial"),
                G2_GEN,
                _word(seed, "reporter-driver-serial"),
                _warrant(seed, reporter),
                _word(seed, "reporter-h"),
                _word(seed, "reporter-r"),
                G1_GEN,
                SECP_GEN,
                _word(seed, "reporter-nonce"),
                _word(seed, "platform"),
                accused
            );
    }

    /// iris commitment, proxy key, avatar, scope 6, notBefore, notAfter (177 bytes)
    function _warrant(uint256 seed, bytes32 avatar) private pure returns (bytes memory) {
        return
            bytes.concat(
                _word(seed, "iris"),
                G2_GEN,
                avatar,
                bytes1(0x06),
                bytes8(uint64(1_700_000_000)),
                bytes8(uint64(1_800_000_000))
            );
    }

    function _word(uint256 seed, string memory what) private pure returns (bytes32) {
        return keccak256(abi.encode(seed, what));
    }
}
