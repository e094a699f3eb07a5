/**
 * s22-redx F1 (fixed by s22-fx12; severity M: an honest party loses something it should keep; the flag contest is
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
 * The lifted RN is not put back in the group that evicted it (a fresh allocation is the way back),
 * and the reason it is held survives a restart of the MSRP (its keystore record).
 */
import { expect } from "chai";
import { EntityStub as Entity, loadAliceWorld, trustOf } from "./fixtures";
import { evictFlaggedMembers } from "../../offchain/integration/evict";
import { Msrp } from "../../offchain/rsms/msrp";
import { toHex } from "../../offchain/crypto/bytes";

async function setup() {
  const w = await loadAliceWorld();
  return { ...w, g: await w.form() };
}

describe("s22-redx F1: an RN evicted for a trust flag is lifted with the flag", function () {
  this.timeout(120_000);

  it("the flag is lifted and mirrored: the evicted RN leaves S_RN (not the group's member again, allocatable again)", async () => {
    const { msrp, groupLedger, party, g } = await setup();
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
    expect(
      msrp.groupInfo(g.groupId).members.map((m) => m.name),
      "not put back in the group that evicted it",
    ).to.not.include(victim.name);
    expect(msrp.allocate(4), "a fresh allocation may pick it again").to.include(victim.name);
  });

  it("flagged, not mirrored yet, evicted for the flag: held by it across a restart of the MSRP, lifted with it", async () => {
    const { msrp, groupLedger, party, g } = await setup();
    const victim = msrp.groupInfo(g.groupId).members[0];
    const entities = new Map<string, Entity>([[toHex(victim.pid), { kind: 3n, attested: true, flags: 2n }]]);
    expect(msrp.flagHeldRns(), "the sync has not run").to.deep.equal([]);
    await evictFlaggedMembers(trustOf(entities), groupLedger, msrp, party, g.groupId);
    expect(msrp.flagHeldRns(), "evicted for the flag: held by it").to.deep.equal([victim.name]);
    const restarted = Msrp.fromRecord(msrp.toRecord());
    entities.set(toHex(victim.pid), { kind: 3n, attested: true, flags: 0n });
    expect(restarted.applyTrustFlags([], [victim.name]).lifted).to.deep.equal([victim.name]);
    expect(restarted.isSuspiciousPid(victim.pid)).to.equal(false);
  });

  it("an RN the operator put in S_RN stays the operator's: evicted, the lifted flag does not lift it", async () => {
    const { msrp, groupLedger, party, g } = await setup();
    const [victim, other] = msrp.groupInfo(g.groupId).members;
    // the victim is flagged and mirrored, then the operator flags it too (rsms:rn:flag); the other is the operator's alone
    msrp.applyTrustFlags([victim.name], []);
    msrp.flagRn(victim.pid);
    msrp.flagRn(other.pid);
    const entities = new Map<string, Entity>([[toHex(victim.pid), { kind: 3n, attested: true, flags: 2n }]]);
    await evictFlaggedMembers(trustOf(entities), groupLedger, msrp, party, g.groupId);
    expect(msrp.flagHeldRns()).to.deep.equal([]);
    expect(msrp.applyTrustFlags([], [victim.name, other.name]).lifted).to.deep.equal([]);
    expect([victim, other].map((m) => msrp.isSuspiciousPid(m.pid))).to.deep.equal([true, true]);
  });
});
