/**
 * Baselines for the attack simulation, built from their published descriptions:
 * - a plain average-rating model: an entity's reputation is the mean of the ratings it received,
 *   and it is flagged below a threshold (0.5);
 * - EigenTrust (Kamvar, Schlosser and Garcia-Molina, "The EigenTrust Algorithm for Reputation
 *   Management in P2P Networks", WWW 2003): local trust s_ij = sat(i,j) - unsat(i,j), normalized
 *   c_ij = max(s_ij, 0) / sum_j max(s_ij, 0) (rows with no positive opinion fall back to the
 *   pre-trusted distribution p), global trust t = (1 - a) C^T t + a p iterated to convergence
 *   from t = p (Algorithm 3 of the paper, a = 0.15). An entity is flagged when t_i is below half
 *   the uniform share 1/n.
 */
import type { RatingEvent } from "../trust/detectors";

/** Flags of a baseline: the flagged entities and each entity's score. */
export type BaselineResult = { flagged: Set<string>; score: Map<string, number> };

/** The average-rating model. */
export function averageModel(ratings: readonly RatingEvent[], nodes: readonly string[], threshold = 0.5): BaselineResult {
  const sum = new Map<string, { s: number; n: number }>();
  for (const r of ratings) {
    const e = sum.get(r.to) ?? { s: 0, n: 0 };
    e.s += r.value;
    e.n += 1;
    sum.set(r.to, e);
  }
  const score = new Map<string, number>();
  const flagged = new Set<string>();
  for (const n of nodes) {
    const e = sum.get(n);
    const v = e ? e.s / e.n : 0.5;
    score.set(n, v);
    if (v < threshold) flagged.add(n);
  }
  return { flagged, score };
}

/** EigenTrust with pre-trusted peers. */
export function eigenTrust(
  ratings: readonly RatingEvent[],
  nodes: readonly string[],
  pretrusted: ReadonlySet<string>,
  o: { a?: number; epsilon?: number; maxIterations?: number; good?: number } = {},
): BaselineResult & { iterations: number } {
  const a = o.a ?? 0.15;
  const eps = o.epsilon ?? 1e-10;
  const good = o.good ?? 0.5;
  const n = nodes.length;
  const index = new Map(nodes.map((x, i) => [x, i]));
  const p = new Float64Array(n);
  const pre = [...pretrusted].filter((x) => index.has(x));
  for (const x of pre.length ? pre : nodes) p[index.get(x)!] = 1 / (pre.length || n);
  // s_ij per ordered pair
  const local = new Map<number, Map<number, number>>();
  for (const r of ratings) {
    const i = index.get(r.from);
    const j = index.get(r.to);
    if (i === undefined || j === undefined || i === j) continue;
    let row = local.get(i);
    if (!row) local.set(i, (row = new Map()));
    row.set(j, (row.get(j) ?? 0) + (r.value >= good ? 1 : -1));
  }
  // normalized rows as (j, c_ij) arrays
  const rows: { js: Int32Array; cs: Float64Array }[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = local.get(i);
    let total = 0;
    if (row) for (const v of row.values()) total += Math.max(v, 0);
    if (!row || total === 0) {
      rows[i] = { js: new Int32Array(0), cs: new Float64Array(0) };
      continue;
    }
    const js: number[] = [];
    const cs: number[] = [];
    for (const [j, v] of row) if (v > 0) (js.push(j), cs.push(v / total));
    rows[i] = { js: Int32Array.from(js), cs: Float64Array.from(cs) };
  }
  let t = Float64Array.from(p);
  let iterations = 0;
  for (; iterations < (o.maxIterations ?? 100); iterations++) {
    const next = new Float64Array(n);
    let dangling = 0;
    for (let i = 0; i < n; i++) {
      const { js, cs } = rows[i];
      if (js.length === 0) dangling += t[i];
      for (let k = 0; k < js.length; k++) next[js[k]] += t[i] * cs[k];
    }
    let diff = 0;
    for (let j = 0; j < n; j++) {
      const v = (1 - a) * (next[j] + dangling * p[j]) + a * p[j];
      diff += Math.abs(v - t[j]);
      next[j] = v;
    }
    t = next;
    if (diff < eps) break;
  }
  const score = new Map<string, number>();
  const flagged = new Set<string>();
  nodes.forEach((x, i) => {
    score.set(x, t[i]);
    if (t[i] < 0.5 / n) flagged.add(x);
  });
  return { flagged, score, iterations };
}
