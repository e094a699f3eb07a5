/**
 * s23-rtm finding F4 (red team, MSSA election; L): the constructor checks seats, quorum, genesis
 * and caps but not the two periods. With `votingPeriod` 0 every round's vote closes before it
 * opens (`vote` reverts TooLate from the closeNomination block on), so every election seats by the
 * tie-break alone (F1 for every round, by configuration); with `nominationPeriod` 0 nobody can
 * nominate (outside openRound's own block) and every round aborts, so the genesis authorities sit for ever. Bad parameters should
 * be refused with InvalidParams, as a zero cap is.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { DEFAULT_ELECTION_PARAMS as P } from "../../offchain/mssa/election";
import { personOf } from "../fixtures/mssa";

describe("findings s23-rtm F4: the election accepts zero nomination and voting periods", () => {
  for (const which of ["votingPeriod", "nominationPeriod"] as const)
    it(`refuses ${which} = 0 (a round nobody can ${which === "votingPeriod" ? "vote" : "nominate"} in)`, async () => {
      const [admin, a, b, c] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("AuthorityElection");
      const g = [a.address, b.address, c.address];
      await expect(factory.deploy(admin.address, { ...P, [which]: 0 }, g, g.map(personOf))).to.be.revertedWithCustomError(
        factory,
        "AuthorityElection__InvalidParams",
      );
    });
});
