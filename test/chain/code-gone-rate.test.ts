/**
 * s27-fxc (F1 of s27-rtc, the rating's fast-path write): a TrustManager.rate sent with its static gas
 * limit to an address whose code is gone (a development chain reset under a running process, the
 * pair and eras given by the caller: nothing read there first) is mined as a plain transfer with
 * status 1. It is not taken for a rating, nor reported as the chain storing another value (a
 * TrustIntegrityError, the alarm of Algorithm 5 step 3): DirectContract's wait refuses the receipt
 * for want of the TrustManager's TrustStored, naming the contract and its code gone.
 */
import { expect } from "chai";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { ChainWallet } from "../../offchain/chain/sender";
import { attach } from "../../offchain/chain/contracts";
import { readDeployment } from "../../offchain/chain/deployments";
import { ContractCodeGoneError } from "../../offchain/chain/direct";
import { TrustLedger, entityId } from "../../offchain/trust/ledger";
import { packFactors } from "../../offchain/trust/fixed";
import { TrustManager__factory } from "../../typechain-types";
import { useTaskSandbox, rejects } from "../helpers/tasks";

describe("s27-fxc: a rating on the fast path whose TrustManager's code is gone", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-s27fxc-rate-");

  it("is refused as ContractCodeGoneError naming the TrustManager, not taken for a rating nor for a wrong stored value", async () => {
    const d = readDeployment("hardhat");
    const [funder] = await hre.ethers.getSigners();
    const keys = [Wallet.createRandom(), Wallet.createRandom()];
    for (const k of keys) await (await funder.sendTransaction({ to: k.address, value: parseEther("1") })).wait();
    const [rater, other] = keys.map((k) => new ChainWallet(k.privateKey, hre.ethers.provider));
    const tmOf = (w: ChainWallet) => attach(TrustManager__factory, d.contracts.TrustManager.address, w);
    const ids = ["cg-a", "cg-b", "cg-c"].map(entityId);
    await (await tmOf(rater).register(ids[0], 2)).wait();
    for (const id of ids.slice(1)) await (await tmOf(other).register(id, 2)).wait();
    const ledger = new TrustLedger(tmOf(rater));
    const m = await ledger.getModel();
    const score = packFactors(Array(m.factorCount).fill(0.8));
    await ledger.rate(ids[0], ids[1], score); // the model, the nonce, the fees and the chain id known
    const before = await ledger.pair(ids[0], ids[2]);
    const eras = await ledger.eras(ids[0], ids[2]);
    const snap = await hre.network.provider.send("evm_snapshot", []);
    try {
      await hre.network.provider.send("hardhat_setCode", [d.contracts.TrustManager.address, "0x"]);
      const e = await rejects(ledger.rate(ids[0], ids[2], score, undefined, Promise.resolve(before), eras));
      expect(e).to.be.instanceOf(ContractCodeGoneError);
      expect(e.message).to.match(
        new RegExp(
          `^TrustManager\\.rate: transaction 0x[0-9a-f]{64} was mined \\(block \\d+\\) with no TrustStored from TrustManager at ${d.contracts.TrustManager.address}: its code is gone there`,
        ),
      );
    } finally {
      await hre.network.provider.send("evm_revert", [snap]);
    }
  });
});
