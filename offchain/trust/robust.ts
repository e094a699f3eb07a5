/**
 * Detection that generalizes (issue 15): four methods from the reputation literature, run in one
 * pass over the rating history, with work linear in the number of ratings (plus a sort by time
 * and an O(E log n) propagation):
 *
 * 0. **One observation per rater, target and epoch.** Ratings of one pair within one decay epoch
 *    are averaged into one observation (what TrustManager keeps once it accepts one rating per
 *    pair per epoch), so a rating flood weighs what one rating weighs.
 * 0b. **Evidence capacity** (vote capacity, SumUp, Tran et al. NSDI 2009): on each target, the
 *    observations that contain a rating without an evidence record set weigh together at most
 *    `unevidencedCapacity` (3) observations in its consensus, the reference and effective trust
 *    (each still counts whole in its rater's own test), and the target's change test reads its
 *    evidenced observations when it has enough: a crowd that shows no interaction is bounded.
 * 1. **SybilRank** (Cao, Sirivianos, Yang and Pregueiro, NSDI 2012) on the directed graph of
 *    positive opinions (i -> j when i's mean rating of j is >= 0.5): trust starts on the
 *    identity-verified seeds and is spread along out-edges for ceil(log2 n) steps only (early
 *    termination, before it leaks into a Sybil region through the few attack edges), then divided
 *    by the positive in-degree. Only an honest rater's opinion carries trust out, so what reaches
 *    a Sybil region is bounded by its attack edges, whatever the number of Sybils. An entity
 *    whose normalized trust is below `tau` times the median is flagged Sybil; every rater's weight
 *    is its normalized trust over the median, capped at 1 (EigenTrust's principle, Kamvar et al.
 *    2003: an opinion weighs what its holder is trusted).
 * 1b. **Lockstep groups** (CopyCatch, Beutel, Xu, Guruswami, Palow and Faloutsos, WWW 2013): a
 *    (rater, target) pair is regular when the rater rated the target in more of its active epochs
 *    than a rater choosing independently at the target's rate would (binomial tail <= alpha / the
 *    number of pairs); a group is the (3 raters, 2 targets)-core of the regular pairs, found by
 *    peeling (linear). Its ratings of its targets count as one voice: one observation per target
 *    (a group that captures a quiet target's consensus weighs what one opinion weighs). Tested as
 *    one rater (its per-epoch voice) against the seed-anchored reference of section 2; every member
 *    is flagged when that voice disagrees (z >= `z`). Honest regulars who agree are one voice, not flagged.
 * 2. **Iterated filtering of unfair raters** (Whitby, Jøsang and Indulska 2004, on the beta
 *    reputation system of Jøsang and Ismail 2002). Each rater's values are first corrected by its
 *    own strictness (the median of its differences from the other raters of the same targets).
 *    For each (rater, target) pair, the reference p is a beta estimate of the target's bad share
 *    that leaves the rater out and is anchored on the verified seeds: their outcomes count in
 *    full, the other raters' weighted consensus as at most `anchor` observations (pre-trusted
 *    peers, EigenTrust; bounded vote capacity, SumUp). A fair rater's bad outcomes follow p. Per
 *    rater, on targets the reference finds good (p < 0.5), the excess of its bad outcomes,
 *    sum(b - p), over its standard deviation (the reference's error counted once per pair, since
 *    all the pair's observations share it) is a z statistic for bad-mouthing; on targets found bad,
 *    the excess of good outcomes for good-mouthing; and both together. A rater above `z` (and with
 *    at least `minExcess` excess outcomes) is unfair: its weight drops to 0 and the estimates are
 *    recomputed, a few times. Lying on a fifth of good services adds up over a rater's history.
 * 2a. **Raters on a binary scale** (two values, one on either side of 0.5: thumbs up / down): no value
 *    offset expresses their strictness. Such a rater is compared with the others' outcomes at its own
 *    bar (where the others would have given as many bad verdicts on its targets), capped at 0.5 +- 0.3,
 *    and its verdicts count as what they imply on the continuous scale, only if one bar explains its
 *    downs on every target (a likelihood-ratio test target by target, beta-binomial nulls, exact tail,
 *    rejected at every bar of the cap, at alpha per rater); otherwise it is tested at 0.5 like any rater.
 * 2b. **Tail test over a rater's whole history** (Whitby et al.'s quantile filter, accumulated):
 *    an observation is a hit when its conformal rank among the target's other raters' corrected
 *    values is at most max(q, 1 / (others + 1)) (`tailQuantile` q = 0.01), values at the scale's ends
 *    censored and the rater's strictness error allowed for; a rater's hits against a Poisson with
 *    their summed levels, Bonferroni over the raters. Camouflaged liars accumulate hits.
 * 2c. **Selective-liar scan** (session 14): a rater that 2 does not flag is tested on the targets where
 *    it disagrees: per target the exact beta-binomial tail of its outcomes under 2's null, the truncated
 *    product (Zaykin et al. 2002, tau = 0.05) of those at most tau, the largest left out, against its exact
 *    null (a convolution of the targets' own distributions), at 2's level (z = 4): lies on a few targets
 *    are no longer cancelled by fair ratings of the rest (`scanTruncation`).
 * 2d. **Rare extreme lies** (session 15): per rater, the count of its very low ratings (below 0.2; a binary
 *    rater's downs) of targets the seed-anchored reference finds good, against what its strictness predicts:
 *    the others' share of corrected values below its bar there (2's reference, the seeds' share on good
 *    targets as one pseudo-observation), the exact tail of the beta-binomials' convolution, at 0.001 per rater
 *    (`extremeLies`, `genericAlpha`). A fifth of good services lied about is caught where 2's sum dilutes it.
 * 3. **Behaviour change** (on-off, Sybils that turn): per target, its credible observations in
 *    time order, bad = 1. The Bernoulli log-likelihood-ratio CUSUM (Page 1954) from its own
 *    long-run bad rate p0 to p0 + `delta` alarms at h = ln(n / alpha), a one-change-point
 *    likelihood-ratio test with both rates unknown (binomial GLR, Hinkley 1971; `glr`) catches a
 *    late turn that the long-run rate hides, and a windowed dispersion test catches milder phases
 *    (both with bootstrap p-values); each alarms on a stationary entity with probability about alpha. A change is an episode (the CUSUM's maximal segment); the entity is
 *    flagged on-off only on recurrence (a second change outside it, tested at `recurrenceAlpha`
 *    once the first is established, or a recovery inside it) or
 *    without recovery after it (Wald's SPRT bound ln(1 / alpha)). One episode followed by recovery
 *    (an outage, a framing burst) is a notice: evidence in the report, no flag, no penalty.
 * 3c. **Two service levels** (session 15; on by default since session 17, `serviceLevels: false` turns it
 *    off): per provider, the spread of its strictness-corrected, peer-normalized values received in units of
 *    the population's noise against a provider at one level with that noise (Monte Carlo), flagged on-off at
 *    `genericAlpha`. It runs only when the noise can be estimated: from at least log2(1 / genericAlpha)
 *    providers whose median is mid-scale (`levels` in the analysis says whether it ran).
 * 3d. **Outages** (session 16, `outages`, with 3c): a provider whose second level is an outage's shape (the
 *    same level for everyone it served in an epoch: the spread within its epochs no more than the
 *    population's noise) and whose down epochs (a two-level mixture of its epochs' means) are at most
 *    `outageShare` of its epochs is not flagged for recurrence: point 3's recurrence flags and 3c's flags of
 *    it become notices. Without 3d, 3c reads the smaller of the two halves of the provider's time (session
 *    15's recurrence condition) and flags honest providers whose outages recur.
 * 4. **Effective trust**: the beta reputation (1 + sum w v) / (2 + sum w) over strictness-corrected
 *    values weighted by rater weight, times TrustManager's flag penalty when flagged.
 *
 * Every detection carries the statistic, its threshold and the observations behind it, so that
 * a person can recompute it from the ratings (pipeline.ts puts them in the IPFS report).
 */
import { InvalidParameterError } from "../errors";
import { Prng } from "../util/prng";
import { AttackKind, type Detection, type RatingEvent } from "./detectors";

/**
 * The version of the detectors, recorded with every suite row (offchain/sim/adversarial.ts), so that a
 * results file can say which rows were measured with which detectors.
 */
export const DETECTORS_VERSION =
  "session 17: two service levels and outages (points 3c and 3d) on by default, run only when the population's noise is estimated from at least log2(1 / genericAlpha) mid-scale providers; session 15's rare extreme lies (point 2d) as before";

/** Options of {@link analyze}. */
export type AnalyzeOptions = {
  /** ratings of one pair within this many seconds count once (default: TrustManager's epoch, 86,400) */
  epochSeconds?: number;
  /** Sybil flag: normalized trust below tau x median (default 0.1) */
  tau?: number;
  /** unfair-rater z threshold (default 4) */
  z?: number;
  /** minimum excess outcomes for an unfair-rater flag (default 2.5: three lies against a unanimous other side) */
  minExcess?: number;
  /**
   * the unfair-rater reference: the other unverified raters' consensus on a target counts as at most
   * this many observations beside the verified seeds' own (default Infinity: every rater counts
   * by its weight)
   */
  anchor?: number;
  trustAnchor?: number;
  /** lockstep groups: fewest raters in a group (default 3) */
  lockstepRaters?: number;
  /** lockstep groups: fewest shared targets per rater (default 2) */
  lockstepTargets?: number;
  /** filtering rounds (default 6) */
  filterRounds?: number;
  /** CUSUM: the shift in bad rate to detect (default 0.3) */
  delta?: number;
  /** CUSUM: false-alarm budget per stationary entity (default 0.01) */
  alpha?: number;
  /**
   * the level of the test for a second change among the observations outside the first episode
   * (default 0.02): a stationary entity is flagged on recurrence with probability about
   * alpha x recurrenceAlpha, an entity with one real change (an outage, a framing burst) with about
   * recurrenceAlpha
   */
  recurrenceAlpha?: number;
  /** CUSUM: fewest observations to test an entity (default 10) */
  /**
   * Whitby et al.'s quantile q for the per-rater tail test (point 2b): an observation is in its
   * target's lower (upper) tail when its conformal rank among the other raters' values of the target
   * is at most max(q, 1 / (others + 1)); default 0.01 (Whitby et al.'s q); 0 turns the test off
   */
  tailQuantile?: number;
  /**
   * run the behaviour-change tests again without the ratings that entities flagged for turning bad (and
   * staying turned) gave from their turn on, until nothing changes (point 3; default true)
   */
  iterateTurned?: boolean;
  /** the one-change-point likelihood-ratio test among the behaviour-change tests (point 3; default true) */
  glr?: boolean;
  minObservations?: number;
  /** dispersion test: window sizes in epochs (default [1, 2, 4]) */
  windows?: number[];
  /** dispersion test: bootstrap replicates (default 1000) */
  bootstrap?: number;
  /** trust multiplier of a flagged entity (default 0.2, as TrustManager) */
  penalty?: number;
  /**
   * ratings whose `evidence` is false (a typed score, no record set: docs/specs/trust.md §8):
   * "cap" (default): they count in the unfair-rater tests like any other, but on each target the
   * observations that contain one weigh together at most `unevidencedCapacity` observations in the
   * target's consensus and effective trust, and its behaviour-change test uses its evidenced
   * observations when it has `minObservations` of them; "count" them like any other; or "ignore"
   * them (they weigh nothing in any statistic)
   */
  unevidenced?: "cap" | "count" | "ignore";
  /**
   * "cap": what all of a target's observations without evidence weigh together, in observations
   * (default 3, as the `anchor`: a crowd that shows no interaction says at most what three observations say)
   */
  unevidencedCapacity?: number;
  /**
   * the selective-liar scan (point 2c): Zaykin et al.'s truncation point for the per-target p-values of a
   * rater's disagreement (default 0.05, theirs); 0 turns the scan off
   */
  scanTruncation?: number;
  /**
   * point 2d (session 15), the rater channel's rare extreme lies: per rater, its very low ratings (below
   * `extremeLow` on its own scale; a binary rater's downs) of targets the seed-anchored reference finds good,
   * against the beta-binomial null of the others' share below its bar on each target, flagged bad-mouthing at
   * `genericAlpha` per rater (default true)
   */
  extremeLies?: boolean;
  /** point 2d: a value below this is a very low rating (default 0.2) */
  extremeLow?: number;
  /**
   * point 3c (session 15), two service levels: per provider, the spread of its strictness-corrected,
   * peer-normalized values received in units of the population's noise (over its whole time with 3d; the
   * smaller of its two halves without), against a provider at one level with that noise (Monte Carlo), flagged
   * on-off at `genericAlpha` per provider (default true since session 17; it runs only when at least
   * log2(1 / genericAlpha) providers have a mid-scale median, from which the population's noise is estimated;
   * docs/specs/trust.md §4)
   */
  serviceLevels?: boolean;
  /**
   * point 3d (session 16), outages: a provider whose second level is an outage's shape (the same level for
   * everyone it served in an epoch: the spread within its epochs no more than the population's noise) and whose
   * down epochs are at most `outageShare` of its epochs is not flagged on-off for recurrence (point 3's
   * recurrence flags and 3c's flags become notices). Applies when `serviceLevels` is on (default true)
   */
  outages?: boolean;
  /** point 3d: the largest share of a provider's epochs that may be down (default 0.2, one epoch in five) */
  outageShare?: number;
  /** points 2d and 3c: the level per identity (default 0.001: each rater or provider it flags stands on its own level, no Bonferroni) */
  genericAlpha?: number;
};

/** One observation a person can check: a rater's (mean) rating of a target in one epoch. */
export type ObservationRef = { from: string; to: string; time: number; value: number; ratings: number };

/** What {@link analyze} returns. */
export type Analysis = {
  detections: Detection[];
  /**
   * evidence that is not a flag: a behaviour change that happened once and recovered (an outage, or
   * a burst of bad ratings that the entity's later service contradicts); no penalty
   */
  notices: Detection[];
  /**
   * lockstep groups: raters who rated the same targets in the same epochs far more often than
   * independent raters would; their ratings of those targets count as one voice (one observation per
   * target; groups are formed per verdict: raters who praise a target and raters who blame it are two
   * groups). `flagged`: the voice disagreed with the raters outside the group, also with any one target
   * left out (then the voice weighs nothing); `flaggedMembers`: the members flagged, by this rule those
   * whose own ratings of the group's targets disagree with the reference too
   */
  lockstep: { members: string[]; targets: string[]; flagged: boolean; flaggedMembers: string[] }[];
  /** effective trust of every entity in [0, 1] */
  trust: Map<string, number>;
  /**
   * what the effective trust is computed from: per entity, the weighted sum of its corrected values
   * received (`value`, Σ w·v) and their total weight (`weight`, Σ w), and whether it is flagged;
   * trust = (1 + value) / (2 + weight), × the penalty when flagged (entities outside the analysis: 0, 0)
   */
  support: Map<string, { value: number; weight: number; flagged: boolean }>;
  /** rater weight in [0, 1] (0 = filtered out) */
  weight: Map<string, number>;
  /** observations after one-per-epoch deduplication */
  observations: number;
  /** ratings left out because they carry no evidence (`unevidenced: "ignore"`) */
  ignoredUnevidenced: number;
  /**
   * points 3c/3d (two service levels, outages): whether they ran (`ran`), from how many mid-scale providers the
   * population's noise was estimated (`noiseProviders`, at least `needed` = log2(1 / genericAlpha) rounded up),
   * and the noise variance (null when they did not run); null with `serviceLevels: false`
   */
  levels: { ran: boolean; noiseProviders: number; needed: number; noiseVariance: number | null } | null;
};

/**
 * Runs the methods.
 * @param ratings - the rating history (any order)
 * @param nodes - every entity (entities only seen in ratings are added; entities in no rating and not a seed get the prior)
 * @param seeds - identity-verified entities (SybilRank's trusted seeds); none disables the Sybil flag
 * @param o - options
 * @returns the detections with their evidence, effective trust and rater weights
 * @throws InvalidParameterError on an option out of range
 */
export function analyze(
  ratings: readonly RatingEvent[],
  nodes: readonly string[],
  seeds: ReadonlySet<string>,
  o: AnalyzeOptions = {},
): Analysis {
  const epoch = o.epochSeconds ?? 86_400;
  const tau = o.tau ?? 0.1;
  const zStar = o.z ?? 4;
  const minExcess = o.minExcess ?? 2.5;
  const filterRounds = o.filterRounds ?? 6;
  const delta = o.delta ?? 0.3;
  const alpha = o.alpha ?? 0.01;
  const recurrenceAlpha = o.recurrenceAlpha ?? 0.02;
  const minObs = o.minObservations ?? 10;
  const penalty = o.penalty ?? 0.2;
  const anchor = o.anchor ?? 3;
  const scanTau = o.scanTruncation ?? 0.05;
  if (!(scanTau >= 0 && scanTau < 1)) throw new InvalidParameterError("analyze: scanTruncation must be in [0, 1)");
  if (!(epoch > 0)) throw new InvalidParameterError("analyze: epochSeconds must be positive");
  if (!(tau >= 0 && tau < 1)) throw new InvalidParameterError("analyze: tau must be in [0, 1)");
  if (!(zStar > 0) || !(delta > 0 && delta < 1) || !(alpha > 0 && alpha < 1))
    throw new InvalidParameterError("analyze: z > 0, delta and alpha in (0, 1)");
  if (!(anchor >= 0)) throw new InvalidParameterError(`analyze: anchor must be >= 0, got ${anchor}`);
  if (!(penalty >= 0 && penalty <= 1)) throw new InvalidParameterError("analyze: penalty must be in [0, 1]");
  if (!(recurrenceAlpha > 0 && recurrenceAlpha < 1))
    throw new InvalidParameterError(`analyze: recurrenceAlpha must be in (0, 1), got ${recurrenceAlpha}`);
  const lockRaters = o.lockstepRaters ?? 3;
  const lockTargets = o.lockstepTargets ?? 2;
  if (!(Number.isInteger(lockRaters) && lockRaters >= 2) || !(Number.isInteger(lockTargets) && lockTargets >= 1))
    throw new InvalidParameterError(
      `analyze: lockstepRaters must be an integer >= 2 and lockstepTargets >= 1, got ${lockRaters}, ${lockTargets}`,
    );
  const unevidencedMode = o.unevidenced ?? "cap";
  if (unevidencedMode !== "cap" && unevidencedMode !== "count" && unevidencedMode !== "ignore")
    throw new InvalidParameterError(`analyze: unevidenced must be "cap", "count" or "ignore", got ${String(o.unevidenced)}`);
  const ignoreUnevidenced = unevidencedMode === "ignore";
  const capUnevidenced = unevidencedMode === "cap";
  const capacity = o.unevidencedCapacity ?? 3;
  if (!(capacity >= 0)) throw new InvalidParameterError(`analyze: unevidencedCapacity must be >= 0, got ${String(o.unevidencedCapacity)}`);
  let ignoredUnevidenced = 0;

  // --- 0. intern ids, sort by time, one observation per (rater, target, epoch)
  const ids = new Map<string, number>();
  const names: string[] = [];
  const intern = (s: string) => {
    let k = ids.get(s);
    if (k === undefined) {
      ids.set(s, (k = names.length));
      names.push(s);
    }
    return k;
  };
  // Only entities that rate, are rated or seed take part: an entity nobody rated and who rated
  // nobody cannot move any statistic, and registration is permissionless, so padding the registry
  // with empty identities must cost the analysis nothing (it once threw at 2^20 entities, and the
  // number of SybilRank steps grew with them). They get the prior below.
  const active = new Set<string>(seeds);
  for (const r of ratings) (active.add(r.from), active.add(r.to));
  for (const n of nodes) if (active.has(n)) intern(n);
  for (const r of ratings) (intern(r.from), intern(r.to));
  const N = names.length;
  // pair keys f * N + t stay exact integers while N^2 < 2^53
  if (N >= 2 ** 26) throw new InvalidParameterError(`analyze: ${N} rated entities, at most ${2 ** 26 - 1}`);
  // chain history arrives in time order: sort only when it does not
  let sorted = true;
  for (let k = 1; k < ratings.length && sorted; k++) sorted = ratings[k - 1].time <= ratings[k].time;
  const order = sorted ? null : Array.from(ratings.keys()).sort((a, b) => ratings[a].time - ratings[b].time);
  const oFrom: number[] = [];
  const oTo: number[] = [];
  const oTime: number[] = [];
  const oSum: number[] = [];
  const oCount: number[] = [];
  const oUnev: number[] = []; // 1: the observation contains a rating without evidence
  const lastOfPair = new Map<number, number>(); // pair -> index of its latest observation
  const levels = new Map<number, number[]>(); // rater -> the distinct values it rated with (up to 3)
  for (let q = 0; q < ratings.length; q++) {
    const r = ratings[order ? order[q] : q];
    if (r.from === r.to || !(r.value >= 0 && r.value <= 1)) continue;
    if (ignoreUnevidenced && r.evidence === false) {
      ignoredUnevidenced++;
      continue;
    }
    const f = ids.get(r.from)!;
    const t = ids.get(r.to)!;
    const lv = levels.get(f);
    if (!lv) levels.set(f, [r.value]);
    else if (lv.length < 3 && !lv.includes(r.value)) lv.push(r.value);
    const pair = f * N + t; // a small integer while N < 46,341
    const e = Math.floor(r.time / epoch);
    const last = lastOfPair.get(pair);
    if (last !== undefined && Math.floor(oTime[last] / epoch) === e) {
      oSum[last] += r.value;
      oCount[last]++;
      if (r.evidence === false) oUnev[last] = 1;
      continue;
    }
    lastOfPair.set(pair, oFrom.length);
    oFrom.push(f);
    oTo.push(t);
    oTime.push(r.time);
    oSum.push(r.value);
    oCount.push(1);
    oUnev.push(r.evidence === false ? 1 : 0);
  }
  const M = oFrom.length;
  const oVal = new Float64Array(M);
  for (let k = 0; k < M; k++) oVal[k] = oSum[k] / oCount[k];
  const ref = (k: number): ObservationRef => ({
    from: names[oFrom[k]],
    to: names[oTo[k]],
    time: oTime[k],
    value: Number(oVal[k].toFixed(4)),
    ratings: oCount[k],
  });
  const detections: Detection[] = [];
  const flaggedKinds = new Map<number, Set<AttackKind>>();
  const flag = (i: number, d: Detection) => {
    detections.push(d);
    const s = flaggedKinds.get(i) ?? new Set();
    s.add(d.kind);
    flaggedKinds.set(i, s);
  };

  // --- 1. SybilRank on the directed positive-opinion graph
  const pairSum = new Map<number, { f: number; t: number; s: number; n: number }>();
  for (let k = 0; k < M; k++) {
    const pair = oFrom[k] * N + oTo[k];
    const p = pairSum.get(pair);
    if (p) ((p.s += oVal[k]), p.n++);
    else pairSum.set(pair, { f: oFrom[k], t: oTo[k], s: oVal[k], n: 1 });
  }
  const outDeg = new Int32Array(N);
  const inDeg = new Int32Array(N);
  const edges: number[] = [];
  for (const p of pairSum.values())
    if (p.s / p.n >= 0.5) {
      outDeg[p.f]++;
      inDeg[p.t]++;
      edges.push(p.f, p.t);
    }
  const seedIdx = [...seeds].map((s) => ids.get(s)).filter((x): x is number => x !== undefined);
  const weight = new Float64Array(N).fill(1);
  const normTrust = new Float64Array(N);
  let sybilMedian = NaN;
  if (seedIdx.length > 0) {
    let t = new Float64Array(N);
    for (const s of seedIdx) t[s] = 1 / seedIdx.length;
    const steps = Math.max(1, Math.ceil(Math.log2(Math.max(2, N))));
    for (let step = 0; step < steps; step++) {
      const next = new Float64Array(N);
      for (let i = 0; i < N; i++) if (outDeg[i] === 0) next[i] += t[i]; // a sink keeps what it holds
      for (let e = 0; e < edges.length; e += 2) next[edges[e + 1]] += t[edges[e]] / outDeg[edges[e]];
      t = next;
    }
    const inEdges = groupBy(
      edges.filter((_, e) => e % 2 === 1),
      N,
    ); // per target, the indices (into edges / 2) of its positive raters
    const scored: number[] = [];
    for (let i = 0; i < N; i++) if (inDeg[i] > 0) scored.push((normTrust[i] = t[i] / inDeg[i]));
    sybilMedian = median(scored);
    for (let i = 0; i < N; i++) {
      const isSeed = seeds.has(names[i]);
      weight[i] = isSeed ? 1 : sybilMedian > 0 ? Math.min(1, normTrust[i] / sybilMedian) : 0;
      if (!isSeed && inDeg[i] > 0 && normTrust[i] < tau * sybilMedian) {
        // the raters who vouch for it: the attack edges if it is a Sybil
        const vouchers = inEdges[i].slice(0, 12).map((e) => names[edges[2 * e]]);
        flag(i, {
          entity: names[i],
          kind: AttackKind.Sybil,
          score: normTrust[i] / sybilMedian,
          reason: `SybilRank: trust from the ${seedIdx.length} verified seeds after ${steps} steps, per positive rater, is ${(normTrust[i] / sybilMedian).toFixed(3)} of the median, below ${tau}`,
          evidence: {
            statistic: "SybilRank degree-normalized trust / median",
            value: normTrust[i] / sybilMedian,
            threshold: tau,
            steps,
            positiveRaters: inDeg[i],
            vouchers,
          },
        });
        weight[i] = 0;
      }
    }
  }

  const byRater = groupBy(oFrom, N);
  const byTarget = groupBy(oTo, N); // each group in time order (observations were made in time order)

  // --- 1b. lockstep groups (CopyCatch, Beutel et al. WWW 2013): raters who rate the same targets in
  // the same epochs, far more often than independent choices would. A (rater, target) pair is
  // *regular* when the rater rated the target in so many of its active epochs that a rater who picks
  // targets independently, each epoch, at the target's rate (its observations over all active
  // rater-epochs) would do so with probability <= alpha / (number of pairs) (binomial tail,
  // Bonferroni over the pairs). A group is the (lockRaters, lockTargets)-core of the bipartite graph
  // of regular pairs (every rater in it is regular on >= lockTargets of its targets, every target has
  // >= lockRaters regular raters in it; peeling, linear), one group per connected component. A group's
  // ratings of its targets are one voice: per target, one observation (their mean), whatever the
  // number of members and epochs (consequence: a group that captures a quiet target's consensus
  // weighs what one rater's single opinion weighs). Flagged (further down) only if that voice
  // disagrees with the raters outside the group.
  const epochOf = (k: number) => Math.floor(oTime[k] / epoch);
  const activeEpochs = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let last = NaN;
    for (const k of byRater[i]) if (epochOf(k) !== last) ((last = epochOf(k)), activeEpochs[i]++);
  }
  let raterEpochs = 0;
  let maxE = 0;
  for (let i = 0; i < N; i++) ((raterEpochs += activeEpochs[i]), (maxE = Math.max(maxE, activeEpochs[i])));
  const logFact = new Float64Array(maxE + 2);
  for (let x = 1; x <= maxE + 1; x++) logFact[x] = logFact[x - 1] + Math.log(x);
  /**
   * P(X >= k), X ~ Binomial(n, q), for k above the mean n q: the terms fall from j = k on, so the sum
   * stops once they no longer change it (a few terms however many epochs the history has)
   */
  const binomTail = (n: number, k: number, q: number) => {
    if (k <= n * q || q >= 1) return 1;
    let s = 0;
    for (let j = k; j <= n; j++) {
      const term = Math.exp(logFact[n] - logFact[j] - logFact[n - j] + j * Math.log(q) + (n - j) * Math.log1p(-q));
      s += term;
      if (term <= s * 1e-12) break;
    }
    return Math.min(1, s);
  };
  const regularAlpha = alpha / Math.max(1, pairSum.size);
  // A regular pair's target node is the target *with the rater's verdict on it* (2 t + 1 when the
  // rater's mean rating of it is bad): lockstep is the same action at the same time (CopyCatch groups
  // raters who take the same action on the same pages), so raters who praise a target and raters who
  // blame it every epoch are two groups, not one. Attackers who join honest regulars and rate their
  // targets the other way form their own group; they cannot pull the regulars' voice.
  const regular: { f: number; t: number; v: number; n: number; q: number; p: number }[] = [];
  for (const pr of pairSum.values()) {
    if (pr.n < 3) continue; // three epochs at least: below that nothing is unusual
    const q = byTarget[pr.t].length / raterEpochs;
    const pv = binomTail(activeEpochs[pr.f], pr.n, q);
    if (pv <= regularAlpha) regular.push({ f: pr.f, t: pr.t, v: 2 * pr.t + (pr.s / pr.n < 0.5 ? 1 : 0), n: pr.n, q, p: pv });
  }
  // the core: peel raters with < lockTargets regular targets and targets with < lockRaters regular raters
  const rDeg = new Int32Array(N);
  const tDeg = new Int32Array(2 * N); // per signed target node
  const rAdj = new Map<number, number[]>();
  const tAdj = new Map<number, number[]>();
  regular.forEach((e, x) => {
    rDeg[e.f]++;
    tDeg[e.v]++;
    (rAdj.get(e.f) ?? rAdj.set(e.f, []).get(e.f)!).push(x);
    (tAdj.get(e.v) ?? tAdj.set(e.v, []).get(e.v)!).push(x);
  });
  const edgeGone = new Uint8Array(regular.length);
  const rGone = new Uint8Array(N);
  const tGone = new Uint8Array(2 * N);
  const queue: [0 | 1, number][] = [];
  for (const f of rAdj.keys()) if (rDeg[f] < lockTargets) ((rGone[f] = 1), queue.push([0, f]));
  for (const t of tAdj.keys()) if (tDeg[t] < lockRaters) ((tGone[t] = 1), queue.push([1, t]));
  while (queue.length) {
    const [side, v] = queue.pop()!;
    for (const x of (side === 0 ? rAdj : tAdj).get(v)!) {
      if (edgeGone[x]) continue;
      edgeGone[x] = 1;
      const e = regular[x];
      if (side === 0) {
        if (--tDeg[e.v] < lockRaters && !tGone[e.v]) ((tGone[e.v] = 1), queue.push([1, e.v]));
      } else if (--rDeg[e.f] < lockTargets && !rGone[e.f]) ((rGone[e.f] = 1), queue.push([0, e.f]));
    }
  }
  /** targets: signed target nodes (2 t + 1: the members' verdict on t is bad) */
  type Group = { members: number[]; targets: number[]; edges: number[] };
  const groups: Group[] = [];
  const rSeen = new Uint8Array(N);
  const tSeen = new Uint8Array(2 * N);
  for (const f0 of rAdj.keys()) {
    if (rGone[f0] || rSeen[f0]) continue;
    const g: Group = { members: [], targets: [], edges: [] };
    const stack: [0 | 1, number][] = [[0, f0]];
    rSeen[f0] = 1;
    while (stack.length) {
      const [side, v] = stack.pop()!;
      (side === 0 ? g.members : g.targets).push(v);
      for (const x of (side === 0 ? rAdj : tAdj).get(v)!) {
        if (edgeGone[x]) continue;
        const e = regular[x];
        if (side === 0) {
          g.edges.push(x);
          if (!tSeen[e.v]) ((tSeen[e.v] = 1), stack.push([1, e.v]));
        } else if (!rSeen[e.f]) ((rSeen[e.f] = 1), stack.push([0, e.f]));
      }
    }
    groups.push(g);
  }
  // every observation of a group's target by a group member is part of the group's voice
  const groupOf = new Int32Array(N).fill(-1); // rater -> group
  for (const [gi, g] of groups.entries()) for (const f of g.members) groupOf[f] = gi;
  const blocked = new Uint8Array(M);
  type Voice = { group: number; t: number; ks: number[] };
  const voices: Voice[] = [];
  const signOf = (f: number, t: number) => {
    const pr = pairSum.get(f * N + t)!;
    return pr.s / pr.n < 0.5 ? 1 : 0;
  };
  for (const [gi, g] of groups.entries()) {
    const inG = new Set(g.targets);
    const per = new Map<number, number[]>(); // signed target node -> the members' observations
    for (const f of g.members)
      for (const k of byRater[f]) {
        const v = 2 * oTo[k] + signOf(f, oTo[k]);
        if (inG.has(v)) (per.get(v) ?? per.set(v, []).get(v)!).push(k);
      }
    for (const [v, ks] of per) {
      for (const k of ks) blocked[k] = 1;
      voices.push({ group: gi, t: v >> 1, ks: ks.sort((x, y) => x - y) });
    }
  }
  /** a group's distinct targets, by name */
  const targetNames = (g: Group) => [...new Set(g.targets.map((v) => names[v >> 1]))];

  // --- 2. strictness correction and iterated filtering of unfair raters
  const offset = new Float64Array(N);
  const offsetSe = new Float64Array(N);
  const adj = new Float64Array(M);
  const bad = new Uint8Array(M);
  const cred = new Float64Array(N).fill(1);
  const W = (i: number) => weight[i] * cred[i];
  const tSum = new Float64Array(N); // per target: sum W, sum W b, sum W v
  const tBad = new Float64Array(N);
  const tVal = new Float64Array(N);
  // a group's voice on a target: one observation, the mean of its members' corrected values, weighted
  // by their mean weight (0 once the group is flagged)
  const groupFlagged = new Uint8Array(groups.length);
  const voiceOf = (v: Voice) => {
    let val = 0;
    let w = 0;
    for (const k of v.ks) ((val += adj[k]), (w += W(oFrom[k])));
    return { w: groupFlagged[v.group] ? 0 : w / v.ks.length, value: val / v.ks.length };
  };
  // Evidence capacity ("cap"): per target, the observations without evidence weigh together at most
  // `capacity` observations (each scaled by capacity / their total weight when they weigh more), in
  // the consensus, the reference and effective trust. A crowd that shows no interaction with the
  // target (a flood, bad-mouthing from outside) is bounded whatever its size; each of its ratings
  // still counts whole in its rater's own unfair-rater test.
  const capF = new Float64Array(N).fill(1);
  const uSum = new Float64Array(N);
  const evMult = (k: number) => (oUnev[k] ? capF[oTo[k]] : 1);
  const totals = () => {
    tSum.fill(0);
    tBad.fill(0);
    tVal.fill(0);
    if (capUnevidenced) {
      uSum.fill(0);
      for (let k = 0; k < M; k++) if (oUnev[k] && !blocked[k]) uSum[oTo[k]] += W(oFrom[k]);
      for (let t = 0; t < N; t++) capF[t] = uSum[t] > capacity ? capacity / uSum[t] : 1;
    }
    for (let k = 0; k < M; k++) {
      if (blocked[k]) continue;
      const w = W(oFrom[k]) * evMult(k);
      tSum[oTo[k]] += w;
      tBad[oTo[k]] += w * badRef[k];
      tVal[oTo[k]] += w * valRef[k];
    }
    for (const v of voices) {
      const { w, value } = voiceOf(v);
      tSum[v.t] += w;
      tBad[v.t] += value < 0.5 ? w : 0;
      tVal[v.t] += w * value;
    }
  };
  // what an observation says of its target at the common threshold 0.5, in the targets' references:
  // its outcome, except for a binary rater with a bar (2a), whose verdict is translated below
  const badRef = new Float64Array(M);
  // what an observation says of its target on the continuous scale, in consensus and effective trust: its
  // corrected value, except for a binary rater with a bar (2a), whose verdict is translated below
  const valRef = new Float64Array(M);
  const applyOffsets = () => {
    for (let k = 0; k < M; k++) {
      adj[k] = clip01(oVal[k] - offset[oFrom[k]]);
      badRef[k] = bad[k] = adj[k] < 0.5 ? 1 : 0;
      valRef[k] = adj[k];
    }
  };
  applyOffsets();
  totals();
  // strictness: median difference from the other raters' mean corrected value, capped at 0.3
  for (let i = 0; i < N; i++) {
    const ks = byRater[i];
    const diffs: number[] = [];
    for (const k of ks) {
      if (blocked[k]) continue;
      const w = W(i) * evMult(k);
      const others = tSum[oTo[k]] - w;
      if (others >= 1) diffs.push(oVal[k] - (tVal[oTo[k]] - w * adj[k]) / others);
    }
    offset[i] = diffs.length >= 5 ? Math.max(-0.3, Math.min(0.3, median(diffs))) : 0;
    // the offset's standard error (a median's: 1.2533 sd / sqrt(n), the sd from the MAD); without an
    // estimate, anything within the cap is possible
    if (diffs.length >= 5) {
      const med = median(diffs);
      offsetSe[i] = (1.2533 * 1.4826 * median(diffs.map((d) => Math.abs(d - med)))) / Math.sqrt(diffs.length);
    } else offsetSe[i] = 0.3;
  }
  applyOffsets();
  // --- 2a. the verdict bar of a rater whose scale is binary (thumbs up / down): its two values say only
  // whether the service was above its own bar, so no offset on the value scale expresses its strictness
  // (its median difference from the others is about 0 when it says "up" and the others rate 0.8-0.9).
  // Such a rater is compared, in the unfair-rater test, with the others' outcomes at its bar: the bar b
  // on the others' corrected scale at which the others, on the targets it rated (itself left out), would
  // have given as many bad verdicts as it gave (quantile matching at the decision threshold, the binary
  // case of a monotone calibration). The bar is capped like the strictness offset (0.5 +- 0.3): a
  // binary rater is allowed exactly the strictness a continuous one is.
  const bar = new Float64Array(N).fill(0.5);
  const barred = new Uint8Array(N); // binary raters with a bar other than 0.5
  const binaryRaters: number[] = [];
  // binary: exactly two values, one on each side of the scale's middle (an up and a down); two values on
  // one side (0.9 and 1 for everything) are places on the continuous scale, tested as such
  for (const [i, lv] of levels) if (lv.length === 2 && lv[0] < 0.5 !== lv[1] < 0.5 && byRater[i].length >= 5) binaryRaters.push(i);
  const byTargetAdj: Int32Array[] = [];
  /** per target, the corrected values of byTargetAdj's observations, in its order (what weightBelow searches) */
  const adjSorted: Float64Array[] = [];
  const sortByAdj = () => {
    for (let t = 0; t < N; t++) {
      const ks = Int32Array.from(byTarget[t]).sort((x, y) => adj[x] - adj[y]);
      byTargetAdj.push(ks);
      adjSorted.push(Float64Array.from(ks, (k) => adj[k]));
    }
  };
  const cumAll: Float64Array[] = [];
  const cumSeed: Float64Array[] = [];
  /** per target, the cumulated weight of its observations (all, and the seeds') in the order of their corrected values */
  const buildCum = () => {
    for (let t = 0; t < N; t++) {
      const ks = byTargetAdj[t];
      const ca = (cumAll[t] ??= new Float64Array(ks.length + 1));
      const cs = (cumSeed[t] ??= new Float64Array(ks.length + 1));
      for (let x = 0; x < ks.length; x++) {
        const k = ks[x];
        const w = blocked[k] ? 0 : W(oFrom[k]) * evMult(k);
        ca[x + 1] = ca[x] + w;
        cs[x + 1] = cs[x] + (isSeedIdx.has(oFrom[k]) ? w : 0);
      }
    }
  };
  /** the target's observations with a corrected value below b: their weight in `cum` */
  const weightBelow = (t: number, b: number, cum: Float64Array) => {
    const vs = adjSorted[t];
    let lo = 0;
    let hi = vs.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (vs[m] < b) lo = m + 1;
      else hi = m;
    }
    return cum[lo];
  };
  const isSeedIdx = new Set(seedIdx);
  // --- 2a (ii). Does one bar explain a binary rater's downs? (session 13)
  // H0: there is a bar b in [0.2, 0.8] (the cap) such that on each target t the rater's downs d_t of its
  // n_t observations are drawn as the others' below-b outcomes on t: d_t ~ BetaBinomial(n_t, p_t(b)), p_t(b)
  // the seed-anchored reference of point 2 at b with its m + 1 pseudo-counts (the reference's own error,
  // point 2's design effect). The statistic is the likelihood-ratio G(b) = sum_t 2 [d ln(d / n p) +
  // (n - d) ln((n - d) / n (1 - p))], each target's term with its exact null distribution (d = 0..n_t),
  // and the tail P(G >= g) is Chernoff's bound (min over lambda in (0, 1/2) of exp(-lambda g) prod_t
  // E[exp(lambda G_t)]) or, where that does not reject, the exact tail by convolution (both valid for any
  // number of targets, however sparse: no chi-square approximation). H0 is rejected when it is rejected
  // at every b of the grid (an intersection-union test: its level is each test's level), at alpha per
  // rater: a rejection flags nothing, it returns the rater to the common test at 0.5 (what every rater
  // had before), so at most a share alpha of honest binary raters lose their bar. Downs spread as one
  // bar predicts (a harsh rater's: more on the mediocre targets, some on the excellent ones) fit; downs
  // concentrated on a few targets where the others' below-bar share is small, with too few downs
  // elsewhere, do not.
  const gate = new Map<number, { p: number; b: number; g: number; targets: number }>();
  const binaryAlpha = alpha;
  const lambdas = Array.from({ length: 19 }, (_, x) => 0.025 * (x + 1));
  const barGrid = Array.from({ length: 31 }, (_, x) => 0.2 + 0.02 * x);
  /**
   * The seed-anchored reference of point 2 at bar b for rater i's observations ks of target t (the rater
   * left out): the share of the target's observations below b, the seeds' in full and the others' as at
   * most `anchor` observations; its pseudo-count m; and the rater's downs d on t.
   */
  const referenceAt = (t: number, ks: number[], b: number, w: number, i: number) => {
    let own = 0;
    let ownBelow = 0;
    let d = 0;
    for (const k of ks) {
      const x = w * evMult(k);
      own += x;
      if (adj[k] < b) ownBelow += x;
      d += bad[k];
    }
    const seedAll = cumSeed[t][cumSeed[t].length - 1] - (isSeedIdx.has(i) ? own : 0);
    const seedBelow = weightBelow(t, b, cumSeed[t]) - (isSeedIdx.has(i) ? ownBelow : 0);
    const nw = cumAll[t][cumAll[t].length - 1] - own - seedAll;
    const nwBelow = weightBelow(t, b, cumAll[t]) - ownBelow - seedBelow;
    const kappa = nw > 1e-9 ? Math.min(nw, anchor) : 0;
    const pn = kappa > 0 ? clamp(nwBelow / nw, 0, 1) : 0;
    const m = Math.max(0, seedAll) + kappa;
    const p = clamp((Math.max(0, seedBelow) + kappa * pn + 0.5) / (m + 1), 0.02, 0.98);
    return { p, m, d };
  };
  const oneBarFit = (rows: { t: number; ks: number[]; others: number }[], w: number, i: number) => {
    // at bar b: the observed G, and per target the null probabilities of d = 0..n with G's value at each
    const at = (b: number) => {
      let g = 0;
      const terms: { pmf: Float64Array; gv: Float64Array }[] = [];
      for (const { t, ks } of rows) {
        const { p, m, d } = referenceAt(t, ks, b, w, i);
        const n = ks.length;
        const gv = new Float64Array(n + 1);
        for (let x = 0; x <= n; x++)
          gv[x] = 2 * ((x > 0 ? x * Math.log(x / (n * p)) : 0) + (x < n ? (n - x) * Math.log((n - x) / (n * (1 - p))) : 0));
        g += gv[d];
        terms.push({ pmf: betaBinomial(n, p, m + 1), gv });
      }
      return { g, terms };
    };
    // Chernoff's bound on P(G >= g): min over lambda of exp(-lambda g) prod_t E[exp(lambda G_t)]
    const chernoff = ({ g, terms }: ReturnType<typeof at>) => {
      let lb = 0;
      for (const l of lambdas) {
        let logM = -l * g;
        for (const { pmf, gv } of terms) {
          let mg = 0;
          for (let x = 0; x < pmf.length; x++) mg += pmf[x] * Math.exp(l * gv[x]);
          logM += Math.log(mg);
        }
        lb = Math.min(lb, logM);
      }
      return Math.exp(lb);
    };
    // the exact tail, by convolution on a grid of step 0.05 with every null value rounded up and the
    // observed one down (so the result is never below the exact tail); G at or above the observed
    // value is one absorbing cell
    const exact = ({ g, terms }: ReturnType<typeof at>) => {
      const step = 0.05;
      const top = Math.floor(g / step);
      if (top <= 0) return 1;
      let dist = new Float64Array(top + 1);
      dist[0] = 1;
      for (const { pmf, gv } of terms) {
        const next = new Float64Array(top + 1);
        for (let x = 0; x < pmf.length; x++) {
          if (pmf[x] === 0) continue;
          const c = Math.ceil(gv[x] / step - 1e-9);
          for (let j = 0; j <= top; j++) if (dist[j] !== 0) next[Math.min(top, j + c)] += dist[j] * pmf[x];
        }
        dist = next;
      }
      return Math.min(1, dist[top]);
    };
    // the intersection-union test: rejected only if rejected at every bar of the grid; Chernoff first (an
    // upper bound, cheap), the exact tail only where Chernoff does not already reject, largest first
    const byBar = barGrid.map((b) => ({ b, x: at(b) })).map((r) => ({ ...r, p: chernoff(r.x) }));
    byBar.sort((u, v) => v.p - u.p);
    let worst = { p: 0, b: 0.5, g: 0, targets: rows.length };
    for (const r of byBar) {
      const p = r.p <= binaryAlpha ? r.p : Math.min(r.p, exact(r.x));
      if (p >= worst.p) worst = { p, b: r.b, g: r.x.g, targets: rows.length };
      if (p > binaryAlpha) break; // one bar explains its downs: not rejected
    }
    return worst;
  };
  /**
   * A barred rater's verdict is at its bar, not at 0.5: in the other raters' references it says what it
   * implies at 0.5, by the target's continuous-scale raters' own values (the rater's bar b: of their
   * weight below b, the share below 0.5 for a bad verdict when b > 0.5; of their weight above b, the
   * share below 0.5 for a good verdict when b < 0.5). So an honest harsh thumbs rater neither is flagged
   * nor raises the reference that every other rater of the target is tested against.
   */
  const translate = () => {
    const cumCont: Float64Array[] = [];
    const cumContVal: Float64Array[] = [];
    for (let t = 0; t < N; t++) {
      const ks = byTargetAdj[t];
      const c = new Float64Array(ks.length + 1);
      const cv = new Float64Array(ks.length + 1);
      for (let x = 0; x < ks.length; x++) {
        const k = ks[x];
        const w = blocked[k] || barred[oFrom[k]] ? 0 : W(oFrom[k]) * evMult(k);
        c[x + 1] = c[x] + w;
        cv[x + 1] = cv[x] + w * adj[k];
      }
      cumCont.push(c);
      cumContVal.push(cv);
    }
    for (let k = 0; k < M; k++) {
      const i = oFrom[k];
      if (!barred[i]) continue;
      const t = oTo[k];
      const b = bar[i];
      const all = cumCont[t][cumCont[t].length - 1];
      const wb = weightBelow(t, b, cumCont[t]);
      const w5 = weightBelow(t, 0.5, cumCont[t]);
      if (b > 0.5) badRef[k] = bad[k] ? (wb > 0 ? w5 / wb : 1) : 0;
      else badRef[k] = bad[k] ? 1 : all - wb > 0 ? (w5 - wb) / (all - wb) : 0;
      // and its value, in the target's consensus and effective trust: the continuous raters' mean value on
      // the same side of its bar (regression calibration); its own value where the target has none there
      const vb = weightBelow(t, b, cumContVal[t]);
      const vAll = cumContVal[t][cumContVal[t].length - 1];
      if (bad[k] && wb > 0) valRef[k] = vb / wb;
      else if (!bad[k] && all - wb > 0) valRef[k] = (vAll - vb) / (all - wb);
    }
  };
  if (binaryRaters.length) {
    sortByAdj();
    totals();
    buildCum();
    for (const i of binaryRaters) {
      const w = W(i);
      // the rater's observations per target (the rater is left out of each target's reference)
      const mine = new Map<number, number[]>();
      for (const k of byRater[i]) if (!blocked[k]) (mine.get(oTo[k]) ?? mine.set(oTo[k], []).get(oTo[k])!).push(k);
      let bads = 0;
      let used = 0;
      const rows: { t: number; ks: number[]; others: number }[] = [];
      for (const [t, ks] of mine) {
        let own = 0;
        for (const k of ks) own += w * evMult(k);
        const others = cumAll[t][cumAll[t].length - 1] - own;
        if (others < 1) continue;
        rows.push({ t, ks, others });
        used += ks.length;
        for (const k of ks) bads += bad[k];
      }
      if (used < 5) continue;
      // the others' bad verdicts at bar b, predicted on the rater's observations (increasing in b)
      const predicted = (b: number) => {
        let sum = 0;
        for (const { t, ks, others } of rows) {
          let ownBelow = 0;
          for (const k of ks) if (adj[k] < b) ownBelow += w * evMult(k);
          sum += (ks.length * (weightBelow(t, b, cumAll[t]) - ownBelow)) / others;
        }
        return sum;
      };
      let lo = 0.2;
      let hi = 0.8;
      if (predicted(hi) <= bads) lo = hi;
      else if (predicted(lo) >= bads) hi = lo;
      for (let it = 0; it < 30 && hi - lo > 1e-4; it++) {
        const mid = (lo + hi) / 2;
        if (predicted(mid) < bads) lo = mid;
        else hi = mid;
      }
      bar[i] = (lo + hi) / 2;
      // The bar is granted only to a rater whose "down" verdicts one bar explains on every target (the
      // premise of the rule): see `oneBarFit`. A rater whose downs sit on targets where no bar within the
      // cap predicts them (a bad-mouther putting its downs on chosen victims, "up" elsewhere) is tested
      // at 0.5 like every other rater.
      const fit = oneBarFit(rows, w, i);
      gate.set(i, fit);
      if (fit.p <= binaryAlpha) bar[i] = 0.5;
    }
    for (const i of binaryRaters) if (bar[i] !== 0.5) barred[i] = 1;
    translate();
  }
  type RaterStat = {
    sBM: number;
    vBM: number;
    sGM: number;
    vGM: number;
    worstBM: number[];
    worstGM: number[];
    /** 2c's pairs, in the scan buffers below: the rater's run of entries [from, to), on both sides in its targets' order */
    from: number;
    to: number;
  };
  // 2c's (rater, target) pairs of a filter round, in flat buffers (one entry per pair: at most pairSum.size), written
  // again by every round; only the last round's are read (`scanPairs`), as ScanPair objects, by the raters scanned
  const scanCap = pairSum.size;
  const scanSide = new Uint8Array(scanCap); // 1: the bad-mouthing side (p < 0.5)
  const scanT = new Int32Array(scanCap);
  const scanN = new Float64Array(scanCap);
  const scanD = new Float64Array(scanCap);
  const scanP = new Float64Array(scanCap);
  const scanC = new Float64Array(scanCap);
  let scanLen = 0;
  /** a rater's pairs on one side (bad-mouthing: p < 0.5), in its targets' order */
  const scanPairs = (st: RaterStat, badSide: boolean): ScanPair[] => {
    const out: ScanPair[] = [];
    for (let x = st.from; x < st.to; x++)
      if ((scanSide[x] === 1) === badSide) out.push({ t: scanT[x], n: scanN[x], d: scanD[x], p: scanP[x], c: scanC[x] });
    return out;
  };
  let stats: RaterStat[] = [];
  // the verified seeds' own observations per target (the reference's anchor)
  const isSeed = new Uint8Array(N);
  for (const x of seedIdx) isSeed[x] = 1;
  const sSum = new Float64Array(N);
  const sBad = new Float64Array(N);
  // per rater, per target it rated (scratch indexed by target, reset after each rater; `pairTs` lists the
  // targets in the order of the rater's first observation of each, the order the sums below run in):
  const pairN = new Float64Array(N); // its observations of the target
  const pairB = new Float64Array(N); // its bad outcomes
  const pairW = new Float64Array(N); // what its observations weigh in the target's totals
  const pairWB = new Float64Array(N);
  const pairWBar = new Float64Array(N); // the weight of its observations below its bar (2a)
  const pairRef = new Float64Array(N); // the target's reference p, the rater left out
  const pairTs: number[] = [];
  const voicesAt = new Map<number, number[]>(); // target -> its lockstep voices
  voices.forEach((v, x) => (voicesAt.get(v.t) ?? voicesAt.set(v.t, []).get(v.t)!).push(x));
  for (let round = 0; round < filterRounds; round++) {
    totals();
    sSum.fill(0);
    sBad.fill(0);
    for (let k = 0; k < M; k++)
      if (isSeed[oFrom[k]] && !blocked[k]) {
        const w = W(oFrom[k]) * evMult(k);
        sSum[oTo[k]] += w;
        sBad[oTo[k]] += w * badRef[k];
      }
    if (binaryRaters.length) buildCum();
    stats = [];
    scanLen = 0;
    let changed = false;
    for (let i = 0; i < N; i++) {
      const st: RaterStat = { sBM: 0, vBM: 0, sGM: 0, vGM: 0, worstBM: [], worstGM: [], from: scanLen, to: scanLen };
      const w = W(i);
      for (const t of pairTs) ((pairN[t] = 0), (pairB[t] = 0), (pairW[t] = 0), (pairWB[t] = 0), (pairWBar[t] = 0));
      pairTs.length = 0;
      const bi = bar[i];
      for (const k of byRater[i]) {
        if (blocked[k]) continue;
        const t = oTo[k];
        if (pairN[t] === 0) pairTs.push(t);
        pairN[t] += 1;
        pairB[t] += bad[k];
        const we = w * evMult(k);
        pairW[t] += we;
        pairWB[t] += we * badRef[k];
        if (bi !== 0.5 && adj[k] < bi) pairWBar[t] += we;
      }
      // the reference p of a target leaves the rater out entirely: the seeds' outcomes count in full,
      // the other (unverified) raters' consensus counts as at most `anchor` observations
      for (const t of pairTs) {
        const n = pairN[t];
        const ow = pairW[t];
        const ob = pairWB[t];
        const ms = isSeed[i] ? sSum[t] - ow : sSum[t];
        const bs = isSeed[i] ? sBad[t] - ob : sBad[t];
        const nw = tSum[t] - ow - ms;
        const nbw = tBad[t] - ob - bs;
        const kappa = nw > 1e-9 ? Math.min(nw, anchor) : 0;
        const pn = kappa > 0 ? nbw / nw : 0;
        const m = Math.max(0, ms) + kappa;
        const p = clamp((Math.max(0, bs) + kappa * pn + 0.5) / (m + 1), 0.02, 0.98);
        pairRef[t] = p;
        // variance of sum(b - p) over the pair's n observations: the outcomes' own, plus the shared
        // estimate's (beta with m + 1 pseudo-counts), which repeats for every one of them (design effect)
        const v = p * (1 - p) * (n + (n * n) / (m + 1));
        const nb = pairB[t];
        // a binary rater (2a) is compared with the others' outcomes at its bar, on the side the target is on
        let pb = p;
        let vb = v;
        if (bar[i] !== 0.5) {
          const ownBelow = pairWBar[t];
          const allB = weightBelow(t, bar[i], cumAll[t]);
          const seedB = weightBelow(t, bar[i], cumSeed[t]);
          const bsB = isSeed[i] ? seedB - ownBelow : seedB;
          let voiceB = 0;
          for (const x of voicesAt.get(t) ?? []) {
            const { w: vw, value } = voiceOf(voices[x]);
            if (value < bar[i]) voiceB += vw;
          }
          const nbwB = allB + voiceB - ownBelow - bsB;
          const pnB = kappa > 0 ? clamp(nbwB / nw, 0, 1) : 0;
          pb = clamp((Math.max(0, bsB) + kappa * pnB + 0.5) / (m + 1), 0.02, 0.98);
          vb = pb * (1 - pb) * (n + (n * n) / (m + 1));
        }
        if (p < 0.5) ((st.sBM += nb - n * pb), (st.vBM += vb));
        else ((st.sGM += n * pb - nb), (st.vGM += vb));
        // 2c: the pair kept for the selective scan (its beta-binomial null: point 2's design effect)
        if (scanTau > 0) {
          scanSide[scanLen] = p < 0.5 ? 1 : 0;
          scanT[scanLen] = t;
          scanN[scanLen] = n;
          scanD[scanLen] = nb;
          scanP[scanLen] = pb;
          scanC[scanLen] = m + 1;
          st.to = ++scanLen;
        }
      }
      for (const k of byRater[i]) {
        if (blocked[k]) continue;
        const p = pairRef[oTo[k]];
        if (p < 0.5) {
          if (bad[k]) st.worstBM.push(k);
        } else if (!bad[k]) st.worstGM.push(k);
      }
      stats.push(st);
      // Soft weight between z/2 and z (then 0): colluders who mask each other just under the flag
      // lose weight, the estimates they inflated fall back, and the next round sees them whole.
      // (both sides together too: a ring member who praises and blames disagrees on both)
      const zi = Math.max(
        st.sBM >= minExcess ? z(st.sBM, st.vBM) : 0,
        st.sGM >= minExcess ? z(st.sGM, st.vGM) : 0,
        st.sBM + st.sGM >= minExcess ? z(st.sBM + st.sGM, st.vBM + st.vGM) : 0,
      );
      const c = clamp((zStar - zi) / (zStar / 2), 0, 1);
      if (Math.abs(c - cred[i]) > 1e-9) ((cred[i] = c), (changed = true));
    }
    if (!changed) break;
  }
  // A group is flagged when its voice disagrees with the raters outside it: the group is tested as
  // one rater (one outcome per target and epoch: the members' mean that epoch) against the same
  // seed-anchored reference, which the group's own voice is left out of. Every member is flagged
  // (good- and/or bad-mouthing, as for a rater) and weighs nothing from then on.
  totals();
  const voicesOf = groupBy(
    voices.map((v) => v.group),
    groups.length,
  ); // per group, its voices (one pass, not one per group)
  for (const [gi, g] of groups.entries()) {
    let sBM = 0;
    let vBM = 0;
    let sGM = 0;
    let vGM = 0;
    const shown: number[] = [];
    const perTarget: Record<string, unknown>[] = [];
    const byT = new Map<number, [number, number, number, number]>(); // target -> its sBM, vBM, sGM, vGM
    const byMember = new Map<number, [number, number, number, number]>(); // member -> its own sBM, vBM, sGM, vGM
    for (const x of voicesOf[gi]) {
      const v = voices[x];
      const { w: vw, value } = voiceOf(v);
      const t = v.t;
      const ms = sSum[t];
      const bs = sBad[t];
      const nw = tSum[t] - vw - ms;
      const nbw = tBad[t] - (value < 0.5 ? vw : 0) - bs;
      const kappa = nw > 1e-9 ? Math.min(nw, anchor) : 0;
      const pn = kappa > 0 ? nbw / nw : 0;
      const m = Math.max(0, ms) + kappa;
      const p = clamp((Math.max(0, bs) + kappa * pn + 0.5) / (m + 1), 0.02, 0.98);
      // the voice per epoch: the members' mean corrected value that epoch
      let n = 0;
      let nb = 0;
      for (let x = 0; x < v.ks.length;) {
        const e = epochOf(v.ks[x]);
        let sum = 0;
        let c = 0;
        for (; x < v.ks.length && epochOf(v.ks[x]) === e; x++) ((sum += adj[v.ks[x]]), c++);
        n++;
        if (sum / c < 0.5) nb++;
      }
      const va = p * (1 - p) * (n + (n * n) / (m + 1));
      const c4 = byT.get(t) ?? byT.set(t, [0, 0, 0, 0]).get(t)!;
      if (p < 0.5) ((sBM += nb - n * p), (vBM += va), (c4[0] += nb - n * p), (c4[1] += va));
      else ((sGM += n * p - nb), (vGM += va), (c4[2] += n * p - nb), (c4[3] += va));
      if (p < 0.5 === nb * 2 > n) shown.push(...v.ks.slice(-2));
      perTarget.push({
        target: names[t],
        epochs: n,
        badEpochs: nb,
        voice: Number(value.toFixed(4)),
        reference: Number(p.toFixed(4)),
        referenceObservations: Number(m.toFixed(2)),
      });
      // each member as a rater of its own, against the same reference (the group's voice left out)
      const own = new Map<number, [number, number]>(); // member -> its observations, bad ones
      for (const k of v.ks) {
        const x = own.get(oFrom[k]) ?? own.set(oFrom[k], [0, 0]).get(oFrom[k])!;
        ((x[0] += 1), (x[1] += bad[k]));
      }
      for (const [f, [fn, fb]] of own) {
        const fv = p * (1 - p) * (fn + (fn * fn) / (m + 1));
        const c = byMember.get(f) ?? byMember.set(f, [0, 0, 0, 0]).get(f)!;
        if (p < 0.5) ((c[0] += fb - fn * p), (c[1] += fv));
        else ((c[2] += fn * p - fb), (c[3] += fv));
      }
    }
    const zBM = z(sBM, vBM);
    const zGM = z(sGM, vGM);
    const zBoth = z(sBM + sGM, vBM + vGM);
    const sides: [number, number, AttackKind][] = [
      [sBM, zBM, AttackKind.BadMouthing],
      [sGM, zGM, AttackKind.GoodMouthing],
    ];
    // The flag must not rest on one target: the group is flagged only if its voice still disagrees (on
    // either side) with any one of its targets left out. Disagreement on a single target is what a
    // provider that serves some raters worse than others produces (discriminatory behaviour,
    // Dellarocas 2000): regulars whose local service is worse than the seeds' are evidence about that
    // provider, not liars. Colluders who stuff or bury several targets disagree on the others too.
    const disagrees = (sb: number, vb: number, sg: number, vg: number) => {
      const both = z(sb + sg, vb + vg);
      return (sb >= minExcess && (z(sb, vb) >= zStar || both >= zStar)) || (sg >= minExcess && (z(sg, vg) >= zStar || both >= zStar));
    };
    let worstLeftOut = Infinity; // the smallest z (any side) over the leave-one-target-out sums, for the evidence
    let robust = byT.size >= 2;
    for (const [b0, b1, g0, g1] of byT.values()) {
      const [sb, vb, sg, vg] = [sBM - b0, vBM - b1, sGM - g0, vGM - g1];
      worstLeftOut = Math.min(worstLeftOut, Math.max(z(sb, vb), z(sg, vg), z(sb + sg, vb + vg)));
      if (!disagrees(sb, vb, sg, vg)) robust = false;
    }
    const kinds = robust ? sides.filter(([sx, zx]) => sx >= minExcess && (zx >= zStar || zBoth >= zStar)) : [];
    if (!kinds.length) continue;
    groupFlagged[gi] = 1;
    const targets = targetNames(g);
    // The group's voice is discarded; its members are flagged one by one: a member is flagged on a side
    // only if its own ratings of the group's targets, tested as any rater's against the reference with
    // the group's voice left out, disagree on that side (z >= z, >= minExcess excess outcomes). An
    // honest rater whom attackers joined, or whose verdict happens to match theirs on a target where
    // the seeds agree with it, is not flagged for the others' ratings.
    for (const f of g.members) {
      const [mb, mvb, mg, mvg] = byMember.get(f) ?? [0, 0, 0, 0];
      const mBoth = z(mb + mg, mvb + mvg);
      const own = (kind: AttackKind) => {
        const [ms, mv] = kind === AttackKind.BadMouthing ? [mb, mvb] : [mg, mvg];
        return { s: ms, z: Math.max(z(ms, mv), mBoth), holds: ms >= minExcess && (z(ms, mv) >= zStar || mBoth >= zStar) };
      };
      const mine = kinds.filter(([, , kind]) => own(kind).holds);
      if (!mine.length) continue;
      cred[f] = 0;
      for (const [sx, zx, kind] of mine)
        flag(f, {
          entity: names[f],
          kind,
          score: Math.max(zx, zBoth),
          reason: `lockstep group: ${g.members.length} raters rated the same ${targets.length} targets in the same epochs far more often than independent raters would, and as one voice they disagree with the raters outside the group (${sx.toFixed(1)} excess outcomes, z = ${Math.max(zx, zBoth).toFixed(1)} >= ${zStar}, with any one target left out z >= ${worstLeftOut.toFixed(1)}); this member's own ratings of those targets disagree too (${own(kind).s.toFixed(1)} excess outcomes, z = ${own(kind).z.toFixed(1)})`,
          evidence: {
            statistic:
              "lockstep group (regular pairs: binomial tail of the epochs a rater rated a target <= alpha / pairs; the (raters, targets)-core of those pairs) tested as one rater: sum(b - p) / sd over its per-epoch voice",
            value: Math.max(zx, zBoth),
            side: zx,
            threshold: zStar,
            excess: sx,
            minExcess,
            leaveOneTargetOut: worstLeftOut,
            member: { excess: own(kind).s, z: own(kind).z },
            members: g.members.slice(0, 24).map((x) => names[x]),
            groupSize: g.members.length,
            targets,
            perTarget: perTarget.slice(0, 24),
            regularPairs: g.edges.slice(0, 24).map((x) => ({
              rater: names[regular[x].f],
              target: names[regular[x].t],
              epochs: regular[x].n,
              activeEpochs: activeEpochs[regular[x].f],
              targetRate: Number(regular[x].q.toFixed(5)),
              pValue: regular[x].p,
            })),
            regularBound: regularAlpha,
            ratings: shown.slice(0, 12).map(ref),
          },
        });
    }
  }
  const scanRow = (x: ScanTarget | undefined) =>
    x && { target: names[x.t], observations: x.n, bad: x.d, reference: Number(x.p.toFixed(4)), pValue: x.pi };
  const scanLevel = normalUpper(zStar);
  for (let i = 0; i < N; i++) {
    const st = stats[i];
    // a rater's total disagreement, both sides: flags each side with at least minExcess of it
    const zBoth = z(st.sBM + st.sGM, st.vBM + st.vGM);
    for (const [s, v, kind, ks, what, badSide] of [
      [st.sBM, st.vBM, AttackKind.BadMouthing, st.worstBM, "bad outcomes on targets the other raters found good", true],
      [st.sGM, st.vGM, AttackKind.GoodMouthing, st.worstGM, "good outcomes on targets the other raters found bad", false],
    ] as [number, number, AttackKind, number[], string, boolean][]) {
      const side = z(s, v);
      const both = side < zStar && zBoth >= zStar;
      const zi = both ? zBoth : side;
      if (!(zi >= zStar && s >= minExcess)) {
        // 2c: the disagreement concentrated on some of its targets, the rest of its history not counted
        const scan =
          scanTau > 0 && !flaggedKinds.get(i)?.has(kind)
            ? selectiveScan(scanPairs(st, badSide), scanTau, kind === AttackKind.BadMouthing)
            : undefined;

        if (scan && scan.p <= scanLevel && scan.excess >= minExcess) {
          cred[i] = 0;
          flag(i, {
            entity: names[i],
            kind,
            score: scan.z,
            reason: `unfair rater on some of its targets: ${scan.excess.toFixed(1)} more ${what} than expected on ${scan.selected.length} of its ${scan.tested + 1} targets on this side (each at p <= ${scanTau}, the most extreme one left out); the chance of that much concentrated disagreement for a fair rater with these targets is p = ${scan.p.toExponential(2)} <= ${scanLevel.toExponential(2)} (the level of z >= ${zStar}); over all its targets ${s.toFixed(1)}, z = ${side.toFixed(1)} (strictness ${offset[i].toFixed(2)} corrected)`,
            evidence: {
              statistic:
                "sum over its targets of max(0, ln(tau / p_t)), p_t the exact beta-binomial tail of its outcomes on target t against the reference (truncated product, Zaykin et al. 2002), the largest term left out; p-value: exact convolution of the other targets' null distributions",
              value: scan.z,
              pValue: scan.p,
              level: scanLevel,
              truncation: scanTau,
              side,
              threshold: zStar,
              excess: scan.excess,
              minExcess,
              strictness: offset[i],
              testedTargets: scan.tested,
              leftOut: scanRow(scan.leftOut),
              selected: scan.selected.slice(0, 24).map(scanRow),
              observations: byRater[i].length,
              ratings: ks.slice(0, 12).map(ref),
            },
          });
        }
        continue;
      }
      flag(i, {
        entity: names[i],
        kind,
        score: zi,
        reason: `unfair rater: ${s.toFixed(1)} more ${what} than expected, z = ${zi.toFixed(1)} >= ${zStar}${both ? ` (with its disagreement on the other side: ${side.toFixed(1)} on this side alone)` : ""} (strictness ${offset[i].toFixed(2)} corrected)`,
        evidence: {
          statistic: both
            ? "sum(b - p) / sd over all the rater's observations, both sides (b: its outcome, p: the reference's beta estimate)"
            : "sum(b - p) / sd over the rater's observations on this side (b: its outcome, p: the reference's beta estimate)",
          value: zi,
          side,
          threshold: zStar,
          excess: s,
          minExcess,
          strictness: offset[i],
          ...(gate.has(i)
            ? {
                binaryScale: {
                  bar: bar[i],
                  oneBarPValue: gate.get(i)!.p,
                  oneBarLevel: binaryAlpha,
                  note:
                    bar[i] === 0.5
                      ? "two values, one on either side of 0.5; no bar within 0.5 +- 0.3 explains its downs on every target, so it is tested at 0.5"
                      : "two values, one on either side of 0.5; tested against the others' outcomes at its bar",
                },
              }
            : {}),
          observations: byRater[i].length,
          ratings: ks.slice(0, 12).map(ref),
        },
      });
    }
  }
  // --- 2b. per-rater tail test over the whole history (Whitby, Jøsang and Indulska 2004, accumulated).
  // Whitby et al. call a rating unfair when it falls outside the q and 1 - q quantiles of its target's
  // reputation; here the quantile is the rating's conformal rank among the target's other raters'
  // corrected values (weighted by their weight, the rater's own observations of the target left out):
  // p_lo = (weight of other values <= v + 1) / (other weight + 1). For an honest rater, exchangeable
  // with the others once its strictness is corrected, P(p_lo <= j / (W + 1)) <= j / (W + 1), so an
  // observation is a lower-tail hit with probability at most q_k = max(q, 1 / (W + 1)), ties counting
  // against the hit (a habit the target's other raters share is not an outlier). A rater's hits over
  // its whole history are then a sum of independent Bernoulli(<= q_k), stochastically below a
  // Poisson(sum q_k) (the Poisson with the same mean has the heavier tail). A rater who lies on a fifth
  // of the good services it receives, with its values otherwise like everyone's, hits about 0.2 n + q n
  // times against an expectation of about q n: the excess accumulates, while honest noise stays at the
  // rate q whatever its sign. Flag: Poisson tail <= alpha / (raters tested) (Bonferroni) with at least
  // minExcess excess hits; lower tail = bad-mouthing, upper tail = good-mouthing. Work: a sort of
  // each target's values, then one binary search per observation (O(M log M)).
  const tailQ = o.tailQuantile ?? 0.01;
  if (!(tailQ >= 0 && tailQ < 0.5))
    throw new InvalidParameterError(`analyze: tailQuantile must be in [0, 0.5), got ${String(o.tailQuantile)}`);
  if (tailQ > 0) {
    totals();
    // a binary rater's values (2a) are verdicts at its bar, not places on the continuous scale: they are
    // no part of the ranks the others are tested against
    const obsW = (k: number) => (blocked[k] || barred[oFrom[k]] ? 0 : W(oFrom[k]) * evMult(k));
    // per target: its observations sorted by corrected value, and the cumulated weight
    // A value given at the scale's end (0 or 1) is censored: its rater's strictness correction moves it
    // (a lenient rater's 1 becomes 1 - offset), but the satisfaction behind it may be anything beyond.
    // So, conservatively, another rater's censored value counts as at least as extreme as the tested one
    // on its side: a strict rater's corrected 1 is not an upper outlier against lenient raters' capped 1s.
    const topCens = (k: number) => oVal[k] >= 1 - 1e-9;
    const botCens = (k: number) => oVal[k] <= 1e-9;
    const sortedBy = (keep: (k: number) => boolean) => {
      const sorted: Float64Array[] = []; // per target, its kept observations' corrected values, sorted
      const cums: Float64Array[] = [];
      for (let t = 0; t < N; t++) {
        const ks = Int32Array.from(byTarget[t].filter((k) => obsW(k) > 0 && keep(k))).sort((x, y) => adj[x] - adj[y]);
        const cum = new Float64Array(ks.length + 1);
        for (let x = 0; x < ks.length; x++) cum[x + 1] = cum[x] + obsW(ks[x]);
        sorted.push(Float64Array.from(ks, (k) => adj[k]));
        cums.push(cum);
      }
      // weight of the target's kept values <= v (orEqual) or < v
      return (t: number, v: number, orEqual: boolean) => {
        const vs = sorted[t];
        let lo = 0;
        let hi = vs.length;
        if (orEqual)
          while (lo < hi) {
            const m = (lo + hi) >> 1;
            if (vs[m] <= v) lo = m + 1;
            else hi = m;
          }
        else
          while (lo < hi) {
            const m = (lo + hi) >> 1;
            if (vs[m] < v) lo = m + 1;
            else hi = m;
          }
        return cums[t][lo];
      };
    };
    const below = sortedBy(() => true);
    const belowTop = sortedBy(topCens); // censored at 1: count as >= v whatever their corrected value
    const belowBot = sortedBy(botCens); // censored at 0: count as <= v whatever their corrected value
    const totalW = new Float64Array(N);
    const topW = new Float64Array(N);
    const botW = new Float64Array(N);
    for (let k = 0; k < M; k++) {
      const w = obsW(k);
      totalW[oTo[k]] += w;
      if (topCens(k)) topW[oTo[k]] += w;
      if (botCens(k)) botW[oTo[k]] += w;
    }
    /** P(X >= k), X ~ Poisson(mu), k > mu: terms from k on, while they matter */
    const poissonTail = (mu: number, k: number) => {
      if (k <= mu) return 1;
      let logFactK = 0;
      for (let j = 2; j <= k; j++) logFactK += Math.log(j);
      let term = Math.exp(-mu + k * Math.log(mu) - logFactK);
      let s = 0;
      for (let j = k; term > s * 1e-12; j++) ((s += term), (term *= mu / (j + 1)));
      return Math.min(1, s);
    };
    type Tail = { i: number; n: number; mu: number; lo: number[]; hi: number[]; cAll: number };
    const consensus = (t: number) => (tSum[t] > 0 ? tVal[t] / tSum[t] : 0.5);
    const tails: Tail[] = [];
    const perTarget = new Map<number, number[]>();
    for (let i = 0; i < N; i++) {
      // a binary rater (2a) has no rank on the continuous scale: point 2 tests it at its bar
      if (flaggedKinds.has(i) || barred[i]) continue;
      perTarget.clear();
      for (const k of byRater[i]) if (!blocked[k]) (perTarget.get(oTo[k]) ?? perTarget.set(oTo[k], []).get(oTo[k])!).push(k);
      const tl: Tail = { i, n: 0, mu: 0, lo: [], hi: [], cAll: 0 };
      for (const [t, ks] of perTarget) {
        let ownW = 0;
        for (const k of ks) ownW += obsW(k);
        const others = totalW[t] - ownW;
        if (others < 1 - 1e-9) continue;
        const qk = Math.max(tailQ, 1 / (others + 1));
        // the rater's own observations of t, sorted, to leave them out (a value censored at 0 is the
        // rater's smallest corrected value and one censored at 1 its largest: no special case needed)
        ks.sort((x, y) => adj[x] - adj[y]);
        const ownCum = new Float64Array(ks.length + 1);
        for (let x = 0; x < ks.length; x++) ownCum[x + 1] = ownCum[x] + obsW(ks[x]);
        const ownBelow = (v: number, orEqual: boolean) => {
          let lo = 0;
          let hi = ks.length;
          while (lo < hi) {
            const m = (lo + hi) >> 1;
            if (orEqual ? adj[ks[m]] <= v : adj[ks[m]] < v) lo = m + 1;
            else hi = m;
          }
          return ownCum[lo];
        };
        // The rater's strictness is estimated, and an error in it shifts all its values at once, which
        // in the extreme quantiles of a light-tailed spread is many hits: a value is tested as if its
        // correction were 2 standard errors less favourable to a hit on each side.
        const margin = 2 * offsetSe[i];
        for (const k of ks) {
          const vLo = adj[k] + margin;
          const vHi = adj[k] - margin;
          const ownLe = ownBelow(vLo, true);
          const ownGe = ownW - ownBelow(vHi, false);
          // others at or beyond the value on each side, censored values counted on their side
          const le = below(t, vLo, true) + (botW[t] - belowBot(t, vLo, true));
          const ge = totalW[t] - below(t, vHi, false) + belowTop(t, vHi, false);
          const pLo = (le - ownLe + 1) / (others + 1);
          const pHi = (ge - ownGe + 1) / (others + 1);
          tl.n++;
          tl.mu += qk;
          tl.cAll += consensus(t);
          if (pLo <= qk + 1e-12) tl.lo.push(k);
          if (pHi <= qk + 1e-12) tl.hi.push(k);
        }
      }
      if (tl.n > 0) tails.push(tl);
    }
    const bound = alpha / Math.max(1, tails.length);
    for (const tl of tails)
      for (const [hits, kind, what] of [
        [tl.lo, AttackKind.BadMouthing, "below"],
        [tl.hi, AttackKind.GoodMouthing, "above"],
      ] as [number[], AttackKind, string][]) {
        const pv = poissonTail(tl.mu, hits.length);
        if (!(pv <= bound && hits.length - tl.mu >= minExcess)) continue;
        // The service does not explain them: an honest rater with a coarse scale (thumbs up / down at a
        // bar) is an outlier too, but its low values fall on the poorer services, so its hits sit on
        // targets with a lower consensus than its ratings' average (Dellarocas 2000: unfair ratings are
        // those the service does not explain). A lie given whatever the service is spread over the
        // rater's targets as they come, and is an outlier most readily on the best of them.
        const cHits = hits.reduce((x, k) => x + consensus(oTo[k]), 0) / hits.length;
        const cMean = tl.cAll / tl.n;
        if (kind === AttackKind.BadMouthing ? cHits < cMean : cHits > cMean) continue;
        cred[tl.i] = 0;
        flag(tl.i, {
          entity: names[tl.i],
          kind,
          score: -Math.log10(pv),
          reason: `unfair rater (tail test): ${hits.length} of its ${tl.n} observations lie ${what} the ${tailQ} quantile of their targets' other raters, against ${tl.mu.toFixed(1)} expected; Poisson tail ${pv.toExponential(2)} <= ${bound.toExponential(2)} (${alpha} over ${tails.length} raters tested; strictness ${offset[tl.i].toFixed(2)} corrected)`,
          evidence: {
            statistic: `count of observations whose conformal rank among the target's other raters is <= max(q, 1/(others+1)), against Poisson(sum of those levels)`,
            value: pv,
            threshold: bound,
            hits: hits.length,
            expected: tl.mu,
            observations: tl.n,
            quantile: tailQ,
            hitConsensus: cHits,
            meanConsensus: cMean,
            strictness: offset[tl.i],
            ratings: hits.slice(0, 12).map(ref),
          },
        });
      }
  }
  totals();

  // --- 2d. rare extreme lies, per rater (session 15; the rater channel of the oracle bound, §4). A rater
  // who lies rarely but hard (a very low rating of a service everyone else finds good) is diluted in
  // point 2's sum over all its outcomes and, per observation, in 2b's quantile at Bonferroni's level.
  // Here each observation is read as very low or not: for a continuous rater, its strictness-corrected
  // value is below `extremeLow` even with its correction moved 2 standard errors against it (2b's
  // margin); for a binary rater (2a), its down. Only targets the seed-anchored reference finds good
  // (point 2's p < 0.5, the rater left out) are read. On each, what the rater's own strictness predicts
  // is the others' share of very low corrected values there (for a binary rater, the others' share below
  // its bar: its strictness), estimated as point 2's reference is (the seeds in full, the other raters'
  // consensus as at most `anchor` observations, a half pseudo-count) with the same design effect: the
  // rater's d_t very low of n_t ~ BetaBinomial(n_t, pi_t, m_t + 1). The count D = sum d_t has the exact
  // null of the convolution of these; the rater is flagged bad-mouthing when P(D >= d) <= genericAlpha
  // (per rater, no Bonferroni: each flag stands on its own level) with at least `minExcess` excess.
  // Flagged raters weigh nothing from then on and the test is run again (their lies leave the others'
  // shares), until nothing changes (at most `filterRounds` times).
  const genericAlpha = o.genericAlpha ?? 0.001;
  const extremeLow = o.extremeLow ?? 0.2;
  if (!(genericAlpha > 0 && genericAlpha < 1))
    throw new InvalidParameterError(`analyze: genericAlpha must be in (0, 1), got ${genericAlpha}`);
  if (!(extremeLow > 0 && extremeLow <= 0.5)) throw new InvalidParameterError(`analyze: extremeLow must be in (0, 0.5], got ${extremeLow}`);
  let lateFlags = 0;
  if (o.extremeLies ?? true) {
    const isBinary = new Uint8Array(N);
    for (const i of binaryRaters) isBinary[i] = 1;
    if (!byTargetAdj.length) sortByAdj();
    const mW = new Float64Array(N); // per target: the seeds' weight, bad weight and very low weight (corrected)
    const mBad = new Float64Array(N);
    const mLo = new Float64Array(N);
    const cW = new Float64Array(N); // the other raters' (the crowd's)
    const cBad = new Float64Array(N);
    const cLo = new Float64Array(N);
    // per rater, per target it rated (scratch indexed by target, reset after each rater; `ownTs` in the order of
    // its first observation of each): observations, very low ones, weight, bad weight, very low weight, and its
    // own weight below its bar (summed in the order of its observations)
    const ownN = new Float64Array(N);
    const ownD = new Float64Array(N);
    const ownW = new Float64Array(N);
    const ownBad = new Float64Array(N);
    const ownLo = new Float64Array(N);
    const ownBelowBar = new Float64Array(N);
    const ownTs: number[] = [];
    for (let round = 0; round < filterRounds; round++) {
      for (const a of [mW, mBad, mLo, cW, cBad, cLo]) a.fill(0);
      for (let k = 0; k < M; k++) {
        if (blocked[k]) continue;
        const w = W(oFrom[k]) * evMult(k);
        if (!(w > 0)) continue;
        const t = oTo[k];
        const lo = adj[k] < extremeLow || oVal[k] <= 0 ? w : 0;
        if (isSeed[oFrom[k]]) ((mW[t] += w), (mBad[t] += w * badRef[k]), (mLo[t] += lo));
        else ((cW[t] += w), (cBad[t] += w * badRef[k]), (cLo[t] += lo));
      }
      for (const v of voices) {
        const { w, value } = voiceOf(v);
        if (!(w > 0)) continue;
        cW[v.t] += w;
        cBad[v.t] += value < 0.5 ? w : 0;
        cLo[v.t] += value < extremeLow ? w : 0;
      }
      buildCum();
      // the prior of a target's share below a bar: the verified seeds' share below it over the targets the
      // reference finds good (empirical Bayes, one pseudo-observation: a target with few observations is
      // read as a typical good target, not as a coin)
      const good = (t: number) =>
        (mBad[t] + Math.min(cW[t], anchor) * (cW[t] > 1e-9 ? cBad[t] / cW[t] : 0) + 0.5) / (mW[t] + Math.min(cW[t], anchor) + 1) < 0.5;
      const poolV: number[] = [];
      const poolW: number[] = [];
      // a value at 0 is censored (its rater's scale ends there): it is below every bar (the null's share is
      // never understated by a harsh rater whose honest lows all read 0)
      for (let k = 0; k < M; k++)
        if (!blocked[k] && isSeed[oFrom[k]] && good(oTo[k])) {
          const w = W(oFrom[k]) * evMult(k);
          if (w > 0) (poolV.push(oVal[k] <= 0 ? -1 : adj[k]), poolW.push(w));
        }
      // per target, its censored observations (at 0) with their weight, seeds apart
      const bot = new Map<number, number[]>();
      for (let k = 0; k < M; k++)
        if (!blocked[k] && oVal[k] <= 0 && W(oFrom[k]) * evMult(k) > 0) (bot.get(oTo[k]) ?? bot.set(oTo[k], []).get(oTo[k])!).push(k);
      const pord = poolV.map((_, x) => x).sort((x, y) => poolV[x] - poolV[y]);
      const pSorted = Float64Array.from(pord, (x) => poolV[x]);
      const pCum = new Float64Array(pord.length + 1);
      pord.forEach((x, y) => (pCum[y + 1] = pCum[y] + poolW[x]));
      const prior = (b: number) => {
        let lo = 0;
        let hi = pSorted.length;
        while (lo < hi) {
          const m = (lo + hi) >> 1;
          if (pSorted[m] < b) lo = m + 1;
          else hi = m;
        }
        const tot = pCum[pSorted.length];
        return tot > 0 ? (pCum[lo] + 0.5) / (tot + 1) : 0.5;
      };
      let found = 0;
      for (let i = 0; i < N; i++) {
        if (flaggedKinds.has(i) || !byRater[i].length) continue;
        const wi = W(i);
        // the rater's very low: a value below extremeLow on its own scale (a binary rater: a down). What its
        // strictness predicts there: the others' corrected values below its bar, extremeLow - offset (its
        // correction moved 2 standard errors in its favour), or a binary rater's bar (2a; 0.5 without one)
        const barI = isBinary[i] ? bar[i] : clamp(extremeLow - offset[i] + 2 * offsetSe[i], 0, 1);
        const isLow = (k: number) => (isBinary[i] ? oVal[k] < 0.5 : oVal[k] < extremeLow);
        for (const t of ownTs) ((ownN[t] = 0), (ownD[t] = 0), (ownW[t] = 0), (ownBad[t] = 0), (ownLo[t] = 0), (ownBelowBar[t] = 0));
        ownTs.length = 0;
        for (const k of byRater[i]) {
          if (blocked[k]) continue;
          const t = oTo[k];
          if (ownN[t] === 0) ownTs.push(t);
          const w = wi * evMult(k);
          ownN[t]++;
          ownD[t] += isLow(k) ? 1 : 0;
          ownW[t] += w;
          ownBad[t] += w * badRef[k];
          ownLo[t] += adj[k] < extremeLow || oVal[k] <= 0 ? w : 0;
          if (adj[k] < barI || oVal[k] <= 0) ownBelowBar[t] += w; // its own weight below its bar, left out of the others'
        }
        const pi0 = prior(barI);
        const pairs: { t: number; n: number; d: number; pi: number; c: number }[] = [];
        let expected = 0;
        let count = 0;
        for (const t of ownTs) {
          const seed = isSeed[i] === 1;
          const sw = Math.max(0, seed ? mW[t] - ownW[t] : mW[t]);
          const sb = Math.max(0, seed ? mBad[t] - ownBad[t] : mBad[t]);
          const nw = seed ? cW[t] : cW[t] - ownW[t];
          const kappa = nw > 1e-9 ? Math.min(nw, anchor) : 0;
          const share = (v: number) => (kappa > 0 ? clamp(v / nw, 0, 1) : 0);
          const m = sw + kappa;
          const pGood = (sb + kappa * share(seed ? cBad[t] : cBad[t] - ownBad[t]) + 0.5) / (m + 1);
          if (pGood >= 0.5) continue;
          // a disputed target is not read: when the other raters' very low ratings of it are more than the
          // seeds' own share there allows (their beta-binomial tail <= genericAlpha, the rater left out),
          // the disagreement is evidence about the target (a provider that serves the seeds well and
          // everyone else badly, whatever praise its accomplices add), not about the rater
          const crowdN = Math.round(nw);
          const crowdLo = Math.round(Math.max(0, seed ? cLo[t] : cLo[t] - ownLo[t]));
          if (crowdN > 0 && crowdLo > 0) {
            const pmf = betaBinomial(
              crowdN,
              clamp((Math.max(0, seed ? mLo[t] - ownLo[t] : mLo[t]) + prior(extremeLow)) / (sw + 1), 1e-9, 0.98),
              sw + 1,
            );
            let tail = 0;
            for (let y = crowdLo; y <= crowdN; y++) tail += pmf[y];
            if (tail <= genericAlpha) continue;
          }
          const ownBelow = ownBelowBar[t];
          let allB = weightBelow(t, barI, cumAll[t]);
          let seedB = weightBelow(t, barI, cumSeed[t]);
          for (const k of bot.get(t) ?? [])
            if (adj[k] >= barI) {
              const w = W(oFrom[k]) * evMult(k);
              allB += w;
              if (isSeed[oFrom[k]]) seedB += w;
            }
          const sB = Math.max(0, seed ? seedB - ownBelow : seedB);
          const nB = Math.max(0, allB - seedB - (seed ? 0 : ownBelow));
          const pi = clamp((sB + kappa * share(nB) + pi0) / (m + 1), 1e-9, 0.98);
          pairs.push({ t, n: ownN[t], d: ownD[t], pi, c: m + 1 });
          expected += ownN[t] * pi;
          count += ownD[t];
        }
        if (!(count - expected >= minExcess)) continue;
        // P(D >= count): the convolution of the pairs' beta-binomials, the last cell holding ">= count"
        let dist = new Float64Array(count + 1);
        dist[0] = 1;
        for (const pr of pairs) {
          const pmf = betaBinomial(pr.n, pr.pi, pr.c);
          const next = new Float64Array(count + 1);
          for (let j = 0; j <= count; j++) {
            if (dist[j] === 0) continue;
            for (let x = 0; x <= pr.n; x++) next[Math.min(count, j + x)] += dist[j] * pmf[x];
          }
          dist = next;
        }
        const pv = Math.min(1, dist[count]);
        if (!(pv <= genericAlpha)) continue;
        cred[i] = 0;
        found++;
        lateFlags++;
        const shown = byRater[i].filter((k) => !blocked[k] && isLow(k) && pairs.some((pr) => pr.t === oTo[k]));
        flag(i, {
          entity: names[i],
          kind: AttackKind.BadMouthing,
          score: -Math.log10(Math.max(pv, 1e-300)),
          reason: `unfair rater (rare extreme lies): ${count} ${isBinary[i] ? "downs" : `ratings below ${extremeLow}`} of the ${pairs.length} targets the seed-anchored reference finds good, against ${expected.toFixed(1)} expected from the others' share below its bar ${barI.toFixed(2)} there (strictness ${offset[i].toFixed(2)}); exact tail ${pv.toExponential(2)} <= ${genericAlpha}`,
          evidence: {
            statistic:
              "count of the rater's very low observations (value below extremeLow; a binary rater's downs) on targets with seed-anchored p < 0.5, against the convolution of BetaBinomial(n_t, pi_t, m_t + 1), pi_t the others' share of corrected values below the rater's bar (extremeLow - strictness + 2 se; a binary rater's bar) anchored on the seeds, with the seeds' share on good targets as one pseudo-observation",
            value: pv,
            threshold: genericAlpha,
            count,
            expected,
            extremeLow,
            bar: barI,
            prior: pi0,
            strictness: offset[i],
            perTarget: pairs.slice(0, 24).map((pr) => ({
              target: names[pr.t],
              observations: pr.n,
              veryLow: pr.d,
              share: Number(pr.pi.toFixed(4)),
              pseudoCounts: pr.c,
            })),
            ratings: shown.slice(-12).map(ref),
          },
        });
      }
      if (!found) break;
    }
  }

  if (lateFlags) totals();

  // --- 3. behaviour change per target, on credible observations in time order (bad = 1).
  // A change is found by either test below, each calibrated at alpha for a stationary entity:
  //  - CUSUM (Page 1954): the Bernoulli log-likelihood-ratio CUSUM from the long-run bad rate p0 to
  //    p0 + delta alarms at h = ln(n / alpha) (Wald's bound over n possible change points);
  //  - windowed dispersion: at each scale (windows of 1, 2, 4 ... epochs),
  //    D = sum_w (B_w - n_w p0)^2 / (n_w p0 (1 - p0)), standardized as (D - df) / sqrt(2 df); the
  //    largest over the scales, with a parametric-bootstrap p-value (every observation redrawn at
  //    p0, seeded, so the maximum over scales is calibrated as a whole). It catches phases too mild
  //    for the CUSUM's single run.
  // A change is an *episode*: the maximal-score segment of the CUSUM increments (Kadane), i.e. the
  // run of observations that most favours p0 + delta over p0. One episode is not on-off: an outage
  // that ends, or a burst of bad ratings against an entity that then serves as before (framing),
  // looks the same. So the flag needs recurrence or persistence (detection is separated from
  // consequence, docs/specs/trust.md §4):
  //  - a second change among the observations outside the first episode (same tests, the rest's own
  //    rate), i.e. a return to bad after recovery: flagged on-off;
  //  - or no recovery: the observations after the episode do not favour p0 over p0 + delta by a
  //    likelihood ratio of 1 / alpha (Wald's SPRT boundary for one decision): it turned and stays
  //    turned, flagged on-off;
  //  - otherwise the episode is a *notice* (reported with its evidence, no flag, no penalty).
  const scales = o.windows ?? [1, 2, 4];
  const rng = new Prng(0x6a09e667);
  const sims = o.bootstrap ?? 1000;
  type Change = {
    how: "CUSUM" | "GLR" | "dispersion";
    /** the episode: positions a..b in the tested list */
    a: number;
    b: number;
    p0: number;
    p1: number;
    value: number;
    threshold: number;
    /** position at which the test alarms (CUSUM) or the last observation (dispersion) */
    at: number;
    detail: Record<string, unknown>;
  };
  const changeTest = (ks: number[], a0 = alpha): Change | undefined => {
    const n = ks.length;
    if (n < minObs) return undefined;
    let nb = 0;
    for (const k of ks) nb += bad[k];
    const p0 = (nb + 0.5) / (n + 1);
    const p1 = Math.min(0.99, p0 + delta);
    if (p1 <= p0) return undefined;
    const observed = new Uint8Array(n);
    for (let x = 0; x < n; x++) observed[x] = bad[ks[x]];
    const up = Math.log(p1 / p0);
    const down = Math.log((1 - p1) / (1 - p0));
    const h = Math.log(n / a0);
    // CUSUM and its maximal segment
    let s = 0;
    let start = 0;
    let best = 0;
    let a = 0;
    let b = -1;
    let alarm = -1;
    for (let x = 0; x < n; x++) {
      s += bad[ks[x]] ? up : down;
      if (s <= 0) ((s = 0), (start = x + 1));
      if (s > best) ((best = s), (a = start), (b = x));
      if (alarm < 0 && s >= h) alarm = x;
    }
    if (alarm >= 0)
      return {
        how: "CUSUM",
        a,
        b,
        p0,
        p1,
        value: best,
        threshold: h,
        at: alarm,
        detail: { statistic: `Bernoulli CUSUM from p0 to p0 + ${delta}` },
      };
    if (nb === 0 || nb === n) return undefined;
    // One change point with unknown rates before and after (the binomial change-point likelihood
    // ratio, Hinkley 1971; Worsley 1983; the generalized-likelihood-ratio CUSUM of Siegmund and
    // Venkatraman 1995). The CUSUM above measures a change from the long-run rate p0, which already
    // contains the change: an entity that served well for most of its history and then turns (a late
    // Sybil) raises p0 itself, and the ratings that its fellows still give it dilute the rest. The GLR
    // compares the best split into two rates against one rate, max over the change point of
    // LL(before) + LL(after) - LL(all), with a parametric-bootstrap p-value (every observation redrawn
    // at the overall rate, seeded), so the maximum over change points is calibrated at a0. Its episode
    // is the worse of the two segments; an episode at the start followed by a good rest is recovery.
    if (o.glr ?? true) {
      const llOf = (k: number, m: number) => (k > 0 ? k * Math.log(k / m) : 0) + (m - k > 0 ? (m - k) * Math.log((m - k) / m) : 0);
      // the bootstrap below evaluates the same (k, m) over and over: there each value is computed once
      // (memo[k (n + 1) + m], NaN until then; ll is never NaN for 0 <= k <= m), when (n + 1)^2 <= 2^22 (32 MiB)
      let memo: Float64Array | undefined;
      const ll = (k: number, m: number) => {
        if (!memo) return llOf(k, m);
        const x = k * (n + 1) + m;
        const v = memo[x];
        return v === v ? v : (memo[x] = llOf(k, m));
      };
      // bx: the outcomes tested (the observed ones, or a bootstrap draw), 1 = bad
      const glrOf = (bx: Uint8Array, total: number) => {
        const base = ll(total, n);
        let top = 0;
        let at = -1;
        // change points in the middle 70% only (Andrews 1993's 15% trimming): at the ends one or two
        // observations would make a "segment", and the statistic's null distribution diverges there
        const lo = Math.max(0, Math.ceil(0.15 * n) - 1);
        const hi = Math.min(n - 1, Math.floor(0.85 * n));
        let c = 0;
        for (let x = 0; x < lo; x++) c += bx[x];
        for (let x = lo; x < hi; x++) {
          c += bx[x];
          const v = ll(c, x + 1) + ll(total - c, n - x - 1) - base;
          if (v > top) ((top = v), (at = x));
        }
        return { top, at };
      };
      const g = glrOf(observed, nb);
      // screen: a log-likelihood ratio below 3 is far from any alarm at a0 <= 0.01 for one change point
      if (g.top > 3 && g.at >= 0) {
        const q = nb / n;
        const sim = new Uint8Array(n);
        let exceed = 0;
        let done = true;
        if ((n + 1) * (n + 1) <= 1 << 22) memo = new Float64Array((n + 1) * (n + 1)).fill(NaN);
        for (let r = 0; r < sims; r++) {
          let tot = 0;
          for (let x = 0; x < n; x++) tot += sim[x] = rng.next() < q ? 1 : 0;
          if (glrOf(sim, tot).top >= g.top) exceed++;
          if (exceed + 1 > a0 * (sims + 1)) {
            done = false; // can no longer reach a0: stop early
            break;
          }
        }
        if (done) {
          let before = 0;
          for (let x = 0; x <= g.at; x++) before += bad[ks[x]];
          const rateBefore = before / (g.at + 1);
          const rateAfter = (nb - before) / (n - g.at - 1);
          const late = rateAfter > rateBefore;
          return {
            how: "GLR",
            a: late ? g.at + 1 : 0,
            b: late ? n - 1 : g.at,
            p0,
            p1,
            value: g.top,
            threshold: a0,
            at: late ? n - 1 : g.at,
            detail: {
              statistic: "binomial change-point log-likelihood ratio (one change, rates before and after unknown), bootstrap p-value",
              pValue: (exceed + 1) / (sims + 1),
              rateBefore,
              rateAfter,
              changeAt: oTime[ks[g.at + 1]],
            },
          };
        }
      }
    }
    if (b < a) return undefined;
    // windowed dispersion: window index of every observation at every scale
    const win = scales.map((sc) => {
      const idx = new Int32Array(n);
      let cur = NaN;
      let w = -1;
      ks.forEach((k, x) => {
        const e = Math.floor(oTime[k] / epoch / sc);
        if (e !== cur) ((cur = e), w++);
        idx[x] = w;
      });
      return { sc, idx, count: w + 1 };
    });
    // per scale, the observations per window (the same for every draw) and the bad ones' scratch
    const wns = win.map(({ idx, count }) => {
      const wn = new Float64Array(count);
      for (let x = 0; x < n; x++) wn[idx[x]] += 1;
      return wn;
    });
    const wbs = win.map(({ count }) => new Float64Array(count));
    // bx: the outcomes tested (the observed ones, or a bootstrap draw), 1 = bad
    const statOf = (bx: Uint8Array, total: number) => {
      const p = total / n;
      if (p === 0 || p === 1) return { best: -Infinity, at: 0 };
      let top = -Infinity;
      let at = 0;
      win.forEach(({ idx, count }, si) => {
        if (count < 3) return;
        const wn = wns[si];
        const wb = wbs[si].fill(0);
        for (let x = 0; x < n; x++) wb[idx[x]] += bx[x];
        let d = 0;
        for (let w = 0; w < count; w++) d += (wb[w] - wn[w] * p) ** 2 / (wn[w] * p * (1 - p));
        const zs = (d - (count - 1)) / Math.sqrt(2 * (count - 1));
        if (zs > top) ((top = zs), (at = si));
      });
      return { best: top, at };
    };
    const obs = statOf(observed, nb);
    // screen: a standardized chi-square below 2 is far from any alarm at alpha <= 0.01
    if (!(obs.best > 2)) return undefined;
    const q = nb / n;
    const sim = new Uint8Array(n);
    let exceed = 0;
    for (let r = 0; r < sims; r++) {
      let tot = 0;
      for (let x = 0; x < n; x++) tot += sim[x] = rng.next() < q ? 1 : 0;
      if (statOf(sim, tot).best >= obs.best) exceed++;
      if (exceed + 1 > a0 * (sims + 1)) return undefined; // can no longer reach a0: stop early
    }
    const pv = (exceed + 1) / (sims + 1);
    const { sc, idx, count } = win[obs.at];
    const windows = Array.from({ length: count }, () => ({ observations: 0, bad: 0, end: 0 }));
    ks.forEach((k, x) => {
      const w = windows[idx[x]];
      w.observations++;
      w.bad += bad[k];
      w.end = oTime[k];
    });
    return {
      how: "dispersion",
      a,
      b,
      p0,
      p1,
      value: obs.best,
      threshold: a0,
      at: n - 1,
      detail: {
        statistic: "max over window sizes of the standardized dispersion (chi-square) of bad outcomes, bootstrap p-value",
        pValue: pv,
        windowEpochs: sc,
        windows,
      },
    };
  };
  const episode = (ks: number[], c: Change) => {
    const seg = ks.slice(c.a, c.b + 1);
    return {
      test: c.how,
      value: c.value,
      threshold: c.threshold,
      from: oTime[seg[0]],
      to: oTime[seg[seg.length - 1]],
      observations: seg.length,
      bad: seg.reduce((x, k) => x + bad[k], 0),
      longRunBadRate: c.p0,
      ...c.detail,
    };
  };
  // Iterated (session 11; the iteration of Whitby et al.'s filtering, applied to behaviour in time): an
  // entity flagged because it turned bad and stayed turned (no recovery) is, from the start of its
  // episode on, not a credible witness of anyone else's service, so the change tests are run again,
  // until nothing changes (at most `filterRounds` passes), on the targets whose credible observations
  // lost its ratings from then on. Sybils that turn together and keep praising each other dilute the
  // honest outcomes of their quieter fellows with that praise; once the busier ones are flagged, their
  // praise from the turn on no longer counts, and the quieter ones' own change shows. An entity with
  // one episode and recovery (a notice) or with recurrence keeps its weight: only "turned and stays
  // turned" says that its later ratings come from an attacker.
  const turnedAt = new Float64Array(N).fill(Infinity);
  const testedWith = new Float64Array(N).fill(-1); // per target: a signature (count and indices) of the observations it was last tested on
  const onOffFlagged = new Uint8Array(N);
  const noticeOf = new Map<number, Detection>();
  const passes = (o.iterateTurned ?? true) ? filterRounds : 1;
  // Raters who praise an entity during its established episode (session 11; point 2's test with the
  // episode as the reference, local in time): once a target is flagged for turning bad and staying
  // turned, the credible observations of it from its turn on (its episode) give its bad rate there,
  // p_ep = (bad + 0.5) / (n + 1) without the tested rater's own. A rater's good outcomes on such
  // targets during their episodes are tested as point 2 tests a rater's good outcomes on targets the
  // reference finds bad: excess sum(p_ep - b), variance p_ep (1 - p_ep)(n + n^2 / (m + 1)) per pair
  // (the design effect, m the episode's other observations), z >= `z` with at least `minExcess`
  // excess outcomes flags good-mouthing, and the rater weighs nothing from then on. Late Sybils that
  // keep praising each other after the turn are seen against the honest outcomes of their fellows'
  // episodes, which pool every honest rater of the episode, not the few seeds of one epoch; the next
  // pass reads their fellows without their praise.
  let praisersFlagged = 0;
  const praisersOfTurned = () => {
    const epN = new Float64Array(N);
    const epB = new Float64Array(N);
    const inEpisode = (k: number) => oTime[k] >= turnedAt[oTo[k]] && !blocked[k] && W(oFrom[k]) >= 0.5 && oTime[k] < turnedAt[oFrom[k]];
    for (let k = 0; k < M; k++) if (inEpisode(k)) ((epN[oTo[k]] += 1), (epB[oTo[k]] += bad[k]));
    const per = new Map<number, [number, number]>();
    let found = 0;
    for (let i = 0; i < N; i++) {
      if (cred[i] === 0 || flaggedKinds.has(i)) continue;
      per.clear();
      const shown: number[] = [];
      for (const k of byRater[i])
        if (inEpisode(k)) {
          const x = per.get(oTo[k]) ?? per.set(oTo[k], [0, 0]).get(oTo[k])!;
          ((x[0] += 1), (x[1] += bad[k]));
          if (!bad[k]) shown.push(k);
        }
      if (!per.size) continue;
      let sx = 0;
      let vx = 0;
      const perTarget: Record<string, unknown>[] = [];
      for (const [t, [n, nb]] of per) {
        const m = epN[t] - n;
        const p = clamp((epB[t] - nb + 0.5) / (m + 1), 0.02, 0.98);
        sx += n * p - nb; // good outcomes seen, n - nb, against n (1 - p) expected
        vx += p * (1 - p) * (n + (n * n) / (m + 1));
        perTarget.push({
          target: names[t],
          turnedAt: turnedAt[t],
          observations: n,
          bad: nb,
          episodeBadRate: Number(p.toFixed(4)),
          episodeObservations: m,
        });
      }
      const zi = z(sx, vx);
      if (!(zi >= zStar && sx >= minExcess)) continue;
      cred[i] = 0;
      found++;
      praisersFlagged++;
      flag(i, {
        entity: names[i],
        kind: AttackKind.GoodMouthing,
        score: zi,
        reason: `unfair rater (praise during an episode): ${sx.toFixed(1)} more good outcomes than the other credible raters gave the same entities after they turned bad (flagged on-off, no recovery), z = ${zi.toFixed(1)} >= ${zStar}`,
        evidence: {
          statistic:
            "sum(p_ep - b) / sd over the rater's observations of entities flagged for turning bad, from their turn on (b its outcome, p_ep the episode's bad rate from the other credible raters), variance p_ep(1 - p_ep)(n + n^2/(m + 1)) per pair",
          value: zi,
          threshold: zStar,
          excess: sx,
          minExcess,
          perTarget: perTarget.slice(0, 24),
          ratings: shown.slice(-12).map(ref),
        },
      });
    }
    return found;
  };
  const leftOut = (t: number) => {
    const by = new Map<number, number>(); // rater -> its ratings of t left out
    for (const k of byTarget[t])
      if (!blocked[k] && W(oFrom[k]) >= 0.5 && oTime[k] >= turnedAt[oFrom[k]]) by.set(oFrom[k], (by.get(oFrom[k]) ?? 0) + 1);
    return [...by].slice(0, 24).map(([f, n]) => ({ rater: names[f], from: turnedAt[f], ratings: n }));
  };
  for (let pass = 0; pass < passes; pass++) {
    const turnedNow: [number, number][] = []; // applied after the pass: the order of the targets does not matter
    for (let t = 0; t < N; t++) {
      if (onOffFlagged[t]) continue;
      let ks = byTarget[t].filter((k) => !blocked[k] && W(oFrom[k]) >= 0.5 && oTime[k] < turnedAt[oFrom[k]]);
      // "cap": a change in behaviour is a change in the service the target gave, so the test reads
      // the observations with evidence of it when there are enough of them to test
      if (capUnevidenced) {
        const evidenced = ks.filter((k) => !oUnev[k]);
        if (evidenced.length < ks.length && evidenced.length >= minObs) ks = evidenced;
      }
      // observations are only ever taken away between passes: the same count and sum of indices is the same list
      let sig = ks.length;
      for (const k of ks) sig += k * 1024;
      if (sig === testedWith[t]) continue;
      testedWith[t] = sig;
      noticeOf.delete(t);
      const first = changeTest(ks);
      if (!first) continue;
      // recovery inside the episode's segment (the same bound as after it) splits it in two: the part
      // before the recovery is the first episode, and what follows is a return to bad
      const recoveryBound = Math.log(1 / alpha);
      const goodStep = Math.log((1 - first.p0) / (1 - first.p1));
      const badStep = Math.log(first.p0 / first.p1);
      let inner: Change | undefined;
      for (let x = first.a, r = 0, lastBad = first.a; x <= first.b; x++) {
        if (bad[ks[x]]) lastBad = x;
        r = Math.max(0, r + (bad[ks[x]] ? badStep : goodStep));
        if (r >= recoveryBound && x < first.b) {
          inner = { ...first, a: x + 1, at: first.b };
          first.b = lastBad;
          break;
        }
      }
      const rest = [...ks.slice(0, first.a), ...ks.slice(first.b + 1)];
      const second = inner ? undefined : changeTest(rest, recurrenceAlpha);
      // recovery: the log-likelihood ratio of p0 against p0 + delta over the observations after the episode
      let llr = 0;
      for (const k of ks.slice(first.b + 1)) llr += bad[k] ? badStep : goodStep;
      const recovered = llr >= recoveryBound;
      const episodes = inner
        ? [episode(ks, first), episode(ks, inner)]
        : second
          ? [episode(ks, first), episode(rest, second)]
          : [episode(ks, first)];
      const ep = episodes[episodes.length - 1];
      const what = `${ep.bad} bad of ${ep.observations} credible observations from ${ep.from} to ${ep.to} against a long-run bad rate of ${ep.longRunBadRate.toFixed(2)} (${ep.test} ${ep.value.toFixed(1)}, ${ep.test === "CUSUM" ? `>= ln(n/${second ? recurrenceAlpha : alpha}) = ${ep.threshold.toFixed(1)}` : `bootstrap p = ${Number((ep as Record<string, unknown>).pValue).toFixed(4)} <= ${ep.threshold}`})${second ? `, a second change at level ${recurrenceAlpha} once a first was found at ${alpha}` : ""}`;
      const evidence = {
        statistic: "behaviour-change episodes (CUSUM or windowed dispersion), recurrence and recovery",
        value: second ? second.value : first.value,
        threshold: second ? second.threshold : first.threshold,
        episodes,
        recoveryLogLikelihoodRatio: llr,
        recoveryBound,
        recovered,
        // the ratings left out because their raters were flagged for turning bad (and staying turned)
        // before they gave them: each rater with the time from which its ratings no longer count
        ...(pass > 0 ? { leftOutTurnedRaters: leftOut(t) } : {}),
        ratings: ks
          .slice(first.a, first.b + 1)
          .slice(-12)
          .map(ref),
      };
      if (inner || second || !recovered) {
        onOffFlagged[t] = 1;
        if (!inner && !second) turnedNow.push([t, ep.from]);
        flag(t, {
          entity: names[t],
          kind: AttackKind.OnOff,
          score: second ? second.value : first.value,
          // the flag needs both episodes: it is raised when the later of the two alarms
          detectedAt: second ? Math.max(oTime[rest[second.at]], oTime[ks[first.at]]) : inner ? oTime[ks[inner.at]] : oTime[ks[first.at]],
          reason: inner
            ? `behaviour change that recurs after recovery: within ${what}, the service recovered (log-likelihood ratio ${recoveryBound.toFixed(1)} for the long-run rate) and turned bad again`
            : second
              ? `behaviour change that recurs after recovery: a second episode, ${what}`
              : `behaviour change without recovery: ${what}; the observations after it favour the changed rate (log-likelihood ratio ${llr.toFixed(1)} < ln(1/${alpha}))`,
          evidence,
        });
      } else
        noticeOf.set(t, {
          entity: names[t],
          kind: AttackKind.OnOff,
          score: first.value,
          detectedAt: oTime[ks[first.at]],
          reason: `one behaviour change, then recovery (not flagged: no recurrence): ${what}; after it the long-run rate is back (log-likelihood ratio ${llr.toFixed(1)} >= ln(1/${alpha}))`,
          evidence,
        });
    }
    for (const [t, from] of turnedNow) turnedAt[t] = from;
    const praisers = passes > 1 && turnedAt.some((x) => x < Infinity) ? praisersOfTurned() : 0;
    if (!turnedNow.length && !praisers) break;
  }
  if (praisersFlagged) totals(); // the flagged praisers weigh nothing in effective trust either
  const notices = [...noticeOf.keys()].sort((x, y) => x - y).map((t) => noticeOf.get(t)!);

  // --- 3c. two service levels (session 15, on by default since session 17; the provider channel of the oracle bound). An on-off
  // provider serves at two levels (good, and bad in its bad phases); a stationary honest one at one level
  // with noise, whatever its quality or its raters' strictness. Each credible observation of a provider (as
  // point 3 reads them) is its strictness-corrected value minus the population's mean deviation in the same
  // epoch (peer normalization: a dip for everyone, peak load, is not the provider's). The population's
  // noise variance s^2 is the median variance of the providers whose median service is mid-scale (0.3-0.7,
  // where the scale's ends do not narrow it). The statistic is the spread in units of that noise,
  // V = sum (x - mean)^2 / (m s^2), over the provider's whole time span with 3d (which tells an outage,
  // once or recurring, from on-off); without 3d, on each half of the span and the smaller of the two (session
  // 15: a second level in both halves is recurrence; one outage that recovers is in one half only, but
  // outages that recur are in both). Its null: the provider at one level, its median, with the population's
  // noise (Gaussian, clipped to the scale), the same times, by Monte Carlo (sequential, Besag and Clifford:
  // stop after 10 exceedances, at most ceil(10 / genericAlpha) - 1 draws). Flagged on-off at p <= genericAlpha.
  let levelsRun: Analysis["levels"] = null;
  if (o.serviceLevels ?? true) {
    const credible = (k: number) => !blocked[k] && W(oFrom[k]) >= 0.5 && oTime[k] < turnedAt[oFrom[k]];
    const tMean = new Float64Array(N);
    const tCount = new Float64Array(N);
    let e0 = Infinity;
    let e1 = -Infinity;
    for (let k = 0; k < M; k++)
      if (credible(k)) {
        tMean[oTo[k]] += valRef[k];
        tCount[oTo[k]]++;
        const e = Math.floor(oTime[k] / epoch);
        ((e0 = Math.min(e0, e)), (e1 = Math.max(e1, e)));
      }
    for (let t = 0; t < N; t++) if (tCount[t] > 0) tMean[t] /= tCount[t];
    const E = e1 >= e0 ? e1 - e0 + 1 : 0;
    const peer = new Float64Array(E);
    const peerN = new Float64Array(E);
    for (let k = 0; k < M; k++)
      if (credible(k)) {
        const e = Math.floor(oTime[k] / epoch) - e0;
        peer[e] += valRef[k] - tMean[oTo[k]];
        peerN[e]++;
      }
    for (let e = 0; e < E; e++) if (peerN[e] > 0) peer[e] /= peerN[e];
    const level = (k: number) => valRef[k] - peer[Math.floor(oTime[k] / epoch) - e0];
    const tested = (t: number) => {
      let ks = byTarget[t].filter(credible);
      if (capUnevidenced) {
        const evidenced = ks.filter((k) => !oUnev[k]);
        if (evidenced.length < ks.length && evidenced.length >= minObs) ks = evidenced;
      }
      return ks;
    };
    // the population's noise
    const vars: number[] = [];
    for (let t = 0; t < N; t++) {
      const v = tested(t).map(level);
      if (v.length < minObs) continue;
      const med = median(v);
      if (med < 0.3 || med > 0.7) continue;
      const mu = v.reduce((x, y) => x + y, 0) / v.length;
      vars.push(v.reduce((x, y) => x + (y - mu) ** 2, 0) / (v.length - 1));
    }
    // Minimum evidence: the null's noise is the population's, estimated by the median of those variances. With
    // k of them, the largest is a distribution-free (1 - genericAlpha) upper confidence bound for the population's
    // median variance only if 2^-k <= genericAlpha (k >= 10 at 0.001): below that, no estimate of the noise
    // holds at the test's level, and 3c and 3d do not run (the detections are those of serviceLevels: false;
    // `levels` in the analysis says so). Until session 17 a missing estimate was replaced by a constant (0.04),
    // which flagged 2-7 of the 57 good providers and 2-3 of the 3 honest-bad ones of robust.test.ts's small world
    // (5 seeds), whose providers are all near the ends of the scale, each with a share of failed services.
    const noiseProviders = Math.ceil(Math.log2(1 / genericAlpha));
    const noiseKnown = vars.length >= noiseProviders;
    const noise2 = noiseKnown ? median(vars) : NaN;
    const sd = Math.sqrt(noise2);
    levelsRun = { ran: noiseKnown, noiseProviders: vars.length, needed: noiseProviders, noiseVariance: noiseKnown ? noise2 : null };
    // 3d's shape of a provider's service (session 16): its epochs' means as a two-level mixture, by EM with the
    // population's noise (variance s^2 / m for an epoch of m observations; started from the two 2-means
    // levels of its values): the levels, the share of its epochs at the low one (down: an epoch that is low by
    // noise alone counts by its posterior, not whole), and the spread within its epochs in units of the noise,
    // W = sum over epochs of sum (x - epoch mean)^2 / ((m_total - epochs) s^2). Linear in its observations.
    const outageShape = (r: Float64Array, ks: number[], s2: number) => {
      const n = r.length;
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of r) ((lo = Math.min(lo, x)), (hi = Math.max(hi, x)));
      for (let it = 0; it < 20 && hi > lo; it++) {
        const cut = (lo + hi) / 2;
        let sl = 0, nl = 0, sh = 0, nh = 0; // prettier-ignore
        for (const x of r)
          if (x < cut) ((sl += x), nl++);
          else ((sh += x), nh++);
        if (!nl || !nh) break;
        if (sl / nl === lo && sh / nh === hi) break;
        ((lo = sl / nl), (hi = sh / nh));
      }
      const ep = new Map<number, { m: number; s: number; ss: number }>();
      ks.forEach((k, x) => {
        const e = Math.floor(oTime[k] / epoch);
        const a = ep.get(e) ?? ep.set(e, { m: 0, s: 0, ss: 0 }).get(e)!;
        ((a.m += 1), (a.s += r[x]), (a.ss += r[x] * r[x]));
      });
      const eps = [...ep.values()];
      let within = 0;
      for (const a of eps) within += a.ss - (a.s * a.s) / a.m;
      let pi = 0.5;
      let down = 0;
      for (let it = 0; it < 50 && hi > lo; it++) {
        let sp = 0, wl = 0, sl = 0, wh = 0, sh = 0; // prettier-ignore
        for (const a of eps) {
          const mu = a.s / a.m;
          const llr = (a.m * ((mu - lo) ** 2 - (mu - hi) ** 2)) / (2 * s2); // ln(phi_hi / phi_lo)
          const g = pi / (pi + (1 - pi) * Math.exp(Math.min(700, Math.max(-700, llr))));
          ((sp += g), (wl += g * a.m), (sl += g * a.s), (wh += (1 - g) * a.m), (sh += (1 - g) * a.s));
        }
        down = sp;
        pi = Math.min(1 - 1e-9, Math.max(1e-9, sp / eps.length));
        if (wl > 0) lo = sl / wl;
        if (wh > 0) hi = sh / wh;
      }
      return {
        lo,
        hi,
        epochs: eps.length,
        down,
        downShare: hi > lo ? pi : 0,
        within: n > eps.length ? within / ((n - eps.length) * s2) : 0,
      };
    };
    const prng = new Prng(0x3c6ef372);
    const maxDraws = Math.ceil(10 / genericAlpha) - 1;
    // 3d. outages (session 16): an outage is a drop of the service level for everyone the provider serves in
    // the same epochs, and a provider that is down in a minority of its epochs is good most of the time. A
    // provider whose second level has that shape (the spread within its epochs no more than the population's
    // noise, W <= 1, and its down epochs at most `outageShare` of its epochs) is not flagged for recurrence:
    // point 3's recurrence flags and 3c's flags of it become notices. An on-off provider that serves bad to
    // some of those it serves in an epoch (a chosen share) spreads within epochs; one that is bad for everyone
    // in its bad epochs is an outage's shape and is flagged when they are more than `outageShare` of its time.
    const outageRule = o.outages ?? true;
    const outageShare = o.outageShare ?? 0.2;
    if (outageRule && !(outageShare >= 0 && outageShare < 1))
      throw new InvalidParameterError(`analyze: outageShare must be in [0, 1), got ${outageShare}`);
    const isOutage = (sh: ReturnType<typeof outageShape>) => sh.within <= 1 && sh.downShare <= outageShare;
    const outageNote = (sh: ReturnType<typeof outageShape>) =>
      `an outage's shape: down (at the level ${sh.lo.toFixed(2)}, against ${sh.hi.toFixed(2)}) in ${sh.down.toFixed(1)} of its ${sh.epochs} epochs (share ${sh.downShare.toFixed(2)} <= ${outageShare}), and the spread within its epochs ${sh.within.toFixed(2)} times the population's noise (<= 1): the same level for everyone it served in an epoch`;
    const outageOf = new Set<number>(); // providers whose recurrence flag became a notice
    if (outageRule && noiseKnown) {
      const index = new Map(names.map((x, i) => [x, i]));
      const keep: Detection[] = [];
      for (const d of detections) {
        const t = index.get(d.entity)!;
        if (d.kind === AttackKind.OnOff && d.reason.startsWith("behaviour change that recurs after recovery")) {
          const ks = tested(t);
          const sh = ks.length >= minObs ? outageShape(Float64Array.from(ks, level), ks, noise2) : undefined;
          if (sh && isOutage(sh)) {
            const kinds = flaggedKinds.get(t)!;
            kinds.delete(AttackKind.OnOff);
            if (!kinds.size) flaggedKinds.delete(t);
            outageOf.add(t);
            lateFlags++;
            notices.push({ ...d, reason: `${d.reason}; not flagged: ${outageNote(sh)}`, evidence: { ...d.evidence, outage: sh } });
            continue;
          }
        }
        keep.push(d);
      }
      detections.splice(0, detections.length, ...keep);
    }
    for (let t = 0; noiseKnown && t < N; t++) {
      if (flaggedKinds.get(t)?.has(AttackKind.OnOff) || outageOf.has(t)) continue;
      const ks = tested(t);
      const n = ks.length;
      if (n < minObs) continue;
      const r = Float64Array.from(ks, level);
      const mid = (oTime[ks[0]] + oTime[ks[n - 1]]) / 2;
      const half = Uint8Array.from(ks, (k) => (oTime[k] >= mid ? 1 : 0));
      const spread = (v: Float64Array, h: number) => {
        let m = 0;
        let sm = 0;
        for (let x = 0; x < n; x++) if (h < 0 || half[x] === h) ((m += 1), (sm += v[x]));
        if (m < 2) return 0;
        let ss = 0;
        for (let x = 0; x < n; x++) if (h < 0 || half[x] === h) ss += (v[x] - sm / m) ** 2;
        return ss / (m * noise2);
      };
      // with 3d, the whole span (3d tells an outage's recurrence from on-off); without it, the smaller half
      const stat = (v: Float64Array) => (outageRule ? spread(v, -1) : Math.min(spread(v, 0), spread(v, 1)));
      const obs = stat(r);
      if (!(obs > 0)) continue;
      const q = median(Array.from(r));
      const sim = new Float64Array(n);
      let exceed = 0;
      let b = 0;
      while (b < maxDraws && exceed < 10) {
        for (let x = 0; x < n; x++) sim[x] = clip01(q + sd * prng.normal());
        b++;
        if (stat(sim) >= obs - 1e-12) exceed++;
      }
      const pv = exceed >= 10 ? exceed / b : (exceed + 1) / (b + 1);
      if (!(pv <= genericAlpha)) continue;
      const shape = outageShape(r, ks, noise2);
      const levelsDetection = (reason: string): Detection => ({
        entity: names[t],
        kind: AttackKind.OnOff,
        score: obs,
        detectedAt: oTime[ks[n - 1]],
        reason: `${outageRule ? `two service levels: the strictness-corrected values it received spread ${spread(r, -1).toFixed(1)} times the population's noise (variance ${noise2.toFixed(3)})` : `two service levels, in both halves of its time: the strictness-corrected values it received spread ${spread(r, 0).toFixed(1)} and ${spread(r, 1).toFixed(1)} times the population's noise (variance ${noise2.toFixed(3)}) in the two halves`}, more than a provider at one level (${q.toFixed(2)}) with that noise does in ${b} draws (p = ${pv.toFixed(4)} <= ${genericAlpha})${reason}`,
        evidence: {
          statistic: `${outageRule ? "over the provider's whole time span" : "min over the two halves of the provider's time span"} of sum (x - mean)^2 / (m s^2), x its strictness-corrected values received minus the population's mean deviation in the same epoch, s^2 the median variance of mid-scale providers; null: clip(median + s z), z standard normal, by Monte Carlo`,
          value: obs,
          pValue: pv,
          threshold: genericAlpha,
          draws: b,
          noiseVariance: noise2,
          level: q,
          halves: [spread(r, 0), spread(r, 1)],
          ...(outageRule ? { outage: shape } : {}),
          ratings: ks.slice(-12).map(ref),
        },
      });
      if (outageRule && isOutage(shape)) {
        notices.push(levelsDetection(`; not flagged: ${outageNote(shape)}`));
        continue;
      }
      lateFlags++;
      flag(t, levelsDetection(""));
    }
  }
  if (lateFlags) totals();

  // --- 4. effective trust
  const trust = new Map<string, number>();
  const wOut = new Map<string, number>();
  const support = new Map<string, { value: number; weight: number; flagged: boolean }>();
  for (let i = 0; i < N; i++) {
    const beta = (1 + tVal[i]) / (2 + tSum[i]);
    trust.set(names[i], flaggedKinds.has(i) ? beta * penalty : beta);
    wOut.set(names[i], W(i));
    support.set(names[i], { value: tVal[i], weight: tSum[i], flagged: flaggedKinds.has(i) });
  }
  // entities outside the analysis: the beta prior, and the weight an unrated non-seed gets
  for (const n of nodes)
    if (!ids.has(n)) {
      trust.set(n, 0.5);
      wOut.set(n, seedIdx.length > 0 ? 0 : 1);
      support.set(n, { value: 0, weight: 0, flagged: false });
    }
  const lockstep = groups.map((g, gi) => ({
    members: g.members.map((x) => names[x]),
    targets: targetNames(g),
    flagged: groupFlagged[gi] === 1,
    flaggedMembers: g.members.filter((x) => flaggedKinds.has(x)).map((x) => names[x]),
  }));
  return { detections, notices, lockstep, trust, support, weight: wOut, observations: M, ignoredUnevidenced, levels: levelsRun };
}

/**
 * The beta-binomial distribution of the bad outcomes among n observations whose bad share p is known
 * from a beta estimate with `c` pseudo-counts (the reference's own error, shared by the n observations):
 * its probabilities for 0..n, by the recurrence P(x + 1) / P(x) = (n - x)(a + x) / ((x + 1)(b + n - x - 1)).
 * @param n - observations
 * @param p - the estimated share
 * @param c - the estimate's pseudo-counts (a + b)
 * @returns P(0..n)
 */
export function betaBinomial(n: number, p: number, c: number): Float64Array {
  const a = p * c;
  const b = (1 - p) * c;
  const pmf = new Float64Array(n + 1);
  let lp = 0;
  for (let x = 0; x < n; x++) lp += Math.log((b + x) / (a + b + x)); // P(0) = B(a, b + n) / B(a, b)
  pmf[0] = Math.exp(lp);
  for (let x = 0; x < n; x++) pmf[x + 1] = (pmf[x] * (n - x) * (a + x)) / ((x + 1) * (b + n - x - 1));
  return pmf;
}

/** 2c: one (rater, target) pair on one side: observations n, bad outcomes d, reference p, its pseudo-counts c (m + 1). */
export type ScanPair = { t: number; n: number; d: number; p: number; c: number };
/** 2c: a pair with its one-sided p-value pi and excess outcomes on its side. */
export type ScanTarget = ScanPair & { pi: number; excess: number };
/** 2c: a rater's scan on one side: the p-value of the selection, its z, excess, targets tested, selected and left out. */
export type Scan = { p: number; z: number; excess: number; tested: number; selected: ScanTarget[]; leftOut?: ScanTarget };

/** The grid of 2c's convolution: null values rounded up to it, the observed value down (so never below the true tail). */
const SCAN_GRID = 0.05;

/**
 * 2c, the selective-liar scan. Per target t on one side, the exact one-sided tail p_t of the rater's
 * outcomes under point 2's null, D_t ~ BetaBinomial(n_t, p_t, m_t + 1) (bad-mouthing: P(D >= d), good-
 * mouthing: P(D <= d)); the statistic is the truncated product (Zaykin, Zhivotovsky, Westfall and Weir,
 * Genet. Epidemiol. 2002) in log form, S = sum_t max(0, ln(tau / p_t)): only targets where the rater
 * disagrees at p_t <= tau count, so generous ratings elsewhere cannot cancel them. The largest term is left
 * out (one target's disagreement is evidence about that target, as for lockstep groups): the event
 * S - max_t X_t >= s implies sum_{u != t} X_u >= s for every t, so the tail of the sum without the observed
 * argmax bounds it. That tail is computed exactly, not from the uniform approximation (which, with the
 * discrete p-values of one or two observations, is very conservative): each target's term takes n_t + 1
 * values with known probabilities; they are convolved on a grid of `SCAN_GRID`, null values rounded up and
 * the observed value down, mass at or above the observed value lumped (work: targets x cells).
 * @param pairs - the rater's pairs on this side
 * @param tau - the truncation point
 * @param upper - bad-mouthing side (an excess of bad outcomes) or good-mouthing (a shortfall)
 * @returns the scan, or undefined when fewer than two targets are on this side
 */
export function selectiveScan(pairs: readonly ScanPair[], tau: number, upper: boolean): Scan | undefined {
  if (pairs.length < 2) return undefined;
  // per pair: the null's values of its term (cells) and their probabilities, and the observed term
  // (its row, the pair as reported, only where it can be reported: a selected pair, x > 0, or the first, the one
  // left out when none is above the others)
  const terms: { x: number; cells: Int32Array; prob: Float64Array; excess: number; row?: ScanTarget }[] = [];
  let lo = 0;
  for (const q of pairs) {
    const pmf = betaBinomial(q.n, q.p, q.c);
    const tail = new Float64Array(q.n + 1); // the one-sided p-value of each outcome count
    if (upper) for (let d = q.n, acc = 0; d >= 0; d--) tail[d] = Math.min(1, (acc += pmf[d]));
    else for (let d = 0, acc = 0; d <= q.n; d++) tail[d] = Math.min(1, (acc += pmf[d]));
    const xOf = (d: number) => (tail[d] < tau ? Math.log(tau / Math.max(tail[d], 1e-300)) : 0);
    const cells = new Int32Array(q.n + 1);
    for (let d = 0; d <= q.n; d++) cells[d] = Math.ceil(xOf(d) / SCAN_GRID - 1e-9);
    const x = xOf(q.d);
    const excess = upper ? q.d - q.n * q.p : q.n * q.p - q.d;
    const row: ScanTarget | undefined = x > 0 || !terms.length ? { ...q, pi: tail[q.d], excess } : undefined;
    terms.push({ x, cells, prob: pmf, excess, row });
    if (terms[terms.length - 1].x > terms[lo].x) lo = terms.length - 1;
  }
  const rest = terms.filter((_, x) => x !== lo);
  const selected = rest
    .filter((x) => x.x > 0)
    .map((x) => x.row!)
    .sort((a, b) => a.pi - b.pi);
  let s = 0;
  let excess = 0;
  for (const x of rest) if (x.x > 0) ((s += x.x), (excess += x.excess));
  const base = { excess, tested: rest.length, selected, leftOut: terms[lo].row! };
  const K = Math.floor(s / SCAN_GRID + 1e-9);
  if (K <= 0) return { ...base, p: 1, z: 0 };
  // dist[j]: P(sum of cells so far = j), j < K; dist[K]: P(>= K)
  let dist = new Float64Array(K + 1);
  let next = new Float64Array(K + 1);
  dist[0] = 1;
  for (const { cells, prob } of rest) {
    next.fill(0);
    for (let d = 0; d < cells.length; d++) {
      const pr = prob[d];
      if (!(pr > 0)) continue;
      const c = cells[d];
      if (c >= K) {
        for (let j = 0; j <= K; j++) next[K] += dist[j] * pr;
        continue;
      }
      for (let j = 0; j <= K; j++) if (dist[j] > 0) next[j + c >= K ? K : j + c] += dist[j] * pr;
    }
    [dist, next] = [next, dist];
  }
  const p = Math.min(1, dist[K]);
  return { ...base, p, z: normalUpperInv(p) };
}

/** The standard normal's upper tail, erfc by Numerical Recipes' Chebyshev fit (relative error < 1.2e-7). */
function normalUpper(zv: number): number {
  const x = zv / Math.SQRT2;
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return (x >= 0 ? y : 2 - y) / 2;
}

/** z with normalUpper(z) = p (bisection; 0 for p >= 1/2, 40 for p = 0). */
function normalUpperInv(p: number): number {
  if (!(p < 0.5)) return 0;
  if (p <= 0) return 40;
  let a = 0;
  let b = 40;
  for (let it = 0; it < 60; it++) {
    const m = (a + b) / 2;
    if (normalUpper(m) > p) a = m;
    else b = m;
  }
  return (a + b) / 2;
}

function groupBy(keys: readonly number[], n: number): number[][] {
  const g: number[][] = Array.from({ length: n }, () => []);
  for (let k = 0; k < keys.length; k++) g[keys[k]].push(k);
  return g;
}
const clip01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);
const z = (s: number, v: number) => (v > 0 ? s / Math.sqrt(v) : 0);
function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = Float64Array.from(xs).sort();
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
