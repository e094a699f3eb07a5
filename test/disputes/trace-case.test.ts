/**
 * The court files the trace (docs/specs/disputes.md, "The court files the trace"): an avatar
 * dispute claims the trace case its claimant filed (`openAvatarDispute` -> `MITRegistry.bindCase`),
 * the IdP may not judge it while it awaits the court, and the final `resolve` releases it to the
 * IdP (upheld) or closes it untraced (rejected, void). Every refusal changes nothing.
 * The whole story with an impersonating avatar and the IdP: test/e2e/court-trace.test.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { byVoter, deployDisputeFixture, nextEvidence, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { TraceStatus } from "../../offchain/avatars/protocols";
import { MITRegistry__factory } from "../../typechain-types";
import { attestRegistration } from "../../offchain/trust/ledger";
import { attestClaimantAvatar, CLAIMANT_AVATAR, encodedEvidence } from "../helpers/encoded-evidence";

const Z = ethers.ZeroHash;
const AVATAR = 1;
const SERIAL = id("respondent-owner-mit");
/** The case's encoded evidence (its bytes as `requestTrace` filed their keccak256) and its hash. */
/** The case's evidence in the wire encoding (simulated: no signature verifies), about the respondent: the court reads it (s19-redd F2, F3). */
/** With a handshake naming the claimant's controller's attested avatar (the counterparty, whose owner's account alone may claim it:
 * docs/specs/disputes.md, "One interaction, one court case"; evidence without a handshake is refused, evidence-without-handshake.test.ts). */
const EV = encodedEvidence(id("respondent"), { reporter: CLAIMANT_AVATAR });
const EVIDENCE = ethers.keccak256(EV);

async function toReveal() {
  await time.increase(Number(P.commitPeriod) + 1);
}
async function toResolve() {
  await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
}
async function toAppeal() {
  await time.increase(Number(P.revealPeriod) + 1);
}

/**
 * The dispute fixture with the respondent as an MIT avatar its owner attested (msrp, the deployer, holds IDP_ROLE and is her account)
 * and a trace case #1 the claimant's controller (msrp) filed about it; a second avatar "other".
 */
async function filed() {
  const f = await deployDisputeFixture();
  const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  await f.trust.register(id("other"), Kind.Avatar); // before the registry knows it (else registerAttested)
  const notAfter = (await time.latest()) + 365 * 86_400;
  await registry.issueMIT(SERIAL, id("key"), "params-cid");
  await registry.recordLogin(id("respondent"), SERIAL, id("warrant"), id("vid"), notAfter);
  await registry.recordLogin(id("other"), SERIAL, id("warrant-2"), id("vid-2"), notAfter);
  // the respondent's owner is the party through her attested avatar (session 15's final read: a
  // plain entry's controller is not): msrp attests its own entry, so msrp is her account
  const deadline = BigInt(await time.latest()) + 3600n;
  const a = await attestRegistration(f.msrp, f.trust, id("respondent"), "avatar", f.msrp.address, deadline);
  await f.trust.registerAttested(id("respondent"), Kind.Avatar, deadline, a);
  await attestClaimantAvatar({ registry, trust: f.trust, msrp: f.msrp });
  await registry.requestTrace(id("respondent"), EVIDENCE);
  const court = await f.disputes.getAddress();
  return { ...f, registry, court, caseId: 1n, jury: byVoter(f.disputes, f.signerOf) };
}

/** `filed` with dispute #1 open over case #1. */
async function opened() {
  const f = await filed();
  await f.disputes.openAvatarDispute(id("claimant"), id("respondent"), 2, EV, f.caseId, { value: P.deposit });
  return { ...f, dId: 1n };
}

/** Votes `choices[i]` for voter i (each 0.5 of reputation) in dispute 1's current round and reveals them. */
async function vote(f: Awaited<ReturnType<typeof opened>>, choices: number[], tag: string) {
  for (const [i, c] of choices.entries()) await f.jury.commit(f.dId, f.voters[i], commitmentOf(f.dId, f.voters[i], c, salt(`${tag}${i}`)));
  await toReveal();
  for (const [i, c] of choices.entries()) await f.jury.reveal(f.dId, f.voters[i], c, salt(`${tag}${i}`));
}

const statusOf = async (f: { registry: Awaited<ReturnType<typeof filed>>["registry"] }, caseId = 1n) =>
  Number((await f.registry.traceCase(caseId)).status);

describe("DisputeResolution x MITRegistry: the court files the trace", () => {
  describe("# openAvatarDispute", () => {
    it("claims the case for the dispute: AwaitingCourt, bound to this court and dispute", async () => {
      const f = await loadFixture(filed);
      const tx = f.disputes.openAvatarDispute(id("claimant"), id("respondent"), 2, EV, f.caseId, { value: P.deposit });
      await expect(tx).to.emit(f.disputes, "DisputeOpened");
      await expect(tx).to.emit(f.registry, "TraceCaseBound").withArgs(f.caseId, f.court, 1n);
      const c = await f.registry.traceCase(f.caseId);
      expect(Number(c.status)).to.equal(TraceStatus.AwaitingCourt);
      expect(c.court).to.equal(f.court);
      expect(c.disputeId).to.equal(1n);
      const d = await f.disputes.dispute(1n);
      expect(d.traceCase).to.equal(f.caseId);
      expect(d.nature).to.equal(BigInt(AVATAR));
    });

    it("the dispute's evidence is the case's: its sha256 (the raw CID's digest), no cid of the claimant's", async () => {
      const f = await loadFixture(opened);
      const d = await f.disputes.dispute(f.dId);
      expect(d.evidence).to.equal(ethers.sha256(EV));
      expect(d.cid).to.equal("");
    });

    it("refuses evidence that is not the case's (CaseEvidenceMismatch), before anything is written (h14-red2 G3)", async () => {
      const f = await loadFixture(filed);
      const held = await ethers.provider.getBalance(f.court);
      for (const other of [ethers.toUtf8Bytes("another interaction's evidence"), new Uint8Array(), EV.slice(0, EV.length - 1)])
        await expect(f.disputes.openAvatarDispute(id("claimant"), id("respondent"), 2, other, f.caseId, { value: P.deposit }))
          .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__CaseEvidenceMismatch")
          .withArgs(f.caseId, EVIDENCE);
      expect(await f.disputes.disputeCount()).to.equal(0n);
      expect(await statusOf(f)).to.equal(TraceStatus.Open);
      expect(await ethers.provider.getBalance(f.court)).to.equal(held);
    });

    it("openDispute refuses nature avatar (TraceCaseRequired), openAvatarDispute a case 0; nothing opens", async () => {
      const f = await loadFixture(filed);
      await expect(
        f.disputes.openDispute(id("claimant"), id("respondent"), AVATAR, 2, nextEvidence(), "", 0, { value: P.deposit }),
      ).to.be.revertedWithCustomError(f.disputes, "DisputeResolution__TraceCaseRequired");
      await expect(
        f.disputes.openAvatarDispute(id("claimant"), id("respondent"), 2, EV, 0n, { value: P.deposit }),
      ).to.be.revertedWithCustomError(f.disputes, "DisputeResolution__TraceCaseRequired");
      expect(await f.disputes.disputeCount()).to.equal(0n);
      expect(await statusOf(f)).to.equal(TraceStatus.Open);
    });

    it("refuses an unknown case, one filed by another account, one about another avatar; nothing changes", async () => {
      const f = await loadFixture(filed);
      const open = (caseId: bigint) => f.disputes.openAvatarDispute(id("claimant"), id("respondent"), 2, EV, caseId, { value: P.deposit });
      await expect(open(9n)).to.be.revertedWithCustomError(f.registry, "MITRegistry__UnknownCase").withArgs(9n);
      // case #2: filed by a stranger (not the claimant's controller) about the respondent
      await f.registry.connect(f.others[3]).requestTrace(id("respondent"), EVIDENCE);
      await expect(open(2n)).to.be.revertedWithCustomError(f.registry, "MITRegistry__NotReporter").withArgs(2n, f.others[3].address);
      // case #3 is filed about the respondent, with evidence about "other": a dispute against
      // "other" passes the court's reading of the evidence (s19-redd F2) and cannot claim the case
      const aboutOther = encodedEvidence(id("other"), { reporter: CLAIMANT_AVATAR });
      await f.registry.requestTrace(id("respondent"), ethers.keccak256(aboutOther));
      await expect(f.disputes.openAvatarDispute(id("claimant"), id("other"), 2, aboutOther, 3n, { value: P.deposit }))
        .to.be.revertedWithCustomError(f.registry, "MITRegistry__CaseAvatarMismatch")
        .withArgs(3n, id("respondent"));
      expect(await f.disputes.disputeCount()).to.equal(0n);
      for (const c of [1n, 2n, 3n]) expect(await statusOf(f, c)).to.equal(TraceStatus.Open);
    });

    it("refuses a case judged already and a case another dispute claimed (a replay, or another entity of the same controller)", async () => {
      const f = await loadFixture(opened);
      const again = (claimant: string) => f.disputes.openAvatarDispute(claimant, id("respondent"), 2, EV, f.caseId, { value: P.deposit });
      await expect(again(id("claimant")))
        .to.be.revertedWithCustomError(f.registry, "MITRegistry__CaseNotOpen")
        .withArgs(f.caseId, TraceStatus.AwaitingCourt);
      await f.trust.register(id("claimant-2"), Kind.Avatar); // msrp's second entity
      await f.trust.setIdentityVerified(id("claimant-2"), true); // with standing (s23-rtt R4)
      await expect(again(id("claimant-2"))).to.be.revertedWithCustomError(f.registry, "MITRegistry__CaseNotOpen");
      // a case the IdP judged (reporter-initiated) has nothing left for a court
      await f.registry.requestTrace(id("respondent"), EVIDENCE);
      await f.registry.recordVerdict(2n, false, Z);
      await expect(f.disputes.openAvatarDispute(id("claimant"), id("respondent"), 2, EV, 2n, { value: P.deposit }))
        .to.be.revertedWithCustomError(f.registry, "MITRegistry__CaseNotOpen")
        .withArgs(2n, TraceStatus.Rejected);
      expect(await f.disputes.disputeCount()).to.equal(1n);
      const c = await f.registry.traceCase(f.caseId);
      expect([Number(c.status), c.disputeId]).to.deep.equal([TraceStatus.AwaitingCourt, 1n]);
    });

    it("a court without a registry hears no avatar dispute; a second court (no FEEDBACK_ROLE, no COURT_ROLE) claims no case", async () => {
      const f = await loadFixture(filed);
      const factory = await ethers.getContractFactory("DisputeResolution");
      const blind = await factory.deploy(await f.trust.getAddress(), ethers.ZeroAddress, P);
      await expect(
        blind.openAvatarDispute(id("claimant"), id("respondent"), 2, EV, f.caseId, { value: P.deposit }),
      ).to.be.revertedWithCustomError(blind, "DisputeResolution__TraceUnavailable");
      // openDispute's nature 1 says the same there (a case id would not help: session 15)
      await expect(
        blind.openDispute(id("claimant"), id("respondent"), AVATAR, 2, nextEvidence(), "", 0, { value: P.deposit }),
      ).to.be.revertedWithCustomError(blind, "DisputeResolution__TraceUnavailable");
      expect(await blind.disputeCount()).to.equal(0n);
      expect(await blind.traceRegistry()).to.equal(ethers.ZeroAddress);
      // a second court holds neither the registry's COURT_ROLE nor the TrustManager's FEEDBACK_ROLE
      // (bound once, to the first court): it is refused before the case is touched, for want of the
      // latter (s25-rtt R2: it could never apply a verdict's penalty), so no deposit is taken
      const stray = await factory.deploy(await f.trust.getAddress(), await f.registry.getAddress(), P);
      await expect(
        stray.openAvatarDispute(id("claimant"), id("respondent"), 2, EV, f.caseId, { value: P.deposit }),
      ).to.be.revertedWithCustomError(stray, "DisputeResolution__ReputationUnavailable");
      expect(await ethers.provider.getBalance(await stray.getAddress())).to.equal(0n);
      expect(await statusOf(f)).to.equal(TraceStatus.Open);
    });
  });

  describe("# MITRegistry while a case awaits its court", () => {
    it("the IdP cannot judge it (AwaitingCourt); nothing changes", async () => {
      const f = await loadFixture(opened);
      await expect(f.registry.recordVerdict(f.caseId, true, id("commitment")))
        .to.be.revertedWithCustomError(f.registry, "MITRegistry__AwaitingCourt")
        .withArgs(f.caseId, f.court, 1n);
      await expect(f.registry.recordVerdict(f.caseId, false, Z)).to.be.revertedWithCustomError(f.registry, "MITRegistry__AwaitingCourt");
      expect(await statusOf(f)).to.equal(TraceStatus.AwaitingCourt);
    });

    it("only COURT_ROLE binds and rules; another court, another dispute or a second ruling moves nothing", async () => {
      const f = await loadFixture(opened);
      const [, , , , , eve] = f.others;
      await expect(f.registry.connect(eve).courtRuling(f.caseId, 1n, true)).to.be.revertedWithCustomError(
        f.registry,
        "AccessControlUnauthorizedAccount",
      );
      await expect(f.registry.connect(eve).bindCase(f.caseId, 7n, f.msrp.address, id("respondent"))).to.be.revertedWithCustomError(
        f.registry,
        "AccessControlUnauthorizedAccount",
      );
      // the role is bound to this court: the admin cannot hand it to anyone else (h15-red3 H1)
      await expect(f.registry.grantRole(await f.registry.COURT_ROLE(), eve.address))
        .to.be.revertedWithCustomError(f.registry, "MITRegistry__CourtAlreadyBound")
        .withArgs(f.court, eve.address);
      // nor can this court's ruling of another dispute
      const asCourt = await ethers.getImpersonatedSigner(f.court);
      await setBalance(f.court, 10n ** 20n);
      expect(await f.registry.connect(asCourt).courtRuling.staticCall(f.caseId, 2n, true)).to.equal(false);
      expect(await statusOf(f)).to.equal(TraceStatus.AwaitingCourt);
      // the right court and dispute: it moves, once
      await expect(f.registry.connect(asCourt).courtRuling(f.caseId, 1n, false))
        .to.emit(f.registry, "TraceCaseRuled")
        .withArgs(f.caseId, 1n, false, false);
      expect(await f.registry.connect(asCourt).courtRuling.staticCall(f.caseId, 1n, true)).to.equal(false);
      expect(await statusOf(f)).to.equal(TraceStatus.Dismissed);
    });

    it("bindCase refuses a dispute id of 0 or beyond 64 bits (InvalidInput); the case stays open", async () => {
      const f = await loadFixture(filed);
      const court2 = await ethers.getImpersonatedSigner(f.court);
      await setBalance(f.court, 10n ** 20n);
      for (const bad of [0n, 2n ** 64n])
        await expect(f.registry.connect(court2).bindCase(f.caseId, bad, f.msrp.address, id("respondent"))).to.be.revertedWithCustomError(
          f.registry,
          "MITRegistry__InvalidInput",
        );
      expect(await statusOf(f)).to.equal(TraceStatus.Open);
      await expect(f.registry.connect(court2).bindCase(f.caseId, 2n ** 64n - 1n, f.msrp.address, id("respondent")))
        .to.emit(f.registry, "TraceCaseBound")
        .withArgs(f.caseId, f.court, 2n ** 64n - 1n);
    });

    it("releaseCase: refused while the court holds COURT_ROLE and for a case awaiting no court; after the role is revoked, Dismissed", async () => {
      const f = await loadFixture(opened);
      await expect(f.registry.releaseCase(f.caseId))
        .to.be.revertedWithCustomError(f.registry, "MITRegistry__CourtStillBound")
        .withArgs(f.caseId, f.court);
      await f.registry.requestTrace(id("respondent"), EVIDENCE);
      await expect(f.registry.releaseCase(2n))
        .to.be.revertedWithCustomError(f.registry, "MITRegistry__NotAwaitingCourt")
        .withArgs(2n, TraceStatus.Open);
      await expect(f.registry.connect(f.others[5]).releaseCase(f.caseId)).to.be.revertedWithCustomError(
        f.registry,
        "AccessControlUnauthorizedAccount",
      );
      expect(await statusOf(f)).to.equal(TraceStatus.AwaitingCourt);
      await f.registry.revokeRole(await f.registry.COURT_ROLE(), f.court);
      await expect(f.registry.releaseCase(f.caseId)).to.emit(f.registry, "TraceCaseRuled").withArgs(f.caseId, 1n, false, true);
      expect(await statusOf(f)).to.equal(TraceStatus.Dismissed);
    });

    it("a reporter's own case traces as InteractionTraced, never as a court's verdict", async () => {
      const f = await loadFixture(filed);
      await expect(f.registry.recordVerdict(f.caseId, true, id("commitment")))
        .to.emit(f.registry, "TraceVerdict")
        .withArgs(f.caseId, TraceStatus.InteractionTraced, id("commitment"));
      await expect(f.registry.recordVerdict(f.caseId, true, id("commitment"))).to.be.revertedWithCustomError(
        f.registry,
        "MITRegistry__CaseClosed",
      );
    });
  });

  describe("# resolve rules on the case", () => {
    it("upheld: CourtUpheld, then the IdP's trace is CourtTraced", async () => {
      const f = await loadFixture(opened);
      await vote(f, [0, 0, 0], "u");
      await toResolve();
      await expect(f.disputes.resolve(f.dId))
        .to.emit(f.disputes, "AvatarCaseRuled")
        .withArgs(f.dId, f.caseId, true, true)
        .and.to.emit(f.registry, "TraceCaseRuled")
        .withArgs(f.caseId, f.dId, true, false);
      expect(await statusOf(f)).to.equal(TraceStatus.CourtUpheld);
      await expect(f.registry.recordVerdict(f.caseId, true, id("commitment")))
        .to.emit(f.registry, "TraceVerdict")
        .withArgs(f.caseId, TraceStatus.CourtTraced, id("commitment"));
    });

    it("rejected: Dismissed, and the IdP can never judge it", async () => {
      const f = await loadFixture(opened);
      await vote(f, [1, 1, 1], "r");
      await toResolve();
      await expect(f.disputes.resolve(f.dId)).to.emit(f.disputes, "AvatarCaseRuled").withArgs(f.dId, f.caseId, false, true);
      expect(await statusOf(f)).to.equal(TraceStatus.Dismissed);
      await expect(f.registry.recordVerdict(f.caseId, true, id("c"))).to.be.revertedWithCustomError(f.registry, "MITRegistry__CaseClosed");
    });

    it("void (below the quorum): Dismissed", async () => {
      const f = await loadFixture(opened);
      await vote(f, [0], "v"); // 0.5 < quorum 1.0
      await toResolve();
      await expect(f.disputes.resolve(f.dId)).to.emit(f.disputes, "AvatarCaseRuled").withArgs(f.dId, f.caseId, false, true);
      expect(await statusOf(f)).to.equal(TraceStatus.Dismissed);
    });

    it("appeals: the case waits through every round; only the final verdict rules (a reversed appeal dismisses it)", async () => {
      const f = await loadFixture(opened);
      await vote(f, [0, 0], "a0"); // round 0 upholds (1.0 = quorum)
      await toAppeal();
      await f.disputes.appeal(f.dId, { value: P.appealFee }); // the respondent's controller (msrp)
      expect(await statusOf(f)).to.equal(TraceStatus.AwaitingCourt);
      await vote(f, [1, 1, 1, 1], "a1"); // round 1 rejects (2.0 = its quorum)
      await toResolve();
      await expect(f.disputes.resolve(f.dId)).to.emit(f.disputes, "AvatarCaseRuled").withArgs(f.dId, f.caseId, false, true);
      expect(await statusOf(f)).to.equal(TraceStatus.Dismissed);
    });

    it("appeals: a void appeal round leaves the appealed verdict standing (upheld: CourtUpheld)", async () => {
      const f = await loadFixture(opened);
      await vote(f, [0, 0], "b0");
      await toAppeal();
      await f.disputes.appeal(f.dId, { value: P.appealFee });
      await vote(f, [1], "b1"); // 0.5 < 2.0: void
      await toResolve();
      await expect(f.disputes.resolve(f.dId)).to.emit(f.disputes, "AvatarCaseRuled").withArgs(f.dId, f.caseId, true, true);
      expect(await statusOf(f)).to.equal(TraceStatus.CourtUpheld);
    });

    it("a court cut off from the registry still resolves (applied false); the IdP then releases the case", async () => {
      const f = await loadFixture(opened);
      await vote(f, [0, 0, 0], "c");
      await toResolve();
      await f.registry.revokeRole(await f.registry.COURT_ROLE(), f.court);
      await expect(f.disputes.resolve(f.dId)).to.emit(f.disputes, "AvatarCaseRuled").withArgs(f.dId, f.caseId, true, false);
      expect((await f.disputes.dispute(f.dId)).resolved).to.equal(true);
      expect(await statusOf(f)).to.equal(TraceStatus.AwaitingCourt);
      await f.registry.releaseCase(f.caseId);
      expect(await statusOf(f)).to.equal(TraceStatus.Dismissed);
    });

    it("a service dispute touches no case", async () => {
      const f = await loadFixture(filed);
      await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, nextEvidence(), "", 0, { value: P.deposit });
      const g = { ...f, dId: 1n };
      await vote(g, [0, 0, 0], "s");
      await toResolve();
      await expect(f.disputes.resolve(1n)).to.not.emit(f.disputes, "AvatarCaseRuled");
      expect(await statusOf(f)).to.equal(TraceStatus.Open);
    });
  });
});
