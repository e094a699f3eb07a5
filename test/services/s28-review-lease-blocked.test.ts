/**
 * s28-review F1 (finding, regression since 5e926f70): a command's folder lock is now released by a
 * timer (FolderLock.lease, HOLD_LEASE_MS) and only after `settled()` resolves, both on this
 * process's event loop. A process whose command has returned and which then blocks its event loop
 * (a script or test that runs a command in-process, then `spawnSync`/`execFileSync`s a CLI or a
 * service on the same folder) keeps the lock for as long as it is blocked: the other process waits
 * out its whole wait and is refused. At 5e926f70 withServiceFolder released the lock synchronously
 * at the end of the run, and the child took it at once.
 *
 * Fixed (s28): a command that asks for no lease (every command but rsms:join) writes its commits into place
 * synchronously at the end of its run and releases the lock at once (tasks/lib/record-hold.ts); the limit stays
 * for rsms:join's lease (a process that blocks right after a join keeps the folder until it unblocks).
 * Bites: with the lock leased at the end of every command, the child is refused.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { withServiceFolder } from "../../tasks/lib/record-hold";

const ROOT = path.resolve(__dirname, "../..");

describe("s28-review F1: a command's lease outlives its run while this process's event loop is blocked", function () {
  this.timeout(60_000);

  it("a child process started synchronously after an in-process command takes the folder", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-review-"));
    await withServiceFolder(
      "rsms:rn:join",
      dir,
      (h) => `held by ${h.pid}`,
      async () => undefined,
    );
    // the command has returned; the child waits at most 3 s (a command's wait is longer: this is a bound)
    const code = `require("./offchain/services/folder-lock").acquireFolder(process.argv[1], "rsms:rn:join", { task: true, waitMs: 3000, onWait: () => undefined })
      .then((l) => { l.release(); console.log("took"); }, (e) => { console.log("refused: " + e.message); });`;
    const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", code, dir], { cwd: ROOT, encoding: "utf8" });
    expect(r.stdout.trim(), r.stderr).to.equal("took");
  });
});
