/**
 * s20-redt F3, door 2 (session 22): a ring member flagged in an earlier run opens its flag contest
 * just before the run that flags the rest of the ring; those members' flags follow its opening, so
 * they may vote in it. The pipeline therefore re-asserts a held flag that a run detects again on
 * NEW conduct (the detectors run again without the member's ratings up to the block its flag's
 * report read, and still fire): a new instance (`FlagInstance` serial), which a contest opened
 * before the run cannot clear (the F2 rule). A held flag detected again on the judged conduct only
 * is not re-asserted: a contest of it can still clear it (re-asserting every held flag each run
 * would overtake every contest of a flag the detector keeps detecting).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { id } from "../fixtures/trust";
import { TrustLedger } from "../../offchain/trust/ledger";
import { BAD_MOUTHING, ringWorld } from "../helpers/ring-world";
import { runDetectors } from "../../offchain/trust/pipeline";
import { FileContentStore } from "../../offchain/storage/content-store";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";

const ZERO = "0x" + "00".repeat(32);

describe("s20-redt F3 door 2: the pipeline re-asserts a held flag detected again on new conduct, not on the judged one", function () {
  this.timeout(300_000);

  it("run 2 (same conduct) leaves eve's flag alone; run 3 (eve bad-mouths again in a new epoch) re-asserts it, and her contest opened before run 3 judges the old instance", async () => {
    const { f, rate, signer } = await ringWorld({ ring: "unverified" });
    const detector = new TrustLedger(f.trust.connect(f.detector));
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "s22-f3-reassert-")));
    const eve = id("eve");
    const serial = async () => Number((await f.trust.flagMarks(eve))[BAD_MOUTHING]);

    const run1 = await runDetectors(detector, store, { flag: true });
    expect(run1.detections.filter((d) => d.kind === BAD_MOUTHING && d.flagged).length, "setup: run 1 flags the ring").to.equal(3);
    expect(await serial()).to.equal(1);

    // run 2, an hour later, no new conduct: detected again on the judged ratings only, not re-asserted
    await time.increase(Number(await f.trust.FLAG_RUN_SPACING()));
    const run2 = await runDetectors(detector, store, { flag: true });
    const e2 = run2.detections.find((d) => d.entity === eve && d.kind === BAD_MOUTHING)!;
    expect(e2.flagged && e2.reasserted === undefined, "held, not re-asserted").to.equal(true);
    expect(await serial(), "the instance a contest would judge is unchanged").to.equal(1);

    // a new decay epoch; eve bad-mouths again; she opens her contest just before the next run
    await time.increase(Number((await detector.getModel()).epochLength));
    for (const target of ["ann", "cat", "dan"]) await rate(4, target, 0.05);
    await f.disputes.connect(signer(4)).openDispute(eve, ZERO, 3, 2, ZERO, "", 0, { value: P.deposit });
    const dId = await f.disputes.disputeCount();
    const run3 = await runDetectors(detector, store, { flag: true });
    const e3 = run3.detections.find((d) => d.entity === eve && d.kind === BAD_MOUTHING)!;
    expect(e3.reasserted, "re-asserted on the conduct after run 1's block").to.not.equal(undefined);
    expect(await serial(), "a new instance").to.equal(2);
    expect((await f.disputes.dispute(dId)).contestedSerials[BAD_MOUTHING], "the contest judges instance 1").to.equal(1n);
    // the re-assertion does not make eve's flag look new to a later contest's jury rule
    expect(Number(await f.trust.flagsHeldSince(eve, 1)) & (1 << BAD_MOUTHING), "held since run 1").to.not.equal(0);
  });
});
