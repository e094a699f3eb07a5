/**
 * Red team h12-red2 finding M1b (MEDIUM, fixed in session 13; docs/specs/mssa.md §1.8 "Spellings
 * of one document"): one passport, two spellings, two electors.
 *
 * The election nullifier e = HMAC(electionKey, "metatrust MSSA elector" || identity) and the place
 * nullifier were one per *string*: the identity was folded (case, white space, format characters,
 * NFKC) but "passport:X1234567", a Cyrillic "Х" (U+0425, a look-alike NFKC keeps), "X-1234567" and
 * "X.1234567" were four identities. An authority that checks the document out of band reads the same
 * number on the same passport and accepted every spelling: one person registered at PL1 (account A)
 * and at PL2 (account B), each as an elector, and both were enrolled (two ballots); at one place the
 * same spellings gave two place nullifiers (two accounts).
 *
 * Guard: the nullifiers are computed from the document's canonical form (`canonicalIdentity`): for a
 * passport, "passport:<issuing state>:<number>" as the MRZ has them, [A-Z0-9] only. The separators
 * a printed number carries (- . /) and the MRZ filler < are dropped, so those spellings give the same
 * e and the second elector is refused on chain (ElectorNullifierTaken); anything else outside the
 * MRZ alphabet after NFKC (a look-alike letter of another script, other punctuation) is refused by
 * `register` before any key is issued or anything is sent, so nothing reaches the chain.
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
const PASSPORT = "passport:UTO:X1234567";
type F = Awaited<ReturnType<typeof deployMssaFixture>>;
type Account = F["users"][number];

async function twoPlaces() {
  const f = await loadFixture(deployMssaFixture);
  await f.ledger.setPlace(PL2, [f.au1.address, f.au3.address], 2);
  return f;
}

/**
 * Registers `account` at `name` with the one passport line `passport` (off-chain, every authority's
 * agent in this process) and, as an elector unless `elector` is false, proposes it; k approvals.
 */
async function registeredAt(f: F, name: string, account: Account, approvers: Account[], passport: string, agents?: AuthorityAgent[]) {
  const place = placeId(name);
  const out = register({
    place: name,
    user: account.address,
    infos: [`mail:${account.address}@example.org`, passport],
    authorities: agents ?? approvers.map((a) => new AuthorityAgent(a.address)),
    placeKey: KEYS[place],
    electionKey: ELECTION_KEY,
  });
  const e = out.electorNullifier!;
  const session = ethers.id(`session ${out.commitment}`);
  const { signature, deadline } = await consentToRegistration(f.ledger, account, place, out.commitment, out.nullifier!, session, e);
  await f.ledger.connect(approvers[0]).propose(place, account.address, out.commitment, out.nullifier!, e, session, deadline, signature);
  const id = await f.ledger.registrationId(place, account.address, out.commitment);
  return { id, e, nullifier: out.nullifier!, approve: () => f.ledger.connect(approvers[1]).approve(id) };
}

/** What a refused attempt must leave as it was: the election's members, the registrations, the ledger's head. */
async function chainState(f: F) {
  return {
    members: await f.election.memberCount(),
    head: (await f.ledger.head()).map(String),
    block: await ethers.provider.getBlockNumber(),
  };
}

describe("MSSA one elector per person: spellings of one passport number (h12-red2 M1b)", () => {
  it("control: the same number in another case and spacing (what the fold removes) is refused as a second elector", async () => {
    const f = await twoPlaces();
    const [A, B] = [f.users[12], f.users[13]];
    const a = await registeredAt(f, "PL1", A, [f.au1, f.au2], PASSPORT);
    await a.approve();
    await expect(registeredAt(f, "PL2", B, [f.au1, f.au3], "Passport: uto: x 1234567")).to.be.revertedWithCustomError(
      f.election,
      "AuthorityElection__ElectorNullifierTaken",
    );
  });

  for (const [what, spelling] of [
    ["a hyphen after the letter, as printed", "passport:UTO:X-1234567"],
    ["a full stop after the letter", "passport:UTO:X.1234567"],
    ["slashes inside the number", "passport:UTO:X/123/4567"],
    ["the MRZ's '<' fillers after the number and the state", "passport:UTO<:X1234567<<"],
    ["full-width letters and digits (compatibility forms)", "passport:ＵＴＯ:Ｘ１２３４５６７"],
  ] as const)
    it(`one passport, ${PASSPORT} at PL1 (A) and ${what} at PL2 (B): the same e, the second elector is refused`, async () => {
      const f = await twoPlaces();
      const [A, B] = [f.users[12], f.users[13]]; // one person, two accounts
      const before = await f.election.memberCount();
      const a = await registeredAt(f, "PL1", A, [f.au1, f.au2], PASSPORT);
      await a.approve();
      await expect(registeredAt(f, "PL2", B, [f.au1, f.au3], spelling)).to.be.revertedWithCustomError(
        f.election,
        "AuthorityElection__ElectorNullifierTaken",
      );
      expect({ newMembers: (await f.election.memberCount()) - before, B: await f.election.isMember(B.address) }).to.deep.equal({
        newMembers: 1n,
        B: false,
      });
    });

  it("the ISO 3166 spelling of an issuing state the MRZ spells otherwise (DEU for D) is the same passport: refused as a second elector", async () => {
    const f = await twoPlaces();
    const [A, B] = [f.users[12], f.users[13]];
    const a = await registeredAt(f, "PL1", A, [f.au1, f.au2], "passport:D:C01X00T47");
    await a.approve();
    await expect(registeredAt(f, "PL2", B, [f.au1, f.au3], "passport:DEU:C01X00T47")).to.be.revertedWithCustomError(
      f.election,
      "AuthorityElection__ElectorNullifierTaken",
    );
  });

  for (const [what, spelling, why] of [
    ["a Cyrillic Х for the Latin X (U+0425, which NFKC keeps)", "passport:UTO:\u04251234567", /U\+0425/],
    ["a Greek Χ for the Latin X (U+03A7)", "passport:UTO:\u03a71234567", /U\+03A7/],
    ["a Cyrillic Т in the issuing state (U+0422)", "passport:U\u0422O:X1234567", /U\+0422/],
    ["an underscore, which no document number carries", "passport:UTO:X_1234567", /the document number has "_"/],
    ["no issuing state (the number alone is unique only per state)", "passport:X1234567", /no issuing state/],
  ] as const)
    it(`one passport, ${PASSPORT} at PL1 (A) and ${what} at PL2 (B): refused before any key is issued, nothing on chain`, async () => {
      const f = await twoPlaces();
      const [A, B] = [f.users[12], f.users[13]];
      const a = await registeredAt(f, "PL1", A, [f.au1, f.au2], PASSPORT);
      await a.approve();
      const before = await chainState(f);
      const agents = [new AuthorityAgent(f.au1.address), new AuthorityAgent(f.au3.address)];
      const why2 = await registeredAt(f, "PL2", B, [f.au1, f.au3], spelling, agents).then(
        () => "proposed",
        (e: Error) => e.message,
      );
      expect(why2).to.match(/^identity document passport: /);
      expect(why2).to.match(why);
      expect(await chainState(f)).to.deep.equal(before);
      expect(
        agents.map((g) => Object.keys(g.toRecord().sessions).length),
        "keys issued for a refused document",
      ).to.deep.equal([0, 0]);
      expect(await f.election.isMember(B.address)).to.equal(false);
    });

  it("one place: a second account with the same passport in another printed spelling is refused (the same place nullifier)", async () => {
    const f = await twoPlaces();
    const [A, B] = [f.users[12], f.users[13]];
    const a = await registeredAt(f, "PL1", A, [f.au1, f.au2], PASSPORT);
    await a.approve();
    const place = placeId("PL1");
    const out = register({
      place: "PL1",
      user: B.address,
      infos: [`mail:${B.address}@example.org`, "passport:UTO:X-123.4567"],
      authorities: [new AuthorityAgent(f.au1.address), new AuthorityAgent(f.au2.address)],
      placeKey: KEYS[place],
    });
    expect(out.nullifier).to.equal(a.nullifier);
    const session = ethers.id(`session ${out.commitment}`);
    const { signature, deadline } = await consentToRegistration(
      f.ledger,
      B,
      place,
      out.commitment,
      out.nullifier!,
      session,
      ethers.ZeroHash,
    );
    await expect(
      f.ledger.connect(f.au1).propose(place, B.address, out.commitment, out.nullifier!, ethers.ZeroHash, session, deadline, signature),
    ).to.be.revertedWithCustomError(f.ledger, "CredentialLedger__DuplicateIdentity");
    expect((await f.ledger.access(B.address, place))[0]).to.equal(false);
  });
});
