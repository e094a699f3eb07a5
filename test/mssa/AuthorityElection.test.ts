import { expect } from "chai";
import { ethers } from "hardhat";
import { impersonateAccount, loadFixture, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { anyUint } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { deployMssaFixture, P, personOf, nominateAs } from "../fixtures/mssa";
import { misbehaviourRatio, runRound, tieKey, WAD } from "../../offchain/mssa/election";
import { Prng } from "../../offchain/util/prng";

const EV = ethers.id("evidence-1");

async function snapshot(f: Awaited<ReturnType<typeof deployMssaFixture>>) {
  const r = await f.election.currentRound();
  const round = await f.election.round(r);
  return {
    r,
    stage: round.stage,
    ballots: round.ballots,
    tally: r > 0n ? await f.election.tally(r) : [],
    authorities: await f.election.authorities(),
    members: await f.election.memberCount(),
  };
}

/**
 * A round in the voting stage: members 0..5 nominated by members 0..9 (0..5 once each, 6..9 for 0..3).
 * `beforeNominations` runs once the round is open, before the nominations: reports it makes count at
 * once (a report about a nominee made after her nomination waits for the round's end, s20-redm F1).
 */
async function voting(beforeNominations?: (f: Awaited<ReturnType<typeof deployMssaFixture>>) => Promise<void>) {
  const f = await loadFixture(deployMssaFixture);
  const m = f.members;
  await f.election.openRound();
  if (beforeNominations) await beforeNominations(f);
  for (let i = 0; i < 6; i++) await nominateAs(f.election, m[i], m[i].address);
  for (let i = 6; i < 10; i++) await nominateAs(f.election, m[i], m[i - 6].address);
  await time.increase(P.nominationPeriod);
  await f.election.closeNomination();
  return f;
}

/** Sorts addresses as the contract breaks ties under `seed`. */
const byKey = (seed: string, xs: readonly string[]) => [...xs].sort((a, b) => (tieKey(seed, a) < tieKey(seed, b) ? -1 : 1));

describe("AuthorityElection", () => {
  it("starts with the genesis authorities (signers 1..3) and the paper's parameters", async () => {
    const f = await loadFixture(deployMssaFixture);
    expect(await f.election.authorities()).to.deep.equal([f.au1.address, f.au2.address, f.au3.address]);
    expect(await f.election.isAuthority(f.au1.address)).to.equal(true);
    expect(await f.election.isAuthority(f.members[0].address)).to.equal(false);
    const p = await f.election.params();
    expect(p.weights.map(BigInt)).to.deep.equal(P.weights);
    expect(await f.election.memberCount()).to.equal(13n);
  });

  describe("# constructor", () => {
    it("refuses no seats, more than 32 seats, a bad quorum, a genesis too small or too large, a zero cap, a zero or repeated genesis account, a missing election nullifier", async () => {
      const [admin, a, b, c, d] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("AuthorityElection");
      const g3 = [a.address, b.address, c.address];
      const cases: [string, typeof P, string[]][] = [
        ["no seats", { ...P, seats: 0 }, g3],
        ["33 seats: 66 candidates > 64", { ...P, seats: 33 }, g3],
        ["quorum 0", { ...P, reportQuorum: 0 }, g3],
        ["quorum above the seats", { ...P, reportQuorum: 4 }, g3],
        ["genesis below the quorum", P, [a.address]],
        ["genesis above the seats", P, [...g3, d.address]],
        ["a zero cap", { ...P, caps: [5, 0, 10, 3] }, g3],
        ["a zero genesis account", P, [a.address, ethers.ZeroAddress, c.address]],
        ["a repeated genesis account", P, [a.address, b.address, a.address]],
      ];
      for (const [what, p, genesis] of cases)
        await expect(factory.deploy(admin.address, p, genesis, genesis.map(personOf)), what).to.be.revertedWithCustomError(
          factory,
          "AuthorityElection__InvalidParams",
        );
      // one election nullifier per genesis authority (s20-redm F5): EveryMemberIsAPerson.t.sol tests zero and repeated ones
      await expect(factory.deploy(admin.address, P, g3, g3.slice(0, 2).map(personOf)), "a missing nullifier").to.be.revertedWithCustomError(
        factory,
        "AuthorityElection__InvalidParams",
      );
      // the bounds are inclusive: 32 seats, a quorum equal to the genesis size
      const el = await factory.deploy(admin.address, { ...P, seats: 32, reportQuorum: 1 }, [a.address], [personOf(a.address)]);
      expect((await el.params()).seats).to.equal(32n);
      expect(await el.authorities()).to.deep.equal([a.address]);
    });
  });

  describe("# members", () => {
    it("only the registrar enrols and removes; a zero address or a non-member is refused; enrolling a member again under its own nullifier is a no-op", async () => {
      const f = await loadFixture(deployMssaFixture);
      const REGISTRAR = await f.election.REGISTRAR_ROLE();
      const [m0] = f.members;
      const outsider = f.users[15];
      const before = await snapshot(f);
      await expect(f.election.connect(m0).enrolElector(outsider.address, personOf(outsider.address)))
        .to.be.revertedWithCustomError(f.election, "AccessControlUnauthorizedAccount")
        .withArgs(m0.address, REGISTRAR);
      await expect(f.election.connect(m0).remove(f.members[1].address))
        .to.be.revertedWithCustomError(f.election, "AccessControlUnauthorizedAccount")
        .withArgs(m0.address, REGISTRAR);
      await expect(f.election.enrolElector(ethers.ZeroAddress, personOf(ethers.ZeroAddress)))
        .to.be.revertedWithCustomError(f.election, "AuthorityElection__NotMember")
        .withArgs(ethers.ZeroAddress);
      await expect(f.election.remove(outsider.address))
        .to.be.revertedWithCustomError(f.election, "AuthorityElection__NotMember")
        .withArgs(outsider.address);
      await expect(f.election.enrolElector(m0.address, personOf(m0.address))).to.not.emit(f.election, "MemberEnrolled");
      expect(await snapshot(f)).to.deep.equal(before);
      expect([await f.election.isMember(outsider.address), await f.election.isMember(f.members[1].address)]).to.deep.equal([false, true]);
    });
  });

  describe("# stages", () => {
    it("nominate and closeNomination need an open nomination, vote needs the voting stage; nothing changes", async () => {
      const f = await loadFixture(deployMssaFixture);
      const [a, b] = f.members;
      await expect(nominateAs(f.election, a, b.address))
        .to.be.revertedWithCustomError(f.election, "AuthorityElection__WrongStage")
        .withArgs(0, 3); // round 0 (genesis) is Elected
      await expect(f.election.closeNomination()).to.be.revertedWithCustomError(f.election, "AuthorityElection__WrongStage").withArgs(0, 3);
      await f.election.openRound();
      await nominateAs(f.election, a, b.address);
      const before = await snapshot(f);
      await expect(f.election.connect(a).vote(await f.election.currentRound(), [0, 1, 2, 3, 4, 5]))
        .to.be.revertedWithCustomError(f.election, "AuthorityElection__WrongStage")
        .withArgs(1, 1);
      expect(await snapshot(f)).to.deep.equal(before);
      expect(await f.election.hasVoted(1, a.address)).to.equal(false);
    });
  });

  describe("# openRound / nominate / closeNomination", () => {
    it("needs M > 2m members; nothing changes otherwise", async () => {
      const f = await loadFixture(deployMssaFixture);
      for (const m of f.members.slice(0, 7)) await f.election.remove(m.address);
      const before = await snapshot(f);
      await expect(f.election.openRound()).to.be.revertedWithCustomError(f.election, "AuthorityElection__TooFewMembers").withArgs(6n, 7n);
      expect(await snapshot(f)).to.deep.equal(before);
    });

    it("selects the top 2m nominees by Eq. 2, weighting nominations by 1 - R_bw", async () => {
      const f = await voting();
      const r = await f.election.round(1);
      expect(r.stage).to.equal(2n); // Voting
      // members 0..3 have 2 nominations, 4..5 one each: 6 = 2m candidates.
      // Order: effective votes, then keccak(nominationSeed, address) on ties.
      const addr = f.members.map((s) => s.address);
      const seed = r.nominationSeed;
      expect(r.candidates).to.deep.equal([...byKey(seed, addr.slice(0, 4)), ...byKey(seed, addr.slice(4, 6))]);
      expect(r.candidateRatios).to.deep.equal(Array(6).fill(0n));
    });

    it("rejects double nominations, non-members, late and early calls; nothing changes", async () => {
      const f = await loadFixture(deployMssaFixture);
      const [a, b] = f.members;
      const outsider = f.users[15];
      await f.election.openRound();
      await nominateAs(f.election, a, b.address);
      const n = await f.election.nominations(1, b.address);
      await expect(nominateAs(f.election, a, a.address)).to.be.revertedWithCustomError(f.election, "AuthorityElection__AlreadyNominated");
      await expect(nominateAs(f.election, outsider, a.address))
        .to.be.revertedWithCustomError(f.election, "AuthorityElection__NotElector")
        .withArgs(1, outsider.address);
      await expect(nominateAs(f.election, b, outsider.address))
        .to.be.revertedWithCustomError(f.election, "AuthorityElection__NotElector")
        .withArgs(1, outsider.address);
      await expect(f.election.closeNomination()).to.be.revertedWithCustomError(f.election, "AuthorityElection__TooEarly");
      await expect(f.election.openRound()).to.be.revertedWithCustomError(f.election, "AuthorityElection__WrongStage");
      expect(await f.election.nominations(1, b.address)).to.equal(n);
      expect(await f.election.hasNominated(1, b.address)).to.equal(false);
      await time.increase(P.nominationPeriod);
      await expect(nominateAs(f.election, b, a.address)).to.be.revertedWithCustomError(f.election, "AuthorityElection__TooLate");
      // one nominee cannot fill m = 3 seats: the round aborts, the genesis authorities stay, a new round opens
      const sitting = await f.election.authorities();
      await expect(f.election.closeNomination()).to.emit(f.election, "RoundAborted").withArgs(1, 1, 1);
      expect((await f.election.round(1)).stage).to.equal(4n); // Aborted
      expect(await f.election.authorities()).to.deep.equal(sitting);
      await expect(f.election.openRound()).to.emit(f.election, "RoundOpened").withArgs(2n, anyUint, anyUint);
    });

    it("a nominee removed before the nomination closes is not eligible, one framed to R = 1 after its nomination still is (s20-redm F1); fewer than 2m eligible are all candidates", async () => {
      const f = await loadFixture(deployMssaFixture);
      const nominees = f.members.slice(0, 5).map((m) => m.address);
      await f.election.openRound();
      for (const [i, n] of nominees.entries()) await nominateAs(f.election, f.members[i + 5], n);
      await f.election.remove(nominees[0]);
      // reports about a nominee made after her nomination wait for the round's end
      const framed = nominees[1];
      for (let i = 0; i < 5; i++)
        await expect(f.election.connect(f.detector).report(framed, 0, ethers.id(`d${i}`))).to.emit(f.election, "MisbehaviourDeferred");
      for (let i = 0; i < 3; i++) await f.election.connect(f.detector).report(framed, 3, ethers.id(`o${i}`));
      for (let i = 0; i < 10; i++) await f.election.connect(f.detector).report(framed, 1, ethers.id(`c${i}`));
      expect((await f.election.misbehaviour(framed)).ratio).to.equal(0n);
      const [waiting, until] = await f.election.deferredMisbehaviour(framed);
      expect([waiting.map(Number), until]).to.deep.equal([[5, 10, 0, 3], 1n]);
      await time.increase(P.nominationPeriod);
      // one nomination each: the 4 eligible tie at 1 * (1 - 0), ordered by keccak(nominationSeed, address)
      const expected = byKey((await f.election.round(1)).nominationSeed, nominees.slice(1));
      await expect(f.election.closeNomination()).to.emit(f.election, "CandidatesSelected").withArgs(1, expected, Array(4).fill(WAD));
      const r = await f.election.round(1);
      expect([r.stage, r.candidates]).to.deep.equal([2n, expected]);
    });

    it("past MAX_NOMINEES = 128 a new nominee evicts the weakest (its nominators nominate again); a weaker newcomer is refused", async () => {
      const f = await loadFixture(deployMssaFixture);
      expect(await f.election.MAX_NOMINEES()).to.equal(128n);
      // 130 members: 13 from the fixture and 117 impersonated accounts; 128 nominate themselves
      const extra = [...Array(117).keys()].map((i) => ethers.getAddress(ethers.zeroPadValue(ethers.toBeHex(0x10000 + i), 20)));
      for (const a of extra) {
        await f.election.enrolElector(a, personOf(a));
        await impersonateAccount(a);
        await setBalance(a, 10n ** 18n);
      }
      const accounts = [...[f.au1, f.au2, f.au3, ...f.members].map((s) => s.address), ...extra];
      expect(accounts).to.have.length(130);
      await f.election.openRound();
      for (const a of accounts.slice(0, 128)) await nominateAs(f.election, await ethers.getSigner(a), a);
      const [last, spare] = await Promise.all([ethers.getSigner(accounts[128]), ethers.getSigner(accounts[129])]);
      // a newcomer with a misbehaviour record (R = 0.02) is weaker than every 1-nomination nominee
      await f.election.connect(f.detector).report(last.address, 2, ethers.id("late"));
      await expect(nominateAs(f.election, last, last.address)).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__TooManyNominees",
      );
      expect((await f.election.round(1)).nominees).to.have.length(128);
      expect(await f.election.hasNominated(1, last.address)).to.equal(false);
      expect(await f.election.nominations(1, last.address)).to.equal(0n);
      // a clean newcomer evicts the weakest (the first of the equal ones); its nominator gets its nomination back
      await expect(nominateAs(f.election, last, spare.address))
        .to.emit(f.election, "NomineeEvicted")
        .withArgs(1, accounts[0], spare.address, 1);
      const nominees = (await f.election.round(1)).nominees;
      expect(nominees).to.have.length(128);
      expect(nominees).to.include(spare.address);
      expect(nominees).to.not.include(accounts[0]);
      expect(await f.election.nominations(1, accounts[0])).to.equal(0n);
      expect(await f.election.hasNominated(1, accounts[0])).to.equal(false);
      // a nomination for a listed nominee still counts
      await nominateAs(f.election, await ethers.getSigner(accounts[0]), accounts[1]);
      expect(await f.election.nominations(1, accounts[1])).to.equal(2n);
    });

    it("refuses to nominate a node whose ratio reached 1", async () => {
      const f = await loadFixture(deployMssaFixture);
      const bad = f.members[0].address;
      for (let i = 0; i < 5; i++) await f.election.connect(f.detector).report(bad, 0, ethers.id(`d${i}`));
      for (let i = 0; i < 3; i++) await f.election.connect(f.detector).report(bad, 3, ethers.id(`o${i}`));
      for (let i = 0; i < 10; i++) await f.election.connect(f.detector).report(bad, 1, ethers.id(`c${i}`));
      expect((await f.election.misbehaviour(bad)).ratio).to.equal(WAD);
      await f.election.openRound();
      await expect(nominateAs(f.election, f.members[1], bad)).to.be.revertedWithCustomError(f.election, "AuthorityElection__Ineligible");
    });
  });

  describe("# vote", () => {
    it("adds the ballot's Borda points to the packed tally", async () => {
      const f = await voting();
      await f.election.connect(f.members[0]).vote(await f.election.currentRound(), [5, 4, 3, 2, 1, 0]);
      await f.election.connect(f.members[1]).vote(await f.election.currentRound(), [0, 1, 2, 3, 4, 5]);
      expect(await f.election.tally(1)).to.deep.equal([5n, 5n, 5n, 5n, 5n, 5n]);
      expect((await f.election.round(1)).ballots).to.equal(2n);
    });

    it("rejects double ballots, ballots from non-members and malformed rankings; nothing changes", async () => {
      const f = await voting();
      const [a] = f.members;
      await f.election.connect(a).vote(await f.election.currentRound(), [0, 1, 2, 3, 4, 5]);
      const before = await snapshot(f);
      await expect(f.election.connect(a).vote(await f.election.currentRound(), [5, 4, 3, 2, 1, 0])).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__AlreadyVoted",
      );
      await expect(f.election.connect(f.users[15]).vote(await f.election.currentRound(), [0, 1, 2, 3, 4, 5])).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__NotElector",
      );
      for (const bad of [
        [0, 0, 1, 2, 3, 4],
        [0, 1, 2, 3, 4],
        [0, 1, 2, 3, 4, 6],
        [0, 1, 2, 3, 4, 5, 6],
      ])
        await expect(f.election.connect(f.members[1]).vote(await f.election.currentRound(), bad)).to.be.revertedWithCustomError(
          f.election,
          "BordaCount__InvalidRanking",
        );
      expect(await snapshot(f)).to.deep.equal(before);
      await time.increase(P.votingPeriod);
      await expect(
        f.election.connect(f.members[1]).vote(await f.election.currentRound(), [0, 1, 2, 3, 4, 5]),
      ).to.be.revertedWithCustomError(f.election, "AuthorityElection__TooLate");
    });
  });

  describe("# elect", () => {
    it("matches the TypeScript tally on random ballots (differential)", async () => {
      for (const seed of [1, 2, 3]) {
        const rng = new Prng(seed);
        // some misbehaviour reported by the detector role before voting opens
        const f = await voting(async (g) => {
          for (let i = 0; i < 6; i++)
            await g.election
              .connect(g.detector)
              .report(g.members[rng.nextU32() % 6].address, rng.nextU32() % 4, ethers.id(`s${seed}-${i}`));
        });
        const round = await f.election.round(1);
        const cands = round.candidates;
        const ballots: number[][] = [];
        for (const v of f.members) {
          const order = [0, 1, 2, 3, 4, 5];
          for (let i = 5; i > 0; i--) {
            const j = rng.nextU32() % (i + 1);
            [order[i], order[j]] = [order[j], order[i]];
          }
          ballots.push(order);
          await f.election.connect(v).vote(await f.election.currentRound(), order);
        }
        await time.increase(P.votingPeriod);
        await expect(f.election.elect()).to.emit(f.election, "AuthoritiesElected");
        const counts = new Map<string, number[]>();
        for (const c of cands) counts.set(c, (await f.election.misbehaviour(c)).counts.map(Number));
        const nominations = new Map<string, number>();
        for (const c of cands) nominations.set(c, Number(await f.election.nominations(1, c)));
        const ts = runRound({
          params: P,
          nominations,
          counts: (n) => counts.get(n)!,
          ballots: (c) => ballots.map((b) => b.map((i) => c.indexOf(cands[i]))),
          seeds: { nomination: round.nominationSeed, election: round.electionSeed },
        });
        expect(ts.candidates.map((c) => c.id)).to.deep.equal([...cands]);
        expect(await f.election.authorities()).to.deep.equal(ts.authorities.map((a) => a.id));
        expect((await f.election.tally(1)).map(Number)).to.deep.equal(
          cands.map((c) => ts.scores[ts.candidates.findIndex((x) => x.id === c)]),
        );
        expect(await f.election.sittingRound()).to.equal(1n);
        for (const a of ts.authorities) expect(await f.election.isAuthority(a.id)).to.equal(true);
        expect(await f.election.isAuthority(f.au1.address)).to.equal(false); // genesis authorities step down
      }
    });

    it("demotes a malicious candidate by its ratio frozen when voting opened (reported by a quorum of sitting authorities)", async () => {
      // Two genesis authorities attest 3 "other malicious behaviour" and 5 block-detection failures
      // of member 0 (two nominations) before the nominations (so they count at once, s20-redm F1).
      const f = await voting(async (g) => {
        for (let i = 0; i < 8; i++) {
          const type = i < 3 ? 3 : 0;
          await g.election.connect(g.au1).report(g.members[0].address, type, ethers.id(`r${i}`));
          await g.election.connect(g.au2).report(g.members[0].address, type, ethers.id(`r${i}`));
        }
      });
      const evil = f.members[0].address;
      const { counts, ratio } = await f.election.misbehaviour(evil);
      expect(counts.map(Number)).to.deep.equal([5, 0, 0, 3]);
      expect(ratio).to.equal(misbehaviourRatio([5, 0, 0, 3], P));
      const r = await f.election.round(1);
      const cands = r.candidates;
      // 2 x 0.3 = 0.6 votes: the last of the six candidates, its ratio frozen
      expect(cands[5]).to.equal(evil);
      expect(r.candidateRatios[5]).to.equal(ratio);
      // Every voter ranks it first.
      for (const v of f.members) await f.election.connect(v).vote(await f.election.currentRound(), [5, 0, 1, 2, 3, 4]);
      await time.increase(P.votingPeriod);
      await f.election.elect();
      // 50 Borda points * 0.3 = 15 < candidate 2's 20 (ranked 4th by all): evil is out of the top 3.
      expect(await f.election.authorities()).to.deep.equal(cands.slice(0, 3));
    });

    it("breaks Borda ties by the frozen ratio, then by keccak(electionSeed, address)", async () => {
      const f = await voting();
      const r = await f.election.round(1);
      const cands = r.candidates;
      // Two voters with reversed orders: every candidate scores 5.
      await f.election.connect(f.members[0]).vote(await f.election.currentRound(), [0, 1, 2, 3, 4, 5]);
      await f.election.connect(f.members[1]).vote(await f.election.currentRound(), [5, 4, 3, 2, 1, 0]);
      await f.election.connect(f.detector).report(cands[2], 2, EV); // during the vote: deferred to the round's end
      await time.increase(P.votingPeriod);
      await f.election.elect();
      // the seed as the ballots left it (openRound's commitment XOR each ballot's hash, s23-rtm F1)
      const seed = (await f.election.round(1)).electionSeed;
      expect(seed).to.not.equal(r.electionSeed);
      expect(await f.election.authorities()).to.deep.equal(byKey(seed, cands).slice(0, 3));
    });

    it("a candidate framed to R = 1 during the vote is elected and then does not sit (s20-redm F1); a candidate removed since is not elected", async () => {
      const f = await voting();
      const r = await f.election.round(1);
      const cands = [...r.candidates];
      for (const v of f.members) await f.election.connect(v).vote(await f.election.currentRound(), [0, 1, 2, 3, 4, 5]);
      const bad = cands[0];
      for (let i = 0; i < 5; i++) await f.election.connect(f.detector).report(bad, 0, ethers.id(`d${i}`));
      for (let i = 0; i < 3; i++) await f.election.connect(f.detector).report(bad, 3, ethers.id(`o${i}`));
      for (let i = 0; i < 10; i++) await f.election.connect(f.detector).report(bad, 1, ethers.id(`c${i}`));
      // the reports wait for the round's end: they exclude nobody from it
      expect((await f.election.misbehaviour(bad)).ratio).to.equal(0n);
      await f.election.remove(cands[1]);
      await time.increase(P.votingPeriod);
      await f.election.elect();
      expect(await f.election.authorities()).to.deep.equal([cands[0], ...cands.slice(2, 4)]);
      // ... and count from its end on: the framed authority does not sit until the arbiter dismisses them
      expect((await f.election.misbehaviour(bad)).ratio).to.equal(WAD);
      expect(await f.election.isAuthority(bad)).to.equal(false);
      expect(await f.election.isAuthority(cands[2])).to.equal(true);
    });

    it("cannot elect before the end of voting; a second round can open after", async () => {
      const f = await voting();
      await expect(f.election.elect()).to.be.revertedWithCustomError(f.election, "AuthorityElection__TooEarly");
      await time.increase(P.votingPeriod);
      await f.election.elect();
      await expect(f.election.elect()).to.be.revertedWithCustomError(f.election, "AuthorityElection__WrongStage");
      await expect(f.election.openRound()).to.emit(f.election, "RoundOpened").withArgs(2n, anyUint, anyUint);
    });
  });

  describe("# report", () => {
    it("counts a report once a quorum of sitting authorities attests it; caps at A_f", async () => {
      const f = await loadFixture(deployMssaFixture);
      const node = f.members[4].address;
      await expect(f.election.connect(f.au1).report(node, 3, EV)).to.emit(f.election, "MisbehaviourAttested");
      expect((await f.election.misbehaviour(node)).counts[3]).to.equal(0n);
      await expect(f.election.connect(f.au2).report(node, 3, EV)).to.emit(f.election, "MisbehaviourRecorded");
      expect((await f.election.misbehaviour(node)).counts[3]).to.equal(1n);
      for (let i = 0; i < 5; i++) await f.election.connect(f.detector).report(node, 3, ethers.id(`cap${i}`));
      expect((await f.election.misbehaviour(node)).counts[3]).to.equal(3n); // A_4 = 3
    });

    it("rejects reports from non-authorities, self-reports, repeats and bad types; nothing changes", async () => {
      const f = await loadFixture(deployMssaFixture);
      const node = f.members[4].address;
      await f.election.connect(f.au1).report(node, 1, EV);
      await f.election.connect(f.au2).report(node, 1, EV);
      const before = await f.election.misbehaviour(node);
      await expect(f.election.connect(f.members[0]).report(node, 1, ethers.id("x"))).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__NotAuthority",
      );
      await expect(f.election.connect(f.au1).report(f.au1.address, 1, ethers.id("x"))).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__SelfReport",
      );
      await expect(f.election.connect(f.au3).report(node, 1, EV)).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__ReportApplied",
      );
      // (node, type, evidence) is the report: the same evidence for another type is another report
      // (h7-audit finding M1: it cannot block this one), attested on its own
      await expect(f.election.connect(f.au1).report(node, 2, EV))
        .to.emit(f.election, "MisbehaviourAttested")
        .withArgs(await f.election.reportIdOf(node, 2, EV), node, 2, f.au1.address, 1);
      expect(await f.election.reportIdOf(node, 2, EV)).to.not.equal(await f.election.reportIdOf(node, 1, EV));
      const EV2 = ethers.id("evidence-2");
      await f.election.connect(f.au1).report(node, 2, EV2);
      await expect(f.election.connect(f.au1).report(node, 2, EV2)).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__AlreadyAttested",
      );
      await expect(f.election.connect(f.au1).report(node, 4, EV)).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__InvalidBehaviour",
      );
      await expect(f.election.connect(f.au1).report(f.users[15].address, 1, EV)).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__NotMember",
      );
      const after = await f.election.misbehaviour(node);
      expect(after.counts).to.deep.equal(before.counts);
      expect(after.ratio).to.equal(before.ratio);
    });
  });
});
