/**
 * s17-redA F20: nothing stops a second MSRP service from running on the same data folder (an
 * operator starts it twice, a supervisor restarts it while the old process still drains, a copy is
 * started on another port by mistake): `rsms:serve msrp --port 7002` in the folder of a running
 * `--port 7001` starts and serves. Each process loads the MSRP's record once at start and writes
 * its whole in-memory record back on every change (MsrpService.save: keystore.update, no stamp
 * check), so each one's writes undo the other's: an RN registered through one is gone from the
 * record once the other saves, and its join is refused for good (stranded), while its one-time
 * secret may already sit in a published filter. Charter: a retry or concurrent request never
 * loses a party's state; a lost update strands the RN.
 *
 * Passes once the second instance is refused at start (a lock on the folder) or the two no longer
 * lose each other's records.
 */
import { expect } from "chai";
import { Keystore } from "../../offchain/storage/keystore";
import { MsrpService, MSRP_RECORD } from "../../offchain/services/rsms/msrp-service";
import { registerRnRemote } from "../../offchain/services/rsms/clients";
import { rsmsServices, tmp } from "../helpers/rsms-services";

describe("rsms:serve msrp: two services on one folder lose no registration (s17-redA F20)", function () {
  this.timeout(180_000);

  it("a second MSRP on the running one's folder is refused, or both registrations survive", async () => {
    const s = await rsmsServices();
    // the same folder, opened by another process (its own Keystore instance over the same files)
    const second = new MsrpService({ ...s.msrpDeps, keystore: new Keystore(s.msrpDeps.keystore.dir, "") });
    let url: string;
    try {
      url = (await second.start({ port: 0 })).url;
    } catch (e) {
      // refused at start, in one line naming the folder and the live pid that serves it (folder-lock.ts)
      const msg = (e as Error).message;
      await s.msrp.stop();
      await s.stop();
      expect(msg).to.not.include("\n");
      expect(msg).to.include(s.msrpDeps.dir).and.include(`pid ${process.pid}`);
      return;
    }
    try {
      for (const [name, msrpUrl] of [
        ["rn-a", s.msrpUrl],
        ["rn-b", url],
        ["rn-c", s.msrpUrl],
      ] as const)
        await registerRnRemote({
          msrpUrl,
          name,
          poolId: 1,
          rid: `rn:${name}`,
          token: s.enrol(name),
          keystore: new Keystore(tmp(`two-${name}`), ""),
          dep: s.dep,
        });
      const rns = Object.keys((new Keystore(s.msrpDeps.keystore.dir, "").load(MSRP_RECORD) as { rns: Record<string, unknown> }).rns);
      expect(rns).to.include.members(["rn-a", "rn-b", "rn-c"], "a registration made through one MSRP process was overwritten by the other");
    } finally {
      await second.stop();
      await s.msrp.stop();
      await s.stop();
    }
  });
});
