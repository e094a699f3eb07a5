/**
 * Red team s17-redB, finding B6: a revoked RN gets back in by registering again. S_RN holds the
 * MSRP's *name* for an RN; `Msrp.registerRn` checks only that the name is new, never the real
 * identity it opens from the request. An RN in S_RN (flagged by the operator, evicted from a group,
 * or held by a trust flag) registers again under a fresh name with its own RID (over the network:
 * with any enrolment token, which names the registrant's name, not its RID), gets a fresh PID, a
 * fresh secret and a clean record, joins, and is allocated into service groups: the revocation
 * (paper §I: "its joining a Metaverse service resource pool will be revoked") and S_RN (§IV.B.2.c:
 * "never allocated again") are undone, and tracing the new PID names the same device.
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { registerRn } from "../../offchain/rsms/flows";
import { AgentStateError, RsmsRejectedError } from "../../offchain/rsms/errors";

describe("rsms red team s17-redB B6: an RN in S_RN registers again under its real identity", function () {
  it("the MSRP refuses a registration whose RID is that of an RN in S_RN, and nothing changes", async () => {
    const { ctx, msrp, rns } = await loadRsms();
    msrp.flagRn(rns[0].state.pid); // rn0, real identity "serial-0", revoked
    const before = JSON.stringify(msrp.toRecord());
    let err: unknown;
    try {
      await registerRn(ctx, msrp, { name: "fresh-name", poolId: 1, rid: "serial-0" });
    } catch (e) {
      err = e;
    }
    expect(JSON.stringify(msrp.toRecord()) === before, "the MSRP's record is unchanged").to.equal(true);
    expect(err instanceof AgentStateError || err instanceof RsmsRejectedError, String(err)).to.equal(true);
  });
});
