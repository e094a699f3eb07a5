/**
 * h11-red2 finding M1 (fixed in h12-m1): one person registered at several places was several
 * electors of the one authority election.
 *
 * Attacker: a user with one identity document (one passport) who registers at two places, each with
 * its own account. Each place's k authorities check the document and compute the place's identity
 * nullifier HMAC(placeKey, place || identity): it differs from place to place by design (places
 * cannot link a person), so CredentialLedger's one-registration-per-nullifier rule holds per place
 * only. Every approval used to enrol its account in the one AuthorityElection: the person was two of
 * the paper's "M active users", nominated twice and cast two Borda ballots.
 *
 * The fix (docs/specs/mssa.md §1.8): electorship is separate from access. The authorities also
 * compute the election nullifier e = HMAC(electionKey, "metatrust MSSA elector" || identity), one key
 * for the deployment; the one registration the user chooses to make her an elector carries e (signed
 * in her EIP-712 consent); its approval enrols her account under e, and the election holds one
 * account per e (`electorOf`): a second account's approval under a held e reverts
 * (ElectorNullifierTaken) and changes nothing. A registration without e grants access only.
 *
 * Bites: with the holder check removed from AuthorityElection.enrolElector, the first test fails
 * (member count +2, two nominations).
 */
import { createHmac } from "crypto";
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture, PL1, P, nominateAs } from "../fixtures/mssa";
import { AuthorityAgent, electorNullifier, identityNullifier, placeId, register } from "../../offchain/mssa/registration";
import { consentToRegistration } from "../../offchain/mssa/ledger";

const PL2 = placeId("PL2");
const PASSPORT = "passport:UTO:X1234567";
const ELECTION_KEY = ethers.getBytes(ethers.id("the deployment's election key"));

type F = Awaited<ReturnType<typeof deployMssaFixture>>;
type Account = F["users"][number];

async function twoPlaces() {
  const f = await loadFixture(deployMssaFixture);
  // PL2: another place, run by sitting authorities (au1 and au3), k = 2, with its own nullifier key
  await f.ledger.setPlace(PL2, [f.au1.address, f.au3.address], 2);
  return f;
}

const KEYS: Record<string, Uint8Array> = {
  [PL1]: ethers.getBytes(ethers.id("PL1's nullifier key")),
  [PL2]: ethers.getBytes(ethers.id("PL2's nullifier key")),
};

/** Registers `account` at `place` off-chain and proposes it (approvers[0]); elector: carries e. */
async function proposeAt(f: F, name: string, account: Account, approvers: Account[], elector: boolean, passportFirst = false) {
  const place = placeId(name);
  const mail = `${account.address}@example.org`;
  const out = register({
    place: name,
    user: account.address,
    infos: passportFirst ? [PASSPORT, mail] : [mail, PASSPORT],
    authorities: approvers.map((a) => new AuthorityAgent(a.address)),
    placeKey: KEYS[place],
    electionKey: ELECTION_KEY,
  });
  const e = elector ? out.electorNullifier! : ethers.ZeroHash;
  const session = ethers.id(`session ${out.commitment}`);
  const { signature, deadline } = await consentToRegistration(f.ledger, account, place, out.commitment, out.nullifier!, session, e);
  await f.ledger.connect(approvers[0]).propose(place, account.address, out.commitment, out.nullifier!, e, session, deadline, signature);
  return { id: await f.ledger.registrationId(place, account.address, out.commitment), out, e, session, deadline, signature };
}

describe("h11-red2 M1: one identity registered at several places is one elector", () => {
  it("the same passport at PL1 (account A) and PL2 (account B), both asking to be electors: the second approval is refused and changes nothing", async () => {
    const f = await twoPlaces();
    const [A, B] = [f.users[12], f.users[13]]; // one person, two accounts
    const before = await f.election.memberCount();
    const a = await proposeAt(f, "PL1", A, [f.au1, f.au2], true);
    const b = await proposeAt(f, "PL2", B, [f.au1, f.au3], true); // pending: e is held by nobody yet
    expect(b.e).to.equal(a.e); // one person, one election nullifier, whatever the place
    expect(b.out.nullifier).to.not.equal(a.out.nullifier); // but two place nullifiers
    await expect(f.ledger.connect(f.au2).approve(a.id)).to.emit(f.election, "ElectorNullifierBound").withArgs(A.address, a.e);
    const head = await f.ledger.head();
    await expect(f.ledger.connect(f.au3).approve(b.id))
      .to.be.revertedWithCustomError(f.election, "AuthorityElection__ElectorNullifierTaken")
      .withArgs(a.e, A.address);
    expect((await f.ledger.registration(b.id)).status).to.equal(1n); // still pending
    expect((await f.ledger.registration(b.id)).approvals).to.equal(1n);
    expect(await f.ledger.approvedBy(b.id, f.au3.address)).to.equal(false);
    expect((await f.ledger.access(B.address, PL2)).granted).to.equal(false);
    expect(await f.ledger.head()).to.deep.equal(head);
    expect(await f.election.electorOf(a.e)).to.equal(A.address);
    // one person, one elector: one member more, one nomination
    const nominee = f.members[0].address;
    await f.election.openRound();
    await nominateAs(f.election, A, nominee);
    await expect(nominateAs(f.election, B, nominee)).to.be.revertedWithCustomError(f.election, "AuthorityElection__NotElector");
    await time.increase(P.nominationPeriod);
    expect(await f.election.memberCount(), "one identity counted as two electors").to.equal(before + 1n);
    expect(await f.election.nominations(1n, nominee), "one identity nominated twice").to.equal(1n);
  });

  it("the election nullifier is of the passport whatever the documents' order (h12-red N1): the same passport, listed first at PL2, is still refused as a second elector", async () => {
    const f = await twoPlaces();
    const [A, B] = [f.users[12], f.users[13]];
    const a = await proposeAt(f, "PL1", A, [f.au1, f.au2], true);
    const b = await proposeAt(f, "PL2", B, [f.au1, f.au3], true, true);
    expect(b.e).to.equal(a.e);
    await f.ledger.connect(f.au2).approve(a.id);
    await expect(f.ledger.connect(f.au3).approve(b.id)).to.be.revertedWithCustomError(
      f.election,
      "AuthorityElection__ElectorNullifierTaken",
    );
  });

  it("the user chooses: elector through PL1, access only at PL2; both places grant access, the election counts her once", async () => {
    const f = await twoPlaces();
    const [A, B] = [f.users[12], f.users[13]];
    const before = await f.election.memberCount();
    const a = await proposeAt(f, "PL1", A, [f.au1, f.au2], true);
    await f.ledger.connect(f.au2).approve(a.id);
    // once e is held, a proposal of B carrying it is refused at once (the approvers check it first)
    const out = register({
      place: "PL2",
      user: B.address,
      infos: ["b@example.org", PASSPORT],
      authorities: [new AuthorityAgent(f.au1.address), new AuthorityAgent(f.au3.address)],
      placeKey: KEYS[PL2],
      electionKey: ELECTION_KEY,
    });
    const s = ethers.id("s");
    const c = await consentToRegistration(f.ledger, B, PL2, out.commitment, out.nullifier!, s, out.electorNullifier!);
    await expect(
      f.ledger.connect(f.au1).propose(PL2, B.address, out.commitment, out.nullifier!, out.electorNullifier!, s, c.deadline, c.signature),
    )
      .to.be.revertedWithCustomError(f.election, "AuthorityElection__ElectorNullifierTaken")
      .withArgs(a.e, A.address);
    const b = await proposeAt(f, "PL2", B, [f.au1, f.au3], false);
    await expect(f.ledger.connect(f.au3).approve(b.id)).to.emit(f.ledger, "AccessGranted").and.not.to.emit(f.election, "MemberEnrolled");
    expect((await f.ledger.access(A.address, PL1)).granted).to.equal(true);
    expect((await f.ledger.access(B.address, PL2)).granted).to.equal(true);
    expect(await f.election.memberCount()).to.equal(before + 1n);
    expect([await f.election.isMember(A.address), await f.election.isMember(B.address)]).to.deep.equal([true, false]);
  });

  it("a rogue approver cannot attach her e to another account, nor add it to a registration she signed without it", async () => {
    const f = await twoPlaces();
    const [A, sybil] = [f.users[12], f.users[11]];
    const a = await proposeAt(f, "PL1", A, [f.au1, f.au2], false); // access only, consent without e
    const e = electorNullifier(ELECTION_KEY, PASSPORT);
    const r = await f.ledger.registration(a.id);
    // her access-only consent, with e added by the authority: not her signature
    await f.ledger.connect(A).cancel(a.id);
    await expect(f.ledger.connect(f.au1).propose(PL1, A.address, r.commitment, r.nullifier, e, a.session, a.deadline, a.signature))
      .to.be.revertedWithCustomError(f.ledger, "CredentialLedger__BadUserSignature")
      .withArgs(A.address);
    // her consent with e, for the sybil's account: not the sybil's signature
    const withE = await consentToRegistration(f.ledger, A, PL1, r.commitment, r.nullifier, a.session, e);
    await expect(
      f.ledger.connect(f.au1).propose(PL1, sybil.address, r.commitment, r.nullifier, e, a.session, withE.deadline, withE.signature),
    )
      .to.be.revertedWithCustomError(f.ledger, "CredentialLedger__BadUserSignature")
      .withArgs(sybil.address);
    expect(await f.election.electorOf(e)).to.equal(ethers.ZeroAddress);
    expect(await f.election.isMember(sybil.address)).to.equal(false);
  });

  it("electorNullifier: one value per identity however typed, key-bound, unlike the place nullifiers", () => {
    const e = electorNullifier(ELECTION_KEY, PASSPORT);
    expect(electorNullifier(ELECTION_KEY, "Passport: uto: X 123-4567")).to.equal(e);
    expect(electorNullifier(ELECTION_KEY, "ｐａｓｓｐｏｒｔ:ｕｔｏ:x1234567")).to.equal(e);
    expect(electorNullifier(ethers.getBytes(ethers.id("another key")), PASSPORT)).to.not.equal(e);
    expect(electorNullifier(ELECTION_KEY, "passport:UTO:X1234568")).to.not.equal(e);
    expect(e).to.not.equal(identityNullifier(ELECTION_KEY, PL1, PASSPORT));
    expect(() => electorNullifier(new Uint8Array(15), PASSPORT)).to.throw(
      RangeError,
      "electorNullifier: the election key needs at least 16 bytes",
    );
    expect(() => electorNullifier(ELECTION_KEY, " ")).to.throw(RangeError, "electorNullifier: empty identity");
    // the HMAC of the domain and the canonical identity (an outside check of the construction)
    const mac = createHmac("sha256", Buffer.from(ELECTION_KEY)).update("metatrust MSSA electorpassport:UTO:X1234567").digest("hex");
    expect(e).to.equal("0x" + mac);
  });
});
