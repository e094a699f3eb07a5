import { expect } from "chai";
import { generateNetwork } from "../../offchain/trust/adversaries/generate";
import type { Rating } from "../../offchain/trust/adversaries/generate";
import {
  GREY_MARGIN,
  PLAN_P,
  RED2_ATTACKS,
  RED2_HONEST,
  RED_ATTACKS,
  RED_HONEST,
  cleanOf,
  generateRedteam,
  type RedFamily,
  type RedNetwork,
} from "../../offchain/trust/adversaries/redteam/generate";
import { KNOWN, anchoredReference, cusumRunUnderAlarm, expectedZ, lieBudget, pBad } from "../../offchain/trust/adversaries/redteam/known";
import { Prng } from "../../offchain/util/prng";
import { runRedteam } from "../../offchain/sim/redteam";
import { analyze } from "../../offchain/trust/robust";
import { AttackKind } from "../../offchain/trust/detectors";

const N = 300;
const SEED = 7; // not a report seed (201-203)
const nets = new Map<string, RedNetwork>();
const net = (family: RedFamily) => {
  let n = nets.get(family);
  if (!n) nets.set(family, (n = generateRedteam({ family, nodes: N, seed: SEED })));
  return n;
};
const isAtt = (n: RedNetwork, x: string) => n.truth.attackers.has(x);
const round = (n: RedNetwork, t: number) => Math.floor(t / n.roundSeconds);
/** The honest ratings an entity receives (from non-attackers). */
const honestIn = (n: RedNetwork, to: string) => n.ratings.filter((r) => r.to === to && !isAtt(n, r.from));

describe("trust/redteam: the held-out red-team families (issue 15)", function () {
  this.timeout(300_000);

  describe("# the honest population", () => {
    it("rt-clean is the suite's honest-noisy draw for draw, and every attack family keeps its honest-to-honest ratings", () => {
      const suite = generateNetwork({ family: "honest-noisy", nodes: N, seed: SEED });
      const clean = net("rt-clean");
      expect(JSON.stringify(clean.ratings) === JSON.stringify(suite.ratings)).to.equal(true);
      expect(clean.seeds).to.deep.equal(suite.seeds);
      const key = (r: { from: string; to: string; value: number; time: number }) => `${r.from}>${r.to}@${r.time}=${r.value}`;
      for (const family of RED_ATTACKS) {
        const n = net(family);
        const honest = new Set(n.nodes.filter((x) => !isAtt(n, x)));
        const hh = (rs: typeof n.ratings) =>
          rs
            .filter((r) => honest.has(r.from) && honest.has(r.to))
            .map(key)
            .sort()
            .join("\n");
        expect(hh(n.ratings) === hh(clean.ratings), family).to.equal(true);
        expect(n.seeds, family).to.deep.equal(clean.seeds);
        expect(n.truth.attackers.size, family).to.equal(N / 10);
        for (const v of n.truth.victims) expect(n.truth.trustworthy.has(v), family).to.equal(true);
      }
    });

    it("is reproducible from its seed, and every rating is in [0, 1], in time order, between two entities", () => {
      for (const family of [...RED_ATTACKS, ...RED_HONEST]) {
        const a = net(family);
        const b = generateRedteam({ family, nodes: N, seed: SEED });
        expect(JSON.stringify(a.ratings) === JSON.stringify(b.ratings), family).to.equal(true);
        const names = new Set(a.nodes);
        const bad = a.ratings.filter(
          (r, k) => !(r.value >= 0 && r.value <= 1 && r.from !== r.to && names.has(r.to)) || (k > 0 && a.ratings[k - 1].time > r.time),
        );
        expect(bad.slice(0, 3), family).to.deep.equal([]);
      }
    });
  });

  describe("# the attacker's notes (known.ts) agree with robust.ts", () => {
    it("cusumRunUnderAlarm: k - 1 bad outcomes in a row after good ones stay under the CUSUM, the smallest k that crosses it alarms", () => {
      for (const n of [40, 80]) {
        let k = 1;
        while (k <= cusumRunUnderAlarm(n, k)) k++;
        // n distinct raters of one target in one epoch (so the dispersion test has < 3 windows), no seeds (every weight 1);
        // the CUSUM as the red team planned against it (session 10's one-change-point GLR, which they did not
        // know, flags such a run with fewer bad outcomes: glr off; so does the two-service-levels test, 3c, when on:
        // it reads the values' spread rather than a run, so serviceLevels is off here explicitly)
        const run = (bad: number) => {
          const ratings = Array.from({ length: n }, (_, x) => ({ from: `r${x}`, to: "T", value: x >= n - bad ? 0.1 : 0.9, time: x }));
          return analyze(ratings, [], new Set(), { epochSeconds: 1000, glr: false, serviceLevels: false }).detections.filter(
            (d) => d.entity === "T" && d.kind === AttackKind.OnOff,
          );
        };
        expect(run(k - 1), `n ${n}, k - 1 = ${k - 1}`).to.deep.equal([]);
        expect(run(k).length, `n ${n}, k = ${k}`).to.equal(1);
      }
    });

    it("lieBudget is the largest L with expectedZ(L) <= zMax, and grows with the rater's honest history", () => {
      for (const honest of [20, 96, 400]) {
        const L = lieBudget(honest, PLAN_P, KNOWN.z / 2);
        expect(expectedZ(L, honest, PLAN_P)).to.be.at.most(KNOWN.z / 2);
        expect(expectedZ(L + 1, honest, PLAN_P)).to.be.greaterThan(KNOWN.z / 2);
      }
      expect(lieBudget(400, PLAN_P, 2)).to.be.greaterThan(lieBudget(20, PLAN_P, 2));
    });
  });

  describe("# each attack does what it claims", () => {
    it("rt-ballot-stuff: on every boosted colluder and buried victim, colluders' ratings outnumber honest ones 3 to 1; boosted ones serve poorly", () => {
      const n = net("rt-ballot-stuff");
      const targets = [...n.truth.boosted, ...n.truth.victims];
      expect(n.truth.boosted.size).to.be.greaterThan(0);
      expect(n.truth.victims.size).to.be.greaterThan(0);
      for (const t of targets) {
        const colluders = n.ratings.filter(
          (r) => r.to === t && isAtt(n, r.from) && (n.truth.boosted.has(t) ? r.value >= 0.9 : r.value <= 0.1),
        );
        expect(colluders.length, t).to.be.at.least(3 * honestIn(n, t).length);
      }
      for (const t of n.truth.boosted) {
        const h = honestIn(n, t);
        expect(h.reduce((s, r) => s + r.value, 0) / h.length, t).to.be.below(0.5);
      }
    });

    it("rt-grey-mouth: every attacker sends 4 grey ratings a round, none a bad outcome, each below what the victims' honest raters give", () => {
      const n = net("rt-grey-mouth");
      const value = KNOWN.badBelow + GREY_MARGIN;
      const grey = n.ratings.filter((r) => isAtt(n, r.from) && n.truth.victims.has(r.to) && r.value === value);
      expect(grey.length).to.equal(4 * n.rounds * n.truth.attackers.size);
      expect(value).to.be.at.least(KNOWN.badBelow);
      const honest = n.ratings.filter((r) => !isAtt(n, r.from) && n.truth.victims.has(r.to));
      expect(honest.reduce((s, r) => s + r.value, 0) / honest.length).to.be.above(value + 0.1);
    });

    it("rt-frame: each victim gets a same-second burst from distinct attackers long enough to cross its CUSUM; no attacker exceeds its lie budget", () => {
      const n = net("rt-frame");
      expect(n.truth.victims.size).to.be.greaterThan(0);
      const lieOf = new Map<string, number>();
      for (const v of n.truth.victims) {
        // the burst: the attackers' ratings of the victim that share one second
        const byTime = new Map<number, typeof n.ratings>();
        for (const r of n.ratings) if (r.to === v && isAtt(n, r.from)) (byTime.get(r.time) ?? byTime.set(r.time, []).get(r.time)!).push(r);
        const burst = [...byTime.values()].reduce((a, b) => (b.length > a.length ? b : a));
        expect(new Set(burst.map((r) => r.from)).size, v).to.equal(burst.length);
        for (const r of burst) (expect(r.value, v).to.be.below(KNOWN.badBelow), lieOf.set(r.from, (lieOf.get(r.from) ?? 0) + 1));
        const all = n.ratings.filter((r) => r.to === v).length;
        const nb = n.ratings.filter((r) => r.to === v && r.value < KNOWN.badBelow).length;
        expect(burst.length, v).to.be.greaterThan(cusumRunUnderAlarm(all, nb));
      }
      for (const a of n.truth.attackers) {
        const lies = lieOf.get(a) ?? 0;
        const own = n.ratings.filter((r) => r.from === a).length - lies;
        expect(expectedZ(lies, own, PLAN_P), a).to.be.at.most(KNOWN.z / 2 + 0.25);
      }
    });

    it("rt-budget-liar: lies are spread (at most one per attacker per round) and each attacker's expected z stays under z/2", () => {
      const n = net("rt-budget-liar");
      for (const a of n.truth.attackers) {
        const lies = n.ratings.filter((r) => r.from === a && n.truth.victims.has(r.to) && r.value < 0.5 && r.value <= 0.1);
        const rounds = lies.map((r) => round(n, r.time));
        expect(new Set(rounds).size, a).to.equal(rounds.length);
        const own = n.ratings.filter((r) => r.from === a).length - lies.length;
        expect(lies.length, a).to.be.greaterThan(0);
        expect(expectedZ(lies.length, own, PLAN_P), a).to.be.at.most(KNOWN.z / 2 + 0.25);
      }
    });

    it("rt-onoff-cusum: bad and good phases alternate, and most attackers' received outcomes stay under the CUSUM alarm", () => {
      const n = net("rt-onoff-cusum");
      let under = 0;
      let phases = 0;
      for (const a of n.truth.attackers) {
        const rs = n.ratings.filter((r) => r.to === a);
        const bad = rs.map((r) => (r.value < KNOWN.badBelow ? 1 : 0));
        const nb = bad.reduce<number>((s, b) => s + b, 0);
        const p0 = (nb + 0.5) / (rs.length + 1);
        const p1 = Math.min(0.99, p0 + KNOWN.delta);
        const h = Math.log(Math.max(rs.length, 1) / KNOWN.alpha);
        let s = 0;
        let max = 0;
        for (const b of bad) ((s = Math.max(0, s + (b ? Math.log(p1 / p0) : Math.log((1 - p1) / (1 - p0))))), (max = Math.max(max, s)));
        if (max < h) under++;
        // per round: mostly bad or mostly good, and both kinds of round occur
        const byRound = new Map<number, number[]>();
        for (const r of rs) (byRound.get(round(n, r.time)) ?? byRound.set(round(n, r.time), []).get(round(n, r.time))!).push(r.value);
        const means = [...byRound.values()].map((vs) => vs.reduce((x, y) => x + y, 0) / vs.length);
        if (means.some((m) => m < 0.4) && means.some((m) => m > 0.6)) phases++;
      }
      expect(under / n.truth.attackers.size).to.be.at.least(0.8);
      expect(phases / n.truth.attackers.size).to.be.at.least(0.8);
    });

    it("rt-sybil-seed-court: Sybils serve seeds well and everyone else badly, and their praise outnumbers their honest raters", () => {
      const n = net("rt-sybil-seed-court");
      const mean = (rs: { value: number }[]) => rs.reduce((s, r) => s + r.value, 0) / rs.length;
      const toSybil = n.ratings.filter((r) => isAtt(n, r.to));
      expect(mean(toSybil.filter((r) => n.seeds.has(r.from)))).to.be.above(0.7);
      expect(mean(toSybil.filter((r) => !n.seeds.has(r.from) && !isAtt(n, r.from)))).to.be.below(0.35);
      // the praised Sybils: praise outnumbers honest ratings (3 to 1 planned on expectations; 2 to 1 checked on the draws)
      let carried = 0;
      for (const s of n.truth.attackers) {
        const praise = toSybil.filter((r) => r.to === s && isAtt(n, r.from)).length;
        if (praise > 0 && praise >= 2 * toSybil.filter((r) => r.to === s && !isAtt(n, r.from)).length) carried++;
      }
      expect(n.plan.praised).to.be.greaterThan(0.8 * n.truth.attackers.size);
      expect(carried).to.be.at.least(0.9 * n.plan.praised);
    });
  });

  describe("# each honest-noisy population is what it claims", () => {
    it("rt-strict-cluster: a fifth of raters give only 0.1 or 0.9", () => {
      const n = net("rt-strict-cluster");
      const by = new Map<string, Set<number>>();
      for (const r of n.ratings) (by.get(r.from) ?? by.set(r.from, new Set()).get(r.from)!).add(r.value);
      const thumbs = [...by.values()].filter((vs) => [...vs].every((v) => v === 0.1 || v === 0.9)).length;
      expect(thumbs).to.equal(n.plan.cluster);
      expect(n.truth.attackers.size).to.equal(0);
    });

    it("rt-outage: the hit providers' service collapses for 2 rounds and recovers", () => {
      const n = net("rt-outage");
      const clean = net("rt-clean");
      let hit = 0;
      for (const x of n.truth.trustworthy) {
        const rs = n.ratings.filter((r) => r.to === x);
        const cs = clean.ratings.filter((r) => r.to === x);
        if (rs.length !== cs.length) throw new Error(x);
        const dips = rs.filter((r, k) => r.value < cs[k].value - 0.3);
        if (!dips.length) continue;
        hit++;
        const rounds = new Set(dips.map((r) => round(n, r.time)));
        expect(Math.max(...rounds) - Math.min(...rounds), x).to.be.at.most(1);
      }
      expect(hit).to.be.within(0.8 * n.plan.outages, n.plan.outages);
    });

    it("rt-seasonal: ratings dip at the peak-load rounds", () => {
      const n = net("rt-seasonal");
      const at = (r: number) => n.ratings.filter((x) => round(n, x.time) === r);
      const mean = (rs: { value: number }[]) => rs.reduce((s, r) => s + r.value, 0) / rs.length;
      expect(mean(at(0)) - mean(at(4))).to.be.above(0.1);
      expect(Math.abs(mean(at(0)) - mean(at(8)))).to.be.below(0.03);
    });

    it("rt-newcomers: a quarter of the entities neither rate nor are rated before the join round", () => {
      const n = net("rt-newcomers");
      const join = n.plan.joinRound * n.roundSeconds;
      const early = new Set(n.ratings.filter((r) => r.time < join).flatMap((r) => [r.from, r.to]));
      expect(n.nodes.filter((x) => !early.has(x)).length).to.equal(n.plan.newcomers);
      const late = new Set(n.ratings.filter((r) => r.time >= join).flatMap((r) => [r.from, r.to]));
      expect(n.nodes.filter((x) => !early.has(x) && late.has(x)).length).to.be.at.least(0.9 * n.plan.newcomers);
    });
  });

  describe("# the harness", () => {
    it("reports every family apart, measures damage against the clean run, and runs each detector on a seed's clean run once", () => {
      let cleanRuns = 0;
      const d = {
        name: "flag nobody",
        run: (ratings: { value: number; to: string }[], nodes: string[]) => {
          if (!ratings.some((r) => r.to.startsWith("rt-"))) cleanRuns++;
          const sum = new Map<string, number>();
          for (const r of ratings) sum.set(r.to, (sum.get(r.to) ?? 0) + r.value);
          return { flagged: new Set<string>(), trust: new Map(nodes.map((x) => [x, Math.min(1, (sum.get(x) ?? 0) / 100)])) };
        },
      };
      const rows = runRedteam({
        nodes: 150,
        rounds: 8,
        seeds: [1, 2],
        families: ["rt-grey-mouth", "rt-frame", "rt-outage"],
        detectors: [d],
      });
      expect(rows.map((r) => [r.family, r.honestOnly])).to.deep.equal([
        ["rt-grey-mouth", false],
        ["rt-frame", false],
        ["rt-outage", true],
      ]);
      // honest-only families have no clean run; the clean run of each seed is scored once for both attack families
      expect(cleanRuns).to.equal(2 + 1 * 2);
      expect(rows[0].results["flag nobody"].mean.damage).to.be.greaterThan(0);
      expect(rows[0].results["flag nobody"].mean.detection).to.equal(0);
      expect(Number.isNaN(rows[2].results["flag nobody"].mean.damage)).to.equal(true);
    });
  });

  describe("# round 2 (session 7): the generators keep their plans", () => {
    const epochsOf = (n: RedNetwork, from: (x: string) => boolean, to: (x: string) => boolean) => {
      const m = new Map<string, Set<number>>();
      for (const r of n.ratings)
        if (from(r.from) && to(r.to)) {
          const k = `${r.from}>${r.to}`;
          (m.get(k) ?? m.set(k, new Set()).get(k)!).add(round(n, r.time));
        }
      return m;
    };
    const mean = (rs: { value: number }[]) => rs.reduce((s, r) => s + r.value, 0) / rs.length;
    /** the honest-to-honest ratings of n, between the entities honest in `of` (the attack network) */
    const hh = (n: RedNetwork, of: RedNetwork = n, keep: (r: { from: string; to: string }) => boolean = () => true) => {
      const honest = new Set(of.nodes.filter((x) => !isAtt(of, x)));
      return n.ratings
        .filter((r) => honest.has(r.from) && honest.has(r.to) && keep(r))
        .map((r) => `${r.from}>${r.to}@${r.time}=${r.value}`)
        .sort()
        .join("\n");
    };
    /** neighbourhood members of a loyal family: raters who rated 2 targets in every round */
    const loyalOf = (n: RedNetwork) => {
      const every = [
        ...epochsOf(
          n,
          () => true,
          () => true,
        ),
      ].filter(([, es]) => es.size === n.rounds);
      const per = new Map<string, string[]>();
      for (const [k] of every) {
        const [f, t] = k.split(">");
        (per.get(f) ?? per.set(f, []).get(f)!).push(t);
      }
      return per;
    };

    it("keeps the honest population: every round-2 attack family's honest-to-honest ratings are those of its clean run, and round 2 is reproducible", () => {
      for (const family of RED2_ATTACKS) {
        const n = net(family);
        const clean = net(cleanOf(family));
        expect(hh(n) === hh(clean, n), family).to.equal(true);
        expect(n.seeds, family).to.deep.equal(clean.seeds);
        expect(n.truth.attackers.size, family).to.equal(N / 10);
        for (const v of n.truth.victims) expect(n.truth.trustworthy.has(v), family).to.equal(true);
      }
      expect(cleanOf("rt-loyal-poison")).to.equal("rt-loyal");
      expect(cleanOf("rt-rotate-stuff")).to.equal("rt-clean");
      for (const family of [...RED2_ATTACKS, ...RED2_HONEST]) {
        const a = net(family);
        const b = generateRedteam({ family, nodes: N, seed: SEED });
        expect(JSON.stringify(a.ratings) === JSON.stringify(b.ratings), family).to.equal(true);
        const names = new Set(a.nodes);
        const bad = a.ratings.filter(
          (r, k) => !(r.value >= 0 && r.value <= 1 && r.from !== r.to && names.has(r.to)) || (k > 0 && a.ratings[k - 1].time > r.time),
        );
        expect(bad.slice(0, 3), family).to.deep.equal([]);
      }
      // loyal regulars change only the loyal raters' partners: everyone else rates as in rt-clean
      const loyal = loyalOf(net("rt-loyal"));
      expect(
        hh(net("rt-loyal"), undefined, (r) => !loyal.has(r.from)) === hh(net("rt-clean"), undefined, (r) => !loyal.has(r.from)),
      ).to.equal(true);
    });

    it("the attacker's notes: pBad is the Irwin-Hall tail the public generator implies, anchoredReference is robust.ts's formula", () => {
      expect(pBad(KNOWN.badBelow)).to.be.closeTo(0.5, 1e-12);
      expect(pBad(0.9)).to.be.below(0.03);
      expect(pBad(0.1)).to.be.above(0.97);
      // empirical: q + 0.4 (U1 + U2 + U3 - 1.5) < 0.5, with the repository's PRNG
      const rng = new Prng(99);
      for (const q of [0.3, 0.6, 0.75]) {
        let b = 0;
        for (let k = 0; k < 20000; k++) if (q + 0.4 * (rng.next() + rng.next() + rng.next() - 1.5) < 0.5) b++;
        expect(b / 20000, `q ${q}`).to.be.closeTo(pBad(q), 0.015);
      }
      // no seeds, a crowd of 100 all bad: counts as 3 observations, (3 + 0.5) / 4
      expect(anchoredReference(0, 0, 100, 1)).to.be.closeTo(3.5 / 4, 1e-12);
      // 5 good seed observations outweigh it
      expect(anchoredReference(5, 0, 100, 1)).to.be.closeTo(3.5 / 9, 1e-12);
    });

    it("rt-rotate-stuff: no (colluder, target) pair is rated in more than 2 epochs; colluders outnumber honest raters; the boosted serve the seeds well", () => {
      const n = net("rt-rotate-stuff");
      const targets = new Set([...n.truth.boosted, ...n.truth.victims]);
      expect(n.truth.boosted.size).to.be.greaterThan(0);
      expect(n.truth.victims.size).to.be.greaterThan(0);
      expect(n.plan.maxPairEpochs).to.equal(KNOWN.lockstepMinEpochs - 1);
      const pairs = epochsOf(
        n,
        (x) => isAtt(n, x),
        (x) => targets.has(x),
      );
      expect(Math.max(...[...pairs.values()].map((es) => es.size))).to.equal(2);
      for (const t of targets) {
        const col = n.ratings.filter((r) => r.to === t && isAtt(n, r.from));
        expect(col.length, t).to.be.greaterThan(honestIn(n, t).length);
        for (const r of col) expect(n.truth.boosted.has(t) ? r.value >= 0.9 : r.value <= 0.1, t).to.equal(true);
      }
      const toBoosted = n.ratings.filter((r) => n.truth.boosted.has(r.to) && !isAtt(n, r.from));
      expect(mean(toBoosted.filter((r) => n.seeds.has(r.from)))).to.be.above(0.7);
      expect(mean(toBoosted.filter((r) => !n.seeds.has(r.from)))).to.be.below(0.45);
      expect(n.plan.expectedZ).to.be.at.most(KNOWN.z / 2);
    });

    it("rt-frame-recur: each victim gets two same-second bursts from distinct framers, far apart, each longer than the CUSUM allows at its level", () => {
      const n = net("rt-frame-recur");
      expect(n.truth.victims.size).to.be.greaterThan(0);
      const lieOf = new Map<string, number>();
      for (const v of n.truth.victims) {
        const byTime = new Map<number, typeof n.ratings>();
        for (const r of n.ratings)
          if (r.to === v && isAtt(n, r.from) && r.value < 0.1) (byTime.get(r.time) ?? byTime.set(r.time, []).get(r.time)!).push(r);
        const bursts = [...byTime.entries()].filter(([, rs]) => rs.length > 1).sort((a, b) => a[0] - b[0]);
        expect(bursts.length, v).to.equal(2);
        expect(round(n, bursts[1][0]) - round(n, bursts[0][0]), v).to.be.at.least(n.rounds / 2);
        for (const [, rs] of bursts) {
          expect(new Set(rs.map((r) => r.from)).size, v).to.equal(rs.length);
          for (const r of rs) lieOf.set(r.from, (lieOf.get(r.from) ?? 0) + 1);
        }
        const all = n.ratings.filter((r) => r.to === v).length;
        const nb = n.ratings.filter((r) => r.to === v && r.value < KNOWN.badBelow).length;
        const [k1, k2] = bursts.map(([, rs]) => rs.length);
        // the first crosses alpha on the whole history; the second, outside the first, crosses the recurrence level
        expect(k1, v).to.be.greaterThan(cusumRunUnderAlarm(all, nb) - 2);
        expect(k2, v).to.be.greaterThan(cusumRunUnderAlarm(all - k1, nb - k1, KNOWN.recurrenceAlpha) - 2);
      }
      for (const a of n.truth.attackers) {
        const lies = lieOf.get(a) ?? 0;
        const own = n.ratings.filter((r) => r.from === a).length - lies;
        expect(expectedZ(lies, own, PLAN_P), a).to.be.at.most((3 * KNOWN.z) / 4);
      }
    });

    it("rt-onoff-masked: the on-off providers' bad share per phase is flat while the honest ratings alone swing; padders keep the bad share; no pair exceeds 2 epochs", () => {
      const n = net("rt-onoff-masked");
      const s = n.plan.badShare;
      expect(n.plan.onoff).to.be.greaterThan(0);
      // the on-off providers: attackers whose honest raters see a bad round
      const onoff = new Set(
        [...n.truth.attackers].filter((j) => {
          const per = new Map<number, number[]>();
          for (const r of honestIn(n, j)) (per.get(round(n, r.time)) ?? per.set(round(n, r.time), []).get(round(n, r.time))!).push(r.value);
          return [...per.values()].some((vs) => vs.reduce((x, y) => x + y, 0) / vs.length < 0.3);
        }),
      );
      expect(onoff.size).to.equal(n.plan.onoff);
      const pairs = epochsOf(
        n,
        (x) => isAtt(n, x),
        (x) => onoff.has(x),
      );
      const padded = n.ratings.filter((r) => isAtt(n, r.from) && onoff.has(r.to));
      for (const [k, es] of pairs) expect(es.size, k).to.be.at.most(2);
      const badShare = (rs: { value: number }[]) => rs.filter((r) => r.value < KNOWN.badBelow).length / rs.length;
      expect(badShare(padded)).to.be.closeTo(s, 0.06);
      // the bad and good rounds of each provider, from its honest raters; all ratings flat at s in both
      const all = { bad: [] as Rating[], good: [] as Rating[] };
      const honest = { bad: [] as Rating[], good: [] as Rating[] };
      for (const j of onoff) {
        const rs = n.ratings.filter((r) => r.to === j);
        const hs = rs.filter((r) => !isAtt(n, r.from));
        const rounds = new Map<number, number[]>();
        for (const r of hs) (rounds.get(round(n, r.time)) ?? rounds.set(round(n, r.time), []).get(round(n, r.time))!).push(r.value);
        const badRound = new Set([...rounds].filter(([, vs]) => vs.reduce((a, b) => a + b, 0) / vs.length < 0.5).map(([r]) => r));
        for (const r of rs) (badRound.has(round(n, r.time)) ? all.bad : all.good).push(r);
        for (const r of hs) (badRound.has(round(n, r.time)) ? honest.bad : honest.good).push(r);
      }
      expect(badShare(honest.bad)).to.be.above(0.85);
      expect(badShare(honest.good)).to.be.below(0.1);
      expect(badShare(all.bad)).to.be.closeTo(s, 0.1);
      expect(badShare(all.good)).to.be.closeTo(s, 0.1);
    });

    it("rt-loyal, rt-loyal-regional: neighbourhoods of 8 rate their 2 favourites every round; the regional favourite serves its neighbourhood worse", () => {
      const n = net("rt-loyal");
      const loyal = loyalOf(n);
      expect(loyal.size).to.be.at.least(n.plan.loyal);
      const favs = new Map<string, number>();
      for (const ts of loyal.values()) for (const t of ts) favs.set(t, (favs.get(t) ?? 0) + 1);
      expect([...favs.values()].filter((c) => c >= 8).length).to.be.at.least(2 * n.plan.neighbourhoods - 2);
      const g = net("rt-loyal-regional");
      const key = (r: Rating) => `${r.from}>${r.to}@${r.time}`;
      expect(g.ratings.map(key).join()).to.equal(n.ratings.map(key).join());
      const diff = g.ratings.filter((r, k) => r.value !== n.ratings[k].value);
      expect(diff.length).to.be.greaterThan(0);
      for (const r of diff) expect(loyal.has(r.from), r.from).to.equal(true);
      expect(mean(n.ratings.filter((r, k) => g.ratings[k].value !== r.value)) - mean(diff)).to.be.above(0.3);
    });

    it("rt-loyal-poison: from round 3 the attackers join the groups they found on the chain and pull each group's voice below 0.5 every round", () => {
      const n = net("rt-loyal-poison");
      expect(n.plan.groups).to.be.greaterThan(0);
      expect(n.truth.victims.size).to.be.greaterThan(0);
      const loyal = loyalOf(net("rt-loyal"));
      for (const v of n.truth.victims) expect(loyal.has(v), v).to.equal(true);
      // the crew's ratings carry no record set (their targets, honest, sign no receipts); interactions do
      const crewRatings = n.ratings.filter((r) => isAtt(n, r.from) && r.evidence === false);
      const poisoned = new Set(crewRatings.map((r) => r.to));
      const favs = new Set([...n.truth.victims].flatMap((v) => loyal.get(v)!));
      for (const t of poisoned) expect(favs.has(t), t).to.equal(true);
      for (const r of crewRatings) expect(r.value).to.be.at.most(0.1);
      expect(Math.min(...crewRatings.map((r) => round(n, r.time)))).to.equal(n.plan.readRounds);
      let checked = 0;
      for (const t of poisoned) {
        const members = new Set([...loyal.keys()].filter((v) => loyal.get(v)!.includes(t)));
        if (!members.size) continue;
        const crew = new Set(crewRatings.filter((r) => r.to === t).map((r) => r.from));
        for (let r0 = 3; r0 < n.rounds; r0++) {
          const voice = n.ratings.filter((r) => r.to === t && round(n, r.time) === r0 && (members.has(r.from) || crew.has(r.from)));
          expect(mean(voice), `${t} round ${r0}`).to.be.below(0.5);
          checked++;
        }
      }
      expect(checked).to.be.greaterThan(0);
    });

    it("rt-weekly-outage: the hit providers are down one round in every 8, three times in the run", () => {
      const n = net("rt-weekly-outage");
      const down = new Map<string, number[]>();
      for (const x of n.truth.trustworthy) {
        const rs = n.ratings.filter((r) => r.to === x);
        const per = new Map<number, number[]>();
        for (const r of rs) (per.get(round(n, r.time)) ?? per.set(round(n, r.time), []).get(round(n, r.time))!).push(r.value);
        const d = [...per].filter(([, vs]) => vs.length >= 2 && vs.reduce((a, b) => a + b, 0) / vs.length < 0.3).map(([r]) => r);
        if (d.length)
          down.set(
            x,
            d.sort((a, b) => a - b),
          );
      }
      const periodic = [...down.values()].filter((d) => d.length >= 2 && d.every((r) => r % 8 === d[0] % 8));
      expect(periodic.length).to.be.at.least(0.5 * n.plan.outages);
      expect(periodic.length).to.be.at.most(n.plan.outages + 2);
    });

    it("the harness measures rt-loyal-poison's damage against rt-loyal, not rt-clean", () => {
      // trust from ratings between the slots honest in both runs (the first 90%): identical between an attack family and its clean run
      const d = {
        name: "honest mean",
        run: (ratings: { from: string; value: number; to: string }[], nodes: string[]) => {
          const acc = new Map<string, number[]>();
          for (const r of ratings)
            if (/^h-\d+$/.test(r.from) && Number(r.from.slice(2)) < 135 && r.to.startsWith("h-"))
              (acc.get(r.to) ?? acc.set(r.to, []).get(r.to)!).push(r.value);
          return {
            flagged: new Set<string>(),
            trust: new Map(nodes.map((x) => [x, acc.has(x) ? mean(acc.get(x)!.map((value) => ({ value }))) : 0.5])),
          };
        },
      };
      const rows = runRedteam({ nodes: 150, rounds: 8, seeds: [1], families: ["rt-loyal-poison", "rt-rotate-stuff"], detectors: [d] });
      expect(rows.map((r) => r.honestOnly)).to.deep.equal([false, false]);
      expect(rows[0].results["honest mean"].mean.damage).to.equal(0);
      expect(rows[1].results["honest mean"].mean.damage).to.equal(0);
    });
  });
});
