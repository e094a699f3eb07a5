/**
 * The MSRP service with join batching on (`rsms:serve msrp --batch-ms`, issue 19): concurrent
 * forwards go on-chain in fewer `recordJoins` transactions than joins, every RN's reply verifies and
 * the chain agrees; a retried forward gets the same bytes and no second record; a crash between the
 * batch's transaction and its replies is finished, per join, by a restarted MSRP.
 */
import { expect } from "chai";
import { randomBytes } from "crypto";
import fs from "fs";
import path from "path";
import { rsmsServices } from "../helpers/rsms-services";
import { ResourcePoolManager } from "../../offchain/rsms/rpm";
import { paramsFromPkPub } from "../../offchain/rsms/params";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { MsrpService, parseBatching } from "../../offchain/services/rsms/msrp-service";
import { rpmServiceRecord, type RpmServiceRecord } from "../../offchain/services/rsms/rpm-service";
import { joinRemote, registerRnRemote, loadRemoteRn } from "../../offchain/services/rsms/clients";
import { syncFilters } from "../../offchain/rsms/flows";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { onFault } from "../../offchain/services/faults";
import { decodeJoinAck } from "../../offchain/services/rsms/wire";

const BATCH = { ms: 800, max: 32 };
const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const system = () => rsmsServices({ msrpRetry: once, batch: BATCH });

const post = (url: string, body: Uint8Array) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: Buffer.from(body) });

describe("services/rsms: the MSRP batches joins (recordJoins)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof system>>;
  let msrp: MsrpService;
  const names = ["a", "b", "c", "d", "e", "f", "g", "h"];

  /** Join events and the transactions that carried them since `from`. */
  async function recorded(from: number): Promise<{ joins: number; txs: number }> {
    const reg = s.dep.ledger.registry;
    const ev = await reg.queryFilter(reg.filters.JoinRecorded(), from);
    return { joins: ev.length, txs: new Set(ev.map((e) => e.transactionHash)).size };
  }

  before(async () => {
    s = await system();
    msrp = s.msrp;
    for (const n of names)
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: s.client, dep: s.dep });
    expect(await msrp.publishDue()).to.equal(1);
  });
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await s?.rpm.stop();
    await msrp?.stop();
  });

  it("--batch-ms / --batch-max: checked, each bad value refused naming its flag", () => {
    expect(parseBatching(undefined, undefined)).to.equal(undefined);
    expect(parseBatching(0, undefined)).to.equal(undefined);
    expect(parseBatching(50, undefined)).to.deep.equal({ ms: 50, max: 32 });
    expect(parseBatching(50, 4)).to.deep.equal({ ms: 50, max: 4 });
    expect(() => parseBatching(-1, undefined)).to.throw(/^--batch-ms: -1 /);
    expect(() => parseBatching(1.5, undefined)).to.throw(/^--batch-ms: /);
    expect(() => parseBatching(10_001, undefined)).to.throw(/^--batch-ms: /);
    expect(() => parseBatching(50, 0)).to.throw(/^--batch-max: 0 /);
    expect(() => parseBatching(50, 129)).to.throw(/^--batch-max: 129 is not a whole number in \[1, 128\]$/);
    expect(parseBatching(50, 128)).to.deep.equal({ ms: 50, max: 128 });
    expect(() => parseBatching(undefined, 8)).to.throw(/^--batch-max: batching is off/);
  });

  it("five concurrent joins go on-chain in fewer transactions than joins; every RN's reply verifies and the chain agrees", async () => {
    const from = await s.dep.ledger.registry.runner!.provider!.getBlockNumber();
    const before = await s.dep.ledger.joinCount();
    const rs = await Promise.all(names.slice(0, 5).map((name) => joinRemote({ name, poolId: 1, keystore: s.client, dep: s.dep })));
    const got = await recorded(from + 1);
    expect(got.joins).to.equal(5);
    expect(got.txs).to.be.lessThan(5);
    expect(await s.dep.ledger.joinCount()).to.equal(before + 5);
    for (const [i, r] of rs.entries()) {
      expect(r.rn.state.joined).to.equal(true);
      const on = await s.dep.ledger.recordOf(r.rn.state.pid);
      expect(on.poolId).to.equal(1);
      expect(msrp.msrp.summary().rns.find((x) => x.name === names[i])!.joined).to.equal(true);
    }
    expect(fs.readdirSync(path.join(s.msrpDeps.dir, "journal"))).to.have.length(0);
  });

  it("a retried batched forward gets the same bytes and records once; a second forward of the same join is refused", async () => {
    const rec = s.rpmKs.load(rpmServiceRecord(1)) as RpmServiceRecord;
    const agent = ResourcePoolManager.fromRecord(paramsFromPkPub(fromHex(rec.pkPub, 33)), rec);
    await syncFilters({ ledger: s.dep.ledger, store: s.f.store }, agent);
    const rn = loadRemoteRn(s.client, "f")!;
    const pool = (await s.dep.ledger.pool(1))!;
    const opened = agent.openJoinRequest(rn.buildJoinRequest({ poolId: 1, pkRpm: pool.pkRpm, pidRpm: pool.pidRpm }).request);
    const body = agent.forwardJoin(opened);
    const audience = audienceOf(s.dep.chainId, s.dep.registry, "msrp");
    const seal = () =>
      sealEnvelope(
        {
          kind: Kind.Request,
          route: Route.JoinForward,
          audience,
          session: freshId(),
          requestId: freshId(),
          issuedAt: Date.now(),
          inReplyTo: new Uint8Array(32),
          body,
        },
        { scheme: Scheme.Schnorr, sk: BigInt(rec.sk) },
      );
    const before = await s.dep.ledger.joinCount();
    const fwd = seal();
    const url = `${s.msrpUrl}/v1/join/forward`;
    // the retry arrives while the first waits in the open batch, a copy under another request id too
    const [one, two, other] = await Promise.all([post(url, fwd), post(url, fwd), post(url, seal())]);
    expect([one.status, two.status]).to.deep.equal([200, 200]);
    expect(other.status).to.equal(422);
    const three = await post(url, fwd);
    const [b1, b2, b3] = await Promise.all([one, two, three].map(async (r) => new Uint8Array(await r.arrayBuffer())));
    expect(toHex(b2)).to.equal(toHex(b1));
    expect(toHex(b3)).to.equal(toHex(b1));
    expect(decodeJoinAck(openEnvelope(b1).body).pid).to.deep.equal(opened.pid);
    expect(await s.dep.ledger.joinCount()).to.equal(before + 1);
  });

  it("the MSRP crashes after a batch's transaction and before its replies: restarted, it finishes every join, and the RNs' retries complete with one record each", async () => {
    process.env.METATRUST_FAULT = "msrp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const from = await s.dep.ledger.registry.runner!.provider!.getBlockNumber();
    const crashed = ["g", "h"];
    const failed = await Promise.all(
      crashed.map((name) =>
        joinRemote({ name, poolId: 1, keystore: s.client, dep: s.dep, retry: once }).then(
          () => undefined,
          (e: Error) => e,
        ),
      ),
    );
    for (const e of failed) expect(e?.message).to.match(/ 502 UPSTREAM_UNAVAILABLE/);
    // one transaction recorded both; the MSRP committed neither and left both intents
    expect(await recorded(from + 1)).to.deep.equal({ joins: 2, txs: 1 });
    const pids = crashed.map((n) => loadRemoteRn(s.client, n)!.state.pid);
    for (const pid of pids) expect((await s.dep.ledger.recordOf(pid)).poolId).to.equal(1);
    for (const n of crashed) expect(msrp.msrp.summary().rns.find((x) => x.name === n)!.joined).to.equal(false);
    const journal = path.join(s.msrpDeps.dir, "journal");
    expect(fs.readdirSync(journal)).to.have.length(2);

    // "restart": a new service from the same folders
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    await msrp.stop();
    msrp = new MsrpService(s.msrpDeps);
    await msrp.start({ port: Number(new URL(s.msrpUrl).port) });
    expect(fs.readdirSync(journal)).to.have.length(0);
    for (const n of crashed) expect(msrp.msrp.summary().rns.find((x) => x.name === n)!.joined).to.equal(true);
    const count = await s.dep.ledger.joinCount();
    const rs = await Promise.all(
      crashed.map((name) =>
        joinRemote({ name, poolId: 1, keystore: s.client, dep: s.dep, retry: { attempts: 3, timeoutMs: 30_000, backoffMs: 10 } }),
      ),
    );
    for (const r of rs) {
      expect(r.resumed).to.equal(true);
      expect(r.rn.state.joined).to.equal(true);
    }
    expect(await s.dep.ledger.joinCount()).to.equal(count);
    expect((await recorded(from + 1)).joins).to.equal(2);
  });

  /** Registers RNs after the first filter and publishes theirs. */
  async function more(ns: string[]): Promise<void> {
    for (const n of ns)
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: s.client, dep: s.dep });
    expect(await msrp.publishDue()).to.equal(1);
  }

  it("a join the chain would refuse is refused alone: the rest of its batch is recorded in one transaction", async () => {
    await more(["i", "j", "k"]);
    // j's PID already holds another record (a stand-in for any join whose recordJoin would revert)
    const pidJ = loadRemoteRn(s.client, "j")!.state.pid;
    const reg = s.dep.ledger.registry.connect(s.msrpWallet);
    await (await reg.recordJoin(toHex(pidJ), toHex(randomBytes(32)), 1, 1)).wait();
    const from = await s.dep.ledger.registry.runner!.provider!.getBlockNumber();
    const out = await Promise.all(
      ["i", "j", "k"].map((name) =>
        joinRemote({ name, poolId: 1, keystore: s.client, dep: s.dep }).then(
          (r) => r.rn.state.joined,
          (e: Error) => e,
        ),
      ),
    );
    expect(out[0]).to.equal(true);
    expect(out[2]).to.equal(true);
    expect((out[1] as Error).message).to.match(/already recorded on-chain/);
    expect(await recorded(from + 1)).to.deep.equal({ joins: 2, txs: 1 });
    expect(msrp.msrp.summary().rns.find((x) => x.name === "j")!.joined).to.equal(false);
    expect(fs.readdirSync(path.join(s.msrpDeps.dir, "journal"))).to.have.length(0);
  });

  it("if the batch transaction reverts, its joins are written one by one", async () => {
    await more(["l", "m"]);
    const ledger = s.msrpDeps.ledger;
    ledger.recordJoins = () => Promise.reject(new Error("execution reverted (a stand-in)"));
    try {
      const from = await s.dep.ledger.registry.runner!.provider!.getBlockNumber();
      const rs = await Promise.all(["l", "m"].map((name) => joinRemote({ name, poolId: 1, keystore: s.client, dep: s.dep })));
      for (const r of rs) expect(r.rn.state.joined).to.equal(true);
      expect(await recorded(from + 1)).to.deep.equal({ joins: 2, txs: 2 });
    } finally {
      delete (ledger as { recordJoins?: unknown }).recordJoins;
    }
  });
});
