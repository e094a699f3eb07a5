import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import * as F from "../../offchain/trust/fixed";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";

async function mathFixture() {
  const mock = await (await ethers.getContractFactory("TrustMathMock")).deploy();
  return { mock };
}

const wad = fc.bigInt({ min: 0n, max: F.WAD });

describe("trust: TypeScript model = Solidity, to the last fixed-point unit", () => {
  it("TrustMath functions agree on random inputs", async () => {
    const { mock } = await loadFixture(mathFixture);
    await fc.assert(
      fc.asyncProperty(wad, wad, wad, fc.bigInt({ min: 0n, max: 5000n }), async (v, b, rho, n) => {
        expect(await mock.powWad(rho, n)).to.equal(F.powWad(rho, n));
        expect(await mock.decay(v, b, rho, n)).to.equal(F.decay(v, b, rho, n));
        expect(await mock.blend(v, b, rho)).to.equal(F.blend(v, b, rho));
      }),
      { numRuns: 40 },
    );
    await fc.assert(
      fc.asyncProperty(wad, fc.bigInt({ min: -F.WAD, max: F.WAD }), wad, async (t, o, g) => {
        expect(await mock.withOracle(t, o, g)).to.equal(F.withOracle(t, o, g));
      }),
      { numRuns: 30 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 16 })
          .chain((n) => fc.tuple(fc.constant(n), fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: n, maxLength: n }))),
        async ([n, fs]) => {
          const weights = F.packLanes(Array(n).fill(10_000));
          const factors = F.packLanes(fs);
          expect(await mock.optimizedTrust(factors, weights, n)).to.equal(F.optimizedTrust(factors, weights, n));
        },
      ),
      { numRuns: 30 },
    );
  });

  it("TrustManager stores and reports exactly what the model computes, through ratings and time", async () => {
    const { trust, others } = await loadFixture(deployTrustFixture);
    const m = F.DEFAULT_MODEL;
    const names = ["a", "b", "c"];
    // one controller each: a controller cannot rate its own entities
    const controller = Object.fromEntries(names.map((n, k) => [n, others[4 + k]]));
    for (const n of names) await trust.connect(controller[n]).register(id(n), Kind.Avatar);
    await trust.setIdentityVerified(id("b"), true);
    const pairs = new Map<string, F.PairState>();
    const key = (i: string, j: string) => `${i}>${j}`;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names),
        fc.constantFrom(...names),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 1, max: 20 * 86_400 }),
        async (i, j, scores, wait) => {
          if (i === j) return;
          await time.increase(wait);
          const p = pairs.get(key(i, j)) ?? { trust: 0n, updatedAt: 0n, ratings: 0, oracle: 0n };
          const factors = F.packFactors(scores);
          const now = BigInt(await time.latest()) + 1n;
          await time.setNextBlockTimestamp(now);
          const expected = F.ratedTrust(m, p, factors, now); // >= 3 days after the pair's last rating
          await (await trust.connect(controller[i]).rate(id(i), id(j), factors, ethers.ZeroHash, ethers.ZeroHash, 0, 0)).wait();
          const stored = await trust.pairOf(id(i), id(j));
          expect(stored.trust).to.equal(expected);
          const next = { trust: expected, updatedAt: now, ratings: p.ratings + 1, oracle: 0n };
          pairs.set(key(i, j), next);
          // the effective value, read later
          await time.increase(3 * 86_400);
          const readAt = BigInt(await time.latest());
          expect(await trust.trustOf(id(i), id(j))).to.equal(F.effectiveTrust(m, next, readAt, j === "b", false));
        },
      ),
      { numRuns: 25 },
    );
  });
});
