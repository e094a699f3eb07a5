import { expect } from "chai";
import { FAMILIES, SPLIT, generateNetwork } from "../../offchain/trust/adversaries/generate";
import { evaluate } from "../../offchain/trust/adversaries/evaluate";
import { METATRUST } from "../../offchain/sim/adversarial";

describe("trust/adversaries: the suite and its harness (issue 15)", function () {
  this.timeout(300_000);

  it("the split keeps tune and report families and seeds apart, and covers every family", () => {
    expect(SPLIT.tuneFamilies.filter((f) => SPLIT.reportFamilies.includes(f))).to.deep.equal([]);
    expect(SPLIT.tuneSeeds.filter((s) => SPLIT.reportSeeds.includes(s))).to.deep.equal([]);
    expect(new Set([...SPLIT.tuneFamilies, ...SPLIT.reportFamilies])).to.deep.equal(new Set(["honest-noisy", ...FAMILIES]));
  });

  it("is reproducible from its seed, and the clean run of a seed shares every honest-to-honest rating", () => {
    for (const family of FAMILIES) {
      const a = generateNetwork({ family, nodes: 120, seed: 5, rounds: 8 });
      const b = generateNetwork({ family, nodes: 120, seed: 5, rounds: 8 });
      expect(JSON.stringify(a.ratings) === JSON.stringify(b.ratings), family).to.equal(true);
      const clean = generateNetwork({ family: "honest-noisy", nodes: 120, seed: 5, rounds: 8 });
      // the honest identities of the attack run (the clean run also has honest identities in the attackers' slots)
      const honestNames = new Set(a.nodes.filter((x) => x.startsWith("h-")));
      const key = (r: { from: string; to: string; value: number; time: number }) => `${r.from}>${r.to}@${r.time}=${r.value}`;
      const hh = (rs: typeof a.ratings) => rs.filter((r) => honestNames.has(r.from) && honestNames.has(r.to)).map(key);
      const mine = hh(a.ratings).sort();
      expect(mine.length, family).to.be.greaterThan(500);
      expect(mine.join("\n") === hh(clean.ratings).sort().join("\n"), family).to.equal(true);
      expect(a.seeds, family).to.deep.equal(clean.seeds);
    }
  });

  it("ground truth: 10% attacker slots, victims and seeds honest, attack starts within the run", () => {
    for (const family of FAMILIES) {
      const n = generateNetwork({ family, nodes: 200, seed: 1, rounds: 12 });
      const t = n.truth;
      if (family !== "whitewash") expect(t.attackers.size, family).to.equal(20);
      else expect(t.attackers.size).to.be.greaterThan(20);
      for (const v of t.victims) expect(t.trustworthy.has(v), family).to.equal(true);
      for (const s of n.seeds) expect(t.attackers.has(s), family).to.equal(false);
      for (const x of t.attackers) expect(t.attackStart.get(x)!, x).to.be.at.most(12 * 60);
      const bad = n.ratings.filter((r) => !(r.value >= 0 && r.value <= 1 && r.from !== r.to));
      expect(bad.slice(0, 3), family).to.deep.equal([]);
    }
  });

  it("the harness scores detection, FPR, victims and damage against the clean run", () => {
    const net = generateNetwork({ family: "collusive-ring", nodes: 160, seed: 2, rounds: 12 });
    const clean = generateNetwork({ family: "honest-noisy", nodes: 160, seed: 2, rounds: 12 });
    const everyone = {
      name: "flag everyone",
      run: (_r: unknown, nodes: string[]) => ({ flagged: new Set(nodes), trust: new Map(nodes.map((x) => [x, 0.1])) }),
    };
    const nobody = {
      name: "flag nobody",
      run: (_r: unknown, nodes: string[]) => ({ flagged: new Set<string>(), trust: new Map(nodes.map((x) => [x, 0.6])) }),
    };
    const m = evaluate(net, clean, [everyone, nobody]);
    expect(m["flag everyone"].detection).to.equal(1);
    expect(m["flag everyone"].fpr).to.equal(1);
    expect(m["flag everyone"].victimsFlagged).to.equal(1);
    expect(m["flag nobody"].detection).to.equal(0);
    expect(m["flag nobody"].fprWithVictims).to.equal(0);
    expect(m["flag nobody"].damage).to.equal(0);
    expect(m["flag nobody"].boostedAboveMedian).to.equal(0);
  });

  // Regression on the tune set only (families and seeds the detectors were tuned on).
  it("metatrust on the tune families at 300 nodes: detection >= 90% (rings, Sybil attack edges), FPR <= 5% with victims, damage <= 0.05", () => {
    for (const family of ["honest-noisy", "collusive-ring", "sybil-attack-edges"] as const) {
      const net = generateNetwork({ family, nodes: 300, seed: SPLIT.tuneSeeds[0], rounds: 24 });
      const clean = generateNetwork({ family: "honest-noisy", nodes: 300, seed: SPLIT.tuneSeeds[0], rounds: 24 });
      const ours = evaluate(net, clean, [METATRUST])[METATRUST.name];
      if (family !== "honest-noisy") {
        expect(ours.detection, family).to.be.at.least(0.9);
        expect(ours.victimsFlagged, family).to.equal(0);
        expect(ours.damage, family).to.be.at.most(0.05);
      }
      expect(ours.fprWithVictims, family).to.be.at.most(0.05);
    }
  });
});
