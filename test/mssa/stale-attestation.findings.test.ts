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
 * Suggested fix: at quorum, count only attestations whose authority still sits (keep the
 * attesters per report, as CredentialLedger keeps approvers), else emit a stale event and wait.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture, P } from "../fixtures/mssa";

describe("h11-red2 M3: a report's quorum counts an attestation of an authority that was removed since (findings)", () => {
  it("au1 attests, au1 is removed, au2 attests: the report must not be applied with one sitting attester", async () => {
    const f = await loadFixture(deployMssaFixture);
    expect(P.reportQuorum).to.equal(2);
    const rival = f.members[0].address;
    const evidence = ethers.id("au1's report on the rival");
    await f.election.connect(f.au1).report(rival, 1, evidence);
    await f.election.remove(f.au1.address); // expelled: no longer an authority
    expect(await f.election.isAuthority(f.au1.address)).to.equal(false);
    await f.election.connect(f.au2).report(rival, 1, evidence);
    const id = await f.election.reportIdOf(rival, 1, evidence);
    const [counts] = await f.election.misbehaviour(rival);
    expect(counts[1], "applied with the attestation of a removed authority").to.equal(0n);
    expect((await f.election.reportOf(id)).state).to.equal(1n); // still Attesting
  });
});
