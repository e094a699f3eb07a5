import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { MITRegistry__factory } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { AvatarParty, AvatarProtocolError, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye, hammingDistance, irisMatch, MATCH_THRESHOLD } from "../../offchain/avatars/iris";
import {
  ChallengeBook,
  Evidence,
  delegate,
  issueProxyMit,
  issueUserMit,
  login,
  mutualAuth,
  trace,
  verifyLogin,
} from "../../offchain/avatars/protocols";
import { Scope, cpsOSign, cpsPSign, messagePoint } from "../../offchain/crypto/cps";
import { keccak256 } from "../../offchain/crypto/hash";
import { toHex } from "../../offchain/crypto/bytes";

const avatarId = (s: string) => keccak256(new TextEncoder().encode(`avatar:${s}`));

async function reject(p: Promise<unknown>, reason: string): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${reason}`).to.be.instanceOf(AvatarProtocolError);
  expect((err as AvatarProtocolError).reason, (err as Error).message).to.equal(reason);
}

async function avatarsFixture() {
  const sys = await deploySystemFixture();
  const registry = MITRegistry__factory.connect(sys.deployment.contracts.MITRegistry.address, sys.msrp);
  const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-avatars-")));
  return { ...sys, registry, store };
}

async function world() {
  const f = await loadFixture(avatarsFixture);
  const idp = new IdentityProvider();
  // The protocols' clock runs with the chain's: it starts just after the latest block, wherever the
  // tests run before left the chain's time, and the chain's next block is stamped with it.
  const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
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
  return { ...f, ctx, idp, alice, bob, ai, eyes, server };
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
    const la = await login(ctx, server, alice, eyes.alice, { avatarId: avatarId("alice"), appearance: "red fox" });
    const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarId("bob"), appearance: "blue whale" });
    expect(Number((await registry.avatar(toHex(avatarId("alice")))).driver)).to.equal(1); // Human
    const d = await delegate(ctx, server, alice, ai, { avatarId: avatarId("alice") });
    const av = await registry.avatar(toHex(avatarId("alice")));
    expect(Number(av.driver)).to.equal(2); // AI
    expect(av.driverSerial).to.equal(toHex(ai.mit!.serial));
    expect(await registry.isVerified(toHex(avatarId("alice")))).to.equal(true);
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

  describe("# attacks (each rejected, nothing recorded)", () => {
    it("a replayed login response (stale challenge)", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      const l = await login(ctx, server, alice, eyes.alice, { avatarId: avatarId("alice"), appearance: "fox" });
      const before = await registry.avatar(toHex(avatarId("alice")));
      await reject(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, l.response), "STALE_CHALLENGE");
      expect(await registry.avatar(toHex(avatarId("alice")))).to.deep.equal(before);
    });

    it("another person's iris sample", async () => {
      const { ctx, server, alice, eyes, registry } = await world();
      await reject(
        login(ctx, server, alice, eyes.alice, { avatarId: avatarId("alice"), appearance: "fox", sampleFrom: eyes.bob }),
        "IRIS_MISMATCH",
      );
      expect((await registry.avatar(toHex(avatarId("alice")))).owner).to.equal(ethers.ZeroHash);
    });

    it("a forged original signature, a forged proxy signature, a proxy signing outside its warrant", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: avatarId("alice"), appearance: "fox" });
      const before = await registry.avatar(toHex(avatarId("alice")));
      // bob pretends to be alice delegating her avatar: his key signs a warrant with her iris commitment
      const fake = new AvatarParty("alice", bob.keys);
      fake.mit = { ...alice.mit!, pk: bob.keys.pk };
      fake.irisCommitment = alice.irisCommitment;
      await reject(delegate(ctx, server, fake, ai, { avatarId: avatarId("alice") }), "KEY_MISMATCH");
      // a proxy that is not the warrant's signs anyway (by hand): PVerify fails
      const w = {
        irisCommitment: alice.irisCommitment!,
        proxy: ai.keys.pk,
        avatarId: avatarId("alice"),
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
      expect(await registry.avatar(toHex(avatarId("alice")))).to.deep.equal(before);
    });

    it("delegation to a revoked MIT; a revoked proxy authenticating", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: avatarId("alice"), appearance: "fox" });
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarId("bob"), appearance: "whale" });
      const d = await delegate(ctx, server, alice, ai, { avatarId: avatarId("alice") });
      await registry.revokeMIT(toHex(ai.mit!.serial));
      await reject(mutualAuth(ctx, { credential: d.credential, driver: ai }, { credential: lb.credential, driver: bob }), "MIT_REVOKED");
      const ai2 = new AvatarParty("ai-2");
      await issueProxyMit(ctx, ai2, "x");
      await registry.revokeMIT(toHex(ai2.mit!.serial));
      const before = await registry.avatar(toHex(avatarId("alice")));
      await reject(delegate(ctx, server, alice, ai2, { avatarId: avatarId("alice") }), "MIT_REVOKED");
      expect(await registry.avatar(toHex(avatarId("alice")))).to.deep.equal(before);
      expect(await registry.isVerified(toHex(avatarId("alice")))).to.equal(false); // its driver's MIT is revoked
    });

    it("false accusation: a reporter colluding with the proxy (holding its key) cannot trace to an innocent user", async () => {
      const { ctx, server, alice, bob, ai, eyes, registry, others } = await world();
      await login(ctx, server, alice, eyes.alice, { avatarId: avatarId("alice"), appearance: "fox" });
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarId("bob"), appearance: "whale" });
      const d = await delegate(ctx, server, alice, ai, { avatarId: avatarId("alice") });
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
      await reject(trace(ctx, reporter, { ...genuine, avatarId: avatarId("bob") }), "BAD_EVIDENCE");
      // (3) after alice revokes the delegation, new messages the proxy signs are not hers
      const id = await registry.activeDelegation(toHex(avatarId("alice")));
      await registry.revokeDelegation(id);
      const late = { type: Scope.interaction, time: ctx.now() + 3600, body: new TextEncoder().encode("after revocation") };
      const e3: Evidence = { ...genuine, message: late, proxySig: cpsPSign(ai.keys, genuine.warrant, genuine.o, late) };
      await reject(trace(ctx, reporter, e3), "NOT_DRIVER");
      // every one of these cases is closed as rejected, none traced
      for (let c = 1n; c <= 3n; c++) expect(Number((await registry.traceCase(c)).status)).to.equal(3);
    });
  });
});
