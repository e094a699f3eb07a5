/**
 * Red team s17-redB, finding B11 (fixed; what follows describes the code before the fix): an RN
 * registered over the network whose one-time secret expires before it joins (rsms-join.md change
 * 13: the MSRP refuses it SECRET_EXPIRED after ttlSec, and the RPMs drop its filter epoch) had no way
 * back. Renewal existed only in-process (`flows.renewSecret`, `rsms:rn:renew`, which loads the MSRP's
 * own keystore); the MSRP service had no renewal route and the network client no renewal call. Its
 * name taken (a second registration is refused), its PID never recordable: the RN was stranded for
 * good by a delay (a pool whose RPM was down for a week, a node shipped late).
 *
 * Now `POST /v1/rn/renew` (`renewRemote`, `rsms:rn:renew` for an RN registered with --msrp) takes
 * the in-process request (signed by sk_RN over the PID and the current secret's tag) in an envelope
 * signed by sk_RN; a refused request changes nothing, and a retry after a lost reply gets the same
 * secret with nothing drawn.
 */
import { expect } from "chai";
import { rsmsServices, tmp } from "../helpers/rsms-services";
import { joinRemote, registerRnRemote, loadRemoteRn, renewRemote, rnClientRecord } from "../../offchain/services/rsms/clients";
import { Keystore } from "../../offchain/storage/keystore";
import { ServiceError, postEnvelope } from "../../offchain/services/client";
import { Kind, Route, Scheme, audienceOf, sealEnvelope } from "../../offchain/services/envelope";
import { encodeRenewal } from "../../offchain/services/rsms/wire";
import { freshId } from "../../offchain/services/common";
import { randomScalar } from "../../offchain/crypto/group";
import { schnorrSign } from "../../offchain/crypto/schnorr";
import { concat } from "../../offchain/crypto/bytes";
import { tagOf } from "../../offchain/rsms/params";
import { RENEW_DST } from "../../offchain/rsms/rn";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/rsms red team s17-redB B11: a secret that expired before the RN joined, over the network", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  const rec = () => (s.msrp.msrp as unknown as { r: { rns: Record<string, { issuedAt: number; a: string }> } }).r;
  const register = async (name: string, keystore: Keystore) => {
    await registerRnRemote({ msrpUrl: s.msrpUrl, name, poolId: 1, rid: `rn:${name}`, token: s.enrol(name), keystore, dep: s.dep });
  };
  before(async () => {
    s = await rsmsServices({ msrpRetry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 } });
    await register("late", s.client);
    expect(await s.msrp.publishDue()).to.equal(1);
  });
  after(async () => {
    await s?.stop();
  });

  it("the RN renews its secret through the MSRP service and joins", async () => {
    // ttlSec (3600 in this system) passes before the RN first tries to join: its issue time is
    // moved back instead of the clocks forward
    rec().rns.late.issuedAt -= 7200;
    const refused = await joinRemote({ name: "late", poolId: 1, keystore: s.client, dep: s.dep }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(refused?.message, "precondition: the MSRP refuses the expired secret").to.match(/SECRET_EXPIRED|renew it/);
    await renewRemote({ msrpUrl: s.msrpUrl, name: "late", keystore: s.client, dep: s.dep });
    await s.msrp.publishDue();
    const r = await joinRemote({ name: "late", poolId: 1, keystore: s.client, dep: s.dep });
    expect(r.rn.state.joined).to.equal(true);
    expect(loadRemoteRn(s.client, "late")!.state.joined).to.equal(true);
    // a joined RN renews nothing (it re-authenticates): refused, nothing changes
    const before = JSON.stringify(s.msrp.msrp.toRecord());
    const e = await renewRemote({ name: "late", keystore: s.client, dep: s.dep, retry: once }).then(
      () => undefined,
      (x: Error) => x,
    );
    expect(e?.message).to.match(/already joined/);
    expect(JSON.stringify(s.msrp.msrp.toRecord())).to.equal(before);
  });

  it("a renewal whose reply was lost, run again, gets the same secret: one secret drawn, one insertion in the pool's filter", async () => {
    const ks = new Keystore(tmp("renew-lost"), "");
    await register("lost", ks);
    await s.msrp.publishDue();
    rec().rns.lost.issuedAt -= 7200;
    const kept = ks.load(rnClientRecord("lost")); // the RN's state before the renewal
    const first = await renewRemote({ msrpUrl: s.msrpUrl, name: "lost", keystore: ks, dep: s.dep });
    const issued = rec().rns.lost.a;
    const pending = s.msrp.msrp.pendingCount(1);
    ks.update(rnClientRecord("lost"), kept); // the reply never reached it
    const again = await renewRemote({ msrpUrl: s.msrpUrl, name: "lost", keystore: ks, dep: s.dep });
    expect(again.state.a).to.equal(first.state.a);
    expect(rec().rns.lost.a, "nothing drawn").to.equal(issued);
    expect(s.msrp.msrp.pendingCount(1), "no second insertion").to.equal(pending);
    await s.msrp.publishDue();
    expect((await joinRemote({ name: "lost", poolId: 1, keystore: ks, dep: s.dep })).rn.state.joined).to.equal(true);
  });

  it("a renewal not signed by the RN's sk_RN (a stranger who knows its PID) is refused, and nothing changes", async () => {
    const ks = new Keystore(tmp("renew-victim"), "");
    await register("victim", ks);
    await s.msrp.publishDue();
    rec().rns.victim.issuedAt -= 7200;
    const rn = loadRemoteRn(ks, "victim")!;
    const audience = audienceOf(s.dep.chainId, s.dep.registry, "msrp");
    const send = (body: Uint8Array, sk: bigint) =>
      postEnvelope(
        s.msrpUrl,
        "/v1/rn/renew",
        sealEnvelope(
          {
            kind: Kind.Request,
            route: Route.RnRenew,
            audience,
            session: freshId(),
            requestId: freshId(),
            issuedAt: Date.now(),
            inReplyTo: new Uint8Array(32),
            body,
          },
          { scheme: Scheme.Schnorr, sk },
        ),
        once,
      ).then(
        () => undefined,
        (e: unknown) => e as ServiceError,
      );
    const before = JSON.stringify(s.msrp.msrp.toRecord());
    const stranger = randomScalar();
    // the stranger's own key on the envelope and on the request
    const forged = { pid: rn.state.pid, sig: schnorrSign(stranger, RENEW_DST, concat(rn.state.pid, tagOf(rn.state.a))) };
    const e1 = await send(encodeRenewal(forged), stranger);
    expect(e1, "refused").to.be.instanceOf(ServiceError);
    expect(e1!.reason, e1!.message).to.equal("BAD_SIGNATURE");
    // the RN's request copied off the wire into the stranger's envelope
    const e2 = await send(encodeRenewal(rn.renewalRequest()), stranger);
    expect(e2!.reason, e2!.message).to.equal("BAD_SIGNATURE");
    // a request for an old secret, in an envelope of the RN's: the MSRP's own check refuses it
    const e3 = await send(
      encodeRenewal({ pid: rn.state.pid, sig: schnorrSign(rn.state.sk, RENEW_DST, concat(rn.state.pid, tagOf(7n))) }),
      rn.state.sk,
    );
    expect(e3!.reason, e3!.message).to.equal("MSRP_REJECTED");
    expect(JSON.stringify(s.msrp.msrp.toRecord())).to.equal(before);
  });
});
