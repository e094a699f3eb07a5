/**
 * Red team h15-red, finding H1 (fixed: Msrp.rekeyGroup evicts every member in S_RN): an RN in S_RN keeps the key of every group it is already in.
 *
 * The paper's update (§IV.B.2.c step 1): "MSRP evicts suspicious parties, computes s_new, sends
 * Enc_PK_i(s_new) to the others". metatrust's S_RN keeps a suspicious RN out of *new* groups and
 * out of *additions* (`requestGroup`, `rekeyGroup(add)`), but `Msrp.rekeyGroup` seals the new key
 * to every member it is not told to evict, S_RN or not. So an RN the MSRP itself evicted from
 * group G2 (and put in S_RN for it), or that the operator flagged (`rsms:rn:flag`), is handed the
 * next key of every other group G1 it sits in, at every update of G1 that does not name it: here
 * the user's add. Over the services the user cannot even name it: `POST /v1/group/rekey` evicts
 * only members the trust layer flags (`NOTHING_TO_EVICT` / `NOT_FLAGGED` for an RN in S_RN by an
 * eviction or by the operator).
 *
 * Secure behaviour asserted: after the update of G1, the member in S_RN holds no key of the new
 * epoch (it cannot open the new epoch's traffic) and is no longer a member in the MSRP's view.
 */
import { expect } from "chai";
import { loadGroups } from "./group-fixtures";
import { formServiceGroup, rekeyServiceGroup } from "../../offchain/rsms/group-flows";
import { toHex } from "../../offchain/crypto/bytes";

const text = (s: string) => new TextEncoder().encode(s);

describe("h15-red H1: an RN in S_RN is not sealed the next key of a group it is still in (fixed)", function () {
  this.timeout(120_000);

  it("an RN the MSRP evicted from G2 (S_RN) is evicted by G1's next update (the user's add): no key, no read", async () => {
    const { msrp, party, groupLedger } = await loadGroups();
    // G1 takes four of the eight joined RNs (load 0), G2 the other four and one of G1's (load 1)
    const g1 = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 4 });
    const g2 = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 5 });
    const g1Names = msrp.groupInfo(g1.groupId).members.map((m) => m.name);
    const both = msrp.groupInfo(g2.groupId).members.find((m) => g1Names.includes(m.name))!;
    expect(both, "one RN is in both groups").to.not.equal(undefined);
    // G2's user has it evicted: the MSRP puts it in S_RN (commitRekey)
    await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g2.groupId, evict: [both.pid] });
    expect(msrp.suspiciousRns()).to.deep.equal([both.name]);
    // G1's user grows G1 by one RN (not in G1, not in S_RN)
    const fresh = msrp
      .joinedRns()
      .map((r) => r.name)
      .find((n) => !g1Names.includes(n) && !msrp.suspiciousRns().includes(n))!;
    const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g1.groupId, add: [fresh] });
    const alice = party("alice");
    const live = alice.seal(g1.groupId, text(`G1 epoch ${r.epoch}: for members only`));
    let read: string | undefined;
    try {
      read = new TextDecoder().decode(party(both.name).open(live).plaintext);
    } catch {
      read = undefined; // the secure outcome: no key of the new epoch
    }
    // the secure outcome: the RN in S_RN is not a member of G1's new epoch, was sealed no key, reads nothing
    expect(
      {
        member: msrp.groupInfo(g1.groupId).members.some((m) => m.name === both.name),
        sealedTheNewKey: r.messages.has(toHex(both.pid)),
        read,
      },
      `${both.name} is in S_RN (evicted from G2) while G1 moves to epoch ${r.epoch}`,
    ).to.deep.equal({ member: false, sealedTheNewKey: false, read: undefined });
  });
});
