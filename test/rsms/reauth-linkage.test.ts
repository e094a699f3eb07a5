/**
 * h14-red F4 on the in-process path (`flows.ts serveReauth`, what `rsms:reauth` without a service
 * and the demo run): the RPM's decision reads the registry's `JoinRecorded` logs (a query that
 * names no id), so the node is not asked about PID_k and PID_{k+1} of one RN together. The RPM
 * service's path is test/services/rsms-reauth-linkage.test.ts.
 *
 * The test records every eth_call sent while one re-authentication runs (the RN, the RPM and the
 * MSRP share the in-process node here, as `rsms:reauth` on one `--network` does). A control runs
 * the same decision with the ledger as its records source and must see both pseudonyms named, so
 * the recorder is known to see them. Bite: with serveReauth's default source set back to
 * `ctx.ledger` the first case fails (both PIDs named).
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { initialJoin, poolInfo, reauthenticate, serveReauth } from "../../offchain/rsms/flows";
import { toHex } from "../../offchain/crypto/bytes";
import { naming, recordRpc } from "../helpers/rpc-record";

describe("flows.serveReauth: the in-process re-authentication does not ask the node about both pseudonyms (h14-red F4)", function () {
  this.timeout(120_000);

  it("the eth_calls of reauthenticate do not name both PID_k and PID_{k+1}; with the ledger as source they do (control)", async () => {
    const { ctx, msrp, rpmA, rpmB, rns } = await loadRsms();
    for (const r of rns.slice(0, 2)) await initialJoin(ctx, r, rpmA, msrp);

    const [a, b] = rns;
    const pid0 = a.state.pid;
    const { calls } = await recordRpc(() => reauthenticate(ctx, a, rpmB, msrp));
    expect(toHex(a.state.pid), "precondition: a rotated").to.not.equal(toHex(pid0));
    expect(
      { old: naming(calls, pid0) > 0, new: naming(calls, a.state.pid) > 0 },
      `the node was asked about both pseudonyms of one RN (${naming(calls, pid0)} calls name PID_k, ${naming(calls, a.state.pid)} name PID_{k+1}, of ${calls.length})`,
    ).to.not.deep.equal({ old: true, new: true });

    const bPid0 = b.state.pid;
    const { request, pending } = b.buildReauthRequest(await poolInfo(ctx, 2));
    const control = await recordRpc(() => serveReauth(ctx, rpmB, msrp, request, ctx.ledger));
    b.acceptReauthReply(control.out.reply, pending);
    expect(toHex(b.state.pid), "precondition: b rotated").to.equal(toHex(pending.pid));
    expect(
      { old: naming(control.calls, bPid0) > 0, new: naming(control.calls, pending.pid) > 0 },
      "control: the recorder sees the ledger's reads name both pseudonyms",
    ).to.deep.equal({ old: true, new: true });
  });
});
