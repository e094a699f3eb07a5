/**
 * The MSRP agent kept across joins in one process (issue 20, tasks/rsms.ts `msrpKept`): a join
 * takes the agent the join before it left instead of loading and rebuilding it, only when the
 * record's stamp (Keystore.stamp: the texts of its files) is the one that join committed. Any
 * change since, by another process or by another command of this one, is seen: the next join
 * loads the record again and its commit keeps that change.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { Keystore, settled } from "../../offchain/storage/keystore";

const ROOT = path.resolve(__dirname, "../..");

describe("rsms: the MSRP agent kept across joins is reloaded after any other write of its record", function () {
  this.timeout(180_000);
  const saved: Record<string, string | undefined> = {};
  const log = console.log;
  let ks: Keystore;
  const msrpRn = (name: string) =>
    (new Keystore(ks.dir, undefined).load("rsms-msrp") as { rns: Record<string, Record<string, unknown>> }).rns[name];

  before(async () => {
    for (const k of ["METATRUST_DATA_DIR", "METATRUST_DEPLOYMENTS_DIR"]) saved[k] = process.env[k];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-kept-"));
    process.env.METATRUST_DATA_DIR = path.join(dir, "data");
    process.env.METATRUST_DEPLOYMENTS_DIR = path.join(dir, "deployments");
    console.log = () => undefined;
    try {
      await hre.run("deploy", { quiet: true });
      await hre.run("rsms:setup", { capacity: 8, lambda: 16, interval: 3600 });
      await hre.run("rsms:rpm:register", { pool: 1 });
      for (const n of ["k1", "k2", "k3", "k4", "k5"]) await hre.run("rsms:rn:register", { name: n, pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 });
    } finally {
      console.log = log;
    }
    const { localState } = await import("../../tasks/lib/context");
    ks = localState(hre).keystore;
  });
  after(() => {
    console.log = log;
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
  const join = async (rn: string) => {
    console.log = () => undefined;
    try {
      return await hre.run("rsms:join", { rn, pool: 1 });
    } finally {
      console.log = log;
    }
  };

  it("another process's write of the MSRP's record between two joins is kept by the second join's commit", async () => {
    await join("k1"); // leaves its agent kept
    await settled();
    // another process (another MSRP command, or an operator's tool) changes an RN entry of the record
    const code = `
      const { Keystore } = require(${JSON.stringify(path.join(ROOT, "offchain/storage/keystore"))});
      const ks = new Keystore(${JSON.stringify(ks.dir)}, undefined);
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
});
