/**
 * Red team h14-red2 finding G3 (open): nothing binds what the jurors judge (the dispute's
 * `evidence` digest and `cid`) to the evidence the IdP traces (the trace case's
 * `evidenceHash`). `bindCase` checks the case's status, reporter and avatar only; neither the
 * contract nor `dispute:open`/`DisputeLedger.open` nor the jurors' tools compare the two. A claimant
 * files an authentic but innocent interaction E1 with the accused avatar as the case, and shows the
 * jurors a forged E2 (one the IdP refuses: a changed body). Upheld, the IdP checks E1's
 * authenticity, which holds, and records `CourtTraced`: "the court's jurors upheld a claim of
 * misbehaviour over that interaction" (disputes.md), for an interaction no juror saw, on evidence
 * the IdP never judged. Fails while the hole is open: the case ends CourtTraced.
 * Story fixture copied from test/services/idp-court-trace.test.ts.
 */
import { expect } from "chai";
import hre from "hardhat";
import { mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { AvatarParty } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf, evidenceHash, requestTrace, TraceStatus } from "../../offchain/avatars/protocols";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import { toHex } from "../../offchain/crypto/bytes";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";
import { delegateRemote, issueRemote, loginRemote, mutualAuthRemote, traceRemote } from "../../offchain/services/avatars/clients";
import { DisputeLedger, Nature } from "../../offchain/disputes/ledger";
import { entityId, TrustLedger } from "../../offchain/trust/ledger";
import { DisputeResolution__factory, TrustManager__factory } from "../../typechain-types";

const avatar = (p: AvatarParty, n: string) => avatarIdOf(p.mit!.serial, n);

describe("h14-red2 G3 (findings): the jurors' evidence and the traced case are unbound", function () {
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

  it("a dispute whose evidence is not its trace case's cannot end with that case CourtTraced", async () => {
    const { dep, info, e, court, claimant, respondent, params, reporter, bobAccount, once, judge } = await story("court-trace-unbound");
    // E2: E1 with its signed message changed (a forgery); the IdP refuses it as a reporter's case
    const forged = { ...e, message: { ...e.message, body: Uint8Array.from([...e.message.body, 0x21]) } };
    const probe = (await requestTrace(reporter, forged)).caseId;
    const refused = await traceRemote({ idp: info, dep, reporter, evidence: forged, caseId: probe, retry: once }).then(
      () => "traced",
      (err: Error) => err.message.split("\n")[0],
    );
    expect(refused).to.not.equal("traced");
    // the case holds the authentic E1; the dispute shows the jurors the forged E2
    const caseId = (await requestTrace(reporter, e)).caseId;
    const bobLedger = new DisputeLedger(court.connect(bobAccount));
    const opened = await bobLedger
      .open(claimant, respondent, Nature.avatar, 2, toHex(evidenceHash(forged)), "", params.deposit, undefined, caseId)
      .catch(() => undefined);
    if (opened === undefined) return; // a binding refused the opening: the hole is closed
    await judge(opened.id, 0); // the jurors uphold what they were shown
    await court.resolve(opened.id);
    await traceRemote({ idp: info, dep, reporter, evidence: e, caseId, retry: once }).catch(() => undefined);
    // the finding: a court verdict of misbehaviour on E1, which no juror judged
    expect(Number((await dep.registry.traceCase(caseId)).status)).to.not.equal(TraceStatus.CourtTraced);
  });
});
