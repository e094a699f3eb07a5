/**
 * Red team h15-red2, finding R2 (open): one authority of a place spoils every other authority's
 * key of a user's session with one release request naming another length.
 *
 * `/v1/mssa/release` takes the key's length from the requesting peer (`ReleaseRequest.bits`) and
 * keeps the first key it derives for the scoped session (`keyToUse` -> `AuthorityAgent.adopt`),
 * whatever length later requests name. The user's key request does not write the key (h9-fix F9),
 * so a peer authority that learns the (session, user) pair from the user's own key request to it
 * asks the other authorities for a release of that scoped session with bits = 8 before the user's
 * verify reaches them: each of them now keeps an 8-bit key for the session, checks the user's
 * honest request against it, finds S1/S2 not zero, spends the key and refuses (422). The user's
 * session is dead at every authority; each retry is spoiled the same way. One message per honest
 * authority per registration, from one authority, with no on-chain trace.
 *
 * Fixed: a release carries the user's signed verify request to the requester for that session, and
 * the key's length is that request's 2 |En|. The peer has only her key request when it wants to
 * strike, and cannot sign as her: what it sends is refused before anything is derived or written,
 * and her registration is granted. (Before the fix, with the length taken from the requester, the
 * release of an 8-bit key was accepted and her request failed at authority 0: 400, key 0 has 8 bits.)
 */
import { expect } from "chai";
import path from "path";
import { Wallet } from "ethers";
import { Keystore } from "../../offchain/storage/keystore";
import { registerRemote } from "../../offchain/services/mssa/clients";
import { scopedSession } from "../../offchain/services/mssa/authority-service";
import { decodeKeyRequest, encodeReleaseRequest, encodeVerifyRequest } from "../../offchain/services/mssa/wire";
import { Bits } from "../../offchain/mssa/bits";
import { Route, openEnvelope } from "../../offchain/services/envelope";
import { postEnvelope } from "../../offchain/services/client";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { tmp } from "../helpers/rsms-services";
import { anySet, startPlace, type MssaPlace } from "../helpers/mssa-services";
import { relay } from "../helpers/relay";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("h15-red2 R2 (fixed): a peer's release request of another length spoils the user's session at the other authority", function () {
  this.timeout(240_000);
  let P: MssaPlace;
  before(async () => {
    P = await startPlace("PL-h15-poison");
  });
  after(async () => P?.stop());

  it("authority 1, on alice's key request, asks authority 0 to release her scoped session's key at 8 bits: her registration is still granted", async () => {
    const refused: string[] = [];
    // the second authority as seen by alice: it serves her honestly, but on her key request it
    // asks authority 0 for a release of her scoped session at a length of its choice (4 bits of En:
    // an 8-bit key), carrying her key request, or a verify request it signs itself
    const evil = await relay(P.urls[1], async (p, body) => {
      if (p !== "/v1/mssa/key" || refused.length) return;
      const key = openEnvelope(body);
      const m = decodeKeyRequest(key.body);
      const sid = scopedSession(m.session, m.user);
      const own = P.req(
        1,
        Route.MssaVerify,
        encodeVerifyRequest(
          {
            session: m.session,
            user: m.user,
            En: Bits.random(4),
            U12: Bits.random(4),
            tag: new Uint8Array(32),
            salt: sid,
            elector: false,
            ...anySet(P.au.map((w) => w.address)),
          },
          ["x"],
          mulBase(randomScalar()),
        ),
        P.au[1],
      );
      for (const request of [body, own]) {
        const release = encodeReleaseRequest({ session: sid, transport: mulBase(randomScalar()), request });
        refused.push(
          await postEnvelope(P.urls[0], "/v1/mssa/release", P.req(0, Route.MssaRelease, release, P.au[1]), once).then(
            () => "accepted",
            (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
          ),
        );
      }
    });
    try {
      const alice = new Wallet(Wallet.createRandom().privateKey);
      const outcome = await registerRemote({
        urls: [P.urls[0], evil.url],
        place: P.place,
        user: alice,
        infos: ["mail:alice@example.org", "passport:UTO:POISON1"],
        dep: P.dep,
        keystore: new Keystore(path.join(tmp("alice-poison"), "keystore"), ""),
        retry: once,
      }).then(
        (r) => (r.outcome.granted ? "granted" : "pending"),
        (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
      );
      // both poisoning releases were sent and refused: her key request is no verify request, and
      // the other is not signed by her
      expect(refused).to.have.length(2);
      expect(refused[0]).to.match(/^400 MALFORMED|WRONG_ROUTE/);
      expect(refused[1]).to.match(/^401 BAD_SIGNATURE/);
      // secure behaviour: a release of another length neither replaces nor fixes the key the
      // authority checks the user's request with
      expect(outcome).to.equal("granted");
    } finally {
      evil.close();
    }
  });
});
