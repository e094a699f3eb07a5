import { expect } from "chai";
import { analyze } from "../../offchain/trust/robust";
import { withIdentityLayer } from "../../offchain/trust/identity-layer";
import { generateNetwork } from "../../offchain/trust/adversaries/generate";
import * as F from "../../offchain/trust/fixed";
import { whitewashStudy } from "../../offchain/sim/whitewash";

/** The deployed model's factors, read from the on-chain model's mirror. */
const b = F.fromWad(F.DEFAULT_MODEL.baseline);
const u = F.fromWad(F.DEFAULT_MODEL.unverifiedFactor);
const f = F.fromWad(F.DEFAULT_MODEL.flaggedFactor);

describe("identity layer on effective trust (offchain/trust/identity-layer.ts)", () => {
  describe("# withIdentityLayer", () => {
    it("leaves a verified identity's beta reputation as robust.analyze computes it", () => {
      const net = generateNetwork({ family: "honest-noisy", nodes: 200, seed: 7, rounds: 8 });
      const a = analyze(net.ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds });
      const t = withIdentityLayer(a.support, { verified: new Set(net.nodes) });
      for (const n of net.nodes) expect(t.get(n)).to.be.closeTo(a.trust.get(n)!, 1e-12);
    });

    it("starts an unrated unverified identity where TrustManager.trustOf starts a stranger (b·u·f), flagged or not", () => {
      const support = new Map([
        ["fresh", { value: 0, weight: 0, flagged: false }],
        ["fresh-flagged", { value: 0, weight: 0, flagged: true }],
      ]);
      const t = withIdentityLayer(support, { verified: new Set() });
      const stranger = F.fromWad(F.effectiveTrust(F.DEFAULT_MODEL, { trust: 0n, updatedAt: 0n, ratings: 0, oracle: 0n }, 0n, false, false));
      expect(t.get("fresh")).to.be.closeTo(stranger, 1e-12);
      expect(t.get("fresh")).to.be.closeTo(b * u * f, 1e-12);
      expect(t.get("fresh-flagged")).to.be.closeTo(b * u * f * f, 1e-12);
    });

    it("keeps an unverified identity below u whatever its evidence, and below the verified one with the same evidence", () => {
      for (const [value, weight] of [
        [0, 0],
        [9, 10],
        [1000, 1000],
        [0, 50],
      ]) {
        const s = new Map([
          ["x", { value, weight, flagged: false }],
          ["y", { value, weight, flagged: false }],
        ]);
        const t = withIdentityLayer(s, { verified: new Set(["y"]) });
        expect(t.get("x")!).to.be.lessThan(u);
        expect(t.get("x")!).to.be.lessThan(t.get("y")!);
      }
    });

    it("refuses a factor outside [0, 1], naming it", () => {
      const s = new Map([["x", { value: 0, weight: 0, flagged: false }]]);
      expect(() => withIdentityLayer(s, { verified: new Set(), unverifiedFactor: 1.5 })).to.throw(
        "withIdentityLayer: unverifiedFactor must be in [0, 1], got 1.5",
      );
      expect(() => withIdentityLayer(s, { verified: new Set(), baseline: NaN })).to.throw("withIdentityLayer: baseline");
      expect(() => withIdentityLayer(s, { verified: new Set(), flaggedFactor: -0.1 })).to.throw("withIdentityLayer: flaggedFactor");
    });
  });

  describe("# whitewashers (the adversary suite's family, a small network)", () => {
    it("marks every honest identity and each whitewasher's first identity verified, never a fresh one", () => {
      const net = generateNetwork({ family: "whitewash", nodes: 200, seed: 5, rounds: 12 });
      for (const h of net.truth.trustworthy) expect(net.verified!.has(h)).to.equal(true);
      const fresh = [...net.truth.attackers].filter((x) => !x.endsWith(".0"));
      expect(fresh.length).to.be.greaterThan(0);
      for (const x of fresh) expect(net.verified!.has(x)).to.equal(false);
    });

    it("no fresh identity reaches Trust_min with the layer; without it some do", () => {
      const net = generateNetwork({ family: "whitewash", nodes: 200, seed: 5, rounds: 12 });
      const a = analyze(net.ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds });
      const t = withIdentityLayer(a.support, { verified: net.verified! });
      const fresh = [...net.truth.attackers].filter((x) => !x.endsWith(".0"));
      expect(fresh.filter((x) => a.trust.get(x)! >= 0.5).length).to.be.greaterThan(0);
      expect(fresh.filter((x) => t.get(x)! >= 0.5)).to.deep.equal([]);
    });
  });

  describe("# honest newcomers in the suite (generateNetwork's newcomers option)", () => {
    it("leaves every network unchanged when off (the committed figures stay reproducible)", () => {
      for (const family of ["honest-noisy", "whitewash", "camouflage"] as const) {
        const a = generateNetwork({ family, nodes: 150, seed: 3, rounds: 8 });
        const b = generateNetwork({ family, nodes: 150, seed: 3, rounds: 8, newcomers: 0, freshIdentities: true });
        expect(JSON.stringify(b.ratings) === JSON.stringify(a.ratings), family).to.equal(true);
        expect([...b.verified!]).to.deep.equal([...a.verified!]);
        expect(b.newcomers).to.equal(undefined);
      }
    });

    it("a newcomer rates and is rated only between its join and its leave; some are unverified, none is a seed", () => {
      const net = generateNetwork({ family: "whitewash", nodes: 300, seed: 1, rounds: 16, newcomers: 0.3 });
      const nc = net.newcomers!;
      const unverified = [...nc].filter(([, x]) => !x.verified);
      expect(unverified.length).to.be.greaterThan(5);
      expect(nc.size - unverified.length).to.be.greaterThan(5);
      expect([...nc].filter(([, x]) => x.leave < net.rounds).length).to.be.greaterThan(5);
      for (const [n, x] of nc) {
        expect(net.seeds.has(n)).to.equal(false);
        expect(net.verified!.has(n)).to.equal(x.verified);
        expect(net.truth.attackers.has(n)).to.equal(false);
      }
      let seen = 0;
      for (const r of net.ratings)
        for (const id of [r.from, r.to]) {
          const x = nc.get(id);
          if (!x) continue;
          seen++;
          const round = Math.floor(r.time / net.roundSeconds);
          expect(round >= x.join && round < x.leave, `${id} at round ${round}`).to.equal(true);
        }
      expect(seen).to.be.greaterThan(100);
    });

    it("with newcomers, the clean run of a seed shares every honest-to-honest rating; without whitewashing, one identity per attacker", () => {
      const o = { nodes: 200, seed: 2, rounds: 12, newcomers: 0.2 };
      const net = generateNetwork({ ...o, family: "whitewash" });
      const clean = generateNetwork({ ...o, family: "honest-noisy" });
      const same = generateNetwork({ ...o, family: "whitewash", freshIdentities: false });
      const key = (r: { from: string; to: string; value: number; time: number }) => `${r.from}>${r.to}@${r.time}=${r.value}`;
      const hh = (rs: typeof net.ratings) => rs.filter((r) => r.from.startsWith("h-") && r.to.startsWith("h-")).map(key);
      const honestNames = new Set(net.nodes.filter((x) => x.startsWith("h-")));
      const mine = hh(net.ratings).sort();
      expect(
        mine.join("\n") ===
          hh(clean.ratings.filter((r) => honestNames.has(r.from) && honestNames.has(r.to)))
            .sort()
            .join("\n"),
      ).to.equal(true);
      expect(clean.newcomers).to.deep.equal(net.newcomers);
      for (const lives of same.lives!.values()) expect(lives.length).to.equal(1);
      // the same services, under the first identity's name
      const strip = (x: string) => x.replace(/\.\d+$/, "");
      expect(same.ratings.map((r) => `${strip(r.from)}>${strip(r.to)}@${r.time}=${r.value}`)).to.deep.equal(
        net.ratings.map((r) => `${strip(r.from)}>${strip(r.to)}@${r.time}=${r.value}`),
      );
    });

    it("refuses a newcomer share outside [0, 1], naming it", () => {
      expect(() => generateNetwork({ family: "whitewash", nodes: 100, seed: 1, newcomers: 1.5 })).to.throw(
        "generateNetwork: newcomers must be in [0, 1], got 1.5",
      );
      expect(() => generateNetwork({ family: "whitewash", nodes: 100, seed: 1, newcomers: 0.2, newcomersUnverified: -1 })).to.throw(
        "generateNetwork: newcomersUnverified",
      );
    });
  });

  describe("# does whitewashing pay? (offchain/sim/whitewash.ts, computed on a small network, tune seed 2)", function () {
    this.timeout(120_000);
    let study: ReturnType<typeof whitewashStudy>;
    before(() => {
      study = whitewashStudy({ nodes: 200, seed: 2, rounds: 12 });
    });

    it("with the identity layer, a fresh identity starts below what the whitewasher sheds and is never in standing", () => {
      const L = study.rules["identity layer"];
      expect(L.freshStart).to.be.closeTo(b * u * f, 1e-12);
      expect(L.freshStart).to.be.lessThan(L.shedEnd);
      expect(L.freshInStanding).to.equal(0);
    });

    it("with the identity layer, whitewashing delivers fewer bad services in standing than keeping the identity; on behaviour only, more", () => {
      const L = study.rules["identity layer"];
      const B = study.rules["behaviour only"];
      expect(L.badInStandingWith).to.be.lessThan(L.badInStandingWithout);
      expect(L.paysInStanding).to.equal(0);
      expect(B.badInStandingWith).to.be.greaterThan(B.badInStandingWithout);
      expect(B.freshInStanding).to.be.greaterThan(0.5);
    });

    it("the rule's honest cost: unverified honest newcomers never reach Trust_min, verified ones do", () => {
      const L = study.rules["identity layer"];
      expect(study.newcomers.unverified).to.be.greaterThan(5);
      expect(L.newcomersToTrustMin.unverified.reached).to.equal(0);
      expect(L.newcomersToTrustMin.verified.reached).to.be.greaterThan(0.8);
      expect(study.rules["behaviour only"].newcomersToTrustMin.unverified.reached).to.be.greaterThan(0.8);
    });

    it("the identity facts alone are no detector once honest newcomers are unverified too", () => {
      expect(study.identityFacts.fpr).to.be.greaterThan(0.05);
    });
  });
});
