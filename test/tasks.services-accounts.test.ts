/**
 * s23-fxops finding 2 (L/M; the class of s22-redo R1, left open for the services): a service's start
 * resolved its account with the resolver's default, which makes a key for a role name that has none
 * and funds it from the operator (RoleAccounts.key). `mssa:serve authority --account <mistyped
 * name>` made and funded that key and was refused only then ("… is not an authority of the place");
 * `rsms:serve rpm --pool <mistyped pool>` made and funded role `rpm:<pool>`'s key before "pool … has
 * no RPM in this data folder". Only the tasks whose job is to make an account make one
 * (`rsms:setup`, `idp:setup`, `rsms:rpm:register`, `rsms:rpm:enrol`, `trust:register`, the MSSA
 * user's `mssa:register`/`mssa:enrol --user`; and `trust:serve oracle|detector`, whose fixed role's
 * key it makes on its first start, to be granted its role).
 * Secure behaviour asserted: refused in one line naming the flag, no key written, nothing sent.
 * Bites: with the services' `create: false` taken out (tasks/services.ts) each case writes a key
 * and mines the funding transfer.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { useTaskSandbox } from "./helpers/tasks";

describe("service starts never make or fund a key for a name that has none (s23-fxops)", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s23-serve-accounts-");
  const ksDir = () => path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore");
  const snapshot = async () => ({
    files: fs.existsSync(ksDir()) ? fs.readdirSync(ksDir()).sort() : [],
    block: await hre.ethers.provider.getBlockNumber(),
  });
  const refused = async (task: string, args: Record<string, unknown>) => {
    const before = await snapshot();
    const err = await hre.run(task, args).then(
      () => undefined,
      (e: Error) => e,
    );
    const after = await snapshot();
    expect(err, `setup: ${task} is refused`).to.not.equal(undefined);
    expect(after.files, `the refused ${task} wrote a key`).to.deep.equal(before.files);
    expect(after.block, `the refused ${task} sent a transaction (the funding transfer)`).to.equal(before.block);
    expect(err!.message.split("\n")).to.have.length(1);
    return err!.message;
  };

  it("mssa:serve authority --account <a name with no key>: refused naming --account", async () => {
    await hre.run("mssa:place", {
      name: "PL-acct",
      authorities: (await hre.ethers.getSigners())
        .slice(1, 3)
        .map((s) => s.address)
        .join(","),
    });
    const msg = await refused("mssa:serve", { role: "authority", place: "PL-acct", account: "authorty:1", port: 0 });
    expect(msg).to.include('--account "authorty:1"').and.include("METATRUST_KEY_AUTHORTY_1");
  });

  it("mssa:serve authority --account <a key that is no authority of the place>: refused before its top-up (s23-review finding 6)", async () => {
    await hre.run("mssa:place", {
      name: "PL-notauth",
      authorities: (await hre.ethers.getSigners())
        .slice(1, 3)
        .map((s) => s.address)
        .join(","),
    });
    // a configured key with no ether: the resolver's default would top it up before the check
    const key = hre.ethers.Wallet.createRandom();
    process.env.METATRUST_KEY_NOTAUTH = key.privateKey;
    try {
      const msg = await refused("mssa:serve", { role: "authority", place: "PL-notauth", account: "notauth", port: 0 });
      expect(msg).to.include(`${key.address} (--account notauth) is not an authority of PL-notauth`);
      expect(await hre.ethers.provider.getBalance(key.address)).to.equal(0n);
    } finally {
      delete process.env.METATRUST_KEY_NOTAUTH;
    }
  });

  it("rsms:serve rpm --pool <a pool with no RPM here>: refused naming the pool", async () => {
    const msg = await refused("rsms:serve", { role: "rpm", pool: 7, port: 0 });
    expect(msg).to.include("pool 7 has no RPM in this data folder");
  });

  it("rsms:serve msrp and idp:serve in a folder with no MSRP / IdP: refused, no key made", async () => {
    expect(await refused("rsms:serve", { role: "msrp", port: 0 })).to.include("no MSRP in this data folder");
    expect(await refused("idp:serve", { port: 0 })).to.include("no IdP in this data folder");
  });
});
