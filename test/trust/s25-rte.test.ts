/**
 * s25-rte: outside red team of the trust evidence and the detector/oracle services (paper 4), and
 * the guards of its five findings (fixed in s25-fxe; docs/specs/trust.md §8.1, §8.5, §8.6). Each
 * finding's `it` failed on the code as it stood and passes with its fix; each was run with its fix
 * reverted and fails then. Controls (named "control:") pass either way.
 *   nice -n 19 npx hardhat test test/trust/s25-rte.test.ts
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { Wallet, type Signer } from "ethers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import * as F from "../../offchain/trust/fixed";
import { TrustLedger, type RefusedEvidence } from "../../offchain/trust/ledger";
import { FileContentStore, type KuboContentStore } from "../../offchain/storage/content-store";
import { fakeKubo } from "../helpers/fake-kubo";
import { runDetectors } from "../../offchain/trust/pipeline";
import { DetectorService } from "../../offchain/services/trust/detector-service";
import { TrustManager__factory } from "../../typechain-types";
import {
  EVIDENCE_TAG,
  type EvidenceTerms,
  type RatingEvidence,
  evidenceBlock,
  evidenceFactors,
  evidenceMessage,
} from "../../offchain/trust/evidence";
import { InteractionLog, rateWithEvidence, verifyRating } from "../../offchain/trust/rater";
import { EvidenceError } from "../../offchain/trust/evidence";
import { Keystore } from "../../offchain/storage/keystore";
import { withReceipts } from "../helpers/receipts";

const TERMS: EvidenceTerms = { latencyBoundMs: 200, terms: [{ id: "uptime", weight: 1 }] };
const req = (k: number) => ethers.keccak256(ethers.toUtf8Bytes(`s25-rte request ${k}`));

/** alice and bob registered plainly (bob unverified), with their controllers. */
async function pairWorld() {
  const f = await deployTrustFixture();
  const ctl = { alice: f.others[4], bob: f.others[5] };
  await f.trust.connect(ctl.alice).register(id("alice"), Kind.Avatar);
  await f.trust.connect(ctl.bob).register(id("bob"), Kind.Avatar);
  return { ...f, ctl };
}

/** A record set signed by `rater`, with the fields given (the rest as buildEvidence makes them). */
async function signedSet(
  f: Awaited<ReturnType<typeof pairWorld>>,
  rater: Signer,
  fields: Pick<RatingEvidence, "records" | "identity" | "identityBlock"> & Partial<RatingEvidence>,
): Promise<RatingEvidence> {
  const unsigned = {
    type: EVIDENCE_TAG,
    chainId: Number((await ethers.provider.getNetwork()).chainId),
    trustManager: (await f.trust.getAddress()).toLowerCase(),
    from: id("alice"),
    to: id("bob"),
    nonce: 0,
    after: 0,
    agreement: TERMS,
    rater: (await rater.getAddress()).toLowerCase(),
    ...fields,
  } as Omit<RatingEvidence, "signature">;
  return { ...unsigned, signature: await rater.signMessage(evidenceMessage(unsigned)) } as RatingEvidence;
}

/** Two kubo daemons, peered (docs/deploy.md), as the red team modelled them: test/helpers/fake-kubo.ts. */
function peeredKubo(): { a: KuboContentStore; b: KuboContentStore } {
  const [a, b] = fakeKubo(2).stores;
  return { a, b };
}

const tmpDir = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), `s25-rte-${p}-`));

describe("s25-rte (outside red team: trust evidence, detector and oracle services), fixed", function () {
  this.timeout(600_000);

  describe("# D1: the detector service decides 'nothing new' by the number of ratings", () => {
    /**
     * ann, ben, cat, dan verified and rating each other 0.9; a squatter's plain `fox` rates ann, cat
     * and dan 0.9 (three benign ratings). The detector service runs. Then alice (fox's owner)
     * reclaims fox: fox's three ratings leave the present era (ledger.ratings drops them), and eve,
     * unverified, bad-mouths ann, cat and dan with three ratings: the count is what it was.
     */
    async function world() {
      const f = await deployTrustFixture();
      const { login, account, attest, fox } = await avatarOwner(f, "s25-rte-d1");
      const names = ["ann", "ben", "cat", "dan", "eve"];
      const signer = (k: number) => f.others[1 + k];
      for (const [k, n] of names.entries()) {
        await f.trust.connect(signer(k)).register(id(n), Kind.Avatar);
        if (n !== "eve") await f.trust.setIdentityVerified(id(n), true);
      }
      const squatter = await account();
      await f.trust.connect(squatter).register(fox, Kind.Avatar);
      const rate = (who: Signer, from: string, to: string, score: number) =>
        new TrustLedger(f.trust.connect(who)).rate(from, to, F.packFactors(Array(6).fill(score)));
      for (const target of ["ann", "cat", "dan"]) {
        for (const k of [1, 2, 3, 0]) if (names[k] !== target) await rate(signer(k), id(names[k]), id(target), 0.9);
        await rate(squatter, fox, id(target), 0.9);
      }
      const wallet = Wallet.createRandom().connect(ethers.provider) as unknown as Wallet;
      await setBalance(wallet.address, 10n ** 20n);
      await (await f.trust.grantRole(await f.trust.DETECTOR_ROLE(), wallet.address)).wait();
      const dir = tmpDir("d1");
      const svc = new DetectorService({
        ledger: new TrustLedger(TrustManager__factory.connect(await f.trust.getAddress(), wallet)),
        store: new FileContentStore(path.join(dir, "ipfs")),
        wallet,
        chainId: (await ethers.provider.getNetwork()).chainId,
        dir: path.join(dir, "service"),
        intervalMs: 0,
        log: () => undefined,
      });
      const first = await svc.detect();
      // alice reclaims fox (her MIT's avatar): the squatter's three ratings are another era's now
      const alice = await account();
      await login(fox);
      const at = await attest(fox, alice);
      await f.trust.connect(alice).registerAttested(fox, Kind.Avatar, at.deadline, at.a);
      for (const target of ["ann", "cat", "dan"]) await rate(signer(4), id("eve"), id(target), 0.05);
      await time.increase(2 * 3600); // past FLAG_RUN_SPACING: a flag run may begin
      return { f, svc, first };
    }

    it("D1 (M): after a reclaim, as many new ratings as left the era are never examined (eve's bad-mouthing escapes every run)", async () => {
      const { f, svc, first } = await world();
      expect((await f.trust.entity(id("eve"))).flags, "setup: the first run did not flag eve").to.equal(0n);
      const run = await svc.detect(); // what /v1/detect and the interval timer call
      // control: the detectors over the same chain find eve (the world has a detection to make)
      const fresh = await runDetectors(new TrustLedger(f.trust.connect(f.detector)), new FileContentStore(tmpDir("d1c")), { flag: false });
      expect(fresh.ratings, "control: the reclaim and eve's ratings leave the count as it was").to.equal(first.ratings);
      expect(
        fresh.detections.map((d) => d.entity),
        "control: a run now detects eve",
      ).to.include(id("eve"));
      // the finding
      expect(run.block, "the chain moved (a reclaim and three new ratings): the detector must run again").to.be.greaterThan(first.block);
      expect((await f.trust.entity(id("eve"))).flags, "eve's bad-mouthing must be flagged").to.not.equal(0n);
    });
  });

  describe("# E1: the identity lane may be read at a block before every record", () => {
    it("E1 (L/M): a rater names a block before the provider was verified, rates all-after-verification service with identity 0, and verification accepts it", async () => {
      const f = await pairWorld();
      const store = new FileContentStore(tmpDir("e1"));
      const before = await ethers.provider.getBlockNumber(); // bob unverified here
      expect(await f.trust.isIdentityVerified(id("bob"), { blockTag: before })).to.equal(false);
      await f.trust.setIdentityVerified(id("bob"), true); // bob verified from the next block on
      const verifiedAt = await time.latest();
      await time.increase(60);
      // three kept, fast services, every one after bob's verification, receipted by bob's controller
      const records = await withReceipts(
        f.ctl.bob,
        { trustManager: await f.trust.getAddress(), from: id("alice"), to: id("bob"), terms: TERMS },
        [0, 1, 2].map((k) => ({
          seq: k,
          request: req(k),
          at: verifiedAt + 10 + k,
          outcome: "success" as const,
          latencyMs: 10,
          kept: [true],
        })),
      );
      // alice names the block before the verification (well inside MAX_IDENTITY_LAG of the rating)
      const set = await signedSet(f, f.ctl.alice, { records, identity: 0, identityBlock: before });
      const scores = evidenceFactors(records, TERMS, false);
      const cid = await store.putJson(set);
      expect(cid).to.equal(evidenceBlock(set).cid);
      await new TrustLedger(f.trust.connect(f.ctl.alice)).rate(
        id("alice"),
        id("bob"),
        scores.packed,
        Uint8Array.from(Buffer.from(evidenceBlock(set).digest.slice(2), "hex")),
      );
      // control: bob was verified at every record's time and at the rating; the honest lane is 1
      expect(await f.trust.isIdentityVerified(id("bob"))).to.equal(true);
      expect(evidenceFactors(records, TERMS, true).bps[5]).to.equal(10_000);
      expect(scores.bps[5]).to.equal(0);
      // the finding: every verifier (verifyRating, the detectors' ledger) accepts identity 0
      const verdict = await verifyRating(f.trust, store, id("alice"), id("bob")).then(
        (v) => `accepted with identity lane ${v.scores.bps[5]}`,
        (e: Error) => e.message,
      );
      expect(verdict, "a set whose identity block precedes its records must be refused").to.not.match(/^accepted/);
      expect(verdict).to.match(/identity/);
    });
  });

  describe("# L1: the rater's interaction log is not per era", () => {
    it("L1 (M): after the provider's id is reclaimed, the consumer's log keeps the squatter-era records: every rating from the log is refused, and new terms cannot be logged", async () => {
      const f = await deployTrustFixture();
      const { login, account, attest, fox } = await avatarOwner(f, "s25-rte-l1");
      const aliceCtl = f.others[4];
      await f.trust.connect(aliceCtl).register(id("alice"), Kind.Avatar);
      const squatter = await account();
      await f.trust.connect(squatter).register(fox, Kind.Avatar); // before its owner logs it in
      const log = new InteractionLog(new Keystore(tmpDir("l1-ks"), "s25-rte-l1-passphrase"));
      const store = new FileContentStore(tmpDir("l1-ipfs"));
      const ledger = new TrustLedger(f.trust.connect(aliceCtl));
      const obs = (k: number, at: number) => ({ request: `l1 request ${k}`, at, outcome: "success" as const, latencyMs: 10, kept: [true] });
      // alice uses fox while the squatter holds it: two interactions, receipted by the squatter
      for (const k of [0, 1]) await log.record(f.trust, squatter, id("alice"), fox, TERMS, obs(k, (await time.latest()) + 1));
      // fox's owner takes it back (a reclaim: a new era, the pair starts afresh)
      const owner = await account();
      await login(fox);
      const at = await attest(fox, owner);
      await f.trust.connect(owner).registerAttested(fox, Kind.Avatar, at.deadline, at.a);
      await time.increase(30);
      // the owner serves alice, under the same terms: logged after the squatter's records (as
      // trust:interact does: the log settled with the chain first)
      const notices: string[] = [];
      await log.settle(f.trust, id("alice"), fox, (l) => notices.push(l));
      for (const k of [2, 3]) await log.record(f.trust, owner, id("alice"), fox, TERMS, obs(k, (await time.latest()) + 1));
      // what trust:rate does: drop what the chain says is spent, rate the rest
      const rateFromLog = async () => {
        const pending = (await log.settle(f.trust, id("alice"), fox, (l) => notices.push(l)))!; // spent dropped, past eras set aside
        return rateWithEvidence(ledger, store, id("alice"), fox, pending.agreement, pending.records).then(
          () => "rated",
          (e: Error) => e.message,
        );
      };
      const first = await rateFromLog(); // refused now, and so is every retry (nothing on the chain moves the prune)
      // and the owner's new terms cannot even be logged while the stale records are pending
      const newTerms: EvidenceTerms = { latencyBoundMs: 100, terms: [{ id: "uptime", weight: 2 }] };
      await log.settle(f.trust, id("alice"), fox); // as trust:interact does first
      const logged = await log.record(f.trust, owner, id("alice"), fox, newTerms, obs(4, (await time.latest()) + 1)).then(
        () => "logged",
        (e: Error) => e.message,
      );
      expect({ first, logged }, "alice, honest, must be able to rate the owner's service from her log").to.deep.equal({
        first: "rated",
        logged: "logged",
      });
      // the squatter-era records were set aside with one notice, and kept for audit (never rated)
      expect(notices).to.have.length(1);
      expect(notices[0]).to.match(/2 logged record\(s\) are of an earlier era/);
      expect(log.get(id("alice"), fox)!.past?.flatMap((p) => p.records.map((r) => r.seq))).to.deep.equal([0, 1]);
      // a retry (the reply lost) changes nothing: the same pending log, no second notice
      const again = await log.settle(f.trust, id("alice"), fox, (l) => notices.push(l));
      expect(again!.records.map((r) => r.seq)).to.deep.equal([4]);
      expect(notices).to.have.length(1);
    });
  });

  describe("# K1: the kubo store never fetches a block from the IPFS network", () => {
    it("control: the daemon that stored a record set reads it back", async () => {
      const { a } = peeredKubo();
      const cid = await a.putJson({ type: "metatrust/rating-evidence/v1", n: 1 });
      expect(await a.getJson(cid)).to.deep.equal({ type: "metatrust/rating-evidence/v1", n: 1 });
    });

    it("K1 (M): a verifier or detector on another peered kubo node cannot fetch a rater's record set (`has` is offline-only and `get` refuses what `has` does not see)", async () => {
      const { a, b } = peeredKubo();
      const cid = await a.putJson({ type: "metatrust/rating-evidence/v1", n: 1 }); // the rater's node
      const got = await b.getJson(cid).then(
        (v) => v,
        (e: Error) => `${e.constructor.name}: ${e.message}`,
      );
      // verifyRating and TrustLedger.ratings ask `has` first: "its evidence ... is not on IPFS", and
      // the detectors then count every remote rater's evidenced rating as unevidenced (capped)
      expect(got, "a block the IPFS network serves must be fetched (verified against its CID)").to.deep.equal({
        type: "metatrust/rating-evidence/v1",
        n: 1,
      });
    });
  });

  describe("# K1 (fix): every evidence reader fetches through the daemon, and an unfetchable set has a budget", () => {
    /** alice rates bob with evidence stored through `store` (her node). */
    async function ratedWithEvidence(store: KuboContentStore | FileContentStore) {
      const f = await pairWorld();
      const t0 = await time.latest();
      const records = await withReceipts(
        f.ctl.bob,
        { trustManager: await f.trust.getAddress(), from: id("alice"), to: id("bob"), terms: TERMS },
        [0, 1].map((k) => ({ seq: k, request: req(k), at: t0 - 5 + k, outcome: "success" as const, latencyMs: 10, kept: [true] })),
      );
      await rateWithEvidence(new TrustLedger(f.trust.connect(f.ctl.alice)), store, id("alice"), id("bob"), TERMS, records);
      return f;
    }

    it("K1: verifyRating and the detectors' ledger on another peered node fetch the rater's record set and verify it", async () => {
      const { a, b } = peeredKubo();
      const f = await ratedWithEvidence(a);
      const v = await verifyRating(f.trust, b, id("alice"), id("bob")).then(
        (x) => `verified ${x.scores.bps[0]}`,
        (e: Error) => e.message,
      );
      expect(v, "verifyRating on the other node").to.equal("verified 10000");
      const refused: RefusedEvidence[] = [];
      const rs = await new TrustLedger(f.trust.connect(f.detector)).ratings(0, { store: b, refused });
      expect(refused, "the detectors' ledger on the other node").to.deep.equal([]);
      expect(rs.map((r) => r.evidence)).to.deep.equal([true]);
    });

    it("K1: a record set nobody serves counts as unevidenced and is not fetched again on the next run (backoff), nor past the run's budget", async () => {
      const f = await ratedWithEvidence(new FileContentStore(tmpDir("k1-rater")));
      const empty = new FileContentStore(tmpDir("k1-empty")); // the detector's store never gets the block
      let gets = 0;
      const counting = Object.assign(Object.create(empty) as FileContentStore, {
        get: (cid: string, o?: { timeoutMs?: number }) => {
          gets++;
          return empty.get(cid, o);
        },
      });
      const ledger = new TrustLedger(f.trust.connect(f.detector));
      for (const run of [1, 2]) {
        const refused: RefusedEvidence[] = [];
        const rs = await ledger.ratings(0, { store: counting, refused });
        expect(
          rs.map((r) => r.evidence),
          `run ${run}: unevidenced`,
        ).to.deep.equal([false]);
        expect(refused.map((r) => r.reason)[0]).to.match(/is not on IPFS/);
      }
      expect(gets, "fetched once, then left to its backoff").to.equal(1);
      // a spent budget: not fetched at all (a fresh ledger, no backoff yet)
      const refused: RefusedEvidence[] = [];
      await new TrustLedger(f.trust.connect(f.detector)).ratings(0, { store: counting, refused, fetchBudgetMs: 0 });
      expect(gets).to.equal(1);
      expect(refused[0].reason).to.match(/time for unfetchable evidence is spent/);
    });
  });

  describe("# E2: a record set naming a block before the TrustManager existed", () => {
    it("E2 (L): verifyRating throws the node's decode error instead of a one-line refusal, and the detectors never cache the verdict (re-read on every run)", async () => {
      const f = await pairWorld();
      const store = new FileContentStore(tmpDir("e2"));
      const code1 = await ethers.provider.getCode(await f.trust.getAddress(), 1);
      expect(code1, "setup: no TrustManager at block 1").to.equal("0x");
      await time.increase(60);
      const t0 = await time.latest();
      const records = await withReceipts(
        f.ctl.bob,
        { trustManager: await f.trust.getAddress(), from: id("alice"), to: id("bob"), terms: TERMS },
        [0, 1].map((k) => ({ seq: k, request: req(k), at: t0 - 5 + k, outcome: "failure" as const, latencyMs: 10, kept: [false] })),
      );
      const set = await signedSet(f, f.ctl.alice, { records, identity: 0, identityBlock: 1 });
      await store.putJson(set);
      await new TrustLedger(f.trust.connect(f.ctl.alice)).rate(
        id("alice"),
        id("bob"),
        evidenceFactors(records, TERMS, false).packed,
        Uint8Array.from(Buffer.from(evidenceBlock(set).digest.slice(2), "hex")),
      );
      const err = await verifyRating(f.trust, store, id("alice"), id("bob")).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err, "the set must be refused").to.not.equal(undefined);
      // the detectors' view: the verdict is a fact about the set and the chain, so it must be final (cached)
      const refused: RefusedEvidence[] = [];
      const ledger = new TrustLedger(f.trust.connect(f.detector));
      await ledger.ratings(0, { store, refused });
      const cached = (ledger as unknown as { verdicts: Map<string, unknown> }).verdicts.size;
      expect(
        {
          type: err?.constructor.name,
          oneLine: !String(err?.message).includes("\n"),
          names: /identity/.test(String(err?.message)),
          cached,
        },
        `verifyRating said: ${String(err?.message).slice(0, 160)}`,
      ).to.deep.equal({ type: EvidenceError.name, oneLine: true, names: true, cached: 1 });
    });
  });
});
