/**
 * The one test for "the connection dropped under a request" (a socket that was open was reset or
 * closed by the other side), shared by the JSON-RPC transport (transport.ts: a repeatable request
 * is sent again) and the service client (services/client.ts: a GET is sent again once). Not a
 * refusal (ECONNREFUSED: nothing was sent) and not a timeout. No hardhat import, so that service
 * clients can use it.
 */

/** Error codes of a socket that was open and was reset or closed under the request (node and undici). */
const DROPPED_CODES = new Set(["UND_ERR_SOCKET", "UND_ERR_CLOSED", "ECONNRESET", "EPIPE"]);

/** The message forms undici sometimes gives without a code. */
const DROPPED_MESSAGE = /other side closed|socket hang up|ECONNRESET/;

/**
 * Whether an error is the transport losing the connection, not the other side answering: by its
 * code or message, or its cause's (fetch wraps undici's error as `cause` of a TypeError).
 */
export function isDroppedConnection(e: unknown): boolean {
  const x = e as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  for (const y of [x, x?.cause]) {
    if (typeof y?.code === "string" && DROPPED_CODES.has(y.code)) return true;
    if (DROPPED_MESSAGE.test(String(y?.message ?? ""))) return true;
  }
  return false;
}
