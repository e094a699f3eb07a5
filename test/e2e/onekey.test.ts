import { expect } from "chai";
import fs from "fs";
import path from "path";
import { startNode, RunningNode } from "../helpers/node";
import { skipUnderCoverage } from "../helpers/coverage";
import { readmeBudgetMs, runReadmeScript } from "../helpers/readme-run";
import { oneKeyScript } from "../../scripts/lib/readme";

const ROOT = path.resolve(__dirname, "..", "..");
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
/** The local node's account 0 (Hardhat's well-known development key): the one funded key. */
const FUNDED_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

describe("e2e: the README's walkthroughs with one funded key (the testnet path)", function () {
  // Some sixty CLI invocations, each a Hardhat start-up: minutes. The run stops itself at its budget
  // (test/helpers/readme-run.ts readmeBudgetMs: 40 min, README_TEST_MINUTES) and names the block.
  this.timeout(readmeBudgetMs() + 120_000);
  let node: RunningNode;

  before(async function () {
    skipUnderCoverage(this, "e2e: spawns `hardhat node` and task processes, which would load instrumented artifacts");
    node = await startNode();
  });
  after(async () => {
    await node?.stop();
  });

  it("the script runs every walkthrough command on --network testnet, chain:advance on the same node", () => {
    const script = oneKeyScript(README);
    const commands = script.split("\n").filter((l) => /\bnpx hardhat\b/.test(l));
    expect(commands.length).to.be.greaterThan(40);
    // every command that talks to a chain does so on testnet (the rest, like mssa:channel, need none)
    for (const c of commands.filter((l) => /--network/.test(l))) expect(c, c).to.match(/chain:advance|--network testnet/);
    expect(commands.filter((l) => /--network testnet/.test(l)).length).to.be.greaterThan(40);
    expect(script).to.not.match(/scripts\/demo\.ts/);
  });

  it("every walkthrough passes with no signer index: deploy-time roles and users get keys of their own", async () => {
    const env: NodeJS.ProcessEnv = { ...node.env, RPC_URL: node.url, PRIVATE_KEY: FUNDED_KEY };
    const r = await runReadmeScript(oneKeyScript(README), env);
    expect(r.code, r.out.slice(-6000)).to.equal(0);
    expect(r.out).to.match(/README: every block ran/);
    // the deploy-time roles are keys in the testnet keystore, not the node's accounts
    const keys = fs.readdirSync(path.join(env.METATRUST_DATA_DIR!, "testnet", "keystore"));
    for (const role of [
      "msrp",
      "idp",
      "detector",
      "registrar",
      "arbiter",
      "oracle",
      "authority_1",
      "authority_2",
      "authority_3",
      "rpm_1",
      "ann",
      "alice",
    ])
      expect(keys, role).to.include(`account-${role}.json`);
  });
});
