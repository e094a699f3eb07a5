/**
 * The detection pipeline's input (offchain/trust/pipeline.ts, TrustLedger.ratings): which ratings
 * count as evidenced. Red team h8-redtrust, finding F1: the contract emits `EvidenceAttached` for
 * any non-zero bytes32, so a digest alone proves no interaction; a rating counts as evidenced only
 * when its record set is on IPFS and verifies against the chain.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import * as F from "../../offchain/trust/fixed";
import { type RefusedEvidence, TrustLedger } from "../../offchain/trust/ledger";
import { InvalidParameterError } from "../../offchain/errors";
import { FileContentStore } from "../../offchain/storage/content-store";
import { runDetectors } from "../../offchain/trust/pipeline";
import { type EvidenceTerms, type InteractionRecord, evidenceBlock } from "../../offchain/trust/evidence";
import { buildEvidence, rateWithEvidence, signReceipt } from "../../offchain/trust/rater";

const TERMS: EvidenceTerms = { latencyBoundMs: 200, terms: [{ id: "uptime", weight: 1 }] };

describe("detection pipeline: what counts as a rating's evidence", () => {
  async function fixture() {
    const f = await deployTrustFixture();
    const { trust, others } = f;
    await trust.connect(others[5]).register(id("victim"), Kind.Organization);
    for (let k = 0; k < 3; k++) await trust.connect(others[6 + k]).register(id(`rater-${k}`), Kind.Avatar);
    return f;
  }
  const newStore = () => new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-pipeline-")));
  type Report = { ratings: number; ratingsWithEvidence: number; evidenceRefused: RefusedEvidence[] };

  /** Two interactions of rater k with the victim, receipts signed by the victim's controller. */
  async function served(f: Awaited<ReturnType<typeof fixture>>, k: number): Promise<InteractionRecord[]> {
    const at = (await time.latest()) - 10;
    const rs: InteractionRecord[] = [0, 1].map((s) => ({
      seq: s,
      request: ethers.keccak256(ethers.toUtf8Bytes(`request ${k}-${s}`)),
      at: at + s,
      outcome: "success",
      latencyMs: 100,
      kept: [true],
      receipt: "0x",
    }));
    for (const r of rs)
      r.receipt = await signReceipt(f.others[5], {
        chainId: 31337,
        trustManager: await f.trust.getAddress(),
        from: id(`rater-${k}`),
        to: id("victim"),
        seq: r.seq,
        request: r.request,
        at: r.at,
        terms: TERMS,
      });
    return rs;
  }

  it("a flood that attaches random digests (no record set anywhere) is not counted as evidenced; each digest is reported", async () => {
    const f = await loadFixture(fixture);
    const store = newStore();
    const digests: string[] = [];
    for (let k = 0; k < 3; k++) {
      const ledger = new TrustLedger(f.trust.connect(f.others[6 + k]));
      const fake = ethers.randomBytes(32);
      digests.push(ethers.hexlify(fake));
      // a typed score of 0 with 32 random bytes as its "evidence": no interaction, nothing on IPFS
      await ledger.rate(id(`rater-${k}`), id("victim"), F.packFactors(Array(6).fill(0)), fake);
    }
    const run = await runDetectors(new TrustLedger(f.trust.connect(f.detector)), store, { flag: false });
    const report = await store.getJson<Report>(run.cid);
    expect([report.ratings, report.ratingsWithEvidence]).to.deep.equal([3, 0]);
    expect(report.evidenceRefused.map((r) => [r.from, r.index, r.digest])).to.deep.equal(digests.map((d, k) => [id(`rater-${k}`), 0, d]));
    for (const r of report.evidenceRefused) expect(r.reason).to.match(/^its evidence \w+ is not on IPFS$/);
  });

  it("a verified record set counts; its digest replayed by a second rating, or attached to inflated factors, does not", async () => {
    const f = await loadFixture(fixture);
    const store = newStore();
    const r0 = new TrustLedger(f.trust.connect(f.others[6]));
    const honest = await rateWithEvidence(r0, store, id("rater-0"), id("victim"), TERMS, await served(f, 0));
    // rater-1 builds a real record set, then sends all-ones factors with its digest
    const tm1 = f.trust.connect(f.others[7]);
    const { evidence } = await buildEvidence(tm1, f.others[7], id("rater-1"), id("victim"), TERMS, await served(f, 1));
    await store.putJson(evidence);
    await new TrustLedger(tm1).rate(
      id("rater-1"),
      id("victim"),
      F.packFactors(Array(6).fill(1)),
      ethers.getBytes(evidenceBlock(evidence).digest),
    );
    // rater-0, an epoch later, re-attaches its first record set (replay)
    await time.increase(86_400);
    await r0.rate(id("rater-0"), id("victim"), honest.scores.packed, ethers.getBytes(evidenceBlock(honest.evidence).digest));
    const refused: RefusedEvidence[] = [];
    const ratings = await new TrustLedger(f.trust.connect(f.detector)).ratings(0, { store, refused });
    expect(ratings.map((r) => [r.from, r.evidence])).to.deep.equal([
      [id("rater-0"), true],
      [id("rater-1"), false],
      [id("rater-0"), false],
    ]);
    expect(refused.map((r) => [r.from, r.index])).to.deep.equal([
      [id("rater-1"), 0],
      [id("rater-0"), 1],
    ]);
    expect(refused[0].reason).to.match(/the chain stored rating \d+, the records give \d+ \(Eq\. 41\)$/);
    expect(refused[1].reason).to.match(/the records were made for rating #0 of this pair \(replayed evidence\)$/);
    // without a store the digest's presence is all that is known (not what the pipeline reads)
    expect((await new TrustLedger(f.trust).ratings()).map((r) => r.evidence)).to.deep.equal([true, true, true]);
    await expect(new TrustLedger(f.trust).ratings(1, { store })).to.be.rejectedWith(
      InvalidParameterError,
      /^ratings: evidence is verified/,
    );
  });
});
