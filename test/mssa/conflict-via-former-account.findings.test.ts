/**
 * s23-rtm finding F6 (red team, MSSA election): the conflict-of-interest rule compares accounts,
 * but reports reach persons. A nominee-authority may not attest a report about a rival nominee's
 * account, yet it may attest one about the rival's *former* account (kept reportable since s20 F2:
 * `_personOf` survives removal), and that report lands on the same person's record (deferred to
 * the round's end because her account now is in the race, and at once in `isAuthority` if she
 * sits). Two incumbent nominees (the report quorum) thus frame a rival nominee who once held
 * another account (a revoked and renewed registration is enough): exactly the attack the rule was
 * made for (finding 1).
 *
 * The test passes once the rule looks at the person (the reported account's election nullifier and
 * the account holding it now), not only at the account named.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture } from "../fixtures/mssa";

describe("findings s23-rtm F6: the conflict-of-interest rule is bypassed through a rival's former account", () => {
  it("a nominee-authority cannot attest a report about a rival nominee's former account either", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    const [bOld, bNew] = [f.users[12], f.users[13]];
    const eB = ethers.id("person B");
    // B's first account was removed (e.g. her registration revoked); she came back under a new one
    await f.election.enrolElector(bOld.address, eB);
    await f.election.remove(bOld.address);
    await f.election.enrolElector(bNew.address, eB);
    await f.election.openRound();
    // the incumbents au1, au2 stand, and so does B
    await f.election.connect(m[0]).nominate(f.au1.address);
    await f.election.connect(m[1]).nominate(f.au2.address);
    await f.election.connect(m[2]).nominate(bNew.address);
    const ev = ethers.id("invented");
    // the rule holds for her account
    await expect(f.election.connect(f.au1).report(bNew.address, 0, ev)).to.be.revertedWithCustomError(
      f.election,
      "AuthorityElection__ConflictOfInterest",
    );
    // ... and must hold for her former account, whose reports count on her record
    await expect(
      f.election.connect(f.au1).report(bOld.address, 0, ev),
      "au1 attests about B's former account",
    ).to.be.revertedWithCustomError(f.election, "AuthorityElection__ConflictOfInterest");
  });
});
