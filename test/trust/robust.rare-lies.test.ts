/**
 * Point 2d of offchain/trust/robust.ts (session 15, docs/specs/trust.md §4): rare extreme lies. Per rater, the
 * count of its very low ratings (below 0.2 on its own scale; a binary rater's downs) of targets the
 * seed-anchored reference finds good, against the exact tail of the beta-binomials of the others' share below
 * the rater's bar, at 0.001 per rater.
 */
import { expect } from "chai";
import { analyze } from "../../offchain/trust/robust";
import { AttackKind } from "../../offchain/trust/detectors";
import { generateNetwork } from "../../offchain/trust/adversaries/generate";
import { generateRedteam } from "../../offchain/trust/adversaries/redteam/generate";

const rareLies = (ds: { entity: string; kind: number; reason: string }[]) =>
  ds.filter((d) => d.kind === AttackKind.BadMouthing && d.reason.includes("rare extreme lies")).map((d) => d.entity);

describe("trust/robust: rare extreme lies (point 2d)", function () {
  this.timeout(600_000);

  it("camouflaged raters (the suite's family, tune seed 1, 500 nodes) are flagged; without 2d most are not", () => {
    const net = generateNetwork({ family: "camouflage", nodes: 500, seed: 1 });
    const on = analyze(net.ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds });
    const off = analyze(net.ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds, extremeLies: false });
    const att = [...net.truth.attackers];
    const flaggedOn = new Set(on.detections.map((d) => d.entity));
    const flaggedOff = new Set(off.detections.map((d) => d.entity));
    const caught = att.filter((x) => flaggedOn.has(x)).length;
    const caughtOff = att.filter((x) => flaggedOff.has(x)).length;
    expect(caught, `${caught} of ${att.length} with 2d, ${caughtOff} without`).to.be.at.least(0.9 * att.length);
    expect(caughtOff, `${caughtOff} of ${att.length} without 2d`).to.be.below(0.6 * att.length);
    // 2d itself flags no trustworthy honest rater here
    const honest2d = rareLies(on.detections).filter((x) => net.truth.trustworthy.has(x));
    expect(honest2d, "trustworthy raters flagged by 2d").to.deep.equal([]);
    // a flag says what to recompute: the count, its expectation and the per-target shares
    const d = on.detections.find((x) => x.reason.includes("rare extreme lies"))!;
    const e = d.evidence as { count: number; expected: number; value: number; threshold: number; perTarget: unknown[] };
    expect(e.count - e.expected).to.be.at.least(2.5);
    expect(e.value).to.be.at.most(e.threshold);
    expect(e.perTarget.length).to.be.greaterThan(0);
  });

  it("honest populations: no rater is flagged by 2d (honest-noisy and rt-strict-cluster's thumbs raters, seeds 1-2, 500 nodes)", () => {
    for (const seed of [1, 2]) {
      const nets = [
        generateNetwork({ family: "honest-noisy", nodes: 500, seed }),
        generateRedteam({ family: "rt-strict-cluster", nodes: 500, seed }),
      ];
      for (const net of nets) {
        const a = analyze(net.ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds });
        expect(rareLies(a.detections), `${net.family} seed ${seed}`).to.deep.equal([]);
      }
    }
  });

  it("honest raters whose few very low ratings fall on providers' outages (rt-weekly-outage, seed 2): none flagged at 0.001, at most 3 of 460 at 0.01", () => {
    const net = generateRedteam({ family: "rt-weekly-outage", nodes: 500, seed: 2 });
    const at = (genericAlpha: number) =>
      rareLies(analyze(net.ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds, genericAlpha }).detections).filter((x) =>
        net.truth.trustworthy.has(x),
      );
    expect(at(0.001)).to.deep.equal([]);
    const loose = at(0.01);
    expect(loose.length, loose.join(", ")).to.be.at.most(3);
  });

  it("a provider that serves the seeds well and everyone else badly (rt-sybil-seed-court, seeds 1-2): its honest raters are not flagged (disputed targets are not read)", () => {
    for (const seed of [1, 2]) {
      const net = generateRedteam({ family: "rt-sybil-seed-court", nodes: 500, seed });
      const a = analyze(net.ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds });
      expect(
        rareLies(a.detections).filter((x) => !net.truth.attackers.has(x)),
        `seed ${seed}`,
      ).to.deep.equal([]);
    }
  });

  it("refuses a level or a bound out of range, naming the option", () => {
    expect(() => analyze([], [], new Set(), { genericAlpha: 0 })).to.throw(/genericAlpha/);
    expect(() => analyze([], [], new Set(), { genericAlpha: 1 })).to.throw(/genericAlpha/);
    expect(() => analyze([], [], new Set(), { extremeLow: 0.7 })).to.throw(/extremeLow/);
    expect(() => analyze([], [], new Set(), { extremeLow: 0 })).to.throw(/extremeLow/);
  });
});
