import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { Wallet } from "ethers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import * as F from "../../offchain/trust/fixed";
import { TrustLedger } from "../../offchain/trust/ledger";
import { FileContentStore, cidOf, encodeJson } from "../../offchain/storage/content-store";
import { ContentCorruptedError } from "../../offchain/storage/errors";
import {
  EVIDENCE_TAG,
  EvidenceError,
  type EvidenceTerms,
  type InteractionRecord,
  type RatingEvidence,
  cidOfEvidenceDigest,
  evidenceBlock,
  evidenceFactors,
  evidenceMessage,
  receiptMessage,
  unsignedEvidence,
  verifyEvidence,
} from "../../offchain/trust/evidence";
import { rateWithEvidence, verifyRating } from "../../offchain/trust/rater";
import { withReceipts } from "../helpers/receipts";

const TERMS: EvidenceTerms = {
  latencyBoundMs: 200,
  terms: [
    { id: "uptime", weight: 2 },
    { id: "privacy", weight: 1 },
  ],
};
const req = (k: number) => ethers.keccak256(ethers.toUtf8Bytes(`request ${k}`));
/** The three interactions of the hand-computed example (docs/specs/trust.md §8). */
const OBS = [
  { outcome: "success", latencyMs: 100, kept: [true, true] },
  { outcome: "success", latencyMs: 400, kept: [true, false] },
  { outcome: "failure", latencyMs: 50, kept: [false, true] },
] as const;

function records(at: number[]): InteractionRecord[] {
  return OBS.map((o, k) => ({
    seq: k,
    request: req(k),
    at: at[k],
    outcome: o.outcome,
    latencyMs: o.latencyMs,
    kept: [...o.kept],
    receipt: "0x", // signed by withReceipts where a receipt is checked
  }));
}

describe("rating agent: factors from interaction records (evidence.ts)", () => {
  describe("# evidenceFactors (Eqs. 10-13, 18 against hand-computed values)", () => {
    it("computes the six lanes of the worked example", () => {
      // s = (1, 1, 0); t = (1, 200/400, 0); i = (1, 2/3, 1/3) (uptime weighs 2, privacy 1)
      // Eq. 12: P = 2/3; timeliness = 1.5/3 = 0.5; Eq. 18: (2 * 2/3 + 1 * 2/3) / 3 = 2/3
      // Eq. 10: d12 = (0 + .5 + 1/3)/3, d23 = (1 + .5 + 1/3)/3, mean 4/9 -> 1 - 4/9 = 5/9
      // Eq. 11: r = (1, 13/18, 1/9) -> 11/18; Eq. 13: verified = 1
      const s = evidenceFactors(records([1, 2, 3]), TERMS, true);
      expect(s.factors[0]).to.be.closeTo(2 / 3, 1e-12);
      expect(s.factors[1]).to.be.closeTo(0.5, 1e-12);
      expect(s.factors[2]).to.be.closeTo(2 / 3, 1e-12);
      expect(s.factors[3]).to.be.closeTo(5 / 9, 1e-12);
      expect(s.factors[4]).to.be.closeTo(11 / 18, 1e-12);
      expect(s.bps).to.deep.equal([6667, 5000, 6667, 5556, 6111, 10_000]);
      expect(s.packed).to.equal(F.packLanes(s.bps));
      // Eq. 41 with the deployed six equal weights
      expect(F.optimizedTrust(s.packed, F.DEFAULT_MODEL.weights, 6)).to.equal((40_001n * 10n ** 18n) / 60_000n);
    });

    it("unverified identity gives lane 5 = 0; one record gives behaviour 0.5; no agreed terms give integrity 1", () => {
      expect(evidenceFactors(records([1, 2, 3]), TERMS, false).bps[5]).to.equal(0);
      const one = evidenceFactors(records([1, 2, 3]).slice(0, 1), { latencyBoundMs: 200, terms: [] }, true);
      expect(one.bps).to.deep.equal([10_000, 10_000, 10_000, 5000, 10_000, 10_000]);
    });

    it("rejects an empty record set and malformed terms, naming the field", () => {
      expect(() => evidenceFactors([], TERMS, true)).to.throw(EvidenceError, /^evidenceFactors: needs at least one record/);
      expect(() => evidenceFactors(records([1, 2, 3]), { latencyBoundMs: 0, terms: [] }, true)).to.throw(
        /latencyBoundMs must be a positive/,
      );
      expect(() => evidenceFactors(records([1, 2, 3]), { latencyBoundMs: 1, terms: [{ id: "a", weight: 0 }] }, true)).to.throw(
        /term "a": weight must be an integer/,
      );
    });

    it("the on-chain digest is the sha2-256 of the dag-json block, and names the same CIDv1 the store computes", async () => {
      const e = { type: EVIDENCE_TAG, x: 1 } as unknown as RatingEvidence;
      const b = evidenceBlock(e);
      expect(b.cid).to.equal((await cidOf(encodeJson(e), "dag-json")).toString());
      expect(cidOfEvidenceDigest(b.digest)).to.equal(b.cid);
      expect(b.cid).to.match(/^baguqeera/); // CIDv1, dag-json, sha2-256
    });
  });

  describe("# verifyEvidence (no chain: signatures and bindings)", () => {
    const rater = Wallet.createRandom();
    const provider = Wallet.createRandom();
    const tmAddr = "0x" + "11".repeat(20);
    const [A, B, C] = [id("alice"), id("bob"), id("carol")];
    async function signed(from = A, to = B, nonce = 0, after = 0): Promise<RatingEvidence> {
      const rs = await withReceipts(provider, { trustManager: tmAddr, from, to, terms: TERMS }, records([after + 1, after + 2, after + 3]));
      const u = {
        type: EVIDENCE_TAG as typeof EVIDENCE_TAG,
        chainId: 31337,
        trustManager: tmAddr,
        from,
        to,
        nonce,
        after,
        agreement: TERMS,
        identity: 1 as const,
        records: rs,
        rater: rater.address.toLowerCase(),
      };
      return { ...u, signature: await rater.signMessage(evidenceMessage(u)) };
    }
    const ctx = (over: Partial<Parameters<typeof verifyEvidence>[1]> = {}) => ({
      chainId: 31337,
      trustManager: tmAddr,
      from: A,
      to: B,
      nonce: 0,
      after: 0,
      time: 100,
      sender: rater.address,
      providerController: provider.address,
      identityVerified: true,
      label: (x: string) => ({ [A]: "alice", [B]: "bob", [C]: "carol" })[x] ?? x,
      ...over,
    });

    it("accepts the signed set and recomputes the lanes", async () => {
      expect(verifyEvidence(await signed(), ctx()).bps).to.deep.equal([6667, 5000, 6667, 5556, 6111, 10_000]);
    });

    it("a receipt covers (pair, seq, request, time, terms): moving a record's time or tightening the terms breaks it", async () => {
      const e = await signed();
      e.records[1].at = 50;
      const u = unsignedEvidence(e);
      e.signature = await rater.signMessage(evidenceMessage(u)); // the rater re-signs its edit
      expect(() => verifyEvidence(e, ctx())).to.throw(
        EvidenceError,
        /^verifyEvidence: rating alice -> bob #0: record 1: the receipt is not bob's/,
      );
      const f = await signed();
      f.agreement = { ...TERMS, latencyBoundMs: 1 };
      f.signature = await rater.signMessage(evidenceMessage(unsignedEvidence(f)));
      expect(() => verifyEvidence(f, ctx())).to.throw(/record 0: the receipt is not bob's/);
    });

    it("a record set edited after the rater signed it is refused (the signature no longer recovers the sender)", async () => {
      const e = await signed();
      e.records[2].outcome = "success";
      expect(() => verifyEvidence(e, ctx())).to.throw(/is signed by 0x[0-9a-fA-F]{40}, the rating was sent by/);
    });

    it("records of another pair: carol re-labels alice's records as hers (receipts name alice)", async () => {
      const e = await signed();
      const stolen = { ...unsignedEvidence(e), from: C };
      const f = { ...stolen, signature: await rater.signMessage(evidenceMessage(stolen)) };
      expect(() => verifyEvidence(f, ctx({ from: C }))).to.throw(/rating carol -> bob #0: record 0: the receipt is not bob's/);
      expect(() => verifyEvidence(e, ctx({ from: C }))).to.throw(/the records are for the pair alice -> bob/);
    });

    it("replay: a set made for rating #0 attached to rating #1; the same records re-packaged after the first rating", async () => {
      const first = await signed();
      expect(() => verifyEvidence(first, ctx({ nonce: 1, after: 2 }))).to.throw(
        /were made for rating #0 of this pair \(replayed evidence\)/,
      );
      const again = await signed(A, B, 1, 0); // nonce 1, but the records predate rating #0 (at 2)
      expect(() => verifyEvidence(again, ctx({ nonce: 1, after: 2 }))).to.throw(
        /the records start after 0, the pair's previous rating was at 2/,
      );
      const stale = await signed(A, B, 0, 0); // the right nonce and window, but records that predate rating #0
      const restamped = { ...unsignedEvidence(stale), nonce: 1, after: 2 };
      const g = { ...restamped, signature: await rater.signMessage(evidenceMessage(restamped)) };
      expect(() => verifyEvidence(g, ctx({ nonce: 1, after: 2 }))).to.throw(
        /record 0: time 1 is not after the pair's previous rating \(2\)/,
      );
      const bumped = await signed(A, B, 1, 2); // honest: records newer than rating #0
      expect(() => verifyEvidence(bumped, ctx({ nonce: 1, after: 2 }))).to.not.throw();
    });

    it("other rater, records after the rating, identity claimed wrongly, factors that differ", async () => {
      const e = await signed();
      expect(() => verifyEvidence(e, ctx({ sender: Wallet.createRandom().address }))).to.throw(/evidence of another rater/);
      expect(() => verifyEvidence(e, ctx({ time: 2 }))).to.throw(/record 2 \(time 3\) is after the rating \(2\)/);
      expect(() => verifyEvidence(e, ctx({ identityVerified: false }))).to.throw(/claim identity 1, the registry says 0/);
      expect(() => verifyEvidence(e, ctx({ factors: F.packLanes([10_000, 5000, 6667, 5556, 6111, 10_000]) }))).to.throw(
        /on-chain factors \[10000, 5000, 6667, 5556, 6111, 10000\] differ from the records' \[6667, 5000/,
      );
      expect(() => verifyEvidence(e, ctx({ chainId: 1 }))).to.throw(/for chain 31337/);
    });

    it("the receipt message is domain-separated per pair and request", () => {
      const base = { chainId: 31337, trustManager: tmAddr, from: A, to: B, seq: 0, request: req(0), at: 1, terms: TERMS };
      const m = ethers.hexlify(receiptMessage(base));
      for (const d of [{ from: C }, { to: C }, { seq: 1 }, { request: req(1) }, { at: 2 }, { chainId: 1 }])
        expect(ethers.hexlify(receiptMessage({ ...base, ...d }))).to.not.equal(m);
    });
  });

  describe("# rate from evidence, then recompute it from the chain and IPFS (attacks)", () => {
    async function fixture() {
      const f = await deployTrustFixture();
      const { trust, others } = f;
      const ctl = { alice: others[4], bob: others[5], carol: others[6] };
      for (const n of ["alice", "bob", "carol"] as const) await trust.connect(ctl[n]).register(id(n), Kind.Avatar);
      const ledger = { alice: new TrustLedger(trust.connect(ctl.alice)), carol: new TrustLedger(trust.connect(ctl.carol)) };
      return { ...f, ctl, ledger };
    }
    /** A store per test: blocks outlive the chain snapshots loadFixture restores. */
    const newStore = () => new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-evidence-")));
    const label = (x: string) => ({ [id("alice")]: "alice", [id("bob")]: "bob", [id("carol")]: "carol" })[x] ?? x;
    /** Three receipts from bob for `from`, newer than `after`. */
    async function served(f: Awaited<ReturnType<typeof fixture>>, from: string, after: number) {
      const trustManager = await f.trust.getAddress();
      return withReceipts(f.ctl.bob, { trustManager, from, to: id("bob"), terms: TERMS }, records([after + 1, after + 2, after + 3]));
    }

    it("alice rates bob from three interactions; anyone recomputes the same factors and rating", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const r = await rateWithEvidence(
        f.ledger.alice,
        store,
        id("alice"),
        id("bob"),
        TERMS,
        await served(f, id("alice"), (await time.latest()) - 10),
      );
      expect(r.scores.bps).to.deep.equal([6667, 5000, 6667, 5556, 6111, 0]); // bob registered unverified: I = 0
      const v = await verifyRating(f.trust, store, id("alice"), id("bob"), { label });
      expect([v.cid, v.index, v.scores.packed, v.rating]).to.deep.equal([r.cid, 0, r.scores.packed, r.rating]);
    });

    it("tampered block on IPFS: the store re-hashes it against the CID and refuses it", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const r = await rateWithEvidence(
        f.ledger.alice,
        store,
        id("alice"),
        id("bob"),
        TERMS,
        await served(f, id("alice"), (await time.latest()) - 10),
      );
      const file = path.join(store.dir, "blocks", r.cid);
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"failure"', '"success"'));
      await expect(verifyRating(f.trust, store, id("alice"), id("bob"))).to.be.rejectedWith(ContentCorruptedError);
      const intact = newStore(); // an intact copy anywhere (another node, kubo) has the same CID and verifies
      expect(await intact.putJson(r.evidence)).to.equal(r.cid);
      expect((await verifyRating(f.trust, intact, id("alice"), id("bob"))).cid).to.equal(r.cid);
    });

    it("inflated factors: the records give 0.56, alice sends 1.0 with the records' CID", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const tm = f.trust.connect(f.ctl.alice);
      const { buildEvidence } = await import("../../offchain/trust/rater");
      const { evidence } = await buildEvidence(
        tm,
        f.ctl.alice,
        id("alice"),
        id("bob"),
        TERMS,
        await served(f, id("alice"), (await time.latest()) - 10),
      );
      const cid = await store.putJson(evidence);
      await f.ledger.alice.rate(id("alice"), id("bob"), F.packFactors(Array(6).fill(1)), ethers.getBytes(evidenceBlock(evidence).digest));
      await expect(verifyRating(f.trust, store, id("alice"), id("bob"), { label })).to.be.rejectedWith(
        EvidenceError,
        /^verifyEvidence: rating alice -> bob #0: the on-chain factors \[10000, 10000, 10000, 10000, 10000, 10000\] differ/,
      );
      expect(cid).to.equal(evidenceBlock(evidence).cid);
    });

    it("record of another pair: carol attaches alice's record set to her own rating of bob", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const r = await rateWithEvidence(
        f.ledger.alice,
        store,
        id("alice"),
        id("bob"),
        TERMS,
        await served(f, id("alice"), (await time.latest()) - 10),
      );
      await f.ledger.carol.rate(id("carol"), id("bob"), r.scores.packed, ethers.getBytes(evidenceBlock(r.evidence).digest));
      await expect(verifyRating(f.trust, store, id("carol"), id("bob"), { label })).to.be.rejectedWith(
        /rating carol -> bob #0: the records are for the pair alice -> bob/,
      );
      // and alice's receipts in a set carol signs herself
      await time.increase(86_400);
      const rs = await served(f, id("alice"), (await time.latest()) - 10);
      // the chain cannot tell, but carol's own agent checks the set as a verifier will before sending
      // (the unit test above shows the verifier's refusal of such a set)
      await expect(rateWithEvidence(f.ledger.carol, store, id("carol"), id("bob"), TERMS, rs, undefined, label)).to.be.rejectedWith(
        EvidenceError,
        /^buildEvidence: nothing sent: verifyEvidence: rating carol -> bob #1: record 0: the receipt is not bob's/,
      );
      expect((await f.trust.pairOf(id("carol"), id("bob"))).ratings).to.equal(1n);
    });

    it("replayed evidence CID: alice's next rating attaches the first rating's CID", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const r = await rateWithEvidence(
        f.ledger.alice,
        store,
        id("alice"),
        id("bob"),
        TERMS,
        await served(f, id("alice"), (await time.latest()) - 10),
      );
      await time.increase(86_400);
      await f.ledger.alice.rate(id("alice"), id("bob"), r.scores.packed, ethers.getBytes(evidenceBlock(r.evidence).digest));
      await expect(verifyRating(f.trust, store, id("alice"), id("bob"), { label })).to.be.rejectedWith(
        /rating alice -> bob #1: the records were made for rating #0 of this pair \(replayed evidence\)/,
      );
      expect((await verifyRating(f.trust, store, id("alice"), id("bob"), { index: 0 })).cid).to.equal(r.cid); // the first still verifies
    });

    it("missing CID: a typed rating has nothing to recompute", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      await f.ledger.alice.rate(id("alice"), id("bob"), F.packFactors(Array(6).fill(0.9)));
      await expect(verifyRating(f.trust, store, id("alice"), id("bob"), { label })).to.be.rejectedWith(
        EvidenceError,
        /^verifyRating: rating alice -> bob #0 has no evidence attached \(a typed score: unverifiable\)$/,
      );
    });

    it("records later than the chain's time are refused before anything is stored or sent", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const rs = await served(f, id("alice"), (await time.latest()) + 100);
      await expect(rateWithEvidence(f.ledger.alice, store, id("alice"), id("bob"), TERMS, rs)).to.be.rejectedWith(
        EvidenceError,
        /^buildEvidence: record 0 \(time \d+\) is later than the chain's time/,
      );
      expect((await f.trust.pairOf(id("alice"), id("bob"))).ratings).to.equal(0n);
    });

    it("CID not on IPFS: the digest of a record set nobody stored", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const { buildEvidence } = await import("../../offchain/trust/rater");
      const { evidence, scores } = await buildEvidence(
        f.trust.connect(f.ctl.alice),
        f.ctl.alice,
        id("alice"),
        id("bob"),
        TERMS,
        await served(f, id("alice"), (await time.latest()) - 10),
      );
      await f.ledger.alice.rate(id("alice"), id("bob"), scores.packed, ethers.getBytes(evidenceBlock(evidence).digest));
      await expect(verifyRating(f.trust, store, id("alice"), id("bob"), { label })).to.be.rejectedWith(
        new RegExp(`^verifyRating: rating alice -> bob #0: its evidence ${evidenceBlock(evidence).cid} is not on IPFS$`),
      );
    });
  });
});
