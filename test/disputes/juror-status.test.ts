/**
 * h11-red2 D1, as s26-rtx/s26-fxx left it: a juror's identity standing is judged as of the
 * dispute's snapshot (the block before the opening), like its flags. A juror whose identity was
 * withdrawn at or before the snapshot (its owner's MIT revoked: a stolen key, an expelled person; or
 * the admin's unverification) cannot commit, and `eligibleWeight` answers 0. A withdrawal after the
 * snapshot takes nothing away: the juror commits, reveals with its weight and settles as any voter
 * (a withholder is penalized). Before s26-fxx a withdrawal after the commit struck the reveal (D1's
 * first rule); s26-rtx R1 showed the RSMS revocation, acting within seconds on the detector's flag,
 * turns that into a way round the court's flag rule, and the contract cannot tell one withdrawal
 * from another, so one rule holds for every source (docs/specs/disputes.md "Standing as of the
 * snapshot"). An avatar juror whose login or delegation merely lapsed keeps its vote at reveal
 * (its owner could log in again, nothing was withdrawn); at commit it must be verified.
 *
 * Threat model. The attacker holds a juror identity being revoked (the thief of a key, the person
 * being expelled): the revocation keeps it out of every dispute opened after it; its votes in
 * disputes already open stand (the price of a rule no revoker acting for a party can steer).
 * Front-running: none is possible, the withdrawal's block decides, not its order against the vote.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import { byVoter, deployDisputeFixture, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { commitmentOf, couldHaveRevealed, voterFeedback } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { attestRegistration } from "../../offchain/trust/ledger";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { MITRegistry__factory, ResourcePoolRegistry__factory } from "../../typechain-types";

const Z = ethers.ZeroHash;
const label = (s: string) => toHex(keccak256(new TextEncoder().encode(`juror-status:${s}`)));
const NO_VOTE = { outcome: 0, winningWeight: 0n, totalWeight: 0n, tieBroken: false, void: false, sums: [] };

/**
 * The dispute fixture plus three avatar jurors attested through the MITRegistry (each its own
 * person: one MIT each), logged in for half the commit period, registered before the minimum age;
 * a dispute (nature 1) is opened, and every juror (the six admin-verified ones' first three and the
 * three avatars) commits option 0 while verified.
 */
async function court() {
  const f = await deployDisputeFixture();
  const idp = f.msrp; // holds IDP_ROLE on the MITRegistry and signs attestations
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, idp);
  const avatars: { id: string; serial: string; signer: Signer }[] = [];
  for (const name of ["ann", "ben", "cat"]) {
    const serial = label(`${name}-serial`);
    await mit.issueMIT(serial, label(`${name}-key`), "bafy-params");
    const avatar = toHex(avatarIdOf(ethers.getBytes(serial), name));
    await mit.recordLogin(avatar, serial, label(`w-${name}`), label(`v-${name}`), (await time.latest()) + 86_400);
    const w = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(w.address, 10n ** 20n);
    const deadline = BigInt(await time.latest()) + 3600n;
    const a = await attestRegistration(idp, f.trust, avatar, "avatar", w.address, deadline);
    await f.trust.connect(w).registerAttested(avatar, Kind.Avatar, deadline, a);
    f.signerOf.set(avatar, w);
    avatars.push({ id: avatar, serial, signer: w });
  }
  await mine(Number(P.minAge) + 1);
  // Each avatar's session runs to just inside the commit period: verified at commit, lapsed at reveal.
  for (const [i, a] of avatars.entries()) {
    await mit.recordLogin(a.id, a.serial, label(`w2-${i}`), label(`v2-${i}`), (await time.latest()) + Number(P.commitPeriod) / 2);
  }
  const proxySerial = label("proxy-serial");
  await mit.issueMIT(proxySerial, label("proxy-key"), "bafy-params");
  return { ...f, mit, avatars, proxySerial };
}

async function opened(nature = 1) {
  const f = await loadFixture(court);
  const { disputes, trust, voters } = f;
  if (nature === 3) {
    const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
    await trust.connect(detector).flag(voters[5], 3, id("detector evidence"), 0);
    await disputes.connect(f.others[15]).openDispute(voters[5], Z, 3, 2, Z, "", 0, { value: P.deposit });
  } else await disputes.openDispute(id("claimant"), id("respondent"), 0, 3, id("evidence"), "bafkrei-evidence", 0, { value: P.deposit });
  const jury = byVoter(disputes, f.signerOf);
  const jurors = [...voters.slice(0, 3), ...f.avatars.map((a) => a.id)];
  for (const v of jurors) {
    expect(await trust.isIdentityVerified(v), "every juror is verified at commit").to.equal(true);
    await jury.commit(1n, v, commitmentOf(1n, v, 0, salt(`d1-${v}`)));
  }
  return { ...f, dId: 1n, jury, jurors };
}

const toReveal = () => time.increase(Number(P.commitPeriod) + 1);
const toResolve = () => time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);

describe("h11-red2 D1 (s26-fxx): a juror's identity standing, as of the snapshot", () => {
  it("a juror the admin unverifies after the opening still reveals with its weight (s26-rtx)", async () => {
    const { disputes, trust, voters, dId, jury } = await opened();
    const v = voters[0];
    await trust.setIdentityVerified(v, false); // its identity is revoked, after the snapshot
    expect(await trust.hasIdentityStanding(v)).to.equal(false);
    await toReveal();
    const weight = (await trust.entity(v)).reputation;
    await expect(jury.reveal(dId, v, 0, salt(`d1-${v}`)))
      .to.emit(disputes, "VoteRevealed")
      .withArgs(dId, v, 0, weight, 0);
    expect((await disputes.tally(dId))[0]).to.equal(weight);
  });

  it("a juror the admin unverified at or before the snapshot, or an avatar whose owner's MIT was revoked, cannot commit: nothing changes", async () => {
    const f = await loadFixture(court);
    const { disputes, trust, mit, voters, avatars } = f;
    await trust.setIdentityVerified(voters[0], false);
    await mit.revokeMIT(avatars[0].serial);
    await disputes.openDispute(id("claimant"), id("respondent"), 0, 3, id("evidence"), "bafkrei-evidence", 0, { value: P.deposit });
    const jury = byVoter(disputes, f.signerOf);
    for (const v of [voters[0], avatars[0].id]) {
      expect(await disputes.eligibleWeight(1n, v), "no vote: withdrawn at the snapshot").to.equal(0n);
      const before = await disputes.voteOf(1n, v);
      await expect(jury.commit(1n, v, commitmentOf(1n, v, 0, salt(`d1-${v}`))))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__NotVerified")
        .withArgs(1n, v);
      expect(await disputes.voteOf(1n, v)).to.deep.equal(before);
    }
    // re-verified by the admin, it commits (the withdrawal in force decides, as a withdrawn flag)
    await trust.setIdentityVerified(voters[0], true);
    await expect(jury.commit(1n, voters[0], commitmentOf(1n, voters[0], 0, salt(`d1-${voters[0]}`)))).to.emit(disputes, "VoteCommitted");
  });

  it("an avatar juror whose owner's MIT is revoked after the opening still reveals (s26-rtx)", async () => {
    const { disputes, trust, mit, avatars, dId, jury } = await opened();
    const [ann] = avatars;
    await mit.revokeMIT(ann.serial);
    expect(await mit.isRevoked(ann.id)).to.equal(true);
    expect(await trust.hasIdentityStanding(ann.id)).to.equal(false);
    const snapshot = (await disputes.dispute(dId)).snapshot;
    expect(await mit.revokedSince(ann.id)).to.be.greaterThan(snapshot);
    expect(await trust.hasIdentityStandingAsOf(ann.id, snapshot)).to.equal(true);
    await toReveal();
    const weight = (await trust.entity(ann.id)).reputation;
    await expect(jury.reveal(dId, ann.id, 0, salt(`d1-${ann.id}`)))
      .to.emit(disputes, "VoteRevealed")
      .withArgs(dId, ann.id, 0, weight, 0);
  });

  it("an avatar juror whose login lapsed between commit and reveal still reveals with its weight", async () => {
    const { disputes, trust, avatars, dId, jury } = await opened();
    const [ann] = avatars;
    await toReveal();
    expect(await trust.isIdentityVerified(ann.id), "the login lapsed").to.equal(false);
    expect(await trust.hasIdentityStanding(ann.id)).to.equal(true);
    const weight = (await trust.entity(ann.id)).reputation;
    await expect(jury.reveal(dId, ann.id, 0, salt(`d1-${ann.id}`)))
      .to.emit(disputes, "VoteRevealed")
      .withArgs(dId, ann.id, 0, weight, 0);
    expect((await disputes.tally(dId))[0]).to.equal(weight);
  });

  it("an avatar juror whose delegation was revoked, or whose proxy's MIT was, still reveals (its owner may log in again)", async () => {
    const { disputes, mit, avatars, proxySerial, dId, jury } = await opened();
    const [, ben, cat] = avatars;
    const tx = await mit.recordDelegation(ben.id, proxySerial, label("wd-ben"), (await time.latest()) + 86_400);
    const dlg = (await mit.activeDelegation(ben.id)) as bigint;
    await tx.wait();
    await mit.revokeDelegation(dlg); // ben: no driver
    await mit.recordDelegation(cat.id, proxySerial, label("wd-cat"), (await time.latest()) + 86_400);
    await mit.revokeMIT(proxySerial); // cat: its driver's MIT revoked, its owner's is not
    expect(await mit.isVerified(cat.id)).to.equal(false);
    await toReveal();
    for (const a of [ben, cat]) await expect(jury.reveal(dId, a.id, 0, salt(`d1-${a.id}`))).to.emit(disputes, "VoteRevealed");
  });

  it("in a flag contest too, a juror revoked after the opening reveals (one rule for every revoker)", async () => {
    const { disputes, mit, avatars, dId, jury } = await opened(3);
    await mit.revokeMIT(avatars[0].serial);
    await toReveal();
    await expect(jury.reveal(dId, avatars[0].id, 0, salt(`d1-${avatars[0].id}`))).to.emit(disputes, "VoteRevealed");
  });

  it("at settlement a juror revoked after the snapshot that withheld its reveal is penalized, as a lapsed withholder is", async () => {
    const { disputes, trust, mit, avatars, voters, dId, jury } = await opened();
    const [ann, ben] = avatars;
    await mit.revokeMIT(ann.serial);
    await trust.setIdentityVerified(voters[0], false);
    await toReveal();
    for (const v of voters.slice(1, 3)) await jury.reveal(dId, v, 0, salt(`d1-${v}`));
    await toResolve();
    await disputes.resolve(dId);
    const want = (revokedAtSnapshot: boolean) =>
      voterFeedback(
        NO_VOTE,
        { weight: 0n, choice: 0, revealed: false },
        couldHaveRevealed({ eligibleAtSnapshot: true, barredNow: false, revokedAtSnapshot }),
        P,
      );
    expect(want(true)).to.equal(0n);
    expect(want(false)).to.equal(-P.voterPenalty);
    for (const v of [ann.id, voters[0]]) {
      expect(await trust.hasIdentityStanding(v), "revoked now, after the snapshot").to.equal(false);
      const before = (await trust.entity(v)).reputation;
      await expect(disputes.settle(dId, v)).to.emit(disputes, "VoterSettled").withArgs(dId, v, want(false));
      expect((await trust.entity(v)).reputation, "it could have revealed: a withholder").to.equal(before - P.voterPenalty);
    }
    // ben's login lapsed, but it could have revealed: withholding costs it the penalty
    expect(await trust.hasIdentityStanding(ben.id)).to.equal(true);
    await expect(disputes.settle(dId, ben.id)).to.emit(disputes, "VoterSettled").withArgs(dId, ben.id, want(false));
  });

  it("hasIdentityStanding: an unattested, unverified entity has none; a resource node's registry revokes nothing", async () => {
    const { trust, others, deployment } = await opened();
    await trust.connect(others[3]).register(id("plain"), Kind.Avatar);
    expect(await trust.hasIdentityStanding(id("plain"))).to.equal(false);
    expect(await trust.hasIdentityStanding(id("never-registered"))).to.equal(false);
    const pools = ResourcePoolRegistry__factory.connect(deployment.contracts.ResourcePoolRegistry.address, ethers.provider);
    expect(await pools.isRevoked(id("any-pid"))).to.equal(false);
  });
});
