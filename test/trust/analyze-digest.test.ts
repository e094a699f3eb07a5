import { expect } from "chai";
import fs from "fs";
import path from "path";
import { DIGEST_CASES, caseName, runCase, analysisDigest, canonical } from "./fixtures/analysis-digest";

/**
 * `analyze` (offchain/trust/robust.ts) gives, to the last bit, what it gave before session 23 made it faster
 * (typed scratch arrays instead of Maps in the filter rounds and the rare-extreme-lies test, the change tests'
 * outcomes as typed arrays and their per-window counts computed once): on every suite family at 500 nodes on
 * a tune and a report seed, the whitewash study's networks (with newcomers) and two of its prefixes, option
 * variants, and a 2,000-node study network. The digests (fixtures/analysis-digests.json) were computed with
 * the code before the change, over everything `analyze` returns (fixtures/analysis-digest.ts: every number's
 * 64 bits, every Map's order).
 */
const FIXTURE = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "analysis-digests.json"), "utf8")) as {
  digests: Record<string, string>;
};

describe("analyze: the same output to the bit as before the speed-ups (differential, against committed digests)", function () {
  this.timeout(30 * 60_000);

  it("the fixture has a digest for every case, and only for them", () => {
    expect(Object.keys(FIXTURE.digests).sort()).to.deep.equal(DIGEST_CASES.map(caseName).sort());
  });

  it("the digest sees the last bit of a number, -0, NaN and a Map's order", () => {
    const trust = (a: number, b: number, aFirst = true) => {
      const m = new Map<string, number>();
      if (aFirst) m.set("a", a);
      m.set("b", b);
      if (!aFirst) m.set("a", a);
      return canonical({ trust: m });
    };
    const base = trust(0.1 + 0.2, 1);
    expect(trust(0.30000000000000004, 1)).to.equal(base);
    expect(trust(0.3, 1)).to.not.equal(base); // one ulp below 0.1 + 0.2
    expect(trust(0.1 + 0.2, 1 + Number.EPSILON)).to.not.equal(base);
    expect(trust(0.1 + 0.2, 1, false)).to.not.equal(base);
    expect(canonical([-0])).to.not.equal(canonical([0]));
    expect(canonical([NaN])).to.not.equal(canonical([null]));
  });

  for (const c of DIGEST_CASES)
    it(caseName(c), () => {
      expect(analysisDigest(runCase(c))).to.equal(FIXTURE.digests[caseName(c)]);
    });
});
