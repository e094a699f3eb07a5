/**
 * s25-rtt R4 (M), open (see test/trust/s25-rtt.test.ts's header and docs/specs/disputes.md, "Open: R4"):
 * in an ordinary dispute against a further avatar's entry held by another account (a spare account of
 * its owner, or a squatter), the owner's attested avatar may still vote. Fails until the court keeps
 * the owner off that jury within issue 16's gas goal for `reveal`.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture, ghostUnderSpare, nextEvidence, salt } from "../fixtures/disputes";
import { id } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";

describe("s25-rtt R4 (open)", () => {
  it("R4: the owner's attested avatar may not judge an ordinary dispute against his other avatar", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const { registry, ghost, main, owner } = await ghostUnderSpare(f);
    // the chain knows both avatars are one person's
    expect(await registry.ownerTagOf(ghost)).to.equal(await registry.ownerTagOf(main));
    expect(await f.trust.attestedAvatarOf(await registry.ownerTagOf(ghost))).to.equal(main);
    await f.disputes.openDispute(id("claimant"), ghost, 0, 2, nextEvidence(), "bafkrei-s25rtt-r4", 0, { value: P.deposit });
    expect(await f.disputes.eligibleWeight(1n, main), "the respondent's owner has no vote in his own case").to.equal(0n);
    await f.disputes.connect(owner).commit(1n, main, commitmentOf(1n, main, 1, salt("s25rtt-r4")));
    await time.increase(Number(P.commitPeriod) + 1);
    await expect(f.disputes.connect(owner).reveal(1n, main, 1, salt("s25rtt-r4"))).to.be.revertedWithCustomError(
      f.disputes,
      "DisputeResolution__PartyCannotVote",
    );
  });
});
