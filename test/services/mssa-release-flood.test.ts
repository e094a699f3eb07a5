/**
 * Red team h15-red2, finding R10 (fixed): the h9-red F9 class through the release route. A key
 * request writes nothing (h9-fix), but `/v1/mssa/release` derived the key of *any* scoped session
 * a peer authority named, adopted it and marked it released (`releaseKeyTo`), then wrote the sealed
 * record (`commit` -> `save`, scrypt when the keystore has a passphrase); a session released to
 * someone was never pruned (`pruneUnused` keeps sessions with recipients). So one authority of the
 * place grew every other authority's record by one session per request, for ever.
 *
 * Fixed in two parts. A release carries the user's signed verify request to the requester for the
 * session (h15-red2 R2), so a release of a bare invented session is refused before anything is
 * written. That alone bounds nothing, as the red team's proposed fix assumed: a peer signs requests
 * as accounts it makes up. So a session whose key only went to other authorities (not used or
 * burnt here, not verified here) is forgotten two freshness windows after it was first kept, as an
 * unused key request's session is; the carried request must be within that horizon, and a
 * release of a forgotten session derives the same key for the same peer again (nothing new).
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { encodeReleaseRequest } from "../../offchain/services/mssa/wire";
import { AuthorityService, authorityRecord, scopedSession } from "../../offchain/services/mssa/authority-service";
import { Route } from "../../offchain/services/envelope";
import { postEnvelope } from "../../offchain/services/client";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { startPlace, type MssaPlace } from "../helpers/mssa-services";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const WINDOW_MS = 3_000;

describe("h15-red2 R10 (fixed): a peer authority's releases of invented sessions are not kept for ever", function () {
  this.timeout(240_000);
  let P: MssaPlace;
  before(async () => {
    P = await startPlace("PL-h15-flood", { windowMs: WINDOW_MS });
  });
  after(async () => P?.stop());

  const kept = () =>
    Object.keys((P.deps[0].keystore.load(authorityRecord(P.place)) as { agent: { sessions: Record<string, unknown> } }).agent.sessions)
      .length;
  const release = (session: string, request: Uint8Array) =>
    postEnvelope(
      P.urls[0],
      "/v1/mssa/release",
      P.req(0, Route.MssaRelease, encodeReleaseRequest({ session, transport: mulBase(randomScalar()), request }), P.au[1]),
      once,
    ).then(
      () => "released",
      (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
    );

  it("releases of sessions without a user's request are refused and write nothing", async () => {
    const before = kept();
    for (let i = 0; i < 5; i++) {
      const u = Wallet.createRandom();
      const session = Wallet.createRandom().privateKey;
      // the carried request names another session than the release
      const other = await release(scopedSession(session, u.address), P.userVerify(1, u, Wallet.createRandom().privateKey));
      expect(other).to.match(/^422 unknown-session/);
    }
    expect(kept() - before).to.equal(0);
  });

  it("20 releases of sessions of made-up users are forgotten two windows later", async () => {
    const before = kept();
    for (let i = 0; i < 20; i++) {
      const u = Wallet.createRandom();
      const session = Wallet.createRandom().privateKey;
      expect(await release(scopedSession(session, u.address), P.userVerify(1, u, session))).to.equal("released");
    }
    // kept for now: a peer's release within the window is the protocol's
    expect(kept() - before, "set-up: the releases are kept within the window").to.equal(20);
    await new Promise((r) => setTimeout(r, 2 * WINDOW_MS + 500));
    // the next write (here: a restart from the folder) forgets them
    await P.services[0].stop();
    P.services[0] = new AuthorityService(P.deps[0]);
    expect(kept() - before, "sessions kept for releases of sessions no user completed here").to.be.at.most(0);
  });
  it("a retry of a release answered already gets its stored reply after the user's request is too old to release with (session 15's final read)", async () => {
    // at the second authority: the test above restarted the first without its server
    const u = Wallet.createRandom();
    const session = Wallet.createRandom().privateKey;
    const raw = P.req(
      1,
      Route.MssaRelease,
      encodeReleaseRequest({
        session: scopedSession(session, u.address),
        transport: mulBase(randomScalar()),
        request: P.userVerify(0, u, session),
      }),
      P.au[0],
    );
    const first = await postEnvelope(P.urls[1], "/v1/mssa/release", raw, once);
    await new Promise((r) => setTimeout(r, 2 * WINDOW_MS + 500));
    // the reply was lost: the same bytes again get the same reply, not STALE (the key went to this
    // peer once; a refusal would strand the session)
    expect(await postEnvelope(P.urls[1], "/v1/mssa/release", raw, once)).to.deep.equal(first);
  });
});
