/**
 * h11-red2 finding M2 (MEDIUM): an authority removed from the electorate gets its seat back by
 * being enrolled again, without any election.
 *
 * AuthorityElection.isAuthority(a) = member && _seatRound[a] == sitting + 1 && R < 1, and
 * `remove` clears only the membership, never the seat. So an authority whose last access was
 * revoked (CredentialLedger.revoke: the place's operator expels it, and the ledger removes it from
 * the election) "leaves its seat" only until it is a member again: one approved registration at
 * any place (with per-place nullifiers a place that never saw it cannot refuse it; see M1), or the
 * registrar's enrolment, and it sits again for the rest of the term: it approves registrations
 * (CredentialLedger._checkApprover asks isAuthority) and attests misbehaviour reports.
 *
 * Property broken: MSSA authority election (QDPoS + Borda): the m authorities are those the
 * current round elected; a removed authority should not sit until an election seats it again.
 *
 * Fixed (h11-m): `remove` also vacates the seat (`_seatRound[member] = 0`, event SeatVacated when
 * it sat in the sitting round), so only `elect` seats a member. This file was
 * seat-return.findings.test.ts; it failed before the fix on "the removed authority sits again".
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture } from "../fixtures/mssa";

describe("h11-red2 M2: a removed authority enrolled again does not sit without an election", () => {
  it("round 0's authority au1 is removed (its seat is left), enrolled again: it must not be an authority", async () => {
    const f = await loadFixture(deployMssaFixture);
    expect(await f.election.isAuthority(f.au1.address)).to.equal(true);
    const e = await f.election.electorNullifierOf(f.au1.address); // the genesis authority's person
    await expect(f.election.remove(f.au1.address)).to.emit(f.election, "SeatVacated").withArgs(f.au1.address, 0n);
    expect(await f.election.isAuthority(f.au1.address)).to.equal(false);
    await f.election.enrolElector(f.au1.address, e);
    expect(await f.election.sittingRound()).to.equal(0n); // no election happened
    expect(await f.election.isAuthority(f.au1.address), "the removed authority sits again without an election").to.equal(false);
    // and it acts as none: its attestation is refused, nothing changes
    await expect(f.election.connect(f.au1).report(f.members[0].address, 1, ethers.id("after re-enrolment")))
      .to.be.revertedWithCustomError(f.election, "AuthorityElection__NotAuthority")
      .withArgs(f.au1.address);
  });

  it("removing a member that does not sit vacates no seat (no SeatVacated)", async () => {
    const f = await loadFixture(deployMssaFixture);
    await expect(f.election.remove(f.members[0].address)).to.not.emit(f.election, "SeatVacated");
    expect(await f.election.isAuthority(f.au2.address)).to.equal(true);
  });
});
