/**
 * Red team s21-redr, finding F1 (severity M: off-chain and on-chain disagreeing; fixed: the RN's
 * client checks the pool of the chain's record, and seals a join only to its home pool).
 *
 * Attack: the RN asks pool 2 to re-authenticate it. Pool 2's RPM is malicious. It opens the request
 * as any RPM does (it learns W, H4(a_k), a_{k+1}, PID_k, PID_{k+1}), seals the same contents again to
 * pool 3's public key Z_3 (public, on-chain) and sends that request to pool 3's honest RPM as if it
 * were the RN (the RN->RPM envelope is unsigned). RPM_3 forwards it, the MSRP's exact check passes
 * (a_{k+1} = H4(a_k, sk_RN) is genuine) and the chain records PID_{k+1} at pool 3. RPM_2 then answers
 * the RN A_{k+1} = a_{k+1}*P, which it can compute, in an envelope it signs for pool 2.
 *
 * Before the fix the RN's client took a reply once the chain held the step (s17-redB B3), checking
 * the record's kind and tag but not its pool: it moved to PID_{k+1} believing it was at pool 2 while
 * the chain (and the MSRP) said pool 3, and a later `rsms:reauth --to-pool 2` was refused on the RN's
 * own record ("already at pool 2"). The same for an initial join asked of a pool that is not the RN's
 * home pool: that pool's RPM opened a_{i,0} (the request is sealed to its key) and re-sealed it to the
 * home pool.
 *
 * Holds now (clients.ts stepRemote): a step the chain records at another pool than the one asked is
 * taken from the chain (the RN's record names the chain's pool) and the run fails RECORDED_ELSEWHERE,
 * naming both pools, on the reply path and on the resumed path; a join is sealed only to the RN's home
 * pool (INVALID_STATE before anything is sent, as the in-process `rsms:join` refuses). Bites: with
 * the pool check removed from stepRemote the first two cases fail ("the RN's record names the pool the
 * chain recorded: expected 2 to equal 3"); with the home-pool check removed the third fails (the join
 * is sent to pool 2's RPM).
 */
import { expect } from "chai";
import { rsmsServices } from "../helpers/rsms-services";
import { concat, xor } from "../../offchain/crypto/bytes";
import { encodeScalar, mul, mulBase, randomScalar } from "../../offchain/crypto/group";
import { H3 } from "../../offchain/crypto/hash";
import { encodeReauthRequest } from "../../offchain/rsms/messages";
import { poolEncryptionKey } from "../../offchain/rsms/params";
import { RsmsRejectedError } from "../../offchain/rsms/errors";
import { MetatrustError } from "../../offchain/errors";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import type { ResourcePoolManager } from "../../offchain/rsms/rpm";

type Opened = ReturnType<ResourcePoolManager["openReauthRequest"]>;
type OpenedJoin = ReturnType<ResourcePoolManager["openJoinRequest"]>;
type Env = ReturnType<typeof openEnvelope>;
type Svc = {
  rpm: ResourcePoolManager;
  serve: (env: Env, raw: Uint8Array, opened: OpenedJoin) => Promise<Uint8Array>;
  serveReauth: (env: Env, raw: Uint8Array, opened: Opened) => Promise<Uint8Array>;
  reply: (env: Env, raw: Uint8Array, body: Uint8Array) => Uint8Array;
};

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/rsms red team s21-redr F1: a malicious RPM redirects a step to another pool", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  before(async () => {
    s = await rsmsServices({ pools: [1, 2, 3] });
    for (const n of ["v", "u", "w"])
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: s.client, dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    for (const n of ["v", "u"]) await joinRemote({ name: n, poolId: 1, keystore: s.client, dep: s.dep });
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  /** Makes pool `from`'s RPM seal every re-authentication again to pool `to` and send it there; then answer it (or fail). */
  async function redirect(from: number, to: number, answer: boolean): Promise<() => void> {
    const svc = s.rpms.get(from)!.svc as unknown as Svc;
    const honest = svc.serveReauth;
    const target = (await s.dep.ledger.pool(to))!;
    svc.serveReauth = async (env, raw, opened) => {
      const w = randomScalar();
      const W = mulBase(w);
      const c1 = mul(poolEncryptionKey(svc.rpm.params, target.pkRpm, target.pidRpm), w);
      const c2 = xor(H3(64, W, opened.pid), concat(opened.claimedTag, encodeScalar(opened.nextA)));
      const body = encodeReauthRequest({ c1, c2, pid: opened.pid, nextPid: opened.nextPid });
      const relayed = sealEnvelope(
        {
          kind: Kind.Request,
          route: Route.Reauth,
          audience: audienceOf(s.dep.chainId, s.dep.registry, `rpm:${to}`),
          session: freshId(),
          requestId: freshId(),
          issuedAt: Date.now(),
          inReplyTo: new Uint8Array(32),
          body,
        },
        { scheme: Scheme.None },
      );
      await postEnvelope(s.rpms.get(to)!.url, "/v1/reauth", relayed);
      if (!answer) throw new MetatrustError("SERVICE_UNREACHABLE", "the malicious RPM does not answer");
      return svc.reply(env, raw, svc.rpm.reauthReply(opened));
    };
    return () => {
      svc.serveReauth = honest;
    };
  }

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => "no error",
      (e: unknown) => (e instanceof RsmsRejectedError ? `${e.reason}: ${e.message}` : String(e)),
    );

  it("a reply for a step the chain records at another pool: the RN takes the chain's pool and the run fails RECORDED_ELSEWHERE; it then moves where it asked", async () => {
    const restore = await redirect(2, 3, true);
    const err = await failure(reauthRemote({ name: "v", poolId: 2, keystore: s.client, dep: s.dep }));
    restore();
    const rn = loadRemoteRn(s.client, "v")!;
    const onChain = await s.dep.ledger.recordOf(rn.state.pid);
    expect([onChain.kind, onChain.poolId], "the chain's record of PID_1").to.deep.equal([2, 3]);
    expect(rn.state.k, "the RN took the step the chain holds").to.equal(1);
    expect(rn.state.pool, "the RN's record names the pool the chain recorded").to.equal(onChain.poolId);
    expect(err).to.match(
      /^RECORDED_ELSEWHERE: reauthRemote: the chain records PID 0x[0-9a-f]{64} at pool 3, not at pool 2, which "v" asked/,
    );
    expect(s.client.exists("rsms-rn-v-join"), "no request left pending").to.equal(false);
    // not stranded: with pool 2's RPM honest again, the RN moves there as PID_2
    const r = await reauthRemote({ name: "v", poolId: 2, keystore: s.client, dep: s.dep });
    expect([r.rn.state.k, r.rn.state.pool]).to.deep.equal([2, 2]);
    expect((await s.dep.ledger.recordOf(r.rn.state.pid)).poolId).to.equal(2);
  });

  it("the same when the malicious RPM does not answer and the RN resumes its kept request: taken from the chain at its pool, RECORDED_ELSEWHERE", async () => {
    const restore = await redirect(2, 3, false);
    const first = await failure(reauthRemote({ name: "u", poolId: 2, keystore: s.client, dep: s.dep, retry: once }));
    restore();
    expect(first, "the first run fails without a reply").to.not.equal("no error");
    expect(s.client.exists("rsms-rn-u-join"), "the request is kept").to.equal(true);
    expect(loadRemoteRn(s.client, "u")!.state.k).to.equal(0);
    const err = await failure(reauthRemote({ name: "u", poolId: 2, keystore: s.client, dep: s.dep }));
    const rn = loadRemoteRn(s.client, "u")!;
    const onChain = await s.dep.ledger.recordOf(rn.state.pid);
    expect([rn.state.k, onChain.kind, onChain.poolId]).to.deep.equal([1, 2, 3]);
    expect(rn.state.pool, "the RN's record names the pool the chain recorded").to.equal(onChain.poolId);
    expect(err).to.match(
      /^RECORDED_ELSEWHERE: reauthRemote: the chain records PID 0x[0-9a-f]{64} at pool 3, not at pool 2, which "u" asked/,
    );
    expect(s.client.exists("rsms-rn-u-join")).to.equal(false);
  });

  it("an initial join is sealed only to the RN's home pool: asked of pool 2, refused before anything is sent; then it joins pool 1", async () => {
    const svc = s.rpms.get(2)!.svc as unknown as Svc;
    const honest = svc.serve;
    let opened = 0;
    svc.serve = async (env, raw, o) => {
      opened++;
      return honest.call(svc, env, raw, o);
    };
    const err = await failure(joinRemote({ name: "w", poolId: 2, keystore: s.client, dep: s.dep }));
    svc.serve = honest;
    expect(err).to.equal('INVALID_STATE: joinRemote: --pool 2: "w" registered for pool 1; it joins there first');
    expect(opened, "join requests pool 2's RPM opened").to.equal(0);
    const rn = loadRemoteRn(s.client, "w")!;
    expect(rn.state.joined).to.equal(false);
    expect(await s.dep.ledger.isPidRecorded(rn.state.pid)).to.equal(false);
    expect(s.client.exists("rsms-rn-w-join")).to.equal(false);
    const r = await joinRemote({ name: "w", poolId: 1, keystore: s.client, dep: s.dep });
    expect([r.rn.state.joined, r.rn.state.pool]).to.deep.equal([true, 1]);
  });
});
