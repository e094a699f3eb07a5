/**
 * Red team s21-redr, finding F2 (severity L: a rejected input changes state that a genuine request
 * then uses; costs the RN a failed run, records nothing wrong). Fixed: rpm-service.ts
 * storedOrNewForward resends a kept re-authentication forward only for the same PID_{k+1}.
 *
 * Attack: a network attacker rewrites PID_{k+1} of an RN's re-authentication request (the one field
 * c2's mask does not cover) while the RPM cannot reach the MSRP. The RPM opens the request (the
 * secret parts are intact), builds a forward for the rewritten PID_{k+1} and keeps it on disk under
 * the request's tag H4(a_{k+1}) (`forwards/<tag>.bin`, for a resend after a lost answer). The RN's own,
 * genuine request for the same step comes next (same a_{k+1}, so the same tag): the RPM resends the
 * kept forward, which names the attacker's PID_{k+1}; the MSRP refuses it and the RN's run fails
 * MSRP_REJECTED, for a request nobody tampered with.
 *
 * Holds now: a kept forward is resent only for the very request it was built from (here: the same
 * PID_{k+1}); the genuine request is forwarded as itself and the RN moves. Bites: without the PID
 * check in storedOrNewForward the genuine run fails "422 MSRP_REJECTED ... is not the next pseudonym
 * of any joined RN".
 */
import { expect } from "chai";
import { rsmsServices } from "../helpers/rsms-services";
import { decodeReauthRequest, encodeReauthRequest } from "../../offchain/rsms/messages";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { Kind, Route, Scheme, audienceOf, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import { poolInfo } from "../../offchain/rsms/flows";
import { randomBytes } from "@noble/hashes/utils.js";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/rsms red team s21-redr F2: a tampered re-authentication's kept forward is not resent for the genuine one", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  before(async () => {
    s = await rsmsServices({ pools: [1, 2], msrpRetry: once });
    await registerRnRemote({ msrpUrl: s.msrpUrl, name: "v", poolId: 1, rid: "rn:v", token: s.enrol("v"), keystore: s.client, dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    await joinRemote({ name: "v", poolId: 1, keystore: s.client, dep: s.dep });
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  it("the RN's genuine request moves it although a tampered copy came first while the MSRP was unreachable", async () => {
    const rn = loadRemoteRn(s.client, "v")!;
    const ctx = { ledger: s.dep.ledger, store: s.f.store };
    const genuine = rn.buildReauthRequest(await poolInfo(ctx, 2)).request;
    const tampered = encodeReauthRequest({ ...decodeReauthRequest(genuine), nextPid: randomBytes(32) });
    const rpm2 = s.rpms.get(2)!;
    const rec = (rpm2.svc as unknown as { rec: { msrpUrl: string } }).rec;
    const msrpUrl = rec.msrpUrl;
    rec.msrpUrl = "http://127.0.0.1:9"; // the MSRP unreachable for this one request
    const env = sealEnvelope(
      {
        kind: Kind.Request,
        route: Route.Reauth,
        audience: audienceOf(s.dep.chainId, s.dep.registry, "rpm:2"),
        session: freshId(),
        requestId: freshId(),
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body: tampered,
      },
      { scheme: Scheme.None },
    );
    const first = await postEnvelope(rpm2.url, "/v1/reauth", env, once).then(
      () => "answered",
      (e: Error) => e.message,
    );
    rec.msrpUrl = msrpUrl;
    expect(first, "the tampered request is not answered").to.not.equal("answered");
    const before = await s.dep.ledger.joinCount();
    const r = await reauthRemote({ name: "v", poolId: 2, keystore: s.client, dep: s.dep, retry: once }).then(
      (x) => `moved to pool ${x.rn.state.pool} as PID_${x.rn.state.k}`,
      (e: Error) => e.message,
    );
    expect(r, "the genuine request").to.equal("moved to pool 2 as PID_1");
    expect(await s.dep.ledger.joinCount()).to.equal(before + 1);
  });
});
