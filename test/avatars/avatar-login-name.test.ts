/**
 * s17-redA F14: `avatar:login --avatar "f o/x"` (a name the keystore cannot hold) was refused only
 * after the login was done: recordLogin mined (the avatar registered and verified on-chain for a
 * day), then the credential could not be kept: exit 2 with the keystore's "invalid record name",
 * naming no flag. Now --avatar is checked first (login and delegate): nothing is sent.
 */
import { expect } from "chai";
import hre from "hardhat";
import { describeError, exitCodeOf, EXIT } from "../../tasks/lib/cli";
import { useTaskSandbox } from "../helpers/tasks";

describe("avatar:login / avatar:delegate: a bad --avatar is refused before the chain (s17-redA F14)", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-redA-avname-");

  before(async () => {
    await hre.run("idp:setup", {});
    await hre.run("idp:issue", { user: "alice", operator: "metaverse AI service", abandon: false });
    await hre.run("idp:issue", { proxy: "helper", operator: "metaverse AI service", abandon: false });
  });

  for (const [task, extra] of [
    ["avatar:login", { appearance: "default appearance" }],
    ["avatar:delegate", { proxy: "helper" }],
  ] as const)
    it(`${task} --avatar "f o/x": nothing mined, exit 2 naming --avatar`, async () => {
      const blockBefore = await hre.ethers.provider.getBlockNumber();
      const args = { user: "alice", avatar: "f o/x", ...extra };
      const e = (await hre.run(task, args).then(
        () => undefined,
        (x: unknown) => x,
      )) as Error | undefined;
      expect(await hre.ethers.provider.getBlockNumber()).to.equal(blockBefore, "a transaction was mined before the name was refused");
      expect(e, "accepted").to.not.equal(undefined);
      expect(exitCodeOf(e)).to.equal(EXIT.input);
      expect(await describeError(e, hre, args)).to.contain("--avatar");
    });
});
