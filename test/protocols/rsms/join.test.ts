import { expect } from "chai";
import { loadRsms } from "./fixtures";
import {
  initialJoin,
  initialJoinBatch,
  poolInfo,
  publishFilter,
  reauthenticate,
  registerRn,
  serveJoin,
  serveReauth,
  syncFilters,
} from "../../../offchain/protocols/rsms/flows";
import { RsmsRejectedError, RsmsRejectReason } from "../../../offchain/protocols/rsms/errors";
import { ResourcePoolManager } from "../../../offchain/protocols/rsms/rpm";
import {
  SIZES,
  decodeJoinRequest,
  encodeJoinReply,
  encodeJoinRequest,
  encodeReauthRequest,
} from "../../../offchain/protocols/rsms/messages";
import { poolEncryptionKey, tagOf } from "../../../offchain/protocols/rsms/params";
import { BloomFilter } from "../../../offchain/crypto/bloom";
import { encodeScalar, mulBase, randomScalar } from "../../../offchain/crypto/group";
import { concat, toHex, xor } from "../../../offchain/crypto/bytes";
import { H3, H6 } from "../../../offchain/crypto/hash";
import { MalformedMessageError } from "../../../offchain/protocols/rsms/errors";

async function expectRejected(p: Promise<unknown>, reason: RsmsRejectReason): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected rejection ${reason}`).to.be.instanceOf(RsmsRejectedError);
  expect((err as RsmsRejectedError).reason, (err as Error).message).to.equal(reason);
}

describe("protocols/rsms: joining resource pools (RSMS §IV.A)", () => {
  describe("# initial authentication", () => {
    it("an RN joins its pool: H4(a_k) is recorded with PID_k and both sides authenticate", async () => {
      const { ctx, msrp, rpmA, rns, ledger } = await loadRsms();
      const rn = rns[0];
      const before = rn.state;
      const res = await initialJoin(ctx, rn, rpmA, msrp);
      expect(toHex(res.record.pid)).to.equal(toHex(before.pid));
      expect(toHex(res.record.tag)).to.equal(toHex(tagOf(before.a)));
      const rec = await ledger.recordOf(before.pid);
      expect(toHex(rec.tag)).to.equal(toHex(tagOf(before.a)));
      expect(rec.poolId).to.equal(1);
      expect(rn.state.joined).to.equal(true);
      expect(rn.state.pool).to.equal(1);
      expect(res.wire).to.deep.equal({ rnToRpm: SIZES.JoinRequest, rpmToMsrp: SIZES.JoinForward, rpmToRn: SIZES.JoinReply });
    });

    it("a batch of RNs joins in one transaction", async () => {
      const { ctx, msrp, rpmA, rns, ledger } = await loadRsms();
      const { records } = await initialJoinBatch(ctx, rns.slice(0, 4), rpmA, msrp);
      expect(records).to.have.length(4);
      expect(await ledger.joinCount()).to.equal(4);
      expect(rns.slice(0, 4).every((r) => r.state.joined)).to.equal(true);
    });
  });

  describe("# attacks on initial authentication (each rejected, nothing recorded)", () => {
    it("a replayed join message at the same pool is rejected (H4(a') on-chain)", async () => {
      const { ctx, msrp, rpmA, rns, ledger } = await loadRsms();
      const { request, pending } = rns[0].buildJoinRequest(await poolInfo(ctx, 1));
      const served = await serveJoin(ctx, rpmA, msrp, request);
      rns[0].acceptJoinReply(served.reply, pending);
      const count = await ledger.joinCount();
      await expectRejected(serveJoin(ctx, rpmA, msrp, request), "REPLAYED_SECRET");
      expect(await ledger.joinCount()).to.equal(count);
    });

    it("the same message replayed at another pool is rejected (RPM_Y recovers garbage, not in its filter)", async () => {
      const { ctx, msrp, rpmB, rns, ledger } = await loadRsms();
      const { request } = rns[0].buildJoinRequest(await poolInfo(ctx, 1));
      await expectRejected(serveJoin(ctx, rpmB, msrp, request), "NOT_IN_FILTER");
      expect(await ledger.joinCount()).to.equal(0);
      expect(await ledger.isPidRecorded(rns[0].state.pid)).to.equal(false);
    });

    it("tampered c1 or c2 is rejected", async () => {
      const { ctx, msrp, rpmA, rns, ledger } = await loadRsms();
      const { request } = rns[1].buildJoinRequest(await poolInfo(ctx, 1));
      const m = decodeJoinRequest(request);
      const c2 = Uint8Array.from(m.c2);
      c2[5] ^= 0x10;
      await expectRejected(serveJoin(ctx, rpmA, msrp, encodeJoinRequest({ ...m, c2 })), "NOT_IN_FILTER");
      await expectRejected(serveJoin(ctx, rpmA, msrp, encodeJoinRequest({ ...m, c1: m.c1.add(mulBase(1n)) })), "NOT_IN_FILTER");
      const pid = Uint8Array.from(m.pid);
      pid[0] ^= 1;
      await expectRejected(serveJoin(ctx, rpmA, msrp, encodeJoinRequest({ ...m, pid })), "NOT_IN_FILTER");
      expect(await ledger.joinCount()).to.equal(0);
      // the genuine request still works afterwards
      expect((await serveJoin(ctx, rpmA, msrp, request)).verified.record.poolId).to.equal(1);
    });

    it("a truncated or mistyped message is a MalformedMessageError", async () => {
      const { ctx, msrp, rpmA, rns } = await loadRsms();
      const { request } = rns[1].buildJoinRequest(await poolInfo(ctx, 1));
      let err: unknown;
      try {
        await serveJoin(ctx, rpmA, msrp, request.subarray(0, 50));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(MalformedMessageError);
    });

    it("an unregistered RN (a not in the filter) is rejected", async () => {
      const { ctx, msrp, rpmA, ledger } = await loadRsms();
      const { ResourceNode } = await import("../../../offchain/protocols/rsms/rn");
      const fake = new ResourceNode(msrp.params, {
        name: "intruder",
        sk: randomScalar(),
        a: randomScalar(),
        pid: H6("made", 1n),
        k: 0,
        joined: false,
        homePool: 1,
        pool: 0,
      });
      await expectRejected(initialJoin(ctx, fake, rpmA, msrp), "NOT_IN_FILTER");
      expect(await ledger.joinCount()).to.equal(0);
      expect(fake.state.joined).to.equal(false);
    });

    it("an RN registered but whose filter is not yet published is rejected until it is", async () => {
      const { ctx, msrp, rpmA, ledger } = await loadRsms();
      const { rn } = await registerRn(ctx, msrp, { name: "late", poolId: 1, rid: "serial-late" });
      await expectRejected(initialJoin(ctx, rn, rpmA, msrp), "NOT_IN_FILTER");
      await publishFilter(ctx, msrp, 1);
      await initialJoin(ctx, rn, rpmA, msrp);
      expect(await ledger.joinCount()).to.equal(1);
    });

    it("a filter whose bytes do not match the published root is refused by the RPM", async () => {
      const { ctx, msrp, registry, store, rns, ledger } = await loadRsms();
      const other = BloomFilter.init(64, 20);
      other.insert(encodeScalar(rns[0].state.a));
      const cid = await store.putBytes(other.serialize());
      await registry.publishFilter(1, toHex(new Uint8Array(32).fill(7)), cid, 64, 20); // root of nothing
      const fresh = ResourcePoolManager.fromRecord(msrp.params, {
        poolId: 1,
        sk: "0x" + "00".repeat(31) + "05",
        pid: toHex(new Uint8Array(32).fill(1)),
      });
      await expectRejected(syncFilters(ctx, fresh), "FILTER_ROOT_MISMATCH");
      expect(await ledger.joinCount()).to.equal(0);
    });

    it("an RPM impersonator cannot answer: the RN sees A != a*P and does not accept", async () => {
      const { ctx, rns } = await loadRsms();
      const rn = rns[2];
      const { request, pending } = rn.buildJoinRequest(await poolInfo(ctx, 1));
      // The impersonator holds some key, not sk_RPM: what it "recovers" is not a.
      const impostor = ResourcePoolManager.fromRecord(rn.params, {
        poolId: 1,
        sk: toHex(encodeScalar(randomScalar())),
        pid: toHex(new Uint8Array(32).fill(2)),
      });
      let reply: Uint8Array;
      try {
        reply = impostor.joinReply(impostor.openJoinRequest(request));
      } catch {
        reply = encodeJoinReply({ A: mulBase(randomScalar()) });
      }
      const before = rn.state;
      let err: unknown;
      try {
        rn.acceptJoinReply(reply, pending);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(RsmsRejectedError);
      expect((err as RsmsRejectedError).reason).to.equal("RPM_AUTHENTICATION_FAILED");
      expect(rn.state).to.deep.equal(before);
    });

    it("a Bloom false positive passes the RPM's filter but not the MSRP's exact check (Game 4)", async () => {
      const { ctx, msrp, rpmA, ledger, registry, store } = await loadRsms();
      // A deliberately tiny filter (lambda = 1) makes a false positive easy to find.
      const tiny = BloomFilter.init(8, 1);
      for (let i = 0; i < 8; i++) tiny.insert(encodeScalar(randomScalar()));
      let fp = 0n;
      for (let i = 1n; fp === 0n; i++) if (tiny.check(encodeScalar(i * 7919n))) fp = i * 7919n;
      const cid = await store.putBytes(tiny.serialize());
      await registry.publishFilter(1, toHex(tiny.root()), cid, 8, 1);
      const { ResourceNode } = await import("../../../offchain/protocols/rsms/rn");
      const forger = new ResourceNode(msrp.params, {
        name: "forger",
        sk: randomScalar(),
        a: fp,
        pid: H6("forged", 2n),
        k: 0,
        joined: false,
        homePool: 1,
        pool: 0,
      });
      const { request } = forger.buildJoinRequest(await poolInfo(ctx, 1));
      const opened = rpmA.openJoinRequest(request);
      await syncFilters(ctx, rpmA);
      expect(rpmA.inFilters(opened.a)).to.equal(true); // the RPM alone would accept
      await expectRejected(serveJoin(ctx, rpmA, msrp, request), "MSRP_REJECTED");
      expect(await ledger.joinCount()).to.equal(0);
    });
  });

  describe("# re-authentication across pools", () => {
    it("a joined RN moves to pool 2: PID_{k+1} and H4(a_{k+1}) are recorded", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[0];
      await initialJoin(ctx, rn, rpmA, msrp);
      const s0 = rn.state;
      const res = await reauthenticate(ctx, rn, rpmB, msrp);
      expect(toHex(res.record.pid)).to.equal(toHex(H6(s0.pid, s0.a)));
      expect(rn.state.k).to.equal(1);
      expect(rn.state.pool).to.equal(2);
      expect((await ledger.recordOf(rn.state.pid)).kind).to.equal(2);
      expect(res.wire.rnToRpm).to.equal(SIZES.ReauthRequest);
      // and again, back to pool 1
      await reauthenticate(ctx, rn, rpmA, msrp);
      expect(rn.state.k).to.equal(2);
      expect(await ledger.joinCount()).to.equal(3);
    });

    it("a replayed re-authentication (PID_{k+1} already on-chain) is rejected", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[1];
      await initialJoin(ctx, rn, rpmA, msrp);
      const { request, pending } = rn.buildReauthRequest(await poolInfo(ctx, 2));
      const served = await serveReauth(ctx, rpmB, msrp, request);
      rn.acceptReauthReply(served.reply, pending);
      const count = await ledger.joinCount();
      await expectRejected(serveReauth(ctx, rpmB, msrp, request), "REPLAYED_SECRET");
      // at another pool the RPM recovers garbage, and PID_{k+1} is on-chain anyway
      await expectRejected(serveReauth(ctx, rpmA, msrp, request), "NEXT_PID_RECORDED");
      expect(await ledger.joinCount()).to.equal(count);
    });

    it("a re-authentication whose H4(a_k) is not on-chain (never joined) is rejected", async () => {
      const { ctx, msrp, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[2];
      // force the RN to believe it joined, without any on-chain record
      const { ResourceNode } = await import("../../../offchain/protocols/rsms/rn");
      const liar = new ResourceNode(rn.params, { ...rn.state, joined: true });
      const { request } = liar.buildReauthRequest(await poolInfo(ctx, 2));
      await expectRejected(serveReauth(ctx, rpmB, msrp, request), "TAG_NOT_RECORDED");
      expect(await ledger.joinCount()).to.equal(0);
    });

    it("a re-authentication whose PID_{k+1} is already on-chain is rejected by the RPM", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger, registry } = await loadRsms();
      const rn = rns[3];
      await initialJoin(ctx, rn, rpmA, msrp);
      const next = H6(rn.state.pid, rn.state.a);
      await registry.recordJoin(toHex(next), toHex(new Uint8Array(32).fill(9)), 1, 2); // squatted
      const count = await ledger.joinCount();
      const { request } = rn.buildReauthRequest(await poolInfo(ctx, 2));
      await expectRejected(serveReauth(ctx, rpmB, msrp, request), "NEXT_PID_RECORDED");
      expect(await ledger.joinCount()).to.equal(count);
    });

    it("an attacker who knows PID_k and H4(a_k) (both public on-chain) cannot forge a_{k+1} or PID_{k+1}", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[0];
      await initialJoin(ctx, rn, rpmA, msrp);
      const pool2 = await poolInfo(ctx, 2);
      const pidK = rn.state.pid;
      const publicTag = (await ledger.recordOf(pidK)).tag;
      // The attacker builds a well-formed request for RPM_2 with the public H4(a_k), a secret of
      // its choice and a fresh PID: the RPM's checks pass, the MSRP's exact check does not.
      const w = randomScalar();
      const c1 = poolEncryptionKey(rn.params, pool2.pkRpm, pool2.pidRpm).multiply(w);
      const c2 = xor(H3(64, mulBase(w), pidK), concat(publicTag, encodeScalar(randomScalar())));
      const forged = encodeReauthRequest({ c1, c2, pid: pidK, nextPid: H6("attacker", 3n) });
      await expectRejected(serveReauth(ctx, rpmB, msrp, forged), "MSRP_REJECTED");
      expect(await ledger.joinCount()).to.equal(1);
      // the genuine RN can still move afterwards
      await reauthenticate(ctx, rn, rpmB, msrp);
      expect(rn.state.k).to.equal(1);
    });
  });

  describe("# privacy and tracing", () => {
    it("unlinkability: successive PIDs look independent (Hamming distances match unrelated PIDs)", async () => {
      const { rns } = await loadRsms();
      let pid = rns[0].state.pid;
      let a = rns[0].state.a;
      const { H4 } = await import("../../../offchain/crypto/hash");
      const sk = rns[0].state.sk;
      const dists: number[] = [];
      const ones: number[] = [];
      const hd = (x: Uint8Array, y: Uint8Array) => x.reduce((n, b, i) => n + popcount(b ^ y[i]), 0);
      for (let k = 0; k < 400; k++) {
        const next = H6(pid, a);
        dists.push(hd(pid, next));
        ones.push(next.reduce((n, b) => n + popcount(b), 0));
        a = H4(a, sk);
        pid = next;
      }
      // Unrelated 256-bit strings: Hamming distance ~ Binomial(256, 1/2), mean 128, sd 8.
      const mean = dists.reduce((x, y) => x + y) / dists.length;
      const sd = Math.sqrt(dists.reduce((x, y) => x + (y - mean) ** 2, 0) / dists.length);
      expect(mean).to.be.within(128 - 3 * (8 / Math.sqrt(400)) - 0.5, 128 + 3 * (8 / Math.sqrt(400)) + 0.5);
      expect(sd).to.be.within(6.5, 9.5);
      const meanOnes = ones.reduce((x, y) => x + y) / ones.length;
      expect(meanOnes).to.be.within(126, 130);
    });

    it("traceability: the MSRP recovers the real identity from every PID in an RN's chain", async () => {
      const { ctx, msrp, rpmA, rpmB, rns } = await loadRsms();
      const rn = rns[1];
      const pids = [rn.state.pid];
      await initialJoin(ctx, rn, rpmA, msrp);
      await reauthenticate(ctx, rn, rpmB, msrp);
      pids.push(rn.state.pid);
      await reauthenticate(ctx, rn, rpmA, msrp);
      pids.push(rn.state.pid);
      for (const [k, pid] of pids.entries()) expect(msrp.trace(pid)).to.deep.include({ kind: "rn", name: "rn1", rid: "serial-1", k });
      expect(msrp.trace(rpmA.pid)).to.deep.include({ kind: "rpm", rid: "RPM-A real id" });
      expect(() => msrp.trace(H6("nobody", 1n))).to.throw(/not a pseudonym this MSRP issued/);
    });

    it("the MSRP survives a restart: its keystore record restores verification and tracing", async () => {
      const { ctx, msrp, rpmA, rpmB, rns } = await loadRsms();
      const { Msrp } = await import("../../../offchain/protocols/rsms/msrp");
      await initialJoin(ctx, rns[0], rpmA, msrp);
      const restored = Msrp.fromRecord(JSON.parse(JSON.stringify(msrp.toRecord())));
      await reauthenticate(ctx, rns[0], rpmB, restored);
      expect(restored.trace(rns[0].state.pid).name).to.equal("rn0");
      expect(restored.pendingCount(1)).to.equal(0);
    });
  });
});

function popcount(b: number): number {
  let n = 0;
  while (b) {
    n += b & 1;
    b >>= 1;
  }
  return n;
}
