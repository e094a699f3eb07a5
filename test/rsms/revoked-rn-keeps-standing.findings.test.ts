/**
 * s22-redx F2 (severity M: a rule is bypassable; trust and court weight carried by a revoked
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

describe("s22-redx F2: an RN the MSRP revoked keeps its verified identity and court standing on-chain", function () {
  this.timeout(120_000);

  it("evicted and in S_RN (and one the operator revoked): the registry still says verified, not revoked", async () => {
    const { ctx, msrp, rpmA, rns, groupLedger } = await loadRsms();
    for (const r of rns.slice(0, 4)) await initialJoin(ctx, r, rpmA, msrp);
    const u = msrp.registerUser("alice", Msrp.registrationRequest(msrp.params.pkPub, Role.User, 0, "Alice Liddell"));
    const alice = new GroupParty("alice", u.pid, u.sk);
    const party = (name: string) => (name === "alice" ? alice : rns.find((r) => r.state.name === name)!.groupParty());
    const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
    const [bad, other] = msrp.groupInfo(g.groupId).members;
    const trust = trustOf(new Map([[toHex(bad.pid), { kind: 3n, attested: true, flags: 2n }]]));
    await evictFlaggedMembers(trust, groupLedger, msrp, party, g.groupId);
    msrp.flagRn(other.pid); // the operator revokes another RN (rsms:rn:flag)
    const registry = ctx.ledger.registry;
    for (const m of [bad, other]) {
      expect(msrp.isSuspiciousPid(m.pid), `${m.name} is revoked off-chain`).to.equal(true);
      expect(
        { verified: await registry.isVerified(toHex(m.pid)), revoked: await registry.isRevoked(toHex(m.pid)) },
        `${m.name}: revoked by the MSRP, yet the trust layer's identity verifier still vouches for it`,
      ).to.deep.equal({ verified: false, revoked: true });
    }
  });
});
