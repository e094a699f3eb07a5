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
import path from "node:path";
import { withServiceFolder } from "./record-hold";

/** The IdP's record (IDP_RECORD of offchain/services/avatars/idp-service.ts). */
export const IDP_RECORD = "avatar-idp";
/** The IdP service's folder in a data folder, whose lock guards the record (as tasks/services.ts idp:serve). */
export const idpServiceDir = (dataDir: string) => path.join(dataDir, "service-idp");

/**
 * Runs `run` holding the IdP's folder of the data folder `dataDir` (see the file comment;
 * tasks/lib/record-hold.ts is the rule it shares with the MSRP's commands).
 * @param task - the command, named in the lock, the notices and the refusals
 * @param o - waitMs: how long to wait for another command's hold (default TASK_HOLD_WAIT_MS);
 *   onWait: where the one-line notice of a wait goes (default stderr)
 * @throws RefusedError (one line) while a live IdP service holds the folder, or another command
 *   holds it longer than the wait; nothing was loaded or written then
 */
export async function withIdpRecord<T>(
  task: string,
  dataDir: string,
  run: () => Promise<T>,
  o: { waitMs?: number; onWait?: (line: string) => void } = {},
): Promise<T> {
  return withServiceFolder(
    task,
    idpServiceDir(dataDir),
    (h, dir) =>
      `${task}: an IdP service (pid ${h.pid}, since ${h.started}) serves this data folder (${dir}) and holds ${IDP_RECORD} in memory: its next write would undo this command's; go through it (--idp <its url>${task === "idp:issue" ? ", with a token from idp:enrol-token" : ""}) or stop it first`,
    run,
    o,
  );
}
