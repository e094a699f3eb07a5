/**
 * BordaCount through its mock: the Hardhat cases that keep every library function in coverage
 * (the fuzzed properties are in BordaCount.t.sol).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { voterScores } from "../../offchain/mssa/election";
import { Prng } from "../../offchain/util/prng";

async function deployBordaFixture() {
  return { mock: await (await ethers.getContractFactory("BordaCountMock")).deploy() };
}

describe("BordaCount (library, through BordaCountMock)", () => {
  it("lane(packed, i) reads candidate i's points from ballotPoints, equal to the off-chain voterScores", async () => {
    const { mock } = await loadFixture(deployBordaFixture);
    const n = 19; // three words, the last one partly used
    const ranking = new Prng(19).shuffle(Array.from({ length: n }, (_, i) => i));
    const packed = await mock.ballotPoints(ranking, n);
    expect(packed.length).to.equal(3);
    const expected = voterScores(ranking, n);
    for (let i = 0; i < n; i++) expect(await mock.lane([...packed], i), `candidate ${i}`).to.equal(BigInt(expected[i]));
    for (let i = n; i < 24; i++) expect(await mock.lane([...packed], i), `unused lane ${i}`).to.equal(0n);
  });

  it("lane(packed, i) takes the 32-bit lane i % 8 of word i / 8, little end first", async () => {
    const { mock } = await loadFixture(deployBordaFixture);
    const word = (lanes: number[]) => lanes.reduce((acc, v, k) => acc | (BigInt(v) << BigInt(32 * k)), 0n);
    const packed = [word([1, 2, 3, 4, 5, 6, 7, 0xffffffff]), word([9, 10, 11, 12, 13, 14, 15, 16])];
    expect(await mock.lane(packed, 0)).to.equal(1n);
    expect(await mock.lane(packed, 7)).to.equal(0xffffffffn);
    expect(await mock.lane(packed, 8)).to.equal(9n);
    expect(await mock.lane(packed, 15)).to.equal(16n);
    await expect(mock.lane(packed, 16)).to.be.reverted; // past the last word: index out of bounds
  });
});
