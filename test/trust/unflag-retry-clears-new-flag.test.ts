/**
 * s22-redx F3 (severity M: a retry had a second effect; a flagged node was kept), fixed by s22-fx3.
 * Attack / fault: `TrustManager.unflag(id, kind, generation)` named no flag instance. The court's
 * path guarded with the instance serials (`_unflagContested`, s20-redt F2: a flag re-asserted since
 * the contest opened stays), the detector's withdrawal did not. The detector withdraws flag
 * instance 1 of an RN; the reply is lost, and before it retries, a new detection re-asserts the same
 * kind (instance 2, new evidence: `FlagInstance(id, kind, 2)`). The retry was accepted and cleared
 * instance 2, a flag nobody judged or withdrew: the flag sync then lifted the RN out of S_RN and its
 * groups kept it. The same call on a flag that is not set at all was not refused either: it changed
 * nothing yet emitted `EntityUnflagged`, which the detector pipeline reads as "judged up to here"
 * (pipeline.ts: a cleared flag's kind is re-flagged only on conduct the clearing did not cover).
 * Fixed behaviour asserted: `unflag(id, kind, generation, serial)` names the instance it withdraws
 * (as `flagMarks` reports it) and reverts, naming the entity and kind, when the flag is not set
 * (`TrustManager__NotFlagged`) or its current instance is another (`TrustManager__StaleFlagInstance`,
 * with both serials); nothing changes and no event is emitted.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";

describe("s22-redx F3: a retried detector withdrawal does not clear a flag re-asserted in between", function () {
  this.timeout(120_000);

  it("the retry of unflag naming instance 1 is refused (StaleFlagInstance), instance 2 stays, no event", async () => {
    const f = await loadFixture(deployTrustFixture);
    const x = id("s22-redx-f3");
    await f.trust.connect(f.others[1]).register(x, Kind.Organization);
    const tm = f.trust.connect(f.detector);
    const gen = await f.trust.generationOf(x);
    const BIT = 1 << 2;
    await (await tm.flag(x, 2, id("report-1"), gen)).wait(); // instance 1
    const judged = (await f.trust.flagMarks(x))[2];
    expect(judged, "setup: instance 1").to.equal(1n);
    await (await tm.unflag(x, 2, gen, judged)).wait(); // the withdrawal of instance 1 (its reply lost)
    await (await tm.flag(x, 2, id("report-2"), gen)).wait(); // a new detection: instance 2
    expect((await f.trust.flagMarks(x))[2], "setup: the re-assertion landed").to.equal(2n);
    // the detector's retry of its withdrawal of instance 1
    const before = await ethers.provider.getBlockNumber();
    await expect(tm.unflag(x, 2, gen, judged), "the retried withdrawal of instance 1 was not refused")
      .to.be.revertedWithCustomError(f.trust, "TrustManager__StaleFlagInstance")
      .withArgs(x, 2, 1, 2);
    expect(Number((await f.trust.entity(x)).flags) & BIT, "the retried withdrawal of instance 1 cleared instance 2").to.equal(BIT);
    expect(
      (await f.trust.queryFilter(f.trust.filters.EntityUnflagged(x), before + 1)).length,
      "a refused unflag logged a clearing",
    ).to.equal(0);
  });

  it("unflag of a kind that is not set is refused (NotFlagged, naming entity and kind): nothing changes, no event", async () => {
    const f = await loadFixture(deployTrustFixture);
    const x = id("s22-redx-f3b");
    await f.trust.connect(f.others[1]).register(x, Kind.Organization);
    const gen = await f.trust.generationOf(x);
    const before = await ethers.provider.getBlockNumber();
    await expect(f.trust.connect(f.detector).unflag(x, 4, gen, 0), "an unflag of nothing should be refused and change nothing")
      .to.be.revertedWithCustomError(f.trust, "TrustManager__NotFlagged")
      .withArgs(x, 4);
    expect((await f.trust.entity(x)).flags).to.equal(0n);
    expect((await f.trust.queryFilter(f.trust.filters.EntityUnflagged(x), before + 1)).length).to.equal(0);
  });
});
