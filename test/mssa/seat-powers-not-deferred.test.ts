/**
 * s21-review2 M1 and L1 (fixed in s21-m1fix): what the round's deferral of reports covers.
 *
 * M1: a report about a nominee of the open round counts from the round's end on (s20-redm F1), and
 * `isAuthority` read the ratio without the deferred counts. A sitting authority could open a round
 * (anyone may) and nominate itself (an elector may), and then keep approving registrations in the
 * CredentialLedger and attesting reports for the whole round, whatever the reports about it. Now the
 * round decides only the nominee's eligibility and weight in it; the seat's powers (`isAuthority`,
 * so `CredentialLedger._checkApprover` and report attestation) read the ratio with the deferred counts.
 *
 * L1: during the vote, reports about a nominee that is no candidate (not selected at
 * `closeNomination`), or about a nominee removed from the members, waited for the round's end too,
 * though nothing in the round reads her ratio any more. Now only a person still in the race waits:
 * an elector of the round that is a nominee (nomination stage) or a candidate (vote).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import { deployMssaFixture, P, PL1, nominateAs } from "../fixtures/mssa";
import { consentToRegistration } from "../../offchain/mssa/ledger";
import { WAD } from "../../offchain/mssa/election";

type Fixture = Awaited<ReturnType<typeof deployMssaFixture>>;

/** A proposal at PL1 by `au` for `user`, with the user's consent. */
async function propose(f: Fixture, au: Signer, user: Signer, tag: string) {
  const commitment = ethers.id(`commitment ${tag}`);
  const nullifier = ethers.id(`identity ${tag}`);
  const session = ethers.id(`session ${tag}`);
  const elector = ethers.id(`elector ${tag}`);
  const { signature, deadline } = await consentToRegistration(f.ledger, user, PL1, commitment, nullifier, session, elector);
  const tx = f.ledger.connect(au).propose(PL1, await user.getAddress(), commitment, nullifier, elector, session, deadline, signature);
  return { tx, id: await f.ledger.registrationId(PL1, await user.getAddress(), commitment) };
}

/** The detector's 18 reports that take `node` to R = 1 exactly (behaviours 0, 1 and 3 to their caps: 0.4 + 0.3 + 0.3). */
const FRAMED = [0, 1, 3];
async function frame(f: Fixture, node: string) {
  for (const b of FRAMED)
    for (let i = 0; i < P.caps[b]; i++) await f.election.connect(f.detector).report(node, b, ethers.id(`framed ${b} ${i}`));
}

describe("AuthorityElection: the round defers a nominee's eligibility and weight, not a seat's powers (s21-review2 M1, L1)", () => {
  it("M1: a sitting authority that opens a round, nominates itself and is reported to R = 1 stops approving and attesting at once; its candidacy is untouched", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    const other = m[9].address;
    // au1 attests a report about another member before it is reported (quorum 2: it waits for au2)
    const pending = ethers.id("pending");
    await f.election.connect(f.au1).report(other, 1, pending);
    // au2 proposes a registration at PL1 (au1 and au2, k = 2): au1's approval is the second
    const reg = await propose(f, f.au2, f.users[12], "user12");
    await reg.tx;
    // the shield: au1 opens the round and nominates itself (five members nominate themselves too)
    await f.election.connect(f.au1).openRound();
    await nominateAs(f.election, f.au1, f.au1.address);
    for (let i = 0; i < 5; i++) await nominateAs(f.election, m[i], m[i].address);
    await frame(f, f.au1.address);
    // the round's view: the reports wait for its end (s20-redm F1 stays closed) ...
    const [, ratio] = await f.election.misbehaviour(f.au1.address);
    expect(ratio, "the round reads au1's ratio without the deferred reports").to.equal(0n);
    const [waiting, until] = await f.election.deferredMisbehaviour(f.au1.address);
    expect(until).to.equal(1n);
    expect(waiting.map(Number)).to.deep.equal([5, 10, 0, 3]);
    // ... the seat's powers do not wait: au1 does not sit
    expect(await f.election.isAuthority(f.au1.address), "au1 still sits").to.equal(false);
    await expect(f.ledger.connect(f.au1).approve(reg.id))
      .to.be.revertedWithCustomError(f.ledger, "CredentialLedger__NotSitting")
      .withArgs(f.au1.address);
    await expect((await propose(f, f.au1, f.users[13], "user13")).tx)
      .to.be.revertedWithCustomError(f.ledger, "CredentialLedger__NotSitting")
      .withArgs(f.au1.address);
    await expect(f.election.connect(f.au1).report(other, 2, ethers.id("new")))
      .to.be.revertedWithCustomError(f.election, "AuthorityElection__NotAuthority")
      .withArgs(f.au1.address);
    // its earlier attestation no longer counts towards the quorum
    const pendingId = await f.election.reportIdOf(other, 1, pending);
    await expect(f.election.connect(f.au2).report(other, 1, pending))
      .to.emit(f.election, "AttestationsStale")
      .withArgs(pendingId, 2, 1);
    expect((await f.election.misbehaviour(other)).counts[1]).to.equal(0n);
    expect((await f.ledger.registration(reg.id)).status, "still pending").to.equal(1n);
    // the round is the one it would have been: au1 is a candidate with the ratio it had at its nomination
    await time.increase(P.nominationPeriod);
    await f.election.closeNomination();
    const r = await f.election.round(1);
    const i = r.candidates.indexOf(f.au1.address);
    expect(i, "au1 is a candidate").to.be.greaterThanOrEqual(0);
    expect(r.candidateRatios[i]).to.equal(0n);
    // the round's end folds the reports in: the round's reading and the seat's agree again
    await time.increase(P.votingPeriod);
    await f.election.elect();
    expect((await f.election.misbehaviour(f.au1.address)).ratio).to.equal(WAD);
    expect(await f.election.isAuthority(f.au1.address)).to.equal(false);
  });

  it("M1: the arbiter's dismissal of a deferred report gives the seat back during the round", async () => {
    const f = await loadFixture(deployMssaFixture);
    await f.election.connect(f.au1).openRound();
    await nominateAs(f.election, f.au1, f.au1.address);
    await frame(f, f.au1.address);
    expect(await f.election.isAuthority(f.au1.address)).to.equal(false);
    // one report of behaviour 0 dismissed: R = 0.92 with the deferred counts, it sits again
    const id = await f.election.reportIdOf(f.au1.address, 0, ethers.id("framed 0 0"));
    await f.election.connect(f.au1).contest(id);
    await f.election.connect(f.operator).resolveContest(id, false);
    expect((await f.election.deferredMisbehaviour(f.au1.address)).counts[0]).to.equal(BigInt(P.caps[0] - 1));
    expect(await f.election.isAuthority(f.au1.address)).to.equal(true);
  });

  it("L1: during the vote a nominee that is no candidate, and one removed since her nomination, are reported at once; a candidate's report waits", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    await f.election.openRound();
    // 0..5 get two nominations each (self + one other), 6 gets one (self): 6 is ranked 7th of 7 (2m = 6)
    for (let i = 0; i < 7; i++) await nominateAs(f.election, m[i], m[i].address);
    for (let i = 7; i < 10; i++) await nominateAs(f.election, m[i], m[i - 7].address);
    for (const [a, i] of [
      [f.au1, 3],
      [f.au2, 4],
      [f.au3, 5],
    ] as const)
      await nominateAs(f.election, a, m[i].address);
    await time.increase(P.nominationPeriod);
    await f.election.closeNomination();
    const cands = (await f.election.round(1)).candidates;
    expect(cands).to.not.include(m[6].address);
    expect(cands).to.include(m[0].address);
    const rep = (node: string, ev: string) => f.election.connect(f.detector).report(node, 0, ethers.id(ev));
    await expect(rep(m[6].address, "a")).to.emit(f.election, "MisbehaviourRecorded");
    expect((await f.election.misbehaviour(m[6].address)).counts[0]).to.equal(1n);
    await expect(rep(m[0].address, "b")).to.emit(f.election, "MisbehaviourDeferred");
    expect((await f.election.misbehaviour(m[0].address)).counts[0]).to.equal(0n);
    // a candidate removed from the members is out of the race (elect does not seat her): at once
    await f.election.remove(m[1].address);
    await expect(rep(m[1].address, "c")).to.emit(f.election, "MisbehaviourRecorded");
    expect((await f.election.misbehaviour(m[1].address)).counts[0]).to.equal(1n);
  });

  it("L1: during the nomination stage a nominee removed since her nomination is reported at once", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    await f.election.openRound();
    await nominateAs(f.election, m[0], m[0].address);
    await nominateAs(f.election, m[1], m[1].address);
    await f.election.remove(m[0].address);
    await expect(f.election.connect(f.detector).report(m[0].address, 0, ethers.id("a"))).to.emit(f.election, "MisbehaviourRecorded");
    await expect(f.election.connect(f.detector).report(m[1].address, 0, ethers.id("b"))).to.emit(f.election, "MisbehaviourDeferred");
  });
});
