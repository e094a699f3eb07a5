/**
 * FINDING s22-redo R1 (severity M: an honest party loses something it should keep; a rejected or
 * mistyped input changes the keystore and the chain).
 *
 * Attack / mishap: every task that takes an account (`--account`, `--from`) resolves a name that is
 * not a role it knows by GENERATING a fresh key for it (keystore record `account-<name>`) and, when
 * it signs, FUNDING that key from the operator (10 ETH on a development node, 0.01 ETH per key on a
 * testnet; offchain/chain/accounts.ts `keyOf(role, true)` + `role()`). So:
 * - `dispute:withdraw --account arbitr` (a typo of `arbiter`) succeeds ("nothing owed"): a new key
 *   is written to the keystore, the operator sends it 10 ETH, and the real payee's deposits stay
 *   where they were. Whoever can make an operator's script take a name of its choosing (or a typo
 *   repeated in a loop) drains the funder key by key into keys nobody uses.
 * - `mssa:report --from detectorr` is REFUSED ("neither a sitting authority nor the detector") but
 *   leaves `account-detectorr.json` in the keystore: a rejected input changed a keystore.
 *
 * Fixed behaviour: an account argument names a known role (the deployment's roles, a role key in
 * the environment or keystore), an address this machine holds a key for, or a signer index; any
 * other name is refused with one line naming the flag (`--account "arbitr" is not a role ...`),
 * before any keystore write or transfer. Generating a role key belongs to an explicit step.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { useTaskSandbox } from "../helpers/tasks";

describe("s22-redo R1 (fixed by s22-fxops): a mistyped account name creates and funds a new key", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s22redo-r1-");
  const ksDir = () => path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore");
  const snapshot = async () => ({
    files: fs.existsSync(ksDir()) ? fs.readdirSync(ksDir()).sort() : [],
    block: await hre.ethers.provider.getBlockNumber(),
    funder: await hre.ethers.provider.getBalance((await hre.ethers.getSigners())[0].address),
  });

  it("dispute:withdraw --account <typo>: refused with one line naming --account; no key written, no ETH sent", async () => {
    const before = await snapshot();
    let err: Error | undefined;
    try {
      await hre.run("dispute:withdraw", { account: "arbitr" });
    } catch (e) {
      err = e as Error;
    }
    const after = await snapshot();
    // the attack's effect, stated first so the failure names it
    expect(after.files, "a keystore record was created for the typo").to.deep.equal(before.files);
    expect(after.block, "a transaction (the funding transfer) was mined").to.equal(before.block);
    expect(after.funder, "the operator paid for the typo").to.equal(before.funder);
    expect(err, "the typo was accepted").to.not.equal(undefined);
    expect(err!.message).to.match(/--account/);
    expect(err!.message.split("\n")).to.have.length(1);
  });

  it("mssa:report --from <typo> is refused and leaves the keystore as it was", async () => {
    const before = await snapshot();
    let err: Error | undefined;
    try {
      await hre.run("mssa:report", { node: "1", type: "other", from: "detectorr" });
    } catch (e) {
      err = e as Error;
    }
    expect(err, "the report was accepted").to.not.equal(undefined); // holds today: refused
    const after = await snapshot();
    expect(after.files, "the refused command wrote a key for --from detectorr").to.deep.equal(before.files);
    expect(after.block).to.equal(before.block);
  });
});
