/**
 * `/v1/challenge` answers anyone (a login starts there) and each challenge is a file the IdP keeps
 * until 10 minutes after it expires; the rate limit counts per client address. The store is now
 * bounded (MAX_CHALLENGES, `maxChallenges`): at the cap, unused expired challenges are dropped at
 * once and, if the folder is still full, the request is refused with one line (429
 * QUOTA_EXCEEDED) and nothing is written. A spent challenge is kept (a retry of its login needs it).
 * The count is in memory, so a full store refuses without reading the folder, and it prunes at most
 * once per second of the IdP's clock; a file that does not parse is pruned (session 16's final read).
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

  it("at the cap, refused requests touch no file: the count is in memory (read once), and the store prunes at most once per second of its clock", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-challenges-"));
    const cap = 50;
    const filler = new ChallengeStore(dir, cap);
    for (let i = 0; i < cap; i++) filler.put(freshId(), freshId(), ChallengePurpose.login, 1_000);
    // a restarted IdP: a new store over the full folder
    const store = new ChallengeStore(dir, cap);
    const calls = { readdir: 0, read: 0 };
    const { readdirSync, readFileSync } = fs;
    const counting = fs as unknown as { readdirSync: (...a: unknown[]) => unknown; readFileSync: (...a: unknown[]) => unknown };
    const inDir = (a: unknown[]) => String(a[0]).startsWith(dir);
    counting.readdirSync = (...a: unknown[]) => ((calls.readdir += inDir(a) ? 1 : 0), (readdirSync as (...a: unknown[]) => unknown)(...a));
    counting.readFileSync = (...a: unknown[]) => ((calls.read += inDir(a) ? 1 : 0), (readFileSync as (...a: unknown[]) => unknown)(...a));
    try {
      for (let i = 0; i < 200; i++)
        expect(() => store.put(freshId(), freshId(), ChallengePurpose.login, 1_050)).to.throw(ChallengeQuotaError);
      // one listing to count, one prune (a listing and 50 reads) at t = 1050; the other 199 refusals read nothing
      expect(calls).to.deep.equal({ readdir: 2, read: cap });
      for (let i = 0; i < 10; i++)
        expect(() => store.put(freshId(), freshId(), ChallengePurpose.login, 1_051)).to.throw(ChallengeQuotaError);
      expect(calls).to.deep.equal({ readdir: 3, read: 2 * cap }); // a new second: one more prune
    } finally {
      Object.assign(fs, { readdirSync, readFileSync });
    }
    expect(files(dir)).to.equal(cap);
    store.put(freshId(), freshId(), ChallengePurpose.login, 1_121); // all expired, never spent: room again
    expect(files(dir)).to.equal(1);
  });

  it("a challenge file that does not parse is pruned, not counted for ever; temporary files do not count and a crash's stale ones are removed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-challenges-"));
    const store = new ChallengeStore(dir, 3);
    store.put(freshId(), freshId(), ChallengePurpose.login, 1_000);
    store.put(freshId(), freshId(), ChallengePurpose.login, 1_000);
    const hex = () => Buffer.from(freshId()).toString("hex");
    const damaged = path.join(dir, `${hex()}.json`);
    const nulled = path.join(dir, `${hex()}.json`);
    fs.writeFileSync(damaged, "{not json");
    fs.writeFileSync(nulled, "null");
    const stale = path.join(dir, `${hex()}.json.abcdef.tmp`);
    const fresh = path.join(dir, `${hex()}.json.123456.tmp`);
    fs.writeFileSync(stale, "{");
    fs.writeFileSync(fresh, "{");
    const old = new Date(Date.now() - 3_600_000);
    fs.utimesSync(stale, old, old);
    // a new store counts 4 challenge files (the temporary ones are not challenges): at the cap, the two
    // that do not parse (nothing can spend them: check refuses them) are pruned, and the put passes
    const fresh2 = new ChallengeStore(dir, 4);
    expect(fresh2.count()).to.equal(4);
    fresh2.put(freshId(), freshId(), ChallengePurpose.login, 1_001);
    expect(fs.existsSync(damaged) || fs.existsSync(nulled)).to.equal(false);
    expect(fs.existsSync(stale)).to.equal(false);
    expect(fs.existsSync(fresh)).to.equal(true);
    expect(fresh2.count()).to.equal(3);
    expect(files(dir)).to.equal(4); // three challenges and the fresh temporary file
    void store;
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
