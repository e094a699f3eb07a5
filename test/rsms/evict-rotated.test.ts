/**
 * offchain/integration/evict.ts (the demo's eviction of flagged RNs) against an RN that rotated its
 * pseudonym (h11-red2 G1, G2): a member is flagged if the trust layer flagged any PID the MSRP
 * issued it, and the spares are RNs outside the group by name, so a flagged member that rotated is
 * evicted and not re-added under its new PID. s26-rtx (doubt): the spares skip an RN still marked
 * revoked on the ResourcePoolRegistry, as the GroupDesk's `freshRns` does.
 */
import { expect } from "chai";
import { loadAliceWorld, trustOf } from "./fixtures";
import { reauthenticate } from "../../offchain/rsms/flows";
import { evictFlaggedMembers } from "../../offchain/integration/evict";
import { equalBytes, toHex } from "../../offchain/crypto/bytes";
import { syncRevocations } from "../../offchain/rsms/revocations";

describe("integration/evict: a flagged member that rotated its pseudonym (h11-red2 G1, G2)", function () {
  this.timeout(120_000);

  it("is evicted (flagged under its first PID, in the group under its second) and not re-added under its new PID", async () => {
    const { ctx, msrp, rpmB, rns, groupLedger, party, form } = await loadAliceWorld(4);
    const bad = rns[0];
    const firstPid = bad.state.pid; // its trust identity, flagged by the detector
    await reauthenticate(ctx, bad, rpmB, msrp); // rotates to a PID the trust layer never saw
    expect(equalBytes(bad.state.pid, firstPid)).to.equal(false);
    const g = await form(2); // rn0 (new PID), rn1
    expect(
      msrp
        .groupInfo(g.groupId)
        .members.map((m) => m.name)
        .sort(),
    ).to.deep.equal(["rn0", "rn1"]); // listed by PID (h14-red F2)
    // its own entity: attested, a resource node
    const trust = trustOf(new Map([[toHex(firstPid), { kind: 3n, attested: true, flags: 2n }]]));
    const r = await evictFlaggedMembers(trust, groupLedger, msrp, party, g.groupId);
    expect(r.flagged.map((m) => m.name)).to.deep.equal(["rn0"]);
    expect(r.added).to.deep.equal(["rn2"]);
    expect(msrp.groupInfo(g.groupId).members.map((m) => m.name)).to.deep.equal(["rn1", "rn2"]);
    expect(await groupLedger.isMember(g.groupId, bad.state.pid)).to.equal(false);
  });

  it("a member in S_RN is evicted with the flagged one and replaced too: the group keeps its size, and the return value names it (session 16's final read)", async () => {
    const { msrp, groupLedger, party, form } = await loadAliceWorld(6);
    const g = await form(3);
    const before = msrp.groupInfo(g.groupId).members;
    const [flaggedRn, srnRn] = [before[0], before[1]];
    // one member flagged by the trust layer (its own attested entity), another in S_RN (the operator's decision)
    const trust = trustOf(new Map([[toHex(flaggedRn.pid), { kind: 3n, attested: true, flags: 2n }]]));
    msrp.flagRn(srnRn.pid);
    const r = await evictFlaggedMembers(trust, groupLedger, msrp, party, g.groupId);
    expect(r.flagged.map((m) => m.name)).to.deep.equal([flaggedRn.name]);
    expect(r.suspicious.map((m) => m.name)).to.deep.equal([srnRn.name]);
    expect(r.added).to.have.length(2);
    const after = msrp.groupInfo(g.groupId).members.map((m) => m.name);
    expect(after, "the group keeps its size").to.have.length(before.length);
    expect(after).to.not.include.members([flaggedRn.name, srnRn.name]);
    expect(after).to.include.members(r.added);
    for (const m of [flaggedRn, srnRn]) expect(await groupLedger.isMember(g.groupId, m.pid)).to.equal(false);
  });

  it("is not evicted for a flag on an entity someone else registered under its PID (another kind, or unattested) (h12-red F1)", async () => {
    const { msrp, rns, groupLedger, party, form } = await loadAliceWorld(3);
    const g = await form(2); // rn0, rn1
    const trust = trustOf(
      new Map([
        [toHex(rns[0].state.pid), { kind: 2n, attested: false, flags: 2n }], // Mallory's organization, flagged
        [toHex(rns[1].state.pid), { kind: 3n, attested: false, flags: 2n }], // a front-run unattested registration
      ]),
    );
    const r = await evictFlaggedMembers(trust, groupLedger, msrp, party, g.groupId);
    expect(r.flagged, "a member was evicted for a flag on an entity it does not own").to.deep.equal([]);
    expect(r.rekey).to.equal(undefined);
    expect(
      msrp
        .groupInfo(g.groupId)
        .members.map((m) => m.name)
        .sort(),
    ).to.deep.equal(["rn0", "rn1"]); // listed by PID (h14-red F2)
  });

  it("does not add a spare still marked revoked (out of S_RN, before the revocation sync lifts its mark): the flagged member is evicted (s26-rtx)", async () => {
    const w = await loadAliceWorld(4);
    const { msrp, groupLedger, party, form } = w;
    const g = await form(2); // rn0, rn1
    const members = msrp.groupInfo(g.groupId).members;
    const [first, second] = msrp.joinedRns().filter((r) => !members.some((m) => m.name === r.name));
    // the first spare holds a trust identity the MSRP marked, then left S_RN (rsms:rn:clear) before the next sync
    msrp.bindTrustId(first.name, first.pid);
    msrp.flagRn(first.pid);
    expect((await syncRevocations(w.ledger, msrp)).revoked).to.deep.equal([toHex(first.pid).toLowerCase()]);
    msrp.clearSuspicious(first.name);
    expect([...msrp.markedRns()], "out of S_RN, still marked").to.deep.equal([first.name]);
    const trust = trustOf(new Map([[toHex(members[0].pid), { kind: 3n, attested: true, flags: 2n }]]));
    const r = await evictFlaggedMembers(trust, groupLedger, msrp, party, g.groupId);
    expect(r.added).to.deep.equal([second.name]);
    expect(await groupLedger.isMember(g.groupId, members[0].pid)).to.equal(false);
    expect(msrp.groupInfo(g.groupId).members.map((m) => m.name)).to.deep.equal([members[1].name, second.name]);
  });
});
