/**
 * s18-fixg, the formation twin of s18-review1 M1: a kept group request whose MSRP chain write failed
 * after mining, resent after the reply cache's window, was refused and dropped.
 *
 * Threat: the MSRP mines alice's group (`formGroup`), then its own call throws (its node
 * connection drops after the transaction was mined): the intent stays pending and no reply is
 * cached; alice gets a 500 and keeps her request. She runs `group:request` again more than 5
 * minutes later: the reply cache's freshness check ran before the desk looked up the pending
 * intent of the very same bytes, so the request was refused `STALE` and dropped; her next run
 * would seal a new group id and the MSRP would form a second group (twice the RNs), while the
 * first one sat on chain unfinished until the MSRP's next restart.
 * Steps: four joined RNs and alice; the chain write of the formation throws after mining; the
 * MSRP's reply-cache clock moved 6 minutes on; alice runs the request again.
 * Severity: medium (as M1).
 *
 * Status: fixed (GroupDesk.requestGroup answers a pending formation of the very same request
 * bytes before the reply cache's freshness check).
 *
 * Secure behaviour asserted: the late resend is answered with the first group (same id, on chain,
 * two members), and the MSRP's mailbox holds it.
 */
import { expect } from "chai";
import { interceptGroupWrite, rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { equalBytes, fromHex } from "../../offchain/crypto/bytes";
import { openEnvelope } from "../../offchain/services/envelope";
import { joinRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { decodeGroupRequest } from "../../offchain/services/rsms/group-wire";
import { groupRequestPending, registerUserRemote, requestGroupRemote } from "../../offchain/services/rsms/group-clients";

describe("s18-fixg: a kept group request resent after the reply window is finished, not refused (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("the MSRP's formation write throws after mining; alice's resend 6 minutes later gets that group", async () => {
    s = await rsmsServices({ groups: true });
    const machines = new Map<string, Keystore>();
    const rns = ["a", "b", "c", "d"];
    for (const n of [...rns, "alice"]) machines.set(n, new Keystore(tmp(`m-${n}`), ""));
    for (const n of rns)
      await registerRnRemote({
        msrpUrl: s.msrpUrl,
        name: n,
        poolId: 1,
        rid: `rn:${n}`,
        token: s.enrol(n),
        keystore: machines.get(n)!,
        dep: s.dep,
      });
    expect(await s.msrp.publishDue(), "precondition: the filter is published").to.equal(1);
    for (const n of rns) await joinRemote({ name: n, poolId: 1, keystore: machines.get(n)!, dep: s.dep });
    const keystore = machines.get("alice")!;
    await registerUserRemote({
      msrpUrl: s.msrpUrl,
      name: "alice",
      rid: "user:alice",
      token: s.enrol("alice", "user"),
      keystore,
      dep: s.dep,
    });
    const alice = {
      msrpUrl: s.msrpUrl,
      user: "alice",
      size: 2,
      keystore,
      dep: s.dep,
      retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
    };

    const groups = s.msrpDeps.groups!;
    const lost = interceptGroupWrite(groups, "formGroup", "lost");
    const first = await requestGroupRemote(alice).then(
      () => "answered",
      (e: Error) => `lost: ${e.message.split("\n")[0]}`,
    );
    lost.restore();
    expect(first, "precondition: the first run got an error").to.match(/^lost: /);
    const kept = keystore.load(groupRequestPending("alice")) as { envelope: string };
    const gid = decodeGroupRequest(openEnvelope(fromHex(kept.envelope)).body).groupId;
    expect(Number((await s.dep.groups.view(gid)).members), "precondition: the group was mined").to.equal(2);

    const cache = (s.msrp.desk as unknown as { d: { cache: { now: () => number } } }).d.cache;
    const realNow = cache.now;
    cache.now = () => Date.now() + 6 * 60_000;
    let again: Awaited<ReturnType<typeof requestGroupRemote>>;
    try {
      again = await requestGroupRemote(alice);
    } finally {
      cache.now = realNow;
    }
    expect(equalBytes(again.groupId, gid), "the late resend is answered with the first group").to.equal(true);
    expect(again.pids.length, "alice and two RNs").to.equal(3);
    expect(s.msrp.desk!.mailbox(gid)?.epoch, "the MSRP finished it: its mailbox is there").to.equal(0);
    expect(keystore.exists(groupRequestPending("alice")), "alice's kept request is dropped").to.equal(false);
  });
});
