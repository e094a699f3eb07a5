/**
 * s27-rtd (red team) S1: standing gained after the snapshot counts as standing at the snapshot.
 *
 * `TrustManager._identityAsOf(id, block, ...)` asks the kind's registry for any entity that is
 * attested NOW (`status & ATTESTED`), whatever it was at `block`: `revokedSince == 0` (or
 * `isVerifiedAsOf`) answers true. An entry plainly registered and vouched by the admin, whose admin
 * verification was withdrawn BEFORE the dispute's snapshot (`_unverifiedAt <= snapshot`: excluded,
 * `eligibleWeight` 0), is attested in place by its holder AFTER the opening (`registerAttested` by
 * the same account: `_attestInPlace`; `_vouch` is a no-op for a vouched entry, so its grant block
 * stays the admin's first verification, old enough for `minAge`). From then on `commit`,
 * `reveal`, `eligibleWeight` and `settle`'s excusal judge it as standing at the snapshot, and it
 * votes with its snapshot reputation. At the snapshot it had no source of standing at all: the admin
 * had withdrawn it and the registry did not even know the avatar (its login is recorded after the
 * opening too). docs/specs/disputes.md says "an entity that ... gains standing later votes with
 * nothing ... a standing granted after the opening is younger than minAge at the snapshot".
 *
 * Actor: the holder of an expelled identity, alone (plus an ordinary IdP login it is entitled to),
 * timing its attestation after an opening whose jury it wants to join.
 * Correct behaviour asserted: the juror stays without a vote in that dispute (NotVerified, weight 0).
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

const label = (s: string) => toHex(keccak256(new TextEncoder().encode(`s27-rtd-s1:${s}`)));

async function world() {
  const f = await deployDisputeFixture();
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const serial = label("eve-serial");
  const eve = toHex(avatarIdOf(ethers.getBytes(serial), "eve"));
  const w = ethers.Wallet.createRandom().connect(ethers.provider);
  await setBalance(w.address, 10n ** 20n);
  // a plain entry the admin vouched for (before avatars had their registry's logins), old enough
  await f.trust.connect(w).register(eve, Kind.Avatar);
  await f.trust.setIdentityVerified(eve, true);
  await mine(Number(P.minAge) + 1);
  // expelled by the admin before the dispute
  await f.trust.setIdentityVerified(eve, false);
  await mine(2);
  await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, id("s27-rtd-s1 evidence"), "bafkrei-e", 0, {
    value: P.deposit,
  });
  return { ...f, mit, serial, eve, w };
}

describe("s27-rtd S1: an entry attested in place after the opening votes as if it stood at the snapshot", function () {
  it("a juror withdrawn before the snapshot stays without a vote after attesting in place", async function () {
    const { disputes, trust, mit, serial, eve, w, msrp } = await loadFixture(world);
    const d = await disputes.dispute(1);
    // at the opening it is out: withdrawn at or before the snapshot
    expect(await trust.hasIdentityStandingAsOf(eve, d.snapshot)).to.equal(false);
    expect(await disputes.eligibleWeight(1, eve)).to.equal(0n);
    // after the opening: the IdP records the avatar's login, and its holder attests the entry in place
    await mit.issueMIT(serial, label("eve-key"), "bafy-params");
    await mit.recordLogin(eve, serial, label("w-eve"), label("v-eve"), (await time.latest()) + 86_400);
    const deadline = BigInt(await time.latest()) + 3600n;
    const att = await attestRegistration(msrp, trust, eve, "avatar", w.address, deadline);
    await trust.connect(w).registerAttested(eve, Kind.Avatar, deadline, att);
    const weight = await disputes.eligibleWeight(1, eve);
    const standing = await trust.hasIdentityStandingAsOf(eve, d.snapshot);
    console.log(`      after the in-place attestation: standing as of the snapshot ${standing}, eligibleWeight ${weight}`);
    // the correct behaviour: nothing done after the snapshot gives it standing in this dispute
    expect(weight, "eligibleWeight").to.equal(0n);
    const c = await disputes.commitmentFor(1, eve, 0, salt("eve"));
    await expect(disputes.connect(w).commit(1, eve, c)).to.be.revertedWithCustomError(disputes, "DisputeResolution__NotVerified");
    expect(standing, "hasIdentityStandingAsOf(snapshot)").to.equal(false);
  });
});

/**
 * s27-fxd (the fix's other side): the in-place attestation moves when the registry answers for the
 * entry (`_attestedAt`), nothing else. An entry the admin verified at the snapshot, unverified after
 * it (a withdrawal after the snapshot does not count, s26-rtx) and then attested in place, still
 * stands at the snapshot with its weight there: the attestation does not start a new era of its
 * standing (`standingAt` unchanged). Reusing `_eraStart` for the attestation block would zero it.
 */
async function verifiedAtSnapshot() {
  const f = await deployDisputeFixture();
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const serial = label("ann-serial");
  const ann = toHex(avatarIdOf(ethers.getBytes(serial), "ann"));
  const w = ethers.Wallet.createRandom().connect(ethers.provider);
  await setBalance(w.address, 10n ** 20n);
  await f.trust.connect(w).register(ann, Kind.Avatar);
  await f.trust.setIdentityVerified(ann, true);
  await mine(Number(P.minAge) + 1);
  await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, id("s27-fxd-s1 evidence"), "bafkrei-a", 0, {
    value: P.deposit,
  });
  return { ...f, mit, serial, ann, w };
}

describe("s27-fxd S1: an in-place attestation after the snapshot takes nothing the entry had at it", function () {
  it("verified by the admin at the snapshot, unverified and attested in place after it: it commits and reveals with its weight", async function () {
    const { disputes, trust, mit, serial, ann, w, msrp } = await loadFixture(verifiedAtSnapshot);
    const d = await disputes.dispute(1);
    const before = await disputes.eligibleWeight(1, ann);
    expect(before > 0n, "weight at the opening").to.equal(true);
    await trust.setIdentityVerified(ann, false);
    await mit.issueMIT(serial, label("ann-key"), "bafy-params");
    await mit.recordLogin(ann, serial, label("w-ann"), label("v-ann"), (await time.latest()) + 86_400);
    const deadline = BigInt(await time.latest()) + 3600n;
    const att = await attestRegistration(msrp, trust, ann, "avatar", w.address, deadline);
    await trust.connect(w).registerAttested(ann, Kind.Avatar, deadline, att);
    expect(await trust.hasIdentityStandingAsOf(ann, d.snapshot)).to.equal(true);
    expect((await trust.standingAt(ann, d.snapshot)).reputation).to.equal(before);
    expect(await disputes.eligibleWeight(1, ann)).to.equal(before);
    await disputes.connect(w).commit(1, ann, await disputes.commitmentFor(1, ann, 1, salt("ann")));
    await time.increase(Number(P.commitPeriod) + 1);
    await expect(disputes.connect(w).reveal(1, ann, 1, salt("ann")))
      .to.emit(disputes, "VoteRevealed")
      .withArgs(1, ann, 1, before, 0);
    // from the attestation on, the registry answers for it (a dispute opened now sees it standing)
    expect(await trust.hasIdentityStanding(ann)).to.equal(true);
  });
});
