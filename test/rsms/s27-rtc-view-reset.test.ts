/**
 * s27-rtc (red team): the local view (offchain/rsms/join-view.ts) after its cursor's block went
 * away (a reorganisation: on a public chain its cursor is `latest`, so any one-block reorg at the
 * head does it; here evm_revert) is read again from block 0. JoinView.read clears the tags and the
 * cursor first, then asks for the JoinRecorded logs from block 0 and the pools. If that read fails
 * (a provider that refuses eth_getLogs over a range that long: the usual limits of hosted nodes,
 * stood in for here by refusing any eth_getLogs from block 0 once the view was first read), the view
 * keeps its pools and an empty tag set, and every later refresh fails the same way. From then on it
 * answers every join (viewedJoin: pool held, tag "not used") with no replay check before the
 * transaction.
 *
 * Attack: the lost reply of change 17 (a join recorded on-chain whose records this process never
 * committed). The view's documented behaviour is one refusal (TagUsed) and then, the view read
 * again, the retry path that commits the records (test/rsms/join-view.test.ts, first case). Here
 * the view is never read again: every `rsms:join` of that RN in this process reverts TagUsed, while
 * any other process (no view: the chain's replay check) completes it as a retry. The RN is stranded
 * in the long-running process. The correct behaviour: the join after the first refusal is the retry
 * (nothing sent, the records committed).
 */
import { expect } from "chai";
import hre from "hardhat";
import { Keystore, settled } from "../../offchain/storage/keystore";
import { joinViewsSettled, viewedJoin } from "../../offchain/rsms/flows";
import { Msrp } from "../../offchain/rsms/msrp";
import { ResourceNode } from "../../offchain/rsms/rn";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { tagOf } from "../../offchain/rsms/params";
import { attach } from "../../offchain/chain/contracts";
import { ResourcePoolRegistry__factory } from "../../typechain-types";
import { readDeployment } from "../../offchain/chain/deployments";
import { useRsmsTaskSandbox, joinQuietly } from "../helpers/tasks";

describe("s27-rtc: the local view after a reorganisation under its cursor, when the read from block 0 is refused", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-s27rtc-reset-", ["t1", "t2", "t3", "t4"]);
  const join = (rn: string) => joinQuietly(rn);
  const ks = () => new Keystore(sandbox.keystore().dir, undefined);
  const msrpRn = (name: string) => (ks().load("rsms-msrp") as { rns: Record<string, { used: boolean }> }).rns[name];
  const address = () => readDeployment("hardhat").contracts.ResourcePoolRegistry.address;
  const reader = () => new RsmsLedger(attach(ResourcePoolRegistry__factory, address(), hre.ethers.provider));

  /** A provider that refuses eth_getLogs from block 0 (a hosted node's range limit, for a long chain). */
  const refuseLogsFromGenesis = () => {
    const p = hre.network.provider as unknown as {
      request: (a: { method: string; params?: unknown[] }) => Promise<unknown>;
      send?: (m: string, params?: unknown[]) => Promise<unknown>;
    };
    const refused = (method: string, params?: unknown[]) =>
      method === "eth_getLogs" && Number((params?.[0] as { fromBlock?: string } | undefined)?.fromBlock ?? "0x0") === 0;
    const error = () => Object.assign(new Error("query exceeds max block range 10000"), { code: -32005 });
    const [request, send] = [p.request, p.send];
    p.request = async (a) => {
      if (refused(a.method, a.params)) throw error();
      return request.call(p, a);
    };
    if (send)
      p.send = async (m, params) => {
        if (refused(m, params)) throw error();
        return send.call(p, m, params);
      };
    return () => {
      p.request = request;
      if (send) p.send = send;
    };
  };

  it("a join whose record is on-chain (its reply lost) is taken as the retry it is once refused, though the view's read from block 0 fails", async () => {
    await join("t1"); // the view is read from block 0 after it
    await settled();
    await joinViewsSettled();
    const snap = await hre.network.provider.send("evm_snapshot", []);
    await join("t2"); // the view's cursor moves past the snapshot
    await settled();
    await joinViewsSettled();
    await hre.network.provider.send("evm_revert", [snap]); // the cursor's block is gone
    const restore = refuseLogsFromGenesis();
    try {
      // t3's join recorded on-chain, its records never committed here (change 17's window)
      const m = Msrp.fromRecord(ks().load("rsms-msrp") as never);
      const t3 = ResourceNode.fromRecord(m.params, ks().load("rsms-rn-t3"));
      const { operatorSigner } = await import("../../tasks/lib/context");
      const msrpLedger = new RsmsLedger(attach(ResourcePoolRegistry__factory, address(), await operatorSigner(hre, "msrp")));
      await msrpLedger.recordJoin({ pid: t3.state.pid, tag: tagOf(t3.state.a), poolId: 1, kind: 1 });
      await join("t4"); // any join: its refresh finds the cursor's block changed and reads from block 0
      await settled();
      await joinViewsSettled();
      // the view's gap costs at most one refusal (TagUsed); the join after it is the retry
      let done: unknown;
      const errors: string[] = [];
      for (let i = 0; i < 2 && done === undefined; i++) {
        const r = await join("t3").catch((e: Error) => e);
        if (r instanceof Error) errors.push(String(r).slice(0, 160));
        else done = r;
        await settled();
        await joinViewsSettled();
      }
      expect(done, `t3's joins in this process: ${errors.join(" | ")}`).to.not.equal(undefined);
      expect((done as { tx?: unknown }).tx, "nothing sent: t3's record is on-chain").to.equal(undefined);
      const ctx = { ledger: reader(), store: undefined as never };
      expect(viewedJoin(ctx, 1, tagOf(t3.state.a)), "the view answers a join whose tag the chain holds").to.equal(undefined);
      expect(msrpRn("t3")).to.deep.include({ used: true });
    } finally {
      restore();
    }
  });
});
