/**
 * Open finding (red team h16-red R1): an AI proxy whose delegation warrant has expired still
 * completes mutual authentication as the responder, and what it signs there is untraceable.
 *
 * checkHello (offchain/avatars/protocols.ts) reads the avatar's on-chain record (driver, warrant
 * hash, MITs) but not its `notAfter`; the only time check is PVerify's (message time within the
 * warrant's validity) and the initiator's `requireFresh` (the responder's signed time within
 * CHALLENGE_TTL of its clock). The responder chooses the transcript's time, so an expired proxy
 * answers with a time backdated to its warrant's notAfter, up to CHALLENGE_TTL after it: the
 * initiator accepts a session with an avatar the chain no longer verifies (`isVerified` false),
 * and the evidence it keeps is stamped after the delegation's end, so tracing refuses it
 * (NOT_DRIVER: a receipt after the end does not date it). The proxy (or its owner through it)
 * gets an authenticated session nobody can trace.
 *
 * The secure behaviour asserted: the initiator refuses a peer whose on-chain record has lapsed.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { MITRegistry__factory } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { AvatarParty, AvatarProtocolError, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import {
  CHALLENGE_TTL,
  ChallengeBook,
  authFinish,
  authHello,
  authRespond,
  avatarIdOf,
  delegate,
  evidenceHash,
  issueProxyMit,
  issueUserMit,
  login,
  trace,
} from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";

async function avatarsFixture() {
  const sys = await deploySystemFixture();
  const registry = MITRegistry__factory.connect(sys.deployment.contracts.MITRegistry.address, sys.msrp);
  const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-avatars-")));
  return { ...sys, registry, store };
}

describe("avatars: finding h16-red R1, an expired proxy authenticates as the responder", () => {
  it("the initiator refuses a responder whose delegation warrant has expired (its reply backdated within CHALLENGE_TTL)", async () => {
    const f = await loadFixture(avatarsFixture);
    const idp = new IdentityProvider();
    let offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
    const ctx = { registry: f.registry, idp, store: f.store, now: () => Math.floor(Date.now() / 1000) + offset };
    await time.setNextBlockTimestamp(ctx.now());
    const alice = new AvatarParty("alice");
    const bob = new AvatarParty("bob");
    const ai = new AvatarParty("ai-1");
    const eyes = { alice: new SimulatedEye(1), bob: new SimulatedEye(2) };
    await issueUserMit(ctx, alice, "Alice Liddell", eyes.alice);
    await issueUserMit(ctx, bob, "Bob Builder", eyes.bob);
    await issueProxyMit(ctx, ai, "alice's assistant service");
    const server = new ChallengeBook();
    const fox = avatarIdOf(alice.mit!.serial, "fox");
    await login(ctx, server, alice, eyes.alice, { avatarId: fox, appearance: "fox" });
    const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "whale"), appearance: "whale" });
    const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: fox, ttl: 3600 });
    const notAfter = d.credential.warrant.notAfter;

    // an hour later, 60 s past the warrant's notAfter: the chain no longer verifies alice's avatar
    offset += notAfter + 60 - ctx.now();
    await time.increaseTo(ctx.now());
    expect(await f.registry.isVerified(toHex(fox))).to.equal(false);
    expect(CHALLENGE_TTL).to.be.greaterThan(60);

    // bob (honest, the initiator) says hello; the expired proxy answers with its clock set back to notAfter
    const a = authHello({ credential: lb.credential, driver: bob });
    const backdated = { ...ctx, now: () => notAfter };
    const b = await authRespond(backdated, { credential: d.credential, driver: ai }, a.hello);

    let err: unknown;
    let evidenceAboutAi;
    try {
      evidenceAboutAi = (await authFinish(ctx, a.state, b.reply)).evidenceAboutPeer;
    } catch (e) {
      err = e;
    }
    if (evidenceAboutAi) {
      // what the open hole gives the proxy: bob's evidence, stamped by the platform now, traces nobody
      const stamped = { ...evidenceAboutAi, receipt: idp.stamp(evidenceHash(evidenceAboutAi), ctx.now()) };
      const traced = await trace(ctx, f.registry.connect(f.others[3]), stamped).then(
        () => "traced",
        (e: AvatarProtocolError) => e.reason,
      );
      expect(traced, "the session's evidence about the proxy").to.equal("NOT_DRIVER");
    }
    // the secure behaviour: bob refuses the lapsed avatar before he derives a key or signs anything
    expect(err, "authFinish accepted an avatar whose warrant expired 60 s ago").to.be.instanceOf(AvatarProtocolError);
  });
});
