import { expect } from "chai";
import hre from "hardhat";
import fs from "fs";
import path from "path";
import { rejects, useTaskSandbox } from "./helpers/tasks";
import { RefusedError } from "../tasks/lib/cli";

describe("tasks: idp:* and avatar:* (in-process network, one process)", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-avatar-tasks-");

  it("setup, issue, login, delegate, authenticate, trace, revoke", async () => {
    await hre.run("idp:setup");
    await hre.run("idp:issue", { user: "alice", realId: "Alice Liddell" });
    await hre.run("idp:issue", { user: "bob" });
    await hre.run("idp:issue", { proxy: "helper", operator: "ai-corp" });
    // a second issue is refused before anything is sent, and alice's keys stay as they were
    const keys = fs.readFileSync(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore", "avatar-party-alice.json"), "utf8");
    const again = await rejects(hre.run("idp:issue", { user: "alice" }));
    expect(again).to.be.instanceOf(RefusedError);
    expect(again.message).to.equal('idp:issue: --user "alice" already holds an MIT; one party, one MIT (the keystore keeps its keys)');
    expect(fs.readFileSync(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore", "avatar-party-alice.json"), "utf8")).to.equal(
      keys,
    );
    await hre.run("avatar:login", { user: "alice", avatar: "fox", appearance: "red fox" });
    await hre.run("avatar:login", { user: "bob", avatar: "whale", appearance: "blue whale" });
    await hre.run("avatar:delegate", { user: "alice", avatar: "fox", proxy: "helper" });
    const printed: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void printed.push(a.join(" "));
    let auth;
    try {
      auth = await hre.run("avatar:auth", { a: "fox", b: "whale" });
    } finally {
      console.log = log;
    }
    // it prints a fingerprint both sides can compare, never bytes of the session key (s24 open list)
    expect(printed[0]).to.match(/^fox <-> whale: authenticated, session fingerprint 0x[0-9a-f]{16}$/);
    const t = await hre.run("avatar:trace", { evidence: auth.evidence[0] });
    expect(t.realId).to.equal("Alice Liddell");
    // the verdict's opening survives in the IdP's keystore (a separate invocation opens it)
    expect((await hre.run("avatar:audit", { case: String(t.caseId) })).uid).to.equal(t.uid);
    await hre.run("avatar:revoke", { mit: "helper" });
    let err: Error | undefined;
    try {
      await hre.run("avatar:auth", { a: "fox", b: "whale" });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/revoked/);
  });

  it("idp:issue keeps the keys before the MIT goes on-chain: a failed send is completed by a rerun, never re-keyed", async () => {
    const { readDeployment } = await import("../offchain/chain/deployments");
    const [operator] = await hre.ethers.getSigners();
    const d = readDeployment("hardhat");
    const registry = await hre.ethers.getContractAt("MITRegistry", d.contracts.MITRegistry.address, operator);
    // the IdP is an account of its own (deploy's role idp); the operator is the admin
    const idp = d.roles!.idp;
    expect(idp).to.not.equal(operator.address);
    const { Keystore } = await import("../offchain/storage/keystore");
    const ks = new Keystore(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore"));
    const record = () => ks.load("avatar-party-carol") as { sk: string; mit: { serial: string }; pendingMit?: { cid: string } };
    // the send fails after the keys were kept (here: the IdP lost its role; a dropped connection or a kill alike)
    await (await registry.revokeRole(await registry.IDP_ROLE(), idp)).wait();
    await rejects(hre.run("idp:issue", { user: "carol" }));
    const kept = record();
    expect(kept.pendingMit!.cid).to.match(/^bag/);
    const serial = kept.mit.serial;
    expect(Number((await registry.mit(serial)).status)).to.equal(0);
    await (await registry.grantRole(await registry.IDP_ROLE(), idp)).wait();
    // the rerun sends the same MIT (same keys, same serial) and clears the mark
    expect((await hre.run("idp:issue", { user: "carol" })).serial).to.equal(serial);
    expect(Number((await registry.mit(serial)).status)).to.not.equal(0);
    const done = record();
    expect([done.sk, done.pendingMit]).to.deep.equal([kept.sk, undefined]);
    // and once complete, a rerun is refused as before
    expect(await rejects(hre.run("idp:issue", { user: "carol" }))).to.be.instanceOf(RefusedError);
    // the IdP's enrollment was kept with the keys: carol logs in
    await hre.run("avatar:login", { user: "carol", avatar: "owl" });
  });

  it("the court files the trace from the command line: file the case, open the avatar dispute on it, jurors uphold, the IdP traces", async () => {
    const { readDeployment } = await import("../offchain/chain/deployments");
    const { evidenceFromJson } = await import("../offchain/avatars/codec");
    const { fromHex, toHex } = await import("../offchain/crypto/bytes");
    const { entityId } = await import("../offchain/trust/ledger");
    const d = readDeployment("hardhat");
    const registry = await hre.ethers.getContractAt("MITRegistry", d.contracts.MITRegistry.address);
    const court = await hre.ethers.getContractAt("DisputeResolution", d.contracts.DisputeResolution.address);
    await hre.run("idp:issue", { user: "dora", realId: "Dora Marquez" });
    await hre.run("idp:issue", { user: "eli" });
    await hre.run("idp:issue", { proxy: "bot2", operator: "ai-corp" });
    await hre.run("avatar:login", { user: "dora", avatar: "lynx" });
    await hre.run("avatar:login", { user: "eli", avatar: "heron" });
    await hre.run("avatar:delegate", { user: "dora", avatar: "lynx", proxy: "bot2" });
    const auth = await hre.run("avatar:auth", { a: "lynx", b: "heron" });
    const evidence = auth.evidence[0]; // heron's evidence about the bot-driven lynx
    const lynx = toHex(evidenceFromJson(JSON.parse(fs.readFileSync(evidence, "utf8"))).avatarId);
    // the trust layer: lynx (attested by the IdP) answers; eli's claimant entity is account 8's, and
    // so is his attested avatar egret: account 8 is the account of heron's owner, the counterparty
    // the evidence's handshake names, who alone may claim the interaction in court; two jurors
    await hre.run("trust:register", { entity: lynx, type: "avatar", account: "9" });
    await hre.run("trust:register", { entity: "eli-claims", type: "avatar", account: "8", verified: true }); // a claimant with standing (s23-rtt R4)
    const { avatarIdOf } = await import("../offchain/avatars/protocols");
    const { Keystore } = await import("../offchain/storage/keystore");
    const eliSerial = (
      new Keystore(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore")).load("avatar-party-eli") as {
        mit: { serial: string };
      }
    ).mit.serial;
    await hre.run("avatar:login", { user: "eli", avatar: "egret" });
    await hre.run("trust:register", { entity: toHex(avatarIdOf(fromHex(eliSerial, 32), "egret")), type: "avatar", account: "8" });
    for (const [v, account] of [
      ["juror-10", "10"],
      ["juror-11", "11"],
    ])
      await hre.run("trust:register", { entity: v, type: "avatar", account, verified: true });
    await hre.run("chain:advance", { blocks: 7_201 });
    // eli's account files the case; a case filed by another account is not the claimant's
    expect((await rejects(hre.run("avatar:trace", { evidence, case: "01" }))).message).to.equal(
      'avatar:trace: --case must be a trace case id (1, 2, ...), got "01"',
    );
    const filed = await hre.run("avatar:trace", { evidence, fileOnly: true, account: "8" });
    const other = await hre.run("avatar:trace", { evidence, fileOnly: true, account: "7" });
    const base = { claimant: "eli-claims", respondent: lynx, nature: "avatar", options: 2 };
    const count = await court.disputeCount();
    for (const [args, line] of [
      [{}, "dispute:open: --case is required with --nature avatar: the trace case the claimant filed (`avatar:trace --file-only`)"],
      [{ case: "one" }, 'dispute:open: --case must be a trace case id (1, 2, ...), got "one"'],
      [{ case: "999" }, "dispute:open: --case 999: no such trace case"],
      [{ case: String(other.caseId) }, `dispute:open: --case ${other.caseId} was filed by `],
      [
        { case: String(filed.caseId), respondent: "juror-10", evidence },
        `dispute:open: --case ${filed.caseId} reports avatar ${lynx}, not --respondent "juror-10"`,
      ],
      [{ case: String(filed.caseId), nature: "service" }, "dispute:open: --case goes with --nature avatar only"],
      // the dispute's evidence is built from the case's (h14-red2 G3): the file the case was filed with, nothing else
      [
        { case: String(filed.caseId) },
        `dispute:open: --evidence is required with --nature avatar: the evidence file case ${filed.caseId} was filed with`,
      ],
      [
        { case: String(filed.caseId), evidence: auth.evidence[1] },
        `dispute:open: --evidence ${auth.evidence[1]} is not the evidence case ${filed.caseId} was filed with`,
      ],
      [{ case: String(filed.caseId), evidence: "package.json" }, "dispute:open: --evidence package.json is not an evidence file ("],
    ] as const) {
      const e = await rejects(hre.run("dispute:open", { ...base, ...args }));
      expect(e.message.startsWith(line), e.message).to.equal(true);
      expect(e.name).to.equal("UsageError");
    }
    expect(await court.disputeCount()).to.equal(count);
    const opened = await hre.run("dispute:open", { ...base, case: String(filed.caseId), evidence });
    expect((await court.dispute(opened.id)).traceCase).to.equal(BigInt(filed.caseId));
    // the jurors' file is the case's encoded evidence: its digest is the one the case was filed with, under sha256
    const { encodeEvidence } = await import("../offchain/avatars/wire");
    const bytes = encodeEvidence(evidenceFromJson(JSON.parse(fs.readFileSync(evidence, "utf8"))));
    expect(hre.ethers.keccak256(bytes)).to.equal((await registry.traceCase(filed.caseId)).evidenceHash);
    expect([(await court.dispute(opened.id)).evidence, (await court.dispute(opened.id)).cid]).to.deep.equal([hre.ethers.sha256(bytes), ""]);
    expect(Number((await registry.traceCase(filed.caseId)).status)).to.equal(4); // AwaitingCourt
    // a second dispute on the same case, under another request name: refused before anything is sent
    expect((await rejects(hre.run("dispute:open", { ...base, case: String(filed.caseId), evidence, request: "again" }))).message).to.equal(
      `dispute:open: --case ${filed.caseId} is awaiting a court, not open; file a new case`,
    );
    // the same interaction in a new case: one interaction, one court case (s19-redd F1); and a copy
    // filed by another account is not the counterparty's (heron's owner's account is 8)
    const refiled = await hre.run("avatar:trace", { evidence, fileOnly: true, account: "8" });
    expect((await rejects(hre.run("dispute:open", { ...base, case: String(refiled.caseId), evidence }))).message).to.equal(
      `dispute:open: --evidence ${evidence}: its interaction was heard by dispute #${opened.id} already (one interaction, one court case; only a void dispute frees it)`,
    );
    await hre.run("trust:register", { entity: "copier-claims", type: "avatar", account: "7", verified: true }); // a claimant with standing (s23-rtt R4)
    const seven = (await hre.ethers.getSigners())[7].address;
    const heronOf = () => toHex(evidenceFromJson(JSON.parse(fs.readFileSync(evidence, "utf8"))).handshake!.reporter.avatarId);
    expect(
      (await rejects(hre.run("dispute:open", { ...base, claimant: "copier-claims", case: String(other.caseId), evidence }))).message,
    ).to.equal(
      `dispute:open: --claimant "copier-claims": its controller ${seven} is not the account of the owner of avatar ${heronOf()} (${(await hre.ethers.getSigners())[8].address}), the counterparty the evidence's handshake names; only the counterparty may claim an interaction`,
    );
    // the same interaction without its handshake (and receipt), filed as a case by heron's owner's
    // account: it names no counterparty and can never be traced, so the court refuses it
    // (EvidenceWithoutHandshake, session 22); the task says so in one line naming --evidence, nothing sent
    const { evidenceToJson } = await import("../offchain/avatars/codec");
    const strippedFile = path.join(process.env.METATRUST_DATA_DIR!, "stripped-evidence.json");
    const stripped = { ...evidenceFromJson(JSON.parse(fs.readFileSync(evidence, "utf8"))), handshake: undefined, receipt: undefined };
    fs.writeFileSync(strippedFile, JSON.stringify(evidenceToJson(stripped)));
    const heronOwner = registry.connect((await hre.ethers.getSigners())[8]);
    const strippedHash = hre.ethers.keccak256((await import("../offchain/avatars/wire")).encodeEvidence(stripped));
    const strippedCase = await heronOwner.requestTrace.staticCall(lynx, strippedHash);
    await (await heronOwner.requestTrace(lynx, strippedHash)).wait();
    const noHandshake = await rejects(hre.run("dispute:open", { ...base, case: String(strippedCase), evidence: strippedFile }));
    expect(noHandshake.message).to.equal(
      `dispute:open: --evidence ${strippedFile} has no handshake: it names no counterparty and can never be traced, so the court hears no dispute over it; use the interaction's evidence with its handshake`,
    );
    expect(noHandshake.name).to.equal("UsageError");
    expect(Number((await registry.traceCase(strippedCase)).status)).to.equal(1); // Open
    // a case that files this evidence against another avatar (heron) is refused (s19-redd F2)
    const heronId = toHex(evidenceFromJson(JSON.parse(fs.readFileSync(auth.evidence[1], "utf8"))).avatarId);
    const mis = registry.connect((await hre.ethers.getSigners())[8]);
    const misCase = await mis.requestTrace.staticCall(heronId, (await registry.traceCase(filed.caseId)).evidenceHash);
    await (await mis.requestTrace(heronId, (await registry.traceCase(filed.caseId)).evidenceHash)).wait();
    expect((await rejects(hre.run("dispute:open", { ...base, respondent: heronId, case: String(misCase), evidence }))).message).to.equal(
      `dispute:open: --evidence ${evidence} is about avatar ${lynx}, not --respondent "${heronId}"`,
    );
    expect(await court.disputeCount()).to.equal(opened.id);
    // the IdP refuses to judge it while the jurors deliberate
    expect((await rejects(hre.run("avatar:trace", { evidence, case: String(filed.caseId) }))).message).to.match(
      /AWAITING_COURT|awaits the final verdict/,
    );
    for (const v of ["juror-10", "juror-11"]) await hre.run("dispute:commit", { id: Number(opened.id), voter: v, choice: 0 });
    await hre.run("chain:advance", { seconds: 3_601 });
    for (const v of ["juror-10", "juror-11"]) await hre.run("dispute:reveal", { id: Number(opened.id), voter: v });
    await hre.run("chain:advance", { seconds: 7_201 });
    await hre.run("dispute:resolve", { id: Number(opened.id) });
    expect(Number((await registry.traceCase(filed.caseId)).status)).to.equal(5); // CourtUpheld
    const t = await hre.run("avatar:trace", { evidence, case: String(filed.caseId) });
    expect(t.realId).to.equal("Dora Marquez");
    const c = await registry.traceCase(filed.caseId);
    expect([Number(c.status), c.verdictCommitment]).to.deep.equal([6, toHex(t.verdictCommitment)]); // CourtTraced
    expect(entityId(lynx)).to.equal(lynx);
    // an avatar without a trust entry is heard too (h14-red2 G5): heron, which eli never registered
    const trust = await hre.ethers.getContractAt("TrustManager", d.contracts.TrustManager.address);
    const aboutHeron = auth.evidence[1]; // lynx's evidence about heron
    const heron = toHex(evidenceFromJson(JSON.parse(fs.readFileSync(aboutHeron, "utf8"))).avatarId);
    expect(Number((await trust.entity(heron)).kind)).to.equal(0);
    // dora claims through account 9, the account of lynx's owner (the counterparty of lynx's evidence)
    await hre.run("trust:register", { entity: "dora-claims", type: "avatar", account: "9", verified: true }); // a claimant with standing (s23-rtt R4)
    const heronCase = await hre.run("avatar:trace", { evidence: aboutHeron, fileOnly: true, account: "9" });
    const vsHeron = { claimant: "dora-claims", respondent: heron, nature: "avatar", options: 2, case: String(heronCase.caseId) };
    const before = await court.disputeCount();
    for (const [args, line] of [
      [{ nature: "service", case: undefined }, `dispute:open: --respondent "${heron}" is not a registered entity`],
      [{ respondent: "nobody" }, 'dispute:open: --respondent "nobody" is neither a registered entity nor an avatar the MIT registry knows'],
    ] as const) {
      const e = await rejects(hre.run("dispute:open", { ...vsHeron, evidence: aboutHeron, ...args }));
      expect(e.message.startsWith(line), e.message).to.equal(true);
      expect(e.name).to.equal("UsageError");
    }
    expect(await court.disputeCount()).to.equal(before);
    const vs = await hre.run("dispute:open", { ...vsHeron, evidence: aboutHeron });
    const dh = await court.dispute(vs.id);
    // heron has no trust entry; its owner's account is eli's (account 8, through his attested avatar egret)
    expect(Number((await trust.entity(heron)).kind)).to.equal(0);
    const eight = (await hre.ethers.getSigners())[8].address;
    expect([dh.respondent, dh.respondentController, dh.traceCase]).to.deep.equal([heron, eight, BigInt(heronCase.caseId)]);
    expect(Number((await registry.traceCase(heronCase.caseId)).status)).to.equal(4); // AwaitingCourt
  });
});
