/**
 * Red team s17-redB, finding B8 (fixed; what follows describes the code before the fix): with join batching on (`rsms:serve msrp --batch-ms`), the MSRP
 * checks S_RN when it verifies a re-authentication forward (`verifyReauth`: SUSPICIOUS) and not
 * again when it writes the batch. An RN that joins S_RN while its rotation waits in the open batch
 * (the flag sync's tick, an eviction, the operator's flag: all take the service's mutex, which is
 * free while a batch is open) is rotated anyway: PID_{k+1} is recorded and committed, so the RN
 * sheds the pseudonym it was flagged under, which rsms-join.md change 14 forbids ("A suspicious RN
 * may not rotate ... it keeps the pseudonym it was flagged or evicted under").
 */
import { expect } from "chai";
import { rsmsServices } from "../helpers/rsms-services";
import { joinRemote, reauthRemote, registerRnRemote, loadRemoteRn } from "../../offchain/services/rsms/clients";

describe("services/rsms red team s17-redB B8: an RN flagged while its rotation waits in a batch", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  before(async () => {
    s = await rsmsServices({ pools: [1, 2], msrpRetry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 }, batch: { ms: 1500, max: 32 } });
    await registerRnRemote({ msrpUrl: s.msrpUrl, name: "x", poolId: 1, rid: "rn:x", token: s.enrol("x"), keystore: s.client, dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    await joinRemote({ name: "x", poolId: 1, keystore: s.client, dep: s.dep });
  });
  after(async () => {
    await s?.stop();
  });

  it("the rotation is refused SUSPICIOUS at the write: nothing recorded, the RN keeps its flagged PID", async () => {
    const pid0 = loadRemoteRn(s.client, "x")!.state.pid;
    const count = await s.dep.ledger.joinCount();
    const moving = reauthRemote({
      name: "x",
      poolId: 2,
      keystore: s.client,
      dep: s.dep,
      retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const svc = s.msrp as unknown as { batched: Set<string> };
    for (let i = 0; i < 200 && !svc.batched.has("x"); i++) await new Promise((r) => setTimeout(r, 10));
    expect(svc.batched.has("x"), "the rotation waits in the open batch").to.equal(true);
    s.msrp.msrp.flagRn(pid0); // flagged now, under the pseudonym it holds
    const err = await moving;
    expect(await s.dep.ledger.joinCount(), "PID_1 recorded for an RN in S_RN").to.equal(count);
    expect(err).to.be.instanceOf(Error);
    expect(s.msrp.msrp.isSuspiciousPid(pid0)).to.equal(true);
    expect(s.msrp.msrp.summary().rns.find((r) => r.name === "x")!.k).to.equal(0);
  });

  it("a rotation the chain holds already (a resent batch whose first transaction was mined) is committed, not dropped, for an RN flagged meanwhile", async () => {
    // session 17's final read: B8's refusal ran before the chain was read, so such a rotation's
    // intent was dropped: PID_1 on-chain, the MSRP unable to trace it and refusing the RN's next one
    await registerRnRemote({ msrpUrl: s.msrpUrl, name: "y", poolId: 1, rid: "rn:y", token: s.enrol("y"), keystore: s.client, dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    await joinRemote({ name: "y", poolId: 1, keystore: s.client, dep: s.dep });
    const pid0 = loadRemoteRn(s.client, "y")!.state.pid;
    const moving = reauthRemote({
      name: "y",
      poolId: 2,
      keystore: s.client,
      dep: s.dep,
      retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
    });
    const svc = s.msrp as unknown as {
      batched: Set<string>;
      open?: { items: { v: { rn: string; record: Parameters<typeof s.dep.ledger.recordJoin>[0] } }[] };
      d: { ledger: typeof s.dep.ledger }; // the MSRP's own ledger, which signs
    };
    for (let i = 0; i < 200 && !svc.batched.has("y"); i++) await new Promise((r) => setTimeout(r, 10));
    const queued = svc.open!.items.find((q) => q.v.rn === "y")!;
    // the batch's transaction, mined before (its receipt lost, the batch resent), then the flag
    await svc.d.ledger.recordJoin(queued.v.record);
    s.msrp.msrp.flagRn(pid0);
    const moved = await moving;
    expect(moved.rn.state.k).to.equal(1);
    expect(s.msrp.msrp.trace(moved.rn.state.pid)).to.include({ name: "y" });
    expect(s.msrp.msrp.summary().rns.find((r) => r.name === "y")!.k).to.equal(1);
    expect(s.msrp.msrp.isSuspiciousPid(moved.rn.state.pid), "the flag follows the RN").to.equal(true);
  });
});
