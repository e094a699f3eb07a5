/**
 * s27-rtc (red team): the pool's RPM agent kept across joins (tasks/rsms.ts `rpmKept`) holds the
 * filters it loaded, by epoch, and is reused while its keystore record's stamp is unchanged. Its
 * premise is "roots never change: an epoch is published once". A chain reverted under the running
 * process (evm_revert, a reorganisation, `hardhat node` restarted with the keystore kept) breaks
 * it: epoch e is gone and published again with another filter. The kept agent still holds the old
 * epoch e, never compares it with the root the join just read (JoinPrefetch.filters), and answers
 * from it. The local view (join-view.ts) notices the revert (its cursor's block hash); the kept RPM
 * does not.
 *
 * Attack: r3's secret is in epoch 1 as first published; the chain goes back under it and epoch 1 is
 * published again holding r4 only. A fresh RPM (the uncached path: another process, or this one
 * after any change of the RPM's record) refuses r3 (NOT_IN_FILTER: its secret is in no filter on
 * this chain); the kept agent accepts it and the MSRP records H4(a_r3) on-chain. The correct
 * behaviour: refused, nothing recorded, r3 unused in the MSRP's record.
 */
import { expect } from "chai";
import hre from "hardhat";
import { settled } from "../../offchain/storage/keystore";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { attach } from "../../offchain/chain/contracts";
import { ResourcePoolRegistry__factory } from "../../typechain-types";
import { readDeployment } from "../../offchain/chain/deployments";
import { initialJoin, joinViewsSettled, viewedJoin } from "../../offchain/rsms/flows";
import { Msrp } from "../../offchain/rsms/msrp";
import { ResourceNode } from "../../offchain/rsms/rn";
import { ResourcePoolManager } from "../../offchain/rsms/rpm";
import { toHex } from "../../offchain/crypto/bytes";
import { tagOf } from "../../offchain/rsms/params";
import { useRsmsTaskSandbox, quietly, joinQuietly } from "../helpers/tasks";

describe("s27-rtc: the RPM agent kept across joins after the chain went back under a filter epoch it loaded", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-s27rtc-rpm-", ["r1", "r2", "r5"]);
  const quiet = quietly;
  const join = (rn: string) => joinQuietly(rn);
  const msrpRn = (name: string) => (sandbox.keystore().load("rsms-msrp") as { rns: Record<string, { used: boolean }> }).rns[name];
  const reader = () =>
    new RsmsLedger(
      attach(ResourcePoolRegistry__factory, readDeployment("hardhat").contracts.ResourcePoolRegistry.address, hre.ethers.provider),
    );

  it("a kept RPM does not accept an RN whose secret is in no filter the chain holds (its epoch was reverted and published anew)", async () => {
    // r3's secret goes into the pending filter; the chain as it is before epoch 1 is published
    await quiet(() => hre.run("rsms:rn:register", { name: "r3", pool: 1 }));
    const snap = await hre.network.provider.send("evm_snapshot", []);
    await quiet(() => hre.run("rsms:filter:publish", { pool: 1 })); // epoch 1 = { r3 }
    await join("r1"); // the kept RPM loads epochs 0 and 1
    await settled();
    await joinViewsSettled();
    // the chain goes back under epoch 1 (and r1's join); the MSRP's next filter is epoch 1 anew, holding r4 only
    await hre.network.provider.send("evm_revert", [snap]);
    await quiet(async () => {
      await hre.run("rsms:rn:register", { name: "r4", pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 }); // epoch 1 = { r4 }
    });
    // a join of r2 (epoch 0, unchanged) with the kept agent: it keeps the agent again, and the local
    // view is read after it (its cursor's block is gone: read again from block 0, epoch 1's new root)
    await join("r2");
    await settled();
    await joinViewsSettled();
    const ledger = reader();
    expect(await ledger.poolEpochs(1)).to.equal(2);
    const r3 = sandbox.keystore().load("rsms-rn-r3") as { a: string };
    const tag3 = tagOf(BigInt(r3.a));
    // the view holds the chain's epoch 1 now: what remains stale is the kept RPM's epoch 1
    const viewed = viewedJoin({ ledger, store: undefined as never }, 1, tag3);
    expect(viewed, "the view answers r3's join").to.not.equal(undefined);
    expect(toHex((await viewed!.filters).get(1)!.root)).to.equal(toHex((await ledger.filterAt(1, 1)).root));
    const count = await ledger.joinCount();
    const out = await join("r3").catch((e: Error) => e);
    await settled();
    expect(await ledger.isTagUsed(tag3), "r3's tag recorded on-chain though its secret is in no filter the chain holds").to.equal(false);
    expect(await ledger.joinCount()).to.equal(count);
    expect(out).to.be.instanceOf(Error);
    expect(String(out)).to.match(/NOT_IN_FILTER|in none of pool 1/);
    expect(msrpRn("r3")).to.deep.include({ used: false });
  });

  it("a join answered from the local view read before the chain went back is refused for an RN in no filter the chain holds (a fresh RPM agent must not check it against the view's stale root of the epoch)", async () => {
    await settled();
    await joinViewsSettled();
    await quiet(() => hre.run("rsms:rn:register", { name: "r7", pool: 1 }));
    const snap = await hre.network.provider.send("evm_snapshot", []);
    await quiet(() => hre.run("rsms:filter:publish", { pool: 1 })); // epoch 2 = { r7 }
    await join("r5"); // the view is read after it: epoch 2's root
    await settled();
    await joinViewsSettled();
    await hre.network.provider.send("evm_revert", [snap]);
    await quiet(async () => {
      await hre.run("rsms:rn:register", { name: "r8", pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 }); // epoch 2 = { r8 }
    });
    const ks = sandbox.keystore();
    const m = Msrp.fromRecord(ks.load("rsms-msrp") as never);
    const rn = ResourceNode.fromRecord(m.params, ks.load("rsms-rn-r7"));
    const rpm = ResourcePoolManager.fromRecord(m.params, ks.load("rsms-rpm-1")); // a fresh agent: no filter loaded
    const { operatorSigner, localState } = await import("../../tasks/lib/context");
    const address = readDeployment("hardhat").contracts.ResourcePoolRegistry.address;
    const ctx = {
      ledger: new RsmsLedger(attach(ResourcePoolRegistry__factory, address, await operatorSigner(hre, "msrp"))),
      store: localState(hre).store,
    };
    const tag7 = tagOf(rn.state.a);
    const pre = viewedJoin(ctx, 1, tag7);
    expect(pre, "the process's view answers (the chain went back since its last refresh)").to.not.equal(undefined);
    const count = await reader().joinCount();
    const out = await initialJoin(ctx, rn, rpm, m, pre).catch((e: Error) => e);
    expect(await reader().isTagUsed(tag7), "r7's tag recorded on-chain though its secret is in no filter the chain holds").to.equal(false);
    expect(await reader().joinCount()).to.equal(count);
    expect(String(out)).to.match(/NOT_IN_FILTER|in none of pool 1/);
  });
});
