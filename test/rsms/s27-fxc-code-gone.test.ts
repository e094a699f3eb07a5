/**
 * s27-fxc (F1 of s27-rtc, as a class): a fast-path write whose contract's code is gone (a development
 * chain reset under a running process) is mined as a plain transfer with status 1. The receipt is the
 * call's only if it carries the event the call must emit from the contract's address
 * (offchain/chain/direct.ts ExpectedLog). Here for the join: the error names the registry and says its
 * code is gone, the join's intent is dropped (no intent left, nothing applied), and the process's
 * caches of chain state are dropped (offchain/chain/reset.ts): the next join checks the address's code
 * again (tasks/lib/context.ts codeSeen) and is refused before anything is sent.
 * The same for the registry's writes sent through ethers (RsmsLedger's `mined`: recordJoins, the MSRP
 * service's batch, has a static gas limit, and ethers estimates a call to no code as a transfer).
 * The rating's half (TrustManager.rate) is test/chain/code-gone-rate.test.ts.
 */
import { expect } from "chai";
import hre from "hardhat";
import { settled } from "../../offchain/storage/keystore";
import { joinViewsSettled } from "../../offchain/rsms/flows";
import { readDeployment } from "../../offchain/chain/deployments";
import { ContractCodeGoneError } from "../../offchain/chain/direct";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { attach } from "../../offchain/chain/contracts";
import { ResourcePoolRegistry__factory } from "../../typechain-types";
import { useRsmsTaskSandbox, rejects, joinQuietly } from "../helpers/tasks";

describe("s27-fxc: a join whose recordJoin is mined with no JoinRecorded (the registry's code gone)", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-s27fxc-nocode-", ["g1", "g2"]);
  const join = (rn: string) => joinQuietly(rn);

  it("fails naming the registry and its code gone, leaves no intent, and the next join checks the code again", async () => {
    await join("g1"); // the registry's code seen, the view read after it
    await settled();
    await joinViewsSettled();
    const registry = readDeployment("hardhat").contracts.ResourcePoolRegistry.address;
    const blocks = Number(await hre.network.provider.send("eth_blockNumber", []));
    const snap = await hre.network.provider.send("evm_snapshot", []);
    try {
      await hre.network.provider.send("hardhat_setCode", [registry, "0x"]);
      const out = await join("g2").catch((e: Error) => e);
      await settled();
      expect(out).to.be.instanceOf(ContractCodeGoneError);
      expect((out as Error).message).to.match(
        new RegExp(
          `^ResourcePoolRegistry\\.recordJoin: transaction 0x[0-9a-f]{64} was mined \\(block \\d+\\) with no JoinRecorded from ResourcePoolRegistry at ${registry}: its code is gone there`,
        ),
      );
      expect((out as Error).message).to.not.include("\n");
      // the transfer was mined (the transaction is final) and its intent dropped, not left for a resolver
      expect(Number(await hre.network.provider.send("eth_blockNumber", []))).to.equal(blocks + 1);
      expect(sandbox.keystore().intents(), "the join's intent is dropped").to.deep.equal([]);
      expect(sandbox.keystore().load("rsms-rn-g2")).to.deep.include({ joined: false });
      // the caches are dropped: the next join checks the code (deployedAddress) and sends nothing
      const again = await join("g2").catch((e: Error) => e);
      expect(String(again)).to.match(/no code at ResourcePoolRegistry's recorded address/);
      expect(Number(await hre.network.provider.send("eth_blockNumber", []))).to.equal(blocks + 1);
    } finally {
      await hre.network.provider.send("evm_revert", [snap]);
    }
  });

  it("recordJoins through ethers (the batch's static gas) mined with no JoinRecorded is ContractCodeGoneError, not a batch recorded", async () => {
    const { operatorSigner } = await import("../../tasks/lib/context");
    const registry = readDeployment("hardhat").contracts.ResourcePoolRegistry.address;
    const ledger = new RsmsLedger(attach(ResourcePoolRegistry__factory, registry, await operatorSigner(hre, "msrp")));
    const snap = await hre.network.provider.send("evm_snapshot", []);
    try {
      await hre.network.provider.send("hardhat_setCode", [registry, "0x"]);
      const record = { pid: new Uint8Array(32).fill(7), tag: new Uint8Array(32).fill(9), poolId: 1, kind: 1 as const };
      const e = await rejects(ledger.recordJoins([record]));
      expect(e).to.be.instanceOf(ContractCodeGoneError);
      expect(e.message).to.match(
        /^ResourcePoolRegistry\.recordJoins: transaction 0x[0-9a-f]{64} was mined \(block \d+\) with no JoinRecorded from ResourcePoolRegistry at /,
      );
    } finally {
      await hre.network.provider.send("evm_revert", [snap]);
    }
  });
});
