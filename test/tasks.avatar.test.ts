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

  it("idp:issue keeps the keys before the MIT goes on-chain: a failed send is completed by a rerun, never re-keyed", async () => {
    const { readDeployment } = await import("../offchain/chain/deployments");
    const [operator] = await hre.ethers.getSigners();
    const d = readDeployment("hardhat");
    const registry = await hre.ethers.getContractAt("MITRegistry", d.contracts.MITRegistry.address, operator);
    // the IdP is an account of its own (deploy's role idp); the operator is the admin
    const idp = d.roles!.idp;
    expect(idp).to.not.equal(operator.address);
    const { Keystore } = await import("../offchain/storage/keystore");
    const ks = new Keystore(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore"));
    const record = () => ks.load("avatar-party-carol") as { sk: string; mit: { serial: string }; pendingMit?: { cid: string } };
    // the send fails after the keys were kept (here: the IdP lost its role; a dropped connection or a kill alike)
    await (await registry.revokeRole(await registry.IDP_ROLE(), idp)).wait();
    await rejects(hre.run("idp:issue", { user: "carol" }));
    const kept = record();
    expect(kept.pendingMit!.cid).to.match(/^bag/);
    const serial = kept.mit.serial;
    expect(Number((await registry.mit(serial)).status)).to.equal(0);
    await (await registry.grantRole(await registry.IDP_ROLE(), idp)).wait();
    // the rerun sends the same MIT (same keys, same serial) and clears the mark
    expect((await hre.run("idp:issue", { user: "carol" })).serial).to.equal(serial);
    expect(Number((await registry.mit(serial)).status)).to.not.equal(0);
    const done = record();
    expect([done.sk, done.pendingMit]).to.deep.equal([kept.sk, undefined]);
    // and once complete, a rerun is refused as before
    expect(await rejects(hre.run("idp:issue", { user: "carol" }))).to.be.instanceOf(RefusedError);
    // the IdP's enrollment was kept with the keys: carol logs in
    await hre.run("avatar:login", { user: "carol", avatar: "owl" });
  });
});
