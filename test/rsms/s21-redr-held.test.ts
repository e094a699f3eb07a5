/**
 * Red team s21-redr: cells of the threat table (notes/s21/s21-redr.md) that were attacked and held.
 * Each test names the attacker and asserts the refusal and that nothing changed.
 * - A1: a network attacker rewrites PID_{k+1} of a re-authentication (the one field c2's mask does not cover).
 * - A2: an old re-authentication replayed after the RN moved on twice.
 * - J7: concurrent joins in one process take their ephemerals from the shared stock: none twice.
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import {
  initialJoin,
  joinViewsSettled,
  poolInfo,
  reauthenticate,
  restockJoinSoon,
  serveJoin,
  serveReauth,
} from "../../offchain/rsms/flows";
import { RsmsRejectedError } from "../../offchain/rsms/errors";
import { decodeReauthRequest, encodeReauthRequest } from "../../offchain/rsms/messages";
import { toHex } from "../../offchain/crypto/bytes";
import { randomBytes } from "@noble/hashes/utils.js";
import { EphemeralStock } from "../../offchain/crypto/ephemeral";

async function rejected(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RsmsRejectedError) return e.reason;
    throw e;
  }
  return "ACCEPTED";
}

describe("rsms red team s21-redr: cells that held", function () {
  this.timeout(180_000);

  it("A1: PID_{k+1} rewritten in transit (random, another RN's next, the RN's own PID_k): refused, nothing recorded or committed; the genuine request still passes", async () => {
    const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
    const [rn, other] = rns;
    for (const r of [rn, other]) {
      const j = r.buildJoinRequest(await poolInfo(ctx, 1));
      r.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, j.request)).reply, j.pending);
    }
    const re = rn.buildReauthRequest(await poolInfo(ctx, 2));
    const m = decodeReauthRequest(re.request);
    const otherNext = decodeReauthRequest(other.buildReauthRequest(await poolInfo(ctx, 2)).request).nextPid;
    const count = await ledger.joinCount();
    const msrpBefore = JSON.stringify(msrp.toRecord());
    for (const nextPid of [randomBytes(32), otherNext, m.pid]) {
      const tampered = encodeReauthRequest({ ...m, nextPid });
      expect(await rejected(serveReauth(ctx, rpmB, msrp, tampered))).to.be.oneOf(["MSRP_REJECTED", "NEXT_PID_RECORDED", "REPLAYED_SECRET"]);
      expect(await ledger.joinCount()).to.equal(count);
      expect(JSON.stringify(msrp.toRecord())).to.equal(msrpBefore);
    }
    const served = await serveReauth(ctx, rpmB, msrp, re.request);
    rn.acceptReauthReply(served.reply, re.pending);
    expect(toHex((await ledger.recordOf(rn.state.pid)).tag)).to.equal(toHex(served.record.tag));
    expect(rn.state.pool).to.equal(2);
  });

  it("A2: the RN's first re-authentication replayed after it moved on twice: answered from the chain with nothing written or committed", async () => {
    const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
    const rn = rns[0];
    const j = rn.buildJoinRequest(await poolInfo(ctx, 1));
    rn.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, j.request)).reply, j.pending);
    const first = rn.buildReauthRequest(await poolInfo(ctx, 2));
    rn.acceptReauthReply((await serveReauth(ctx, rpmB, msrp, first.request)).reply, first.pending);
    await reauthenticate(ctx, rn, rpmA, msrp);
    await reauthenticate(ctx, rn, rpmB, msrp);
    const count = await ledger.joinCount();
    const msrpBefore = JSON.stringify(msrp.toRecord());
    const rnBefore = rn.state;
    const replay = await serveReauth(ctx, rpmB, msrp, first.request);
    expect(replay.retried).to.equal(true);
    expect(replay.tx).to.equal(undefined);
    expect(await rejected(serveReauth(ctx, rpmA, msrp, first.request))).to.equal("NEXT_PID_RECORDED");
    expect(await ledger.joinCount()).to.equal(count);
    expect(JSON.stringify(msrp.toRecord())).to.equal(msrpBefore);
    expect(() => rn.acceptReauthReply(replay.reply, first.pending)).to.throw(RsmsRejectedError);
    expect(rn.state).to.deep.equal(rnBefore);
  });

  it("J7: three joins running concurrently in one process after a restock: every ephemeral scalar taken is distinct", async () => {
    const { ctx, msrp, rpmA, rns } = await loadRsms();
    const taken: bigint[] = [];
    const orig = EphemeralStock.prototype.take;
    EphemeralStock.prototype.take = function (this: EphemeralStock, base) {
      const e = orig.call(this, base);
      if (e) taken.push(e.k);
      return e;
    };
    try {
      await initialJoin(ctx, rns[0], rpmA, msrp); // notes the bases
      restockJoinSoon();
      await joinViewsSettled();
      const results = await Promise.allSettled(rns.slice(1, 4).map((rn) => initialJoin(ctx, rn, rpmA, msrp)));
      restockJoinSoon();
      await joinViewsSettled();
      expect(results.filter((r) => r.status === "fulfilled").length, "concurrent joins").to.be.at.least(1);
    } finally {
      EphemeralStock.prototype.take = orig;
    }
    expect(taken.length, "ephemerals taken from the stock").to.be.at.least(3);
    expect(new Set(taken).size, "an ephemeral taken twice").to.equal(taken.length);
  });
});
