import { expect } from "chai";
import * as m from "../../../offchain/protocols/rsms/messages";
import { MalformedMessageError } from "../../../offchain/protocols/rsms/errors";
import { mulBase, randomScalar } from "../../../offchain/crypto/group";
import { Msrp } from "../../../offchain/protocols/rsms/msrp";
import { DecryptionError } from "../../../offchain/errors";
import { AgentStateError } from "../../../offchain/protocols/rsms/errors";
import { expectThrows } from "../../helpers/errors";
import { H2 } from "../../../offchain/crypto/hash";

const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));

describe("protocols/rsms/messages", () => {
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
    const fw = m.encodeJoinForward({ poolId: 7, sealed: rnd(114) });
    expect(fw.length).to.equal(m.SIZES.JoinForward);
    expect(m.decodeJoinForward(fw).poolId).to.equal(7);
    const rf = m.encodeReauthForward({ poolId: 9, nextPid: rnd(32), sealed: rnd(82) });
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
