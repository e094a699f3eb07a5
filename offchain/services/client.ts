/**
 * The client side of the service framework: posts an envelope and returns the reply's bytes,
 * retrying what can be retried (a dropped connection, a timeout, 429 and 5xx) with the same bytes,
 * so that the server's reply cache answers a retry of a request it already served. A 4xx other
 * than 429 is final, and so is a 429 QUOTA_EXCEEDED (a policy's window, not a rate), and a 3xx
 * (no redirect is followed; every fetch keeps the rules of offchain/services/endpoint.ts): it becomes a {@link ServiceError} with the server's code and reason.
 */
import { MetatrustError, type ErrorCode } from "../errors";
import { MAX_RESPONSE_BYTES, checkUrlShape } from "./endpoint";
import { isDroppedConnection } from "../chain/dropped";
import { Scheme, openEnvelope } from "./envelope";

/** A service refused the request, or could not be reached. */
export class ServiceError extends MetatrustError {
  /** HTTP status (0: not reached) */
  readonly status: number;
  /** the server's reason (e.g. NOT_IN_FILTER, STALE), if any */
  readonly reason?: string;
  /** whether the refused request was a signed envelope (scheme != None): set by postEnvelope */
  readonly signedRequest?: boolean;
  constructor(code: ErrorCode, status: number, message: string, reason?: string, signedRequest?: boolean) {
    super(code, message);
    this.status = status;
    this.reason = reason;
    this.signedRequest = signedRequest;
  }
}

/** Retry policy. */
export type RetryPolicy = { attempts: number; timeoutMs: number; backoffMs: number };
export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, timeoutMs: 30_000, backoffMs: 250 };

const KNOWN: ErrorCode[] = [
  "MESSAGE_MALFORMED",
  "PROTOCOL_REJECTED",
  "AGENT_STATE",
  "DECRYPTION_FAILED",
  "INVALID_PARAMETER",
  "QUOTA_EXCEEDED",
];

/**
 * Reads a response's body, at most `max` bytes (a longer one is an error naming the URL).
 * @throws ServiceError(PROTOCOL_REJECTED, status) above the limit
 */
async function readCapped(res: Response, where: string, max = MAX_RESPONSE_BYTES): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  const tooLong = () => new ServiceError("PROTOCOL_REJECTED", res.status, `${where}: the response is longer than ${max} bytes`);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLong();
  }
  if (!res.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let n = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLong();
    }
    parts.push(value);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/**
 * Fetches `${base}${path}` under the rules every service client keeps (offchain/services/endpoint.ts):
 * http or https, no credentials in the URL, no redirect followed (a 3xx is final: an error naming
 * the URL), the response read within `timeoutMs` and at most MAX_RESPONSE_BYTES. A GET whose
 * connection was reset under it is sent again once (a stale kept-alive socket after a restart).
 * @returns the status and the body's bytes
 * @throws ServiceError (SERVICE_UNREACHABLE, status 0: not reached or timed out; PROTOCOL_REJECTED:
 *   a redirect, a body too long), EndpointError for a URL of another scheme or with credentials
 */
async function fetchBounded(
  base: string,
  path: string,
  timeoutMs: number,
  init: RequestInit = {},
): Promise<{ status: number; bytes: Uint8Array }> {
  const url = new URL(path, checkUrlShape(base, "service URL"));
  const where = `${base}${path}`;
  let res: Response;
  const signal = AbortSignal.timeout(timeoutMs);
  // A GET is idempotent: sent again once, on a new connection, when the socket it went out on was
  // reset or closed under it (a kept-alive socket to a server that restarted on the same port:
  // the old server's close reaches the client after the request is written). A POST is not
  // resent here (postEnvelope retries with the reply cache's guarantee).
  const idempotent = (init.method ?? "GET") === "GET";
  for (let attempt = 0; ; attempt++) {
    try {
      res = await fetch(url, { ...init, redirect: "manual", signal });
      break;
    } catch (e) {
      if (idempotent && attempt === 0 && !signal.aborted && isDroppedConnection(e)) continue;
      const cause = (e as { cause?: { message?: unknown } }).cause?.message;
      const why = typeof cause === "string" && cause ? `${(e as Error).message}: ${cause}` : (e as Error).message;
      throw new ServiceError("SERVICE_UNREACHABLE", 0, `${where}: not reachable (${why.replace(/[^\x20-\x7e]/g, " ")})`);
    }
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    throw new ServiceError("PROTOCOL_REJECTED", res.status, `${where}: ${res.status} redirect refused (a service endpoint answers itself)`);
  }
  try {
    return { status: res.status, bytes: await readCapped(res, where) };
  } catch (e) {
    if (e instanceof ServiceError) throw e;
    throw new ServiceError("SERVICE_UNREACHABLE", 0, `${where}: the response did not arrive (${(e as Error).message})`);
  }
}

/** Whether `body` is an envelope signed by its sender (scheme != None); false for bytes that are no envelope. */
function signedEnvelope(body: Uint8Array): boolean {
  try {
    return openEnvelope(body).scheme !== Scheme.None;
  } catch {
    return false;
  }
}

/**
 * Posts an envelope to `${base}${path}`.
 * @param base - the service URL (http://host:port)
 * @param path - the route (/v1/join)
 * @param body - the envelope bytes (resent unchanged on retry)
 * @param policy - attempts, per-attempt timeout, first back-off (doubled each time)
 * @returns the reply bytes
 * @throws ServiceError (final 4xx, or every attempt failed)
 */
export async function postEnvelope(base: string, path: string, body: Uint8Array, policy: RetryPolicy = DEFAULT_RETRY): Promise<Uint8Array> {
  let last: ServiceError | undefined;
  for (let i = 0; i < policy.attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, policy.backoffMs * 2 ** Math.min(i - 1, 5)));
    let res: { status: number; bytes: Uint8Array };
    try {
      res = await fetchBounded(base, path, policy.timeoutMs, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: Buffer.from(body),
      });
    } catch (e) {
      if (!(e instanceof ServiceError) || e.status !== 0) throw e;
      last = e;
      continue;
    }
    if (res.status >= 200 && res.status < 300) return res.bytes;
    let j: { error?: string; reason?: string; message?: string } = {};
    try {
      j = JSON.parse(new TextDecoder().decode(res.bytes)) as typeof j;
    } catch {
      /* not JSON */
    }
    const code: ErrorCode = KNOWN.includes(j.error as ErrorCode) ? (j.error as ErrorCode) : "PROTOCOL_REJECTED";
    const err = new ServiceError(
      code,
      res.status,
      `${base}${path}: ${res.status} ${j.reason ?? j.error ?? ""} ${j.message ?? ""}`.trim(),
      j.reason,
      signedEnvelope(body),
    );
    // a 429 from the service's policy (QUOTA_EXCEEDED: the MSRP's group quota) holds until its
    // window ends: final now; a 429 from the rate limit is retried
    if ((res.status !== 429 || code === "QUOTA_EXCEEDED") && res.status < 500) throw err;
    last = err;
  }
  throw last ?? new ServiceError("PROTOCOL_REJECTED", 0, `${base}${path}: no attempt made`);
}

/** GETs a JSON document from a service. */
export async function getJson<T>(base: string, path: string, timeoutMs = 10_000): Promise<T> {
  const res = await fetchBounded(base, path, timeoutMs);
  if (res.status < 200 || res.status >= 300) throw new ServiceError("PROTOCOL_REJECTED", res.status, `${base}${path}: ${res.status}`);
  try {
    return JSON.parse(new TextDecoder().decode(res.bytes)) as T;
  } catch {
    throw new ServiceError("PROTOCOL_REJECTED", res.status, `${base}${path}: the response is not JSON`);
  }
}

/**
 * Whether a refusal proves that these very request bytes were not served and never will be, so that
 * a client may drop what it keeps pending for them (the transport key a reply would be sealed to, a
 * party's new keys, the request itself): a 4xx other than 429 and 409. No 409 proves it: AGENT_STATE
 * or KEYSTORE_EXISTS ("already registered", "already done") may be the service's own half-done
 * state for this very request, whose first attempt was served while its reply was lost (h11-red
 * R4), and REQUEST_ID_REUSED says only that the id was answered for other bytes, which may be a copy
 * of this request made on the path (s23-rth F1: an unsigned request's session and issuedAt are
 * signed by nobody). For a signed request (scheme != None) nobody on the path can make such a copy:
 * REQUEST_ID_REUSED there says the id was taken by other bytes its own sender signed, so it is final
 * (s23-review finding 5). Otherwise the pending state is kept, the next run resends the same bytes, and the
 * service's reply cache (by id and payload) or the chain tells the outcome; `--abandon`
 * (offchain/services/pending.ts) drops it once the chain and the service say it did not take effect.
 * @param e - what postEnvelope threw
 */
export function refusedForGood(e: unknown): boolean {
  if (!(e instanceof ServiceError) || e.status < 400 || e.status >= 500 || e.status === 429) return false;
  if (e.status !== 409) return true;
  return e.reason === "REQUEST_ID_REUSED" && e.signedRequest === true;
}

/**
 * What a client does with a failed request that it keeps pending: drops the pending record when the
 * refusal is for good ({@link refusedForGood}); after a 409 that is not, or a 429 QUOTA_EXCEEDED, says in the error that the
 * request is kept and how to retry it (one line).
 * @param e - what postEnvelope threw
 * @param drop - removes the pending record
 * @param what - the pending record's name and the command that resends it (for the message)
 * @returns the error to throw
 */
export function settlePending(e: unknown, drop: () => void, what: string): unknown {
  if (refusedForGood(e)) {
    drop();
    return e;
  }
  if (e instanceof ServiceError && (e.status === 409 || e.code === "QUOTA_EXCEEDED"))
    return new ServiceError(e.code, e.status, `${e.message} (the request is kept: ${what})`, e.reason);
  return e;
}
