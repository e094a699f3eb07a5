/**
 * Red team h15-red, finding H5 (fixed): in-process `group:rekey` with a remaining member that
 * re-authenticated since the group formed.
 *
 * The task's party directory used to hand out, for an RN that re-authenticated, the agent of its
 * *new* PID, also for a group it is a member of under its old one; `rekeyServiceGroup` found no
 * update for it after the chain write and threw before the task's `save()`: the chain at epoch
 * e + 1, the MSRP's record (S_RN included) and every party's at epoch e, and every later update
 * refused by the chain (EpochNotNext). Now the directory takes the PID the group lists (one party
 * record per (RN, PID), as the network clients keep them: H6), the MSRP's commit is saved right
 * after the chain write (`committed`), and one party's failed delivery stops neither the others nor
 * the saves (the task then refuses with one line naming it).
 *
 * Asserted: the rotated member takes the new key under its old PID and the saved record is at the
 * chain's epoch with the evicted RN in S_RN; when a party cannot take its key, or the chain read
 * after the write fails, the MSRP's saved record is still at the chain's epoch.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";

describe("h15-red H5: group:rekey with a member that rotated since the formation", function () {
  this.timeout(120_000);
  const env: Record<string, string | undefined> = {};
  const log = console.log;
  before(() => {
    for (const k of ["METATRUST_DATA_DIR", "METATRUST_DEPLOYMENTS_DIR"]) env[k] = process.env[k];
    console.log = () => undefined;
  });
  after(() => {
    console.log = log;
    for (const [k, v] of Object.entries(env))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  /** Deploys, joins four RNs, forms bob's group of three, and moves one member to pool 2. */
  async function rotatedGroup() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-h15-fixp-"));
    process.env.METATRUST_DATA_DIR = path.join(dir, "data");
    process.env.METATRUST_DEPLOYMENTS_DIR = path.join(dir, "deployments");
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
    const rotatedPid = before.pids[before.members.indexOf(rotated)];
    return { g, evicted, rotated, rotatedPid, spare, evictPid };
  }

  /** The MSRP's saved record and the chain, read afresh. */
  async function saved(groupId: string) {
    const { localState } = await import("../../tasks/lib/context");
    const { Msrp } = await import("../../offchain/rsms/msrp");
    const { fromHex } = await import("../../offchain/crypto/bytes");
    const msrp = Msrp.fromRecord(localState(hre).keystore.load("rsms-msrp") as never);
    const st = await hre.run("group:status", { group: groupId }); // chain epoch; the saved record's members
    return { msrp, epoch: msrp.groupInfo(fromHex(groupId, 32)).epoch, chainEpoch: st.epoch as number };
  }

  it("the rotated member takes the new key under its old PID; the MSRP's saved record is at the chain's epoch, the evicted RN in S_RN", async () => {
    const { g, evicted, rotated, rotatedPid, spare, evictPid } = await rotatedGroup();
    let outcome = "done";
    try {
      await hre.run("group:rekey", { group: g.groupId, evict: evictPid, add: spare });
    } catch (e) {
      outcome = `failed: ${(e as Error).message.split("\n")[0]}`;
    }
    const s = await saved(g.groupId);
    expect(
      { outcome, msrpEpoch: s.epoch, evictedInSRN: s.msrp.suspiciousRns().includes(evicted) },
      `the chain is at epoch ${s.chainEpoch}`,
    ).to.deep.equal({ outcome: "done", msrpEpoch: 1, evictedInSRN: true });
    expect(s.chainEpoch).to.equal(1);
    const { localState } = await import("../../tasks/lib/context");
    const { loadPartyAgent } = await import("../../offchain/services/rsms/group-clients");
    const { fromHex } = await import("../../offchain/crypto/bytes");
    const agent = loadPartyAgent(localState(hre).keystore, rotated, fromHex(rotatedPid, 32), 1n);
    expect(agent.epochsOf(fromHex(g.groupId, 32)), `${rotated}'s record under its old PID`).to.deep.equal([0, 1]);
    // the in-process channel: the rotated member opens bob's message under its old PID
    const sent = await hre.run("group:send", { group: g.groupId, from: "bob", msg: "epoch one" });
    expect(sent.results[rotated]).to.equal('read "epoch one"');
    // the next update is dealt and taken (the chain accepts epoch 2)
    await hre.run("group:rekey", { group: g.groupId });
    expect((await saved(g.groupId)).chainEpoch).to.equal(2);
  });

  it("a party that cannot take its key: the task refuses naming it, the MSRP's saved record is at the chain's epoch", async () => {
    const { g, evicted, spare, evictPid } = await rotatedGroup();
    const { localState } = await import("../../tasks/lib/context");
    const ks = localState(hre).keystore;
    const rec = ks.load(`rsms-rn-${spare}`);
    ks.remove(`rsms-rn-${spare}`); // the added RN's machine is gone: its delivery throws after the chain write
    let outcome = "done";
    try {
      await hre.run("group:rekey", { group: g.groupId, evict: evictPid, add: spare });
    } catch (e) {
      outcome = (e as Error).message.split("\n")[0];
    }
    ks.create(`rsms-rn-${spare}`, rec);
    expect(outcome).to.match(new RegExp(`^group:rekey: epoch 1 is on-chain and saved, but ${spare} \\(.+\\) did not take its key$`));
    const s = await saved(g.groupId);
    expect({ msrpEpoch: s.epoch, evictedInSRN: s.msrp.suspiciousRns().includes(evicted) }).to.deep.equal({
      msrpEpoch: s.chainEpoch,
      evictedInSRN: true,
    });
    expect(s.chainEpoch).to.equal(1);
  });
});
