/**
 * Open findings of "one person, one verified avatar" (session 11; docs/specs/trust.md §6 and §7).
 * Each test states the property wanted and fails while the finding is open (excluded from
 * `hardhat test`; `npm run test:findings` runs it).
 *
 * 1. Avatars claimed before ids were per owner (before red-team F7) carry no owner tag: the IdP
 *    still lets their owners log in to them, and each counts as its own tag, so one person holding
 *    such an avatar can attest it beside an avatar of her namespace.
 * 2. A further avatar of a person, registered by a squatter while it was not logged in, cannot be
 *    reclaimed by its owner: the reclaim goes through registerAttested, which refuses her tag.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import { deployTrustFixture, Kind } from "../fixtures/trust";
import { attestRegistration } from "../../offchain/trust/ledger";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";

const label = (s: string) => keccak256(new TextEncoder().encode(`one-avatar-findings:${s}`));

async function fixture() {
  const f = await deployTrustFixture();
  const idp = f.msrp; // the fixture's operator holds IDP_ROLE and signs attestations
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, idp);
  const serial = label("alice-serial");
  await mit.issueMIT(toHex(serial), toHex(label("alice-key")), "bafy-params");
  const login = async (avatar: string) =>
    mit.recordLogin(avatar, toHex(serial), toHex(label(`w-${avatar}`)), toHex(label(`v-${avatar}`)), (await time.latest()) + 86_400);
  const account = async () => {
    const w = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(w.address, 10n ** 20n);
    return w as Signer;
  };
  const registerAttested = async (avatar: string, controller: Signer) => {
    const deadline = BigInt(await time.latest()) + 3600n;
    const a = await attestRegistration(idp, f.trust, avatar, "avatar", await controller.getAddress(), deadline);
    return f.trust.connect(controller).registerAttested(avatar, Kind.Avatar, deadline, a);
  };
  return { ...f, serial, login, account, registerAttested };
}

describe("one person, one verified avatar: open findings", () => {
  it("finding 1: an avatar claimed before ids were per owner is not a second attested avatar of its owner", async () => {
    const { trust, serial, login, account, registerAttested } = await loadFixture(fixture);
    const legacy = ethers.keccak256(ethers.toUtf8Bytes("metatrust:avatar:fox")); // the id's form before F7
    const owl = toHex(avatarIdOf(serial, "owl"));
    await login(legacy); // the chain took any id from the IdP; the IdP still lets its owner log in
    await login(owl);
    await registerAttested(owl, await account());
    await registerAttested(legacy, await account()).catch(() => undefined);
    expect(await trust.isIdentityVerified(legacy), "the legacy avatar is a second verified entity of alice's").to.equal(false);
  });

  it("finding 2: the owner can take back a further avatar of hers that a squatter registered", async () => {
    const { trust, serial, login, account, registerAttested } = await loadFixture(fixture);
    const [fox, owl] = [toHex(avatarIdOf(serial, "fox")), toHex(avatarIdOf(serial, "owl"))];
    await login(fox);
    await registerAttested(fox, await account());
    await trust.connect(await account()).register(owl, Kind.Avatar); // owl is not logged in: anyone may register it
    await login(owl);
    const alice = await account();
    await registerAttested(owl, alice).catch(() => undefined);
    expect((await trust.entity(owl)).controller, "the squatter still controls alice's owl").to.equal(await alice.getAddress());
  });
});
