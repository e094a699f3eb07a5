/**
 * Trace cases are decided on the evidence the reporter filed (§V-B1; h7-audit finding T1, fixed).
 *
 * The attack: a trace case used to be keyed on an evidenceHash that left out fields the IdP's
 * verdict depends on (the message's type and time, the owner's key, the warrant's fields other
 * than through h, the platform receipt). Anyone who knew the filed evidence (the accused driver
 * knows every signature it made, and can match its messages against the hash in TraceRequested)
 * presented the same-hash evidence with one of those fields altered: the IdP refused it and
 * recorded the case as Rejected on-chain, for good, and the reporter's real evidence then found
 * the case closed. The fix: the case hash (`caseHash`) is keccak256 of the whole encoded evidence,
 * receipt included, and judgeTrace refuses any other evidence with UNKNOWN_CASE before anything is
 * recorded, so a Rejected verdict only comes from judging the filed evidence. Service-level form:
 * test/services/idp-trace-cases.test.ts.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
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
} from "../../offchain/avatars/protocols";

async function deployFixture() {
  const [idpAccount, ...others] = await ethers.getSigners();
  const registry = (await (await ethers.getContractFactory("MITRegistry")).deploy(idpAccount.address)) as unknown as MITRegistry;
  const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-findings-")));
  return { registry, store, others };
}

/** alice's avatar delegated to her AI, bob logged in; one mutual authentication between them. */
async function delegatedWorld() {
  const f = await loadFixture(deployFixture);
  const idp = new IdentityProvider();
  const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
  const ctx: AvatarContext = { registry: f.registry, idp, store: f.store, now: () => Math.floor(Date.now() / 1000) + offset };
  await time.setNextBlockTimestamp(ctx.now());
  const eyes = { alice: new SimulatedEye(201), bob: new SimulatedEye(202) };
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
  return { ...f, ctx, d, s };
}

/** Runs a step that may throw; returns its error's reason (or "ok"). */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return (e as { reason?: string }).reason ?? (e as Error).message;
  }
}

describe("tracing: a case is decided on the evidence filed (h7-audit T1)", function () {
  this.timeout(120_000);

  it("T1a: a case filed with valid evidence is decided on that evidence: a same-hash copy with another message time leaves it open, and the filed evidence is traced", async () => {
    const { ctx, registry, others, s } = await delegatedWorld();
    const e = s.evidenceAboutA; // bob's evidence about alice's AI-driven avatar
    const { caseId } = await requestTrace(registry.connect(others[3]), e);
    // the accused (alice's AI, which made the signature) presents the same-hash evidence with the
    // message time moved by one second: evidenceHash does not cover the time
    const altered: Evidence = { ...e, message: { ...e.message, time: e.message.time + 1 } };
    const first = await outcome(judgeTrace(ctx, caseId, altered));
    const statusAfterAltered = Number((await registry.traceCase(caseId)).status);
    const second = await outcome(judgeTrace(ctx, caseId, e));
    expect({ first, statusAfterAltered, second, final: Number((await registry.traceCase(caseId)).status) }).to.deep.equal({
      first: "UNKNOWN_CASE", // another evidence than the one filed: nothing recorded
      statusAfterAltered: 1, // still open
      second: "ok",
      final: 2, // traced to alice
    });
  });

  it("T1b: after the delegation ends, a same-hash copy of the filed evidence without its platform receipt does not close the case; the receipted evidence is traced", async () => {
    const { ctx, registry, others, s, d } = await delegatedWorld();
    const e = s.evidenceAboutA;
    expect(e.receipt, "mutualAuth stamps the evidence").to.not.equal(undefined);
    // the delegation ends after the receipt (so the receipted evidence is traceable)
    await time.setNextBlockTimestamp(Math.max((await time.latest()) + 1, e.receipt!.time + 1));
    await registry.revokeDelegation(d.delegationId);
    const { caseId } = await requestTrace(registry.connect(others[3]), e);
    const stripped: Evidence = { ...e, receipt: undefined };
    const first = await outcome(judgeTrace(ctx, caseId, stripped));
    const statusAfterStripped = Number((await registry.traceCase(caseId)).status);
    const second = await outcome(judgeTrace(ctx, caseId, e));
    expect({ first, statusAfterStripped, second, final: Number((await registry.traceCase(caseId)).status) }).to.deep.equal({
      first: "UNKNOWN_CASE",
      statusAfterStripped: 1,
      second: "ok",
      final: 2,
    });
  });
});
