/**
 * An adversary suite for the trust detectors, written apart from them (issue 15): its own rating
 * generator, an honest population with realistic noise, and attackers that know the detectors'
 * *documented* rules (docs/specs/trust.md §4, collected in {@link KNOWN_RULES}) and stay just under
 * them. Nothing here imports the detectors.
 *
 * Honest population (every slot draws these from one stream, whatever the family, so that a run
 * with attackers and the same seed without them share their honest entities):
 * - provider quality q: 80% good U[0.75, 0.98], 12% mediocre U[0.5, 0.75], 8% genuinely bad
 *   U[0.1, 0.45] ("honest-bad": honest raters, poor service; trustworthy means q >= 0.5);
 * - rater strictness s ~ U[-0.2, 0.15] added to every value it gives;
 * - popularity (how often others pick it) ~ exp(0.8 z), activity 2-4 partners a round;
 * - an interaction's satisfaction is clip(q + 0.2 z) (z ~ N(0, 1)); the rater gives
 *   clip(satisfaction + s). A value below 0.5 is a bad outcome.
 *
 * Determinism: each slot rates from its own PRNG stream and consumes the same number of draws per
 * interaction whoever its partner is, so honest-to-honest ratings are identical in a run with
 * attackers and in the clean run of the same seed (`family: "honest-noisy"`): the difference
 * between the two is the attack's damage.
 *
 * Attack families (10% of slots by default), each with the rule it stays under:
 * - onoff-under-window: good phases of 6 rounds, bad phases of 6 rounds where only 45% of services
 *   are bad, so a window of 6 ratings stays under the on-off rule's high mark of 0.6;
 * - onoff-random: good and bad phases of random length (2-10 rounds), fully bad when bad;
 * - collusive-ring: rings of 8 poor providers (q 0.3) that praise ring members and bad-mouth 4
 *   shared victims, one lie for every three honest ratings, praise and blame in equal numbers
 *   (agreement ratio about 0.75 > 0.7, one-sided lean about 0 < 0.2);
 * - sybil-late: one controller's identities behave well for 70% of the run, then serve badly and
 *   praise each other;
 * - sybil-attack-edges: a Sybil cluster nobody honest interacts with, praising itself and
 *   bad-mouthing 5 victims, attached to the honest graph by 3 bought ratings (3 bribed honest
 *   raters each rate one Sybil highly every round);
 * - camouflage: good providers that lie (rate 0-0.2) on a fifth of the good services they receive;
 * - whitewash: each identity serves well 4 rounds, then badly 2 rounds (leaving before the on-off
 *   rule's window can fill twice), then takes a fresh identity;
 * - flood: good providers that each round also send 20 ratings of 0-0.1 to one of 5 shared
 *   victims.
 *
 * Options off by default (session 16, so every committed network is unchanged): `newcomers`, honest
 * identities that join mid-run, half of them unverified and half of them leaving early, so that a
 * fresh, unverified, short-lived identity is not always a whitewasher's; `freshIdentities: false`, the
 * whitewash family on one identity per attacker (the same seed without whitewashing).
 *
 * Evidence (docs/specs/trust.md §8): every rating of an interaction carries a record set
 * (`evidence: true`); a rating outside the interactions carries one only when its target signs the
 * receipts, i.e. when it is a fellow attacker (ring praise, Sybil praise, bought ratings of a
 * Sybil). Flood ratings and the bad-mouthing of honest victims carry none.
 */
import { Prng } from "../../util/prng";

/**
 * The suite's model constants, which the oracle bound (oracle-bound.ts) imports rather than
 * restating: if the generator changes, the bound follows (s14 final read 7).
 */
export const SUITE_MODEL = {
  /** satisfaction noise: clip(q + noise * z), z Irwin-Hall of three uniforms scaled to sd 1 */
  noise: 0.2,
  /** honest raters' strictness prior U[strictLo, strictHi] */
  strictLo: -0.2,
  strictHi: 0.15,
  /** attack service levels: good and bad service quality */
  goodQ: 0.9,
  badQ: 0.1,
  /** a whitewash identity's life: this many good rounds, then this many bad ones */
  whitewashGood: 4,
  whitewashBad: 2,
} as const;

/** One rating (the detectors' RatingEvent shape, repeated here so this module imports nothing from them). */
export type Rating = { from: string; to: string; value: number; time: number; evidence?: boolean };

/** The attack families, then the honest-only population. */
export const FAMILIES = [
  "onoff-under-window",
  "onoff-random",
  "collusive-ring",
  "sybil-late",
  "sybil-attack-edges",
  "camouflage",
  "whitewash",
  "flood",
] as const;
export type AttackFamily = (typeof FAMILIES)[number];
export type Family = AttackFamily | "honest-noisy";

/**
 * The split (issue 15): detectors may be tuned only on the tune families and tune seeds; results
 * are reported only on the report seeds, and the report families were never run while tuning.
 */
export const SPLIT = {
  // sybil-late was held out until session 11, which developed the iterated change tests on it (tune seeds only)
  tuneFamilies: ["honest-noisy", "onoff-under-window", "collusive-ring", "sybil-attack-edges", "sybil-late"] as Family[],
  reportFamilies: ["onoff-random", "camouflage", "whitewash", "flood"] as Family[],
  tuneSeeds: [1, 2, 3],
  reportSeeds: [101, 102, 103],
};

/**
 * What the attackers know: the rules docs/specs/trust.md §4 documents for the detectors that
 * `trust:detect` ran before issue 15 (on-off: windows of 6 ratings, bad below 0.5, smoothed bad
 * rate high mark 0.6; mouthing: agreement ratio 0.7, one-sided lean 0.2).
 */
export const KNOWN_RULES = { onOffWindow: 6, badBelow: 0.5, onOffHigh: 0.6, agreement: 0.7, lean: 0.2 };

export type SuiteOptions = {
  family: Family;
  nodes: number;
  seed: number;
  rounds?: number;
  /** share of slots that attack (default 0.1) */
  attackerShare?: number;
  /** share of honest slots that are identity-verified seeds (default 0.2) */
  seedShare?: number;
  roundSeconds?: number;
  /**
   * multiplies every slot's interactions a round (2-4 by default; rounded, at least 1), with the same
   * draws: the evidence per identity grows without changing any strategy (oracle-bound.ts's sweep)
   */
  activityScale?: number;
  /** also return {@link Network.latent}: what each rating was generated from (default false) */
  latent?: boolean;
  /**
   * Honest churn (session 16; default 0, so every committed figure's networks are unchanged): this
   * share of the honest non-seed slots are newcomers. A newcomer joins at a round drawn in
   * [1, rounds - 2], and half of them leave again after 4-10 rounds (an honest short life, as a
   * whitewash identity's); before it joins and after it leaves it neither rates nor is rated. Its
   * behaviour is its slot's (quality, strictness, activity). A share {@link newcomersUnverified} of
   * them are unverified (left out of {@link Network.verified}), the others verified: so that "fresh,
   * unverified, short-lived" describes honest identities too and identity facts alone are not a
   * detector. Drawn from a stream of their own among the planned honest slots, so that a run with
   * attackers and the clean run of the same seed and options have the same newcomers. Meant for the
   * whitewash and honest-noisy families (the other families' victims and bribed raters are not
   * drawn apart from them).
   */
  newcomers?: number;
  /** share of the newcomers that are unverified (default 0.5) */
  newcomersUnverified?: number;
  /**
   * whitewash family: take a fresh identity after each life (default true). false: the same
   * attacker, the same draws and schedule, on its first (verified) identity for the whole run
   * (the same seed without whitewashing, for what whitewashing gains).
   */
  freshIdentities?: boolean;
};

/**
 * What one rating was generated from (hidden from the detectors; oracle-bound.ts reads it):
 * `sat` the interaction's satisfaction (NaN for a rating outside the interactions), `offset` the
 * strictness the rater added (0 for an attacker; NaN where the value is a lie or outside the
 * interactions), `qm` the quality the target served at (0.9 / 0.1 for an attacker's good / bad
 * service; NaN outside the interactions).
 */
export type Latent = { sat: number; offset: number; qm: number };

/** Ground truth of one generated network. */
export type Truth = {
  /** every identity that attacks (whitewashers: every identity they used) */
  attackers: Set<string>;
  /** honest identities an attack targets (bad-mouthed, flooded) */
  victims: Set<string>;
  /** attackers whose service is poor and whom the attack tries to boost */
  boosted: Set<string>;
  /** honest identities with q >= 0.5 */
  trustworthy: Set<string>;
  /** honest identities with q < 0.5 */
  honestBad: Set<string>;
  /** seconds at which each attacker starts to misbehave */
  attackStart: Map<string, number>;
  quality: Map<string, number>;
};

export type Network = {
  family: Family;
  nodes: string[];
  seeds: Set<string>;
  /**
   * identities whose identity is verified under the identity layer (docs/specs/trust.md §6: one
   * verified identity per person): every honest identity, and the first identity of each attacker
   * slot (a person), except in the Sybil families, whose identities are one controller's many.
   * A whitewasher's fresh identities are not verified. (`seeds` are the pre-trusted subset.)
   */
  verified?: Set<string>;
  /**
   * with `newcomers`: each honest newcomer's first round and the round it left (`rounds` if it
   * stays), and whether it is verified
   */
  newcomers?: Map<string, { join: number; leave: number; verified: boolean }>;
  /** whitewash family: each attacker slot's identities and the round each takes over (its lives) */
  lives?: Map<string, { name: string; from: number }[]>;
  ratings: Rating[];
  /** with `latent: true`: one entry per rating, in the same order */
  latent?: Latent[];
  truth: Truth;
  roundSeconds: number;
  rounds: number;
};

const clip = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
/** A standard normal from three uniforms (Irwin-Hall, sd 1): a fixed number of draws. */
const z3 = (a: number, b: number, c: number) => (a + b + c - 1.5) * 2;
const mix = (seed: number, i: number) => (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) >>> 0;

/**
 * Generates one network of the suite.
 * @param o - family, size and seed
 * @returns the nodes, verified seeds, ratings in time order and the ground truth
 * @throws Error if the sizes leave no honest slot
 */
export function generateNetwork(o: SuiteOptions): Network {
  const N = o.nodes;
  const rounds = o.rounds ?? 24;
  const roundSeconds = o.roundSeconds ?? 60;
  const A = o.family === "honest-noisy" ? 0 : Math.round(N * (o.attackerShare ?? 0.1));
  if (N - A < 10) throw new Error(`generateNetwork: ${N} nodes leave too few honest slots`);
  // Population: drawn for every slot whatever the family.
  const pop = new Prng(mix(o.seed, 0x7fffffff));
  const quality = new Float64Array(N);
  const strict = new Float64Array(N);
  const activity = new Int32Array(N);
  const popularity = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const u = pop.next();
    quality[i] = u < 0.8 ? 0.75 + 0.23 * pop.next() : u < 0.92 ? 0.5 + 0.25 * pop.next() : 0.1 + 0.35 * pop.next();
    strict[i] = SUITE_MODEL.strictLo + (SUITE_MODEL.strictHi - SUITE_MODEL.strictLo) * pop.next(); // -0.2 + 0.35 u, bit for bit
    activity[i] = 2 + pop.int(3);
    if (o.activityScale !== undefined) activity[i] = Math.max(1, Math.round(activity[i] * o.activityScale));
    popularity[i] = Math.exp(0.8 * pop.normal());
  }
  const cum = new Float64Array(N);
  for (let i = 0, s = 0; i < N; i++) cum[i] = s += popularity[i];
  const pickSlot = (u: number) => {
    const x = u * cum[N - 1];
    let lo = 0;
    let hi = N - 1;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (cum[m] < x) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  // Attackers take the last A slots; honest slots are 0 .. H-1.
  const H = N - A;
  const isAttacker = (i: number) => i >= H;
  const name = (i: number) => (isAttacker(i) ? `${o.family}-${i - H}` : `h-${i}`);
  // Seeds are drawn as if every family had attackers, so that the clean run has the same seeds.
  const seedRng = new Prng(mix(o.seed, 0x7ffffffe));
  const honestSlots = Array.from({ length: H }, (_, i) => i);
  const plannedHonest = N - Math.round(N * (o.attackerShare ?? 0.1));
  const seedSlots = new Set<number>();
  for (let i = 0; i < N; i++) if (seedRng.next() < (o.seedShare ?? 0.2) && i < plannedHonest) seedSlots.add(i);
  // Honest newcomers (option), from their own stream: five draws per planned honest slot, used or not.
  const newcomerShare = o.newcomers ?? 0;
  const newcomersUnverified = o.newcomersUnverified ?? 0.5;
  if (!(newcomerShare >= 0 && newcomerShare <= 1)) throw new Error(`generateNetwork: newcomers must be in [0, 1], got ${newcomerShare}`);
  if (!(newcomersUnverified >= 0 && newcomersUnverified <= 1))
    throw new Error(`generateNetwork: newcomersUnverified must be in [0, 1], got ${newcomersUnverified}`);
  const newcomerSlots = new Map<number, { join: number; leave: number; verified: boolean }>();
  if (newcomerShare > 0) {
    if (rounds < 4) throw new Error(`generateNetwork: newcomers need at least 4 rounds, got ${rounds}`);
    const nrng = new Prng(mix(o.seed, 0x7ffffffc));
    for (let i = 0; i < plannedHonest; i++) {
      const [a, b, c, d, e] = [nrng.next(), nrng.next(), nrng.next(), nrng.next(), nrng.next()];
      if (seedSlots.has(i) || a >= newcomerShare) continue;
      const join = 1 + Math.floor(b * (rounds - 2));
      const leave = c < 0.5 ? Math.min(rounds, join + 4 + Math.floor(d * 7)) : rounds;
      newcomerSlots.set(i, { join, leave, verified: e >= newcomersUnverified });
    }
  }
  const active = (i: number, round: number) => {
    const x = newcomerSlots.get(i);
    return !x || (round >= x.join && round < x.leave);
  };
  // Attack plan, from its own stream.
  const plan = new Prng(mix(o.seed, 0x7ffffffd));
  const good = honestSlots.filter((i) => quality[i] >= 0.8 && !seedSlots.has(i) && !newcomerSlots.has(i));
  const pickVictims = (n: number) => plan.shuffle([...good]).slice(0, n);
  const victims = new Set<number>();
  const boosted = new Set<number>();
  const attackerQuality = new Map<number, number>();
  const attackStart = new Map<string, number>();
  // identities of each slot over time (whitewash)
  const identities = new Map<number, { name: string; from: number }[]>();
  const identityAt = (i: number, round: number) => {
    const ids = identities.get(i);
    if (!ids) return name(i);
    let cur = ids[0].name;
    for (const x of ids) if (x.from <= round) cur = x.name;
    return cur;
  };
  const attackerSlots = Array.from({ length: A }, (_, k) => H + k);
  let serve: (j: number, round: number, u: number) => "good" | "bad" | "honest" = () => "honest";
  let lie: (i: number, j: number, round: number, sat: number, u: number) => number | undefined = () => undefined;
  let extra: (i: number, round: number, rng: Prng, emit: (to: number, value: number) => void) => void = () => {};
  let honestSkips: (j: number) => boolean = () => false;
  const rings: number[][] = [];
  const ringOf = new Map<number, number>();
  const ringVictims: number[][] = [];
  let shared: number[] = [];
  const bribes: [number, number][] = [];
  switch (o.family) {
    case "honest-noisy":
      break;
    case "onoff-under-window": {
      const phase = new Map(attackerSlots.map((i) => [i, plan.int(12)]));
      // bad while (round + phase) mod 12 >= 6, i.e. 6 good rounds then 6 bad rounds
      const bad = (i: number, r: number) => (r + phase.get(i)!) % 12 >= 6;
      serve = (j, r, u) => (bad(j, r) ? (u < 0.45 ? "bad" : "good") : "good");
      for (const i of attackerSlots) {
        let r = 0;
        while (r < rounds && !bad(i, r)) r++;
        attackStart.set(name(i), r * roundSeconds);
      }
      break;
    }
    case "onoff-random": {
      const bad = new Map<number, Uint8Array>();
      for (const i of attackerSlots) {
        const b = new Uint8Array(rounds);
        let r = 0;
        let state = plan.chance(0.5) ? 1 : 0;
        while (r < rounds) {
          const len = 2 + plan.int(9);
          for (let k = 0; k < len && r < rounds; k++) b[r++] = state;
          state ^= 1;
        }
        bad.set(i, b);
        const first = b.indexOf(1);
        attackStart.set(name(i), (first < 0 ? rounds : first) * roundSeconds);
      }
      serve = (j, r) => (bad.get(j)![r] ? "bad" : "good");
      break;
    }
    case "collusive-ring": {
      for (let k = 0; k < A; k += 8) rings.push(attackerSlots.slice(k, k + 8));
      rings.forEach((ring, k) => {
        for (const i of ring) ringOf.set(i, k);
        const v = pickVictims(4);
        ringVictims.push(v);
        for (const x of v) victims.add(x);
      });
      for (const i of attackerSlots) {
        attackerQuality.set(i, 0.3);
        boosted.add(i);
        attackStart.set(name(i), 0);
      }
      // one lie for every three honest ratings, alternately praise and blame
      extra = (i, round, rng, emit) => {
        const ring = rings[ringOf.get(i)!];
        const n = activity[i];
        for (let k = 0; k < Math.max(1, Math.round(n / 3)); k++) {
          if ((round + k + i) % 2 === 0 && ring.length > 1) {
            let j = ring[rng.int(ring.length)];
            if (j === i) j = ring[(ring.indexOf(i) + 1) % ring.length];
            emit(j, 0.9 + 0.1 * rng.next());
          } else emit(rng.pick(ringVictims[ringOf.get(i)!]), 0.15 * rng.next());
        }
      };
      break;
    }
    case "sybil-late": {
      const start = Math.floor(rounds * 0.7);
      for (const i of attackerSlots) {
        attackerQuality.set(i, 0.9);
        attackStart.set(name(i), start * roundSeconds);
      }
      serve = (j, r) => (r >= start ? "bad" : "good");
      extra = (i, round, rng, emit) => {
        if (round < start) return;
        for (let k = 0; k < 2; k++) {
          const j = attackerSlots[rng.int(A)];
          if (j !== i) emit(j, 0.9 + 0.1 * rng.next());
        }
      };
      break;
    }
    case "sybil-attack-edges": {
      shared = pickVictims(5);
      for (const x of shared) victims.add(x);
      for (const i of attackerSlots) attackStart.set(name(i), 0);
      honestSkips = (j) => isAttacker(j);
      // 3 bought ratings: bribed honest non-seed raters, each attached to one Sybil
      const bribable = plan.shuffle(honestSlots.filter((i) => !seedSlots.has(i) && !shared.includes(i))).slice(0, 3);
      bribable.forEach((b, k) => bribes.push([b, attackerSlots[k % A]]));
      extra = (i, round, rng, emit) => {
        for (let k = 0; k < activity[i]; k++) {
          if (rng.chance(0.8)) {
            const j = attackerSlots[rng.int(A)];
            if (j !== i) emit(j, 0.85 + 0.15 * rng.next());
          } else emit(rng.pick(shared), 0.15 * rng.next());
        }
      };
      break;
    }
    case "camouflage":
      for (const i of attackerSlots) {
        attackerQuality.set(i, 0.9);
        attackStart.set(name(i), 0);
      }
      lie = (_i, _j, _r, sat, u) => (sat >= 0.5 && u < 0.2 ? 0.2 * (u / 0.2) : undefined);
      break;
    case "whitewash": {
      // life: 4 good rounds, 2 bad rounds, then a fresh identity; lives start staggered
      const life = SUITE_MODEL.whitewashGood + SUITE_MODEL.whitewashBad;
      const offset = new Map(attackerSlots.map((i) => [i, plan.int(life)]));
      for (const i of attackerSlots) {
        const ids: { name: string; from: number }[] = [];
        let gen = 0;
        for (let r = -offset.get(i)!; r < rounds; r += o.freshIdentities === false ? rounds + life : life) {
          const id = `${name(i)}.${gen++}`;
          ids.push({ name: id, from: Math.max(0, r) });
          if (r + SUITE_MODEL.whitewashGood < rounds) attackStart.set(id, Math.max(0, r + SUITE_MODEL.whitewashGood) * roundSeconds);
          else attackStart.set(id, rounds * roundSeconds);
        }
        identities.set(i, ids);
      }
      serve = (j, r) => ((r + offset.get(j)!) % life >= SUITE_MODEL.whitewashGood ? "bad" : "good");
      break;
    }
    case "flood":
      shared = pickVictims(5);
      for (const x of shared) victims.add(x);
      for (const i of attackerSlots) {
        attackerQuality.set(i, 0.9);
        attackStart.set(name(i), 0);
      }
      extra = (i, _round, rng, emit) => {
        const v = rng.pick(shared);
        for (let k = 0; k < 20; k++) emit(v, 0.1 * rng.next());
      };
      break;
  }
  const q = (j: number) => (isAttacker(j) ? (attackerQuality.get(j) ?? 0.9) : quality[j]);
  // Ratings, round by round.
  const streams = Array.from({ length: N }, (_, i) => new Prng(mix(o.seed, i)));
  const attackStreams = Array.from({ length: A }, (_, k) => new Prng(mix(o.seed ^ 0x2545f491, k)));
  const ratings: Rating[] = [];
  const latent: Latent[] = [];
  const NO: Latent = { sat: NaN, offset: NaN, qm: NaN };
  for (let round = 0; round < rounds; round++) {
    const base = round * roundSeconds;
    for (let i = 0; i < N; i++) {
      if (!active(i, round)) continue;
      const rng = streams[i];
      const from = identityAt(i, round);
      for (let d = 0; d < activity[i]; d++) {
        const j = pickSlot(rng.next());
        const u1 = rng.next();
        const u2 = rng.next();
        const u3 = rng.next();
        const u4 = rng.next();
        const tOff = rng.next();
        if (j === i || !active(j, round)) continue;
        if (!isAttacker(i) && honestSkips(j)) continue;
        if (isAttacker(i) && o.family === "sybil-attack-edges") continue; // Sybils only rate through `extra`
        const mode = isAttacker(j) ? serve(j, round, u4) : "honest";
        const qj = mode === "good" ? SUITE_MODEL.goodQ : mode === "bad" ? SUITE_MODEL.badQ : q(j);
        const sat = clip(qj + SUITE_MODEL.noise * z3(u1, u2, u3));
        let value = clip(sat + (isAttacker(i) ? 0 : strict[i]));
        const lied = isAttacker(i) ? lie(i, j, round, sat, u4) : undefined;
        if (lied !== undefined) value = lied;
        ratings.push({ from, to: identityAt(j, round), value, time: base + Math.floor(tOff * roundSeconds), evidence: true });
        if (o.latent) latent.push({ sat, offset: lied !== undefined ? NaN : isAttacker(i) ? 0 : strict[i], qm: qj });
      }
      if (isAttacker(i)) {
        const arng = attackStreams[i - H];
        // A rating outside the interactions above has a record set only if its target signs the
        // receipts: a fellow attacker does (rings, Sybils), an honest victim never served it.
        extra(i, round, arng, (to, value) => {
          ratings.push({
            from,
            to: identityAt(to, round),
            value,
            time: base + Math.floor(arng.next() * roundSeconds),
            evidence: isAttacker(to),
          });
          if (o.latent) latent.push(NO);
        });
      }
    }
    for (const [b, s] of bribes) {
      ratings.push({ from: name(b), to: name(s), value: 0.95, time: base + roundSeconds - 1, evidence: true }); // the Sybil signs receipts
      if (o.latent) latent.push(NO);
    }
  }
  // a stable sort by time; the latent entries follow their ratings
  const order = Array.from({ length: ratings.length }, (_, k) => k).sort((a, b) => ratings[a].time - ratings[b].time);
  const sorted = order.map((k) => ratings[k]);
  const sortedLatent = o.latent ? order.map((k) => latent[k]) : undefined;
  const nodes: string[] = [];
  for (let i = 0; i < N; i++) {
    const ids = identities.get(i);
    if (ids) for (const x of ids) nodes.push(x.name);
    else nodes.push(name(i));
  }
  const attackers = new Set<string>();
  for (const i of attackerSlots) for (const x of identities.get(i) ?? [{ name: name(i) }]) attackers.add(x.name);
  const truth: Truth = {
    attackers,
    victims: new Set([...victims].map(name)),
    boosted: new Set([...boosted].map(name)),
    trustworthy: new Set(honestSlots.filter((i) => quality[i] >= 0.5).map(name)),
    honestBad: new Set(honestSlots.filter((i) => quality[i] < 0.5).map(name)),
    attackStart,
    quality: new Map(nodes.map((n) => [n, 0])),
  };
  for (let i = 0; i < N; i++) for (const x of identities.get(i) ?? [{ name: name(i) }]) truth.quality.set(x.name, q(i));
  const verified = new Set<string>(honestSlots.filter((i) => newcomerSlots.get(i)?.verified ?? true).map(name));
  if (o.family !== "sybil-late" && o.family !== "sybil-attack-edges")
    for (const i of attackerSlots) verified.add((identities.get(i) ?? [{ name: name(i) }])[0].name);
  return {
    family: o.family,
    nodes,
    seeds: new Set([...seedSlots].map(name)),
    verified,
    ...(newcomerSlots.size ? { newcomers: new Map([...newcomerSlots].map(([i, x]) => [name(i), { ...x }])) } : {}),
    ...(identities.size ? { lives: new Map([...identities].map(([i, ids]) => [name(i), ids.map((x) => ({ ...x }))])) } : {}),
    ratings: sorted,
    ...(sortedLatent ? { latent: sortedLatent } : {}),
    truth,
    roundSeconds,
    rounds,
  };
}
