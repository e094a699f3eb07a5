/**
 * Red team s21-redr, finding F3 (severity M: off-chain and on-chain disagreeing; the RN stranded
 * behind a step the chain holds, every later move refused). Fixed.
 *
 * Attack: the RN asks pool 2 to re-authenticate it. Pool 2's RPM opens the request (it learns
 * a_{k+1}, PID_k, PID_{k+1}, as any RPM does) and answers with a refusal (422), which the RN's client
 * takes as final: it drops its kept request and stays at PID_k. Later the RPM seals the request
 * again to pool 3's key and sends it to pool 3's RPM as the RN; the MSRP records PID_{k+1} at pool 3
 * (the exact check passes). The RN's record says PID_k at pool 1 and holds no request for the step;
 * the chain and the MSRP say PID_{k+1} at pool 3. Every re-authentication the RN builds from PID_k
 * (the same PID_{k+1}: a_{k+1} = H4(a_k, sk_RN) is deterministic) is refused NEXT_PID_RECORDED at
 * every pool but 3, and nothing in the client takes the step from the chain (it does so only for a
 * request it still keeps).
 *
 * Holds now (clients.ts stepRemote): before a refusal for good drops the RN's request, the client
 * reads the chain for the step; a step it holds is taken from there, at the chain's pool
 * (RECORDED_ELSEWHERE when that is not the pool asked), as for a kept request. Bites: without that
 * read the test fails "the RN's record: ... expected [ 0, 1 ] to deeply equal [ 1, 3 ]".
 */
import { expect } from "chai";
import { rsmsServices } from "../helpers/rsms-services";
import { concat, xor } from "../../offchain/crypto/bytes";
import { encodeScalar, mul, mulBase, randomScalar } from "../../offchain/crypto/group";
import { H3 } from "../../offchain/crypto/hash";
import { encodeReauthRequest } from "../../offchain/rsms/messages";
import { poolEncryptionKey } from "../../offchain/rsms/params";
import { RsmsRejectedError } from "../../offchain/rsms/errors";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import type { ResourcePoolManager } from "../../offchain/rsms/rpm";

type Opened = ReturnType<ResourcePoolManager["openReauthRequest"]>;
type Env = ReturnType<typeof openEnvelope>;
type Svc = { rpm: ResourcePoolManager; serveReauth: (env: Env, raw: Uint8Array, opened: Opened) => Promise<Uint8Array> };

describe("services/rsms red team s21-redr F3: a step recorded after the RN's request was refused", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  before(async () => {
    s = await rsmsServices({ pools: [1, 2, 3] });
    await registerRnRemote({ msrpUrl: s.msrpUrl, name: "v", poolId: 1, rid: "rn:v", token: s.enrol("v"), keystore: s.client, dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    await joinRemote({ name: "v", poolId: 1, keystore: s.client, dep: s.dep });
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  it("the RN is not left at PID_0 while the chain records its PID_1 at pool 3: its next run takes the step from the chain", async () => {
    const svc = s.rpms.get(2)!.svc as unknown as Svc;
    const honest = svc.serveReauth;
    let kept: Opened | undefined;
    svc.serveReauth = async (_env, _raw, opened) => {
      kept = opened;
      throw new RsmsRejectedError("MSRP_REJECTED", "reauth: the MSRP refused the forward (a lie)");
    };
    const first = await reauthRemote({ name: "v", poolId: 2, keystore: s.client, dep: s.dep }).then(
      () => "no error",
      (e: Error) => e.message,
    );
    svc.serveReauth = honest;
    expect(first).to.match(/422 MSRP_REJECTED/);
    expect(s.client.exists("rsms-rn-v-join"), "the refused request is dropped").to.equal(false);
    // later: the request, sealed again to pool 3, sent there as the RN
    const target = (await s.dep.ledger.pool(3))!;
    const w = randomScalar();
    const W = mulBase(w);
    const body = encodeReauthRequest({
      c1: mul(poolEncryptionKey(svc.rpm.params, target.pkRpm, target.pidRpm), w),
      c2: xor(H3(64, W, kept!.pid), concat(kept!.claimedTag, encodeScalar(kept!.nextA))),
      pid: kept!.pid,
      nextPid: kept!.nextPid,
    });
    const env = sealEnvelope(
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
    await postEnvelope(s.rpms.get(3)!.url, "/v1/reauth", env);
    expect([(await s.dep.ledger.recordOf(kept!.nextPid)).kind, (await s.dep.ledger.recordOf(kept!.nextPid)).poolId]).to.deep.equal([2, 3]);
    // the RN's next run, to pool 2 (honest now): refused NEXT_PID_RECORDED; the client takes the step from the chain
    const second = await reauthRemote({ name: "v", poolId: 2, keystore: s.client, dep: s.dep }).then(
      () => "no error",
      (e: unknown) => (e instanceof RsmsRejectedError ? e.reason : String(e)),
    );
    expect(second).to.equal("RECORDED_ELSEWHERE");
    expect(s.client.exists("rsms-rn-v-join")).to.equal(false);
    const rn = loadRemoteRn(s.client, "v")!;
    expect([rn.state.k, rn.state.pool], "the RN's record: the step the chain holds, at its pool").to.deep.equal([1, 3]);
    // and it goes on from there: a move to pool 2 succeeds
    const r = await reauthRemote({ name: "v", poolId: 2, keystore: s.client, dep: s.dep });
    expect([r.rn.state.k, r.rn.state.pool]).to.deep.equal([2, 2]);
  });
});
