/**
 * s18-redg G3, agent side: `GroupParty.acceptRetiredRekey` takes the key of a retired epoch the party
 * was a party of but missed (away through two updates), checked against that epoch's Q as the chain
 * recorded it (`GroupLedger.keyAt`, from `GroupRekeyed`), and refuses everything else without a
 * change: an update for another epoch than the chain record's, the current epoch's (that is
 * `acceptRekey`), a key that is not the recorded Q, a party outside the roster, a key it holds.
 * The service side is test/services/group-skipped-epoch.test.ts.
 */
import { expect } from "chai";
import { loadGroups } from "./group-fixtures";
import { formServiceGroup, rekeyServiceGroup } from "../../offchain/rsms/group-flows";
import { GroupAuthenticationError, GroupParty, rekeyMessage } from "../../offchain/rsms/group";
import { AgentStateError } from "../../offchain/rsms/errors";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { toHex } from "../../offchain/crypto/bytes";

function failureOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof GroupAuthenticationError) return `${e.failure}: ${e.message}`;
    if (e instanceof AgentStateError) return `AGENT_STATE: ${e.message}`;
    throw e;
  }
  return "accepted";
}

describe("rsms/group: the key of a retired epoch a party missed (s18-redg G3)", () => {
  it("a party that slept through epoch 1 takes its key against the chain's Q of epoch 1; every other update is refused and changes nothing", async () => {
    const { msrp, party, groupLedger } = await loadGroups();
    const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
    const p = g.parties[1];
    const asleep = p.toRecord(); // p's record at epoch 0
    const r1 = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
    const r2 = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
    // p wakes up at epoch 0 and takes the current update only (the mailbox's current one)
    const q = GroupParty.fromRecord(asleep);
    q.acceptRekey(r2.messages.get(toHex(p.pid))!, await groupLedger.view(g.groupId), r2.roster);
    expect(q.epochsOf(g.groupId), "precondition: q missed epoch 1").to.deep.equal([0, 2]);

    const m1 = r1.messages.get(toHex(p.pid))!;
    const at1 = await groupLedger.keyAt(g.groupId, 1);
    const at2 = await groupLedger.keyAt(g.groupId, 2);
    expect(at2.Q.equals((await groupLedger.view(g.groupId)).Q), "keyAt(2) is the current Q").to.equal(true);
    const before = JSON.stringify(q.toRecord());
    const refusals = [
      failureOf(() => q.acceptRetiredRekey(m1, at2, r1.roster)),
      failureOf(() => q.acceptRetiredRekey(r2.messages.get(toHex(p.pid))!, at2, r2.roster)),
      failureOf(() =>
        q.acceptRetiredRekey(rekeyMessage(g.groupId, 1, randomScalar(), { pid: p.pid, pk: p.publicKey }, r1.roster), at1, r1.roster),
      ),
      failureOf(() =>
        q.acceptRetiredRekey(
          rekeyMessage(g.groupId, 1, randomScalar(), { pid: p.pid, pk: p.publicKey }, [r1.roster[0]]),
          { epoch: 1, Q: mulBase(1n) },
          [r1.roster[0]],
        ),
      ),
    ];
    expect(refusals).to.deep.equal([
      `STALE_EPOCH: ${p.name}: update for epoch 1, the chain's record is of 2`,
      `STALE_EPOCH: ${p.name}: epoch 2 is not retired (I am at 2): acceptRekey`,
      `KEY_MISMATCH: ${p.name}: s*P != Q of epoch 1 on-chain`,
      `AGENT_STATE: ${p.name}: not a party of epoch 1`,
    ]);
    expect(JSON.stringify(q.toRecord()), "each refusal changed nothing").to.equal(before);

    const k1 = q.acceptRetiredRekey(m1, at1, r1.roster);
    expect(toHex(k1), "the key every party of epoch 1 holds").to.equal(toHex(r1.keys[0]));
    expect(q.currentEpoch(g.groupId), "still at epoch 2").to.equal(2);
    expect(failureOf(() => q.acceptRetiredRekey(m1, at1, r1.roster))).to.equal(`REPLAYED: ${p.name}: I hold the key of epoch 1`);
    // kept in the record, with epoch 1's roster (what openArchived checks signatures against)
    const back = GroupParty.fromRecord(q.toRecord());
    expect(back.epochsOf(g.groupId)).to.deep.equal([0, 1, 2]);
    expect(back.currentEpoch(g.groupId)).to.equal(2);
  });
});
