/**
 * s23-review F2, F3 (fixed: a simulation before the record and the top-up; the era compared only when nothing was opened): the court's new refusals (s23-rtt R1 EvidenceHeard, R4
 * ClaimantStakeTooLow over open claims) have no view the task can read, so `dispute:open` learns of
 * them only from the contract, after it has written its journal record and sent the claimant's
 * controller its top-up. House rule: bad input gets a one-line error naming the flag and changes
 * nothing, on-chain or in any keystore/record.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "../helpers/tasks";
import { revertData } from "../../tasks/lib/cli";
import { readDeployment } from "../../offchain/chain/deployments";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { fromHex, toHex } from "../../offchain/crypto/bytes";

describe("s23-review: dispute:open refuses evidence heard already before anything is sent or stored", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-s23-review-");

  it("the same evidence against the same respondent, under another --request: nothing sent, nothing journaled", async () => {
    await hre.run("trust:register", { entity: "ann", type: "avatar", account: "4", verified: true });
    await hre.run("trust:register", { entity: "eve", type: "avatar", account: "8" });
    const file = path.join(process.env.METATRUST_DATA_DIR!, "eve-breach.txt");
    fs.writeFileSync(file, "eve's breach");
    await hre.run("dispute:open", { claimant: "ann", respondent: "eve", nature: "service", options: 2, evidence: file });
    const data = process.env.METATRUST_DATA_DIR!;
    const files = () => (fs.readdirSync(data, { recursive: true }) as string[]).filter((f) => f.includes("dispute-open")).sort();
    const journaled = files();
    const block = await hre.ethers.provider.getBlockNumber();
    const e = await rejects(
      hre.run("dispute:open", { claimant: "ann", respondent: "eve", nature: "service", options: 2, evidence: file, request: "again" }),
    );
    // observed at 64929400: blocks 1 (the top-up), journal + dispute-open-again.json, and the
    // contract's EvidenceHeard as the only error (no read of it exists: add a view, pre-check it)
    const seen = { message: e.message.split("\n")[0], blocks: (await hre.ethers.provider.getBlockNumber()) - block, journal: files() };
    expect(seen, "no block mined (top-up); no journal record written").to.deep.include({
      blocks: 0,
      journal: journaled,
    });
    // the refusal is the court's own, decoded (the CLI prints it as one line naming the flags)
    const dr = await hre.ethers.getContractAt("DisputeResolution", readDeployment("hardhat").contracts.DisputeResolution.address);
    expect(dr.interface.parseError(revertData(e)!)?.name).to.equal("DisputeResolution__EvidenceHeard");
  });

  it("a retry of an open that took effect reports its dispute after a reclaim too (it is refused as another request)", async () => {
    const tm = await hre.ethers.getContractAt("TrustManager", readDeployment("hardhat").contracts.TrustManager.address);
    const dr = await hre.ethers.getContractAt("DisputeResolution", readDeployment("hardhat").contracts.DisputeResolution.address);
    await hre.run("idp:setup");
    const { serial } = await hre.run("idp:issue", { user: "alice" });
    const fox = toHex(avatarIdOf(fromHex(serial), "fox"));
    await hre.run("trust:register", { entity: "cat", type: "avatar", account: "6", verified: true });
    await hre.run("trust:register", { entity: fox, type: "avatar", account: "5" }); // a squatter's plain entry
    const file = path.join(process.env.METATRUST_DATA_DIR!, "fox-breach.txt");
    fs.writeFileSync(file, "the squatter's breach");
    const args = { claimant: "cat", respondent: fox, nature: "service", options: 2, evidence: file };
    const first = await hre.run("dispute:open", args);
    // alice's attested registration reclaims fox (era 1) while the claimant's reply is lost
    await hre.run("avatar:login", { user: "alice", avatar: "fox" });
    await hre.run("trust:register", { entity: fox, type: "avatar", account: "7" });
    expect(await tm.generationOf(fox)).to.equal(1n);
    const count = await dr.disputeCount();
    // the same command again: the dispute it opened, nothing sent (h13-red D2), as before the reclaim
    const again = await hre.run("dispute:open", args).catch((e: Error) => e.message);
    expect(again, "the retry of an open that took effect was refused").to.deep.equal({ id: first.id, existing: true });
    expect(await dr.disputeCount()).to.equal(count);
  });
});
