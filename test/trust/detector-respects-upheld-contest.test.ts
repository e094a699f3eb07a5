/**
 * Fixed (was red team h16-red2's finding R1: runDetectors reads EntityUnflagged and flags a cleared
 * kind again only if it is detected without the judged ratings: since session 20 those up to the
 * block the cleared flag's report read, not the clearing's block: s20-redt F4,
 * contest-launders-conduct.test.ts).
 * The finding: the court's upheld flag contest is undone by the detector's next
 * run. `runDetectors` (offchain/trust/pipeline.ts) flags every detection whose flag bit is clear
 * now; it reads nothing of the court. After a flag contest is upheld (`DisputeResolution.resolve`
 * clears the contested flag with `TrustManager.unflag`, docs/specs/disputes.md "Flag contests"),
 * the detector service (`trust:serve detector`, which runs whenever any rating anywhere is added)
 * flags the same entity again, for the same statistic over the same ratings, and the jurors'
 * verdict lasts until the next tick. The contestant pays a deposit for a verdict the detector
 * overrides automatically; a new contest of the new flag costs another deposit and lasts as long.
 *
 * Secure behaviour asserted: after an upheld contest, a run whose only new rating has nothing to do
 * with the contested entity does not flag it again (the court judged those ratings).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture, salt } from "../fixtures/disputes";
import { eveBadMouths, id } from "../fixtures/trust";
import { TrustLedger } from "../../offchain/trust/ledger";
import { runDetectors } from "../../offchain/trust/pipeline";
import { FileContentStore } from "../../offchain/storage/content-store";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";

const ZERO = "0x" + "00".repeat(32);
const BAD_MOUTHING = 3;

describe("R1 (h16-red2, fixed): the detector does not re-flag what the court cleared, only new conduct", function () {
  this.timeout(240_000);

  /** eve bad-mouths, is flagged, contests, the jurors uphold: the court clears her flag */
  async function cleared() {
    const f = await deployDisputeFixture();
    const names = ["ann", "ben", "cat", "dan", "eve"];
    // the detector-service world: four raters agree at 0.9, eve says 0.05 of everyone
    const signer = (k: number) => f.others[1 + k];
    const rate = await eveBadMouths(f, names);
    const detector = new TrustLedger(f.trust.connect(f.detector));
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "h16-red2-r1-")));
    const first = await runDetectors(detector, store, { flag: true });
    expect(
      first.detections.some((d) => d.entity === id("eve") && d.kind === BAD_MOUTHING),
      "setup: eve flagged",
    ).to.equal(true);
    expect((await f.trust.entity(id("eve"))).flags & (1n << 3n)).to.equal(1n << 3n);

    // eve contests her flag (nature 3) and the jurors uphold it: the court clears the flag
    await f.disputes.connect(signer(4)).openDispute(id("eve"), ZERO, 3, 2, ZERO, "", 0, { value: P.deposit });
    const dId = await f.disputes.disputeCount();
    const vs = f.voters.slice(0, 3);
    for (const v of vs) await f.disputes.connect(f.signerOf.get(v)!).commit(dId, v, commitmentOf(dId, v, 0, salt(`r1-${v}`)));
    await time.increase(Number(P.commitPeriod) + 1);
    for (const v of vs) await f.disputes.connect(f.signerOf.get(v)!).reveal(dId, v, 0, salt(`r1-${v}`));
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await f.disputes.resolve(dId);
    expect((await f.disputes.dispute(dId)).outcome, "setup: contest upheld").to.equal(0n);
    expect((await f.trust.entity(id("eve"))).flags & (1n << 3n), "setup: the court cleared the flag").to.equal(0n);
    return { f, rate, detector, store };
  }

  it("after an upheld flag contest, a run with one unrelated new rating leaves the contestant unflagged", async () => {
    const { f, rate, detector, store } = await cleared();

    // one new rating that does not involve eve (what wakes `trust:serve detector` up)
    await rate(0, "ben", 0.9);
    const second = await runDetectors(detector, store, { flag: true });
    expect(
      (await f.trust.entity(id("eve"))).flags & (1n << 3n),
      "the detector flagged eve again for the ratings the court judged",
    ).to.equal(0n);
    const eve = second.detections.find((d) => d.entity === id("eve") && d.kind === BAD_MOUTHING);
    expect(eve?.cleared?.again, "the run reports eve's detection as cleared by the court, not flagged").to.equal(false);
    expect(eve?.flagged).to.equal(false);
  });

  it("an entity the court cleared that bad-mouths again after the verdict is flagged again, on the new ratings", async () => {
    const { f, rate, detector, store } = await cleared();
    const epoch = Number((await f.trust.model()).epochLength);
    await time.increase(epoch + 1);
    for (const target of ["ann", "cat", "dan"]) await rate(4, target, 0.05);
    const third = await runDetectors(detector, store, { flag: true });
    const eve = third.detections.find((d) => d.entity === id("eve") && d.kind === BAD_MOUTHING);
    expect(eve?.cleared?.again, "detected again on her conduct after the clearing").to.equal(true);
    expect((await f.trust.entity(id("eve"))).flags & (1n << 3n), "eve flagged again for her new lies").to.equal(1n << 3n);
  });
});
