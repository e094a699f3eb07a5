/**
 * Replay refusal and idempotency for a service: every request carries a 16-byte requestId and a
 * time; the service keeps the reply it gave to each id (on disk, written atomically before the
 * reply is sent) for twice the freshness window.
 *
 * - the same id with the same bytes (a retry): the stored reply, byte for byte; no second effect;
 * - the same id with other bytes: refused (REQUEST_ID_REUSED);
 * - a request issued outside the window (a replay of an old message, or a badly set clock): refused
 *   (STALE), since its id may have been forgotten, unless its reply is still stored for these very
 *   bytes (a late retry: the stored reply, nothing runs); a few replies are kept for good (`keep`);
 * - concurrent duplicates (a retry while the first is still being served) wait for the first.
 */
import fs from "fs";
import path from "path";
import { equalBytes, fromHex, toHex } from "../crypto/bytes";
import { writeFileAtomic } from "../storage/fs-atomic";
import { EnvelopeError, envelopeHash } from "./envelope";

/** Default freshness window: a request more than 5 minutes old or ahead is refused. */
export const DEFAULT_WINDOW_MS = 5 * 60_000;

/** `keep`: never pruned (a reply whose loss would strand a party: an enrolment, a group formation). */
type Entry = { requestHash: string; reply: string; at: number; keep?: boolean };

/** A service's reply cache. */
export class ReplyCache {
  private readonly inFlight = new Map<string, { hash: Uint8Array; done: Promise<Uint8Array> }>();

  /**
   * @param dir - its folder (one file per request id)
   * @param windowMs - freshness window
   * @param now - clock (ms)
   */
  constructor(
    readonly dir: string,
    readonly windowMs = DEFAULT_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  private file(id: Uint8Array): string {
    return path.join(this.dir, `${toHex(id).slice(2)}.json`);
  }

  /** The stored entry for an id, if any. */
  private read(id: Uint8Array): Entry | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.file(id), "utf8")) as Entry;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  /**
   * Stores the reply to a request (before it is sent).
   * @param id - the requestId
   * @param request - the request envelope's bytes
   * @param reply - the reply envelope's bytes
   * @param keep - never prune it (see {@link ReplyCache.once})
   */
  store(id: Uint8Array, request: Uint8Array, reply: Uint8Array, keep = false): void {
    const e: Entry = { requestHash: toHex(envelopeHash(request)), reply: toHex(reply), at: this.now(), ...(keep ? { keep } : {}) };
    writeFileAtomic(this.file(id), JSON.stringify(e));
  }

  /**
   * Serves a request once: a retry gets the stored reply, a reused id or a stale request is refused.
   * @param id - the requestId
   * @param issuedAt - the request's time (ms)
   * @param request - the request envelope's bytes
   * @param handle - computes the reply and its effects (it stores nothing itself)
   * @param keep - keep the reply for good: a retry of the very same bytes gets it however late it
   *   comes (for the few requests whose lost reply would strand a party: an RPM's enrolment, whose
   *   keys exist nowhere else, a group formation or update, which is on-chain)
   * @returns the reply bytes
   * @throws EnvelopeError(STALE | REQUEST_ID_REUSED)
   */
  async once(id: Uint8Array, issuedAt: number, request: Uint8Array, handle: () => Promise<Uint8Array>, keep = false): Promise<Uint8Array> {
    const now = this.now();
    const hash = envelopeHash(request);
    // a retry of the very bytes a stored reply answers gets it, even outside the window (nothing runs again)
    const kept = this.read(id);
    if (kept?.requestHash === toHex(hash)) return fromHex(kept.reply);
    if (Math.abs(now - issuedAt) > this.windowMs)
      throw new EnvelopeError("STALE", `request issued at ${issuedAt}, outside the ${this.windowMs} ms window around ${now}`);
    const key = toHex(id);
    const flying = this.inFlight.get(key);
    if (flying) {
      if (!equalBytes(flying.hash, hash)) throw new EnvelopeError("REQUEST_ID_REUSED", `request id ${key} is in use by another request`);
      return flying.done;
    }
    const stored = this.read(id);
    if (stored) {
      if (stored.requestHash !== toHex(hash)) throw new EnvelopeError("REQUEST_ID_REUSED", `request id ${key} was used by another request`);
      return fromHex(stored.reply);
    }
    const done = (async () => {
      const reply = await handle();
      this.store(id, request, reply, keep);
      return reply;
    })();
    this.inFlight.set(key, { hash, done });
    try {
      return await done;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Deletes entries older than twice the window, except those kept for good (the rest answer only late retries). */
  prune(): number {
    if (!fs.existsSync(this.dir)) return 0;
    let n = 0;
    for (const f of fs.readdirSync(this.dir)) {
      if (!f.endsWith(".json")) continue;
      const p = path.join(this.dir, f);
      try {
        const e = JSON.parse(fs.readFileSync(p, "utf8")) as Entry;
        if (!e.keep && this.now() - e.at > 2 * this.windowMs) {
          fs.rmSync(p, { force: true });
          n++;
        }
      } catch {
        /* a file being replaced: next time */
      }
    }
    return n;
  }
}
