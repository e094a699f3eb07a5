/**
 * Red team s17-redB, finding B3 (fixed: rsms-join.md item 9, s17-redB B3; the client takes a reply only once
 * the chain holds its step, else keeps the request, re-sealed under a fresh request id): the RN takes an RPM's signed reply A = a*P as the end of its join
 * (or re-authentication) without the MSRP's decision ever reaching it. metatrust's honest RPM
 * answers only after the MSRP's record is on-chain (rsms-join.md change 3), but the RN cannot tell:
 * an RPM that follows the paper's Remark 1 ("step 2 and step 3 can also be parallel"), or one whose
 * forward never reaches the MSRP, or a dishonest one, answers with a reply that verifies. The RN
 * then marks itself joined (or moves to PID_{k+1}) and drops its pending request while the chain
 * holds no record: every later step fails (a new join is INVALID_STATE "already joined", a
 * re-authentication TAG_NOT_RECORDED at every pool) and nothing brings it back. One RPM strands the
 * RN for good, which the house rules forbid ("a lost reply never strands a party").
 */
import { expect } from "chai";
import { rsmsServices } from "../helpers/rsms-services";
import { joinRemote, reauthRemote, registerRnRemote, loadRemoteRn } from "../../offchain/services/rsms/clients";

describe("services/rsms red team s17-redB B3: an RPM's reply with no record on-chain", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  before(async () => {
    s = await rsmsServices({ pools: [1, 2], msrpRetry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 } });
    await registerRnRemote({ msrpUrl: s.msrpUrl, name: "v", poolId: 1, rid: "rn:v", token: s.enrol("v"), keystore: s.client, dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
  });
  after(async () => {
    await s?.stop();
  });

  it("the RN does not take the reply as a join the chain does not hold, and joins once the RPM forwards", async () => {
    // the RPM answers at once (the paper's parallel steps 2 and 3) and its forward is lost
    const rpm = s.rpm as unknown as { forward: (...x: unknown[]) => Promise<void> };
    const honest = rpm.forward;
    rpm.forward = async () => undefined;
    let refused = false;
    try {
      await joinRemote({ name: "v", poolId: 1, keystore: s.client, dep: s.dep, retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 } });
    } catch {
      refused = true;
    }
    rpm.forward = honest;
    const rn = loadRemoteRn(s.client, "v")!;
    expect(await s.dep.ledger.isPidRecorded(rn.state.pid), "no join record on-chain").to.equal(false);
    expect(rn.state.joined, "the RN's record says joined although the chain holds no join").to.equal(false);
    expect(refused).to.equal(true);
    // the RPM forwards again: the RN's retry completes the join
    const r = await joinRemote({ name: "v", poolId: 1, keystore: s.client, dep: s.dep });
    expect(r.rn.state.joined).to.equal(true);
    expect(await s.dep.ledger.isPidRecorded(r.rn.state.pid)).to.equal(true);
  });

  it("the same for a re-authentication: the RN stays at PID_0 until the chain holds PID_1, then moves", async () => {
    const rpm2 = s.rpms.get(2)!.svc as unknown as { forward: (...x: unknown[]) => Promise<void> };
    const honest = rpm2.forward;
    rpm2.forward = async () => undefined;
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    const err = await reauthRemote({ name: "v", poolId: 2, keystore: s.client, dep: s.dep, retry: once, recordWaitMs: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    rpm2.forward = honest;
    expect(String(err)).to.match(/NOT_RECORDED|the chain holds no record/);
    const rn = loadRemoteRn(s.client, "v")!;
    expect([rn.state.k, rn.state.pool], "the RN did not move").to.deep.equal([0, 1]);
    const r = await reauthRemote({ name: "v", poolId: 2, keystore: s.client, dep: s.dep });
    expect([r.rn.state.k, r.rn.state.pool, r.resumed]).to.deep.equal([1, 2, true]);
    expect((await s.dep.ledger.recordOf(r.rn.state.pid)).poolId).to.equal(2);
  });
});
