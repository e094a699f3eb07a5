/**
 * Open finding (red team h16-red R3): the responder completes mutual authentication with a finish
 * that arrives any time later, after the initiator's delegation has ended.
 *
 * authComplete (offchain/avatars/protocols.ts) checks the finish with PVerify on the responder's
 * own message 2 (its time t0) and the confirmation tag only: no clock, no chain. An AI proxy that
 * says hello while its delegation runs, receives the reply, and holds message 3 until after its
 * warrant's notAfter (or its revocation: both end the delegation) still gets the session
 * accepted: the responder takes a key and evidence from an avatar the chain no longer verifies,
 * and the evidence, stamped when the responder gets it (after the end), traces nobody
 * (NOT_DRIVER). Sibling of R1 (the initiator's side, bounded by CHALLENGE_TTL); here the window
 * is as long as the responder keeps its state.
 *
 * The secure behaviour asserted: the responder refuses a finish that comes after the initiator's
 * on-chain record lapsed.
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
  ChallengeBook,
  authComplete,
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

describe("avatars: finding h16-red R3, a finish held past the initiator's warrant", () => {
  it("the responder refuses a finish that arrives after the initiator's delegation expired", async () => {
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

    // the AI (initiator) says hello while its delegation runs; bob answers at t0
    const a = authHello({ credential: d.credential, driver: ai });
    const t0 = ctx.now();
    const b = await authRespond(ctx, { credential: lb.credential, driver: bob }, a.hello);

    // two hours later (an hour past notAfter) the AI sends message 3, its own clock set back to t0
    offset += notAfter + 3600 - ctx.now();
    await time.increaseTo(ctx.now());
    expect(await f.registry.isVerified(toHex(fox))).to.equal(false);
    const fin = await authFinish({ ...ctx, now: () => t0 }, a.state, b.reply);

    let err: unknown;
    let evidenceAboutAi;
    try {
      evidenceAboutAi = authComplete(b.state, fin.finish).evidenceAboutPeer;
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
    // the secure behaviour: bob does not accept a session from an avatar whose warrant ended an hour ago
    expect(err, "authComplete accepted a finish an hour after the initiator's warrant expired").to.be.instanceOf(AvatarProtocolError);
  });
});
