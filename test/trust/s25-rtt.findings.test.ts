/**
 * Red team s25-rtt (outside review of paper 4: trust, agreements, disputes). Each test states the
 * property the protocol should hold and FAILS on the code as it stands (findings, not fixed here).
 *
 * R1 (M) An upheld verdict against a person's further avatar costs the person nothing: the court
 *    makes the owner's attested account the respondent's party (juror exclusion, appeal, a rejected
 *    claim's deposit and fees) but lands the loser penalty only on the respondent avatar's own entry
 *    (none, or a reputation-0 plain entry), never on the owner's attested avatar, whose reputation
 *    is the person's court weight. A claimant who loses pays loserPenalty; a respondent who loses
 *    through a further avatar pays nothing: risk on one side only.
 * R2 (L) A court that does not hold the TrustManager's FEEDBACK_ROLE (bound once, to one court,
 *    never revocable) opens ordinary disputes and takes their deposits, but every decided verdict
 *    reverts in `resolve` (adjustReputation), so the case never closes and the deposit and the
 *    jurors' settlement are stranded. Flag contests (FlagContestUnavailable) and avatar disputes
 *    (TraceUnavailable, `_ruleOnCase`) are refused or handled on such a court; nature 0 is not.
 * R3 (M) The detector's key picks the verdict of an ordinary dispute (neither party's): a reveal
 *    carries its choice in calldata, so the detector, seeing the reveals of the side it wants to
 *    lose in the mempool, front-runs them with flags; `reveal` refuses a flagged voter outside a
 *    flag contest, `settle` then spares it (D2), and the verdict flips. The flag-run rule that
 *    fixed this for flag contests (s20-redt F3: only a flag held since a run at or before the
 *    opening bars) is not applied to other natures; the flags are public and contestable, but
 *    only after the verdict they bought.
 * R4 (M) A person judges his own ordinary (nature 0) dispute: against an avatar, the court takes
 *    the respondent's party to be the controller of the avatar's trust entry (a plain entry his
 *    spare account registered while the avatar was logged out), not the owner's attested account as
 *    it does for avatar disputes (session 15's final read). The chain links the two (the owner tag,
 *    `attestedAvatarOf`), yet the owner's attested avatar is an eligible juror with full weight in
 *    the case against his other avatar, and the spare account holds the party's appeal.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { byVoter, deployDisputeFixture, nextEvidence, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { attestRegistration } from "../../offchain/trust/ledger";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { MITRegistry__factory } from "../../typechain-types";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { attestClaimantAvatar, CLAIMANT_AVATAR, encodedEvidence } from "../helpers/encoded-evidence";

const EV = encodedEvidence(id("s25rtt-ghost"), { reporter: CLAIMANT_AVATAR });
const SERIAL = id("s25rtt-ghost-owner-mit");

/** The owner of "ghost" has an attested avatar "main" (its account `owner`, reputation 0.5, old enough to vote). */
async function ownerKnown() {
  const f = await deployDisputeFixture();
  const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const notAfter = (await time.latest()) + 365 * 86_400;
  await registry.issueMIT(SERIAL, id("key"), "params-cid");
  // the misbehaving avatar: a further avatar of the owner, logged in, no trust entry
  await registry.recordLogin(id("s25rtt-ghost"), SERIAL, id("warrant"), id("vid"), notAfter);
  await registry.recordLogin(id("s25rtt-main"), SERIAL, id("warrant-m"), id("vid-m"), notAfter);
  const owner = ethers.Wallet.createRandom().connect(ethers.provider);
  await setBalance(owner.address, 10n ** 20n);
  const deadline = BigInt(await time.latest()) + 3600n;
  const att = await attestRegistration(f.msrp, f.trust, id("s25rtt-main"), "avatar", owner.address, deadline);
  await f.trust.connect(owner).registerAttested(id("s25rtt-main"), Kind.Avatar, deadline, att);
  await attestClaimantAvatar({ registry, trust: f.trust, msrp: f.msrp });
  await mine(Number(P.minAge) + 1);
  await registry.requestTrace(id("s25rtt-ghost"), ethers.keccak256(EV)); // case #1, the victim's
  return { ...f, registry, owner, jury: byVoter(f.disputes, f.signerOf) };
}

describe("s25-rtt findings (paper 4: trust, agreements, disputes)", () => {
  it("R1: a verdict upheld against a person's further avatar costs that person loserPenalty (as a rejected claim costs the claimant)", async () => {
    const f = await loadFixture(ownerKnown);
    const main = id("s25rtt-main");
    const before = (await f.trust.entity(main)).reputation;
    await f.disputes.openAvatarDispute(id("claimant"), id("s25rtt-ghost"), 2, EV, 1n, { value: P.deposit });
    // the owner's attested account is the respondent's party: excluded from the jury, may appeal
    expect((await f.disputes.dispute(1n)).respondentController).to.equal(f.owner.address);
    const jurors = f.voters.slice(0, 3);
    for (const v of jurors) await f.jury.commit(1n, v, commitmentOf(1n, v, 0, salt(`s25rtt-${v}`)));
    await time.increase(Number(P.commitPeriod) + 1);
    for (const v of jurors) await f.jury.reveal(1n, v, 0, salt(`s25rtt-${v}`));
    await time.increase(Number(P.revealPeriod) + 1);
    // the party account could appeal the upheld verdict (it has the party's rights) ...
    expect((await f.disputes.appealTerms(1n)).appellant).to.equal(f.owner.address);
    await time.increase(Number(P.appealPeriod) + 1);
    await f.disputes.resolve(1n);
    expect((await f.disputes.dispute(1n)).outcome).to.equal(0n); // upheld
    // ... but not the party's risk: the person's standing (its one attested avatar) is untouched
    expect(before - (await f.trust.entity(main)).reputation, "the losing party's standing pays loserPenalty").to.equal(P.loserPenalty);
  });

  it("R2: a court that cannot move reputation refuses ordinary disputes, or closes them: never a deposit it can never return", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const stray = await (await ethers.getContractFactory("DisputeResolution")).deploy(await f.trust.getAddress(), ethers.ZeroAddress, P);
    const opened = await stray
      .openDispute(id("claimant"), id("respondent"), 0, 2, nextEvidence(), "bafkrei-s25rtt", 0, { value: P.deposit })
      .then(
        () => true,
        () => false,
      );
    if (!opened) return; // refused at the opening (as a flag contest is): nothing taken
    expect(await ethers.provider.getBalance(await stray.getAddress())).to.equal(P.deposit);
    const jury = byVoter(stray, f.signerOf);
    const jurors = f.voters.slice(0, 3);
    for (const v of jurors) await jury.commit(1n, v, commitmentOf(1n, v, 0, salt(`s25rtt-stray-${v}`)));
    await time.increase(Number(P.commitPeriod) + 1);
    for (const v of jurors) await jury.reveal(1n, v, 0, salt(`s25rtt-stray-${v}`));
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    // decided (upheld by 1.5 of weight): resolve must close it and credit the deposit back
    await expect(stray.resolve(1n), "the decided case closes").to.not.be.reverted;
    expect(await stray.owed(await f.msrp.getAddress())).to.equal(P.deposit);
  });

  it("R3: a flag set after an ordinary dispute opened does not pick which sealed votes count (the detector is no party to it)", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
    const jury = byVoter(f.disputes, f.signerOf);
    await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, nextEvidence(), "bafkrei-s25rtt-r3", 0, { value: P.deposit });
    // five eligible jurors of weight 0.5: three seal "upheld", two "rejected"
    const choices = [0, 0, 0, 1, 1];
    const jurors = f.voters.slice(0, 5);
    for (const [i, v] of jurors.entries()) await jury.commit(1n, v, commitmentOf(1n, v, choices[i], salt(`s25rtt-r3-${v}`)));
    await time.increase(Number(P.commitPeriod) + 1);
    // v0's reveal (choice 0 in its calldata) is seen pending; the detector's flag is mined ahead of it
    await f.trust.connect(detector).flag(jurors[0], 3, id("s25rtt: flag bought with a pending reveal"), 0);
    for (const [i, v] of jurors.entries()) await jury.reveal(1n, v, choices[i], salt(`s25rtt-r3-${v}`)).catch(() => undefined); // v0's is refused (Flagged)
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await f.disputes.resolve(1n);
    const d = await f.disputes.dispute(1n);
    expect(d.void_).to.equal(false);
    // the sealed majority (1.5 of 2.5) upheld the claim; with v0 silenced it is an even split: rejected
    expect(d.outcome, "the verdict is the sealed majority's, not the detector's choice").to.equal(0n);
  });

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
