/**
 * Red team h15-red, finding H6 (fixed): an honest member that re-authenticates keeps its groups.
 *
 * An RN keeps its group membership under the PID it was allocated under: rotation changes nothing
 * on chain (`isMember(gid, PID_k)`), in the MSRP's record or in what the MSRP seals at the next
 * update (to PK_G(PID_k)). Its client used to take part only under its *current* pseudonym
 * (`localParty` dropped the party record of another PID), so after `rsms:reauth` it could not read,
 * send or fetch its next key, and its next saved party record overwrote the old groups' keys.
 * Now the party records are per (RN, PID) and a group's operations run under the PID the group's
 * roster lists (`groupParty`, the roster read by the group id alone: nothing sent names two PIDs).
 *
 * Asserted: after the member rotates it reads alice's message and alice reads its; it joins a new
 * group under its new PID and still reads the old one (no overwrite); an RN allocated under PID_0
 * that rotates before it first takes part joins that group (`currentGroupsOf` finds it) under PID_0,
 * and no chain read of that lookup names a PID; both rotated members open the next key update of
 * the first group (sealed to their old PIDs) and read its traffic.
 */
import { expect } from "chai";
import hre from "hardhat";
import { rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { equalBytes, toHex } from "../../offchain/crypto/bytes";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import {
  addRemote,
  currentGroupsOf,
  groupParty,
  localParty,
  readRemote,
  registerUserRemote,
  requestGroupRemote,
  sendRemote,
  takePart,
} from "../../offchain/services/rsms/group-clients";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

/** The eth_call and eth_getLogs parameters sent to the node while `run` runs (lower case JSON). */
async function nodeCalls(run: () => Promise<void>): Promise<string[]> {
  const provider = hre.network.provider;
  const seen: string[] = [];
  const watched = (m: string) => m === "eth_call" || m === "eth_getLogs";
  const send = provider.send.bind(provider);
  provider.send = async (method: string, params?: unknown[]) => {
    if (watched(method)) seen.push(JSON.stringify(params).toLowerCase());
    return send(method, params);
  };
  const request = provider.request.bind(provider);
  provider.request = async (a: Parameters<typeof request>[0]) => {
    if (watched(a.method)) seen.push(JSON.stringify(a.params).toLowerCase());
    return request(a);
  };
  try {
    await run();
  } finally {
    provider.send = send;
    provider.request = request;
  }
  return seen;
}

describe("h15-red H6: a member that re-authenticates keeps its groups", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("after rsms:reauth an honest member still reads and sends in its group, also after joining a new one under its new PID", async () => {
    s = await rsmsServices({ groups: true, pools: [1, 2] });
    const machines = new Map<string, Keystore>();
    const ks = (n: string) => machines.get(n)!;
    const rns = ["a", "b", "c", "d"];
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

    // x answers under PID_0, and alice reads it
    await sendRemote({
      msrpUrl: s.msrpUrl,
      name: x,
      groupId: g.groupId,
      message: new TextEncoder().encode("still here"),
      keystore: ks(x),
      dep: s.dep,
    });
    const back = await readRemote({ msrpUrl: s.msrpUrl, name: "alice", groupId: g.groupId, keystore: ks("alice"), dep: s.dep });
    expect(back.messages.map((m) => [m.sender, new TextDecoder().decode(m.plaintext)])).to.deep.equal([[toHex(pid0), "still here"]]);

    // a second group: every RN is taken (x under its new PID); saving its party record keeps the first group's keys
    const g2 = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 4, keystore: ks("alice"), dep: s.dep });
    const pid1 = loadRemoteRn(ks(x), x)!.state.pid;
    expect(
      g2.pids.some((p) => equalBytes(p, pid1)),
      "x is in the second group under PID_1",
    ).to.equal(true);
    // y: a member of the first group that rotates before it first takes part in the second
    const y = members.find((n) => n !== x)!;
    const yPid0 = loadRemoteRn(ks(y), y)!.state.pid;
    await reauthRemote({ name: y, poolId: 2, keystore: ks(y), dep: s.dep, retry: once });
    const ids = (n: string) => currentGroupsOf(ks(n), n, s.dep.groups.registry).then((gs) => gs.map(toHex).sort());
    // what y asks the node while it finds its groups and picks its PID: nothing names a PID of it (h14-red F4's rule)
    const seen = await nodeCalls(async () => {
      expect(await ids(y), `${y} finds both groups under its old PID`).to.deep.equal([g.groupId, g2.groupId].map(toHex).sort());
      expect(toHex((await groupParty(ks(y), y, g2.groupId, s.dep)).pid)).to.equal(toHex(yPid0));
    });
    const yPid1 = loadRemoteRn(ks(y), y)!.state.pid;
    const naming = (pid: Uint8Array) => seen.filter((c) => c.includes(toHex(pid).slice(2).toLowerCase())).length;
    expect({ old: naming(yPid0), new: naming(yPid1), calls: seen.length > 0 }).to.deep.equal({ old: 0, new: 0, calls: true });
    await Promise.all(
      ["alice", ...rns].map((n) => takePart({ msrpUrl: s.msrpUrl, name: n, groupId: g2.groupId, keystore: ks(n), dep: s.dep, pollMs: 50 })),
    );
    await sendRemote({
      msrpUrl: s.msrpUrl,
      name: "alice",
      groupId: g.groupId,
      message: new TextEncoder().encode("first group"),
      keystore: ks("alice"),
      dep: s.dep,
    });
    for (const n of [x, y]) {
      const r = await readRemote({ msrpUrl: s.msrpUrl, name: n, groupId: g.groupId, keystore: ks(n), dep: s.dep });
      expect(
        r.messages.map((m) => new TextDecoder().decode(m.plaintext)),
        `${n} in the first group`,
      ).to.include("first group");
    }
    expect(localParty(ks(y), y, yPid0).party.epochsOf(g2.groupId), `${y} took part in the second group under PID_0`).to.deep.equal([0]);

    // a key update of the first group: both rotated members open the key sealed to their old PIDs
    const up = await addRemote({ msrpUrl: s.msrpUrl, user: "alice", groupId: g.groupId, count: 1, keystore: ks("alice"), dep: s.dep });
    const added = rns.find((n) => equalBytes(localParty(ks(n), n).pid, up.added[0]))!;
    const got1 = await Promise.all(
      ["alice", x, y, added].map((n) =>
        takePart({ msrpUrl: s.msrpUrl, name: n, groupId: g.groupId, keystore: ks(n), dep: s.dep, pollMs: 50 }),
      ),
    );
    expect(got1.map((r) => r.epoch)).to.deep.equal([1, 1, 1, 1]);
    expect(new Set(got1.map((r) => toHex(r.key))).size, "one key").to.equal(1);
    await sendRemote({
      msrpUrl: s.msrpUrl,
      name: "alice",
      groupId: g.groupId,
      message: new TextEncoder().encode("epoch one"),
      keystore: ks("alice"),
      dep: s.dep,
    });
    for (const n of [x, y]) {
      const r = await readRemote({ msrpUrl: s.msrpUrl, name: n, groupId: g.groupId, keystore: ks(n), dep: s.dep });
      expect(
        r.messages.map((m) => [m.epoch, new TextDecoder().decode(m.plaintext)]),
        `${n} after the update`,
      ).to.deep.include([1, "epoch one"]);
    }
  });
});
