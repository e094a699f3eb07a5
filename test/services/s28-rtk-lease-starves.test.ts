/**
 * s28-rtk (red team) F3 (M): the folder lock's lease (FolderLock.lease, tasks/lib/record-hold.ts
 * HOLD_LEASE_MS = 250 ms) strands every other process for as long as one process runs the same
 * command with gaps shorter than the lease: each run takes the lease over with no write, so the
 * lock file never leaves the folder. A script that joins RNs one after the other with 100 ms of
 * other work between them (the use the lease was made for, issue 20) keeps `rsms:serve msrp`
 * from starting, and every other command of the folder (another shell's rsms:rn:register,
 * group:*), until the script pauses; they wait TASK_HOLD_WAIT_MS (2 minutes) and refuse. Before
 * the lease, the lock left the folder for the whole gap and a waiter's 200 ms poll took it there.
 * Fixed (s28): a process that waits for a command's lock leaves its pid in `service.lock.want`
 * (offchain/services/folder-lock.ts WANT_FILE), and the holder's next command lets it go first: its
 * lease is released (once its keystore commits are in place) and the command waits for the waiter.
 * Bites: without the holder's check of the want file the waiter is refused after its whole wait.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { withServiceFolder } from "../../tasks/lib/record-hold";

const ROOT = path.resolve(__dirname, "../..");

describe("s28-rtk: the lease and a waiter in another process", function () {
  this.timeout(60_000);

  it("F3: a service starting in another process gets the folder between two runs of the same command 100 ms apart", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-rtk-lease-"));
    const refusal = () => "refused: a service";
    // this process: a script that runs rsms:join again and again, 100 ms of other work between two runs
    let stop = false;
    let runs = 0;
    const script = (async () => {
      while (!stop) {
        await withServiceFolder("rsms:join", dir, refusal, async () => void runs++, { onWait: () => undefined, lease: true });
        await new Promise((go) => setTimeout(go, 100));
      }
    })();
    await new Promise((go) => setTimeout(go, 150));
    // another process: a service's start (FolderHold.start's acquireFolder), which waits for a command's hold (3 s here, 2 minutes in use)
    const code = `const f = require("./offchain/services/folder-lock"); f.acquireFolder(process.argv[1], "msrp", { waitMs: 3000, onWait: () => undefined }).then((l) => { console.log("got"); l.release(); }, (e) => console.log("refused: " + e.message));`;
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", code, dir], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (b) => (out += String(b)));
    await new Promise((go) => child.on("exit", go));
    stop = true;
    await script;
    expect(runs, "the script ran meanwhile").to.be.greaterThan(3);
    expect(out.trim(), "the service waited out its whole wait while the script held the folder between its runs").to.equal("got");
  });
});
