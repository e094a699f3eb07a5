/**
 * s17-redA F5: `chain:advance --seconds` is checked to be a whole number but not bounded: a value
 * the node refuses (1e30: beyond 2^64 - 1) ends the command with exit 1, "this looks like a bug",
 * and the node's parser message ("Timestamp must be a non-negative number … at line 1 column 45"),
 * naming no flag. Charter: bad input gets one line that names the flag, exit 2, before anything is sent.
 */
import { expect } from "chai";
import hre from "hardhat";
import { describeError, exitCodeOf, EXIT } from "../../tasks/lib/cli";
import { rejects } from "../helpers/tasks";

describe("chain:advance: an out-of-range --seconds is bad input named by its flag (s17-redA F5)", function () {
  this.timeout(60_000);

  it("--seconds 1e30: exit 2, one line naming --seconds, the chain's time unchanged", async () => {
    const before = (await hre.ethers.provider.getBlock("latest"))!;
    const args = { seconds: 1e30, blocks: 1 };
    const e = await rejects(hre.run("chain:advance", args));
    const line = await describeError(e, hre, args);
    expect(exitCodeOf(e)).to.equal(EXIT.input, line);
    expect(line).to.contain("--seconds");
    expect((await hre.ethers.provider.getBlock("latest"))!.number).to.equal(before.number);
  });
});
