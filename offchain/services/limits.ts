/**
 * A service's connection limits and timeouts by default (offchain/services/server.ts ServiceConfig;
 * the serve tasks' --max-connections, --max-connections-per-address, --headers-timeout,
 * --request-timeout). No imports: the tasks read it when Hardhat loads them.
 */
export const CONNECTION_DEFAULTS = {
  /** connections held open at once, in all */
  total: 1024,
  /** connections held open at once from one client address */
  perAddress: 64,
  /** ms to receive a request's headers */
  headersMs: 10_000,
  /** ms to receive a whole request */
  requestMs: 30_000,
  /** ms a socket with no traffic is kept */
  idleMs: 30_000,
  /** ms an idle kept-alive connection is kept between requests */
  keepAliveMs: 5_000,
} as const;
