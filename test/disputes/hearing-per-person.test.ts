/**
 * s21-review2 M2 (fixed in session 21): an acquittal held for the trace, not for the penalty. The
 * court keyed a hearing on (trace key, counterparty *avatar*) and checks no handshake signature, so
 * after a jury rejected bob's claim on (key, B) he logged in a second avatar B2, re-labelled the
 * handshake's reporter avatar to B2 and had a fresh hearing his account could claim: a second jury's
 * "upheld" put the loser penalty on the acquitted respondent again (the IdP then rejects the forged
 * case, so only the penalty lands), once per avatar he owns.
 * The rule now (docs/specs/disputes.md, "One interaction, one court case"): the hearing is keyed on
 * (trace key, the counterparty's person: the owner tag the MITRegistry gives its avatar), so every
 * avatar of bob names the one hearing the acquittal holds.
 */
import { expect } from "chai";
import hre from "hardhat";
import { courtTraceStory, avatar } from "../helpers/court-trace-story";
import { requestTrace, TraceStatus } from "../../offchain/avatars/protocols";
import type { Evidence } from "../../offchain/avatars/protocols";
import type { IdpService } from "../../offchain/services/avatars/idp-service";
import { loginRemote } from "../../offchain/services/avatars/clients";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { encodeEvidence } from "../../offchain/avatars/wire";
import { toHex } from "../../offchain/crypto/bytes";

describe("avatar disputes: one hearing per interaction and counterparty person (s21-review2 M2)", function () {
  this.timeout(300_000);
  let svc: IdpService | undefined;
  after(async () => {
    await svc?.stop();
  });

  it("after a rejection on (key, B), the handshake re-labelled to bob's second avatar B2 is the same hearing: InteractionHeard, nothing written", async () => {
    const s = await courtTraceStory("s21-m2fix", (up) => (svc = up));
    const { dep, info, bob, e, court, tm, claimant, respondent, params, reporter, bobAccount, judge } = s;
    const bobCourt = court.connect(bobAccount);
    const first = (await requestTrace(reporter, e)).caseId;
    await (await bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(e), first, { value: params.deposit })).wait();
    const d1 = await court.disputeCount();
    await judge(d1, 1);
    await (await court.resolve(d1)).wait();
    expect(Number((await dep.registry.traceCase(first)).status)).to.equal(TraceStatus.Dismissed);
    // bob logs in a second avatar of his: the registry knows it, under his owner tag
    const b2 = avatar(bob, "B2");
    const eye = new SimulatedEye(412);
    await loginRemote({ idp: info, dep, user: bob, sample: () => eye.capture(), avatarId: b2, appearance: "b2" });
    expect(await dep.registry.ownerTagOf(toHex(b2))).to.equal(await dep.registry.ownerTagOf(toHex(e.handshake!.reporter.avatarId)));
    // the same interaction, its handshake's reporter avatar rewritten to B2 (no signature checks it on-chain)
    const forged: Evidence = {
      ...e,
      receipt: undefined,
      handshake: { ...e.handshake!, reporter: { ...e.handshake!.reporter, avatarId: b2 } },
    };
    // his account may claim it (B2 is his), and the hearing is the one dispute 1 holds
    expect([...(await court.hearingOf(encodeEvidence(forged)))]).to.deep.equal([toHex(b2), bobAccount.address, d1]);
    const second = (await requestTrace(reporter, forged)).caseId;
    const before = (await tm.entity(respondent)).reputation;
    await expect(bobCourt.openAvatarDispute(claimant, respondent, 2, encodeEvidence(forged), second, { value: params.deposit }))
      .to.be.revertedWithCustomError(court, "DisputeResolution__InteractionHeard")
      .withArgs(second, d1);
    // nothing written: no dispute, the case still open and unbound, the acquitted respondent untouched
    expect(await court.disputeCount()).to.equal(d1);
    const c = await dep.registry.traceCase(second);
    expect([Number(c.status), c.court, c.disputeId]).to.deep.equal([TraceStatus.Open, hre.ethers.ZeroAddress, 0n]);
    expect((await tm.entity(respondent)).reputation).to.equal(before);
  });
});
