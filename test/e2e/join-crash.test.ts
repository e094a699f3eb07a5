/**
 * A join killed (SIGKILL) at each point of its journaled intent (issue 20, rsms-join.md change 17),
 * against `hardhat node` over JSON-RPC: the next rsms command (here the next crashing join) resolves
 * what the crash left from the chain before it reads a record, and every RN ends with exactly one join on-chain and the MSRP's and its own records
 * agreeing with it.
 * - before-send: the intent is durable, the transaction never reached the node: dropped, nothing
 *   changes, and the RN's next join is its only one;
 * - after-send (mined, receipt not read), after-receipt (before the records are applied), and
 *   applied-one (one record renamed into place, the other not): applied;
 * - intent-lost (mined, the process died before the intent was written): nothing in the keystore,
 *   and the RN's next join is answered as a retry, which commits the MSRP's side as well.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import { startNode, RunningNode } from "../helpers/node";
import { skipUnderCoverage } from "../helpers/coverage";

describe("e2e: a join killed at each point of its intent, recovered by the next command", function () {
  this.timeout(900_000);
  let node: RunningNode;
  let keystore: string;

  before(async function () {
    skipUnderCoverage(this, "e2e: spawns `hardhat node` and task processes, which would load instrumented artifacts");
    node = await startNode();
    keystore = path.join(node.env.METATRUST_DATA_DIR!, "localhost", "keystore");
  });
  after(async () => {
    await node?.stop();
  });

  const ok = async (args: string[], env?: NodeJS.ProcessEnv) => {
    const r = await node.run(args, env ? { env } : {});
    expect(r.code, `${args.join(" ")}\n${r.stderr}${r.stdout}`).to.equal(0);
    return r;
  };
  const intents = () =>
    (fs.existsSync(path.join(keystore, ".journal")) ? fs.readdirSync(path.join(keystore, ".journal")) : []).filter((f) =>
      f.endsWith(".intent"),
    );
  const rnJoined = (name: string) =>
    JSON.parse(fs.readFileSync(path.join(keystore, `rsms-rn-${name}.json`), "utf8")).data.joined as boolean;
  /** The MSRP's view (rsms:status, which resolves intents first): join records on-chain, and who it holds as joined. */
  const status = async () => {
    const r = await ok(["rsms:status"]);
    const onChain = Number(/join records on-chain: (\d+)/.exec(r.stdout)![1]);
    const joined = [...r.stdout.matchAll(/^ {2}(c\d)\s.* joined PID/gm)].map((m) => m[1]);
    return { onChain, joined, stderr: r.stderr };
  };

  it("every crash point ends with one join on-chain per RN and the keystore agreeing with the chain", async () => {
    await ok(["deploy"]);
    await ok(["rsms:setup", "--capacity", "8", "--lambda", "16"]);
    await ok(["rsms:rpm:register", "--pool", "1"]);
    for (const n of ["c1", "c2", "c3", "c4", "c5", "c6"]) await ok(["rsms:rn:register", "--name", n, "--pool", "1"]);
    await ok(["rsms:filter:publish", "--pool", "1"]);
    // a join that completes: the reference
    await ok(["rsms:join", "--rn", "c6", "--pool", "1"]);

    /** Runs a join killed at a point; returns its stderr (where the resolution of the previous crash's intent is told). */
    const crash = async (rn: string, env: NodeJS.ProcessEnv) => {
      const r = await node.run(["rsms:join", "--rn", rn, "--pool", "1"], { env });
      expect(r.code, `${rn}: ${r.stderr}${r.stdout}`).to.not.equal(0);
      expect(r.stdout).to.not.match(/joined pool/);
      return r.stderr;
    };
    await crash("c1", { METATRUST_JOIN_CRASH: "before-send" });
    expect(intents()).to.have.length(1);
    expect(rnJoined("c1")).to.equal(false);
    // each next command resolves the intent the crash before it left, from the chain, first:
    // c1's transaction never reached the node (dropped)
    expect(await crash("c2", { METATRUST_JOIN_CRASH: "after-send" })).to.match(/1 dropped \(its transaction was never mined\)/);
    expect(intents()).to.have.length(1);
    expect([rnJoined("c1"), rnJoined("c2")]).to.deep.equal([false, false]);
    // c2's was mined, its receipt never read (applied)
    expect(await crash("c3", { METATRUST_JOIN_CRASH: "after-receipt" })).to.match(/1 committed \(its transaction is on-chain\)$/m);
    expect(intents()).to.have.length(1);
    expect([rnJoined("c2"), rnJoined("c3")]).to.deep.equal([true, false]);
    // c3's was mined and its receipt read, its records not applied (applied); c4 is killed during
    // its records' background apply, one renamed into place and the other not (a script that waits
    // for the apply, where the CLI would apply them at its exit)
    // (`hardhat run` answers 0 for a script its child process ran and that was killed: the crash
    // shows in what it left, an intent and the RN's record in place, and no settled line)
    const c4 = await node.run(["run", "test/helpers/join-settle.ts"], {
      env: { METATRUST_KEYSTORE_CRASH: "applied-one", JOIN_SETTLE_RN: "c4" },
    });
    expect(c4.stderr).to.match(/1 committed/);
    expect(c4.stdout).to.not.match(/settled/);
    expect(intents()).to.have.length(1);
    expect([rnJoined("c3"), rnJoined("c4")]).to.deep.equal([true, true]);
    // c4's (applied); c5's transaction is mined and the process dies before its intent is written
    expect(await crash("c5", { METATRUST_JOIN_CRASH: "intent-lost" })).to.match(/1 committed/);
    expect(intents()).to.deep.equal([]);

    const s = await status();
    expect(s.onChain).to.equal(5); // c2, c3, c4, c5 and c6
    expect(s.joined.sort()).to.deep.equal(["c2", "c3", "c4", "c6"]);
    expect(["c1", "c2", "c3", "c4", "c5"].map(rnJoined)).to.deep.equal([false, true, true, true, false]);

    // c1 joins now, once; c5's join is on-chain: its retry writes nothing and commits both sides
    const j1 = await ok(["rsms:join", "--rn", "c1", "--pool", "1"]);
    expect(j1.stdout).to.match(/c1 joined pool 1 .*recordJoin/);
    const j5 = await ok(["rsms:join", "--rn", "c5", "--pool", "1"]);
    expect(j5.stdout).to.match(/already on-chain \(a retry: nothing written\)/);
    const end = await status();
    expect(end.onChain).to.equal(6);
    expect(end.joined.sort()).to.deep.equal(["c1", "c2", "c3", "c4", "c5", "c6"]);
    expect(["c1", "c2", "c3", "c4", "c5"].map(rnJoined)).to.deep.equal([true, true, true, true, true]);
    // an applied join is not sent again
    const again = await node.run(["rsms:join", "--rn", "c2", "--pool", "1"]);
    expect(again.code, again.stderr).to.equal(3);
    expect(again.stderr).to.match(/already joined/);
  });
});
