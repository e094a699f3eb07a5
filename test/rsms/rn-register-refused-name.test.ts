/**
 * s17-redA F3: `rsms:rn:register` (in-process MSRP) with a --name the keystore cannot hold (a
 * space, a slash, a non-ASCII letter) is refused with exit 2, but only after the MSRP took the
 * registration and, when the pool's filter was due (full, or its interval passed), published the
 * filter on-chain with the refused RN's one-time secret in it. The MSRP's record is not saved, so
 * its keystore still lists the other RNs as pending while the chain holds them in a published
 * epoch: the next publication sends them again. Charter: a rejected input changes nothing,
 * on-chain or in any keystore. Passes once the name is checked before anything is drawn or sent.
 */
import { expect } from "chai";
import hre from "hardhat";
import { deploymentSummary } from "../../offchain/chain/deployments";
import { describeError, exitCodeOf, EXIT } from "../../tasks/lib/cli";
import { rejects, useRsmsTaskSandbox } from "../helpers/tasks";

describe("rsms:rn:register: a --name the keystore refuses changes nothing on-chain (s17-redA F3)", function () {
  this.timeout(180_000);
  useRsmsTaskSandbox("metatrust-redA-rnname-", ["edge-1"]);

  const epochs = async () => {
    const reg = await hre.ethers.getContractAt("ResourcePoolRegistry", deploymentSummary(hre.network.name).addresses.ResourcePoolRegistry);
    return Number((await reg.pool(1)).epochs);
  };

  it("the 8th registration of a capacity-8 filter, refused for its name, publishes no filter", async () => {
    // capacity 8: seven RNs wait (edge-2..edge-8) in the pending filter; the next one makes it due
    for (let i = 2; i <= 8; i++) await hre.run("rsms:rn:register", { name: `edge-${i}`, pool: 1 });
    const before = await epochs();
    const args = { name: "edge 8/évil", pool: 1 };
    const e = await rejects(hre.run("rsms:rn:register", args));
    expect(await epochs()).to.equal(before, "a refused registration published the pool's filter on-chain");
    expect(exitCodeOf(e)).to.equal(EXIT.input);
    expect(await describeError(e, hre, args)).to.contain("--name");
    // and the MSRP still publishes the seven pending RNs once, in the next epoch
    await hre.run("rsms:filter:publish", { pool: 1 });
    expect(await epochs()).to.equal(before + 1);
  });
});
