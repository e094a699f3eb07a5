import { expect } from "chai";
import { hkdfSync } from "crypto";
import { ethers } from "hardhat";
import { avatarWorld } from "../helpers/avatar-world";
import { MITRegistry } from "../../typechain-types";
import { AvatarParty, AvatarProtocolError, IdentityProvider, mitDescription } from "../../offchain/avatars/agents";
import { SimulatedEye, hammingDistance, irisMatch, MATCH_THRESHOLD } from "../../offchain/avatars/iris";
import {
  LOGIN_VALIDITY,
  CHALLENGE_TTL,
  avatarIdOf,
  AvatarContext,
  AvatarCredential,
  ChallengeBook,
  Evidence,
  LoginResponse,
  SamplePurpose,
  authComplete,
  authFinish,
  authHello,
  authRespond,
  buildDelegationResponse,
  buildLoginResponse,
  delegate,
  caseHash,
  evidenceHash,
  issueProxyMit,
  issueUserMit,
  judgeTrace,
  login,
  loginBody,
  mutualAuth,
  platformId,
  platformOf,
  requestTrace,
  sampleBinding,
  trace,
  verifyDelegation,
  verifyLogin,
} from "../../offchain/avatars/protocols";
import {
  CpsKeyPair,
  OriginalSignature,
  Scope,
  Warrant,
  cpsOSign,
  cpsPSign,
  cpsPVerify,
  encodePk,
  keyId,
  messagePoint,
} from "../../offchain/crypto/cps";
import { encodeEvidence } from "../../offchain/avatars/wire";
import { signedInSession } from "../helpers/interaction";
import { keccak256 } from "../../offchain/crypto/hash";
import { concat, toHex } from "../../offchain/crypto/bytes";
import { encodePoint, GENERATOR } from "../../offchain/crypto/group";

const avatarId = (s: string) => keccak256(new TextEncoder().encode(`avatar:${s}`));

async function reject(p: Promise<unknown>, reason: string, message?: string): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${reason}`).to.be.instanceOf(AvatarProtocolError);
  expect((err as AvatarProtocolError).reason, (err as Error).message).to.equal(reason);
  expect((err as AvatarProtocolError).code).to.equal("PROTOCOL_REJECTED");
  if (message !== undefined) expect((err as Error).message).to.equal(message);
}

/** The number of trace cases opened so far (case ids count from 1). */
async function caseCount(registry: MITRegistry): Promise<bigint> {
  return BigInt((await registry.queryFilter(registry.filters.TraceRequested())).length);
}

/** A party that presents `keys.pk` (and an MIT issued for it) but signs with another secret key. */
function withoutSecret(p: AvatarParty): AvatarParty {
  const fake = new AvatarParty(p.name, { sk: p.keys.sk + 1n, pk: p.keys.pk } as CpsKeyPair);
  fake.mit = p.mit;
  fake.irisCommitment = p.irisCommitment;
  return fake;
}

/** A copy of a party with some fields replaced. */
function like(p: AvatarParty, patch: Partial<Pick<AvatarParty, "keys" | "mit" | "irisCommitment">>): AvatarParty {
  const q = new AvatarParty(p.name, patch.keys ?? p.keys);
  q.mit = "mit" in patch ? patch.mit : p.mit;
  q.irisCommitment = "irisCommitment" in patch ? patch.irisCommitment : p.irisCommitment;
  return q;
}

/**
 * The user's side of login step 3, built by hand (what an honest client sends), with test
 * overrides for the warrant, the message body and the signing keys.
 */
function respond(
  ctx: AvatarContext,
  server: ChallengeBook,
  user: AvatarParty,
  eye: SimulatedEye,
  id: Uint8Array,
  o: { warrant?: Partial<Warrant>; body?: Uint8Array; type?: number; signer?: CpsKeyPair; proxySigner?: CpsKeyPair } = {},
): LoginResponse {
  const now = ctx.now();
  const challenge = server.issue(now);
  const vidCommitment = keccak256(new TextEncoder().encode("VID:fox"));
  const warrant: Warrant = {
    irisCommitment: user.irisCommitment!,
    proxy: user.keys.pk,
    avatarId: id,
    scope: Scope.all,
    notBefore: now,
    notAfter: now + 86_400,
    ...o.warrant,
  };
  const sig = cpsOSign(o.signer ?? user.keys, warrant);
  const message = { type: o.type ?? Scope.login, time: now, body: o.body ?? loginBody(challenge, user.mit!.serial, id, vidCommitment) };
  return {
    challenge,
    sealedSample: user.sealSample(ctx.idp.channelKey, eye.capture(), challenge, sampleBinding(SamplePurpose.login, sig.h)),
    warrant,
    o: sig,
    message,
    proxySig: cpsPSign(o.proxySigner ?? o.signer ?? user.keys, warrant, sig, message),
    avatarId: id,
    vidCommitment,
  };
}

async function world() {
  const { f, ...w } = await avatarWorld();
  return { ...f, ...w };
}

describe("avatars: login, delegation, mutual authentication, tracing", () => {
  it("the simulated iris sensor: genuine distances near 0.1, impostors near 0.5, threshold 0.32", () => {
    const a = new SimulatedEye(11);
    const b = new SimulatedEye(12);
    const t = a.capture();
    const g = Array.from({ length: 20 }, () => hammingDistance(t, a.capture()));
    const i = Array.from({ length: 20 }, () => hammingDistance(t, b.capture()));
    expect(Math.max(...g)).to.be.lessThan(MATCH_THRESHOLD);
    expect(g.reduce((x, y) => x + y) / g.length).to.be.within(0.07, 0.13); // two captures: 2p(1-p) = 0.1
    expect(Math.min(...i)).to.be.greaterThan(0.4);
    expect(irisMatch(t, b.capture())).to.equal(false);
  });

  it("alice logs in, delegates her avatar to an AI proxy; the AI avatar and bob's human avatar authenticate; the AI avatar is traced to alice", async () => {
    const { ctx, server, alice, bob, ai, eyes, registry, others } = await world();
    const la = await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "red fox" });
    const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "blue whale" });
    expect(Number((await registry.avatar(toHex(avatarIdOf(alice.mit!.serial, "alice")))).driver)).to.equal(1); // Human
    const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "alice") });
    const av = await registry.avatar(toHex(avatarIdOf(alice.mit!.serial, "alice")));
    expect(Number(av.driver)).to.equal(2); // AI
    expect(av.driverSerial).to.equal(toHex(ai.mit!.serial));
    expect(await registry.isVerified(toHex(avatarIdOf(alice.mit!.serial, "alice")))).to.equal(true);
    // alice's own (human) session is over: her login warrant is no longer the avatar's
    await reject(mutualAuth(ctx, { credential: la.credential, driver: alice }, { credential: lb.credential, driver: bob }), "NOT_DRIVER");
    const s = await mutualAuth(ctx, { credential: d.credential, driver: ai }, { credential: lb.credential, driver: bob });
    expect(s.key).to.have.length(32);
    // bob reports the AI avatar with what he kept from the authentication: it is traced to alice
    const t = await trace(ctx, registry.connect(others[3]), s.evidenceAboutA);
    expect(t.realId).to.equal("Alice Liddell");
    const c = await registry.traceCase(t.caseId);
    expect(Number(c.status)).to.equal(2); // Traced
    expect(c.verdictCommitment).to.not.equal(ethers.ZeroHash);
    // the human avatar is traced to bob
    const t2 = await trace(ctx, registry.connect(others[3]), s.evidenceAboutB);
    expect(t2.realId).to.equal("Bob Builder");
  });

  describe("# ChallengeBook", () => {
    it("issues fresh 32-byte challenges, each consumed once, until 120 s after issue", () => {
      const book = new ChallengeBook();
      const a = book.issue(1000);
      const b = book.issue(1000);
      expect(a).to.have.length(32);
      expect(toHex(a)).to.not.equal(toHex(b));
      expect(() => book.consume(a, 1120)).to.not.throw(); // the last second of its life
      const stale = "the challenge is unknown, used or expired (replayed response?)";
      const refused = (c: Uint8Array, now: number) => {
        let err: unknown;
        try {
          book.consume(c, now);
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(AvatarProtocolError);
        expect([(err as AvatarProtocolError).reason, (err as Error).message]).to.deep.equal(["STALE_CHALLENGE", stale]);
      };
      refused(a, 1000); // used
      refused(b, 1121); // expired
      refused(b, 1000); // and gone
      refused(new Uint8Array(32), 1000); // unknown
    });
  });

  describe("# MIT issuance", () => {
    it("records a user's and a proxy's MIT with their key id and public parameters on IPFS", async () => {
      const { ctx, registry, store } = await world();
      const carol = new AvatarParty("carol");
      const u = await issueUserMit(ctx, carol, "Carol", new SimulatedEye(3));
      expect(u.gas > 0n).to.equal(true);
      expect(carol.mit!.kind).to.equal("user");
      expect(carol.irisCommitment).to.deep.equal(ctx.idp.commitmentOf(carol.mit!.serial));
      const m = await registry.mit(toHex(carol.mit!.serial));
      expect([m.keyId, Number(m.status), m.paramsCid]).to.deep.equal([toHex(keyId(carol.keys.pk)), 1, u.cid]);
      expect(await store.getJson(u.cid)).to.deep.equal({
        kind: "user",
        serial: toHex(carol.mit!.serial),
        pk: toHex(encodePk(carol.keys.pk)),
        description: carol.mit!.description,
      });
      const bot = new AvatarParty("bot");
      const p = await issueProxyMit(ctx, bot, "carol's bot service");
      expect(p.gas > 0n).to.equal(true);
      // the operator stays with the IdP: the public description names no one (h9-red F6)
      expect([bot.mit!.kind, bot.mit!.description, bot.irisCommitment]).to.deep.equal([
        "proxy",
        mitDescription("proxy", bot.mit!.serial),
        undefined,
      ]);
      expect(bot.mit!.description).to.match(/^AI proxy 0x[0-9a-f]{8}$/);
      const mp = await registry.mit(toHex(bot.mit!.serial));
      expect([mp.keyId, Number(mp.status), mp.paramsCid]).to.deep.equal([toHex(keyId(bot.keys.pk)), 1, p.cid]);
      expect(await store.getJson(p.cid)).to.deep.equal({
        kind: "proxy",
        serial: toHex(bot.mit!.serial),
        pk: toHex(encodePk(bot.keys.pk)),
        description: mitDescription("proxy", bot.mit!.serial),
      });
      expect(JSON.stringify(await store.getJson(p.cid))).to.not.include("carol");
    });
  });

  describe("# login", () => {
    it("avatar ids are per owner (h9-red F7): alice claims her own names only; an avatar she owned before (an old-style id) stays hers", async () => {
      const { ctx, server, alice, bob, eyes, registry } = await world();
      const mine = avatarIdOf(alice.mit!.serial, "fox");
      expect(toHex(mine.subarray(0, 16))).to.not.equal(toHex(avatarIdOf(bob.mit!.serial, "fox").subarray(0, 16)));
      expect(toHex(avatarIdOf(alice.mit!.serial, "fox"))).to.equal(toHex(mine)); // deterministic
      await reject(login(ctx, server, bob, eyes.bob, { avatarId: mine, appearance: "squat" }), "NOT_OWNER");
      expect((await registry.avatar(toHex(mine))).owner).to.equal(ethers.ZeroHash);
      await login(ctx, server, alice, eyes.alice, { avatarId: mine, appearance: "fox" });
      // an avatar recorded for alice under an old-style id (keccak256 of its name): she logs in again
      const legacy = keccak256(new TextEncoder().encode("metatrust:avatar:alice"));
      await registry.recordLogin(
        toHex(legacy),
        toHex(alice.mit!.serial),
        toHex(keccak256(new Uint8Array([1]))),
        toHex(new Uint8Array(32)),
        4_102_444_800n,
      );
      const again = await login(ctx, server, alice, eyes.alice, { avatarId: legacy, appearance: "fox" });
      expect((await registry.avatar(toHex(legacy))).warrantHash).to.equal(toHex(again.credential.o.h));
      expect(() => avatarIdOf(alice.mit!.serial, "")).to.throw(AvatarProtocolError, /avatarIdOf/);
    });

    it("records the avatar (owner = driver = the user, human, the warrant's h, the VID commitment) under a self-delegation", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      const id = avatarIdOf(alice.mit!.serial, "alice");
      const l = await login(ctx, server, alice, eyes.alice, { avatarId: id, appearance: "red fox" });
      const vid = toHex(keccak256(new TextEncoder().encode("VID:red fox")));
      const av = await registry.avatar(toHex(id));
      expect([av.owner, av.driverSerial, Number(av.driver), av.warrantHash, av.vidCommitment]).to.deep.equal([
        toHex(alice.mit!.serial),
        toHex(alice.mit!.serial),
        1,
        toHex(l.credential.o.h),
        vid,
      ]);
      expect(av.notAfter).to.equal(BigInt(l.response.warrant.notAfter)); // the login verifies until then (h9-red F4)
      const [logged] = await registry.queryFilter(registry.filters.AvatarLoggedIn(toHex(id)));
      expect(l.gas).to.equal((await logged.getTransactionReceipt()).gasUsed);
      const w = l.response.warrant;
      expect(w.irisCommitment).to.deep.equal(alice.irisCommitment);
      expect(w.proxy.equals(alice.keys.pk)).to.equal(true);
      expect([toHex(w.avatarId), w.scope, w.notAfter - w.notBefore]).to.deep.equal([toHex(id), Scope.all, 86_400]);
      expect([l.response.message.type, l.response.message.time]).to.deep.equal([Scope.login, w.notBefore]);
      expect(toHex(l.response.message.body)).to.equal(
        toHex(concat(l.response.challenge, alice.mit!.serial, id, keccak256(new TextEncoder().encode("VID:red fox")))),
      );
      expect(toHex(l.response.vidCommitment)).to.equal(vid);
      expect(l.credential.owner).to.equal(alice);
      expect(l.credential.driver).to.equal(alice);
      expect(l.credential.warrant).to.equal(w);
      expect(l.credential.o).to.equal(l.response.o);
      expect(toHex(l.credential.avatarId)).to.equal(toHex(id));
    });

    it("refuses a party without an MIT or without an iris commitment", async () => {
      const { ctx, server, alice, ai, eyes } = await world();
      const msg = "login: the user has no MIT";
      await reject(
        login(ctx, server, new AvatarParty("nobody"), eyes.alice, { avatarId: avatarId("x"), appearance: "x" }),
        "UNKNOWN_MIT",
        msg,
      );
      await reject(login(ctx, server, ai, eyes.alice, { avatarId: avatarId("x"), appearance: "x" }), "UNKNOWN_MIT", msg);
      await reject(
        login(ctx, server, like(alice, { mit: undefined }), eyes.alice, { avatarId: avatarId("x"), appearance: "x" }),
        "UNKNOWN_MIT",
        msg,
      );
      // the client's own step refuses as well, before it signs anything
      for (const p of [new AvatarParty("nobody"), ai, like(alice, { irisCommitment: undefined })])
        await reject(
          Promise.resolve().then(() =>
            buildLoginResponse(ctx, p, eyes.alice.capture(), new Uint8Array(32), avatarId("x"), new Uint8Array(32), ctx.now()),
          ),
          "UNKNOWN_MIT",
          "buildLoginResponse: the user has no MIT",
        );
    });

    it("binds a sealed iris sample to keccak256(METATRUST-V1-AVATAR-SAMPLE || purpose || h): one binding per protocol step and warrant", () => {
      const h = keccak256(new TextEncoder().encode("a warrant's h"));
      const expected = (purpose: number, hh: Uint8Array) =>
        ethers.keccak256(ethers.concat([ethers.toUtf8Bytes("METATRUST-V1-AVATAR-SAMPLE"), Uint8Array.of(purpose), hh]));
      expect(SamplePurpose).to.deep.equal({ login: 1, delegation: 2 });
      expect(toHex(sampleBinding(SamplePurpose.login, h))).to.equal(expected(1, h));
      expect(toHex(sampleBinding(SamplePurpose.delegation, h))).to.equal(expected(2, h));
      expect(toHex(sampleBinding(SamplePurpose.login, new Uint8Array(32)))).to.equal(expected(1, new Uint8Array(32)));
      expect(expected(1, h)).to.not.equal(expected(2, h));
    });

    it("refuses a revoked, unknown or mismatched MIT, a foreign iris commitment, a response not bound to the challenge, a bad signature; records nothing", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry } = await world();
      const id = avatarIdOf(alice.mit!.serial, "alice");
      const check = async (r: LoginResponse, serial: Uint8Array, pk: typeof alice.keys.pk, reason: string, message: string) => {
        await reject(verifyLogin(ctx, server, serial, pk, r), reason, message);
        expect((await registry.avatar(toHex(id))).owner).to.equal(ethers.ZeroHash);
      };
      const A = alice.mit!.serial;
      await check(
        respond(ctx, server, alice, eyes.alice, id),
        A,
        bob.keys.pk,
        "KEY_MISMATCH",
        "the user's key is not the one its MIT was issued for",
      );
      await check(
        respond(ctx, server, alice, eyes.alice, id),
        new Uint8Array(32).fill(9),
        alice.keys.pk,
        "UNKNOWN_MIT",
        "the user's MIT is unknown",
      );
      await check(
        respond(ctx, server, alice, eyes.alice, id, { warrant: { irisCommitment: bob.irisCommitment! } }),
        A,
        alice.keys.pk,
        "IRIS_MISMATCH",
        "login: the warrant's iris commitment is not the user's",
      );
      const notSelf = "login: the response is not a self-delegation bound to the challenge";
      await check(
        respond(ctx, server, alice, eyes.alice, id, { warrant: { proxy: ai.keys.pk }, proxySigner: ai.keys }),
        A,
        alice.keys.pk,
        "BAD_RESPONSE",
        notSelf,
      );
      await check(respond(ctx, server, alice, eyes.alice, id, { body: new Uint8Array(64) }), A, alice.keys.pk, "BAD_RESPONSE", notSelf);
      await check(
        respond(ctx, server, alice, eyes.alice, id, { signer: { sk: alice.keys.sk + 1n, pk: alice.keys.pk } }),
        A,
        alice.keys.pk,
        "BAD_SIGNATURE",
        "login: the chameleon proxy signature does not verify",
      );
      // the chain keeps the login warrant's notAfter and the avatar verifies until then (h9-red
      // F4): a warrant for more than a day, or already expired, is refused
      const now = ctx.now();
      for (const notAfter of [now + LOGIN_VALIDITY + CHALLENGE_TTL + 1, now + 365 * 86_400, now - 1]) {
        await reject(
          verifyLogin(
            ctx,
            server,
            A,
            alice.keys.pk,
            // an expired warrant is signed while it was valid, 50 s ago (still a fresh signed time)
            notAfter < now
              ? respond({ ...ctx, now: () => now - 50 }, server, alice, eyes.alice, id, { warrant: { notBefore: now - 100, notAfter } })
              : respond(ctx, server, alice, eyes.alice, id, { warrant: { notAfter } }),
          ),
          "BAD_WARRANT",
        );
        expect((await registry.avatar(toHex(id))).owner).to.equal(ethers.ZeroHash);
      }
      // an id outside the user's namespace (another owner's, or a bare name hash) is not hers to claim (h9-red F7)
      for (const other of [avatarIdOf(bob.mit!.serial, "alice"), keccak256(new TextEncoder().encode("metatrust:avatar:alice"))]) {
        await reject(
          verifyLogin(ctx, server, A, alice.keys.pk, respond(ctx, server, alice, eyes.alice, other)),
          "NOT_OWNER",
          "login: the avatar id is not one of the user's (avatarIdOf(her serial, name))",
        );
        expect((await registry.avatar(toHex(other))).owner).to.equal(ethers.ZeroHash);
      }
      // an honest response goes through, once
      const ok = respond(ctx, server, alice, eyes.alice, id);
      await verifyLogin(ctx, server, A, alice.keys.pk, ok);
      expect((await registry.avatar(toHex(id))).warrantHash).to.equal(toHex(ok.o.h));
      // a response answered after the challenge's 120 s
      const late = respond(ctx, server, alice, eyes.alice, id);
      const before = await registry.avatar(toHex(id));
      await reject(
        verifyLogin({ ...ctx, now: () => ctx.now() + 200 }, server, A, alice.keys.pk, late),
        "STALE_CHALLENGE",
        "the challenge is unknown, used or expired (replayed response?)",
      );
      await registry.revokeMIT(toHex(A));
      await reject(
        verifyLogin(ctx, server, A, alice.keys.pk, respond(ctx, server, alice, eyes.alice, id)),
        "MIT_REVOKED",
        "the user's MIT is revoked",
      );
      expect(await registry.avatar(toHex(id))).to.deep.equal(before);
    });

    it("refuses a response whose message is not typed login, or is signed more than 120 s off the server's clock; records nothing", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      const id = avatarIdOf(alice.mit!.serial, "alice");
      const A = alice.mit!.serial;
      await reject(
        verifyLogin(ctx, server, A, alice.keys.pk, respond(ctx, server, alice, eyes.alice, id, { type: Scope.challenge })),
        "BAD_RESPONSE",
        "login: the response is not a self-delegation bound to the challenge",
      );
      const T = ctx.now();
      const at = (t: number) => ({ ...ctx, now: () => t });
      await reject(
        verifyLogin(at(T - 121), server, A, alice.keys.pk, respond(at(T), server, alice, eyes.alice, id)),
        "STALE_TIME",
        `login: the signed time ${T} is more than 120 s from the verifier's clock ${T - 121}`,
      );
      expect((await registry.avatar(toHex(id))).owner).to.equal(ethers.ZeroHash);
      // 120 s off is still fresh
      await verifyLogin(at(T - 120), server, A, alice.keys.pk, respond(at(T), server, alice, eyes.alice, id));
      expect((await registry.avatar(toHex(id))).owner).to.equal(toHex(A));
    });
  });

  describe("# delegate", () => {
    it("records the delegation under the warrant the user signed (default: challenge and interaction, 30 days)", async () => {
      const { ctx, server, alice, ai, eyes, registry } = await world();
      const id = avatarIdOf(alice.mit!.serial, "alice");
      await login(ctx, server, alice, eyes.alice, { avatarId: id, appearance: "fox" });
      const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: id });
      const w = d.credential.warrant;
      expect([w.scope, w.notAfter - w.notBefore, toHex(w.avatarId)]).to.deep.equal([
        Scope.challenge | Scope.interaction,
        30 * 86_400,
        toHex(id),
      ]);
      expect(w.irisCommitment).to.deep.equal(alice.irisCommitment);
      expect(w.proxy.equals(ai.keys.pk)).to.equal(true);
      expect([d.credential.owner, d.credential.driver]).to.deep.equal([alice, ai]);
      const [delegated] = await registry.queryFilter(registry.filters.AvatarDelegated(d.delegationId));
      expect(d.gas).to.equal((await delegated.getTransactionReceipt()).gasUsed);
      expect(d.delegationId).to.equal(await registry.activeDelegation(toHex(id)));
      const del = await registry.delegation(d.delegationId);
      expect([del.avatarId, del.originalSerial, del.proxySerial, del.warrantHash]).to.deep.equal([
        toHex(id),
        toHex(alice.mit!.serial),
        toHex(ai.mit!.serial),
        toHex(d.credential.o.h),
      ]);
      const d2 = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: id, ttl: 3600, scope: Scope.challenge });
      expect([d2.credential.warrant.scope, d2.credential.warrant.notAfter - d2.credential.warrant.notBefore]).to.deep.equal([
        Scope.challenge,
        3600,
      ]);
      expect(d2.delegationId).to.equal(d.delegationId + 1n);
    });

    it("refuses parties without MITs, a non-owner, a foreign iris commitment, a proxy without its secret key, revoked MITs; records nothing", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry } = await world();
      const id = avatarIdOf(alice.mit!.serial, "alice");
      await login(ctx, server, alice, eyes.alice, { avatarId: id, appearance: "fox" });
      await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
      const before = await registry.avatar(toHex(id));
      const noMit = "delegate: both parties need an MIT";
      await reject(delegate(ctx, server, like(alice, { mit: undefined }), eyes.alice, ai, { avatarId: id }), "UNKNOWN_MIT", noMit);
      await reject(
        delegate(ctx, server, like(alice, { irisCommitment: undefined }), eyes.alice, ai, { avatarId: id }),
        "UNKNOWN_MIT",
        noMit,
      );
      await reject(delegate(ctx, server, alice, eyes.alice, like(ai, { mit: undefined }), { avatarId: id }), "UNKNOWN_MIT", noMit);
      // the client's own step refuses as well, before anything is signed
      for (const [u, p] of [
        [like(alice, { mit: undefined }), ai],
        [like(alice, { irisCommitment: undefined }), ai],
        [alice, like(ai, { mit: undefined })],
      ])
        await reject(
          Promise.resolve().then(() =>
            buildDelegationResponse(ctx, u, eyes.alice.capture(), p, new Uint8Array(32), { avatarId: id }, ctx.now()),
          ),
          "UNKNOWN_MIT",
          noMit,
        );
      await reject(delegate(ctx, server, bob, eyes.bob, ai, { avatarId: id }), "NOT_OWNER", "delegate: the user does not own this avatar");
      await reject(
        delegate(ctx, server, like(alice, { irisCommitment: bob.irisCommitment }), eyes.alice, ai, { avatarId: id }),
        "IRIS_MISMATCH",
        "delegate: the warrant's iris commitment is not the owner's",
      );
      await reject(
        delegate(ctx, server, alice, eyes.alice, withoutSecret(ai), { avatarId: id }),
        "BAD_SIGNATURE",
        "delegate: the chameleon proxy signature does not verify",
      );
      await reject(
        delegate(ctx, server, alice, eyes.alice, like(ai, { keys: bob.keys }), { avatarId: id }),
        "KEY_MISMATCH",
        "the proxy's key is not the one its MIT was issued for",
      );
      await registry.revokeMIT(toHex(ai.mit!.serial));
      await reject(delegate(ctx, server, alice, eyes.alice, ai, { avatarId: id }), "MIT_REVOKED", "the proxy's MIT is revoked");
      await registry.revokeMIT(toHex(alice.mit!.serial));
      await reject(delegate(ctx, server, alice, eyes.alice, ai, { avatarId: id }), "MIT_REVOKED", "the user's MIT is revoked");
      expect(await registry.avatar(toHex(id))).to.deep.equal(before);
    });

    it("refuses a response whose message is not typed challenge, or is signed more than 120 s off the server's clock; records nothing", async () => {
      const { ctx, server, alice, ai, eyes, registry } = await world();
      const id = avatarIdOf(alice.mit!.serial, "alice");
      await login(ctx, server, alice, eyes.alice, { avatarId: id, appearance: "fox" });
      const T = ctx.now();
      const at = (t: number) => ({ ...ctx, now: () => t });
      const build = () => buildDelegationResponse(ctx, alice, eyes.alice.capture(), ai, server.issue(T), { avatarId: id }, T);
      const delegations = async () => (await registry.queryFilter(registry.filters.AvatarDelegated())).length;
      const r = build();
      const message = { ...r.message, type: Scope.interaction }; // inside the warrant's scope, signed by the proxy
      await reject(
        verifyDelegation(at(T), server, { ...r, message, proxySig: cpsPSign(ai.keys, r.warrant, r.o, message) }),
        "BAD_RESPONSE",
        "delegate: the proxy's signature is not on this challenge, owner, proxy and avatar",
      );
      await reject(
        verifyDelegation(at(T - 121), server, build()),
        "STALE_TIME",
        `delegate: the signed time ${T} is more than 120 s from the verifier's clock ${T - 121}`,
      );
      expect(await delegations()).to.equal(0);
      // 120 s off is still fresh
      await verifyDelegation(at(T + 120), server, build());
      expect(await delegations()).to.equal(1);
    });
  });

  describe("# mutualAuth", () => {
    /** alice's avatar driven by the AI proxy, bob's by bob. */
    async function authWorld() {
      const w = await world();
      const la = await login(w.ctx, w.server, w.alice, w.eyes.alice, {
        avatarId: avatarIdOf(w.alice.mit!.serial, "alice"),
        appearance: "fox",
      });
      const lb = await login(w.ctx, w.server, w.bob, w.eyes.bob, { avatarId: avatarIdOf(w.bob.mit!.serial, "bob"), appearance: "whale" });
      const d = await delegate(w.ctx, w.server, w.alice, w.eyes.alice, w.ai, { avatarId: avatarIdOf(w.alice.mit!.serial, "alice") });
      return { ...w, la, lb, d, A: { credential: d.credential, driver: w.ai }, B: { credential: lb.credential, driver: w.bob } };
    }

    it("agrees on one session key and returns, about each side, its identity parameters and its driver's signature on the transcript", async () => {
      const { ctx, A, B, alice, bob, ai } = await authWorld();
      const s = await mutualAuth(ctx, A, B);
      expect(s.key).to.have.length(32);
      const expectAbout = (e: Evidence, c: AvatarCredential, owner: AvatarParty, driver: AvatarParty) => {
        expect(toHex(e.avatarId)).to.equal(toHex(c.avatarId));
        expect(toHex(e.ownerSerial)).to.equal(toHex(owner.mit!.serial));
        expect(e.ownerPk.equals(owner.keys.pk)).to.equal(true);
        expect(toHex(e.driverSerial)).to.equal(toHex(driver.mit!.serial));
        expect(e.warrant).to.equal(c.warrant);
        expect(e.o).to.equal(c.o);
        expect(cpsPVerify(e.ownerPk, e.warrant, e.o, e.message, e.proxySig)).to.equal(true);
      };
      expectAbout(s.evidenceAboutA, A.credential, alice, ai);
      expectAbout(s.evidenceAboutB, B.credential, bob, bob);
      expect(s.evidenceAboutA.message).to.deep.equal(s.evidenceAboutB.message);
      expect(s.evidenceAboutA.message.type).to.equal(Scope.challenge);
      expect(s.evidenceAboutA.message.body).to.have.length(32);
      expect(Math.abs(s.evidenceAboutA.message.time - ctx.now())).to.be.lessThan(60);
      const s2 = await mutualAuth(ctx, A, B);
      expect(toHex(s2.key)).to.not.equal(toHex(s.key)); // fresh ephemeral keys and nonces
    });

    it("derives the transcript and the session key as specified (known answer, CSPRNG replaced by zeros)", async () => {
      const { ctx, A, B } = await authWorld();
      // With zero random bytes both ephemeral secrets are 1 (randomSecretKey: 0 mod (q - 1) + 1) and both nonces 0.
      const c = globalThis.crypto as { getRandomValues: <T>(a: T) => T };
      Object.defineProperty(c, "getRandomValues", { configurable: true, value: (a: Uint8Array) => a.fill(0) });
      let s: Awaited<ReturnType<typeof mutualAuth>>;
      try {
        s = await mutualAuth(ctx, A, B);
      } finally {
        delete (c as { getRandomValues?: unknown }).getRandomValues;
      }
      const G = encodePoint(GENERATOR);
      const zero = new Uint8Array(32);
      const t = ethers.keccak256(
        ethers.concat([
          ethers.toUtf8Bytes("METATRUST-V2-AVATAR-AUTH"),
          platformId(String(ctx.registry.target), ctx.idp.receiptKey),
          A.credential.avatarId,
          B.credential.avatarId, // the avatar A's hello is addressed to
          G,
          zero,
          A.credential.o.h,
          B.credential.avatarId,
          A.credential.avatarId, // the avatar B's hello is addressed to
          G,
          zero,
          B.credential.o.h,
        ]),
      );
      expect(toHex(s.evidenceAboutA.message.body)).to.equal(t);
      const key = Buffer.from(hkdfSync("sha256", G, ethers.getBytes(t), Buffer.from("METATRUST-V1-AVATAR-SESSION"), 32));
      expect(toHex(s.key)).to.equal("0x" + key.toString("hex"));
    });

    it("refuses an avatar without a driver, a driver without an MIT, a stale owner or driver, a replaced warrant, revoked or mismatched MITs, a forged warrant", async () => {
      const { ctx, server, registry, A, B, la, lb, alice, bob, ai, eyes } = await authWorld();
      const noDriver = { credential: { ...lb.credential, avatarId: avatarId("nobody") }, driver: bob };
      await reject(mutualAuth(ctx, A, noDriver), "NO_DRIVER", "the avatar has no driver on-chain");
      await reject(mutualAuth(ctx, noDriver, B), "NO_DRIVER", "the avatar has no driver on-chain");
      const noMit = "the avatar's driver has no MIT";
      await reject(mutualAuth(ctx, { ...A, driver: like(ai, { mit: undefined }) }, B), "UNKNOWN_MIT", noMit);
      await reject(mutualAuth(ctx, A, { ...B, driver: like(bob, { mit: undefined }) }), "UNKNOWN_MIT", noMit);
      const notDriver = "the presented owner or driver is not the avatar's on-chain";
      await reject(mutualAuth(ctx, { credential: la.credential, driver: alice }, B), "NOT_DRIVER", notDriver); // driver moved to the AI
      await reject(mutualAuth(ctx, A, { credential: { ...lb.credential, owner: alice }, driver: bob }), "NOT_DRIVER", notDriver); // owner
      await reject(mutualAuth(ctx, A, { credential: lb.credential, driver: ai }), "NOT_DRIVER", notDriver); // driver
      await reject(
        mutualAuth(ctx, A, { credential: { ...lb.credential, owner: like(bob, { mit: undefined }) }, driver: bob }),
        "UNKNOWN_MIT",
        "the avatar's owner has no MIT",
      );
      await reject(
        mutualAuth(ctx, A, { credential: { ...lb.credential, owner: like(bob, { keys: alice.keys }) }, driver: bob }),
        "KEY_MISMATCH",
        "the owner's key is not the one its MIT was issued for",
      );
      await reject(
        mutualAuth(ctx, A, {
          credential: { ...lb.credential, warrant: { ...lb.credential.warrant, scope: Scope.challenge } },
          driver: bob,
        }),
        "BAD_SIGNATURE",
        "the original signature on the warrant does not verify",
      );
      await reject(
        mutualAuth(ctx, { ...A, driver: withoutSecret(ai) }, B),
        "BAD_SIGNATURE",
        "A's proxy signature on the transcript does not verify",
      );
      await reject(
        mutualAuth(ctx, A, { ...B, driver: withoutSecret(bob) }),
        "BAD_SIGNATURE",
        "B's proxy signature on the transcript does not verify",
      );
      // bob logs in again: his first credential's warrant is no longer the avatar's
      const again = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
      await reject(mutualAuth(ctx, A, B), "STALE_WARRANT", "the presented warrant is not the avatar's current one (revoked or replaced)");
      const B2 = { credential: again.credential, driver: bob };
      await registry.revokeMIT(toHex(ai.mit!.serial));
      await reject(mutualAuth(ctx, B2, A), "MIT_REVOKED", "the driver's MIT is revoked");
      await registry.revokeMIT(toHex(alice.mit!.serial));
      await reject(mutualAuth(ctx, B2, A), "MIT_REVOKED", "the owner's MIT is revoked");
      // after the owner revokes the delegation the AI avatar has no driver
    });

    it("each step refuses what it cannot trust, with its reason and message: a reply signed more than 120 s off the initiator's clock, a tampered confirmation tag either way, a reflected hello, an ephemeral key that is no point, a finish before any reply", async () => {
      const { ctx, A, B } = await authWorld();
      const T = ctx.now();
      const at = (t: number) => ({ ...ctx, now: () => t });
      // the responder's clock may be up to 120 s ahead of or behind the initiator's, not 121
      for (const [responder, initiator] of [
        [T + 120, T],
        [T, T + 120],
      ]) {
        const a = authHello(ctx, A, B.credential.avatarId);
        const b = await authRespond(at(responder), B, a.hello);
        expect((await authFinish(at(initiator), a.state, b.reply)).key).to.have.length(32);
      }
      for (const t of [T + 121, T - 121, T + 0.5]) {
        const a = authHello(ctx, A, B.credential.avatarId);
        const b = await authRespond(at(T), B, a.hello);
        await reject(
          authFinish(at(T), a.state, { ...b.reply, time: t }),
          "STALE_TIME",
          `authFinish: the signed time ${t} is more than 120 s from the verifier's clock ${T}`,
        );
      }
      const a = authHello(ctx, A, B.credential.avatarId);
      const b = await authRespond(ctx, B, a.hello);
      const flipped = (tag: Uint8Array) => Uint8Array.from(tag, (x, i) => (i === 0 ? x ^ 1 : x));
      await reject(
        authFinish(ctx, a.state, { ...b.reply, confirm: flipped(b.reply.confirm) }),
        "KEY_CONFIRMATION",
        "the responder's key confirmation does not verify",
      );
      const f = await authFinish(ctx, a.state, b.reply);
      const complete = (state: typeof b.state, finish: typeof f.finish) => authComplete(ctx, state, finish);
      await reject(
        complete(b.state, { ...f.finish, confirm: flipped(f.finish.confirm) }),
        "KEY_CONFIRMATION",
        "the initiator's key confirmation does not verify",
      );
      await reject(complete(a.state, f.finish), "INVALID_STATE", "authComplete: this side has not responded");
      expect(toHex((await complete(b.state, f.finish)).key)).to.equal(toHex(f.key));
      await reject(
        authRespond(ctx, A, { ...authHello(ctx, A, B.credential.avatarId).hello, peer: A.credential.avatarId }),
        "REFLECTION",
        "the peer is this avatar itself (a reflected hello)",
      );
      const h = authHello(ctx, A, B.credential.avatarId).hello;
      for (const ephemeral of [new Uint8Array(33), Uint8Array.from([0x04, ...h.ephemeral.subarray(1)])])
        await reject(authRespond(ctx, B, { ...h, ephemeral }), "BAD_RESPONSE", "the peer's ephemeral key is not a valid point");
    });

    it("an avatar whose delegation was revoked has no driver", async () => {
      const { ctx, registry, A, B, alice } = await authWorld();
      await registry.revokeDelegation(await registry.activeDelegation(toHex(avatarIdOf(alice.mit!.serial, "alice"))));
      await reject(mutualAuth(ctx, A, B), "NO_DRIVER", "the avatar has no driver on-chain");
    });
  });

  describe("# trace", () => {
    it("files keccak256 of the whole encoded evidence (receipt included) and records a salted verdict; every field enters the hashes", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry, others } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "fox" });
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
      const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "alice") });
      const s = await mutualAuth(ctx, { credential: d.credential, driver: ai }, { credential: lb.credential, driver: bob });
      const e = s.evidenceAboutA;
      // the receipt signs evidenceHash (the encoding without the receipt); the case commits to both
      expect(e.receipt).to.not.equal(undefined);
      expect(toHex(evidenceHash(e))).to.equal(ethers.keccak256(encodeEvidence({ ...e, receipt: undefined })));
      const h = ethers.keccak256(encodeEvidence(e));
      expect(toHex(caseHash(e))).to.equal(h);
      const t = await trace(ctx, registry.connect(others[3]), e);
      const c = await registry.traceCase(t.caseId);
      expect([c.evidenceHash, c.avatarId, c.reporter, Number(c.status)]).to.deep.equal([h, toHex(e.avatarId), others[3].address, 2]);
      expect(c.verdictCommitment).to.not.equal(ethers.ZeroHash);
      expect(t.uid).to.equal(ethers.keccak256(ethers.concat([ethers.toUtf8Bytes("UID"), alice.mit!.serial])));
      expect(t.realId).to.equal("Alice Liddell");
      const gasOf = async (logs: { getTransactionReceipt(): Promise<{ gasUsed: bigint }> }[]) =>
        (await logs[0].getTransactionReceipt()).gasUsed;
      const requested = await gasOf(await registry.queryFilter(registry.filters.TraceRequested(t.caseId)));
      const verdict = await gasOf(await registry.queryFilter(registry.filters.TraceVerdict(t.caseId)));
      expect(t.gas).to.equal(requested + verdict);
      // each field the verdict reads enters the evidence hash and the case hash (h7-audit finding T1)
      const other = { ...e, message: { ...e.message, body: new Uint8Array(32) } };
      const w = e.warrant;
      for (const changed of [
        { ...e, avatarId: new Uint8Array(32) },
        { ...e, ownerSerial: new Uint8Array(32) },
        { ...e, ownerPk: w.proxy },
        { ...e, driverSerial: new Uint8Array(32) },
        { ...e, warrant: { ...w, irisCommitment: new Uint8Array(32) } },
        { ...e, warrant: { ...w, proxy: e.ownerPk } },
        { ...e, warrant: { ...w, avatarId: new Uint8Array(32) } },
        { ...e, warrant: { ...w, scope: w.scope ^ 1 } },
        { ...e, warrant: { ...w, notBefore: w.notBefore - 1 } },
        { ...e, warrant: { ...w, notAfter: w.notAfter + 1 } },
        { ...e, o: { ...e.o, h: new Uint8Array(32) } },
        { ...e, o: { ...e.o, r: new Uint8Array(32) } },
        { ...e, o: { ...e.o, sig: e.proxySig } },
        other,
        { ...e, message: { ...e.message, time: e.message.time + 1 } },
        { ...e, message: { ...e.message, type: e.message.type === Scope.challenge ? Scope.interaction : Scope.challenge } },
        { ...e, proxySig: e.o.sig },
      ]) {
        expect(toHex(caseHash(changed))).to.not.equal(h);
        expect(toHex(evidenceHash(changed))).to.not.equal(toHex(evidenceHash(e)));
      }
      // the receipt enters the case hash only
      for (const changed of [
        { ...e, receipt: undefined },
        { ...e, receipt: { ...e.receipt!, time: e.receipt!.time + 1 } },
      ]) {
        expect(toHex(caseHash(changed))).to.not.equal(h);
        expect(toHex(evidenceHash(changed))).to.equal(toHex(evidenceHash(e)));
      }
    });

    it("traces a message the platform stamped up to the second the delegation was revoked, not after; only the delegated driver or the logged-in owner", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry, others } = await world();
      const la = await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "fox" });
      const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "alice") });
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
      await registry.revokeDelegation(d.delegationId);
      const revokedAt = Number((await registry.delegation(d.delegationId)).revokedAt);
      const reporter = registry.connect(others[3]);
      const about = (
        c: AvatarCredential,
        driver: AvatarParty,
        signer: AvatarParty,
        time: number,
        driverSerial = driver.mit!.serial,
      ): Evidence => {
        // signed in a session with bob's avatar (the reporter), at `time`
        const e = signedInSession(
          { credential: c, signer, driverSerial, platform: platformOf(ctx) },
          { credential: lb.credential, driver: bob },
          `at ${time}`,
          time,
        );
        // the platform's receipt, stamped by its clock at `time`
        return { ...e, receipt: ctx.idp.stamp(evidenceHash(e), time) };
      };
      expect((await trace(ctx, reporter, about(d.credential, ai, ai, revokedAt))).realId).to.equal("Alice Liddell");
      const notDriver = "trace: the driver did not hold the avatar under this warrant at that time";
      await reject(trace(ctx, reporter, about(d.credential, ai, ai, revokedAt + 1)), "NOT_DRIVER", notDriver);
      // a second proxy MIT for the same key did not hold the delegation
      const twin = new AvatarParty("ai-twin", ai.keys);
      await issueProxyMit(ctx, twin, "twin");
      await reject(trace(ctx, reporter, about(d.credential, twin, ai, revokedAt)), "NOT_DRIVER", notDriver);
      // alice's own login warrant: traced to her while she drove, but not through a second user MIT of her key
      expect((await trace(ctx, reporter, about(la.credential, alice, alice, revokedAt))).realId).to.equal("Alice Liddell");
      const twinUser = new AvatarParty("alice-twin", alice.keys);
      // her own eye gets no second MIT (one person, one MIT): an accomplice's eye with her key
      await issueUserMit(ctx, twinUser, "Alice's accomplice", new SimulatedEye(99));
      await reject(trace(ctx, reporter, about(la.credential, twinUser, alice, revokedAt)), "NOT_DRIVER", notDriver);
      // the driver named must hold the warrant's proxy key
      await reject(
        trace(ctx, reporter, about(d.credential, ai, ai, revokedAt, bob.mit!.serial)),
        "KEY_MISMATCH",
        "trace: the warrant's proxy is not the driver's key",
      );
      expect(Number((await registry.traceCase(await caseCount(registry))).status)).to.equal(3);
    });

    it("rejects evidence with a foreign owner key, an unknown owner, another avatar, bad signatures, or no enrolled user; each case closed as rejected", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry, others } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "fox" });
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
      const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "alice") });
      const e = (await mutualAuth(ctx, { credential: d.credential, driver: ai }, { credential: lb.credential, driver: bob }))
        .evidenceAboutA;
      const reporter = registry.connect(others[4]);
      const ownerKey = "trace: the owner key is not the owner MIT's";
      const cases: [() => Promise<unknown>, string, string][] = [
        [() => trace(ctx, reporter, { ...e, ownerPk: bob.keys.pk }), "KEY_MISMATCH", ownerKey],
        [() => trace(ctx, reporter, { ...e, ownerSerial: new Uint8Array(32).fill(7) }), "KEY_MISMATCH", ownerKey],
        [
          () => trace(ctx, reporter, { ...e, avatarId: avatarIdOf(bob.mit!.serial, "bob") }),
          "BAD_EVIDENCE",
          "trace: the warrant is for another avatar",
        ],
        [() => trace(ctx, reporter, { ...e, proxySig: e.o.sig }), "BAD_SIGNATURE", "trace: the evidence's signatures do not verify"],
        [
          // an IdP of this platform (its id given) that enrolled nobody
          () => trace({ ...ctx, idp: new IdentityProvider(), platform: platformOf(ctx) }, reporter, e),
          "UNTRACEABLE",
          "trace: no enrolled user behind this warrant",
        ],
      ];
      const first = await caseCount(registry);
      for (const [f, reason, message] of cases) await reject(f(), reason, message);
      for (let c = first + 1n; c <= first + BigInt(cases.length); c++) {
        const tc = await registry.traceCase(c);
        expect([Number(tc.status), tc.verdictCommitment]).to.deep.equal([3, ethers.ZeroHash]);
      }
    });

    it("judges only an open case filed for this evidence and this avatar: otherwise UNKNOWN_CASE, and nothing is recorded", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry, others } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "fox" });
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
      const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "alice") });
      const A = { credential: d.credential, driver: ai };
      const B = { credential: lb.credential, driver: bob };
      const e = (await mutualAuth(ctx, A, B)).evidenceAboutA;
      const again = (await mutualAuth(ctx, A, B)).evidenceAboutA; // the same avatar, another session
      const reporter = registry.connect(others[3]);
      const verdicts = async () => (await registry.queryFilter(registry.filters.TraceVerdict())).length;
      const before = await verdicts();
      const notOpen = (id: bigint) => `judgeTrace: case ${id} is not open for this evidence`;
      const { caseId } = await requestTrace(reporter, e);
      // a case filed with this evidence's hash under another avatar
      await (await reporter.requestTrace(toHex(avatarIdOf(bob.mit!.serial, "bob")), toHex(evidenceHash(e)))).wait();
      const elsewhere = caseId + 1n;
      await reject(judgeTrace(ctx, caseId, again), "UNKNOWN_CASE", notOpen(caseId));
      await reject(judgeTrace(ctx, elsewhere, e), "UNKNOWN_CASE", notOpen(elsewhere));
      await reject(judgeTrace(ctx, elsewhere + 1n, e), "UNKNOWN_CASE", notOpen(elsewhere + 1n)); // no such case
      expect(await verdicts()).to.equal(before);
      expect((await judgeTrace(ctx, caseId, e)).realId).to.equal("Alice Liddell");
      await reject(judgeTrace(ctx, caseId, e), "UNKNOWN_CASE", notOpen(caseId)); // judged already
      expect(await verdicts()).to.equal(before + 1);
      expect([Number((await registry.traceCase(caseId)).status), Number((await registry.traceCase(elsewhere)).status)]).to.deep.equal([
        2, 1,
      ]);
    });

    it("traces only under a warrant the chain recorded for the driver: an earlier login warrant still counts after a new login; a warrant the owner signed but never recorded, for herself or her proxy, is NOT_DRIVER", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry, others } = await world();
      const id = avatarIdOf(alice.mit!.serial, "alice");
      const first = await login(ctx, server, alice, eyes.alice, { avatarId: id, appearance: "fox" });
      await login(ctx, server, alice, eyes.alice, { avatarId: id, appearance: "owl" });
      await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: id });
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
      const reporter = registry.connect(others[3]);
      const now = ctx.now();
      // signed in a session with bob's avatar (the reporter)
      const about = (warrant: Warrant, o: OriginalSignature, driver: AvatarParty): Evidence =>
        signedInSession(
          { credential: { avatarId: id, owner: alice, driver, warrant, o }, signer: driver, platform: platformOf(ctx) },
          { credential: lb.credential, driver: bob },
          "a message",
          now,
        );
      expect((await trace(ctx, reporter, about(first.credential.warrant, first.credential.o, alice))).realId).to.equal("Alice Liddell");
      const unrecorded = (proxy: AvatarParty): [Warrant, OriginalSignature] => {
        const w: Warrant = {
          irisCommitment: alice.irisCommitment!,
          proxy: proxy.keys.pk,
          avatarId: id,
          scope: Scope.all,
          notBefore: now,
          notAfter: now + 86_400,
        };
        return [w, cpsOSign(alice.keys, w)];
      };
      const notDriver = "trace: the driver did not hold the avatar under this warrant at that time";
      await reject(trace(ctx, reporter, about(...unrecorded(alice), alice)), "NOT_DRIVER", notDriver);
      await reject(trace(ctx, reporter, about(...unrecorded(ai), ai)), "NOT_DRIVER", notDriver);
    });
  });

  describe("# attacks (each rejected, nothing recorded)", () => {
    it("a replayed login response (stale challenge)", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      const l = await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "fox" });
      const before = await registry.avatar(toHex(avatarIdOf(alice.mit!.serial, "alice")));
      await reject(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, l.response), "STALE_CHALLENGE");
      expect(await registry.avatar(toHex(avatarIdOf(alice.mit!.serial, "alice")))).to.deep.equal(before);
    });

    it("another person's iris sample", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      await reject(
        login(ctx, server, alice, eyes.alice, {
          avatarId: avatarIdOf(alice.mit!.serial, "alice"),
          appearance: "fox",
          sampleFrom: eyes.bob,
        }),
        "IRIS_MISMATCH",
      );
      expect((await registry.avatar(toHex(avatarIdOf(alice.mit!.serial, "alice")))).owner).to.equal(ethers.ZeroHash);
    });

    it("a forged original signature, a forged proxy signature, a proxy signing outside its warrant", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "fox" });
      const before = await registry.avatar(toHex(avatarIdOf(alice.mit!.serial, "alice")));
      // bob pretends to be alice delegating her avatar: his key signs a warrant with her iris commitment
      const fake = new AvatarParty("alice", bob.keys);
      fake.mit = { ...alice.mit!, pk: bob.keys.pk };
      fake.irisCommitment = alice.irisCommitment;
      await reject(
        delegate(ctx, server, fake, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "alice") }),
        "KEY_MISMATCH",
        "the user's key is not the one its MIT was issued for",
      );
      // a proxy that is not the warrant's signs anyway (by hand): PVerify fails
      const w = {
        irisCommitment: alice.irisCommitment!,
        proxy: ai.keys.pk,
        avatarId: avatarIdOf(alice.mit!.serial, "alice"),
        scope: Scope.challenge,
        notBefore: 0,
        notAfter: 2 ** 40,
      };
      const o = cpsOSign(alice.keys, w);
      const m = { type: Scope.interaction, time: 5, body: new Uint8Array([1]) };
      expect(() => cpsPSign(ai.keys, w, o, m)).to.throw(/scope/);
      const outside = messagePoint(o.h, m).multiply(ai.keys.sk);
      const { cpsPVerify } = await import("../../offchain/crypto/cps");
      expect(cpsPVerify(alice.keys.pk, w, o, m, outside)).to.equal(false);
      expect(await registry.avatar(toHex(avatarIdOf(alice.mit!.serial, "alice")))).to.deep.equal(before);
    });

    it("delegation to a revoked MIT; a revoked proxy authenticating", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "fox" });
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
      const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "alice") });
      await registry.revokeMIT(toHex(ai.mit!.serial));
      await reject(mutualAuth(ctx, { credential: d.credential, driver: ai }, { credential: lb.credential, driver: bob }), "MIT_REVOKED");
      const ai2 = new AvatarParty("ai-2");
      await issueProxyMit(ctx, ai2, "x");
      await registry.revokeMIT(toHex(ai2.mit!.serial));
      const before = await registry.avatar(toHex(avatarIdOf(alice.mit!.serial, "alice")));
      await reject(delegate(ctx, server, alice, eyes.alice, ai2, { avatarId: avatarIdOf(alice.mit!.serial, "alice") }), "MIT_REVOKED");
      expect(await registry.avatar(toHex(avatarIdOf(alice.mit!.serial, "alice")))).to.deep.equal(before);
      expect(await registry.isVerified(toHex(avatarIdOf(alice.mit!.serial, "alice")))).to.equal(false); // its driver's MIT is revoked
    });

    it("false accusation: a reporter colluding with the proxy (holding its key) cannot trace to an innocent user", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry, others } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "alice"), appearance: "fox" });
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" });
      const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "alice") });
      const s = await mutualAuth(ctx, { credential: d.credential, driver: ai }, { credential: lb.credential, driver: bob });
      const genuine = s.evidenceAboutA;
      const reporter = registry.connect(others[4]);
      // (1) frame bob: a warrant with bob's iris commitment for the AI key, "signed" with the AI's key
      const framedW = { ...genuine.warrant, irisCommitment: bob.irisCommitment! };
      const framedO = cpsOSign(ai.keys, framedW);
      const msg = { type: Scope.interaction, time: genuine.message.time, body: new TextEncoder().encode("crime") };
      const e1: Evidence = {
        ...genuine,
        ownerSerial: bob.mit!.serial,
        ownerPk: bob.keys.pk,
        warrant: framedW,
        o: framedO,
        message: msg,
        proxySig: cpsPSign(ai.keys, framedW, framedO, msg),
      };
      await reject(trace(ctx, reporter, e1), "BAD_SIGNATURE");
      // (2) claim the AI key acts for bob's avatar with alice's genuine warrant
      await reject(trace(ctx, reporter, { ...genuine, avatarId: avatarIdOf(bob.mit!.serial, "bob") }), "BAD_EVIDENCE");
      // (3) after alice revokes the delegation, new messages the proxy signs are not hers
      const id = await registry.activeDelegation(toHex(avatarIdOf(alice.mit!.serial, "alice")));
      await registry.revokeDelegation(id);
      const late = { type: Scope.interaction, time: ctx.now() + 3600, body: new TextEncoder().encode("after revocation") };
      const e3: Evidence = { ...genuine, message: late, proxySig: cpsPSign(ai.keys, genuine.warrant, genuine.o, late) };
      await reject(trace(ctx, reporter, e3), "NOT_DRIVER");
      // every one of these cases is closed as rejected, none traced
      for (let c = 1n; c <= 3n; c++) expect(Number((await registry.traceCase(c)).status)).to.equal(3);
    });
  });
});
