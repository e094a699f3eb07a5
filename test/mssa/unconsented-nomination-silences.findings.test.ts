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
 * The test passes once being nominated by others does not, by itself, take an authority's
 * attestations away (e.g. a nominee counts as one only after she accepts).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture } from "../fixtures/mssa";

const APPLIED = 2n;

describe("findings s23-rtm F3: nominating honest authorities without their consent silences their reports", () => {
  it("two sitting authorities nominated by others (who never accepted) still attest a report about a misbehaving nominee to its quorum", async () => {
    const f = await loadFixture(deployMssaFixture);
    const [x, h1, h2] = [f.au1, f.au2, f.au3]; // x misbehaves; h1, h2 are honest sitting authorities
    const m = f.members;
    await f.election.openRound();
    await f.election.connect(m[0]).nominate(x.address); // x's friend
    // two colluders nominate the honest authorities, who never asked to stand
    for (const [who, nominee] of [
      [m[1], h1],
      [m[2], h2],
    ] as const)
      try {
        await f.election.connect(who).nominate(nominee.address);
      } catch {
        /* a fix may ask the nominee first */
      }
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
});
