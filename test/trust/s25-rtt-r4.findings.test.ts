/**
 * s25-rtt R4 (M), open (see test/trust/s25-rtt.test.ts's header and docs/specs/disputes.md, "Open: R4"):
 * in an ordinary dispute against a further avatar's entry held by another account (a spare account of
 * its owner, or a squatter), the owner's attested avatar may still vote. Fails until the court keeps
 * the owner off that jury within issue 16's gas goal for `reveal`.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture, nextEvidence, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { attestRegistration } from "../../offchain/trust/ledger";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { MITRegistry__factory } from "../../typechain-types";

describe("s25-rtt R4 (open)", () => {
  it("R4: the owner's attested avatar may not judge an ordinary dispute against his other avatar", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
    const [spare, owner] = [ethers.Wallet.createRandom().connect(ethers.provider), ethers.Wallet.createRandom().connect(ethers.provider)];
    for (const w of [spare, owner]) await setBalance(w.address, 10n ** 20n);
    const [ghost, main] = [id("s25rtt-r4-ghost"), id("s25rtt-r4-main")];
    // his further avatar's entry, taken from a spare account while it was logged out
    await f.trust.connect(spare).register(ghost, Kind.Avatar);
    const notAfter = (await time.latest()) + 365 * 86_400;
    await registry.issueMIT(id("s25rtt-r4-mit"), id("key"), "params-cid");
    await registry.recordLogin(ghost, id("s25rtt-r4-mit"), id("warrant"), id("vid"), notAfter);
    await registry.recordLogin(main, id("s25rtt-r4-mit"), id("warrant-m"), id("vid-m"), notAfter);
    const deadline = BigInt(await time.latest()) + 3600n;
    const att = await attestRegistration(f.msrp, f.trust, main, "avatar", owner.address, deadline);
    await f.trust.connect(owner).registerAttested(main, Kind.Avatar, deadline, att);
    await mine(Number(P.minAge) + 1);
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
