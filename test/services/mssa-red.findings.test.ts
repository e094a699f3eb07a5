/**
 * Red team (h9-red): attacks on the MSSA authority services that got through. Each test passes
 * when the attack is refused and fails while it gets through (`npm run test:findings`; the normal
 * run skips *.findings.test.ts).
 */
import { expect } from "chai";
import http from "http";
import path from "path";
import { Wallet } from "ethers";
import { Keystore } from "../../offchain/storage/keystore";
import { registerRemote } from "../../offchain/services/mssa/clients";
import { decodeKeyRequest, encodeKeyRequest } from "../../offchain/services/mssa/wire";
import { Route, openEnvelope } from "../../offchain/services/envelope";
import { postEnvelope } from "../../offchain/services/client";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { tmp } from "../helpers/rsms-services";
import { startPlace, type MssaPlace } from "../helpers/mssa-services";

/** An on-path relay in front of `target`: forwards every request, and calls `seen` on each body first. */
async function relay(target: string, seen: (path: string, body: Uint8Array) => Promise<void>): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = new Uint8Array(Buffer.concat(chunks));
        if (req.method === "POST") await seen(req.url ?? "", body).catch(() => undefined);
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

describe("h9-red findings: MSSA authority services", function () {
  this.timeout(240_000);
  let P: MssaPlace;

  before(async () => {
    P = await startPlace("PL-red-f");
  });
  after(async () => P?.stop());

  /**
   * F5 (LOW) - session squatting. A registration session id is chosen by the user and each
   * authority keys its one-time key by the session alone. Whoever sees alice's key request to the
   * first authority (an on-path observer without TLS, or that authority itself colluding with any
   * account) asks the second authority for a key in the same session from an account of his own,
   * before alice does: the second authority issues it to him, and refuses alice (key-reuse), so
   * her registration fails; every new session can be squatted the same way. Refused when a key
   * request from another account for the same session id does not block alice.
   */
  it("F5: a key request from another account in alice's session, sent first to the second authority, does not stop her registration", async () => {
    const mallory = Wallet.createRandom();
    let squatted = "";
    const onPath = await relay(P.urls[0], async (p, body) => {
      if (p !== "/v1/mssa/key" || squatted) return;
      const m = decodeKeyRequest(openEnvelope(body).body);
      squatted = m.session;
      const mine = encodeKeyRequest({ session: m.session, user: mallory.address, bits: m.bits, transport: mulBase(randomScalar()) });
      await postEnvelope(P.urls[1], "/v1/mssa/key", P.req(1, Route.MssaKey, mine, mallory), { attempts: 1, timeoutMs: 30_000, backoffMs: 10 });
    });
    try {
      const alice = Wallet.createRandom();
      const outcome = await registerRemote({
        urls: [onPath.url, P.urls[1]],
        place: P.place,
        user: alice,
        infos: ["mail:alice@example.org", "passport:SQUAT-1"],
        dep: P.dep,
        keystore: new Keystore(path.join(tmp("alice-f"), "keystore"), ""),
        retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
      }).then(
        (r) => (r.outcome.granted ? "granted" : "pending"),
        (e: Error) => e.message.split("\n")[0],
      );
      expect(squatted).to.match(/^0x[0-9a-f]{64}$/);
      expect(outcome).to.equal("granted");
    } finally {
      onPath.close();
    }
  });
});
