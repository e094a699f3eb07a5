// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TrustManagerFixture} from "./TrustManager.t.sol";
import {ITrustManager} from "../../contracts/interfaces/ITrustManager.sol";

/// @notice The reclaim suites' set-up: an owner (USER_A's account), her first avatar, the squatted
/// owl, a bystander, the registrar's attestations (TrustManager.reclaim.t.sol,
/// TrustManager.selfAttest.t.sol).
abstract contract TrustManagerReclaimFixture is TrustManagerFixture {
    uint256 internal constant REGISTRAR_KEY = 0xA77E57;
    bytes32 internal constant IDP_ROLE = keccak256("IDP_ROLE");
    bytes16 internal constant TAG = bytes16(keccak256("reclaim owner"));
    uint256 internal t0;
    bytes32 internal first; // the owner's attested avatar (reclaimAvatar case)
    bytes32 internal owl; // the squatted avatar
    bytes32 internal bystander; // never rates, never rated: what a stranger sees
    address internal squatter;

    function setUp() public {
        vm.roll(100);
        t0 = 1_700_000_000;
        vm.warp(t0);
        _deploy();
        stubAvatar.grant(IDP_ROLE, vm.addr(REGISTRAR_KEY));
        first = bytes32(TAG) | bytes32(uint256(1));
        owl = bytes32(TAG) | bytes32(uint256(2));
        bystander = keccak256("bystander");
        squatter = actors[STRANGER];
        vm.prank(vm.addr(0xB157));
        tm.register(bystander, ITrustManager.Kind.Organization);
        vm.roll(101);
    }

    function _attest(bytes32 id, address controller) internal view returns (bytes memory) {
        return
            _sign712(
                REGISTRAR_KEY,
                keccak256(
                    abi.encode(tm.REGISTRATION_TYPEHASH(), id, ITrustManager.Kind.Avatar, controller, t0 + 400 days)
                )
            );
    }

    /// The IdP's reclaim attestation (`AvatarReclaim`) for `controller` at the id's `generation`.
    function _attestReclaim(bytes32 id, address controller, uint256 generation) internal view returns (bytes memory) {
        return
            _sign712(
                REGISTRAR_KEY,
                keccak256(abi.encode(tm.RECLAIM_TYPEHASH(), id, controller, generation, t0 + 400 days))
            );
    }

    /// The owner (USER_A's account) takes owl back: as a further avatar (`reclaimAvatar`, after her
    /// first is attested) or as her first (`registerAttested`).
    function _reclaim(bool viaAttested) internal {
        address owner = actors[USER_A];
        stubAvatar.set(owl, true);
        uint256 g = tm.generationOf(owl);
        bytes memory a = viaAttested ? _attest(owl, owner) : _attestReclaim(owl, owner, g);
        vm.prank(owner);
        if (viaAttested) tm.registerAttested(owl, ITrustManager.Kind.Avatar, t0 + 400 days, a);
        else tm.reclaimAvatar(owl, g, t0 + 400 days, a);
    }

    function _isEmpty(ITrustManager.Pair memory p) internal pure returns (bool) {
        return p.trust == 0 && p.updatedAt == 0 && p.ratings == 0 && p.oracle == 0;
    }

    /// An agreement of `org` (USER_B's) with owl alone, owl's controller consenting.
    function _agree(bytes32 org, address controller, uint64 threshold, uint256 salt) internal {
        bytes32[] memory a = new bytes32[](1);
        a[0] = owl;
        uint64[] memory t = new uint64[](1);
        t[0] = threshold;
        bytes32 terms = keccak256(abi.encode("terms", salt));
        bytes[] memory sig = new bytes[](1);
        sig[0] = _sign712(
            _keyOf(controller),
            _consentHash(org, a, t, terms, tm.agreementNonce(org), type(uint256).max)
        );
        vm.prank(actors[USER_B]);
        tm.proposeAgreement(org, a, t, terms, ITrustManager.Consents(type(uint256).max, sig));
    }

    /// A valid 6-factor vector from a seed (each lane <= 10,000 basis points).
    function _factors(uint256 seed) internal pure returns (uint256 f) {
        for (uint256 k; k < FACTORS; ++k)
            f |= (seed == type(uint256).max ? BPS : uint256(keccak256(abi.encode(seed, k))) % (BPS + 1)) << (16 * k);
    }
}

/// @notice A reclaimed id starts afresh (h12-red2's finding R1, docs/specs/trust.md §6): nothing
/// written while a squatter controlled an avatar is read after its owner takes it back, through
/// `reclaimAvatar` or `registerAttested`: neither the pairs the squatter wrote as the avatar nor
/// those others wrote about it (values, rating counts and epoch markers, oracle terms), nor the
/// agreement credits it received; the owner and the raters rate at once. The hardhat suite
/// (test/trust/reclaim-history.test.ts) runs the same through the MIT registry and the pipeline.
contract TrustManagerReclaimTest is TrustManagerReclaimFixture {
    /// The squatter rates two entities of USER_B as owl, USER_B's entities rate owl, the oracle
    /// sets terms both ways, any number of epochs pass (or none), the owner reclaims owl: every
    /// pair of owl reads as never written, owl's trust in its targets and theirs in owl are a
    /// stranger's, and the owner and the raters each rate at once.
    function testFuzz_reclaim_nothingWrittenBeforeIsReadAfter(
        uint256 factorSeed,
        uint256 ratingsSeed,
        int64 oracle,
        uint32 dt,
        bool viaAttested
    ) public {
        oracle = int64(
            int256(bound(uint256(int256(oracle) + int256(uint256(type(uint64).max))), 0, 2 * WAD)) - int256(WAD)
        );
        uint256 rounds = bound(ratingsSeed, 1, 3);
        if (!viaAttested) {
            stubAvatar.set(first, true);
            bytes memory a = _attest(first, actors[USER_A]);
            vm.prank(actors[USER_A]);
            tm.registerAttested(first, ITrustManager.Kind.Avatar, t0 + 400 days, a);
        }
        vm.prank(squatter);
        tm.register(owl, ITrustManager.Kind.Avatar);
        bytes32[2] memory targets = [ids[1], ids[2]]; // USER_B's avatar and organization
        uint256 time = t0; // kept here: a read of block.timestamp after vm.warp is not reliable under via-IR
        for (uint256 r; r < rounds; ++r) {
            for (uint256 k; k < 2; ++k) {
                uint256 f = _factors(uint256(keccak256(abi.encode(factorSeed, r, k))));
                vm.prank(squatter);
                tm.rate(owl, targets[k], f, bytes32(0), bytes32(0), 0, 0);
                vm.prank(actors[USER_B]);
                tm.rate(targets[k], owl, f, bytes32(0), bytes32(0), 0, 0);
            }
            time += EPOCH;
            vm.warp(time);
        }
        vm.startPrank(actors[ORACLE]);
        tm.setOracle(owl, targets[1], oracle, tm.generationOf(owl), tm.generationOf(targets[1]));
        tm.setOracle(targets[1], owl, oracle, tm.generationOf(targets[1]), tm.generationOf(owl));
        vm.stopPrank();
        vm.warp(time + (dt % (3 * EPOCH)));
        vm.roll(102);

        _reclaim(viaAttested);
        assertEq(tm.generationOf(owl), 1, "generation");
        assertEq(tm.registeredAt(owl), 101, "the age stays (docs/specs/trust.md section 6)");
        for (uint256 k; k < 2; ++k) {
            assertTrue(_isEmpty(tm.pairOf(owl, targets[k])), "a pair the squatter wrote as owl");
            assertTrue(_isEmpty(tm.pairOf(targets[k], owl)), "a pair written about the squatter's owl");
            assertEq(tm.trustOf(owl, targets[k]), tm.trustOf(bystander, targets[k]), "owl's trust is the squatter's");
            assertEq(tm.trustOf(targets[k], owl), tm.trustOf(bystander, owl), "trust in owl is the squatter's");
        }
        // a rating built for the squatter's owl (its era, generation 0) and mined now is refused,
        // and writes nothing: not on the owner's fresh pair (h16-red2 R6)
        for (uint256 k; k < 2; ++k) {
            vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__StaleEra.selector, owl, 0, 1));
            vm.prank(actors[USER_B]);
            tm.rate(targets[k], owl, _factors(factorSeed), bytes32(0), bytes32(0), 0, 0);
            assertTrue(_isEmpty(tm.pairOf(targets[k], owl)), "a stale rating wrote the owner's pair");
        }
        // the epoch markers are not the owner's: she and the raters rate at once
        for (uint256 k; k < 2; ++k) {
            vm.prank(actors[USER_A]);
            tm.rate(owl, targets[k], _factors(factorSeed), bytes32(0), bytes32(0), 1, 0);
            vm.prank(actors[USER_B]);
            tm.rate(targets[k], owl, _factors(factorSeed), bytes32(0), bytes32(0), 0, 1);
            assertEq(tm.pairOf(owl, targets[k]).ratings, 1, "owner's rating count");
            assertEq(tm.pairOf(targets[k], owl).ratings, 1, "rater's rating count");
        }
        // the squatter cannot write as owl any more
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__NotController.selector, owl, squatter));
        vm.prank(squatter);
        tm.rate(owl, bystander, _factors(factorSeed), bytes32(0), bytes32(0), 1, 0);
    }

    /// s18-fixo: a detector's withdrawal of a flag it set on the squatter's owl, mined after the
    /// owner reclaimed owl and after owl's new era was flagged for the same kind, is refused
    /// (StaleEra) and leaves the new era's flag; one naming the new era clears it.
    function testFuzz_reclaim_unflagOfTheOldEraLeavesTheNewEraFlag(uint8 kind, bool viaAttested) public {
        kind = uint8(bound(kind, 0, 6));
        if (!viaAttested) {
            stubAvatar.set(first, true);
            bytes memory a = _attest(first, actors[USER_A]);
            vm.prank(actors[USER_A]);
            tm.registerAttested(first, ITrustManager.Kind.Avatar, t0 + 400 days, a);
        }
        vm.prank(squatter);
        tm.register(owl, ITrustManager.Kind.Avatar);
        vm.prank(actors[DETECTOR]);
        tm.flag(owl, kind, bytes32(0), 0);
        _reclaim(viaAttested);
        assertEq(tm.entity(owl).flags & 0x7f, 0, "the reclaim cleared the squatter's flags");
        vm.prank(actors[DETECTOR]);
        tm.flag(owl, kind, bytes32(0), 1); // the owner's own era, detected afresh
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__StaleEra.selector, owl, 0, 1));
        vm.prank(actors[DETECTOR]);
        tm.unflag(owl, kind, 0, 1); // the squatter's instance
        assertEq(tm.entity(owl).flags & 0x7f, uint8(1 << kind), "the new era's flag stays");
        vm.prank(actors[DETECTOR]);
        tm.unflag(owl, kind, 1, 2);
        assertEq(tm.entity(owl).flags & 0x7f, 0, "a withdrawal naming the new era clears it");
    }

    /// Credits an organization's agreements gave the squatter's owl (its lifetime cap, its once-an-
    /// epoch marker) are not the owner's: after the reclaim the same organization credits her owl
    /// in the same epoch, from a fresh cap.
    function testFuzz_reclaim_creditsStartAfresh(uint64 threshold, bool viaAttested) public {
        threshold = uint64(bound(threshold, 0, TRUST_MIN));
        if (!viaAttested) {
            stubAvatar.set(first, true);
            bytes memory a = _attest(first, actors[USER_A]);
            vm.prank(actors[USER_A]);
            tm.registerAttested(first, ITrustManager.Kind.Avatar, t0 + 400 days, a);
        }
        vm.prank(squatter);
        tm.register(owl, ITrustManager.Kind.Avatar);
        bytes32 org = ids[2]; // USER_B's organization, verified and mature: it has standing
        vm.startPrank(actors[ADMIN]);
        tm.setIdentityVerified(org, true);
        // only identity-verified avatars are credited (s20-redt F1): the squatter's owl is verified
        tm.setIdentityVerified(owl, true);
        vm.stopPrank();
        vm.roll(101 + CREDIT_MATURITY + 1);
        // owl trusts the organization fully, so an agreement credits it
        vm.prank(squatter);
        tm.rate(owl, org, _factors(type(uint256).max), bytes32(0), bytes32(0), 0, 0);
        _agree(org, squatter, threshold, 1);
        ITrustManager.Credit memory c = tm.creditOf(org, owl);
        assertLt(0, c.total, "precondition: the squatter's owl was credited");

        vm.roll(101 + CREDIT_MATURITY + 2);
        _reclaim(viaAttested);
        assertEq(tm.creditOf(org, owl).total, 0, "the squatter's credits are the owner's");
        assertEq(tm.creditOf(org, owl).at, 0, "the squatter's credit marker is the owner's");
        // a further avatar reclaimed with reclaimAvatar starts unverified: the admin verifies it
        if (!viaAttested) {
            vm.prank(actors[ADMIN]);
            tm.setIdentityVerified(owl, true);
        }
        vm.prank(actors[USER_A]);
        tm.rate(owl, org, _factors(type(uint256).max), bytes32(0), bytes32(0), 1, 0);
        uint64 before = tm.entity(owl).reputation;
        _agree(org, actors[USER_A], threshold, 2);
        assertLt(before, tm.entity(owl).reputation, "the owner's owl is credited in the squatter's epoch");
        assertLt(0, tm.creditOf(org, owl).total, "a fresh credit");
    }

    /// An owner moves her further avatar between her two accounts, with a fresh attestation for each
    /// move (one attestation, one reclaim: h14-red F5): each move is a reclaim and a new generation,
    /// up to 255; the 256th is refused (`GenerationsExhausted`) and changes nothing, so a generation
    /// never wraps back to an earlier era's pairs.
    function test_reclaim_generationsEndAt255() public {
        stubAvatar.set(first, true);
        bytes memory a = _attest(first, actors[USER_A]);
        vm.prank(actors[USER_A]);
        tm.registerAttested(first, ITrustManager.Kind.Avatar, t0 + 400 days, a);
        vm.prank(squatter);
        tm.register(owl, ITrustManager.Kind.Avatar);
        stubAvatar.set(owl, true);
        address[2] memory accounts = [actors[USER_A], actors[ADMIN]];
        for (uint256 i; i < 255; ++i) {
            bytes memory a = _attestReclaim(owl, accounts[i % 2], i);
            vm.prank(accounts[i % 2]);
            tm.reclaimAvatar(owl, i, t0 + 400 days, a);
        }
        assertEq(tm.generationOf(owl), 255, "generation");
        ITrustManager.Entity memory before = tm.entity(owl);
        bytes memory last = _attestReclaim(owl, accounts[1], 255);
        vm.expectRevert(abi.encodeWithSelector(ITrustManager.TrustManager__GenerationsExhausted.selector, owl));
        vm.prank(accounts[1]);
        tm.reclaimAvatar(owl, 255, t0 + 400 days, last);
        assertEq(keccak256(abi.encode(tm.entity(owl))), keccak256(abi.encode(before)), "entity changed");
        assertEq(tm.generationOf(owl), 255, "generation moved");
    }

    /// One attestation, one state change (h14-red F5). A random run of the IdP's attestations for
    /// owl (reclaim attestations for three accounts at the generation now or one off it, and
    /// registration attestations, `registerAttested`'s message) and of attempts to use any of them
    /// again, in any order: a reclaim succeeds exactly when the model says (a reclaim attestation
    /// for owl's generation now, from an account that does not control owl), and no attestation
    /// ever serves two reclaims. A refused attempt changes nothing.
    function testFuzz_reclaim_anAttestationServesOneReclaim(uint256 seed, bool squatted) public {
        stubAvatar.set(first, true);
        bytes memory fa = _attest(first, actors[USER_A]);
        vm.prank(actors[USER_A]);
        tm.registerAttested(first, ITrustManager.Kind.Avatar, t0 + 400 days, fa);
        if (squatted) {
            vm.prank(squatter);
            tm.register(owl, ITrustManager.Kind.Avatar);
        }
        stubAvatar.set(owl, true);
        address[3] memory accounts = [actors[USER_A], actors[ADMIN], actors[USER_B]];
        Issued[] memory pool = new Issued[](24);
        uint256 issued;
        uint256 reclaims;
        for (uint256 step; step < 24; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            uint256 g = tm.generationOf(owl);
            if (issued == 0 || r % 3 == 0) {
                // the IdP attests an account: a reclaim at the generation now (or one off it), or a registration
                address who = accounts[(r >> 8) % 3];
                bool registration = (r >> 16) % 4 == 0;
                uint256 at = g + ((r >> 24) % 3) - (g == 0 ? 0 : 1);
                bytes memory sig =
                    registration
                        ? _sign712(
                            REGISTRAR_KEY,
                            keccak256(
                                abi.encode(
                                    tm.REGISTRATION_TYPEHASH(),
                                    owl,
                                    ITrustManager.Kind.Avatar,
                                    who,
                                    t0 + 400 days
                                )
                            )
                        )
                        : _attestReclaim(owl, who, at);
                pool[issued++] = Issued(who, at, sig, registration, 0);
                continue;
            }
            Issued memory a = pool[(r >> 8) % issued];
            address controller = tm.entity(owl).controller;
            bool expected = !a.registration && a.generation == g && a.who != controller;
            ITrustManager.Entity memory before = tm.entity(owl);
            vm.prank(a.who);
            try tm.reclaimAvatar(owl, a.generation, t0 + 400 days, a.signature) {
                assertTrue(expected, "a reclaim the model refuses");
                pool[(r >> 8) % issued].uses += 1;
                assertEq(pool[(r >> 8) % issued].uses, 1, "an attestation served two reclaims");
                assertEq(tm.entity(owl).controller, a.who, "controller");
                assertEq(tm.generationOf(owl), controller == address(0) ? g : g + 1, "generation");
                ++reclaims;
            } catch {
                assertFalse(expected, "a reclaim the model allows was refused");
                assertEq(
                    keccak256(abi.encode(tm.entity(owl))),
                    keccak256(abi.encode(before)),
                    "a refused reclaim wrote"
                );
                assertEq(tm.generationOf(owl), g, "a refused reclaim moved the generation");
            }
        }
        uint256 used;
        for (uint256 i; i < issued; ++i) used += pool[i].uses;
        assertEq(used, reclaims, "reclaims without an attestation");
    }

    struct Issued {
        address who;
        uint256 generation;
        bytes signature;
        bool registration;
        uint256 uses;
    }
}
