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
 * again in the background, and only what depends on it waits (`finishStalled`, `holdBack` in
 * msrp-service.ts and idp-service.ts).
 */
import fs from "fs";
import path from "path";
import { writeFileAtomic } from "../storage/fs-atomic";

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
      .map((f) => JSON.parse(fs.readFileSync(path.join(this.dir, f), "utf8")) as Intent)
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
