/**
 * Red team (h11-red): R1 on ChainWallet's ethers path, where callers use ethers' own `wait()`.
 * Passes when the party is not stranded and fails while it is (`npm run test:findings`).
 *
 * R1c (LOW now, liveness; public chains). `minedReceipt` (offchain/chain/mined.ts) ends the wait
 * for a transaction the node dropped (TransactionDroppedError) and frees its nonce, as the fast
 * path does, and every service waits through it now (the MSRP's ledgers, the IdP, the MSSA
 * authorities, the RPM, the oracle, disputes). What is left calls ethers' `wait()` on a
 * ChainWallet's transaction, which listens for a receipt forever (ChainWallet's `broadcast` builds
 * the response without a replacement watch, and ethers drops it for contract calls anyway): the
 * tasks (`.wait()` in tasks/*.ts), offchain/chain/system.ts (deployment wiring) and
 * offchain/mssa/ledger.ts `recordRegistration` (in-process mssa:register). A dropped transaction
 * there hangs the command, and, in a long-lived process, the wallet numbers every later transaction
 * past the unused nonce.
 * Fix: give ChainWallet's responses a `wait` that does what `minedReceipt` does (for contract calls,
 * a ChainWallet-aware Contract runner), or route the remaining waits through `minedReceipt`; this
 * test exercises `wait()` itself, so it turns green only with the former.
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

describe("h11-red findings: a dropped transaction strands ethers' wait() on a ChainWallet (R1c)", function () {
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
    const next = await wallet.sendTransaction({ to: Wallet.createRandom().address, value: 2n });
    await provider().send("evm_mine", []);
    expect(
      await hre.ethers.provider.getTransactionReceipt(next.hash),
      "the next transaction is queued behind the unused nonce",
    ).to.not.equal(null);
  });
});
