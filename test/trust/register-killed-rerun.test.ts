/**
 * FINDING s22-redo R5 (severity L: "a lost reply never strands a party" / "a retry never has a
 * second effect" broken for trust:register; the rerun cannot finish and pays for a doomed send).
 *
 * Attack / mishap: `trust:register --entity e1 --type avatar` sends the TrustManager registration
 * and only then writes the name to the keystore record `trust-names` (tasks/trust.ts
 * `c.remember` after `ledger.register`). A process killed (SIGKILL, a lost RPC reply, a crash)
 * between the mined transaction and that write leaves e1 registered and unnamed. The rerun
 * does not see that its own earlier attempt landed (only a --verified rerun resumes): it sends the
 * registration again, which is mined REVERTED (TrustManager__EntityExists, the operator's gas),
 * the task fails with the raw revert, and the name is never kept: every rerun fails the same way,
 * and trust:show keeps listing e1 without its name.
 * The state after the kill is made here exactly: a completed registration whose `trust-names`
 * record is then taken away (as if the write never happened).
 *
 * Fixed behaviour: a rerun that finds the entity registered with this controller and kind
 * completes without a transaction ("e1 (avatar) was registered as 0x..."), and keeps the name.
 */
import { expect } from "chai";
import hre from "hardhat";
import { useTaskSandbox } from "../helpers/tasks";

describe("s22-redo R5 (fixed by s22-fxops): trust:register killed between its transaction and its keystore write cannot be rerun", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s22redo-r5-");

  it("the rerun completes without a transaction and keeps the name", async () => {
    const { localState } = await import("../../tasks/lib/context");
    const ks = localState(hre).keystore;
    const { id } = (await hre.run("trust:register", { entity: "e1", type: "avatar" })) as { id: string };
    // the kill: the transaction is mined, the name was never written
    ks.remove("trust-names");
    const [operator] = await hre.ethers.getSigners();
    const nonce = await hre.ethers.provider.getTransactionCount(operator.address);
    let err: Error | undefined;
    try {
      expect(((await hre.run("trust:register", { entity: "e1", type: "avatar" })) as { id: string }).id).to.equal(id);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message, "the rerun failed").to.equal(undefined);
    expect(await hre.ethers.provider.getTransactionCount(operator.address), "the rerun sent a transaction").to.equal(nonce);
    expect(ks.exists("trust-names") && (ks.load("trust-names") as Record<string, string>)[id], "the name was not kept").to.equal("e1");
  });
});
