import { expect } from "chai";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { loadRsms } from "./fixtures";
import {
  initialJoin,
  initialJoinBatch,
  MAX_PREFETCHED_EPOCHS,
  poolInfo,
  prefetchJoin,
  publishFilter,
  reauthenticate,
  registerRn,
  renewSecret,
  serveJoin,
  serveReauth,
  setupPool,
  syncFilters,
} from "../../offchain/rsms/flows";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import type { ResourcePoolRegistry } from "../../typechain-types";
import { ethers } from "hardhat";
import { RsmsRejectedError, RsmsRejectReason } from "../../offchain/rsms/errors";
import { FETCH_ATTEMPTS, REFETCH_BACKOFF_SEC, ResourcePoolManager } from "../../offchain/rsms/rpm";
import {
  AAD,
  SIZES,
  decodeJoinForward,
  decodeJoinRequest,
  decodeReauthForward,
  encodeJoinReply,
  encodeJoinRequest,
  encodeReauthReply,
  encodeReauthRequest,
} from "../../offchain/rsms/messages";
import { RsmsParams, paramsFromPkPub, pointHex, poolEncryptionKey, rnGroupSecret, tagOf } from "../../offchain/rsms/params";
import { BloomFilter } from "../../offchain/crypto/bloom";
import { ORDER, addMod, decodePoint, encodePoint, encodeScalar, mulBase, mulMod, randomScalar } from "../../offchain/crypto/group";
import { concat, numberToBytesBE, toHex, xor } from "../../offchain/crypto/bytes";
import { eciesDecrypt } from "../../offchain/crypto/ecies";
import { H2, H3, H4, H6 } from "../../offchain/crypto/hash";
import { AgentStateError, MalformedMessageError } from "../../offchain/rsms/errors";
import { DEFAULT_FILTER_POLICY, Msrp } from "../../offchain/rsms/msrp";
import { PoolInfo, ResourceNode, RnState } from "../../offchain/rsms/rn";
import { expectThrows } from "../helpers/errors";
import { ContentCorruptedError, ContentNotFoundError, InvalidCidError, IpfsUnreachableError } from "../../offchain/storage/errors";
import { FOREIGN_FETCH_TIMEOUT_MS } from "../../offchain/storage/content-store";

async function expectRejected(p: Promise<unknown>, reason: RsmsRejectReason, msg?: RegExp): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected rejection ${reason}`).to.be.instanceOf(RsmsRejectedError);
  expect((err as RsmsRejectedError).reason, (err as Error).message).to.equal(reason);
  expect((err as RsmsRejectedError).code).to.equal("PROTOCOL_REJECTED");
  if (msg) expect((err as Error).message).to.match(msg);
}

/**
 * Agents without the MSRP agent or the chain: PK_pub = msk*P, one RPM with sk = d + msk*H2(PID_RPM)
 * and one RN with a secret of the test's choosing; the test plays the MSRP and the chain.
 */
function agents(poolId = 1) {
  const msk = randomScalar();
  const params: RsmsParams = { pkPub: mulBase(msk) };
  const pidRpm = H6("rpm", BigInt(poolId));
  const d = randomScalar();
  const pool: PoolInfo = { poolId, pkRpm: mulBase(d), pidRpm };
  const rpm = new ResourcePoolManager(params, { poolId, sk: addMod(d, mulMod(msk, H2(pidRpm))), pid: pidRpm });
  const state: RnState = {
    name: "rn",
    sk: randomScalar(),
    a: randomScalar(),
    pid: H6("rn", 0n),
    k: 0,
    joined: false,
    homePool: poolId,
    pool: 0,
  };
  const rn = new ResourceNode(params, state);
  const Z = poolEncryptionKey(params, pool.pkRpm, pool.pidRpm);
  /** A join request carrying any 32-byte "secret" (the RPM recovers exactly these bytes). */
  const joinRequest = (secret: Uint8Array, pid = state.pid) => {
    const u = randomScalar();
    return encodeJoinRequest({ c1: Z.multiply(u), c2: xor(H3(32, mulBase(u), pid), secret), pid });
  };
  /** A re-authentication request carrying any claimed tag and any 32-byte next secret. */
  const reauthRequest = (tag: Uint8Array, next: Uint8Array, pid = state.pid, nextPid = H6("next", 1n)) => {
    const w = randomScalar();
    return encodeReauthRequest({ c1: Z.multiply(w), c2: xor(H3(64, mulBase(w), pid), concat(tag, next)), pid, nextPid });
  };
  /** A filter holding `items`, loaded by the RPM as `epoch`. */
  const load = (epoch: number, ...items: bigint[]) => {
    const f = BloomFilter.init(8, 16);
    for (const a of items) f.insert(encodeScalar(a));
    rpm.addFilter(epoch, f.serialize(), f.root());
  };
  return { msk, params, pool, rpm, rn, state, joinRequest, reauthRequest, load };
}

function expectRejectedSync(f: () => unknown, reason: RsmsRejectReason, msg: RegExp): void {
  expectThrows(f, RsmsRejectedError, "PROTOCOL_REJECTED", msg);
  try {
    f();
  } catch (e) {
    expect((e as RsmsRejectedError).reason).to.equal(reason);
  }
}

describe("rsms/rn: the RN agent", () => {
  it("builds a join request the pool's RPM opens to (a, PID), and keeps (pool, a, PID) pending", () => {
    const x = agents(3);
    const { request, pending } = x.rn.buildJoinRequest(x.pool);
    expect(request).to.have.length(SIZES.JoinRequest);
    expect(pending).to.deep.equal({ poolId: 3, a: x.state.a, pid: x.state.pid, kind: "join" });
    const opened = x.rpm.openJoinRequest(request);
    expect(opened).to.deep.equal({ a: x.state.a, pid: x.state.pid, tag: tagOf(x.state.a) });
    expect(x.rn.state).to.deep.equal(x.state); // building changes nothing
  });

  it("accepts the RPM iff A = a*P; then it is joined at that pool and cannot join again", () => {
    const x = agents(3);
    const { pending } = x.rn.buildJoinRequest(x.pool);
    const before = x.rn.state;
    expectRejectedSync(
      () => x.rn.acceptJoinReply(encodeJoinReply({ A: mulBase(x.state.a + 1n) }), pending),
      "RPM_AUTHENTICATION_FAILED",
      /^acceptJoinReply: A != a\*P: the responder for pool 3 is not its RPM$/,
    );
    expectThrows(
      () => x.rn.acceptJoinReply(encodeReauthReply({ A: mulBase(x.state.a) }), pending),
      MalformedMessageError,
      "MESSAGE_MALFORMED",
      /^decodeJoinReply: wrong type/,
    );
    expect(x.rn.state).to.deep.equal(before);
    x.rn.acceptJoinReply(encodeJoinReply({ A: mulBase(x.state.a) }), pending);
    expect(x.rn.state).to.deep.equal({ ...x.state, joined: true, pool: 3 });
    const joined = x.rn.state;
    expectRejectedSync(
      () => x.rn.buildJoinRequest(x.pool),
      "INVALID_STATE",
      /^buildJoinRequest: rn already joined with PID_0; use re-authentication to move$/,
    );
    expect(x.rn.state).to.deep.equal(joined);
  });

  it("re-authenticates only once joined: a_{k+1} = H4(a_k, sk), PID_{k+1} = H6(PID_k, a_{k+1}), and moves on A = a_{k+1}*P", () => {
    const x = agents(2);
    expectRejectedSync(
      () => x.rn.buildReauthRequest(x.pool),
      "INVALID_STATE",
      /^buildReauthRequest: rn has not completed initial authentication$/,
    );
    const s = x.state;
    const rn = new ResourceNode(x.params, { ...s, joined: true, pool: 1, k: 4 });
    const { request, pending } = rn.buildReauthRequest(x.pool);
    const nextA = H4(s.a, s.sk);
    const nextPid = H6(s.pid, nextA);
    expect(request).to.have.length(SIZES.ReauthRequest);
    expect(pending).to.deep.equal({ poolId: 2, a: nextA, pid: nextPid, kind: "reauth" });
    expect(x.rpm.openReauthRequest(request)).to.deep.equal({ pid: s.pid, nextPid, claimedTag: tagOf(s.a), nextA, nextTag: tagOf(nextA) });
    const before = rn.state;
    expectRejectedSync(
      () => rn.acceptReauthReply(encodeReauthReply({ A: mulBase(s.a) }), pending),
      "RPM_AUTHENTICATION_FAILED",
      /^acceptReauthReply: A != a\*P: the responder for pool 2 is not its RPM$/,
    );
    expectThrows(
      () => rn.acceptReauthReply(encodeJoinReply({ A: mulBase(nextA) }), pending),
      MalformedMessageError,
      "MESSAGE_MALFORMED",
      /^decodeReauthReply: wrong type/,
    );
    expect(rn.state).to.deep.equal(before);
    rn.acceptReauthReply(encodeReauthReply({ A: mulBase(nextA) }), pending);
    // the PID it left is kept (its groups under it stay its own: h15-red H6), locally, in its record
    expect(rn.state).to.deep.equal({ ...s, a: nextA, pid: nextPid, k: 5, joined: true, pool: 2, past: [s.pid] });
    expect(rn.pids()).to.deep.equal([s.pid, nextPid]);
    const back = ResourceNode.fromRecord(rn.params, JSON.parse(JSON.stringify(rn.toRecord())) as Record<string, unknown>);
    expect(back.pids()).to.deep.equal([s.pid, nextPid]);
  });

  it("exposes PK_RN, its pseudonym and its group party; state is copied in and out", () => {
    const x = agents();
    expect(x.rn.publicKey.equals(mulBase(x.state.sk))).to.equal(true);
    expect(x.rn.hasPid(x.state.pid)).to.equal(true);
    expect(x.rn.hasPid(H6("other", 0n))).to.equal(false);
    const party = x.rn.groupParty();
    expect([party.name, toHex(party.pid)]).to.deep.equal(["rn", toHex(x.state.pid)]);
    // its group key is the one of this PID, not PK_RN (which would link its pseudonyms: red-team F2)
    expect(party.publicKey.equals(mulBase(rnGroupSecret(x.state.sk, x.state.pid)))).to.equal(true);
    expect(party.publicKey.equals(x.rn.publicKey)).to.equal(false);
    x.state.pid[0] ^= 1; // the caller's array
    x.rn.state.pid[1] ^= 1; // a copy handed out
    expect(x.rn.hasPid(H6("rn", 0n))).to.equal(true);
  });

  it("round-trips through its keystore record", () => {
    const x = agents();
    const rn = new ResourceNode(x.params, { ...x.state, joined: true, pool: 2, k: 3, homePool: 1 });
    const rec = rn.toRecord();
    expect(rec).to.deep.equal({
      name: "rn",
      sk: toHex(encodeScalar(x.state.sk)),
      a: toHex(encodeScalar(x.state.a)),
      pid: toHex(x.state.pid),
      k: 3,
      joined: true,
      homePool: 1,
      pool: 2,
    });
    expect(ResourceNode.fromRecord(x.params, JSON.parse(JSON.stringify(rec)) as Record<string, unknown>).state).to.deep.equal(rn.state);
  });
});

describe("rsms/rpm: the RPM agent", () => {
  it("its effective key is PK_RPM + H2(PID_RPM)*PK_pub, and it round-trips through its keystore record", () => {
    const x = agents(4);
    expect(x.rpm.effectivePublicKey.equals(poolEncryptionKey(x.params, x.pool.pkRpm, x.pool.pidRpm))).to.equal(true);
    const rec = x.rpm.toRecord();
    expect(Object.keys(rec)).to.deep.equal(["poolId", "sk", "pid", "filterTtlSec"]);
    expect([rec.poolId, rec.pid, rec.filterTtlSec]).to.deep.equal([4, toHex(x.pool.pidRpm), 7 * 24 * 3600]);
    const back = ResourcePoolManager.fromRecord(x.params, JSON.parse(JSON.stringify(rec)) as Record<string, unknown>);
    expect([back.poolId, toHex(back.pid)]).to.deep.equal([4, toHex(x.pool.pidRpm)]);
    expect(back.effectivePublicKey.equals(x.rpm.effectivePublicKey)).to.equal(true);
    expect(back.openJoinRequest(x.rn.buildJoinRequest(x.pool).request).a).to.equal(x.state.a);
  });

  it("a recovered secret outside Z_q* (0, q, 2^256 - 1) is refused; q - 1 opens", () => {
    const x = agents();
    const msg = /^openJoinRequest: the recovered secret is not in Z_q\* \(tampered or misdirected request\)$/;
    for (const a of [0n, ORDER, 2n ** 256n - 1n])
      expectRejectedSync(() => x.rpm.openJoinRequest(x.joinRequest(numberToBytesBE(a, 32))), "NOT_IN_FILTER", msg);
    expect(x.rpm.openJoinRequest(x.joinRequest(numberToBytesBE(ORDER - 1n, 32))).a).to.equal(ORDER - 1n);
    const tag = tagOf(5n);
    for (const a of [0n, ORDER])
      expectRejectedSync(
        () => x.rpm.openReauthRequest(x.reauthRequest(tag, numberToBytesBE(a, 32))),
        "NOT_IN_FILTER",
        /^openReauthRequest: the recovered secret is not in Z_q\* \(tampered or misdirected request\)$/,
      );
    expect(x.rpm.openReauthRequest(x.reauthRequest(tag, numberToBytesBE(1n, 32))).nextA).to.equal(1n);
  });

  it("loads a filter only if its bytes hash to the root, and keeps its epochs in numeric order", () => {
    const x = agents();
    expect(x.rpm.loadedEpochs).to.deep.equal([]);
    expect(x.rpm.inFilters(x.state.a)).to.equal(false);
    for (const e of [10, 2, 0, 1]) x.load(e, BigInt(e) + 1000n);
    expect(x.rpm.loadedEpochs).to.deep.equal([0, 1, 2, 10]);
    const f = BloomFilter.init(8, 16);
    f.insert(encodeScalar(x.state.a));
    const root = new Uint8Array(32).fill(7);
    expectRejectedSync(
      () => x.rpm.addFilter(3, f.serialize(), root),
      "FILTER_ROOT_MISMATCH",
      new RegExp(`^addFilter: pool 1 epoch 3: the filter's bytes do not hash to the published root ${toHex(root)}$`),
    );
    expect(x.rpm.loadedEpochs).to.deep.equal([0, 1, 2, 10]);
    expect(x.rpm.inFilters(x.state.a)).to.equal(false);
    // a' in any one of the filters passes
    expect(x.rpm.inFilters(1002n)).to.equal(true);
    expect(x.rpm.inFilters(1010n)).to.equal(true);
  });

  it("a filter hashed once in this process is not hashed again for the same bytes, and other bytes under its root are still refused", () => {
    const x = agents();
    const f = BloomFilter.init(8, 16);
    f.insert(encodeScalar(x.state.a));
    const bytes = f.serialize();
    const root = keccak_256(bytes);
    x.rpm.addFilter(0, bytes, root);
    // a second agent (a command's new RPM) given the same bytes loads them
    const again = ResourcePoolManager.fromRecord(x.rpm.params, x.rpm.toRecord());
    again.addFilter(0, Uint8Array.from(bytes), root);
    expect(again.inFilters(x.state.a)).to.equal(true);
    // one bit changed, under the same root: hashed, and refused
    const tampered = Uint8Array.from(bytes);
    tampered[tampered.length - 1] ^= 1;
    const third = ResourcePoolManager.fromRecord(x.rpm.params, x.rpm.toRecord());
    expectRejectedSync(() => third.addFilter(0, tampered, root), "FILTER_ROOT_MISMATCH", /do not hash to the published root/);
    expect(third.loadedEpochs).to.deep.equal([]);
  });

  it("forwards Enc_PKpub(a' || PID) bound to its pool only if a' is in a filter; replies A = a'*P", () => {
    const x = agents(6);
    const opened = x.rpm.openJoinRequest(x.rn.buildJoinRequest(x.pool).request);
    expectRejectedSync(
      () => x.rpm.forwardJoin(opened),
      "NOT_IN_FILTER",
      /^forwardJoin: pool 6 has published no filter yet: an RN registered for it joins once the MSRP publishes the filter that holds its secret$/,
    );
    x.load(0, 1n);
    x.load(1, 2n);
    expectRejectedSync(() => x.rpm.forwardJoin(opened), "NOT_IN_FILTER", /^forwardJoin: a' is in none of pool 6's 2 published filters/);
    x.load(2, x.state.a);
    const fwd = decodeJoinForward(x.rpm.forwardJoin(opened));
    expect(fwd.poolId).to.equal(6);
    expect(toHex(eciesDecrypt(x.msk, fwd.sealed, AAD.joinForward(6)))).to.equal(toHex(concat(encodeScalar(x.state.a), x.state.pid)));
    expect(toHex(x.rpm.joinReply(opened))).to.equal(toHex(encodeJoinReply({ A: mulBase(x.state.a) })));
  });

  it("forwardReauth: PID_{k+1} must not be on-chain, and the claimed H4(a_k) must be the non-zero tag on-chain with PID_k", () => {
    const x = agents(5);
    const tag = numberToBytesBE(0xff00n, 32); // a genuine tag may contain zero bytes
    const next = randomScalar();
    const nextPid = H6("next", 1n);
    const opened = x.rpm.openReauthRequest(x.reauthRequest(tag, encodeScalar(next), x.state.pid, nextPid));
    expect(opened).to.deep.equal({ pid: x.state.pid, nextPid, claimedTag: tag, nextA: next, nextTag: tagOf(next) });
    const replayed = new RegExp(`^forwardReauth: PID_\\{k\\+1\\} ${toHex(nextPid)} is already on-chain \\(replayed re-authentication\\)$`);
    expectRejectedSync(() => x.rpm.forwardReauth(opened, tag, true), "NEXT_PID_RECORDED", replayed);
    expectRejectedSync(() => x.rpm.forwardReauth(opened, new Uint8Array(32), true), "NEXT_PID_RECORDED", replayed);
    const notRecorded = new RegExp(`^forwardReauth: H4\\(a_k\\) is not on-chain with PID_k ${toHex(x.state.pid)}$`);
    expectRejectedSync(() => x.rpm.forwardReauth(opened, new Uint8Array(32), false), "TAG_NOT_RECORDED", notRecorded);
    expectRejectedSync(() => x.rpm.forwardReauth(opened, numberToBytesBE(0xfe00n, 32), false), "TAG_NOT_RECORDED", notRecorded);
    // a claim of the zero tag matches "no record" byte for byte, and is still refused
    const zero = x.rpm.openReauthRequest(x.reauthRequest(new Uint8Array(32), encodeScalar(next)));
    expectRejectedSync(
      () => x.rpm.forwardReauth(zero, new Uint8Array(32), false),
      "TAG_NOT_RECORDED",
      /^forwardReauth: H4\(a_k\) is not on-chain/,
    );
    const fwd = decodeReauthForward(x.rpm.forwardReauth(opened, tag, false));
    expect([fwd.poolId, toHex(fwd.nextPid)]).to.deep.equal([5, toHex(nextPid)]);
    expect(toHex(eciesDecrypt(x.msk, fwd.sealed, AAD.reauthForward(5)))).to.equal(toHex(encodeScalar(next)));
    expect(toHex(x.rpm.reauthReply(opened))).to.equal(toHex(encodeReauthReply({ A: mulBase(next) })));
  });

  it("expire: an epoch serves joins for filterTtlSec after its publication, then it is dropped and never fetched again", () => {
    const x = agents(7);
    const rpm = ResourcePoolManager.fromRecord(x.params, { ...x.rpm.toRecord(), filterTtlSec: 100 });
    expect(rpm.filterTtlSec).to.equal(100);
    // the boundary: published at 1000, still live at 1100, expired from 1101
    expect(rpm.isExpired(1000, 1100)).to.equal(false);
    expect(rpm.isExpired(1000, 1101)).to.equal(true);
    const filterOf = (a: bigint) => {
      const f = BloomFilter.init(8, 16);
      f.insert(encodeScalar(a));
      return f;
    };
    // loaded out of order, so that the dropped epochs come back sorted, not in load order
    for (const [epoch, a, at] of [
      [1, 11n, 1050],
      [0, 10n, 1000],
      [2, 12n, 1200],
    ] as const)
      rpm.addFilter(epoch, filterOf(a).serialize(), filterOf(a).root(), at);
    rpm.addFilter(3, filterOf(13n).serialize(), filterOf(13n).root()); // no publication time: never expires
    expect(rpm.expire(1100)).to.deep.equal([]);
    expect([rpm.loadedEpochs, rpm.firstLiveEpoch]).to.deep.equal([[0, 1, 2, 3], 0]);
    expectThrows(() => rpm.quarantine(1, "x"), AgentStateError, "AGENT_STATE", /^quarantine: pool 7 epoch 1 is loaded and intact$/);
    for (const e of [4, 5, 6]) rpm.quarantine(e, `bad ${e}`);
    expect(rpm.expire(1151)).to.deep.equal([0, 1]);
    expect([rpm.loadedEpochs, rpm.firstLiveEpoch]).to.deep.equal([[2, 3], 2]);
    expect([10n, 11n, 12n, 13n].map((a) => rpm.inFilters(a))).to.deep.equal([false, false, true, true]);
    // the caller read that epochs up to 4 expired: the first live epoch moves past them and their
    // quarantine is forgotten; epoch 5 and later stay quarantined
    expect(rpm.expire(1151, 4)).to.deep.equal([]);
    expect(rpm.firstLiveEpoch).to.equal(5);
    expect([...rpm.quarantinedEpochs.keys()]).to.deep.equal([5, 6]);
    // an older bound moves nothing back
    expect(rpm.expire(1151, 1)).to.deep.equal([]);
    expect(rpm.firstLiveEpoch).to.equal(5);
    expect(rpm.loadedEpochs).to.deep.equal([2, 3]);
  });

  it("fromRecord: a record written before filterTtlSec existed takes the MSRP's default of 7 days", () => {
    const x = agents();
    const { filterTtlSec, ...old } = x.rpm.toRecord();
    expect(filterTtlSec).to.equal(7 * 24 * 3600);
    expect(ResourcePoolManager.fromRecord(x.params, old).filterTtlSec).to.equal(7 * 24 * 3600);
    expect(ResourcePoolManager.fromRecord(x.params, { ...old, filterTtlSec: "60" }).filterTtlSec).to.equal(60);
  });
});

describe("rsms/params", () => {
  it("PK_pub from its encoding, a point's hex, the pool key and the on-chain tag", () => {
    const P = mulBase(12345n);
    expect(paramsFromPkPub(encodePoint(P)).pkPub.equals(P)).to.equal(true);
    expect(pointHex(P)).to.equal(toHex(encodePoint(P)));
    const pid = H6("p", 1n);
    expect(poolEncryptionKey({ pkPub: P }, mulBase(7n), pid).equals(mulBase(7n).add(P.multiply(H2(pid))))).to.equal(true);
    expect(toHex(tagOf(99n))).to.equal(toHex(numberToBytesBE(H4(99n), 32)));
  });
});

describe("rsms: joining resource pools (RSMS §IV.A)", () => {
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
    it("a replayed join message at the same pool writes nothing: it gets the same reply (a retry), and the RN refuses it", async () => {
      const { ctx, msrp, rpmA, rns, ledger } = await loadRsms();
      const { request, pending } = rns[0].buildJoinRequest(await poolInfo(ctx, 1));
      const served = await serveJoin(ctx, rpmA, msrp, request);
      rns[0].acceptJoinReply(served.reply, pending);
      const count = await ledger.joinCount();
      const again = await serveJoin(ctx, rpmA, msrp, request);
      expect(again.retried).to.equal(true);
      expect(again.tx).to.equal(undefined);
      expect(toHex(again.reply)).to.equal(toHex(served.reply));
      await expectRejected(
        Promise.resolve().then(() => rns[0].acceptJoinReply(again.reply, pending)),
        "REPLAYED_REPLY",
      );
      expect(await ledger.joinCount()).to.equal(count);
    });

    it("a replay check asked for ahead (prefetchJoin) counts only for the tag the RPM opens: another tag's answer is not taken for it", async () => {
      const { ctx, msrp, rpmA, rns, ledger, registry } = await loadRsms();
      const { request } = rns[0].buildJoinRequest(await poolInfo(ctx, 1));
      await registry.recordJoin(toHex(H6("squatter", 1n)), toHex(tagOf(rns[0].state.a)), 1, 1);
      const count = await ledger.joinCount();
      // the reads of another RN's join, whose tag is free: its "not used" must not pass rns[0]'s replayed tag
      const other = prefetchJoin(ctx, 1, tagOf(rns[1].state.a));
      expect(await other.tagUsed).to.equal(false);
      await expectRejected(serveJoin(ctx, rpmA, msrp, request, undefined, other), "REPLAYED_SECRET");
      // the same reads for the tag it opens: the answer is taken (no second read of it), and refuses it the same
      const mine = prefetchJoin(ctx, 1, tagOf(rns[0].state.a));
      await expectRejected(serveJoin(ctx, rpmA, msrp, request, undefined, mine), "REPLAYED_SECRET");
      expect(await ledger.joinCount()).to.equal(count);
      // reads asked for another pool are refused before anything is used
      const wrongPool = await initialJoin(ctx, rns[2], rpmA, msrp, prefetchJoin(ctx, 2, tagOf(rns[2].state.a))).catch((e: Error) => e);
      expect(wrongPool).to.be.instanceOf(AgentStateError);
      expect(rns[2].state.joined).to.equal(false);
    });

    it("a secret already recorded under another PID is refused (REPLAYED_SECRET)", async () => {
      const { ctx, msrp, rpmA, rns, ledger, registry } = await loadRsms();
      const { request } = rns[0].buildJoinRequest(await poolInfo(ctx, 1));
      await registry.recordJoin(toHex(H6("squatter", 1n)), toHex(tagOf(rns[0].state.a)), 1, 1);
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
      expect((await serveJoin(ctx, rpmA, msrp, request)).record.poolId).to.equal(1);
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

    it("a filter whose bytes do not match the published root is quarantined by the RPM (not loaded)", async () => {
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
      expect(await syncFilters(ctx, fresh)).to.equal(1); // epoch 0 loads, epoch 1 is quarantined
      expect(fresh.loadedEpochs).to.deep.equal([0]);
      expect([...fresh.quarantinedEpochs.keys()]).to.deep.equal([1]);
      expect(fresh.quarantinedEpochs.get(1)).to.match(/do not hash to the published root/);
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

    it("a Bloom false positive under a genuine, not-yet-joined RN's PID passes the RPM but not the MSRP's exact check (Game 4)", async () => {
      const fx = await loadRsms();
      const { ctx, rpmA, ledger } = fx;
      // The same MSRP with a deliberately small filter policy (N = 4, lambda = 2: m = 12 bits), so
      // that its own next filter for pool 1 has a false positive that is cheap to find.
      const msrp = Msrp.fromRecord({ ...fx.msrp.toRecord(), policy: { capacity: 4, lambda: 2, intervalSec: 3600 } });
      const late: ResourceNode[] = [];
      let published = false;
      for (let i = 0; i < 4; i++) {
        const r = await registerRn(ctx, msrp, { name: `late${i}`, poolId: 1, rid: `serial-late-${i}` });
        late.push(r.rn);
        published ||= r.published !== undefined;
      }
      expect(published, "the full filter was published by the MSRP").to.equal(true);
      await syncFilters(ctx, rpmA);
      const victim = late[0];
      const secrets = new Set([...fx.rns, ...late].map((r) => r.state.a));
      // Grind a' != a (of any RN) that the RPM's filters accept: a false positive.
      let fp = 0n;
      for (let i = 1n; fp === 0n; i++) if (!secrets.has(i) && rpmA.inFilters(i)) fp = i;
      // The request carries the victim's genuine, current, unused PID_0 with the false-positive a'.
      const forger = new ResourceNode(msrp.params, { ...victim.state, name: "forger", a: fp });
      const { request } = forger.buildJoinRequest(await poolInfo(ctx, 1));
      const opened = rpmA.openJoinRequest(request);
      expect(opened.a).to.equal(fp);
      expect(toHex(opened.pid)).to.equal(toHex(victim.state.pid));
      expect(await ledger.isTagUsed(opened.tag)).to.equal(false); // not a replay
      const forward = rpmA.forwardJoin(opened); // the RPM alone would accept
      const before = JSON.stringify(msrp.toRecord());
      expectThrows(
        () => msrp.verifyJoin(forward),
        RsmsRejectedError,
        "PROTOCOL_REJECTED",
        /^verifyJoin: a' is not the secret issued for this PID/,
      );
      await expectRejected(serveJoin(ctx, rpmA, msrp, request), "MSRP_REJECTED", /^verifyJoin: a' is not the secret issued for this PID/);
      expect(JSON.stringify(msrp.toRecord())).to.equal(before);
      expect(await ledger.joinCount()).to.equal(0);
      expect(await ledger.isPidRecorded(victim.state.pid)).to.equal(false);
      expect(await ledger.isTagUsed(tagOf(fp))).to.equal(false);
      // The victim's own join still succeeds afterwards.
      await initialJoin(ctx, victim, rpmA, msrp);
      expect(toHex((await ledger.recordOf(victim.state.pid)).tag)).to.equal(toHex(tagOf(victim.state.a)));
    });
  });

  describe("# re-authentication across pools", () => {
    it("a joined RN moves to pool 2: PID_{k+1} and H4(a_{k+1}) are recorded", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[0];
      await initialJoin(ctx, rn, rpmA, msrp);
      const s0 = rn.state;
      const res = await reauthenticate(ctx, rn, rpmB, msrp);
      expect(toHex(res.record.pid)).to.equal(toHex(H6(s0.pid, H4(s0.a, s0.sk))));
      expect(rn.state.k).to.equal(1);
      expect(rn.state.pool).to.equal(2);
      expect((await ledger.recordOf(rn.state.pid)).kind).to.equal(2);
      expect(res.wire.rnToRpm).to.equal(SIZES.ReauthRequest);
      // and again, back to pool 1
      await reauthenticate(ctx, rn, rpmA, msrp);
      expect(rn.state.k).to.equal(2);
      expect(await ledger.joinCount()).to.equal(3);
    });

    it("a replayed re-authentication writes nothing: a retry at its pool, NEXT_PID_RECORDED elsewhere", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[1];
      await initialJoin(ctx, rn, rpmA, msrp);
      const { request, pending } = rn.buildReauthRequest(await poolInfo(ctx, 2));
      const served = await serveReauth(ctx, rpmB, msrp, request);
      expect(served.retried).to.equal(false);
      rn.acceptReauthReply(served.reply, pending);
      const count = await ledger.joinCount();
      const again = await serveReauth(ctx, rpmB, msrp, request);
      expect(again.retried).to.equal(true);
      expect(again.tx).to.equal(undefined);
      // at another pool the RPM recovers garbage, and PID_{k+1} is on-chain anyway
      await expectRejected(serveReauth(ctx, rpmA, msrp, request), "NEXT_PID_RECORDED");
      expect(await ledger.joinCount()).to.equal(count);
    });

    it("a re-authentication whose H4(a_k) is not on-chain (never joined) is rejected", async () => {
      const { ctx, msrp, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[2];
      // force the RN to believe it joined, without any on-chain record
      const liar = new ResourceNode(rn.params, { ...rn.state, joined: true });
      const { request } = liar.buildReauthRequest(await poolInfo(ctx, 2));
      await expectRejected(serveReauth(ctx, rpmB, msrp, request), "TAG_NOT_RECORDED");
      expect(await ledger.joinCount()).to.equal(0);
    });

    it("a re-authentication whose PID_{k+1} is already on-chain is rejected by the RPM (under any tag that is not all zeros, one with a zero byte too)", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger, registry } = await loadRsms();
      const rn = rns[3];
      await initialJoin(ctx, rn, rpmA, msrp);
      const next = H6(rn.state.pid, H4(rn.state.a, rn.state.sk));
      // squatted under a tag with a zero byte: a PID is on-chain unless all 32 bytes of its tag are zero
      const squat = new Uint8Array(32).fill(9);
      squat[5] = 0;
      await registry.recordJoin(toHex(next), toHex(squat), 1, 2);
      const count = await ledger.joinCount();
      const { request } = rn.buildReauthRequest(await poolInfo(ctx, 2));
      await expectRejected(
        serveReauth(ctx, rpmB, msrp, request),
        "NEXT_PID_RECORDED",
        new RegExp(`^forwardReauth: PID_\\{k\\+1\\} ${toHex(next)} is already on-chain \\(replayed re-authentication\\)$`),
      );
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
      const sk = rns[0].state.sk;
      const dists: number[] = [];
      const ones: number[] = [];
      const hd = (x: Uint8Array, y: Uint8Array) => x.reduce((n, b, i) => n + popcount(b ^ y[i]), 0);
      for (let k = 0; k < 400; k++) {
        a = H4(a, sk);
        const next = H6(pid, a);
        dists.push(hd(pid, next));
        ones.push(next.reduce((n, b) => n + popcount(b), 0));
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

describe("rsms/flows and ledger: each step's checks, results and failure paths", () => {
  const snapshot = (m: Msrp) => JSON.stringify(m.toRecord());

  it("setupPool refuses a pool that exists on-chain before registering anything", async () => {
    const { ctx, msrp, others, ledger } = await loadRsms();
    const before = snapshot(msrp);
    await expectRejected(
      setupPool(ctx, msrp, { name: "rpm-X", poolId: 1, rid: "X", account: others[3].address }),
      "INVALID_STATE",
      /^setupPool: pool 1 already exists on-chain$/,
    );
    expect(snapshot(msrp)).to.equal(before);
    const { rpm, tx } = await setupPool(ctx, msrp, { name: "rpm-X", poolId: 3, rid: "X", account: others[3].address });
    expect(rpm.poolId).to.equal(3);
    expect(tx!.gasUsed > 0n).to.equal(true);
    const p = (await ledger.pool(3))!;
    expect([p.rpm, toHex(p.pidRpm), p.epochs]).to.deep.equal([others[3].address, toHex(rpm.pid), 0]);
    expect(p.pkRpm.equals(decodePoint(msrp.rpmOfPool(3)!.pk))).to.equal(true);
    expect(await ledger.pool(4)).to.equal(undefined);
  });

  it("registerRn uses ctx.now for the filter's interval and publishes the filter when it becomes due", async () => {
    const { ctx, msrp, ledger } = await loadRsms();
    const t0 = 1_000_000;
    let now = t0;
    const timed = { ...ctx, now: () => now };
    const first = await registerRn(timed, msrp, { name: "x1", poolId: 1, rid: "x1" });
    expect(first.published).to.equal(undefined);
    expect(first.rn.state).to.deep.include({ name: "x1", k: 0, joined: false, homePool: 1, pool: 0 });
    expect(msrp.trace(first.rn.state.pid)).to.deep.include({ name: "x1", rid: "x1" });
    now = t0 + 3599;
    expect((await registerRn(timed, msrp, { name: "x2", poolId: 1, rid: "x2" })).published).to.equal(undefined);
    now = t0 + 3600;
    const third = await registerRn(timed, msrp, { name: "x3", poolId: 1, rid: "x3" });
    const f = await ledger.filterAt(1, 1);
    expect(third.published).to.deep.equal({
      epoch: 1,
      cid: f.cid,
      root: toHex(f.root),
      count: 3,
      bytes: BloomFilter.init(64, 20).serialize().length,
      tx: third.published!.tx,
      existing: false,
    });
    expect([f.capacity, f.lambda]).to.deep.equal([64, 20]);
    expect((await ledger.pool(1))!.epochs).to.equal(2);
    expect(msrp.pendingCount(1)).to.equal(0);
  });

  it("without ctx.now the filter's interval starts at the current time", async () => {
    const { ctx, msrp } = await loadRsms();
    await registerRn(ctx, msrp, { name: "x1", poolId: 1, rid: "x1" });
    const now = Math.floor(Date.now() / 1000);
    expect(msrp.filterDue(1, now + 3500)).to.equal(false);
    expect(msrp.filterDue(1, now + 3700)).to.equal(true);
  });

  it("a failed publication puts the filter back: nothing on-chain, and the next publication carries it", async () => {
    const { ctx, msrp, ledger, registry, others, rpmA } = await loadRsms();
    const { rn } = await registerRn(ctx, msrp, { name: "late", poolId: 1, rid: "late" });
    const notMsrp = { ...ctx, ledger: new RsmsLedger(registry.connect(others[3])) };
    let err: unknown;
    try {
      await publishFilter(notMsrp, msrp, 1);
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/AccessControlUnauthorizedAccount/);
    expect(msrp.pendingCount(1)).to.equal(1);
    expect((await ledger.pool(1))!.epochs).to.equal(1);
    const failingStore = { ...ctx, store: { putBytes: () => Promise.reject(new Error("store down")) } as unknown as typeof ctx.store };
    let err2: unknown;
    try {
      await publishFilter(failingStore, msrp, 1);
    } catch (e) {
      err2 = e;
    }
    expect((err2 as Error).message).to.equal("store down");
    expect(msrp.pendingCount(1)).to.equal(1);
    expect((await publishFilter(ctx, msrp, 1)).epoch).to.equal(1);
    await initialJoin(ctx, rn, rpmA, msrp);
    expect(rn.state.joined).to.equal(true);
  });

  it("syncFilters loads only the epochs the RPM lacks, and refuses a pool that is not on-chain", async () => {
    const { ctx, msrp, rpmA } = await loadRsms();
    expect(rpmA.loadedEpochs).to.deep.equal([]);
    expect(await syncFilters(ctx, rpmA)).to.equal(1);
    expect(await syncFilters(ctx, rpmA)).to.equal(0);
    await registerRn(ctx, msrp, { name: "x", poolId: 1, rid: "x" });
    await publishFilter(ctx, msrp, 1);
    expect(await syncFilters(ctx, rpmA)).to.equal(1);
    expect(rpmA.loadedEpochs).to.deep.equal([0, 1]);
    const orphan = new ResourcePoolManager(msrp.params, { poolId: 9, sk: 5n, pid: H6("o", 1n) });
    await expectRejected(syncFilters(ctx, orphan), "UNKNOWN_POOL", /^syncFilters: pool 9 is not on-chain$/);
  });

  it("a join reads the pool, its tag and up to MAX_PREFETCHED_EPOCHS filter roots in one call (joinView); live epochs past them are read one by one", async () => {
    const { ctx, msrp, rpmA } = await loadRsms();
    // epochs 1..MAX+1 after the fixture's epoch 0, each with one new RN; the last RN is in the last epoch
    let last: ResourceNode | undefined;
    for (let i = 0; i <= MAX_PREFETCHED_EPOCHS; i++) {
      last = (await registerRn(ctx, msrp, { name: `many-${i}`, poolId: 1, rid: `many-${i}` })).rn;
      await publishFilter(ctx, msrp, 1);
    }
    const views: [number, number][] = [];
    const reads: number[] = [];
    const counting = {
      ...ctx,
      ledger: Object.assign(Object.create(ctx.ledger) as typeof ctx.ledger, {
        joinView: (poolId: number, tag: Uint8Array, from: number, max: number) => (
          views.push([from, max]),
          ctx.ledger.joinView(poolId, tag, from, max)
        ),
        filterAt: (poolId: number, epoch: number) => (reads.push(epoch), ctx.ledger.filterAt(poolId, epoch)),
        isTagUsed: () => Promise.reject(new Error("the replay check comes with joinView")),
        pool: () => Promise.reject(new Error("the pool comes with joinView")),
      }),
    };
    const fresh = ResourcePoolManager.fromRecord(msrp.params, rpmA.toRecord());
    const res = await initialJoin(counting, last!, fresh, msrp);
    expect(res.record.poolId).to.equal(1);
    expect(views).to.have.length(1);
    const [from, max] = views[0];
    expect(max).to.equal(MAX_PREFETCHED_EPOCHS);
    const epochs = MAX_PREFETCHED_EPOCHS + 2;
    const outside = Array.from({ length: epochs }, (_, e) => e).filter((e) => e < from || e >= from + max);
    expect(reads).to.deep.equal(outside);
    expect(fresh.loadedEpochs).to.deep.equal(Array.from({ length: epochs }, (_, e) => e));
  });

  it("syncFilters: an invalid-CID epoch is quarantined, a corrupt answer is fetched again after a backoff (s17-redB B12), so is a missing one (s26-fxl L2: not waited for on every sync), an unreachable one is retried at the next sync, another store error is thrown; an expired epoch is never fetched", async () => {
    const { ctx, msrp, rpmA, registry, store, ledger } = await loadRsms();
    // epochs 1..5 of pool 1 (and later 6): intact filters, each holding one secret
    const cids: string[] = [];
    for (const a of [11n, 12n, 13n, 14n, 15n, 16n]) {
      const f = BloomFilter.init(8, 16);
      f.insert(encodeScalar(a));
      const cid = await store.putBytes(f.serialize());
      cids.push(cid);
      if (a < 16n) await registry.publishFilter(1, toHex(f.root()), cid, 8, 16);
    }
    const faults = new Map<string, Error>([
      [cids[0], new ContentCorruptedError(cids[0], "flipped byte")],
      [cids[1], new InvalidCidError("parseCid: not a CID")],
      [cids[2], new ContentNotFoundError(cids[2])],
      [cids[3], new IpfsUnreachableError("http://127.0.0.1:9", new Error("down"))],
    ]);
    const fetched: string[] = [];
    const TTL = 100_000;
    let now = (await ledger.filterAt(1, 5)).publishedAt + 1;
    const chainReads: number[] = [];
    const faulty = {
      ...ctx,
      // the chain, counting the filter epochs read
      ledger: Object.assign(Object.create(ctx.ledger) as typeof ctx.ledger, {
        filterAt: (poolId: number, epoch: number) => (chainReads.push(epoch), ctx.ledger.filterAt(poolId, epoch)),
      }),
      now: () => now,
      store: {
        get: async (c: string) => {
          fetched.push(c);
          const e = faults.get(c);
          if (e) throw e;
          return store.get(c);
        },
      } as unknown as typeof store,
    };
    const rpm = ResourcePoolManager.fromRecord(msrp.params, { ...rpmA.toRecord(), filterTtlSec: TTL });
    expect(await syncFilters(faulty, rpm)).to.equal(2);
    expect(rpm.loadedEpochs).to.deep.equal([0, 5]);
    expect([...rpm.quarantinedEpochs.entries()]).to.deep.equal([[2, faults.get(cids[1])!.message]]);
    expect([...rpm.refetchingEpochs.keys()]).to.deep.equal([1, 3]);
    expect(rpm.refetchingEpochs.get(3)).to.deep.include({ failures: 1, at: now + REFETCH_BACKOFF_SEC, cid: cids[2] });
    // the backoff is the CID's that failed: the same epoch under another CID (a pool deployed anew
    // under the same id, an agent kept across the two) is due at once
    expect([rpm.fetchDue(3, now, cids[2]), rpm.fetchDue(3, now, cids[4])]).to.deep.equal([false, true]);
    expect(fetched).to.have.length(5 + FETCH_ATTEMPTS);
    // the next sync fetches the unreachable epoch again, and only it (the corrupt and the missing
    // one wait out their backoff: a CID nobody serves is not searched for on every sync)
    faults.clear();
    fetched.length = 0;
    expect(await syncFilters(faulty, rpm)).to.equal(1);
    expect(rpm.loadedEpochs).to.deep.equal([0, 4, 5]);
    expect(fetched).to.deep.equal([cids[3]]);
    // after the backoff both are fetched again
    now += REFETCH_BACKOFF_SEC;
    fetched.length = 0;
    expect(await syncFilters(faulty, rpm)).to.equal(2);
    expect(rpm.loadedEpochs).to.deep.equal([0, 1, 3, 4, 5]);
    expect(fetched).to.deep.equal([cids[0], cids[2]]);
    expect([11n, 13n, 14n].map((a) => rpm.inFilters(a))).to.deep.equal([true, true, true]);
    // every epoch so far is older than the TTL: each loaded epoch and each quarantine is dropped
    now = (await ledger.filterAt(1, 5)).publishedAt + TTL + 1;
    expect(await syncFilters(faulty, rpm)).to.equal(0);
    expect([rpm.loadedEpochs, [...rpm.quarantinedEpochs.keys()], [...rpm.refetchingEpochs.keys()], rpm.firstLiveEpoch]).to.deep.equal([
      [],
      [],
      [],
      6,
    ]);
    // a store error that is not the filter's fault (here on the live epoch 6) is the caller's
    const f6 = BloomFilter.init(8, 16);
    f6.insert(encodeScalar(16n));
    await registry.publishFilter(1, toHex(f6.root()), cids[5], 8, 16);
    const boom = new Error("disk failure");
    faults.set(cids[5], boom);
    let err: unknown;
    try {
      await syncFilters(faulty, rpm);
    } catch (e) {
      err = e;
    }
    expect(err).to.equal(boom);
    expect(rpm.loadedEpochs).to.deep.equal([]);
    // once epoch 6 has expired too, it is never fetched, and the chain is read from the first live
    // epoch on only (a bounded number of reads, however long the pool has existed)
    now = (await ledger.filterAt(1, 6)).publishedAt + TTL + 1;
    fetched.length = 0;
    chainReads.length = 0;
    expect(await syncFilters(faulty, rpm)).to.equal(0);
    expect([fetched, chainReads]).to.deep.equal([[], [6]]);
    expect(rpm.firstLiveEpoch).to.equal(7);
  });

  it("syncFilters (s27-fxl): after a long miss, an epoch is not fetched with the budget's remnant: it waits for the next sync, with no backoff, and that sync loads it", async () => {
    const { ctx, msrp, rpmA, registry, store, ledger } = await loadRsms();
    // epochs 1 and 2 of pool 1: epoch 1's CID nobody serves (the daemon gives up after 9.99 s),
    // epoch 2's filter exists and takes the daemon 50 ms to find (a fetch given less times out)
    const cids: string[] = [];
    for (const a of [21n, 22n]) {
      const f = BloomFilter.init(8, 16);
      f.insert(encodeScalar(a));
      const cid = await store.putBytes(f.serialize());
      cids.push(cid);
      await registry.publishFilter(1, toHex(f.root()), cid, 8, 16);
    }
    const now = (await ledger.filterAt(1, 2)).publishedAt + 1;
    let ms = 0;
    const fetched: [string, number][] = [];
    const timed = {
      ...ctx,
      now: () => now,
      nowMs: () => ms,
      store: {
        get: async (c: string, o?: { timeoutMs?: number }) => {
          const wait = o?.timeoutMs ?? 0;
          fetched.push([c, wait]);
          if (c === cids[0] || (c === cids[1] && wait < 50)) {
            ms += Math.min(wait, 9_990);
            throw new ContentNotFoundError(c);
          }
          if (c === cids[1]) ms += 50;
          return store.get(c);
        },
      } as unknown as typeof store,
    };
    const rpm = ResourcePoolManager.fromRecord(msrp.params, rpmA.toRecord());
    expect(await syncFilters(timed, rpm)).to.equal(1); // epoch 0
    expect(rpm.loadedEpochs).to.deep.equal([0]);
    expect(fetched.slice(1), "epoch 1 waited 9.99 s; epoch 2 was not fetched with the 10 ms left").to.deep.equal([
      [cids[0], FOREIGN_FETCH_TIMEOUT_MS],
    ]);
    expect([...rpm.refetchingEpochs.keys()], "epoch 2 is not a miss: no backoff").to.deep.equal([1]);
    expect(rpm.fetchDue(2, now, cids[1])).to.equal(true);
    // the next sync (its own budget, the same second): epoch 1 waits out its backoff, epoch 2 loads
    fetched.length = 0;
    expect(await syncFilters(timed, rpm)).to.equal(1);
    expect(rpm.loadedEpochs).to.deep.equal([0, 2]);
    expect(fetched).to.deep.equal([[cids[1], FOREIGN_FETCH_TIMEOUT_MS]]);
    expect(rpm.inFilters(22n)).to.equal(true);
  });

  it("renewSecret: the RN's fresh secret waits in its home pool's filter, published once the filter is due; then the RN joins with it", async () => {
    const { ctx, msrp, rpmA, rns, ledger } = await loadRsms();
    const T = Math.floor(Date.now() / 1000);
    let now = T;
    const clock = { ...ctx, now: () => now };
    const [r0, r1] = [rns[0], rns[1]];
    const old = [r0.state.a, r1.state.a];
    // one renewal: the filter opened at T holds 1 of 64 RNs and its interval has not passed
    expect(await renewSecret(clock, msrp, r0)).to.deep.equal({ published: undefined });
    expect(r0.state.a).to.not.equal(old[0]);
    expect(msrp.pendingCount(1)).to.equal(1);
    // an interval later the next renewal finds the filter due: it is published as epoch 1
    now = T + DEFAULT_FILTER_POLICY.intervalSec;
    const { published } = await renewSecret(clock, msrp, r1);
    expect([published?.epoch, published?.count]).to.deep.equal([1, 2]);
    expect(msrp.pendingCount(1)).to.equal(0);
    expect((await ledger.pool(1))!.epochs).to.equal(2);
    for (const rn of [r0, r1]) await initialJoin(clock, rn, rpmA, msrp);
    expect((await ledger.recordOf(r1.state.pid)).tag).to.deep.equal(tagOf(r1.state.a));
  });

  it("poolInfo returns the pool's on-chain RPM values, and refuses an unknown pool; so does initialJoin at the RPM of one, and the RN stays unjoined", async () => {
    const { ctx, msrp, rns, ledger } = await loadRsms();
    const info = await poolInfo(ctx, 2);
    const issued = msrp.rpmOfPool(2)!;
    expect([info.poolId, toHex(info.pidRpm), toHex(encodePoint(info.pkRpm))]).to.deep.equal([2, toHex(issued.pid), toHex(issued.pk)]);
    await expectRejected(poolInfo(ctx, 9), "UNKNOWN_POOL", /^poolInfo: pool 9 is not on-chain$/);
    const orphan = new ResourcePoolManager(msrp.params, { poolId: 9, sk: 5n, pid: H6("o", 1n) });
    await expectRejected(initialJoin(ctx, rns[0], orphan, msrp), "UNKNOWN_POOL", /^poolInfo: pool 9 is not on-chain$/);
    expect(rns[0].state.joined).to.equal(false);
    expect(await ledger.joinCount()).to.equal(0);
  });

  it("serveJoin and serveReauth name the replayed tag", async () => {
    const { ctx, msrp, rpmA, rpmB, rns, registry } = await loadRsms();
    const { request, pending } = rns[0].buildJoinRequest(await poolInfo(ctx, 1));
    rns[0].acceptJoinReply((await serveJoin(ctx, rpmA, msrp, request)).reply, pending);
    const { request: other, pending: otherPending } = rns[1].buildJoinRequest(await poolInfo(ctx, 1));
    await registry.recordJoin(toHex(H6("squatter", 2n)), toHex(tagOf(otherPending.a)), 1, 1);
    await expectRejected(
      serveJoin(ctx, rpmA, msrp, other),
      "REPLAYED_SECRET",
      new RegExp(`^serveJoin: H4\\(a'\\) ${toHex(tagOf(otherPending.a))} is already on-chain: replayed join$`),
    );
    expect((await serveJoin(ctx, rpmA, msrp, request)).retried).to.equal(true);
    const r = rns[0].buildReauthRequest(await poolInfo(ctx, 2));
    const res = await reauthenticate(ctx, rns[0], rpmB, msrp);
    expect(res.wire).to.deep.equal({ rnToRpm: 163, rpmToMsrp: 185, rpmToRn: 35 });
    expect(res.record).to.deep.equal({ pid: r.pending.pid, tag: tagOf(r.pending.a), poolId: 2, kind: 2 });
    expect((await serveReauth(ctx, rpmB, msrp, r.request)).retried).to.equal(true);
    const r2 = rns[0].buildReauthRequest(await poolInfo(ctx, 1));
    await registry.recordJoin(toHex(H6("squatter", 3n)), toHex(tagOf(r2.pending.a)), 1, 2);
    await expectRejected(
      serveReauth(ctx, rpmA, msrp, r2.request),
      "REPLAYED_SECRET",
      /^serveReauth: H4\(a'_\{k\+1\}\) is already on-chain: replayed re-authentication$/,
    );
  });

  it("serveJoin answers a retry only for the request's own join record at this pool: a look-alike record is REPLAYED_SECRET, nothing written", async () => {
    const { ctx, msrp, rpmA, rpmB, rns, registry, ledger } = await loadRsms();
    const replayed = (a: bigint) => new RegExp(`^serveJoin: H4\\(a'\\) ${toHex(tagOf(a))} is already on-chain: replayed join$`);
    // rn0's join at pool 1 is recorded but its reply is lost; it retries at pool 2, whose RPM opens
    // the same (a, PID): the record is at another pool, so this is no retry
    const first = rns[0].buildJoinRequest(await poolInfo(ctx, 1));
    await serveJoin(ctx, rpmA, msrp, first.request);
    const elsewhere = rns[0].buildJoinRequest(await poolInfo(ctx, 2));
    expect(rpmB.openJoinRequest(elsewhere.request).a).to.equal(rns[0].state.a);
    // rn1's PID holds its tag at pool 1, but as a re-authentication record (kind 2)
    await registry.recordJoin(toHex(rns[1].state.pid), toHex(tagOf(rns[1].state.a)), 1, 2);
    // rn2's PID holds another tag at pool 1, and rn2's tag is recorded under another PID
    await registry.recordJoin(toHex(rns[2].state.pid), toHex(tagOf(rns[2].state.a + 1n)), 1, 1);
    await registry.recordJoin(toHex(H6("squatter", 4n)), toHex(tagOf(rns[2].state.a)), 1, 1);
    const count = await ledger.joinCount();
    await expectRejected(serveJoin(ctx, rpmB, msrp, elsewhere.request), "REPLAYED_SECRET", replayed(rns[0].state.a));
    for (const rn of [rns[1], rns[2]]) {
      const { request } = rn.buildJoinRequest(await poolInfo(ctx, 1));
      await expectRejected(serveJoin(ctx, rpmA, msrp, request), "REPLAYED_SECRET", replayed(rn.state.a));
    }
    expect(await ledger.joinCount()).to.equal(count);
    // the genuine retry at pool 1 is answered
    expect((await serveJoin(ctx, rpmA, msrp, first.request)).retried).to.equal(true);
  });

  it("serveReauth answers a retry only when PID_k holds the claimed tag and PID_{k+1} its own re-authentication record at this pool", async () => {
    const { ctx, msrp, rpmA, rpmB, rns, registry, ledger } = await loadRsms();
    const info = await poolInfo(ctx, 2);
    const Z = poolEncryptionKey(msrp.params, info.pkRpm, info.pidRpm);
    /** A re-authentication request to pool 2 carrying any claimed tag and next secret. */
    const reauthRequest = (pid: Uint8Array, claimedTag: Uint8Array, nextA: bigint, nextPid: Uint8Array) => {
      const w = randomScalar();
      return encodeReauthRequest({
        c1: Z.multiply(w),
        c2: xor(H3(64, mulBase(w), pid), concat(claimedTag, encodeScalar(nextA))),
        pid,
        nextPid,
      });
    };
    const replayed = /^serveReauth: H4\(a'_\{k\+1\}\) is already on-chain: replayed re-authentication$/;
    // a genuine move of rn3 to pool 2, recorded
    await initialJoin(ctx, rns[3], rpmA, msrp);
    const s = rns[3].state;
    const moved = rns[3].buildReauthRequest(info);
    rns[3].acceptReauthReply((await serveReauth(ctx, rpmB, msrp, moved.request)).reply, moved.pending);
    const count = await ledger.joinCount();
    // the same (PID_{k+1}, a_{k+1}) with a claimed H4(a_k) that is not PID_k's record
    await expectRejected(
      serveReauth(ctx, rpmB, msrp, reauthRequest(s.pid, tagOf(s.a + 1n), moved.pending.a, moved.pending.pid)),
      "REPLAYED_SECRET",
      replayed,
    );
    // PID_{k+1} recorded with the next tag at this pool, but as a join (kind 1)
    const pidK = H6("k", 1n);
    await registry.recordJoin(toHex(pidK), toHex(tagOf(5n)), 2, 1);
    const nextPid1 = H6("next", 1n);
    await registry.recordJoin(toHex(nextPid1), toHex(tagOf(6n)), 2, 1);
    // PID_{k+1} recorded as a re-authentication at this pool with another tag, the next tag under another PID
    const nextPid2 = H6("next", 2n);
    await registry.recordJoin(toHex(nextPid2), toHex(tagOf(8n)), 2, 2);
    await registry.recordJoin(toHex(H6("squatter", 7n)), toHex(tagOf(7n)), 2, 2);
    const after = await ledger.joinCount();
    await expectRejected(serveReauth(ctx, rpmB, msrp, reauthRequest(pidK, tagOf(5n), 6n, nextPid1)), "REPLAYED_SECRET", replayed);
    await expectRejected(serveReauth(ctx, rpmB, msrp, reauthRequest(pidK, tagOf(5n), 7n, nextPid2)), "REPLAYED_SECRET", replayed);
    expect(await ledger.joinCount()).to.equal(after);
    expect(after).to.equal(count + 4);
    // the genuine retry is answered
    expect((await serveReauth(ctx, rpmB, msrp, moved.request)).retried).to.equal(true);
  });

  it("initialJoinBatch records all or nothing: a duplicate or an already-used secret fails the whole batch", async () => {
    const { ctx, msrp, rpmA, rns, ledger } = await loadRsms();
    const before = snapshot(msrp);
    const states = rns.map((r) => r.state);
    await expectRejected(
      initialJoinBatch(ctx, [rns[0], rns[1], rns[0]], rpmA, msrp),
      "REPLAYED_SECRET",
      /^initialJoinBatch: rn0's secret is already used$/,
    );
    expect(await ledger.joinCount()).to.equal(0);
    expect(snapshot(msrp)).to.equal(before);
    expect(rns.map((r) => r.state)).to.deep.equal(states);
    // a copy of rn2 from before its join still holds the used secret
    const stale = ResourceNode.fromRecord(msrp.params, rns[2].toRecord());
    await initialJoin(ctx, rns[2], rpmA, msrp);
    const afterJoin = snapshot(msrp);
    await expectRejected(
      initialJoinBatch(ctx, [rns[1], stale], rpmA, msrp),
      "REPLAYED_SECRET",
      /^initialJoinBatch: rn2's secret is already used$/,
    );
    expect(await ledger.joinCount()).to.equal(1);
    expect(snapshot(msrp)).to.equal(afterJoin);
    expect(rns[1].state.joined).to.equal(false);
    const { records, tx } = await initialJoinBatch(ctx, [rns[1], rns[3]], rpmA, msrp);
    expect(records).to.deep.equal([states[1], states[3]].map((s) => ({ pid: s.pid, tag: tagOf(s.a), poolId: 1, kind: 1 })));
    expect(tx.block).to.equal(await ethers.provider.getBlockNumber());
    expect(await ledger.joinCount()).to.equal(3);
  });

  it("the ledger reads records and tags byte for byte (a tag may contain zero bytes)", async () => {
    const { ledger, registry } = await loadRsms();
    const pid = H6("p", 1n);
    const tag = numberToBytesBE(1n, 32); // 31 zero bytes
    expect(await ledger.isPidRecorded(pid)).to.equal(false);
    await registry.recordJoin(toHex(pid), toHex(tag), 2, 1);
    expect(await ledger.isPidRecorded(pid)).to.equal(true);
    expect(await ledger.isTagUsed(tag)).to.equal(true);
    const rec = await ledger.recordOf(pid);
    expect([toHex(rec.tag), rec.poolId, rec.kind]).to.deep.equal([toHex(tag), 2, 1]);
    expect(rec.recordedAt).to.equal((await ethers.provider.getBlock("latest"))!.timestamp);
    expect(await ledger.joinCount()).to.equal(1);
  });

  it("the ledger refuses a transaction without a receipt", async () => {
    const unmined = { wait: () => Promise.resolve(null) };
    const stub = { createPool: () => Promise.resolve(unmined) } as unknown as ResourcePoolRegistry;
    let err: unknown;
    try {
      await new RsmsLedger(stub).createPool(1, "0x" + "11".repeat(20), H6("p", 1n), mulBase(3n));
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.equal("transaction was not mined");
  });
});
