/**
 * Red team h15-red, finding H6 (open): an honest member that re-authenticates loses its groups.
 *
 * An RN keeps its group membership under the PID it was allocated under: rotation changes nothing
 * on chain (`isMember(gid, PID_k)`), in the MSRP's record (the member entry, its load) or in what
 * the MSRP seals at the next update (to PK_G(PID_k)). But the RN's client takes part in groups
 * only under its *current* pseudonym: `localParty` drops the party record whose PID is not the RN's
 * current one ("a new pseudonym: new groups under it"), so after `rsms:reauth` the RN cannot read or
 * send in its groups (AgentStateError: not a member), cannot fetch its next key (its request names
 * PID_{k+1}: NOT_A_MEMBER), and the first time it saves its party record (any `group:join` of a new
 * group) the keys of every old group are overwritten, the archive included. The group's user sees a
 * member on chain that never answers; the MSRP keeps counting the load. The same root breaks the
 * in-process `group:rekey` (H5). A re-authentication is the paper's ordinary move between pools.
 *
 * Secure behaviour asserted: after the member rotates, it still reads its group's traffic.
 */
import { expect } from "chai";
import { rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { equalBytes } from "../../offchain/crypto/bytes";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import {
  localParty,
  readRemote,
  registerUserRemote,
  requestGroupRemote,
  sendRemote,
  takePart,
} from "../../offchain/services/rsms/group-clients";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("h15-red H6: a member that re-authenticates can no longer take part in its groups (open finding)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("after rsms:reauth an honest member cannot read alice's next message in the group it is still a member of", async () => {
    s = await rsmsServices({ groups: true, pools: [1, 2] });
    const machines = new Map<string, Keystore>();
    const ks = (n: string) => machines.get(n)!;
    const rns = ["a", "b", "c"];
    for (const n of [...rns, "alice"]) machines.set(n, new Keystore(tmp(`h6-${n}`), ""));
    for (const n of rns)
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: ks(n), dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    for (const n of rns) await joinRemote({ name: n, poolId: 1, keystore: ks(n), dep: s.dep });
    await registerUserRemote({
      msrpUrl: s.msrpUrl,
      name: "alice",
      rid: "user:alice",
      token: s.enrol("alice", "user"),
      keystore: ks("alice"),
      dep: s.dep,
    });
    const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 2, keystore: ks("alice"), dep: s.dep });
    const nameOf = (pid: Uint8Array) => rns.find((n) => equalBytes(localParty(ks(n), n).pid, pid))!;
    const members = g.pids.slice(1).map(nameOf);
    await Promise.all(
      ["alice", ...members].map((n) =>
        takePart({ msrpUrl: s.msrpUrl, name: n, groupId: g.groupId, keystore: ks(n), dep: s.dep, pollMs: 50 }),
      ),
    );
    const x = members[0];
    const pid0 = loadRemoteRn(ks(x), x)!.state.pid;
    // x moves to pool 2: an honest re-authentication, PID_0 -> PID_1
    await reauthRemote({ name: x, poolId: 2, keystore: ks(x), dep: s.dep, retry: once });
    expect(await s.dep.groups.isMember(g.groupId, pid0), "precondition: x is still a member under PID_0").to.equal(true);

    await sendRemote({
      msrpUrl: s.msrpUrl,
      name: "alice",
      groupId: g.groupId,
      message: new TextEncoder().encode("hi all"),
      keystore: ks("alice"),
      dep: s.dep,
    });
    const got = await readRemote({ msrpUrl: s.msrpUrl, name: x, groupId: g.groupId, keystore: ks(x), dep: s.dep }).then(
      (r) => r.messages.map((m) => new TextDecoder().decode(m.plaintext)).join(", "),
      (e: Error) => `failed: ${e.message.split("\n")[0]}`,
    );
    expect(got, `${x} (still a member under PID_0 after its move)`).to.equal("hi all");
  });
});
