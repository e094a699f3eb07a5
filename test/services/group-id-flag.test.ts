/**
 * s17-redA F8: every `group:*` task decodes --group with a bare fromHex, so a group id that is not
 * 32 bytes of hex (a typo, a decimal id, a truncated paste) ends the command with the codec's line,
 * "fromHex: not a hex string of whole bytes: 999…", which names no flag. Charter: bad input gets a
 * one-line error that names the flag or the entity (exit 2).
 */
import { expect } from "chai";
import hre from "hardhat";
import { describeError, exitCodeOf, EXIT } from "../../tasks/lib/cli";
import { rejects, useRsmsTaskSandbox } from "../helpers/tasks";

describe("group:*: a --group that is not a group id is named by its flag (s17-redA F8)", function () {
  this.timeout(180_000);
  useRsmsTaskSandbox("metatrust-redA-groupid-", ["edge-1"]);

  for (const [task, extra] of [
    ["group:status", {}],
    ["group:send", { from: "alice", msg: "hi" }],
    ["group:rekey", { evict: "", add: "" }],
  ] as const)
    for (const group of ["999", "0x1234", "zz"])
      it(`${task} --group ${group}: exit 2, one line naming --group`, async () => {
        const args = { group, ...extra };
        const e = await rejects(hre.run(task, args));
        const line = await describeError(e, hre, args);
        expect(line).to.contain("--group");
        expect(exitCodeOf(e)).to.equal(EXIT.input, line);
      });
});
