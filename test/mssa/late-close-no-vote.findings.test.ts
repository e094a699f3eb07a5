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
 * The test passes once an elector can vote after a late `closeNomination` (a fresh voting window)
 * or a round that no elector could vote in is not Elected (e.g. it aborts).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture, P } from "../fixtures/mssa";
import { tieKey } from "../../offchain/mssa/election";

const VOTING = 2n;
const ELECTED = 3n;

describe("findings s23-rtm F1: a late closeNomination leaves no voting window", () => {
  it("a round closed after its votingEnd is not elected without any elector having been able to vote", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    await f.election.openRound();
    const id = await f.election.currentRound();
    for (let i = 0; i < 6; i++) await f.election.connect(m[i]).nominate(m[i].address);
    for (let i = 6; i < 10; i++) await f.election.connect(m[i]).nominate(m[i - 6].address);
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
        await f.election.connect(v).vote([...Array(n).keys()]);
        ++ballots;
      } catch {
        /* refused (TooLate today) */
      }
    }
    try {
      await f.election.elect();
    } catch {
      /* a fix may refuse it */
    }
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
    for (let i = 0; i < 6; i++) await f.election.connect(m[i]).nominate(m[i].address);
    for (let i = 6; i < 10; i++) await f.election.connect(m[i]).nominate(m[i - 6].address);
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
});
