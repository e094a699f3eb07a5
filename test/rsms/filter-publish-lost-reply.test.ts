/**
 * s17-redA F25, fixed (s17-fixA2): before a publication, and after a failed one, publishFilter
 * (offchain/rsms/flows.ts) reads the pool's last epoch; if its root is the pending filter's, the
 * filter is published and is taken as done (`existing`, no transaction), not published again.
 *
 * The finding: `rsms:filter:publish` (in-process MSRP) after a lost reply. The publication is
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
    let first: { existing: boolean } | undefined;
    try {
      first = await hre.run("rsms:filter:publish", { pool: 1 });
    } finally {
      proto.publishFilter = publish;
    }
    expect(Number((await reg.pool(1)).epochs)).to.equal(before + 1, "the first run was mined");
    expect(first?.existing, "the lost reply's publication is found in the same run").to.equal(true);
    // the operator runs the same command again
    await hre.run("rsms:filter:publish", { pool: 1 }).catch(() => undefined);
    expect(Number((await reg.pool(1)).epochs)).to.equal(before + 1, "the retry published the same RNs again");
  });

  it("the lookup after the lost reply failed too (node unreachable): the rerun finds the epoch and sends nothing", async () => {
    await hre.run("rsms:rn:register", { name: "edge-3", pool: 1 });
    const reg = await hre.ethers.getContractAt("ResourcePoolRegistry", deploymentSummary(hre.network.name).addresses.ResourcePoolRegistry);
    const before = Number((await reg.pool(1)).epochs);
    const proto = RsmsLedger.prototype as unknown as {
      publishFilter: (...a: unknown[]) => Promise<unknown>;
      poolEpochs: (...a: unknown[]) => Promise<unknown>;
    };
    const [publish, epochs] = [proto.publishFilter, proto.poolEpochs];
    let down = false;
    proto.publishFilter = async function (this: RsmsLedger, ...a: unknown[]) {
      await publish.apply(this, a);
      down = true; // the connection drops under the wait and stays down for this run
      throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    };
    proto.poolEpochs = async function (this: RsmsLedger, ...a: unknown[]) {
      if (down) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
      return epochs.apply(this, a);
    };
    try {
      await expect(hre.run("rsms:filter:publish", { pool: 1 })).to.be.rejectedWith(/socket hang up/);
    } finally {
      [proto.publishFilter, proto.poolEpochs] = [publish, epochs];
    }
    expect(Number((await reg.pool(1)).epochs)).to.equal(before + 1, "the first run was mined");
    const again = await hre.run("rsms:filter:publish", { pool: 1 });
    expect([again.existing, again.tx, again.epoch]).to.deep.equal([true, undefined, before]);
    expect(Number((await reg.pool(1)).epochs)).to.equal(before + 1, "the rerun published the same RNs again");
  });
});
