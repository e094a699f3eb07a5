/**
 * An on-path HTTP relay for service tests: forwards every request to a target service, after
 * calling `seen` on each POST body (to observe, count or race it); a POST for which `seen`
 * returns false is dropped (the relay answers 503 and forwards nothing).
 */
import http from "http";

/** An on-path relay in front of `target`: forwards every request, and calls `seen` on each body first. */
export async function relay(
  target: string,
  seen: (path: string, body: Uint8Array) => Promise<void | boolean>,
): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = new Uint8Array(Buffer.concat(chunks));
        const pass = req.method === "POST" ? await seen(req.url ?? "", body).catch(() => undefined) : undefined;
        if (pass === false) {
          res.writeHead(503, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "UNAVAILABLE", message: "relay: dropped" }));
          return;
        }
        const r = await fetch(new URL(req.url ?? "/", target), {
          method: req.method,
          headers: req.headers["content-type"] ? { "content-type": String(req.headers["content-type"]) } : {},
          body: req.method === "POST" ? Buffer.from(body) : undefined,
        });
        res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/octet-stream" });
        res.end(Buffer.from(await r.arrayBuffer()));
      })();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const a = server.address() as { port: number };
  return { url: `http://127.0.0.1:${a.port}`, close: () => server.close() };
}
