/**
 * h11-red2 finding D1 (LOW, open; D2 is fixed: DisputeResolution.test.ts "# a juror flagged after
 * its commit"): a juror's standing is checked at commit, and the reveal disagrees with it.
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
 * D2 (fixed): a juror flagged between its commit and its reveal could not reveal (Flagged), yet
 * `settle` penalized it as a withholder; now a voter flagged at settlement outside a flag contest
 * is not penalized for an unrevealed vote (docs/specs/disputes.md).
 */
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { byVoter, deployDisputeFixture, salt } from "../fixtures/disputes";
import { id } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";

async function opened() {
  const f = await deployDisputeFixture();
  await f.disputes.openDispute(id("claimant"), id("respondent"), 1, 3, id("evidence"), "bafkrei-evidence", { value: P.deposit });
  return { ...f, dId: 1n, jury: byVoter(f.disputes, f.signerOf) };
}

describe("h11-red2 D1: a juror's standing at reveal (findings)", () => {
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
});
