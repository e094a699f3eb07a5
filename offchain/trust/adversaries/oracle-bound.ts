/**
 * The oracle bound (issue 15; docs/specs/trust.md §4, "The oracle bound"): for an attack family of the adversary suite,
 * the best detection rate a detector could reach at a given false-positive rate on the suite's data,
 * computed by the Neyman-Pearson likelihood-ratio test of each identity ("attacker of this family"
 * against "trustworthy honest identity") that knows the generator's true model (./generate.ts: the
 * noise, the honest population's distributions, the attacker's strategy and its parameters).
 *
 * Channels. Each family's strategy acts on one channel of an identity's evidence, and the oracle is
 * computed on that channel:
 * - provider channel (onoff-under-window, onoff-random, whitewash): the services an identity gave,
 *   round by round. Two observations:
 *   - `sat`: the satisfaction of every service the identity gave, before the rater's strictness
 *     was added (the generator's latent value). The ratings the identity received are a function of
 *     these and of the raters' strictness, which is drawn independently of the identity's label, so
 *     no test on the ratings received has more power than the test on `sat` (data processing): this
 *     is an UPPER bound on every detector's power on that channel;
 *   - `value`: the ratings received as generated, with each rater's strictness known to the oracle
 *     (the exact likelihood, clipping included): what a detector that had learnt every rater's offset
 *     perfectly could reach. Still at least any real detector's power on the channel.
 * - rater channel (camouflage, sparse bad-mouthers): the ratings an identity gave, each read as
 *   low (in the lie range) or not, with the quality its target served at (known to the oracle: more
 *   than a detector, which estimates it from the target's other ratings), the rater's own strictness
 *   unknown (integrated over its prior). Reading a value as low or not is a coarsening, so on this
 *   channel the test is one the oracle can run, and its power a LOWER bound on the oracle's: enough
 *   to show that a goal is attainable, not that it is not.
 *
 * What the oracle does not use (generator artifacts, reported apart, not bounded): attackers rate
 * with no strictness (offset exactly 0, which exact repeats of values reveal), serve at exactly 0.9
 * when good, and a whitewasher's fresh identities are unverified and live 6 rounds where every honest
 * identity lives the whole run (`whitewashArtifacts`). A detector exploiting those would be fitting
 * the generator, not the attack. Seeds are observable and all honest: every oracle scores a seed
 * -Infinity (never flagged).
 *
 * Identities are tested one by one with one threshold: given the other identities' latent values
 * (which the oracle is granted), an identity's channel is independent of the others' labels, so the
 * per-identity likelihood-ratio test maximizes the expected share of attackers flagged at a given
 * expected share of trustworthy honest identities flagged.
 *
 * Pure: no I/O, deterministic.
 */
import { Prng } from "../../util/prng";
import { SUITE_MODEL, type Network } from "./generate";

/** The suite's satisfaction noise: clip(q + NOISE * z), z Irwin-Hall of three uniforms scaled to sd 1. */
export const NOISE = SUITE_MODEL.noise;
/** Honest raters' strictness prior: U[S_LO, S_HI]. */
export const S_LO = SUITE_MODEL.strictLo;
export const S_HI = SUITE_MODEL.strictHi;

/** Density of z = 2 (U1 + U2 + U3 - 1.5) (Irwin-Hall, n = 3, sd 1, support [-3, 3]). */
export function pdfZ(z: number): number {
  const s = z / 2 + 1.5;
  if (s <= 0 || s >= 3) return 0;
  const d = s < 1 ? (s * s) / 2 : s < 2 ? (-2 * s * s + 6 * s - 3) / 2 : ((3 - s) * (3 - s)) / 2;
  return d / 2;
}
/** Distribution function of z. */
export function cdfZ(z: number): number {
  const s = z / 2 + 1.5;
  if (s <= 0) return 0;
  if (s >= 3) return 1;
  return s < 1 ? (s * s * s) / 6 : s < 2 ? (-2 * s * s * s + 9 * s * s - 9 * s + 3) / 6 : 1 - ((3 - s) * (3 - s) * (3 - s)) / 6;
}

/**
 * Likelihood of a rating value v = clip(clip(qm + NOISE z) + s) given the quality served and the
 * rater's offset s (exact: point masses at 0 and 1, at s when the satisfaction clips at 0 and s > 0,
 * at 1 + s when it clips at 1 and s < 0; a density elsewhere). With s = 0 it is the likelihood of a
 * satisfaction. A mass and a density are both returned as numbers: a test compares them only with
 * the same kind for the same observation.
 * @param v - the value
 * @param qm - the quality served
 * @param s - the rater's offset
 * @param ties - whether values that only a clipped satisfaction gives (s, 1 + s) are masses (exact
 *   likelihood, s known) or read as densities (s unknown and integrated: no exact repeats used)
 */
export function valueLik(v: number, qm: number, s: number, ties = true): number {
  if (v === 0) return s > 0 ? 0 : cdfZ((-s - qm) / NOISE);
  if (v === 1) return s < 0 ? 0 : 1 - cdfZ((1 - s - qm) / NOISE);
  if (ties && s > 0 && v === s) return cdfZ(-qm / NOISE);
  if (ties && s < 0 && v === 1 + s) return 1 - cdfZ((1 - qm) / NOISE);
  const x = v - s;
  if (x <= 0 || x >= 1) return 0;
  return pdfZ((x - qm) / NOISE) / NOISE;
}

const lse = (a: number, b: number) => {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
};
const lseAll = (xs: number[]) => xs.reduce(lse, -Infinity);

/** A grid of [value, weight] over a prior made of uniform pieces [lo, hi, probability]. */
function grid(pieces: [number, number, number][], perPiece: number): [number, number][] {
  const out: [number, number][] = [];
  for (const [lo, hi, p] of pieces) for (let k = 0; k < perPiece; k++) out.push([lo + ((k + 0.5) * (hi - lo)) / perPiece, p / perPiece]);
  return out;
}
/** Trustworthy honest quality prior (the suite's, given q >= 0.5): 80 : 12 of U[0.75, 0.98] : U[0.5, 0.75]. */
export const Q_GRID = grid(
  [
    [0.75, 0.98, 0.8 / 0.92],
    [0.5, 0.75, 0.12 / 0.92],
  ],
  60,
);
/** Honest strictness prior U[-0.2, 0.15]. */
export const S_GRID = grid([[S_LO, S_HI, 1]], 70);

/** One service an identity gave: its round, its latent satisfaction, the value received and the rater's offset. */
export type ServiceObs = { round: number; sat: number; value: number; offset: number };
/** One rating an identity gave: the value, the quality its target served at, whether the target is a victim. */
export type RatingObs = { value: number; qm: number; victim?: boolean };

/** The provider-channel attacker models (./generate.ts's strategies, with their parameters). */
export type ProviderModel =
  /** bad in rounds where (round + phase) mod period >= period - badLen, phase uniform; a bad round's service is bad with pBad */
  | { kind: "periodic"; period: number; badLen: number; pBad: number }
  /** alternating phases of uniform length minLen..maxLen, first phase good or bad with probability 1/2, fully bad when bad */
  | { kind: "random-phases"; minLen: number; maxLen: number }
  /** bad exactly in the given rounds */
  | { kind: "schedule"; bad: Set<number> };

export const MODELS = {
  "onoff-under-window": { kind: "periodic", period: 12, badLen: 6, pBad: 0.45 } as ProviderModel,
  "onoff-random": { kind: "random-phases", minLen: 2, maxLen: 10 } as ProviderModel,
};
/** Attack service levels: good and bad service quality (./generate.ts). */
export const GOOD_Q = SUITE_MODEL.goodQ;
export const BAD_Q = SUITE_MODEL.badQ;

/** Coarser grids for the blind view (its emission integrates the offset for every rating). */
const Q_GRID_BLIND = grid(
  [
    [0.75, 0.98, 0.8 / 0.92],
    [0.5, 0.75, 0.12 / 0.92],
  ],
  16,
);
const S_GRID_BLIND = grid([[S_LO, S_HI, 1]], 24);
/** The blind view's attacker good-service quality: the honest good prior U[0.75, 0.98] (not the suite's exact 0.9). */
export const GOOD_Q_BLIND = grid([[0.75, 0.98, 1]], 8);

/**
 * Which observation of the provider channel the oracle reads: `sat` the latent satisfactions (upper
 * bound), `value` the ratings received with every rater's offset known, `blind` the ratings received
 * with every rater's offset unknown (integrated over the honest prior rating by rating, repeats not
 * used) and the attacker's good-service quality unknown (integrated over the honest good prior, where
 * the suite uses exactly 0.9): a test that needs no knowledge of the raters nor the generator's
 * artifacts, so its power is a lower bound on the oracle's.
 */
export type ProviderView = "sat" | "value" | "blind";
const emit = (o: ServiceObs, qm: number, view: ProviderView) => {
  if (view === "sat") return valueLik(o.sat, qm, 0);
  if (view === "value") return valueLik(o.value, qm, o.offset);
  let p = 0;
  for (const [s, w] of S_GRID_BLIND) p += w * valueLik(o.value, qm, s, false);
  return p;
};

/**
 * Log-likelihood of an identity's services under the trustworthy honest hypothesis (quality
 * integrated over its prior).
 * @param obs - the services
 * @param view - which observation is read
 * @returns log p(obs | honest)
 */
export function honestProviderLogLik(obs: ServiceObs[], view: ProviderView): number {
  const terms = (view === "blind" ? Q_GRID_BLIND : Q_GRID).map(([q, w]) => {
    let l = Math.log(w);
    for (const o of obs) l += Math.log(emit(o, q, view));
    return l;
  });
  return lseAll(terms);
}

/**
 * Log-likelihood of an identity's services under an attacker model (its schedule integrated over the
 * model's distribution).
 * @param obs - the services
 * @param rounds - rounds in the run
 * @param model - the attacker model
 * @param view - which observation is read
 * @param goodQ - the quality of the attacker's good service: [quality, weight] pairs (default
 *   exactly the suite's 0.9; the blind view integrates it over the honest good prior instead)
 * @returns log p(obs | attacker)
 */
export function attackerProviderLogLik(
  obs: ServiceObs[],
  rounds: number,
  model: ProviderModel,
  view: ProviderView,
  goodQ: [number, number][] = [[GOOD_Q, 1]],
): number {
  if (goodQ.length > 1) return lseAll(goodQ.map(([q, w]) => Math.log(w) + attackerProviderLogLik(obs, rounds, model, view, [[q, 1]])));
  const goodQuality = goodQ[0][0];
  // per round: log-likelihood if the round is good, and if it is bad
  const good = new Float64Array(rounds);
  const bad = new Float64Array(rounds);
  const pBad = model.kind === "periodic" ? model.pBad : 1;
  for (const o of obs) {
    if (o.round < 0 || o.round >= rounds) throw new Error(`oracle-bound: a service in round ${o.round} of a ${rounds}-round run`);
    const g = emit(o, goodQuality, view);
    const b = emit(o, BAD_Q, view);
    good[o.round] += Math.log(g);
    bad[o.round] += Math.log(pBad * b + (1 - pBad) * g);
  }
  if (model.kind === "schedule") {
    let l = 0;
    for (let r = 0; r < rounds; r++) l += model.bad.has(r) ? bad[r] : good[r];
    return l;
  }
  if (model.kind === "periodic") {
    const terms: number[] = [];
    for (let phase = 0; phase < model.period; phase++) {
      let l = -Math.log(model.period);
      for (let r = 0; r < rounds; r++) l += (r + phase) % model.period >= model.period - model.badLen ? bad[r] : good[r];
      terms.push(l);
    }
    return lseAll(terms);
  }
  // random phases: a semi-Markov forward pass over the segment starts (segment sums added up
  // directly: a cumulative difference would turn an impossible round's -Infinity into NaN)
  const per = [good, bad];
  const seg = (s: number, from: number, to: number) => {
    let l = 0;
    for (let r = from; r < to; r++) l += per[s][r];
    return l;
  };
  const lens = model.maxLen - model.minLen + 1;
  const pl = -Math.log(lens);
  const alpha = [new Float64Array(rounds).fill(-Infinity), new Float64Array(rounds).fill(-Infinity)];
  alpha[0][0] = alpha[1][0] = Math.log(0.5);
  let total = -Infinity;
  for (let t = 0; t < rounds; t++)
    for (let s = 0; s < 2; s++) {
      const a = alpha[s][t];
      if (a === -Infinity) continue;
      for (let len = model.minLen; len <= model.maxLen; len++) {
        const end = t + len;
        if (end >= rounds) total = lse(total, a + pl + seg(s, t, rounds));
        else alpha[1 - s][end] = lse(alpha[1 - s][end], a + pl + seg(s, t, end));
      }
    }
  return total;
}

/** The rater-channel attacker models. */
export type RaterModel =
  /** camouflage: lies (uniform on [0, liesBelow)) on a good outcome (satisfaction >= 0.5) with probability pLie */
  | { kind: "camouflage"; pLie: number; liesBelow: number }
  /** sparse bad-mouthers: an honest rater (offset from the prior) whose every rating of a victim is a lie, uniform on [0, liesBelow) */
  | { kind: "victim-liar"; liesBelow: number };

/**
 * Log-likelihood ratio of an identity's ratings given: attacker (the model) against trustworthy
 * honest rater. Each rating is read only as low (below the model's lie range bound) or not, beside
 * the quality its target served at: a coarsening of the ratings, so the test is one the oracle can
 * run and its power a lower bound on the oracle's. Under both hypotheses the rater's offset is
 * integrated over the honest prior (the suite's attackers rate with offset 0, an artifact not used:
 * with exact values it shows, e.g. an honest rater never gives both 0 and 1).
 * - honest: P(low) = P(clip(q + NOISE z) + s < b) = P(z < (b - s - q) / NOISE);
 * - camouflage: the honest low outcomes (all under 0.5, so never lied on) plus a lie on a good
 *   outcome (satisfaction >= 0.5): P(low) = P_honest(low) + pLie P(z >= (0.5 - q) / NOISE);
 * - victim-liar: a rating of a victim is low with probability 1, the others as an honest rater's.
 * @param obs - the ratings the identity gave
 * @param model - the attacker model
 * @returns log p(obs | attacker) - log p(obs | honest)
 */
export function raterLogLR(obs: RatingObs[], model: RaterModel): number {
  const b = model.liesBelow;
  const h0: number[] = [];
  const h1: number[] = [];
  for (const [s, w] of S_GRID) {
    let l0 = Math.log(w);
    let l1 = Math.log(w);
    for (const o of obs) {
      const low = o.value < b;
      const p0 = b - s <= 0 ? 0 : cdfZ((b - s - o.qm) / NOISE);
      let p1 = p0;
      if (model.kind === "camouflage") p1 = p0 + model.pLie * (1 - cdfZ((0.5 - o.qm) / NOISE));
      else if (o.victim) p1 = 1;
      l0 += Math.log(low ? p0 : 1 - p0);
      l1 += Math.log(low ? p1 : 1 - p1);
    }
    h0.push(l0);
    h1.push(l1);
  }
  return lseAll(h1) - lseAll(h0);
}

/** Detection at each false-positive rate: flag the scores above the honest scores' (1 - alpha) quantile. */
export type RocPoint = { fpr: number; detection: number; threshold: number };

/**
 * The test's operating points: for each alpha, the threshold t that at most alpha of the honest
 * scores exceed, and the share of attacker scores above t (no randomization at ties, so the FPR
 * reached is at most alpha).
 * @param honest - the trustworthy honest identities' scores
 * @param attackers - the attackers' scores
 * @param alphas - the false-positive rates
 * @returns one point per alpha (fpr: the share of honest above t, at most alpha)
 * @throws Error if either set is empty
 */
export function roc(honest: number[], attackers: number[], alphas: number[]): RocPoint[] {
  if (!honest.length || !attackers.length) throw new Error("oracle-bound: roc needs honest and attacker scores");
  const h = [...honest].sort((a, b) => b - a);
  return alphas.map((alpha) => {
    const k = Math.floor(alpha * h.length);
    const threshold = k < h.length ? h[k] : -Infinity;
    const above = (xs: number[]) => xs.filter((x) => x > threshold).length / xs.length;
    return { fpr: above(honest), detection: above(attackers), threshold };
  });
}

/** Whitewash: honest identities are each scored over this many randomly drawn lives. */
export const WINDOWS = 4;

/** The families the bound is computed for, and their channel. */
export const ORACLE_FAMILIES = ["onoff-under-window", "onoff-random", "camouflage", "whitewash"] as const;
export type OracleFamily = (typeof ORACLE_FAMILIES)[number];

/** One oracle's scores on one network: log-likelihood ratios of the trustworthy honest (non-victim) and of the attackers. */
export type OracleScores = {
  view: string;
  honest: number[];
  attackers: number[];
  /** the genuinely bad honest providers (q < 0.5): not counted in the FPR, scored to show what the threshold does to them */
  honestBad?: number[];
};

const roundOf = (net: Network, time: number) => Math.floor(time / net.roundSeconds);

/**
 * The services each identity gave (provider channel), from a network generated with `latent: true`.
 * @param net - the network
 * @returns identity -> its services
 * @throws Error if the network has no latent values
 */
export function servicesOf(net: Network): Map<string, ServiceObs[]> {
  if (!net.latent) throw new Error("oracle-bound: the network was generated without `latent: true`");
  const out = new Map<string, ServiceObs[]>();
  net.ratings.forEach((r, k) => {
    const l = net.latent![k];
    if (Number.isNaN(l.sat) || Number.isNaN(l.offset)) return; // outside the interactions, or a lie
    let list = out.get(r.to);
    if (!list) out.set(r.to, (list = []));
    list.push({ round: roundOf(net, r.time), sat: l.sat, value: r.value, offset: l.offset });
  });
  return out;
}

/**
 * The ratings each identity gave (rater channel), each with the quality its target served at.
 * @param ratings - the ratings (the network's, or a world's)
 * @param qm - the quality served at for rating k (NaN: not an interaction, skipped)
 * @param victims - the identities an attack targets
 * @returns identity -> its ratings
 */
export function ratingsGiven(ratings: Network["ratings"], qm: (k: number) => number, victims: Set<string>): Map<string, RatingObs[]> {
  const out = new Map<string, RatingObs[]>();
  ratings.forEach((r, k) => {
    const q = qm(k);
    if (Number.isNaN(q)) return;
    let list = out.get(r.from);
    if (!list) out.set(r.from, (list = []));
    list.push({ value: r.value, qm: q, victim: victims.has(r.to) });
  });
  return out;
}

/** The rounds in which each identity rated or was rated (its observed life). */
export function lifeOf(net: Network): Map<string, { first: number; last: number }> {
  const out = new Map<string, { first: number; last: number }>();
  for (const r of net.ratings) {
    const t = roundOf(net, r.time);
    for (const x of [r.from, r.to]) {
      const l = out.get(x);
      if (!l) out.set(x, { first: t, last: t });
      else {
        if (t < l.first) l.first = t;
        if (t > l.last) l.last = t;
      }
    }
  }
  return out;
}

/**
 * A whitewash identity's bad rounds, from its observed life (./generate.ts SUITE_MODEL: a life of
 * whitewashGood + whitewashBad rounds, the last whitewashBad bad; the first identity's life may
 * start before round 0, the last may end after the run).
 */
export function whitewashBadRounds(life: { first: number; last: number }, rounds: number): Set<number> {
  const { whitewashGood: good, whitewashBad: bad } = SUITE_MODEL;
  const start = life.first > 0 ? life.first : life.last - (good + bad - 1);
  const out = new Set<number>();
  for (let r = start + good; r < start + good + bad; r++) if (r >= 0 && r < rounds) out.add(r);
  return out;
}

/**
 * The oracle's scores on one network of a family (see the module comment for the channels).
 * @param net - the network (generated with `latent: true`)
 * @param family - its family
 * @param views - the provider channel's views to compute (default all three)
 * @returns one score set per view (the views on the provider channel; "ratings" on the rater channel)
 * @throws Error if the family has no oracle here, or the network has no latent values
 */
export function oracleScores(net: Network, family: OracleFamily, views: ProviderView[] = ["sat", "value", "blind"]): OracleScores[] {
  const t = net.truth;
  const honest = [...t.trustworthy].filter((x) => !t.victims.has(x));
  const honestBad = [...t.honestBad];
  const attackers = [...t.attackers];
  const seedOr = (x: string, f: () => number) => (net.seeds.has(x) ? -Infinity : f());
  if (family === "camouflage") {
    if (!net.latent) throw new Error("oracle-bound: the network was generated without `latent: true`");
    const given = ratingsGiven(net.ratings, (k) => net.latent![k].qm, t.victims);
    const model: RaterModel = { kind: "camouflage", pLie: 0.2, liesBelow: 0.2 };
    const score = (x: string) => seedOr(x, () => raterLogLR(given.get(x) ?? [], model));
    return [{ view: "ratings", honest: honest.map(score), attackers: attackers.map(score), honestBad: honestBad.map(score) }];
  }
  const services = servicesOf(net);
  const life = lifeOf(net);
  const out: OracleScores[] = [];
  const goodQ = (view: ProviderView) => (view === "blind" ? GOOD_Q_BLIND : undefined);
  for (const view of views) {
    if (family === "whitewash") {
      // behaviour only: each honest identity is observed over whitewash identities' lives (drawn at
      // random from the attackers'), as an honest newcomer living as long would be
      const lives = attackers.map((x) => life.get(x) ?? { first: 0, last: -1 });
      const rng = new Prng(0x0ac1e + net.nodes.length);
      const score = (x: string, l: { first: number; last: number }) =>
        seedOr(x, () => {
          const obs = (services.get(x) ?? []).filter((o) => o.round >= l.first && o.round <= l.last);
          const model: ProviderModel = { kind: "schedule", bad: whitewashBadRounds(l, net.rounds) };
          return attackerProviderLogLik(obs, net.rounds, model, view, goodQ(view)) - honestProviderLogLik(obs, view);
        });
      out.push({
        view,
        // WINDOWS lives per honest identity: a smoother estimate of the honest scores' quantiles
        honest: honest.flatMap((x) => Array.from({ length: WINDOWS }, () => score(x, lives[rng.int(lives.length)]))),
        attackers: attackers.map((x, k) => score(x, lives[k])),
        honestBad: honestBad.flatMap((x) => Array.from({ length: WINDOWS }, () => score(x, lives[rng.int(lives.length)]))),
      });
      continue;
    }
    const model = MODELS[family];
    const score = (x: string) =>
      seedOr(x, () => {
        const obs = services.get(x) ?? [];
        return attackerProviderLogLik(obs, net.rounds, model, view, goodQ(view)) - honestProviderLogLik(obs, view);
      });
    out.push({ view, honest: honest.map(score), attackers: attackers.map(score), honestBad: honestBad.map(score) });
  }
  return out;
}

/**
 * What the whitewash family's generator reveals beyond behaviour: the share of its identities that
 * are unverified or do not live the whole run, against the trustworthy honest identities' (every
 * honest identity is verified and lives the whole run). A test "flag the unverified and the
 * short-lived" reaches the first share at the second FPR. Also the share of its identities that
 * serve no bad round within the run (their bad rounds fall after its end): on behaviour alone they
 * are honest providers of quality 0.9.
 */
export function whitewashArtifacts(net: Network): { attackersRevealed: number; honestRevealed: number; neverBad: number } {
  const life = lifeOf(net);
  const revealed = (x: string) => {
    const l = life.get(x);
    return !net.verified?.has(x) || !l || l.first > 0 || l.last < net.rounds - 1;
  };
  const honest = [...net.truth.trustworthy].filter((x) => !net.truth.victims.has(x));
  const attackers = [...net.truth.attackers];
  return {
    attackersRevealed: attackers.filter(revealed).length / attackers.length,
    honestRevealed: honest.filter(revealed).length / honest.length,
    neverBad:
      attackers.filter((x) => whitewashBadRounds(life.get(x) ?? { first: 0, last: -1 }, net.rounds).size === 0).length / attackers.length,
  };
}

/**
 * A statistic any detector can compute, without the generator's latent values nor its model: for a
 * provider family, the share of an identity's received ratings below 0.3; for camouflage, the share
 * of its ratings below 0.2 given to targets whose mean received rating is at least 0.7. Beside the
 * oracle it shows how much of the oracle's power needs no oracle knowledge (only the threshold, here
 * the honest scores' quantile, is calibrated on the labels).
 * @param net - the network
 * @param family - its family
 * @returns the scores (seeds -Infinity)
 */
export function simpleScores(net: Network, family: OracleFamily): OracleScores {
  const t = net.truth;
  const honest = [...t.trustworthy].filter((x) => !t.victims.has(x));
  const s = simpleStatistic(
    net.ratings,
    family === "camouflage" ? "rater" : "provider",
    net.seeds,
    [...honest, ...t.honestBad],
    [...t.attackers],
  );
  return { ...s, honest: s.honest.slice(0, honest.length), honestBad: s.honest.slice(honest.length) };
}

/**
 * {@link simpleScores} on any ratings.
 * @param ratings - the ratings
 * @param channel - "provider": share of received ratings below 0.3; "rater": share of given ratings
 *   below 0.2 among those of targets whose mean received rating is at least 0.7
 * @param seeds - the seeds (scored -Infinity)
 * @param honest - the trustworthy honest identities to score
 * @param attackers - the attackers to score
 * @returns the scores
 */
export function simpleStatistic(
  ratings: Network["ratings"],
  channel: "provider" | "rater",
  seeds: Set<string>,
  honest: string[],
  attackers: string[],
): OracleScores {
  const recv = new Map<string, [number, number]>();
  for (const r of ratings) {
    const c = recv.get(r.to) ?? [0, 0];
    c[0] += r.value;
    c[1]++;
    recv.set(r.to, c);
  }
  const counts = new Map<string, [number, number]>();
  for (const r of ratings) {
    const key = channel === "rater" ? r.from : r.to;
    if (channel === "rater") {
      const c = recv.get(r.to)!;
      if (c[0] / c[1] < 0.7) continue;
    }
    const c = counts.get(key) ?? [0, 0];
    c[0] += r.value < (channel === "rater" ? 0.2 : 0.3) ? 1 : 0;
    c[1]++;
    counts.set(key, c);
  }
  const score = (x: string) => (seeds.has(x) ? -Infinity : ((c) => (c ? c[0] / c[1] : 0))(counts.get(x)));
  return { view: "simple", honest: honest.map(score), attackers: attackers.map(score) };
}

/**
 * The sparse bad-mouthers' bound (test/helpers/binary-liar-world.ts: honest raters who give a victim
 * of quality >= 0.9 a value in [0, 0.2) in one round of three): the rater channel's test with the
 * victim-liar model, and the simple statistic.
 * @param w - the world's ratings (continuous liars), every identity's quality, the seeds, the
 *   trustworthy honest identities, the attackers and the victims
 * @returns the oracle's scores ("ratings") and the simple statistic's
 */
export function victimLiarScores(w: {
  ratings: Network["ratings"];
  quality: Map<string, number>;
  seeds: Set<string>;
  trustworthy: Set<string>;
  attackers: Set<string>;
  victims: Set<string>;
}): OracleScores[] {
  const honest = [...w.trustworthy].filter((x) => !w.victims.has(x) && !w.attackers.has(x));
  const attackers = [...w.attackers];
  const given = ratingsGiven(w.ratings, (k) => w.quality.get(w.ratings[k].to) ?? NaN, w.victims);
  const model: RaterModel = { kind: "victim-liar", liesBelow: 0.2 };
  const score = (x: string) => (w.seeds.has(x) ? -Infinity : raterLogLR(given.get(x) ?? [], model));
  return [
    { view: "ratings", honest: honest.map(score), attackers: attackers.map(score) },
    simpleStatistic(w.ratings, "rater", w.seeds, honest, attackers),
  ];
}

/** Median of the observations per attacker identity on its family's channel (services received, or ratings given). */
export function evidencePerAttacker(net: Network, family: OracleFamily): number {
  const n = new Map<string, number>();
  for (const r of net.ratings) {
    const key = family === "camouflage" ? r.from : r.to;
    n.set(key, (n.get(key) ?? 0) + 1);
  }
  const xs = [...net.truth.attackers].map((x) => n.get(x) ?? 0).sort((a, b) => a - b);
  return xs.length % 2 ? xs[(xs.length - 1) / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
}
