/**
 * s25-rtt R4 (M), fixed in s26-fxr4 (docs/specs/disputes.md, "One party per person"): a person sits
 * on one side only. Where the account holding an avatar's trust entry is not its owner's (the
 * controller of the owner's attested avatar: a spare account of the owner's, or a squatter), the
 * one of the two that is not the party is the party entity's second account (`Dispute.otherAccount`):
 * off the jury in `reveal`, `eligibleWeight` (so `dispute:commit`) and `settle`'s excusal, with no
 * right of a party (no appeal, no payment, its avatar does not answer the verdict: s25-review H1).
 * - an ordinary dispute against the entry: the owner's account (its attested avatar judged his other avatar);
 * - a flag contest the entry's holder files: the owner's account (s25 "Residual" after R4);
 * - an avatar dispute (party: the owner's account): the entry's holder.
 * Each case fails with `otherAccount` left out of the rule (`_whyNot`) or set to 0 at the opening.
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

const GHOST = id("s26fxr4-ghost");
const EV = encodedEvidence(GHOST, { reporter: CLAIMANT_AVATAR });

/**
 * An avatar dispute's respondent "ghost" whose trust entry juror v0's account registered while it was
 * logged out; its owner's attested avatar "main" (account `owner`). Trace case #1 is about ghost.
 */
async function ghostHeldByJuror() {
  const f = await deployDisputeFixture();
  const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const holder = f.signerOf.get(f.voters[0])!;
  await f.trust.connect(holder).register(GHOST, Kind.Avatar);
  const notAfter = (await time.latest()) + 365 * 86_400;
  await registry.issueMIT(id("s26fxr4-mit"), id("key"), "params-cid");
  await registry.recordLogin(GHOST, id("s26fxr4-mit"), id("warrant"), id("vid"), notAfter);
  await registry.recordLogin(id("s26fxr4-main"), id("s26fxr4-mit"), id("warrant-m"), id("vid-m"), notAfter);
  const owner = ethers.Wallet.createRandom().connect(ethers.provider);
  await setBalance(owner.address, 10n ** 20n);
  const deadline = BigInt(await time.latest()) + 3600n;
  const att = await attestRegistration(f.msrp, f.trust, id("s26fxr4-main"), "avatar", owner.address, deadline);
  await f.trust.connect(owner).registerAttested(id("s26fxr4-main"), Kind.Avatar, deadline, att);
  await attestClaimantAvatar({ registry, trust: f.trust, msrp: f.msrp });
  await mine(Number(P.minAge) + 1);
  await registry.requestTrace(GHOST, ethers.keccak256(EV)); // case #1
  return { ...f, registry, owner, holder: await holder.getAddress() };
}

describe("s25-rtt R4 (fixed in s26-fxr4): one person, one side", () => {
  it("R4: the owner's attested avatar may not judge an ordinary dispute against his other avatar", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const { registry, ghost, main, owner, spare } = await ghostUnderSpare(f);
    // the chain knows both avatars are one person's
    expect(await registry.ownerTagOf(ghost)).to.equal(await registry.ownerTagOf(main));
    expect(await f.trust.attestedAvatarOf(await registry.ownerTagOf(ghost))).to.equal(main);
    await f.disputes.openDispute(id("claimant"), ghost, 0, 2, nextEvidence(), "bafkrei-s25rtt-r4", 0, { value: P.deposit });
    const d = await f.disputes.dispute(1n);
    expect([d.respondentController, d.otherAccount]).to.deep.equal([spare.address, owner.address]);
    expect(await f.disputes.eligibleWeight(1n, main), "the respondent's owner has no vote in his own case").to.equal(0n);
    await f.disputes.connect(owner).commit(1n, main, commitmentOf(1n, main, 1, salt("s25rtt-r4")));
    await time.increase(Number(P.commitPeriod) + 1);
    await expect(f.disputes.connect(owner).reveal(1n, main, 1, salt("s25rtt-r4")))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__PartyCannotVote")
      .withArgs(1n, main);
    expect((await f.disputes.voteOf(1n, main)).revealed).to.equal(false);
  });

  it("R4: ... its sealed vote is excused at settlement (it could not reveal), and the second account gets no right of a party", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const { ghost, main, owner, spare } = await ghostUnderSpare(f);
    await f.disputes.openDispute(id("claimant"), ghost, 0, 2, nextEvidence(), "bafkrei-s26fxr4-settle", 0, { value: P.deposit });
    const jury = byVoter(f.disputes, f.signerOf);
    const jurors = f.voters.slice(0, 3);
    await f.disputes.connect(owner).commit(1n, main, commitmentOf(1n, main, 1, salt("s26fxr4-main")));
    for (const v of jurors) await jury.commit(1n, v, commitmentOf(1n, v, 0, salt(`s26fxr4-${v}`)));
    await time.increase(Number(P.commitPeriod) + 1);
    for (const v of jurors) await jury.reveal(1n, v, 0, salt(`s26fxr4-${v}`));
    await time.increase(Number(P.revealPeriod) + 1);
    // upheld: the entry's holder appeals, not the owner
    expect((await f.disputes.appealTerms(1n)).appellant).to.equal(spare.address);
    await expect(f.disputes.connect(owner).appeal(1n, { value: P.appealFee }))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__NotLosingParty")
      .withArgs(1n, owner.address);
    await time.increase(Number(P.appealPeriod) + 1);
    const mainBefore = (await f.trust.entity(main)).reputation;
    await f.disputes.resolve(1n);
    // the owner's attested avatar neither answers the verdict (H1) nor pays for the vote it could not reveal
    await expect(f.disputes.settle(1n, main)).to.emit(f.disputes, "VoterSettled").withArgs(1n, main, 0n);
    expect((await f.trust.entity(main)).reputation).to.equal(mainBefore);
  });

  it("R4: an entry the owner's own account holds has no second account (the owner is the party)", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const { ghost, main, owner } = await ghostUnderSpare(f, "owner");
    await f.disputes.openDispute(id("claimant"), ghost, 0, 2, nextEvidence(), "bafkrei-s26fxr4-own", 0, { value: P.deposit });
    const d = await f.disputes.dispute(1n);
    expect([d.respondentController, d.otherAccount]).to.deep.equal([owner.address, ethers.ZeroAddress]);
    expect(await f.disputes.eligibleWeight(1n, main)).to.equal(0n);
    // a juror of no party's account keeps its weight
    expect(await f.disputes.eligibleWeight(1n, f.voters[0])).to.equal(5n * 10n ** 17n);
  });

  it("R4 residual: a flag contest a spare account files for the further avatar's entry has the owner off its jury", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const { ghost, main, owner, spare } = await ghostUnderSpare(f);
    const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
    await f.trust.connect(detector).flag(ghost, 2, id("s26fxr4: a report on ghost"), 0);
    await f.disputes.connect(spare).openDispute(ghost, ethers.ZeroHash, 3, 2, ethers.ZeroHash, "bafkrei-s26fxr4-contest", 0, {
      value: P.deposit,
    });
    const d = await f.disputes.dispute(1n);
    expect([d.claimantController, d.otherAccount]).to.deep.equal([spare.address, owner.address]);
    expect(await f.disputes.eligibleWeight(1n, main), "the flagged entry's owner does not judge its contest").to.equal(0n);
    await f.disputes.connect(owner).commit(1n, main, commitmentOf(1n, main, 0, salt("s26fxr4-contest")));
    await time.increase(Number(P.commitPeriod) + 1);
    await expect(f.disputes.connect(owner).reveal(1n, main, 0, salt("s26fxr4-contest")))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__PartyCannotVote")
      .withArgs(1n, main);
  });

  it("R4: in an avatar dispute (the owner's account is the party) the account holding the respondent's entry does not judge it", async () => {
    const f = await loadFixture(ghostHeldByJuror);
    const juror = f.voters[0]; // the entry holder's own juror entity
    await f.disputes.openAvatarDispute(id("claimant"), GHOST, 2, EV, 1n, { value: P.deposit });
    const d = await f.disputes.dispute(1n);
    expect([d.respondentController, d.otherAccount]).to.deep.equal([f.owner.address, f.holder]);
    expect(await f.disputes.eligibleWeight(1n, juror)).to.equal(0n);
    const jury = byVoter(f.disputes, f.signerOf);
    await jury.commit(1n, juror, commitmentOf(1n, juror, 1, salt("s26fxr4-avatar")));
    await time.increase(Number(P.commitPeriod) + 1);
    await expect(jury.reveal(1n, juror, 1, salt("s26fxr4-avatar")))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__PartyCannotVote")
      .withArgs(1n, juror);
  });
});
