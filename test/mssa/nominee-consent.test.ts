/**
 * s23-rtm finding F3 (red team, MSSA election): a nomination needs no consent of the nominee, and
 * the conflict-of-interest rule (an authority that is a nominee of the open round cannot attest a
 * report about another nominee) reads "is a nominee" from `_nominations` alone. So any electors can
 * switch off honest authorities' attestations by nominating them: with m = 3 seats and a report
 * quorum of 2, two colluding electors nominate two of the three sitting authorities, a third
 * nominates the misbehaving authority X, and no report about X can reach its quorum while the
 * round is open. X keeps `isAuthority` (the seat's powers read the counts deferred to the round's
 * end, s21-review2 M1, but only once a report is applied) and goes on approving registrations for
 * the whole round; attestations made after `elect` count only from authorities that still sit.
 *
 * Fixed: only a member who stands (`stand(round)`, or by nominating herself) can be nominated
 * (NotStanding otherwise); an unaccepted nomination silences nobody.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture } from "../fixtures/mssa";

const APPLIED = 2n;

describe("s23-rtm F3: a nomination needs the nominee's acceptance", () => {
  it("two sitting authorities nominated by others (who never accepted) still attest a report about a misbehaving nominee to its quorum", async () => {
    const f = await loadFixture(deployMssaFixture);
    const [x, h1, h2] = [f.au1, f.au2, f.au3]; // x misbehaves; h1, h2 are honest sitting authorities
    const m = f.members;
    await f.election.openRound();
    await f.election.connect(x).stand(1n);
    await f.election.connect(m[0]).nominate(1n, x.address); // x's friend, and x accepted
    // two colluders nominate the honest authorities, who never asked to stand
    for (const [who, nominee] of [
      [m[1], h1],
      [m[2], h2],
    ] as const)
      await expect(f.election.connect(who).nominate(1n, nominee.address))
        .to.be.revertedWithCustomError(f.election, "AuthorityElection__NotStanding")
        .withArgs(1n, nominee.address);
    expect(await f.election.isAuthority(x.address)).to.equal(true);
    const ev = ethers.id("x approved a registration without checking the documents");
    const refusals: string[] = [];
    for (const h of [h1, h2])
      try {
        await f.election.connect(h).report(x.address, 3, ev);
      } catch (e) {
        refusals.push(`${h.address}: ${(e as Error).message.split("\n")[0]}`);
      }
    const id = await f.election.reportIdOf(x.address, 3, ev);
    expect(refusals, "the honest authorities could not attest").to.deep.equal([]);
    expect((await f.election.reportOf(id)).state).to.equal(APPLIED);
  });
  it("a nominee who accepted is bound by the conflict-of-interest rule, and a nominee is on the ballot only once she stands", async () => {
    const f = await loadFixture(deployMssaFixture);
    const [x, h1] = [f.au1, f.au2];
    const m = f.members;
    await f.election.openRound();
    await f.election.connect(x).stand(1n);
    await f.election.connect(m[0]).nominate(1n, x.address);
    await f.election.connect(h1).stand(1n);
    await expect(f.election.connect(h1).stand(1n)).to.not.emit(f.election, "Standing"); // a repeat changes nothing
    await f.election.connect(m[1]).nominate(1n, h1.address);
    await expect(f.election.connect(h1).report(x.address, 3, ethers.id("ev")))
      .to.be.revertedWithCustomError(f.election, "AuthorityElection__ConflictOfInterest")
      .withArgs(h1.address, x.address);
    // self-nomination is acceptance
    await expect(f.election.connect(m[2]).nominate(1n, m[2].address)).to.emit(f.election, "Standing").withArgs(1n, m[2].address);
    expect(await f.election.isStanding(1n, m[2].address)).to.equal(true);
  });
});
