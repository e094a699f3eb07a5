/**
 * s17-redA F22: `deploy --idp 0x0000000000000000000000000000000000000000` (or --msrp, --detector,
 * --registrar, --arbiter) is accepted: the flag is checked to be an address, and the zero address is
 * one. The whole system is deployed and recorded with the role granted to address 0, which nobody
 * can sign for (deployments/<network>.json names it as the IdP). Charter: bad input gets one line
 * that names the flag and changes nothing (no contract deployed, no record written).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { describeError, exitCodeOf, EXIT } from "../../tasks/lib/cli";

describe("deploy: a role flag naming the zero address is refused before anything is sent (s17-redA F22)", function () {
  this.timeout(180_000);
  const saved: Record<string, string | undefined> = {};
  let dir = "";
  before(() => {
    for (const k of ["METATRUST_DATA_DIR", "METATRUST_DEPLOYMENTS_DIR"]) saved[k] = process.env[k];
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-redA-deployzero-"));
    process.env.METATRUST_DATA_DIR = path.join(dir, "data");
    process.env.METATRUST_DEPLOYMENTS_DIR = path.join(dir, "deployments");
  });
  after(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  for (const flag of ["idp", "msrp"])
    it(`--${flag} 0x00…00: exit 2 naming --${flag}, nothing deployed or recorded`, async () => {
      const blockBefore = await hre.ethers.provider.getBlockNumber();
      const args = { [flag]: hre.ethers.ZeroAddress, quiet: true, fresh: true, write: true, noCompile: true };
      const e = (await hre.run("deploy", args).then(
        () => undefined,
        (x: unknown) => x,
      )) as Error | undefined;
      expect(fs.existsSync(path.join(dir, "deployments", `${hre.network.name}.json`))).to.equal(false, "a deployment was recorded");
      expect(await hre.ethers.provider.getBlockNumber()).to.equal(blockBefore, "contracts were deployed");
      expect(e, "accepted").to.not.equal(undefined);
      expect(exitCodeOf(e)).to.equal(EXIT.input);
      expect(await describeError(e, hre, args)).to.contain(`--${flag}`);
    });
});
