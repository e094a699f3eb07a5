import { expect } from "chai";
import { averageModel, eigenTrust } from "../../offchain/sim/baselines";
import { paperSetting, runAttackSim, score } from "../../offchain/sim/attacks";
import { simulateThroughput } from "../../offchain/sim/throughput";
import type { RatingEvent } from "../../offchain/trust/detectors";

const r = (from: string, to: string, value: number): RatingEvent => ({ from, to, value, time: 0 });

describe("sim: baselines, attack simulation, RSMS throughput", () => {
  it("the average model flags entities rated below 0.5 on average", () => {
    const res = averageModel([r("a", "b", 0.9), r("c", "b", 0.7), r("a", "d", 0.1), r("c", "d", 0.6)], ["a", "b", "c", "d"]);
    expect(res.score.get("b")).to.be.closeTo(0.8, 1e-12);
    expect([...res.flagged]).to.deep.equal(["d"]);
  });

  it("EigenTrust: a probability vector; trust flows from the pre-trusted along positive opinions only", () => {
    const ratings = [
      r("p", "a", 0.9),
      r("a", "b", 0.9),
      r("b", "a", 0.8),
      r("p", "x", 0.1),
      r("a", "x", 0.2),
      r("x", "y", 0.9),
      r("y", "x", 0.9),
    ];
    const nodes = ["p", "a", "b", "x", "y"];
    const et = eigenTrust(ratings, nodes, new Set(["p"]));
    const sum = [...et.score.values()].reduce((s, v) => s + v, 0);
    expect(sum).to.be.closeTo(1, 1e-9);
    // x and y only praise each other: nobody trusted gives them anything
    expect(et.score.get("x")!).to.be.lessThan(1e-9);
    expect(et.score.get("a")!).to.be.greaterThan(0.2);
    expect(et.flagged.has("x") && et.flagged.has("y")).to.equal(true);
    expect(et.flagged.has("a")).to.equal(false);
  });

  it("scores detection, false positives and false negatives from flags", () => {
    const roles = new Map<string, "honest" | "sybil" | "onoff">([
      ["h1", "honest"],
      ["h2", "honest"],
      ["s1", "sybil"],
      ["o1", "onoff"],
    ]);
    const m = score(new Set(["h1", "s1"]), roles);
    expect(m.fpr).to.equal(0.5);
    expect(m.fnr).to.equal(0.5);
    expect(m.detection.sybil).to.equal(1);
    expect(m.detection.onoff).to.equal(0);
  });

  it("runs the attack simulation end to end on a small network (seeded, reproducible)", () => {
    const o = { ...paperSetting(120, 16), seed: 3, checkpointEvery: 4 };
    const a = runAttackSim(o);
    const b = runAttackSim(o);
    expect(a.ours).to.deep.equal(b.ours);
    expect(a.nodes).to.equal(120);
    expect(1 - a.ours.fnr).to.be.greaterThan(1 - a.average.fnr);
    expect(a.ours.fpr).to.be.lessThan(0.05);
  });

  it("throughput: no RNs joining means less service; RSMS costs (ms) barely move it (minutes of service)", () => {
    const base = { lambdaJ: 0.2, lambdaL: 0.2, a: 0.5, tMin: 3, tMax: 6, replications: 400, seed: 5 };
    const free = simulateThroughput(base);
    const withR = simulateThroughput(base, { joinMs: 150, groupMs: 200, rekeyMs: 160 });
    expect(Math.abs(free.tp - withR.tp)).to.be.lessThan(3 * Math.max(free.ci95, withR.ci95) + 0.05);
    const starved = simulateThroughput({ ...base, lambdaJ: 0.01, lambdaL: 1 });
    expect(starved.tp).to.be.lessThan(free.tp / 2);
    // expensive security (minutes per join) does cut throughput
    const slow = simulateThroughput(base, { joinMs: 5 * 60_000, groupMs: 5 * 60_000, rekeyMs: 60_000 });
    expect(slow.tp).to.be.lessThan(free.tp * 0.8);
  });
});
