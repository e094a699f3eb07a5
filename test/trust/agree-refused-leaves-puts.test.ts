/**
 * FINDING s22-redo R6 (severity L, M where IPFS is a paid or public pinning service: "an input that
 * is rejected changes nothing, on-chain or in any keystore ... no IPFS put" and "bad input gets a
 * one-line error that names the flag or the entity" are broken by trust:agree).
 *
 * Attack / mishap: trust:agree checks its flags' shape, then journals its intent in the keystore
 * (`trust-agree-<hash>`) and puts and pins the terms on IPFS, and only then learns from the chain
 * that the proposal is impossible:
 * - `--avatars nobody` (no such entity): refused with "account 0x000...0: no key for it here",
 *   naming neither --avatars nor "nobody", after the terms block was put and pinned and the intent
 *   record written;
 * - `--org av1 --avatars org1` (an avatar where the organization goes): the same put, pin and
 *   record, then a doomed transaction mined reverted with the raw "TrustManager__InvalidAgreement()".
 * Every refused attempt leaves a pinned IPFS block and a keystore record behind (and the
 * intent names a proposal that can never form).
 *
 * Fixed behaviour: both refused before any keystore write, IPFS put or transaction, in one line
 * naming the flag and the entity ("trust:agree: --avatars nobody is not registered";
 * "trust:agree: --org av1 is an avatar, not an organization").
 */
import { expect } from "chai";
import crypto from "crypto";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { useTaskSandbox } from "../helpers/tasks";

function tree(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const f of fs.readdirSync(d)) {
      const p = path.join(d, f);
      if (fs.statSync(p).isDirectory()) walk(p);
      else if (!f.endsWith(".tmp") && !f.endsWith(".wal")) m.set(p, crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex"));
    }
  };
  walk(dir);
  return m;
}

describe("s22-redo R6 (fixed by s22-fxops): a refused trust:agree leaves an IPFS put, a pin and a keystore record", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s22redo-r6-");
  const data = () => path.join(process.env.METATRUST_DATA_DIR!, "hardhat");

  before(async () => {
    await hre.run("trust:register", { entity: "org1", type: "organization" });
    await hre.run("trust:register", { entity: "av1", type: "avatar" });
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["--avatars names no entity", { org: "org1", avatars: "nobody" }, /nobody/],
    ["--org is an avatar, --avatars an organization", { org: "av1", avatars: "org1" }, /--org/],
  ];
  for (const [what, args, names] of cases)
    it(`${what}: refused in one line naming it; no keystore write, no IPFS put, no transaction`, async () => {
      const [operator] = await hre.ethers.getSigners();
      const nonce = await hre.ethers.provider.getTransactionCount(operator.address);
      const before = tree(data());
      let err: Error | undefined;
      try {
        await hre.run("trust:agree", { ...args, days: 30, termination: "t", penalty: "p" });
      } catch (e) {
        err = e as Error;
      }
      const after = tree(data());
      const changed = [...new Set([...before.keys(), ...after.keys()])]
        .filter((k) => before.get(k) !== after.get(k))
        .map((k) => path.relative(data(), k));
      expect(err, "the proposal was accepted").to.not.equal(undefined);
      expect(changed, `the refused proposal (${err!.message}) wrote`).to.deep.equal([]);
      expect(await hre.ethers.provider.getTransactionCount(operator.address), "a doomed transaction was sent").to.equal(nonce);
      expect(err!.message).to.match(names);
      expect(err!.message.split("\n")).to.have.length(1);
    });
});
