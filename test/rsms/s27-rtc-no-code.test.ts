/**
 * s27-rtc (red team): a chain that lost the registry's code under a running process (a development
 * node reverted or restarted under it; here hardhat_setCode to "0x", the MSRP's key still funded).
 *
 * Two caches meet: deployedAddress checks an address's code once per process (tasks/lib/context.ts
 * `codeSeen`), and a join answered from the local view (flows.viewedJoin) reads nothing from the
 * chain before its transaction. recordJoin is sent with a static gas limit (sender.ts KNOWN_GAS),
 * not estimated. A call to an address with no code is a plain transfer: mined with status 1. The
 * join takes the receipt for its record: the intent is applied, the MSRP's record marks the RN's
 * one-time secret used and the RN's record says joined, while the chain holds no record at all
 * (the secret is burnt: the RN can never join with it). The uncached path (the process's first
 * join, or any other process) refuses at once: "no code at ResourcePoolRegistry's recorded address".
 * The correct behaviour: the join is refused and nothing changes in the keystore.
 */
import { expect } from "chai";
import hre from "hardhat";
import { settled } from "../../offchain/storage/keystore";
import { joinViewsSettled } from "../../offchain/rsms/flows";
import { readDeployment } from "../../offchain/chain/deployments";
import { useRsmsTaskSandbox, joinQuietly } from "../helpers/tasks";

describe("s27-rtc: a join from the local view when the registry's address has no code any more", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-s27rtc-nocode-", ["s1", "s2"]);
  const join = (rn: string) => joinQuietly(rn);
  const msrpRn = (name: string) => (sandbox.keystore().load("rsms-msrp") as { rns: Record<string, { used: boolean }> }).rns[name];

  it("is refused, and the RN's secret is not marked used nor the RN joined, when the chain holds no registry", async () => {
    await join("s1"); // the registry's code seen, the view read after it
    await settled();
    await joinViewsSettled();
    const registry = readDeployment("hardhat").contracts.ResourcePoolRegistry.address;
    const snap = await hre.network.provider.send("evm_snapshot", []);
    try {
      await hre.network.provider.send("hardhat_setCode", [registry, "0x"]);
      const out = await join("s2").catch((e: Error) => e);
      await settled();
      expect(msrpRn("s2"), "s2's one-time secret marked used though nothing is on-chain").to.deep.include({ used: false });
      expect(sandbox.keystore().load("rsms-rn-s2")).to.deep.include({ joined: false });
      expect(out).to.be.instanceOf(Error);
    } finally {
      await hre.network.provider.send("evm_revert", [snap]);
    }
  });
});
