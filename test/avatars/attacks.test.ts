/**
 * Attacks on the avatar protocols (Appendix B) by the adversaries of the paper's model, one
 * `describe` per adversary and one test per protocol message it attacks: login response,
 * delegation response, the three messages of mutual authentication (hello, reply, finish), and
 * the evidence filed for tracing (off-chain at the IdP, on-chain at CPSVerifier). Each test names
 * the attacker and its capability, asserts the rejection and that nothing changed on-chain.
 *
 * Issue 14 items: 4 (delegation takes a fresh iris sample), 5 (login and delegation bind every
 * recorded field; hellos re-check the warrant's avatar), 6 (evidence times after a revocation
 * come from platform receipts), 7 (verdict openings), 8 (reflection). Each of their tests was
 * run once with its defence removed and failed.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { CPSVerifier, MITRegistry } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { AvatarParty, AvatarProtocolError, IdentityProvider, verdictCommitmentOf } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import {
  avatarIdOf,
  AvatarContext,
  ChallengeBook,
  Evidence,
  Side,
  auditVerdict,
  authComplete,
  authFinish,
  authHello,
  authRespond,
  buildDelegationResponse,
  buildLoginResponse,
  delegate,
  evidenceHash,
  issueProxyMit,
  issueUserMit,
  login,
  loginBody,
  mutualAuth,
  stampEvidence,
  trace,
  verdictOpens,
  verifyDelegation,
  verifyLogin,
} from "../../offchain/avatars/protocols";
import { Scope, Warrant, cpsOSign, cpsPSign, cpsVerifierArgs } from "../../offchain/crypto/cps";
import { keccak256 } from "../../offchain/crypto/hash";
import { toHex } from "../../offchain/crypto/bytes";

const avatarId = (s: string) => keccak256(new TextEncoder().encode(`avatar:${s}`));
/** The id of the avatar `p` calls `name` (names are per owner, avatarIdOf). */
const idOf = (p: AvatarParty, name: string) => avatarIdOf(p.mit!.serial, name);
const vid = (s: string) => keccak256(new TextEncoder().encode(`VID:${s}`));

async function reject(p: Promise<unknown> | (() => unknown), reason: string, message?: string): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${reason}`).to.be.instanceOf(AvatarProtocolError);
  expect((err as AvatarProtocolError).reason, (err as Error).message).to.equal(reason);
  if (message !== undefined) expect((err as Error).message).to.equal(message);
}

async function deployFixture() {
  const [idpAccount, ...others] = await ethers.getSigners();
  const registry = (await (await ethers.getContractFactory("MITRegistry")).deploy(idpAccount.address)) as unknown as MITRegistry;
  const verifier = (await (await ethers.getContractFactory("CPSVerifier")).deploy()) as unknown as CPSVerifier;
  const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-attacks-")));
  return { registry, verifier, store, others };
}

/** alice and bob (users), alice's AI proxy, mallory (a user with her own eye) and mallory's AI. */
async function world() {
  const f = await loadFixture(deployFixture);
  const idp = new IdentityProvider();
  const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
  const ctx: AvatarContext = { registry: f.registry, idp, store: f.store, now: () => Math.floor(Date.now() / 1000) + offset };
  await time.setNextBlockTimestamp(ctx.now());
  const eyes = { alice: new SimulatedEye(101), bob: new SimulatedEye(102), mallory: new SimulatedEye(103) };
  const alice = new AvatarParty("alice");
  const bob = new AvatarParty("bob");
  const mallory = new AvatarParty("mallory");
  const ai = new AvatarParty("alice-ai");
  const evilAi = new AvatarParty("mallory-ai");
  await issueUserMit(ctx, alice, "Alice Liddell", eyes.alice);
  await issueUserMit(ctx, bob, "Bob Builder", eyes.bob);
  await issueUserMit(ctx, mallory, "Mallory Moriarty", eyes.mallory);
  await issueProxyMit(ctx, ai, "alice's assistant");
  await issueProxyMit(ctx, evilAi, "mallory's bot");
  const server = new ChallengeBook();
  return { ...f, ctx, idp, eyes, alice, bob, mallory, ai, evilAi, server };
}

/** alice's avatar delegated to her AI, bob logged in. */
async function delegatedWorld() {
  const w = await world();
  const la = await login(w.ctx, w.server, w.alice, w.eyes.alice, { avatarId: avatarIdOf(w.alice.mit!.serial, "alice"), appearance: "fox" });
  const lb = await login(w.ctx, w.server, w.bob, w.eyes.bob, { avatarId: avatarIdOf(w.bob.mit!.serial, "bob"), appearance: "whale" });
  const d = await delegate(w.ctx, w.server, w.alice, w.eyes.alice, w.ai, { avatarId: avatarIdOf(w.alice.mit!.serial, "alice") });
  const A: Side = { credential: d.credential, driver: w.ai };
  const B: Side = { credential: lb.credential, driver: w.bob };
  return { ...w, la, lb, d, A, B };
}

/** The on-chain avatar record, to assert that a rejected step changed nothing. */
async function record(registry: MITRegistry, id: Uint8Array) {
  const a = await registry.avatar(toHex(id));
  return [a.owner, a.driverSerial, Number(a.driver), a.warrantHash, a.vidCommitment, await registry.activeDelegation(toHex(id))];
}

/** A party that holds `victim`'s key and MIT (a thief of the key), but not the victim's eye. */
function thiefOf(victim: AvatarParty): AvatarParty {
  const t = new AvatarParty(`thief-of-${victim.name}`, victim.keys);
  t.mit = victim.mit;
  t.irisCommitment = victim.irisCommitment;
  return t;
}

describe("avatars: attacks by the paper's adversaries (issue 14)", () => {
  describe("# impersonation (an attacker without the victim's eye or key)", () => {
    it("login response: a thief holding alice's key but not her eye cannot log in as her", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      const before = await record(registry, idOf(alice, "alice"));
      await reject(
        login(ctx, server, thiefOf(alice), eyes.mallory, { avatarId: idOf(alice, "alice"), appearance: "fox" }),
        "IRIS_MISMATCH",
      );
      expect(await record(registry, idOf(alice, "alice"))).to.deep.equal(before);
    });

    it("delegation response (item 4): a thief holding alice's key but not her eye cannot delegate her avatar to his AI", async () => {
      const { ctx, server, alice, evilAi, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "alice"), appearance: "fox" });
      const before = await record(registry, idOf(alice, "alice"));
      await reject(delegate(ctx, server, thiefOf(alice), eyes.mallory, evilAi, { avatarId: idOf(alice, "alice") }), "IRIS_MISMATCH");
      expect(await record(registry, idOf(alice, "alice"))).to.deep.equal(before);
      expect((await registry.queryFilter(registry.filters.AvatarDelegated())).length).to.equal(0);
    });

    it("delegation response (item 4): a delegation response without the owner's sample does not verify", async () => {
      const { ctx, server, alice, evilAi, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "alice"), appearance: "fox" });
      const before = await record(registry, idOf(alice, "alice"));
      const c = server.issue(ctx.now());
      const r = buildDelegationResponse(
        ctx,
        thiefOf(alice),
        eyes.mallory.capture(),
        evilAi,
        c,
        { avatarId: idOf(alice, "alice") },
        ctx.now(),
      );
      await reject(verifyDelegation(ctx, server, { ...r, sealedSample: new Uint8Array(r.sealedSample.length) }), "STALE_CHALLENGE");
      expect(await record(registry, idOf(alice, "alice"))).to.deep.equal(before);
    });

    it("hello: mallory replays alice's AI avatar's hello without its driver's key; the responder refuses her finish", async () => {
      const { ctx, A, B, mallory } = await delegatedWorld();
      const stolen = authHello(ctx, A, B.credential.avatarId).hello; // seen on the wire
      const b = await authRespond(ctx, B, stolen);
      const msg = { type: Scope.challenge, time: b.reply.time, body: new Uint8Array(32) };
      // mallory signs with her own key (cpsPSign refuses a key that is not the warrant's proxy, so she computes it by hand)
      const { messagePoint } = await import("../../offchain/crypto/cps");
      const forged = messagePoint(A.credential.o.h, msg).multiply(mallory.keys.sk);
      await reject(async () => authComplete(ctx, b.state, { proxySig: forged, confirm: new Uint8Array(32) }), "BAD_SIGNATURE");
    });

    it("reply: a responder without its driver's key cannot answer", async () => {
      const { ctx, A, B, mallory } = await delegatedWorld();
      const a = authHello(ctx, A, B.credential.avatarId);
      const b = await authRespond(ctx, B, a.hello);
      const { messagePoint } = await import("../../offchain/crypto/cps");
      const msg = { type: Scope.challenge, time: b.reply.time, body: new Uint8Array(32) };
      await reject(
        authFinish(ctx, a.state, { ...b.reply, proxySig: messagePoint(B.credential.o.h, msg).multiply(mallory.keys.sk) }),
        "BAD_SIGNATURE",
      );
    });

    it("evidence on-chain: CPSVerifier accepts the genuine evidence and refuses the same interaction signed by a stranger's key", async () => {
      const { ctx, A, B, verifier, mallory } = await delegatedWorld();
      const e = (await mutualAuth(ctx, A, B)).evidenceAboutA;
      expect(await verifier.verify(...cpsVerifierArgs(e.ownerPk, e.warrant, e.o, e.message, e.proxySig))).to.equal(true);
      const { messagePoint } = await import("../../offchain/crypto/cps");
      const forged = messagePoint(e.o.h, e.message).multiply(mallory.keys.sk);
      expect(await verifier.verify(...cpsVerifierArgs(e.ownerPk, e.warrant, e.o, e.message, forged))).to.equal(false);
    });
  });

  describe("# relay (a man in the middle who alters or redirects honest messages)", () => {
    it("login response (item 5): a relay swaps the VID commitment (the avatar's appearance); refused, nothing recorded", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      const r = buildLoginResponse(ctx, alice, eyes.alice.capture(), server.issue(ctx.now()), idOf(alice, "alice"), vid("fox"), ctx.now());
      await reject(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, { ...r, vidCommitment: vid("a clown") }), "BAD_RESPONSE");
      expect((await registry.queryFilter(registry.filters.AvatarLoggedIn())).length).to.equal(0);
    });

    it("login response (item 5): a relay redirects alice's login to an unclaimed avatar; refused, neither avatar recorded", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      const r = buildLoginResponse(ctx, alice, eyes.alice.capture(), server.issue(ctx.now()), idOf(alice, "alice"), vid("fox"), ctx.now());
      const swapped = {
        ...r,
        avatarId: idOf(alice, "unclaimed"),
        message: { ...r.message, body: loginBody(r.challenge, alice.mit!.serial, idOf(alice, "unclaimed"), vid("fox")) },
      };
      await reject(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, swapped), "BAD_WARRANT");
      // the first refusal left the challenge open (h16-red R2): the second is refused for its own fault
      await reject(
        verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, { ...r, avatarId: idOf(alice, "unclaimed") }),
        "BAD_RESPONSE",
      );
      expect((await registry.queryFilter(registry.filters.AvatarLoggedIn())).length).to.equal(0);
    });

    it("login response (item 5): the relay's swap with the body left alone is refused before the challenge is spent elsewhere", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      const r = buildLoginResponse(ctx, alice, eyes.alice.capture(), server.issue(ctx.now()), idOf(alice, "alice"), vid("fox"), ctx.now());
      await reject(
        verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, { ...r, avatarId: idOf(alice, "unclaimed") }),
        "BAD_RESPONSE",
      );
      expect((await registry.avatar(toHex(idOf(alice, "unclaimed")))).owner).to.equal(ethers.ZeroHash);
      expect((await registry.queryFilter(registry.filters.AvatarLoggedIn())).length).to.equal(0);
    });

    it("delegation response (item 4): a thief relays his delegation challenge to alice as a login challenge; her sample does not authorize his delegation", async () => {
      const { ctx, server, alice, evilAi, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "alice"), appearance: "fox" });
      const before = await record(registry, idOf(alice, "alice"));
      const c = server.issue(ctx.now());
      // alice answers what she takes for a login challenge: her sample is sealed to c, for a login under her warrant
      const hers = buildLoginResponse(ctx, alice, eyes.alice.capture(), c, idOf(alice, "alice"), vid("fox"), ctx.now());
      const his = buildDelegationResponse(
        ctx,
        thiefOf(alice),
        eyes.mallory.capture(),
        evilAi,
        c,
        { avatarId: idOf(alice, "alice") },
        ctx.now(),
      );
      await reject(verifyDelegation(ctx, server, { ...his, sealedSample: hers.sealedSample }), "STALE_CHALLENGE");
      expect(await record(registry, idOf(alice, "alice"))).to.deep.equal(before);
    });

    it("delegation response (item 5): a relay redirects the delegation to another MIT of the proxy's key or to another avatar; refused", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "alice"), appearance: "fox" });
      await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "alice-2"), appearance: "owl" });
      await login(ctx, server, bob, eyes.bob, { avatarId: idOf(bob, "bob"), appearance: "whale" });
      const twin = new AvatarParty("ai-twin", ai.keys); // a second proxy MIT for the same key
      await issueProxyMit(ctx, twin, "twin operator");
      const before = [await record(registry, idOf(alice, "alice")), await record(registry, idOf(alice, "alice-2"))];
      const r = () =>
        buildDelegationResponse(
          ctx,
          alice,
          eyes.alice.capture(),
          ai,
          server.issue(ctx.now()),
          { avatarId: idOf(alice, "alice") },
          ctx.now(),
        );
      await reject(verifyDelegation(ctx, server, { ...r(), proxySerial: twin.mit!.serial }), "BAD_RESPONSE");
      await reject(verifyDelegation(ctx, server, { ...r(), avatarId: idOf(alice, "alice-2") }), "BAD_WARRANT");
      expect([await record(registry, idOf(alice, "alice")), await record(registry, idOf(alice, "alice-2"))]).to.deep.equal(before);
    });

    it("hello / reply (unknown-key share): eve puts her own identity on bob's reply; alice's initiator refuses, no key is shared with the wrong peer", async () => {
      const { ctx, server, A, B, mallory, eyes } = await delegatedWorld();
      const le = await login(ctx, server, mallory, eyes.mallory, { avatarId: idOf(mallory, "eve"), appearance: "eve" });
      const E: Side = { credential: le.credential, driver: mallory };
      const a = authHello(ctx, A, B.credential.avatarId);
      const b = await authRespond(ctx, B, a.hello);
      // eve answers alice with her own (genuine) hello but bob's ephemeral key, signature and confirmation
      const eveHello = { ...authHello(ctx, E, A.credential.avatarId).hello, ephemeral: b.reply.hello.ephemeral };
      const e = await authRespond(ctx, E, { ...a.hello, peer: E.credential.avatarId }); // the relay readdresses alice's hello to eve
      // alice addressed bob (session 17): a reply in eve's name is refused by name, before any signature is checked
      await reject(authFinish(ctx, a.state, { ...b.reply, hello: eveHello }), "WRONG_PEER");
      // with eve's own signature over her substituted hello, the same
      await reject(authFinish(ctx, a.state, { ...e.reply, hello: { ...e.reply.hello, ephemeral: b.reply.hello.ephemeral } }), "WRONG_PEER");
      // eve's identity on bob's reply, under bob's avatar id as alice expects: bob's signature is not on it
      await reject(authFinish(ctx, a.state, { ...b.reply, hello: { ...eveHello, avatarId: B.credential.avatarId } }), "NOT_DRIVER");
    });

    it("finish: a relay forwards alice's finish from her session with eve to bob; bob refuses", async () => {
      const { ctx, server, A, B, mallory, eyes } = await delegatedWorld();
      const le = await login(ctx, server, mallory, eyes.mallory, { avatarId: idOf(mallory, "eve"), appearance: "eve" });
      const E: Side = { credential: le.credential, driver: mallory };
      const a = authHello(ctx, A, E.credential.avatarId); // alice means to talk to eve
      // the relay readdresses her hello to bob (the hello is not signed: bob answers it)
      const toBob = await authRespond(ctx, B, { ...a.hello, peer: B.credential.avatarId });
      const toEve = await authRespond(ctx, E, a.hello);
      const f = await authFinish(ctx, a.state, toEve.reply); // alice finishes with eve
      await reject(async () => authComplete(ctx, toBob.state, f.finish), "BAD_SIGNATURE");
    });
  });

  describe("# unknown-key share (an attacker makes a party's message count for another identity)", () => {
    it("login response: mallory claims alice's honest response under her own MIT; refused, nothing recorded", async () => {
      const { ctx, server, alice, mallory, eyes, registry } = await world();
      // an id in mallory's namespace, so that the claim gets past the namespace check (an id of
      // alice's is refused NOT_OWNER at once) to the warrant's iris commitment, alice's (checked
      // before the challenge is spent, h16-red R2; the sample's binding to her serial comes after)
      const id = idOf(mallory, "alice");
      const r = buildLoginResponse(ctx, alice, eyes.alice.capture(), server.issue(ctx.now()), id, vid("fox"), ctx.now());
      await reject(verifyLogin(ctx, server, mallory.mit!.serial, mallory.keys.pk, r), "IRIS_MISMATCH");
      const r2 = buildLoginResponse(ctx, alice, eyes.alice.capture(), server.issue(ctx.now()), idOf(alice, "alice"), vid("fox"), ctx.now());
      await reject(verifyLogin(ctx, server, mallory.mit!.serial, mallory.keys.pk, r2), "NOT_OWNER");
      expect((await registry.queryFilter(registry.filters.AvatarLoggedIn())).length).to.equal(0);
    });

    it("delegation response: a second user MIT of alice's key cannot take over her delegation response", async () => {
      const { ctx, server, alice, ai, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "alice"), appearance: "fox" });
      const twin = new AvatarParty("alice-twin", alice.keys);
      // her own eye gets no second MIT (one person, one MIT): an accomplice's eye with her key
      await issueUserMit(ctx, twin, "Alice's twin MIT", new SimulatedEye(99));
      const before = await record(registry, idOf(alice, "alice"));
      const r = buildDelegationResponse(
        ctx,
        alice,
        eyes.alice.capture(),
        ai,
        server.issue(ctx.now()),
        { avatarId: idOf(alice, "alice") },
        ctx.now(),
      );
      await reject(verifyDelegation(ctx, server, { ...r, ownerSerial: twin.mit!.serial }), "NOT_OWNER");
      expect(await record(registry, idOf(alice, "alice"))).to.deep.equal(before);
    });
  });

  describe("# unknown-key share and relay of evidence (the reporter's channel to the IdP)", () => {
    it("evidence: bob's evidence relabelled as about alice's avatar or her AI driver, or its interaction altered; each refused and closed as rejected", async () => {
      const { ctx, A, B, registry, others, ai } = await delegatedWorld();
      const s = await mutualAuth(ctx, A, B);
      const e = s.evidenceAboutB;
      const reporter = registry.connect(others[3]);
      await reject(trace(ctx, reporter, { ...e, avatarId: A.credential.avatarId }), "BAD_EVIDENCE");
      await reject(trace(ctx, reporter, { ...e, driverSerial: ai.mit!.serial }), "KEY_MISMATCH");
      await reject(
        trace(ctx, reporter, { ...e, message: { ...e.message, body: new TextEncoder().encode("something bob never said") } }),
        "BAD_SIGNATURE",
      );
      const verdicts = await registry.queryFilter(registry.filters.TraceVerdict());
      expect(verdicts.map((v) => [Number(v.args.status), v.args.verdictCommitment])).to.deep.equal([
        [3, ethers.ZeroHash],
        [3, ethers.ZeroHash],
        [3, ethers.ZeroHash],
      ]);
    });
  });

  describe("# replay (an attacker who resends old messages)", () => {
    it("login response: a replayed response finds its challenge spent", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      const l = await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "alice"), appearance: "fox" });
      const before = await record(registry, idOf(alice, "alice"));
      await reject(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, l.response), "STALE_CHALLENGE");
      expect(await record(registry, idOf(alice, "alice"))).to.deep.equal(before);
    });

    it("delegation response: a replayed delegation finds its challenge spent; an old sealed sample does not open under a new challenge", async () => {
      const { ctx, server, alice, ai, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "alice"), appearance: "fox" });
      const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: idOf(alice, "alice") });
      const before = await record(registry, idOf(alice, "alice"));
      await reject(verifyDelegation(ctx, server, d.response), "STALE_CHALLENGE");
      const fresh = buildDelegationResponse(
        ctx,
        thiefOf(alice),
        eyes.mallory.capture(),
        ai,
        server.issue(ctx.now()),
        { avatarId: idOf(alice, "alice") },
        ctx.now(),
      );
      await reject(verifyDelegation(ctx, server, { ...fresh, sealedSample: d.response.sealedSample }), "STALE_CHALLENGE");
      expect(await record(registry, idOf(alice, "alice"))).to.deep.equal(before);
    });

    it("reply: a reply from an earlier session does not answer a new hello", async () => {
      const { ctx, A, B } = await delegatedWorld();
      const old = await authRespond(ctx, B, authHello(ctx, A, B.credential.avatarId).hello);
      await reject(authFinish(ctx, authHello(ctx, A, B.credential.avatarId).state, old.reply), "BAD_SIGNATURE");
    });

    it("reply: a reply whose signed time is stale is refused", async () => {
      const { ctx, A, B } = await delegatedWorld();
      const a = authHello(ctx, A, B.credential.avatarId);
      const b = await authRespond({ ...ctx, now: () => ctx.now() + 600 }, B, a.hello);
      await reject(authFinish(ctx, a.state, b.reply), "STALE_TIME");
    });

    it("finish: a finish from an earlier session does not complete a new one", async () => {
      const { ctx, A, B } = await delegatedWorld();
      const a1 = authHello(ctx, A, B.credential.avatarId);
      const b1 = await authRespond(ctx, B, a1.hello);
      const f1 = await authFinish(ctx, a1.state, b1.reply);
      const b2 = await authRespond(ctx, B, authHello(ctx, A, B.credential.avatarId).hello);
      await reject(async () => authComplete(ctx, b2.state, f1.finish), "BAD_SIGNATURE");
    });

    it("evidence: a receipt for one piece of evidence does not date another", async () => {
      const { ctx, A, B, registry, others, d } = await delegatedWorld();
      const s = await mutualAuth(ctx, A, B);
      await registry.revokeDelegation(d.delegationId);
      const msg = { type: Scope.interaction, time: s.evidenceAboutA.message.time, body: new TextEncoder().encode("a crime") };
      const late: Evidence = {
        ...s.evidenceAboutA,
        message: msg,
        proxySig: cpsPSign(A.driver.keys, A.credential.warrant, A.credential.o, msg),
      };
      await reject(trace(ctx, registry.connect(others[3]), late), "NOT_DRIVER");
    });
  });

  describe("# reflection (item 8: an attacker sends an avatar its own messages)", () => {
    it("hello: an avatar asked to answer its own hello refuses (no self-session)", async () => {
      const { ctx, A, B } = await delegatedWorld();
      const a = authHello(ctx, A, B.credential.avatarId);
      // reflected as is, the hello is addressed to bob (session 17); readdressed to alice herself, it is a self-session
      await reject(authRespond(ctx, A, a.hello), "WRONG_PEER");
      await reject(authRespond(ctx, A, { ...a.hello, peer: A.credential.avatarId }), "REFLECTION");
      expect(() => authHello(ctx, A, A.credential.avatarId)).to.throw(/a reflected hello/);
    });

    it("reply: the avatar's own reply (from a parallel session where it responded to its reflected hello) is refused by its initiator", async () => {
      const { ctx, A, B } = await delegatedWorld();
      const a = authHello(ctx, A, B.credential.avatarId);
      // a parallel session in which A's driver answered: the reply carries A's own avatar (built by a responder that lacks the refusal)
      const b = await authRespond(ctx, B, a.hello);
      const mirrored = { ...b.reply, hello: { ...a.hello, ephemeral: b.reply.hello.ephemeral, nonce: b.reply.hello.nonce } };
      // alice's hello named bob, so a reply from her own avatar is from another avatar than the one addressed (session 17)
      await reject(authFinish(ctx, a.state, mirrored), "WRONG_PEER");
    });

    it("finish: the responder's confirmation tag reflected back to it does not confirm the initiator", async () => {
      const { ctx, A, B } = await delegatedWorld();
      const a = authHello(ctx, A, B.credential.avatarId);
      const b = await authRespond(ctx, B, a.hello);
      const f = await authFinish(ctx, a.state, b.reply);
      expect(toHex(f.finish.confirm)).to.not.equal(toHex(b.reply.confirm)); // one label per direction
      await reject(async () => authComplete(ctx, b.state, { proxySig: f.finish.proxySig, confirm: b.reply.confirm }), "KEY_CONFIRMATION");
      expect(toHex((await authComplete(ctx, b.state, f.finish)).key)).to.equal(toHex(f.key));
    });
  });

  describe("# false accusation (a reporter, possibly colluding with a proxy, frames an innocent owner)", () => {
    it("evidence (item 6): after alice revokes, her colluding proxy backdates a message into the delegation window; not traced to her", async () => {
      const { ctx, A, registry, others, d, alice } = await delegatedWorld();
      await registry.revokeDelegation(d.delegationId);
      const revokedAt = Number((await registry.delegation(d.delegationId)).revokedAt);
      const msg = {
        type: Scope.interaction,
        time: revokedAt - 1,
        body: new TextEncoder().encode("signed after the revocation, dated before"),
      };
      const e: Evidence = {
        avatarId: A.credential.avatarId,
        ownerSerial: alice.mit!.serial,
        ownerPk: alice.keys.pk,
        driverSerial: A.driver.mit!.serial,
        warrant: A.credential.warrant,
        o: A.credential.o,
        message: msg,
        proxySig: cpsPSign(A.driver.keys, A.credential.warrant, A.credential.o, msg),
      };
      const reporter = registry.connect(others[3]);
      await reject(trace(ctx, reporter, e), "NOT_DRIVER");
      // the platform stamps it only now, after the revocation (its clock: the chain's, as the IdP
      // service's; this world's ctx clock lags the chain by the blocks mined within a second, and
      // a receipt by it would predate the revocation): still not hers
      await time.increase(1);
      const platformNow = await time.latest();
      expect(platformNow).to.be.greaterThan(revokedAt);
      await reject(trace(ctx, reporter, stampEvidence({ ...ctx, now: () => platformNow }, e)), "NOT_DRIVER");
      // a receipt made by anyone but the platform does not count
      const fakePlatform = new IdentityProvider();
      await reject(trace(ctx, reporter, { ...e, receipt: fakePlatform.stamp(evidenceHash(e), revokedAt - 1) }), "NOT_DRIVER");
      const cases = await registry.queryFilter(registry.filters.TraceVerdict());
      expect(cases.map((c) => Number(c.args.status))).to.deep.equal([3, 3, 3]);
    });

    it("login response: a reporter cannot make a login warrant for alice (her original signature is needed); the forged response is refused", async () => {
      const { ctx, server, alice, mallory, eyes, registry } = await world();
      const c = server.issue(ctx.now());
      const forged = buildLoginResponse(ctx, mallory, eyes.mallory.capture(), c, idOf(alice, "alice"), vid("fox"), ctx.now());
      // refused at the warrant's iris commitment (mallory's, not alice's), before the challenge is spent
      await reject(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, forged), "IRIS_MISMATCH");
      expect((await registry.queryFilter(registry.filters.AvatarLoggedIn())).length).to.equal(0);
    });

    it("delegation response: mallory cannot record a delegation in alice's name to her AI (alice's warrant signature and eye are needed)", async () => {
      const { ctx, server, alice, mallory, evilAi, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "alice"), appearance: "fox" });
      const before = await record(registry, idOf(alice, "alice"));
      const posing = new AvatarParty("mallory-as-alice", mallory.keys);
      posing.mit = alice.mit;
      posing.irisCommitment = alice.irisCommitment;
      const r = buildDelegationResponse(
        ctx,
        posing,
        eyes.alice.capture(),
        evilAi,
        server.issue(ctx.now()),
        { avatarId: idOf(alice, "alice") },
        ctx.now(),
      );
      await reject(verifyDelegation(ctx, server, r), "BAD_SIGNATURE");
      expect(await record(registry, idOf(alice, "alice"))).to.deep.equal(before);
    });

    it("evidence on-chain: a warrant with bob's iris commitment 'signed' by the AI key does not verify under bob's key", async () => {
      const { ctx, A, B, verifier, bob, ai } = await delegatedWorld();
      const e = (await mutualAuth(ctx, A, B)).evidenceAboutA;
      const framed: Warrant = { ...e.warrant, irisCommitment: bob.irisCommitment! };
      const o = cpsOSign(ai.keys, framed);
      const sig = cpsPSign(ai.keys, framed, o, e.message);
      expect(await verifier.verify(...cpsVerifierArgs(bob.keys.pk, framed, o, e.message, sig))).to.equal(false);
    });
  });

  describe("# forgery on-chain (an outsider writes the records that verifiers and tracing rely on)", () => {
    it("login, delegation and verdict records: only the IdP's account writes them; an outsider's calls revert and change nothing", async () => {
      const { ctx, A, B, registry, others, d, mallory, alice, bob } = await delegatedWorld();
      const s = await mutualAuth(ctx, A, B);
      const t = await trace(ctx, registry.connect(others[3]), s.evidenceAboutB);
      const outsider = registry.connect(others[5]);
      const before = [await record(registry, idOf(alice, "alice")), await record(registry, idOf(bob, "bob"))];
      const caseBefore = await registry.traceCase(t.caseId);
      const h = toHex(A.credential.o.h);
      const calls = [
        () => outsider.recordLogin(toHex(idOf(alice, "alice")), toHex(mallory.mit!.serial), h, toHex(vid("x")), 4_102_444_800n),
        () => outsider.recordDelegation(toHex(idOf(bob, "bob")), toHex(mallory.mit!.serial), h, 4_102_444_800n),
        () => outsider.revokeDelegation(d.delegationId),
        () => outsider.recordVerdict(t.caseId + 1n, true, h),
        () => outsider.issueMIT(toHex(avatarId("forged-mit")), h, "cid"),
      ];
      for (const c of calls) await expect(c()).to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount");
      expect([await record(registry, idOf(alice, "alice")), await record(registry, idOf(bob, "bob"))]).to.deep.equal(before);
      expect(await registry.traceCase(t.caseId)).to.deep.equal(caseBefore);
    });
  });

  describe("# escape from tracing (a manipulator who acts and then cannot be traced)", () => {
    it("login response (item 5): a user who signs her login warrant for another avatar id is refused at login", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      const c = server.issue(ctx.now());
      const now = ctx.now();
      const warrant: Warrant = {
        irisCommitment: alice.irisCommitment!,
        proxy: alice.keys.pk,
        avatarId: idOf(alice, "elsewhere"),
        scope: Scope.all,
        notBefore: now,
        notAfter: now + 86_400,
      };
      const o = cpsOSign(alice.keys, warrant);
      const message = {
        type: Scope.login,
        time: now,
        body: loginBody(c, alice.mit!.serial, idOf(alice, "alice"), vid("fox")),
      };
      const { sampleBinding, SamplePurpose } = await import("../../offchain/avatars/protocols");
      const r = {
        challenge: c,
        sealedSample: alice.sealSample(ctx.idp.channelKey, eyes.alice.capture(), c, sampleBinding(SamplePurpose.login, o.h)),
        warrant,
        o,
        message,
        proxySig: cpsPSign(alice.keys, warrant, o, message),
        avatarId: idOf(alice, "alice"),
        vidCommitment: vid("fox"),
      };
      await reject(
        verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, r),
        "BAD_WARRANT",
        "login: the warrant is for another avatar than the one claimed",
      );
      expect((await registry.queryFilter(registry.filters.AvatarLoggedIn())).length).to.equal(0);
    });

    it("hello (item 5): an avatar recorded under a warrant for another avatar id is refused by its peer (it could not be traced)", async () => {
      const { ctx, server, alice, bob, eyes, registry } = await world();
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: idOf(bob, "bob"), appearance: "whale" });
      // a record made before the binding check (or by a faulty platform): alice's avatar under a warrant for "elsewhere"
      const now = ctx.now();
      const warrant: Warrant = {
        irisCommitment: alice.irisCommitment!,
        proxy: alice.keys.pk,
        avatarId: idOf(alice, "elsewhere"),
        scope: Scope.all,
        notBefore: now,
        notAfter: now + 86_400,
      };
      const o = cpsOSign(alice.keys, warrant);
      await registry.recordLogin(toHex(idOf(alice, "alice")), toHex(alice.mit!.serial), toHex(o.h), toHex(vid("fox")), warrant.notAfter);
      const mis: Side = {
        credential: { avatarId: idOf(alice, "alice"), owner: alice, driver: alice, warrant, o },
        driver: alice,
      };
      const other = "the presented warrant is for another avatar";
      await reject(mutualAuth(ctx, mis, { credential: lb.credential, driver: bob }), "BAD_WARRANT", other);
      await reject(mutualAuth(ctx, { credential: lb.credential, driver: bob }, mis), "BAD_WARRANT", other);
    });

    it("delegation response (item 5): an owner who signs the delegation warrant for another avatar id is refused", async () => {
      const { ctx, server, alice, ai, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "alice"), appearance: "fox" });
      const before = await record(registry, idOf(alice, "alice"));
      const c = server.issue(ctx.now());
      const r = buildDelegationResponse(ctx, alice, eyes.alice.capture(), ai, c, { avatarId: idOf(alice, "elsewhere") }, ctx.now());
      const { delegationBody } = await import("../../offchain/avatars/protocols");
      const message = { ...r.message, body: delegationBody(c, alice.mit!.serial, ai.mit!.serial, idOf(alice, "alice")) };
      await reject(
        verifyDelegation(ctx, server, {
          ...r,
          avatarId: idOf(alice, "alice"),
          message,
          proxySig: cpsPSign(ai.keys, r.warrant, r.o, message),
        }),
        "BAD_WARRANT",
        "delegate: the warrant is for another avatar than the one delegated",
      );
      expect(await record(registry, idOf(alice, "alice"))).to.deep.equal(before);
    });

    it("evidence (item 6): alice revokes after her AI misbehaved; the victim's stamped evidence still traces to her", async () => {
      const { ctx, A, B, registry, others, d } = await delegatedWorld();
      const s = await mutualAuth(ctx, A, B);
      expect(s.evidenceAboutA.receipt).to.not.equal(undefined);
      await time.increase(60);
      await registry.revokeDelegation(d.delegationId);
      const t = await trace(ctx, registry.connect(others[3]), s.evidenceAboutA);
      expect(t.realId).to.equal("Alice Liddell");
    });

    it("verdict (item 7): the verdict commitment opens, from the IdP's restored keystore, to the traced UID; a wrong opening does not, nor an altered keystore's", async () => {
      const { ctx, A, B, registry, others, alice } = await delegatedWorld();
      const s = await mutualAuth(ctx, A, B);
      const t = await trace(ctx, registry.connect(others[3]), s.evidenceAboutA);
      const restored = IdentityProvider.fromRecord(JSON.parse(JSON.stringify(ctx.idp.toRecord())));
      const opening = await auditVerdict({ registry, idp: restored }, t.caseId);
      expect(opening.uid).to.equal(ethers.keccak256(ethers.concat([ethers.toUtf8Bytes("UID"), alice.mit!.serial])));
      expect(toHex(verdictCommitmentOf(opening.uid, opening.salt))).to.equal((await registry.traceCase(t.caseId)).verdictCommitment);
      const c = ethers.getBytes((await registry.traceCase(t.caseId)).verdictCommitment);
      expect(verdictOpens(c, alice.mit!.serial, opening)).to.equal(true);
      const bobUid = ethers.keccak256(ethers.concat([ethers.toUtf8Bytes("UID"), B.driver.mit!.serial]));
      expect(verdictOpens(c, alice.mit!.serial, { uid: bobUid, salt: opening.salt })).to.equal(false);
      // a true opening checked against another owner's serial does not name that owner (h14-red F3)
      expect(verdictOpens(c, B.driver.mit!.serial, opening)).to.equal(false);
      // a rejected case has nothing to open; an IdP that did not trace the case cannot open it
      await reject(trace(ctx, registry.connect(others[3]), { ...s.evidenceAboutA, proxySig: s.evidenceAboutA.o.sig }), "BAD_SIGNATURE");
      await reject(auditVerdict(ctx, t.caseId + 1n), "UNKNOWN_CASE", `auditVerdict: case ${t.caseId + 1n} is not a traced case`);
      await reject(auditVerdict({ registry, idp: new IdentityProvider() }, t.caseId), "UNKNOWN_VERDICT");
      // a keystore whose opening was altered (bob's UID under alice's verdict) is caught by the chain's commitment
      const altered = JSON.parse(JSON.stringify(ctx.idp.toRecord())) as { verdicts: { uid: string }[] };
      altered.verdicts[0].uid = bobUid;
      await reject(
        auditVerdict({ registry, idp: IdentityProvider.fromRecord(altered) }, t.caseId),
        "BAD_OPENING",
        `auditVerdict: the opening does not match case ${t.caseId}'s commitment`,
      );
    });
  });

  describe("# linkability (what a peer or the chain can link)", () => {
    it("two avatars of one MIT are linkable (owner serial, key, iris commitment) and trace to her; a second MIT for her eye (an unlinkable persona) is refused: one person, one MIT", async () => {
      const { ctx, server, alice, bob, eyes, registry, others } = await world();
      const persona = new AvatarParty("alice-persona"); // a second MIT, with a new key
      await reject(issueUserMit(ctx, persona, "Alice Liddell", eyes.alice), "DUPLICATE_IDENTITY");
      expect(persona.mit).to.equal(undefined);
      const l1 = await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "a1"), appearance: "fox" });
      const l2 = await login(ctx, server, alice, eyes.alice, { avatarId: idOf(alice, "a2"), appearance: "owl" });
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: idOf(bob, "bob"), appearance: "whale" });
      const owner = async (n: string) => (await registry.avatar(toHex(avatarId(n)))).owner;
      expect(await owner("a1")).to.equal(await owner("a2")); // one MIT: linked on-chain
      expect(toHex(l1.credential.warrant.irisCommitment)).to.equal(toHex(l2.credential.warrant.irisCommitment));
      const B: Side = { credential: lb.credential, driver: bob };
      const e1 = (await mutualAuth(ctx, { credential: l1.credential, driver: alice }, B)).evidenceAboutA;
      const e2 = (await mutualAuth(ctx, { credential: l2.credential, driver: alice }, B)).evidenceAboutA;
      const reporter = registry.connect(others[3]);
      const [t1, t2] = [await trace(ctx, reporter, e1), await trace(ctx, reporter, e2)];
      expect([t1.realId, t2.realId]).to.deep.equal(["Alice Liddell", "Alice Liddell"]);
      expect(t1.uid).to.equal(t2.uid);
    });
  });
});
