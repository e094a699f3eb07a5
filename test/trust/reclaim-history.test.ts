/**
 * Guard (red team h12-red2's finding R1, closed in session 13; docs/specs/trust.md §6 "A reclaimed
 * id starts afresh"): nothing an id did, or had done to it, under a previous controller is its
 * present controller's. `reclaimAvatar` and `registerAttested`'s reclaim of a squat start a new
 * generation of the id: the contract keeps pairs (given and received, with their epoch markers and
 * oracle terms) and agreement credits per generation, and `TrustLedger.ratings`, hence the
 * detection pipeline, leaves out every rating given or received by an id before its last
 * `EntityRegistered` (block and log index), and `verifyRating` counts a pair's ratings from there
 * too. The court (DisputeResolution) applies a verdict's consequences to a party only while the
 * controller that was party to the dispute holds it, and settles nothing for a vote cast before its
 * voter entity was reclaimed (the vote keeps the generation it was committed in).
 *
 * The attack it guards against (squat, then false accusation): a squatter registers alice's further
 * avatar owl while it is not logged in, bad-mouths honest providers as owl and lets alice reclaim
 * it. Before the fix the reclaim cleared owl's flags, but the next detector run read the squatter's
 * ratings as owl's (and could flag alice's avatar for them), others' trust stores carried the
 * squatter's values in owl's name, and the squatter's epoch marker refused alice's own rating of
 * the provider for the rest of the epoch.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import * as F from "../../offchain/trust/fixed";
import { attestReclaim, attestRegistration, type RefusedEvidence, TrustLedger } from "../../offchain/trust/ledger";
import type { EvidenceTerms, InteractionRecord } from "../../offchain/trust/evidence";
import { rateWithEvidence, signReceipt, verifyRating } from "../../offchain/trust/rater";
import { runDetectors } from "../../offchain/trust/pipeline";
import { FileContentStore } from "../../offchain/storage/content-store";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";
import { deployDisputeFixture, nextEvidence, salt } from "../fixtures/disputes";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";

const label = (s: string) => keccak256(new TextEncoder().encode(`reclaim-history:${s}`));
const ZERO = "0x" + "00".repeat(32);
const low = F.packFactors(Array(6).fill(0));
const high = F.packFactors(Array(6).fill(1));
const TERMS: EvidenceTerms = { latencyBoundMs: 200, terms: [{ id: "uptime", weight: 1 }] };

async function fixture() {
  const f = await deployTrustFixture();
  const { idp, login, account, attest, fox, owl } = await avatarOwner(f, "reclaim-history");
  const withAttestation = (avatar: string, controller: Signer) => attest(avatar, controller);
  // alice (her attested first avatar fox), an honest provider, a friend of the squatter, a rater
  // that never rates (what a stranger sees), and the squatter
  const [alice, provider, friend, bystander, squatter] = [
    await account(),
    await account(),
    await account(),
    await account(),
    await account(),
  ];
  const providers = [id("provider"), id("provider-2")];
  for (const p of providers) await f.trust.connect(provider).register(p, Kind.Organization);
  await f.trust.connect(friend).register(id("friend"), Kind.Organization);
  await f.trust.connect(bystander).register(id("bystander"), Kind.Organization);
  const ledgerOf = (s: Signer) => new TrustLedger(f.trust.connect(s));
  /** the IdP's reclaim attestation, for the avatar's generation now */
  const withReclaimAttestation = async (avatar: string, controller: Signer) => {
    const deadline = BigInt(await time.latest()) + 3600n;
    const generation = await f.trust.generationOf(avatar);
    return { deadline, generation, a: await attestReclaim(idp, f.trust, avatar, await controller.getAddress(), generation, deadline) };
  };
  /** alice takes owl back (it must be logged in) */
  const reclaimOwl = async () => {
    await login(owl);
    const ra = await withReclaimAttestation(owl, alice);
    return f.trust.connect(alice).reclaimAvatar(owl, ra.generation, ra.deadline, ra.a);
  };
  return {
    ...f,
    login,
    withAttestation,
    withReclaimAttestation,
    fox,
    owl,
    alice,
    provider,
    friend,
    bystander,
    squatter,
    providers,
    ledgerOf,
    reclaimOwl,
  };
}
type Fx = Awaited<ReturnType<typeof fixture>>;

/** alice's first avatar fox, attested; the squatter registers owl and bad-mouths the providers as owl; the friend praises owl. */
async function squatted(f: Fx) {
  await f.login(f.fox);
  const fa = await f.withAttestation(f.fox, f.alice);
  await f.trust.connect(f.alice).registerAttested(f.fox, Kind.Avatar, fa.deadline, fa.a);
  await f.trust.connect(f.squatter).register(f.owl, Kind.Avatar);
  for (const p of f.providers) await f.ledgerOf(f.squatter).rate(f.owl, p, low);
  await f.ledgerOf(f.friend).rate(id("friend"), f.owl, high);
}

/** two interactions of owl with the first provider from time `at`, receipted by the provider's controller */
async function receipted(f: Fx, at: number): Promise<InteractionRecord[]> {
  const records: InteractionRecord[] = [];
  for (const seq of [0, 1]) {
    const request = ethers.keccak256(ethers.toUtf8Bytes(`request ${seq}`));
    const receipt = await signReceipt(f.provider, {
      chainId: 31337,
      trustManager: await f.trust.getAddress(),
      from: f.owl,
      to: f.providers[0],
      seq,
      request,
      at: at + seq,
      terms: TERMS,
    });
    records.push({ seq, request, at: at + seq, outcome: "success", latencyMs: 100, kept: [true], receipt });
  }
  return records;
}

const involves = (x: string) => (r: { from: string; to: string }) => r.from === x || r.to === x;

describe("a reclaimed id starts afresh: nothing of the previous controller's era is the owner's (h12-red2 R1)", () => {
  it("reclaimAvatar: the squatter's ratings as owl are gone from the pairs, the effective trust and the pipeline's input; alice rates at once", async () => {
    const f = await loadFixture(fixture);
    await squatted(f);
    const detector = new TrustLedger(f.trust.connect(f.detector));
    expect((await detector.ratings(0)).filter(involves(f.owl)), "precondition: the squatter's era is on chain").to.have.length(3);
    expect((await f.trust.pairOf(f.owl, f.providers[0])).ratings).to.equal(1n);
    await expect(f.reclaimOwl()).to.emit(f.trust, "EntityReclaimed");
    expect(await f.trust.generationOf(f.owl)).to.equal(1n);
    // the pipeline's input: no rating given or received by owl
    expect((await detector.ratings(0)).filter(involves(f.owl))).to.deep.equal([]);
    for (const p of f.providers) {
      // owl's pairs start afresh: nothing stored, and its trust in the provider is what any
      // entity that never rated the provider has (the stranger's), not the squatter's 0
      expect([...(await f.trust.pairOf(f.owl, p))]).to.deep.equal([0n, 0n, 0n, 0n]);
      expect(await f.trust.trustOf(f.owl, p)).to.equal(await f.trust.trustOf(id("bystander"), p));
    }
    // alice rates the provider in the epoch the squatter rated it (no RatedThisEpoch), and the
    // ledger's integrity check agrees with the chain
    const r = await f.ledgerOf(f.alice).rate(f.owl, f.providers[0], high);
    expect((await f.trust.pairOf(f.owl, f.providers[0])).ratings).to.equal(1n);
    expect(r.stored).to.equal(
      F.ratedTrust(await f.ledgerOf(f.alice).getModel(), { trust: 0n, updatedAt: 0n, ratings: 0, oracle: 0n }, high, 0n),
    );
    const after = (await detector.ratings(0)).filter(involves(f.owl));
    expect(after.map((x) => [x.from, x.to, x.value])).to.deep.equal([[f.owl, f.providers[0], 1]]);
  });

  it("ratings others gave the squatter's owl are not owl's: the friend's pair starts afresh and sees owl as a stranger", async () => {
    const f = await loadFixture(fixture);
    await squatted(f);
    await f.trust.connect(f.oracle).setOracle(id("friend"), f.owl, 10n ** 17n, 0, await f.trust.generationOf(f.owl)); // the oracle's term, in the squatter's era
    const praised = await f.trust.trustOf(id("friend"), f.owl);
    await f.reclaimOwl();
    expect([...(await f.trust.pairOf(id("friend"), f.owl))]).to.deep.equal([0n, 0n, 0n, 0n]);
    const stranger = await f.trust.trustOf(id("bystander"), f.owl);
    expect(await f.trust.trustOf(id("friend"), f.owl)).to.equal(stranger);
    expect(stranger).to.be.lessThan(praised);
    // the friend may rate alice's owl at once: the squatter's era's epoch marker is not hers
    await f.ledgerOf(f.friend).rate(id("friend"), f.owl, low);
    expect((await f.trust.pairOf(id("friend"), f.owl)).ratings).to.equal(1n);
    // the oracle's term of the squatter's era is gone with its pair
    expect((await f.trust.pairOf(id("friend"), f.owl)).oracle).to.equal(0n);
  });

  it("registerAttested's reclaim of a squatted first avatar: the same (pairs, effective trust, pipeline input)", async () => {
    const f = await loadFixture(fixture);
    // the squatter registers alice's first avatar before she logs it in, bad-mouths, is praised
    await f.trust.connect(f.squatter).register(f.fox, Kind.Avatar);
    await f.ledgerOf(f.squatter).rate(f.fox, f.providers[0], low);
    await f.ledgerOf(f.friend).rate(id("friend"), f.fox, high);
    const bornSquatted = await f.trust.registeredAt(f.fox);
    await mine(10);
    await f.login(f.fox);
    const fa = await f.withAttestation(f.fox, f.alice);
    await expect(f.trust.connect(f.alice).registerAttested(f.fox, Kind.Avatar, fa.deadline, fa.a)).to.emit(f.trust, "EntityReclaimed");
    expect(await f.trust.generationOf(f.fox)).to.equal(1n);
    // what stays: the id's registration block, the age the court reads (docs/specs/trust.md §6)
    expect(await f.trust.registeredAt(f.fox)).to.equal(bornSquatted);
    expect([...(await f.trust.pairOf(f.fox, f.providers[0]))]).to.deep.equal([0n, 0n, 0n, 0n]);
    expect([...(await f.trust.pairOf(id("friend"), f.fox))]).to.deep.equal([0n, 0n, 0n, 0n]);
    expect(await f.trust.trustOf(f.fox, f.providers[0])).to.equal(await f.trust.trustOf(id("bystander"), f.providers[0]));
    expect(await f.trust.trustOf(id("friend"), f.fox)).to.equal(await f.trust.trustOf(id("bystander"), f.fox));
    expect((await new TrustLedger(f.trust).ratings(0)).filter(involves(f.fox))).to.deep.equal([]);
    await f.ledgerOf(f.alice).rate(f.fox, f.providers[0], high); // at once
  });

  it("one block: the squatter's rating mined before the reclaim is not owl's; a rating of owl built before it and mined after it is refused (StaleEra), and one built after it is owl's with the rater's integrity check holding", async () => {
    const f = await loadFixture(fixture);
    await squatted(f);
    await time.increase(86_400); // an epoch on: the squatter and the friend may rate again
    await f.login(f.owl);
    const ra = await f.withReclaimAttestation(f.owl, f.alice);
    const tm = f.trust;
    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      // the squatter front-runs alice's reclaim with a rating; the friend rates owl after it
      const front = await tm.connect(f.squatter).rate(f.owl, f.providers[1], low, ZERO, ZERO, 0, 0, { gasLimit: 300_000 });
      const reclaim = await tm.connect(f.alice).reclaimAvatar(f.owl, ra.generation, ra.deadline, ra.a, { gasLimit: 300_000 });
      // TrustLedger.rate (not the fast path) reads the eras before it sends: the squatter's era's
      const rated = f.ledgerOf(f.friend).rate(id("friend"), f.owl, low);
      const refused = expect(rated).to.be.rejectedWith(/TrustManager__StaleEra/);
      for (let i = 0; i < 200; i++) {
        const pending = (await ethers.provider.send("eth_getBlockByNumber", ["pending", false])) as { transactions: string[] };
        if (pending.transactions.length === 3) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await ethers.provider.send("evm_mine", []);
      const [rf, rr] = [await front.wait(), await reclaim.wait()];
      await refused; // built for owl's generation 0, mined at 1: nothing stored
      expect([rf!.blockNumber, rf!.index, rr!.index], "precondition: one block, the squatter first").to.deep.equal([rr!.blockNumber, 0, 1]);
      expect(await tm.generationOf(f.owl)).to.equal(1n);
      expect([...(await tm.pairOf(f.owl, f.providers[1]))]).to.deep.equal([0n, 0n, 0n, 0n]);
      expect([...(await tm.pairOf(id("friend"), f.owl))]).to.deep.equal([0n, 0n, 0n, 0n]);
      expect((await new TrustLedger(tm).ratings(0)).filter(involves(f.owl))).to.deep.equal([]);
      // the friend rates again, for owl's era now: owl's, and the check agrees with the chain
      await ethers.provider.send("evm_setAutomine", [true]);
      const r = await f.ledgerOf(f.friend).rate(id("friend"), f.owl, low);
      expect((await tm.pairOf(id("friend"), f.owl)).ratings).to.equal(1n);
      const owls = (await new TrustLedger(tm).ratings(0)).filter(involves(f.owl));
      expect(owls.map((x) => [x.from, x.to])).to.deep.equal([[id("friend"), f.owl]]);
      expect(r.tx.block).to.be.greaterThan(rr!.blockNumber);
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
    }
  });

  it("the detection pipeline end to end: its input and its IPFS report hold nothing of owl's squatted era, and the cleared flag stays cleared", async () => {
    const f = await loadFixture(fixture);
    await squatted(f);
    // one more squatter's rating, with an attached digest that is on no IPFS (a refused
    // evidence the report would list, naming owl, were the rating read)
    await time.increase(86_400);
    await f.ledgerOf(f.squatter).rate(f.owl, f.providers[1], low, ethers.randomBytes(32));
    // the detector flagged owl for the squatter's bad-mouthing (set by hand here: a world large
    // enough for the tail test is not built in this test)
    await new TrustLedger(f.trust.connect(f.detector)).flag(f.owl, 3, ethers.randomBytes(32), await f.trust.generationOf(f.owl));
    await f.reclaimOwl();
    expect((await f.trust.entity(f.owl)).flags).to.equal(0n);
    // after the reclaim, honest ratings in alice's era
    await f.ledgerOf(f.alice).rate(f.owl, f.providers[0], high);
    await f.ledgerOf(f.bystander).rate(id("bystander"), f.providers[1], high);
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-reclaim-")));
    const run = await runDetectors(new TrustLedger(f.trust.connect(f.detector)), store, { flag: true });
    const report = await store.getJson<{ ratings: number; evidenceRefused: unknown[] }>(run.cid);
    // the input: alice's and the bystander's ratings, none of the squatter's or the friend's of owl
    expect(run.ratings).to.equal(2);
    expect(report.ratings).to.equal(2);
    expect(run.evidenceRefused).to.deep.equal([]);
    expect(JSON.stringify(report).toLowerCase()).not.to.include(f.owl.slice(2).toLowerCase());
    expect(run.detections.filter((d) => d.entity === f.owl)).to.deep.equal([]);
    expect((await f.trust.entity(f.owl)).flags).to.equal(0n);
    expect(run.entities, "each entity once").to.equal(new Set((await new TrustLedger(f.trust).entities()).map((e) => e.id)).size);
  });
  it("a rating with evidence in alice's era verifies, its index counted from the reclaim (verifyRating, and the pipeline's evidence check)", async () => {
    const f = await loadFixture(fixture);
    await squatted(f); // the squatter rated provider as owl: rating #0 of the pair in its era
    await f.reclaimOwl();
    await time.increase(30); // the interactions below are alice's, after the reclaim
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-reclaim-")));
    const records = await receipted(f, (await time.latest()) - 10);
    await rateWithEvidence(f.ledgerOf(f.alice), store, f.owl, f.providers[0], TERMS, records);
    const v = await verifyRating(f.trust, store, f.owl, f.providers[0]);
    expect(v.index).to.equal(0);
    const refused: RefusedEvidence[] = [];
    const ratings = (await new TrustLedger(f.trust).ratings(0, { store, refused })).filter(involves(f.owl));
    expect(ratings.map((r) => [r.from, r.to, r.evidence])).to.deep.equal([[f.owl, f.providers[0], true]]);
    expect(refused).to.deep.equal([]);
  });

  it("interactions dated in the squatter's era are not alice's: a record set holding one is refused before anything is stored or sent", async () => {
    const f = await loadFixture(fixture);
    await squatted(f);
    const squatterEra = (await time.latest()) - 5; // genuine receipts of owl's interactions while the squatter held it
    const records = await receipted(f, squatterEra);
    await f.reclaimOwl();
    await time.increase(30);
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-reclaim-")));
    await expect(rateWithEvidence(f.ledgerOf(f.alice), store, f.owl, f.providers[0], TERMS, records)).to.be.rejectedWith(
      /nothing sent: .*record 0 \(time \d+\) is from before the reclaim at \d+: another controller's era/,
    );
    expect((await new TrustLedger(f.trust).ratings(0)).filter(involves(f.owl))).to.deep.equal([]);
    // the same provider's receipts of alice's own interactions go through
    await rateWithEvidence(f.ledgerOf(f.alice), store, f.owl, f.providers[0], TERMS, await receipted(f, (await time.latest()) - 10));
    expect((await verifyRating(f.trust, store, f.owl, f.providers[0])).index).to.equal(0);
  });
});

/**
 * The court (DisputeResolution) keeps each party's controller when a dispute opens; a verdict's
 * consequences on a party's reputation and flags apply only while that controller holds it.
 */
describe("a reclaimed id starts afresh: a squatter's dispute has no consequence on the owner", () => {
  async function courtFixture() {
    const f = await deployDisputeFixture();
    const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
    const serial = label("court-alice-serial");
    await mit.issueMIT(toHex(serial), toHex(label("court-alice-key")), "bafy-params");
    const fox = toHex(avatarIdOf(serial, "fox"));
    const [alice, squatter] = [
      ethers.Wallet.createRandom().connect(ethers.provider),
      ethers.Wallet.createRandom().connect(ethers.provider),
    ];
    for (const w of [alice, squatter]) await setBalance(w.address, 10n ** 20n);
    // the squatter registers alice's first avatar before she logs it in
    await f.trust.connect(squatter).register(fox, Kind.Avatar);
    /** alice logs fox in and registers it with the IdP's attestation: the reclaim (reputation R0) */
    const reclaim = async () => {
      await mit.recordLogin(fox, toHex(serial), toHex(label("w")), toHex(label("v")), (await time.latest()) + 86_400);
      const deadline = BigInt(await time.latest()) + 3600n;
      const a = await attestRegistration(f.msrp, f.trust, fox, "avatar", alice.address, deadline);
      await expect(f.trust.connect(alice).registerAttested(fox, Kind.Avatar, deadline, a)).to.emit(f.trust, "EntityReclaimed");
    };
    /** three voters vote `choice` in dispute `dId`; the dispute is then past its appeal window */
    const vote = async (dId: bigint, choice: number) => {
      const vs = f.voters.slice(0, 3);
      for (const v of vs) await f.disputes.connect(f.signerOf.get(v)!).commit(dId, v, commitmentOf(dId, v, choice, salt(`${dId}-${v}`)));
      await time.increase(Number(P.commitPeriod) + 1);
      for (const v of vs) await f.disputes.connect(f.signerOf.get(v)!).reveal(dId, v, choice, salt(`${dId}-${v}`));
      await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    };
    return { ...f, fox, alice, squatter, reclaim, vote };
  }

  it("the squatter cannot claim as fox at all (a plain entry has no standing: s23-rtt R4); alice's own claim, lost in her era, costs her the penalty", async () => {
    const f = await loadFixture(courtFixture);
    // before s23-rtt R4 the squatter filed a claim as fox, lost it after the reclaim, and alice's
    // fox did not pay for it; now a plain squat stakes nothing and claims nothing
    await expect(f.disputes.connect(f.squatter).openDispute(f.fox, id("respondent"), 0, 2, nextEvidence(), "", 0, { value: P.deposit }))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__ClaimantWithoutStanding")
      .withArgs(f.fox);
    await f.reclaim();
    const r0 = (await f.trust.entity(f.fox)).reputation;
    expect(r0).to.equal(F.DEFAULT_MODEL.initialReputation);
    // her own claim, lost: her penalty
    await f.disputes.connect(f.alice).openDispute(f.fox, id("respondent"), 0, 2, nextEvidence(), "", 0, { value: P.deposit });
    await f.vote(1n, 1);
    await f.disputes.resolve(1);
    expect((await f.trust.entity(f.fox)).reputation).to.equal(r0 - P.loserPenalty);
  });

  it("a claim upheld against the squatter's fox after the reclaim does not cost alice's fox the penalty", async () => {
    const f = await loadFixture(courtFixture);
    await f.disputes.openDispute(id("claimant"), f.fox, 0, 2, nextEvidence(), "", 0, { value: P.deposit });
    await f.reclaim();
    const r0 = (await f.trust.entity(f.fox)).reputation;
    await f.vote(1n, 0); // upheld
    await f.disputes.resolve(1);
    expect((await f.disputes.dispute(1)).outcome).to.equal(0n);
    expect((await f.trust.entity(f.fox)).reputation).to.equal(r0);
  });

  it("a flag contest the squatter filed and won after the reclaim does not clear the flag the detector gave alice's fox", async () => {
    const f = await loadFixture(courtFixture);
    await f.trust.connect(f.detector).flag(f.fox, 3, ZERO, await f.trust.generationOf(f.fox)); // the squatter's bad-mouthing
    await f.disputes.connect(f.squatter).openDispute(f.fox, ZERO, 3, 2, ZERO, "", 0, { value: P.deposit });
    await f.reclaim(); // clears the squatter's flag
    await f.trust.connect(f.detector).flag(f.fox, 3, ZERO, await f.trust.generationOf(f.fox)); // alice's own conduct, flagged later
    await f.vote(1n, 0); // upheld
    await f.disputes.resolve(1);
    expect((await f.disputes.dispute(1)).outcome).to.equal(0n);
    expect((await f.trust.entity(f.fox)).flags & 0x7fn, "alice's flag stays").to.equal(1n << 3n);
  });

  it("a vote the squatter's verified owl revealed settles to nothing on alice's owl after she reclaims it; a juror's vote still settles", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
    const serial = label("vote-alice-serial");
    await mit.issueMIT(toHex(serial), toHex(label("vote-alice-key")), "bafy-params");
    const owl = toHex(avatarIdOf(serial, "owl"));
    const [alice, squatter] = [
      ethers.Wallet.createRandom().connect(ethers.provider),
      ethers.Wallet.createRandom().connect(ethers.provider),
    ];
    for (const w of [alice, squatter]) await setBalance(w.address, 10n ** 20n);
    // the squatter registers owl before alice logs it in; the admin verifies it (its mistake)
    await f.trust.connect(squatter).register(owl, Kind.Avatar);
    await f.trust.setIdentityVerified(owl, true);
    await mine(Number(P.minAge) + 1);
    await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, nextEvidence(), "", 0, { value: P.deposit });
    // five jurors and the squatter's owl uphold, one juror rejects (a loser pays the winners' reward)
    const voters = [...f.voters];
    const choice = (i: number) => (i < 5 ? 0 : 1);
    for (const [i, v] of voters.entries())
      await f.disputes.connect(f.signerOf.get(v)!).commit(1, v, commitmentOf(1n, v, choice(i), salt(v)));
    await f.disputes.connect(squatter).commit(1, owl, commitmentOf(1n, owl, 0, salt("owl")));
    await time.increase(Number(P.commitPeriod) + 1);
    for (const [i, v] of voters.entries()) await f.disputes.connect(f.signerOf.get(v)!).reveal(1, v, choice(i), salt(v));
    await f.disputes.connect(squatter).reveal(1, owl, 0, salt("owl"));
    // alice logs owl in and takes it back (her first avatar: registerAttested, reputation R0)
    await mit.recordLogin(owl, toHex(serial), toHex(label("w")), toHex(label("v")), (await time.latest()) + 86_400);
    const deadline = BigInt(await time.latest()) + 3600n;
    const a = await attestRegistration(f.msrp, f.trust, owl, "avatar", alice.address, deadline);
    await expect(f.trust.connect(alice).registerAttested(owl, Kind.Avatar, deadline, a)).to.emit(f.trust, "EntityReclaimed");
    const r0 = (await f.trust.entity(owl)).reputation;
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await f.disputes.resolve(1);
    expect((await f.disputes.dispute(1)).margin, "precondition: a verdict with a margin pays its winners").to.be.greaterThan(0n);
    await f.disputes.settle(1, owl);
    expect((await f.trust.entity(owl)).reputation, "alice's owl moved by the squatter's vote").to.equal(r0);
    const juror = (await f.trust.entity(voters[0])).reputation;
    await f.disputes.settle(1, voters[0]);
    expect((await f.trust.entity(voters[0])).reputation, "a juror's vote settles").to.be.greaterThan(juror);
  });
});
