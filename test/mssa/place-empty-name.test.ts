/**
 * s17-redA F27: `mssa:place --name ""` resolves --authorities first (a role name there that this
 * folder has no key for gets a new key written to the keystore: `account-<role>.json`) and only
 * then derives the place id, whose RangeError "a place needs a name" ends the command with exit 1,
 * "this looks like a bug", naming no flag. Charter: bad input gets one line that names the flag
 * (exit 2) and changes nothing, in any keystore.
 */
import { expect } from "chai";
import hre from "hardhat";
import { localState } from "../../tasks/lib/context";
import { describeError, exitCodeOf, EXIT } from "../../tasks/lib/cli";
import { useTaskSandbox } from "../helpers/tasks";

describe('mssa:place --name "": one line naming --name, no key written (s17-redA F27)', function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-redA-placename-");

  it('--name "" --authorities zed-1,zed-2: exit 2 naming --name, no account-zed-* record', async () => {
    const ks = localState(hre).keystore;
    const args = { name: "", authorities: "zed-1,zed-2" };
    const e = (await hre.run("mssa:place", args).then(
      () => undefined,
      (x: unknown) => x,
    )) as Error | undefined;
    expect(ks.list().filter((n) => n.startsWith("account-zed"))).to.deep.equal([], "a refused command wrote role keys");
    expect(e, "accepted").to.not.equal(undefined);
    const line = await describeError(e, hre, args);
    expect(exitCodeOf(e)).to.equal(EXIT.input, line);
    expect(line).to.contain("--name");
  });
});
