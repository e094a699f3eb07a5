/**
 * The MSRP service's automatic key update (RSMS §IV.B.2.c step 1; rsms-group.md §8 "automatic
 * update"): the trust layer flags a member of a service group, and the MSRP's flag sync evicts it,
 * adds a fresh RN and renews the group key by itself, through the same journaled update path as a
 * user's `group:rekey` (GroupDesk.evictFlaggedMembers).
 *
 * Threat: until session 19 the flag sync only put the flagged RN in S_RN and cut it off the group's
 * mailbox; it kept the epoch key it held until the group's user ran `group:rekey`, so anything
 * sealed under that key afterwards (a member that had not noticed, traffic relayed by a colluder,
 * copies outside the mailbox) was readable by the flagged node.
 * Each `it` forms its own group {x, y} of alice's from five joined RNs; x's own attested entity
 * (resource-node, attested by the MSRP) is flagged by the detector.
 *
 * Secure behaviour asserted: one sync evicts x and moves the epoch once (x cannot open the next
 * message: it holds no key of the new epoch); a second sync, a restart, a lost chain reply, a crash
 * after the chain write, a user's rekey racing it make no second update and strand nobody; a flag
 * lifted before the update evicts nobody; the operator's switch turns it off; the service's tick
 * runs it. Bites: without evictFlaggedMembers (or with autoEvict false) x opens y's next message
 * and the epoch stays 0.
 *
 * Session 20 (s19-review1 R5, and the back-off): an update that cannot succeed was tried at every
 * sync for ever (the MSRP paying a failed transaction or call each time), and a left intent twice in
 * one sync. Asserted, with a fake clock (the MSRP's `clock`) and the syncs called, not timed: one
 * write per group per sync and one `failed` entry; no write within the back-off (1 min doubling,
 * cap 6 h), across a restart (recovery leaves the intent to the back-off); a lasting chain refusal
 * (the MSRP's role revoked: a custom error) waits the cap and is logged once; any committed update
 * (the sync's own, the user's) ends the back-off; the parties' fetch says the epoch is automatic and
 * names the evicted PID (group:join). Each was checked to bite by removing its check (report s20-r5).
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { formedGroup, interceptGroupWrite, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import {
  groupParty,
  groupUpdatePending,
  localParty,
  rekeyRemote,
  requestGroupRemote,
  sendRemote,
  takePart,
} from "../../offchain/services/rsms/group-clients";
import { MsrpService } from "../../offchain/services/rsms/msrp-service";
import { onFault } from "../../offchain/services/faults";
import { ResourcePoolRegistry__factory, ServiceGroupRegistry__factory, TrustManager__factory } from "../../typechain-types";
import { attestTrustRemote } from "../../offchain/services/rsms/attest";
import { AUTO_RETRY_BASE_MS, AUTO_RETRY_CAP_MS, nextAutoRetry } from "../../offchain/services/rsms/msrp-groups";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("the MSRP's flag sync evicts a flagged member and rekeys its group by itself (papers 1 + 4)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>> | undefined;
  let msrp: MsrpService | undefined; // the running MSRP service (another instance after a restart)
  afterEach(async () => {
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    await s?.rpm.stop();
    await msrp?.stop();
    s = undefined;
    msrp = undefined;
  });

  /** alice's group {x, y}, x's own entity flagged on chain (not yet synced) */
  async function flagged(
    opts: Parameters<typeof formedGroup>[3] = {},
    before?: (f: Awaited<ReturnType<typeof formedGroup>>, machines: Map<string, Keystore>) => Promise<void>,
  ) {
    const machines = new Map<string, Keystore>();
    const f = await formedGroup(machines, ["a", "b", "c", "d", "e"], 2, opts);
    s = f.s;
    msrp = f.s.msrp;
    const [x, y] = f.members;
    const xPid = localParty(machines.get(x)!, x).pid;
    await before?.(f, machines);
    const tmAddress = f.s.f.deployment.contracts.TrustManager.address;
    const signers = await hre.ethers.getSigners();
    const tm = TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]);
    await new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9])).register(toHex(xPid), "resource-node", f.s.msrpWallet);
    await new TrustLedger(tm).flag(toHex(xPid), 1, new Uint8Array(32), 0);
    const reg = ServiceGroupRegistry__factory.connect(f.s.groupsAddress, hre.ethers.provider);
    const party = (n: string) => ({ msrpUrl: f.s.msrpUrl, name: n, groupId: f.gid, keystore: machines.get(n)!, dep: f.s.dep, retry: once });
    return {
      ...f,
      machines,
      x,
      y,
      xPid,
      tm,
      party,
      /** GroupRekeyed events of the group on chain: each update is one */
      rekeys: async () => (await reg.queryFilter(reg.filters.GroupRekeyed(toHex(f.gid)))).length,
      epoch: async () => Number((await f.s.dep.groups.view(f.gid)).epoch),
    };
  }

  /**
   * y sends a message at the group's current epoch (after taking its key); whether x, with every key
   * it holds, opens it: "opened: <text>" or "refused: <why>"
   */
  async function xOnNextMessage(g: Awaited<ReturnType<typeof flagged>>): Promise<string> {
    await takePart({ ...g.party(g.y), pollMs: 50 });
    const sent = await sendRemote({ ...g.party(g.y), message: new TextEncoder().encode("after the flag") });
    const log = msrp!.desk!.channel.epoch(g.gid, sent.epoch)!.messages;
    const m = fromHex(log[sent.index]);
    const xs = await groupParty(g.machines.get(g.x)!, g.x, g.gid, g.s.dep);
    for (const open of [() => xs.party.open(m), () => xs.party.openArchived(m)])
      try {
        return `opened: ${new TextDecoder().decode(open().plaintext)}`;
      } catch {
        /* next */
      }
    return "refused: x holds no key of the message's epoch";
  }

  it("one sync evicts x, adds a fresh RN, moves the epoch once; x cannot open y's next message; the others take the new key", async () => {
    const g = await flagged();
    const r = await msrp!.flagSync();
    expect(r.added, "x joins S_RN").to.deep.equal([g.x]);
    expect(r.failed).to.deep.equal([]);
    expect(r.updates.length, "one automatic update").to.equal(1);
    const u = r.updates[0];
    expect([u.groupId, u.epoch, u.evicted], "the update: the group, epoch 1, x evicted").to.deep.equal([toHex(g.gid), 1, [g.x]]);
    expect(u.added.length, "one fresh RN in x's place").to.equal(1);
    expect(u.added[0]).to.not.be.oneOf([g.x, g.y]);
    expect(await g.epoch(), "the chain's epoch").to.equal(1);
    expect(await g.rekeys()).to.equal(1);
    expect(await g.s.dep.groups.isMember(g.gid, g.xPid), "x is no member on chain").to.equal(false);
    expect(
      g.s.msrpLog.filter((l) => l.includes("automatic update")),
      "one log line: group, evicted count, epoch, added count (no names: s24-rts F4)",
    ).to.deep.equal([`group ${toHex(g.gid).slice(0, 10)}…: automatic update (flag sync): evicted 1 RN(s), epoch 1, added 1`]);
    expect(msrp!.msrp.groupInfo(g.gid).lastAuto, "the MSRP's record keeps it (what group:status shows)").to.deep.equal({
      epoch: 1,
      evicted: [g.x],
    });
    // the members fetch it as any update; x fetches nothing
    const alice = await takePart({ ...g.party("alice"), pollMs: 50 });
    const fresh = await takePart({ ...g.party(u.added[0]), pollMs: 50 });
    expect([alice.epoch, fresh.epoch], "alice and the fresh RN take the epoch-1 key").to.deep.equal([1, 1]);
    // the parties are told (group:join): an automatic update, and the PID it evicted
    expect([alice.auto?.map(toHex), fresh.auto?.map(toHex)], "told: automatic, x's PID evicted").to.deep.equal([
      [toHex(g.xPid)],
      [toHex(g.xPid)],
    ]);
    expect((await takePart({ ...g.party("alice"), pollMs: 50 })).auto?.map(toHex), "again, with the key held").to.deep.equal([
      toHex(g.xPid),
    ]);
    expect(toHex(fresh.key)).to.equal(toHex(alice.key));
    const xFetch = await takePart(g.party(g.x)).then(
      () => "took a key",
      (e: Error) => `refused: ${e.message.split("\n")[0]}`,
    );
    expect(xFetch, "x's fetch").to.match(/^refused: .*NOT_A_MEMBER/);
    expect(await xOnNextMessage(g), "x on y's next message").to.match(/^refused:/);
  });

  it("x in two groups: one sync evicts it from both (the first eviction no longer holds it by its flag)", async () => {
    let other: Awaited<ReturnType<typeof requestGroupRemote>> | undefined;
    const g = await flagged({}, async (f, machines) => {
      // every joined RN: x is one (formation skips an RN already flagged, so it is formed before the flag)
      other = await requestGroupRemote({ msrpUrl: f.s.msrpUrl, user: "alice", size: 5, keystore: machines.get("alice")!, dep: f.s.dep });
    });
    if (!other) throw new Error("no second group");
    expect(await g.s.dep.groups.isMember(other.groupId, g.xPid), "precondition: x is in the second group").to.equal(true);
    const r = await msrp!.flagSync();
    expect(r.failed).to.deep.equal([]);
    expect(
      r.updates.map((u) => [u.groupId, u.epoch, u.evicted]),
      "both groups",
    ).to.deep.equal([
      [toHex(g.gid), 1, [g.x]],
      [toHex(other.groupId), 1, [g.x]],
    ]);
    for (const gid of [g.gid, other.groupId]) expect(await g.s.dep.groups.isMember(gid, g.xPid)).to.equal(false);
    expect((await msrp!.flagSync()).updates, "the next sync: nothing").to.deep.equal([]);
  });

  it("a second sync and a restart make no second update", async () => {
    const g = await flagged();
    expect((await msrp!.flagSync()).updates.length).to.equal(1);
    const again = await msrp!.flagSync();
    expect([again.added, again.updates, again.failed], "the second sync: nothing").to.deep.equal([[], [], []]);
    await msrp!.stop();
    msrp = new MsrpService(g.s.msrpDeps);
    await msrp.start({ port: Number(new URL(g.s.msrpUrl).port) });
    const after = await msrp.flagSync();
    expect([after.added, after.updates, after.failed], "the sync after a restart: nothing").to.deep.equal([[], [], []]);
    expect([await g.epoch(), await g.rekeys()], "one update on chain").to.deep.equal([1, 1]);
    expect(await xOnNextMessage(g)).to.match(/^refused:/);
  });

  it("the chain write's reply lost (mined): the next sync finishes that update from its intent, not a second one", async () => {
    const g = await flagged();
    const cut = interceptGroupWrite(g.s.msrpDeps.groups!, "rekey", "lost");
    const first = await msrp!.flagSync();
    cut.restore();
    expect(first.updates, "no update reported").to.deep.equal([]);
    expect(first.failed.map((f) => f.error)).to.deep.equal([
      "simulated: the MSRP's node connection dropped after the transaction was mined",
    ]);
    expect(await g.epoch(), "mined: the chain is at epoch 1").to.equal(1);
    expect(msrp!.msrp.groupInfo(g.gid).epoch, "the agent is not").to.equal(0);
    const next = await msrp!.flagSync();
    expect(next.failed).to.deep.equal([]);
    expect(
      next.updates.map((u) => [u.epoch, u.evicted]),
      "finished from the intent",
    ).to.deep.equal([[1, [g.x]]]);
    expect([await g.epoch(), await g.rekeys()], "one update on chain").to.deep.equal([1, 1]);
    expect([msrp!.msrp.groupInfo(g.gid).epoch, msrp!.desk!.mailbox(g.gid)!.epoch], "agent and mailbox at epoch 1").to.deep.equal([1, 1]);
    expect(fs.readdirSync(path.join(g.s.msrpDeps.dir, "journal")), "no intent left").to.have.length(0);
    expect((await takePart({ ...g.party("alice"), pollMs: 50 })).epoch).to.equal(1);
    expect(await xOnNextMessage(g)).to.match(/^refused:/);
  });

  it("stop() returns (and lets the folder go) only once the flag sync's update in flight is done (s19-review1 R4)", async () => {
    const g = await flagged();
    let entered = false;
    const groups = g.s.msrpDeps.groups! as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const real = groups.rekey.bind(groups);
    groups.rekey = async (...a: unknown[]) => {
      entered = true;
      await new Promise((r) => setTimeout(r, 3_000));
      return real(...a);
    };
    let settled = false;
    const sync = msrp!.flagSync().finally(() => (settled = true));
    while (!entered) await new Promise((r) => setTimeout(r, 20));
    await msrp!.stop();
    const afterStop = settled;
    await sync.catch(() => undefined);
    msrp = undefined;
    expect(afterStop, "the update finished before stop() let go of the folder").to.equal(true);
  });

  it("the chain write failed before it was sent: the next sync after the back-off sends that update again, once", async () => {
    let now = Date.now();
    const g = await flagged({ clock: () => now });
    const groups = g.s.msrpDeps.groups! as unknown as Record<string, unknown>;
    const real = groups.rekey;
    groups.rekey = () => Promise.reject(new Error("simulated: the MSRP's node is unreachable"));
    const first = await msrp!.flagSync().finally(() => (groups.rekey = real));
    expect(first.failed.length, "the update failed").to.equal(1);
    expect([await g.epoch(), msrp!.msrp.groupInfo(g.gid).epoch], "nothing on chain, nothing in the agent").to.deep.equal([0, 0]);
    now += AUTO_RETRY_BASE_MS;
    const next = await msrp!.flagSync();
    expect(next.updates.map((u) => [u.epoch, u.evicted])).to.deep.equal([[1, [g.x]]]);
    expect([await g.epoch(), await g.rekeys()]).to.deep.equal([1, 1]);
    expect(msrp!.msrp.groupInfo(g.gid).autoRetry, "the back-off ends with the update").to.equal(undefined);
    expect((await msrp!.flagSync()).updates).to.deep.equal([]);
  });

  /** the registry's rekey made to fail (simulated: the node refuses the MSRP's transaction), counting its calls */
  function failingRekey(g: Awaited<ReturnType<typeof flagged>>) {
    const groups = g.s.msrpDeps.groups! as unknown as Record<string, unknown>;
    const real = groups.rekey;
    const c = { calls: 0, restore: () => (groups.rekey = real) };
    groups.rekey = () => {
      c.calls++;
      return Promise.reject(new Error("simulated: insufficient funds for gas * price + value"));
    };
    return c;
  }

  it("a left automatic update whose write keeps failing: one try per group per sync, listed once (s19-review1 R5)", async () => {
    let now = Date.now();
    const g = await flagged({ clock: () => now });
    const w = failingRekey(g);
    try {
      expect((await msrp!.flagSync()).failed.length).to.equal(1);
      expect(w.calls, "the first sync: one write").to.equal(1);
      expect(fs.readdirSync(path.join(g.s.msrpDeps.dir, "journal")), "the update's intent is left").to.have.length(1);
      now += AUTO_RETRY_BASE_MS;
      const second = await msrp!.flagSync();
      expect(w.calls - 1, "the second sync: one write (the left intent), not two").to.equal(1);
      expect(
        second.failed.map((f) => f.groupId),
        "the group listed once",
      ).to.deep.equal([toHex(g.gid)]);
    } finally {
      w.restore();
    }
  });

  it("an update that keeps failing backs off (doubling, persisted across a restart), and its success ends the back-off", async () => {
    let now = Date.now();
    const g = await flagged({ clock: () => now });
    const t0 = now;
    let w = failingRekey(g);
    const tries: number[] = [];
    const sync = async () => {
      const before = w.calls;
      const r = await msrp!.flagSync();
      tries.push(w.calls - before);
      return r;
    };
    await sync(); // t0: fails (1), next at t0 + base
    const r1 = msrp!.msrp.groupInfo(g.gid).autoRetry;
    expect(r1, "the back-off after one failure").to.deep.equal({
      failures: 1,
      error: "simulated: insufficient funds for gas * price + value",
      next: t0 + AUTO_RETRY_BASE_MS,
    });
    now = t0 + AUTO_RETRY_BASE_MS - 1;
    expect((await sync()).failed, "within the back-off: not tried, not listed").to.deep.equal([]);
    now = t0 + AUTO_RETRY_BASE_MS;
    await sync(); // fails (2), next 2 x base later
    expect(msrp!.msrp.groupInfo(g.gid).autoRetry?.next, "doubled").to.equal(now + 2 * AUTO_RETRY_BASE_MS);
    // a restart keeps it (the MSRP's record)
    w.restore();
    await msrp!.stop();
    // (the stalled-intent retries, which respect the back-off too, held off: this test counts the writes)
    msrp = new MsrpService({ ...g.s.msrpDeps, stalledRetryMs: 3_600_000 });
    await msrp.start({ port: Number(new URL(g.s.msrpUrl).port) });
    expect(
      Object.values(msrp.stalledIntents())
        .map((i) => i.error)
        .join(),
      "recovery leaves it to the back-off",
    ).to.match(/backed off/);
    w = failingRekey(g);
    now += 2 * AUTO_RETRY_BASE_MS - 1;
    await sync();
    expect(msrp.msrp.groupInfo(g.gid).autoRetry?.failures, "after the restart, still backed off").to.equal(2);
    now += 1;
    await sync(); // fails (3)
    expect(tries, "writes per sync").to.deep.equal([1, 0, 1, 0, 1]);
    expect(
      g.s.msrpLog.filter((l) => l.includes("automatic update failed")).map((l) => l.replace(/from [0-9TZ:.-]+/, "from T")),
      "one line per failure, with the count",
    ).to.deep.equal(
      [1, 2, 3].map(
        (n) =>
          `group ${toHex(g.gid).slice(0, 10)}…: automatic update failed (${n} in a row; tried again at the first flag sync from T): simulated: insufficient funds for gas * price + value`,
      ),
    );
    w.restore();
    now += 4 * AUTO_RETRY_BASE_MS;
    const done = await msrp.flagSync();
    expect(
      done.updates.map((u) => [u.epoch, u.evicted]),
      "made once funded",
    ).to.deep.equal([[1, [g.x]]]);
    expect(msrp.msrp.groupInfo(g.gid).autoRetry, "the back-off is over").to.equal(undefined);
    expect([await g.epoch(), await g.rekeys()]).to.deep.equal([1, 1]);
    // the cap
    expect(nextAutoRetry({ failures: 40, error: "e", next: 0 }, new Error("x"), 0).next).to.equal(AUTO_RETRY_CAP_MS);
  });

  it("the chain refuses the update with a custom error (the MSRP's role revoked): reported once, tried again only at the cap", async () => {
    let now = Date.now();
    const g = await flagged({ clock: () => now });
    const admin = g.s.f.groups;
    const role = await admin.MSRP_ROLE();
    await (await admin.revokeRole(role, g.s.msrpWallet.address)).wait();
    const t0 = now;
    const first = await msrp!.flagSync();
    expect(first.failed.map((f) => f.error)).to.deep.equal([`AccessControlUnauthorizedAccount(${g.s.msrpWallet.address}, ${role})`]);
    const r = msrp!.msrp.groupInfo(g.gid).autoRetry;
    expect([r?.refused, r?.next], "refused: the next try at the cap").to.deep.equal([true, t0 + AUTO_RETRY_CAP_MS]);
    now = t0 + AUTO_RETRY_CAP_MS - 1;
    expect((await msrp!.flagSync()).failed, "not tried before the cap").to.deep.equal([]);
    now = t0 + AUTO_RETRY_CAP_MS;
    expect((await msrp!.flagSync()).failed.length, "tried at the cap, refused again").to.equal(1);
    expect(msrp!.msrp.groupInfo(g.gid).autoRetry?.failures).to.equal(2);
    expect(
      g.s.msrpLog.filter((l) => l.includes("automatic update")),
      "one log line for the same refusal",
    ).to.have.length(1);
    expect(g.s.msrpLog.filter((l) => l.includes("automatic update"))[0]).to.contain(
      "refused by the chain (AccessControlUnauthorizedAccount(",
    );
    // the operator grants the role again: the next try (at the cap) makes the update
    await (await admin.grantRole(role, g.s.msrpWallet.address)).wait();
    now += AUTO_RETRY_CAP_MS;
    expect((await msrp!.flagSync()).updates.map((u) => u.epoch)).to.deep.equal([1]);
    expect(msrp!.msrp.groupInfo(g.gid).autoRetry).to.equal(undefined);
    expect([await g.epoch(), await g.rekeys()]).to.deep.equal([1, 1]);
  });

  it("the user's own update ends the back-off at once", async () => {
    let now = Date.now();
    const g = await flagged({ clock: () => now });
    // simulated: the trust layer unreachable while the flag sync deals the update (nothing journaled)
    const desk = msrp!.desk! as unknown as Record<string, unknown>;
    const real = desk.rekeyChoice;
    let dealt = 0;
    desk.rekeyChoice = () => {
      dealt++;
      return Promise.reject(new Error("simulated: the trust layer's node timed out"));
    };
    try {
      const first = await msrp!.flagSync();
      expect([first.failed.length, dealt]).to.deep.equal([1, 1]);
      expect(fs.readdirSync(path.join(g.s.msrpDeps.dir, "journal")), "nothing journaled").to.have.length(0);
      expect(msrp!.msrp.groupInfo(g.gid).autoRetry?.failures).to.equal(1);
      const second = await msrp!.flagSync();
      expect([second.failed.length, dealt], "within the back-off: not tried again").to.deep.equal([0, 1]);
    } finally {
      desk.rekeyChoice = real;
    }
    const r = await rekeyRemote({
      msrpUrl: g.s.msrpUrl,
      user: "alice",
      groupId: g.gid,
      keystore: g.machines.get("alice")!,
      dep: g.s.dep,
      retry: once,
    });
    expect(r.epoch, "alice's rekey").to.equal(1);
    expect(msrp!.msrp.groupInfo(g.gid).autoRetry, "no back-off left").to.equal(undefined);
    const a = await takePart({ ...g.party("alice"), pollMs: 50 });
    expect(a.auto, "alice's own update is not said to be automatic").to.equal(undefined);
    now += AUTO_RETRY_BASE_MS;
    expect((await msrp!.flagSync()).updates).to.deep.equal([]);
  });

  it("the MSRP killed after the chain write: recovery finishes the update; the next sync makes none", async () => {
    const g = await flagged();
    process.env.METATRUST_FAULT = "msrp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const first = await msrp!.flagSync();
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    expect(first.failed.map((f) => f.error)).to.deep.equal(["crash at msrp:after-chain-write"]);
    expect(await g.epoch()).to.equal(1);
    await msrp!.stop();
    msrp = new MsrpService(g.s.msrpDeps);
    await msrp.start({ port: Number(new URL(g.s.msrpUrl).port) });
    expect([msrp.msrp.groupInfo(g.gid).epoch, msrp.desk!.mailbox(g.gid)!.epoch], "recovered: agent and mailbox at 1").to.deep.equal([1, 1]);
    const next = await msrp.flagSync();
    expect([next.updates, next.failed]).to.deep.equal([[], []]);
    expect([await g.epoch(), await g.rekeys()]).to.deep.equal([1, 1]);
    expect(await xOnNextMessage(g)).to.match(/^refused:/);
  });

  it("s22-redx F1, F2: x evicted for its flag (the MSRP killed after the chain write) is marked revoked on chain; the flag lifted, the next sync lifts both, x not back in the group", async () => {
    const g = await flagged({}, async (f, machines) => {
      // x's trust identity, attested by the MSRP over the network (which binds it in the MSRP's record)
      const x = f.members[0];
      await attestTrustRemote({
        name: x,
        keystore: machines.get(x)!,
        dep: f.s.dep,
        msrpUrl: f.s.msrpUrl,
        trustManager: f.s.f.deployment.contracts.TrustManager.address,
        controller: f.s.msrpWallet.address,
        now: await time.latest(),
      });
    });
    const pools = ResourcePoolRegistry__factory.connect(g.s.msrpDeps.registry, hre.ethers.provider);
    const standing = async () => ({
      revoked: await pools.isRevoked(toHex(g.xPid)),
      verified: await g.tm.isIdentityVerified(toHex(g.xPid)),
      judges: await g.tm.hasIdentityStanding(toHex(g.xPid)),
    });
    expect(await standing(), "before: x's attested entity is verified").to.deep.equal({ revoked: false, verified: true, judges: true });
    process.env.METATRUST_FAULT = "msrp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const first = await msrp!.flagSync();
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    expect(first.failed.map((f) => f.error)).to.deep.equal(["crash at msrp:after-chain-write"]);
    expect(first.revocations.revoked, "x's trust identity marked revoked").to.deep.equal([toHex(g.xPid)]);
    expect(await standing(), "revoked: no verified identity, no court standing").to.deep.equal({
      revoked: true,
      verified: false,
      judges: false,
    });
    await msrp!.stop();
    msrp = new MsrpService(g.s.msrpDeps);
    await msrp.start({ port: Number(new URL(g.s.msrpUrl).port) });
    expect(
      msrp.msrp.groupInfo(g.gid).members.map((m) => m.name),
      "recovered: x evicted",
    ).to.not.include(g.x);
    expect(msrp.msrp.flagHeldRns(), "recovered: x held by its flag").to.deep.equal([g.x]);
    expect((await msrp.flagSync()).revocations, "a second sync writes nothing").to.deep.equal({ revoked: [], reinstated: [], failed: [] });
    // the court upholds x's contest (or the detector withdraws): the flag is lifted on chain
    await (await g.tm.unflag(toHex(g.xPid), 1, await g.tm.generationOf(toHex(g.xPid)), (await g.tm.flagMarks(toHex(g.xPid)))[1])).wait();
    const next = await msrp.flagSync();
    expect([next.lifted, next.updates, next.revocations.reinstated], "x leaves S_RN, no update, reinstated").to.deep.equal([
      [g.x],
      [],
      [toHex(g.xPid)],
    ]);
    expect(await standing()).to.deep.equal({ revoked: false, verified: true, judges: true });
    expect(await g.s.dep.groups.isMember(g.gid, g.xPid), "x is not put back in the group").to.equal(false);
  });

  it("a flag lifted between the sync's read and the update evicts nobody; the next sync takes x out of S_RN", async () => {
    const g = await flagged();
    expect((await msrp!.desk!.syncTrustFlags()).added, "x in S_RN").to.deep.equal([g.x]);
    await (await g.tm.unflag(toHex(g.xPid), 1, await g.tm.generationOf(toHex(g.xPid)), (await g.tm.flagMarks(toHex(g.xPid)))[1])).wait();
    const r = await msrp!.desk!.evictFlaggedMembers();
    expect([r.updates, r.failed], "no update").to.deep.equal([[], []]);
    expect([await g.epoch(), await g.s.dep.groups.isMember(g.gid, g.xPid)], "epoch 0, x a member").to.deep.equal([0, true]);
    const next = await msrp!.flagSync();
    expect([next.lifted, next.updates], "x leaves S_RN, no update").to.deep.equal([[g.x], []]);
    expect(msrp!.msrp.suspiciousRns()).to.deep.equal([]);
  });

  it("alice's rekey racing the sync: one update in all, whichever comes first; nothing kept pending", async () => {
    const g = await flagged();
    const [user, sync] = await Promise.allSettled([
      rekeyRemote({ msrpUrl: g.s.msrpUrl, user: "alice", groupId: g.gid, keystore: g.machines.get("alice")!, dep: g.s.dep, retry: once }),
      msrp!.flagSync(),
    ]);
    if (sync.status !== "fulfilled") throw sync.reason;
    expect(sync.value.failed).to.deep.equal([]);
    const userMade = user.status === "fulfilled" ? 1 : 0;
    if (user.status === "rejected") expect((user.reason as Error).message).to.match(/STALE_EPOCH|NOTHING_TO_EVICT/);
    expect(userMade + sync.value.updates.length, "one update made").to.equal(1);
    expect([await g.epoch(), await g.rekeys()]).to.deep.equal([1, 1]);
    expect(await g.s.dep.groups.isMember(g.gid, g.xPid)).to.equal(false);
    expect(g.machines.get("alice")!.exists(groupUpdatePending("alice", g.gid)), "alice keeps no update pending").to.equal(false);
    expect((await msrp!.flagSync()).updates).to.deep.equal([]);
    expect((await takePart({ ...g.party("alice"), pollMs: 50 })).epoch).to.equal(1);
  });

  it("the service's tick does it (--flag-sync); autoEvict false only puts x in S_RN", async () => {
    const on = await flagged({ flagSyncMs: 200 });
    for (let i = 0; i < 600 && (await on.epoch()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await on.epoch(), "the tick made the update").to.equal(1);
    expect(await on.s.dep.groups.isMember(on.gid, on.xPid)).to.equal(false);
    await on.s.rpm.stop();
    await msrp!.stop();
    s = undefined;
    msrp = undefined;

    const off = await flagged({ autoEvict: false });
    const r = await msrp!.flagSync();
    expect([r.added, r.updates], "x in S_RN, no update").to.deep.equal([[off.x], []]);
    expect(await off.epoch()).to.equal(0);
    expect(await xOnNextMessage(off), "without the update x opens the next message").to.equal("opened: after the flag");
  });
});
