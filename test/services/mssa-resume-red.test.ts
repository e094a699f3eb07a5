/**
 * Red team (h11-red) R5, LOW-MEDIUM (a rejected input changed a keystore), fixed: a user already
 * registered at a place who runs `mssa:register` over the network again (another identity
 * document: a renewed passport, a typo) had her granted registration's opening overwritten.
 *
 * `registerRemote` (offchain/services/mssa/clients.ts) resumes a pending registration, but for a
 * granted one (record `pending: false`) it went on to a fresh session: keys from every authority,
 * the documents verified (another document: another nullifier, so the authorities' duplicate check
 * passes), and the new (id, commitment, salt, U12) written over the record before the consent was
 * sent; the ledger then refused the proposal (CredentialLedger__AlreadyRegistered). The refused
 * run left the keystore with an opening that matches nothing on-chain: `mssa:verify` ("the opened
 * credential block does not match the on-chain commitment") fails for good for a user who has
 * access, and she cannot rebuild the lost salt. The in-process path (`mssa:register` without
 * services) refuses an account with access before anything is sent or written; the remote path did
 * not. Breaks the standard "a rejected input changes nothing on-chain or in any keystore" and the
 * MSSA user's ability to open her commitment (Eqs. 5-15: the credential block bound on-chain).
 * Fix (done): `registerRemote` refuses an account that already has access to the place, unless
 * its record is the pending registration that was granted (resumed and marked, as before), before
 * it sends or writes anything. The test fails without the check (the record is overwritten).
 */
import { expect } from "chai";
import path from "path";
import { Wallet } from "ethers";
import { Keystore } from "../../offchain/storage/keystore";
import { placeId } from "../../offchain/mssa/registration";
import { commitment as commitmentOf } from "../../offchain/mssa/credential";
import { Bits } from "../../offchain/mssa/bits";
import { registerRemote, userRecord } from "../../offchain/services/mssa/clients";
import { tmp } from "../helpers/rsms-services";
import { startPlace, type MssaPlace } from "../helpers/mssa-services";

describe("h11-red R5 (fixed): a registered user's second registration over the network", function () {
  this.timeout(300_000);
  let P: MssaPlace;
  before(async () => {
    P = await startPlace("PL-h11");
  });
  after(async () => {
    await P?.stop();
  });

  it("is refused before anything is sent or written: her record still opens the on-chain commitment", async () => {
    const user = new Wallet(Wallet.createRandom().privateKey);
    const ks = new Keystore(path.join(tmp("h11-user"), "keystore"), "");
    const first = await registerRemote({
      urls: P.urls,
      place: P.place,
      user,
      infos: ["mail:h11@example.org", "passport:UTO:P7654321"],
      dep: P.dep,
      keystore: ks,
    });
    expect(first.outcome.granted).to.equal(true);
    const name = userRecord(P.place, user.address);
    const before = ks.load(name);
    const head = await P.dep.ledger.head();
    const again = await registerRemote({
      urls: P.urls,
      place: P.place,
      user,
      infos: ["mail:h11@example.org", "passport:UTO:P7654322"],
      dep: P.dep,
      keystore: ks,
    }).then(
      () => "registered twice",
      (e: Error) => e.message.split("\n")[0],
    );
    expect(again).to.match(/^registerRemote: 0x[0-9a-fA-F]{40} already has access to PL-h11/);
    expect(ks.load(name)).to.deep.equal(before);
    expect(await P.dep.ledger.head()).to.deep.equal(head);
    // what mssa:verify checks: the kept opening opens the granted registration's commitment
    const rec = ks.load(name) as { salt: string; U12: string };
    const [, id] = await P.dep.ledger.access(user.address, placeId(P.place));
    expect(commitmentOf(placeId(P.place), user.address, Bits.fromString(rec.U12), rec.salt)).to.equal(
      (await P.dep.ledger.registration(id)).commitment,
    );
  });
});
