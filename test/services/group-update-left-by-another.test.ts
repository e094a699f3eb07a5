/**
 * Review s18-review1, L5 (a test gap): the desk's branch that finishes another request's pending
 * key update before a new one ran in no test since s18-redg G4 (the client now resends its kept
 * bytes, which the same-request branch answers).
 *
 * Threat: the MSRP mines alice's add, then its own chain write call throws (node connection
 * dropped): the intent stays pending, no reply is cached. Alice's client does not resend the kept
 * request (an older client, or her keystore record lost), and her next run seals a fresh add. If the
 * desk computed the new update from its agent (still at epoch 0) the request for the chain's epoch 1
 * would be refused for good, and a second update would fork the agent from the chain (h11-red R7).
 * Steps: group {x, y}; the chain write throws after mining; the kept record removed; a fresh add.
 * Impact: the group stuck (every update refused), or the agent an epoch behind the chain.
 * Severity: test gap (the branch is reached in practice: s18-review1 M1).
 *
 * Secure behaviour asserted: the left update is finished first (the agent and mailbox at epoch 1),
 * then the fresh add makes epoch 2 (four members); the journal holds no pending update; a member
 * takes epoch 2's key.
 */
import { expect } from "chai";
import { formedGroup, interceptGroupWrite, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { addRemote, groupUpdatePending, takePart } from "../../offchain/services/rsms/group-clients";

describe("s18-review1 L5: a fresh update after another request's update was left pending finishes that one first", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("the MSRP's chain write threw after mining; alice's fresh add (no kept request) makes epoch 2 over the finished epoch 1", async () => {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    let members: string[];
    ({ s, gid, members } = await formedGroup(machines, ["a", "b", "c", "d", "e"]));
    const keystore = machines.get("alice")!;
    const alice = {
      msrpUrl: s.msrpUrl,
      user: "alice",
      groupId: gid,
      count: 1,
      keystore,
      dep: s.dep,
      retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
    };
    const groups = s.msrpDeps.groups!;
    const lost = interceptGroupWrite(groups, "rekey", "lost");
    const first = await addRemote(alice).then(
      () => "answered",
      (e: Error) => `lost: ${e.message.split("\n")[0]}`,
    );
    lost.restore();
    expect(first, "precondition: the first run got an error").to.match(/^lost: /);
    expect(Number((await s.dep.groups.view(gid)).epoch), "precondition: the first add was mined").to.equal(1);
    expect(s.msrp.msrp.groupInfo(gid).epoch, "precondition: the agent is still at epoch 0").to.equal(0);
    keystore.remove(groupUpdatePending("alice", gid));

    const next = await addRemote(alice);
    expect([next.epoch, next.resumed, next.added.length], "the fresh add: epoch 2, one RN").to.deep.equal([2, false, 1]);
    const on = await s.dep.groups.view(gid);
    expect([Number(on.epoch), Number(on.members)], "chain: epoch 2, four RNs (two adds of one)").to.deep.equal([2, 4]);
    expect(s.msrp.msrp.groupInfo(gid).epoch, "the agent at the chain's epoch").to.equal(2);
    const journal = (s.msrp.desk! as unknown as { d: { journal: { pending(): { id: string }[] } } }).d.journal;
    expect(
      journal.pending().filter((i) => i.id.startsWith("rekey-")),
      "no update left pending",
    ).to.deep.equal([]);
    const took = await takePart({
      msrpUrl: s.msrpUrl,
      name: members[0],
      groupId: gid,
      keystore: machines.get(members[0])!,
      dep: s.dep,
      pollMs: 50,
    });
    expect(took.epoch, "a member takes epoch 2's key").to.equal(2);
  });
});
