import { expect } from "chai";
import fc from "fast-check";
import * as sh from "../../offchain/crypto/shamir";
import { H2 } from "../../offchain/crypto/hash";
import { ORDER, mulBase, randomScalar } from "../../offchain/crypto/group";
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

  it("lagrangeCoefficients equals the textbook product formula (one division per coefficient) on random xs, sizes 1..70, any `at` (one of the xs included), over q and a small field", () => {
    const reference = (xs: bigint[], at: bigint, q: bigint) =>
      xs.map((xi, i) => {
        let num = 1n;
        let den = 1n;
        xs.forEach((xj, j) => {
          if (j === i) return;
          num = (((num * (at - xj)) % q) + q) % q;
          den = (((den * (xi - xj)) % q) + q) % q;
        });
        // den^-1 by Fermat (q prime)
        let inv = 1n;
        let b = den;
        for (let e = q - 2n; e > 0n; e >>= 1n, b = (b * b) % q) if (e & 1n) inv = (inv * b) % q;
        return (num * inv) % q;
      });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.boolean(),
        fc.integer({ min: -1, max: 69 }),
        fc.bigInt({ min: 0n, max: ORDER - 1n }),
        (n, small, atIndex, atValue) => {
          const q = small ? 1_000_003n : ORDER;
          const xs = [...new Set(Array.from({ length: n }, () => (randomScalar() % (q - 1n)) + 1n))];
          const at = atIndex >= 0 && atIndex < xs.length ? xs[atIndex] : atValue % q;
          expect(sh.lagrangeCoefficients(xs, at, q)).to.deep.equal(reference(xs, at, q));
        },
      ),
      { numRuns: 40 },
    );
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

describe("crypto/shamir: input checks at every boundary", () => {
  const notBig = 1 as unknown as bigint;

  it("randomPolynomial takes degrees >= 0 and secrets in [0, q), and returns degree + 1 coefficients in [0, q)", () => {
    expect(sh.randomPolynomial(5n, 0)).to.deep.equal([5n]);
    for (const s of [0n, ORDER - 1n]) {
      const f = sh.randomPolynomial(s, 24);
      expect(f).to.have.length(25);
      expect(f[0]).to.equal(s);
      expect(f.every((a) => a >= 0n && a < ORDER)).to.equal(true);
      // 24 uniform coefficients all below q / 2^32 happens with probability 2^-768
      expect(f.slice(1).some((a) => a > ORDER >> 32n)).to.equal(true);
    }
    const p = 2n ** 61n - 1n;
    const g = sh.randomPolynomial(3n, 40, p);
    expect(g.every((a) => a >= 0n && a < p)).to.equal(true);
    expect(g.slice(1).some((a) => a > p >> 16n)).to.equal(true);
    for (const d of [-1, 1.5, NaN]) {
      expectThrows(
        () => sh.randomPolynomial(1n, d),
        InvalidParameterError,
        "INVALID_PARAMETER",
        new RegExp(`^randomPolynomial: degree must be a non-negative integer, got ${d}$`),
      );
    }
    for (const s of [-1n, ORDER, notBig]) {
      expectThrows(
        () => sh.randomPolynomial(s, 2),
        InvalidParameterError,
        "INVALID_PARAMETER",
        /^randomPolynomial: secret must be in \[0, q\)$/,
      );
    }
    expectThrows(() => sh.randomPolynomial(p, 2, p), InvalidParameterError, "INVALID_PARAMETER", /^randomPolynomial: secret must be in/);
  });

  it("evaluate is Horner's rule mod q (known answers)", () => {
    expect(sh.evaluate([1n, 2n, 3n], 2n)).to.equal(17n);
    expect(sh.evaluate([1n, 2n, 3n], 2n, 7n)).to.equal(3n);
    expect(sh.evaluate([9n], 5n)).to.equal(9n);
    expect(sh.evaluate([], 5n)).to.equal(0n);
    expect(sh.evaluate([0n, 1n], ORDER + 4n)).to.equal(4n);
  });

  it("split takes thresholds 1..n, x-coordinates in [1, q), and returns (x, f(x)) in the order given", () => {
    const one = sh.split(42n, 1, 3);
    expect(one).to.deep.equal([
      { x: 1n, y: 42n },
      { x: 2n, y: 42n },
      { x: 3n, y: 42n },
    ]);
    const xs = [ORDER - 1n, 1n, 5n];
    const shares = sh.split(7n, 3, xs);
    expect(shares.map((s) => s.x)).to.deep.equal(xs);
    expect(sh.recover(shares, 3)).to.equal(7n);
    for (const t of [0, -1, 1.5]) {
      expectThrows(
        () => sh.split(1n, t, 3),
        InvalidParameterError,
        "INVALID_PARAMETER",
        new RegExp(`^split: threshold must be an integer >= 1, got ${t}$`),
      );
    }
    expectThrows(
      () => sh.split(1n, 4, 3),
      InvalidParameterError,
      "INVALID_PARAMETER",
      /^split: threshold t = 4 exceeds the number of shares n = 3$/,
    );
    expectThrows(
      () => sh.split(1n, 1, 0),
      InvalidParameterError,
      "INVALID_PARAMETER",
      /^split: threshold t = 1 exceeds the number of shares n = 0$/,
    );
    for (const x of [0n, -1n, ORDER, notBig]) {
      expectThrows(
        () => sh.split(1n, 1, [2n, x]),
        InvalidParameterError,
        "INVALID_PARAMETER",
        new RegExp(`^split: x must be in \\[1, q\\), got ${x}$`),
      );
    }
    expectThrows(() => sh.split(1n, 1, [2n, 1n, 2n]), InvalidParameterError, "INVALID_PARAMETER", /^split: duplicate x = 2$/);
    expectThrows(() => sh.split(1n, 1, [5n], 5n), InvalidParameterError, "INVALID_PARAMETER", /^split: x must be in \[1, q\), got 5$/);
  });

  it("lagrangeCoefficients checks its xs and gives known coefficients", () => {
    // xs = 1, 2, 3 at 0: 3, -3, 1
    expect(sh.lagrangeCoefficients([1n, 2n, 3n])).to.deep.equal([3n, ORDER - 3n, 1n]);
    expect(sh.lagrangeCoefficients([1n, 2n, 3n], 0n, 11n)).to.deep.equal([3n, 8n, 1n]);
    // at an interpolation node, lambda is the indicator of that node
    expect(sh.lagrangeCoefficients([1n, 2n, 3n], 2n)).to.deep.equal([0n, 1n, 0n]);
    expect(sh.lagrangeCoefficients([4n])).to.deep.equal([1n]);
    expectThrows(
      () => sh.lagrangeCoefficients([1n, 2n, 1n]),
      InvalidParameterError,
      "INVALID_PARAMETER",
      /^lagrangeCoefficients: duplicate x = 1$/,
    );
    expectThrows(() => sh.lagrangeCoefficients([0n]), InvalidParameterError, "INVALID_PARAMETER", /^lagrangeCoefficients: x must be in/);
  });

  it("interpolateAt, recover and combineInExponent refuse empty and short share lists", () => {
    expectThrows(() => sh.interpolateAt([]), InvalidParameterError, "INVALID_PARAMETER", /^interpolateAt: no shares$/);
    expectThrows(() => sh.combineInExponent([]), InvalidParameterError, "INVALID_PARAMETER", /^combineInExponent: no shares$/);
    expectThrows(() => sh.recover([], 1), InvalidParameterError, "INVALID_PARAMETER", /^recover: need at least t = 1 shares, got 0$/);
    const shares = sh.split(5n, 3, 5);
    expectThrows(
      () => sh.recover(shares.slice(0, 2), 3),
      InvalidParameterError,
      "INVALID_PARAMETER",
      /^recover: need at least t = 3 shares, got 2$/,
    );
    expectThrows(
      () => sh.combineInExponent([shares[0], shares[0]].map(({ x, y }) => ({ x, Y: mulBase(y) }))),
      InvalidParameterError,
      "INVALID_PARAMETER",
      /^lagrangeCoefficients: duplicate x = 1$/,
    );
    expectThrows(
      () => sh.interpolateAt([shares[1], shares[1]]),
      InvalidParameterError,
      "INVALID_PARAMETER",
      /^lagrangeCoefficients: duplicate x = 2$/,
    );
  });

  it("recover uses the first t shares only; interpolateAt uses them all and reduces y mod q", () => {
    const shares = sh.split(9n, 2, 4);
    const bad = { x: 4n, y: shares[3].y + 1n };
    expect(sh.recover([shares[0], shares[1], bad], 2)).to.equal(9n);
    expect(sh.interpolateAt([shares[0], shares[1], bad])).to.not.equal(9n);
    expect(sh.interpolateAt(shares.map(({ x, y }) => ({ x, y: y + ORDER })))).to.equal(9n);
    expect(sh.interpolateAt(shares, 3n)).to.equal(shares[2].y);
  });
});
