/**
 * RSMS fixture: the system deployed, an MSRP, pools 1 and 2 with their RPMs, four RNs registered
 * at pool 1 and two at pool 2, and both pools' filters published.
 *
 * loadFixture restores the chain but returns the same JavaScript objects every time, so the
 * fixture keeps the agents as keystore records and {@link loadRsms} rebuilds fresh agents for
 * every test.
 */
import { loadOffchainFixture } from "../helpers/fixture";
import { deploySystemFixture } from "../fixtures/system";
import { DEFAULT_FILTER_POLICY, Msrp, MsrpRecord } from "../../offchain/rsms/msrp";
import { publishFilter, registerRn, setupPool } from "../../offchain/rsms/flows";
import { ResourceNode } from "../../offchain/rsms/rn";
import { ResourcePoolManager } from "../../offchain/rsms/rpm";

async function rsmsRecordsFixture() {
  const sys = await deploySystemFixture();
  const ctx = { ledger: sys.ledger, store: sys.store };
  const msrp = Msrp.setup({ ...DEFAULT_FILTER_POLICY, capacity: 64, lambda: 20 });
  const { rpm: rpmA } = await setupPool(ctx, msrp, { name: "rpm-A", poolId: 1, rid: "RPM-A real id", account: sys.others[0].address });
  const { rpm: rpmB } = await setupPool(ctx, msrp, { name: "rpm-B", poolId: 2, rid: "RPM-B real id", account: sys.others[1].address });
  const rns: ResourceNode[] = [];
  for (let i = 0; i < 6; i++) {
    const pool = i < 4 ? 1 : 2;
    rns.push((await registerRn(ctx, msrp, { name: `rn${i}`, poolId: pool, rid: `serial-${i}` })).rn);
  }
  await publishFilter(ctx, msrp, 1);
  await publishFilter(ctx, msrp, 2);
  return {
    sys,
    records: { msrp: JSON.stringify(msrp.toRecord()), rpmA: rpmA.toRecord(), rpmB: rpmB.toRecord(), rns: rns.map((r) => r.toRecord()) },
  };
}

/** Fresh agents over the restored chain. */
export async function loadRsms() {
  const { sys, records } = await loadOffchainFixture(rsmsRecordsFixture);
  const msrp = Msrp.fromRecord(JSON.parse(records.msrp) as MsrpRecord);
  return {
    ...sys,
    ctx: { ledger: sys.ledger, store: sys.store },
    msrp,
    rpmA: ResourcePoolManager.fromRecord(msrp.params, records.rpmA),
    rpmB: ResourcePoolManager.fromRecord(msrp.params, records.rpmB),
    rns: records.rns.map((r) => ResourceNode.fromRecord(msrp.params, r)),
  };
}
