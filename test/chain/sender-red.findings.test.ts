/**
 * Red team (h11-red): R1 on ChainWallet's ethers path. Passes when the party is not stranded and
 * fails while it is (`npm run test:findings`).
 *
 * R1b (MEDIUM, liveness; public chains). The fast path (offchain/chain/direct.ts) now ends the wait
 * for a transaction the node dropped (TransactionDroppedError) and counts the nonce again. The
 * ethers path of the same wallet does not: `ChainWallet.sendTransaction` builds the
 * TransactionResponse itself (`broadcast`, without ethers' replacement watch), and its `wait()`
 * listens for a receipt forever. What the attacker (or the network: pool eviction, a node restart)
 * gets by dropping one transaction: every caller of `minedReceipt` / `.wait()` on a ChainWallet
 * hangs for good (the MSRP's createPool, publishFilter and recordJoins; the IdP's issueMIT,
 * recordLogin, recordDelegation; the authorities' propose and approve; the oracle; `trust:register`,
 * each under its service's mutex, so the whole service stops), and the wallet numbers every later
 * transaction past the unused nonce, so the node queues them all behind the gap and none is mined.
 * Breaks: "a lost reply must never strand a party"; the services' liveness.
 * Fix: `broadcast` returns a TransactionResponse whose `wait` also polls eth_getTransactionByHash
 * (as direct.ts `waitReceipt` does) and, when the node no longer knows the transaction, calls
 * `forgetNonce()` and throws TransactionDroppedError; or pass ethers' `replaceableTransaction`
 * start block and a timeout to `wait`, and re-read the nonce on TRANSACTION_REPLACED or a timeout.
 */
import { expect } from "chai";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { ChainWallet } from "../../offchain/chain/sender";

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

describe("h11-red findings: a dropped transaction strands ChainWallet's ethers path (R1b)", function () {
  this.timeout(60_000);
  const provider = () => hre.network.provider;
  afterEach(async () => {
    await provider().send("evm_setAutomine", [true]);
  });

  it("R1b: the wait for a dropped transaction ends with an error, and the wallet's next transaction is mined", async () => {
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
    const next = await wallet.sendTransaction({ to: Wallet.createRandom().address, value: 2n });
    await provider().send("evm_mine", []);
    expect(
      await hre.ethers.provider.getTransactionReceipt(next.hash),
      "the next transaction is queued behind the unused nonce",
    ).to.not.equal(null);
  });
});
