import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { customError, rejects, useTaskSandbox } from "./helpers/tasks";
import { describeError } from "../tasks/lib/cli";
import { entityId } from "../offchain/trust/ledger";
import { readDeployment } from "../offchain/chain/deployments";
import { nextEvidence } from "./fixtures/disputes";

/** Controllers of the named avatars (signer indices); the organization "guild" is the operator's. */
const ACCOUNTS = { ann: "4", ben: "5", cat: "6", dan: "7" } as const;

describe("tasks: trust:* (in-process network, one process)", function () {
  this.timeout(120_000);
  const tmp = useTaskSandbox("metatrust-trust-tasks-");

  it("register, rate (with evidence on IPFS), score, agree, show", async () => {
    // Each rater has an account of its own (a controller cannot rate its own entities).
    for (const [n, account] of Object.entries(ACCOUNTS))
      await hre.run("trust:register", { entity: n, type: "avatar", verified: true, account });
    await hre.run("trust:register", { entity: "guild", type: "organization", verified: true });
    // ben uses ann's service three times (ann's controller signs each receipt), then rates from the records
    const terms = "uptime:2,privacy";
    await hre.run("trust:interact", { from: "ben", to: "ann", outcome: "success", latency: 100, bound: 200, terms });
    await hre.run("trust:interact", { from: "ben", to: "ann", outcome: "success", latency: 400, broken: "privacy" });
    await hre.run("trust:interact", { from: "ben", to: "ann", outcome: "failure", latency: 50, broken: "uptime" });
    const r = await hre.run("trust:rate", { from: "ben", to: "ann" });
    expect(r.verifiable).to.equal(true);
    expect(r.evidence).to.match(/^baguqeera/); // CIDv1 dag-json sha2-256
    // the worked example of docs/specs/trust.md §8; ann is identity-verified (the admin flag)
    expect(r.factors.map((x: number) => Math.round(x * 10_000))).to.deep.equal([6667, 5000, 6667, 5556, 6111, 10_000]);
    const v = await hre.run("trust:verify-rating", { from: "ben", to: "ann" });
    expect([v.verified, v.cid, v.rating]).to.deep.equal([true, r.evidence, r.rating]);
    // the records were used: nothing pending; a typed score needs --unverifiable and cannot be verified
    expect((await rejects(hre.run("trust:rate", { from: "ben", to: "ann" }))).message).to.equal(
      "trust:rate: no interactions of ben with ann logged since its last rating: log them with trust:interact, or give --records",
    );
    expect((await rejects(hre.run("trust:rate", { from: "cat", to: "ann", score: 0.9 }))).message).to.match(
      /^trust:rate: a typed --score\/--factors cannot be recomputed/,
    );
    const again = await hre.run("trust:rate", { from: "cat", to: "ann", factors: "1,1,1,0.5,0.5,0.5", unverifiable: true });
    expect([again.rating, again.verifiable]).to.deep.equal([0.75, false]);
    expect((await rejects(hre.run("trust:verify-rating", { from: "cat", to: "ann" }))).message).to.equal(
      "verifyRating: rating cat -> ann #0 has no evidence attached (a typed score: unverifiable)",
    );
    const s = await hre.run("trust:score", { of: "ann", by: "ben" });
    expect(s.trust).to.be.closeTo(r.trust, 1e-9);
    for (let k = 0; k < 4; k++) {
      for (const n of ["ann", "ben"]) await hre.run("trust:rate", { from: n, to: "guild", score: 1, unverifiable: true });
      await hre.run("chain:advance", { seconds: 86_400 }); // one rating per pair per decay epoch
    }
    const ag = await hre.run("trust:agree", { org: "guild", avatars: "ann,ben", days: 30, termination: "t", penalty: "p" });
    expect(ag.mode).to.equal("direct");
    const rows = await hre.run("trust:show");
    expect(rows.find((x: { name: string }) => x.name === "ann").verified).to.equal(true);
  });

  it("bad input: self-rating, a flood of one pair, a score out of range, an unregistered entity, an evidence CID that does not resolve", async () => {
    // refused before anything is sent (s22-redo R3; it was the contract's TrustManager__SelfRating)
    expect((await rejects(hre.run("trust:rate", { from: "ann", to: "ann", score: 0.5, unverifiable: true }))).message).to.equal(
      "trust:rate: --from ann and --to ann name one entity: an entity does not rate itself; nothing sent",
    );
    await hre.run("trust:rate", { from: "dan", to: "cat", score: 0.5, unverifiable: true });
    const flood = await customError(await rejects(hre.run("trust:rate", { from: "dan", to: "cat", score: 0.5, unverifiable: true })));
    expect([flood.name, flood.args.slice(0, 2)]).to.deep.equal(["TrustManager__RatedThisEpoch", [entityId("dan"), entityId("cat")]]);
    expect((await rejects(hre.run("trust:rate", { from: "ann", to: "ben", score: 1.5, unverifiable: true }))).message).to.match(
      /^packFactors: factor 1.5 is not in \[0, 1\]/,
    );
    expect(
      await customError(await rejects(hre.run("trust:rate", { from: "ann", to: "nobody", score: 0.5, unverifiable: true }))),
    ).to.deep.equal({
      name: "TrustManager__UnknownEntity",
      args: [entityId("nobody")],
    });
    // a records file whose receipts are not the provider's: refused by the agent before anything is sent
    const file = path.join(tmp(), "records.json");
    const rec = { seq: 0, request: "0x" + "ab".repeat(32), at: 1, outcome: "success", latencyMs: 1, kept: [], receipt: "0x" };
    fs.writeFileSync(file, JSON.stringify({ agreement: { latencyBoundMs: 100, terms: [] }, records: [rec, rec] }));
    expect((await rejects(hre.run("trust:rate", { from: "ann", to: "ben", records: file }))).message).to.equal(
      "checkEvidence: record 1: seq must increase strictly (got 0 after 0)",
    );
    expect(
      (
        await hre.ethers
          .getContractAt("TrustManager", readDeployment("hardhat").contracts.TrustManager.address)
          .then((tm) => tm.pairOf(entityId("ann"), entityId("ben")))
      ).ratings,
    ).to.equal(0n);
  });

  it("trust:register --verified resumes a registration that was not verified; a rerun sends nothing", async () => {
    const id = entityId("fay");
    await hre.run("trust:register", { entity: "fay", type: "organization", account: "9" });
    const dr = await hre.ethers.getContractAt("TrustManager", readDeployment("hardhat").contracts.TrustManager.address);
    expect((await dr.entity(id)).flags & 0x80n).to.equal(0n);
    // before: TrustManager__EntityExists, and the entity could never be verified from the task
    await hre.run("trust:register", { entity: "fay", type: "organization", account: "9", verified: true });
    expect((await dr.entity(id)).flags & 0x80n).to.equal(0x80n);
    const [operator, controller] = [(await hre.ethers.getSigners())[0], (await hre.ethers.getSigners())[9]];
    const nonces = async () => [await operator.getNonce(), await controller.getNonce()];
    const before = await nonces();
    expect((await hre.run("trust:register", { entity: "fay", type: "organization", account: "9", verified: true })).id).to.equal(id);
    expect(await nonces()).to.deep.equal(before);
    // someone else's id (not a reclaimable kind) is refused before anything is sent (s22-redo R3; it was the contract's EntityExists)
    const other = await nonces();
    expect((await rejects(hre.run("trust:register", { entity: "fay", type: "organization", verified: true }))).message).to.match(
      /^trust:register: --entity fay is registered already \(0x[0-9a-f]{64}\) as kind organization, controlled by 0x[0-9a-fA-F]{40}; nothing sent$/,
    );
    expect(await nonces()).to.deep.equal(other);
    expect((await rejects(hre.run("trust:register", { entity: "gus", type: "robot" }))).message).to.match(
      /^trust:register: --type must be one of/,
    );
  });

  it("trust:detect flags a bad-mouther from the on-chain history", async () => {
    // self-contained (issue 12: runs alone with --grep): the raters are registered here too; after
    // the first test a rerun with the same controller sends nothing
    for (const [n, account] of Object.entries(ACCOUNTS))
      await hre.run("trust:register", { entity: n, type: "avatar", verified: true, account });
    await hre.run("trust:register", { entity: "eve", type: "avatar", account: "8" });
    await hre.run("chain:advance", { seconds: 86_400 }); // the first tests' pairs may be rated again
    for (const target of ["ann", "cat", "dan"]) {
      for (const rater of ["ben", "cat", "dan", "ann"])
        if (rater !== target) await hre.run("trust:rate", { from: rater, to: target, score: 0.9, unverifiable: true });
      await hre.run("trust:rate", { from: "eve", to: target, score: 0.05, unverifiable: true });
    }
    const report = await hre.run("trust:detect", { dryRun: false });
    const eve = report.detections.find((d: { kindName: string; flagged: boolean }) => d.kindName === "bad-mouthing");
    expect(eve, JSON.stringify(report.detections)).to.not.equal(undefined);
    expect(eve.flagged).to.equal(true);
    const rows = await hre.run("trust:show");
    expect(rows.find((x: { name: string }) => x.name === "eve").flags & 0b1000).to.equal(0b1000);
    expect(rows.filter((x: { flags: number; name: string }) => x.flags !== 0).map((x: { name: string }) => x.name)).to.deep.equal(["eve"]);
  });

  it("dispute:open, commit, reveal, resolve, show (salts kept in the keystore)", async () => {
    // Voters controlled by accounts other than the parties' (the operator's), verified, and old enough.
    for (const [n, account] of [
      ["vic", "1"],
      ["wes", "2"],
      ["xia", "3"],
    ])
      await hre.run("trust:register", { entity: n, type: "avatar", account, verified: true }); // the admin verifies
    // a claim is heard on its evidence, once per respondent and document (s23-rtt R1)
    const [ev1, ev2] = ["first", "second"].map((n) => {
      const file = path.join(process.env.METATRUST_DATA_DIR!, `eve-${n}.txt`);
      fs.writeFileSync(file, `eve's ${n} breach`);
      return file;
    });
    const young = await hre.run("dispute:open", { claimant: "ann", respondent: "eve", nature: "service", options: 2, evidence: ev1 });
    await hre.run("trust:register", { entity: "ann-alt", type: "avatar", account: ACCOUNTS.ann }); // the claimant's second entity
    for (const v of ["vic", "ann-alt"])
      // too young; an entity of the parties' controller
      expect((await rejects(hre.run("dispute:commit", { id: Number(young.id), voter: v, choice: 0 }))).message).to.equal(
        `dispute:commit: ${v} has no vote in #${young.id} (below the minimum reputation or age at the snapshot, an entity of a party's account or of a party avatar's other account, flagged since a detector run at or before the dispute opened, or its identity revoked at or before the snapshot)`,
      );
    await hre.run("chain:advance", { blocks: 7_201 });
    const dr = await hre.ethers.getContractAt("DisputeResolution", readDeployment("hardhat").contracts.DisputeResolution.address);
    // the same request again (a retry after a lost reply): the dispute it opened, nothing sent (h13-red D2)
    const count = await dr.disputeCount();
    const again = await hre.run("dispute:open", { claimant: "ann", respondent: "eve", nature: "service", options: 2, evidence: ev1 });
    expect([again.id, again.existing, await dr.disputeCount()]).to.deep.equal([young.id, true, count]);
    // a second dispute, over another document, is another request, by name (the same document
    // again is heard once: EvidenceHeard)
    const d = await hre.run("dispute:open", {
      claimant: "ann",
      respondent: "eve",
      nature: "service",
      options: 2,
      evidence: ev2,
      request: "second",
    });
    expect([d.existing, await dr.disputeCount()]).to.deep.equal([false, count + 1n]);
    // The commitment hides the choice: an out-of-range one is refused before anything is sent or kept.
    const before = await hre.ethers.provider.getTransactionCount((await hre.ethers.getSigners())[1].address);
    const bad = await rejects(hre.run("dispute:commit", { id: Number(d.id), voter: "vic", choice: 2 }));
    expect(bad.message).to.equal(`--choice: dispute #${d.id} has 2 options (0-1); got 2`);
    expect(await hre.ethers.provider.getTransactionCount((await hre.ethers.getSigners())[1].address)).to.equal(before);
    expect((await rejects(hre.run("dispute:commit", { id: 999, voter: "vic", choice: 0 }))).message).to.equal(
      "dispute:commit: --id 999: no such dispute",
    );
    for (const [v, choice] of [
      ["vic", 0],
      ["wes", 0],
      ["xia", 1],
    ] as const)
      await hre.run("dispute:commit", { id: Number(d.id), voter: v, choice });
    expect((await hre.run("dispute:show", { id: Number(d.id) })).phase).to.equal("commit");
    await hre.run("chain:advance", { seconds: 3_601 });
    for (const v of ["vic", "wes", "xia"]) await hre.run("dispute:reveal", { id: Number(d.id), voter: v });
    // too early: refused from the phase the chain reports, before any gas is paid (s23-fxops finding 4)
    let blockBefore = await hre.ethers.provider.getBlockNumber();
    const early = await rejects(hre.run("dispute:resolve", { id: Number(d.id) }));
    expect(await hre.ethers.provider.getBlockNumber(), "a refused resolve was sent").to.equal(blockBefore);
    const iso = (t: bigint) => new Date(Number(t) * 1000).toISOString();
    expect([early.name, early.message]).to.deep.equal([
      "RefusedError",
      `dispute:resolve: --id ${d.id}: #${d.id} is in its reveal phase; it can be resolved after ${iso((await dr.dispute(d.id)).revealDeadline)} (its reveal deadline); nothing sent`,
    ]);
    await hre.run("chain:advance", { seconds: 3_601 });
    // decided 1.0 to 0.5 for the claim: eve's controller (account 8) may appeal for an hour
    expect((await hre.run("dispute:show", { id: Number(d.id) })).phase).to.equal("appeal");
    blockBefore = await hre.ethers.provider.getBlockNumber();
    const inWindow = await rejects(hre.run("dispute:resolve", { id: Number(d.id) }));
    expect(inWindow.message).to.equal(
      `dispute:resolve: --id ${d.id}: #${d.id} is in its appeal phase; it can be resolved after ${iso((await dr.dispute(d.id)).revealDeadline + (await dr.params()).appealPeriod)} (its appeal window); nothing sent`,
    );
    expect(await hre.ethers.provider.getBlockNumber(), "a refused resolve was sent").to.equal(blockBefore);
    const none = await rejects(hre.run("dispute:appeal", { id: 99 }));
    expect([none.name, none.message]).to.deep.equal(["UsageError", "dispute:appeal: --id 99: no such dispute"]);
    const ap = await hre.run("dispute:appeal", { id: Number(d.id) });
    expect([ap.round, ap.fee, ap.appellant]).to.deep.equal([1, 10n ** 16n, (await hre.ethers.getSigners())[8].address]);
    const twice = await rejects(hre.run("dispute:appeal", { id: Number(d.id) }));
    expect([twice.name, twice.message]).to.deep.equal([
      "RefusedError",
      `dispute:appeal: #${d.id} cannot be appealed now: it is in its commit phase (appeals: after the reveal deadline, for 3600 s, not a void round)`,
    ]);
    // round 1 needs 2.0 of revealed weight: two of the three voters (1.0) vote again, fresh salts per round
    for (const [v, choice] of [
      ["vic", 1],
      ["wes", 0],
    ] as const)
      await hre.run("dispute:commit", { id: Number(d.id), voter: v, choice });
    // a step outside its phase, which the court would refuse after the gas is paid: refused from the
    // phase the chain reports, in one line naming --id (or --voter), nothing sent (s23-fxops finding 4)
    const r1 = await dr.dispute(d.id);
    blockBefore = await hre.ethers.provider.getBlockNumber();
    const revealEarly = await rejects(hre.run("dispute:reveal", { id: Number(d.id), voter: "vic" }));
    expect(revealEarly.message).to.equal(
      `dispute:reveal: --id ${d.id}: #${d.id} is in its commit phase (round 1 reveals after ${iso(r1.commitDeadline)} until ${iso(r1.revealDeadline)}); nothing sent`,
    );
    const noSalt = await rejects(hre.run("dispute:reveal", { id: Number(d.id), voter: "xia" }));
    await hre.run("chain:advance", { seconds: 3_601 });
    const afterAdvance = await hre.ethers.provider.getBlockNumber();
    const commitLate = await rejects(hre.run("dispute:commit", { id: Number(d.id), voter: "xia", choice: 1 }));
    expect(commitLate.message).to.equal(
      `dispute:commit: --id ${d.id}: #${d.id} is in its reveal phase (round 1 commits until ${iso(r1.commitDeadline)}); nothing sent`,
    );
    const noSaltLate = await rejects(hre.run("dispute:reveal", { id: Number(d.id), voter: "xia" }));
    expect(noSaltLate.message).to.equal(
      `dispute:reveal: --voter xia: no vote of xia on #${d.id} (round 1) was committed from this data folder (no salt dispute-${d.id}-r1-xia); nothing sent`,
    );
    expect(noSalt.message).to.match(/^dispute:reveal: --id /);
    expect(await hre.ethers.provider.getBlockNumber(), "a refused step was sent").to.equal(afterAdvance);
    for (const v of ["vic", "wes"]) await hre.run("dispute:reveal", { id: Number(d.id), voter: v });
    await hre.run("chain:advance", { seconds: 3_601 });
    // below round 1's quorum: round 0's verdict stands, and its voters are the ones settled
    const r = await hre.run("dispute:resolve", { id: Number(d.id) });
    expect([r.outcome, r.round]).to.deep.equal([0, 0]);
    expect((await hre.run("dispute:show", { id: Number(d.id) })).phase).to.equal("resolved");
    for (const v of ["vic", "wes", "xia"]) expect((await dr.voteIn(d.id, 0, entityId(v))).settled).to.equal(true);
    const late = await rejects(hre.run("dispute:appeal", { id: Number(d.id) }));
    expect(late.message).to.equal(`dispute:appeal: #${d.id} cannot be appealed now: it is resolved`);
    // a commit retried (its salt journaled, its vote on-chain) sends nothing; with another choice it is refused (h13-red D1)
    const sent = await hre.ethers.provider.getTransactionCount((await hre.ethers.getSigners())[1].address);
    expect((await hre.run("dispute:commit", { id: Number(d.id), voter: "vic", choice: 1 })).existing).to.equal(true);
    const dup = await rejects(hre.run("dispute:commit", { id: Number(d.id), voter: "vic", choice: 0 }));
    expect([dup.name, dup.message]).to.deep.equal([
      "RefusedError",
      `dispute:commit: vic: --choice: the journaled vote on #${d.id} is choice 1 (it may be on-chain); commit it again with --choice 1`,
    ]);
    expect(await hre.ethers.provider.getTransactionCount((await hre.ethers.getSigners())[1].address)).to.equal(sent);
  });

  it("dispute:open names the flag of each mistake before anything is sent or stored; the contract's own errors name them too", async () => {
    const dr = await hre.ethers.getContractAt("DisputeResolution", readDeployment("hardhat").contracts.DisputeResolution.address);
    const count = async () => (await dr.queryFilter(dr.filters.DisputeOpened())).length;
    const before = await count();
    const ipfs = path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "ipfs");
    const blocks = () => (fs.existsSync(ipfs) ? fs.readdirSync(ipfs, { recursive: true }).length : 0);
    const stored = blocks();
    const log = path.join(process.env.METATRUST_DATA_DIR!, "log.txt");
    fs.writeFileSync(log, "evidence");
    const base = { claimant: "ann", respondent: "eve", nature: "service", options: 2, evidence: log };
    for (const [args, line] of [
      [{ respondent: "ann" }, 'dispute:open: --respondent "ann" is the claimant; a dispute needs two parties'],
      [{ options: 9 }, "dispute:open: --options must be 2 to 8 proposed resolutions, got 9"],
      [{ respondent: "nobody" }, 'dispute:open: --respondent "nobody" is not a registered entity (`trust:register --entity nobody` first)'],
      [{ claimant: "nobody" }, 'dispute:open: --claimant "nobody" is not a registered entity (`trust:register --entity nobody` first)'],
      [{ nature: "tort" }, "dispute:open: --nature must be one of service, avatar"],
    ] as const) {
      const e = await rejects(hre.run("dispute:open", { ...base, ...args }));
      expect(e.message).to.equal(line);
      expect(e.name).to.equal("UsageError");
    }
    expect(await count()).to.equal(before);
    expect(blocks()).to.equal(stored); // the evidence was not put on IPFS either
    // the contract names each of these mistakes too (a transaction sent around the task), and the
    // task's error line names the flag that gave the value
    const ann = dr.connect((await hre.ethers.getSigners())[Number(ACCOUNTS.ann)]);
    const deposit = (await dr.params()).deposit;
    for (const [args, line] of [
      [{ respondent: "ann" }, 'DisputeResolution refused: SelfDispute(entity --claimant "ann" (0x'],
      [{ options: 9 }, "DisputeResolution refused: InvalidOptions(options 9)"],
      [{ respondent: "nobody" }, 'DisputeResolution refused: UnknownRespondent(respondent --respondent "nobody" (0x'],
    ] as const) {
      const a = { ...base, ...args };
      const e = await rejects(
        ann.openDispute(entityId(a.claimant), entityId(a.respondent), 0, a.options, nextEvidence(), "", 0, { value: deposit }),
      );
      expect(await describeError(e, hre, a)).to.contain(line);
    }
    expect(await count()).to.equal(before);
  });

  it("trust:serve oracle and trust:observe name the flag of each mistake in one line, before anything starts or is sent", async () => {
    const r = ["0x" + "a1".repeat(20), "0x" + "b2".repeat(20), "0x" + "c3".repeat(20)];
    const serve = (a: Record<string, unknown>) =>
      rejects(hre.run("trust:serve", { role: "oracle", deviation: "0", interval: 10_000, ...a }));
    const cases: [Promise<Error>, string][] = [
      [
        rejects(hre.run("trust:serve", { role: "judge", deviation: "0", interval: 0 })),
        'trust:serve: unknown role "judge" (detector or oracle)',
      ],
      [serve({}), "trust:serve oracle: --reporters is required (the reporters' addresses or role names, comma-separated)"],
      [serve({ reporters: `${r[0]},${r[0].toUpperCase().replace("0X", "0x")}` }), "trust:serve oracle: --reporters lists an account twice"],
      [serve({ reporters: r.join(","), quorum: 4 }), "trust:serve oracle: --quorum must be from 1 to 3 (the reporters), got 4"],
      [serve({ reporters: r.join(","), quorum: 0 }), "trust:serve oracle: --quorum must be from 1 to 3 (the reporters), got 0"],
      [serve({ reporters: r.join(","), deviation: "2.5" }), "trust:serve oracle: --deviation must be a number in [0, 2], got 2.5"],
      [serve({ reporters: r.join(","), deviation: "-1" }), "trust:serve oracle: --deviation must be a number in [0, 2], got -1"],
    ];
    const obs = { oracle: "http://127.0.0.1:1", from: "ann", to: "ben", value: "0.5", round: 1, account: "reporter:1" };
    cases.push(
      [rejects(hre.run("trust:observe", { ...obs, oracle: "ftp://x" })), "trust:observe: --oracle must be an http(s) URL, got ftp://x"],
      [rejects(hre.run("trust:observe", { ...obs, value: "1.5" })), "trust:observe: --value must be in [-1, 1], got 1.5"],
      [rejects(hre.run("trust:observe", { ...obs, value: "high" })), "trust:observe: --value must be a number in [-1, 1], got high"],
      [rejects(hre.run("trust:observe", { ...obs, round: 0 })), "trust:observe: --round must be a positive integer, got 0"],
    );
    for (const [p, msg] of cases) {
      const e = await p;
      expect([e.name, e.message]).to.deep.equal(["UsageError", msg]);
    }
    // the oracle's own key without ORACLE_ROLE: refused with the command that grants it
    const e = await serve({ reporters: r.join(",") });
    expect(e.message).to.match(
      /^trust:serve oracle: the oracle account 0x[0-9a-fA-F]{40} does not hold ORACLE_ROLE: the admin grants it with `npx hardhat trust:grant --role oracle --to 0x[0-9a-fA-F]{40}`$/,
    );
  });
});
