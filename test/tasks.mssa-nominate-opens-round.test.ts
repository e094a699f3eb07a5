/**
 * Red team h15-red2, finding R4 (fixed): `mssa:nominate` opens a round behind a nomination it then
 * fails to send.
 *
 * The task says "Checked before anything is sent: a refused nomination must not leave a round
 * opened behind it", and checks that --from and --nominee are members (tested in
 * tasks.mssa.test.ts). Its sibling is not checked before `openRound` is mined: a nominee that
 * is a member at R = 1 (the contract's `AuthorityElection__Ineligible`, which `nominate` reverts
 * with after the round is open). The command fails and a round has been opened (a new nomination
 * period runs, `currentRound` has moved), paid by the operator.
 */
import { expect } from "chai";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "./helpers/tasks";

describe("h15-red2 R4 (fixed): mssa:nominate refused after it opened a round", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-h15-nominate-");

  before(async () => {
    // 3 genesis authorities + 4 enrolled members = 7 = 2m + 1: a round may open
    for (const m of ["4", "5", "6", "7"]) await hre.run("mssa:enrol", { member: m, document: `passport:UTO:N000000${m}`, remove: false });
  });

  it("a nominee at R = 1 is refused and no round is opened", async () => {
    // the detector's reports take member 5 to R = 1 (5 + 10 + 10 + 3 reports, capped: 0.4 + 0.3 + 0.2 + 0.3)
    const types = { "block-detection": 5, communication: 10, "no-response": 10, other: 3 };
    let ratio = 0n;
    for (const [type, n] of Object.entries(types))
      for (let i = 0; i < n; i++) ratio = (await hre.run("mssa:report", { node: "5", type, evidence: `h15 ${type} ${i}` })).ratio;
    expect(ratio >= 10n ** 18n, "set-up: member 5 is at R = 1").to.equal(true);
    const before = (await hre.run("mssa:status")).round;
    const e = await rejects(hre.run("mssa:nominate", { from: "4", nominee: "5" }));
    expect(e.message.split("\n")[0]).to.match(/5|Ineligible|R = 1|ratio/i);
    expect((await hre.run("mssa:status")).round, "the refused nomination opened a round").to.equal(before);
  });
});
