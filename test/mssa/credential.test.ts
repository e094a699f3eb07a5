import { expect } from "chai";
import { createHmac, hkdfSync } from "crypto";
import { AbiCoder, ethers, Wallet } from "ethers";
import { Bits, BitsError } from "../../offchain/mssa/bits";
import {
  bitsHash,
  combineKeys,
  commitment,
  COMMITMENT_DOMAIN,
  CredentialError,
  encode,
  encodeCredential,
  evenLength,
  requestTag,
  TAG_DST,
  tagsEqual,
  verify,
} from "../../offchain/mssa/credential";
import { AuthorityAgent, buildRequest, checkRequest, placeId, register, RegistrationError } from "../../offchain/mssa/registration";
import { Prng } from "../../offchain/util/prng";
import { expectThrows } from "../helpers/errors";

const alice = Wallet.createRandom().address;
const INFOS = ["alice@example.org", "passport:UTO:X1234567", "born:1990-01-01"];

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
    // Built inside each test (not at describe time) so that mutation testing attributes coverage per test.
    const example = () => {
      const cr = Bits.fromString("10110010");
      const kr = Bits.fromString("01101001");
      return { cr, kr, e: encode(cr, kr) };
    };

    it("computes U1, U2, U12 and the bit rule for U1', U12'", () => {
      const { e } = example();
      expect(e.U1.toString()).to.equal("1101"); // 0110 xor 1011
      expect(e.U2.toString()).to.equal("1011"); // 1001 xor 0010
      expect(e.U12.toString()).to.equal("0110");
      // where U1 and U12 agree (position 1 only) both are flipped
      expect(e.U1p.toString()).to.equal("1001");
      expect(e.U12p.toString()).to.equal("0010");
    });

    it("Eq. 14: En = U1 xor U1' is the complement of U2", () => {
      const { e } = example();
      expect(e.En.toString()).to.equal("0100");
      expect(e.En.equals(e.U2.not())).to.equal(true);
    });

    it("the paper's S = S1 xor S2 checks only the first half; verify checks both", () => {
      const { cr, kr, e } = example();
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

  describe("# input checks (CredentialError, INVALID_PARAMETER, exact messages)", () => {
    const bad = (f: () => unknown, message: string) =>
      expectThrows(f, CredentialError, "INVALID_PARAMETER", new RegExp(`^${message.replace(/[|()]/g, "\\$&")}$`));

    it("encodeCredential names the offending field", () => {
      bad(() => encodeCredential([]), "a credential needs at least one INFO field");
      bad(() => encodeCredential(["a", ""]), "INFO_1 is empty");
      bad(() => encodeCredential(["a", "b", "c|d"]), "INFO_2 contains the separator '|'");
      const cr = encodeCredential(["é", "b"]);
      expect(cr.length).to.equal(40); // UTF-8: 2 bytes for é, then | b |
      expect(Buffer.from(cr.bytes).toString("utf8")).to.equal("é|b|");
    });

    it("evenLength doubles the last bit, whichever it is, and refuses the empty string", () => {
      expect(evenLength(Bits.fromString("10100")).toString()).to.equal("101000");
      expect(evenLength(Bits.fromString("1")).toString()).to.equal("11");
      expect(evenLength(Bits.fromString("0")).toString()).to.equal("00");
      bad(() => evenLength(Bits.fromString("")), "empty bit string");
    });

    it("combineKeys: one key is K_r itself; every key must be as long as the credential", () => {
      expect(combineKeys([Bits.fromString("1101")], 4).toString()).to.equal("1101");
      expect(combineKeys([Bits.fromString("1101"), Bits.fromString("0111")], 4).toString()).to.equal("1010");
      bad(() => combineKeys([], 4), "no authority keys");
      bad(() => combineKeys([Bits.fromString("1101"), Bits.fromString("110")], 4), "key 1 has 3 bits, the credential 4");
      bad(() => combineKeys([Bits.fromString("11011"), Bits.fromString("1101")], 4), "key 0 has 5 bits, the credential 4");
    });

    it("encode refuses an odd credential and a key of another length", () => {
      bad(() => encode(Bits.fromString("101"), Bits.fromString("101")), "apply evenLength to the credential first");
      bad(() => encode(Bits.fromString("1010"), Bits.fromString("101010")), "K_r has 6 bits, CR 4");
    });

    it("verify refuses a request of other lengths than the expected credential's", () => {
      const e = encode(Bits.fromString("10110010"), Bits.fromString("01101001"));
      const longer = encode(Bits.fromString("1011001011"), Bits.fromString("0110100111"));
      const msg = "the request's lengths differ from the expected credential's";
      bad(() => verify({ En: longer.En, U12: e.U12 }, e), msg);
      bad(() => verify({ En: e.En, U12: longer.U12 }, e), msg);
    });
  });

  describe("# Steps 8-9: S1, S2 and the acceptance rule", () => {
    it("S1 = En xor EN_auth, S2 = U12 xor Z12, S = S1 xor S2; accepted iff both are zero", () => {
      const z = { En: Bits.fromString("0110"), U12: Bits.fromString("1001") };
      const v = verify({ En: Bits.fromString("0011"), U12: Bits.fromString("1000") }, z);
      expect([v.S1.toString(), v.S2.toString(), v.S.toString()]).to.deep.equal(["0101", "0001", "0100"]);
      expect([v.accepted, v.acceptedByPaperRule]).to.deep.equal([false, false]);
      const onlyS1 = verify({ En: Bits.fromString("0111"), U12: z.U12 }, z);
      expect([onlyS1.accepted, onlyS1.acceptedByPaperRule]).to.deep.equal([false, false]);
      const onlyS2 = verify({ En: z.En, U12: Bits.fromString("1011") }, z);
      expect([onlyS2.accepted, onlyS2.acceptedByPaperRule]).to.deep.equal([false, false]);
      const same = verify(z, z);
      expect([same.accepted, same.acceptedByPaperRule, same.S.isZero()]).to.deep.equal([true, true, true]);
    });
  });

  describe("# request tag", () => {
    const ctx = Uint8Array.from([1, 2, 3]);
    const inputs = () => ({ kr: Bits.fromString("1011001110"), En: Bits.fromString("01101"), U12: Bits.fromString("11100") });
    /** HMAC-SHA256(HKDF-SHA256(K_r bytes, salt = decimal bit length, info = TAG_DST), len||ctx || len||En || len||U12) by node:crypto. */
    function reference(k: Bits, c: Uint8Array, a: Bits, b: Bits): string {
      const key = Buffer.from(hkdfSync("sha256", k.bytes, Buffer.from(String(k.length)), Buffer.from(TAG_DST), 32));
      const lp = (x: Bits) => {
        const n = Buffer.alloc(4);
        n.writeUInt32BE(x.length);
        return Buffer.concat([n, x.bytes]);
      };
      return createHmac("sha256", key)
        .update(Buffer.concat([lp(Bits.fromBytes(c)), lp(a), lp(b)]))
        .digest("hex");
    }

    it("is HMAC-SHA256 under an HKDF key of K_r over the length-prefixed context, En and U12", () => {
      const { kr, En, U12 } = inputs();
      expect(TAG_DST).to.equal("METATRUST-V1-MSSA-REQUEST-TAG");
      const tag = requestTag(kr, ctx, En, U12);
      expect(tag).to.have.length(32);
      expect(Buffer.from(tag).toString("hex")).to.equal(reference(kr, ctx, En, U12));
    });

    it("changes with the key, its length, the context, En and U12, and keeps field boundaries", () => {
      const { kr, En, U12 } = inputs();
      const t = Buffer.from(requestTag(kr, ctx, En, U12)).toString("hex");
      const others = [
        requestTag(Bits.fromString("1011001111"), ctx, En, U12),
        requestTag(Bits.fromString("10110011100"), ctx, En, U12), // same bytes, one more bit
        requestTag(kr, Uint8Array.from([1, 2, 4]), En, U12),
        requestTag(kr, ctx, Bits.fromString("01100"), U12),
        requestTag(kr, ctx, En, Bits.fromString("11101")),
        requestTag(kr, ctx, U12, En),
      ].map((x) => Buffer.from(x).toString("hex"));
      expect(new Set([t, ...others]).size).to.equal(7);
      // the same bytes split differently between En and U12
      const a = requestTag(kr, ctx, Bits.fromString("10101100"), Bits.fromString(""));
      const b = requestTag(kr, ctx, Bits.fromString(""), Bits.fromString("10101100"));
      expect(tagsEqual(a, b)).to.equal(false);
    });

    it("tagsEqual compares every byte and the lengths", () => {
      const { kr, En, U12 } = inputs();
      const t = requestTag(kr, ctx, En, U12);
      expect(tagsEqual(t, Uint8Array.from(t))).to.equal(true);
      for (const i of [0, 17, 31]) {
        const u = Uint8Array.from(t);
        u[i] ^= 0x01;
        expect(tagsEqual(t, u), `byte ${i}`).to.equal(false);
        u[i] ^= 0x81;
        expect(tagsEqual(t, u), `byte ${i}`).to.equal(false);
      }
      expect(tagsEqual(t, t.subarray(0, 31))).to.equal(false);
      expect(tagsEqual(t.subarray(0, 31), t)).to.equal(false);
      expect(tagsEqual(new Uint8Array(0), new Uint8Array(0))).to.equal(true);
    });
  });

  describe("# on-chain commitment", () => {
    const place = ethers.id("PL1");
    const salt = ethers.id("salt");

    it("bitsHash = keccak256(abi.encode(uint256 bit length, bytes packed))", () => {
      const U12 = Bits.fromString("1100101");
      const coder = AbiCoder.defaultAbiCoder();
      expect(bitsHash(U12)).to.equal(ethers.keccak256(coder.encode(["uint256", "bytes"], [7, "0xca"])));
      expect(bitsHash(Bits.fromString("1"))).to.not.equal(bitsHash(Bits.fromString("10"))); // same byte 0x80
    });

    it("commits to (domain, place, user, bitsHash(U12), salt) and nothing else", () => {
      const U12 = Bits.fromString("1100101");
      expect(COMMITMENT_DOMAIN).to.equal("METATRUST-V1-MSSA-CREDENTIAL");
      const enc = AbiCoder.defaultAbiCoder().encode(
        ["string", "bytes32", "address", "bytes32", "bytes32"],
        ["METATRUST-V1-MSSA-CREDENTIAL", place, alice, bitsHash(U12), salt],
      );
      expect(commitment(place, alice, U12, salt)).to.equal(ethers.keccak256(enc));
      expect(commitment(place, alice, U12, salt.toUpperCase().replace("0X", "0x"))).to.equal(ethers.keccak256(enc));
    });

    it("refuses a salt that is not 32 bytes of hex", () => {
      const U12 = Bits.fromString("1100101");
      for (const s of ["0x" + "0".repeat(63), "0x" + "0".repeat(65), "0".repeat(64), "0x" + "g".repeat(64), "x0x" + "0".repeat(64)])
        expectThrows(() => commitment(place, alice, U12, s), CredentialError, "INVALID_PARAMETER", /^the salt must be 32 bytes of hex$/);
    });
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
