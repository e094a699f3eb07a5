import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture, PL1 } from "../fixtures/mssa";
import { AuthorityAgent, register } from "../../offchain/mssa/registration";
import { classicalLinks } from "../../offchain/mssa/qblock";

const INFOS = ["alice@example.org", "passport:X1234567"];

async function registered() {
  const f = await loadFixture(deployMssaFixture);
  const user = f.users[12];
  const out = register({
    place: "PL1",
    user: user.address,
    infos: INFOS,
    authorities: [new AuthorityAgent(f.au1.address), new AuthorityAgent(f.au2.address)],
  });
  return { ...f, user, out };
}

async function state(f: Awaited<ReturnType<typeof registered>>, id: string) {
  return {
    reg: await f.ledger.registration(id),
    access: await f.ledger.access(f.user.address, PL1),
    head: await f.ledger.head(),
    member: await f.election.isMember(f.user.address),
  };
}

describe("CredentialLedger", () => {
  it("records a commitment approved by k = 2 of PL1's authorities, grants access, enrols the user, chains the block", async () => {
    const f = await registered();
    const id = await f.ledger.registrationId(PL1, f.user.address, f.out.commitment);
    await expect(f.ledger.connect(f.au1).propose(PL1, f.user.address, f.out.commitment)).to.emit(f.ledger, "RegistrationProposed");
    // approval by fewer than k authorities: no access yet
    expect((await f.ledger.access(f.user.address, PL1)).granted).to.equal(false);
    expect((await f.ledger.registration(id)).status).to.equal(1n); // Pending
    await expect(f.ledger.connect(f.au2).approve(id)).to.emit(f.ledger, "AccessGranted");
    const s = await state(f, id);
    expect(s.access.granted).to.equal(true);
    expect(s.access.id).to.equal(id);
    expect(s.member).to.equal(true);
    expect(s.reg.commitment).to.equal(f.out.commitment);
    expect(s.head.link).to.equal(classicalLinks([{ id, commitment: f.out.commitment }])[0]);
    expect(s.head.count).to.equal(1n);
  });

  it("refuses approvers outside the place or not sitting, repeats and replays; nothing changes", async () => {
    const f = await registered();
    const id = await f.ledger.registrationId(PL1, f.user.address, f.out.commitment);
    await f.ledger.connect(f.au1).propose(PL1, f.user.address, f.out.commitment);
    const before = await state(f, id);
    // au3 sits but is not one of PL1's authorities
    await expect(f.ledger.connect(f.au3).approve(id)).to.be.revertedWithCustomError(f.ledger, "CredentialLedger__NotPlaceAuthority");
    await expect(f.ledger.connect(f.au1).approve(id)).to.be.revertedWithCustomError(f.ledger, "CredentialLedger__AlreadyApproved");
    await expect(f.ledger.connect(f.au1).propose(PL1, f.user.address, ethers.id("other"))).to.be.revertedWithCustomError(
      f.ledger,
      "CredentialLedger__PendingExists",
    );
    await expect(f.ledger.connect(f.au1).approve(ethers.id("nothing"))).to.be.revertedWithCustomError(
      f.ledger,
      "CredentialLedger__UnknownRegistration",
    );
    await expect(f.ledger.connect(f.au1).propose(ethers.id("PL9"), f.user.address, f.out.commitment)).to.be.revertedWithCustomError(
      f.ledger,
      "CredentialLedger__UnknownPlace",
    );
    expect(await state(f, id)).to.deep.equal(before);
    // a place authority that is not a sitting elected authority
    const PL2 = ethers.id("PL2");
    await f.ledger.setPlace(PL2, [f.users[0].address], 1);
    await expect(f.ledger.connect(f.users[0]).propose(PL2, f.user.address, f.out.commitment)).to.be.revertedWithCustomError(
      f.ledger,
      "CredentialLedger__NotSitting",
    );
    // once approved, the same user cannot register again at the place
    await f.ledger.connect(f.au2).approve(id);
    await expect(f.ledger.connect(f.au1).propose(PL1, f.user.address, ethers.id("again"))).to.be.revertedWithCustomError(
      f.ledger,
      "CredentialLedger__AlreadyRegistered",
    );
    await expect(f.ledger.connect(f.au2).approve(id)).to.be.revertedWithCustomError(f.ledger, "CredentialLedger__NotPending");
  });

  it("validates places and lets the operator revoke access", async () => {
    const f = await registered();
    await expect(f.ledger.setPlace(PL1, [f.au1.address], 2)).to.be.revertedWithCustomError(f.ledger, "CredentialLedger__InvalidPlace");
    await expect(f.ledger.setPlace(PL1, [f.au1.address, f.au1.address], 1)).to.be.revertedWithCustomError(
      f.ledger,
      "CredentialLedger__InvalidPlace",
    );
    await expect(f.ledger.connect(f.au1).setPlace(PL1, [f.au1.address], 1)).to.be.revertedWithCustomError(
      f.ledger,
      "AccessControlUnauthorizedAccount",
    );
    expect((await f.ledger.place(PL1)).authorities).to.deep.equal([f.au1.address, f.au2.address]);
    const id = await f.ledger.registrationId(PL1, f.user.address, f.out.commitment);
    await f.ledger.connect(f.au1).propose(PL1, f.user.address, f.out.commitment);
    await f.ledger.connect(f.au2).approve(id);
    await expect(f.ledger.revoke(id)).to.emit(f.ledger, "AccessRevoked");
    expect((await f.ledger.access(f.user.address, PL1)).granted).to.equal(false);
  });
});
