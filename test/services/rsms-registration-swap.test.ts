/**
 * Red team (h8-redrsms), finding F1, severity HIGH, fixed: an on-path relay took over an in-flight
 * RN or user registration.
 *
 * `POST /v1/rn/register` and `POST /v1/user/register` carry an unsigned envelope whose body is
 * (name, Registration = ECIES_PK_pub(RID), transport key T). The sealed RID is bound to the role
 * and pool only, not to the name or to T. A relay that sees the request drops it and sends the
 * same Registration under its own transport key (and the same or another name): the MSRP issues
 * sk, a and PID for the victim's real identity, sealed to the relay's key. The relay then joins
 * pools and serves groups as the victim (every trace of its conduct leads to the victim's RID),
 * and the victim's own request is refused (its name is taken) or registers a second identity.
 * Issue 19 asks that a relay or a swap be detected. The fix seals the RID under a binding to the
 * name (or account) and the transport key (services/rsms/wire.ts registrationBinding), so the
 * relay's copy does not open. The tests pass when the swapped request is refused and nothing is
 * registered; without the binding the first two fail.
 */
import { expect } from "chai";
import http from "http";
import { funded, startMsrp, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { enrolRpm, registerRnRemote, type Deployment } from "../../offchain/services/rsms/clients";
import { registerUserRemote } from "../../offchain/services/rsms/group-clients";
import { decodeRnRegister, decodeRpmEnrol, encodeRnRegister, encodeRpmEnrol, openRnCreds } from "../../offchain/services/rsms/wire";
import { openUserCreds } from "../../offchain/services/rsms/group-wire";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { accountSigner, freshId } from "../../offchain/services/common";
import { ServiceError } from "../../offchain/services/client";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

/**
 * The relay: forwards GETs to the MSRP, keeps the body of every POST and drops it (503), as an
 * on-path attacker that stops a request from arriving.
 */
async function relay(target: string): Promise<{ url: string; captured: Map<string, Uint8Array>; close(): Promise<void> }> {
  const captured = new Map<string, Uint8Array>();
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
        captured.set(req.url!, new Uint8Array(Buffer.concat(chunks)));
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "UNAVAILABLE", message: "dropped by the relay" }));
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, captured, close: () => new Promise((r) => server.close(() => r())) };
}

async function system() {
  // this file attacks the binding of the sealed RID to its request, the layer under the
  // enrolment tokens (registration-tokens.test.ts): with a token the relay's copy would already
  // fail its signature, so the binding is tested alone, as with open registration
  const { dep, msrp, msrpUrl } = await startMsrp({ groups: true, openRegistration: true });
  await enrolRpm({
    msrpUrl,
    poolId: 1,
    rid: "rpm-1",
    wallet: await funded(),
    keystore: new Keystore(tmp("rpm"), ""),
    dep: dep as Deployment,
  });
  return { dep, msrp, msrpUrl };
}

describe("red team F1 (HIGH, fixed): a relay swaps the transport key of an in-flight registration", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof system>>;
  let r: Awaited<ReturnType<typeof relay>>;

  before(async () => {
    s = await system();
    r = await relay(s.msrpUrl);
  });
  after(async () => {
    await r?.close();
    await s?.msrp.stop();
  });

  /** The relay's copy of a captured registration under its own transport key and the given name, in a fresh envelope. */
  function swapped(route: number, captured: Uint8Array, name: string): { env: Uint8Array; t: bigint } {
    const m = decodeRnRegister(openEnvelope(captured).body);
    const t = randomScalar();
    const body = encodeRnRegister({ tokenId: m.tokenId, name, registration: m.registration, transport: mulBase(t) });
    const env = sealEnvelope(
      {
        kind: Kind.Request,
        route,
        audience: audienceOf(s.dep.chainId, s.dep.registry, "msrp"),
        session: freshId(),
        requestId: freshId(),
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body,
      },
      { scheme: Scheme.None },
    );
    return { env, t };
  }

  const post = (p: string, env: Uint8Array) =>
    fetch(new URL(p, s.msrpUrl), { method: "POST", headers: { "content-type": "application/octet-stream" }, body: Buffer.from(env) });

  it("an RN's registration: the relay's copy under its own transport key (same name or another) is refused; no RN is registered with the victim's identity", async () => {
    const victim = new Keystore(tmp("victim"), "");
    await expect(
      registerRnRemote({ msrpUrl: r.url, name: "victim", poolId: 1, rid: "RN serial 0001", keystore: victim, dep: s.dep, retry: once }),
    ).to.be.rejectedWith(ServiceError);
    const captured = r.captured.get("/v1/rn/register")!;
    expect(captured).to.not.equal(undefined);
    for (const name of ["victim", "mallory"]) {
      const { env, t } = swapped(Route.RnRegister, captured, name);
      const res = await post("/v1/rn/register", env);
      if (res.ok) {
        // what the relay now holds: the victim's RN credentials
        const creds = openRnCreds(openEnvelope(new Uint8Array(await res.arrayBuffer())).body, t, 1, openEnvelope(env).requestId);
        expect.fail(
          `the MSRP registered "${name}" for the relay (PID ${Buffer.from(creds.secrets.pid).toString("hex").slice(0, 16)}…), traced to ${s.msrp.msrp.trace(creds.secrets.pid).rid}`,
        );
      }
      expect(res.status).to.be.within(400, 499);
    }
    expect(s.msrp.msrp.summary().rns.map((x) => x.name)).to.not.include.members(["victim", "mallory"]);
  });

  it("a user's registration: the relay's copy under its own transport key is refused; no user is registered with her identity", async () => {
    const victim = new Keystore(tmp("alice"), "");
    await expect(
      registerUserRemote({ msrpUrl: r.url, name: "alice", rid: "Alice Liddell", keystore: victim, dep: s.dep, retry: once }),
    ).to.be.rejectedWith(ServiceError);
    const captured = r.captured.get("/v1/user/register")!;
    const { env, t } = swapped(Route.UserRegister, captured, "alice");
    const res = await post("/v1/user/register", env);
    if (res.ok) {
      const creds = openUserCreds(openEnvelope(new Uint8Array(await res.arrayBuffer())).body, t, openEnvelope(env).requestId);
      expect.fail(`the MSRP issued sk_User of "alice" to the relay (PID ${Buffer.from(creds.secrets.pid).toString("hex").slice(0, 16)}…)`);
    }
    expect(res.status).to.be.within(400, 499);
    expect(s.msrp.msrp.summary().users.map((x) => x.name)).to.not.include("alice");
  });

  it("an RPM's enrolment: the relay re-signs the captured registration with its own account and transport key (the MSRP admits any account): refused, no pool is created", async () => {
    await expect(
      enrolRpm({
        msrpUrl: r.url,
        poolId: 7,
        rid: "Operator Seven",
        wallet: await funded(),
        keystore: new Keystore(tmp("rpm7"), ""),
        dep: s.dep as Deployment,
        retry: once,
      }),
    ).to.be.rejectedWith(ServiceError);
    const m = decodeRpmEnrol(openEnvelope(r.captured.get("/v1/rpm/enrol")!).body);
    const thief = await funded();
    const body = encodeRpmEnrol({ registration: m.registration, account: thief.address, transport: mulBase(randomScalar()) });
    const env = sealEnvelope(
      {
        kind: Kind.Request,
        route: Route.RpmRegister,
        audience: audienceOf(s.dep.chainId, s.dep.registry, "msrp"),
        session: freshId(),
        requestId: freshId(),
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body,
      },
      accountSigner(thief),
    );
    const res = await post("/v1/rpm/enrol", env);
    expect(res.status, `the MSRP enrolled ${thief.address} under the victim's identity`).to.be.within(400, 499);
    expect(await s.dep.ledger.pool(7)).to.equal(undefined);
  });

  it("the victims' own requests still register them (the binding refuses nothing genuine)", async () => {
    const rn = new Keystore(tmp("victim2"), "");
    const node = await registerRnRemote({
      msrpUrl: s.msrpUrl,
      name: "victim2",
      poolId: 1,
      rid: "RN serial 0002",
      keystore: rn,
      dep: s.dep,
    });
    expect(s.msrp.msrp.trace(node.state.pid).rid).to.equal("RN serial 0002");
    const u = await registerUserRemote({ msrpUrl: s.msrpUrl, name: "bob", rid: "Bob", keystore: new Keystore(tmp("bob"), ""), dep: s.dep });
    expect(s.msrp.msrp.trace(u.pid).rid).to.equal("Bob");
  });
});
