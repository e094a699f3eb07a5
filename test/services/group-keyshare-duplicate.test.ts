/**
 * Red team h15-red, finding H2 (fixed: GroupDesk.post takes exactly n - 1 key shares, one to each other party): a member stalls its group's key agreement, unnamed, by posting
 * two key shares to one party.
 *
 * The MSRP's mailbox (`GroupDesk.post`, round 2) checks that the `to` fields of a party's key shares
 * cover the n - 1 others (`new Set(to).size !== n - 1`), not that there is one share per other party:
 * a post of n shares with one recipient twice is stored. That recipient's client waits for exactly
 * n - 1 shares addressed to it (`takePart`'s `until`): it either sees the cheat's two before the
 * others' (n - 1 of them) and `acceptKeyShares` refuses them as `REPLAYED` ("two key shares from
 * party i", naming nobody), or sees n and times out. Meanwhile the
 * cheating member gets its own n - 1 shares and derives the key. The group never forms for the victim
 * and no party is blamed, against the sound blame of rsms-group.md §7 (a missing share names the
 * silent party; a signed bad share names its sender). The slot is then taken (a corrected post is
 * `EQUIVOCATION`), so the cheat cannot even be undone; the user's only way out is a paid update (an
 * add) that seals a fresh key to every member, the cheat included.
 *
 * Secure behaviour asserted: the mailbox stores no round-2 post other than one share to each other
 * party (the cheat's post is refused, 422, nothing stored).
 */
import { expect } from "chai";
import { Keystore } from "../../offchain/storage/keystore";
import { equalBytes, fromHex } from "../../offchain/crypto/bytes";
import { decodeKeyShare } from "../../offchain/rsms/group-messages";
import { Round } from "../../offchain/services/rsms/group-wire";
import { joinRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { localParty, registerUserRemote, requestGroupRemote, takePart } from "../../offchain/services/rsms/group-clients";
import { GroupParty } from "../../offchain/rsms/group";
import { rsmsServices, tmp } from "../helpers/rsms-services";

describe("h15-red H2: two key shares to one party in a round-2 post (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("the mailbox refuses a member's round-2 post with a second share to the user (WRONG_INDEX): nothing malformed is stored", async () => {
    s = await rsmsServices({ groups: true });
    const machines = new Map<string, Keystore>();
    const ks = (n: string) => machines.get(n)!;
    const rns = ["a", "b"];
    for (const n of [...rns, "alice"]) machines.set(n, new Keystore(tmp(`m-${n}`), ""));
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
    const nameOf = (pid: Uint8Array) => [...machines.keys()].find((n) => equalBytes(localParty(ks(n), n).pid, pid))!;
    const [cheat, honest] = g.pids.slice(1).map(nameOf);

    // The cheating member's client posts its key shares with a copy of the one to the user (index 0)
    // under an index no party has: its post carries n = 3 shares, two of them to the user.
    const real = GroupParty.prototype.keyShares;
    GroupParty.prototype.keyShares = function (this: GroupParty, gid: Uint8Array) {
      const out = real.call(this, gid);
      if (this.name === cheat) out.set(1_000, out.get(0)!);
      return out;
    };
    const outcome = (n: string, timeoutMs: number) =>
      takePart({ msrpUrl: s.msrpUrl, name: n, groupId: g.groupId, keystore: ks(n), dep: s.dep, pollMs: 50, timeoutMs }).then(
        (r) => `key of epoch ${r.epoch}`,
        (e: Error) => e.message.split("\n")[0],
      );
    let got: string[];
    try {
      got = await Promise.all([outcome("alice", 8_000), outcome(honest, 8_000), outcome(cheat, 8_000)]);
    } finally {
      GroupParty.prototype.keyShares = real;
    }
    // (while open: alice fails, REPLAYED or a time-out, the honest RN and the cheat derive the key,
    // and nothing names the cheat)
    const n = g.pids.length;
    const slots = s.msrp.desk!.mailbox(g.groupId)!.rounds[Round.KeyShares] ?? {};
    const malformed = Object.entries(slots)
      .filter(([, ms]) => ms.length !== n - 1 || new Set(ms.map((m) => decodeKeyShare(fromHex(m)).to)).size !== n - 1)
      .map(([from]) => nameOf(g.pids[Number(from)]));
    expect(malformed, `alice got: ${got[0]}; ${honest} got: ${got[1]}; ${cheat} (the cheat) got: ${got[2]}`).to.deep.equal([]);
  });
});
