/**
 * s17-redA F28: `trust:interact --request req-1` run again (a retry: the operator did not see the
 * first run's line) logs a second record with the same request hash (receipt #1, then #2). The
 * verifier refuses a record set whose requests repeat, so from then on every `trust:rate --from ann
 * --to guild` is refused with "checkEvidence: record 2: request must be a distinct lowercase 0x
 * 32-byte hash" (exit 3, no flag named), and the pair's log is pruned only by a mined rating: the
 * rater can never again rate that provider from evidence. Charter: a retry never has a second
 * effect, and nobody is stranded.
 */
import { expect } from "chai";
import hre from "hardhat";
import { useTaskSandbox } from "../helpers/tasks";

describe("trust:interact: the same --request logged again is one record (s17-redA F28)", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-redA-interact-");

  it("interact --request req-1 twice, then rate: the rating goes through", async () => {
    await hre.run("trust:register", { entity: "ann", type: "avatar", verified: true, account: "ann" });
    await hre.run("trust:register", { entity: "guild", type: "organization", verified: true });
    const args = { from: "ann", to: "guild", outcome: "success", latency: 120, request: "req-1" };
    await hre.run("trust:interact", args);
    await hre.run("trust:interact", args).catch(() => undefined); // the retry: refused or a no-op, never a second record
    const r = (await hre.run("trust:rate", { from: "ann", to: "guild", unverifiable: false })) as { verifiable: boolean };
    expect(r.verifiable).to.equal(true);
  });
});
