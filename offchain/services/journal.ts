/**
 * A service's write-ahead journal of intents: before a service starts an effect it cannot take
 * back (a transaction), it records what it is about to do; when the effect and everything that
 * follows it (its state, its reply) are durable, it deletes the record. After a crash, the
 * service replays what is left on start-up, before it serves anything: each intent's handler
 * looks at the chain and either finishes the work (the transaction was mined) or sends it again
 * (it was not), so that nothing on-chain is orphaned and nothing is done twice. A service that
 * keeps running after a failed effect finishes the intent the same way when the request is
 * retried (the RPM enrolment, group formations and key updates) or on its next tick (filter
 * publications), instead of computing a new effect over it (h11-red R4, R6, R7). At the MSRP's
 * and the IdP's start-up, an intent whose recovery fails does not stop the service: it is tried
 * again in the background, and only what depends on it waits ({@link StalledIntents} here;
 * `finishStalled`, `holdBack` in msrp-service.ts and idp-service.ts).
 */
import fs from "fs";
import path from "path";
import { writeFileAtomic } from "../storage/fs-atomic";
import { MetatrustError } from "../errors";

/** Default interval between two tries of the intents whose recovery failed at start-up (ms). */
export const STALLED_RETRY_MS = 5_000;

/** One intent: a kind and its JSON data. */
export type Intent<T = Record<string, unknown>> = { id: string; kind: string; data: T; at: number };

/** A folder of intent records, one file each, written atomically. */
export class Journal {
  constructor(readonly dir: string) {}

  private file(id: string): string {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(id)) throw new Error(`Journal: invalid intent id "${id}"`);
    return path.join(this.dir, `${id}.json`);
  }

  /** Records an intent (replacing one with the same id). */
  put<T extends Record<string, unknown>>(id: string, kind: string, data: T): Intent<T> {
    const i: Intent<T> = { id, kind, data, at: Date.now() };
    writeFileAtomic(this.file(id), JSON.stringify(i), 0o600);
    return i;
  }

  /** Deletes an intent once its effect and what follows it are durable. */
  done(id: string): void {
    fs.rmSync(this.file(id), { force: true });
  }

  /** The intents left, oldest first. */
  pending(): Intent[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => {
        const file = path.join(this.dir, f);
        // not a torn write (writeFileAtomic): damage from outside; the service must not start over
        // an intent it cannot read (its transaction may be on-chain), so it says which file (s17-redA F23)
        let i: Intent;
        try {
          i = JSON.parse(fs.readFileSync(file, "utf8")) as Intent;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined; // done meanwhile
          i = undefined as unknown as Intent;
        }
        if (!i || typeof i !== "object" || typeof i.kind !== "string" || typeof i.at !== "number")
          throw new MetatrustError(
            "KEYSTORE_CORRUPTED",
            `Journal: ${file} is not a readable intent: check the chain for the effect it recorded, then move the file out of ${this.dir}`,
          );
        return i;
      })
      .filter((i): i is Intent => i !== undefined)
      .sort((a, b) => a.at - b.at);
  }
}

/** Runs async jobs one at a time, in order (a service's state changes are serialised). */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** A journaled intent whose recovery failed at start-up: its kind, its journal time, the last error. */
export type StalledIntent = { kind: string; at: number; error: string };

/** What one more try of a stalled intent came to (a throw counts as "stalled", with its error kept). */
export type StalledOutcome = "finished" | "dropped" | "stalled";

/**
 * The intents whose recovery failed at start-up (the node unreachable, a transaction dropped), by
 * id, each kept in the journal and tried again in the background until it is finished (h11-fix3).
 * The service decides what they hold back and how one is tried; `T` may carry what it needs for
 * that (the MSRP: a join's RN).
 */
export class StalledIntents<T extends StalledIntent = StalledIntent> {
  private readonly byId = new Map<string, T>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly journal: Journal,
    private readonly log: (line: string) => void,
  ) {}

  has(id: string): boolean {
    return this.byId.has(id);
  }
  get(id: string): T | undefined {
    return this.byId.get(id);
  }
  /** Records (or updates) the intent `id` as stalled. */
  record(id: string, st: T): void {
    this.byId.set(id, st);
  }
  delete(id: string): void {
    this.byId.delete(id);
  }
  entries(): IterableIterator<[string, T]> {
    return this.byId.entries();
  }

  /** id → kind and last error (a service's `stalledIntents()`). */
  list(): Record<string, { kind: string; error: string }> {
    return Object.fromEntries([...this.byId].map(([id, st]) => [id, { kind: st.kind, error: st.error }]));
  }

  /**
   * Tries each stalled intent again with `attempt` (the caller holds its service's mutex). One
   * finished meanwhile (no longer pending, or another intent under the same id: a later request's)
   * is forgotten; one finished or dropped by `attempt` leaves the journal; one for which `attempt`
   * throws stays, with its new error.
   * @returns how many are left
   */
  async finish(attempt: (i: Intent) => Promise<StalledOutcome>): Promise<number> {
    const left = new Map(this.journal.pending().map((i) => [i.id, i]));
    for (const [id, st] of [...this.byId]) {
      const i = left.get(id);
      if (!i || i.at !== st.at) {
        this.byId.delete(id);
        continue;
      }
      let r: StalledOutcome;
      try {
        r = await attempt(i);
      } catch (e) {
        st.error = (e instanceof Error ? e.message : String(e)).split("\n")[0];
        continue;
      }
      if (r === "stalled") continue;
      this.journal.done(id);
      this.byId.delete(id);
      this.log(`recovery: intent ${id} (${i.kind}) ${r}`);
    }
    return this.byId.size;
  }

  /**
   * When any intent is stalled, calls `finish` (the service's `finishStalled`) every `ms` until
   * none is left or {@link stop} is called; a failed call is logged and tried again.
   */
  start(finish: () => Promise<number>, ms = STALLED_RETRY_MS): void {
    if (!this.byId.size) return;
    const retry = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        finish().then(
          (n) => (n ? retry() : (this.timer = undefined)),
          (e) => {
            this.log(`recovery: retry failed: ${(e as Error).message.split("\n")[0]}`);
            retry();
          },
        );
      }, ms);
    };
    retry();
  }

  /** Stops the background retries. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
