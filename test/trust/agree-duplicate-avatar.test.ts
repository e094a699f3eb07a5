/**
 * s17-redA F24: `trust:agree --avatars ann,ann` (an avatar named twice, or two names of one id) is
 * refused only by the contract, "TrustManager refused: InvalidAgreement", which names no flag, and
 * only after the task collected every avatar's consent signature and put the terms on IPFS.
 * Charter: bad input gets one line that names the flag (exit 2), before anything is stored or sent.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { describeError, exitCodeOf, EXIT } from "../../tasks/lib/cli";
import { useTaskSandbox } from "../helpers/tasks";

/** Every file under a folder (the embedded IPFS store's blocks). */
function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name));
}

describe("trust:agree: an avatar named twice is bad input named by --avatars (s17-redA F24)", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-redA-agreedup-");

  it("--avatars ann,ann: exit 2 naming --avatars, nothing put on IPFS", async () => {
    await hre.run("trust:register", { entity: "ann", type: "avatar", verified: true, account: "ann" });
    await hre.run("trust:register", { entity: "guild", type: "organization", verified: true });
    const ipfs = process.env.METATRUST_IPFS_DIR ?? path.join(process.env.METATRUST_DATA_DIR!, hre.network.name, "ipfs");
    const before = files(ipfs).length;
    const args = {
      org: "guild",
      avatars: "ann,ann",
      days: 30,
      termination: "trust below Trust_min for 7 days",
      penalty: "reputation -0.1",
    };
    const e = (await hre.run("trust:agree", args).then(
      () => undefined,
      (x: unknown) => x,
    )) as Error | undefined;
    expect(e, "accepted").to.not.equal(undefined);
    const line = await describeError(e, hre, args);
    expect(line).to.contain("--avatars");
    expect(exitCodeOf(e)).to.equal(EXIT.input, line);
    expect(files(ipfs).length).to.equal(before, "the terms were stored before the refusal");
  });
});
