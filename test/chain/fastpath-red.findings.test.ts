/**
 * Red team (h11-red): the fast path's transactions (offchain/chain/sender.ts ChainWallet.sendCall,
 * offchain/chain/direct.ts waitReceipt) when a sent transaction never gets mined. Each test passes
 * when the party is not stranded and fails while it is (`npm run test:findings`).
 *
 * R1 (MEDIUM, liveness; public chains, where a node's mempool can drop a transaction: eviction
 * under load, a node restart, a base-fee rise past the cached maxFeePerGas followed by eviction,
 * a replacement by another sender of the account). The attacker (or just the network) drops one
 * transaction the wallet sent. What it gets:
 *   - `waitReceipt` polls eth_getTransactionReceipt forever (doubling to 1 s, no deadline, never
 *     asking whether the node still knows the transaction): the caller's `wait()` never settles,
 *     so the MSRP's mutex (commitForward, flush) or a rater's step hangs for good, and every later
 *     request queued behind the mutex with it;
 *   - ChainWallet counts nonces locally and re-reads the node's count only after a send that
 *     *fails*. A dropped nonce n leaves a gap: every later transaction of the account (n+1, n+2 …)
 *     is accepted by the node as "queued" (no error, so no re-read) and is never mined either.
 *     One dropped transaction silently stops every write of the service until it restarts.
 * Breaks: the threat model's "a lost reply must never strand a party" and the services' liveness
 * (RSMS joins recorded on-chain, the trust ratings of Algorithm 5).
 * Fix: in `waitReceipt`, when the receipt is missing, ask eth_getTransactionByHash every few polls;
 * when the node does not know the transaction (and the account's `latest` count has passed its
 * nonce without it, or a deadline passed), throw a typed TX_DROPPED error and make the wallet
 * forget its counted nonce (`s.nonces.delete`), so that the caller's journal recovery sends it
 * again with the first free nonce.
 */
import { expect } from "chai";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { ChainWallet } from "../../offchain/chain/sender";
import { waitReceipt } from "../../offchain/chain/direct";

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

describe("h11-red findings: a dropped transaction strands the fast path's wallet (R1)", function () {
  this.timeout(60_000);
  const provider = () => hre.network.provider;

  async function fundedWallet(): Promise<ChainWallet> {
    const key = Wallet.createRandom();
    const [funder] = await hre.ethers.getSigners();
    await (await funder.sendTransaction({ to: key.address, value: parseEther("1") })).wait();
    return new ChainWallet(key.privateKey, hre.ethers.provider);
  }

  afterEach(async () => {
    await provider().send("evm_setAutomine", [true]);
  });

  it("R1a: the wait for a transaction the node dropped ends (with an error), instead of polling forever", async () => {
    const wallet = await fundedWallet();
    await provider().send("evm_setAutomine", [false]);
    const sent = await wallet.sendCall({ to: Wallet.createRandom().address, data: "0x", gasLimit: 21_000n });
    await provider().send("hardhat_dropTransaction", [sent.hash]); // evicted from the mempool
    const waiting = waitReceipt(hre.ethers.provider as never, sent.hash);
    waiting.catch(() => undefined);
    for (let i = 0; i < 3; i++) await provider().send("evm_mine", []);
    // the node answers eth_getTransactionByHash with null: nothing will ever mine it
    expect(await hre.ethers.provider.send("eth_getTransactionByHash", [sent.hash])).to.equal(null);
    expect(await settles(waiting, 8_000), "waitReceipt still polling for a transaction the node does not know").to.equal("rejected");
  });

  it("R1b: after a dropped transaction, the wallet's next transaction is mined (its nonce is not left behind a gap)", async () => {
    const wallet = await fundedWallet();
    await provider().send("evm_setAutomine", [false]);
    const first = await wallet.sendCall({ to: Wallet.createRandom().address, data: "0x", gasLimit: 21_000n });
    await provider().send("hardhat_dropTransaction", [first.hash]);
    // whatever the wait for the dropped one does (a fixed wallet learns the drop there)
    await settles(
      waitReceipt(hre.ethers.provider as never, first.hash).catch(() => undefined),
      8_000,
    );
    const next = await wallet.sendCall({ to: Wallet.createRandom().address, data: "0x", gasLimit: 21_000n });
    for (let i = 0; i < 3; i++) await provider().send("evm_mine", []);
    const r = await hre.ethers.provider.getTransactionReceipt(next.hash);
    expect(r, "the next transaction sits in the node's queue behind the dropped nonce, never mined").to.not.equal(null);
  });
});
