/**
 * OPEN FINDING (red team s19-redd F1, severity M): an acquittal does not hold. A jury's rejected
 * verdict closes its trace case (`Dismissed`), but the same interaction comes back as a new case
 * (its receipt stripped or re-stamped: another `caseHash`, the same signed message) and a new
 * dispute, and a second jury's "upheld" has the IdP trace what the first jury rejected.
 * s19-redd's fix (the court refused an interaction an earlier dispute heard, keyed on the IdP's
 * trace key) was withdrawn before it landed: session 19's final read (s19-review1 R1, R2) showed
 * that a key over the signed message alone lets the accused (or anyone who copies the bytes first)
 * burn the interaction with a dispute over an untraceable copy (no handshake: same key, never
 * traceable) or a thrown case, so that the victim can never have it traced: worse than F1. A sound
 * rule needs the court to key on everything the IdP checks (and refuse trailing bytes) and to say
 * who may claim an interaction first: docs/specs/disputes.md, "One interaction, one court case".
 * These cases expect the second dispute refused; they fail while the finding is open.
 */
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { courtTraceStory } from "../helpers/court-trace-story";
import { requestTrace, tracedEvidenceKey, TraceStatus } from "../../offchain/avatars/protocols";
import type { IdpService } from "../../offchain/services/avatars/idp-service";
import { encodeEvidence } from "../../offchain/avatars/wire";
import { toHex } from "../../offchain/crypto/bytes";

describe("avatar disputes: one interaction, one court case (s19-redd F1)", function () {
  this.timeout(240_000);
  let svc: IdpService | undefined;
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
  });

  it("after a jury rejects the claim, the same interaction re-filed (receipt stripped) cannot open a second dispute; nothing is written", async () => {
    const { dep, e, court, claimant, respondent, params, reporter, bobAccount, judge } = await courtTraceStory(
      "s19-redd-f1",
      (up) => (svc = up),
    );
    const bobCourt = court.connect(bobAccount);
    // the court's key is the IdP's, whatever the receipt
    const again = { ...e, receipt: undefined };
    const read = await court.interactionOf(encodeEvidence(e));
    expect([read.parsed, read.about, read.key]).to.deep.equal([true, toHex(e.avatarId), toHex(tracedEvidenceKey(e))]);
    expect((await court.interactionOf(encodeEvidence(again))).key).to.equal(read.key);
    // dispute 1: the jury rejects the claim (option 1), the case is Dismissed
    const first = (await requestTrace(reporter, e)).caseId;
    await (await bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(e), first, { value: params.deposit })).wait();
    const d1 = await court.disputeCount();
    await judge(d1, 1);
    await (await court.resolve(d1)).wait();
    expect(Number((await dep.registry.traceCase(first)).status)).to.equal(TraceStatus.Dismissed);
    // the same interaction without its receipt: another case hash, refused by the court
    const second = (await requestTrace(reporter, again)).caseId;
    await expect(bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(again), second, { value: params.deposit })).to.be
      .reverted;
    expect(await court.disputeCount()).to.equal(d1);
    expect(Number((await dep.registry.traceCase(second)).status)).to.equal(TraceStatus.Open);
  });

  it("while a dispute hears the interaction a second one is refused; once it ends void (no decision) the interaction may be heard again", async () => {
    const { e, court, claimant, respondent, params, reporter, bobAccount } = await courtTraceStory("s19-redd-f1-void", (up) => (svc = up));
    const bobCourt = court.connect(bobAccount);
    const first = (await requestTrace(reporter, e)).caseId;
    await (await bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(e), first, { value: params.deposit })).wait();
    const d1 = await court.disputeCount();
    const again = { ...e, receipt: undefined };
    const second = (await requestTrace(reporter, again)).caseId;
    const open = () => bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(again), second, { value: params.deposit });
    await expect(open()).to.be.reverted;
    // nobody votes: dispute 1 ends void, which decided nothing
    await time.increase(Number(params.commitPeriod + params.revealPeriod) + 1);
    await (await court.resolve(d1)).wait();
    expect((await court.dispute(d1)).void_).to.equal(true);
    await (await open()).wait();
    expect(await court.disputeCount()).to.equal(d1 + 1n);
  });
});
