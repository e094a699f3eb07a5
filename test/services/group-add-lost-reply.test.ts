/**
 * Red team s18-redg, finding G4: the user's `group:add` whose reply was lost adds again when run again.
 *
 * Threat: the network (or a slow chain write: the MSRP holds the reply until the update is mined)
 * drops the MSRP's answer to alice's `POST /v1/group/add`; her client gives up (its retries spent,
 * or the process killed). The MSRP finished the update: a new epoch on chain, the RNs allocated,
 * the add charged to her quota. `addRemote` keeps nothing of the request it sent (unlike
 * `group:request`, which keeps its envelope and resends the same bytes), so alice's next run of the
 * same command reads the chain's new epoch, seals a new request and the MSRP adds again.
 * Steps: group {x, y}; the MSRP's chain write slowed to 1.5 s; alice's add (count 1) with a 500 ms
 * client timeout and one attempt fails; the update lands; alice runs the add again.
 * Impact: a retry has a second effect: twice the RNs asked, two epochs (every member fetches a key
 * twice), two charges on the user's quota; a user who retries until she gets an answer gets a
 * group of unbounded size up to her quota.
 * Severity: medium (duplicate paid effect on a lost reply).
 *
 * Status: fixed (addRemote / rekeyRemote keep the sealed request until answered or refused for good;
 * the next run resends it; rsms-group.md §10).
 *
 * Secure behaviour asserted: the second run finishes the first add (its reply: epoch 1, one RN added),
 * and the chain stays at epoch 1 with three members.
 */
import { expect } from "chai";
import { formedGroup, interceptGroupWrite, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { addRemote } from "../../offchain/services/rsms/group-clients";

describe("s18-redg G4: a group add whose reply was lost is not added twice by the next run (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("alice's add times out while the MSRP writes it; her next run gets the first add's answer, no second add", async () => {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    ({ s, gid } = await formedGroup(machines, ["a", "b", "c", "d", "e"]));
    const alice = { msrpUrl: s.msrpUrl, user: "alice", groupId: gid, count: 1, keystore: machines.get("alice")!, dep: s.dep };
    const groups = s.msrpDeps.groups!;
    const slow = interceptGroupWrite(groups, "rekey", "slow");
    const first = await addRemote({ ...alice, retry: { attempts: 1, timeoutMs: 500, backoffMs: 10 } }).then(
      () => "answered",
      (e: Error) => `lost: ${e.message.split("\n")[0]}`,
    );
    expect(first, "precondition: the first run lost its reply").to.match(/^lost: /);
    await slow.written();
    slow.restore();
    expect(Number((await s.dep.groups.view(gid)).epoch), "precondition: the first add landed").to.equal(1);

    const again = await addRemote(alice);
    expect(again.epoch, "the second run answers with the first add's epoch").to.equal(1);
    expect(again.added.length, "one RN added").to.equal(1);
    expect(again.resumed, "the kept add was finished").to.equal(true);
    const on = await s.dep.groups.view(gid);
    expect(Number(on.epoch), "no second update on chain").to.equal(1);
    expect(Number(on.members), "three RNs: the two and the one asked").to.equal(3);
  });
});
