/**
 * s23-rtm finding F4 (red team, MSSA election; L): the constructor checked seats, quorum, genesis
 * and caps but not the two periods. With `votingPeriod` 0 every round's vote closed before it
 * opened; with `nominationPeriod` 0 nobody could nominate and every round aborted, so the genesis
 * authorities sat for ever. Fixed: each period lies in [MIN_PERIOD, MAX_PERIOD]; each weight W_f is
 * at most 1 (WAD) and not all are 0; caps stay > 0 (InvalidParams otherwise).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { DEFAULT_ELECTION_PARAMS as P } from "../../offchain/mssa/election";
import { personOf } from "../fixtures/mssa";

const WAD = 10n ** 18n;

describe("s23-rtm F4: the election refuses zero and absurd parameters", () => {
  async function deploy(over: Partial<typeof P>) {
    const [admin, a, b, c] = await ethers.getSigners();
    const factory = await ethers.getContractFactory("AuthorityElection");
    const g = [a.address, b.address, c.address];
    return { factory, tx: factory.deploy(admin.address, { ...P, ...over }, g, g.map(personOf)) };
  }
  const refused: [string, Partial<typeof P>][] = [
    ["votingPeriod = 0", { votingPeriod: 0 }],
    ["nominationPeriod = 0", { nominationPeriod: 0 }],
    ["votingPeriod below MIN_PERIOD", { votingPeriod: 599 }],
    ["nominationPeriod below MIN_PERIOD", { nominationPeriod: 599 }],
    ["votingPeriod above MAX_PERIOD", { votingPeriod: 90 * 86400 + 1 }],
    ["nominationPeriod above MAX_PERIOD", { nominationPeriod: 90 * 86400 + 1 }],
    ["a weight above 1", { weights: [WAD + 1n, 0n, 0n, 0n] }],
    ["all weights 0", { weights: [0n, 0n, 0n, 0n] }],
    ["a cap of 0", { caps: [5, 0, 10, 3] }],
  ];
  for (const [what, over] of refused)
    it(`refuses ${what}`, async () => {
      const { factory, tx } = await deploy(over);
      await expect(tx).to.be.revertedWithCustomError(factory, "AuthorityElection__InvalidParams");
    });
  it("accepts the bounds themselves", async () => {
    for (const over of [
      { votingPeriod: 600, nominationPeriod: 600 },
      { votingPeriod: 90 * 86400, nominationPeriod: 90 * 86400 },
      { weights: [WAD, 0n, 0n, 0n] as [bigint, bigint, bigint, bigint] },
    ]) {
      const { tx } = await deploy(over);
      await expect(tx).to.not.be.reverted;
    }
  });
});
