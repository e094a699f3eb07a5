/**
 * Severity M (s20-redt F4, the off-chain face of F2; fixed by s20-fixflag: `clearedAgain` drops
 * only the ratings up to the block the cleared flag's report read, `judgedUpTo`). Attack: a flagged entity launders what it
 * does while its flag contest is pending. The detector's rule for a flag the court cleared
 * (h16-red2 R1, `pipeline.clearedAgain`) treats the court's `unflag` at block B as a verdict on the
 * entity's conduct up to B, and drops every rating of the judged side up to B before it asks
 * whether the detection still fires. But the jurors judged the flag's report, computed before the
 * contest opened; B is the block of `resolve`, which comes after the commit, reveal (and appeal)
 * windows, and which anyone (the contestant too) sends when it likes. Eve, flagged for
 * bad-mouthing, contests; while the jurors sit she bad-mouths three new providers; the contest is
 * upheld; the detector's next run drops those three ratings too ("judged by the verdict") and eve
 * stays unflagged, though no juror ever saw them. The same conduct after B is flagged (the second
 * case, which passes: the detectors do see it). What breaks: a verdict covers conduct it never
 * judged; a pending contest is a window of free misconduct of the contested kind.
 * Expected when fixed: the verdict covers the conduct up to the block of the report the contested
 * flag names (or the contest's snapshot), so the ratings made after the contest opened are still
 * evidence, and eve is flagged again.
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

describe("s20-redt F4 (fixed): a pending flag contest does not launder the contestant's conduct while it runs", function () {
  this.timeout(300_000);

  /** eve bad-mouths ann, cat, dan and is flagged; ann..dan rate fay, gus, hal at 0.9 (eve not yet) */
  async function flagged() {
    const f = await deployDisputeFixture();
    const names = ["ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal"];
    const signer = (k: number) => f.others[1 + k];
    const rate = await eveBadMouths(f, names);
    for (const target of ["fay", "gus", "hal"]) for (const k of [0, 1, 2, 3]) await rate(k, target, 0.9);
    const detector = new TrustLedger(f.trust.connect(f.detector));
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "s20-redt-f4-")));
    await runDetectors(detector, store, { flag: true });
    expect((await f.trust.entity(id("eve"))).flags & (1n << 3n), "setup: eve flagged").to.equal(1n << 3n);
    return { f, rate, detector, store, signer };
  }

  /** eve contests, the jurors commit "upheld"; `during` runs while they sit; the contest is upheld */
  async function contest(x: Awaited<ReturnType<typeof flagged>>, during: () => Promise<void>) {
    const { f, signer } = x;
    await f.disputes.connect(signer(4)).openDispute(id("eve"), ZERO, 3, 2, ZERO, "", 0, { value: P.deposit });
    const dId = await f.disputes.disputeCount();
    const vs = f.voters.slice(0, 3);
    for (const v of vs) await f.disputes.connect(f.signerOf.get(v)!).commit(dId, v, commitmentOf(dId, v, 0, salt(`f4-${v}`)));
    await during();
    await time.increase(Number(P.commitPeriod) + 1);
    for (const v of vs) await f.disputes.connect(f.signerOf.get(v)!).reveal(dId, v, 0, salt(`f4-${v}`));
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await f.disputes.resolve(dId);
    expect((await f.trust.entity(id("eve"))).flags & (1n << 3n), "setup: the court cleared the flag").to.equal(0n);
  }

  const badMouthNew = (x: Awaited<ReturnType<typeof flagged>>) => async () => {
    for (const target of ["fay", "gus", "hal"]) await x.rate(4, target, 0.05);
  };

  it("bad-mouthing done while the contest is pending is flagged after the verdict", async () => {
    const x = await flagged();
    await contest(x, badMouthNew(x)); // the lies come after the contest opened, before the verdict
    const run = await runDetectors(x.detector, x.store, { flag: true });
    const eve = run.detections.find((d) => d.entity === id("eve") && d.kind === BAD_MOUTHING);
    expect(
      (await x.f.trust.entity(id("eve"))).flags & (1n << 3n),
      `eve's lies made while her contest was pending were dropped as judged (${eve?.cleared?.reason ?? "no detection"})`,
    ).to.equal(1n << 3n);
  });

  it("lies told after the flag's report and before the contest opened are not judged either", async () => {
    const x = await flagged();
    await badMouthNew(x)(); // after the report the flag names, before anyone contests it
    await contest(x, async () => {});
    const run = await runDetectors(x.detector, x.store, { flag: true });
    const eve = run.detections.find((d) => d.entity === id("eve") && d.kind === BAD_MOUTHING);
    expect((await x.f.trust.entity(id("eve"))).flags & (1n << 3n), eve?.cleared?.reason ?? "no detection").to.equal(1n << 3n);
  });

  it("the verdict still covers what it judged: no new conduct, not flagged again; the clearing names the report's block", async () => {
    const x = await flagged();
    const flag = (await x.f.trust.queryFilter(x.f.trust.filters.EntityFlagged(id("eve"), BAD_MOUTHING)))[0];
    await contest(x, async () => {});
    const run = await runDetectors(x.detector, x.store, { flag: true });
    const eve = run.detections.find((d) => d.entity === id("eve") && d.kind === BAD_MOUTHING);
    expect(eve, "the detectors still find the judged conduct").to.not.equal(undefined);
    expect(eve!.cleared?.again, eve!.cleared?.reason).to.equal(false);
    expect(eve!.cleared!.judgedBlock, "the report's block, before the flag's").to.be.lessThan(flag.blockNumber);
    expect(eve!.cleared!.reason).to.match(/the flag's report/);
    expect((await x.f.trust.entity(id("eve"))).flags & (1n << 3n), "the verdict stands").to.equal(0n);
  });

  it("control: the same lies told after the verdict are flagged (the detectors see them)", async () => {
    const x = await flagged();
    await contest(x, async () => {});
    await time.increase(1);
    await badMouthNew(x)();
    await runDetectors(x.detector, x.store, { flag: true });
    expect((await x.f.trust.entity(id("eve"))).flags & (1n << 3n), "eve flagged for lies after the verdict").to.equal(1n << 3n);
  });
});
