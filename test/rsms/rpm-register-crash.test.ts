/**
 * s17-redA F4, fixed (s17-fixA2): `rsms:rpm:register` keeps the RPM's keys, marked pending (with
 * the account and PK_RPM createPool takes), and the MSRP's record in one keystore commit before it
 * sends createPool; a rerun finds the pool on-chain under the kept PID_RPM and completes it, or
 * sends createPool again with the same keys if it is not on-chain.
 *
 * The finding: the task sent createPool and only then kept the RPM's keys (`rsms-rpm-<pool>`) and
 * the MSRP's record. A process that died between the two left the pool on-chain under a PID_RPM and
 * key whose secret nobody held, and the rerun was refused ("pool 2 already exists on-chain"): the
 * pool was stranded for good. The red team modelled the crash as the keystore write of the RPM's
 * keys failing after createPool; that write now comes first, so the crash is modelled here where it
 * can still fall: the final write (the pending mark dropped) failing, createPool mined and its
 * reply lost, and createPool never sent after the keys were kept.
 */
import { expect } from "chai";
import hre from "hardhat";
import { deploymentSummary } from "../../offchain/chain/deployments";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { Keystore } from "../../offchain/storage/keystore";
import { rejects, useRsmsTaskSandbox } from "../helpers/tasks";

describe("rsms:rpm:register: a crash after createPool is recovered by the rerun (s17-redA F4)", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-redA-rpmcrash-", ["edge-1"]);
  const registry = async () =>
    hre.ethers.getContractAt("ResourcePoolRegistry", deploymentSummary(hre.network.name).addresses.ResourcePoolRegistry);
  const kept = (pool: number) => sandbox.keystore().load(`rsms-rpm-${pool}`) as { pid: string; pending?: unknown };

  it("the final keystore write lost after createPool: the same command again completes the pool", async () => {
    const proto = Keystore.prototype as unknown as { commit: (records: Record<string, unknown>, o?: unknown) => unknown };
    const commit = proto.commit;
    proto.commit = function (this: Keystore, records: Record<string, unknown>, o?: unknown) {
      const r = records["rsms-rpm-2"] as { pending?: unknown } | undefined;
      if (r && !r.pending) throw new Error("simulated crash: the process died after createPool");
      return commit.call(this, records, o);
    };
    try {
      await rejects(hre.run("rsms:rpm:register", { pool: 2 }));
    } finally {
      proto.commit = commit;
    }
    const reg = await registry();
    expect((await reg.pool(2)).rpm).to.not.equal(hre.ethers.ZeroAddress, "createPool was mined before the crash");
    expect(kept(2).pending, "the keys were kept, pending, before createPool").to.not.equal(undefined);
    // the operator runs the same command again
    const r = (await hre.run("rsms:rpm:register", { pool: 2 })) as { pid: string; existing: boolean; tx?: unknown };
    expect([r.existing, r.tx]).to.deep.equal([true, undefined]);
    expect(r.pid.toLowerCase()).to.equal((await reg.pool(2)).pidRpm.toLowerCase());
    expect(kept(2).pid.toLowerCase()).to.equal(r.pid.toLowerCase());
    expect(kept(2).pending, "completed: no longer pending").to.equal(undefined);
    // completed: a third run is refused as before (the pool exists, nothing pending here)
    expect((await rejects(hre.run("rsms:rpm:register", { pool: 2 }))).message).to.match(/already exists on-chain/);
  });

  it("createPool mined and its reply lost: the rerun completes with the kept PID_RPM", async () => {
    const proto = RsmsLedger.prototype as unknown as { createPool: (...a: unknown[]) => Promise<unknown> };
    const create = proto.createPool;
    proto.createPool = async function (this: RsmsLedger, ...a: unknown[]) {
      await create.apply(this, a);
      throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    };
    try {
      expect((await rejects(hre.run("rsms:rpm:register", { pool: 3 }))).message).to.match(/socket hang up/);
    } finally {
      proto.createPool = create;
    }
    const reg = await registry();
    const r = (await hre.run("rsms:rpm:register", { pool: 3 })) as { pid: string; existing: boolean };
    expect(r.existing).to.equal(true);
    expect(r.pid.toLowerCase()).to.equal((await reg.pool(3)).pidRpm.toLowerCase());
    expect(kept(3).pending).to.equal(undefined);
  });

  it("the keys kept and createPool never sent: the rerun sends it with the same keys", async () => {
    const proto = RsmsLedger.prototype as unknown as { createPool: (...a: unknown[]) => Promise<unknown> };
    const create = proto.createPool;
    proto.createPool = async () => {
      throw new Error("simulated crash: the process died before createPool was sent");
    };
    try {
      expect((await rejects(hre.run("rsms:rpm:register", { pool: 4 }))).message).to.match(/simulated crash/);
    } finally {
      proto.createPool = create;
    }
    const reg = await registry();
    expect((await reg.pool(4)).rpm).to.equal(hre.ethers.ZeroAddress);
    const pid = kept(4).pid;
    const r = (await hre.run("rsms:rpm:register", { pool: 4 })) as { pid: string; existing: boolean; tx?: unknown };
    expect(r.existing).to.equal(false);
    expect(r.tx).to.not.equal(undefined);
    expect([r.pid.toLowerCase(), (await reg.pool(4)).pidRpm.toLowerCase()]).to.deep.equal([pid.toLowerCase(), pid.toLowerCase()]);
    expect(kept(4).pending).to.equal(undefined);
  });
});
