/**
 * The MSRP's record (`rsms-msrp`) as the in-process commands change it: the `rsms:*` tasks
 * (tasks/rsms.ts) and the `group:*` tasks (tasks/group.ts) that act as the MSRP in this data folder.
 * Two guards, one for each way a write could be lost:
 * - a command that will change the record refuses, before it does anything, while an MSRP service
 *   (another live process) serves this data folder: the service holds the record in memory and its
 *   next save would undo the command's write (s17-redA F20's shape, offchain/services/folder-lock.ts);
 * - the record is loaded stamped and committed only over the stamp it was loaded at (s17-redA F21):
 *   a command that loaded it, awaited the chain and wrote it whole would drop what another command
 *   (or process) committed meanwhile. The check and the commit run with no await between them, so
 *   within a process nothing lands between the two (across processes: a window of microseconds).
 */
import path from "node:path";
import { liveHolder } from "../../offchain/services/folder-lock";
import type { Keystore, KeystoreData, RecordStamp } from "../../offchain/storage/keystore";
import { RefusedError } from "./cli";

export const MSRP_RECORD = "rsms-msrp";
/** The MSRP record's commits write the RNs they change (Keystore.commit's `patch`). */
export const MSRP_PATCH = { patch: { [MSRP_RECORD]: "rns" } };

/**
 * Refuses (one line naming the service's pid and folder) while a live process other than this one
 * serves the MSRP of the data folder `dataDir` (rsms:serve msrp's lock on `<dataDir>/service-msrp`).
 */
export function msrpNotServed(task: string, dataDir: string): void {
  const dir = path.join(dataDir, "service-msrp");
  const h = liveHolder(dir);
  if (h)
    throw new RefusedError(
      `${task}: an MSRP service (pid ${h.pid}, since ${h.started}) serves this data folder (${dir}): it would undo this command's write to ${MSRP_RECORD}; go through the service (--msrp <url>) or stop the service first`,
    );
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
    notServed: (task: string) => msrpNotServed(task, dataDir),
    /** The MSRP agent, with the stamp it was loaded at; `task`: the command will change it (notServed checked first). */
    load(task?: string): M {
      if (task) msrpNotServed(task, dataDir);
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
