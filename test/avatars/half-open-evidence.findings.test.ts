/**
 * h11-red2 findings V1 (MEDIUM) and V2 (LOW).
 *
 * V2: the IdP judges every case filed, and a case is keyed on nothing but its number: the same
 * evidence (the same interaction) filed N times, by anyone, is traced N times: N Traced cases on
 * the avatar's record, N verdict openings in the IdP's keystore, N IdP transactions. Fix: the IdP
 * (or MITRegistry.requestTrace) refuses a case whose evidence hash a case already holds, and answers
 * with that case.
 *
 * V1 (MEDIUM): tracing evidence from a handshake nobody completed. Anyone, with no
 * avatar and no key, can have any avatar that answers hellos traced.
 *
 * In mutual authentication the responder signs the transcript in message 2 (authRespond), before
 * the initiator has proved anything (its proxy signature comes in message 3). Mallory, who holds no
 * MIT and no avatar, replays a hello she saw on the wire (alice's AI avatar's) to bob; bob checks it
 * against the chain (it is a valid hello) and answers with his driver's CPS signature on
 * transcript(alice's hello, bob's hello), which Mallory recomputes from the two public hellos. That
 * signature is complete tracing evidence about bob (judgeTrace checks the MITs, the warrant, the
 * signature and that bob held his avatar at that time): Mallory files it (requestTrace is open to
 * anyone) and the IdP traces bob to his real identity and records a Traced verdict on his avatar,
 * for an "interaction" with alice that never happened (alice never took part; bob's session was
 * never completed). Property broken: the avatar paper's tracing is the *verifier's* recourse
 * against a prover that misbehaved in an authenticated interaction (§V-B1, "the verifier submits
 * these identity parameters"), and defending against false accusation (a reporter cannot produce
 * evidence of an interaction the accused did not have); avatars stay anonymous toward strangers.
 * Suggested fix: evidence from mutual authentication names its reporter: judgeTrace requires,
 * beside the accused's signature on transcript t, the reporter's own hello and its driver's proxy
 * signature on the same t (message 3), verified like the accused's; the reporter of a half-open
 * handshake (a replayed hello) cannot sign t. (Or: a responder's transcript signature is made
 * valid as evidence only with the initiator's, e.g. the IdP refuses challenge-type evidence alone.)
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { MITRegistry } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { AvatarParty, AvatarProtocolError, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import {
  avatarIdOf,
  AvatarContext,
  ChallengeBook,
  Evidence,
  Side,
  authHello,
  authRespond,
  delegate,
  issueProxyMit,
  issueUserMit,
  login,
  trace,
} from "../../offchain/avatars/protocols";
import { Scope } from "../../offchain/crypto/cps";
import { concat, equalBytes, toBytes } from "../../offchain/crypto/bytes";

async function deployFixture() {
  const [idpAccount, ...others] = await ethers.getSigners();
  const registry = (await (await ethers.getContractFactory("MITRegistry")).deploy(idpAccount.address)) as unknown as MITRegistry;
  const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-halfopen-")));
  return { registry, store, others };
}

async function setup() {
  const f = await loadFixture(deployFixture);
  const idp = new IdentityProvider();
  const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
  const ctx: AvatarContext = { registry: f.registry, idp, store: f.store, now: () => Math.floor(Date.now() / 1000) + offset };
  await time.setNextBlockTimestamp(ctx.now());
  const eyes = { alice: new SimulatedEye(201), bob: new SimulatedEye(202) };
  const [alice, bob, ai] = [new AvatarParty("alice"), new AvatarParty("bob"), new AvatarParty("alice-ai")];
  await issueUserMit(ctx, alice, "Alice Liddell", eyes.alice);
  await issueUserMit(ctx, bob, "Bob Builder", eyes.bob);
  await issueProxyMit(ctx, ai, "alice's assistant");
  const server = new ChallengeBook();
  await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "fox" });
  const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
  const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "alice") });
  const A: Side = { credential: d.credential, driver: ai };
  const B: Side = { credential: lb.credential, driver: bob };

  return { ctx, f, A, B, alice, bob };
}

describe("h11-red2 V1, V2: a replayed hello yields traceable evidence about the responder (findings)", () => {
  it("mallory (no avatar, no key) replays alice's AI's hello to bob and has bob traced with his reply", async () => {
    const { ctx, f, A, B } = await setup();
    // a hello of alice's AI avatar, seen on the wire (alice's AI never talks to bob)
    const seen = authHello(A).hello;
    // mallory sends it to bob; bob answers (message 2) and waits for a finish that never comes
    const { reply } = await authRespond(ctx, B, seen);
    // what mallory computes from the two public hellos: the transcript bob signed
    const h = reply.hello;
    const t = keccak_256(
      concat(
        toBytes("METATRUST-V1-AVATAR-AUTH"),
        seen.avatarId,
        seen.ephemeral,
        seen.nonce,
        seen.o.h,
        h.avatarId,
        h.ephemeral,
        h.nonce,
        h.o.h,
      ),
    );
    const evidence: Evidence = {
      avatarId: h.avatarId,
      ownerSerial: h.ownerSerial,
      ownerPk: h.ownerPk,
      driverSerial: h.driverSerial,
      warrant: h.warrant,
      o: h.o,
      message: { type: Scope.challenge, time: reply.time, body: t },
      proxySig: reply.proxySig,
    };
    // mallory files it from an account of her own
    const outcome = await trace(ctx, f.registry.connect(f.others[7]), evidence).then(
      (r) => r.realId,
      (e: unknown) => {
        expect(e).to.be.instanceOf(AvatarProtocolError);
        return undefined;
      },
    );
    expect(equalBytes(evidence.message.body, t)).to.equal(true);
    expect(outcome, "a stranger's replayed hello got bob traced").to.equal(undefined);
  });

  it("V2: one piece of evidence filed twice is traced twice (two Traced cases, two verdicts in the IdP's keystore)", async () => {
    const { ctx, f, A, B } = await setup();
    const s = await (await import("../../offchain/avatars/protocols")).mutualAuth(ctx, A, B);
    const first = await trace(ctx, f.registry.connect(f.others[7]), s.evidenceAboutB);
    const again = await trace(ctx, f.registry.connect(f.others[8]), s.evidenceAboutB).then(
      (r) => r.caseId,
      () => undefined,
    );
    expect(first.realId).to.equal("Bob Builder");
    expect(again !== undefined, `the same interaction traced again under a new case (#${again})`).to.equal(false);
  });
});
