/**
 * Red team h14-red2 finding G2 (fixed in judgeTrace): the IdP's exception to "one interaction, one trace" (V2)
 * is meant for evidence traced already in a *reporter's* case, which the accused can have judged
 * between the claimant's filing and the dispute's opening (docs/specs/disputes.md, "The court files
 * the trace"; judgeTrace's own comment). judgeTrace tested `isTraced(earlier)`, which is also true of
 * a `CourtTraced` case: the same interaction, once traced as a court's verdict, is traced again as a
 * court's verdict in every later case a dispute over it gets upheld, N verdicts of misbehaviour
 * for one interaction (and the keystore's key moved to the newest case). Failed while the hole was
 * open (the second court case traced instead of refused DUPLICATE_EVIDENCE); judgeTrace now allows the
 * exception only over a reporter's InteractionTraced case.
 * Story fixture copied from test/services/idp-court-trace.test.ts. Since session 21 (s19-redd F1,
 * "One interaction, one court case") the court refuses the second dispute before any case reaches
 * the IdP (test/disputes/interaction-heard-twice.test.ts); the IdP's rule stays as defence in depth,
 * tested with an impersonated court in test/avatars/court-duplicate-trace.test.ts.
 */
import { expect } from "chai";
import hre from "hardhat";
import { courtTraceStory } from "../helpers/court-trace-story";
import { requestTrace, TraceStatus } from "../../offchain/avatars/protocols";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import { traceRemote } from "../../offchain/services/avatars/clients";
import { avatarDisputeEvidence, DisputeLedger, Nature } from "../../offchain/disputes/ledger";
import { encodeEvidence } from "../../offchain/avatars/wire";

describe("h14-red2 G2: one interaction, one court verdict", function () {
  this.timeout(240_000);
  let svc: IdpService | undefined;

  after(async () => {
    await svc?.stop();
  });

  const story = (name: string) => courtTraceStory(name, (up) => (svc = up));

  it("evidence traced already as a court's verdict: a second dispute over it is refused by the court (one interaction, one court case), a reporter's case on it by the IdP", async () => {
    const { dep, info, e, court, claimant, respondent, params, reporter, bobAccount, once, judge } = await story("court-trace-twice");
    const bobLedger = new DisputeLedger(court.connect(bobAccount));
    const open = (caseId: bigint) =>
      bobLedger.open(
        claimant,
        respondent,
        0n,
        Nature.avatar,
        2,
        avatarDisputeEvidence(encodeEvidence(e)).evidence,
        "",
        params.deposit,
        undefined,
        {
          id: caseId,
          evidence: encodeEvidence(e),
        },
      );
    // the first court case: upheld and traced, as the spec says
    const first = (await requestTrace(reporter, e)).caseId;
    const d1 = await open(first);
    await judge(d1.id, 0);
    await court.resolve(d1.id);
    await traceRemote({ idp: info, dep, reporter, evidence: e, caseId: first, retry: once });
    expect(Number((await dep.registry.traceCase(first)).status)).to.equal(TraceStatus.CourtTraced);
    // the same evidence filed again: the court refuses a second dispute over the interaction
    // (InteractionHeard, naming the case and dispute 1), so no second court case reaches the IdP
    const second = (await requestTrace(reporter, e)).caseId;
    await expect(open(second)).to.be.rejectedWith(new RegExp(`InteractionHeard\\(${second}, ${d1.id}\\)`));
    expect(Number((await dep.registry.traceCase(second)).status)).to.equal(TraceStatus.Open);
    // a reporter's case on it is refused by the IdP, nothing recorded (one interaction, one trace: V2)
    const outcome = await traceRemote({ idp: info, dep, reporter, evidence: e, caseId: second, retry: once }).then(
      () => "traced",
      (err: Error) => err.message.split("\n")[0],
    );
    expect(outcome).to.match(/DUPLICATE_EVIDENCE/);
    const c = await dep.registry.traceCase(second);
    expect([Number(c.status), c.verdictCommitment]).to.deep.equal([TraceStatus.Open, hre.ethers.ZeroHash]);
  });
});
