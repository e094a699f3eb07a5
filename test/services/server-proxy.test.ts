/**
 * Red team (h8-redrsms), finding F4, severity MEDIUM (availability), fixed: behind the
 * TLS-terminating proxy that docs/deploy.md recommends, the per-client rate limit was one limit
 * for everybody.
 *
 * The rate limit (@fastify/rate-limit) counts requests per client address, and a service takes
 * its client's address from the socket. Behind a proxy on the same host every request comes from
 * the proxy's address, so one client that sends `--rate-limit` requests a minute (600 by default,
 * 10 a second) gets every other RN, RPM and user refused with 429 for the rest of the minute.
 * The fix: `ServiceConfig.trustProxy` (`--trust-proxy` on every serve task) names the proxy, whose
 * X-Forwarded-For then gives the client's address. The test passes when a service told which
 * proxy to trust counts each client by the address that proxy forwards (it fails without the
 * option), and a service exposed directly ignores that header (a client cannot shed its count by
 * forging it).
 */
import { expect } from "chai";
import { startService, type RunningService } from "../../offchain/services/server";

const post = (url: string, from?: string) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", ...(from ? { "x-forwarded-for": from } : {}) },
    body: Buffer.from([1]),
  });

describe("red team F4 (MEDIUM, fixed): one client behind the recommended TLS proxy rate-limits everybody", () => {
  const echo = [{ path: "/v1/echo", handle: async (b: Uint8Array) => b }];
  let proxied: RunningService;
  let direct: RunningService;
  before(async () => {
    const limit = { max: 5, windowMs: 60_000 };
    // the proxy runs on the same host: its address is loopback
    proxied = await startService({ name: "proxied", port: 0, rateLimit: limit, trustProxy: "127.0.0.1" }, echo);
    direct = await startService({ name: "direct", port: 0, rateLimit: limit }, echo);
  });
  after(async () => {
    await proxied?.close();
    await direct?.close();
  });

  it("behind a trusted proxy, a flood from one client leaves another client served", async () => {
    const flood = await Promise.all(Array.from({ length: 8 }, () => post(`${proxied.url}/v1/echo`, "203.0.113.66").then((r) => r.status)));
    expect(flood.filter((c) => c === 429).length, "the flooder is limited").to.be.greaterThan(0);
    expect((await post(`${proxied.url}/v1/echo`, "198.51.100.7")).status, "an honest client behind the same proxy").to.equal(200);
  });

  it("exposed directly, a forged X-Forwarded-For does not give a flooder a fresh count", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) codes.push((await post(`${direct.url}/v1/echo`, `198.51.100.${i}`)).status);
    expect(codes.filter((c) => c === 429).length).to.equal(3);
  });
});
