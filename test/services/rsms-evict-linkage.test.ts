/**
 * Red team h14-red, finding F1 (fixed): the eviction of a flagged RN linked its pseudonyms on chain.
 *
 * Paper property (RSMS §III.D.2, Proposition 7): "RN's pseudonyms stored in the blockchain must be
 * unlinkable to each other". h11-red2 G2 made a trust flag follow the RN across rotations: the desk
 * evicts a group member when the TrustManager flags *any* PID the MSRP issued that RN
 * (`GroupDesk.flaggedRn`), and a user's key update with no PID named evicts every such member. The
 * flag sits on the RN's trust identity (its first attested PID, PID_0); the member PID is the
 * rotated one (PID_1), which carries no flag. The chain used to show `EntityFlagged(PID_0)` and, a
 * few blocks later, `MemberEvicted(group, PID_1)` for that PID alone, and the desk's rule is public
 * (docs/specs/rsms-group.md §8): an observer who reads only events linked PID_1 to the attested
 * resource nodes flagged at that block (one of them here). The link stayed public for good, also
 * when the flag was later lifted (a contest upheld: the RN was honest).
 *
 * Fix (rsms-group.md §8 "An eviction names no rotated pseudonym"): when a member is flagged only
 * under another of its PIDs, the key update replaces the whole group (every member evicted, as many
 * fresh RNs added, only the flagged ones into S_RN), so the chain shows the flagged trust identity
 * next to every member's PID. The observer below reads events and historical state only (no MSRP,
 * no keystore, no network) and must not be left with the rotated PID as the one suspect.
 * Bite: with the desk evicting the flagged member alone (the `elsewhere` branch of GroupDesk.rekey
 * removed) it fails.
 */
import { expect } from "chai";
import hre from "hardhat";
import { joinedRnsAndUser, rsmsServices } from "../helpers/rsms-services";
import { equalBytes, toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { loadRemoteRn, reauthRemote } from "../../offchain/services/rsms/clients";
import { rekeyRemote, requestGroupRemote } from "../../offchain/services/rsms/group-clients";
import { ServiceGroupRegistry__factory, TrustManager__factory } from "../../typechain-types";
import { MsrpService } from "../../offchain/services/rsms/msrp-service";
import { onFault } from "../../offchain/services/faults";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const RESOURCE_NODE = 3n;

describe("h14-red F1: a key update that evicts an RN flagged under another PID does not link its rotated PID to its trust identity on chain", function () {
  this.timeout(300_000);

  it("a chain-only observer is not left with the rotated PID as the one suspect for the flagged trust identity; the innocent members stay out of S_RN", async () => {
    const s = await rsmsServices({ groups: true, pools: [1, 2] });
    try {
      const tmAddress = s.f.deployment.contracts.TrustManager.address;
      const signers = await hre.ethers.getSigners();
      const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
      const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
      const rns = ["a", "b", "c", "d"];
      const ks = await joinedRnsAndUser(s, rns, "bob", "f1");
      const pidOf = (n: string) => loadRemoteRn(ks.get(n)!, n)!.state.pid;

      // Every RN registers its trust identity (its first PID) with the MSRP's attestation, as
      // rsms-join.md "One RN, one verified trust identity" has it; then two of them rotate, so that
      // rotation alone singles nobody out.
      const trustId = new Map(rns.map((n) => [n, pidOf(n)]));
      for (const n of rns) await controller.register(toHex(trustId.get(n)!), "resource-node", s.msrpWallet);
      for (const n of ["a", "b"]) await reauthRemote({ name: n, poolId: 2, keystore: ks.get(n)!, dep: s.dep, retry: once });
      const secret = { pid0: trustId.get("a")!, pid1: pidOf("a") }; // what the observer must not link
      expect(equalBytes(secret.pid0, secret.pid1), "precondition: a rotated").to.equal(false);

      // bob's group of three, "a" in it under its rotated PID; then the detector flags a's trust
      // identity and bob asks for a key update (no PID named: the desk evicts the flagged members)
      const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "bob", size: 3, keystore: ks.get("bob")!, dep: s.dep });
      expect(g.pids.map(toHex), "precondition: a is a member under its rotated PID").to.include(toHex(secret.pid1));
      await detector.flag(toHex(secret.pid0), 1, new Uint8Array(32), 0);
      // bob names a member that is flagged nowhere: the desk's answer does not depend on which
      // member is named (no oracle "is the RN behind this PID flagged under another PID"), only on
      // whether some member is; it replaces the whole group
      const innocent = g.pids.slice(1).find((p) => !equalBytes(p, secret.pid1))!;
      const r = await rekeyRemote({
        msrpUrl: s.msrpUrl,
        user: "bob",
        groupId: g.groupId,
        evict: [innocent],
        keystore: ks.get("bob")!,
        dep: s.dep,
      });
      expect(r.evicted.map(toHex), "precondition: the update evicted a").to.include(toHex(secret.pid1));

      // ---- the observer: events and historical state only
      const tm = TrustManager__factory.connect(tmAddress, hre.ethers.provider);
      const groups = ServiceGroupRegistry__factory.connect(await s.f.groups.getAddress(), hre.ethers.provider);
      const flags = await tm.queryFilter(tm.filters.EntityFlagged(), 0, "latest");
      const flaggedIds = new Set(flags.map((e) => e.args.id.toLowerCase()));
      // trust identity -> the unflagged PIDs evicted while it was the only flagged one: the chain's
      // suspects for its rotated pseudonym. One suspect is a link; several (a cover) are not.
      const suspects = new Map<string, Set<string>>();
      for (const ev of await groups.queryFilter(groups.filters.MemberEvicted(), 0, "latest")) {
        const x = ev.args.pid.toLowerCase();
        if (flaggedIds.has(x)) continue; // evicted for a flag on its own PID: no link
        // the desk evicts only RNs flagged under one of their PIDs, on their own attested entity:
        // the candidates are the attested resource nodes flagged at the eviction's block
        const candidates: string[] = [];
        for (const id of flaggedIds) {
          const e = await tm.entity(id, { blockTag: ev.blockNumber });
          if (e.attested && e.kind === RESOURCE_NODE && e.flags !== 0n) candidates.push(id);
        }
        if (candidates.length === 1) suspects.set(candidates[0], (suspects.get(candidates[0]) ?? new Set()).add(x));
      }
      const named = [...(suspects.get(toHex(secret.pid0).toLowerCase()) ?? [])];
      expect(
        named,
        `the chain names a's rotated PID as the only suspect for its flagged trust identity (${
          named[0] === toHex(secret.pid1).toLowerCase() ? "right" : "wrong"
        })`,
      ).to.not.deep.equal([toHex(secret.pid1).toLowerCase()]);
      // how: the whole group was replaced, and only the flagged RN is held suspicious
      expect(r.evicted.map(toHex).sort(), "every member is evicted").to.deep.equal(g.pids.slice(1).map(toHex).sort());
      expect(s.msrp.msrp.suspiciousRns(), "only the flagged RN joins S_RN").to.deep.equal(["a"]);
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });
  it("a re-formation interrupted after its chain write is finished by recovery: only the flagged RN joins S_RN", async () => {
    const s = await rsmsServices({ groups: true, pools: [1, 2] });
    let restarted: MsrpService | undefined;
    try {
      const tmAddress = s.f.deployment.contracts.TrustManager.address;
      const signers = await hre.ethers.getSigners();
      const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
      const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
      const rns = ["a", "b", "c"];
      const ks = await joinedRnsAndUser(s, rns, "bob", "f1r");
      const pidOf = (n: string) => loadRemoteRn(ks.get(n)!, n)!.state.pid;
      const pid0 = pidOf("a");
      await controller.register(toHex(pid0), "resource-node", s.msrpWallet);
      await reauthRemote({ name: "a", poolId: 2, keystore: ks.get("a")!, dep: s.dep, retry: once });
      // a group of two with "a" under its rotated PID ("a" and "b": least loaded, by name), "c" left to replace them
      const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "bob", size: 2, keystore: ks.get("bob")!, dep: s.dep });
      expect(g.pids.map(toHex), "precondition: a is a member under its rotated PID").to.include(toHex(pidOf("a")));
      await detector.flag(toHex(pid0), 1, new Uint8Array(32), 0);
      process.env.METATRUST_FAULT = "msrp:after-chain-write";
      onFault((point) => {
        throw new Error(`crash at ${point}`);
      });
      try {
        const failed = await rekeyRemote({
          msrpUrl: s.msrpUrl,
          user: "bob",
          groupId: g.groupId,
          keystore: ks.get("bob")!,
          dep: s.dep,
          retry: once,
        }).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(failed, "precondition: the MSRP crashed after the rekey transaction").to.be.instanceOf(Error);
      } finally {
        delete process.env.METATRUST_FAULT;
        onFault(undefined);
      }
      expect((await s.dep.groups.view(g.groupId)).epoch, "precondition: the re-formation is on chain").to.equal(1);
      await s.msrp.stop();
      restarted = new MsrpService(s.msrpDeps);
      await restarted.start({ port: Number(new URL(s.msrpUrl).port) });
      const info = restarted.msrp.groupInfo(g.groupId);
      expect(info.epoch).to.equal(1);
      expect(info.members.map((m) => m.name)).to.deep.equal(["c"]);
      expect(restarted.msrp.suspiciousRns(), "recovery held the innocent member suspicious too").to.deep.equal(["a"]);
    } finally {
      await s.stop();
      await (restarted ?? s.msrp).stop();
    }
  });
});
