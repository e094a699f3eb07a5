/**
 * Red team (h8-redrsms), finding F6, severity MEDIUM (durability), fixed: an RPM's enrolment was
 * stranded when its reply was lost and the RPM retried after the MSRP's freshness window.
 *
 * The MSRP creates the pool on-chain with PK_RPM and seals sk_RPM to the RPM's transport key in
 * its reply; a retry of the same envelope after the window is STALE (400), the client takes that
 * as a clean failure and drops its transport key, and a new request is refused because the pool
 * exists. The pool is on-chain with a key nobody holds (the MSRP keeps no copy of sk_RPM): no RN
 * can ever join it until the MSRP re-issues the pool (updatePool). The same class holds for a
 * user's group request (the group stays on-chain with its RNs allocated, and the user's retry
 * forms a second one). Issue 19: "after a restart, every in-flight protocol either completes on
 * retry or fails cleanly on both sides; no on-chain record is orphaned". The fix: a retry of the
 * very bytes a stored reply answers gets that reply however late it comes, and the replies of an
 * enrolment, a group formation and a group update are kept for good (services/replies.ts `keep`).
 * The test passes when the late retry gives the RPM the keys of the pool that was created for it;
 * it fails without the fix.
 */
import { expect } from "chai";
import http from "http";
import { funded, startMsrp, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { enrolRpm } from "../../offchain/services/rsms/clients";

const WINDOW_MS = 1500;

describe("red team F6 (MEDIUM, fixed): an RPM enrolment whose reply is lost and retried late", function () {
  this.timeout(300_000);

  it("the late retry gives the RPM the keys of the pool created for it", async () => {
    const { dep, msrp, msrpUrl } = await startMsrp({ windowMs: WINDOW_MS });
    // the network loses the MSRP's first reply
    let lose = true;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void (async () => {
          const r = await fetch(new URL(req.url!, msrpUrl), {
            method: req.method,
            headers: req.method === "POST" ? { "content-type": "application/octet-stream" } : {},
            body: req.method === "POST" ? Buffer.concat(chunks) : undefined,
          });
          const body = Buffer.from(await r.arrayBuffer());
          if (req.method === "POST" && lose) {
            lose = false;
            res.writeHead(503, { "content-type": "application/json" });
            res.end(JSON.stringify({ error: "UNAVAILABLE", message: "reply lost" }));
            return;
          }
          res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/octet-stream" });
          res.end(body);
        })();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const relayUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const wallet = await funded();
      const ks = new Keystore(tmp("rpm"), "");
      const args = {
        msrpUrl: relayUrl,
        poolId: 3,
        rid: "Operator Three",
        wallet,
        keystore: ks,
        dep,
        retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
      };
      await expect(enrolRpm(args)).to.be.rejected;
      expect((await dep.ledger.pool(3))?.rpm).to.equal(wallet.address);
      await new Promise((r) => setTimeout(r, WINDOW_MS + 300));
      const rec = await enrolRpm(args).catch((e: Error) =>
        expect.fail(`pool 3 is on-chain for this RPM, but it never gets sk_RPM: ${e.message}`),
      );
      expect(rec.pid).to.equal(`0x${Buffer.from((await dep.ledger.pool(3))!.pidRpm).toString("hex")}`);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await msrp.stop();
    }
  });
});
