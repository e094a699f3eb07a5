/**
 * Red team (h10-red finding C1, fixed in session 11): group traffic through the MSRP's mailbox
 * (msrp-groups.ts, group-clients.ts). A key update silently dropped the traffic a party had not
 * read yet: readRemote read only the party's current epoch and restarted its cursor at 0 when the
 * epoch changed, so the messages of the previous epoch it had not read (sent before an add or a
 * rekey) were never returned nor reported, while their sender had an index for each. Now a read
 * drains the retired epochs whose keys the party holds, from its cursor, before the current one.
 * The setup is that of group-add-channel.test.ts.
 */
import { expect } from "chai";
import { formedGroup, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { toHex } from "../../offchain/crypto/bytes";
import { MsrpService } from "../../offchain/services/rsms/msrp-service";
import { addRemote, localParty, readRemote, sendRemote, takePart } from "../../offchain/services/rsms/group-clients";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const text = (s: string) => new TextEncoder().encode(s);
const plain = (r: { messages: { epoch: number; plaintext: Uint8Array }[] }) =>
  r.messages.map((x) => `${x.epoch}:${new TextDecoder().decode(x.plaintext)}`);

describe("services/rsms: a key update drops no unread group traffic (red-team finding C1)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  let msrp: MsrpService;
  const machines = new Map<string, Keystore>();
  const ks = (name: string) => machines.get(name)!;
  const rns = ["a", "b", "c", "d", "e"];
  let gid: Uint8Array;
  let members: string[] = [];
  before(async () => {
    ({ s, gid, members } = await formedGroup(machines, rns));
    msrp = s.msrp;
  });
  after(async () => {
    await s?.rpm.stop();
    await msrp?.stop();
  });

  const send = (name: string, message: string) =>
    sendRemote({ msrpUrl: s.msrpUrl, name, groupId: gid, message: text(message), keystore: ks(name), dep: s.dep });
  const read = (name: string) => readRemote({ msrpUrl: s.msrpUrl, name, groupId: gid, keystore: ks(name), dep: s.dep, retry: once });
  /** The user adds one RN; every party of the new epoch takes its key. */
  async function add(): Promise<string> {
    const before = new Set(msrp.msrp.groupInfo(gid).members.map((x) => x.name));
    const a = await addRemote({ msrpUrl: s.msrpUrl, user: "alice", groupId: gid, count: 1, keystore: ks("alice"), dep: s.dep });
    const parties = ["alice", ...msrp.msrp.groupInfo(gid).members.map((x) => x.name)];
    await Promise.all(parties.map((n) => takePart({ msrpUrl: s.msrpUrl, name: n, groupId: gid, keystore: ks(n), dep: s.dep, pollMs: 50 })));
    expect(a.added).to.have.length(1);
    return parties.find((n) => n !== "alice" && !before.has(n))!;
  }

  it("C1: a message sent just before an add (a key update) reaches a member who reads after it, before the new epoch's traffic; the added RN reads only the new epoch", async () => {
    const m = members[0];
    expect((await send("alice", "last frame of epoch 0")).epoch).to.equal(0);
    const added = await add();
    expect((await send("alice", "first frame of epoch 1")).epoch).to.equal(1);
    const r = await read(m);
    expect(r.epoch).to.equal(1);
    expect(r.refused).to.deep.equal([]);
    expect(plain(r)).to.deep.equal(["0:last frame of epoch 0", "1:first frame of epoch 1"]);
    expect((await read(m)).messages, "a second read finds nothing new").to.deep.equal([]);
    const n = await read(added); // it holds no key of epoch 0: its first epoch is 1
    expect([plain(n), n.refused]).to.deep.equal([["1:first frame of epoch 1"], []]);
  });

  it("a member's cursor survives the update: what it read before is not delivered again, what it had not read is", async () => {
    const m = members[1];
    await send("alice", "e1 a");
    const r0 = await read(m); // epoch 0's leftover, then epoch 1 so far
    expect(plain(r0)).to.deep.equal(["0:last frame of epoch 0", "1:first frame of epoch 1", "1:e1 a"]);
    await send("alice", "e1 b");
    await add();
    await send("alice", "e2 a");
    const r = await read(m);
    expect([r.epoch, plain(r), r.refused]).to.deep.equal([2, ["1:e1 b", "2:e2 a"], []]);
  });

  it("a retired epoch's log with a message served twice (a faulty relay) delivers it once and names the copy (REPLAYED)", async () => {
    const m = members[0]; // its cursor is in epoch 1, after "first frame of epoch 1"
    const e1 = msrp.desk!.channel.epoch(gid, 1)!.messages;
    e1.push(e1[e1.length - 1]); // "e1 b" again, at a later index (the MSRP's log in memory, as it serves it)
    const r = await read(m);
    expect(plain(r)).to.deep.equal(["1:e1 a", "1:e1 b", "2:e2 a"]);
    expect(r.refused.map((x) => [x.epoch, x.index, x.reason])).to.deep.equal([[1, e1.length - 1, "REPLAYED"]]);
  });

  it("a message left unsent by a crash before an update is reported as dropped with the next send, not lost silently", async () => {
    const me = localParty(ks("alice"), "alice");
    const epoch = me.party.currentEpoch(gid);
    // what a crash between the keystore write and the post leaves (sendRemote writes it first)
    ks("alice").create(`rsms-send-alice-${toHex(gid).slice(2, 18)}`, { ct: toHex(me.party.seal(gid, text("never posted"))), epoch });
    await add();
    const r = await send("alice", "after the update");
    expect([r.epoch, r.dropped]).to.deep.equal([epoch + 1, { epoch, reason: "STALE_EPOCH" }]);
    expect(plain(await read(members[0]))).to.deep.equal([`${epoch + 1}:after the update`]);
    expect((await send("alice", "and again")).dropped).to.equal(undefined);
  });
});
