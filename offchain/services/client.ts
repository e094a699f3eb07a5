/**
 * The client side of the service framework: posts an envelope and returns the reply's bytes,
 * retrying what can be retried (a dropped connection, a timeout, 429 and 5xx) with the same bytes,
 * so that the server's reply cache answers a retry of a request it already served. A 4xx other
 * than 429 is final: it becomes a {@link ServiceError} with the server's code and reason.
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

const KNOWN: ErrorCode[] = ["MESSAGE_MALFORMED", "PROTOCOL_REJECTED", "AGENT_STATE", "DECRYPTION_FAILED", "INVALID_PARAMETER"];

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
    if (res.status !== 429 && res.status < 500) throw err;
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
