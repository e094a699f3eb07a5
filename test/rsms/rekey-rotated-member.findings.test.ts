/**
 * Red team h15-red, finding H5 (open): in-process `group:rekey` fails after its chain write when a
 * remaining member has re-authenticated since the group formed, and leaves the MSRP's keystore an
 * epoch behind the chain.
 *
 * The task's party directory (tasks/group.ts groupContext) hands out, for an RN that re-authenticated,
 * the agent of its *new* PID ("it joins new groups under it"), also for a group it is a member of
 * under its old PID. `rekeyServiceGroup` writes the update on chain, commits it to the MSRP agent in
 * memory, then opens each party's update by `messages.get(toHex(p.pid))`: for the rotated member that
 * is nothing (the update was sealed to its old PID) and the task throws before `save()`. So:
 * - the chain is at epoch e + 1 with the evicted member out; the MSRP's record, S_RN and every
 *   party's record are still at epoch e: the evicted RN is not in S_RN on disk (it is allocated
 *   again and may rotate away from the PID it was evicted under), and no remaining party holds the
 *   new key;
 * - every later `group:rekey` of the group deals epoch e + 1 again and the registry refuses it
 *   (EpochNotNext): the group can never be updated in-process, and its parties keep reading under
 *   the epoch-e key, which the evicted member holds.
 * Re-authentication is an honest RN's ordinary move (rsms:reauth); the user cannot tell.
 *
 * Secure behaviour asserted: whatever the task's outcome, the MSRP's saved record is at the chain's
 * epoch for the group, and an RN the chain shows evicted is in S_RN.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";

describe("h15-red H5: group:rekey with a member that rotated since the formation (open finding)", function () {
  this.timeout(120_000);
  const saved: Record<string, string | undefined> = {};
  const log = console.log;
  before(() => {
    for (const k of ["METATRUST_DATA_DIR", "METATRUST_DEPLOYMENTS_DIR"]) saved[k] = process.env[k];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-h15-red-"));
    process.env.METATRUST_DATA_DIR = path.join(dir, "data");
    process.env.METATRUST_DEPLOYMENTS_DIR = path.join(dir, "deployments");
    console.log = () => undefined;
  });
  after(() => {
    console.log = log;
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  it("the chain moves to epoch 1, the MSRP's record stays at epoch 0 and the evicted RN is not in S_RN", async () => {
    await hre.run("deploy", { quiet: true });
    await hre.run("rsms:setup", { capacity: 4, lambda: 16, interval: 3600 });
    await hre.run("rsms:rpm:register", { pool: 1 });
    await hre.run("rsms:rpm:register", { pool: 2 });
    const rns = ["n1", "n2", "n3", "n4"];
    for (const n of rns) await hre.run("rsms:rn:register", { name: n, pool: 1 }); // the 4th publishes the filter
    for (const n of rns) await hre.run("rsms:join", { rn: n, pool: 1 });
    await hre.run("rsms:user:register", { name: "bob" });
    const g = await hre.run("group:request", { user: "bob", size: 3 });
    const [evicted, rotated] = g.members as string[];
    const spare = rns.find((n) => !g.members.includes(n))!;
    // an honest member moves to pool 2 (a fresh pseudonym); it stays in bob's group under its old one
    await hre.run("rsms:reauth", { rn: rotated, toPool: 2 });
    const before = await hre.run("group:status", { group: g.groupId });
    const evictPid = before.pids[before.members.indexOf(evicted)];

    let outcome = "done";
    try {
      await hre.run("group:rekey", { group: g.groupId, evict: evictPid, add: spare });
    } catch (e) {
      outcome = `failed: ${(e as Error).message.split("\n")[0]}`;
    }
    const { localState } = await import("../../tasks/lib/context");
    const { Msrp } = await import("../../offchain/rsms/msrp");
    const { fromHex } = await import("../../offchain/crypto/bytes");
    const msrp = Msrp.fromRecord(localState(hre).keystore.load("rsms-msrp") as never);
    const st = await hre.run("group:status", { group: g.groupId }); // chain epoch; the saved record's members
    expect(
      { msrpEpoch: msrp.groupInfo(fromHex(g.groupId, 32)).epoch, evictedInSRN: msrp.suspiciousRns().includes(evicted) },
      `group:rekey ${outcome}; the chain is at epoch ${st.epoch}`,
    ).to.deep.equal({ msrpEpoch: st.epoch, evictedInSRN: st.epoch > 0 });
  });
});
