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
import hre from "hardhat";
import { mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { AvatarParty } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf, requestTrace, TraceStatus } from "../../offchain/avatars/protocols";
import { encodeEvidence } from "../../offchain/avatars/wire";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import { toHex } from "../../offchain/crypto/bytes";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";
import { delegateRemote, issueRemote, loginRemote, mutualAuthRemote, traceRemote } from "../../offchain/services/avatars/clients";
import { avatarDisputeEvidence, DisputeLedger, Nature } from "../../offchain/disputes/ledger";
import { entityId, TrustLedger } from "../../offchain/trust/ledger";
import { DisputeResolution__factory, TrustManager__factory } from "../../typechain-types";

const avatar = (p: AvatarParty, n: string) => avatarIdOf(p.mit!.serial, n);

describe("the court's trace: the jurors' evidence is the trace case's (h14-red2 G3)", function () {
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
      bobLedger.open(claimant, respondent, Nature.avatar, 2, shown.evidence, shown.cid, params.deposit, undefined, {
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
        bobLedger.open(claimant, respondent, Nature.avatar, 2, evidence, cid, params.deposit, undefined, { id: caseId, evidence: E1 }),
      ).to.be.rejectedWith(/an avatar dispute's evidence is its trace case's/);
    expect(await court.disputeCount()).to.equal(count);
    expect(Number((await dep.registry.traceCase(caseId)).status)).to.equal(TraceStatus.Open);
    // E1's own bytes open it: the jurors' file is E1 (its raw CID's digest), and the case awaits them
    const opened = await bobLedger.open(claimant, respondent, Nature.avatar, 2, own.evidence, "", params.deposit, undefined, {
      id: caseId,
      evidence: E1,
    });
    const d = await court.dispute(opened.id);
    expect([d.evidence, d.cid, d.traceCase]).to.deep.equal([own.evidence, "", caseId]);
    expect(Number((await dep.registry.traceCase(caseId)).status)).to.equal(TraceStatus.AwaitingCourt);
  });
});
