/**
 * s20-redt F3, door 1 (session 22): a ring detected in one detector run must not vote in its
 * members' flag contests. In a flag contest `commit` (and the view `eligibleWeight`) refuses only
 * the flags a juror has held since a flag run at or before the contest's opening, so that the
 * detector, the other side, cannot pick the jury by flagging jurors after it opens. The pipeline
 * sends a run's flags as one flag run (`beginFlagRun`, `flagBatch`, `endFlagRun`) and no flag
 * contest opens while a run is in flight (`FlagRunInFlight`), so the ring cannot straddle the
 * opening, however the run's flags are split into transactions.
 *
 * The race is simulated (labelled): the detector's ledger is wrapped so that it sends each batch
 * one entry per transaction (the split a large run makes), and right after each flagging
 * transaction is mined the first ring member flagged tries to open its contest; on a real chain
 * the member watches the mempool or the logs and does the same.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { salt } from "../fixtures/disputes";
import { id } from "../fixtures/trust";
import { TrustLedger } from "../../offchain/trust/ledger";
import { BAD_MOUTHING, ringWorld } from "../helpers/ring-world";
import { runDetectors } from "../../offchain/trust/pipeline";
import { FileContentStore } from "../../offchain/storage/content-store";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import type { TxInfo } from "../../offchain/trust/ledger";

const ZERO = "0x" + "00".repeat(32);

describe("s20-redt F3 door 1: a ring flagged in one detector run cannot vote in its members' flag contests", function () {
  this.timeout(300_000);

  it("a run flags a ring of three one transaction at a time; no contest opens while the run is in flight; after it, the other two cannot commit in the first one's", async () => {
    // everyone verified and old enough to vote; the ring's verification suspended while the detectors run,
    // and given back after the contest opened: commit needs it now, reveal the standing (test/helpers/ring-world.ts)
    const { f, names, ring, signer } = await ringWorld({ ring: "suspended" });

    // Simulated adversary: after each flagging transaction, the first ring member flagged tries to
    // open its flag contest.
    const refused: string[] = [];
    let contest: { member: string; id: bigint } | undefined;
    const open = async () => {
      if (contest) return;
      for (const [k, n] of names.entries()) {
        if (!ring.includes(n) || (Number((await f.trust.entity(id(n))).flags) & (1 << BAD_MOUTHING)) === 0) continue;
        try {
          await f.disputes.connect(signer(k)).openDispute(id(n), ZERO, 3, 2, ZERO, "", 0, { value: P.deposit });
          contest = { member: n, id: await f.disputes.disputeCount() };
        } catch (x) {
          const data = (x as { data?: string }).data;
          refused.push(typeof data === "string" ? (f.disputes.interface.parseError(data)?.name ?? String(x)) : String(x));
        }
        return;
      }
    };
    class Racing extends TrustLedger {
      override async flagBatch(...a: Parameters<TrustLedger["flagBatch"]>): Promise<TxInfo> {
        // the run split one entry per transaction, an opening tried between each two
        let r: TxInfo | undefined;
        for (const e of a[0]) {
          r = await super.flagBatch([e], a[1]);
          await open();
        }
        return r!;
      }
      override async endFlagRun(): Promise<TxInfo> {
        const r = await super.endFlagRun();
        await open();
        return r;
      }
    }
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "s22-f3-ring-")));
    // a run within FLAG_RUN_SPACING of the previous one's start flags nothing and says when the
    // next may begin (the previous run here: begun and ended by hand)
    await f.trust.connect(f.detector).beginFlagRun(ZERO);
    await f.trust.connect(f.detector).endFlagRun();
    const early = await runDetectors(new TrustLedger(f.trust.connect(f.detector)), store, { flag: true });
    const ringEarly = early.detections.filter((d) => d.kind === BAD_MOUTHING);
    expect(ringEarly.length, "setup: the ring is detected").to.equal(ring.length);
    expect(ringEarly.every((d) => !d.flagged && /not flagged yet: the next flag run may begin at/.test(d.deferred ?? ""))).to.equal(true);
    const until = Number((await f.trust.queryFilter(f.trust.filters.FlagRunBegun()))[0].args.until);
    const [max, spacing] = [Number(await f.trust.FLAG_RUN_MAX()), Number(await f.trust.FLAG_RUN_SPACING())];
    expect(early.deferredUntil, "the previous run's start + FLAG_RUN_SPACING").to.equal(until - max + spacing);
    for (const n of ring) expect(Number((await f.trust.entity(id(n))).flags) & (1 << BAD_MOUTHING), `${n} not flagged`).to.equal(0);
    await time.increase(spacing);
    const run = await runDetectors(new Racing(f.trust.connect(f.detector)), store, { flag: true });
    const flagged = run.detections.filter((d) => d.kind === BAD_MOUTHING && d.flagged).map((d) => d.entity);
    expect(flagged.sort(), "setup: the run detects the ring (and only it) for bad-mouthing").to.deep.equal(ring.map((n) => id(n)).sort());
    expect(refused, "every opening tried while the run was in flight was refused").to.deep.equal(
      Array(ring.length).fill("DisputeResolution__FlagRunInFlight"),
    );
    expect(contest, "setup: the first member flagged opened its contest once the run ended").to.not.equal(undefined);
    const { member, id: dId } = contest!;
    expect((await f.disputes.dispute(dId)).runsAtOpening).to.equal((await f.trust.flagRunState()).runs);
    for (const n of ring) await f.trust.setIdentityVerified(id(n), true);

    // the other two members: no vote by the view, and commit refuses them as flagged
    for (const n of ring.filter((x) => x !== member)) {
      const k = names.indexOf(n);
      expect(await f.disputes.eligibleWeight(dId, id(n)), `${n}'s weight in ${member}'s contest`).to.equal(0n);
      await expect(f.disputes.connect(signer(k)).commit(dId, id(n), commitmentOf(dId, id(n), 0, salt(n))))
        .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__Flagged")
        .withArgs(dId, id(n));
    }
    // control: a juror flagged by nobody commits in the same contest
    const v = f.voters[0];
    expect(await f.disputes.eligibleWeight(dId, v)).to.be.greaterThan(0n);
    await f.disputes.connect(f.signerOf.get(v)!).commit(dId, v, commitmentOf(dId, v, 0, salt("v0")));
    expect((await f.disputes.voteOf(dId, v)).commitment).to.not.equal("0x" + "00".repeat(20));
  });
});
