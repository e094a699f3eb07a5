/**
 * Red team s21-reda F2 (fixed in s21-reda, severity H: framing an owner after her identity was revoked): once
 * the IdP revokes the owner's MIT, her AI proxy and a colluding reporter still have her traced on
 * evidence they make afterwards, backdated into the delegation's window.
 *
 * Attack. judgeTrace's heldUnderWarrant ends an owner's answerability for her proxy at the
 * earliest of: the delegation's revocation or replacement, its notAfter, the proxy's MIT
 * revocation. The owner's own MIT revocation is not among them: revokeMIT leaves the delegation
 * active on-chain (revokedAt 0), so evidence with no receipt at all, or one stamped long after the
 * revocation, "was held under the warrant". The chain stopped verifying the avatar at the
 * revocation (isVerified reads the owner's MIT) and every honest peer refuses it (checkHello:
 * MIT_REVOKED), so only a colluder can hold such evidence: mallory (a reporter with an avatar of
 * her own) and alice's AI (its key) build a handshake after alice's MIT was revoked, date it a
 * second before the revocation, have the platform stamp it, and the IdP names alice. The same
 * collusion after a delegation's revocation is refused (attacks.test.ts item 6): the class is
 * "every end of the driver's authority", and the owner's revocation is the one end missing.
 *
 * What holds now: heldUnderWarrant counts the owner's MIT revocation among the ends of a
 * delegation, so after it evidence about her delegated avatar traces to her only with a platform
 * receipt no later than the revocation (as after a delegation's revocation); evidence stamped
 * before it still traces to her. The class test runs the colluders' attack against every end:
 * the delegation revoked, replaced, expired, the proxy's MIT revoked, the owner's MIT revoked.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { AvatarParty, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarsFixture, reasonOf } from "../helpers/avatar-world";
import {
  ChallengeBook,
  authFinish,
  authHello,
  authRespond,
  avatarIdOf,
  delegate,
  handshakeTranscript,
  issueProxyMit,
  issueUserMit,
  login,
  stampEvidence,
  trace,
  type Evidence,
} from "../../offchain/avatars/protocols";
import { Scope, cpsPSign } from "../../offchain/crypto/cps";
import { toHex } from "../../offchain/crypto/bytes";

async function story() {
  const f = await loadFixture(avatarsFixture);
  const idp = new IdentityProvider();
  // every side's clock and the platform's: the chain's latest block time, read again by sync()
  const clock = { t: await time.latest() };
  const ctx = { registry: f.registry, idp, store: f.store, now: () => clock.t };
  const sync = async () => {
    clock.t = await time.latest();
  };
  const alice = new AvatarParty("alice");
  const mallory = new AvatarParty("mallory");
  const ai = new AvatarParty("ai-1");
  const eyes = { alice: new SimulatedEye(1), mallory: new SimulatedEye(3) };
  await issueUserMit(ctx, alice, "Alice Liddell", eyes.alice);
  await issueUserMit(ctx, mallory, "Mallory Mole", eyes.mallory);
  await issueProxyMit(ctx, ai, "alice's assistant service");
  const server = new ChallengeBook();
  const fox = avatarIdOf(alice.mit!.serial, "fox");
  await login(ctx, server, alice, eyes.alice, { avatarId: fox, appearance: "fox" });
  const lm = await login(ctx, server, mallory, eyes.mallory, { avatarId: avatarIdOf(mallory.mit!.serial, "mole"), appearance: "mole" });
  const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: fox, ttl: 3600 });
  const reporter = f.registry.connect(f.others[3]);
  await sync();
  return { f, ctx, alice, mallory, ai, lm, d, reporter, sync, server, eyes, fox };
}

/**
 * mallory (initiator) and alice's AI (responder) make a handshake whose transcript message is
 * dated `at`, skipping every check an honest side runs on the chain's present state: the AI signs
 * as the responder, mallory signs the same message as the reporter.
 */
async function colludedEvidence(s: Awaited<ReturnType<typeof story>>, at: number): Promise<Evidence> {
  const { ctx, mallory, ai, lm, d } = s;
  const a = authHello(ctx, { credential: lm.credential, driver: mallory }, d.credential.avatarId);
  const b = await authRespond({ ...ctx, now: () => at }, { credential: d.credential, driver: ai }, a.hello);
  const t = handshakeTranscript(a.hello, b.reply.hello);
  const msg = { type: Scope.challenge, time: at, body: t };
  const peer = b.reply.hello;
  return {
    avatarId: peer.avatarId,
    ownerSerial: peer.ownerSerial,
    ownerPk: peer.ownerPk,
    driverSerial: peer.driverSerial,
    warrant: peer.warrant,
    o: peer.o,
    message: msg,
    proxySig: b.reply.proxySig,
    handshake: {
      accusedInitiated: false,
      accusedEphemeral: peer.ephemeral,
      accusedNonce: peer.nonce,
      reporter: a.hello,
      reporterSig: cpsPSign(mallory.keys, lm.credential.warrant, lm.credential.o, msg),
    },
  };
}

describe("avatars: s21-reda F2, the owner's MIT revocation ends her answerability for her proxy", () => {
  it("control: the colluders' evidence made while everything runs traces to alice (she answers for her proxy)", async () => {
    const s = await story();
    const e = stampEvidence(s.ctx, await colludedEvidence(s, s.ctx.now()));
    expect(await reasonOf(trace(s.ctx, s.reporter, e))).to.equal("accepted");
  });

  it("control: an honest session before the revocation, stamped before it, traces to alice after it", async () => {
    const s = await story();
    const a = authHello(s.ctx, { credential: s.lm.credential, driver: s.mallory }, s.d.credential.avatarId);
    const b = await authRespond(s.ctx, { credential: s.d.credential, driver: s.ai }, a.hello);
    const e = stampEvidence(s.ctx, (await authFinish(s.ctx, a.state, b.reply)).evidenceAboutPeer);
    await s.f.registry.revokeMIT(toHex(s.alice.mit!.serial));
    await time.increase(600);
    expect(await reasonOf(trace(s.ctx, s.reporter, e))).to.equal("accepted");
  });

  it("after alice's MIT is revoked, her AI and mallory backdate a handshake into the window: not traced to her (stamped after, or unstamped)", async () => {
    const s = await story();
    await s.f.registry.revokeMIT(toHex(s.alice.mit!.serial));
    expect(await s.f.registry.isVerified(toHex(s.d.credential.avatarId))).to.equal(false); // honest peers refuse fox from here on
    const mitRevokedAt = await time.latest();
    await time.increase(600);
    await s.sync(); // every clock, the platform's too: 600 s after the revocation
    const e = await colludedEvidence(s, mitRevokedAt - 1); // made now, dated a second before the revocation
    expect(await reasonOf(trace(s.ctx, s.reporter, e))).to.equal("NOT_DRIVER");
    expect(await reasonOf(trace(s.ctx, s.reporter, stampEvidence(s.ctx, e)))).to.equal("NOT_DRIVER");
  });

  /** Each way the owner's answerability for her proxy ends, and the time it ended (the block of the change). */
  const ENDS: [string, (s: Awaited<ReturnType<typeof story>>) => Promise<number>][] = [
    ["the delegation revoked", async (s) => (await s.f.registry.revokeDelegation(s.d.delegationId), time.latest())],
    [
      "the delegation replaced by alice's login",
      async (s) => (await login(s.ctx, s.server, s.alice, s.eyes.alice, { avatarId: s.fox, appearance: "fox" }), time.latest()),
    ],
    ["the warrant expired", async (s) => (await time.increaseTo(s.d.credential.warrant.notAfter + 1), s.d.credential.warrant.notAfter)],
    ["the proxy's MIT revoked", async (s) => (await s.f.registry.revokeMIT(toHex(s.ai.mit!.serial)), time.latest())],
    ["the owner's MIT revoked", async (s) => (await s.f.registry.revokeMIT(toHex(s.alice.mit!.serial)), time.latest())],
  ];
  for (const [what, end] of ENDS)
    it(`the class, ${what}: stamped before the end it traces to alice; the colluders' evidence made after it, backdated, does not`, async () => {
      const s = await story();
      const honest = stampEvidence(s.ctx, await colludedEvidence(s, s.ctx.now())); // stamped while the delegation runs
      const endedAt = await end(s);
      await time.increase(600);
      await s.sync();
      const backdated = await colludedEvidence(s, endedAt - 1);
      expect(await reasonOf(trace(s.ctx, s.reporter, backdated))).to.equal("NOT_DRIVER");
      expect(await reasonOf(trace(s.ctx, s.reporter, stampEvidence(s.ctx, backdated)))).to.equal("NOT_DRIVER");
      expect(await reasonOf(trace(s.ctx, s.reporter, honest))).to.equal("accepted");
    });
});
