import { expect } from "chai";
import { AvatarProtocolError } from "../../offchain/avatars/agents";
import { execFileSync } from "child_process";
import fs from "fs";
import https from "https";
import os from "os";
import path from "path";
import { startService, statusOf, type RunningService } from "../../offchain/services/server";
import { EnvelopeError } from "../../offchain/services/envelope";
import { ServiceError } from "../../offchain/services/client";
import { Interface } from "ethers";
import { CredentialLedger__factory } from "../../typechain-types";
import { RsmsRejectedError, MalformedMessageError, AgentStateError } from "../../offchain/rsms/errors";

const post = (url: string, body: Uint8Array, type = "application/octet-stream") =>
  fetch(url, { method: "POST", headers: { "content-type": type }, body: Buffer.from(body) });

describe("services/server", () => {
  describe("# startService", () => {
    let svc: RunningService;
    let calls = 0;
    before(async () => {
      svc = await startService({ name: "t", port: 0, bodyLimit: 1024, rateLimit: { max: 30, windowMs: 60_000 } }, [
        {
          path: "/v1/echo",
          handle: async (b) => {
            calls++;
            if (b[0] === 0xff) throw new MalformedMessageError("echo: bad first byte");
            if (b[0] === 0xfe) throw new Error("a bug");
            return Uint8Array.from(b).reverse();
          },
        },
      ]);
    });
    after(() => svc.close());

    it("binds to loopback by default and carries bytes both ways", async () => {
      expect(svc.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await post(`${svc.url}/v1/echo`, Uint8Array.of(1, 2, 3));
      expect(r.status).to.equal(200);
      expect([...new Uint8Array(await r.arrayBuffer())]).to.deep.equal([3, 2, 1]);
    });

    it("an oversized body is 413, another content type 415 or 400 (by the header schema), an unknown route 404, a typed error 400, a bug 500; the handler never sees the first three", async () => {
      const before = calls;
      expect((await post(`${svc.url}/v1/echo`, new Uint8Array(1025))).status).to.equal(413);
      expect((await post(`${svc.url}/v1/echo`, Uint8Array.of(1), "application/xml")).status).to.equal(415); // no parser
      expect((await post(`${svc.url}/v1/echo`, Uint8Array.of(1), "text/plain")).status).to.equal(400); // parsed, refused by the schema
      expect((await post(`${svc.url}/v1/nope`, Uint8Array.of(1))).status).to.equal(404);
      expect(calls).to.equal(before);
      const bad = await post(`${svc.url}/v1/echo`, Uint8Array.of(0xff));
      expect(bad.status).to.equal(400);
      expect(await bad.json()).to.deep.equal({ error: "MESSAGE_MALFORMED", message: "echo: bad first byte" });
      const bug = await post(`${svc.url}/v1/echo`, Uint8Array.of(0xfe));
      expect(bug.status).to.equal(500);
      expect(((await bug.json()) as { error: string }).error).to.equal("INTERNAL");
    });

    it("a flood gets 429 from the rate limit; health is not limited and the service stays up", async () => {
      const codes = await Promise.all(Array.from({ length: 40 }, () => post(`${svc.url}/v1/echo`, Uint8Array.of(1)).then((r) => r.status)));
      expect(codes.filter((c) => c === 429).length).to.be.greaterThan(0);
      expect((await fetch(`${svc.url}/v1/health`)).status).to.equal(200);
    });
  });

  it("serves HTTPS when given a key and a certificate", async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "svc-tls-"));
    const [key, cert] = [path.join(dir, "key.pem"), path.join(dir, "cert.pem")];
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-keyout",
          key,
          "-out",
          cert,
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
          "-addext",
          "subjectAltName=IP:127.0.0.1",
        ],
        { stdio: "ignore" },
      );
    } catch {
      this.skip(); // no openssl on this machine
    }
    const svc = await startService({ name: "tls", port: 0, tls: { key, cert } }, []);
    try {
      expect(svc.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(`${svc.url}/v1/health`, { ca: fs.readFileSync(cert) }, (res) => {
            let s = "";
            res.on("data", (d) => (s += d)).on("end", () => resolve(s));
          })
          .on("error", reject);
      });
      expect(JSON.parse(body)).to.deep.equal({ ok: true, service: "tls" });
      // plain HTTP to the TLS port does not get through
      const plain = await fetch(svc.url.replace("https", "http") + "/v1/health").then(
        (r) => r.status,
        () => 0,
      );
      expect(plain).to.not.equal(200);
    } finally {
      await svc.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("# statusOf", () => {
    it("maps each error to its status: the client's fault 4xx, an upstream failure 502, a bug 500", () => {
      expect(statusOf(new EnvelopeError("BAD_SIGNATURE", "x")).status).to.equal(401);
      expect(statusOf(new EnvelopeError("REQUEST_ID_REUSED", "x")).status).to.equal(409);
      expect(statusOf(new EnvelopeError("WRONG_AUDIENCE", "x")).status).to.equal(421);
      expect(statusOf(new EnvelopeError("STALE", "x")).body).to.deep.equal({ error: "PROTOCOL_REJECTED", reason: "STALE", message: "x" });
      expect(statusOf(new EnvelopeError("STALE", "x")).status).to.equal(400);
      // a body that does not decode is 400 from every service (the IdP's decoders said 422: s23-rth)
      expect(statusOf(new AvatarProtocolError("MALFORMED", "z")).status).to.equal(400);
      expect(statusOf(new AvatarProtocolError("STALE_CHALLENGE", "z")).status).to.equal(422);
      expect(statusOf(new RsmsRejectedError("NOT_IN_FILTER", "y")).body).to.deep.equal({
        error: "PROTOCOL_REJECTED",
        reason: "NOT_IN_FILTER",
        message: "y",
      });
      expect(statusOf(new RsmsRejectedError("NOT_IN_FILTER", "y")).status).to.equal(422);
      expect(statusOf(new AgentStateError("z")).status).to.equal(409);
      expect(statusOf(new ServiceError("SERVICE_UNREACHABLE", 0, "down")).status).to.equal(502);
      expect(statusOf(new ServiceError("PROTOCOL_REJECTED", 503, "busy")).status).to.equal(502);
      expect(statusOf(new Error("boom")).status).to.equal(500);
    });

    it("a contract's custom error is 422 CHAIN_REFUSED naming it, in each stack's shape; a nonce, transport, Panic, require string or unknown revert stays 5xx", () => {
      const ledger = CredentialLedger__factory.createInterface();
      const id = "0x" + "ab".repeat(32);
      const data = ledger.encodeErrorResult("CredentialLedger__Expired", [id, 7n]);
      const want = {
        error: "CHAIN_REFUSED",
        reason: "CredentialLedger__Expired",
        message: `the chain refused: CredentialLedger__Expired(${id}, 7)`,
      };
      // ethers against a JSON-RPC node: CALL_EXCEPTION with the revert data (and nested under info.error)
      expect(
        statusOf(Object.assign(new Error("execution reverted (unknown custom error)"), { code: "CALL_EXCEPTION", data })),
      ).to.deep.equal({
        status: 422,
        body: want,
      });
      expect(
        statusOf(Object.assign(new Error("could not coalesce error"), { code: "SERVER_ERROR", info: { error: { code: 3, data } } })).status,
      ).to.equal(422);
      // ethers' decoded revert (a typechain contract)
      expect(
        statusOf(Object.assign(new Error("x"), { code: "CALL_EXCEPTION", revert: { name: "MITRegistry__NotOwner", args: [id, "0x01"] } }))
          .body,
      ).to.include({
        reason: "MITRegistry__NotOwner",
      });
      // Hardhat's in-process provider
      const hh = new Error(`VM Exception while processing transaction: reverted with custom error 'CredentialLedger__Expired("${id}", 7)'`);
      expect(statusOf(hh)).to.deep.equal({ status: 422, body: want });
      // not a recognised revert: retryable or a bug
      const panic = "0x4e487b71" + "11".padStart(64, "0");
      const requireString = new Interface(["error Error(string)"]).encodeErrorResult("Error", ["no"]);
      expect(statusOf(Object.assign(new Error("nonce too low"), { code: "NONCE_EXPIRED" })).status).to.equal(500);
      expect(
        statusOf(Object.assign(new Error("replacement transaction underpriced"), { code: "REPLACEMENT_UNDERPRICED" })).status,
      ).to.equal(500);
      expect(statusOf(Object.assign(new Error("socket hang up"), { code: "NETWORK_ERROR" })).status).to.equal(503);
      expect(statusOf(Object.assign(new Error("reverted"), { code: "CALL_EXCEPTION", data: panic })).status).to.equal(500);
      expect(statusOf(Object.assign(new Error("reverted"), { code: "CALL_EXCEPTION", data: requireString })).status).to.equal(500);
      expect(statusOf(Object.assign(new Error("reverted"), { code: "CALL_EXCEPTION", data: "0xdeadbeef" })).status).to.equal(500);
      expect(statusOf(Object.assign(new Error("reverted"), { code: "CALL_EXCEPTION", data: "0x" })).status).to.equal(500);
      expect(statusOf(new Error("reverted with custom error 'Invented__Error()'")).status).to.equal(500);
      expect(statusOf(Object.assign(new Error("x"), { revert: { name: "Invented__Error", args: [] } })).status).to.equal(500);
    });
  });
});
