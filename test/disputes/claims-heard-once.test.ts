/**
 * One claim, one hearing, and a claim that answers for itself (red team s23-rtt, R1-R5, fixed in
 * session 23 by s23-fxcourt; docs/specs/disputes.md "One hearing per evidence" and the sections
 * after it). Each test failed on the court before the fix (the red team's findings tests, here
 * with the new `openDispute(…, respondentGeneration)`), and fails again with its check removed.
 *
 * R1 one hearing per (respondent, evidence digest) across the natures: not twice at once, not
 *    again after a verdict (upheld or rejected); a void dispute frees it; a zero digest is refused.
 * R2 one contest per flag instance: not twice at once, not again after a verdict; void frees it; a
 *    re-asserted instance (a new serial) is contested anew.
 * R3 `openDispute` names the respondent's era: a dispute built against a squatter's entry and mined
 *    after the owner's reclaim is refused (`StaleEra`), nothing written.
 * R4 a claimant with identity standing whose reputation holds `loserPenalty` for each open claim.
 * R5 option 0 upholds only with a strict majority of the revealed weight; a flag contest has two
 *    options.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import { byVoter, deployDisputeFixture, nextEvidence, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";

const Z = ethers.ZeroHash;
const toReveal = () => time.increase(Number(P.commitPeriod) + 1);
const toResolve = () => time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);

async function court() {
  const f = await deployDisputeFixture();
  // the respondent of R1 with its own account (the fixture's parties share the operator's)
  const victimAccount = f.others[5];
  await f.trust.connect(victimAccount).register(id("rtt-victim"), Kind.Avatar);
  await f.trust.setIdentityVerified(id("rtt-victim"), true);
  return { ...f, victimAccount, jury: byVoter(f.disputes, f.signerOf) };
}

type Court = Awaited<ReturnType<typeof court>>;

/** Jurors v0..v3 (weight 0.5 each: quorum 1) vote `choices[k]` in dispute `ids[k]`, all in one commit and one reveal window. */
async function judge(f: Court, ids: bigint[], choices: number[]) {
  const jurors = f.voters.slice(0, 4);
  for (const [k, dId] of ids.entries())
    for (const v of jurors) await f.jury.commit(dId, v, commitmentOf(dId, v, choices[k], salt(`rtt-${dId}-${v}`)));
  await toReveal();
  for (const [k, dId] of ids.entries()) for (const v of jurors) await f.jury.reveal(dId, v, choices[k], salt(`rtt-${dId}-${v}`));
  await toResolve();
  for (const dId of ids) await f.disputes.resolve(dId);
}

/** Opens a dispute and returns its id, or null if the court refuses it. */
async function tryOpen(open: () => Promise<unknown>, count: () => Promise<bigint>): Promise<bigint | null> {
  const before = await count();
  try {
    await open();
  } catch {
    return null;
  }
  const after = await count();
  return after > before ? after : null;
}

describe("disputes: one claim, one hearing (s23-rtt R1-R5)", () => {
  describe("R1: one evidence digest, one hearing against its respondent: one act, one verdict", () => {
    it("two disputes over one evidence digest against one respondent: one act, one loserPenalty", async () => {
      const f = await loadFixture(court);
      const { disputes, trust } = f;
      const victim = id("rtt-victim");
      const before = (await trust.entity(victim)).reputation;
      const open = () => disputes.openDispute(id("claimant"), victim, 0, 2, id("rtt-one-act"), "bafkrei-one-act", 0, { value: P.deposit });
      const first = await tryOpen(open, () => disputes.disputeCount());
      expect(first === null, "the first dispute opens").to.equal(false);
      // the same claim again, same evidence and CID, while the first is open
      const second = await tryOpen(open, () => disputes.disputeCount());
      const ids = [first!, ...(second === null ? [] : [second])];
      await judge(
        f,
        ids,
        ids.map(() => 0),
      ); // honest jurors: the act happened, upheld each time
      expect(before - (await trust.entity(victim)).reputation, "one act is penalised once").to.equal(P.loserPenalty);
    });

    it("an acquittal does not hold: the same evidence rejected once is heard again and upheld", async () => {
      const f = await loadFixture(court);
      const { disputes, trust } = f;
      const victim = id("rtt-victim");
      const before = (await trust.entity(victim)).reputation;
      const open = () => disputes.openDispute(id("claimant"), victim, 0, 2, id("rtt-false"), "bafkrei-false", 0, { value: P.deposit });
      const first = (await tryOpen(open, () => disputes.disputeCount()))!;
      await judge(f, [first], [1]); // rejected: the accusation is false
      expect((await trust.entity(victim)).reputation).to.equal(before);
      const again = await tryOpen(open, () => disputes.disputeCount());
      if (again !== null) await judge(f, [again], [0]); // a second (lenient or colluding) jury
      expect((await trust.entity(victim)).reputation, "the rejected claim is not heard again").to.equal(before);
    });
  });

  describe("R2: one flag instance, one contest at a time", () => {
    it("a second contest of the flag instance an open contest judges is refused", async () => {
      const f = await loadFixture(court);
      const { disputes, trust, voters } = f;
      const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
      const flagged = voters[5];
      const holder = f.others[15];
      await trust.connect(detector).flag(flagged, 3, id("rtt detector report"), 0);
      const open = () => disputes.connect(holder).openDispute(flagged, Z, 3, 2, Z, "", 0, { value: P.deposit });
      const first = await tryOpen(open, () => disputes.disputeCount());
      expect(first === null, "the first contest opens").to.equal(false);
      const second = await tryOpen(open, () => disputes.disputeCount());
      if (second !== null) {
        // Both contests judge the one instance: the first jury keeps the flag, the second clears
        // it. The claimant pays the first's penalty and still has its flag cleared.
        await judge(f, [first!, second], [1, 0]);
        expect(Number((await trust.entity(flagged)).flags) & 0x7f, "the second contest cleared the flag the first upheld").to.equal(0);
      }
      expect(second === null, "a flag instance under contest is not contested twice").to.equal(true);
    });
  });

  describe("R3: a dispute built against a squatter's era never lands on the owner who took the id back", () => {
    it("the owner's attested era answers for nothing built against the squatter's era", async () => {
      const f = await loadFixture(court);
      const { disputes, trust } = f;
      const { login, account, attest, fox } = await avatarOwner(f, "s23-rtt");
      const [alice, squatter] = [await account(), await account()];
      // the squatter registers alice's avatar while it is logged out and misbehaves as it
      await trust.connect(squatter).register(fox, Kind.Avatar);
      expect(await trust.generationOf(fox)).to.equal(0n);
      // a counterparty builds a dispute against fox (era 0, the squatter's) ...
      const build = () =>
        disputes.openDispute(id("claimant"), fox, 0, 2, id("rtt-squatter-conduct"), "bafkrei-squat", 0, { value: P.deposit });
      // ... and alice's reclaim is mined first (same block or the one before)
      await login(fox);
      const a = await attest(fox, alice as Signer);
      await trust.connect(alice).registerAttested(fox, Kind.Avatar, a.deadline, a.a);
      expect(await trust.generationOf(fox)).to.equal(1n);
      const before = (await trust.entity(fox)).reputation;
      expect(before > 0n).to.equal(true);
      const dId = await tryOpen(build, () => disputes.disputeCount());
      if (dId !== null) await judge(f, [dId], [0]); // the jurors uphold the squatter's conduct
      expect((await trust.entity(fox)).reputation, "alice did not act: no penalty on her era").to.equal(before);
    });
  });

  describe("R4: a claimant that could not answer for a rejection does not claim", () => {
    it("a claim opened in the name of a fresh plain entity is refused (it could never pay loserPenalty)", async () => {
      const f = await loadFixture(court);
      const { disputes, trust, msrp } = f;
      const victim = id("rtt-victim");
      // the claimant's account registers a throwaway entity: free, reputation 0
      await trust.connect(msrp).register(id("rtt-throwaway"), Kind.Organization);
      expect((await trust.entity(id("rtt-throwaway"))).reputation).to.equal(0n);
      const open = () =>
        disputes.openDispute(id("rtt-throwaway"), victim, 0, 2, id("rtt-false-claim"), "bafkrei-false-claim", 0, { value: P.deposit });
      const dId = await tryOpen(open, () => disputes.disputeCount());
      if (dId !== null) {
        await judge(f, [dId], [1]); // the jury rejects the false claim ...
        const d = await disputes.dispute(dId);
        expect(d.outcome).to.equal(1n);
        // ... and the claimant's side lost no reputation anywhere: the penalty hit 0
        expect((await trust.entity(id("rtt-throwaway"))).reputation).to.equal(0n);
      }
      expect(dId === null, "a claimant that cannot answer for a rejected claim does not open one").to.equal(true);
    });
  });

  describe("R5: option 0 upholds only with a strict majority of the revealed weight", () => {
    it("40% of the revealed weight upholds a claim the other 60% rejected over three rejection options", async () => {
      const f = await loadFixture(court);
      const { disputes, trust, voters, jury } = f;
      const victim = id("rtt-victim");
      const before = (await trust.entity(victim)).reputation;
      // the claimant offers three ways to reject (options 1..3) and one to uphold
      await disputes.openDispute(id("claimant"), victim, 0, 4, id("rtt-split"), "bafkrei-split", 0, { value: P.deposit });
      const dId = await disputes.disputeCount();
      const choices = [0, 0, 1, 2, 3]; // v0, v1 uphold (1.0); v2..v4 reject (1.5), each with another option
      for (const [i, c] of choices.entries()) await jury.commit(dId, voters[i], commitmentOf(dId, voters[i], c, salt(`rtt5-${i}`)));
      await toReveal();
      for (const [i, c] of choices.entries()) await jury.reveal(dId, voters[i], c, salt(`rtt5-${i}`));
      await toResolve();
      await disputes.resolve(dId);
      const sums = await disputes.tally(dId);
      expect(sums[0] * 2n < sums[0] + sums[1] + sums[2] + sums[3], "upheld holds less than half").to.equal(true);
      expect((await disputes.dispute(dId)).outcome, "a minority does not uphold the claim").to.not.equal(0n);
      expect((await trust.entity(victim)).reputation).to.equal(before);
    });
  });

  describe("R1: the named refusals, and what frees a hearing", () => {
    it("the same digest again is EvidenceHeard(respondent, evidence, earlier), nothing written; another respondent, or a void dispute, frees it", async () => {
      const f = await loadFixture(court);
      const { disputes, trust } = f;
      const victim = id("rtt-victim");
      const ev = id("rtt-named");
      await disputes.openDispute(id("claimant"), victim, 0, 2, ev, "bafkrei-named", 0, { value: P.deposit });
      const first = await disputes.disputeCount();
      // another nature, same digest, same respondent: one lock for every nature
      await expect(disputes.openDispute(id("claimant"), victim, 2, 2, ev, "bafkrei-named", 0, { value: P.deposit }))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__EvidenceHeard")
        .withArgs(victim, ev, first);
      expect(await disputes.disputeCount()).to.equal(first);
      // the digest against another respondent is another claim
      await disputes.openDispute(id("claimant"), id("respondent"), 0, 2, ev, "bafkrei-named", 0, { value: P.deposit });
      // nobody votes: the first dispute is void (no decision), which frees its hearing
      await toReveal();
      await toResolve();
      await disputes.resolve(first);
      expect((await disputes.dispute(first)).void_).to.equal(true);
      await disputes.openDispute(id("claimant"), victim, 0, 2, ev, "bafkrei-named", 0, { value: P.deposit });
      expect(await disputes.disputeCount()).to.equal(first + 2n);
      expect((await trust.entity(victim)).reputation).to.equal(5n * 10n ** 17n);
    });

    it("a zero evidence digest is EvidenceRequired outside a flag contest, nothing written", async () => {
      const f = await loadFixture(court);
      await expect(
        f.disputes.openDispute(id("claimant"), id("rtt-victim"), 0, 2, Z, "", 0, { value: P.deposit }),
      ).to.be.revertedWithCustomError(f.disputes, "DisputeResolution__EvidenceRequired");
      expect(await f.disputes.disputeCount()).to.equal(0n);
    });
  });

  describe("R2: one contest per flag instance, after a verdict too", () => {
    async function flaggedCourt() {
      const f = await court();
      const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
      await f.trust.connect(detector).flag(f.voters[5], 3, id("rtt detector report"), 0);
      return { ...f, detector, flagged: f.voters[5], holder: f.others[15] };
    }

    it("a rejected contest holds its instance: FlagInstanceHeard(claimant, kind, serial, earlier), nothing written; a re-asserted instance is contested anew", async () => {
      const f = await loadFixture(flaggedCourt);
      const { disputes, trust, flagged, holder, detector } = f;
      const open = () => disputes.connect(holder).openDispute(flagged, Z, 3, 2, Z, "", 0, { value: P.deposit });
      await open();
      const first = await disputes.disputeCount();
      await judge(f, [first], [1]); // rejected: the flag stands
      const serial = (await trust.flagMarks(flagged))[3];
      await expect(open())
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__FlagInstanceHeard")
        .withArgs(flagged, 3, serial, first);
      expect(await disputes.disputeCount()).to.equal(first);
      // the detector re-asserts the flag on new conduct: a new instance, which is contestable
      await trust.connect(detector).flag(flagged, 3, id("rtt detector report, new conduct"), 0);
      await open();
      const second = await disputes.disputeCount();
      expect((await disputes.dispute(second)).contestedFlags).to.equal(8n);
      expect((await disputes.dispute(second)).contestedSerials[3]).to.equal(serial + 1n);
    });

    it("a void contest frees its instance; a contest takes only the held instances no other contest holds", async () => {
      const f = await loadFixture(flaggedCourt);
      const { disputes, trust, flagged, holder, detector } = f;
      const open = () => disputes.connect(holder).openDispute(flagged, Z, 3, 2, Z, "", 0, { value: P.deposit });
      await open();
      const first = await disputes.disputeCount();
      // a second kind flagged while the first contest is open: the next contest takes that one only
      await trust.connect(detector).flag(flagged, 1, id("rtt another report"), 0);
      await open();
      expect((await disputes.dispute(first + 1n)).contestedFlags).to.equal(2n);
      await toReveal();
      await toResolve();
      await disputes.resolve(first); // nobody voted: void
      await disputes.resolve(first + 1n);
      // both void: both instances are free again, and one contest takes them both
      await open();
      expect((await disputes.dispute(first + 2n)).contestedFlags).to.equal(10n);
    });
  });

  describe("R3: the era named", () => {
    it("a dispute naming an era the respondent left is StaleEra(respondent, named, current), nothing written", async () => {
      const f = await loadFixture(court);
      const { disputes, trust } = f;
      const { login, account, attest, fox } = await avatarOwner(f, "s23-rtt-era");
      const [alice, squatter] = [await account(), await account()];
      await trust.connect(squatter).register(fox, Kind.Avatar);
      await login(fox);
      const a = await attest(fox, alice as Signer);
      await trust.connect(alice).registerAttested(fox, Kind.Avatar, a.deadline, a.a);
      await expect(disputes.openDispute(id("claimant"), fox, 0, 2, id("rtt-era"), "bafkrei-era", 0, { value: P.deposit }))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__StaleEra")
        .withArgs(fox, 0, 1);
      expect(await disputes.disputeCount()).to.equal(0n);
      // built against alice's own era, it opens
      await disputes.openDispute(id("claimant"), fox, 0, 2, id("rtt-era"), "bafkrei-era", 1, { value: P.deposit });
      expect(await disputes.disputeCount()).to.equal(1n);
    });
  });

  describe("R4: the claimant's standing and stake", () => {
    it("a verified claimant below loserPenalty is ClaimantStakeTooLow; an unverified one ClaimantWithoutStanding; nothing written", async () => {
      const f = await loadFixture(court);
      const { disputes, trust, msrp, court: tm } = f;
      await trust.connect(msrp).register(id("rtt-throwaway"), Kind.Organization);
      await expect(disputes.openDispute(id("rtt-throwaway"), id("rtt-victim"), 0, 2, nextEvidence(), "", 0, { value: P.deposit }))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__ClaimantWithoutStanding")
        .withArgs(id("rtt-throwaway"));
      await trust.setIdentityVerified(id("rtt-throwaway"), true);
      await tm.adjustReputation(id("rtt-throwaway"), -(5n * 10n ** 17n) + P.loserPenalty - 1n);
      const rep = (await trust.entity(id("rtt-throwaway"))).reputation;
      expect(rep).to.equal(P.loserPenalty - 1n);
      await expect(disputes.openDispute(id("rtt-throwaway"), id("rtt-victim"), 0, 2, nextEvidence(), "", 0, { value: P.deposit }))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__ClaimantStakeTooLow")
        .withArgs(id("rtt-throwaway"), rep, P.loserPenalty);
      expect(await disputes.disputeCount()).to.equal(0n);
    });

    it("each open claim holds loserPenalty of the claimant's reputation: at 0.5, five open, the sixth refused until one is resolved", async () => {
      const f = await loadFixture(court);
      const { disputes, trust } = f;
      const rep = (await trust.entity(id("claimant"))).reputation;
      const n = rep / P.loserPenalty; // 5
      for (let i = 0n; i < n; i++)
        await disputes.openDispute(id("claimant"), id("rtt-victim"), 0, 2, nextEvidence(), "", 0, { value: P.deposit });
      await expect(disputes.openDispute(id("claimant"), id("rtt-victim"), 0, 2, nextEvidence(), "", 0, { value: P.deposit }))
        .to.be.revertedWithCustomError(disputes, "DisputeResolution__ClaimantStakeTooLow")
        .withArgs(id("claimant"), rep, (n + 1n) * P.loserPenalty);
      expect(await disputes.disputeCount()).to.equal(n);
      await toReveal();
      await toResolve();
      await disputes.resolve(1n); // void: its stake is free again
      await disputes.openDispute(id("claimant"), id("rtt-victim"), 0, 2, nextEvidence(), "", 0, { value: P.deposit });
      expect(await disputes.disputeCount()).to.equal(n + 1n);
    });
  });

  describe("R5: two options in a flag contest", () => {
    it("a flag contest with three options is InvalidOptions(3), nothing written", async () => {
      const f = await loadFixture(court);
      const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
      await f.trust.connect(detector).flag(f.voters[5], 3, id("rtt detector report"), 0);
      await expect(f.disputes.connect(f.others[15]).openDispute(f.voters[5], Z, 3, 3, Z, "", 0, { value: P.deposit }))
        .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__InvalidOptions")
        .withArgs(3);
      expect(await f.disputes.disputeCount()).to.equal(0n);
    });
  });
});
