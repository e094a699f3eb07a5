/**
 * s17-redA F4: `rsms:rpm:register` (in-process MSRP) sends createPool and only then keeps the
 * RPM's keys (`rsms-rpm-<pool>`) and the MSRP's record. A process that dies between the two (killed,
 * the disk full, the machine off) leaves the pool on-chain under a PID_RPM and key whose secret
 * nobody holds, and the rerun is refused ("pool 2 already exists on-chain"): the pool is stranded
 * for good (no RPM can ever serve it, and its id cannot be reused). Charter: a crash between two
 * writes is recovered by the next run. (idp:issue keeps the party's keys, marked pending, before
 * its MIT goes on-chain, and a rerun completes it: the same shape fixes this.)
 *
 * The crash is modelled by a keystore write that fails once, right after createPool is mined:
 * what a kill at that point leaves behind, in one process.
 */
import { expect } from "chai";
import hre from "hardhat";
import { deploymentSummary } from "../../offchain/chain/deployments";
import { Keystore } from "../../offchain/storage/keystore";
import { rejects, useRsmsTaskSandbox } from "../helpers/tasks";

describe("rsms:rpm:register: a crash after createPool is recovered by the rerun (s17-redA F4)", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-redA-rpmcrash-", ["edge-1"]);

  it("the pool's keys lost after createPool: the same command again completes the pool", async () => {
    const proto = Keystore.prototype as unknown as { create: (name: string, data: unknown) => void };
    const create = proto.create;
    proto.create = function (this: Keystore, name: string, data: unknown) {
      if (name === "rsms-rpm-2") throw new Error("simulated crash: the process died before keeping the RPM's keys");
      return create.call(this, name, data);
    };
    try {
      await rejects(hre.run("rsms:rpm:register", { pool: 2 }));
    } finally {
      proto.create = create;
    }
    const reg = await hre.ethers.getContractAt("ResourcePoolRegistry", deploymentSummary(hre.network.name).addresses.ResourcePoolRegistry);
    expect((await reg.pool(2)).rpm).to.not.equal(hre.ethers.ZeroAddress, "createPool was mined before the crash");
    // the operator runs the same command again
    const r = (await hre.run("rsms:rpm:register", { pool: 2 })) as { pid: string };
    expect(r.pid.toLowerCase()).to.equal((await reg.pool(2)).pidRpm.toLowerCase());
    expect(sandbox.keystore().exists("rsms-rpm-2")).to.equal(true);
  });
});
