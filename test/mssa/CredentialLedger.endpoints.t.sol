// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {CredentialLedger} from "../../contracts/mssa/CredentialLedger.sol";
import {ICredentialLedger} from "../../contracts/interfaces/ICredentialLedger.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice The election as the ledger sees it, with the sitting set in the test's hands (not wired:
/// the ledger holds no REGISTRAR_ROLE here, so it enrols nobody).
contract SeatsStub {
    mapping(address account => bool) public isAuthority;

    function reseat(address account, bool sits) external {
        isAuthority[account] = sits;
    }

    function hasRole(bytes32, address) external pure returns (bool) {
        return false;
    }
}

/// @notice Service discovery for place authorities (issue 19): each authority of a place, and only
/// it, announces the endpoint of its service; an authority that leaves the place loses it.
contract CredentialLedgerEndpointsTest is Test {
    address internal constant ADMIN = address(0xAD);
    address internal constant A = address(0xA000);
    address internal constant B = address(0xA001);
    address internal constant C = address(0xA002);
    address internal constant OUTSIDER = address(0x0B5E);
    bytes32 internal constant PL = keccak256("PL");
    bytes32 internal constant PL2 = keccak256("PL2");

    CredentialLedger internal ledger;
    SeatsStub internal seats;

    event AuthorityEndpointSet(bytes32 indexed place, address indexed authority, string oldEndpoint, string endpoint);

    function setUp() public {
        seats = new SeatsStub();
        ledger = new CredentialLedger(ADMIN, IAuthorityElection(address(seats)));
        seats.reseat(A, true);
        seats.reseat(B, true);
        _setPlace(PL, A, B);
    }

    function _setPlace(bytes32 place, address x, address y) internal {
        address[] memory auths = new address[](2);
        (auths[0], auths[1]) = (x, y);
        vm.prank(ADMIN);
        ledger.setPlace(place, auths, 2);
    }

    function _eq(string memory a, string memory b) internal pure returns (bool) {
        return keccak256(bytes(a)) == keccak256(bytes(b));
    }

    function test_anAuthorityAnnouncesAndReplacesItsEndpoint() public {
        vm.expectEmit();
        emit AuthorityEndpointSet(PL, A, "", "http://127.0.0.1:8545");
        vm.prank(A);
        ledger.setAuthorityEndpoint(PL, "http://127.0.0.1:8545");
        assertTrue(_eq(ledger.authorityEndpoint(PL, A), "http://127.0.0.1:8545"), "announced");
        vm.expectEmit();
        emit AuthorityEndpointSet(PL, A, "http://127.0.0.1:8545", "https://pl-a.example.org");
        vm.prank(A);
        ledger.setAuthorityEndpoint(PL, "https://pl-a.example.org");
        (address[] memory auths, string[] memory eps) = ledger.authorityEndpoints(PL);
        assertEq(auths.length, 2, "two authorities");
        assertEq(auths[0], A, "in the place's order");
        assertTrue(_eq(eps[0], "https://pl-a.example.org"), "replaced");
        assertTrue(_eq(eps[1], ""), "B announced none");
        // one place's endpoint is not another's
        assertTrue(_eq(ledger.authorityEndpoint(PL2, A), ""), "no endpoint at another place");
    }

    function test_anAuthorityOutOfItsElectionSeatStillAnnounces() public {
        // every authority of the place issues one-time keys, seated or not: it must be reachable
        seats.reseat(B, false);
        vm.prank(B);
        ledger.setAuthorityEndpoint(PL, "http://b");
        assertTrue(_eq(ledger.authorityEndpoint(PL, B), "http://b"), "announced");
    }

    function test_aNonAuthorityCannotAnnounceAndNothingChanges() public {
        vm.prank(A);
        ledger.setAuthorityEndpoint(PL, "http://a");
        vm.prank(OUTSIDER);
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialLedger.CredentialLedger__NotPlaceAuthority.selector, PL, OUTSIDER)
        );
        ledger.setAuthorityEndpoint(PL, "http://evil");
        // nor an authority of one place at another place, nor the place's admin
        _setPlace(PL2, B, C);
        vm.prank(A);
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__NotPlaceAuthority.selector, PL2, A));
        ledger.setAuthorityEndpoint(PL2, "http://a");
        vm.prank(ADMIN);
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialLedger.CredentialLedger__NotPlaceAuthority.selector, PL, ADMIN)
        );
        ledger.setAuthorityEndpoint(PL, "http://admin");
        assertTrue(_eq(ledger.authorityEndpoint(PL, A), "http://a"), "A's endpoint unchanged");
        assertTrue(_eq(ledger.authorityEndpoint(PL, OUTSIDER), ""), "no endpoint for the outsider");
        assertTrue(_eq(ledger.authorityEndpoint(PL2, A), ""), "no endpoint for A at PL2");
    }

    function test_anUnknownPlaceIsRefused() public {
        bytes32 nowhere = keccak256("nowhere");
        vm.prank(A);
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__UnknownPlace.selector, nowhere));
        ledger.setAuthorityEndpoint(nowhere, "http://a");
    }

    function test_anEmptyOrOversizedEndpointIsRefused() public {
        vm.prank(A);
        ledger.setAuthorityEndpoint(PL, "http://a");
        vm.prank(A);
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__InvalidEndpoint.selector, PL, 0));
        ledger.setAuthorityEndpoint(PL, "");
        bytes memory big = new bytes(ledger.MAX_ENDPOINT_BYTES() + 1);
        for (uint256 i; i < big.length; ++i) big[i] = "x";
        vm.prank(A);
        vm.expectRevert(
            abi.encodeWithSelector(ICredentialLedger.CredentialLedger__InvalidEndpoint.selector, PL, big.length)
        );
        ledger.setAuthorityEndpoint(PL, string(big));
        assertTrue(_eq(ledger.authorityEndpoint(PL, A), "http://a"), "unchanged");
        // the longest one fits
        bytes memory max = new bytes(ledger.MAX_ENDPOINT_BYTES());
        for (uint256 i; i < max.length; ++i) max[i] = "y";
        vm.prank(A);
        ledger.setAuthorityEndpoint(PL, string(max));
        assertTrue(_eq(ledger.authorityEndpoint(PL, A), string(max)), "256 bytes");
    }

    function test_aFormerAuthorityLosesItsEndpointAndCannotAnnounceAgain() public {
        vm.prank(A);
        ledger.setAuthorityEndpoint(PL, "http://a");
        vm.prank(B);
        ledger.setAuthorityEndpoint(PL, "http://b");
        // the place's authorities change: A leaves, B stays, C joins
        vm.expectEmit();
        emit AuthorityEndpointSet(PL, A, "http://a", "");
        _setPlace(PL, B, C);
        assertTrue(_eq(ledger.authorityEndpoint(PL, A), ""), "A's endpoint cleared");
        assertTrue(_eq(ledger.authorityEndpoint(PL, B), "http://b"), "B's endpoint kept");
        (address[] memory auths, string[] memory eps) = ledger.authorityEndpoints(PL);
        assertEq(auths[0], B, "B first");
        assertTrue(_eq(eps[0], "http://b") && _eq(eps[1], ""), "B's and C's (none) endpoints");
        vm.prank(A);
        vm.expectRevert(abi.encodeWithSelector(ICredentialLedger.CredentialLedger__NotPlaceAuthority.selector, PL, A));
        ledger.setAuthorityEndpoint(PL, "http://a-again");
        assertTrue(_eq(ledger.authorityEndpoint(PL, A), ""), "still none");
        // brought back by the admin, A starts without an endpoint and announces again
        _setPlace(PL, A, B);
        assertTrue(_eq(ledger.authorityEndpoint(PL, A), ""), "no stale endpoint");
        vm.prank(A);
        ledger.setAuthorityEndpoint(PL, "http://a2");
        assertTrue(_eq(ledger.authorityEndpoint(PL, A), "http://a2"), "announced again");
    }

    /// Fuzz: whoever calls, the endpoint is stored only when the caller is one of the place's
    /// authorities and the endpoint is 1 to MAX_ENDPOINT_BYTES bytes long; otherwise nothing changes.
    function testFuzz_onlyAPlaceAuthorityWithAValidEndpointWrites(address caller, uint256 len) public {
        len = bound(len, 0, ledger.MAX_ENDPOINT_BYTES() + 8);
        bytes memory ep = new bytes(len);
        for (uint256 i; i < len; ++i) ep[i] = "z";
        bool ok = (caller == A || caller == B) && len > 0 && len <= ledger.MAX_ENDPOINT_BYTES();
        vm.prank(caller);
        (bool success, ) = address(ledger).call(abi.encodeCall(ledger.setAuthorityEndpoint, (PL, string(ep))));
        assertTrue(success == ok, "accepted exactly when valid");
        assertTrue(_eq(ledger.authorityEndpoint(PL, caller), ok ? string(ep) : ""), "stored exactly when accepted");
    }
}
