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
 * Story fixture copied from test/services/idp-court-trace.test.ts.
 */
import { expect } from "chai";
import hre from "hardhat";
import { mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { AvatarParty } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf, requestTrace, TraceStatus } from "../../offchain/avatars/protocols";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import { toHex } from "../../offchain/crypto/bytes";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";
import { delegateRemote, issueRemote, loginRemote, mutualAuthRemote, traceRemote } from "../../offchain/services/avatars/clients";
import { avatarDisputeEvidence, DisputeLedger, Nature } from "../../offchain/disputes/ledger";
import { encodeEvidence } from "../../offchain/avatars/wire";
import { entityId, TrustLedger } from "../../offchain/trust/ledger";
import { DisputeResolution__factory, TrustManager__factory } from "../../typechain-types";

const avatar = (p: AvatarParty, n: string) => avatarIdOf(p.mit!.serial, n);

describe("h14-red2 G2: one interaction, one court verdict", function () {
  this.timeout(240_000);
  let svc: IdpService | undefined;

  after(async () => {
    await svc?.stop();
  });

  /** The IdP service, alice's bot-driven avatar A after one interaction with bob, the trust layer around them. */
  async function story(name: string) {
    const sys = await idpSystem(name);
    const { dep, ks, client, f } = sys;
    const up = await startIdp(sys);
    svc = up.svc;
    const info = up.info;
    const eye = { alice: new SimulatedEye(411), bob: new SimulatedEye(412) };
    const issue = (name: string, kind: "user" | "proxy", enrollment?: Uint8Array) =>
      issueRemote({
        idp: info,
        dep,
        keystore: client,
        name,
        kind,
        label: name,
        enrollment,
        token: issueEnrolmentToken(ks, { service: "idp", kind, identity: name, ttlSec: 600 }).token,
      });
    const alice = (await issue("alice", "user", eye.alice.capture())).party;
    const bob = (await issue("bob", "user", eye.bob.capture())).party;
    const bot = (await issue("bot", "proxy")).party;
    await loginRemote({ idp: info, dep, user: alice, sample: () => eye.alice.capture(), avatarId: avatar(alice, "A"), appearance: "a" });
    const d = await delegateRemote({
      idp: info,
      dep,
      user: alice,
      sample: () => eye.alice.capture(),
      proxy: bot,
      avatarId: avatar(alice, "A"),
    });
    const b = await loginRemote({
      idp: info,
      dep,
      user: bob,
      sample: () => eye.bob.capture(),
      avatarId: avatar(bob, "B"),
      appearance: "b",
    });
    const t = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    // the AI proxy drives alice's avatar A in the interaction with bob
    const m = await mutualAuthRemote({
      idp: info,
      dep,
      A: { credential: d.credential, driver: bot },
      B: { credential: b.credential, driver: bob },
      now: () => t,
    });
    const e = m.evidenceAboutA;

    // The trust layer: bob's claimant entity (his account), avatar A as the respondent (attested by
    // the IdP's registrar, the deployer here), three jurors of other accounts, verified by the admin.
    const signers = await hre.ethers.getSigners();
    const [admin, bobAccount, aliceAccount] = [f.msrp, signers[1], signers[2]];
    const tm = TrustManager__factory.connect(f.deployment.contracts.TrustManager.address, admin);
    const court = DisputeResolution__factory.connect(f.deployment.contracts.DisputeResolution.address, admin);
    const claimant = entityId("bob-the-claimant");
    const respondent = toHex(avatar(alice, "A"));
    await (await tm.connect(bobAccount).register(claimant, 1)).wait();
    await new TrustLedger(tm.connect(aliceAccount)).register(respondent, "avatar", admin);
    const jurors = signers.slice(12, 15);
    const voters = jurors.map((_, i) => entityId(`court-trace-juror-${i}`));
    for (const [i, j] of jurors.entries()) {
      await (await tm.connect(j).register(voters[i], 1)).wait();
      await (await tm.setIdentityVerified(voters[i], true)).wait();
    }
    const params = await court.params();
    await mine(Number(params.minAge) + 1);
    const reporter = dep.registry.connect(bobAccount);
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    /** Three jurors vote `choice` in dispute `id`; past the appeal window. */
    const judge = async (id: bigint, choice: number) => {
      const salts: string[] = [];
      for (const [i, v] of voters.entries()) salts.push((await new DisputeLedger(court.connect(jurors[i])).commit(id, v, choice)).salt);
      await time.increase(Number(params.commitPeriod) + 1);
      for (const [i, v] of voters.entries()) await new DisputeLedger(court.connect(jurors[i])).reveal(id, v, choice, salts[i]);
      await time.increase(Number(params.revealPeriod + params.appealPeriod) + 1);
    };
    return { dep, ks, info, alice, e, court, claimant, respondent, params, reporter, bobAccount, once, judge };
  }

  it("evidence traced already as a court's verdict is refused in a second upheld court case (the exception is for a reporter's case)", async () => {
    const { dep, info, e, court, claimant, respondent, params, reporter, bobAccount, once, judge } = await story("court-trace-twice");
    const bobLedger = new DisputeLedger(court.connect(bobAccount));
    const open = (caseId: bigint) =>
      bobLedger.open(
        claimant,
        respondent,
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
    // the same evidence filed again, a second dispute over the same interaction, upheld again
    const second = (await requestTrace(reporter, e)).caseId;
    const d2 = await open(second);
    await judge(d2.id, 0);
    await court.resolve(d2.id);
    expect(Number((await dep.registry.traceCase(second)).status)).to.equal(TraceStatus.CourtUpheld);
    const outcome = await traceRemote({ idp: info, dep, reporter, evidence: e, caseId: second, retry: once }).then(
      () => "traced",
      (err: Error) => err.message.split("\n")[0],
    );
    // the finding: "traced" (a second CourtTraced verdict for one interaction) instead of refused
    expect(outcome).to.match(/DUPLICATE_EVIDENCE/);
    // and the refused case is closed (Rejected), not left CourtUpheld for ever (session 15)
    const c = await dep.registry.traceCase(second);
    expect([Number(c.status), c.verdictCommitment]).to.deep.equal([TraceStatus.Rejected, hre.ethers.ZeroHash]);
  });
});
