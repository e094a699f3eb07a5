import { expect } from "chai";
import { analyze } from "../../offchain/trust/robust";
import { withIdentityLayer } from "../../offchain/trust/identity-layer";
import { generateNetwork } from "../../offchain/trust/adversaries/generate";
import * as F from "../../offchain/trust/fixed";

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
});
