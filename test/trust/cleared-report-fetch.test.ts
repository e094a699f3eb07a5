/**
 * s26-fxl L2 (and L1's `due`): the detection pipeline fetches the report a cleared flag named
 * (`judgedUpTo`, offchain/trust/pipeline.ts) to learn which block the verdict judged. For a
 * hand-set flag that digest may name a block nobody serves, and the fetch went straight to the
 * store: through kubo (the s25 red team's model, test/helpers/fake-kubo.ts) it searched the network
 * until the store's timeout on every run, outside the detector's budget and backoff for unfetchable
 * evidence. Now it goes through the ledger's ForeignFetcher with the run's budget: one search, then
 * the backoff; and the detector service's input key (`lastInputChange`, its `due:` part) moves
 * when the backoff ends, so the report is asked for again without any other change on the chain.
 *   nice -n 19 npx hardhat test test/trust/cleared-report-fetch.test.ts
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { deployTrustFixture, eveBadMouths, id } from "../fixtures/trust";
import { FETCH_TIMEOUT_MS, MISS_RETRY_MS, TrustLedger } from "../../offchain/trust/ledger";
import { runDetectors } from "../../offchain/trust/pipeline";
import { ForeignFetcher } from "../../offchain/storage/content-store";
import { cidOfEvidenceDigest } from "../../offchain/trust/evidence";
import { fakeKubo } from "../helpers/fake-kubo";

const BAD_MOUTHING = 3;

/** eve bad-mouths ann, cat and dan; the detector flags her by hand with a digest nobody serves, then withdraws the flag. */
async function world() {
  const f = await deployTrustFixture();
  const names = ["ann", "ben", "cat", "dan", "eve"];
  await eveBadMouths(f, names);
  const tm = f.trust.connect(f.detector);
  const digest = ethers.keccak256(ethers.toUtf8Bytes("a report nobody serves"));
  const generation = await tm.generationOf(id("eve"));
  await (await tm.flag(id("eve"), BAD_MOUTHING, digest, generation)).wait();
  const serial = (await tm.flagMarks(id("eve")))[BAD_MOUTHING];
  await (await tm.unflag(id("eve"), BAD_MOUTHING, generation, serial)).wait();
  const ledger = new TrustLedger(tm);
  let now = 5_000_000;
  Object.defineProperty(ledger, "fetcher", { value: new ForeignFetcher({ timeoutMs: FETCH_TIMEOUT_MS, now: () => now }) });
  const kubo = fakeKubo();
  return { ledger, kubo, report: cidOfEvidenceDigest(digest), tick: (ms: number) => (now += ms) };
}

describe("s26-fxl L2: a cleared flag's report nobody serves is fetched with the detector's bound and backoff", function () {
  this.timeout(300_000);

  it("one search per backoff step, within the bound; the verdict's block falls back to the block before the flag meanwhile; the input key moves when the backoff ends", async () => {
    const { ledger, kubo, report, tick } = await world();
    const store = kubo.stores[0];
    const searches = () => kubo.gets.filter((g) => g.cid === report);
    const eveCleared = async () => {
      const r = await runDetectors(ledger, store, { flag: false });
      const d = r.detections.find((x) => x.entity === id("eve") && x.kind === BAD_MOUTHING);
      expect(d?.cleared, "setup: eve detected, her flag cleared").to.not.equal(undefined);
      return d!.cleared!;
    };
    const first = await eveCleared();
    expect(first.reason).to.match(/the block before the flag \(its report is not in the store\)/);
    expect(searches()).to.have.length(1);
    expect(searches()[0].timeout).to.be.at.most(FETCH_TIMEOUT_MS);
    const key = await ledger.lastInputChange();
    const second = await eveCleared();
    expect(searches(), "the next run waits out the backoff: no second search").to.have.length(1);
    expect(second.judgedBlock).to.equal(first.judgedBlock);
    expect(await ledger.lastInputChange(), "nothing moved").to.equal(key);
    tick(MISS_RETRY_MS);
    expect(await ledger.lastInputChange(), "the backoff ended: the detector service's key moves").to.not.equal(key);
    await eveCleared();
    expect(searches(), "asked again once the backoff passed").to.have.length(2);
  });
});
