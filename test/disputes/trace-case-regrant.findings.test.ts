/**
 * Red team h14-red2 finding G1 (open): a court whose COURT_ROLE is revoked and then granted again
 * strands every case whose dispute resolved in between. `resolve` ran once with `applied = false`
 * (the court was cut off), so no `courtRuling` will ever come; once the role is back, `releaseCase`
 * refuses (`CourtStillBound`) and `recordVerdict` refuses (`AwaitingCourt`): the case reads
 * AwaitingCourt for a dispute that is over, neither traceable nor dismissed, while the court holds
 * its role (docs/specs/disputes.md: "a case never waits for ever while the court holds its role";
 * the invariant "no resolved dispute strands its case"). An upheld verdict is lost in any case.
 * Fails while the hole is open: the last expectation (the case leaves AwaitingCourt) does not hold.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { byVoter, deployDisputeFixture, salt } from "../fixtures/disputes";
import { id } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { TraceStatus } from "../../offchain/avatars/protocols";
import { MITRegistry__factory } from "../../typechain-types";

async function opened() {
  const f = await deployDisputeFixture();
  const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const notAfter = (await time.latest()) + 365 * 86_400;
  await registry.issueMIT(id("respondent-owner-mit"), id("key"), "params-cid");
  await registry.recordLogin(id("respondent"), id("respondent-owner-mit"), id("warrant"), id("vid"), notAfter);
  await registry.requestTrace(id("respondent"), id("the interaction's case hash"));
  await f.disputes.openAvatarDispute(id("claimant"), id("respondent"), 2, id("evidence"), "cid", 1n, { value: P.deposit });
  return { ...f, registry, court: await f.disputes.getAddress(), jury: byVoter(f.disputes, f.signerOf) };
}

describe("h14-red2 G1 (findings): a court's role revoked and granted again strands the cases resolved meanwhile", () => {
  it("an upheld dispute resolved while the court was cut off leaves its case AwaitingCourt for ever once the role is back", async () => {
    const f = await loadFixture(opened);
    for (const [i, v] of f.voters.slice(0, 3).entries()) await f.jury.commit(1n, v, commitmentOf(1n, v, 0, salt(`g${i}`)));
    await time.increase(Number(P.commitPeriod) + 1);
    for (const [i, v] of f.voters.slice(0, 3).entries()) await f.jury.reveal(1n, v, 0, salt(`g${i}`));
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    const COURT_ROLE = await f.registry.COURT_ROLE();
    // the registry's admin pauses the court (a suspected bug, a migration) and restores it
    await f.registry.revokeRole(COURT_ROLE, f.court);
    await expect(f.disputes.resolve(1n)).to.emit(f.disputes, "TraceCaseRuled").withArgs(1n, 1n, true, false);
    await f.registry.grantRole(COURT_ROLE, f.court);
    expect((await f.disputes.dispute(1n)).resolved).to.equal(true);
    // nothing can move the case now: the court's resolve ran once, the IdP may neither release nor judge it
    await expect(f.disputes.resolve(1n)).to.be.revertedWithCustomError(f.disputes, "DisputeResolution__AlreadyResolved");
    await expect(f.registry.releaseCase(1n)).to.be.revertedWithCustomError(f.registry, "MITRegistry__CourtStillBound");
    await expect(f.registry.recordVerdict(1n, true, id("commitment"))).to.be.revertedWithCustomError(
      f.registry,
      "MITRegistry__AwaitingCourt",
    );
    // the finding: a resolved dispute's case still awaits its court, which holds its role
    expect(Number((await f.registry.traceCase(1n)).status)).to.not.equal(TraceStatus.AwaitingCourt);
  });
});
