/**
 * Red team h15-red3 finding H3 (open, low): the TrustManager's FEEDBACK_ROLE is "bound once, to a
 * contract (`FeedbackNotAContract` for an account without code) ... What it does is the court's
 * public code" (docs/specs/trust.md §3, roles). The check is `account.code.length == 0`, and on
 * the EVM the project targets (prague) an externally owned account delegated with EIP-7702 has
 * code: the 23-byte designator 0xef0100 || delegate. Such an account passes the check, and its key
 * still sends transactions of its own, so whoever binds the role (the admin, in the binding window
 * at deployment) can bind it to an account it controls and move any reputation with that key,
 * which the binding was made to rule out. The same test decides a fix of H1 (the registry's court
 * role) that relies on "has code". Fails while the hole is open: the delegated account is granted
 * the role.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { setBalance } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import * as F from "../../offchain/trust/fixed";

describe("h15-red3 H3 (findings): the feedback role is bound to a contract, not to a delegated account", () => {
  it("an EOA that delegated its code with EIP-7702 is refused the role (it is an account, not a court)", async () => {
    const [admin] = await ethers.getSigners();
    const tm = await (await ethers.getContractFactory("TrustManager")).deploy(admin.address, F.DEFAULT_MODEL, 0, 0);
    // the admin's own key, delegated (to any contract: here the TrustManager's code) in a type-4 transaction
    const key = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(key.address, 10n ** 20n);
    const { chainId } = await ethers.provider.getNetwork();
    const auth = await key.authorize({ address: await tm.getAddress(), nonce: 0, chainId });
    await (await admin.sendTransaction({ type: 4, to: admin.address, authorizationList: [auth] })).wait();
    const code = await ethers.provider.getCode(key.address);
    expect(code.slice(0, 8), "the account carries a delegation designator").to.equal("0xef0100");
    const FEEDBACK = await tm.FEEDBACK_ROLE();
    await tm.grantRole(FEEDBACK, key.address).catch(() => undefined);
    // what the binding is for: the account's key cannot move a reputation
    await tm.register(ethers.id("victim"), 2);
    await tm
      .connect(key)
      .adjustReputation(ethers.id("victim"), 10n ** 18n)
      .catch(() => undefined);
    expect((await tm.entity(ethers.id("victim"))).reputation, "a key moved a reputation").to.equal(0n);
  });
});
