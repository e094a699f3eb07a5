/**
 * s22-redx F2 (fixed by s22-fx12; severity M: a rule is bypassable; trust and court weight carried by a revoked
 * identity). Attack: an RN behaves badly, the MSRP evicts it from its service group and puts it in
 * S_RN (RSMS §I: "its joining a Metaverse service resource pool will be revoked"; §IV.B.2.c: never
 * allocated again), or the operator revokes it with `flagRn`. Off-chain it is barred; on-chain
 * nothing changes: ResourcePoolRegistry, the TrustManager's identity verifier for resource nodes,
 * still answers isVerified(PID) = true and isRevoked(PID) = false (hard-wired `pure false`). So the
 * revoked RN's attested trust entity keeps its verified identity factor
 * (`TrustManager.isIdentityVerified` asks `isVerified`), and its court standing
 * (`hasIdentityStanding` = !isRevoked, what DisputeResolution asks of every juror at commit and
 * settle): a ring of revoked RNs keeps voting in flag contests and avatar disputes (false
 * accusation, clearing each other's flags), and keeps the identity weight in every trust value
 * others compute for it. Paper 4's identity factor and the charter's "trust or court weight carried
 * by a revoked identity" both say it must not.
 * Fixed behaviour: when the MSRP revokes an RN (S_RN by eviction or by the operator), it marks the
 * RN's attested trust PID revoked on-chain (an MSRP_ROLE call on the registry: the trust PID is
 * public already, so this links no rotated pseudonym), and isRevoked / isVerified answer it; a
 * cleared RN (`clearSuspicious`, or a lifted flag) is un-marked.
 * The Msrp agent is pure (the chain is the caller's): the MSRP service's flag sync runs the
 * revocation sync (offchain/rsms/revocations.ts) after S_RN changed; in process the test runs it.
 * The RNs hold trust identities (the attestation binds one PID per RN: `bindTrustId`), as the
 * attack needs (a trust entity registered with the MSRP's attestation).
 * The court end to end (a revoked RN's attested entity cannot commit as a juror):
 * test/disputes/rn-juror-revoked.test.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadAliceWorld, trustOf } from "./fixtures";
import { evictFlaggedMembers } from "../../offchain/integration/evict";
import { Msrp } from "../../offchain/rsms/msrp";
import { toHex } from "../../offchain/crypto/bytes";
import { syncRevocations } from "../../offchain/rsms/revocations";

describe("s22-redx F2: an RN the MSRP revoked loses its verified identity and court standing on-chain", function () {
  this.timeout(120_000);

  it("evicted and in S_RN (and one the operator revoked): the registry says revoked, not verified; lifted when they leave S_RN", async () => {
    const { ctx, msrp, groupLedger, party, form } = await loadAliceWorld();
    const g = await form();
    const [bad, other] = msrp.groupInfo(g.groupId).members;
    // every joined RN holds a trust identity (what the MSRP's attestation binds), the two members' and a bystander's
    const bystander = msrp.joinedRns().find((r) => r.name !== bad.name && r.name !== other.name)!;
    for (const m of [bad, other, bystander]) msrp.bindTrustId(m.name, m.pid);
    const entities = new Map([[toHex(bad.pid), { kind: 3n, attested: true, flags: 2n }]]);
    const trust = trustOf(entities);
    await evictFlaggedMembers(trust, groupLedger, msrp, party, g.groupId);
    msrp.flagRn(other.pid); // the operator revokes another RN (rsms:rn:flag)
    const registry = ctx.ledger.registry;
    const sync = await syncRevocations(ctx.ledger, msrp);
    expect(sync.revoked.sort()).to.deep.equal([toHex(bad.pid), toHex(other.pid)].sort());
    const standing = async (pid: Uint8Array) => ({
      verified: await registry.isVerified(toHex(pid)),
      revoked: await registry.isRevoked(toHex(pid)),
    });
    for (const m of [bad, other]) {
      expect(msrp.isSuspiciousPid(m.pid), `${m.name} is revoked off-chain`).to.equal(true);
      expect(
        await standing(m.pid),
        `${m.name}: revoked by the MSRP, yet the trust layer's identity verifier still vouches for it`,
      ).to.deep.equal({ verified: false, revoked: true });
    }
    expect(await standing(bystander.pid), "an RN not in S_RN keeps its standing").to.deep.equal({ verified: true, revoked: false });
    // a retry (a sync after a lost reply, or again) writes nothing: no transaction, no event
    const block = await ethers.provider.getBlockNumber();
    expect(await syncRevocations(ctx.ledger, msrp)).to.deep.equal({ revoked: [], reinstated: [], failed: [] });
    // a crash between the write and its record: the next sync finds the mark on the chain and writes nothing either
    const lost = Msrp.fromRecord({ ...msrp.toRecord(), revokedIds: [] });
    expect((await syncRevocations(ctx.ledger, lost)).revoked.length).to.equal(2);
    expect(await ethers.provider.getBlockNumber(), "no second transaction").to.equal(block);
    // the operator clears one, the court clears the other's flag (mirrored by the flag sync): both reinstated
    msrp.clearSuspicious(other.name);
    entities.set(toHex(bad.pid), { kind: 3n, attested: true, flags: 0n });
    expect(msrp.applyTrustFlags([], [bad.name]).lifted).to.deep.equal([bad.name]);
    expect((await syncRevocations(ctx.ledger, msrp)).reinstated.length).to.equal(2);
    for (const m of [bad, other]) expect(await standing(m.pid)).to.deep.equal({ verified: true, revoked: false });
  });
});
