import { expect } from "chai";
import { ethers } from "ethers";
import { schnorr } from "@noble/curves/secp256k1.js";
import {
  AvatarParty,
  AvatarProtocolError,
  DuplicateIdentityError,
  IdentityProvider,
  MitInfo,
  mitDescription,
  receiptDigest,
} from "../../offchain/avatars/agents";
import { irisCommitment, SimulatedEye } from "../../offchain/avatars/iris";
import { concat, fromHex, toBytes, toHex } from "../../offchain/crypto/bytes";
import { encodeG2Eip2537 } from "../../offchain/crypto/bls";
import { cpsKeyGen, cpsProvePossession, cpsVerifyPossession, encodePk, keyId } from "../../offchain/crypto/cps";
import { eciesDecrypt, eciesEncrypt } from "../../offchain/crypto/ecies";
import { mulBase } from "../../offchain/crypto/group";
import { InvalidParameterError, MetatrustError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";

/** Asserts an AvatarProtocolError with this reason and exactly this message. */
function rejects(f: () => unknown, reason: string, message: string) {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${reason}`).to.be.instanceOf(AvatarProtocolError);
  expect((err as AvatarProtocolError).reason).to.equal(reason);
  expect((err as AvatarProtocolError).code).to.equal("PROTOCOL_REJECTED");
  expect((err as Error).message).to.equal(message);
}

type Users = { uid: string; realId: string; serial: string; template: string; salt: string; commitment: string; pk: string }[];
const usersOf = (idp: IdentityProvider) => idp.toRecord().users as Users;
const proxiesOf = (idp: IdentityProvider) => idp.toRecord().proxies as { serial: string; pk: string; operator: string }[];

describe("avatars/agents (IdP, users, AI proxies)", () => {
  // Keys are fixed (fast, repeatable); parties, eyes and IdPs are built inside each test, not at describe
  // time, so that mutation testing attributes their coverage to the tests.
  const keys = { alice: cpsKeyGen(1111n), bob: cpsKeyGen(2222n), ai: cpsKeyGen(3333n) };
  const challenge = Uint8Array.from({ length: 32 }, (_, i) => i);

  /** alice and bob (users, with simulated eyes) and an AI proxy. */
  function parties() {
    return {
      alice: new AvatarParty("alice", keys.alice),
      bob: new AvatarParty("bob", keys.bob),
      ai: new AvatarParty("ai", keys.ai),
      eyes: { alice: new SimulatedEye(1), bob: new SimulatedEye(2) },
    };
  }

  /** A new IdP with alice (user) and ai (proxy) enrolled. */
  function enroll() {
    const w = parties();
    const idp = new IdentityProvider(77n);
    const enrollment = w.eyes.alice.capture();
    const u = idp.issueUser("Alice Liddell", w.alice.keys.pk, w.alice.possession(), enrollment);
    const p = idp.issueProxy("alice's assistant", w.ai.keys.pk, w.ai.possession());
    return { ...w, idp, enrollment, u, p };
  }

  it("AvatarProtocolError carries a reason and the PROTOCOL_REJECTED code", () => {
    const e = new AvatarProtocolError("WHY", "f: m");
    expect(e).to.be.instanceOf(MetatrustError);
    expect([e.reason, e.code, e.message, e.name]).to.deep.equal(["WHY", "PROTOCOL_REJECTED", "f: m", "AvatarProtocolError"]);
  });

  describe("# IdentityProvider issuance", () => {
    it("issues a user MIT: a random serial, UID = keccak256('UID' || serial), the enrolled template and its salted commitment", () => {
      const { idp, enrollment, u, alice } = enroll();
      expect(u.mit.serial).to.have.length(32);
      expect(u.mit.pk.equals(alice.keys.pk)).to.equal(true);
      expect(u.mit.kind).to.equal("user");
      const uid = ethers.keccak256(ethers.concat([ethers.toUtf8Bytes("UID"), u.mit.serial]));
      expect(u.mit.description).to.equal(`user ${uid.slice(0, 10)}`);
      const [rec] = usersOf(idp);
      expect(rec).to.deep.include({
        uid,
        realId: "Alice Liddell",
        serial: toHex(u.mit.serial),
        template: toHex(enrollment),
        commitment: toHex(u.commitment),
        pk: toHex(encodePk(alice.keys.pk)),
      });
      expect(rec.salt).to.match(/^0x[0-9a-f]{64}$/);
      expect(u.commitment).to.deep.equal(irisCommitment(enrollment, fromHex(rec.salt)));
    });

    it("issues a proxy MIT, without an iris, recording its operator with the IdP and not in the public description", () => {
      const { idp, p, ai } = enroll();
      expect(p.serial).to.have.length(32);
      expect(p.pk.equals(ai.keys.pk)).to.equal(true);
      expect([p.kind, p.description]).to.deep.equal(["proxy", mitDescription("proxy", p.serial)]);
      expect(p.description).to.not.include("alice");
      expect(proxiesOf(idp)).to.deep.equal([{ serial: toHex(p.serial), pk: toHex(encodePk(ai.keys.pk)), operator: "alice's assistant" }]);
      rejects(() => idp.commitmentOf(p.serial), "UNKNOWN_MIT", "commitmentOf: not a user MIT");
    });

    it("refuses a key without a proof of possession (a rogue key) and records nothing", () => {
      const { alice, bob, ai, eyes } = parties();
      const idp = new IdentityProvider();
      const stolen = bob.possession(); // a valid proof, but for another key
      rejects(
        () => idp.issueUser("Mallory", alice.keys.pk, stolen, eyes.alice.capture()),
        "POSSESSION",
        "issueUser: the key's proof of possession does not verify (rogue key?)",
      );
      rejects(() => idp.issueProxy("m", ai.keys.pk, stolen), "POSSESSION", "issueProxy: the key's proof of possession does not verify");
      expect(usersOf(idp)).to.deep.equal([]);
      expect(proxiesOf(idp)).to.deep.equal([]);
    });

    it("answers the key of a user or proxy serial and the commitment of a user serial", () => {
      const { idp, u, p, alice, ai } = enroll();
      expect(idp.keyOf(u.mit.serial).equals(alice.keys.pk)).to.equal(true);
      expect(idp.keyOf(p.serial).equals(ai.keys.pk)).to.equal(true);
      expect(idp.commitmentOf(u.mit.serial)).to.deep.equal(u.commitment);
      rejects(() => idp.keyOf(new Uint8Array(32)), "UNKNOWN_MIT", "keyOf: unknown MIT serial");
      rejects(() => idp.commitmentOf(new Uint8Array(32)), "UNKNOWN_MIT", "commitmentOf: not a user MIT");
    });
  });

  describe("# one person, one MIT (issue 15: a whitewasher cannot enrol its eye again)", () => {
    // names neither the enrolled MIT nor its commitment (s24-rta R1: an iris -> MIT oracle); the
    // serial is on the error for the operator (enrolledSerial), never in its message
    const duplicate = (_serial: Uint8Array, _commitment: Uint8Array) =>
      "issueUser: this iris is already enrolled for an MIT; one person, one MIT";

    it("the same eye enrolled again under another real id and another key is refused (DUPLICATE_IDENTITY names neither the MIT nor the template; the operator's field does); nothing recorded", () => {
      const { idp, u, bob, eyes, enrollment } = enroll();
      const before = JSON.stringify(idp.toRecord());
      let err: unknown;
      try {
        idp.issueUser("Mallory Fresh", bob.keys.pk, bob.possession(), eyes.alice.capture());
      } catch (e) {
        err = e;
      }
      expect(err, "a second MIT for alice's eye").to.be.instanceOf(AvatarProtocolError);
      expect((err as AvatarProtocolError).reason).to.equal("DUPLICATE_IDENTITY");
      expect((err as Error).message).to.equal(duplicate(u.mit.serial, u.commitment));
      expect((err as Error).message).to.not.include(toHex(enrollment).slice(2, 18));
      expect((err as Error).message).to.not.include(toHex(u.mit.serial).slice(2, 18));
      expect((err as Error).message).to.not.include(toHex(u.commitment).slice(2, 18));
      expect((err as DuplicateIdentityError).enrolledSerial).to.equal(toHex(u.mit.serial));
      // her own key and real id, with the very enrollment bytes: refused the same way
      rejects(
        () => idp.issueUser("Alice Liddell", keys.alice.pk, cpsProvePossession(keys.alice), enrollment),
        "DUPLICATE_IDENTITY",
        duplicate(u.mit.serial, u.commitment),
      );
      expect(JSON.stringify(idp.toRecord())).to.equal(before);
      // an enrollment that is not an iris code is refused before any matching, and records nothing
      expectThrows(
        () => idp.issueUser("Short", bob.keys.pk, bob.possession(), new Uint8Array(255)),
        InvalidParameterError,
        "INVALID_PARAMETER",
        /^issueUser: an enrollment is an iris code of 256 bytes$/,
      );
      expect(JSON.stringify(idp.toRecord())).to.equal(before);
      // a different person still gets her MIT
      expect(idp.issueUser("Bob Builder", bob.keys.pk, bob.possession(), eyes.bob.capture()).mit.serial).to.have.length(32);
      expect(usersOf(idp)).to.have.length(2);
    });

    it("an IdP restored from its keystore record still refuses the enrolled eye (the check runs over what the record holds)", () => {
      const { idp, u, bob, eyes } = enroll();
      const restored = IdentityProvider.fromRecord(idp.toRecord());
      rejects(
        () => restored.issueUser("Alice again", bob.keys.pk, bob.possession(), eyes.alice.capture()),
        "DUPLICATE_IDENTITY",
        duplicate(u.mit.serial, u.commitment),
      );
    });

    it("300 different simulated people all get MITs (no false match locks an honest user out), and each one's second enrollment is refused", function () {
      this.timeout(120_000);
      const idp = new IdentityProvider(77n);
      const people = Array.from({ length: 300 }, (_, i) => new SimulatedEye(10_000 + i));
      const pk = keys.bob.pk;
      const pop = cpsProvePossession(keys.bob);
      const issued = people.map((e, i) => idp.issueUser(`person ${i}`, pk, pop, e.capture()));
      expect(usersOf(idp)).to.have.length(300);
      let refused = 0;
      for (const [i, e] of people.entries()) {
        try {
          idp.issueUser(`person ${i} again`, pk, pop, e.capture());
        } catch (err) {
          expect((err as Error).message).to.equal(duplicate(issued[i].mit.serial, issued[i].commitment));
          refused++;
        }
      }
      expect(refused).to.equal(300);
      expect(usersOf(idp)).to.have.length(300);
    });
  });

  describe("# IdentityProvider.matchSample", () => {
    const seal = (idp: IdentityProvider, serial: Uint8Array, sample: Uint8Array, ch = challenge) =>
      eciesEncrypt(idp.channelKey, sample, concat(toBytes("IRIS-SAMPLE"), serial, ch));

    it("accepts a fresh capture of the enrolled eye sealed for this serial and challenge", () => {
      const { idp, u, alice, eyes } = enroll();
      expect(() => idp.matchSample(u.mit.serial, seal(idp, u.mit.serial, eyes.alice.capture()), challenge)).to.not.throw();
      // what the user's agent seals opens the same way
      const party = new AvatarParty("alice", alice.keys);
      party.mit = u.mit;
      expect(() =>
        idp.matchSample(u.mit.serial, party.sealSample(idp.channelKey, eyes.alice.capture(), challenge), challenge),
      ).to.not.throw();
    });

    it("refuses another eye, another challenge, another serial's sample and an unknown serial", () => {
      const { idp, u, p, eyes } = enroll();
      rejects(
        () => idp.matchSample(u.mit.serial, seal(idp, u.mit.serial, eyes.bob.capture()), challenge),
        "IRIS_MISMATCH",
        "matchSample: the iris sample does not match the enrolled template",
      );
      const stale = "matchSample: the sealed sample does not open for this challenge (replayed?)";
      rejects(
        () =>
          idp.matchSample(
            u.mit.serial,
            seal(idp, u.mit.serial, eyes.alice.capture()),
            challenge.map((x) => x ^ 1),
          ),
        "STALE_CHALLENGE",
        stale,
      );
      rejects(() => idp.matchSample(u.mit.serial, seal(idp, p.serial, eyes.alice.capture()), challenge), "STALE_CHALLENGE", stale);
      rejects(() => idp.matchSample(u.mit.serial, new Uint8Array(10), challenge), "STALE_CHALLENGE", stale);
      rejects(
        () => idp.matchSample(p.serial, seal(idp, p.serial, eyes.alice.capture()), challenge),
        "UNKNOWN_MIT",
        "matchSample: not a user MIT",
      );
    });
  });

  describe("# IdentityProvider.traceCommitment", () => {
    it("maps a user's iris commitment to its UID and real identity, with a salted verdict commitment", () => {
      const { idp, u, bob, eyes } = enroll();
      const b = idp.issueUser("Bob Builder", bob.keys.pk, bob.possession(), eyes.bob.capture());
      const t = idp.traceCommitment(b.commitment);
      const uid = ethers.keccak256(ethers.concat([ethers.toUtf8Bytes("UID"), b.mit.serial]));
      expect([t.uid, t.realId]).to.deep.equal([uid, "Bob Builder"]);
      expect(t.serial).to.deep.equal(b.mit.serial);
      expect(t.salt).to.have.length(32);
      expect(ethers.hexlify(t.verdictCommitment)).to.equal(ethers.keccak256(ethers.concat([uid, t.salt])));
      expect(idp.traceCommitment(u.commitment).realId).to.equal("Alice Liddell");
      expect(idp.traceCommitment(b.commitment).salt).to.not.deep.equal(t.salt);
      rejects(() => idp.traceCommitment(new Uint8Array(32)), "UNTRACEABLE", "traceCommitment: no enrolled user has this iris commitment");
    });
  });

  describe("# IdentityProvider receipts and verdict openings", () => {
    const TIME = 1_700_000_000;
    const hash = ethers.getBytes(ethers.id("evidence"));

    it("stamps an evidence hash with its own clock: BIP-340 on keccak256(tag || hash || u64 time), checked only for that hash, time and platform", () => {
      const { idp } = enroll();
      const r = idp.stamp(hash, TIME);
      expect(r.time).to.equal(TIME);
      const digest = ethers.getBytes(
        ethers.keccak256(ethers.concat([ethers.toUtf8Bytes("METATRUST-V1-AVATAR-RECEIPT"), hash, ethers.toBeHex(TIME, 8)])),
      );
      expect(receiptDigest(hash, TIME)).to.deep.equal(digest);
      expect(idp.receiptKey).to.have.length(32);
      expect(schnorr.verify(r.sig, digest, idp.receiptKey)).to.equal(true);
      expect(idp.checkReceipt(hash, r)).to.equal(true);
      expect(idp.checkReceipt(ethers.getBytes(ethers.id("other evidence")), r)).to.equal(false);
      expect(idp.checkReceipt(hash, { ...r, time: TIME + 1 })).to.equal(false);
      expect(new IdentityProvider().checkReceipt(hash, r)).to.equal(false);
      expect(idp.checkReceipt(hash, { ...r, sig: new Uint8Array(10) })).to.equal(false); // malformed: false, no throw
      expect(idp.checkReceipt(hash, { ...r, time: -1 })).to.equal(false);
      expect(receiptDigest(hash, 0)).to.have.length(32);
      for (const t of [-1, 1.5, 2 ** 53])
        expectThrows(
          () => receiptDigest(hash, t),
          InvalidParameterError,
          "INVALID_PARAMETER",
          new RegExp(`^receiptDigest: time ${t} is not a u64$`),
        );
      for (const h of [new Uint8Array(31), Array.from(hash) as unknown as Uint8Array])
        expectThrows(() => idp.stamp(h, TIME), InvalidParameterError, "INVALID_PARAMETER", /^stamp: the evidence hash must be 32 bytes$/);
    });

    it("its receipt key is computed once and handed out as a copy: neither the caller's secret bytes nor a returned key, changed later, change it (issue 20)", () => {
      const sk = schnorr.utils.randomSecretKey();
      const idp = new IdentityProvider(undefined, sk);
      const key = schnorr.getPublicKey(sk);
      expect(idp.receiptKey).to.deep.equal(key);
      sk.fill(7); // the caller's array, changed after construction
      const k1 = idp.receiptKey;
      k1.fill(0); // a returned key, changed by its holder
      expect(idp.receiptKey).to.deep.equal(key);
      expect(idp.checkReceipt(hash, idp.stamp(hash, TIME))).to.equal(true); // still signs with the key it names
      expect(schnorr.verify(idp.stamp(hash, TIME).sig, receiptDigest(hash, TIME), key)).to.equal(true);
    });

    it("opens a verdict commitment it recorded, also after a keystore round trip, and refuses one it never made", () => {
      const { idp, u } = enroll();
      const t = idp.traceCommitment(u.commitment);
      expect(idp.openVerdict(t.verdictCommitment)).to.deep.equal({ uid: t.uid, salt: t.salt });
      const back = IdentityProvider.fromRecord(JSON.parse(JSON.stringify(idp.toRecord())));
      expect(back.openVerdict(t.verdictCommitment)).to.deep.equal({ uid: t.uid, salt: t.salt });
      expect(back.receiptKey).to.deep.equal(idp.receiptKey);
      const unknown = "openVerdict: this IdP recorded no verdict with this commitment";
      rejects(() => idp.openVerdict(new Uint8Array(32)), "UNKNOWN_VERDICT", unknown);
      // a record written before receipts and verdicts existed: a fresh receipt key, no verdicts
      const { receiptSk, verdicts, ...old } = idp.toRecord();
      expect([typeof receiptSk, (verdicts as unknown[]).length]).to.deep.equal(["string", 1]);
      const legacy = IdentityProvider.fromRecord(JSON.parse(JSON.stringify(old)));
      expect(legacy.receiptKey).to.have.length(32);
      expect(legacy.receiptKey).to.not.deep.equal(idp.receiptKey);
      expect(legacy.traceCommitment(u.commitment).uid).to.equal(t.uid);
      rejects(() => legacy.openVerdict(t.verdictCommitment), "UNKNOWN_VERDICT", unknown);
    });
  });

  describe("# IdentityProvider keystore record", () => {
    it("keeps the channel key and every enrolled user and proxy, and restores all of them", () => {
      const { idp, u, p, alice, ai, eyes } = enroll();
      const rec = idp.toRecord();
      expect(rec.channelSk).to.equal("0x" + "00".repeat(31) + "4d"); // 77
      expect(idp.channelKey.equals(mulBase(77n))).to.equal(true);
      const back = IdentityProvider.fromRecord(JSON.parse(JSON.stringify(rec)));
      expect(back.toRecord()).to.deep.equal(rec);
      expect(back.channelKey.equals(idp.channelKey)).to.equal(true);
      expect(back.keyOf(u.mit.serial).equals(alice.keys.pk)).to.equal(true);
      expect(back.keyOf(p.serial).equals(ai.keys.pk)).to.equal(true);
      expect(back.commitmentOf(u.mit.serial)).to.deep.equal(u.commitment);
      const sealed = eciesEncrypt(idp.channelKey, eyes.alice.capture(), concat(toBytes("IRIS-SAMPLE"), u.mit.serial, challenge));
      expect(() => back.matchSample(u.mit.serial, sealed, challenge)).to.not.throw();
      expect(back.traceCommitment(u.commitment).realId).to.equal("Alice Liddell");
    });

    it("openSealed refuses bytes that do not open for this IdP and this request, in one MALFORMED line", () => {
      const { idp, eyes, u } = enroll();
      const aad = concat(toBytes("IRIS-SAMPLE"), u.mit.serial, challenge);
      const sealed = eciesEncrypt(idp.channelKey, eyes.alice.capture(), aad);
      expect(idp.openSealed(sealed, aad)).to.have.length(eyes.alice.capture().length);
      for (const [bytes, ad] of [
        [sealed, concat(aad, Uint8Array.of(1))], // another request
        [eciesEncrypt(new IdentityProvider().channelKey, eyes.alice.capture(), aad), aad], // another IdP
      ] as const)
        rejects(() => idp.openSealed(bytes, ad), "MALFORMED", "openSealed: the sealed message does not open for this IdP and this request");
    });

    it("draws a fresh channel key by default", () => {
      expect(new IdentityProvider().channelKey.equals(new IdentityProvider().channelKey)).to.equal(false);
    });
  });

  describe("# AvatarParty", () => {
    it("has a CPS key (fresh by default), its proof of possession, key id and EIP-2537 encoding", () => {
      const { alice } = parties();
      expect(alice.name).to.equal("alice");
      expect(cpsVerifyPossession(alice.keys.pk, alice.possession())).to.equal(true);
      expect(alice.possession().equals(cpsProvePossession(alice.keys))).to.equal(true);
      expect(alice.keyId).to.deep.equal(keyId(alice.keys.pk));
      expect(alice.pkEip2537).to.deep.equal(encodeG2Eip2537(alice.keys.pk));
      const fresh = new AvatarParty("x");
      expect(fresh.keys.pk.equals(cpsKeyGen(fresh.keys.sk).pk)).to.equal(true);
      expect(fresh.keys.sk).to.not.equal(new AvatarParty("y").keys.sk);
      expect(fresh.mit).to.equal(undefined);
    });

    it("seals a sample to the IdP bound to its serial and the challenge, and needs an MIT to do so", () => {
      const { eyes } = parties();
      const party = new AvatarParty("p", cpsKeyGen(4444n));
      expectThrows(
        () => party.sealSample(mulBase(9n), new Uint8Array(256), challenge),
        InvalidParameterError,
        "INVALID_PARAMETER",
        /^sealSample: no MIT$/,
      );
      party.mit = { serial: Uint8Array.from({ length: 32 }, () => 7), pk: party.keys.pk, kind: "user", description: "d" };
      const sample = eyes.bob.capture();
      const sealed = party.sealSample(mulBase(9n), sample, challenge);
      expect(eciesDecrypt(9n, sealed, concat(toBytes("IRIS-SAMPLE"), party.mit.serial, challenge))).to.deep.equal(sample);
    });

    it("keeps its name, secret key, MIT and iris commitment in its record and restores them", () => {
      const party = new AvatarParty("carol", cpsKeyGen(0xabcdefn));
      expect(party.toRecord()).to.deep.equal({ name: "carol", sk: "abcdef", mit: undefined, irisCommitment: undefined });
      const bare = AvatarParty.fromRecord(JSON.parse(JSON.stringify(party.toRecord())));
      expect([bare.name, bare.keys.sk, bare.mit, bare.irisCommitment]).to.deep.equal(["carol", 0xabcdefn, undefined, undefined]);
      expect(bare.keys.pk.equals(party.keys.pk)).to.equal(true);
      const mit: MitInfo = {
        serial: Uint8Array.from({ length: 32 }, (_, i) => i),
        pk: party.keys.pk,
        kind: "proxy",
        description: "AI proxy of x",
      };
      party.mit = mit;
      party.irisCommitment = Uint8Array.from({ length: 32 }, () => 5);
      expect(party.toRecord()).to.deep.equal({
        name: "carol",
        sk: "abcdef",
        mit: { serial: toHex(mit.serial), kind: "proxy", description: "AI proxy of x" },
        irisCommitment: toHex(party.irisCommitment),
      });
      const back = AvatarParty.fromRecord(JSON.parse(JSON.stringify(party.toRecord())));
      expect(back.mit!.serial).to.deep.equal(mit.serial);
      expect([back.mit!.kind, back.mit!.description]).to.deep.equal(["proxy", "AI proxy of x"]);
      expect(back.mit!.pk.equals(party.keys.pk)).to.equal(true);
      expect(back.irisCommitment).to.deep.equal(party.irisCommitment);
    });
  });
});
