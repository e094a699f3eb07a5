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
 *
 * Round 2 (session 7): a second red team, against session 6's detectors (the lockstep groups and the
 * second-change level `recurrenceAlpha`, both noted in ./known.ts), developed on seeds 11-12 only.
 * Each plan has its own PRNG stream, so round 1's families are unchanged draw for draw.
 * - rt-rotate-stuff: ballot stuffing and burying that no lockstep group can see: every (colluder,
 *   target) pair is rated in at most 2 epochs (a pair seen in fewer than 3 is never tested for
 *   regularity), the colluders rotating per target. The boosted (the 10% least popular attackers,
 *   q 0.25) serve the public seeds well (0.9), so the seed-anchored reference agrees with the praise;
 *   the buried victims are good honest providers the seeds rarely see, taken while every colluder's
 *   expected bad-mouthing z (against the reference it expects, its own lies in the crowd) stays <= z/2.
 * - rt-frame-recur: framing that recurs. Two bursts per victim, at 1/4 and 3/4 of the run, each the
 *   smallest run of bad ratings from distinct framers that crosses the CUSUM (+ FRAME_MARGIN): the
 *   first at alpha on the whole history, the second at recurrenceAlpha outside the first episode.
 *   Framers' budgets keep their expected z <= 2.8 (credible: weight >= 0.5 needs z <= 3).
 * - rt-onoff-masked: on-off providers (bad 2 rounds in 8) whose every received rating is followed,
 *   in the same second, by rotating colluders' ratings that make a block with the long-run bad share
 *   s: (1 - s)/s good ones after a bad outcome, s/(1 - s) bad ones after a good one. The sequence
 *   the change tests see is stationary at s, the padders' own bad share is s (no excess), and no pair
 *   repeats in 3 epochs. Attackers whose traffic the padding capacity cannot cover stay good (and pad).
 * - rt-loyal-poison: the honest population of rt-loyal (below; damage against rt-loyal). The attackers
 *   read the chain's first 3 rounds, find targets that >= 3 raters rated in every round (a lockstep
 *   group in the making), and from round 3 join each such group with enough members rating its
 *   targets low every round to pull the group's voice (the members' mean) below 0.5: the group then
 *   disagrees with the seeds and every member, honest or not, is flagged. Victims: its honest members.
 * Honest-but-noisy (every flag is a false positive):
 * - rt-loyal: 20% of honest raters in neighbourhoods of 8, each with 2 favourite providers
 *   (trustworthy) that every member rates every round (its first two interactions).
 * - rt-loyal-regional: rt-loyal, where each neighbourhood's second favourite serves it 0.4 worse than
 *   it serves everyone else (a congested local link): regulars whose honest experience the seeds do
 *   not share.
 * - rt-weekly-outage: 10% of trustworthy providers are down (service 0.1) one round in every 8, each
 *   at its own phase: scheduled maintenance, honest and recurring.
 */
import { Prng } from "../../../util/prng";
import type { Network, Rating, Truth } from "../generate";
import { KNOWN, anchoredReference, cusumRunUnderAlarm, lieBudget, pBad } from "./known";

export const RED_ATTACKS = [
  "rt-ballot-stuff",
  "rt-grey-mouth",
  "rt-frame",
  "rt-budget-liar",
  "rt-onoff-cusum",
  "rt-sybil-seed-court",
] as const;
export const RED_HONEST = ["rt-strict-cluster", "rt-outage", "rt-seasonal", "rt-newcomers"] as const;
/** Round 2's attack families (written against session 6's detectors; see the header's second part). */
export const RED2_ATTACKS = ["rt-rotate-stuff", "rt-frame-recur", "rt-onoff-masked", "rt-loyal-poison"] as const;
/** Round 2's honest-but-noisy populations. */
export const RED2_HONEST = ["rt-loyal", "rt-loyal-regional", "rt-weekly-outage"] as const;
export type RedAttack = (typeof RED_ATTACKS)[number] | (typeof RED2_ATTACKS)[number];
export type RedHonest = (typeof RED_HONEST)[number] | (typeof RED2_HONEST)[number];
export type RedFamily = RedAttack | RedHonest | "rt-clean";

/** Whether a family has attackers (its damage is measured against {@link cleanOf}). */
export const isRedAttack = (f: RedFamily) =>
  (RED_ATTACKS as readonly string[]).includes(f) || (RED2_ATTACKS as readonly string[]).includes(f);

/**
 * The attack-free run an attack family's damage is measured against: rt-clean (the suite's honest
 * population), except for an attack on a population that has loyal regulars, whose honest ratings
 * are those of rt-loyal with the same seed.
 * @param f - an attack family
 * @returns the family of its clean run
 */
export const cleanOf = (f: RedFamily): RedFamily => (f === "rt-loyal-poison" ? "rt-loyal" : "rt-clean");

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
/** rt-frame-recur: bad ratings added to each burst beyond the smallest run that crosses the CUSUM (chosen on dev seeds 11-12 from 0, 1, 2: the most victims flagged in all). */
export const FRAME_MARGIN = 1;

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
  const attack = isRedAttack(o.family);
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
  /** a partner choice override for rater i's d-th interaction of a round, from the uniform u (undefined: by popularity) */
  let pick: (i: number, u: number, d: number, round: number) => number | undefined = () => undefined;
  let active: (i: number, round: number) => boolean = () => true;
  type Emit = (to: number, value: number, time?: number) => void;
  let extra: (i: number, round: number, rng: Prng, emit: Emit) => void = () => {};
  /** an attacker that does not submit the rating of an interaction with j (round 2: pairs it rates in rotation) */
  let silent: (i: number, j: number) => boolean = () => false;
  /** after every slot has acted in a round: more attacker ratings, seeing the round's ratings [from, ratings.length) */
  let afterRound: (round: number, from: number) => void = () => {};
  // the public history (every rating so far): round 2's adaptive attackers read it
  const ratings: Rating[] = [];
  const base = (r: number) => r * roundSeconds;
  const budget = (i: number) => lieBudget(activity[i] * rounds, PLAN_P, KNOWN.z / 2);
  // round 2's helpers
  let seedActivity = 0;
  for (const s of seedSlots) seedActivity += activity[s];
  /** expected ratings a slot receives per round from the (public) seeds */
  const seedPerRound = (j: number) => (seedActivity * popularity[j]) / totalPop;
  /**
   * colluders for a target, in rotation: each at most `cap` times on a target (so in at most `cap`
   * epochs when called once a round), never twice in one call
   */
  const rotation = (rng: Prng, cap: number) => {
    const st = new Map<number, { order: number[]; ptr: number; uses: Map<number, number> }>();
    return (t: number, count: number): number[] => {
      let s = st.get(t);
      if (!s) st.set(t, (s = { order: rng.shuffle(attackerSlots.filter((x) => x !== t)), ptr: 0, uses: new Map() }));
      const out: number[] = [];
      for (let tries = 0; out.length < count && tries < s.order.length; tries++) {
        const c = s.order[s.ptr];
        s.ptr = (s.ptr + 1) % s.order.length;
        if ((s.uses.get(c) ?? 0) >= cap) continue;
        s.uses.set(c, (s.uses.get(c) ?? 0) + 1);
        out.push(c);
      }
      return out;
    };
  };

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
    // ---------------- round 2 (session 7): against session 6's detectors ----------------
    case "rt-rotate-stuff": {
      // every (colluder, target) pair is rated in at most lockstepMinEpochs - 1 = 2 epochs: a pair seen
      // in fewer than 3 epochs is never tested for regularity, so no lockstep group can form
      const cap = KNOWN.lockstepMinEpochs - 1;
      const gMax = Math.max(1, Math.floor((cap * (A - 1)) / rounds));
      const per = (t: number) => Math.min(gMax, Math.max(1, Math.ceil(10 * perRound(t)))); // colluders a round on t
      const nb = Math.max(1, Math.round(A * 0.1));
      for (const j of [...attackerSlots].sort((a, b) => popularity[a] - popularity[b]).slice(0, nb)) boosted.add(j);
      for (const j of boosted) attackerQuality.set(j, 0.25);
      // victims: good honest providers, the least seen by the (public) seeds first, while every
      // colluder's expected bad-mouthing z stays <= z/2 (full weight). A victim's planned lies are
      // spread evenly over the colluders; each lie's excess is 1 - p and its variance p (1 - p)
      // (1 + 1/(m + 1)), p the seed-anchored reference expected with the colluders' lies in the crowd
      // (m its pseudo-count); where p >= 0.5 the lies are no excess at all. The colluders' honest
      // observations add PLAN_P (1 - PLAN_P) each to the variance.
      const honestVar =
        (attackerSlots.reduce((x, i) => x + activity[i], 0) / Math.max(1, A)) * rounds * PLAN_P * (1 - PLAN_P) * (1 + 1 / 21);
      let sum = 0; // per colluder: expected excess and variance of its lies so far
      let vari = honestVar;
      const cand = goodNonSeed
        .map((j) => {
          const C = per(j) * rounds;
          const hn = Math.max(0, perRound(j) - seedPerRound(j)) * rounds;
          const sObs = seedPerRound(j) * rounds;
          return {
            j,
            C,
            p: anchoredReference(sObs, PLAN_P * sObs, C + hn, (C + PLAN_P * hn) / (C + hn)),
            m: sObs + Math.min(C + hn, KNOWN.anchor),
          };
        })
        .sort((x, y) => y.p - x.p || x.j - y.j);
      for (const c of cand) {
        const lies = c.C / Math.max(1, A - 1);
        const ds = c.p >= 0.5 ? 0 : lies * (1 - c.p);
        const dv = c.p >= 0.5 ? 0 : lies * c.p * (1 - c.p) * (1 + 1 / (c.m + 1));
        if ((sum + ds) / Math.sqrt(vari + dv) > KNOWN.z / 2) continue;
        sum += ds;
        vari += dv;
        victims.add(c.j);
      }
      planOut.expectedZ = sum / Math.sqrt(vari);
      const targets = [...boosted, ...victims];
      const isTarget = new Set(targets);
      // a colluder rates a target only in rotation (its interactions with it go unrated), so no pair exceeds cap epochs
      silent = (i, j) => isAttacker(i) && isTarget.has(j);
      const rot = rotation(new Prng(mix(o.seed, 0x52543231)), cap); // "RT21"
      const today = new Map<number, number[]>(); // key round * N + colluder -> targets
      for (let r = 0; r < rounds; r++)
        for (const t of targets) for (const c of rot(t, per(t))) (today.get(r * N + c) ?? today.set(r * N + c, []).get(r * N + c)!).push(t);
      for (const i of attackerSlots) attackStart.set(name(i), 0);
      // boosted colluders serve the (public) seeds well, so that the reference the seeds anchor agrees with the praise
      serve = (j, i) => (boosted.has(j) ? (seedSlots.has(i) ? 0.9 : 0.25) : undefined);
      planOut.boosted = boosted.size;
      planOut.victims = victims.size;
      planOut.colludersPerRound = gMax;
      planOut.maxPairEpochs = cap;
      extra = (i, round, rng, emit) => {
        for (const t of today.get(round * N + i) ?? []) emit(t, boosted.has(t) ? 0.9 + 0.1 * rng.next() : 0.1 * rng.next());
      };
      break;
    }
    case "rt-frame-recur": {
      // framing that recurs: two bursts per victim, far apart, each just long enough to cross the
      // CUSUM: the first at alpha on the victim's whole history, the second on the observations outside
      // the first episode at the recurrence level. The framers keep their expected z under 2.8, so they
      // stay credible (weight >= 0.5 needs z <= 3: the weight falls linearly from z/2 to z)
      const zMax = (3 * KNOWN.z) / 4 - 0.2;
      const budget2 = (i: number) => lieBudget(activity[i] * rounds, PLAN_P, zMax);
      const at = [Math.floor(rounds / 4), Math.floor((3 * rounds) / 4)];
      const burstsFor = (vj: number): [number, number] => {
        const n = perRound(vj) * rounds;
        let k2 = 1;
        while (k2 <= A && k2 <= cusumRunUnderAlarm(n + k2, PLAN_P * n + k2, KNOWN.recurrenceAlpha)) k2++;
        k2 += FRAME_MARGIN;
        let k1 = 1;
        while (k1 <= A && k1 <= cusumRunUnderAlarm(n + k1 + k2, PLAN_P * n + k1 + k2)) k1++;
        return [k1 + FRAME_MARGIN, k2];
      };
      const pool = plan
        .shuffle([...goodNonSeed])
        .map((vj) => ({ vj, k: burstsFor(vj) }))
        .filter((x) => x.k[0] <= A && x.k[1] <= A)
        .sort((x, y) => x.k[0] + x.k[1] - y.k[0] - y.k[1]);
      const left = new Map(attackerSlots.map((i) => [i, budget2(i)]));
      const seats = new Map<number, { victim: number; time: number }[]>();
      for (const { vj, k } of pool) {
        // both bursts or none; each burst from distinct framers, those with the most budget left first
        const crews: number[][] = [];
        const trial = new Map(left);
        for (const kb of k) {
          const crew = attackerSlots.filter((x) => trial.get(x)! > 0).sort((x, y) => trial.get(y)! - trial.get(x)! || x - y);
          if (crew.length < kb) break;
          crews.push(crew.slice(0, kb));
          for (const x of crew.slice(0, kb)) trial.set(x, trial.get(x)! - 1);
        }
        if (crews.length < 2) continue;
        for (const [x, v] of trial) left.set(x, v);
        victims.add(vj);
        crews.forEach((crew, b) => {
          const t = base(at[b]) + Math.floor(roundSeconds / 2);
          for (const x of crew) (seats.get(x) ?? seats.set(x, []).get(x)!).push({ victim: vj, time: t });
        });
      }
      for (const i of attackerSlots) attackStart.set(name(i), base(at[0]));
      planOut.victims = victims.size;
      planOut.budgetPerAttacker = budget2(attackerSlots[0] ?? 0);
      planOut.firstBurst = pool.length ? pool[0].k[0] : 0;
      planOut.secondBurst = pool.length ? pool[0].k[1] : 0;
      extra = (i, round, rng, emit) => {
        for (const s of seats.get(i) ?? []) if (Math.floor(s.time / roundSeconds) === round) emit(s.victim, 0.05 * rng.next(), s.time);
      };
      break;
    }
    case "rt-onoff-masked": {
      // on-off providers (bad 2 rounds in 8) whose every received outcome is padded by rotating
      // colluders into a block with the same bad share s: after a bad outcome (1 - s) / s good ratings,
      // after a good one s / (1 - s) bad ones, at the same second. The credible sequence is then
      // stationary at s (no CUSUM alarm at either level, no dispersion between windows), the padders'
      // own bad share is s (no excess against the reference), and no pair repeats in 3 epochs
      const cap = KNOWN.lockstepMinEpochs - 1;
      const f = 0.25;
      const cycle = 8;
      const s = f * pBad(0.1) + (1 - f) * pBad(0.9);
      const padBad = (1 - s) / s; // good pads after a bad outcome
      const padGood = s / (1 - s); // bad pads after a good one
      const need = (j: number) => perRound(j) * rounds * (f * pBad(0.1) * padBad + (1 - f * pBad(0.1)) * padGood);
      const onoff = new Set(attackerSlots.filter((j) => need(j) <= 0.9 * cap * (A - 1)));
      const phase = new Map([...onoff].map((j) => [j, plan.int(cycle)]));
      const badRound = (j: number, r: number) => phase.has(j) && (r + phase.get(j)!) % cycle < f * cycle;
      for (const j of attackerSlots) {
        let first = rounds;
        for (let r = 0; r < rounds && first === rounds; r++) if (badRound(j, r)) first = r;
        attackStart.set(name(j), onoff.has(j) ? base(first) : 0);
      }
      serve = (j, _i, r) => (isAttacker(j) ? (badRound(j, r) ? 0.1 : 0.9) : undefined);
      // the padders rate an on-off provider only as padding (so no pair exceeds cap epochs)
      silent = (i, j) => isAttacker(i) && onoff.has(j);
      const rot = rotation(new Prng(mix(o.seed, 0x52543233)), cap); // "RT23"
      const pads = new Prng(mix(o.seed, 0x50414453)); // "PADS"
      const onoffName = new Map([...onoff].map((j) => [name(j), j]));
      afterRound = (_round, from) => {
        const received = new Map<number, Rating[]>();
        for (let k = from; k < ratings.length; k++) {
          const j = onoffName.get(ratings[k].to);
          if (j !== undefined) (received.get(j) ?? received.set(j, []).get(j)!).push(ratings[k]);
        }
        for (const [j, rs] of received) {
          const counts = rs.map((r) => {
            const x = r.value < KNOWN.badBelow ? padBad : padGood;
            return Math.floor(x) + (pads.next() < x - Math.floor(x) ? 1 : 0);
          });
          const crew = rot(
            j,
            counts.reduce((a, b) => a + b, 0),
          ); // distinct colluders this round
          let c = 0;
          rs.forEach((r, x) => {
            const v = r.value < KNOWN.badBelow ? () => 0.9 + 0.1 * pads.next() : () => 0.1 * pads.next();
            for (let y = 0; y < counts[x] && c < crew.length; y++)
              ratings.push({ from: name(crew[c++]), to: r.to, value: v(), time: r.time, evidence: true });
          });
        }
      };
      planOut.onoff = onoff.size;
      planOut.badShare = s;
      planOut.maxPairEpochs = cap;
      break;
    }
    case "rt-loyal":
    case "rt-loyal-regional":
    case "rt-loyal-poison": {
      // loyal regulars: 20% of the honest raters, in neighbourhoods of 8, each neighbourhood with 2
      // favourite providers (trustworthy honest, outside it) that each member rates every round (its
      // first two interactions). The same neighbourhoods in all three families (their own stream).
      const L = new Prng(mix(o.seed, 0x4c4f594c)); // "LOYL"
      const honestAll = Array.from({ length: N - plannedA }, (_, i) => i); // the slots honest in every family
      const members = L.shuffle([...honestAll]).slice(0, Math.round(0.2 * (N - plannedA)));
      const hoods: { members: number[]; favs: number[] }[] = [];
      const favOf = new Map<number, number[]>();
      for (let x = 0; x + 8 <= members.length; x += 8) {
        const m = members.slice(x, x + 8);
        const inHood = new Set(m);
        const favs: number[] = [];
        while (favs.length < 2) {
          const j = honestAll[L.int(honestAll.length)];
          if (!inHood.has(j) && quality[j] >= 0.5 && !favs.includes(j)) favs.push(j);
        }
        hoods.push({ members: m, favs });
        for (const i of m) favOf.set(i, favs);
      }
      pick = (i, _u, d) => (d < 2 ? favOf.get(i)?.[d] : undefined);
      planOut.neighbourhoods = hoods.length;
      planOut.loyal = hoods.length * 8;
      if (o.family === "rt-loyal-regional") {
        // the second favourite serves its neighbourhood 0.4 worse than it serves everyone else (distance, a
        // congested local link): honest regulars who really get worse service than the seeds
        serve = (j, i) => (favOf.get(i)?.[1] === j ? Math.max(0.05, quality[j] - 0.4) : undefined);
      }
      if (o.family === "rt-loyal-poison") {
        // the attackers read the chain's first R0 rounds, find the targets that at least 3 raters rated in
        // every one of them (regular pairs: a lockstep group in the making), and from round R0 on join
        // each group with enough members rating its targets low every round that the group's voice (the
        // members' mean) is bad; the group then disagrees with the seeds, and every member is flagged
        const R0 = 3;
        const slotOf = new Map(Array.from({ length: N }, (_, i) => [name(i), i]));
        let crewOf: Map<number, number[]> | undefined; // attacker -> targets it rates every round
        extra = (i, round, rng, emit) => {
          if (round < R0) return;
          if (!crewOf) {
            crewOf = new Map();
            const epochs = new Map<string, Set<number>>();
            for (const r of ratings) {
              const e = Math.floor(r.time / roundSeconds);
              if (e >= R0 || isAttacker(slotOf.get(r.from)!)) continue;
              const k = `${r.from}>${r.to}`;
              (epochs.get(k) ?? epochs.set(k, new Set()).get(k)!).add(e);
            }
            const repeatRaters = new Map<number, number[]>(); // target -> raters seen in every round so far
            for (const [k, es] of epochs)
              if (es.size >= R0) {
                const [f, t] = k.split(">").map((x) => slotOf.get(x)!);
                (repeatRaters.get(t) ?? repeatRaters.set(t, []).get(t)!).push(f);
              }
            const ts = [...repeatRaters].filter(([, rs]) => rs.length >= KNOWN.lockstepRaters);
            // components: targets that share a repeat rater
            const comp = new Map<number, number>();
            let nc = 0;
            for (const [t] of ts) {
              if (comp.has(t)) continue;
              const stack = [t];
              comp.set(t, nc);
              while (stack.length) {
                const u = stack.pop()!;
                for (const [t2, rs2] of ts)
                  if (!comp.has(t2) && rs2.some((x) => repeatRaters.get(u)!.includes(x))) (comp.set(t2, nc), stack.push(t2));
              }
              nc++;
            }
            let next = 0;
            for (let c = 0; c < nc; c++) {
              const cts = ts.filter(([t]) => comp.get(t) === c);
              if (cts.length < KNOWN.lockstepTargets) continue;
              // enough low voices to pull the members' mean under 0.5: m (0.5 - 0.05) > r (0.85 - 0.5), + 2
              const m = Math.max(...cts.map(([, rs]) => Math.ceil((rs.length * 0.35) / 0.45) + 2));
              if (m > A) continue;
              for (let y = 0; y < m; y++) {
                const x = attackerSlots[next++ % A];
                crewOf.set(x, [...(crewOf.get(x) ?? []), ...cts.map(([t]) => t)]);
              }
              for (const [, rs] of cts) for (const v of rs) if (quality[v] >= 0.5) victims.add(v);
              planOut.groups = (planOut.groups ?? 0) + 1;
            }
          }
          for (const t of crewOf.get(i) ?? []) emit(t, 0.1 * rng.next());
        };
        for (const i of attackerSlots) attackStart.set(name(i), base(R0));
        planOut.readRounds = R0;
      }
      break;
    }
    case "rt-weekly-outage": {
      // 10% of trustworthy providers have a one-round outage (service 0.1) every 8 rounds, each at its own
      // phase: scheduled maintenance, three times in the run. Honest, and recurring.
      const hit = new Prng(mix(o.seed, 0x5745454b)) // "WEEK"
        .shuffle(honestSlots.filter((i) => quality[i] >= 0.5))
        .slice(0, Math.round(0.1 * N));
      const phase = new Map(hit.map((i, x) => [i, x % 8]));
      serve = (j, _i, r) => {
        const ph = phase.get(j);
        return ph !== undefined && r % 8 === ph ? 0.1 : undefined;
      };
      planOut.outages = hit.length;
      planOut.period = 8;
      break;
    }
  }
  const q = (j: number) => (isAttacker(j) ? (attackerQuality.get(j) ?? 0.9) : quality[j]);
  const streams = Array.from({ length: N }, (_, i) => new Prng(mix(o.seed, i)));
  const attackStreams = Array.from({ length: A }, (_, k) => new Prng(mix(o.seed ^ 0x2545f491, k)));
  for (let round = 0; round < rounds; round++) {
    const t0 = base(round);
    const roundStart = ratings.length;
    for (let i = 0; i < N; i++) {
      const rng = streams[i];
      const from = name(i);
      for (let d = 0; d < activity[i]; d++) {
        const u0 = rng.next();
        const j = pick(i, u0, d, round) ?? pickSlot(u0);
        const u1 = rng.next();
        const u2 = rng.next();
        const u3 = rng.next();
        rng.next(); // u4 in the suite: kept so that the streams stay aligned with it
        const tOff = rng.next();
        if (j === i || !active(i, round) || !active(j, round) || silent(i, j)) continue;
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
    afterRound(round, roundStart);
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
