// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MssaWiredBase} from "./MssaRedTeam.t.sol";
import {ICredentialLedger} from "../../contracts/interfaces/ICredentialLedger.sol";

/// @dev An ERC-1271 wallet that approves exactly the digests its owner told it to.
contract ConsentingWallet {
    mapping(bytes32 digest => bool) public approved;

    function approve(bytes32 digest) external {
        approved[digest] = true;
    }

    function isValidSignature(bytes32 digest, bytes calldata) external view returns (bytes4) {
        return approved[digest] ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}

/// @notice Red team s19-reds: the user's EIP-712 consent that `CredentialLedger.propose` checks
/// (SignatureChecker: ECDSA for an account, ERC-1271 for a contract). The digest is computed here
/// from the documented type string and domain, not with the ledger's `registrationDigest`, so the
/// tests pin the encoding too. What holds: the consent binds the place, the user, the commitment,
/// both nullifiers, the session, the user's consent nonce (s20-fixconsent) and the deadline she
/// signed (s21-cdl); the ledger's domain (chain, address); one encoding (low s,
/// 65 bytes); a contract user consents by its ERC-1271 answer for exactly this digest. Each
/// refusal leaves the ledger as it was (no registration recorded).
contract CredentialLedgerSignatureTest is MssaWiredBase {
    uint256 internal constant USER_KEY = 0xA11CE;
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes32 internal constant PL2 = keccak256("PL2");
    bytes32 internal constant TYPEHASH = keccak256(
        "Registration(bytes32 place,address user,bytes32 commitment,bytes32 nullifier,bytes32 electorNullifier,bytes32 session,uint256 nonce,uint256 deadline)"
    );

    struct Reg {
        bytes32 place;
        address user;
        bytes32 commitment;
        bytes32 nullifier;
        bytes32 electorNullifier;
        bytes32 session;
        /// the user's consentNonce the consent is signed under (not sent: the ledger uses its current one)
        uint256 nonce;
        /// the deadline the consent is signed under, and sent to `propose`
        uint256 deadline;
    }

    function _domain(uint256 chainId, address verifying) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                    keccak256("metatrust MSSA CredentialLedger"),
                    keccak256("1"),
                    chainId,
                    verifying
                )
            );
    }

    function _digest(bytes32 domain, Reg memory g) internal pure returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                TYPEHASH,
                g.place,
                g.user,
                g.commitment,
                g.nullifier,
                g.electorNullifier,
                g.session,
                g.nonce,
                g.deadline
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _sig(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, sv);
    }

    function _propose(Reg memory g, bytes memory sig) internal returns (bytes32) {
        vm.prank(A);
        return
            ledger.propose(g.place, g.user, g.commitment, g.nullifier, g.electorNullifier, g.session, g.deadline, sig);
    }

    function _expectBadSignature(address user) internal {
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__BadUserSignature.selector, user));
    }

    /// Nothing recorded for `g`: no registration under its id, and none approved at all.
    function _assertNothingRecorded(Reg memory g) internal view {
        bytes32 id = ledger.registrationId(g.place, g.user, g.commitment);
        assertEq(uint256(ledger.registration(id).status), uint256(ICredentialLedger.Status.None), "proposed");
        (, uint64 count) = ledger.head();
        assertEq(count, 0, "a registration was approved");
    }

    function _reg(bytes32 c, bytes32 n, bytes32 en, bytes32 session) internal view returns (Reg memory) {
        return Reg(PL, vm.addr(USER_KEY), c, n, en, session, 0, block.timestamp + 1 days);
    }

    /// An authority of two places proposes the user's consent with one field changed: the place, the
    /// user, the commitment, the place nullifier, the election nullifier, the session or the deadline
    /// (to another one the ledger would take: s21-cdl); or the consent was signed under another
    /// nonce than the user's current one (s20-redm F3). Each is
    /// refused as the changed user's bad signature, and nothing is recorded; the consent as signed
    /// is then accepted (the refusal is the changed field's, not the setup's).
    function testFuzz_propose_theConsentBindsEveryField(
        uint8 which,
        bytes32 c,
        bytes32 n,
        bytes32 en,
        bytes32 session,
        bytes32 other
    ) public {
        vm.assume(c != bytes32(0) && n != bytes32(0) && other != bytes32(0));
        address[] memory auths = new address[](3);
        (auths[0], auths[1], auths[2]) = (A, B, C);
        vm.prank(ADMIN);
        ledger.setPlace(PL2, auths, 2);
        Reg memory signed = _reg(c, n, en, session);
        bytes memory sig = _sig(USER_KEY, _digest(_domain(block.chainid, address(ledger)), signed));
        Reg memory sent = _reg(c, n, en, session);
        bytes memory sentSig = sig;
        which = uint8(bound(which, 0, 7));
        if (which == 0) sent.place = PL2;
        else if (which == 1) sent.user = address(uint160(uint256(keccak256(abi.encode(other)))));
        else if (which == 2) sent.commitment = other;
        else if (which == 3) sent.nullifier = other;
        else if (which == 4) sent.electorNullifier = other;
        else if (which == 5) sent.session = other;
        else if (which == 7)
            // still within what the ledger takes (now .. now + CONSENT_TTL): the signature refuses it
            sent.deadline = block.timestamp + bound(uint256(other), 0, CONSENT_TTL);
        else {
            // the same registration, signed under a nonce the ledger is not at (0 now)
            Reg memory stale = _reg(c, n, en, session);
            stale.nonce = uint256(other);
            sentSig = _sig(USER_KEY, _digest(_domain(block.chainid, address(ledger)), stale));
        }
        vm.assume(which == 6 || keccak256(abi.encode(sent)) != keccak256(abi.encode(signed)));
        vm.assume(sent.user != address(0));
        // an election nullifier a member holds is refused before the signature (ElectorNullifierTaken,
        // tested in MssaOneElectorPerPersonTest); every member holds one since s20-redm F5
        vm.assume(e.electorOf(sent.electorNullifier) == address(0) && e.electorOf(en) == address(0));
        _expectBadSignature(sent.user);
        _propose(sent, sentSig);
        _assertNothingRecorded(sent);
        bytes32 id = _propose(signed, sig);
        assertEq(uint256(ledger.registration(id).status), uint256(ICredentialLedger.Status.Pending), "the consent");
    }

    /// The user's consent made for another chain or another ledger deployment is refused here.
    function testFuzz_propose_refusesAConsentForAnotherDomain(
        uint256 otherChain,
        address otherLedger,
        bool byChain
    ) public {
        otherChain = bound(otherChain, 1, type(uint64).max);
        vm.assume(otherChain != block.chainid && otherLedger != address(ledger));
        Reg memory g = _reg(keccak256("c"), keccak256("n"), bytes32(0), keccak256("s"));
        bytes32 domain = byChain ? _domain(otherChain, address(ledger)) : _domain(block.chainid, otherLedger);
        _expectBadSignature(g.user);
        _propose(g, _sig(USER_KEY, _digest(domain, g)));
        _assertNothingRecorded(g);
    }

    /// A relay (or the proposing authority) replaces the user's signature by its high-s twin, which
    /// ecrecover maps to the same user, or cuts or pads it (a 64-byte compact form included):
    /// refused, nothing recorded.
    function testFuzz_propose_oneEncodingOnly(uint256 len, bool twin) public {
        Reg memory g = _reg(keccak256("c"), keccak256("n"), bytes32(0), keccak256("s"));
        bytes32 digest = _digest(_domain(block.chainid, address(ledger)), g);
        (uint8 sv, bytes32 r, bytes32 s) = vm.sign(USER_KEY, digest);
        bytes memory sig;
        if (twin) {
            sig = abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), sv == 27 ? uint8(28) : uint8(27));
            assertEq(ecrecover(digest, uint8(sig[64]), r, bytes32(SECP256K1_N - uint256(s))), g.user, "not a twin");
        } else {
            len = bound(len, 0, 130);
            vm.assume(len != 65);
            bytes memory good = abi.encodePacked(r, s, sv);
            sig = new bytes(len);
            for (uint256 i; i < len && i < 65; ++i) sig[i] = good[i];
            // the 64-byte form is EIP-2098's r || (v - 27) << 255 | s
            if (len == 64) sig = abi.encodePacked(r, bytes32(uint256(s) | (uint256(sv - 27) << 255)));
        }
        _expectBadSignature(g.user);
        _propose(g, sig);
        _assertNothingRecorded(g);
        bytes32 id = _propose(g, abi.encodePacked(r, s, sv));
        assertEq(uint256(ledger.registration(id).status), uint256(ICredentialLedger.Status.Pending), "the original");
    }

    /// A contract user consents through ERC-1271, for exactly the digest its owner approved: the
    /// same registration with another session is refused, the approved one proposed.
    function testFuzz_propose_aContractUserConsentsByERC1271(bytes32 session, bytes32 other, bytes memory junk) public {
        vm.assume(session != other);
        ConsentingWallet w = new ConsentingWallet();
        Reg memory g = Reg(PL, address(w), keccak256("c"), keccak256("n"), bytes32(0), session, 0, _deadline());
        w.approve(_digest(_domain(block.chainid, address(ledger)), g));
        Reg memory elsewhere = Reg(PL, address(w), keccak256("c"), keccak256("n"), bytes32(0), other, 0, _deadline());
        _expectBadSignature(address(w));
        _propose(elsewhere, junk);
        _assertNothingRecorded(elsewhere);
        bytes32 id = _propose(g, junk);
        assertEq(ledger.registration(id).user, address(w), "the wallet's registration");
    }
}
