/**
 * s17-redA F2: `avatar:trace --evidence <file>` reads the file with a bare JSON.parse: a file that
 * is not JSON ends the command with exit 1 ("this looks like a bug") and the parser's message, and a
 * JSON file of another shape with a codec message ("fromHex: not a hex string … undefined"); neither
 * names --evidence. Charter: bad input gets a one-line error that names the flag, exit 2.
 * (`dispute:open --evidence` already says "--evidence X is not an evidence file (…)".)
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { describeError, exitCodeOf, EXIT } from "../../tasks/lib/cli";
import { rejects, useTaskSandbox } from "../helpers/tasks";

describe("avatar:trace: a bad --evidence file is bad input named by its flag (s17-redA F2)", function () {
  this.timeout(120_000);
  const dir = useTaskSandbox("metatrust-redA-trace-ev-");

  for (const [what, text] of [
    ["not JSON", "not json at all\n"],
    ["JSON of another shape", '{"hello": 1}\n'],
    ["a JSON array", "[1, 2, 3]\n"],
  ] as const)
    it(`${what}: exit 2, one line naming --evidence`, async () => {
      const file = path.join(dir(), `evidence-${what.replace(/\W+/g, "-")}.json`);
      fs.writeFileSync(file, text);
      const args = { evidence: file, fileOnly: true };
      const e = await rejects(hre.run("avatar:trace", args));
      const line = await describeError(e, hre, args);
      expect(exitCodeOf(e)).to.equal(EXIT.input, line);
      expect(line).to.contain("--evidence");
      expect(line).to.not.contain("\n");
    });
});
