/**
 * Red team s17-redB, finding B12: one tampered answer from the RPM's IPFS node knocks a genuine filter
 * epoch out of that RPM for good. `syncFilters` quarantines an epoch (never fetched again,
 * rsms-join.md change 11) when the store throws ContentCorruptedError, i.e. when the bytes *fetched*
 * do not hash to the CID. That says the fetch was bad, not the epoch: the CID and the root on-chain
 * are the MSRP's and intact, and a second fetch may well return the right bytes. An attacker on the
 * path between the RPM and its IPFS daemon or gateway (the paper's network attacker), or one bad disk
 * read, flips one byte of one answer; every RN listed only in that epoch is then refused
 * NOT_IN_FILTER by that RPM until it restarts (and over the network such an RN cannot renew: B11).
 * Content that cannot be fetched right now is retried at the next sync; corrupt content should be too.
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { poolInfo, serveJoin, syncFilters } from "../../offchain/rsms/flows";
import { ContentCorruptedError } from "../../offchain/storage/errors";

describe("rsms red team s17-redB B12: a tampered filter fetch", function () {
  it("the epoch is fetched again at the next sync, and its RNs join", async () => {
    const { ctx, msrp, rpmA, rns, store, ledger } = await loadRsms();
    let tamper = 1;
    const onPath = {
      ...ctx,
      store: {
        get: async (c: string) => {
          if (tamper-- > 0) throw new ContentCorruptedError(c, "sha2-256 of the bytes does not match the CID");
          return store.get(c);
        },
      } as unknown as typeof store,
    };
    await syncFilters(onPath, rpmA); // one answer tampered with
    await syncFilters(onPath, rpmA); // the path is clean again
    expect(rpmA.loadedEpochs, `loaded; quarantined: ${[...rpmA.quarantinedEpochs.keys()].join(",")}`).to.deep.equal([0]);
    const j = rns[0].buildJoinRequest(await poolInfo(ctx, 1));
    rns[0].acceptJoinReply((await serveJoin(onPath, rpmA, msrp, j.request)).reply, j.pending);
    expect(await ledger.joinCount()).to.equal(1);
  });
});
