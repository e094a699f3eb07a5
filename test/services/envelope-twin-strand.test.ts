/**
 * Red team s19-reds, finding R1, severity MEDIUM (a party stranded for good), fixed: an account-signed
 * (ECDSA) envelope had more than one byte encoding that verifies, and the services' idempotency is
 * keyed on the bytes.
 *
 * An envelope's ECDSA signature is r || s || v. The check (`fromAccount` -> ethers'
 * `recoverAddress(digest, Signature.from(sig))`) reads the v byte through `getNormalizedV`, which
 * takes 27 and 0 alike, 28 and 1, and every byte from 35 up by its parity (EIP-155 style): 113 of
 * the 256 values of the last byte verify for every signature. The reply cache (services/replies.ts)
 * and a reply's `inReplyTo` name a request by keccak256 of all its bytes, signature included.
 *
 * Attack (capability: sees a client's request once on its way and sends first, e.g. a relay or
 * proxy on the path, or an observer that wins the race): take the RPM's enrolment, set its last
 * byte from 27 to 0 (or 28 to 1), send the twin. The MSRP verifies it, creates the pool on-chain
 * for this RPM and caches its reply (sk_RPM sealed to the RPM's transport key) under the twin's
 * hash, for good. The RPM's own request, and every retry of it, is then another request under the
 * same id: REQUEST_ID_REUSED, a refusal, on which the client drops its transport key. The pool is
 * on-chain with a key nobody will ever open, and its id is burned (a new request finds the pool
 * on-chain). The attacker needs no key and no lasting position: one request, once.
 *
 * The fix (services/envelope.ts verifyEnvelope): an account signature verifies only in the one
 * encoding accounts sign, v 27 or 28 and s at most n/2 (ethers already refuses s with its top bit set,
 * OpenZeppelin's ECDSA every s above n/2); anything else is BAD_SIGNATURE (401) before any handler runs.
 * The test passes when the twin is refused and the RPM's own retry then gets its keys; without the
 * fix it fails: "stranded: the twin was served (200), pool 5 is on-chain for <the RPM>, and the RPM's
 * own request is refused: 409 REQUEST_ID_REUSED".
 */
import { expect } from "chai";
import http from "http";
import { funded, startMsrp, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { enrolRpm } from "../../offchain/services/rsms/clients";

describe("red team s19-reds R1 (MEDIUM, fixed): an account-signed envelope's twin (another v byte) strands the sender", function () {
  this.timeout(300_000);

  it("the MSRP refuses an RPM enrolment whose v byte was rewritten, and the RPM's own request then gets its keys", async () => {
    const { dep, msrp, msrpUrl } = await startMsrp();
    // The attacker on the path: the first POST goes on as its twin (v 27 -> 0, 28 -> 1), and the
    // MSRP's answer to it is not passed back (the RPM sees a 503 and will retry its own bytes).
    let twinSent = false;
    let twinStatus = 0;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void (async () => {
          let body = Buffer.concat(chunks);
          const twin = req.method === "POST" && !twinSent;
          if (twin) {
            twinSent = true;
            body = Buffer.from(body);
            const v = body[body.length - 1];
            expect([27, 28], "the RPM signs with v = 27 or 28").to.include(v);
            body[body.length - 1] = v - 27;
          }
          const r = await fetch(new URL(req.url!, msrpUrl), {
            method: req.method,
            headers: req.method === "POST" ? { "content-type": "application/octet-stream" } : {},
            body: req.method === "POST" ? body : undefined,
          });
          const reply = Buffer.from(await r.arrayBuffer());
          if (twin) {
            twinStatus = r.status;
            res.writeHead(503, { "content-type": "application/json" });
            res.end(JSON.stringify({ error: "UNAVAILABLE", message: "reply withheld" }));
            return;
          }
          res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/octet-stream" });
          res.end(reply);
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
        poolId: 5,
        rid: "Operator Five",
        wallet,
        keystore: ks,
        dep,
        retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
      };
      await expect(enrolRpm(args)).to.be.rejected;
      expect(twinSent, "the relay saw the enrolment").to.equal(true);
      // the RPM's own request (the same bytes as its first send, kept in its keystore), straight to the MSRP
      const own = await enrolRpm({ ...args, msrpUrl }).then(
        (rec) => ({ rec, error: undefined }),
        (e: Error) => ({ rec: undefined, error: e }),
      );
      const onChain = await dep.ledger.pool(5);
      if (own.error)
        expect.fail(
          `stranded: the twin was served (${twinStatus}), pool 5 is on-chain for ${onChain?.rpm ?? "nobody"}, and the RPM's own request is refused: ${own.error.message}`,
        );
      // the twin is no request of the RPM's: refused, nothing done; the RPM's own request enrolled it
      expect(twinStatus, "the MSRP's status for the twin").to.equal(401);
      expect(onChain?.rpm).to.equal(wallet.address);
      expect(own.rec!.pid).to.equal(`0x${Buffer.from(onChain!.pidRpm).toString("hex")}`);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await msrp.stop();
    }
  });
});
