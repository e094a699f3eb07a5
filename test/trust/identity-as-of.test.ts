/**
 * s26-rtx (s26-fxx): the TrustManager's as-of views the court asks with a dispute's snapshot.
 * `isIdentityVerifiedAsOf(id, b)` / `hasIdentityStandingAsOf(id, b)`: a withdrawal in force now
 * counts iff it was made at or before block b (the admin's unverification, `_adminFlagHistory`; a PID
 * marked, `ResourcePoolRegistry.revokedSince`; an owner's MIT revoked, `MITRegistry.revokedSince`);
 * at `block.number` they answer `isIdentityVerified` / `hasIdentityStanding`. The boundary is the
 * block itself: b = the withdrawal's block excludes, b = the block before does not.
 * s27-fxl (s26-review L1): an admin flag cleared after b counts only if it was set at or before b
 * (`_adminFlagHistory`: the flag at the end of each block it changed); one set after b never did.
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

  it("s27-fxl: an admin flag set after block b and cleared since does not count as of b (MIT revoked or PID marked before b); set at or before b, it does", async () => {
    const { trust, mit, pools, ann, rn, serial } = await loadFixture(world);
    // both lose their registry standing at r, before the snapshot b
    const r = await blockOf(mit.revokeMIT(serial));
    await pools.revokePid(rn);
    await mine(1);
    const b = r + 1n;
    await mine(1);
    const asOf = async (id: string, at: bigint) => [
      await trust.isIdentityVerifiedAsOf(id, at),
      await trust.hasIdentityStandingAsOf(id, at),
    ];
    for (const id of [ann, rn]) expect(await asOf(id, b), "no standing at b").to.deep.equal([false, false]);
    // the admin verifies them after b, then withdraws it
    const s = await blockOf(trust.setIdentityVerified(ann, true));
    await trust.setIdentityVerified(rn, true);
    expect(s).to.be.greaterThan(b);
    await mine(1);
    await trust.setIdentityVerified(ann, false);
    const u = await blockOf(trust.setIdentityVerified(rn, false));
    await mine(1);
    for (const id of [ann, rn]) {
      expect(await asOf(id, b), "a flag set after b gave no standing at b").to.deep.equal([false, false]);
      expect(await asOf(id, s - 1n), "the block before it was set").to.deep.equal([false, false]);
      expect(await asOf(id, s + 1n), "set at or before the block, cleared after it").to.deep.equal([true, true]);
      expect(await asOf(id, u), "cleared in the block").to.deep.equal([false, false]);
      expect([await trust.isIdentityVerified(id), await trust.hasIdentityStanding(id)], "now").to.deep.equal([false, false]);
    }
    expect(await asOf(ann, s), "set in the block counts").to.deep.equal([true, true]);
    // every span counts, not only the last: set at w (set again at w + 2, a no-op), cleared at
    // w + 3, set again at w + 5, cleared at w + 6: as of w + 1 and w + 5 verified, as of w + 4 not
    const w = await blockOf(trust.setIdentityVerified(ann, true));
    await mine(1);
    await trust.setIdentityVerified(ann, true);
    await trust.setIdentityVerified(ann, false);
    await mine(1);
    await trust.setIdentityVerified(ann, true);
    await trust.setIdentityVerified(ann, false);
    await mine(1);
    const seen = [];
    for (let at = w - 1n; at <= w + 6n; at++) seen.push((await asOf(ann, at))[1]);
    expect(seen).to.deep.equal([false, true, true, true, false, false, true, false]);
  });
});
