/**
 * s27-fxc (F4 of s27-rtc, the RPM's half as a class): an RPM agent that loaded a filter epoch keeps it
 * only while the roots a join reads are the roots it loaded (flows.syncFilters). Here with no view
 * and no kept-agent cache in play: an agent loads epoch 1, the chain goes back under it and epoch 1
 * is published anew with another RN; a join read from the chain (prefetchJoin) with that same agent
 * refuses the RN of the old epoch 1 (NOT_IN_FILTER, nothing recorded) and accepts the RN of the new
 * one. The caches' half (the kept agent dropped, the view's root) is test/rsms/s27-rtc-kept-rpm-revert.test.ts.
 */
import { expect } from "chai";
import hre from "hardhat";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { attach } from "../../offchain/chain/contracts";
import { ResourcePoolRegistry__factory } from "../../typechain-types";
import { readDeployment } from "../../offchain/chain/deployments";
import { initialJoin, prefetchJoin, syncFilters } from "../../offchain/rsms/flows";
import { Msrp } from "../../offchain/rsms/msrp";
import { ResourceNode } from "../../offchain/rsms/rn";
import { ResourcePoolManager } from "../../offchain/rsms/rpm";
import { toHex } from "../../offchain/crypto/bytes";
import { tagOf } from "../../offchain/rsms/params";
import { noteChainReset } from "../../offchain/chain/reset";
import { settled } from "../../offchain/storage/keystore";
import { joinViewsSettled } from "../../offchain/rsms/flows";
import { useRsmsTaskSandbox, quietly } from "../helpers/tasks";

describe("s27-fxc: an RPM agent's loaded epoch whose root the chain no longer holds", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-s27fxc-roots-", ["q1", "q2", "q3"]);
  const quiet = quietly;

  it("is loaded again from the root the join read: the old epoch's RN is refused, the new epoch's RN joins", async () => {
    const { operatorSigner, localState } = await import("../../tasks/lib/context");
    const address = readDeployment("hardhat").contracts.ResourcePoolRegistry.address;
    const ctx = {
      ledger: new RsmsLedger(attach(ResourcePoolRegistry__factory, address, await operatorSigner(hre, "msrp"))),
      store: localState(hre).store,
    };
    await quiet(() => hre.run("rsms:rn:register", { name: "q7", pool: 1 }));
    const snap = await hre.network.provider.send("evm_snapshot", []);
    await quiet(() => hre.run("rsms:filter:publish", { pool: 1 })); // epoch 1 = { q7 }
    const ks = sandbox.keystore();
    const rpm = ResourcePoolManager.fromRecord(Msrp.fromRecord(ks.load("rsms-msrp") as never).params, ks.load("rsms-rpm-1"));
    await syncFilters(ctx, rpm);
    expect(rpm.loadedEpochs).to.deep.equal([0, 1]);
    const old = rpm.loadedRoot(1);
    await hre.network.provider.send("evm_revert", [snap]);
    await quiet(async () => {
      await hre.run("rsms:rn:register", { name: "q8", pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 }); // epoch 1 = { q8 }
    });
    expect(toHex((await ctx.ledger.filterAt(1, 1)).root)).to.not.equal(old);
    const m = Msrp.fromRecord(ks.load("rsms-msrp") as never);
    const q7 = ResourceNode.fromRecord(m.params, ks.load("rsms-rn-q7"));
    const count = await ctx.ledger.joinCount();
    const out = await initialJoin(ctx, q7, rpm, m, prefetchJoin(ctx, 1, tagOf(q7.state.a))).catch((e: Error) => e);
    expect(String(out)).to.match(/NOT_IN_FILTER|in none of pool 1/);
    expect(await ctx.ledger.isTagUsed(tagOf(q7.state.a)), "q7's tag recorded: its secret is in no filter the chain holds").to.equal(false);
    expect(await ctx.ledger.joinCount()).to.equal(count);
    expect(rpm.loadedRoot(1)).to.equal(toHex((await ctx.ledger.filterAt(1, 1)).root));
    const m2 = Msrp.fromRecord(ks.load("rsms-msrp") as never);
    const q8 = ResourceNode.fromRecord(m2.params, ks.load("rsms-rn-q8"));
    const done = await initialJoin(ctx, q8, rpm, m2, prefetchJoin(ctx, 1, tagOf(q8.state.a)));
    expect(done.tx).to.not.equal(undefined);
    expect(await ctx.ledger.joinCount()).to.equal(count + 1);
  });

  it("the RPM agent kept across joins is dropped when the process finds the chain reset (offchain/chain/reset.ts)", async () => {
    const loads = { n: 0 };
    const fromRecord = ResourcePoolManager.fromRecord;
    ResourcePoolManager.fromRecord = (...a: Parameters<typeof fromRecord>) => {
      loads.n++;
      return fromRecord(...a);
    };
    try {
      const join = async (rn: string) => {
        await quiet(() => hre.run("rsms:join", { rn, pool: 1 }));
        await settled();
        await joinViewsSettled();
      };
      await join("q1");
      loads.n = 0;
      await join("q2");
      expect(loads.n, "the kept agent is taken").to.equal(0);
      noteChainReset("test: the chain was reset under the process");
      await join("q3");
      expect(loads.n, "the agent is loaded again after the reset").to.equal(1);
    } finally {
      ResourcePoolManager.fromRecord = fromRecord;
    }
  });
});
