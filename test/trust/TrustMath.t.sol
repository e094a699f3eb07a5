// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "../helpers/forge/Test.sol";
import {TrustMath} from "../../contracts/libraries/TrustMath.sol";
import {TrustMathMock} from "../../contracts/test/TrustMathMock.sol";

/// @notice A plain reference of the trust arithmetic, re-derived from the formulas (trust paper
/// Eqs. 41, 43, 46 and the lazy decay) rather than copied from TrustMath: lanes are unpacked by
/// division, Eq. 41 is a mean of products, powers are bracketed at 36 decimals, and Eq. 46 is
/// computed in signed arithmetic and clamped once. The TrustManager suites use it too.
library TrustRef {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    uint256 internal constant P36 = 1e36;

    /// Lane k of a packed vector, by division (k < 16).
    function laneOf(uint256 packed, uint256 k) internal pure returns (uint256) {
        return (packed / (uint256(1) << (16 * k))) % 65_536;
    }

    /// Packs lanes (each < 65,536) into one word, lane k at bits 16k..16k+15.
    function pack(uint256[] memory lanes) internal pure returns (uint256 p) {
        for (uint256 k; k < lanes.length; ++k) p += lanes[k] * (uint256(1) << (16 * k));
    }

    /// Eq. 41 as a mean: (1/n) sum_k (w_k / BPS)(f_k / BPS) in WAD = floor(1e10 * sum_k w_k f_k / n).
    function meanTrust(uint256[] memory f, uint256[] memory w) internal pure returns (uint256) {
        uint256 acc;
        for (uint256 k; k < f.length; ++k) acc += w[k] * f[k];
        return (acc * 1e10) / f.length;
    }

    /// (x / 1e18)^n at 36 decimals, every product rounded down (`up` = false) or up (`up` = true):
    /// lo <= exact * 1e36 <= hi. x <= WAD.
    function pow36(uint256 xWad, uint256 n, bool up) internal pure returns (uint256 r) {
        uint256 x = xWad * 1e18;
        r = P36;
        while (n != 0) {
            if (n % 2 == 1) r = _mul36(r, x, up);
            x = _mul36(x, x, up);
            n /= 2;
        }
    }

    function _mul36(uint256 a, uint256 b, bool up) private pure returns (uint256) {
        uint256 p = a * b;
        return up ? (p + P36 - 1) / P36 : p / P36;
    }

    /// Eq. 46: clamp(t + floor(gamma * |o|) * sign(o), 0, WAD), in signed arithmetic (t <= WAD).
    function oracle(uint256 t, int256 o, uint256 gamma) internal pure returns (uint256) {
        int256 mag = int256((gamma * (o < 0 ? uint256(-o) : uint256(o))) / WAD);
        int256 r = int256(t) + (o < 0 ? -mag : mag);
        if (r < 0) return 0;
        if (r > int256(WAD)) return WAD;
        return uint256(r);
    }

    function min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }

    function dist(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a - b : b - a;
    }
}

/// @dev Exposes the two TrustMath functions TrustMathMock does not, for the revert paths.
contract TrustMathHarness {
    function mulWad(uint256 a, uint256 b) external pure returns (uint256) {
        return TrustMath.mulWad(a, b);
    }

    function lane(uint256 packed, uint256 k) external pure returns (uint256) {
        return TrustMath.lane(packed, k);
    }
}

/// @notice Fuzz tests of every TrustMath function against TrustRef, their ranges, their
/// monotonicity, and their revert paths (through TrustMathMock, the differential tests' mock).
contract TrustMathFuzzTest is Test {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;

    TrustMathMock internal mock;
    TrustMathHarness internal harness;

    function setUp() public {
        mock = new TrustMathMock();
        harness = new TrustMathHarness();
    }

    // ------------------------------------------------------------------ helpers

    function _panic(uint256 code) internal pure returns (bytes memory) {
        return abi.encodeWithSignature("Panic(uint256)", code);
    }

    function _invalidVector(uint256 packed, uint256 n) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(TrustMath.TrustMath__InvalidVector.selector, packed, n);
    }

    /// n factor scores in [0, BPS] from the fuzzer's raw lanes (0 and 65,535 stay edges).
    function _factors(uint16[16] memory raw, uint256 n) internal pure returns (uint256[] memory f) {
        f = new uint256[](n);
        for (uint256 k; k < n; ++k)
            f[k] = raw[k] > BPS ? (raw[k] == type(uint16).max ? BPS : raw[k] % (BPS + 1)) : raw[k];
    }

    /// A valid weight vector: n lanes summing to n * BPS, each in [0, 65535], built from all-BPS by
    /// random transfers between lanes (which keeps the sum).
    function _weights(uint256 n, uint256 seed) internal pure returns (uint256[] memory w) {
        w = new uint256[](n);
        for (uint256 k; k < n; ++k) w[k] = BPS;
        for (uint256 s; s < 2 * n; ++s) {
            uint256 r = uint256(keccak256(abi.encode(seed, s)));
            uint256 i = r % n;
            uint256 j = (r >> 8) % n;
            // Every lane stays >= 1: a zero weight is refused (it would drop its factor).
            uint256 room = TrustRef.min(w[i] - 1, 65_535 - w[j]);
            uint256 amount = room == 0 ? 0 : (r >> 16) % (room + 1);
            w[i] -= amount;
            w[j] += amount;
        }
    }

    // ------------------------------------------------------------------ mulWad and lane

    /// mulWad is the exact product divided by WAD, rounded down.
    function testFuzz_mulWad_floorsTheExactProduct(uint128 a, uint128 b) public pure {
        uint256 r = TrustMath.mulWad(a, b);
        uint256 exact = uint256(a) * uint256(b);
        assertLe(r * WAD, exact, "mulWad rounds down");
        assertLt(exact - r * WAD, WAD, "mulWad loses less than one unit");
    }

    /// A product beyond 2^256 reverts with the arithmetic panic rather than wrapping.
    function testFuzz_mulWad_overflowPanics(uint256 a, uint256 b) public {
        a = bound(a, uint256(1) << 128, type(uint256).max);
        b = bound(b, uint256(1) << 128, type(uint256).max);
        vm.expectRevert(_panic(0x11));
        harness.mulWad(a, b);
    }

    /// lane(p, k) is the k-th 16-bit digit of p; zero past the word.
    function testFuzz_lane_isThe16BitDigit(uint256 packed, uint256 k) public view {
        k = bound(k, 0, 20);
        uint256 expected = k < 16 ? TrustRef.laneOf(packed, k) : 0;
        assertEq(harness.lane(packed, k), expected, "lane");
    }

    // ------------------------------------------------------------------ powWad

    /// powWad(x, n) is bracketed by the 36-decimal reference: x^n rounded down per product loses at
    /// most one unit per factor of x, so exact - n <= powWad <= exact.
    function testFuzz_powWad_withinHighPrecisionBounds(uint256 x, uint256 n) public view {
        x = bound(x, 0, WAD);
        n = bound(n, 0, 4096);
        uint256 got = mock.powWad(x, n);
        uint256 lo = TrustRef.pow36(x, n, false) / 1e18;
        uint256 hi = TrustRef.pow36(x, n, true) / 1e18;
        assertLe(got, hi, "powWad above the exact power");
        assertGe(got + n, lo, "powWad lost more than n units");
    }

    /// Dyadic bases are exact: 0.5^n = 1e18 / 2^n while 2^n divides 1e18.
    function testFuzz_powWad_exactOnDyadicBase(uint256 n) public view {
        n = bound(n, 0, 18);
        assertEq(mock.powWad(WAD / 2, n), WAD >> n, "0.5^n");
    }

    /// x^0 = 1, x^1 = x, 1^n = 1, 0^n = 0 for n >= 1.
    function testFuzz_powWad_identities(uint256 x, uint256 n) public view {
        x = bound(x, 0, WAD);
        n = bound(n, 1, type(uint64).max);
        assertEq(mock.powWad(x, 0), WAD, "x^0");
        assertEq(mock.powWad(x, 1), x, "x^1");
        assertEq(mock.powWad(WAD, n), WAD, "1^n");
        assertEq(mock.powWad(0, n), 0, "0^n");
    }

    /// For x <= 1, powWad stays in [0, 1] and never grows with the exponent (the rounding of the
    /// binary exponentiation preserves it too).
    function testFuzz_powWad_rangeAndNonIncreasingInExponent(uint256 x, uint256 n, uint256 m) public view {
        x = bound(x, 0, WAD);
        n = bound(n, 0, type(uint32).max);
        m = bound(m, n, type(uint32).max);
        uint256 pn = mock.powWad(x, n);
        assertLe(pn, WAD, "x^n <= 1");
        assertLe(mock.powWad(x, m), pn, "x^m <= x^n for m >= n");
        assertLe(mock.powWad(x, n + 1), pn, "x^(n+1) <= x^n");
    }

    /// powWad never decreases with the base.
    function testFuzz_powWad_nonDecreasingInBase(uint256 x, uint256 y, uint256 n) public view {
        x = bound(x, 0, WAD);
        y = bound(y, x, WAD);
        n = bound(n, 0, type(uint32).max);
        assertLe(mock.powWad(x, n), mock.powWad(y, n), "x <= y => x^n <= y^n");
    }

    // ------------------------------------------------------------------ optimizedTrust (Eq. 41)

    /// Eq. 41 equals the reference mean of weighted factors, and lies in [0, 1] for valid weights.
    function testFuzz_optimizedTrust_isTheWeightedMean(uint256 n, uint16[16] memory raw, uint256 seed) public view {
        n = bound(n, 1, 16);
        uint256[] memory f = _factors(raw, n);
        uint256[] memory w = _weights(n, seed);
        uint256 got = mock.optimizedTrust(TrustRef.pack(f), TrustRef.pack(w), n);
        assertEq(got, TrustRef.meanTrust(f, w), "Eq. 41");
        assertLe(got, WAD, "T_opt <= 1");
    }

    /// Equal factor scores f give exactly f (in WAD) whatever the weights, since their mean is 1.
    function testFuzz_optimizedTrust_uniformFactorsGiveThatScore(uint256 n, uint256 f, uint256 seed) public view {
        n = bound(n, 1, 16);
        f = bound(f, 0, BPS);
        uint256[] memory fs = new uint256[](n);
        for (uint256 k; k < n; ++k) fs[k] = f;
        uint256 got = mock.optimizedTrust(TrustRef.pack(fs), TrustRef.pack(_weights(n, seed)), n);
        assertEq(got, f * 1e14, "uniform factors");
    }

    /// Raising one factor score never lowers T_opt (weights are non-negative).
    function testFuzz_optimizedTrust_nonDecreasingInEachFactor(
        uint256 n,
        uint16[16] memory raw,
        uint256 seed,
        uint256 k,
        uint256 up
    ) public view {
        n = bound(n, 1, 16);
        k = bound(k, 0, n - 1);
        uint256[] memory f = _factors(raw, n);
        uint256 ws = TrustRef.pack(_weights(n, seed));
        uint256 before = mock.optimizedTrust(TrustRef.pack(f), ws, n);
        f[k] = bound(up, f[k], BPS);
        assertGe(mock.optimizedTrust(TrustRef.pack(f), ws, n), before, "monotone in factor k");
    }

    /// A factor above 10,000 bps reverts with InvalidVector(factors, n).
    function testFuzz_optimizedTrust_rejectsFactorAboveOne(
        uint256 n,
        uint16[16] memory raw,
        uint256 k,
        uint256 bad
    ) public {
        n = bound(n, 1, 16);
        k = bound(k, 0, n - 1);
        uint256[] memory f = _factors(raw, n);
        f[k] = bound(bad, BPS + 1, 65_535);
        uint256 packed = TrustRef.pack(f);
        vm.expectRevert(_invalidVector(packed, n));
        mock.optimizedTrust(packed, TrustRef.pack(_weights(n, 1)), n);
    }

    /// Bits beyond the n used lanes revert with InvalidVector(factors, n).
    function testFuzz_optimizedTrust_rejectsLanesBeyondN(uint256 n, uint16[16] memory raw, uint256 junk) public {
        n = bound(n, 1, 15);
        uint256 packed = TrustRef.pack(_factors(raw, n));
        junk = bound(junk, 1, type(uint256).max >> (16 * n));
        packed |= junk << (16 * n);
        vm.expectRevert(_invalidVector(packed, n));
        mock.optimizedTrust(packed, TrustRef.pack(_weights(n, 1)), n);
    }

    // ------------------------------------------------------------------ checkWeights

    /// Generated mean-one vectors are accepted.
    function testFuzz_checkWeights_acceptsMeanOneVectors(uint256 n, uint256 seed) public view {
        n = bound(n, 1, 16);
        mock.checkWeights(TrustRef.pack(_weights(n, seed)), n);
    }

    /// Any packed word is accepted iff 1 <= n <= 16, its n lanes are all non-zero and sum to n * BPS,
    /// and the lanes beyond n are zero; otherwise it reverts with InvalidVector(packed, n).
    function testFuzz_checkWeights_acceptsExactlyTheValidVectors(
        uint256 packed,
        uint256 n,
        uint256 seed,
        uint8 mode
    ) public {
        n = bound(n, 0, 18);
        if (mode % 3 == 0 && n >= 1 && n <= 16) {
            // Start from a valid vector and perturb it a little (or not at all).
            packed = TrustRef.pack(_weights(n, seed));
            if (mode % 2 == 1) packed ^= uint256(1) << (seed % 256);
        }
        bool valid = n >= 1 && n <= 16;
        if (valid) {
            uint256 sum;
            for (uint256 k; k < n; ++k) {
                sum += TrustRef.laneOf(packed, k);
                if (TrustRef.laneOf(packed, k) == 0) valid = false;
            }
            for (uint256 k = n; k < 16; ++k) if (TrustRef.laneOf(packed, k) != 0) valid = false;
            if (sum != n * BPS) valid = false;
        }
        if (!valid) vm.expectRevert(_invalidVector(packed, n));
        mock.checkWeights(packed, n);
    }

    /// A zero lane is refused even when the lanes sum to n * BPS (formerly a finding: the
    /// TrustManager constructor accepted a model that silently ignored a factor). Lanes [0, 20000]
    /// for n = 2 and its rotations, with 10,000 elsewhere.
    function testFuzz_checkWeights_rejectsAZeroLane(uint256 n, uint256 k) public {
        n = bound(n, 2, 16);
        k = bound(k, 0, n - 1);
        uint256 j = (k + 1) % n;
        uint256 packed;
        for (uint256 i; i < n; ++i)
            packed |=
                (
                    i == k
                        ? 0
                        : i == j
                            ? 20_000
                            : BPS
                ) << (16 * i);
        vm.expectRevert(_invalidVector(packed, n));
        mock.checkWeights(packed, n);
    }

    /// n = 0 or n > 16 is refused whatever the vector, even one whose lanes sum to n * BPS.
    function testFuzz_checkWeights_rejectsBadCount(uint256 n) public {
        n = bound(n, 0, 104);
        if (n != 0) n = bound(n, 17, 104);
        uint256 packed;
        if (n != 0) {
            uint256 total = n * BPS;
            for (uint256 k; k < 16; ++k) packed |= (total / 16 + (k == 0 ? total % 16 : 0)) << (16 * k);
        }
        vm.expectRevert(_invalidVector(packed, n));
        mock.checkWeights(packed, n);
    }

    // ------------------------------------------------------------------ decay

    /// decay(v, b, rho, e) = b +- floor(|v - b| * rho^e), with rho^e bracketed at 36 decimals; it
    /// lies between the value and the baseline and never leaves [0, 1].
    function testFuzz_decay_relaxesTowardTheBaseline(uint256 v, uint256 b, uint256 rho, uint256 e) public view {
        v = bound(v, 0, WAD);
        b = bound(b, 0, WAD);
        rho = bound(rho, 0, WAD);
        e = bound(e, 0, 4096);
        uint256 got = mock.decay(v, b, rho, e);
        assertLe(got, TrustRef.max(v, b), "never above max(value, baseline)");
        assertGe(got, TrustRef.min(v, b), "never below min(value, baseline)");
        assertTrue(v >= b ? got >= b : got <= b, "stays on the value's side of the baseline");
        uint256 d = TrustRef.dist(got, b);
        uint256 gap = TrustRef.dist(v, b);
        if (e == 0) {
            assertEq(got, v, "no epoch, no decay");
            return;
        }
        uint256 hi = TrustRef.pow36(rho, e, true);
        uint256 lo = TrustRef.pow36(rho, e, false);
        assertLe(d * 1e36, gap * hi, "distance at most |v - b| rho^e");
        uint256 loWad = lo > e * 1e18 ? lo - e * 1e18 : 0; // powWad >= exact - e units
        assertGe(d + 1, (gap * loWad) / 1e36, "distance at least |v - b| (rho^e - e units) - 1");
    }

    /// The distance to the baseline never grows with elapsed epochs (lazy decay is monotone in time).
    function testFuzz_decay_distanceNonIncreasingInEpochs(
        uint256 v,
        uint256 b,
        uint256 rho,
        uint256 e1,
        uint256 e2
    ) public view {
        v = bound(v, 0, WAD);
        b = bound(b, 0, WAD);
        rho = bound(rho, 0, WAD);
        e1 = bound(e1, 0, type(uint32).max);
        e2 = bound(e2, e1, type(uint32).max);
        uint256 d1 = TrustRef.dist(mock.decay(v, b, rho, e1), b);
        uint256 d2 = TrustRef.dist(mock.decay(v, b, rho, e2), b);
        assertLe(d2, d1, "later is closer to the baseline");
        assertLe(d1, TrustRef.dist(v, b), "never farther than the stored value");
    }

    /// Decay preserves the order of two stored values (a ranking survives time).
    function testFuzz_decay_preservesOrder(uint256 v1, uint256 v2, uint256 b, uint256 rho, uint256 e) public view {
        v1 = bound(v1, 0, WAD);
        v2 = bound(v2, v1, WAD);
        b = bound(b, 0, WAD);
        rho = bound(rho, 0, WAD);
        e = bound(e, 0, type(uint32).max);
        assertLe(mock.decay(v1, b, rho, e), mock.decay(v2, b, rho, e), "v1 <= v2 => decay(v1) <= decay(v2)");
    }

    /// A higher retention keeps at least as much of the distance.
    function testFuzz_decay_nonDecreasingDistanceInRetention(
        uint256 v,
        uint256 b,
        uint256 r1,
        uint256 r2,
        uint256 e
    ) public view {
        v = bound(v, 0, WAD);
        b = bound(b, 0, WAD);
        r1 = bound(r1, 0, WAD);
        r2 = bound(r2, r1, WAD);
        e = bound(e, 0, 100_000);
        assertLe(TrustRef.dist(mock.decay(v, b, r1, e), b), TrustRef.dist(mock.decay(v, b, r2, e), b), "rho monotone");
    }

    /// rho = 1 keeps the value; rho = 0 reaches the baseline after one epoch; a value at the
    /// baseline stays there.
    function testFuzz_decay_edges(uint256 v, uint256 b, uint256 rho, uint256 e) public view {
        v = bound(v, 0, WAD);
        b = bound(b, 0, WAD);
        rho = bound(rho, 0, WAD);
        e = bound(e, 1, type(uint64).max);
        assertEq(mock.decay(v, b, WAD, e), v, "rho = 1");
        assertEq(mock.decay(v, b, 0, e), b, "rho = 0");
        assertEq(mock.decay(b, b, rho, e), b, "at the baseline");
    }

    // ------------------------------------------------------------------ blend (Eq. 43)

    /// Eq. 43 with each product rounded down: delta*t + (1 - delta)*p, within two units below the
    /// exact value, between min - 1 and max of its inputs, and in [0, 1].
    function testFuzz_blend_isTheRoundedConvexCombination(uint256 t, uint256 p, uint256 delta) public view {
        t = bound(t, 0, WAD);
        p = bound(p, 0, WAD);
        delta = bound(delta, 0, WAD);
        uint256 got = mock.blend(t, p, delta);
        uint256 exactTimesWad = delta * t + (WAD - delta) * p;
        assertEq(got, (delta * t) / WAD + ((WAD - delta) * p) / WAD, "Eq. 43");
        assertLe(got * WAD, exactTimesWad, "rounds down");
        assertLt(exactTimesWad, (got + 2) * WAD, "loses under two units");
        assertLe(got, TrustRef.max(t, p), "<= max(t, p)");
        assertGe(got + 1, TrustRef.min(t, p), ">= min(t, p) - 1");
        assertEq(mock.blend(t, p, 0), p, "delta = 0 keeps the previous value");
        assertEq(mock.blend(t, p, WAD), t, "delta = 1 takes the new rating");
    }

    /// Eq. 43 never decreases in either input.
    function testFuzz_blend_monotone(uint256 t1, uint256 t2, uint256 p1, uint256 p2, uint256 delta) public view {
        t1 = bound(t1, 0, WAD);
        t2 = bound(t2, t1, WAD);
        p1 = bound(p1, 0, WAD);
        p2 = bound(p2, p1, WAD);
        delta = bound(delta, 0, WAD);
        assertLe(mock.blend(t1, p1, delta), mock.blend(t2, p1, delta), "monotone in T_opt");
        assertLe(mock.blend(t1, p1, delta), mock.blend(t1, p2, delta), "monotone in T_prev");
    }

    /// delta above 1 reverts with the arithmetic panic (1 - delta underflows), also when nothing
    /// else could overflow (T_prev = 0).
    function testFuzz_blend_rejectsDeltaAboveOne(uint256 t, uint256 p, uint256 delta) public {
        t = bound(t, 0, WAD);
        p = bound(p, 0, WAD);
        delta = bound(delta, WAD + 1, type(uint128).max);
        vm.expectRevert(_panic(0x11));
        mock.blend(t, p, delta);
        vm.expectRevert(_panic(0x11));
        mock.blend(t, 0, delta);
    }

    // ------------------------------------------------------------------ withOracle (Eq. 46)

    /// Eq. 46 equals the signed, clamped reference and lies in [0, 1]; O = 0 or gamma = 0 is neutral.
    function testFuzz_withOracle_isTheClampedSignedSum(uint256 t, int256 o, uint256 gamma) public view {
        t = bound(t, 0, WAD);
        o = int256(bound(uint256(o), 0, 2 * WAD)) - int256(WAD);
        gamma = bound(gamma, 0, WAD);
        uint256 got = mock.withOracle(t, o, gamma);
        assertEq(got, TrustRef.oracle(t, o, gamma), "Eq. 46");
        assertLe(got, WAD, "<= 1");
        assertEq(mock.withOracle(t, 0, gamma), t, "O = 0");
        assertEq(mock.withOracle(t, o, 0), t, "gamma = 0");
        assertTrue(o >= 0 ? got >= t : got <= t, "moves trust in the oracle's direction");
    }

    /// Eq. 46 never decreases in O or in T.
    function testFuzz_withOracle_monotone(uint256 t1, uint256 t2, int256 o1, int256 o2, uint256 gamma) public view {
        t1 = bound(t1, 0, WAD);
        t2 = bound(t2, t1, WAD);
        o1 = int256(bound(uint256(o1), 0, 2 * WAD)) - int256(WAD);
        o2 = int256(bound(uint256(o2), uint256(o1 + int256(WAD)), 2 * WAD)) - int256(WAD);
        gamma = bound(gamma, 0, WAD);
        assertLe(mock.withOracle(t1, o1, gamma), mock.withOracle(t1, o2, gamma), "monotone in O");
        assertLe(mock.withOracle(t1, o1, gamma), mock.withOracle(t2, o1, gamma), "monotone in T");
    }

    /// O = type(int256).min cannot be negated: arithmetic panic, never a wrapped bonus (gamma <= 1
    /// leaves the negation as the only operation that can overflow).
    function testFuzz_withOracle_rejectsMinInt(uint256 t, uint256 gamma) public {
        t = bound(t, 0, WAD);
        vm.expectRevert(_panic(0x11));
        mock.withOracle(t, type(int256).min, bound(gamma, 0, 1));
        vm.expectRevert(_panic(0x11));
        mock.withOracle(t, type(int256).min, bound(gamma, 0, WAD));
    }
}
