/**
 * FINDING (s19-redd F2, severity M): a verdict names an avatar that did not act. A trace case is
 * filed as (avatar, keccak256(evidence)) by anyone, and nothing on-chain checks that the evidence
 * is about the avatar the case names. `openAvatarDispute` checks the bytes against the case's hash
 * and `bindCase` the case's avatar against the respondent, but not the evidence's avatar against
 * either. So mallory files evidence of alice's bot-driven avatar A as a case against bob's avatar
 * B and opens a dispute against B: jurors who uphold it penalize bob's attested avatar
 * (`loserPenalty`) and his account gets an upheld verdict against it, for an interaction B never
 * had; and the case then stays `CourtUpheld` for ever, since the IdP refuses to judge evidence
 * whose avatar is not the case's (`UNKNOWN_CASE`, nothing recorded): "no case left hanging" breaks.
 * The test fails while such a dispute opens.
 */
import { expect } from "chai";
import hre from "hardhat";
import { avatar, courtTraceStory } from "../helpers/court-trace-story";
import { caseHash, TraceStatus } from "../../offchain/avatars/protocols";
import type { IdpService } from "../../offchain/services/avatars/idp-service";
import { traceRemote } from "../../offchain/services/avatars/clients";
import { encodeEvidence } from "../../offchain/avatars/wire";
import { entityId, TrustLedger } from "../../offchain/trust/ledger";
import { toHex } from "../../offchain/crypto/bytes";

describe("FINDING s19-redd F2: an avatar dispute over evidence about another avatar", function () {
  this.timeout(240_000);
  let svc: IdpService | undefined;
  after(async () => {
    await svc?.stop();
  });

  it("mallory files evidence of avatar A as a case against bob's avatar B: the dispute opens, an upheld verdict penalizes B, and the case hangs CourtUpheld", async () => {
    const { dep, info, bob, e, court, tm, params, once, judge } = await courtTraceStory("s19-redd-f2", (up) => (svc = up));
    const signers = await hre.ethers.getSigners();
    const [bobAccount, mallory] = [signers[1], signers[3]];
    // bob's avatar B (logged in by the story) attested by bob: his one avatar with reputation
    const victim = toHex(avatar(bob, "B"));
    await new TrustLedger(tm.connect(bobAccount)).register(victim, "avatar", signers[0]);
    const before = (await tm.entity(victim)).reputation;
    // mallory's claimant entity and her case: evidence about A, filed against B
    const claimant = entityId("mallory-the-claimant");
    await (await tm.connect(mallory).register(claimant, 1)).wait();
    expect(toHex(e.avatarId)).to.not.equal(victim);
    const fileAgainstB = dep.registry.connect(mallory);
    const againstB = await fileAgainstB.requestTrace.staticCall(victim, toHex(caseHash(e)));
    await (await fileAgainstB.requestTrace(victim, toHex(caseHash(e)))).wait();
    let opened = true;
    try {
      await (
        await court.connect(mallory).openAvatarDispute(claimant, victim, 2, encodeEvidence(e), againstB, { value: params.deposit })
      ).wait();
    } catch {
      opened = false;
    }
    if (opened) {
      const id = await court.disputeCount();
      await judge(id, 0);
      await (await court.resolve(id)).wait();
      // B pays for an interaction it never had, and the IdP cannot judge the case: it hangs
      expect((await tm.entity(victim)).reputation).to.equal(before - params.loserPenalty);
      expect(Number((await dep.registry.traceCase(againstB)).status)).to.equal(TraceStatus.CourtUpheld);
      const tried = await traceRemote({
        idp: info,
        dep,
        reporter: dep.registry.connect(mallory),
        evidence: e,
        caseId: againstB,
        retry: once,
      }).then(
        () => "traced",
        (err: Error) => err.message.split("\n")[0],
      );
      expect(tried).to.match(/UNKNOWN_CASE/);
      expect(Number((await dep.registry.traceCase(againstB)).status)).to.equal(TraceStatus.CourtUpheld);
    }
    expect(
      opened,
      "an avatar dispute opened against B over evidence about another avatar (upheld, it penalized B and left the case CourtUpheld)",
    ).to.equal(false);
  });
});
