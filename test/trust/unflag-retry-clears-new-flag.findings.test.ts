/**
 * s22-redx F3 (severity M: a retry has a second effect; a flagged node is kept). Attack / fault:
 * `TrustManager.unflag(id, kind, generation)` names no flag instance. The court's path guards with
 * the instance serials (`_unflagContested`, s20-redt F2: a flag re-asserted since the contest opened
 * stays), the detector's withdrawal does not. The detector withdraws flag instance 1 of an RN; the
 * reply is lost, and before it retries, a new detection re-asserts the same kind (instance 2, new
 * evidence: `FlagInstance(id, kind, 2)`). The retry is accepted and clears instance 2, a flag nobody
 * judged or withdrew: the flag sync then lifts the RN out of S_RN and its groups keep it. The same
 * call on a flag that is not set at all is not refused either: it changes nothing yet emits
 * `EntityUnflagged`, which the detector pipeline reads as "judged up to here" (pipeline.ts: a
 * cleared flag's kind is re-flagged only on conduct the clearing did not cover).
 * Fixed behaviour: `unflag` names the instance serial it withdraws (as `flagMarks` reports it) and
 * reverts, naming the entity and kind, when the flag is not set or its current instance is another;
 * nothing changes and no event is emitted.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";

describe("s22-redx F3: a retried detector withdrawal clears a flag re-asserted in between", function () {
  this.timeout(120_000);

  it("the retry of unflag clears instance 2, which nobody withdrew", async () => {
    const f = await loadFixture(deployTrustFixture);
    const x = id("s22-redx-f3");
    await f.trust.connect(f.others[1]).register(x, Kind.Organization);
    const tm = f.trust.connect(f.detector);
    const gen = await f.trust.generationOf(x);
    const BIT = 1 << 2;
    await (await tm.flag(x, 2, id("report-1"), gen)).wait(); // instance 1
    await (await tm.unflag(x, 2, gen)).wait(); // the withdrawal of instance 1 (its reply lost)
    await (await tm.flag(x, 2, id("report-2"), gen)).wait(); // a new detection: instance 2
    expect((await f.trust.flagMarks(x))[2]).to.equal(2n);
    // the detector's retry of its withdrawal of instance 1
    let retry: string;
    try {
      await (await tm.unflag(x, 2, gen)).wait();
      retry = "accepted";
    } catch {
      retry = "refused";
    }
    expect(
      { retry, flagged: (Number((await f.trust.entity(x)).flags) & BIT) !== 0 },
      "the retried withdrawal of instance 1 cleared instance 2",
    ).to.deep.equal({ retry: "refused", flagged: true });
  });

  it("unflag of a kind that is not set is accepted and emits EntityUnflagged", async () => {
    const f = await loadFixture(deployTrustFixture);
    const x = id("s22-redx-f3b");
    await f.trust.connect(f.others[1]).register(x, Kind.Organization);
    const gen = await f.trust.generationOf(x);
    const tx = f.trust.connect(f.detector).unflag(x, 4, gen);
    await expect(tx, "an unflag of nothing should be refused and change nothing").to.be.reverted;
  });
});
