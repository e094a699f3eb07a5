/**
 * Wire formats of the avatar protocols (offchain/avatars/wire.ts): exact sizes, canonical
 * round trips, and decoder fuzzing with fast-check (random bytes, truncations, extensions, byte
 * flips): a decoder either returns a message that re-encodes to the same bytes or throws
 * AvatarProtocolError("MALFORMED"), never anything else.
 */
import { expect } from "chai";
import fc from "fast-check";
import { AvatarParty, AvatarProtocolError, IdentityProvider } from "../../offchain/avatars/agents";
import { evidenceFromJson, evidenceToJson } from "../../offchain/avatars/codec";
import { SimulatedEye } from "../../offchain/avatars/iris";
import {
  AuthFinish,
  AuthReply,
  Evidence,
  Hello,
  authHello,
  buildDelegationResponse,
  buildLoginResponse,
  stampEvidence,
} from "../../offchain/avatars/protocols";
import {
  AVATAR_SIZES,
  AVATAR_WIRE_VERSION,
  AVATAR_MESSAGE_VERSION,
  AvatarMsgType,
  decodeAuthFinish,
  decodeAuthReply,
  decodeDelegationResponse,
  decodeEvidence,
  decodeHello,
  decodeLoginResponse,
  encodeAuthFinish,
  encodeAuthReply,
  encodeDelegationResponse,
  encodeEvidence,
  encodeHello,
  encodeLoginResponse,
} from "../../offchain/avatars/wire";
import { Scope, cpsPSign, cpsPVerify } from "../../offchain/crypto/cps";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";

const id = (s: string) => keccak256(new TextEncoder().encode(s));

/** Honest messages of every type, built without a chain (the IdP issues MITs in memory). */
function samples() {
  const idp = new IdentityProvider();
  const ctx = { idp, now: () => 1_800_000_000, platform: id("platform") };
  const alice = new AvatarParty("alice");
  const ai = new AvatarParty("ai");
  const eye = new SimulatedEye(7);
  const u = idp.issueUser("Alice", alice.keys.pk, alice.possession(), eye.capture());
  alice.mit = u.mit;
  alice.irisCommitment = u.commitment;
  ai.mit = idp.issueProxy("op", ai.keys.pk, ai.possession());
  const now = ctx.now();
  const login = buildLoginResponse(ctx, alice, eye.capture(), id("c1"), id("avatar"), id("vid"), now);
  const delegation = buildDelegationResponse(ctx, alice, eye.capture(), ai, id("c2"), { avatarId: id("avatar") }, now);
  const side = {
    credential: { avatarId: id("avatar"), owner: alice, driver: ai, warrant: delegation.warrant, o: delegation.o },
    driver: ai,
  };
  const hello: Hello = authHello(ctx, side, id("peer")).hello;
  const msg = { type: Scope.challenge, time: now, body: id("transcript") };
  const sig = cpsPSign(ai.keys, delegation.warrant, delegation.o, msg);
  const reply: AuthReply = { hello, time: now, proxySig: sig, confirm: id("confirm") };
  const finish: AuthFinish = { proxySig: sig, confirm: id("confirm-2") };
  const evidence: Evidence = {
    avatarId: id("avatar"),
    ownerSerial: alice.mit.serial,
    ownerPk: alice.keys.pk,
    driverSerial: ai.mit.serial,
    warrant: delegation.warrant,
    o: delegation.o,
    message: msg,
    proxySig: sig,
  };
  const withHandshake: Evidence = {
    ...evidence,
    handshake: { accusedInitiated: true, accusedEphemeral: hello.ephemeral, accusedNonce: hello.nonce, reporter: hello, reporterSig: sig },
  };
  return {
    login,
    delegation,
    hello,
    reply,
    finish,
    evidence,
    stamped: stampEvidence(ctx, evidence),
    withHandshake: stampEvidence(ctx, withHandshake),
  };
}

const S = samples();

type Codec = { name: string; bytes: Uint8Array; decode: (b: Uint8Array) => unknown; encode: (m: never) => Uint8Array };
const codecs: Codec[] = [
  { name: "LoginResponse", bytes: encodeLoginResponse(S.login), decode: decodeLoginResponse, encode: encodeLoginResponse as never },
  {
    name: "DelegationResponse",
    bytes: encodeDelegationResponse(S.delegation),
    decode: decodeDelegationResponse,
    encode: encodeDelegationResponse as never,
  },
  { name: "Hello", bytes: encodeHello(S.hello), decode: decodeHello, encode: encodeHello as never },
  { name: "AuthReply", bytes: encodeAuthReply(S.reply), decode: decodeAuthReply, encode: encodeAuthReply as never },
  { name: "AuthFinish", bytes: encodeAuthFinish(S.finish), decode: decodeAuthFinish, encode: encodeAuthFinish as never },
  { name: "Evidence", bytes: encodeEvidence(S.evidence), decode: decodeEvidence, encode: encodeEvidence as never },
  { name: "Evidence+receipt", bytes: encodeEvidence(S.stamped), decode: decodeEvidence, encode: encodeEvidence as never },
  { name: "Evidence+handshake+receipt", bytes: encodeEvidence(S.withHandshake), decode: decodeEvidence, encode: encodeEvidence as never },
];

/** Runs a decoder: either a canonical message (re-encodes to the input) or a MALFORMED error (OLD_VERSION for an older version byte). */
function decodesCanonicallyOrMalformed(c: Codec, b: Uint8Array): void {
  let m: unknown;
  try {
    m = c.decode(b);
  } catch (e) {
    expect(e, `${c.name}: ${(e as Error).message}`).to.be.instanceOf(AvatarProtocolError);
    // an older version of this very message type is refused by name, anything else as malformed
    const older = b.length > 1 && b[0] === c.bytes[0] && b[1] >= 1 && b[1] < AVATAR_MESSAGE_VERSION[c.bytes[0]];
    expect((e as AvatarProtocolError).reason).to.equal(older ? "OLD_VERSION" : "MALFORMED");
    expect((e as Error).message).to.match(/^decode[A-Za-z]+: /);
    return;
  }
  expect(toHex(c.encode(m as never))).to.equal(toHex(b));
}

describe("avatars/wire (versioned byte encodings of every protocol message)", () => {
  it("has the documented sizes", () => {
    expect(codecs.map((c) => c.bytes.length)).to.deep.equal([
      AVATAR_SIZES.LoginResponse,
      AVATAR_SIZES.DelegationResponse,
      AVATAR_SIZES.Hello,
      AVATAR_SIZES.AuthReply,
      AVATAR_SIZES.AuthFinish,
      2 + 529 + 11 + 32 + 1 + 1,
      2 + 529 + 11 + 32 + 1 + 1 + AVATAR_SIZES.receipt,
      2 + 529 + 11 + 32 + 1 + AVATAR_SIZES.handshake + 1 + AVATAR_SIZES.receipt,
    ]);
    expect(AVATAR_SIZES.handshake).to.equal(724);
    expect([AVATAR_SIZES.LoginResponse, AVATAR_SIZES.DelegationResponse, AVATAR_SIZES.Hello, AVATAR_SIZES.AuthReply]).to.deep.equal([
      880, 912, 612, 700,
    ]);
  });

  it("round-trips every message exactly, and decoded signatures still verify", () => {
    for (const c of codecs) expect(toHex(c.encode(c.decode(c.bytes) as never)), c.name).to.equal(toHex(c.bytes));
    const l = decodeLoginResponse(codecs[0].bytes);
    expect(cpsPVerify(l.warrant.proxy, l.warrant, l.o, l.message, l.proxySig)).to.equal(true);
    const e = decodeEvidence(codecs[6].bytes);
    expect(cpsPVerify(e.ownerPk, e.warrant, e.o, e.message, e.proxySig)).to.equal(true);
    expect(e.receipt).to.deep.equal(S.stamped.receipt);
    expect(decodeEvidence(codecs[5].bytes).receipt).to.equal(undefined);
  });

  it("the JSON evidence files (avatar:auth, avatar:trace) keep the platform receipt, and omit it when there is none", () => {
    const back = evidenceFromJson(JSON.parse(JSON.stringify(evidenceToJson(S.stamped))));
    expect(back.receipt).to.deep.equal(S.stamped.receipt);
    expect(toHex(encodeEvidence(back))).to.equal(toHex(encodeEvidence(S.stamped)));
    const plain = evidenceToJson(S.evidence);
    expect(plain).to.not.have.property("receipt");
    expect(evidenceFromJson(JSON.parse(JSON.stringify(plain))).receipt).to.equal(undefined);
  });

  it("refuses a wrong type, an unknown version, a short header", () => {
    for (const c of codecs) {
      const wrongType = Uint8Array.from(c.bytes);
      wrongType[0] ^= 0x80;
      const wrongVersion = Uint8Array.from(c.bytes);
      wrongVersion[1] = AVATAR_WIRE_VERSION + 1;
      for (const b of [wrongType, wrongVersion, c.bytes.subarray(0, 1), new Uint8Array()]) {
        expect(() => c.decode(b), c.name).to.throw(AvatarProtocolError, /^decode[A-Za-z]+: (wrong type|unsupported version|too short)/);
      }
    }
    expect(() => decodeHello(codecs[0].bytes)).to.throw(/decodeHello: wrong type 0x21 \(expected 0x23\)/);
    expect(AvatarMsgType.Hello).to.equal(0x23);
  });

  it("refuses every truncation and every extension", () => {
    for (const c of codecs) {
      for (let n = 2; n < c.bytes.length; n += 7)
        expect(() => c.decode(c.bytes.subarray(0, n)), `${c.name} cut at ${n}`).to.throw(AvatarProtocolError);
      for (const extra of [Uint8Array.of(0), Uint8Array.of(1, 2, 3)]) {
        const longer = new Uint8Array(c.bytes.length + extra.length);
        longer.set(c.bytes);
        longer.set(extra, c.bytes.length);
        expect(() => c.decode(longer), c.name).to.throw(AvatarProtocolError, /trailing bytes|truncated|receipt flag/);
      }
    }
  });

  it("refuses an empty scope, a validity that ends before it starts, a time above 2^53, a receipt or initiator flag other than 0 or 1, a handshake flag above 2", () => {
    const e = codecs[5];
    const at = (off: number, v: number) => {
      const b = Uint8Array.from(e.bytes);
      b[off] = v;
      return b;
    };
    const warrantAt = 2 + 32 + 32 + 96 + 32; // avatar, owner serial, owner key, driver serial
    const scopeAt = warrantAt + 32 + 96 + 32;
    expect(() => decodeEvidence(at(scopeAt, 0))).to.throw(/decodeEvidence: a warrant with an empty scope/);
    expect(() => decodeEvidence(at(scopeAt + 1, 0xff))).to.throw(/decodeEvidence: a time above 2\^53/);
    expect(() => decodeEvidence(at(scopeAt + 9 + 4, 0))).to.throw(/decodeEvidence: a warrant whose notBefore is after its notAfter/);
    expect(() => decodeEvidence(at(e.bytes.length - 1, 2))).to.throw(/decodeEvidence: receipt flag 2/);
    expect(() => decodeEvidence(at(e.bytes.length - 2, 3))).to.throw(/^decodeEvidence: handshake flag 3 \(expected 0, 1 or 2\)$/);
    // flag 2 (handshake and session part) promises 716 more bytes
    expect(() => decodeEvidence(at(e.bytes.length - 2, 2))).to.throw(/^decodeEvidence: truncated/);
    const h = codecs[7].bytes;
    const initiatedAt = h.length - 1 - AVATAR_SIZES.receipt - AVATAR_SIZES.handshake;
    const hb = Uint8Array.from(h);
    hb[initiatedAt] = 2;
    expect(() => decodeEvidence(hb)).to.throw(/^decodeEvidence: initiator flag 2 \(expected 0 or 1\)$/);
    expect(() => encodeEvidence({ ...S.evidence, avatarId: new Uint8Array(31) })).to.throw(
      AvatarProtocolError,
      /^encodeEvidence: avatar id must be 32 bytes$/,
    );
    expect(() => encodeAuthFinish({ ...S.finish, confirm: new Uint8Array(33) })).to.throw(
      /^encodeAuthFinish: confirmation must be 32 bytes$/,
    );
    expect(() => encodeEvidence({ ...S.evidence, message: { ...S.evidence.message, body: new Uint8Array(0x10000) } })).to.throw(
      /^encodeEvidence: 65536 is not a u16$/,
    );
  });

  it("names the encoder and the field of every fixed-size field it refuses", () => {
    const w = S.delegation.warrant;
    const o = S.delegation.o;
    const short = new Uint8Array(1);
    const cases: [string, () => Uint8Array][] = [
      ["encodeLoginResponse: challenge must be 32 bytes", () => encodeLoginResponse({ ...S.login, challenge: short })],
      ["encodeLoginResponse: sealed sample must be", () => encodeLoginResponse({ ...S.login, sealedSample: short })],
      ["encodeLoginResponse: avatar id must be 32 bytes", () => encodeLoginResponse({ ...S.login, avatarId: short })],
      ["encodeLoginResponse: VID commitment must be 32 bytes", () => encodeLoginResponse({ ...S.login, vidCommitment: short })],
      [
        "encodeLoginResponse: iris commitment must be 32 bytes",
        () => encodeLoginResponse({ ...S.login, warrant: { ...S.login.warrant, irisCommitment: short } }),
      ],
      [
        "encodeLoginResponse: avatar id must be 32 bytes",
        () => encodeLoginResponse({ ...S.login, warrant: { ...S.login.warrant, avatarId: short } }),
      ],
      ["encodeLoginResponse: h must be 32 bytes", () => encodeLoginResponse({ ...S.login, o: { ...S.login.o, h: short } })],
      ["encodeLoginResponse: r must be 32 bytes", () => encodeLoginResponse({ ...S.login, o: { ...S.login.o, r: short } })],
      ["encodeDelegationResponse: challenge must be 32 bytes", () => encodeDelegationResponse({ ...S.delegation, challenge: short })],
      ["encodeDelegationResponse: avatar id must be 32 bytes", () => encodeDelegationResponse({ ...S.delegation, avatarId: short })],
      ["encodeDelegationResponse: owner serial must be 32 bytes", () => encodeDelegationResponse({ ...S.delegation, ownerSerial: short })],
      ["encodeDelegationResponse: proxy serial must be 32 bytes", () => encodeDelegationResponse({ ...S.delegation, proxySerial: short })],
      ["encodeDelegationResponse: sealed sample must be", () => encodeDelegationResponse({ ...S.delegation, sealedSample: short })],
      ["encodeHello: avatar id must be 32 bytes", () => encodeHello({ ...S.hello, avatarId: short })],
      ["encodeHello: owner serial must be 32 bytes", () => encodeHello({ ...S.hello, ownerSerial: short })],
      ["encodeHello: driver serial must be 32 bytes", () => encodeHello({ ...S.hello, driverSerial: short })],
      ["encodeHello: ephemeral key must be", () => encodeHello({ ...S.hello, ephemeral: short })],
      ["encodeHello: nonce must be 32 bytes", () => encodeHello({ ...S.hello, nonce: short })],
      ["encodeAuthReply: confirmation must be 32 bytes", () => encodeAuthReply({ ...S.reply, confirm: short })],
      [
        "encodeAuthReply: owner serial must be 32 bytes",
        () => encodeAuthReply({ ...S.reply, hello: { ...S.reply.hello, ownerSerial: short } }),
      ],
      ["encodeEvidence: owner serial must be 32 bytes", () => encodeEvidence({ ...S.evidence, ownerSerial: short })],
      ["encodeEvidence: driver serial must be 32 bytes", () => encodeEvidence({ ...S.evidence, driverSerial: short })],
      [
        "encodeEvidence: receipt signature must be 64 bytes",
        () => encodeEvidence({ ...S.stamped, receipt: { ...S.stamped.receipt!, sig: short } }),
      ],
    ];
    for (const [msg, f] of cases) expect(f, msg).to.throw(AvatarProtocolError, new RegExp(`^${msg.replace(/[()]/g, "\\$&")}`));
    expect(w.scope).to.be.greaterThan(0);
    expect(o.h).to.have.length(32);
  });

  it("names what it could not decode: a G1 signature, a G2 key, an ephemeral key, and counts the trailing bytes", () => {
    const f = codecs.find((c) => c.name === "AuthFinish")!;
    const badSig = Uint8Array.from(f.bytes);
    badSig.fill(0x11, 2, 2 + 48); // not a compressed G1 point
    expect(() => decodeAuthFinish(badSig)).to.throw(AvatarProtocolError, /^decodeAuthFinish: invalid G1 signature$/);
    const h = codecs.find((c) => c.name === "Hello")!;
    const badKey = Uint8Array.from(h.bytes);
    badKey.fill(0x11, 2 + 32 + 32, 2 + 32 + 32 + 96); // the owner's G2 key
    expect(() => decodeHello(badKey)).to.throw(AvatarProtocolError, /^decodeHello: invalid G2 public key$/);
    // the ephemeral key sits before the 32-byte nonce, the platform and the addressee at the end of a hello
    const eph = h.bytes.length - 3 * 32 - 33;
    const badEph = Uint8Array.from(h.bytes);
    badEph.fill(0x07, eph, eph + 33); // prefix 0x07 is no compressed secp256k1 point
    expect(() => decodeHello(badEph)).to.throw(AvatarProtocolError, /^decodeHello: invalid ephemeral key$/);
    const longer = new Uint8Array(f.bytes.length + 3);
    longer.set(f.bytes);
    expect(() => decodeAuthFinish(longer)).to.throw(AvatarProtocolError, /^decodeAuthFinish: 3 trailing bytes$/);
  });

  it("takes every field at its bounds (scope 1 and 255, a one-instant validity, times 0 and 2^53 - 1, a 65535-byte body) and refuses one past each", () => {
    const w = S.evidence.warrant;
    const m = S.evidence.message;
    const enc = (patch: Partial<Evidence>) => encodeEvidence({ ...S.evidence, ...patch });
    const back = (patch: Partial<Evidence>) => decodeEvidence(enc(patch));
    for (const scope of [1, 255]) expect(back({ warrant: { ...w, scope } }).warrant.scope).to.equal(scope);
    expect(() => enc({ warrant: { ...w, scope: 0 } })).to.throw(AvatarProtocolError, /^encodeEvidence: a warrant with an empty scope$/);
    expect(() => enc({ warrant: { ...w, scope: 256 } })).to.throw(AvatarProtocolError, /^encodeEvidence: 256 is not a u8$/);
    const instant = back({ warrant: { ...w, notBefore: 5, notAfter: 5 } }).warrant;
    expect([instant.notBefore, instant.notAfter]).to.deep.equal([5, 5]);
    expect(() => enc({ warrant: { ...w, notBefore: 6, notAfter: 5 } })).to.throw(
      AvatarProtocolError,
      /^encodeEvidence: a warrant whose notBefore is after its notAfter$/,
    );
    for (const type of [0, 255]) expect(back({ message: { ...m, type } }).message.type).to.equal(type);
    expect(() => enc({ message: { ...m, type: -1 } })).to.throw(AvatarProtocolError, /^encodeEvidence: -1 is not a u8$/);
    const MAX = Number.MAX_SAFE_INTEGER;
    for (const time of [0, MAX]) expect(back({ message: { ...m, time } }).message.time).to.equal(time);
    for (const time of [-1, 2 ** 53])
      expect(() => enc({ message: { ...m, time } })).to.throw(
        AvatarProtocolError,
        new RegExp(`^encodeEvidence: ${time} is not a u64 below 2\\^53$`),
      );
    expect(back({ message: { ...m, body: new Uint8Array(0xffff) } }).message.body).to.have.length(0xffff);
    // on the wire, the time 2^53 - 1 decodes and 2^53 is refused
    const bytes = enc({ message: { ...m, time: MAX } });
    const hex = toHex(bytes);
    const i = hex.indexOf("001fffffffffffff");
    expect(i).to.be.above(0);
    const over = Uint8Array.from(Buffer.from(hex.slice(2, i) + "0020000000000000" + hex.slice(i + 16), "hex"));
    expect(() => decodeEvidence(over)).to.throw(AvatarProtocolError, /^decodeEvidence: a time above 2\^53$/);
    // a bare header is a message cut short, not a short header
    expect(() => decodeEvidence(bytes.subarray(0, 2))).to.throw(AvatarProtocolError, /^decodeEvidence: truncated$/);
  });

  it("fuzz: random bytes behind a valid header decode canonically or throw MALFORMED", () => {
    for (const c of codecs)
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: c.bytes.length + 8 }), (tail) => {
          const b = new Uint8Array(2 + tail.length);
          b.set(c.bytes.subarray(0, 2));
          b.set(tail, 2);
          decodesCanonicallyOrMalformed(c, b);
        }),
        { numRuns: 40, seed: 14 },
      );
  });

  it("fuzz: any byte of a valid message flipped decodes canonically (to a different message) or throws MALFORMED", () => {
    for (const c of codecs)
      fc.assert(
        fc.property(fc.nat({ max: c.bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
          const b = Uint8Array.from(c.bytes);
          b[i] ^= x;
          decodesCanonicallyOrMalformed(c, b);
        }),
        { numRuns: 60, seed: 14 },
      );
  });

  it("fuzz: a valid message with random bytes spliced in anywhere is refused or canonical", () => {
    for (const c of codecs)
      fc.assert(
        fc.property(fc.nat({ max: c.bytes.length }), fc.uint8Array({ minLength: 1, maxLength: 16 }), (i, ins) => {
          const b = new Uint8Array(c.bytes.length + ins.length);
          b.set(c.bytes.subarray(0, i));
          b.set(ins, i);
          b.set(c.bytes.subarray(i), i + ins.length);
          decodesCanonicallyOrMalformed(c, b);
        }),
        { numRuns: 30, seed: 14 },
      );
  });
});
