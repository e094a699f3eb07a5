/**
 * The whole story of the court's trace (README, papers 3 and 4 together; docs/specs/disputes.md
 * "The court files the trace"), through the deployed system and the IdP service over HTTP:
 * alice delegates her avatar to an AI proxy, which then speaks as her avatar to bob (an avatar
 * driven by someone other than the human bob believes he meets: the impersonation the avatar paper
 * traces). Bob files the interaction's evidence as a trace case, opens an avatar dispute that
 * claims it, the IdP refuses to judge it while the jurors deliberate, three reputation-weighted
 * jurors uphold the claim, `resolve` releases the case, and the IdP traces it. Bob learns the
 * verdict commitment keccak256(UID || salt), never the identity: the IdP alone opens it.
 */
import { expect } from "chai";
import { courtTraceStory } from "../helpers/court-trace-story";
import { IdentityProvider } from "../../offchain/avatars/agents";
import { auditVerdict, requestTrace, TraceStatus } from "../../offchain/avatars/protocols";
import { IDP_RECORD, IdpService } from "../../offchain/services/avatars/idp-service";
import { concat, toBytes, toHex } from "../../offchain/crypto/bytes";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { traceRemote } from "../../offchain/services/avatars/clients";
import { avatarDisputeEvidence, DisputeLedger, Nature } from "../../offchain/disputes/ledger";
import { encodeEvidence } from "../../offchain/avatars/wire";

describe("the court files the trace: an impersonating avatar, a dispute, jurors, resolve, the IdP traces", function () {
  this.timeout(240_000);
  let svc: IdpService | undefined;

  after(async () => {
    await svc?.stop();
  });

  const story = (name: string) => courtTraceStory(name, (up) => (svc = up));

  it("bob's upheld dispute gets alice's bot-driven avatar traced; bob learns the commitment only", async () => {
    const { dep, ks, info, alice, e, court, claimant, respondent, params, reporter, bobAccount, once, judge } = await story("court-trace");

    // Bob files the evidence (the case commits to all of it) and opens the dispute that claims it.
    const { caseId } = await requestTrace(reporter, e);
    const bobLedger = new DisputeLedger(court.connect(bobAccount));
    const opened = await bobLedger.open(
      claimant,
      respondent,
      0n,
      Nature.avatar,
      2,
      avatarDisputeEvidence(encodeEvidence(e)).evidence,
      "",
      params.deposit,
      undefined,
      { id: caseId, evidence: encodeEvidence(e) },
    );
    expect(Number((await dep.registry.traceCase(caseId)).status)).to.equal(TraceStatus.AwaitingCourt);

    // While the jurors deliberate the IdP judges nothing: refused, no verdict, its keystore unchanged.
    const before = JSON.stringify(ks.load(IDP_RECORD));
    const early = await traceRemote({ idp: info, dep, reporter, evidence: e, caseId, retry: once }).then(
      () => "traced",
      (err: Error) => err.message.split("\n")[0],
    );
    expect(early).to.match(/AWAITING_COURT/);
    expect(Number((await dep.registry.traceCase(caseId)).status)).to.equal(TraceStatus.AwaitingCourt);
    expect(JSON.stringify(ks.load(IDP_RECORD))).to.equal(before);

    // Three jurors uphold the claim (option 0); nobody appeals; anyone resolves.
    await judge(opened.id, 0);
    await expect(court.resolve(opened.id)).to.emit(court, "AvatarCaseRuled").withArgs(opened.id, caseId, true, true);
    expect(Number((await dep.registry.traceCase(caseId)).status)).to.equal(TraceStatus.CourtUpheld);

    // The IdP traces the upheld case; bob's answer is the verdict commitment, which the chain holds.
    const ack = await traceRemote({ idp: info, dep, reporter, evidence: e, caseId, retry: once });
    const onChain = await dep.registry.traceCase(caseId);
    expect(Number(onChain.status)).to.equal(TraceStatus.CourtTraced);
    expect(onChain.verdictCommitment).to.equal(toHex(ack.verdictCommitment));
    expect(Object.keys(ack).sort()).to.deep.equal(["caseId", "verdictCommitment"]);

    // The IdP alone opens it: alice's UID (not the bot's), which nothing bob received contains.
    const idp = IdentityProvider.fromRecord(ks.load(IDP_RECORD) as Record<string, unknown>);
    const opening = await auditVerdict({ registry: dep.registry, idp }, caseId);
    const aliceUid = toHex(keccak_256(concat(toBytes("UID"), alice.mit!.serial)));
    expect(opening.uid).to.equal(aliceUid);
    const seen = toHex(ack.verdictCommitment) + onChain.verdictCommitment;
    expect(seen.includes(aliceUid.slice(2))).to.equal(false);
    expect(toHex(ack.verdictCommitment)).to.not.equal(aliceUid);
  });

  it("the accused has bob's filed case judged first (front-running the dispute): the dispute cannot claim it, and the same evidence in a new case is traced once the court upholds it", async () => {
    const { dep, info, e, court, claimant, respondent, params, reporter, bobAccount, once, judge } = await story("court-trace-front");
    const first = (await requestTrace(reporter, e)).caseId;
    // anyone holding the evidence (the accused's side too) posts it before bob's dispute opens
    await traceRemote({ idp: info, dep, reporter: dep.registry, evidence: e, caseId: first, retry: once });
    expect(Number((await dep.registry.traceCase(first)).status)).to.equal(TraceStatus.InteractionTraced);
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
    await expect(open(first)).to.be.rejectedWith(/CaseNotOpen|reverted/);
    // bob files the same evidence again and disputes it; the jurors uphold; the IdP traces it again
    const second = (await requestTrace(reporter, e)).caseId;
    const opened = await open(second);
    await judge(opened.id, 0);
    await court.resolve(opened.id);
    const ack = await traceRemote({ idp: info, dep, reporter, evidence: e, caseId: second, retry: once });
    const c = await dep.registry.traceCase(second);
    expect([Number(c.status), c.verdictCommitment]).to.deep.equal([TraceStatus.CourtTraced, toHex(ack.verdictCommitment)]);
    // a reporter's second case on the same evidence is still refused (one interaction, one trace: V2)
    const third = (await requestTrace(reporter, e)).caseId;
    const outcome = await traceRemote({ idp: info, dep, reporter, evidence: e, caseId: third, retry: once }).then(
      () => "traced",
      (err: Error) => err.message.split("\n")[0],
    );
    expect(outcome).to.match(/DUPLICATE_EVIDENCE/);
  });
});
