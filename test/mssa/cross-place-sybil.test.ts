/**
 * h11-red2 finding M1 (MEDIUM): one person, two places, two votes in the authority election.
 *
 * Attacker: a user with one identity document (one passport) who registers at two places, each
 * with its own account. Each place's k authorities check the document and compute the place's
 * identity nullifier HMAC(placeKey, place || identity): it differs from place to place by design
 * (registration.ts, so the chain cannot link a person across places), so CredentialLedger's
 * one-registration-per-nullifier rule holds per place only. Both approvals enrol their account in
 * the one AuthorityElection (`election.enrol(r.user)`): the person is two of the "M active users"
 * and nominates twice and casts two Borda ballots. With P places, P votes; a coalition that
 * registers everywhere multiplies its weight by P without any forged credential.
 *
 * Property broken: MSSA election integrity (§ QDPoS + Borda: "m authority nodes are selected from
 * the total user M active in the metaverse", one ballot per user; Eqs. 2-4 count every ballot
 * once). The per-place nullifier keeps places unlinkable, but the election is global.
 *
 * Suggested fix: give the election its own Sybil key: the authorities also compute an
 * election-wide nullifier HMAC(electionKey, normalizeIdentity(identity)) (a key shared by every
 * place's authorities, not per place), CredentialLedger passes it to `election.enrol(user, n)`,
 * and the election enrols at most one account per nullifier (a second place's approval of the same
 * person grants access to the place but does not add an elector). Places stay unlinkable to the
 * public: the election nullifier is one opaque value per person.
 *
 * Still open after h11-m (which fixed M2 and M3): the analysis and the proposed fix (the user picks
 * the one registration that makes her an elector; its election nullifier enters her consent and is
 * recomputed by each approver; the election holds one account per nullifier) are in
 * docs/specs/mssa.md §1.8.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture, PL1, P } from "../fixtures/mssa";
import { AuthorityAgent, placeId, register } from "../../offchain/mssa/registration";
import { consentToRegistration } from "../../offchain/mssa/ledger";

const PL2 = placeId("PL2");
const PASSPORT = "passport:X1234567";

describe("h11-red2 M1: one identity registered at two places is two electors (findings)", () => {
  it("the same passport approved at PL1 (account A) and PL2 (account B) gives one person two nominations", async () => {
    const f = await loadFixture(deployMssaFixture);
    // PL2: another place, run by sitting authorities (au1 and au3), k = 2, with its own nullifier key
    await f.ledger.setPlace(PL2, [f.au1.address, f.au3.address], 2);
    const keys = { [PL1]: ethers.getBytes(ethers.id("PL1's nullifier key")), [PL2]: ethers.getBytes(ethers.id("PL2's nullifier key")) };
    const [A, B] = [f.users[12], f.users[13]]; // one person, two accounts
    const approve = async (name: string, place: string, account: typeof A, approvers: (typeof A)[]) => {
      const out = register({
        place: name,
        user: account.address,
        infos: [`${account.address}@example.org`, PASSPORT],
        authorities: approvers.map((a) => new AuthorityAgent(a.address)),
        placeKey: keys[place],
      });
      const session = ethers.id(`session ${out.commitment}`);
      const { signature } = await consentToRegistration(f.ledger, account, place, out.commitment, out.nullifier!, session);
      await f.ledger.connect(approvers[0]).propose(place, account.address, out.commitment, out.nullifier!, session, signature);
      const id = await f.ledger.registrationId(place, account.address, out.commitment);
      await f.ledger.connect(approvers[1]).approve(id);
      expect((await f.ledger.access(account.address, place)).granted).to.equal(true);
      return out.nullifier!;
    };
    const before = await f.election.memberCount();
    await approve("PL1", PL1, A, [f.au1, f.au2]);
    await approve("PL2", PL2, B, [f.au1, f.au3]);
    // the same person behind both (same passport); the chain cannot tell, by design of the nullifier
    const nominee = f.members[0].address;
    await f.election.openRound();
    await f.election.connect(A).nominate(nominee);
    await f.election.connect(B).nominate(nominee);
    await time.increase(P.nominationPeriod);
    // One person, one elector: the second place's approval must not add an elector or a nomination.
    expect(await f.election.memberCount(), "one identity counted as two electors").to.equal(before + 1n);
    expect(await f.election.nominations(1n, nominee), "one identity nominated twice").to.equal(1n);
  });
});
