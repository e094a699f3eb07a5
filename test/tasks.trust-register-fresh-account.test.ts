/**
 * s22-review F3 (tasks/trust.ts trust:register; fixed in session 22: a new name's key is made just before the
 * first transaction, after every check): `--account <new name>` is resolved with
 * `create: true` in `trustContext`, i.e. its key is generated into the keystore and funded from the
 * operator, before any of the task's own checks (--type, --entity, --attestation, the duplicate
 * refusal that says "nothing sent"). A refused registration leaves a new funded key: a rejected input
 * changes the keystore and the chain (the class of s22-redo R1, left open for the one task allowed
 * to make an account).
 * Secure behaviour asserted: a refused trust:register writes no key and sends nothing. (Residual: an avatar or
 * resource node someone else controls is not refused by the task, since its attested owner may reclaim it to a
 * new account; the contract decides, after the new key was made and funded.)
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { useTaskSandbox } from "./helpers/tasks";

describe("trust:register --account <a new name>: refused, it makes no key and funds nothing (s22-review F3)", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s22review-reg-");
  const ksDir = () => path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore");
  const snapshot = async () => ({
    files: fs.existsSync(ksDir()) ? fs.readdirSync(ksDir()).sort() : [],
    block: await hre.ethers.provider.getBlockNumber(),
  });

  for (const [what, args] of [
    ["a bad --type", { entity: "zed", type: "planet", account: "zedd" }],
    ["a duplicate (registered already, 'nothing sent')", { entity: "yan", type: "organization", account: "yann" }],
    [
      "an attestation, which cannot name a key that does not exist yet",
      { entity: "zoe", type: "avatar", account: "zoee", attestation: "0x" + "11".repeat(65), deadline: "9999999999" },
    ],
  ] as const)
    it(`${what}: refused, and no key written, nothing sent`, async () => {
      if (args.entity === "yan") await hre.run("trust:register", { entity: "yan", type: "organization", account: "yan-owner" });
      const before = await snapshot();
      let err: Error | undefined;
      try {
        await hre.run("trust:register", { ...args, verified: false });
      } catch (e) {
        err = e as Error;
      }
      const after = await snapshot();
      console.log = console.error;
      console.error(
        `      refused: ${err?.message}; new keystore files: ${after.files.filter((f) => !before.files.includes(f)).join(",") || "none"}; blocks mined: ${after.block - before.block}`,
      );
      expect(err, "setup: the registration is refused").to.not.equal(undefined);
      expect(after.files, "the refused command wrote a key").to.deep.equal(before.files);
      expect(after.block, "the refused command sent a transaction (the funding transfer)").to.equal(before.block);
    });
});
