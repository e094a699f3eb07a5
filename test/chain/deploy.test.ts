import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { deploySystem } from "../../offchain/chain/deploy";
import { readDeployment, DeploymentNotFoundError } from "../../offchain/chain/deployments";
import { probeEip2537 } from "../../offchain/chain/eip2537";
import { expectThrows } from "../helpers/errors";

describe("chain/deploy", () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.METATRUST_DEPLOYMENTS_DIR;
    process.env.METATRUST_DEPLOYMENTS_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-dep-"));
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.METATRUST_DEPLOYMENTS_DIR;
    else process.env.METATRUST_DEPLOYMENTS_DIR = saved;
  });

  it("the in-process network runs EIP-2537 (probed against noble)", async () => {
    expect(await probeEip2537(hre.ethers.provider)).to.equal(true);
  });

  it("a provider without the precompiles (empty return data, as under cancun) is detected", async () => {
    expect(await probeEip2537({ call: async () => "0x" })).to.equal(false);
    expect(await probeEip2537({ call: async () => "0x" + "00".repeat(31) + "01" })).to.equal(false); // says yes to everything
  });

  it("the deploy task writes the record that readDeployment returns", async () => {
    const d = await hre.run("deploy", { quiet: true });
    const back = readDeployment("hardhat");
    expect(back).to.deep.equal(d);
    expect(back.chainId).to.equal(31337);
    expect(back.eip2537).to.equal(true);
    const [deployer] = await hre.ethers.getSigners();
    expect(back.deployer).to.equal(deployer.address);
    for (const c of Object.values(back.contracts)) expect(await hre.ethers.provider.getCode(c.address)).to.not.equal("0x");
  });

  it("deploySystem with write: false leaves no record", async () => {
    await deploySystem(hre, { write: false });
    expectThrows(
      () => readDeployment("hardhat"),
      DeploymentNotFoundError,
      "DEPLOYMENT_NOT_FOUND",
      /run `npx hardhat deploy --network hardhat`/,
    );
  });
});
