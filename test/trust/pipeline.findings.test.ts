/**
 * Red team (h8-redtrust), finding F1 — severity HIGH.
 *
 * The detection pipeline (offchain/trust/pipeline.ts) reads the rating history with
 * `TrustLedger.ratings()`, which marks a rating as evidenced whenever an `EvidenceAttached` event
 * for the same pair is in its transaction. The contract emits that event for *any* non-zero
 * bytes32 the rater sends. So a rater with no interaction at all attaches 32 random bytes (or the
 * digest of someone else's record set) and its typed score is treated by the detectors as backed by
 * signed provider receipts: the "cap" on unevidenced observations (a crowd that shows no
 * interaction weighs at most 3 observations on its target) and `--evidence-only` (unevidenced
 * ratings weigh nothing) are both bypassed by a flood that attaches fake digests.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import * as F from "../../offchain/trust/fixed";
import { TrustLedger } from "../../offchain/trust/ledger";
import { FileContentStore } from "../../offchain/storage/content-store";
import { runDetectors } from "../../offchain/trust/pipeline";

describe("red team: the detector's evidence input (pipeline.findings)", () => {
  async function fixture() {
    const f = await deployTrustFixture();
    const { trust, others } = f;
    await trust.connect(others[5]).register(id("victim"), Kind.Organization);
    for (let k = 0; k < 3; k++) await trust.connect(others[6 + k]).register(id(`flooder-${k}`), Kind.Avatar);
    return f;
  }
  const newStore = () => new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-redtrust-")));

  it("a flood that attaches random digests (no record set anywhere) is not counted as evidenced", async () => {
    const f = await loadFixture(fixture);
    const store = newStore();
    for (let k = 0; k < 3; k++) {
      const ledger = new TrustLedger(f.trust.connect(f.others[6 + k]));
      // a typed score of 0 with 32 random bytes as its "evidence": no interaction, nothing on IPFS
      await ledger.rate(id(`flooder-${k}`), id("victim"), F.packFactors(Array(6).fill(0)), ethers.randomBytes(32));
    }
    const detector = new TrustLedger(f.trust.connect(f.detector));
    const run = await runDetectors(detector, store, { flag: false });
    const report = await store.getJson<{ ratings: number; ratingsWithEvidence: number }>(run.cid);
    expect(report.ratings).to.equal(3);
    // the attack gets through when the detectors count these ratings as evidenced
    expect(report.ratingsWithEvidence, "fake evidence digests were counted as evidence").to.equal(0);
  });
});
