/**
 * s24-rtr (outside red team, RSMS resource pools and service groups): each test is a finding that
 * FAILED on the tree it was written against; both are fixed (s24-fxr) and each test guards its fix.
 *
 *   R1 (L) ServiceGroupRegistry admits a PID the ResourcePoolRegistry marks revoked (isRevoked,
 *          isVerified false: the RN is in S_RN) to a group, at formGroup and at rekey's `add`: the
 *          on-chain "only an RN a pool authenticated" check read the join record alone. Fixed:
 *          ServiceGroupRegistry__PidRevoked(pid), nothing changes.
 *   R2 (L) GroupParty.open accepts a party's own channel message reflected back to it by the network
 *          as incoming traffic from itself (a message it never received from anyone). Both callers
 *          today skip the party's own messages by sender (readRemote, tasks/group.ts group:send), so
 *          this is the agent API's own gap: any new caller inherits it. Fixed: open refuses it
 *          (GroupAuthenticationError REFLECTED), the party's state unchanged.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { encodePoint, mulBase, randomScalar } from "../../offchain/crypto/group";
import { keccak256 } from "../../offchain/crypto/hash";
import { toHex } from "../../offchain/crypto/bytes";
import { loadGroups } from "./group-fixtures";
import { formServiceGroup } from "../../offchain/rsms/group-flows";
import { GroupAuthenticationError } from "../../offchain/rsms/group";

const b32 = (s: string) => toHex(keccak256(new TextEncoder().encode(s)));
const q = () => toHex(encodePoint(mulBase(randomScalar())));
const text = (s: string) => new TextEncoder().encode(s);

async function joinedFixture() {
  const f = await deploySystemFixture();
  await f.registry.createPool(1, f.others[0].address, b32("rpm"), q());
  for (const n of ["a", "b", "c"]) await f.registry.recordJoin(b32(`pid-${n}`), b32(`tag-${n}`), 1, 1);
  const gid = b32("group-1");
  await f.groups.formGroup(gid, b32("user"), [b32("pid-a"), b32("pid-b")], q(), b32("commit-0"));
  return { ...f, gid };
}

describe("s24-rtr (RSMS): a revoked PID joins no group; a reflected message is not received traffic", () => {
  describe("R1 (L): the group registry admits a revoked PID", () => {
    it("formGroup refuses a member the pool registry marks revoked; nothing changes", async () => {
      const { registry, groups } = await loadFixture(joinedFixture);
      await registry.revokePid(b32("pid-c"));
      expect([await registry.isRevoked(b32("pid-c")), await registry.isVerified(b32("pid-c"))]).to.deep.equal([true, false]);
      await expect(groups.formGroup(b32("g2"), b32("u2"), [b32("pid-a"), b32("pid-c")], q(), b32("c")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__PidRevoked")
        .withArgs(b32("pid-c"));
      expect(await groups.isMember(b32("g2"), b32("pid-c"))).to.equal(false);
      expect(await groups.isMember(b32("g2"), b32("pid-a"))).to.equal(false);
      expect((await groups.group(b32("g2"))).userPid).to.equal(ethers.ZeroHash);
    });

    it("a reinstated PID is admitted again (the check follows the mark)", async () => {
      const { registry, groups } = await loadFixture(joinedFixture);
      await registry.revokePid(b32("pid-c"));
      await registry.reinstatePid(b32("pid-c"));
      await expect(groups.formGroup(b32("g2"), b32("u2"), [b32("pid-c")], q(), b32("c"))).to.emit(groups, "GroupFormed");
      expect(await groups.isMember(b32("g2"), b32("pid-c"))).to.equal(true);
    });

    it("rekey refuses to add a member the pool registry marks revoked; nothing changes", async () => {
      const { registry, groups, gid } = await loadFixture(joinedFixture);
      await registry.revokePid(b32("pid-c"));
      const before = await groups.group(gid);
      await expect(groups.rekey(gid, 1, [b32("pid-a")], [b32("pid-c")], q(), b32("commit-1")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__PidRevoked")
        .withArgs(b32("pid-c"));
      expect(await groups.isMember(gid, b32("pid-c"))).to.equal(false);
      expect(await groups.isMember(gid, b32("pid-a")), "the eviction in the same call is undone").to.equal(true);
      expect(await groups.group(gid)).to.deep.equal(before);
    });
  });

  describe("R2 (L): a party's own channel message reflected back to it", () => {
    it("open refuses a message whose sender is the opening party itself; its state is unchanged", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
      const [alice, rn] = g.parties;
      const c = alice.seal(g.groupId, text("pay rn0 10 tokens"));
      // the honest receiver takes it once
      expect(new TextDecoder().decode(rn.open(c).plaintext)).to.equal("pay rn0 10 tokens");
      // the network reflects the same bytes to their sender: it is not traffic alice received
      let err: unknown;
      try {
        alice.open(c);
      } catch (e) {
        err = e;
      }
      expect(err, "alice accepted her own message as received traffic").to.be.instanceOf(GroupAuthenticationError);
      expect((err as GroupAuthenticationError).failure).to.equal("REFLECTED");
      // and her next message still opens at the receiver (nothing of hers moved)
      const d = alice.seal(g.groupId, text("second"));
      expect(new TextDecoder().decode(rn.open(d).plaintext)).to.equal("second");
      // and she still takes the receiver's traffic (its first message: her counters unchanged)
      const r = rn.seal(g.groupId, text("ack"));
      expect(new TextDecoder().decode(alice.open(r).plaintext)).to.equal("ack");
    });
  });
});
