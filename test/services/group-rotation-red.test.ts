/**
 * Red team h11-red2 finding G1 (HIGH, fixed): forward security of the group key after an eviction,
 * against a member that rotates its pseudonym.
 *
 * Attacker: an RN of a service group that the trust layer flagged. Before the user asks for its
 * eviction it re-authenticates at another pool (PID_k -> PID_{k+1}; flagged is not S_RN, so the
 * MSRP lets it rotate). The key update evicted PID_k, then asked `freshRns` for a replacement,
 * which compared the candidates' current PIDs with the group's and asked the TrustManager about
 * PID_{k+1} (no entity, never flagged): the evicted RN itself was the "fresh" RN (first when it
 * registered first); Msrp.rekeyGroup let an RN be re-added when its entry was evicted by the same
 * update, and the chain saw another PID. It got the new epoch's key, stayed out of S_RN, and the
 * chain linked its two PIDs (evicted and added in one GroupRekeyed). Paper property: RSMS §IV.B.2.c
 * (an evicted member cannot obtain the updated key); §III.D.2 unlinkability of rotated PIDs.
 * Fix: freshRns skips the group's members by name (under any PID), and Msrp.rekeyGroup refuses to
 * add an RN the same update evicts.
 *
 * G2 (MEDIUM, fixed): the desk asked the trust layer about a member's group PID only, so a flagged
 * RN that rotated and was then allocated under its new PID could not be evicted (NOT_FLAGGED): a
 * flag stopped binding after one rotation. Now a member (and a replacement candidate) is flagged if
 * any PID the MSRP issued to it is (`flaggedRn`).
 *
 * G3 (MEDIUM, fixed): group formation never asked the trust layer: an RN flagged (not yet evicted
 * anywhere, so not in S_RN) was allocated to new groups and could still rotate. Now formation skips
 * the picked RNs the trust layer flags under any PID (they join S_RN with the group), and the
 * MSRP's flag sync (`GroupDesk.syncTrustFlags`, a tick of `rsms:serve msrp`, `--flag-sync`) puts
 * every flagged RN in S_RN (no group, no rotation) and takes it out when the flag is lifted, unless
 * it was evicted meanwhile (docs/specs/rsms-group.md §8).
 */
import { expect } from "chai";
import hre from "hardhat";
import { rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { equalBytes, toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import {
  addRemote,
  localParty,
  registerUserRemote,
  rekeyRemote,
  requestGroupRemote,
  takePart,
} from "../../offchain/services/rsms/group-clients";
import { MSRP_RECORD } from "../../offchain/services/rsms/msrp-service";
import { ServiceError } from "../../offchain/services/client";
import { TrustManager__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/rsms: a flagged RN that rotates its pseudonym is evicted, not re-added by its own eviction, and not allocated (h11-red2 G1, G2, G3)", function () {
  this.timeout(300_000);

  async function system(rns: string[], users: string[], flagSyncMs?: number) {
    const s = await rsmsServices({ groups: true, pools: [1, 2], ...(flagSyncMs ? { flagSyncMs } : {}) });
    const tmAddress = s.f.deployment.contracts.TrustManager.address;
    const signers = await hre.ethers.getSigners();
    const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
    const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
    const machines = new Map<string, Keystore>();
    for (const n of [...rns, ...users]) machines.set(n, new Keystore(tmp(`g-${n}`), ""));
    const ks = (n: string) => machines.get(n)!;
    for (const n of rns)
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: ks(n), dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    for (const n of rns) await joinRemote({ name: n, poolId: 1, keystore: ks(n), dep: s.dep });
    for (const u of users)
      await registerUserRemote({ msrpUrl: s.msrpUrl, name: u, rid: `user:${u}`, token: s.enrol(u, "user"), keystore: ks(u), dep: s.dep });
    const pidOf = (n: string) => loadRemoteRn(ks(n), n)!.state.pid;
    /** the detector flags an RN's trust identity (its PID now: the first, before any rotation) */
    const flag = async (n: string, pid = pidOf(n), again = false) => {
      if (!again) await controller.register(toHex(pid), "resource-node", s.msrpWallet);
      await detector.flag(toHex(pid), 1, new Uint8Array(32), 0);
    };
    /** the flag is lifted (the detector withdraws the instance it set; the court's upheld contest calls the same unflag) */
    const unflag = async (pid: Uint8Array) => {
      const tm = TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]);
      await (await tm.unflag(toHex(pid), 1, 0, (await tm.flagMarks(toHex(pid)))[1])).wait();
    };
    const nameOf = (pid: Uint8Array) => [...machines.keys()].find((n) => equalBytes(localParty(ks(n), n).pid, pid));
    return { s, ks, pidOf, flag, unflag, nameOf };
  }

  it("the flagged member rotates, then the update evicts it: a fresh RN is added, not the evicted one under its new PID; it cannot read the new key and is in S_RN", async () => {
    const { s, ks, pidOf, flag, nameOf } = await system(["a", "b", "c"], ["alice"]);
    try {
      const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 2, keystore: ks("alice"), dep: s.dep });
      const members = g.pids.slice(1).map((p) => nameOf(p)!);
      const victim = members[0];
      const oldPid = pidOf(victim);
      await flag(victim);
      // the attacker's move: a cross-pool re-authentication, PID_k -> PID_{k+1}
      await reauthRemote({ name: victim, poolId: 2, keystore: ks(victim), dep: s.dep, retry: once });
      expect(equalBytes(pidOf(victim), oldPid)).to.equal(false);
      const r = await rekeyRemote({ msrpUrl: s.msrpUrl, user: "alice", groupId: g.groupId, keystore: ks("alice"), dep: s.dep });
      expect(r.evicted.map(toHex)).to.deep.equal([toHex(oldPid)]);
      const readers = ["alice", members[1], ...r.added.map((p) => nameOf(p)!)];
      const keys = await Promise.all(
        readers.map((n) => takePart({ msrpUrl: s.msrpUrl, name: n, groupId: g.groupId, keystore: ks(n), dep: s.dep })),
      );
      expect(new Set(keys.map((k) => toHex(k.key))).size).to.equal(1);
      // The evicted RN must not be a member of the epoch that evicts it, under any pseudonym.
      expect(
        r.added.map((p) => nameOf(p)),
        "the evicted RN was re-added under its rotated PID",
      ).to.not.include(victim);
      expect(await s.dep.groups.isMember(g.groupId, pidOf(victim)), "the evicted RN is a member of the new epoch").to.equal(false);
      expect(s.msrp.msrp.suspiciousRns(), "the evicted RN is not in S_RN").to.include(victim);
      const err = await takePart({
        msrpUrl: s.msrpUrl,
        name: victim,
        groupId: g.groupId,
        keystore: ks(victim),
        dep: s.dep,
        retry: once,
      }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err, "the evicted RN read the new key").to.not.equal(undefined);
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });

  it("a flagged RN that rotated, then allocated under its new PID, is evicted: the desk asks about every PID of the RN (h11-red2 G2)", async () => {
    const { s, ks, pidOf, flag } = await system(["a", "b", "c"], ["bob"]);
    try {
      const oldA = pidOf("a");
      await reauthRemote({ name: "a", poolId: 2, keystore: ks("a"), dep: s.dep, retry: once });
      const newA = pidOf("a");
      // bob's group of three gets "a" under PID_1; then its trust identity PID_0 is flagged
      const gb = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "bob", size: 3, keystore: ks("bob"), dep: s.dep });
      expect(gb.pids.map(toHex)).to.include(toHex(newA));
      await flag("a", oldA);
      const refused = await rekeyRemote({
        msrpUrl: s.msrpUrl,
        user: "bob",
        groupId: gb.groupId,
        evict: [newA],
        keystore: ks("bob"),
        dep: s.dep,
        retry: once,
      }).then(
        () => undefined,
        (e: ServiceError) => e.reason,
      );
      expect(refused, "the flagged RN, in the group under a rotated PID, cannot be evicted").to.equal(undefined);
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });

  it("G3: formation skips an RN the trust layer flags (under a PID it rotated away from, too), which joins S_RN; too few RNs left: refused, nothing changed", async () => {
    const { s, ks, pidOf, flag, nameOf } = await system(["a", "b", "c", "d"], ["alice", "bob"]);
    try {
      const desk = s.msrp.desk!;
      const oldA = pidOf("a");
      await flag("a", oldA);
      // "c" is flagged after it rotated: the flag is on its PID_0, it is picked under PID_1
      const oldC = pidOf("c");
      await reauthRemote({ name: "c", poolId: 2, keystore: ks("c"), dep: s.dep, retry: once });
      await flag("c", oldC);
      const before = s.msrp.msrp.toRecord();
      // three RNs asked, two are not flagged: refused with its reason, S_RN and the record unchanged
      const refused = await requestGroupRemote({
        msrpUrl: s.msrpUrl,
        user: "bob",
        size: 3,
        keystore: ks("bob"),
        dep: s.dep,
        retry: once,
      }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(refused).to.match(/3 RNs requested, only 4 .* \(2 once the 2 the trust layer flags are left out\)/);
      expect(s.msrp.msrp.toRecord()).to.deep.equal(before);
      // picked a, b (a flagged), then b, c (c flagged), then b, d
      const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 2, keystore: ks("alice"), dep: s.dep });
      expect(
        g.pids
          .slice(1)
          .map((p) => nameOf(p))
          .sort(),
      ).to.deep.equal(["b", "d"]);
      expect(s.msrp.msrp.suspiciousRns(), "the skipped RNs join S_RN").to.deep.equal(["a", "c"]);
      expect(s.msrp.msrp.flagHeldRns()).to.deep.equal(["a", "c"]);
      // in S_RN: "a" may not rotate any more
      const rotated = await reauthRemote({ name: "a", poolId: 2, keystore: ks("a"), dep: s.dep, retry: once }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(rotated, "a flagged RN rotated its pseudonym").to.match(/S_RN|SUSPICIOUS/);
      expect(await desk.syncTrustFlags(), "a sync after the formation has nothing to do").to.deep.equal({ added: [], lifted: [] });
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });

  it("G3: the flag sync puts a flagged RN in S_RN (no group, no rotation) and takes it out when the flag is lifted; one evicted for the flag too (s22-redx F1)", async () => {
    const { s, ks, pidOf, flag, unflag, nameOf } = await system(["a", "b", "c"], ["alice", "bob"]);
    try {
      const desk = s.msrp.desk!;
      const pidA = pidOf("a");
      await flag("a");
      expect(await desk.syncTrustFlags()).to.deep.equal({ added: ["a"], lifted: [] });
      expect(await desk.syncTrustFlags(), "a second sync changes nothing").to.deep.equal({ added: [], lifted: [] });
      expect(s.msrp.msrp.suspiciousRns()).to.deep.equal(["a"]);
      // the record on disk holds it (one atomic keystore write)
      expect((s.msrpDeps.keystore.load(MSRP_RECORD) as { suspicious?: string[] }).suspicious).to.deep.equal(["a"]);
      const rotated = await reauthRemote({ name: "a", poolId: 2, keystore: ks("a"), dep: s.dep, retry: once }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(rotated, "a flagged RN rotated its pseudonym").to.match(/S_RN|SUSPICIOUS/);
      // the flag is contested and lifted: "a" leaves S_RN and may be allocated again
      await unflag(pidA);
      expect(await desk.syncTrustFlags()).to.deep.equal({ added: [], lifted: ["a"] });
      expect(s.msrp.msrp.suspiciousRns()).to.deep.equal([]);
      const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 3, keystore: ks("alice"), dep: s.dep });
      expect(
        g.pids
          .slice(1)
          .map((p) => nameOf(p))
          .sort(),
      ).to.deep.equal(["a", "b", "c"]);
      // flagged again, then evicted from alice's group (before the sync mirrored it: the update
      // found the flag): the eviction was for the flag, so it stays held by it, and leaves S_RN
      // when the flag is lifted (s22-redx F1), without being put back in alice's group
      await flag("a", pidA, true);
      const r = await rekeyRemote({
        msrpUrl: s.msrpUrl,
        user: "alice",
        groupId: g.groupId,
        keystore: ks("alice"),
        dep: s.dep,
        retry: once,
      });
      expect(r.evicted.map(toHex)).to.deep.equal([toHex(pidA)]);
      expect([s.msrp.msrp.suspiciousRns(), s.msrp.msrp.flagHeldRns()], "in S_RN, held by the flag").to.deep.equal([["a"], ["a"]]);
      expect((s.msrpDeps.keystore.load(MSRP_RECORD) as { flagHeld?: string[] }).flagHeld, "on disk").to.deep.equal(["a"]);
      await unflag(pidA);
      expect(await desk.syncTrustFlags(), "an RN evicted for a lifted flag leaves S_RN").to.deep.equal({ added: [], lifted: ["a"] });
      expect(s.msrp.msrp.suspiciousRns()).to.deep.equal([]);
      expect(
        s.msrp.msrp.groupInfo(g.groupId).members.map((m) => m.name),
        "not back in the group",
      ).to.not.include("a");
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });

  it("G3: a group add refuses with the flagged RN it skipped named", async () => {
    const { s, ks, flag } = await system(["a", "b"], ["alice"]);
    try {
      const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 1, keystore: ks("alice"), dep: s.dep });
      await flag("b"); // "b" is the RN left outside alice's group ("a" was picked first, by name)
      const refused = await addRemote({
        msrpUrl: s.msrpUrl,
        user: "alice",
        groupId: g.groupId,
        count: 1,
        keystore: ks("alice"),
        dep: s.dep,
        retry: once,
      }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      // counted, not named (the user learns no RN's name with its flag status)
      expect(refused).to.match(/0 joined RN\(s\) can join the group, 1 asked \(1 skipped: flagged by the trust layer\)$/);
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });

  it("G3: the flag sync runs as a tick of the MSRP service (--flag-sync)", async () => {
    const { s, flag } = await system(["a", "b"], ["alice"], 200);
    try {
      await flag("b");
      for (let i = 0; i < 100 && !s.msrp.msrp.suspiciousRns().includes("b"); i++) await new Promise((r) => setTimeout(r, 100));
      expect(s.msrp.msrp.suspiciousRns(), "the tick did not put the flagged RN in S_RN").to.deep.equal(["b"]);
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });
});
