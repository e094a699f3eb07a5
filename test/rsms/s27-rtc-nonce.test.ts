/**
 * s27-rtc (red team): the local nonce of the journaled join path (offchain/chain/sender.ts
 * ChainWallet, counted once per process; DirectContract.prepare, sent once with no retry).
 *
 * Threat: another sender of the MSRP's key (a second shell's `rsms:filter:publish`, the MSRP
 * service, an operator's script) sends a transaction between two joins of a long-running process.
 * The process's count is then one behind the chain. `sendCall` re-reads and retries a send the
 * node refuses for its nonce (NONCE_RETRIES); the journaled join's `prepare`d transaction does
 * not: the join is refused with the node's "nonce too low", though nothing about the join is
 * wrong and a process that did not keep the count (the uncached path: `pending` read at once)
 * joins. The correct behaviour: the join succeeds (one record on-chain, the RN and the MSRP's
 * record committed).
 */
import { expect } from "chai";
import hre from "hardhat";
import { Wallet } from "ethers";
import { settled } from "../../offchain/storage/keystore";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { attach } from "../../offchain/chain/contracts";
import { ResourcePoolRegistry__factory } from "../../typechain-types";
import { readDeployment } from "../../offchain/chain/deployments";
import { joinViewsSettled } from "../../offchain/rsms/flows";
import { useRsmsTaskSandbox, joinQuietly } from "../helpers/tasks";

describe("s27-rtc: a join after another sender of the MSRP's key used it (the process's local nonce is stale)", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-s27rtc-nonce-", ["n1", "n2", "n3"]);
  const join = (rn: string) => joinQuietly(rn);
  const msrpRn = (name: string) => (sandbox.keystore().load("rsms-msrp") as { rns: Record<string, { used: boolean }> }).rns[name];
  const reader = () =>
    new RsmsLedger(
      attach(ResourcePoolRegistry__factory, readDeployment("hardhat").contracts.ResourcePoolRegistry.address, hre.ethers.provider),
    );

  it("joins: the MSRP's key used by another sender since the process's last join does not refuse the next join", async () => {
    await join("n1"); // the process counts the MSRP's nonce from here on
    await settled();
    await joinViewsSettled();
    // another sender of the MSRP's key (a plain ethers Wallet: its own count, as another process has)
    const { operatorSigner } = await import("../../tasks/lib/context");
    const key = (await operatorSigner(hre, "msrp")) as unknown as { privateKey: string };
    const other = new Wallet(key.privateKey, hre.ethers.provider);
    await (await other.sendTransaction({ to: other.address, value: 0n })).wait();
    const count = await reader().joinCount();
    const out = await join("n2").catch((e: Error) => e);
    expect(out, `rsms:join n2 after another sender used the MSRP's key: ${String(out)}`).to.not.be.instanceOf(Error);
    await settled();
    expect(await reader().joinCount()).to.equal(count + 1);
    expect(msrpRn("n2")).to.deep.include({ used: true });
    expect(sandbox.keystore().load("rsms-rn-n2")).to.deep.include({ joined: true, pool: 1 });
  });
});
