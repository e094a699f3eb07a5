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
import { initialJoin, publishFilter, registerRn, setupPool } from "../../offchain/rsms/flows";
import { formServiceGroup } from "../../offchain/rsms/group-flows";
import { GroupParty } from "../../offchain/rsms/group";
import { Role } from "../../offchain/rsms/messages";
import type { TrustManager } from "../../typechain-types";
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

/** A trust entity as the eviction reads it (TrustManager.entity). */
export type EntityStub = { kind: bigint; attested: boolean; flags: bigint };

/** A TrustManager read stub: the entities by id (none: kind 0). */
export const trustOf = (entities: Map<string, EntityStub>) =>
  ({ entity: async (id: string) => entities.get(id) ?? { kind: 0n, attested: false, flags: 0n } }) as unknown as TrustManager;

/**
 * {@link loadRsms}, the first `joined` RNs joined (pool 1's four first, then pool 2's), Alice registered as a
 * user, the group parties by name, and `form(size)`: a service group formed for Alice.
 */
export async function loadAliceWorld(joined = 4) {
  const fx = await loadRsms();
  for (const [i, r] of fx.rns.slice(0, joined).entries()) await initialJoin(fx.ctx, r, i < 4 ? fx.rpmA : fx.rpmB, fx.msrp);
  const u = fx.msrp.registerUser("alice", Msrp.registrationRequest(fx.msrp.params.pkPub, Role.User, 0, "Alice Liddell"));
  const alice = new GroupParty("alice", u.pid, u.sk);
  const party = (name: string) => (name === "alice" ? alice : fx.rns.find((r) => r.state.name === name)!.groupParty());
  const form = (size = 2) => formServiceGroup(fx.groupLedger, fx.msrp, party, { user: "alice", size });
  return { ...fx, alice, party, form };
}
