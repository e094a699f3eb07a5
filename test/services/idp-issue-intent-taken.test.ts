/**
 * s24-fxr (the class of s24-rtr R3 in the IdP): a request under another request's id neither takes
 * nor replaces that request's journalled issuance.
 *
 * Threat: the IdP journals an issuance as `issue-<requestId>`, the request id being the client's
 * choice and in the clear on the wire. Alice's MIT is mined, then the IdP's reply is lost (its call
 * throws after the chain write): her intent stays pending, her client keeps the request to resend.
 * Mallory, holding an enrolment token of her own, sends her own issuance under alice's request id.
 * The IdP looked for a pending intent by the id alone: it "finished" alice's intent for mallory,
 * answered mallory with alice's MIT serial, iris commitment and CID, cached that reply under alice's
 * request id and deleted alice's intent. Alice's resend was then refused REQUEST_ID_REUSED (final for
 * a signed request): her MIT on chain, her keys on her machine, never joined up.
 * Severity: medium (a lost reply, then one request of any token holder; the honest user stranded and
 * her MIT's data handed to another).
 *
 * Secure behaviour asserted: mallory's request is refused REQUEST_ID_REUSED, nothing issued for her,
 * alice's intent kept; alice's resend gets her MIT.
 */
import { expect } from "chai";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { AvatarParty } from "../../offchain/avatars/agents";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { issueEnrolmentToken, parseEnrolmentToken, tokenSigner } from "../../offchain/services/enrolment";
import { IssueKind, encodeIssueRequest } from "../../offchain/services/avatars/wire";
import { issueRemote, pendingIssue } from "../../offchain/services/avatars/clients";
import { Kind, Route, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import { onFault } from "../../offchain/services/faults";
import type { Journal } from "../../offchain/services/journal";

describe("s24-fxr: an issuance under another request's id does not take or replace its pending intent", function () {
  this.timeout(120_000);
  let running: Awaited<ReturnType<typeof startIdp>> | undefined;
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await running?.svc.stop();
  });

  it("alice's MIT mined, reply lost; mallory's issuance under alice's request id is refused; alice's resend gets her MIT", async () => {
    const s = await idpSystem();
    running = await startIdp(s);
    const { svc, info } = running;
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    const alice = { idp: info, dep: s.dep, keystore: s.client, name: "alice", kind: "proxy" as const, label: "Alice's bot", retry: once };
    const aliceToken = s.token("proxy", alice.label);
    process.env.METATRUST_FAULT = "idp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const first = await issueRemote({ ...alice, token: aliceToken }).then(
      () => "answered",
      (e: Error) => `lost: ${e.message.split("\n")[0]}`,
    );
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    expect(first, "precondition: alice's reply was lost").to.match(/^lost: .*crash at idp:after-chain-write/);
    const kept = (s.client.load(pendingIssue("alice")) as { envelope: string }).envelope;
    const rid = openEnvelope(fromHex(kept)).requestId;
    const journal = (svc as unknown as { journal: Journal }).journal;
    const intents = () => journal.pending().map((i) => [i.id, i.data.request]);
    expect(intents(), "precondition: alice's issuance is pending").to.deep.equal([[`issue-${toHex(rid).slice(2)}`, kept]]);
    const issued = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.MitIssued())).length;
    const n = await issued();

    // mallory, with a token of her own, sends her issuance under alice's request id (read on the wire)
    const mToken = issueEnrolmentToken(s.ks, { service: "idp", kind: "proxy", identity: "Mallory's bot", ttlSec: 600 }).token;
    const m = new AvatarParty("mallory");
    const body = encodeIssueRequest({
      kind: IssueKind.proxy,
      pk: m.keys.pk,
      possession: m.possession(),
      label: "Mallory's bot",
      channelKey: info.channelKey,
      requestId: rid,
      tokenId: parseEnrolmentToken(mToken).id,
    });
    const env = sealEnvelope(
      {
        kind: Kind.Request,
        route: Route.IdpIssue,
        audience: audienceOf(s.dep.chainId, String(s.dep.registry.target), "idp"),
        session: freshId(),
        requestId: rid,
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body,
      },
      tokenSigner(mToken, "idp"),
    );
    const squat = await postEnvelope(info.url, "/v1/mit/issue", env, once).then(
      () => "answered",
      (e: Error) => `refused: ${e.message.split("\n")[0]}`,
    );
    expect(squat, "mallory's request under alice's id is refused").to.match(/^refused: .*REQUEST_ID_REUSED/);
    expect(intents(), "alice's intent is kept as it was").to.deep.equal([[`issue-${toHex(rid).slice(2)}`, kept]]);
    expect(await issued(), "nothing issued for mallory").to.equal(n);

    const again = await issueRemote({ ...alice, token: aliceToken, retry: undefined });
    expect(again.resumed, "alice's kept request was resent").to.equal(true);
    const mit = await s.dep.registry.mit(toHex(again.party.mit!.serial));
    expect(Number(mit.status), "alice's MIT is active on chain").to.equal(1);
    expect(intents(), "no intent left").to.deep.equal([]);
    expect(await issued(), "one MIT, no second issuance").to.equal(n);
  });
});
