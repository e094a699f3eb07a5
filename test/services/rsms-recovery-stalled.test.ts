/**
 * h11-fix3 (from h11-red's doubts): the MSRP's start-up recovery threw on the first intent it
 * could not finish, so the whole service stayed down: one join whose chain read or write fails at
 * start-up (the node unreachable for a moment; after a crash, a join batch transaction still
 * pending, so that recovery's own recordJoin is mined after it and reverts) kept every RN, RPM and
 * user from the MSRP until a restart happened to succeed. Now the service starts, the failing
 * intent stays in the journal and is tried again in the background, and only what depends on it
 * waits (its RN's join: 503, retried; the RN keeps its pending join). The test (in-process): the
 * MSRP dies after a join's intent and before its transaction (SIMULATED: recordJoin throws, the
 * service object is abandoned), and at the restart the node fails every read of that join's record
 * (SIMULATED: the ledger's `recordOf` throws for that PID until released). Red before the fix:
 * `start` threw "connect ECONNRESET" and nothing was served.
 * The second test is h11-red's case on the in-process chain with automine off: the MSRP dies once
 * a join batch transaction is sent and before it is mined (SIMULATED: the send goes on, the
 * service sees an exception); at the restart recovery's own recordJoin for each join is refused
 * (the batch is pending: PidExists); once the batch is mined, the background retry finds each
 * join on-chain and commits it. Red before the fix: `start` threw "reverted with custom error
 * 'ResourcePoolRegistry__PidExists(…)'".
 */
import { expect } from "chai";
import hre from "hardhat";
import fs from "fs";
import path from "path";
import { rsmsServices } from "../helpers/rsms-services";
import { equalBytes } from "../../offchain/crypto/bytes";
import { MsrpService } from "../../offchain/services/rsms/msrp-service";
import { joinRemote, registerRnRemote, loadRemoteRn } from "../../offchain/services/rsms/clients";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

/**
 * The RNs `names` join with automine off, and the MSRP dies once their batch transaction is sent,
 * before it is mined (SIMULATED: the send goes on, the service sees an exception and is abandoned as
 * a crashed process would be; the service's fallback after a failed batch, one recordJoin each, dies
 * too). The ledger's methods are restored before it returns; automine stays off.
 * @returns what each join's client saw
 */
async function joinsCrashAfterBatchSent(s: Awaited<ReturnType<typeof rsmsServices>>, names: string[]): Promise<string[]> {
  const ledger = s.msrpDeps.ledger;
  const [realJoins, realJoin] = [ledger.recordJoins.bind(ledger), ledger.recordJoin.bind(ledger)];
  await hre.network.provider.send("evm_setAutomine", [false]);
  ledger.recordJoins = (async (rs: Parameters<typeof realJoins>[0]) => {
    realJoins(rs).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    throw new Error("crash after the batch transaction was sent");
  }) as typeof ledger.recordJoins;
  ledger.recordJoin = (async () => {
    throw new Error("crash after the batch transaction was sent");
  }) as typeof ledger.recordJoin;
  try {
    return await Promise.all(
      names.map((name) =>
        joinRemote({ name, poolId: 1, keystore: s.client, dep: s.dep, retry: once }).then(
          () => "joined",
          (e: Error) => e.message,
        ),
      ),
    );
  } finally {
    ledger.recordJoins = realJoins;
    ledger.recordJoin = realJoin;
  }
}

describe("services/rsms: an intent whose recovery fails does not keep the MSRP down", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  let msrp: MsrpService;

  before(async () => {
    s = await rsmsServices({ msrpRetry: once });
    msrp = s.msrp;
    for (const n of ["a", "b"])
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: s.client, dep: s.dep });
    expect(await msrp.publishDue()).to.equal(1);
  });
  after(async () => {
    await s?.rpm.stop();
    await msrp?.stop();
  });

  it("the MSRP restarts with a join it cannot finish yet: it serves the others, holds back that RN, and finishes the join in the background", async () => {
    // the MSRP dies after a's intent and before its transaction is sent (SIMULATED: recordJoin
    // throws, and this MsrpService is abandoned as a crashed process would be)
    const ledger = s.msrpDeps.ledger;
    const realJoin = ledger.recordJoin.bind(ledger);
    ledger.recordJoin = (async () => {
      throw new Error("crash before the chain write");
    }) as typeof ledger.recordJoin;
    const crashed = await joinRemote({ name: "a", poolId: 1, keystore: s.client, dep: s.dep, retry: once }).then(
      () => "joined",
      (e: Error) => e.message,
    );
    ledger.recordJoin = realJoin;
    expect(crashed).to.match(/ 502 UPSTREAM_UNAVAILABLE/);
    const journal = path.join(s.msrpDeps.dir, "journal");
    expect(fs.readdirSync(journal)).to.have.length(1);
    const pid = loadRemoteRn(s.client, "a")!.state.pid;
    const count = await s.dep.ledger.joinCount();

    // the restart, while the node fails every read of a's record (SIMULATED)
    const real = ledger.recordOf.bind(ledger);
    let failing = true;
    ledger.recordOf = (async (p: Uint8Array) => {
      if (failing && equalBytes(p, pid)) throw new Error("connect ECONNRESET (the node, for this record)");
      return real(p);
    }) as typeof ledger.recordOf;
    const logs: string[] = [];
    try {
      await msrp.stop();
      msrp = new MsrpService({ ...s.msrpDeps, stalledRetryMs: 100, log: (l) => logs.push(l) });
      await msrp.start({ port: Number(new URL(s.msrpUrl).port) });
      expect(Object.keys(msrp.stalledIntents())).to.deep.equal([`join-${Buffer.from(pid).toString("hex")}`]);
      expect(
        logs.some((l) => /^recovery: intent join-\w+ \(join\) failed, tried again in the background: connect ECONNRESET/.test(l)),
      ).to.equal(true);

      // another RN joins meanwhile
      const b = await joinRemote({ name: "b", poolId: 1, keystore: s.client, dep: s.dep, retry: once });
      expect(b.rn.state.joined).to.equal(true);
      // a's retry waits (503 at the MSRP, 502 from the RPM): nothing recorded twice, a keeps its pending join
      const held = await joinRemote({ name: "a", poolId: 1, keystore: s.client, dep: s.dep, retry: once }).then(
        () => "joined",
        (e: Error) => e.message,
      );
      expect(held).to.match(/ 502 UPSTREAM_UNAVAILABLE/);
      expect(s.client.exists("rsms-rn-a-join")).to.equal(true);
      expect(msrp.msrp.summary().rns.find((x) => x.name === "a")!.joined).to.equal(false);
      expect(await s.dep.ledger.joinCount()).to.equal(count + 1); // b's

      // the node answers again: the background retry finishes the join from its intent
      failing = false;
      for (let i = 0; i < 100 && Object.keys(msrp.stalledIntents()).length; i++) await new Promise((r) => setTimeout(r, 100));
      expect(msrp.stalledIntents()).to.deep.equal({});
      expect(fs.readdirSync(journal)).to.have.length(0);
      expect(msrp.msrp.summary().rns.find((x) => x.name === "a")!.joined).to.equal(true);
      const a = await joinRemote({ name: "a", poolId: 1, keystore: s.client, dep: s.dep, retry: once });
      expect(a.resumed).to.equal(true);
      expect(a.rn.state.joined).to.equal(true);
      // a's join recorded once (by the background retry, from its intent), b's by its own
      expect(await s.dep.ledger.joinCount()).to.equal(count + 2);
    } finally {
      ledger.recordOf = real;
    }
  });
});

describe("services/rsms: a join batch transaction still pending after a crash (h11-red's case)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  let msrp: MsrpService;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  before(async () => {
    s = await rsmsServices({ msrpRetry: once, batch: { ms: 300, max: 2 } });
    msrp = s.msrp;
    for (const n of ["c", "d", "e", "f"])
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: s.client, dep: s.dep });
    expect(await msrp.publishDue()).to.equal(1);
  });
  after(async () => {
    await hre.network.provider.send("evm_setAutomine", [true]);
    await s?.rpm.stop();
    await msrp?.stop();
  });

  it("the restarted MSRP starts although recovery cannot record the batch's joins yet, and finishes them once the batch is mined: one record each", async () => {
    const count = await s.dep.ledger.joinCount();
    const failed = await joinsCrashAfterBatchSent(s, ["c", "d"]);
    for (const f of failed) expect(f).to.match(/ 502 UPSTREAM_UNAVAILABLE/);
    const journal = path.join(s.msrpDeps.dir, "journal");
    expect(fs.readdirSync(journal)).to.have.length(2);

    const logs: string[] = [];
    await msrp.stop();
    msrp = new MsrpService({ ...s.msrpDeps, stalledRetryMs: 200, log: (l) => logs.push(l) });
    const starting = msrp.start({ port: Number(new URL(s.msrpUrl).port) });
    starting.catch(() => undefined);
    await sleep(2_500);
    await hre.network.provider.send("evm_mine", []); // the batch (and whatever recovery sent after it)
    await hre.network.provider.send("evm_setAutomine", [true]);
    await starting;
    expect(logs.some((l) => /^recovery: intent join-\w+ \(join\) failed, tried again in the background/.test(l))).to.equal(true);
    for (let i = 0; i < 100 && Object.keys(msrp.stalledIntents()).length; i++) await sleep(100);
    expect(msrp.stalledIntents()).to.deep.equal({});
    expect(fs.readdirSync(journal)).to.have.length(0);
    for (const n of ["c", "d"]) expect(msrp.msrp.summary().rns.find((x) => x.name === n)!.joined).to.equal(true);
    for (const name of ["c", "d"]) {
      const r = await joinRemote({ name, poolId: 1, keystore: s.client, dep: s.dep, retry: once });
      expect(r.rn.state.joined).to.equal(true);
    }
    expect(await s.dep.ledger.joinCount()).to.equal(count + 2);
  });

  it("recovery reads a join's record before its batch is mined and the tag after: the join is its own, committed, not dropped as a conflict", async () => {
    const ledger = s.msrpDeps.ledger;
    const realRecordOf = ledger.recordOf.bind(ledger);
    const count = await s.dep.ledger.joinCount();
    await joinsCrashAfterBatchSent(s, ["e", "f"]);
    // the batch is mined right after recovery's first read of a record (the race): that read saw
    // no record, the tag check that follows sees the tag used
    let mined = false;
    ledger.recordOf = (async (pid: Uint8Array) => {
      const r = await realRecordOf(pid);
      if (!mined) {
        mined = true;
        await hre.network.provider.send("evm_mine", []);
        await hre.network.provider.send("evm_setAutomine", [true]);
      }
      return r;
    }) as typeof ledger.recordOf;
    const logs: string[] = [];
    try {
      await msrp.stop();
      msrp = new MsrpService({ ...s.msrpDeps, stalledRetryMs: 200, log: (l) => logs.push(l) });
      await msrp.start({ port: Number(new URL(s.msrpUrl).port) });
    } finally {
      ledger.recordOf = realRecordOf;
    }
    expect(mined).to.equal(true);
    expect(logs.filter((l) => /conflicts with the chain: dropped/.test(l))).to.deep.equal([]);
    for (const n of ["e", "f"]) expect(msrp.msrp.summary().rns.find((x) => x.name === n)!.joined).to.equal(true);
    expect(msrp.stalledIntents()).to.deep.equal({});
    expect(await s.dep.ledger.joinCount()).to.equal(count + 2);
  });
});
