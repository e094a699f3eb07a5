/**
 * FINDING s22-redo R7 (severity L: bad input accepted; an agreement's terms that no party can keep).
 *
 * `trust:agree --days 0` and `--days -3` are accepted: an agreement is formed on-chain and its terms
 * on IPFS say `durationDays: -3` (Algorithm 2's agreement has a duration; a zero or negative one is
 * no agreement: it is over before it starts, yet its thresholds bind the avatars' trust). Nothing
 * checks the range (tasks/trust.ts passes `a.days` straight into the terms).
 *
 * Fixed behaviour: refused before anything is stored or sent, one line naming the flag
 * ("trust:agree: --days must be a positive integer, got -3").
 */
import { expect } from "chai";
import hre from "hardhat";
import { useTaskSandbox } from "../helpers/tasks";

describe("s22-redo R7 (fixed by s22-fxops): trust:agree --days <= 0 forms an agreement", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s22redo-r7-");

  before(async () => {
    await hre.run("trust:register", { entity: "org1", type: "organization" });
    await hre.run("trust:register", { entity: "av1", type: "avatar" });
  });

  for (const days of [0, -3])
    it(`--days ${days}: refused naming --days, no transaction`, async () => {
      const [operator] = await hre.ethers.getSigners();
      const nonce = await hre.ethers.provider.getTransactionCount(operator.address);
      let err: Error | undefined;
      try {
        await hre.run("trust:agree", { org: "org1", avatars: "av1", days, termination: "t", penalty: "p", request: `d${days + 10}` });
      } catch (e) {
        err = e as Error;
      }
      expect(await hre.ethers.provider.getTransactionCount(operator.address), `an agreement of ${days} days was formed`).to.equal(nonce);
      expect(err?.message).to.match(/--days/);
    });
});
