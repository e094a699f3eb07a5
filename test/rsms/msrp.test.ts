import { expect } from "chai";
import { DEFAULT_FILTER_POLICY, FilterPolicy, Msrp, MsrpRecord } from "../../offchain/rsms/msrp";
import {
  AAD,
  Role,
  decodeJoinForward,
  decodeRegistration,
  encodeJoinForward,
  encodeJoinReply,
  encodeReauthForward,
  encodeReauthReply,
  encodeRegistration,
  joinForwardSigned,
  reauthForwardSigned,
} from "../../offchain/rsms/messages";
import { AgentStateError, MalformedMessageError, RsmsRejectedError } from "../../offchain/rsms/errors";
import { PoolInfo, RENEW_DST, ResourceNode } from "../../offchain/rsms/rn";
import { FORWARD_DST, ResourcePoolManager } from "../../offchain/rsms/rpm";
import { schnorrSign } from "../../offchain/crypto/schnorr";
import { rnGroupSecret, tagOf } from "../../offchain/rsms/params";
import { GroupParty, commitmentsHash } from "../../offchain/rsms/group";
import { BloomFilter } from "../../offchain/crypto/bloom";
import { concat, toHex } from "../../offchain/crypto/bytes";
import { eciesDecrypt, eciesEncrypt } from "../../offchain/crypto/ecies";
import { encodePoint, encodeScalar, mulBase, randomScalar } from "../../offchain/crypto/group";
import { H4, H6 } from "../../offchain/crypto/hash";
import { DecryptionError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";

function msrpWithPool(policy = { capacity: 3, lambda: 10, intervalSec: 100 }) {
  const m = Msrp.setup(policy);
  m.registerRpm("rpm", Msrp.registrationRequest(m.params.pkPub, Role.RPM, 1, "rpm"));
  const reg = (name: string, now: number) => m.registerRn(name, Msrp.registrationRequest(m.params.pkPub, Role.RN, 1, name), now);
  return { m, reg };
}

describe("rsms/msrp: Bloom filter policy", () => {
  it("a filter is due when full, or when its interval has passed since its first RN", () => {
    const { m, reg } = msrpWithPool();
    expect(m.filterDue(1, 0)).to.equal(false); // nothing pending
    reg("a", 1000);
    expect(m.filterDue(1, 1050)).to.equal(false);
    expect(m.filterDue(1, 1100)).to.equal(true); // interval
    reg("b", 1001);
    reg("c", 1002);
    expect(m.filterDue(1, 1003)).to.equal(true); // full
  });

  it("takeFilter hands over the pending RNs; a failed publication restores them, merged with newcomers", () => {
    const { m, reg } = msrpWithPool({ capacity: 10, lambda: 12, intervalSec: 100 });
    const a = reg("a", 0);
    const { filter, openedAt } = m.takeFilter(1);
    expect(filter.check(encodeScalar(a.a))).to.equal(true);
    expect(m.pendingCount(1)).to.equal(0);
    expectThrows(() => m.takeFilter(1), AgentStateError, "AGENT_STATE", /no registered RN waiting/);
    const b = reg("b", 5);
    m.restoreFilter(1, filter, openedAt);
    const again = m.takeFilter(1).filter;
    expect(again.check(encodeScalar(a.a))).to.equal(true);
    expect(again.check(encodeScalar(b.a))).to.equal(true);
  });

  it("pending filters survive a keystore round trip", () => {
    const { m, reg } = msrpWithPool();
    const a = reg("a", 0);
    const restored = Msrp.fromRecord(JSON.parse(JSON.stringify(m.toRecord())));
    expect(restored.pendingCount(1)).to.equal(1);
    expect(restored.takeFilter(1).filter.check(encodeScalar(a.a))).to.equal(true);
  });
});

/**
 * An MSRP with pools 1 and 2 and their RPM agents, and RNs rn0, rn1 (pool 1) and rn2, rn3 (pool 2)
 * whose filters the RPMs have loaded; no chain: the join helpers play the chain's part.
 */
function offlineWorld(policy: FilterPolicy = { capacity: 16, lambda: 10, intervalSec: 100 }) {
  const msrp = Msrp.setup(policy);
  const pk = msrp.params.pkPub;
  const pool = (name: string, poolId: number) => {
    const c = msrp.registerRpm(name, Msrp.registrationRequest(pk, Role.RPM, poolId, `rid-${name}`));
    return {
      creds: c,
      rpm: new ResourcePoolManager(msrp.params, { poolId, sk: c.sk, pid: c.pid }),
      info: { poolId, pkRpm: c.pkRpm, pidRpm: c.pid } as PoolInfo,
    };
  };
  const pools = [pool("rpm-A", 1), pool("rpm-B", 2)];
  const rn = (name: string, poolId: number) => {
    // registered now: verifyJoin refuses a secret issued more than the policy's ttlSec ago
    const c = msrp.registerRn(name, Msrp.registrationRequest(pk, Role.RN, poolId, `rid-${name}`), Math.floor(Date.now() / 1000));
    return new ResourceNode(msrp.params, { name, sk: c.sk, a: c.a, pid: c.pid, k: 0, joined: false, homePool: poolId, pool: 0 });
  };
  const rns = [rn("rn0", 1), rn("rn1", 1), rn("rn2", 2), rn("rn3", 2)];
  for (const p of pools) {
    const { filter } = msrp.takeFilter(p.info.poolId);
    p.rpm.addFilter(0, filter.serialize(), filter.root());
  }
  const at = (poolId: number) => pools[poolId - 1];
  /** Initial authentication, the chain's part played by the caller. */
  const join = (node: ResourceNode) => {
    const p = at(node.state.homePool);
    const { request, pending } = node.buildJoinRequest(p.info);
    const opened = p.rpm.openJoinRequest(request);
    const v = msrp.verifyJoin(p.rpm.forwardJoin(opened));
    msrp.commitJoin(v);
    node.acceptJoinReply(p.rpm.joinReply(opened), pending);
    return v;
  };
  /** The ReauthForward an honest RPM_Y sends for `node` (H4(a_k) taken as on-chain). */
  const reauthForward = (node: ResourceNode, poolId: number) => {
    const p = at(poolId);
    const { request, pending } = node.buildReauthRequest(p.info);
    const opened = p.rpm.openReauthRequest(request);
    return { forward: p.rpm.forwardReauth(opened, tagOf(node.state.a), false), reply: p.rpm.reauthReply(opened), pending };
  };
  const reauth = (node: ResourceNode, poolId: number) => {
    const { forward, reply, pending } = reauthForward(node, poolId);
    const v = msrp.verifyReauth(forward);
    msrp.commitJoin(v);
    node.acceptReauthReply(reply, pending);
    return v;
  };
  /** A JoinForward sealing any (a, PID) for any pool: the MSRP accepts forwards from anyone. */
  /** The signing key of pool poolId's RPM (a random key for a pool that has none). */
  const rpmSk = (poolId: number) => pools.find((p) => p.info.poolId === poolId)?.creds.sk ?? randomScalar();
  const signJoin = (f: { poolId: number; sealed: Uint8Array }, sk = rpmSk(f.poolId)) =>
    encodeJoinForward({ ...f, sig: schnorrSign(sk, FORWARD_DST, joinForwardSigned(f)) });
  const signReauth = (f: { poolId: number; nextPid: Uint8Array; sealed: Uint8Array }, sk = rpmSk(f.poolId)) =>
    encodeReauthForward({ ...f, sig: schnorrSign(sk, FORWARD_DST, reauthForwardSigned(f)) });
  /** A JoinForward sealing any (a, PID) for any pool, signed by that pool's RPM. */
  const joinForward = (poolId: number, a: Uint8Array, pid: Uint8Array, aadPool = poolId) =>
    signJoin({ poolId, sealed: eciesEncrypt(pk, concat(a, pid), AAD.joinForward(aadPool)) });
  const reauthForwardOf = (poolId: number, nextPid: Uint8Array, nextA: Uint8Array, aadPool = poolId) =>
    signReauth({ poolId, nextPid, sealed: eciesEncrypt(pk, nextA, AAD.reauthForward(aadPool)) });
  const snapshot = () => JSON.stringify(msrp.toRecord());
  const restored = () => Msrp.fromRecord(JSON.parse(JSON.stringify(msrp.toRecord())) as MsrpRecord);
  return { msrp, pools, rns, at, join, reauth, reauthForward, joinForward, reauthForwardOf, signJoin, signReauth, snapshot, restored };
}

function rejected(f: () => unknown, msg: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `expected MSRP_REJECTED ${msg}`).to.be.instanceOf(RsmsRejectedError);
  expect((err as RsmsRejectedError).reason).to.equal("MSRP_REJECTED");
  expect((err as RsmsRejectedError).code).to.equal("PROTOCOL_REJECTED");
  expect((err as Error).message).to.match(msg);
}

/** Asserts an RsmsRejectedError with this reason and message. */
function rejectedAs(f: () => unknown, reason: string, msg: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${reason} ${msg}`).to.be.instanceOf(RsmsRejectedError);
  expect((err as RsmsRejectedError).reason).to.equal(reason);
  expect((err as Error).message).to.match(msg);
}

/** The error `f` throws (undefined if it returns). */
function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("rsms/msrp: the exact check of a forwarded join (verifyJoin)", () => {
  it("accepts the issued secret for its PID and pool, and changes nothing until commitJoin", () => {
    const w = offlineWorld();
    const rn = w.rns[0];
    const before = w.snapshot();
    const fwd = w.at(1).rpm.forwardJoin(w.at(1).rpm.openJoinRequest(rn.buildJoinRequest(w.at(1).info).request));
    const v = w.msrp.verifyJoin(fwd);
    expect(v.rn).to.equal("rn0");
    expect(v.recordedA).to.equal(rn.state.a);
    expect(v.record).to.deep.equal({ pid: rn.state.pid, tag: tagOf(rn.state.a), poolId: 1, kind: 1 });
    expect(w.snapshot()).to.equal(before);
    expect(w.msrp.verifyJoin(fwd)).to.deep.equal(v); // verifying again gives the same answer
  });

  it("refuses a forward that does not open under PK_pub for its pool (relabelled pool, other key, tampered)", () => {
    const w = offlineWorld();
    const rn = w.rns[0];
    const before = w.snapshot();
    const msg = /^verifyJoin: the forwarded secret does not open \(not sealed to PK_pub for this pool\)$/;
    // sealed for pool 1, relabelled as pool 2
    rejected(() => w.msrp.verifyJoin(w.joinForward(2, encodeScalar(rn.state.a), rn.state.pid, 1)), msg);
    // sealed to another key
    const other = w.signJoin({
      poolId: 1,
      sealed: eciesEncrypt(mulBase(7n), concat(encodeScalar(rn.state.a), rn.state.pid), AAD.joinForward(1)),
    });
    rejected(() => w.msrp.verifyJoin(other), msg);
    const t = decodeJoinForward(w.joinForward(1, encodeScalar(rn.state.a), rn.state.pid));
    t.sealed[t.sealed.length - 1] ^= 1;
    rejected(() => w.msrp.verifyJoin(w.signJoin(t)), msg);
    expect(w.snapshot()).to.equal(before);
  });

  it("a payload other than a' (32 bytes) || PID (32 bytes) never reaches the check: the message has a fixed size; a forward that does not open keeps why", () => {
    // This pins why verifyJoin's own length check is unreachable (its mutants are explained in
    // scripts/mutation/survivors.json): decodeJoinForward refuses any other sealed length first.
    const w = offlineWorld();
    const rn = w.rns[0];
    const before = w.snapshot();
    const a = encodeScalar(rn.state.a);
    for (const pid of [concat(rn.state.pid, Uint8Array.of(0)), rn.state.pid.subarray(0, 31)])
      expectThrows(() => w.msrp.verifyJoin(w.joinForward(1, a, pid)), MalformedMessageError, "MESSAGE_MALFORMED", /^decodeJoinForward:/);
    let err: unknown;
    try {
      w.msrp.verifyJoin(w.joinForward(2, a, rn.state.pid, 1));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(RsmsRejectedError);
    expect((err as Error).cause).to.be.instanceOf(DecryptionError);
    expect(w.snapshot()).to.equal(before);
  });

  it("refuses a PID that is not an RN's current pseudonym (unknown, an RPM's, a user's, an old one)", () => {
    const w = offlineWorld();
    const user = w.msrp.registerUser("alice", Msrp.registrationRequest(w.msrp.params.pkPub, Role.User, 0, "alice"));
    const rn = w.rns[0];
    const a0 = rn.state.a;
    const pid0 = rn.state.pid;
    w.join(rn);
    w.reauth(rn, 2); // PID_0 is now an old pseudonym of rn0
    const before = w.snapshot();
    const notCurrent = (pid: Uint8Array) => new RegExp(`^verifyJoin: ${toHex(pid)} is not a current RN pseudonym$`);
    const unknown = H6("nobody", 1n);
    rejected(() => w.msrp.verifyJoin(w.joinForward(1, encodeScalar(a0), unknown)), notCurrent(unknown));
    rejected(() => w.msrp.verifyJoin(w.joinForward(1, encodeScalar(a0), w.at(1).creds.pid)), notCurrent(w.at(1).creds.pid));
    rejected(() => w.msrp.verifyJoin(w.joinForward(1, encodeScalar(a0), user.pid)), notCurrent(user.pid));
    rejected(() => w.msrp.verifyJoin(w.joinForward(1, encodeScalar(a0), pid0)), notCurrent(pid0));
    expect(w.snapshot()).to.equal(before);
  });

  it("refuses the secret of an RN that already joined (a replay that reaches the MSRP)", () => {
    const w = offlineWorld();
    const rn = w.rns[1];
    const s = rn.state;
    w.join(rn);
    const before = w.snapshot();
    rejected(
      () => w.msrp.verifyJoin(w.joinForward(1, encodeScalar(s.a), s.pid)),
      new RegExp(`^verifyJoin: the secret of ${toHex(s.pid)} was already used$`),
    );
    expect(w.snapshot()).to.equal(before);
  });

  it("refuses any a' but the issued secret under a genuine, unused PID", () => {
    const w = offlineWorld();
    const rn = w.rns[0];
    const before = w.snapshot();
    for (const a of [rn.state.a + 1n, w.rns[1].state.a])
      rejected(
        () => w.msrp.verifyJoin(w.joinForward(1, encodeScalar(a), rn.state.pid)),
        /^verifyJoin: a' is not the secret issued for this PID \(Bloom false positive or forgery\)$/,
      );
    expect(w.snapshot()).to.equal(before);
  });

  it("refuses the right secret at a pool the RN did not register for", () => {
    const w = offlineWorld();
    const rn = w.rns[2]; // registered for pool 2
    const before = w.snapshot();
    rejected(
      () => w.msrp.verifyJoin(w.joinForward(1, encodeScalar(rn.state.a), rn.state.pid)),
      /^verifyJoin: this RN was registered for pool 2, not 1$/,
    );
    expect(w.snapshot()).to.equal(before);
    expect(w.msrp.verifyJoin(w.joinForward(2, encodeScalar(rn.state.a), rn.state.pid)).record.poolId).to.equal(2);
  });
});

describe("rsms/msrp: the exact check of a forwarded re-authentication (verifyReauth)", () => {
  it("accepts a'_{k+1} = H4(a_k, sk_RN) under PID_{k+1} = H6(PID_k, a_{k+1}), and changes nothing until commitJoin", () => {
    const w = offlineWorld();
    const rn = w.rns[0];
    w.join(rn);
    const s = rn.state;
    const before = w.snapshot();
    const { forward } = w.reauthForward(rn, 2);
    const v = w.msrp.verifyReauth(forward);
    const nextA = H4(s.a, s.sk);
    expect(v.rn).to.equal("rn0");
    expect(v.recordedA).to.equal(nextA);
    expect(v.record).to.deep.equal({ pid: H6(s.pid, nextA), tag: tagOf(nextA), poolId: 2, kind: 2 });
    expect(w.snapshot()).to.equal(before);
  });

  it("refuses a forward that does not open, names an unknown pool, or whose PID_{k+1} is nobody's next pseudonym", () => {
    const w = offlineWorld();
    const rn = w.rns[0];
    w.join(rn);
    const s = rn.state;
    const nextPid = H6(s.pid, H4(s.a, s.sk));
    const nextA = encodeScalar(H4(s.a, s.sk));
    const before = w.snapshot();
    rejected(() => w.msrp.verifyReauth(w.reauthForwardOf(1, nextPid, nextA, 2)), /^verifyReauth: the forwarded secret does not open$/);
    expect((caught(() => w.msrp.verifyReauth(w.reauthForwardOf(1, nextPid, nextA, 2))) as Error).cause).to.be.instanceOf(DecryptionError);
    rejected(() => w.msrp.verifyReauth(w.reauthForwardOf(9, nextPid, nextA)), /^verifyReauth: unknown pool 9$/);
    // an RN that has not joined has no next pseudonym yet, even with the right a_{k+1}
    const idle = w.rns[1].state;
    const idleNext = H6(idle.pid, H4(idle.a, idle.sk));
    const notNext = (pid: Uint8Array) => new RegExp(`^verifyReauth: ${toHex(pid)} is not the next pseudonym of any joined RN$`);
    rejected(() => w.msrp.verifyReauth(w.reauthForwardOf(2, idleNext, encodeScalar(H4(idle.a, idle.sk)))), notNext(idleNext));
    const restored = w.restored();
    rejected(() => restored.verifyReauth(w.reauthForwardOf(2, idleNext, encodeScalar(H4(idle.a, idle.sk)))), notNext(idleNext));
    const random = H6("random", 2n);
    rejected(() => w.msrp.verifyReauth(w.reauthForwardOf(2, random, nextA)), notNext(random));
    expect(w.snapshot()).to.equal(before);
  });

  it("refuses any a'_{k+1} but H4(a_k, sk_RN), e.g. a_k itself or H4(a_k) (public on-chain)", () => {
    const w = offlineWorld();
    const rn = w.rns[0];
    w.join(rn);
    const s = rn.state;
    const nextPid = H6(s.pid, H4(s.a, s.sk));
    const before = w.snapshot();
    for (const bad of [s.a, H4(s.a), H4(s.a, s.sk) + 1n])
      rejected(
        () => w.msrp.verifyReauth(w.reauthForwardOf(2, nextPid, encodeScalar(bad))),
        /^verifyReauth: a'_\{k\+1\} != H4\(a_k, sk_RN\)$/,
      );
    expect(w.snapshot()).to.equal(before);
  });

  it("after a committed move, the used PID_{k+1} is nobody's next pseudonym; other RNs keep theirs", () => {
    const w = offlineWorld();
    const [rn0, rn1] = w.rns;
    w.join(rn0);
    w.join(rn1);
    const s = rn0.state;
    const usedNext = H6(s.pid, H4(s.a, s.sk));
    w.reauth(rn0, 2);
    const before = w.snapshot();
    rejected(
      () => w.msrp.verifyReauth(w.reauthForwardOf(2, usedNext, encodeScalar(H4(s.a, s.sk)))),
      new RegExp(`^verifyReauth: ${toHex(usedNext)} is not the next pseudonym of any joined RN$`),
    );
    expect(w.snapshot()).to.equal(before);
    // rn1's next pseudonym was not disturbed by rn0's move, and rn0 moves on
    expect(w.reauth(rn1, 2).rn).to.equal("rn1");
    expect(w.reauth(rn0, 1).record.pid).to.deep.equal(rn0.state.pid);
  });

  it("an MSRP with a single pool verifies a re-authentication at that pool", () => {
    const msrp = Msrp.setup({ capacity: 4, lambda: 10, intervalSec: 100 });
    const pk = msrp.params.pkPub;
    const c = msrp.registerRpm("rpm", Msrp.registrationRequest(pk, Role.RPM, 1, "rid-rpm"));
    const rpm = new ResourcePoolManager(msrp.params, { poolId: 1, sk: c.sk, pid: c.pid });
    const info = { poolId: 1, pkRpm: c.pkRpm, pidRpm: c.pid } as PoolInfo;
    const r = msrp.registerRn("rn", Msrp.registrationRequest(pk, Role.RN, 1, "rid-rn"), Math.floor(Date.now() / 1000));
    const node = new ResourceNode(msrp.params, { name: "rn", sk: r.sk, a: r.a, pid: r.pid, k: 0, joined: false, homePool: 1, pool: 0 });
    const { filter } = msrp.takeFilter(1);
    rpm.addFilter(0, filter.serialize(), filter.root());
    const join = node.buildJoinRequest(info);
    const opened = rpm.openJoinRequest(join.request);
    msrp.commitJoin(msrp.verifyJoin(rpm.forwardJoin(opened)));
    node.acceptJoinReply(rpm.joinReply(opened), join.pending);
    const s = node.state;
    const reauth = rpm.openReauthRequest(node.buildReauthRequest(info).request);
    const v = msrp.verifyReauth(rpm.forwardReauth(reauth, tagOf(s.a), false));
    expect([v.rn, v.record.poolId, v.recordedA, toHex(v.record.pid)]).to.deep.equal([
      "rn",
      1,
      H4(s.a, s.sk),
      toHex(H6(s.pid, H4(s.a, s.sk))),
    ]);
  });
});

describe("rsms/msrp: an RN's trust identity (bindTrustId, red-team finding A1)", () => {
  it("binds one PID per RN, once: the same PID again changes nothing, another (even the RN's own newer one) or another RN's is refused", () => {
    const w = offlineWorld();
    const [r0, r1] = w.rns;
    w.join(r0);
    w.join(r1);
    const first = r0.state.pid;
    expect(w.msrp.trustIdOf("rn0")).to.equal(undefined);
    w.msrp.bindTrustId("rn0", first);
    expect(w.msrp.trustIdOf("rn0")).to.equal(toHex(first));
    const bound = w.snapshot();
    w.msrp.bindTrustId("rn0", first); // a retry
    expect(w.snapshot()).to.equal(bound);
    w.reauth(r0, 2);
    const rotated = w.snapshot();
    expectThrows(
      () => w.msrp.bindTrustId("rn0", r0.state.pid),
      AgentStateError,
      "AGENT_STATE",
      new RegExp(`^bindTrustId: RN "rn0" already holds the trust identity ${toHex(first)}$`),
    );
    expectThrows(
      () => w.msrp.bindTrustId("rn0", r1.state.pid),
      AgentStateError,
      "AGENT_STATE",
      new RegExp(`^bindTrustId: ${toHex(r1.state.pid)} is not a PID of RN "rn0"$`),
    );
    expect(w.snapshot()).to.equal(rotated);
    // kept in the keystore record
    expect(Msrp.fromRecord(w.msrp.toRecord()).trustIdOf("rn0")).to.equal(toHex(first));
  });
});

describe("rsms/msrp: commitJoin, tracing and the keystore record", () => {
  it("commitJoin of an unknown RN is refused", () => {
    const w = offlineWorld();
    const before = w.snapshot();
    expectThrows(
      () => w.msrp.commitJoin({ record: { pid: H6("x", 1n), tag: tagOf(5n), poolId: 1, kind: 1 }, rn: "ghost", recordedA: 5n }),
      AgentStateError,
      "AGENT_STATE",
      /^commitJoin: unknown RN ghost$/,
    );
    expect(w.snapshot()).to.equal(before);
  });

  it("commitJoin commits a verification once, from the state it was made in: anything else is REPLAYED_SECRET, naming the PID and the RN, and changes nothing", () => {
    const w = offlineWorld();
    const rn = w.rns[0];
    const p = w.at(1);
    const { request, pending } = rn.buildJoinRequest(p.info);
    const opened = p.rpm.openJoinRequest(request);
    const v = w.msrp.verifyJoin(p.rpm.forwardJoin(opened));
    const stale = (pid: Uint8Array, name: string) =>
      new RegExp(`^commitJoin: ${toHex(pid)} is already committed or not ${name}'s next step$`);
    const refused = (x: typeof v) => {
      const before = w.snapshot();
      rejectedAs(() => w.msrp.commitJoin(x), "REPLAYED_SECRET", stale(x.record.pid, x.rn));
      expect(w.snapshot()).to.equal(before);
    };
    // a join verification for a PID that is not the RN's current one
    refused({ ...v, record: { ...v.record, pid: H6(rn.state.pid, 1n) } });
    w.msrp.commitJoin(v);
    rn.acceptJoinReply(p.rpm.joinReply(opened), pending);
    refused(v); // twice
    // a move verified for rn0, committed as rn1's (whose next pseudonym it is not)
    const { forward } = w.reauthForward(rn, 2);
    const vr = w.msrp.verifyReauth(forward);
    refused({ ...vr, rn: "rn1" });
    w.msrp.commitJoin(vr);
    expect(w.msrp.trace(vr.record.pid)).to.include({ name: "rn0", k: 1 });
    refused(vr); // twice
    refused(v); // and the old join after the move
  });

  it("traces every pseudonym with its kind, name, real identity and k, also after a keystore round trip", () => {
    const w = offlineWorld();
    const user = w.msrp.registerUser("alice", Msrp.registrationRequest(w.msrp.params.pkPub, Role.User, 0, "Alice"));
    const rn = w.rns[0];
    const pids = [rn.state.pid];
    w.join(rn);
    w.reauth(rn, 2);
    pids.push(rn.state.pid);
    w.reauth(rn, 1);
    pids.push(rn.state.pid);
    for (const m of [w.msrp, w.restored()]) {
      pids.forEach((pid, k) => expect(m.trace(pid)).to.deep.equal({ kind: "rn", name: "rn0", rid: "rid-rn0", k }));
      expect(m.trace(w.rns[3].state.pid)).to.deep.equal({ kind: "rn", name: "rn3", rid: "rid-rn3", k: 0 });
      expect(m.trace(w.at(2).creds.pid)).to.deep.equal({ kind: "rpm", name: "rpm-B", rid: "rid-rpm-B", k: 0 });
      expect(m.trace(user.pid)).to.deep.equal({ kind: "user", name: "alice", rid: "Alice", k: 0 });
      const nobody = H6("nobody", 9n);
      expectThrows(
        () => m.trace(nobody),
        AgentStateError,
        "AGENT_STATE",
        new RegExp(`^trace: ${toHex(nobody)} is not a pseudonym this MSRP issued$`),
      );
    }
  });

  it("a restored MSRP verifies the next move of a joined RN", () => {
    const w = offlineWorld();
    const rn = w.rns[2];
    w.join(rn);
    const restored = w.restored();
    const v = restored.verifyReauth(w.reauthForward(rn, 1).forward);
    expect(v.rn).to.equal("rn2");
    expect(v.record.kind).to.equal(2);
  });

  it("the record keeps each joined RN's next pseudonym (loading hashes nothing per RN); a record written before it (no `next`) is migrated at load", () => {
    const w = offlineWorld();
    const [a, b] = w.rns;
    w.join(a);
    w.join(b);
    w.reauth(b, 2); // rn1 has moved once: its next pseudonym is PID_2's successor
    const rec = JSON.parse(JSON.stringify(w.msrp.toRecord())) as MsrpRecord;
    const sa = a.state;
    expect(rec.rns.rn0.next).to.equal(toHex(H6(sa.pid, H4(sa.a, sa.sk))));
    expect(rec.rns.rn2.next, "an RN that has not joined has none").to.equal(undefined);
    // an old record: no `next` anywhere; it loads, verifies both RNs' next moves and writes `next` back
    const old = structuredClone(rec);
    for (const e of Object.values(old.rns)) delete e.next;
    const migrated = Msrp.fromRecord(old);
    expect(migrated.toRecord().rns.rn0.next).to.equal(rec.rns.rn0.next);
    expect(migrated.toRecord().rns.rn1.next).to.equal(toHex(H6(b.state.pid, H4(b.state.a, b.state.sk))));
    expect(migrated.toRecord().rns.rn1.next).to.equal(rec.rns.rn1.next);
    expect(migrated.verifyReauth(w.reauthForward(a, 2).forward).rn).to.equal("rn0");
    // a loaded record's index is the kept value: the MSRP accepts the pseudonym the record names
    const kept = structuredClone(rec);
    const other = toHex(H6("elsewhere", 1n));
    kept.rns.rn0.next = other;
    const m2 = Msrp.fromRecord(kept);
    expectThrows(() => m2.verifyReauth(w.reauthForward(a, 2).forward), RsmsRejectedError, "PROTOCOL_REJECTED", /is not the next pseudonym/);
    expect(m2.toRecord().rns.rn0.next).to.equal(other);
  });

  it("summary, rpmOfPool and joinedRns report the public state", () => {
    const w = offlineWorld();
    w.msrp.registerUser("alice", Msrp.registrationRequest(w.msrp.params.pkPub, Role.User, 0, "Alice"));
    w.join(w.rns[0]);
    w.join(w.rns[2]);
    w.reauth(w.rns[2], 1);
    w.msrp.registerRn("rn4", Msrp.registrationRequest(w.msrp.params.pkPub, Role.RN, 2, "rid-rn4"), 0);
    const hex = (n: number) => toHex(w.rns[n].state.pid);
    expect(w.msrp.summary()).to.deep.equal({
      rpms: [
        { name: "rpm-A", poolId: 1, pid: toHex(w.at(1).creds.pid) },
        { name: "rpm-B", poolId: 2, pid: toHex(w.at(2).creds.pid) },
      ],
      rns: [
        { name: "rn0", homePool: 1, pool: 1, k: 0, pid: hex(0), joined: true },
        { name: "rn1", homePool: 1, pool: 0, k: 0, pid: hex(1), joined: false },
        { name: "rn2", homePool: 2, pool: 1, k: 1, pid: hex(2), joined: true },
        { name: "rn3", homePool: 2, pool: 0, k: 0, pid: hex(3), joined: false },
        { name: "rn4", homePool: 2, pool: 0, k: 0, pid: w.msrp.summary().rns[4].pid, joined: false },
      ],
      users: [{ name: "alice", pid: toHex(w.msrp.userCredentials("alice").pid) }],
      pending: { 2: 1 },
    });
    expect(w.msrp.rpmOfPool(2)).to.deep.equal({ name: "rpm-B", pid: w.at(2).creds.pid, pk: encodePoint(w.at(2).creds.pkRpm) });
    expect(w.msrp.rpmOfPool(3)).to.equal(undefined);
    const joined = w.msrp.joinedRns();
    expect(joined.map((r) => [r.name, toHex(r.pid), r.pool])).to.deep.equal([
      ["rn0", hex(0), 1],
      ["rn2", hex(2), 1],
    ]);
    expect(joined.every((r, i) => r.pk.equals(w.rns[[0, 2][i]].groupParty().publicKey))).to.equal(true);
  });

  it("the policy getter returns a copy of the filter policy", () => {
    const policy = { capacity: 5, lambda: 3, intervalSec: 7 };
    const m = Msrp.setup(policy);
    expect(m.policy).to.deep.equal(policy);
    m.policy.capacity = 99;
    expect(m.policy.capacity).to.equal(5);
    expect(Msrp.setup().policy).to.deep.equal(DEFAULT_FILTER_POLICY);
    expect(DEFAULT_FILTER_POLICY).to.deep.equal({ capacity: 1024, lambda: 20, intervalSec: 3600, ttlSec: 7 * 24 * 3600 });
    expect(toHex(m.pkPubBytes)).to.equal(toHex(encodePoint(m.params.pkPub)));
  });
});

describe("rsms/msrp: registration checks (each refused, nothing registered)", () => {
  const req = (m: Msrp, role: number, poolId: number, rid: string) => Msrp.registrationRequest(m.params.pkPub, role, poolId, rid);
  const sealedReq = (m: Msrp, role: number, poolId: number, plain: Uint8Array) =>
    encodeRegistration({ role, poolId, sealed: eciesEncrypt(m.params.pkPub, plain, AAD.registration(role, poolId)) });

  it("pool 0 is reserved; names and pools are unique per role", () => {
    const w = offlineWorld();
    const m = w.msrp;
    const before = w.snapshot();
    expectThrows(
      () => m.registerRpm("rpm-0", req(m, Role.RPM, 0, "x")),
      AgentStateError,
      "AGENT_STATE",
      /^registerRpm: pool id 0 is reserved$/,
    );
    expectThrows(
      () => m.registerRpm("rpm-A", req(m, Role.RPM, 3, "x")),
      AgentStateError,
      "AGENT_STATE",
      /^registerRpm: an RPM named "rpm-A" is already registered$/,
    );
    expectThrows(
      () => m.registerRpm("rpm-C", req(m, Role.RPM, 1, "x")),
      AgentStateError,
      "AGENT_STATE",
      /^registerRpm: pool 1 already has an RPM$/,
    );
    expectThrows(
      () => m.registerRn("rn0", req(m, Role.RN, 1, "x")),
      AgentStateError,
      "AGENT_STATE",
      /^registerRn: an RN named "rn0" is already registered$/,
    );
    expectThrows(() => m.registerRn("rn9", req(m, Role.RN, 3, "x")), AgentStateError, "AGENT_STATE", /^registerRn: pool 3 has no RPM$/);
    m.registerUser("alice", req(m, Role.User, 0, "Alice"));
    const withAlice = w.snapshot();
    expectThrows(
      () => m.registerUser("alice", req(m, Role.User, 0, "x")),
      AgentStateError,
      "AGENT_STATE",
      /^registerUser: a user named "alice" is already registered$/,
    );
    expect(w.snapshot()).to.equal(withAlice);
    expect(JSON.parse(withAlice).users).to.have.keys("alice");
    expect(JSON.parse(before).users).to.deep.equal({});
    // a third pool can still be registered
    expect(m.registerRpm("rpm-C", req(m, Role.RPM, 3, "x")).poolId).to.equal(3);
  });

  it("the identity must be non-empty UTF-8, and the request must carry the role asked for", () => {
    const w = offlineWorld();
    const m = w.msrp;
    const before = w.snapshot();
    const malformed = (f: () => unknown, msg: RegExp) => expectThrows(f, MalformedMessageError, "MESSAGE_MALFORMED", msg);
    malformed(() => m.registerUser("u", req(m, Role.User, 0, "")), /^registration: empty identity$/);
    malformed(
      () => m.registerUser("u", sealedReq(m, Role.User, 0, Uint8Array.of(0xff, 0xfe, 0x41))),
      /^registration: the identity is not UTF-8$/,
    );
    malformed(() => m.registerRn("u", sealedReq(m, Role.RN, 1, Uint8Array.of(0xc3))), /^registration: the identity is not UTF-8$/);
    // the decoder's reason is kept as the cause
    const notUtf8 = caught(() => m.registerRn("u", sealedReq(m, Role.RN, 1, Uint8Array.of(0xc3))));
    expect(notUtf8).to.be.instanceOf(MalformedMessageError);
    expect((notUtf8 as Error).cause).to.be.instanceOf(TypeError);
    malformed(() => m.registerUser("u", req(m, Role.RN, 1, "x")), /^registration: expected role 3, got 2$/);
    malformed(() => m.registerRpm("u", req(m, Role.User, 0, "x")), /^registration: expected role 1, got 3$/);
    expect(w.snapshot()).to.equal(before);
    // a valid non-ASCII identity is fine
    expect(m.trace(m.registerUser("u", req(m, Role.User, 0, "Zoë ☃")).pid).rid).to.equal("Zoë ☃");
  });

  it("a sealed identity is bound to its role and pool: relabelling either does not open", () => {
    const w = offlineWorld();
    const m = w.msrp;
    const before = w.snapshot();
    const rnReq = decodeRegistration(req(m, Role.RN, 1, "serial"));
    const decryption = (f: () => unknown) => expectThrows(f, DecryptionError, "DECRYPTION_FAILED", /^eciesDecrypt: authentication failed/);
    decryption(() => m.registerRn("x", encodeRegistration({ ...rnReq, poolId: 2 })));
    decryption(() => m.registerUser("x", encodeRegistration({ ...rnReq, role: Role.User })));
    expect(w.snapshot()).to.equal(before);
  });
});

describe("rsms/msrp: Bloom filter bookkeeping", () => {
  it("registerRn and filterDue default to the current time", () => {
    const m = Msrp.setup({ capacity: 8, lambda: 4, intervalSec: 100 });
    m.registerRpm("rpm", Msrp.registrationRequest(m.params.pkPub, Role.RPM, 1, "rpm"));
    const now = Math.floor(Date.now() / 1000);
    m.registerRn("a", Msrp.registrationRequest(m.params.pkPub, Role.RN, 1, "a"));
    expect(m.filterDue(1, now + 90)).to.equal(false);
    expect(m.filterDue(1, now + 110)).to.equal(true);
    expect(m.filterDue(1)).to.equal(false);
    const m2 = Msrp.setup({ capacity: 8, lambda: 4, intervalSec: 100 });
    m2.registerRpm("rpm", Msrp.registrationRequest(m2.params.pkPub, Role.RPM, 1, "rpm"));
    m2.registerRn("a", Msrp.registrationRequest(m2.params.pkPub, Role.RN, 1, "a"), now - 200);
    expect(m2.filterDue(1)).to.equal(true);
  });

  it("a filter restored empty is never due and cannot be taken; a later restore replaces it", () => {
    const { m } = msrpWithPool({ capacity: 3, lambda: 4, intervalSec: 100 });
    expect(m.pendingCount(1)).to.equal(0);
    expect(m.pendingCount(42)).to.equal(0);
    m.restoreFilter(1, BloomFilter.init(3, 4), 0);
    expect(m.pendingCount(1)).to.equal(0);
    expect(m.filterDue(1, 10 ** 9)).to.equal(false);
    expectThrows(
      () => m.takeFilter(1),
      AgentStateError,
      "AGENT_STATE",
      /^takeFilter: pool 1 has no registered RN waiting for publication$/,
    );
    expectThrows(
      () => m.takeFilter(2),
      AgentStateError,
      "AGENT_STATE",
      /^takeFilter: pool 2 has no registered RN waiting for publication$/,
    );
    // a failed publication of a real filter replaces the empty one, with its own opening time
    const { m: m2, reg: reg2 } = msrpWithPool({ capacity: 3, lambda: 4, intervalSec: 100 });
    const a = reg2("a", 500);
    const taken = m2.takeFilter(1);
    m.restoreFilter(1, taken.filter, taken.openedAt);
    expect(m.pendingCount(1)).to.equal(1);
    expect(m.filterDue(1, 599)).to.equal(false);
    expect(m.filterDue(1, 600)).to.equal(true);
    expect(m.takeFilter(1).filter.check(encodeScalar(a.a))).to.equal(true);
  });
  it("a restored keystore keeps each pending filter's opening time", () => {
    const { m, reg } = msrpWithPool({ capacity: 3, lambda: 4, intervalSec: 100 });
    reg("a", 1000);
    const restored = Msrp.fromRecord(JSON.parse(JSON.stringify(m.toRecord())) as MsrpRecord);
    expect(restored.filterDue(1, 1099)).to.equal(false);
    expect(restored.filterDue(1, 1100)).to.equal(true);
    expect(restored.toRecord().pending).to.deep.equal(m.toRecord().pending);
    expect(Object.keys(m.toRecord().pending)).to.deep.equal(["1"]);
  });
});

describe("rsms/msrp: service groups (requestGroup, rekeyGroup)", () => {
  /**
   * The parties a dealing names: the user, then the RNs, which the roster lists by PID (not in the
   * allocation's order, which survives a rotation: h14-red F2), checked here; the RNs' names sorted.
   */
  function dealt(g: { parties: { name: string; pid: Uint8Array }[] }): string[] {
    const pids = g.parties.slice(1).map((p) => toHex(p.pid));
    expect(pids, "the roster lists the RNs by PID").to.deep.equal([...pids].sort());
    return [
      g.parties[0].name,
      ...g.parties
        .slice(1)
        .map((p) => p.name)
        .sort(),
    ];
  }
  /** The offline world with rn0..rn3 joined, rn4 registered only, and a user alice. */
  function groupWorld() {
    const w = offlineWorld();
    for (const rn of w.rns) w.join(rn);
    const c4 = w.msrp.registerRn("rn4", Msrp.registrationRequest(w.msrp.params.pkPub, Role.RN, 1, "rid-rn4"), 0);
    const user = w.msrp.registerUser("alice", Msrp.registrationRequest(w.msrp.params.pkPub, Role.User, 0, "Alice"));
    const gid = (n: number) => new Uint8Array(32).fill(n);
    const form = (n: number, size: number) => {
      const g = w.msrp.requestGroup("alice", size, gid(n));
      w.msrp.commitGroup(gid(n), "alice", g.parties.slice(1));
      return g;
    };
    return { ...w, c4, user, gid, form };
  }

  it("refuses a bad size, an unknown user, or more RNs than have joined", () => {
    const w = groupWorld();
    const before = w.snapshot();
    for (const size of [0, -1, 1.5])
      expectThrows(
        () => w.msrp.requestGroup("alice", size),
        AgentStateError,
        "AGENT_STATE",
        new RegExp(`^requestGroup: size must be a positive integer, got ${size}$`),
      );
    expectThrows(() => w.msrp.requestGroup("bob", 1), AgentStateError, "AGENT_STATE", /^userCredentials: unknown user bob$/);
    expectThrows(
      () => w.msrp.requestGroup("alice", 5),
      AgentStateError,
      "AGENT_STATE",
      /^requestGroup: 5 RNs requested, only 4 have joined a pool and are not suspicious$/,
    );
    expect(w.snapshot()).to.equal(before);
    expect(dealt(w.msrp.requestGroup("alice", 4))).to.deep.equal(["alice", "rn0", "rn1", "rn2", "rn3"]);
  });

  it("never allocates, or adds in a rekey, an RN whose PID the registry still marks revoked (left S_RN, mark not yet lifted)", () => {
    const w = groupWorld();
    const g = w.form(1, 2); // rn0, rn1
    const rn2 = w.rns[2].state.pid;
    w.msrp.bindTrustId("rn2", rn2);
    w.msrp.flagRn(rn2);
    w.msrp.noteRevocation(toHex(rn2), true); // the revocation sync saw the registry mark it
    w.msrp.clearSuspicious("rn2"); // the operator's clear: out of S_RN, the mark stays until the next sync
    expect([...w.msrp.markedRns()]).to.deep.equal(["rn2"]);
    expect(w.msrp.allocate(3)).to.not.include("rn2");
    const before = w.snapshot();
    expectThrows(
      () => w.msrp.requestGroup("alice", 4),
      AgentStateError,
      "AGENT_STATE",
      /^requestGroup: 4 RNs requested, only 4 have joined a pool and are not suspicious \(1 of them still marked revoked on the registry until the revocation sync lifts the mark\)$/,
    );
    expectThrows(
      () => w.msrp.rekeyGroup(g.dealing.groupId, [], ["rn2"]),
      AgentStateError,
      "AGENT_STATE",
      /^rekeyGroup: RN "rn2" is still marked revoked on the registry/,
    );
    expect(w.snapshot(), "refused: nothing changed").to.equal(before);
    w.msrp.noteRevocation(toHex(rn2), false); // the sync lifted it
    expect(w.msrp.markedRns().size).to.equal(0);
    expect(dealt(w.msrp.requestGroup("alice", 4))).to.deep.equal(["alice", "rn0", "rn1", "rn2", "rn3"]);
    expect(w.msrp.rekeyGroup(g.dealing.groupId, [], ["rn2"]).added.map((m) => m.name)).to.deep.equal(["rn2"]);
  });

  it("allocates the user first, then the least busy joined RNs (ties by name), and deals to each of them", () => {
    const w = groupWorld();
    const g1 = w.form(1, 2);
    expect(dealt(g1)).to.deep.equal(["alice", "rn0", "rn1"]);
    expect(toHex(g1.parties[0].pid)).to.equal(toHex(w.user.pid));
    expect(g1.parties[0].pk.equals(w.user.pk)).to.equal(true);
    const rn1 = g1.parties.find((p) => p.name === "rn1")!;
    expect(toHex(rn1.pid)).to.equal(toHex(w.rns[1].state.pid));
    expect(rn1.pk.equals(w.rns[1].groupParty().publicKey)).to.equal(true);
    expect(toHex(g1.dealing.groupId)).to.equal(toHex(w.gid(1)));
    expect(g1.dealing.epoch).to.equal(0);
    expect(g1.dealing.allocations).to.have.length(3);
    expect(dealt(w.form(2, 2))).to.deep.equal(["alice", "rn2", "rn3"]);
    expect(dealt(w.form(3, 3))).to.deep.equal(["alice", "rn0", "rn1", "rn2"]);
    // loads: rn0 2, rn1 2, rn2 2, rn3 1
    expect(w.msrp.allocate(2)).to.deep.equal(["rn3", "rn0"]);
    expect(dealt(w.msrp.requestGroup("alice", 2))).to.deep.equal(["alice", "rn0", "rn3"]);
    const info = w.msrp.groupInfo(w.gid(2));
    expect({ ...info, members: [...info.members].sort((x, y) => x.name.localeCompare(y.name)) }).to.deep.equal({
      user: "alice",
      members: [
        { name: "rn2", pid: w.rns[2].state.pid },
        { name: "rn3", pid: w.rns[3].state.pid },
      ],
      epoch: 0,
    });
    // a random group id by default
    expect(w.msrp.requestGroup("alice", 1).dealing.groupId).to.have.length(32);
  });

  it("groupInfo, commitRekey and rekeyGroup refuse an unknown group, also before any group exists", () => {
    const fresh = Msrp.setup();
    const w = groupWorld();
    w.form(1, 2);
    const unknown = new Uint8Array(32).fill(0xee);
    for (const m of [fresh, w.msrp]) {
      expectThrows(() => m.groupInfo(unknown), AgentStateError, "AGENT_STATE", new RegExp(`^groupInfo: unknown group ${toHex(unknown)}$`));
      expectThrows(
        () => m.commitRekey(unknown, 1, []),
        AgentStateError,
        "AGENT_STATE",
        new RegExp(`^commitRekey: unknown group ${toHex(unknown)}$`),
      );
      expectThrows(() => m.rekeyGroup(unknown, [], []), AgentStateError, "AGENT_STATE", /^groupInfo: unknown group/);
    }
  });

  it("rekeyGroup: each refusal (not a member, not joined, already a member, emptied) changes nothing", () => {
    const w = groupWorld();
    w.form(1, 2); // rn0, rn1
    const gid = w.gid(1);
    const before = w.snapshot();
    const pid = (n: number) => w.rns[n].state.pid;
    expectThrows(
      () => w.msrp.rekeyGroup(gid, [pid(2)], []),
      AgentStateError,
      "AGENT_STATE",
      new RegExp(`^rekeyGroup: ${toHex(pid(2))} is not a member$`),
    );
    expectThrows(() => w.msrp.rekeyGroup(gid, [], ["rn4"]), AgentStateError, "AGENT_STATE", /^rekeyGroup: RN "rn4" has not joined a pool$/);
    expectThrows(
      () => w.msrp.rekeyGroup(gid, [], ["ghost"]),
      AgentStateError,
      "AGENT_STATE",
      /^rekeyGroup: RN "ghost" has not joined a pool$/,
    );
    expectThrows(() => w.msrp.rekeyGroup(gid, [], ["rn1"]), AgentStateError, "AGENT_STATE", /^rekeyGroup: RN "rn1" is already a member$/);
    expectThrows(
      () => w.msrp.rekeyGroup(gid, [pid(0)], ["rn1"]),
      AgentStateError,
      "AGENT_STATE",
      /^rekeyGroup: RN "rn1" is already a member$/,
    );
    // a member the update evicts is not re-added to it (under a rotated PID the chain could not tell; h11-red2 G1)
    expectThrows(
      () => w.msrp.rekeyGroup(gid, [pid(0)], ["rn0"]),
      AgentStateError,
      "AGENT_STATE",
      /^rekeyGroup: RN "rn0" is evicted by this update$/,
    );
    expectThrows(
      () => w.msrp.rekeyGroup(gid, [pid(0), pid(1)], []),
      AgentStateError,
      "AGENT_STATE",
      /^rekeyGroup: the group would have no RN left$/,
    );
    expect(w.snapshot()).to.equal(before);
  });

  it("rekeyGroup: evicts, adds, seals s' to the user and every member only, and commits nothing until commitRekey", () => {
    const w = groupWorld();
    w.form(1, 3); // rn0, rn1, rn2
    const gid = w.gid(1);
    const pid = (n: number) => w.rns[n].state.pid;
    const before = w.snapshot();
    const r = w.msrp.rekeyGroup(gid, [pid(1)], ["rn3"]);
    expect(w.snapshot()).to.equal(before);
    expect(r.epoch).to.equal(1);
    expect(r.Q.equals(mulBase(r.s))).to.equal(true);
    expect(toHex(r.commitmentsHash)).to.equal(toHex(commitmentsHash([r.Q])));
    // the remaining members in the roster's order (by PID: h14-red F2), then the added one
    expect([
      ...r.members
        .slice(0, 2)
        .map((m) => m.name)
        .sort(),
      r.members[2].name,
    ]).to.deep.equal(["rn0", "rn2", "rn3"]);
    expect(r.added).to.deep.equal([{ name: "rn3", pid: pid(3) }]);
    expect(r.evicted.map(toHex)).to.deep.equal([toHex(pid(1))]);
    expect([...r.messages.keys()]).to.deep.equal([toHex(w.user.pid), ...r.members.map((m) => toHex(m.pid))]);
    const view = { epoch: 1, Q: r.Q, commitmentsHash: r.commitmentsHash };
    const members = r.roster;
    expect(members.map((m) => toHex(m.pid))).to.deep.equal([toHex(w.user.pid), ...r.members.map((m) => toHex(m.pid))]);
    expect(members[0].pk.equals(w.user.pk)).to.equal(true);
    const alice = new GroupParty("alice", w.user.pid, w.user.sk);
    const k = alice.acceptRekey(r.messages.get(toHex(w.user.pid))!, view, members);
    for (const n of [0, 2, 3])
      expect(toHex(w.rns[n].groupParty().acceptRekey(r.messages.get(toHex(pid(n)))!, view, members))).to.equal(toHex(k));
    w.msrp.commitRekey(gid, r.epoch, r.members);
    expect(w.msrp.groupInfo(gid)).to.deep.equal({ user: "alice", members: r.members, epoch: 1 });
    // the next update is epoch 2; an RN is not evicted and re-added in one update (h11-red2 G1: the
    // update would hand the evicted RN its key, under a rotated PID the chain cannot tell)
    expect(() => w.msrp.rekeyGroup(gid, [pid(0)], ["rn0"])).to.throw(AgentStateError, /^rekeyGroup: RN "rn0" is evicted by this update$/);
    const r2 = w.msrp.rekeyGroup(gid, [pid(0)], []);
    expect(r2.epoch).to.equal(2);
    expect(r2.members.map((m) => m.name)).to.deep.equal(["rn2", "rn3"]);
  });

  it("rekeyGroup seals to a recorded member's registered key even if it has not joined; an unknown member is refused", () => {
    const w = groupWorld();
    const gid = w.gid(7);
    w.msrp.commitGroup(gid, "alice", [{ name: "rn4", pid: w.c4.pid }]);
    const r = w.msrp.rekeyGroup(gid, [], []);
    const rn4 = new GroupParty("rn4", w.c4.pid, rnGroupSecret(w.c4.sk, w.c4.pid));
    const view = { epoch: 1, Q: r.Q, commitmentsHash: r.commitmentsHash };
    expect(rn4.acceptRekey(r.messages.get(toHex(w.c4.pid))!, view, r.roster)).to.have.length(32);
    expect(r.roster[1].pk.equals(mulBase(rnGroupSecret(w.c4.sk, w.c4.pid)))).to.equal(true);
    w.msrp.commitGroup(w.gid(8), "alice", [{ name: "ghost", pid: H6("ghost", 1n) }]);
    expectThrows(() => w.msrp.rekeyGroup(w.gid(8), [], []), AgentStateError, "AGENT_STATE", /^unknown RN ghost$/);
  });

  it("loads follow every commit (a group committed again, a rekey) and a restored keystore; the least busy RN comes first whatever order its load arose in", () => {
    const w = groupWorld();
    // the allocation's order (the roster lists them by PID: dealt checks it)
    const names = (size: number, m = w.msrp) => {
      dealt(m.requestGroup("alice", size));
      return ["alice", ...m.allocate(size)];
    };
    w.form(1, 1); // rn0
    w.form(2, 3); // rn1, rn2, rn3: every joined RN has load 1
    // group 1 committed again without members: rn0 is back at load 0, a load that appears after load 1
    w.msrp.commitGroup(w.gid(1), "alice", []);
    expect(names(1)).to.deep.equal(["alice", "rn0"]);
    // a restored MSRP counts the same loads, and only the joined RNs (rn4 is registered only)
    const restored = w.restored();
    expect(names(1, restored)).to.deep.equal(["alice", "rn0"]);
    expectThrows(
      () => restored.requestGroup("alice", 5),
      AgentStateError,
      "AGENT_STATE",
      /^requestGroup: 5 RNs requested, only 4 have joined a pool and are not suspicious$/,
    );
    w.form(3, 1); // rn0
    w.form(4, 1); // rn0 again (ties by name): loads rn0 2, rn1 1, rn2 1, rn3 1
    // a rekey of group 2 that evicts rn1 leaves rn2 and rn3 at load 1
    const r = w.msrp.rekeyGroup(w.gid(2), [w.rns[1].state.pid], []);
    w.msrp.commitRekey(w.gid(2), r.epoch, r.members);
    expect(names(2)).to.deep.equal(["alice", "rn2", "rn3"]);
    expect(names(3)).to.deep.equal(["alice", "rn2", "rn3", "rn0"]);
  });

  it("S_RN: flagRn adds an RN once (also one that has not joined), suspiciousRns lists it sorted, clearSuspicious takes out that RN only; allocation follows", () => {
    const w = groupWorld();
    const pid = (n: number) => w.rns[n].state.pid;
    expect(w.msrp.suspiciousRns()).to.deep.equal([]);
    expect(w.msrp.flagRn(w.c4.pid)).to.equal("rn4"); // registered, never joined: not eligible anyway
    expect(w.msrp.suspiciousRns()).to.deep.equal(["rn4"]);
    expect(dealt(w.msrp.requestGroup("alice", 4))).to.deep.equal(["alice", "rn0", "rn1", "rn2", "rn3"]);
    expect(w.msrp.flagRn(pid(3))).to.equal("rn3");
    expect(w.msrp.flagRn(pid(3))).to.equal("rn3"); // a second flag changes nothing
    expect(w.msrp.suspiciousRns()).to.deep.equal(["rn3", "rn4"]);
    expectThrows(
      () => w.msrp.requestGroup("alice", 4),
      AgentStateError,
      "AGENT_STATE",
      /^requestGroup: 4 RNs requested, only 3 have joined a pool and are not suspicious$/,
    );
    w.msrp.clearSuspicious("rn4");
    expect(w.msrp.suspiciousRns()).to.deep.equal(["rn3"]);
    w.msrp.clearSuspicious("rn3");
    expect(w.msrp.suspiciousRns()).to.deep.equal([]);
    expect(dealt(w.msrp.requestGroup("alice", 4))).to.deep.equal(["alice", "rn0", "rn1", "rn2", "rn3"]);
  });
});

describe("rsms/rn: a reply or a chain record moves the RN only for the step it waits for", () => {
  const stale = (fn: string, rn: ResourceNode, joined: boolean) =>
    new RegExp(
      `^${fn}: ${rn.state.name} is at PID_${rn.state.k}${joined ? ", joined" : ""}: this reply is for a step it already took or never started$`,
    );

  it("acceptJoinReply: a reply for the secret it held before a renewal, for another PID or for a re-authentication is REPLAYED_REPLY; nothing changes", () => {
    const w = offlineWorld();
    const rn = w.rns[0];
    const p = w.at(1);
    const { request, pending } = rn.buildJoinRequest(p.info);
    const reply = p.rpm.joinReply(p.rpm.openJoinRequest(request));
    const before = rn.state;
    // the reply itself is the right one (A = a*P): only the pending it is matched with differs
    for (const bad of [
      { ...pending, kind: "reauth" as const },
      { ...pending, pid: H6(pending.pid, 1n) },
    ]) {
      rejectedAs(() => rn.acceptJoinReply(reply, bad), "REPLAYED_REPLY", stale("acceptJoinReply", rn, false));
      expect(rn.state).to.deep.equal(before);
    }
    // the secret is renewed while the request is in flight: its reply is for a secret the RN no longer holds
    rn.acceptRenewal(w.msrp.renewRn(rn.renewalRequest()));
    const renewed = rn.state;
    expect(renewed.a).to.not.equal(pending.a);
    rejectedAs(() => rn.acceptJoinReply(reply, pending), "REPLAYED_REPLY", stale("acceptJoinReply", rn, false));
    expect(rn.state).to.deep.equal(renewed);
    // the request built with the renewed secret is answered
    const again = rn.buildJoinRequest(p.info);
    rn.acceptJoinReply(encodeJoinReply({ A: mulBase(renewed.a) }), again.pending);
    expect([rn.state.joined, rn.state.pool, rn.state.k]).to.deep.equal([true, 1, 0]);
    // once joined, even its own reply again is stale, and the message says the RN joined
    rejectedAs(
      () => rn.acceptJoinReply(encodeJoinReply({ A: mulBase(renewed.a) }), again.pending),
      "REPLAYED_REPLY",
      stale("acceptJoinReply", rn, true),
    );
    // and a joined RN neither asks for a renewal nor takes one: its secret no longer expires
    const joined = rn.state;
    rejectedAs(
      () => rn.renewalRequest(),
      "INVALID_STATE",
      new RegExp(`^renewalRequest: ${rn.state.name} already joined; its secret no longer expires$`),
    );
    rejectedAs(
      () => rn.acceptRenewal(new Uint8Array(100)),
      "INVALID_STATE",
      new RegExp(`^acceptRenewal: ${rn.state.name} already joined$`),
    );
    expect(rn.state).to.deep.equal(joined);
  });

  it("acceptReauthReply: only the re-authentication the joined RN would build now (kind, a_{k+1} and PID_{k+1} all its own) moves it", () => {
    const w = offlineWorld();
    const rn = w.rns[1];
    // an RN that has not joined takes no re-authentication reply, even for its own next step
    const a1 = H4(rn.state.a, rn.state.sk);
    const own = { poolId: 2, a: a1, pid: H6(rn.state.pid, a1), kind: "reauth" as const };
    const unjoined = rn.state;
    rejectedAs(
      () => rn.acceptReauthReply(encodeReauthReply({ A: mulBase(a1) }), own),
      "REPLAYED_REPLY",
      stale("acceptReauthReply", rn, false),
    );
    expect(rn.state).to.deep.equal(unjoined);
    w.join(rn);
    const { forward, reply, pending } = w.reauthForward(rn, 2);
    w.msrp.commitJoin(w.msrp.verifyReauth(forward));
    const joined = rn.state;
    const otherA = pending.a + 1n;
    for (const [bad, A] of [
      [{ ...pending, kind: "join" as const }, mulBase(pending.a)],
      [{ ...pending, pid: H6(pending.pid, 1n) }, mulBase(pending.a)],
      [{ ...pending, a: otherA }, mulBase(otherA)],
    ] as const) {
      rejectedAs(() => rn.acceptReauthReply(encodeReauthReply({ A }), bad), "REPLAYED_REPLY", stale("acceptReauthReply", rn, false));
      expect(rn.state).to.deep.equal(joined);
    }
    rejectedAs(
      () => rn.acceptReauthReply(encodeReauthReply({ A: mulBase(otherA) }), pending),
      "RPM_AUTHENTICATION_FAILED",
      /^acceptReauthReply: A != a\*P: the responder for pool 2 is not its RPM$/,
    );
    expect(rn.state).to.deep.equal(joined);
    rn.acceptReauthReply(reply, pending);
    expect(rn.state).to.deep.equal({ ...joined, a: pending.a, pid: pending.pid, k: 1, joined: true, pool: 2, past: [joined.pid] });
  });

  it("adoptRecorded: a lost join reply is recovered from the chain's record of its PID and H4(a), and only that", () => {
    const w = offlineWorld();
    const rn = w.rns[0];
    const { pending } = rn.buildJoinRequest(w.at(1).info);
    const before = rn.state;
    const recorded = { tag: tagOf(pending.a), poolId: 1 };
    expect(rn.adoptRecorded(pending, { tag: tagOf(pending.a + 1n), poolId: 1 })).to.equal(false); // not this secret's record
    expect(rn.adoptRecorded({ ...pending, pid: H6(pending.pid, 1n) }, recorded)).to.equal(false); // not this RN's PID
    expect(rn.state).to.deep.equal(before);
    expect(rn.adoptRecorded(pending, recorded)).to.equal(true);
    expect(rn.state).to.deep.equal({ ...before, joined: true, pool: 1 });
    // once joined, the same record moves it no more
    const joined = rn.state;
    expect(rn.adoptRecorded(pending, recorded)).to.equal(false);
    expect(rn.state).to.deep.equal(joined);
  });

  it("adoptRecorded: a join pending from before a renewal is not adopted, even with its record", () => {
    const w = offlineWorld();
    const rn = w.rns[1];
    const { pending } = rn.buildJoinRequest(w.at(1).info);
    rn.acceptRenewal(w.msrp.renewRn(rn.renewalRequest()));
    const renewed = rn.state;
    expect(rn.adoptRecorded(pending, { tag: tagOf(pending.a), poolId: 1 })).to.equal(false);
    expect(rn.state).to.deep.equal(renewed);
  });

  it("adoptRecorded: a lost re-authentication reply is recovered for the RN's own next step only", () => {
    const w = offlineWorld();
    const rn = w.rns[2];
    w.join(rn);
    const { pending } = w.reauthForward(rn, 1);
    const joined = rn.state;
    const recorded = { tag: tagOf(pending.a), poolId: 1 };
    for (const bad of [
      { ...pending, kind: "join" as const },
      { ...pending, pid: H6(pending.pid, 1n) },
    ]) {
      expect(rn.adoptRecorded(bad, recorded)).to.equal(false);
      expect(rn.state).to.deep.equal(joined);
    }
    expect(rn.adoptRecorded(pending, recorded)).to.equal(true);
    expect(rn.state).to.deep.equal({ ...joined, a: pending.a, pid: pending.pid, k: 1, pool: 1, past: [joined.pid] }); // the PID it left is kept (h15-red H6)
    // the step is taken: the same record is now a step back
    expect(rn.adoptRecorded(pending, recorded)).to.equal(false);
    expect(rn.state.k).to.equal(1);
  });
});

describe("rsms/msrp: a secret's lifetime (verifyJoin's TTL) and its renewal (renewRn)", () => {
  const issuedAt = (w: ReturnType<typeof offlineWorld>, name: string) => (w.msrp.toRecord() as MsrpRecord).rns[name].issuedAt!;
  const forwardOf = (w: ReturnType<typeof offlineWorld>, rn: ResourceNode) => {
    const p = w.at(rn.state.homePool);
    return p.rpm.forwardJoin(p.rpm.openJoinRequest(rn.buildJoinRequest(p.info).request));
  };
  const expired = (pid: Uint8Array, at: number, ttl: number, now: number) =>
    new RegExp(`^verifyJoin: the secret of ${toHex(pid)} was issued at ${at}, more than ${ttl} s before ${now}: renew it$`);

  it("a secret serves joins for ttlSec after its issue, then it is SECRET_EXPIRED and nothing changes", () => {
    const w = offlineWorld({ capacity: 16, lambda: 10, intervalSec: 100, ttlSec: 50 });
    const rn = w.rns[0];
    const t = issuedAt(w, "rn0");
    const fwd = forwardOf(w, rn);
    const before = w.snapshot();
    expect(w.msrp.verifyJoin(fwd, t + 50).rn).to.equal("rn0");
    rejectedAs(() => w.msrp.verifyJoin(fwd, t + 51), "SECRET_EXPIRED", expired(rn.state.pid, t, 50, t + 51));
    expect(w.snapshot()).to.equal(before);
    // a record written before secrets had an issue time: its secret never expires
    const old = w.msrp.toRecord() as MsrpRecord;
    delete old.rns.rn0.issuedAt;
    expect(Msrp.fromRecord(JSON.parse(JSON.stringify(old)) as MsrpRecord).verifyJoin(fwd, t + 10 ** 9).rn).to.equal("rn0");
  });

  it("without ttlSec in the policy, a secret lives 7 days", () => {
    const w = offlineWorld();
    const rn = w.rns[1];
    const t = issuedAt(w, "rn1");
    const fwd = forwardOf(w, rn);
    expect(w.msrp.verifyJoin(fwd, t + 7 * 24 * 3600).rn).to.equal("rn1");
    rejectedAs(() => w.msrp.verifyJoin(fwd, t + 7 * 24 * 3600 + 1), "SECRET_EXPIRED", expired(rn.state.pid, t, 604800, t + 604801));
  });

  it("renewRn: a fresh secret, sealed to the RN for its PID and old secret, in the home pool's pending filter beside the RNs already waiting; issued now, and the old secret is refused", () => {
    const w = offlineWorld({ capacity: 16, lambda: 10, intervalSec: 100, ttlSec: 50 });
    const rn = w.rns[0];
    const oldForward = forwardOf(w, rn);
    const waiting = w.msrp.registerRn("late", Msrp.registrationRequest(w.msrp.params.pkPub, Role.RN, 1, "rid-late"), 1000);
    const T = 5000;
    const req = rn.renewalRequest();
    const sealed = w.msrp.renewRn(req, T);
    // only the RN opens it, bound to its PID and the secret it replaces
    const pk = encodePoint(rn.publicKey);
    expect(() => eciesDecrypt(rn.state.sk, sealed, AAD.renewal(H6("other", 1n), tagOf(rn.state.a)), pk)).to.throw(DecryptionError);
    expect(() => eciesDecrypt(rn.state.sk, sealed, AAD.renewal(rn.state.pid, tagOf(rn.state.a + 1n)), pk)).to.throw(DecryptionError);
    rn.acceptRenewal(sealed);
    const fresh = rn.state.a;
    expect(w.msrp.pendingCount(1)).to.equal(2);
    const { filter, openedAt } = w.msrp.takeFilter(1);
    expect([filter.check(encodeScalar(waiting.a)), filter.check(encodeScalar(fresh)), openedAt]).to.deep.equal([true, true, 1000]);
    w.at(1).rpm.addFilter(1, filter.serialize(), filter.root());
    // the fresh secret is issued at T: it serves joins until T + ttlSec
    const fwd = forwardOf(w, rn);
    expect(w.msrp.verifyJoin(fwd, T + 50).recordedA).to.equal(fresh);
    rejectedAs(() => w.msrp.verifyJoin(fwd, T + 51), "SECRET_EXPIRED", expired(rn.state.pid, T, 50, T + 51));
    rejected(() => w.msrp.verifyJoin(oldForward, T), /^verifyJoin: a' is not the secret issued for this PID/);
    // a renewal with no filter pending opens one at that time
    const other = w.rns[1];
    other.acceptRenewal(w.msrp.renewRn(other.renewalRequest(), T + 7));
    const opened = w.msrp.takeFilter(1);
    expect([opened.filter.count, opened.openedAt, opened.filter.check(encodeScalar(other.state.a))]).to.deep.equal([1, T + 7, true]);
  });

  it("renewRn refuses a PID that is not an RN's current one, a joined RN, and a request not signed by the RN for its current secret; nothing changes", () => {
    const w = offlineWorld();
    const [rn0, rn1, rn2] = w.rns;
    const pid0 = rn1.state.pid;
    w.join(rn1);
    w.reauth(rn1, 2); // rn1's PID_0 is an old pseudonym now
    w.join(rn2);
    const replayed = rn0.renewalRequest();
    rn0.acceptRenewal(w.msrp.renewRn(replayed));
    const before = w.snapshot();
    const notCurrent = (pid: Uint8Array) => new RegExp(`^renewRn: ${toHex(pid)} is not a current RN pseudonym$`);
    for (const pid of [H6("nobody", 1n), w.at(1).creds.pid, pid0])
      rejected(() => w.msrp.renewRn({ ...rn0.renewalRequest(), pid }), notCurrent(pid));
    rejectedAs(
      // signed by rn2 for its current secret: only its having joined is wrong
      () => w.msrp.renewRn({ pid: rn2.state.pid, sig: schnorrSign(rn2.state.sk, RENEW_DST, concat(rn2.state.pid, tagOf(rn2.state.a))) }),
      "INVALID_STATE",
      new RegExp(`^renewRn: ${toHex(rn2.state.pid)} already joined: it re-authenticates instead$`),
    );
    const unsigned = (pid: Uint8Array) =>
      new RegExp(`^renewRn: the request is not signed by the RN of ${toHex(pid)} for its current secret$`);
    const impostor = new ResourceNode(w.msrp.params, { ...rn0.state, sk: randomScalar() });
    rejected(() => w.msrp.renewRn(impostor.renewalRequest()), unsigned(rn0.state.pid));
    // signed for the secret it replaced: the retry of that renewal (its reply lost), answered with the
    // same secret under the same binding and nothing drawn (s17-redB B10); rn0, which took it, cannot
    // open it again
    const again = w.msrp.renewRn(replayed);
    expect(() => rn0.acceptRenewal(again)).to.throw(DecryptionError);
    expect(w.snapshot()).to.equal(before);
  });

  it("renewRn defaults to the current time: a renewal with no filter pending opens one now; awaitsPublication is false for a pool with no filter pending", () => {
    const w = offlineWorld();
    const rn = w.rns[0];
    expect(w.msrp.awaitsPublication(1, rn.state.a)).to.equal(false); // its filter was taken
    expect(w.msrp.awaitsPublication(9, rn.state.a)).to.equal(false); // no such pool
    const t0 = Math.floor(Date.now() / 1000);
    rn.acceptRenewal(w.msrp.renewRn(rn.renewalRequest()));
    const t1 = Math.floor(Date.now() / 1000);
    expect(w.msrp.awaitsPublication(1, rn.state.a)).to.equal(true);
    const { openedAt } = w.msrp.takeFilter(1);
    expect(openedAt).to.be.within(t0, t1);
  });
});
