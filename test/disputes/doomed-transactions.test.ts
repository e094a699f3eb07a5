/**
 * FINDING s22-redo R3 (severity L: "a rejected input changes nothing on-chain" and "bad input gets
 * a one-line error that names the flag or the entity" are broken; the operator pays gas for it).
 *
 * Attack / mishap: two tasks send a transaction the contract must refuse and let it be mined,
 * reverted, with the operator's gas and nonce spent, then print the raw Solidity revert:
 * - `dispute:resolve --id 99` (no such dispute): a status-0 transaction to DisputeResolution,
 *   "VM Exception while processing transaction: reverted with custom error
 *   'DisputeResolution__UnknownDispute(99)'" (dispute:show/commit/appeal check the id first);
 * - `trust:register --entity e1 --type avatar` a second time: a status-0 transaction to TrustManager,
 *   "reverted with custom error 'TrustManager__EntityExists(0x...)'".
 * On a testnet each retry of such a command by a script costs real gas.
 *
 * Fixed behaviour: both are refused before sending, in one line naming the flag or entity
 * ("dispute:resolve: --id 99: no such dispute"; "trust:register: --entity e1 is already
 * registered"), no transaction mined.
 */
import { expect } from "chai";
import hre from "hardhat";
import { useTaskSandbox } from "../helpers/tasks";

async function refusedWithoutTx(name: string, args: Record<string, unknown>, flag: RegExp): Promise<void> {
  const [operator] = await hre.ethers.getSigners();
  const block = await hre.ethers.provider.getBlockNumber();
  const nonce = await hre.ethers.provider.getTransactionCount(operator.address);
  let err: Error | undefined;
  try {
    await hre.run(name, args);
  } catch (e) {
    err = e as Error;
  }
  expect(err, `${name} accepted the input`).to.not.equal(undefined);
  expect(await hre.ethers.provider.getTransactionCount(operator.address), `${name} sent a doomed transaction (${err!.message})`).to.equal(
    nonce,
  );
  expect(await hre.ethers.provider.getBlockNumber()).to.equal(block);
  expect(err!.message).to.not.match(/VM Exception|reverted with/);
  expect(err!.message).to.match(flag);
}

describe("s22-redo R3 (fixed by s22-fxops): refused inputs that are sent and mined as reverted transactions", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s22redo-r3-");

  it("dispute:resolve --id <no such dispute>", async () => {
    await refusedWithoutTx("dispute:resolve", { id: 99 }, /--id/);
  });

  it("trust:register of an entity already registered", async () => {
    await hre.run("trust:register", { entity: "e1", type: "avatar" });
    await refusedWithoutTx("trust:register", { entity: "e1", type: "avatar" }, /e1/);
  });
});
