/**
 * Red team (h11-red) R1c, LOW (liveness; public chains), fixed (h11-fix3). ethers' `wait()` on a
 * ChainWallet's transaction listened for a receipt forever when the node dropped the transaction
 * (ChainWallet's `broadcast` builds the response without a replacement watch): the command hung
 * and, in a long-lived process, the wallet numbered every later transaction past the unused nonce.
 * ChainWallet's responses (`ChainTransactionResponse`) now wait through `waitKnown`
 * (offchain/chain/mined.ts), as `minedReceipt` does: the wait ends with TransactionDroppedError
 * naming the transaction, and the counted nonce is forgotten. Contract calls (an ethers Contract
 * builds its own response) are awaited with `minedReceipt` everywhere in offchain/ and tasks/:
 * test/chain/raw-wait.test.ts keeps it so. Red before the fix (wait() still pending after 8 s).
 */
import { expect } from "chai";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { ChainWallet } from "../../offchain/chain/sender";
import { TransactionDroppedError } from "../../offchain/chain/direct";
import { rejects } from "../helpers/tasks";

/** Whether `p` settles (resolves or rejects) within `ms`. */
async function settles(p: Promise<unknown>, ms: number): Promise<"resolved" | "rejected" | "pending"> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<"pending">((r) => (timer = setTimeout(() => r("pending"), ms)));
  try {
    return await Promise.race([
      p.then(
        () => "resolved" as const,
        () => "rejected" as const,
      ),
      t,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe("h11-red R1c (fixed): ethers' wait() on a ChainWallet's dropped transaction", function () {
  this.timeout(60_000);
  const provider = () => hre.network.provider;
  afterEach(async () => {
    await provider().send("evm_setAutomine", [true]);
  });

  it("R1c: the wait for a dropped transaction ends with an error, and the wallet's next transaction is mined", async () => {
    const key = Wallet.createRandom();
    const [funder] = await hre.ethers.getSigners();
    await (await funder.sendTransaction({ to: key.address, value: parseEther("1") })).wait();
    const wallet = new ChainWallet(key.privateKey, hre.ethers.provider);
    await provider().send("evm_setAutomine", [false]);
    const dropped = await wallet.sendTransaction({ to: Wallet.createRandom().address, value: 1n });
    await provider().send("hardhat_dropTransaction", [dropped.hash]);
    const waiting = dropped.wait();
    waiting.catch(() => undefined);
    await provider().send("evm_mine", []);
    expect(await settles(waiting, 8_000), "wait() still listening for a transaction the node does not know").to.equal("rejected");
    const e = await rejects(waiting);
    expect(e).to.be.instanceOf(TransactionDroppedError);
    expect(e.message).to.equal(
      `waitReceipt: the node no longer knows transaction ${dropped.hash} (dropped or replaced): it will not be mined`,
    );
    const next = await wallet.sendTransaction({ to: Wallet.createRandom().address, value: 2n });
    expect(next.nonce, "the next transaction takes the unused nonce").to.equal(dropped.nonce);
    await provider().send("evm_mine", []);
    expect(
      await hre.ethers.provider.getTransactionReceipt(next.hash),
      "the next transaction is queued behind the unused nonce",
    ).to.not.equal(null);
  });
});

describe("# ChainTransactionResponse.wait", function () {
  it("returns the receipt of a mined transaction, and a wait with a timeout stays ethers' own", async () => {
    const key = Wallet.createRandom();
    const [funder] = await hre.ethers.getSigners();
    await (await funder.sendTransaction({ to: key.address, value: parseEther("1") })).wait();
    const wallet = new ChainWallet(key.privateKey, hre.ethers.provider);
    const tx = await wallet.sendTransaction({ to: Wallet.createRandom().address, value: 3n });
    const r = await tx.wait();
    expect(r?.hash).to.equal(tx.hash);
    expect(r?.status).to.equal(1);
    expect((await tx.wait(1, 5_000))?.hash).to.equal(tx.hash);
  });
});
