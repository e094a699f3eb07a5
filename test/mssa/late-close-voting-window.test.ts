/**
 * s23-rtm finding F1 (red team, MSSA election): the voting stage opens when someone calls
 * `closeNomination`, but its deadline `votingEnd` was fixed at `openRound` (nominationEnd +
 * votingPeriod). A `closeNomination` called after `votingEnd` therefore opens a vote nobody can
 * cast (`vote` reverts TooLate at once) and `elect` may follow in the same block: the seats go
 * to the tie-break alone (all Borda scores 0, then the ratio, then keccak(electionSeed, address)),
 * and electionSeed is fixed by that very `closeNomination`. Whoever closes late (anyone; a
 * contract can run closeNomination + elect atomically and revert until the block's prevrandao
 * seats it) decides the result without a single ballot.
 *
 * Fixed (docs/specs/mssa.md §1.4): the vote runs a full votingPeriod from the actual close; a round
 * without a ballot aborts; the election seed is openRound's commitment XOR the ballots' hashes, so
 * neither the closing nor the electing call chooses it.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture, P } from "../fixtures/mssa";
import { tieKey } from "../../offchain/mssa/election";

const VOTING = 2n;
const ELECTED = 3n;
const ABORTED = 4n;

describe("s23-rtm F1: a late closeNomination opens a full voting window; no ballot, no outcome; no caller picks the seed", () => {
  it("a round closed after its votingEnd is not elected without any elector having been able to vote", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    await f.election.openRound();
    const id = await f.election.currentRound();
    for (let i = 0; i < 6; i++) await f.election.connect(m[i]).nominate(id, m[i].address);
    for (let i = 6; i < 10; i++) await f.election.connect(m[i]).nominate(id, m[i - 6].address);
    // nobody closes the nomination until the voting period is over too
    await time.increase(P.nominationPeriod + P.votingPeriod);
    await f.election.connect(m[5]).closeNomination();
    const r = await f.election.round(id);
    expect(r.stage).to.equal(VOTING);
    const n = r.candidates.length;
    // every elector tries to vote: the first ranking for all of them
    let ballots = 0;
    for (const v of m) {
      try {
        await f.election.connect(v).vote(id, [...Array(n).keys()]);
        ++ballots;
      } catch {
        /* refused (TooLate today) */
      }
    }
    // every elector could vote: the window is a full period from the close
    expect(ballots, "ballots accepted after the late close").to.equal(m.length);
    await expect(f.election.elect()).to.be.revertedWithCustomError(f.election, "AuthorityElection__TooEarly");
    await time.increase(P.votingPeriod);
    await f.election.elect();
    const after = await f.election.round(id);
    if (after.stage === ELECTED && after.ballots === 0n) {
      // what decided it: the tie key under the seed fixed by the late closeNomination
      const byKey = [...r.candidates].sort((a, b) => (tieKey(r.electionSeed, a) < tieKey(r.electionSeed, b) ? -1 : 1));
      expect([...after.authorities].sort(), "seated by the tie-break alone").to.deep.equal(byKey.slice(0, P.seats).sort());
    }
    expect(
      after.stage === ELECTED && after.ballots === 0n,
      `round ${id} was elected with ${after.ballots} ballots (${ballots} accepted of ${m.length} tried): the seats went to the tie-break of the seed the late closer fixed`,
    ).to.equal(false);
  });
  it("the late closer cannot choose the seats by choosing the block (closeNomination + elect, undone unless she sits)", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    await f.election.openRound();
    const id = await f.election.currentRound();
    // the attacker m5 has her own nomination only; m0..m3 have two each
    for (let i = 0; i < 6; i++) await f.election.connect(m[i]).nominate(id, m[i].address);
    for (let i = 6; i < 10; i++) await f.election.connect(m[i]).nominate(id, m[i - 6].address);
    await time.increase(P.nominationPeriod + P.votingPeriod);
    const attacker = m[5];
    // what a contract does atomically (closeNomination; elect; require(isAuthority(attacker))), one
    // try per block: here a snapshot stands for the revert
    let tries = 0;
    let seated = false;
    while (!seated && tries < 16) {
      ++tries;
      const snap = await ethers.provider.send("evm_snapshot", []);
      await f.election.connect(attacker).closeNomination();
      try {
        await f.election.connect(attacker).elect();
      } catch {
        /* a fix may refuse it */
      }
      const r = await f.election.round(id);
      seated = r.stage === ELECTED && r.ballots === 0n && (await f.election.isAuthority(attacker.address));
      if (!seated) {
        await ethers.provider.send("evm_revert", [snap]);
        await ethers.provider.send("evm_mine", []); // the next block, another prevrandao
      }
    }
    expect(seated, `the weakest nominee seated herself without a ballot after ${tries} block(s) of trying`).to.equal(false);
  });
  it("a round in which no ballot was cast elects nobody: it aborts and the sitting authorities stay", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    const before = await f.election.authorities();
    await f.election.openRound();
    const id = await f.election.currentRound();
    for (let i = 0; i < 6; i++) await f.election.connect(m[i]).nominate(id, m[i].address);
    await time.increase(P.nominationPeriod);
    await f.election.closeNomination();
    expect((await f.election.round(id)).stage).to.equal(VOTING);
    await time.increase(P.votingPeriod);
    await expect(f.election.elect()).to.emit(f.election, "RoundAborted").withArgs(id, VOTING, 0);
    expect((await f.election.round(id)).stage).to.equal(ABORTED);
    expect(await f.election.sittingRound()).to.equal(0n);
    expect(await f.election.authorities()).to.deep.equal(before);
  });
  it("the election seed is fixed at openRound and by the ballots, not by the block of closeNomination, whatever order the ballots come in", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    await f.election.openRound();
    const id = await f.election.currentRound();
    const committed = (await f.election.round(id)).electionSeed;
    for (let i = 0; i < 6; i++) await f.election.connect(m[i]).nominate(id, m[i].address);
    await time.increase(P.nominationPeriod);
    const seeds: string[] = [];
    const finals: string[] = [];
    for (const [blocks, order] of [
      [0, [0, 1, 2]],
      [3, [2, 0, 1]],
    ] as const) {
      const snap = await ethers.provider.send("evm_snapshot", []);
      for (let b = 0; b < blocks; b++) await ethers.provider.send("evm_mine", []);
      await f.election.connect(m[9]).closeNomination();
      seeds.push((await f.election.round(id)).electionSeed);
      for (const v of order) await f.election.connect(m[v]).vote(id, [0, 1, 2, 3, 4, 5]);
      finals.push((await f.election.round(id)).electionSeed);
      await ethers.provider.send("evm_revert", [snap]);
    }
    expect(seeds, "closeNomination leaves the committed seed").to.deep.equal([committed, committed]);
    expect(finals[0], "the ballots are mixed in").to.not.equal(committed);
    expect(finals[1], "in any order").to.equal(finals[0]);
  });
});
