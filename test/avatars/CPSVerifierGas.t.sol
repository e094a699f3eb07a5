// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {CPSVerifier} from "../../contracts/avatars/CPSVerifier.sol";
import {ICPSVerifier} from "../../contracts/interfaces/ICPSVerifier.sol";
import {BLS12381} from "../../contracts/libraries/BLS12381.sol";
import {HashToG1} from "../../contracts/libraries/HashToG1.sol";
import {GasProbe} from "../../contracts/test/GasProbe.sol";

/// @notice CPSVerifier.verify on one fixed valid vector: its gas from a contract (GasProbe, as the
/// avatars bench measures it) stays within budget, it verifies, and perturbed inputs do not.
contract CPSVerifierGasTest is Test {
    /// @dev Executed from a contract (no transaction base, no calldata fee).
    uint256 private constant GAS_BUDGET = 200_000;

    // The vector printed by `npx ts-node --transpile-only scripts/cps-gas-vector.ts` (offchain/crypto/cps.ts:
    // cpsKeyGen(0x1111) and cpsKeyGen(0x2222), r = 0xc3..c3, cpsPSign, cpsVerifierArgs).
    bytes private constant ORIGINAL_PK =
        hex"000000000000000000000000000000000ba0b623eb0de039e270d0f68478cd1cb7db577206e32a57386de1c3fabe40c53b2cdb385ee68547e2a6aba35a6d12470000000000000000000000000000000013be2b30033e7c29a414e4356d8fb1f9f6949a8c5441a830a9084f89dff1687c4599945b5b7e8fde1c713f913a57c26700000000000000000000000000000000062808bd59231ce50d531c375e9558c500b8d33c453719431ba3605e89f8049592ad965446079b8c9096b11d5620bf070000000000000000000000000000000000d6c6669b4a5719ff35ac6c549695a7f2e6983b9cf9d5fabc30b808dc70869835ff86f0826204b97aab7912e0c1e1ad";
    bytes private constant PROXY_PK =
        hex"000000000000000000000000000000000bdc164c592bdbeb4d5da633d98f1abd484af8736898926e9116b1970b0257bf24e9e5e67c9af991fae824063e56797c000000000000000000000000000000000f498ba6bee5681817fa4609824697e09467e23054b40dec4ee647e928d210bddaa938cae53f83a254395b99ff42561d0000000000000000000000000000000018a88a532095a2c415104ee615af1a73397f500b34a4eebddbd6298e195c2322556b2b213975cfb189c29cdaa18765bd0000000000000000000000000000000009b5fa38cd98cef5815f6877659c2bc622e54af1e629fe8ea33eedbe219cf313208b2ec3d2a6c3e23c83feee3f85ae75";
    bytes32 private constant IRIS = 0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1;
    bytes32 private constant AVATAR = 0xb2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2;
    uint8 private constant SCOPE = 7;
    uint64 private constant NOT_BEFORE = 1_000;
    uint64 private constant NOT_AFTER = 2_000;
    uint8 private constant MSG_TYPE = 4;
    uint64 private constant TIME = 1_500;
    bytes32 private constant BODY_HASH = 0x4f150cb55e02964e40fc6ee745f75be455b03132b25e2b16b1c5793069b18cb2;
    bytes32 private constant R = 0xc3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3;
    bytes private constant ORIGINAL_SIG =
        hex"0000000000000000000000000000000015b39fe480e14c827d79c066422adac9d49ffa8d365c4e36bb61c28479406c42d09fdecf6fd11d8db43303f5eb09f7ba000000000000000000000000000000000867a5793e87d310a78d531deb4f73a865b1855bd9e706495627e16097cd16c7ce9ab7118a024fa7d3f503800e0a2eed";
    bytes private constant PROXY_SIG =
        hex"000000000000000000000000000000001762db31d4cfd11da1f0e13093fd0b44f3477370f502fc7aeed5448401529915e135e8afcfcf5b338b4deede06929e92000000000000000000000000000000000127601a1a18a3367df7a6d37c364c7f1328f0d27c91a8e8c6a3e574c9364088bb6896927a0daa7f6133734a6340e323";

    /// @dev hardhat's console.log address, which forge prints with -vv.
    address private constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    CPSVerifier private verifier;
    GasProbe private probe;

    function setUp() public {
        verifier = new CPSVerifier();
        probe = new GasProbe();
    }

    function _warrant() private pure returns (ICPSVerifier.Warrant memory) {
        return ICPSVerifier.Warrant(IRIS, PROXY_PK, AVATAR, SCOPE, NOT_BEFORE, NOT_AFTER);
    }

    function _message() private pure returns (ICPSVerifier.ProxyMessage memory) {
        return ICPSVerifier.ProxyMessage(MSG_TYPE, TIME, BODY_HASH);
    }

    function _calldata(
        ICPSVerifier.Warrant memory w,
        ICPSVerifier.ProxyMessage memory m,
        bytes memory originalSig,
        bytes memory proxySig
    ) private pure returns (bytes memory) {
        return abi.encodeCall(ICPSVerifier.verify, (ORIGINAL_PK, w, m, R, originalSig, proxySig));
    }

    function _log(string memory what, uint256 value) private view {
        (bool ok, ) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", what, value));
        ok;
    }

    function test_verify_gasWithinBudget() public view {
        (uint256 used, bool ok, bytes memory ret) = probe.measure(
            address(verifier),
            _calldata(_warrant(), _message(), ORIGINAL_SIG, PROXY_SIG)
        );
        _log("CPSVerifier.verify gas from a contract", used);
        assertTrue(ok, "the call succeeds");
        assertTrue(abi.decode(ret, (bool)), "the vector verifies");
        assertLe(used, GAS_BUDGET, "verify gas");
    }

    function test_verify_vectorAndDigests() public view {
        ICPSVerifier.Warrant memory w = _warrant();
        assertTrue(verifier.verify(ORIGINAL_PK, w, _message(), R, ORIGINAL_SIG, PROXY_SIG), "valid");
        assertTrue(
            verifier.verifyNow(ORIGINAL_PK, w, _message(), R, ORIGINAL_SIG, PROXY_SIG) ==
                (block.timestamp >= TIME && block.timestamp <= NOT_AFTER),
            "verifyNow"
        );
        // The public digests are the documented encodings.
        bytes32 wd = keccak256(
            abi.encode("CPS-WARRANT-V1", IRIS, keccak256(PROXY_PK), AVATAR, SCOPE, NOT_BEFORE, NOT_AFTER)
        );
        assertEq(verifier.warrantDigest(w), wd, "warrantDigest");
        bytes32 h = keccak256(
            abi.encodePacked("CPS-CHASH-V1", keccak256(ORIGINAL_PK), keccak256(abi.encodePacked(wd)), R)
        );
        assertEq(verifier.chameleonHash(ORIGINAL_PK, wd, R), h, "chameleonHash");
        assertEq(
            verifier.messageDigest(h, MSG_TYPE, TIME, BODY_HASH),
            keccak256(abi.encode(h, MSG_TYPE, TIME, BODY_HASH)),
            "messageDigest"
        );
    }

    function test_verify_perturbedFails() public view {
        ICPSVerifier.Warrant memory w = _warrant();
        ICPSVerifier.ProxyMessage memory m = _message();
        m.bodyHash = bytes32(uint256(BODY_HASH) ^ 1);
        assertFalse(verifier.verify(ORIGINAL_PK, w, m, R, ORIGINAL_SIG, PROXY_SIG), "other body");
        assertFalse(
            verifier.verify(ORIGINAL_PK, w, _message(), R ^ bytes32(uint256(1)), ORIGINAL_SIG, PROXY_SIG),
            "other r"
        );
        w.avatarId = bytes32(uint256(AVATAR) ^ 1);
        assertFalse(verifier.verify(ORIGINAL_PK, w, _message(), R, ORIGINAL_SIG, PROXY_SIG), "other avatar");
        // the two signatures swapped: both valid points, neither valid in the other's place
        assertFalse(verifier.verify(ORIGINAL_PK, _warrant(), _message(), R, PROXY_SIG, ORIGINAL_SIG), "swapped");
        // scope, validity and identity checks answer false before any precompile
        m = _message();
        m.msgType = 8;
        assertFalse(verifier.verify(ORIGINAL_PK, _warrant(), m, R, ORIGINAL_SIG, PROXY_SIG), "undefined type");
        m = _message();
        m.time = NOT_AFTER + 1;
        assertFalse(verifier.verify(ORIGINAL_PK, _warrant(), m, R, ORIGINAL_SIG, PROXY_SIG), "expired");
        assertFalse(verifier.verify(ORIGINAL_PK, _warrant(), _message(), R, new bytes(128), PROXY_SIG), "s_o zero");
        assertFalse(verifier.verify(ORIGINAL_PK, _warrant(), _message(), R, ORIGINAL_SIG, new bytes(128)), "s_p zero");
        assertFalse(verifier.verify(new bytes(256), _warrant(), _message(), R, ORIGINAL_SIG, PROXY_SIG), "X_o zero");
        w = _warrant();
        w.proxyPk = new bytes(256);
        assertFalse(verifier.verify(ORIGINAL_PK, w, _message(), R, ORIGINAL_SIG, PROXY_SIG), "X_p zero");
    }

    function test_verify_revertsAsBefore() public {
        bytes memory badSig = bytes.concat(PROXY_SIG);
        badSig[127] ^= 0x01; // y + 1: off the curve
        vm.expectRevert(abi.encodeWithSelector(BLS12381.BLS12381__PrecompileFailed.selector, BLS12381.G1_MSM));
        verifier.verify(ORIGINAL_PK, _warrant(), _message(), R, ORIGINAL_SIG, badSig);
        vm.expectRevert(abi.encodeWithSelector(BLS12381.BLS12381__PrecompileFailed.selector, BLS12381.G1_ADD));
        verifier.verify(ORIGINAL_PK, _warrant(), _message(), R, badSig, PROXY_SIG);
        bytes memory badPk = bytes.concat(ORIGINAL_PK);
        badPk[255] ^= 0x01;
        vm.expectRevert(abi.encodeWithSelector(BLS12381.BLS12381__PrecompileFailed.selector, BLS12381.PAIRING));
        verifier.verify(badPk, _warrant(), _message(), R, ORIGINAL_SIG, PROXY_SIG);
        vm.expectRevert(abi.encodeWithSelector(ICPSVerifier.CPSVerifier__InvalidEncoding.selector, uint8(0), 255));
        verifier.verify(new bytes(255), _warrant(), _message(), R, ORIGINAL_SIG, PROXY_SIG);
        ICPSVerifier.Warrant memory w = _warrant();
        w.proxyPk = new bytes(257);
        vm.expectRevert(abi.encodeWithSelector(ICPSVerifier.CPSVerifier__InvalidEncoding.selector, uint8(1), 257));
        verifier.verify(ORIGINAL_PK, w, _message(), R, ORIGINAL_SIG, PROXY_SIG);
        vm.expectRevert(abi.encodeWithSelector(ICPSVerifier.CPSVerifier__InvalidEncoding.selector, uint8(2), 0));
        verifier.verify(ORIGINAL_PK, _warrant(), _message(), R, "", PROXY_SIG);
        vm.expectRevert(abi.encodeWithSelector(ICPSVerifier.CPSVerifier__InvalidEncoding.selector, uint8(3), 129));
        verifier.verify(ORIGINAL_PK, _warrant(), _message(), R, ORIGINAL_SIG, bytes.concat(PROXY_SIG, hex"00"));
    }
}

/// @notice HashToG1 (in-place assembly) against the plain Solidity it replaced, over 32-byte
/// messages and DSTs of 1 to 300 bytes (so also the RFC 9380 oversize-DST rule).
contract HashToG1ReferenceTest is Test {
    bytes private constant P_PADDED =
        hex"000000000000000000000000000000001a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";

    function testFuzz_hashToField_matchesReference(bytes32 message, uint256 dstLength, bytes32 seed) public view {
        bytes memory dst = _dst(bound(dstLength, 1, 300), seed);
        (bytes memory u0, bytes memory u1) = HashToG1.hashToField(message, dst);
        (bytes memory r0, bytes memory r1) = _referenceHashToField(message, dst);
        assertEq(u0, r0, "u0");
        assertEq(u1, r1, "u1");
        bytes memory point = HashToG1.hash(message, dst);
        assertEq(point, BLS12381.g1Add(BLS12381.mapFpToG1(r0), BLS12381.mapFpToG1(r1)), "H(msg)");
        // nothing past the free memory pointer that HashToG1 used is relied on afterwards
        assertEq(u0, r0, "u0 after hash");
    }

    function _dst(uint256 length, bytes32 seed) private pure returns (bytes memory dst) {
        dst = new bytes(length);
        for (uint256 i; i < length; ++i) dst[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i)))));
    }

    /// @dev The previous HashToG1.hashToField, verbatim.
    function _referenceHashToField(
        bytes32 message,
        bytes memory dst
    ) private view returns (bytes memory u0, bytes memory u1) {
        if (dst.length > 255) dst = abi.encodePacked(sha256(abi.encodePacked("H2C-OVERSIZE-DST-", dst)));
        bytes memory dstPrime = abi.encodePacked(dst, uint8(dst.length));
        bytes32 b0 = sha256(abi.encodePacked(bytes32(0), bytes32(0), message, uint16(128), uint8(0), dstPrime));
        bytes32 b1 = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        bytes32 b2 = sha256(abi.encodePacked(b0 ^ b1, uint8(2), dstPrime));
        bytes32 b3 = sha256(abi.encodePacked(b0 ^ b2, uint8(3), dstPrime));
        bytes32 b4 = sha256(abi.encodePacked(b0 ^ b3, uint8(4), dstPrime));
        u0 = _modP(b1, b2);
        u1 = _modP(b3, b4);
    }

    function _modP(bytes32 hi, bytes32 lo) private view returns (bytes memory out) {
        bool ok;
        (ok, out) = address(0x05).staticcall(
            abi.encodePacked(uint256(64), uint256(1), uint256(64), hi, lo, uint8(1), P_PADDED)
        );
        assertTrue(ok && out.length == 64, "modexp");
    }
}
