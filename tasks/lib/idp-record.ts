/**
 * The IdP's record (`avatar-idp`) as the in-process commands change it (s22-redo R8, R9): the
 * record holds every enrolment (the template by which a user logs in, the real identity by which
 * her avatars are traced) and every verdict opening, and a command writes it whole. So:
 * - a command that will write it holds the IdP's folder lock from before it loads the record until
 *   its run ends: the lock file `<data>/service-idp/service.lock` that `idp:serve` holds for its
 *   life (offchain/services/folder-lock.ts), placed as a command's (`task`), with this process's
 *   pid. Two commands on one folder (two shells, a script) run one after the other: the second
 *   waits for the first (one notice, naming it) and then loads what the first wrote, so neither
 *   enrolment is lost and the duplicate-eye check sees both. Within one process the commands queue
 *   first (the lock file's pid is the process's own). A holder that died (a crash, a kill) leaves a
 *   stale lock, taken over with a one-line notice; a holder's wait on the chain that never ends is
 *   ended by killing it, which makes its lock stale.
 * - while a live `idp:serve` holds the folder (it keeps the record in memory and writes it whole on
 *   every issuance and trace), the command refuses in one line naming the service's pid, having
 *   loaded and written nothing: the change goes through the service (`--idp <url>`) or waits until
 *   it is stopped. `idp:serve` in turn waits at its start for a command that holds the folder, and
 *   loads the record only once it holds the lock.
 * - the command writes the record over the stamp it loaded it at (a writer that took no lock, e.g.
 *   an older build, is refused rather than undone) and keeps the fields it does not own (the
 *   service's used enrolment tokens).
 * Commands that only read the record (avatar:login, avatar:audit, ...) and `idp:enrol-token` (which
 * writes a record of its own per token, read by the service) take no lock and run beside the
 * service.
 */
import fs from "node:fs";
import path from "node:path";
import { RefusedError } from "./cli";

/** The IdP's record (IDP_RECORD of offchain/services/avatars/idp-service.ts). */
export const IDP_RECORD = "avatar-idp";
/** The IdP service's folder in a data folder, whose lock guards the record (as tasks/services.ts idp:serve). */
export const idpServiceDir = (dataDir: string) => path.join(dataDir, "service-idp");

/** This process's commands holding an IdP folder, by lock folder: each waits for the one before. */
const queues = new Map<string, Promise<void>>();

/**
 * Runs `run` holding the IdP's folder of the data folder `dataDir` (see the file comment).
 * @param task - the command, named in the lock, the notices and the refusals
 * @param o - waitMs: how long to wait for another command's hold (default TASK_HOLD_WAIT_MS);
 *   onWait: where the one-line notice of a wait goes (default stderr)
 * @throws RefusedError (one line) while a live IdP service holds the folder, or another command
 *   holds it longer than the wait; nothing was loaded or written then
 */
/** The folder's one spelling: absolute, its links resolved as far as it exists. */
function canonicalDir(dir: string): string {
  const abs = path.resolve(dir);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(canonicalDir(parent), path.basename(abs));
  }
}

export async function withIdpRecord<T>(
  task: string,
  dataDir: string,
  run: () => Promise<T>,
  o: { waitMs?: number; onWait?: (line: string) => void } = {},
): Promise<T> {
  const { acquireFolder, FolderLockedError } = await import("../../offchain/services/folder-lock");
  // one key per folder, however it is spelled (relative, absolute, through a link: s22-review F2)
  const dir = canonicalDir(idpServiceDir(dataDir));
  const before = queues.get(dir) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((go) => (done = go));
  const tail = before.then(() => mine);
  queues.set(dir, tail);
  await before;
  try {
    let lock;
    try {
      // staleOwn: this process's own command lock is stale here (the queue lets one command through at a time)
      lock = await acquireFolder(dir, task, { task: true, staleOwn: true, ...o });
    } catch (e) {
      if (!(e instanceof FolderLockedError)) throw e;
      const h = e.holder;
      if (h && !h.task)
        throw new RefusedError(
          `${task}: an IdP service (pid ${h.pid}, since ${h.started}) serves this data folder (${dir}) and holds ${IDP_RECORD} in memory: its next write would undo this command's; go through it (--idp <its url>${task === "idp:issue" ? ", with a token from idp:enrol-token" : ""}) or stop it first`,
        );
      throw new RefusedError(e.message);
    }
    try {
      return await run();
    } finally {
      lock.release();
    }
  } finally {
    done();
    if (queues.get(dir) === tail) queues.delete(dir);
  }
}
