/**
 * A command's hold on a service's folder for the length of its run (s22-redo R8, R9 for the IdP;
 * s23-fxops for the MSRP): the one rule by which every command that writes a record a service
 * keeps in memory (the IdP's `avatar-idp`, the MSRP's `rsms-msrp`) shares that record with the
 * service and with other commands.
 * - The command takes the service's folder lock (`<folder>/service.lock`, the file `idp:serve` or
 *   `rsms:serve msrp` holds for its life: offchain/services/folder-lock.ts) as a command's (`task`),
 *   from before it loads the record until its run ends. Two commands on one folder (two shells, a
 *   script) run one after the other: the second waits for the first (one notice, naming it) and
 *   then loads what the first wrote. Within one process the commands queue first (the lock file's
 *   pid is the process's own), keyed on the folder's canonical path. A holder that died leaves a
 *   stale lock, taken over with a one-line notice.
 * - While a live service holds the folder, the command refuses in one line naming the service's
 *   pid, having loaded and written nothing (the caller's `refusal`). The service in turn waits at
 *   its start for a command that holds the folder, and loads its record only once it holds the lock.
 * - A command's commits are in place before its lock is released (another process that took it
 *   before would load the record without them: s28-rtk F1): written synchronously at the end of
 *   its run (Keystore's flushJournals), unless the command asks for a lease (`lease`: rsms:join).
 * - A leased lock outlives the run by {@link HOLD_LEASE_MS}: the same command of this process
 *   run again meanwhile takes it over as it stands, anything else of this process under its own name;
 *   it is released only once this process's commits so far are in place (in the background), and at
 *   the process's exit. A process that waits for it leaves its pid in the folder
 *   (`service.lock.want`): the next command here lets it go first (s28-rtk F3). Limit: a process
 *   that blocks its event loop after a leased command (spawnSync of another command of the folder)
 *   keeps the folder until it unblocks (s28-review F1).
 */
import fs from "node:fs";
import path from "node:path";
import { RefusedError } from "./cli";

/**
 * How long a command's lock outlives its run (ms): the next command of this process with the same
 * name takes it over with no write (offchain/services/folder-lock.ts FolderLock.lease; issue 20:
 * about 0.12 ms of an RSMS join in a script that joins RNs one after the other, with other work
 * between them). Another process waits for it silently (folder-lock's LEASE_GRACE_MS, longer than
 * this) and is let go first by the holder's next command (folder-lock's WANT_FILE), so back-to-back
 * commands never keep it out; the lease ends later than this only while the process is blocked or
 * its commits cannot be written (the file comment's limit).
 */
export const HOLD_LEASE_MS = 250;

/** This process's commands holding a service folder, by canonical folder: each waits for the one before. */
const queues = new Map<string, Promise<void>>();
/** The folders a command of this process holds now (canonical paths). */
const held = new Set<string>();
/**
 * The spelling each of those commands gave, to its canonical path, while it holds it: holdsFolder's
 * check of that spelling (several per join) then resolves no links (issue 20: a realpath each).
 */
const heldAs = new Map<string, string>();

/** The folder's one spelling: absolute, its links resolved as far as it exists. */
export function canonicalDir(dir: string): string {
  const abs = path.resolve(dir);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(canonicalDir(parent), path.basename(abs));
  }
}

/** Whether a command of this process holds the service folder `dir` now. */
export function holdsFolder(dir: string): boolean {
  const key = heldAs.get(dir);
  return held.has(key ?? canonicalDir(dir));
}

/**
 * Runs `run` holding the service folder `dir` as a command (see the file comment).
 * @param task - the command, named in the lock, the notices and the refusals
 * @param refusal - the one-line refusal while a live service (pid, since) holds the folder
 * @param o - waitMs: how long to wait for another command's hold (default TASK_HOLD_WAIT_MS);
 *   onWait: where the one-line notice of a wait goes (default stderr)
 * @throws RefusedError (one line) while a live service holds the folder, or another command holds
 *   it longer than the wait; nothing was loaded or written then
 */
export async function withServiceFolder<T>(
  task: string,
  dir: string,
  refusal: (h: { pid: number; started: string }, dir: string) => string,
  run: () => Promise<T>,
  o: { waitMs?: number; onWait?: (line: string) => void; lease?: boolean } = {},
): Promise<T> {
  const [{ acquireFolder, FolderLockedError }, { flushJournals }] = await Promise.all([
    import("../../offchain/services/folder-lock"),
    import("../../offchain/storage/keystore"),
  ]);
  // one key per folder, however it is spelled (relative, absolute, through a link: s22-review F2)
  const key = canonicalDir(dir);
  const before = queues.get(key) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((go) => (done = go));
  const tail = before.then(() => mine);
  queues.set(key, tail);
  await before;
  try {
    let lock;
    try {
      // staleOwn: this process's own command lock is stale here (the queue lets one command through at a time)
      lock = await acquireFolder(key, task, { task: true, staleOwn: true, ...o });
    } catch (e) {
      if (!(e instanceof FolderLockedError)) throw e;
      const h = e.holder;
      if (h && !h.task) throw new RefusedError(refusal(h, key));
      throw new RefusedError(e.message);
    }
    held.add(key);
    heldAs.set(dir, key);
    try {
      return await run();
    } finally {
      held.delete(key);
      if (heldAs.get(dir) === key) heldAs.delete(dir);
      if (o.lease) lock.lease(HOLD_LEASE_MS);
      else {
        // this process's commits in place (synchronously: a process that blocks right after, e.g.
        // on spawnSync of another command of this folder, must not keep the folder: s28-review F1),
        // then the lock released: another process that takes it loads them (s28-rtk F1)
        let flushed = false;
        try {
          flushJournals();
          flushed = true;
        } catch (e) {
          // not this command's failure (its commits are in their journal): the folder is kept,
          // released once they are written (the lease's rule), at the latest at the exit (s28-review2 F1)
          console.error(
            `${task}: this process's commits could not be written into place now (${(e as Error).message.split("\n")[0]}): kept in their journal`,
          );
        }
        if (flushed) lock.release();
        else lock.lease(HOLD_LEASE_MS);
      }
    }
  } finally {
    done();
    if (queues.get(key) === tail) queues.delete(key);
  }
}
