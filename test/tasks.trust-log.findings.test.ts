/**
 * Red team session 13 (h13-red), finding E5 (docs/specs/trust.md §8.7): `trust:rate` clears the
 * pair's interaction log only after its rating is mined and the process is still alive. If it dies
 * (or its wait fails) in between, the rating is on-chain and the log still holds its records; they
 * predate the rating now, so every later `trust:rate` of the pair refuses the whole log ("not after
 * the pair's previous rating"), new interactions are appended behind them, and `trust:interact`
 * with other terms refuses too ("rate them first"). The pair can no longer be rated from evidence
 * without editing the keystore by hand. This test fails while the finding is open.
 */
import { expect } from "chai";
import hre from "hardhat";
import { useTaskSandbox } from "./helpers/tasks";
import { InteractionLog } from "../offchain/trust/rater";

const ACCOUNTS = { eve: "8", fay: "9" } as const;

describe("h13-red finding E5: a rating whose process died before the log was cleared strands the pair", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-h13-log-");

  it("the next trust:rate of the pair rates the interactions logged since", async () => {
    for (const [n, account] of Object.entries(ACCOUNTS))
      await hre.run("trust:register", { entity: n, type: "avatar", verified: true, account });
    await hre.run("trust:interact", { from: "eve", to: "fay", outcome: "success", latency: 100, bound: 200 });
    await hre.run("trust:interact", { from: "eve", to: "fay", outcome: "failure", latency: 900 });
    // the process dies between the mined rating and log.clear (simulated: clear throws once)
    const clear = InteractionLog.prototype.clear;
    InteractionLog.prototype.clear = () => {
      throw new Error("simulated crash after the rating was mined");
    };
    try {
      await hre.run("trust:rate", { from: "eve", to: "fay" }).then(
        () => expect.fail("the simulated crash did not happen"),
        (e: Error) => expect(e.message).to.match(/simulated crash/),
      );
    } finally {
      InteractionLog.prototype.clear = clear;
    }
    // the rating is on-chain and verifies
    expect((await hre.run("trust:verify-rating", { from: "eve", to: "fay" })).verified).to.equal(true);
    // a day later eve uses fay's service again and rates it
    await hre.run("chain:advance", { seconds: 86_400 });
    await hre.run("trust:interact", { from: "eve", to: "fay", outcome: "success", latency: 120 });
    const outcome = await hre.run("trust:rate", { from: "eve", to: "fay" }).then(
      (r: { verifiable: boolean }) => (r.verifiable ? "rated" : "typed"),
      (e: Error) => e.message,
    );
    expect(outcome, "E5: the records of the mined rating stay in the log and block every later rating of the pair").to.equal("rated");
  });
});
