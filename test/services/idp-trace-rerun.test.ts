/**
 * A reporter's `avatar:trace --idp` killed after its case was filed (s24-rta, traceRemote: L). The
 * case id was lost with the process, and the rerun filed a second case on-chain: a retry with a
 * second effect. Now the filing is journalled in the reporter's keystore before it is sent
 * (clients.fileTraceOnce): the rerun finds the filed case, from the journal or from the chain when
 * the run died before writing the id, and has the IdP judge that one. The journal goes once the
 * case is closed, so a later report of the same evidence is a new case.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { idpSystem } from "../helpers/idp-services";
import { botMeetsBob } from "../helpers/court-trace-story";
import { Keystore } from "../../offchain/storage/keystore";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import { toHex } from "../../offchain/crypto/bytes";
import { traceFiling, traceRemote } from "../../offchain/services/avatars/clients";
import { onFault } from "../../offchain/services/faults";
import { TraceStatus } from "../../offchain/avatars/protocols";

describe("avatar:trace --idp rerun after a kill: one case per report (s24-rta, traceRemote)", function () {
  this.timeout(180_000);
  let svc: IdpService | undefined;

  afterEach(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await svc?.stop();
    svc = undefined;
  });

  it("killed after the case was mined and before its id was kept: the rerun finds the case on-chain and has it traced; nothing is filed twice", async () => {
    const reporter = (await hre.ethers.getSigners())[1];
    const sys = await idpSystem("s24fxa-rerun");
    const { info, m } = await botMeetsBob(sys, [321, 322], (s) => (svc = s));
    const dep = sys.dep;
    const registry = dep.registry.connect(reporter);
    const ks = new Keystore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s24fxa-reporter-")), "");
    const e = m.evidenceAboutA;
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    const filings = async () =>
      (await dep.registry.queryFilter(dep.registry.filters.TraceRequested(undefined, toHex(e.avatarId), reporter.address))).length;
    // the first run dies right after the filing is mined (the process exits there in production)
    process.env.METATRUST_FAULT = "avatar:after-trace-filed";
    onFault((p) => {
      throw new Error(`killed at ${p}`);
    });
    await expect(traceRemote({ idp: info, dep, reporter: registry, evidence: e, journal: ks, retry: once })).to.be.rejectedWith(
      "killed at avatar:after-trace-filed",
    );
    expect(await filings()).to.equal(1);
    expect(ks.exists(traceFiling(e)), "the filing's journal").to.equal(true);
    expect(ks.load(traceFiling(e)).caseId).to.equal(undefined); // the id was lost with the process
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    // the rerun: the same case, traced; no second filing
    const ack = await traceRemote({ idp: info, dep, reporter: registry, evidence: e, journal: ks, retry: once });
    expect(await filings()).to.equal(1);
    const filed = await dep.registry.queryFilter(dep.registry.filters.TraceRequested(undefined, toHex(e.avatarId), reporter.address));
    expect(ack.caseId).to.equal(filed[0].args.caseId);
    expect(Number((await dep.registry.traceCase(ack.caseId)).status)).to.equal(TraceStatus.InteractionTraced);
    // the case is closed: its journal is gone
    expect(ks.exists(traceFiling(e))).to.equal(false);
  });

  it("the IdP unreachable after the filing: the rerun judges the same case (the journal names it)", async () => {
    const reporter = (await hre.ethers.getSigners())[2];
    const sys = await idpSystem("s24fxa-rerun2");
    const { info, m } = await botMeetsBob(sys, [323, 324], (s) => (svc = s));
    const dep = sys.dep;
    const registry = dep.registry.connect(reporter);
    const ks = new Keystore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s24fxa-reporter-")), "");
    const e = m.evidenceAboutB;
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    const filings = async () =>
      (await dep.registry.queryFilter(dep.registry.filters.TraceRequested(undefined, toHex(e.avatarId), reporter.address))).length;
    // the IdP's URL answers nothing (a closed port): the case is filed, the judging fails
    await expect(
      traceRemote({ idp: { ...info, url: "http://127.0.0.1:9" }, dep, reporter: registry, evidence: e, journal: ks, retry: once }),
    ).to.be.rejected;
    expect(await filings()).to.equal(1);
    expect(ks.load(traceFiling(e)).caseId).to.be.a("string"); // the case is open: kept for the rerun
    await traceRemote({ idp: info, dep, reporter: registry, evidence: e, journal: ks, retry: once });
    expect(await filings()).to.equal(1);
    expect(ks.exists(traceFiling(e))).to.equal(false);
  });
});
