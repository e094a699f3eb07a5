/**
 * Red team (session 13, h11-red's "authority SSRF"): a place authority announces the URL of its
 * service on-chain, and users' clients and the other authorities fetch it. A malicious authority
 * points it at another scheme, a URL with credentials, a host on the fetcher's private network
 * (the cloud metadata address), a redirect to any of these, or a reply too long to hold. Every
 * fetch the service clients make now keeps the rules of offchain/services/endpoint.ts: http(s)
 * only, no credentials, no redirect followed, at most MAX_RESPONSE_BYTES read; and an endpoint read
 * from chain or from a peer is refused, naming its authority, when its host is private, unless the
 * chain is a development chain or METATRUST_ALLOW_PRIVATE_ENDPOINTS=1.
 */
import { expect } from "chai";
import http from "http";
import type { AddressInfo } from "net";
import { startPlace, type MssaPlace } from "../helpers/mssa-services";
import { placeId } from "../../offchain/mssa/registration";
import { authorityInfo, discoverAuthorities } from "../../offchain/services/mssa/clients";
import { getJson, postEnvelope } from "../../offchain/services/client";
import { ALLOW_PRIVATE_ENV, MAX_RESPONSE_BYTES, checkEndpoint, isPrivateAddress } from "../../offchain/services/endpoint";

const PL = "PL-ssrf";
const once = { attempts: 1, timeoutMs: 10_000, backoffMs: 10 };
const firstLine = (p: Promise<unknown>) =>
  p.then(
    (v) => `accepted ${JSON.stringify(v)}`,
    (e: Error) => e.message.split("\n")[0],
  );

/** A local HTTP server answering every request with `handle`; counts the requests it got. */
async function server(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const hits: string[] = [];
  const srv = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handle(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { url, hits, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

describe("h13-harden: endpoints announced on-chain are checked before they are fetched (refused SSRF)", function () {
  this.timeout(120_000);
  let p: MssaPlace;
  let victim: Awaited<ReturnType<typeof server>>;
  let redirector: Awaited<ReturnType<typeof server>>;
  let flood: Awaited<ReturnType<typeof server>>;
  const announce = async (i: number, url: string) => (await p.deps[i].ledger.setAuthorityEndpoint(placeId(PL), url)).wait();

  before(async () => {
    p = await startPlace(PL);
    victim = await server((_q, res) => res.end(JSON.stringify({ secret: "instance credentials" })));
    redirector = await server((req, res) => {
      res.statusCode = 302;
      res.setHeader("location", `${victim.url}/latest/meta-data${req.url}`);
      res.end();
    });
    flood = await server((req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 0x7b);
      // /sized declares its length; anything else streams without one
      if (req.url?.startsWith("/sized")) res.setHeader("content-length", String(MAX_RESPONSE_BYTES + 1));
      let sent = 0;
      const more = () => {
        while (sent <= MAX_RESPONSE_BYTES) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", more);
        }
        res.end();
      };
      more();
    });
  });
  after(async () => {
    delete process.env[ALLOW_PRIVATE_ENV];
    for (const s of [victim, redirector, flood]) await s?.close();
    await p?.stop();
  });
  afterEach(async () => {
    delete process.env[ALLOW_PRIVATE_ENV];
    await announce(0, p.urls[0]);
  });

  it("a redirect is not followed: the user's client (the authority's /v1/info) and a peer's post stop at the 302, and the target gets nothing", async () => {
    await announce(0, redirector.url);
    const urls = await discoverAuthorities(p.dep, PL);
    expect(urls[0]).to.equal(redirector.url);
    expect(await firstLine(authorityInfo(urls[0], PL, p.dep))).to.equal(
      `${redirector.url}/v1/info: 302 redirect refused (a service endpoint answers itself)`,
    );
    expect(await firstLine(postEnvelope(urls[0], "/v1/mssa/approve", new Uint8Array(8), once))).to.match(
      /^http:\/\/127\.0\.0\.1:\d+\/v1\/mssa\/approve: 302 redirect refused/,
    );
    expect(redirector.hits).to.deep.equal(["GET /v1/info", "POST /v1/mssa/approve"]);
    expect(victim.hits).to.deep.equal([]);
  });

  for (const [what, url, why] of [
    ["another scheme", "file:///etc/passwd", "is not http or https (file:)"],
    ["credentials in the URL", "http://admin:hunter2@127.0.0.1:9/", "carries credentials in the URL"],
  ] as const)
    it(`an endpoint with ${what} is refused by discovery, naming the authority`, async () => {
      await announce(0, url);
      const msg = await firstLine(discoverAuthorities(p.dep, PL));
      expect(msg).to.contain(`discoverAuthorities: the endpoint the authority ${p.au[0].address} of ${PL} announced`);
      expect(msg).to.contain(why);
      expect(msg).not.to.contain("hunter2");
    });

  it("off a development chain, a private host is refused by the users' discovery and by a peer authority; on one, the dev setup's 127.0.0.1 is allowed", async () => {
    expect(await discoverAuthorities(p.dep, PL)).to.deep.equal(p.urls);
    await announce(0, "http://169.254.169.254/latest/meta-data/");
    process.env[ALLOW_PRIVATE_ENV] = "0"; // as on a public chain
    expect(await firstLine(discoverAuthorities(p.dep, PL))).to.equal(
      `discoverAuthorities: the endpoint the authority ${p.au[0].address} of ${PL} announced: http://169.254.169.254/latest/meta-data/ is a loopback, private or link-local address; private endpoints are allowed on a development chain or with ${ALLOW_PRIVATE_ENV}=1`,
    );
    // the other authority, reaching its peer at the endpoint it announced (no --peers entry)
    const peers = p.deps[1].peers!;
    const saved = peers.get(p.au[0].address.toLowerCase())!;
    peers.delete(p.au[0].address.toLowerCase());
    try {
      const svc = p.services[1] as unknown as { peerUrl(a: string, step: string): Promise<string> };
      expect(await firstLine(svc.peerUrl(p.au[0].address, "verify"))).to.match(
        new RegExp(
          `^verify: the endpoint the place authority ${p.au[0].address} announced: http://169\\.254\\.169\\.254/latest/meta-data/ is a loopback`,
        ),
      );
      process.env[ALLOW_PRIVATE_ENV] = "1"; // the operator's explicit choice (a private deployment)
      expect(await svc.peerUrl(p.au[0].address, "verify")).to.equal("http://169.254.169.254/latest/meta-data/");
    } finally {
      peers.set(p.au[0].address.toLowerCase(), saved);
    }
  });

  it("a reply longer than MAX_RESPONSE_BYTES is refused, with or without a declared length", async () => {
    expect(await firstLine(getJson(flood.url, "/sized/v1/info"))).to.equal(
      `${flood.url}/sized/v1/info: the response is longer than ${MAX_RESPONSE_BYTES} bytes`,
    );
    expect(await firstLine(getJson(flood.url, "/v1/info"))).to.equal(
      `${flood.url}/v1/info: the response is longer than ${MAX_RESPONSE_BYTES} bytes`,
    );
    expect(await firstLine(postEnvelope(flood.url, "/v1/mssa/approve", new Uint8Array(8), once))).to.equal(
      `${flood.url}/v1/mssa/approve: the response is longer than ${MAX_RESPONSE_BYTES} bytes`,
    );
  });
});

describe("endpoint: checkEndpoint and isPrivateAddress", () => {
  it("classifies loopback, private, link-local, unique-local and mapped addresses as private, and public ones not", () => {
    const priv = [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "100.64.0.1",
      "::1",
      "::",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "[::1]",
      "224.0.0.1",
    ];
    const pub = ["8.8.8.8", "172.32.0.1", "93.184.216.34", "2001:4860:4860::8888", "::ffff:8.8.8.8"];
    expect(priv.filter((a) => !isPrivateAddress(a))).to.deep.equal([]);
    expect(pub.filter((a) => isPrivateAddress(a))).to.deep.equal([]);
  });
  it("refuses private hosts off a development chain unless allowed, and allows public ones", async () => {
    const off = { [ALLOW_PRIVATE_ENV]: undefined };
    const r = (url: string, chainId: bigint, env: NodeJS.ProcessEnv = off) => firstLine(checkEndpoint(url, "x", chainId, env));
    expect(await r("http://localhost:8545/", 1n)).to.match(/^x: http:\/\/localhost:8545\/ is a loopback host;/);
    expect(await r("http://[::1]:80/", 1n)).to.match(/is a loopback, private or link-local address/);
    expect(await r("http://10.0.0.5/", 1n)).to.match(/is a loopback, private or link-local address/);
    expect(await r("http://93.184.216.34/", 1n)).to.equal('accepted "http://93.184.216.34/"');
    expect(await r("http://127.0.0.1:1/", 31337n)).to.equal('accepted "http://127.0.0.1:1/"');
    expect(await r("http://127.0.0.1:1/", 1n, { [ALLOW_PRIVATE_ENV]: "1" })).to.equal('accepted "http://127.0.0.1:1/"');
    expect(await r("http://127.0.0.1:1/", 31337n, { [ALLOW_PRIVATE_ENV]: "0" })).to.match(/is a loopback, private/);
    expect(await r("ftp://93.184.216.34/", 31337n)).to.equal('x: "ftp://93.184.216.34/" is not http or https (ftp:)');
    expect(await r("not a url", 31337n)).to.equal('x: "not a url" is not a URL');
  });
});
