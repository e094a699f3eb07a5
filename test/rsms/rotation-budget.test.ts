/**
 * Red team s17-redB, finding B13 (fixed), the agent's side: the MSRP's budget of recorded rotations
 * per RN and window (`Msrp.setRotationBudget`; the MSRP service sets DEFAULT_ROTATION_BUDGET, 12 per
 * hour). A rotation over the budget is refused ROTATION_BUDGET before anything is recorded; the count
 * is in the MSRP's record (a restart does not reset it); the next window allows rotations again.
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { initialJoin, reauthenticate } from "../../offchain/rsms/flows";
import { RsmsRejectedError } from "../../offchain/rsms/errors";
import { Msrp } from "../../offchain/rsms/msrp";

describe("rsms red team s17-redB B13: a budget of recorded rotations per RN", function () {
  it("perRn rotations per window are recorded, one more is refused (nothing recorded) also after a restart, and the next window allows more", async () => {
    const { ctx, msrp: m0, rpmA, rpmB, rns, ledger } = await loadRsms();
    m0.setRotationBudget({ perRn: 2, windowSec: 3600 });
    const rn = rns[0];
    await initialJoin(ctx, rn, rpmA, m0);
    await reauthenticate(ctx, rn, rpmB, m0);
    await reauthenticate(ctx, rn, rpmA, m0);
    // the MSRP restarts from its record: the count is there
    const msrp = Msrp.fromRecord(m0.toRecord());
    msrp.setRotationBudget({ perRn: 2, windowSec: 3600 });
    const count = await ledger.joinCount();
    const before = JSON.stringify(msrp.toRecord());
    const e = await reauthenticate(ctx, rn, rpmB, msrp).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).to.be.instanceOf(RsmsRejectedError);
    expect((e as RsmsRejectedError).reason).to.equal("ROTATION_BUDGET");
    expect(await ledger.joinCount()).to.equal(count);
    expect(JSON.stringify(msrp.toRecord())).to.equal(before);
    expect(rn.state.k).to.equal(2);
    // another RN has its own budget
    await initialJoin(ctx, rns[1], rpmA, msrp);
    await reauthenticate(ctx, rns[1], rpmB, msrp);
    // the window passes (its count moved back a window instead of the clock forward): rotates again
    const r = (msrp as unknown as { r: { rns: Record<string, { rotations: { window: number } }> } }).r;
    r.rns.rn0.rotations.window -= 1;
    await reauthenticate(ctx, rn, rpmB, msrp);
    expect(rn.state.k).to.equal(3);
    // without a budget (in-process default) nothing is refused
    msrp.setRotationBudget(undefined);
    await reauthenticate(ctx, rn, rpmA, msrp);
    await reauthenticate(ctx, rn, rpmB, msrp);
    expect(() => msrp.setRotationBudget({ perRn: 0, windowSec: 1 })).to.throw(/perRn 0/);
  });
});
