import { expect } from "chai";
import { loadGroups } from "./group-fixtures";
import { formServiceGroup, rekeyServiceGroup } from "../../../offchain/protocols/rsms/group-flows";
import {
  GroupAuthenticationError,
  GroupFailure,
  GroupParty,
  dealGroup,
  membershipMessage,
  rekeyMessage,
} from "../../../offchain/protocols/rsms/group";
import { GROUP_SIZES, decodeMembership, encodeMembership } from "../../../offchain/protocols/rsms/group-messages";
import { AgentStateError } from "../../../offchain/protocols/rsms/errors";
import { addMod, invert, mulBase, mulMod, randomScalar, subMod } from "../../../offchain/crypto/group";
import { H5 } from "../../../offchain/crypto/hash";
import { toBytes, toHex } from "../../../offchain/crypto/bytes";
import { DecryptionError } from "../../../offchain/errors";

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

describe("protocols/rsms: service groups (RSMS §IV.B)", () => {
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
      t[t.length - 3] ^= 1;
      expectGroupFailure(() => rns[0].open(t), "CHANNEL_REJECTED");
      const h = Uint8Array.from(c);
      h[40] ^= 1; // sender PID (authenticated header)
      expectGroupFailure(() => rns[0].open(h), "CHANNEL_REJECTED");
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
      const bad = Uint8Array.from(shares[1].get(0)!);
      bad[bad.length - 1] ^= 1;
      expectGroupFailure(() => parties[0].acceptKeyShares(dealing.groupId, [bad, shares[2].get(0)!]), "INCONSISTENT_SHARE", [
        toHex(parties[1].pid),
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
      for (const p of r.parties) expect(new TextDecoder().decode(p.open(after).plaintext)).to.equal("epoch 1 secret");
      expectGroupFailure(() => evicted.open(after), "CHANNEL_REJECTED");
      expectGroupFailure(() => newcomer.open(before), "CHANNEL_REJECTED");
      // the evicted member cannot open the update sealed to anyone else either
      expect(r.messages.has(toHex(evicted.pid))).to.equal(false);
      // remaining members still read the old epoch
      expect(new TextDecoder().decode(rns[0].open(before).plaintext)).to.equal("epoch 0 secret");
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
      expectGroupFailure(
        () =>
          p.acceptRekey(
            old,
            view,
            r1.parties.map((x) => x.pid),
          ),
        "STALE_EPOCH",
      );
      expectGroupFailure(
        () =>
          p.acceptRekey(
            old,
            { ...view, epoch: 1 },
            r1.parties.map((x) => x.pid),
          ),
        "STALE_EPOCH",
      );
      expect(p.epochsOf(g.groupId)).to.deep.equal(epochs);
      expect(p.currentEpoch(g.groupId)).to.equal(2);
    });

    it("an update whose key does not match Q' on-chain is rejected", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
      await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
      const view = await groupLedger.view(g.groupId);
      const p = g.parties[1];
      const bogus = rekeyMessage(g.groupId, 2, randomScalar(), { pid: p.pid, pk: p.publicKey });
      expectGroupFailure(
        () =>
          p.acceptRekey(
            bogus,
            { ...view, epoch: 2 },
            g.parties.map((x) => x.pid),
          ),
        "KEY_MISMATCH",
      );
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
