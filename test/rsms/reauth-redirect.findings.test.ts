/**
 * Red team s21-redr, finding F1 (severity M: off-chain and on-chain disagreeing; an RN moved where it
 * did not ask to go, and stranded there by its own record).
 *
 * Attack: the RN asks pool 2 to re-authenticate it. Pool 2's RPM is malicious. It opens the request
 * as any RPM does (it learns W, H4(a_k), a_{k+1}, PID_k, PID_{k+1}), seals the same contents again to
 * pool 3's public key Z_3 (public, on-chain) and sends that request to pool 3's honest RPM as if it
 * were the RN (the RN->RPM envelope is unsigned). RPM_3 forwards it, the MSRP's exact check passes
 * (a_{k+1} = H4(a_k, sk_RN) is genuine) and the chain records PID_{k+1} at pool 3. RPM_2 then answers
 * the RN A_{k+1} = a_{k+1}*P, which it can compute, in an envelope it signs for pool 2.
 *
 * The RN's client takes a reply only once the chain holds the step (s17-redB B3), but it checks the
 * record's kind and tag, not its pool: it moves to PID_{k+1} believing it is at pool 2 while the
 * chain (and the MSRP) say pool 3. A later `rsms:reauth --to-pool 2` is then refused on the RN's own
 * record ("already at pool 2"), and the RN never learns where it is.
 *
 * The same for an initial join the RN asks of a pool that is not its home pool: that pool's RPM opens
 * a_{i,0} (the request is sealed to its key), re-seals it to the home pool, whose RPM forwards it; the
 * chain records the join at the home pool and the RN's record says the pool it asked.
 *
 * Must hold when fixed: the RN takes a step only if the chain records it at the pool the RN asked
 * for; a record at another pool is the chain's word, which the RN adopts (its record says pool 3, as
 * the chain does), and it says so instead of reporting a move to pool 2.
 */
import { expect } from "chai";
import { rsmsServices } from "../helpers/rsms-services";
import { concat, xor } from "../../offchain/crypto/bytes";
import { encodeScalar, mul, mulBase, randomScalar } from "../../offchain/crypto/group";
import { H3 } from "../../offchain/crypto/hash";
import { encodeJoinRequest, encodeReauthRequest } from "../../offchain/rsms/messages";
import { poolEncryptionKey } from "../../offchain/rsms/params";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import type { ResourcePoolManager } from "../../offchain/rsms/rpm";

type Opened = ReturnType<ResourcePoolManager["openReauthRequest"]>;
type OpenedJoin = ReturnType<ResourcePoolManager["openJoinRequest"]>;
type Svc = {
  rpm: ResourcePoolManager;
  serve: (env: ReturnType<typeof openEnvelope>, raw: Uint8Array, opened: OpenedJoin) => Promise<Uint8Array>;
  serveReauth: (env: ReturnType<typeof openEnvelope>, raw: Uint8Array, opened: Opened) => Promise<Uint8Array>;
  reply: (env: ReturnType<typeof openEnvelope>, raw: Uint8Array, body: Uint8Array) => Uint8Array;
};

describe("services/rsms red team s21-redr F1: a malicious RPM redirects a re-authentication to another pool", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  before(async () => {
    s = await rsmsServices({ pools: [1, 2, 3] });
    for (const n of ["v", "w"])
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: s.client, dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    await joinRemote({ name: "v", poolId: 1, keystore: s.client, dep: s.dep });
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  it("the RN does not report a move to pool 2 while the chain records its PID_{k+1} at pool 3", async () => {
    const rpm2 = s.rpms.get(2)!.svc as unknown as Svc;
    const pool3 = (await s.dep.ledger.pool(3))!;
    const url3 = s.rpms.get(3)!.url;
    // the malicious RPM_2: the RN's request sealed again to pool 3, sent there as the RN, then answered itself
    rpm2.serveReauth = async (env, raw, opened) => {
      const w = randomScalar();
      const W = mulBase(w);
      const c1 = mul(poolEncryptionKey(rpm2.rpm.params, pool3.pkRpm, pool3.pidRpm), w);
      const c2 = xor(H3(64, W, opened.pid), concat(opened.claimedTag, encodeScalar(opened.nextA)));
      const body = encodeReauthRequest({ c1, c2, pid: opened.pid, nextPid: opened.nextPid });
      const relayed = sealEnvelope(
        {
          kind: Kind.Request,
          route: Route.Reauth,
          audience: audienceOf(s.dep.chainId, s.dep.registry, "rpm:3"),
          session: freshId(),
          requestId: freshId(),
          issuedAt: Date.now(),
          inReplyTo: new Uint8Array(32),
          body,
        },
        { scheme: Scheme.None },
      );
      await postEnvelope(url3, "/v1/reauth", relayed);
      return rpm2.reply(env, raw, rpm2.rpm.reauthReply(opened));
    };
    const r = await reauthRemote({ name: "v", poolId: 2, keystore: s.client, dep: s.dep }).then(
      (x) => x,
      (e: unknown) => e as Error,
    );
    const rn = loadRemoteRn(s.client, "v")!;
    const onChain = await s.dep.ledger.recordOf(rn.state.pid);
    // the attack worked on the chain: PID_{k+1} is recorded, at pool 3 (the MSRP's exact check passed)
    expect(rn.state.k, "the RN took the step the chain holds").to.equal(1);
    expect([onChain.kind, onChain.poolId], "the chain's record of PID_1").to.deep.equal([2, 3]);
    // the defence: the RN's record says where the chain put it, and it did not report a move to pool 2
    expect(rn.state.pool, "the RN's record names the pool the chain recorded").to.equal(onChain.poolId);
    expect(r instanceof Error ? "" : `moved to pool ${r.rn.state.pool}`, "a move to pool 2 reported").to.not.equal("moved to pool 2");
  });

  it("the same for an initial join asked of a pool that is not the RN's home: pool 2's RPM re-seals it to the home pool 1", async () => {
    const rpm2 = s.rpms.get(2)!.svc as unknown as Svc;
    const pool1 = (await s.dep.ledger.pool(1))!;
    const url1 = s.rpms.get(1)!.url;
    rpm2.serve = async (env, raw, opened) => {
      const u = randomScalar();
      const c1 = mul(poolEncryptionKey(rpm2.rpm.params, pool1.pkRpm, pool1.pidRpm), u);
      const c2 = xor(H3(32, mulBase(u), opened.pid), encodeScalar(opened.a));
      const body = encodeJoinRequest({ c1, c2, pid: opened.pid });
      const relayed = sealEnvelope(
        {
          kind: Kind.Request,
          route: Route.Join,
          audience: audienceOf(s.dep.chainId, s.dep.registry, "rpm:1"),
          session: freshId(),
          requestId: freshId(),
          issuedAt: Date.now(),
          inReplyTo: new Uint8Array(32),
          body,
        },
        { scheme: Scheme.None },
      );
      await postEnvelope(url1, "/v1/join", relayed);
      return rpm2.reply(env, raw, rpm2.rpm.joinReply(opened));
    };
    const r = await joinRemote({ name: "w", poolId: 2, keystore: s.client, dep: s.dep }).then(
      (x) => x,
      (e: unknown) => e as Error,
    );
    const rn = loadRemoteRn(s.client, "w")!;
    const onChain = await s.dep.ledger.recordOf(rn.state.pid);
    expect([onChain.kind, onChain.poolId], "the chain's record of PID_0").to.deep.equal([1, 1]);
    expect(rn.state.joined, "the RN took the join the chain holds").to.equal(true);
    expect(rn.state.pool, "the RN's record names the pool the chain recorded").to.equal(onChain.poolId);
    expect(r instanceof Error ? "" : `joined pool ${r.rn.state.pool}`, "a join of pool 2 reported").to.not.equal("joined pool 2");
  });
});
