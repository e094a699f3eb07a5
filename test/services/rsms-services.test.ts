/**
 * The MSRP and RPM services in one process against the in-process chain (fast; the same code as
 * `rsms:serve`, whose separate processes test/e2e/services.test.ts runs): enrolment, registration
 * and joins over HTTP, the MSRP's authentication and idempotency of forwards, and its recovery
 * from a crash between its on-chain write and its reply (the fault hook throws instead of exiting).
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import { funded, rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { ResourcePoolManager } from "../../offchain/rsms/rpm";
import { paramsFromPkPub } from "../../offchain/rsms/params";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { randomScalar } from "../../offchain/crypto/group";
import { MsrpService, MSRP_RECORD } from "../../offchain/services/rsms/msrp-service";
import { rpmServiceRecord, type RpmServiceRecord } from "../../offchain/services/rsms/rpm-service";
import { enrolRpm, joinRemote, registerRnRemote, loadRemoteRn } from "../../offchain/services/rsms/clients";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { onFault } from "../../offchain/services/faults";
import { postEnvelope } from "../../offchain/services/client";
import { decodeJoinAck } from "../../offchain/services/rsms/wire";

const system = () => rsmsServices({ msrpRetry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 } });

const post = (url: string, body: Uint8Array) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: Buffer.from(body) });

describe("services/rsms: MSRP and RPM services in-process", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof system>>;
  let msrp: MsrpService;

  before(async () => {
    s = await system();
    msrp = s.msrp;
    for (const n of ["a", "b", "c", "d"])
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: s.client, dep: s.dep });
    expect(await msrp.publishDue()).to.equal(1);
  });
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await s?.rpm.stop();
    await msrp?.stop();
  });

  it("enrolment: the pool is on-chain with the RPM's account and the keys the MSRP sealed; the RPM announced its endpoint", async () => {
    const rec = s.rpmKs.load(rpmServiceRecord(1)) as RpmServiceRecord;
    const pool = await s.dep.ledger.pool(1);
    expect(toHex(pool!.pidRpm)).to.equal(rec.pid);
    expect(await s.dep.ledger.registry.poolEndpoint(1)).to.equal(s.rpmUrl);
    expect(rec.msrpAccount).to.equal(s.msrpWallet.address);
    // msk stays with the MSRP, sk_RPM with the RPM
    expect(JSON.stringify(rec)).to.not.include((s.msrpDeps.keystore.load(MSRP_RECORD) as { msk: string }).msk.slice(2));
  });

  it("an RN joins over HTTP: chain, MSRP and RN agree; its pending request is gone", async () => {
    const r = await joinRemote({ name: "a", poolId: 1, keystore: s.client, dep: s.dep });
    expect(r.rn.state.joined).to.equal(true);
    expect((await s.dep.ledger.recordOf(r.rn.state.pid)).poolId).to.equal(1);
    expect(msrp.msrp.summary().rns.find((x) => x.name === "a")!.joined).to.equal(true);
    expect(s.client.exists("rsms-rn-a-join")).to.equal(false);
  });

  it("the MSRP answers a replayed forward with the same bytes and records once; a forward signed by another key or for another service is refused", async () => {
    const rec = s.rpmKs.load(rpmServiceRecord(1)) as RpmServiceRecord;
    const agent = ResourcePoolManager.fromRecord(paramsFromPkPub(fromHex(rec.pkPub, 33)), rec);
    await (await import("../../offchain/rsms/flows")).syncFilters({ ledger: s.dep.ledger, store: s.f.store }, agent);
    const rn = loadRemoteRn(s.client, "b")!;
    const pool = (await s.dep.ledger.pool(1))!;
    const opened = agent.openJoinRequest(rn.buildJoinRequest({ poolId: 1, pkRpm: pool.pkRpm, pidRpm: pool.pidRpm }).request);
    const body = agent.forwardJoin(opened);
    const audience = audienceOf(s.dep.chainId, s.dep.registry, "msrp");
    const fields = () => ({
      kind: Kind.Request,
      route: Route.JoinForward,
      audience,
      session: freshId(),
      requestId: freshId(),
      issuedAt: Date.now(),
      inReplyTo: new Uint8Array(32),
      body,
    });
    const before = await s.dep.ledger.joinCount();
    const forged = await post(`${s.msrpUrl}/v1/join/forward`, sealEnvelope(fields(), { scheme: Scheme.Schnorr, sk: randomScalar() }));
    expect(forged.status).to.equal(401);
    const misaddressed = await post(
      `${s.msrpUrl}/v1/join/forward`,
      sealEnvelope(
        { ...fields(), audience: audienceOf(s.dep.chainId, s.dep.registry, "rpm:1") },
        { scheme: Scheme.Schnorr, sk: BigInt(rec.sk) },
      ),
    );
    expect(misaddressed.status).to.equal(421);
    expect(await s.dep.ledger.joinCount()).to.equal(before);
    const fwd = sealEnvelope(fields(), { scheme: Scheme.Schnorr, sk: BigInt(rec.sk) });
    const one = await post(`${s.msrpUrl}/v1/join/forward`, fwd);
    const two = await post(`${s.msrpUrl}/v1/join/forward`, fwd);
    expect([one.status, two.status]).to.deep.equal([200, 200]);
    const [b1, b2] = [new Uint8Array(await one.arrayBuffer()), new Uint8Array(await two.arrayBuffer())];
    expect(toHex(b2)).to.equal(toHex(b1));
    expect(decodeJoinAck(openEnvelope(b1).body).pid).to.deep.equal(opened.pid);
    expect(await s.dep.ledger.joinCount()).to.equal(before + 1);
  });

  it("the MSRP crashes between its on-chain write and its reply: a restarted MSRP finishes the join from its journal, and the RN's retry completes", async () => {
    process.env.METATRUST_FAULT = "msrp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const failed = await joinRemote({
      name: "c",
      poolId: 1,
      keystore: s.client,
      dep: s.dep,
      retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failed?.message).to.match(/ 502 UPSTREAM_UNAVAILABLE/);
    const pid = loadRemoteRn(s.client, "c")!.state.pid;
    expect((await s.dep.ledger.recordOf(pid)).poolId).to.equal(1);
    expect(msrp.msrp.summary().rns.find((x) => x.name === "c")!.joined).to.equal(false);
    const journal = path.join(s.msrpDeps.dir, "journal");
    expect(fs.readdirSync(journal)).to.have.length(1);
    const stored = fs.readdirSync(path.join(s.dirs.rpm, "service", "forwards"));
    expect(stored).to.have.length(1);

    // "restart": a new service from the same folders
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    await msrp.stop();
    msrp = new MsrpService(s.msrpDeps);
    const url = (await msrp.start({ port: Number(new URL(s.msrpUrl).port) })).url;
    expect(url).to.equal(s.msrpUrl);
    expect(fs.readdirSync(journal)).to.have.length(0);
    expect(msrp.msrp.summary().rns.find((x) => x.name === "c")!.joined).to.equal(true);
    // the RPM's stored forward, resent as is, gets the acknowledgement recovery cached
    const fwd = new Uint8Array(fs.readFileSync(path.join(s.dirs.rpm, "service", "forwards", stored[0])));
    // (postEnvelope: a pooled connection to the stopped server fails once and is retried)
    const ack = await postEnvelope(s.msrpUrl, "/v1/join/forward", fwd, { attempts: 3, timeoutMs: 30_000, backoffMs: 10 });
    expect(decodeJoinAck(openEnvelope(ack).body).pid).to.deep.equal(pid);
    const count = await s.dep.ledger.joinCount();
    const r = await joinRemote({ name: "c", poolId: 1, keystore: s.client, dep: s.dep });
    expect(r.resumed).to.equal(true);
    expect(r.rn.state.joined).to.equal(true);
    expect(await s.dep.ledger.joinCount()).to.equal(count);
  });

  it("the MSRP crashes after recording a registration and before caching its reply: after a restart the RN's retry gets its keys", async () => {
    process.env.METATRUST_FAULT = "msrp:after-registration";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    const failed = await registerRnRemote({
      msrpUrl: s.msrpUrl,
      name: "e",
      poolId: 1,
      rid: "rn:e",
      token: s.enrol("e"),
      keystore: s.client,
      dep: s.dep,
      retry: once,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failed?.message).to.match(/ 500 /);
    expect(s.client.exists("rsms-rn-e-register")).to.equal(true);
    expect(msrp.msrp.summary().rns.some((r) => r.name === "e")).to.equal(true);
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    await msrp.stop();
    msrp = new MsrpService(s.msrpDeps);
    await msrp.start({ port: Number(new URL(s.msrpUrl).port) });
    const rn = await registerRnRemote({ msrpUrl: s.msrpUrl, name: "e", poolId: 1, rid: "rn:e", keystore: s.client, dep: s.dep });
    expect(toHex(rn.state.pid)).to.equal(msrp.msrp.summary().rns.find((r) => r.name === "e")!.pid);
    expect(s.client.exists("rsms-rn-e-register")).to.equal(false);
    expect(await msrp.publishDue()).to.equal(1);
    expect((await joinRemote({ name: "e", poolId: 1, keystore: s.client, dep: s.dep })).rn.state.joined).to.equal(true);
  });

  it("enrolment by an account that is not admitted is refused; nothing on-chain", async () => {
    await s.msrp.stop().catch(() => undefined);
    await msrp.stop();
    msrp = new MsrpService({ ...s.msrpDeps, admission: new Map([[2, "0x" + "11".repeat(20)]]) });
    const url = (await msrp.start({ port: 0 })).url;
    const w = await funded();
    const err = await enrolRpm({ msrpUrl: url, poolId: 2, rid: "x", wallet: w, keystore: new Keystore(tmp("k"), ""), dep: s.dep }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/422 MSRP_REJECTED .*not admitted as the RPM of pool 2/);
    expect(await s.dep.ledger.pool(2)).to.equal(undefined);
  });
});
