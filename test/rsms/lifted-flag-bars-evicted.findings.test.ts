/**
 * s22-redx F1 (severity M: an honest party loses something it should keep; the flag contest is
 * bypassed). Attack: get an honest RN flagged once (a wrong detection, a bad-mouthing ring that fools
 * the detector). The flag sync / automatic update (or integration/evict.ts) evicts it from its service
 * group within seconds; the eviction puts it in S_RN "until the operator's review" and drops it from
 * `flagHeld`. The RN then wins its flag contest (the court clears the flag, TrustManager.unflag), and
 * the MSRP mirrors the lifted flag (`applyTrustFlags(flagged = [], unflagged = [rn])`): nothing is
 * lifted. The RN stays suspicious for good: never allocated again, may not rotate (verifyReauth
 * SUSPICIOUS), gets no fresh secret (renewRn SUSPICIOUS). A contest takes days and the automatic
 * update seconds, so for every RN that is in a group the court's verdict is worthless: exactly what
 * rsms-group.md §8 says a lifted flag must not do ("let one wrong flag bar it for life").
 * Fixed behaviour: an RN that was evicted *because of a trust flag* (flag-held when evicted, or
 * evicted by the flag-driven update) stays flag-held; once no pseudonym of it is flagged, the next
 * sync lifts it out of S_RN like any flag-held RN (an operator's `flagRn` stays the operator's).
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { formServiceGroup } from "../../offchain/rsms/group-flows";
import { initialJoin } from "../../offchain/rsms/flows";
import { evictFlaggedMembers } from "../../offchain/integration/evict";
import { Msrp } from "../../offchain/rsms/msrp";
import { Role } from "../../offchain/rsms/messages";
import { GroupParty } from "../../offchain/rsms/group";
import { toHex } from "../../offchain/crypto/bytes";
import type { TrustManager } from "../../typechain-types";

type Entity = { kind: bigint; attested: boolean; flags: bigint };
const trustOf = (entities: Map<string, Entity>) =>
  ({ entity: async (id: string) => entities.get(id) ?? { kind: 0n, attested: false, flags: 0n } }) as unknown as TrustManager;

describe("s22-redx F1: an RN evicted for a trust flag stays barred after the court clears the flag", function () {
  this.timeout(120_000);

  it("the flag is lifted and mirrored, but the evicted RN stays in S_RN for good", async () => {
    const { ctx, msrp, rpmA, rns, groupLedger } = await loadRsms();
    for (const r of rns.slice(0, 4)) await initialJoin(ctx, r, rpmA, msrp);
    const u = msrp.registerUser("alice", Msrp.registrationRequest(msrp.params.pkPub, Role.User, 0, "Alice Liddell"));
    const alice = new GroupParty("alice", u.pid, u.sk);
    const party = (name: string) => (name === "alice" ? alice : rns.find((r) => r.state.name === name)!.groupParty());
    const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
    const victim = msrp.groupInfo(g.groupId).members[0];
    // the detector flags the victim's own attested entity (a wrong detection)
    const entities = new Map<string, Entity>([[toHex(victim.pid), { kind: 3n, attested: true, flags: 2n }]]);
    const trust = trustOf(entities);
    // the flag sync mirrors it first (flag-held), as the MSRP service does before its automatic update
    expect(msrp.applyTrustFlags([victim.name], []).added).to.deep.equal([victim.name]);
    expect(msrp.flagHeldRns()).to.deep.equal([victim.name]);
    const r = await evictFlaggedMembers(trust, groupLedger, msrp, party, g.groupId);
    expect(r.flagged.map((m) => m.name)).to.deep.equal([victim.name]);
    // the court upholds the RN's flag contest: the flag is cleared on-chain
    entities.set(toHex(victim.pid), { kind: 3n, attested: true, flags: 0n });
    // the next flag sync mirrors the lifted flag
    const lifted = msrp.applyTrustFlags([], [victim.name]);
    expect(
      { lifted: lifted.lifted, suspicious: msrp.isSuspiciousPid(victim.pid) },
      "the court cleared the only reason the RN was evicted, yet it stays suspicious (never allocated, no rotation, no renewal)",
    ).to.deep.equal({ lifted: [victim.name], suspicious: false });
  });
});
