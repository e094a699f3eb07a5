// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MssaWiredBase} from "./MssaRedTeam.t.sol";
import {personOf} from "../helpers/forge/Persons.sol";
import {AuthorityElection} from "../../contracts/mssa/AuthorityElection.sol";
import {IAuthorityElection} from "../../contracts/interfaces/IAuthorityElection.sol";

/// @notice s20-redm F5 (severity M, fixed in s20-f5): every member carries an election nullifier,
/// so one person is one member whatever way she came in (docs/specs/mssa.md §1.8).
///
/// The attack (red team): genesis authority A (a person, "a") registers her own account Y at place
/// PL with her genuine passport and `--elector`. A was enrolled by the constructor, which carried no
/// e, so E_a was held by nobody: `propose` and `enrolElector` found it free, honest authorities
/// approved, and Y became a second member of one person: a second nomination and ballot in every
/// round, and with A and Y both elected, the report quorum (2) alone. The registrar's `enrol(member)`
/// (mssa:enrol) made such members too.
///
/// Fixed: the constructor takes the genesis authorities' election nullifiers (non-zero, distinct)
/// and the registrar's only enrolment is `enrolElector(member, e)`, e computed by the operator with
/// the election key from the member's identity document. The person's second account is refused
/// ElectorNullifierTaken(e, holder) and nothing changes.
///
/// Bites (checked in s20-f5): with the constructor's binding replaced by a bare membership,
/// test_aGenesisAuthorityRegistersASecondElectorAccount fails (propose does not revert; Y becomes a
/// member); with the holder check removed from the election's enrolment, the two registrar tests fail.
contract EveryMemberIsAPersonTest is MssaWiredBase {
    uint256 internal constant Y_KEY = 0xA1A1;

    /// a's second account Y, with a's genuine passport (so her e), at place PL
    function _proposeAsSecondAccount(bytes32 ea) internal returns (bytes32 id) {
        bytes32 c = keccak256("commitment of Y");
        bytes32 n = keccak256("a's place nullifier at PL");
        bytes memory sig = _consent(PL, Y_KEY, c, n, ea);
        vm.prank(B); // an honest authority verified a's genuine documents
        id = ledger.propose(PL, vm.addr(Y_KEY), c, n, ea, c, _deadline(), sig);
    }

    /// The red team's scenario, for a genesis authority: refused at propose, nothing changes.
    function test_aGenesisAuthorityRegistersASecondElectorAccount() public {
        bytes32 ea = personOf(A); // HMAC(electionKey, "metatrust MSSA elector" || a's passport)
        uint256 members = e.memberCount();
        vm.expectRevert(
            abi.encodeWithSelector(IAuthorityElection.AuthorityElection__ElectorNullifierTaken.selector, ea, A)
        );
        this.proposeAsSecondAccount(ea);
        assertTrue(e.isMember(A), "A is a member");
        assertTrue(!e.isMember(vm.addr(Y_KEY)), "one person, two members: A (genesis) and Y (elector registration)");
        assertEq(e.memberCount(), members, "nothing changed");
        assertEq(e.electorOf(ea), A, "the genesis authority holds its person's e");
    }

    /// A member the registrar enrolled (mssa:enrol) holds her e: her elector registration under
    /// another account is refused the same way.
    function test_aRegistrarEnrolledMemberRegistersASecondElectorAccount() public {
        address m = address(0xCAFE);
        bytes32 em = keccak256("m's election nullifier");
        vm.prank(ADMIN);
        e.enrolElector(m, em);
        uint256 members = e.memberCount();
        vm.expectRevert(
            abi.encodeWithSelector(IAuthorityElection.AuthorityElection__ElectorNullifierTaken.selector, em, m)
        );
        this.proposeAsSecondAccount(em);
        assertTrue(!e.isMember(vm.addr(Y_KEY)), "one person, two members: m (registrar) and Y (elector registration)");
        assertEq(e.memberCount(), members, "nothing changed");
    }

    /// The registrar enrolling one person's e for a second account is refused and changes nothing.
    function test_theRegistrarEnrolsOnePersonTwice() public {
        address m1 = address(0xCAFE);
        address m2 = address(0xCAFF);
        bytes32 em = keccak256("m's election nullifier");
        vm.startPrank(ADMIN);
        e.enrolElector(m1, em);
        uint256 members = e.memberCount();
        vm.expectRevert(
            abi.encodeWithSelector(IAuthorityElection.AuthorityElection__ElectorNullifierTaken.selector, em, m1)
        );
        e.enrolElector(m2, em);
        // nor a genesis authority's person
        vm.expectRevert(
            abi.encodeWithSelector(IAuthorityElection.AuthorityElection__ElectorNullifierTaken.selector, personOf(B), B)
        );
        e.enrolElector(m2, personOf(B));
        vm.stopPrank();
        assertTrue(!e.isMember(m2), "one person, two members: m1 and m2");
        assertEq(e.memberCount(), members, "nothing changed");
        assertEq(e.electorOf(em), m1, "m1 holds e");
        assertEq(e.electorNullifierOf(m2), bytes32(0), "m2 holds nothing");
    }

    /// The genesis list is one person per authority: a zero, repeated or missing nullifier is refused.
    function test_theGenesisListCarriesOneDistinctNullifierPerAuthority() public {
        address[] memory g = new address[](2);
        (g[0], g[1]) = (A, B);
        IAuthorityElection.Params memory p = e.params();
        p.reportQuorum = 2;
        bytes32[] memory en = new bytes32[](2);
        (en[0], en[1]) = (personOf(A), personOf(A));
        vm.expectRevert(
            abi.encodeWithSelector(IAuthorityElection.AuthorityElection__ElectorNullifierTaken.selector, personOf(A), A)
        );
        new AuthorityElection(ADMIN, p, g, en);
        en[1] = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(IAuthorityElection.AuthorityElection__ZeroElectorNullifier.selector, B));
        new AuthorityElection(ADMIN, p, g, en);
        vm.expectRevert(IAuthorityElection.AuthorityElection__InvalidParams.selector);
        new AuthorityElection(ADMIN, p, g, new bytes32[](1));
        en[1] = personOf(B);
        AuthorityElection ok = new AuthorityElection(ADMIN, p, g, en);
        assertEq(ok.electorOf(personOf(A)), A, "A holds a's e");
        assertEq(ok.electorNullifierOf(B), personOf(B), "B holds b's e");
    }

    /// external, so that vm.expectRevert applies to the propose inside (after _consent's view calls)
    function proposeAsSecondAccount(bytes32 ea) external returns (bytes32) {
        return _proposeAsSecondAccount(ea);
    }
}
