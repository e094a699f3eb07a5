/**
 * s27-fxc (F2 of s27-rtc, as a class): the local view (offchain/rsms/join-view.ts) answers a join only
 * from a read that succeeded. A refresh that fails, whatever failed (here the node refuses
 * eth_getLogs), leaves the view answering nothing (flows.viewedJoin undefined: the join reads the
 * chain) until a later refresh succeeds; a reset of the process's chain caches while a read is under
 * way (offchain/chain/reset.ts) leaves that read taking nothing in. The reset-under-the-cursor case is
 * test/rsms/s27-rtc-view-reset.test.ts.
 */
import { expect } from "chai";
import hre from "hardhat";
import { settled } from "../../offchain/storage/keystore";
import { joinViewsSettled, refreshJoinView, viewedJoin } from "../../offchain/rsms/flows";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { tagOf } from "../../offchain/rsms/params";
import { attach } from "../../offchain/chain/contracts";
import { noteChainReset } from "../../offchain/chain/reset";
import { ResourcePoolRegistry__factory } from "../../typechain-types";
import { readDeployment } from "../../offchain/chain/deployments";
import { useRsmsTaskSandbox, rejects, joinQuietly } from "../helpers/tasks";

describe("s27-fxc: the local view after a refresh that failed", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-s27fxc-view-", ["v1", "v2"]);
  const join = (rn: string) => joinQuietly(rn);
  const ctx = () => ({
    ledger: new RsmsLedger(
      attach(ResourcePoolRegistry__factory, readDeployment("hardhat").contracts.ResourcePoolRegistry.address, hre.ethers.provider),
    ),
    store: undefined as never,
  });
  /** Runs `hook` on every eth_getLogs before it reaches the node (it may throw: the node's refusal). */
  const onGetLogs = (hook: () => void) => {
    const p = hre.network.provider as unknown as {
      request: (a: { method: string; params?: unknown[] }) => Promise<unknown>;
      send?: (m: string, params?: unknown[]) => Promise<unknown>;
    };
    const [request, send] = [p.request, p.send];
    p.request = async (a) => {
      if (a.method === "eth_getLogs") hook();
      return request.call(p, a);
    };
    if (send)
      p.send = async (m, params) => {
        if (m === "eth_getLogs") hook();
        return send.call(p, m, params);
      };
    return () => {
      p.request = request;
      if (send) p.send = send;
    };
  };

  it("answers nothing once a refresh failed, and answers again once one succeeds", async () => {
    await join("v1");
    await settled();
    await joinViewsSettled();
    const tag2 = tagOf(BigInt((sandbox.keystore().load("rsms-rn-v2") as { a: string }).a));
    expect(viewedJoin(ctx(), 1, tag2), "the view answers v2's join").to.not.equal(undefined);
    await hre.network.provider.send("evm_mine", []); // a block past the cursor: the refresh asks for logs
    const restore = onGetLogs(() => {
      throw Object.assign(new Error("the node is busy"), { code: -32005 });
    });
    try {
      await rejects(refreshJoinView(ctx(), 1));
      expect(viewedJoin(ctx(), 1, tag2), "the view answers from what a failed refresh left").to.equal(undefined);
    } finally {
      restore();
    }
    await refreshJoinView(ctx(), 1);
    expect(viewedJoin(ctx(), 1, tag2), "a refresh that succeeds brings the view back").to.not.equal(undefined);
  });

  it("a read under way when the chain caches are reset takes nothing in", async () => {
    await hre.network.provider.send("evm_mine", []);
    const tag2 = tagOf(BigInt((sandbox.keystore().load("rsms-rn-v2") as { a: string }).a));
    const restore = onGetLogs(() => noteChainReset("test: the chain was reset while the view was read"));
    try {
      await refreshJoinView(ctx(), 1);
    } finally {
      restore();
    }
    expect(viewedJoin(ctx(), 1, tag2), "the view answers from a read begun before the reset").to.equal(undefined);
    await refreshJoinView(ctx(), 1);
    expect(viewedJoin(ctx(), 1, tag2)).to.not.equal(undefined);
  });
});
