import { expect } from "chai";
import { AttackKind, credibilityWeightedReputation, detectMouthing, detectOnOff, detectSybils } from "../../offchain/trust/detectors";
import { generateScenario } from "../../offchain/trust/scenario";
import { InvalidParameterError } from "../../offchain/errors";

function scenario(seed: number) {
  return generateScenario({ nodes: 80, sybils: 6, onOff: 4, badMouthers: 4, goodMouthers: 4, rounds: 40 }, seed);
}

describe("trust/detectors on scripted attackers", () => {
  for (const seed of [1, 2, 3]) {
    describe(`# scenario seed ${seed}`, () => {
      const s = scenario(seed);
      const ofRole = (r: string) => s.nodes.filter((n) => s.roles.get(n) === r);

      it("Sybil: propagation from trusted seeds (Eq. 37, corrected flag) catches every Sybil, no honest node", () => {
        const { detections } = detectSybils(s.ratings, s.nodes, s.seeds);
        const flagged = new Set(detections.map((d) => d.entity));
        for (const n of ofRole("sybil")) expect(flagged.has(n), n).to.equal(true);
        expect(ofRole("honest").filter((n) => flagged.has(n))).to.deep.equal([]);
      });

      it("Sybil: the dual evaluation with the affiliated controller's reputation flags the whole cluster", () => {
        const { detections } = detectSybils(s.ratings, s.nodes, s.seeds, {
          affiliation: s.affiliation,
          affiliateReputation: (a) => (a === "sybil-controller" ? 0.1 : 0.9),
          theta: 0,
        });
        const viaAffiliate = detections.filter((d) => d.reason.includes("affiliate")).map((d) => d.entity);
        expect(new Set(viaAffiliate)).to.deep.equal(new Set(ofRole("sybil")));
      });

      it("on-off: windowed reassessment with forgetting catches every on-off attacker, no honest node", () => {
        const raters = new Set(s.nodes.filter((n) => s.roles.get(n) === "honest"));
        const d = detectOnOff(s.ratings, { raters });
        const flagged = new Set(d.map((x) => x.entity));
        for (const n of ofRole("onoff")) expect(flagged.has(n), n).to.equal(true);
        expect(ofRole("honest").filter((n) => flagged.has(n))).to.deep.equal([]);
        for (const x of d) expect(x.detectedAt).to.be.a("number");
      });

      it("good- and bad-mouthing: Eq. 36 agreement ratio names the mouthers with the right kind", () => {
        const sybils = new Set(detectSybils(s.ratings, s.nodes, s.seeds).detections.map((d) => d.entity));
        const reference = new Set(s.nodes.filter((n) => !sybils.has(n)));
        const { detections, credibility } = detectMouthing(s.ratings, { period: 600, reference });
        const kind = new Map(detections.map((d) => [d.entity, d.kind]));
        for (const n of ofRole("badmouth")) expect(kind.get(n), n).to.equal(AttackKind.BadMouthing);
        for (const n of ofRole("goodmouth")) expect(kind.get(n), n).to.equal(AttackKind.GoodMouthing);
        expect(ofRole("honest").filter((n) => kind.has(n))).to.deep.equal([]);
        // credibility-weighted feedback restores the victims' reputation
        const plain = credibilityWeightedReputation(s.ratings, new Map());
        const weighted = credibilityWeightedReputation(s.ratings, credibility);
        const honest = ofRole("honest");
        const gain = honest.reduce((a, n) => a + (weighted.get(n)! - plain.get(n)!), 0) / honest.length;
        expect(gain).to.be.greaterThan(0);
      });
    });
  }

  it("rejects bad options", () => {
    expect(() => detectSybils([], ["a"], new Set(), { k: 0 })).to.throw(InvalidParameterError);
    expect(() => detectOnOff([], { window: 0 })).to.throw(InvalidParameterError);
  });
});
