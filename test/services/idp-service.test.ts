/**
 * The IdP service in one process against the in-process chain (fast; the same code as
 * `idp:serve`, whose separate process test/e2e/services.test.ts runs): issuance, login and
 * delegation over HTTP with the IdP's own account and keystore; what crosses the wire (no iris
 * bits, no real identity in the clear); the session binding of challenges; idempotent retries;
 * and recovery from a crash between the on-chain write and the reply (the fault hook throws).
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { idpSystem } from "../helpers/idp-services";
import { Keystore } from "../../offchain/storage/keystore";
import { AvatarParty, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf, buildDelegationResponse, buildLoginResponse, type AvatarCredential } from "../../offchain/avatars/protocols";
import { encodeDelegationResponse, encodeLoginResponse } from "../../offchain/avatars/wire";
import { keccak256 } from "../../offchain/crypto/hash";
import { toBytes, toHex } from "../../offchain/crypto/bytes";
import { issueEnrolmentToken, tokenSigner } from "../../offchain/services/enrolment";
import { fromHex } from "../../offchain/crypto/bytes";
import { IdpService, IDP_RECORD } from "../../offchain/services/avatars/idp-service";
import {
  delegateRemote,
  discoverIdp,
  mutualAuthRemote,
  stampRemote,
  traceRemote,
  idpInfo,
  issueRemote,
  loginRemote,
  type IdpInfo,
} from "../../offchain/services/avatars/clients";
import { ChallengePurpose, decodeChallengeReply, encodeChallengeRequest } from "../../offchain/services/avatars/wire";
import { Kind, Route, Scheme, audienceOf, envelopeHash, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { onFault } from "../../offchain/services/faults";
import { postEnvelope } from "../../offchain/services/client";

/** The id of the avatar `p` calls `n` (names are per owner, avatarIdOf). */
const avatar = (p: AvatarParty, n: string) => avatarIdOf(p.mit!.serial, n);

/** issueRemote with a fresh enrolment token from the IdP operator for the label (unless one is given). */
function issueWithToken(a: Parameters<typeof issueRemote>[0]) {
  const token = a.token ?? issueEnrolmentToken(currentIdpKs!, { service: "idp", kind: a.kind, identity: a.label, ttlSec: 600 }).token;
  return issueRemote({ ...a, token });
}
let currentIdpKs: Keystore | undefined;

describe("services/avatars: the IdP as a service, in-process", function () {
  this.timeout(120_000);
  let s: Awaited<ReturnType<typeof idpSystem>>;
  let svc: IdpService;
  let url: string;
  let info: IdpInfo;
  const eye = { alice: new SimulatedEye(11), bob: new SimulatedEye(12) };
  // what crossed the wire towards the IdP
  const sent: Uint8Array[] = [];
  let delegated: AvatarCredential | undefined;

  before(async () => {
    s = await idpSystem();
    currentIdpKs = s.ks;
    svc = new IdpService(s.deps);
    url = (await svc.start({ port: 0 })).url;
    info = await idpInfo(url, s.dep);
  });

  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await svc?.stop();
  });

  it("announces its endpoint on-chain from its own account; its signed description names an IDP_ROLE account", async () => {
    expect(await discoverIdp(s.dep)).to.equal(url);
    expect((await s.dep.registry.idpEndpoint())[0]).to.equal(s.wallet.address);
    expect(info.account).to.equal(s.wallet.address);
    expect(info.channelKey.equals(svc.idp.channelKey)).to.equal(true);
  });

  it("issues MITs over HTTP: keys drawn by the client, template and real identity sealed; one party, one MIT", async () => {
    const enrollment = eye.alice.capture();
    const a = await issueWithToken({
      idp: info,
      dep: s.dep,
      keystore: s.client,
      name: "alice",
      kind: "user",
      label: "Alice A.",
      enrollment,
    });
    expect(Number((await s.dep.registry.mit(toHex(a.party.mit!.serial))).status)).to.equal(1);
    expect(svc.idp.commitmentOf(a.party.mit!.serial)).to.deep.equal(a.party.irisCommitment);
    // the client's keystore holds the CPS key, the IdP's holds the template; neither holds the other's
    expect(JSON.stringify(s.ks.load(IDP_RECORD))).to.not.include(a.party.keys.sk.toString(16));
    await issueWithToken({ idp: info, dep: s.dep, keystore: s.client, name: "bot", kind: "proxy", label: "ACME AI" });
    await issueWithToken({
      idp: info,
      dep: s.dep,
      keystore: s.client,
      name: "bob",
      kind: "user",
      label: "Bob B.",
      enrollment: eye.bob.capture(),
    });
    // a second MIT for the same name is refused on the client before anything is sent
    await expect(
      issueWithToken({ idp: info, dep: s.dep, keystore: s.client, name: "alice", kind: "user", label: "x", enrollment }),
    ).to.be.rejectedWith(/already holds an MIT/);
  });

  it("one person, one MIT: alice's eye enrolled again under a new name and key is refused (DUPLICATE_IDENTITY, naming no MIT: s24-rta R1); nothing on-chain, in the journal or the IdP's record but the token spent", async () => {
    const alice = (svc.idp.toRecord().users as { realId: string; serial: string; commitment: string }[]).find(
      (u) => u.realId === "Alice A.",
    )!;
    const issued = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.MitIssued())).length;
    const { enrolment: used, ...record } = s.ks.load(IDP_RECORD) as { enrolment?: Record<string, unknown> };
    const n = await issued();
    const again = { idp: info, dep: s.dep, keystore: s.client, name: "alice-fresh", kind: "user" as const, label: "A. Fresh" };
    const refusal = await issueWithToken({ ...again, enrollment: eye.alice.capture() }).then(
      () => "issued",
      (e: Error) => e.message,
    );
    expect(refusal).to.include("this iris is already enrolled for an MIT; one person, one MIT");
    expect(refusal).to.not.include(alice.serial.slice(2));
    expect(refusal).to.not.include(alice.commitment.slice(2));
    expect(await issued()).to.equal(n);
    // the IdP's record is as it was, but for the token the refusal spent (one probe per token)
    const { enrolment: after, ...rest } = s.ks.load(IDP_RECORD) as { enrolment?: Record<string, unknown> };
    expect(JSON.stringify(rest)).to.equal(JSON.stringify(record));
    expect(Object.keys(after ?? {}).length).to.equal(Object.keys(used ?? {}).length + 1);
    expect(fs.existsSync(path.join(s.deps.dir, "journal")) ? fs.readdirSync(path.join(s.deps.dir, "journal")) : []).to.deep.equal([]);
    expect(s.client.exists("avatar-party-alice-fresh-issue")).to.equal(false);
  });

  it("a person whose MIT was revoked gets no fresh one (that would be the whitewash itself): refused, naming no MIT", async () => {
    const eve = new SimulatedEye(13);
    const e = await issueWithToken({
      idp: info,
      dep: s.dep,
      keystore: s.client,
      name: "eve",
      kind: "user",
      label: "Eve E.",
      enrollment: eve.capture(),
    });
    const serial = toHex(e.party.mit!.serial);
    await (await s.deps.registry.revokeMIT(serial)).wait();
    await expect(
      issueWithToken({
        idp: info,
        dep: s.dep,
        keystore: s.client,
        name: "eve-2",
        kind: "user",
        label: "Eve Two",
        enrollment: eve.capture(),
      }),
    ).to.be.rejectedWith("this iris is already enrolled for an MIT"); // naming no MIT (s24-rta R1)
    // a different person is not caught by eve's enrollment
    const f = await issueWithToken({
      idp: info,
      dep: s.dep,
      keystore: s.client,
      name: "frank",
      kind: "user",
      label: "Frank F.",
      enrollment: new SimulatedEye(14).capture(),
    });
    expect(Number((await s.dep.registry.mit(toHex(f.party.mit!.serial))).status)).to.equal(1);
  });

  it("an issuance that fails before its intent (IPFS down) leaves no enrollment behind: the client's retry of the same request gets its MIT, not a refusal as its own duplicate", async () => {
    const put = s.deps.store.putJson.bind(s.deps.store);
    let failures = 1;
    s.deps.store.putJson = (async (v: unknown) => {
      if (failures-- > 0) throw new Error("IPFS down");
      return put(v as Record<string, unknown>);
    }) as typeof s.deps.store.putJson;
    try {
      const g = await issueWithToken({
        idp: info,
        dep: s.dep,
        keystore: s.client,
        name: "gina",
        kind: "user",
        label: "Gina G.",
        enrollment: new SimulatedEye(15).capture(),
        retry: { attempts: 3, timeoutMs: 30_000, backoffMs: 10 },
      });
      expect(failures).to.equal(-1);
      expect(Number((await s.dep.registry.mit(toHex(g.party.mit!.serial))).status)).to.equal(1);
      expect((svc.idp.toRecord().users as { realId: string }[]).filter((u) => u.realId === "Gina G.")).to.have.length(1);
    } finally {
      s.deps.store.putJson = put;
    }
  });

  it("an issuance whose chain write fails after its intent: the client's retry finishes it from the journal (one MIT, the journaled serial), not refused as a duplicate", async () => {
    process.env.METATRUST_FAULT = "idp:before-chain-write";
    onFault((p) => {
      delete process.env.METATRUST_FAULT; // once
      throw new Error(`chain write failed at ${p}`);
    });
    try {
      const issued = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.MitIssued())).length;
      const n = await issued();
      const h = await issueWithToken({
        idp: info,
        dep: s.dep,
        keystore: s.client,
        name: "hugo",
        kind: "user",
        label: "Hugo H.",
        enrollment: new SimulatedEye(16).capture(),
        retry: { attempts: 3, timeoutMs: 30_000, backoffMs: 10 },
      });
      expect(await issued()).to.equal(n + 1);
      const hugo = (svc.idp.toRecord().users as { realId: string; serial: string }[]).filter((u) => u.realId === "Hugo H.");
      expect(hugo.map((u) => u.serial)).to.deep.equal([toHex(h.party.mit!.serial)]);
      expect(fs.readdirSync(path.join(s.deps.dir, "journal"))).to.deep.equal([]);
    } finally {
      delete process.env.METATRUST_FAULT;
      onFault(undefined);
    }
  });

  it("a relay that moves alice's sealed enrollment under its own key gets nothing: the box does not open (422), no MIT on-chain", async () => {
    const { AvatarParty } = await import("../../offchain/avatars/agents");
    const { encodeIssueRequest, decodeIssueRequest, IssueKind, possessionContext } = await import("../../offchain/services/avatars/wire");
    const { encodePk, encodeSig } = await import("../../offchain/crypto/cps");
    const { concat } = await import("../../offchain/crypto/bytes");
    const victim = new AvatarParty("victim");
    const thief = new AvatarParty("thief");
    const audience = audienceOf(s.dep.chainId, String(s.dep.registry.target), "idp");
    const requestId = freshId();
    const body = encodeIssueRequest({
      kind: IssueKind.user,
      pk: victim.keys.pk,
      possession: victim.possession(),
      label: "Victim V.",
      enrollment: new SimulatedEye(99).capture(),
      channelKey: info.channelKey,
      requestId,
    });
    // the thief keeps the sealed enrollment and puts its own key and a valid proof of possession in
    // front, under an enrolment token of its own (so that the box, not the token, is what is tested)
    const own = issueEnrolmentToken(s.ks, { service: "idp", kind: "user", identity: "Thief T.", ttlSec: 600 });
    const swapped = concat(
      fromHex(own.record.id, 16),
      Uint8Array.of(IssueKind.user),
      encodePk(thief.keys.pk),
      encodeSig(thief.possession(possessionContext(IssueKind.user, fromHex(own.record.id, 16), requestId, audience))),
      decodeIssueRequest(body).sealed,
    );
    const env = sealEnvelope(
      {
        kind: Kind.Request,
        route: Route.IdpIssue,
        audience,
        session: freshId(),
        requestId,
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body: swapped,
      },
      tokenSigner(own.token, "idp"),
    );
    const n = (await s.dep.registry.queryFilter(s.dep.registry.filters.MitIssued())).length;
    await expect(postEnvelope(url, "/v1/mit/issue", env)).to.be.rejectedWith(/400 MALFORMED openSealed: the sealed message does not open/);
    expect((await s.dep.registry.queryFilter(s.dep.registry.filters.MitIssued())).length).to.equal(n);
  });

  it("login over HTTP: the IdP records it; the sample crosses the wire sealed; a replay of the request gets the same reply, no second record", async () => {
    const alice = (await import("../../offchain/avatars/agents")).AvatarParty.fromRecord(s.client.load("avatar-party-alice"));
    const r = await loginRemote({
      idp: info,
      dep: s.dep,
      user: alice,
      sample: () => eye.alice.capture(),
      avatarId: avatar(alice, "A"),
      appearance: "a",
    });
    const av = await s.dep.registry.avatar(toHex(avatar(alice, "A")));
    expect(av.warrantHash).to.equal(toHex(r.ack.h));
    expect(av.owner).to.equal(toHex(alice.mit!.serial));
    sent.push(r.request);
    const logins = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.AvatarLoggedIn(toHex(avatar(alice, "A"))))).length;
    const n = await logins();
    const again = await postEnvelope(url, "/v1/login", r.request);
    expect(toHex(again)).to.equal(toHex(r.reply));
    expect(await logins()).to.equal(n);
  });

  it("no enrollment, sample or real identity crosses the wire in the clear", async () => {
    // the body carries the sample only sealed (ECIES): no window of the plaintext capture appears
    const capture = eye.alice.capture();
    const hex = toHex(sent[0]);
    expect(hex).to.not.include(toHex(capture.slice(0, 16)).slice(2));
    expect(Buffer.from(sent[0]).includes(Buffer.from("Alice A."))).to.equal(false);
  });

  it("a response from another session than the challenge's is refused (relayed); nothing recorded", async () => {
    const alice = (await import("../../offchain/avatars/agents")).AvatarParty.fromRecord(s.client.load("avatar-party-alice"));
    const audience = audienceOf(s.dep.chainId, String(s.dep.registry.target), "idp");
    const req = (route: number, body: Uint8Array, session = freshId()) =>
      sealEnvelope(
        { kind: Kind.Request, route, audience, session, requestId: freshId(), issuedAt: Date.now(), inReplyTo: new Uint8Array(32), body },
        { scheme: Scheme.None },
      );
    const c = decodeChallengeReply(
      openEnvelope(await postEnvelope(url, "/v1/challenge", req(Route.IdpChallenge, encodeChallengeRequest(ChallengePurpose.login)))).body,
    );
    const r = buildLoginResponse(
      { idp: info },
      alice,
      eye.alice.capture(),
      c.challenge,
      avatar(alice, "A"),
      keccak256(toBytes("VID:x")),
      c.time,
    );
    const before = await s.dep.registry.avatar(toHex(avatar(alice, "A")));
    await expect(postEnvelope(url, "/v1/login", req(Route.IdpLogin, encodeLoginResponse(r)))).to.be.rejectedWith(
      /422 STALE_CHALLENGE .*another session/,
    );
    expect((await s.dep.registry.avatar(toHex(avatar(alice, "A")))).warrantHash).to.equal(before.warrantHash);
  });

  it("bob's eye cannot log in as alice: IRIS_MISMATCH, nothing recorded", async () => {
    const alice = (await import("../../offchain/avatars/agents")).AvatarParty.fromRecord(s.client.load("avatar-party-alice"));
    const before = await s.dep.registry.avatar(toHex(avatar(alice, "A")));
    await expect(
      loginRemote({ idp: info, dep: s.dep, user: alice, sample: () => eye.bob.capture(), avatarId: avatar(alice, "A"), appearance: "a" }),
    ).to.be.rejectedWith(/IRIS_MISMATCH/);
    expect((await s.dep.registry.avatar(toHex(avatar(alice, "A")))).warrantHash).to.equal(before.warrantHash);
  });

  /** A request envelope in a session of the caller's choice (the session travels in clear). */
  const rawRequest = (route: number, body: Uint8Array, session: Uint8Array, requestId = freshId()) =>
    sealEnvelope(
      {
        kind: Kind.Request,
        route,
        audience: audienceOf(s.dep.chainId, String(s.dep.registry.target), "idp"),
        session,
        requestId,
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body,
      },
      { scheme: Scheme.None },
    );
  const challengeIn = async (session: Uint8Array, purpose: number) =>
    decodeChallengeReply(
      openEnvelope(await postEnvelope(url, "/v1/challenge", rawRequest(Route.IdpChallenge, encodeChallengeRequest(purpose), session))).body,
    );
  const reason = (p: Promise<unknown>) =>
    p.then(
      () => "accepted",
      (e: Error) => e.message.replace(/^\S+ /, "").split(" ").slice(0, 2).join(" "),
    );

  it("h16-red R2: refused responses naming alice's login challenge in her session (another user's, an altered signature) leave it open: her own response is then recorded, and its retry gets the same reply", async () => {
    const { AvatarParty } = await import("../../offchain/avatars/agents");
    const alice = AvatarParty.fromRecord(s.client.load("avatar-party-alice"));
    const bob = AvatarParty.fromRecord(s.client.load("avatar-party-bob"));
    const session = freshId();
    const c = await challengeIn(session, ChallengePurpose.login); // seen on the wire, with the session
    const vid = keccak256(toBytes("VID:r2"));
    const forged = buildLoginResponse({ idp: info }, bob, eye.bob.capture(), c.challenge, avatar(alice, "A"), vid, c.time);
    expect(await reason(postEnvelope(url, "/v1/login", rawRequest(Route.IdpLogin, encodeLoginResponse(forged), session)))).to.equal(
      "422 NOT_OWNER",
    );
    const genuine = buildLoginResponse({ idp: info }, alice, eye.alice.capture(), c.challenge, avatar(alice, "A"), vid, c.time);
    const altered = { ...genuine, proxySig: genuine.proxySig.double() };
    expect(await reason(postEnvelope(url, "/v1/login", rawRequest(Route.IdpLogin, encodeLoginResponse(altered), session)))).to.equal(
      "422 BAD_SIGNATURE",
    );
    const before = await s.dep.registry.avatar(toHex(avatar(alice, "A")));
    expect(before.warrantHash).to.not.equal(toHex(genuine.o.h));
    const env = rawRequest(Route.IdpLogin, encodeLoginResponse(genuine), session);
    const reply = await postEnvelope(url, "/v1/login", env);
    expect((await s.dep.registry.avatar(toHex(avatar(alice, "A")))).warrantHash).to.equal(toHex(genuine.o.h));
    expect(toHex(await postEnvelope(url, "/v1/login", env))).to.equal(toHex(reply)); // the retry: same reply
    // the same response in another request (another id: a relay's copy) is this login (s23-rth F1):
    // answered with the same acknowledgement, rebound to its bytes, and nothing recorded again
    const logins = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.AvatarLoggedIn(toHex(avatar(alice, "A"))))).length;
    const n = await logins();
    const copy = rawRequest(Route.IdpLogin, encodeLoginResponse(genuine), session);
    const again = openEnvelope(await postEnvelope(url, "/v1/login", copy));
    expect(toHex(again.body)).to.equal(toHex(openEnvelope(reply).body));
    expect(toHex(again.inReplyTo)).to.equal(toHex(envelopeHash(copy)));
    expect(await logins()).to.equal(n);
  });

  it("the IdP crashes between recordLogin and its reply: a restarted IdP finishes from its journal; the client's retry completes, one record", async () => {
    const { AvatarParty } = await import("../../offchain/avatars/agents");
    const bob = AvatarParty.fromRecord(s.client.load("avatar-party-bob"));
    process.env.METATRUST_FAULT = "idp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const retry = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    const failed = await loginRemote({
      idp: info,
      dep: s.dep,
      user: bob,
      sample: () => eye.bob.capture(),
      avatarId: avatar(bob, "B"),
      appearance: "b",
      retry,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failed?.message).to.match(/500 INTERNAL crash at idp:after-chain-write/);
    const journal = path.join(s.deps.dir, "journal");
    expect(fs.readdirSync(journal)).to.have.length(1);
    // on-chain already: exactly the gap the journal covers
    expect((await s.dep.registry.avatar(toHex(avatar(bob, "B")))).owner).to.equal(toHex(bob.mit!.serial));
    const intent = JSON.parse(fs.readFileSync(path.join(journal, fs.readdirSync(journal)[0]), "utf8")) as { data: { request: string } };

    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    await svc.stop();
    svc = new IdpService(s.deps);
    expect((await svc.start({ port: Number(new URL(url).port) })).url).to.equal(url);
    expect(fs.readdirSync(journal)).to.have.length(0);
    const n = (await s.dep.registry.queryFilter(s.dep.registry.filters.AvatarLoggedIn(toHex(avatar(bob, "B"))))).length;
    expect(n).to.equal(1);
    // the client's retry (the same bytes) gets the acknowledgement recovery cached
    const { fromHex } = await import("../../offchain/crypto/bytes");
    const reply = await postEnvelope(url, "/v1/login", fromHex(intent.data.request), { attempts: 3, timeoutMs: 30_000, backoffMs: 10 });
    expect(openEnvelope(reply).inReplyTo).to.deep.equal(keccak256(fromHex(intent.data.request)));
    expect((await s.dep.registry.queryFilter(s.dep.registry.filters.AvatarLoggedIn(toHex(avatar(bob, "B"))))).length).to.equal(1);
  });

  it("s24-fxr (the class of s24-rtr R3): a login under the request id of a pending login (read on the wire) is refused REQUEST_ID_REUSED before anything; that login's intent is kept, and finished", async () => {
    const { AvatarParty } = await import("../../offchain/avatars/agents");
    const alice = AvatarParty.fromRecord(s.client.load("avatar-party-alice"));
    const bob = AvatarParty.fromRecord(s.client.load("avatar-party-bob"));
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    process.env.METATRUST_FAULT = "idp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const failed = await loginRemote({
      idp: info,
      dep: s.dep,
      user: alice,
      sample: () => eye.alice.capture(),
      avatarId: avatar(alice, "A"),
      appearance: "a2",
      retry: once,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    expect(failed?.message).to.match(/crash at idp:after-chain-write/);
    const journal = path.join(s.deps.dir, "journal");
    expect(fs.readdirSync(journal)).to.have.length(1);
    const file = fs.readdirSync(journal)[0];
    const kept = fs.readFileSync(path.join(journal, file), "utf8");
    const rid = fromHex(`0x${file.replace(/^login-/, "").replace(/\.json$/, "")}`, 16);
    // bob logs in to his own avatar under alice's request id
    const session = freshId();
    const c = await challengeIn(session, ChallengePurpose.login);
    const r = buildLoginResponse(
      { idp: info },
      bob,
      eye.bob.capture(),
      c.challenge,
      avatar(bob, "B"),
      keccak256(toBytes("VID:s24")),
      c.time,
    );
    const env = rawRequest(Route.IdpLogin, encodeLoginResponse(r), session, rid);
    const bobLogins = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.AvatarLoggedIn(toHex(avatar(bob, "B"))))).length;
    const n = await bobLogins();
    expect(await reason(postEnvelope(url, "/v1/login", env, once))).to.match(/REQUEST_ID_REUSED/);
    expect(fs.readdirSync(journal), "alice's intent, unchanged").to.deep.equal([file]);
    expect(fs.readFileSync(path.join(journal, file), "utf8")).to.equal(kept);
    expect(await bobLogins(), "nothing recorded for bob").to.equal(n);
    // a restart finishes alice's login from her intent
    await svc.stop();
    svc = new IdpService(s.deps);
    await svc.start({ port: Number(new URL(url).port) });
    expect(fs.readdirSync(journal)).to.have.length(0);
  });

  it("the IdP crashes after its login intent and before sending; the MIT is revoked meanwhile: the restarted IdP drops the intent and starts, nothing on-chain", async () => {
    const fresh = await issueWithToken({
      idp: info,
      dep: s.dep,
      keystore: s.client,
      name: "dora",
      kind: "user",
      label: "Dora D.",
      enrollment: new SimulatedEye(77).capture(),
    });
    process.env.METATRUST_FAULT = "idp:before-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const eyeD = new SimulatedEye(77);
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    await expect(
      loginRemote({
        idp: info,
        dep: s.dep,
        user: fresh.party,
        sample: () => eyeD.capture(),
        avatarId: avatar(fresh.party, "D"),
        appearance: "d",
        retry: once,
      }),
    ).to.be.rejectedWith(/crash at idp:before-chain-write/);
    const journal = path.join(s.deps.dir, "journal");
    expect(fs.readdirSync(journal)).to.have.length(1);
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    await (await s.deps.registry.revokeMIT(toHex(fresh.party.mit!.serial))).wait();
    await svc.stop();
    svc = new IdpService(s.deps);
    await svc.start({ port: Number(new URL(url).port) });
    expect(fs.readdirSync(journal)).to.have.length(0);
    expect((await s.dep.registry.avatar(toHex(avatar(fresh.party, "D")))).owner).to.equal(toHex(new Uint8Array(32)));
  });

  it("the IdP crashes between issueMIT and its reply: after a restart the client's retry (kept in its keystore) gets the MIT, one on-chain", async () => {
    process.env.METATRUST_FAULT = "idp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    const failed = await issueWithToken({
      idp: info,
      dep: s.dep,
      keystore: s.client,
      name: "carol",
      kind: "proxy",
      label: "C",
      retry: once,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failed?.message).to.match(/crash at idp:after-chain-write/);
    expect(s.client.exists("avatar-party-carol-issue")).to.equal(true);
    const issued = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.MitIssued())).length;
    const n = await issued();
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    await svc.stop();
    svc = new IdpService(s.deps);
    await svc.start({ port: Number(new URL(url).port) });
    const r = await issueWithToken({ idp: info, dep: s.dep, keystore: s.client, name: "carol", kind: "proxy", label: "C" });
    expect(r.resumed).to.equal(true);
    expect(await issued()).to.equal(n);
    expect(s.client.exists("avatar-party-carol-issue")).to.equal(false);
  });

  it("delegation over HTTP: the proxy drives alice's avatar; the IdP recorded it from its own account", async () => {
    const { AvatarParty } = await import("../../offchain/avatars/agents");
    const alice = AvatarParty.fromRecord(s.client.load("avatar-party-alice"));
    const bot = AvatarParty.fromRecord(s.client.load("avatar-party-bot"));
    const r = await delegateRemote({
      idp: info,
      dep: s.dep,
      user: alice,
      sample: () => eye.alice.capture(),
      proxy: bot,
      avatarId: avatar(alice, "A"),
    });
    delegated = r.credential;
    const av = await s.dep.registry.avatar(toHex(avatar(alice, "A")));
    expect(av.driverSerial).to.equal(toHex(bot.mit!.serial));
    expect(await s.dep.registry.activeDelegation(toHex(avatar(alice, "A")))).to.equal(r.ack.delegationId);
  });
  it("h16-red R2: refused delegation responses naming the bot's challenge in its session leave it open: the genuine one is recorded, its retry gets the same reply", async () => {
    const { AvatarParty } = await import("../../offchain/avatars/agents");
    const alice = AvatarParty.fromRecord(s.client.load("avatar-party-alice"));
    const bob = AvatarParty.fromRecord(s.client.load("avatar-party-bob"));
    const bot = AvatarParty.fromRecord(s.client.load("avatar-party-bot"));
    const session = freshId();
    const c = await challengeIn(session, ChallengePurpose.delegation);
    const a = { avatarId: avatar(alice, "A") };
    // bob as the owner of alice's avatar (his key, his eye, her serial named)
    const forged = {
      ...buildDelegationResponse({ idp: info }, bob, eye.bob.capture(), bot, c.challenge, a, c.time),
      ownerSerial: alice.mit!.serial,
    };
    const post = (r: typeof forged) =>
      postEnvelope(url, "/v1/delegate", rawRequest(Route.IdpDelegate, encodeDelegationResponse(r), session));
    expect(await reason(post(forged))).to.equal("422 IRIS_MISMATCH");
    const genuine = buildDelegationResponse({ idp: info }, alice, eye.alice.capture(), bot, c.challenge, a, c.time);
    expect(await reason(post({ ...genuine, proxySig: genuine.proxySig.double() }))).to.equal("422 BAD_SIGNATURE");
    const env = rawRequest(Route.IdpDelegate, encodeDelegationResponse(genuine), session);
    const reply = await postEnvelope(url, "/v1/delegate", env);
    expect((await s.dep.registry.avatar(toHex(avatar(alice, "A")))).warrantHash).to.equal(toHex(genuine.o.h));
    expect(toHex(await postEnvelope(url, "/v1/delegate", env))).to.equal(toHex(reply));
    // the same response in another request: this delegation, answered again, nothing recorded again (s23-rth F1)
    const delegations = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.AvatarDelegated())).length;
    const n = await delegations();
    expect(toHex(openEnvelope(await post(genuine)).body)).to.equal(toHex(openEnvelope(reply).body));
    expect(await delegations()).to.equal(n);
    delegated = { avatarId: a.avatarId, owner: alice, driver: bot, warrant: genuine.warrant, o: genuine.o };
  });

  it("s24-fxr's class on the delegate route: a delegation under the request id of a pending delegation (read on the wire) is refused REQUEST_ID_REUSED before anything; that delegation's intent is kept, and finished", async () => {
    const { AvatarParty } = await import("../../offchain/avatars/agents");
    const alice = AvatarParty.fromRecord(s.client.load("avatar-party-alice"));
    const bob = AvatarParty.fromRecord(s.client.load("avatar-party-bob"));
    const bot = AvatarParty.fromRecord(s.client.load("avatar-party-bot"));
    const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    const journal = path.join(s.deps.dir, "journal");
    expect(fs.readdirSync(journal), "precondition: no intent pending").to.have.length(0);
    // alice delegates her avatar A to the bot again; the IdP crashes after its chain write
    const aliceSession = freshId();
    const ca = await challengeIn(aliceSession, ChallengePurpose.delegation);
    const genuine = buildDelegationResponse(
      { idp: info },
      alice,
      eye.alice.capture(),
      bot,
      ca.challenge,
      { avatarId: avatar(alice, "A") },
      ca.time,
    );
    process.env.METATRUST_FAULT = "idp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const failed = await postEnvelope(
      url,
      "/v1/delegate",
      rawRequest(Route.IdpDelegate, encodeDelegationResponse(genuine), aliceSession),
      once,
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    expect(failed?.message).to.match(/crash at idp:after-chain-write/);
    expect(fs.readdirSync(journal)).to.have.length(1);
    const file = fs.readdirSync(journal)[0];
    expect(file).to.match(/^delegate-/);
    const kept = fs.readFileSync(path.join(journal, file), "utf8");
    const rid = fromHex(`0x${file.replace(/^delegate-/, "").replace(/\.json$/, "")}`, 16);
    // bob delegates his own avatar B to the bot under alice's request id
    const session = freshId();
    const c = await challengeIn(session, ChallengePurpose.delegation);
    const r = buildDelegationResponse({ idp: info }, bob, eye.bob.capture(), bot, c.challenge, { avatarId: avatar(bob, "B") }, c.time);
    const env = rawRequest(Route.IdpDelegate, encodeDelegationResponse(r), session, rid);
    const bobs = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.AvatarDelegated(toHex(avatar(bob, "B"))))).length;
    const n = await bobs();
    expect(await reason(postEnvelope(url, "/v1/delegate", env, once))).to.match(/REQUEST_ID_REUSED/);
    expect(fs.readdirSync(journal), "alice's intent, unchanged").to.deep.equal([file]);
    expect(fs.readFileSync(path.join(journal, file), "utf8")).to.equal(kept);
    expect(await bobs(), "nothing recorded for bob").to.equal(n);
    // a restart finishes alice's delegation from her intent
    await svc.stop();
    svc = new IdpService(s.deps);
    await svc.start({ port: Number(new URL(url).port) });
    expect(fs.readdirSync(journal)).to.have.length(0);
    expect((await s.dep.registry.avatar(toHex(avatar(alice, "A")))).warrantHash).to.equal(toHex(genuine.o.h));
    delegated = { avatarId: avatar(alice, "A"), owner: alice, driver: bot, warrant: genuine.warrant, o: genuine.o };
  });

  it("mutual authentication with platform receipts over HTTP, then tracing: the proxy-driven avatar is traced to alice; the reporter sees only the commitment", async () => {
    const { AvatarParty } = await import("../../offchain/avatars/agents");
    const bob = AvatarParty.fromRecord(s.client.load("avatar-party-bob"));
    const bot = AvatarParty.fromRecord(s.client.load("avatar-party-bot"));
    const b = await loginRemote({
      idp: info,
      dep: s.dep,
      user: bob,
      sample: () => eye.bob.capture(),
      avatarId: avatar(bob, "B2"),
      appearance: "b",
    });
    const t = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    const m = await mutualAuthRemote({
      idp: info,
      dep: s.dep,
      A: { credential: delegated!, driver: bot },
      B: { credential: b.credential, driver: bob },
      now: () => t,
    });
    expect(
      svc.idp.checkReceipt((await import("../../offchain/avatars/protocols")).evidenceHash(m.evidenceAboutA), m.evidenceAboutA.receipt!),
    ).to.equal(true);
    const [reporter] = await hre.ethers.getSigners();
    const ack = await traceRemote({ idp: info, dep: s.dep, reporter: s.dep.registry.connect(reporter), evidence: m.evidenceAboutA });
    const alice = AvatarParty.fromRecord(s.client.load("avatar-party-alice"));
    const opening = svc.idp.openVerdict(ack.verdictCommitment);
    expect(opening.uid).to.equal(toHex(keccak256(new Uint8Array([...toBytes("UID"), ...alice.mit!.serial]))));
    // the verdict's salt is in the IdP's keystore: a restarted IdP can still open it
    expect(IdentityProvider.fromRecord(s.ks.load(IDP_RECORD)).openVerdict(ack.verdictCommitment).uid).to.equal(opening.uid);
    // a retry for the closed case is answered from the chain, with the same commitment and no second verdict
    const again = await traceRemote({
      idp: info,
      dep: s.dep,
      reporter: s.dep.registry.connect(reporter),
      evidence: m.evidenceAboutA,
      caseId: ack.caseId,
    });
    expect(toHex(again.verdictCommitment)).to.equal(toHex(ack.verdictCommitment));
    // evidence that is not the case's is refused, and the case stays as it is
    await expect(
      traceRemote({ idp: info, dep: s.dep, reporter: s.dep.registry.connect(reporter), evidence: m.evidenceAboutB, caseId: ack.caseId }),
    ).to.be.rejectedWith(/UNKNOWN_CASE/);
    expect(Number((await s.dep.registry.traceCase(ack.caseId)).status)).to.equal(2);
  });

  it("session 17: the IdP stamps and traces evidence of its own platform's sessions only (another platform's: 422 WRONG_PLATFORM, the case left open); a version-1 evidence is 422 OLD_VERSION", async () => {
    const { AvatarParty } = await import("../../offchain/avatars/agents");
    const p = await import("../../offchain/avatars/protocols");
    const { encodeEvidence } = await import("../../offchain/avatars/wire");
    const bob = AvatarParty.fromRecord(s.client.load("avatar-party-bob"));
    const bot = AvatarParty.fromRecord(s.client.load("avatar-party-bot"));
    const b = await loginRemote({
      idp: info,
      dep: s.dep,
      user: bob,
      sample: () => eye.bob.capture(),
      avatarId: avatar(bob, "B3"),
      appearance: "b",
    });
    const t = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    // the same two avatars, authenticated on another platform P2 (another receipt key on this registry)
    const P2 = { registry: s.dep.registry, now: () => t, idp: new IdentityProvider() };
    const [A, B] = [
      { credential: delegated!, driver: bot },
      { credential: b.credential, driver: bob },
    ];
    const a = p.authHello(P2, A, B.credential.avatarId);
    const r = await p.authRespond(P2, B, a.hello);
    const fin = await p.authFinish(P2, a.state, r.reply);
    const e = (await p.authComplete(P2, r.state, fin.finish)).evidenceAboutPeer;
    expect(await reason(stampRemote({ idp: info, dep: s.dep, evidence: e }))).to.match(/WRONG_PLATFORM/);
    const [reporter] = await hre.ethers.getSigners();
    const stamped = p.stampEvidence(P2, e);
    const { caseId } = await p.requestTrace(s.dep.registry.connect(reporter), stamped);
    await expect(
      traceRemote({ idp: info, dep: s.dep, reporter: s.dep.registry.connect(reporter), evidence: stamped, caseId }),
    ).to.be.rejectedWith(/WRONG_PLATFORM/);
    expect(Number((await s.dep.registry.traceCase(caseId)).status)).to.equal(1); // still open
    const v1 = encodeEvidence(e);
    v1[1] = 1;
    expect(await reason(postEnvelope(url, "/v1/stamp", rawRequest(Route.IdpStamp, v1, freshId())))).to.equal("422 OLD_VERSION");
  });
});
