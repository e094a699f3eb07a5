/**
 * Red team h12-red finding N1 (MEDIUM, fixed): one person, one place, several registrations, by the
 * order of her own genuine documents.
 *
 * MSSA promises one credential per person per place, and through it one elector per person in the
 * authority election (an approved registration enrols its account). The place authority computes
 * the identity nullifier from "the identity document it has just checked": in the service, the
 * *last* line of the documents the user seals to it (AuthorityService.verify:
 * `identityNullifier(placeKey, place, docs[docs.length - 1])`). The user chooses the documents and
 * their order, and each is genuine, so an authority that checks every document out of band still
 * accepts each list. [mail, passport] and [passport, mail] give two nullifiers (of the passport and
 * of the e-mail address); a further e-mail address gives another. Every registration is approved
 * by k sitting authorities and enrols one more account: one person, many electors at one place
 * (not M1's per-place nullifier across places: this is within one place).
 *
 * Fix: the nullifier comes from the place's identity document type, not from a position: a
 * request must carry exactly one document of that type (`identityDocument`, "passport" unless the
 * service is given another `identityType`), else it is refused naming the type before any key is
 * spent, and the nullifier is that document's. This file was
 * mssa-identity-order.findings.test.ts; both cases below failed before the fix (the second and
 * third registrations were granted).
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { startPlace, type MssaPlace } from "../helpers/mssa-services";
import { tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { placeId, RegistrationError } from "../../offchain/mssa/registration";
import { ServiceError } from "../../offchain/services/client";
import { registerRemote } from "../../offchain/services/mssa/clients";

describe("services/mssa: one person's documents in another order are another identity (h12-red N1)", function () {
  this.timeout(180_000);
  let p: MssaPlace;
  before(async () => {
    p = await startPlace("PL-N1");
  });
  after(async () => p.stop());

  const register = (infos: string[]) =>
    registerRemote({
      urls: p.urls,
      place: p.place,
      user: new Wallet(Wallet.createRandom().privateKey),
      infos,
      dep: p.dep,
      keystore: new Keystore(tmp("n1"), ""),
    });

  it("the same passport and e-mail address, in the other order, are refused as an identity the place holds", async () => {
    const first = await register(["mail:u@example.org", "passport:UTO:P1234567"]);
    expect(first.outcome.granted).to.equal(true);
    const second = await register(["passport:UTO:P1234567", "mail:u@example.org"]).then(
      (r) => `granted ${r.verified.id} (access ${r.outcome.granted})`,
      (e: Error) => e.message,
    );
    expect(second, "one person registered twice at one place").to.match(/already holds registration/);
    const head = await p.dep.ledger.head();
    expect(Number(head.count), "approved registrations at the place").to.equal(1);
  });

  it("the same passport after a fresh e-mail address is refused too", async () => {
    const third = await register(["passport:UTO:P1234567", "mail:u+2@example.org"]).then(
      (r) => `granted ${r.verified.id} (access ${r.outcome.granted})`,
      (e: Error) => e.message,
    );
    expect(third, "one person registered again at one place").to.match(/already holds registration/);
    expect((await p.dep.ledger.queryFilter(p.dep.ledger.filters.AccessGranted(undefined, placeId(p.place)))).length).to.equal(1);
  });

  it("a request without the place's identity document, or with two, is refused naming its type; nothing is written", async () => {
    const head = await p.dep.ledger.head();
    for (const infos of [["mail:v@example.org"], ["passport:UTO:P1", "mail:v@example.org", "passport:UTO:P2"]]) {
      const why = await register(infos).then(
        () => "granted",
        (e: Error) => e.message,
      );
      expect(why).to.match(/carry (0|2) "passport:" document\(s\); a registration needs exactly one/);
    }
    expect(await p.dep.ledger.head()).to.deep.equal(head);
  });

  it("a passport not in its canonical form (a look-alike letter, no issuing state) is refused by the user's client before anything is sent (h12-red2 M1b)", async () => {
    const head = await p.dep.ledger.head();
    for (const [passport, why] of [
      ["passport:UTO:\u04251234567", /^identity document passport: U\+0425 \(character 5 after "passport:"\)/],
      ["passport:P1234567", /no issuing state/],
    ] as const) {
      const e = await register(["mail:v@example.org", passport]).then(
        () => undefined,
        (x: Error) => x,
      );
      // the client's own refusal (a RegistrationError), not an authority's 422 (a ServiceError): nothing went out
      expect(e, passport).to.be.instanceOf(RegistrationError);
      expect(e, passport).to.not.be.instanceOf(ServiceError);
      expect(e!.message).to.match(why);
    }
    expect(await p.dep.ledger.head()).to.deep.equal(head);
  });
});
