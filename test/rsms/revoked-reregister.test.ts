/**
 * Red team s17-redB, finding B6 (fixed; what follows describes the code before the fix): a revoked
 * RN gets back in by registering again. S_RN holds the MSRP's *name* for an RN; `Msrp.registerRn`
 * checked only that the name is new, never the real identity it opens from the request. An RN in
 * S_RN (flagged by the operator, evicted from a group, or held by a trust flag) registered again
 * under a fresh name with its own RID (over the network: with any enrolment token, which named the
 * registrant's name, not its RID), got a fresh PID, a fresh secret and a clean record, joined, and
 * was allocated into service groups: the revocation (paper §I: "its joining a Metaverse service
 * resource pool will be revoked") and S_RN (§IV.B.2.c: "never allocated again") were undone, and
 * tracing the new PID named the same device.
 *
 * The fix binds revocation to the real identity: an RN is revoked when any RN registered under its
 * RID is in S_RN (a registration under a revoked RID is refused SUSPICIOUS, and a second name
 * registered before the revocation is revoked with it). Over the network an RN's enrolment token
 * names the RID its registration must open to (test/services/rsms-revoked-reregister.test.ts).
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { initialJoin, publishFilter, reauthenticate, registerRn } from "../../offchain/rsms/flows";
import { RsmsRejectedError } from "../../offchain/rsms/errors";
import { Msrp } from "../../offchain/rsms/msrp";

async function refusal(p: Promise<unknown>): Promise<RsmsRejectedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "refused").to.be.instanceOf(RsmsRejectedError);
  return err as RsmsRejectedError;
}

describe("rsms red team s17-redB B6: an RN in S_RN registers again under its real identity", function () {
  it("the MSRP refuses a registration whose RID is that of an RN in S_RN (the operator's flag), and nothing changes", async () => {
    const { ctx, msrp, rns } = await loadRsms();
    msrp.flagRn(rns[0].state.pid); // rn0, real identity "serial-0", revoked
    const before = JSON.stringify(msrp.toRecord());
    const err = await refusal(registerRn(ctx, msrp, { name: "fresh-name", poolId: 1, rid: "serial-0" }));
    expect(err.reason).to.equal("SUSPICIOUS");
    expect(JSON.stringify(msrp.toRecord()) === before, "the MSRP's record is unchanged").to.equal(true);
    // and after a restart of the MSRP (S_RN read back from its record)
    const again = Msrp.fromRecord(msrp.toRecord());
    expect((await refusal(registerRn(ctx, again, { name: "fresh-name", poolId: 2, rid: "serial-0" }))).reason).to.equal("SUSPICIOUS");
    // another identity registers as before
    await registerRn(ctx, msrp, { name: "fresh-name", poolId: 1, rid: "serial-new" });
  });

  it("an RN held in S_RN by a trust flag: its RID is refused while flagged, and registers once the flag is lifted", async () => {
    const { ctx, msrp, rns } = await loadRsms();
    expect(msrp.applyTrustFlags(["rn1"], []).added).to.deep.equal(["rn1"]);
    const before = JSON.stringify(msrp.toRecord());
    expect((await refusal(registerRn(ctx, msrp, { name: "rn1-again", poolId: 1, rid: "serial-1" }))).reason).to.equal("SUSPICIOUS");
    expect(JSON.stringify(msrp.toRecord())).to.equal(before);
    msrp.applyTrustFlags([], ["rn1"]); // the court upheld the contest
    await registerRn(ctx, msrp, { name: "rn1-again", poolId: 1, rid: "serial-1" });
    void rns;
  });

  it("a second name registered before the revocation is revoked with it: it does not join or rotate", async () => {
    const { ctx, msrp, rpmA, rpmB, rns } = await loadRsms();
    // two spares of device serial-2 (besides rn2), registered before anything happened
    const spareJoined = (await registerRn(ctx, msrp, { name: "spare-joined", poolId: 1, rid: "serial-2" })).rn;
    const spareIdle = (await registerRn(ctx, msrp, { name: "spare-idle", poolId: 1, rid: "serial-2" })).rn;
    await publishFilter(ctx, msrp, 1);
    await initialJoin(ctx, spareJoined, rpmA, msrp);
    msrp.flagRn(rns[2].state.pid); // rn2 revoked: the device serial-2 is
    expect(msrp.suspiciousRns()).to.deep.equal(["rn2"]);
    expect(msrp.revokedRns()).to.deep.equal(["rn2", "spare-idle", "spare-joined"]);
    expect(msrp.isSuspiciousPid(spareJoined.state.pid)).to.equal(true);
    const before = JSON.stringify(msrp.toRecord());
    expect((await refusal(initialJoin(ctx, spareIdle, rpmA, msrp))).reason, "the idle spare's first join").to.equal("SUSPICIOUS");
    expect((await refusal(reauthenticate(ctx, spareJoined, rpmB, msrp))).reason, "the joined spare's rotation").to.equal("SUSPICIOUS");
    expect(JSON.stringify(msrp.toRecord())).to.equal(before);
    // the operator clears rn2: the whole identity is eligible again
    msrp.clearSuspicious("rn2");
    expect(msrp.revokedRns()).to.deep.equal([]);
    await reauthenticate(ctx, spareJoined, rpmB, msrp);
  });
  it("a revoked RN that has not joined gets no fresh secret: its renewal is refused SUSPICIOUS and nothing is drawn (s18-review2)", async () => {
    const { ctx, msrp, rns } = await loadRsms();
    const spare = (await registerRn(ctx, msrp, { name: "spare", poolId: 1, rid: "serial-2" })).rn;
    await publishFilter(ctx, msrp, 1); // its secret is published: a renewal would otherwise draw one
    msrp.flagRn(rns[2].state.pid); // the device serial-2 is revoked, the spare with it
    expect(msrp.revokedThroughOther("spare")).to.equal(true);
    expect(msrp.revokedThroughOther("rn2"), "rn2 is revoked through its own place in S_RN").to.equal(false);
    const before = JSON.stringify(msrp.toRecord());
    let err: unknown;
    try {
      msrp.renewRn(spare.renewalRequest(), Math.floor(Date.now() / 1000));
    } catch (e) {
      err = e;
    }
    expect((err as RsmsRejectedError)?.reason, String(err)).to.equal("SUSPICIOUS");
    expect(JSON.stringify(msrp.toRecord()), "nothing drawn, nothing inserted").to.equal(before);
    msrp.clearSuspicious("rn2");
    spare.acceptRenewal(msrp.renewRn(spare.renewalRequest(), Math.floor(Date.now() / 1000)));
  });
});
