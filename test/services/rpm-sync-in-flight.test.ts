/**
 * The RPM service loads new filter epochs before it forwards a join (RpmService.sync). Two requests
 * shared one sync: a join that arrived while another request's sync was in flight was answered from
 * it, and that sync could have read the pool's epochs before the join's filter was published, so the
 * RN, which had waited for its filter, was refused NOT_IN_FILTER (seen in a fresh-clone run under
 * load, session 24). A request now waits for a sync in flight and then shares the next one, which
 * starts after the request arrived. Bites: with the old `sync` (share whatever is in flight) the
 * second join is refused NOT_IN_FILTER.
 */
import { expect } from "chai";
import { rsmsServices } from "../helpers/rsms-services";
import { joinRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import type { RsmsLedger } from "../../offchain/rsms/ledger";

describe("RPM service: a join is not answered from a sync that read the epochs before its filter was published", function () {
  this.timeout(300_000);

  it("u's join holds a sync that read the epochs before the publication; v's join after it joins", async () => {
    const s = await rsmsServices({ pools: [1] });
    try {
      for (const n of ["u", "v"])
        await registerRnRemote({
          msrpUrl: s.msrpUrl,
          name: n,
          poolId: 1,
          rid: `rn:${n}`,
          token: s.enrol(n),
          keystore: s.client,
          dep: s.dep,
        });
      // the RPM's reads of the pool's epochs: the next one is read at once, and answered only on release
      const ledger = (s.rpm as unknown as { d: { ledger: RsmsLedger } }).d.ledger;
      const orig = ledger.poolEpochs.bind(ledger);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let read: number | undefined | null = null;
      let armed = true;
      ledger.poolEpochs = async (poolId: number) => {
        if (!armed) return orig(poolId);
        armed = false;
        const n = await orig(poolId);
        read = n;
        await gate;
        return n;
      };
      // u's join starts a sync, which reads the epochs before any filter is published
      const first = joinRemote({ name: "u", poolId: 1, keystore: s.client, dep: s.dep }).then(
        () => undefined,
        (e: Error) => e,
      );
      for (let i = 0; read === null && i < 600; i++) await new Promise((r) => setTimeout(r, 50));
      expect(read, "setup: the in-flight sync read the epochs before the publication").to.equal(0);
      expect(await s.msrp.publishDue(), "one filter published, holding u's and v's secrets").to.equal(1);
      // v's join arrives while u's sync is in flight; the sync answers a little later
      const second = joinRemote({ name: "v", poolId: 1, keystore: s.client, dep: s.dep });
      setTimeout(release, 300);
      await second;
      // u's join was answered from the sync it started (before the publication): refused, as it should be then
      const e = await first;
      expect(e?.message ?? "", "u's join, synced before the publication").to.match(/NOT_IN_FILTER|no filter/);
    } finally {
      await s.stop();
    }
  });
});
