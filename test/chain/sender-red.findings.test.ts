/**
 * Red team (h11-red): R1 on ChainWallet's ethers path, where callers use ethers' own `wait()`.
 * Passes when the party is not stranded and fails while it is (`npm run test:findings`).
 *
 * R1c (MEDIUM, liveness; public chains). `minedReceipt` (offchain/chain/mined.ts) now ends the wait
 * for a transaction the node dropped (TransactionDroppedError) and frees its nonce, as the fast
 * path does; RsmsLedger, TrustLedger and GroupLedger wait through it. Every other caller still
 * calls ethers' `wait()` on a ChainWallet's transaction, which listens for a receipt forever
 * (ChainWallet's `broadcast` builds the response without a replacement watch, and ethers drops it
 * for contract calls anyway): the IdP service (issueMIT in `finishIssue`, recordLogin and
 * recordDelegation through offchain/avatars/protocols.ts `mined`, setIdpEndpoint), the MSSA
 * authority service (propose, approve, setAuthorityEndpoint), the RPM service (setPoolEndpoint),
 * the oracle service (setOracle), offchain/disputes/ledger.ts, offchain/chain/system.ts and the
 * tasks. One dropped transaction there holds its service's mutex for good, and the wallet numbers
 * every later transaction past the unused nonce, so none is ever mined.
 * Breaks: "a lost reply must never strand a party"; the services' liveness.
 * Fix: route those waits through `minedReceipt` (or give ChainWallet's responses a `wait` that does
 * what `minedReceipt` does); this test then exercises `wait()` itself, so it turns green only when
 * ChainWallet's own responses stop waiting for a dropped transaction.
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
