/**
 * A court's COURT_ROLE revoked and granted again strands no case (h14-red2 G1, fixed): a dispute
 * resolved while the court was cut off runs `resolve` once with `applied = false`; the court keeps
 * that final verdict (`applyCaseRuling`), so once the role is back anyone applies it and the case
 * leaves AwaitingCourt (CourtUpheld: the IdP may trace it; Dismissed for a rejected or void one).
 * Before the fix the case read AwaitingCourt for ever: `resolve` runs once, `releaseCase` refuses
 * a court holding its role, `recordVerdict` refuses a case awaiting its court.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { byVoter, deployDisputeFixture, salt } from "../fixtures/disputes";
import { id } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { TraceStatus } from "../../offchain/avatars/protocols";
import { MITRegistry__factory } from "../../typechain-types";
import { attestClaimantAvatar, CLAIMANT_AVATAR, encodedEvidence } from "../helpers/encoded-evidence";

/** The case's evidence in the wire encoding (simulated: no signature verifies), about the respondent: the court reads it (s19-redd F2, F3). */
/** With a handshake naming the claimant's controller's attested avatar (the counterparty, whose owner's account alone may claim it:
 * docs/specs/disputes.md, "One interaction, one court case"; evidence without a handshake is refused, evidence-without-handshake.test.ts). */
const EV = encodedEvidence(id("respondent"), { reporter: CLAIMANT_AVATAR });

async function opened() {
  const f = await deployDisputeFixture();
  const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const notAfter = (await time.latest()) + 365 * 86_400;
  await registry.issueMIT(id("respondent-owner-mit"), id("key"), "params-cid");
  await registry.recordLogin(id("respondent"), id("respondent-owner-mit"), id("warrant"), id("vid"), notAfter);
  await attestClaimantAvatar({ registry, trust: f.trust, msrp: f.msrp });
  await registry.requestTrace(id("respondent"), ethers.keccak256(EV));
  await f.disputes.openAvatarDispute(id("claimant"), id("respondent"), 2, EV, 1n, { value: P.deposit });
  return { ...f, registry, court: await f.disputes.getAddress(), jury: byVoter(f.disputes, f.signerOf) };
}

/** Three voters vote `choice` (none: nobody votes, a void round 0); past the appeal window. */
async function decided(f: Awaited<ReturnType<typeof opened>>, choice?: number) {
  if (choice !== undefined)
    for (const [i, v] of f.voters.slice(0, 3).entries()) await f.jury.commit(1n, v, commitmentOf(1n, v, choice, salt(`g${i}`)));
  await time.increase(Number(P.commitPeriod) + 1);
  if (choice !== undefined) for (const [i, v] of f.voters.slice(0, 3).entries()) await f.jury.reveal(1n, v, choice, salt(`g${i}`));
  await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
}

describe("DisputeResolution.applyCaseRuling: a court's role revoked and granted again strands no case (h14-red2 G1)", () => {
  it("an upheld dispute resolved while the court was cut off: once the role is back anyone applies it, once; the case is CourtUpheld", async () => {
    const f = await loadFixture(opened);
    await decided(f, 0);
    const COURT_ROLE = await f.registry.COURT_ROLE();
    // the registry's admin pauses the court (a suspected bug, a migration) and restores it
    await f.registry.revokeRole(COURT_ROLE, f.court);
    await expect(f.disputes.resolve(1n)).to.emit(f.disputes, "AvatarCaseRuled").withArgs(1n, 1n, true, false);
    // while the role is missing the ruling cannot be applied; nothing changes
    await expect(f.disputes.applyCaseRuling(1n)).to.be.revertedWithCustomError(f.disputes, "DisputeResolution__TraceUnavailable");
    await f.registry.grantRole(COURT_ROLE, f.court);
    await expect(f.disputes.resolve(1n)).to.be.revertedWithCustomError(f.disputes, "DisputeResolution__AlreadyResolved");
    await expect(f.registry.releaseCase(1n)).to.be.revertedWithCustomError(f.registry, "MITRegistry__CourtStillBound");
    expect(Number((await f.registry.traceCase(1n)).status)).to.equal(TraceStatus.AwaitingCourt);
    // anyone (a stranger here) applies the kept verdict
    const tx = f.disputes.connect(f.others[3]).applyCaseRuling(1n);
    await expect(tx).to.emit(f.disputes, "AvatarCaseRuled").withArgs(1n, 1n, true, true);
    await expect(tx).to.emit(f.registry, "TraceCaseRuled").withArgs(1n, 1n, true, false);
    expect(Number((await f.registry.traceCase(1n)).status)).to.equal(TraceStatus.CourtUpheld);
    // once: a retry has no second effect
    await expect(f.disputes.applyCaseRuling(1n))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__NoPendingRuling")
      .withArgs(1n);
    // the IdP may now judge the case as any court-upheld one
    await expect(f.registry.recordVerdict(1n, true, id("commitment"))).to.emit(f.registry, "TraceVerdict");
    expect(Number((await f.registry.traceCase(1n)).status)).to.equal(TraceStatus.CourtTraced);
  });

  it("a rejected and a void verdict applied later dismiss the case", async () => {
    for (const choice of [1, undefined]) {
      const f = await loadFixture(opened);
      await decided(f, choice);
      const COURT_ROLE = await f.registry.COURT_ROLE();
      await f.registry.revokeRole(COURT_ROLE, f.court);
      await f.disputes.resolve(1n);
      await f.registry.grantRole(COURT_ROLE, f.court);
      await expect(f.disputes.applyCaseRuling(1n)).to.emit(f.disputes, "AvatarCaseRuled").withArgs(1n, 1n, false, true);
      expect(Number((await f.registry.traceCase(1n)).status), `choice ${choice}`).to.equal(TraceStatus.Dismissed);
    }
  });

  it("a case the IdP released meanwhile stays Dismissed: the kept verdict is dropped, nothing moves", async () => {
    const f = await loadFixture(opened);
    await decided(f, 0);
    const COURT_ROLE = await f.registry.COURT_ROLE();
    await f.registry.revokeRole(COURT_ROLE, f.court);
    await f.disputes.resolve(1n);
    await f.registry.releaseCase(1n);
    await f.registry.grantRole(COURT_ROLE, f.court);
    await expect(f.disputes.applyCaseRuling(1n)).to.emit(f.disputes, "AvatarCaseRuled").withArgs(1n, 1n, true, false);
    expect(Number((await f.registry.traceCase(1n)).status)).to.equal(TraceStatus.Dismissed);
    await expect(f.disputes.applyCaseRuling(1n)).to.be.revertedWithCustomError(f.disputes, "DisputeResolution__NoPendingRuling");
  });

  it("nothing is pending for a dispute resolved with the role, an unresolved one, or an unknown id", async () => {
    const f = await loadFixture(opened);
    await expect(f.disputes.applyCaseRuling(1n)).to.be.revertedWithCustomError(f.disputes, "DisputeResolution__NoPendingRuling");
    await decided(f, 0);
    await f.disputes.resolve(1n);
    expect(Number((await f.registry.traceCase(1n)).status)).to.equal(TraceStatus.CourtUpheld);
    for (const d of [1n, 9n])
      await expect(f.disputes.applyCaseRuling(d)).to.be.revertedWithCustomError(f.disputes, "DisputeResolution__NoPendingRuling");
  });
});
