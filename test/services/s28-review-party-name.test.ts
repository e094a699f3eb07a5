/**
 * s28-review F2 (finding, regression since 5e926f70): the keystore now refuses record names ending
 * like a patch or head (`<x>.p<digits>`, `<x>.head`) in create/update/remove/commit (s28-rtk F4),
 * but only the RSMS names (tasks/lib/cli.ts localName) are refused up front. A party name the IdP
 * clients take as given (idp:issue --proxy/--user over the network: issueRemote) is refused only at
 * `create(avatar-party-<name>)`, after the IdP issued the MIT on-chain for the drawn key: the MIT is
 * active, the party is never kept, and every retry resends the kept request and fails the same way.
 * At 5e926f70 "bot.p1" was an ordinary party name.
 *
 * Fixed (s28): the keystore refuses a part's name only for a record kept as a base and patches
 * (Keystore.writable); a party named bot.p1 is a record of its own. Bites: with every part-like name refused, the
 * party is stranded again.
 */
import { expect } from "chai";
import { idpSystem, issueParty, startIdp } from "../helpers/idp-services";
import { partyRecord, pendingIssue } from "../../offchain/services/avatars/clients";

describe("s28-review F2: a party name ending like a keystore part (.p<digits>) over the network", function () {
  this.timeout(120_000);

  it("idp:issue --proxy bot.p1 over HTTP either is refused before anything is sent or keeps the party", async () => {
    const s = await idpSystem("s28-review-f2");
    const { svc, info } = await startIdp(s);
    try {
      let err: unknown;
      try {
        await issueParty(s, info, "bot.p1", "proxy", "operator of bot.p1");
      } catch (e) {
        err = e;
      }
      const issued = (await s.dep.registry.queryFilter(s.dep.registry.filters.MitIssued())).length;
      if (err === undefined) {
        expect(s.client.exists(partyRecord("bot.p1")), "the party kept").to.equal(true);
        return;
      }
      // refused: then nothing may have gone on-chain and nothing may be left pending
      expect({ issued, pending: s.client.exists(pendingIssue("bot.p1")), err: String(err) }).to.deep.equal({
        issued: 0,
        pending: false,
        err: String(err),
      });
    } finally {
      await svc.stop();
    }
  });
});
