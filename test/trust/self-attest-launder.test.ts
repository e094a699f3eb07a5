/**
 * Red team h14-red2 finding G4, closed by a decision (session 21; docs/specs/trust.md §6, "An entry's
 * own attestation is not a reclaim"): an owner who registered her avatar plainly from a throwaway
 * account, misbehaved under it and got it flagged, then attests it from her main account, is taken
 * for a squatter's reclaim (the contract cannot tell her other account from a squatter's): the
 * generation moves and the plain era's flags and pairs are cut. Keeping flags across a reclaim
 * would frame every owner whose id a squatter registered and misused first, so the decision is to
 * bound what the laundering buys instead, and to pin that bound here:
 *
 * 1. what she gets is exactly a fresh attested identity: the state a direct attestation of the
 *    same avatar gives (initial reputation, no flags, attested and vouched), nothing of the plain
 *    era (its reputation, credit or age) carried into it. §6's whitewashing argument already holds
 *    for fresh attested identities (they start below what a whitewasher sheds and are never in
 *    standing: `sim:whitewash`'s study, test/trust/detection-goals.test.ts);
 * 2. it is her one attested avatar (one MIT per person, the IdP's iris check): afterwards a flag on
 *    it stays, and neither this avatar nor any other of hers can be attested again; a further
 *    avatar of hers comes back only as an honest newcomer (`reclaimAvatar`: reputation 0,
 *    unverified);
 * 3. the plain era carries nothing into the new one: since s20-redt F1 an agreement credits only
 *    identity-verified avatars, and a plain entry starts at reputation 0 with no vote; one the
 *    admin verified has the initial reputation and a vote, and the reclaim gives neither to the new
 *    era: not its reputation, and not its standing at the snapshots of disputes opened before
 *    (`standingAt` reads nothing before the era's start: s21-review1's case, which let the
 *    laundered id vote unflagged in those disputes with the flagged plain era's weight).
 * Was self-attest-launder.findings.test.ts (which asked that the flags stay).
 */
import { expect } from "chai";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { deployDisputeFixture, nextEvidence, salt } from "../fixtures/disputes";
import { avatarOwner } from "../helpers/avatar-owner";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";

async function fixture() {
  const f = await deployTrustFixture();
  const o = await avatarOwner(f, "self-attest-launder");
  return { ...f, ...o, main: await o.account(), throwaway: await o.account() };
}

type F = Awaited<ReturnType<typeof fixture>>;
const ZERO = "0x" + "00".repeat(32);
const snapshot = async (f: F, id: string) => {
  const e = await f.trust.entity(id);
  return {
    reputation: e.reputation,
    flags: Number(e.flags),
    attested: e.attested,
    vouched: e.vouched,
    kind: Number(e.kind),
    verified: await f.trust.isIdentityVerified(id),
  };
};

/** alice's throwaway registers fox plainly, fox is flagged, alice attests it from her main account */
async function laundered(f: F) {
  await f.trust.connect(f.throwaway).register(f.fox, Kind.Avatar);
  await f.trust.connect(f.detector).flag(f.fox, 3, ZERO, await f.trust.generationOf(f.fox));
  expect(Number((await f.trust.entity(f.fox)).flags) & 0x7f, "flagged in its plain era").to.not.equal(0);
  await f.login(f.fox);
  const { deadline, a } = await f.attest(f.fox, f.main);
  await expect(f.trust.connect(f.main).registerAttested(f.fox, Kind.Avatar, deadline, a))
    .to.emit(f.trust, "EntityReclaimed")
    .withArgs(f.fox, await f.throwaway.getAddress(), await f.main.getAddress());
}

describe("h14-red2 G4: a flagged plain entry attested from its owner's other account buys a fresh attested identity, once", () => {
  it("the laundered entry is exactly what a direct attestation of the same avatar gives, nothing of its plain era", async () => {
    const f = await loadFixture(fixture);
    const generation = await f.trust.generationOf(f.fox);
    await laundered(f);
    const after = await snapshot(f, f.fox);
    expect(await f.trust.generationOf(f.fox), "a new era: the plain era's pairs no longer count").to.equal(generation + 1n);
    // the same avatar attested directly, with no plain era, from a fresh fixture
    const g = await loadFixture(fixture);
    await g.login(g.fox);
    const { deadline, a } = await g.attest(g.fox, g.main);
    await g.trust.connect(g.main).registerAttested(g.fox, Kind.Avatar, deadline, a);
    const direct = await snapshot(g, g.fox);
    expect(after).to.deep.equal(direct);
    expect(after.flags).to.equal(0);
  });

  it("it is her one attested avatar: a later flag stays, and neither it nor another avatar of hers is attested again", async () => {
    const f = await loadFixture(fixture);
    await laundered(f);
    expect(await f.trust.attestedAvatarOf(await f.mit.ownerTagOf(f.fox))).to.equal(f.fox);
    await f.trust.connect(f.detector).flag(f.fox, 3, ZERO, await f.trust.generationOf(f.fox));
    const flagged = await snapshot(f, f.fox);
    expect(flagged.flags & 0x7f).to.not.equal(0);
    // again from a third account: the entry is attested
    const third = await f.account();
    const again = await f.attest(f.fox, third);
    await expect(f.trust.connect(third).registerAttested(f.fox, Kind.Avatar, again.deadline, again.a)).to.be.revertedWithCustomError(
      f.trust,
      "TrustManager__EntityExists",
    );
    // her other avatar, registered plainly by a throwaway and flagged, cannot be attested: her tag is bound
    await f.trust.connect(f.throwaway).register(f.owl, Kind.Avatar);
    await f.login(f.owl);
    const owl = await f.attest(f.owl, f.main);
    await expect(f.trust.connect(f.main).registerAttested(f.owl, Kind.Avatar, owl.deadline, owl.a)).to.be.revertedWithCustomError(
      f.trust,
      "TrustManager__OwnerHasAttestedAvatar",
    );
    expect(await snapshot(f, f.fox), "nothing moved").to.deep.equal(flagged);
  });

  it("a plain era the admin verified (reputation, a vote) carries neither: no vote in a dispute opened before the reclaim", async () => {
    // s21-review1 (on this decision): `standingAt` read the id's history, not the era's
    const f = await deployDisputeFixture();
    const o = await avatarOwner(f, "s21-review1-g4");
    const [main, throwaway] = [await o.account(), await o.account()];
    await f.trust.connect(throwaway).register(o.fox, Kind.Avatar);
    await f.trust.setIdentityVerified(o.fox, true);
    await mine(Number(P.minAge) + 1);
    await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, nextEvidence(), "", 0, { value: P.deposit });
    const earlier = await f.disputes.disputeCount();
    expect(await f.disputes.eligibleWeight(earlier, o.fox), "set-up: verified and old enough, the plain fox votes").to.be.greaterThan(0n);
    await f.trust.connect(f.detector).flag(o.fox, 3, ZERO, await f.trust.generationOf(o.fox));
    // a flag bars the disputes opened after it (s25-rtt R3: one set after an opening picks no vote there)
    await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, nextEvidence(), "", 0, { value: P.deposit });
    const dId = await f.disputes.disputeCount();
    expect(await f.disputes.eligibleWeight(dId, o.fox), "set-up: flagged at the opening, fox has no vote").to.equal(0n);
    // the laundering (h14-red2 G4)
    await o.login(o.fox);
    const { deadline, a } = await o.attest(o.fox, main);
    await f.trust.connect(main).registerAttested(o.fox, Kind.Avatar, deadline, a);
    const e = await f.trust.entity(o.fox);
    expect(Number(e.flags) & 0x7f, "set-up: the flags are cut").to.equal(0);
    expect(e.reputation, "the initial reputation, not the plain era's added to it").to.equal((await f.trust.model()).initialReputation);
    // like a fresh attested identity: no standing at a snapshot before its attestation
    expect(await f.disputes.eligibleWeight(dId, o.fox), "fox's weight after the laundering").to.equal(0n);
    await (await f.disputes.connect(main).commit(dId, o.fox, commitmentOf(dId, o.fox, 0, salt("fox")))).wait();
    await time.increase(Number(P.commitPeriod) + 1);
    await expect(f.disputes.connect(main).reveal(dId, o.fox, 0, salt("fox")))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__NotEligible")
      .withArgs(dId, o.fox, 0n);
  });
});
