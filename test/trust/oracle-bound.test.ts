/**
 * The oracle bound (offchain/trust/adversaries/oracle-bound.ts): its likelihoods are the generator's
 * (they integrate to 1, and the generator's satisfactions are uniform under their distribution), its
 * test reaches about 100% where the attacker is obvious and about the FPR where attackers behave
 * exactly like honest identities, and it is at least as powerful as a simple statistic on the suite.
 */
import { expect } from "chai";
import { generateNetwork } from "../../offchain/trust/adversaries/generate";
import {
  attackerProviderLogLik,
  cdfZ,
  honestProviderLogLik,
  MODELS,
  oracleScores,
  pdfZ,
  Q_GRID,
  raterLogLR,
  roc,
  servicesOf,
  simpleScores,
  valueLik,
  whitewashBadRounds,
  type ProviderModel,
  type RatingObs,
  type ServiceObs,
} from "../../offchain/trust/adversaries/oracle-bound";
import { Prng } from "../../offchain/util/prng";

const clip = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
/** The generator's noise: Irwin-Hall of three uniforms, sd 1. */
const z3 = (r: Prng) => (r.next() + r.next() + r.next() - 1.5) * 2;
const sat = (r: Prng, q: number) => clip(q + 0.2 * z3(r));
/** A trustworthy honest quality, from the suite's prior given q >= 0.5. */
const honestQ = (r: Prng) => (r.next() < 0.8 / 0.92 ? 0.75 + 0.23 * r.next() : 0.5 + 0.25 * r.next());

/** Services of one identity, `perRound` a round over `rounds` rounds, served at quality q(round). */
function services(r: Prng, rounds: number, perRound: number, q: (round: number) => number): ServiceObs[] {
  const out: ServiceObs[] = [];
  for (let round = 0; round < rounds; round++)
    for (let k = 0; k < perRound; k++) {
      const s = sat(r, q(round));
      out.push({ round, sat: s, value: s, offset: 0 });
    }
  return out;
}
const llr = (o: ServiceObs[], rounds: number, m: ProviderModel) =>
  attackerProviderLogLik(o, rounds, m, "sat") - honestProviderLogLik(o, "sat");

describe("trust/adversaries/oracle-bound", function () {
  this.timeout(120_000);

  it("the noise density integrates to its distribution function", () => {
    let acc = 0;
    let worst = 0;
    const h = 1e-3;
    for (let z = -3; z < 3; z += h) {
      acc += pdfZ(z + h / 2) * h;
      worst = Math.max(worst, Math.abs(acc - cdfZ(z + h)));
    }
    expect(worst).to.be.below(1e-4);
    expect(cdfZ(-3)).to.equal(0);
    expect(cdfZ(3)).to.equal(1);
  });

  it("a rating value's likelihood sums to 1 (masses at 0, 1, s and 1 + s, density between)", () => {
    for (const qm of [0.1, 0.5, 0.9])
      for (const s of [-0.15, 0, 0.1]) {
        let total = valueLik(0, qm, s) + valueLik(1, qm, s);
        if (s > 0) total += valueLik(s, qm, s);
        if (s < 0) total += valueLik(1 + s, qm, s);
        const n = 20_000;
        for (let k = 0; k < n; k++) {
          const v = (k + 0.5) / n;
          if (v !== s && v !== 1 + s) total += valueLik(v, qm, s, false) / n;
        }
        expect(total, `qm ${qm}, s ${s}`).to.be.closeTo(1, 2e-3);
      }
  });

  it("the suite's satisfactions are distributed as the oracle says (uniform under its distribution function)", () => {
    const net = generateNetwork({ family: "onoff-random", nodes: 200, seed: 1, latent: true });
    const u: number[] = [];
    const rng = new Prng(5);
    let misaligned = 0;
    net.latent!.forEach((l, k) => {
      const r = net.ratings[k];
      // the latent entries follow their ratings: an honest rating is its satisfaction plus its rater's offset
      if (!Number.isNaN(l.offset) && r.value !== clip(l.sat + l.offset)) misaligned++;
      if (Number.isNaN(l.sat)) return;
      // randomized probability integral transform (a clipped satisfaction: uniform over its mass)
      const lo = cdfZ((0 - l.qm) / 0.2);
      const hi = cdfZ((1 - l.qm) / 0.2);
      u.push(l.sat === 0 ? lo * rng.next() : l.sat === 1 ? hi + (1 - hi) * rng.next() : cdfZ((l.sat - l.qm) / 0.2));
    });
    expect(misaligned).to.equal(0);
    u.sort((a, b) => a - b);
    // Kolmogorov-Smirnov distance to U(0, 1): about 1.36 / sqrt(n) at 5%
    let d = 0;
    u.forEach((x, k) => (d = Math.max(d, Math.abs(x - (k + 0.5) / u.length))));
    expect(u.length).to.be.above(5000);
    expect(d).to.be.below(2 / Math.sqrt(u.length));
  });

  it("roc: the threshold that at most alpha of the honest exceed, and the attackers above it", () => {
    const honest = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const pts = roc(honest, [8.5, 9.5, 3.5, -Infinity], [0, 0.1, 0.25]);
    expect(pts.map((p) => p.threshold)).to.deep.equal([9, 8, 7]);
    expect(pts.map((p) => p.fpr)).to.deep.equal([0, 0.1, 0.2]);
    expect(pts.map((p) => p.detection)).to.deep.equal([0.25, 0.5, 0.5]);
    expect(() => roc([], [1], [0.05])).to.throw(/needs honest and attacker/);
  });

  it("an obvious attacker (always bad in its bad phases) is found ~100% at FPR 5%", () => {
    const r = new Prng(7);
    const m: ProviderModel = { kind: "periodic", period: 12, badLen: 6, pBad: 1 };
    const honest = Array.from({ length: 400 }, () => {
      const q = honestQ(r);
      return llr(
        services(r, 24, 2, () => q),
        24,
        m,
      );
    });
    const attackers = Array.from({ length: 400 }, () => {
      const phase = r.int(12);
      return llr(
        services(r, 24, 2, (round) => ((round + phase) % 12 >= 6 ? 0.1 : 0.9)),
        24,
        m,
      );
    });
    expect(roc(honest, attackers, [0.05])[0].detection).to.be.at.least(0.99);
  });

  it("attackers who behave exactly like honest identities are found at about the FPR, on either channel", () => {
    const r = new Prng(11);
    for (const m of [MODELS["onoff-under-window"], MODELS["onoff-random"]]) {
      const draw = () => {
        const q = honestQ(r);
        return llr(
          services(r, 24, 2, () => q),
          24,
          m,
        );
      };
      const honest = Array.from({ length: 1500 }, draw);
      const attackers = Array.from({ length: 1500 }, draw);
      // at most 5% of the honest are flagged (fewer where scores tie at the threshold, e.g. -Infinity:
      // no bad-quality service at all is impossible for an attacker of that model); the attackers alike
      const p = roc(honest, attackers, [0.05])[0];
      expect(p.fpr, m.kind).to.be.at.most(0.05);
      expect(p.detection, m.kind).to.be.closeTo(p.fpr, 0.025);
      expect(p.detection, m.kind).to.be.at.most(0.075);
    }
    // rater channel: honest raters labelled camouflagers
    const rater = (): RatingObs[] => {
      const s = -0.2 + 0.35 * r.next();
      return Array.from({ length: 60 }, () => {
        const qm = r.next() < 0.92 ? honestQ(r) : 0.1 + 0.35 * r.next();
        return { value: clip(sat(r, qm) + s), qm };
      });
    };
    const model = { kind: "camouflage", pLie: 0.2, liesBelow: 0.2 } as const;
    const honest = Array.from({ length: 1500 }, () => raterLogLR(rater(), model));
    const attackers = Array.from({ length: 1500 }, () => raterLogLR(rater(), model));
    const p = roc(honest, attackers, [0.05])[0];
    expect(p.fpr).to.be.within(0.03, 0.05);
    expect(p.detection).to.be.closeTo(p.fpr, 0.025);
  });

  it("a rater who lies on every good outcome is found ~100%; one who never lies is not", () => {
    const r = new Prng(13);
    const model = { kind: "camouflage", pLie: 0.2, liesBelow: 0.2 } as const;
    const rater = (pLie: number): RatingObs[] =>
      Array.from({ length: 60 }, () => {
        const qm = honestQ(r);
        const x = sat(r, qm);
        return { value: x >= 0.5 && r.next() < pLie ? 0.2 * r.next() : clip(x - 0.2 + 0.35 * r.next()), qm };
      });
    const honest = Array.from({ length: 500 }, () => raterLogLR(rater(0), model));
    expect(
      roc(
        honest,
        Array.from({ length: 500 }, () => raterLogLR(rater(1), model)),
        [0.05],
      )[0].detection,
    ).to.be.at.least(0.99);
  });

  it("on the suite, the oracle is at least as powerful as a simple statistic (Neyman-Pearson), and refuses a network without latent values", () => {
    for (const family of ["onoff-under-window", "whitewash"] as const) {
      const net = generateNetwork({ family, nodes: 400, seed: 2, latent: true });
      const [oracle] = oracleScores(net, family, ["sat"]);
      const simple = simpleScores(net, family);
      for (const alpha of [0.01, 0.05]) {
        const o = roc(oracle.honest, oracle.attackers, [alpha])[0].detection;
        const s = roc(simple.honest, simple.attackers, [alpha])[0].detection;
        expect(o, `${family} at ${alpha}`).to.be.at.least(s);
      }
    }
    expect(() => servicesOf(generateNetwork({ family: "camouflage", nodes: 100, seed: 1 }))).to.throw(/latent: true/);
  });

  it("a whitewash identity's bad rounds are the last two of its 6-round life, cut at the run's ends", () => {
    expect([...whitewashBadRounds({ first: 6, last: 11 }, 24)]).to.deep.equal([10, 11]);
    expect([...whitewashBadRounds({ first: 0, last: 2 }, 24)]).to.deep.equal([1, 2]); // life started at round -3
    expect([...whitewashBadRounds({ first: 0, last: 0 }, 24)]).to.deep.equal([0]); // started at -5
    expect([...whitewashBadRounds({ first: 22, last: 23 }, 24)]).to.deep.equal([]); // its bad rounds would be 26-27
  });

  it("the honest quality grid is the trustworthy prior (weights sum to 1, 80 : 12 above and below 0.75)", () => {
    const total = Q_GRID.reduce((s, [, w]) => s + w, 0);
    const high = Q_GRID.filter(([q]) => q >= 0.75).reduce((s, [, w]) => s + w, 0);
    expect(total).to.be.closeTo(1, 1e-12);
    expect(high).to.be.closeTo(0.8 / 0.92, 1e-12);
  });
});
