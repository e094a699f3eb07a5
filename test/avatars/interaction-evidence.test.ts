/**
 * h11-red2 V1 residual (closed; was interaction-evidence.findings.test.ts): evidence of type
 * "interaction" is bound to a handshake the reporter took part in.
 *
 * After the V1 fix a transcript signature (type challenge) was evidence only with the reporter's
 * own signature on the same transcript, but a message of type interaction was judged alone: any
 * body the accused's driver signed, whoever held it. An avatar that signed a message outside any
 * session (to a stranger, or in public) could be traced on it by anyone, without an authenticated
 * interaction with the reporter (the paper's §V-B1 has the verifier of an authenticated
 * interaction report). Fix (offchain/avatars/protocols.ts: signInteraction, interactionEvidence,
 * judgeTrace -> handshakeFault): an interaction message's body is t || payload, t the session's
 * transcript; its evidence carries the handshake with a session part (the transcript message's
 * time and the accused's signature on it), and the IdP checks the prefix, the time, the accused's
 * and the reporter's signatures on t. Any other message type (login, combined types) is no evidence.
 *
 * Threat model. Replay: a stranger holding a message bob signed (a public post; one leaked from
 * his session with alice) files it: refused (no handshake; or the reporter's signature on t, which
 * only alice's driver makes, is missing). Relay/splice: carol moves bob's message into her own
 * session with bob, or alice into a second session of hers: the prefix is another t. Tamper: a
 * changed payload, time or session part breaks a signature or the prefix. Collusion: the reporter
 * cannot sign for the accused (its session signature is verified under the accused's warrant).
 * Controls: alice's genuine evidence of bob's message in their session traces bob, by wire and JSON.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { MITRegistry } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { AvatarParty, AvatarProtocolError, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import {
  avatarIdOf,
  AvatarContext,
  caseHash,
  ChallengeBook,
  delegate,
  Evidence,
  interactionEvidence,
  issueProxyMit,
  issueUserMit,
  login,
  mutualAuth,
  Side,
  signInteraction,
  stampEvidence,
  trace,
} from "../../offchain/avatars/protocols";
import { decodeEvidence, encodeEvidence, AVATAR_SIZES } from "../../offchain/avatars/wire";
import { evidenceFromJson, evidenceToJson } from "../../offchain/avatars/codec";
import { Scope, cpsPSign } from "../../offchain/crypto/cps";
import { concat, toBytes, toHex } from "../../offchain/crypto/bytes";

async function deployFixture() {
  const [idpAccount, ...others] = await ethers.getSigners();
  const registry = (await (await ethers.getContractFactory("MITRegistry")).deploy(idpAccount.address)) as unknown as MITRegistry;
  const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-interaction-")));
  return { registry, store, others };
}

/** alice (delegated to her AI), bob and carol logged in; a session between alice's avatar (A) and bob's (B). */
async function world() {
  const f = await loadFixture(deployFixture);
  const idp = new IdentityProvider();
  const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
  const clock = { skew: 0 }; // tests move the parties' clocks forward (a later session)
  const ctx: AvatarContext = { registry: f.registry, idp, store: f.store, now: () => Math.floor(Date.now() / 1000) + offset + clock.skew };
  await time.setNextBlockTimestamp(ctx.now());
  const eyes = { alice: new SimulatedEye(311), bob: new SimulatedEye(301), carol: new SimulatedEye(321) };
  const [alice, bob, carol, ai] = [new AvatarParty("alice"), new AvatarParty("bob"), new AvatarParty("carol"), new AvatarParty("alice-ai")];
  await issueUserMit(ctx, alice, "Alice Liddell", eyes.alice);
  await issueUserMit(ctx, bob, "Bob Builder", eyes.bob);
  await issueUserMit(ctx, carol, "Carol Danvers", eyes.carol);
  await issueProxyMit(ctx, ai, "alice's assistant");
  const server = new ChallengeBook();
  await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "fox" });
  const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
  const lc = await login(ctx, server, carol, eyes.carol, { avatarId: avatarIdOf(carol.mit!.serial, "carol"), appearance: "owl" });
  const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "alice") });
  const A: Side = { credential: d.credential, driver: ai };
  const B: Side = { credential: lb.credential, driver: bob };
  const C: Side = { credential: lc.credential, driver: carol };
  const s = await mutualAuth(ctx, A, B); // A initiates: s.evidenceAboutB is A's evidence about bob
  return { ctx, f, A, B, C, alice, bob, carol, s, clock };
}

/** The trace's outcome: the traced person, or the rejection's reason (asserting it is a protocol error). */
async function outcome(ctx: AvatarContext, reporter: MITRegistry, e: Evidence): Promise<string> {
  return trace(ctx, reporter, e).then(
    (r) => r.realId,
    (err: unknown) => {
      expect(err).to.be.instanceOf(AvatarProtocolError);
      return `${(err as AvatarProtocolError).reason}: ${(err as Error).message}`;
    },
  );
}

describe("h11-red2 V1 residual: interaction evidence is bound to the reporter's session", () => {
  it("a message bob signed outside any session, filed by a stranger, traces nobody", async () => {
    const { ctx, f, B, bob } = await world();
    const c = B.credential;
    const message = { type: Scope.interaction, time: ctx.now(), body: toBytes("hello, world (a public post)") };
    const e: Evidence = {
      avatarId: c.avatarId,
      ownerSerial: bob.mit!.serial,
      ownerPk: bob.keys.pk,
      driverSerial: bob.mit!.serial,
      warrant: c.warrant,
      o: c.o,
      message,
      proxySig: cpsPSign(bob.keys, c.warrant, c.o, message),
    };
    expect(await outcome(ctx, f.registry.connect(f.others[7]), e)).to.match(/^BAD_EVIDENCE: .*without the handshake of its session/);
  });

  it("control: bob's message in his session with alice's avatar, filed by alice, traces bob (wire and JSON round trips keep it)", async () => {
    const { ctx, f, B, s } = await world();
    const m = signInteraction(B, s.evidenceAboutA, toBytes("I sell you the bridge"), ctx.now());
    const e = stampEvidence(ctx, await interactionEvidence(ctx, s.evidenceAboutB, m.message, m.proxySig));
    const wire = encodeEvidence(e);
    expect(wire.length).to.equal(
      2 + 529 + 11 + m.message.body.length + 1 + AVATAR_SIZES.handshake + AVATAR_SIZES.handshakeSession + 1 + 72,
    );
    expect(toHex(caseHash(decodeEvidence(wire)))).to.equal(toHex(caseHash(e)));
    expect(toHex(caseHash(evidenceFromJson(evidenceToJson(e))))).to.equal(toHex(caseHash(e)));
    expect(await outcome(ctx, f.registry.connect(f.others[7]), decodeEvidence(wire))).to.equal("Bob Builder");
  });

  it("a stranger holding bob's message from his session with alice, without alice's signature on t, traces nobody", async () => {
    const { ctx, f, B, s } = await world();
    const m = signInteraction(B, s.evidenceAboutA, toBytes("leaked"), ctx.now());
    const genuine = await interactionEvidence(ctx, s.evidenceAboutB, m.message, m.proxySig);
    const reporter = f.registry.connect(f.others[8]);
    // no handshake at all; the handshake without its session part; the reporter's signature replaced by bob's own
    expect(await outcome(ctx, reporter, { ...genuine, handshake: undefined })).to.match(/^BAD_EVIDENCE: .*without the handshake/);
    const noSession = { ...genuine.handshake!, session: undefined };
    expect(await outcome(ctx, reporter, { ...genuine, handshake: noSession })).to.match(
      /^BAD_EVIDENCE: .*accused's signature on its session/,
    );
    const forged = { ...genuine.handshake!, reporterSig: genuine.handshake!.session!.accusedSig };
    expect(await outcome(ctx, reporter, { ...genuine, handshake: forged })).to.match(/^BAD_SIGNATURE: .*reporter's signature/);
  });

  it("carol, with her own session with bob, cannot have bob traced on a message from bob's session with alice (splice)", async () => {
    const { ctx, f, A, B, C, s } = await world();
    const m = signInteraction(B, s.evidenceAboutA, toBytes("to alice only"), ctx.now());
    const sc = await mutualAuth(ctx, C, B);
    await expect(interactionEvidence(ctx, sc.evidenceAboutB, m.message, m.proxySig)).to.be.rejectedWith(
      AvatarProtocolError,
      /not an interaction of this session/,
    );
    const spliced: Evidence = {
      ...(await interactionEvidence(ctx, s.evidenceAboutB, m.message, m.proxySig)),
      handshake: {
        ...sc.evidenceAboutB.handshake!,
        session: { time: sc.evidenceAboutB.message.time, accusedSig: sc.evidenceAboutB.proxySig },
      },
    };
    expect(await outcome(ctx, f.registry.connect(f.others[9]), spliced)).to.match(
      /^BAD_EVIDENCE: .*not in the session of the handshake shown/,
    );
    // alice's second session with bob: its handshake is not the message's either
    const s2 = await mutualAuth(ctx, A, B);
    const moved: Evidence = {
      ...(await interactionEvidence(ctx, s.evidenceAboutB, m.message, m.proxySig)),
      handshake: {
        ...s2.evidenceAboutB.handshake!,
        session: { time: s2.evidenceAboutB.message.time, accusedSig: s2.evidenceAboutB.proxySig },
      },
    };
    expect(await outcome(ctx, f.registry.connect(f.others[9]), moved)).to.match(/^BAD_EVIDENCE: .*not in the session/);
  });

  it("tampering: the session part's time or accused signature, a message older than its session, a payload bob did not sign", async () => {
    const { ctx, f, A, B, clock } = await world();
    clock.skew = 60; // a session a minute after the logins: bob's warrant was valid before it
    const s = await mutualAuth(ctx, A, B);
    const reporter = f.registry.connect(f.others[10]);
    const m = signInteraction(B, s.evidenceAboutA, toBytes("payload"), ctx.now());
    const e = await interactionEvidence(ctx, s.evidenceAboutB, m.message, m.proxySig);
    const hs = e.handshake!;
    const at = (time: number) => ({ ...e, handshake: { ...hs, session: { ...hs.session!, time } } });
    expect(await outcome(ctx, reporter, at(hs.session!.time - 1))).to.match(
      /^BAD_SIGNATURE: trace: the accused's signature on its session/,
    );
    const aliceSig = s.evidenceAboutA.proxySig; // alice's AI's signature on t (bob's evidence about it): not the accused's
    expect(await outcome(ctx, reporter, { ...e, handshake: { ...hs, session: { ...hs.session!, accusedSig: aliceSig } } })).to.match(
      /^BAD_SIGNATURE: trace: the accused's signature on its session/,
    );
    const early = signInteraction(B, s.evidenceAboutA, toBytes("before"), s.evidenceAboutB.message.time - 1);
    await expect(interactionEvidence(ctx, s.evidenceAboutB, early.message, early.proxySig)).to.be.rejectedWith(
      AvatarProtocolError,
      /predates its session/,
    );
    expect(await outcome(ctx, reporter, { ...e, message: early.message, proxySig: early.proxySig })).to.match(
      /^BAD_EVIDENCE: .*predates its session/,
    );
    const changed = { ...m.message, body: concat(m.message.body.subarray(0, 32), toBytes("another payload")) };
    await expect(interactionEvidence(ctx, s.evidenceAboutB, changed, m.proxySig)).to.be.rejectedWith(
      AvatarProtocolError,
      /does not verify/,
    );
    expect(await outcome(ctx, reporter, { ...e, message: changed })).to.match(/^BAD_SIGNATURE/);
  });

  it("a transcript signature's handshake with a session part, or a message of a combined type, is no evidence", async () => {
    const { ctx, f, B, bob, s } = await world();
    const reporter = f.registry.connect(f.others[11]);
    const t = s.evidenceAboutB;
    expect(
      await outcome(ctx, reporter, { ...t, handshake: { ...t.handshake!, session: { time: t.message.time, accusedSig: t.proxySig } } }),
    ).to.match(/^BAD_EVIDENCE: .*carries a session part/);
    // bob's login warrant (scope all) lets him sign a combined type; it is no evidence
    const c = B.credential;
    const combined = { type: Scope.challenge | Scope.interaction, time: ctx.now(), body: t.message.body };
    const e: Evidence = { ...t, message: combined, proxySig: cpsPSign(bob.keys, c.warrant, c.o, combined), receipt: undefined };
    expect(await outcome(ctx, reporter, e)).to.match(/^BAD_EVIDENCE: trace: a message of type 6 is no evidence/);
  });

  it("h16-red R1/R3's class: bob refuses a message from alice's AI whose time is stale by his clock (STALE_TIME), whose delegation expired (EXPIRED, the message backdated to notAfter) or whose MIT was revoked (MIT_REVOKED)", async () => {
    const { ctx, f, A, s, clock } = await world();
    const reason = (p: Promise<unknown>) =>
      p.then(
        () => "accepted",
        (e: AvatarProtocolError) => e.reason,
      );
    // bob's evidence about A is s.evidenceAboutA; A signs in its session with bob (its evidence about B)
    const at = (time: number) => signInteraction(A, s.evidenceAboutB, toBytes("a deal"), time);
    const sessionTime = s.evidenceAboutA.message.time;
    clock.skew = 200; // 200 s into the session
    const old = at(sessionTime);
    expect(await reason(interactionEvidence(ctx, s.evidenceAboutA, old.message, old.proxySig))).to.equal("STALE_TIME");
    const live = at(ctx.now());
    expect(await reason(interactionEvidence(ctx, s.evidenceAboutA, live.message, live.proxySig))).to.equal("accepted");
    // 60 s after the delegation's notAfter by bob's clock; the AI dates its message notAfter
    const notAfter = A.credential.warrant.notAfter;
    clock.skew += notAfter + 60 - ctx.now();
    const late = at(notAfter);
    expect(await reason(interactionEvidence(ctx, s.evidenceAboutA, late.message, late.proxySig))).to.equal("EXPIRED");
    clock.skew = 0;
    await f.registry.revokeMIT(toHex(A.driver.mit!.serial));
    const now = at(ctx.now());
    expect(await reason(interactionEvidence(ctx, s.evidenceAboutA, now.message, now.proxySig))).to.equal("MIT_REVOKED");
  });

  it("signInteraction and interactionEvidence refuse evidence that is not a handshake's transcript evidence", async () => {
    const { ctx, B, s } = await world();
    const m = signInteraction(B, s.evidenceAboutA, toBytes("x"), ctx.now());
    const e = await interactionEvidence(ctx, s.evidenceAboutB, m.message, m.proxySig);
    expect(() => signInteraction(B, e, toBytes("y"), ctx.now())).to.throw(AvatarProtocolError, /not a handshake's transcript evidence/);
    await expect(interactionEvidence(ctx, { ...s.evidenceAboutB, handshake: undefined }, m.message, m.proxySig)).to.be.rejectedWith(
      AvatarProtocolError,
      /not a handshake's transcript evidence/,
    );
  });
});
