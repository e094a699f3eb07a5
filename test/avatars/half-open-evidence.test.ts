/**
 * h11-red2 findings V1 (MEDIUM) and V2 (LOW), fixed (were open in
 * half-open-evidence.findings.test.ts).
 *
 * V1: in mutual authentication the responder signs the transcript t in message 2, before the
 * initiator has proved anything. Mallory (no MIT, no avatar, no key) replays a hello she saw (alice's
 * AI's) to bob, recomputes t from the two public hellos and files bob's signature on t: the IdP
 * traced bob for a handshake nobody completed. Fix (offchain/avatars/protocols.ts, judgeTrace ->
 * handshakeFault): transcript evidence carries the reporter's side of the handshake (its hello and
 * its driver's signature on the same t), verified like the accused's; mallory cannot sign t as
 * alice's AI. Login signatures (made to the platform) are refused as evidence too.
 *
 * V2: the same evidence filed twice was traced twice. Fix: the IdP keeps, with its verdicts, the
 * key of each traced evidence (tracedEvidenceKey: the avatar and the message its driver signed)
 * and refuses another case with that key (DUPLICATE_EVIDENCE, naming the first case), before
 * anything is recorded.
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
  buildLoginResponse,
  verifyLogin,
  mutualAuth,
  requestTrace,
  judgeTrace,
  AvatarContext,
  ChallengeBook,
  AuthReply,
  Evidence,
  Hello,
  Side,
  stampEvidence,
  authHello,
  authRespond,
  handshakeTranscript,
  delegate,
  issueProxyMit,
  issueUserMit,
  login,
  trace,
} from "../../offchain/avatars/protocols";
import { Scope, cpsPSign } from "../../offchain/crypto/cps";
import { equalBytes } from "../../offchain/crypto/bytes";

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

  return { ctx, f, A, B, alice, bob, lb };
}

async function chainState(ctx: AvatarContext, registry: MITRegistry, n: number) {
  const cases = [];
  for (let i = 1; i <= n; i++) cases.push((await registry.traceCase(i)).toString());
  return { n, cases, keystore: JSON.stringify(ctx.idp.toRecord()) };
}

/** What mallory files: bob's reply to a replayed hello, with or without a made-up "reporter side". */
function halfOpen(seen: Hello, reply: AuthReply, handshake?: Evidence["handshake"]): { evidence: Evidence; t: Uint8Array } {
  const h = reply.hello;
  const t = handshakeTranscript(seen, h);

  const evidence: Evidence = {
    avatarId: h.avatarId,
    ownerSerial: h.ownerSerial,
    ownerPk: h.ownerPk,
    driverSerial: h.driverSerial,
    warrant: h.warrant,
    o: h.o,
    message: { type: Scope.challenge, time: reply.time, body: t },
    proxySig: reply.proxySig,
    ...(handshake ? { handshake } : {}),
  };
  return { evidence, t };
}

describe("h11-red2 V1, V2: evidence needs a handshake the reporter completed; one interaction is traced once", () => {
  it("V1: mallory (no avatar, no key) replays alice's AI's hello to bob and files his reply: refused, bob not traced", async () => {
    const { ctx, f, A, B } = await setup();
    // a hello of alice's AI avatar, seen on the wire (alice's AI never talks to bob)
    const seen = authHello(ctx, A, B.credential.avatarId).hello;
    // mallory sends it to bob; bob answers (message 2) and waits for a finish that never comes
    const { reply } = await authRespond(ctx, B, seen);
    const mallory = f.registry.connect(f.others[7]);
    // (a) bob's signature alone, as before the fix
    const bare = halfOpen(seen, reply);
    await expect(trace(ctx, mallory, bare.evidence)).to.be.rejectedWith(AvatarProtocolError, /reporter's side of the handshake/);
    // (b) with the replayed hello as "reporter" and a signature mallory can make: none is alice's AI's on t
    const forged = halfOpen(seen, reply, {
      accusedInitiated: false,
      accusedEphemeral: reply.hello.ephemeral,
      accusedNonce: reply.hello.nonce,
      reporter: seen,
      reporterSig: reply.proxySig, // bob's own signature on t is all she holds
    });
    expect(equalBytes(forged.evidence.message.body, forged.t)).to.equal(true);
    await expect(trace(ctx, mallory, forged.evidence)).to.be.rejectedWith(
      AvatarProtocolError,
      /^trace: the reporter's signature on the transcript does not verify$/,
    );
    // both cases closed as Rejected; no verdict names anyone
    for (const id of [1n, 2n]) expect(Number((await f.registry.traceCase(id)).status)).to.equal(3);
  });

  it("V1: carol, with an avatar of her own, signs the transcript of bob's half-open reply as the reporter: refused (her hello is not in it)", async () => {
    const { ctx, f, A, B } = await setup();
    const eye = new SimulatedEye(203);
    const carol = new AvatarParty("carol");
    await issueUserMit(ctx, carol, "Carol", eye);
    const lc = await login(ctx, new ChallengeBook(), carol, eye, { avatarId: avatarIdOf(carol.mit!.serial, "carol"), appearance: "owl" });
    const C: Side = { credential: lc.credential, driver: carol };
    const seen = authHello(ctx, A, B.credential.avatarId).hello; // alice's AI's hello, replayed to bob
    const { reply } = await authRespond(ctx, B, seen);
    const own = authHello(ctx, C, B.credential.avatarId).hello;
    const message = { type: Scope.challenge, time: reply.time, body: halfOpen(seen, reply).t };
    const filed = halfOpen(seen, reply, {
      accusedInitiated: false,
      accusedEphemeral: reply.hello.ephemeral,
      accusedNonce: reply.hello.nonce,
      reporter: own,
      reporterSig: cpsPSign(carol.keys, lc.credential.warrant, lc.credential.o, message), // a valid signature of hers on bob's t
    });
    await expect(trace(ctx, f.registry.connect(f.others[7]), filed.evidence)).to.be.rejectedWith(
      AvatarProtocolError,
      /^trace: the signed message is not the transcript of the handshake shown$/,
    );
  });

  it("V1: the reporter's side is verified like the accused's (bob's client signed whatever it was shown): each fault is refused", async () => {
    const { ctx, f, B, bob } = await setup();
    const eye = new SimulatedEye(204);
    const carol = new AvatarParty("carol");
    await issueUserMit(ctx, carol, "Carol", eye);
    const carolAvatar = avatarIdOf(carol.mit!.serial, "carol");
    // a login warrant carol signed but never had recorded (no login happened)
    const book = new ChallengeBook();
    const unrecorded = buildLoginResponse(ctx, carol, eye.capture(), book.issue(ctx.now()), carolAvatar, new Uint8Array(32), ctx.now());
    const carolHello: Hello = {
      ...authHello(ctx, B, carolAvatar).hello,
      peer: B.credential.avatarId,
      avatarId: carolAvatar,
      ownerSerial: carol.mit!.serial,
      ownerPk: carol.keys.pk,
      driverSerial: carol.mit!.serial,
      warrant: unrecorded.warrant,
      o: unrecorded.o,
    };
    /** evidence about bob from a handshake with `r` that bob's (careless) client signed, r's signature by `signer` */
    const filed = (r: Hello, signer: AvatarParty, w = unrecorded.warrant, o = unrecorded.o): Evidence => {
      const b = { ...authHello(ctx, B, carolAvatar).hello, peer: r.avatarId };
      const t = handshakeTranscript(r, b);
      const message = { type: Scope.challenge, time: ctx.now(), body: t };
      return {
        avatarId: b.avatarId,
        ownerSerial: b.ownerSerial,
        ownerPk: b.ownerPk,
        driverSerial: b.driverSerial,
        warrant: b.warrant,
        o: b.o,
        message,
        proxySig: cpsPSign(bob.keys, B.credential.warrant, B.credential.o, message),
        handshake: {
          accusedInitiated: false,
          accusedEphemeral: b.ephemeral,
          accusedNonce: b.nonce,
          reporter: r,
          reporterSig: cpsPSign(signer.keys, w, o, message),
        },
      };
    };
    const reporter = f.registry.connect(f.others[7]);
    const cases: [Evidence, RegExp][] = [
      [filed(carolHello, carol), /^trace: the reporter's warrant was never recorded on-chain for its avatar and driver$/],
      [filed({ ...carolHello, ownerPk: bob.keys.pk }, carol), /^trace: the reporter's owner key is not its owner MIT's$/],
      [filed({ ...carolHello, driverSerial: bob.mit!.serial }, carol), /^trace: the reporter's warrant's proxy is not its driver's key$/],
      [filed({ ...carolHello, avatarId: B.credential.avatarId }, carol), /^trace: the reporter's avatar is the accused avatar$/],
      [
        filed({ ...carolHello, avatarId: avatarIdOf(carol.mit!.serial, "other") }, carol),
        /^trace: the reporter's warrant is for another avatar$/,
      ],
    ];
    for (const [e, message] of cases) await expect(trace(ctx, reporter, e)).to.be.rejectedWith(AvatarProtocolError, message);
    // the control: the same, with carol logged in under that very warrant, traces bob
    await verifyLogin(ctx, book, carol.mit!.serial, carol.keys.pk, unrecorded);
    expect((await trace(ctx, reporter, filed(carolHello, carol))).realId).to.equal("Bob Builder");
  });

  it("V2: the same case judged again after a crash between the IdP's keystore and its verdict is traced (a retry, not a duplicate)", async () => {
    const { ctx, f, A, B } = await setup();
    const s = await mutualAuth(ctx, A, B);
    const { caseId } = await requestTrace(f.registry.connect(f.others[7]), s.evidenceAboutB);
    const crashing: AvatarContext = {
      ...ctx,
      beforeSend: () => {
        throw new Error("crash before the verdict");
      },
    };
    await expect(judgeTrace(crashing, caseId, s.evidenceAboutB)).to.be.rejectedWith(/crash before the verdict/);
    expect(Number((await f.registry.traceCase(caseId)).status)).to.equal(1);
    expect((await judgeTrace(ctx, caseId, s.evidenceAboutB)).realId).to.equal("Bob Builder");
  });

  it("V1: a completed handshake is evidence for either side; a login signature is not", async () => {
    const { ctx, f, A, B, bob, lb } = await setup();
    const s = await mutualAuth(ctx, A, B);
    // the reporter's side must be the one that signed this transcript: swap in another handshake's
    const other = await mutualAuth(ctx, A, B);
    const mixed: Evidence = { ...s.evidenceAboutB, receipt: undefined, handshake: other.evidenceAboutB.handshake };
    await expect(trace(ctx, f.registry.connect(f.others[9]), mixed)).to.be.rejectedWith(
      AvatarProtocolError,
      /^trace: the signed message is not the transcript of the handshake shown$/,
    );
    expect((await trace(ctx, f.registry.connect(f.others[7]), s.evidenceAboutB)).realId).to.equal("Bob Builder");
    expect((await trace(ctx, f.registry.connect(f.others[8]), s.evidenceAboutA)).realId).to.equal("Alice Liddell");
    // bob's login response, as anyone on the way to the platform saw it
    const r = lb.response;
    const login: Evidence = {
      avatarId: r.avatarId,
      ownerSerial: bob.mit!.serial,
      ownerPk: bob.keys.pk,
      driverSerial: bob.mit!.serial,
      warrant: r.warrant,
      o: r.o,
      message: r.message,
      proxySig: r.proxySig,
    };
    await expect(trace(ctx, f.registry.connect(f.others[9]), login)).to.be.rejectedWith(
      AvatarProtocolError,
      /^trace: a login signature \(made to the platform\) is no evidence of an interaction$/,
    );
  });

  it("V2: one piece of evidence filed again (re-stamped, by someone else) is refused naming the first case; nothing changes", async () => {
    const { ctx, f, A, B } = await setup();
    const s = await mutualAuth(ctx, A, B);
    const first = await trace(ctx, f.registry.connect(f.others[7]), s.evidenceAboutB);
    expect(first.realId).to.equal("Bob Builder");
    // the same interaction, stamped again (another case hash), filed by someone else
    const again = stampEvidence(ctx, { ...s.evidenceAboutB, receipt: undefined });
    const { caseId } = await requestTrace(f.registry.connect(f.others[8]), again);
    const before = await chainState(ctx, f.registry, Number(caseId));
    await expect(judgeTrace(ctx, caseId, again)).to.be.rejectedWith(
      AvatarProtocolError,
      new RegExp(`^judgeTrace: this evidence was traced already in case #${first.caseId}$`),
    );
    // the exact evidence again under a third case: same answer
    const third = await requestTrace(f.registry.connect(f.others[9]), s.evidenceAboutB);
    await expect(judgeTrace(ctx, third.caseId, s.evidenceAboutB)).to.be.rejectedWith(AvatarProtocolError, /traced already in case #/);
    const after = await chainState(ctx, f.registry, Number(caseId));
    expect(after.keystore, "the IdP's keystore changed").to.equal(before.keystore);
    expect(after.cases.slice(0, before.n), "a case changed").to.deep.equal(before.cases);
    expect(Number((await f.registry.traceCase(caseId)).status), "the refused case stays open (no verdict)").to.equal(1);
  });
});
