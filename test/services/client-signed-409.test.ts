/**
 * s23-review finding 5, fixed: REQUEST_ID_REUSED is final for a signed request (scheme != None) and
 * not for an unsigned one (client.ts refusedForGood). Nobody on the path can copy a signed request
 * with other bytes under its id, so the refusal says its own sender took the id for other bytes:
 * the pending state for these bytes can go. An unsigned request's header can be changed on the path
 * (s23-rth F1), so there the 409 proves nothing and the pending state is kept. Other 409s (the
 * service's own half-done state) stay not final for both.
 */
import { expect } from "chai";
import http from "http";
import type { AddressInfo } from "net";
import { ServiceError, postEnvelope, refusedForGood, settlePending } from "../../offchain/services/client";
import { Kind, Route, Scheme, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";

const ONCE = { attempts: 1, timeoutMs: 10_000, backoffMs: 10 };

describe("client: REQUEST_ID_REUSED is final for signed requests only", () => {
  let server: http.Server;
  let url = "";
  let reason = "REQUEST_ID_REUSED";
  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(409, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "MESSAGE_MALFORMED", reason, message: "request id in use" }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const fields = () => ({
    kind: Kind.Request,
    route: Route.JoinForward,
    audience: new Uint8Array(32),
    session: freshId(),
    requestId: freshId(),
    issuedAt: Date.now(),
    inReplyTo: new Uint8Array(32),
    body: Uint8Array.of(1, 2, 3),
  });
  const refusal = async (env: Uint8Array) => {
    const e = await postEnvelope(url, "/v1/x", env, ONCE).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(ServiceError);
    return e as ServiceError;
  };

  it("a signed request's REQUEST_ID_REUSED drops its pending state; an unsigned one's keeps it", async () => {
    reason = "REQUEST_ID_REUSED";
    const signed = await refusal(sealEnvelope(fields(), { scheme: Scheme.Schnorr, sk: 7n }));
    expect(signed.status).to.equal(409);
    expect(refusedForGood(signed), "signed").to.equal(true);
    let dropped = false;
    settlePending(signed, () => (dropped = true), "p");
    expect(dropped, "signed: pending dropped").to.equal(true);

    const unsigned = await refusal(sealEnvelope(fields(), { scheme: Scheme.None }));
    expect(refusedForGood(unsigned), "unsigned").to.equal(false);
    dropped = false;
    const kept = settlePending(unsigned, () => (dropped = true), "p; run it again") as Error;
    expect(dropped, "unsigned: pending kept").to.equal(false);
    expect(kept.message).to.match(/the request is kept/);
  });

  it("another 409 is not final, signed or not", async () => {
    reason = "AGENT_STATE";
    expect(refusedForGood(await refusal(sealEnvelope(fields(), { scheme: Scheme.Schnorr, sk: 7n })))).to.equal(false);
    expect(refusedForGood(await refusal(sealEnvelope(fields(), { scheme: Scheme.None })))).to.equal(false);
  });
});
