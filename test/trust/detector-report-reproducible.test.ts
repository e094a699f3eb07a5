/**
 * Fixed (was red team h16-red2's finding R2: runDetectors reads everything at one block and the
 * report names it, with its hash and the seeds by id). The finding: a detection report cannot be recomputed by a person. The
 * pipeline (offchain/trust/pipeline.ts `runDetectors`) reads the ratings, the entities and each
 * entity's `isIdentityVerified` at "latest", one call after another (not one block), and the report
 * it puts on IPFS, the flag's only evidence, names neither the block it read nor the seeds: only
 * `seeds: <count>` and a wall-clock `generatedAt`. SybilRank and every seed-anchored reference
 * depend on the seed set, and the seed set moves without a trace a reader could place: an MIT
 * avatar is verified only while its owner's login (a day) or delegation warrant is unexpired
 * (docs/specs/trust.md §3), and the admin's bit can change at any block. A flagged entity (or its
 * jurors in a flag contest, docs/specs/disputes.md) that recomputes the statistic later, as
 * trust.md §4 "Reasons" says it can, reads another seed set and gets another verdict, and cannot
 * tell a wrong flag from a changed chain. The report's observations are merged per epoch, not the
 * list of ratings, so the rating set is not pinned either (a rating mined while the pipeline runs
 * may or may not be in it).
 *
 * Secure behaviour asserted: what the report names (its block, its seeds) is enough to recompute
 * its detections after the chain has moved on: the same detections (entity, kind).
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
import { runDetectors } from "../../offchain/trust/pipeline";
import { analyze } from "../../offchain/trust/robust";
import { FileContentStore } from "../../offchain/storage/content-store";

type Report = {
  ratings: number;
  epochSeconds: number;
  unevidenced: "cap" | "ignore";
  block?: { number: number; hash: string };
  seeds: number | string[];
  detections: { entity: string; kind: number }[];
};

describe("R2 (h16-red2, fixed): a detection report names its block and its seeds, and recomputes", function () {
  this.timeout(180_000);

  async function world() {
    const f = await deployTrustFixture();
    const names = ["ann", "ben", "cat", "dan", "eve", "syb1", "syb2"];
    const signer = (k: number) => f.others[1 + k];
    for (const [k, n] of names.entries()) {
      await f.trust.connect(signer(k)).register(id(n), Kind.Avatar);
      if (!["eve", "syb1", "syb2"].includes(n)) await f.trust.setIdentityVerified(id(n), true);
    }
    const rate = (k: number, to: string, score: number) =>
      new TrustLedger(f.trust.connect(signer(k))).rate(id(names[k]), id(to), F.packFactors(Array(6).fill(score)));
    for (const target of ["ann", "cat", "dan"]) {
      for (const k of [1, 2, 3, 0]) if (names[k] !== target) await rate(k, target, 0.9);
      await rate(4, target, 0.05);
    }
    // two unverified ids praising each other, reached by no verified one: SybilRank's case
    await rate(5, "syb2", 0.9);
    await rate(6, "syb1", 0.9);
    return f;
  }

  it("a person recomputing the report's detections from what it names gets the report's detections", async () => {
    const f = await loadFixture(world);
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "h16-red2-r2-")));
    const run = await runDetectors(new TrustLedger(f.trust.connect(f.detector)), store, { flag: true });
    const report = await store.getJson<Report>(run.cid);
    const key = (ds: { entity: string; kind: number }[]) => ds.map((d) => `${d.entity}:${d.kind}`).sort();
    expect(report.detections.length, "setup: the report has detections").to.be.greaterThan(0);
    expect(report.block, "the report names the block it read").to.not.equal(undefined);
    expect(Array.isArray(report.seeds), "the report names its seeds by id").to.equal(true);

    // later: the seeds' verification moves (here the admin's bit; for an MIT avatar, a login
    // that lapses a day later does the same with no event at all), and a rating is added
    for (const n of ["ann", "ben", "cat", "dan"]) await f.trust.setIdentityVerified(id(n), false);
    await new TrustLedger(f.trust.connect(f.others[3])).rate(id("cat"), id("ben"), F.packFactors(Array(6).fill(0.9)));

    // a reader recomputes with what the report names: its block (checked by hash: the chain it
    // names), its seeds, the ratings and entities logged up to that block
    const ledger = new TrustLedger(f.trust);
    const b = report.block!;
    expect((await ethers.provider.getBlock(b.number))!.hash, "the report's block is on this chain").to.equal(b.hash);
    const ratings = await ledger.ratings(0, { toBlock: b.number });
    expect(ratings.length, "the ratings to the block are the report's").to.equal(report.ratings);
    const nodes = (await ledger.entities(b.number)).map((e) => e.id);
    const seeds = new Set<string>(report.seeds as string[]);
    for (const n of nodes)
      expect(await f.trust.isIdentityVerified(n, { blockTag: b.number }), `seed ${n} at the block`).to.equal(seeds.has(n));
    const again = analyze(ratings, nodes, seeds, { epochSeconds: report.epochSeconds, unevidenced: report.unevidenced });
    expect(key(again.detections), "recomputed from the report's block and seeds").to.deep.equal(key(report.detections));
    // and the chain as it is now would have said something else: the report's view is what matters
    const now = analyze(await ledger.ratings(), nodes, new Set(), { epochSeconds: report.epochSeconds, unevidenced: report.unevidenced });
    expect(key(now.detections), "setup: the moved chain gives other detections").to.not.deep.equal(key(report.detections));
  });

  it("a run pinned at an earlier block reads nothing after it: same report detections as a run then", async () => {
    const f = await loadFixture(world);
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "h16-fixe1-r2-")));
    const ledger = new TrustLedger(f.trust.connect(f.detector));
    const before = await runDetectors(ledger, store, { flag: false });
    for (const n of ["ann", "ben", "cat", "dan"]) await f.trust.setIdentityVerified(id(n), false);
    await new TrustLedger(f.trust.connect(f.others[3])).rate(id("cat"), id("ben"), F.packFactors(Array(6).fill(0.9)));
    const pinned = await runDetectors(ledger, store, { flag: false, atBlock: before.block.number });
    const key = (ds: { entity: string; kind: number }[]) => ds.map((d) => `${d.entity}:${d.kind}`).sort();
    expect(pinned.block, "the same block").to.deep.equal(before.block);
    expect(pinned.ratings, "the same ratings").to.equal(before.ratings);
    expect(key(pinned.detections), "the same detections").to.deep.equal(key(before.detections));
    // the same report to the byte: its time is the block's, not the clock's (one CID, one pin)
    expect(pinned.cid, "the same report, the same CID").to.equal(before.cid);
  });
});
