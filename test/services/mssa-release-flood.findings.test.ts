/**
 * Red team h15-red2, finding R10 (open): the h9-red F9 class through the release route. A key
 * request writes nothing (h9-fix), but `/v1/mssa/release` derives the key of *any* scoped session
 * a peer authority names, adopts it and marks it released (`releaseKeyTo`), then writes the sealed
 * record (`commit` -> `save`, scrypt when the keystore has a passphrase) and a journal entry; a
 * session released to someone is never pruned (`pruneUnused` keeps sessions with recipients). So one
 * authority of the place grows every other authority's record by one session per request, for
 * sessions no user ever opened, for ever.
 *
 * Secure behaviour: a release for a session no user asked this authority about keeps nothing (for
 * example, the release carries the user's signed request for that session, or the authority keeps
 * release state only for sessions a user's key or verify request named).
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { encodeReleaseRequest } from "../../offchain/services/mssa/wire";
import { authorityRecord, scopedSession } from "../../offchain/services/mssa/authority-service";
import { Route } from "../../offchain/services/envelope";
import { postEnvelope } from "../../offchain/services/client";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { startPlace, type MssaPlace } from "../helpers/mssa-services";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("h15-red2 R10 (open): a peer authority's releases of invented sessions are kept for ever", function () {
  this.timeout(240_000);
  let P: MssaPlace;
  before(async () => {
    P = await startPlace("PL-h15-flood");
  });
  after(async () => P?.stop());

  const kept = () =>
    Object.keys((P.deps[0].keystore.load(authorityRecord(P.place)) as { agent: { sessions: Record<string, unknown> } }).agent.sessions)
      .length;

  it("20 releases of sessions no user opened leave nothing in authority 0's record", async () => {
    const before = kept();
    for (let i = 0; i < 20; i++) {
      const sid = scopedSession(Wallet.createRandom().privateKey, Wallet.createRandom().address);
      const body = encodeReleaseRequest({ session: sid, bits: 4096, transport: mulBase(randomScalar()) });
      await postEnvelope(P.urls[0], "/v1/mssa/release", P.req(0, Route.MssaRelease, body, P.au[1]), once).catch(() => undefined);
    }
    // restarting does not forget them either: pruneUnused keeps every session with a recipient
    expect(kept() - before, "sessions kept for releases of sessions no user opened").to.equal(0);
  });
});
