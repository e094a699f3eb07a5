/**
 * FINDING s22-redo R4 (severity L: bad input does not get a one-line error naming the flag).
 *
 * `--id -1` on dispute:show, dispute:commit and dispute:resolve, and `--case abc` / `--case -1` on
 * avatar:audit, reach ethers or BigInt untouched and come back as
 * "TypeError: value out-of-bounds (argument="id", value=-1, code=INVALID_ARGUMENT, version=6.17.0)"
 * or "SyntaxError: Cannot convert abc to a BigInt": neither names the flag the user typed (ethers'
 * `argument="id"` is the contract's parameter, and `--case` is not named at all).
 * dispute:appeal already checks ("--id must be a positive integer").
 *
 * Fixed behaviour: each is refused with a UsageError whose one line names the flag
 * ("dispute:show: --id must be a positive integer, got -1"), nothing sent.
 */
import { expect } from "chai";
import hre from "hardhat";
import { useTaskSandbox } from "../helpers/tasks";

describe("s22-redo R4 (fixed by s22-fxops): malformed --id / --case give raw library errors", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s22redo-r4-");

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["dispute:show", { id: -1 }, /--id/],
    ["dispute:commit", { id: -1, voter: "x", choice: 0 }, /--id/],
    ["dispute:resolve", { id: -1 }, /--id/],
    ["avatar:audit", { case: "abc" }, /--case/],
    ["avatar:audit", { case: "-1" }, /--case/],
  ];
  for (const [name, args, flag] of cases)
    it(`${name} ${JSON.stringify(args)}: a one-line error naming the flag`, async () => {
      if (name === "avatar:audit") await hre.run("idp:setup").catch(() => undefined);
      let err: Error | undefined;
      try {
        await hre.run(name, args);
      } catch (e) {
        err = e as Error;
      }
      expect(err, "accepted").to.not.equal(undefined);
      expect(err!.message, `${err!.constructor.name}: ${err!.message}`).to.match(flag);
      expect(err!.message.split("\n")).to.have.length(1);
    });
});
