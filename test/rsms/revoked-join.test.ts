/**
 * Red team s17-redB, finding B2 (fixed; what follows describes the code before the fix): an RN the MSRP put in S_RN before its first join (the operator's
 * `rsms:rn:flag --pid <PID_0>`: a device reported stolen or caught misbehaving before it joined)
 * still completes its initial authentication. The paper: "Any malicious behavior of RNs can be
 * detected and then its joining a Metaverse service resource pool will be revoked" (§I). The
 * re-authentication refuses an RN in S_RN (`verifyReauth`: SUSPICIOUS); `verifyJoin` has no such
 * check, so the revoked RN gets a join record, i.e. a PID the registry calls verified
 * (`isVerified`, `isRevoked` false) for good.
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { poolInfo, serveJoin } from "../../offchain/rsms/flows";
import { RsmsRejectedError } from "../../offchain/rsms/errors";

describe("rsms red team s17-redB B2: an RN in S_RN before it joined", function () {
  it("its initial authentication is refused SUSPICIOUS: nothing recorded, the MSRP unchanged", async () => {
    const { ctx, msrp, rpmA, rns, ledger, registry } = await loadRsms();
    const rn = rns[0];
    msrp.flagRn(rn.state.pid); // revoked before it ever joined
    const before = JSON.stringify(msrp.toRecord());
    const count = await ledger.joinCount();
    const { request } = rn.buildJoinRequest(await poolInfo(ctx, 1));
    let err: unknown;
    try {
      await serveJoin(ctx, rpmA, msrp, request);
    } catch (e) {
      err = e;
    }
    expect(await registry.isVerified(rn.state.pid), "the revoked RN's PID is verified on-chain").to.equal(false);
    expect(await ledger.joinCount()).to.equal(count);
    expect(err).to.be.instanceOf(RsmsRejectedError);
    expect((err as RsmsRejectedError).reason).to.equal("SUSPICIOUS");
    expect(JSON.stringify(msrp.toRecord())).to.equal(before);
  });
});
