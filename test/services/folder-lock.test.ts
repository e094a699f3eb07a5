/**
 * folder-lock.ts (s17-redA F20): one process per service data folder. A live holder refuses a start
 * in one line naming the folder and the pid, and leaves its lock as it was; a dead holder's lock is
 * taken over with a one-line notice; release removes only the lock this holder placed. The pids are
 * real processes: a child that is still running (live) and one that has exited (dead).
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { FolderHold, FolderLockedError, LOCK_FILE, acquireFolder, liveHolder, lockFolder } from "../../offchain/services/folder-lock";

const dirOf = () => fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-folder-lock-"));
const lockText = (pid: number) => JSON.stringify({ pid, started: "2026-01-01T00:00:00.000Z", service: "msrp" });

async function exitedPid(): Promise<number> {
  const c = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => c.on("exit", resolve));
  return c.pid!;
}

describe("folder-lock: one process per service data folder (s17-redA F20)", function () {
  this.timeout(30_000);
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill();
    child = undefined;
  });

  it("a live holder (another process) refuses the start in one line naming the folder and its pid; its lock is left as it was", () => {
    const dir = dirOf();
    child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    fs.writeFileSync(path.join(dir, LOCK_FILE), lockText(child.pid!));
    const notices: string[] = [];
    let err: unknown;
    try {
      lockFolder(dir, "msrp", (l) => notices.push(l));
    } catch (e) {
      err = e;
    }
    expect(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8")).to.equal(lockText(child.pid!));
    expect(err).to.be.instanceOf(FolderLockedError);
    const msg = (err as Error).message;
    expect(msg).to.not.include("\n");
    expect(msg).to.include(dir).and.include(`pid ${child.pid}`);
    expect(notices).to.deep.equal([]);
    expect(liveHolder(dir)?.pid).to.equal(child.pid);
  });

  it("a lock whose pid is dead is taken over with a one-line notice, and released on close", async () => {
    const dir = dirOf();
    const dead = await exitedPid();
    fs.writeFileSync(path.join(dir, LOCK_FILE), lockText(dead));
    expect(liveHolder(dir)).to.equal(undefined);
    const notices: string[] = [];
    const lock = lockFolder(dir, "msrp", (l) => notices.push(l));
    expect(JSON.parse(fs.readFileSync(lock.file, "utf8")).pid).to.equal(process.pid);
    expect(notices).to.have.length(1);
    expect(notices[0]).to.not.include("\n");
    expect(notices[0]).to.include(`pid ${dead}`).and.include("stale");
    expect(fs.readdirSync(dir)).to.deep.equal([LOCK_FILE]); // no temporary or takeover file left
    lock.release();
    expect(fs.existsSync(lock.file)).to.equal(false);
  });

  it("the same folder twice in one process: the second refused until the first is released", () => {
    const dir = dirOf();
    const first = lockFolder(dir, "idp");
    expect(() => lockFolder(dir, "idp")).to.throw(FolderLockedError, `pid ${process.pid}`);
    first.release();
    const second = lockFolder(dir, "idp");
    second.release();
    expect(fs.readdirSync(dir)).to.deep.equal([]);
  });

  it("release leaves a lock another process placed since (it removes only its own)", () => {
    const dir = dirOf();
    const lock = lockFolder(dir, "oracle");
    child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    fs.writeFileSync(lock.file, lockText(child.pid!)); // (an operator removed ours and another started)
    lock.release();
    expect(fs.readFileSync(lock.file, "utf8")).to.equal(lockText(child.pid!));
  });

  it("FolderHold (every service's start/stop): a failed start releases the lock at once; stop releases it even when the service's stop throws", async () => {
    const dir = dirOf();
    const hold = new FolderHold("msrp");
    const failed = await hold.start(dir, async () => Promise.reject(new Error("listen EADDRINUSE"))).catch((e: Error) => e);
    expect((failed as Error).message).to.equal("listen EADDRINUSE");
    expect(fs.existsSync(path.join(dir, LOCK_FILE)), "the lock of a start that failed").to.equal(false);
    expect(await hold.start(dir, async () => "up")).to.equal("up");
    expect(() => lockFolder(dir, "msrp"), "a second start while held").to.throw(FolderLockedError);
    const stopped = await hold.stop(async () => Promise.reject(new Error("close failed"))).catch((e: Error) => e);
    expect((stopped as Error).message).to.equal("close failed");
    expect(fs.existsSync(path.join(dir, LOCK_FILE)), "the lock after stop").to.equal(false);
  });

  it("a command's hold (s22-fxidp): a start waits for it (one notice naming it) and takes the folder once its holder is gone; a service's lock refuses a command at once", async () => {
    const dir = dirOf();
    child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    const held = JSON.stringify({ pid: child.pid, started: "2026-01-01T00:00:00.000Z", service: "idp:issue", task: true });
    fs.writeFileSync(path.join(dir, LOCK_FILE), held);
    const waits: string[] = [];
    const notices: string[] = [];
    let waited!: () => void;
    const told = new Promise<void>((go) => (waited = go));
    const hold = new FolderHold("idp");
    const origError = console.error;
    console.error = (l: string) => void notices.push(l);
    let started: Promise<string>;
    try {
      started = acquireFolder(dir, "idp", { onWait: (l) => (waits.push(l), waited()), notice: (l) => notices.push(l), pollMs: 20 }).then(
        (l) => {
          l.release();
          return hold.start(dir, async () => "up");
        },
      );
      await told;
      expect(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8"), "the command's lock while it lives").to.equal(held);
      const pid = child.pid;
      await new Promise((resolve) => (child!.on("exit", resolve), child!.kill("SIGKILL")));
      child = undefined;
      expect(await started).to.equal("up");
      expect(waits).to.have.length(1);
      expect(waits[0]).to.include(`idp:issue (pid ${pid}`).and.not.include("\n");
      expect(notices.some((l) => l.includes("took over the stale lock") && l.includes(`pid ${pid}`))).to.equal(true);
    } finally {
      console.error = origError;
    }
    // the service holds it now: a command is refused at once, naming the service's lock (no wait)
    const waitedForService: string[] = [];
    const e = await acquireFolder(dir, "idp:issue", { task: true, waitMs: 60_000, onWait: (l) => waitedForService.push(l) }).then(
      () => undefined,
      (x: FolderLockedError) => x,
    );
    expect(e).to.be.instanceOf(FolderLockedError);
    expect(e!.holder).to.include({ pid: process.pid, service: "idp" });
    expect(waitedForService, "a service's lock is not waited for").to.deep.equal([]);
    await hold.stop(async () => undefined);
  });
});
