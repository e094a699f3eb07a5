/**
 * s24-fxr (the class of s24-rtr R3 on the key update's intent): a late copy of a served update must
 * not drop the update another request left pending since.
 *
 * Threat: the desk deleted the intent `rekey-<gid>` after *any* answer of an update request,
 * including a copy of an old, served request answered from the reply cache (a client's retry of a
 * lost reply arriving late, or a relay's duplicate). If another update of the group was left pending
 * meanwhile (the MSRP's chain write threw after mining: the chain at the new epoch, the agent not),
 * that intent was deleted unfinished: its own resend then found nothing to finish, dealt a new update
 * for an epoch the chain had already passed, and was refused by the chain; the agent stayed an epoch
 * behind the chain, every later update refused (the h11-red R7 pattern).
 * Steps: group {x, y}; add 1 (epoch 1, answered); a second add mined but its reply lost (pending);
 * the first add's bytes sent again; the second add resent.
 * Severity: medium (a lost reply and a late copy; the group's updates stuck for good).
 *
 * Secure behaviour asserted: the late copy gets its first answer (epoch 1) and leaves the pending
 * intent alone; the second add's resend is finished from it (epoch 2, resumed), the agent at the
 * chain's epoch and no update left pending.
 */
import { expect } from "chai";
import { formedGroup, interceptGroupWrite, msrpRequest, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { Route, Scheme, sealEnvelope } from "../../offchain/services/envelope";
import { postEnvelope } from "../../offchain/services/client";
import type { Journal } from "../../offchain/services/journal";
import { decodeRekeyDone, encodeGroupAdd, groupSession } from "../../offchain/services/rsms/group-wire";
import { openEnvelope } from "../../offchain/services/envelope";
import { addRemote, localParty } from "../../offchain/services/rsms/group-clients";

describe("s24-fxr: a late copy of a served key update leaves another request's pending update alone", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("add 1 answered; add 2 mined, reply lost; add 1's bytes again; add 2's resend makes epoch 2", async () => {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    ({ s, gid } = await formedGroup(machines, ["a", "b", "c", "d", "e"]));
    const keystore = machines.get("alice")!;
    const retry = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
    const sk = localParty(keystore, "alice").sk;
    const first = sealEnvelope(
      msrpRequest(s.dep, Route.GroupAdd, groupSession(gid, 0), encodeGroupAdd({ groupId: gid, epoch: 0, count: 1 })),
      { scheme: Scheme.Schnorr, sk },
    );
    const answer = (b: Uint8Array) => decodeRekeyDone(openEnvelope(b).body).epoch;
    expect(answer(await postEnvelope(s.msrpUrl, "/v1/group/add", first, retry)), "precondition: add 1 made epoch 1").to.equal(1);

    const lost = interceptGroupWrite(s.msrpDeps.groups!, "rekey", "lost");
    const second = await addRemote({ msrpUrl: s.msrpUrl, user: "alice", groupId: gid, count: 1, keystore, dep: s.dep, retry }).then(
      () => "answered",
      (e: Error) => `lost: ${e.message.split("\n")[0]}`,
    );
    lost.restore();
    expect(second, "precondition: add 2's reply was lost").to.match(/^lost: /);
    expect(Number((await s.dep.groups.view(gid)).epoch), "precondition: add 2 was mined").to.equal(2);
    const journal = (s.msrp.desk! as unknown as { d: { journal: Journal } }).d.journal;
    const updates = () => journal.pending().filter((i) => i.id.startsWith("rekey-"));
    expect(updates().length, "precondition: add 2 is pending").to.equal(1);

    // a late copy of add 1: answered from the cache, as before
    expect(answer(await postEnvelope(s.msrpUrl, "/v1/group/add", first, retry)), "the copy gets add 1's answer").to.equal(1);
    expect(updates().length, "add 2's intent is still pending").to.equal(1);

    const again = await addRemote({ msrpUrl: s.msrpUrl, user: "alice", groupId: gid, count: 1, keystore, dep: s.dep, retry });
    expect([again.epoch, again.resumed], "add 2's resend is finished from its intent").to.deep.equal([2, true]);
    expect(s.msrp.msrp.groupInfo(gid).epoch, "the agent at the chain's epoch").to.equal(2);
    expect(s.msrp.desk!.mailbox(gid)?.epoch, "the mailbox at epoch 2").to.equal(2);
    expect(updates(), "no update left pending").to.deep.equal([]);
  });
});
