import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";

describe("tasks: idp:* and avatar:* (in-process network, one process)", function () {
  this.timeout(120_000);
  const saved: Record<string, string | undefined> = {};
  const log = console.log;

  before(async () => {
    for (const k of ["METATRUST_DATA_DIR", "METATRUST_DEPLOYMENTS_DIR"]) saved[k] = process.env[k];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-avatar-tasks-"));
    process.env.METATRUST_DATA_DIR = path.join(dir, "data");
    process.env.METATRUST_DEPLOYMENTS_DIR = path.join(dir, "deployments");
    console.log = () => {};
    await hre.run("deploy", { quiet: true });
  });
  after(() => {
    console.log = log;
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  it("setup, issue, login, delegate, authenticate, trace, revoke", async () => {
    await hre.run("idp:setup");
    await hre.run("idp:issue", { user: "alice", realId: "Alice Liddell" });
    await hre.run("idp:issue", { user: "bob" });
    await hre.run("idp:issue", { proxy: "helper", operator: "ai-corp" });
    await hre.run("avatar:login", { user: "alice", avatar: "fox", appearance: "red fox" });
    await hre.run("avatar:login", { user: "bob", avatar: "whale", appearance: "blue whale" });
    await hre.run("avatar:delegate", { user: "alice", avatar: "fox", proxy: "helper" });
    const auth = await hre.run("avatar:auth", { a: "fox", b: "whale" });
    const t = await hre.run("avatar:trace", { evidence: auth.evidence[0] });
    expect(t.realId).to.equal("Alice Liddell");
    await hre.run("avatar:revoke", { mit: "helper" });
    let err: Error | undefined;
    try {
      await hre.run("avatar:auth", { a: "fox", b: "whale" });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/revoked/);
  });
});
