/**
 * The MSRP agent kept across joins in one process (issue 20, tasks/rsms.ts `msrpKept`): a join
 * takes the agent the join before it left instead of loading and rebuilding it, only when the
 * record's stamp (Keystore.stamp: the texts of its files) is the one that join committed. Any
 * change since, by another process or by another command of this one, is seen: the next join
 * loads the record again and its commit keeps that change. The pool's RPM agent is kept the same
 * way (`rpmKept`, rsms-join.md change 19): a change of its record is seen too.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import path from "path";
import hre from "hardhat";
import { fromHex } from "../../offchain/crypto/bytes";
import { Msrp } from "../../offchain/rsms/msrp";
import { tagOf } from "../../offchain/rsms/params";
import { Keystore, settled } from "../../offchain/storage/keystore";
import { useRsmsTaskSandbox, joinQuietly } from "../helpers/tasks";

const ROOT = path.resolve(__dirname, "../..");

describe("rsms: the MSRP agent kept across joins is reloaded after any other write of its record", function () {
  this.timeout(180_000);
  const log = console.log;
  const sandbox = useRsmsTaskSandbox("metatrust-kept-", ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k10", "k11"]);
  const msrpRn = (name: string) =>
    (new Keystore(sandbox.keystore().dir, undefined).load("rsms-msrp") as { rns: Record<string, Record<string, unknown>> }).rns[name];
  const join = (rn: string) => joinQuietly(rn);

  it("another process's write of the MSRP's record between two joins is kept by the second join's commit", async () => {
    await join("k1"); // leaves its agent kept
    await settled();
    // another process (another MSRP command, or an operator's tool) changes an RN entry of the record
    const code = `
      const { Keystore } = require(${JSON.stringify(path.join(ROOT, "offchain/storage/keystore"))});
      const ks = new Keystore(${JSON.stringify(sandbox.keystore().dir)}, undefined);
      const m = ks.load("rsms-msrp");
      m.rns.k3.rid = "rn:k3:changed-by-another-process";
      ks.commit({ "rsms-msrp": m }, { patch: { "rsms-msrp": "rns" } });`;
    const r = spawnSync(process.execPath, ["-r", "ts-node/register", "-e", code], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status, r.stderr).to.equal(0);
    await join("k2");
    await settled();
    expect(msrpRn("k3")).to.deep.include({ rid: "rn:k3:changed-by-another-process" });
    expect(msrpRn("k2")).to.deep.include({ used: true });
    expect(msrpRn("k1")).to.deep.include({ used: true });
  });

  it("another command of this process between two joins (an RN registered) is kept by the second join's commit", async () => {
    await join("k4"); // leaves its agent kept
    console.log = () => undefined;
    try {
      await hre.run("rsms:rn:register", { name: "k9", pool: 1 });
    } finally {
      console.log = log;
    }
    await join("k5");
    await settled();
    expect(msrpRn("k9"), "the RN registered between the joins").to.not.equal(undefined);
    expect(msrpRn("k5")).to.deep.include({ used: true });
  });

  it("the pool's RPM agent kept across joins is loaded again when its record changed between them (its key replaced: the next join is refused, and joins once the record is back)", async () => {
    await join("k6"); // leaves the pool's RPM agent kept, its filters loaded
    await settled();
    const ks = new Keystore(sandbox.keystore().dir, undefined);
    const rec = ks.load("rsms-rpm-1");
    // a key that is not the pool's: a request sealed to the pool's key opens to garbage at this RPM
    ks.update("rsms-rpm-1", { ...rec, sk: "0x" + "11".repeat(32) });
    await expect(join("k7")).to.be.rejectedWith(/NOT_IN_FILTER|in none of pool 1/);
    expect(msrpRn("k7")).to.deep.include({ used: false });
    ks.update("rsms-rpm-1", rec);
    await join("k7");
    await settled();
    expect(msrpRn("k7")).to.deep.include({ used: true });
  });

  it("joins with the agent kept journal the joined RN's entry alone, never serializing the whole record, and leave the record the MSRP's own commits make (rsms-join.md change 20)", async () => {
    await join("k8"); // leaves its agent kept
    await settled();
    const dir = sandbox.keystore().dir;
    // the oracle: the record as it stands, loaded into an agent of its own, which commits the same joins
    const oracle = Msrp.fromRecord(new Keystore(dir, undefined).load("rsms-msrp") as never);
    let wholes = 0;
    const toRecord = Msrp.prototype.toRecord;
    Msrp.prototype.toRecord = function (this: Msrp) {
      wholes++;
      return toRecord.call(this);
    };
    try {
      for (const name of ["k10", "k11"]) {
        const rn = new Keystore(dir, undefined).load(`rsms-rn-${name}`) as { pid: string; a: string };
        const a = BigInt(rn.a);
        await join(name);
        oracle.commitJoin({ record: { pid: fromHex(rn.pid), tag: tagOf(a), poolId: 1, kind: 1 }, rn: name, recordedA: a });
      }
    } finally {
      Msrp.prototype.toRecord = toRecord;
    }
    expect(wholes, "the whole MSRP record serialized by a join with the agent kept").to.equal(0);
    await settled();
    expect(new Keystore(dir, undefined).load("rsms-msrp")).to.deep.equal(oracle.toRecord());
  });
});
