/**
 * The client side of the service framework: posts an envelope and returns the reply's bytes,
 * retrying what can be retried (a dropped connection, a timeout, 429 and 5xx) with the same bytes,
 * so that the server's reply cache answers a retry of a request it already served. A 4xx other
 * than 429 is final, and so is a 429 QUOTA_EXCEEDED (a policy's window, not a rate): it becomes a {@link ServiceError} with the server's code and reason.
 */
import { MetatrustError, type ErrorCode } from "../errors";

/** A service refused the request, or could not be reached. */
export class ServiceError extends MetatrustError {
  /** HTTP status (0: not reached) */
  readonly status: number;
  /** the server's reason (e.g. NOT_IN_FILTER, STALE), if any */
  readonly reason?: string;
  constructor(code: ErrorCode, status: number, message: string, reason?: string) {
    super(code, message);
    this.status = status;
    this.reason = reason;
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
    let res: Response;
    try {
      res = await fetch(new URL(path, base), {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: Buffer.from(body),
        signal: AbortSignal.timeout(policy.timeoutMs),
      });
    } catch (e) {
      last = new ServiceError("SERVICE_UNREACHABLE", 0, `${base}${path}: not reachable (${(e as Error).message})`);
      continue;
    }
    if (res.ok) return new Uint8Array(await res.arrayBuffer());
    let j: { error?: string; reason?: string; message?: string } = {};
    try {
      j = (await res.json()) as typeof j;
    } catch {
      /* not JSON */
    }
    const code: ErrorCode = KNOWN.includes(j.error as ErrorCode) ? (j.error as ErrorCode) : "PROTOCOL_REJECTED";
    const err = new ServiceError(
      code,
      res.status,
      `${base}${path}: ${res.status} ${j.reason ?? j.error ?? ""} ${j.message ?? ""}`.trim(),
      j.reason,
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
  let res: Response;
  try {
    res = await fetch(new URL(path, base), { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new ServiceError("SERVICE_UNREACHABLE", 0, `${base}${path}: not reachable (${(e as Error).message})`);
  }
  if (!res.ok) throw new ServiceError("PROTOCOL_REJECTED", res.status, `${base}${path}: ${res.status}`);
  return (await res.json()) as T;
}

/**
 * Whether a refusal proves that these very request bytes can never be served, so that a client may
 * drop what it keeps pending for them (the transport key a reply would be sealed to, a party's new
 * keys, the request itself): a 4xx other than 429 and 409, or a 409 saying that the request id was
 * answered for another request (REQUEST_ID_REUSED). Any other 409 (AGENT_STATE, KEYSTORE_EXISTS:
 * "already registered", "already done") may be the service's own half-done state for this very
 * request, whose first attempt was served while its reply was lost (h11-red R4): the pending state
 * is kept, and the next run resends the same bytes, which the service's reply cache answers.
 * @param e - what postEnvelope threw
 */
export function refusedForGood(e: unknown): boolean {
  if (!(e instanceof ServiceError) || e.status < 400 || e.status >= 500 || e.status === 429) return false;
  return e.status !== 409 || e.reason === "REQUEST_ID_REUSED";
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
