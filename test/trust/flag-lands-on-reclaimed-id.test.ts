/**
 * Fixed (was red team h16-red2's finding R5; TrustManager.flag names the generation, the pipeline
 * passes the one it read and reports a refused flag as stale). The finding: a flag computed on a squatter's era lands on the owner's fresh
 * id. `TrustManager.flag(id, kind, evidence)` names the id only, not the generation (era) the
 * detection was about, and the pipeline (offchain/trust/pipeline.ts) reads the ratings, runs the
 * detectors (minutes at scale) and only then sends one flag per detection. If the owner reclaims
 * the id in between (`registerAttested` over a squatter's plain entry, or `reclaimAvatar`), the
 * flag for the squatter's bad-mouthing is set on the owner's new generation: her fresh avatar is
 * at the flagged factor (x0.2) in everyone's eyes and cannot vote, until she pays a deposit to
 * contest it; the next detector run does not lift it (it reads nothing of the old era, and never
 * unflags). The class of h12-red2 R1 ("a reclaimed id starts afresh", docs/specs/trust.md §6).
 *
 * The race is reproduced in order, not in time: the detector's ledger runs the owner's reclaim
 * just before its first flag transaction, as a reclaim mined while the detectors ran would be.
 *
 * Secure behaviour asserted: the owner's reclaimed avatar carries no flag from the squatter's era.
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import fs from "fs";
import os from "os";
import path from "path";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import * as F from "../../offchain/trust/fixed";
import { TrustLedger, type TxInfo } from "../../offchain/trust/ledger";
import { runDetectors } from "../../offchain/trust/pipeline";
import { FileContentStore } from "../../offchain/storage/content-store";

describe("R5 (h16-red2, fixed): a flag about a squatter's era is not set on the owner's reclaimed id", function () {
  this.timeout(180_000);

  it("a reclaim mined while the detectors run leaves the owner's fresh avatar unflagged", async () => {
    const f = await loadFixture(deployTrustFixture);
    const { login, account, attest, fox } = await avatarOwner(f, "h16-red2-r5");
    const [alice, squatter] = [await account(), await account()];
    const names = ["ann", "ben", "cat", "dan"];
    for (const [k, n] of names.entries()) {
      await f.trust.connect(f.others[1 + k]).register(id(n), Kind.Avatar);
      await f.trust.setIdentityVerified(id(n), true);
    }
    await f.trust.connect(squatter).register(fox, Kind.Avatar); // alice's first avatar, squatted
    const rate = (who: Signer, from: string, to: string, score: number) =>
      new TrustLedger(f.trust.connect(who)).rate(from, to, F.packFactors(Array(6).fill(score)));
    // four raters agree at 0.9; the squatter, as fox, says 0.05 of everyone (the R1 world)
    for (const target of ["ann", "cat", "dan"]) {
      for (const k of [1, 2, 3, 0]) if (names[k] !== target) await rate(f.others[1 + k], id(names[k]), id(target), 0.9);
      await rate(squatter, fox, id(target), 0.05);
    }

    // a second liar, not reclaimed: its flag must still land (the run's batch is resent without fox)
    await f.trust.connect(f.others[5]).register(id("gil"), Kind.Avatar);
    for (const target of ["ann", "cat", "dan"]) await rate(f.others[5], id("gil"), id(target), 0.05);

    // the detector's ledger: alice's reclaim is mined just before its first flag transaction (a
    // batch of the run's flag run, since session 22)
    let reclaimed = false;
    class RacedLedger extends TrustLedger {
      override async flagBatch(...a: Parameters<TrustLedger["flagBatch"]>): Promise<TxInfo> {
        if (!reclaimed) {
          reclaimed = true;
          await login(fox);
          const at = await attest(fox, alice);
          await (await f.trust.connect(alice).registerAttested(fox, Kind.Avatar, at.deadline, at.a)).wait();
        }
        return super.flagBatch(...a);
      }
    }
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "h16-red2-r5-")));
    const run = await runDetectors(new RacedLedger(f.trust.connect(f.detector)), store, { flag: true });
    expect(
      run.detections.some((d) => d.entity === fox),
      "setup: the squatter's fox is detected",
    ).to.equal(true);
    expect(reclaimed, "setup: the reclaim happened before the flags").to.equal(true);
    expect((await f.trust.entity(fox)).controller, "setup: alice holds fox").to.equal(await alice.getAddress());
    expect((await f.trust.entity(fox)).flags & 0x7fn, "alice's fresh fox flagged for the squatter's ratings").to.equal(0n);
    const mine = run.detections.filter((d) => d.entity === fox);
    expect(
      mine.every((d) => !d.flagged && /reclaimed after the block read/.test(d.stale ?? "")),
      "the report says the fox's detections were not flagged, and why",
    ).to.equal(true);
    const gil = run.detections.filter((d) => d.entity === id("gil"));
    expect(gil.length, "setup: gil is detected").to.be.greaterThan(0);
    expect(
      gil.every((d) => d.flagged && d.stale === undefined),
      "gil's flags land, in the batch sent again without fox",
    ).to.equal(true);
    expect(Number((await f.trust.entity(id("gil"))).flags) & 0x7f).to.not.equal(0);
  });

  it("flag names the generation it judged: a stale one reverts TrustManager__StaleEra and writes nothing", async () => {
    const f = await loadFixture(deployTrustFixture);
    const { login, account, attest, fox } = await avatarOwner(f, "h16-fixe1-r5");
    const [alice, squatter] = [await account(), await account()];
    await f.trust.connect(squatter).register(fox, Kind.Avatar);
    const g0 = await f.trust.generationOf(fox);
    await login(fox);
    const a = await attest(fox, alice);
    await (await f.trust.connect(alice).registerAttested(fox, Kind.Avatar, a.deadline, a.a)).wait();
    const g1 = await f.trust.generationOf(fox);
    expect(g1, "setup: the reclaim moved the generation").to.not.equal(g0);
    const det = f.trust.connect(f.detector);
    await expect(det.flag(fox, 3, "0x" + "11".repeat(32), g0))
      .to.be.revertedWithCustomError(f.trust, "TrustManager__StaleEra")
      .withArgs(fox, g0, g1);
    expect((await f.trust.entity(fox)).flags & 0x7fn, "nothing written on the refusal").to.equal(0n);
    await expect(det.flag(fox, 3, "0x" + "11".repeat(32), g1 + 1n)).to.be.revertedWithCustomError(f.trust, "TrustManager__StaleEra");
    await expect(det.flag(fox, 3, "0x" + "11".repeat(32), g1)).to.emit(f.trust, "EntityFlagged");
    expect((await f.trust.entity(fox)).flags & 0x7fn).to.equal(1n << 3n);
  });
});
