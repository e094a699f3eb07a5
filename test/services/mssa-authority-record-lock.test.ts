/**
 * s23-fxops finding 1, the MSSA authority's side (the window of rsms:serve msrp, s17-redA F20's
 * shape): `mssa:serve authority` built its AuthorityService, which read (and, for a record from an
 * older build or with stale sessions, wrote) the authority's record before it took its folder lock,
 * and wrote that agent back whole at every change. A second service built on the folder of a running
 * one (a supervisor's restart while the old process still drains) started with the record as it
 * was when it was built: the releases the first recorded since (a session key given to the other
 * authority, once) were undone by its first save, and the key could be released again.
 *
 * Fixed: the constructor only reads; the record is loaded again (made, pruned and saved) once the
 * folder is held (AuthorityService.startLocked -> loadRecord).
 * Bite: without `this.loadRecord()` in startLocked the first service's release is lost.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import { Keystore } from "../../offchain/storage/keystore";
import { AuthorityService, authorityRecord, scopedSession } from "../../offchain/services/mssa/authority-service";
import { encodeReleaseRequest } from "../../offchain/services/mssa/wire";
import { Route } from "../../offchain/services/envelope";
import { postEnvelope } from "../../offchain/services/client";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { startPlace, type MssaPlace } from "../helpers/mssa-services";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("mssa:serve authority: the service reads its record only once it holds its folder (s23-fxops)", function () {
  this.timeout(240_000);
  let P: MssaPlace;
  after(async () => P?.stop());

  it("a second service built while the first serves the folder keeps the releases the first recorded once it starts", async () => {
    P = await startPlace("PL-lock");
    const releasedOnDisk = () =>
      Object.keys(
        (new Keystore(P.deps[0].keystore.dir, "").load(authorityRecord(P.place)) as { released: Record<string, unknown> }).released,
      );
    // the other authority asks authority 0 for a user's session key (written: released to it, once)
    const release = (url: string) => {
      const u = Wallet.createRandom();
      const session = Wallet.createRandom().privateKey;
      const body = encodeReleaseRequest({
        session: scopedSession(session, u.address),
        transport: mulBase(randomScalar()),
        request: P.userVerify(1, u, session, 32),
      });
      return postEnvelope(url, "/v1/mssa/release", P.req(0, Route.MssaRelease, body, P.au[1]), once);
    };
    const before = releasedOnDisk().length;
    // built now, started once the first has stopped
    const second = new AuthorityService({ ...P.deps[0], keystore: new Keystore(P.deps[0].keystore.dir, "") });
    await release(P.urls[0]);
    expect(releasedOnDisk()).to.have.length(before + 1);
    await P.services[0].stop();
    P.services[0] = second;
    const url = (await second.start({ port: 0 })).url;
    await release(url);
    expect(releasedOnDisk(), "the release the first service recorded was undone by the second's save").to.have.length(before + 2);
  });
});
