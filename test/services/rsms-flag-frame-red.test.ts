/**
 * Red team h12-red finding F1 (MEDIUM-HIGH, fixed): framing an honest RN with a flag on an entity
 * the attacker controls under the RN's pseudonym.
 *
 * The MSRP judges an RN by the trust layer's flags under every PID it issued it (h11-red2 G2, G3:
 * flag sync into S_RN, formation skips, key-update eviction). It read `TrustManager.entity(pid).flags`
 * and nothing else. But an entity id is anyone's to take: `TrustManager.register` is permissionless
 * for every kind other than a verified avatar or resource node, and PIDs are public (join records,
 * group rosters). Mallory registers the victim's PID as an organization (or its rotated PID, which
 * the MSRP will never attest: one trust identity per RN), misbehaves under it, and the detector
 * flags what it sees: Mallory's entity. The victim lands in S_RN for good (no group, no rotation),
 * and a group user's key update evicts it (NOT_FLAGGED passed). Paper property: the trust layer's
 * eviction of suspicious RNs (RSMS §IV.B.2.c) judges the RN's own conduct; no false accusation.
 * Fix: an RN is flagged only through an entity that is its own: attested (only the MSRP's
 * attestation registers one) as a resource node (`rnTrustFlagged`, offchain/trust/rn-flags.ts), in
 * the group desk and in integration/evict.ts.
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
/** ITrustManager.Kind.Organization: permissionless, no verifier */
const ORGANIZATION = 2;

describe("services/rsms: an entity the attacker registers under an RN's PID does not frame the RN (h12-red F1)", function () {
  this.timeout(300_000);

  async function system(rns: string[], users: string[], framed: string[]) {
    const s = await rsmsServices({ groups: true, pools: [1, 2] });
    const tmAddress = s.f.deployment.contracts.TrustManager.address;
    const signers = await hre.ethers.getSigners();
    const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
    const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
    const mallory = TrustManager__factory.connect(tmAddress, signers[11]);
    const machines = new Map<string, Keystore>();
    for (const n of [...rns, ...users]) machines.set(n, new Keystore(tmp(`f-${n}`), ""));
    const ks = (n: string) => machines.get(n)!;
    for (const n of rns)
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: ks(n), dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    const pidOf = (n: string) => loadRemoteRn(ks(n), n)!.state.pid;
    // Mallory's entity under an RN's PID can only be one registered before the PID's join is mined
    // (a front-run of recordJoin: after it, `register` refuses a verified id of any kind, h15-red3 H2),
    // so she takes each framed PID here, as she would from the join in the mempool
    for (const n of framed) await (await mallory.register(toHex(pidOf(n)), ORGANIZATION)).wait();
    for (const n of rns) await joinRemote({ name: n, poolId: 1, keystore: ks(n), dep: s.dep });
    // after the join, the front door is shut: an RN's joined PID is refused to anyone, whatever kind
    for (const n of rns.filter((x) => !framed.includes(x)))
      await expect(mallory.register(toHex(pidOf(n)), ORGANIZATION)).to.be.revertedWithCustomError(
        mallory,
        "TrustManager__AttestationRequired",
      );
    for (const u of users)
      await registerUserRemote({ msrpUrl: s.msrpUrl, name: u, rid: `user:${u}`, token: s.enrol(u, "user"), keystore: ks(u), dep: s.dep });
    /** the detector flags Mallory's entity for her own conduct under it */
    const frame = async (pid: Uint8Array) => {
      await detector.flag(toHex(pid), 1, new Uint8Array(32), 0);
    };
    const nameOf = (pid: Uint8Array) => [...machines.keys()].find((n) => equalBytes(localParty(ks(n), n).pid, pid));
    return { s, ks, pidOf, frame, controller, detector, nameOf };
  }

  it("the flag sync leaves an RN whose current or earlier PID an attacker registered (front-running its join) and got flagged out of S_RN; its own attested entity's flag still counts", async () => {
    const { s, ks, pidOf, frame, controller, detector } = await system(["a", "b", "c"], [], ["a", "b"]);
    try {
      const desk = s.msrp.desk!;
      // "a": its current PID, before it registers its trust identity
      await frame(pidOf("a"));
      // "b": a PID it rotated away from (the MSRP attests one trust identity per RN, never these)
      await frame(pidOf("b"));
      await reauthRemote({ name: "b", poolId: 2, keystore: ks("b"), dep: s.dep, retry: once });
      expect(await desk.syncTrustFlags(), "an RN was put in S_RN by a flag on an entity it does not control").to.deep.equal({
        added: [],
        lifted: [],
      });
      expect(s.msrp.msrp.suspiciousRns()).to.deep.equal([]);
      // control: "c"'s own trust identity (attested through the MSRP) flagged: in S_RN
      await controller.register(toHex(pidOf("c")), "resource-node", s.msrpWallet);
      await detector.flag(toHex(pidOf("c")), 1, new Uint8Array(32), 0);
      expect(await desk.syncTrustFlags()).to.deep.equal({ added: ["c"], lifted: [] });
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });

  it("formation allocates an RN whose PID an attacker got flagged, and a key update does not evict it (NOT_FLAGGED)", async () => {
    const { s, ks, pidOf, frame, nameOf } = await system(["a", "b"], ["alice"], ["a", "b"]);
    try {
      await frame(pidOf("a"));
      const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 2, keystore: ks("alice"), dep: s.dep, retry: once });
      expect(
        g.pids
          .slice(1)
          .map((p) => nameOf(p))
          .sort(),
        "formation skipped the framed RN",
      ).to.deep.equal(["a", "b"]);
      await frame(pidOf("b"));
      const refused = await rekeyRemote({
        msrpUrl: s.msrpUrl,
        user: "alice",
        groupId: g.groupId,
        keystore: ks("alice"),
        dep: s.dep,
        retry: once,
      }).then(
        () => undefined,
        (e: ServiceError) => e.reason,
      );
      expect(refused, "the key update evicted a framed RN").to.equal("NOTHING_TO_EVICT");
      expect(s.msrp.msrp.suspiciousRns()).to.deep.equal([]);
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });
});
