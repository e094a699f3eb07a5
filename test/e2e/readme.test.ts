import { expect } from "chai";
import fs from "fs";
import path from "path";
import { startNode, RunningNode } from "../helpers/node";
import { skipUnderCoverage } from "../helpers/coverage";
import { runReadmeScript } from "../helpers/readme-run";
import { readmeBlocks, readmeScript } from "../../scripts/lib/readme";

const ROOT = path.resolve(__dirname, "..", "..");
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

describe("e2e: the README runs as written", function () {
  // Some sixty CLI invocations, each a Hardhat start-up: minutes.
  this.timeout(3_600_000);
  let node: RunningNode;

  before(async function () {
    skipUnderCoverage(this, "e2e: spawns `hardhat node` and task processes, which would load instrumented artifacts");
    node = await startNode();
  });
  after(async () => {
    await node?.stop();
  });

  it("the extractor finds the walkthroughs and skips the install block", () => {
    const blocks = readmeBlocks(README);
    expect(blocks.length).to.be.greaterThanOrEqual(5);
    expect(blocks.some((b) => /npm ci/.test(b.code))).to.equal(false);
    expect(blocks.some((b) => /^\s*npx hardhat node\b/m.test(b.code))).to.equal(false);
    // placeholders cannot run
    for (const b of blocks) expect(b.code, `README line ${b.line}`).to.not.match(/0x…|<[A-Z]+>|\.\.\.\s*$/m);
  });

  it("every sh block, in order, in one bash with set -euo pipefail, against a fresh hardhat node", async () => {
    const r = await runReadmeScript(readmeScript(README), node.env);
    expect(r.code, r.out.slice(-6000)).to.equal(0);
    expect(r.out).to.match(/README: every block ran/);
  });
});
