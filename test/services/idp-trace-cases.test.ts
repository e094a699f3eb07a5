/**
 * Finding T1 of an outside red team (h7-audit, session 7; fixed), through the deployed route:
 * POST /v1/trace takes unsigned envelopes, and it used to judge whatever evidence it received for a
 * case whose on-chain hash matched a partial evidenceHash (no message type or time, owner key,
 * warrant fields or receipt). The accused proxy posted the filed evidence with its message time
 * changed before the reporter did, and the IdP recorded the case Rejected. Now the case commits to
 * the whole evidence (`caseHash`), so a copy that differs in any field is refused (UNKNOWN_CASE)
 * and changes nothing; only the filed evidence is judged, whoever posts it.
 * Protocol-level form: test/avatars/tracing-cases.test.ts.
 */
import { expect } from "chai";
import hre from "hardhat";
import { idpSystem } from "../helpers/idp-services";
import { botMeetsBob } from "../helpers/court-trace-story";
import { requestTrace } from "../../offchain/avatars/protocols";
import { IDP_RECORD, IdpService } from "../../offchain/services/avatars/idp-service";
import { toHex } from "../../offchain/crypto/bytes";
import { traceRemote } from "../../offchain/services/avatars/clients";

describe("the IdP service's tracing route: a case is decided on the evidence filed (h7-audit T1)", function () {
  this.timeout(180_000);
  let svc: IdpService | undefined;

  after(async () => {
    await svc?.stop();
  });

  /** An IdP service, alice's bot-driven avatar and bob's avatar after one mutual authentication. */
  async function authenticated() {
    const sys = await idpSystem();
    const { info, m } = await botMeetsBob(sys, [311, 312], (s) => (svc = s));
    return { dep: sys.dep, info, m, ks: sys.deps.keystore };
  }

  it("T1 (service): the accused posting the filed evidence with another message time first does not close the reporter's case; the reporter's evidence is traced", async () => {
    const reporter = (await hre.ethers.getSigners())[1];
    const { dep, info, m } = await authenticated();
    const e = m.evidenceAboutA; // bob's evidence about alice's bot-driven avatar
    const reporterRegistry = dep.registry.connect(reporter);
    const { caseId } = await requestTrace(reporterRegistry, e);
    // the accused bot races the reporter to the IdP with an altered copy (unsigned envelope)
    const altered = { ...e, message: { ...e.message, time: e.message.time + 1 } };
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    await traceRemote({ idp: info, dep, reporter: reporterRegistry, evidence: altered, caseId, retry: once }).catch(() => undefined);
    const afterAltered = Number((await dep.registry.traceCase(caseId)).status);
    const reporterOutcome = await traceRemote({ idp: info, dep, reporter: reporterRegistry, evidence: e, caseId, retry: once }).then(
      () => "traced",
      (err: Error) => err.message.split("\n")[0],
    );
    expect({ afterAltered, reporterOutcome }).to.deep.equal({ afterAltered: 1, reporterOutcome: "traced" });
  });

  it("h11-red2 V2 (service): a retry of a traced case gets the same verdict; the same evidence under another case is refused naming the first, and nothing changes", async () => {
    const [, r1, r2] = await hre.ethers.getSigners();
    const { dep, info, m, ks } = await authenticated();
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    const e = m.evidenceAboutB; // alice's bot's evidence about bob
    const first = await traceRemote({ idp: info, dep, reporter: dep.registry.connect(r1), evidence: e, retry: once });
    // the reporter asks again about its case (a lost reply): the same answer, from the chain
    const retry = await traceRemote({ idp: info, dep, reporter: dep.registry.connect(r1), evidence: e, caseId: first.caseId, retry: once });
    expect(toHex(retry.verdictCommitment)).to.equal(toHex(first.verdictCommitment));
    // someone else files the same evidence as a new case
    const { caseId } = await requestTrace(dep.registry.connect(r2), e);
    const keystoreBefore = JSON.stringify(ks.load(IDP_RECORD));
    const outcome = await traceRemote({ idp: info, dep, reporter: dep.registry.connect(r2), evidence: e, caseId, retry: once }).then(
      () => "traced",
      (err: Error) => err.message.split("\n")[0],
    );
    expect(outcome).to.match(new RegExp(`DUPLICATE_EVIDENCE.*traced already in case #${first.caseId}`));
    expect(Number((await dep.registry.traceCase(caseId)).status), "the refused case got a verdict").to.equal(1);
    expect(JSON.stringify(ks.load(IDP_RECORD)), "the IdP's keystore changed").to.equal(keystoreBefore);
  });
});
