// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {personOf, personsOf} from "../helpers/forge/Persons.sol";
import {AuthorityElection} from "../../contracts/mssa/AuthorityElection.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice The election the attack suites start from: three genesis authorities A, B, C (m = 3,
/// quorum 2; nomination and voting PERIOD seconds each; caps [5, 10, 10, 3], weights [0.4, 0.3,
/// 0.2, 0.3]), a detector, and ten enrolled electors v[0..9] (addresses 0xB00..0xB09).
abstract contract ElectionFixture is Test {
    address internal constant ADMIN = address(0xAD);
    address internal constant DETECTOR = address(0xDE7EC7);
    // genesis authorities (m = 3, quorum 2)
    address internal constant A = address(0xA1);
    address internal constant B = address(0xA2);
    address internal constant C = address(0xA3);
    uint256 internal constant PERIOD = 100;

    AuthorityElection internal e;
    address[10] internal v; // ten voters

    function setUp() public virtual {
        address[] memory genesis = new address[](3);
        (genesis[0], genesis[1], genesis[2]) = (A, B, C);
        uint16[4] memory caps = [uint16(5), 10, 10, 3];
        uint64[4] memory weights = [uint64(4e17), 3e17, 2e17, 3e17];
        e = new AuthorityElection(
            ADMIN,
            IAuthorityElection.Params(3, 2, uint32(PERIOD), uint32(PERIOD), caps, weights),
            genesis,
            personsOf(genesis)
        );
        vm.startPrank(ADMIN);
        e.grantRole(e.DETECTOR_ROLE(), DETECTOR);
        for (uint256 i; i < 10; ++i) {
            v[i] = address(uint160(0xB00 + i));
            e.enrolElector(v[i], personOf(v[i]));
        }
        vm.stopPrank();
    }
}
