/**
 * Red team s17-redB, finding B7 (fixed: rsms-join.md item 9, s17-redB B7; before resending, the client takes
 * a kept step the chain holds from the chain's record): over the network, an RN whose step is on-chain but whose reply was
 * lost depends on that one RPM service for good. The in-process flow resynchronises from the chain
 * (`flows.resyncRn` -> `ResourceNode.adoptRecorded`, rsms-join.md change 9); the network client
 * (`clients.ts stepRemote`) has no such path. If the RPM of the pool the RN moved to goes away after
 * the MSRP recorded the step and before the RN got its reply (it crashed for good, was retired, or
 * simply never answers again), the RN:
 * - cannot finish the step (`rsms:reauth --to-pool Y`: the service cannot be reached),
 * - cannot move elsewhere (INVALID_STATE: a re-authentication to pool Y is in flight),
 * - cannot drop it (`--abandon`: "the request took effect ... kept: run without --abandon").
 * Yet it holds everything needed: its pending (a_{k+1}, PID_{k+1}) and the chain's record of
 * PID_{k+1} with H4(a_{k+1}), which only the MSRP writes, after it checked a forward signed by that
 * pool's RPM. A lost reply strands the RN.
 */
import { expect } from "chai";
import { rsmsServices } from "../helpers/rsms-services";
import { joinRemote, reauthRemote, registerRnRemote, loadRemoteRn } from "../../offchain/services/rsms/clients";
import { onFault } from "../../offchain/services/faults";
import { toHex } from "../../offchain/crypto/bytes";

describe("services/rsms red team s17-redB B7: the RPM that recorded an RN's step is gone before its reply", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  before(async () => {
    s = await rsmsServices({ pools: [1, 2], msrpRetry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 } });
    await registerRnRemote({ msrpUrl: s.msrpUrl, name: "w", poolId: 1, rid: "rn:w", token: s.enrol("w"), keystore: s.client, dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    await joinRemote({ name: "w", poolId: 1, keystore: s.client, dep: s.dep });
  });
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await s?.stop();
  });

  it("the RN completes its re-authentication from the chain's record once pool 2's RPM is gone", async () => {
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    process.env.METATRUST_FAULT = "rpm:after-forward";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const lost = await reauthRemote({ name: "w", poolId: 2, keystore: s.client, dep: s.dep, retry: once }).then(
      () => undefined,
      (e: unknown) => e,
    );
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    expect(lost, "the reply was lost").to.be.instanceOf(Error);
    const before = loadRemoteRn(s.client, "w")!;
    expect(before.state.k).to.equal(0);
    const rpm2 = s.rpms.get(2)!;
    await rpm2.svc.stop(); // pool 2's RPM service is gone for good
    // the chain holds the RN's step at pool 2
    const joinedCount = await s.dep.ledger.joinCount();
    expect(joinedCount).to.equal(2n);

    let err: unknown;
    const done = await reauthRemote({ name: "w", poolId: 2, keystore: s.client, dep: s.dep, retry: once }).catch((e: unknown) => {
      err = e;
      return undefined;
    });
    expect(done, `the RN is stranded: ${String(err)}`).to.not.equal(undefined);
    const rn = loadRemoteRn(s.client, "w")!;
    expect(rn.state.k).to.equal(1);
    expect(rn.state.pool).to.equal(2);
    expect((await s.dep.ledger.recordOf(rn.state.pid)).poolId).to.equal(2);
    expect(toHex(rn.state.pid)).to.not.equal(toHex(before.state.pid));
    expect(done!.adopted, "taken from the chain, no RPM asked").to.equal(true);
    expect(await s.dep.ledger.joinCount(), "nothing written").to.equal(joinedCount);
  });
});
