import { expect } from "chai";
import hre from "hardhat";
import fs from "fs";
import path from "path";
import { rejects, useTaskSandbox } from "./helpers/tasks";
import { RefusedError } from "../tasks/lib/cli";

describe("tasks: idp:* and avatar:* (in-process network, one process)", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-avatar-tasks-");

  it("setup, issue, login, delegate, authenticate, trace, revoke", async () => {
    await hre.run("idp:setup");
    await hre.run("idp:issue", { user: "alice", realId: "Alice Liddell" });
    await hre.run("idp:issue", { user: "bob" });
    await hre.run("idp:issue", { proxy: "helper", operator: "ai-corp" });
    // a second issue is refused before anything is sent, and alice's keys stay as they were
    const keys = fs.readFileSync(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore", "avatar-party-alice.json"), "utf8");
    const again = await rejects(hre.run("idp:issue", { user: "alice" }));
    expect(again).to.be.instanceOf(RefusedError);
    expect(again.message).to.equal('idp:issue: --user "alice" already holds an MIT; one party, one MIT (the keystore keeps its keys)');
    expect(fs.readFileSync(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore", "avatar-party-alice.json"), "utf8")).to.equal(
      keys,
    );
    await hre.run("avatar:login", { user: "alice", avatar: "fox", appearance: "red fox" });
    await hre.run("avatar:login", { user: "bob", avatar: "whale", appearance: "blue whale" });
    await hre.run("avatar:delegate", { user: "alice", avatar: "fox", proxy: "helper" });
    const auth = await hre.run("avatar:auth", { a: "fox", b: "whale" });
    const t = await hre.run("avatar:trace", { evidence: auth.evidence[0] });
    expect(t.realId).to.equal("Alice Liddell");
    // the verdict's opening survives in the IdP's keystore (a separate invocation opens it)
    expect((await hre.run("avatar:audit", { case: String(t.caseId) })).uid).to.equal(t.uid);
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
