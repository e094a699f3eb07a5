/**
 * An avatar dispute's evidence is about its respondent (red team s19-redd F2, severity M;
 * docs/specs/disputes.md, "One interaction, one court case"). A trace case is filed as (avatar,
 * keccak256(evidence)) by anyone, and before the fix nothing on-chain checked that the evidence
 * was about the avatar the case names: mallory filed evidence of alice's bot-driven avatar A as a
 * case against bob's avatar B and opened a dispute against B; jurors who upheld it put an upheld
 * verdict and the loser penalty on B for an interaction B never had, and the case then stayed
 * `CourtUpheld` for ever (the IdP refuses evidence whose avatar is not the case's: `UNKNOWN_CASE`,
 * nothing recorded). Now `openAvatarDispute` reads the evidence's avatar (`interactionOf`) and
 * refuses one that is not the respondent (`EvidenceNotAboutRespondent`), writing nothing.
 */
import { expect } from "chai";
import hre from "hardhat";
import { avatar, courtTraceStory } from "../helpers/court-trace-story";
import { caseHash, TraceStatus } from "../../offchain/avatars/protocols";
import type { IdpService } from "../../offchain/services/avatars/idp-service";
import { encodeEvidence } from "../../offchain/avatars/wire";
import { entityId } from "../../offchain/trust/ledger";
import { toHex } from "../../offchain/crypto/bytes";

describe("avatar disputes: the evidence is about the respondent (s19-redd F2)", function () {
  this.timeout(240_000);
  let svc: IdpService | undefined;
  after(async () => {
    await svc?.stop();
  });

  it("mallory files evidence of avatar A as a case against bob's avatar B: the dispute is refused, nothing written", async () => {
    const { dep, bob, e, court, tm, params } = await courtTraceStory("s19-redd-f2", (up) => (svc = up));
    const signers = await hre.ethers.getSigners();
    const mallory = signers[3];
    // bob's avatar B (logged in by the story, which attests it as bob's): his one avatar with reputation
    const victim = toHex(avatar(bob, "B"));
    const before = await tm.entity(victim);
    // mallory's claimant entity and her case: evidence about A, filed against B
    const claimant = entityId("mallory-the-claimant");
    await (await tm.connect(mallory).register(claimant, 1)).wait();
    expect(toHex(e.avatarId)).to.not.equal(victim);
    const filer = dep.registry.connect(mallory);
    const againstB = await filer.requestTrace.staticCall(victim, toHex(caseHash(e)));
    await (await filer.requestTrace(victim, toHex(caseHash(e)))).wait();
    const count = await court.disputeCount();
    await expect(court.connect(mallory).openAvatarDispute(claimant, victim, 2, encodeEvidence(e), againstB, { value: params.deposit }))
      .to.be.revertedWithCustomError(court, "DisputeResolution__EvidenceNotAboutRespondent")
      .withArgs(againstB, toHex(e.avatarId));
    expect(await court.disputeCount()).to.equal(count);
    expect(Number((await dep.registry.traceCase(againstB)).status)).to.equal(TraceStatus.Open);
    expect((await tm.entity(victim)).reputation).to.equal(before.reputation);
  });
});
