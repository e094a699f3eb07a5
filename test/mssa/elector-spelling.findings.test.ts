/**
 * Open finding (red team, session 12, h12-red2; docs/specs/mssa.md §1.8 "Spellings of one document"):
 * the election nullifier e = HMAC(electionKey, "metatrust MSSA elector" || normalizeIdentity(doc)) is
 * one per *string*, not one per passport. normalizeIdentity folds case, white space, format characters
 * and NFKC compatibility forms, but not the other ways to write one passport number: a Cyrillic "Х"
 * (U+0425) for the Latin "X" (NFKC keeps it: a confusable, not a compatibility form), or a separator
 * ("X-1234567", "X.1234567") as printed on some documents. An authority that checks the document out of
 * band (docs/specs/mssa.md §2.6: SIMULATED as authentic) reads the same number on the same passport,
 * and the nullifier differs: one person registers at PL1 with "passport:X1234567" (account A) and at
 * PL2 with another spelling (account B), each asking to be an elector, and both approvals enrol her.
 * The same spellings give two place nullifiers at one place too (two accounts at PL1), so the place's
 * one-registration-per-person rule falls with it.
 *
 * Fails while the second approval enrols a second account (one person, two ballots).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture } from "../fixtures/mssa";
import { AuthorityAgent, placeId, register } from "../../offchain/mssa/registration";
import { consentToRegistration } from "../../offchain/mssa/ledger";

const PL2 = placeId("PL2");
const ELECTION_KEY = ethers.getBytes(ethers.id("the deployment's election key"));
const KEYS: Record<string, Uint8Array> = {
  [placeId("PL1")]: ethers.getBytes(ethers.id("PL1's nullifier key")),
  [PL2]: ethers.getBytes(ethers.id("PL2's nullifier key")),
};
type F = Awaited<ReturnType<typeof deployMssaFixture>>;
type Account = F["users"][number];

async function twoPlaces() {
  const f = await loadFixture(deployMssaFixture);
  await f.ledger.setPlace(PL2, [f.au1.address, f.au3.address], 2);
  return f;
}

/** Registers `account` at `name` with the one passport line `passport` and asks to be an elector; k approvals. */
async function electorAt(f: F, name: string, account: Account, approvers: Account[], passport: string) {
  const place = placeId(name);
  const out = register({
    place: name,
    user: account.address,
    infos: [`${account.address}@example.org`, passport],
    authorities: approvers.map((a) => new AuthorityAgent(a.address)),
    placeKey: KEYS[place],
    electionKey: ELECTION_KEY,
  });
  const e = out.electorNullifier!;
  const session = ethers.id(`session ${out.commitment}`);
  const { signature } = await consentToRegistration(f.ledger, account, place, out.commitment, out.nullifier!, session, e);
  await f.ledger.connect(approvers[0]).propose(place, account.address, out.commitment, out.nullifier!, e, session, signature);
  const id = await f.ledger.registrationId(place, account.address, out.commitment);
  return { id, e, approve: () => f.ledger.connect(approvers[1]).approve(id) };
}

describe("MSSA one elector per person: spellings of one passport number (open finding, h12-red2)", () => {
  it("control: the same number in another case and spacing (what normalizeIdentity folds) is refused as a second elector", async () => {
    const f = await twoPlaces();
    const [A, B] = [f.users[12], f.users[13]];
    const a = await electorAt(f, "PL1", A, [f.au1, f.au2], "passport:X1234567");
    await a.approve();
    await expect(electorAt(f, "PL2", B, [f.au1, f.au3], "Passport: x 1234567")).to.be.revertedWithCustomError(
      f.election,
      "AuthorityElection__ElectorNullifierTaken",
    );
  });

  for (const [what, spelling] of [
    ["a Cyrillic Х for the Latin X (U+0425, which NFKC keeps)", "passport:\u04251234567"],
    ["a hyphen after the letter, as printed", "passport:X-1234567"],
    ["a full stop after the letter", "passport:X.1234567"],
  ] as const) {
    it(`one passport, X1234567 at PL1 (A) and ${what} at PL2 (B): the second elector is refused`, async () => {
      const f = await twoPlaces();
      const [A, B] = [f.users[12], f.users[13]]; // one person, two accounts
      const before = await f.election.memberCount();
      const a = await electorAt(f, "PL1", A, [f.au1, f.au2], "passport:X1234567");
      await a.approve();
      let refused = false;
      try {
        const b = await electorAt(f, "PL2", B, [f.au1, f.au3], spelling);
        await b.approve();
      } catch {
        refused = true; // the proposal or the approval reverted (ElectorNullifierTaken)
      }
      const members = await f.election.memberCount();
      expect(
        {
          refused,
          newMembers: members - before,
          bothElectors: (await f.election.isMember(A.address)) && (await f.election.isMember(B.address)),
        },
        `one passport number written two ways made ${members - before} electors`,
      ).to.deep.equal({ refused: true, newMembers: 1n, bothElectors: false });
    });
  }
});
