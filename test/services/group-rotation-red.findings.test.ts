/**
 * h11-red2 findings G2-G3 (open; G1 is fixed, test/services/group-rotation-red.test.ts): the group desk judges a member by the PID it was allocated under,
 * while an RN may rotate its pseudonym at any time (cross-pool re-authentication), and a rotated
 * PID has no trust identity (h10-red A1: one RN, one trust identity for life, the first PID).
 *
 * G1 (HIGH, fixed): the key update that evicted a flagged RN that had rotated re-added it under its
 * new PID and handed it the new key (test/services/group-rotation-red.test.ts).
 *
 * G2 (MEDIUM): a flagged RN that has rotated and is then allocated (G3) under its new PID cannot be
 * evicted at all: the desk asks the trust layer about the member's group PID, never about the RN's
 * trust identity, so a rekey naming it is refused NOT_FLAGGED. A flag stops binding after one rotation.
 *
 * G3 (MEDIUM): group formation never asks the trust layer: a flagged RN (its trust identity flagged,
 * not yet evicted anywhere, so not in S_RN) is allocated to new groups.
 *
 * Suggested fix: judge RNs by trust identity, not by group PID: `flagged(name)` = the flags of
 * `msrp.trustIdOf(name)` (and of the member's PID); formation skips flagged names as `freshRns`
 * does; and the MSRP refuses a re-authentication (rotation) of a flagged RN as it does for one in
 * S_RN, so that a flag cannot be shed by rotating.
 */
import { expect } from "chai";
import hre from "hardhat";
import { rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { equalBytes, toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { localParty, registerUserRemote, rekeyRemote, requestGroupRemote } from "../../offchain/services/rsms/group-clients";
import { ServiceError } from "../../offchain/services/client";
import { TrustManager__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("h11-red2 G2-G3: a group member judged by the PID it rotates away from (findings)", function () {
  this.timeout(300_000);

  async function system(rns: string[], users: string[]) {
    const s = await rsmsServices({ groups: true, pools: [1, 2] });
    const tmAddress = s.f.deployment.contracts.TrustManager.address;
    const signers = await hre.ethers.getSigners();
    const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
    const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
    const machines = new Map<string, Keystore>();
    for (const n of [...rns, ...users]) machines.set(n, new Keystore(tmp(`g-${n}`), ""));
    const ks = (n: string) => machines.get(n)!;
    for (const n of rns)
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: ks(n), dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    for (const n of rns) await joinRemote({ name: n, poolId: 1, keystore: ks(n), dep: s.dep });
    for (const u of users)
      await registerUserRemote({ msrpUrl: s.msrpUrl, name: u, rid: `user:${u}`, token: s.enrol(u, "user"), keystore: ks(u), dep: s.dep });
    const pidOf = (n: string) => loadRemoteRn(ks(n), n)!.state.pid;
    /** the detector flags an RN's trust identity (its PID now: the first, before any rotation) */
    const flag = async (n: string) => {
      await controller.register(toHex(pidOf(n)), "resource-node", s.msrpWallet);
      await detector.flag(toHex(pidOf(n)), 1, new Uint8Array(32));
    };
    const nameOf = (pid: Uint8Array) => [...machines.keys()].find((n) => equalBytes(localParty(ks(n), n).pid, pid));
    return { s, ks, pidOf, flag, nameOf };
  }

  it("G2: a flagged RN that rotated, then allocated under its new PID, cannot be evicted: NOT_FLAGGED", async () => {
    const { s, ks, pidOf, flag } = await system(["a", "b"], ["bob"]);
    try {
      await flag("a");
      await reauthRemote({ name: "a", poolId: 2, keystore: ks("a"), dep: s.dep, retry: once });
      const newA = pidOf("a");
      // formation does not ask the trust layer (G3): bob's group of two gets "a" under PID_1
      const gb = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "bob", size: 2, keystore: ks("bob"), dep: s.dep });
      expect(gb.pids.map(toHex)).to.include(toHex(newA));
      const refused = await rekeyRemote({
        msrpUrl: s.msrpUrl,
        user: "bob",
        groupId: gb.groupId,
        evict: [newA],
        keystore: ks("bob"),
        dep: s.dep,
        retry: once,
      }).then(
        () => undefined,
        (e: ServiceError) => e.reason,
      );
      expect(refused, "the flagged RN, in the group under a rotated PID, cannot be evicted").to.equal(undefined);
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });

  it("G3: an RN whose trust identity is flagged (not yet evicted anywhere) is allocated to a new group", async () => {
    const { s, ks, flag, nameOf } = await system(["a", "b"], ["alice"]);
    try {
      await flag("a");
      const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 1, keystore: ks("alice"), dep: s.dep });
      expect(
        g.pids.slice(1).map((p) => nameOf(p)),
        "a flagged RN was allocated to a new group",
      ).to.not.include("a");
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });
});
