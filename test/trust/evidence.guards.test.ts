/**
 * Guards for the red team's findings on trust computed from evidence (session 13, h13-red;
 * docs/specs/trust.md §8.5-§8.6). Each test was a finding that failed; it now asserts the defence:
 *
 * - E1: the rating agent checks every receipt against the provider's controller when it logs it
 *   (`InteractionLog.record`) and verifies the whole record set as a verifier will before it
 *   stores or sends anything (`buildEvidence`): a provider that signs with a foreign key cannot
 *   make a consumer's rating unverifiable, spend its records or lock the pair.
 * - E2: the set names the block the rater read the identity lane at; verifiers read it there (a
 *   block before the rating, at most MAX_IDENTITY_LAG seconds older, or older with the registry
 *   saying the same at the rating), so a rating mined just after the provider's login ended still
 *   verifies, a rating mined an hour late verifies if the lane did not change, and one whose lane
 *   changed is refused.
 * - E4: a verdict on an attached set is cached by (digest, pair, index, block hash): the pipeline
 *   verifies a set once; and a set holds at most MAX_RECORDS (100) records.
 * - E6: receipts are checked against the provider's controller at each record's time (its
 *   `EntityRegistered` history), so a move to another account does not void receipts.
 * - E3: every field of a set is shape-checked before use, and no unchecked text is echoed into an
 *   error (one line, no terminal escapes).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { Wallet, type Signer } from "ethers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { TrustLedger, attestRegistration } from "../../offchain/trust/ledger";
import { FileContentStore } from "../../offchain/storage/content-store";
import {
  EVIDENCE_TAG,
  EvidenceError,
  type EvidenceTerms,
  type InteractionRecord,
  MAX_IDENTITY_LAG,
  MAX_RECORDS,
  type RatingContext,
  type RatingEvidence,
  evidenceBlock,
  evidenceMessage,
  show,
  verifyEvidence,
} from "../../offchain/trust/evidence";
import { InteractionLog, rateWithEvidence, verifyRating } from "../../offchain/trust/rater";
import { Keystore } from "../../offchain/storage/keystore";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";
import { type Unsigned, withReceipts } from "../helpers/receipts";

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
  const rs = [0, 1, 2].map((k) => ({
    seq: k,
    request: req(k),
    at: after + 1 + k,
    outcome: "failure" as const,
    latencyMs: 900,
    kept: [false],
  }));
  return withReceipts(signer, { trustManager: tm, from, to, terms: TERMS }, rs);
}

/** `n` kept, fast services with seqs from 0 and times from `after` + 1 (no receipt yet). */
const successes = (n: number, after: number): Unsigned[] =>
  Array.from({ length: n }, (_, k) => ({
    seq: k,
    request: req(k),
    at: after + 1 + k,
    outcome: "success" as const,
    latencyMs: 10,
    kept: [true],
  }));

describe("evidence guards (red team session 13, h13-red; docs/specs/trust.md §8)", () => {
  describe("# E1: receipts are checked before they count", () => {
    it("rateWithEvidence refuses receipts that are not the provider's controller's, before anything is stored or sent", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const tm = await f.trust.getAddress();
      // bob served alice badly three times; his "receipts" are signed by a key that is not bob's controller
      const otherKey = Wallet.createRandom();
      const rs = await failures(tm, otherKey, id("alice"), id("bob"), (await time.latest()) - 10);
      const put = store.putJson.bind(store);
      let stored = 0;
      store.putJson = (async (v: unknown) => (stored++, put(v))) as typeof store.putJson;
      // without the pre-flight check the rating would go out unverifiable for good (records spent,
      // pair locked for the epoch, counted unevidenced by the detectors)
      await expect(rateWithEvidence(f.ledger, store, id("alice"), id("bob"), TERMS, rs, undefined, label)).to.be.rejectedWith(
        EvidenceError,
        /^buildEvidence: nothing sent: verifyEvidence: rating alice -> bob #0: record 0: the receipt is not bob's \(signed by 0x[0-9a-fA-F]{40}\)[^\n]*$/,
      );
      expect(
        { ratings: (await f.trust.pairOf(id("alice"), id("bob"))).ratings, stored },
        "E1: alice's agent must refuse, before sending, a set whose receipts are not bob's",
      ).to.deep.equal({ ratings: 0n, stored: 0 });
      // alice can still rate bob this epoch, from receipts bob's controller signs
      const good = await failures(tm, f.ctl.bob, id("alice"), id("bob"), (await time.latest()) - 10);
      await rateWithEvidence(f.ledger, store, id("alice"), id("bob"), TERMS, good);
      expect((await verifyRating(f.trust, store, id("alice"), id("bob"))).index).to.equal(0);
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
      expect(logged, "E1: a receipt not signed by bob's controller must not be logged as bob's").to.equal(false);
      await expect(log.record(f.trust, f.ctl.carol, id("alice"), id("bob"), TERMS, obs, label)).to.be.rejectedWith(
        EvidenceError,
        /^InteractionLog.record: bob's receipt is signed by 0x[0-9a-fA-F]{40}, not by its controller 0x[0-9a-fA-F]{40}; nothing logged$/,
      );
      expect(log.get(id("alice"), id("bob"))?.records.length ?? 0).to.equal(0);
    });
  });

  describe("# E2: the identity lane is read at a block the set names", () => {
    /** fox: a logged-in avatar of a person (login until notAfter), registered with the IdP's attestation. */
    async function loggedInFox(f: Awaited<ReturnType<typeof fixture>>, ttl = 3600) {
      const idp = f.msrp; // holds IDP_ROLE on the MITRegistry in the system fixture
      const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, idp);
      const h = (s: string) => keccak256(new TextEncoder().encode(`h13-e2:${s}`));
      const serial = h("serial");
      await mit.issueMIT(toHex(serial), toHex(h("key")), "bafy-params");
      const fox = toHex(avatarIdOf(serial, "fox"));
      const notAfter = (await time.latest()) + ttl;
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
      expect(verdict, "E2: alice's honest rating of fox must verify").to.equal("verified");
    });

    it("a rating mined more than an hour after its set was built verifies when the registry still says the same at the rating (a quiet chain, a slow mempool)", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const { fox, foxCtl } = await loggedInFox(f, 10 * MAX_IDENTITY_LAG);
      const tm = await f.trust.getAddress();
      const verdict = (from: string) =>
        verifyRating(f.trust, store, from, fox).then(
          (v) => v.scores.packed,
          (e: Error) => e.message,
        );
      // a quiet chain: nothing mined for two hours, so the latest block alice's agent reads (and
      // names) is two hours older than the block her rating lands in
      const rs = await failures(tm, foxCtl, id("alice"), fox, (await time.latest()) - 10);
      await ethers.provider.send("evm_increaseTime", [2 * MAX_IDENTITY_LAG]);
      const quiet = await rateWithEvidence(f.ledger, store, id("alice"), fox, TERMS, rs);
      expect(await verdict(id("alice")), "a rating on a chain that mined nothing for an hour must verify").to.equal(quiet.scores.packed);
      // a slow mempool: blocks are mined for more than an hour between carol's set and her rating
      const cs = await failures(tm, foxCtl, id("carol"), fox, (await time.latest()) - 10);
      const put = store.putJson.bind(store);
      store.putJson = (async (v: unknown) => {
        await time.increase(MAX_IDENTITY_LAG + 60);
        return put(v);
      }) as typeof store.putJson;
      const late = await rateWithEvidence(new TrustLedger(f.trust.connect(f.ctl.carol)), store, id("carol"), fox, TERMS, cs);
      expect(await verdict(id("carol")), "a rating mined an hour after its set, the lane unchanged, must verify").to.equal(
        late.scores.packed,
      );
    });

    it("a rating mined more than an hour after its set was built is refused when the lane changed meanwhile", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const { fox, foxCtl, notAfter } = await loggedInFox(f);
      const rs = await failures(await f.trust.getAddress(), foxCtl, id("alice"), fox, (await time.latest()) - 10);
      // alice's agent reads identity 1 (fox logged in); her rating is mined past fox's login and an hour later
      await ethers.provider.send("evm_increaseTime", [notAfter + MAX_IDENTITY_LAG + 60 - (await time.latest())]);
      const r = await rateWithEvidence(f.ledger, store, id("alice"), fox, TERMS, rs);
      expect(r.scores.bps[5]).to.equal(10_000);
      expect(await f.trust.isIdentityVerified(fox)).to.equal(false);
      await expect(verifyRating(f.trust, store, id("alice"), fox)).to.be.rejectedWith(
        EvidenceError,
        /^verifyEvidence: rating 0x[0-9a-f]{8}… -> 0x[0-9a-f]{8}… #0: the identity was read at block \d+ \(time \d+\), more than 3600 s before the rating \(\d+\), and has changed since$/,
      );
    });
  });

  describe("# E4: verification work is bounded per transaction and done once", () => {
    it("the detection pipeline verifies a record set once, not again on every run", async () => {
      // mallory rates her own Sybil provider (two free registrations, two accounts) with a full
      // record set: every receipt is valid, so a verifier checks them all. The pipeline reads every
      // record set from block 0 on each run; the verdict is cached, so the set is fetched and
      // verified once per ledger, not on every run.
      const f = await loadFixture(fixture);
      const [mallory, sybil] = [f.others[7], f.others[8]];
      await f.trust.connect(mallory).register(id("mallory"), Kind.Avatar);
      await f.trust.connect(sybil).register(id("sybil"), Kind.Avatar);
      const counted = newStore();
      // every fetch of a block, whichever way it is asked for (getJson reads through get; the
      // detector's bounded fetcher calls get: s26-fxl L2)
      let reads = 0;
      const get = counted.get.bind(counted);
      counted.get = (async (cid: string, opts?: { timeoutMs?: number }) => {
        reads++;
        return get(cid, opts);
      }) as typeof counted.get;
      const tm = await f.trust.getAddress();
      const after = (await time.latest()) - 100;
      const rs = await withReceipts(sybil, { trustManager: tm, from: id("mallory"), to: id("sybil"), terms: TERMS }, successes(20, after));
      await rateWithEvidence(new TrustLedger(f.trust.connect(mallory)), counted, id("mallory"), id("sybil"), TERMS, rs);
      const detector = new TrustLedger(f.trust);
      reads = 0; // the detector's reads only
      const first = await detector.ratings(0, { store: counted });
      expect(first.map((x) => x.evidence)).to.deep.equal([true]); // valid evidence: every receipt was checked
      const readsFirst = reads;
      await detector.ratings(0, { store: counted }); // the next detector run, nothing new on-chain
      expect({ firstRun: readsFirst, secondRun: reads - readsFirst }, "E4: the second run must use the cached verdict").to.deep.equal({
        firstRun: 1,
        secondRun: 0,
      });
    });
  });

  describe("# E6: a provider's move to another account starts a new era; its receipts are judged by era, not voided silently", () => {
    it("receipts signed under a plain registration do not back a rating after the attested re-registration (a reclaim: the pair restarted), and the rater is told before anything is sent", async () => {
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
      // The contract cannot tell an owner's own plain entry from a squatter's: the attested
      // registration starts owl afresh (a new generation: alice's pair with owl restarts, trust.md §6),
      // and k1's era is not the attested owl's. alice's agent refuses the old receipts before sending
      // (E1's pre-send check), so nothing unverifiable reaches the chain.
      await expect(rateWithEvidence(f.ledger, store, id("alice"), owl, TERMS, rs)).to.be.rejectedWith(
        /nothing sent: .*record 0 \(time \d+\) is from before the reclaim at \d+: another controller's era/,
      );
      expect(await f.trust.generationOf(owl)).to.equal(1n);
      // receipts of the attested era, signed by k2, back a rating that every verifier accepts
      const fresh = await failures(await f.trust.getAddress(), k2, id("alice"), owl, (await time.latest()) + 1);
      await time.increase(5);
      await rateWithEvidence(f.ledger, store, id("alice"), owl, TERMS, fresh);
      expect((await verifyRating(f.trust, store, id("alice"), owl)).index).to.equal(0);
    });
  });

  describe("# its own attestation keeps an entry's era (session 14)", () => {
    it("receipts signed under a plain registration back a rating after the same account attests it: no new generation, no new era", async () => {
      const f = await loadFixture(fixture);
      const store = newStore();
      const idp = f.msrp; // holds IDP_ROLE on the MITRegistry in the system fixture
      const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, idp);
      const h = (s: string) => keccak256(new TextEncoder().encode(`h14-own:${s}`));
      const serial = h("serial");
      await mit.issueMIT(toHex(serial), toHex(h("key")), "bafy-params");
      const owl = toHex(avatarIdOf(serial, "owl"));
      const k1 = Wallet.createRandom().connect(ethers.provider);
      await setBalance(k1.address, 10n ** 20n);
      await f.trust.connect(k1).register(owl, Kind.Avatar);
      const rs = await failures(await f.trust.getAddress(), k1, id("alice"), owl, (await time.latest()) - 10);
      await mit.recordLogin(owl, toHex(serial), toHex(h("warrant")), toHex(h("vid")), (await time.latest()) + 86_400);
      const deadline = BigInt(await time.latest()) + 3600n;
      const att = await attestRegistration(idp, f.trust, owl, "avatar", k1.address, deadline);
      await expect(f.trust.connect(k1).registerAttested(owl, Kind.Avatar, deadline, att))
        .to.emit(f.trust, "EntityAttested")
        .withArgs(owl, Kind.Avatar, k1.address);
      expect(await f.trust.generationOf(owl)).to.equal(0n);
      await rateWithEvidence(f.ledger, store, id("alice"), owl, TERMS, rs);
      const v = await verifyRating(f.trust, store, id("alice"), owl);
      expect([v.index, v.scores.bps[5]]).to.deep.equal([0, 10_000]);
      expect((await new TrustLedger(f.trust).ratings(0, { store })).filter((r) => r.to === owl).map((r) => r.evidence)).to.deep.equal([
        true,
      ]);
    });
  });

  describe("# E2, E4, E3: the bounds of a set (no chain)", () => {
    const rater = Wallet.createRandom();
    const provider = Wallet.createRandom();
    const tmAddr = "0x" + "22".repeat(20);
    const [A, B] = [id("alice"), id("bob")];
    async function signedSet(n: number, over: Record<string, unknown> = {}) {
      const records = await withReceipts(provider, { trustManager: tmAddr, from: A, to: B, terms: TERMS }, successes(n, 0));
      const u = {
        type: EVIDENCE_TAG,
        chainId: 31337,
        trustManager: tmAddr,
        from: A,
        to: B,
        nonce: 0,
        after: 0,
        agreement: TERMS,
        identity: 1 as const,
        identityBlock: 50,
        records,
        rater: rater.address.toLowerCase(),
        ...over,
      };
      return { ...u, signature: await rater.signMessage(evidenceMessage(u as never)) } as RatingEvidence;
    }
    const ctx = (over: Partial<RatingContext> = {}): RatingContext => ({
      chainId: 31337,
      trustManager: tmAddr,
      from: A,
      to: B,
      nonce: 0,
      after: 0,
      time: 10_000,
      sender: rater.address,
      providerController: provider.address,
      ratingBlock: 51,
      identityBlock: 50,
      identityTime: 9_999,
      identityVerified: true,
      label,
      ...over,
    });

    it("E2: the identity lane is read at the block the set names: before the rating, at most MAX_IDENTITY_LAG seconds older", async () => {
      const e = await signedSet(2);
      expect(verifyEvidence(e, ctx()).bps[5]).to.equal(10_000);
      // a rater cannot pick an old block (any block of the last hour: what it could choose by rating earlier)
      expect(() => verifyEvidence(e, ctx({ identityTime: 10_000 - MAX_IDENTITY_LAG - 1 }))).to.throw(
        EvidenceError,
        /rating alice -> bob #0: the identity was read at block 50 \(time 6399\), more than 3600 s before the rating/,
      );
      expect(() => verifyEvidence(e, ctx({ identityTime: 10_000 - MAX_IDENTITY_LAG }))).to.not.throw();
      // an older block stands when the registry says the same at the rating (a late-mined rating claims the truth)
      const old = { identityTime: 10_000 - MAX_IDENTITY_LAG - 1 };
      expect(verifyEvidence(e, ctx({ ...old, identityVerifiedAtRating: true })).bps[5]).to.equal(10_000);
      expect(() => verifyEvidence(e, ctx({ ...old, identityVerifiedAtRating: false }))).to.throw(
        EvidenceError,
        /more than 3600 s before the rating \(10000\), and has changed since$/,
      );
      // nor the rating's block or a later one (the verifier then read elsewhere)
      expect(() => verifyEvidence(e, ctx({ ratingBlock: 50 }))).to.throw(EvidenceError, /not before the rating's block 50/);
      expect(() => verifyEvidence(e, ctx({ identityBlock: 51 }))).to.throw(
        EvidenceError,
        /read at block 50, which is not before the rating/,
      );
      // and the value must be the registry's at that block
      expect(() => verifyEvidence(e, ctx({ identityVerified: false }))).to.throw(EvidenceError, /registry says 0 at block 50/);
    });

    it("E4: a set holds at most MAX_RECORDS (100) records", async () => {
      expect(MAX_RECORDS).to.equal(100);
      expect(verifyEvidence(await signedSet(MAX_RECORDS), ctx()).bps[0]).to.equal(10_000);
      const over = await signedSet(MAX_RECORDS + 1);
      expect(() => verifyEvidence(over, ctx())).to.throw(EvidenceError, /needs 1 to 100 records, got 101$/);
    });

    it("E3: no unchecked text of a set reaches an error: term ids, weights, times are escaped or named only", async () => {
      const evil = "x\n\u001b[32mverified\u001b[0m\u202e";
      for (const over of [
        { agreement: { latencyBoundMs: `1\n${evil}`, terms: [] } },
        { agreement: { latencyBoundMs: 200, terms: [{ id: evil, weight: 0 }] } },
        { agreement: { latencyBoundMs: 200, terms: [{ id: "a", weight: evil }] } },
        { records: [{ seq: evil, request: req(0), at: 1, outcome: "success", latencyMs: 1, kept: [true], receipt: "0x" }] },
        { records: [{ seq: 0, request: req(0), at: evil, outcome: "success", latencyMs: 1, kept: [true], receipt: "0x" }] },
        { records: [null] },
        { signature: 7 },
        { identityBlock: evil },
      ]) {
        const e = { ...(await signedSet(1)), ...over } as unknown as RatingEvidence;
        let m = "";
        try {
          verifyEvidence(e, ctx());
        } catch (x) {
          expect(x).to.be.instanceOf(EvidenceError);
          m = (x as Error).message;
        }
        expect(m, JSON.stringify(over)).to.match(/^verifyEvidence: rating alice -> bob #0: /);
        expect(m, JSON.stringify(over)).to.match(/^[\x20-\x7e…]*$/); // one printable line
      }
      expect(show(evil)).to.equal('"x\\u000a\\u001b[32mverified\\u001b[0m\\u202e"');
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
          `E3: a malformed ${field} must be an EvidenceError, not ${err!.constructor.name}`,
        ).to.deep.include({ evidenceError: true });
        expect(err!.message).to.match(/rating alice -> bob #0/);
        expect(err!.message, "E3: the error must be one line, without the record set's text").to.satisfy(
          (m: string) => !m.includes("\n") && !m.includes("\u001b"),
        );
      });
    }
  });
});
