/**
 * Red team s21-reda F1 (fixed in s21-reda, severity H: escape from tracing): a driver that dates what it signs
 * up to CHALLENGE_TTL into the future makes its evidence untraceable once its authority ends.
 *
 * Attack. The responder of mutual authentication chooses the time of the transcript message both
 * sides sign (and every side chooses the time of its interaction messages); the verifier accepts
 * any time within CHALLENGE_TTL (120 s) of its own clock, in the future as in the past. The honest
 * peer has the platform stamp its evidence at once: the receipt's time is the platform's clock,
 * so it is earlier than the message's time. judgeTrace dates evidence whose driver's authority
 * has ended (delegation expired or revoked, the driver's MIT revoked) only by a receipt with
 * `message.time <= receipt.time <= end`, so the receipt the victim holds does not count: an AI
 * proxy that answers 100 s "ahead" in the last two minutes of its warrant, or a human who signs
 * ahead and then has her MIT revoked (a "stolen key"), is traced by nobody (NOT_DRIVER) after the
 * end, although the victim's peer accepted it while the chain verified it and the platform stamped
 * the evidence before the end.
 *
 * What holds now: evidence an honest peer accepted (its signed time within CHALLENGE_TTL of the
 * peer's clock) and the platform stamped before the driver's authority ended traces to the owner
 * after the end, whichever time within that tolerance the signer chose: receiptBy
 * (offchain/avatars/protocols.ts) takes a receipt no later than the end and no earlier than
 * CHALLENGE_TTL before the message's time. Evidence stamped after the end still traces nobody
 * (attacks.test.ts item 6 keeps that); the last test pins the tolerance on both sides.
 */
import { expect } from "chai";
import { delegatedWorld, reasonOf } from "../helpers/avatar-world";
import {
  CHALLENGE_TTL,
  authComplete,
  authFinish,
  authHello,
  authRespond,
  interactionEvidence,
  signInteraction,
  evidenceHash,
  stampEvidence,
  trace,
} from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";

/** alice's avatar fox delegated to an AI proxy for an hour, her avatar lynx driven by herself; bob logged in; a clock the test moves; a reporter. */
async function story() {
  const w = await delegatedWorld({ lynx: true });
  return { ...w, lynx: w.lynx!, reporter: w.f.registry.connect(w.f.others[3]) };
}

const AHEAD = 100;

describe("avatars: s21-reda F1, evidence dated ahead of the platform's receipt traces nobody once the driver's authority ends", () => {
  it("control: the same session with the proxy's clock on time traces to alice after notAfter (the receipt dates it)", async () => {
    const { ctx, bob, ai, lb, d, setClock, reporter, notAfter } = await story();
    await setClock(notAfter - AHEAD, false);
    const a = authHello(ctx, { credential: lb.credential, driver: bob }, d.credential.avatarId);
    const b = await authRespond(ctx, { credential: d.credential, driver: ai }, a.hello);
    const evidence = stampEvidence(ctx, (await authFinish(ctx, a.state, b.reply)).evidenceAboutPeer);
    await setClock(notAfter + 10);
    expect(await reasonOf(trace(ctx, reporter, evidence))).to.equal("accepted");
  });

  it("the AI proxy answers 100 s ahead in its warrant's last minutes; bob's evidence, stamped before notAfter, still traces to alice after it", async () => {
    const { ctx, bob, ai, lb, d, setClock, reporter, notAfter } = await story();
    expect(AHEAD).to.be.lessThan(CHALLENGE_TTL);
    await setClock(notAfter - AHEAD, false);
    const a = authHello(ctx, { credential: lb.credential, driver: bob }, d.credential.avatarId);
    // the proxy's own clock: 100 s ahead (it chooses the transcript's time)
    const b = await authRespond({ ...ctx, now: () => notAfter }, { credential: d.credential, driver: ai }, a.hello);
    const fin = await authFinish(ctx, a.state, b.reply); // bob accepts: within CHALLENGE_TTL of his clock, the chain verifies fox
    const evidence = stampEvidence(ctx, fin.evidenceAboutPeer); // stamped at once, at notAfter - 100
    expect(evidence.receipt!.time).to.be.lessThanOrEqual(notAfter);
    await setClock(notAfter + 10); // the warrant has ended; bob files the evidence
    expect(await reasonOf(trace(ctx, reporter, evidence))).to.equal("accepted");
  });

  it("an interaction message dated 100 s ahead, stamped before the delegation is revoked, still traces to alice after the revocation", async () => {
    const { f, ctx, bob, ai, lb, d, reporter } = await story();
    // an honest session, alice's AI the responder
    const a = authHello(ctx, { credential: lb.credential, driver: bob }, d.credential.avatarId);
    const b = await authRespond(ctx, { credential: d.credential, driver: ai }, a.hello);
    const fin = await authFinish(ctx, a.state, b.reply);
    await authComplete(ctx, b.state, fin.finish);
    // the AI signs a message in the session, dated 100 s ahead of everybody's clock
    const m = signInteraction(
      { credential: d.credential, driver: ai },
      fin.evidenceAboutPeer,
      new TextEncoder().encode("send the funds"),
      ctx.now() + AHEAD,
    );
    const held = await interactionEvidence(ctx, fin.evidenceAboutPeer, m.message, m.proxySig); // bob accepts it
    const evidence = stampEvidence(ctx, held);
    await f.registry.revokeDelegation(d.delegationId); // alice (or her AI's operator) ends the delegation at once
    const revokedAt = Number((await f.registry.delegation(d.delegationId)).revokedAt);
    expect(evidence.receipt!.time).to.be.lessThanOrEqual(revokedAt);
    expect(await reasonOf(trace(ctx, reporter, evidence))).to.equal("accepted");
  });

  it("a human who answers 100 s ahead and then has her MIT revoked (a 'stolen key') is still traced on evidence stamped before", async () => {
    const { f, ctx, alice, bob, lb, lynx, reporter } = await story();
    const a = authHello(ctx, { credential: lb.credential, driver: bob }, lynx.credential.avatarId);
    const b = await authRespond({ ...ctx, now: () => ctx.now() + AHEAD }, { credential: lynx.credential, driver: alice }, a.hello);
    const fin = await authFinish(ctx, a.state, b.reply);
    const evidence = stampEvidence(ctx, fin.evidenceAboutPeer);
    await f.registry.revokeMIT(toHex(alice.mit!.serial));
    expect(await reasonOf(trace(ctx, reporter, evidence))).to.equal("accepted");
  });

  it("the tolerance is CHALLENGE_TTL, what every verifier allows: a receipt up to 120 s before the message's time dates it, one a second earlier does not", async () => {
    const { ctx, bob, ai, lb, d, setClock, reporter, notAfter } = await story();
    await setClock(notAfter - CHALLENGE_TTL - 10, false);
    const a = authHello(ctx, { credential: lb.credential, driver: bob }, d.credential.avatarId);
    const b = await authRespond({ ...ctx, now: () => notAfter }, { credential: d.credential, driver: ai }, a.hello);
    const e = (await authFinish({ ...ctx, now: () => notAfter - 1 }, a.state, b.reply)).evidenceAboutPeer;
    await setClock(notAfter + 10);
    const stampedAt = (t: number) => ({ ...e, receipt: ctx.idp.stamp(evidenceHash(e), t) });
    expect(await reasonOf(trace(ctx, reporter, stampedAt(notAfter - CHALLENGE_TTL - 1)))).to.equal("NOT_DRIVER");
    expect(await reasonOf(trace(ctx, reporter, stampedAt(notAfter - CHALLENGE_TTL)))).to.equal("accepted");
  });
});
