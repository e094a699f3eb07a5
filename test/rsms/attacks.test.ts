/**
 * Issue 13: attacks on the RSMS join and group protocols from the threat model of §III.D, one
 * describe block per item of the issue ("A<n>"). Each test names the attacker and its capability,
 * asserts the rejection (or the recovery) and that nothing else changed. The threat matrices in
 * docs/specs/rsms-join.md and docs/specs/rsms-group.md point here.
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { loadGroups } from "./group-fixtures";
import {
  initialJoin,
  poolInfo,
  reauthenticate,
  publishFilter,
  registerRn,
  resyncRn,
  serveJoin,
  serveReauth,
  syncFilters,
} from "../../offchain/rsms/flows";
import { RsmsRejectedError, RsmsRejectReason } from "../../offchain/rsms/errors";
import { tagOf } from "../../offchain/rsms/params";
import { toHex } from "../../offchain/crypto/bytes";
import { H4, H6 } from "../../offchain/crypto/hash";
import type { RsmsLedger } from "../../offchain/rsms/ledger";
import { GroupAuthenticationError, GroupFailure, GroupParty } from "../../offchain/rsms/group";
import { authenticateGroup, formServiceGroup, rekeyServiceGroup } from "../../offchain/rsms/group-flows";
import { DecryptionError } from "../../offchain/errors";
import { AgentStateError } from "../../offchain/rsms/errors";
import { Msrp, MsrpRecord } from "../../offchain/rsms/msrp";
import {
  decodeAllocation,
  decodeChannel,
  encodeAllocation,
  encodeChannel,
  channelHeader,
  channelSigned,
  decodeKeyShare,
  encodeKeyShare,
  keyShareSigned,
} from "../../offchain/rsms/group-messages";
import { schnorrSign } from "../../offchain/crypto/schnorr";
import { eciesEncrypt } from "../../offchain/crypto/ecies";
import { encodeScalar } from "../../offchain/crypto/group";
import { concat } from "../../offchain/crypto/bytes";
import {
  AAD,
  decodeJoinRequest,
  encodeJoinForward,
  encodeReauthForward,
  joinForwardSigned,
  reauthForwardSigned,
} from "../../offchain/rsms/messages";
import { FORWARD_DST } from "../../offchain/rsms/rpm";
import { BloomFilter } from "../../offchain/crypto/bloom";
import { decodeScalar, mulBase, randomScalar } from "../../offchain/crypto/group";
import { fromHex } from "../../offchain/crypto/bytes";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { ResourceNode } from "../../offchain/rsms/rn";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { randomBytes } from "@noble/hashes/utils.js";

async function expectRejected(p: Promise<unknown> | (() => unknown), reason: RsmsRejectReason, msg?: RegExp): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected rejection ${reason}`).to.be.instanceOf(RsmsRejectedError);
  expect((err as RsmsRejectedError).reason, (err as Error).message).to.equal(reason);
  if (msg) expect((err as Error).message).to.match(msg);
}

function expectGroupFailure(f: () => unknown, failure: GroupFailure, msg?: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${failure}`).to.be.instanceOf(GroupAuthenticationError);
  expect((err as GroupAuthenticationError).failure, (err as Error).message).to.equal(failure);
  if (msg) expect((err as Error).message).to.match(msg);
}

const text = (s: string) => new TextEncoder().encode(s);
const read = (r: { plaintext: Uint8Array }) => new TextDecoder().decode(r.plaintext);
const snap = (p: GroupParty) => JSON.stringify(p.toRecord());

/** A group formed step by step, keeping every message so that tests can replay them. */
async function formedGroup(size: number) {
  const w = await loadGroups();
  const { dealing, parties: infos } = w.msrp.requestGroup("alice", size);
  await w.groupLedger.formGroup(
    dealing.groupId,
    infos[0].pid,
    infos.slice(1).map((p) => p.pid),
    dealing.Q,
    dealing.commitmentsHash,
  );
  w.msrp.commitGroup(dealing.groupId, "alice", infos.slice(1));
  const parties = infos.map((p) => w.party(p.name));
  const view = await w.groupLedger.view(dealing.groupId);
  return { ...w, dealing, parties, view, gid: dealing.groupId };
}

/** Every PID recorded on-chain, from the JoinRecorded events (what any observer of the chain sees). */
async function recordedPids(ledger: RsmsLedger): Promise<string[]> {
  const reg = ledger.registry;
  const events = await reg.queryFilter(reg.filters.JoinRecorded());
  return events.map((e) => e.args.pid.toLowerCase());
}

describe("rsms attacks (issue 13)", function () {
  this.timeout(120_000);

  describe("A1: pseudonym rotation PID_{k+1} = H6(PID_k, a_{k+1}) (paper §IV.A.2.b, §V Prop. 5 and 7)", () => {
    it("follows the paper: the recorded PID_{k+1} is H6(PID_k, a_{k+1}) and a_{k+1} = H4(a_k, sk_RN)", async () => {
      const { ctx, msrp, rpmA, rpmB, rns } = await loadRsms();
      const rn = rns[0];
      const { request, pending } = rn.buildJoinRequest(await poolInfo(ctx, 1));
      rn.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, request)).reply, pending);
      const s = rn.state;
      const res = await reauthenticate(ctx, rn, rpmB, msrp);
      const nextA = H4(s.a, s.sk);
      expect(toHex(res.record.pid)).to.equal(toHex(H6(s.pid, nextA)));
      expect(toHex(rn.state.pid)).to.equal(toHex(H6(s.pid, nextA)));
    });

    it("a curious RPM_X that opened a_k cannot link PID_k to any later on-chain pseudonym with H6(., a_k)", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[0];
      const { request, pending } = rn.buildJoinRequest(await poolInfo(ctx, 1));
      const learnt = rpmA.openJoinRequest(request); // what RPM_X learns in step 2
      rn.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, request)).reply, pending);
      await reauthenticate(ctx, rn, rpmB, msrp);
      await reauthenticate(ctx, rn, rpmA, msrp);
      const onChain = await recordedPids(ledger);
      expect(onChain).to.have.length(3);
      // The attacker tries its one key on every recorded PID: no guess lands on any of them.
      for (const pid of onChain) expect(onChain).to.not.include(toHex(H6(Uint8Array.from(Buffer.from(pid.slice(2), "hex")), learnt.a)));
    });

    it("a curious RPM_Y that learnt a_{k+1} in a re-authentication cannot compute PID_{k+2}", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[1];
      const { request, pending } = rn.buildJoinRequest(await poolInfo(ctx, 1));
      rn.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, request)).reply, pending);
      const re = rn.buildReauthRequest(await poolInfo(ctx, 2));
      const learnt = rpmB.openReauthRequest(re.request); // RPM_Y learns PID_k, PID_{k+1}, a_{k+1}
      rn.acceptReauthReply((await serveReauth(ctx, rpmB, msrp, re.request)).reply, re.pending);
      await reauthenticate(ctx, rn, rpmA, msrp); // PID_{k+2}, at a pool RPM_Y does not run
      const onChain = await recordedPids(ledger);
      expect(onChain).to.include(toHex(rn.state.pid));
      expect(toHex(H6(learnt.nextPid, learnt.nextA))).to.not.be.oneOf(onChain);
      expect(toHex(H6(learnt.pid, learnt.nextA))).to.equal(toHex(learnt.nextPid)); // it only sees what it was shown
    });
  });

  describe("A2: a dropped reply never strands an RN", () => {
    it("a relay forwards the RN's own join and drops the reply: the RN's retry is answered from the chain, nothing is recorded twice", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[0];
      const first = rn.buildJoinRequest(await poolInfo(ctx, 1));
      await serveJoin(ctx, rpmA, msrp, first.request); // the relay drops this reply
      expect(await ledger.joinCount()).to.equal(1);
      const msrpBefore = JSON.stringify(msrp.toRecord());
      const retry = rn.buildJoinRequest(await poolInfo(ctx, 1));
      const served = await serveJoin(ctx, rpmA, msrp, retry.request);
      expect(served.tx).to.equal(undefined);
      rn.acceptJoinReply(served.reply, retry.pending);
      expect(rn.state.joined).to.equal(true);
      // the exact bytes again (a duplicate) are answered the same way
      expect(toHex((await serveJoin(ctx, rpmA, msrp, first.request)).reply)).to.equal(toHex(served.reply));
      expect(await ledger.joinCount()).to.equal(1);
      expect(JSON.stringify(msrp.toRecord())).to.equal(msrpBefore);
      // and the RN goes on: it can re-authenticate
      await reauthenticate(ctx, rn, rpmB, msrp);
      expect(await ledger.joinCount()).to.equal(2);
    });

    it("a relay forwards the RN's own re-authentication and drops the reply: the retry at the same pool is answered", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[1];
      const j = rn.buildJoinRequest(await poolInfo(ctx, 1));
      rn.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, j.request)).reply, j.pending);
      const first = rn.buildReauthRequest(await poolInfo(ctx, 2));
      await serveReauth(ctx, rpmB, msrp, first.request); // dropped
      const count = await ledger.joinCount();
      const retry = rn.buildReauthRequest(await poolInfo(ctx, 2));
      const served = await serveReauth(ctx, rpmB, msrp, retry.request);
      expect(served.tx).to.equal(undefined);
      rn.acceptReauthReply(served.reply, retry.pending);
      expect(rn.state.k).to.equal(1);
      expect(await ledger.joinCount()).to.equal(count);
      await reauthenticate(ctx, rn, rpmA, msrp);
      expect(rn.state.k).to.equal(2);
    });

    it("the RN retries at another pool: refused there, and it resynchronises from the chain instead of being stranded", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[2];
      const j = rn.buildJoinRequest(await poolInfo(ctx, 1));
      rn.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, j.request)).reply, j.pending);
      const first = rn.buildReauthRequest(await poolInfo(ctx, 2));
      await serveReauth(ctx, rpmB, msrp, first.request); // dropped
      const count = await ledger.joinCount();
      const elsewhere = rn.buildReauthRequest(await poolInfo(ctx, 1));
      await expectRejected(
        serveReauth(ctx, rpmA, msrp, elsewhere.request),
        "NEXT_PID_RECORDED",
        new RegExp(
          `^serveReauth: PID_\\{k\\+1\\} ${toHex(first.pending.pid)} is already recorded at pool 2: resynchronise from the chain$`,
        ),
      );
      expect(await resyncRn(ctx, rn, elsewhere.pending)).to.equal(true);
      expect(rn.state.pool).to.equal(2);
      expect(toHex(rn.state.pid)).to.equal(toHex(first.pending.pid));
      expect(await ledger.joinCount()).to.equal(count);
      await reauthenticate(ctx, rn, rpmA, msrp);
      expect(rn.state.k).to.equal(2);
    });

    it("resync adopts nothing that the chain does not hold for the RN's own next secret", async () => {
      const { ctx, rns } = await loadRsms();
      const rn = rns[3];
      const before = rn.state;
      const { pending } = rn.buildJoinRequest(await poolInfo(ctx, 1));
      expect(await resyncRn(ctx, rn, pending)).to.equal(false);
      expect(rn.state).to.deep.equal(before);
    });

    it("another RN's request replayed by an attacker gets only A = a*P, which the attacker cannot use: its own join still needs its own secret", async () => {
      const { ctx, msrp, rpmA, rns, ledger } = await loadRsms();
      const victim = rns[0];
      const v = victim.buildJoinRequest(await poolInfo(ctx, 1));
      await serveJoin(ctx, rpmA, msrp, v.request);
      const replayed = await serveJoin(ctx, rpmA, msrp, v.request);
      expect(replayed.tx).to.equal(undefined);
      expect(await ledger.joinCount()).to.equal(1);
      expect(toHex((await ledger.recordOf(victim.state.pid)).tag)).to.equal(toHex(tagOf(victim.state.a)));
    });
  });

  describe("A5: replayed, duplicated or reordered join replies change nothing", () => {
    it("a duplicated re-authentication reply does not advance the RN a second time", async () => {
      const { ctx, msrp, rpmA, rpmB, rns } = await loadRsms();
      const rn = rns[0];
      const j = rn.buildJoinRequest(await poolInfo(ctx, 1));
      rn.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, j.request)).reply, j.pending);
      const re = rn.buildReauthRequest(await poolInfo(ctx, 2));
      const { reply } = await serveReauth(ctx, rpmB, msrp, re.request);
      rn.acceptReauthReply(reply, re.pending);
      const after = rn.state;
      await expectRejected(() => rn.acceptReauthReply(reply, re.pending), "REPLAYED_REPLY");
      expect(rn.state).to.deep.equal(after);
    });

    it("an old join reply replayed after the RN moved on does not move it back", async () => {
      const { ctx, msrp, rpmA, rpmB, rns } = await loadRsms();
      const rn = rns[1];
      const j = rn.buildJoinRequest(await poolInfo(ctx, 1));
      const { reply } = await serveJoin(ctx, rpmA, msrp, j.request);
      rn.acceptJoinReply(reply, j.pending);
      await reauthenticate(ctx, rn, rpmB, msrp);
      const after = rn.state;
      await expectRejected(() => rn.acceptJoinReply(reply, j.pending), "REPLAYED_REPLY");
      expect(rn.state).to.deep.equal(after);
    });

    it("a re-authentication reply delivered after the RN already moved by another route (reordered) is refused", async () => {
      const { ctx, msrp, rpmA, rpmB, rns } = await loadRsms();
      const rn = rns[2];
      const j = rn.buildJoinRequest(await poolInfo(ctx, 1));
      rn.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, j.request)).reply, j.pending);
      const re = rn.buildReauthRequest(await poolInfo(ctx, 2));
      const { reply } = await serveReauth(ctx, rpmB, msrp, re.request);
      rn.acceptReauthReply(reply, re.pending);
      await reauthenticate(ctx, rn, rpmA, msrp);
      const after = rn.state;
      await expectRejected(() => rn.acceptReauthReply(reply, re.pending), "REPLAYED_REPLY");
      expect(rn.state).to.deep.equal(after);
    });
  });

  describe("A5: replayed, duplicated or misdelivered group messages are refused and change nothing", () => {
    it("a relay replays the allocation after the key was agreed: REPLAYED, the party keeps its keys", async () => {
      const { dealing, parties, view, gid, groupLedger } = await formedGroup(3);
      await authenticateGroup(groupLedger, gid, parties, dealing.allocations);
      const p = parties[1];
      const before = snap(p);
      expectGroupFailure(
        () => p.acceptAllocation(dealing.allocations[1], view),
        "REPLAYED",
        new RegExp(`^${p.name}: allocation for epoch 0 of a group I already hold at epoch 0$`),
      );
      expect(snap(p)).to.equal(before);
      expect(read(p.open(parties[0].seal(gid, text("still here"))))).to.equal("still here");
    });

    it("a duplicated membership run, or two broadcasts from one party, are REPLAYED", async () => {
      const { dealing, parties, view, gid } = await formedGroup(3);
      const msgs = parties.map((p, i) => p.acceptAllocation(dealing.allocations[i], view));
      const before = snap(parties[0]);
      expectGroupFailure(() => parties[0].verifyMembership(gid, [msgs[1], msgs[1], msgs[2], msgs[3]]), "REPLAYED");
      expect(snap(parties[0])).to.equal(before);
      parties[0].verifyMembership(gid, [msgs[1], msgs[2], msgs[3]]);
      const after = snap(parties[0]);
      expectGroupFailure(
        () => parties[0].verifyMembership(gid, [msgs[1], msgs[2], msgs[3]]),
        "REPLAYED",
        /^alice: membership of epoch 0 is already authenticated$/,
      );
      expect(snap(parties[0])).to.equal(after);
    });

    it("a duplicated key share is REPLAYED with no key derived; key shares replayed after agreement are REPLAYED", async () => {
      const { dealing, parties, view, gid } = await formedGroup(2);
      const msgs = parties.map((p, i) => p.acceptAllocation(dealing.allocations[i], view));
      parties.forEach((p, i) =>
        p.verifyMembership(
          gid,
          msgs.filter((_, j) => j !== i),
        ),
      );
      const shares = parties.map((p) => p.keyShares(gid));
      const toAlice = [shares[1].get(0)!, shares[2].get(0)!];
      expectGroupFailure(
        () => parties[0].acceptKeyShares(gid, [toAlice[0], toAlice[0], toAlice[1]]),
        "REPLAYED",
        /^alice: two key shares from party 1$/,
      );
      expect(parties[0].epochsOf(gid)).to.deep.equal([]);
      const k = parties[0].acceptKeyShares(gid, toAlice);
      const before = snap(parties[0]);
      expectGroupFailure(() => parties[0].acceptKeyShares(gid, toAlice), "REPLAYED", /^alice: the key of epoch 0 is already agreed$/);
      expect(snap(parties[0])).to.equal(before);
      expect(toHex(k)).to.equal(toHex(parties[1].acceptKeyShares(gid, [shares[0].get(1)!, shares[2].get(1)!])));
    });

    it("an old allocation after a rekey is STALE_EPOCH; a rekey misdelivered to another party does not open; nothing changes", async () => {
      const { dealing, parties, gid, msrp, party, groupLedger, view } = await formedGroup(2);
      await authenticateGroup(groupLedger, gid, parties, dealing.allocations);
      const evicted = parties[1];
      const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: gid, evict: [evicted.pid] });
      const before = snap(evicted);
      const now = await groupLedger.view(gid);
      expectGroupFailure(() => evicted.acceptAllocation(dealing.allocations[1], now), "STALE_EPOCH");
      const forOther = r.messages.get(toHex(parties[2].pid))!;
      expect(() => evicted.acceptRekey(forOther, now, r.roster)).to.throw(DecryptionError);
      expect(snap(evicted)).to.equal(before);
      // a remaining member at epoch 1, handed the old allocation with a lagging chain view (epoch 0):
      // an older epoch than the one it holds is STALE_EPOCH, not REPLAYED (it never saw epoch 0's twin)
      const stay = parties[2];
      const kept = snap(stay);
      expectGroupFailure(
        () => stay.acceptAllocation(dealing.allocations[2], view),
        "STALE_EPOCH",
        new RegExp(`^${stay.name}: allocation for epoch 0 of a group I already hold at epoch 1$`),
      );
      expect(snap(stay)).to.equal(kept);
    });

    it("the MSRP refuses to commit the same verified join twice (a duplicated commit would push the PID twice)", async () => {
      const { ctx, msrp, rpmA, rpmB, rns } = await loadRsms();
      const rn = rns[0];
      const j = rn.buildJoinRequest(await poolInfo(ctx, 1));
      const served = await serveJoin(ctx, rpmA, msrp, j.request);
      rn.acceptJoinReply(served.reply, j.pending);
      const before = JSON.stringify(msrp.toRecord());
      await expectRejected(() => msrp.commitJoin(served.verified!), "REPLAYED_SECRET");
      const re = rn.buildReauthRequest(await poolInfo(ctx, 2));
      const moved = await serveReauth(ctx, rpmB, msrp, re.request);
      const after = JSON.stringify(msrp.toRecord());
      expect(after).to.not.equal(before);
      await expectRejected(() => msrp.commitJoin(moved.verified!), "REPLAYED_SECRET");
      await expectRejected(() => msrp.commitJoin(served.verified!), "REPLAYED_SECRET");
      expect(JSON.stringify(msrp.toRecord())).to.equal(after);
    });
  });

  describe("A3: an evicted member cannot inject live traffic under the retired epoch key", () => {
    it("after the rekey, a message the evicted member seals under the epoch-0 key is refused by every remaining party", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 3 });
      const evicted = g.parties[2];
      const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId, evict: [evicted.pid] });
      const injected = evicted.seal(g.groupId, text("pay the attacker"));
      for (const p of r.parties) {
        const before = snap(p);
        expectGroupFailure(() => p.open(injected), "CHANNEL_REJECTED", /current epoch 1 only, not 0/);
        expect(snap(p)).to.equal(before);
      }
    });

    it("old traffic is read only through the explicit openArchived, which refuses live traffic", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
      const old = g.parties[0].seal(g.groupId, text("epoch 0 log"));
      const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
      const reader = r.parties[1];
      expectGroupFailure(() => reader.open(old), "CHANNEL_REJECTED");
      expect(read(reader.openArchived(old))).to.equal("epoch 0 log");
      const live = r.parties[0].seal(g.groupId, text("epoch 1"));
      expectGroupFailure(() => reader.openArchived(live), "CHANNEL_REJECTED", /is not retired/);
      expect(read(reader.open(live))).to.equal("epoch 1");
    });
  });

  describe("A4: the group channel authenticates its sender and refuses replays (§III.D.2 non-repudiation)", () => {
    /** A member's own key material, as its keystore holds it. */
    const secrets = (p: GroupParty, gid: Uint8Array) => {
      const rec = p.toRecord() as { sk: string; groups: Record<string, { epoch: number; keys: Record<string, string> }> };
      const g = rec.groups[toHex(gid)];
      return { sk: decodeScalar(fromHex(rec.sk, 32)), epoch: g.epoch, key: fromHex(g.keys[g.epoch], 32) };
    };

    it("a member who holds the group key seals a message with the user's PID as sender: FORGED_SENDER at every receiver, nothing changes", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 3 });
      const [alice, mallory, ...others] = g.parties;
      const m = secrets(mallory, g.groupId);
      const fields = { groupId: g.groupId, epoch: m.epoch, sender: alice.pid, seq: 1n, nonce: randomBytes(24) };
      const ct = xchacha20poly1305(m.key, fields.nonce, channelHeader(fields)).encrypt(text("transfer everything to mallory"));
      const forged = encodeChannel({
        ...fields,
        ct,
        sig: schnorrSign(m.sk, "METATRUST-V1-RSMS-GROUP-CHANNEL", channelSigned({ ...fields, ct })),
      });
      for (const p of others) {
        const before = snap(p);
        expectGroupFailure(() => p.open(forged), "FORGED_SENDER", new RegExp(`not signed by ${toHex(alice.pid)}$`));
        expect(snap(p)).to.equal(before);
      }
      // relabelling a genuine message of mallory's with alice's PID fails the same way
      const own = decodeChannel(mallory.seal(g.groupId, text("hello")));
      expectGroupFailure(() => others[0].open(encodeChannel({ ...own, sender: alice.pid })), "FORGED_SENDER");
      // and alice's genuine message is accepted, naming her
      expect(others[0].open(alice.seal(g.groupId, text("genuine"))).sender).to.equal(toHex(alice.pid));
    });

    it("an outsider's signature, or a sender outside the roster, is FORGED_SENDER", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
      const [alice, rn] = g.parties;
      const genuine = decodeChannel(alice.seal(g.groupId, text("x")));
      const outsiderSig = schnorrSign(randomScalar(), "METATRUST-V1-RSMS-GROUP-CHANNEL", channelSigned(genuine));
      expectGroupFailure(() => rn.open(encodeChannel({ ...genuine, sig: outsiderSig })), "FORGED_SENDER");
      expectGroupFailure(
        () => rn.open(encodeChannel({ ...genuine, sender: new Uint8Array(32).fill(7) })),
        "FORGED_SENDER",
        /not in the roster/,
      );
    });

    it("a replayed message is REPLAYED the second time; an older sequence number after a newer one (reordered) too; nothing changes", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
      const [alice, rn, rn2] = g.parties;
      const first = alice.seal(g.groupId, text("one"));
      const second = alice.seal(g.groupId, text("two"));
      expect(read(rn.open(first))).to.equal("one");
      let before = snap(rn);
      expectGroupFailure(() => rn.open(first), "REPLAYED", /sequence number 1 from .* is not above the last accepted, 1$/);
      expect(snap(rn)).to.equal(before);
      expect(rn2.open(second).seq).to.equal(2n);
      before = snap(rn2);
      expectGroupFailure(() => rn2.open(first), "REPLAYED");
      expect(snap(rn2)).to.equal(before);
      // the counters survive the keystore: a restored receiver still refuses the replay
      expectGroupFailure(() => GroupParty.fromRecord(rn.toRecord()).open(first), "REPLAYED");
      // a rekey starts a new epoch, whose messages count from 1 again
      const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId });
      expect(r.parties[1].open(r.parties[0].seal(g.groupId, text("three"))).seq).to.equal(1n);
    });

    it("a relay that swaps a member's public key in an allocation (to forge its messages later) makes the share not open", async () => {
      const { dealing, parties, view } = await formedGroup(2);
      const a = decodeAllocation(dealing.allocations[1]);
      const swapped = encodeAllocation({ ...a, pks: a.pks.map((pk, i) => (i === 2 ? mulBase(randomScalar()) : pk)) });
      const before = snap(parties[1]);
      expect(() => parties[1].acceptAllocation(swapped, view)).to.throw(DecryptionError);
      expect(snap(parties[1])).to.equal(before);
    });
  });

  describe("A6: the MSRP accepts only forwards signed by the RPM of the pool they name", () => {
    it("a colluder who knows a_{k+1} forges RPM_2's re-authentication forward: MSRP_REJECTED, nothing recorded or committed", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[0];
      const j = rn.buildJoinRequest(await poolInfo(ctx, 1));
      rn.acceptJoinReply((await serveJoin(ctx, rpmA, msrp, j.request)).reply, j.pending);
      const { pending } = rn.buildReauthRequest(await poolInfo(ctx, 2)); // the colluder knows (a_{k+1}, PID_{k+1})
      const fields = {
        poolId: 2,
        nextPid: pending.pid,
        sealed: eciesEncrypt(msrp.params.pkPub, encodeScalar(pending.a), AAD.reauthForward(2)),
      };
      const before = JSON.stringify(msrp.toRecord());
      for (const sk of [randomScalar(), decodeScalar(fromHex(String(rpmA.toRecord().sk), 32))]) {
        const forged = encodeReauthForward({ ...fields, sig: schnorrSign(sk, FORWARD_DST, reauthForwardSigned(fields)) });
        await expectRejected(
          () => msrp.verifyReauth(forged),
          "MSRP_REJECTED",
          /^verifyReauth: the forward is not signed by the RPM of pool 2$/,
        );
      }
      expect(JSON.stringify(msrp.toRecord())).to.equal(before);
      expect(await ledger.isPidRecorded(pending.pid)).to.equal(false);
      // RPM_2's own forward of the genuine request passes
      const genuine = await serveReauth(ctx, rpmB, msrp, rn.buildReauthRequest(await poolInfo(ctx, 2)).request);
      expect(genuine.record.poolId).to.equal(2);
    });

    it("an initial-join forward signed by another pool's RPM, or re-signed after tampering by a relay, is MSRP_REJECTED", async () => {
      const { ctx, msrp, rpmA, rpmB, rns } = await loadRsms();
      const rn = rns[1];
      const { request } = rn.buildJoinRequest(await poolInfo(ctx, 1));
      const fields = {
        poolId: 1,
        sealed: eciesEncrypt(msrp.params.pkPub, concat(encodeScalar(rn.state.a), rn.state.pid), AAD.joinForward(1)),
      };
      const skB = decodeScalar(fromHex(String(rpmB.toRecord().sk), 32));
      const before = JSON.stringify(msrp.toRecord());
      const byB = encodeJoinForward({ ...fields, sig: schnorrSign(skB, FORWARD_DST, joinForwardSigned(fields)) });
      await expectRejected(() => msrp.verifyJoin(byB), "MSRP_REJECTED", /^verifyJoin: the forward is not signed by the RPM of pool 1$/);
      // a relay moves RPM_A's signed forward to another pool id: the signature no longer matches
      await syncFilters(ctx, rpmA);
      const real = rpmA.forwardJoin(rpmA.openJoinRequest(request));
      const moved = Uint8Array.from(real);
      moved[5] = 2; // poolId 1 -> 2
      await expectRejected(() => msrp.verifyJoin(moved), "MSRP_REJECTED", /not signed by the RPM of pool 2$/);
      expect(JSON.stringify(msrp.toRecord())).to.equal(before);
      expect(msrp.verifyJoin(real).record.poolId).to.equal(1);
    });
  });

  describe("A7: blame in key agreement is sound: a relay cannot get an honest party named", () => {
    async function agreed(size: number) {
      const w = await formedGroup(size);
      const msgs = w.parties.map((p, i) => p.acceptAllocation(w.dealing.allocations[i], w.view));
      w.parties.forEach((p, i) =>
        p.verifyMembership(
          w.gid,
          msgs.filter((_, j) => j !== i),
        ),
      );
      return { ...w, shares: w.parties.map((p) => p.keyShares(w.gid)) };
    }

    it("a relay flips one bit of an honest party's masked share: refused with nobody named, and the genuine share still completes", async () => {
      const { parties, gid, shares } = await agreed(2);
      const [s1, s2] = [shares[1].get(0)!, shares[2].get(0)!];
      for (const offset of [42, 73, s1.length - 1]) {
        // 42..73: the masked share; the last byte: the signature
        const flipped = Uint8Array.from(s1);
        flipped[offset] ^= 1;
        const before = snap(parties[0]);
        let err: GroupAuthenticationError | undefined;
        try {
          parties[0].acceptKeyShares(gid, [flipped, s2]);
        } catch (e) {
          err = e as GroupAuthenticationError;
        }
        expect(err).to.be.instanceOf(GroupAuthenticationError);
        expect(err!.parties, "nobody is blamed").to.deep.equal([]);
        expect(err!.failure).to.equal("FORGED_SENDER");
        expect(snap(parties[0])).to.equal(before);
      }
      expect(parties[0].acceptKeyShares(gid, [s1, s2])).to.have.length(32);
    });

    it("a party that signs a share inconsistent with its Y is named: its own signature is the evidence", async () => {
      const { parties, gid, shares } = await agreed(2);
      const cheat = parties[1];
      const m = decodeKeyShare(shares[1].get(0)!);
      const masked = Uint8Array.from(m.masked);
      masked[0] ^= 1;
      const sk = decodeScalar(fromHex(String(cheat.toRecord().sk), 32));
      const fields = { ...m, masked };
      const signed = encodeKeyShare({ ...fields, sig: schnorrSign(sk, "METATRUST-V1-RSMS-GROUP-KEYSHARE", keyShareSigned(fields)) });
      let err: GroupAuthenticationError | undefined;
      try {
        parties[0].acceptKeyShares(gid, [signed, shares[2].get(0)!]);
      } catch (e) {
        err = e as GroupAuthenticationError;
      }
      expect(err?.failure).to.equal("INCONSISTENT_SHARE");
      expect(err?.parties).to.deep.equal([toHex(cheat.pid)]);
    });
  });

  describe("A8: suspicious RNs (the paper's S_RN) are never dealt into a group again", () => {
    it("an RN evicted as suspicious is not allocated to the next group, although its load is the lowest", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 3 });
      // the roster lists the RNs by PID (h14-red F2): compared as sets
      const names = () => [
        g.parties[0].name,
        ...g.parties
          .slice(1)
          .map((p) => p.name)
          .sort(),
      ];
      expect(names()).to.deep.equal(["alice", "rn0", "rn1", "rn2"]);
      await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId, evict: [party("rn1").pid] });
      expect(msrp.suspiciousRns()).to.deep.equal(["rn1"]);
      const next = msrp.requestGroup("alice", 3);
      expect(next.parties.map((p) => p.name)).to.not.include("rn1");
      expect([
        next.parties[0].name,
        ...next.parties
          .slice(1)
          .map((p) => p.name)
          .sort(),
      ]).to.deep.equal(["alice", "rn3", "rn4", "rn5"]);
      // S_RN is kept in the MSRP's keystore record
      const restored = Msrp.fromRecord(JSON.parse(JSON.stringify(msrp.toRecord())) as MsrpRecord);
      expect(restored.suspiciousRns()).to.deep.equal(["rn1"]);
      expect(restored.requestGroup("alice", 3).parties.map((p) => p.name)).to.not.include("rn1");
    });

    it("adding a suspicious RN to a group is refused and changes nothing; too few clean RNs is refused; clearing readmits", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
      await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId, evict: [party("rn0").pid] });
      const before = JSON.stringify(msrp.toRecord());
      expect(() => msrp.rekeyGroup(g.groupId, [], ["rn0"])).to.throw(
        AgentStateError,
        /^rekeyGroup: RN "rn0" is in the set of suspicious RNs$/,
      );
      expect(() => msrp.requestGroup("alice", 8)).to.throw(AgentStateError, /only 7 have joined a pool and are not suspicious$/);
      expect(JSON.stringify(msrp.toRecord())).to.equal(before);
      expect(() => msrp.clearSuspicious("rn5")).to.throw(
        AgentStateError,
        /^clearSuspicious: RN "rn5" is not in the set of suspicious RNs$/,
      );
      msrp.clearSuspicious("rn0");
      expect(msrp.suspiciousRns()).to.deep.equal([]);
      expect(msrp.rekeyGroup(g.groupId, [], ["rn0"]).added.map((a) => a.name)).to.deep.equal(["rn0"]);
    });
  });

  describe("A9: one corrupt filter epoch does not block the pool", () => {
    it("an epoch whose bytes do not match its root is quarantined; RNs of intact epochs still join; it is not fetched again", async () => {
      const { ctx, msrp, rpmA, rns, ledger, registry, store } = await loadRsms();
      const junk = BloomFilter.init(64, 20);
      junk.insert(encodeScalar(randomScalar()));
      const cid = await store.putBytes(junk.serialize());
      await registry.publishFilter(1, toHex(new Uint8Array(32).fill(7)), cid, 64, 20); // epoch 1: root of nothing
      let fetched = 0;
      const counting = { ...ctx, store: { get: (c: string) => (fetched++, store.get(c)) } as unknown as typeof store };
      const res = await initialJoin(counting, rns[0], rpmA, msrp);
      expect(res.record.poolId).to.equal(1);
      expect(rpmA.loadedEpochs).to.deep.equal([0]);
      expect([...rpmA.quarantinedEpochs.keys()]).to.deep.equal([1]);
      expect(fetched).to.equal(2);
      await initialJoin(counting, rns[1], rpmA, msrp);
      expect(fetched, "the quarantined epoch is not fetched again").to.equal(2);
      expect(await ledger.joinCount()).to.equal(2);
    });

    it("an epoch whose bytes hash to its root but are no filter (bad magic, bad size) is quarantined, not a stop for every later sync", async () => {
      const { ctx, msrp, rpmA, rns, ledger, registry, store } = await loadRsms();
      // a faulty MSRP publishes content the chain cannot check: its root is right, its bytes no filter
      const noFilter = new Uint8Array(96).fill(0x5a);
      const cutShort = BloomFilter.init(64, 20).serialize().subarray(0, 40);
      for (const bytes of [noFilter, cutShort])
        await registry.publishFilter(1, toHex(keccak_256(bytes)), await store.putBytes(bytes), 64, 20);
      const res = await initialJoin(ctx, rns[0], rpmA, msrp);
      expect(res.record.poolId).to.equal(1);
      expect(rpmA.loadedEpochs).to.deep.equal([0]);
      expect([...rpmA.quarantinedEpochs.keys()]).to.deep.equal([1, 2]);
      expect(rpmA.quarantinedEpochs.get(1)).to.match(/^addFilter: pool 1 epoch 1: not a filter: .*bad magic/);
      expect(rpmA.quarantinedEpochs.get(2)).to.match(/^addFilter: pool 1 epoch 2: not a filter: /);
      // a later epoch still loads: publish an intact one after them, and the next RN listed in it joins
      const { rn } = await registerRn(ctx, msrp, { name: "later", poolId: 1, rid: "later-serial" });
      await publishFilter(ctx, msrp, 1);
      await initialJoin(ctx, rn, rpmA, msrp);
      expect(rpmA.loadedEpochs).to.deep.equal([0, 3]);
      expect(await ledger.joinCount()).to.equal(2);
    });

    it("an RN listed only in the corrupt epoch is refused with NOT_IN_FILTER, and nothing is recorded", async () => {
      const { ctx, msrp, rpmA, ledger, registry, store } = await loadRsms();
      const { rn } = await registerRn(ctx, msrp, { name: "late", poolId: 1, rid: "late-serial" });
      const { filter } = msrp.takeFilter(1);
      const cid = await store.putBytes(filter.serialize());
      await registry.publishFilter(1, toHex(new Uint8Array(32).fill(9)), cid, filter.capacity, filter.lambda);
      const { request } = rn.buildJoinRequest(await poolInfo(ctx, 1));
      await expectRejected(serveJoin(ctx, rpmA, msrp, request), "NOT_IN_FILTER");
      expect(await ledger.joinCount()).to.equal(0);
    });
  });

  describe("A10: a Bloom false positive ground against the public filter meets the MSRP's exact check", () => {
    it("a network attacker grinds a' against the filter on IPFS and presents it under a genuine, not-yet-joined RN's PID: every earlier check passes, the exact check refuses, nothing changes", async () => {
      const fx = await loadRsms();
      const { ctx, rpmA, ledger, store, rns } = fx;
      // The MSRP with a small filter policy (N = 16, lambda = 4: a full filter answers yes for about
      // 1 in 16 random items), so that grinding takes a few dozen hashes instead of 2^20.
      const msrp = Msrp.fromRecord({ ...fx.msrp.toRecord(), policy: { capacity: 16, lambda: 4, intervalSec: 3600 } });
      const late: ResourceNode[] = [];
      for (let i = 0; i < 16; i++) late.push((await registerRn(ctx, msrp, { name: `late${i}`, poolId: 1, rid: `late-serial-${i}` })).rn);
      const epochs = (await ledger.pool(1))!.epochs;
      expect(epochs, "the full filter was published").to.equal(2);
      // 1. The victim sends its join; the attacker intercepts it (and drops it) and reads PID_0.
      const victim = late[3];
      const intercepted = victim.buildJoinRequest(await poolInfo(ctx, 1)).request;
      const pid = decodeJoinRequest(intercepted).pid;
      // 2. Offline, from public data only: the filter's CID on-chain, its bytes on IPFS.
      const onChain = await ledger.filterAt(1, epochs - 1);
      const publicFilter = BloomFilter.deserialize(await store.get(onChain.cid));
      const secrets = new Set([...rns, ...late].map((r) => r.state.a));
      let fp = 0n;
      let hashes = 0;
      for (let i = 1n; fp === 0n; i++, hashes++) if (!secrets.has(i) && publicFilter.checkKey(keccak_256(encodeScalar(i)))) fp = i;
      expect(hashes).to.be.below(10_000);
      // 3. A request with the false positive under the victim's PID, sealed to the pool's public key.
      // The attacker knows only the public pool values, the intercepted PID and its false positive.
      const attacker = new ResourceNode(msrp.params, { ...victim.state, pid, name: "attacker", a: fp, sk: randomScalar() });
      const { request } = attacker.buildJoinRequest(await poolInfo(ctx, 1));
      // Every check before the MSRP's exact check passes: the RPM opens a' = fp under the victim's
      // PID, H4(a') is not on-chain, the RPM's filters (synced from the chain) contain it, and the
      // RPM signs the forward; the MSRP finds PID_0 current and its secret unused.
      const opened = rpmA.openJoinRequest(request);
      expect(opened.a).to.equal(fp);
      expect(toHex(opened.pid)).to.equal(toHex(victim.state.pid));
      expect(await ledger.isTagUsed(opened.tag)).to.equal(false);
      await syncFilters(ctx, rpmA);
      expect(rpmA.inFilters(fp)).to.equal(true);
      const forward = rpmA.forwardJoin(opened);
      const cur = msrp.summary().rns.find((r) => r.name === "late3")!;
      expect([cur.pid, cur.joined, cur.homePool]).to.deep.equal([toHex(victim.state.pid), false, 1]);
      const before = JSON.stringify(msrp.toRecord());
      await expectRejected(() => msrp.verifyJoin(forward), "MSRP_REJECTED", /^verifyJoin: a' is not the secret issued for this PID/);
      await expectRejected(serveJoin(ctx, rpmA, msrp, request), "MSRP_REJECTED", /^verifyJoin: a' is not the secret issued for this PID/);
      expect(JSON.stringify(msrp.toRecord())).to.equal(before);
      expect(await ledger.joinCount()).to.equal(0);
      expect(await ledger.isTagUsed(tagOf(fp))).to.equal(false);
      expect((await ledger.recordOf(victim.state.pid)).tag.every((b) => b === 0)).to.equal(true);
      // 4. The victim resends its own (intercepted) request: it joins.
      const served = await serveJoin(ctx, rpmA, msrp, intercepted);
      expect(served.retried).to.equal(false);
      expect(toHex(served.record.pid)).to.equal(toHex(victim.state.pid));
    });
  });

  describe("A11: whitewashing: a flagged or evicted RN cannot shed it by rotating to a fresh pseudonym", () => {
    it("flagged under an old PID after it rotated, the RN is suspicious under its current PID, is not allocated, and may not rotate again (SUSPICIOUS); nothing changes", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      const rn = rns[0];
      await initialJoin(ctx, rn, rpmA, msrp);
      const pid0 = rn.state.pid;
      await reauthenticate(ctx, rn, rpmB, msrp);
      const pid1 = rn.state.pid;
      for (const r of rns.slice(1, 4)) await initialJoin(ctx, r, rpmA, msrp);
      msrp.registerUser("alice", Msrp.registrationRequest(msrp.params.pkPub, 3, 0, "Alice"));
      // A trust flag raised against PID_0 reaches the MSRP, which alone links PID_0 to PID_1.
      expect(msrp.flagRn(pid0)).to.equal("rn0");
      expect(msrp.isSuspiciousPid(pid1)).to.equal(true);
      expect(msrp.isSuspiciousPid(rns[1].state.pid)).to.equal(false);
      expect(msrp.requestGroup("alice", 3).parties.map((p) => p.name)).to.not.include("rn0");
      expect(() => msrp.requestGroup("alice", 4)).to.throw(AgentStateError, /only 3 have joined/);
      const before = [JSON.stringify(msrp.toRecord()), JSON.stringify(rn.toRecord()), await ledger.joinCount()];
      await expectRejected(
        reauthenticate(ctx, rn, rpmA, msrp),
        "SUSPICIOUS",
        /^verifyReauth: the RN whose next pseudonym is .* is in S_RN/,
      );
      expect([JSON.stringify(msrp.toRecord()), JSON.stringify(rn.toRecord()), await ledger.joinCount()]).to.deep.equal(before);
      expect(await ledger.isPidRecorded(rn.state.pid)).to.equal(true);
      // After review the operator clears it: it rotates again.
      msrp.clearSuspicious("rn0");
      await reauthenticate(ctx, rn, rpmA, msrp);
      expect(rn.state.k).to.equal(2);
    });

    it("an RN evicted from a group (S_RN) keeps the pseudonym it was evicted under: its re-authentication is SUSPICIOUS", async () => {
      const { ctx, msrp, rpmA, rpmB, rns, ledger } = await loadRsms();
      for (const r of rns.slice(0, 4)) await initialJoin(ctx, r, rpmA, msrp);
      msrp.registerUser("alice", Msrp.registrationRequest(msrp.params.pkPub, 3, 0, "Alice"));
      const { dealing, parties } = msrp.requestGroup("alice", 3);
      msrp.commitGroup(dealing.groupId, "alice", parties.slice(1));
      const rk = msrp.rekeyGroup(dealing.groupId, [rns[1].state.pid], ["rn3"]);
      msrp.commitRekey(dealing.groupId, rk.epoch, rk.members);
      expect(msrp.suspiciousRns()).to.deep.equal(["rn1"]);
      const n = await ledger.joinCount();
      await expectRejected(reauthenticate(ctx, rns[1], rpmB, msrp), "SUSPICIOUS");
      expect(await ledger.joinCount()).to.equal(n);
      expect(msrp.isSuspiciousPid(rns[1].state.pid)).to.equal(true);
      // an honest RN of the same group rotates
      await reauthenticate(ctx, rns[2], rpmB, msrp);
      // flagging a PID the MSRP never issued to an RN is refused
      expect(() => msrp.flagRn(new Uint8Array(32).fill(1))).to.throw(AgentStateError, /^flagRn: .* is not an RN pseudonym/);
      expect(() => msrp.isSuspiciousPid(new Uint8Array(32).fill(1))).to.throw(AgentStateError, /^isSuspiciousPid: /);
    });
  });

  describe("Threat-matrix walk: cells the numbered items did not cover", () => {
    it("network attacker drops a remaining member's Rekey: its live messages are refused (retired epoch) and it cannot read the new epoch; the MSRP re-sends the same bytes and it catches up; a second copy is STALE_EPOCH", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 3 });
      const [alice, rn0, lagging, evicted] = g.parties;
      const r = msrp.rekeyGroup(g.groupId, [evicted.pid], []);
      await groupLedger.rekey(g.groupId, r.epoch, r.evicted, [], r.Q, r.commitmentsHash);
      msrp.commitRekey(g.groupId, r.epoch, r.members);
      const view = await groupLedger.view(g.groupId);
      for (const p of [alice, rn0]) p.acceptRekey(r.messages.get(toHex(p.pid))!, view, r.roster); // lagging's is dropped
      const stale = lagging.seal(g.groupId, text("sent under epoch 0"));
      const live = alice.seal(g.groupId, text("epoch 1"));
      const before = [snap(alice), snap(lagging)];
      expectGroupFailure(() => alice.open(stale), "CHANNEL_REJECTED", /current epoch 1 only, not 0/);
      expectGroupFailure(() => lagging.open(live), "CHANNEL_REJECTED");
      expect([snap(alice), snap(lagging)]).to.deep.equal(before);
      // the MSRP re-sends the very same bytes
      lagging.acceptRekey(r.messages.get(toHex(lagging.pid))!, view, r.roster);
      expect(read(lagging.open(live))).to.equal("epoch 1");
      expect(read(alice.open(lagging.seal(g.groupId, text("caught up"))))).to.equal("caught up");
      const after = snap(lagging);
      expectGroupFailure(() => lagging.acceptRekey(r.messages.get(toHex(lagging.pid))!, view, r.roster), "STALE_EPOCH");
      expect(snap(lagging)).to.equal(after);
    });

    it("newcomer: an RN added at epoch 1 cannot read epoch-0 traffic through openArchived either", async () => {
      const { msrp, party, groupLedger } = await loadGroups();
      const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 2 });
      const old = g.parties[0].seal(g.groupId, text("before you came"));
      const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: g.groupId, add: ["rn5"] });
      const newcomer = party("rn5");
      expect(r.parties.map((p) => p.name)).to.include("rn5");
      const before = snap(newcomer);
      expectGroupFailure(() => newcomer.openArchived(old), "CHANNEL_REJECTED", /no key for epoch 0 of this group/);
      expectGroupFailure(() => newcomer.open(old), "CHANNEL_REJECTED");
      expect(snap(newcomer)).to.equal(before);
    });

    it("curious RPM: it drops a joining RN's request and asks the MSRP to renew that RN's secret (to strand it): refused, and the RN joins", async () => {
      const { ctx, msrp, rpmA, rns, ledger } = await loadRsms();
      const victim = rns[1];
      const { request } = victim.buildJoinRequest(await poolInfo(ctx, 1));
      const opened = rpmA.openJoinRequest(request); // the RPM learns PID_0 and a_0, and drops the request
      const before = JSON.stringify(msrp.toRecord());
      // it signs with its own key, or replays a_0 as the key: neither is sk_RN
      for (const sk of [randomScalar(), opened.a]) {
        const fake = new ResourceNode(msrp.params, { ...victim.state, sk });
        await expectRejected(() => msrp.renewRn(fake.renewalRequest()), "MSRP_REJECTED", /not signed by the RN/);
      }
      expect(JSON.stringify(msrp.toRecord())).to.equal(before);
      await initialJoin(ctx, victim, rpmA, msrp);
      expect(await ledger.isPidRecorded(victim.state.pid)).to.equal(true);
    });

    it("cheating MSRP account or a buggy agent: an off-curve group key Q cannot be written, so the group is not bricked", async () => {
      const { msrp, groupLedger, groups } = await loadGroups();
      const { dealing, parties } = msrp.requestGroup("alice", 2);
      const offCurve = "0x02" + "00".repeat(31) + "05"; // x = 5: 5^3 + 7 = 132 is not a square mod p
      await expect(
        groups.formGroup(
          toHex(dealing.groupId),
          toHex(parties[0].pid),
          parties.slice(1).map((p) => toHex(p.pid)),
          offCurve,
          toHex(dealing.commitmentsHash),
        ),
      ).to.be.revertedWithCustomError(groups, "ServiceGroupRegistry__InvalidGroup");
      expect((await groupLedger.view(dealing.groupId).catch((e: Error) => e)) instanceof Error).to.equal(true);
    });
  });
});
