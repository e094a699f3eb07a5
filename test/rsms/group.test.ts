import { expect } from "chai";
import { loadGroups } from "./group-fixtures";
import { GroupLedger, formServiceGroup, rekeyServiceGroup } from "../../offchain/rsms/group-flows";
import {
  GroupAuthenticationError,
  GroupFailure,
  GroupParty,
  commitmentsHash,
  rosterHash,
  dealGroup,
  epochKey,
  feldmanEval,
  membershipMessage,
  partyXs,
  rekeyMessage,
} from "../../offchain/rsms/group";
import type { ServiceGroupRegistry } from "../../typechain-types";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { lagrangeCoefficients } from "../../offchain/crypto/shamir";
import { eciesDecrypt } from "../../offchain/crypto/ecies";
import {
  GROUP_SIZES,
  GroupMsgType,
  channelHeader,
  channelSigned,
  keyShareSigned,
  decodeAllocation,
  decodeChannel,
  decodeKeyShare,
  decodeMembership,
  decodeRekey,
  encodeAllocation,
  encodeChannel,
  encodeKeyShare,
  encodeMembership,
  encodeRekey,
} from "../../offchain/rsms/group-messages";
import { AgentStateError, MalformedMessageError } from "../../offchain/rsms/errors";
import {
  ORDER,
  addMod,
  decodeScalar,
  encodePoint,
  encodeScalar,
  invert,
  mulBase,
  mulMod,
  randomScalar,
  subMod,
} from "../../offchain/crypto/group";
import { H2, H3, H5, H6, hashToScalar } from "../../offchain/crypto/hash";
import { bytesToNumberBE, concat, fromHex, numberToBytesBE, toBytes, toHex, xor } from "../../offchain/crypto/bytes";
import { schnorrSign } from "../../offchain/crypto/schnorr";
import { expectRejects, expectThrows } from "../helpers/errors";
import { DecryptionError, InvalidPointError } from "../../offchain/errors";

function expectGroupFailure(f: () => unknown, failure: GroupFailure, parties?: string[]): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${failure}`).to.be.instanceOf(GroupAuthenticationError);
  expect((err as GroupAuthenticationError).failure, (err as Error).message).to.equal(failure);
  if (parties) expect((err as GroupAuthenticationError).parties).to.deep.equal(parties);
}

const text = (s: string) => toBytes(s);

describe("rsms/group-messages: exact encodings and every decoder check", () => {
  const gid = new Uint8Array(32).fill(0xab);
  const P = mulBase(5n);
  const Q = mulBase(6n);
  const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const malformed = (f: () => unknown, msg: RegExp) => expectThrows(f, MalformedMessageError, "MESSAGE_MALFORMED", msg);
  const be32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

  it("sizes are the documented byte counts", () => {
    expect([2, 3, 9].map(GROUP_SIZES.allocation)).to.deep.equal([318, 416, 1004]);
    expect([GROUP_SIZES.membership, GROUP_SIZES.keyShare, GROUP_SIZES.rekey]).to.deep.equal([138, 139, 120]);
    expect(GroupMsgType).to.deep.equal({ Allocation: 0x10, Membership: 0x11, KeyShare: 0x12, Rekey: 0x13, Channel: 0x14 });
  });

  it("every message is type | version | gid | epoch | fields, byte for byte, and decodes to its fields", () => {
    const pids = [rnd(32), rnd(32)];
    const sealed = rnd(82);
    const alloc = encodeAllocation({ groupId: gid, epoch: 0x01020304, pids, pks: [Q, P], commitments: [P, Q], sealed });
    expect(toHex(alloc)).to.equal(
      toHex(
        concat(
          Uint8Array.of(0x10, 1),
          gid,
          be32(0x01020304),
          Uint8Array.of(0, 2),
          ...pids,
          encodePoint(Q),
          encodePoint(P),
          encodePoint(P),
          encodePoint(Q),
          sealed,
        ),
      ),
    );
    expect(alloc).to.have.length(GROUP_SIZES.allocation(2));
    const a = decodeAllocation(alloc);
    expect([toHex(a.groupId), a.epoch, a.pids.map(toHex), toHex(a.sealed)]).to.deep.equal([
      toHex(gid),
      0x01020304,
      pids.map(toHex),
      toHex(sealed),
    ]);
    expect(a.commitments[0].equals(P) && a.commitments[1].equals(Q)).to.equal(true);
    expect(a.pks[0].equals(Q) && a.pks[1].equals(P)).to.equal(true);

    const z = rnd(32);
    const mem = encodeMembership({ groupId: gid, epoch: 7, index: 0x0102, Y: P, R: Q, z });
    expect(toHex(mem)).to.equal(
      toHex(concat(Uint8Array.of(0x11, 1), gid, be32(7), Uint8Array.of(1, 2), encodePoint(P), encodePoint(Q), z)),
    );
    const m = decodeMembership(mem);
    expect([m.index, m.epoch, toHex(m.z), m.Y.equals(P), m.R.equals(Q)]).to.deep.equal([0x0102, 7, toHex(z), true, true]);

    const masked = rnd(32);
    const ksig = rnd(65);
    const ks = encodeKeyShare({ groupId: gid, epoch: 0xffffffff, from: 0xfffe, to: 0x00ff, masked, sig: ksig });
    expect(toHex(ks)).to.equal(
      toHex(concat(Uint8Array.of(0x12, 1), gid, be32(0xffffffff), Uint8Array.of(0xff, 0xfe, 0x00, 0xff), masked, ksig)),
    );
    expect(decodeKeyShare(ks)).to.deep.equal({ groupId: gid, epoch: 0xffffffff, from: 0xfffe, to: 0x00ff, masked, sig: ksig });
    expect(ks).to.have.length(GROUP_SIZES.keyShare);
    malformed(
      () => encodeKeyShare({ groupId: gid, epoch: 1, from: 0, to: 1, masked, sig: rnd(64) }),
      /^encodeKeyShare: the signature must be 65 bytes$/,
    );

    const rk = encodeRekey({ groupId: gid, epoch: 3, sealed });
    expect(toHex(rk)).to.equal(toHex(concat(Uint8Array.of(0x13, 1), gid, be32(3), sealed)));
    expect(decodeRekey(rk)).to.deep.equal({ groupId: gid, epoch: 3, sealed });

    const sender = rnd(32);
    const nonce = rnd(24);
    const ct = rnd(20);
    const sig = rnd(65);
    const seq = 0x0102030405060708n;
    const ch = encodeChannel({ groupId: gid, epoch: 9, sender, seq, nonce, ct, sig });
    const seqBytes = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    expect(toHex(ch)).to.equal(toHex(concat(Uint8Array.of(0x14, 1), gid, be32(9), sender, seqBytes, nonce, ct, sig)));
    expect(toHex(channelHeader({ groupId: gid, epoch: 9, sender, seq, nonce }))).to.equal(toHex(ch.subarray(0, ch.length - 20 - 65)));
    expect(decodeChannel(ch)).to.deep.equal({ groupId: gid, epoch: 9, sender, seq, nonce, ct, sig });
  });

  it("encoders refuse a group id that is not 32 bytes, a u16 out of range, a commitment count that is not the party count, a bad sender or nonce", () => {
    for (const bad of [new Uint8Array(31), new Uint8Array(33)])
      malformed(() => encodeRekey({ groupId: bad, epoch: 1, sealed: rnd(82) }), /^group message: group id must be 32 bytes$/);
    for (const index of [0, 0xffff])
      expect(decodeMembership(encodeMembership({ groupId: gid, epoch: 0, index, Y: P, R: Q, z: rnd(32) })).index).to.equal(index);
    for (const index of [-1, 0x10000, 1.5])
      malformed(
        () => encodeMembership({ groupId: gid, epoch: 0, index, Y: P, R: Q, z: rnd(32) }),
        new RegExp(`^group message: ${index} is not a u16$`),
      );
    malformed(
      () => encodeAllocation({ groupId: gid, epoch: 0, pids: [rnd(32), rnd(32)], pks: [P, Q], commitments: [P], sealed: rnd(82) }),
      /^encodeAllocation: one commitment per party is needed \(degree N for N\+1 parties\)$/,
    );
    malformed(
      () => encodeAllocation({ groupId: gid, epoch: 0, pids: [rnd(32), rnd(32)], pks: [P], commitments: [P, Q], sealed: rnd(82) }),
      /^encodeAllocation: one public key per party is needed$/,
    );
    const sender = rnd(32);
    const nonce = rnd(24);
    malformed(
      () => channelHeader({ groupId: gid, epoch: 0, sender: rnd(31), seq: 1n, nonce }),
      /^channel: sender must be 32 bytes and nonce 24$/,
    );
    malformed(
      () => channelHeader({ groupId: gid, epoch: 0, sender, seq: 1n, nonce: rnd(23) }),
      /^channel: sender must be 32 bytes and nonce 24$/,
    );
    malformed(
      () => encodeChannel({ groupId: gid, epoch: 0, sender, seq: 1n, nonce: rnd(25), ct: rnd(16), sig: rnd(65) }),
      /^channel: sender must be 32 bytes and nonce 24$/,
    );
    for (const seq of [-1n, 1n << 64n, 1 as unknown as bigint])
      malformed(() => channelHeader({ groupId: gid, epoch: 0, sender, seq, nonce }), new RegExp(`^channel: ${seq} is not a u64$`));
    // the bounds are inclusive: 0 and 2^64 - 1 are u64s
    for (const seq of [0n, (1n << 64n) - 1n]) expect(() => channelHeader({ groupId: gid, epoch: 0, sender, seq, nonce })).to.not.throw();
    malformed(
      () => encodeChannel({ groupId: gid, epoch: 0, sender, seq: 1n, nonce, ct: rnd(16), sig: rnd(64) }),
      /^channel: signature must be 65 bytes$/,
    );
  });

  it("decoders check length, type and version first, then every field, and refuse trailing bytes", () => {
    const msgs: [string, (b: Uint8Array) => unknown, Uint8Array][] = [
      [
        "decodeAllocation",
        decodeAllocation,
        encodeAllocation({ groupId: gid, epoch: 1, pids: [rnd(32), rnd(32)], pks: [Q, P], commitments: [P, Q], sealed: rnd(82) }),
      ],
      ["decodeMembership", decodeMembership, encodeMembership({ groupId: gid, epoch: 1, index: 1, Y: P, R: Q, z: rnd(32) })],
      ["decodeKeyShare", decodeKeyShare, encodeKeyShare({ groupId: gid, epoch: 1, from: 0, to: 1, masked: rnd(32), sig: rnd(65) })],
      ["decodeRekey", decodeRekey, encodeRekey({ groupId: gid, epoch: 1, sealed: rnd(82) })],
      [
        "decodeChannel",
        decodeChannel,
        encodeChannel({ groupId: gid, epoch: 1, sender: rnd(32), seq: 1n, nonce: rnd(24), ct: rnd(16), sig: rnd(65) }),
      ],
    ];
    for (const [name, decode, good] of msgs) {
      malformed(() => decode(good.subarray(0, 37)), new RegExp(`^${name}: too short$`));
      malformed(() => decode(Array.from(good) as unknown as Uint8Array), new RegExp(`^${name}: too short$`));
      const type = Uint8Array.from(good);
      type[0] ^= 0x08;
      malformed(() => decode(type), new RegExp(`^${name}: wrong type 0x${type[0].toString(16)}$`));
      const version = Uint8Array.from(good);
      version[1] = 2;
      malformed(() => decode(version), new RegExp(`^${name}: unsupported version 2$`));
      // the header alone (38 bytes) passes the length check, then a field is truncated
      malformed(() => decode(good.subarray(0, 38)), new RegExp(`^${name}: truncated$`));
      if (name !== "decodeChannel") {
        malformed(() => decode(good.subarray(0, good.length - 1)), new RegExp(`^${name}: truncated$`));
        malformed(() => decode(concat(good, Uint8Array.of(0, 0))), new RegExp(`^${name}: 2 trailing bytes$`));
      }
    }
  });

  it("allocation: at least two parties; points are checked, and an invalid point's error keeps the group decoder's reason as its cause", () => {
    const good = encodeAllocation({ groupId: gid, epoch: 1, pids: [rnd(32), rnd(32)], pks: [Q, P], commitments: [P, Q], sealed: rnd(82) });
    const one = Uint8Array.from(good);
    one[39] = 1; // n = 1
    malformed(() => decodeAllocation(one), /^decodeAllocation: a group has at least two parties$/);
    one[38] = 0;
    one[39] = 0;
    malformed(() => decodeAllocation(one), /^decodeAllocation: a group has at least two parties$/);
    const badPoint = Uint8Array.from(good);
    badPoint[40 + 64] = 0x07; // first public key's prefix
    malformed(() => decodeAllocation(badPoint), /^decodeAllocation: invalid point$/);
    let err: unknown;
    try {
      decodeAllocation(badPoint);
    } catch (e) {
      err = e;
    }
    expect((err as Error).cause).to.be.instanceOf(InvalidPointError);
    expect(((err as Error).cause as Error).message).to.equal("decodePoint: prefix must be 0x02 or 0x03, got 0x7");
    const mem = encodeMembership({ groupId: gid, epoch: 1, index: 1, Y: P, R: Q, z: rnd(32) });
    mem[40 + 33] = 0x04; // R's prefix
    malformed(() => decodeMembership(mem), /^decodeMembership: invalid point$/);
  });

  it("channel: the ciphertext holds at least its 16-byte tag", () => {
    const sender = rnd(32);
    const nonce = rnd(24);
    const f = { groupId: gid, epoch: 1, sender, seq: 1n, nonce, sig: rnd(65) };
    expect(decodeChannel(encodeChannel({ ...f, ct: rnd(16) })).ct).to.have.length(16);
    malformed(() => decodeChannel(encodeChannel({ ...f, ct: rnd(15) })), /^decodeChannel: ciphertext shorter than its tag$/);
    malformed(() => decodeChannel(encodeChannel({ ...f, ct: new Uint8Array(0) })), /^decodeChannel: ciphertext shorter than its tag$/);
  });
});

describe("rsms: service groups (RSMS §IV.B)", () => {
  describe("# formation, membership authentication, key agreement", () => {
    it("the user and 4 RNs agree on one key; the chain holds members, Q and epoch 0", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 4 });
      expect(g.parties).to.have.length(5);
      expect(new Set(g.keys.map(toHex)).size).to.equal(1);
      const view = await groupLedger.view(g.groupId);
      expect(view.epoch).to.equal(0);
      expect(view.members).to.equal(4);
      for (const p of g.parties.slice(1)) expect(await groupLedger.isMember(g.groupId, p.pid)).to.equal(true);
      expect(g.wire.allocationPerParty).to.equal(GROUP_SIZES.allocation(5));
      expect(g.wire.membershipPerParty).to.equal(4 * GROUP_SIZES.membership);
      expect(g.wire.keySharesPerParty).to.equal(4 * GROUP_SIZES.keyShare);
    });

    it("service messages cross the AEAD channel; tampering is rejected", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 3 });
      const [alice, ...rns] = g.parties;
      const c = alice.seal(g.groupId, text("render scene 42"));
      for (const rn of rns) expect(new TextDecoder().decode(rn.open(c).plaintext)).to.equal("render scene 42");
      const reply = rns[1].seal(g.groupId, text("frame ready"));
      expect(new TextDecoder().decode(alice.open(reply).plaintext)).to.equal("frame ready");
      const t = Uint8Array.from(c);
      t[t.length - 66] ^= 1; // last ciphertext byte: covered by the sender's signature
      expectGroupFailure(() => rns[0].open(t), "FORGED_SENDER");
      const h = Uint8Array.from(c);
      h[40] ^= 1; // sender PID (signed, and authenticated by the AEAD)
      expectGroupFailure(() => rns[0].open(h), "FORGED_SENDER");
    });

    it("groups of 1 and 8 RNs agree too", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      for (const size of [1, 8]) {
        const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size });
        expect(new Set(g.keys.map(toHex)).size).to.equal(1);
      }
    });
  });

  describe("# attacks on membership authentication and key agreement", () => {
    it("a party that broadcasts a wrong share is detected and named", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const { dealing, parties: infos } = msrp.requestGroup("alice", 3);
      await groupLedger.formGroup(
        dealing.groupId,
        infos[0].pid,
        infos.slice(1).map((p) => p.pid),
        dealing.Q,
        dealing.commitmentsHash,
      );
      const parties = infos.map((p) => party(p.name));
      const view = await groupLedger.view(dealing.groupId);
      const msgs = parties.map((p, i) => p.acceptAllocation(dealing.allocations[i], view));
      // Party 2 claims another share (and can prove knowledge of it): inconsistent with the dealing.
      msgs[2] = membershipMessage(dealing.groupId, 0, 2, parties[2].pid, randomScalar());
      expectGroupFailure(() => parties[0].verifyMembership(dealing.groupId, [msgs[1], msgs[2], msgs[3]]), "INCONSISTENT_SHARE", [
        toHex(parties[2].pid),
      ]);
      expectGroupFailure(() => parties[3].verifyMembership(dealing.groupId, [msgs[0], msgs[1], msgs[2]]), "INCONSISTENT_SHARE", [
        toHex(parties[2].pid),
      ]);
      expect(parties[0].epochsOf(dealing.groupId)).to.deep.equal([]); // no key derived
    });

    it("a tampered f(x_i)*P in transit fails its proof and names the slot", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const { dealing, parties: infos } = msrp.requestGroup("alice", 2);
      await groupLedger.formGroup(
        dealing.groupId,
        infos[0].pid,
        infos.slice(1).map((p) => p.pid),
        dealing.Q,
        dealing.commitmentsHash,
      );
      const parties = infos.map((p) => party(p.name));
      const view = await groupLedger.view(dealing.groupId);
      const msgs = parties.map((p, i) => p.acceptAllocation(dealing.allocations[i], view));
      const m = decodeMembership(msgs[1]);
      const forged = encodeMembership({ ...m, Y: m.Y.add(mulBase(1n)) });
      expectGroupFailure(() => parties[0].verifyMembership(dealing.groupId, [forged, msgs[2]]), "BAD_PROOF", [toHex(parties[1].pid)]);
    });

    it("an outsider with no share cannot take a member's place", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const { dealing, parties: infos } = msrp.requestGroup("alice", 2);
      await groupLedger.formGroup(
        dealing.groupId,
        infos[0].pid,
        infos.slice(1).map((p) => p.pid),
        dealing.Q,
        dealing.commitmentsHash,
      );
      const parties = infos.map((p) => party(p.name));
      const view = await groupLedger.view(dealing.groupId);
      // The outsider cannot open the member's allocation...
      const outsider = new GroupParty("mallory", parties[2].pid, randomScalar());
      let err: unknown;
      try {
        outsider.acceptAllocation(dealing.allocations[2], view);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(DecryptionError);
      // ...and Y_2 (computable from the public commitments) without its discrete log fails the proof.
      const msgs = parties.slice(0, 2).map((p, i) => p.acceptAllocation(dealing.allocations[i], view));
      const honest = decodeMembership(parties[2].acceptAllocation(dealing.allocations[2], view));
      const R = mulBase(randomScalar());
      const fake = encodeMembership({ ...honest, R, z: honest.z });
      expectGroupFailure(() => parties[0].verifyMembership(dealing.groupId, [msgs[1], fake]), "BAD_PROOF", [toHex(parties[2].pid)]);
    });

    it("a forged Q or forged commitments are detected against the chain", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const { dealing, parties: infos } = msrp.requestGroup("alice", 2);
      await groupLedger.formGroup(
        dealing.groupId,
        infos[0].pid,
        infos.slice(1).map((p) => p.pid),
        dealing.Q,
        dealing.commitmentsHash,
      );
      const view = await groupLedger.view(dealing.groupId);
      // An allocation re-dealt with another polynomial (forged Q) by someone relaying it:
      const forged = dealGroup(randomScalar(), dealing.groupId, 0, infos);
      expectGroupFailure(() => party(infos[1].name).acceptAllocation(forged.allocations[1], view), "DEALING_MISMATCH");
      // The real allocation against a chain view with another Q:
      expectGroupFailure(
        () => party(infos[1].name).acceptAllocation(dealing.allocations[1], { ...view, Q: mulBase(5n) }),
        "DEALING_MISMATCH",
      );
    });

    it("a key share that does not match its sender's Y is named", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const { dealing, parties: infos } = msrp.requestGroup("alice", 2);
      await groupLedger.formGroup(
        dealing.groupId,
        infos[0].pid,
        infos.slice(1).map((p) => p.pid),
        dealing.Q,
        dealing.commitmentsHash,
      );
      const parties = infos.map((p) => party(p.name));
      const view = await groupLedger.view(dealing.groupId);
      const msgs = parties.map((p, i) => p.acceptAllocation(dealing.allocations[i], view));
      parties.forEach((p, i) =>
        p.verifyMembership(
          dealing.groupId,
          msgs.filter((_, j) => j !== i),
        ),
      );
      const shares = parties.map((p) => p.keyShares(dealing.groupId));
      // altered in transit: refused, and nobody is blamed (the sender did not sign it)
      const bad = Uint8Array.from(shares[1].get(0)!);
      bad[bad.length - 66] ^= 1;
      const f = failureOf(() => parties[0].acceptKeyShares(dealing.groupId, [bad, shares[2].get(0)!]));
      expect([f.failure, f.message, f.parties]).to.deep.equal([
        "FORGED_SENDER",
        "alice: the key share from party 1 is not signed by it (altered in transit); nobody is blamed",
        [],
      ]);
      expect(parties[0].epochsOf(dealing.groupId)).to.deep.equal([]);
    });
  });

  describe("# key update: forward and backward security", () => {
    it("an evicted member cannot read traffic after the update; a new member cannot read traffic before it", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 4 });
      const [alice, ...rns] = g.parties;
      const before = alice.seal(g.groupId, text("epoch 0 secret"));
      const evicted = rns[1];
      const spare = msrp.joinedRns().find((r) => !g.parties.some((p) => toHex(p.pid) === toHex(r.pid)))!;
      const newcomer = party(spare.name);
      const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId, evict: [evicted.pid], add: [newcomer.name] });
      expect(r.epoch).to.equal(1);
      expect(await groupLedger.isMember(g.groupId, evicted.pid)).to.equal(false);
      expect(await groupLedger.isMember(g.groupId, newcomer.pid)).to.equal(true);
      const after = alice.seal(g.groupId, text("epoch 1 secret"));
      for (const p of r.parties.filter((x) => toHex(x.pid) !== toHex(alice.pid)))
        expect(new TextDecoder().decode(p.open(after).plaintext)).to.equal("epoch 1 secret");
      expectGroupFailure(() => alice.open(after), "REFLECTED"); // her own message is not traffic she received (s24-rtr R2)
      expectGroupFailure(() => evicted.open(after), "CHANNEL_REJECTED");
      expectGroupFailure(() => newcomer.open(before), "CHANNEL_REJECTED");
      // the evicted member cannot open the update sealed to anyone else either
      expect(r.messages.has(toHex(evicted.pid))).to.equal(false);
      // remaining members still read the old epoch
      expect(new TextDecoder().decode(rns[0].openArchived(before).plaintext)).to.equal("epoch 0 secret");
    });

    it("many successive updates work, each with a fresh key", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 3 });
      const seen = new Set<string>([toHex(g.keys[0])]);
      for (let e = 1; e <= 5; e++) {
        const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
        expect(r.epoch).to.equal(e);
        expect(new Set(r.keys.map(toHex)).size).to.equal(1);
        seen.add(toHex(r.keys[0]));
        const c = r.parties[0].seal(g.groupId, text(`m${e}`));
        for (const p of r.parties.slice(1)) expect(new TextDecoder().decode(p.open(c).plaintext)).to.equal(`m${e}`);
      }
      expect(seen.size).to.equal(6);
      expect((await groupLedger.view(g.groupId)).epoch).to.equal(5);
    });

    it("a replayed old update is rejected and changes nothing", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
      const r1 = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
      await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
      const p = r1.parties[1];
      const old = r1.messages.get(toHex(p.pid))!;
      const view = await groupLedger.view(g.groupId);
      const epochs = p.epochsOf(g.groupId);
      expectGroupFailure(() => p.acceptRekey(old, view, r1.roster), "STALE_EPOCH");
      expectGroupFailure(() => p.acceptRekey(old, { ...view, epoch: 1 }, r1.roster), "STALE_EPOCH");
      expect(p.epochsOf(g.groupId)).to.deep.equal(epochs);
      expect(p.currentEpoch(g.groupId)).to.equal(2);
    });

    it("an update whose key does not match Q' on-chain is rejected", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
      await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
      const view = await groupLedger.view(g.groupId);
      const p = g.parties[1];
      const roster = g.parties.map((x) => ({ pid: x.pid, pk: x.publicKey }));
      const bogus = rekeyMessage(g.groupId, 2, randomScalar(), { pid: p.pid, pk: p.publicKey }, roster);
      expectGroupFailure(() => p.acceptRekey(bogus, { ...view, epoch: 2 }, roster), "KEY_MISMATCH");
    });

    it("the MSRP refuses to evict a non-member or add an RN that has not joined", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
      expect(() => msrp.rekeyGroup(g.groupId, [mulBase(3n).toBytes(true).subarray(1)], [])).to.throw(AgentStateError, /not a member/);
      expect(() => msrp.rekeyGroup(g.groupId, [], ["nobody"])).to.throw(AgentStateError, /has not joined/);
      expect(msrp.groupInfo(g.groupId).epoch).to.equal(0);
    });

    it("the paper's update s_new = s + H5(Q, PK_pub)*msk would hand msk to any remaining member", () => {
      // Why metatrust draws s_new at random (docs/specs/rsms-group.md): a member knows s and s_new.
      const msk = randomScalar();
      const s = randomScalar();
      const Q = mulBase(s);
      const PKpub = mulBase(msk);
      const sNew = addMod(s, mulMod(H5(Q, PKpub), msk));
      const recovered = mulMod(subMod(sNew, s), invert(H5(Q, PKpub)));
      expect(recovered).to.equal(msk);
    });
  });
});

/** A group dealt by the MSRP and formed on-chain; every party has accepted its allocation. */
async function dealt(size: number) {
  const fx = await loadGroups();
  const { dealing, parties: infos } = fx.msrp.requestGroup("alice", size);
  await fx.groupLedger.formGroup(
    dealing.groupId,
    infos[0].pid,
    infos.slice(1).map((p) => p.pid),
    dealing.Q,
    dealing.commitmentsHash,
  );
  const parties = infos.map((p) => fx.party(p.name));
  const view = await fx.groupLedger.view(dealing.groupId);
  const msgs = parties.map((p, i) => p.acceptAllocation(dealing.allocations[i], view));
  const gid = dealing.groupId;
  const pidHex = (i: number) => toHex(parties[i].pid);
  const others = (i: number) => msgs.filter((_, j) => j !== i);
  /** The share a party holds for the group (from its keystore record). */
  const shareOf = (i: number) => BigInt((parties[i].toRecord().groups as Record<string, { share: string }>)[toHex(gid)].share);
  const authenticate = () => parties.forEach((p, i) => p.verifyMembership(gid, others(i)));
  return { ...fx, dealing, infos, parties, view, msgs, gid, pidHex, others, shareOf, authenticate };
}

function failureOf(f: () => unknown): GroupAuthenticationError {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(GroupAuthenticationError);
    return e as GroupAuthenticationError;
  }
  expect.fail("expected a GroupAuthenticationError");
}

describe("rsms/group: dealing, vectors and the party's every check", () => {
  it("the dealing: user + RNs, Q = s*P = A_0, the on-chain hash of the commitments, one allocation per party", () => {
    const parties = [1n, 2n, 3n].map((k) => ({ pid: H6("p", k), pk: mulBase(k + 10n) }));
    const gid = new Uint8Array(32).fill(3);
    const s = randomScalar();
    const d = dealGroup(randomScalar(), gid, 4, parties, s);
    expect(d.s).to.equal(s);
    expect(d.Q.equals(mulBase(s))).to.equal(true);
    expect(d.commitments).to.have.length(3);
    expect(d.commitments[0].equals(d.Q)).to.equal(true);
    expect(toHex(d.commitmentsHash)).to.equal(toHex(keccak_256(concat(...d.commitments.map(encodePoint)))));
    expect(toHex(commitmentsHash(d.commitments))).to.equal(toHex(d.commitmentsHash));
    expect([toHex(d.groupId), d.epoch, d.allocations.length]).to.deep.equal([toHex(gid), 4, 3]);
    const xs = partyXs(parties.map((p) => p.pid));
    expect(xs).to.deep.equal(parties.map((p) => H2(p.pid)));
    d.allocations.forEach((raw, i) => {
      const a = decodeAllocation(raw);
      expect([a.epoch, a.pids.map(toHex)]).to.deep.equal([4, parties.map((p) => toHex(p.pid))]);
      expect(a.pks.every((pk, j) => pk.equals(parties[j].pk))).to.equal(true);
      expect(toHex(rosterHash(parties))).to.equal(
        toHex(keccak_256(concat(...parties.map((p) => p.pid), ...parties.map((p) => encodePoint(p.pk))))),
      );
      const share = decodeScalar(
        eciesDecrypt(10n + BigInt(i + 1), a.sealed, concat(toBytes(`RSMS-V1-GROUP-SHARE/4/`), gid, parties[i].pid, rosterHash(parties))),
      );
      expect(mulBase(share).equals(feldmanEval(d.commitments, xs[i]))).to.equal(true);
    });
    // Feldman evaluation is sum_k x^k A_k
    expect(
      feldmanEval(d.commitments, 5n).equals(d.commitments[0].add(d.commitments[1].multiply(5n)).add(d.commitments[2].multiply(25n))),
    ).to.equal(true);
    // a fresh key at formation, bound to nothing the caller chose
    const d2 = dealGroup(7n, gid, 0, parties);
    expect(d2.Q.equals(mulBase(d2.s))).to.equal(true);
    expect(d2.s).to.not.equal(dealGroup(7n, gid, 0, parties).s);
  });

  it("the dealing needs the user and an RN, with distinct PIDs", () => {
    const p = { pid: H6("p", 1n), pk: mulBase(3n) };
    expectThrows(
      () => dealGroup(1n, new Uint8Array(32), 0, [p]),
      AgentStateError,
      "AGENT_STATE",
      /^dealGroup: a group needs the user and at least one RN$/,
    );
    expectThrows(
      () => dealGroup(1n, new Uint8Array(32), 0, [p, { ...p }]),
      AgentStateError,
      "AGENT_STATE",
      /^partyXs: two parties share an x-coordinate \(duplicate PID\)$/,
    );
  });

  it("vectors: the proof of knowledge, the key-share mask and the epoch key follow docs/specs/rsms-group.md", () => {
    const gid = new Uint8Array(32).fill(9);
    const pid = H6("p", 1n);
    const y = randomScalar();
    const m = decodeMembership(membershipMessage(gid, 6, 2, pid, y));
    expect([toHex(m.groupId), m.epoch, m.index, m.Y.equals(mulBase(y))]).to.deep.equal([toHex(gid), 6, 2, true]);
    const c = hashToScalar(
      "METATRUST-V1-RSMS-GROUP-POK",
      concat(gid, encodeScalar(7n), encodeScalar(3n), pid, encodePoint(m.Y), encodePoint(m.R)),
    );
    expect(mulBase(decodeScalar(m.z)).equals(m.R.add(m.Y.multiply(c)))).to.equal(true);
    const s = randomScalar();
    const info = concat(toBytes("METATRUST-V1-RSMS-GROUP-KEY"), Uint8Array.of(0, 0, 1, 2));
    expect(toHex(epochKey(s, gid, 258))).to.equal(toHex(hkdf(sha256, encodeScalar(s), gid, info, 32)));
  });

  it("a party key-shares and unmasks with H3(f(x_i)*Y_j, gid, epoch+1, i+1, j+1)", async () => {
    const g = await dealt(2);
    g.authenticate();
    const shares = g.parties.map((p) => p.keyShares(g.gid));
    expect([...shares[1].keys()]).to.deep.equal([0, 2]);
    const ks = decodeKeyShare(shares[1].get(2)!);
    expect([toHex(ks.groupId), ks.epoch, ks.from, ks.to]).to.deep.equal([toHex(g.gid), 0, 1, 2]);
    const y1 = g.shareOf(1);
    const mask = H3(32, mulBase(g.shareOf(2)).multiply(y1), g.gid, 1n, 2n, 3n);
    expect(bytesToNumberBE(xor(ks.masked, mask))).to.equal(y1);
  });

  it("acceptAllocation: not listed, stale epoch, a dealing that does not match the chain's Q or hash, a share inconsistent with the commitments", async () => {
    const g = await dealt(2);
    const fresh = (i: number) => new GroupParty(`p${i}`, g.parties[i].pid, BigInt((g.parties[i].toRecord() as { sk: string }).sk));
    const rn = fresh(1);
    const alloc = g.dealing.allocations[1];
    const outsider = new GroupParty("mallory", H6("mallory", 1n), randomScalar());
    expectThrows(
      () => outsider.acceptAllocation(alloc, g.view),
      AgentStateError,
      "AGENT_STATE",
      /^mallory: the allocation does not list my PID$/,
    );
    let f = failureOf(() => rn.acceptAllocation(alloc, { ...g.view, epoch: 1 }));
    expect([f.failure, f.message, f.parties]).to.deep.equal(["STALE_EPOCH", "p1: allocation for epoch 0, chain is at 1", []]);
    f = failureOf(() => rn.acceptAllocation(alloc, { ...g.view, commitmentsHash: new Uint8Array(32) }));
    expect([f.failure, f.message]).to.deep.equal([
      "DEALING_MISMATCH",
      "p1: the dealt commitments do not match Q and the commitments hash on-chain",
    ]);
    f = failureOf(() => rn.acceptAllocation(alloc, { ...g.view, Q: mulBase(5n) }));
    expect(f.failure).to.equal("DEALING_MISMATCH");
    // the share of this dealing under the commitments of another one (which the chain view matches)
    const other = dealGroup(randomScalar(), g.gid, 0, g.infos);
    const swapped = encodeAllocation({ ...decodeAllocation(alloc), commitments: other.commitments });
    f = failureOf(() => rn.acceptAllocation(swapped, { epoch: 0, Q: other.Q, commitmentsHash: other.commitmentsHash }));
    expect([f.failure, f.message, f.parties]).to.deep.equal([
      "INCONSISTENT_SHARE",
      "p1: the MSRP dealt me a share inconsistent with its commitments",
      [g.pidHex(1)],
    ]);
    // a share sealed for epoch 0, relabelled as epoch 1, does not open
    const relabelled = encodeAllocation({ ...decodeAllocation(alloc), epoch: 1 });
    expectThrows(() => rn.acceptAllocation(relabelled, { ...g.view, epoch: 1 }), DecryptionError, "DECRYPTION_FAILED");
    expect(rn.epochsOf(g.gid)).to.deep.equal([]);
    expectThrows(() => rn.currentEpoch(g.gid), AgentStateError, "AGENT_STATE", new RegExp(`^p1: not a member of group ${toHex(g.gid)}$`));
    // the honest allocation: Y = f(x_i)*P with a valid proof, and no key agreement before membership authentication
    const m = decodeMembership(rn.acceptAllocation(alloc, g.view));
    expect([m.index, m.epoch, m.Y.equals(feldmanEval(g.dealing.commitments, H2(g.parties[1].pid)))]).to.deep.equal([1, 0, true]);
    expect(rn.currentEpoch(g.gid)).to.equal(0);
    expectThrows(() => rn.keyShares(g.gid), AgentStateError, "AGENT_STATE", /^p1: key agreement before membership authentication$/);
    expectThrows(
      () => rn.acceptKeyShares(g.gid, []),
      AgentStateError,
      "AGENT_STATE",
      /^p1: key agreement before membership authentication$/,
    );
    expectThrows(() => rn.seal(g.gid, toBytes("x")), AgentStateError, "AGENT_STATE", /^p1: no key for epoch 0 yet$/);
  });

  it("verifyMembership: another group or epoch, a bad or repeated index, a missing party", async () => {
    const g = await dealt(2);
    const alice = g.parties[0];
    const [, m1, m2] = g.msgs;
    const re = (raw: Uint8Array, patch: Partial<ReturnType<typeof decodeMembership>>) =>
      encodeMembership({ ...decodeMembership(raw), ...patch });
    let f = failureOf(() => alice.verifyMembership(g.gid, [m1, re(m2, { groupId: new Uint8Array(32) })]));
    expect([f.failure, f.message, f.parties]).to.deep.equal(["STALE_EPOCH", "alice: membership message for another group or epoch", []]);
    f = failureOf(() => alice.verifyMembership(g.gid, [re(m1, { epoch: 1 }), m2]));
    expect(f.failure).to.equal("STALE_EPOCH");
    const malformed = (msgs: Uint8Array[], msg: RegExp) =>
      expectThrows(() => alice.verifyMembership(g.gid, msgs), MalformedMessageError, "MESSAGE_MALFORMED", msg);
    malformed([m1, re(m2, { index: 3 })], /^alice: membership message with index 3$/);
    malformed([m1, re(m2, { index: 0 })], /^alice: membership message with index 0$/);
    f = failureOf(() => alice.verifyMembership(g.gid, [m1, m2, m1]));
    expect([f.failure, f.message]).to.deep.equal(["REPLAYED", "alice: two membership messages from party 1"]);
    f = failureOf(() => alice.verifyMembership(g.gid, [m2]));
    expect([f.failure, f.message, f.parties]).to.deep.equal(["BAD_PROOF", "alice: no membership message from 1 part(ies)", [g.pidHex(1)]]);
    f = failureOf(() => alice.verifyMembership(g.gid, []));
    expect(f.parties).to.deep.equal([g.pidHex(1), g.pidHex(2)]);
    expectThrows(() => alice.keyShares(g.gid), AgentStateError, "AGENT_STATE", /^alice: key agreement before membership authentication$/);
    // in any order
    alice.verifyMembership(g.gid, [m2, m1]);
    expect(alice.keyShares(g.gid).size).to.equal(2);
  });

  it("verifyMembership: a proof with z = 0, z = q or z = 2^256 - 1 fails and names its slot", async () => {
    const g = await dealt(2);
    for (const z of [0n, ORDER, 2n ** 256n - 1n]) {
      const bad = encodeMembership({ ...decodeMembership(g.msgs[2]), z: numberToBytesBE(z, 32) });
      const f = failureOf(() => g.parties[1].verifyMembership(g.gid, [g.msgs[0], bad]));
      expect([f.failure, f.message, f.parties]).to.deep.equal([
        "BAD_PROOF",
        `${g.parties[1].name}: 1 part(ies) could not prove knowledge of their share`,
        [g.pidHex(2)],
      ]);
    }
  });

  it("verifyMembership: two colluding members whose wrong shares cancel under unit weights are still named (the weights are random)", async () => {
    const g = await dealt(3);
    const xs = g.parties.map((p) => H2(p.pid));
    const l = lagrangeCoefficients(xs, 0n);
    // With weights 1 the folded check is (1 + l_1) d_1 + (1 + l_2) d_2 = 0 for d_2 = -(1 + l_1) d_1 / (1 + l_2).
    const d1 = randomScalar();
    const d2 = subMod(0n, mulMod(mulMod(addMod(1n, l[1]), d1), invert(addMod(1n, l[2]))));
    const y1 = addMod(g.shareOf(1), d1);
    const y2 = addMod(g.shareOf(2), d2);
    const forged = [
      g.msgs[0],
      membershipMessage(g.gid, 0, 1, g.parties[1].pid, y1),
      membershipMessage(g.gid, 0, 2, g.parties[2].pid, y2),
      g.msgs[3],
    ];
    const f = failureOf(() => g.parties[3].verifyMembership(g.gid, forged.slice(0, 3)));
    expect([f.failure, f.message, f.parties]).to.deep.equal([
      "INCONSISTENT_SHARE",
      `${g.parties[3].name}: 2 part(ies) broadcast a share inconsistent with the dealing`,
      [g.pidHex(1), g.pidHex(2)],
    ]);
  });

  it("acceptKeyShares: another group, epoch or recipient; a bad sender index; an out-of-range or missing share", async () => {
    const g = await dealt(2);
    g.authenticate();
    const shares = g.parties.map((p) => p.keyShares(g.gid));
    const alice = g.parties[0];
    const [s1, s2] = [shares[1].get(0)!, shares[2].get(0)!];
    // a patched share re-signed by its sender (the sender itself misbehaves)
    const re = (raw: Uint8Array, patch: Partial<ReturnType<typeof decodeKeyShare>>) => {
      const m = { ...decodeKeyShare(raw), ...patch };
      const sk = decodeScalar(fromHex(String(g.parties[decodeKeyShare(raw).from].toRecord().sk), 32));
      return encodeKeyShare({ ...m, sig: schnorrSign(sk, "METATRUST-V1-RSMS-GROUP-KEYSHARE", keyShareSigned(m)) });
    };
    for (const patch of [{ groupId: new Uint8Array(32) }, { epoch: 1 }, { to: 1 }]) {
      const f = failureOf(() => alice.acceptKeyShares(g.gid, [re(s1, patch), s2]));
      expect([f.failure, f.message, f.parties]).to.deep.equal(["STALE_EPOCH", "alice: key share for another group, epoch or party", []]);
    }
    const malformed = (msgs: Uint8Array[], msg: RegExp) =>
      expectThrows(() => alice.acceptKeyShares(g.gid, msgs), MalformedMessageError, "MESSAGE_MALFORMED", msg);
    malformed([re(s1, { from: 3 }), s2], /^alice: key share from index 3$/);
    malformed([re(s1, { from: 0 }), s2], /^alice: key share from index 0$/);
    // rn1 (index 2) masks 0, q, or a scalar that is not its share
    const y2 = g.shareOf(2);
    const mask = H3(32, mulBase(g.shareOf(0)).multiply(y2), g.gid, 1n, 3n, 1n);
    for (const y of [0n, ORDER, addMod(y2, 1n)]) {
      const f = failureOf(() => alice.acceptKeyShares(g.gid, [s1, re(s2, { masked: xor(numberToBytesBE(y, 32), mask) })]));
      expect([f.failure, f.message, f.parties]).to.deep.equal([
        "INCONSISTENT_SHARE",
        "alice: 1 key share(s) do not match their senders' Y",
        [g.pidHex(2)],
      ]);
    }
    let f = failureOf(() => alice.acceptKeyShares(g.gid, [s2]));
    expect([f.failure, f.message, f.parties]).to.deep.equal(["BAD_PROOF", "alice: missing key shares", [g.pidHex(1)]]);
    f = failureOf(() => alice.acceptKeyShares(g.gid, []));
    expect(f.parties).to.deep.equal([g.pidHex(1), g.pidHex(2)]);
    expect(alice.epochsOf(g.gid)).to.deep.equal([]);
    const k = alice.acceptKeyShares(g.gid, [s2, s1]);
    expect(toHex(k)).to.equal(toHex(epochKey(g.dealing.s, g.gid, 0)));
    expect(alice.epochsOf(g.gid)).to.deep.equal([0]);
  });

  it("seal and open: the channel message names the sender and epoch; an unknown group or epoch, or any tampering, is refused", async () => {
    const fx = await loadGroups();
    const g = await formServiceGroup(fx.groupLedger, fx.msrp, fx.party, { user: "alice", size: 2 });
    const [alice, rn] = g.parties;
    const c = alice.seal(g.groupId, toBytes("hello"));
    const m = decodeChannel(c);
    expect([toHex(m.groupId), m.epoch, toHex(m.sender), m.ct.length]).to.deep.equal([toHex(g.groupId), 0, toHex(alice.pid), 5 + 16]);
    expect(rn.open(c)).to.deep.equal({ sender: toHex(alice.pid), epoch: 0, seq: 1n, plaintext: toBytes("hello") });
    let f = failureOf(() => rn.open(c));
    expect([f.failure, f.message, f.parties]).to.deep.equal([
      "REPLAYED",
      `${rn.name}: sequence number 1 from ${toHex(alice.pid)} is not above the last accepted, 1`,
      [toHex(alice.pid)],
    ]);
    const other = encodeChannel({ ...m, groupId: new Uint8Array(32).fill(1) });
    f = failureOf(() => rn.open(other));
    expect([f.failure, f.message, f.parties]).to.deep.equal(["CHANNEL_REJECTED", `${rn.name}: no key for epoch 0 of this group`, []]);
    f = failureOf(() => rn.open(encodeChannel({ ...m, epoch: 5 })));
    expect(f.message).to.equal(`${rn.name}: live traffic is accepted under the current epoch 0 only, not 5 (old traffic: openArchived)`);
    const t = Uint8Array.from(c);
    t[t.length - 1] ^= 1; // the signature
    f = failureOf(() => rn.open(t));
    expect([f.failure, f.message]).to.deep.equal(["FORGED_SENDER", `${rn.name}: the channel message is not signed by ${toHex(alice.pid)}`]);
    // a tampered ciphertext that its sender signs anyway still fails the AEAD
    const bad = Uint8Array.from(m.ct);
    bad[0] ^= 1;
    const aliceSk = decodeScalar(fromHex(String(alice.toRecord().sk), 32));
    const resigned = { ...m, seq: 2n, ct: bad };
    f = failureOf(() =>
      rn.open(encodeChannel({ ...resigned, sig: schnorrSign(aliceSk, "METATRUST-V1-RSMS-GROUP-CHANNEL", channelSigned(resigned)) })),
    );
    expect(f.failure).to.equal("CHANNEL_REJECTED");
    expect(f.message).to.match(new RegExp(`^${rn.name}: channel message does not open \\(.+\\)$`));
    expectThrows(
      () => rn.seal(new Uint8Array(32), toBytes("x")),
      AgentStateError,
      "AGENT_STATE",
      new RegExp(`^${rn.name}: not a member of group 0x0{64}$`),
    );
  });
});

describe("rsms/group: key update, keystore record and the group ledger", () => {
  it("acceptRekey: the chain's epoch only, newer than mine only, s'*P = Q' only, and only for a listed member; each refusal changes nothing", async () => {
    const { msrp, party, groupLedger } = await loadGroups();
    const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
    const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
    const p = r.parties[1];
    const view = await groupLedger.view(g.groupId);
    const members = r.roster;
    const msg = r.messages.get(toHex(p.pid))!;
    const rec = JSON.stringify(p.toRecord());
    let f = failureOf(() => p.acceptRekey(msg, { ...view, epoch: 2 }, members));
    expect([f.failure, f.message, f.parties]).to.deep.equal(["STALE_EPOCH", `${p.name}: update for epoch 1, chain is at 2`, []]);
    // the same update again, while the chain is still at its epoch: a replay
    f = failureOf(() => p.acceptRekey(msg, view, members));
    expect([f.failure, f.message]).to.deep.equal(["STALE_EPOCH", `${p.name}: update for epoch 1, I am at 1 (replay)`]);
    // a valid update of the next epoch whose key is not Q' on-chain
    const next = rekeyMessage(g.groupId, 2, randomScalar(), { pid: p.pid, pk: p.publicKey }, members);
    f = failureOf(() => p.acceptRekey(next, { ...view, epoch: 2 }, members));
    expect([f.failure, f.message]).to.deep.equal(["KEY_MISMATCH", `${p.name}: s_new*P != Q_new on-chain`]);
    // an update sealed for epoch 2, relabelled epoch 3, does not open
    const s2 = randomScalar();
    const swapped = [members[1], members[0]];
    const sealed2 = rekeyMessage(g.groupId, 2, s2, { pid: p.pid, pk: p.publicKey }, swapped);
    const view2 = { epoch: 2, Q: mulBase(s2), commitmentsHash: view.commitmentsHash };
    expectThrows(
      () => p.acceptRekey(encodeRekey({ ...decodeRekey(sealed2), epoch: 3 }), { ...view2, epoch: 3 }, swapped),
      DecryptionError,
      "DECRYPTION_FAILED",
    );
    // a roster other than the one the MSRP sealed does not open (a relay cannot swap a key in)
    expectThrows(() => p.acceptRekey(sealed2, view2, members), DecryptionError, "DECRYPTION_FAILED");
    const without = rekeyMessage(g.groupId, 2, s2, { pid: p.pid, pk: p.publicKey }, [members[0]]);
    expectThrows(
      () => p.acceptRekey(without, view2, [members[0]]),
      AgentStateError,
      "AGENT_STATE",
      new RegExp(`^${p.name}: not a member of the new epoch$`),
    );
    expect(JSON.stringify(p.toRecord())).to.equal(rec);
    // and the genuine next update: index in the new membership, keys of every epoch kept
    const k2 = p.acceptRekey(sealed2, view2, swapped);
    expect(toHex(k2)).to.equal(toHex(epochKey(s2, g.groupId, 2)));
    expect(p.epochsOf(g.groupId)).to.deep.equal([0, 1, 2]);
    expect((p.toRecord().groups as Record<string, { index: number; epoch: number }>)[toHex(g.groupId)]).to.deep.include({
      index: 0,
      epoch: 2,
    });
    // the update's key is the epoch's key: there is no membership run or key agreement to do
    const updated = JSON.stringify(p.toRecord());
    f = failureOf(() => p.verifyMembership(g.groupId, []));
    expect([f.failure, f.message]).to.deep.equal(["REPLAYED", `${p.name}: membership of epoch 2 is already authenticated`]);
    f = failureOf(() => p.acceptKeyShares(g.groupId, []));
    expect([f.failure, f.message]).to.deep.equal(["REPLAYED", `${p.name}: the key of epoch 2 is already agreed`]);
    expectThrows(
      () => p.keyShares(g.groupId),
      AgentStateError,
      "AGENT_STATE",
      new RegExp(
        `^${p.name}: no key agreement in epoch 2: I hold no membership broadcast of party 1 \\(the key came with an update or a keystore record\\)$`,
      ),
    );
    expect(JSON.stringify(p.toRecord())).to.equal(updated);
  });

  it("a party round-trips through its keystore record: groups, epochs, keys and the shares it holds", async () => {
    const { msrp, party, groupLedger } = await loadGroups();
    const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
    const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
    const p = r.parties[2];
    const c0 = g.parties[0].seal(g.groupId, toBytes("e0"));
    const c1 = r.parties[0].seal(g.groupId, toBytes("e1"));
    const rec = JSON.parse(JSON.stringify(p.toRecord())) as Record<string, unknown>;
    const gr = (rec.groups as Record<string, Record<string, unknown>>)[toHex(g.groupId)];
    expect(Object.keys(rec)).to.deep.equal(["name", "pid", "sk", "groups"]);
    expect([rec.name, rec.pid]).to.deep.equal([p.name, toHex(p.pid)]);
    expect(gr).to.deep.include({
      epoch: 1,
      index: 2,
      pids: r.parties.map((x) => toHex(x.pid)),
      Q: toHex(encodePoint((await groupLedger.view(g.groupId)).Q)),
    });
    expect(Object.keys(gr.keys as object)).to.deep.equal(["0", "1"]);
    const back = GroupParty.fromRecord(rec);
    expect([back.name, toHex(back.pid), back.publicKey.equals(p.publicKey)]).to.deep.equal([p.name, toHex(p.pid), true]);
    expect(back.currentEpoch(g.groupId)).to.equal(1);
    expect(back.epochsOf(g.groupId)).to.deep.equal([0, 1]);
    expect(JSON.stringify(back.toRecord())).to.equal(JSON.stringify(rec));
    // a restored group is past membership authentication and key agreement, as it was when saved
    let f = failureOf(() => back.verifyMembership(g.groupId, []));
    expect([f.failure, f.message]).to.deep.equal(["REPLAYED", `${p.name}: membership of epoch 1 is already authenticated`]);
    f = failureOf(() => back.acceptKeyShares(g.groupId, []));
    expect([f.failure, f.message]).to.deep.equal(["REPLAYED", `${p.name}: the key of epoch 1 is already agreed`]);
    expect(new TextDecoder().decode(back.open(c0).plaintext)).to.equal("e0");
    expect(new TextDecoder().decode(back.open(c1).plaintext)).to.equal("e1");
    expect(r.parties[1].open(back.seal(g.groupId, toBytes("from the restored party"))).sender).to.equal(toHex(p.pid));
    // what it sent and accepted is in its record: a restored copy keeps the counters
    const counters = (x: GroupParty) => (x.toRecord().groups as Record<string, { sent: string; seen: object }>)[toHex(g.groupId)];
    expect(counters(GroupParty.fromRecord(back.toRecord()))).to.deep.include({ sent: "1" });
    expect(Object.values(counters(back).seen)).to.deep.equal(["2"]);
    // a record without groups, and one whose epochs are listed out of order
    expect(GroupParty.fromRecord({ name: "x", pid: rec.pid, sk: rec.sk }).epochsOf(g.groupId)).to.deep.equal([]);
    const shuffled = {
      ...rec,
      groups: {
        [toHex(g.groupId)]: {
          ...gr,
          keys: { "10": (gr.keys as Record<string, string>)["1"], "02": (gr.keys as Record<string, string>)["0"] },
        },
      },
    };
    expect(GroupParty.fromRecord(shuffled).epochsOf(g.groupId)).to.deep.equal([2, 10]);
    expect(p.epochsOf(new Uint8Array(32))).to.deep.equal([]);
  });

  it("a party restored between membership authentication and key agreement refuses the key shares in one line, and derives no key", async () => {
    const g = await dealt(2);
    g.authenticate();
    const shares = g.parties.map((p) => p.keyShares(g.gid));
    const back = GroupParty.fromRecord(g.parties[0].toRecord());
    expectThrows(
      () => back.acceptKeyShares(g.gid, [shares[1].get(0)!, shares[2].get(0)!]),
      AgentStateError,
      "AGENT_STATE",
      /^alice: no key agreement in epoch 0: I hold no membership broadcast of party 1 \(the key came with an update or a keystore record\)$/,
    );
    expect(back.epochsOf(g.gid)).to.deep.equal([]);
    // the party that was not restored agrees on the key
    expect(toHex(g.parties[0].acceptKeyShares(g.gid, [shares[1].get(0)!, shares[2].get(0)!]))).to.equal(
      toHex(epochKey(g.dealing.s, g.gid, 0)),
    );
  });

  it("rekeyServiceGroup with no evictions or additions keeps the members; every update is 120 bytes", async () => {
    const { msrp, party, groupLedger } = await loadGroups();
    const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 3, groupId: new Uint8Array(32).fill(0x42) });
    expect(toHex(g.groupId)).to.equal(toHex(new Uint8Array(32).fill(0x42)));
    const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
    expect(r.parties.map((p) => p.name)).to.deep.equal(g.parties.map((p) => p.name));
    expect(r.bytesPerParty).to.equal(GROUP_SIZES.rekey);
    expect([...r.messages.keys()]).to.deep.equal(g.parties.map((p) => toHex(p.pid)));
    expect(r.tx.gasUsed > 0n).to.equal(true);
    const view = await groupLedger.view(g.groupId);
    expect([view.epoch, view.members, toHex(view.userPid)]).to.deep.equal([1, 3, toHex(g.parties[0].pid)]);
    expect(toHex(view.commitmentsHash)).to.equal(toHex(commitmentsHash([view.Q])));
    expect(toHex(r.keys[0])).to.equal(toHex(r.keys[3]));
  });

  it("the group ledger: an unknown group is refused, a user PID with leading zero bytes is fine, and a transaction without a receipt is refused", async () => {
    const { msrp, party, groupLedger, groups } = await loadGroups();
    const unknown = new Uint8Array(32).fill(0xcd);
    await expectRejects(
      () => groupLedger.view(unknown),
      AgentStateError,
      "AGENT_STATE",
      new RegExp(`^GroupLedger\\.view: no group ${toHex(unknown)} on-chain$`),
    );
    const rn = msrp.joinedRns()[0];
    const userPid = numberToBytesBE(0xffn, 32);
    const gid = new Uint8Array(32).fill(0x0a);
    await groups.formGroup(toHex(gid), toHex(userPid), [toHex(rn.pid)], toHex(encodePoint(mulBase(9n))), toHex(new Uint8Array(32).fill(1)));
    const view = await groupLedger.view(gid);
    expect([toHex(view.userPid), view.members, view.epoch, view.Q.equals(mulBase(9n))]).to.deep.equal([toHex(userPid), 1, 0, true]);
    expect(await groupLedger.isMember(gid, rn.pid)).to.equal(true);
    expect(await groupLedger.isMember(gid, party("alice").pid)).to.equal(false);
    const unmined = { wait: () => Promise.resolve(null) };
    const stub = new GroupLedger({ formGroup: () => Promise.resolve(unmined) } as unknown as ServiceGroupRegistry);
    let err: unknown;
    try {
      await stub.formGroup(gid, userPid, [rn.pid], mulBase(9n), new Uint8Array(32));
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.equal("transaction was not mined");
  });
});
