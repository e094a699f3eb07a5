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
 * - concurrent duplicates (a retry while the first is still being served) wait for the first;
 * - an UNSIGNED request (scheme 0) is owned by its payload, not its bytes (s23-rth F1): nothing
 *   covers its issuedAt and session, so anyone on the path can send a copy that differs in those
 *   alone. Such a copy and the sender's own bytes are the same request: whichever comes second is
 *   answered from the reply the first got, rebound to its own bytes (same body, its session, id and
 *   inReplyTo, signed again by the service: {@link ReplyCache.rebindWith}), never refused;
 * - the cache prunes itself on write (s23-rth F2/F4): at most once per window, entries older than
 *   two windows go, so its folder is bounded by the traffic of two windows whatever timers run.
 */
import fs from "fs";
import path from "path";
import { equalBytes, fromHex, toHex } from "../crypto/bytes";
import { writeFileAtomic } from "../storage/fs-atomic";
import { EnvelopeError, Kind, Scheme, envelopeHash, openEnvelope, sealReply, type EnvelopeSigner } from "./envelope";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { concat, toBytes } from "../crypto/bytes";

/** Where an envelope's session (16 bytes, then the request id, 16) and issuedAt (8 bytes) are: nothing signs them in an unsigned request. */
const SESSION_AT = 3 + 32;
const ISSUED_AT = SESSION_AT + 16 + 16;

/**
 * The part of a request the service authenticates, hashed: for a signed request all its bytes; for
 * an unsigned one (scheme 0) every byte but its session, request id and issuedAt, which anyone on the
 * path can change. Two requests with the same payload hash are the same request (the cache compares
 * it only within one entry: one id, or one {@link payloadId}).
 */
export function payloadHash(request: Uint8Array): Uint8Array {
  let unsigned = false;
  try {
    unsigned = openEnvelope(request).scheme === Scheme.None;
  } catch {
    /* not an envelope (a test's bytes): all of it */
  }
  if (!unsigned) return envelopeHash(request);
  const b = Uint8Array.from(request);
  b.fill(0, SESSION_AT, SESSION_AT + 32); // the session and the request id (the cache's file is named by the id or the payload)
  b.fill(0, ISSUED_AT, ISSUED_AT + 8);
  return envelopeHash(b);
}

/**
 * A request id bound to an unsigned request's payload (its route, audience and body; with
 * `session`, its session too), for the routes whose client-chosen id the body does not bind (a
 * login, a delegation): a copy under another id is then the same entry of the cache, not a second
 * request. 16 bytes.
 */
export function payloadId(e: { route: number; audience: Uint8Array; session: Uint8Array; body: Uint8Array }, session = false): Uint8Array {
  return keccak_256(
    concat(toBytes("METATRUST-V1-PAYLOAD-ID"), Uint8Array.of(e.route), e.audience, session ? e.session : new Uint8Array(16), e.body),
  ).slice(0, 16);
}

/** Default freshness window: a request more than 5 minutes old or ahead is refused. */
export const DEFAULT_WINDOW_MS = 5 * 60_000;

/** `keep`: never pruned (a reply whose loss would strand a party: an enrolment, a group formation). */
type Entry = { requestHash: string; payloadHash?: string; reply: string; at: number; keep?: boolean };

/** How often (in writes) the cache at least looks for old entries, whatever the clock says. */
const PRUNE_EVERY_WRITES = 256;

/** A service's reply cache. */
export class ReplyCache {
  private readonly inFlight = new Map<string, { hash: Uint8Array; payload: Uint8Array; done: Promise<Uint8Array> }>();
  private signer?: EnvelopeSigner;
  private lastPrune = 0;
  private writes = 0;

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

  /**
   * The service's key, to rebind a stored reply to a copy of an unsigned request that differs only in
   * what nothing authenticates (its session, its issuedAt). Without it such a copy is refused
   * (REQUEST_ID_REUSED), which a client does not take as final.
   */
  rebindWith(signer: EnvelopeSigner): this {
    this.signer = signer;
    return this;
  }

  /** A stored or in-flight reply, bound to `request` (these bytes) when it answered a copy of it. */
  private rebind(reply: Uint8Array, request: Uint8Array, same: boolean): Uint8Array {
    if (same) return reply;
    const r = openEnvelope(reply);
    const q = openEnvelope(request);
    if (equalBytes(r.inReplyTo, envelopeHash(request))) return reply;
    if (!this.signer || r.kind !== Kind.Reply)
      throw new EnvelopeError("REQUEST_ID_REUSED", `request id ${toHex(q.requestId)} was answered for a copy of this request`);
    return sealReply(q, request, r.audience, r.body, this.signer);
  }

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
    const e: Entry = {
      requestHash: toHex(envelopeHash(request)),
      payloadHash: toHex(payloadHash(request)),
      reply: toHex(reply),
      at: this.now(),
      ...(keep ? { keep } : {}),
    };
    writeFileAtomic(this.file(id), JSON.stringify(e));
    // pruned by the cache itself (s23-rth F2/F4: a timer the flags turn off left the folder to grow):
    // once a window has passed since the last pass, or every PRUNE_EVERY_WRITES writes, amortized
    if (++this.writes >= PRUNE_EVERY_WRITES || this.now() - this.lastPrune >= this.windowMs) this.prune();
  }

  /** Whether a stored entry answers these bytes or a copy of them that differs in unauthenticated fields only. */
  private answers(e: Entry, hash: Uint8Array, payload: Uint8Array): boolean {
    return e.requestHash === toHex(hash) || e.payloadHash === toHex(payload);
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
    const payload = payloadHash(request);
    // a retry of the very bytes a stored reply answers gets it, even outside the window (nothing
    // runs again); so does a copy of an unsigned request that differs only in its session or issuedAt
    const kept = this.read(id);
    if (kept && this.answers(kept, hash, payload)) return this.rebind(fromHex(kept.reply), request, kept.requestHash === toHex(hash));
    if (Math.abs(now - issuedAt) > this.windowMs)
      throw new EnvelopeError("STALE", `request issued at ${issuedAt}, outside the ${this.windowMs} ms window around ${now}`);
    const key = toHex(id);
    const flying = this.inFlight.get(key);
    if (flying) {
      if (!equalBytes(flying.hash, hash) && !equalBytes(flying.payload, payload))
        throw new EnvelopeError("REQUEST_ID_REUSED", `request id ${key} is in use by another request`);
      return this.rebind(await flying.done, request, equalBytes(flying.hash, hash));
    }
    const stored = this.read(id);
    if (stored) {
      if (!this.answers(stored, hash, payload))
        throw new EnvelopeError("REQUEST_ID_REUSED", `request id ${key} was used by another request`);
      return this.rebind(fromHex(stored.reply), request, stored.requestHash === toHex(hash));
    }
    const done = (async () => {
      const reply = await handle();
      this.store(id, request, reply, keep);
      return reply;
    })();
    this.inFlight.set(key, { hash, payload, done });
    try {
      return await done;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Deletes entries older than twice the window, except those kept for good (the rest answer only late retries). */
  prune(): number {
    this.lastPrune = this.now();
    this.writes = 0;
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
