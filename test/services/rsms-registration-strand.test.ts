/**
 * Red team (h8-redrsms), finding F3, severity MEDIUM, fixed: an RN's registration could be
 * stranded: the MSRP registered it, but the RN never got its keys and could not register again.
 *
 * Registration is idempotent by request id only. Two ways to strand it:
 * - the reply is lost and the RN retries after the freshness window (a laptop asleep, a long
 *   outage): the same envelope is STALE (400), the client takes that as a clean failure and drops
 *   its transport key, while the MSRP has registered the name, its RID and a secret in the pool's
 *   pending filter;
 * - a relay copies the unsigned body into a fresh envelope (a new request id) and delivers it
 *   first: the MSRP registers the RN and seals its keys to the RN's transport key in a reply the
 *   relay throws away; the RN's own request is refused (its name is taken).
 * Issue 19 requires that an in-flight protocol either complete on retry or fail cleanly on both
 * sides. The fix: the MSRP keeps the hash of the body each RN was registered by and answers the
 * very same body under another request id with the same keys (sealed to the same transport key,
 * bound to the new request id; no second effect), while those keys are unused; the client re-wraps
 * its registration in a fresh envelope when the MSRP calls it STALE. The tests pass when the RN
 * ends up holding the keys the MSRP registered for it; without the fix the first two fail.
 */
import { expect } from "chai";
import http from "http";
import { funded, startMsrp, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { MsrpService } from "../../offchain/services/rsms/msrp-service";
import { enrolRpm, registerRnRemote } from "../../offchain/services/rsms/clients";
import { Kind, Scheme, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { toHex } from "../../offchain/crypto/bytes";
import { initialJoin, reauthenticate } from "../../offchain/rsms/flows";
import { loadRsms } from "../rsms/fixtures";
import { registerUserRemote, type GroupDeployment } from "../../offchain/services/rsms/group-clients";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const WINDOW_MS = 1500;

type Hook = (url: string, body: Uint8Array) => Promise<{ status: number; body: Uint8Array }>;

/** A relay in front of the MSRP: GETs pass; each POST goes through `hook` (pass-through by default). */
async function relay(target: string) {
  const forward: Hook = async (url, body) => {
    const r = await fetch(new URL(url, target), {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from(body),
    });
    return { status: r.status, body: new Uint8Array(await r.arrayBuffer()) };
  };
  const state = { hook: forward };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        if (req.method === "GET") {
          const r = await fetch(new URL(req.url!, target));
          res.writeHead(r.status, { "content-type": "application/json" });
          res.end(Buffer.from(await r.arrayBuffer()));
          return;
        }
        const out = await state.hook(req.url!, new Uint8Array(Buffer.concat(chunks)));
        res.writeHead(out.status, { "content-type": out.status < 300 ? "application/octet-stream" : "application/json" });
        res.end(Buffer.from(out.body));
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, state, forward, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const dropped = { status: 503, body: new TextEncoder().encode(JSON.stringify({ error: "UNAVAILABLE", message: "dropped by the relay" })) };

describe("red team F3 (MEDIUM, fixed): a registration the MSRP made but the RN never received", function () {
  this.timeout(300_000);
  let dep: GroupDeployment;
  let msrp: MsrpService;
  let r: Awaited<ReturnType<typeof relay>>;

  let enrol: (name: string, kind: "rn" | "user") => string;
  before(async () => {
    // the relays' copies below are unsigned (no token): they test the layer under the tokens;
    // sleeper and carol register with tokens, whose late retries must still be admitted
    const m = await startMsrp({ groups: true, openRegistration: true, windowMs: WINDOW_MS });
    ({ dep, msrp } = m);
    const msrpKs = m.msrpKs;
    enrol = (name, kind) =>
      issueEnrolmentToken(msrpKs, { service: "msrp", kind, identity: name, ttlSec: 3600, ...(kind === "rn" ? { rid: "RN 10" } : {}) })
        .token;
    const msrpUrl = m.msrpUrl;
    await enrolRpm({ msrpUrl, poolId: 1, rid: "rpm-1", wallet: await funded(), keystore: new Keystore(tmp("rpm"), ""), dep });
    r = await relay(msrpUrl);
  });
  after(async () => {
    await r?.close();
    await msrp?.stop();
  });

  /** The RN holds the keys the MSRP registered under its name. */
  function expectHolds(ks: Keystore, name: string): void {
    const mine = ks.load(`rsms-rn-${name}`) as { pid: string };
    expect(msrp.msrp.summary().rns.find((x) => x.name === name)?.pid).to.equal(mine.pid);
  }

  it("the reply is lost and the RN retries after the freshness window: it gets the keys the MSRP registered for it", async () => {
    const ks = new Keystore(tmp("sleeper"), "");
    const token = enrol("sleeper", "rn");
    r.state.hook = async (url, body) => {
      await r.forward(url, body); // the MSRP registers and replies; the reply is lost
      return dropped;
    };
    await expect(registerRnRemote({ msrpUrl: r.url, name: "sleeper", poolId: 1, rid: "RN 10", token, keystore: ks, dep, retry: once })).to
      .be.rejected;
    expect(msrp.msrp.summary().rns.map((x) => x.name)).to.include("sleeper");
    r.state.hook = r.forward;
    await new Promise((res) => setTimeout(res, WINDOW_MS + 300));
    await registerRnRemote({ msrpUrl: r.url, name: "sleeper", poolId: 1, rid: "RN 10", token, keystore: ks, dep, retry: once }).catch(
      (e: Error) => expect.fail(`the RN is registered at the MSRP but its retry failed: ${e.message}`),
    );
    expectHolds(ks, "sleeper");
  });

  it("a relay delivers a copy of the unsigned body in a fresh envelope first and throws its reply away: the RN still gets its keys", async () => {
    const ks = new Keystore(tmp("raced"), "");
    const pending = msrp.msrp.summary().pending[1] ?? 0;
    r.state.hook = async (url, body) => {
      const e = openEnvelope(body);
      const copy = sealEnvelope(
        {
          kind: Kind.Request,
          route: e.route,
          audience: audienceOf(dep.chainId, dep.registry, "msrp"),
          session: freshId(),
          requestId: freshId(),
          issuedAt: Date.now(),
          inReplyTo: new Uint8Array(32),
          body: e.body,
        },
        { scheme: Scheme.None },
      );
      const first = await r.forward(url, copy);
      expect(first.status, "the copy is served").to.equal(200);
      return r.forward(url, body);
    };
    await registerRnRemote({ msrpUrl: r.url, name: "raced", poolId: 1, rid: "RN 11", keystore: ks, dep, retry: once }).catch((e: Error) =>
      expect.fail(`the RN is registered at the MSRP but did not get its keys: ${e.message}`),
    );
    r.state.hook = r.forward;
    expectHolds(ks, "raced");
    // one registration, one secret in the pool's filter: the second request had no second effect
    expect(msrp.msrp.summary().rns.filter((x) => x.name === "raced")).to.have.length(1);
    expect(msrp.msrp.summary().pending[1]).to.equal(pending + 1);
  });

  it("a user's registration: a lost reply retried late, or a relay's copy delivered first, still gives her the keys the MSRP keeps for her, once", async () => {
    const ks = new Keystore(tmp("users"), "");
    const token = enrol("carol", "user");
    const holds = (name: string) =>
      expect((ks.load(`rsms-user-${name}`) as { pid: string }).pid).to.equal(toHex(msrp.msrp.userCredentials(name).pid));
    r.state.hook = async (url, body) => {
      await r.forward(url, body);
      return dropped;
    };
    await expect(registerUserRemote({ msrpUrl: r.url, name: "carol", rid: "Carol", token, keystore: ks, dep, retry: once })).to.be.rejected;
    r.state.hook = r.forward;
    await new Promise((res) => setTimeout(res, WINDOW_MS + 300));
    await registerUserRemote({ msrpUrl: r.url, name: "carol", rid: "Carol", token, keystore: ks, dep, retry: once }).catch((e: Error) =>
      expect.fail(`carol is registered at the MSRP but her retry failed: ${e.message}`),
    );
    holds("carol");
    r.state.hook = async (url, body) => {
      const e = openEnvelope(body);
      const copy = sealEnvelope({ ...e, session: freshId(), requestId: freshId(), issuedAt: Date.now() }, { scheme: Scheme.None });
      expect((await r.forward(url, copy)).status, "the copy is served").to.equal(200);
      return r.forward(url, body);
    };
    await registerUserRemote({ msrpUrl: r.url, name: "dave", rid: "Dave", keystore: ks, dep, retry: once }).catch((e: Error) =>
      expect.fail(`dave is registered at the MSRP but did not get his keys: ${e.message}`),
    );
    r.state.hook = r.forward;
    holds("dave");
    expect(msrp.msrp.summary().users.map((u) => u.name)).to.deep.equal(["carol", "dave"]);
  });

  it("the MSRP sends an RN's keys again only while they are unused: after its join or rotation, never", async () => {
    const { ctx, msrp: agent, rpmA, rpmB, rns } = await loadRsms();
    const rn = rns[0];
    const c = agent.issuedRnCredentials(rn.state.name)!;
    expect([c.sk, c.a, toHex(c.pid), c.poolId]).to.deep.equal([rn.state.sk, rn.state.a, toHex(rn.state.pid), rn.state.homePool]);
    await initialJoin(ctx, rn, rpmA, agent);
    expect(agent.issuedRnCredentials(rn.state.name)).to.equal(undefined);
    await reauthenticate(ctx, rn, rpmB, agent);
    expect(agent.issuedRnCredentials(rn.state.name)).to.equal(undefined);
    expect(agent.issuedRnCredentials("nobody")).to.equal(undefined);
  });
});
