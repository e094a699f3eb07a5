/**
 * s23-fxops finding 3 (L/M): `trust:agree` put the terms on IPFS and journaled its intent in the
 * keystore before it asked for each avatar controller's consent, and the consent needs that
 * controller's key on this machine. An avatar whose controller's key is elsewhere (another
 * operator's machine) was refused only then, naming an address and no flag or entity, with the
 * terms block stored and an intent record written for a proposal that cannot form here.
 *
 * Fixed: every consent is collected (reads and signatures) before the first effect
 * (TrustLedger.proposeAgreement); the task refuses in one line naming --avatars and the avatar;
 * nothing stored, written or sent. Bite: with the consents collected after the put and the journal
 * (as before) the data folder changes.
 */
import { expect } from "chai";
import crypto from "crypto";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { useTaskSandbox } from "./helpers/tasks";

function tree(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const f of fs.readdirSync(d)) {
      const p = path.join(d, f);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (!f.endsWith(".tmp") && !f.endsWith(".wal")) m.set(p, crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex"));
    }
  };
  walk(dir);
  return m;
}

describe("trust:agree with an avatar whose controller's key is not on this machine (s23-fxops)", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s23-agree-key-");
  const data = () => path.join(process.env.METATRUST_DATA_DIR!, "hardhat");

  it("refused in one line naming --avatars and the avatar; no IPFS put, no keystore write, no transaction", async () => {
    await hre.run("trust:register", { entity: "org1", type: "organization" });
    await hre.run("trust:register", { entity: "av1", type: "avatar" });
    await hre.run("trust:register", { entity: "av2", type: "avatar", account: "far-owner" });
    // the controller's key goes to its owner's machine: this one no longer holds it
    const { roleRecord } = await import("../offchain/chain/accounts");
    fs.rmSync(path.join(data(), "keystore", `${roleRecord("far-owner")}.json`));
    const [operator] = await hre.ethers.getSigners();
    const nonce = await hre.ethers.provider.getTransactionCount(operator.address);
    const block = await hre.ethers.provider.getBlockNumber();
    const before = tree(data());
    const err = await hre.run("trust:agree", { org: "org1", avatars: "av1,av2", days: 30, termination: "t", penalty: "p" }).then(
      () => undefined,
      (e: Error) => e,
    );
    const after = tree(data());
    const changed = [...new Set([...before.keys(), ...after.keys()])]
      .filter((k) => before.get(k) !== after.get(k))
      .map((k) => path.relative(data(), k));
    expect(err, "the proposal was accepted").to.not.equal(undefined);
    expect(changed, `the refused proposal (${err!.message}) wrote`).to.deep.equal([]);
    expect(await hre.ethers.provider.getTransactionCount(operator.address), "a transaction was sent").to.equal(nonce);
    expect(await hre.ethers.provider.getBlockNumber(), "a block was mined").to.equal(block);
    expect(err!.message.split("\n")).to.have.length(1);
    expect(err!.message).to.match(/^trust:agree: --avatars av2: /);
    // with the key back, the same proposal forms
    const r = await hre.run("trust:agree", { org: "org1", avatars: "av1", days: 30, termination: "t", penalty: "p" });
    expect(r.id).to.be.a("number");
  });
});
