/**
 * Held-out red-team families (issue 15): adversaries written by an outside red team after reading
 * the detectors' source (`offchain/trust/robust.ts`, whose rules and thresholds are noted in
 * ./known.ts), and honest-but-noisy populations the suite in ../generate.ts does not have. The
 * detectors were never run on these while they were designed; nothing here imports them.
 *
 * The honest population is the suite's (../generate.ts) draw for draw: same quality, strictness,
 * popularity and activity per slot, same per-slot PRNG streams consuming the same draws per
 * interaction, so `rt-clean` with a seed equals the suite's `honest-noisy` with that seed, and the
 * honest-to-honest ratings of an attack family equal those of `rt-clean`: the difference is the
 * attack's damage. Attackers take the last 10% of slots; they serve at quality 0.9 and rate what
 * they receive honestly (no strictness) unless their family says otherwise.
 *
 * Attack families (each plans from ./known.ts; what it achieves is measured, not assumed):
 * - rt-ballot-stuff: consensus capture. 10% of the attackers are poor providers (q 0.25) to boost,
 *   and as many low-popularity good honest providers are victims to bury; every attacker rates
 *   every boosted one high and every victim low, once per round (one observation per epoch is all
 *   the detector counts, so that is all they send). A target joins the plan only if the colluders
 *   outnumber its expected honest raters per round at least 3 to 1, so the "others" the unfair-rater
 *   test compares with are mostly colluders.
 * - rt-grey-mouth: ratings just on the good side of the bad threshold (0.5 + 0.06 margin for the
 *   strictness correction): every attacker rates 4 of A/2 victims a round at that value. No
 *   outcome is ever bad, so neither the unfair-rater test nor the CUSUM sees anything; the beta
 *   trust, which averages values, still falls.
 * - rt-frame: framing honest victims as on-off. Each attacker's lie budget keeps its expected
 *   unfair-rater z at or below z/2 (full weight); a victim's burst is the smallest number k of bad
 *   ratings in a row that crosses its CUSUM alarm h = ln(n/alpha) (computed from the victim's
 *   expected observations), sent by k distinct attackers in the same second; victims are as many
 *   as the attackers' budgets pay for.
 * - rt-budget-liar: bad-mouthing under the z budget, spread in time: each attacker spends its lie
 *   budget (z <= z/2) on A/5 shared victims, one lie at a time spread evenly over the run, so no
 *   victim sees a burst and no liar crosses the unfair-rater test.
 * - rt-onoff-cusum: on-off whose bad bursts are as long as the CUSUM allows (k bad observations,
 *   computed from the attacker's own expected observations per round and long-run bad share) and
 *   whose good phases are long enough for the CUSUM to drain back to 0 before the next burst.
 * - rt-sybil-seed-court: a Sybil cluster that serves the identity-verified seeds well (q 0.9: the
 *   seed set is public, and a seed's positive rating is the attack edge SybilRank trusts most) and
 *   everyone else badly (q 0.15), and praises itself: each round, each Sybil j gets praise from
 *   ceil(3 x its expected honest ratings a round) other Sybils, so that praise outnumbers its honest
 *   raters 3 to 1 (a Sybil too popular for that gets none). Its attack edges accumulate as seeds
 *   use it.
 *
 * Honest-but-noisy populations (no attackers; every flag is a false positive):
 * - rt-strict-cluster: 20% of honest raters rate thumbs-up / thumbs-down (0.9 if satisfied at 0.75
 *   or more, else 0.1) and pick a partner inside their cluster 60% of the time: a nonlinear
 *   strictness that a median offset does not correct.
 * - rt-outage: 10% of trustworthy providers have one outage of 2 rounds (service quality 0.1) at a
 *   random round, then recover fully.
 * - rt-seasonal: every provider's quality dips by up to 0.2 every 8 rounds (peak load), in phase.
 * - rt-newcomers: 25% of honest entities join at 75% of the run (few ratings, given and received).
 */
import { Prng } from "../../../util/prng";
import type { Network, Rating, Truth } from "../generate";
import { KNOWN, cusumRunUnderAlarm, lieBudget } from "./known";

export const RED_ATTACKS = [
  "rt-ballot-stuff",
  "rt-grey-mouth",
  "rt-frame",
  "rt-budget-liar",
  "rt-onoff-cusum",
  "rt-sybil-seed-court",
] as const;
export const RED_HONEST = ["rt-strict-cluster", "rt-outage", "rt-seasonal", "rt-newcomers"] as const;
export type RedAttack = (typeof RED_ATTACKS)[number];
export type RedHonest = (typeof RED_HONEST)[number];
export type RedFamily = RedAttack | RedHonest | "rt-clean";

/** A red-team network: the suite's Network shape, with its own family name and the plan it followed. */
export type RedNetwork = Omit<Network, "family"> & { family: RedFamily; plan: Record<string, number> };

export type RedOptions = { family: RedFamily; nodes: number; seed: number; rounds?: number; roundSeconds?: number };

const clip = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const z3 = (a: number, b: number, c: number) => (a + b + c - 1.5) * 2;
const mix = (seed: number, i: number) => (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) >>> 0;

/** The others' bad share on good targets that the attackers plan with (from the public ratings: about 8%). */
export const PLAN_P = 0.08;
/** Grey-mouthing value margin above the bad threshold (covers the strictness correction's error). */
export const GREY_MARGIN = 0.06;

/**
 * Generates one red-team network.
 * @param o - family, size, seed, rounds (default 24) and round length (default 60 s)
 * @returns nodes, seeds, ratings in time order, ground truth and the plan's computed parameters
 * @throws Error if the size leaves too few honest slots
 */
export function generateRedteam(o: RedOptions): RedNetwork {
  const N = o.nodes;
  const rounds = o.rounds ?? 24;
  const roundSeconds = o.roundSeconds ?? 60;
  const attack = (RED_ATTACKS as readonly string[]).includes(o.family);
  const plannedA = Math.round(N * 0.1);
  const A = attack ? plannedA : 0;
  if (N - plannedA < 10) throw new Error(`generateRedteam: ${N} nodes leave too few honest slots`);
  // --- the suite's honest population, draw for draw (../generate.ts)
  const pop = new Prng(mix(o.seed, 0x7fffffff));
  const quality = new Float64Array(N);
  const strict = new Float64Array(N);
  const activity = new Int32Array(N);
  const popularity = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const u = pop.next();
    quality[i] = u < 0.8 ? 0.75 + 0.23 * pop.next() : u < 0.92 ? 0.5 + 0.25 * pop.next() : 0.1 + 0.35 * pop.next();
    strict[i] = -0.2 + 0.35 * pop.next();
    activity[i] = 2 + pop.int(3);
    popularity[i] = Math.exp(0.8 * pop.normal());
  }
  const cum = new Float64Array(N);
  for (let i = 0, s = 0; i < N; i++) cum[i] = s += popularity[i];
  const totalPop = cum[N - 1];
  const pickSlot = (u: number) => {
    const x = u * totalPop;
    let lo = 0;
    let hi = N - 1;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (cum[m] < x) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  const H = N - A;
  const isAttacker = (i: number) => i >= H;
  const name = (i: number) => (isAttacker(i) ? `${o.family}-${i - H}` : `h-${i}`);
  const seedRng = new Prng(mix(o.seed, 0x7ffffffe));
  const honestSlots = Array.from({ length: H }, (_, i) => i);
  const seedSlots = new Set<number>();
  for (let i = 0; i < N; i++) if (seedRng.next() < 0.2 && i < N - plannedA) seedSlots.add(i);
  // expected ratings a slot receives per round (everyone picks by popularity)
  let totalActivity = 0;
  for (let i = 0; i < N; i++) totalActivity += activity[i];
  const perRound = (j: number) => (totalActivity * popularity[j]) / totalPop;
  // --- the plan, from its own stream (not the suite's: these families are new)
  const plan = new Prng(mix(o.seed, 0x52454454)); // "REDT"
  const planOut: Record<string, number> = {};
  const goodNonSeed = honestSlots.filter((i) => quality[i] >= 0.8 && !seedSlots.has(i));
  const attackerSlots = Array.from({ length: A }, (_, k) => H + k);
  const victims = new Set<number>();
  const boosted = new Set<number>();
  const attackerQuality = new Map<number, number>();
  const attackStart = new Map<string, number>();
  /** service quality of j to rater i in a round (undefined: j's own quality) */
  let serve: (j: number, i: number, round: number) => number | undefined = () => undefined;
  /** the value rater i gives (undefined: the default) */
  let rate: (i: number, j: number, round: number, sat: number) => number | undefined = () => undefined;
  /** a partner choice override for rater i from the uniform u (undefined: by popularity) */
  let pick: (i: number, u: number) => number | undefined = () => undefined;
  let active: (i: number, round: number) => boolean = () => true;
  type Emit = (to: number, value: number, time?: number) => void;
  let extra: (i: number, round: number, rng: Prng, emit: Emit) => void = () => {};
  const base = (r: number) => r * roundSeconds;
  const budget = (i: number) => lieBudget(activity[i] * rounds, PLAN_P, KNOWN.z / 2);

  switch (o.family) {
    case "rt-clean":
      break;
    case "rt-ballot-stuff": {
      const nb = Math.max(1, Math.round(A * 0.1));
      // boosted: the least popular attackers (fewest honest raters to outvote)
      const byPop = [...attackerSlots].sort((a, b) => popularity[a] - popularity[b]);
      const colluders = A; // every attacker stuffs, the boosted ones included (not for themselves)
      for (const j of byPop.slice(0, nb)) if (colluders - 1 >= 3 * perRound(j)) boosted.add(j);
      const quiet = [...goodNonSeed].sort((a, b) => popularity[a] - popularity[b]);
      for (const j of quiet) {
        if (victims.size >= nb) break;
        if (colluders >= 3 * perRound(j)) victims.add(j);
      }
      for (const j of boosted) attackerQuality.set(j, 0.25);
      for (const i of attackerSlots) attackStart.set(name(i), 0);
      planOut.boosted = boosted.size;
      planOut.victims = victims.size;
      planOut.maxHonestPerRound = Math.max(...[...boosted, ...victims].map(perRound));
      extra = (i, round, rng, emit) => {
        for (const j of boosted) if (j !== i) emit(j, 0.9 + 0.1 * rng.next());
        for (const j of victims) emit(j, 0.1 * rng.next());
      };
      break;
    }
    case "rt-grey-mouth": {
      const v = plan.shuffle([...goodNonSeed]).slice(0, Math.max(1, Math.round(A / 2)));
      for (const x of v) victims.add(x);
      for (const i of attackerSlots) attackStart.set(name(i), 0);
      const value = KNOWN.badBelow + GREY_MARGIN;
      planOut.victims = v.length;
      planOut.value = value;
      extra = (_i, _round, rng, emit) => {
        for (let k = 0; k < 4; k++) emit(v[rng.int(v.length)], value);
      };
      break;
    }
    case "rt-frame": {
      // the burst each victim needs: the smallest run of bad ratings that crosses its CUSUM alarm
      // (none if the burst would be most of its history: then it is its long-run rate, not a change)
      const burstFor = (vj: number) => {
        const n = perRound(vj) * rounds;
        let k = 1;
        while (k <= A && k <= cusumRunUnderAlarm(n + k, PLAN_P * n + k)) k++;
        return k + 2; // margin for the victim's own bad outcomes around the burst
      };
      // cheapest victims first
      const pool = plan
        .shuffle([...goodNonSeed])
        .map((vj) => ({ vj, k: burstFor(vj) }))
        .filter((x) => x.k <= A)
        .sort((x, y) => x.k - y.k);
      const left = new Map(attackerSlots.map((i) => [i, budget(i)]));
      let totalBudget = 0;
      for (const b of left.values()) totalBudget += b;
      const bursts: { victim: number; round: number; k: number }[] = [];
      const first = Math.floor(rounds / 4);
      for (const { vj, k } of pool) {
        if (k > totalBudget || bursts.length >= A / 2) break;
        totalBudget -= k;
        bursts.push({ victim: vj, round: first + (bursts.length % (rounds - first - 1)), k });
        victims.add(vj);
      }
      // each burst's seats go to k distinct attackers, those with the most budget left first
      const seats = new Map<number, { victim: number; time: number }[]>();
      for (const b of bursts) {
        const t = base(b.round) + Math.floor(roundSeconds / 2);
        const crew = attackerSlots.filter((x) => left.get(x)! > 0).sort((x, y) => left.get(y)! - left.get(x)! || x - y);
        if (crew.length < b.k) {
          victims.delete(b.victim);
          continue;
        }
        for (const x of crew.slice(0, b.k)) {
          left.set(x, left.get(x)! - 1);
          (seats.get(x) ?? seats.set(x, []).get(x)!).push({ victim: b.victim, time: t });
        }
      }
      for (const i of attackerSlots) attackStart.set(name(i), base(first));
      planOut.victims = victims.size;
      planOut.burst = bursts.length ? bursts[0].k : 0;
      planOut.budgetPerAttacker = budget(attackerSlots[0] ?? 0);
      extra = (i, round, rng, emit) => {
        for (const s of seats.get(i) ?? []) if (Math.floor(s.time / roundSeconds) === round) emit(s.victim, 0.05 * rng.next(), s.time);
      };
      break;
    }
    case "rt-budget-liar": {
      const v = plan.shuffle([...goodNonSeed]).slice(0, Math.max(1, Math.round(A / 5)));
      for (const x of v) victims.add(x);
      // each attacker's lies at evenly spread rounds, on victims in turn
      const lies = new Map<number, Map<number, number>>(); // attacker -> round -> victim
      let turn = 0;
      for (const i of attackerSlots) {
        const L = budget(i);
        const m = new Map<number, number>();
        for (let k = 0; k < L; k++) m.set(Math.floor(((k + 0.5) * rounds) / L), v[turn++ % v.length]);
        lies.set(i, m);
        attackStart.set(name(i), 0);
      }
      planOut.victims = v.length;
      planOut.budgetPerAttacker = budget(attackerSlots[0] ?? 0);
      extra = (i, round, rng, emit) => {
        const j = lies.get(i)!.get(round);
        if (j !== undefined) emit(j, 0.1 * rng.next());
      };
      break;
    }
    case "rt-onoff-cusum": {
      const badRound = new Map<number, Uint8Array>();
      for (const j of attackerSlots) {
        const e = Math.max(0.5, perRound(j)); // its observations per round
        const n = e * rounds;
        // plan a long-run bad share of 0.25: bursts of k observations, drained before the next
        const nb = 0.25 * n;
        const k = cusumRunUnderAlarm(n, nb);
        const p0 = (nb + 0.5) / (n + 1);
        const p1 = Math.min(0.99, p0 + KNOWN.delta);
        const drain = (k * Math.log(p1 / p0)) / -Math.log((1 - p1) / (1 - p0)); // good observations to drain
        const on = Math.max(1, Math.floor(k / e));
        const off = Math.max(1, Math.ceil(drain / e) + 1);
        const b = new Uint8Array(rounds);
        const phase = plan.int(on + off);
        for (let r = 0; r < rounds; r++) b[r] = (r + phase) % (on + off) >= off ? 1 : 0;
        badRound.set(j, b);
        const firstBad = b.indexOf(1);
        attackStart.set(name(j), base(firstBad < 0 ? rounds : firstBad));
        if (j === attackerSlots[0]) ((planOut.burstObservations = k), (planOut.onRounds = on), (planOut.offRounds = off));
      }
      serve = (j, _i, r) => (isAttacker(j) ? (badRound.get(j)![r] ? 0.1 : 0.9) : undefined);
      break;
    }
    case "rt-sybil-seed-court": {
      for (const j of attackerSlots) (boosted.add(j), attackerQuality.set(j, 0.15), attackStart.set(name(j), 0));
      serve = (j, i) => (isAttacker(j) ? (seedSlots.has(i) ? 0.9 : 0.15) : undefined);
      // praise: a Sybil j is praised by r_j = ceil(3 x its expected honest ratings a round) other
      // Sybils each round, so that praise outnumbers its honest raters 3 to 1; a Sybil too popular to
      // outvote (r_j > A - 1) is not praised at all (praise it could not carry would show the praisers
      // as good-mouthers).
      const need = new Map<number, number>();
      for (const j of attackerSlots) {
        const r = Math.ceil(3 * perRound(j));
        if (r <= A - 1) need.set(j, r);
      }
      const praise = new Prng(mix(o.seed, 0x50524149)); // "PRAI"
      let scheduled = -1;
      const today = new Map<number, number[]>(); // praiser -> Sybils it praises this round
      extra = (i, round, rng, emit) => {
        if (scheduled !== round) {
          scheduled = round;
          today.clear();
          for (const [j, r] of need) {
            const others = attackerSlots.filter((x) => x !== j);
            for (const x of praise.shuffle(others).slice(0, r)) (today.get(x) ?? today.set(x, []).get(x)!).push(j);
          }
        }
        for (const j of today.get(i) ?? []) emit(j, 0.9 + 0.1 * rng.next());
      };
      planOut.praised = need.size;
      planOut.seeds = seedSlots.size;
      break;
    }
    case "rt-strict-cluster": {
      const cluster = plan.shuffle([...honestSlots]).slice(0, Math.round(0.2 * N));
      const inCluster = new Set(cluster);
      rate = (i, _j, _r, sat) => (inCluster.has(i) ? (sat >= 0.75 ? 0.9 : 0.1) : undefined);
      pick = (i, u) => (inCluster.has(i) && u < 0.6 ? cluster[Math.floor((u / 0.6) * cluster.length)] : undefined);
      planOut.cluster = cluster.length;
      break;
    }
    case "rt-outage": {
      const hit = plan.shuffle(honestSlots.filter((i) => quality[i] >= 0.5)).slice(0, Math.round(0.1 * N));
      const at = new Map(hit.map((i) => [i, 4 + plan.int(Math.max(1, rounds - 8))]));
      serve = (j, _i, r) => {
        const s = at.get(j);
        return s !== undefined && r >= s && r < s + 2 ? 0.1 : undefined;
      };
      planOut.outages = hit.length;
      break;
    }
    case "rt-seasonal":
      serve = (j, _i, r) => quality[j] - 0.2 * ((1 - Math.cos((2 * Math.PI * r) / 8)) / 2);
      break;
    case "rt-newcomers": {
      const late = new Set(plan.shuffle([...honestSlots]).slice(0, Math.round(0.25 * N)));
      const join = Math.floor(0.75 * rounds);
      active = (i, r) => !late.has(i) || r >= join;
      planOut.newcomers = late.size;
      planOut.joinRound = join;
      break;
    }
  }
  const q = (j: number) => (isAttacker(j) ? (attackerQuality.get(j) ?? 0.9) : quality[j]);
  const streams = Array.from({ length: N }, (_, i) => new Prng(mix(o.seed, i)));
  const attackStreams = Array.from({ length: A }, (_, k) => new Prng(mix(o.seed ^ 0x2545f491, k)));
  const ratings: Rating[] = [];
  for (let round = 0; round < rounds; round++) {
    const t0 = base(round);
    for (let i = 0; i < N; i++) {
      const rng = streams[i];
      const from = name(i);
      for (let d = 0; d < activity[i]; d++) {
        const u0 = rng.next();
        const j = pick(i, u0) ?? pickSlot(u0);
        const u1 = rng.next();
        const u2 = rng.next();
        const u3 = rng.next();
        rng.next(); // u4 in the suite: kept so that the streams stay aligned with it
        const tOff = rng.next();
        if (j === i || !active(i, round) || !active(j, round)) continue;
        const qj = serve(j, i, round) ?? q(j);
        const sat = clip(qj + 0.2 * z3(u1, u2, u3));
        const value = rate(i, j, round, sat) ?? clip(sat + (isAttacker(i) ? 0 : strict[i]));
        ratings.push({ from, to: name(j), value, time: t0 + Math.floor(tOff * roundSeconds), evidence: true });
      }
      if (isAttacker(i)) {
        const arng = attackStreams[i - H];
        extra(i, round, arng, (to, value, time) =>
          // the suite's evidence rule (adversaries/generate.ts): outside the interactions, a rating carries
          // a record set only when its target signs the receipts, i.e. a fellow attacker
          ratings.push({ from, to: name(to), value, time: time ?? t0 + Math.floor(arng.next() * roundSeconds), evidence: isAttacker(to) }),
        );
      }
    }
  }
  ratings.sort((a, b) => a.time - b.time);
  const nodes = Array.from({ length: N }, (_, i) => name(i));
  const truth: Truth = {
    attackers: new Set(attackerSlots.map(name)),
    victims: new Set([...victims].map(name)),
    boosted: new Set([...boosted].map(name)),
    trustworthy: new Set(honestSlots.filter((i) => quality[i] >= 0.5).map(name)),
    honestBad: new Set(honestSlots.filter((i) => quality[i] < 0.5).map(name)),
    attackStart,
    quality: new Map(nodes.map((x, i) => [x, q(i)])),
  };
  return { family: o.family, nodes, seeds: new Set([...seedSlots].map(name)), ratings, truth, roundSeconds, rounds, plan: planOut };
}
