/**
 * s20-redt F3 through the project's juror tool (s20-review finding 1; fixed in session 22): in a
 * flag contest the view `eligibleWeight`, which `dispute:commit` asks before it sends, reads the
 * commit's own flag rule. A juror the detector (the contest's other side) flags after the contest
 * opened (a later flag run: each `trust:flag` is a run of its own) commits through the task; one
 * flagged in a run at or before the opening is refused by the task, with the reason, and by the
 * contract alike.
 */
import { expect } from "chai";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "./helpers/tasks";
import { entityId } from "../offchain/trust/ledger";
import { readDeployment } from "../offchain/chain/deployments";

describe("tasks: dispute:commit in a flag contest (in-process network)", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-flag-contest-tasks-");

  it("a juror flagged after the opening commits through the task; one flagged before it is refused by the task and the contract", async () => {
    for (const [n, account] of [
      ["eve", "4"],
      ["vic", "1"],
      ["wes", "2"],
      ["xia", "3"],
    ])
      await hre.run("trust:register", { entity: n, type: "avatar", account, verified: true });
    await hre.run("chain:advance", { blocks: 7_201 }); // old enough to vote
    const dr = await hre.ethers.getContractAt("DisputeResolution", readDeployment("hardhat").contracts.DisputeResolution.address);
    // xia is flagged before the contest opens; eve, then, for a mistaken report
    await hre.run("trust:flag", { entity: "xia", kind: "good-mouthing", evidence: "xia's own case" });
    await hre.run("trust:flag", { entity: "eve", kind: "sybil", evidence: "a mistaken sybil report" });
    await hre.run("chain:advance", { blocks: 1 });
    const eve = (await hre.ethers.getSigners())[4];
    await dr
      .connect(eve)
      .openDispute(entityId("eve"), hre.ethers.ZeroHash, 3, 2, hre.ethers.ZeroHash, "", 0, { value: (await dr.params()).deposit });
    const id = Number(await dr.disputeCount());
    expect((await dr.dispute(id)).nature).to.equal(3n);
    // the detector, the other side, flags vic after the opening (front-running its commit)
    await hre.run("trust:flag", { entity: "vic", kind: "good-mouthing", evidence: "vic sits on the jury" });
    const r = await hre.run("dispute:commit", { id, voter: "vic", choice: 0 });
    expect(r.existing).to.equal(false);
    expect((await dr.voteOf(id, entityId("vic"))).commitment).to.not.equal("0x" + "00".repeat(20));
    // xia held its flag when the contest opened (re-asserted since, through the task: the run it is
    // held since does not move): the task refuses it, naming why, and the contract would too
    await hre.run("trust:flag", { entity: "xia", kind: "good-mouthing", evidence: "xia's case, re-asserted" });
    const refused = await rejects(hre.run("dispute:commit", { id, voter: "xia", choice: 0 }));
    expect([refused.name, refused.message]).to.deep.equal([
      "RefusedError",
      `dispute:commit: xia has no vote in #${id} (below the minimum reputation or age at the snapshot, an entity of a party's account or of a party avatar's other account, flagged since a detector run at or before the dispute opened, or its identity revoked at or before the snapshot)`,
    ]);
    const xia = (await hre.ethers.getSigners())[3];
    await expect(dr.connect(xia).commit(id, entityId("xia"), hre.ethers.id("any")))
      .to.be.revertedWithCustomError(dr, "DisputeResolution__Flagged")
      .withArgs(id, entityId("xia"));
    // an unflagged juror, as a control
    await hre.run("dispute:commit", { id, voter: "wes", choice: 0 });
    expect((await dr.voteOf(id, entityId("wes"))).commitment).to.not.equal("0x" + "00".repeat(20));
  });
});
