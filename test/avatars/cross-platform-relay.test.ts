/**
 * A handshake names its platform and the avatar it is addressed to (session 17; finding of h16-fixa
 * after h16-red, closed here, and the misdelivery found by session 17's threat model).
 *
 * Before: handshakeTranscript(a, b) = keccak256("METATRUST-V1-AVATAR-AUTH" ‖ both avatars, ephemeral
 * keys, nonces and warrant hashes) named no platform and no addressee. Two platforms relying on one
 * MIT registry (each with its own IdP and receipt key) accepted the same handshake, so a relay that
 * took alice's hello for bob on platform P1 to bob's service on P2 made alice's messages evidence on
 * P2, stamped by P2, of something she said on P1 (no key learnt: ECDH). And alice's hello named no
 * responder, so a relay that delivered it to carol got alice to finish a session with carol while
 * she meant bob.
 *
 * Now: each hello carries the platform (platformId: the platform's receipt key on the registry)
 * and the avatar it is addressed to, the transcript (tag V2) binds both, the responder refuses a
 * hello for another platform or avatar (WRONG_PLATFORM, WRONG_PEER), the initiator a reply that
 * names another platform or comes from another avatar than the one it addressed, and a platform
 * stamps and traces only evidence of its own sessions (WRONG_PLATFORM, nothing recorded). The
 * messages are version 2 on the wire: a version-1 hello, reply, finish or evidence is refused
 * (OLD_VERSION).
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { AvatarParty, AvatarProtocolError, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarsFixture, reasonOf } from "../helpers/avatar-world";
import {
  ChallengeBook,
  type AvatarContext,
  type Side,
  authComplete,
  authFinish,
  authHello,
  authRespond,
  avatarIdOf,
  interactionEvidence,
  issueUserMit,
  judgeTrace,
  login,
  mutualAuth,
  platformId,
  platformOf,
  requestTrace,
  signInteraction,
  stampEvidence,
} from "../../offchain/avatars/protocols";
import {
  decodeAuthFinish,
  decodeAuthReply,
  decodeEvidence,
  decodeHello,
  decodeLoginResponse,
  encodeAuthFinish,
  encodeAuthReply,
  encodeEvidence,
  encodeHello,
  encodeLoginResponse,
} from "../../offchain/avatars/wire";
import { evidenceFromJson, evidenceToJson } from "../../offchain/avatars/codec";
import { statusOf } from "../../offchain/services/server";
import { toBytes, toHex } from "../../offchain/crypto/bytes";

/** alice, bob and carol logged in; P1 and P2 two platforms (two IdPs, two receipt keys) on one MIT registry. */
async function world() {
  const f = await loadFixture(avatarsFixture);
  const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
  const now = () => Math.floor(Date.now() / 1000) + offset;
  const P1: AvatarContext = { registry: f.registry, idp: new IdentityProvider(), store: f.store, now };
  const P2: AvatarContext = { ...P1, idp: new IdentityProvider() };
  await time.setNextBlockTimestamp(now());
  const [alice, bob, carol] = [new AvatarParty("alice"), new AvatarParty("bob"), new AvatarParty("carol")];
  const eyes = [new SimulatedEye(1701), new SimulatedEye(1702), new SimulatedEye(1703)];
  const server = new ChallengeBook();
  const sides: Side[] = [];
  for (const [i, [p, name]] of (
    [
      [alice, "fox"],
      [bob, "whale"],
      [carol, "owl"],
    ] as const
  ).entries()) {
    await issueUserMit(P1, p, p.name, eyes[i]);
    const l = await login(P1, server, p, eyes[i], { avatarId: avatarIdOf(p.mit!.serial, name), appearance: name });
    sides.push({ credential: l.credential, driver: p });
  }
  const [A, B, C] = sides;
  return { f, P1, P2, A, B, C };
}

describe("avatars: a handshake names its platform and its addressee (cross-platform relay, misdelivery)", () => {
  it("platform ids: the receipt key on the registry; two IdPs on one registry are two platforms", async () => {
    const { f, P1, P2 } = await world();
    expect(toHex(platformOf(P1))).to.equal(toHex(platformId(String(f.registry.target), P1.idp.receiptKey)));
    expect(toHex(platformOf(P1))).to.not.equal(toHex(platformOf(P2)));
    expect(toHex(platformOf({ platform: platformOf(P2) }))).to.equal(toHex(platformOf(P2)));
    expect(() => platformOf({})).to.throw(AvatarProtocolError, /names no platform/);
  });

  it("relay: alice's hello for bob on P1, taken to bob on P2, is refused by bob; readdressed to P2, bob's reply is refused by alice; relabelled back, its signature fails", async () => {
    const { P1, P2, A, B } = await world();
    const a = authHello(P1, A, B.credential.avatarId); // alice, on P1
    // the relay hands it to bob's service on P2 as is: bob refuses it by name, before signing anything
    expect(await reasonOf(authRespond(P2, B, a.hello))).to.equal("WRONG_PLATFORM");
    // the relay rewrites the hello's platform (a hello carries no signature): bob on P2 answers ...
    const b = await authRespond(P2, B, { ...a.hello, platform: platformOf(P2) });
    // ... and alice on P1 refuses the reply, which names P2
    expect(await reasonOf(authFinish(P1, a.state, b.reply))).to.equal("WRONG_PLATFORM");
    // the relay relabels the reply as P1's: bob's signature is on a transcript that names P2
    const relabelled = { ...b.reply, hello: { ...b.reply.hello, platform: platformOf(P1) } };
    expect(await reasonOf(authFinish(P1, a.state, relabelled))).to.equal("BAD_SIGNATURE");
    // the control: the same hello answered by bob on P1 is a session, on both sides
    const honest = await authRespond(P1, B, a.hello);
    const fin = await authFinish(P1, a.state, honest.reply);
    expect(toHex((await authComplete(P1, honest.state, fin.finish)).key)).to.equal(toHex(fin.key));
  });

  it("misdelivery: alice's hello for bob, delivered to carol, is refused by carol; readdressed to carol, carol's reply is refused by alice", async () => {
    const { P1, A, B, C } = await world();
    const a = authHello(P1, A, B.credential.avatarId);
    expect(await reasonOf(authRespond(P1, C, a.hello))).to.equal("WRONG_PEER");
    const c = await authRespond(P1, C, { ...a.hello, peer: C.credential.avatarId });
    // carol's reply is hers, addressed to alice, on P1, with valid signatures: alice meant bob
    expect(await reasonOf(authFinish(P1, a.state, c.reply))).to.equal("WRONG_PEER");
    // the initiator's hello names no one but its peer: not itself
    expect(() => authHello(P1, A, A.credential.avatarId)).to.throw(AvatarProtocolError, /a reflected hello/);
  });

  it("evidence of a P1 session is P1's: P2 neither stamps nor traces it (nothing recorded), P1 traces it; relabelled to P2 it does not verify", async () => {
    const { f, P1, P2, A, B } = await world();
    const s = await mutualAuth(P1, A, B);
    const e = { ...s.evidenceAboutA, receipt: undefined };
    expect(() => stampEvidence(P2, e)).to.throw(AvatarProtocolError, /held on platform .* not on this platform/);
    expect(await reasonOf(Promise.resolve().then(() => stampEvidence(P2, e)))).to.equal("WRONG_PLATFORM");
    // an interaction message alice signs in the session: P2 does not stamp it either
    const hi = signInteraction(A, s.evidenceAboutB, toBytes("hello bob"), P1.now());
    const about = await interactionEvidence(P1, s.evidenceAboutA, hi.message, hi.proxySig);
    expect(await reasonOf(Promise.resolve().then(() => stampEvidence(P2, about)))).to.equal("WRONG_PLATFORM");
    // filed, P2's IdP refuses to judge it and records nothing: the case stays open for P1
    const reporter = f.registry.connect(f.others[7]);
    const stamped = stampEvidence(P1, about);
    const { caseId } = await requestTrace(reporter, stamped);
    expect(await reasonOf(judgeTrace(P2, caseId, stamped))).to.equal("WRONG_PLATFORM");
    expect(Number((await f.registry.traceCase(caseId)).status)).to.equal(1); // Open
    expect((await judgeTrace(P1, caseId, stamped)).realId).to.equal("alice");
    // relabelled to P2 (the platform is under both signatures): P2 judges it and it does not verify
    const relabelled = {
      ...s.evidenceAboutA,
      receipt: undefined,
      handshake: { ...s.evidenceAboutA.handshake!, reporter: { ...s.evidenceAboutA.handshake!.reporter, platform: platformOf(P2) } },
    };
    const other = await requestTrace(reporter, relabelled);
    expect(await reasonOf(judgeTrace(P2, other.caseId, relabelled))).to.equal("BAD_EVIDENCE");
  });

  it("wire version 2: a version-1 hello, reply, finish or evidence is refused (OLD_VERSION, a 422 at a service); login and delegation responses stay version 1", async () => {
    const { P1, A, B } = await world();
    const a = authHello(P1, A, B.credential.avatarId);
    const b = await authRespond(P1, B, a.hello);
    const fin = await authFinish(P1, a.state, b.reply);
    const messages: [string, Uint8Array, (x: Uint8Array) => unknown][] = [
      ["decodeHello", encodeHello(a.hello), decodeHello],
      ["decodeAuthReply", encodeAuthReply(b.reply), decodeAuthReply],
      ["decodeAuthFinish", encodeAuthFinish(fin.finish), decodeAuthFinish],
      ["decodeEvidence", encodeEvidence(fin.evidenceAboutPeer), decodeEvidence],
    ];
    for (const [fn, bytes, decode] of messages) {
      expect(bytes[1], fn).to.equal(2);
      expect(() => decode(bytes), fn).to.not.throw();
      const v1 = Uint8Array.from(bytes);
      v1[1] = 1;
      let err: unknown;
      try {
        decode(v1);
      } catch (e) {
        err = e;
      }
      expect(err, fn).to.be.instanceOf(AvatarProtocolError);
      expect((err as AvatarProtocolError).reason, fn).to.equal("OLD_VERSION");
      expect((err as Error).message, fn).to.match(
        new RegExp(`^${fn}: version 1 of this message is no longer accepted \\(version 2 since session 17`),
      );
      expect(statusOf(err).status, fn).to.equal(422);
    }
    // JSON evidence (avatar:auth's files) is version 2; a version-1 file is refused by name
    const json = evidenceToJson(fin.evidenceAboutPeer);
    expect(json.version).to.equal(2);
    expect(toHex(encodeEvidence(evidenceFromJson(json)))).to.equal(toHex(encodeEvidence(fin.evidenceAboutPeer)));
    expect(() => evidenceFromJson({ ...json, version: 1 })).to.throw(
      AvatarProtocolError,
      /^evidenceFromJson: version 1 evidence is no longer accepted/,
    );
    // login responses (and delegation responses) did not change: version 1, read as before
    const { buildLoginResponse } = await import("../../offchain/avatars/protocols");
    const login1 = encodeLoginResponse(
      buildLoginResponse(P1, A.driver, new Uint8Array(256), new Uint8Array(32), A.credential.avatarId, new Uint8Array(32), P1.now()),
    );
    expect(login1[1]).to.equal(1);
    expect(() => decodeLoginResponse(login1)).to.not.throw();
  });
});
