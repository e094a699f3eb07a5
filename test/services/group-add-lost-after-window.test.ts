/**
 * Review s18-review1, finding M1: a kept add whose MSRP chain write failed after mining, resent
 * after the reply cache's window, was made twice.
 *
 * Threat: the MSRP mines alice's add, then its own `groups.rekey` call throws (its node connection
 * drops after the transaction was mined): the intent stays pending and no reply is cached; alice
 * gets a 500 and keeps her request (s18-redg G4). She runs `group:add` again more than 5 minutes
 * later. The reply cache's freshness check ran before the desk looked up the pending intent of the
 * very same request bytes, so the kept request was refused `STALE` and dropped; her next run sealed
 * a fresh request, the desk finished the first update (epoch 1) and made a second one (epoch 2).
 * Steps: group {x, y}; the chain write throws after mining; alice's add (count 1) gets a 500; the
 * MSRP's reply-cache clock is moved 6 minutes on; alice runs the add again.
 * Impact: a retry has a second effect (two epochs, twice the RNs, two quota charges), and alice is
 * never told that her first add landed.
 * Severity: medium.
 *
 * Status: fixed (GroupDesk.update answers a pending update of the very same request bytes before
 * the reply cache's freshness check, like the cache answers a served request however late).
 *
 * Secure behaviour asserted: the late resend is answered with the first add (epoch 1, resumed), the
 * chain stays at epoch 1 with three members, and the next run makes a new add (epoch 2, four).
 */
import { expect } from "chai";
import { formedGroup, interceptGroupWrite, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { addRemote } from "../../offchain/services/rsms/group-clients";

describe("s18-review1 M1: a kept add resent after the reply window is finished, not made again (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("the MSRP's chain write throws after mining; alice's resend 6 minutes later gets the first add", async () => {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    ({ s, gid } = await formedGroup(machines, ["a", "b", "c", "d", "e"]));
    const alice = {
      msrpUrl: s.msrpUrl,
      user: "alice",
      groupId: gid,
      count: 1,
      keystore: machines.get("alice")!,
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

    // alice comes back after the reply cache's 5-minute window
    const cache = (s.msrp.desk as unknown as { d: { cache: { now: () => number } } }).d.cache;
    const realNow = cache.now;
    cache.now = () => Date.now() + 6 * 60_000;
    let again: Awaited<ReturnType<typeof addRemote>>;
    try {
      again = await addRemote(alice);
    } finally {
      cache.now = realNow;
    }
    expect(again.epoch, "the late resend is answered with the first add's epoch").to.equal(1);
    expect(again.resumed, "the kept add was finished").to.equal(true);
    expect(again.added.length, "one RN added").to.equal(1);
    let on = await s.dep.groups.view(gid);
    expect(Number(on.epoch), "no second update on chain").to.equal(1);
    expect(Number(on.members), "three RNs: the two and the one asked").to.equal(3);

    const next = await addRemote(alice);
    expect([next.epoch, next.resumed], "the run after it adds anew").to.deep.equal([2, false]);
    on = await s.dep.groups.view(gid);
    expect(Number(on.members), "four RNs").to.equal(4);
  });
});
