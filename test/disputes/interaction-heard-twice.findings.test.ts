/**
 * FINDING (s19-redd F1, severity M): an acquittal does not hold. A court's rejected verdict closes
 * its trace case (`Dismissed`), but nothing stops the same interaction from coming back as a new
 * case and a new dispute: the claimant files the same evidence again (its receipt stripped, or
 * re-stamped by the platform: another `caseHash`, the same interaction), opens a second avatar
 * dispute, and a second jury's "upheld" has the IdP trace the interaction the first jury rejected
 * (`CourtTraced`). The IdP's rule "one interaction, one court verdict" counts traces only, not
 * the court's rejections, and the court keys nothing on the interaction. So a claimant retries
 * (or runs several disputes at once) until one jury upholds: the verdict flips, and the accused
 * answers the same interaction again and again.
 * The test fails while the second dispute over the interaction opens.
 */
import { expect } from "chai";
import { courtTraceStory } from "../helpers/court-trace-story";
import { requestTrace, TraceStatus } from "../../offchain/avatars/protocols";
import type { IdpService } from "../../offchain/services/avatars/idp-service";
import { traceRemote } from "../../offchain/services/avatars/clients";
import { encodeEvidence } from "../../offchain/avatars/wire";

describe("FINDING s19-redd F1: one interaction, many disputes (an acquittal does not hold)", function () {
  this.timeout(240_000);
  let svc: IdpService | undefined;
  after(async () => {
    await svc?.stop();
  });

  it("after a jury rejects the claim, the same interaction re-filed (receipt stripped) opens a second dispute, whose upheld verdict is traced", async () => {
    const { dep, info, e, court, claimant, respondent, params, reporter, bobAccount, once, judge } = await courtTraceStory(
      "s19-redd-f1",
      (up) => (svc = up),
    );
    const bobCourt = court.connect(bobAccount);
    // dispute 1: bob's claim over the interaction; the jury rejects it (option 1), the case is Dismissed
    const first = (await requestTrace(reporter, e)).caseId;
    await (await bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(e), first, { value: params.deposit })).wait();
    const d1 = await court.disputeCount();
    await judge(d1, 1);
    await (await court.resolve(d1)).wait();
    expect(Number((await dep.registry.traceCase(first)).status)).to.equal(TraceStatus.Dismissed);

    // the same interaction without its receipt: another case hash, the same signed message
    const again = { ...e, receipt: undefined };
    const second = (await requestTrace(reporter, again)).caseId;
    let opened = true;
    try {
      await (await bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(again), second, { value: params.deposit })).wait();
    } catch {
      opened = false;
    }
    if (opened) {
      // the consequence: a second jury upholds, and the IdP traces what the first jury rejected
      const d2 = await court.disputeCount();
      await judge(d2, 0);
      await (await court.resolve(d2)).wait();
      await traceRemote({ idp: info, dep, reporter, evidence: again, caseId: second, retry: once });
      expect(Number((await dep.registry.traceCase(second)).status)).to.equal(TraceStatus.CourtTraced);
    }
    expect(opened, "a second dispute over an interaction a court already judged opened (and its upheld verdict was traced)").to.equal(
      false,
    );
  });
});
