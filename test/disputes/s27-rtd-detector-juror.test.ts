/**
 * s27-rtd (red team) D1: the detector's own account sits on the jury of a contest against its flag.
 *
 * A flag contest has no respondent: "the detector has no entity" (docs/specs/disputes.md, flag
 * contests), so `respondentController` is 0 and `_whyNot` bars nobody on the detector's side. But
 * nothing stops the DETECTOR_ROLE account from controlling a trust entity: `register` is open, and
 * the IdP attests an avatar registration for whatever controller its owner names (here the
 * operator's own avatar, attested to the detector's account). Role separation (`_grantRole`) keeps
 * role holders apart from each other, not from entities. So the operator flags an entity, the
 * flagged entity contests, and the account that set the flag judges the contest with its avatar's
 * full weight (and is paid from the losers' penalty if its side wins).
 *
 * Actor: a detector operator acting alone. Correct behaviour asserted: the account that holds the
 * detector's role, the contest's other side, has no vote in it (`eligibleWeight` 0; its reveal is
 * refused `PartyCannotVote`). (A second account of the operator's is the unlinkable residual; this
 * is the account the chain does link.)
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { attestRegistration } from "../../offchain/trust/ledger";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";

const Z = ethers.ZeroHash;
const label = (s: string) => toHex(keccak256(new TextEncoder().encode(`s27-rtd-d1:${s}`)));

async function world() {
  const f = await deployDisputeFixture();
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  // the detector operator's own avatar, attested to the detector's role account
  const serial = label("operator-serial");
  await mit.issueMIT(serial, label("operator-key"), "bafy-params");
  const det = toHex(avatarIdOf(ethers.getBytes(serial), "operator"));
  await mit.recordLogin(det, serial, label("w-op"), label("v-op"), (await time.latest()) + 30 * 86_400);
  const deadline = BigInt(await time.latest()) + 3600n;
  const att = await attestRegistration(f.msrp, f.trust, det, "avatar", f.detector.address, deadline);
  await f.trust.connect(f.detector).registerAttested(det, Kind.Avatar, deadline, att);
  await mine(Number(P.minAge) + 1);
  // the detector flags v5; v5's controller contests the flag
  const target = f.voters[5];
  await f.trust.connect(f.detector).flag(target, 3, id("s27-rtd-d1 detector evidence"), 0);
  await f.disputes.connect(f.others[15]).openDispute(target, Z, 3, 2, Z, "", 0, { value: P.deposit });
  return { ...f, det };
}

describe("s27-rtd D1: the detector's account judges a contest against its own flag", function () {
  it("the DETECTOR_ROLE account's entity has no vote in a flag contest", async function () {
    const { disputes, det, detector } = await loadFixture(world);
    const weight = await disputes.eligibleWeight(1, det);
    console.log(`      the detector's avatar: eligibleWeight ${weight} in the contest against its flag`);
    const dr = disputes.connect(detector);
    await dr.commit(1, det, await dr.commitmentFor(1, det, 1, salt("det"))); // option 1: the flag stands
    await time.increase(Number(P.commitPeriod) + 1);
    expect(weight, "eligibleWeight of the detector's entity").to.equal(0n);
    await expect(dr.reveal(1, det, 1, salt("det"))).to.be.revertedWithCustomError(disputes, "DisputeResolution__PartyCannotVote");
  });

  it("s27-fxd: its refused vote costs it nothing at settlement, and in any other dispute it is a juror like any other", async function () {
    const { disputes, trust, det, detector } = await loadFixture(world);
    const dr = disputes.connect(detector);
    await dr.commit(1, det, await dr.commitmentFor(1, det, 1, salt("det")));
    await time.increase(Number(P.commitPeriod) + 1);
    await expect(dr.reveal(1, det, 1, salt("det"))).to.be.revertedWithCustomError(disputes, "DisputeResolution__PartyCannotVote");
    await time.increase(Number(P.revealPeriod + P.appealPeriod) + 1);
    await disputes.resolve(1);
    // like a party's sealed vote: it could not reveal, so withholding is not penalized
    await expect(disputes.settle(1, det)).to.emit(disputes, "VoterSettled").withArgs(1, det, 0n);
    // the bar is the flag contest's other side only: an ordinary dispute has the detector as no party
    await disputes.openDispute(id("claimant"), id("respondent"), 0, 2, id("s27-fxd-d1 evidence"), "bafkrei-d", 0, {
      value: P.deposit,
    });
    const rep = (await trust.entity(det)).reputation;
    expect(rep > 0n).to.equal(true);
    expect(await disputes.eligibleWeight(2, det)).to.equal(rep);
  });
});
