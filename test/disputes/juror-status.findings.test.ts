/**
 * h11-red2 findings D1, D2 (LOW): a juror's standing is checked at commit, and the reveal and the
 * settlement disagree with it.
 *
 * D1: a juror verified at commit whose identity is no longer verified at reveal (its MIT revoked:
 * a stolen key, an expelled person; here the admin's unverification) still reveals, and its weight
 * counts in the verdict. Attacker: whoever holds a juror identity that is being revoked (the thief
 * of a key, the person being expelled) commits while it is still verified; the revocation does not
 * reach the vote. Property (trust paper, reputation-weighted dispute resolution, Eqs. 21-22): only
 * verified identities judge; `commit` checks it, `reveal` (where the weight enters) does not.
 * Fix: `reveal` also requires `isIdentityVerified(voter)` (as it requires "unflagged"), and
 * `_feedback` does not penalize a commit that could not be revealed for that reason. Not a
 * one-liner: an avatar juror is "verified" only while its login or delegation runs (MITRegistry
 * isVerified: a day for a login), so the reveal check must distinguish a revoked MIT (refuse) from
 * a lapsed session (the juror logs in again), e.g. by asking the MITRegistry for the MITs' status.
 *
 * D2: a juror flagged between its commit and its reveal cannot reveal (Flagged), yet `settle`
 * penalizes it as a vote withheld "although it could have revealed" (`_feedback` asks
 * `_snapshotWeight`, which never looks at flags). What the detector's flag gets: the juror loses
 * voterPenalty on top of the exclusion, even if a flag contest later clears the flag. Property:
 * the court's own rule (withholding is penalized only when revealing was possible). Fix: in
 * `_feedback`, a committed vote of a voter that is flagged now (outside a flag contest) is not
 * penalized (or: record at reveal time that the reveal was refused for a flag).
 */
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ethers } from "hardhat";
import { byVoter, deployDisputeFixture, salt } from "../fixtures/disputes";
import { id } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";

async function opened() {
  const f = await deployDisputeFixture();
  await f.disputes.openDispute(id("claimant"), id("respondent"), 1, 3, id("evidence"), "bafkrei-evidence", { value: P.deposit });
  return { ...f, dId: 1n, jury: byVoter(f.disputes, f.signerOf) };
}

describe("h11-red2 D1, D2: a juror's standing at reveal and at settlement (findings)", () => {
  it("D1: a juror unverified after its commit must not reveal (its weight must not count)", async () => {
    const { disputes, trust, voters, dId, jury } = await opened();
    const v = voters[0];
    await jury.commit(dId, v, commitmentOf(dId, v, 0, salt("d1")));
    await trust.setIdentityVerified(v, false); // its identity is revoked
    expect(await trust.isIdentityVerified(v)).to.equal(false);
    await time.increase(Number(P.commitPeriod) + 1);
    const counted = await jury.reveal(dId, v, 0, salt("d1")).then(
      () => true,
      () => false,
    );
    expect(counted, "an unverified identity's vote was revealed and counted").to.equal(false);
    expect((await disputes.tally(dId))[0]).to.equal(0n);
  });

  it("D2: a juror flagged after its commit cannot reveal, and must not be penalized for withholding", async () => {
    const { disputes, trust, voters, dId, jury } = await opened();
    const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
    const [flagged, ...rest] = voters.slice(0, 4);
    for (const [i, v] of [flagged, ...rest].entries()) await jury.commit(dId, v, commitmentOf(dId, v, 0, salt(`d2-${i}`)));
    await trust.connect(detector).flag(flagged, 1, ethers.ZeroHash);
    await time.increase(Number(P.commitPeriod) + 1);
    await expect(jury.reveal(dId, flagged, 0, salt("d2-0"))).to.be.revertedWithCustomError(disputes, "DisputeResolution__Flagged");
    for (const [i, v] of rest.entries()) await jury.reveal(dId, v, 0, salt(`d2-${i + 1}`));
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await disputes.resolve(dId);
    const before = (await trust.entity(flagged)).reputation;
    await disputes.settle(dId, flagged);
    expect((await trust.entity(flagged)).reputation, "the flagged juror, who could not reveal, was penalized").to.equal(before);
  });
});
