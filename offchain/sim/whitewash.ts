/**
 * Does whitewashing pay? (issue 15; docs/specs/trust.md §6, "Measured with honest newcomers").
 *
 * The adversary suite's whitewash family with honest newcomers (`generateNetwork`'s `newcomers`:
 * honest identities that join mid-run, half of them leaving again after 4-10 rounds, half of them
 * unverified), so that "fresh, unverified, short-lived" is not by itself a detector. For one seed:
 *
 * - W: the whitewash network; S: the same seed and draws without whitewashing (`freshIdentities:
 *   false`: each whitewasher keeps its first, verified identity, with the same 4-good / 2-bad
 *   service schedule); C: the same seed without attackers (damage).
 * - At the start of every round r, metatrust's detectors (`robust.analyze`) run on the ratings
 *   before r, and every identity's effective trust is read under two rules: `behaviour only` (the
 *   trust `trust:detect` reports: beta reputation × 0.2 when flagged) and `identity layer`
 *   (identity-layer.ts: an unverified identity's prior is b·f and its trust × u).
 * - Per whitewasher (a person, all its identities): its effective trust over its lives (the mean
 *   over rounds of the trust of the identity it serves under that round), and its bad services
 *   delivered while in standing (the identity's trust at the start of the round at or above
 *   Trust_min = 0.5, below which an agreement goes through an intermediary), each against the same
 *   seed without whitewashing. Whitewashing pays a whitewasher when it gains on either.
 * - Per identity change: the fresh identity's trust when it takes over against the trust the shed
 *   identity had then (what the attacker loses, and what it starts at).
 * - Per trustworthy honest newcomer: the rounds from its join until its trust reaches the median
 *   trustworthy established honest identity (and Trust_min), verified and unverified apart: what
 *   the same rule costs honest newcomers.
 * - Detection at the end of the run: whitewash identities flagged, FPR over every trustworthy
 *   honest identity (newcomers included) and over the trustworthy newcomers alone; beside it the
 *   "identity facts" rule (flag every unverified identity), which the newcomers keep from being a
 *   detector.
 *
 * Simulated: the generator's population and attack (offchain/trust/adversaries/generate.ts); the
 * detectors and the identity layer are the code `trust:detect` and TrustManager's rules use.
 */
import { analyze, type Analysis } from "../trust/robust";
import { mapToPair, pairToMap } from "./checkpoint";
import { withIdentityLayer } from "../trust/identity-layer";
import { generateNetwork, SUITE_MODEL, type Network } from "../trust/adversaries/generate";
import { TRUST_MIN } from "../trust/adversaries/evaluate";

/** The two trust rules compared. */
export const WHITEWASH_RULES = ["behaviour only", "identity layer"] as const;
export type WhitewashRule = (typeof WHITEWASH_RULES)[number];

/** Rounds to reach a level, over a group of newcomers. */
export type Reach = {
  /** trustworthy newcomers in the group */
  n: number;
  /** share that reached it while in the run */
  reached: number;
  /** median rounds from the join to the first round at or above it, over those that reached it (NaN if none) */
  medianRounds: number;
};

/** What one rule gives on one seed. */
export type RuleResult = {
  /** mean over whitewashers of their mean effective trust over the run: with whitewashing, and the same seed without */
  trustWith: number;
  trustWithout: number;
  /** mean over whitewashers of their bad services delivered while in standing (trust >= Trust_min): with, without */
  badInStandingWith: number;
  badInStandingWithout: number;
  /** mean over whitewashers of their bad services delivered in all (the same with and without: the schedule is the attacker's) */
  badServices: number;
  /** share of whitewashers for whom whitewashing pays in standing: more bad services in standing than without */
  paysInStanding: number;
  /** share of whitewashers whose mean trust over the run is higher than without */
  paysInTrust: number;
  /** share of identity changes where the fresh identity starts at or above the trust of the identity it sheds */
  freshAtOrAboveShed: number;
  /** mean trust a fresh identity starts at; mean trust of the identity it sheds at that moment */
  freshStart: number;
  shedEnd: number;
  /** share of round-identity pairs of fresh (unverified) whitewash identities in standing */
  freshInStanding: number;
  /**
   * rounds for a trustworthy honest newcomer whose quality is at least the median established
   * trustworthy honest identity's to reach that identity's trust (the median trust of the
   * trustworthy honest identities present from round 0, at the same round)
   */
  newcomersToMedian: { verified: Reach; unverified: Reach };
  /** and to reach Trust_min */
  newcomersToTrustMin: { verified: Reach; unverified: Reach };
  /** mean |trust - trust without attackers| over trustworthy honest identities at the end */
  damage: number;
};

/** One seed's result. */
export type WhitewashSeed = {
  nodes: number;
  seed: number;
  rounds: number;
  whitewashers: number;
  freshIdentities: number;
  newcomers: { verified: number; unverified: number };
  /** metatrust's flags at the end of the run */
  detection: number;
  /** FPR over trustworthy honest identities (newcomers included), and over trustworthy newcomers alone */
  fpr: number;
  fprNewcomers: number;
  /** the "identity facts" rule: flag every unverified identity */
  identityFacts: { detection: number; fpr: number };
  rules: Record<WhitewashRule, RuleResult>;
  ms: number;
};

const median = (xs: number[]) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);

/**
 * Where `whitewashStudy` saves each analysis it finishes and finds those of an earlier run of the
 * same seed, code and flags (a SimCheckpoint, offchain/sim/checkpoint.ts, with unit names per seed).
 */
export type StudyStore = { load<T>(unit: string): T | undefined; save(unit: string, value: unknown): void };

/** One analysis as saved: both rules' trust (as [keys, values]), W's flags at the end, and the seed's compute so far. */
export type SavedRound = {
  behaviour: [string[], number[]];
  identity: [string[], number[]];
  /** the entities flagged, at the end of W only (the detection figures) */
  flagged?: string[];
  /** the seed's compute time (ms) up to this save, summed over the runs that made it */
  ms: number;
  /** the runs (task invocations) whose compute this is */
  runs: string[];
};

/** The seed's three networks: W (whitewash), S (the same seed without whitewashing), C (without attackers). */
export type StudyNet = "W" | "S" | "C";

/** What determines one seed's networks (the study's flags). */
export type StudyBase = { nodes: number; seed: number; rounds: number; newcomers: number };

/** One of the seed's networks, generated from the flags alone (the same in every process). */
export function studyNetwork(base: StudyBase, net: StudyNet): Network {
  if (net === "C") return generateNetwork({ ...base, family: "honest-noisy" });
  return generateNetwork({ ...base, family: "whitewash", latent: true, ...(net === "S" ? { freshIdentities: false } : {}) });
}

/** A seed's analyses in the order the study reads them: W-00..W-<rounds>, S-00..S-<rounds>, C-<rounds> (51 at 24 rounds). */
export function studyUnits(rounds: number): { net: StudyNet; r: number; name: string }[] {
  const u = (net: StudyNet, r: number) => ({ net, r, name: `${net}-${String(r).padStart(2, "0")}` });
  return [
    ...Array.from({ length: rounds + 1 }, (_, r) => u("W", r)),
    ...Array.from({ length: rounds + 1 }, (_, r) => u("S", r)),
    u("C", rounds),
  ];
}

/**
 * One analysis of the study: metatrust's detectors on the ratings before round r, and every identity's
 * effective trust under both rules (W's flags too at the end of the run). The same in any process
 * (offchain/sim/study-pool.ts runs it in workers).
 */
export function analyzeRound(net: Network, r: number): SavedRound {
  if (!net.verified) throw new Error("whitewashStudy: the network names no verified identities");
  const until = r * net.roundSeconds;
  let k = 0;
  while (k < net.ratings.length && net.ratings[k].time < until) k++;
  const a: Analysis = analyze(net.ratings.slice(0, k), net.nodes, net.seeds, { epochSeconds: net.roundSeconds });
  return {
    behaviour: mapToPair(a.trust),
    identity: mapToPair(withIdentityLayer(a.support, { verified: net.verified })),
    flagged: r === net.rounds ? a.detections.map((d) => d.entity) : undefined,
    ms: 0,
    runs: [],
  };
}

/**
 * The trust of every identity at the start of every round 0..rounds (round `rounds` is the end of
 * the run; `endOnly`: that one only), under both rules, and the entities flagged at the end.
 * `unit(r)` returns round r's analysis: loaded, computed by a worker, or computed here (`analyzeRound`).
 */
function trustByRound(
  net: Network,
  endOnly: boolean,
  unit: (r: number, compute: () => SavedRound) => SavedRound,
  onRound?: () => void,
): { trust: Record<WhitewashRule, Map<string, number>[]>; flagged: string[] } {
  if (!net.verified) throw new Error("whitewashStudy: the network names no verified identities");
  const trust: Record<WhitewashRule, Map<string, number>[]> = { "behaviour only": [], "identity layer": [] };
  let flagged: string[] = [];
  for (let r = endOnly ? net.rounds : 0; r <= net.rounds; r++) {
    const x = unit(r, () => analyzeRound(net, r));
    trust["behaviour only"].push(pairToMap(x.behaviour));
    trust["identity layer"].push(pairToMap(x.identity));
    if (r === net.rounds) flagged = x.flagged!;
    onRound?.();
  }
  return { trust, flagged };
}

/**
 * Runs the study on one seed.
 * @param o.nodes, o.seed, o.rounds - the networks (report on SPLIT.reportSeeds)
 * @param o.newcomers - share of honest non-seed slots that are newcomers (default 0.2)
 * @param o.progress - called with the fraction of the seed's analyses done (51 at 24 rounds: a seed at 50,000 nodes takes hours)
 * @param o.store - where each analysis is saved as it finishes (units `W-07`, `S-24`, `C-24`), and loaded from
 *   instead of computed when an earlier run of the same seed, code and flags saved it: the networks are generated
 *   again (their draws depend on the flags alone) and the result is the same to the bit (tests/sim/whitewash-resume.test.ts)
 * @param o.run - this run's id (recorded in what it saves)
 * @param o.resumed - called, before the first analysis is computed, when some were loaded: how many, and the
 *   compute time and runs that made them
 * @param o.now - the clock, in ms (default performance.now; a test's clock makes the sums exact)
 * @param o.precomputed - analyses computed in workers before the study (`sim:whitewash --jobs`), read before the store
 * @returns detection, and per rule what whitewashing gains and what the rule costs honest newcomers
 * @throws Error if the network has no whitewasher or no newcomer
 */
export function whitewashStudy(o: {
  nodes: number;
  seed: number;
  rounds?: number;
  newcomers?: number;
  progress?: (done: number) => void;
  store?: StudyStore;
  run?: string;
  resumed?: (r: { analyses: number; of: number; ms: number; runs: string[] }) => void;
  now?: () => number;
  /**
   * analyses this run computed in workers before the study (`sim:whitewash --jobs`; offchain/sim/study-pool.ts), by
   * unit name, each already saved to the store with its `ms` (the seed's elapsed time at its save, earlier runs'
   * included) and `runs`; the study reads them first, then the store, and computes the rest
   */
  precomputed?: ReadonlyMap<string, SavedRound>;
}): WhitewashSeed {
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const base = { nodes: o.nodes, seed: o.seed, rounds: o.rounds ?? 24, newcomers: o.newcomers ?? 0.2 };
  const W = studyNetwork(base, "W");
  const S = studyNetwork(base, "S");
  const C = studyNetwork(base, "C");
  if (!W.lives?.size) throw new Error("whitewashStudy: no whitewasher");
  if (!W.newcomers?.size) throw new Error(`whitewashStudy: no newcomer at ${o.nodes} nodes (newcomers ${base.newcomers})`);
  const rounds = W.rounds;
  // the analyses: every round of W and of S, and the end of C
  const analyses = 2 * (rounds + 1) + 1;
  let done = 0;
  const onRound = () => o.progress?.(++done / analyses);
  // the compute time and runs of what an earlier run saved (the seed's ms sums them with this run's)
  let before = 0;
  let runs: string[] = [];
  let loaded = 0;
  let told = false;
  const unit = (net: string) => (r: number, compute: () => SavedRound) => {
    const name = `${net}-${String(r).padStart(2, "0")}`;
    // computed in this run by a worker (offchain/sim/study-pool.ts; already saved, with its ms and runs)
    const ours = o.precomputed?.get(name);
    if (ours) {
      before = Math.max(before, ours.ms);
      runs = [...new Set([...runs, ...ours.runs])];
      return ours;
    }
    const saved = o.store?.load<SavedRound>(name);
    if (saved) {
      loaded++;
      before = Math.max(before, saved.ms);
      runs = [...new Set([...runs, ...saved.runs])];
      return saved;
    }
    if (loaded && !told) o.resumed?.({ analyses: loaded, of: analyses, ms: before, runs });
    told = true;
    const x = compute();
    x.ms = before + (now() - t0);
    x.runs = [...new Set([...runs, o.run ?? "this run"])];
    o.store?.save(name, x);
    return x;
  };
  const tw = trustByRound(W, false, unit("W"), onRound);
  const ts = trustByRound(S, false, unit("S"), onRound);
  const tc = trustByRound(C, true, unit("C"), onRound);
  if (loaded && !told) o.resumed?.({ analyses: loaded, of: analyses, ms: before, runs });
  // bad services per identity and round (an interaction served at the attack's bad quality)
  const badOf = (net: Network) => {
    const m = new Map<string, Int32Array>();
    net.ratings.forEach((x, k) => {
      if (net.latent![k].qm !== SUITE_MODEL.badQ || !net.truth.attackers.has(x.to)) return;
      let a = m.get(x.to);
      if (!a) m.set(x.to, (a = new Int32Array(rounds)));
      a[Math.floor(x.time / net.roundSeconds)]++;
    });
    return m;
  };
  const badW = badOf(W);
  const badS = badOf(S);
  const idAt = (lives: { name: string; from: number }[], r: number) => {
    let cur = lives[0].name;
    for (const x of lives) if (x.from <= r) cur = x.name;
    return cur;
  };
  const trustworthy = W.truth.trustworthy;
  const newcomers = [...W.newcomers].filter(([n]) => trustworthy.has(n));
  const established = [...trustworthy].filter((n) => !W.newcomers!.has(n));
  const medianQuality = median(established.map((n) => W.truth.quality.get(n)!));
  const fresh = new Set([...W.lives.values()].flatMap((ls) => ls.slice(1).map((x) => x.name)));

  const rules = {} as Record<WhitewashRule, RuleResult>;
  for (const rule of WHITEWASH_RULES) {
    const TW = tw.trust[rule];
    const TS = ts.trust[rule];
    const perSlot = [...W.lives].map(([slot, lives]) => {
      const livesS = S.lives!.get(slot)!;
      let trustWith = 0;
      let trustWithout = 0;
      let inWith = 0;
      let inWithout = 0;
      let bad = 0;
      for (let r = 0; r < rounds; r++) {
        const a = idAt(lives, r);
        const b = idAt(livesS, r);
        const x = TW[r].get(a) ?? 0;
        const y = TS[r].get(b) ?? 0;
        trustWith += x;
        trustWithout += y;
        const bw = badW.get(a)?.[r] ?? 0;
        bad += bw;
        if (x >= TRUST_MIN) inWith += bw;
        if (y >= TRUST_MIN) inWithout += badS.get(b)?.[r] ?? 0;
      }
      return { trustWith: trustWith / rounds, trustWithout: trustWithout / rounds, inWith, inWithout, bad };
    });
    const changes: { start: number; shed: number }[] = [];
    for (const lives of W.lives.values())
      for (let g = 1; g < lives.length; g++) {
        const r = lives[g].from;
        if (r >= rounds) continue;
        changes.push({ start: TW[r].get(lives[g].name) ?? 0, shed: TW[r].get(lives[g - 1].name) ?? 0 });
      }
    let freshRounds = 0;
    let freshIn = 0;
    for (const lives of W.lives.values())
      for (let r = 0; r < rounds; r++) {
        const id = idAt(lives, r);
        if (!fresh.has(id)) continue;
        freshRounds++;
        if ((TW[r].get(id) ?? 0) >= TRUST_MIN) freshIn++;
      }
    const reach = (level: (r: number) => number, verified: boolean, minQuality = 0): Reach => {
      const group = newcomers.filter(([n, x]) => x.verified === verified && W.truth.quality.get(n)! >= minQuality);
      const took: number[] = [];
      for (const [n, x] of group)
        for (let r = x.join + 1; r <= x.leave; r++)
          if ((TW[r].get(n) ?? 0) >= level(r)) {
            took.push(r - x.join);
            break;
          }
      return { n: group.length, reached: group.length ? took.length / group.length : NaN, medianRounds: median(took) };
    };
    const honestMedian = TW.map((m) => median(established.map((n) => m.get(n) ?? 0)));
    const end = TW[rounds];
    const clean = tc.trust[rule][0];
    rules[rule] = {
      trustWith: mean(perSlot.map((p) => p.trustWith)),
      trustWithout: mean(perSlot.map((p) => p.trustWithout)),
      badInStandingWith: mean(perSlot.map((p) => p.inWith)),
      badInStandingWithout: mean(perSlot.map((p) => p.inWithout)),
      badServices: mean(perSlot.map((p) => p.bad)),
      paysInStanding: perSlot.filter((p) => p.inWith > p.inWithout).length / perSlot.length,
      paysInTrust: perSlot.filter((p) => p.trustWith > p.trustWithout).length / perSlot.length,
      freshAtOrAboveShed: changes.filter((c) => c.start >= c.shed).length / Math.max(1, changes.length),
      freshStart: mean(changes.map((c) => c.start)),
      shedEnd: mean(changes.map((c) => c.shed)),
      freshInStanding: freshRounds ? freshIn / freshRounds : NaN,
      newcomersToMedian: {
        verified: reach((r) => honestMedian[r], true, medianQuality),
        unverified: reach((r) => honestMedian[r], false, medianQuality),
      },
      newcomersToTrustMin: { verified: reach(() => TRUST_MIN, true), unverified: reach(() => TRUST_MIN, false) },
      damage: mean([...trustworthy].map((n) => Math.abs((end.get(n) ?? 0) - (clean.get(n) ?? 0)))),
    };
  }
  const flagged = new Set(tw.flagged);
  const share = (xs: Iterable<string>, hit: (x: string) => boolean) => {
    const a = [...xs];
    return a.length ? a.filter(hit).length / a.length : NaN;
  };
  const unverified = (x: string) => !W.verified!.has(x);
  return {
    nodes: o.nodes,
    seed: o.seed,
    rounds,
    whitewashers: W.lives.size,
    freshIdentities: fresh.size,
    newcomers: { verified: newcomers.filter(([, x]) => x.verified).length, unverified: newcomers.filter(([, x]) => !x.verified).length },
    detection: share(W.truth.attackers, (x) => flagged.has(x)),
    fpr: share(trustworthy, (x) => flagged.has(x)),
    fprNewcomers: share(
      newcomers.map(([n]) => n),
      (x) => flagged.has(x),
    ),
    identityFacts: { detection: share(W.truth.attackers, unverified), fpr: share(trustworthy, unverified) },
    rules,
    // compute time: this run's and, when resumed, the earlier runs' that made the analyses it loaded
    ms: before + (now() - t0),
  };
}
