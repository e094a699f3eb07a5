/**
 * The service framework (issue 19): a Fastify server that carries envelopes
 * (offchain/services/envelope.ts) over HTTP, with the limits every service shares.
 *
 * - Bound to 127.0.0.1 unless told otherwise; HTTPS when a key and certificate are configured.
 * - Every protocol route is `POST /v1/<name>` with an `application/octet-stream` body (the envelope);
 *   the content type is checked by schema, the body size by `bodyLimit` (413 above it), the rate per
 *   client address by @fastify/rate-limit (429), and the envelope by its strict decoder.
 * - Errors are JSON `{ error, reason?, message }` with a 4xx status for anything the client sent
 *   ({@link statusOf}), 429 QUOTA_EXCEEDED when a service's own policy refuses the request for now
 *   (the MSRP's group quota: nothing changed, and a retry before the window ends is refused again), 422 CHAIN_REFUSED when a contract reverted with one of its custom errors
 *   (deterministic: the request is refused against the current state, so retrying it is useless),
 *   502 when a service behind it failed, 503 when the chain or IPFS is
 *   unreachable, 500 for a bug; the service stays up. A client retries 429 and 5xx, never another 4xx.
 * - The handler is the service's adapter around its agent; the framework knows nothing of RSMS.
 */
import fs from "fs";
import Fastify, { type FastifyInstance } from "fastify";
import rateLimit from "@fastify/rate-limit";
import { MetatrustError } from "../errors";
import { EnvelopeError } from "./envelope";
import { ServiceError } from "./client";
import { contractRevert } from "../chain/reverts";
import { EnrolmentTokenError } from "./enrolment";
import { CONNECTION_DEFAULTS } from "./limits";
import { isIPv4, isIPv6 } from "net";

/** How a service listens. */
export type ServiceConfig = {
  /** for logs and errors */
  name: string;
  /** default 127.0.0.1 */
  host?: string;
  /** default 0: a free port (the bound one is returned) */
  port?: number;
  /** HTTPS: paths to a PEM key and certificate */
  tls?: { key: string; cert: string };
  /** largest accepted body in bytes (default 16 KiB: the largest RSMS message is 185 bytes) */
  bodyLimit?: number;
  /** requests per client address per window (default 600 per minute) */
  rateLimit?: { max: number; windowMs: number };
  /**
   * The address (or comma-separated addresses or CIDRs) of a reverse proxy in front of the service
   * (a TLS terminator): the client's address is then the one that proxy forwards in
   * X-Forwarded-For, so that the rate limit counts each client, not the proxy. Unset (the
   * default): the socket's address, and the header is ignored, so a client cannot forge it.
   */
  trustProxy?: string;
  /**
   * Connections held open at once (s23-rth F5: one address's idle or half-open sockets used up the
   * process's file descriptors, and every file write of every other party failed): at most `total`
   * (default 1024) and `perAddress` from one client address (default 64; not applied with
   * `trustProxy`, where every client comes through the proxy's address and the proxy bounds them).
   * A connection above a cap is closed at once.
   */
  connections?: { total?: number; perAddress?: number };
  /**
   * Timeouts (ms): `headers` to receive a request's headers (default 10 s), `request` to receive a
   * whole request (default 30 s), `idle` a socket with no traffic (default 30 s), `keepAlive` an idle
   * kept-alive connection between requests (default 5 s).
   */
  timeouts?: { headers?: number; request?: number; idle?: number; keepAlive?: number };
};

export { CONNECTION_DEFAULTS };

/**
 * A binary route: the request envelope in, the reply envelope out; `rateLimit`: a quota of its own
 * per client address (on top of the service's), for a route whose request costs more than others.
 */
export type BinaryRoute = { path: string; handle(request: Uint8Array): Promise<Uint8Array>; rateLimit?: { max: number; windowMs: number } };

/** A running service. */
export type RunningService = { url: string; port: number; app: FastifyInstance; close(): Promise<void> };

/**
 * The key a client's connections are counted under for the per-address cap (s23-review finding 9):
 * an IPv4 address as is; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, how a dual-stack socket
 * names an IPv4 client) by its IPv4 address; any other IPv6 address by its /64, the least a host is
 * given, so a client cannot pass the cap by spreading its connections over the addresses of its
 * subnet.
 * @param address - the socket's remote address
 */
export function connectionKey(address: string): string {
  const bare = address.split("%")[0]; // a zone id (fe80::1%eth0) names the link, not the host
  if (!isIPv6(bare)) return bare;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  // the eight 16-bit groups (an IPv4 tail is two), "::" expanded
  const [head, tail] = bare.includes("::") ? bare.split("::") : [bare, undefined];
  const groups = (part: string | undefined) => (!part ? [] : part.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])));
  const h = groups(head);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - groups(tail).length).fill("0"), ...groups(tail)];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/** The HTTP status and JSON body of an error. */
export function statusOf(e: unknown): { status: number; body: { error: string; reason?: string; message: string } } {
  const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
  if (e instanceof EnvelopeError) {
    const status = e.reason === "BAD_SIGNATURE" ? 401 : e.reason === "REQUEST_ID_REUSED" ? 409 : e.reason === "WRONG_AUDIENCE" ? 421 : 400;
    return { status, body: { error: e.code, reason: e.reason, message: msg } };
  }
  // a registration refused for its enrolment token: 401 without one, 403 for a bad one
  if (e instanceof EnrolmentTokenError)
    return { status: e.reason === "TOKEN_REQUIRED" ? 401 : 403, body: { error: e.code, reason: e.reason, message: msg } };
  // an upstream service (the MSRP behind an RPM) failed or could not be reached: retryable, never a refusal
  if (e instanceof ServiceError && (e.status === 0 || e.status >= 500))
    return { status: 502, body: { error: "UPSTREAM_UNAVAILABLE", message: msg } };
  if (e instanceof MetatrustError) {
    const reason = (e as { reason?: string }).reason;
    // a body that does not decode is 400 whichever agent's decoder said so (the IdP's wire codecs
    // throw PROTOCOL_REJECTED with reason MALFORMED: it was 422, the RSMS's 400: s23-rth)
    const status =
      e.code === "QUOTA_EXCEEDED"
        ? 429
        : e.code === "MESSAGE_MALFORMED" || reason === "MALFORMED" || e.code.startsWith("INVALID_") || e.code === "DECRYPTION_FAILED"
          ? 400
          : e.code === "PROTOCOL_REJECTED"
            ? 422
            : e.code === "AGENT_STATE" || e.code === "KEYSTORE_EXISTS"
              ? 409
              : e.code === "IPFS_UNREACHABLE" || e.code === "CONTENT_NOT_FOUND" || e.code === "SERVICE_UNREACHABLE"
                ? 503
                : 500;
    return { status, body: { error: e.code, ...(reason ? { reason } : {}), message: msg } };
  }
  // a contract's custom error: the request is refused by the chain's rules, not a fault of the
  // service or the node (a nonce, underpriced or transport error, a Panic or a bare revert is
  // not one, and stays a 5xx below)
  const revert = contractRevert(e);
  if (revert) return { status: 422, body: { error: "CHAIN_REFUSED", reason: revert.name, message: `the chain refused: ${revert.text}` } };
  const x = e as { code?: string; statusCode?: number };
  if (typeof x.statusCode === "number" && x.statusCode >= 400 && x.statusCode < 500)
    return { status: x.statusCode, body: { error: x.code ?? "BAD_REQUEST", message: msg } };
  if (
    ["ECONNREFUSED", "NETWORK_ERROR", "SERVER_ERROR", "TIMEOUT", "ECONNRESET"].includes(x.code ?? "") ||
    /ECONNREFUSED|fetch failed/.test(msg)
  )
    return { status: 503, body: { error: "UNAVAILABLE", message: msg } };
  return { status: 500, body: { error: "INTERNAL", message: msg } };
}

const binarySchema = {
  headers: {
    type: "object",
    properties: { "content-type": { type: "string", const: "application/octet-stream" } },
    required: ["content-type"],
  },
} as const;

/**
 * Starts a service.
 * @param cfg - where and how it listens
 * @param routes - its binary routes
 * @param info - `GET /v1/info`: public, signed where it matters by the caller
 * @returns the running service (its URL has the bound port)
 */
export async function startService(
  cfg: ServiceConfig,
  routes: BinaryRoute[],
  info?: () => Promise<Record<string, unknown>>,
): Promise<RunningService> {
  const https = cfg.tls ? { key: fs.readFileSync(cfg.tls.key), cert: fs.readFileSync(cfg.tls.cert) } : undefined;
  const app = (Fastify as unknown as (o: object) => FastifyInstance)({
    logger: false,
    bodyLimit: cfg.bodyLimit ?? 16 * 1024,
    ...(https ? { https } : {}),
    connectionTimeout: cfg.timeouts?.idle ?? CONNECTION_DEFAULTS.idleMs,
    requestTimeout: cfg.timeouts?.request ?? CONNECTION_DEFAULTS.requestMs,
    keepAliveTimeout: cfg.timeouts?.keepAlive ?? CONNECTION_DEFAULTS.keepAliveMs,
    ...(cfg.trustProxy ? { trustProxy: cfg.trustProxy } : {}),
  });
  // bounded connections (s23-rth F5): in total, and per client address
  const server = app.server as import("http").Server;
  server.maxConnections = cfg.connections?.total ?? CONNECTION_DEFAULTS.total;
  server.headersTimeout = Math.min(
    cfg.timeouts?.headers ?? CONNECTION_DEFAULTS.headersMs,
    cfg.timeouts?.request ?? CONNECTION_DEFAULTS.requestMs,
  );
  const perAddress = cfg.connections?.perAddress ?? CONNECTION_DEFAULTS.perAddress;
  if (!cfg.trustProxy) {
    const open = new Map<string, number>();
    server.on("connection", (sock: import("net").Socket) => {
      const who = connectionKey(sock.remoteAddress ?? "");
      const n = (open.get(who) ?? 0) + 1;
      if (n > perAddress) return void sock.destroy();
      open.set(who, n);
      sock.once("close", () => {
        const left = (open.get(who) ?? 1) - 1;
        if (left > 0) open.set(who, left);
        else open.delete(who);
      });
    });
  }
  await app.register(rateLimit, { max: cfg.rateLimit?.max ?? 600, timeWindow: cfg.rateLimit?.windowMs ?? 60_000 });
  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err, _req, reply) => {
    const { status, body } = statusOf(err);
    if (status === 500) process.stderr.write(`${cfg.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    // a refusal by the chain is the request's, but the operator sees it (a role revoked from the service, say)
    else if (body.error === "CHAIN_REFUSED") process.stderr.write(`${cfg.name}: ${body.message}\n`);
    void reply.status(status).type("application/json").send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: "NOT_FOUND", message: `${cfg.name}: no route ${req.method} ${req.url}` });
  });
  for (const r of routes) {
    const limit = r.rateLimit ? { config: { rateLimit: { max: r.rateLimit.max, timeWindow: r.rateLimit.windowMs } } } : {};
    app.post(r.path, { schema: binarySchema, ...limit }, async (req, reply) => {
      const body = req.body as Buffer;
      const out = await r.handle(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
      return reply.type("application/octet-stream").send(Buffer.from(out));
    });
  }
  if (info) app.get("/v1/info", async () => info());
  // not rate-limited: a supervisor must see the service alive during a flood
  app.get("/v1/health", { config: { rateLimit: false } }, async () => ({ ok: true, service: cfg.name }));
  const host = cfg.host ?? "127.0.0.1";
  await app.listen({ host, port: cfg.port ?? 0 });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : (cfg.port ?? 0);
  const url = `${https ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return { url, port, app, close: () => app.close() };
}
