/**
 * The TrustManager's FEEDBACK_ROLE is "bound once, to a contract ... What it does is the court's
 * public code" (docs/specs/trust.md §3, roles). Red team h15-red3 H3 (fixed): the check was
 * `account.code.length == 0`, and on prague an externally owned account delegated with EIP-7702
 * has code, the 23-byte designator 0xef0100 || delegate, so it passed while its key still sent
 * transactions of its own: whoever bound the role could bind it to an account it controls and
 * move any reputation by key. Now `AccountCode.isContract` refuses the designator
 * (`FeedbackNotAContract`), and the refusal binds nothing: the real court can still be bound.
 * The MITRegistry's COURT_ROLE uses the same check (test/avatars/court-role-bound.test.ts).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { setBalance } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import * as F from "../../offchain/trust/fixed";

describe("TrustManager FEEDBACK_ROLE: the feedback role is bound to a contract, not to a delegated account", () => {
  it("an EOA that delegated its code with EIP-7702 is refused the role (it is an account, not a court)", async () => {
    const [admin] = await ethers.getSigners();
    const tm = await (await ethers.getContractFactory("TrustManager")).deploy(admin.address, F.DEFAULT_MODEL, 0, 0);
    // the admin's own key, delegated (to any contract: here the TrustManager's code) in a type-4 transaction
    const key = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(key.address, 10n ** 20n);
    const { chainId } = await ethers.provider.getNetwork();
    const auth = await key.authorize({ address: await tm.getAddress(), nonce: 0, chainId });
    // Fees and gas limit are set here: solidity-coverage's network has a fixed gasPrice (a type-4 transaction cannot carry one)
    // and a huge default gas limit (the account could not pay for it)
    await (
      await admin.sendTransaction({
        type: 4,
        to: admin.address,
        authorizationList: [auth],
        gasLimit: 100_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
      })
    ).wait();
    const code = await ethers.provider.getCode(key.address);
    expect(code.slice(0, 8), "the account carries a delegation designator").to.equal("0xef0100");
    const FEEDBACK = await tm.FEEDBACK_ROLE();
    await expect(tm.grantRole(FEEDBACK, key.address))
      .to.be.revertedWithCustomError(tm, "TrustManager__FeedbackNotAContract")
      .withArgs(key.address);
    // what the binding is for: the account's key cannot move a reputation
    await tm.register(ethers.id("victim"), 2);
    await expect(tm.connect(key).adjustReputation(ethers.id("victim"), 10n ** 18n)).to.be.revertedWithCustomError(
      tm,
      "AccessControlUnauthorizedAccount",
    );
    expect((await tm.entity(ethers.id("victim"))).reputation, "a key moved a reputation").to.equal(0n);
    // the refusal bound nothing: a contract (here a second TrustManager, any code will do) still takes the role
    const court = await (await ethers.getContractFactory("TrustManager")).deploy(admin.address, F.DEFAULT_MODEL, 0, 0);
    await expect(tm.grantRole(FEEDBACK, await court.getAddress())).to.emit(tm, "RoleGranted");
  });
});
