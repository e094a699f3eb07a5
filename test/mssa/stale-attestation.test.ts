/**
 * h11-red2 finding M3 (LOW-MEDIUM): a misbehaviour report counts attestations of authorities that
 * no longer sit.
 *
 * AuthorityElection.report applies a report once `reportQuorum` attestations are in, counting every
 * attestation ever made, while CredentialLedger re-checks each approver at k (an approval of an
 * authority that left does not count: ApprovalsStale). Attacker: a sitting authority that attests
 * a report against a rival (any evidence id), then is removed (its access revoked, h7-audit M2) or
 * voted out: its attestation stays, and a single sitting authority later completes the quorum.
 * What it gets: a misbehaviour count (Eq. 1's t_if) against the rival, which lowers the rival's
 * Borda weight (Eq. 2) and can make it ineligible (R >= 1), approved by fewer sitting authorities
 * than the quorum. Property: MSSA's misbehaviour record is "reported by the authority nodes" (a
 * quorum of the sitting ones); a removed authority "neither proposes nor approves nor attests".
 * Fixed (h11-m): the election keeps each report's attesters and, at quorum, counts only those who
 * sit at that moment; short of the quorum it emits AttestationsStale and the report stays open.
 * This file was stale-attestation.findings.test.ts; it failed before the fix on "applied with the
 * attestation of a removed authority".
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture, P } from "../fixtures/mssa";

describe("h11-red2 M3: a report's quorum counts an attestation of an authority that was removed since (fixed)", () => {
  it("au1 attests, au1 is removed, au2 attests: the report must not be applied with one sitting attester", async () => {
    const f = await loadFixture(deployMssaFixture);
    expect(P.reportQuorum).to.equal(2);
    const rival = f.members[0].address;
    const evidence = ethers.id("au1's report on the rival");
    await f.election.connect(f.au1).report(rival, 1, evidence);
    await f.election.remove(f.au1.address); // expelled: no longer an authority
    expect(await f.election.isAuthority(f.au1.address)).to.equal(false);
    const id = await f.election.reportIdOf(rival, 1, evidence);
    await expect(f.election.connect(f.au2).report(rival, 1, evidence))
      .to.emit(f.election, "AttestationsStale")
      .withArgs(id, 2n, 1n);
    const [counts] = await f.election.misbehaviour(rival);
    expect(counts[1], "applied with the attestation of a removed authority").to.equal(0n);
    expect((await f.election.reportOf(id)).state).to.equal(1n); // still Attesting
    // au2 cannot attest twice; a second sitting authority (au3) completes the quorum
    await expect(f.election.connect(f.au2).report(rival, 1, evidence))
      .to.be.revertedWithCustomError(f.election, "AuthorityElection__AlreadyAttested")
      .withArgs(id, f.au2.address);
    await expect(f.election.connect(f.au3).report(rival, 1, evidence)).to.emit(f.election, "MisbehaviourRecorded");
    expect((await f.election.misbehaviour(rival))[0][1]).to.equal(1n);
    expect((await f.election.reportOf(id)).state).to.equal(2n); // Applied
  });

  it("with every attester sitting, the quorum applies the report as before", async () => {
    const f = await loadFixture(deployMssaFixture);
    const rival = f.members[1].address;
    const evidence = ethers.id("a plain report");
    await f.election.connect(f.au1).report(rival, 2, evidence);
    await expect(f.election.connect(f.au2).report(rival, 2, evidence)).to.not.emit(f.election, "AttestationsStale");
    expect((await f.election.misbehaviour(rival))[0][2]).to.equal(1n);
  });
});
