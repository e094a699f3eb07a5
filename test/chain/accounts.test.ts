import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { devRoleSigner, fundingTarget, roleAccounts, roleEnvVar, roleRecord, UnknownAccountError } from "../../offchain/chain/accounts";
import { Keystore } from "../../offchain/storage/keystore";
import { noteChainReset } from "../../offchain/chain/reset";

describe("chain/accounts: a key per role, from the environment or generated into the keystore", () => {
  const fresh = () => new Keystore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-accounts-")));

  it("a role's key is generated once, kept in the keystore, and funded once", async () => {
    const ks = fresh();
    const acc = roleAccounts(hre, ks, {});
    const alice = await acc.role("alice");
    const address = await alice.getAddress();
    expect(ks.exists(roleRecord("alice"))).to.equal(true);
    expect(await hre.ethers.provider.getBalance(address)).to.equal(parseEther("10"));
    // the second use finds the same key and sends nothing
    const [funder] = await hre.ethers.getSigners();
    const nonce = await hre.ethers.provider.getTransactionCount(funder.address);
    expect(await (await acc.role("alice")).getAddress()).to.equal(address);
    expect(await hre.ethers.provider.getTransactionCount(funder.address)).to.equal(nonce);
    // it signs its own transactions
    await (await alice.sendTransaction({ to: funder.address, value: 1n })).wait();
    // and the address finds it again (an entity's controller recorded on-chain)
    expect(await (await acc.signer(address)).getAddress()).to.equal(address);
    expect(await acc.address("alice")).to.equal(address);
  });

  it("a balance found sufficient is asked again once the chain was reset under the process (s27-review L3)", async () => {
    const ks = fresh();
    const acc = roleAccounts(hre, ks, {});
    const address = await (await acc.role("carol")).getAddress();
    // the chain goes back under the process: the role's balance is gone
    await hre.network.provider.send("hardhat_setBalance", [address, "0x0"]);
    // within FUNDED_RECHECK_MS the balance seen before is trusted: nothing is asked, nothing sent
    await acc.role("carol");
    expect(await hre.ethers.provider.getBalance(address)).to.equal(0n);
    // once a reset is noted, the next use asks again and funds it
    noteChainReset("test: the chain went back");
    await acc.role("carol");
    expect(await hre.ethers.provider.getBalance(address)).to.equal(parseEther("10"));
  });

  it("a key from the environment wins, and the keystore stays empty", async () => {
    const ks = fresh();
    const w = Wallet.createRandom();
    const acc = roleAccounts(hre, ks, { [roleEnvVar("rpm:1")]: w.privateKey });
    expect(roleEnvVar("rpm:1")).to.equal("METATRUST_KEY_RPM_1");
    expect(await (await acc.role("rpm:1")).getAddress()).to.equal(w.address);
    expect(ks.list()).to.deep.equal([]);
    expect(await (await acc.signer(w.address)).getAddress()).to.equal(w.address);
  });

  it("indices are the node's accounts; unknown addresses, bad names and bad keys are refused by name", async () => {
    const ks = fresh();
    const signers = await hre.ethers.getSigners();
    const acc = roleAccounts(hre, ks, { METATRUST_KEY_BROKEN: "0x1234" });
    expect(await (await acc.signer("3")).getAddress()).to.equal(signers[3].address);
    await expectRefused(acc.signer("999"), /account "999" is not a signer index/);
    await expectRefused(acc.signer(Wallet.createRandom().address), /no key for it here/);
    await expectRefused(acc.role("two words"), /"two words" is not a role name/);
    await expectRefused(acc.role("broken"), /METATRUST_KEY_BROKEN is not a 32-byte hex private key/);
    expect(ks.list()).to.deep.equal([]);
  });

  it("deploy-time roles: a development node's fixed accounts unless the role has a key; elsewhere generated keys", async () => {
    const signers = await hre.ethers.getSigners();
    expect([devRoleSigner("detector"), devRoleSigner("oracle"), devRoleSigner("authority:2"), devRoleSigner("rpm:1")]).to.deep.equal([
      18, 19, 2, 1,
    ]);
    expect([devRoleSigner("ann"), devRoleSigner("authority:0"), devRoleSigner("rpm:x")]).to.deep.equal([undefined, undefined, undefined]);
    const ks = fresh();
    const dev = roleAccounts(hre, ks, {});
    expect(await dev.address("detector")).to.equal(signers[18].address);
    expect(await (await dev.role("authority:2")).getAddress()).to.equal(signers[2].address);
    expect(ks.list()).to.deep.equal([]); // nothing generated, nothing sent
    // a configured key wins over the development account
    const w = Wallet.createRandom();
    expect(await roleAccounts(hre, ks, { [roleEnvVar("detector")]: w.privateKey }).address("detector")).to.equal(w.address);
    // on any other network (the testnet path, one funded key) the same role gets a generated key
    const testnet = Object.create(hre, { network: { value: { ...hre.network, name: "testnet" } } }) as typeof hre;
    const far = roleAccounts(testnet, ks, {});
    const detector = await far.address("detector");
    expect(detector).to.not.equal(signers[18].address);
    expect(ks.exists(roleRecord("detector"))).to.equal(true);
    // once a key is kept for the role, the development node uses it too
    expect(await dev.address("detector")).to.equal(detector);
    await expectRefused(far.signer("3"), /signer indices exist only on development nodes/);
  });

  it("topUp: before a payment, a role key gets what the payment needs on top of its gas budget, once", async () => {
    const ks = fresh();
    const acc = roleAccounts(hre, ks, {});
    const address = await acc.address("payer");
    const [funder] = await hre.ethers.getSigners();
    await acc.topUp(address, parseEther("3"));
    expect(await hre.ethers.provider.getBalance(address)).to.equal(parseEther("13"));
    const nonce = await funder.getNonce();
    await acc.topUp(address, parseEther("3")); // holds enough: nothing sent
    expect(await funder.getNonce()).to.equal(nonce);
    await acc.topUp(funder.address, parseEther("1")); // the funder pays for itself
    expect(await funder.getNonce()).to.equal(nonce);
  });

  it("roles first used together are funded one after another: a funder that signs locally never reuses a nonce", async () => {
    // A testnet funder (PRIVATE_KEY) signs locally and numbers its transactions from the node's
    // count: two transfers started together would take the same nonce, and the node refuses the
    // second ("nonce too low", issue 18's one-key CI run). Here the funder is such a local key.
    const [rich] = await hre.ethers.getSigners();
    const local = Wallet.createRandom().connect(hre.ethers.provider);
    await (await rich.sendTransaction({ to: local.address, value: parseEther("100") })).wait();
    const ethers = Object.create(hre.ethers, { getSigners: { value: async () => [local] } });
    const far = Object.create(hre, { network: { value: { ...hre.network, name: "testnet" } }, ethers: { value: ethers } }) as typeof hre;
    const acc = roleAccounts(far, fresh(), {});
    const signers = await Promise.all(["authority:1", "authority:2", "authority:3"].map((r) => acc.role(r)));
    for (const s of signers) expect(await hre.ethers.provider.getBalance(await s.getAddress())).to.equal(parseEther("0.01"));
    expect(await hre.ethers.provider.getTransactionCount(local.address)).to.equal(3);
  });

  it("the funding target: 10 ETH on development chains, 0.01 ETH elsewhere, METATRUST_FUND_WEI overrides", () => {
    expect(fundingTarget("localhost", {})).to.equal(parseEther("10"));
    expect(fundingTarget("testnet", {})).to.equal(parseEther("0.01"));
    expect(fundingTarget("testnet", { METATRUST_FUND_WEI: "5" })).to.equal(5n);
    expect(() => fundingTarget("testnet", { METATRUST_FUND_WEI: "1e18" })).to.throw(UnknownAccountError, /METATRUST_FUND_WEI/);
  });
});

async function expectRefused(p: Promise<unknown>, msg: RegExp) {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(UnknownAccountError);
    expect((e as Error).message).to.match(msg);
    return;
  }
  expect.fail("expected a refusal");
}
