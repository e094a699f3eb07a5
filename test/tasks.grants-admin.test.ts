/**
 * s23-fxops finding 4 (doomed sends), the grant tasks: `rsms:msrp:grant`, `idp:grant` and
 * `trust:grant` sent `grantRole` from this machine's first account whatever it was, and a machine
 * whose first account is not the contract's admin paid for a transaction mined reverted
 * (AccessControlUnauthorizedAccount), printed raw; `rsms:msrp:grant` could grant on the
 * ResourcePoolRegistry and then be refused on the ServiceGroupRegistry.
 * Fixed: the admin role is read first; refused in one line naming the contract, nothing sent.
 * Bite: without the check (adminOf in tasks/services.ts) a block is mined and the message is raw.
 */
import { expect } from "chai";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "./helpers/tasks";
import { readDeployment } from "../offchain/chain/deployments";

describe("grant tasks from an account that is not the contract's admin (s23-fxops)", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s23-grants-");

  it("rsms:msrp:grant, idp:grant and trust:grant: refused in one line naming the contract, nothing sent", async () => {
    const [admin, other] = await hre.ethers.getSigners();
    const d = readDeployment("hardhat").contracts;
    // the admin hands the ServiceGroupRegistry, the MITRegistry and the TrustManager over to another account
    for (const name of ["ServiceGroupRegistry", "MITRegistry", "TrustManager"] as const) {
      const c = await hre.ethers.getContractAt("ResourcePoolRegistry", d[name].address); // AccessControl's ABI
      const role = await c.DEFAULT_ADMIN_ROLE();
      await (await c.grantRole(role, other.address)).wait();
      await (await c.renounceRole(role, admin.address)).wait();
    }
    const to = (await hre.ethers.getSigners())[5].address;
    const reg = await hre.ethers.getContractAt("ResourcePoolRegistry", d.ResourcePoolRegistry.address);
    for (const [task, args, name] of [
      ["rsms:msrp:grant", { to }, "ServiceGroupRegistry"],
      ["idp:grant", { to }, "MITRegistry"],
      ["trust:grant", { role: "oracle", to }, "TrustManager"],
    ] as const) {
      const block = await hre.ethers.provider.getBlockNumber();
      const e = await rejects(hre.run(task, args));
      expect(e.message, task).to.equal(
        `${task}: ${admin.address} (this machine's first account: PRIVATE_KEY) is not the ${name}'s admin (DEFAULT_ADMIN_ROLE); run it with the deployer's key; nothing sent`,
      );
      expect(await hre.ethers.provider.getBlockNumber(), `${task} sent a transaction`).to.equal(block);
    }
    // the ResourcePoolRegistry, whose admin this account still is, was not granted alone
    expect(await reg.hasRole(await reg.MSRP_ROLE(), to), "rsms:msrp:grant granted one registry of two").to.equal(false);
  });
});
