// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CpsFixture} from "./CPSVerifier.t.sol";
import {BlsRef} from "./HashToG1.t.sol";

/// @notice FINDINGS (issue 14): properties CPSVerifier.verify fails today (run by
/// `npm run test:findings`, not in CI).
///
/// 1. The point at infinity is accepted as a key and as a signature: with X_o = X_p = O (256 zero
///    bytes) and S = O (128 zero bytes) every factor of e(S, -g2) e(H_W(h), X_o) e(H_P(d), X_p) is
///    1, so verify returns true for every h and every message.
/// 2. h is never tied to a warrant (verify takes no warrant and never recomputes CHash), and the
///    proxy key is never tied to h, so:
///    a. anyone holding one honest original signature (h, s_o) forges proxy messages without any
///       key: X_p = O and S = s_o verify for every message type, time and body;
///    b. an outsider with its own key x_m takes a genuine (h, s_o) whose warrant names another
///       proxy and signs as if it were the proxy: S = s_o + x_m H_P(d) verifies with X_p = x_m g2;
///    c. anyone is their own "original": with one key x, S = x (H_W(h) + H_P(d)) verifies with
///       X_o = X_p = x g2 for an h that no CHash over any warrant produced.
contract CPSVerifierFindingsTest is CpsFixture {
    function _o2() internal pure returns (bytes memory) {
        return new bytes(256);
    }

    /// FAILS (1): identity keys and an identity signature never verify.
    function testFuzz_identityInputsNeverVerify(bytes32 h, uint8 t, uint64 time, bytes32 body) public view {
        assertFalse(v.verify(_o2(), _o2(), h, t, time, body, new bytes(128)), "all-identity input verified");
    }

    /// FAILS (2a): a proxy key that is the identity never verifies, even next to a genuine s_o.
    function testFuzz_identityProxyKeyNeverVerifies(
        uint256 so,
        bytes32 seed,
        uint8 t,
        uint64 time,
        bytes32 body
    ) public view {
        Sig memory s = _sign(so, 2, seed, 1, 1, bytes32(0));
        // no proxy key at all: only the public original signature
        assertFalse(v.verify(s.xo, _o2(), s.h, t, time, body, s.so), "forged with X_p = O and S = s_o");
    }

    /// FAILS (2b): only the proxy named in the warrant behind h can sign under h.
    function testFuzz_onlyTheWarrantsProxySigns(uint256 so, uint256 sp, uint256 mallory, bytes32 seed) public view {
        Sig memory s = _sign(so, sp, seed, 3, 1_500, keccak256("body"));
        mallory = bound(mallory, 1, BlsRef.R - 1);
        vm.assume(mallory != bound(sp, 1, BlsRef.R - 1));
        bytes memory xm = _key(mallory);
        bytes32 body = keccak256("mallory's message");
        bytes memory agg = BlsRef.g1Add(s.so, BlsRef.g1Mul(_hp(s.h, 3, 1_500, body), mallory));
        assertFalse(v.verify(s.xo, xm, s.h, 3, 1_500, body, agg), "a key the warrant does not name signed");
    }

    /// FAILS (2c): an h that is not the CHash of a warrant under X_o never verifies.
    function testFuzz_hMustComeFromAWarrant(uint256 x, bytes32 h, bytes32 body) public view {
        x = bound(x, 1, BlsRef.R - 1);
        bytes memory xk = _key(x);
        bytes memory agg = BlsRef.g1Mul(BlsRef.g1Add(_hw(h), _hp(h, 1, 1, body)), x);
        assertFalse(v.verify(xk, xk, h, 1, 1, body, agg), "self-made h verified");
    }
}
