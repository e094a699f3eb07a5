/**
 * The first GET after a service restarted on the same port (session 13's open item, seen once in
 * group-channel-log.test.ts): a kept-alive socket to the stopped server is reused for it, the old
 * server's close reaches the client only after the request is written, and the request fails
 * ("fetch failed") though the new server is up. A GET is idempotent: `getJson` retries it once, on
 * a new connection, when the socket was reset or closed under it (offchain/services/client.ts).
 *
 * The interleaving is injected, not waited for: the old server is a raw socket server that keeps
 * its connection open after it stops listening and resets it when the client's next request
 * arrives (what a killed process's socket does when its FIN has not yet been read).
 */
import { expect } from "chai";
import http from "http";
import net from "net";
import { getJson, ServiceError } from "../../offchain/services/client";

/** The old service: answers one request per connection with {gen: 1}, then resets on the next. */
function oldService(port = 0): Promise<{ server: net.Server; port: number; served: () => number; resets: () => number }> {
  let served = 0;
  let resets = 0;
  const server = net.createServer((sock) => {
    let answered = false;
    sock.on("data", () => {
      if (answered) {
        resets++;
        sock.resetAndDestroy(); // the client wrote on a socket whose server is gone
        return;
      }
      answered = true;
      served++;
      const body = JSON.stringify({ gen: 1 });
      sock.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`,
      );
    });
    sock.on("error", () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(port, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as net.AddressInfo).port, served: () => served, resets: () => resets }),
    ),
  );
}

describe("getJson after a service restart on the same port (a stale kept-alive socket)", () => {
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });

  it("the first GET after the restart is answered by the new server, the stale socket retried once", async () => {
    const old = await oldService();
    open.push(old.server);
    const url = `http://127.0.0.1:${old.port}`;
    expect(await getJson<{ gen: number }>(url, "/v1/info")).to.deep.equal({ gen: 1 });
    await new Promise((r) => setTimeout(r, 50)); // the socket is back in the pool (a restart takes longer)
    // the restart: the old server stops listening (its connection stays open, as a dying process's
    // does until its close is read), a new one listens on the same port
    old.server.close(); // (its callback waits for the open connection: not awaited)
    const fresh = http.createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ gen: 2 }));
    });
    open.push(fresh);
    await new Promise<void>((r) => fresh.listen(old.port, "127.0.0.1", () => r()));
    const first = await getJson<{ gen: number }>(url, "/v1/info").catch((e: Error) => e.message);
    expect({ first, resets: old.resets() }, "the stale socket was used and reset, and the GET retried on a new one").to.deep.equal({
      first: { gen: 2 },
      resets: 1,
    });
    expect(old.served()).to.equal(1);
  });

  it("a GET to a port nobody listens on is refused, not resent: one line naming the URL and the cause", async () => {
    const probe = await oldService();
    const port = probe.port;
    await new Promise<void>((r) => probe.server.close(() => r()));
    const err = await getJson(`http://127.0.0.1:${port}`, "/v1/info").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ServiceError);
    expect((err as ServiceError).message).to.match(
      new RegExp(`^http://127\\.0\\.0\\.1:${port}/v1/info: not reachable \\(fetch failed: .*ECONNREFUSED.*\\)$`),
    );
  });
});
