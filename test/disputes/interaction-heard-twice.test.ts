/**
 * Red team s19-redd F1 (fixed in session 21): an acquittal did not hold. A jury's rejected verdict
 * closed its trace case (`Dismissed`), but the same interaction came back as a new case (its
 * receipt stripped or re-stamped: another `caseHash`, the same signed message) and a new dispute,
 * and a second jury's "upheld" had the IdP trace what the first jury rejected.
 * s19-redd's first fix (keyed on the IdP's trace key alone, claimable by anyone) was withdrawn:
 * s19-review1 R1 (the accused's sock burns the interaction with a handshake-stripped copy, which
 * the IdP can never trace) and R2 (anyone who copies the victim's bytes opens first and takes the
 * claimant's seat). The rule now (docs/specs/disputes.md, "One interaction, one court case"): an
 * interaction is claimed by its counterparty. The court keys a hearing on (trace key, the
 * counterparty's owner tag), the counterparty being the reporter avatar the evidence's handshake
 * names (every avatar of one owner shares a hearing since s21-review2 M2: hearing-per-person.test.ts);
 * evidence with a handshake may be claimed only by that avatar's owner's account (`NotCounterparty`),
 * evidence without one by nobody (`EvidenceWithoutHandshake`, session 22: it can never be traced;
 * evidence-without-handshake.test.ts); a hearing is held while its dispute is open and after it ends
 * with a decision (`InteractionHeard(case, earlier)`), freed by a void one.
 * The two cases of the findings test are kept; since the decision, bob's account must be the
 * account of his avatar B's owner (its attested avatar, set up in `courtTraceStory`), the claimant
 * entity is unchanged, and the bare `.reverted` became the named error.
 */
import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { courtTraceStory } from "../helpers/court-trace-story";
import { requestTrace, tracedEvidenceKey, TraceStatus } from "../../offchain/avatars/protocols";
import type { Evidence } from "../../offchain/avatars/protocols";
import type { IdpService } from "../../offchain/services/avatars/idp-service";
import { traceRemote } from "../../offchain/services/avatars/clients";
import { encodeEvidence } from "../../offchain/avatars/wire";
import { toHex } from "../../offchain/crypto/bytes";
import { entityId } from "../../offchain/trust/ledger";

describe("avatar disputes: one interaction, one court case (s19-redd F1; s19-review1 R1, R2)", function () {
  this.timeout(240_000);
  let svc: IdpService | undefined;
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
  });
  const story = (name: string) => courtTraceStory(name, (up) => (svc = up));
  /** The same interaction re-stamped: another receipt (time and signature), so another case hash. */
  const restamped = (e: Evidence): Evidence => ({ ...e, receipt: { time: e.receipt!.time + 1, sig: new Uint8Array(64).fill(7) } });
  /** A copy without its handshake (nor receipt): the same trace key, counterparty none, never traceable (the court refuses it). */
  const stripped = (e: Evidence): Evidence => ({ ...e, handshake: undefined, receipt: undefined });

  it("after a jury rejects the claim, the same interaction re-filed (receipt stripped or re-stamped) cannot open a second dispute; nothing is written", async () => {
    const { dep, e, court, claimant, respondent, params, reporter, bobAccount, bobAvatar, judge } = await story("s19-redd-f1");
    const bobCourt = court.connect(bobAccount);
    // the court's key is the IdP's, whatever the receipt; the counterparty is bob's avatar B, whose
    // owner's account (bob's) alone may claim it
    const again = { ...e, receipt: undefined };
    expect(e.receipt).to.not.equal(undefined);
    const read = await court.interactionOf(encodeEvidence(e));
    expect([read.parsed, read.about, read.key]).to.deep.equal([true, toHex(e.avatarId), toHex(tracedEvidenceKey(e))]);
    for (const copy of [again, restamped(e)]) {
      expect(encodeEvidence(copy)).to.not.deep.equal(encodeEvidence(e));
      expect((await court.interactionOf(encodeEvidence(copy))).key).to.equal(read.key);
      expect([...(await court.hearingOf(encodeEvidence(copy)))]).to.deep.equal([bobAvatar, bobAccount.address, 0n]);
    }
    expect(bobAvatar).to.equal(toHex(e.handshake!.reporter.avatarId));
    // dispute 1: the jury rejects the claim (option 1), the case is Dismissed
    const first = (await requestTrace(reporter, e)).caseId;
    await (await bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(e), first, { value: params.deposit })).wait();
    const d1 = await court.disputeCount();
    await judge(d1, 1);
    await (await court.resolve(d1)).wait();
    expect(Number((await dep.registry.traceCase(first)).status)).to.equal(TraceStatus.Dismissed);
    // the rejected hearing holds, for every copy of the interaction
    for (const copy of [again, restamped(e)]) {
      expect((await court.hearingOf(encodeEvidence(copy))).heardBy).to.equal(d1);
      // the same interaction without its receipt, or re-stamped: another case hash, refused by the court
      const second = (await requestTrace(reporter, copy)).caseId;
      await expect(bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(copy), second, { value: params.deposit }))
        .to.be.revertedWithCustomError(court, "DisputeResolution__InteractionHeard")
        .withArgs(second, d1);
      expect(await court.disputeCount()).to.equal(d1);
      expect(Number((await dep.registry.traceCase(second)).status)).to.equal(TraceStatus.Open);
    }
  });

  it("while a dispute hears the interaction a second one is refused; once it ends void (no decision) the interaction may be heard again", async () => {
    const { e, court, claimant, respondent, params, reporter, bobAccount } = await story("s19-redd-f1-void");
    const bobCourt = court.connect(bobAccount);
    const first = (await requestTrace(reporter, e)).caseId;
    await (await bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(e), first, { value: params.deposit })).wait();
    const d1 = await court.disputeCount();
    const again = { ...e, receipt: undefined };
    const second = (await requestTrace(reporter, again)).caseId;
    const open = () => bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(again), second, { value: params.deposit });
    // parallel disputes: refused while the first is open
    await expect(open()).to.be.revertedWithCustomError(court, "DisputeResolution__InteractionHeard").withArgs(second, d1);
    expect(await court.disputeCount()).to.equal(d1);
    // nobody votes: dispute 1 ends void, which decided nothing
    await time.increase(Number(params.commitPeriod + params.revealPeriod) + 1);
    await (await court.resolve(d1)).wait();
    expect((await court.dispute(d1)).void_).to.equal(true);
    expect((await court.hearingOf(encodeEvidence(again))).heardBy).to.equal(0n);
    await (await open()).wait();
    expect(await court.disputeCount()).to.equal(d1 + 1n);
    expect((await court.hearingOf(encodeEvidence(e))).heardBy).to.equal(d1 + 1n);
  });

  it("R1: the accused's sock files a handshake-stripped copy (and has the real one traced as a reporter); the court refuses it (EvidenceWithoutHandshake), nothing written: the victim's own dispute opens, is upheld, the IdP traces", async () => {
    const { dep, info, e, court, tm, claimant, respondent, params, reporter, bobAccount, signers, once, judge } = await story("s21-hf1-r1");
    const sock = signers[5]; // alice's, linked to her nowhere on-chain
    const sockClaimant = entityId("alice-sock-claims");
    await (await tm.connect(sock).register(sockClaimant, 1)).wait();
    const sockRegistry = dep.registry.connect(sock);
    // step 1: the sock has the real evidence traced on the reporter path (authentic interaction)
    const own = await traceRemote({ idp: info, dep, reporter: sockRegistry, evidence: e, retry: once });
    expect(Number((await dep.registry.traceCase(own.caseId)).status)).to.equal(TraceStatus.InteractionTraced);
    // step 2: a copy without the handshake: the same trace key, no counterparty; since session 22
    // the court refuses it before anything is written (until then anyone could claim it first)
    const sham = stripped(e);
    expect((await court.interactionOf(encodeEvidence(sham))).key).to.equal(toHex(tracedEvidenceKey(e)));
    expect([...(await court.hearingOf(encodeEvidence(sham)))]).to.deep.equal([hre.ethers.ZeroHash, hre.ethers.ZeroAddress, 0n]);
    const shamCase = (await requestTrace(sockRegistry, sham)).caseId;
    await expect(
      court.connect(sock).openAvatarDispute(sockClaimant, respondent, 2, encodeEvidence(sham), shamCase, { value: params.deposit }),
    )
      .to.be.revertedWithCustomError(court, "DisputeResolution__EvidenceWithoutHandshake")
      .withArgs(shamCase);
    expect(await court.disputeCount()).to.equal(0n);
    expect(Number((await dep.registry.traceCase(shamCase)).status)).to.equal(TraceStatus.Open);
    // step 3: bob's dispute opens, the jury upholds it, the IdP traces it as the court's verdict
    const bobCourt = court.connect(bobAccount);
    const mine = (await requestTrace(reporter, e)).caseId;
    await (await bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(e), mine, { value: params.deposit })).wait();
    const db = await court.disputeCount();
    expect(db).to.equal(1n);
    await judge(db, 0);
    await (await court.resolve(db)).wait();
    await traceRemote({ idp: info, dep, reporter, evidence: e, caseId: mine, retry: once });
    expect(Number((await dep.registry.traceCase(mine)).status)).to.equal(TraceStatus.CourtTraced);
  });

  it("R2: a third party (or the accused) who copies the victim's bytes cannot open first: not the counterparty's owner's account, nothing written; the victim's dispute opens", async () => {
    const { dep, e, court, tm, claimant, respondent, params, reporter, bobAccount, bobAvatar, signers } = await story("s21-hf1-r2");
    const [copier, aliceAccount] = [signers[6], signers[2]];
    for (const [who, name] of [
      [copier, "copier-claims"],
      [aliceAccount, "alice-claims"],
    ] as const) {
      const entity = entityId(name);
      await (await tm.connect(who).register(entity, 1)).wait();
      // the victim's bytes as they are, or re-stamped: the same hearing (key, B), B's owner's only
      for (const copy of [e, restamped(e)]) {
        const c = (await requestTrace(dep.registry.connect(who), copy)).caseId;
        await expect(court.connect(who).openAvatarDispute(entity, respondent, 2, encodeEvidence(copy), c, { value: params.deposit }))
          .to.be.revertedWithCustomError(court, "DisputeResolution__NotCounterparty")
          .withArgs(c, bobAvatar, who.address);
        expect(Number((await dep.registry.traceCase(c)).status)).to.equal(TraceStatus.Open);
      }
    }
    expect(await court.disputeCount()).to.equal(0n);
    expect((await court.hearingOf(encodeEvidence(e))).heardBy).to.equal(0n);
    const mine = (await requestTrace(reporter, e)).caseId;
    await (
      await court.connect(bobAccount).openAvatarDispute(claimant, respondent, 2, encodeEvidence(e), mine, { value: params.deposit })
    ).wait();
    const d = await court.dispute(1n);
    expect([d.claimant, d.claimantController, d.traceCase]).to.deep.equal([claimant, bobAccount.address, mine]);
  });
});
