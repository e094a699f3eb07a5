import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { impersonateAccount, loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { byVoter, deployDisputeFixture, salt } from "../fixtures/disputes";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import * as F from "../../offchain/trust/fixed";
import { DEFAULT_MODEL, DEFAULT_THRESHOLDS } from "../../offchain/trust/fixed";
import { commitmentOf, tallyOutcome, TallyVote } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";

const Z = ethers.ZeroHash;

async function opened() {
  const f = await deployDisputeFixture();
  await f.disputes.openDispute(id("claimant"), id("respondent"), 1, 3, id("evidence"), "bafkrei-evidence", { value: P.deposit });
  return { ...f, dId: 1n, jury: byVoter(f.disputes, f.signerOf) };
}

async function toReveal() {
  await time.increase(Number(P.commitPeriod) + 1);
}
async function toResolve() {
  await time.increase(Number(P.revealPeriod) + 1);
}

const DEPOSIT = 10n ** 18n;

/**
 * A second DisputeResolution that takes a 1 ETH deposit, with the feedback role, and three more
 * entities: "payee" controlled by another account, and "contract", controlled by a contract
 * account (the CPSVerifier, which has no receive function) that registered it while impersonated.
 * The feedback role is bound once, to the system's court, so this court gets a TrustManager of
 * its own holding the fixture's entities (same ids, same controllers).
 */
async function withDeposit() {
  const base = await deployDisputeFixture();
  const trust = await (
    await ethers.getContractFactory("TrustManager")
  ).deploy(base.msrp.address, DEFAULT_MODEL, DEFAULT_THRESHOLDS.trustMin, DEFAULT_THRESHOLDS.trustMax);
  const factory = await ethers.getContractFactory("DisputeResolution");
  const dr = await factory.deploy(await trust.getAddress(), { ...P, deposit: DEPOSIT });
  await trust.grantRole(await trust.FEEDBACK_ROLE(), await dr.getAddress());
  for (const [e, s] of base.signerOf) await trust.connect(s).register(e, Kind.Avatar);
  const f = { ...base, trust };
  const payee = f.others[5];
  await f.trust.connect(payee).register(id("payee"), Kind.Avatar);
  const noReceive = f.deployment.contracts.CPSVerifier.address;
  await impersonateAccount(noReceive);
  await setBalance(noReceive, DEPOSIT);
  await f.trust.connect(await ethers.getSigner(noReceive)).register(id("contract"), Kind.Avatar);
  await mine(Number(P.minAge) + 1);
  return { ...f, dr, payee, noReceive, jury: byVoter(dr, f.signerOf) };
}

/** Commits and reveals `choices[i]` for voter i, then moves past the reveal deadline. */
async function voteAll(jury: ReturnType<typeof byVoter>, dId: bigint, voters: string[], choices: number[]) {
  for (const [i, c] of choices.entries()) await jury.commit(dId, voters[i], commitmentOf(dId, voters[i], c, salt(`${dId}-${i}`)));
  await toReveal();
  for (const [i, c] of choices.entries()) await jury.reveal(dId, voters[i], c, salt(`${dId}-${i}`));
  await toResolve();
}

describe("DisputeResolution", () => {
  describe("# openDispute", () => {
    it("opens with a reputation snapshot and deadlines, emits DisputeOpened", async () => {
      const { disputes } = await loadFixture(deployDisputeFixture);
      await expect(disputes.openDispute(id("claimant"), id("respondent"), 1, 2, Z, "cid", { value: P.deposit })).to.emit(
        disputes,
        "DisputeOpened",
      );
      const d = await disputes.dispute(1);
      expect(d.snapshot).to.equal(BigInt((await ethers.provider.getBlockNumber()) - 1));
      expect(await disputes.phase(1)).to.equal(1n); // Commit
    });

    it("rejects bad disputes and a caller who does not control the claimant; nothing changes", async () => {
      const { disputes, others } = await loadFixture(deployDisputeFixture);
      await expect(disputes.openDispute(id("claimant"), id("claimant"), 1, 2, Z, "")).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__InvalidDispute",
      );
      await expect(disputes.openDispute(id("claimant"), id("respondent"), 1, 1, Z, "")).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__InvalidDispute",
      );
      await expect(disputes.openDispute(id("claimant"), id("respondent"), 1, 9, Z, "")).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__InvalidDispute",
      );
      await expect(disputes.openDispute(id("claimant"), id("nobody"), 1, 2, Z, "")).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__InvalidDispute",
      );
      await expect(disputes.openDispute(id("claimant"), id("respondent"), 1, 2, Z, "", { value: 1 })).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__WrongDeposit",
      );
      await expect(disputes.connect(others[0]).openDispute(id("claimant"), id("respondent"), 1, 2, Z, "")).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__NotController",
      );
      expect(await disputes.disputeCount()).to.equal(0n);
    });
  });

  describe("# commit", () => {
    it("records the vote weighted by the snapshot reputation", async () => {
      const { disputes, jury, voters, dId } = await loadFixture(opened);
      await expect(jury.commit(dId, voters[0], commitmentOf(dId, voters[0], 0, salt("a"))))
        .to.emit(disputes, "VoteCommitted")
        .withArgs(dId, voters[0], 5n * 10n ** 17n);
    });

    it("rejects double voting, parties and their controllers' entities, ineligible, young or unknown voters, an empty commitment, late commits and outsiders; nothing changes", async () => {
      const { disputes, jury, trust, voters, dId, others } = await loadFixture(opened);
      const c0 = commitmentOf(dId, voters[0], 0, salt("a"));
      await jury.commit(dId, voters[0], c0);
      await expect(jury.commit(dId, voters[0], commitmentOf(dId, voters[0], 1, salt("b"))))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__AlreadyVoted")
        .withArgs(dId, voters[0]);
      await expect(jury.commit(dId, id("claimant"), commitmentOf(dId, id("claimant"), 0, salt("c")))).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__PartyCannotVote",
      );
      await expect(jury.commit(dId, id("respondent"), commitmentOf(dId, id("respondent"), 1, salt("c")))).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__PartyCannotVote",
      );
      await expect(jury.commit(dId, id("lowrep"), commitmentOf(dId, id("lowrep"), 0, salt("d"))))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__NotEligible")
        .withArgs(dId, id("lowrep"), 10n ** 17n);
      await expect(jury.commit(dId, voters[1], Z))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__EmptyCommitment")
        .withArgs(dId, voters[1]);
      // another entity of the claimant's controller (the operator's) is a party too
      await trust.register(id("claimant-alt"), Kind.Avatar);
      await expect(disputes.commit(dId, id("claimant-alt"), commitmentOf(dId, id("claimant-alt"), 1, salt("h"))))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__PartyCannotVote")
        .withArgs(dId, id("claimant-alt"));
      await expect(
        disputes.connect(others[0]).commit(dId, voters[1], commitmentOf(dId, voters[1], 0, salt("e"))),
      ).to.be.revertedWithCustomError(disputes, "DisputeResolution__NotController");
      // reputation gained after the dispute opened does not count
      await trust.connect(others[17]).register(id("newcomer"), Kind.Avatar);
      await expect(disputes.connect(others[17]).commit(dId, id("newcomer"), commitmentOf(dId, id("newcomer"), 0, salt("f"))))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__NotEligible")
        .withArgs(dId, id("newcomer"), 0);
      await toReveal();
      await expect(jury.commit(dId, voters[2], commitmentOf(dId, voters[2], 0, salt("g")))).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__NotInCommitPhase",
      );
      expect((await disputes.dispute(dId)).committed).to.equal(1n);
      expect(await disputes.voters(dId)).to.deep.equal([voters[0]]);
    });
  });

  describe("# reveal", () => {
    it("adds the weight to the running tally", async () => {
      const { disputes, jury, voters, dId } = await loadFixture(opened);
      await jury.commit(dId, voters[0], commitmentOf(dId, voters[0], 2, salt("a")));
      await toReveal();
      await expect(jury.reveal(dId, voters[0], 2, salt("a")))
        .to.emit(disputes, "VoteRevealed")
        .withArgs(dId, voters[0], 2, 5n * 10n ** 17n);
      expect((await disputes.tally(dId))[2]).to.equal(5n * 10n ** 17n);
    });

    it("rejects a reveal without a commit, a mismatching reveal, a copied commitment, a double reveal, an early or late reveal; the tally is unchanged", async () => {
      const { disputes, jury, voters, dId } = await loadFixture(opened);
      await jury.commit(dId, voters[0], commitmentOf(dId, voters[0], 1, salt("a")));
      await expect(jury.reveal(dId, voters[0], 1, salt("a"))).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__NotInRevealPhase",
      );
      await toReveal();
      await expect(jury.reveal(dId, voters[1], 1, salt("a"))).to.be.revertedWithCustomError(disputes, "DisputeResolution__NoCommitment");
      await expect(jury.reveal(dId, voters[0], 0, salt("a"))).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__CommitmentMismatch",
      );
      await expect(jury.reveal(dId, voters[0], 1, salt("b"))).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__CommitmentMismatch",
      );
      await jury.reveal(dId, voters[0], 1, salt("a"));
      await expect(jury.reveal(dId, voters[0], 1, salt("a"))).to.be.revertedWithCustomError(disputes, "DisputeResolution__AlreadyRevealed");
      await toResolve();
      await expect(jury.reveal(dId, voters[0], 1, salt("a"))).to.be.revertedWithCustomError(
        disputes,
        "DisputeResolution__NotInRevealPhase",
      );
      expect(await disputes.tally(dId)).to.deep.equal([0n, 5n * 10n ** 17n, 0n, 0n, 0n, 0n, 0n, 0n]);
    });

    it("a committed choice outside the dispute's options cannot be revealed; the tally is unchanged", async () => {
      const { disputes, jury, voters, dId } = await loadFixture(opened);
      await jury.commit(dId, voters[0], commitmentOf(dId, voters[0], 3, salt("a"))); // options 0..2
      await toReveal();
      await expect(jury.reveal(dId, voters[0], 3, salt("a")))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__InvalidChoice")
        .withArgs(dId, 3);
      expect((await disputes.voteOf(dId, voters[0])).revealed).to.equal(false);
      expect((await disputes.dispute(dId)).revealed).to.equal(0n);
      expect(await disputes.tally(dId)).to.deep.equal(Array(8).fill(0n));
    });

    it("a commitment copied from another voter can never be revealed by the copier", async () => {
      // Copying is accepted at commit (so a copier cannot censor the original voter) but a
      // copier, even one who learns choice and salt after the original reveal, cannot open it:
      // the commitment binds the original voter.
      const { disputes, jury, voters, dId } = await loadFixture(opened);
      const c0 = commitmentOf(dId, voters[0], 1, salt("a"));
      await jury.commit(dId, voters[1], c0);
      await jury.commit(dId, voters[0], c0);
      await toReveal();
      await jury.reveal(dId, voters[0], 1, salt("a"));
      await expect(jury.reveal(dId, voters[1], 1, salt("a")))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__CommitmentMismatch")
        .withArgs(dId, voters[1]);
      expect(commitmentOf(1n, voters[0], 1, salt("a"))).to.not.equal(commitmentOf(1n, voters[1], 1, salt("a")));
      // the contract's commitmentFor is the TypeScript commitmentOf
      for (const [dId, v, c] of [
        [1n, voters[0], 1],
        [2n, voters[1], 7],
      ] as const)
        expect(await disputes.commitmentFor(dId, v, c, salt("a"))).to.equal(commitmentOf(dId, v, c, salt("a")));
    });
  });

  describe("# resolve and settle", () => {
    it("a tie between 'upheld' and another option does not uphold the claim; voters are settled in batches", async () => {
      const { disputes, jury, trust, court, voters, dId } = await loadFixture(opened);
      await court.adjustReputation(voters[0], 4n * 10n ** 17n); // v0: 0.9 (after the snapshot: does not count)
      const choices = [1, 0, 0, 1, 2, 0];
      for (const [i, v] of voters.entries()) await jury.commit(dId, v, commitmentOf(dId, v, choices[i], salt(`s${i}`)));
      await toReveal();
      for (const [i, v] of voters.entries()) if (i !== 5) await jury.reveal(dId, v, choices[i], salt(`s${i}`));
      await expect(disputes.resolve(dId)).to.be.revertedWithCustomError(disputes, "DisputeResolution__TooEarly");
      await toResolve();
      const repBefore = (await trust.entity(id("respondent"))).reputation;
      const tx = disputes.resolve(dId);
      await expect(tx).to.emit(disputes, "DisputeResolved");
      // option 1: v0 + v3 = 1.0; option 0: v1 + v2 = 1.0 (v5 did not reveal) -> a tie: not upheld
      const d = await disputes.dispute(dId);
      expect(d.tieBroken).to.equal(true);
      const expected = tallyOutcome(
        dId,
        3,
        voters.map((v, i) => ({ voter: v, weight: 5n * 10n ** 17n, choice: choices[i], revealed: i !== 5, salt: salt(`s${i}`) })),
        P.quorum,
      );
      expect(expected.outcome).to.equal(1);
      expect(d.outcome).to.equal(1n);
      expect((await trust.entity(id("respondent"))).reputation).to.equal(repBefore);
      await expect(tx).to.not.emit(disputes, "TraceRequested");
      await expect(disputes.resolve(dId)).to.be.revertedWithCustomError(disputes, "DisputeResolution__AlreadyResolved");
      expect(await disputes.settle.staticCall(dId, 4)).to.equal(4n);
      await disputes.settle(dId, 4);
      await disputes.settle(dId, 4);
      expect((await disputes.dispute(dId)).settled).to.equal(6n);
      const rep5 = (await trust.entity(voters[5])).reputation;
      expect(rep5).to.equal(5n * 10n ** 17n - P.voterPenalty); // did not reveal
    });

    it("below the quorum of revealed weight (here 0.5 of 1.0): the dispute is void, no party is penalized", async () => {
      const { disputes, jury, trust, voters, dId } = await loadFixture(opened);
      await jury.commit(dId, voters[0], commitmentOf(dId, voters[0], 0, salt("a")));
      await toReveal();
      await jury.reveal(dId, voters[0], 0, salt("a"));
      await toResolve();
      await expect(disputes.resolve(dId))
        .to.emit(disputes, "DisputeResolved")
        .withArgs(dId, 0, 0, 5n * 10n ** 17n, false, true);
      expect((await trust.entity(id("respondent"))).reputation).to.equal(5n * 10n ** 17n);
      await expect(disputes.settle(2, 1)).to.be.revertedWithCustomError(disputes, "DisputeResolution__UnknownDispute");
    });

    it("a tie between later options goes to the lowest of them; the claim is rejected and the claimant loses reputation", async () => {
      const { disputes, jury, trust, voters, dId } = await loadFixture(opened);
      const choices = [0, 1, 1, 2, 2]; // option 0: 0.5; options 1 and 2: 1.0 each
      for (const [i, c] of choices.entries()) await jury.commit(dId, voters[i], commitmentOf(dId, voters[i], c, salt(`t${i}`)));
      await toReveal();
      for (const [i, c] of choices.entries()) await jury.reveal(dId, voters[i], c, salt(`t${i}`));
      await toResolve();
      const half = 5n * 10n ** 17n;
      const expected = tallyOutcome(
        dId,
        3,
        choices.map((c, i) => ({ voter: voters[i], weight: half, choice: c, revealed: true, salt: salt(`t${i}`) })),
        P.quorum,
      );
      expect(expected.tieBroken).to.equal(true);
      expect(expected.outcome).to.equal(1);
      const claimantBefore = (await trust.entity(id("claimant"))).reputation;
      const respondentBefore = (await trust.entity(id("respondent"))).reputation;
      const tx = disputes.resolve(dId);
      await expect(tx)
        .to.emit(disputes, "DisputeResolved")
        .withArgs(dId, expected.outcome, 2n * half, 5n * half, true, false);
      await expect(tx).to.not.emit(disputes, "TraceRequested");
      expect((await disputes.dispute(dId)).outcome).to.equal(BigInt(expected.outcome));
      expect((await trust.entity(id("claimant"))).reputation).to.equal(claimantBefore - P.loserPenalty);
      expect((await trust.entity(id("respondent"))).reputation).to.equal(respondentBefore);
    });

    it("settle before resolve is refused", async () => {
      const { disputes, dId } = await loadFixture(opened);
      await expect(disputes.settle(dId, 10)).to.be.revertedWithCustomError(disputes, "DisputeResolution__NotResolved");
    });
  });

  describe("# phase", () => {
    it("None for an unknown dispute, then Commit, Reveal, Resolvable and Resolved by the deadlines", async () => {
      const { disputes, dId } = await loadFixture(opened);
      expect(await disputes.phase(dId + 1n)).to.equal(0n);
      expect(await disputes.phase(dId)).to.equal(1n);
      await toReveal();
      expect(await disputes.phase(dId)).to.equal(2n);
      await toResolve();
      expect(await disputes.phase(dId)).to.equal(3n);
      await disputes.resolve(dId);
      expect(await disputes.phase(dId)).to.equal(4n);
    });
  });

  describe("# deposits", () => {
    it("an upheld claim returns the deposit to the claimant; a void dispute too", async () => {
      const { dr, jury, voters, msrp } = await loadFixture(withDeposit);
      await expect(dr.openDispute(id("claimant"), id("payee"), 1, 2, Z, "", { value: DEPOSIT })).to.changeEtherBalances(
        [msrp, dr],
        [-DEPOSIT, DEPOSIT],
      );
      await voteAll(jury, 1n, voters, [0, 0, 1]);
      await expect(dr.resolve(1)).to.changeEtherBalances([msrp, dr], [DEPOSIT, -DEPOSIT]);
      expect((await dr.dispute(1)).outcome).to.equal(0n);
      await dr.openDispute(id("claimant"), id("payee"), 1, 2, Z, "", { value: DEPOSIT });
      await toReveal();
      await toResolve();
      const tx = dr.resolve(2);
      await expect(tx).to.emit(dr, "DisputeResolved").withArgs(2, 0, 0, 0, false, true);
      await expect(tx).to.changeEtherBalances([msrp, dr], [DEPOSIT, -DEPOSIT]);
    });

    it("a rejected claim pays the deposit to the respondent's controller", async () => {
      const { dr, jury, trust, voters, msrp, payee } = await loadFixture(withDeposit);
      await dr.openDispute(id("claimant"), id("payee"), 1, 2, Z, "", { value: DEPOSIT });
      await voteAll(jury, 1n, voters, [1, 1, 0]);
      const claimantBefore = (await trust.entity(id("claimant"))).reputation;
      await expect(dr.resolve(1)).to.changeEtherBalances([payee, msrp, dr], [DEPOSIT, 0, -DEPOSIT]);
      expect((await trust.entity(id("claimant"))).reputation).to.equal(claimantBefore - P.loserPenalty);
    });

    it("a payee that refuses ether makes resolve revert with TransferFailed; nothing changes", async () => {
      // Push payment: the respondent's controller here is a contract without a receive function.
      const { dr, jury, trust, voters, noReceive } = await loadFixture(withDeposit);
      await dr.openDispute(id("claimant"), id("contract"), 1, 2, Z, "", { value: DEPOSIT });
      await voteAll(jury, 1n, voters, [1, 1, 0]);
      const claimantBefore = (await trust.entity(id("claimant"))).reputation;
      const balance = await ethers.provider.getBalance(noReceive);
      await expect(dr.resolve(1)).to.be.revertedWithCustomError(dr, "DisputeResolution__TransferFailed");
      const d = await dr.dispute(1);
      expect([d.resolved, d.outcome, d.deposit]).to.deep.equal([false, 0n, DEPOSIT]);
      expect(await dr.phase(1)).to.equal(3n); // still Resolvable
      expect(await ethers.provider.getBalance(await dr.getAddress())).to.equal(DEPOSIT);
      expect(await ethers.provider.getBalance(noReceive)).to.equal(balance);
      expect((await trust.entity(id("claimant"))).reputation).to.equal(claimantBefore);
    });
  });

  describe("# constructor", () => {
    it("refuses zero periods and amounts above 1; every bound is inclusive", async () => {
      const { trust } = await loadFixture(deployTrustFixture);
      const factory = await ethers.getContractFactory("DisputeResolution");
      const at = await trust.getAddress();
      for (const bad of [
        { commitPeriod: 0n },
        { revealPeriod: 0n },
        { minAge: 0n },
        { minReputation: F.WAD + 1n },
        { voterReward: F.WAD + 1n },
        { voterPenalty: F.WAD + 1n },
        { loserPenalty: F.WAD + 1n },
      ])
        await expect(
          factory.deploy(at, { ...P, ...bad }),
          JSON.stringify(bad, (_k, v) => String(v)),
        ).to.be.revertedWithCustomError(factory, "DisputeResolution__InvalidDispute");
      const max = {
        ...P,
        commitPeriod: 1n,
        revealPeriod: 1n,
        minReputation: F.WAD,
        voterReward: F.WAD,
        voterPenalty: F.WAD,
        loserPenalty: F.WAD,
      };
      const dr = await factory.deploy(at, max);
      expect(await dr.params()).to.deep.equal([F.WAD, P.minAge, P.quorum, 1n, 1n, P.deposit, F.WAD, F.WAD, F.WAD]);
    });
  });

  describe("# differential: the TypeScript tally equals the contract on random electorates", () => {
    it("outcome, weights, quorum and tie rule", async function () {
      this.timeout(180_000);
      const base = await loadFixture(deployDisputeFixture);
      const { trust, others, signerOf } = base;
      const pool: string[] = [];
      for (let i = 0; i < 12; i++) {
        const controller = others[6 + (i % 4)];
        await trust.connect(controller).register(id(`e${i}`), Kind.Avatar);
        signerOf.set(id(`e${i}`), controller);
        pool.push(id(`e${i}`));
      }
      await mine(Number(P.minAge) + 1);
      const jury = byVoter(base.disputes, signerOf);
      let disputeId = 0n;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 2, max: 4 }),
          fc.array(fc.record({ choice: fc.nat({ max: 3 }), revealed: fc.boolean(), bump: fc.nat({ max: 4 }) }), {
            minLength: 1,
            maxLength: 12,
          }),
          async (options, ballots) => {
            for (const [i, b] of ballots.entries()) if (b.bump) await base.court.adjustReputation(pool[i], BigInt(b.bump) * 10n ** 16n);
            await base.disputes.openDispute(id("claimant"), id("respondent"), 0, options, Z, "", { value: P.deposit });
            disputeId++;
            const snapshot = (await base.disputes.dispute(disputeId)).snapshot;
            const votes: TallyVote[] = [];
            for (const [i, b] of ballots.entries()) {
              const choice = b.choice % options;
              const s = salt(`${disputeId}-${i}`);
              await jury.commit(disputeId, pool[i], commitmentOf(disputeId, pool[i], choice, s));
              votes.push({ voter: pool[i], weight: await trust.reputationAt(pool[i], snapshot), choice, revealed: b.revealed, salt: s });
            }
            await time.increase(Number(P.commitPeriod) + 1);
            for (const v of votes) if (v.revealed) await jury.reveal(disputeId, v.voter, v.choice, v.salt);
            await time.increase(Number(P.revealPeriod) + 1);
            await base.disputes.resolve(disputeId);
            const d = await base.disputes.dispute(disputeId);
            const ts = tallyOutcome(disputeId, options, votes, P.quorum);
            expect(d.void_).to.equal(ts.void);
            if (!ts.void) {
              expect(d.outcome).to.equal(BigInt(ts.outcome));
              expect(d.tieBroken).to.equal(ts.tieBroken);
            }
            expect((await base.disputes.tally(disputeId)).slice(0, options)).to.deep.equal(ts.sums);
          },
        ),
        { numRuns: 15 },
      );
    });
  });
});
