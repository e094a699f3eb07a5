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
 * Fixed: the rule looks at persons: the reported account, or the account that holds now the election
 * nullifier it last held, is a nominee; and a person reports none of her own accounts (SelfReport).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture, nominateAs } from "../fixtures/mssa";

describe("s23-rtm F6: the conflict-of-interest rule compares persons, not accounts", () => {
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
    await nominateAs(f.election, m[0], f.au1.address);
    await nominateAs(f.election, m[1], f.au2.address);
    await nominateAs(f.election, m[2], bNew.address);
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
  it("an authority that is no nominee still attests a report about a nominee's former account", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    const [bOld, bNew] = [f.users[12], f.users[13]];
    const eB = ethers.id("person B");
    await f.election.enrolElector(bOld.address, eB);
    await f.election.remove(bOld.address);
    await f.election.enrolElector(bNew.address, eB);
    await f.election.openRound();
    await nominateAs(f.election, m[0], f.au1.address);
    await nominateAs(f.election, m[2], bNew.address);
    // au3 is no nominee: no conflict, about either of B's accounts
    await expect(f.election.connect(f.au3).report(bOld.address, 0, ethers.id("seen"))).to.emit(f.election, "MisbehaviourAttested");
    await expect(f.election.connect(f.au3).report(bNew.address, 0, ethers.id("seen"))).to.emit(f.election, "MisbehaviourAttested");
  });
});
