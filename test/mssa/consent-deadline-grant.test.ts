/**
 * s23-rtm finding F5 (red team, MSSA credentials): the consent's deadline bounds only the
 * *proposal*. `propose` refuses a consent after its deadline, but the registration it creates is
 * then approved, granted and (with an election nullifier) enrols the user as an elector at any time
 * within PENDING_TTL (7 days) after the proposal. A user who signed a one-hour consent
 * (`mssa:register --consent-ttl 3600`) and whose consent one authority withholds until the last
 * second is registered and made an elector up to 7 days after the moment she said; ICredentialLedger
 * and docs/specs/mssa.md §2.5 promise "an unused consent she never withdrew registers her no later
 * than she said, whoever holds it, and whatever the authorities do". The honest approvers' own bound
 * (`approveChecked`: proposed within CONSENT_TTL of their verification) does not look at her deadline.
 *
 * Fixed: a pending registration expires at the deadline its user signed (or PENDING_TTL, if sooner).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture, PL1 } from "../fixtures/mssa";
import { consentToRegistration } from "../../offchain/mssa/ledger";

describe("s23-rtm F5: a consent's deadline bounds the grant", () => {
  it("a one-hour consent proposed at its deadline is not granted (nor makes an elector) six days later", async () => {
    const f = await loadFixture(deployMssaFixture);
    const user = f.users[12];
    const commitment = ethers.id("commitment of a verified credential");
    const nullifier = ethers.id("place nullifier of her passport");
    const elector = ethers.id("election nullifier of her passport");
    const session = ethers.id("session 1");
    // she allows one hour
    const c = await consentToRegistration(f.ledger, user, PL1, commitment, nullifier, session, elector, 3600);
    // au1 holds it back and proposes in the block at its deadline (accepted: at the deadline is in time)
    await time.setNextBlockTimestamp(c.deadline);
    await f.ledger.connect(f.au1).propose(PL1, user.address, commitment, nullifier, elector, session, c.deadline, c.signature);
    const id = await f.ledger.registrationId(PL1, user.address, commitment);
    // six days after her deadline the second authority approves
    await time.increase(6 * 24 * 3600);
    await expect(f.ledger.connect(f.au2).approve(id))
      .to.be.revertedWithCustomError(f.ledger, "CredentialLedger__Expired")
      .withArgs(id, c.deadline + 1n);
    const [granted] = await f.ledger.access(user.address, PL1);
    const now = await time.latest();
    expect(
      { granted, elector: await f.election.isMember(user.address) },
      `registered ${now - Number(c.deadline)} s after the deadline she signed`,
    ).to.deep.equal({ granted: false, elector: false });
  });
  it("an approval at the deadline itself still grants (the deadline is the last second in time)", async () => {
    const f = await loadFixture(deployMssaFixture);
    const user = f.users[12];
    const [commitment, nullifier, elector, session] = ["c2", "n2", "e2", "s2"].map((x) => ethers.id(x));
    const c = await consentToRegistration(f.ledger, user, PL1, commitment, nullifier, session, elector, 3600);
    await f.ledger.connect(f.au1).propose(PL1, user.address, commitment, nullifier, elector, session, c.deadline, c.signature);
    const id = await f.ledger.registrationId(PL1, user.address, commitment);
    expect((await f.ledger.registration(id)).consentDeadline).to.equal(c.deadline);
    await time.setNextBlockTimestamp(c.deadline);
    await f.ledger.connect(f.au2).approve(id);
    const [granted] = await f.ledger.access(user.address, PL1);
    expect({ granted, elector: await f.election.isMember(user.address) }).to.deep.equal({ granted: true, elector: true });
  });
});
