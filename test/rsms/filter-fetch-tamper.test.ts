/**
 * Red team s17-redB, finding B12 (fixed; what follows describes the code before the fix): one
 * tampered answer from the RPM's IPFS node knocked a genuine filter epoch out of that RPM for good.
 * `syncFilters` quarantined an epoch (never fetched again, rsms-join.md change 11) when the store
 * threw ContentCorruptedError, i.e. when the bytes *fetched* did not hash to the CID. That says the
 * fetch was bad, not the epoch: the CID and the root on-chain are the MSRP's and intact, and a second
 * fetch may well return the right bytes. An attacker on the path between the RPM and its IPFS daemon
 * or gateway (the paper's network attacker), or one bad disk read, flipped one byte of one answer;
 * every RN listed only in that epoch was then refused NOT_IN_FILTER by that RPM until it restarted.
 *
 * Now a corrupt answer is fetched again (FETCH_ATTEMPTS in one sync, then at later syncs after a
 * doubling backoff), never quarantined; bytes that do hash to the CID but not to the root, or do
 * not parse, are the epoch's own fault and are still quarantined.
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { poolInfo, serveJoin, syncFilters } from "../../offchain/rsms/flows";
import { FETCH_ATTEMPTS, REFETCH_BACKOFF_SEC } from "../../offchain/rsms/rpm";
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

  it("every answer corrupt: not quarantined; fetched again only after a doubling backoff, and loaded once the path is clean", async () => {
    const { ctx, rpmA, store } = await loadRsms();
    let t = Math.floor(Date.now() / 1000);
    let corrupt = true;
    let gets = 0;
    const onPath = {
      ...ctx,
      now: () => t,
      store: {
        get: async (c: string) => {
          gets++;
          if (corrupt) throw new ContentCorruptedError(c, "sha2-256 of the bytes does not match the CID");
          return store.get(c);
        },
      } as unknown as typeof store,
    };
    expect(await syncFilters(onPath, rpmA)).to.equal(0);
    expect(gets, "bounded attempts in one sync").to.equal(FETCH_ATTEMPTS);
    expect(rpmA.quarantinedEpochs.size).to.equal(0);
    expect(rpmA.refetchingEpochs.get(0)).to.deep.include({ failures: 1, at: t + REFETCH_BACKOFF_SEC });
    gets = 0;
    await syncFilters(onPath, rpmA); // within the backoff: not fetched
    expect(gets).to.equal(0);
    t += REFETCH_BACKOFF_SEC;
    await syncFilters(onPath, rpmA); // due: fetched, corrupt again, the wait doubles
    expect(gets).to.equal(FETCH_ATTEMPTS);
    expect(rpmA.refetchingEpochs.get(0)).to.deep.include({ failures: 2, at: t + 2 * REFETCH_BACKOFF_SEC });
    corrupt = false;
    t += 2 * REFETCH_BACKOFF_SEC;
    expect(await syncFilters(onPath, rpmA)).to.equal(1);
    expect(rpmA.loadedEpochs).to.deep.equal([0]);
    expect(rpmA.refetchingEpochs.size).to.equal(0);
  });

  it("bytes that hash to their CID but not to the root on-chain are the epoch's fault: quarantined, not fetched again", async () => {
    const { ctx, rpmA, rpmB, store } = await loadRsms();
    const other = (await ctx.ledger.filterAt(2, 0)).cid; // pool 2's genuine filter, intact under its own CID
    let gets = 0;
    const wrong = {
      ...ctx,
      store: {
        get: async () => {
          gets++;
          return store.get(other);
        },
      } as unknown as typeof store,
    };
    await syncFilters(wrong, rpmA);
    expect([...rpmA.quarantinedEpochs.keys()]).to.deep.equal([0]);
    expect(rpmA.quarantinedEpochs.get(0)).to.match(/do not hash to the published root/);
    expect(gets).to.equal(1);
    await syncFilters(wrong, rpmA);
    expect(gets, "a quarantined epoch is not fetched again").to.equal(1);
    void rpmB;
  });
});
