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
 * and reputable enough to be a juror. What the court does with a juror whose standing goes
 * mid-dispute is the rule h11-red2 D1 set for avatars (juror-status.test.ts): revoked before its
 * commit, it cannot commit; revoked after it, it cannot reveal, its weight does not count, and it
 * is not penalized at settlement for the reveal it was refused; reinstated (the MSRP lifted it),
 * it judges again.
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
  it("revoked (its RN in S_RN), it cannot commit as a juror, nothing changes; reinstated, it commits", async () => {
    const { disputes, trust, pools, rns, dId, jury } = await loadFixture(court);
    const [rn] = rns;
    expect(await trust.isIdentityVerified(rn), "an attested RN is verified").to.equal(true);
    await pools.revokePid(rn);
    expect([await trust.isIdentityVerified(rn), await trust.hasIdentityStanding(rn)]).to.deep.equal([false, false]);
    const before = await disputes.voteOf(dId, rn);
    await expect(jury.commit(dId, rn, vote(dId, rn)))
      .to.be.revertedWithCustomError(disputes, "DisputeResolution__NotVerified")
      .withArgs(dId, rn);
    expect(await disputes.voteOf(dId, rn)).to.deep.equal(before);
    await pools.reinstatePid(rn);
    await expect(jury.commit(dId, rn, vote(dId, rn))).to.emit(disputes, "VoteCommitted");
  });

  it("revoked after its commit: its reveal is refused, its weight does not count, settlement does not penalize it", async () => {
    const { disputes, trust, pools, rns, voters, dId, jury } = await loadFixture(court);
    const [revoked, honest] = rns;
    for (const v of [...rns, ...voters.slice(0, 3)]) await jury.commit(dId, v, vote(dId, v));
    await pools.revokePid(revoked);
    await toReveal();
    await expect(jury.reveal(dId, revoked, 0, salt(`rn-${revoked}`)))
      .to.be.revertedWithCustomError(disputes, "DisputeResolution__IdentityRevoked")
      .withArgs(dId, revoked);
    const weight = (await trust.entity(honest)).reputation;
    await expect(jury.reveal(dId, honest, 0, salt(`rn-${honest}`)))
      .to.emit(disputes, "VoteRevealed")
      .withArgs(dId, honest, 0, weight, 0);
    for (const v of voters.slice(0, 3)) await jury.reveal(dId, v, 0, salt(`rn-${v}`));
    let counted = weight;
    for (const v of voters.slice(0, 3)) counted += (await trust.entity(v)).reputation;
    expect((await disputes.tally(dId))[0], "the revoked RN's weight is not in the tally").to.equal(counted);
    await toResolve();
    await disputes.resolve(dId);
    const rep = (await trust.entity(revoked)).reputation;
    await expect(disputes.settle(dId, revoked)).to.emit(disputes, "VoterSettled").withArgs(dId, revoked, 0);
    expect((await trust.entity(revoked)).reputation).to.equal(rep);
  });
});
