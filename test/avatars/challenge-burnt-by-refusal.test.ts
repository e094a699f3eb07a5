/**
 * Red team h16-red R2 (fixed): a refused login or delegation response spent the challenge it named.
 *
 * verifyLogin and verifyDelegation called `server.consume(r.challenge, now)` before any check, and
 * the IdP service's ChallengeStore.spend marked the challenge used by that request. The challenge
 * and the envelope's session travel in clear, so a network attacker who saw alice's challenge sent
 * any well-formed response naming it: refused, but the challenge was gone and alice's genuine
 * response got STALE_CHALLENGE (a rejected input changed the challenge store). Now the challenge
 * is only checked first (`ChallengeBook.check`, `ChallengeStore.check`) and spent after the binding
 * checks and PVerify (under the user's key for a login, the owner's for a delegation), before the
 * iris match: a thief holding the keys still gets one iris attempt per challenge.
 * The service's path over HTTP: test/services/idp-service.test.ts ("h16-red R2").
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { AvatarParty, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarsFixture, reasonOf } from "../helpers/avatar-world";
import {
  ChallengeBook,
  avatarIdOf,
  buildDelegationResponse,
  buildLoginResponse,
  issueProxyMit,
  issueUserMit,
  login,
  verifyDelegation,
  verifyLogin,
} from "../../offchain/avatars/protocols";
import { keccak256 } from "../../offchain/crypto/hash";
import { toHex } from "../../offchain/crypto/bytes";

async function story() {
  const f = await loadFixture(avatarsFixture);
  const idp = new IdentityProvider();
  const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
  const ctx = { registry: f.registry, idp, store: f.store, now: () => Math.floor(Date.now() / 1000) + offset };
  await time.setNextBlockTimestamp(ctx.now());
  const alice = new AvatarParty("alice");
  const mallory = new AvatarParty("mallory");
  const bot = new AvatarParty("bot");
  const eyes = { alice: new SimulatedEye(1), mallory: new SimulatedEye(7) };
  await issueUserMit(ctx, alice, "Alice Liddell", eyes.alice);
  await issueUserMit(ctx, mallory, "Mallory", eyes.mallory);
  await issueProxyMit(ctx, bot, "alice's assistant");
  const server = new ChallengeBook();
  const fox = avatarIdOf(alice.mit!.serial, "fox");
  const vid = keccak256(new TextEncoder().encode("VID:fox"));
  return { f, ctx, alice, mallory, bot, eyes, server, fox, vid };
}

describe("avatars: h16-red R2, a refused response does not spend the challenge", () => {
  it("login: alice's genuine response is accepted after a forged one naming her challenge was refused", async () => {
    const { f, ctx, alice, mallory, eyes, server, fox, vid } = await story();
    const challenge = server.issue(ctx.now()); // the server's challenge to alice, seen on the wire
    // mallory's response in alice's name with her challenge (his keys, his eye): refused
    const forged = buildLoginResponse(ctx, mallory, eyes.mallory.capture(), challenge, fox, vid, ctx.now());
    expect(await reasonOf(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, forged))).to.equal("IRIS_MISMATCH");
    // alice's own response with its proxy signature altered (the last check before the challenge is spent)
    const genuine = buildLoginResponse(ctx, alice, eyes.alice.capture(), challenge, fox, vid, ctx.now());
    const altered = { ...genuine, proxySig: genuine.proxySig.double() };
    expect(await reasonOf(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, altered))).to.equal("BAD_SIGNATURE");
    expect((await f.registry.avatar(toHex(fox))).owner).to.equal(toHex(new Uint8Array(32)));
    // the genuine one goes through, once
    expect(await reasonOf(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, genuine))).to.equal("accepted");
    expect((await f.registry.avatar(toHex(fox))).warrantHash).to.equal(toHex(genuine.o.h));
    expect(await reasonOf(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, genuine))).to.equal("STALE_CHALLENGE");
  });

  it("login: a thief with alice's key but not her eye has one iris attempt per challenge (a refused match spends it)", async () => {
    const { ctx, alice, eyes, server, fox, vid } = await story();
    const challenge = server.issue(ctx.now());
    const thief = buildLoginResponse(ctx, alice, eyes.mallory.capture(), challenge, fox, vid, ctx.now());
    expect(await reasonOf(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, thief))).to.equal("IRIS_MISMATCH");
    const again = buildLoginResponse(ctx, alice, eyes.mallory.capture(), challenge, fox, vid, ctx.now());
    expect(await reasonOf(verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, again))).to.equal("STALE_CHALLENGE");
  });

  it("delegation: the genuine response is accepted after a forged one (mallory as the owner) and an altered one were refused", async () => {
    const { f, ctx, alice, mallory, bot, eyes, server, fox } = await story();
    await login(ctx, server, alice, eyes.alice, { avatarId: fox, appearance: "fox" });
    const challenge = server.issue(ctx.now()); // the bot's challenge, seen on the wire
    const forged = {
      ...buildDelegationResponse(ctx, mallory, eyes.mallory.capture(), bot, challenge, { avatarId: fox, ttl: 3600 }, ctx.now()),
      ownerSerial: alice.mit!.serial,
    };
    expect(await reasonOf(verifyDelegation(ctx, server, forged))).to.equal("IRIS_MISMATCH");
    const genuine = buildDelegationResponse(ctx, alice, eyes.alice.capture(), bot, challenge, { avatarId: fox, ttl: 3600 }, ctx.now());
    const altered = { ...genuine, proxySig: genuine.proxySig.double() };
    expect(await reasonOf(verifyDelegation(ctx, server, altered))).to.equal("BAD_SIGNATURE");
    expect(Number((await f.registry.avatar(toHex(fox))).driver)).to.equal(1); // still alice's login
    expect(await reasonOf(verifyDelegation(ctx, server, genuine))).to.equal("accepted");
    expect((await f.registry.avatar(toHex(fox))).driverSerial).to.equal(toHex(bot.mit!.serial));
    expect(await reasonOf(verifyDelegation(ctx, server, genuine))).to.equal("STALE_CHALLENGE");
  });

  it("delegation: the owner's key without her eye has one iris attempt per challenge", async () => {
    const { ctx, alice, bot, eyes, server, fox } = await story();
    await login(ctx, server, alice, eyes.alice, { avatarId: fox, appearance: "fox" });
    const challenge = server.issue(ctx.now());
    const thief = buildDelegationResponse(ctx, alice, eyes.mallory.capture(), bot, challenge, { avatarId: fox, ttl: 3600 }, ctx.now());
    expect(await reasonOf(verifyDelegation(ctx, server, thief))).to.equal("IRIS_MISMATCH");
    expect(await reasonOf(verifyDelegation(ctx, server, thief))).to.equal("STALE_CHALLENGE");
  });
});
