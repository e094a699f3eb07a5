/**
 * s26-rtx (s26-fxx): the TrustManager's as-of views the court asks with a dispute's snapshot.
 * `isIdentityVerifiedAsOf(id, b)` / `hasIdentityStandingAsOf(id, b)`: a withdrawal in force now
 * counts iff it was made at or before block b (the admin's unverification, `_unverifiedAt`; a PID
 * marked, `ResourcePoolRegistry.revokedSince`; an owner's MIT revoked, `MITRegistry.revokedSince`);
 * at `block.number` they answer `isIdentityVerified` / `hasIdentityStanding`. The boundary is the
 * block itself: b = the withdrawal's block excludes, b = the block before does not.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture } from "../fixtures/disputes";
import { Kind } from "../fixtures/trust";
import { attestRegistration } from "../../offchain/trust/ledger";
import { encodePoint, mulBase, randomScalar } from "../../offchain/crypto/group";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory, ResourcePoolRegistry__factory } from "../../typechain-types";

const label = (s: string) => toHex(keccak256(new TextEncoder().encode(`identity-as-of:${s}`)));

async function world() {
  const f = await deployDisputeFixture();
  const pools = ResourcePoolRegistry__factory.connect(f.deployment.contracts.ResourcePoolRegistry.address, f.msrp);
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  await pools.createPool(1, f.others[0].address, label("pid-rpm"), toHex(encodePoint(mulBase(randomScalar()))));
  const rn = label("rn");
  await pools.recordJoin(rn, label("rn-tag"), 1, 1);
  const serial = label("ann-serial");
  await mit.issueMIT(serial, label("ann-key"), "bafy-params");
  const ann = toHex(avatarIdOf(ethers.getBytes(serial), "ann"));
  await mit.recordLogin(ann, serial, label("w"), label("v"), (await time.latest()) + 86_400);
  for (const [id, kind, name] of [
    [rn, Kind.ResourceNode, "resource-node"],
    [ann, Kind.Avatar, "avatar"],
  ] as const) {
    const w = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(w.address, 10n ** 20n);
    const deadline = BigInt(await time.latest()) + 3600n;
    await f.trust.connect(w).registerAttested(id, kind, deadline, await attestRegistration(f.msrp, f.trust, id, name, w.address, deadline));
  }
  await mine(2);
  return { ...f, pools, mit, rn, ann, serial };
}

const blockOf = async (tx: Promise<{ wait: () => Promise<unknown> }>) =>
  BigInt(((await (await tx).wait()) as { blockNumber: number }).blockNumber);

describe("s26-rtx: identity as of a block (TrustManager.isIdentityVerifiedAsOf, hasIdentityStandingAsOf)", () => {
  it("a PID marked at block r: excluded as of r and later, not as of r - 1; reinstated, nothing excludes", async () => {
    const { trust, pools, rn } = await loadFixture(world);
    const r = await blockOf(pools.revokePid(rn));
    await mine(1);
    expect(await pools.revokedSince(rn)).to.equal(r);
    const asOf = async (b: bigint) => [await trust.isIdentityVerifiedAsOf(rn, b), await trust.hasIdentityStandingAsOf(rn, b)];
    expect(await asOf(r - 1n), "marked after the block").to.deep.equal([true, true]);
    expect(await asOf(r), "marked in the block").to.deep.equal([false, false]);
    expect([await trust.isIdentityVerified(rn), await trust.hasIdentityStanding(rn)], "now").to.deep.equal([false, false]);
    await pools.reinstatePid(rn);
    expect(await pools.revokedSince(rn)).to.equal(0n);
    expect(await asOf(r), "the mark in force decides").to.deep.equal([true, true]);
  });

  it("an owner's MIT revoked at block r: its avatar is excluded as of r, not as of r - 1", async () => {
    const { trust, mit, ann, serial } = await loadFixture(world);
    const r = await blockOf(mit.revokeMIT(serial));
    await mine(1);
    expect(await mit.revokedSince(ann)).to.equal(r);
    expect([await mit.isVerifiedAsOf(ann, r - 1n), await mit.isVerifiedAsOf(ann, r)]).to.deep.equal([true, false]);
    expect([await trust.hasIdentityStandingAsOf(ann, r - 1n), await trust.hasIdentityStandingAsOf(ann, r)]).to.deep.equal([true, false]);
    expect([await trust.isIdentityVerifiedAsOf(ann, r - 1n), await trust.isIdentityVerifiedAsOf(ann, r)]).to.deep.equal([true, false]);
  });

  it("the admin's unverification at block u: excluded as of u, not as of u - 1; a never-verified plain entity never stands", async () => {
    const { trust, voters } = await loadFixture(world);
    const v = voters[0];
    const u = await blockOf(trust.setIdentityVerified(v, false));
    await mine(1);
    expect([await trust.isIdentityVerifiedAsOf(v, u - 1n), await trust.hasIdentityStandingAsOf(v, u - 1n)]).to.deep.equal([true, true]);
    expect([await trust.isIdentityVerifiedAsOf(v, u), await trust.hasIdentityStandingAsOf(v, u)]).to.deep.equal([false, false]);
    // unverifying again moves nothing: the flag was already clear
    await trust.setIdentityVerified(v, false);
    expect(await trust.hasIdentityStandingAsOf(v, u - 1n)).to.equal(true);
    expect(await trust.hasIdentityStandingAsOf(label("never-registered"), 0n)).to.equal(false);
  });
});
