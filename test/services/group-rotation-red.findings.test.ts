/**
 * h11-red2 finding G3 (open; G1 and G2 are fixed, test/services/group-rotation-red.test.ts). The
 * group desk judged a member by the PID it was allocated under, while an RN may rotate its
 * pseudonym at any time (cross-pool re-authentication), and a rotated PID has no trust identity
 * (h10-red A1: one RN, one trust identity for life, the first PID).
 *
 * G1 (HIGH, fixed): the key update that evicted a flagged RN that had rotated re-added it under its
 * new PID and handed it the new key (test/services/group-rotation-red.test.ts).
 *
 * G2 (MEDIUM, fixed): a flagged RN that rotated and was then allocated (G3) under its new PID
 * could not be evicted (NOT_FLAGGED): the desk asked the trust layer about the group PID only.
 *
 * G3 (MEDIUM): group formation never asks the trust layer: a flagged RN (its trust identity flagged,
 * not yet evicted anywhere, so not in S_RN) is allocated to new groups.
 *
 * Suggested fix: formation skips RNs flagged under any of their pseudonyms, as `freshRns` now does
 * (`flaggedRn`; reading every eligible RN's flags per request is O(RNs) chain reads, so better: a
 * tick that puts RNs the trust layer flagged into S_RN with `Msrp.flagRn`, which also stops their
 * re-authentication, SUSPICIOUS), so that a flag binds before the RN is evicted from any group.
 */
import { expect } from "chai";
import hre from "hardhat";
import { rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { equalBytes, toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { joinRemote, loadRemoteRn, registerRnRemote } from "../../offchain/services/rsms/clients";
import { localParty, registerUserRemote, requestGroupRemote } from "../../offchain/services/rsms/group-clients";
import { TrustManager__factory } from "../../typechain-types";

describe("h11-red2 G3: a group member judged by the PID it rotates away from (findings)", function () {
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
