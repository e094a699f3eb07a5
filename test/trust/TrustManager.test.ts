import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { asCourt, deployTrustFixture, id, Kind } from "../fixtures/trust";
import * as F from "../../offchain/trust/fixed";
import { signAgreementConsent, TrustLedger } from "../../offchain/trust/ledger";

const all = (x: number) => F.packFactors(Array(6).fill(x));
const Z = ethers.ZeroHash;

/** Entities of distinct controllers (a controller cannot rate its own): acme is the operator's. */
async function populated() {
  const f = await deployTrustFixture();
  const { trust, msrp, others } = f;
  const controllers = { alice: others[4], bob: others[5], carol: others[6], "node-1": others[7], acme: msrp };
  for (const n of ["alice", "bob", "carol"] as const) await trust.connect(controllers[n]).register(id(n), Kind.Avatar);
  await trust.register(id("acme"), Kind.Organization);
  await trust.connect(controllers["node-1"]).register(id("node-1"), Kind.ResourceNode);
  const by = Object.fromEntries(Object.entries(controllers).map(([n, s]) => [n, trust.connect(s)])) as Record<
    keyof typeof controllers,
    typeof trust
  >;
  return { ...f, by, oracleTm: trust.connect(f.oracle), detectorTm: trust.connect(f.detector) };
}

describe("TrustManager", () => {
  describe("# register", () => {
    it("registers at reputation 0 (a newcomer) and emits EntityRegistered", async () => {
      const { trust, msrp } = await loadFixture(deployTrustFixture);
      await expect(trust.register(id("x"), Kind.Avatar))
        .to.emit(trust, "EntityRegistered")
        .withArgs(id("x"), Kind.Avatar, msrp.address);
      const e = await trust.entity(id("x"));
      expect([e.controller, e.kind, e.reputation, e.vouched]).to.deep.equal([msrp.address, BigInt(Kind.Avatar), 0n, false]);
    });

    it("the admin's first verification grants the initial reputation, once: checkpoint, total and event follow", async () => {
      const { trust, deployment } = await loadFixture(populated);
      const court = await asCourt(trust, deployment.contracts.DisputeResolution.address);
      await court.adjustReputation(id("bob"), 10n ** 17n); // earned before verification: kept
      const total = async () => trust.totalReputationAt((await ethers.provider.getBlockNumber()) - 1);
      await ethers.provider.send("evm_mine", []);
      const before = await total();
      const I = F.DEFAULT_MODEL.initialReputation;
      await expect(trust.setIdentityVerified(id("bob"), true))
        .to.emit(trust, "ReputationUpdated")
        .withArgs(id("bob"), 10n ** 17n, 10n ** 17n + I);
      const b = await ethers.provider.getBlockNumber();
      await ethers.provider.send("evm_mine", []);
      expect(await trust.reputationAt(id("bob"), b)).to.equal(10n ** 17n + I);
      expect(await total()).to.equal(before + I);
      expect((await trust.entity(id("bob"))).vouched).to.equal(true);
      // unverify, verify again: no second grant
      await trust.setIdentityVerified(id("bob"), false);
      await expect(trust.setIdentityVerified(id("bob"), true)).to.not.emit(trust, "ReputationUpdated");
      expect((await trust.entity(id("bob"))).reputation).to.equal(10n ** 17n + I);
      // capped at 1
      await court.adjustReputation(id("carol"), F.WAD);
      await expect(trust.setIdentityVerified(id("carol"), true))
        .to.emit(trust, "ReputationUpdated")
        .withArgs(id("carol"), F.WAD, F.WAD);
    });

    it("rejects a taken or zero id and kind None; nothing changes", async () => {
      const { trust, others } = await loadFixture(populated);
      await expect(trust.connect(others[0]).register(id("alice"), Kind.Organization))
        .to.be.revertedWithCustomError(trust, "TrustManager__EntityExists")
        .withArgs(id("alice"));
      await expect(trust.register(Z, Kind.Avatar)).to.be.revertedWithCustomError(trust, "TrustManager__EntityExists");
      await expect(trust.register(id("y"), 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__InvalidKind")
        .withArgs(0);
      expect((await trust.entity(id("alice"))).kind).to.equal(BigInt(Kind.Avatar));
      expect((await trust.entity(id("y"))).kind).to.equal(0n);
    });
  });

  describe("# rate", () => {
    it("blends the rating into trustStore (Eq. 41, 43) and emits TrustStored with the integrity digest", async () => {
      const { trust, by } = await loadFixture(populated);
      const now = BigInt(await time.latest()) + 5n;
      await time.setNextBlockTimestamp(now);
      const expected = F.ratedTrust(F.DEFAULT_MODEL, { trust: 0n, updatedAt: 0n, ratings: 0, oracle: 0n }, all(0.9), now);
      const digest = ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32", "uint64", "uint256"], [id("alice"), id("bob"), expected, now]),
      );
      await expect(by.alice.rate(id("alice"), id("bob"), all(0.9), id("evidence"), digest, 0, 0))
        .to.emit(trust, "TrustStored")
        .withArgs(id("alice"), id("bob"), F.optimizedTrust(all(0.9), F.DEFAULT_MODEL.weights, 6), expected)
        .and.to.emit(trust, "EvidenceAttached")
        .withArgs(id("alice"), id("bob"), id("evidence"));
      const p = await trust.pairOf(id("alice"), id("bob"));
      expect([p.trust, p.ratings]).to.deep.equal([expected, 1n]);
    });

    it("rejects self-rating, unknown entities, a non-controller, factors out of range and a failed integrity check; nothing changes", async () => {
      const { trust, by, others } = await loadFixture(populated);
      await by.alice.rate(id("alice"), id("bob"), all(0.7), Z, Z, 0, 0);
      await time.increase(86_400); // past the epoch of that rating: each check below is reached
      const before = await trust.pairOf(id("alice"), id("bob"));
      await expect(by.alice.rate(id("alice"), id("alice"), all(0.9), Z, Z, 0, 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__SelfRating")
        .withArgs(id("alice"));
      await expect(trust.rate(id("ghost"), id("bob"), all(0.9), Z, Z, 0, 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__UnknownEntity")
        .withArgs(id("ghost"));
      await expect(by.alice.rate(id("alice"), id("ghost"), all(0.9), Z, Z, 0, 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__UnknownEntity")
        .withArgs(id("ghost"));
      await expect(trust.connect(others[3]).rate(id("alice"), id("bob"), all(0.9), Z, Z, 0, 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__NotController")
        .withArgs(id("alice"), others[3].address);
      await expect(by.alice.rate(id("alice"), id("bob"), F.packLanes([10_001, 0, 0, 0, 0, 0]), Z, Z, 0, 0)).to.be.revertedWithCustomError(
        trust,
        "TrustMath__InvalidVector",
      );
      await expect(by.alice.rate(id("alice"), id("bob"), F.packLanes([1, 1, 1, 1, 1, 1, 1]), Z, Z, 0, 0)).to.be.revertedWithCustomError(
        trust,
        "TrustMath__InvalidVector",
      );
      await expect(by.alice.rate(id("alice"), id("bob"), all(0.9), Z, id("wrong"), 0, 0)).to.be.revertedWithCustomError(
        trust,
        "TrustManager__IntegrityCheckFailed",
      );
      const after = await trust.pairOf(id("alice"), id("bob"));
      expect(after).to.deep.equal(before);
    });

    it("a trust value at the baseline stays there however many epochs pass", async () => {
      const { trust, by } = await loadFixture(populated);
      await trust.setIdentityVerified(id("bob"), true);
      // T_opt = 0.5 blended with the baseline 0.5: exactly the baseline
      await by.alice.rate(id("alice"), id("bob"), all(0.5), Z, Z, 0, 0);
      expect((await trust.pairOf(id("alice"), id("bob"))).trust).to.equal(F.DEFAULT_MODEL.baseline);
      await time.increase(40 * 86_400);
      expect(await trust.trustOf(id("alice"), id("bob"))).to.equal(F.DEFAULT_MODEL.baseline);
      await by.alice.rate(id("alice"), id("bob"), all(0.5), Z, Z, 0, 0);
      const p = await trust.pairOf(id("alice"), id("bob"));
      expect([p.trust, p.ratings]).to.deep.equal([F.DEFAULT_MODEL.baseline, 2n]);
    });

    it("decays lazily toward the baseline with elapsed epochs, without any write", async () => {
      const { trust, by } = await loadFixture(populated);
      await trust.setIdentityVerified(id("bob"), true);
      await by.alice.rate(id("alice"), id("bob"), all(1), Z, Z, 0, 0);
      const t0 = await trust.trustOf(id("alice"), id("bob"));
      await time.increase(30 * 86_400);
      const t30 = await trust.trustOf(id("alice"), id("bob"));
      expect(t30 < t0).to.equal(true);
      expect(t30 > F.DEFAULT_MODEL.baseline).to.equal(true);
      await time.increase(3650 * 86_400);
      expect(await trust.trustOf(id("alice"), id("bob"))).to.equal(F.DEFAULT_MODEL.baseline);
    });
  });

  describe("# rating attacks", () => {
    it("a flood: a second rating of a pair within one decay epoch is refused, naming the pair and the next allowed time; nothing changes", async () => {
      const { trust, by } = await loadFixture(populated);
      await by.alice.rate(id("alice"), id("bob"), all(0), Z, Z, 0, 0);
      const first = await trust.pairOf(id("alice"), id("bob"));
      const next = first.updatedAt + F.DEFAULT_MODEL.epochLength;
      // another pair of the same rater is not held back
      await by.alice.rate(id("alice"), id("carol"), all(0), Z, Z, 0, 0);
      await time.setNextBlockTimestamp(next - 1n);
      await expect(by.alice.rate(id("alice"), id("bob"), all(0), Z, Z, 0, 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__RatedThisEpoch")
        .withArgs(id("alice"), id("bob"), next);
      expect(await trust.pairOf(id("alice"), id("bob"))).to.deep.equal(first);
      // the pair is open again one epoch after its last rating
      await time.setNextBlockTimestamp(next);
      await by.alice.rate(id("alice"), id("bob"), all(0), Z, Z, 0, 0);
      expect((await trust.pairOf(id("alice"), id("bob"))).ratings).to.equal(2n);
    });

    it("a controller cannot rate its own entity through another of its entities; nothing changes", async () => {
      const { trust, by, msrp } = await loadFixture(populated);
      await trust.register(id("acme-avatar"), Kind.Avatar); // the operator's second entity, beside acme
      await expect(by.acme.rate(id("acme-avatar"), id("acme"), all(1), Z, Z, 0, 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__OwnEntityRating")
        .withArgs(id("acme-avatar"), id("acme"), msrp.address);
      expect((await trust.pairOf(id("acme-avatar"), id("acme"))).ratings).to.equal(0n);
    });
  });

  describe("# roles", () => {
    it("the deployment gives admin, detector, oracle and feedback to four distinct holders, feedback to the court", async () => {
      const { trust, msrp, detector, oracle, deployment } = await loadFixture(populated);
      const court = deployment.contracts.DisputeResolution.address;
      const roles = [await trust.DEFAULT_ADMIN_ROLE(), await trust.DETECTOR_ROLE(), await trust.ORACLE_ROLE(), await trust.FEEDBACK_ROLE()];
      const holders = [msrp.address, detector.address, oracle.address, court];
      expect(new Set(holders).size).to.equal(4);
      for (const [i, r] of roles.entries())
        for (const [j, h] of holders.entries()) expect(await trust.hasRole(r, h), `${i} ${j}`).to.equal(i === j);
    });

    it("the admin cannot take the feedback role, a second role, or the court's role away; nothing changes", async () => {
      const { trust, msrp, detector, others, deployment } = await loadFixture(populated);
      const FEEDBACK = await trust.FEEDBACK_ROLE();
      const court = deployment.contracts.DisputeResolution.address;
      await expect(trust.grantRole(FEEDBACK, msrp.address))
        .to.be.revertedWithCustomError(trust, "TrustManager__RoleHoldersNotDistinct")
        .withArgs(FEEDBACK, msrp.address);
      await expect(trust.grantRole(await trust.DETECTOR_ROLE(), msrp.address))
        .to.be.revertedWithCustomError(trust, "TrustManager__RoleHoldersNotDistinct")
        .withArgs(await trust.DETECTOR_ROLE(), msrp.address);
      await expect(trust.grantRole(await trust.ORACLE_ROLE(), detector.address))
        .to.be.revertedWithCustomError(trust, "TrustManager__RoleHoldersNotDistinct")
        .withArgs(await trust.ORACLE_ROLE(), detector.address);
      for (const target of [others[9].address, deployment.contracts.MITRegistry.address])
        await expect(trust.grantRole(FEEDBACK, target))
          .to.be.revertedWithCustomError(trust, "TrustManager__FeedbackAlreadyBound")
          .withArgs(target);
      await expect(trust.revokeRole(FEEDBACK, court))
        .to.be.revertedWithCustomError(trust, "TrustManager__FeedbackAlreadyBound")
        .withArgs(court);
      expect(await trust.hasRole(FEEDBACK, court)).to.equal(true);
      expect(await trust.hasRole(FEEDBACK, msrp.address)).to.equal(false);
      expect(await trust.hasRole(FEEDBACK, others[9].address)).to.equal(false);
    });

    it("on a fresh deployment, the feedback role is refused to an account without code", async () => {
      const [admin, eoa] = await ethers.getSigners();
      const tm = await (await ethers.getContractFactory("TrustManager")).deploy(admin.address, F.DEFAULT_MODEL, 0, 0);
      await expect(tm.grantRole(await tm.FEEDBACK_ROLE(), eoa.address))
        .to.be.revertedWithCustomError(tm, "TrustManager__FeedbackNotAContract")
        .withArgs(eoa.address);
    });
  });

  describe("# identity factor (Eq. 13)", () => {
    it("an unverified entity's trust is scaled down; a resource node registered by its owner is verified by its pool join record", async () => {
      const { trust, by, registry, others, msrp } = await loadFixture(populated);
      await by.alice.rate(id("alice"), id("node-1"), all(1), Z, Z, 0, 0);
      const unverified = await trust.trustOf(id("alice"), id("node-1"));
      expect(await trust.isIdentityVerified(id("node-1"))).to.equal(false);
      // PK_RPM must be a curve point (issue 13 item 12): x = 1 is one.
      await registry.createPool(1, others[0].address, id("rpm"), "0x02" + "00".repeat(31) + "01");
      await registry.recordJoin(id("node-1"), id("tag"), 1, 1); // the RN's PID joined a pool
      // node-1 was registered before its join, without attestation (as a squatter could): no I = 1
      expect(await trust.isIdentityVerified(id("node-1"))).to.equal(false);
      // its owner takes it over with the MSRP's attestation
      const owner = others[8];
      await expect(new TrustLedger(trust.connect(owner)).register(id("node-1"), "resource-node", msrp)).to.not.be.rejected;
      const e = await trust.entity(id("node-1"));
      expect([e.controller, e.attested]).to.deep.equal([owner.address, true]);
      expect(await trust.isIdentityVerified(id("node-1"))).to.equal(true);
      // alice's rating of the squatter's node-1 is not the owner's (a reclaim starts the id afresh,
      // docs/specs/trust.md §6): she rates the owner's node-1 at once, as she rated the squatter's
      expect((await trust.pairOf(id("alice"), id("node-1"))).ratings).to.equal(0n);
      await by.alice.rate(id("alice"), id("node-1"), all(1), Z, Z, 0, 1);
      const verified = await trust.trustOf(id("alice"), id("node-1"));
      expect(verified).to.equal((unverified * F.WAD) / F.DEFAULT_MODEL.unverifiedFactor);
      // a PID the registry verifies is not registered without its registrar's attestation
      await registry.recordJoin(id("node-2"), id("tag-2"), 1, 1);
      await expect(trust.connect(others[9]).register(id("node-2"), Kind.ResourceNode))
        .to.be.revertedWithCustomError(trust, "TrustManager__AttestationRequired")
        .withArgs(id("node-2"), Kind.ResourceNode);
      expect((await trust.entity(id("node-2"))).kind).to.equal(0n);
    });
  });

  describe("# whitewashing (issue 15: a fresh identity starts below what attackers lose)", () => {
    /**
     * A flagged attacker (it also lost a dispute) takes a fresh identity with plain `register`:
     * its standing (reputation, and the trust of an entity that never rated it) must not rise.
     */
    async function whitewash(verified: boolean) {
      const f = await loadFixture(populated);
      const { trust, detectorTm, deployment, others } = f;
      const court = await asCourt(trust, deployment.contracts.DisputeResolution.address);
      if (verified) await trust.setIdentityVerified(id("bob"), true);
      await court.adjustReputation(id("bob"), -(10n ** 17n)); // a lost dispute
      await detectorTm.flag(id("bob"), 1, id("report"), 0);
      const lost = { rep: (await trust.entity(id("bob"))).reputation, trust: await trust.trustOf(id("carol"), id("bob")) };
      await trust.connect(others[5]).register(id("bob-2"), Kind.Avatar); // bob's controller, a fresh id
      const fresh = { rep: (await trust.entity(id("bob-2"))).reputation, trust: await trust.trustOf(id("carol"), id("bob-2")) };
      return { ...f, lost, fresh };
    }

    it("a flagged, verified attacker that re-registers fresh does not regain reputation or a stranger's trust", async () => {
      const { lost, fresh } = await whitewash(true);
      expect(fresh.rep).to.be.lessThan(lost.rep);
      expect(fresh.trust).to.be.at.most(lost.trust);
    });

    it("a registration farm does not move the electorate of the court's feedback (totalReputationAt)", async () => {
      const { trust, others } = await loadFixture(populated);
      await ethers.provider.send("evm_mine", []);
      const before = await trust.totalReputationAt((await ethers.provider.getBlockNumber()) - 1);
      for (let k = 0; k < 8; k++) await trust.connect(others[9]).register(id(`farm-${k}`), Kind.Avatar);
      await ethers.provider.send("evm_mine", []);
      expect(await trust.totalReputationAt((await ethers.provider.getBlockNumber()) - 1)).to.equal(before);
    });

    it("a flagged, unverified attacker that re-registers fresh does not regain them either", async () => {
      const { lost, fresh } = await whitewash(false);
      expect(fresh.rep).to.be.at.most(lost.rep);
      expect(fresh.trust).to.be.at.most(lost.trust);
    });
  });

  describe("# admin settings", () => {
    it("only the admin sets identity verification, verifiers and thresholds; kind None has no verifier; nothing changes", async () => {
      const { trust, deployment, others } = await loadFixture(populated);
      const ADMIN = await trust.DEFAULT_ADMIN_ROLE();
      const outsider = trust.connect(others[0]);
      await expect(outsider.setIdentityVerified(id("bob"), true))
        .to.be.revertedWithCustomError(trust, "AccessControlUnauthorizedAccount")
        .withArgs(others[0].address, ADMIN);
      await expect(outsider.setVerifier(Kind.Avatar, others[0].address))
        .to.be.revertedWithCustomError(trust, "AccessControlUnauthorizedAccount")
        .withArgs(others[0].address, ADMIN);
      await expect(outsider.setAgreementThresholds(0, 0))
        .to.be.revertedWithCustomError(trust, "AccessControlUnauthorizedAccount")
        .withArgs(others[0].address, ADMIN);
      await expect(trust.setVerifier(0, others[0].address)).to.be.revertedWithCustomError(trust, "TrustManager__InvalidKind").withArgs(0);
      await expect(trust.setIdentityVerified(id("ghost"), true))
        .to.be.revertedWithCustomError(trust, "TrustManager__UnknownEntity")
        .withArgs(id("ghost"));
      expect(await trust.isIdentityVerified(id("bob"))).to.equal(false);
      expect(await trust.verifierOf(Kind.Avatar)).to.equal(deployment.contracts.MITRegistry.address);
      expect(await trust.verifierOf(0)).to.equal(ethers.ZeroAddress);
      expect(await trust.agreementThresholds()).to.deep.equal([F.DEFAULT_THRESHOLDS.trustMin, F.DEFAULT_THRESHOLDS.trustMax]);
    });

    it("setIdentityVerified(false) clears the admin flag; setVerifier and setAgreementThresholds emit the old and new values", async () => {
      const { trust, deployment, others } = await loadFixture(populated);
      await trust.setIdentityVerified(id("bob"), true);
      expect(await trust.isIdentityVerified(id("bob"))).to.equal(true);
      await expect(trust.setIdentityVerified(id("bob"), false))
        .to.emit(trust, "IdentityVerificationSet")
        .withArgs(id("bob"), false);
      expect(await trust.isIdentityVerified(id("bob"))).to.equal(false); // and bob has no avatar in the MIT registry
      await expect(trust.setVerifier(Kind.Organization, others[0].address))
        .to.emit(trust, "VerifierSet")
        .withArgs(Kind.Organization, ethers.ZeroAddress, others[0].address);
      await expect(trust.setVerifier(Kind.Avatar, ethers.ZeroAddress))
        .to.emit(trust, "VerifierSet")
        .withArgs(Kind.Avatar, deployment.contracts.MITRegistry.address, ethers.ZeroAddress);
      await expect(trust.setAgreementThresholds(F.toWad(0.6), F.WAD))
        .to.emit(trust, "AgreementThresholdsUpdated")
        .withArgs(F.DEFAULT_THRESHOLDS.trustMin, F.DEFAULT_THRESHOLDS.trustMax, F.toWad(0.6), F.WAD);
      expect(await trust.agreementThresholds()).to.deep.equal([F.toWad(0.6), F.WAD]);
    });
  });

  describe("# oracle (Eq. 46) and flags", () => {
    it("the oracle term moves trust within [0, 1]; a flag lowers it; roles are enforced", async () => {
      const { trust, by, others, oracleTm, detectorTm } = await loadFixture(populated);
      await trust.setIdentityVerified(id("bob"), true);
      await by.alice.rate(id("alice"), id("bob"), all(0.8), Z, Z, 0, 0);
      const base = await trust.trustOf(id("alice"), id("bob"));
      await expect(oracleTm.setOracle(id("alice"), id("bob"), F.WAD, 0, 0)).to.emit(trust, "OracleUpdated");
      expect(await trust.trustOf(id("alice"), id("bob"))).to.equal(F.withOracle(base, F.WAD, F.DEFAULT_MODEL.gamma));
      await expect(oracleTm.setOracle(id("alice"), id("bob"), F.WAD + 1n, 0, 0)).to.be.revertedWithCustomError(
        trust,
        "TrustManager__InvalidParameter",
      );
      await expect(trust.connect(others[0]).setOracle(id("alice"), id("bob"), 0, 0, 0)).to.be.revertedWithCustomError(
        trust,
        "AccessControlUnauthorizedAccount",
      );
      const beforeFlag = await trust.trustOf(id("alice"), id("bob"));
      await expect(detectorTm.flag(id("bob"), 1, id("ev"), 0))
        .to.emit(trust, "EntityFlagged")
        .withArgs(id("bob"), 1, id("ev"));
      expect(await trust.trustOf(id("alice"), id("bob"))).to.equal(F.mulWad(beforeFlag, F.DEFAULT_MODEL.flaggedFactor));
      await expect(detectorTm.flag(id("bob"), 7, Z, 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__InvalidFlag")
        .withArgs(7);
      await expect(trust.connect(others[0]).flag(id("bob"), 1, Z, 0)).to.be.revertedWithCustomError(
        trust,
        "AccessControlUnauthorizedAccount",
      );
      await detectorTm.unflag(id("bob"), 1, 0, 1);
      expect(await trust.trustOf(id("alice"), id("bob"))).to.equal(beforeFlag);
    });

    it("the oracle term goes down to -1 (trust clamps at 0), not below; unknown entities and a non-detector are refused; nothing changes", async () => {
      const { trust, by, others, oracleTm, detectorTm } = await loadFixture(populated);
      await trust.setIdentityVerified(id("bob"), true);
      for (let k = 0; k < 7; k++) {
        await by.alice.rate(id("alice"), id("bob"), all(0), Z, Z, 0, 0); // one a day: about 0.04 after 7
        await time.increase(86_400);
      }
      const base = await trust.trustOf(id("alice"), id("bob"));
      await expect(oracleTm.setOracle(id("alice"), id("bob"), -F.WAD - 1n, 0, 0)).to.be.revertedWithCustomError(
        trust,
        "TrustManager__InvalidParameter",
      );
      await expect(oracleTm.setOracle(id("ghost"), id("bob"), 0, 0, 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__UnknownEntity")
        .withArgs(id("ghost"));
      await expect(oracleTm.setOracle(id("alice"), id("ghost"), 0, 0, 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__UnknownEntity")
        .withArgs(id("ghost"));
      await expect(trust.trustOf(id("alice"), id("ghost")))
        .to.be.revertedWithCustomError(trust, "TrustManager__UnknownEntity")
        .withArgs(id("ghost"));
      await expect(detectorTm.flag(id("ghost"), 1, Z, 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__UnknownEntity")
        .withArgs(id("ghost"));
      expect((await trust.pairOf(id("alice"), id("bob"))).oracle).to.equal(0n);
      expect(await trust.trustOf(id("alice"), id("bob"))).to.equal(base);
      // O = -1 takes gamma = 0.1 off: more than a trust of about 0.04, so the result clamps to 0
      expect(base < F.DEFAULT_MODEL.gamma).to.equal(true);
      await expect(oracleTm.setOracle(id("alice"), id("bob"), -F.WAD, 0, 0))
        .to.emit(trust, "OracleUpdated")
        .withArgs(id("alice"), id("bob"), 0, -F.WAD);
      expect(await trust.trustOf(id("alice"), id("bob"))).to.equal(0n);
      // unflag: detector role only, kinds 0..6, a flag held, the instance named (s22-redx F3)
      await detectorTm.flag(id("bob"), 2, Z, 0);
      await expect(trust.connect(others[0]).unflag(id("bob"), 2, 0, 1))
        .to.be.revertedWithCustomError(trust, "AccessControlUnauthorizedAccount")
        .withArgs(others[0].address, await trust.DETECTOR_ROLE());
      await expect(detectorTm.unflag(id("bob"), 7, 0, 1))
        .to.be.revertedWithCustomError(trust, "TrustManager__InvalidFlag")
        .withArgs(7);
      await expect(detectorTm.unflag(id("bob"), 3, 0, 0))
        .to.be.revertedWithCustomError(trust, "TrustManager__NotFlagged")
        .withArgs(id("bob"), 3);
      await expect(detectorTm.unflag(id("bob"), 2, 0, 2))
        .to.be.revertedWithCustomError(trust, "TrustManager__StaleFlagInstance")
        .withArgs(id("bob"), 2, 2, 1);
      expect((await trust.entity(id("bob"))).flags).to.equal(0x80n | 0b100n);
      await expect(detectorTm.unflag(id("bob"), 2, 0, 1))
        .to.emit(trust, "EntityUnflagged")
        .withArgs(id("bob"), 2);
      expect((await trust.entity(id("bob"))).flags).to.equal(0x80n);
      // a second withdrawal of the same instance (a retry whose first call landed) is refused
      await expect(detectorTm.unflag(id("bob"), 2, 0, 1))
        .to.be.revertedWithCustomError(trust, "TrustManager__NotFlagged")
        .withArgs(id("bob"), 2);
    });

    it("adjustReputation is for the feedback role (the court) only and clamps any amount to [0, 1]", async () => {
      const { trust, deployment } = await loadFixture(populated);
      await expect(trust.adjustReputation(id("alice"), 1)).to.be.revertedWithCustomError(trust, "AccessControlUnauthorizedAccount");
      const court = await asCourt(trust, deployment.contracts.DisputeResolution.address);
      await court.adjustReputation(id("alice"), 10n ** 19n);
      expect((await trust.entity(id("alice"))).reputation).to.equal(F.WAD);
      await court.adjustReputation(id("alice"), -(10n ** 19n));
      expect((await trust.entity(id("alice"))).reputation).to.equal(0n);
      // the extremes of int256 clamp instead of overflowing (a finding before)
      await court.adjustReputation(id("alice"), ethers.MaxInt256);
      expect((await trust.entity(id("alice"))).reputation).to.equal(F.WAD);
      await court.adjustReputation(id("alice"), ethers.MinInt256);
      expect((await trust.entity(id("alice"))).reputation).to.equal(0n);
    });
  });

  describe("# proposeAgreement (Algorithm 2)", () => {
    async function rated(scores: Record<string, number>) {
      const f = await loadFixture(populated);
      await f.trust.setIdentityVerified(id("acme"), true);
      // only identity-verified avatars are credited (s20-redt F1): alice and bob are verified persons
      for (const n of ["alice", "bob"]) await f.trust.setIdentityVerified(id(n), true);
      await mine(Number(await f.trust.CREDIT_MATURITY())); // acme's standing: its reputation a day ago
      for (let k = 0; k < 6; k++) {
        for (const [n, s] of Object.entries(scores)) await f.by[n as "alice" | "bob"].rate(id(n), id("acme"), all(s), Z, Z, 0, 0);
        await time.increase(86_400); // one rating per pair per decay epoch
      }
      return f;
    }
    const sorted = (names: string[]) => names.map(id).sort();
    const MAX = ethers.MaxUint256;
    /** acme's controller proposes, with the consent of every named avatar's controller. */
    async function propose(f: Awaited<ReturnType<typeof rated>>, avatars: string[], thresholds: bigint[], terms: string) {
      const consent = {
        org: id("acme"),
        avatars,
        thresholds,
        termsHash: terms,
        nonce: await f.trust.agreementNonce(id("acme")),
        deadline: MAX,
      };
      const consents: string[] = [];
      for (const a of avatars) {
        const c = (await f.trust.entity(a)).controller;
        consents.push(c === f.msrp.address ? "0x" : await signAgreementConsent(await ethers.getSigner(c), f.trust, consent));
      }
      return f.trust.proposeAgreement(id("acme"), avatars, thresholds, terms, { deadline: MAX, signatures: consents });
    }

    it("direct when the mean trust reaches Trust_max; reputations follow Eq. 6", async () => {
      const f = await rated({ alice: 1, bob: 1 });
      const { trust } = f;
      const avatars = sorted(["alice", "bob"]);
      const repBefore = (await trust.entity(id("alice"))).reputation;
      const tx = propose(f, avatars, [0n, 0n], id("terms"));
      await expect(tx).to.emit(trust, "AgreementFormed");
      const a = await trust.agreement(1);
      expect(a.mode).to.equal(0n); // Direct
      expect(a.agreementHash).to.equal(ethers.solidityPackedKeccak256(["bytes32", "uint64"], [id("terms"), a.meanTrust]));
      expect((await trust.entity(id("alice"))).reputation > repBefore).to.equal(true);
    });

    it("by smart contract between the thresholds when every avatar meets its own; intermediary otherwise", async () => {
      const f = await rated({ alice: 0.72, bob: 0.66 });
      const { trust } = f;
      const avatars = sorted(["alice", "bob"]);
      const t = await Promise.all(avatars.map((a) => trust.trustOf(a, id("acme"))));
      await propose(f, avatars, [t[0] - 1n, t[1] - 1n], id("terms"));
      expect((await trust.agreement(1)).mode).to.equal(1n); // SmartContract
      const repAfter1 = (await trust.entity(id("alice"))).reputation;
      await propose(f, avatars, [t[0] + 1n, t[1]], id("terms2"));
      expect((await trust.agreement(2)).mode).to.equal(2n); // Intermediary
      expect((await trust.entity(id("alice"))).reputation).to.equal(repAfter1); // no credit through an intermediary
    });

    it("every avatar named consents: a missing or replayed signature is refused; reputations stay", async () => {
      const f = await rated({ alice: 1, bob: 1 });
      const { trust, others } = f;
      const avatars = sorted(["alice", "bob"]);
      const nonce = await trust.agreementNonce(id("acme"));
      const consent = { org: id("acme"), avatars, thresholds: [0n, 0n], termsHash: id("t"), nonce, deadline: MAX };
      const alice = avatars.indexOf(id("alice"));
      const consents = ["0x", "0x"];
      consents[1 - alice] = await signAgreementConsent(others[5], trust, consent); // bob's controller signs, alice's does not
      const rep = (await trust.entity(id("alice"))).reputation;
      await expect(trust.proposeAgreement(id("acme"), avatars, [0n, 0n], id("t"), { deadline: MAX, signatures: consents }))
        .to.be.revertedWithCustomError(trust, "TrustManager__ConsentMissing")
        .withArgs(id("alice"), others[4].address);
      consents[alice] = await signAgreementConsent(others[4], trust, consent);
      await trust.proposeAgreement(id("acme"), avatars, [0n, 0n], id("t"), { deadline: MAX, signatures: consents });
      expect(await trust.agreementNonce(id("acme"))).to.equal(nonce + 1n);
      const after = (await trust.entity(id("alice"))).reputation;
      expect(after > rep).to.equal(true);
      await expect(
        trust.proposeAgreement(id("acme"), avatars, [0n, 0n], id("t"), { deadline: MAX, signatures: consents }),
      ).to.be.revertedWithCustomError(trust, "TrustManager__ConsentMissing");
      expect((await trust.entity(id("alice"))).reputation).to.equal(after);
    });

    it("rejects malformed agreements and out-of-order thresholds; nothing changes", async () => {
      const { trust, by, others } = await rated({ alice: 0.9 });
      const avatars = sorted(["alice", "bob"]);
      await expect(
        trust.proposeAgreement(id("acme"), avatars, [0n], id("t"), { deadline: MAX, signatures: [] }),
      ).to.be.revertedWithCustomError(trust, "TrustManager__InvalidAgreement");
      await expect(
        trust.proposeAgreement(id("acme"), [...avatars].reverse(), [0n, 0n], id("t"), { deadline: MAX, signatures: [] }),
      ).to.be.revertedWithCustomError(trust, "TrustManager__InvalidAgreement");
      await expect(
        trust.proposeAgreement(id("acme"), [avatars[0], avatars[0]], [0n, 0n], id("t"), { deadline: MAX, signatures: [] }),
      ).to.be.revertedWithCustomError(trust, "TrustManager__InvalidAgreement");
      await expect(
        trust.proposeAgreement(id("acme"), sorted(["alice", "node-1"]), [0n, 0n], id("t"), { deadline: MAX, signatures: [] }),
      ).to.be.revertedWithCustomError(trust, "TrustManager__InvalidAgreement");
      await expect(
        by.alice.proposeAgreement(id("alice"), sorted(["bob"]), [0n], id("t"), { deadline: MAX, signatures: [] }),
      ).to.be.revertedWithCustomError(trust, "TrustManager__InvalidAgreement");
      await expect(
        trust.proposeAgreement(id("acme"), avatars, [0n, F.WAD + 1n], id("t"), { deadline: MAX, signatures: [] }),
      ).to.be.revertedWithCustomError(trust, "TrustManager__InvalidAgreement");
      await expect(
        trust.proposeAgreement(id("acme"), avatars, [0n, 0n], Z, { deadline: MAX, signatures: [] }),
      ).to.be.revertedWithCustomError(trust, "TrustManager__InvalidAgreement");
      await expect(
        trust.connect(others[1]).proposeAgreement(id("acme"), avatars, [0n, 0n], id("t"), { deadline: MAX, signatures: [] }),
      ).to.be.revertedWithCustomError(trust, "TrustManager__NotController");
      await expect(trust.setAgreementThresholds(F.toWad(0.9), F.toWad(0.5))).to.be.revertedWithCustomError(
        trust,
        "TrustManager__InvalidParameter",
      );
      await expect(trust.setAgreementThresholds(F.toWad(0.5), F.WAD + 1n)).to.be.revertedWithCustomError(
        trust,
        "TrustManager__InvalidParameter",
      );
      expect(await trust.agreementCount()).to.equal(0n);
      expect(await trust.agreementThresholds()).to.deep.equal([F.DEFAULT_THRESHOLDS.trustMin, F.DEFAULT_THRESHOLDS.trustMax]);
    });

    it("takes 1 to 64 avatars: none, or more than 64, is refused; nothing changes", async () => {
      const f = await rated({ alice: 0.9 });
      const { trust } = f;
      await expect(trust.proposeAgreement(id("acme"), [], [], id("t"), { deadline: MAX, signatures: [] })).to.be.revertedWithCustomError(
        trust,
        "TrustManager__InvalidAgreement",
      );
      const many = sorted([...Array(65).keys()].map((i) => `a${i}`));
      for (const a of many) await trust.register(a, Kind.Avatar);
      await expect(
        trust.proposeAgreement(id("acme"), many, Array(65).fill(0n), id("t"), { deadline: MAX, signatures: [] }),
      ).to.be.revertedWithCustomError(trust, "TrustManager__InvalidAgreement");
      for (const a of many.slice(0, 64)) await trust.setIdentityVerified(a, true); // reputation 0.5 each
      const repBefore = (await trust.entity(many[0])).reputation;
      expect(await trust.agreementCount()).to.equal(0n);
      await expect(propose(f, many.slice(0, 64), Array(64).fill(0n), id("t"))).to.emit(trust, "AgreementFormed");
      expect(await trust.agreementCount()).to.equal(1n);
      const a = await trust.agreement(1);
      expect(a.avatarsHash).to.equal(ethers.solidityPackedKeccak256(Array(64).fill("bytes32"), many.slice(0, 64)));
      // unrated avatars trust acme at the baseline 0.5 = Trust_min, every threshold (0) met: by smart contract,
      // each reputation blended with 0.5 (Eq. 6), so it stays 0.5
      expect([a.mode, a.meanTrust]).to.deep.equal([1n, F.DEFAULT_MODEL.baseline]);
      expect((await trust.entity(many[0])).reputation).to.equal(repBefore);
    });
  });

  describe("# reputation checkpoints", () => {
    it("reputationAt returns the value at the end of a past block; 0 before registration; no future lookups", async () => {
      const { trust, deployment } = await loadFixture(populated);
      const court = await asCourt(trust, deployment.contracts.DisputeResolution.address);
      const b0 = await ethers.provider.getBlockNumber();
      await court.adjustReputation(id("alice"), 10n ** 17n);
      const b1 = await ethers.provider.getBlockNumber();
      await ethers.provider.send("evm_mine", []);
      expect(await trust.reputationAt(id("alice"), b0)).to.equal(0n); // a newcomer
      expect(await trust.reputationAt(id("alice"), b1)).to.equal(10n ** 17n);
      expect(await trust.reputationAt(id("alice"), 1)).to.equal(0n);
      const now = await ethers.provider.getBlockNumber();
      await expect(trust.reputationAt(id("alice"), now + 1)).to.be.revertedWithCustomError(trust, "TrustManager__FutureLookup");
    });
  });

  describe("# totalReputationAt (the electorate of a dispute's bounded feedback)", () => {
    it("is the sum of every entity's reputation at the end of a past block, through registrations and adjustments", async () => {
      const { trust, deployment, others } = await loadFixture(populated);
      const court = await asCourt(trust, deployment.contracts.DisputeResolution.address);
      /** The sum recomputed from each registered entity's own checkpoints. */
      const sumAt = async (b: number) => {
        const ids = [...new Set((await trust.queryFilter(trust.filters.EntityRegistered())).map((l) => l.args.id))];
        let s = 0n;
        for (const e of ids) s += await trust.reputationAt(e, b);
        return s;
      };
      await trust.setIdentityVerified(id("alice"), true); // 0.5
      const b0 = await ethers.provider.getBlockNumber();
      await court.adjustReputation(id("alice"), 10n ** 17n);
      const b1 = await ethers.provider.getBlockNumber();
      await trust.connect(others[3]).register(id("newcomer"), Kind.Avatar);
      await trust.setIdentityVerified(id("newcomer"), true); // grants the initial reputation
      await court.adjustReputation(id("alice"), -(3n * 10n ** 17n));
      await ethers.provider.send("evm_mine", []);
      const b2 = (await ethers.provider.getBlockNumber()) - 1;
      // kept: the current total (any block from the last change on) and the block before the last change
      expect(await trust.totalReputationAt(b2)).to.equal(await sumAt(b2));
      expect(await trust.totalReputationAt(b2 - 1)).to.equal(await sumAt(b2 - 1));
      expect(await sumAt(b2)).to.equal((await sumAt(b0)) + 10n ** 17n + F.DEFAULT_MODEL.initialReputation - 3n * 10n ** 17n);
      // older blocks are not kept; the current block is a future lookup
      await expect(trust.totalReputationAt(b1 - 1))
        .to.be.revertedWithCustomError(trust, "TrustManager__TotalNotKept")
        .withArgs(b1 - 1, b2 - 1);
      const now = await ethers.provider.getBlockNumber();
      await expect(trust.totalReputationAt(now)).to.be.revertedWithCustomError(trust, "TrustManager__FutureLookup").withArgs(now);
    });

    it("the block before the current one is always kept, even right after changes in this block (what a dispute reads)", async () => {
      const { trust, deployment } = await loadFixture(populated);
      const court = await asCourt(trust, deployment.contracts.DisputeResolution.address);
      await ethers.provider.send("evm_mine", []);
      const before = await trust.totalReputationAt((await ethers.provider.getBlockNumber()) - 1);
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        await court.adjustReputation(id("alice"), 10n ** 17n);
        await court.adjustReputation(id("bob"), 10n ** 17n);
        await ethers.provider.send("evm_mine", []);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      const b = await ethers.provider.getBlockNumber(); // both changes landed in block b
      await ethers.provider.send("evm_mine", []);
      expect(await trust.totalReputationAt(b - 1)).to.equal(before);
      expect(await trust.totalReputationAt(b)).to.equal(before + 2n * 10n ** 17n);
    });
  });

  describe("# constructor", () => {
    it("refuses weights whose mean is not 1 and parameters above 1", async () => {
      const [admin] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("TrustManager");
      const bad = { ...F.DEFAULT_MODEL, weights: F.packLanes([10_000, 10_000, 10_000, 10_000, 10_000, 9_999]) };
      await expect(factory.deploy(admin.address, bad, 0, 0)).to.be.revertedWithCustomError(factory, "TrustMath__InvalidVector");
      await expect(factory.deploy(admin.address, { ...F.DEFAULT_MODEL, delta: F.WAD + 1n }, 0, 0)).to.be.revertedWithCustomError(
        factory,
        "TrustManager__InvalidParameter",
      );
      await expect(factory.deploy(admin.address, { ...F.DEFAULT_MODEL, epochLength: 0n }, 0, 0)).to.be.revertedWithCustomError(
        factory,
        "TrustManager__InvalidParameter",
      );
    });

    it("refuses every WAD parameter above 1, thresholds out of order, 0 or more than 16 factors and weights in unused lanes", async () => {
      const [admin] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("TrustManager");
      const wads = [
        "delta",
        "rho",
        "baseline",
        "gamma",
        "unverifiedFactor",
        "flaggedFactor",
        "initialReputation",
        "agreementWeight",
      ] as const;
      for (const k of wads)
        await expect(factory.deploy(admin.address, { ...F.DEFAULT_MODEL, [k]: F.WAD + 1n }, 0, 0), k).to.be.revertedWithCustomError(
          factory,
          "TrustManager__InvalidParameter",
        );
      await expect(factory.deploy(admin.address, F.DEFAULT_MODEL, F.toWad(0.6), F.toWad(0.5))).to.be.revertedWithCustomError(
        factory,
        "TrustManager__InvalidParameter",
      );
      const w = F.DEFAULT_MODEL.weights;
      for (const [n, weights] of [
        [0, 0n],
        [17, w],
        [6, w | (1n << 96n)], // a seventh lane set: the sum of the six is right, the vector is not
      ] as const)
        await expect(factory.deploy(admin.address, { ...F.DEFAULT_MODEL, factorCount: n, weights }, 0, 0))
          .to.be.revertedWithCustomError(factory, "TrustMath__InvalidVector")
          .withArgs(weights, n);
      // every bound is inclusive: all parameters at 1 deploy
      const ones = Object.fromEntries(wads.map((k) => [k, F.WAD]));
      const tm = await factory.deploy(admin.address, { ...F.DEFAULT_MODEL, ...ones }, F.WAD, F.WAD);
      expect((await tm.model()).delta).to.equal(F.WAD);
      expect(await tm.agreementThresholds()).to.deep.equal([F.WAD, F.WAD]);
    });
  });
});
