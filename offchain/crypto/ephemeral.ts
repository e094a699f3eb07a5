/**
 * Single-use ephemerals computed ahead of the step that uses them (issue 20, session 19): a fresh
 * scalar k from the CSPRNG, K = k*P and, for a fixed base B, k*B. A join's three ephemerals (the
 * RN's u of its request with u*Z for the pool's encryption key Z, the RPM's ECIES key with its
 * shared point for PK_pub, the RPM's Schnorr nonce) cost scalar multiplications that depend on
 * nothing the step learns: a stock filled between joins, off their path, takes them off it.
 *
 * - **Single use.** `take` removes the ephemeral from the stock before it returns it: no two
 *   callers are ever given the same one, and nothing is put back (a step that fails spends it).
 * - **Same distribution.** k is drawn by `randomScalar`, as at the point of use; the stock only
 *   moves when it is drawn. Its points are computed by the group's backend, as at the point of use.
 * - **Bases by identity.** The stock for a base is keyed by the Point object (a WeakMap): the
 *   callers pass the object their caches hold (poolEncryptionKey's Z, the parameters' PK_pub). An
 *   equal point that is another object finds no stock, and its caller draws at the point of use.
 * - **Opt-in.** Nothing fills a stock but its owner (the `rsms:join` task, through
 *   flows.restockJoinSoon); a caller given none, or an empty one, draws at the point of use.
 * - Secrets in memory: the stock's scalars live in the process as its keys do, until taken (at
 *   most `depth` per base), and are lost with it.
 */
import { Point, encodePoint, mul, mulBase, randomScalar } from "./group";

/** k, k*P and, for a stock kept for a base B, k*B. */
export type Ephemeral = { k: bigint; K: Point; kB?: Point };

/** A stock of single-use ephemerals, per base (see the module's comment). */
export class EphemeralStock {
  private readonly byBase = new WeakMap<Point, Ephemeral[]>();
  private readonly plain: Ephemeral[] = [];

  /** @param depth - the most ephemerals kept per base */
  constructor(readonly depth = 2) {}

  /**
   * Takes one ephemeral out of the stock: never given again.
   * @param base - the fixed base whose k*B the caller needs (none: only k and k*P)
   * @returns an ephemeral, or undefined when the stock for this base is empty
   */
  take(base?: Point): Ephemeral | undefined {
    const list = base === undefined ? this.plain : this.byBase.get(base);
    return list?.shift();
  }

  /** How many ephemerals the stock holds for `base` (none: the plain ones). */
  size(base?: Point): number {
    return (base === undefined ? this.plain : this.byBase.get(base))?.length ?? 0;
  }

  /**
   * Draws ephemerals until the stock for `base` holds `depth`: the caller's work, off any step's path.
   * @param base - the fixed base (none: plain ephemerals)
   */
  fill(base?: Point): void {
    let list = base === undefined ? this.plain : this.byBase.get(base);
    if (list === undefined) this.byBase.set(base!, (list = []));
    while (list.length < this.depth) {
      const k = randomScalar();
      const K = mulBase(k);
      encodePoint(K); // its affine form, computed once now (noble caches it on the point)
      const e: Ephemeral = { k, K };
      if (base !== undefined) {
        e.kB = mul(base, k);
        encodePoint(e.kB);
      }
      list.push(e);
    }
  }
}
