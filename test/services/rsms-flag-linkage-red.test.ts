/**
 * Red team h12-red finding L1 (LOW-MEDIUM, fixed): the MSRP's flag reads linked an RN's pseudonyms
 * for whoever serves its JSON-RPC.
 *
 * RSMS §III.D.2: an RN's pseudonyms PID_0, PID_1, ... are unlinkable for everyone but the MSRP
 * (the chain holds each PID's join record alone). The flag sync (`GroupDesk.syncTrustFlags`, every
 * `--flag-sync` ms, 10 s by default), formation and key updates ask the TrustManager about every
 * PID of an RN, one `entity(pid)` call after another, RN by RN (`flaggedRn` over `Msrp.rnPids`).
 * The node the MSRP reads through (a hosted RPC provider, a load balancer, anyone on the path of
 * plain HTTP) sees each RN's PIDs asked together every tick: the linkage rotation is meant to hide.
 *
 * Fix: the desk reads the TrustManager's `EntityFlagged` logs (one `eth_getLogs` naming no id, from
 * a kept cursor) and reads `entity(pid)` only for the PIDs the trust layer has ever flagged
 * (GroupDesk.everFlagged; the sync, formation and key updates). This file was
 * rsms-flag-linkage.findings.test.ts; it failed before the fix ("one sync asked the node about both
 * pseudonyms of one RN").
 */
import { expect } from "chai";
import { rsmsServices, tmp } from "../helpers/rsms-services";
import { naming, recordRpc } from "../helpers/rpc-record";
import { Keystore } from "../../offchain/storage/keystore";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/rsms: the MSRP's flag reads do not name an RN's pseudonyms together (h12-red L1)", function () {
  this.timeout(300_000);

  it("a flag sync asks the chain about no rotated PID", async () => {
    const s = await rsmsServices({ groups: true, pools: [1, 2] });
    try {
      const ks = new Keystore(tmp("l1-a"), "");
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: "a", poolId: 1, rid: "rn:a", token: s.enrol("a"), keystore: ks, dep: s.dep });
      expect(await s.msrp.publishDue()).to.equal(1);
      await joinRemote({ name: "a", poolId: 1, keystore: ks, dep: s.dep });
      const pid0 = loadRemoteRn(ks, "a")!.state.pid;
      await reauthRemote({ name: "a", poolId: 2, keystore: ks, dep: s.dep, retry: once });
      const pid1 = loadRemoteRn(ks, "a")!.state.pid;
      // what the node sees: every eth_call the MSRP's reads send during one sync
      const { calls } = await recordRpc(() => s.msrp.desk!.syncTrustFlags());
      const names = (pid: Uint8Array) => naming(calls, pid) > 0;
      expect(names(pid0) && names(pid1), "one sync asked the node about both pseudonyms of one RN").to.equal(false);
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });
});
