/**
 * Issue 13 item 13: the MSRP's and RPM's cost per operation does not grow with history.
 * requestGroup multiplies points only for the RNs it deals (not for every joined RN), its
 * incremental allocation index always picks what the plain rule picks (least loaded, by name,
 * joined, not in S_RN), and filter epochs expire: the MSRP refuses a secret past its TTL, RPMs drop
 * expired epochs, and an RN whose secret expired renews it and joins. The 100 / 1,000 / 10,000-RN
 * figures are in bench/rsms-scale.bench.ts.
 */
import { groupBackend } from "../../offchain/crypto/backend";
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { DEFAULT_FILTER_POLICY, FilterPolicy, Msrp, MsrpRecord } from "../../offchain/rsms/msrp";
import { Role } from "../../offchain/rsms/messages";
import { ResourceNode } from "../../offchain/rsms/rn";
import { ResourcePoolManager } from "../../offchain/rsms/rpm";
import { randomScalar } from "../../offchain/crypto/group";
import { toHex } from "../../offchain/crypto/bytes";
import { RsmsRejectedError, RsmsRejectReason } from "../../offchain/rsms/errors";
import { initialJoin, publishFilter, registerRn, renewSecret, serveJoin, syncFilters, poolInfo } from "../../offchain/rsms/flows";
import { loadRsms } from "./fixtures";
import { DecryptionError } from "../../offchain/errors";

const NOW = 1_800_000_000;

/** An MSRP, one pool and n RNs registered, all in-process (no chain): joined with `join`. */
function inProcess(n: number, policy: FilterPolicy = { ...DEFAULT_FILTER_POLICY, capacity: 64, lambda: 10 }) {
  const msrp = Msrp.setup(policy);
  const creds = msrp.registerRpm("rpm", Msrp.registrationRequest(msrp.params.pkPub, Role.RPM, 1, "rpm-rid"));
  const rpm = new ResourcePoolManager(msrp.params, { poolId: 1, sk: creds.sk, pid: creds.pid });
  const pool = { poolId: 1, pkRpm: creds.pkRpm, pidRpm: creds.pid };
  let epoch = 0;
  const flush = () => {
    if (msrp.pendingCount(1) === 0) return;
    const { filter } = msrp.takeFilter(1);
    rpm.addFilter(epoch++, filter.serialize(), filter.root());
  };
  const rns: ResourceNode[] = [];
  for (let i = 0; i < n; i++) {
    const c = msrp.registerRn(
      `rn${String(i).padStart(5, "0")}`,
      Msrp.registrationRequest(msrp.params.pkPub, Role.RN, 1, `serial-${i}`),
      NOW,
    );
    rns.push(
      new ResourceNode(msrp.params, {
        name: `rn${String(i).padStart(5, "0")}`,
        sk: c.sk,
        a: c.a,
        pid: c.pid,
        k: 0,
        joined: false,
        homePool: 1,
        pool: 0,
      }),
    );
    if (msrp.filterDue(1, NOW)) flush();
  }
  flush();
  const join = (rn: ResourceNode) => {
    const { request, pending } = rn.buildJoinRequest(pool);
    const opened = rpm.openJoinRequest(request);
    msrp.commitJoin(msrp.verifyJoin(rpm.forwardJoin(opened), NOW));
    rn.acceptJoinReply(rpm.joinReply(opened), pending);
  };
  msrp.registerUser("alice", Msrp.registrationRequest(msrp.params.pkPub, Role.User, 0, "Alice"));
  return { msrp, rpm, rns, join };
}

/** Calls of mulBase (k*P: how the MSRP derives PK_RN from sk_RN) made by f. */
function mulBaseCalls(f: () => unknown): number {
  // counted at the group backend every mulBase goes through (a module's exports are not writable
  // under every transpiler: swc defines them as getters)
  const backend = groupBackend();
  const orig = backend.mulBase;
  let n = 0;
  backend.mulBase = (k: bigint) => (n++, orig.call(backend, k));
  try {
    f();
  } finally {
    backend.mulBase = orig;
  }
  return n;
}

/** The plain allocation rule, from public accessors: joined, not in S_RN, least loaded, by name. */
function plainPick(msrp: Msrp, groups: Uint8Array[], size: number): string[] {
  const load = new Map<string, number>();
  for (const g of groups) for (const m of msrp.groupInfo(g).members) load.set(m.name, (load.get(m.name) ?? 0) + 1);
  const s = new Set(msrp.suspiciousRns());
  return msrp
    .joinedRns()
    .filter((r) => !s.has(r.name))
    .sort((a, b) => (load.get(a.name) ?? 0) - (load.get(b.name) ?? 0) || a.name.localeCompare(b.name))
    .slice(0, size)
    .map((r) => r.name);
}

async function expectRejected(p: Promise<unknown> | (() => unknown), reason: RsmsRejectReason, msg?: RegExp): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected rejection ${reason}`).to.be.instanceOf(RsmsRejectedError);
  expect((err as RsmsRejectedError).reason, (err as Error).message).to.equal(reason);
  if (msg) expect((err as Error).message).to.match(msg);
}

describe("rsms: cost independent of history (issue 13 item 13)", function () {
  this.timeout(300_000);

  it("requestGroup derives as many keys (mulBase) with 40 joined RNs as with 8: only the dealt RNs' keys", () => {
    const counts: number[] = [];
    for (const n of [8, 40]) {
      const w = inProcess(n);
      for (const rn of w.rns) w.join(rn);
      const fresh = Msrp.fromRecord(w.msrp.toRecord()); // no key cached yet
      counts.push(mulBaseCalls(() => fresh.requestGroup("alice", 4)));
    }
    expect(counts[0]).to.be.greaterThan(0);
    expect(counts[1], `mulBase calls at 8 and 40 RNs: ${counts.join(", ")}`).to.equal(counts[0]);
  });

  it("the incremental allocation index picks what the plain rule picks, through groups, rekeys, S_RN, clearing, flags, new joins and a restore", () => {
    const w = inProcess(14);
    for (const rn of w.rns.slice(0, 10)) w.join(rn);
    let msrp = w.msrp;
    const groups: Uint8Array[] = [];
    const check = (size: number) => {
      const got = msrp.allocate(size);
      expect(got).to.deep.equal(plainPick(msrp, groups, size));
      // the dealing's roster: the same RNs, listed by PID (h14-red F2)
      const dealt = msrp.requestGroup("alice", size).parties.slice(1);
      expect(dealt.map((p) => p.name).sort()).to.deep.equal([...got].sort());
      expect(dealt.map((p) => toHex(p.pid))).to.deep.equal(dealt.map((p) => toHex(p.pid)).sort());
      return got;
    };
    const form = (size: number) => {
      const { dealing, parties } = msrp.requestGroup("alice", size);
      msrp.commitGroup(dealing.groupId, "alice", parties.slice(1));
      groups.push(dealing.groupId);
    };
    check(3);
    form(3);
    check(4);
    form(5);
    check(6);
    // rekey group 1: evict its first member (-> S_RN), add the least loaded spare
    const g1 = msrp.groupInfo(groups[1]);
    const spare = plainPick(msrp, groups, 10).find((n) => !g1.members.some((m) => m.name === n))!;
    const rk = msrp.rekeyGroup(groups[1], [g1.members[0].pid], [spare]);
    msrp.commitRekey(groups[1], rk.epoch, rk.members);
    expect(msrp.suspiciousRns()).to.deep.equal([g1.members[0].name]);
    check(5);
    msrp.flagRn(w.rns[9].state.pid);
    check(5);
    msrp.clearSuspicious(g1.members[0].name);
    check(7);
    for (const rn of w.rns.slice(10)) w.join(rn);
    check(9);
    // re-committing a group id replaces its members' load
    msrp.commitGroup(groups[0], "alice", msrp.groupInfo(groups[1]).members);
    check(8);
    msrp = Msrp.fromRecord(JSON.parse(JSON.stringify(msrp.toRecord())) as MsrpRecord);
    check(12);
    expect(() => msrp.requestGroup("alice", 14)).to.throw(/only 13 have joined a pool and are not suspicious$/);
  });

  describe("filter epochs expire", () => {
    const TTL = 3600;
    const policy = { ...DEFAULT_FILTER_POLICY, capacity: 64, lambda: 20, ttlSec: TTL };

    it("the MSRP refuses a secret issued more than ttlSec ago (SECRET_EXPIRED), nothing changes; renewed, the RN joins and the old secret is refused", async () => {
      const fx = await loadRsms();
      const t0 = await time.latest();
      let now = t0;
      const ctx = { ...fx.ctx, now: () => now };
      const msrp = Msrp.fromRecord({ ...fx.msrp.toRecord(), policy });
      const { rn } = await registerRn(ctx, msrp, { name: "late", poolId: 1, rid: "late-serial" });
      await publishFilter(ctx, msrp, 1);
      const stale = rn.buildJoinRequest(await poolInfo(ctx, 1)).request;
      now = t0 + TTL + 1;
      const before = JSON.stringify(msrp.toRecord());
      await expectRejected(serveJoin(ctx, fx.rpmA, msrp, stale), "SECRET_EXPIRED", /^verifyJoin: the secret of .* renew it$/);
      expect(JSON.stringify(msrp.toRecord())).to.equal(before);
      expect(await fx.ledger.joinCount()).to.equal(0);
      // renewal: a fresh secret in the next filter
      const oldA = rn.state.a;
      const req = rn.renewalRequest();
      const sealed = msrp.renewRn(req, now);
      rn.acceptRenewal(sealed);
      expect(rn.state.a).to.not.equal(oldA);
      // the same request replayed (the RN's retry after a lost reply, or a relay's copy) gets the same
      // secret again and changes nothing (s17-redB B10); the RN, which took it already, opens neither
      // that answer nor the first reply again
      const afterRenewal = JSON.stringify(msrp.toRecord());
      const again = msrp.renewRn(req, now);
      expect(JSON.stringify(msrp.toRecord())).to.equal(afterRenewal);
      expect(() => rn.acceptRenewal(again)).to.throw(DecryptionError);
      expect(() => rn.acceptRenewal(sealed)).to.throw(DecryptionError);
      await publishFilter(ctx, msrp, 1);
      await expectRejected(serveJoin(ctx, fx.rpmA, msrp, stale), "MSRP_REJECTED", /a' is not the secret issued for this PID/);
      const res = await initialJoin(ctx, rn, fx.rpmA, msrp);
      expect(toHex(res.record.pid)).to.equal(toHex(rn.state.pid));
      // once joined, no renewal
      await expectRejected(() => msrp.renewRn({ pid: rn.state.pid, sig: new Uint8Array(64) }, now), "INVALID_STATE");
      await expectRejected(() => rn.renewalRequest(), "INVALID_STATE");
    });

    it("a renewal signed by anyone but the RN, or for a PID that is not current, is MSRP_REJECTED and changes nothing", async () => {
      const w = inProcess(2, policy);
      const before = JSON.stringify(w.msrp.toRecord());
      const impostor = new ResourceNode(w.msrp.params, { ...w.rns[0].state, sk: randomScalar() });
      await expectRejected(() => w.msrp.renewRn(impostor.renewalRequest(), NOW), "MSRP_REJECTED", /^renewRn: the request is not signed/);
      await expectRejected(
        () => w.msrp.renewRn({ ...w.rns[0].renewalRequest(), pid: new Uint8Array(32).fill(5) }, NOW),
        "MSRP_REJECTED",
        /not a current RN pseudonym$/,
      );
      expect(JSON.stringify(w.msrp.toRecord())).to.equal(before);
    });

    it("the RPM drops an epoch published more than ttlSec ago and never reads it again; the live epochs keep serving", async () => {
      const fx = await loadRsms();
      const msrp = Msrp.fromRecord({ ...fx.msrp.toRecord(), policy });
      const rpm = ResourcePoolManager.fromRecord(msrp.params, { ...fx.rpmA.toRecord(), filterTtlSec: TTL });
      const t0 = (await fx.ledger.filterAt(1, 0)).publishedAt;
      let now = t0 + 10;
      let reads = 0;
      const counting = {
        ...fx.ctx,
        now: () => now,
        store: {
          get: (c: string) => (reads++, fx.store.get(c)),
          putBytes: (b: Uint8Array) => fx.store.putBytes(b),
        } as unknown as typeof fx.store,
      };
      expect(await syncFilters(counting, rpm)).to.equal(1);
      await time.increase(TTL / 2);
      const { rn } = await registerRn(counting, msrp, { name: "late", poolId: 1, rid: "late-serial" });
      await publishFilter(counting, msrp, 1);
      const t1 = (await fx.ledger.filterAt(1, 1)).publishedAt;
      now = t0 + TTL + 1; // epoch 0 expired, epoch 1 live
      expect(t1 + TTL).to.be.at.least(now);
      reads = 0;
      await initialJoin(counting, rn, rpm, msrp);
      expect(rpm.loadedEpochs).to.deep.equal([1]);
      expect(rpm.firstLiveEpoch).to.equal(1);
      expect(reads).to.equal(1);
      // an RN listed only in the expired epoch is refused by the RPM (it renews), nothing recorded
      const n = await fx.ledger.joinCount();
      const { request } = fx.rns[0].buildJoinRequest(await poolInfo(counting, 1));
      await expectRejected(serveJoin(counting, rpm, msrp, request), "NOT_IN_FILTER");
      expect(await fx.ledger.joinCount()).to.equal(n);
      expect(reads, "the expired epoch is not fetched again").to.equal(1);
      const renewed = await renewSecret(counting, msrp, fx.rns[0]);
      expect(renewed.published).to.equal(undefined);
      await publishFilter(counting, msrp, 1);
      await initialJoin(counting, fx.rns[0], rpm, msrp);
      expect(rpm.loadedEpochs).to.deep.equal([1, 2]);
    });
  });
});
