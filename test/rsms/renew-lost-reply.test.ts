/**
 * Red team s17-redB, finding B10 (fixed; what follows describes the code before the fix): a renewal whose reply is lost strands the RN. `Msrp.renewRn`
 * draws the new a_0 and replaces the old one before its reply (the new secret sealed to PK_RN)
 * reaches the RN. The RN, still holding the old secret, asks again: its request is signed over
 * (PID_0, H4(old a_0)), and the MSRP now checks it against H4(new a_0), so it is MSRP_REJECTED
 * ("not signed by the RN of ... for its current secret"). The RN can neither renew (refused) nor
 * join (its a_0 is no longer the issued one: MSRP_REJECTED at the exact check). The threat matrix
 * (rsms-join.md, "Renewal reply ... drop: the RN renews again") says the opposite.
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { initialJoin, publishFilter } from "../../offchain/rsms/flows";
import { ResourceNode } from "../../offchain/rsms/rn";

describe("rsms red team s17-redB B10: a renewal reply lost on the way to the RN", function () {
  it("the RN's second request is answered with the secret the first one drew, which opens, and nothing else is drawn", async () => {
    const { msrp, rns } = await loadRsms();
    const rn = rns[0];
    const now = Math.floor(Date.now() / 1000);
    msrp.renewRn(rn.renewalRequest(), now); // the reply is lost
    const pending = msrp.pendingCount(1);
    let sealed: Uint8Array | undefined;
    let err: unknown;
    try {
      sealed = msrp.renewRn(rn.renewalRequest(), now); // the RN asks again
    } catch (e) {
      err = e;
    }
    expect(sealed, `the RN's retry is refused: ${String(err)}`).to.not.equal(undefined);
    rn.acceptRenewal(sealed!);
    expect(msrp.pendingCount(1), "a retry draws no second secret").to.equal(pending);
  });

  it("a replay of the old request after the RN took its secret gives nothing it opens; the renewed secret joins", async () => {
    const { ctx, msrp, rpmA, rns } = await loadRsms();
    const rn = rns[0];
    const now = Math.floor(Date.now() / 1000);
    const oldReq = rn.renewalRequest();
    msrp.renewRn(oldReq, now); // lost
    const onDisk = rn.toRecord();
    rn.acceptRenewal(msrp.renewRn(oldReq, now)); // the retry's answer arrives
    const a1 = rn.state.a;
    // the attacker replays the old request: sealed to PK_RN for the replaced secret's AAD
    const replayed = msrp.renewRn(oldReq, now);
    expect(() => rn.acceptRenewal(replayed), "the RN holds a_1 now: the old AAD does not open").to.throw();
    expect(rn.state.a).to.equal(a1);
    // an RN that restarts from before the retry opens it and gets the same a_1 (nothing drawn)
    const restarted = ResourceNode.fromRecord(rn.params, onDisk);
    restarted.acceptRenewal(replayed);
    expect(restarted.state.a).to.equal(a1);
    await publishFilter(ctx, msrp, 1);
    await initialJoin(ctx, rn, rpmA, msrp);
    expect(rn.state.joined).to.equal(true);
  });
});
