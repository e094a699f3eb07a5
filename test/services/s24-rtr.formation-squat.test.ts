/**
 * s24-rtr R3 (M): another user's request with the same group id overwrites the MSRP's pending
 * formation intent of a group that is already mined, and the group's user is stranded for good.
 *
 * Threat: alice's group request is mined (`formGroup(G)`), then the MSRP's own call throws (its node
 * connection drops after mining): the intent `group-G` stays pending, no mailbox, no reply; alice
 * keeps her request and resends it later (s18-fixg finishes it from the intent). Meanwhile mallory,
 * any registered user, who saw G (it is in `GroupFormed(G, ...)` on chain, and in alice's envelope on
 * the wire), sends her own group request naming G. The desk looks for a pending intent of *these
 * bytes* (none), finds no mailbox for G, deals a new group for mallory and `journal.put("group-G")`
 * replaces alice's intent; mallory's `formGroup(G)` reverts (G is on chain). Alice's resend now finds
 * no intent of her bytes, deals again, and reverts GroupExists: every resend fails, the group on chain
 * (her RNs allocated) never gets its MSRP record or mailbox.
 * Severity: medium (needs the MSRP's write to fail after mining, then one request of any user; the
 * honest user is stranded, her group and its RNs orphaned).
 *
 * Secure behaviour asserted: mallory's request is refused and alice's resend is answered with her
 * group G, whose mailbox the MSRP then holds.
 */
import { expect } from "chai";
import { interceptGroupWrite, rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { equalBytes, fromHex } from "../../offchain/crypto/bytes";
import { Kind, Scheme, audienceOf, openEnvelope, sealEnvelope, Route } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import { joinRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { decodeGroupRequest, encodeGroupRequest, groupSession } from "../../offchain/services/rsms/group-wire";
import { groupRequestPending, localParty, registerUserRemote, requestGroupRemote } from "../../offchain/services/rsms/group-clients";

describe("s24-rtr R3: a second user's request for a mined group's id strands its user", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("alice's formation is mined but unanswered; mallory names its id; alice's resend still gets her group", async () => {
    s = await rsmsServices({ groups: true });
    const machines = new Map<string, Keystore>();
    const rns = ["a", "b", "c", "d"];
    for (const n of [...rns, "alice", "mallory"]) machines.set(n, new Keystore(tmp(`m-${n}`), ""));
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
    for (const u of ["alice", "mallory"])
      await registerUserRemote({
        msrpUrl: s.msrpUrl,
        name: u,
        rid: `user:${u}`,
        token: s.enrol(u, "user"),
        keystore: machines.get(u)!,
        dep: s.dep,
      });
    const retry = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    const alice = { msrpUrl: s.msrpUrl, user: "alice", size: 2, keystore: machines.get("alice")!, dep: s.dep, retry };

    const groups = s.msrpDeps.groups!;
    const lost = interceptGroupWrite(groups, "formGroup", "lost");
    const first = await requestGroupRemote(alice).then(
      () => "answered",
      (e: Error) => `lost: ${e.message.split("\n")[0]}`,
    );
    lost.restore();
    expect(first, "precondition: the first run got an error").to.match(/^lost: /);
    const kept = machines.get("alice")!.load(groupRequestPending("alice")) as { envelope: string };
    const gid = decodeGroupRequest(openEnvelope(fromHex(kept.envelope)).body).groupId;
    expect(Number((await s.dep.groups.view(gid)).members), "precondition: alice's group was mined").to.equal(2);

    // mallory, a registered user, asks for a group under the id she read on chain
    const m = localParty(machines.get("mallory")!, "mallory");
    const env = sealEnvelope(
      {
        kind: Kind.Request,
        route: Route.GroupRequest,
        audience: audienceOf(s.dep.chainId, s.dep.registry, "msrp"),
        session: groupSession(gid, 0),
        requestId: freshId(),
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body: encodeGroupRequest({ groupId: gid, size: 2, user: "mallory" }),
      },
      { scheme: Scheme.Schnorr, sk: m.sk },
    );
    const squat = await postEnvelope(s.msrpUrl, "/v1/group/request", env, retry).then(
      () => "answered",
      (e: Error) => `refused: ${e.message.split("\n")[0]}`,
    );
    expect(squat, "mallory's request for alice's group id is refused").to.match(/^refused: /);

    // alice resends her kept request: she must get her group, not be stranded
    const again = await requestGroupRemote(alice);
    expect(equalBytes(again.groupId, gid), "alice's resend is answered with her group").to.equal(true);
    expect(s.msrp.desk!.mailbox(gid)?.epoch, "the MSRP finished alice's group: its mailbox is there").to.equal(0);
  });
});
