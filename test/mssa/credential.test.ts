import { expect } from "chai";
import { Wallet } from "ethers";
import { Bits, BitsError } from "../../offchain/mssa/bits";
import { combineKeys, commitment, CredentialError, encode, encodeCredential, evenLength, verify } from "../../offchain/mssa/credential";
import { AuthorityAgent, buildRequest, checkRequest, placeId, register, RegistrationError } from "../../offchain/mssa/registration";
import { Prng } from "../../offchain/util/prng";
import { expectThrows } from "../helpers/errors";

const alice = Wallet.createRandom().address;
const INFOS = ["alice@example.org", "passport:X1234567", "born:1990-01-01"];

function rejects(f: () => unknown, reason: string) {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).to.be.instanceOf(RegistrationError);
  expect((err as RegistrationError).reason).to.equal(reason);
  expect((err as RegistrationError).code).to.equal("PROTOCOL_REJECTED");
}

describe("mssa/credential (Eqs. 5-15, Steps 1-9)", () => {
  describe("Eqs. 7-15 on a worked example", () => {
    const cr = Bits.fromString("10110010");
    const kr = Bits.fromString("01101001");
    const e = encode(cr, kr);

    it("computes U1, U2, U12 and the bit rule for U1', U12'", () => {
      expect(e.U1.toString()).to.equal("1101"); // 0110 xor 1011
      expect(e.U2.toString()).to.equal("1011"); // 1001 xor 0010
      expect(e.U12.toString()).to.equal("0110");
      // where U1 and U12 agree (position 1 only) both are flipped
      expect(e.U1p.toString()).to.equal("1001");
      expect(e.U12p.toString()).to.equal("0010");
    });

    it("Eq. 14: En = U1 xor U1' is the complement of U2", () => {
      expect(e.En.toString()).to.equal("0100");
      expect(e.En.equals(e.U2.not())).to.equal(true);
    });

    it("the paper's S = S1 xor S2 checks only the first half; verify checks both", () => {
      // A credential whose second half differs: U1 = Z1 so S = 0, but S1 != 0.
      const other = encode(Bits.fromString("10111111"), kr);
      const v = verify(e, other);
      expect(v.acceptedByPaperRule).to.equal(true);
      expect(v.accepted).to.equal(false);
      expect(verify(e, encode(cr, kr)).accepted).to.equal(true);
    });
  });

  it("encodes CR = INFO_0|...|INFO_n| and refuses ambiguous fields", () => {
    expect(Buffer.from(encodeCredential(["a", "bc"]).bytes).toString()).to.equal("a|bc|");
    expectThrows(() => encodeCredential(["a|b"]), CredentialError, "INVALID_PARAMETER", /separator/);
    expectThrows(() => encodeCredential([]), CredentialError, "INVALID_PARAMETER");
    expectThrows(() => encodeCredential([""]), CredentialError, "INVALID_PARAMETER");
  });

  it("Step 1's odd-length rule: the last bit becomes two", () => {
    expect(evenLength(Bits.fromString("10101")).toString()).to.equal("101011");
    expect(evenLength(Bits.fromString("1010")).toString()).to.equal("1010");
    const odd = evenLength(Bits.fromString("1100110"));
    const keys = [Bits.random(8), Bits.random(8)];
    const e = encode(odd, combineKeys(keys, 8));
    expect(verify(e, encode(odd, combineKeys(keys, 8))).accepted).to.equal(true);
    expectThrows(() => encode(Bits.fromString("101"), Bits.fromString("101")), CredentialError, "INVALID_PARAMETER");
  });

  it("Eqs. 5-6: K_r is the xor of every authority's key, all as long as CR", () => {
    const [a, b, c] = [Bits.fromString("1100"), Bits.fromString("1010"), Bits.fromString("0110")];
    expect(combineKeys([a, b, c], 4).toString()).to.equal("0000");
    expectThrows(() => combineKeys([a, Bits.fromString("101")], 4), CredentialError, "INVALID_PARAMETER");
    expectThrows(() => Bits.fromString("102"), BitsError, "INVALID_LENGTH");
  });

  describe("register (Steps 1-9 over the simulated channel)", () => {
    const rng = () => new Prng(7);
    const authorities = () => [new AuthorityAgent("0x" + "1".repeat(40)), new AuthorityAgent("0x" + "2".repeat(40))];

    it("accepts an honest registration and commits to it without revealing it", () => {
      const aus = authorities();
      const r = register({
        place: "PL1",
        user: alice,
        infos: INFOS,
        authorities: aus,
        channel: { decoys: 64, threshold: 0.11, rng: rng() },
      });
      expect(r.verdict.accepted && r.verdict.tagOk).to.equal(true);
      expect(r.transmission.decoyErrors).to.equal(0);
      expect(r.commitment).to.equal(commitment(placeId("PL1"), alice, r.request.U12, r.salt));
      expect(r.commitment).to.not.equal(commitment(placeId("PL1"), alice, r.request.U12, "0x" + "00".repeat(32)));
      // the keys are spent
      expect(aus.every((a) => a.used(r.session))).to.equal(true);
    });

    it("rejects a credential built with a wrong key (S != 0)", () => {
      rejects(
        () =>
          register({
            place: "PL1",
            user: alice,
            infos: INFOS,
            authorities: authorities(),
            tamperKeys: (ks) => [ks[0], Bits.random(ks[1].length)],
          }),
        "credential-mismatch",
      );
    });

    it("rejects a credential that differs from the documents the authority checked", () => {
      rejects(
        () =>
          register({
            place: "PL1",
            user: alice,
            infos: INFOS,
            expectedInfos: [...INFOS.slice(0, 2), "born:1990-01-02"],
            authorities: authorities(),
          }),
        "credential-mismatch",
      );
    });

    it("rejects a request whose user was rewritten on the wire (the tag; the xor check alone passes)", () => {
      const mallory = Wallet.createRandom().address;
      rejects(
        () =>
          register({
            place: "PL1",
            user: alice,
            infos: INFOS,
            authorities: authorities(),
            tamperRequest: (req) => ({ ...req, user: mallory }),
          }),
        "bad-tag",
      );
    });

    it("rejects a bit-flipped request (one-time-pad malleability) even when the flips cancel in S", () => {
      const aus = authorities();
      const session = "0x" + "ab".repeat(32);
      const keys = aus.map((a) => a.issueKey(session, evenLength(encodeCredential(INFOS)).length));
      const { request } = buildRequest(session, placeId("PL1"), alice, INFOS, keys);
      // Flip bit 0 of both En and U12: S1 and S2 become nonzero together, S = S1 xor S2 = 0.
      const flip = (b: Bits) => Bits.fromArray(b.toArray().map((x, i) => (i === 0 ? 1 - x : x)));
      const v = checkRequest({ ...request, En: flip(request.En), U12: flip(request.U12) }, INFOS, keys);
      expect(v.acceptedByPaperRule).to.equal(true);
      expect(v.accepted).to.equal(false);
    });

    it("detects an intercept-resend eavesdropper and burns the keys", () => {
      const aus = authorities();
      rejects(
        () =>
          register({
            place: "PL1",
            user: alice,
            infos: INFOS,
            authorities: aus,
            channel: { decoys: 64, threshold: 0.11, eve: { fraction: 1 }, rng: rng() },
          }),
        "eavesdropping",
      );
    });

    it("never uses a key twice", () => {
      const a = new AuthorityAgent("0x" + "3".repeat(40));
      a.issueKey("0x01", 16);
      rejects(() => a.issueKey("0x01", 16), "key-reuse");
      a.releaseKey("0x01");
      rejects(() => a.releaseKey("0x01"), "key-reuse");
      rejects(() => a.releaseKey("0x02"), "unknown-session");
    });
  });
});
