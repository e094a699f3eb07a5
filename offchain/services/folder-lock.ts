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
import { appliedSoFar, flushJournals, pendingApplies } from "../storage/keystore";

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
   * Ends a command's hold (`task`) but keeps the lock for `ms` more (issue 20: taking the lock costs
   * about a tenth of a millisecond of an RSMS join): a command of this process with the same name
   * that takes the folder meanwhile takes this lock over as it stands, with no write; a service or
   * another command of this process takes it over under its own name (the lock file replaced whole,
   * never absent). When `ms` pass, and once this process's keystore commits are in place
   * (offchain/storage/keystore.ts `appliedSoFar`: a commit's files are renamed into place in the
   * background, and another process that took the lock before would load the record without them:
   * s28-rtk F1), the lock is released; at this process's exit too. Another process that waits for
   * it leaves its pid in {@link WANT_FILE}: the next command here then lets it go first (s28-rtk F3).
   */
  lease(ms: number): void;
}

/**
 * The file a process that waits for a command's lock leaves in the folder (its pid, its name): a
 * command of the holding process that would take the folder next (its own lease, or the free lock)
 * lets the waiter go first, so a process that runs commands back to back never keeps another out
 * (s28-rtk F3). Removed by the waiter once it holds the folder or gives up; a dead waiter's is ignored.
 */
export const WANT_FILE = "service.lock.want";

/** A lease: the lock kept after a command's run, and its timer (see FolderLock.lease). */
interface Lease {
  lock: FolderLock;
  mine: LockText;
  timer?: NodeJS.Timeout;
}
/** The locks this process's commands keep past their run, by folder as the command gave it to {@link lockFolder}. */
const leases = new Map<string, Lease>();
let releaseAtExit = false;

/** Releases a lease once this process's keystore commits are in place (unless it was taken over meanwhile). */
function letGo(key: string, l: Lease): void {
  if (l.timer) clearTimeout(l.timer);
  l.timer = undefined;
  void appliedSoFar().then(() => {
    if (leases.get(key) !== l) return; // taken over meanwhile
    if (!commitsInPlace()) return; // kept until the exit (the next process replays the journal then)
    leases.delete(key);
    l.lock.release();
  });
}

/**
 * Whether this process's commits are in place, written now if a background apply is still pending
 * or failed (Keystore's flushJournals); false if that fails too: the lock is then kept, as releasing
 * it would let another process load the record without them (s28-review2 F3), until the exit, after
 * which the next process replays the journal.
 */
function commitsInPlace(): boolean {
  if (!pendingApplies()) return true;
  try {
    flushJournals();
    return true;
  } catch (e) {
    console.error(
      `folder lock: this process's commits could not be written into place (${(e as Error).message.split("\n")[0]}): the folder stays held until it exits`,
    );
    return false;
  }
}

/** Takes a lease over: it is no longer released by its timer. */
function takeLease(key: string): Lease | undefined {
  const l = leases.get(key);
  if (!l) return undefined;
  leases.delete(key);
  if (l.timer) clearTimeout(l.timer);
  return l;
}

/** The live process other than this one that waits for the folder ({@link WANT_FILE}), if any. */
function waiterOf(dir: string): { pid: number; service: string } | undefined {
  let w: { pid?: unknown; service?: unknown };
  try {
    w = JSON.parse(fs.readFileSync(path.join(dir, WANT_FILE), "utf8")) as typeof w;
  } catch {
    return undefined; // none (or being written: read again at the next attempt)
  }
  const pid = Number(w.pid);
  if (pid === process.pid || !alive(pid)) return undefined;
  return { pid, service: String(w.service ?? "?") };
}

/** The refusal that makes a command of this process wait for a waiting process (acquireFolder waits for it as for a command's hold). */
function yieldTo(dir: string, service: string, w: { pid: number; service: string }): FolderLockedError {
  const holder = { pid: w.pid, started: "now", service: `${w.service} (waiting for this folder)`, task: true };
  return new FolderLockedError(
    dir,
    w.pid,
    `${service}: the data folder ${dir} is wanted by ${w.service} (pid ${w.pid}), which waited for this process's command: it goes first`,
    holder,
  );
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

/** A lock this process holds: `release` removes it only if it is still ours; `lease` (a command's) keeps it a while. */
function heldLock(dir: string, file: string, mine: LockText, task: boolean): FolderLock {
  const lock: FolderLock = {
    file,
    release: () => {
      const t = readLock(file);
      if (t && t.pid === mine.pid && t.started === mine.started) fs.rmSync(file, { force: true });
    },
    lease: (ms: number) => {
      const before = takeLease(dir);
      if (before && before.lock !== lock) letGo(dir, before);
      const l: Lease = { lock, mine };
      leases.set(dir, l);
      if (!releaseAtExit) {
        releaseAtExit = true;
        // (the keystore's own exit handler, registered when it was loaded, before this one, has
        // written this process's commits into place by then)
        process.once("exit", () => {
          for (const key of [...leases.keys()]) takeLease(key)?.lock.release();
        });
      }
      if (!task || !(ms > 0)) return letGo(dir, l);
      l.timer = setTimeout(() => letGo(dir, l), ms);
      l.timer.unref(); // a lease never keeps the process alive; its exit releases it
    },
  };
  return lock;
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
  const own = leases.size ? (leases.has(dir) ? dir : [...leases.keys()].find((k) => sameDir(k, dir))) : undefined;
  if (own !== undefined) {
    // this process's own lease on the folder (FolderLock.lease)
    const l = leases.get(own)!;
    const waiter = o.task ? waiterOf(dir) : undefined;
    if (waiter) {
      letGo(own, l); // released once this process's commits are in place; the waiter takes it then
      throw yieldTo(dir, service, waiter);
    }
    const t = readLock(l.lock.file);
    takeLease(own);
    if (t !== undefined && t.pid === l.mine.pid && t.started === l.mine.started) {
      if (o.task === true && l.mine.service === service && own === dir) return l.lock;
      // another command or a service of this process: the lock file replaced whole under its name (never absent)
      const mine: LockText = { pid: process.pid, started: new Date().toISOString(), service, ...(o.task ? { task: true } : {}) };
      const tmp = `${l.lock.file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(mine), { mode: 0o600 });
      fs.renameSync(tmp, l.lock.file);
      return heldLock(dir, l.lock.file, mine, o.task === true);
    }
    // its file was removed or replaced: not ours any more; taken as any lock is, below
  } else if (o.task) {
    const waiter = waiterOf(dir);
    if (waiter) throw yieldTo(dir, service, waiter);
  }
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const mine: LockText = { pid: process.pid, started: new Date().toISOString(), service, ...(o.task ? { task: true } : {}) };
  const text = JSON.stringify(mine);
  const held = (): FolderLock => heldLock(dir, file, mine, o.task === true);
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
  let wanted = false;
  try {
    for (;;) {
      try {
        return lockFolder(dir, service, o.notice, { task: o.task, staleOwn: o.staleOwn });
      } catch (e) {
        const h = (e as FolderLockedError).holder;
        if (!(e instanceof FolderLockedError) || !h?.task || Date.now() >= until) throw e;
        // another process's command holds it: this process's pid in WANT_FILE, so that its next command lets this one go first
        if (!wanted && h.pid !== process.pid) wanted = want(dir, service);
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
  } finally {
    if (wanted) unwant(dir);
  }
}

/** Leaves this process's pid in the folder's WANT_FILE (unless a live other waiter's is there); true if it did. */
function want(dir: string, service: string): boolean {
  const file = path.join(dir, WANT_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    if (place(file, JSON.stringify({ pid: process.pid, service }))) return true;
    if (waiterOf(dir)) return false; // another live process waits: it goes first
    const t = readLock(file);
    if (t?.pid === process.pid) return true;
    fs.rmSync(file, { force: true }); // a dead waiter's
  }
  return false;
}

/** Removes the folder's WANT_FILE if it is this process's. */
function unwant(dir: string): void {
  const file = path.join(dir, WANT_FILE);
  const t = readLock(file);
  if (t?.pid === process.pid) fs.rmSync(file, { force: true });
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
      await this.release();
      throw e;
    }
  }

  /** Runs `run`, then releases the lock (also when `run` throws). */
  async stop(run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } finally {
      await this.release();
    }
  }

  private async release(): Promise<void> {
    // once this process's keystore commits are in place (as a command's lease: FolderLock.lease)
    const lock = this.lock;
    this.lock = undefined;
    await appliedSoFar();
    if (commitsInPlace()) lock?.release();
  }
}
