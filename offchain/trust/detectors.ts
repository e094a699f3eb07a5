/**
 * Attack detectors of the trust paper (§V.A, Eqs. 36-38), run off-chain over the rating history;
 * their flags go on-chain through TrustManager.flag (DETECTOR_ROLE).
 *
 * - Sybil: Eq. 37 propagates reputation from trusted seeds: r_i = sigmoid(k * sum_{j in T} w_ji r_j
 *   / sum_{j in V} w_ji). Eq. 38 then flags r_i > theta, i.e. the *most* trusted nodes: backwards.
 *   metatrust flags the nodes whose propagated reputation stays low (little endorsement from the
 *   trusted set), plus the paper's "dual evaluation": identities affiliated with one low-reputation
 *   controller that spawned several of them. Membership in T is soft (seeds 1, others their
 *   reputation's excess over 0.5) and the sum is divided by the number of raters
 *   (docs/specs/trust.md §4).
 * - On-off: "dynamic reassessment" as a windowed bad-behaviour rate with a forgetting factor; an
 *   entity that alternates good and bad windows, or whose recent (fast-forgetting) bad rate exceeds
 *   the threshold while its long-run average looks fine, is flagged, with the time of detection.
 * - Good- and bad-mouthing: Eq. 36's agreement ratio between a rater and the other raters of the
 *   same targets in the same period; raters below a threshold are flagged (good-mouthing if they
 *   praise what others condemn, bad-mouthing if the reverse), and target reputations are
 *   recomputed with credibility-weighted feedback.
 */
import { InvalidParameterError } from "../errors";
import { analyze, type AnalyzeOptions } from "./robust";

/** One rating, as read from TrustStored events (value = the rating's T_opt in [0, 1]). */
export type RatingEvent = {
  from: string;
  to: string;
  value: number;
  time: number;
  /** the rating carries an evidence record set (docs/specs/trust.md §8); undefined = not known */
  evidence?: boolean;
};

/** What a detector concluded about one entity. */
export type Detection = {
  entity: string;
  kind: AttackKind;
  score: number;
  detectedAt?: number;
  reason: string;
  /** what a person needs to recompute the flag: the statistic, its value and threshold, the observations behind it */
  evidence?: Record<string, unknown>;
};

/** Attack kinds, numbered as the on-chain flag bits. */
export const AttackKind = { Sybil: 0, OnOff: 1, GoodMouthing: 2, BadMouthing: 3 } as const;
export type AttackKind = (typeof AttackKind)[keyof typeof AttackKind];

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Options of {@link detectSybils}. */
export type SybilOptions = {
  /** k of Eq. 37. */
  k?: number;
  /** iterations of the propagation */
  iterations?: number;
  /** a node whose propagated reputation is below this is suspicious */
  theta?: number;
  /** controller -> its reputation (the "affiliated entity") */
  affiliateReputation?: (affiliate: string) => number;
  /** entity -> its controller/creator */
  affiliation?: Map<string, string>;
  /** an affiliate with at least this many identities and reputation below `affiliateMin` flags them all */
  clusterSize?: number;
  affiliateMin?: number;
};

/**
 * Eq. 37 propagation from trusted seeds, with the corrected flagging rule.
 * @param ratings - the rating history (weights w_ji = the ratings' values)
 * @param nodes - every entity
 * @param seeds - initially trusted entities (e.g. identity-verified ones)
 * @returns the propagated reputation of every node and the detections
 */
export function detectSybils(
  ratings: RatingEvent[],
  nodes: string[],
  seeds: Set<string>,
  o: SybilOptions = {},
): { reputation: Map<string, number>; detections: Detection[] } {
  const k = o.k ?? 6;
  const iterations = o.iterations ?? 8;
  const theta = o.theta ?? sigmoid(k * 0.4);
  if (!(k > 0) || !(iterations >= 1)) throw new InvalidParameterError("detectSybils: k and iterations must be positive");
  // incoming[i] = raters j of i with the mean value they gave (one edge per ordered pair)
  const sums = new Map<string, Map<string, { s: number; n: number }>>();
  for (const r of ratings) {
    if (r.from === r.to) continue;
    let m = sums.get(r.to);
    if (!m) sums.set(r.to, (m = new Map()));
    const e = m.get(r.from) ?? { s: 0, n: 0 };
    e.s += r.value;
    e.n += 1;
    m.set(r.from, e);
  }
  let rep = new Map(nodes.map((n) => [n, seeds.has(n) ? 1 : 0.5]));
  // How much j belongs to the trusted set T: 1 for a seed, else its reputation's excess over the
  // neutral 0.5, rescaled to [0, 1]. A soft membership damps the cascade a hard threshold allows
  // once one colluder crosses it.
  const membership = (j: string) => (seeds.has(j) ? 1 : Math.max(0, (rep.get(j)! - 0.5) / 0.5));
  for (let it = 0; it < iterations; it++) {
    const next = new Map<string, number>();
    for (const i of nodes) {
      const inc = sums.get(i);
      // w_ji = the mean rating j gave i. The sum is divided by the number of raters (each w <= 1),
      // not by sum w: a low rating from a trusted node must not count as an endorsement.
      let num = 0;
      let den = 0;
      if (inc) {
        for (const [j, e] of inc) {
          den += 1;
          num += (e.s / e.n) * membership(j);
        }
      }
      next.set(i, seeds.has(i) ? 1 : sigmoid(k * (den === 0 ? 0 : num / den)));
    }
    rep = next;
  }
  const detections: Detection[] = [];
  const flagged = new Set<string>();
  for (const n of nodes) {
    const r = rep.get(n)!;
    // An entity nobody rated has given no evidence either way: it is not flagged.
    if (!seeds.has(n) && r < theta && sums.has(n)) {
      detections.push({
        entity: n,
        kind: AttackKind.Sybil,
        score: r,
        reason: `propagated reputation ${r.toFixed(3)} < ${theta.toFixed(3)}: endorsed almost only outside the trusted set`,
      });
      flagged.add(n);
    }
  }
  if (o.affiliation && o.affiliateReputation) {
    const byAffiliate = new Map<string, string[]>();
    for (const [e, a] of o.affiliation) byAffiliate.set(a, [...(byAffiliate.get(a) ?? []), e]);
    for (const [a, es] of byAffiliate) {
      const ar = o.affiliateReputation(a);
      if (es.length >= (o.clusterSize ?? 3) && ar < (o.affiliateMin ?? 0.4)) {
        for (const e of es) {
          if (flagged.has(e) || seeds.has(e)) continue;
          detections.push({
            entity: e,
            kind: AttackKind.Sybil,
            score: ar,
            reason: `one of ${es.length} identities of affiliate ${a} whose reputation is ${ar.toFixed(2)}`,
          });
          flagged.add(e);
        }
      }
    }
  }
  return { reputation: rep, detections };
}

/** Options of {@link detectOnOff}. */
export type OnOffOptions = {
  window?: number;
  bad?: number;
  high?: number;
  low?: number;
  lambda?: number;
  minWindows?: number;
  raters?: Set<string>;
};

/**
 * Dynamic reassessment against on-off attacks: per entity, the ratings it received, in time
 * order, cut into windows of `window` ratings; a rating below `bad` is a bad outcome.
 * @param o.raters - only count ratings from these raters (e.g. not flagged for mouthing)
 */
export function detectOnOff(ratings: RatingEvent[], o: OnOffOptions = {}): Detection[] {
  const window = o.window ?? 6;
  const badAt = o.bad ?? 0.5;
  const high = o.high ?? 0.6;
  const low = o.low ?? 0.2;
  const lambda = o.lambda ?? 0.5;
  if (window < 1 || !(lambda >= 0 && lambda < 1)) throw new InvalidParameterError("detectOnOff: window >= 1 and lambda in [0, 1)");
  const byTarget = new Map<string, RatingEvent[]>();
  for (const r of ratings) {
    if (o.raters && !o.raters.has(r.from)) continue;
    // push, not spread: a spread copies the target's whole history per rating (quadratic work)
    const rs = byTarget.get(r.to);
    if (rs) rs.push(r);
    else byTarget.set(r.to, [r]);
  }
  const out: Detection[] = [];
  for (const [entity, rs] of byTarget) {
    rs.sort((a, b) => a.time - b.time);
    const windows: { rate: number; end: number }[] = [];
    for (let i = 0; i + window <= rs.length; i += window) {
      const w = rs.slice(i, i + window);
      windows.push({ rate: w.filter((r) => r.value < badAt).length / window, end: w[w.length - 1].time });
    }
    if (windows.length < (o.minWindows ?? 3)) continue;
    let ewma = 0;
    let state: "good" | "bad" | undefined;
    let switches = 0;
    let detectedAt: number | undefined;
    let peak = 0;
    for (const w of windows) {
      // The forgetting factor smooths single unlucky windows of an honest entity away; the
      // sustained phases of an on-off attacker move the average across both thresholds.
      ewma = lambda * ewma + (1 - lambda) * w.rate;
      peak = Math.max(peak, ewma);
      const s = ewma >= high ? "bad" : ewma <= low ? "good" : undefined;
      if (s && state && s !== state) switches++;
      if (s) state = s;
      if (detectedAt === undefined && (switches >= 2 || (ewma >= high && state === "bad"))) detectedAt = w.end;
    }
    const overall = rs.filter((r) => r.value < badAt).length / rs.length;
    if (switches >= 2 || (peak >= high && overall < high)) {
      out.push({
        entity,
        kind: AttackKind.OnOff,
        score: peak,
        detectedAt: detectedAt ?? windows.find((w) => w.rate >= high)?.end,
        reason: `${switches} good/bad switches, recent bad rate up to ${peak.toFixed(2)} while the long-run rate is ${overall.toFixed(2)}`,
      });
    }
  }
  return out;
}

/** Options of {@link detectMouthing}. */
export type MouthingOptions = {
  threshold?: number;
  minComparisons?: number;
  period?: number;
  good?: number;
  /** compare each rater only with these raters (e.g. those not flagged as Sybils); default all */
  reference?: Set<string>;
  /** flag a rater whose (above - below) disagreements exceed this share of its comparisons */
  skew?: number;
};

/**
 * Eq. 36: r_ij = (1/n) sum_k delta(x_i^(k), x_j^(k)) between raters on the same target and period
 * (ratings discretized as good >= `good`). A rater whose mean agreement with the others is below
 * `threshold` is flagged: good-mouthing if its disagreements are mostly ratings above the others',
 * bad-mouthing if mostly below. Comparing only with `reference` raters (not flagged as Sybils)
 * keeps colluding identities from vouching for each other.
 * @returns the detections and each rater's credibility (its agreement ratio)
 */
export function detectMouthing(
  ratings: RatingEvent[],
  o: MouthingOptions = {},
): { detections: Detection[]; credibility: Map<string, number> } {
  const threshold = o.threshold ?? 0.7;
  const minComparisons = o.minComparisons ?? 5;
  const period = o.period ?? Infinity;
  const good = o.good ?? 0.5;
  // transaction key: target + period; x = discretized rating (1 good, 0 bad), last rating of the period
  const tx = new Map<string, Map<string, { x: number; v: number }>>();
  for (const r of ratings) {
    const key = `${r.to}#${Number.isFinite(period) ? Math.floor(r.time / period) : 0}`;
    let m = tx.get(key);
    if (!m) tx.set(key, (m = new Map()));
    m.set(r.from, { x: r.value >= good ? 1 : 0, v: r.value });
  }
  // Counts, not pairs: per transaction, how many reference raters said good and bad; each rater's
  // comparisons follow from those counts minus itself (linear in the raters, where comparing every
  // pair was quadratic).
  const compare = (reference?: Set<string>) => {
    const agree = new Map<string, { same: number; n: number; above: number; below: number }>();
    for (const m of tx.values()) {
      if (m.size < 2) continue;
      let goods = 0;
      let bads = 0;
      for (const [j, xj] of m) if (!reference || reference.has(j)) xj.x === 1 ? goods++ : bads++;
      for (const [i, xi] of m) {
        const a = agree.get(i) ?? { same: 0, n: 0, above: 0, below: 0 };
        const inRef = !reference || reference.has(i);
        const g = goods - (inRef && xi.x === 1 ? 1 : 0);
        const b = bads - (inRef && xi.x === 0 ? 1 : 0);
        a.n += g + b;
        if (xi.x === 1) {
          a.same += g;
          a.above += b;
        } else {
          a.same += b;
          a.below += g;
        }
        agree.set(i, a);
      }
    }
    return agree;
  };
  // Two passes: the second compares each rater only with raters the first found credible, so that
  // an honest rater is not blamed for disagreeing with a mouther.
  const first = compare(o.reference);
  const credible = new Set([...first].filter(([, a]) => a.n === 0 || a.same / a.n >= threshold).map(([i]) => i));
  const agree = compare(new Set([...credible].filter((i) => !o.reference || o.reference.has(i))));
  const credibility = new Map<string, number>();
  const detections: Detection[] = [];
  for (const [i, a] of agree) {
    const r = a.n === 0 ? 1 : a.same / a.n;
    credibility.set(i, r);
    // An honest rater's disagreements are noise, about as often above as below; a mouther's lean
    // one way. Flag a low agreement ratio, or a strong one-sided lean.
    const skew = a.n === 0 ? 0 : Math.abs(a.above - a.below) / a.n;
    if (a.n >= minComparisons && (r < threshold || skew > (o.skew ?? 0.2))) {
      const kind = a.above >= a.below ? AttackKind.GoodMouthing : AttackKind.BadMouthing;
      detections.push({
        entity: i,
        kind,
        score: r,
        reason: `agreement ratio ${r.toFixed(2)} < ${threshold} over ${a.n} comparisons (${a.above} above, ${a.below} below the others)`,
      });
    }
  }
  return { detections, credibility };
}

/**
 * Credibility-weighted reputation of every target: sum_i c_i x_i / sum_i c_i over its raters.
 */
export function credibilityWeightedReputation(ratings: RatingEvent[], credibility: Map<string, number>): Map<string, number> {
  const acc = new Map<string, { s: number; w: number }>();
  for (const r of ratings) {
    const c = credibility.get(r.from) ?? 1;
    const a = acc.get(r.to) ?? { s: 0, w: 0 };
    a.s += c * r.value;
    a.w += c;
    acc.set(r.to, a);
  }
  return new Map([...acc].map(([k, a]) => [k, a.w === 0 ? 0 : a.s / a.w]));
}

/** Options of {@link detectAll}. */
export type DetectAllOptions = { mouthing?: MouthingOptions; onOff?: OnOffOptions; sybil?: SybilOptions };

/**
 * The three detectors in the order the pipeline runs them: Sybil (Eq. 37) from the verified seeds;
 * mouthing (Eq. 36) against the raters not found Sybil; on-off against the raters found credible.
 */
export function detectAllLegacy(ratings: RatingEvent[], nodes: string[], seeds: Set<string>, o: DetectAllOptions = {}): Detection[] {
  const sybil = detectSybils(ratings, nodes, seeds, o.sybil);
  const sybils = new Set(sybil.detections.map((d) => d.entity));
  const notSybil = new Set(nodes.filter((n) => !sybils.has(n)));
  const mouthing = detectMouthing(ratings, { ...o.mouthing, reference: notSybil });
  const mouthers = new Set(mouthing.detections.map((d) => d.entity));
  const credible = new Set([...notSybil].filter((n) => !mouthers.has(n)));
  const onOff = detectOnOff(ratings, { ...o.onOff, raters: credible });
  return [...sybil.detections, ...mouthing.detections, ...onOff];
}

/**
 * The detectors `trust:detect` runs (issue 15): SybilRank from the verified seeds, iterated
 * filtering of unfair raters, CUSUM for behaviour changes (offchain/trust/robust.ts). The
 * detectors above remain for comparison (`detectAllLegacy`).
 * @param ratings - the rating history
 * @param nodes - every entity
 * @param seeds - identity-verified entities
 * @param o - options of {@link analyze}
 * @returns the detections, each with its evidence
 */
export function detectAll(ratings: RatingEvent[], nodes: string[], seeds: Set<string>, o: AnalyzeOptions = {}): Detection[] {
  return analyze(ratings, nodes, seeds, o).detections;
}
