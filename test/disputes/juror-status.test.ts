/**
 * h11-red2 D1 (closed): a juror's identity standing at reveal. A juror verified at commit whose
 * identity is revoked before its reveal (its owner's MIT revoked: a stolen key, an expelled person;
 * or the admin's unverification) must not reveal, and its weight must not count (trust paper,
 * reputation-weighted dispute resolution, Eqs. 21-22: only verified identities judge). An avatar
 * juror whose login or delegation merely lapsed (MITRegistry.isVerified holds only while it runs)
 * keeps its vote: its owner could log in again, nothing was withdrawn. `reveal` asks
 * `TrustManager.hasIdentityStanding`, which asks the registry `isRevoked` (owner's MIT revoked).
 *
 * Threat model. The attacker holds a juror identity being revoked (the thief of a key, the person
 * being expelled) and commits while it is still verified; the revocation must reach the vote.
 * The revoker (the IdP, the admin) is no party of any dispute, so the rule holds in a flag contest
 * too (unlike a flag, which the detector, the contest's other side, could set to pick the votes).
 * Following D2, a juror refused at reveal is not penalized as a withholder: `settle` reads the
 * standing at settlement (`tally.couldHaveRevealed` with `revokedNow`). Front-running: a juror who
 * sees its revocation coming can reveal first; revocation after a reveal does not undo the vote
 * (the contract keeps no history of standing, as of flags; docs/specs/disputes.md).
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

describe("h11-red2 D1: a juror's identity standing at reveal", () => {
  it("a juror the admin unverifies after its commit cannot reveal: its weight does not count, nothing changes", async () => {
    const { disputes, trust, voters, dId, jury } = await opened();
    const v = voters[0];
    await trust.setIdentityVerified(v, false); // its identity is revoked
    expect(await trust.hasIdentityStanding(v)).to.equal(false);
    await toReveal();
    const [vote, sums] = [await disputes.voteOf(dId, v), await disputes.tally(dId)];
    await expect(jury.reveal(dId, v, 0, salt(`d1-${v}`)))
      .to.be.revertedWithCustomError(disputes, "DisputeResolution__IdentityRevoked")
      .withArgs(dId, v);
    expect(await disputes.voteOf(dId, v)).to.deep.equal(vote);
    expect(await disputes.tally(dId)).to.deep.equal(sums);
  });

  it("an avatar juror whose owner's MIT is revoked after its commit cannot reveal", async () => {
    const { disputes, trust, mit, avatars, dId, jury } = await opened();
    const [ann] = avatars;
    await mit.revokeMIT(ann.serial);
    expect(await mit.isRevoked(ann.id)).to.equal(true);
    expect(await trust.hasIdentityStanding(ann.id)).to.equal(false);
    await toReveal();
    await expect(jury.reveal(dId, ann.id, 0, salt(`d1-${ann.id}`)))
      .to.be.revertedWithCustomError(disputes, "DisputeResolution__IdentityRevoked")
      .withArgs(dId, ann.id);
    expect((await disputes.tally(dId))[0]).to.equal(0n);
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

  it("in a flag contest too, a revoked juror cannot reveal (the revoker is no party)", async () => {
    const { disputes, mit, avatars, dId, jury } = await opened(3);
    await mit.revokeMIT(avatars[0].serial);
    await toReveal();
    await expect(jury.reveal(dId, avatars[0].id, 0, salt(`d1-${avatars[0].id}`))).to.be.revertedWithCustomError(
      disputes,
      "DisputeResolution__IdentityRevoked",
    );
  });

  it("at settlement a revoked juror is not penalized for the vote it could not reveal; a lapsed withholder is", async () => {
    const { disputes, trust, mit, avatars, voters, dId, jury } = await opened();
    const [ann, ben] = avatars;
    await mit.revokeMIT(ann.serial);
    await trust.setIdentityVerified(voters[0], false);
    await toReveal();
    for (const v of voters.slice(1, 3)) await jury.reveal(dId, v, 0, salt(`d1-${v}`));
    await toResolve();
    await disputes.resolve(dId);
    const want = (revokedNow: boolean) =>
      voterFeedback(
        NO_VOTE,
        { weight: 0n, choice: 0, revealed: false },
        couldHaveRevealed({ eligibleAtSnapshot: true, barredNow: false, revokedNow }),
        P,
      );
    expect(want(true)).to.equal(0n);
    expect(want(false)).to.equal(-P.voterPenalty);
    for (const v of [ann.id, voters[0]]) {
      const before = (await trust.entity(v)).reputation;
      await expect(disputes.settle(dId, v)).to.emit(disputes, "VoterSettled").withArgs(dId, v, want(true));
      expect((await trust.entity(v)).reputation, "a revoked juror was penalized for a reveal it was refused").to.equal(before);
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
