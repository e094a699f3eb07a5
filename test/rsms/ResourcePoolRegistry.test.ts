import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { encodePoint, mulBase, randomScalar } from "../../offchain/crypto/group";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { malformedPoints } from "./points";

const pk = () => toHex(encodePoint(mulBase(randomScalar())));
const b32 = (s: string) => toHex(keccak256(new TextEncoder().encode(s)));

async function withPoolFixture() {
  const f = await deploySystemFixture();
  const [rpmA] = f.others;
  const pkA = pk();
  await f.registry.createPool(1, rpmA.address, b32("pid-rpm-A"), pkA);
  return { ...f, rpmA, pkA };
}

describe("ResourcePoolRegistry", () => {
  describe("# createPool", () => {
    it("creates a pool, stores PK_RPM, grants the RPM role and emits PoolCreated", async () => {
      const { registry, others } = await loadFixture(deploySystemFixture);
      const pkA = pk();
      await expect(registry.createPool(7, others[0].address, b32("pid"), pkA))
        .to.emit(registry, "PoolCreated")
        .withArgs(7, others[0].address, b32("pid"), pkA);
      const p = await registry.pool(7);
      expect(p.rpm).to.equal(others[0].address);
      expect(p.epochs).to.equal(0);
      expect(await registry.poolPublicKey(7)).to.equal(pkA);
      expect(await registry.hasRole(await registry.RPM_ROLE(), others[0].address)).to.equal(true);
    });

    it("reverts for a taken or zero id, a bad key or account, and a non-MSRP caller; nothing changes", async () => {
      const { registry, rpmA, pkA, others } = await loadFixture(withPoolFixture);
      await expect(registry.createPool(1, others[1].address, b32("x"), pk()))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__PoolExists")
        .withArgs(1);
      await expect(registry.createPool(0, others[1].address, b32("x"), pk()))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__PoolExists")
        .withArgs(0);
      const badPrefix = "0x04" + pk().slice(4);
      await expect(registry.createPool(2, others[1].address, b32("x"), badPrefix))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__InvalidPool")
        .withArgs(2);
      await expect(registry.createPool(2, others[1].address, b32("x"), pk().slice(0, 40))).to.be.revertedWithCustomError(
        registry,
        "ResourcePoolRegistry__InvalidPool",
      );
      await expect(registry.createPool(2, ethers.ZeroAddress, b32("x"), pk())).to.be.revertedWithCustomError(
        registry,
        "ResourcePoolRegistry__InvalidPool",
      );
      await expect(registry.createPool(2, others[1].address, ethers.ZeroHash, pk())).to.be.revertedWithCustomError(
        registry,
        "ResourcePoolRegistry__InvalidPool",
      );
      await expect(registry.connect(others[1]).createPool(3, others[1].address, b32("x"), pk())).to.be.revertedWithCustomError(
        registry,
        "AccessControlUnauthorizedAccount",
      );
      expect((await registry.pool(1)).rpm).to.equal(rpmA.address);
      expect(await registry.poolPublicKey(1)).to.equal(pkA);
      expect((await registry.pool(2)).rpm).to.equal(ethers.ZeroAddress);
      expect((await registry.pool(3)).rpm).to.equal(ethers.ZeroAddress);
    });
  });

  describe("# updatePool", () => {
    it("replaces the RPM and keeps the epochs", async () => {
      const { registry, rpmA, others } = await loadFixture(withPoolFixture);
      await registry.publishFilter(1, b32("root"), "bafkcid", 10, 8);
      const newPk = pk();
      await expect(registry.updatePool(1, others[2].address, b32("pid2"), newPk))
        .to.emit(registry, "PoolUpdated")
        .withArgs(1, rpmA.address, others[2].address, b32("pid2"), newPk);
      expect((await registry.pool(1)).epochs).to.equal(1);
      expect(await registry.poolPublicKey(1)).to.equal(newPk);
      await expect(registry.updatePool(9, others[2].address, b32("pid2"), newPk))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__UnknownPool")
        .withArgs(9);
    });
  });

  describe("# pool keys are curve points (issue 13 item 12)", () => {
    it("createPool and updatePool refuse a 0x02/0x03 key whose x is off the curve or not below p; nothing changes", async () => {
      const { registry, rpmA, pkA, others } = await loadFixture(withPoolFixture);
      for (const [name, bad] of malformedPoints()) {
        await expect(registry.createPool(2, others[1].address, b32("x"), bad), `createPool: ${name}`)
          .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__InvalidPool")
          .withArgs(2);
        await expect(registry.updatePool(1, others[1].address, b32("x"), bad), `updatePool: ${name}`)
          .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__InvalidPool")
          .withArgs(1);
      }
      expect((await registry.pool(2)).rpm).to.equal(ethers.ZeroAddress);
      expect((await registry.pool(1)).rpm).to.equal(rpmA.address);
      expect(await registry.poolPublicKey(1)).to.equal(pkA);
      expect(await registry.hasRole(await registry.RPM_ROLE(), others[1].address)).to.equal(false);
    });
  });

  describe("# publishFilter", () => {
    it("numbers epochs from 0 and stores root, CID and parameters", async () => {
      const { registry } = await loadFixture(withPoolFixture);
      await expect(registry.publishFilter(1, b32("r0"), "cid0", 1024, 20))
        .to.emit(registry, "FilterPublished")
        .withArgs(1, 0, b32("r0"), "cid0", 1024, 20);
      await expect(registry.publishFilter(1, b32("r1"), "cid1", 512, 10))
        .to.emit(registry, "FilterPublished")
        .withArgs(1, 1, b32("r1"), "cid1", 512, 10);
      const f = await registry.filterAt(1, 1);
      expect([f.root, f.cid, f.capacity, f.lambda]).to.deep.equal([b32("r1"), "cid1", 512n, 10n]);
      expect((await registry.pool(1)).epochs).to.equal(2);
    });

    it("reverts for an unknown pool, bad parameters or a non-MSRP caller; nothing changes", async () => {
      const { registry, rpmA } = await loadFixture(withPoolFixture);
      await expect(registry.publishFilter(2, b32("r"), "c", 10, 8))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__UnknownPool")
        .withArgs(2);
      for (const [root, cid, cap, lambda] of [
        [ethers.ZeroHash, "c", 10, 8],
        [b32("r"), "", 10, 8],
        [b32("r"), "c", 0, 8],
        [b32("r"), "c", 10, 0],
        [b32("r"), "c", 10, 65],
      ] as const) {
        await expect(registry.publishFilter(1, root, cid, cap, lambda))
          .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__InvalidFilter")
          .withArgs(1);
      }
      await expect(registry.connect(rpmA).publishFilter(1, b32("r"), "c", 10, 8)).to.be.revertedWithCustomError(
        registry,
        "AccessControlUnauthorizedAccount",
      );
      expect((await registry.pool(1)).epochs).to.equal(0);
    });
  });

  describe("# recordJoin", () => {
    it("records (PID, H4(a)) with look-ups both ways and emits JoinRecorded", async () => {
      const { registry } = await loadFixture(withPoolFixture);
      await expect(registry.recordJoin(b32("pid"), b32("tag"), 1, 1))
        .to.emit(registry, "JoinRecorded")
        .withArgs(b32("pid"), b32("tag"), 1, 1);
      const r = await registry.recordOf(b32("pid"));
      expect([r.tag, r.poolId, r.kind]).to.deep.equal([b32("tag"), 1n, 1n]);
      expect(await registry.pidOfTag(b32("tag"))).to.equal(b32("pid"));
      expect(await registry.isTagUsed(b32("tag"))).to.equal(true);
      expect(await registry.joinCount()).to.equal(1);
    });

    it("rejects a replayed tag, an existing PID, zero values, a bad kind, an unknown pool and outsiders; nothing changes", async () => {
      const { registry, rpmA } = await loadFixture(withPoolFixture);
      await registry.recordJoin(b32("pid"), b32("tag"), 1, 1);
      await expect(registry.recordJoin(b32("pid2"), b32("tag"), 1, 1))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__TagUsed")
        .withArgs(b32("tag"));
      await expect(registry.recordJoin(b32("pid"), b32("tag2"), 1, 2))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__PidExists")
        .withArgs(b32("pid"));
      await expect(registry.recordJoin(ethers.ZeroHash, b32("t3"), 1, 1)).to.be.revertedWithCustomError(
        registry,
        "ResourcePoolRegistry__InvalidRecord",
      );
      await expect(registry.recordJoin(b32("p3"), ethers.ZeroHash, 1, 1)).to.be.revertedWithCustomError(
        registry,
        "ResourcePoolRegistry__InvalidRecord",
      );
      await expect(registry.recordJoin(b32("p3"), b32("t3"), 1, 3))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__InvalidRecord")
        .withArgs(b32("p3"), b32("t3"), 3);
      await expect(registry.recordJoin(b32("p3"), b32("t3"), 5, 1))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__UnknownPool")
        .withArgs(5);
      await expect(registry.connect(rpmA).recordJoin(b32("p3"), b32("t3"), 1, 1)).to.be.revertedWithCustomError(
        registry,
        "AccessControlUnauthorizedAccount",
      );
      expect(await registry.joinCount()).to.equal(1);
      expect(await registry.isTagUsed(b32("tag2"))).to.equal(false);
      expect((await registry.recordOf(b32("pid2"))).tag).to.equal(ethers.ZeroHash);
      expect((await registry.recordOf(b32("p3"))).tag).to.equal(ethers.ZeroHash);
    });
  });

  describe("# recordJoins", () => {
    it("records a batch in one transaction", async () => {
      const { registry } = await loadFixture(withPoolFixture);
      const batch = [...Array(5).keys()].map((i) => ({ pid: b32(`p${i}`), tag: b32(`t${i}`), poolId: 1, kind: 1 }));
      await registry.recordJoins(batch);
      expect(await registry.joinCount()).to.equal(5);
      expect(await registry.pidOfTag(b32("t3"))).to.equal(b32("p3"));
    });

    it("is all or nothing: one replay in the batch reverts the whole batch", async () => {
      const { registry } = await loadFixture(withPoolFixture);
      await registry.recordJoin(b32("p9"), b32("t9"), 1, 1);
      const batch = [
        { pid: b32("p0"), tag: b32("t0"), poolId: 1, kind: 1 },
        { pid: b32("p1"), tag: b32("t9"), poolId: 1, kind: 1 },
      ];
      await expect(registry.recordJoins(batch))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__TagUsed")
        .withArgs(b32("t9"));
      await expect(registry.recordJoins([])).to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__EmptyBatch");
      expect(await registry.joinCount()).to.equal(1);
      expect(await registry.isTagUsed(b32("t0"))).to.equal(false);
    });
  });

  describe("# roles and look-ups", () => {
    it("updatePool and recordJoins are for the MSRP only; nothing changes", async () => {
      const { registry, rpmA, pkA, others } = await loadFixture(withPoolFixture);
      const MSRP = await registry.MSRP_ROLE();
      await expect(registry.connect(rpmA).updatePool(1, others[2].address, b32("pid2"), pk()))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(rpmA.address, MSRP);
      await expect(registry.connect(others[2]).recordJoins([{ pid: b32("p0"), tag: b32("t0"), poolId: 1, kind: 1 }]))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(others[2].address, MSRP);
      const p = await registry.pool(1);
      expect([p.rpm, p.pidRpm]).to.deep.equal([rpmA.address, b32("pid-rpm-A")]);
      expect(await registry.poolPublicKey(1)).to.equal(pkA);
      expect(await registry.hasRole(await registry.RPM_ROLE(), others[2].address)).to.equal(false);
      expect(await registry.joinCount()).to.equal(0);
      expect(await registry.isTagUsed(b32("t0"))).to.equal(false);
    });

    it("joinView: the pool, isTagUsed and filterAt of epochs [from, min(from + max, epochs)), in one call", async () => {
      const { registry } = await loadFixture(withPoolFixture);
      const roots = [0, 1, 2, 3].map((i) => b32(`root-${i}`));
      for (const [i, r] of roots.entries()) await registry.publishFilter(1, r, `cid-${i}`, 64 + i, 20);
      await registry.recordJoin(b32("pid"), b32("used"), 1, 1);
      const filtersOf = (v: Awaited<ReturnType<typeof registry.joinView>>) => v.filters.map((f) => [f.root, f.cid, f.capacity]);
      const expected = (from: number, to: number) => roots.slice(from, to).map((r, i) => [r, `cid-${from + i}`, BigInt(64 + from + i)]);
      const all = await registry.joinView(1, b32("used"), 0, 8);
      expect([...all.p]).to.deep.equal([...(await registry.pool(1))]);
      expect(all.tagUsed).to.equal(true);
      expect(filtersOf(all)).to.deep.equal(expected(0, 4));
      // each filter as filterAt has it
      for (let e = 0; e < 4; e++) expect([...all.filters[e]]).to.deep.equal([...(await registry.filterAt(1, e))]);
      expect((await registry.joinView(1, b32("free"), 0, 8)).tagUsed).to.equal(false);
      // from an epoch on, at most max of them, none past the last
      expect(filtersOf(await registry.joinView(1, b32("x"), 1, 2))).to.deep.equal(expected(1, 3));
      expect(filtersOf(await registry.joinView(1, b32("x"), 3, 8))).to.deep.equal(expected(3, 4));
      expect(filtersOf(await registry.joinView(1, b32("x"), 4, 8))).to.deep.equal([]);
      expect(filtersOf(await registry.joinView(1, b32("x"), 2 ** 32 - 1, 2 ** 32 - 1))).to.deep.equal([]);
      expect(filtersOf(await registry.joinView(1, b32("x"), 0, 0))).to.deep.equal([]);
      // an unknown pool: rpm zero, no filters
      const none = await registry.joinView(9, b32("used"), 0, 8);
      expect([none.p.rpm, none.tagUsed, none.filters.length]).to.deep.equal([ethers.ZeroAddress, true, 0]);
    });

    it("poolPublicKey of an unknown pool reverts; isVerified follows the join records", async () => {
      const { registry } = await loadFixture(withPoolFixture);
      await expect(registry.poolPublicKey(2)).to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__UnknownPool").withArgs(2);
      expect(await registry.isVerified(b32("pid"))).to.equal(false);
      await registry.recordJoin(b32("pid"), b32("tag"), 1, 2);
      expect(await registry.isVerified(b32("pid"))).to.equal(true);
      expect((await registry.recordOf(b32("pid"))).kind).to.equal(2n); // a re-authentication record
    });
  });

  describe("# setPoolEndpoint (service discovery, issue 19)", () => {
    it("the pool's RPM account announces its endpoint and may replace it; PoolEndpointSet is emitted", async () => {
      const { registry, rpmA } = await loadFixture(withPoolFixture);
      expect(await registry.poolEndpoint(1)).to.equal("");
      await expect(registry.connect(rpmA).setPoolEndpoint(1, "http://127.0.0.1:8545"))
        .to.emit(registry, "PoolEndpointSet")
        .withArgs(1, rpmA.address, "http://127.0.0.1:8545");
      await registry.connect(rpmA).setPoolEndpoint(1, "https://rpm-1.example.org");
      expect(await registry.poolEndpoint(1)).to.equal("https://rpm-1.example.org");
      const max = "x".repeat(Number(await registry.MAX_ENDPOINT_BYTES()));
      await registry.connect(rpmA).setPoolEndpoint(1, max);
      expect(await registry.poolEndpoint(1)).to.equal(max);
    });

    it("refuses the MSRP, another RPM, an unknown pool, an empty or too long endpoint; nothing changes", async () => {
      const { registry, rpmA, others } = await loadFixture(withPoolFixture);
      await registry.connect(rpmA).setPoolEndpoint(1, "http://a");
      await registry.createPool(2, others[1].address, b32("pid-rpm-B"), pk());
      const [msrp] = await ethers.getSigners();
      await expect(registry.setPoolEndpoint(1, "http://evil"))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__NotPoolRpm")
        .withArgs(1, msrp.address);
      await expect(registry.connect(others[1]).setPoolEndpoint(1, "http://evil"))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__NotPoolRpm")
        .withArgs(1, others[1].address);
      await expect(registry.connect(rpmA).setPoolEndpoint(9, "http://a"))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__UnknownPool")
        .withArgs(9);
      await expect(registry.connect(rpmA).setPoolEndpoint(1, ""))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__InvalidEndpoint")
        .withArgs(1);
      const tooLong = "x".repeat(Number(await registry.MAX_ENDPOINT_BYTES()) + 1);
      await expect(registry.connect(rpmA).setPoolEndpoint(1, tooLong))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__InvalidEndpoint")
        .withArgs(1);
      expect(await registry.poolEndpoint(1)).to.equal("http://a");
      expect(await registry.poolEndpoint(2)).to.equal("");
    });

    it("updatePool to another RPM clears the endpoint; to the same RPM (new keys) keeps it", async () => {
      const { registry, rpmA, others } = await loadFixture(withPoolFixture);
      await registry.connect(rpmA).setPoolEndpoint(1, "http://a");
      await registry.updatePool(1, rpmA.address, b32("pid-rpm-A2"), pk());
      expect(await registry.poolEndpoint(1)).to.equal("http://a");
      await registry.updatePool(1, others[2].address, b32("pid-rpm-C"), pk());
      expect(await registry.poolEndpoint(1)).to.equal("");
      await expect(registry.connect(rpmA).setPoolEndpoint(1, "http://a"))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__NotPoolRpm")
        .withArgs(1, rpmA.address);
      await registry.connect(others[2]).setPoolEndpoint(1, "http://c");
      expect(await registry.poolEndpoint(1)).to.equal("http://c");
    });
  });

  describe("# revokePid / reinstatePid (s22-redx F2: a revoked RN's trust identity)", () => {
    it("the MSRP revokes a recorded PID (isRevoked, not isVerified) and reinstates it; each emits its event", async () => {
      const { registry } = await loadFixture(withPoolFixture);
      await registry.recordJoin(b32("pid"), b32("tag"), 1, 1);
      await registry.recordJoin(b32("pid2"), b32("tag2"), 1, 1);
      await expect(registry.revokePid(b32("pid")))
        .to.emit(registry, "PidRevoked")
        .withArgs(b32("pid"));
      expect([await registry.isRevoked(b32("pid")), await registry.isVerified(b32("pid"))]).to.deep.equal([true, false]);
      expect([await registry.isRevoked(b32("pid2")), await registry.isVerified(b32("pid2"))], "another PID").to.deep.equal([false, true]);
      expect((await registry.recordOf(b32("pid"))).tag, "the join record stays").to.equal(b32("tag"));
      await expect(registry.reinstatePid(b32("pid")))
        .to.emit(registry, "PidReinstated")
        .withArgs(b32("pid"));
      expect([await registry.isRevoked(b32("pid")), await registry.isVerified(b32("pid"))]).to.deep.equal([false, true]);
    });

    it("refuses a retry, an unknown PID and a non-MSRP caller, naming the PID; nothing changes, no event", async () => {
      const { registry, rpmA } = await loadFixture(withPoolFixture);
      await registry.recordJoin(b32("pid"), b32("tag"), 1, 1);
      await expect(registry.reinstatePid(b32("pid")))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__NotRevoked")
        .withArgs(b32("pid"));
      await expect(registry.revokePid(b32("never-joined")))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__UnknownPid")
        .withArgs(b32("never-joined"));
      // each call made only when awaited: a second call made at once rejects before its expect attaches
      for (const call of [() => registry.connect(rpmA).revokePid(b32("pid")), () => registry.connect(rpmA).reinstatePid(b32("pid"))])
        await expect(call()).to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount");
      expect(await registry.isRevoked(b32("pid"))).to.equal(false);
      await registry.revokePid(b32("pid"));
      await expect(registry.revokePid(b32("pid")))
        .to.be.revertedWithCustomError(registry, "ResourcePoolRegistry__AlreadyRevoked")
        .withArgs(b32("pid"));
      await expect(registry.connect(rpmA).reinstatePid(b32("pid"))).to.be.revertedWithCustomError(
        registry,
        "AccessControlUnauthorizedAccount",
      );
      expect([await registry.isRevoked(b32("pid")), await registry.isVerified(b32("never-joined"))]).to.deep.equal([true, false]);
    });
  });
});
