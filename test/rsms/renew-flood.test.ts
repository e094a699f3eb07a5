/**
 * Red team s17-redB, finding B4 (fixed; what follows describes the code before the fix): filter poisoning by renewal. `Msrp.renewRn` accepts any signed
 * request of an unjoined RN, whether or not its secret expired, and each one inserts a fresh a_0
 * into the home pool's pending filter. One registered RN that renews in a loop fills filter after
 * filter with secrets nobody will use: each full filter forces a publication (an IPFS put and a
 * publishFilter transaction paid by the MSRP), every RPM of the pool fetches and keeps each epoch for
 * ttlSec and checks every join against all of them, and the chance that a random a' passes some
 * live filter grows with their number (E live epochs: about E * 2^-lambda), so the Bloom check
 * (paper Game 4, rsms-join.md change 12) filters less and less. rsms-join.md change 13 meant
 * renewal for "an RN that has not joined and whose secret expired".
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { RsmsRejectedError } from "../../offchain/rsms/errors";

describe("rsms red team s17-redB B4: renewal floods the pool's filter", function () {
  it("a second renewal while the first renewed secret still waits for publication is refused and inserts nothing", async () => {
    const { msrp, rns } = await loadRsms();
    const rn = rns[0]; // registered, its filter published, not joined, its secret fresh
    const now = Math.floor(Date.now() / 1000);
    rn.acceptRenewal(msrp.renewRn(rn.renewalRequest(), now));
    expect(msrp.pendingCount(1)).to.equal(1);
    const before = JSON.stringify(msrp.toRecord());
    let refused: unknown;
    for (let i = 0; i < 40; i++) {
      try {
        rn.acceptRenewal(msrp.renewRn(rn.renewalRequest(), now));
      } catch (e) {
        refused = e;
        break;
      }
    }
    expect(msrp.pendingCount(1), "secrets one RN put into pool 1's pending filter").to.equal(1);
    expect(refused).to.be.instanceOf(RsmsRejectedError);
    expect(JSON.stringify(msrp.toRecord())).to.equal(before);
  });
});
