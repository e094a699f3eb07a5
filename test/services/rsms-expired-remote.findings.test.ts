/**
 * Red team s17-redB, finding B11: an RN registered over the network whose one-time secret expires
 * before it joins (rsms-join.md change 13: the MSRP refuses it SECRET_EXPIRED after ttlSec, and the
 * RPMs drop its filter epoch) has no way back. Renewal exists only in-process (`flows.renewSecret`,
 * `rsms:rn:renew`, which loads the MSRP's own keystore); the MSRP service has no renewal route and
 * the network client no renewal call. Its name is taken (a second registration is refused), its PID
 * can never be recorded: the RN is stranded for good by a delay (a pool whose RPM was down for a
 * week, a node shipped late).
 */
import { expect } from "chai";
import { rsmsServices } from "../helpers/rsms-services";
import * as clients from "../../offchain/services/rsms/clients";
import { joinRemote, registerRnRemote, loadRemoteRn } from "../../offchain/services/rsms/clients";

describe("services/rsms red team s17-redB B11: a secret that expired before the RN joined, over the network", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  before(async () => {
    s = await rsmsServices({ msrpRetry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 } });
    await registerRnRemote({
      msrpUrl: s.msrpUrl,
      name: "late",
      poolId: 1,
      rid: "rn:late",
      token: s.enrol("late"),
      keystore: s.client,
      dep: s.dep,
    });
    expect(await s.msrp.publishDue()).to.equal(1);
  });
  after(async () => {
    await s?.stop();
  });

  it("the RN renews its secret through the MSRP service and joins", async () => {
    // ttlSec (3600 in this system) passes before the RN first tries to join: its issue time is
    // moved back instead of the clocks forward
    const rec = (s.msrp.msrp as unknown as { r: { rns: Record<string, { issuedAt: number }> } }).r;
    rec.rns.late.issuedAt -= 7200;
    const refused = await joinRemote({ name: "late", poolId: 1, keystore: s.client, dep: s.dep }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(refused?.message, "precondition: the MSRP refuses the expired secret").to.match(/SECRET_EXPIRED|renew it/);
    const renew = (clients as Record<string, unknown>).renewRemote as
      ((a: { msrpUrl: string; name: string; keystore: unknown; dep: unknown }) => Promise<unknown>) | undefined;
    expect(renew, "a network client call that renews an RN's expired secret (none: the RN is stranded)").to.be.a("function");
    await renew!({ msrpUrl: s.msrpUrl, name: "late", keystore: s.client, dep: s.dep });
    await s.msrp.publishDue();
    const r = await joinRemote({ name: "late", poolId: 1, keystore: s.client, dep: s.dep });
    expect(r.rn.state.joined).to.equal(true);
    expect(loadRemoteRn(s.client, "late")!.state.joined).to.equal(true);
  });
});
