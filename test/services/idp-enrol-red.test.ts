/**
 * Red team (h10-red) against one-time enrolment tokens at the IdP (offchain/services/enrolment.ts,
 * POST /v1/mit/issue): "a retry never has a second effect, a lost reply never strands a party".
 *
 * The IdP runs with a 1 s freshness window here, so that its reply cache forgets a request in a
 * few seconds (the default window is 5 minutes and an entry lives twice that).
 */
import { expect } from "chai";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { Keystore } from "../../offchain/storage/keystore";
import { AvatarParty } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { toHex } from "../../offchain/crypto/bytes";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import { type IdpDeployment, type IdpInfo } from "../../offchain/services/avatars/clients";
import { IssueKind, decodeIssueReply, encodeIssueRequest, possessionContext } from "../../offchain/services/avatars/wire";
import { Kind, Route, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import { issueEnrolmentToken, parseEnrolmentToken, tokenSigner } from "../../offchain/services/enrolment";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const WINDOW_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("h10-red: enrolment tokens at the IdP (a lost issuance reply, a token used twice)", function () {
  this.timeout(240_000);
  let svc: IdpService;
  let ks: Keystore;
  let info: IdpInfo;
  let dep: IdpDeployment;

  before(async () => {
    const sys = await idpSystem("idp-enrol-red");
    ks = sys.ks;
    dep = sys.dep;
    ({ svc, info } = await startIdp(sys, { windowMs: WINDOW_MS }));
  });
  after(async () => svc?.stop());

  /** An issuance request exactly as issueRemote builds it (its envelope kept for retries). */
  function issuance(kind: "user" | "proxy", label: string, enrollment?: Uint8Array) {
    const token = issueEnrolmentToken(ks, { service: "idp", kind, identity: label, ttlSec: 600 }).token;
    const party = new AvatarParty(label);
    const requestId = freshId();
    const audience = audienceOf(dep.chainId, String(dep.registry.target), "idp");
    const k = kind === "user" ? IssueKind.user : IssueKind.proxy;
    const body = encodeIssueRequest({
      kind: k,
      pk: party.keys.pk,
      possession: party.possession(possessionContext(k, parseEnrolmentToken(token).id, requestId, audience)),
      label,
      enrollment,
      channelKey: info.channelKey,
      requestId,
      tokenId: parseEnrolmentToken(token).id,
    });
    const seal = () =>
      sealEnvelope(
        {
          kind: Kind.Request,
          route: Route.IdpIssue,
          audience,
          session: freshId(),
          requestId,
          issuedAt: Date.now(),
          inReplyTo: new Uint8Array(32),
          body,
        },
        tokenSigner(token, "idp"),
      );
    return { seal, party };
  }
  const post = (env: Uint8Array) =>
    postEnvelope(info.url, "/v1/mit/issue", env, once).then(
      (r) => toHex(decodeIssueReply(openEnvelope(r).body).serial),
      (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
    );
  const minted = async () => (await dep.registry.queryFilter(dep.registry.filters.MitIssued())).length;

  /**
   * A user whose issuance reply is lost (her client crashed, or the network dropped the answer)
   * retries with the very envelope it kept (issueRemote resends the stored bytes), later than
   * twice the freshness window. The IdP had minted her MIT and enrolled her eye; it no longer has
   * the reply and refuses the old envelope as STALE (a 4xx), and issueRemote then deletes the
   * pending keys. Her MIT is on-chain for keys nobody holds, and her eye is enrolled: one person,
   * one MIT, so she can never get another. Refused when the late retry gets her MIT's serial.
   */
  it("a user's issuance retried after the reply cache forgot it gets her MIT (not STALE, which strands her keys and her eye)", async () => {
    const eye = new SimulatedEye(10_001);
    const r = issuance("user", "Late Lucy", eye.capture());
    const env = r.seal();
    const first = await post(env); // the reply is lost on its way back
    expect(first).to.match(/^0x[0-9a-f]{64}$/);
    await sleep(3.5 * WINDOW_MS); // the pruner drops entries older than twice the window
    expect(await post(env)).to.equal(first);
  });

  /**
   * The holder of a proxy token re-signs the same issuance body (same request id, so the sealed
   * label still opens) in a fresh envelope once the reply cache has forgotten the request. The
   * token book admits "the same body again (a retry)" however late, and the IdP mints another
   * proxy MIT for the same key at its own expense (141k gas each): one token, any number of MITs
   * (F12 again, for token holders). Refused when nothing more is minted.
   */
  it("a proxy token's holder cannot mint a second MIT by re-sending the same body in a fresh envelope after the cache forgot it", async () => {
    const r = issuance("proxy", "one-bot operator");
    const first = await post(r.seal());
    expect(first).to.match(/^0x[0-9a-f]{64}$/);
    const before = await minted();
    await sleep(3.5 * WINDOW_MS);
    const again = await post(r.seal());
    expect(await minted()).to.equal(before);
    expect(again === first || /^4\d\d /.test(again), again).to.equal(true);
  });
});
