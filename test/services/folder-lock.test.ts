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
import {
  FolderHold,
  FolderLockedError,
  LEASE_GRACE_MS,
  LOCK_FILE,
  WANT_FILE,
  acquireFolder,
  liveHolder,
  lockFolder,
} from "../../offchain/services/folder-lock";

const ROOT = path.resolve(__dirname, "../..");

/** A child process that takes a command's lock of `dir`, leases it for `ms`, says "leased", then lives on (or exits: `exit`). */
async function leaser(dir: string, ms: number, exit = false): Promise<ChildProcess> {
  const code = `const f = require("./offchain/services/folder-lock"); const l = f.lockFolder(process.argv[1], "rsms:join", undefined, { task: true }); l.lease(Number(process.argv[2])); console.log("leased"); ${exit ? "process.exit(0);" : "setInterval(() => {}, 60000);"}`;
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", code, dir, String(ms)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (b) => (err += String(b)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (b) => String(b).includes("leased") && resolve());
    child.on("exit", (c) => (exit && c === 0 ? resolve() : reject(new Error(`the leaser exited (${c}): ${err}`))));
  });
  if (exit && child.exitCode === null) await new Promise((resolve) => child.on("exit", resolve));
  return child;
}

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

  describe("a command's lease (issue 20: FolderLock.lease, tasks/lib/record-hold.ts)", () => {
    const text = (dir: string) => fs.readFileSync(path.join(dir, LOCK_FILE), "utf8");

    it("the same command of this process takes the leased lock over as it stands (no write); it is released when the lease ends", async () => {
      const dir = dirOf();
      const first = lockFolder(dir, "rsms:join", undefined, { task: true });
      const placed = text(dir);
      const ino = fs.statSync(first.file).ino;
      first.lease(60_000);
      await new Promise((go) => setTimeout(go, 5)); // a later start time, were the lock placed anew
      const again = lockFolder(dir, "rsms:join", undefined, { task: true });
      expect(text(dir), "the lock's text").to.equal(placed);
      expect(fs.statSync(again.file).ino, "the lock's file").to.equal(ino);
      again.lease(30);
      expect(fs.existsSync(again.file), "the lock while leased").to.equal(true);
      await new Promise((go) => setTimeout(go, 80));
      expect(fs.existsSync(again.file), "the lock after its lease").to.equal(false);
    });

    it("anything else of this process has the lease released first and takes the folder at once: another command, a service (through another spelling of the folder)", async () => {
      const dir = dirOf();
      lockFolder(dir, "rsms:join", undefined, { task: true }).lease(60_000);
      const waits: string[] = [];
      const other = await acquireFolder(dir, "rsms:rotate", { task: true, staleOwn: true, onWait: (l) => waits.push(l) });
      expect(JSON.parse(text(dir)).service, "the lock's command").to.equal("rsms:rotate");
      other.lease(60_000);
      const link = path.join(os.tmpdir(), `metatrust-folder-lock-link-${process.pid}-${Date.now()}`);
      fs.symlinkSync(dir, link);
      try {
        const hold = new FolderHold("msrp");
        const t0 = Date.now();
        expect(await hold.start(link, async () => "up")).to.equal("up");
        expect(Date.now() - t0, "the service's start (no wait for the lease)").to.be.lessThan(LEASE_GRACE_MS);
        expect(JSON.parse(text(dir)))
          .to.include({ pid: process.pid, service: "msrp" })
          .and.not.have.property("task");
        expect(waits, "no wait for this process's own lease").to.deep.equal([]);
        await hold.stop(async () => undefined);
      } finally {
        fs.rmSync(link, { force: true });
      }
      expect(fs.existsSync(path.join(dir, LOCK_FILE))).to.equal(false);
    });

    it("a lease whose file was removed meanwhile is not taken over: the command places a lock of its own", async () => {
      const dir = dirOf();
      const first = lockFolder(dir, "rsms:join", undefined, { task: true });
      const placed = text(dir);
      first.lease(60_000);
      fs.rmSync(first.file);
      const dead = JSON.stringify({ pid: process.pid, started: "2026-01-01T00:00:00.000Z", service: "rsms:join", task: true });
      fs.writeFileSync(first.file, dead); // not the lease's text: another lock
      await new Promise((go) => setTimeout(go, 5)); // a later start time for the lock placed now
      const again = lockFolder(dir, "rsms:join", () => undefined, { task: true, staleOwn: true });
      expect(text(dir)).to.not.equal(placed).and.not.equal(dead);
      again.release();
    });

    it("another process's lease: a command here waits for it silently (no notice) and takes the folder once it ends", async () => {
      const dir = dirOf();
      child = await leaser(dir, 25);
      const waits: string[] = [];
      const lock = await acquireFolder(dir, "rsms:join", { task: true, onWait: (l) => waits.push(l), pollMs: 20 });
      expect(JSON.parse(text(dir)).pid).to.equal(process.pid);
      expect(waits, "the notice").to.deep.equal([]);
      expect(fs.existsSync(path.join(dir, WANT_FILE)), "the waiter's want file once it holds the folder").to.equal(false);
      lock.release();
    });

    it("a command's hold (tasks/lib/record-hold.ts) is leased: the same command run again meanwhile keeps the lock as it stands; another command gets one of its own", async () => {
      const { withServiceFolder, HOLD_LEASE_MS } = await import("../../tasks/lib/record-hold");
      expect(LEASE_GRACE_MS, "a lease that ends unused is waited for silently").to.be.greaterThan(HOLD_LEASE_MS);
      const dir = dirOf();
      const refusal = () => "refused";
      const during = (task: string) => withServiceFolder(task, dir, refusal, async () => text(dir), { lease: true });
      const first = await during("rsms:join");
      await new Promise((go) => setTimeout(go, 5)); // a later start time, were the lock placed anew
      expect(await during("rsms:join"), "the lock of the next join").to.equal(first);
      expect(text(dir), "the lock after the run").to.equal(first);
      await new Promise((go) => setTimeout(go, 5));
      const other = await during("rsms:rn:register");
      expect(JSON.parse(other).service).to.equal("rsms:rn:register");
      await new Promise((go) => setTimeout(go, HOLD_LEASE_MS + 30));
      expect(fs.existsSync(path.join(dir, LOCK_FILE)), "the lock after the lease").to.equal(false);
    });

    it("the exit of a process releases its lease", async () => {
      const dir = dirOf();
      child = await leaser(dir, 60_000, true);
      expect(fs.existsSync(path.join(dir, LOCK_FILE)), "the lock after the leaser's exit").to.equal(false);
    });
  });
});
