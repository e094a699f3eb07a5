import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { encodePoint, mulBase, randomScalar } from "../../offchain/crypto/group";
import { keccak256 } from "../../offchain/crypto/hash";
import { toHex } from "../../offchain/crypto/bytes";
import { malformedPoints } from "./points";

const b32 = (s: string) => toHex(keccak256(new TextEncoder().encode(s)));
const q = () => toHex(encodePoint(mulBase(randomScalar())));

async function joinedFixture() {
  const f = await deploySystemFixture();
  await f.registry.createPool(1, f.others[0].address, b32("rpm"), q());
  for (const n of ["a", "b", "c", "d"]) await f.registry.recordJoin(b32(`pid-${n}`), b32(`tag-${n}`), 1, 1);
  const gid = b32("group-1");
  const q0 = q();
  await f.groups.formGroup(gid, b32("user"), [b32("pid-a"), b32("pid-b")], q0, b32("commit-0"));
  return { ...f, gid, q0 };
}

/** 257 RNs that joined pool 1, and a group "big" of the first 256 (MAX_MEMBERS). */
async function fullGroupFixture() {
  const f = await joinedFixture();
  const rns = [...Array(257).keys()].map((i) => b32(`pid-m${i}`));
  const joins = rns.map((pid, i) => ({ pid, tag: b32(`tag-m${i}`), poolId: 1, kind: 1 }));
  await f.registry.recordJoins(joins.slice(0, 129));
  await f.registry.recordJoins(joins.slice(129));
  return { ...f, rns, big: b32("big") };
}

describe("ServiceGroupRegistry", () => {
  describe("# group keys are curve points (issue 13 item 12)", () => {
    it("formGroup and rekey refuse a 0x02/0x03 Q whose x is off the curve or not below p; nothing changes", async () => {
      const { groups, gid, q0 } = await loadFixture(joinedFixture);
      for (const [name, bad] of malformedPoints()) {
        await expect(groups.formGroup(b32("g2"), b32("u"), [b32("pid-c")], bad, b32("c")), `formGroup: ${name}`)
          .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__InvalidGroup")
          .withArgs(b32("g2"));
        await expect(groups.rekey(gid, 1, [b32("pid-a")], [b32("pid-c")], bad, b32("c1")), `rekey: ${name}`)
          .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__InvalidGroup")
          .withArgs(gid);
      }
      expect((await groups.group(b32("g2"))).userPid).to.equal(ethers.ZeroHash);
      expect(await groups.isMember(b32("g2"), b32("pid-c"))).to.equal(false);
      const g = await groups.group(gid);
      expect(g.epoch).to.equal(0);
      expect(await groups.groupKeyCommitment(gid)).to.equal(q0);
      expect(await groups.isMember(gid, b32("pid-a"))).to.equal(true);
      expect(await groups.isMember(gid, b32("pid-c"))).to.equal(false);
    });
  });

  describe("# formGroup", () => {
    it("stores the user, members, Q, commitments and epoch 0", async () => {
      const { groups, registry, gid, q0 } = await loadFixture(joinedFixture);
      const g = await groups.group(gid);
      expect([g.userPid, g.epoch, g.members, g.commitments]).to.deep.equal([b32("user"), 0n, 2n, b32("commit-0")]);
      expect(await groups.groupKeyCommitment(gid)).to.equal(q0);
      expect(await groups.isMember(gid, b32("pid-a"))).to.equal(true);
      expect(await groups.isMember(gid, b32("pid-c"))).to.equal(false);
      expect(await groups.pools()).to.equal(await registry.getAddress());
    });

    it("emits GroupFormed", async () => {
      const { groups } = await loadFixture(joinedFixture);
      const q1 = q();
      await expect(groups.formGroup(b32("g2"), b32("u"), [b32("pid-c")], q1, b32("c")))
        .to.emit(groups, "GroupFormed")
        .withArgs(b32("g2"), b32("u"), [b32("pid-c")], q1, b32("c"));
    });

    it("rejects a taken id, members that never joined a pool, duplicates, bad Q and outsiders; nothing changes", async () => {
      const { groups, gid, others } = await loadFixture(joinedFixture);
      await expect(groups.formGroup(gid, b32("u"), [b32("pid-c")], q(), b32("c")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__GroupExists")
        .withArgs(gid);
      await expect(groups.formGroup(b32("g3"), b32("u"), [b32("pid-c"), b32("never-joined")], q(), b32("c")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__NotJoined")
        .withArgs(b32("never-joined"));
      await expect(groups.formGroup(b32("g3"), b32("u"), [b32("pid-c"), b32("pid-c")], q(), b32("c"))).to.be.revertedWithCustomError(
        groups,
        "ServiceGroupRegistry__AlreadyMember",
      );
      await expect(groups.formGroup(b32("g3"), b32("u"), [b32("pid-c")], "0x04" + q().slice(4), b32("c"))).to.be.revertedWithCustomError(
        groups,
        "ServiceGroupRegistry__InvalidGroup",
      );
      await expect(groups.formGroup(b32("g3"), b32("u"), [], q(), b32("c"))).to.be.revertedWithCustomError(
        groups,
        "ServiceGroupRegistry__InvalidGroup",
      );
      await expect(groups.connect(others[0]).formGroup(b32("g3"), b32("u"), [b32("pid-c")], q(), b32("c"))).to.be.revertedWithCustomError(
        groups,
        "AccessControlUnauthorizedAccount",
      );
      expect((await groups.group(b32("g3"))).userPid).to.equal(ethers.ZeroHash);
      expect(await groups.isMember(b32("g3"), b32("pid-c"))).to.equal(false);
    });

    it("rejects a zero group id, a zero user PID or commitments and a short Q; an unknown group has no Q; nothing changes", async () => {
      const { groups } = await loadFixture(joinedFixture);
      const Z = ethers.ZeroHash;
      await expect(groups.formGroup(Z, b32("u"), [b32("pid-c")], q(), b32("c")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__GroupExists")
        .withArgs(Z);
      for (const [user, qq, commitments] of [
        [Z, q(), b32("c")],
        [b32("u"), q(), Z],
        [b32("u"), q().slice(0, 66), b32("c")],
      ])
        await expect(groups.formGroup(b32("g3"), user, [b32("pid-c")], qq, commitments))
          .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__InvalidGroup")
          .withArgs(b32("g3"));
      await expect(groups.groupKeyCommitment(b32("g3")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__UnknownGroup")
        .withArgs(b32("g3"));
      expect((await groups.group(Z)).userPid).to.equal(Z);
      expect((await groups.group(b32("g3"))).userPid).to.equal(Z);
      expect(await groups.isMember(b32("g3"), b32("pid-c"))).to.equal(false);
    });

    it("takes up to MAX_MEMBERS = 256 members, at formation and at rekey; nothing changes past it", async () => {
      const { groups, rns, big } = await loadFixture(fullGroupFixture);
      expect(await groups.MAX_MEMBERS()).to.equal(256n);
      await expect(groups.formGroup(big, b32("u"), rns, q(), b32("c")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__TooManyMembers")
        .withArgs(big, 257);
      expect((await groups.group(big)).userPid).to.equal(ethers.ZeroHash);
      expect(await groups.isMember(big, rns[0])).to.equal(false);
      const q0 = q();
      await groups.formGroup(big, b32("u"), rns.slice(0, 256), q0, b32("c"));
      expect((await groups.group(big)).members).to.equal(256n);
      await expect(groups.rekey(big, 1, [], [rns[256]], q(), b32("c1")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__TooManyMembers")
        .withArgs(big, 257);
      const g = await groups.group(big);
      expect([g.epoch, g.members, g.commitments]).to.deep.equal([0n, 256n, b32("c")]);
      expect(await groups.groupKeyCommitment(big)).to.equal(q0);
      expect(await groups.isMember(big, rns[256])).to.equal(false);
      // evicting one makes room for it
      await groups.rekey(big, 1, [rns[0]], [rns[256]], q(), b32("c1"));
      expect((await groups.group(big)).members).to.equal(256n);
      expect([await groups.isMember(big, rns[0]), await groups.isMember(big, rns[256])]).to.deep.equal([false, true]);
    });
  });

  describe("# rekey", () => {
    it("evicts, adds and moves to the next epoch with events", async () => {
      const { groups, gid } = await loadFixture(joinedFixture);
      const q1 = q();
      await expect(groups.rekey(gid, 1, [b32("pid-a")], [b32("pid-c")], q1, b32("commit-1")))
        .to.emit(groups, "MemberEvicted")
        .withArgs(gid, b32("pid-a"), 1)
        .and.to.emit(groups, "MemberAdded")
        .withArgs(gid, b32("pid-c"), 1)
        .and.to.emit(groups, "GroupRekeyed")
        .withArgs(gid, 1, q1, b32("commit-1"));
      const g = await groups.group(gid);
      expect([g.epoch, g.members]).to.deep.equal([1n, 2n]);
      expect(await groups.isMember(gid, b32("pid-a"))).to.equal(false);
      expect(await groups.groupKeyCommitment(gid)).to.equal(q1);
    });

    it("rejects evicting a non-member, adding an RN that has not joined or is a member, and reusing an epoch; nothing changes", async () => {
      const { groups, gid, q0 } = await loadFixture(joinedFixture);
      await expect(groups.rekey(gid, 1, [b32("pid-c")], [], q(), b32("x")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__NotMember")
        .withArgs(gid, b32("pid-c"));
      await expect(groups.rekey(gid, 1, [], [b32("stranger")], q(), b32("x")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__NotJoined")
        .withArgs(b32("stranger"));
      await expect(groups.rekey(gid, 1, [], [b32("pid-b")], q(), b32("x")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__AlreadyMember")
        .withArgs(gid, b32("pid-b"));
      await expect(groups.rekey(gid, 0, [], [], q(), b32("x")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__EpochNotNext")
        .withArgs(gid, 1, 0);
      await expect(groups.rekey(gid, 2, [], [], q(), b32("x")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__EpochNotNext")
        .withArgs(gid, 1, 2);
      await expect(groups.rekey(gid, 1, [b32("pid-a"), b32("pid-b")], [], q(), b32("x"))).to.be.revertedWithCustomError(
        groups,
        "ServiceGroupRegistry__InvalidGroup",
      );
      await expect(groups.rekey(b32("nope"), 1, [], [], q(), b32("x"))).to.be.revertedWithCustomError(
        groups,
        "ServiceGroupRegistry__UnknownGroup",
      );
      const g = await groups.group(gid);
      expect([g.epoch, g.members, g.commitments]).to.deep.equal([0n, 2n, b32("commit-0")]);
      expect(await groups.groupKeyCommitment(gid)).to.equal(q0);
      expect(await groups.isMember(gid, b32("pid-a"))).to.equal(true);
    });

    it("rejects zero commitments, a malformed Q and a non-MSRP caller; nothing changes", async () => {
      const { groups, gid, q0, others } = await loadFixture(joinedFixture);
      await expect(groups.rekey(gid, 1, [b32("pid-a")], [b32("pid-c")], q(), ethers.ZeroHash))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__InvalidGroup")
        .withArgs(gid);
      await expect(groups.rekey(gid, 1, [b32("pid-a")], [b32("pid-c")], q().slice(0, 66), b32("x")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__InvalidGroup")
        .withArgs(gid);
      await expect(groups.connect(others[0]).rekey(gid, 1, [b32("pid-a")], [b32("pid-c")], q(), b32("x")))
        .to.be.revertedWithCustomError(groups, "AccessControlUnauthorizedAccount")
        .withArgs(others[0].address, await groups.MSRP_ROLE());
      const g = await groups.group(gid);
      expect([g.epoch, g.members, g.commitments]).to.deep.equal([0n, 2n, b32("commit-0")]);
      expect(await groups.groupKeyCommitment(gid)).to.equal(q0);
      expect([await groups.isMember(gid, b32("pid-a")), await groups.isMember(gid, b32("pid-c"))]).to.deep.equal([true, false]);
    });

    it("an epoch, once used, cannot be used again", async () => {
      const { groups, gid } = await loadFixture(joinedFixture);
      await groups.rekey(gid, 1, [], [], q(), b32("c1"));
      await expect(groups.rekey(gid, 1, [], [], q(), b32("c1")))
        .to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__EpochNotNext")
        .withArgs(gid, 2, 1);
    });
  });
});
