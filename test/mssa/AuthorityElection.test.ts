import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { anyUint } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { deployMssaFixture, nominateAll, P } from "../fixtures/mssa";
import { misbehaviourRatio, runRound, WAD } from "../../offchain/mssa/election";
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

/** A round in the voting stage: members 0..5 nominated by members 0..9 (0..5 once each, 6..9 for 0..3). */
async function voting() {
  const f = await loadFixture(deployMssaFixture);
  const m = f.members;
  const noms: [(typeof m)[number], string][] = m.slice(0, 6).map((s, i) => [s, m[i].address]);
  for (let i = 6; i < 10; i++) noms.push([m[i], m[i - 6].address]);
  await nominateAll(f, noms);
  return f;
}

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
      // Order: effective votes, then the lower address on ties.
      const byAddr = (xs: string[]) => [...xs].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      const addr = f.members.map((s) => s.address);
      expect(r.candidates).to.deep.equal([...byAddr(addr.slice(0, 4)), ...byAddr(addr.slice(4, 6))]);
    });

    it("rejects double nominations, non-members, late and early calls; nothing changes", async () => {
      const f = await loadFixture(deployMssaFixture);
      const [a, b] = f.members;
      const outsider = f.users[15];
      await f.election.openRound();
      await f.election.connect(a).nominate(b.address);
      const n = await f.election.nominations(1, b.address);
      await expect(f.election.connect(a).nominate(a.address)).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__AlreadyNominated",
      );
      await expect(f.election.connect(outsider).nominate(a.address)).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__NotMember",
      );
      await expect(f.election.connect(b).nominate(outsider.address)).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__NotMember",
      );
      await expect(f.election.closeNomination()).to.be.revertedWithCustomError(f.election, "AuthorityElection__TooEarly");
      await expect(f.election.openRound()).to.be.revertedWithCustomError(f.election, "AuthorityElection__WrongStage");
      expect(await f.election.nominations(1, b.address)).to.equal(n);
      expect(await f.election.hasNominated(1, b.address)).to.equal(false);
      await time.increase(P.nominationPeriod);
      await expect(f.election.connect(b).nominate(a.address)).to.be.revertedWithCustomError(f.election, "AuthorityElection__TooLate");
      // one nominee cannot fill m = 3 seats
      await expect(f.election.closeNomination()).to.be.revertedWithCustomError(f.election, "AuthorityElection__TooFewNominees");
    });

    it("refuses to nominate a node whose ratio reached 1", async () => {
      const f = await loadFixture(deployMssaFixture);
      const bad = f.members[0].address;
      for (let i = 0; i < 5; i++) await f.election.report(bad, 0, ethers.id(`d${i}`));
      for (let i = 0; i < 3; i++) await f.election.report(bad, 3, ethers.id(`o${i}`));
      for (let i = 0; i < 10; i++) await f.election.report(bad, 1, ethers.id(`c${i}`));
      expect((await f.election.misbehaviour(bad)).ratio).to.equal(WAD);
      await f.election.openRound();
      await expect(f.election.connect(f.members[1]).nominate(bad)).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__Ineligible",
      );
    });
  });

  describe("# vote", () => {
    it("adds the ballot's Borda points to the packed tally", async () => {
      const f = await voting();
      await f.election.connect(f.members[0]).vote([5, 4, 3, 2, 1, 0]);
      await f.election.connect(f.members[1]).vote([0, 1, 2, 3, 4, 5]);
      expect(await f.election.tally(1)).to.deep.equal([5n, 5n, 5n, 5n, 5n, 5n]);
      expect((await f.election.round(1)).ballots).to.equal(2n);
    });

    it("rejects double ballots, ballots from non-members and malformed rankings; nothing changes", async () => {
      const f = await voting();
      const [a] = f.members;
      await f.election.connect(a).vote([0, 1, 2, 3, 4, 5]);
      const before = await snapshot(f);
      await expect(f.election.connect(a).vote([5, 4, 3, 2, 1, 0])).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__AlreadyVoted",
      );
      await expect(f.election.connect(f.users[15]).vote([0, 1, 2, 3, 4, 5])).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__NotMember",
      );
      for (const bad of [
        [0, 0, 1, 2, 3, 4],
        [0, 1, 2, 3, 4],
        [0, 1, 2, 3, 4, 6],
        [0, 1, 2, 3, 4, 5, 6],
      ])
        await expect(f.election.connect(f.members[1]).vote(bad)).to.be.revertedWithCustomError(f.election, "BordaCount__InvalidRanking");
      expect(await snapshot(f)).to.deep.equal(before);
      await time.increase(P.votingPeriod);
      await expect(f.election.connect(f.members[1]).vote([0, 1, 2, 3, 4, 5])).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__TooLate",
      );
    });
  });

  describe("# elect", () => {
    it("matches the TypeScript tally on random ballots (differential)", async () => {
      for (const seed of [1, 2, 3]) {
        const f = await voting();
        const rng = new Prng(seed);
        // some misbehaviour reported by the detector role
        for (let i = 0; i < 6; i++)
          await f.election.report(f.members[rng.nextU32() % 6].address, rng.nextU32() % 4, ethers.id(`s${seed}-${i}`));
        const cands = (await f.election.round(1)).candidates;
        const ballots: number[][] = [];
        for (const v of f.members) {
          const order = [0, 1, 2, 3, 4, 5];
          for (let i = 5; i > 0; i--) {
            const j = rng.nextU32() % (i + 1);
            [order[i], order[j]] = [order[j], order[i]];
          }
          ballots.push(order);
          await f.election.connect(v).vote(order);
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
        });
        expect(await f.election.authorities()).to.deep.equal(ts.authorities.map((a) => a.id));
        expect((await f.election.tally(1)).map(Number)).to.deep.equal(
          cands.map((c) => ts.scores[ts.candidates.findIndex((x) => x.id === c)]),
        );
        expect(await f.election.sittingRound()).to.equal(1n);
        for (const a of ts.authorities) expect(await f.election.isAuthority(a.id)).to.equal(true);
        expect(await f.election.isAuthority(f.au1.address)).to.equal(false); // genesis authorities step down
      }
    });

    it("demotes a malicious candidate by its ratio (reported by a quorum of sitting authorities)", async () => {
      const f = await voting();
      const cands = (await f.election.round(1)).candidates;
      const evil = { address: cands[0] };
      // Every voter ranks candidate 0 first.
      for (const v of f.members) await f.election.connect(v).vote([0, 1, 2, 3, 4, 5]);
      // Two genesis authorities attest 3 "other malicious behaviour" and 5 block-detection failures.
      for (let i = 0; i < 8; i++) {
        const type = i < 3 ? 3 : 0;
        await f.election.connect(f.au1).report(evil.address, type, ethers.id(`r${i}`));
        await f.election.connect(f.au2).report(evil.address, type, ethers.id(`r${i}`));
      }
      const { counts, ratio } = await f.election.misbehaviour(evil.address);
      expect(counts.map(Number)).to.deep.equal([5, 0, 0, 3]);
      expect(ratio).to.equal(misbehaviourRatio([5, 0, 0, 3], P));
      await time.increase(P.votingPeriod);
      await f.election.elect();
      // 50 Borda points * 0.3 = 15 < candidate 3's 20 (ranked 4th by all): evil is out of the top 3.
      expect(await f.election.authorities()).to.deep.equal(cands.slice(1, 4));
    });

    it("breaks Borda ties by the lower ratio, then the lower address", async () => {
      const f = await voting();
      const cands = (await f.election.round(1)).candidates;
      // Two voters with reversed orders: every candidate scores 5.
      await f.election.connect(f.members[0]).vote([0, 1, 2, 3, 4, 5]);
      await f.election.connect(f.members[1]).vote([5, 4, 3, 2, 1, 0]);
      await f.election.report(cands[2], 2, EV); // a small ratio for candidate 2 (0.02)
      await time.increase(P.votingPeriod);
      await f.election.elect();
      const expected = [...cands]
        .filter((c) => c !== cands[2])
        .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
        .slice(0, 3);
      expect(await f.election.authorities()).to.deep.equal(expected);
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
      for (let i = 0; i < 5; i++) await f.election.report(node, 3, ethers.id(`cap${i}`));
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
      await f.election.connect(f.au1).report(node, 2, EV);
      await expect(f.election.connect(f.au1).report(node, 2, EV)).to.be.revertedWithCustomError(
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
