/**
 * One process per service data folder (s17-redA F20). A service loads its record once and writes
 * it whole on every change, so two processes on one folder undo each other's writes (an RN
 * registered through one is lost when the other saves). A service takes this lock on its folder
 * before it recovers or listens and releases it when it stops.
 *
 * The lock is a file `service.lock` in the folder holding the owner's pid, its start time and the
 * service's name, made whole under a temporary name and linked into place (link fails if the lock
 * exists: O_EXCL's guarantee, and nobody ever reads a half-written lock). A lock whose pid is
 * dead is stale: it is taken over, with a one-line notice, under a second O_EXCL file
 * (`service.lock.takeover`) so two processes never both take the same stale lock. A lock whose pid
 * is alive refuses the start with one line naming the folder and the pid.
 *
 * A command that writes the record a service holds (the IdP's: tasks/lib/idp-record.ts) takes the
 * same lock for its run, marked `task`: a start, or another command, waits for it
 * ({@link acquireFolder}), while a service's lock refuses a command at once.
 *
 * Limits: a pid reused by an unrelated process after a crash looks alive (the refusal names the
 * pid and the file to remove); the folder must be on one machine's file system (no NFS).
 */
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";

/** The lock file's name in a service's data folder. */
export const LOCK_FILE = "service.lock";

/** A start refused: another live process serves the folder. */
export class FolderLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
    message: string,
    /** the live lock found (undefined: none could be read) */
    readonly holder?: { pid: number; started: string; service: string; task?: boolean },
  ) {
    super(message);
    this.name = "FolderLockedError";
  }
}

interface LockText {
  pid: number;
  started: string;
  service: string;
  /** a command that holds the folder for one run (from its load to its write), not a service */
  task?: boolean;
}

/** A held lock: release() removes it (only if it is still ours). */
export interface FolderLock {
  readonly file: string;
  release(): void;
  /**
   * Keeps a command's lock (`task`) for `ms` more instead of releasing it (issue 20: taking the lock
   * costs about a quarter of a millisecond, a twentieth of an RSMS join): a command of this process
   * with the same name that takes the folder meanwhile takes this lock over as it stands, with no
   * write; anything else of this process (a service starting, another command) has it released
   * first; it is released when `ms` pass, and at this process's exit. Another process waits for it
   * as for a command's run (silently for the first {@link LEASE_GRACE_MS}: {@link acquireFolder}).
   */
  lease(ms: number): void;
}

/**
 * The locks this process's commands keep past their run ({@link FolderLock.lease}), by folder as the
 * command gave it to {@link lockFolder} (tasks/lib/record-hold.ts gives the canonical path).
 */
const leases = new Map<string, { lock: FolderLock; mine: LockText; timer: NodeJS.Timeout }>();
let releaseAtExit = false;

/** Ends the lease of `key` (the lock is released unless `keep`: the caller takes it over). */
function endLease(key: string, keep = false): void {
  const l = leases.get(key);
  if (!l) return;
  leases.delete(key);
  clearTimeout(l.timer);
  if (!keep) l.lock.release();
}

/**
 * How long another process waits, silently, for a lock held by a command before it gives the
 * one-line notice (ms): longer than the lease tasks/lib/record-hold.ts gives (HOLD_LEASE_MS, 250 ms),
 * so a lease that ends unused is waited for without a notice.
 */
export const LEASE_GRACE_MS = 300;

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}

function readLock(file: string): LockText | undefined {
  try {
    const t = JSON.parse(fs.readFileSync(file, "utf8")) as LockText;
    return typeof t.pid === "number" ? t : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return { pid: -1, started: "?", service: "?" }; // unreadable: treated as stale (never half-written: see above)
  }
}

/** Whether two spellings name one folder (links resolved; a folder that does not exist is not the same as any). */
function sameDir(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return false;
  }
}

/** Links a whole lock text into place; false if a lock is there already. */
function place(file: string, text: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Takes the lock of a service's data folder (made if missing).
 * @param service - the service's name, for the notice and the refusal
 * @param notice - where the one-line notice of a stale lock taken over goes
 * @throws FolderLockedError when a live process holds it (one line: the folder and the pid)
 */
export function lockFolder(
  dir: string,
  service: string,
  notice: (line: string) => void = (l) => console.error(l),
  o: { task?: boolean; staleOwn?: boolean } = {},
): FolderLock {
  if (leases.size) {
    // this process's own lease on the folder: taken over by the same command, else released first
    const key = leases.has(dir) ? dir : [...leases.keys()].find((k) => sameDir(k, dir));
    if (key !== undefined) {
      const l = leases.get(key)!;
      const t = readLock(l.lock.file);
      const same = o.task === true && l.mine.service === service && key === dir;
      if (same && t !== undefined && t.pid === l.mine.pid && t.started === l.mine.started) {
        endLease(key, true);
        return l.lock;
      }
      endLease(key);
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const mine: LockText = { pid: process.pid, started: new Date().toISOString(), service, ...(o.task ? { task: true } : {}) };
  const text = JSON.stringify(mine);
  const held = (): FolderLock => {
    const lock: FolderLock = {
      file,
      release: () => {
        const t = readLock(file);
        if (t && t.pid === mine.pid && t.started === mine.started) fs.rmSync(file, { force: true });
      },
      lease: (ms: number) => {
        endLease(dir);
        if (!o.task || !(ms > 0)) return lock.release();
        const timer = setTimeout(() => endLease(dir), ms);
        timer.unref(); // a lease never keeps the process alive; its exit releases it
        leases.set(dir, { lock, mine, timer });
        if (!releaseAtExit) {
          releaseAtExit = true;
          process.once("exit", () => {
            for (const key of [...leases.keys()]) endLease(key);
          });
        }
      },
    };
    return lock;
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (place(file, text)) return held();
    const other = readLock(file);
    if (other === undefined) continue; // removed meanwhile: try again
    // a command's lock of this very process that the caller knows is not held (its in-process
    // queue, tasks/lib/idp-record.ts): left by a run that lost its release; stale as a dead pid's
    const ownLeft = o.staleOwn === true && other.pid === process.pid && other.task === true;
    if (!ownLeft && alive(other.pid))
      throw new FolderLockedError(
        dir,
        other.pid,
        other.task
          ? `${service}: the data folder ${dir} is held by ${other.service} (pid ${other.pid}, since ${other.started}) for the length of its run: run again when it has finished (or remove ${file} if pid ${other.pid} is not a ${other.service} command)`
          : `${service}: the data folder ${dir} is served by another process (pid ${other.pid}, since ${other.started}): one folder serves one process; stop that one first (or remove ${file} if pid ${other.pid} is not a ${service} service)`,
        other,
      );
    // stale: taken over under the takeover file, and only if it is still the same stale lock
    const takeover = `${file}.takeover`;
    if (!place(takeover, text))
      throw new FolderLockedError(
        dir,
        other.pid,
        `${service}: the data folder ${dir} has a stale lock being taken over by another process (${takeover}; remove it if no service is starting)`,
      );
    try {
      const again = readLock(file);
      if (again && again.pid === other.pid && again.started === other.started) {
        fs.rmSync(file, { force: true });
        if (place(file, text)) {
          notice(
            `${service}: took over the stale lock of ${dir} (${other.task ? `${other.service}, ` : ""}pid ${other.pid}, since ${other.started}, ${ownLeft ? "was left by an earlier run of this process" : "is not running"})`,
          );
          return held();
        }
      }
    } finally {
      fs.rmSync(takeover, { force: true });
    }
  }
  throw new FolderLockedError(
    dir,
    -1,
    `${service}: could not lock the data folder ${dir} (its lock keeps changing: is another service starting?)`,
  );
}

/**
 * The live process (other than this one) whose lock a service folder holds, if any: what a command
 * that would write a running service's record checks before it starts (the service holds that record
 * in memory and would undo the command's write at its next save).
 */
export function liveHolder(dir: string): { pid: number; started: string; service: string; task?: boolean } | undefined {
  const t = readLock(path.join(dir, LOCK_FILE));
  return t && t.pid !== process.pid && alive(t.pid) ? t : undefined;
}

/** How long a start or a command waits for a command that holds the folder for its run (ms). */
export const TASK_HOLD_WAIT_MS = 120_000;

/**
 * {@link lockFolder}, waiting while the live holder is a command holding the folder for its run
 * (a lock marked `task`; the one-line `onWait` once, naming it): a command's hold lasts from its
 * load to its write, so the wait is short; one that outlasts `waitMs` refuses as lockFolder does
 * (naming the command and its pid). A live service's lock refuses at once.
 */
export async function acquireFolder(
  dir: string,
  service: string,
  o: {
    task?: boolean;
    staleOwn?: boolean;
    waitMs?: number;
    pollMs?: number;
    onWait?: (line: string) => void;
    notice?: (line: string) => void;
  } = {},
): Promise<FolderLock> {
  const until = Date.now() + (o.waitMs ?? TASK_HOLD_WAIT_MS);
  let told = false;
  let graced = false;
  for (;;) {
    try {
      return lockFolder(dir, service, o.notice, { task: o.task, staleOwn: o.staleOwn });
    } catch (e) {
      const h = (e as FolderLockedError).holder;
      if (!(e instanceof FolderLockedError) || !h?.task || Date.now() >= until) throw e;
      // a command's lock may be a lease its process keeps for the next command (FolderLock.lease),
      // released within LEASE_GRACE_MS: asked again once before the notice
      if (!graced) {
        graced = true;
        await new Promise((go) => setTimeout(go, LEASE_GRACE_MS));
        continue;
      }
      if (!told)
        (o.onWait ?? ((l: string) => console.error(l)))(
          `${service}: waiting for ${h.service} (pid ${h.pid}, since ${h.started}), which holds ${dir} for its run`,
        );
      told = true;
      await new Promise((go) => setTimeout(go, o.pollMs ?? 200));
    }
  }
}

/**
 * A service's hold on its data folder, the one start/stop shape every service that owns a folder
 * uses (MSRP, RPM, IdP, MSSA authority, oracle, detector): `start` takes the lock, runs the
 * service's own start and releases the lock at once if that fails; `stop` runs the service's own
 * stop and releases the lock whatever happens.
 */
export class FolderHold {
  private lock?: FolderLock;

  /** @param service - the service's name, for the notice and the refusal ({@link lockFolder}) */
  constructor(private readonly service: string) {}

  /**
   * Takes the lock of `dir` (or throws FolderLockedError, having started nothing), then runs `run`.
   * A command holding the folder for its run (tasks/lib/idp-record.ts) is waited for, a live
   * service refuses at once ({@link acquireFolder}).
   */
  async start<T>(dir: string, run: () => Promise<T>): Promise<T> {
    this.lock = await acquireFolder(dir, this.service);
    try {
      return await run();
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /** Runs `run`, then releases the lock (also when `run` throws). */
  async stop(run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } finally {
      this.release();
    }
  }

  private release(): void {
    this.lock?.release();
    this.lock = undefined;
  }
}
