/**
 * s27-review H1: a take-over ends the replaced entry's admin flag in the flag's history too.
 *
 * The admin flag's history (`_adminFlagHistory`, s27-fxl) answers the as-of views for a block at
 * which the flag is no longer set. A squatter's entry the admin verified, taken over by the avatar's
 * attested owner (`registerAttested`: `_takeOver` clears the flags), kept "set" in that history, so
 * once the owner's MIT was revoked, the as-of views still answered true and the revoked owner voted
 * in a dispute opened after the revocation. The take-over now empties the history: no flag of an
 * earlier era counts at any block.
 * Correct behaviour asserted: the revoked owner has no standing as of the snapshot, weight 0, and its
 * commit is refused (NotVerified), as before the history existed.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { attestRegistration } from "../../offchain/trust/ledger";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";

const label = (s: string) => toHex(keccak256(new TextEncoder().encode(`s27-review-h1:${s}`)));

async function world() {
  const f = await deployDisputeFixture();
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const serial = label("ann-serial");
  const ann = toHex(avatarIdOf(ethers.getBytes(serial), "ann"));
  const [squatter, owner] = [ethers.Wallet.createRandom(), ethers.Wallet.createRandom()].map((w) => w.connect(ethers.provider));
  for (const w of [squatter, owner]) await setBalance(w.address, 10n ** 20n);
  // a squatter's plain entry under the avatar's id, which the admin verified
  await f.trust.connect(squatter).register(ann, Kind.Avatar);
  await f.trust.setIdentityVerified(ann, true);
  // the avatar's owner logs in and takes the id over with the IdP's attestation
  await mit.issueMIT(serial, label("ann-key"), "bafy-params");
  await mit.recordLogin(ann, serial, label("w-ann"), label("v-ann"), (await time.latest()) + 10 * 86_400);
  const deadline = BigInt(await time.latest()) + 3600n;
  const att = await attestRegistration(f.msrp, f.trust, ann, "avatar", owner.address, deadline);
  await f.trust.connect(owner).registerAttested(ann, Kind.Avatar, deadline, att);
  await mine(Number(P.minAge) + 1);
  return { ...f, mit, serial, ann, owner };
}

describe("s27-review H1: a take-over ends the replaced entry's admin flag in its history", function () {
  it("the owner, whose MIT is revoked before the opening, has no vote: the squatter's old admin flag does not count", async function () {
    const { disputes, trust, mit, serial, ann, owner } = await loadFixture(world);
    // standing while the MIT holds (the attestation), as a control
    expect(await trust.hasIdentityStanding(ann)).to.equal(true);
    await mit.revokeMIT(serial);
    await mine(2);
    await disputes.openDispute(id("claimant"), id("respondent"), 0, 2, id("s27-review-h1 evidence"), "bafkrei-h", 0, {
      value: P.deposit,
    });
    const d = await disputes.dispute(1);
    expect(await trust.hasIdentityStanding(ann), "standing now").to.equal(false);
    expect(await trust.hasIdentityStandingAsOf(ann, d.snapshot), "standing as of the snapshot").to.equal(false);
    expect(await trust.isIdentityVerifiedAsOf(ann, d.snapshot), "verified as of the snapshot").to.equal(false);
    expect(await disputes.eligibleWeight(1, ann), "eligibleWeight").to.equal(0n);
    const c = await disputes.commitmentFor(1, ann, 0, salt("ann"));
    await expect(disputes.connect(owner).commit(1, ann, c)).to.be.revertedWithCustomError(disputes, "DisputeResolution__NotVerified");
  });

  it("an admin flag set in the owner's own era still counts at the blocks it was set", async function () {
    const { trust, mit, serial, ann } = await loadFixture(world);
    // the registry gives it nothing (its MIT revoked): the admin flag alone decides
    await mit.revokeMIT(serial);
    await mine(1);
    const before = await ethers.provider.getBlockNumber();
    await trust.setIdentityVerified(ann, true);
    const set = await ethers.provider.getBlockNumber();
    await mine(2);
    await trust.setIdentityVerified(ann, false);
    const cleared = await ethers.provider.getBlockNumber();
    await mine(1);
    // the squatter-era flag is gone, the owner-era one stands for its span
    expect(await trust.isIdentityVerifiedAsOf(ann, before), "before the owner-era flag").to.equal(false);
    expect(await trust.isIdentityVerifiedAsOf(ann, set), "in the owner-era flag's span").to.equal(true);
    expect(await trust.isIdentityVerifiedAsOf(ann, cleared), "at its clearing").to.equal(false);
  });
});
