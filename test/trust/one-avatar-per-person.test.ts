/**
 * One person, one verified avatar entity (session 11, the avatar side of red-team finding A1).
 *
 * Avatar ids are per owner: avatarIdOf(serial, name) opens with the 16-byte owner tag of the MIT
 * serial (docs/specs/avatars.md "Avatar ids"), and the IdP records a login for any name in the
 * user's namespace. Before the fix every logged-in avatar of one person could be registered with
 * the IdP's attestation (`registerAttested`, what `trust:register --type avatar` does), each at the
 * initial reputation 0.5: k avatars gave k jurors, k verified raters, k × 0.5 in the court's
 * electorate, and a fresh 0.5 after each lost standing (whitewashing). TrustManager now keeps one
 * attested avatar per owner tag (docs/specs/trust.md §6 "One person, one verified avatar").
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import { deployDisputeFixture } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { attestRegistration, TrustLedger } from "../../offchain/trust/ledger";
import { avatarIdOf, avatarOwnerTag } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { mulBase } from "../../offchain/crypto/group";
import { keccak256 } from "../../offchain/crypto/hash";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { MITRegistry__factory } from "../../typechain-types";

const label = (s: string) => keccak256(new TextEncoder().encode(`one-avatar:${s}`));

async function fixture() {
  const f = await deployDisputeFixture();
  // The fixture's operator (signer 0) is the IdP: it holds MITRegistry.IDP_ROLE and signs attestations.
  const idp = f.msrp;
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, idp);
  const serial = label("alice-serial");
  await mit.issueMIT(toHex(serial), toHex(label("alice-key")), "bafy-params");
  /** One of alice's avatars, logged in (what the IdP records after verifyLogin) for a day. */
  const login = async (name: string) => {
    const avatar = toHex(avatarIdOf(serial, name));
    const notAfter = (await time.latest()) + 86_400;
    await mit.recordLogin(avatar, toHex(serial), toHex(label(`warrant-${name}`)), toHex(label(`vid-${name}`)), notAfter);
    return avatar;
  };
  /** A fresh account of alice's (she may use one per avatar: controllers prove nothing about persons). */
  const account = async () => {
    const w = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(w.address, 10n ** 20n);
    return w as Signer;
  };
  /** The IdP's attestation for `avatar` naming `controller`, as `trust:register --type avatar` makes it. */
  const attest = async (avatar: string, controller: Signer) => {
    const deadline = BigInt(await time.latest()) + 3600n;
    return { deadline, signature: await attestRegistration(idp, f.trust, avatar, "avatar", await controller.getAddress(), deadline) };
  };
  const fox = await login("fox");
  const owl = await login("owl");
  const [c1, c2] = [await account(), await account()];
  return { ...f, idp, mit, serial, fox, owl, c1, c2, attest, login, account };
}

describe("one person, one verified avatar entity (A1, avatar side)", () => {
  it("a second avatar of the same owner is refused by registerAttested: one juror, one verified rater, 0.5 in the electorate", async () => {
    const { trust, disputes, fox, owl, c1, c2, serial, attest } = await loadFixture(fixture);
    const tag = toHex(avatarOwnerTag(serial));
    expect(fox.slice(0, 34)).to.equal(tag).and.to.equal(owl.slice(0, 34)); // both ids open with alice's owner tag
    const a1 = await attest(fox, c1);
    await expect(trust.connect(c1).registerAttested(fox, Kind.Avatar, a1.deadline, a1.signature))
      .to.emit(trust, "AvatarOwnerBound")
      .withArgs(tag, fox);
    expect(await trust.attestedAvatarOf(tag)).to.equal(fox);
    const a2 = await attest(owl, c2);
    await expect(trust.connect(c2).registerAttested(owl, Kind.Avatar, a2.deadline, a2.signature))
      .to.be.revertedWithCustomError(trust, "TrustManager__OwnerHasAttestedAvatar")
      .withArgs(tag, fox);
    // nothing changed: owl is unknown, not verified, the binding still names fox
    expect((await trust.entity(owl)).kind).to.equal(0n);
    expect(await trust.isIdentityVerified(owl)).to.equal(false);
    expect(await trust.attestedAvatarOf(tag)).to.equal(fox);
    // the court: one juror of alice's, weighing 0.5, and 0.5 of hers in the electorate
    await mine(Number(P.minAge) + 1);
    // the fixture's population: claimant, respondent and six voters at 0.5, one voter at 0.1
    const fixtureElectorate = 41n * 10n ** 17n;
    await disputes.openDispute(id("claimant"), id("respondent"), 0, 2, id("evidence"), "cid", 0, { value: P.deposit });
    const d = await disputes.disputeCount();
    expect(await disputes.eligibleWeight(d, fox)).to.equal(5n * 10n ** 17n);
    expect(await disputes.eligibleWeight(d, owl)).to.equal(0n);
    expect((await disputes.dispute(d)).electorate).to.equal(fixtureElectorate + 5n * 10n ** 17n); // 5.1 before the fix
    expect(await trust.isIdentityVerified(fox)).to.equal(true);
  });

  it("the second avatar is registered unverified while it is not logged in (reputation 0, no vote); a retry of the first changes nothing", async () => {
    const { trust, disputes, fox, owl, c1, c2, serial, attest, login } = await loadFixture(fixture);
    const a1 = await attest(fox, c1);
    await trust.connect(c1).registerAttested(fox, Kind.Avatar, a1.deadline, a1.signature);
    await expect(trust.connect(c1).registerAttested(fox, Kind.Avatar, a1.deadline, a1.signature))
      .to.be.revertedWithCustomError(trust, "TrustManager__EntityExists")
      .withArgs(fox);
    // while owl is logged in, a plain register is refused (its owner registers it, with an attestation) ...
    await expect(trust.connect(c2).register(owl, Kind.Avatar)).to.be.revertedWithCustomError(trust, "TrustManager__AttestationRequired");
    // ... once its login has expired it is an honest newcomer: reputation 0, unverified, no vote
    await time.increase(86_401);
    await trust.connect(c2).register(owl, Kind.Avatar);
    expect((await trust.entity(owl)).reputation).to.equal(0n);
    // logged in again, the registry verifies it but the TrustManager does not, and a reclaim is refused
    await login("owl");
    expect(await trust.isIdentityVerified(owl)).to.equal(false);
    const a2 = await attest(owl, c2);
    await expect(trust.connect(c2).registerAttested(owl, Kind.Avatar, a2.deadline, a2.signature))
      .to.be.revertedWithCustomError(trust, "TrustManager__OwnerHasAttestedAvatar")
      .withArgs(toHex(avatarOwnerTag(serial)), fox);
    await mine(Number(P.minAge) + 1);
    await disputes.openDispute(id("claimant"), id("respondent"), 0, 2, id("evidence"), "cid", 0, { value: P.deposit });
    expect(await disputes.eligibleWeight(await disputes.disputeCount(), owl)).to.equal(0n);
  });

  it("TrustLedger.register (trust:register --type avatar) refuses the second avatar in one line naming the tag and the bound avatar, sending nothing", async () => {
    const { trust, idp, fox, owl, c1, c2, serial } = await loadFixture(fixture);
    await new TrustLedger(trust.connect(c1)).register(fox, "avatar", idp);
    expect(await trust.isIdentityVerified(fox)).to.equal(true);
    const tag = toHex(avatarOwnerTag(serial));
    const nonce = await ethers.provider.getTransactionCount(await c2.getAddress());
    await expect(new TrustLedger(trust.connect(c2)).register(owl, "avatar", idp)).to.be.rejectedWith(
      `register: avatar ${owl}'s owner (tag ${tag}) already has the attested avatar ${fox}: one person, one verified avatar; register this one unverified while it is not logged in, or take it back with reclaimAvatar`,
    );
    expect(await ethers.provider.getTransactionCount(await c2.getAddress())).to.equal(nonce);
    expect((await trust.entity(owl)).kind).to.equal(0n);
  });

  it("the binding is per owner: another person's avatar, and resource nodes, are not affected", async () => {
    const { trust, mit, idp, fox, c1, account, registry, serial } = await loadFixture(fixture);
    await new TrustLedger(trust.connect(c1)).register(fox, "avatar", idp);
    const bob = label("bob-serial");
    await mit.issueMIT(toHex(bob), toHex(label("bob-key")), "bafy-params");
    const bobFox = toHex(avatarIdOf(bob, "fox")); // the same name, another owner
    await mit.recordLogin(bobFox, toHex(bob), toHex(label("warrant-bob")), toHex(label("vid-bob")), (await time.latest()) + 86_400);
    const c3 = await account();
    await new TrustLedger(trust.connect(c3)).register(bobFox, "avatar", idp);
    expect(await trust.isIdentityVerified(bobFox)).to.equal(true);
    expect(await trust.attestedAvatarOf(toHex(avatarOwnerTag(bob)))).to.equal(bobFox);
    // A resource node's PID is not an avatar id: one that happens to open with a bound tag is
    // registered, and one that opens with a free tag binds nothing (both PIDs chosen so here).
    const [carol, pool] = [label("carol-serial"), 1];
    const pids = [toHex(avatarOwnerTag(serial)) + "11".repeat(16), toHex(avatarOwnerTag(carol)) + "22".repeat(16)];
    await registry.createPool(pool, await idp.getAddress(), toHex(label("pid-rpm")), toHex(mulBase(3n).toBytes(true)));
    for (const [i, pid] of pids.entries()) {
      await registry.recordJoin(pid, toHex(label(`tag-${i}`)), pool, 1);
      const c = await account();
      await new TrustLedger(trust.connect(c)).register(pid, "resource-node", idp);
      expect(await trust.isIdentityVerified(pid)).to.equal(true);
    }
    expect(await trust.attestedAvatarOf(toHex(avatarOwnerTag(carol)))).to.equal(ethers.ZeroHash);
    await mit.issueMIT(toHex(carol), toHex(label("carol-key")), "bafy-params");
    const carolFox = toHex(avatarIdOf(carol, "fox"));
    await mit.recordLogin(carolFox, toHex(carol), toHex(label("warrant-carol")), toHex(label("vid-carol")), (await time.latest()) + 86_400);
    await new TrustLedger(trust.connect(await account())).register(carolFox, "avatar", idp);
    expect(await trust.attestedAvatarOf(toHex(avatarOwnerTag(carol)))).to.equal(carolFox);
  });

  it("a squatter's unattested entry of the owner's first avatar is reclaimed, and the reclaim binds the owner", async () => {
    const { trust, fox, owl, c1, c2, serial, attest, account, login } = await loadFixture(fixture);
    await time.increase(86_401); // the logins expired: anyone may register the ids (unverified)
    const squatter = await account();
    await trust.connect(squatter).register(fox, Kind.Avatar);
    await login("fox");
    await login("owl");
    const a1 = await attest(fox, c1);
    await expect(trust.connect(c1).registerAttested(fox, Kind.Avatar, a1.deadline, a1.signature))
      .to.emit(trust, "EntityReclaimed")
      .withArgs(fox, await squatter.getAddress(), await c1.getAddress())
      .and.to.emit(trust, "AvatarOwnerBound")
      .withArgs(toHex(avatarOwnerTag(serial)), fox);
    const a2 = await attest(owl, c2);
    await expect(trust.connect(c2).registerAttested(owl, Kind.Avatar, a2.deadline, a2.signature)).to.be.revertedWithCustomError(
      trust,
      "TrustManager__OwnerHasAttestedAvatar",
    );
  });
});
