/**
 * Red team s25-rtt (outside review of paper 4: trust, agreements, disputes), fixed in s25-fxt. Each
 * test states the property the protocol holds; each failed on the code the red team read.
 *
 * R1 (M) An upheld verdict against a person's further avatar costs the person loserPenalty: the
 *    losing party's penalty falls on the entity that carries its court weight, the owner's attested
 *    avatar (`_partyOf`'s `answering`), whose account holds the party's rights (kept off the jury,
 *    appeals, is paid): in an avatar dispute, and in an ordinary one whose entry the owner's own
 *    account holds (an entry another account holds answers itself: s25-review H1).
 * R2 (L) A court that does not hold the TrustManager's FEEDBACK_ROLE (bound once, to one court,
 *    never revocable) opens no ordinary or avatar dispute (`ReputationUnavailable`, before any
 *    deposit is taken), as it opens no flag contest (`FlagContestUnavailable`).
 * R3 (M) The detector's key does not pick an ordinary dispute's verdict: the flag-run rule of flag
 *    contests (s20-redt F3: only a flag held since a run at or before the opening bars a juror)
 *    holds in every nature, in `commit`, `reveal`, `settle`'s excusal and `eligibleWeight`; no
 *    dispute opens while a run is in flight.
 * R4 (M) the owner's attested avatar may sit on the jury of an ordinary dispute against his further
 *    avatar's entry held by another account. s25-fxt's first fix made the owner the party; the final
 *    read (s25-review H1/M1) showed that made an owner answer for a squatter's conduct and let the
 *    squatter vote. An ordinary dispute is about the entry's conduct: its controller is the party
 *    (off the jury, appeals, is paid, its entry answers an upheld claim); the owner's attested avatar
 *    answers only when the owner's own account holds the entry (R1). An avatar dispute's party is the
 *    owner's account. Keeping the owner off that jury as well (the second account, `otherAccount`)
 *    was fixed in session 26: test/trust/s25-rtt-r4.test.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { byVoter, deployDisputeFixture, ghostUnderSpare, nextEvidence, salt } from "../fixtures/disputes";
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

describe("s25-rtt (paper 4: disputes; fixed in s25-fxt)", () => {
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

  it("R2: a court that cannot move reputation refuses an ordinary dispute before it takes the deposit", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const stray = await (await ethers.getContractFactory("DisputeResolution")).deploy(await f.trust.getAddress(), ethers.ZeroAddress, P);
    const evidence = nextEvidence();
    await expect(
      stray.openDispute(id("claimant"), id("respondent"), 0, 2, evidence, "bafkrei-s25rtt", 0, { value: P.deposit }),
    ).to.be.revertedWithCustomError(stray, "DisputeResolution__ReputationUnavailable");
    expect(await ethers.provider.getBalance(await stray.getAddress()), "no deposit taken").to.equal(0n);
    expect(await stray.disputeCount()).to.equal(0n);
    // the bound court opens the same claim: the refusal was the role's, not the claim's
    await expect(
      f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, evidence, "bafkrei-s25rtt", 0, { value: P.deposit }),
    ).to.emit(f.disputes, "DisputeOpened");
  });

  it("R2: ... nor an avatar dispute (its upheld verdict moves the owner's reputation); the case stays Open for the bound court", async () => {
    const f = await loadFixture(ownerKnown);
    const stray = await (
      await ethers.getContractFactory("DisputeResolution")
    ).deploy(await f.trust.getAddress(), await f.registry.getAddress(), P);
    await expect(
      stray.openAvatarDispute(id("claimant"), id("s25rtt-ghost"), 2, EV, 1n, { value: P.deposit }),
    ).to.be.revertedWithCustomError(stray, "DisputeResolution__ReputationUnavailable");
    expect(await ethers.provider.getBalance(await stray.getAddress())).to.equal(0n);
    await expect(f.disputes.openAvatarDispute(id("claimant"), id("s25rtt-ghost"), 2, EV, 1n, { value: P.deposit })).to.emit(
      f.disputes,
      "DisputeOpened",
    );
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

  it("s25-review H1/M1: an entry another account holds is that account's case (off the jury, paid a rejected claim's deposit, appeals), not its avatar's owner's", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const { ghost, owner, spare } = await ghostUnderSpare(f);
    await f.disputes.openDispute(id("claimant"), ghost, 0, 2, nextEvidence(), "bafkrei-s25rtt-r4b", 0, { value: P.deposit });
    expect((await f.disputes.dispute(1n)).respondentController).to.equal(spare.address);
    const jury = byVoter(f.disputes, f.signerOf);
    const jurors = f.voters.slice(0, 3);
    for (const v of jurors) await jury.commit(1n, v, commitmentOf(1n, v, 1, salt(`s25rtt-r4b-${v}`)));
    await time.increase(Number(P.commitPeriod) + 1);
    for (const v of jurors) await jury.reveal(1n, v, 1, salt(`s25rtt-r4b-${v}`));
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await f.disputes.resolve(1n); // rejected
    expect((await f.disputes.dispute(1n)).outcome).to.equal(1n);
    expect(await f.disputes.owed(spare.address), "the entry's holder is compensated").to.equal(P.deposit);
    expect(await f.disputes.owed(owner.address)).to.equal(0n);
  });

  for (const holder of ["spare", "owner"] as const)
    it(`R1 with s25-review H1: an upheld ordinary verdict against a further avatar's entry held by ${holder === "owner" ? "the owner's own account costs his attested avatar loserPenalty" : "another account costs the owner nothing (the entry answers)"}`, async () => {
      const f = await loadFixture(deployDisputeFixture);
      const { ghost, main, owner, spare } = await ghostUnderSpare(f, holder);
      const [mainBefore, ghostBefore] = [(await f.trust.entity(main)).reputation, (await f.trust.entity(ghost)).reputation];
      await f.disputes.openDispute(id("claimant"), ghost, 0, 2, nextEvidence(), `bafkrei-s25rtt-r1b-${holder}`, 0, { value: P.deposit });
      const jury = byVoter(f.disputes, f.signerOf);
      const jurors = f.voters.slice(0, 3);
      for (const v of jurors) await jury.commit(1n, v, commitmentOf(1n, v, 0, salt(`s25rtt-r1b-${v}`)));
      await time.increase(Number(P.commitPeriod) + 1);
      for (const v of jurors) await jury.reveal(1n, v, 0, salt(`s25rtt-r1b-${v}`));
      await time.increase(Number(P.revealPeriod) + 1);
      const party = holder === "owner" ? owner.address : spare.address;
      expect((await f.disputes.appealTerms(1n)).appellant, "the entry's holder appeals").to.equal(party);
      await time.increase(Number(P.appealPeriod) + 1);
      await f.disputes.resolve(1n);
      expect((await f.disputes.dispute(1n)).outcome).to.equal(0n);
      expect(mainBefore - (await f.trust.entity(main)).reputation).to.equal(holder === "owner" ? P.loserPenalty : 0n);
      if (holder === "spare") expect((await f.trust.entity(ghost)).reputation, "a plain entry at 0 loses nothing").to.equal(ghostBefore);
    });

  it("R3: a juror flagged after the opening commits, reveals and, withholding, is penalized; one flagged before it has no vote", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
    const jury = byVoter(f.disputes, f.signerOf);
    const [before, after, withheld, other] = f.voters.slice(0, 4);
    await f.trust.connect(detector).flag(before, 3, id("s25rtt: a flag held at the opening"), 0);
    await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, nextEvidence(), "bafkrei-s25rtt-r3b", 0, { value: P.deposit });
    for (const v of [after, withheld]) await f.trust.connect(detector).flag(v, 1, id("s25rtt: a flag set after the opening"), 0);
    // the view `dispute:commit` reads and the commit agree: the flag held at the opening bars, the later one does not
    expect(await f.disputes.eligibleWeight(1n, before)).to.equal(0n);
    await expect(jury.commit(1n, before, commitmentOf(1n, before, 0, salt("s25rtt-r3b"))))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__Flagged")
      .withArgs(1n, before);
    for (const v of [after, withheld, other]) {
      expect(await f.disputes.eligibleWeight(1n, v)).to.equal(5n * 10n ** 17n);
      await jury.commit(1n, v, commitmentOf(1n, v, 0, salt(`s25rtt-r3b-${v}`)));
    }
    await time.increase(Number(P.commitPeriod) + 1);
    for (const v of [after, other]) await jury.reveal(1n, v, 0, salt(`s25rtt-r3b-${v}`));
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await f.disputes.resolve(1n);
    // it could have revealed (its flag is later than the opening): withholding costs voterPenalty
    await expect(f.disputes.settle(1n, withheld)).to.emit(f.disputes, "VoterSettled").withArgs(1n, withheld, -P.voterPenalty);
  });

  it("R3: no dispute of any nature opens while a flag run is in flight (its flags all precede or all follow the opening)", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
    await f.trust.connect(detector).beginFlagRun(id("s25rtt: a run"));
    const [, until] = await f.trust.flagRunState();
    const evidence = nextEvidence();
    await expect(f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, evidence, "bafkrei-s25rtt-r3c", 0, { value: P.deposit }))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__FlagRunInFlight")
      .withArgs(until);
    expect(await f.disputes.disputeCount()).to.equal(0n);
    await f.trust.connect(detector).endFlagRun();
    await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, evidence, "bafkrei-s25rtt-r3c", 0, { value: P.deposit });
    expect((await f.disputes.dispute(1n)).runsAtOpening).to.equal((await f.trust.flagRunState())[0]);
  });
});
