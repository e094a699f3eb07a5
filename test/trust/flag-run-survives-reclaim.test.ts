/**
 * s22-review F1 (pipeline, door 1 re-opened; fixed in session 22: the pipeline reads the batch's eras when a
 * batch reverts without naming an id, offchain/trust/pipeline.ts staleByEra): a reclaim mined in the same block as a flag
 * batch, ahead of it, makes the batch revert on-chain; `minedReceipt` replays it at the block
 * before (where it passes) and rethrows the bare CALL_EXCEPTION (no revert data), `staleFlagId`
 * does not recognise it, and `sendFlagRun` ends the run and throws. The batches already sent stay
 * flagged, the rest are not, openings are allowed again at once, and the next run may begin only
 * FLAG_RUN_SPACING after this one began: a ring split across the run's batches, for up to an hour.
 *
 * FLAG_BATCH_MAX is read through the ledger's contract; it is made 1 here (simulated) so that a
 * handful of detections spans several batches, as > 100 detections do in a real run.
 * Secure behaviour asserted: the run survives the reclaim (the reclaimed id's flags are left out
 * as stale and every other detection is flagged in the run).
 */
import { expect } from "chai";
import type { Signer } from "ethers";
import fs from "fs";
import os from "os";
import path from "path";
import { network } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import * as F from "../../offchain/trust/fixed";
import { TrustLedger, type TxInfo } from "../../offchain/trust/ledger";
import { runDetectors } from "../../offchain/trust/pipeline";
import { FileContentStore } from "../../offchain/storage/content-store";

describe("trust/pipeline: a reclaim ahead of a flag batch in its block does not abort the run (s22-review F1)", function () {
  this.timeout(300_000);

  it("the reclaimed id is left out as stale and every other detection is flagged in the run", async () => {
    const f = await loadFixture(deployTrustFixture);
    const { login, account, attest, fox, owl } = await avatarOwner(f, "s22-review-abort");
    const [alice, squatter, squatter2] = [await account(), await account(), await account()];
    const names = ["ann", "ben", "cat", "dan"];
    for (const [k, n] of names.entries()) {
      await f.trust.connect(f.others[1 + k]).register(id(n), Kind.Avatar);
      await f.trust.setIdentityVerified(id(n), true);
    }
    await f.trust.connect(squatter).register(fox, Kind.Avatar);
    await f.trust.connect(squatter2).register(owl, Kind.Avatar);
    const rate = (who: Signer, from: string, to: string, score: number) =>
      new TrustLedger(f.trust.connect(who)).rate(from, to, F.packFactors(Array(6).fill(score)));
    for (const target of ["ann", "cat", "dan"]) {
      for (const k of [1, 2, 3, 0]) if (names[k] !== target) await rate(f.others[1 + k], id(names[k]), id(target), 0.9);
      await rate(squatter, fox, id(target), 0.05);
      await rate(squatter2, owl, id(target), 0.05);
    }
    const liars = ["gil", "hal", "ivy"];
    for (const [k, n] of liars.entries()) {
      await f.trust.connect(f.others[5 + k]).register(id(n), Kind.Avatar);
      for (const target of ["ann", "cat", "dan"]) await rate(f.others[5 + k], id(n), id(target), 0.05);
    }
    await login(fox);
    await login(owl);
    let victim = "";

    let sent = 0;
    let raced = false;
    class RacedLedger extends TrustLedger {
      override async flagBatch(...a: Parameters<TrustLedger["flagBatch"]>): Promise<TxInfo> {
        const [entries] = a;
        console.log(
          `      batch ${sent}: ${entries.map((e) => (e.id === fox ? "fox" : e.id === owl ? "owl" : e.id.slice(0, 10)) + ":" + e.kind).join(",")}`,
        );
        const target = entries.find((e) => e.id === fox || e.id === owl)?.id;
        if (raced || sent === 0 || target === undefined) {
          sent++;
          return super.flagBatch(...a);
        }
        raced = true;
        victim = target;
        // alice's reclaim lands in the batch's block, ahead of it (a front-run, or just a reclaim
        // sent by her while the batch was pending)
        const at = await attest(victim, alice);
        await network.provider.send("evm_setAutomine", [false]);
        try {
          const p = super.flagBatch(...a);
          p.catch(() => undefined);
          for (let i = 0; i < 200; i++) {
            const b = await network.provider.send("eth_getBlockByNumber", ["pending", false]);
            if (b.transactions.length > 0) break;
            await new Promise((go) => setTimeout(go, 25));
          }
          await f.trust
            .connect(alice)
            .registerAttested(victim, Kind.Avatar, at.deadline, at.a, { maxPriorityFeePerGas: 10n ** 11n, maxFeePerGas: 10n ** 12n });
          await network.provider.send("evm_mine", []);
          return await p;
        } finally {
          await network.provider.send("evm_setAutomine", [true]);
        }
      }
    }
    const det = new RacedLedger(f.trust.connect(f.detector));
    const real = det.tm;
    // simulated: FLAG_BATCH_MAX of 1, so that the run has several batches
    (det as unknown as { tm: unknown }).tm = new Proxy(real, {
      get: (t, p) => (p === "FLAG_BATCH_MAX" ? async () => 1n : (t as unknown as Record<string | symbol, unknown>)[p]),
    });
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "s22-review-abort-")));
    let error: unknown;
    let run: Awaited<ReturnType<typeof runDetectors>> | undefined;
    try {
      run = await runDetectors(det, store, { flag: true });
    } catch (x) {
      error = x;
    }
    if (!raced) console.log(String(error));
    expect(raced, "setup: the reclaim raced a batch after the first").to.equal(true);
    expect((await f.trust.entity(victim)).controller, "setup: alice holds the raced avatar").to.equal(await alice.getAddress());
    const flagged = [];
    for (const n of liars) if ((Number((await f.trust.entity(id(n))).flags) & 0x7f) !== 0) flagged.push(n);
    const [, inFlightUntil] = await f.trust.flagRunState();
    console.log(
      `      run threw: ${error ? String((error as Error).message).slice(0, 160) : "no"}; liars flagged: ${flagged.join(",") || "none"} of ${liars.join(",")}; run in flight until ${inFlightUntil}`,
    );
    const other = victim === fox ? owl : fox;
    const tooSoon = await f.trust
      .connect(f.detector)
      .beginFlagRun.staticCall("0x" + "22".repeat(32))
      .then(
        () => "no",
        (x) => String((x as Error).message).match(/TrustManager__\w+/)?.[0],
      );
    console.log(
      `      the squatted avatar in the first batch flagged: ${(Number((await f.trust.entity(other)).flags) & 0x7f) !== 0}; a new run now: ${tooSoon}`,
    );
    expect(error, "the run survives a reclaim mined ahead of a batch").to.equal(undefined);
    expect(flagged, "every other liar flagged in the run").to.deep.equal(liars);
    expect(run!.detections.filter((d) => d.entity === victim).every((d) => !d.flagged)).to.equal(true);
  });
});
