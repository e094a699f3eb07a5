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
import hre from "hardhat";
import { mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { AvatarParty, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { auditVerdict, avatarIdOf, requestTrace, TraceStatus } from "../../offchain/avatars/protocols";
import { IDP_RECORD, IdpService } from "../../offchain/services/avatars/idp-service";
import { concat, toBytes, toHex } from "../../offchain/crypto/bytes";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";
import { delegateRemote, issueRemote, loginRemote, mutualAuthRemote, traceRemote } from "../../offchain/services/avatars/clients";
import { avatarDisputeEvidence, DisputeLedger, Nature } from "../../offchain/disputes/ledger";
import { encodeEvidence } from "../../offchain/avatars/wire";
import { entityId, TrustLedger } from "../../offchain/trust/ledger";
import { DisputeResolution__factory, TrustManager__factory } from "../../typechain-types";

const avatar = (p: AvatarParty, n: string) => avatarIdOf(p.mit!.serial, n);

describe("the court files the trace: an impersonating avatar, a dispute, jurors, resolve, the IdP traces", function () {
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

  it("bob's upheld dispute gets alice's bot-driven avatar traced; bob learns the commitment only", async () => {
    const { dep, ks, info, alice, e, court, claimant, respondent, params, reporter, bobAccount, once, judge } = await story("court-trace");

    // Bob files the evidence (the case commits to all of it) and opens the dispute that claims it.
    const { caseId } = await requestTrace(reporter, e);
    const bobLedger = new DisputeLedger(court.connect(bobAccount));
    const opened = await bobLedger.open(
      claimant,
      respondent,
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
