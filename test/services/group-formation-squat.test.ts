/**
 * Red team s24-rtr, finding R3 (M): another user's request with the same group id overwrote the
 * MSRP's pending formation intent of a group that was already mined, and the group's user was
 * stranded for good. Fixed (s24-fxr); the class guarded here: one request never replaces another's
 * journalled formation, and the desk never deals for an id the chain already holds.
 *
 * Threat: alice's group request is mined (`formGroup(G)`), then the MSRP's own call throws (its node
 * connection drops after mining): the intent `group-G` stays pending, no mailbox, no reply; alice
 * keeps her request and resends it later (s18-fixg finishes it from the intent). Meanwhile mallory,
 * any registered user, who saw G (it is in `GroupFormed(G, ...)` on chain, and in alice's envelope on
 * the wire), sends her own group request naming G. The desk looked for a pending intent of *these
 * bytes* (none), found no mailbox for G, dealt a new group for mallory and `journal.put("group-G")`
 * replaced alice's intent; mallory's `formGroup(G)` reverted (G is on chain). Alice's resend then found
 * no intent of her bytes, dealt again, and reverted GroupExists: every resend failed, the group on chain
 * (her RNs allocated) never got its MSRP record or mailbox.
 * Variants: alice's transaction dropped rather than mined (mallory took G, alice's resend refused);
 * an id on chain with no intent and no mailbox (the desk dealt, charged the quota and journalled an
 * intent whose formGroup could only revert).
 * Severity: medium (needs the MSRP's write to fail after mining, then one request of any user; the
 * honest user is stranded, her group and its RNs orphaned).
 *
 * Secure behaviour asserted: the desk refuses GROUP_EXISTS, before the quota, the deal and the journal,
 * a formation whose id has a pending formation of another request or is on chain; alice's resend is
 * answered with her group G, whose mailbox the MSRP then holds.
 */
import { randomBytes } from "crypto";
import { expect } from "chai";
import { interceptGroupWrite, rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { equalBytes, fromHex, toHex } from "../../offchain/crypto/bytes";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { Kind, Scheme, audienceOf, openEnvelope, sealEnvelope, Route } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import type { Journal } from "../../offchain/services/journal";
import { joinRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { decodeGroupRequest, encodeGroupRequest, groupSession } from "../../offchain/services/rsms/group-wire";
import { groupRequestPending, localParty, registerUserRemote, requestGroupRemote } from "../../offchain/services/rsms/group-clients";

type Services = Awaited<ReturnType<typeof rsmsServices>>;
const retry = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const rns = ["a", "b", "c", "d"];

/** The services with four joined RNs and two registered users, alice and mallory. */
async function twoUsers(): Promise<{ s: Services; machines: Map<string, Keystore> }> {
  const s = await rsmsServices({ groups: true });
  const machines = new Map<string, Keystore>();
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
  return { s, machines };
}

/** `user`'s group request naming `gid`, sealed by hand (the client picks a fresh id). */
function requestFor(s: Services, machines: Map<string, Keystore>, user: string, gid: Uint8Array): Uint8Array {
  const me = localParty(machines.get(user)!, user);
  return sealEnvelope(
    {
      kind: Kind.Request,
      route: Route.GroupRequest,
      audience: audienceOf(s.dep.chainId, s.dep.registry, "msrp"),
      session: groupSession(gid, 0),
      requestId: freshId(),
      issuedAt: Date.now(),
      inReplyTo: new Uint8Array(32),
      body: encodeGroupRequest({ groupId: gid, size: 2, user }),
    },
    { scheme: Scheme.Schnorr, sk: me.sk },
  );
}

const post = (s: Services, env: Uint8Array) =>
  postEnvelope(s.msrpUrl, "/v1/group/request", env, retry).then(
    () => "answered",
    (e: Error) => `refused: ${e.message.split("\n")[0]}`,
  );
const journalOf = (s: Services) => (s.msrp.desk! as unknown as { d: { journal: Journal } }).d.journal;
const formations = (s: Services) =>
  journalOf(s)
    .pending()
    .filter((i) => i.id.startsWith("group-"));

/** Alice's formation whose chain write throws (`lost`: after mining; `dropped`: never sent); her kept request and its id. */
async function aliceLeftPending(s: Services, machines: Map<string, Keystore>, mode: "lost" | "dropped") {
  const alice = { msrpUrl: s.msrpUrl, user: "alice", size: 2, keystore: machines.get("alice")!, dep: s.dep, retry };
  const cut = interceptGroupWrite(s.msrpDeps.groups!, "formGroup", mode);
  const first = await requestGroupRemote(alice).then(
    () => "answered",
    (e: Error) => `lost: ${e.message.split("\n")[0]}`,
  );
  cut.restore();
  expect(first, "precondition: the first run got an error").to.match(/^lost: /);
  const kept = machines.get("alice")!.load(groupRequestPending("alice")) as { envelope: string };
  const gid = decodeGroupRequest(openEnvelope(fromHex(kept.envelope)).body).groupId;
  return { alice, kept: kept.envelope, gid };
}

describe("s24-rtr R3: one group request never replaces another's formation, nor deals an id on chain (fixed)", function () {
  this.timeout(300_000);
  let s: Services | undefined;
  afterEach(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
    s = undefined;
  });

  it("alice's formation is mined but unanswered; mallory names its id; alice's resend still gets her group", async () => {
    let machines: Map<string, Keystore>;
    ({ s, machines } = await twoUsers());
    const { alice, gid } = await aliceLeftPending(s, machines, "lost");
    expect(Number((await s.dep.groups.view(gid)).members), "precondition: alice's group was mined").to.equal(2);

    // mallory, a registered user, asks for a group under the id she read on chain
    const squat = await post(s, requestFor(s, machines, "mallory", gid));
    expect(squat, "mallory's request for alice's group id is refused").to.match(
      new RegExp(`^refused: .*group ${toHex(gid)} is being formed for another request`),
    );

    // alice resends her kept request: she must get her group, not be stranded
    const again = await requestGroupRemote(alice);
    expect(equalBytes(again.groupId, gid), "alice's resend is answered with her group").to.equal(true);
    expect(s.msrp.desk!.mailbox(gid)?.epoch, "the MSRP finished alice's group: its mailbox is there").to.equal(0);
  });

  it("alice's formation transaction is dropped (not on chain); mallory's request for its id is refused, her intent kept; alice's resend forms it", async () => {
    let machines: Map<string, Keystore>;
    ({ s, machines } = await twoUsers());
    const { alice, kept, gid } = await aliceLeftPending(s, machines, "dropped");
    expect(await s.dep.groups.exists(gid), "precondition: nothing on chain").to.equal(false);
    expect(
      formations(s).map((i) => i.data.request),
      "precondition: alice's formation is pending",
    ).to.deep.equal([kept]);

    const squat = await post(s, requestFor(s, machines, "mallory", gid));
    expect(squat, "mallory's request is refused, naming the group").to.match(
      new RegExp(`^refused: .*group ${toHex(gid)} is being formed for another request`),
    );
    expect(squat.split("\n").length, "one line").to.equal(1);
    expect(
      formations(s).map((i) => i.data.request),
      "alice's pending formation is still hers",
    ).to.deep.equal([kept]);
    expect(s.msrp.desk!.quota.used("mallory").user, "mallory's quota is not charged").to.equal(0);
    expect(await s.dep.groups.exists(gid), "nothing sent: still nothing on chain").to.equal(false);

    const again = await requestGroupRemote(alice);
    expect(equalBytes(again.groupId, gid), "alice's resend is answered with her group").to.equal(true);
    const on = await s.dep.groups.view(gid);
    expect(equalBytes(on.userPid, localParty(machines.get("alice")!, "alice").pid), "the group on chain is alice's").to.equal(true);
    expect(s.msrp.desk!.mailbox(gid)?.user, "the mailbox is alice's").to.equal("alice");
    expect(formations(s), "no formation left pending").to.deep.equal([]);
  });

  it("a request naming an id the chain holds (no intent, no mailbox here) is refused before the quota, the deal and the journal", async () => {
    let machines: Map<string, Keystore>;
    ({ s, machines } = await twoUsers());
    const gid = randomBytes(32);
    const pid = (n: string) => localParty(machines.get(n)!, n).pid;
    // the chain settled the id without this desk's intent (another MSRP holding the role, or an intent dropped)
    await s.msrpDeps.groups!.formGroup(gid, pid("mallory"), [pid("a"), pid("b")], mulBase(randomScalar()), randomBytes(32));
    const before = await s.dep.groups.view(gid);
    const quota = s.msrp.desk!.quota.used("alice");

    const asked = await post(s, requestFor(s, machines, "alice", gid));
    expect(asked, "refused, naming the group").to.match(new RegExp(`^refused: .*group ${toHex(gid)} is already on-chain`));
    expect(formations(s), "nothing journalled").to.deep.equal([]);
    expect(s.msrp.desk!.quota.used("alice"), "the quota is not charged").to.deep.equal(quota);
    expect(s.msrp.desk!.mailbox(gid), "no mailbox").to.equal(undefined);
    expect(() => s!.msrp.msrp.groupInfo(gid), "no record in the agent").to.throw();
    const after = await s.dep.groups.view(gid);
    expect([after.epoch, after.members, toHex(after.userPid)], "the chain unchanged").to.deep.equal([
      before.epoch,
      before.members,
      toHex(before.userPid),
    ]);
  });
});
