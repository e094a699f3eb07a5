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
    uint256 internal constant PERIOD = 600; // MIN_PERIOD (s23-rtm F4)

    AuthorityElection internal e;
    address[10] internal v; // ten voters
    /// @dev the round the test opened last (nominations and ballots name it, s23-rtm F2)
    uint256 internal rnd;

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

    /// @dev `x` stands in round `rnd` (s23-rtm F3: only a member who stands can be nominated)
    function _stand(address x) internal {
        if (e.isStanding(rnd, x)) return;
        vm.prank(x);
        e.stand(rnd);
    }
}
