/**
 * One interaction, one court verdict, and no case left hanging (session 15; docs/specs/disputes.md,
 * "One interaction, one court verdict"). The IdP keeps two slots per evidence key
 * (`tracedEvidenceKey`): the reporter's case that traced it (InteractionTraced) and the court's
 * (CourtTraced). A court-upheld case on evidence a court traced already is refused (h14-red2 G2)
 * and, since session 15, closed on-chain as Rejected: before, judgeTrace threw DUPLICATE_EVIDENCE
 * without recording anything and the case stayed CourtUpheld for ever. A court-upheld case on
 * evidence only a reporter traced is still traced (the court's exception). A keystore written
 * before the slots (one case per key, kind unknown) is read by the case's status on-chain.
 * Court rulings come from a contract holding COURT_ROLE, impersonated, here (the court's side is
 * test/disputes/trace-case.test.ts; the whole service story test/services/idp-court-trace-twice.test.ts).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { MITRegistry } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { AvatarParty, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import {
  avatarIdOf,
  AvatarContext,
  ChallengeBook,
  Evidence,
  Side,
  delegate,
  issueProxyMit,
  issueUserMit,
  judgeTrace,
  login,
  mutualAuth,
  requestTrace,
  tracedEvidenceKey,
  TraceStatus,
} from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";

async function deployFixture() {
  const [idpAccount, ...others] = await ethers.getSigners();
  const registry = (await (await ethers.getContractFactory("MITRegistry")).deploy(idpAccount.address)) as unknown as MITRegistry;
  // COURT_ROLE goes to a contract only (h15-red3 H1): any contract stands for the court here, and
  // the test speaks as it through an impersonated signer
  const stand = await (await ethers.getContractFactory("BloomFilterMock")).deploy();
  await registry.grantRole(await registry.COURT_ROLE(), await stand.getAddress());
  const court = await ethers.getImpersonatedSigner(await stand.getAddress());
  await setBalance(court.address, 10n ** 20n);
  const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-court-dup-")));
  return { registry, court, store, others };
}

/** alice's avatar delegated to her AI, bob logged in; one mutual authentication between them. */
async function world() {
  const f = await loadFixture(deployFixture);
  const idp = new IdentityProvider();
  const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
  const ctx: AvatarContext = { registry: f.registry, idp, store: f.store, now: () => Math.floor(Date.now() / 1000) + offset };
  await time.setNextBlockTimestamp(ctx.now());
  const eyes = { alice: new SimulatedEye(301), bob: new SimulatedEye(302) };
  const alice = new AvatarParty("alice");
  const bob = new AvatarParty("bob");
  const ai = new AvatarParty("alice-ai");
  await issueUserMit(ctx, alice, "Alice Liddell", eyes.alice);
  await issueUserMit(ctx, bob, "Bob Builder", eyes.bob);
  await issueProxyMit(ctx, ai, "alice's assistant");
  const server = new ChallengeBook();
  await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "fox" });
  const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
  const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "alice") });
  const A: Side = { credential: d.credential, driver: ai };
  const B: Side = { credential: lb.credential, driver: bob };
  const s = await mutualAuth(ctx, A, B);
  const reporter = f.registry.connect(f.others[3]);
  let dispute = 0n;
  /** Files `e` as a new case and has the court uphold it (bind, then rule upheld): CourtUpheld. */
  const upheldCase = async (e: Evidence) => {
    const { caseId } = await requestTrace(reporter, e);
    dispute += 1n;
    await f.registry.connect(f.court).bindCase(caseId, dispute, f.others[3].address, toHex(e.avatarId));
    await f.registry.connect(f.court).courtRuling(caseId, dispute, true);
    return caseId;
  };
  return { ...f, ctx, e: s.evidenceAboutA, reporter, upheldCase };
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return `${(e as { reason?: string }).reason}: ${(e as Error).message}`;
  }
}

describe("judgeTrace: one interaction, one court verdict, and a refused court case is closed", () => {
  it("a court-upheld case on evidence a court traced already is Rejected on-chain (DUPLICATE_EVIDENCE naming the first), not left CourtUpheld", async () => {
    const { ctx, registry, e, upheldCase } = await world();
    const first = await upheldCase(e);
    await judgeTrace(ctx, first, e);
    expect(Number((await registry.traceCase(first)).status)).to.equal(TraceStatus.CourtTraced);
    const second = await upheldCase(e);
    const slotsBefore = ctx.idp.tracedCasesOf(tracedEvidenceKey(e));
    expect(await outcome(judgeTrace(ctx, second, e))).to.match(
      new RegExp(`^DUPLICATE_EVIDENCE: .*traced already as a court's verdict in case #${first}`),
    );
    const c = await registry.traceCase(second);
    expect([Number(c.status), c.verdictCommitment]).to.deep.equal([TraceStatus.Rejected, ethers.ZeroHash]);
    // the keystore still names the first court case; a retry finds the case closed, nothing more recorded
    expect(ctx.idp.tracedCasesOf(tracedEvidenceKey(e))).to.deep.equal(slotsBefore);
    expect(await outcome(judgeTrace(ctx, second, e))).to.match(/^UNKNOWN_CASE/);
  });

  it("two slots: a reporter's trace then a court's on the same evidence both stand, survive the keystore, and a third (court) case is Rejected", async () => {
    const { ctx, registry, e, reporter, upheldCase } = await world();
    const reported = (await requestTrace(reporter, e)).caseId;
    await judgeTrace(ctx, reported, e);
    expect(Number((await registry.traceCase(reported)).status)).to.equal(TraceStatus.InteractionTraced);
    const courtCase = await upheldCase(e);
    await judgeTrace(ctx, courtCase, e); // the court's exception: a reporter's trace does not block it
    expect(Number((await registry.traceCase(courtCase)).status)).to.equal(TraceStatus.CourtTraced);
    const key = tracedEvidenceKey(e);
    expect(ctx.idp.tracedCasesOf(key)).to.deep.equal({ reporter: reported, court: courtCase, legacy: undefined });
    // the IdP restarts from its keystore record: both slots are back
    const restored = IdentityProvider.fromRecord(JSON.parse(JSON.stringify(ctx.idp.toRecord())));
    expect(restored.tracedCasesOf(key)).to.deep.equal({ reporter: reported, court: courtCase, legacy: undefined });
    const rctx = { ...ctx, idp: restored };
    // another reporter's case is refused, nothing recorded (it stays Open); another court case is Rejected
    const again = (await requestTrace(reporter, e)).caseId;
    expect(await outcome(judgeTrace(rctx, again, e))).to.match(new RegExp(`^DUPLICATE_EVIDENCE: .*traced already in case #${courtCase}`));
    expect(Number((await registry.traceCase(again)).status)).to.equal(TraceStatus.Open);
    const third = await upheldCase(e);
    expect(await outcome(judgeTrace(rctx, third, e))).to.match(/^DUPLICATE_EVIDENCE/);
    expect(Number((await registry.traceCase(third)).status)).to.equal(TraceStatus.Rejected);
  });

  it("a keystore from before the slots (one case per key): its case's status on-chain says which slot it fills", async () => {
    const { ctx, registry, e, reporter, upheldCase } = await world();
    const key = tracedEvidenceKey(e);
    /** The IdP as restarted from a record whose `traced` entries have no `by` (session 14's format). */
    const legacy = (caseId: bigint) => {
      const r = ctx.idp.toRecord();
      return { ...ctx, idp: IdentityProvider.fromRecord({ ...r, traced: [{ key: toHex(key), caseId: caseId.toString() }] }) };
    };
    // a reporter's case traced by the old IdP: a court case on the same evidence is still traced
    const reported = (await requestTrace(reporter, e)).caseId;
    await judgeTrace(ctx, reported, e);
    const old = legacy(reported);
    expect(old.idp.tracedCasesOf(key)).to.deep.equal({ reporter: undefined, court: undefined, legacy: reported });
    const courtCase = await upheldCase(e);
    await judgeTrace(old, courtCase, e);
    expect(Number((await registry.traceCase(courtCase)).status)).to.equal(TraceStatus.CourtTraced);
    // a court's case traced by the old IdP: another court case is Rejected
    const older = legacy(courtCase);
    const third = await upheldCase(e);
    expect(await outcome(judgeTrace(older, third, e))).to.match(new RegExp(`^DUPLICATE_EVIDENCE: .*case #${courtCase}`));
    expect(Number((await registry.traceCase(third)).status)).to.equal(TraceStatus.Rejected);
  });
});
