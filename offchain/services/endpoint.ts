/**
 * Endpoints read from the chain or from a peer (h11-red "authority SSRF", closed in session 13). A
 * place authority, an RPM and the IdP announce their service URLs on-chain; users' clients and the
 * other authorities fetch them. An announced URL is anyone-with-the-role's choice: without checks,
 * a malicious authority could point every user's client (and every other authority) at
 * `http://169.254.169.254/…`, `file:`, a host on their private network, a URL with credentials, or
 * a redirect to any of them, and make them send a request there.
 *
 * The rules, for every URL read from chain or from a peer ({@link checkEndpoint}):
 * - the scheme is http or https, the URL carries no user name or password, it has a host;
 * - its host is not loopback, private, link-local, unique-local, unspecified, multicast or
 *   `localhost` (a literal address, or every address a name resolves to), unless private endpoints
 *   are allowed: on a local development chain (chain id 31337: hardhat and `hardhat node`), or when
 *   the operator sets METATRUST_ALLOW_PRIVATE_ENDPOINTS=1 (a deployment on a private network);
 *   METATRUST_ALLOW_PRIVATE_ENDPOINTS=0 refuses them even on a development chain.
 * And for every fetch the service clients make (offchain/services/client.ts, whatever the URL's
 * origin): the same scheme and credential rule ({@link checkUrlShape}), no redirect followed (a 3xx
 * is an error naming the URL), a response of at most {@link MAX_RESPONSE_BYTES}, and a time limit.
 *
 * Limit: a name is resolved here and again by fetch, so a DNS server that answers a public address
 * first and a private one next (rebinding) passes; the replies are signed by the announcing party's
 * account, so what it gets is a request sent, not data read back.
 */
import { isIP } from "net";
import { promises as dns } from "dns";
import { MetatrustError } from "../errors";

/** The environment switch for private endpoints: "1" allows them, "0" refuses them even on a development chain. */
export const ALLOW_PRIVATE_ENV = "METATRUST_ALLOW_PRIVATE_ENDPOINTS";
/** The chain id of hardhat's in-process network and of `hardhat node` (localhost). */
export const DEV_CHAIN_ID = 31337n;
/** The largest response a service client reads (the largest reply is a few KiB; /v1/info is smaller). */
export const MAX_RESPONSE_BYTES = 1 << 20;

/** An endpoint refused by the rules above (nothing was fetched). */
export class EndpointError extends MetatrustError {
  constructor(message: string) {
    super("INVALID_PARAMETER", message);
  }
}

/**
 * Whether private endpoints are allowed on the chain `chainId`.
 * @param chainId - the deployment's chain id
 * @param env - the environment ({@link ALLOW_PRIVATE_ENV})
 */
export function privateEndpointsAllowed(chainId: bigint, env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env[ALLOW_PRIVATE_ENV];
  if (v === "1") return true;
  if (v === "0") return false;
  return chainId === DEV_CHAIN_ID;
}

/**
 * Checks a URL's scheme and credentials (any URL a service client fetches).
 * @param url - the URL
 * @param who - what it is, for the message ("the authority 0xab…'s endpoint")
 * @returns the parsed URL
 * @throws EndpointError naming `who` and the URL
 */
export function checkUrlShape(url: string, who: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EndpointError(`${who}: "${url}" is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new EndpointError(`${who}: ${JSON.stringify(url)} is not http or https (${u.protocol})`);
  if (u.username || u.password) throw new EndpointError(`${who}: ${u.protocol}//${u.host}… carries credentials in the URL`);
  if (!u.hostname) throw new EndpointError(`${who}: "${url}" has no host`);
  return u;
}

/** Whether a literal IPv4 or IPv6 address is loopback, private, link-local, unique-local, unspecified, multicast or reserved. */
export function isPrivateAddress(ip: string): boolean {
  const a = ip.replace(/^\[|\]$/g, "").toLowerCase();
  if (isIP(a) === 4) {
    const [x, y] = a.split(".").map(Number);
    return (
      x === 0 ||
      x === 10 ||
      x === 127 ||
      (x === 100 && y >= 64 && y < 128) || // carrier-grade NAT
      (x === 169 && y === 254) ||
      (x === 172 && y >= 16 && y < 32) ||
      (x === 192 && y === 168) ||
      (x === 198 && (y === 18 || y === 19)) ||
      x >= 224
    );
  }
  if (isIP(a) === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    if (mapped) return isPrivateAddress(mapped[1]);
    const v4hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
    if (v4hex) {
      const hi = parseInt(v4hex[1], 16);
      const lo = parseInt(v4hex[2], 16);
      return isPrivateAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
    }
    return a === "::" || a === "::1" || /^f[cd]/.test(a) || /^fe[89ab]/.test(a) || /^ff/.test(a);
  }
  return false;
}

/**
 * Checks an endpoint read from the chain or from a peer before anyone fetches it.
 * @param url - the announced URL
 * @param who - who announced it, for the message ("discoverAuthorities: the authority 0xab… of PL1")
 * @param chainId - the deployment's chain id (private hosts are allowed on a development chain)
 * @param env - the environment ({@link ALLOW_PRIVATE_ENV})
 * @returns the URL unchanged
 * @throws EndpointError naming `who` and the URL
 */
export async function checkEndpoint(url: string, who: string, chainId: bigint, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const u = checkUrlShape(url, who);
  if (privateEndpointsAllowed(chainId, env)) return url;
  const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const refuse = (why: string) =>
    new EndpointError(`${who}: ${url} is ${why}; private endpoints are allowed on a development chain or with ${ALLOW_PRIVATE_ENV}=1`);
  if (host === "localhost" || host.endsWith(".localhost")) throw refuse("a loopback host");
  if (isIP(host)) {
    if (isPrivateAddress(host)) throw refuse("a loopback, private or link-local address");
    return url;
  }
  let addrs: { address: string }[] = [];
  try {
    addrs = await dns.lookup(host, { all: true });
  } catch {
    return url; // it does not resolve: fetch fails on its own
  }
  const inside = addrs.find((x) => isPrivateAddress(x.address));
  if (inside) throw refuse(`a name for the private address ${inside.address}`);
  return url;
}
