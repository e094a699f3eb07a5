/**
 * Point 3c of offchain/trust/robust.ts (session 15, off by default; docs/specs/trust.md §4): two service
 * levels, recurring. Per provider, the spread of its strictness-corrected, peer-normalized values received in
 * units of the population's noise, the smaller of its two halves in time, against a provider at one level
 * with that noise (Monte Carlo), flagged on-off at 0.001 per provider.
 */
import { expect } from "chai";
import { analyze } from "../../offchain/trust/robust";
import { AttackKind } from "../../offchain/trust/detectors";
import { generateNetwork } from "../../offchain/trust/adversaries/generate";
import { generateRedteam } from "../../offchain/trust/adversaries/redteam/generate";

const levels = (ds: { entity: string; kind: number; reason: string }[]) =>
  new Set(ds.filter((d) => d.kind === AttackKind.OnOff && d.reason.startsWith("two service levels")).map((d) => d.entity));

describe("trust/robust: two service levels, recurring (point 3c, off by default)", function () {
  this.timeout(600_000);

  it("on-off under the window (tune seed 1, 500 nodes): most attackers flagged with it, few without", () => {
    const net = generateNetwork({ family: "onoff-under-window", nodes: 500, seed: 1 });
    const on = analyze(net.ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds, serviceLevels: true });
    const off = analyze(net.ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds });
    const att = [...net.truth.attackers];
    const fOn = new Set(on.detections.map((d) => d.entity));
    const fOff = new Set(off.detections.map((d) => d.entity));
    const caught = att.filter((x) => fOn.has(x)).length;
    const caughtOff = att.filter((x) => fOff.has(x)).length;
    expect(caught, `${caught} of ${att.length} with 3c, ${caughtOff} without`).to.be.at.least(0.75 * att.length);
    expect(caughtOff, `${caughtOff} without`).to.be.below(0.5 * att.length);
    expect(levels(off.detections).size, "3c is off by default").to.equal(0);
    const d = on.detections.find((x) => x.reason.startsWith("two service levels"))!;
    const e = d.evidence as { pValue: number; threshold: number; halves: number[]; value: number };
    expect(e.pValue).to.be.at.most(e.threshold);
    expect(e.value).to.equal(Math.min(...e.halves));
  });

  it("a stationary honest population (honest-noisy, seeds 1-2): at most 2 trustworthy providers flagged by 3c, and says what it does to honest-bad ones", () => {
    for (const seed of [1, 2]) {
      const net = generateNetwork({ family: "honest-noisy", nodes: 500, seed });
      const f = levels(analyze(net.ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds, serviceLevels: true }).detections);
      const honest = [...f].filter((x) => net.truth.trustworthy.has(x));
      expect(honest.length, `seed ${seed}: ${honest.join(", ")}`).to.be.at.most(2);
      const bad = [...f].filter((x) => net.truth.honestBad.has(x));
      expect(bad.length, `seed ${seed}: honest-bad providers flagged: ${bad.join(", ")}`).to.be.at.most(1);
    }
  });

  it("one outage that recovers is in one half only: rt-outage (seed 1) providers are not flagged by 3c", () => {
    const net = generateRedteam({ family: "rt-outage", nodes: 500, seed: 1 });
    const f = levels(analyze(net.ratings, net.nodes, net.seeds, { epochSeconds: net.roundSeconds, serviceLevels: true }).detections);
    const honest = [...f].filter((x) => net.truth.trustworthy.has(x));
    expect(honest.length, honest.join(", ")).to.be.at.most(2);
  });
});
