/**
 * s23-rtm finding F2 (red team, MSSA election): a ballot names neither its round nor its
 * candidates. `vote(uint8[] ranking)` counts candidate *indices* in whatever round is current when
 * the transaction is mined, and `nominate(nominee)` likewise. A ballot signed for round r that is
 * held back (a low fee, a congested or censoring mempool, or a relay that keeps the signed
 * transaction) and mined once round r+1 is voting is counted in round r+1, for whichever
 * candidates sit at those indices there: the voter's only ballot of round r+1 is spent on a
 * ranking she never chose (and she cannot vote again: AlreadyVoted).
 *
 * Fixed: `vote(round, ranking)` and `nominate(round, nominee)` name their round and are refused
 * with NotCurrentRound(round, current) in any other: the transaction signed in round 1 has no effect in round 2.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import type { Interface } from "ethers";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture, P, personOf, nominateAs } from "../fixtures/mssa";

describe("s23-rtm F2: a ballot or nomination names its round and counts in no other", () => {
  it("a vote transaction signed during round 1's vote and mined during round 2's vote changes nothing in round 2", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    // the voter: an elector whose transactions we sign ourselves (a wallet, as a user's would be)
    const voter = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(voter.address, 10n ** 20n);
    await f.election.enrolElector(voter.address, personOf(voter.address));

    // round 1: six candidates; the voter signs her ballot (m0 first ... m5 last) but it is not mined yet
    await f.election.openRound();
    for (let i = 0; i < 6; i++) await f.election.connect(m[i]).nominate(1n, m[i].address);
    await time.increase(P.nominationPeriod);
    await f.election.closeNomination();
    const r1 = await f.election.round(1n);
    const ranking = [...Array(r1.candidates.length).keys()];
    const fn = f.election.interface.getFunction("vote")!;
    const args = [1n, ranking]; // the ballot names round 1
    const net = await ethers.provider.getNetwork();
    const signed = await voter.signTransaction({
      to: await f.election.getAddress(),
      data: (f.election.interface as unknown as Interface).encodeFunctionData(fn, args),
      nonce: await ethers.provider.getTransactionCount(voter.address),
      gasLimit: 500_000n,
      maxFeePerGas: 200n * 10n ** 9n,
      maxPriorityFeePerGas: 10n ** 9n,
      chainId: net.chainId,
      type: 2,
    });
    await time.increase(P.votingPeriod);
    await f.election.elect();

    // round 2: other candidates (m4..m9), six again
    await f.election.openRound();
    for (let i = 0; i < 6; i++) await nominateAs(f.election, m[i], m[i + 4].address);
    await time.increase(P.nominationPeriod);
    await f.election.closeNomination();
    const r2 = await f.election.round(2n);
    expect(r2.candidates.length).to.equal(ranking.length);
    expect([...r2.candidates].sort()).to.not.deep.equal([...r1.candidates].sort());

    // the held-back round-1 ballot reaches the chain now
    // refused: it names round 1 (the raw transaction's revert carries NotCurrentRound(1, 2))
    await expect(ethers.provider.broadcastTransaction(signed)).to.be.rejectedWith(/NotCurrentRound\(1, 2\)/);
    await expect(f.election.connect(voter).vote.staticCall(1n, ranking))
      .to.be.revertedWithCustomError(f.election, "AuthorityElection__NotCurrentRound")
      .withArgs(1n, 2n);
    const tally = await f.election.tally(2n);
    expect(
      await f.election.hasVoted(2n, voter.address),
      `the round-1 ballot was counted in round 2 (tally ${tally.join(",")}): the voter's round-2 vote is spent on candidates she never ranked`,
    ).to.equal(false);
    expect(tally.every((x) => x === 0n)).to.equal(true);
  });
  it("a nomination or acceptance naming another round is refused with NotCurrentRound and changes nothing", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    await f.election.openRound();
    for (let i = 0; i < 6; i++) await f.election.connect(m[i]).nominate(1n, m[i].address);
    await time.increase(P.nominationPeriod);
    await f.election.closeNomination();
    await f.election.connect(m[0]).vote(1n, [0, 1, 2, 3, 4, 5]);
    await time.increase(P.votingPeriod);
    await f.election.elect();
    await f.election.openRound();
    for (const [call, what] of [
      [() => f.election.connect(m[7]).nominate(1n, m[7].address), "nominate"],
      [() => f.election.connect(m[7]).nominate(3n, m[7].address), "nominate ahead"],
      [() => f.election.connect(m[7]).stand(1n), "stand"],
    ] as const)
      await expect(call(), what).to.be.revertedWithCustomError(f.election, "AuthorityElection__NotCurrentRound");
    expect(await f.election.hasNominated(2n, m[7].address)).to.equal(false);
    expect(await f.election.isStanding(2n, m[7].address)).to.equal(false);
    expect(await f.election.nominations(2n, m[7].address)).to.equal(0n);
  });
});
