import { expect } from "chai";
import * as m from "../../offchain/rsms/messages";
import { MalformedMessageError } from "../../offchain/rsms/errors";
import { encodePoint, mulBase, randomScalar } from "../../offchain/crypto/group";
import { concat, toHex } from "../../offchain/crypto/bytes";
import { Msrp } from "../../offchain/rsms/msrp";
import { DecryptionError, InvalidPointError } from "../../offchain/errors";
import { AgentStateError } from "../../offchain/rsms/errors";
import { expectThrows } from "../helpers/errors";
import { H2 } from "../../offchain/crypto/hash";

const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));

describe("rsms/messages", () => {
  it("round-trips every message with the documented sizes", () => {
    const c1 = mulBase(randomScalar());
    const jr = { c1, c2: rnd(32), pid: rnd(32) };
    const jrb = m.encodeJoinRequest(jr);
    expect(jrb.length).to.equal(m.SIZES.JoinRequest).and.equal(99);
    const back = m.decodeJoinRequest(jrb);
    expect(back.c1.equals(c1)).to.equal(true);
    expect(Buffer.from(back.c2).equals(Buffer.from(jr.c2))).to.equal(true);
    const rr = m.encodeReauthRequest({ c1, c2: rnd(64), pid: rnd(32), nextPid: rnd(32) });
    expect(rr.length).to.equal(m.SIZES.ReauthRequest).and.equal(163);
    expect(m.decodeReauthRequest(rr).nextPid).to.have.length(32);
    const fw = m.encodeJoinForward({ poolId: 7, sealed: rnd(114), sig: rnd(65) });
    expect(fw.length).to.equal(m.SIZES.JoinForward);
    expect(m.decodeJoinForward(fw).poolId).to.equal(7);
    const rf = m.encodeReauthForward({ poolId: 9, nextPid: rnd(32), sealed: rnd(82), sig: rnd(65) });
    expect(rf.length).to.equal(m.SIZES.ReauthForward);
    expect(m.decodeReauthForward(rf).poolId).to.equal(9);
    expect(m.decodeJoinReply(m.encodeJoinReply({ A: c1 })).A.equals(c1)).to.equal(true);
    expect(m.decodeReauthReply(m.encodeReauthReply({ A: c1 })).A.equals(c1)).to.equal(true);
  });

  it("rejects wrong type, version, length and invalid points", () => {
    const jr = m.encodeJoinRequest({ c1: mulBase(3n), c2: rnd(32), pid: rnd(32) });
    const wrongType = Uint8Array.from(jr);
    wrongType[0] = m.MsgType.ReauthRequest;
    expectThrows(() => m.decodeJoinRequest(wrongType), MalformedMessageError, "MESSAGE_MALFORMED", /wrong type/);
    const wrongVersion = Uint8Array.from(jr);
    wrongVersion[1] = 9;
    expectThrows(() => m.decodeJoinRequest(wrongVersion), MalformedMessageError, "MESSAGE_MALFORMED", /unsupported version 9/);
    expectThrows(() => m.decodeJoinRequest(jr.subarray(0, 98)), MalformedMessageError, "MESSAGE_MALFORMED", /expected 99 bytes/);
    const badPoint = Uint8Array.from(jr);
    badPoint[2] = 0x05;
    expectThrows(() => m.decodeJoinRequest(badPoint), MalformedMessageError, "MESSAGE_MALFORMED", /invalid point/);
    expectThrows(() => m.decodeJoinReply(new Uint8Array(1)), MalformedMessageError, "MESSAGE_MALFORMED", /too short/);
  });

  it("registration: the identity travels sealed to PK_pub and only the MSRP opens it", () => {
    const msrp = Msrp.setup();
    const req = Msrp.registrationRequest(msrp.params.pkPub, m.Role.RPM, 3, "RPM real identity");
    expect(Buffer.from(req).toString()).to.not.contain("RPM real identity");
    const creds = msrp.registerRpm("rpm-3", req);
    expect(creds.poolId).to.equal(3);
    // sk_RPM * P = PK_RPM + H2(PID_RPM) * PK_pub (the paper's key relation)
    expect(mulBase(creds.sk).equals(creds.pkRpm.add(msrp.params.pkPub.multiply(H2(creds.pid))))).to.equal(true);
    expectThrows(
      () => msrp.registerRpm("rpm-3b", Msrp.registrationRequest(msrp.params.pkPub, m.Role.RPM, 3, "x")),
      AgentStateError,
      "AGENT_STATE",
      /already has an RPM/,
    );
    expectThrows(
      () => msrp.registerRn("rn", Msrp.registrationRequest(msrp.params.pkPub, m.Role.RN, 8, "x")),
      AgentStateError,
      "AGENT_STATE",
      /pool 8 has no RPM/,
    );
    expectThrows(() => msrp.registerRn("rn", req), MalformedMessageError, "MESSAGE_MALFORMED", /expected role 2/);
    const other = Msrp.setup();
    expectThrows(
      () => msrp.registerUser("u", Msrp.registrationRequest(other.params.pkPub, m.Role.User, 0, "alice")),
      DecryptionError,
      "DECRYPTION_FAILED",
    );
    const u = msrp.registerUser("alice", Msrp.registrationRequest(msrp.params.pkPub, m.Role.User, 0, "alice"));
    expect(msrp.trace(u.pid)).to.deep.include({ kind: "user", rid: "alice" });
    expect(msrp.userCredentials("alice").sk).to.equal(u.sk);
  });

  it("two registrations of the same identity get unrelated pseudonyms (salted H1)", () => {
    const msrp = Msrp.setup();
    msrp.registerRpm("rpm", Msrp.registrationRequest(msrp.params.pkPub, m.Role.RPM, 1, "r"));
    const a = msrp.registerRn("a", Msrp.registrationRequest(msrp.params.pkPub, m.Role.RN, 1, "same-serial"));
    const b = msrp.registerRn("b", Msrp.registrationRequest(msrp.params.pkPub, m.Role.RN, 1, "same-serial"));
    expect(Buffer.from(a.pid).equals(Buffer.from(b.pid))).to.equal(false);
  });
});

describe("rsms/messages: exact encodings and every decoder check", () => {
  const P = mulBase(5n);
  const malformed = (f: () => unknown, msg: RegExp) => expectThrows(f, MalformedMessageError, "MESSAGE_MALFORMED", msg);

  it("sizes are the documented byte counts (Table III)", () => {
    expect(m.SIZES).to.deep.equal({
      JoinRequest: 99,
      JoinForward: 185,
      JoinReply: 35,
      ReauthRequest: 163,
      ReauthForward: 185,
      ReauthReply: 35,
    });
    expect(m.RSMS_WIRE_VERSION).to.equal(1);
  });

  it("every message is type | version | fields, byte for byte", () => {
    const c2 = rnd(32);
    const pid = rnd(32);
    expect(toHex(m.encodeJoinRequest({ c1: P, c2, pid }))).to.equal(toHex(concat(Uint8Array.of(0x01, 1), encodePoint(P), c2, pid)));
    const sealed = rnd(114);
    const sig = rnd(65);
    expect(toHex(m.encodeJoinForward({ poolId: 0x01020304, sealed, sig }))).to.equal(
      toHex(concat(Uint8Array.of(0x02, 1, 1, 2, 3, 4), sealed, sig)),
    );
    expect(toHex(m.joinForwardSigned({ poolId: 0x01020304, sealed }))).to.equal(toHex(concat(Uint8Array.of(0x02, 1, 1, 2, 3, 4), sealed)));
    expect(toHex(m.encodeJoinReply({ A: P }))).to.equal(toHex(concat(Uint8Array.of(0x03, 1), encodePoint(P))));
    const c2r = rnd(64);
    const next = rnd(32);
    expect(toHex(m.encodeReauthRequest({ c1: P, c2: c2r, pid, nextPid: next }))).to.equal(
      toHex(concat(Uint8Array.of(0x04, 1), encodePoint(P), c2r, pid, next)),
    );
    const sealedR = rnd(82);
    expect(toHex(m.encodeReauthForward({ poolId: 0xfffffffe, nextPid: next, sealed: sealedR, sig }))).to.equal(
      toHex(concat(Uint8Array.of(0x05, 1, 0xff, 0xff, 0xff, 0xfe), next, sealedR, sig)),
    );
    expect(toHex(m.reauthForwardSigned({ poolId: 0xfffffffe, nextPid: next, sealed: sealedR }))).to.equal(
      toHex(concat(Uint8Array.of(0x05, 1, 0xff, 0xff, 0xff, 0xfe), next, sealedR)),
    );
    for (const bad of [rnd(64), rnd(66)]) {
      malformed(() => m.encodeJoinForward({ poolId: 1, sealed, sig: bad }), /^encodeJoinForward: the RPM's signature must be 65 bytes$/);
      malformed(
        () => m.encodeReauthForward({ poolId: 1, nextPid: next, sealed: sealedR, sig: bad }),
        /^encodeReauthForward: the RPM's signature must be 65 bytes$/,
      );
    }
    expect(toHex(m.encodeReauthReply({ A: P }))).to.equal(toHex(concat(Uint8Array.of(0x06, 1), encodePoint(P))));
    const sealedG = rnd(60);
    expect(toHex(m.encodeRegistration({ role: m.Role.RN, poolId: 258, sealed: sealedG }))).to.equal(
      toHex(concat(Uint8Array.of(0x07, 1, 2, 0, 0, 1, 2), sealedG)),
    );
  });

  it("decoders return every field at its offset", () => {
    const c2 = rnd(32);
    const pid = rnd(32);
    const jr = m.decodeJoinRequest(m.encodeJoinRequest({ c1: P, c2, pid }));
    expect([jr.c1.equals(P), toHex(jr.c2), toHex(jr.pid)]).to.deep.equal([true, toHex(c2), toHex(pid)]);
    const sealed = rnd(114);
    const sig = rnd(65);
    expect(m.decodeJoinForward(m.encodeJoinForward({ poolId: 0xffffffff, sealed, sig }))).to.deep.equal({
      poolId: 0xffffffff,
      sealed,
      sig,
    });
    const c2r = rnd(64);
    const next = rnd(32);
    const rr = m.decodeReauthRequest(m.encodeReauthRequest({ c1: P, c2: c2r, pid, nextPid: next }));
    expect([rr.c1.equals(P), toHex(rr.c2), toHex(rr.pid), toHex(rr.nextPid)]).to.deep.equal([true, toHex(c2r), toHex(pid), toHex(next)]);
    const sealedR = rnd(82);
    expect(m.decodeReauthForward(m.encodeReauthForward({ poolId: 0, nextPid: next, sealed: sealedR, sig }))).to.deep.equal({
      poolId: 0,
      nextPid: next,
      sealed: sealedR,
      sig,
    });
    for (const role of [m.Role.RPM, m.Role.RN, m.Role.User]) {
      const s = rnd(51);
      expect(m.decodeRegistration(m.encodeRegistration({ role, poolId: 77, sealed: s }))).to.deep.equal({ role, poolId: 77, sealed: s });
    }
  });

  it("u32 fields accept 0 .. 2^32 - 1 and nothing else", () => {
    for (const poolId of [0, 1, 0xffffffff]) expect(m.encodeJoinForward({ poolId, sealed: rnd(114), sig: rnd(65) })).to.have.length(185);
    for (const bad of [-1, 2 ** 32, 1.5, NaN]) {
      malformed(() => m.encodeJoinForward({ poolId: bad, sealed: rnd(114), sig: rnd(65) }), new RegExp(`^encode: ${bad} is not a u32$`));
      malformed(() => m.encodeReauthForward({ poolId: bad, nextPid: rnd(32), sealed: rnd(82), sig: rnd(65) }), /^encode: .* is not a u32$/);
      malformed(() => m.encodeRegistration({ role: 1, poolId: bad, sealed: rnd(60) }), /^encode: .* is not a u32$/);
    }
  });

  it("the header checks: too short, type, version, exact length, in that order, with the decoder's name", () => {
    const decoders: [string, (b: Uint8Array) => unknown, number, number][] = [
      ["decodeJoinRequest", m.decodeJoinRequest, 0x01, 99],
      ["decodeJoinForward", m.decodeJoinForward, 0x02, 185],
      ["decodeJoinReply", m.decodeJoinReply, 0x03, 35],
      ["decodeReauthRequest", m.decodeReauthRequest, 0x04, 163],
      ["decodeReauthForward", m.decodeReauthForward, 0x05, 185],
      ["decodeReauthReply", m.decodeReauthReply, 0x06, 35],
      ["decodeRegistration", m.decodeRegistration, 0x07, 57],
    ];
    for (const [name, decode, type, len] of decoders) {
      malformed(() => decode(new Uint8Array(0)), new RegExp(`^${name}: too short$`));
      malformed(() => decode(Uint8Array.of(type)), new RegExp(`^${name}: too short$`));
      malformed(
        () => decode(Array.from({ length: len }, (_, i) => (i === 0 ? type : 1)) as unknown as Uint8Array),
        new RegExp(`^${name}: too short$`),
      );
      const wrongType = new Uint8Array(len);
      wrongType[0] = type + 1;
      wrongType[1] = 1;
      malformed(
        () => decode(wrongType),
        new RegExp(`^${name}: wrong type 0x${(type + 1).toString(16)} \\(expected 0x${type.toString(16)}\\)$`),
      );
      const wrongVersion = new Uint8Array(len);
      wrongVersion[0] = type;
      wrongVersion[1] = 2;
      malformed(() => decode(wrongVersion), new RegExp(`^${name}: unsupported version 2$`));
      wrongVersion[1] = 0;
      malformed(() => decode(wrongVersion), new RegExp(`^${name}: unsupported version 0$`));
      if (type !== 0x07) {
        // a header alone, one byte short, one byte long
        for (const n of [2, len - 1, len + 1]) {
          const b = new Uint8Array(n);
          b[0] = type;
          b[1] = 1;
          malformed(() => decode(b), new RegExp(`^${name}: expected ${len} bytes, got ${n}$`));
        }
      }
    }
  });

  it("points: a bad c1 or A is an invalid point, named by its decoder", () => {
    const jr = m.encodeJoinRequest({ c1: P, c2: rnd(32), pid: rnd(32) });
    jr[2] = 0x04;
    malformed(() => m.decodeJoinRequest(jr), /^decodeJoinRequest: invalid point$/);
    const rr = m.encodeReauthRequest({ c1: P, c2: rnd(64), pid: rnd(32), nextPid: rnd(32) });
    rr[2] = 0x00;
    malformed(() => m.decodeReauthRequest(rr), /^decodeReauthRequest: invalid point$/);
    const jy = m.encodeJoinReply({ A: P });
    jy[2] = 0x05;
    malformed(() => m.decodeJoinReply(jy), /^decodeJoinReply: invalid point$/);
    const ry = m.encodeReauthReply({ A: P });
    ry.fill(0xff, 3);
    malformed(() => m.decodeReauthReply(ry), /^decodeReauthReply: invalid point$/);
    // a reply of one type is not accepted as the other
    malformed(() => m.decodeReauthReply(m.encodeJoinReply({ A: P })), /^decodeReauthReply: wrong type 0x3 \(expected 0x6\)$/);
  });

  it("an invalid point's error keeps the group decoder's reason as its cause", () => {
    const jr = m.encodeJoinRequest({ c1: P, c2: rnd(32), pid: rnd(32) });
    jr[2] = 0x04;
    let err: unknown;
    try {
      m.decodeJoinRequest(jr);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(MalformedMessageError);
    const cause = (err as Error).cause;
    expect(cause).to.be.instanceOf(InvalidPointError);
    expect((cause as Error).message).to.equal("decodePoint: prefix must be 0x02 or 0x03, got 0x4");
  });

  it("registration: roles 1-3 only, the u32 pool, and a sealed identity of at least the ECIES overhead", () => {
    for (const role of [0, 4, 255])
      malformed(
        () => m.decodeRegistration(m.encodeRegistration({ role, poolId: 1, sealed: rnd(60) })),
        new RegExp(`^decodeRegistration: unknown role ${role}$`),
      );
    // a header and a role but no pool id: truncated
    malformed(() => m.decodeRegistration(Uint8Array.of(0x07, 1, 2, 0, 0, 0)), /^decodeRegistration: truncated$/);
    malformed(() => m.decodeRegistration(Uint8Array.of(0x07, 1)), /^decodeRegistration: truncated$/);
    expect(m.decodeRegistration(m.encodeRegistration({ role: 3, poolId: 0, sealed: new Uint8Array(50) })).sealed).to.have.length(50);
    malformed(
      () => m.decodeRegistration(m.encodeRegistration({ role: 3, poolId: 0, sealed: new Uint8Array(49) })),
      /^decodeRegistration: sealed identity too short$/,
    );
    malformed(
      () => m.decodeRegistration(m.encodeRegistration({ role: 3, poolId: 0, sealed: new Uint8Array(0) })),
      /^decodeRegistration: sealed identity too short$/,
    );
  });

  it("each sealed value is bound to its step, role and pool by its associated data", () => {
    expect(new TextDecoder().decode(m.AAD.joinForward(7))).to.equal("RSMS-V1-JOIN-FWD/7");
    expect(new TextDecoder().decode(m.AAD.reauthForward(12))).to.equal("RSMS-V1-REAUTH-FWD/12");
    expect(new TextDecoder().decode(m.AAD.registration(2, 3))).to.equal("RSMS-V1-REG/2/3");
    // over the network: bound to the registration request (name or account, transport key)
    expect(new TextDecoder().decode(m.AAD.registration(2, 3, Uint8Array.of(0xab, 0x01)))).to.equal("RSMS-V1-REG/2/3/0xab01");
  });
});
