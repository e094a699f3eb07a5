import { expect } from "chai";
import { spawn } from "child_process";
import fs from "fs";
import path from "path";

/**
 * offchain/util/parent-watch.ts: a child busy in synchronous code ends within moments of its parent's SIGKILL
 * (the study's workers, `sim:whitewash --jobs`, outlived a parent killed alone: s23). Three processes: this
 * test, a middle parent that forks the child (test/helpers/parent-watch-child.ts) and prints its pid, and
 * the child, which spins forever once ready. Without the watch the child outlives the middle one (the control).
 */
const CHILD = path.join(__dirname, "..", "helpers", "parent-watch-child.ts");
const TS_NODE = require.resolve("ts-node/register/transpile-only");
const MIDDLE = `
  const { fork } = require("child_process");
  const c = fork(${JSON.stringify(CHILD)}, [], { execArgv: ["-r", ${JSON.stringify(TS_NODE)}], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  c.on("message", () => console.log("child " + c.pid));
  setInterval(() => {}, 1000);
`;

/** Whether pid runs: a zombie (dead, not yet reaped by whoever adopted it) does not. */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; Z is a zombie
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return !fs.existsSync("/proc/self/stat"); // no procfs: kill(0) is all there is
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the middle process and its child; resolves with both pids once the child spins. */
function start(watch: boolean): Promise<{ middle: number; child: number }> {
  const m = spawn(process.execPath, ["-e", MIDDLE], {
    env: { ...process.env, PARENT_WATCH: watch ? "1" : "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    m.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const x = /child (\d+)/.exec(out);
      if (x) resolve({ middle: m.pid!, child: Number(x[1]) });
    });
    m.on("exit", (code) => reject(new Error(`the middle process exited (${code}) before its child was ready`)));
  });
}

describe("util/parent-watch: a child ends with its parent, even while busy in synchronous code", function () {
  this.timeout(60_000);

  it("the parent SIGKILLed alone: the busy child is gone within seconds (it polls every 100 ms here)", async () => {
    const { middle, child } = await start(true);
    process.kill(middle, "SIGKILL");
    const t0 = Date.now();
    while (alive(child) && Date.now() - t0 < 10_000) await sleep(50);
    const gone = !alive(child);
    if (!gone) process.kill(child, "SIGKILL");
    expect(gone, `child ${child} still alive 10 s after its parent's death`).to.equal(true);
  });

  it("control: without the watch, the busy child outlives its parent (what the test above would miss)", async () => {
    const { middle, child } = await start(false);
    process.kill(middle, "SIGKILL");
    await sleep(1_500);
    const still = alive(child);
    if (still) process.kill(child, "SIGKILL");
    expect(still).to.equal(true);
  });

  it("refuses a polling period below 10 ms", async () => {
    const { exitWithParent } = await import("../../offchain/util/parent-watch");
    expect(() => exitWithParent(5)).to.throw(RangeError, /everyMs/);
  });
});
