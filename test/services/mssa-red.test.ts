/**
 * Red team (h9-red) against the MSSA place authorities as deployed (the same code as
 * `mssa:serve authority`), two authorities of one place with k = 2: attacks on the wire of key
 * issue, key release, verification and proposal that are refused. The approval flow's attacks
 * (a malicious verifier, replayed approvals, front-run proposals) are in mssa-verifier.test.ts;
 * and one that got through, now fixed (F5, session squatting).
 */
import { expect } from "chai";
import path from "path";
import hre from "hardhat";
import { Wallet } from "ethers";
import { Keystore } from "../../offchain/storage/keystore";
import { placeId } from "../../offchain/mssa/registration";
import { authorityRecord, scopedSession } from "../../offchain/services/mssa/authority-service";
import { registerRemote } from "../../offchain/services/mssa/clients";
import {
  decodeKeyRequest,
  encodeKeyRequest,
  encodeApproveRequest,
  encodeProposeRequest,
  encodeReleaseRequest,
  encodeVerifyRequest,
  openKey,
} from "../../offchain/services/mssa/wire";
import { Route, openEnvelope } from "../../offchain/services/envelope";
import { postEnvelope } from "../../offchain/services/client";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { Bits } from "../../offchain/mssa/bits";
import { consentToRegistration } from "../../offchain/mssa/ledger";
import { tmp } from "../helpers/rsms-services";
import { anySet, startPlace, type MssaPlace } from "../helpers/mssa-services";
import { relay } from "../helpers/relay";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const session32 = () => Wallet.createRandom().privateKey;
const fail = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
  );

describe("h9-red: MSSA authority services attacked over their wire (refused)", function () {
  this.timeout(240_000);
  let P: MssaPlace;
  const sessionsOf = (i: number) =>
    Object.keys((P.deps[i].keystore.load(authorityRecord(P.place)) as { agent: { sessions: Record<string, unknown> } }).agent.sessions);

  before(async () => {
    P = await startPlace("PL-red");
  });
  after(async () => P?.stop());

  it("key issue: a request relayed to the other authority, signed by another account than its user, stale, or oversized is refused; nothing is recorded", async () => {
    const u = Wallet.createRandom();
    const mallory = Wallet.createRandom();
    const s = session32();
    const body = encodeKeyRequest({ session: s, user: u.address, bits: 64, transport: mulBase(randomScalar()) });
    const before = [sessionsOf(0).length, sessionsOf(1).length];
    const out = {
      relayed: await fail(postEnvelope(P.urls[1], "/v1/mssa/key", P.req(0, Route.MssaKey, body, u), once)),
      forged: await fail(postEnvelope(P.urls[0], "/v1/mssa/key", P.req(0, Route.MssaKey, body, mallory), once)),
      stale: await fail(
        postEnvelope(P.urls[0], "/v1/mssa/key", P.req(0, Route.MssaKey, body, u, { issuedAt: Date.now() - 3_600_000 }), once),
      ),
      otherRoute: await fail(postEnvelope(P.urls[0], "/v1/mssa/release", P.req(0, Route.MssaKey, body, u), once)),
      oversized: await fail(postEnvelope(P.urls[0], "/v1/mssa/key", new Uint8Array(64 * 1024), once)),
      garbage: await fail(postEnvelope(P.urls[0], "/v1/mssa/key", new Uint8Array(200).fill(7), once)),
    };
    expect(out.relayed).to.match(/^421 WRONG_AUDIENCE/);
    expect(out.forged).to.match(/^401 BAD_SIGNATURE/);
    expect(out.stale).to.match(/STALE/);
    expect(out.otherRoute).to.match(/^400 MALFORMED|WRONG_ROUTE/);
    expect(out.oversized).to.match(/^413/);
    expect(out.garbage).to.match(/^400/);
    expect([sessionsOf(0).length, sessionsOf(1).length]).to.deep.equal(before);
  });

  it("a key request retried, with the same bytes or under a new request id, gets the same key, and nothing is written (h9-fix F9)", async () => {
    const u = Wallet.createRandom();
    const s = session32();
    const t = randomScalar();
    const body = encodeKeyRequest({ session: s, user: u.address, bits: 64, transport: mulBase(t) });
    const env = P.req(0, Route.MssaKey, body, u);
    const before = sessionsOf(0).length;
    const keyOf = (reply: Uint8Array) => openKey("KEY", t, s, P.au[0].address, openEnvelope(reply).body).toString();
    const a = keyOf(await postEnvelope(P.urls[0], "/v1/mssa/key", env, once));
    const b = keyOf(await postEnvelope(P.urls[0], "/v1/mssa/key", env, once));
    const c = keyOf(await postEnvelope(P.urls[0], "/v1/mssa/key", P.req(0, Route.MssaKey, body, u), once));
    expect(a).to.have.length(64);
    expect([b, c]).to.deep.equal([a, a]);
    expect(sessionsOf(0).length).to.equal(before);
  });

  it("key release: asked by the authority itself or by a user is refused; another authority gets a session's key once", async () => {
    const u = Wallet.createRandom();
    const session = session32();
    const s = scopedSession(session, u.address);
    const t = randomScalar();
    const body = encodeReleaseRequest({ session: s, transport: mulBase(t), request: P.userVerify(1, u, session, 32) });
    expect(await fail(postEnvelope(P.urls[0], "/v1/mssa/release", P.req(0, Route.MssaRelease, body, P.au[0]), once))).to.match(
      /^401 BAD_SIGNATURE/,
    );
    expect(
      await fail(postEnvelope(P.urls[0], "/v1/mssa/release", P.req(0, Route.MssaRelease, body, Wallet.createRandom()), once)),
    ).to.match(/^401 BAD_SIGNATURE/);
    // a release carries the user's signed verify request to the requester for that session, and the
    // key is as long as that request needs (2 |En|), whatever the requester wants (h15-red2 R2, R10):
    // anything else is refused and nothing is written
    const before = sessionsOf(0).length;
    const refusals = {
      noRequest: await fail(
        postEnvelope(
          P.urls[0],
          "/v1/mssa/release",
          P.req(0, Route.MssaRelease, new Uint8Array(Buffer.concat([Buffer.from(s.slice(2), "hex"), mulBase(t).toBytes(true)])), P.au[1]),
          once,
        ),
      ),
      toAnother: await fail(
        postEnvelope(
          P.urls[0],
          "/v1/mssa/release",
          P.req(
            0,
            Route.MssaRelease,
            encodeReleaseRequest({ session: s, transport: mulBase(t), request: P.userVerify(0, u, session) }),
            P.au[1],
          ),
          once,
        ),
      ),
      forged: await fail(
        postEnvelope(
          P.urls[0],
          "/v1/mssa/release",
          P.req(
            0,
            Route.MssaRelease,
            encodeReleaseRequest({
              session: s,
              transport: mulBase(t),
              request: P.req(1, Route.MssaVerify, openEnvelope(P.userVerify(1, u, session)).body, Wallet.createRandom()),
            }),
            P.au[1],
          ),
          once,
        ),
      ),
      otherSession: await fail(
        postEnvelope(
          P.urls[0],
          "/v1/mssa/release",
          P.req(
            0,
            Route.MssaRelease,
            encodeReleaseRequest({ session: s, transport: mulBase(t), request: P.userVerify(1, u, session32()) }),
            P.au[1],
          ),
          once,
        ),
      ),
      keyRequest: await fail(
        postEnvelope(
          P.urls[0],
          "/v1/mssa/release",
          P.req(
            0,
            Route.MssaRelease,
            encodeReleaseRequest({
              session: s,
              transport: mulBase(t),
              request: P.req(1, Route.MssaKey, encodeKeyRequest({ session, user: u.address, bits: 8, transport: mulBase(t) }), u),
            }),
            P.au[1],
          ),
          once,
        ),
      ),
    };
    expect(refusals.noRequest).to.match(/^400 MALFORMED/);
    expect(refusals.toAnother).to.match(/^421 WRONG_AUDIENCE/);
    expect(refusals.forged).to.match(/^401 BAD_SIGNATURE/);
    expect(refusals.otherSession).to.match(/^422 unknown-session .*not the scoped session/);
    expect(refusals.keyRequest).to.match(/^400 MALFORMED|WRONG_ROUTE/);
    expect(sessionsOf(0).length).to.equal(before);
    // once per other authority of the place (that does not spend it for the user)
    const reply = await postEnvelope(P.urls[0], "/v1/mssa/release", P.req(0, Route.MssaRelease, body, P.au[1]), once);
    expect(openKey("RELEASE", t, s, P.au[0].address, openEnvelope(reply).body).length).to.equal(64);
    expect(await fail(postEnvelope(P.urls[0], "/v1/mssa/release", P.req(0, Route.MssaRelease, body, P.au[1]), once))).to.match(
      /^422 key-reuse .*already released to/,
    );
  });

  it("after an honest registration: mallory cannot verify or propose in alice's session, and alice's verify replayed under a new request id is refused; one registration on-chain", async () => {
    const alice = new Wallet(Wallet.createRandom().privateKey);
    const r = await registerRemote({
      urls: P.urls,
      place: P.place,
      user: alice,
      infos: ["mail:alice@example.org", "passport:UTO:RED-0001"],
      dep: P.dep,
      keystore: new Keystore(path.join(tmp("alice"), "keystore"), ""),
    });
    expect(r.outcome.granted).to.equal(true);
    const mallory = Wallet.createRandom();
    const n = 64;
    const fake = encodeVerifyRequest(
      {
        session: r.session,
        user: mallory.address,
        En: Bits.random(n),
        U12: Bits.random(n),
        tag: new Uint8Array(32),
        salt: session32(),
        elector: false,
        ...anySet(P.au.map((w) => w.address)),
      },
      ["mail:m@example.org", "passport:UTO:RED-0002"],
      mulBase(randomScalar()),
    );
    expect(await fail(postEnvelope(P.urls[1], "/v1/mssa/verify", P.req(1, Route.MssaVerify, fake, mallory), once))).to.match(
      /^(400 MALFORMED|422 (credential-mismatch|bad-tag))/,
    );
    // alice's key request for her spent session: refused (the key is one-time)
    const key = encodeKeyRequest({ session: r.session, user: alice.address, bits: n, transport: mulBase(randomScalar()) });
    expect(await fail(postEnvelope(P.urls[1], "/v1/mssa/key", P.req(1, Route.MssaKey, key, alice), once))).to.match(
      /^422 key-reuse .*already used/,
    );
    // alice's own session again (a replay under a fresh request id): already verified here
    const again = encodeVerifyRequest(
      {
        session: r.session,
        user: alice.address,
        En: Bits.random(n),
        U12: Bits.random(n),
        tag: new Uint8Array(32),
        salt: session32(),
        elector: false,
        ...anySet(P.au.map((w) => w.address)),
      },
      ["x"],
      mulBase(randomScalar()),
    );
    expect(await fail(postEnvelope(P.urls[1], "/v1/mssa/verify", P.req(1, Route.MssaVerify, again, alice), once))).to.match(
      /^422 unknown-session .*already verified/,
    );
    // mallory proposes in alice's session with a consent of his own: the envelope must be alice's
    const consent = await consentToRegistration(
      P.dep.ledger,
      mallory,
      placeId(P.place),
      r.verified.commitment,
      r.verified.nullifier,
      r.session,
    );
    const propose = encodeProposeRequest({ session: r.session, deadline: consent.deadline, signature: consent.signature });
    expect(await fail(postEnvelope(P.urls[0], "/v1/mssa/propose", P.req(0, Route.MssaPropose, propose, mallory), once))).to.match(
      /^(401 BAD_SIGNATURE|422 unknown-session propose: session .* was not verified here)/,
    );
    const [granted] = await P.dep.ledger.access(mallory.address, placeId(P.place));
    expect(granted).to.equal(false);
    expect((await P.dep.ledger.head()).count).to.equal(1n);
  });

  /**
   * F5 (LOW) - session squatting. A registration session id is chosen by the user and each
   * authority keys its one-time key by the session alone. Whoever sees alice's key request to the
   * first authority (an on-path observer without TLS, or that authority itself colluding with any
   * account) asks the second authority for a key in the same session from an account of his own,
   * before alice does: the second authority issues it to him, and refuses alice (key-reuse), so
   * her registration fails; every new session can be squatted the same way. Fixed: an authority
   * keys a session by (session, user) (`scopedSession`), so mallory's key is another session's.
   */
  it("F5: a key request from another account in alice's session, sent first to the second authority, does not stop her registration", async () => {
    const mallory = Wallet.createRandom();
    let squatted = "";
    const onPath = await relay(P.urls[0], async (p, body) => {
      if (p !== "/v1/mssa/key" || squatted) return;
      const m = decodeKeyRequest(openEnvelope(body).body);
      squatted = m.session;
      const mine = encodeKeyRequest({ session: m.session, user: mallory.address, bits: m.bits, transport: mulBase(randomScalar()) });
      await postEnvelope(P.urls[1], "/v1/mssa/key", P.req(1, Route.MssaKey, mine, mallory), {
        attempts: 1,
        timeoutMs: 30_000,
        backoffMs: 10,
      });
    });
    try {
      const alice = new Wallet(Wallet.createRandom().privateKey);
      const outcome = await registerRemote({
        urls: [onPath.url, P.urls[1]],
        place: P.place,
        user: alice,
        infos: ["mail:alice@example.org", "passport:UTO:SQUAT-1"],
        dep: P.dep,
        keystore: new Keystore(path.join(tmp("alice-f"), "keystore"), ""),
        retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
      }).then(
        (r) => (r.outcome.granted ? "granted" : "pending"),
        (e: Error) => e.message.split("\n")[0],
      );
      expect(squatted).to.match(/^0x[0-9a-f]{64}$/);
      expect(outcome).to.equal("granted");
    } finally {
      onPath.close();
    }
  });

  it("a registered user registering again at the place with other documents is refused as her fault (422, not a 500 the client retries); nothing new on-chain", async () => {
    const bob = new Wallet(Wallet.createRandom().privateKey);
    const reg = (infos: string[], dep = P.dep) =>
      registerRemote({
        urls: P.urls,
        place: P.place,
        user: bob,
        infos,
        dep,
        keystore: new Keystore(path.join(tmp("bob"), "keystore"), ""),
        retry: once,
      });
    expect((await reg(["mail:bob@example.org", "passport:UTO:RED-0100"])).outcome.granted).to.equal(true);
    const head = await P.dep.ledger.head();
    // the client refuses it before sending anything (h11-red R5)
    const again = await reg(["mail:bob@example.org", "passport:UTO:RED-0101"]).then(
      () => "registered again",
      (e: Error) => e.message.split("\n")[0],
    );
    expect(again).to.equal(`registerRemote: ${bob.address} already has access to ${P.place}`);
    // a client that does not check (it reads no access on-chain): the verifier's proposal is refused by the ledger, 422
    const blind = new Proxy(P.dep.ledger, {
      get: (t, k) => (k === "access" ? async () => [false, "0x" + "00".repeat(32)] : Reflect.get(t, k)),
    });
    const unchecked = await reg(["mail:bob@example.org", "passport:UTO:RED-0101"], { ...P.dep, ledger: blind }).then(
      () => "registered again",
      (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
    );
    expect(unchecked).to.match(/^422 /);
    expect(await P.dep.ledger.head()).to.deep.equal(head);
  });
});

describe("h9-fix: a contract's refusal in an MSSA service is the request's fault (422), not retried", function () {
  this.timeout(240_000);

  it("an approval asked after the pending TTL (and the consent deadline): 422 naming the deadline the user signed, sent once by a client that retries 8 times", async () => {
    const snap = (await hre.network.provider.send("evm_snapshot", [])) as string;
    const P = await startPlace("PL-ttl");
    try {
      // the first authority's approval requests to the second are lost: alice's registration stays
      // pending with one approval
      const lossy = await relay(P.urls[1], async (p) => p !== "/v1/mssa/approve");
      P.deps[0].peers!.set(P.au[1].address.toLowerCase(), lossy.url);
      const alice = new Wallet(Wallet.createRandom().privateKey);
      const first = await registerRemote({
        urls: P.urls,
        place: P.place,
        user: alice,
        infos: ["mail:alice@example.org", "passport:UTO:TTL-1"],
        dep: P.dep,
        keystore: new Keystore(path.join(tmp("alice-ttl"), "keystore"), ""),
        retry: once,
      }).then(
        () => "registered",
        (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
      );
      expect(first).to.match(/^502 UPSTREAM_UNAVAILABLE/);
      const verified = (P.deps[1].keystore.load(authorityRecord(P.place)) as { verified: Record<string, { id: string }> }).verified;
      const [[sid, v]] = Object.entries(verified);
      expect(Number((await P.dep.ledger.registration(v.id)).approvals)).to.equal(1);
      await hre.network.provider.send("evm_increaseTime", [Number(await P.dep.ledger.PENDING_TTL()) + 1]);
      await hre.network.provider.send("evm_mine", []);
      let seen = 0;
      const counter = await relay(P.urls[1], async (p) => {
        if (p === "/v1/mssa/approve") seen++;
      });
      try {
        const approve = P.req(1, Route.MssaApprove, encodeApproveRequest({ session: sid, id: v.id }), P.au[0]);
        const out = await fail(postEnvelope(counter.url, "/v1/mssa/approve", approve, { attempts: 8, timeoutMs: 30_000, backoffMs: 10 }));
        // the user's consent deadline (earlier than the pending TTL) runs out first: the service refuses
        // before it sends (s23-rtm F5); still the request's fault (422), asked once
        expect(out).to.match(/^422 \S+ approve: registration 0x[0-9a-f]{64}'s consent runs out at \d+ \(the deadline the user signed\)/);
        expect(seen).to.equal(1);
      } finally {
        counter.close();
      }
      expect(Number((await P.dep.ledger.registration(v.id)).approvals)).to.equal(1);
      lossy.close();
    } finally {
      await P.stop();
      await hre.network.provider.send("evm_revert", [snap]);
    }
  });
});
