/**
 * Shamir secret sharing over Z_q (RSMS paper Definition 3 and §IV.B.2).
 *
 *   split:    f(x) = s + a_1 x + ... + a_{t-1} x^{t-1} with a_j <-$ Z_q,  share_i = (x_i, f(x_i))
 *   Lagrange: lambda_i(x) = prod_{j != i} (x - x_j) / (x_i - x_j)
 *   recover:  s = f(0) = sum_i lambda_i(0) f(x_i)               (any t distinct shares)
 *   exponent: s*P = sum_i lambda_i(0) (f(x_i)*P)                (RSMS group membership check,
 *             C_i = lambda_i(0) f(x_i) P and sum C_i = Q)
 *
 * x-coordinates may be 1..n or any distinct non-zero field elements (RSMS uses x_i = H2(PID_i)).
 * The field is Z_q of the RSMS group by default; any prime modulus may be given.
 */
import { Field } from "@noble/curves/abstract/modular.js";
import { ORDER, Point, msmPublic } from "./group";
import { InvalidParameterError } from "../errors";

/** One share (x, f(x)). */
export type Share = { x: bigint; y: bigint };
/** One share "in the exponent": (x, f(x)*P). */
export type PointShare = { x: bigint; Y: Point };

type Fld = ReturnType<typeof Field>;
const fields = new Map<bigint, Fld>();
function fieldOf(q: bigint): Fld {
  let F = fields.get(q);
  // Stryker disable next-line ConditionalExpression: a cache: forcing the miss branch (`true`) rebuilds an equal Field for q on every call, which no caller can observe; the `false` variant (never build) crashes and is killed by every test
  if (!F) {
    F = Field(q);
    fields.set(q, F);
  }
  return F;
}

function randomBelow(q: bigint): bigint {
  // Stryker disable next-line ArithmeticOperator: `/ 8` -> `* 8` only draws 8x more random bytes, which lowers the 2^-128 modulo bias further and is not observable; the other variant on this line (`+ 16` -> `- 16`) is killed by "randomPolynomial ... coefficients in [0, q)" (all coefficients would fall below 2^128)
  const bytes = new Uint8Array(Math.ceil(q.toString(2).length / 8) + 16);
  crypto.getRandomValues(bytes);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n % q;
}

function checkXs(fn: string, xs: bigint[], q: bigint): void {
  const seen = new Set<bigint>();
  for (const x of xs) {
    if (typeof x !== "bigint" || x <= 0n || x >= q) throw new InvalidParameterError(`${fn}: x must be in [1, q), got ${x}`);
    if (seen.has(x)) throw new InvalidParameterError(`${fn}: duplicate x = ${x}`);
    seen.add(x);
  }
}

/**
 * Draws a random polynomial of the given degree with f(0) = secret.
 * @param secret - f(0), in [0, q)
 * @param degree - the degree (threshold - 1), >= 0
 * @param q - the field modulus
 * @returns the coefficients [s, a_1, ..., a_degree]
 * @throws InvalidParameterError for a negative degree or a secret out of range
 */
export function randomPolynomial(secret: bigint, degree: number, q: bigint = ORDER): bigint[] {
  if (!Number.isInteger(degree) || degree < 0)
    throw new InvalidParameterError(`randomPolynomial: degree must be a non-negative integer, got ${degree}`);
  if (typeof secret !== "bigint" || secret < 0n || secret >= q)
    throw new InvalidParameterError("randomPolynomial: secret must be in [0, q)");
  const coeffs = [secret];
  for (let i = 0; i < degree; i++) coeffs.push(randomBelow(q));
  return coeffs;
}

/**
 * Evaluates a polynomial at x (Horner).
 * @param coeffs - [a_0, ..., a_d]
 * @param x - the point
 * @param q - the field modulus
 * @returns f(x) mod q
 */
export function evaluate(coeffs: bigint[], x: bigint, q: bigint = ORDER): bigint {
  const F = fieldOf(q);
  let acc = 0n;
  for (let i = coeffs.length - 1; i >= 0; i--) acc = F.add(F.mul(acc, F.create(x)), coeffs[i]);
  return acc;
}

/**
 * Splits a secret into n shares, any t of which rebuild it.
 * @param secret - the secret, in [0, q)
 * @param t - the threshold, 1 <= t <= n
 * @param xs - the share x-coordinates (distinct, non-zero), or a count n for x = 1..n
 * @param q - the field modulus
 * @returns the shares, in the order of xs
 * @throws InvalidParameterError for t > n, t < 1, duplicate or zero x, or a secret out of range
 */
export function split(secret: bigint, t: number, xs: bigint[] | number, q: bigint = ORDER): Share[] {
  const xList = typeof xs === "number" ? Array.from({ length: xs }, (_, i) => BigInt(i + 1)) : xs;
  if (!Number.isInteger(t) || t < 1) throw new InvalidParameterError(`split: threshold must be an integer >= 1, got ${t}`);
  if (t > xList.length) throw new InvalidParameterError(`split: threshold t = ${t} exceeds the number of shares n = ${xList.length}`);
  checkXs("split", xList, q);
  const f = randomPolynomial(secret, t - 1, q);
  return xList.map((x) => ({ x, y: evaluate(f, x, q) }));
}

/**
 * Lagrange coefficients lambda_i(at) for all i, with one field inversion (batched).
 *
 *   lambda_i(at) = prod_{j != i} (at - x_j) / prod_{j != i} (x_i - x_j)
 *
 * The numerators come from prefix and suffix products (O(n)). The denominators need every
 * difference: each pair's x_i - x_j is formed once and enters den_i as itself and den_j negated,
 * and three differences are multiplied before each reduction mod q (a third of the divisions):
 * at n = 65 (a service group of 64 RNs) this is most of the cost.
 * @param xs - distinct x-coordinates
 * @param at - where to interpolate (0 for the secret)
 * @param q - the field modulus
 * @returns [lambda_1(at), ..., lambda_n(at)]
 * @throws InvalidParameterError for duplicate or zero x
 */
export function lagrangeCoefficients(xs: bigint[], at = 0n, q: bigint = ORDER): bigint[] {
  checkXs("lagrangeCoefficients", xs, q);
  const F = fieldOf(q);
  const n = xs.length;
  const a = F.create(at);
  // nums[i] = prod_{j < i} (a - x_j) * prod_{j > i} (a - x_j)
  const nums: bigint[] = new Array(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    nums[i] = acc;
    acc = (acc * (a - xs[i])) % q;
  }
  acc = 1n;
  for (let i = n - 1; i >= 0; i--) {
    nums[i] = (nums[i] * acc) % q;
    acc = (acc * (a - xs[i])) % q;
  }
  // dens[i] = prod_{j != i} (x_i - x_j): unreduced partial products, reduced every third factor
  const dens: bigint[] = new Array(n).fill(1n);
  const part: bigint[] = new Array(n).fill(1n);
  const count: number[] = new Array(n).fill(0);
  const mulInto = (i: number, d: bigint) => {
    part[i] *= d;
    if (++count[i] === 3) {
      dens[i] = (dens[i] * part[i]) % q;
      part[i] = 1n;
      count[i] = 0;
    }
  };
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const d = xs[i] - xs[j];
      mulInto(i, d);
      mulInto(j, -d);
    }
  const inv = F.invertBatch(dens.map((d, i) => F.create(d * part[i])));
  return nums.map((v, i) => F.mul(F.create(v), inv[i]));
}

/**
 * Interpolates the polynomial through the given shares at a point (no threshold check).
 * @param shares - distinct shares
 * @param at - the point (0 for the secret)
 * @param q - the field modulus
 * @returns the interpolated value
 */
export function interpolateAt(shares: Share[], at = 0n, q: bigint = ORDER): bigint {
  if (shares.length === 0) throw new InvalidParameterError("interpolateAt: no shares");
  const F = fieldOf(q);
  const l = lagrangeCoefficients(
    shares.map((s) => s.x),
    at,
    q,
  );
  return shares.reduce((acc, s, i) => F.add(acc, F.mul(l[i], F.create(s.y))), 0n);
}

/**
 * Rebuilds the secret from at least t shares.
 * @param shares - at least t distinct shares
 * @param t - the threshold the shares were made with
 * @param q - the field modulus
 * @returns the secret f(0)
 * @throws InvalidParameterError with fewer than t shares or duplicate x
 */
export function recover(shares: Share[], t: number, q: bigint = ORDER): bigint {
  if (shares.length < t) throw new InvalidParameterError(`recover: need at least t = ${t} shares, got ${shares.length}`);
  return interpolateAt(shares.slice(0, t), 0n, q);
}

/**
 * Shamir "in the exponent": sum_i lambda_i(0) * Y_i, where Y_i = f(x_i)*P. Equals f(0)*P when
 * the shares are consistent (RSMS group membership authentication, §IV.B.2.a steps 4-5).
 * @param shares - distinct point shares
 * @returns the combined point (may be the identity for inconsistent shares)
 * @throws InvalidParameterError for no shares or duplicate x
 */
export function combineInExponent(shares: PointShare[]): Point {
  if (shares.length === 0) throw new InvalidParameterError("combineInExponent: no shares");
  const l = lagrangeCoefficients(
    shares.map((s) => s.x),
    0n,
    ORDER,
  );
  // Shares in the exponent and Lagrange coefficients are public: a Pippenger MSM is safe here.
  return msmPublic(
    shares.map((s) => s.Y),
    l,
  );
}
