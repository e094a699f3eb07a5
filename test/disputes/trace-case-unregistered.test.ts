/**
 * Red team h14-red2 finding G5 (fixed in session 15): the court's trace (docs/specs/disputes.md,
 * "The court files the trace") reaches an avatar its owner never registered in the TrustManager.
 * Avatar-to-avatar interactions need no trust entry, and while the avatar is logged in or delegated
 * (verified by the MITRegistry) nobody but its owner may register it (`register` refuses with
 * `AttestationRequired`): before the fix `openAvatarDispute` refused such a respondent
 * (`UnknownRespondent`) and its victim got at most a reporter's `InteractionTraced`.
 * Now (docs/specs/disputes.md, "A respondent without a trust entry"): the dispute opens if the
 * registry knows the avatar; the respondent's party account is its owner's where the chain knows it
 * (the controller of the owner's attested avatar), else none. With none, nobody appeals for the
 * respondent (an upheld verdict is final when the reveal ends), no reputation moves on its side,
 * and a rejected claim's deposit stays with the court. A respondent the registry does not know is
 * still refused, and so is any other nature of dispute against an id without an entry.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { byVoter, deployDisputeFixture, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { attestRegistration } from "../../offchain/trust/ledger";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { TraceStatus } from "../../offchain/avatars/protocols";
import { MITRegistry__factory } from "../../typechain-types";
import { attestClaimantAvatar, CLAIMANT_AVATAR, encodedEvidence } from "../helpers/encoded-evidence";

/** The claimant's case's encoded evidence: the dispute sends it (openAvatarDispute checks it is the case's). */
/** The case's evidence in the wire encoding (simulated: no signature verifies), about the respondent: the court reads it (s19-redd F2, F3). */
/** With a handshake naming the claimant's controller's attested avatar (the counterparty, whose owner's account alone may claim it:
 * docs/specs/disputes.md, "One interaction, one court case"; evidence without a handshake is refused, evidence-without-handshake.test.ts). */
const EV = encodedEvidence(id("ghost"), { reporter: CLAIMANT_AVATAR });
const SERIAL = id("ghost-owner-mit");
const Phase = { Appeal: 3n, Resolvable: 4n } as const;

async function filed() {
  const f = await deployDisputeFixture();
  const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const notAfter = (await time.latest()) + 365 * 86_400;
  await registry.issueMIT(SERIAL, id("key"), "params-cid");
  // the impersonating avatar: logged in (verified) for a year, never registered in the TrustManager
  await registry.recordLogin(id("ghost"), SERIAL, id("warrant"), id("vid"), notAfter);
  // another avatar of the same owner, also without an entry
  await registry.recordLogin(id("ghost-2"), SERIAL, id("warrant-2"), id("vid-2"), notAfter);
  await attestClaimantAvatar({ registry, trust: f.trust, msrp: f.msrp });
  await registry.requestTrace(id("ghost"), ethers.keccak256(EV)); // the claimant's case #1
  return { ...f, registry, jury: byVoter(f.disputes, f.signerOf) };
}

/** `filed` with dispute #1 open over case #1. */
async function opened() {
  const f = await filed();
  await f.disputes.openAvatarDispute(id("claimant"), id("ghost"), 2, EV, 1n, { value: P.deposit });
  return f;
}

/**
 * `filed`, and the ghost's owner has an attested avatar "main" (controller `owner`), old enough
 * to vote: the chain knows the owner's account. Dispute #1 open over case #1.
 */
async function openedOwnerKnown() {
  const f = await filed();
  const owner = ethers.Wallet.createRandom().connect(ethers.provider);
  await setBalance(owner.address, 10n ** 20n);
  await f.registry.recordLogin(id("main"), SERIAL, id("warrant-m"), id("vid-m"), (await time.latest()) + 365 * 86_400);
  const deadline = BigInt(await time.latest()) + 3600n;
  const att = await attestRegistration(f.msrp, f.trust, id("main"), "avatar", owner.address, deadline);
  await f.trust.connect(owner).registerAttested(id("main"), Kind.Avatar, deadline, att);
  await mine(Number(P.minAge) + 1);
  await f.disputes.openAvatarDispute(id("claimant"), id("ghost"), 2, EV, 1n, { value: P.deposit });
  return { ...f, owner };
}

type F = Awaited<ReturnType<typeof filed>>;

/** Votes `choices[i]` for voter i in dispute 1 and reveals them; the reveal phase is then over. */
async function vote(f: F, choices: number[]) {
  for (const [i, c] of choices.entries()) await f.jury.commit(1n, f.voters[i], commitmentOf(1n, f.voters[i], c, salt(`g5${i}`)));
  await time.increase(Number(P.commitPeriod) + 1);
  for (const [i, c] of choices.entries()) await f.jury.reveal(1n, f.voters[i], c, salt(`g5${i}`));
  await time.increase(Number(P.revealPeriod) + 1);
}

const statusOf = async (f: F, caseId = 1n) => Number((await f.registry.traceCase(caseId)).status);

describe("h14-red2 G5 (fixed): an avatar without a trust entry is within the court's trace", () => {
  it("the victim's avatar dispute over a logged-in, unregistered avatar opens and claims the case; no party account", async () => {
    const f = await loadFixture(filed);
    // the victim cannot give the avatar a trust entry
    await expect(f.trust.register(id("ghost"), Kind.Avatar)).to.be.revertedWithCustomError(f.trust, "TrustManager__AttestationRequired");
    await expect(f.disputes.openAvatarDispute(id("claimant"), id("ghost"), 2, EV, 1n, { value: P.deposit }))
      .to.emit(f.registry, "TraceCaseBound")
      .withArgs(1n, await f.disputes.getAddress(), 1n);
    expect(Number((await f.registry.traceCase(1n)).status)).to.equal(TraceStatus.AwaitingCourt);
    const d = await f.disputes.dispute(1n);
    expect(d.respondent).to.equal(id("ghost"));
    expect(d.respondentController).to.equal(ethers.ZeroAddress);
  });

  it("upheld: final when the reveal ends (nobody may appeal for the respondent), CourtUpheld, then CourtTraced; deposit to the claimant", async () => {
    const f = await loadFixture(opened);
    await vote(f, [0, 0, 0]);
    expect((await f.disputes.appealTerms(1n)).appellant).to.equal(ethers.ZeroAddress);
    expect(await f.disputes.phase(1n)).to.equal(Phase.Resolvable);
    await expect(f.disputes.connect(f.others[3]).appeal(1n, { value: P.appealFee }))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__NotLosingParty")
      .withArgs(1n, f.others[3].address);
    const claimantRep = (await f.trust.entity(id("claimant"))).reputation;
    // inside the appeal window: no wait, as nobody may appeal (and no penalty for an entry that does not exist)
    await expect(f.disputes.resolve(1n))
      .to.emit(f.disputes, "AvatarCaseRuled")
      .withArgs(1n, 1n, true, true)
      .and.to.emit(f.disputes, "PaymentCredited")
      .withArgs(1n, f.msrp.address, P.deposit);
    expect(await statusOf(f)).to.equal(TraceStatus.CourtUpheld);
    expect((await f.trust.entity(id("claimant"))).reputation).to.equal(claimantRep);
    expect((await f.trust.entity(id("ghost"))).kind).to.equal(0n);
    await f.registry.recordVerdict(1n, true, id("verdict-commitment"));
    expect(await statusOf(f)).to.equal(TraceStatus.CourtTraced);
  });

  it("rejected: Dismissed, the claimant's penalty, and the deposit stays with the court (credited to nobody)", async () => {
    const f = await loadFixture(opened);
    await vote(f, [1, 1, 1]);
    // the claimant lost: it may appeal, so the window holds
    expect((await f.disputes.appealTerms(1n)).appellant).to.equal(f.msrp.address);
    expect(await f.disputes.phase(1n)).to.equal(Phase.Appeal);
    await expect(f.disputes.resolve(1n)).to.be.revertedWithCustomError(f.disputes, "DisputeResolution__TooEarly");
    await time.increase(Number(P.appealPeriod));
    const court = await f.disputes.getAddress();
    const held = await ethers.provider.getBalance(court);
    const claimantRep = (await f.trust.entity(id("claimant"))).reputation;
    const tx = f.disputes.resolve(1n);
    await expect(tx).to.emit(f.disputes, "AvatarCaseRuled").withArgs(1n, 1n, false, true);
    await expect(tx).to.not.emit(f.disputes, "PaymentCredited");
    expect(await statusOf(f)).to.equal(TraceStatus.Dismissed);
    expect((await f.trust.entity(id("claimant"))).reputation).to.equal(claimantRep - P.loserPenalty);
    expect(await f.disputes.owed(ethers.ZeroAddress)).to.equal(0n);
    expect(await f.disputes.owed(f.msrp.address)).to.equal(0n);
    expect(await ethers.provider.getBalance(court)).to.equal(held);
  });

  it("owner known (an attested avatar of the same owner): its account is the party, excluded as juror, may appeal, is paid a rejected claim", async () => {
    const f = await loadFixture(openedOwnerKnown);
    expect((await f.disputes.dispute(1n)).respondentController).to.equal(f.owner.address);
    // the owner's own attested avatar may not judge its other avatar
    await f.disputes.connect(f.owner).commit(1n, id("main"), commitmentOf(1n, id("main"), 1, salt("main")));
    expect(await f.disputes.eligibleWeight(1n, id("main"))).to.equal(0n);
    await time.increase(Number(P.commitPeriod) + 1);
    await expect(f.disputes.connect(f.owner).reveal(1n, id("main"), 1, salt("main")))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__PartyCannotVote")
      .withArgs(1n, id("main"));
    await time.increase(Number(P.revealPeriod) + 1);
    // nobody revealed: void, final at once, the case closes untraced
    await expect(f.disputes.resolve(1n)).to.emit(f.disputes, "AvatarCaseRuled").withArgs(1n, 1n, false, true);
    // a second dispute, upheld in round 0: the owner's account is the losing party and may appeal
    await f.registry.requestTrace(id("ghost"), ethers.keccak256(EV)); // case #2
    await f.disputes.openAvatarDispute(id("claimant"), id("ghost"), 2, EV, 2n, { value: P.deposit });
    for (const [i, c] of [0, 0, 0].entries()) await f.jury.commit(2n, f.voters[i], commitmentOf(2n, f.voters[i], c, salt(`o${i}`)));
    await time.increase(Number(P.commitPeriod) + 1);
    for (const [i, c] of [0, 0, 0].entries()) await f.jury.reveal(2n, f.voters[i], c, salt(`o${i}`));
    await time.increase(Number(P.revealPeriod) + 1);
    expect((await f.disputes.appealTerms(2n)).appellant).to.equal(f.owner.address);
    await f.disputes.connect(f.owner).appeal(2n, { value: P.appealFee });
    // the appeal round rejects the claim: the deposit and the fee go to the owner's account
    for (const [i, c] of [1, 1, 1, 1, 1, 1].entries())
      await f.jury.commit(2n, f.voters[i], commitmentOf(2n, f.voters[i], c, salt(`p${i}`)));
    await time.increase(Number(P.commitPeriod) + 1);
    for (const [i, c] of [1, 1, 1, 1, 1, 1].entries()) await f.jury.reveal(2n, f.voters[i], c, salt(`p${i}`));
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await expect(f.disputes.resolve(2n))
      .to.emit(f.disputes, "PaymentCredited")
      .withArgs(2n, f.owner.address, P.deposit + P.appealFee);
    expect(await statusOf(f, 2n)).to.equal(TraceStatus.Dismissed);
  });

  it("a plain entry of the avatar, registered from a spare account before its login, is not the party: the owner's attested account is (session 15's final read)", async () => {
    const f = await deployDisputeFixture();
    const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
    const [spare, owner] = [ethers.Wallet.createRandom().connect(ethers.provider), ethers.Wallet.createRandom().connect(ethers.provider)];
    for (const w of [spare, owner]) await setBalance(w.address, 10n ** 20n);
    // the impersonator takes his avatar's id in the TrustManager from a spare account while it is not logged in
    await f.trust.connect(spare).register(id("ghost"), Kind.Avatar);
    const notAfter = (await time.latest()) + 365 * 86_400;
    await registry.issueMIT(SERIAL, id("key"), "params-cid");
    await registry.recordLogin(id("ghost"), SERIAL, id("warrant"), id("vid"), notAfter);
    await registry.recordLogin(id("main"), SERIAL, id("warrant-m"), id("vid-m"), notAfter);
    const deadline = BigInt(await time.latest()) + 3600n;
    await f.trust
      .connect(owner)
      .registerAttested(
        id("main"),
        Kind.Avatar,
        deadline,
        await attestRegistration(f.msrp, f.trust, id("main"), "avatar", owner.address, deadline),
      );
    await attestClaimantAvatar({ registry, trust: f.trust, msrp: f.msrp });
    await mine(Number(P.minAge) + 1);
    await registry.requestTrace(id("ghost"), ethers.keccak256(EV));
    await f.disputes.openAvatarDispute(id("claimant"), id("ghost"), 2, EV, 1n, { value: P.deposit });
    // the party is the owner's attested account, not the spare account that holds the plain entry:
    // the owner cannot sit on the jury of his own case, and the spare account cannot appeal
    expect((await f.disputes.dispute(1n)).respondentController).to.equal(owner.address);
    expect(await f.disputes.eligibleWeight(1n, id("main"))).to.equal(0n);
  });

  it("a respondent the registry does not know is still refused (UnknownRespondent), before the case is touched", async () => {
    const f = await loadFixture(filed);
    const court = await f.disputes.getAddress();
    const held = await ethers.provider.getBalance(court);
    // case #2 about the ghost with evidence about "nobody" (so that the court's reading of the evidence passes)
    const aboutNobody = encodedEvidence(id("nobody"), { reporter: CLAIMANT_AVATAR });
    await f.registry.requestTrace(id("ghost"), ethers.keccak256(aboutNobody));
    await expect(f.disputes.openAvatarDispute(id("claimant"), id("nobody"), 2, aboutNobody, 2n, { value: P.deposit }))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__UnknownRespondent")
      .withArgs(id("nobody"));
    expect(await f.disputes.disputeCount()).to.equal(0n);
    expect(await statusOf(f)).to.equal(TraceStatus.Open);
    expect(await statusOf(f, 2n)).to.equal(TraceStatus.Open);
    expect(await ethers.provider.getBalance(court)).to.equal(held);
  });

  it("a claimant cannot use it against an arbitrary id: another nature, or an avatar the case does not name, is refused", async () => {
    const f = await loadFixture(filed);
    // only an avatar dispute hears a respondent without an entry
    for (const nature of [0, 2])
      await expect(f.disputes.openDispute(id("claimant"), id("ghost"), nature, 2, id("e"), "bafkrei-e", 0, { value: P.deposit }))
        .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__UnknownRespondent")
        .withArgs(id("ghost"));
    // a known avatar without an entry, but the case (#2, with evidence about ghost-2) reports the ghost
    const aboutGhost2 = encodedEvidence(id("ghost-2"), { reporter: CLAIMANT_AVATAR });
    await f.registry.requestTrace(id("ghost"), ethers.keccak256(aboutGhost2)); // case #2
    await expect(f.disputes.openAvatarDispute(id("claimant"), id("ghost-2"), 2, aboutGhost2, 2n, { value: P.deposit }))
      .to.be.revertedWithCustomError(f.registry, "MITRegistry__CaseAvatarMismatch")
      .withArgs(2n, id("ghost"));
    // a case the claimant's controller did not file (a stranger's case about the ghost)
    await f.registry.connect(f.others[3]).requestTrace(id("ghost"), ethers.keccak256(EV)); // case #3
    await expect(f.disputes.openAvatarDispute(id("claimant"), id("ghost"), 2, EV, 3n, { value: P.deposit }))
      .to.be.revertedWithCustomError(f.registry, "MITRegistry__NotReporter")
      .withArgs(3n, f.others[3].address);
    expect(await f.disputes.disputeCount()).to.equal(0n);
    expect(await statusOf(f, 1n)).to.equal(TraceStatus.Open);
    expect(await statusOf(f, 2n)).to.equal(TraceStatus.Open);
  });
});
