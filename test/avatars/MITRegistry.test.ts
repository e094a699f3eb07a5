import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { MITRegistry__factory } from "../../typechain-types";
import { keccak256 } from "../../offchain/crypto/hash";
import { toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";

const b = (s: string) => toHex(keccak256(new TextEncoder().encode(s)));
const Z = ethers.ZeroHash;
/** A warrant valid until 2100 (its notAfter). */
const T = 4_102_444_800n;

async function fixture() {
  const f = await deploySystemFixture();
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  await mit.issueMIT(b("alice"), b("key-a"), "bafy-a");
  await mit.issueMIT(b("proxy"), b("key-p"), "bafy-p");
  await mit.recordLogin(b("av"), b("alice"), b("h1"), b("vid"), T);
  return { ...f, mit };
}

describe("MITRegistry", () => {
  it("issues, logs in, delegates, revokes, with events", async () => {
    const { mit } = await loadFixture(fixture);
    await expect(mit.recordDelegation(b("av"), b("proxy"), b("h2"), T))
      .to.emit(mit, "AvatarDelegated")
      .withArgs(1, b("av"), b("proxy"), b("h2"), T);
    expect((await mit.avatar(b("av"))).driverSerial).to.equal(b("proxy"));
    await expect(mit.revokeDelegation(1)).to.emit(mit, "DelegationRevoked").withArgs(1, b("av"));
    expect(Number((await mit.avatar(b("av"))).driver)).to.equal(0);
    expect(await mit.isVerified(b("av"))).to.equal(false);
    await expect(mit.recordLogin(b("av"), b("alice"), b("h3"), b("vid"), T)).to.emit(mit, "AvatarLoggedIn");
    expect(await mit.isVerified(b("av"))).to.equal(true);
  });

  it("a delegated avatar verifies until its warrant's notAfter and not after it; an expired warrant is refused (h7-audit)", async () => {
    const { mit } = await loadFixture(fixture);
    const now = BigInt(await time.latest());
    await expect(mit.recordDelegation(b("av"), b("proxy"), b("h2"), now))
      .to.be.revertedWithCustomError(mit, "MITRegistry__WarrantExpired")
      .withArgs(now, now + 1n);
    expect(await mit.activeDelegation(b("av"))).to.equal(0n);
    const notAfter = now + 3_600n;
    await expect(mit.recordDelegation(b("av"), b("proxy"), b("h2"), notAfter))
      .to.emit(mit, "AvatarDelegated")
      .withArgs(1, b("av"), b("proxy"), b("h2"), notAfter);
    expect((await mit.delegation(1)).notAfter).to.equal(notAfter);
    expect(await mit.isVerified(b("av"))).to.equal(true);
    await time.increaseTo(notAfter);
    expect(await mit.isVerified(b("av"))).to.equal(true); // the warrant's last second
    await time.increaseTo(notAfter + 1n);
    expect(await mit.isVerified(b("av"))).to.equal(false);
    // the trust layer's identity factor follows: TrustManager reads isVerified
    await mit.recordLogin(b("av"), b("alice"), b("h3"), b("vid"), T); // the owner takes it back
    expect(await mit.isVerified(b("av"))).to.equal(true);
  });

  it("rejects duplicates, inactive MITs, non-owners, unknown records, closed cases and outsiders; nothing changes", async () => {
    const { mit, others } = await loadFixture(fixture);
    await expect(mit.issueMIT(b("alice"), b("k"), "")).to.be.revertedWithCustomError(mit, "MITRegistry__MitExists");
    await expect(mit.issueMIT(Z, b("k"), "")).to.be.revertedWithCustomError(mit, "MITRegistry__InvalidInput");
    await expect(mit.connect(others[0]).issueMIT(b("x"), b("k"), "")).to.be.revertedWithCustomError(
      mit,
      "AccessControlUnauthorizedAccount",
    );
    await expect(mit.recordLogin(b("av"), b("proxy"), b("h"), b("v"), T)).to.be.revertedWithCustomError(mit, "MITRegistry__NotOwner");
    await expect(mit.recordDelegation(b("nope"), b("proxy"), b("h"), T)).to.be.revertedWithCustomError(mit, "MITRegistry__UnknownAvatar");
    await expect(mit.recordDelegation(b("av"), b("alice"), b("h"), T)).to.be.revertedWithCustomError(mit, "MITRegistry__InvalidInput");
    await expect(mit.recordDelegation(b("av"), b("ghost"), b("h"), T)).to.be.revertedWithCustomError(mit, "MITRegistry__MitNotActive");
    await mit.revokeMIT(b("proxy"));
    await expect(mit.revokeMIT(b("proxy"))).to.be.revertedWithCustomError(mit, "MITRegistry__MitNotActive");
    await expect(mit.recordDelegation(b("av"), b("proxy"), b("h"), T)).to.be.revertedWithCustomError(mit, "MITRegistry__MitNotActive");
    await expect(mit.revokeDelegation(7)).to.be.revertedWithCustomError(mit, "MITRegistry__UnknownDelegation");
    await expect(mit.requestTrace(b("nope"), b("e"))).to.be.revertedWithCustomError(mit, "MITRegistry__UnknownAvatar");
    await expect(mit.requestTrace(b("av"), Z)).to.be.revertedWithCustomError(mit, "MITRegistry__InvalidInput");
    await mit.connect(others[1]).requestTrace(b("av"), b("e"));
    await expect(mit.connect(others[1]).recordVerdict(1, true, b("v"))).to.be.revertedWithCustomError(
      mit,
      "AccessControlUnauthorizedAccount",
    );
    await expect(mit.recordVerdict(1, true, Z)).to.be.revertedWithCustomError(mit, "MITRegistry__InvalidInput");
    await mit.recordVerdict(1, false, Z);
    await expect(mit.recordVerdict(1, true, b("v"))).to.be.revertedWithCustomError(mit, "MITRegistry__CaseClosed");
    await expect(mit.recordVerdict(2, true, b("v"))).to.be.revertedWithCustomError(mit, "MITRegistry__UnknownCase");
    const a = await mit.avatar(b("av"));
    expect([a.owner, a.driverSerial, a.warrantHash]).to.deep.equal([b("alice"), b("alice"), b("h1")]);
    expect(Number((await mit.traceCase(1)).status)).to.equal(3);
  });

  it("IdP-only calls refuse other accounts; zero ids, keys and warrants are refused; nothing changes", async () => {
    const { mit, others } = await loadFixture(fixture);
    const IDP = await mit.IDP_ROLE();
    const outsider = mit.connect(others[0]);
    for (const call of [
      () => outsider.revokeMIT(b("alice")),
      () => outsider.recordLogin(b("av"), b("alice"), b("h"), b("vid"), T),
      () => outsider.recordDelegation(b("av"), b("proxy"), b("h"), T),
      () => outsider.revokeDelegation(1),
    ])
      await expect(call()).to.be.revertedWithCustomError(mit, "AccessControlUnauthorizedAccount").withArgs(others[0].address, IDP);
    await expect(mit.issueMIT(b("carol"), Z, "")).to.be.revertedWithCustomError(mit, "MITRegistry__InvalidInput");
    await expect(mit.recordLogin(Z, b("alice"), b("h"), b("vid"), T)).to.be.revertedWithCustomError(mit, "MITRegistry__InvalidInput");
    await expect(mit.recordLogin(b("av2"), b("alice"), Z, b("vid"), T)).to.be.revertedWithCustomError(mit, "MITRegistry__InvalidInput");
    await expect(mit.recordDelegation(b("av"), b("proxy"), Z, T)).to.be.revertedWithCustomError(mit, "MITRegistry__InvalidInput");
    expect(Number((await mit.mit(b("carol"))).status)).to.equal(0);
    expect(await mit.isActive(b("alice"))).to.equal(true);
    expect((await mit.avatar(b("av2"))).owner).to.equal(Z);
    const a = await mit.avatar(b("av"));
    expect([a.driverSerial, Number(a.driver), a.warrantHash]).to.deep.equal([b("alice"), 1, b("h1")]);
    expect(await mit.activeDelegation(b("av"))).to.equal(0n);
  });

  it("a new delegation or login ends the active delegation, which cannot then be revoked again", async () => {
    const { mit } = await loadFixture(fixture);
    await mit.issueMIT(b("proxy2"), b("key-p2"), "bafy-p2");
    await mit.recordDelegation(b("av"), b("proxy"), b("h2"), T);
    await expect(mit.recordDelegation(b("av"), b("proxy2"), b("h3"), T))
      .to.emit(mit, "DelegationRevoked")
      .withArgs(1, b("av"))
      .and.to.emit(mit, "AvatarDelegated")
      .withArgs(2, b("av"), b("proxy2"), b("h3"), T);
    expect((await mit.delegation(1)).revokedAt).to.not.equal(0n);
    expect(await mit.activeDelegation(b("av"))).to.equal(2n);
    await expect(mit.revokeDelegation(1)).to.be.revertedWithCustomError(mit, "MITRegistry__AlreadyRevoked").withArgs(1);
    expect((await mit.avatar(b("av"))).driverSerial).to.equal(b("proxy2")); // the revocation of #1 did not touch #2
    // the owner logging in again takes the avatar back from the proxy
    await expect(mit.recordLogin(b("av"), b("alice"), b("h4"), b("vid"), T))
      .to.emit(mit, "DelegationRevoked")
      .withArgs(2, b("av"))
      .and.to.emit(mit, "AvatarLoggedIn");
    const a = await mit.avatar(b("av"));
    expect([a.driverSerial, Number(a.driver), a.warrantHash]).to.deep.equal([b("alice"), 1, b("h4")]);
    expect(await mit.activeDelegation(b("av"))).to.equal(0n);
    await expect(mit.revokeDelegation(2)).to.be.revertedWithCustomError(mit, "MITRegistry__AlreadyRevoked").withArgs(2);
    expect((await mit.avatar(b("av"))).driverSerial).to.equal(b("alice"));
  });

  describe("# avatarStanding (a hello's check in one read, issue 20)", () => {
    /** avatarStanding against the separate reads it replaces, at the same block. */
    async function sameAsReads(mit: Awaited<ReturnType<typeof fixture>>["mit"], id: string) {
      const s = await mit.avatarStanding(id);
      const a = await mit.avatar(id);
      const [owner, driver] = [await mit.mit(a.owner), await mit.mit(a.driverSerial)];
      expect([...s.avatar]).to.deep.equal([...a]);
      expect([s.ownerStatus, s.ownerKeyId, s.driverStatus, s.driverKeyId]).to.deep.equal([
        owner.status,
        owner.keyId,
        driver.status,
        driver.keyId,
      ]);
      expect(s.verified).to.equal(await mit.isVerified(id));
      return s;
    }

    it("is the avatar's record, its owner's and its driver's MIT and isVerified, through login, delegation, expiry and revocations", async () => {
      const { mit } = await loadFixture(fixture);
      // logged in: the owner drives (its own MIT twice)
      let s = await sameAsReads(mit, b("av"));
      expect([s.ownerKeyId, s.driverKeyId, s.verified]).to.deep.equal([b("key-a"), b("key-a"), true]);
      // delegated: the proxy's MIT is the driver's
      const notAfter = BigInt(await time.latest()) + 3_600n;
      await mit.recordDelegation(b("av"), b("proxy"), b("h2"), notAfter);
      s = await sameAsReads(mit, b("av"));
      expect([s.avatar.driverSerial, s.driverKeyId, Number(s.driverStatus), s.verified]).to.deep.equal([b("proxy"), b("key-p"), 1, true]);
      // the warrant's last second, then past it
      await time.increaseTo(notAfter);
      expect((await sameAsReads(mit, b("av"))).verified).to.equal(true);
      await time.increaseTo(notAfter + 1n);
      expect((await sameAsReads(mit, b("av"))).verified).to.equal(false);
      // a fresh delegation, then the driver's MIT revoked, then the owner's
      await mit.recordDelegation(b("av"), b("proxy"), b("h3"), T);
      expect((await sameAsReads(mit, b("av"))).verified).to.equal(true);
      await mit.revokeMIT(b("proxy"));
      s = await sameAsReads(mit, b("av"));
      expect([Number(s.driverStatus), Number(s.ownerStatus), s.verified]).to.deep.equal([2, 1, false]);
      await mit.recordLogin(b("av"), b("alice"), b("h4"), b("vid"), T);
      expect((await sameAsReads(mit, b("av"))).verified).to.equal(true);
      await mit.revokeMIT(b("alice"));
      s = await sameAsReads(mit, b("av"));
      expect([Number(s.driverStatus), Number(s.ownerStatus), s.verified]).to.deep.equal([2, 2, false]);
    });

    it("an unknown avatar: an empty record, no MITs, not verified", async () => {
      const { mit } = await loadFixture(fixture);
      const s = await sameAsReads(mit, b("nobody"));
      expect([s.avatar.owner, Number(s.avatar.driver), Number(s.ownerStatus), Number(s.driverStatus), s.verified]).to.deep.equal([
        Z,
        0,
        0,
        0,
        false,
      ]);
    });
  });

  it("avatars are identity-verified in the TrustManager through this registry", async () => {
    const { mit, deployment, msrp } = await loadFixture(fixture);
    const tm = await ethers.getContractAt("TrustManager", deployment.contracts.TrustManager.address, msrp);
    // a verified avatar is registered by its owner, on the IdP's attestation (docs/specs/trust.md §3)
    await expect(tm.register(b("av"), 1)).to.be.revertedWithCustomError(tm, "TrustManager__AttestationRequired");
    await new TrustLedger(tm).register(b("av"), "avatar", msrp);
    expect(await tm.isIdentityVerified(b("av"))).to.equal(true);
    await mit.revokeMIT(b("alice"));
    expect(await tm.isIdentityVerified(b("av"))).to.equal(false);
  });
  describe("# setIdpEndpoint (service discovery, issue 19)", () => {
    it("an IDP_ROLE account announces its endpoint and may replace it; IdpEndpointSet carries the old and new", async () => {
      const { mit, msrp } = await loadFixture(fixture);
      expect(await mit.idpEndpoint()).to.deep.equal([ethers.ZeroAddress, ""]);
      await expect(mit.setIdpEndpoint("http://127.0.0.1:8600"))
        .to.emit(mit, "IdpEndpointSet")
        .withArgs(msrp.address, "", "http://127.0.0.1:8600");
      const max = "x".repeat(Number(await mit.MAX_ENDPOINT_BYTES()));
      await expect(mit.setIdpEndpoint(max)).to.emit(mit, "IdpEndpointSet").withArgs(msrp.address, "http://127.0.0.1:8600", max);
      expect(await mit.idpEndpoint()).to.deep.equal([msrp.address, max]);
    });

    it("refuses an outsider, an empty or a too long endpoint; nothing changes", async () => {
      const { mit, msrp, others } = await loadFixture(fixture);
      await mit.setIdpEndpoint("https://idp.example.org");
      await expect(mit.connect(others[0]).setIdpEndpoint("http://evil"))
        .to.be.revertedWithCustomError(mit, "AccessControlUnauthorizedAccount")
        .withArgs(others[0].address, await mit.IDP_ROLE());
      await expect(mit.setIdpEndpoint("")).to.be.revertedWithCustomError(mit, "MITRegistry__InvalidEndpoint").withArgs(0);
      const n = Number(await mit.MAX_ENDPOINT_BYTES()) + 1;
      await expect(mit.setIdpEndpoint("x".repeat(n)))
        .to.be.revertedWithCustomError(mit, "MITRegistry__InvalidEndpoint")
        .withArgs(n);
      expect(await mit.idpEndpoint()).to.deep.equal([msrp.address, "https://idp.example.org"]);
    });
  });
});
