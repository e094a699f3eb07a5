/**
 * A red-team finding on robust.ts (issue 15), fixed: registration is permissionless, and padding the
 * registry with identities that never rate nor are rated once stopped detection for everyone
 * (`analyze` threw at 2^20 entities) and changed the verdicts (SybilRank ran log2(N) steps).
 */
import { expect } from "chai";
import { analyze } from "../../offchain/trust/robust";
import { Prng } from "../../offchain/util/prng";

describe("trust/robust: a registry padded with empty identities (red-team finding, issue 15)", function () {
  this.timeout(300_000);

  // TrustManager.register is permissionless and the pipeline (pipeline.ts) passes every registered
  // entity to detectAll, which throws above 2^20 - 1 entities (robust.ts: `analyze: N entities, at
  // most 1048575`): registering about a million empty identities stops detection for everyone.
  // Entities that nobody rated and who rated nobody cannot change any verdict.
  it("a registry padded with 2^20 identities that never rate nor are rated leaves the verdicts unchanged", () => {
    const rng = new Prng(3);
    const honest = Array.from({ length: 40 }, (_, i) => `h${i}`);
    const ratings: { from: string; to: string; value: number; time: number }[] = [];
    for (let e = 0; e < 12; e++)
      for (const from of honest)
        for (let k = 0; k < 3; k++) {
          const to = rng.pick(honest);
          if (to !== from)
            ratings.push({ from, to, value: to === "h7" && e >= 6 ? 0.05 : 0.8 + 0.2 * rng.next(), time: e * 100 + rng.int(100) });
        }
    ratings.sort((a, b) => a.time - b.time);
    const seeds = new Set(honest.slice(0, 8));
    const base = analyze(ratings, honest, seeds, { epochSeconds: 100 });
    const padded = [...honest, ...Array.from({ length: 1 << 20 }, (_, i) => `pad${i}`)];
    let got: ReturnType<typeof analyze> | undefined;
    expect(() => (got = analyze(ratings, padded, seeds, { epochSeconds: 100 }))).not.to.throw();
    expect(got!.detections.map((d) => [d.entity, d.kind])).to.deep.equal(base.detections.map((d) => [d.entity, d.kind]));
  });
});
