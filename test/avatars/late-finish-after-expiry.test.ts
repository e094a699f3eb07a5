/**
 * Red team h16-red R3 (fixed): the responder completed mutual authentication with a finish that
 * arrived any time later, after the initiator's delegation had ended.
 *
 * authComplete (offchain/avatars/protocols.ts) checked the finish with PVerify on the responder's
 * own message 2 (its time t0) and the confirmation tag only: no clock, no chain. An AI proxy that
 * said hello while its delegation ran, and held message 3 until after its warrant's notAfter (or
 * its revocation), still had the session accepted, and the responder's evidence, stamped after
 * the end, traced nobody (NOT_DRIVER). Now authComplete takes a ctx (registry, clock): message 2
 * must still be fresh by the responder's clock (STALE_TIME after CHALLENGE_TTL), and checkHello
 * runs again on the initiator's hello (EXPIRED, NOT_VERIFIED, NO_DRIVER, MIT_REVOKED).
 */
import { expect } from "chai";
import { takeSnapshot } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { delegatedWorld, reasonOf } from "../helpers/avatar-world";
import { CHALLENGE_TTL, authComplete, authFinish, authHello, authRespond } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";

/**
 * alice's avatar delegated to an AI proxy for an hour, bob logged in; the AI (initiator) says hello
 * at `helloAt` and bob answers then; the AI's finish is computed with its clock held at that time.
 */
async function story(helloAt?: (notAfter: number) => number) {
  const { f, ctx, fox, bob, ai, lb, d, notAfter, setClock } = await delegatedWorld();
  if (helloAt) await setClock(helloAt(notAfter));
  const a = authHello(ctx, { credential: d.credential, driver: ai }, lb.credential.avatarId);
  const t0 = ctx.now();
  const b = await authRespond(ctx, { credential: lb.credential, driver: bob }, a.hello);
  const fin = await authFinish({ ...ctx, now: () => t0 }, a.state, b.reply);
  return { f, ctx, fox, ai, d, b, fin, t0, notAfter, setClock };
}

describe("avatars: h16-red R3, a finish held past the initiator's warrant or past message 2's freshness", () => {
  it("the responder refuses a finish an hour after the initiator's delegation expired", async () => {
    const { f, ctx, fox, b, fin, notAfter, setClock } = await story();
    await setClock(notAfter + 3600);
    expect(await f.registry.isVerified(toHex(fox))).to.equal(false);
    expect(await reasonOf(authComplete(ctx, b.state, fin.finish))).to.equal("STALE_TIME");
  });

  it("a finish more than CHALLENGE_TTL after message 2 is refused although the initiator is still verified (STALE_TIME)", async () => {
    const { f, ctx, fox, b, fin, t0, setClock } = await story();
    await setClock(t0 + CHALLENGE_TTL + 1);
    expect(await f.registry.isVerified(toHex(fox))).to.equal(true);
    expect(await reasonOf(authComplete(ctx, b.state, fin.finish))).to.equal("STALE_TIME");
  });

  it("expiry within CHALLENGE_TTL: message 2 30 s before notAfter, the finish 30 s after it (EXPIRED)", async () => {
    const { ctx, b, fin, notAfter, setClock } = await story((n) => n - 30);
    await setClock(notAfter + 30);
    expect(await reasonOf(authComplete(ctx, b.state, fin.finish))).to.equal("EXPIRED");
  });

  it("revocation between message 2 and the finish: the delegation (NO_DRIVER) or the proxy's MIT (MIT_REVOKED)", async () => {
    const { f, ctx, ai, d, b, fin } = await story();
    const snap = await takeSnapshot();
    await f.registry.revokeDelegation(d.delegationId);
    expect(await reasonOf(authComplete(ctx, b.state, fin.finish))).to.equal("NO_DRIVER");
    await snap.restore();
    await f.registry.revokeMIT(toHex(ai.mit!.serial));
    expect(await reasonOf(authComplete(ctx, b.state, fin.finish))).to.equal("MIT_REVOKED");
    await snap.restore();
    // nothing lapsed: the same finish is accepted, and the keys agree
    const ok = await authComplete(ctx, b.state, fin.finish);
    expect(toHex(ok.key)).to.equal(toHex(fin.key));
  });
});
