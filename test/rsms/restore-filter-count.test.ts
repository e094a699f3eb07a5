/**
 * Red team s17-redB, finding B5 (fixed; what follows describes the code before the fix): `Msrp.restoreFilter` (a filter publication that failed: IPFS or
 * the chain refused it) merges the failed filter's bits into the filter opened meanwhile but not its
 * count. The merged filter holds more secrets than its count says, so `filterDue` publishes it only
 * once the *count* reaches capacity: up to twice the N the filter was sized for, which raises its
 * false-positive rate from about 2^-lambda to about 0.75^lambda (2^-8 instead of 2^-20 at the default
 * lambda = 20), and the count on-chain consumers and logs report is wrong.
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { registerRn } from "../../offchain/rsms/flows";

describe("rsms red team s17-redB B5: a failed publication merged back into the pending filter", function () {
  it("the merged filter counts every secret it holds, and is due once it holds capacity of them", async () => {
    const { ctx, msrp } = await loadRsms();
    await registerRn(ctx, msrp, { name: "late-0", poolId: 1, rid: "late-0" });
    await registerRn(ctx, msrp, { name: "late-1", poolId: 1, rid: "late-1" });
    const failed = msrp.takeFilter(1); // its publication fails
    await registerRn(ctx, msrp, { name: "late-2", poolId: 1, rid: "late-2" });
    msrp.restoreFilter(1, failed.filter, failed.openedAt);
    expect(msrp.pendingCount(1), "secrets waiting in pool 1's pending filter").to.equal(3);
  });
});
