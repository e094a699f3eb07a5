/**
 * Red team s17-redB, finding B1 (fixed; what follows describes the code before the fix): a re-authentication recorded on-chain that the MSRP never
 * committed (the in-process `rsms:reauth` sent recordJoin, then its receipt wait failed or the
 * process died before `ks.commit`) is answered as a retry by `serveReauth` without the MSRP
 * committing it. `serveJoin`'s retry path commits such a join (rsms-join.md change 17);
 * `serveReauth`'s does not. The RN takes the reply and moves to PID_{k+1}; the MSRP still expects
 * PID_{k+1} as the next pseudonym and holds a_k, so:
 * - it cannot trace PID_{k+1} (traceability, §III.D.2), nor attest or allocate the RN under it;
 * - the RN's next re-authentication (PID_{k+2}) is MSRP_REJECTED at every pool, for good: the RN is
 *   stranded by a lost reply.
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { poolInfo, reauthenticate, serveJoin, serveReauth } from "../../offchain/rsms/flows";
import { Msrp, MsrpRecord } from "../../offchain/rsms/msrp";
import { ResourceNode } from "../../offchain/rsms/rn";
import { toHex } from "../../offchain/crypto/bytes";

describe("rsms red team s17-redB B1: a re-authentication on-chain that the MSRP did not commit", function () {
  it("the RN's retry at the same pool brings the MSRP to the chain's state: PID_{k+1} is traced and the RN rotates again", async () => {
    const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
    const rn = rns[0];
    const j = rn.buildJoinRequest(await poolInfo(ctx, 1));
    rn.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, j.request)).reply, j.pending);
    // what the keystore holds when `rsms:reauth` starts: both records before the step
    const msrpOnDisk = JSON.stringify(msrp.toRecord());
    const rnOnDisk = rn.toRecord();
    // the step runs up to its transaction; its receipt never comes back (or the process dies) and
    // nothing is committed to the keystore
    const first = rn.buildReauthRequest(await poolInfo(ctx, 2));
    await serveReauth(ctx, rpmB, msrp, first.request);
    expect((await ledger.recordOf(first.pending.pid)).poolId).to.equal(2);

    // the operator runs `rsms:reauth --to-pool 2` again: fresh agents from the keystore
    const m2 = Msrp.fromRecord(JSON.parse(msrpOnDisk) as MsrpRecord);
    const rn2 = ResourceNode.fromRecord(m2.params, rnOnDisk);
    const retry = await reauthenticate(ctx, rn2, rpmB, m2);
    expect(retry.tx, "answered as a retry: nothing written").to.equal(undefined);
    expect(toHex(rn2.state.pid)).to.equal(toHex(first.pending.pid));

    // the MSRP must know the pseudonym the chain and the RN now use
    expect(() => m2.trace(rn2.state.pid), "the MSRP traces PID_1").to.not.throw();
    expect(m2.rnPids(rn.state.name).map(toHex)).to.include(toHex(rn2.state.pid));
    // and the RN is not stranded: it rotates again
    await reauthenticate(ctx, rn2, rpmA, m2);
    expect(rn2.state.k).to.equal(2);
  });

  it("the chain's record stands for an RN flagged meanwhile: the MSRP commits it (the flag follows the RN) and a replay commits nothing twice", async () => {
    const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
    const rn = rns[0];
    const j = rn.buildJoinRequest(await poolInfo(ctx, 1));
    rn.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, j.request)).reply, j.pending);
    const msrpOnDisk = JSON.stringify(msrp.toRecord());
    const first = rn.buildReauthRequest(await poolInfo(ctx, 2));
    await serveReauth(ctx, rpmB, msrp, first.request); // recorded; the commit is lost
    const m2 = Msrp.fromRecord(JSON.parse(msrpOnDisk) as MsrpRecord);
    m2.flagRn(rn.state.pid); // S_RN, by name, after the transaction left
    const retried = await serveReauth(ctx, rpmB, m2, first.request);
    expect(retried.retried).to.equal(true);
    expect(m2.trace(first.pending.pid).k, "committed although the RN is in S_RN now").to.equal(1);
    expect(m2.isSuspiciousPid(first.pending.pid), "the flag follows the RN to PID_1").to.equal(true);
    // a replay of the same request: answered, nothing committed twice (the MSRP expects PID_2 now)
    const pids = m2.rnPids(rn.state.name).length;
    const again = await serveReauth(ctx, rpmB, m2, first.request);
    expect(again.retried).to.equal(true);
    expect(again.verified, "nothing to commit").to.equal(undefined);
    expect(m2.rnPids(rn.state.name).length).to.equal(pids);
    expect((await ledger.recordOf(first.pending.pid)).poolId).to.equal(2);
  });
});
