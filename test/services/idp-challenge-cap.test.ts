/**
 * `/v1/challenge` answers anyone (a login starts there) and each challenge is a file the IdP keeps
 * until 10 minutes after it expires; the rate limit counts per client address. The store is now
 * bounded (MAX_CHALLENGES, `maxChallenges`): at the cap, unused expired challenges are dropped at
 * once and, if the folder is still full, the request is refused with one line (429
 * QUOTA_EXCEEDED) and nothing is written. A spent challenge is kept (a retry of its login needs it).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { idpSystem } from "../helpers/idp-services";
import { ChallengeQuotaError, ChallengeStore, IdpService } from "../../offchain/services/avatars/idp-service";
import { ChallengePurpose, encodeChallengeRequest } from "../../offchain/services/avatars/wire";
import { Kind, Route, Scheme, audienceOf, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import { AvatarProtocolError } from "../../offchain/avatars/agents";

const files = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).length : 0);

describe("services/avatars: the IdP's challenge store is bounded", function () {
  this.timeout(120_000);

  it("at the cap, unused expired challenges make room; spent ones are kept for their retry; a full store refuses and writes nothing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-challenges-"));
    const store = new ChallengeStore(dir, 2);
    const session = freshId();
    const [a, b, c, d] = [freshId(), freshId(), freshId(), freshId()];
    store.put(a, session, ChallengePurpose.login, 1_000);
    store.put(b, session, ChallengePurpose.login, 1_000);
    expect(() => store.put(c, session, ChallengePurpose.login, 1_000)).to.throw(ChallengeQuotaError, "the IdP keeps 2 challenges");
    expect(files(dir)).to.equal(2);
    store.spend(a, session, ChallengePurpose.login, 1_010, "request-a");
    // both expired: b (never spent) makes room, a (spent) stays for the retry of its request
    store.put(c, session, ChallengePurpose.login, 1_200);
    expect(files(dir)).to.equal(2);
    expect(() => store.check(b, session, ChallengePurpose.login, 1_200, "x")).to.throw(AvatarProtocolError, /unknown, used or expired/);
    store.spend(a, session, ChallengePurpose.login, 1_200, "request-a"); // the retry still passes
    expect(() => store.put(d, session, ChallengePurpose.login, 1_200)).to.throw(ChallengeQuotaError);
    expect(files(dir)).to.equal(2);
  });

  it("over HTTP: the third challenge of a store capped at 2 is refused 429 QUOTA_EXCEEDED in one line; after they expire one is issued again", async () => {
    const s = await idpSystem("idp-cap");
    let clock = 2_000_000_000;
    const dir = path.join(s.dirs.idp, "capped");
    const svc = new IdpService({ ...s.deps, dir, maxChallenges: 2, now: async () => clock });
    const { url } = await svc.start({ port: 0 });
    try {
      const audience = audienceOf(s.dep.chainId, String(s.dep.registry.target), "idp");
      const ask = () =>
        postEnvelope(
          url,
          "/v1/challenge",
          sealEnvelope(
            {
              kind: Kind.Request,
              route: Route.IdpChallenge,
              audience,
              session: freshId(),
              requestId: freshId(),
              issuedAt: Date.now(),
              inReplyTo: new Uint8Array(32),
              body: encodeChallengeRequest(ChallengePurpose.login),
            },
            { scheme: Scheme.None },
          ),
          { attempts: 1, timeoutMs: 30_000, backoffMs: 0 },
        );
      await ask();
      await ask();
      const err = await ask().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(/429 QUOTA_EXCEEDED .*the IdP keeps 2 challenges, the most it may/);
      expect(err?.message.split("\n").length).to.equal(1);
      expect(files(path.join(dir, "challenges"))).to.equal(2);
      clock += 121; // both expired, never spent
      await ask();
      expect(files(path.join(dir, "challenges"))).to.equal(1);
    } finally {
      await svc.stop();
    }
  });
});
