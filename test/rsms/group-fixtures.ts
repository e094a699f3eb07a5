/**
 * Service-group fixture: the RSMS fixture with every RN joined (pools 1 and 2), two spare RNs
 * registered and joined, and a user "alice". Agents are rebuilt from records for each test.
 */
import { loadOffchainFixture } from "../helpers/fixture";
import { deploySystemFixture } from "../fixtures/system";
import { DEFAULT_FILTER_POLICY, Msrp, MsrpRecord } from "../../offchain/rsms/msrp";
import { initialJoinBatch, publishFilter, registerRn, setupPool } from "../../offchain/rsms/flows";
import { Role } from "../../offchain/rsms/messages";
import { ResourceNode } from "../../offchain/rsms/rn";
import { GroupParty } from "../../offchain/rsms/group";

async function groupRecordsFixture() {
  const sys = await deploySystemFixture();
  const ctx = { ledger: sys.ledger, store: sys.store };
  const msrp = Msrp.setup({ ...DEFAULT_FILTER_POLICY, capacity: 64, lambda: 20 });
  const { rpm: rpmA } = await setupPool(ctx, msrp, { name: "rpm-A", poolId: 1, rid: "A", account: sys.others[0].address });
  const { rpm: rpmB } = await setupPool(ctx, msrp, { name: "rpm-B", poolId: 2, rid: "B", account: sys.others[1].address });
  const rns: ResourceNode[] = [];
  for (let i = 0; i < 8; i++) rns.push((await registerRn(ctx, msrp, { name: `rn${i}`, poolId: i < 5 ? 1 : 2, rid: `serial-${i}` })).rn);
  await publishFilter(ctx, msrp, 1);
  await publishFilter(ctx, msrp, 2);
  await initialJoinBatch(ctx, rns.slice(0, 5), rpmA, msrp);
  await initialJoinBatch(ctx, rns.slice(5), rpmB, msrp);
  const user = msrp.registerUser("alice", Msrp.registrationRequest(msrp.params.pkPub, Role.User, 0, "Alice Liddell"));
  const parties: Record<string, Record<string, unknown>> = {};
  parties.alice = new GroupParty("alice", user.pid, user.sk).toRecord();
  for (const rn of rns) parties[rn.state.name] = rn.groupParty().toRecord();
  return { sys, msrpRecord: JSON.stringify(msrp.toRecord()), parties };
}

/** Fresh agents over the restored chain; `party(name)` always returns the same agent within a test. */
export async function loadGroups() {
  const { sys, msrpRecord, parties } = await loadOffchainFixture(groupRecordsFixture);
  const msrp = Msrp.fromRecord(JSON.parse(msrpRecord) as MsrpRecord);
  const agents = new Map<string, GroupParty>();
  const party = (name: string) => {
    if (!agents.has(name)) {
      if (!parties[name]) throw new Error(`no party ${name}`);
      agents.set(name, GroupParty.fromRecord(parties[name]));
    }
    return agents.get(name)!;
  };
  return { ...sys, msrp, party };
}
