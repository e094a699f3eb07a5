/**
 * Red team h14-red, finding F4 (fixed): a re-authentication's chain reads named PID_k and PID_{k+1}
 * together to whoever serves the JSON-RPC.
 *
 * RSMS §III.D.2 (Prop. 7): an RN's pseudonyms are unlinkable for everyone but the MSRP. h12-red L1
 * took the MSRP's flag reads off this path (the node it reads through — a hosted RPC provider, a
 * load balancer, anyone on plain HTTP — saw each RN's PIDs asked together). The re-authentication
 * had the same leak: the RPM service read `recordOf(PID_k)` and `recordOf(PID_{k+1})` in one
 * `Promise.all` (and `isTagUsed(H4(a_{k+1}))`), so the node saw the old and the new pseudonym in the
 * same instant, and `JoinRecorded(PID_{k+1}, …)` followed a block later.
 *
 * Fix: the RPM decides from the registry's `JoinRecorded` logs, read from a kept cursor (a query
 * that names no id), checked locally (offchain/rsms/join-log.ts, flows.ts reauthStep; rsms-join.md "What the
 * RPM's node sees"). The test records every eth_call sent while one re-authentication runs (all
 * parties share the in-process node here, as an RPM and an RN on one hosted provider do) and fails
 * if the calls name both pseudonyms of the RN. Bite: with RpmService.serveReauth reading recordOf
 * again it fails (PID_k and PID_{k+1} both named).
 */
import { expect } from "chai";
import { rsmsServices, tmp } from "../helpers/rsms-services";
import { naming, recordRpc } from "../helpers/rpc-record";
import { Keystore } from "../../offchain/storage/keystore";
import { toHex } from "../../offchain/crypto/bytes";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("h14-red F4: a re-authentication does not ask the node about the old and the new pseudonym together", function () {
  this.timeout(300_000);

  it("the eth_calls of one re-authentication do not name both PID_k and PID_{k+1}", async () => {
    const s = await rsmsServices({ pools: [1, 2] });
    try {
      const ks = new Keystore(tmp("f4-a"), "");
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: "a", poolId: 1, rid: "rn:a", token: s.enrol("a"), keystore: ks, dep: s.dep });
      expect(await s.msrp.publishDue()).to.equal(1);
      await joinRemote({ name: "a", poolId: 1, keystore: ks, dep: s.dep });
      const pid0 = loadRemoteRn(ks, "a")!.state.pid;
      const { calls } = await recordRpc(() => reauthRemote({ name: "a", poolId: 2, keystore: ks, dep: s.dep, retry: once }));
      const pid1 = loadRemoteRn(ks, "a")!.state.pid;
      expect(toHex(pid1), "precondition: a rotated").to.not.equal(toHex(pid0));
      expect(
        { old: naming(calls, pid0) > 0, new: naming(calls, pid1) > 0 },
        `the node was asked about both pseudonyms of one RN (${naming(calls, pid0)} calls name PID_k, ${naming(calls, pid1)} name PID_{k+1}, of ${calls.length})`,
      ).to.not.deep.equal({ old: true, new: true });
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });
});
