import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { startNode, RunningNode } from "../helpers/node";
import { skipUnderCoverage } from "../helpers/coverage";
import { readmeBudgetMs, runReadmeScript } from "../helpers/readme-run";
import { readmeBlocks, readmeScript } from "../../scripts/lib/readme";

const ROOT = path.resolve(__dirname, "..", "..");
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

describe("e2e: the README runs as written", function () {
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

/**
 * Whether a process still runs. A killed process whose parent died is re-parented to PID 1; where
 * PID 1 does not reap (a container started without an init, as CI's is) it stays a zombie, and
 * `kill(pid, 0)` still succeeds on a zombie. So /proc's state decides when there is a /proc.
 */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2)[0]; // "pid (comm) S ..."; comm may hold ")"
    return state !== "Z" && state !== "X";
  } catch {
    /* no /proc, or no such process: ask the kernel */
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("e2e: the README run's budget (test/helpers/readme-run.ts)", () => {
  it("a run past its budget is stopped with every command it started, and the output names the block", async function () {
    this.timeout(30_000);
    const pidFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-budget-")), "pid");
    const script = `echo "==== README line 7" >&2\nsleep 60 & echo $! > ${pidFile}\nwait\n`;
    const r = await runReadmeScript(script, process.env, 1500);
    expect(r.code).to.equal(null);
    expect(r.out).to.match(/README test: stopped after 2 s \(README_TEST_MINUTES\) in README line 7\n$/);
    const sleeper = Number(fs.readFileSync(pidFile, "utf8"));
    await new Promise((ok) => setTimeout(ok, 200));
    expect(running(sleeper), "the command the script started is gone too").to.equal(false);
  });

  it("README_TEST_MINUTES sets the budget; 40 minutes without it", () => {
    expect(readmeBudgetMs({})).to.equal(40 * 60_000);
    expect(readmeBudgetMs({ README_TEST_MINUTES: "90" })).to.equal(90 * 60_000);
    expect(() => readmeBudgetMs({ README_TEST_MINUTES: "soon" })).to.throw(/README_TEST_MINUTES must be a positive number/);
  });
});
