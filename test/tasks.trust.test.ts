import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { customError, rejects, useTaskSandbox } from "./helpers/tasks";
import { ContentNotFoundError } from "../offchain/storage/errors";
import { entityId } from "../offchain/trust/ledger";
import { readDeployment } from "../offchain/chain/deployments";

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
    const evidence = path.join(tmp(), "evidence.txt");
    fs.writeFileSync(evidence, "ann delivered the scene on time");
    const r = await hre.run("trust:rate", { from: "ben", to: "ann", score: 0.9, evidence });
    expect(r.trust).to.be.greaterThan(0.5);
    expect(r.evidence).to.match(/^bafkrei/);
    const again = await hre.run("trust:rate", { from: "cat", to: "ann", evidenceCid: r.evidence, factors: "1,1,1,0.5,0.5,0.5" });
    expect(again.rating).to.be.closeTo(0.75, 1e-9);
    const s = await hre.run("trust:score", { of: "ann", by: "ben" });
    expect(s.trust).to.be.closeTo(r.trust, 1e-9);
    for (let k = 0; k < 4; k++) {
      for (const n of ["ann", "ben"]) await hre.run("trust:rate", { from: n, to: "guild", score: 1 });
      await hre.run("chain:advance", { seconds: 86_400 }); // one rating per pair per decay epoch
    }
    const ag = await hre.run("trust:agree", { org: "guild", avatars: "ann,ben", days: 30, termination: "t", penalty: "p" });
    expect(ag.mode).to.equal("direct");
    const rows = await hre.run("trust:show");
    expect(rows.find((x: { name: string }) => x.name === "ann").verified).to.equal(true);
  });

  it("bad input: self-rating, a flood of one pair, a score out of range, an unregistered entity, an evidence CID that does not resolve", async () => {
    expect(await customError(await rejects(hre.run("trust:rate", { from: "ann", to: "ann", score: 0.5 })))).to.deep.equal({
      name: "TrustManager__SelfRating",
      args: [entityId("ann")],
    });
    await hre.run("trust:rate", { from: "dan", to: "cat", score: 0.5 });
    const flood = await customError(await rejects(hre.run("trust:rate", { from: "dan", to: "cat", score: 0.5 })));
    expect([flood.name, flood.args.slice(0, 2)]).to.deep.equal(["TrustManager__RatedThisEpoch", [entityId("dan"), entityId("cat")]]);
    expect((await rejects(hre.run("trust:rate", { from: "ann", to: "ben", score: 1.5 }))).message).to.match(
      /^packFactors: factor 1.5 is not in \[0, 1\]/,
    );
    expect(await customError(await rejects(hre.run("trust:rate", { from: "ann", to: "nobody", score: 0.5 })))).to.deep.equal({
      name: "TrustManager__UnknownEntity",
      args: [entityId("nobody")],
    });
    const err = await rejects(
      hre.run("trust:rate", {
        from: "ann",
        to: "ben",
        score: 0.5,
        evidenceCid: "bafkreigaknpexyvxt76zgkitavbwx6ejgfheup5oybpm77f3pxzrvwpfdi",
      }),
    );
    expect(err).to.be.instanceOf(ContentNotFoundError);
  });

  it("trust:detect flags a bad-mouther from the on-chain history", async () => {
    await hre.run("trust:register", { entity: "eve", type: "avatar", account: "8" });
    await hre.run("chain:advance", { seconds: 86_400 }); // the first tests' pairs may be rated again
    for (const target of ["ann", "cat", "dan"]) {
      for (const rater of ["ben", "cat", "dan", "ann"])
        if (rater !== target) await hre.run("trust:rate", { from: rater, to: target, score: 0.9 });
      await hre.run("trust:rate", { from: "eve", to: target, score: 0.05 });
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
    const young = await hre.run("dispute:open", { claimant: "ann", respondent: "eve", nature: "avatar", options: 2 });
    await hre.run("trust:register", { entity: "ann-alt", type: "avatar", account: ACCOUNTS.ann }); // the claimant's second entity
    for (const v of ["vic", "ann-alt"])
      // too young; an entity of the parties' controller
      expect((await rejects(hre.run("dispute:commit", { id: Number(young.id), voter: v, choice: 0 }))).message).to.equal(
        `dispute:commit: ${v} has no vote in #${young.id} (below the minimum reputation or age at the snapshot, an entity of a party's controller, or flagged)`,
      );
    await hre.run("chain:advance", { blocks: 7_201 });
    const d = await hre.run("dispute:open", { claimant: "ann", respondent: "eve", nature: "avatar", options: 2 });
    for (const [v, choice] of [
      ["vic", 0],
      ["wes", 0],
      ["xia", 1],
    ] as const)
      await hre.run("dispute:commit", { id: Number(d.id), voter: v, choice });
    expect((await hre.run("dispute:show", { id: Number(d.id) })).phase).to.equal("commit");
    await hre.run("chain:advance", { seconds: 3_601 });
    for (const v of ["vic", "wes", "xia"]) await hre.run("dispute:reveal", { id: Number(d.id), voter: v });
    const early = await customError(await rejects(hre.run("dispute:resolve", { id: Number(d.id) })));
    const dr = await hre.ethers.getContractAt("DisputeResolution", readDeployment("hardhat").contracts.DisputeResolution.address);
    expect(early).to.deep.equal({ name: "DisputeResolution__TooEarly", args: [BigInt(d.id), (await dr.dispute(d.id)).revealDeadline] });
    await hre.run("chain:advance", { seconds: 3_601 });
    // decided 1.0 to 0.5 for the claim: eve's controller (account 8) may appeal for an hour
    expect((await hre.run("dispute:show", { id: Number(d.id) })).phase).to.equal("appeal");
    const inWindow = await customError(await rejects(hre.run("dispute:resolve", { id: Number(d.id) })));
    expect(inWindow).to.deep.equal({
      name: "DisputeResolution__TooEarly",
      args: [BigInt(d.id), (await dr.dispute(d.id)).revealDeadline + (await dr.params()).appealPeriod],
    });
    const none = await rejects(hre.run("dispute:appeal", { id: 99 }));
    expect([none.name, none.message]).to.deep.equal(["UsageError", "dispute:appeal: --id 99: no such dispute"]);
    const ap = await hre.run("dispute:appeal", { id: Number(d.id) });
    expect([ap.round, ap.fee, ap.appellant]).to.deep.equal([1, 10n ** 16n, (await hre.ethers.getSigners())[8].address]);
    const twice = await rejects(hre.run("dispute:appeal", { id: Number(d.id) }));
    expect([twice.name, twice.message]).to.deep.equal([
      "RefusedError",
      `dispute:appeal: #${d.id} cannot be appealed now: it is in its commit phase (appeals: after the reveal deadline, for 3600 s, not a void round)`,
    ]);
    // round 1 needs 2.0 of revealed weight: the same three voters (1.5) vote again, fresh salts per round
    for (const [v, choice] of [
      ["vic", 1],
      ["wes", 0],
      ["xia", 1],
    ] as const)
      await hre.run("dispute:commit", { id: Number(d.id), voter: v, choice });
    await hre.run("chain:advance", { seconds: 3_601 });
    for (const v of ["vic", "wes", "xia"]) await hre.run("dispute:reveal", { id: Number(d.id), voter: v });
    await hre.run("chain:advance", { seconds: 3_601 });
    // below round 1's quorum: round 0's verdict stands, and its voters are the ones settled
    const r = await hre.run("dispute:resolve", { id: Number(d.id) });
    expect([r.outcome, r.round]).to.deep.equal([0, 0]);
    expect((await hre.run("dispute:show", { id: Number(d.id) })).phase).to.equal("resolved");
    for (const v of ["vic", "wes", "xia"]) expect((await dr.voteIn(d.id, 0, entityId(v))).settled).to.equal(true);
    const late = await rejects(hre.run("dispute:appeal", { id: Number(d.id) }));
    expect(late.message).to.equal(`dispute:appeal: #${d.id} cannot be appealed now: it is resolved`);
    const dup = await rejects(hre.run("dispute:commit", { id: Number(d.id), voter: "vic", choice: 1 }));
    expect(dup.name).to.equal("KeystoreExistsError");
  });
});
