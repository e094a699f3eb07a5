/**
 * s20-review M2 (with s20-redt F3's fix): a ring detected in one detector run must not vote in its
 * members' flag contests. In a flag contest `commit` refuses only the flags a juror has held since
 * the contest's snapshot (the block before its opening) or before, so that the detector, the other
 * side, cannot pick the jury by flagging jurors after it opens. If a run's flags went out one
 * transaction at a time, the first ring member flagged could open its contest between two of them,
 * and the members flagged later would vote in it. Since s20-f3b the pipeline sends a run's new
 * flags in one `TrustManager.flagBatch` (one block), and a contest cannot open in its flag's block
 * (`FlagContestTooEarly`), so every member's flag is held at the snapshot.
 *
 * The race is simulated (labelled): the detector's ledger is wrapped so that right after the first
 * flagging transaction it sends is mined, the first ring member it flagged opens its contest; on a
 * real chain the member watches the mempool or the logs and does the same.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { mine } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import * as F from "../../offchain/trust/fixed";
import { TrustLedger } from "../../offchain/trust/ledger";
import { runDetectors } from "../../offchain/trust/pipeline";
import { FileContentStore } from "../../offchain/storage/content-store";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import type { TxInfo } from "../../offchain/trust/ledger";

const ZERO = "0x" + "00".repeat(32);
const BAD_MOUTHING = 3;

describe("s20-review M2: a ring flagged by one detector run cannot vote in its members' flag contests", function () {
  this.timeout(300_000);

  it("a run flags a ring of three in one transaction; the first opens its contest in the next block; the other two cannot commit in it", async () => {
    const f = await deployDisputeFixture();
    const honest = ["ann", "ben", "cat", "dan"];
    const ring = ["eve", "fay", "gus"];
    const names = [...honest, ...ring];
    const signer = (k: number) => f.others[1 + k];
    // everyone verified, and old enough to vote at any later snapshot (the standing dates from the
    // first verification). The ring's verification is then suspended while the detectors run (a
    // verified identity is a seed of the detectors' reference, and three lying seeds of seven hide
    // themselves) and given back after the contest opened: commit needs it now, reveal the standing.
    for (const [k, n] of names.entries()) {
      await f.trust.connect(signer(k)).register(id(n), Kind.Avatar);
      await f.trust.setIdentityVerified(id(n), true);
    }
    await mine(Number(P.minAge) + 1);
    for (const n of ring) await f.trust.setIdentityVerified(id(n), false);
    // the honest raters agree at 0.9 of ann, cat, dan; the ring says 0.05 of each
    const rate = (k: number, to: string, score: number) =>
      new TrustLedger(f.trust.connect(signer(k))).rate(id(names[k]), id(to), F.packFactors(Array(6).fill(score)));
    for (const target of ["ann", "cat", "dan"]) {
      for (const k of [0, 1, 2, 3]) if (names[k] !== target) await rate(k, target, 0.9);
      for (const k of [4, 5, 6]) await rate(k, target, 0.05);
    }

    // Simulated adversary: right after the detector's first flagging transaction is mined, the
    // first ring member it flagged opens a flag contest (the next block).
    let contest: { member: string; id: bigint } | undefined;
    const open = async () => {
      if (contest) return;
      for (const [k, n] of names.entries()) {
        if (!ring.includes(n) || (Number((await f.trust.entity(id(n))).flags) & (1 << BAD_MOUTHING)) === 0) continue;
        await f.disputes.connect(signer(k)).openDispute(id(n), ZERO, 3, 2, ZERO, "", { value: P.deposit });
        contest = { member: n, id: await f.disputes.disputeCount() };
        return;
      }
    };
    class Racing extends TrustLedger {
      override async flag(...a: Parameters<TrustLedger["flag"]>): Promise<TxInfo> {
        const r = await super.flag(...a);
        await open();
        return r;
      }
      override async flagBatch(...a: Parameters<TrustLedger["flagBatch"]>): Promise<TxInfo> {
        const r = await super.flagBatch(...a);
        await open();
        return r;
      }
    }
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "s20-f3b-ring-")));
    const run = await runDetectors(new Racing(f.trust.connect(f.detector)), store, { flag: true });
    const flagged = run.detections.filter((d) => d.kind === BAD_MOUTHING && d.flagged).map((d) => d.entity);
    expect(flagged.sort(), "setup: the run detects the ring (and only it) for bad-mouthing").to.deep.equal(ring.map((n) => id(n)).sort());
    expect(contest, "setup: the first member flagged opened its contest").to.not.equal(undefined);
    const { member, id: dId } = contest!;
    for (const n of ring) await f.trust.setIdentityVerified(id(n), true);

    // the other two members: no vote by the view, and commit refuses them as flagged
    for (const n of ring.filter((x) => x !== member)) {
      const k = names.indexOf(n);
      expect(await f.disputes.eligibleWeight(dId, id(n)), `${n}'s weight in ${member}'s contest`).to.equal(0n);
      await expect(f.disputes.connect(signer(k)).commit(dId, id(n), commitmentOf(dId, id(n), 0, salt(n))))
        .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__Flagged")
        .withArgs(dId, id(n));
    }
    // why: one block for the whole ring, at or before the contest's snapshot
    const since = await Promise.all(ring.map(async (n) => Number((await f.trust.flagMarks(id(n))).blocks[BAD_MOUTHING])));
    expect(new Set(since).size, `the ring's flags in one block (${since})`).to.equal(1);
    expect(since[0]).to.be.at.most(Number((await f.disputes.dispute(dId)).snapshot));

    // control: a juror flagged by nobody commits in the same contest
    const v = f.voters[0];
    expect(await f.disputes.eligibleWeight(dId, v)).to.be.greaterThan(0n);
    await f.disputes.connect(f.signerOf.get(v)!).commit(dId, v, commitmentOf(dId, v, 0, salt("v0")));
    expect((await f.disputes.voteOf(dId, v)).commitment).to.not.equal("0x" + "00".repeat(20));
  });
});
