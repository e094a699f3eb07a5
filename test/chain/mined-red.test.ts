/**
 * Red team (h11-red) R1b, MEDIUM (liveness; public chains), fixed for `minedReceipt`
 * (offchain/chain/mined.ts: RsmsLedger, TrustLedger, GroupLedger). ChainWallet's ethers path builds
 * the TransactionResponse itself (`broadcast`, without ethers' replacement watch, which contract
 * calls lose anyway: ethers wraps the response anew), and ethers' `wait()` listens for the receipt
 * forever. So a transaction the node dropped (pool eviction, a node restart, a replacement) held
 * its caller for good: the MSRP's createPool, publishFilter and recordJoins under the service's
 * mutex (the whole MSRP stopped), and the wallet numbered every later transaction past the unused
 * nonce, so the node queued them all behind the gap. Breaks "a lost reply must never strand a
 * party" and the services' liveness. The test failed before the fix (the wait never settled).
 */
import { expect } from "chai";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { ChainWallet } from "../../offchain/chain/sender";
import { minedReceipt } from "../../offchain/chain/mined";
import { TransactionDroppedError } from "../../offchain/chain/direct";
import { attach } from "../../offchain/chain/contracts";
import { deploySystemFixture } from "../fixtures/system";
import { TrustManager__factory } from "../../typechain-types";
import { entityId } from "../../offchain/trust/ledger";
import { rejects } from "../helpers/tasks";

describe("h11-red R1b (fixed): minedReceipt and a dropped transaction", function () {
  this.timeout(120_000);
  const provider = () => hre.network.provider;
  afterEach(async () => {
    await provider().send("evm_setAutomine", [true]);
  });

  it("the wait ends with TransactionDroppedError, and the wallet's next transaction takes the unused nonce", async () => {
    const f = await deploySystemFixture();
    const key = Wallet.createRandom();
    const [funder] = await hre.ethers.getSigners();
    await (await funder.sendTransaction({ to: key.address, value: parseEther("1") })).wait();
    const wallet = new ChainWallet(key.privateKey, hre.ethers.provider);
    const tm = attach(TrustManager__factory, f.deployment.contracts.TrustManager.address, wallet);
    await provider().send("evm_setAutomine", [false]);
    // a contract call on the ethers path (estimated, as recordJoins, createPool and publishFilter are)
    const tx = await tm.register(entityId("h11-dropped"), 2);
    await provider().send("hardhat_dropTransaction", [tx.hash]);
    const waiting = rejects(minedReceipt(Promise.resolve(tx)));
    await provider().send("evm_mine", []);
    const e = await waiting;
    expect(e).to.be.instanceOf(TransactionDroppedError);
    expect(e.message).to.equal(`waitReceipt: the node no longer knows transaction ${tx.hash} (dropped or replaced): it will not be mined`);
    // still mining on demand (a public chain queues a transaction whose nonce leaves a gap, as this node does now)
    const next = await wallet.sendTransaction({ to: Wallet.createRandom().address, value: 1n });
    expect(next.nonce).to.equal(tx.nonce);
    await provider().send("evm_mine", []);
    expect((await hre.ethers.provider.getTransactionReceipt(next.hash))?.status).to.equal(1);
  });
});
