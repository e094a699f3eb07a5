/**
 * Source verification of a deployment (`deploy:verify`, offchain/chain/verify.ts). The explorers
 * cannot be reached here, so hardhat-verify's `verify:verify` subtask is replaced by a recorder:
 * the tests check that every contract of the record gets one call with its address, its fully
 * qualified name and constructor arguments that reproduce, through hardhat-verify's own encoder,
 * the bytes the contract was created with (what Etherscan and Sourcify compare).
 */
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { expect } from "chai";
import { deploySystem } from "../../offchain/chain/deploy";
import { Deployment, readDeployment } from "../../offchain/chain/deployments";
import { SYSTEM_CONTRACTS } from "../../offchain/chain/system";
import { VERIFY_SUBTASK, VerificationFailedError, verificationCalls, verifyAll } from "../../offchain/chain/verify";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { encodeArguments } = require("@nomicfoundation/hardhat-verify/internal/utilities") as {
  encodeArguments(abi: unknown[], sourceName: string, contractName: string, args: unknown[]): Promise<string>;
};

type Call = [string, Record<string, unknown>];

describe("deploy:verify (source verification of deployments/<network>.json)", function () {
  this.timeout(300_000);
  let record: Deployment;
  const saved = process.env.METATRUST_DEPLOYMENTS_DIR;

  before(async () => {
    // The record as `deploy` writes it (arguments through JSON: bigints as strings), in a folder of its own.
    process.env.METATRUST_DEPLOYMENTS_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-verify-"));
    await deploySystem(hre, { write: true });
    record = readDeployment(hre.network.name);
  });

  after(() => {
    if (saved === undefined) delete process.env.METATRUST_DEPLOYMENTS_DIR;
    else process.env.METATRUST_DEPLOYMENTS_DIR = saved;
  });

  const recorder = (fail: string[] = []) => {
    const calls: Call[] = [];
    const run = async (name: string, args: Record<string, unknown>) => {
      calls.push([name, args]);
      if (fail.some((f) => args.contract === f)) throw new Error(`explorer said no\nsecond line`);
    };
    return { calls, run };
  };

  describe("# configuration", () => {
    it("enables Sourcify without a key, and Etherscan only with ETHERSCAN_API_KEY", () => {
      expect(hre.config.sourcify.enabled).to.equal(process.env.SOURCIFY !== "false");
      expect(hre.config.etherscan.enabled).to.equal(Boolean(process.env.ETHERSCAN_API_KEY));
    });
  });

  describe("# verificationCalls", () => {
    it("gives every system contract, in deployment order, its address and fully qualified name", async () => {
      const calls = await verificationCalls(hre, record);
      expect(calls.map((c) => c.name)).to.deep.equal(SYSTEM_CONTRACTS.map((c) => c.name));
      for (const c of calls) {
        const a = await hre.artifacts.readArtifact(c.name);
        expect(c.address).to.equal(record.contracts[c.name].address);
        expect(c.contract).to.equal(`${a.sourceName}:${c.name}`);
        expect(c.contract).to.match(/^contracts\/.+\.sol:/);
      }
    });

    it("passes recorded constructor arguments that hardhat-verify encodes into the creation transaction's exact bytes", async () => {
      for (const c of await verificationCalls(hre, record)) {
        const a = await hre.artifacts.readArtifact(c.name);
        const encoded = await encodeArguments(a.abi, a.sourceName, a.contractName, c.constructorArguments);
        const tx = await hre.ethers.provider.getTransaction(record.contracts[c.name].txHash);
        expect(tx!.data, c.name).to.equal(a.bytecode + encoded);
      }
      // the record's own arguments, as written to the file
      const tm = (await verificationCalls(hre, record, ["TrustManager"]))[0];
      expect(tm.constructorArguments).to.deep.equal(record.contracts.TrustManager.args);
      expect(tm.constructorArguments.length).to.equal(4);
    });

    it("keeps only the contracts named by --only", async () => {
      const calls = await verificationCalls(hre, record, ["CPSVerifier", "TrustManager"]);
      expect(calls.map((c) => c.name)).to.deep.equal(["TrustManager", "CPSVerifier"]);
    });

    it("refuses an unknown --only name, naming the flag", async () => {
      await expect(verificationCalls(hre, record, ["TrustManger"])).to.be.rejectedWith(/--only: TrustManger is not a metatrust contract/);
    });

    it("refuses a contract whose creation bytecode changed since it was deployed, before any call", async () => {
      const stale = structuredClone(record);
      stale.contracts.CPSVerifier.bytecodeHash = "0x" + "11".repeat(32);
      const { calls, run } = recorder();
      await expect(verificationCalls(hre, stale).then((cs) => verifyAll(cs, run))).to.be.rejectedWith(
        /CPSVerifier at 0x[0-9a-fA-F]{40} was deployed from other sources/,
      );
      expect(calls).to.have.length(0);
    });

    it("refuses a record without a contract or without its constructor arguments, naming it", async () => {
      const partial = structuredClone(record);
      delete partial.contracts.DisputeResolution;
      await expect(verificationCalls(hre, partial)).to.be.rejectedWith(/DisputeResolution is not in deployments\/hardhat.json/);
      const old = structuredClone(record);
      delete old.contracts.MITRegistry.args;
      await expect(verificationCalls(hre, old)).to.be.rejectedWith(/MITRegistry at 0x[0-9a-fA-F]{40}: .* no constructor arguments/);
    });
  });

  describe("# verifyAll", () => {
    it("runs verify:verify once per contract with its address, name and arguments", async () => {
      const calls = await verificationCalls(hre, record);
      const { calls: made, run } = recorder();
      const outcomes = await verifyAll(calls, run);
      expect(made).to.deep.equal(
        calls.map((c): Call => [
          VERIFY_SUBTASK,
          { address: c.address, contract: c.contract, constructorArguments: c.constructorArguments },
        ]),
      );
      expect(outcomes.every((o) => o.ok)).to.equal(true);
    });

    it("tries every contract when one fails, then names the failed one and how to retry it", async () => {
      const calls = await verificationCalls(hre, record);
      const tm = calls.find((c) => c.name === "TrustManager")!;
      const { calls: made, run } = recorder([tm.contract]);
      const err = await verifyAll(calls, run).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(VerificationFailedError);
      expect((err as Error).message).to.equal(
        `1 of ${calls.length} contract(s) not verified: TrustManager (explorer said no); rerun with --only TrustManager`,
      );
      expect(made).to.have.length(calls.length);
      expect((err as VerificationFailedError).outcomes.filter((o) => !o.ok).map((o) => o.name)).to.deep.equal(["TrustManager"]);
    });
  });

  describe("# the task", () => {
    it("verifies the network's record through hre.run(verify:verify)", async () => {
      const made: Call[] = [];
      const run = hre.run;
      const env = hre as { run: typeof hre.run };
      env.run = (async (name: string, args?: Record<string, unknown>) => {
        if (name === VERIFY_SUBTASK) {
          made.push([name, args!]);
          return;
        }
        return run(name, args);
      }) as typeof hre.run;
      try {
        const outcomes = await run("deploy:verify", { noCompile: true, only: "ResourcePoolRegistry, AuthorityElection" });
        expect(outcomes).to.have.length(2);
      } finally {
        env.run = run;
      }
      expect(made.map(([, a]) => a.address)).to.deep.equal([
        record.contracts.ResourcePoolRegistry.address,
        record.contracts.AuthorityElection.address,
      ]);
      expect(made[1][1].constructorArguments).to.deep.equal(record.contracts.AuthorityElection.args);
    });
  });
});
