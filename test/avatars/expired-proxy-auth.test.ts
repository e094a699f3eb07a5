/**
 * Red team h16-red R1 (fixed): an AI proxy whose delegation warrant had expired still completed
 * mutual authentication as the responder, and what it signed there was untraceable.
 *
 * checkHello (offchain/avatars/protocols.ts) read the avatar's on-chain record (driver, warrant
 * hash, MITs) but not its `notAfter`; the only time checks were PVerify's (message time within the
 * warrant's validity) and the initiator's `requireFresh` (the responder's signed time within
 * CHALLENGE_TTL of its clock). The responder chooses the transcript's time, so an expired proxy
 * answered with a time backdated to its warrant's notAfter: the initiator accepted an avatar the
 * chain no longer verified, and its evidence, stamped after the delegation's end, traced nobody
 * (NOT_DRIVER). Now every acceptance of a peer checks the chain's notAfter against the verifier's
 * own clock (EXPIRED) and the chain's `isVerified` (NOT_VERIFIED), besides driver and MITs.
 */
import { expect } from "chai";
import { takeSnapshot } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { delegatedWorld, reasonOf } from "../helpers/avatar-world";
import { CHALLENGE_TTL, authFinish, authHello, authRespond } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";

describe("avatars: h16-red R1, a lapsed avatar is refused in mutual authentication", () => {
  it("the initiator refuses a responder whose delegation expired, its reply backdated within CHALLENGE_TTL (EXPIRED)", async () => {
    const { f, ctx, fox, bob, ai, lb, d, setClock, notAfter } = await delegatedWorld();
    // 60 s past the warrant's notAfter: the chain no longer verifies alice's avatar
    await setClock(notAfter + 60);
    expect(await f.registry.isVerified(toHex(fox))).to.equal(false);
    expect(CHALLENGE_TTL).to.be.greaterThan(60);
    // bob (honest, the initiator) says hello; the expired proxy answers with its clock set back to notAfter
    const a = authHello(ctx, { credential: lb.credential, driver: bob }, d.credential.avatarId);
    const b = await authRespond({ ...ctx, now: () => notAfter }, { credential: d.credential, driver: ai }, a.hello);
    expect(await reasonOf(authFinish(ctx, a.state, b.reply))).to.equal("EXPIRED");
  });

  it("an initiator whose clock is behind still refuses an avatar the chain no longer verifies (NOT_VERIFIED)", async () => {
    const { f, ctx, fox, bob, ai, lb, d, setClock, notAfter } = await delegatedWorld();
    await setClock(notAfter + 60); // the chain's time is past notAfter
    expect(await f.registry.isVerified(toHex(fox))).to.equal(false);
    const slow = { ...ctx, now: () => notAfter - 10 }; // bob's clock lags 70 s: by it, the warrant still runs
    const a = authHello(ctx, { credential: lb.credential, driver: bob }, d.credential.avatarId);
    const b = await authRespond(slow, { credential: d.credential, driver: ai }, a.hello);
    expect(await reasonOf(authFinish(slow, a.state, b.reply))).to.equal("NOT_VERIFIED");
  });

  it("the responder refuses an initiator whose delegation expired (EXPIRED)", async () => {
    const { ctx, bob, ai, lb, d, setClock, notAfter } = await delegatedWorld();
    await setClock(notAfter + 1);
    const fromAi = authHello(ctx, { credential: d.credential, driver: ai }, lb.credential.avatarId);
    expect(await reasonOf(authRespond(ctx, { credential: lb.credential, driver: bob }, fromAi.hello))).to.equal("EXPIRED");
  });

  it("revocation: a revoked delegation (NO_DRIVER) or a revoked proxy MIT (MIT_REVOKED) is refused by the initiator", async () => {
    const { f, ctx, bob, ai, lb, d } = await delegatedWorld();
    const a = authHello(ctx, { credential: lb.credential, driver: bob }, d.credential.avatarId);
    const b = await authRespond(ctx, { credential: d.credential, driver: ai }, a.hello);
    const snap = await takeSnapshot();
    await f.registry.revokeDelegation(d.delegationId);
    expect(await reasonOf(authFinish(ctx, a.state, b.reply))).to.equal("NO_DRIVER");
    await snap.restore();
    await f.registry.revokeMIT(toHex(ai.mit!.serial));
    expect(await reasonOf(authFinish(ctx, a.state, b.reply))).to.equal("MIT_REVOKED");
  });

  it("a live avatar still authenticates (the checks refuse only a lapsed one)", async () => {
    const { ctx, bob, ai, lb, d, setClock, notAfter } = await delegatedWorld();
    await setClock(notAfter - 5, false);
    const a = authHello(ctx, { credential: lb.credential, driver: bob }, d.credential.avatarId);
    const b = await authRespond(ctx, { credential: d.credential, driver: ai }, a.hello);
    expect(await reasonOf(authFinish(ctx, a.state, b.reply))).to.equal("accepted");
  });
});
