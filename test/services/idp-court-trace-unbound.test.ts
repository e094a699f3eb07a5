/**
 * The jurors judge the trace case's own evidence (h14-red2 G3, fixed). Before the fix nothing
 * bound the dispute's `evidence` digest and `cid` to the case's `evidenceHash`: a claimant filed an
 * authentic but innocent interaction E1 with the accused avatar as the case and showed the jurors a
 * forged E2 (one the IdP refuses: a changed body); upheld, the IdP checked E1, which holds, and
 * recorded `CourtTraced` for an interaction no juror saw. Now `openAvatarDispute` takes the case's
 * encoded evidence, refuses bytes whose keccak256 is not the case's (`CaseEvidenceMismatch`), and
 * makes the dispute's evidence their sha256 (the raw CID the jurors read), with no cid of the
 * claimant's. Story fixture copied from test/services/idp-court-trace.test.ts.
 */
import { expect } from "chai";
import { courtTraceStory } from "../helpers/court-trace-story";
import { requestTrace, TraceStatus } from "../../offchain/avatars/protocols";
import { encodeEvidence } from "../../offchain/avatars/wire";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import { traceRemote } from "../../offchain/services/avatars/clients";
import { avatarDisputeEvidence, DisputeLedger, Nature } from "../../offchain/disputes/ledger";

describe("the court's trace: the jurors' evidence is the trace case's (h14-red2 G3)", function () {
  this.timeout(240_000);
  let svc: IdpService | undefined;

  after(async () => {
    await svc?.stop();
  });

  const story = (name: string) => courtTraceStory(name, (up) => (svc = up));

  it("a dispute showing the jurors other evidence than its case's is refused; the case's own evidence opens it", async () => {
    const { dep, info, e, court, claimant, respondent, params, reporter, bobAccount, once } = await story("court-trace-unbound");
    // E2: E1 with its signed message changed (a forgery); the IdP refuses it as a reporter's case
    const forged = { ...e, message: { ...e.message, body: Uint8Array.from([...e.message.body, 0x21]) } };
    const probe = (await requestTrace(reporter, forged)).caseId;
    const refused = await traceRemote({ idp: info, dep, reporter, evidence: forged, caseId: probe, retry: once }).then(
      () => "traced",
      (err: Error) => err.message.split("\n")[0],
    );
    expect(refused).to.not.equal("traced");
    // the case holds the authentic E1; the claimant tries to show the jurors the forged E2
    const caseId = (await requestTrace(reporter, e)).caseId;
    const bobLedger = new DisputeLedger(court.connect(bobAccount));
    const E2 = encodeEvidence(forged);
    const shown = avatarDisputeEvidence(E2);
    const count = await court.disputeCount();
    await expect(
      bobLedger.open(claimant, respondent, 0n, Nature.avatar, 2, shown.evidence, shown.cid, params.deposit, undefined, {
        id: caseId,
        evidence: E2,
      }),
    )
      .to.be.revertedWithCustomError(court, "DisputeResolution__CaseEvidenceMismatch")
      .withArgs(caseId, (await dep.registry.traceCase(caseId)).evidenceHash);
    // the client refuses a digest or a cid that is not its bytes' before sending anything
    const E1 = encodeEvidence(e);
    const own = avatarDisputeEvidence(E1);
    for (const [evidence, cid] of [
      [shown.evidence, ""],
      [own.evidence, "bafk-a-narrative"],
    ])
      await expect(
        bobLedger.open(claimant, respondent, 0n, Nature.avatar, 2, evidence, cid, params.deposit, undefined, { id: caseId, evidence: E1 }),
      ).to.be.rejectedWith(/an avatar dispute's evidence is its trace case's/);
    expect(await court.disputeCount()).to.equal(count);
    expect(Number((await dep.registry.traceCase(caseId)).status)).to.equal(TraceStatus.Open);
    // E1's own bytes open it: the jurors' file is E1 (its raw CID's digest), and the case awaits them
    const opened = await bobLedger.open(claimant, respondent, 0n, Nature.avatar, 2, own.evidence, "", params.deposit, undefined, {
      id: caseId,
      evidence: E1,
    });
    const d = await court.dispute(opened.id);
    expect([d.evidence, d.cid, d.traceCase]).to.deep.equal([own.evidence, "", caseId]);
    expect(Number((await dep.registry.traceCase(caseId)).status)).to.equal(TraceStatus.AwaitingCourt);
  });
});
