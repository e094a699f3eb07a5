import { expect } from "chai";
import fc from "fast-check";
import * as sh from "../../offchain/crypto/shamir";
import { H2 } from "../../offchain/crypto/hash";
import { ORDER, mulBase } from "../../offchain/crypto/group";
import { InvalidParameterError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";

/** n, t and a subset of t distinct share indices. */
const setupArb = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc
      .integer({ min: 1, max: n })
      .chain((t) => fc.tuple(fc.constant(n), fc.constant(t), fc.shuffledSubarray([...Array(n).keys()], { minLength: t, maxLength: t }))),
  );

describe("crypto/shamir", () => {
  it("any t of n shares rebuild the secret (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: ORDER - 1n }), setupArb, (s, [n, t, idx]) => {
        const shares = sh.split(s, t, n);
        return (
          sh.recover(
            idx.map((i) => shares[i]),
            t,
          ) === s
        );
      }),
      { numRuns: 100 },
    );
  });

  it("t-1 shares interpolate to a value other than the secret (property)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: ORDER - 1n }),
        setupArb.filter(([, t]) => t >= 2),
        (s, [n, t, idx]) => {
          const shares = sh.split(s, t, n);
          return (
            sh.interpolateAt(
              idx.slice(0, t - 1).map((i) => shares[i]),
              0n,
            ) !== s
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it("works with hashed x-coordinates (x_i = H2(PID_i)) and in the exponent", () => {
    const xs = ["pid-user", "pid-rn1", "pid-rn2", "pid-rn3"].map((p) => H2(p));
    const s = 42n;
    const shares = sh.split(s, 4, xs);
    const Q = sh.combineInExponent(shares.map(({ x, y }) => ({ x, Y: mulBase(y) })));
    expect(Q.equals(mulBase(s))).to.equal(true);
    // a tampered share breaks the check
    const bad = shares.map(({ x, y }, i) => ({ x, Y: mulBase(i === 2 ? y + 1n : y) }));
    expect(sh.combineInExponent(bad).equals(mulBase(s))).to.equal(false);
  });

  it("lagrangeCoefficients at 0 sum to 1 and interpolate any point", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.bigInt({ min: 1n, max: ORDER - 1n }), (t, at) => {
        const f = sh.randomPolynomial(7n, t - 1);
        const xs = Array.from({ length: t }, (_, i) => BigInt(i + 1));
        const l0 = sh.lagrangeCoefficients(xs, 0n);
        const sum = l0.reduce((a, b) => (a + b) % ORDER, 0n);
        return (
          sum === 1n &&
          sh.interpolateAt(
            xs.map((x) => ({ x, y: sh.evaluate(f, x) })),
            at,
          ) === sh.evaluate(f, at)
        );
      }),
      { numRuns: 50 },
    );
  });

  it("supports another prime field", () => {
    const p = 2n ** 127n - 1n;
    const shares = sh.split(99n, 3, 5, p);
    expect(sh.recover(shares.slice(2), 3, p)).to.equal(99n);
  });

  it("rejects t > n, t < 1, duplicate or zero x, too few shares, and a secret out of range", () => {
    expectThrows(() => sh.split(1n, 6, 5), InvalidParameterError, "INVALID_PARAMETER", /^split: threshold t = 6 exceeds/);
    expectThrows(() => sh.split(1n, 0, 5), InvalidParameterError, "INVALID_PARAMETER", /threshold/);
    expectThrows(() => sh.split(1n, 2, [3n, 3n]), InvalidParameterError, "INVALID_PARAMETER", /duplicate x = 3/);
    expectThrows(() => sh.split(1n, 1, [0n]), InvalidParameterError, "INVALID_PARAMETER", /x must be in/);
    expectThrows(() => sh.split(ORDER, 1, 1), InvalidParameterError, "INVALID_PARAMETER", /secret/);
    const shares = sh.split(5n, 3, 5);
    expectThrows(() => sh.recover(shares.slice(0, 2), 3), InvalidParameterError, "INVALID_PARAMETER", /^recover: need at least t = 3/);
    expectThrows(() => sh.recover([shares[0], shares[0], shares[1]], 3), InvalidParameterError, "INVALID_PARAMETER", /duplicate/);
  });
});
