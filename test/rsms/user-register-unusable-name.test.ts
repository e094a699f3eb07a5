/**
 * s17-redA F13: `rsms:user:register --name` (in-process MSRP) accepts a name the keystore cannot
 * hold ("al ice", "bob/x", a non-ASCII letter): the MSRP registers the user and keeps her keys and
 * PID in its record, and every later command that names her (`group:request --user "al ice"`,
 * `group:send --from "al ice"`) is refused with "Keystore: invalid record name "rsms-user-al ice"",
 * which names no flag. The user is registered for good and can never be used. Charter: bad input gets
 * one line that names the flag, and changes nothing.
 */
import { expect } from "chai";
import hre from "hardhat";
import { describeError, exitCodeOf, EXIT } from "../../tasks/lib/cli";
import { useRsmsTaskSandbox } from "../helpers/tasks";

describe("rsms:user:register: a name no later command can use is refused (s17-redA F13)", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-redA-username-", ["edge-1"]);

  for (const name of ["al ice", "bob/x", "zoë"])
    it(`--name "${name}": exit 2 naming --name, the MSRP keeps no such user`, async () => {
      const args = { name };
      const e = (await hre.run("rsms:user:register", args).then(
        () => undefined,
        (x: unknown) => x,
      )) as Error | undefined;
      const users = (sandbox.keystore().load("rsms-msrp") as { users?: Record<string, unknown> }).users ?? {};
      expect(Object.keys(users)).to.not.include(name, "the MSRP registered a user no command can name");
      expect(e, "accepted").to.not.equal(undefined);
      expect(exitCodeOf(e)).to.equal(EXIT.input);
      expect(await describeError(e, hre, args)).to.contain("--name");
    });
});
