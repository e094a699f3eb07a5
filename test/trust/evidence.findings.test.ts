/**
 * Red team session 13 (h13-red): open findings on trust computed from evidence
 * (docs/specs/trust.md §8, "Known findings (h13-red)"). Each test fails while its finding is open:
 * it asserts what the defence should do, and the attack succeeds instead.
 *
 * - E1: the rating agent sends a rating whose receipts it never checked. A provider that hands a
 *   consumer receipts signed by another key (its service key, a rotated key, or on purpose for a
 *   consumer it expects to rate it badly) gets that consumer's rating on-chain *unverifiable for
 *   good*: the records are used up (the next rating must be newer than this one) and the pair
 *   cannot be rated again this epoch. Neither `InteractionLog.record` nor `rateWithEvidence`
 *   checks a receipt against the provider's controller before it counts.
 * - E2: the identity lane is read at the latest block and checked at the rating's block. An
 *   honest rater whose rating is mined after the provider's login lapsed (or after any other
 *   change of `isIdentityVerified(to)`, e.g. a revoked delegation) gets a rating every verifier
 *   refuses, through nothing it did wrong.
 * - E4: a record set of up to 1,000 valid receipts (a Sybil provider signs them for free) costs
 *   every verifier one signature check per receipt on every detector run: the pipeline caches no
 *   verdict, so each such rating (one transaction) is verified again and again.
 * - E6: receipts are checked against the provider's controller at the rating's block, so a
 *   provider that moves its entity to another account (an unattested avatar registered with its
 *   IdP attestation under a second account) voids every receipt it signed before: pending bad
 *   ratings can no longer be backed by evidence.
 * - E3: a malformed record set (a field of the wrong type) makes `verifyRating` throw a
 *   TypeError or an ethers error instead of its one-line EvidenceError naming the pair.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { Wallet, type Signer } from "ethers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { TrustLedger, attestRegistration, type RefusedEvidence } from "../../offchain/trust/ledger";
import { FileContentStore } from "../../offchain/storage/content-store";
import {
  EVIDENCE_TAG,
  EvidenceError,
  type EvidenceTerms,
  type InteractionRecord,
  evidenceBlock,
  evidenceMessage,
} from "../../offchain/trust/evidence";
import { InteractionLog, rateWithEvidence, signReceipt, verifyRating } from "../../offchain/trust/rater";
import { Keystore } from "../../offchain/storage/keystore";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";

const TERMS: EvidenceTerms = { latencyBoundMs: 200, terms: [{ id: "uptime", weight: 1 }] };
const req = (k: number) => ethers.keccak256(ethers.toUtf8Bytes(`h13 request ${k}`));
const newStore = () => new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-h13-evidence-")));
const label = (x: string) => ({ [id("alice")]: "alice", [id("bob")]: "bob", [id("carol")]: "carol" })[x] ?? x;

async function fixture() {
  const f = await deployTrustFixture();
  const { trust, others } = f;
  const ctl = { alice: others[4], bob: others[5], carol: others[6] };
  for (const n of ["alice", "bob", "carol"] as const) await trust.connect(ctl[n]).register(id(n), Kind.Avatar);
  return { ...f, ctl, ledger: new TrustLedger(trust.connect(ctl.alice)) };
}

/** Three failed services of `to` to `from`, each with a receipt signed by `signer`. */
async function failures(tm: string, signer: Signer, from: string, to: string, after: number): Promise<InteractionRecord[]> {
  const out: InteractionRecord[] = [];
  for (let k = 0; k < 3; k++) {
    const r = { seq: k, request: req(k), at: after + 1 + k };
    out.push({
      ...r,
      outcome: "failure",
      latencyMs: 900,
      kept: [false],
      receipt: await signReceipt(signer, { chainId: 31337, trustManager: tm, from, to, ...r, terms: TERMS }),
    });
  }
  return out;
}

describe("h13-red findings: trust from evidence (docs/specs/trust.md §8)", () => {
  describe("# E1: receipts are never checked before they count", () => {
    it("rateWithEvidence refuses receipts that are not the provider's controller's, before anything is sent", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const tm = await f.trust.getAddress();
      // bob served alice badly three times; his "receipts" are signed by a key that is not bob's controller
      const otherKey = Wallet.createRandom();
      const rs = await failures(tm, otherKey, id("alice"), id("bob"), (await time.latest()) - 10);
      const refused = await rateWithEvidence(f.ledger, store, id("alice"), id("bob"), TERMS, rs).then(
        () => false,
        (e: unknown) => {
          if (!(e instanceof EvidenceError)) throw e;
          return true;
        },
      );
      const ratings = (await f.trust.pairOf(id("alice"), id("bob"))).ratings;
      if (!refused) {
        // the damage, as it stands: the bad rating is on-chain and unverifiable for good ...
        await expect(verifyRating(f.trust, store, id("alice"), id("bob"), { label })).to.be.rejectedWith(
          EvidenceError,
          /rating alice -> bob #0: record 0: the receipt is not bob's/,
        );
        // ... the detectors count it as unevidenced (capped with the typed ratings: bob's foreign-key
        // receipts shield him from every consumer who does not check them) ...
        const refusedByPipeline: RefusedEvidence[] = [];
        const seen = await f.ledger.ratings(0, { store, refused: refusedByPipeline });
        expect(seen.map((x) => x.evidence)).to.deep.equal([false]);
        expect(refusedByPipeline[0].reason).to.match(/the receipt is not/);
        // ... and alice cannot rate bob again this epoch (nor reuse the records: they predate the rating)
        await expect(f.ledger.rate(id("alice"), id("bob"), 0n)).to.be.rejectedWith(/RatedThisEpoch|rated .*this epoch/i);
      }
      expect(
        { refused, ratings },
        "E1: alice's agent sent a rating whose receipts it never checked: bob (or whoever signed for him) made it unverifiable",
      ).to.deep.equal({ refused: true, ratings: 0n });
    });

    it("InteractionLog.record refuses a receipt that the provider's controller did not sign", async () => {
      const f = await loadFixture(fixture);
      const ks = new Keystore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-h13-log-")), "h13-test-passphrase");
      const log = new InteractionLog(ks);
      const at = (await time.latest()) - 5;
      const obs = { request: "r0", at, outcome: "success" as const, latencyMs: 10, kept: [true] };
      // carol's account signs "bob's" receipt: the log keeps it as evidence of bob's service
      const logged = await log.record(f.trust, f.ctl.carol, id("alice"), id("bob"), TERMS, obs).then(
        () => true,
        (e: unknown) => {
          if (!(e instanceof EvidenceError)) throw e;
          return false;
        },
      );
      expect(logged, "E1: a receipt not signed by bob's controller was logged as bob's").to.equal(false);
      expect(log.get(id("alice"), id("bob"))?.records.length ?? 0).to.equal(0);
    });
  });

  describe("# E2: the identity lane races the rating's block", () => {
    /** fox: a logged-in avatar of a person (login until notAfter), registered with the IdP's attestation. */
    async function loggedInFox(f: Awaited<ReturnType<typeof fixture>>) {
      const idp = f.msrp; // holds IDP_ROLE on the MITRegistry in the system fixture
      const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, idp);
      const h = (s: string) => keccak256(new TextEncoder().encode(`h13-e2:${s}`));
      const serial = h("serial");
      await mit.issueMIT(toHex(serial), toHex(h("key")), "bafy-params");
      const fox = toHex(avatarIdOf(serial, "fox"));
      const notAfter = (await time.latest()) + 3600;
      await mit.recordLogin(fox, toHex(serial), toHex(h("warrant")), toHex(h("vid")), notAfter);
      const foxCtl = Wallet.createRandom().connect(ethers.provider);
      await setBalance(foxCtl.address, 10n ** 20n);
      const deadline = BigInt(await time.latest()) + 3600n;
      const att = await attestRegistration(idp, f.trust, fox, "avatar", foxCtl.address, deadline);
      await f.trust.connect(foxCtl).registerAttested(fox, Kind.Avatar, deadline, att);
      expect(await f.trust.isIdentityVerified(fox)).to.equal(true);
      return { fox, foxCtl, notAfter };
    }

    it("control: the same rating mined well inside fox's login verifies (the harness can pass)", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const { fox, foxCtl } = await loggedInFox(f);
      const rs = await failures(await f.trust.getAddress(), foxCtl, id("alice"), fox, (await time.latest()) - 10);
      const r = await rateWithEvidence(f.ledger, store, id("alice"), fox, TERMS, rs);
      expect((await verifyRating(f.trust, store, id("alice"), fox)).scores.packed).to.equal(r.scores.packed);
    });

    it("an honest rating mined just after the provider's login lapsed still verifies", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const { fox, foxCtl, notAfter } = await loggedInFox(f);
      // alice's three interactions with fox, receipts by fox's controller
      const tm = await f.trust.getAddress();
      const rs = await failures(tm, foxCtl, id("alice"), fox, (await time.latest()) - 10);
      // the last block inside fox's login: alice's agent reads identity 1, her rating lands one block later
      await time.increaseTo(notAfter);
      expect(await f.trust.isIdentityVerified(fox)).to.equal(true);
      const r = await rateWithEvidence(f.ledger, store, id("alice"), fox, TERMS, rs);
      expect(r.scores.bps[5]).to.equal(10_000);
      // nothing alice did is wrong: the receipts are fox's, the records are hers, the rating is what they give
      const verdict = await verifyRating(f.trust, store, id("alice"), fox).then(
        () => "verified",
        (e: Error) => e.message,
      );
      expect(verdict, "E2: alice's honest rating of fox is refused by every verifier").to.equal("verified");
    });
  });

  describe("# E4: verification work is unbounded per attacker transaction", () => {
    it("the detection pipeline verifies a record set once, not again on every run", async () => {
      // mallory rates her own Sybil provider (two free registrations, two accounts) with a full
      // record set: every receipt is valid, so a verifier checks them all (1,000 records cost about
      // 6 s of CPU at load 3.5, 12 ms for one record: the h13-red report). The pipeline re-reads
      // and re-verifies every record set from block 0 on each run, so each such rating (one
      // transaction, ~60k gas) costs every detector run its full verification again, for good.
      const f = await loadFixture(fixture);
      const [mallory, sybil] = [f.others[7], f.others[8]];
      await f.trust.connect(mallory).register(id("mallory"), Kind.Avatar);
      await f.trust.connect(sybil).register(id("sybil"), Kind.Avatar);
      const counted = newStore();
      let reads = 0;
      const getJson = counted.getJson.bind(counted);
      counted.getJson = (async (cid: string) => {
        reads++;
        return getJson(cid);
      }) as typeof counted.getJson;
      const tm = await f.trust.getAddress();
      const after = (await time.latest()) - 100;
      const rs: InteractionRecord[] = [];
      for (let k = 0; k < 20; k++) {
        const r = { seq: k, request: req(k), at: after + 1 + k };
        rs.push({
          ...r,
          outcome: "success",
          latencyMs: 10,
          kept: [true],
          receipt: await signReceipt(sybil, { chainId: 31337, trustManager: tm, from: id("mallory"), to: id("sybil"), ...r, terms: TERMS }),
        });
      }
      await rateWithEvidence(new TrustLedger(f.trust.connect(mallory)), counted, id("mallory"), id("sybil"), TERMS, rs);
      const detector = new TrustLedger(f.trust);
      const first = await detector.ratings(0, { store: counted });
      expect(first.map((x) => x.evidence)).to.deep.equal([true]); // valid evidence: every receipt was checked
      const readsFirst = reads;
      await detector.ratings(0, { store: counted }); // the next detector run, nothing new on-chain
      expect(
        { firstRun: readsFirst, secondRun: reads - readsFirst },
        "E4: the second run fetched and verified the same record set again (no verdict cache, no per-set bound)",
      ).to.deep.equal({ firstRun: 1, secondRun: 0 });
    });
  });

  describe("# E6: a provider voids its outstanding receipts by moving its entity to another account", () => {
    it("receipts its controller signed before the move still count in a rating after it", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const idp = f.msrp; // holds IDP_ROLE on the MITRegistry in the system fixture
      const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, idp);
      const h = (s: string) => keccak256(new TextEncoder().encode(`h13-e6:${s}`));
      const serial = h("serial");
      await mit.issueMIT(toHex(serial), toHex(h("key")), "bafy-params");
      const owl = toHex(avatarIdOf(serial, "owl"));
      const [k1, k2] = [Wallet.createRandom().connect(ethers.provider), Wallet.createRandom().connect(ethers.provider)];
      for (const k of [k1, k2]) await setBalance(k.address, 10n ** 20n);
      // owl's owner registers it with account k1 (not logged in: a plain registration) and serves alice badly
      await f.trust.connect(k1).register(owl, Kind.Avatar);
      const rs = await failures(await f.trust.getAddress(), k1, id("alice"), owl, (await time.latest()) - 10);
      // then she logs owl in and registers it with the IdP's attestation under her other account k2
      await mit.recordLogin(owl, toHex(serial), toHex(h("warrant")), toHex(h("vid")), (await time.latest()) + 86_400);
      const deadline = BigInt(await time.latest()) + 3600n;
      const att = await attestRegistration(idp, f.trust, owl, "avatar", k2.address, deadline);
      await f.trust.connect(k2).registerAttested(owl, Kind.Avatar, deadline, att);
      expect((await f.trust.entity(owl)).controller).to.equal(k2.address);
      // alice's rating from the receipts k1 signed while it was owl's controller
      await rateWithEvidence(f.ledger, store, id("alice"), owl, TERMS, rs);
      const verdict = await verifyRating(f.trust, store, id("alice"), owl).then(
        () => "verified",
        (e: Error) => e.message,
      );
      expect(verdict, "E6: owl's move to k2 voided every receipt k1 signed: alice's bad rating is unverifiable").to.equal("verified");
    });
  });

  describe("# E3: malformed record sets get a one-line EvidenceError", () => {
    for (const [field, value] of [
      ["trustManager", 7],
      ["rater", "not-an-address"],
      // a string that is not an address, echoed into the error: a second line and a terminal escape
      ["trustManager", "0x11\n\u001b[32mverifyRating: rating alice -> bob #0 verified\u001b[0m"],
    ] as const) {
      it(`a record set whose ${field} is ${JSON.stringify(value)}: verifyRating names the rating`, async () => {
        const f = await loadFixture(fixture);
        const store = newStore();
        const tm = await f.trust.getAddress();
        const rs = await failures(tm, f.ctl.bob, id("alice"), id("bob"), (await time.latest()) - 10);
        const u = {
          type: EVIDENCE_TAG,
          chainId: 31337,
          trustManager: tm.toLowerCase(),
          from: id("alice"),
          to: id("bob"),
          nonce: 0,
          after: 0,
          agreement: TERMS,
          identity: 0,
          records: rs,
          rater: f.ctl.alice.address.toLowerCase(),
          [field]: value,
        };
        const doc = { ...u, signature: await f.ctl.alice.signMessage(evidenceMessage(u as never)) };
        await store.putJson(doc);
        await f.ledger.rate(id("alice"), id("bob"), 0n, ethers.getBytes(evidenceBlock(doc as never).digest));
        const err = await verifyRating(f.trust, store, id("alice"), id("bob"), { label }).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err, "the malformed set must be refused").to.not.equal(undefined);
        expect(
          { evidenceError: err instanceof EvidenceError, message: err!.message.split("\n")[0] },
          `E3: a malformed ${field} escapes as ${err!.constructor.name}`,
        ).to.deep.include({ evidenceError: true });
        expect(err!.message).to.match(/rating alice -> bob #0/);
        expect(err!.message, "E3: the error is not one line: the record set's text is echoed into it").to.satisfy(
          (m: string) => !m.includes("\n") && !m.includes("\u001b"),
        );
      });
    }
  });
});
