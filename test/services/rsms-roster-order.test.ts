/**
 * Red team h14-red, finding F2 (fixed): a group roster's order linked every RN's pseudonyms across a
 * rotation, on chain.
 *
 * Paper property (RSMS §III.D.2, Proposition 7): "RN's pseudonyms stored in the blockchain must be
 * unlinkable to each other". `GroupFormed(groupId, userPid, members, …)` used to list the members in
 * the order `Msrp.allocate` picked them: the least loaded first and, within a load, by the MSRP's
 * name for the RN, which a rotation does not change. So two rosters formed at equal loads listed the
 * RNs in the same order under whatever pseudonyms they held: a chain-only observer matched them
 * position by position. Here six RNs form a group, all six rotate (PID_0 -> PID_1, at another pool),
 * and a second group is formed: the observer's position-by-position guess named every RN's old PID.
 *
 * Fix: `Msrp.requestGroup` lists the RNs by PID (deterministic: a journal replay records the same
 * bytes), `rekeyGroup` the added ones too (rsms-group.md §8 "The roster's order"). The guess is now
 * right for all six with probability 1/720 (6!), so this test can fail spuriously once in 720 runs.
 * Bite: with the sort removed from requestGroup it fails (6 of 6 linked).
 */
import { expect } from "chai";
import hre from "hardhat";
import { joinedRnsAndUser, rsmsServices } from "../helpers/rsms-services";
import { equalBytes, toHex } from "../../offchain/crypto/bytes";
import { loadRemoteRn, reauthRemote } from "../../offchain/services/rsms/clients";
import { requestGroupRemote } from "../../offchain/services/rsms/group-clients";
import { ServiceGroupRegistry__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("h14-red F2: group rosters list RNs by PID, not in the allocator's order, which survives rotation", function () {
  this.timeout(600_000);

  it("a chain-only observer matching two rosters by position does not link all six RNs' rotated PIDs to their old ones", async () => {
    const s = await rsmsServices({ groups: true, pools: [1, 2] });
    try {
      // names in an order unrelated to anything the chain shows
      const rns = ["rn-f", "rn-b", "rn-e", "rn-a", "rn-d", "rn-c"];
      const ks = await joinedRnsAndUser(s, rns, "bob", "f2");
      const pidOf = (n: string) => loadRemoteRn(ks.get(n)!, n)!.state.pid;

      const old = new Map(rns.map((n) => [n, toHex(pidOf(n)).toLowerCase()]));
      await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "bob", size: rns.length, keystore: ks.get("bob")!, dep: s.dep });
      // every RN rotates (a cross-pool re-authentication): the rotation the paper makes unlinkable
      for (const n of rns) await reauthRemote({ name: n, poolId: 2, keystore: ks.get(n)!, dep: s.dep, retry: once });
      const rotated = new Map(rns.map((n) => [n, toHex(pidOf(n)).toLowerCase()]));
      for (const n of rns)
        expect(equalBytes(pidOf(n), Buffer.from(old.get(n)!.slice(2), "hex")), `precondition: ${n} rotated`).to.equal(false);
      await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "bob", size: rns.length, keystore: ks.get("bob")!, dep: s.dep });

      // ---- the observer: the two GroupFormed events only
      const groups = ServiceGroupRegistry__factory.connect(await s.f.groups.getAddress(), hre.ethers.provider);
      const formed = await groups.queryFilter(groups.filters.GroupFormed(), 0, "latest");
      expect(formed, "precondition: two formations").to.have.length(2);
      const [first, second] = formed.map((e) => e.args.members.map((m) => m.toLowerCase()));
      expect(
        first.filter((p) => second.includes(p)),
        "precondition: no PID in both rosters",
      ).to.deep.equal([]);
      const guess = new Map(second.map((p, i) => [p, first[i]])); // new PID -> old PID, by position
      const right = rns.filter((n) => guess.get(rotated.get(n)!) === old.get(n));
      // a roster in an order independent of the RNs gets all six right with probability 1/720
      expect(right.length, `the observer linked all ${rns.length} RNs' rotated PIDs to their old ones by roster position`).to.be.lessThan(
        rns.length,
      );
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });
});
