import { expect } from "chai";
import fs from "fs";
import path from "path";
import { JsonRpcProvider } from "ethers";
import { startNode, RunningNode } from "../helpers/node";
import { skipUnderCoverage } from "../helpers/coverage";
import type { Deployment } from "../../offchain/chain/deployments";

describe("e2e: hardhat node over JSON-RPC", function () {
  // Each step spawns a Hardhat process (ts-node start-up included): minutes on a loaded 2-core machine.
  this.timeout(600_000);
  let node: RunningNode;

  before(async function () {
    // The child processes (hardhat node, deploy, tasks, `hardhat run`) load the artifacts folder,
    // which holds instrumented bytecode during coverage (too large for a plain node), and
    // `hardhat run` recompiles it uninstrumented under the running coverage suite.
    skipUnderCoverage(
      this,
      "e2e: spawns `hardhat node` and `hardhat run` child processes, which would load instrumented artifacts and recompile them mid-run",
    );
    node = await startNode();
  });
  after(async () => {
    await node?.stop();
  });

  it("deploy --network localhost records the deployment, and the chain agrees", async () => {
    const r = await node.run(["deploy"]);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect(r.stdout).to.match(/EIP-2537 available/);
    const file = path.join(node.env.METATRUST_DEPLOYMENTS_DIR!, "localhost.json");
    const d = JSON.parse(fs.readFileSync(file, "utf8")) as Deployment;
    expect(d.network).to.equal("localhost");
    expect(d.chainId).to.equal(31337);
    const provider = new JsonRpcProvider(node.url);
    for (const c of Object.values(d.contracts)) expect(await provider.getCode(c.address)).to.not.equal("0x");
    provider.destroy();
  });

  it("rsms tasks work across separate invocations (state in the keystore, chain over JSON-RPC)", async () => {
    const steps: string[][] = [
      ["rsms:setup", "--capacity", "2", "--lambda", "16"],
      ["rsms:rpm:register", "--pool", "1"],
      ["rsms:rpm:register", "--pool", "2"],
      ["rsms:rn:register", "--name", "edge-1", "--pool", "1"],
      ["rsms:rn:register", "--name", "edge-2", "--pool", "1"],
      ["rsms:join", "--rn", "edge-1", "--pool", "1"],
      ["rsms:reauth", "--rn", "edge-1", "--to-pool", "2"],
      ["rsms:status"],
    ];
    const outs: string[] = [];
    for (const s of steps) {
      const r = await node.run(s);
      expect(r.code, `${s.join(" ")}\n${r.stderr}${r.stdout}`).to.equal(0);
      outs.push(r.stdout);
    }
    expect(outs[4]).to.match(/filter epoch 0 published/);
    const pid = /as PID_1 (0x[0-9a-f]{64})/.exec(outs[6])![1];
    const trace = await node.run(["rsms:trace", "--pid", pid]);
    expect(trace.stdout).to.match(/rn "edge-1", real identity "rn:edge-1", pseudonym #1/);
    expect(outs[7]).to.match(/join records on-chain: 2/);
    const replay = await node.run(["rsms:join", "--rn", "edge-1", "--pool", "1"]);
    // a refusal by the protocol: exit 3, one line on stderr, no stack trace
    expect(replay.code, replay.stderr).to.equal(3);
    expect(replay.stderr.trim().split("\n"), replay.stderr).to.have.length(1);
    expect(replay.stderr).to.match(/^rsms:join: buildJoinRequest: edge-1 already joined/);
    // bad input: an RN that was never registered is named, with the command that registers it (exit 2)
    const nobody = await node.run(["rsms:join", "--rn", "nobody", "--pool", "1"]);
    expect(nobody.code, nobody.stderr).to.equal(2);
    expect(nobody.stderr.trim()).to.equal(
      'rsms:join: no resource node "nobody": register it with `npx hardhat rsms:rn:register --name nobody --pool <n>`',
    );
  });

  it("mssa tasks work across separate invocations: register, verify, an eavesdropped registration refused", async () => {
    const reg = await node.run(["mssa:register", "--user", "4", "--place", "PL1", "--info", "mail:alice@example.org,passport:UTO:X1"]);
    expect(reg.code, reg.stderr + reg.stdout).to.equal(0);
    expect(reg.stdout).to.match(/SIMULATED quantum channel/);
    expect(reg.stdout).to.match(/has access to PL1/);
    const ver = await node.run(["mssa:verify", "--user", "4", "--place", "PL1"]);
    expect(ver.code, ver.stderr + ver.stdout).to.equal(0);
    expect(ver.stdout).to.match(
      /verified at PL1 by \S+: approved block 0 \(2 approvals\), commitment opened, challenge signed for this verifier/,
    );
    const eve = await node.run(["mssa:register", "--user", "5", "--place", "PL1", "--eavesdrop", "1"]);
    // the whole output in the message: a refusal for any other reason must say what it was
    expect(eve.code, eve.stderr + eve.stdout).to.not.equal(0);
    // refused by the decoys (their error rate above the threshold), or, when the eavesdropper's errors on
    // the 64 decoys happen to fall within it (about 0.5% of runs), by the key confirmation (the data altered)
    expect(eve.stderr + eve.stdout, eve.stderr + eve.stdout).to.match(
      /decoy error rate .* (above the threshold|within the threshold .* but the key confirmation failed)/,
    );
    const none = await node.run(["mssa:verify", "--user", "5", "--place", "PL1"]);
    expect(none.code).to.not.equal(0);
    expect(none.stderr + none.stdout).to.match(/has no access to PL1/);
  });

  it("the demo runs against the node and exits 0", async () => {
    const r = await node.run(["run", "scripts/demo.ts"]);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect(r.stdout).to.match(/\d+ passed, 0 failed/);
    expect(r.stdout).to.match(/MSRP traces PID_1 to its real identity/);
    expect(r.stdout).to.match(/demo on network "localhost"/);
    expect(r.stdout).to.match(/elect: top m by Borda score/);
  });
});
