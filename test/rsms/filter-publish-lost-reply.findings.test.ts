/**
 * s17-redA F25: `rsms:filter:publish` (in-process MSRP) after a lost reply. The publication is
 * mined, but the command does not see its receipt (the RPC connection reset under the wait, the
 * node restarted, the terminal closed): publishFilter puts the pending filter back
 * (restoreFilter) and the MSRP's record still lists the RNs as pending. The operator runs the same
 * command again and it publishes the same RNs a second time, in a new epoch: two epochs, two
 * publishFilter transactions, for one filter. (The MSRP *service* journals its publications and
 * finishes them from the chain, h11-red R7; the task does not.) Charter: a retry never has a second
 * effect. The lost reply is modelled by a ledger whose publishFilter sends and mines the
 * transaction, then fails as a reset connection does.
 */
import { expect } from "chai";
import hre from "hardhat";
import { deploymentSummary } from "../../offchain/chain/deployments";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { useRsmsTaskSandbox } from "../helpers/tasks";

describe("rsms:filter:publish: the same publication after a lost reply is one epoch (s17-redA F25)", function () {
  this.timeout(180_000);
  useRsmsTaskSandbox("metatrust-redA-publost-", ["edge-1"]);

  it("mined, reply lost, run again: one more epoch on-chain, not two", async () => {
    await hre.run("rsms:rn:register", { name: "edge-2", pool: 1 });
    const reg = await hre.ethers.getContractAt("ResourcePoolRegistry", deploymentSummary(hre.network.name).addresses.ResourcePoolRegistry);
    const before = Number((await reg.pool(1)).epochs);
    const proto = RsmsLedger.prototype as unknown as { publishFilter: (...a: unknown[]) => Promise<unknown> };
    const publish = proto.publishFilter;
    proto.publishFilter = async function (this: RsmsLedger, ...a: unknown[]) {
      await publish.apply(this, a);
      throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    };
    try {
      await hre.run("rsms:filter:publish", { pool: 1 }).catch(() => undefined);
    } finally {
      proto.publishFilter = publish;
    }
    expect(Number((await reg.pool(1)).epochs)).to.equal(before + 1, "the first run was mined");
    // the operator runs the same command again
    await hre.run("rsms:filter:publish", { pool: 1 }).catch(() => undefined);
    expect(Number((await reg.pool(1)).epochs)).to.equal(before + 1, "the retry published the same RNs again");
  });
});
