/**
 * "One person, one verified avatar": the two findings of session 11 (docs/specs/trust.md §6),
 * closed (were one-avatar-per-person.findings.test.ts).
 *
 * 1. Avatars claimed before ids were per owner (before red-team F7) carry no owner tag in their
 *    id, so each counted as a tag of its own: one person could attest such an avatar beside one of
 *    her namespace. Fix: the tag is the registry's (`IIdentityVerifier.ownerTagOf`: the MITRegistry
 *    derives it from the avatar's recorded owner serial), whatever the id's head.
 * 2. A further avatar of a person, registered by a squatter while it was not logged in, could not
 *    be taken back: the reclaim went through registerAttested, which refuses her tag. Fix:
 *    `reclaimAvatar`: the owner, with the IdP's attestation while the avatar is logged in,
 *    registers or takes back a further avatar as an honest newcomer (reputation 0, unverified, no
 *    flags): one verified avatar per person still.
 *
 * Threat model of `reclaimAvatar`. The squatter (registered the id with `register`) front-runs or
 * copies the owner's transaction: the attestation names the caller (InvalidAttestation). A
 * stranger, or a registrar other than the IdP, signs an attestation: InvalidAttestation. Someone
 * uses it to mint a second verified avatar: it never attests (isIdentityVerified stays false, the
 * tag's binding and the electorate unchanged). A replay or retry: EntityExists, nothing changes.
 * An avatar not logged in (its owner not shown to be driving it): UnverifiedIdentity. An owner
 * without an attested avatar: NotAFurtherAvatar (her first goes through registerAttested).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import { deployTrustFixture, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import { attestReclaim, TrustLedger } from "../../offchain/trust/ledger";
import { avatarIdOf, avatarOwnerTag } from "../../offchain/avatars/protocols";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";

const label = (s: string) => keccak256(new TextEncoder().encode(`one-avatar-findings:${s}`));

async function fixture() {
  const f = await deployTrustFixture();
  const { idp, mit, serial, login, account, attest, fox, owl } = await avatarOwner(f, "one-avatar-findings");
  const registerAttested = async (avatar: string, controller: Signer) => {
    const { deadline, a } = await attest(avatar, controller);
    return f.trust.connect(controller).registerAttested(avatar, Kind.Avatar, deadline, a);
  };
  /** the IdP's reclaim attestation for the id's generation now (or `generation`) */
  const attestR = async (avatar: string, controller: Signer, o: { registrar?: Signer; ttl?: bigint; generation?: bigint } = {}) => {
    const deadline = BigInt(await time.latest()) + (o.ttl ?? 3600n);
    const generation = o.generation ?? (await f.trust.generationOf(avatar));
    const a = await attestReclaim(o.registrar ?? idp, f.trust, avatar, await controller.getAddress(), generation, deadline);
    return { deadline, generation, a };
  };
  const reclaim = async (
    avatar: string,
    controller: Signer,
    o: { registrar?: Signer; sender?: Signer; ttl?: bigint; generation?: bigint } = {},
  ) => {
    const { deadline, generation, a } = await attestR(avatar, controller, o);
    return f.trust.connect(o.sender ?? controller).reclaimAvatar(avatar, generation, deadline, a);
  };
  const tag = toHex(avatarOwnerTag(serial));
  return { ...f, mit, serial, tag, fox, owl, login, account, attest, attestR, registerAttested, reclaim };
}

/** alice's fox attested; owl registered by a squatter while it was not logged in, then logged in. */
async function squatted() {
  const f = await loadFixture(fixture);
  await f.login(f.fox);
  await f.registerAttested(f.fox, await f.account());
  const squatter = await f.account();
  await f.trust.connect(squatter).register(f.owl, Kind.Avatar);
  await f.login(f.owl);
  return { ...f, squatter };
}

describe("one person, one verified avatar: untagged avatars and squatted further avatars", () => {
  it("finding 1: an avatar claimed before ids were per owner is not a second attested avatar of its owner", async () => {
    const { trust, mit, tag, owl, login, account, registerAttested } = await loadFixture(fixture);
    const legacy = ethers.keccak256(ethers.toUtf8Bytes("metatrust:avatar:fox")); // the id's form before F7
    await login(legacy); // the chain took any id from the IdP; the IdP still lets its owner log in
    await login(owl);
    expect(await mit.ownerTagOf(legacy), "the registry tags the legacy avatar with its owner's tag").to.equal(tag);
    await registerAttested(owl, await account());
    await expect(registerAttested(legacy, await account()))
      .to.be.revertedWithCustomError(trust, "TrustManager__OwnerHasAttestedAvatar")
      .withArgs(tag, owl);
    expect(await trust.isIdentityVerified(legacy), "the legacy avatar is a second verified entity of alice's").to.equal(false);
  });

  it("finding 1, the other order: the legacy avatar attested first binds its owner's tag, so her tagged avatar is refused", async () => {
    const { trust, tag, owl, login, account, registerAttested } = await loadFixture(fixture);
    const legacy = ethers.keccak256(ethers.toUtf8Bytes("metatrust:avatar:owl"));
    await login(legacy);
    await login(owl);
    await registerAttested(legacy, await account());
    expect(await trust.attestedAvatarOf(tag)).to.equal(legacy);
    await expect(registerAttested(owl, await account())).to.be.revertedWithCustomError(trust, "TrustManager__OwnerHasAttestedAvatar");
  });

  it("finding 2: the owner takes back a further avatar of hers that a squatter registered, as a newcomer (reputation 0, unverified)", async () => {
    const { trust, tag, fox, owl, squatter, account, reclaim } = await squatted();
    const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
    await trust.connect(detector).flag(owl, 2, ethers.ZeroHash, await trust.generationOf(owl)); // the squatter's deeds
    const alice = await account();
    await mine(1);
    const total = await trust.totalReputationAt((await ethers.provider.getBlockNumber()) - 1);
    await expect(reclaim(owl, alice))
      .to.emit(trust, "EntityReclaimed")
      .withArgs(owl, await squatter.getAddress(), await alice.getAddress());
    const e = await trust.entity(owl);
    expect([e.controller, e.kind, e.flags, e.reputation, e.attested]).to.deep.equal([
      await alice.getAddress(),
      BigInt(Kind.Avatar),
      0n,
      0n,
      false,
    ]);
    expect(await trust.isIdentityVerified(owl), "a further avatar is never a second verified one").to.equal(false);
    expect(await trust.attestedAvatarOf(tag)).to.equal(fox);
    await mine(1);
    expect(await trust.totalReputationAt((await ethers.provider.getBlockNumber()) - 1)).to.equal(total);
  });

  it("a further avatar nobody registered: the owner registers it through reclaimAvatar while it is logged in (register refuses it then)", async () => {
    const { trust, fox, login, account, registerAttested, reclaim, serial } = await loadFixture(fixture);
    await login(fox);
    await registerAttested(fox, await account());
    const cat = toHex(avatarIdOf(serial, "cat"));
    await login(cat);
    const alice = await account();
    await expect(trust.connect(alice).register(cat, Kind.Avatar)).to.be.revertedWithCustomError(trust, "TrustManager__AttestationRequired");
    await expect(reclaim(cat, alice)).to.emit(trust, "EntityRegistered").and.not.to.emit(trust, "EntityReclaimed");
    expect((await trust.entity(cat)).controller).to.equal(await alice.getAddress());
    expect(await trust.isIdentityVerified(cat)).to.equal(false);
  });

  it("refused, changing nothing: a copy of the owner's attestation sent by another account (front-running), one signed by a non-IdP key, the squatter's own", async () => {
    const { trust, owl, squatter, account, attest, attestR, others } = await squatted();
    const before = await trust.entity(owl);
    const alice = await account();
    const { deadline, a } = await attestR(owl, alice);
    const copier = others[8];
    await expect(trust.connect(copier).reclaimAvatar(owl, 0n, deadline, a)).to.be.revertedWithCustomError(
      trust,
      "TrustManager__InvalidAttestation",
    );
    const forged = await attestReclaim(others[7], trust, owl, await copier.getAddress(), 0n, deadline);
    await expect(trust.connect(copier).reclaimAvatar(owl, 0n, deadline, forged)).to.be.revertedWithCustomError(
      trust,
      "TrustManager__InvalidAttestation",
    );
    // a registration attestation (registerAttested's message) is no reclaim attestation
    const registration = await attest(owl, alice);
    await expect(trust.connect(alice).reclaimAvatar(owl, 0n, registration.deadline, registration.a)).to.be.revertedWithCustomError(
      trust,
      "TrustManager__InvalidAttestation",
    );
    // the squatter controls the entry already: nothing to take back (and its reputation stays 0)
    await expect(trust.connect(squatter).reclaimAvatar(owl, 0n, deadline, a)).to.be.revertedWithCustomError(
      trust,
      "TrustManager__EntityExists",
    );
    expect(await trust.entity(owl)).to.deep.equal(before);
  });

  it("refused, changing nothing: not logged in, no attested avatar yet, the attested avatar itself, a retry, an expired attestation", async () => {
    const { trust, mit, tag, fox, owl, serial, account, reclaim } = await squatted();
    const alice = await account();
    const snapshot = async () => [await trust.entity(owl), await trust.entity(fox), await trust.attestedAvatarOf(tag)];
    const before = await snapshot();
    // an id of hers never logged in
    const elk = toHex(avatarIdOf(serial, "elk"));
    await expect(reclaim(elk, alice)).to.be.revertedWithCustomError(trust, "TrustManager__UnverifiedIdentity");
    await expect(reclaim(fox, alice)).to.be.revertedWithCustomError(trust, "TrustManager__EntityExists").withArgs(fox);
    await expect(reclaim(owl, alice, { ttl: 0n })).to.be.revertedWithCustomError(trust, "TrustManager__AttestationExpired");
    expect(await snapshot()).to.deep.equal(before);
    // a retry by the same account has no second effect
    await reclaim(owl, alice);
    const after = await trust.entity(owl);
    await expect(reclaim(owl, alice)).to.be.revertedWithCustomError(trust, "TrustManager__EntityExists").withArgs(owl);
    expect(await trust.entity(owl)).to.deep.equal(after);
    // bob has no attested avatar: his first goes through registerAttested
    const bobSerial = label("bob-serial");
    await mit.issueMIT(toHex(bobSerial), toHex(label("bob-key")), "bafy-params");
    const bobFox = toHex(avatarIdOf(bobSerial, "fox"));
    await mit.recordLogin(bobFox, toHex(bobSerial), toHex(label("w-bob")), toHex(label("v-bob")), (await time.latest()) + 86_400);
    await expect(reclaim(bobFox, await account()))
      .to.be.revertedWithCustomError(trust, "TrustManager__NotAFurtherAvatar")
      .withArgs(bobFox, toHex(avatarOwnerTag(bobSerial)));
  });
  it("TrustLedger.reclaimAvatar takes the squatted avatar back; what the contract would refuse it refuses first in one line, sending nothing", async () => {
    const { trust, mit, msrp, owl, fox, serial, tag, account, login } = await squatted();
    const alice = await account();
    const ledger = new TrustLedger(trust.connect(alice));
    const nonce = () => ethers.provider.getTransactionCount(alice.getAddress());
    const n0 = await nonce();
    const elk = toHex(avatarIdOf(serial, "elk"));
    await expect(ledger.reclaimAvatar(elk, msrp)).to.be.rejectedWith(`reclaimAvatar: avatar ${elk} is not logged in`);
    await expect(ledger.reclaimAvatar(fox, msrp)).to.be.rejectedWith(`reclaimAvatar: avatar ${fox} is attested: nothing to take back`);
    const bobSerial = label("bob-serial");
    await mit.issueMIT(toHex(bobSerial), toHex(label("bob-key")), "bafy-params");
    const bobFox = toHex(avatarIdOf(bobSerial, "fox"));
    await mit.recordLogin(bobFox, toHex(bobSerial), toHex(label("w-bob")), toHex(label("v-bob")), (await time.latest()) + 86_400);
    await expect(ledger.reclaimAvatar(bobFox, msrp)).to.be.rejectedWith(/has no attested avatar yet: register it/);
    // TrustLedger.register reads the registry's tag too: a legacy avatar of alice's is refused before sending
    const legacy = ethers.keccak256(ethers.toUtf8Bytes("metatrust:avatar:elk"));
    await login(legacy);
    await expect(ledger.register(legacy, "avatar", msrp)).to.be.rejectedWith(
      `register: avatar ${legacy}'s owner (tag ${tag}) already has the attested avatar ${fox}`,
    );
    expect(await nonce()).to.equal(n0);
    await ledger.reclaimAvatar(owl, msrp);
    expect((await trust.entity(owl)).controller).to.equal(await alice.getAddress());
    await expect(ledger.reclaimAvatar(owl, msrp)).to.be.rejectedWith(`reclaimAvatar: avatar ${owl} is controlled by this account already`);
    expect(await nonce()).to.equal(n0 + 1);
  });
});
