/**
 * The MSRP's record (`rsms-msrp`) as the in-process commands change it: the `rsms:*` tasks
 * (tasks/rsms.ts) and the `group:*` tasks (tasks/group.ts) that act as the MSRP in this data folder.
 * Two guards, one for each way a write could be lost:
 * - a command that will change the record holds the MSRP service's folder (`<data>/service-msrp`)
 *   from before it loads the record until its run ends ({@link withMsrpRecord}; the IdP's rule,
 *   tasks/lib/record-hold.ts; s23-fxops): while `rsms:serve msrp` (another live process, or this
 *   one) serves the folder it refuses in one line naming the service's pid, having loaded and
 *   written nothing (the service holds the record in memory and its next save would undo the
 *   command's write: s17-redA F20's shape); another command of the folder is waited for; and a
 *   service started meanwhile waits for the command and loads the record only once it holds the lock
 *   (before, a command that had checked for no service could commit after a service had loaded the
 *   record, and the service's next save undid it);
 * - the record is loaded stamped and committed only over the stamp it was loaded at (s17-redA F21):
 *   a writer that took no lock (an older build) is refused rather than undone. The check and the
 *   commit run with no await between them.
 */
import path from "node:path";
import type { Keystore, KeystoreData, RecordStamp } from "../../offchain/storage/keystore";
import { RefusedError } from "./cli";
import { holdsFolder, withServiceFolder } from "./record-hold";

export const MSRP_RECORD = "rsms-msrp";
/** The MSRP record's commits write the RNs they change (Keystore.commit's `patch`). */
export const MSRP_PATCH = { patch: { [MSRP_RECORD]: "rns" } };

/** The MSRP service's folder in a data folder, whose lock guards the record (as tasks/services.ts rsms:serve msrp). */
export const msrpServiceDir = (dataDir: string) => path.join(dataDir, "service-msrp");

/**
 * Runs `run` holding the MSRP service's folder of the data folder `dataDir` (see the file comment).
 * @param task - the command, named in the lock, the notices and the refusals
 * @throws RefusedError (one line) while a live MSRP service holds the folder, or another command
 *   holds it longer than the wait; nothing was loaded or written then
 */
export function withMsrpRecord<T>(
  task: string,
  dataDir: string,
  run: () => Promise<T>,
  o: { waitMs?: number; onWait?: (line: string) => void; lease?: boolean } = {},
): Promise<T> {
  return withServiceFolder(
    task,
    msrpServiceDir(dataDir),
    (h, dir) =>
      `${task}: an MSRP service (pid ${h.pid}, since ${h.started}) serves this data folder (${dir}) and holds ${MSRP_RECORD} in memory: its next save would undo this command's write; go through the service (--msrp <url>) or stop it first`,
    run,
    o,
  );
}

/** Throws (a bug, not bad input) when `task` would change the MSRP's record without holding its folder. */
export function msrpHeld(task: string, dataDir: string): void {
  if (!holdsFolder(msrpServiceDir(dataDir)))
    throw new Error(`${task}: changes ${MSRP_RECORD} without holding the MSRP's folder (withMsrpRecord)`);
}

/**
 * The MSRP's record of one data folder, guarded as above (async only to load the keystore's code
 * lazily: the tasks' modules load when Hardhat starts).
 * @param build - the MSRP agent from the record's data
 */
export async function msrpRecord<M extends { toRecord(): KeystoreData }>(ks: Keystore, dataDir: string, build: (data: KeystoreData) => M) {
  const { sameStamp } = await import("../../offchain/storage/keystore");
  /** The stamp each agent `load` gave was loaded at: `save` commits it only over that stamp. */
  const loadedAt = new WeakMap<M, RecordStamp>();
  return {
    /** Throws unless this command holds the MSRP's folder ({@link withMsrpRecord}). */
    held: (task: string) => msrpHeld(task, dataDir),
    /** The MSRP agent, with the stamp it was loaded at; `task`: the command will change it (it must hold the folder). */
    load(task?: string): M {
      if (task) msrpHeld(task, dataDir);
      const { data, stamp } = ks.loadStamped(MSRP_RECORD);
      const m = build(data);
      loadedAt.set(m, stamp);
      return m;
    },
    /**
     * Commits `m` over the stamp it was loaded at, else refuses ("changed meanwhile … run again")
     * having written nothing. `also` runs, and `withRecords` are committed, only if the check passes.
     * @returns the texts written (Keystore.commit's result)
     */
    save(m: M, task = "rsms", also: () => void = () => undefined, withRecords: Record<string, unknown> = {}): RecordStamp {
      msrpHeld(task, dataDir);
      const at = loadedAt.get(m);
      if (at && !sameStamp(at, ks.stamp(MSRP_RECORD)))
        throw new RefusedError(
          `${task}: the MSRP's record changed meanwhile (another command wrote ${MSRP_RECORD}): nothing of this run was kept; run again`,
        );
      also();
      const written = ks.commit({ [MSRP_RECORD]: m.toRecord(), ...withRecords }, MSRP_PATCH);
      loadedAt.set(m, ks.stamp(MSRP_RECORD));
      return written;
    },
    /**
     * Commits a change the chain already holds (a group formed or rekeyed on-chain: refusing it
     * would leave the MSRP's record behind the chain for good). Over the stamp `m` was loaded at;
     * if another command committed the record since, `again` makes the same change on the record
     * as it stands now, and that is committed (no await between the load and the commit).
     * @returns the agent committed: `m`, or the one loaded now (the caller goes on with it)
     */
    commitChained(m: M, task: string, again: (now: M) => void): M {
      const at = loadedAt.get(m);
      if (at === undefined || sameStamp(at, ks.stamp(MSRP_RECORD))) {
        this.save(m, task);
        return m;
      }
      const now = this.load();
      again(now);
      this.save(now, task);
      return now;
    },
  };
}
