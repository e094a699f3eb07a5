/**
 * s22-redx F2, the court end to end (s22-fx12): a resource node the MSRP revoked (in S_RN: evicted
 * from a service group, or the operator's `rsms:rn:flag`) has its trust identity marked revoked on
 * the ResourcePoolRegistry (`revokePid`, by the MSRP's revocation sync), so its attested trust
 * entity loses its verified identity (`TrustManager.isIdentityVerified`, asked at commit) and its
 * standing (`hasIdentityStanding`, asked at reveal and settlement). Before the fix the registry's
 * `isRevoked` was hard-wired false and `isVerified` followed the join record alone: a ring of
 * revoked RNs kept judging flag contests and avatar disputes.
 *
 * Threat model: the attacker controls RNs the MSRP revoked, each with an attested trust entity old
 * and reputable enough to be a juror. The court judges a juror's standing as of the dispute's
 * snapshot (s26-rtx, closing h11-red2 D1's "revoked after the commit cannot reveal" for every
 * source): revoked at or before the snapshot (the block before the opening), it cannot commit and
 * `eligibleWeight` answers 0; revoked after it (the MSRP acting on a detector's flag the court's flag
 * rule would not count, s26-rtx R1), it commits, reveals and is settled as any juror; reinstated
 * before a dispute's opening (the MSRP lifted it), it judges that dispute.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { byVoter, deployDisputeFixture, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { attestRegistration } from "../../offchain/trust/ledger";
import { encodePoint, mulBase, randomScalar } from "../../offchain/crypto/group";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { ResourcePoolRegistry__factory } from "../../typechain-types";

const label = (s: string) => toHex(keccak256(new TextEncoder().encode(`rn-juror-revoked:${s}`)));

/** The dispute fixture plus two RNs (a join record each) with attested trust entities, old enough to judge; a dispute opened. */
async function court() {
  const f = await deployDisputeFixture();
  const pools = ResourcePoolRegistry__factory.connect(f.deployment.contracts.ResourcePoolRegistry.address, f.msrp);
  await pools.createPool(1, f.others[0].address, label("pid-rpm"), toHex(encodePoint(mulBase(randomScalar()))));
  const rns: string[] = [];
  for (const name of ["rn-a", "rn-b"]) {
    const pid = label(name);
    await pools.recordJoin(pid, label(`${name}-tag`), 1, 1);
    const w = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(w.address, 10n ** 20n);
    const deadline = BigInt(await time.latest()) + 3600n;
    const a = await attestRegistration(f.msrp, f.trust, pid, "resource-node", w.address, deadline);
    await f.trust.connect(w).registerAttested(pid, Kind.ResourceNode, deadline, a);
    f.signerOf.set(pid, w);
    rns.push(pid);
  }
  await mine(Number(P.minAge) + 1);
  await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 3, id("evidence"), "bafkrei-evidence", 0, { value: P.deposit });
  return { ...f, pools, rns, dId: 1n, jury: byVoter(f.disputes, f.signerOf) };
}

const toReveal = () => time.increase(Number(P.commitPeriod) + 1);
const toResolve = () => time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
const vote = (dId: bigint, v: string) => commitmentOf(dId, v, 0, salt(`rn-${v}`));

describe("s22-redx F2: a revoked RN's attested trust entity does not judge", () => {
  it("revoked (its RN in S_RN) before a dispute opens, it cannot commit in it, nothing changes; reinstated, it commits", async () => {
    const { disputes, trust, pools, rns, dId, jury } = await loadFixture(court);
    const [rn] = rns;
    expect(await trust.isIdentityVerified(rn), "an attested RN is verified").to.equal(true);
    await pools.revokePid(rn);
    expect([await trust.isIdentityVerified(rn), await trust.hasIdentityStanding(rn)]).to.deep.equal([false, false]);
    // a second dispute opens after the revocation
    await disputes.openDispute(id("claimant"), id("respondent"), 0, 3, id("evidence-2"), "bafkrei-evidence-2", 0, { value: P.deposit });
    const later = dId + 1n;
    expect(await disputes.eligibleWeight(later, rn), "no vote where it was revoked at the snapshot").to.equal(0n);
    const before = await disputes.voteOf(later, rn);
    await expect(jury.commit(later, rn, vote(later, rn)))
      .to.be.revertedWithCustomError(disputes, "DisputeResolution__NotVerified")
      .withArgs(later, rn);
    expect(await disputes.voteOf(later, rn)).to.deep.equal(before);
    // in the dispute opened before the revocation it still judges (s26-rtx)
    await expect(jury.commit(dId, rn, vote(dId, rn))).to.emit(disputes, "VoteCommitted");
    await pools.reinstatePid(rn);
    await expect(jury.commit(later, rn, vote(later, rn))).to.emit(disputes, "VoteCommitted");
  });

  it("revoked after the opening and its commit: it reveals with its weight, and settles as any voter (s26-rtx)", async () => {
    const { disputes, trust, pools, rns, voters, dId, jury } = await loadFixture(court);
    const [revoked, honest] = rns;
    for (const v of [...rns, ...voters.slice(0, 3)]) await jury.commit(dId, v, vote(dId, v));
    await pools.revokePid(revoked);
    await toReveal();
    let counted = 0n;
    for (const v of [revoked, honest]) {
      const weight = (await trust.entity(v)).reputation;
      await expect(jury.reveal(dId, v, 0, salt(`rn-${v}`)))
        .to.emit(disputes, "VoteRevealed")
        .withArgs(dId, v, 0, weight, 0);
      counted += weight;
    }
    for (const v of voters.slice(0, 3)) await jury.reveal(dId, v, 0, salt(`rn-${v}`));
    for (const v of voters.slice(0, 3)) counted += (await trust.entity(v)).reputation;
    expect((await disputes.tally(dId))[0], "the RN revoked after the snapshot counts").to.equal(counted);
    await toResolve();
    await disputes.resolve(dId);
    const rep = (await trust.entity(revoked)).reputation;
    await expect(disputes.settle(dId, revoked)).to.emit(disputes, "VoterSettled").withArgs(dId, revoked, 0);
    expect((await trust.entity(revoked)).reputation).to.equal(rep);
  });
});
