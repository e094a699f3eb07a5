/**
 * s24-fxr (s24-rtr R1's off-chain side): the desk does not pick an RN whose PID the registry still
 * marks revoked.
 *
 * Since s24-rtr R1 the ServiceGroupRegistry refuses a member whose PID the ResourcePoolRegistry marks
 * revoked (`ServiceGroupRegistry__PidRevoked`). An RN that leaves S_RN (the operator's clear, a lifted
 * trust flag) keeps that mark until the revocation sync lifts it (the end of the flag sync). If the
 * desk picked it in between, the chain would refuse the update: a user's request failed after its
 * intent was journalled (and charged), and the flag sync's own eviction update, which runs before
 * the revocation sync in the same sync, was refused as a lasting chain refusal (backed off for the cap).
 * Steps: group {x, y} with one more joined RN z; z's trust identity (its current PID) marked revoked
 * on chain, z cleared from S_RN in the agent only; alice's add of one RN; the revocation sync; the add again.
 *
 * Secure behaviour asserted: the first add is refused NO_FRESH_RN before anything is journalled,
 * charged or sent (the chain at epoch 0, no pending update); after the sync lifts z's mark the add
 * takes z. The same for a formation: with two RNs, one of them marked, a group of two is refused by
 * the allocation, nothing journalled or charged, no group on chain; after the sync it is formed.
 */
import { expect } from "chai";
import { formedGroup, rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { toHex } from "../../offchain/crypto/bytes";
import type { Journal } from "../../offchain/services/journal";
import { addRemote, registerUserRemote, requestGroupRemote } from "../../offchain/services/rsms/group-clients";
import { joinRemote, registerRnRemote } from "../../offchain/services/rsms/clients";

describe("s24-fxr: the desk picks no RN whose PID the registry still marks revoked", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  afterEach(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("a formation: b left S_RN but its mark is on chain; alice's group of two is refused, nothing changed; after the sync it is formed", async () => {
    s = await rsmsServices({ groups: true });
    const machines = new Map<string, Keystore>();
    for (const n of ["a", "b", "alice"]) machines.set(n, new Keystore(tmp(`m-${n}`), ""));
    for (const n of ["a", "b"])
      await registerRnRemote({
        msrpUrl: s.msrpUrl,
        name: n,
        poolId: 1,
        rid: `rn:${n}`,
        token: s.enrol(n),
        keystore: machines.get(n)!,
        dep: s.dep,
      });
    expect(await s.msrp.publishDue(), "precondition: the filter is published").to.equal(1);
    for (const n of ["a", "b"]) await joinRemote({ name: n, poolId: 1, keystore: machines.get(n)!, dep: s.dep });
    await registerUserRemote({
      msrpUrl: s.msrpUrl,
      name: "alice",
      rid: "user:alice",
      token: s.enrol("alice", "user"),
      keystore: machines.get("alice")!,
      dep: s.dep,
    });
    const agent = s.msrp.msrp;
    const b = agent.joinedRns().find((r) => r.name === "b")!;
    agent.bindTrustId(b.name, b.pid);
    agent.flagRn(b.pid);
    expect((await s.msrp.syncRevocations()).revoked, "precondition: b's PID marked revoked").to.deep.equal([toHex(b.pid)]);
    agent.clearSuspicious(b.name);

    const alice = {
      msrpUrl: s.msrpUrl,
      user: "alice",
      size: 2,
      keystore: machines.get("alice")!,
      dep: s.dep,
      retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
    };
    const quota = s.msrp.desk!.quota.used("alice");
    const first = await requestGroupRemote(alice).then(
      () => "answered",
      (e: Error) => `refused: ${e.message.split("\n")[0]}`,
    );
    expect(first, "refused by the allocation, not by the chain").to.match(/2 RNs requested/);
    const journal = (s.msrp.desk! as unknown as { d: { journal: Journal } }).d.journal;
    expect(
      journal.pending().filter((i) => i.id.startsWith("group-")),
      "nothing journalled",
    ).to.deep.equal([]);
    expect(s.msrp.desk!.quota.used("alice"), "nothing charged").to.deep.equal(quota);
    expect((await s.dep.groups.registry.queryFilter(s.dep.groups.registry.filters.GroupFormed())).length, "no group on chain").to.equal(0);

    expect((await s.msrp.syncRevocations()).reinstated).to.deep.equal([toHex(b.pid)]);
    const g = await requestGroupRemote(alice);
    expect(g.pids.length, "formed: alice and two RNs").to.equal(3);
  });

  it("z left S_RN but its mark is on chain: alice's add is refused, nothing changed; after the sync it takes z", async () => {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    let members: string[];
    ({ s, gid, members } = await formedGroup(machines, ["a", "b", "c"]));
    const agent = s.msrp.msrp;
    const z = agent.joinedRns().find((r) => !members.includes(r.name))!;
    agent.bindTrustId(z.name, z.pid);
    agent.flagRn(z.pid);
    const marked = await s.msrp.syncRevocations();
    expect(marked.revoked, "precondition: z's PID marked revoked on chain").to.deep.equal([toHex(z.pid)]);
    agent.clearSuspicious(z.name); // out of S_RN; the mark is lifted only by the next revocation sync
    expect(await s.dep.ledger.registry.isRevoked(toHex(z.pid)), "precondition: still marked").to.equal(true);

    const alice = {
      msrpUrl: s.msrpUrl,
      user: "alice",
      groupId: gid,
      count: 1,
      keystore: machines.get("alice")!,
      dep: s.dep,
      retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
    };
    const quota = s.msrp.desk!.quota.used("alice");
    const first = await addRemote(alice).then(
      () => "answered",
      (e: Error) => `refused: ${e.message.split("\n")[0]}`,
    );
    expect(first, "refused by the desk, not by the chain").to.match(/NO_FRESH_RN|0 joined RN\(s\) can join the group/);
    expect(Number((await s.dep.groups.view(gid)).epoch), "nothing sent: the chain at epoch 0").to.equal(0);
    const journal = (s.msrp.desk! as unknown as { d: { journal: Journal } }).d.journal;
    expect(
      journal.pending().filter((i) => i.id.startsWith("rekey-")),
      "nothing journalled",
    ).to.deep.equal([]);
    expect(s.msrp.desk!.quota.used("alice"), "nothing charged").to.deep.equal(quota);

    expect((await s.msrp.syncRevocations()).reinstated, "the sync lifts z's mark").to.deep.equal([toHex(z.pid)]);
    const next = await addRemote(alice);
    expect([next.epoch, next.added.map(toHex)], "the add takes z").to.deep.equal([1, [toHex(z.pid)]]);
  });
});
