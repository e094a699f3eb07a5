/**
 * Red team h15-red2, finding R5 (fixed): one passport, two issuing-state spellings, two nullifiers.
 *
 * `canonicalIdentity` took the issuing state as "1 to 3 letters", maps Germany's ISO 3166-1
 * alpha-3 `DEU` to its MRZ code `D`, and keeps every other code as written. No ICAO 9303 MRZ
 * carries a two-letter state (the field is three characters; Germany's is `D<<`), but the ISO
 * alpha-2 code of every state is accepted as a state of its own: `passport:US:…` and
 * `passport:USA:…` (or `DE` and `D`, `FR` and `FRA`) are two canonical forms, two place nullifiers
 * and two election nullifiers for one document: the class of h12-red2 M1b (§1.8), whose fix
 * rests on "a document has exactly one accepted string". An authority that reads "United States"
 * on the data page, or knows US for USA, accepts either spelling as M1b's authority accepted
 * `X-1234567`.
 *
 * Secure behaviour: each pair is one identity, or the spelling no MRZ has is refused. Fixed: the
 * state must be 3 letters or "D"; and a '<' inside the number (the MRZ's "X1234567<3", number and
 * check digit) is refused rather than dropped.
 */
import { expect } from "chai";
import { canonicalIdentity, electorNullifier } from "../../offchain/mssa/registration";

const KEY = new Uint8Array(32).fill(7);

/** The canonical form, or "refused" when the spelling is refused. */
function form(s: string): string {
  try {
    return canonicalIdentity(s);
  } catch {
    return "refused";
  }
}

describe("h15-red2 R5 (fixed): an ISO alpha-2 issuing state is a second spelling of a passport", () => {
  for (const [iso2, mrz] of [
    ["US", "USA"],
    ["DE", "D"],
    ["FR", "FRA"],
  ])
    it(`passport:${iso2}:C01X00T47 is passport:${mrz}:C01X00T47 or refused`, () => {
      const a = form(`passport:${iso2}:C01X00T47`);
      const b = form(`passport:${mrz}:C01X00T47`);
      expect(b, "set-up: the MRZ spelling is accepted").to.not.equal("refused");
      const sameOrRefused =
        a === "refused" ||
        (a === b && electorNullifier(KEY, `passport:${iso2}:C01X00T47`) === electorNullifier(KEY, `passport:${mrz}:C01X00T47`));
      expect(sameOrRefused, `${a} and ${b}: one document, two identities`).to.equal(true);
    });
  it("a filler '<' inside the number is refused; at its end it is dropped", () => {
    expect(form("passport:UTO:X1234567<3")).to.equal("refused");
    expect(form("passport:UTO:X1234567<<")).to.equal("passport:UTO:X1234567");
    expect(form("passport:D<<:C01X00T47")).to.equal("passport:D:C01X00T47");
  });
  for (const state of ["U", "USAA", "X"])
    it(`a state of ${state.length} letter(s) other than D is refused: ${state}`, () => {
      expect(form(`passport:${state}:C01X00T47`)).to.equal("refused");
    });
});
