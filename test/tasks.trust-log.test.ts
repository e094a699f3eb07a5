/**
 * Guard for red team finding E5 (session 13, h13-red; docs/specs/trust.md §8.5): `trust:rate`
 * drops the pair's spent records before it builds a set and after its rating is mined, deriving
 * which are spent from the chain (the pair's latest rating time). A process that dies between the
 * mined rating and the log's clearing strands nothing: the next run drops them, a retry sends
 * nothing, and later interactions (even under other terms) are rated.
 */
import { expect } from "chai";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "./helpers/tasks";
import { InteractionLog } from "../offchain/trust/rater";
import { entityId } from "../offchain/trust/ledger";
import { readDeployment } from "../offchain/chain/deployments";

const ACCOUNTS = { eve: "8", fay: "9" } as const;

describe("tasks: trust:rate's interaction log is cleared from chain state (a crash strands nothing)", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-trust-log-");

  it("a rating whose process died before the log was cleared: the next run drops the spent records, a retry sends nothing", async () => {
    for (const [n, account] of Object.entries(ACCOUNTS))
      await hre.run("trust:register", { entity: n, type: "avatar", verified: true, account });
    await hre.run("trust:interact", { from: "eve", to: "fay", outcome: "success", latency: 100, bound: 200 });
    await hre.run("trust:interact", { from: "eve", to: "fay", outcome: "failure", latency: 900 });
    // the process dies between the mined rating and the log's clearing (simulated: the prune after
    // the rating throws; the one before it runs)
    const prune = InteractionLog.prototype.prune;
    let calls = 0;
    InteractionLog.prototype.prune = function (this: InteractionLog, ...args: Parameters<typeof prune>) {
      if (++calls === 2) throw new Error("simulated crash after the rating was mined");
      return prune.apply(this, args);
    };
    try {
      await hre.run("trust:rate", { from: "eve", to: "fay" }).then(
        () => expect.fail("the simulated crash did not happen"),
        (e: Error) => expect(e.message).to.match(/simulated crash/),
      );
    } finally {
      InteractionLog.prototype.prune = prune;
    }
    expect(calls).to.equal(2);
    expect((await hre.run("trust:verify-rating", { from: "eve", to: "fay" })).verified).to.equal(true);
    // a retry has no second effect: the spent records are dropped, nothing is sent
    expect((await rejects(hre.run("trust:rate", { from: "eve", to: "fay" }))).message).to.match(
      /^trust:rate: no interactions of eve with fay logged since its last rating/,
    );
    const tm = await hre.ethers.getContractAt("TrustManager", readDeployment(hre.network.name).contracts.TrustManager.address);
    expect((await tm.pairOf(entityId("eve"), entityId("fay"))).ratings).to.equal(1n);
    // a day later eve uses fay's service again, under other terms, and rates it from that record
    await hre.run("chain:advance", { seconds: 86_400 });
    await hre.run("trust:interact", { from: "eve", to: "fay", outcome: "success", latency: 120, bound: 300 });
    const r = await hre.run("trust:rate", { from: "eve", to: "fay" });
    expect(r.verifiable).to.equal(true);
    expect((await hre.run("trust:verify-rating", { from: "eve", to: "fay" })).verified).to.equal(true);
    expect((await tm.pairOf(entityId("eve"), entityId("fay"))).ratings).to.equal(2n);
  });

  it("trust:rate --records: a malformed file is refused in one line naming the flag, never echoing its text; nothing is sent", async () => {
    const fs = await import("fs");
    const os = await import("os");
    const path = await import("path");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-records-"));
    const evil = "x\n\u001b[32mverified\u001b[0m";
    const cases: [string, RegExp][] = [
      [`{ "agreement": ${evil}`, /^trust:rate: --records is not a readable JSON file$/],
      [JSON.stringify({ agreement: { latencyBoundMs: 200, terms: [] }, records: evil }), /^trust:rate: --records must hold/],
      [
        JSON.stringify({ agreement: { latencyBoundMs: evil, terms: [] }, records: [{ seq: 0 }] }),
        /^checkEvidence: agreement latencyBoundMs must be a positive number, got "x\\u000a\\u001b\[32mverified\\u001b\[0m"$/,
      ],
    ];
    for (const [k, [text, msg]] of cases.entries()) {
      const file = path.join(dir, `r${k}.json`);
      fs.writeFileSync(file, text);
      const e = await rejects(hre.run("trust:rate", { from: "eve", to: "fay", records: file }));
      expect(e.message).to.match(msg);
      expect(e.message.includes("\n") || e.message.includes("\u001b"), e.message).to.equal(false);
    }
    const tm = await hre.ethers.getContractAt("TrustManager", readDeployment(hre.network.name).contracts.TrustManager.address);
    expect((await tm.pairOf(entityId("eve"), entityId("fay"))).ratings).to.equal(2n); // nothing sent
  });

  it("more pending records than a set holds: trust:rate rates the newest MAX_RECORDS, the older are spent with them", async () => {
    const { MAX_RECORDS } = await import("../offchain/trust/evidence");
    for (const [n, account] of Object.entries({ gus: "10", hal: "11" }))
      await hre.run("trust:register", { entity: n, type: "avatar", verified: true, account });
    await hre.run("trust:interact", { from: "gus", to: "hal", outcome: "failure", latency: 100, bound: 200 });
    for (let k = 0; k < MAX_RECORDS; k++) await hre.run("trust:interact", { from: "gus", to: "hal", outcome: "success", latency: 100 });
    const r = await hre.run("trust:rate", { from: "gus", to: "hal" });
    // the oldest record (the failure) is left out: performance 1
    expect(r.factors[0]).to.equal(1);
    const v = await hre.run("trust:verify-rating", { from: "gus", to: "hal" });
    expect(v.verified).to.equal(true);
    expect((await rejects(hre.run("trust:rate", { from: "gus", to: "hal" }))).message).to.match(
      /^trust:rate: no interactions of gus with hal/,
    );
  });
});
